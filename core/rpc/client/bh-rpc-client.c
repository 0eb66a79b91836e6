/* bh-rpc-client.c — BhRpcClient: dom0's end of the RPC connection to one
 * qube's bulkhead-agent, driven by the GLib main loop.
 *
 * Owns: connecting with retries until the agent's HELLO, request ids, the
 * dom0 view of the request table (bh_rpc_state), the calls waiting for a
 * free slot, moving stdin from the caller's fd to the agent and
 * stdout/stderr from the agent to the caller's fds with credit-based flow
 * control, and failing every pending call when the connection ends.
 * Must never: block (vchan and caller fds are non-blocking and watched by
 * GSources), act on agent bytes the decoder has not accepted, buffer more
 * than BH_RPC_WINDOW per stream, raise SIGPIPE in the daemon, or keep using
 * the connection after a violation (it is dropped, and the reason logged
 * with the qube's name). Task callbacks may re-enter the client (close it,
 * start calls): every loop here re-checks `closed` after returning a task. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bulkhead/rpc-client.h"
#include "bulkhead/rpc.h"
#include "bulkhead/vchan.h"

/* Stop reading the caller's stdin while this much waits for the agent. */
#define OUT_HIGH (4u * BH_RPC_MAX_CHUNK)
/* Return output credit in batches, not per write. */
#define CREDIT_BATCH     (BH_RPC_WINDOW / 4u)
#define CONNECT_RETRY_MS 20

G_DEFINE_QUARK(bh - rpc - error - quark, bh_rpc_error)

typedef struct Call Call;

struct _BhRpcClient {
    GObject parent_instance;
    char *qube;
    int transport; /* enum bh_vchan_transport; 0: the process's default */
    int domid;
    GMainContext *ctx;

    struct bh_vchan *v;
    GSource *io;
    GIOCondition io_cond;
    int io_fd;
    struct bh_rpc_state st;
    guint8 *rbuf;
    gsize rlen;
    GByteArray *out;

    GHashTable *calls; /* id -> Call: sent, until completed */
    GQueue waiting;    /* Calls not sent yet: BH_RPC_MAX_REQUESTS in flight */
    GHashTable *pings; /* cookie -> GTask */
    guint64 next_cookie;
    guint32 next_id;
    guint64 next_serial;

    /* Connecting: until the agent's HELLO. */
    GTask *connect_task;
    GSource *retry;
    GSource *connect_timeout;
    gint64 deadline;
    guint timeout_ms;
    char last_error[256];

    gboolean ready;
    gboolean closed;
};

enum { SIGNAL_DISCONNECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(BhRpcClient, bh_rpc_client, G_TYPE_OBJECT)

struct Call {
    BhRpcClient *client; /* the client owns its calls */
    GTask *task;         /* NULL once cancelled: the call only waits for EXIT */
    guint64 serial;      /* finds the call again from a deferred cancel */
    guint32 id;          /* 0 until sent */
    guint32 flags;
    char *user;
    char *cmdline;
    int fd[BH_RPC_N_STREAMS]; /* stdin source, stdout and stderr sinks */
    GSource *src[BH_RPC_N_STREAMS];
    GByteArray *pend[BH_RPC_N_STREAMS]; /* output waiting for its sink */
    guint32 consumed[BH_RPC_N_STREAMS]; /* written or dropped, not yet credited */
    gboolean stdin_done;                /* end of stream sent */
    gboolean out_ended[BH_RPC_N_STREAMS];
    gboolean exited;
    int wait_status;
    GError *failure; /* EXIT FAILED */
    GCancellable *cancellable;
    gulong cancel_id;
};

static void update_watches(BhRpcClient *c);
static void conn_end(BhRpcClient *c, GError *why);

/* ---- Helpers ---------------------------------------------------------------- */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void drop_source(GSource **s)
{
    if (*s) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

/* write() without SIGPIPE for the whole daemon: block it for this thread,
 * and swallow the one our write raised (a pending one from elsewhere is
 * left alone). */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    gboolean was_pending;
    ssize_t n;
    int saved;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    saved = errno;
    if (n < 0 && saved == EPIPE && !was_pending) {
        static const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return n;
}

static GError *conn_error(BhRpcClient *c, int code, const char *what)
{
    return g_error_new(BH_RPC_ERROR, code, "qube '%s': %s", c->qube, what);
}

/* ---- Sending -------------------------------------------------------------- */

/* Queues one message and applies it to dom0's view of the table. */
static gboolean send_msg(BhRpcClient *c, const struct bh_rpc_msg *m)
{
    gsize at = c->out->len;
    gsize n;

    if (c->closed || !c->v)
        return FALSE;
    g_byte_array_set_size(c->out, at + BH_RPC_MAX_MSG_BYTES);
    n = bh_rpc_encode_msg(c->out->data + at, BH_RPC_MAX_MSG_BYTES, m);
    g_byte_array_set_size(c->out, at + n);
    if (n == 0) {
        g_critical("qube '%s': could not encode %s request %u", c->qube, bh_rpc_type_name(m->type),
                   m->request);
        return FALSE;
    }
    bh_rpc_state_apply(&c->st, m, FALSE);
    return TRUE;
}

static void flush_out(BhRpcClient *c)
{
    while (c->v && !c->closed && c->out->len > 0) {
        ssize_t n = bh_vchan_write(c->v, c->out->data, c->out->len);
        if (n < 0) {
            conn_end(c, conn_error(c, BH_RPC_ERROR_DISCONNECTED, "the agent disconnected"));
            return;
        }
        if (n == 0)
            return;
        g_byte_array_remove_range(c->out, 0, (guint)n);
    }
}

static void send_credit(Call *call, int stream, gboolean force)
{
    struct bh_rpc_msg m = {.type = BH_RPC_CREDIT, .request = call->id};

    if (call->consumed[stream] == 0 || call->out_ended[stream] ||
        (!force && call->consumed[stream] < CREDIT_BATCH))
        return;
    m.u.credit.stream = (guint32)stream;
    m.u.credit.bytes = call->consumed[stream];
    call->consumed[stream] = 0;
    send_msg(call->client, &m);
}

/* ---- Calls ---------------------------------------------------------------- */

static void call_free(Call *call)
{
    for (int s = 0; s < BH_RPC_N_STREAMS; s++) {
        drop_source(&call->src[s]);
        close_fd(&call->fd[s]);
        if (call->pend[s])
            g_byte_array_unref(call->pend[s]);
    }
    if (call->cancel_id)
        g_cancellable_disconnect(call->cancellable, call->cancel_id);
    g_clear_object(&call->cancellable);
    g_clear_error(&call->failure);
    g_clear_object(&call->task);
    g_free(call->user);
    g_free(call->cmdline);
    g_free(call);
}

/* Takes the call out of the client and returns its task's result: the last
 * thing done with it, because the callback may re-enter the client. */
static void call_complete(Call *call, GError *error)
{
    BhRpcClient *c = call->client;
    GTask *task = g_steal_pointer(&call->task);
    int status = call->wait_status;

    if (call->id)
        g_hash_table_remove(c->calls, GUINT_TO_POINTER(call->id));
    else
        g_queue_remove(&c->waiting, call);
    call_free(call);
    if (!task) {
        if (error)
            g_error_free(error);
        return;
    }
    if (error)
        g_task_return_error(task, error);
    else
        g_task_return_int(task, status);
    g_object_unref(task);
}

/* Done once EXIT came and every byte of output reached its sink. */
static void maybe_complete(Call *call)
{
    if (!call->exited)
        return;
    for (int s = BH_RPC_STREAM_STDOUT; s <= BH_RPC_STREAM_STDERR; s++) {
        if (call->pend[s] && call->pend[s]->len > 0 && call->fd[s] >= 0)
            return;
    }
    call_complete(call, g_steal_pointer(&call->failure));
}

static void call_start(BhRpcClient *c, Call *call)
{
    struct bh_rpc_msg m = {.type = BH_RPC_EXEC};

    do {
        c->next_id = c->next_id >= BH_RPC_MAX_REQUEST_ID ? 1 : c->next_id + 1;
    } while (g_hash_table_contains(c->calls, GUINT_TO_POINTER(c->next_id)));
    call->id = c->next_id;
    m.request = call->id;
    m.u.exec.flags = call->flags;
    g_strlcpy(m.u.exec.user, call->user, sizeof m.u.exec.user);
    m.u.exec.cmdline = call->cmdline;
    m.u.exec.cmdline_len = strlen(call->cmdline);
    g_hash_table_insert(c->calls, GUINT_TO_POINTER(call->id), call);
    send_msg(c, &m);
    if ((call->flags & BH_RPC_EXEC_PASS_IO) && call->fd[BH_RPC_STREAM_STDIN] < 0) {
        struct bh_rpc_msg eof = {.type = BH_RPC_STDIN, .request = call->id};
        send_msg(c, &eof);
        call->stdin_done = TRUE;
    }
}

static void start_waiting(BhRpcClient *c)
{
    while (!c->closed && c->st.count < BH_RPC_MAX_REQUESTS && !g_queue_is_empty(&c->waiting))
        call_start(c, g_queue_pop_head(&c->waiting));
}

static gboolean on_stdin_ready(gint fd, GIOCondition cond, gpointer data)
{
    Call *call = data;
    BhRpcClient *c = call->client;
    const struct bh_rpc_req_entry *e = bh_rpc_state_find(&c->st, call->id);
    guint8 buf[BH_RPC_MAX_CHUNK];
    struct bh_rpc_msg m = {.type = BH_RPC_STDIN, .request = call->id};
    gsize want;
    ssize_t n;

    if (!e || call->stdin_done)
        return G_SOURCE_CONTINUE;
    want = MIN(sizeof buf, e->credit[BH_RPC_STREAM_STDIN]);
    if (want == 0)
        return G_SOURCE_CONTINUE;
    do {
        n = read(fd, buf, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
    if (n < 0)
        g_message("qube '%s': request %u: reading stdin failed (%s); ending it", c->qube, call->id,
                  g_strerror(errno));
    if (n <= 0) {
        call->stdin_done = TRUE;
        drop_source(&call->src[BH_RPC_STREAM_STDIN]);
        close_fd(&call->fd[BH_RPC_STREAM_STDIN]);
    } else {
        m.u.data.len = (size_t)n;
        m.u.data.data = buf;
    }
    send_msg(c, &m);
    flush_out(c);
    update_watches(c);
    return G_SOURCE_CONTINUE;
}

/* Writes what the sink takes; returns credit for it. */
static void drain_sink(Call *call, int s)
{
    GByteArray *p = call->pend[s];

    while (p->len > 0 && call->fd[s] >= 0) {
        ssize_t n = write_nosigpipe(call->fd[s], p->data, p->len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            /* The reader went away (EPIPE) or the fd failed: the rest of
             * this stream is dropped, the program keeps running. */
            g_debug("qube '%s': request %u: output sink failed (%s); dropping the rest", call->client->qube,
                    call->id, g_strerror(errno));
            close_fd(&call->fd[s]);
            n = (ssize_t)p->len;
        }
        call->consumed[s] += (guint32)n;
        g_byte_array_remove_range(p, 0, (guint)n);
    }
    send_credit(call, s, p->len == 0);
}

static gboolean on_sink_ready(gint fd, GIOCondition cond, gpointer data);

static gboolean on_sink1_ready(gint fd, GIOCondition cond, gpointer data)
{
    return on_sink_ready(BH_RPC_STREAM_STDOUT, cond, data);
}

static gboolean on_sink2_ready(gint fd, GIOCondition cond, gpointer data)
{
    return on_sink_ready(BH_RPC_STREAM_STDERR, cond, data);
}

static gboolean on_sink_ready(gint s, GIOCondition cond, gpointer data)
{
    Call *call = data;
    BhRpcClient *c = g_object_ref(call->client);

    drain_sink(call, s);
    flush_out(c);
    if (!c->closed) {
        maybe_complete(call); /* may free call */
        if (!c->closed)
            update_watches(c);
    }
    g_object_unref(c);
    return G_SOURCE_CONTINUE;
}

static void set_watch(Call *call, int s, gboolean want)
{
    static const GUnixFDSourceFunc funcs[] = {on_stdin_ready, on_sink1_ready, on_sink2_ready};
    GSource *src;

    if (!want) {
        drop_source(&call->src[s]);
        return;
    }
    if (call->src[s])
        return;
    src = g_unix_fd_source_new(call->fd[s], s == BH_RPC_STREAM_STDIN ? G_IO_IN : G_IO_OUT);
    g_source_set_callback(src, G_SOURCE_FUNC(funcs[s]), call, NULL);
    g_source_attach(src, call->client->ctx);
    call->src[s] = src;
}

static void update_call_watches(BhRpcClient *c, Call *call)
{
    const struct bh_rpc_req_entry *e = bh_rpc_state_find(&c->st, call->id);
    gboolean live = !c->closed && c->ready;

    set_watch(call, BH_RPC_STREAM_STDIN,
              live && e && call->fd[BH_RPC_STREAM_STDIN] >= 0 && !call->stdin_done &&
                  e->credit[BH_RPC_STREAM_STDIN] > 0 && c->out->len < OUT_HIGH);
    for (int s = BH_RPC_STREAM_STDOUT; s <= BH_RPC_STREAM_STDERR; s++)
        set_watch(call, s, !c->closed && call->fd[s] >= 0 && call->pend[s] && call->pend[s]->len > 0);
}

static void set_io_watch(BhRpcClient *c);

static void update_watches(BhRpcClient *c)
{
    GHashTableIter it;
    gpointer value;

    if (c->closed)
        return;
    g_hash_table_iter_init(&it, c->calls);
    while (g_hash_table_iter_next(&it, NULL, &value))
        update_call_watches(c, value);
    set_io_watch(c);
}

/* ---- Receiving -------------------------------------------------------------- */

static void violation(BhRpcClient *c, const char *reason)
{
    g_autofree char *what = g_strdup_printf("the agent broke the protocol (%s); connection dropped", reason);

    g_message("qube '%s': dropping the agent's connection: %s", c->qube, reason);
    conn_end(c, conn_error(c, BH_RPC_ERROR_PROTOCOL, what));
}

static void on_output(BhRpcClient *c, const struct bh_rpc_msg *m)
{
    Call *call = g_hash_table_lookup(c->calls, GUINT_TO_POINTER(m->request));
    int s = bh_rpc_type_stream(m->type);

    bh_rpc_state_apply(&c->st, m, TRUE);
    if (!call)
        return;
    if (m->u.data.len == 0) {
        call->out_ended[s] = TRUE;
        return;
    }
    if (call->fd[s] < 0 || !call->task) {
        call->consumed[s] += (guint32)m->u.data.len;
        send_credit(call, s, FALSE);
        return;
    }
    /* Within credit, so pend never holds more than the window. */
    g_byte_array_append(call->pend[s], m->u.data.data, (guint)m->u.data.len);
    drain_sink(call, s);
}

static void on_exit_msg(BhRpcClient *c, const struct bh_rpc_msg *m)
{
    Call *call = g_hash_table_lookup(c->calls, GUINT_TO_POINTER(m->request));

    bh_rpc_state_apply(&c->st, m, TRUE);
    if (!call)
        return;
    call->exited = TRUE;
    switch (m->u.exit.kind) {
    case BH_RPC_EXIT_EXITED:
        call->wait_status = (int)(m->u.exit.value & 0xff) << 8;
        break;
    case BH_RPC_EXIT_SIGNALED:
        call->wait_status = (int)(m->u.exit.value & 0x7f);
        break;
    case BH_RPC_EXIT_STARTED:
        call->wait_status = 0;
        break;
    default:
        call->failure =
            g_error_new(BH_RPC_ERROR, BH_RPC_ERROR_EXEC_FAILED, "qube '%s': %s", c->qube, m->u.exit.message);
        break;
    }
    /* The request is over on the agent: its stdin is no longer wanted. */
    drop_source(&call->src[BH_RPC_STREAM_STDIN]);
    close_fd(&call->fd[BH_RPC_STREAM_STDIN]);
    maybe_complete(call);
}

static void on_hello(BhRpcClient *c, const struct bh_rpc_msg *m)
{
    GTask *task = g_steal_pointer(&c->connect_task);

    bh_rpc_state_apply(&c->st, m, TRUE);
    c->ready = TRUE;
    drop_source(&c->retry);
    drop_source(&c->connect_timeout);
    if (task) {
        g_task_return_pointer(task, g_object_ref(c), g_object_unref);
        g_object_unref(task);
    }
}

static void on_pong(BhRpcClient *c, const struct bh_rpc_msg *m)
{
    guint64 cookie = m->u.ping.cookie;
    gpointer key = NULL;
    GTask *task = NULL;

    if (!g_hash_table_steal_extended(c->pings, &cookie, &key, (gpointer *)&task)) {
        violation(c, "PONG with a cookie dom0 never sent");
        return;
    }
    g_free(key);
    g_task_return_boolean(task, TRUE);
    g_object_unref(task);
}

static void dispatch(BhRpcClient *c, const struct bh_rpc_msg *m)
{
    switch (m->type) {
    case BH_RPC_HELLO:
        on_hello(c, m);
        break;
    case BH_RPC_PONG:
        on_pong(c, m);
        break;
    case BH_RPC_STDOUT:
    case BH_RPC_STDERR:
        on_output(c, m);
        break;
    case BH_RPC_CREDIT:
        bh_rpc_state_apply(&c->st, m, TRUE);
        break;
    case BH_RPC_EXIT:
        on_exit_msg(c, m);
        break;
    default:
        /* The decoder accepts no other type from the agent. */
        violation(c, "unexpected message type");
        break;
    }
}

static void read_agent(BhRpcClient *c)
{
    while (!c->closed && c->v) {
        ssize_t n = bh_vchan_read(c->v, c->rbuf + c->rlen, BH_RPC_MAX_MSG_BYTES - c->rlen);
        gsize off = 0;

        int fd;

        if (n < 0 && errno == EPROTO) {
            violation(c, "it sent more file descriptors than the transport accepts");
            return;
        }
        if (n < 0) {
            conn_end(c, conn_error(c, BH_RPC_ERROR_DISCONNECTED,
                                   "the agent disconnected (it stopped or crashed, or the qube is gone)"));
            return;
        }
        /* The RPC never carries descriptors: one attached is a violation. */
        fd = bh_vchan_take_fd(c->v);
        if (fd >= 0) {
            close(fd);
            violation(c, "it attached a file descriptor");
            return;
        }
        if (n == 0)
            return;
        c->rlen += (gsize)n;
        while (!c->closed && off < c->rlen) {
            struct bh_rpc_msg m;
            struct bh_rpc_error err;
            long used = bh_rpc_decode(c->rbuf + off, c->rlen - off, BH_RPC_FROM_AGENT, &c->st, &m, &err);
            if (used == 0)
                break;
            if (used < 0) {
                violation(c, err.reason);
                return;
            }
            off += (gsize)used;
            dispatch(c, &m);
        }
        if (c->closed)
            return;
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

static gboolean on_io(gint fd, GIOCondition cond, gpointer data)
{
    BhRpcClient *c = g_object_ref(data);

    if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        if (bh_vchan_wait(c->v) < 0 && errno == EPROTO)
            violation(c, "it sent more file descriptors than the transport accepts");
        else if (bh_vchan_is_open(c->v) == BH_VCHAN_DISCONNECTED && bh_vchan_data_ready(c->v) == 0)
            conn_end(c, conn_error(c, BH_RPC_ERROR_DISCONNECTED,
                                   "the agent disconnected (it stopped or crashed, or the qube is gone)"));
        else
            read_agent(c);
    }
    if (!c->closed && c->v) {
        flush_out(c);
        start_waiting(c);
        flush_out(c);
        update_watches(c);
    }
    g_object_unref(c);
    return G_SOURCE_CONTINUE;
}

static void set_io_watch(BhRpcClient *c)
{
    GIOCondition cond = G_IO_IN | G_IO_HUP | G_IO_ERR;
    int fd;

    if (!c->v || c->closed) {
        drop_source(&c->io);
        return;
    }
    /* Xen signals freed ring space on the same event fd as data. */
    if (c->out->len > 0 && bh_vchan_transport(c->v) == BH_VCHAN_SOCKET)
        cond |= G_IO_OUT;
    fd = bh_vchan_fd_for_select(c->v);
    if (c->io && c->io_cond == cond && c->io_fd == fd)
        return;
    drop_source(&c->io);
    c->io = g_unix_fd_source_new(fd, cond);
    g_source_set_callback(c->io, G_SOURCE_FUNC(on_io), c, NULL);
    g_source_attach(c->io, c->ctx);
    c->io_cond = cond;
    c->io_fd = fd;
}

/* ---- Connection lifetime ---------------------------------------------------- */

static void disconnect_vchan(BhRpcClient *c)
{
    drop_source(&c->io);
    bh_vchan_close(c->v);
    c->v = NULL;
    c->rlen = 0;
    g_byte_array_set_size(c->out, 0);
    bh_rpc_state_init(&c->st);
}

static gboolean on_retry(gpointer data);

static void schedule_retry(BhRpcClient *c)
{
    drop_source(&c->retry);
    c->retry = g_timeout_source_new(CONNECT_RETRY_MS);
    g_source_set_callback(c->retry, on_retry, c, NULL);
    g_source_attach(c->retry, c->ctx);
}

/* The connection ended (why is taken). Before the agent's HELLO that is one
 * more reason to retry; after it, every pending call fails. */
static void conn_end(BhRpcClient *c, GError *why)
{
    GList *calls, *pings;

    if (c->closed) {
        g_error_free(why);
        return;
    }
    /* The connect task may hold the last reference, and its callback runs
     * right here: the client must outlive this function. */
    g_autoptr(BhRpcClient) hold = g_object_ref(c);
    disconnect_vchan(c);
    if (c->connect_task && !c->ready && why->code == BH_RPC_ERROR_DISCONNECTED &&
        g_get_monotonic_time() < c->deadline) {
        g_strlcpy(c->last_error, why->message, sizeof c->last_error);
        g_error_free(why);
        schedule_retry(c);
        return;
    }
    c->closed = TRUE;
    drop_source(&c->retry);
    drop_source(&c->connect_timeout);
    if (c->connect_task) {
        GTask *task = g_steal_pointer(&c->connect_task);
        g_task_return_error(task, g_error_copy(why));
        g_object_unref(task);
    }
    /* Steal everything first: callbacks may re-enter the client. */
    calls = g_hash_table_get_values(c->calls);
    g_hash_table_steal_all(c->calls);
    for (GList *l = c->waiting.head; l; l = l->next)
        calls = g_list_prepend(calls, l->data);
    g_queue_clear(&c->waiting);
    pings = g_hash_table_get_values(c->pings);
    /* Frees the keys; the tasks are ours now. */
    g_hash_table_remove_all(c->pings);
    for (GList *l = calls; l; l = l->next) {
        Call *call = l->data;
        call->id = 0; /* already out of the table */
        g_queue_push_tail(&c->waiting, call);
        call_complete(call, g_error_copy(why));
    }
    for (GList *l = pings; l; l = l->next) {
        g_task_return_error(l->data, g_error_copy(why));
        g_object_unref(l->data);
    }
    g_list_free(calls);
    g_list_free(pings);
    if (c->ready)
        g_signal_emit(c, signals[SIGNAL_DISCONNECTED], 0, why);
    g_error_free(why);
}

static gboolean try_connect(BhRpcClient *c)
{
    struct bh_rpc_msg hello = {.type = BH_RPC_HELLO, .u.hello.version = BH_RPC_PROTOCOL_VERSION};
    int e;

    c->v = bh_vchan_client_init_on((enum bh_vchan_transport)c->transport, c->domid, BH_RPC_VCHAN_PORT);
    if (!c->v) {
        e = errno;
        g_snprintf(c->last_error, sizeof c->last_error, "cannot connect to vchan port %d of domain %d: %s",
                   BH_RPC_VCHAN_PORT, c->domid, g_strerror(e));
        /* No server yet is the normal "not ready"; anything else will not
         * get better by waiting. */
        if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN) {
            g_autofree char *what =
                g_strdup_printf("%s (check BH_VCHAN_DIR / XDG_RUNTIME_DIR)", c->last_error);
            conn_end(c, conn_error(c, BH_RPC_ERROR_UNAVAILABLE, what));
            return FALSE;
        }
        return FALSE;
    }
    send_msg(c, &hello);
    flush_out(c);
    if (!c->closed && c->v)
        set_io_watch(c);
    return TRUE;
}

static gboolean on_retry(gpointer data)
{
    BhRpcClient *c = data;

    g_source_unref(g_steal_pointer(&c->retry));
    if (c->closed || c->v)
        return G_SOURCE_REMOVE;
    if (try_connect(c) || c->closed)
        return G_SOURCE_REMOVE;
    if (g_get_monotonic_time() >= c->deadline) {
        g_autofree char *what = g_strdup_printf("no agent answered within %u ms (%s)", c->timeout_ms,
                                                c->last_error[0] ? c->last_error : "no HELLO");
        conn_end(c, conn_error(c, BH_RPC_ERROR_UNAVAILABLE, what));
        return G_SOURCE_REMOVE;
    }
    schedule_retry(c);
    return G_SOURCE_REMOVE;
}

/* The deadline also covers a connection that never says HELLO. */
static gboolean on_connect_timeout(gpointer data)
{
    BhRpcClient *c = data;

    g_source_unref(g_steal_pointer(&c->connect_timeout));
    if (!c->ready && !c->closed) {
        g_autofree char *what = g_strdup_printf("no agent answered within %u ms (%s)", c->timeout_ms,
                                                c->last_error[0] ? c->last_error : "connected, but no HELLO");
        conn_end(c, conn_error(c, BH_RPC_ERROR_UNAVAILABLE, what));
    }
    return G_SOURCE_REMOVE;
}

/* ---- GObject ----------------------------------------------------------------- */

static void bh_rpc_client_dispose(GObject *obj)
{
    BhRpcClient *c = BH_RPC_CLIENT(obj);

    if (!c->closed)
        conn_end(c, conn_error(c, BH_RPC_ERROR_DISCONNECTED, "the connection was closed by dom0"));
    drop_source(&c->retry);
    drop_source(&c->connect_timeout);
    G_OBJECT_CLASS(bh_rpc_client_parent_class)->dispose(obj);
}

static void bh_rpc_client_finalize(GObject *obj)
{
    BhRpcClient *c = BH_RPC_CLIENT(obj);

    g_hash_table_unref(c->calls);
    g_hash_table_unref(c->pings);
    g_byte_array_unref(c->out);
    g_free(c->rbuf);
    g_free(c->qube);
    g_main_context_unref(c->ctx);
    G_OBJECT_CLASS(bh_rpc_client_parent_class)->finalize(obj);
}

static void bh_rpc_client_class_init(BhRpcClientClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);

    oc->dispose = bh_rpc_client_dispose;
    oc->finalize = bh_rpc_client_finalize;
    signals[SIGNAL_DISCONNECTED] = g_signal_new("disconnected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                                0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void bh_rpc_client_init(BhRpcClient *c)
{
    c->calls = g_hash_table_new(g_direct_hash, g_direct_equal);
    c->pings = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->out = g_byte_array_new();
    c->rbuf = g_malloc(BH_RPC_MAX_MSG_BYTES);
    g_queue_init(&c->waiting);
    bh_rpc_state_init(&c->st);
}

/* ---- Public API ------------------------------------------------------------- */

void bh_rpc_client_connect_async(int domid, const char *qube_name, guint timeout_ms,
                                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
    bh_rpc_client_connect_on_async(0, domid, qube_name, timeout_ms, cancellable, callback, user_data);
}

void bh_rpc_client_connect_on_async(int transport, int domid, const char *qube_name, guint timeout_ms,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
    g_autoptr(BhRpcClient) c = g_object_new(BH_TYPE_RPC_CLIENT, NULL);
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, bh_rpc_client_connect_async);
    c->transport = transport;
    /* The task keeps the client alive until it has connected or failed. */
    g_task_set_task_data(task, g_object_ref(c), g_object_unref);
    c->qube = g_strdup(qube_name ? qube_name : "?");
    c->domid = domid;
    c->ctx = g_main_context_ref_thread_default();
    c->timeout_ms = timeout_ms;
    c->deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    c->connect_task = task;
    c->connect_timeout = g_timeout_source_new(timeout_ms);
    g_source_set_callback(c->connect_timeout, on_connect_timeout, c, NULL);
    g_source_attach(c->connect_timeout, c->ctx);
    if (!try_connect(c) && !c->closed)
        schedule_retry(c);
}

BhRpcClient *bh_rpc_client_connect_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

static gboolean on_cancel_idle(gpointer data)
{
    gpointer *pair = data;
    BhRpcClient *c = pair[0];
    guint64 serial = *(guint64 *)pair[1];
    Call *call = NULL;
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, c->calls);
    while (!call && g_hash_table_iter_next(&it, NULL, &value)) {
        if (((Call *)value)->serial == serial)
            call = value;
    }
    for (GList *l = c->waiting.head; !call && l; l = l->next) {
        if (((Call *)l->data)->serial == serial)
            call = l->data;
    }
    if (!call || !call->task)
        return G_SOURCE_REMOVE;
    if (call->id && !call->exited && bh_rpc_state_find(&c->st, call->id)) {
        struct bh_rpc_msg sig = {.type = BH_RPC_SIGNAL, .request = call->id};
        GTask *task = g_steal_pointer(&call->task);
        sig.u.signal.signo = SIGKILL;
        send_msg(c, &sig);
        flush_out(c);
        /* The call stays until EXIT frees its id; its output is dropped. */
        for (int s = 0; s < BH_RPC_N_STREAMS; s++) {
            drop_source(&call->src[s]);
            close_fd(&call->fd[s]);
        }
        if (!call->stdin_done && (call->flags & BH_RPC_EXEC_PASS_IO)) {
            struct bh_rpc_msg eof = {.type = BH_RPC_STDIN, .request = call->id};
            call->stdin_done = TRUE;
            send_msg(c, &eof);
            flush_out(c);
        }
        g_task_return_error_if_cancelled(task);
        g_object_unref(task);
        update_watches(c);
        return G_SOURCE_REMOVE;
    }
    call_complete(call, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled"));
    return G_SOURCE_REMOVE;
}

static void free_cancel_pair(gpointer data)
{
    gpointer *pair = data;

    g_object_unref(pair[0]);
    g_free(pair[1]);
    g_free(pair);
}

/* May run in any thread, and synchronously inside g_cancellable_connect:
 * the work happens in the client's context. */
static void on_cancelled(GCancellable *cancellable, gpointer data)
{
    Call *call = data;
    gpointer *pair = g_new(gpointer, 2);
    GSource *idle = g_idle_source_new();

    pair[0] = g_object_ref(call->client);
    pair[1] = g_memdup2(&call->serial, sizeof call->serial);
    g_source_set_callback(idle, on_cancel_idle, pair, free_cancel_pair);
    g_source_attach(idle, call->client->ctx);
    g_source_unref(idle);
}

static gboolean validate_exec(const char *user, const char *cmdline, int stdin_fd, int stdout_fd,
                              int stderr_fd, gboolean wait, GError **error)
{
    gsize len = cmdline ? strlen(cmdline) : 0;

    if (!bh_rpc_user_name_ok(user, strlen(user))) {
        g_set_error(error, BH_RPC_ERROR, BH_RPC_ERROR_INVALID,
                    "user name '%s' is not valid: use [a-z_][a-z0-9_-]*, at most %u bytes", user,
                    BH_RPC_MAX_USER_BYTES);
        return FALSE;
    }
    if (len == 0 || len > BH_RPC_MAX_CMDLINE_BYTES || !g_utf8_validate(cmdline, (gssize)len, NULL)) {
        g_set_error(error, BH_RPC_ERROR, BH_RPC_ERROR_INVALID,
                    "the command line must be 1..%u bytes of UTF-8 (it has %zu)", BH_RPC_MAX_CMDLINE_BYTES,
                    len);
        return FALSE;
    }
    if (!wait && (stdin_fd >= 0 || stdout_fd >= 0 || stderr_fd >= 0)) {
        g_set_error_literal(error, BH_RPC_ERROR, BH_RPC_ERROR_INVALID,
                            "a call that does not wait cannot stream stdio: pass -1 for every fd");
        return FALSE;
    }
    return TRUE;
}

void bh_rpc_client_exec_async(BhRpcClient *client, const char *user, const char *cmdline, int stdin_fd,
                              int stdout_fd, int stderr_fd, gboolean wait, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    GError *error = NULL;
    int in[BH_RPC_N_STREAMS] = {stdin_fd, stdout_fd, stderr_fd};
    Call *call;

    g_return_if_fail(BH_IS_RPC_CLIENT(client));
    task = g_task_new(client, cancellable, callback, user_data);
    g_task_set_source_tag(task, bh_rpc_client_exec_async);
    if (!user)
        user = "";
    if (!validate_exec(user, cmdline, stdin_fd, stdout_fd, stderr_fd, wait, &error)) {
        g_task_return_error(task, error);
        return;
    }
    if (client->closed || !client->ready) {
        g_task_return_error(task, conn_error(client, BH_RPC_ERROR_DISCONNECTED,
                                             "not connected to the agent (connect first, or reconnect)"));
        return;
    }
    call = g_new0(Call, 1);
    call->client = client;
    call->serial = ++client->next_serial;
    call->user = g_strdup(user);
    call->cmdline = g_strdup(cmdline);
    call->flags = wait ? BH_RPC_EXEC_WAIT : 0;
    if (wait && (stdin_fd >= 0 || stdout_fd >= 0 || stderr_fd >= 0))
        call->flags |= BH_RPC_EXEC_PASS_IO;
    for (int s = 0; s < BH_RPC_N_STREAMS; s++) {
        call->fd[s] = -1;
        call->pend[s] = g_byte_array_new();
        if (in[s] < 0)
            continue;
        call->fd[s] = fcntl(in[s], F_DUPFD_CLOEXEC, 3);
        if (call->fd[s] < 0 || fcntl(call->fd[s], F_SETFL, fcntl(call->fd[s], F_GETFL) | O_NONBLOCK) < 0) {
            int e = errno;
            call_free(call);
            g_task_return_new_error(task, BH_RPC_ERROR, BH_RPC_ERROR_INVALID, "cannot use fd %d: %s", in[s],
                                    g_strerror(e));
            return;
        }
    }
    call->task = g_steal_pointer(&task);
    if (cancellable) {
        call->cancellable = g_object_ref(cancellable);
        call->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled), call, NULL);
    }
    g_queue_push_tail(&client->waiting, call);
    start_waiting(client);
    flush_out(client);
    update_watches(client);
}

gboolean bh_rpc_client_exec_finish(BhRpcClient *client, GAsyncResult *result, int *wait_status,
                                   GError **error)
{
    gssize status;

    g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
    status = g_task_propagate_int(G_TASK(result), error);
    if (status < 0)
        return FALSE;
    if (wait_status)
        *wait_status = (int)status;
    return TRUE;
}

void bh_rpc_client_ping_async(BhRpcClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
    GTask *task;
    struct bh_rpc_msg m = {.type = BH_RPC_PING};
    guint64 *key;

    g_return_if_fail(BH_IS_RPC_CLIENT(client));
    task = g_task_new(client, cancellable, callback, user_data);
    g_task_set_source_tag(task, bh_rpc_client_ping_async);
    if (client->closed || !client->ready) {
        g_task_return_error(task,
                            conn_error(client, BH_RPC_ERROR_DISCONNECTED, "not connected to the agent"));
        g_object_unref(task);
        return;
    }
    key = g_new(guint64, 1);
    *key = ++client->next_cookie;
    m.u.ping.cookie = *key;
    g_hash_table_insert(client->pings, key, task);
    send_msg(client, &m);
    flush_out(client);
    update_watches(client);
}

gboolean bh_rpc_client_ping_finish(BhRpcClient *client, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean bh_rpc_client_is_connected(BhRpcClient *client)
{
    g_return_val_if_fail(BH_IS_RPC_CLIENT(client), FALSE);
    return client->ready && !client->closed;
}

const char *bh_rpc_client_get_qube_name(BhRpcClient *client)
{
    g_return_val_if_fail(BH_IS_RPC_CLIENT(client), NULL);
    return client->qube;
}

void bh_rpc_client_close(BhRpcClient *client)
{
    g_return_if_fail(BH_IS_RPC_CLIENT(client));
    if (!client->closed)
        conn_end(client, conn_error(client, BH_RPC_ERROR_DISCONNECTED, "the connection was closed by dom0"));
}
