/* test-rpc-exec.c — the exec service end to end: the real bulkhead-agent
 * (a separate process, its own domain id, a private socket directory) and
 * the real client library in this process. Output is captured in memfds,
 * so nothing here depends on timing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead/rpc-protocol.h"
#include "rpc-test-util.h"

typedef struct {
    BhRpcFixture f;
    BhRpcClient *client;
} Fixture;

static void setup(Fixture *x, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    bh_rpc_fixture_setup(&x->f, data);
    g_setenv("BH_RPC_TEST_MARK", "inherited-from-the-agent", TRUE);
    bh_rpc_start_agent(&x->f, NULL, FALSE);
    x->client = bh_rpc_connect_sync(x->f.domid, BH_TEST_DEADLINE_MS, &err);
    g_assert_no_error(err);
    g_assert_true(bh_rpc_client_is_connected(x->client));
}

static void teardown(Fixture *x, gconstpointer data)
{
    g_clear_object(&x->client);
    bh_rpc_fixture_teardown(&x->f, data);
}

/* Runs cmd with stdin from `input` and returns stdout/stderr. */
static int run(Fixture *x, const char *cmd, const char *input, char **out, char **err_out)
{
    g_autoptr(GError) err = NULL;
    int in = input ? bh_rpc_memfd(input, strlen(input)) : -1;
    int o = bh_rpc_memfd(NULL, 0), e = bh_rpc_memfd(NULL, 0);
    int status = -1;

    g_assert_true(bh_rpc_exec_sync(x->client, NULL, cmd, in, o, e, TRUE, &status, &err));
    g_assert_no_error(err);
    if (out)
        *out = bh_rpc_memfd_string(o);
    if (err_out)
        *err_out = bh_rpc_memfd_string(e);
    if (in >= 0)
        close(in);
    close(o);
    close(e);
    return status;
}

static void test_echo(Fixture *x, gconstpointer data)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = run(x, "echo hello", NULL, &out, &err);

    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_cmpstr(out, ==, "hello\n");
    g_assert_cmpstr(err, ==, "");
}

static void test_exit_codes(Fixture *x, gconstpointer data)
{
    int status = run(x, "exit 3", NULL, NULL, NULL);

    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 3);
    status = run(x, "exit 255", NULL, NULL, NULL);
    g_assert_cmpint(WEXITSTATUS(status), ==, 255);
    status = run(x, "kill -TERM $$", NULL, NULL, NULL);
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGTERM);
    status = run(x, "kill -KILL $$", NULL, NULL, NULL);
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
}

static void test_stderr_separate(Fixture *x, gconstpointer data)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = run(x, "echo to-out; echo to-err >&2; echo more-out", NULL, &out, &err);

    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(out, ==, "to-out\nmore-out\n");
    g_assert_cmpstr(err, ==, "to-err\n");
}

static void test_stdin_small(Fixture *x, gconstpointer data)
{
    g_autofree char *out = NULL;

    g_assert_cmpint(run(x, "tr a-z A-Z", "shout this\n", &out, NULL), ==, 0);
    g_assert_cmpstr(out, ==, "SHOUT THIS\n");
    /* No stdin fd: the program sees end of file at once. */
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(run(x, "wc -c", NULL, &out, NULL), ==, 0);
    g_assert_cmpstr(g_strstrip(out), ==, "0");
}

/* 5 MiB through cat and back: every byte in order, through the window. */
static void test_stdin_5mib(Fixture *x, gconstpointer data)
{
    const gsize len = 5u << 20;
    g_autofree guint8 *buf = g_malloc(len);
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) got = NULL;
    guint32 seed = 0x12345678u;
    int in, o, status = -1;

    for (gsize i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (guint8)(seed >> 16);
    }
    in = bh_rpc_memfd(buf, len);
    o = bh_rpc_memfd(NULL, 0);
    g_assert_true(bh_rpc_exec_sync(x->client, "", "cat", in, o, -1, TRUE, &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);
    got = bh_rpc_memfd_contents(o);
    g_assert_cmpuint(g_bytes_get_size(got), ==, len);
    g_assert_true(memcmp(g_bytes_get_data(got, NULL), buf, len) == 0);
    close(in);
    close(o);
}

/* Output larger than every window, with stdout and stderr interleaved. */
static void test_big_output(Fixture *x, gconstpointer data)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = run(x,
                     "i=0; while [ $i -lt 3000 ]; do echo line-$i; echo err-$i >&2; i=$((i+1)); done; "
                     "head -c 1000000 /dev/zero | tr '\\0' x",
                     NULL, &out, &err);

    g_assert_cmpint(status, ==, 0);
    g_assert_true(g_str_has_prefix(out, "line-0\nline-1\n"));
    g_assert_true(strstr(out, "line-2999\n") != NULL);
    g_assert_cmpuint(strlen(out), ==,
                     strlen(strstr(out, "line-2999\n")) + (gsize)(strstr(out, "line-2999\n") - out));
    g_assert_cmpuint(strlen(strstr(out, "line-2999\n")), ==, strlen("line-2999\n") + 1000000);
    g_assert_true(g_str_has_suffix(err, "err-2999\n"));
}

/* The program stops reading stdin long before dom0 stops sending: the agent
 * drops the rest and keeps returning credit, so the call still ends. */
static void test_stdin_program_stops_reading(Fixture *x, gconstpointer data)
{
    const gsize len = 4u << 20;
    g_autofree guint8 *buf = g_malloc(len);
    g_autoptr(GError) err = NULL;
    g_autofree char *got = NULL;
    int in, o, status = -1;

    memset(buf, 'z', len);
    in = bh_rpc_memfd(buf, len);
    o = bh_rpc_memfd(NULL, 0);
    g_assert_true(bh_rpc_exec_sync(x->client, NULL, "head -c 10; exec 0<&-; sleep 0.2", in, o, -1, TRUE,
                                   &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);
    got = bh_rpc_memfd_string(o);
    g_assert_cmpstr(got, ==, "zzzzzzzzzz");
    close(in);
    close(o);
}

typedef struct {
    int fd;
    GByteArray *got;
} Reader;

/* Reads slowly, in small pieces, so the client sees a full pipe. */
static gpointer slow_reader(gpointer data)
{
    Reader *r = data;
    guint8 buf[1000];
    ssize_t n;

    while ((n = read(r->fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(n, >, 0);
        g_byte_array_append(r->got, buf, (guint)n);
        if (r->got->len % 50000 < 1000)
            g_usleep(1000);
    }
    return NULL;
}

/* stdout into a real pipe that fills up: output waits in the client (within
 * the window) and arrives complete and in order. */
static void test_pipe_sink(Fixture *x, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    Reader r = {.got = g_byte_array_new()};
    GThread *t;
    int p[2], status = -1;

    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    r.fd = p[0];
    t = g_thread_new("slow-reader", slow_reader, &r);
    g_assert_true(bh_rpc_exec_sync(x->client, NULL, "seq 1 200000", -1, p[1], -1, TRUE, &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);
    close(p[1]); /* the client's copy is closed: the reader sees EOF */
    g_thread_join(t);
    close(p[0]);
    g_assert_cmpuint(r.got->len, ==, 1288895); /* bytes of `seq 1 200000` */
    g_assert_true(memcmp(r.got->data, "1\n2\n3\n", 6) == 0);
    g_assert_true(memcmp(r.got->data + r.got->len - 7, "200000\n", 7) == 0);
    g_byte_array_unref(r.got);
}

/* Started programs inherit the agent's environment (WAYLAND_DISPLAY and
 * the like come from the sandbox that way). */
static void test_environment(Fixture *x, gconstpointer data)
{
    g_autofree char *out = NULL;

    g_assert_cmpint(run(x, "echo \"$BH_RPC_TEST_MARK\"", NULL, &out, NULL), ==, 0);
    g_assert_cmpstr(out, ==, "inherited-from-the-agent\n");
}

/* Only stderr wanted: stdout is streamed but dropped, stdin is empty. */
static void test_only_stderr(Fixture *x, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *got = NULL;
    int e = bh_rpc_memfd(NULL, 0);
    int status = -1;

    g_assert_true(bh_rpc_exec_sync(x->client, NULL, "seq 1 100000; cat; echo only-this >&2", -1, -1, e, TRUE,
                                   &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);
    got = bh_rpc_memfd_string(e);
    g_assert_cmpstr(got, ==, "only-this\n");
    close(e);
}

typedef struct {
    int n;
    int done;
    int out[64];
    int status[64];
    GError *error[64];
    gboolean all;
} Many;

typedef struct {
    Many *m;
    int i;
    BhRpcClient *c;
} One;

static void on_one(GObject *src, GAsyncResult *res, gpointer data)
{
    One *one = data;

    bh_rpc_client_exec_finish(one->c, res, &one->m->status[one->i], &one->m->error[one->i]);
    if (++one->m->done == one->m->n)
        one->m->all = TRUE;
    g_free(one);
}

/* n calls at once on one connection; more than BH_RPC_MAX_REQUESTS queue. */
static void run_many(Fixture *x, int n)
{
    Many m = {.n = n};

    g_assert_cmpint(n, <=, 64);
    for (int i = 0; i < n; i++) {
        One *one = g_new0(One, 1);
        g_autofree char *cmd = g_strdup_printf("sleep 0.%d; echo call-%d; exit %d", i % 3, i, i % 7);
        one->m = &m;
        one->i = i;
        one->c = x->client;
        m.out[i] = bh_rpc_memfd(NULL, 0);
        bh_rpc_client_exec_async(x->client, NULL, cmd, -1, m.out[i], -1, TRUE, NULL, on_one, one);
    }
    bh_rpc_spin_until(&m.all, "concurrent calls");
    for (int i = 0; i < n; i++) {
        g_autofree char *want = g_strdup_printf("call-%d\n", i);
        g_autofree char *got = bh_rpc_memfd_string(m.out[i]);
        g_assert_no_error(m.error[i]);
        g_assert_true(WIFEXITED(m.status[i]));
        g_assert_cmpint(WEXITSTATUS(m.status[i]), ==, i % 7);
        g_assert_cmpstr(got, ==, want);
        close(m.out[i]);
    }
}

static void test_concurrent_20(Fixture *x, gconstpointer data)
{
    run_many(x, 20);
}

static void test_concurrent_over_limit(Fixture *x, gconstpointer data)
{
    run_many(x, (int)BH_RPC_MAX_REQUESTS + 8);
}

static void test_no_wait(Fixture *x, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *flag = g_build_filename(x->f.tmp, "started", NULL);
    g_autofree char *cmd = g_strdup_printf("sleep 0.2; touch '%s'", flag);
    int status = -1;

    /* Completes before the program does: the file is not there yet. */
    g_assert_true(bh_rpc_exec_sync(x->client, NULL, cmd, -1, -1, -1, FALSE, &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);
    for (int i = 0; i < 600 && !g_file_test(flag, G_FILE_TEST_EXISTS); i++)
        g_usleep(100000);
    g_assert_true(g_file_test(flag, G_FILE_TEST_EXISTS));
    /* Without fds and with WAIT, stdio is /dev/null. */
    g_assert_true(bh_rpc_exec_sync(x->client, NULL, "read x; exit $?", -1, -1, -1, TRUE, &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(WEXITSTATUS(status), !=, 0);
}

typedef struct {
    int n;
    gboolean all;
} Pings;

static void on_ping(GObject *src, GAsyncResult *res, gpointer data)
{
    Pings *p = data;
    GError *err = NULL;

    g_assert_true(bh_rpc_client_ping_finish(BH_RPC_CLIENT(src), res, &err));
    g_assert_no_error(err);
    if (++p->n == 3)
        p->all = TRUE;
}

static void test_ping(Fixture *x, gconstpointer data)
{
    Pings p = {0};

    for (int i = 0; i < 3; i++)
        bh_rpc_client_ping_async(x->client, NULL, on_ping, &p);
    bh_rpc_spin_until(&p.all, "ping");
    g_assert_cmpint(p.n, ==, 3);
}

/* Figures for docs/rpc.md; only with -m perf (not in the normal suite):
 *   build/tests/unit/rpc/test-rpc-exec -m perf -p /rpc/exec/perf */
static void test_perf(Fixture *x, gconstpointer data)
{
    const gsize len = 64u << 20;
    g_autofree guint8 *buf = NULL;
    g_autoptr(GError) err = NULL;
    gint64 t0;
    double secs;
    int in, o, status = -1;
    const int calls = 200;

    if (!g_test_perf()) {
        g_test_skip("run with -m perf");
        return;
    }
    buf = g_malloc0(len);
    in = bh_rpc_memfd(buf, len);
    o = bh_rpc_memfd(NULL, 0);
    t0 = g_get_monotonic_time();
    g_assert_true(bh_rpc_exec_sync(x->client, NULL, "cat", in, o, -1, TRUE, &status, &err));
    secs = (double)(g_get_monotonic_time() - t0) / 1e6;
    g_assert_no_error(err);
    g_assert_cmpint(lseek(o, 0, SEEK_END), ==, (off_t)len);
    g_test_message("cat of 64 MiB (stdin in, stdout back): %.2f s, %.1f MiB/s each way", secs, 64.0 / secs);
    close(in);
    close(o);

    t0 = g_get_monotonic_time();
    for (int i = 0; i < calls; i++) {
        g_assert_true(bh_rpc_exec_sync(x->client, NULL, "true", -1, -1, -1, TRUE, &status, &err));
        g_assert_no_error(err);
    }
    secs = (double)(g_get_monotonic_time() - t0) / 1e6;
    g_test_message("%d sequential 'true' calls (fork + exec sh + reap + EXIT): %.2f ms each", calls,
                   secs * 1000.0 / calls);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/rpc/exec/" name, Fixture, NULL, setup, fn, teardown)
    ADD("echo", test_echo);
    ADD("exit-codes-and-signals", test_exit_codes);
    ADD("stderr-separate", test_stderr_separate);
    ADD("stdin-small", test_stdin_small);
    ADD("stdin-5mib-cat", test_stdin_5mib);
    ADD("big-output", test_big_output);
    ADD("stdin-program-stops-reading", test_stdin_program_stops_reading);
    ADD("pipe-sink", test_pipe_sink);
    ADD("environment", test_environment);
    ADD("only-stderr", test_only_stderr);
    ADD("concurrent-20", test_concurrent_20);
    ADD("concurrent-over-limit", test_concurrent_over_limit);
    ADD("no-wait", test_no_wait);
    ADD("ping", test_ping);
    ADD("perf", test_perf);
    return g_test_run();
}
