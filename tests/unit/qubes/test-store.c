/* test-store.c — the store's rules, valid and invalid, through the public
 * API on real SQLite files: the first-run set, properties (types, defaults,
 * inheritance, reset), names, templates, netvms and loops, removal with
 * dependants, dom0, disposables, clones, tags, atomicity of failed changes
 * (including a failure injected inside the SQL), several handles on one
 * file, and files that are not stores or are too new. */
#include "bulkhead/store.h"
#include "testlib.h"

#include <string.h>
#include <sys/stat.h>

typedef struct {
    BhTestDir *dir;
    char *path;
    BhStore *store;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->dir = bh_test_dir_new();
    f->path = bh_test_dir_file(f->dir, "bulkhead/qubes.db");
    f->store = bh_test_open(f->path);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    bh_store_close(f->store);
    g_free(f->path);
    bh_test_dir_free(f->dir);
}

#define TEST(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

static char *prop(BhStore *s, const char *qube, const char *name, gboolean *is_default)
{
    g_autoptr(GError) error = NULL;
    char *value = NULL;

    g_assert_true(bh_store_get_property(s, qube, name, &value, is_default, &error));
    g_assert_no_error(error);
    return value;
}

static void assert_prop(BhStore *s, const char *qube, const char *name, const char *want,
                        gboolean want_default)
{
    gboolean is_default = !want_default;
    g_autofree char *value = prop(s, qube, name, &is_default);

    g_assert_cmpstr(value, ==, want);
    if (is_default != want_default)
        g_error("%s %s: is_default is %d, expected %d", qube, name, is_default, want_default);
}

static void assert_global(BhStore *s, const char *name, const char *want, gboolean want_default)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    gboolean is_default = !want_default;

    g_assert_true(bh_store_get_global(s, name, &value, &is_default, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, want);
    g_assert_cmpint(is_default, ==, want_default);
}

static void set_ok(BhStore *s, const char *qube, const char *name, const char *value)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(bh_store_set_property(s, qube, name, value, &error));
    g_assert_no_error(error);
}

static void global_ok(BhStore *s, const char *name, const char *value)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(bh_store_set_global(s, name, value, &error));
    g_assert_no_error(error);
}

static int create_ok(BhStore *s, BhQubeClass klass, const char *name, const char *label, const char *tmpl,
                     const char *const *props)
{
    g_autoptr(GError) error = NULL;
    int qid = bh_store_create_qube(s, klass, name, label, tmpl, props, &error);

    g_assert_no_error(error);
    g_assert_cmpint(qid, >, 0);
    return qid;
}

static char *default_template(BhStore *s)
{
    g_autoptr(GError) error = NULL;
    char *name = NULL;

    g_assert_true(bh_store_get_global(s, "default_template", &name, NULL, &error));
    return name;
}

static gboolean qube_exists(BhStore *s, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(s, name, &error);

    if (info == NULL)
        g_assert_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NO_SUCH_QUBE);
    return info != NULL;
}

/* ---- first run ---------------------------------------------------------------- */

static void test_first_run(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *name, *label;
    } appvms[] = {{"sys-net", "red"},     {"sys-firewall", "green"}, {"work", "blue"},
                  {"personal", "yellow"}, {"untrusted", "red"},      {"vault", "black"},
                  {"default-dvm", "red"}};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(f->store, &error);
    g_autoptr(GHashTable) qids = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autofree char *tmpl = default_template(f->store);
    g_autofree char *dir = g_path_get_dirname(f->path);
    g_autoptr(BhQubeInfo) dom0 = NULL, t = NULL;
    struct stat st;
    guint i;

    g_assert_no_error(error);
    g_assert_cmpuint(qubes->len, ==, 2 + G_N_ELEMENTS(appvms));
    g_assert_cmpstr(((BhQubeInfo *)qubes->pdata[0])->name, ==, "dom0");
    for (i = 0; i < qubes->len; i++) {
        const BhQubeInfo *q = qubes->pdata[i];
        g_assert_true(g_hash_table_add(qids, GINT_TO_POINTER(q->qid)));
        g_assert_true(g_uuid_string_is_valid(q->uuid));
        g_assert_cmpint(q->qid, >=, 0);
        g_assert_cmpint(q->qid, <=, BH_QID_MAX);
        if (i > 1)
            g_assert_cmpstr(((BhQubeInfo *)qubes->pdata[i - 1])->name, <, q->name);
    }

    dom0 = bh_store_get_qube(f->store, "dom0", &error);
    g_assert_no_error(error);
    g_assert_cmpint(dom0->qid, ==, 0);
    g_assert_cmpint(dom0->klass, ==, BH_CLASS_ADMIN_VM);
    g_assert_cmpstr(dom0->label->name, ==, "black");
    g_assert_cmpstr(dom0->uuid, ==, "00000000-0000-0000-0000-000000000000");
    g_assert_null(dom0->template_name);

    g_assert_true(bh_qube_name_validate(tmpl, NULL));
    t = bh_store_get_qube(f->store, tmpl, &error);
    g_assert_no_error(error);
    g_assert_cmpint(t->klass, ==, BH_CLASS_TEMPLATE_VM);
    g_assert_cmpstr(t->label->name, ==, "black");
    assert_prop(f->store, tmpl, "root_path", "/", FALSE);
    assert_prop(f->store, tmpl, "root_readonly", "True", FALSE);
    assert_prop(f->store, tmpl, "netvm", "", TRUE);

    for (i = 0; i < G_N_ELEMENTS(appvms); i++) {
        g_autoptr(BhQubeInfo) q = bh_store_get_qube(f->store, appvms[i].name, &error);
        g_assert_no_error(error);
        g_assert_cmpint(q->klass, ==, BH_CLASS_APP_VM);
        g_assert_cmpstr(q->label->name, ==, appvms[i].label);
        g_assert_cmpstr(q->template_name, ==, tmpl);
    }
    assert_prop(f->store, "sys-net", "netvm", "", FALSE);
    assert_prop(f->store, "sys-net", "provides_network", "True", FALSE);
    assert_prop(f->store, "sys-firewall", "netvm", "sys-net", FALSE);
    assert_prop(f->store, "sys-firewall", "provides_network", "True", FALSE);
    assert_prop(f->store, "work", "netvm", "sys-firewall", TRUE);
    assert_prop(f->store, "work", "provides_network", "False", TRUE);
    assert_prop(f->store, "untrusted", "netvm", "sys-firewall", TRUE);
    assert_prop(f->store, "vault", "netvm", "", FALSE);
    assert_prop(f->store, "default-dvm", "template_for_dispvms", "True", FALSE);
    assert_prop(f->store, "work", "default_dispvm", "default-dvm", TRUE);

    assert_global(f->store, "default_netvm", "sys-firewall", FALSE);
    assert_global(f->store, "default_dispvm", "default-dvm", FALSE);
    assert_global(f->store, "updatevm", "sys-firewall", FALSE);
    assert_global(f->store, "clockvm", "sys-net", FALSE);
    assert_global(f->store, "clipboard_max_bytes", "64000", TRUE);

    /* The store's directory is private to the user. */
    g_assert_cmpint(stat(dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_assert_cmpstr(bh_store_get_path(f->store), ==, f->path);
}

static void test_reopen(Fixture *f, gconstpointer data)
{
    g_autoptr(BhStore) again = NULL;
    g_autoptr(GPtrArray) before = NULL, after = NULL;
    g_autofree char *dump = NULL, *dump2 = NULL;

    set_ok(f->store, "work", "memory", "1234");
    before = bh_store_list_qubes(f->store, NULL);
    bh_store_close(f->store);
    dump = bh_test_dump(f->path);
    f->store = bh_test_open(f->path);
    again = bh_test_open(f->path);
    dump2 = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, dump2);
    after = bh_store_list_qubes(again, NULL);
    g_assert_cmpuint(before->len, ==, after->len);
    assert_prop(again, "work", "memory", "1234", FALSE);
    g_assert_true(strstr(dump, "== meta") != NULL);
}

static void test_default_path(void)
{
    g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL;

    g_setenv("XDG_DATA_HOME", "/somewhere/data", TRUE);
    g_unsetenv("BH_STORE_PATH");
    p1 = bh_store_default_path();
    g_assert_cmpstr(p1, ==, "/somewhere/data/bulkhead/qubes.db");
    g_setenv("XDG_DATA_HOME", "relative/data", TRUE);
    p2 = bh_store_default_path();
    g_assert_true(g_str_has_prefix(p2, g_get_home_dir()));
    g_assert_true(g_str_has_suffix(p2, "/.local/share/bulkhead/qubes.db"));
    g_setenv("BH_STORE_PATH", "/tmp/other.db", TRUE);
    p3 = bh_store_default_path();
    g_assert_cmpstr(p3, ==, "/tmp/other.db");
    g_unsetenv("BH_STORE_PATH");
    g_unsetenv("XDG_DATA_HOME");
}

static void test_open_null_path(void)
{
    g_autoptr(BhTestDir) tmp = bh_test_dir_new();
    g_autofree char *data = bh_test_dir_file(tmp, "xdg");
    g_autofree char *expect = g_build_filename(data, "bulkhead", "qubes.db", NULL);
    g_autoptr(BhStore) s = NULL;

    g_setenv("XDG_DATA_HOME", data, TRUE);
    s = bh_test_open(NULL);
    g_assert_cmpstr(bh_store_get_path(s), ==, expect);
    g_assert_true(g_file_test(expect, G_FILE_TEST_IS_REGULAR));
    g_unsetenv("XDG_DATA_HOME");
}

/* ---- properties ------------------------------------------------------------------ */

static void test_inheritance(Fixture *f, gconstpointer data)
{
    g_autofree char *tmpl = default_template(f->store);
    g_autoptr(GError) error = NULL;

    assert_prop(f->store, "work", "memory", "400", TRUE);
    assert_prop(f->store, "work", "vcpus", "2", TRUE);
    assert_prop(f->store, "work", "kernel", "", TRUE);
    set_ok(f->store, tmpl, "memory", "1000");
    set_ok(f->store, tmpl, "vcpus", "4");
    set_ok(f->store, tmpl, "kernel", "6.1.0-13");
    assert_prop(f->store, tmpl, "memory", "1000", FALSE);
    assert_prop(f->store, "work", "memory", "1000", TRUE);
    assert_prop(f->store, "work", "vcpus", "4", TRUE);
    assert_prop(f->store, "work", "kernel", "6.1.0-13", TRUE);
    set_ok(f->store, "work", "memory", "2000");
    assert_prop(f->store, "work", "memory", "2000", FALSE);
    assert_prop(f->store, "personal", "memory", "1000", TRUE);
    g_assert_true(bh_store_reset_property(f->store, "work", "memory", &error));
    g_assert_no_error(error);
    assert_prop(f->store, "work", "memory", "1000", TRUE);
    /* Not inherited: virt_mode and autostart keep their own defaults. */
    set_ok(f->store, tmpl, "virt_mode", "hvm");
    assert_prop(f->store, "work", "virt_mode", "pvh", TRUE);
    /* Setting a value equal to the default still counts as set. */
    set_ok(f->store, "work", "vcpus", "4");
    assert_prop(f->store, "work", "vcpus", "4", FALSE);
    /* Reset on a value that is already default is fine. */
    g_assert_true(bh_store_reset_property(f->store, "personal", "vcpus", &error));
    g_assert_no_error(error);
}

static void test_property_values(Fixture *f, gconstpointer data)
{
    set_ok(f->store, "work", "autostart", "yes");
    assert_prop(f->store, "work", "autostart", "True", FALSE);
    set_ok(f->store, "work", "label", "purple");
    assert_prop(f->store, "work", "label", "purple", FALSE);
    set_ok(f->store, "work", "virt_mode", "hvm");
    set_ok(f->store, "work", "netvm", "none");
    assert_prop(f->store, "work", "netvm", "", FALSE);
    set_ok(f->store, "work", "netvm", "");
    set_ok(f->store, "work", "default_user", "alice");
    global_ok(f->store, "clipboard_max_bytes", "256000");
    assert_global(f->store, "clipboard_max_bytes", "256000", FALSE);

    bh_assert_fails(bh_store_set_property(f->store, "work", "autostart", "perhaps", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "memory", "31", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "memory", "1e3", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "memory", NULL, BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "vcpus", "0", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "label", "pink", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "virt_mode", "kvm", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "default_user", "a\nb", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "netvm", "no-such-qube", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_QUBE);
    bh_assert_fails(bh_store_set_global(f->store, "clipboard_max_bytes", "256001", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_global(f->store, "clipboard_max_bytes", "0", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_global(f->store, "no_such_global", "1", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_PROPERTY);
    bh_assert_fails(bh_store_set_global(f->store, "clockvm", NULL, BH_ERR), BH_QUBES_ERROR_INVALID_VALUE);

    /* Read-only and not-applicable properties. */
    bh_assert_fails(bh_store_set_property(f->store, "work", "qid", "77", BH_ERR), BH_QUBES_ERROR_READ_ONLY);
    bh_assert_fails(bh_store_set_property(f->store, "work", "uuid", "x", BH_ERR), BH_QUBES_ERROR_READ_ONLY);
    bh_assert_fails(bh_store_set_property(f->store, "work", "class", "TemplateVM", BH_ERR),
                    BH_QUBES_ERROR_READ_ONLY);
    bh_assert_fails(bh_store_reset_property(f->store, "work", "qid", BH_ERR), BH_QUBES_ERROR_READ_ONLY);
    bh_assert_fails(bh_store_reset_property(f->store, "work", "name", BH_ERR), BH_QUBES_ERROR_READ_ONLY);
    bh_assert_fails(bh_store_set_property(f->store, "dom0", "netvm", "sys-net", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_PROPERTY);
    bh_assert_fails(bh_store_set_property(f->store, "work", "root_path", "/", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_PROPERTY);
    bh_assert_fails(bh_store_set_property(f->store, "work", "frobnicate", "1", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_PROPERTY);
    bh_assert_fails(bh_store_set_property(f->store, "nobody", "memory", "400", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_QUBE);
    bh_assert_fails(bh_store_get_property(f->store, "work", "auto_cleanup", &(char *){NULL}, NULL, BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_PROPERTY);

    /* Properties without a default cannot be reset. */
    bh_assert_fails(bh_store_reset_property(f->store, "work", "label", BH_ERR), BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_reset_property(f->store, "work", "template", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "template", "none", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);

    /* Read-only values read fine. */
    assert_prop(f->store, "dom0", "qid", "0", FALSE);
    assert_prop(f->store, "dom0", "class", "AdminVM", FALSE);
    assert_prop(f->store, "work", "name", "work", FALSE);
}

/* notes: free text of several lines, kept exactly across a reopen; what is
 * not text (other control characters, bad UTF-8, over the limit) is refused
 * with the reason and the old notes stay. Other strings still refuse a
 * newline (the control: the rule is per property). */
static void test_notes(Fixture *f, gconstpointer data)
{
    const char *text = "Bank and tax papers.\n\tOpen only from the vault's own terminal.\nÜbersicht: ✓\n";
    g_autofree char *big = g_strnfill(BH_NOTES_MAX, 'x');
    g_autofree char *over = g_strnfill(BH_NOTES_MAX + 1, 'x');

    assert_prop(f->store, "vault", "notes", "", TRUE);
    set_ok(f->store, "vault", "notes", text);
    bh_store_close(f->store);
    f->store = bh_test_open(f->path);
    assert_prop(f->store, "vault", "notes", text, FALSE);
    set_ok(f->store, "work", "notes", big);
    assert_prop(f->store, "work", "notes", big, FALSE);
    bh_assert_fails_msg(bh_store_set_property(f->store, "vault", "notes", over, BH_ERR),
                        BH_QUBES_ERROR_INVALID_VALUE, "at most 16384 bytes (it has 16385)");
    bh_assert_fails_msg(bh_store_set_property(f->store, "vault", "notes", "a\x1b]0;title\a", BH_ERR),
                        BH_QUBES_ERROR_INVALID_VALUE, "other than newlines and tabs");
    bh_assert_fails(bh_store_set_property(f->store, "vault", "notes", "a\rb", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "vault", "notes", "bad \xc3\x28 utf-8", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_property(f->store, "dom0", "notes", "x", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_PROPERTY);
    assert_prop(f->store, "vault", "notes", text, FALSE);
    bh_assert_fails(bh_store_set_property(f->store, "vault", "default_user", "a\nb", BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    set_ok(f->store, "vault", "notes", "");
    assert_prop(f->store, "vault", "notes", "", FALSE);
    g_assert_true(bh_store_reset_property(f->store, "vault", "notes", NULL));
    assert_prop(f->store, "vault", "notes", "", TRUE);
}

static void test_list_properties(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) work = bh_store_list_properties(f->store, "work", &error);
    g_autoptr(GPtrArray) dom0 = bh_store_list_properties(f->store, "dom0", &error);
    g_autoptr(GPtrArray) globals = bh_store_list_globals(f->store, &error);
    gsize n_props, n_globals, i;
    const BhPropDef *defs = bh_props(&n_props);
    guint j = 0;

    g_assert_no_error(error);
    bh_globals(&n_globals);
    g_assert_cmpuint(globals->len, ==, n_globals);
    /* Table order, only what the class has. */
    for (i = 0; i < n_props; i++) {
        if (!bh_prop_applies(&defs[i], BH_CLASS_APP_VM))
            continue;
        g_assert_true(((BhPropValue *)work->pdata[j])->def == &defs[i]);
        j++;
    }
    g_assert_cmpuint(work->len, ==, j);
    for (i = 0; i < work->len; i++) {
        const BhPropValue *v = work->pdata[i];
        if (strcmp(v->def->name, "netvm") == 0) {
            g_assert_cmpstr(v->value, ==, "sys-firewall");
            g_assert_true(v->is_default);
            g_assert_true(v->has_default);
        }
        if (strcmp(v->def->name, "label") == 0) {
            g_assert_cmpstr(v->value, ==, "blue");
            g_assert_false(v->is_default);
            g_assert_false(v->has_default);
        }
    }
    for (i = 0; i < dom0->len; i++)
        g_assert_true(bh_prop_applies(((BhPropValue *)dom0->pdata[i])->def, BH_CLASS_ADMIN_VM));
    g_assert_cmpuint(dom0->len, <, work->len);
}

/* ---- names -------------------------------------------------------------------------- */

static void test_names(Fixture *f, gconstpointer data)
{
    static const char *const bad[] = {"",
                                      "1abc",
                                      "-abc",
                                      "wörk",
                                      "a\nb",
                                      "a\tb",
                                      "a\x7f",
                                      "a b",
                                      "a/b",
                                      "dom0",
                                      "none",
                                      "default",
                                      "x-dm",
                                      "\xe2\x80\x8bwork",
                                      "x2345678901234567890123456789012"};
    const char *longest = "x234567890123456789012345678901";
    g_autofree char *dump = NULL, *dump2 = NULL;
    guint i;

    create_ok(f->store, BH_CLASS_APP_VM, longest, "red", NULL, NULL);
    g_assert_true(qube_exists(f->store, longest));
    create_ok(f->store, BH_CLASS_APP_VM, "Work", "red", NULL, NULL); /* names are case-sensitive */
    dump = bh_test_dump(f->path);
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, bad[i], "red", NULL, NULL, BH_ERR) >=
                            0,
                        BH_QUBES_ERROR_INVALID_NAME);
        bh_assert_fails(bh_store_rename_qube(f->store, "work", bad[i], BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
        bh_assert_fails(bh_store_clone_qube(f->store, "work", bad[i], BH_ERR) >= 0,
                        BH_QUBES_ERROR_INVALID_NAME);
    }
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, NULL, "red", NULL, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "work", "red", NULL, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_NAME_IN_USE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, longest, "red", NULL, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_NAME_IN_USE);
    bh_assert_fails(bh_store_rename_qube(f->store, "work", "personal", BH_ERR), BH_QUBES_ERROR_NAME_IN_USE);
    bh_assert_fails(bh_store_clone_qube(f->store, "work", "vault", BH_ERR) >= 0, BH_QUBES_ERROR_NAME_IN_USE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "name", "personal", BH_ERR),
                    BH_QUBES_ERROR_NAME_IN_USE);
    dump2 = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, dump2);
}

static void test_rename(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) before = bh_store_get_qube(f->store, "sys-firewall", NULL);
    g_autoptr(BhQubeInfo) after = NULL;

    g_assert_true(bh_store_rename_qube(f->store, "sys-firewall", "fw", &error));
    g_assert_no_error(error);
    g_assert_false(qube_exists(f->store, "sys-firewall"));
    after = bh_store_get_qube(f->store, "fw", &error);
    g_assert_cmpint(after->qid, ==, before->qid);
    g_assert_cmpstr(after->uuid, ==, before->uuid);
    /* References follow the rename. */
    assert_prop(f->store, "work", "netvm", "fw", TRUE);
    assert_global(f->store, "default_netvm", "fw", FALSE);
    assert_global(f->store, "updatevm", "fw", FALSE);
    /* Through the name property too, as qvm-prefs does it; same name is a no-op. */
    set_ok(f->store, "fw", "name", "sys-firewall");
    set_ok(f->store, "sys-firewall", "name", "sys-firewall");
    assert_prop(f->store, "work", "netvm", "sys-firewall", TRUE);
    create_ok(f->store, BH_CLASS_APP_VM, "fw", "red", NULL, NULL);
    bh_assert_fails(bh_store_rename_qube(f->store, "dom0", "admin", BH_ERR), BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_set_property(f->store, "dom0", "name", "admin", BH_ERR),
                    BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_rename_qube(f->store, "nobody", "x", BH_ERR), BH_QUBES_ERROR_NO_SUCH_QUBE);
    bh_assert_fails(bh_store_rename_qube(f->store, "work", "dom0", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
}

/* ---- templates ------------------------------------------------------------------------- */

static void test_templates(Fixture *f, gconstpointer data)
{
    static const char *const fedora_props[] = {"memory", "800", NULL};
    g_autofree char *tmpl = default_template(f->store);
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) app = NULL;

    /* Valid: a second template, an AppVM on it, moving work over. */
    create_ok(f->store, BH_CLASS_TEMPLATE_VM, "fedora-40", "gray", NULL, fedora_props);
    create_ok(f->store, BH_CLASS_APP_VM, "app", "orange", "fedora-40", NULL);
    app = bh_store_get_qube(f->store, "app", &error);
    g_assert_cmpstr(app->template_name, ==, "fedora-40");
    assert_prop(f->store, "app", "memory", "800", TRUE);
    set_ok(f->store, "work", "template", "fedora-40");
    assert_prop(f->store, "work", "memory", "800", TRUE);
    /* Created without a template: the global default. */
    create_ok(f->store, BH_CLASS_APP_VM, "app2", "orange", NULL, NULL);
    assert_prop(f->store, "app2", "template", tmpl, FALSE);
    global_ok(f->store, "default_template", "fedora-40");
    create_ok(f->store, BH_CLASS_APP_VM, "app3", "orange", NULL, NULL);
    assert_prop(f->store, "app3", "template", "fedora-40", FALSE);
    create_ok(f->store, BH_CLASS_STANDALONE_VM, "solo", "purple", NULL, NULL);

    /* Invalid: a template that is not a TemplateVM. */
    bh_assert_fails_msg(bh_store_set_property(f->store, "work", "template", "personal", BH_ERR),
                        BH_QUBES_ERROR_NOT_A_TEMPLATE,
                        "the template of work must be a TemplateVM; personal is an AppVM");
    bh_assert_fails(bh_store_set_property(f->store, "work", "template", "dom0", BH_ERR),
                    BH_QUBES_ERROR_NOT_A_TEMPLATE);
    bh_assert_fails(bh_store_set_property(f->store, "work", "template", "solo", BH_ERR),
                    BH_QUBES_ERROR_NOT_A_TEMPLATE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", "red", "work", NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_NOT_A_TEMPLATE);
    bh_assert_fails(bh_store_set_global(f->store, "default_template", "work", BH_ERR),
                    BH_QUBES_ERROR_NOT_A_TEMPLATE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_TEMPLATE_VM, "x", "red", tmpl, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", NULL, NULL, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", "red", "nobody", NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_NO_SUCH_QUBE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_ADMIN_VM, "x", "red", NULL, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_COUNT, "x", "red", NULL, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_INVALID_VALUE);
    /* No default template at all. */
    g_assert_true(bh_store_reset_global(f->store, "default_template", &error));
    g_assert_no_error(error);
    bh_assert_fails_msg(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", "red", NULL, NULL, BH_ERR) >= 0,
                        BH_QUBES_ERROR_INVALID_VALUE, "default_template");
    /* Extra properties are applied in the same transaction and checked. */
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", "red", tmpl,
                                         (const char *const[]){"memory", "1", NULL}, BH_ERR) >= 0,
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", "red", tmpl,
                                         (const char *const[]){"memory", NULL}, BH_ERR) >= 0,
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", "red", tmpl,
                                         (const char *const[]){"qid", "5", NULL}, BH_ERR) >= 0,
                    BH_QUBES_ERROR_READ_ONLY);
    g_assert_false(qube_exists(f->store, "x"));
}

/* ---- network ---------------------------------------------------------------------------- */

static void test_netvm_rules(Fixture *f, gconstpointer data)
{
    static const char *const provider[] = {"provides_network", "True", "netvm", "sys-net", NULL};
    g_autofree char *tmpl = default_template(f->store);

    /* Valid. */
    set_ok(f->store, "work", "netvm", "sys-net");
    set_ok(f->store, "work", "netvm", "none");
    create_ok(f->store, BH_CLASS_APP_VM, "sys-vpn", "orange", NULL, provider);
    set_ok(f->store, "work", "netvm", "sys-vpn");
    global_ok(f->store, "default_netvm", "sys-vpn");
    assert_prop(f->store, "personal", "netvm", "sys-vpn", TRUE);
    global_ok(f->store, "default_netvm", "none");
    assert_prop(f->store, "personal", "netvm", "", TRUE);
    global_ok(f->store, "default_netvm", "sys-firewall");

    /* Invalid: a netvm that provides no network. */
    bh_assert_fails_msg(bh_store_set_property(f->store, "work", "netvm", "personal", BH_ERR),
                        BH_QUBES_ERROR_NOT_NETWORK_PROVIDER, "personal does not provide network");
    bh_assert_fails_msg(
        bh_store_set_property(f->store, "work", "netvm", "dom0", BH_ERR), BH_QUBES_ERROR_NOT_NETWORK_PROVIDER,
        "dom0 is an AdminVM, which cannot provide network, so it cannot be the netvm of work");
    bh_assert_fails(bh_store_set_property(f->store, "work", "netvm", tmpl, BH_ERR),
                    BH_QUBES_ERROR_NOT_NETWORK_PROVIDER);
    bh_assert_fails_msg(bh_store_set_global(f->store, "default_netvm", "work", BH_ERR),
                        BH_QUBES_ERROR_NOT_NETWORK_PROVIDER, "default_netvm");
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "x", "red", NULL,
                                         (const char *const[]){"netvm", "vault", NULL}, BH_ERR) >= 0,
                    BH_QUBES_ERROR_NOT_NETWORK_PROVIDER);
    bh_assert_fails(bh_store_set_global(f->store, "updatevm", "dom0", BH_ERR), BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(bh_store_set_global(f->store, "clockvm", "dom0", BH_ERR), BH_QUBES_ERROR_INVALID_VALUE);
    global_ok(f->store, "clockvm", "none");
}

static void test_provides_network_off(Fixture *f, gconstpointer data)
{
    static const char *const provider[] = {"provides_network", "True", NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *dump = bh_test_dump(f->path);
    g_autofree char *dump2 = NULL;

    bh_assert_fails_msg(bh_store_set_property(f->store, "sys-firewall", "provides_network", "False", BH_ERR),
                        BH_QUBES_ERROR_IN_USE,
                        "cannot turn off provides_network of sys-firewall: it is the global default_netvm; "
                        "change those first (qubes-prefs default_netvm <another qube>)");
    bh_assert_fails_msg(bh_store_reset_property(f->store, "sys-firewall", "provides_network", BH_ERR),
                        BH_QUBES_ERROR_IN_USE, "global default_netvm");
    bh_assert_fails_msg(bh_store_set_property(f->store, "sys-net", "provides_network", "False", BH_ERR),
                        BH_QUBES_ERROR_IN_USE, "it is the netvm of sys-firewall; change those first");
    set_ok(f->store, "work", "netvm", "sys-firewall");
    set_ok(f->store, "vault", "netvm", "sys-firewall");
    bh_assert_fails_msg(bh_store_set_property(f->store, "sys-firewall", "provides_network", "False", BH_ERR),
                        BH_QUBES_ERROR_IN_USE,
                        "it is the netvm of vault, work; the global default_netvm; change those first "
                        "(qvm-prefs vault netvm <another qube>)");
    g_assert_true(bh_store_reset_property(f->store, "work", "netvm", NULL));
    set_ok(f->store, "vault", "netvm", "none");
    dump2 = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, dump2);

    create_ok(f->store, BH_CLASS_APP_VM, "net2", "red", NULL, provider);
    set_ok(f->store, "net2", "netvm", "sys-net");
    global_ok(f->store, "default_netvm", "net2");
    set_ok(f->store, "sys-firewall", "provides_network", "False"); /* nobody uses it now... */
    bh_assert_fails(bh_store_set_property(f->store, "sys-firewall", "netvm", "sys-firewall", BH_ERR),
                    BH_QUBES_ERROR_NOT_NETWORK_PROVIDER);
    set_ok(f->store, "sys-firewall", "provides_network", "True");
    global_ok(f->store, "default_netvm", "sys-firewall");
    /* Unused provider: off is fine. */
    set_ok(f->store, "net2", "provides_network", "False");
    g_assert_true(bh_store_reset_property(f->store, "net2", "provides_network", &error));
    g_assert_no_error(error);
}

static void test_loops(Fixture *f, gconstpointer data)
{
    static const char *const provider[] = {"provides_network", "True", NULL};
    g_autofree char *dump = NULL, *dump2 = NULL;
    char name[8], prev[8];
    int i;

    /* Length 1. */
    bh_assert_fails_msg(bh_store_set_property(f->store, "sys-firewall", "netvm", "sys-firewall", BH_ERR),
                        BH_QUBES_ERROR_NETWORK_LOOP, "sys-firewall -> sys-firewall");
    /* Length 2. */
    bh_assert_fails_msg(bh_store_set_property(f->store, "sys-net", "netvm", "sys-firewall", BH_ERR),
                        BH_QUBES_ERROR_NETWORK_LOOP, "sys-net -> sys-firewall -> sys-net");
    /* Length 5: net1 ← net2 ← … ← net5, then net1's netvm = net5. */
    for (i = 1; i <= 5; i++) {
        g_snprintf(name, sizeof name, "net%d", i);
        create_ok(f->store, BH_CLASS_APP_VM, name, "orange", NULL, provider);
        set_ok(f->store, name, "netvm", i == 1 ? "none" : prev);
        memcpy(prev, name, sizeof prev);
    }
    assert_prop(f->store, "net5", "netvm", "net4", FALSE);
    dump = bh_test_dump(f->path);
    bh_assert_fails_msg(bh_store_set_property(f->store, "net1", "netvm", "net5", BH_ERR),
                        BH_QUBES_ERROR_NETWORK_LOOP, "net1 -> net5 -> net4 -> net3 -> net2 -> net1");
    dump2 = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, dump2);
    /* Through default_netvm. Length 1: the default netvm uses the default. */
    bh_assert_fails_msg(
        bh_store_reset_property(f->store, "sys-firewall", "netvm", BH_ERR), BH_QUBES_ERROR_NETWORK_LOOP,
        "netvm loop: sys-firewall -> sys-firewall (sys-firewall uses the global default_netvm)");
    /* Length 1 from the other side: net1 uses the default, then becomes it. */
    g_assert_true(bh_store_reset_property(f->store, "net1", "netvm", NULL));
    assert_prop(f->store, "net1", "netvm", "sys-firewall", TRUE);
    bh_assert_fails_msg(bh_store_set_global(f->store, "default_netvm", "net1", BH_ERR),
                        BH_QUBES_ERROR_NETWORK_LOOP, "net1 -> net1");
    /* Length 2: sys-net on the default (sys-firewall), which uses sys-net. */
    bh_assert_fails_msg(bh_store_reset_property(f->store, "sys-net", "netvm", BH_ERR),
                        BH_QUBES_ERROR_NETWORK_LOOP, "sys-net -> sys-firewall -> sys-net");
    /* Length 5 through the default: default_netvm = net5 while net1 uses the default. */
    bh_assert_fails_msg(bh_store_set_global(f->store, "default_netvm", "net5", BH_ERR),
                        BH_QUBES_ERROR_NETWORK_LOOP, "net5 -> net4 -> net3 -> net2 -> net1 -> net5");
    /* Through a disposable's template: a named disposable providing network,
     * whose netvm follows its template's, becomes that template's netvm. */
    create_ok(f->store, BH_CLASS_APP_VM, "dvm-net", "red", NULL,
              (const char *const[]){"template_for_dispvms", "True", "netvm", "sys-net", NULL});
    create_ok(f->store, BH_CLASS_DISP_VM, "netdisp", NULL, "dvm-net",
              (const char *const[]){"provides_network", "True", NULL});
    assert_prop(f->store, "netdisp", "netvm", "sys-net", TRUE);
    bh_assert_fails_msg(bh_store_set_property(f->store, "dvm-net", "netvm", "netdisp", BH_ERR),
                        BH_QUBES_ERROR_NETWORK_LOOP,
                        "netdisp -> netdisp (netdisp follows its template's netvm)");
    /* A chain is fine once it ends. */
    set_ok(f->store, "net1", "netvm", "sys-net");
    global_ok(f->store, "default_netvm", "net5");
    assert_prop(f->store, "work", "netvm", "net5", TRUE);
}

/* ---- removal -------------------------------------------------------------------------- */

static void test_remove(Fixture *f, gconstpointer data)
{
    static const char *const self_ref[] = {"template_for_dispvms", "True", "default_dispvm", "dvm2", NULL};
    g_autofree char *tmpl = default_template(f->store);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) deps = NULL;
    g_autofree char *dump = bh_test_dump(f->path);
    g_autofree char *dump2 = NULL;
    const BhDependant *d;

    deps = bh_store_list_dependants(f->store, "sys-net", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(deps->len, ==, 2);
    d = deps->pdata[0];
    g_assert_cmpstr(d->qube, ==, "sys-firewall");
    g_assert_cmpstr(d->prop, ==, "netvm");
    d = deps->pdata[1];
    g_assert_null(d->qube);
    g_assert_cmpstr(d->prop, ==, "clockvm");

    bh_assert_fails_msg(bh_store_remove_qube(f->store, "sys-net", BH_ERR), BH_QUBES_ERROR_IN_USE,
                        "cannot remove 'sys-net': it is the netvm of sys-firewall; the global clockvm");
    bh_assert_fails_msg(bh_store_remove_qube(f->store, "sys-firewall", BH_ERR), BH_QUBES_ERROR_IN_USE,
                        "the global default_netvm, updatevm");
    bh_assert_fails_msg(bh_store_remove_qube(f->store, tmpl, BH_ERR), BH_QUBES_ERROR_IN_USE,
                        "the template of");
    bh_assert_fails_msg(bh_store_remove_qube(f->store, "default-dvm", BH_ERR), BH_QUBES_ERROR_IN_USE,
                        "default_dispvm");
    bh_assert_fails(bh_store_remove_qube(f->store, "dom0", BH_ERR), BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_remove_qube(f->store, "nobody", BH_ERR), BH_QUBES_ERROR_NO_SUCH_QUBE);
    dump2 = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, dump2);

    /* Used as explicit netvm / default_dispvm by a qube: named. */
    set_ok(f->store, "work", "netvm", "sys-net");
    bh_assert_fails_msg(bh_store_remove_qube(f->store, "sys-net", BH_ERR), BH_QUBES_ERROR_IN_USE,
                        "the netvm of sys-firewall, work");
    create_ok(f->store, BH_CLASS_APP_VM, "dvm2", "red", NULL, self_ref);
    set_ok(f->store, "personal", "default_dispvm", "dvm2");
    bh_assert_fails_msg(bh_store_remove_qube(f->store, "dvm2", BH_ERR), BH_QUBES_ERROR_IN_USE,
                        "the default_dispvm of personal");
    /* A reference to itself does not keep a qube. */
    g_assert_true(bh_store_reset_property(f->store, "personal", "default_dispvm", NULL));
    g_assert_true(bh_store_remove_qube(f->store, "dvm2", &error));
    g_assert_no_error(error);

    /* Unused: gone, with its properties and tags. */
    g_assert_true(bh_store_add_tag(f->store, "untrusted", "t1", NULL));
    set_ok(f->store, "untrusted", "memory", "999");
    g_free(dump);
    dump = bh_test_dump(f->path);
    /* The checks below would see them while the qube exists. */
    g_assert_true(strstr(dump, "|999|") || strstr(dump, "|999\n"));
    g_assert_true(strstr(dump, "|t1|") || strstr(dump, "|t1\n"));
    g_assert_true(bh_store_remove_qube(f->store, "untrusted", &error));
    g_assert_no_error(error);
    g_assert_false(qube_exists(f->store, "untrusted"));
    g_free(dump);
    dump = bh_test_dump(f->path);
    /* Whole fields only: "999" may well occur inside a random uuid. */
    g_assert_null(strstr(dump, "|999|"));
    g_assert_null(strstr(dump, "|999\n"));
    g_assert_null(strstr(dump, "|t1|"));
    g_assert_null(strstr(dump, "|t1\n"));
    /* After the globals move away, the netvm chain can go bottom-up. */
    global_ok(f->store, "clockvm", "none");
    g_assert_true(bh_store_reset_property(f->store, "work", "netvm", NULL));
    global_ok(f->store, "default_netvm", "none");
    global_ok(f->store, "updatevm", "none");
    g_assert_true(bh_store_remove_qube(f->store, "sys-firewall", &error));
    g_assert_no_error(error);
    g_assert_true(bh_store_remove_qube(f->store, "sys-net", &error));
    g_assert_no_error(error);
    assert_prop(f->store, "work", "netvm", "", TRUE);
}

/* ---- dom0, disposables, clones, tags, qids ------------------------------------------------ */

static void test_dom0(Fixture *f, gconstpointer data)
{
    bh_assert_fails(bh_store_remove_qube(f->store, "dom0", BH_ERR), BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_rename_qube(f->store, "dom0", "dom1", BH_ERR), BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_clone_qube(f->store, "dom0", "dom1", BH_ERR) >= 0, BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_set_property(f->store, "dom0", "memory", "1000", BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_PROPERTY);
    set_ok(f->store, "dom0", "default_dispvm", "none");
    assert_prop(f->store, "dom0", "default_dispvm", "", FALSE);
    bh_assert_fails(bh_store_set_property(f->store, "sys-net", "netvm", "dom0", BH_ERR),
                    BH_QUBES_ERROR_NOT_NETWORK_PROVIDER);
}

static void test_disposables(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = NULL;
    g_autofree char *name = NULL, *expect = NULL;
    int qid = -1;

    name = bh_store_create_disposable(f->store, NULL, &qid, &error);
    g_assert_no_error(error);
    expect = g_strdup_printf("disp%d", qid);
    g_assert_cmpstr(name, ==, expect);
    info = bh_store_get_qube(f->store, name, &error);
    g_assert_cmpint(info->klass, ==, BH_CLASS_DISP_VM);
    g_assert_cmpstr(info->template_name, ==, "default-dvm");
    g_assert_cmpstr(info->label->name, ==, "red");
    assert_prop(f->store, name, "label", "red", TRUE);
    assert_prop(f->store, name, "auto_cleanup", "True", TRUE);
    assert_prop(f->store, name, "include_in_backups", "False", TRUE);
    assert_prop(f->store, name, "netvm", "sys-firewall", TRUE);
    /* A disposable follows its template's label and netvm. */
    set_ok(f->store, "default-dvm", "label", "orange");
    set_ok(f->store, "default-dvm", "netvm", "sys-net");
    set_ok(f->store, "default-dvm", "memory", "1500");
    assert_prop(f->store, name, "label", "orange", TRUE);
    assert_prop(f->store, name, "netvm", "sys-net", TRUE);
    assert_prop(f->store, name, "memory", "1500", TRUE);
    /* The disposable template cannot stop being one while used. */
    set_ok(f->store, "work", "default_dispvm", "default-dvm");
    {
        g_autofree char *msg =
            g_strdup_printf("it is the template of %s; the default_dispvm of work; the global "
                            "default_dispvm; change those first",
                            name);
        bh_assert_fails_msg(
            bh_store_set_property(f->store, "default-dvm", "template_for_dispvms", "False", BH_ERR),
            BH_QUBES_ERROR_IN_USE, msg);
    }
    g_assert_true(bh_store_reset_property(f->store, "work", "default_dispvm", NULL));
    bh_assert_fails(bh_store_clone_qube(f->store, name, "copy", BH_ERR) >= 0, BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails_msg(bh_store_remove_qube(f->store, "default-dvm", BH_ERR), BH_QUBES_ERROR_IN_USE, name);
    g_assert_true(bh_store_remove_qube(f->store, name, &error));
    g_assert_no_error(error);

    /* Not a disposable template. */
    bh_assert_fails(bh_store_create_disposable(f->store, "work", NULL, BH_ERR) != NULL,
                    BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE);
    bh_assert_fails(bh_store_create_qube(f->store, BH_CLASS_DISP_VM, "d1", NULL, "work", NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE);
    bh_assert_fails_msg(
        bh_store_set_property(f->store, "work", "default_dispvm", "personal", BH_ERR),
        BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE,
        "personal is not a disposable template, so it cannot be the default_dispvm of work; turn "
        "on its template_for_dispvms first (qvm-prefs personal template_for_dispvms True)");
    {
        g_autofree char *tmpl = default_template(f->store);
        bh_assert_fails_msg(bh_store_set_property(f->store, "work", "default_dispvm", tmpl, BH_ERR),
                            BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE,
                            "is a TemplateVM, which cannot be a disposable template");
    }
    bh_assert_fails(bh_store_set_global(f->store, "default_dispvm", "work", BH_ERR),
                    BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE);
    /* A named disposable with its own label; the name "dispN" taken by a user. */
    create_ok(f->store, BH_CLASS_DISP_VM, "sys-usb", "purple", NULL, NULL);
    assert_prop(f->store, "sys-usb", "label", "purple", FALSE);
    g_free(name);
    name = bh_store_create_disposable(f->store, "default-dvm", &qid, &error);
    g_assert_no_error(error);
    g_free(expect);
    expect = g_strdup_printf("disp%d", qid + 1);
    create_ok(f->store, BH_CLASS_APP_VM, expect, "red", NULL, NULL);
    g_free(name);
    name = bh_store_create_disposable(f->store, NULL, &qid, &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(name, "disp"));
    g_assert_cmpstr(name, !=, expect);
    /* No default disposable template. */
    set_ok(f->store, "dom0", "default_dispvm", "none");
    g_assert_true(bh_store_set_global(f->store, "default_dispvm", "none", NULL));
    bh_assert_fails_msg(bh_store_create_disposable(f->store, NULL, NULL, BH_ERR) != NULL,
                        BH_QUBES_ERROR_INVALID_VALUE, "default_dispvm");
    assert_prop(f->store, "work", "default_dispvm", "", TRUE);
    /* Now nothing refers to it through defaults, but disposables still do. */
    bh_assert_fails(bh_store_set_property(f->store, "default-dvm", "template_for_dispvms", "False", BH_ERR),
                    BH_QUBES_ERROR_IN_USE);
}

static void test_clone(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) src = NULL, dst = NULL;
    int qid;

    set_ok(f->store, "work", "memory", "3000");
    set_ok(f->store, "work", "netvm", "sys-net");
    g_assert_true(bh_store_add_tag(f->store, "work", "project-x", NULL));
    qid = bh_store_clone_qube(f->store, "work", "work2", &error);
    g_assert_no_error(error);
    src = bh_store_get_qube(f->store, "work", NULL);
    dst = bh_store_get_qube(f->store, "work2", NULL);
    g_assert_cmpint(dst->qid, ==, qid);
    g_assert_cmpint(dst->qid, !=, src->qid);
    g_assert_cmpstr(dst->uuid, !=, src->uuid);
    g_assert_cmpint(dst->klass, ==, src->klass);
    g_assert_true(dst->label == src->label);
    g_assert_cmpstr(dst->template_name, ==, src->template_name);
    g_assert_cmpstrv(dst->tags, src->tags);
    assert_prop(f->store, "work2", "memory", "3000", FALSE);
    assert_prop(f->store, "work2", "netvm", "sys-net", FALSE);
    assert_prop(f->store, "work2", "vcpus", "2", TRUE);
    bh_assert_fails(bh_store_clone_qube(f->store, "nobody", "x", BH_ERR) >= 0, BH_QUBES_ERROR_NO_SUCH_QUBE);
}

static void test_tags(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) tags = NULL;
    g_autoptr(BhQubeInfo) info = NULL;
    char tag[16];
    int i;

    g_assert_true(bh_store_add_tag(f->store, "work", "b-tag", &error));
    g_assert_true(bh_store_add_tag(f->store, "work", "a_tag", &error));
    g_assert_true(bh_store_add_tag(f->store, "work", "a_tag", &error));
    g_assert_no_error(error);
    tags = bh_store_list_tags(f->store, "work", &error);
    g_assert_cmpstrv(tags, ((const char *const[]){"a_tag", "b-tag", NULL}));
    info = bh_store_get_qube(f->store, "work", NULL);
    g_assert_cmpstrv(info->tags, ((const char *const[]){"a_tag", "b-tag", NULL}));
    g_assert_true(bh_store_remove_tag(f->store, "work", "b-tag", &error));
    g_assert_true(bh_store_remove_tag(f->store, "work", "never-there", &error));
    g_assert_no_error(error);
    g_strfreev(tags);
    tags = bh_store_list_tags(f->store, "work", &error);
    g_assert_cmpstrv(tags, ((const char *const[]){"a_tag", NULL}));
    bh_assert_fails(bh_store_add_tag(f->store, "work", "a b", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_add_tag(f->store, "work", "", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_add_tag(f->store, "work", NULL, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_add_tag(f->store, "work", "x\n", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_add_tag(f->store, "nobody", "x", BH_ERR), BH_QUBES_ERROR_NO_SUCH_QUBE);
    bh_assert_fails(bh_store_remove_tag(f->store, "work", "x y", BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    for (i = 1; i < BH_TAGS_PER_QUBE; i++) {
        g_snprintf(tag, sizeof tag, "t%d", i);
        g_assert_true(bh_store_add_tag(f->store, "personal", tag, NULL));
    }
    g_assert_true(bh_store_add_tag(f->store, "personal", "last", NULL));
    bh_assert_fails(bh_store_add_tag(f->store, "personal", "one-too-many", BH_ERR), BH_QUBES_ERROR_LIMIT);
    g_assert_true(bh_store_add_tag(f->store, "personal", "last", NULL));
}

/* Services: on, off and unset, kept across a reopen, copied by a clone and
 * kept by a rename; a name that could not be a file name in the qube, dom0
 * and one over the limit are refused with nothing changed. */
static void test_services(Fixture *f, gconstpointer data)
{
    g_auto(GStrv) list = NULL;
    char name[16];
    int i;

    list = bh_store_list_services(f->store, "work", NULL);
    g_assert_cmpstrv(list, ((const char *const[]){NULL}));
    g_clear_pointer(&list, g_strfreev);
    g_assert_true(bh_store_set_service(f->store, "work", "crond", 1, NULL));
    g_assert_true(bh_store_set_service(f->store, "work", "cups", 0, NULL));
    g_assert_true(bh_store_set_service(f->store, "work", "network-manager", 1, NULL));
    g_assert_true(bh_store_set_service(f->store, "work", "network-manager", -1, NULL));
    g_assert_true(bh_store_set_service(f->store, "work", "never-set", -1, NULL));
    bh_store_close(f->store);
    f->store = bh_test_open(f->path);
    list = bh_store_list_services(f->store, "work", NULL);
    g_assert_cmpstrv(list, ((const char *const[]){"crond=1", "cups=0", NULL}));
    g_clear_pointer(&list, g_strfreev);
    g_assert_true(bh_store_set_service(f->store, "work", "cups", 1, NULL));

    g_assert_cmpint(bh_store_clone_qube(f->store, "work", "work2", NULL), >, 0);
    g_assert_true(bh_store_rename_qube(f->store, "work2", "work3", NULL));
    list = bh_store_list_services(f->store, "work3", NULL);
    g_assert_cmpstrv(list, ((const char *const[]){"crond=1", "cups=1", NULL}));
    g_clear_pointer(&list, g_strfreev);

    bh_assert_fails(bh_store_set_service(f->store, "work", "../etc", 1, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_set_service(f->store, "work", ".hidden", 1, BH_ERR),
                    BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_set_service(f->store, "work", "a/b", 1, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_set_service(f->store, "work", "", 1, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_set_service(f->store, "work", NULL, 1, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_set_service(f->store, "work", "x\n", 1, BH_ERR), BH_QUBES_ERROR_INVALID_NAME);
    bh_assert_fails(bh_store_set_service(f->store, "dom0", "crond", 1, BH_ERR), BH_QUBES_ERROR_PERMISSION);
    bh_assert_fails(bh_store_set_service(f->store, "nobody", "crond", 1, BH_ERR),
                    BH_QUBES_ERROR_NO_SUCH_QUBE);
    for (i = 0; i < BH_SERVICES_PER_QUBE; i++) {
        g_snprintf(name, sizeof name, "s%d", i);
        g_assert_true(bh_store_set_service(f->store, "personal", name, i & 1, NULL));
    }
    bh_assert_fails_msg(bh_store_set_service(f->store, "personal", "one-too-many", 1, BH_ERR),
                        BH_QUBES_ERROR_LIMIT, "unset some first");
    g_assert_true(bh_store_set_service(f->store, "personal", "s0", 1, NULL));
    list = bh_store_list_services(f->store, "work", NULL);
    g_assert_cmpstrv(list, ((const char *const[]){"crond=1", "cups=1", NULL}));
    g_clear_pointer(&list, g_strfreev);

    /* Removing the qube removes its rows (the foreign key's cascade). */
    g_assert_true(bh_store_remove_qube(f->store, "work3", NULL));
    g_autofree char *dump = bh_test_dump(f->path);
    g_assert_nonnull(strstr(dump, "crond"));
    g_auto(GStrv) parts = g_strsplit(dump, "crond", -1);
    g_assert_cmpint(g_strv_length(parts), ==, 2); /* work's only */
}

static void test_qids(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) by_qid = NULL;
    int a, b;

    a = create_ok(f->store, BH_CLASS_APP_VM, "a", "red", NULL, NULL);
    g_assert_true(bh_store_remove_qube(f->store, "a", NULL));
    b = create_ok(f->store, BH_CLASS_APP_VM, "b", "red", NULL, NULL);
    g_assert_cmpint(b, !=, a);
    by_qid = bh_store_get_qube_by_qid(f->store, b, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(by_qid->name, ==, "b");
    bh_assert_fails(bh_store_get_qube_by_qid(f->store, a, BH_ERR) != NULL, BH_QUBES_ERROR_NO_SUCH_QUBE);
    bh_assert_fails(bh_store_get_qube_by_qid(f->store, -1, BH_ERR) != NULL, BH_QUBES_ERROR_NO_SUCH_QUBE);
}

/* The allocator wraps at BH_QID_MAX and reuses only free ids; when none is
 * left, creation fails cleanly. Filled through SQL to keep the test fast. */
static void test_qid_exhaustion(Fixture *f, gconstpointer data)
{
    g_autofree char *sql = g_strdup_printf(
        "WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
        "INSERT INTO qubes(qid, name, class, uuid) SELECT i, 'q' || i, 'StandaloneVM', 'u' || i FROM n; "
        "INSERT INTO props(qid, name, value) SELECT qid, 'label', 'red' FROM qubes WHERE qid >= 100; "
        "UPDATE meta SET value = %d WHERE key = 'next_qid';",
        BH_QID_MAX, BH_QID_MAX);
    g_autofree char *dump = NULL, *dump2 = NULL;
    int qid;

    bh_test_sql(f->path, sql);
    qid = create_ok(f->store, BH_CLASS_STANDALONE_VM, "wrap", "red", NULL, NULL);
    g_assert_cmpint(qid, ==, 9); /* the first free id after the wrap */
    bh_test_sql(f->path, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 99) "
                         "INSERT OR IGNORE INTO qubes(qid, name, class, uuid) "
                         "SELECT i, 'p' || i, 'StandaloneVM', 'v' || i FROM n");
    dump = bh_test_dump(f->path);
    bh_assert_fails(
        bh_store_create_qube(f->store, BH_CLASS_STANDALONE_VM, "full", "red", NULL, NULL, BH_ERR) >= 0,
        BH_QUBES_ERROR_LIMIT);
    dump2 = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, dump2);
}

/* ---- atomicity -------------------------------------------------------------------------- */

/* A failure inside the SQL (after some rows were written) rolls everything
 * back and leaves the handle's view consistent with the file. */
static void test_sql_failure_rolls_back(Fixture *f, gconstpointer data)
{
    g_autofree char *dump = NULL, *dump2 = NULL;

    g_assert_true(bh_store_add_tag(f->store, "work", "boom", NULL));
    set_ok(f->store, "work", "memory", "777");
    bh_test_sql(f->path, "CREATE TRIGGER inject BEFORE INSERT ON tags WHEN NEW.tag = 'boom' "
                         "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
    dump = bh_test_dump(f->path);
    bh_assert_fails_msg(bh_store_clone_qube(f->store, "work", "work-copy", BH_ERR) >= 0, BH_QUBES_ERROR_STORE,
                        "injected failure");
    dump2 = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, dump2);
    g_assert_false(qube_exists(f->store, "work-copy"));
    /* The handle still works and the next change lands. */
    set_ok(f->store, "work", "memory", "778");
    bh_test_sql(f->path, "DROP TRIGGER inject");
    g_assert_cmpint(bh_store_clone_qube(f->store, "work", "work-copy", NULL), >, 0);
    assert_prop(f->store, "work-copy", "memory", "778", FALSE);
}

/* The dry run answers exactly what the create would, for each kind of fault
 * a form can make, and leaves the file byte for byte as it was; the control:
 * the same valid arguments then do create the qube. */
static void test_check_create(Fixture *f, gconstpointer data)
{
    g_autofree char *dump = bh_test_dump(f->path);
    g_autofree char *after = NULL;
    const char *const none[] = {"netvm", "none", NULL};
    const char *const loop_free[] = {"netvm", "sys-firewall", "memory", "800", NULL};
    const char *const bad_memory[] = {"memory", "7", NULL};
    const char *const not_provider[] = {"netvm", "work", NULL};

    bh_assert_fails_msg(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "9lives", "purple", NULL, NULL, BH_ERR),
        BH_QUBES_ERROR_INVALID_NAME, "letter first");
    bh_assert_fails(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "work", "purple", NULL, NULL, BH_ERR),
        BH_QUBES_ERROR_NAME_IN_USE);
    bh_assert_fails(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "p", "purple", "work", NULL, BH_ERR),
        BH_QUBES_ERROR_NOT_A_TEMPLATE);
    bh_assert_fails(bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "p", "mauve", NULL, NULL, BH_ERR),
                    BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "p", "purple", NULL, bad_memory, BH_ERR),
        BH_QUBES_ERROR_INVALID_VALUE);
    bh_assert_fails(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "p", "purple", NULL, not_provider, BH_ERR),
        BH_QUBES_ERROR_NOT_NETWORK_PROVIDER);
    g_assert_true(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "project-x", "purple", NULL, none, NULL));
    g_assert_true(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "project-y", "green", NULL, loop_free, NULL));
    after = bh_test_dump(f->path);
    g_assert_cmpstr(dump, ==, after);
    g_assert_false(qube_exists(f->store, "project-x"));

    create_ok(f->store, BH_CLASS_APP_VM, "project-x", "purple", NULL, none);
    assert_prop(f->store, "project-x", "netvm", "", FALSE);
    /* Now the name is taken, and the dry run says so. */
    bh_assert_fails(
        bh_store_check_create_qube(f->store, BH_CLASS_APP_VM, "project-x", "purple", NULL, none, BH_ERR),
        BH_QUBES_ERROR_NAME_IN_USE);
}

/* Two handles on one file (as two processes would have): each sees the
 * other's commits, and rules are checked against the latest state. */
static void test_two_handles(Fixture *f, gconstpointer data)
{
    static const char *const provider[] = {"provides_network", "True", NULL};
    g_autoptr(BhStore) other = bh_test_open(f->path);

    assert_prop(other, "work", "memory", "400", TRUE);
    set_ok(f->store, "work", "memory", "512");
    assert_prop(other, "work", "memory", "512", FALSE);
    create_ok(other, BH_CLASS_APP_VM, "p", "red", NULL, provider);
    set_ok(f->store, "work", "netvm", "p");
    /* `other` must see that p is in use before turning it off. */
    bh_assert_fails(bh_store_set_property(other, "p", "provides_network", "False", BH_ERR),
                    BH_QUBES_ERROR_IN_USE);
    bh_assert_fails(bh_store_create_qube(other, BH_CLASS_APP_VM, "p", "red", NULL, NULL, BH_ERR) >= 0,
                    BH_QUBES_ERROR_NAME_IN_USE);
}

/* ---- files that are not (our) stores ---------------------------------------------------- */

static void test_bad_files(void)
{
    g_autoptr(BhTestDir) tmp = bh_test_dir_new();
    g_autofree char *dir = bh_test_dir_file(tmp, "bad");
    g_autofree char *garbage = g_build_filename(dir, "garbage.db", NULL);
    g_autofree char *foreign = g_build_filename(dir, "foreign.db", NULL);
    g_autofree char *newer = g_build_filename(dir, "newer.db", NULL);
    g_autofree char *wal = g_strconcat(newer, "-wal", NULL);
    g_autofree char *under_file = g_build_filename(garbage, "sub", "x.db", NULL);
    g_autofree char *before = NULL, *after = NULL;
    g_autoptr(BhStore) s = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(garbage,
                                      "this is not a database, just some text that is long enough "
                                      "to fill a header of one hundred bytes.......................",
                                      -1, NULL));
    bh_assert_fails_msg(bh_store_open(garbage, BH_ERR) != NULL, BH_QUBES_ERROR_STORE, "not a Bulkhead store");
    bh_assert_fails(bh_store_open(under_file, BH_ERR) != NULL, BH_QUBES_ERROR_STORE);

    bh_test_sql(foreign, "CREATE TABLE notes (x TEXT)"); /* raw_open needs the file */
    bh_assert_fails_msg(bh_store_open(foreign, BH_ERR) != NULL, BH_QUBES_ERROR_STORE, "not a Bulkhead store");

    /* A newer store in rollback-journal mode stays in it: untouched. */
    s = bh_test_open(newer);
    bh_store_close(g_steal_pointer(&s));
    bh_test_sql(newer, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99");
    before = bh_test_dump(newer);
    bh_assert_fails_msg(bh_store_open(newer, BH_ERR) != NULL, BH_QUBES_ERROR_TOO_NEW, "newer Bulkhead");
    after = bh_test_dump(newer);
    g_assert_cmpstr(before, ==, after);
    g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
    {
        g_autofree char *header = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(newer, &header, &len, NULL));
        g_assert_cmpuint(len, >, 20);
        g_assert_cmpint(header[18], ==, 1); /* file format 1: rollback journal, not WAL (2) */
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    TEST("/store/first-run", test_first_run);
    TEST("/store/reopen", test_reopen);
    g_test_add_func("/store/default-path", test_default_path);
    g_test_add_func("/store/open-default-path", test_open_null_path);
    TEST("/store/props/inheritance", test_inheritance);
    TEST("/store/props/values", test_property_values);
    TEST("/store/props/list", test_list_properties);
    TEST("/store/props/notes", test_notes);
    TEST("/store/names", test_names);
    TEST("/store/rename", test_rename);
    TEST("/store/templates", test_templates);
    TEST("/store/netvm/rules", test_netvm_rules);
    TEST("/store/netvm/provides-network-off", test_provides_network_off);
    TEST("/store/netvm/loops", test_loops);
    TEST("/store/remove", test_remove);
    TEST("/store/dom0", test_dom0);
    TEST("/store/disposables", test_disposables);
    TEST("/store/clone", test_clone);
    TEST("/store/tags", test_tags);
    TEST("/store/services", test_services);
    TEST("/store/qids", test_qids);
    TEST("/store/qid-exhaustion", test_qid_exhaustion);
    TEST("/store/atomic/sql-failure", test_sql_failure_rolls_back);
    TEST("/store/two-handles", test_two_handles);
    TEST("/store/check-create", test_check_create);
    g_test_add_func("/store/bad-files", test_bad_files);
    return g_test_run();
}
