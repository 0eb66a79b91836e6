/* test-vchan-socket.c — the socket transport against real sockets and real
 * processes: set-up and naming, one client only, the 4 KiB ring carrying
 * 64 MiB each way intact, non-blocking stream calls, buffer_space as a
 * promise, disconnect reporting, descriptor passing (hostile extras, queue
 * overflow, truncation), the socket directory's permission rules, and what a
 * guest plants in its directory (links, foreign sockets) never being followed.
 *
 * Owns: these tests. Must never: use a directory outside its fixture. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/vchan.h"
#include "vchan-test-util.h"

#define PORT 6000

static void make_pair(int port, size_t read_min, size_t write_min, struct bh_vchan **srv,
                      struct bh_vchan **cli)
{
    *srv = bh_vchan_server_init(0, port, read_min, write_min);
    g_assert_nonnull(*srv);
    *cli = bh_vchan_client_init(0, port);
    g_assert_nonnull(*cli);
    g_assert_cmpint(bh_vchan_wait(*srv), ==, 0);
    g_assert_cmpint(bh_vchan_is_open(*srv), ==, BH_VCHAN_CONNECTED);
    g_assert_cmpint(bh_vchan_is_open(*cli), ==, BH_VCHAN_CONNECTED);
}

static char *sock_path(const BhVchanFixture *f, int guest, int server, int client, int port)
{
    return g_strdup_printf("%s/%d/%d-%d-%d.sock", f->dir, guest, server, client, port);
}

/* Exit status of a child: 0 when it ran to the end. */
static int reap(pid_t pid)
{
    int status = 0;

    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (WIFSIGNALED(status))
        g_test_message("child %d killed by signal %d", (int)pid, WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static struct bh_vchan *client_retry(int domain, int port)
{
    for (int i = 0; i < 2000; i++) {
        struct bh_vchan *v = bh_vchan_client_init(domain, port);
        if (v)
            return v;
        g_assert_true(errno == ENOENT || errno == ECONNREFUSED || errno == EAGAIN);
        g_usleep(5000);
    }
    g_assert_not_reached();
}

static void test_connect(BhVchanFixture *f, const void *data)
{
    g_autofree char *path = sock_path(f, 0, 0, 0, PORT);
    struct bh_vchan *srv = bh_vchan_server_init(0, PORT, 4096, 4096);
    struct bh_vchan *cli;
    struct stat st;
    char buf[6] = {0};
    int listen_fd;

    g_assert_nonnull(srv);
    g_assert_cmpint(bh_vchan_transport(srv), ==, BH_VCHAN_SOCKET);
    g_assert_cmpint(bh_vchan_peer_domain(srv), ==, 0);
    g_assert_cmpint(bh_vchan_is_open(srv), ==, BH_VCHAN_WAITING);
    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISSOCK(st.st_mode));
    /* The library created both directories closed to others. */
    g_assert_cmpint(stat(f->dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);

    listen_fd = bh_vchan_fd_for_select(srv);
    g_assert_cmpint(listen_fd, >=, 0);
    cli = bh_vchan_client_init(0, PORT);
    g_assert_nonnull(cli);
    /* The listening socket becomes readable when a client is there. */
    struct pollfd p = {.fd = listen_fd, .events = POLLIN};
    g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
    g_assert_cmpint(bh_vchan_wait(srv), ==, 0);
    g_assert_cmpint(bh_vchan_is_open(srv), ==, BH_VCHAN_CONNECTED);
    g_assert_cmpint(bh_vchan_fd_for_select(srv), !=, listen_fd);
    /* Accepted: the name is gone, so nobody else can connect. */
    g_assert_cmpint(lstat(path, &st), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);

    g_assert_cmpint(bh_vchan_send(cli, "hello", 5), ==, 5);
    g_assert_cmpuint(bh_vchan_data_ready(srv), ==, 5);
    g_assert_cmpint(bh_vchan_recv(srv, buf, 5), ==, 5);
    g_assert_cmpstr(buf, ==, "hello");
    g_assert_cmpint(bh_vchan_send(srv, "world", 5), ==, 5);
    g_assert_cmpint(bh_vchan_recv(cli, buf, 5), ==, 5);
    g_assert_cmpstr(buf, ==, "world");

    bh_vchan_close(cli);
    bh_vchan_close(srv);
    bh_vchan_close(NULL);
}

static void test_no_server(BhVchanFixture *f, const void *data)
{
    g_autofree char *path = NULL;
    struct bh_vchan *srv;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    /* No directory at all yet. */
    g_assert_null(bh_vchan_client_init(0, PORT));
    g_assert_cmpint(errno, ==, ENOENT);

    /* A server that came and went removes its socket. */
    srv = bh_vchan_server_init(0, PORT, 0, 0);
    g_assert_nonnull(srv);
    bh_vchan_close(srv);
    g_assert_null(bh_vchan_client_init(0, PORT));
    g_assert_cmpint(errno, ==, ENOENT);

    /* A socket left behind by a server that died: refused, and retryable. */
    path = sock_path(f, 0, 0, 0, PORT);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    close(fd);
    g_assert_null(bh_vchan_client_init(0, PORT));
    g_assert_cmpint(errno, ==, ECONNREFUSED);

    /* A new server replaces the stale socket. */
    srv = bh_vchan_server_init(0, PORT, 0, 0);
    g_assert_nonnull(srv);
    struct bh_vchan *cli = bh_vchan_client_init(0, PORT);
    g_assert_nonnull(cli);
    bh_vchan_close(cli);
    bh_vchan_close(srv);

    /* Bad arguments. */
    g_assert_null(bh_vchan_client_init(-1, PORT));
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_null(bh_vchan_server_init(0x7ff0, PORT, 0, 0));
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_null(bh_vchan_server_init(0, -1, 0, 0));
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_null(bh_vchan_server_init(0, PORT, (size_t)2 << 20, 0));
    g_assert_cmpint(errno, ==, EINVAL);
}

static void test_second_client(BhVchanFixture *f, const void *data)
{
    struct bh_vchan *srv = bh_vchan_server_init(0, PORT, 0, 0);
    struct bh_vchan *a, *b, *c;
    char buf[4];

    g_assert_nonnull(srv);
    a = bh_vchan_client_init(0, PORT);
    g_assert_nonnull(a);
    /* b gets into the backlog before the server looks. */
    b = bh_vchan_client_init(0, PORT);
    g_assert_nonnull(b);
    g_assert_cmpint(bh_vchan_wait(srv), ==, 0);

    /* The first one is served; the second was turned away. */
    g_assert_cmpint(bh_vchan_send(a, "one", 3), ==, 3);
    g_assert_cmpint(bh_vchan_recv(srv, buf, 3), ==, 3);
    g_assert_cmpmem(buf, 3, "one", 3);
    g_assert_cmpint(bh_vchan_is_open(b), ==, BH_VCHAN_DISCONNECTED);
    g_assert_cmpint(bh_vchan_recv(b, buf, 1), ==, -1);
    g_assert_cmpint(errno, ==, EPIPE);

    /* Nobody can connect any more. */
    c = bh_vchan_client_init(0, PORT);
    g_assert_null(c);
    g_assert_cmpint(errno, ==, ENOENT);

    bh_vchan_close(a);
    bh_vchan_close(b);
    bh_vchan_close(srv);
}

static void test_successor(BhVchanFixture *f, const void *data)
{
    g_autofree char *path = sock_path(f, 0, 0, 0, PORT);
    struct bh_vchan *old = bh_vchan_server_init(0, PORT, 0, 0);
    struct bh_vchan *now = bh_vchan_server_init(0, PORT, 0, 0);
    struct bh_vchan *cli;

    g_assert_nonnull(old);
    g_assert_nonnull(now);
    /* Closing the replaced server leaves its successor's socket alone. */
    bh_vchan_close(old);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    cli = bh_vchan_client_init(0, PORT);
    g_assert_nonnull(cli);
    g_assert_cmpint(bh_vchan_send(cli, "x", 1), ==, 1);
    g_assert_cmpint(bh_vchan_wait(now), ==, 0);
    g_assert_cmpuint(bh_vchan_data_ready(now), ==, 1);
    bh_vchan_close(cli);
    bh_vchan_close(now);
}

/* The child is a guest (domain 5) serving port PORT, like the gui-agent; the
 * parent is dom0's client. 1 MiB goes each way through exact calls. */
static int fork_guest_echo(void)
{
    struct bh_vchan *v;
    char *buf = g_malloc(1 << 20);

    g_setenv("BH_VCHAN_DOMID", "5", TRUE);
    v = bh_vchan_server_init(0, PORT, 65536, 65536);
    if (!v)
        return 1;
    if (bh_vchan_recv(v, buf, 1 << 20) != 1 << 20)
        return 2;
    if (bh_vchan_send(v, buf, 1 << 20) != 1 << 20)
        return 3;
    /* Wait for dom0 to hang up before closing. */
    if (bh_vchan_wait(v) != -1 || errno != EPIPE)
        return 4;
    bh_vchan_close(v);
    g_free(buf);
    return 0;
}

static void test_fork(BhVchanFixture *f, const void *data)
{
    g_autofree char *path = sock_path(f, 5, 5, 0, PORT);
    g_autofree unsigned char *out = g_malloc(1 << 20);
    g_autofree unsigned char *in = g_malloc(1 << 20);
    BhTestStream s = {.seed = 42};
    struct bh_vchan *v;
    pid_t pid;

    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
        _exit(fork_guest_echo());
    v = client_retry(5, PORT);
    g_assert_cmpint(bh_vchan_peer_domain(v), ==, 5);
    bh_test_stream_fill(&s, out, 1 << 20);
    g_assert_cmpint(bh_vchan_send(v, out, 1 << 20), ==, 1 << 20);
    g_assert_cmpint(bh_vchan_recv(v, in, 1 << 20), ==, 1 << 20);
    g_assert_cmpmem(in, 1 << 20, out, 1 << 20);
    /* The guest's socket lived in the guest's own directory. */
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    bh_vchan_close(v);
    g_assert_cmpint(reap(pid), ==, 0);
}

/* Moves `total` bytes each way with random partial reads and writes through
 * the non-blocking stream calls, checking every byte received. */
static int pump(struct bh_vchan *v, uint64_t tx_seed, uint64_t rx_seed, size_t total, uint64_t rng)
{
    enum { CHUNK = 16384 };
    unsigned char tx[CHUNK], rx[CHUNK], want[CHUNK];
    BhTestStream txs = {.seed = tx_seed}, rxs = {.seed = rx_seed};
    size_t sent = 0, rcvd = 0, pending = 0, off = 0;

    while (sent < total || rcvd < total) {
        bool moved = false;

        if (sent < total) {
            ssize_t n;
            if (pending == 0) {
                pending = bh_test_rand_range(&rng, 1, CHUNK);
                if (pending > total - sent)
                    pending = total - sent;
                bh_test_stream_fill(&txs, tx, pending);
                off = 0;
            }
            n = bh_vchan_write(v, tx + off, bh_test_rand_range(&rng, 1, pending));
            if (n < 0) {
                g_printerr("write failed at %zu: %s\n", sent, g_strerror(errno));
                return 1;
            }
            off += (size_t)n;
            pending -= (size_t)n;
            sent += (size_t)n;
            moved |= n > 0;
        }
        if (rcvd < total) {
            size_t want_n = bh_test_rand_range(&rng, 1, CHUNK);
            ssize_t n;
            if (want_n > total - rcvd)
                want_n = total - rcvd;
            n = bh_vchan_read(v, rx, want_n);
            if (n < 0) {
                g_printerr("read failed at %zu: %s\n", rcvd, g_strerror(errno));
                return 2;
            }
            bh_test_stream_fill(&rxs, want, (size_t)n);
            if (memcmp(rx, want, (size_t)n) != 0) {
                g_printerr("corrupt data in the %zu bytes from offset %zu\n", (size_t)n, rcvd);
                return 3;
            }
            rcvd += (size_t)n;
            moved |= n > 0;
        }
        if (!moved) {
            struct pollfd p = {.fd = bh_vchan_fd_for_select(v),
                               .events = POLLIN | (sent < total ? POLLOUT : 0)};
            poll(&p, 1, 1000);
        }
    }
    return 0;
}

static void test_64mib(BhVchanFixture *f, const void *data)
{
    const size_t total = (size_t)64 << 20;
    uint64_t rng = ((uint64_t)g_test_rand_int() << 32) | (uint32_t)g_test_rand_int();
    struct bh_vchan *srv = bh_vchan_server_init(0, PORT, 4096, 4096);
    gint64 t0;
    pid_t pid;

    g_assert_nonnull(srv);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        struct bh_vchan *cli = bh_vchan_client_init(0, PORT);
        int rc = cli ? pump(cli, 2, 1, total, rng ^ 0x5555) : 10;
        /* Not closing srv: that is the parent's and would unlink its name. */
        bh_vchan_close(cli);
        _exit(rc);
    }
    t0 = g_get_monotonic_time();
    g_assert_cmpint(pump(srv, 1, 2, total, rng), ==, 0);
    g_assert_cmpint(reap(pid), ==, 0);
    g_test_message("64 MiB each way through a 4 KiB ring in %.2f s",
                   (double)(g_get_monotonic_time() - t0) / 1e6);
    bh_vchan_close(srv);
}

static void test_nonblocking(BhVchanFixture *f, const void *data)
{
    struct bh_vchan *srv = bh_vchan_server_init(0, PORT, 4096, 4096);
    struct bh_vchan *cli;
    char buf[65536];
    size_t total = 0;
    ssize_t n;

    g_assert_nonnull(srv);
    /* A stream call that blocks is a failure, not a hang until the test
     * runner's timeout: SIGALRM ends the test. */
    alarm(30);
    /* Before any client: nothing to read, nowhere to write, no blocking. */
    g_assert_cmpint(bh_vchan_read(srv, buf, sizeof buf), ==, 0);
    g_assert_cmpint(bh_vchan_write(srv, "x", 1), ==, 0);
    g_assert_cmpuint(bh_vchan_data_ready(srv), ==, 0);
    g_assert_cmpuint(bh_vchan_buffer_space(srv), ==, 0);
    cli = bh_vchan_client_init(0, PORT);
    g_assert_nonnull(cli);
    /* A stream call accepts the client on its own. */
    g_assert_cmpint(bh_vchan_read(srv, buf, sizeof buf), ==, 0);
    g_assert_cmpint(bh_vchan_is_open(srv), ==, BH_VCHAN_CONNECTED);
    g_assert_cmpint(bh_vchan_read(cli, buf, sizeof buf), ==, 0);
    g_assert_cmpint(bh_vchan_write(srv, buf, 0), ==, 0);

    /* The 4 KiB ring really bounds what is in flight: the kernel doubles
     * SO_SNDBUF to 8 KiB and lets one packet overshoot it. */
    memset(buf, 'r', sizeof buf);
    while ((n = bh_vchan_write(srv, buf, sizeof buf)) > 0)
        total += (size_t)n;
    g_assert_cmpint(n, ==, 0);
    g_test_message("a 4 KiB ring took %zu bytes before the writer would block", total);
    g_assert_cmpuint(total, >=, 4096);
    g_assert_cmpuint(total, <=, 16384);
    g_assert_cmpuint(bh_vchan_buffer_space(srv), ==, 0);
    g_assert_cmpuint(bh_vchan_data_ready(cli), ==, total);
    g_assert_cmpint(bh_vchan_recv(cli, buf, total), ==, (ssize_t)total);
    g_assert_cmpuint(bh_vchan_data_ready(cli), ==, 0);
    /* Drained: space again, at most what was asked for. */
    g_assert_cmpuint(bh_vchan_buffer_space(srv), >, 0);
    g_assert_cmpuint(bh_vchan_buffer_space(srv), <=, 4096);

    /* Bad arguments are refused, not acted on. */
    g_assert_cmpint(bh_vchan_send(srv, NULL, 1), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(bh_vchan_read(NULL, buf, 1), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);

    alarm(0);
    bh_vchan_close(cli);
    bh_vchan_close(srv);
}

/* buffer_space is a promise: one write of that many bytes never comes up
 * short, whatever the state of the queue. */
static void check_space_promise(int port, size_t ring, uint64_t rng)
{
    struct bh_vchan *srv, *cli;
    static char buf[1 << 20];
    size_t max_seen = 0;

    make_pair(port, ring, ring, &srv, &cli);
    alarm(60); /* a stream call that blocks fails the test */
    for (int i = 0; i < 3000; i++) {
        size_t space;
        switch (bh_test_rand(&rng) % 4) {
        case 0: /* many small messages, the costliest for the kernel */
            for (size_t k = bh_test_rand_range(&rng, 1, 20); k > 0; k--)
                g_assert_cmpint(bh_vchan_write(srv, buf, bh_test_rand_range(&rng, 1, 64)), >=, 0);
            break;
        case 1:
            g_assert_cmpint(bh_vchan_write(srv, buf, bh_test_rand_range(&rng, 1, ring ? 2 * ring : 300000)),
                            >=, 0);
            break;
        default:
            g_assert_cmpint(bh_vchan_read(cli, buf, bh_test_rand_range(&rng, 1, sizeof buf)), >=, 0);
            break;
        }
        space = bh_vchan_buffer_space(srv);
        if (space > max_seen)
            max_seen = space;
        if (space > 0)
            g_assert_cmpint(bh_vchan_write(srv, buf, space), ==, (ssize_t)space);
    }
    if (ring)
        g_assert_cmpuint(max_seen, <=, ring);
    g_assert_cmpuint(max_seen, >, 0);
    alarm(0);
    g_test_message("ring %zu: buffer_space reached %zu", ring, max_seen);
    bh_vchan_close(cli);
    bh_vchan_close(srv);
}

static void test_buffer_space(BhVchanFixture *f, const void *data)
{
    uint64_t rng = ((uint64_t)g_test_rand_int() << 32) | (uint32_t)g_test_rand_int();

    check_space_promise(PORT, 4096, rng);
    check_space_promise(PORT + 1, 65536, rng + 1);
    check_space_promise(PORT + 2, 0, rng + 2);
}

static void test_peer_close(BhVchanFixture *f, const void *data)
{
    struct bh_vchan *srv, *cli;
    char buf[100];

    /* SIGPIPE must not be needed to survive: leave it at its default. */
    signal(SIGPIPE, SIG_DFL);

    make_pair(PORT, 0, 0, &srv, &cli);
    g_assert_cmpint(bh_vchan_send(cli, buf, sizeof buf), ==, sizeof buf);
    bh_vchan_close(cli);
    g_assert_cmpint(bh_vchan_is_open(srv), ==, BH_VCHAN_DISCONNECTED);
    /* What was sent before the hang-up is still delivered. */
    g_assert_cmpuint(bh_vchan_data_ready(srv), ==, sizeof buf);
    g_assert_cmpint(bh_vchan_wait(srv), ==, 0);
    g_assert_cmpint(bh_vchan_recv(srv, buf, sizeof buf), ==, sizeof buf);
    g_assert_cmpint(bh_vchan_recv(srv, buf, 1), ==, -1);
    g_assert_cmpint(errno, ==, EPIPE);
    g_assert_cmpint(bh_vchan_read(srv, buf, 1), ==, -1);
    g_assert_cmpint(errno, ==, EPIPE);
    g_assert_cmpint(bh_vchan_wait(srv), ==, -1);
    g_assert_cmpint(errno, ==, EPIPE);
    g_assert_cmpint(bh_vchan_send(srv, buf, sizeof buf), ==, -1);
    g_assert_cmpint(errno, ==, EPIPE);
    g_assert_cmpint(bh_vchan_write(srv, buf, sizeof buf), ==, -1);
    g_assert_cmpint(errno, ==, EPIPE);
    g_assert_cmpuint(bh_vchan_buffer_space(srv), ==, 0);
    bh_vchan_close(srv);

    /* The other way round, with the client blocked in recv in another
     * process when the server goes away. */
    srv = bh_vchan_server_init(0, PORT, 0, 0);
    g_assert_nonnull(srv);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        struct bh_vchan *c = bh_vchan_client_init(0, PORT);
        int rc = !c                                             ? 1
                 : bh_vchan_send(c, "go", 2) != 2               ? 2
                 : bh_vchan_recv(c, buf, 1) != -1               ? 3
                 : errno != EPIPE                               ? 4
                 : bh_vchan_is_open(c) != BH_VCHAN_DISCONNECTED ? 5
                 : bh_vchan_send(c, buf, sizeof buf) != -1      ? 6
                                                                : 0;
        _exit(rc);
    }
    g_assert_cmpint(bh_vchan_recv(srv, buf, 2), ==, 2);
    bh_vchan_close(srv);
    g_assert_cmpint(reap(pid), ==, 0);
}

static int make_memfd(const char *content)
{
    int fd = memfd_create("test", MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, content, strlen(content)), ==, (ssize_t)strlen(content));
    return fd;
}

static void assert_fd_content(int fd, const char *content)
{
    char buf[64] = {0};

    g_assert_cmpint(pread(fd, buf, sizeof buf - 1, 0), ==, (ssize_t)strlen(content));
    g_assert_cmpstr(buf, ==, content);
}

static void test_fd_pass(BhVchanFixture *f, const void *data)
{
    struct bh_vchan *srv, *cli;
    unsigned before = bh_test_count_fds();
    char buf[16];
    int mfd, got = -2;

    make_pair(PORT, 0, 0, &srv, &cli);
    mfd = make_memfd("pixels");
    g_assert_cmpint(bh_vchan_send_fd(cli, "BUFFER", 6, mfd), ==, 6);
    close(mfd);
    g_assert_cmpint(bh_vchan_recv_fd(srv, buf, 6, &got), ==, 6);
    g_assert_cmpmem(buf, 6, "BUFFER", 6);
    g_assert_cmpint(got, >=, 0);
    g_assert_cmpint(fcntl(got, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
    assert_fd_content(got, "pixels");
    close(got);

    /* No fd with the bytes: -1. */
    g_assert_cmpint(bh_vchan_send(cli, "plain", 5), ==, 5);
    g_assert_cmpint(bh_vchan_recv_fd(srv, buf, 5, &got), ==, 5);
    g_assert_cmpint(got, ==, -1);

    /* Header read plainly, body with recv_fd: the fd that rode on the
     * header is queued and handed over with the body. */
    mfd = make_memfd("second");
    g_assert_cmpint(bh_vchan_send_fd(cli, "HDR+BODY", 8, mfd), ==, 8);
    close(mfd);
    g_assert_cmpint(bh_vchan_recv(srv, buf, 3), ==, 3);
    g_assert_cmpint(bh_vchan_recv_fd(srv, buf, 5, &got), ==, 5);
    assert_fd_content(got, "second");
    close(got);

    /* An exact receive across three messages, the middle one carrying an
     * fd: the kernel stops early at it, recv_fd carries on to the end. */
    mfd = make_memfd("middle");
    g_assert_cmpint(bh_vchan_send(cli, "aaaa", 4), ==, 4);
    g_assert_cmpint(bh_vchan_send_fd(cli, "bbbb", 4, mfd), ==, 4);
    g_assert_cmpint(bh_vchan_send(cli, "cccc", 4), ==, 4);
    close(mfd);
    g_assert_cmpint(bh_vchan_recv_fd(srv, buf, 12, &got), ==, 12);
    g_assert_cmpmem(buf, 12, "aaaabbbbcccc", 12);
    assert_fd_content(got, "middle");
    close(got);

    /* Stream readers take fds explicitly, in order. */
    for (int i = 0; i < 3; i++) {
        char name[8];
        g_snprintf(name, sizeof name, "fd%d", i);
        mfd = make_memfd(name);
        g_assert_cmpint(bh_vchan_send_fd(srv, "m", 1, mfd), ==, 1);
        close(mfd);
    }
    g_assert_cmpint(bh_vchan_recv(cli, buf, 3), ==, 3);
    for (int i = 0; i < 3; i++) {
        char name[8];
        g_snprintf(name, sizeof name, "fd%d", i);
        got = bh_vchan_take_fd(cli);
        g_assert_cmpint(got, >=, 0);
        assert_fd_content(got, name);
        close(got);
    }
    g_assert_cmpint(bh_vchan_take_fd(cli), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);

    /* Misuse. */
    g_assert_cmpint(bh_vchan_send_fd(cli, "x", 0, 0), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(bh_vchan_send_fd(cli, "x", 1, -1), ==, -1);
    g_assert_cmpint(errno, ==, EBADF);
    g_assert_cmpint(bh_vchan_recv_fd(srv, buf, 1, NULL), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);

    bh_vchan_close(cli);
    bh_vchan_close(srv);
    g_assert_cmpuint(bh_test_count_fds(), ==, before);
}

/* What a hostile peer can do with raw sendmsg on its end. */
static void raw_send_fds(int sock, const void *data, size_t len, int nfds)
{
    int fds[200];
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } c;
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;

    g_assert_cmpint(nfds, <=, (int)G_N_ELEMENTS(fds));
    for (int i = 0; i < nfds; i++) {
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fds[i], >=, 0);
    }
    memset(&c, 0, sizeof c);
    m.msg_control = c.buf;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    g_assert_cmpint(sendmsg(sock, &m, MSG_NOSIGNAL), ==, (ssize_t)len);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
}

static void test_hostile_fds(BhVchanFixture *f, const void *data)
{
    struct bh_vchan *srv, *cli;
    unsigned before = bh_test_count_fds();
    char buf[256];
    int got = -2;
    ssize_t n = 0;

    make_pair(PORT, 0, 0, &srv, &cli);
    unsigned with_pair = bh_test_count_fds();

    /* 150 fds on one message: one is kept, the rest closed on arrival. */
    raw_send_fds(bh_vchan_fd_for_select(cli), "evil", 4, 150);
    g_assert_cmpint(bh_vchan_recv_fd(srv, buf, 4, &got), ==, 4);
    g_assert_cmpint(got, >=, 0);
    g_assert_cmpuint(bh_test_count_fds(), ==, with_pair + 1);
    close(got);
    g_assert_cmpuint(bh_test_count_fds(), ==, with_pair);

    /* Fds on bytes read with plain recv/read wait in the queue, and go
     * with the connection. */
    raw_send_fds(bh_vchan_fd_for_select(cli), "ab", 2, 3);
    g_assert_cmpint(bh_vchan_recv(srv, buf, 2), ==, 2);
    g_assert_cmpuint(bh_test_count_fds(), ==, with_pair + 1);
    bh_vchan_close(srv);
    bh_vchan_close(cli);
    g_assert_cmpuint(bh_test_count_fds(), ==, before);

    /* More fds than the queue holds: the connection fails, none leak. */
    make_pair(PORT + 1, 0, 0, &srv, &cli);
    for (int i = 0; i < BH_VCHAN_MAX_QUEUED_FDS + 1; i++)
        raw_send_fds(bh_vchan_fd_for_select(cli), "z", 1, 1);
    for (int i = 0; i < BH_VCHAN_MAX_QUEUED_FDS + 1 && n >= 0; i++)
        n = bh_vchan_read(srv, buf, sizeof buf);
    g_assert_cmpint(n, ==, -1);
    g_assert_cmpint(errno, ==, EPROTO);
    g_assert_cmpint(bh_vchan_is_open(srv), ==, BH_VCHAN_DISCONNECTED);
    g_assert_cmpint(bh_vchan_recv(srv, buf, 1), ==, -1);
    g_assert_cmpint(errno, ==, EPROTO);
    bh_vchan_close(srv);
    bh_vchan_close(cli);
    g_assert_cmpuint(bh_test_count_fds(), ==, before);
}

/* The receiver cannot take any more descriptors: the kernel truncates the
 * control message, and the connection must fail rather than misalign. */
static int ctrunc_child(void)
{
    struct bh_vchan *v = bh_vchan_server_init(0, PORT, 0, 0);
    struct rlimit rl;
    char buf[8];
    int highest = 0;

    if (!v || bh_vchan_wait(v) < 0)
        return 1;
    for (int fd = 0; fd < 1024; fd++)
        if (bh_test_fd_is_open(fd))
            highest = fd;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 2;
    rl.rlim_cur = (rlim_t)highest + 1;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 3;
    /* Fill the holes below the limit: now no descriptor can be installed. */
    while (open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0)
        ;
    if (errno != EMFILE)
        return 7;
    if (bh_vchan_send(v, "k", 1) != 1)
        return 4;
    if (bh_vchan_recv(v, buf, 4) != -1 || errno != EPROTO)
        return 5;
    if (bh_vchan_is_open(v) != BH_VCHAN_DISCONNECTED)
        return 6;
    return 0;
}

static void test_ctrunc(BhVchanFixture *f, const void *data)
{
    struct bh_vchan *cli;
    char k;
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
        _exit(ctrunc_child());
    cli = client_retry(0, PORT);
    /* Wait until the child has lowered its limit. */
    g_assert_cmpint(bh_vchan_recv(cli, &k, 1), ==, 1);
    raw_send_fds(bh_vchan_fd_for_select(cli), "data", 4, 2);
    g_assert_cmpint(reap(pid), ==, 0);
    bh_vchan_close(cli);
}

static void assert_init_fails(int expected_errno)
{
    struct bh_vchan *v = bh_vchan_server_init(0, PORT, 0, 0);

    if (v)
        bh_vchan_close(v);
    g_assert_null(v);
    g_assert_cmpint(errno, ==, expected_errno);
}

static void test_dir_perms(BhVchanFixture *f, const void *data)
{
    g_autofree char *guest = g_build_filename(f->dir, "0", NULL);
    g_autofree char *xdg = g_build_filename(f->tmp, "xdg", NULL);
    g_autofree char *xdg_vchan = g_build_filename(xdg, "bulkhead", "vchan", NULL);
    g_autofree char *link = g_build_filename(f->tmp, "link", NULL);
    char out[4096];
    struct bh_vchan *v;
    struct stat st;

    /* Created 0700 when missing, the guest directory too. */
    v = bh_vchan_server_init(0, PORT, 0, 0);
    g_assert_nonnull(v);
    bh_vchan_close(v);
    g_assert_cmpint(stat(f->dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);
    g_assert_cmpint(stat(guest, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);

    /* Open to others: refused on both sides. */
    g_assert_cmpint(chmod(f->dir, 0755), ==, 0);
    assert_init_fails(EPERM);
    g_assert_null(bh_vchan_client_init(0, PORT));
    g_assert_cmpint(errno, ==, EPERM);
    g_assert_cmpint(chmod(f->dir, 0700), ==, 0);
    g_assert_cmpint(chmod(guest, 0710), ==, 0);
    assert_init_fails(EPERM);
    g_assert_cmpint(chmod(guest, 0700), ==, 0);

    /* Someone else's directory (needs root to arrange). */
    if (geteuid() == 0) {
        g_assert_cmpint(chown(guest, 65534, 65534), ==, 0);
        assert_init_fails(EPERM);
        g_assert_cmpint(chown(guest, 0, 0), ==, 0);
    } else {
        g_test_message("not root: skipping the foreign-owner case");
    }

    /* A symbolic link in place of the directory. */
    g_assert_cmpint(symlink(f->dir, link), ==, 0);
    g_setenv("BH_VCHAN_DIR", link, TRUE);
    /* O_DIRECTORY|O_NOFOLLOW on a symlink: ENOTDIR. */
    assert_init_fails(ENOTDIR);
    g_setenv("BH_VCHAN_DIR", "relative/dir", TRUE);
    assert_init_fails(EINVAL);

    /* The default place: $XDG_RUNTIME_DIR/bulkhead/vchan, created 0700. */
    g_unsetenv("BH_VCHAN_DIR");
    g_assert_cmpint(g_mkdir(xdg, 0700), ==, 0);
    {
        g_autofree char *saved = g_strdup(g_getenv("XDG_RUNTIME_DIR"));
        g_setenv("XDG_RUNTIME_DIR", xdg, TRUE);
        v = bh_vchan_server_init(0, PORT, 0, 0);
        g_assert_nonnull(v);
        bh_vchan_close(v);
        g_assert_cmpint(stat(xdg_vchan, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0700);
        g_unsetenv("XDG_RUNTIME_DIR");
        assert_init_fails(ENOENT);
        if (saved)
            g_setenv("XDG_RUNTIME_DIR", saved, TRUE);
    }
    g_setenv("BH_VCHAN_DIR", f->dir, TRUE);

    /* The directory the sandbox backend hands a qube. */
    g_assert_cmpint(bh_vchan_socket_guest_dir(7, out, sizeof out), ==, 0);
    g_assert_true(g_str_has_suffix(out, "/vchan/7"));
    g_assert_cmpint(stat(out, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);
    g_assert_cmpint(bh_vchan_socket_guest_dir(7, out, 4), ==, -1);
    g_assert_cmpint(errno, ==, ENAMETOOLONG);

    /* Bad environment. */
    g_setenv("BH_VCHAN_DOMID", "12abc", TRUE);
    assert_init_fails(EINVAL);
    g_unsetenv("BH_VCHAN_DOMID");
    g_setenv("BH_VCHAN_TRANSPORT", "carrier-pigeon", TRUE);
    g_assert_cmpint(bh_vchan_default_transport(), ==, 0);
    assert_init_fails(EINVAL);
    g_setenv("BH_VCHAN_TRANSPORT", "socket", TRUE);
}

/* A listening socket at `path` standing for a dom0 service the guest would
 * like to reach (the X server's socket), non-blocking for accept. */
static int decoy_listen(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(path), <, sizeof sa.sun_path);
    strcpy(sa.sun_path, path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    g_assert_cmpint(listen(fd, 8), ==, 0);
    return fd;
}

/* Whether a connection is waiting on the decoy (accepted and closed). */
static gboolean decoy_was_reached(int listen_fd)
{
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
        g_assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        return FALSE;
    }
    close(c);
    return TRUE;
}

/* The guest owns the entries of its directory: what it plants under the
 * name of its agent's socket must never lead dom0's client elsewhere, and
 * what it plants under a name dom0 binds must not redirect the bind or the
 * unlink. Each attack has its control: the real socket works, and the
 * decoy is reachable by path (the attack had a target). */
static void test_planted(BhVchanFixture *f, const void *data)
{
    g_autofree char *decoy_path = g_build_filename(f->tmp, "X0", NULL);
    g_autofree char *victim = g_build_filename(f->tmp, "victim", NULL);
    g_autofree char *name = sock_path(f, 5, 5, 0, PORT);
    g_autofree char *dom0_name = sock_path(f, 5, 0, 5, PORT);
    int decoy = decoy_listen(decoy_path);
    unsigned fds = bh_test_count_fds();
    struct bh_vchan *srv, *cli;
    struct stat st;

    /* Control 1: the decoy answers anyone who connects by path. */
    {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        strcpy(sa.sun_path, decoy_path);
        g_assert_cmpint(connect(c, (struct sockaddr *)&sa, sizeof sa), ==, 0);
        close(c);
        g_assert_true(decoy_was_reached(decoy));
    }
    /* Control 2: the guest's real agent socket (domain 5 serving dom0). */
    g_setenv("BH_VCHAN_DOMID", "5", TRUE);
    srv = bh_vchan_server_init(0, PORT, 0, 0);
    g_unsetenv("BH_VCHAN_DOMID");
    g_assert_nonnull(srv);
    cli = bh_vchan_client_init(5, PORT);
    g_assert_nonnull(cli);
    g_assert_cmpint(bh_vchan_wait(srv), ==, 0);
    g_assert_cmpint(bh_vchan_send(cli, "hi", 2), ==, 2);
    bh_vchan_close(cli);
    bh_vchan_close(srv);

    /* A symbolic link named like the agent's socket, to the decoy. */
    g_assert_cmpint(symlink(decoy_path, name), ==, 0);
    g_assert_null(bh_vchan_client_init(5, PORT));
    g_assert_cmpint(errno, ==, ELOOP);
    g_assert_false(decoy_was_reached(decoy));
    /* A relative link and a link through the directory: the same. */
    g_assert_cmpint(unlink(name), ==, 0);
    g_assert_cmpint(symlink("../../X0", name), ==, 0);
    g_assert_null(bh_vchan_client_init(5, PORT));
    g_assert_cmpint(errno, ==, ELOOP);
    g_assert_false(decoy_was_reached(decoy));
    g_assert_cmpint(unlink(name), ==, 0);

    /* Not a socket: a FIFO, a regular file, a directory. */
    g_assert_cmpint(mkfifo(name, 0600), ==, 0);
    g_assert_null(bh_vchan_client_init(5, PORT));
    g_assert_cmpint(errno, ==, ENOTSOCK);
    g_assert_cmpint(unlink(name), ==, 0);
    g_assert_true(g_file_set_contents(name, "x", 1, NULL));
    g_assert_null(bh_vchan_client_init(5, PORT));
    g_assert_cmpint(errno, ==, ENOTSOCK);
    g_assert_cmpint(unlink(name), ==, 0);
    g_assert_cmpint(mkdir(name, 0700), ==, 0);
    g_assert_null(bh_vchan_client_init(5, PORT));
    g_assert_cmpint(errno, ==, ENOTSOCK);
    g_assert_cmpint(rmdir(name), ==, 0);

    /* A socket of another user (needs root to arrange). */
    if (geteuid() == 0) {
        int other = decoy_listen(name);
        g_assert_cmpint(lchown(name, 65534, 65534), ==, 0);
        g_assert_null(bh_vchan_client_init(5, PORT));
        g_assert_cmpint(errno, ==, EPERM);
        g_assert_false(decoy_was_reached(other));
        close(other);
        g_assert_cmpint(unlink(name), ==, 0);
    } else {
        g_test_message("not root: skipping the foreign-owner socket");
    }
    /* Nothing there: ENOENT, which callers retry. */
    g_assert_null(bh_vchan_client_init(5, PORT));
    g_assert_cmpint(errno, ==, ENOENT);

    /* dom0 serving guest 5: a link planted at the name dom0 binds is
     * replaced, its target untouched; close unlinks dom0's socket only. */
    g_assert_true(g_file_set_contents(victim, "keep", 4, NULL));
    g_assert_cmpint(symlink(victim, dom0_name), ==, 0);
    srv = bh_vchan_server_init(5, PORT, 0, 0);
    g_assert_nonnull(srv);
    g_assert_cmpint(lstat(dom0_name, &st), ==, 0);
    g_assert_true(S_ISSOCK(st.st_mode));
    g_assert_cmpint(stat(victim, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 4);
    bh_vchan_close(srv);
    g_assert_cmpint(lstat(dom0_name, &st), ==, -1);
    g_assert_cmpint(stat(victim, &st), ==, 0);

    g_assert_false(decoy_was_reached(decoy));
    g_assert_cmpuint(bh_test_count_fds(), ==, fds);
    close(decoy);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn)                                                                                        \
    g_test_add("/vchan/socket/" name, BhVchanFixture, NULL, bh_test_fixture_setup, fn,                       \
               bh_test_fixture_teardown)
    ADD("connect", test_connect);
    ADD("no-server", test_no_server);
    ADD("second-client", test_second_client);
    ADD("successor", test_successor);
    ADD("fork", test_fork);
    ADD("64mib-4k-ring", test_64mib);
    ADD("nonblocking", test_nonblocking);
    ADD("buffer-space", test_buffer_space);
    ADD("peer-close", test_peer_close);
    ADD("fd-pass", test_fd_pass);
    ADD("hostile-fds", test_hostile_fds);
    ADD("ctrunc", test_ctrunc);
    ADD("planted", test_planted);
    ADD("dir-perms", test_dir_perms);
#undef ADD
    return g_test_run();
}
