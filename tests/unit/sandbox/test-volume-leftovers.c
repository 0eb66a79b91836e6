/* test-volume-leftovers.c — what dead qubes left in <state>/qubes/
 * (core/backends/volume-leftovers.h), on fake trees: the set-aside keeps
 * everything and never loses a leftover when it cannot move it; the list
 * reads only set-aside names; a removal takes nothing else. Through the
 * backends on real sandboxes: tests/integration/sandbox-storage.c.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "volume-leftovers.h"

typedef struct {
    char *tmp, *qubes;
} Tmp;

static void tmp_setup(Tmp *t, gconstpointer data)
{
    t->tmp = g_dir_make_tmp("bh-leftovers-XXXXXX", NULL);
    g_assert_nonnull(t->tmp);
    t->qubes = g_build_filename(t->tmp, "qubes", NULL);
    g_assert_cmpint(g_mkdir(t->qubes, 0700), ==, 0);
}

static void tmp_teardown(Tmp *t, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", t->tmp);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    g_free(t->qubes);
    g_free(t->tmp);
}

/* qubes/<dir>/private/file holding marker. */
static void plant(Tmp *t, const char *dir, const char *marker)
{
    g_autofree char *home = g_build_filename(t->qubes, dir, "private", NULL);
    g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
    g_autofree char *file = g_build_filename(home, "file", NULL);
    g_assert_true(g_file_set_contents(file, marker, -1, NULL));
}

static char *planted(Tmp *t, const char *dir)
{
    g_autofree char *file = g_build_filename(t->qubes, dir, "private", "file", NULL);
    char *text = NULL;
    return g_file_get_contents(file, &text, NULL, NULL) ? text : NULL;
}

static void test_set_aside(Tmp *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *work = g_build_filename(t->qubes, "work", NULL);
    g_autofree char *moved_to = NULL;
    plant(t, "work", "dead work");
    g_assert_true(bh_volume_set_aside(work, &moved_to, &error));
    g_assert_no_error(error);
    g_assert_nonnull(moved_to);
    g_assert_false(g_file_test(work, G_FILE_TEST_EXISTS));
    g_autofree char *kept = planted(t, moved_to);
    g_assert_cmpstr(kept, ==, "dead work");
    g_autoptr(BhLeftover) parsed = bh_leftover_parse(moved_to);
    g_assert_nonnull(parsed);
    g_assert_cmpstr(parsed->qube, ==, "work");

    /* Nothing in the place: nothing to do. */
    g_autofree char *again = NULL;
    g_assert_true(bh_volume_set_aside(work, &again, &error));
    g_assert_null(again);
}

/* A leftover that cannot be moved aside stays whole (the caller's undo must
 * not take it either: tests/unit/daemon, /daemon/volume-rollback). */
static void test_set_aside_blocked(Tmp *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *work = g_build_filename(t->qubes, "work", NULL);
    plant(t, "work", "only copy");
    /* Every name the set-aside may choose in the next seconds is taken. */
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    for (int s = -1; s < 10; s++) {
        g_autoptr(GDateTime) at = g_date_time_add_seconds(now, s);
        g_autofree char *stamp = g_date_time_format(at, "%Y%m%dT%H%M%SZ");
        for (int i = 0; i < 100; i++) {
            g_autofree char *name = i == 0 ? g_strdup_printf(".orphan-work-%s", stamp)
                                           : g_strdup_printf(".orphan-work-%s-%d", stamp, i);
            g_autofree char *path = g_build_filename(t->qubes, name, NULL);
            g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
        }
    }
    g_autofree char *moved_to = NULL;
    g_assert_false(bh_volume_set_aside(work, &moved_to, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
    g_assert_nonnull(strstr(error->message, "move or remove it"));
    g_assert_null(moved_to);
    g_autofree char *kept = planted(t, "work");
    g_assert_cmpstr(kept, ==, "only copy");
}

static void test_parse(void)
{
    g_autoptr(BhLeftover) a = bh_leftover_parse(".orphan-sys-net-20261207T230102Z");
    g_assert_nonnull(a);
    g_assert_cmpstr(a->qube, ==, "sys-net");
    g_assert_cmpstr(a->when, ==, "2026-12-07T23:01:02Z");
    g_autoptr(BhLeftover) b = bh_leftover_parse(".orphan-disp12-20261207T230102Z-7");
    g_assert_nonnull(b);
    g_assert_cmpstr(b->qube, ==, "disp12");
    g_autoptr(BhLeftover) c = bh_leftover_parse(".orphan-a-1-20261207T230102Z");
    g_assert_nonnull(c);
    g_assert_cmpstr(c->qube, ==, "a-1");

    const char *refused[] = {
        "work",
        ".orphan-",
        ".orphan-work",
        ".orphan--20261207T230102Z",
        ".orphan-20261207T230102Z",
        ".orphan-a/b-20261207T230102Z",
        ".orphan-../x-20261207T230102Z/..",
        ".orphan-work-2026120xT230102Z",
        ".orphan-work-20261207T230102",
        ".orphan-work-20261207T230102Z-",
        ".orphan-work-20261207T230102Z-123",
        ".orphan-work-20261207T230102Zx",
        ".orphan-\033]0;x\007-20261207T230102Z",
        ".orphan-w rk-20261207T230102Z",
        "..",
        ".orphan-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-20261207T230102Z",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autoptr(BhLeftover) r = bh_leftover_parse(refused[i]);
        if (r != NULL)
            g_error("%s parsed as a leftover of %s", refused[i], r->qube);
    }
}

static void test_list_remove(Tmp *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    plant(t, "work", "live work");
    plant(t, ".orphan-work-20261207T230102Z", "dead work");
    plant(t, ".orphan-vault-20261201T000000Z-2", "dead vault");
    plant(t, ".orphan-bad", "not one");
    g_autofree char *file = g_build_filename(t->qubes, ".orphan-file-20261207T230102Z", NULL);
    g_assert_true(g_file_set_contents(file, "a file", -1, NULL));

    g_autoptr(GPtrArray) list = bh_volume_leftovers(t->qubes, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 3);
    const char *names[] = {".orphan-file-20261207T230102Z", ".orphan-vault-20261201T000000Z-2",
                           ".orphan-work-20261207T230102Z"};
    for (guint i = 0; i < list->len; i++)
        g_assert_cmpstr(((BhLeftover *)list->pdata[i])->name, ==, names[i]);

    /* Only a leftover's own name is taken. */
    const char *refused[] = {"work", ".orphan-bad", "../qubes/work", ".orphan-work-20261207T230102Z/private"};
    for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_assert_false(bh_volume_leftover_remove(t->qubes, refused[i], &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
    }
    g_assert_false(bh_volume_leftover_remove(t->qubes, ".orphan-gone-20261207T230102Z", &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error(&error);

    g_assert_true(bh_volume_leftover_remove(t->qubes, ".orphan-work-20261207T230102Z", &error));
    g_assert_no_error(error);
    g_autofree char *gone = planted(t, ".orphan-work-20261207T230102Z");
    g_assert_null(gone);
    g_autofree char *live = planted(t, "work");
    g_assert_cmpstr(live, ==, "live work");
    g_autofree char *vault = planted(t, ".orphan-vault-20261201T000000Z-2");
    g_assert_cmpstr(vault, ==, "dead vault");
    g_autoptr(GPtrArray) after = bh_volume_leftovers(t->qubes, &error);
    g_assert_cmpuint(after->len, ==, 2);

    /* No qubes directory yet: none. */
    g_autofree char *missing = g_build_filename(t->tmp, "none", NULL);
    g_autoptr(GPtrArray) none = bh_volume_leftovers(missing, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(none->len, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/leftovers/" path, Tmp, NULL, tmp_setup, fn, tmp_teardown)
    ADD("set-aside", test_set_aside);
    ADD("set-aside-blocked", test_set_aside_blocked);
    ADD("list-remove", test_list_remove);
    g_test_add_func("/leftovers/parse", test_parse);
    return g_test_run();
}
