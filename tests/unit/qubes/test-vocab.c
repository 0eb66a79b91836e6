/* test-vocab.c — the pure vocabulary of qubes.h: labels and their text
 * colours, classes, name and tag rules, the property table and value
 * normalisation, error code names and quoting of hostile strings. */
#include "bulkhead/qubes.h"
#include "testlib.h"

#include <string.h>

static void test_labels(void)
{
    static const struct {
        const char *name;
        guint32 rgb;
        guint32 text;
    } expect[] = {
        {"red", 0xcc0000, 0xffffff},    {"orange", 0xf57900, 0x000000}, {"yellow", 0xedd400, 0x000000},
        {"green", 0x73d216, 0x000000},  {"gray", 0x555555, 0xffffff},   {"blue", 0x3465a4, 0xffffff},
        {"purple", 0x75507b, 0xffffff}, {"black", 0x000000, 0xffffff},
    };
    const BhLabel *all = bh_labels();
    guint i;

    for (i = 0; i < G_N_ELEMENTS(expect); i++) {
        const BhLabel *l = bh_label_lookup(expect[i].name);
        g_autofree char *hex = g_strdup_printf("#%06x", expect[i].rgb);
        g_assert_nonnull(l);
        g_assert_true(l == &all[i]);
        g_assert_cmpuint(l->index, ==, i + 1);
        g_assert_true(bh_label_by_index(i + 1) == l);
        g_assert_cmphex(l->rgb, ==, expect[i].rgb);
        g_assert_cmpstr(l->hex, ==, hex);
        g_assert_cmphex(bh_label_text_rgb(l), ==, expect[i].text);
    }
    g_assert_null(bh_label_lookup("Red"));
    g_assert_null(bh_label_lookup("pink"));
    g_assert_null(bh_label_lookup(""));
    g_assert_null(bh_label_lookup(NULL));
    g_assert_null(bh_label_by_index(0));
    g_assert_null(bh_label_by_index(BH_LABEL_COUNT + 1));
    g_assert_cmpfloat_with_epsilon(bh_rgb_luminance(0x000000), 0.0, 1e-9);
    g_assert_cmpfloat_with_epsilon(bh_rgb_luminance(0xffffff), 1.0, 1e-9);
    g_assert_cmpfloat(bh_rgb_luminance(0xedd400), >, bh_rgb_luminance(0xcc0000));
}

static void test_classes(void)
{
    static const char *const names[] = {"AdminVM", "TemplateVM", "AppVM", "DispVM", "StandaloneVM"};
    BhQubeClass k;
    guint i;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        g_assert_cmpstr(bh_class_name((BhQubeClass)i), ==, names[i]);
        g_assert_true(bh_class_from_name(names[i], &k));
        g_assert_cmpint(k, ==, i);
    }
    g_assert_true(bh_class_from_name("appvm", &k));
    g_assert_cmpint(k, ==, BH_CLASS_APP_VM);
    g_assert_false(bh_class_from_name("VM", &k));
    g_assert_false(bh_class_from_name(NULL, &k));
    g_assert_cmpstr(bh_class_name(BH_CLASS_COUNT), ==, "unknown");
}

static void test_names(void)
{
    static const char *const good[] = {"a",
                                       "work",
                                       "sys-net",
                                       "Work_2.old",
                                       "a-b.c_d",
                                       "Z9",
                                       "x234567890123456789012345678901" /* 31 bytes */};
    static const char *const bad[] = {
        "",       "1work",
        "-work",  "_work",
        ".work",  "wörk" /* UTF-8 */,
        "работа", "a b",
        "a/b",    "a\nb",
        "a\tb",   "a\x01",
        "a\x7f",  "dom0",
        "none",   "default",
        "sys-dm", "a\\b",
        "a:b",    "x2345678901234567890123456789012" /* 32 bytes */,
    };
    guint i;

    g_assert_cmpuint(strlen(good[G_N_ELEMENTS(good) - 1]), ==, BH_QUBE_NAME_MAX);
    g_assert_cmpuint(strlen(bad[G_N_ELEMENTS(bad) - 1]), ==, BH_QUBE_NAME_MAX + 1);
    for (i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_true(bh_qube_name_validate(good[i], &error));
        g_assert_no_error(error);
    }
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(bh_qube_name_validate(bad[i], &error));
        g_assert_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_NAME);
        /* Hostile bytes never reach the message raw. */
        g_assert_null(strchr(error->message, '\n'));
        g_assert_null(strchr(error->message, '\x01'));
        g_assert_true(g_str_is_ascii(error->message));
    }
    bh_assert_fails(bh_qube_name_validate(NULL, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
}

static void test_tags(void)
{
    char longest[BH_TAG_MAX + 2];

    g_assert_true(bh_tag_validate("work-tag_1", NULL));
    memset(longest, 'a', sizeof longest);
    longest[BH_TAG_MAX] = '\0';
    g_assert_true(bh_tag_validate(longest, NULL));
    longest[BH_TAG_MAX] = 'a';
    longest[BH_TAG_MAX + 1] = '\0';
    bh_assert_fails(bh_tag_validate(longest, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_tag_validate("", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_tag_validate("a b", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_tag_validate("a.b", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_tag_validate("tag:x", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_tag_validate("é", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_tag_validate(NULL, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
}

/* Every row is complete, names are unique, and every static default is a
 * value its own parser accepts unchanged. */
static void check_table(const BhPropDef *defs, gsize n, gboolean globals)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    gsize i;

    g_assert_cmpuint(n, >, 0);
    for (i = 0; i < n; i++) {
        const BhPropDef *d = &defs[i];
        g_assert_nonnull(d->name);
        g_assert_true(g_hash_table_add(seen, (gpointer)d->name));
        g_assert_nonnull(d->help);
        g_assert_cmpuint(strlen(d->help), >, 10);
        g_assert_nonnull(d->default_help);
        g_assert_true(globals ? d->classes == 0 : d->classes != 0);
        g_assert_true(globals ? bh_global_lookup(d->name) == d : bh_prop_lookup(d->name) == d);
        if (d->type == BH_PROP_ENUM)
            g_assert_nonnull(d->choices);
        if (d->type == BH_PROP_INT)
            g_assert_cmpint(d->min, <=, d->max);
        if (d->default_value != NULL && !(d->flags & BH_PROPF_READ_ONLY)) {
            g_autoptr(GError) error = NULL;
            g_autofree char *canon = bh_prop_normalize(d, d->default_value, &error);
            g_assert_no_error(error);
            g_assert_cmpstr(canon, ==, d->default_value);
        }
    }
}

static void test_table(void)
{
    static const char *const required[] = {
        "name",
        "label",
        "class",
        "template",
        "netvm",
        "provides_network",
        "memory",
        "maxmem",
        "vcpus",
        "kernel",
        "virt_mode",
        "autostart",
        "default_dispvm",
        "template_for_dispvms",
        "include_in_backups",
        "allow_fullscreen",
        "qid",
        "uuid",
        "root_path",
        "root_readonly",
    };
    static const char *const required_globals[] = {
        "default_template", "default_netvm", "default_dispvm", "updatevm", "clockvm", "clipboard_max_bytes"};
    const BhPropDef *defs, *memory;
    gsize n, i;

    defs = bh_props(&n);
    check_table(defs, n, FALSE);
    for (i = 0; i < G_N_ELEMENTS(required); i++)
        g_assert_nonnull(bh_prop_lookup(required[i]));
    defs = bh_globals(&n);
    check_table(defs, n, TRUE);
    for (i = 0; i < G_N_ELEMENTS(required_globals); i++)
        g_assert_nonnull(bh_global_lookup(required_globals[i]));
    g_assert_null(bh_prop_lookup("nosuch"));
    g_assert_null(bh_prop_lookup(NULL));

    memory = bh_prop_lookup("memory");
    g_assert_true(memory->flags & BH_PROPF_INHERIT);
    g_assert_true(bh_prop_lookup("vcpus")->flags & BH_PROPF_INHERIT);
    g_assert_true(bh_prop_lookup("kernel")->flags & BH_PROPF_INHERIT);
    g_assert_true(bh_prop_lookup("qid")->flags & BH_PROPF_READ_ONLY);
    g_assert_true(bh_prop_lookup("uuid")->flags & BH_PROPF_READ_ONLY);
    g_assert_false(bh_prop_applies(bh_prop_lookup("netvm"), BH_CLASS_ADMIN_VM));
    g_assert_true(bh_prop_applies(bh_prop_lookup("template"), BH_CLASS_APP_VM));
    g_assert_false(bh_prop_applies(bh_prop_lookup("template"), BH_CLASS_TEMPLATE_VM));
    g_assert_cmpstr(bh_prop_type_name(BH_PROP_QUBE), ==, "qube");
    g_assert_cmpint(bh_global_lookup("clipboard_max_bytes")->min, ==, 1);
    g_assert_cmpint(bh_global_lookup("clipboard_max_bytes")->max, ==, 256000);
    g_assert_cmpstr(bh_global_lookup("clipboard_max_bytes")->default_value, ==, "64000");
}

static void expect_norm(const char *prop, const char *in, const char *out)
{
    g_autoptr(GError) error = NULL;
    const BhPropDef *d = bh_prop_lookup(prop) ? bh_prop_lookup(prop) : bh_global_lookup(prop);
    g_autofree char *canon = bh_prop_normalize(d, in, &error);

    if (out == NULL) {
        g_autofree char *shown = bh_qubes_quote(in);
        g_assert_null(canon);
        g_assert_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE);
        g_test_message("%s=%s: %s", prop, shown, error->message);
        return;
    }
    g_assert_no_error(error);
    g_assert_cmpstr(canon, ==, out);
}

static void test_normalize(void)
{
    expect_norm("autostart", "yes", "True");
    expect_norm("autostart", "TRUE", "True");
    expect_norm("autostart", "on", "True");
    expect_norm("autostart", "1", "True");
    expect_norm("autostart", "off", "False");
    expect_norm("autostart", "0", "False");
    expect_norm("autostart", "maybe", NULL);
    expect_norm("autostart", "", NULL);
    expect_norm("memory", "32", "32");
    expect_norm("memory", "1048576", "1048576");
    expect_norm("memory", "31", NULL);
    expect_norm("memory", "1048577", NULL);
    expect_norm("memory", "12abc", NULL);
    expect_norm("memory", " 400", NULL);
    expect_norm("memory", "-1", NULL);
    expect_norm("memory", "99999999999999999999999", NULL);
    expect_norm("memory", "", NULL);
    expect_norm("clipboard_max_bytes", "256000", "256000");
    expect_norm("clipboard_max_bytes", "256001", NULL);
    expect_norm("clipboard_max_bytes", "0", NULL);
    expect_norm("virt_mode", "hvm", "hvm");
    expect_norm("virt_mode", "HVM", NULL);
    expect_norm("label", "purple", "purple");
    expect_norm("label", "pink", NULL);
    expect_norm("netvm", "none", "");
    expect_norm("netvm", "", "");
    expect_norm("netvm", "sys-net", "sys-net");
    expect_norm("netvm", "bad name", NULL);
    expect_norm("template", "none", NULL);
    expect_norm("kernel", "", "");
    expect_norm("kernel", "6.1.0-13-amd64", "6.1.0-13-amd64");
    expect_norm("kernel", "../../etc", NULL);
    expect_norm("kernel", "a b", NULL);
    expect_norm("default_user", "user", "user");
    expect_norm("default_user", "root\n", NULL);
    expect_norm("default_user", "Admin", NULL);
    expect_norm("root_path", "/", "/");
    expect_norm("root_path", "/srv/roots/f40", "/srv/roots/f40");
    expect_norm("root_path", "srv", NULL);
    expect_norm("root_path", "/srv/../etc", NULL);
    expect_norm("root_path", "/srv/\x1b[31m", NULL);
    expect_norm("root_path", "/\xff\xfe", NULL);
}

static void test_errors_and_quote(void)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *q1 = bh_qubes_quote("a\nb\\c\xc3\xa9");
    g_autofree char *q2 = NULL;
    g_autofree char *q3 = bh_qubes_quote(NULL);
    char big[200];
    int code;

    for (code = BH_QUBES_ERROR_NO_SUCH_QUBE; code <= BH_QUBES_ERROR_TOO_NEW; code++) {
        const char *name = bh_qubes_error_code_name(code);
        g_assert_nonnull(name);
        g_assert_true(g_hash_table_add(seen, (gpointer)name));
    }
    g_assert_null(bh_qubes_error_code_name(0));
    g_assert_null(bh_qubes_error_code_name(BH_QUBES_ERROR_TOO_NEW + 1));
    g_assert_cmpstr(bh_qubes_error_code_name(BH_QUBES_ERROR_NETWORK_LOOP), ==, "NetworkLoop");

    g_assert_cmpstr(q1, ==, "a\\x0ab\\x5cc\\xc3\\xa9");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    q2 = bh_qubes_quote(big);
    g_assert_cmpuint(strlen(q2), ==, 64 + 3);
    g_assert_true(g_str_has_suffix(q2, "..."));
    g_assert_cmpstr(q3, ==, "(null)");
}

/* docs/model.md documents every property and global in a table row. */
static void test_docs_list_every_property(void)
{
    g_autofree char *path = g_build_filename(g_getenv("BH_SOURCE_ROOT"), "docs", "model.md", NULL);
    g_autofree char *doc = NULL;
    const BhPropDef *tables[2];
    gsize counts[2], t, i;

    g_assert_true(g_file_get_contents(path, &doc, NULL, NULL));
    tables[0] = bh_props(&counts[0]);
    tables[1] = bh_globals(&counts[1]);
    for (t = 0; t < 2; t++) {
        for (i = 0; i < counts[t]; i++) {
            g_autofree char *row = g_strdup_printf("\n| `%s` |", tables[t][i].name);
            if (strstr(doc, row) == NULL)
                g_test_message("docs/model.md lacks a row for %s", tables[t][i].name);
            g_assert_nonnull(strstr(doc, row));
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qubes/labels", test_labels);
    g_test_add_func("/qubes/classes", test_classes);
    g_test_add_func("/qubes/names", test_names);
    g_test_add_func("/qubes/tags", test_tags);
    g_test_add_func("/qubes/property-table", test_table);
    g_test_add_func("/qubes/normalize", test_normalize);
    g_test_add_func("/qubes/errors-and-quote", test_errors_and_quote);
    g_test_add_func("/qubes/docs", test_docs_list_every_property);
    return g_test_run();
}
