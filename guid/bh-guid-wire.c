/* bh-guid-wire.c — the agent connection (see bh-guid-session-private.h):
 * connecting, the bounded outgoing queue, reading one message exactly, the
 * descriptor that came with it, closing.
 *
 * Reading is strict and never blocks: a message is read exactly (header,
 * then the body length the header announced and the framing layer bounded),
 * so a descriptor that arrives can only belong to the message just read.
 * Writing never blocks either: what the agent does not take waits in outq,
 * up to BH_GUID_MAX_OUTQ.
 *
 * Owns: self->vchan, outq and its out_source, rx. Must never: decode or act
 * on a message (bh-guid-session.c does), call a part above it other than
 * through self->stop, or let an agent that stops reading grow guid. */
#define G_LOG_DOMAIN "bh-guid"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>

#include "bh-guid-session-private.h"

/* ---- Sending ---------------------------------------------------------------- */

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data)
{
    BhGuidSession *self = data;
    bh_guid_wire_flush(self);
    if (self->finished || self->outq->len == 0) {
        self->out_source = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void bh_guid_wire_flush(BhGuidSession *self)
{
    while (!self->finished && self->outq->len > 0) {
        ssize_t n = bh_vchan_write(self->vchan, self->outq->data, self->outq->len);
        if (n < 0) {
            /* The reader will see the disconnect and end the session. */
            g_byte_array_set_size(self->outq, 0);
            return;
        }
        if (n == 0)
            break;
        g_byte_array_remove_range(self->outq, 0, (guint)n);
    }
    /* Socket: wait for room. Xen: the event channel wakes the reader, which
     * flushes too. */
    if (self->outq->len > 0 && self->out_source == 0 && bh_vchan_transport(self->vchan) == BH_VCHAN_SOCKET)
        self->out_source = g_unix_fd_add(bh_vchan_fd_for_select(self->vchan), G_IO_OUT, on_writable, self);
}

void bh_guid_wire_send(BhGuidSession *self, guint32 type, guint32 window, const void *body, gsize body_len)
{
    guint8 small[HDR_LEN + sizeof(struct bh_gui_keymap)];
    if (self->finished || self->vchan == NULL)
        return;
    /* Only the clipboard's text is larger than a keymap. */
    g_autofree guint8 *big = body_len > sizeof(struct bh_gui_keymap) ? g_malloc(HDR_LEN + body_len) : NULL;
    guint8 *buf = big != NULL ? big : small;
    gsize n =
        bh_gui_encode(buf, big != NULL ? HDR_LEN + body_len : sizeof small, type, window, body, body_len);
    g_assert(n > 0); /* our own messages: a failure is a bug here */
    if (self->outq->len + n > BH_GUID_MAX_OUTQ) {
        bh_guid_drop_agent(self, "agent stopped reading: %u bytes of input queued", self->outq->len);
        return;
    }
    g_byte_array_append(self->outq, buf, (guint)n);
    bh_guid_wire_flush(self);
}

gboolean bh_guid_wire_send_fd(BhGuidSession *self, guint32 type, guint32 window, const void *body,
                              gsize body_len, int fd)
{
    guint8 buf[HDR_LEN + sizeof(struct bh_gui_clipboard_image)];
    if (self->finished || self->vchan == NULL || bh_vchan_transport(self->vchan) != BH_VCHAN_SOCKET)
        return FALSE;
    gsize n = bh_gui_encode(buf, sizeof buf, type, window, body, body_len);
    g_assert(n > 0); /* our own messages: a failure is a bug here */
    /* The descriptor rides with the message's first byte, so nothing may be
     * queued before it, and the send must not block guid: with bytes still
     * queued or a full socket (an agent that does not read) it is not sent. */
    bh_guid_wire_flush(self);
    if (self->outq->len > 0)
        return FALSE;
    struct pollfd p = {.fd = bh_vchan_fd_for_select(self->vchan), .events = POLLOUT};
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
        return FALSE;
    /* A failure is a broken connection: the reader ends the session. */
    return bh_vchan_send_fd(self->vchan, buf, n, fd) == (ssize_t)n;
}

/* ---- Reading ------------------------------------------------------------------ */

gboolean bh_guid_wire_wait(BhGuidSession *self)
{
    /* On a socket the main loop has just polled the fd and the read that
     * follows reports a hang-up (EPIPE) itself: a poll() here would only
     * repeat the main loop's, once per frame (bench/RESULTS.md, "The 5 %
     * frame"). A xen event must be consumed here. */
    if (bh_vchan_transport(self->vchan) == BH_VCHAN_SOCKET || bh_vchan_wait(self->vchan) >= 0)
        return TRUE;
    if (errno == EPIPE)
        self->stop(self, BH_GUID_EXIT_DISCONNECTED, "agent disconnected");
    else
        bh_guid_drop_agent(self, "connection failed: %s", g_strerror(errno));
    return FALSE;
}

gboolean bh_guid_wire_read(BhGuidSession *self)
{
    while (!self->finished) {
        ssize_t n = bh_vchan_read(self->vchan, self->rx + self->rx_have, self->rx_need - self->rx_have);
        if (n < 0) {
            if (errno == EPIPE || errno == ECONNRESET ||
                bh_vchan_is_open(self->vchan) == BH_VCHAN_DISCONNECTED)
                self->stop(self, BH_GUID_EXIT_DISCONNECTED, "agent disconnected");
            else
                bh_guid_drop_agent(self, "connection failed: %s", g_strerror(errno));
            return FALSE;
        }
        if (n == 0)
            return FALSE; /* nothing more now */
        self->rx_have += (gsize)n;
        if (self->rx_have < self->rx_need)
            continue;

        if (self->rx_need == HDR_LEN) {
            /* Framing before any body byte is read: the length is bounded
             * per type here, so rx (BH_MAX_MSG_BYTES) always fits it. */
            guint32 body_len = 0;
            struct bh_gui_error err = {0};
            if (bh_gui_frame_check(self->rx, BH_GUI_FROM_AGENT, &body_len, &err) != BH_GUI_OK) {
                bh_guid_drop_agent(self, "%s: %s", bh_gui_err_name(err.code), err.reason);
                return FALSE;
            }
            g_assert(HDR_LEN + body_len <= BH_MAX_MSG_BYTES);
            self->rx_need = HDR_LEN + body_len;
            if (body_len > 0)
                continue;
        }
        return TRUE;
    }
    return FALSE;
}

int bh_guid_wire_take_fd(BhGuidSession *self)
{
    /* Only the bytes of this message were read, so a descriptor that came
     * with them is this message's. */
    if (bh_vchan_transport(self->vchan) == BH_VCHAN_SOCKET)
        return bh_vchan_take_fd(self->vchan);
    return -1;
}

void bh_guid_wire_next(BhGuidSession *self)
{
    self->rx_have = 0;
    self->rx_need = HDR_LEN;
}

/* ---- Connection ---------------------------------------------------------------- */

void bh_guid_drop_agent(BhGuidSession *self, const char *fmt, ...)
{
    if (self->finished)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *full = g_strdup_printf("agent violated the protocol: %s", reason);
    self->stop(self, BH_GUID_EXIT_VIOLATION, full);
}

gboolean bh_guid_session_connect(BhGuidSession *self, int domid, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_return_val_if_fail(self->vchan == NULL, FALSE);
    self->domid = domid;
    for (;;) {
        self->vchan = bh_vchan_client_init(domid, BH_GUI_VCHAN_PORT);
        if (self->vchan != NULL)
            return TRUE;
        int e = errno;
        gboolean retry = e == ENOENT || e == ECONNREFUSED || e == EAGAIN;
        if (!retry || g_get_monotonic_time() >= deadline) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                        "no GUI agent of qube '%s' (domain %d) on port %d: %s%s", self->qube, domid,
                        BH_GUI_VCHAN_PORT, g_strerror(e),
                        retry ? " (is the qube running with its gui-agent?)" : "");
            return FALSE;
        }
        g_usleep(100 * 1000);
    }
}

void bh_guid_wire_close(BhGuidSession *self)
{
    g_clear_handle_id(&self->out_source, g_source_remove);
    g_clear_pointer(&self->vchan, bh_vchan_close);
}
