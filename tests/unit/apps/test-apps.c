/* test-apps.c — the app-list decoder and encoder (core/apps/apps.c).
 *
 * Each case is a list built byte by byte (so a case may lie where the
 * encoder never would) with the decoder's expected verdict. The cases are
 * also the fuzz target's seed corpus: --write-corpus DIR writes them,
 * --corpus DIR checks the files there are still what this builds.
 * Must never: depend on anything but the library under test. */
#include <string.h>

#include "bulkhead/apps.h"

typedef struct {
    const char *name; /* corpus file */
    GByteArray *bytes;
    int expect; /* number of apps, or -1 for refused */
    const char *reason_has;
} Case;

static GByteArray *list_new(guint32 count)
{
    GByteArray *b = g_byte_array_new();
    struct bh_apps_hdr hdr = {GUINT32_TO_LE(BH_APPS_MAGIC), GUINT32_TO_LE(BH_APPS_VERSION),
                              GUINT32_TO_LE(count)};
    g_byte_array_append(b, (const guint8 *)&hdr, sizeof hdr);
    return b;
}

/* A record whose lengths are the fields' own unless given (a lie). */
static void rec_add(GByteArray *b, const char *id, const char *name, gssize name_len, guint w, guint h,
                    gsize icon_bytes)
{
    struct bh_apps_rec rec = {
        .untrusted_id_len = GUINT16_TO_LE((guint16)strlen(id)),
        .untrusted_name_len = GUINT16_TO_LE((guint16)(name_len >= 0 ? (gsize)name_len : strlen(name))),
        .untrusted_generic_len = GUINT16_TO_LE(3),
        .untrusted_categories_len = GUINT16_TO_LE(8),
        .untrusted_keywords_len = GUINT16_TO_LE(6),
        .untrusted_icon_w = (guint8)w,
        .untrusted_icon_h = (guint8)h,
    };
    g_byte_array_append(b, (const guint8 *)&rec, sizeof rec);
    g_byte_array_append(b, (const guint8 *)id, strlen(id));
    g_byte_array_append(b, (const guint8 *)name, name_len >= 0 ? (guint)name_len : strlen(name));
    g_byte_array_append(b, (const guint8 *)"App", 3);
    g_byte_array_append(b, (const guint8 *)"Utility;", 8);
    g_byte_array_append(b, (const guint8 *)"x;yz;;", 6);
    for (gsize i = 0; i < icon_bytes; i++) {
        guint8 px = (guint8)(i * 7);
        g_byte_array_append(b, &px, 1);
    }
}

static GPtrArray *cases_new(void)
{
    GPtrArray *cases = g_ptr_array_new();
    Case *c;
/* A case of one record (most of the refusals). */
#define ONE(n, e, r, ...) (c = CASE(n, e, r), c->bytes = list_new(1), rec_add(c->bytes, __VA_ARGS__), c)
#define CASE(n, e, r)                                                                                        \
    (c = g_new0(Case, 1), c->name = (n), c->expect = (e), c->reason_has = (r), g_ptr_array_add(cases, c), c)

    c = CASE("valid-two", 2, NULL);
    c->bytes = list_new(2);
    rec_add(c->bytes, "foot.desktop", "Foot", -1, 0, 0, 0);
    rec_add(c->bytes, "org.gtk.Demo4.desktop", "GTK Demo", -1, 2, 3, 2 * 3 * 4);

    c = CASE("valid-empty", 0, NULL);
    c->bytes = list_new(0);

    /* Controls, a bidi override and isolate, tabs and newlines go;
     * the name that imitates a dom0 tool stays as it is: the menu shows it
     * under the qube's heading, which is what makes it the qube's. */
    c = CASE("valid-sanitised", 2, NULL);
    c->bytes = list_new(2);
    rec_add(c->bytes, "evil.desktop", "Ter\x1b[31mminal\xe2\x80\xae\tgnp.exe\n\xe2\x81\xa6", -1, 0, 0, 0);
    rec_add(c->bytes, "bulkhead-settings.desktop", "Bulkhead Settings", -1, 64, 64, 64 * 64 * 4);

    c = CASE("invalid-count", -1, "entries");
    c->bytes = list_new(10000);
    for (int i = 0; i < 3; i++) {
        g_autofree char *id = g_strdup_printf("app%d.desktop", i);
        rec_add(c->bytes, id, "App", -1, 0, 0, 0);
    }

    c = CASE("invalid-count-lies", -1, "record is cut short");
    c->bytes = list_new(3);
    rec_add(c->bytes, "a.desktop", "A", -1, 0, 0, 0);

    {
        g_autofree char *big = g_strnfill(BH_APPS_MAX_NAME_BYTES + 1, 'x');
        c = CASE("invalid-long-name", -1, "more than 256");
        c->bytes = list_new(1);
        rec_add(c->bytes, "a.desktop", big, -1, 0, 0, 0);
    }
    c = ONE("invalid-name-past-end", -1, "remain", "a.desktop", "short", 200, 0, 0, 0);
    g_byte_array_set_size(c->bytes, c->bytes->len - 200 + 5);

    c = ONE("invalid-icon-too-big", -1, "icon of 65x65", "a.desktop", "A", -1, 65, 65, 65 * 65 * 4);

    c = ONE("invalid-icon-short", -1, "remain", "a.desktop", "A", -1, 64, 64, 100);

    c = ONE("invalid-icon-one-side", -1, "icon of 0x5", "a.desktop", "A", -1, 0, 5, 0);

    c = ONE("invalid-icon-too-long", -1, "follow the last entry", "a.desktop", "A", -1, 1, 1, 8);

    c = CASE("invalid-dup-id", -1, "twice");
    c->bytes = list_new(2);
    rec_add(c->bytes, "a.desktop", "A", -1, 0, 0, 0);
    rec_add(c->bytes, "a.desktop", "B", -1, 0, 0, 0);

    c = ONE("invalid-id-path", -1, "desktop file id", "../../bin/sh.desktop", "A", -1, 0, 0, 0);

    c = CASE("invalid-id-shell", -1, "desktop file id");
    c->bytes = list_new(1);
    rec_add(c->bytes, "a;reboot;.desktop", "A", -1, 0, 0, 0);

    /* Found by fuzzing: strchr("._+-", '\0') matches the string's end. */
    c = ONE("invalid-id-nul", -1, "desktop file id", "a.desktop", "A", -1, 0, 0, 0);
    c->bytes->data[sizeof(struct bh_apps_hdr) + sizeof(struct bh_apps_rec)] = '\0';

    c = ONE("invalid-id-suffix", -1, "desktop file id", "foot", "A", -1, 0, 0, 0);

    c = ONE("invalid-utf8", -1, "UTF-8", "a.desktop", "A\xc0\xaf", -1, 0, 0, 0);

    c = ONE("invalid-nul", -1, "UTF-8", "a.desktop", "A\0B", 3, 0, 0, 0);

    c = ONE("invalid-name-only-bidi", -1, "empty once sanitised", "a.desktop", "\xe2\x80\xae\x07", -1, 0, 0,
            0);

    c = CASE("invalid-magic", -1, "not an app list");
    c->bytes = list_new(0);
    c->bytes->data[0] = 'X';

    c = CASE("invalid-version", -1, "not an app list");
    c->bytes = list_new(0);
    c->bytes->data[4] = 2;

    c = CASE("invalid-short-header", -1, "shorter than its header");
    c->bytes = g_byte_array_new();
    g_byte_array_append(c->bytes, (const guint8 *)"BHAP", 4);
#undef ONE
#undef CASE
    return cases;
}

static const char *corpus_dir;

static void test_case(gconstpointer data)
{
    const Case *c = data;
    char reason[160] = "unset";
    g_autoptr(GPtrArray) apps = bh_apps_decode(c->bytes->data, c->bytes->len, reason, sizeof reason);

    if (c->expect < 0) {
        g_assert_null(apps);
        g_test_message("%s: %s", c->name, reason);
        g_assert_nonnull(strstr(reason, c->reason_has));
    } else {
        g_assert_nonnull(apps);
        g_assert_cmpuint(apps->len, ==, (guint)c->expect);
        g_assert_cmpstr(reason, ==, "");
    }
    if (corpus_dir != NULL) {
        g_autofree char *path = g_build_filename(corpus_dir, c->name, NULL);
        g_autofree char *on_disk = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(path, &on_disk, &len, NULL));
        g_assert_cmpmem(on_disk, len, c->bytes->data, c->bytes->len);
    }
}

static void test_sanitised(void)
{
    g_autoptr(GPtrArray) cases = cases_new();
    const Case *c = NULL;
    char reason[160];

    for (guint i = 0; i < cases->len; i++)
        if (g_str_equal(((Case *)g_ptr_array_index(cases, i))->name, "valid-sanitised"))
            c = g_ptr_array_index(cases, i);
    g_autoptr(GPtrArray) apps = bh_apps_decode(c->bytes->data, c->bytes->len, reason, sizeof reason);
    g_assert_nonnull(apps);
    const BhApp *evil = g_ptr_array_index(apps, 0), *settings = g_ptr_array_index(apps, 1);
    /* ESC goes, "[31m" is text; the override, the isolate, the tab and the
     * newline go. */
    g_assert_cmpstr(evil->name, ==, "Ter[31mminalgnp.exe");
    g_assert_cmpstr(evil->keywords, ==, "x;yz;;");
    g_assert_null(evil->icon);
    g_assert_cmpstr(settings->name, ==, "Bulkhead Settings");
    g_assert_cmpuint(settings->icon_w, ==, 64);
    g_assert_cmpuint(g_bytes_get_size(settings->icon), ==, 64 * 64 * 4);
}

static void test_limits(void)
{
    char reason[160];
    /* Past the byte bound: refused before a byte of it is read. */
    g_autofree guint8 *big = g_malloc0(BH_APPS_MAX_BYTES + 1);
    g_assert_null(bh_apps_decode(big, BH_APPS_MAX_BYTES + 1, reason, sizeof reason));
    g_assert_nonnull(strstr(reason, "bytes, more than"));

    /* The encoder stops at the entry bound and at the byte bound. */
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GBytes) icon = g_bytes_new_take(g_malloc0(64 * 64 * 4), 64 * 64 * 4);
    guint added = 0;
    bh_apps_encode_begin(out);
    for (guint i = 0; i < BH_APPS_MAX_ENTRIES + 5; i++) {
        g_autofree char *id = g_strdup_printf("app%u.desktop", i);
        BhApp app = {.id = id,
                     .name = "A",
                     .generic = "",
                     .categories = "",
                     .keywords = "",
                     .icon_w = 64,
                     .icon_h = 64,
                     .icon = icon};
        if (bh_apps_encode_add(out, &app))
            added++;
    }
    g_assert_cmpuint(out->len, <=, BH_APPS_MAX_BYTES);
    g_assert_cmpuint(added, <, BH_APPS_MAX_ENTRIES);
    g_autoptr(GPtrArray) apps = bh_apps_decode(out->data, out->len, reason, sizeof reason);
    g_assert_nonnull(apps);
    g_assert_cmpuint(apps->len, ==, added);

    /* Without icons the entry bound is what stops it. */
    added = 0;
    bh_apps_encode_begin(out);
    for (guint i = 0; i < BH_APPS_MAX_ENTRIES + 5; i++) {
        g_autofree char *id = g_strdup_printf("app%u.desktop", i);
        BhApp app = {.id = id, .name = "A"};
        if (bh_apps_encode_add(out, &app))
            added++;
    }
    g_assert_cmpuint(added, ==, BH_APPS_MAX_ENTRIES);
}

static void test_encoder_refuses(void)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autofree char *long_name = g_strnfill(BH_APPS_MAX_NAME_BYTES + 1, 'n');
    g_autoptr(GBytes) short_icon = g_bytes_new("abcd", 4);
    const BhApp bad[] = {
        {.id = "no-suffix", .name = "A"},
        {.id = "a.desktop", .name = long_name},
        {.id = "a.desktop", .name = "\xe2\x80\xae"},
        {.id = "a.desktop", .name = "A", .icon_w = 2, .icon_h = 2, .icon = short_icon},
        {.id = "a.desktop", .name = "A", .icon_w = 65, .icon_h = 1, .icon = NULL},
    };
    bh_apps_encode_begin(out);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(bh_apps_encode_add(out, &bad[i]));
        g_assert_cmpuint(out->len, ==, sizeof(struct bh_apps_hdr));
    }
    /* The control: a good one is taken. */
    BhApp good = {.id = "a.desktop", .name = "A"};
    g_assert_true(bh_apps_encode_add(out, &good));
}

static void test_ids(void)
{
    g_assert_true(bh_apps_id_ok("org.gnome.Calculator.desktop", 28));
    g_assert_true(bh_apps_id_ok("kde-org.kde.dolphin.desktop", 27));
    g_assert_false(bh_apps_id_ok(".desktop", 8));
    g_assert_false(bh_apps_id_ok("-x.desktop", 10));
    g_assert_false(bh_apps_id_ok("a b.desktop", 11));
    g_assert_false(bh_apps_id_ok("a/b.desktop", 11));
    g_assert_false(bh_apps_id_ok("a.desktop'", 10));
    g_assert_false(bh_apps_id_ok("\0.desktop", 9));
}

/* The variants the menu leaves out by default (docs/apps.md): the ids of
 * Debian 12's desktop entries beside made-up edge cases. */
static void test_variants(void)
{
    const char *ids[] = {"foot.desktop",
                         "footclient.desktop",
                         "foot-server.desktop",
                         "thunar.desktop",
                         "thunar-settings.desktop",
                         "thunar-bulk-rename.desktop",
                         "debian-xterm.desktop",
                         "debian-uxterm.desktop",
                         "org.gtk.Demo4.desktop",
                         "org.gtk.gtk4.NodeEditor.desktop",
                         "vim.desktop",
                         "a.desktop",
                         "ab.desktop"};
    const char *variants[] = {"footclient.desktop", "foot-server.desktop", "thunar-settings.desktop",
                              "thunar-bulk-rename.desktop", "ab.desktop"};
    g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func((GDestroyNotify)bh_app_free);
    g_autoptr(GHashTable) found = NULL;
    g_autoptr(GPtrArray) alone = g_ptr_array_new_with_free_func((GDestroyNotify)bh_app_free);
    g_autoptr(GHashTable) none = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        BhApp *app = g_new0(BhApp, 1);
        app->id = g_strdup(ids[i]);
        g_ptr_array_add(apps, app);
    }
    found = bh_apps_variants(apps);
    for (gsize i = 0; i < G_N_ELEMENTS(variants); i++)
        g_assert_true(g_hash_table_contains(found, variants[i]));
    /* foot, thunar, both xterms, the GTK demos, vim and a are not. */
    g_assert_cmpuint(g_hash_table_size(found), ==, G_N_ELEMENTS(variants));

    /* Without foot.desktop in the list, its modes are nobody's variants. */
    for (gsize i = 1; i < 3; i++) {
        BhApp *app = g_new0(BhApp, 1);
        app->id = g_strdup(ids[i]);
        g_ptr_array_add(alone, app);
    }
    none = bh_apps_variants(alone);
    g_assert_cmpuint(g_hash_table_size(none), ==, 0);
}

static int write_corpus(const char *dir)
{
    g_autoptr(GPtrArray) cases = cases_new();
    g_mkdir_with_parents(dir, 0755);
    for (guint i = 0; i < cases->len; i++) {
        const Case *c = g_ptr_array_index(cases, i);
        g_autofree char *path = g_build_filename(dir, c->name, NULL);
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents(path, (const char *)c->bytes->data, c->bytes->len, &error)) {
            g_printerr("%s\n", error->message);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && g_str_equal(argv[1], "--write-corpus"))
        return write_corpus(argv[2]);
    for (int i = 1; i + 1 < argc; i++)
        if (g_str_equal(argv[i], "--corpus"))
            corpus_dir = argv[i + 1];
    g_test_init(&argc, &argv, NULL);
    GPtrArray *cases = cases_new();
    for (guint i = 0; i < cases->len; i++) {
        const Case *c = g_ptr_array_index(cases, i);
        g_autofree char *path = g_strdup_printf("/apps/decode/%s", c->name);
        g_test_add_data_func(path, c, test_case);
    }
    g_test_add_func("/apps/sanitised", test_sanitised);
    g_test_add_func("/apps/limits", test_limits);
    g_test_add_func("/apps/encoder-refuses", test_encoder_refuses);
    g_test_add_func("/apps/ids", test_ids);
    g_test_add_func("/apps/variants", test_variants);
    return g_test_run();
}
