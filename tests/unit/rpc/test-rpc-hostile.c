/* test-rpc-hostile.c — the dom0 client against a hostile agent: a forked
 * process that serves the vchan like bulkhead-agent but sends what a
 * compromised qube might (bad version, oversized chunks, unknown requests,
 * data beyond credit, descriptors, garbage, terminal escapes, silence).
 * Each time the client must drop the connection with a logged reason that
 * names the qube, fail the call with BH_RPC_ERROR_PROTOCOL (or time out
 * cleanly), and never crash or hang. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead/rpc.h"
#include "bulkhead/vchan.h"
#include "rpc-test-util.h"

typedef enum {
    EVIL_VERSION,
    EVIL_SILENT,
    EVIL_OVERSIZED,
    EVIL_UNKNOWN_REQUEST,
    EVIL_BEYOND_CREDIT,
    EVIL_FD,
    EVIL_GARBAGE,
    EVIL_ESCAPES,
    EVIL_EXIT_EARLY,
} Evil;

static void put_msg(struct bh_vchan *v, uint32_t type, uint32_t req, const void *body, uint32_t len)
{
    struct bh_rpc_hdr h = {type, req, len};

    bh_vchan_send(v, &h, sizeof h);
    if (len)
        bh_vchan_send(v, body, len);
}

/* Reads one whole message from dom0 (trusted here: this is the test). */
static uint32_t get_msg(struct bh_vchan *v, uint32_t *type)
{
    static uint8_t body[BH_RPC_MAX_BODY_BYTES];
    struct bh_rpc_hdr h;

    if (bh_vchan_recv(v, &h, sizeof h) < 0 || h.untrusted_len > sizeof body ||
        bh_vchan_recv(v, body, h.untrusted_len) < 0)
        _exit(3);
    *type = h.type;
    return h.request;
}

/* The fake agent: a child process with its own domain id. */
__attribute__((noreturn)) static void evil_agent(int domid, Evil evil)
{
    char id[16];
    struct bh_vchan *v;
    struct bh_rpc_hello hello = {evil == EVIL_VERSION ? 0x00090000u : BH_RPC_PROTOCOL_VERSION};
    uint32_t type = 0, req;
    static uint8_t junk[200000];

    snprintf(id, sizeof id, "%d", domid);
    setenv("BH_VCHAN_DOMID", id, 1);
    v = bh_vchan_server_init(0, BH_RPC_VCHAN_PORT, 0, 0);
    if (!v || bh_vchan_wait(v) < 0)
        _exit(2);
    if (evil != EVIL_SILENT)
        put_msg(v, BH_RPC_HELLO, 0, &hello, sizeof hello);
    get_msg(v, &type); /* dom0's HELLO */
    if (evil == EVIL_VERSION || evil == EVIL_SILENT)
        goto linger;
    req = get_msg(v, &type); /* the EXEC */
    switch (evil) {
    case EVIL_OVERSIZED:
        put_msg(v, BH_RPC_STDOUT, req, NULL, 0); /* harmless first */
        {
            struct bh_rpc_hdr h = {BH_RPC_STDERR, req, 0x7fffffff};
            bh_vchan_send(v, &h, sizeof h);
        }
        break;
    case EVIL_UNKNOWN_REQUEST:
        put_msg(v, BH_RPC_STDOUT, req + 1000, "boo", 3);
        break;
    case EVIL_BEYOND_CREDIT:
        /* Twice the window at once, ignoring credit. */
        for (int i = 0; i < 4; i++)
            put_msg(v, BH_RPC_STDOUT, req, junk, BH_RPC_MAX_CHUNK);
        break;
    case EVIL_FD: {
        struct bh_rpc_hdr h = {BH_RPC_STDOUT, req, 1};
        bh_vchan_send_fd(v, &h, sizeof h, memfd_create("bh-evil-fd", 0));
        bh_vchan_send(v, "x", 1);
        break;
    }
    case EVIL_GARBAGE:
        memset(junk, 0xa5, 4096);
        bh_vchan_send(v, junk, 4096);
        break;
    case EVIL_ESCAPES: {
        static const char text[] = "\x1b]0;owned\x07\x1b[2J[dom0] trust me\xe2\x80\xae";
        struct bh_rpc_exit e = {BH_RPC_EXIT_FAILED, 1};
        uint8_t body[sizeof e + sizeof text];
        memcpy(body, &e, sizeof e);
        memcpy(body + sizeof e, text, sizeof text - 1);
        put_msg(v, BH_RPC_EXIT, req, body, (uint32_t)(sizeof e + sizeof text - 1));
        break;
    }
    case EVIL_EXIT_EARLY: {
        /* EXITED while stdout is still open: output could be missing. */
        struct bh_rpc_exit e = {BH_RPC_EXIT_EXITED, 0};
        put_msg(v, BH_RPC_EXIT, req, &e, sizeof e);
        break;
    }
    default:
        break;
    }
linger:
    /* Until dom0 hangs up: the client must be the one to leave. */
    while (bh_vchan_wait(v) == 0) {
        uint8_t sink[4096];
        if (bh_vchan_read(v, sink, sizeof sink) < 0)
            break;
    }
    _exit(0);
}

typedef struct {
    BhRpcFixture f;
    pid_t evil;
} Fixture;

static void setup(Fixture *x, gconstpointer data)
{
    bh_rpc_fixture_setup(&x->f, data);
    x->evil = fork();
    g_assert_cmpint(x->evil, >=, 0);
    if (x->evil == 0)
        evil_agent(x->f.domid, (Evil)GPOINTER_TO_INT(data));
}

static void teardown(Fixture *x, gconstpointer data)
{
    int status;

    /* It exits once the client has hung up; kill it if it did not. */
    for (int i = 0; i < 500 && waitpid(x->evil, &status, WNOHANG) == 0; i++)
        g_usleep(10000);
    if (kill(x->evil, 0) == 0) {
        kill(x->evil, SIGKILL);
        waitpid(x->evil, &status, 0);
        g_error("the fake agent was still connected: the client did not drop it");
    }
    bh_rpc_fixture_teardown(&x->f, data);
}

static void on_disconnected(BhRpcClient *c, GError *why, gpointer data)
{
    GError **out = data;

    *out = g_error_copy(why);
}

/* Connects, runs one call with stdout to `out` (-1: a memfd), expects it
 * to fail with `code`. */
static void expect_call_error_to(Fixture *x, int out, int code, const char *words)
{
    g_autoptr(GError) err = NULL, why = NULL;
    g_autoptr(BhRpcClient) c = bh_rpc_connect_sync(x->f.domid, BH_TEST_DEADLINE_MS, &err);
    int status = -1;

    if (out < 0)
        out = bh_rpc_memfd(NULL, 0);
    g_assert_no_error(err);
    g_signal_connect(c, "disconnected", G_CALLBACK(on_disconnected), &why);
    g_assert_false(bh_rpc_exec_sync(c, NULL, "cat", -1, out, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, code);
    g_test_message("client says: %s", err->message);
    g_assert_nonnull(strstr(err->message, "qube 'test-qube'"));
    if (words)
        g_assert_nonnull(strstr(err->message, words));
    if (code == BH_RPC_ERROR_PROTOCOL) {
        g_assert_false(bh_rpc_client_is_connected(c));
        g_assert_error(why, BH_RPC_ERROR, BH_RPC_ERROR_PROTOCOL);
    }
    close(out);
}

static void expect_call_error(Fixture *x, int code, const char *words)
{
    expect_call_error_to(x, -1, code, words);
}

static void test_version(Fixture *x, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    BhRpcClient *c = bh_rpc_connect_sync(x->f.domid, BH_TEST_DEADLINE_MS, &err);

    g_assert_null(c);
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(err->message, "major must match"));
}

static void test_silent(Fixture *x, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    BhRpcClient *c = bh_rpc_connect_sync(x->f.domid, 500, &err);

    g_assert_null(c);
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(err->message, "500 ms"));
}

static void test_oversized(Fixture *x, gconstpointer data)
{
    expect_call_error(x, BH_RPC_ERROR_PROTOCOL, "body length 2147483647");
}

static void test_unknown_request(Fixture *x, gconstpointer data)
{
    expect_call_error(x, BH_RPC_ERROR_PROTOCOL, "no such request");
}

static void test_beyond_credit(Fixture *x, gconstpointer data)
{
    int p[2];

    /* A sink nobody reads, 4 KiB deep: dom0 can return at most that much
     * credit, so the agent's burst of twice the window must overrun it. */
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    g_assert_cmpint(fcntl(p[1], F_SETPIPE_SZ, 4096), >=, 4096);
    expect_call_error_to(x, p[1], BH_RPC_ERROR_PROTOCOL, "of credit");
    close(p[0]);
}

/* Whether this process holds a descriptor whose link names `what`. */
static gboolean holds_fd_to(const char *what)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    const char *n;

    g_assert_nonnull(d);
    while ((n = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename("/proc/self/fd", n, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        if (target && strstr(target, what))
            return TRUE;
    }
    return FALSE;
}

static void test_fd(Fixture *x, gconstpointer data)
{
    expect_call_error(x, BH_RPC_ERROR_PROTOCOL, "file descriptor");
    /* The descriptor the agent attached was closed, not kept. */
    g_assert_false(holds_fd_to("bh-evil-fd"));
}

static void test_garbage(Fixture *x, gconstpointer data)
{
    expect_call_error(x, BH_RPC_ERROR_PROTOCOL, "not part of protocol");
}

static void test_escapes(Fixture *x, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BhRpcClient) c = bh_rpc_connect_sync(x->f.domid, BH_TEST_DEADLINE_MS, &err);
    int status;

    g_assert_no_error(err);
    g_assert_false(bh_rpc_exec_sync(c, NULL, "cat", -1, -1, -1, TRUE, &status, &err));
    g_assert_error(err, BH_RPC_ERROR, BH_RPC_ERROR_EXEC_FAILED);
    g_assert_null(strchr(err->message, 0x1b));
    g_assert_null(strchr(err->message, 0x07));
    g_assert_null(strstr(err->message, "\xe2\x80\xae"));
    /* The qube's name comes first, from dom0, whatever the agent wrote. */
    g_assert_true(g_str_has_prefix(err->message, "qube 'test-qube': "));
    /* A well-formed EXIT keeps the connection. */
    g_assert_true(bh_rpc_client_is_connected(c));
    bh_rpc_client_close(c);
}

static void test_exit_early(Fixture *x, gconstpointer data)
{
    expect_call_error(x, BH_RPC_ERROR_PROTOCOL, "before end of stream");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, evil, fn)                                                                                  \
    g_test_add("/rpc/hostile/" name, Fixture, GINT_TO_POINTER(evil), setup, fn, teardown)
    ADD("version", EVIL_VERSION, test_version);
    ADD("silent", EVIL_SILENT, test_silent);
    ADD("oversized-chunk", EVIL_OVERSIZED, test_oversized);
    ADD("unknown-request", EVIL_UNKNOWN_REQUEST, test_unknown_request);
    ADD("beyond-credit", EVIL_BEYOND_CREDIT, test_beyond_credit);
    ADD("file-descriptor", EVIL_FD, test_fd);
    ADD("garbage", EVIL_GARBAGE, test_garbage);
    ADD("terminal-escapes", EVIL_ESCAPES, test_escapes);
    ADD("exit-before-output-ends", EVIL_EXIT_EARLY, test_exit_early);
    return g_test_run();
}
