/* test-migrate.c — schema versions: the fixture tests/data/store-v1.sqlite
 * (a real version-1 file) is what migration step 0 → 1 creates; opening a
 * copy migrates it to the current version without losing a qube, property,
 * global or reference; a migrated store has the same schema as a new one. */
#include "bulkhead/store.h"
#include "store-private.h"
#include "testlib.h"

#include <sqlite3.h>
#include <string.h>

static char *fixture_copy(const BhTestDir *tmp)
{
    g_autofree char *src = g_build_filename(g_getenv("BH_TEST_DATA"), "store-v1.sqlite", NULL);
    g_autofree char *contents = NULL;
    char *dst = bh_test_dir_file(tmp, "store/migrated.db");
    g_autofree char *dir = g_path_get_dirname(dst);
    gsize len;

    g_assert_true(g_file_get_contents(src, &contents, &len, NULL));
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(dst, contents, (gssize)len, NULL));
    return dst;
}

static char *schema_of(sqlite3 *db)
{
    g_autoptr(GString) out = g_string_new(NULL);
    sqlite3_stmt *st = NULL;

    g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        g_string_append_printf(out, "%s %s %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                               sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
    sqlite3_finalize(st);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v;

    g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *schema_at(int version)
{
    g_autoptr(GError) error = NULL;
    sqlite3 *db = NULL;
    char *schema;

    g_assert_cmpint(sqlite3_open(":memory:", &db), ==, SQLITE_OK);
    g_assert_true(bh_store_migrate(db, version, &error));
    g_assert_no_error(error);
    g_assert_cmpint(user_version(db), ==, version);
    schema = schema_of(db);
    sqlite3_close(db);
    return schema;
}

static void test_fixture_is_v1(void)
{
    g_autoptr(BhTestDir) tmp = bh_test_dir_new();
    g_autofree char *path = fixture_copy(tmp);
    g_autofree char *expect = schema_at(1);
    g_autofree char *schema = NULL;
    sqlite3 *db = NULL;

    g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint(user_version(db), ==, 1);
    schema = schema_of(db);
    sqlite3_close(db);
    g_assert_cmpstr(schema, ==, expect);
    g_assert_null(bh_store_migration_sql(BH_STORE_SCHEMA_VERSION));
    g_assert_null(bh_store_migration_sql(-1));
}

static void assert_prop(BhStore *s, const char *qube, const char *name, const char *want,
                        gboolean want_default)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    gboolean is_default = !want_default;

    g_assert_true(bh_store_get_property(s, qube, name, &value, &is_default, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, want);
    g_assert_cmpint(is_default, ==, want_default);
}

static void test_migrate(void)
{
    static const struct {
        int qid;
        const char *name;
        BhQubeClass klass;
        const char *label;
    } expect[] = {
        {0, "dom0", BH_CLASS_ADMIN_VM, "black"},    {1, "debian-12", BH_CLASS_TEMPLATE_VM, "black"},
        {2, "sys-net", BH_CLASS_APP_VM, "red"},     {3, "sys-firewall", BH_CLASS_APP_VM, "green"},
        {4, "work", BH_CLASS_APP_VM, "blue"},       {5, "personal", BH_CLASS_APP_VM, "yellow"},
        {6, "untrusted", BH_CLASS_APP_VM, "red"},   {7, "vault", BH_CLASS_APP_VM, "black"},
        {8, "default-dvm", BH_CLASS_APP_VM, "red"}, {10, "fedora-40", BH_CLASS_TEMPLATE_VM, "gray"},
        {11, "my-app", BH_CLASS_APP_VM, "purple"},  {12, "legacy", BH_CLASS_STANDALONE_VM, "orange"},
    };
    g_autoptr(BhTestDir) tmp = bh_test_dir_new();
    g_autofree char *path = fixture_copy(tmp);
    g_autoptr(GHashTable) uuids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) qubes = NULL;
    g_autoptr(BhStore) s = NULL;
    g_autofree char *fresh_path = bh_test_dir_file(tmp, "fresh.db");
    g_autofree char *migrated_dump = NULL, *integrity = NULL;
    g_autofree char *schema_m = NULL, *schema_f = NULL, *before = NULL, *after = NULL;
    g_auto(GStrv) tags = NULL;
    guint i;
    int qid;

    s = bh_test_open(path);
    qubes = bh_store_list_qubes(s, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(qubes->len, ==, G_N_ELEMENTS(expect));
    for (i = 0; i < G_N_ELEMENTS(expect); i++) {
        g_autoptr(BhQubeInfo) q = bh_store_get_qube(s, expect[i].name, &error);
        g_assert_no_error(error);
        g_assert_cmpint(q->qid, ==, expect[i].qid);
        g_assert_cmpint(q->klass, ==, expect[i].klass);
        g_assert_cmpstr(q->label->name, ==, expect[i].label);
        g_assert_true(g_uuid_string_is_valid(q->uuid));
        g_assert_true(g_hash_table_add(uuids, g_strdup(q->uuid)));
        g_assert_cmpint(q->uuid[14], ==, q->qid == 0 ? '0' : '4'); /* version 4 */
    }

    /* Properties, references and defaults as the old store had them. */
    assert_prop(s, "work", "memory", "2048", FALSE);
    assert_prop(s, "work", "netvm", "sys-firewall", TRUE);
    assert_prop(s, "my-app", "template", "fedora-40", FALSE);
    assert_prop(s, "my-app", "vcpus", "6", TRUE);
    assert_prop(s, "my-app", "netvm", "sys-net", FALSE);
    assert_prop(s, "my-app", "default_dispvm", "", FALSE);
    assert_prop(s, "my-app", "allow_fullscreen", "True", FALSE);
    assert_prop(s, "legacy", "maxmem", "0", FALSE);
    assert_prop(s, "vault", "netvm", "", FALSE);
    assert_prop(s, "sys-firewall", "netvm", "sys-net", FALSE);
    assert_prop(s, "debian-12", "root_path", "/", FALSE);
    {
        g_autofree char *v = NULL;
        g_assert_true(bh_store_get_global(s, "default_template", &v, NULL, &error));
        g_assert_cmpstr(v, ==, "fedora-40");
        g_free(v);
        g_assert_true(bh_store_get_global(s, "clipboard_max_bytes", &v, NULL, &error));
        g_assert_cmpstr(v, ==, "128000");
    }

    /* What version 2 added works: tags, and qids continue after the highest. */
    g_assert_true(bh_store_add_tag(s, "my-app", "migrated", &error));
    g_assert_no_error(error);
    tags = bh_store_list_tags(s, "my-app", &error);
    g_assert_cmpstrv(tags, ((const char *const[]){"migrated", NULL}));
    qid = bh_store_create_qube(s, BH_CLASS_APP_VM, "new-one", "blue", NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(qid, ==, 13);
    /* What version 3 added works: an app list kept as bytes, forgotten
     * with its qube. */
    {
        g_autoptr(GBytes) list = g_bytes_new_static("list", 4);
        g_autoptr(GBytes) back = NULL;
        g_assert_null(bh_store_get_apps(s, "my-app", &error));
        g_assert_no_error(error);
        g_assert_true(bh_store_set_apps(s, "my-app", list, &error));
        g_assert_no_error(error);
        back = bh_store_get_apps(s, "my-app", &error);
        g_assert_nonnull(back);
        g_assert_true(g_bytes_equal(back, list));
        g_assert_false(bh_store_set_apps(s, "no-such-qube", list, NULL));
        g_assert_true(bh_store_remove_qube(s, "new-one", &error));
        g_assert_true(bh_store_set_apps(s, "my-app", NULL, &error));
        g_assert_null(bh_store_get_apps(s, "my-app", &error));
        g_assert_no_error(error);
    }
    /* What version 4 added works: firewall rules, the default before. */
    {
        g_auto(GStrv) fw = bh_store_get_firewall(s, "my-app", &error);
        g_assert_cmpstrv(fw, ((const char *const[]){"action=accept", NULL}));
        const char *const rules[] = {"action=drop proto=tcp dstports=25", "action=accept", NULL};
        g_assert_true(bh_store_set_firewall(s, "my-app", rules, &error));
        g_assert_no_error(error);
    }
    /* What version 5 added works: services set on a migrated qube. */
    {
        g_assert_true(bh_store_set_service(s, "my-app", "crond", 1, &error));
        g_assert_no_error(error);
        g_auto(GStrv) services = bh_store_list_services(s, "my-app", &error);
        g_assert_cmpstrv(services, ((const char *const[]){"crond=1", NULL}));
    }
    /* What version 6 added works: an app-list problem replaces the list and
     * a kept list replaces the problem, each in one change. */
    {
        g_autoptr(GBytes) list = g_bytes_new_static("list", 4);
        g_autoptr(GBytes) back = NULL;
        g_autofree char *problem = NULL;
        g_assert_null(bh_store_get_apps_problem(s, "my-app", &error));
        g_assert_no_error(error);
        g_assert_true(bh_store_set_apps(s, "my-app", list, &error));
        g_assert_true(bh_store_set_apps_problem(s, "my-app", "the list has 3 bytes", &error));
        g_assert_no_error(error);
        problem = bh_store_get_apps_problem(s, "my-app", &error);
        g_assert_cmpstr(problem, ==, "the list has 3 bytes");
        g_assert_null(bh_store_get_apps(s, "my-app", &error));
        g_assert_false(bh_store_set_apps_problem(s, "no-such-qube", "x", NULL));
        g_assert_true(bh_store_set_apps(s, "my-app", list, &error));
        g_clear_pointer(&problem, g_free);
        g_assert_null(bh_store_get_apps_problem(s, "my-app", &error));
        back = bh_store_get_apps(s, "my-app", &error);
        g_assert_true(g_bytes_equal(back, list));
        g_assert_true(bh_store_set_apps_problem(s, "my-app", "again", &error));
        g_assert_true(bh_store_set_apps_problem(s, "my-app", NULL, &error));
        g_assert_null(bh_store_get_apps_problem(s, "my-app", &error));
        g_assert_null(bh_store_get_apps(s, "my-app", &error));
        g_assert_no_error(error);
    }
    /* The old rules still hold on migrated data. */
    g_assert_false(bh_store_remove_qube(s, "fedora-40", NULL));
    bh_store_close(g_steal_pointer(&s));

    integrity = bh_test_integrity(path);
    g_assert_cmpstr(integrity, ==, "ok");
    migrated_dump = bh_test_dump(path);
    g_assert_true(g_str_has_prefix(migrated_dump, "6\n"));

    /* Same schema as a store created new; reopening changes nothing. */
    s = bh_test_open(fresh_path);
    bh_store_close(g_steal_pointer(&s));
    {
        sqlite3 *a = NULL, *b = NULL;
        g_assert_cmpint(sqlite3_open_v2(path, &a, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_open_v2(fresh_path, &b, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
        schema_m = schema_of(a);
        schema_f = schema_of(b);
        sqlite3_close(a);
        sqlite3_close(b);
    }
    g_assert_cmpstr(schema_m, ==, schema_f);
    before = bh_test_dump(path);
    s = bh_test_open(path);
    bh_store_close(g_steal_pointer(&s));
    after = bh_test_dump(path);
    g_assert_cmpstr(before, ==, after);
}

/* A failing migration leaves the file at its old version, untouched. */
static void test_failed_migration_rolls_back(void)
{
    g_autoptr(BhTestDir) tmp = bh_test_dir_new();
    g_autofree char *path = fixture_copy(tmp);
    g_autofree char *before = NULL, *after = NULL;

    /* Make step 1 → 2 fail: it creates a table "tags". */
    bh_test_sql(path, "CREATE TABLE tags (x)");
    before = bh_test_dump(path);
    bh_assert_fails(bh_store_open(path, BH_ERR) != NULL, BH_QUBES_ERROR_STORE);
    after = bh_test_dump(path);
    g_assert_cmpstr(before, ==, after);
    g_assert_true(g_str_has_prefix(after, "1\n"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migrate/fixture-is-v1", test_fixture_is_v1);
    g_test_add_func("/migrate/v1-to-current", test_migrate);
    g_test_add_func("/migrate/failure-rolls-back", test_failed_migration_rolls_back);
    return g_test_run();
}
