/* bh-guid-dispatch.c — what guid does with the agent's messages (see
 * bh-guid-session-private.h): the read loop, decoding with core/proto, and
 * acting on each accepted message, one case per type.
 *
 * Reading and framing are bh-guid-wire.c's; a BUFFER or CLIPBOARD_IMAGE
 * must bring exactly one descriptor, every other message none. Decoding is core/proto's; this file
 * only acts on accepted messages and keeps the window table in step. Every
 * violation goes through bh_guid_drop_agent(), which logs, closes all
 * windows and ends the session.
 *
 * Owns: io_source, more_source and sweep_source, the window table's updates. Must never:
 * act on a message the decoder did not accept, keep a descriptor a message
 * should not have brought, or read more than READ_BUDGET messages before
 * GTK gets to draw and take input. */
#define G_LOG_DOMAIN "bh-guid"

#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "bh-guid-session-private.h"

/* Messages handled per wake-up before GTK gets to draw and take input. */
#define READ_BUDGET 256

/* ---- Dispatch of accepted messages --------------------------------------------- */

/* BUFFER: the import, after the memory budget took it; FALSE when the agent
 * was dropped. */
static gboolean handle_buffer(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_msg *m, int fd)
{
    const struct bh_gui_buffer *info = &m->u.buffer.info;
    struct bh_winbuf nb = {0};
    const char *reason = NULL;
    gsize size = (gsize)info->stride * info->height; /* bounded by the decoder */
    nb.fd = -1;

    if (!bh_guid_win_charge_buffer(w, info, fd))
        return TRUE; /* refused, but within the protocol */

    if (info->kind == BH_GUI_BUFFER_MEMFD) {
        if (bh_vchan_transport(self->vchan) != BH_VCHAN_SOCKET) {
            bh_guid_drop_agent(self, "window %u: memfd buffer on a Xen connection", w->id);
            return FALSE;
        }
        if (fd < 0) {
            bh_guid_drop_agent(self, "window %u: BUFFER without its memfd", w->id);
            return FALSE;
        }
        if (bh_winbuf_import_memfd(&nb, fd, size, &reason) < 0) {
            bh_guid_drop_agent(self, "window %u: buffer refused: %s", w->id, reason ? reason : "?");
            return FALSE;
        }
    } else {
        g_autofree guint32 *refs = g_new(guint32, MAX(info->n_refs, 1));
        memcpy(refs, m->u.buffer.refs, (gsize)info->n_refs * sizeof(guint32));
        if (bh_vchan_transport(self->vchan) != BH_VCHAN_XEN ||
            bh_winbuf_import_grant(&nb, self->domid, refs, info->n_refs, size, &reason) < 0) {
            bh_guid_drop_agent(self, "window %u: grant buffer refused: %s", w->id,
                               reason ? reason : "not a Xen connection");
            return FALSE;
        }
    }
    bh_winbuf_release(&w->next); /* replaced before it was ever drawn */
    w->next = nb;
    w->next_stride = info->stride;
    w->next_w = info->width;
    w->next_h = info->height;
    return TRUE;
}

static void handle_message(BhGuidSession *self, const struct bh_gui_msg *m, int fd)
{
    BhGuidWin *w = m->window != 0 ? bh_guid_win_lookup(self, m->window) : NULL;

    /* The decoder checked the id against the table; the map follows the
     * table, so a miss here is a bug in guid, not in the agent. */
    if (m->window != 0 && m->type != BH_GUI_CREATE && w == NULL) {
        if (fd >= 0)
            close(fd);
        bh_guid_drop_agent(self, "internal: no window %u for %s", m->window, bh_gui_type_name(m->type));
        return;
    }

    switch (m->type) {
    case BH_GUI_HELLO:
        DEBUG(self, "agent speaks protocol %u.%u", m->u.hello.version >> 16, m->u.hello.version & 0xffff);
        break;
    case BH_GUI_CREATE:
        g_hash_table_insert(self->wins, GUINT_TO_POINTER(m->window),
                            bh_guid_win_new(self, m->window, &m->u.create));
        break;
    case BH_GUI_DESTROY: {
        guint32 ids[BH_MAX_WINDOWS];
        gsize n = bh_gui_windows_destroy_set(&self->table, m->window, ids, G_N_ELEMENTS(ids));
        for (gsize i = 0; i < n; i++)
            g_hash_table_remove(self->wins, GUINT_TO_POINTER(ids[i]));
        break;
    }
    case BH_GUI_MAP:
        /* The table's parent must be current for popups and transients. */
        bh_gui_windows_apply(&self->table, m);
        bh_guid_wins_sync_transients(self);
        /* Else it stays hidden. */
        if (bh_guid_win_charge_shown(w) && bh_guid_win_parent_shown(self, w))
            bh_guid_win_map(self, w, &m->u.map);
        return;
    case BH_GUI_UNMAP:
        bh_guid_win_hide(w);
        break;
    case BH_GUI_CONFIGURE:
        w->guest_w = m->u.configure.width;
        w->guest_h = m->u.configure.height;
        if (w->popover != NULL)
            bh_guest_popup_move(w->popover, m->u.configure.x, m->u.configure.y);
        bh_guid_win_resize_to_guest(w);
        bh_guid_win_charge_resized(w);
        break;
    case BH_GUI_TITLE:
        if (w->window != NULL)
            bh_guest_window_set_guest_title(w->window, m->u.title.text);
        break;
    case BH_GUI_APP_ID:
        DEBUG(self, "window %u: app id '%s'", w->id, m->u.title.text);
        break;
    case BH_GUI_HINTS:
        bh_guest_view_set_min_content_size(w->view, m->u.hints.min_width, m->u.hints.min_height);
        break;
    case BH_GUI_FLAGS:
        bh_guid_win_set_flags(self, w, &m->u.flags);
        break;
    case BH_GUI_BUFFER:
        if (!handle_buffer(self, w, m, fd))
            return;
        /* Popups too: their size decides, at MAP, how they are shown. */
        if (w->guest_w != m->u.buffer.info.width || w->guest_h != m->u.buffer.info.height) {
            w->guest_w = m->u.buffer.info.width;
            w->guest_h = m->u.buffer.info.height;
            bh_guid_win_resize_to_guest(w);
            bh_guid_win_charge_resized(w);
        }
        break;
    case BH_GUI_DAMAGE: {
        gint64 arrived = g_get_monotonic_time();
        bh_guid_win_switch_buffer(w);
        if (self->trace != NULL)
            bh_guid_win_trace_damage(w, m->u.damage.serial, m->u.damage.rects, m->u.damage.n_rects);
        guint64 px =
            bh_guid_damage_px(&self->budget, w->buf_w, w->buf_h, m->u.damage.rects, m->u.damage.n_rects);
        if (w->release_at != 0 || w->paced) {
            /* A frame before we released the last one (a conforming agent
             * keeps one in flight): shown when the pacing releases, so a
             * flooding guest costs the shared X server one put per refresh. */
            bh_guest_view_damage_later(w->view, m->u.damage.rects, m->u.damage.n_rects);
            w->release_serial = m->u.damage.serial;
            if (w->paced) /* folded: at most the shown buffer per put */
                w->paced_px = MIN(w->paced_px + px, bh_guid_budget_area(&self->budget, w->buf_w, w->buf_h));
        } else if (!bh_guid_pace_take(&self->pace, px, arrived)) {
            bh_guid_win_pace_wait(w, m->u.damage.serial, px, m->u.damage.rects, m->u.damage.n_rects);
        } else if (bh_guest_view_damage(w->view, w->buf.map, w->buf.size, w->buf_stride, m->u.damage.rects,
                                        m->u.damage.n_rects)) {
            if (w->trace_pending)
                bh_guid_win_trace_put(w);
            bh_guid_win_pace_release(w, m->u.damage.serial, arrived);
        } else {
            if (w->trace_pending)
                bh_guest_view_request_paint(w->view); /* no clock yet: on_realize asks */
            bh_guid_win_queue_release(w, m->u.damage.serial);
        }
        if (bh_guest_view_get_stats(w->view)->faults > 0) {
            /* Imports cannot lose pages; a guest that made one do so anyway
             * (bulkhead/winbuf.h, the SIGBUS guard) is not drawn again. */
            bh_guid_drop_agent(self, "window %u: its buffer's memory faulted (SIGBUS) while guid read it",
                               w->id);
            return;
        }
        break;
    }
    case BH_GUI_CURSOR:
        bh_guest_view_set_cursor_shape(w->view, m->u.cursor.shape);
        break;
    case BH_GUI_CLIPBOARD_DATA:
        bh_guid_clipboard_agent_data(self->clip, m->u.clipboard.request, m->u.clipboard.flags,
                                     m->u.clipboard.data, m->u.clipboard.len);
        break;
    case BH_GUI_CLIPBOARD_IMAGE: {
        g_autofree char *reason = NULL;
        if (!bh_guid_clipboard_agent_image(self->clip, &m->u.clipboard_image, fd, &reason)) {
            bh_guid_drop_agent(self, "%s", reason);
            return;
        }
        break;
    }
    default:
        bh_guid_drop_agent(self, "internal: no handler for %s", bh_gui_type_name(m->type));
        return;
    }
    bh_gui_windows_apply(&self->table, m);
    if (m->type == BH_GUI_DESTROY)
        bh_guid_wins_sync_transients(self);
}

/* ---- Reading ------------------------------------------------------------------ */

/* One complete message is in rx[0..rx_need) (bh_guid_wire_read). */
static void process_message(BhGuidSession *self)
{
    struct bh_gui_msg m;
    struct bh_gui_error err = {0};
    int fd = bh_guid_wire_take_fd(self);

    long used = bh_gui_decode(self->rx, self->rx_need, BH_GUI_FROM_AGENT, &self->table, &m, &err);
    if (used <= 0) {
        if (fd >= 0)
            close(fd);
        if (err.code == BH_GUI_E_VERSION) {
            /* Not an attack: an older or newer template. Our HELLO went out
             * first, so the agent logs the mismatch too. */
            g_autofree char *why =
                g_strdup_printf("gui-agent and guid cannot talk (%s); update the qube's template or dom0 so "
                                "the protocol's major versions match",
                                err.reason);
            self->stop(self, BH_GUID_EXIT_FAILURE, why);
            return;
        }
        bh_guid_drop_agent(self, "%s: %s", bh_gui_err_name(err.code), err.reason);
        return;
    }
    gboolean wants_fd = (m.type == BH_GUI_BUFFER && m.u.buffer.info.kind == BH_GUI_BUFFER_MEMFD) ||
                        m.type == BH_GUI_CLIPBOARD_IMAGE;
    if (fd >= 0 && !wants_fd) {
        close(fd);
        bh_guid_drop_agent(self, "a file descriptor came with %s", bh_gui_type_name(m.type));
        return;
    }
    handle_message(self, &m, fd); /* takes fd (import closes it on failure) */
}

/* TRUE when the budget ran out, so bytes may be left that no event will
 * announce again (xen). */
static gboolean read_messages(BhGuidSession *self)
{
    for (int budget = READ_BUDGET; budget > 0; budget--) {
        if (!bh_guid_wire_read(self))
            return FALSE;
        process_message(self);
        bh_guid_wire_next(self);
    }
    return TRUE;
}

static gboolean on_more(gpointer data);

/* The budget ran out with bytes left: a Xen ring does not signal again for
 * bytes already there, so resume from an idle rather than wait for an event. */
static void schedule_more(BhGuidSession *self)
{
    if (!self->finished && self->more_source == 0 && bh_vchan_data_ready(self->vchan) > 0)
        self->more_source = g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, on_more, self, NULL);
}

static gboolean on_more(gpointer data)
{
    BhGuidSession *self = data;
    self->more_source = 0;
    g_object_ref(self);
    if (read_messages(self))
        schedule_more(self);
    g_object_unref(self);
    return G_SOURCE_REMOVE;
}

/* The end of a reading source's callback: it stays while the session runs;
 * *id is forgotten when it goes. Drops the callback's reference. */
static gboolean source_done(BhGuidSession *self, guint *id)
{
    gboolean keep = !self->finished;
    if (!keep)
        *id = 0;
    g_object_unref(self);
    return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    BhGuidSession *self = data;
    g_object_ref(self);
    if (bh_guid_wire_wait(self)) {
        bh_guid_wire_flush(self);
        /* Reading stopped short of the budget only when nothing was left:
         * asking FIONREAD then would cost a system call per wake-up. */
        if (read_messages(self))
            schedule_more(self);
    }
    return source_done(self, &self->io_source);
}

/* Xen: once a second, bytes in the ring that no event announced are read,
 * and queued output is offered to ring space the agent freed. libxenvchan's
 * notifications are requests written in the shared ring; a missed one would
 * leave the agent's messages (a new window, a frame) unread until it writes
 * again, which it may never do. The agent has the same read
 * (gui-agent/link.c, sweep_cb). Bytes whose event is still pending are left
 * to on_readable, so what is logged is an event that never came. */
static gboolean on_sweep(gpointer data)
{
    BhGuidSession *self = data;
    g_object_ref(self);
    struct pollfd p = {.fd = bh_vchan_fd_for_select(self->vchan), .events = POLLIN};
    gboolean pending = poll(&p, 1, 0) == 1;
    gsize ready = !pending && self->more_source == 0 ? bh_vchan_data_ready(self->vchan) : 0;
    if (ready > 0) {
        LOG(self, "%" G_GSIZE_FORMAT " bytes from the agent were in the ring without an event; reading them",
            ready);
        if (read_messages(self))
            schedule_more(self);
    }
    if (!self->finished)
        bh_guid_wire_flush(self);
    return source_done(self, &self->sweep_source);
}

/* ---- Starting and stopping the reading ------------------------------------------ */

void bh_guid_dispatch_start(BhGuidSession *self)
{
    /* Below GTK's redraw and input: a flooding agent slows only its own
     * windows' updates, never the drawing of what guid already has. */
    GSource *src = g_unix_fd_source_new(bh_vchan_fd_for_select(self->vchan), G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_priority(src, G_PRIORITY_DEFAULT_IDLE);
    /* GLib takes a non-recursive source's fd out of the poll set while it
     * runs and puts it back after, waking its own loop both times: one
     * more main-loop turn for every frame (4 of guid's ~20 system calls per
     * frame; its CPU per frame moved within the noise, A/B in
     * bench/RESULTS.md). on_readable never runs a nested loop, so it need
     * not be blocked. */
    g_source_set_can_recurse(src, TRUE);
    g_source_set_callback(src, G_SOURCE_FUNC(on_readable), self, NULL);
    self->io_source = g_source_attach(src, NULL);
    g_source_unref(src);
    if (bh_vchan_transport(self->vchan) == BH_VCHAN_XEN)
        self->sweep_source = g_timeout_add_seconds(1, on_sweep, self);
}

void bh_guid_dispatch_stop(BhGuidSession *self)
{
    if (self->io_source != 0)
        g_source_remove(self->io_source);
    if (self->more_source != 0)
        g_source_remove(self->more_source);
    if (self->sweep_source != 0)
        g_source_remove(self->sweep_source);
    self->io_source = self->more_source = self->sweep_source = 0;
}
