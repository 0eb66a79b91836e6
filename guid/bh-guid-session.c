/* bh-guid-session.c — one qube's GUI connection on the dom0 side (see
 * bh-guid-session.h): its life cycle, the read loop and the dispatch of
 * each accepted message.
 *
 * Reading and framing are bh-guid-wire.c's; a BUFFER must bring exactly one
 * descriptor, every other message none. Decoding is core/proto's; this file
 * only acts on accepted messages. Every violation goes through
 * bh_guid_drop_agent(), which logs, closes all windows and ends the
 * session. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-session-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bh-guest-view.h"
#include "bh-guest-window.h"
#include "bh-guid-budget.h"
#include "bh-guid-input.h"
#include "bh-guid-keymap.h"
#include "bh-guid-style.h"
#include "bh-guid-xshm.h"
#include "bulkhead/proto.h"
#include "bulkhead/vchan.h"
#include "bulkhead/winbuf.h"
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

/* Messages handled per wake-up before GTK gets to draw and take input. */
#define READ_BUDGET 256
/* Before the first toplevel is measured: title bar (~40 px) and GTK's solid
 * CSD edge (2 x 3 px) around the view. Replaced by the measured value. */
#define GUESS_OVERHEAD_W (2 * BH_GUID_FRAME_PX + 6)
#define GUESS_OVERHEAD_H (2 * BH_GUID_FRAME_PX + 6 + 40)

G_DEFINE_FINAL_TYPE(BhGuidSession, bh_guid_session, G_TYPE_OBJECT)

enum {
    SIG_FINISHED,
    N_SIGNALS
};
static guint signals[N_SIGNALS];

/* ---- Windows ----------------------------------------------------------------- */

static BhGuidWin *win_lookup(BhGuidSession *self, guint32 id)
{
    return g_hash_table_lookup(self->wins, GUINT_TO_POINTER(id));
}

static guint32 win_states(BhGuidWin *w)
{
    guint32 states = 0;
    if (w->window == NULL)
        return 0;
    GtkWindow *gw = GTK_WINDOW(w->window);
    if (gtk_window_is_maximized(gw))
        states |= BH_GUI_STATE_MAXIMIZED;
    if (gtk_window_is_fullscreen(gw))
        states |= BH_GUI_STATE_FULLSCREEN;
    if (gtk_window_is_active(gw))
        states |= BH_GUI_STATE_ACTIVATED;
    return states;
}

/* Ask the guest for the content size the window has now, unless it already
 * has that size or was already asked. */
static void win_request_size(BhGuidWin *w, gboolean force)
{
    guint32 cw, ch;
    bh_guest_view_get_content_size(w->view, &cw, &ch);
    if (cw == 0 || ch == 0 || w->popup)
        return;
    guint32 states = win_states(w);
    gboolean same_as_guest = cw == w->guest_w && ch == w->guest_h;
    gboolean same_as_asked = cw == w->req_w && ch == w->req_h && states == w->req_states;
    if (same_as_asked || (same_as_guest && !force))
        return;
    struct bh_gui_configure_req req = {cw, ch, states};
    w->req_w = cw;
    w->req_h = ch;
    w->req_states = states;
    bh_guid_wire_send(w->session, BH_GUI_CONFIGURE_REQ, w->id, &req, sizeof req);
}

/* Give a toplevel the size its content should have, within the screen. */
static void win_resize_to_guest(BhGuidWin *w)
{
    BhGuidSession *self = w->session;
    if (w->window == NULL || gtk_window_is_maximized(GTK_WINDOW(w->window)) ||
        gtk_window_is_fullscreen(GTK_WINDOW(w->window)))
        return;
    guint32 cw = MIN(w->guest_w, self->cap_w), ch = MIN(w->guest_h, self->cap_h);
    gtk_window_set_default_size(GTK_WINDOW(w->window), (int)cw + self->overhead_w,
                                (int)ch + self->overhead_h);
}

static void on_content_resized(BhGuestView *view, guint cw, guint ch, BhGuidWin *w)
{
    BhGuidSession *self = w->session;
    if (w->window != NULL && !gtk_window_is_maximized(GTK_WINDOW(w->window)) &&
        !gtk_window_is_fullscreen(GTK_WINDOW(w->window))) {
        /* GTK keeps the default size equal to the window's size (without
         * shadows), so the difference is exactly the decoration around the
         * content: measure it rather than guess the theme. */
        int dw = 0, dh = 0;
        gtk_window_get_default_size(GTK_WINDOW(w->window), &dw, &dh);
        gboolean measured = dw > (int)cw && dh > (int)ch;
        if (measured && (dw - (int)cw != self->overhead_w || dh - (int)ch != self->overhead_h)) {
            self->overhead_w = dw - (int)cw;
            self->overhead_h = dh - (int)ch;
            guint32 sw = self->screen_w, sh = self->screen_h;
            self->cap_w = sw > (guint32)self->overhead_w ? sw - (guint32)self->overhead_w : 1;
            self->cap_h = sh > (guint32)self->overhead_h ? sh - (guint32)self->overhead_h : 1;
            /* The guess was off (another theme, a compositor): size the
             * window right rather than ask the guest to fit the guess. */
            if (cw != MIN(w->guest_w, self->cap_w) || ch != MIN(w->guest_h, self->cap_h)) {
                win_resize_to_guest(w);
                return;
            }
        }
    }
    win_request_size(w, FALSE);
}

static void on_motion(BhGuestView *view, gint x, gint y, BhGuidWin *w)
{
    struct bh_gui_motion m = {x, y};
    bh_guid_wire_send(w->session, BH_GUI_MOTION, w->id, &m, sizeof m);
}

static void on_crossing(BhGuestView *view, gboolean entered, gint x, gint y, BhGuidWin *w)
{
    if (entered) {
        struct bh_gui_enter e = {x, y};
        bh_guid_wire_send(w->session, BH_GUI_ENTER, w->id, &e, sizeof e);
    } else {
        bh_guid_wire_send(w->session, BH_GUI_LEAVE, w->id, NULL, 0);
    }
}

static void on_button(BhGuestView *view, guint button, gboolean pressed, gint x, gint y,
                      BhGuidWin *w)
{
    struct bh_gui_button b = {button, pressed ? 1u : 0u, x, y};
    bh_guid_wire_send(w->session, BH_GUI_BUTTON, w->id, &b, sizeof b);
}

static void on_axis(BhGuestView *view, guint axis, gint value, gint discrete, BhGuidWin *w)
{
    struct bh_gui_axis a = {axis, value, discrete};
    bh_guid_wire_send(w->session, BH_GUI_AXIS, w->id, &a, sizeof a);
}

static void on_key(BhGuestWindow *window, guint keycode, gboolean pressed, guint depressed,
                   guint locked, guint group, BhGuidWin *w)
{
    struct bh_gui_key k = {keycode, pressed ? 1u : 0u, depressed, 0, locked,
                           MIN(group, BH_MAX_XKB_GROUPS - 1)};
    bh_guid_wire_send(w->session, BH_GUI_KEY, w->id, &k, sizeof k);
}

static void on_combo(BhGuestWindow *window, guint combo, BhGuidWin *w)
{
    /* The global clipboard (a later issue) acts here; until then the keys
     * are only kept from the guest. */
    DEBUG(w->session, "window %u: %s kept from the guest", w->id,
          combo == BH_GUID_COMBO_COPY ? "Ctrl+Shift+C" : "Ctrl+Shift+V");
}

static gboolean on_close_request(GtkWindow *window, BhGuidWin *w)
{
    /* The guest decides (it may ask to save); the window stays until the
     * agent destroys it. */
    bh_guid_wire_send(w->session, BH_GUI_CLOSE, w->id, NULL, 0);
    return TRUE;
}

static void on_active_changed(GObject *object, GParamSpec *pspec, BhGuidWin *w)
{
    gboolean active = gtk_window_is_active(GTK_WINDOW(w->window));
    struct bh_gui_focus f = {active ? 1u : 0u};
    if (!active)
        bh_guest_window_reset_keys(w->window);
    bh_guid_wire_send(w->session, BH_GUI_FOCUS, w->id, &f, sizeof f);
    win_request_size(w, TRUE);
}

static void on_state_changed(GObject *object, GParamSpec *pspec, BhGuidWin *w)
{
    win_request_size(w, TRUE);
}

static gboolean session_has_active_window(BhGuidSession *self)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, self->wins);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        BhGuidWin *w = value;
        if (w->window != NULL && gtk_window_is_active(GTK_WINDOW(w->window)))
            return TRUE;
    }
    return FALSE;
}

static void win_make_window(BhGuidSession *self, BhGuidWin *w);

static void on_realize(GtkWidget *widget, BhGuidWin *w)
{
    /* A DAMAGE traced before there was a frame clock (the first one comes
     * before MAP) is logged when the first frame is painted. */
    if (w->trace_pending)
        bh_guest_view_request_paint(w->view);
    /* User time and urgency: bh_guest_window_show_guest, at every map. */
}

static BhGuidWin *win_new(BhGuidSession *self, guint32 id, const struct bh_gui_create *c)
{
    BhGuidWin *w = g_new0(BhGuidWin, 1);
    w->session = self;
    w->id = id;
    w->popup = (c->flags & BH_GUI_CREATE_POPUP) != 0;
    w->guest_w = c->width;
    w->guest_h = c->height;
    w->view = BH_GUEST_VIEW(g_object_ref_sink(bh_guest_view_new(&self->frame, self->cap_w,
                                                                self->cap_h)));
    g_signal_connect(w->view, "pointer-motion", G_CALLBACK(on_motion), w);
    g_signal_connect(w->view, "pointer-crossing", G_CALLBACK(on_crossing), w);
    g_signal_connect(w->view, "pointer-button", G_CALLBACK(on_button), w);
    g_signal_connect(w->view, "pointer-axis", G_CALLBACK(on_axis), w);
    g_signal_connect(w->view, "content-resized", G_CALLBACK(on_content_resized), w);
    g_signal_connect(w->view, "painted", G_CALLBACK(bh_guid_win_on_painted), w);
    GdkRGBA text;
    guint32 rgb = bh_label_text_rgb(self->label);
    text = (GdkRGBA){((rgb >> 16) & 0xff) / 255.0f, ((rgb >> 8) & 0xff) / 255.0f,
                     (rgb & 0xff) / 255.0f, 1.0f};
    bh_guest_view_set_owner(w->view, self->qube, &text);

    if (!w->popup)
        win_make_window(self, w);
    return w;
}

/* The dom0 window of a toplevel (or of a popup too big to be one). */
static void win_make_window(BhGuidSession *self, BhGuidWin *w)
{
    w->window = bh_guest_window_new(self->qube, self->label, GTK_WIDGET(w->view));
    g_signal_connect(w->window, "guest-key", G_CALLBACK(on_key), w);
    g_signal_connect(w->window, "combo", G_CALLBACK(on_combo), w);
    g_signal_connect(w->window, "close-request", G_CALLBACK(on_close_request), w);
    g_signal_connect(w->window, "notify::is-active", G_CALLBACK(on_active_changed), w);
    g_signal_connect(w->window, "notify::maximized", G_CALLBACK(on_state_changed), w);
    g_signal_connect(w->window, "notify::fullscreened", G_CALLBACK(on_state_changed), w);
    g_signal_connect(w->window, "realize", G_CALLBACK(on_realize), w);
    win_resize_to_guest(w);
}

static void win_accumulate_stats(BhGuidTileStats *into, const BhGuidTileStats *s)
{
    into->updates += s->updates;
    into->rects += s->rects;
    into->tiles_replaced += s->tiles_replaced;
    into->bytes_copied += s->bytes_copied;
    into->puts += s->puts;
    into->px_put += s->px_put;
    into->reputs += s->reputs;
}

/* Tear down what guid built for one window. Popups first: callers follow
 * bh_gui_windows_destroy_set()'s order. */
static void win_free(gpointer data)
{
    BhGuidWin *w = data;
    win_accumulate_stats(&w->session->retired, bh_guest_view_get_stats(w->view));
    g_signal_handlers_disconnect_by_data(w->view, w);
    if (w->popover != NULL) {
        if (gtk_widget_get_parent(w->popover) != NULL)
            gtk_widget_unparent(w->popover);
        g_clear_object(&w->popover);
    }
    if (w->window != NULL) {
        g_signal_handlers_disconnect_by_data(w->window, w);
        gtk_window_destroy(GTK_WINDOW(w->window));
        w->window = NULL;
    }
    g_clear_handle_id(&w->release_timer, g_source_remove);
    bh_guid_win_charge(w, 0, 0, 0);
    if (w->paced)
        g_queue_remove(&w->session->paced, w);
    bh_guest_view_set_source(w->view, NULL, NULL, NULL, 0, 0, 0);
    g_clear_object(&w->view);
    g_clear_pointer(&w->seg, bh_guid_xshm_seg_free);
    bh_winbuf_release(&w->buf);
    bh_winbuf_release(&w->next);
    g_free(w);
}

/* Transient-for follows the table (which re-parents dialogs of a destroyed
 * window); GTK windows only ever point at GTK windows guid made. */
static void sync_transients(BhGuidSession *self)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, self->wins);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        BhGuidWin *w = value;
        if (w->window == NULL)
            continue;
        const struct bh_gui_window_entry *e = bh_gui_windows_find(&self->table, w->id);
        BhGuidWin *parent = e != NULL && e->parent != 0 ? win_lookup(self, e->parent) : NULL;
        /* A popup shown as a window hangs under the window its chain of
         * popups starts from (the table has no cycles). */
        for (guint hops = 0; parent != NULL && parent->window == NULL && hops < BH_MAX_WINDOWS;
             hops++) {
            const struct bh_gui_window_entry *pe = bh_gui_windows_find(&self->table, parent->id);
            parent = pe != NULL && pe->parent != 0 ? win_lookup(self, pe->parent) : NULL;
        }
        GtkWindow *want = parent != NULL && parent->window != NULL ? GTK_WINDOW(parent->window)
                                                                   : NULL;
        if (gtk_window_get_transient_for(GTK_WINDOW(w->window)) != want)
            gtk_window_set_transient_for(GTK_WINDOW(w->window), want);
    }
}

static void close_all_windows(BhGuidSession *self)
{
    /* Every popup hangs under a non-popup window: tear each of those down
     * with its popups, children first. */
    guint32 ids[BH_MAX_WINDOWS];
    for (gsize s = 0; s < BH_MAX_WINDOWS; s++) {
        const struct bh_gui_window_entry *e = &self->table.slots[s];
        if (e->id == 0 || (e->flags & BH_GUI_CREATE_POPUP))
            continue;
        gsize n = bh_gui_windows_destroy_set(&self->table, e->id, ids, G_N_ELEMENTS(ids));
        for (gsize i = 0; i < n; i++)
            g_hash_table_remove(self->wins, GUINT_TO_POINTER(ids[i]));
    }
    /* Anything left (none if the table and the map agree). */
    g_hash_table_remove_all(self->wins);
    bh_gui_windows_init(&self->table);
}

/* A popup of a window the budget keeps hidden stays hidden too (GTK has no
 * surface to hang it on). */
static gboolean win_parent_shown(BhGuidSession *self, BhGuidWin *w)
{
    if (!w->popup)
        return TRUE;
    const struct bh_gui_window_entry *e = bh_gui_windows_find(&self->table, w->id);
    BhGuidWin *parent = e != NULL ? win_lookup(self, e->parent) : NULL;
    if (parent != NULL && parent->px_window != 0)
        return TRUE;
    bh_guid_win_charge(w, 0, w->px_buf, w->px_next);
    return FALSE;
}

static void win_hide(BhGuidWin *w)
{
    if (w->window != NULL)
        gtk_widget_set_visible(GTK_WIDGET(w->window), FALSE);
    else if (w->popover != NULL)
        bh_guest_popup_set_wanted(w->popover, FALSE); /* else it comes back when its root is active */
    bh_guid_win_charge(w, 0, w->px_buf, w->px_next);
}

/* The guest size changed (CONFIGURE, BUFFER): a shown window that no
 * longer fits is hidden. */
static void win_charge_resized(BhGuidWin *w)
{
    if (w->px_window != 0 && !bh_guid_win_charge_shown(w))
        win_hide(w);
}

static gboolean handle_buffer(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_msg *m,
                              int fd)
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

/* The first DAMAGE on a new buffer: from now on it is the window's image. */
static void win_switch_buffer(BhGuidWin *w)
{
    if (w->next.map == NULL)
        return;
    BhGuidSession *self = w->session;
    bh_guest_view_set_source(w->view, NULL, NULL, NULL, 0, 0, 0);
    g_clear_pointer(&w->seg, bh_guid_xshm_seg_free);
    bh_winbuf_release(&w->buf);
    w->buf = w->next;
    w->buf_stride = w->next_stride;
    w->buf_w = w->next_w;
    w->buf_h = w->next_h;
    memset(&w->next, 0, sizeof w->next);
    w->next.fd = -1;
    /* Only the new buffer is held now: a lower charge always fits. */
    bh_guid_win_charge(w, w->px_window, w->px_next, 0);
    bh_guest_view_set_buffer_size(w->view, w->next_w, w->next_h);
    /* Once per buffer (a resize), not per frame: the X server maps the
     * guest's memfd read-only, or guid stages a grant mapping. */
    if (self->xshm != NULL) {
        w->seg = bh_guid_xshm_seg_new(self->xshm, w->buf.kind == BH_GUI_BUFFER_MEMFD ? w->buf.fd : -1,
                                      w->buf.size);
        if (w->seg == NULL)
            DEBUG(self, "window %u: no X segment for its buffer; GTK draws it", w->id);
    }
    bh_guest_view_set_source(w->view, self->xshm, w->seg, w->buf.map, w->buf.size, w->buf_stride,
                             w->buf_h);
}

static void handle_flags(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_flags *f)
{
    guint32 old = w->flags, now = (old | f->set) & ~f->unset;
    w->flags = now;
    if (w->window == NULL)
        return; /* popups have no window state */
    GtkWindow *gw = GTK_WINDOW(w->window);
    guint32 changed = old ^ now;

    if (changed & BH_GUI_FLAG_FULLSCREEN) {
        gboolean on = (now & BH_GUI_FLAG_FULLSCREEN) != 0;
        if (self->allow_fullscreen) {
            if (on)
                gtk_window_fullscreen(gw);
            else
                gtk_window_unfullscreen(gw);
        } else if (on) {
            /* Not allowed for this qube: a full-screen window could draw a
             * fake desktop without guid's frame. Maximise instead. */
            LOG(self, "window %u: fullscreen request shown maximised (not allowed for this qube)",
                w->id);
            w->maximized_for_fullscreen = TRUE;
            gtk_window_maximize(gw);
        } else if (w->maximized_for_fullscreen) {
            w->maximized_for_fullscreen = FALSE;
            if (!(now & BH_GUI_FLAG_MAXIMIZED))
                gtk_window_unmaximize(gw);
        }
    }
    if (changed & BH_GUI_FLAG_MAXIMIZED) {
        if (now & BH_GUI_FLAG_MAXIMIZED)
            gtk_window_maximize(gw);
        else if (!w->maximized_for_fullscreen)
            gtk_window_unmaximize(gw);
    }
    /* Marks the window only: never present() or focus on the guest's word. */
    if (changed & BH_GUI_FLAG_URGENT)
        bh_guest_window_set_urgent(w->window, (now & BH_GUI_FLAG_URGENT) != 0);
}

static void handle_map(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_map *map)
{
    if (w->window == NULL && w->popover == NULL &&
        bh_guid_popup_as_window(self->screen_w, self->screen_h, w->guest_w, w->guest_h)) {
        /* Too big for a popup (a fake desktop, a fake dialog of another
         * qube): an ordinary window with the title bar, which the window
         * manager stacks and focuses like any other. */
        LOG(self, "window %u: a %ux%u popup is shown as a window (larger than a popup may be)",
            w->id, w->guest_w, w->guest_h);
        win_make_window(self, w);
        sync_transients(self);
    }
    if (w->window != NULL) {
        /* The guest may map a window again and again; only while the user
         * works in one of this qube's windows may the new one get focus. */
        bh_guest_window_show_guest(w->window, session_has_active_window(self));
        return;
    }
    const struct bh_gui_window_entry *e = bh_gui_windows_find(&self->table, w->id);
    BhGuidWin *parent = e != NULL ? win_lookup(self, e->parent) : NULL;
    if (parent == NULL)
        return; /* the decoder guarantees a mapped parent */
    if (w->popover == NULL) {
        guint32 bw, bh;
        bh_guid_popup_bound(self->screen_w, self->screen_h, &bw, &bh);
        w->popover = g_object_ref(bh_guest_popup_new(parent->view, GTK_WIDGET(w->view), bw, bh));
    }
    bh_guest_popup_move(w->popover, map->x, map->y);
    bh_guest_popup_set_wanted(w->popover, TRUE);
}

static void handle_message(BhGuidSession *self, const struct bh_gui_msg *m, int fd)
{
    BhGuidWin *w = m->window != 0 ? win_lookup(self, m->window) : NULL;

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
        DEBUG(self, "agent speaks protocol %u.%u", m->u.hello.version >> 16,
              m->u.hello.version & 0xffff);
        break;
    case BH_GUI_CREATE:
        g_hash_table_insert(self->wins, GUINT_TO_POINTER(m->window),
                            win_new(self, m->window, &m->u.create));
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
        sync_transients(self);
        if (bh_guid_win_charge_shown(w) && win_parent_shown(self, w)) /* else it stays hidden */
            handle_map(self, w, &m->u.map);
        return;
    case BH_GUI_UNMAP:
        win_hide(w);
        break;
    case BH_GUI_CONFIGURE:
        w->guest_w = m->u.configure.width;
        w->guest_h = m->u.configure.height;
        if (w->popover != NULL)
            bh_guest_popup_move(w->popover, m->u.configure.x, m->u.configure.y);
        win_resize_to_guest(w);
        win_charge_resized(w);
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
        handle_flags(self, w, &m->u.flags);
        break;
    case BH_GUI_BUFFER:
        if (!handle_buffer(self, w, m, fd))
            return;
        /* Popups too: their size decides, at MAP, how they are shown. */
        if (w->guest_w != m->u.buffer.info.width || w->guest_h != m->u.buffer.info.height) {
            w->guest_w = m->u.buffer.info.width;
            w->guest_h = m->u.buffer.info.height;
            win_resize_to_guest(w);
            win_charge_resized(w);
        }
        break;
    case BH_GUI_DAMAGE: {
        gint64 arrived = g_get_monotonic_time();
        win_switch_buffer(w);
        if (self->trace != NULL)
            bh_guid_win_trace_damage(w, m->u.damage.serial, m->u.damage.rects, m->u.damage.n_rects);
        guint64 px = bh_guid_damage_px(&self->budget, w->buf_w, w->buf_h, m->u.damage.rects,
                                       m->u.damage.n_rects);
        if (w->release_timer != 0 || w->paced) {
            /* A frame before we released the last one (a conforming agent
             * keeps one in flight): shown when the pacing releases, so a
             * flooding guest costs the shared X server one put per refresh. */
            bh_guest_view_damage_later(w->view, m->u.damage.rects, m->u.damage.n_rects);
            w->release_serial = m->u.damage.serial;
            if (w->paced) /* folded: at most the shown buffer per put */
                w->paced_px = MIN(w->paced_px + px,
                                  bh_guid_budget_area(&self->budget, w->buf_w, w->buf_h));
        } else if (!bh_guid_pace_take(&self->pace, px, arrived)) {
            bh_guid_win_pace_wait(w, m->u.damage.serial, px, m->u.damage.rects, m->u.damage.n_rects);
        } else if (bh_guest_view_damage(w->view, w->buf.map, w->buf.size, w->buf_stride,
                                 m->u.damage.rects, m->u.damage.n_rects)) {
            if (w->trace_pending)
                bh_guid_win_trace_painted(w);
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
        /* guid never asked (the global clipboard is a later issue). */
        DEBUG(self, "unrequested clipboard data (%zu bytes) ignored", m->u.clipboard.len);
        break;
    default:
        bh_guid_drop_agent(self, "internal: no handler for %s", bh_gui_type_name(m->type));
        return;
    }
    bh_gui_windows_apply(&self->table, m);
    if (m->type == BH_GUI_DESTROY)
        sync_transients(self);
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
            g_autofree char *why = g_strdup_printf(
                "gui-agent and guid cannot talk (%s); update the qube's template or dom0 so "
                "the protocol's major versions match",
                err.reason);
            bh_guid_session_stop(self, BH_GUID_EXIT_FAILURE, why);
            return;
        }
        bh_guid_drop_agent(self, "%s: %s", bh_gui_err_name(err.code), err.reason);
        return;
    }
    gboolean wants_fd = m.type == BH_GUI_BUFFER && m.u.buffer.info.kind == BH_GUI_BUFFER_MEMFD;
    if (fd >= 0 && !wants_fd) {
        close(fd);
        bh_guid_drop_agent(self, "a file descriptor came with %s", bh_gui_type_name(m.type));
        return;
    }
    handle_message(self, &m, fd); /* takes fd (import closes it on failure) */
}

static void read_messages(BhGuidSession *self)
{
    for (int budget = READ_BUDGET; budget > 0 && bh_guid_wire_read(self); budget--) {
        process_message(self);
        bh_guid_wire_next(self);
    }
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
    read_messages(self);
    schedule_more(self);
    g_object_unref(self);
    return G_SOURCE_REMOVE;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    BhGuidSession *self = data;
    g_object_ref(self);
    if (bh_guid_wire_wait(self)) {
        bh_guid_wire_flush(self);
        read_messages(self);
        schedule_more(self);
    }
    gboolean keep = !self->finished;
    if (!keep)
        self->io_source = 0;
    g_object_unref(self);
    return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* ---- Life cycle -------------------------------------------------------------- */

void bh_guid_session_stop(BhGuidSession *self, BhGuidExit status, const char *reason)
{
    if (self->finished)
        return;
    self->finished = TRUE;
    self->exit_status = status;
    LOG(self, "%s; closing its windows", reason);

    close_all_windows(self);
    if (self->io_source != 0)
        g_source_remove(self->io_source);
    if (self->more_source != 0)
        g_source_remove(self->more_source);
    self->io_source = self->more_source = 0;
    g_clear_handle_id(&self->pace_timer, g_source_remove);
    bh_guid_wire_close(self);
    LOG(self, "budgets: %" G_GUINT64_FORMAT " buffers or windows refused (memory), %" G_GUINT64_FORMAT
        " frames waited for the qube's X time",
        self->refused_buffers, self->paced_frames);

    BhGuidTileStats s;
    bh_guid_session_get_stats(self, &s);
    LOG(self, "damage: %" G_GUINT64_FORMAT " updates, %" G_GUINT64_FORMAT " rectangles, %"
        G_GUINT64_FORMAT " tiles replaced, %" G_GUINT64_FORMAT " bytes copied; %" G_GUINT64_FORMAT
        " put straight to X, %" G_GUINT64_FORMAT " pixels, %" G_GUINT64_FORMAT
        " put again over GTK's paints",
        s.updates, s.rects, s.tiles_replaced, s.bytes_copied, s.puts, s.px_put, s.reputs);
    g_signal_emit(self, signals[SIG_FINISHED], 0, (int)status);
}

gboolean bh_guid_session_start(BhGuidSession *self, GError **error)
{
    g_return_val_if_fail(self->vchan != NULL, FALSE);
    GdkDisplay *display = gdk_display_get_default();
    struct bh_gui_screen screen;
    struct bh_gui_keymap keymap;

    bh_guid_screen_from_display(display, &screen);
    bh_guid_keymap_from_display(display, &keymap);
    self->screen_w = screen.width;
    self->screen_h = screen.height;
    bh_guid_budget_init(&self->budget, screen.width, screen.height);
    self->cap_w = screen.width > GUESS_OVERHEAD_W ? screen.width - GUESS_OVERHEAD_W : 1;
    self->cap_h = screen.height > GUESS_OVERHEAD_H ? screen.height - GUESS_OVERHEAD_H : 1;

    struct bh_gui_hello hello = {BH_GUI_PROTOCOL_VERSION};
    bh_guid_wire_send(self, BH_GUI_HELLO, 0, &hello, sizeof hello);
    bh_guid_wire_send(self, BH_GUI_SCREEN, 0, &screen, sizeof screen);
    bh_guid_wire_send(self, BH_GUI_KEYMAP, 0, &keymap, sizeof keymap);
    if (self->finished) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "the agent of '%s' went away",
                    self->qube);
        return FALSE;
    }
    const char *why = NULL;
    self->xshm = bh_guid_xshm_new(display, self->xshm_mode, &why);
    GListModel *monitors = gdk_display_get_monitors(display);
    g_autoptr(GdkMonitor) monitor = g_list_model_get_item(monitors, 0);
    int mhz = monitor != NULL ? gdk_monitor_get_refresh_rate(monitor) : 0;
    if (mhz >= 20000 && mhz <= 500000)
        self->frame_us = 1000000000ll / mhz;
    bh_guid_pace_init(&self->pace, screen.width, screen.height, self->frame_us);
    if (self->pace.off)
        LOG(self, "BH_GUID_PACE=off: this qube's puts are not paced (measurements only)");
    if (self->xshm != NULL)
        LOG(self, "frames go straight to the X server (MIT-SHM), paced at %.1f Hz",
            1e6 / (double)self->frame_us);
    else
        LOG(self, "frames go through GTK: %s", why);
    LOG(self, "connected to domain %d; screen %ux%u, keymap %s/%s/%s/%s/%s", self->domid,
        screen.width, screen.height, keymap.rules, keymap.model, keymap.layout, keymap.variant,
        keymap.options);

    /* Below GTK's redraw and input: a flooding agent slows only its own
     * windows' updates, never the drawing of what guid already has. */
    GSource *src = g_unix_fd_source_new(bh_vchan_fd_for_select(self->vchan),
                                        G_IO_IN | G_IO_HUP | G_IO_ERR);
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
    return TRUE;
}

gboolean bh_guid_session_is_finished(BhGuidSession *self)
{
    return self->finished;
}

BhGuidExit bh_guid_session_get_exit_status(BhGuidSession *self)
{
    return self->exit_status;
}

void bh_guid_session_get_stats(BhGuidSession *self, BhGuidTileStats *out)
{
    *out = self->retired;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, self->wins);
    while (g_hash_table_iter_next(&it, NULL, &value))
        win_accumulate_stats(out, bh_guest_view_get_stats(((BhGuidWin *)value)->view));
}

static void bh_guid_session_dispose(GObject *object)
{
    BhGuidSession *self = BH_GUID_SESSION(object);
    if (!self->finished && self->vchan != NULL)
        bh_guid_session_stop(self, BH_GUID_EXIT_DISCONNECTED, "guid is stopping");
    g_hash_table_remove_all(self->wins);
    g_clear_handle_id(&self->pace_timer, g_source_remove);
    g_clear_pointer(&self->xshm, bh_guid_xshm_free);
    bh_guid_wire_close(self);
    G_OBJECT_CLASS(bh_guid_session_parent_class)->dispose(object);
}

static void bh_guid_session_finalize(GObject *object)
{
    BhGuidSession *self = BH_GUID_SESSION(object);
    g_hash_table_unref(self->wins);
    g_byte_array_unref(self->outq);
    g_free(self->rx);
    g_free(self->qube);
    if (self->trace != NULL)
        fclose(self->trace);
    G_OBJECT_CLASS(bh_guid_session_parent_class)->finalize(object);
}

static void bh_guid_session_class_init(BhGuidSessionClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->dispose = bh_guid_session_dispose;
    object_class->finalize = bh_guid_session_finalize;

    /* (BhGuidExit status) */
    signals[SIG_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void bh_guid_session_init(BhGuidSession *self)
{
    self->stop = bh_guid_session_stop;
    self->wins = g_hash_table_new_full(NULL, NULL, NULL, win_free);
    self->outq = g_byte_array_new();
    self->rx = g_malloc(BH_MAX_MSG_BYTES);
    self->rx_need = HDR_LEN;
    self->overhead_w = GUESS_OVERHEAD_W;
    self->overhead_h = GUESS_OVERHEAD_H;
    self->screen_w = 1280;
    self->screen_h = 1024;
    self->cap_w = self->screen_w - GUESS_OVERHEAD_W;
    self->cap_h = self->screen_h - GUESS_OVERHEAD_H;
    bh_guid_budget_init(&self->budget, self->screen_w, self->screen_h);
    bh_guid_pace_init(&self->pace, self->screen_w, self->screen_h, 1000000 / 60);
    g_queue_init(&self->paced);
    bh_gui_windows_init(&self->table);
}

BhGuidSession *bh_guid_session_new(const char *qube, const BhLabel *label,
                                   gboolean allow_fullscreen)
{
    BhGuidSession *self = g_object_new(BH_TYPE_GUID_SESSION, NULL);
    self->qube = g_strdup(qube);
    self->label = label;
    self->allow_fullscreen = allow_fullscreen;
    self->xshm_mode = bh_guid_xshm_mode_from_env();
    self->frame_us = 1000000 / 60;
    bh_guid_style_label_rgba(label, &self->frame);
    /* A benchmark's timing log (bench/), never on otherwise: one line per
     * painted frame, written out when guid exits. A directory gets one file
     * per guid, QUBE-PID.frames (bulkheadd starts many). */
    const char *trace = g_getenv("BH_GUID_TRACE_FRAMES");
    if (trace != NULL && *trace != '\0') {
        g_autofree char *path = NULL;
        if (g_file_test(trace, G_FILE_TEST_IS_DIR)) {
            g_autofree char *name = g_strdup_printf("%s-%d.frames", qube, (int)getpid());
            path = g_build_filename(trace, name, NULL);
        } else {
            path = g_strdup(trace);
        }
        self->trace = fopen(path, "we");
        if (self->trace == NULL)
            g_warning("guid[%s]: BH_GUID_TRACE_FRAMES: %s: %s", qube, path, g_strerror(errno));
        else
            setvbuf(self->trace, NULL, _IOFBF, 1 << 16);
    }
    return self;
}
