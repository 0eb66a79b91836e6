/* testlib.c — see testlib.h. */
#include "testlib.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <string.h>

BhTestDir *bh_test_dir_new(void)
{
    g_autoptr(GError) error = NULL;
    BhTestDir *dir = g_new0(BhTestDir, 1);

    dir->path = g_dir_make_tmp("bh-qubes-test-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

char *bh_test_dir_file(const BhTestDir *dir, const char *name)
{
    return g_build_filename(dir->path, name, NULL);
}

static void remove_tree(const char *path)
{
    GStatBuf st;
    GDir *dir;
    const char *name;

    if (g_lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode) && (dir = g_dir_open(path, 0, NULL)) != NULL) {
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_dir_close(dir);
    }
    g_remove(path);
}

void bh_test_dir_free(BhTestDir *dir)
{
    if (dir == NULL)
        return;
    remove_tree(dir->path);
    g_free(dir->path);
    g_free(dir);
}

BhStore *bh_test_open(const char *path)
{
    g_autoptr(GError) error = NULL;
    BhStore *s = bh_store_open(path, &error);

    g_assert_no_error(error);
    g_assert_nonnull(s);
    return s;
}

static sqlite3 *raw_open(const char *path, int flags)
{
    sqlite3 *db = NULL;

    g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | flags, NULL), ==, SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static gint line_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rows as "a|b|c" lines, sorted, so that the order rows were written in
 * does not matter. */
static void append_rows(sqlite3 *db, const char *sql, GString *out)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    sqlite3_stmt *st = NULL;
    guint j;
    int i;

    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        GString *line = g_string_new(NULL);
        for (i = 0; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            g_string_append_printf(line, "%s%s", i ? "|" : "", v ? v : "NULL");
        }
        g_ptr_array_add(lines, g_string_free(line, FALSE));
    }
    sqlite3_finalize(st);
    g_ptr_array_sort(lines, line_cmp);
    for (j = 0; j < lines->len; j++)
        g_string_append_printf(out, "%s\n", (char *)lines->pdata[j]);
}

char *bh_test_dump(const char *path)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) tables = g_string_new(NULL);
    g_auto(GStrv) names = NULL;
    sqlite3 *db = raw_open(path, 0);
    guint i;

    append_rows(db, "PRAGMA user_version", out);
    append_rows(db, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name", out);
    append_rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", tables);
    names = g_strsplit(g_strchomp(tables->str), "\n", -1);
    for (i = 0; names[i] != NULL && names[i][0] != '\0'; i++) {
        g_autofree char *sql = g_strdup_printf("SELECT * FROM \"%s\"", names[i]);
        g_string_append_printf(out, "== %s\n", names[i]);
        append_rows(db, sql, out);
    }
    sqlite3_close(db);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *bh_test_integrity(const char *path)
{
    g_autoptr(GString) out = g_string_new(NULL);
    sqlite3 *db = raw_open(path, 0);

    append_rows(db, "PRAGMA integrity_check", out);
    sqlite3_close(db);
    return g_strdup(g_strchomp(out->str));
}

void bh_test_sql(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path, SQLITE_OPEN_CREATE);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK)
        g_error("SQL failed: %s: %s", sql, msg);
    sqlite3_close(db);
}

/* ---- the crash test's steps ------------------------------------------------ */

void bh_test_crash_step(int i, BhStep *out)
{
    memset(out, 0, sizeof *out);
    out->kind = (BhStepKind)(i % 5);
    switch (out->kind) {
    case BH_STEP_CREATE:
        g_snprintf(out->qube, sizeof out->qube, "c%d", i);
        g_snprintf(out->arg, sizeof out->arg, "%s", bh_label_by_index(1 + i % BH_LABEL_COUNT)->name);
        out->value = 100 + i;
        break;
    case BH_STEP_SET:
        g_snprintf(out->qube, sizeof out->qube, "work");
        out->value = 1000 + i;
        break;
    case BH_STEP_TAG:
        g_snprintf(out->qube, sizeof out->qube, "personal");
        g_snprintf(out->arg, sizeof out->arg, "t%d", i);
        break;
    case BH_STEP_REMOVE:
        g_snprintf(out->qube, sizeof out->qube, "c%d", i - 3);
        break;
    case BH_STEP_UNTAG:
        g_snprintf(out->qube, sizeof out->qube, "personal");
        g_snprintf(out->arg, sizeof out->arg, "t%d", i - 2);
        break;
    }
}

gboolean bh_test_crash_apply(BhStore *s, const BhStep *step, GError **error)
{
    g_autofree char *value = g_strdup_printf("%d", step->value);
    const char *const props[] = {"memory", value, NULL};

    switch (step->kind) {
    case BH_STEP_CREATE:
        return bh_store_create_qube(s, BH_CLASS_APP_VM, step->qube, step->arg, NULL, props, error) > 0;
    case BH_STEP_SET:
        return bh_store_set_property(s, step->qube, "memory", value, error);
    case BH_STEP_TAG:
        return bh_store_add_tag(s, step->qube, step->arg, error);
    case BH_STEP_REMOVE:
        return bh_store_remove_qube(s, step->qube, error);
    case BH_STEP_UNTAG:
        return bh_store_remove_tag(s, step->qube, step->arg, error);
    }
    return FALSE;
}
