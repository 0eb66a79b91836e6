/* store.h — the qube store: every qube, property, tag and global setting,
 * kept in one SQLite file (WAL, foreign keys on, versioned schema).
 *
 * Owns: persistence and every rule of the model (unique valid names, a
 * template must be a TemplateVM, a netvm must provide network, no netvm
 * loops, nothing in use can be removed, dom0 is fixed). Each mutation is one
 * transaction that validates the whole model before it commits; a failed
 * call leaves the file exactly as it was, and a call that returned TRUE is
 * on disk (fsync'd) before it returns.
 * Must never: know about running state, backends, D-Bus or policy. Nothing
 * but bulkheadd opens the store in production; tests and tools may.
 *
 * Values cross this API as strings, in the canonical form of qubes.h: bools
 * "True"/"False", ints decimal, qube references by name with "" for none.
 * A BhStore is not thread-safe: one per thread. Several processes may open
 * the same file; writers wait for each other (up to BH_STORE_BUSY_MS). */
#ifndef BULKHEAD_STORE_H
#define BULKHEAD_STORE_H

#include <glib.h>

#include "bulkhead/qubes.h"

G_BEGIN_DECLS

#define BH_STORE_SCHEMA_VERSION 6
#define BH_STORE_BUSY_MS        10000

typedef struct BhStore BhStore;

/* $XDG_DATA_HOME/bulkhead/qubes.db (XDG_DATA_HOME defaults to
 * ~/.local/share), unless BH_STORE_PATH is set in the environment. */
char *bh_store_default_path(void);

/* Open (creating the directory 0700 and the file as needed) and bring the
 * schema up to date. A new store gets the default set: dom0, the host-root
 * template, sys-net, sys-firewall, work, personal, untrusted, vault and
 * default-dvm, with the global defaults pointing at them. path NULL: the
 * default path. Errors: STORE, BUSY, TOO_NEW. */
BhStore *bh_store_open(const char *path, GError **error);
void bh_store_close(BhStore *store);
const char *bh_store_get_path(BhStore *store);

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    int qid; /* 0 for dom0; the vchan domain id on the sandbox backend */
    char *name;
    BhQubeClass klass;
    char *uuid;
    const BhLabel *label; /* effective label (a DispVM's comes from its template) */
    char *template_name;  /* AppVM/DispVM: its template; NULL otherwise */
    gboolean provides_network;
    gboolean template_for_dispvms;
    char **tags; /* sorted, NULL-terminated */
} BhQubeInfo;

void bh_qube_info_free(BhQubeInfo *info);

/* All qubes (BhQubeInfo*), sorted by name, dom0 first. */
GPtrArray *bh_store_list_qubes(BhStore *store, GError **error);
BhQubeInfo *bh_store_get_qube(BhStore *store, const char *name, GError **error);
BhQubeInfo *bh_store_get_qube_by_qid(BhStore *store, int qid, GError **error);

typedef struct {
    const BhPropDef *def;
    char *value;          /* effective value, canonical text */
    gboolean is_default;  /* TRUE: not set on this qube, value is the default */
    gboolean has_default; /* FALSE: reset is refused (label, template) */
} BhPropValue;

void bh_prop_value_free(BhPropValue *value);

/* The effective value of one property and whether it is the default.
 * is_default may be NULL. Errors: NO_SUCH_QUBE, NO_SUCH_PROPERTY. */
gboolean bh_store_get_property(BhStore *store, const char *qube, const char *prop, char **value,
                               gboolean *is_default, GError **error);
/* Every property the qube's class has (BhPropValue*), in table order. */
GPtrArray *bh_store_list_properties(BhStore *store, const char *qube, GError **error);

gboolean bh_store_get_global(BhStore *store, const char *name, char **value, gboolean *is_default,
                             GError **error);
/* Every global (BhPropValue*), in table order. */
GPtrArray *bh_store_list_globals(BhStore *store, GError **error);

/* Who refers to a qube, e.g. {qube "work", prop "netvm"} or {qube NULL,
 * prop "default_netvm"} for a global. Only explicit references: a qube whose
 * netvm is the default depends on the global default_netvm, listed instead. */
typedef struct {
    char *qube; /* NULL: a global */
    char *prop;
} BhDependant;

void bh_dependant_free(BhDependant *dep);
/* BhDependant*, sorted (globals last). */
GPtrArray *bh_store_list_dependants(BhStore *store, const char *qube, GError **error);

/* ---- changing (each call is one transaction) ----------------------------- */

/* Set a property from text (see qubes.h for the accepted forms). Setting
 * "name" renames. Errors: NO_SUCH_QUBE, NO_SUCH_PROPERTY, READ_ONLY,
 * INVALID_VALUE, NOT_A_TEMPLATE, NOT_NETWORK_PROVIDER, NOT_DISPVM_TEMPLATE,
 * NETWORK_LOOP, IN_USE (provides_network/template_for_dispvms turned off
 * under dependants), PERMISSION. */
gboolean bh_store_set_property(BhStore *store, const char *qube, const char *prop, const char *value,
                               GError **error);
/* Back to the default (qvm-prefs -D). INVALID_VALUE when there is none. */
gboolean bh_store_reset_property(BhStore *store, const char *qube, const char *prop, GError **error);

gboolean bh_store_set_global(BhStore *store, const char *name, const char *value, GError **error);
gboolean bh_store_reset_global(BhStore *store, const char *name, GError **error);

/* Create a qube. label may be NULL only for a DispVM (it takes its
 * template's). template_name: AppVM — a TemplateVM, NULL for the global
 * default_template; DispVM — a disposable template, NULL for the global
 * default_dispvm; other classes — must be NULL. props: NULL or a
 * NULL-terminated list of name, value pairs applied in the same transaction.
 * Returns the new qid, or -1 on error. AdminVM cannot be created. */
int bh_store_create_qube(BhStore *store, BhQubeClass klass, const char *name, const char *label,
                         const char *template_name, const char *const *props, GError **error);
/* What bh_store_create_qube would answer, without creating anything (a form
 * checking its fields as the user types): TRUE, or the same error. */
gboolean bh_store_check_create_qube(BhStore *store, BhQubeClass klass, const char *name, const char *label,
                                    const char *template_name, const char *const *props, GError **error);
/* A disposable from dvm_template (NULL: the global default_dispvm), named
 * "disp<qid>", auto_cleanup on. Returns the name; NULL on error. */
char *bh_store_create_disposable(BhStore *store, const char *dvm_template, int *qid_out, GError **error);
/* Copy a qube's class, set properties and tags under a new name (new qid and
 * uuid). dom0 and DispVMs cannot be cloned. Returns the new qid or -1. */
int bh_store_clone_qube(BhStore *store, const char *src, const char *dst, GError **error);
/* Refused while anything refers to it (IN_USE names the dependants). */
gboolean bh_store_remove_qube(BhStore *store, const char *name, GError **error);
/* References are by qid, so they follow the rename. dom0 cannot be renamed. */
gboolean bh_store_rename_qube(BhStore *store, const char *name, const char *new_name, GError **error);

/* Tags: adding one that is there, or removing one that is not, succeeds. */
gboolean bh_store_add_tag(BhStore *store, const char *qube, const char *tag, GError **error);
gboolean bh_store_remove_tag(BhStore *store, const char *qube, const char *tag, GError **error);
char **bh_store_list_tags(BhStore *store, const char *qube, GError **error);

/* Services (qvm-service): flags a qube reads at its start, each set on or
 * off, or unset (no entry). list: "NAME=1" (on) or "NAME=0" (off), sorted
 * by name. set: state 1 on, 0 off, -1 unset (unsetting one that is not set
 * succeeds). A clone copies them, a rename keeps them. Errors: NO_SUCH_QUBE,
 * INVALID_NAME (bh_service_validate), PERMISSION (dom0), LIMIT
 * (BH_SERVICES_PER_QUBE). */
char **bh_store_list_services(BhStore *store, const char *qube, GError **error);
gboolean bh_store_set_service(BhStore *store, const char *qube, const char *service, int state,
                              GError **error);

/* ---- app lists --------------------------------------------------------------- */

/* A qube's last accepted app list, as bytes the store keeps and never reads
 * (the daemon decodes them again with bulkhead/apps.h when it loads them).
 * set: a list also forgets the qube's app-list problem (below); list NULL
 * forgets the list; removing the qube forgets it too; a rename keeps it.
 * get: NULL without an error when the qube has none. Errors: NO_SUCH_QUBE
 * (set), STORE. */
gboolean bh_store_set_apps(BhStore *store, const char *qube, GBytes *list, GError **error);
GBytes *bh_store_get_apps(BhStore *store, const char *qube, GError **error);

/* Why the qube's last app list was not kept (dom0's words: the decoder's
 * reason, or how its program failed), kept across daemon restarts until a
 * list is kept again. set: a reason also forgets the list, in the same
 * change; reason NULL forgets the problem. get: NULL without an error when
 * there is none. Errors as for the list. */
gboolean bh_store_set_apps_problem(BhStore *store, const char *qube, const char *reason, GError **error);
char *bh_store_get_apps_problem(BhStore *store, const char *qube, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhStore, bh_store_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhQubeInfo, bh_qube_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhPropValue, bh_prop_value_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhDependant, bh_dependant_free)

/* ---- firewall (bulkhead/firewall.h) ------------------------------------------- */

/* The qube's firewall rules in order, canonical; BH_FIREWALL_DEFAULT alone
 * for a qube that never had its own. dom0 has none (NO_SUCH_PROPERTY). */
char **bh_store_get_firewall(BhStore *store, const char *qube, GError **error);
/* Replaces them in one transaction, each rule parsed first (expire=+N from
 * now); none is refused and nothing changes if one does not parse (the error
 * names its position, 0 first, as qvm-firewall numbers them). An empty list is stored as "action=drop". */
gboolean bh_store_set_firewall(BhStore *store, const char *qube, const char *const *rules, GError **error);

G_END_DECLS

#endif
