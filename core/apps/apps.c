/* apps.c — the app-list format of bulkhead/apps.h: the validating decoder
 * dom0 runs on what a qube's bulkhead-applist wrote, and the encoder that
 * program uses (which checks each record with the decoder's own rule).
 *
 * Owns: the limits and checks of docs/apps.md, "What dom0 refuses".
 * Must never: do I/O, read past the bytes given, allocate before a length
 * is checked against what remains, or return unsanitised text. */
#include "bulkhead/apps.h"

#include <string.h>

#include "bulkhead/text.h"

void bh_app_free(BhApp *app)
{
    if (app == NULL)
        return;
    g_free(app->id);
    g_free(app->name);
    g_free(app->generic);
    g_free(app->categories);
    g_free(app->keywords);
    g_clear_pointer(&app->icon, g_bytes_unref);
    g_free(app);
}

gboolean bh_apps_id_ok(const char *s, gsize len)
{
    static const char suffix[] = ".desktop";

    if (len < sizeof suffix || len > BH_APPS_MAX_ID_BYTES || s[0] == '.' || s[0] == '-')
        return FALSE;
    /* strchr finds the terminating NUL too: a NUL byte is refused first. */
    for (gsize i = 0; i < len; i++)
        if (s[i] == '\0' || (!g_ascii_isalnum(s[i]) && strchr("._+-", s[i]) == NULL))
            return FALSE;
    return memcmp(s + len - (sizeof suffix - 1), suffix, sizeof suffix - 1) == 0;
}

GHashTable *bh_apps_variants(const GPtrArray *apps)
{
    static const char suffix[] = ".desktop";
    g_autoptr(GHashTable) stems = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *variants = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < apps->len; i++) {
        const char *id = ((const BhApp *)g_ptr_array_index(apps, i))->id;
        if (g_str_has_suffix(id, suffix))
            g_hash_table_add(stems, g_strndup(id, strlen(id) - (sizeof suffix - 1)));
    }
    /* Every shorter prefix of each stem looked up: at most 255 lookups an
     * app (the id bound), not a comparison with every other app. */
    for (guint i = 0; i < apps->len; i++) {
        const char *id = ((const BhApp *)g_ptr_array_index(apps, i))->id;
        char prefix[BH_APPS_MAX_ID_BYTES + 1];
        gsize len = strlen(id);

        /* A stem of one byte has no shorter stem to be a variant of. */
        if (!g_str_has_suffix(id, suffix) || len > BH_APPS_MAX_ID_BYTES || len < sizeof suffix + 1)
            continue;
        len -= sizeof suffix - 1;
        memcpy(prefix, id, len);
        for (gsize k = len - 1; k >= 1; k--) {
            prefix[k] = '\0';
            if (g_hash_table_contains(stems, prefix)) {
                g_hash_table_add(variants, (gpointer)id);
                break;
            }
        }
    }
    return variants;
}

/* A text field: UTF-8 without NUL, then what dom0 may show of it. NULL
 * (with a reason) when it is not text; "" is allowed here. */
static char *take_text(const guint8 *untrusted, gsize len, const char *what, guint index, char *reason,
                       gsize cap)
{
    /* Sanitising never grows text, so len + 1 bytes hold the result. */
    char *out = g_malloc(len + 1);
    long n;

    if (memchr(untrusted, '\0', len) != NULL ||
        (n = bh_gui_text_sanitize(untrusted, len, out, len + 1)) < 0) {
        g_snprintf(reason, cap, "entry %u: the %s is not UTF-8 text", index, what);
        g_free(out);
        return NULL;
    }
    bh_gui_text_tidy(out, (size_t)n);
    return out;
}

/* One record at untrusted[0..remaining): its size in *used. */
static BhApp *decode_one(const guint8 *untrusted, gsize remaining, guint index, gsize *used, char *reason,
                         gsize cap)
{
    struct bh_apps_rec rec;
    g_autoptr(BhApp) app = NULL;
    const guint8 *p;
    guint16 lens[5];
    static const guint16 limits[5] = {BH_APPS_MAX_ID_BYTES, BH_APPS_MAX_NAME_BYTES, BH_APPS_MAX_GENERIC_BYTES,
                                      BH_APPS_MAX_CATEGORY_BYTES, BH_APPS_MAX_KEYWORD_BYTES};
    static const char *const names[5] = {"id", "name", "generic name", "categories", "keywords"};
    gsize need = sizeof rec, icon_bytes;
    guint w, h;

    if (remaining < sizeof rec) {
        g_snprintf(reason, cap, "entry %u: the record is cut short", index);
        return NULL;
    }
    memcpy(&rec, untrusted, sizeof rec);
    lens[0] = GUINT16_FROM_LE(rec.untrusted_id_len);
    lens[1] = GUINT16_FROM_LE(rec.untrusted_name_len);
    lens[2] = GUINT16_FROM_LE(rec.untrusted_generic_len);
    lens[3] = GUINT16_FROM_LE(rec.untrusted_categories_len);
    lens[4] = GUINT16_FROM_LE(rec.untrusted_keywords_len);
    for (int i = 0; i < 5; i++) {
        if (lens[i] > limits[i]) {
            g_snprintf(reason, cap, "entry %u: the %s has %u bytes, more than %u", index, names[i], lens[i],
                       limits[i]);
            return NULL;
        }
        need += lens[i];
    }
    w = rec.untrusted_icon_w;
    h = rec.untrusted_icon_h;
    if (w > BH_APPS_MAX_ICON_SIDE || h > BH_APPS_MAX_ICON_SIDE || (w == 0) != (h == 0)) {
        g_snprintf(reason, cap, "entry %u: an icon of %ux%u (each side 1..%u, or 0x0 for none)", index, w, h,
                   BH_APPS_MAX_ICON_SIDE);
        return NULL;
    }
    icon_bytes = (gsize)w * h * 4; /* at most 64 * 64 * 4: no overflow */
    need += icon_bytes;
    if (need > remaining) {
        g_snprintf(reason, cap,
                   "entry %u: it announces %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT " remain", index,
                   need, remaining);
        return NULL;
    }

    p = untrusted + sizeof rec;
    if (!bh_apps_id_ok((const char *)p, lens[0])) {
        g_snprintf(reason, cap,
                   "entry %u: the id is not a desktop file id ([A-Za-z0-9._+-], ending in .desktop)", index);
        return NULL;
    }
    app = g_new0(BhApp, 1);
    app->id = g_strndup((const char *)p, lens[0]);
    p += lens[0];
    char **fields[4] = {&app->name, &app->generic, &app->categories, &app->keywords};
    for (int i = 0; i < 4; i++) {
        *fields[i] = take_text(p, lens[i + 1], names[i + 1], index, reason, cap);
        if (*fields[i] == NULL)
            return NULL;
        p += lens[i + 1];
    }
    if (app->name[0] == '\0') {
        g_snprintf(reason, cap, "entry %u (%s): the name is empty once sanitised", index, app->id);
        return NULL;
    }
    if (icon_bytes > 0) {
        app->icon_w = w;
        app->icon_h = h;
        app->icon = g_bytes_new(p, icon_bytes);
    }
    *used = need;
    return g_steal_pointer(&app);
}

GPtrArray *bh_apps_decode(const guint8 *untrusted_buf, gsize len, char *reason, gsize reason_cap)
{
    struct bh_apps_hdr hdr;
    g_autoptr(GPtrArray) apps = NULL;
    g_autoptr(GHashTable) ids = NULL;
    guint32 count;
    gsize at;

    if (len > BH_APPS_MAX_BYTES) {
        g_snprintf(reason, reason_cap, "the list has %" G_GSIZE_FORMAT " bytes, more than %u", len,
                   BH_APPS_MAX_BYTES);
        return NULL;
    }
    if (len < sizeof hdr) {
        g_snprintf(reason, reason_cap, "the list is %" G_GSIZE_FORMAT " bytes, shorter than its header", len);
        return NULL;
    }
    memcpy(&hdr, untrusted_buf, sizeof hdr);
    if (GUINT32_FROM_LE(hdr.magic) != BH_APPS_MAGIC || GUINT32_FROM_LE(hdr.version) != BH_APPS_VERSION) {
        g_snprintf(reason, reason_cap, "not an app list of version %u (magic %08x, version %u)",
                   BH_APPS_VERSION, GUINT32_FROM_LE(hdr.magic), GUINT32_FROM_LE(hdr.version));
        return NULL;
    }
    count = GUINT32_FROM_LE(hdr.untrusted_count);
    if (count > BH_APPS_MAX_ENTRIES) {
        g_snprintf(reason, reason_cap, "the list announces %u entries, more than %u", count,
                   BH_APPS_MAX_ENTRIES);
        return NULL;
    }
    apps = g_ptr_array_new_full(count, (GDestroyNotify)bh_app_free);
    ids = g_hash_table_new(g_str_hash, g_str_equal);
    at = sizeof hdr;
    for (guint32 i = 0; i < count; i++) {
        gsize used = 0;
        BhApp *app = decode_one(untrusted_buf + at, len - at, i, &used, reason, reason_cap);
        if (app == NULL)
            return NULL;
        g_ptr_array_add(apps, app);
        if (!g_hash_table_add(ids, app->id)) {
            g_snprintf(reason, reason_cap, "entry %u: the id %s appears twice", i, app->id);
            return NULL;
        }
        at += used;
    }
    if (at != len) {
        g_snprintf(reason, reason_cap, "%" G_GSIZE_FORMAT " bytes follow the last entry", len - at);
        return NULL;
    }
    reason[0] = '\0';
    return g_steal_pointer(&apps);
}

/* ---- the qube's side -------------------------------------------------------- */

void bh_apps_encode_begin(GByteArray *out)
{
    struct bh_apps_hdr hdr = {
        .magic = GUINT32_TO_LE(BH_APPS_MAGIC),
        .version = GUINT32_TO_LE(BH_APPS_VERSION),
        .untrusted_count = 0,
    };

    g_byte_array_set_size(out, 0);
    g_byte_array_append(out, (const guint8 *)&hdr, sizeof hdr);
}

static void append_field(GByteArray *out, const char *s)
{
    if (s != NULL)
        g_byte_array_append(out, (const guint8 *)s, (guint)strlen(s));
}

gboolean bh_apps_encode_add(GByteArray *out, const BhApp *app)
{
    const char *fields[5] = {app->id, app->name, app->generic, app->categories, app->keywords};
    gsize lens[5], icon_bytes = app->icon != NULL ? g_bytes_get_size(app->icon) : 0;
    struct bh_apps_hdr hdr;
    struct bh_apps_rec rec;
    guint start = out->len;
    char reason[160];
    gsize used = 0;

    if (out->len < sizeof hdr || app->icon_w > 255 || app->icon_h > 255 ||
        icon_bytes != (gsize)app->icon_w * app->icon_h * 4)
        return FALSE;
    for (int i = 0; i < 5; i++) {
        lens[i] = fields[i] != NULL ? strlen(fields[i]) : 0;
        if (lens[i] > G_MAXUINT16)
            return FALSE;
    }
    memcpy(&hdr, out->data, sizeof hdr);
    if (GUINT32_FROM_LE(hdr.untrusted_count) >= BH_APPS_MAX_ENTRIES)
        return FALSE;
    rec = (struct bh_apps_rec){
        .untrusted_id_len = GUINT16_TO_LE((guint16)lens[0]),
        .untrusted_name_len = GUINT16_TO_LE((guint16)lens[1]),
        .untrusted_generic_len = GUINT16_TO_LE((guint16)lens[2]),
        .untrusted_categories_len = GUINT16_TO_LE((guint16)lens[3]),
        .untrusted_keywords_len = GUINT16_TO_LE((guint16)lens[4]),
        .untrusted_icon_w = (guint8)app->icon_w,
        .untrusted_icon_h = (guint8)app->icon_h,
    };
    g_byte_array_append(out, (const guint8 *)&rec, sizeof rec);
    for (int i = 0; i < 5; i++)
        append_field(out, fields[i]);
    if (icon_bytes > 0)
        g_byte_array_append(out, g_bytes_get_data(app->icon, NULL), (guint)icon_bytes);

    /* dom0's own rule on what was just written (the duplicate check is the
     * caller's: it knows the ids it wrote). */
    g_autoptr(BhApp) check = decode_one(out->data + start, out->len - start, 0, &used, reason, sizeof reason);
    if (check == NULL || out->len > BH_APPS_MAX_BYTES) {
        g_byte_array_set_size(out, start);
        return FALSE;
    }
    hdr.untrusted_count = GUINT32_TO_LE(GUINT32_FROM_LE(hdr.untrusted_count) + 1);
    memcpy(out->data, &hdr, sizeof hdr);
    return TRUE;
}
