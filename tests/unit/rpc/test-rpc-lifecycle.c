/* test-rpc-lifecycle.c — what happens around the calls: the agent dying
 * mid-call, dom0 disconnecting and reconnecting, the connect timeout,
 * cancellation, users (switching, refusing), argument checks, and that the
 * agent reaps its children and keeps no descriptors of finished calls. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead/rpc-protocol.h"
#include "bulkhead/vchan.h"
#include "rpc-test-util.h"

typedef BhRpcFixture Fixture;

typedef struct {
    gboolean done;
    gboolean ok;
    int status;
    GError *error;
} Result;

static void on_exec(GObject *src, GAsyncResult *res, gpointer data)
{
    Result *r = data;

    r->ok = bh_rpc_client_exec_finish(BH_RPC_CLIENT(src), res, &r->status, &r->error);
    r->done = TRUE;
}

static void on_disconnected(BhRpcClient *c, GError *why, gpointer data)
{
    GError **out = data;

    g_assert_null(*out);
    *out = g_error_copy(why);
}

/* A program that has started: its stdout says so. */
static void wait_for_output(int fd, const char *what)
{
    for (int i = 0; i < 6000; i++) {
        g_autofree char *s = bh_rpc_memfd_string(fd);
        if (strstr(s, what))
            return;
        g_main_context_iteration(NULL, FALSE);
        g_usleep(10000);
    }
    g_error("'%s' never appeared", what);
}

static void test_agent_killed_mid_call(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL, why = NULL;
    g_autoptr(BhRpcClient) c = NULL;
    Result r = {0};
    int out = bh_rpc_memfd(NULL, 0);

    bh_rpc_start_agent(f, NULL, FALSE);
    c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
    g_assert_no_error(err);
    g_signal_connect(c, "disconnected", G_CALLBACK(on_disconnected), &why);
    bh_rpc_client_exec_async(c, NULL, "echo running $$; exec sleep 600", -1, out, -1, TRUE, NULL, on_exec,
                             &r);
    wait_for_output(out, "running ");
    bh_rpc_stop_agent(f, SIGKILL);
    bh_rpc_spin_until(&r.done, "the call after the agent died");
    g_assert_false(r.ok);
    g_assert_error(r.error, BH_RPC_ERROR, BH_RPC_ERROR_DISCONNECTED);
    g_assert_nonnull(strstr(r.error->message, "test-qube"));
    g_clear_error(&r.error);
    g_assert_error(why, BH_RPC_ERROR, BH_RPC_ERROR_DISCONNECTED);
    g_assert_false(bh_rpc_client_is_connected(c));
    /* Later calls fail at once instead of hanging. */
    r = (Result){0};
    bh_rpc_client_exec_async(c, NULL, "true", -1, -1, -1, TRUE, NULL, on_exec, &r);
    bh_rpc_spin_until(&r.done, "a call on a dead connection");
    g_assert_error(r.error, BH_RPC_ERROR, BH_RPC_ERROR_DISCONNECTED);
    g_clear_error(&r.error);
    /* The orphaned sleep (its pid printed above) must not outlive the test. */
    {
        g_autofree char *s = bh_rpc_memfd_string(out);
        long pid = strtol(strstr(s, "running ") + 8, NULL, 10);
        g_assert_cmpint(pid, >, 1);
        g_assert_cmpint(kill((pid_t)pid, SIGKILL), ==, 0);
    }
    close(out);
}

static void expect_echo(BhRpcClient *c, const char *word)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *cmd = g_strdup_printf("echo %s", word);
    g_autofree char *want = g_strdup_printf("%s\n", word);
    g_autofree char *got = NULL;
    int out = bh_rpc_memfd(NULL, 0);
    int status = -1;

    g_assert_true(bh_rpc_exec_sync(c, NULL, cmd, -1, out, -1, TRUE, &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);
    got = bh_rpc_memfd_string(out);
    g_assert_cmpstr(got, ==, want);
    close(out);
}

/* dom0 goes away and comes back: the agent listens again each time, and
 * programs of the old connection get SIGHUP (their pipes are closed too, so
 * the trap here must not write to stderr: that would be SIGPIPE first). */
static void test_reconnect(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *flag = g_build_filename(f->tmp, "hup", NULL);
    g_autofree char *cmd = g_strdup_printf("trap 'touch %s; exit 0' HUP; echo armed; exec 2>/dev/null; "
                                           "while :; do sleep 0.05; done",
                                           flag);
    int out = bh_rpc_memfd(NULL, 0);
    Result r = {0};

    bh_rpc_start_agent(f, NULL, FALSE);
    for (int round = 0; round < 3; round++) {
        g_autoptr(BhRpcClient) c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
        g_autofree char *word = g_strdup_printf("round-%d", round);
        g_assert_no_error(err);
        expect_echo(c, word);
        if (round == 1) {
            bh_rpc_client_exec_async(c, NULL, cmd, -1, out, -1, TRUE, NULL, on_exec, &r);
            wait_for_output(out, "armed\n");
        }
        bh_rpc_client_close(c);
        g_assert_false(bh_rpc_client_is_connected(c));
        if (round == 1) {
            bh_rpc_spin_until(&r.done, "the call on the closed connection");
            g_assert_error(r.error, BH_RPC_ERROR, BH_RPC_ERROR_DISCONNECTED);
            g_clear_error(&r.error);
            for (int i = 0; i < 6000 && !g_file_test(flag, G_FILE_TEST_EXISTS); i++)
                g_usleep(10000);
            g_assert_true(g_file_test(flag, G_FILE_TEST_EXISTS));
        }
    }
    /* A new agent after the old one died: the client's retry finds it. */
    bh_rpc_stop_agent(f, SIGKILL);
    bh_rpc_start_agent(f, NULL, FALSE);
    {
        g_autoptr(BhRpcClient) c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
        g_assert_no_error(err);
        expect_echo(c, "after-restart");
    }
    close(out);
}

typedef struct {
    gboolean done;
    BhRpcClient *client;
    GError *error;
} Connect;

static void on_connect(GObject *src, GAsyncResult *res, gpointer data)
{
    Connect *c = data;

    c->client = bh_rpc_client_connect_finish(res, &c->error);
    c->done = TRUE;
}

/* The agent starts after the client began to connect: the client retries
 * until HELLO, which is how the backend learns "agent ready". */
static void test_connect_waits_for_agent(Fixture *f, gconstpointer data)
{
    Connect c = {0};
    gint64 until = g_get_monotonic_time() + 300 * 1000;

    bh_rpc_client_connect_async(f->domid, "late", BH_TEST_DEADLINE_MS, NULL, on_connect, &c);
    while (g_get_monotonic_time() < until) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(5000);
    }
    g_assert_false(c.done);
    bh_rpc_start_agent(f, NULL, FALSE);
    bh_rpc_spin_until(&c.done, "connect to a late agent");
    g_assert_no_error(c.error);
    g_assert_true(bh_rpc_client_is_connected(c.client));
    g_assert_cmpstr(bh_rpc_client_get_qube_name(c.client), ==, "late");
    expect_echo(c.client, "late-but-ready");
    g_object_unref(c.client);
}

static void test_connect_timeout(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    BhRpcClient *c = bh_rpc_connect_sync(99, 300, &err);

    g_assert_null(c);
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(err->message, "300 ms"));
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 300 * 1000);
}

static void test_cancel(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BhRpcClient) c = NULL;
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    Result r = {0};
    int out = bh_rpc_memfd(NULL, 0);

    bh_rpc_start_agent(f, NULL, FALSE);
    c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
    g_assert_no_error(err);
    bh_rpc_client_exec_async(c, NULL, "echo running; exec sleep 600", -1, out, -1, TRUE, cancel, on_exec, &r);
    wait_for_output(out, "running\n");
    g_cancellable_cancel(cancel);
    bh_rpc_spin_until(&r.done, "the cancelled call");
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&r.error);
    /* The connection stays usable, and the killed program's EXIT is
     * absorbed quietly. */
    expect_echo(c, "still-here");
    g_assert_true(bh_rpc_client_is_connected(c));
    close(out);
}

static const char *self_name(void)
{
    struct passwd *pw = getpwuid(geteuid());

    g_assert_nonnull(pw);
    return pw->pw_name;
}

static void test_users(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BhRpcClient) c = NULL;
    g_autofree char *uid = g_strdup_printf("%u\n", (unsigned)geteuid());
    int status = -1;
    int out;

    bh_rpc_start_agent(f, NULL, FALSE);
    c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
    g_assert_no_error(err);

    /* The agent's own user, by name and by "". */
    for (int i = 0; i < 2; i++) {
        g_autofree char *got = NULL;
        out = bh_rpc_memfd(NULL, 0);
        g_assert_true(bh_rpc_exec_sync(c, i ? self_name() : "", "id -u", -1, out, -1, TRUE, &status, &err));
        g_assert_no_error(err);
        got = bh_rpc_memfd_string(out);
        g_assert_cmpstr(got, ==, uid);
        close(out);
    }

    out = bh_rpc_memfd(NULL, 0);
    g_assert_false(bh_rpc_exec_sync(c, "nosuchuser", "id -u", -1, out, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_EXEC_FAILED);
    g_assert_nonnull(strstr(err->message, geteuid() == 0 ? "no such user" : "cannot switch users"));
    g_clear_error(&err);

    if (geteuid() == 0 && getpwnam("nobody")) {
        /* As root the agent really switches: uid, HOME, USER follow. */
        g_autofree char *got = NULL;
        g_autofree char *want = g_strdup_printf("%u nobody\n", (unsigned)getpwnam("nobody")->pw_uid);
        g_assert_true(bh_rpc_exec_sync(c, "nobody", "echo $(id -u) $USER", -1, out, -1, TRUE, &status, &err));
        g_assert_no_error(err);
        g_assert_cmpint(status, ==, 0);
        got = bh_rpc_memfd_string(out);
        g_assert_cmpstr(got, ==, want);
    }
    close(out);
}

/* uid 0 without CAP_SETUID/CAP_SETGID (a sandbox's mapped root that may not
 * switch): the call fails with the reason, nothing runs. */
static void test_user_switch_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BhRpcClient) c = NULL;
    g_autofree char *flag = g_build_filename(f->tmp, "ran", NULL);
    g_autofree char *cmd = g_strdup_printf("touch '%s'", flag);
    int status = -1;

    if (geteuid() != 0 || !getpwnam("nobody")) {
        g_test_skip("needs root and a 'nobody' user (the non-root refusal is in /rpc/life/users)");
        return;
    }
    bh_rpc_start_agent(f, NULL, TRUE);
    c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
    g_assert_no_error(err);
    g_assert_false(bh_rpc_exec_sync(c, "nobody", cmd, -1, -1, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_EXEC_FAILED);
    g_assert_nonnull(strstr(err->message, "nobody"));
    g_assert_nonnull(strstr(err->message, "Operation not permitted"));
    g_assert_false(g_file_test(flag, G_FILE_TEST_EXISTS));
}

static void test_invalid_arguments(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BhRpcClient) c = NULL;
    g_autofree char *huge = g_strnfill(BH_RPC_MAX_CMDLINE_BYTES + 1, 'x');
    int status;

    bh_rpc_start_agent(f, NULL, FALSE);
    c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
    g_assert_no_error(err);
    g_assert_false(bh_rpc_exec_sync(c, "Root!", "true", -1, -1, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(bh_rpc_exec_sync(c, NULL, "", -1, -1, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(bh_rpc_exec_sync(c, NULL, huge, -1, -1, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(bh_rpc_exec_sync(c, NULL, "caf\xc3", -1, -1, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(bh_rpc_exec_sync(c, NULL, "true", -1, 1, -1, FALSE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_INVALID);
    g_clear_error(&err);
    /* The longest command line the protocol carries does run. */
    memcpy(huge, ": ", 2);
    huge[BH_RPC_MAX_CMDLINE_BYTES] = '\0';
    g_assert_true(bh_rpc_exec_sync(c, NULL, huge, -1, -1, -1, TRUE, &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);
}

/* Defence in depth: dom0 is trusted, but a malformed message from it still
 * only ends that connection; the agent listens again and serves the next. */
static void test_agent_drops_bad_dom0(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *what;
        struct bh_rpc_hdr hdr;
        const char *body;
    } bad[] = {
        {"oversized EXEC", {BH_RPC_EXEC, 1, 0x7fffffff}, ""},
        {"agent-only type", {BH_RPC_STDOUT, 1, 1}, "x"},
        {"reserved type", {BH_RPC_CLIPBOARD_SET, 1, 2}, "hi"},
    };
    g_autoptr(GError) err = NULL;

    bh_rpc_start_agent(f, NULL, FALSE);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct bh_rpc_hello hello = {BH_RPC_PROTOCOL_VERSION};
        struct bh_rpc_hdr hh = {BH_RPC_HELLO, 0, sizeof hello};
        struct bh_vchan *v = NULL;
        guint8 sink[256];

        for (int tries = 0; !v && tries < 6000; tries++) {
            v = bh_vchan_client_init(f->domid, BH_RPC_VCHAN_PORT);
            if (!v)
                g_usleep(10000);
        }
        g_assert_nonnull(v);
        g_assert_cmpint(bh_vchan_send(v, &hh, sizeof hh), ==, sizeof hh);
        g_assert_cmpint(bh_vchan_send(v, &hello, sizeof hello), ==, sizeof hello);
        g_assert_cmpint(bh_vchan_send(v, &bad[i].hdr, sizeof bad[i].hdr), ==, sizeof bad[i].hdr);
        if (bad[i].body[0])
            bh_vchan_send(v, bad[i].body, strlen(bad[i].body));
        /* The agent's HELLO, then end of stream: it hung up on us. */
        for (;;) {
            ssize_t n;
            if (bh_vchan_wait(v) < 0)
                break;
            n = bh_vchan_read(v, sink, sizeof sink);
            if (n < 0)
                break;
        }
        g_test_message("agent hung up after %s", bad[i].what);
        bh_vchan_close(v);
    }
    {
        g_autoptr(BhRpcClient) c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
        g_assert_no_error(err);
        expect_echo(c, "served-after-bad-dom0");
    }
}

static unsigned count_dir(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    unsigned n = 0;

    g_assert_nonnull(d);
    while (g_dir_read_name(d))
        n++;
    return n;
}

/* After many calls the agent holds the descriptors it started with and
 * has no children left, zombies included. */
static void test_agent_cleans_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BhRpcClient) c = NULL;
    g_autofree char *fds = NULL, *children = NULL;
    unsigned before, after = 0;
    int status;

    bh_rpc_start_agent(f, NULL, FALSE);
    c = bh_rpc_connect_sync(f->domid, BH_TEST_DEADLINE_MS, &err);
    g_assert_no_error(err);
    fds = g_strdup_printf("/proc/%d/fd", (int)f->agent);
    children = g_strdup_printf("/proc/%d/task/%d/children", (int)f->agent, (int)f->agent);
    before = count_dir(fds);
    for (int i = 0; i < 10; i++) {
        int out = bh_rpc_memfd(NULL, 0);
        g_assert_true(bh_rpc_exec_sync(c, NULL, "echo x; echo y >&2", out, out, out, TRUE, &status, &err));
        g_assert_no_error(err);
        g_assert_true(bh_rpc_exec_sync(c, NULL, "true", -1, -1, -1, FALSE, &status, &err));
        g_assert_no_error(err);
        g_assert_false(bh_rpc_exec_sync(c, "nosuchuser", "true", -1, -1, -1, TRUE, &status, &err));
        g_clear_error(&err);
        close(out);
    }
    for (int i = 0; i < 6000; i++) {
        g_autofree char *kids = NULL;
        g_assert_true(g_file_get_contents(children, &kids, NULL, NULL));
        after = count_dir(fds);
        if (kids[0] == '\0' && after == before)
            break;
        g_usleep(10000);
    }
    g_assert_cmpuint(after, ==, before);
    {
        g_autofree char *kids = NULL;
        g_assert_true(g_file_get_contents(children, &kids, NULL, NULL));
        g_assert_cmpstr(kids, ==, "");
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn)                                                                                        \
    g_test_add("/rpc/life/" name, Fixture, NULL, bh_rpc_fixture_setup, fn, bh_rpc_fixture_teardown)
    ADD("agent-killed-mid-call", test_agent_killed_mid_call);
    ADD("reconnect", test_reconnect);
    ADD("connect-timeout", test_connect_timeout);
    ADD("cancel", test_cancel);
    ADD("users", test_users);
    ADD("user-switch-refused", test_user_switch_refused);
    ADD("invalid-arguments", test_invalid_arguments);
    ADD("agent-cleans-up", test_agent_cleans_up);
    ADD("agent-drops-bad-dom0", test_agent_drops_bad_dom0);
    ADD("connect-waits-for-agent", test_connect_waits_for_agent);
    return g_test_run();
}
