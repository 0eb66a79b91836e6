/* link.c — the agent's end of the GUI vchan: it serves BH_GUI_VCHAN_PORT to
 * dom0, queues outgoing messages without ever blocking and decodes dom0's
 * messages with core/proto; what they mean is dispatch.c's (through the
 * bh_link_events it was given).
 *
 * Owns: the vchan, the HELLO exchange, the outgoing queue (bounded by
 * BH_LINK_MAX_QUEUED: a dom0 that stops reading is dropped, not waited
 * for), the mirror of dom0's window table, and reconnection: when dom0
 * goes away the clients stay, and the events' `lost` lets every window be
 * announced again to the next dom0.
 * Must never: send a message dom0's decoder would reject (each one is
 * decoded here first, as dom0 will), block on dom0, hand on a message the
 * decoder did not accept, or call window, seat or xdg code by name (it is
 * the bottom floor of the agent, under everything that sends).
 *
 * Transport-neutral by construction (socket and xen alike): dom0 counts as
 * connected right after our own bh_vchan_wait accepted it, every event is
 * followed by reading until nothing is left (xen events are not repeated
 * for bytes already in the ring), the buffer kind follows the transport
 * (memfd + fd passing on sockets, grant references on xen), and freed ring
 * space on xen arrives as a read event, so WRITABLE is watched on sockets
 * only. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulkhead/vchan.h"

#define MOD      "link"
#define RETRY_MS 1000
/* Xen: how often a connected link looks for bytes no event announced. */
#define XEN_SWEEP_MS 1000
/* Socket mode: bytes in flight towards dom0; a whole clipboard fits. */
#define LINK_SNDBUF (512u * 1024u)
#define LINK_RCVBUF (64u * 1024u)

struct bh_outmsg {
    struct wl_list link;
    int fd; /* rides with the first byte; -1 for none */
    size_t len, off;
    uint8_t data[];
};

struct bh_link {
    struct bh_agent *agent;
    const struct bh_link_events *events;
    int domain;
    struct bh_vchan *v;
    bool xen;
    struct wl_event_source *src;
    int src_fd;
    uint32_t src_mask;
    struct wl_event_source *retry;
    struct wl_event_source *sweep; /* xen: the safety read, see sweep_cb */
    struct wl_event_source *reset_idle;
    char reset_reason[192];
    bool broken;    /* a reset is scheduled: send nothing more */
    bool connected; /* dom0 accepted (by our own bh_vchan_wait), HELLO sent */

    struct bh_gui_windows tx; /* dom0's view of what we sent (HELLO, windows) */
    struct bh_gui_windows rx; /* what we accepted from dom0 (its HELLO) */
    struct wl_list out;
    size_t out_bytes;

    size_t in_len;
    uint8_t in[BH_MAX_MSG_BYTES];
    uint8_t scratch[BH_MAX_MSG_BYTES];
    struct bh_gui_msg msg, check;
};

static void listen_again(struct bh_link *l);
static int link_event(int fd, uint32_t mask, void *data);

bool bh_link_ready(const struct bh_link *l)
{
    return l && l->v && !l->broken && l->tx.hello_done && l->rx.hello_done;
}

/* ---- outgoing ------------------------------------------------------------------ */

static void watch(struct bh_link *l)
{
    int fd = l->v ? bh_vchan_fd_for_select(l->v) : -1;
    /* The xen event channel is always "writable": ring space is signalled
     * as a read event there, so WRITABLE is for sockets only. */
    uint32_t mask = WL_EVENT_READABLE;
    if (!wl_list_empty(&l->out) && !l->xen && l->connected)
        mask |= WL_EVENT_WRITABLE;
    if (l->src && fd == l->src_fd) {
        if (mask != l->src_mask)
            wl_event_source_fd_update(l->src, mask);
        l->src_mask = mask;
        return;
    }
    if (l->src)
        wl_event_source_remove(l->src);
    l->src = NULL;
    l->src_fd = -1;
    if (fd < 0)
        return;
    l->src = wl_event_loop_add_fd(l->agent->loop, fd, mask, link_event, l);
    l->src_fd = fd;
    l->src_mask = mask;
}

static void out_free(struct bh_outmsg *m)
{
    wl_list_remove(&m->link);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

static void schedule_reset(struct bh_link *l, const char *reason);

static void flush_out(struct bh_link *l)
{
    while (!wl_list_empty(&l->out) && !l->broken) {
        struct bh_outmsg *m = wl_container_of(l->out.next, m, link);
        if (m->fd >= 0 && m->off == 0) {
            /* A message with an fd goes in one sendmsg, and only when it
             * fits whole: send_fd would block otherwise. */
            if (bh_vchan_buffer_space(l->v) < m->len)
                break;
            if (bh_vchan_send_fd(l->v, m->data, m->len, m->fd) != (ssize_t)m->len) {
                schedule_reset(l, "sending a buffer to dom0 failed");
                return;
            }
            m->off = m->len;
        } else {
            ssize_t n = bh_vchan_write(l->v, m->data + m->off, m->len - m->off);
            if (n < 0) {
                schedule_reset(l, "writing to dom0 failed");
                return;
            }
            if (n == 0)
                break;
            m->off += (size_t)n;
            if (m->off < m->len)
                break;
        }
        l->out_bytes -= m->len;
        out_free(m);
    }
    watch(l);
}

static bool enqueue(struct bh_link *l, const uint8_t *data, size_t len, int fd)
{
    if (l->out_bytes + len > BH_LINK_MAX_QUEUED) {
        schedule_reset(l, "dom0 is not reading (outgoing queue full)");
        return false;
    }
    struct bh_outmsg *m = malloc(sizeof(*m) + len);
    if (!m) {
        schedule_reset(l, "out of memory for the outgoing queue");
        return false;
    }
    m->fd = -1;
    if (fd >= 0 && (m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        free(m);
        schedule_reset(l, "cannot duplicate a buffer fd");
        return false;
    }
    m->len = len;
    m->off = 0;
    memcpy(m->data, data, len);
    wl_list_insert(l->out.prev, &m->link);
    l->out_bytes += len;
    flush_out(l);
    return true;
}

static bool send_any(struct bh_link *l, uint32_t type, uint32_t window, const void *body, size_t len,
                     const void *tail, size_t tail_len, int fd, bool need_ready)
{
    struct bh_gui_error err;
    if (!l || !l->v || l->broken || (need_ready && !bh_link_ready(l)))
        return false;
    size_t n = bh_gui_encode2(l->scratch, sizeof(l->scratch), type, window, body, len, tail, tail_len);
    if (n == 0) {
        BH_ERR(l->agent, MOD, "bug: %s for window %u does not encode (%zu bytes)", bh_gui_type_name(type),
               window, len + tail_len);
        return false;
    }
    /* dom0 decodes with the same rules: a message it would reject would
     * cost every window of this qube, so it is dropped here instead. */
    long r = bh_gui_decode(l->scratch, n, BH_GUI_FROM_AGENT, &l->tx, &l->check, &err);
    if (r != (long)n) {
        BH_ERR(l->agent, MOD, "bug: not sending %s: %s", bh_gui_type_name(type), err.reason);
        return false;
    }
    bh_gui_windows_apply(&l->tx, &l->check);
    return enqueue(l, l->scratch, n, fd);
}

bool bh_link_send(struct bh_link *l, uint32_t type, uint32_t window, const void *body, size_t len)
{
    return send_any(l, type, window, body, len, NULL, 0, -1, true);
}

bool bh_link_send2(struct bh_link *l, uint32_t type, uint32_t window, const void *body, size_t len,
                   const void *tail, size_t tail_len)
{
    return send_any(l, type, window, body, len, tail, tail_len, -1, true);
}

bool bh_link_send_fd(struct bh_link *l, uint32_t type, uint32_t window, const void *body, size_t len, int fd)
{
    if (l && l->xen) {
        BH_ERR(l->agent, MOD, "bug: fd passing on the xen transport");
        return false;
    }
    return send_any(l, type, window, body, len, NULL, 0, fd, true);
}

/* ---- incoming ------------------------------------------------------------------- */

int bh_link_take_fd(struct bh_link *l)
{
    if (!l || !l->v || l->xen)
        return -1;
    return bh_vchan_take_fd(l->v);
}

static void process_input(struct bh_link *l)
{
    struct bh_gui_error err;
    size_t off = 0;
    while (off < l->in_len && !l->broken) {
        long n = bh_gui_decode(l->in + off, l->in_len - off, BH_GUI_FROM_DOM0, &l->rx, &l->msg, &err);
        if (n == 0)
            break;
        if (n < 0) {
            if (err.code == BH_GUI_E_VERSION)
                BH_ERR(l->agent, MOD, "dom0 %s; update this qube's template or dom0 so the majors match",
                       err.reason);
            schedule_reset(l, err.reason);
            return;
        }
        bh_gui_windows_apply(&l->rx, &l->msg);
        l->events->message(l->agent, &l->msg);
        off += (size_t)n;
    }
    memmove(l->in, l->in + off, l->in_len - off);
    l->in_len -= off;
}

static void on_connected(struct bh_link *l)
{
    struct bh_gui_hello h = {BH_GUI_PROTOCOL_VERSION};
    l->connected = true;
    BH_DBG(l->agent, MOD, "dom0 connected; sending HELLO");
    /* Socket: the connection's fd replaces the listening one. */
    watch(l);
    if (l->xen)
        wl_event_source_timer_update(l->sweep, XEN_SWEEP_MS);
    send_any(l, BH_GUI_HELLO, 0, &h, sizeof(h), NULL, 0, -1, false);
}

/* Everything readable now, decoded and dispatched. Reading until nothing is
 * left is what the xen transport needs: an event stands for all the bytes
 * before it and none comes again for bytes already in the ring. */
static bool read_all(struct bh_link *l)
{
    for (;;) {
        if (l->in_len == sizeof(l->in)) {
            schedule_reset(l, "bug: input buffer full without a complete message");
            return true;
        }
        size_t room = sizeof(l->in) - l->in_len;
        ssize_t n = bh_vchan_read(l->v, l->in + l->in_len, room);
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        l->in_len += (size_t)n;
        process_input(l);
        if (l->broken)
            return true;
        /* A socket that gave less than asked for is drained, and its fd
         * stays readable (level-triggered) for anything that arrives
         * later: asking again would only return EAGAIN, once per frame. */
        if (!l->xen && (size_t)n < room)
            return true;
    }
}

static int link_event(int fd, uint32_t mask, void *data)
{
    struct bh_link *l = data;
    if (l->broken || !l->v)
        return 0;
    if (l->connected && (mask & WL_EVENT_WRITABLE))
        flush_out(l);
    if (!(mask & (WL_EVENT_READABLE | WL_EVENT_HANGUP | WL_EVENT_ERROR)))
        return 0;
    /* A connected socket needs neither: the event loop has just polled
     * its fd, and a read reports dom0's hang-up (EOF, reset) by itself.
     * Skipping them saves two poll() calls per wake-up, most of what a
     * small frame costs besides the wake-up itself (bench/RESULTS.md,
     * "The 5 % frame"). */
    if (l->connected && !l->xen) {
        if (!read_all(l) && !l->broken)
            schedule_reset(l, "dom0 disconnected");
        else if (!l->broken)
            flush_out(l);
        return 0;
    }
    /* Accepts dom0 while waiting for it; consumes the event (xen) or
     * notices a hang-up (socket). The state changes only here (vchan.h),
     * so "connected" is decided right after this call, whatever the
     * transport: on xen, dom0 has mapped the ring before its event came. */
    bool gone = bh_vchan_wait(l->v) < 0;
    int wait_errno = gone ? errno : 0;
    if (!l->connected) {
        enum bh_vchan_state st = bh_vchan_is_open(l->v);
        if (st == BH_VCHAN_WAITING && !gone) {
            watch(l);
            return 0;
        }
        if (st != BH_VCHAN_CONNECTED) {
            schedule_reset(l, gone ? strerror(wait_errno) : "dom0 left before the handshake");
            return 0;
        }
        on_connected(l);
        if (l->broken)
            return 0;
        /* No return here: dom0 may have written already (guid sends its
         * HELLO at once), and on xen no further event announces it. */
    }
    if (!read_all(l))
        gone = true;
    if (l->broken)
        return 0;
    if (gone || bh_vchan_is_open(l->v) == BH_VCHAN_DISCONNECTED) {
        schedule_reset(l, "dom0 disconnected");
        return 0;
    }
    flush_out(l);
    return 0;
}

/* Xen: once a second, bytes in the ring that no event announced are read,
 * and queued output is offered to freed ring space. libxenvchan's
 * notifications are requests written in the shared ring; a missed one
 * would otherwise leave dom0's messages unread until dom0 writes again,
 * which it may never do (a HELLO left unread means no window is ever
 * shown). Logged when it finds anything, so a lost event is still seen. */
static int sweep_cb(void *data)
{
    struct bh_link *l = data;
    if (!l->connected || l->broken || !l->v || !l->xen)
        return 0;
    size_t ready = bh_vchan_data_ready(l->v);
    if (ready > 0) {
        BH_INFO(l->agent, MOD, "%zu bytes from dom0 were in the ring without an event; reading them", ready);
        if (!read_all(l) && !l->broken) {
            schedule_reset(l, "dom0 disconnected");
            return 0;
        }
    }
    if (!l->broken)
        flush_out(l);
    if (!l->broken)
        wl_event_source_timer_update(l->sweep, XEN_SWEEP_MS);
    return 0;
}

/* ---- connection lifecycle ------------------------------------------------------- */

static void drop_connection(struct bh_link *l)
{
    struct bh_outmsg *m, *tmp;
    if (l->src)
        wl_event_source_remove(l->src);
    l->src = NULL;
    l->src_fd = -1;
    wl_list_for_each_safe(m, tmp, &l->out, link) out_free(m);
    l->out_bytes = 0;
    l->in_len = 0;
    bh_vchan_close(l->v);
    l->v = NULL;
    l->connected = false;
    wl_event_source_timer_update(l->sweep, 0);
    bh_gui_windows_init(&l->tx);
    bh_gui_windows_init(&l->rx);
}

static void do_reset(void *data)
{
    struct bh_link *l = data;
    l->reset_idle = NULL;
    BH_INFO(l->agent, MOD, "dropping the dom0 connection: %s; clients keep running", l->reset_reason);
    drop_connection(l);
    l->broken = false;
    /* Windows stay; the next dom0 gets each of them announced afresh. */
    l->events->lost(l->agent);
    listen_again(l);
}

static void schedule_reset(struct bh_link *l, const char *reason)
{
    if (l->broken)
        return;
    l->broken = true;
    snprintf(l->reset_reason, sizeof(l->reset_reason), "%s", reason);
    /* Deferred: this runs inside window and seat code that is in the middle
     * of sending; tearing the link down under it would pull state away. */
    l->reset_idle = wl_event_loop_add_idle(l->agent->loop, do_reset, l);
}

void bh_link_reset(struct bh_link *l, const char *reason)
{
    schedule_reset(l, reason);
}

static int retry_cb(void *data)
{
    listen_again(data);
    return 0;
}

static void listen_again(struct bh_link *l)
{
    l->v = bh_vchan_server_init(l->domain, BH_GUI_VCHAN_PORT, LINK_RCVBUF, LINK_SNDBUF);
    if (!l->v) {
        BH_WARN(l->agent, MOD, "cannot serve the GUI vchan to domain %d on port %d: %s; retrying", l->domain,
                BH_GUI_VCHAN_PORT, strerror(errno));
        wl_event_source_timer_update(l->retry, RETRY_MS);
        return;
    }
    l->xen = bh_vchan_transport(l->v) == BH_VCHAN_XEN;
    BH_DBG(l->agent, MOD, "waiting for dom0 on vchan port %d", BH_GUI_VCHAN_PORT);
    /* A dom0 that is already there makes the fd readable: link_event
     * accepts it. */
    watch(l);
}

struct bh_link *bh_link_new(struct bh_agent *a, int domain, const struct bh_link_events *events)
{
    struct bh_link *l = calloc(1, sizeof(*l));
    if (!l) {
        BH_ERR(a, MOD, "out of memory");
        return NULL;
    }
    l->agent = a;
    l->domain = domain;
    l->events = events;
    l->src_fd = -1;
    wl_list_init(&l->out);
    bh_gui_windows_init(&l->tx);
    bh_gui_windows_init(&l->rx);
    l->retry = wl_event_loop_add_timer(a->loop, retry_cb, l);
    l->sweep = wl_event_loop_add_timer(a->loop, sweep_cb, l);
    if (!l->retry || !l->sweep) {
        if (l->retry)
            wl_event_source_remove(l->retry);
        if (l->sweep)
            wl_event_source_remove(l->sweep);
        free(l);
        return NULL;
    }
    listen_again(l);
    return l;
}

void bh_link_free(struct bh_link *l)
{
    if (!l)
        return;
    if (l->reset_idle)
        wl_event_source_remove(l->reset_idle);
    drop_connection(l);
    wl_event_source_remove(l->sweep);
    wl_event_source_remove(l->retry);
    free(l);
}
