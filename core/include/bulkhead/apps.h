/* apps.h — a qube's list of applications as bulkhead-applist writes it inside
 * the qube and dom0 reads it (libbh_apps, core/apps; docs/apps.md).
 *
 * The list is one byte stream: a header, then `count` records, each a fixed
 * part followed by its text fields and its icon as raw RGBA pixels. The
 * icon is rendered inside the qube: dom0 never decodes an image file a qube
 * chose, it only copies w x h x 4 bytes it has checked against the sizes.
 *
 * Owns: the format, its limits, the validating decoder (the only code in
 * dom0 that reads these bytes) and the encoder the qube's program uses.
 * Must never: do I/O, trust a length before checking it against the bytes
 * that remain, or hand out text that is not sanitised UTF-8. */
#ifndef BULKHEAD_APPS_H
#define BULKHEAD_APPS_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define BH_APPS_MAGIC   0x50414842u /* "BHAP" in little-endian byte order */
#define BH_APPS_VERSION 1u

/* Hard limits: the decoder refuses a list that passes any of them. */
#define BH_APPS_MAX_ENTRIES        2000u
#define BH_APPS_MAX_BYTES          (8u * 1024u * 1024u) /* the whole list; also the capture bound */
#define BH_APPS_MAX_ID_BYTES       255u
#define BH_APPS_MAX_NAME_BYTES     256u
#define BH_APPS_MAX_GENERIC_BYTES  256u
#define BH_APPS_MAX_CATEGORY_BYTES 512u
#define BH_APPS_MAX_KEYWORD_BYTES  1024u
#define BH_APPS_MAX_ICON_SIDE      64u

/* The stream's header. Integers are little-endian on the wire. */
struct bh_apps_hdr {
    uint32_t magic;
    uint32_t version;
    uint32_t untrusted_count;
} __attribute__((packed));
_Static_assert(sizeof(struct bh_apps_hdr) == 12, "apps: header");

/* The fixed part of one record; the fields follow in this order, then the
 * icon (icon_w * icon_h * 4 bytes, RGBA, not premultiplied, rows top to
 * bottom without padding; 0 x 0 for no icon). */
struct bh_apps_rec {
    uint16_t untrusted_id_len;
    uint16_t untrusted_name_len;
    uint16_t untrusted_generic_len;
    uint16_t untrusted_categories_len;
    uint16_t untrusted_keywords_len;
    uint8_t untrusted_icon_w;
    uint8_t untrusted_icon_h;
} __attribute__((packed));
_Static_assert(sizeof(struct bh_apps_rec) == 12, "apps: record");

/* One checked application. Every string is NUL-terminated, valid UTF-8 and
 * sanitised as window titles are (no controls, bidi overrides or invisible
 * format characters; runs of blanks made one space). */
typedef struct {
    char *id;         /* desktop file id: [A-Za-z0-9._+-], 1..255 bytes, ends in ".desktop" */
    char *name;       /* 1..256 bytes after sanitising */
    char *generic;    /* may be "" */
    char *categories; /* ';'-separated as in the desktop file; may be "" */
    char *keywords;   /* ';'-separated; may be "" */
    guint icon_w, icon_h;
    GBytes *icon; /* icon_w * icon_h * 4 bytes; NULL when there is no icon */
} BhApp;

void bh_app_free(BhApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhApp, bh_app_free)

/* Whether s is an id the decoder accepts (and RunApp takes). */
gboolean bh_apps_id_ok(const char *s, gsize len);

/* The apps a menu leaves out when nobody chose its apps (docs/apps.md,
 * "Which apps the menu shows"): the variants, other modes of a program the
 * list also has. A variant is an app whose id without ".desktop" begins
 * with another app's id without ".desktop" and is longer: foot-server and
 * footclient beside foot, thunar-settings beside thunar. Returns a set of
 * the variants' ids (borrowed from apps: free it first). */
GHashTable *bh_apps_variants(const GPtrArray *apps);

/* Decodes a whole list. Returns the apps (BhApp*, in the order sent), or
 * NULL with *reason (at most 160 bytes, for a log line) on any violation:
 * bad header or version, more than BH_APPS_MAX_ENTRIES, a length past the
 * bytes that remain or past its limit, a bad id, a duplicate id, text that
 * is not UTF-8 or holds NUL, a name empty after sanitising, an icon side
 * past 64 or only one side zero, or bytes left over. One bad record refuses
 * the whole list: a qube that writes garbage is suspect. */
GPtrArray *bh_apps_decode(const guint8 *untrusted_buf, gsize len, char *reason, gsize reason_cap);

/* Encoding (the qube's side; the tests). bh_apps_encode_begin writes the
 * header with a count of 0; each bh_apps_encode_add appends one record and
 * bumps the count. add returns FALSE (and appends nothing) for a record the
 * decoder would refuse or that would push the list past BH_APPS_MAX_BYTES,
 * so a correct sender never writes what dom0 drops. */
void bh_apps_encode_begin(GByteArray *out);
gboolean bh_apps_encode_add(GByteArray *out, const BhApp *app);

G_END_DECLS

#endif /* BULKHEAD_APPS_H */
