/* rpc-agent.c — bulkhead-agent's event loop: the vchan server on port 512, the
 * decoder on everything dom0 sends, one entry per running request (its
 * child, pipes and stdin buffer), credit-based flow control both ways, and
 * reaping.
 *
 * Owns: the connection's lifetime (accept, HELLO, serve, drop, listen
 * again), the request table of this side, and the order of a request's
 * last messages (stdout/stderr end of stream, then EXIT).
 * Must never: block (every descriptor is non-blocking and waits in one
 * poll()), buffer more than the protocol's window per stream, act on a
 * message the decoder refused, or outlive a disconnect with a request
 * still attached to the old connection.
 *
 * Why poll() and not GLib: the agent is libc-only like proto and vchan, so
 * it runs in a minimal qube (a Xen domU template without GLib) and its whole
 * loop is one readable file. It serves at most BH_RPC_MAX_REQUESTS x 3
 * pipes plus two descriptors, well within what poll() handles. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-private.h"
#include "bulkhead/rpc-agent.h"
#include "bulkhead/rpc.h"
#include "bulkhead/vchan.h"

/* Stop reading children's output while this much waits for dom0, and stop
 * reading dom0 while twice as much does (only small replies are then added). */
#define OUT_HIGH (2u * BH_RPC_MAX_CHUNK)
#define OUT_HARD (8u * BH_RPC_MAX_CHUNK)
/* Return stdin credit in batches, not per write. */
#define CREDIT_BATCH (BH_RPC_WINDOW / 4u)

struct req {
    uint32_t id; /* 0 = free */
    uint32_t flags;
    struct bh_agent_child child;
    bool reaped;
    int status; /* wait status once reaped */
    /* stdin from dom0 waiting for the child: in[in_off .. in_off+in_len) */
    uint8_t *in;
    size_t in_off, in_len;
    bool in_eof;          /* dom0 ended stdin */
    uint32_t in_consumed; /* written (or dropped) and not yet credited */
};

struct agent {
    const struct bh_agent_config *cfg;
    char self_name[BH_RPC_MAX_USER_BYTES + 1];
    int sig_fd;
    bool stop;
    struct bh_vchan *v;
    bool greeted; /* our HELLO is queued on this connection */
    struct bh_rpc_state st;
    struct req reqs[BH_RPC_MAX_REQUESTS];
    uint8_t *rbuf;
    size_t rlen;
    uint64_t rx; /* bytes of this connection consumed before rbuf[0] */
    uint8_t *obuf;
    size_t olen, ocap;
};

void bh_agent_log(const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bulkhead-agent: %s\n", msg);
}

/* ---- Output queue --------------------------------------------------------- */

/* Room for one more message of up to `len` bytes; -1 only when out of memory. */
static int out_reserve(struct agent *a, size_t len)
{
    size_t need = a->olen + len;

    if (need <= a->ocap)
        return 0;
    size_t cap = a->ocap ? a->ocap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(a->obuf, cap);
    if (!p)
        return -1;
    a->obuf = p;
    a->ocap = cap;
    return 0;
}

/* Queues one message and applies it to our view of the table. A message
 * the encoder refuses is a bug here, never dom0's doing: the connection is
 * dropped rather than sending something dom0 must reject. */
static int send_msg(struct agent *a, const struct bh_rpc_msg *m)
{
    size_t n;

    if (out_reserve(a, BH_RPC_MAX_MSG_BYTES) < 0)
        return -1;
    n = bh_rpc_encode_msg(a->obuf + a->olen, a->ocap - a->olen, m);
    if (n == 0) {
        bh_agent_log("internal error: could not encode %s request %u", bh_rpc_type_name(m->type), m->request);
        return -1;
    }
    a->olen += n;
    bh_rpc_state_apply(&a->st, m, false);
    return 0;
}

/* Writes what the connection takes now. -1 when dom0 is gone. */
static int flush_out(struct agent *a)
{
    while (a->olen > 0) {
        ssize_t n = bh_vchan_write(a->v, a->obuf, a->olen);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        memmove(a->obuf, a->obuf + n, a->olen - (size_t)n);
        a->olen -= (size_t)n;
    }
    return 0;
}

/* ---- Requests ------------------------------------------------------------- */

static struct req *req_find(struct agent *a, uint32_t id)
{
    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++) {
        if (a->reqs[i].id == id && id != 0)
            return &a->reqs[i];
    }
    return NULL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void req_free(struct req *r)
{
    close_fd(&r->child.in_fd);
    close_fd(&r->child.out_fd);
    close_fd(&r->child.err_fd);
    free(r->in);
    memset(r, 0, sizeof *r);
    r->child = (struct bh_agent_child){.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
}

static int send_exit(struct agent *a, uint32_t id, uint32_t kind, uint32_t value, const char *message)
{
    struct bh_rpc_msg m = {.type = BH_RPC_EXIT, .request = id};

    m.u.exit.kind = kind;
    m.u.exit.value = value;
    if (message)
        snprintf(m.u.exit.message, sizeof m.u.exit.message, "%s", message);
    return send_msg(a, &m);
}

static int handle_exec(struct agent *a, const struct bh_rpc_msg *m)
{
    struct bh_rpc_msg applied = *m;
    struct req *r = NULL;
    char why[BH_RPC_MAX_MESSAGE_BYTES];
    char *cmdline = NULL;
    bool pass_io = (m->u.exec.flags & BH_RPC_EXEC_PASS_IO) != 0;
    bool wait = (m->u.exec.flags & BH_RPC_EXEC_WAIT) != 0;
    int e;

    /* The decoder bounds count below BH_RPC_MAX_REQUESTS: a slot is free. */
    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS && !r; i++) {
        if (a->reqs[i].id == 0)
            r = &a->reqs[i];
    }
    if (!r)
        return -1;
    bh_rpc_state_apply(&a->st, &applied, true);
    req_free(r);
    r->id = m->request;
    r->flags = m->u.exec.flags;

    cmdline = strndup(m->u.exec.cmdline, m->u.exec.cmdline_len);
    if (!cmdline) {
        snprintf(why, sizeof why, "out of memory");
        e = ENOMEM;
    } else {
        why[0] = '\0';
        e = bh_agent_spawn(a->self_name, m->u.exec.user, cmdline, pass_io, &r->child, why, sizeof why);
    }
    free(cmdline);
    if (a->cfg->verbose || e)
        bh_agent_log("request %u: run as '%s'%s%s: %s", m->request,
                     m->u.exec.user[0] ? m->u.exec.user : a->self_name, pass_io ? " with stdio" : "",
                     wait ? "" : " (no wait)", e ? why : "started");
    if (e) {
        /* EXIT FAILED: the streams end with the request, unopened. */
        req_free(r);
        return send_exit(a, m->request, BH_RPC_EXIT_FAILED, (uint32_t)e, why);
    }
    if (pass_io) {
        r->in = malloc(BH_RPC_WINDOW);
        if (!r->in) {
            kill(-r->child.pid, SIGKILL);
            /* Reaped (and ignored) by reap(): the request is gone below. */
            req_free(r);
            return send_exit(a, m->request, BH_RPC_EXIT_FAILED, ENOMEM, "out of memory");
        }
    }
    if (!wait) {
        /* Not tracked further: reap() collects it and finds no request. */
        req_free(r);
        return send_exit(a, m->request, BH_RPC_EXIT_STARTED, 0, NULL);
    }
    return 0;
}

static int grant_stdin(struct agent *a, struct req *r, bool force)
{
    struct bh_rpc_msg m = {.type = BH_RPC_CREDIT, .request = r->id};

    if (r->in_consumed == 0 || r->in_eof || (!force && r->in_consumed < CREDIT_BATCH))
        return 0;
    m.u.credit.stream = BH_RPC_STREAM_STDIN;
    m.u.credit.bytes = r->in_consumed;
    r->in_consumed = 0;
    return send_msg(a, &m);
}

static int handle_stdin(struct agent *a, const struct bh_rpc_msg *m)
{
    struct req *r = req_find(a, m->request);

    bh_rpc_state_apply(&a->st, m, true);
    if (!r)
        return 0;
    if (m->u.data.len == 0) {
        r->in_eof = true;
        if (r->in_len == 0)
            close_fd(&r->child.in_fd);
        return 0;
    }
    if (r->child.in_fd < 0) {
        /* The program closed its stdin: drop the data, keep dom0 going. */
        r->in_consumed += (uint32_t)m->u.data.len;
        return grant_stdin(a, r, true);
    }
    /* Credit keeps buffered + new within the window (docs/rpc.md). */
    if (r->in_off + r->in_len + m->u.data.len > BH_RPC_WINDOW) {
        memmove(r->in, r->in + r->in_off, r->in_len);
        r->in_off = 0;
    }
    if (r->in_len + m->u.data.len > BH_RPC_WINDOW)
        return -1;
    memcpy(r->in + r->in_off + r->in_len, m->u.data.data, m->u.data.len);
    r->in_len += m->u.data.len;
    return 0;
}

static void handle_signal(struct agent *a, const struct bh_rpc_msg *m)
{
    struct req *r = req_find(a, m->request);

    if (!r || r->child.pid <= 0)
        return;
    if (a->cfg->verbose)
        bh_agent_log("request %u: signal %u", r->id, m->u.signal.signo);
    /* The process group: the shell and what it started. */
    if (kill(-r->child.pid, (int)m->u.signal.signo) < 0 && errno == ESRCH && !r->reaped)
        kill(r->child.pid, (int)m->u.signal.signo);
}

/* One decoded message from dom0; -1 drops the connection. */
static int dispatch(struct agent *a, const struct bh_rpc_msg *m)
{
    struct bh_rpc_msg reply;

    if (m->stale)
        return 0;
    switch (m->type) {
    case BH_RPC_HELLO:
        bh_rpc_state_apply(&a->st, m, true);
        return 0;
    case BH_RPC_PING:
        reply = (struct bh_rpc_msg){.type = BH_RPC_PONG};
        reply.u.ping = m->u.ping;
        return send_msg(a, &reply);
    case BH_RPC_EXEC:
        return handle_exec(a, m);
    case BH_RPC_STDIN:
        return handle_stdin(a, m);
    case BH_RPC_SIGNAL:
        handle_signal(a, m);
        return 0;
    case BH_RPC_CREDIT:
        bh_rpc_state_apply(&a->st, m, true);
        return 0;
    default:
        return -1;
    }
}

/* Reads and dispatches what dom0 sent. -1: disconnect (logged). */
static int read_dom0(struct agent *a)
{
    for (;;) {
        ssize_t n = bh_vchan_read(a->v, a->rbuf + a->rlen, BH_RPC_MAX_MSG_BYTES - a->rlen);
        size_t off = 0;

        if (n < 0) {
            if (errno != EPIPE)
                bh_agent_log("connection to dom0 failed: %s", strerror(errno));
            return -1;
        }
        int fd = bh_vchan_take_fd(a->v);
        if (fd >= 0) {
            close(fd);
            bh_agent_log("dropping dom0's connection: it attached a file descriptor (the RPC carries none)");
            return -1;
        }
        if (n == 0)
            return 0;
        a->rlen += (size_t)n;
        while (off < a->rlen) {
            struct bh_rpc_msg m;
            struct bh_rpc_error err;
            long used = bh_rpc_decode(a->rbuf + off, a->rlen - off, BH_RPC_FROM_DOM0, &a->st, &m, &err);
            if (used == 0)
                break;
            if (used < 0) {
                /* Where in dom0's stream and what it was: a framing desync
                 * (bytes lost or doubled on the way) shows as a header
                 * that does not start a message. */
                char hex[3 * 16 + 1] = "";
                size_t show = a->rlen - off < 16 ? a->rlen - off : 16;
                for (size_t i = 0; i < show; i++)
                    snprintf(hex + 3 * i, sizeof hex - 3 * i, " %02x", a->rbuf[off + i]);
                bh_agent_log("dropping dom0's connection: %s (%s); at byte %llu of its stream:%s", err.reason,
                             bh_rpc_err_name(err.code), (unsigned long long)(a->rx + off), hex);
                return -1;
            }
            if (dispatch(a, &m) < 0) {
                bh_agent_log("dropping dom0's connection: cannot serve %s request %u (out of memory?)",
                             bh_rpc_type_name(m.type), m.request);
                return -1;
            }
            off += (size_t)used;
        }
        memmove(a->rbuf, a->rbuf + off, a->rlen - off);
        a->rlen -= off;
        a->rx += off;
        if (a->olen >= OUT_HARD)
            return 0;
    }
}

/* stdin: write what is buffered; close at dom0's end of stream. */
static int pump_stdin(struct agent *a, struct req *r)
{
    while (r->in_len > 0 && r->child.in_fd >= 0) {
        ssize_t n = write(r->child.in_fd, r->in + r->in_off, r->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            /* EPIPE: the program no longer reads stdin. */
            close_fd(&r->child.in_fd);
            n = (ssize_t)r->in_len;
        }
        r->in_off += (size_t)n;
        r->in_len -= (size_t)n;
        r->in_consumed += (uint32_t)n;
    }
    if (r->in_len == 0) {
        r->in_off = 0;
        if (r->in_eof)
            close_fd(&r->child.in_fd);
    }
    return grant_stdin(a, r, r->in_len == 0);
}

/* stdout/stderr: read what credit allows, end of stream at EOF. */
static int pump_output(struct agent *a, struct req *r, int stream)
{
    int *fd = stream == BH_RPC_STREAM_STDOUT ? &r->child.out_fd : &r->child.err_fd;
    const struct bh_rpc_req_entry *e = bh_rpc_state_find(&a->st, r->id);
    uint8_t buf[BH_RPC_MAX_CHUNK];
    struct bh_rpc_msg m = {.type = stream == BH_RPC_STREAM_STDOUT ? BH_RPC_STDOUT : BH_RPC_STDERR,
                           .request = r->id};

    while (*fd >= 0 && e && e->credit[stream] > 0 && a->olen < OUT_HIGH) {
        size_t want = e->credit[stream] < sizeof buf ? e->credit[stream] : sizeof buf;
        ssize_t n = read(*fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            /* EOF, or an error that ends the stream just the same. */
            close_fd(fd);
            m.u.data.len = 0;
            return send_msg(a, &m);
        }
        m.u.data.len = (size_t)n;
        m.u.data.data = buf;
        if (send_msg(a, &m) < 0)
            return -1;
    }
    return 0;
}

/* EXIT once the program is gone and its output streams have ended. */
static int maybe_finish(struct agent *a, struct req *r)
{
    int rc;

    if (!r->reaped || r->child.out_fd >= 0 || r->child.err_fd >= 0)
        return 0;
    if (WIFSIGNALED(r->status))
        rc = send_exit(a, r->id, BH_RPC_EXIT_SIGNALED, (uint32_t)WTERMSIG(r->status), NULL);
    else
        rc = send_exit(a, r->id, BH_RPC_EXIT_EXITED, (uint32_t)WEXITSTATUS(r->status), NULL);
    if (a->cfg->verbose)
        bh_agent_log("request %u: finished (wait status 0x%x)", r->id, (unsigned)r->status);
    req_free(r);
    return rc;
}

/* Collects every child that ended; the ones no request waits for (no WAIT,
 * or their connection is gone) are simply reaped. */
static void reap(struct agent *a)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++) {
            struct req *r = &a->reqs[i];
            if (r->id && r->child.pid == pid && !r->reaped) {
                r->reaped = true;
                r->status = status;
            }
        }
    }
}

static void handle_signals(struct agent *a)
{
    struct signalfd_siginfo si;

    while (read(a->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            bh_agent_log("signal %u: stopping", si.ssi_signo);
            a->stop = true;
        }
    }
    reap(a);
}

/* ---- Connection ------------------------------------------------------------ */

/* Forgets the connection and every request on it. The programs still
 * running lose their session as on a terminal hang-up. */
static void drop_connection(struct agent *a)
{
    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++) {
        struct req *r = &a->reqs[i];
        if (r->id && r->child.pid > 0 && !r->reaped)
            kill(-r->child.pid, SIGHUP);
        if (r->id)
            req_free(r);
    }
    bh_vchan_close(a->v);
    a->v = NULL;
    a->greeted = false;
    a->rlen = 0;
    a->rx = 0;
    a->olen = 0;
    bh_rpc_state_init(&a->st);
}

static int listen_dom0(struct agent *a)
{
    a->v = bh_vchan_server_init(0, BH_RPC_VCHAN_PORT, BH_RPC_WINDOW, BH_RPC_WINDOW);
    if (!a->v) {
        bh_agent_log("cannot listen on vchan port %d for dom0: %s (check BH_VCHAN_DIR and BH_VCHAN_DOMID)",
                     BH_RPC_VCHAN_PORT, strerror(errno));
        return -1;
    }
    return 0;
}

/* One poll() round over the connection, the signal fd and every pipe. */
static int serve_once(struct agent *a)
{
    struct pollfd p[2 + 3 * BH_RPC_MAX_REQUESTS];
    struct req *owner[2 + 3 * BH_RPC_MAX_REQUESTS];
    int kind[2 + 3 * BH_RPC_MAX_REQUESTS]; /* -1 vchan, -2 signals, else stream */
    nfds_t n = 0;
    bool connected = bh_vchan_is_open(a->v) == BH_VCHAN_CONNECTED;
    bool socket = bh_vchan_transport(a->v) == BH_VCHAN_SOCKET;
    short vev = POLLIN;

    if (connected && !a->greeted) {
        struct bh_rpc_msg hello = {.type = BH_RPC_HELLO, .u.hello.version = BH_RPC_PROTOCOL_VERSION};
        if (send_msg(a, &hello) < 0)
            return -1;
        a->greeted = true;
    }
    if (connected && flush_out(a) < 0)
        return -1;
    /* Xen signals freed ring space on the same event fd. */
    if (socket && a->olen > 0)
        vev |= POLLOUT;
    if (a->olen >= OUT_HARD)
        vev &= (short)~POLLIN;
    p[n] = (struct pollfd){.fd = bh_vchan_fd_for_select(a->v), .events = vev};
    kind[n++] = -1;
    p[n] = (struct pollfd){.fd = a->sig_fd, .events = POLLIN};
    kind[n++] = -2;
    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++) {
        struct req *r = &a->reqs[i];
        const struct bh_rpc_req_entry *e = r->id ? bh_rpc_state_find(&a->st, r->id) : NULL;
        if (!e)
            continue;
        if (r->child.in_fd >= 0 && r->in_len > 0) {
            p[n] = (struct pollfd){.fd = r->child.in_fd, .events = POLLOUT};
            owner[n] = r;
            kind[n++] = BH_RPC_STREAM_STDIN;
        }
        for (int s = BH_RPC_STREAM_STDOUT; s <= BH_RPC_STREAM_STDERR; s++) {
            int fd = s == BH_RPC_STREAM_STDOUT ? r->child.out_fd : r->child.err_fd;
            if (fd >= 0 && e->credit[s] > 0 && a->olen < OUT_HIGH) {
                p[n] = (struct pollfd){.fd = fd, .events = POLLIN};
                owner[n] = r;
                kind[n++] = s;
            }
        }
    }
    if (poll(p, n, -1) < 0) {
        if (errno == EINTR)
            return 0;
        bh_agent_log("poll: %s", strerror(errno));
        return -1;
    }
    for (nfds_t i = 0; i < n; i++) {
        if (!p[i].revents)
            continue;
        if (kind[i] == -2) {
            handle_signals(a);
        } else if (kind[i] == -1) {
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (bh_vchan_wait(a->v) < 0)
                    return -1;
                if (bh_vchan_is_open(a->v) == BH_VCHAN_CONNECTED || bh_vchan_data_ready(a->v) > 0) {
                    if (read_dom0(a) < 0)
                        return -1;
                }
            }
        } else if (kind[i] == BH_RPC_STREAM_STDIN) {
            if (owner[i]->id && pump_stdin(a, owner[i]) < 0)
                return -1;
        } else if (owner[i]->id && pump_output(a, owner[i], kind[i]) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++) {
        if (a->reqs[i].id && maybe_finish(a, &a->reqs[i]) < 0)
            return -1;
    }
    if (bh_vchan_is_open(a->v) == BH_VCHAN_CONNECTED && flush_out(a) < 0)
        return -1;
    return 0;
}

static int setup_signals(struct agent *a)
{
    sigset_t set;
    struct sigaction ign = {.sa_handler = SIG_IGN};

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    /* Writing to a program that closed its stdin must not kill the agent. */
    if (sigaction(SIGPIPE, &ign, NULL) < 0)
        return -1;
    a->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return a->sig_fd < 0 ? -1 : 0;
}

int bh_agent_run(const struct bh_agent_config *cfg)
{
    struct agent a = {.cfg = cfg, .sig_fd = -1};
    int rc = 1;

    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++)
        req_free(&a.reqs[i]);
    bh_rpc_state_init(&a.st);
    if (cfg->user_name) {
        snprintf(a.self_name, sizeof a.self_name, "%s", cfg->user_name);
    } else {
        struct passwd *pw = getpwuid(geteuid());
        snprintf(a.self_name, sizeof a.self_name, "%s", pw && pw->pw_name ? pw->pw_name : "");
    }
    a.rbuf = malloc(BH_RPC_MAX_MSG_BYTES);
    if (!a.rbuf || setup_signals(&a) < 0) {
        bh_agent_log("cannot start: %s", strerror(errno));
        goto out;
    }
    if (cfg->verbose)
        bh_agent_log("serving as '%s' (uid %u) on vchan port %d", a.self_name, (unsigned)geteuid(),
                     BH_RPC_VCHAN_PORT);
    while (!a.stop) {
        if (!a.v && listen_dom0(&a) < 0)
            goto out;
        if (serve_once(&a) < 0) {
            if (cfg->verbose)
                bh_agent_log("dom0 disconnected; listening again");
            drop_connection(&a);
        }
    }
    rc = 0;
out:
    if (a.v)
        drop_connection(&a);
    if (a.sig_fd >= 0)
        close(a.sig_fd);
    free(a.rbuf);
    free(a.obuf);
    return rc;
}
