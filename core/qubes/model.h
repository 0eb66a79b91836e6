/* model.h — private to core/qubes: the in-memory model the store loads,
 * changes and validates inside each transaction.
 *
 * Owns: every rule of the model, as pure functions over a BhModel.
 * Must never: do I/O. The store loads a BhModel, copies it, applies one
 * change with these functions, validates the copy and writes the difference;
 * so a rule checked here holds for everything that reaches the file. */
#ifndef BH_QUBES_MODEL_H
#define BH_QUBES_MODEL_H

#include "bulkhead/qubes.h"
#include "bulkhead/store.h"

/* Positions in props.c's tables. */
enum {
    BH_P_NAME,
    BH_P_CLASS,
    BH_P_QID,
    BH_P_UUID,
    BH_P_LABEL,
    BH_P_TEMPLATE,
    BH_P_NETVM,
    BH_P_PROVIDES_NETWORK,
    BH_P_MEMORY,
    BH_P_MAXMEM,
    BH_P_VCPUS,
    BH_P_KERNEL,
    BH_P_VIRT_MODE,
    BH_P_AUTOSTART,
    BH_P_DEFAULT_DISPVM,
    BH_P_TEMPLATE_FOR_DISPVMS,
    BH_P_INCLUDE_IN_BACKUPS,
    BH_P_ALLOW_FULLSCREEN,
    BH_P_QREXEC_TIMEOUT,
    BH_P_SHUTDOWN_TIMEOUT,
    BH_P_DEFAULT_USER,
    BH_P_ROOT_PATH,
    BH_P_ROOT_READONLY,
    BH_P_AUTO_CLEANUP,
    BH_P_PRIVATE_SIZE,
    BH_P_ROOT_SIZE,
    BH_P_MENU_ITEMS,
    BH_P_NOTES,
    BH_P_IPV6,
    /* networking, computed (read-only, never stored) */
    BH_P_IP,
    BH_P_IP6,
    BH_P_GATEWAY,
    BH_P_GATEWAY6,
    BH_P_DNS,
    BH_PROPS_N
};

enum {
    BH_G_DEFAULT_TEMPLATE,
    BH_G_DEFAULT_NETVM,
    BH_G_DEFAULT_DISPVM,
    BH_G_UPDATEVM,
    BH_G_CLOCKVM,
    BH_G_CLIPBOARD_MAX_BYTES,
    BH_G_NETWORK_UPLINK,
    BH_G_NETWORK_UPLINK_HOST_LOOPBACK,
    BH_G_PRELOAD_DISPVM,
    BH_GLOBALS_N
};

int bh_prop_index(const char *name);
int bh_global_index(const char *name);

/* A stored value. Qube references are qids, so a rename needs no rewrite and
 * the file's foreign keys can guard them. */
typedef struct {
    gboolean set;
    int ref;    /* BH_PROP_QUBE: qid or BH_QID_NONE */
    char *text; /* other types: canonical text */
} BhMVal;

typedef struct {
    int qid;
    char *name;
    BhQubeClass klass;
    char *uuid;
    BhMVal props[BH_PROPS_N]; /* the name/class/qid/uuid slots stay unset */
    GHashTable *tags;         /* set of char* */
    char **firewall;          /* canonical rules (bulkhead/firewall.h); NULL: never set */
    GHashTable *services;     /* name → GINT_TO_POINTER(on): the services set on or off */
} BhMQube;

typedef struct {
    GHashTable *by_qid;  /* GINT_TO_POINTER(qid) → BhMQube* (owned) */
    GHashTable *by_name; /* name → BhMQube* */
    BhMVal globals[BH_GLOBALS_N];
    int next_qid; /* where the next qid search starts: ids are not reused soon */
} BhModel;

/* An effective value: borrowed from the model or the property table. */
typedef struct {
    int ref;
    const char *text;
    gboolean is_default;
    gboolean has_default;
} BhEff;

/* What a change touched, so that messages speak about it. */
typedef struct {
    int qid;    /* BH_QID_NONE: no qube */
    int prop;   /* -1: none */
    int global; /* -1: none */
} BhSubject;

#define BH_SUBJECT_NONE ((BhSubject){BH_QID_NONE, -1, -1})

BhModel *bh_model_new(void);
void bh_model_free(BhModel *m);
BhModel *bh_model_copy(const BhModel *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhModel, bh_model_free)

/* Raw insertion, no checks: for loading and for the model's own functions. */
BhMQube *bh_model_insert(BhModel *m, int qid, const char *name, BhQubeClass klass, const char *uuid);
void bh_mval_set(BhMVal *v, int ref, const char *text);
void bh_mval_clear(BhMVal *v);
gboolean bh_mval_equal(const BhMVal *a, const BhMVal *b);

BhMQube *bh_model_find(const BhModel *m, const char *name, GError **error);
BhMQube *bh_model_find_qid(const BhModel *m, int qid);
/* All qubes sorted by qid (borrowed pointers). */
GPtrArray *bh_model_sorted(const BhModel *m);

/* FALSE when the property does not apply to the qube's class. */
gboolean bh_model_effective(const BhModel *m, const BhMQube *q, int idx, BhEff *out);
void bh_model_global_effective(const BhModel *m, int idx, BhEff *out);
/* Canonical text of an effective value (qube refs as names, "" for none). */
char *bh_model_format(const BhModel *m, const BhMQube *q, int idx, BhEff *eff_out);
char *bh_model_format_global(const BhModel *m, int idx, BhEff *eff_out);
gboolean bh_model_bool(const BhModel *m, const BhMQube *q, int idx);

/* Changes. Each checks what it can see locally; bh_model_validate checks the
 * whole model afterwards. On error the model may be half-changed: the store
 * throws the copy away. */
gboolean bh_model_lookup_prop(const BhMQube *q, const char *prop, int *idx, GError **error);
gboolean bh_model_set_prop(BhModel *m, BhMQube *q, int idx, const char *untrusted_value, GError **error);
gboolean bh_model_reset_prop(BhModel *m, BhMQube *q, int idx, GError **error);
gboolean bh_model_lookup_global(const char *name, int *idx, GError **error);
gboolean bh_model_set_global(BhModel *m, int idx, const char *untrusted_value, GError **error);
void bh_model_reset_global(BhModel *m, int idx);
BhMQube *bh_model_create(BhModel *m, BhQubeClass klass, const char *name, const char *label,
                         const char *template_name, const char *const *props, GError **error);
BhMQube *bh_model_create_disposable(BhModel *m, const char *dvm_template, GError **error);
BhMQube *bh_model_clone(BhModel *m, BhMQube *src, const char *dst, GError **error);
gboolean bh_model_remove(BhModel *m, BhMQube *q, GError **error);
gboolean bh_model_rename(BhModel *m, BhMQube *q, const char *new_name, GError **error);
gboolean bh_model_add_tag(BhMQube *q, const char *tag, GError **error);
gboolean bh_model_remove_tag(BhMQube *q, const char *tag, GError **error);
/* state: 1 on, 0 off, -1 unset (unsetting one that is not set succeeds). */
gboolean bh_model_set_service(BhMQube *q, const char *service, int state, GError **error);

/* Explicit references to q (BhDependant*), sorted, globals last. */
GPtrArray *bh_model_dependants(const BhModel *m, const BhMQube *q);

/* Every invariant; messages name `subject` where it is involved. */
gboolean bh_model_validate(const BhModel *m, BhSubject subject, GError **error);

/* The first-run set; template_name is the host-root template's name. */
gboolean bh_model_populate_defaults(BhModel *m, const char *template_name, GError **error);

#endif
