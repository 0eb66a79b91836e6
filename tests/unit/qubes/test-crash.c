/* test-crash.c — crash safety and concurrent writers, with real processes.
 *
 * /crash/sigkill: bh-store-helper applies a fixed sequence of changes to one
 * store and reports each step on a pipe after its COMMIT returned. We SIGKILL
 * it at a random moment, 20 times (even rounds count from the spawn, so the
 * kill can land while it opens or, in round 0, creates the store; odd rounds
 * count from its first report). After each kill: PRAGMA integrity_check is
 * "ok", and the store holds exactly the state after the last reported step,
 * or after one more (killed between COMMIT and the report) — so every
 * reported change is present and nothing is half-applied.
 * /crash/concurrent-writers: two helpers create a new store and 25 qubes
 * each at the same time; all 50 exist once, with distinct qids. */
#include "bulkhead/store.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS          20
#define KILL_WINDOW_MS  150
#define FIRST_REPORT_MS 120000

/* What the sequence of steps BH_STEP_FIRST..last leaves in the store. */
typedef struct {
    GHashTable *qubes; /* "cN" names that exist */
    GHashTable *tags;  /* tags on personal */
    int memory;        /* work's memory; 0 = never set (default) */
} Expect;

static void expect_init(Expect *e, int last)
{
    BhStep step;
    int i;

    e->qubes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    e->tags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    e->memory = 0;
    for (i = BH_STEP_FIRST; i <= last; i++) {
        bh_test_crash_step(i, &step);
        switch (step.kind) {
        case BH_STEP_CREATE:
            g_hash_table_add(e->qubes, g_strdup(step.qube));
            break;
        case BH_STEP_SET:
            e->memory = step.value;
            break;
        case BH_STEP_TAG:
            g_hash_table_add(e->tags, g_strdup(step.arg));
            break;
        case BH_STEP_REMOVE:
            g_hash_table_remove(e->qubes, step.qube);
            break;
        case BH_STEP_UNTAG:
            g_hash_table_remove(e->tags, step.arg);
            break;
        }
    }
}

static void expect_clear(Expect *e)
{
    g_hash_table_unref(e->qubes);
    g_hash_table_unref(e->tags);
}

static gboolean same_set(GHashTable *a, GHashTable *b)
{
    GHashTableIter it;
    gpointer key;

    if (g_hash_table_size(a) != g_hash_table_size(b))
        return FALSE;
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(b, key))
            return FALSE;
    }
    return TRUE;
}

/* The store's state, read through the API, with each crash-test qube's
 * properties checked against the step that created it (atomic creation). */
static void read_actual(BhStore *s, Expect *actual)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(s, &error);
    g_auto(GStrv) tags = NULL;
    g_autofree char *memory = NULL;
    gboolean is_default;
    guint i;

    g_assert_no_error(error);
    actual->qubes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    actual->tags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (i = 0; i < qubes->len; i++) {
        const BhQubeInfo *q = qubes->pdata[i];
        g_autofree char *mem = NULL;
        BhStep step;
        if (q->name[0] != 'c' || !g_ascii_isdigit(q->name[1]))
            continue;
        g_hash_table_add(actual->qubes, g_strdup(q->name));
        bh_test_crash_step(atoi(q->name + 1), &step);
        g_assert_cmpint(step.kind, ==, BH_STEP_CREATE);
        g_assert_cmpstr(q->label->name, ==, step.arg);
        g_assert_true(bh_store_get_property(s, q->name, "memory", &mem, &is_default, &error));
        g_assert_cmpint(atoi(mem), ==, step.value);
        g_assert_false(is_default);
    }
    tags = bh_store_list_tags(s, "personal", &error);
    g_assert_no_error(error);
    for (i = 0; tags[i] != NULL; i++)
        g_hash_table_add(actual->tags, g_strdup(tags[i]));
    g_assert_true(bh_store_get_property(s, "work", "memory", &memory, &is_default, &error));
    actual->memory = is_default ? 0 : atoi(memory);
    if (is_default)
        g_assert_cmpstr(memory, ==, "400");
}

static gboolean matches(const Expect *want, const Expect *got)
{
    return want->memory == got->memory && same_set(want->qubes, got->qubes) &&
           same_set(want->tags, got->tags);
}

static GPid spawn_helper(char **argv, int *out_fd)
{
    g_autoptr(GError) error = NULL;
    GPid pid = 0;

    g_assert_true(g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                           NULL, out_fd, NULL, &error));
    g_assert_no_error(error);
    return pid;
}

/* Read what is there into buf (non-blocking fd) until the deadline passes;
 * with a NULL deadline, until EOF. Returns FALSE at EOF. */
static gboolean pump(int fd, GString *buf, gint64 deadline_us)
{
    char chunk[4096];

    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        gint64 now = g_get_monotonic_time();
        int timeout = deadline_us == 0 ? -1 : (int)MAX(0, (deadline_us - now) / 1000);
        ssize_t n;

        if (deadline_us != 0 && now >= deadline_us)
            return TRUE;
        if (poll(&p, 1, timeout) < 0) {
            g_assert_cmpint(errno, ==, EINTR);
            continue;
        }
        if (p.revents == 0)
            continue;
        n = read(fd, chunk, sizeof chunk);
        if (n == 0)
            return FALSE;
        if (n < 0) {
            g_assert_true(errno == EAGAIN || errno == EINTR);
            continue;
        }
        g_string_append_len(buf, chunk, n);
    }
}

static void test_sigkill(void)
{
    g_autoptr(BhTestDir) tmp = bh_test_dir_new();
    g_autofree char *path = bh_test_dir_file(tmp, "crash.db");
    g_autofree char *helper = g_strdup(g_getenv("BH_STORE_HELPER"));
    int last = BH_STEP_FIRST - 1; /* the last step the store holds */
    int reported_total = 0, extra_total = 0;
    int round;

    g_assert_nonnull(helper);
    for (round = 0; round < ROUNDS; round++) {
        int first = last + 1;
        g_autofree char *first_arg = g_strdup_printf("%d", first);
        char *argv[] = {helper, "crash", path, first_arg, NULL};
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(BhStore) s = NULL;
        g_auto(GStrv) lines = NULL;
        guint delay_ms = (guint)g_test_rand_int_range(0, KILL_WINDOW_MS);
        int fd = -1, status = 0, reported = last, i;
        Expect a, b, got;
        GPid pid;

        pid = spawn_helper(argv, &fd);
        g_assert_cmpint(fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
        if (round % 2 == 1) {
            gint64 give_up = g_get_monotonic_time() + FIRST_REPORT_MS * 1000;
            while (strchr(out->str, '\n') == NULL && g_get_monotonic_time() < give_up) {
                if (!pump(fd, out, g_get_monotonic_time() + 10000))
                    break;
            }
            g_assert_nonnull(strchr(out->str, '\n'));
        }
        pump(fd, out, g_get_monotonic_time() + delay_ms * 1000);
        g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_spawn_close_pid(pid);
        /* Killed by us, not dead of its own error. */
        g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        pump(fd, out, 0);
        close(fd);

        /* Reports are whole lines (one write each) and consecutive. */
        lines = g_strsplit(out->str, "\n", -1);
        for (i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
            g_assert_cmpint(atoi(lines[i]), ==, reported + 1);
            reported++;
        }
        reported_total += reported - last;

        if (g_file_test(path, G_FILE_TEST_EXISTS)) {
            g_autofree char *integrity = bh_test_integrity(path);
            g_assert_cmpstr(integrity, ==, "ok");
        }
        s = bh_test_open(path);
        expect_init(&a, reported);
        expect_init(&b, reported + 1);
        read_actual(s, &got);
        if (matches(&a, &got)) {
            last = reported;
        } else {
            g_assert_true(matches(&b, &got));
            last = reported + 1;
            extra_total++;
        }
        g_test_message("round %d: killed after %u ms, %d steps reported, store at step %d", round, delay_ms,
                       reported - first + 1, last);
        expect_clear(&a);
        expect_clear(&b);
        expect_clear(&got);
    }
    g_test_message("%d steps reported over %d rounds; %d kills landed between a COMMIT and its report",
                   reported_total, ROUNDS, extra_total);
    /* Odd rounds wait for a first report, so the test always saw commits. */
    g_assert_cmpint(reported_total, >=, ROUNDS / 2);
}

static void test_concurrent_writers(void)
{
    g_autoptr(BhTestDir) tmp = bh_test_dir_new();
    g_autofree char *path = bh_test_dir_file(tmp, "concurrent.db");
    g_autofree char *helper = g_strdup(g_getenv("BH_STORE_HELPER"));
    char *argv_a[] = {helper, "create", path, "a", "25", NULL};
    char *argv_b[] = {helper, "create", path, "b", "25", NULL};
    g_autoptr(GHashTable) qids = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GPtrArray) qubes = NULL;
    g_autoptr(BhStore) s = NULL;
    g_autofree char *integrity = NULL;
    GPid pids[2];
    int fds[2], i, status;

    pids[0] = spawn_helper(argv_a, &fds[0]);
    pids[1] = spawn_helper(argv_b, &fds[1]);
    for (i = 0; i < 2; i++) {
        g_assert_cmpint(waitpid(pids[i], &status, 0), ==, pids[i]);
        g_spawn_close_pid(pids[i]);
        close(fds[i]);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    }
    s = bh_test_open(path);
    qubes = bh_store_list_qubes(s, NULL);
    g_assert_cmpuint(qubes->len, ==, 9 + 50);
    for (i = 0; i < (int)qubes->len; i++)
        g_assert_true(g_hash_table_add(qids, GINT_TO_POINTER(((BhQubeInfo *)qubes->pdata[i])->qid)));
    for (i = 0; i < 25; i++) {
        g_autofree char *a = g_strdup_printf("a%d", i);
        g_autofree char *b = g_strdup_printf("b%d", i);
        g_autoptr(BhQubeInfo) qa = bh_store_get_qube(s, a, NULL);
        g_autoptr(BhQubeInfo) qb = bh_store_get_qube(s, b, NULL);
        g_assert_nonnull(qa);
        g_assert_nonnull(qb);
    }
    integrity = bh_test_integrity(path);
    g_assert_cmpstr(integrity, ==, "ok");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/crash/sigkill", test_sigkill);
    g_test_add_func("/crash/concurrent-writers", test_concurrent_writers);
    return g_test_run();
}
