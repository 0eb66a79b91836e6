/* bh-guid-windows.c — the window object and its GTK glue (see
 * bh-guid-session-private.h): a BhGuidWin per guest window, its
 * BhGuestWindow (toplevel, or a popup too big to be one) or popover, the
 * user's input sent back, map, unmap and hide, transients following the
 * window table, fullscreen and maximise as the qube may have them, the
 * buffer a window shows.
 *
 * Owns: the session's wins map and each window's widgets. Must never:
 * raise or focus a window because the guest asked, show a guest surface
 * without guid's frame, or show a full-screen window for a qube not
 * allowed one. */
#define G_LOG_DOMAIN "bh-guid"

#include <string.h>

#include "bh-guid-input.h"
#include "bh-guid-label.h"
#include "bh-guid-session-private.h"

/* ---- The window, its size and the user's input ------------------------------ */

BhGuidWin *bh_guid_win_lookup(BhGuidSession *self, guint32 id)
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

/* The largest content a toplevel shows: the screen less the decoration, and
 * one row less still, so that no guest window is ever exactly the screen's
 * size. Window managers treat an undecorated window (guid draws its own bar)
 * that covers the whole screen as an old-style full-screen window: openbox
 * stacks it in its full-screen layer, above the window the user activated
 * (guid-budget-openbox /guid/budget/pace). A qube that wants the whole screen
 * asks for fullscreen, which guid grants or refuses by its own rule. */
void bh_guid_win_caps_update(BhGuidSession *self)
{
    guint32 sw = self->screen_w, sh = self->screen_h;
    guint32 ow = self->overhead_w > 0 ? (guint32)self->overhead_w : 0;
    guint32 oh = self->overhead_h > 0 ? (guint32)self->overhead_h : 0;
    self->cap_w = sw > ow ? sw - ow : 1;
    self->cap_h = sh > oh + 1 ? sh - oh - 1 : 1;
}

/* Give a toplevel the size its content should have, within the screen. */
void bh_guid_win_resize_to_guest(BhGuidWin *w)
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
            bh_guid_win_caps_update(self);
            /* The guess was off (another theme, a compositor): size the
             * window right rather than ask the guest to fit the guess. */
            if (cw != MIN(w->guest_w, self->cap_w) || ch != MIN(w->guest_h, self->cap_h)) {
                bh_guid_win_resize_to_guest(w);
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

static void on_button(BhGuestView *view, guint button, gboolean pressed, gint x, gint y, BhGuidWin *w)
{
    struct bh_gui_button b = {button, pressed ? 1u : 0u, x, y};
    bh_guid_wire_send(w->session, BH_GUI_BUTTON, w->id, &b, sizeof b);
}

static void on_axis(BhGuestView *view, guint axis, gint value, gint discrete, BhGuidWin *w)
{
    struct bh_gui_axis a = {axis, value, discrete};
    bh_guid_wire_send(w->session, BH_GUI_AXIS, w->id, &a, sizeof a);
}

static void on_key(BhGuestWindow *window, guint keycode, gboolean pressed, guint depressed, guint locked,
                   guint group, BhGuidWin *w)
{
    struct bh_gui_key k = {
        keycode, pressed ? 1u : 0u, depressed, 0, locked, MIN(group, BH_MAX_XKB_GROUPS - 1)};
    bh_guid_wire_send(w->session, BH_GUI_KEY, w->id, &k, sizeof k);
}

static void on_combo(BhGuestWindow *window, guint combo, BhGuidWin *w)
{
    DEBUG(w->session, "window %u: %s kept from the guest", w->id,
          combo == BH_GUID_COMBO_COPY ? "Ctrl+Shift+C" : "Ctrl+Shift+V");
    if (combo == BH_GUID_COMBO_COPY)
        bh_guid_clipboard_copy(w->session->clip);
    else
        bh_guid_clipboard_paste(w->session->clip);
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

BhGuidWin *bh_guid_win_new(BhGuidSession *self, guint32 id, const struct bh_gui_create *c)
{
    BhGuidWin *w = g_new0(BhGuidWin, 1);
    w->session = self;
    w->id = id;
    w->popup = (c->flags & BH_GUI_CREATE_POPUP) != 0;
    w->guest_w = c->width;
    w->guest_h = c->height;
    w->view = BH_GUEST_VIEW(g_object_ref_sink(bh_guest_view_new(&self->frame, self->cap_w, self->cap_h)));
    g_signal_connect(w->view, "pointer-motion", G_CALLBACK(on_motion), w);
    g_signal_connect(w->view, "pointer-crossing", G_CALLBACK(on_crossing), w);
    g_signal_connect(w->view, "pointer-button", G_CALLBACK(on_button), w);
    g_signal_connect(w->view, "pointer-axis", G_CALLBACK(on_axis), w);
    g_signal_connect(w->view, "content-resized", G_CALLBACK(on_content_resized), w);
    g_signal_connect(w->view, "painted", G_CALLBACK(bh_guid_win_on_painted), w);
    GdkRGBA text;
    guint32 rgb = bh_label_text_rgb(self->label);
    text =
        (GdkRGBA){((rgb >> 16) & 0xff) / 255.0f, ((rgb >> 8) & 0xff) / 255.0f, (rgb & 0xff) / 255.0f, 1.0f};
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
    bh_guid_win_resize_to_guest(w);
}

void bh_guid_win_accumulate_stats(BhGuidTileStats *into, const BhGuidTileStats *s)
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
void bh_guid_win_free(gpointer data)
{
    BhGuidWin *w = data;
    bh_guid_win_accumulate_stats(&w->session->retired, bh_guest_view_get_stats(w->view));
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
    bh_guid_win_release_timer_free(w);
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
void bh_guid_wins_sync_transients(BhGuidSession *self)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, self->wins);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        BhGuidWin *w = value;
        if (w->window == NULL)
            continue;
        const struct bh_gui_window_entry *e = bh_gui_windows_find(&self->table, w->id);
        BhGuidWin *parent = e != NULL && e->parent != 0 ? bh_guid_win_lookup(self, e->parent) : NULL;
        /* A popup shown as a window hangs under the window its chain of
         * popups starts from (the table has no cycles). */
        for (guint hops = 0; parent != NULL && parent->window == NULL && hops < BH_MAX_WINDOWS; hops++) {
            const struct bh_gui_window_entry *pe = bh_gui_windows_find(&self->table, parent->id);
            parent = pe != NULL && pe->parent != 0 ? bh_guid_win_lookup(self, pe->parent) : NULL;
        }
        GtkWindow *want = parent != NULL && parent->window != NULL ? GTK_WINDOW(parent->window) : NULL;
        if (gtk_window_get_transient_for(GTK_WINDOW(w->window)) != want)
            gtk_window_set_transient_for(GTK_WINDOW(w->window), want);
    }
}

void bh_guid_wins_close_all(BhGuidSession *self)
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

/* ---- Shown and hidden ------------------------------------------------------- */

/* A popup of a window the budget keeps hidden stays hidden too (GTK has no
 * surface to hang it on). */
gboolean bh_guid_win_parent_shown(BhGuidSession *self, BhGuidWin *w)
{
    if (!w->popup)
        return TRUE;
    const struct bh_gui_window_entry *e = bh_gui_windows_find(&self->table, w->id);
    BhGuidWin *parent = e != NULL ? bh_guid_win_lookup(self, e->parent) : NULL;
    if (parent != NULL && parent->px_window != 0)
        return TRUE;
    bh_guid_win_charge(w, 0, w->px_buf, w->px_next);
    return FALSE;
}

void bh_guid_win_hide(BhGuidWin *w)
{
    if (w->window != NULL)
        gtk_widget_set_visible(GTK_WIDGET(w->window), FALSE);
    else if (w->popover != NULL)
        bh_guest_popup_set_wanted(w->popover, FALSE); /* else it comes back when its root is active */
    bh_guid_win_charge(w, 0, w->px_buf, w->px_next);
}

/* The guest size changed (CONFIGURE, BUFFER): a shown window that no
 * longer fits is hidden. */
void bh_guid_win_charge_resized(BhGuidWin *w)
{
    if (w->px_window != 0 && !bh_guid_win_charge_shown(w))
        bh_guid_win_hide(w);
}

/* ---- What a window shows and how ---------------------------------------------- */

/* The first DAMAGE on a new buffer: from now on it is the window's image. */
void bh_guid_win_switch_buffer(BhGuidWin *w)
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
    bh_guest_view_set_source(w->view, self->xshm, w->seg, w->buf.map, w->buf.size, w->buf_stride, w->buf_h);
}

void bh_guid_win_set_flags(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_flags *f)
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
            /* Full screen hides the title bar: the content may then have the
             * screen less the frame, which is as wide at top and bottom as
             * at the sides. Under the windowed cap the bottom 40 px of a
             * full-screen X app stayed frame colour (sandbox-x11-apps). */
            guint32 ow = self->overhead_w > 0 ? (guint32)self->overhead_w : 0;
            if (on) {
                bh_guest_view_set_cap(w->view, self->screen_w > ow ? self->screen_w - ow : 1,
                                      self->screen_h > ow ? self->screen_h - ow : 1);
                gtk_window_fullscreen(gw);
            } else {
                bh_guest_view_set_cap(w->view, self->cap_w, self->cap_h);
                gtk_window_unfullscreen(gw);
            }
        } else if (on) {
            /* Not allowed for this qube: a full-screen window could draw a
             * fake desktop without guid's frame. Maximise instead. */
            LOG(self, "window %u: fullscreen request shown maximised (not allowed for this qube)", w->id);
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

void bh_guid_win_map(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_map *map)
{
    if (w->window == NULL && w->popover == NULL &&
        bh_guid_popup_as_window(self->screen_w, self->screen_h, w->guest_w, w->guest_h)) {
        /* Too big for a popup (a fake desktop, a fake dialog of another
         * qube): an ordinary window with the title bar, which the window
         * manager stacks and focuses like any other. */
        LOG(self, "window %u: a %ux%u popup is shown as a window (larger than a popup may be)", w->id,
            w->guest_w, w->guest_h);
        win_make_window(self, w);
        bh_guid_wins_sync_transients(self);
    }
    if (w->window != NULL) {
        /* The guest may map a window again and again; only while the user
         * works in one of this qube's windows may the new one get focus. */
        bh_guest_window_show_guest(w->window, session_has_active_window(self));
        return;
    }
    const struct bh_gui_window_entry *e = bh_gui_windows_find(&self->table, w->id);
    BhGuidWin *parent = e != NULL ? bh_guid_win_lookup(self, e->parent) : NULL;
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

/* ---- Warm-up ------------------------------------------------------------------ */

/* One throwaway window, built and laid out like a guest toplevel but never
 * realized or shown, then the title bar's text, the title buttons' icons
 * and the qube's label icon drawn once to memory: GTK's first window in a
 * process pays for its style cascade, the title bar's fonts (fontconfig
 * matching, the face, its glyphs) and the icons, which all stay cached in
 * the process afterwards. The label icon is an SVG (icons/): its first
 * load brings up gdk-pixbuf's SVG loader, which cost the first window's
 * realize 17-27 ms of CPU (the window's own icon, at 48 px) and its title
 * bar's image another load at 16 px (bench/RESULTS.md, "Start at scale
 * VI"). A surface and an X window are per window: a window realized here
 * and destroyed unshown makes GTK touch it after its end, and one kept for
 * the first toplevel is shown at its own stale size by GDK's X11 backend
 * (both tried, "Start at scale VI"). Only for a qube whose first window the
 * user waits for after guid is up (a preloaded disposable, --warm-up);
 * elsewhere it would take CPU from the qube's own start ("Start at scale
 * V"). */
static gboolean win_warm_up(gpointer data)
{
    BhGuidSession *self = data;
    self->warm_source = 0;
    static const char *const icons[] = {"window-close-symbolic", "window-minimize-symbolic",
                                        "window-maximize-symbolic"};
    if (self->finished)
        return G_SOURCE_REMOVE;
    gint64 t0 = g_get_monotonic_time();
    GtkWidget *view = g_object_ref_sink(bh_guest_view_new(&self->frame, self->cap_w, self->cap_h));
    GtkWidget *window = GTK_WIDGET(bh_guest_window_new(self->qube, self->label, view));
    int min_w = 0, nat_w = 0, min_h = 0, nat_h = 0;
    gtk_widget_measure(window, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
    gtk_widget_measure(window, GTK_ORIENTATION_VERTICAL, nat_w, &min_h, &nat_h, NULL, NULL);
    gtk_widget_size_allocate(window, &(GtkAllocation){0, 0, nat_w, nat_h}, -1);

    g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new();
    GtkIconTheme *theme = gtk_icon_theme_get_for_display(gtk_widget_get_display(window));
    for (gsize i = 0; i < G_N_ELEMENTS(icons); i++) {
        g_autoptr(GtkIconPaintable) icon =
            gtk_icon_theme_lookup_icon(theme, icons[i], NULL, 16, 1, GTK_TEXT_DIR_NONE, 0);
        gdk_paintable_snapshot(GDK_PAINTABLE(icon), snapshot, 16, 16);
    }
    /* The window's icon (GTK asks for 48 px of a scalable icon) and the
     * title bar's. */
    g_autofree char *label_icon = bh_guid_label_icon_name(self->label);
    static const int label_sizes[] = {16, 48};
    for (gsize i = 0; i < G_N_ELEMENTS(label_sizes); i++) {
        g_autoptr(GtkIconPaintable) icon =
            gtk_icon_theme_lookup_icon(theme, label_icon, NULL, label_sizes[i], 1, GTK_TEXT_DIR_NONE, 0);
        gdk_paintable_snapshot(GDK_PAINTABLE(icon), snapshot, label_sizes[i], label_sizes[i]);
    }
    g_autofree char *text = g_strdup_printf("[%s] 0123456789 abcdefghijklmnopqrstuvwxyz", self->qube);
    g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(window, text);
    gtk_snapshot_append_layout(snapshot, layout, &self->frame);
    g_autoptr(GskRenderNode) node = gtk_snapshot_free_to_node(g_steal_pointer(&snapshot));
    cairo_surface_t *image = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 512, 32);
    cairo_t *cr = cairo_create(image);
    if (node != NULL)
        gsk_render_node_draw(node, cr);
    cairo_destroy(cr);
    cairo_surface_destroy(image);

    gtk_window_destroy(GTK_WINDOW(window));
    g_object_unref(view);
    DEBUG(self, "warm-up: a window built and its title bar and icons drawn in %.1f ms",
          (g_get_monotonic_time() - t0) / 1000.0);
    return G_SOURCE_REMOVE;
}

void bh_guid_wins_warm_up(BhGuidSession *self)
{
    /* Not a reference: the session's dispose removes the source, so a guid
     * that ends before it ran still disposes its session (and writes its
     * frame trace). */
    if (self->warm_source == 0)
        self->warm_source = g_idle_add_full(G_PRIORITY_LOW, win_warm_up, self, NULL);
}
