/* qubes.h — the Qubes vocabulary every part of Bulkhead shares: qube classes,
 * the name rules, the one label/colour table, the property table (types,
 * defaults, inheritance, help text) and the BH_QUBES_ERROR domain.
 *
 * Owns: what a valid name, label, class, tag or property value is.
 * Must never: touch the store, a backend or D-Bus. Everything here is pure
 * and safe to call on hostile input (untrusted strings are validated, never
 * echoed raw into messages: see bh_qubes_quote).
 *
 * Link with bh_qubes_model_dep (GLib only; what guid and the shell need for
 * labels) or bh_qubes_dep (adds the store, see store.h). */
#ifndef BULKHEAD_QUBES_H
#define BULKHEAD_QUBES_H

#include <glib.h>

G_BEGIN_DECLS

/* ---- errors ------------------------------------------------------------ */

#define BH_QUBES_ERROR (bh_qubes_error_quark())
GQuark bh_qubes_error_quark(void);

/* Every message says what went wrong and what to do. The daemon maps codes to
 * D-Bus error names with bh_qubes_error_code_name (org.bulkhead.Error.<Name>). */
typedef enum {
    BH_QUBES_ERROR_NO_SUCH_QUBE = 1,     /* NoSuchQube */
    BH_QUBES_ERROR_INVALID_NAME,         /* InvalidName: qube name or tag syntax */
    BH_QUBES_ERROR_NAME_IN_USE,          /* NameInUse */
    BH_QUBES_ERROR_NO_SUCH_PROPERTY,     /* NoSuchProperty: unknown, or not for this class */
    BH_QUBES_ERROR_INVALID_VALUE,        /* InvalidValue: type, range, syntax, no default */
    BH_QUBES_ERROR_READ_ONLY,            /* ReadOnly: qid, uuid, class */
    BH_QUBES_ERROR_IN_USE,               /* InUse: referenced, names the dependants */
    BH_QUBES_ERROR_NOT_A_TEMPLATE,       /* NotATemplate */
    BH_QUBES_ERROR_NOT_NETWORK_PROVIDER, /* NotNetworkProvider */
    BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE,  /* NotDispvmTemplate */
    BH_QUBES_ERROR_NETWORK_LOOP,         /* NetworkLoop */
    BH_QUBES_ERROR_PERMISSION,           /* Permission: dom0, disposables */
    BH_QUBES_ERROR_LIMIT,                /* Limit: out of qids, too many tags */
    BH_QUBES_ERROR_BUSY,                 /* Busy: another process held the store too long */
    BH_QUBES_ERROR_STORE,                /* Store: I/O, permissions, corruption */
    BH_QUBES_ERROR_TOO_NEW,              /* TooNew: store written by a newer schema */
} BhQubesError;

/* "NoSuchQube" etc.; NULL for an unknown code. */
const char *bh_qubes_error_code_name(int code);

/* A printable, bounded rendering of an untrusted string for messages and
 * logs: ASCII printables kept, everything else as \xNN, at most ~64 input
 * bytes then "...". Never NULL (NULL in gives "(null)"). Free with g_free. */
char *bh_qubes_quote(const char *untrusted);
/* The same for len bytes that may hold NULs (a qube's console line), showing
 * at most shown_max of them. */
char *bh_qubes_quote_len(const char *untrusted, gsize len, gsize shown_max);

/* ---- classes ----------------------------------------------------------- */

typedef enum {
    BH_CLASS_ADMIN_VM = 0,  /* dom0, exactly one, qid 0 */
    BH_CLASS_TEMPLATE_VM,   /* provides the root filesystem of AppVMs */
    BH_CLASS_APP_VM,        /* root from its template, own private data */
    BH_CLASS_DISP_VM,       /* disposable: template is a disposable template */
    BH_CLASS_STANDALONE_VM, /* own root and private data */
    BH_CLASS_COUNT
} BhQubeClass;

#define BH_CLASS_BIT(c) (1u << (c))
#define BH_CLASSES_ALL  ((1u << BH_CLASS_COUNT) - 1)
#define BH_CLASSES_DOMU (BH_CLASSES_ALL & ~BH_CLASS_BIT(BH_CLASS_ADMIN_VM))

/* "AdminVM", "TemplateVM", "AppVM", "DispVM", "StandaloneVM". */
const char *bh_class_name(BhQubeClass klass);
/* Exact or case-insensitive match of the names above. */
gboolean bh_class_from_name(const char *name, BhQubeClass *out);

/* ---- names and tags ---------------------------------------------------- */

#define BH_QUBE_NAME_MAX 31    /* bytes */
#define BH_NOTES_MAX     16384 /* bytes of a qube's notes */
#define BH_QID_NONE      (-1)
#define BH_QID_DOM0      0
/* qids 1..BH_QID_MAX: 12 bits, so a backend can derive addresses from them. */
#define BH_QID_MAX           4095
#define BH_TAG_MAX           64 /* bytes */
#define BH_TAGS_PER_QUBE     256
#define BH_SERVICE_MAX       64 /* bytes of a service's name */
#define BH_SERVICES_PER_QUBE 128

/* [a-zA-Z][a-zA-Z0-9_.-]*, 1..31 bytes, not dom0/none/default, not ending in
 * "-dm" (Xen names a qube's device model "<name>-dm"). Uniqueness is the
 * store's business. dom0 itself is named by the store, never validated here. */
gboolean bh_qube_name_validate(const char *untrusted_name, GError **error);
/* [a-zA-Z0-9_-]+, 1..64 bytes (policy refers to them as @tag:NAME). */
gboolean bh_tag_validate(const char *untrusted_tag, GError **error);
/* A service (qvm-service): a flag a qube reads by name at its start, shown
 * to it as a file of that name. An ASCII letter or digit, then letters,
 * digits, '_', '-' or '.'; at most BH_SERVICE_MAX bytes. INVALID_NAME. */
gboolean bh_service_validate(const char *untrusted_name, GError **error);

/* Network addresses as Qubes gives them (docs/sandbox.md, "Network"): a
 * qube's own address, from its qid, is 10.137.x.y, a disposable's 10.138.x.y
 * (netmask /32); its gateway is its netvm's own address; its DNS servers are
 * the virtual BH_NET_DNS1 and BH_NET_DNS2, which each netvm redirects to what
 * it uses itself. dom0 (qid 0) has none: NULL. */
#define BH_NET_DNS1 "10.139.1.1"
#define BH_NET_DNS2 "10.139.1.2"
char *bh_net_address(guint32 qid, gboolean disposable);
/* A qube's IPv6 address as Qubes gives it when its netvm has IPv6 (the
 * property ipv6): BH_NET_PREFIX6 with the IPv4 address in the low 32 bits
 * (10.137.0.5 -> fd09:24ef:4179::a89:5). NULL where bh_net_address is. */
#define BH_NET_PREFIX6     "fd09:24ef:4179::"
#define BH_NET_PREFIX6_LEN 64
char *bh_net_address6(guint32 qid, gboolean disposable);

/* ---- labels: the one colour table -------------------------------------- */

typedef struct {
    guint index;      /* Qubes' label index: 1 red … 8 black */
    const char *name; /* "red" */
    guint32 rgb;      /* 0xRRGGBB */
    const char *hex;  /* "#cc0000" */
} BhLabel;

#define BH_LABEL_COUNT 8

/* Exact lower-case name; NULL when unknown. */
const BhLabel *bh_label_lookup(const char *name);
/* 1..BH_LABEL_COUNT; NULL otherwise. */
const BhLabel *bh_label_by_index(guint index);
/* The whole table, BH_LABEL_COUNT entries in index order. */
const BhLabel *bh_labels(void);
/* WCAG relative luminance of an sRGB colour, 0.0 (black) .. 1.0 (white). */
double bh_rgb_luminance(guint32 rgb);
/* The text colour (0x000000 or 0xffffff) with the higher contrast on the
 * label: black on yellow, orange and green, white on the others. */
guint32 bh_label_text_rgb(const BhLabel *label);

/* ---- properties -------------------------------------------------------- */

typedef enum {
    BH_PROP_BOOL,   /* "True"/"False"; accepts true/false/yes/no/on/off/1/0 */
    BH_PROP_INT,    /* decimal, within [min, max] */
    BH_PROP_STRING, /* UTF-8 without control characters, with a validator */
    BH_PROP_QUBE,   /* a qube name, or "" for none (input "" or "none") */
    BH_PROP_LABEL,  /* a label name */
    BH_PROP_ENUM,   /* one of choices */
} BhPropType;

typedef enum {
    BH_PROPF_READ_ONLY = 1 << 0,    /* qid, uuid, class: never set or reset */
    BH_PROPF_INHERIT = 1 << 1,      /* default: the template's value, if the qube has one */
    BH_PROPF_DISP_INHERIT = 1 << 2, /* default for a DispVM: its template's value */
    BH_PROPF_ALLOW_NONE = 1 << 3,   /* a qube reference that may be none */
    BH_PROPF_RENAME = 1 << 4,       /* "name": setting it renames the qube */
    BH_PROPF_TEXT = 1 << 5,         /* free text (notes): newlines and tabs allowed */
} BhPropFlags;

typedef gboolean (*BhPropValidator)(const char *value, GError **error);

/* One row of the property table (also used for globals, with classes = 0).
 * The store computes defaults from default_value and the flags, plus the few
 * class rules that default_help spells out. */
typedef struct {
    const char *name;
    BhPropType type;
    guint classes;              /* BH_CLASS_BIT mask of the classes that have it */
    guint flags;                /* BhPropFlags */
    const char *default_value;  /* canonical static default; NULL: none (must be set) */
    gint64 min, max;            /* BH_PROP_INT; max for BH_PROP_STRING: its byte limit (0: 4096) */
    const char *const *choices; /* BH_PROP_ENUM, NULL-terminated */
    BhPropValidator validate;   /* BH_PROP_STRING extra syntax; may be NULL */
    const char *default_help;   /* how the default is found, for --help-properties */
    const char *help;           /* what it means */
} BhPropDef;

/* Qube properties, in table order (the order qvm-prefs lists them). */
const BhPropDef *bh_props(gsize *n_props);
const BhPropDef *bh_prop_lookup(const char *name);
gboolean bh_prop_applies(const BhPropDef *def, BhQubeClass klass);
/* Global properties (qubes-prefs). */
const BhPropDef *bh_globals(gsize *n_globals);
const BhPropDef *bh_global_lookup(const char *name);
/* "bool", "int", "string", "qube", "label", "enum". */
const char *bh_prop_type_name(BhPropType type);

/* Check an untrusted value against a property's type, range and validator
 * and return its canonical text ("True", "400", "red", "" for no qube). For
 * BH_PROP_QUBE only the name syntax is checked here; whether the qube exists
 * and fits is the store's business. */
char *bh_prop_normalize(const BhPropDef *def, const char *untrusted_value, GError **error);

G_END_DECLS

#endif
