/* bh-guest-view.c — frame + tiles + pointer input of one guest surface
 * (see bh-guest-view.h). Must never: let the guest image reach the frame. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guest-view.h"

#include <math.h>

#include "bh-guid-input.h"
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

struct _BhGuestView {
    GtkWidget parent_instance;

    GdkRGBA frame;
    guint32 max_w, max_h;     /* content cap: the screen */
    guint32 buf_w, buf_h;     /* the guest buffer */
    guint32 min_w, min_h;     /* guest hint, capped */
    guint32 alloc_w, alloc_h; /* content size last allocated, 0 before */
    /* Who drew it: "[qube]" in the label's text colour. A popup shows it in
     * a band under its content (bottom_px tall instead of the frame), so
     * whatever the guest draws in a popup carries the qube's name. */
    char *owner;
    GdkRGBA owner_rgba;
    int bottom_px;
    PangoLayout *tag;
    BhGuidTiles tiles;

    /* Direct presentation (bh-guid-xshm.h). The presenter, the segment and
     * the mapping are the session's; it sets them with the buffer and clears
     * them before it lets the buffer go. */
    BhGuidXshm *xshm;
    BhGuidShmSeg *seg;
    const guint8 *src;
    gsize src_size;
    guint32 src_stride, src_h;
    guint32 xid; /* the X window last checked, and its depth if it takes our pixels */
    guint8 xid_depth;
    /* Where the content lies in that window (view_target), kept between
     * frames: finding it walks GTK's widget tree and transforms, about a
     * tenth of guid's CPU per 5 % frame (bench/RESULTS.md, "The 5 % frame
     * IV"). Forgotten (view_forget_target) by everything that can move or
     * clip the content: a layout of the surface, a paint of it, our
     * allocation, the buffer's or the band's size, realize and unrealize. */
    gboolean target_ok;
    BhGuidXshmTarget target;
    /* The last answer to our puts (bh_guest_view_finish_puts): when it
     * came, and whether a put was refused since the session last asked. */
    gint64 answered_ns;
    gboolean refused;
    /* What GTK drew on our surface since its last after-paint (surface
     * coordinates; the "render" emission hook fills it), put over again
     * from the buffer once GTK is done: GTK draws the view from its tiles,
     * which are only brought up to date when it snapshots the view. */
    cairo_region_t *gtk_drew;
    /* Damage that came before the previous frame was released (content
     * coordinates): put when the pacing releases, not on arrival. */
    cairo_region_t *unput;
    GdkFrameClock *clock; /* weak */
    gulong after_paint, layout;
};

G_DEFINE_FINAL_TYPE(BhGuestView, bh_guest_view, GTK_TYPE_WIDGET)

enum { SIG_MOTION, SIG_CROSSING, SIG_BUTTON, SIG_AXIS, SIG_CONTENT_RESIZED, SIG_PAINTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void view_forget_target(BhGuestView *self)
{
    self->target_ok = FALSE;
}

/* GTK translates event positions through float (graphene) transforms: a
 * pointer on a whole pixel arrives as e.g. 106.999992 (seen below a 47 px
 * title bar), and a bare floor() made the guest see it a pixel off. The
 * slack takes back such errors (a float's step is 1/128 px even at 16 384)
 * and moves a truly fractional position by no more than 1/64 px. */
#define TO_PIXEL_SLACK (1.0 / 64.0)

/* Guest coordinates: content origin is inside the frame. Positions on the
 * frame itself are clamped to the content edge. */
static void to_content(BhGuestView *self, double wx, double wy, gint *x, gint *y)
{
    double cx = floor(wx + TO_PIXEL_SLACK) - BH_GUID_FRAME_PX,
           cy = floor(wy + TO_PIXEL_SLACK) - BH_GUID_FRAME_PX;
    double mx = MAX(self->alloc_w, 1) - 1, my = MAX(self->alloc_h, 1) - 1;
    *x = (gint)CLAMP(cx, 0, mx);
    *y = (gint)CLAMP(cy, 0, my);
}

static void on_motion(GtkEventControllerMotion *c, double wx, double wy, BhGuestView *self)
{
    gint x, y;
    to_content(self, wx, wy, &x, &y);
    g_signal_emit(self, signals[SIG_MOTION], 0, x, y);
}

static void on_enter(GtkEventControllerMotion *c, double wx, double wy, BhGuestView *self)
{
    gint x, y;
    to_content(self, wx, wy, &x, &y);
    g_signal_emit(self, signals[SIG_CROSSING], 0, TRUE, x, y);
}

static void on_leave(GtkEventControllerMotion *c, BhGuestView *self)
{
    g_signal_emit(self, signals[SIG_CROSSING], 0, FALSE, 0, 0);
}

/* Button events come raw: a click gesture would stop reporting on a drag,
 * and the guest needs every press paired with its release. */
static gboolean on_legacy_event(GtkEventControllerLegacy *c, GdkEvent *event, BhGuestView *self)
{
    GdkEventType type = gdk_event_get_event_type(event);
    if (type != GDK_BUTTON_PRESS && type != GDK_BUTTON_RELEASE)
        return FALSE;
    guint32 button = bh_guid_input_evdev_button(gdk_button_event_get_button(event));
    if (button == 0)
        return TRUE;

    GtkWidget *widget = GTK_WIDGET(self);
    GtkNative *native = gtk_widget_get_native(widget);
    double ex = 0, ey = 0, sx = 0, sy = 0, wx = 0, wy = 0;
    gdk_event_get_position(event, &ex, &ey);
    gtk_native_get_surface_transform(native, &sx, &sy);
    if (!gtk_widget_translate_coordinates(GTK_WIDGET(native), widget, ex - sx, ey - sy, &wx, &wy))
        return TRUE;
    gint x, y;
    to_content(self, wx, wy, &x, &y);
    g_signal_emit(self, signals[SIG_BUTTON], 0, button, type == GDK_BUTTON_PRESS, x, y);
    return TRUE;
}

static gboolean on_scroll(GtkEventControllerScroll *c, double dx, double dy, BhGuestView *self)
{
    gboolean wheel =
        gtk_event_controller_scroll_get_unit(GTK_EVENT_CONTROLLER_SCROLL(c)) == GDK_SCROLL_UNIT_WHEEL;
    /* wl_fixed_t (24.8); a wheel click scrolls 10 surface pixels, as weston does. */
    double scale = wheel ? 10.0 * 256.0 : 256.0;
    /* The agent refuses scrolls beyond BH_MAX_INPUT_COORD pixels. */
    const double lim = (double)BH_MAX_INPUT_COORD * 256.0;
    if (dy != 0)
        g_signal_emit(self, signals[SIG_AXIS], 0, 0u, (gint)CLAMP(dy * scale, -lim, lim),
                      wheel ? (gint)CLAMP(round(dy), -1000, 1000) : 0);
    if (dx != 0)
        g_signal_emit(self, signals[SIG_AXIS], 0, 1u, (gint)CLAMP(dx * scale, -lim, lim),
                      wheel ? (gint)CLAMP(round(dx), -1000, 1000) : 0);
    return TRUE;
}

static void bh_guest_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                                  int *natural, int *min_baseline, int *nat_baseline)
{
    BhGuestView *self = BH_GUEST_VIEW(widget);
    gboolean horiz = orientation == GTK_ORIENTATION_HORIZONTAL;
    guint32 buf = horiz ? self->buf_w : self->buf_h;
    guint32 cap = horiz ? self->max_w : self->max_h;
    guint32 min = horiz ? self->min_w : self->min_h;
    int frames = horiz ? 2 * BH_GUID_FRAME_PX : BH_GUID_FRAME_PX + self->bottom_px;
    *minimum = frames + (int)MAX(MIN(min, cap), 1);
    *natural = MAX(*minimum, frames + (int)MIN(MAX(buf, 1), cap));
    if (horiz && self->tag != NULL) {
        /* The name is never cut: a narrow popup is widened with frame. */
        int tw = 0;
        pango_layout_get_pixel_size(self->tag, &tw, NULL);
        *minimum = MAX(*minimum, tw + 2 * BH_GUID_FRAME_PX);
        *natural = MAX(*natural, *minimum);
    }
}

static void popup_anchor(GtkWidget *popup);

static void bh_guest_view_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    BhGuestView *self = BH_GUEST_VIEW(widget);
    guint32 cw = (guint32)MAX(width - 2 * BH_GUID_FRAME_PX, 1);
    guint32 ch = (guint32)MAX(height - BH_GUID_FRAME_PX - self->bottom_px, 1);

    gboolean changed = cw != self->alloc_w || ch != self->alloc_h;
    view_forget_target(self);
    self->alloc_w = cw;
    self->alloc_h = ch;
    /* Popups are anchored against this allocation: place them again. */
    for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        if (GTK_IS_POPOVER(child)) {
            popup_anchor(child);
            gtk_popover_present(GTK_POPOVER(child));
        }
    }
    if (changed)
        g_signal_emit(self, signals[SIG_CONTENT_RESIZED], 0, cw, ch);
}

static void bh_guest_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    BhGuestView *self = BH_GUEST_VIEW(widget);
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    const int f = BH_GUID_FRAME_PX;

    /* Everything that is not guest content is label colour: the frame hugs
     * the content even when the window is larger than the guest's buffer
     * (a narrow guest under a wider title bar, or before the guest follows a
     * resize). The guest image is clipped to its rectangle inside the frame,
     * so nothing it sends can cover the frame. */
    gtk_snapshot_append_color(snapshot, &self->frame, &GRAPHENE_RECT_INIT(0, 0, w, h));
    int cw = MIN((int)self->tiles.width, w - 2 * f);
    int ch = MIN((int)self->tiles.height, h - f - self->bottom_px);
    if (self->tag != NULL) {
        /* Under the content's box (not under the guest's image, which may
         * be smaller), with a frame's width of plain colour above it so the
         * ring around the content stays exactly the label colour. */
        int th = 0;
        pango_layout_get_pixel_size(self->tag, NULL, &th);
        int band = h - self->bottom_px + f;
        gtk_snapshot_save(snapshot);
        gtk_snapshot_translate(snapshot,
                               &GRAPHENE_POINT_INIT(f, band + MAX(0, (self->bottom_px - f - th) / 2)));
        gtk_snapshot_append_layout(snapshot, self->tag, &self->owner_rgba);
        gtk_snapshot_restore(snapshot);
    }
    if (cw <= 0 || ch <= 0)
        return;

    /* Frames put straight to X only marked their tiles. */
    bh_guid_tiles_flush(&self->tiles, self->src, self->src_size, self->src_stride);
    graphene_rect_t inner = GRAPHENE_RECT_INIT(f, f, cw, ch);
    gtk_snapshot_push_clip(snapshot, &inner);
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(f, f));
    bh_guid_tiles_snapshot(&self->tiles, snapshot, (guint32)cw, (guint32)ch);
    gtk_snapshot_restore(snapshot);
    gtk_snapshot_pop(snapshot);
}

/* ---- Direct presentation ----------------------------------------------------------- */

/* Where the content is in the view's X window, worked out afresh: on an X11
 * surface at scale 1 that takes our pixels. */
static gboolean view_find_target(BhGuestView *self, BhGuidXshmTarget *t)
{
#ifdef GDK_WINDOWING_X11
    GtkWidget *widget = GTK_WIDGET(self);
    GtkNative *native = gtk_widget_get_native(widget);
    GdkSurface *surface = native != NULL ? gtk_native_get_surface(native) : NULL;
    if (surface == NULL || !GDK_IS_X11_SURFACE(surface) || gdk_surface_get_scale_factor(surface) != 1)
        return FALSE;
    guint32 xid = (guint32)gdk_x11_surface_get_xid(surface);
    if (xid != self->xid) {
        self->xid = xid;
        self->xid_depth = xid != 0 ? bh_guid_xshm_window_depth(self->xshm, xid) : 0;
        g_debug("guest view: X window 0x%x %s", xid,
                self->xid_depth != 0 ? "takes frames directly" : "is not XRGB: GTK draws");
    }
    if (self->xid_depth == 0)
        return FALSE;
    graphene_point_t p;
    const graphene_point_t corner = GRAPHENE_POINT_INIT(BH_GUID_FRAME_PX, BH_GUID_FRAME_PX);
    if (!gtk_widget_compute_point(widget, GTK_WIDGET(native), &corner, &p))
        return FALSE;
    double sx = 0, sy = 0;
    gtk_native_get_surface_transform(native, &sx, &sy);
    /* The same rectangle the snapshot clips the guest image to. */
    int cw = MIN((int)self->tiles.width, gtk_widget_get_width(widget) - 2 * BH_GUID_FRAME_PX);
    int ch = MIN((int)self->tiles.height, gtk_widget_get_height(widget) - BH_GUID_FRAME_PX - self->bottom_px);
    if (cw <= 0 || ch <= 0)
        return FALSE;
    t->xid = xid;
    t->depth = self->xid_depth;
    t->ox = (gint)lround(p.x + sx);
    t->oy = (gint)lround(p.y + sy);
    t->w = (guint32)cw;
    t->h = (guint32)ch;
    return TRUE;
#else
    return FALSE;
#endif
}

/* Where the content is in the view's X window, if it can go there directly:
 * a mapped view whose window takes our pixels. Until something forgets it,
 * the last answer stands: the content cannot move or change its clip on
 * screen without a layout or a paint of its surface, which forget it. */
static gboolean view_target(BhGuestView *self, BhGuidXshmTarget *t)
{
    if (self->xshm == NULL || self->seg == NULL || self->src == NULL ||
        !gtk_widget_get_mapped(GTK_WIDGET(self)))
        return FALSE;
    if (!self->target_ok)
        self->target_ok = view_find_target(self, &self->target);
    /* A refused put turns the window's depth off (view_put). */
    if (!self->target_ok || self->xid_depth == 0)
        return FALSE;
    *t = self->target;
    return TRUE;
}

static gboolean view_put(BhGuestView *self, const BhGuidXshmTarget *t, const struct bh_gui_rect *rects,
                         guint32 n_rects, gboolean frame)
{
    gint64 px = bh_guid_xshm_put(self->xshm, self->seg, self->src, self->src_size, self->src_stride,
                                 self->src_h, t, rects, n_rects);
    if (px < 0) {
        /* The window went away under us, or the server changed its mind:
         * GTK draws this window from now on. */
        g_debug("guest view: X window 0x%x refused a put; drawing through GTK", t->xid);
        self->xid_depth = 0;
        return FALSE;
    }
    if (frame) {
        self->tiles.stats.puts++;
        self->tiles.stats.px_put += (guint64)px;
    } else {
        self->tiles.stats.reputs++;
    }
    return TRUE;
}

/* The server's answer to our last puts, waited for if it has not come.
 * A refusal (the window went away) moves the view to GTK, which draws the
 * marked tiles. */
static void view_answer(BhGuestView *self)
{
    if (!bh_guid_xshm_pending(self->seg))
        return;
    if (bh_guid_xshm_wait(self->xshm, self->seg, &self->answered_ns))
        return;
    g_debug("guest view: X window 0x%x refused a put; drawing through GTK", self->xid);
    self->xid_depth = 0;
    self->refused = TRUE;
    if (bh_guid_tiles_flush(&self->tiles, self->src, self->src_size, self->src_stride) > 0)
        gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean bh_guest_view_finish_puts(BhGuestView *self, gint64 *answered_ns)
{
    g_return_val_if_fail(BH_IS_GUEST_VIEW(self), FALSE);
    view_answer(self);
    gboolean ok = !self->refused;
    self->refused = FALSE;
    if (answered_ns != NULL)
        *answered_ns = self->answered_ns;
    return ok;
}

/* Up to BH_MAX_DAMAGE_RECTS rectangles of a region, else its bounding box. */
static guint32 region_rects(const cairo_region_t *region, gint dx, gint dy,
                            struct bh_gui_rect rects[BH_MAX_DAMAGE_RECTS])
{
    int n = cairo_region_num_rectangles(region);
    gboolean whole = n > (int)BH_MAX_DAMAGE_RECTS;
    n = whole ? 1 : n;
    for (int i = 0; i < n; i++) {
        cairo_rectangle_int_t r;
        if (whole)
            cairo_region_get_extents(region, &r);
        else
            cairo_region_get_rectangle(region, i, &r);
        rects[i] = (struct bh_gui_rect){r.x - dx, r.y - dy, (guint32)r.width, (guint32)r.height};
    }
    return (guint32)n;
}

/* The end of a frame of our surface's clock. If GTK drew over (part of) our
 * content from its tiles, put the buffer back over what it drew, once the
 * server has done GTK's drawing (our puts go on another connection); then
 * tell the session ("painted"). */
static void on_after_paint(GdkFrameClock *clock, BhGuestView *self)
{
    cairo_region_t *drew = g_steal_pointer(&self->gtk_drew);
    BhGuidXshmTarget t;
    if (drew != NULL && view_target(self, &t)) {
        cairo_rectangle_int_t content = {t.ox, t.oy, (int)t.w, (int)t.h};
        cairo_region_intersect_rectangle(drew, &content);
        struct bh_gui_rect rects[BH_MAX_DAMAGE_RECTS];
        guint32 n = region_rects(drew, t.ox, t.oy, rects);
        if (n > 0) {
            bh_guid_xshm_sync_gdk(self->xshm);
            view_put(self, &t, rects, n, FALSE);
        }
    }
    g_clear_pointer(&drew, cairo_region_destroy);
    g_signal_emit(self, signals[SIG_PAINTED], 0);
}

/* Runs before GTK's own "render" handler on every surface (an emission
 * hook: GTK's handler stops the emission, so no handler of ours would run). */
static gboolean on_render_emission(GSignalInvocationHint *hint, guint n_params, const GValue *params,
                                   gpointer data)
{
    GObject *surface = g_value_get_object(&params[0]);
    const cairo_region_t *region = n_params > 1 ? g_value_get_boxed(&params[1]) : NULL;
    BhGuestView *self = surface != NULL ? g_object_get_data(surface, "bh-guest-view") : NULL;
    if (self == NULL || self->seg == NULL || region == NULL)
        return TRUE;
    /* Our puts go on another connection: they must be done before GTK's
     * drawing goes out, or a put made for the old layout could land over
     * the frame GTK draws for a new one. */
    view_answer(self);
    /* Whatever GTK paints may be a new layout: the content's place is
     * found again for the next put. */
    view_forget_target(self);
    if (self->gtk_drew == NULL)
        self->gtk_drew = cairo_region_copy(region);
    else
        cairo_region_union(self->gtk_drew, region);
    return TRUE; /* stay installed */
}

static void view_unwatch(BhGuestView *self)
{
    if (self->clock != NULL) {
        g_signal_handler_disconnect(self->clock, self->after_paint);
        g_signal_handler_disconnect(self->clock, self->layout);
        g_object_remove_weak_pointer(G_OBJECT(self->clock), (gpointer *)&self->clock);
        self->clock = NULL;
        self->after_paint = self->layout = 0;
    }
    view_forget_target(self);
    g_clear_pointer(&self->gtk_drew, cairo_region_destroy);
}

static void bh_guest_view_realize(GtkWidget *widget)
{
    BhGuestView *self = BH_GUEST_VIEW(widget);
    GTK_WIDGET_CLASS(bh_guest_view_parent_class)->realize(widget);
    GdkSurface *surface = gtk_native_get_surface(gtk_widget_get_native(widget));
    /* One guest view per surface: a toplevel's content, or a popup's. */
    g_object_set_data(G_OBJECT(surface), "bh-guest-view", self);
    self->clock = gdk_surface_get_frame_clock(surface);
    g_object_add_weak_pointer(G_OBJECT(self->clock), (gpointer *)&self->clock);
    self->after_paint = g_signal_connect(self->clock, "after-paint", G_CALLBACK(on_after_paint), self);
    /* Every allocation of the surface's widgets happens in its layout phase. */
    self->layout = g_signal_connect_swapped(self->clock, "layout", G_CALLBACK(view_forget_target), self);
    view_forget_target(self);
}

static void bh_guest_view_unrealize(GtkWidget *widget)
{
    BhGuestView *self = BH_GUEST_VIEW(widget);
    GdkSurface *surface = gtk_native_get_surface(gtk_widget_get_native(widget));
    if (surface != NULL && g_object_get_data(G_OBJECT(surface), "bh-guest-view") == self)
        g_object_set_data(G_OBJECT(surface), "bh-guest-view", NULL);
    view_unwatch(self);
    self->xid = 0;
    GTK_WIDGET_CLASS(bh_guest_view_parent_class)->unrealize(widget);
}

static void bh_guest_view_dispose(GObject *object)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(object))) != NULL)
        gtk_widget_unparent(child);
    G_OBJECT_CLASS(bh_guest_view_parent_class)->dispose(object);
}

static void bh_guest_view_finalize(GObject *object)
{
    BhGuestView *self = BH_GUEST_VIEW(object);
    view_unwatch(self);
    g_clear_pointer(&self->unput, cairo_region_destroy);
    g_clear_object(&self->tag);
    g_free(self->owner);
    bh_guid_tiles_clear(&self->tiles);
    G_OBJECT_CLASS(bh_guest_view_parent_class)->finalize(object);
}

static void bh_guest_view_class_init(BhGuestViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = bh_guest_view_dispose;
    object_class->finalize = bh_guest_view_finalize;
    widget_class->measure = bh_guest_view_measure;
    widget_class->size_allocate = bh_guest_view_size_allocate;
    widget_class->snapshot = bh_guest_view_snapshot;
    widget_class->realize = bh_guest_view_realize;
    widget_class->unrealize = bh_guest_view_unrealize;
    /* For the life of the process, like the class itself. */
    g_signal_add_emission_hook(g_signal_lookup("render", GDK_TYPE_SURFACE), 0, on_render_emission, NULL,
                               NULL);
    gtk_widget_class_set_css_name(widget_class, "bh-guest-view");

    /* (x, y) in content coordinates */
    signals[SIG_MOTION] = g_signal_new("pointer-motion", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                       NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
    /* (entered, x, y) */
    signals[SIG_CROSSING] =
        g_signal_new("pointer-crossing", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 3, G_TYPE_BOOLEAN, G_TYPE_INT, G_TYPE_INT);
    /* (evdev button, pressed, x, y) */
    signals[SIG_BUTTON] =
        g_signal_new("pointer-button", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 4, G_TYPE_UINT, G_TYPE_BOOLEAN, G_TYPE_INT, G_TYPE_INT);
    /* (enum bh_gui_axis_kind, wl_fixed value, discrete clicks) */
    signals[SIG_AXIS] = g_signal_new("pointer-axis", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                     NULL, NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_INT, G_TYPE_INT);
    /* (width, height) of the content rectangle after an allocation change */
    /* The frame that shows what the view had is painted (after-paint of its
     * surface's clock; ask with bh_guest_view_request_paint). */
    signals[SIG_PAINTED] = g_signal_new("painted", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                        NULL, G_TYPE_NONE, 0);
    signals[SIG_CONTENT_RESIZED] =
        g_signal_new("content-resized", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
}

static void bh_guest_view_init(BhGuestView *self)
{
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "enter", G_CALLBACK(on_enter), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);

    GtkEventController *legacy = gtk_event_controller_legacy_new();
    g_signal_connect(legacy, "event", G_CALLBACK(on_legacy_event), self);
    gtk_widget_add_controller(GTK_WIDGET(self), legacy);

    GtkEventController *scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
    g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
    gtk_widget_add_controller(GTK_WIDGET(self), scroll);

    bh_guid_tiles_init(&self->tiles);
    self->bottom_px = BH_GUID_FRAME_PX;
}

GtkWidget *bh_guest_view_new(const GdkRGBA *frame, guint32 max_w, guint32 max_h)
{
    BhGuestView *self = g_object_new(BH_TYPE_GUEST_VIEW, NULL);
    self->frame = *frame;
    self->frame.alpha = 1.0;
    self->max_w = MAX(max_w, 1);
    self->max_h = MAX(max_h, 1);
    return GTK_WIDGET(self);
}

void bh_guest_view_set_owner(BhGuestView *self, const char *qube, const GdkRGBA *text)
{
    g_return_if_fail(BH_IS_GUEST_VIEW(self));
    g_free(self->owner);
    self->owner = g_strdup(qube);
    self->owner_rgba = *text;
    self->owner_rgba.alpha = 1.0;
}

void bh_guest_view_set_cap(BhGuestView *self, guint32 max_w, guint32 max_h)
{
    g_return_if_fail(BH_IS_GUEST_VIEW(self));
    self->max_w = MAX(max_w, 1);
    self->max_h = MAX(max_h, 1);
    bh_guid_tiles_resize(&self->tiles, MIN(self->buf_w, self->max_w), MIN(self->buf_h, self->max_h));
    view_forget_target(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

/* Turns the name band on (popups). */
static void view_show_owner(BhGuestView *self)
{
    if (self->owner == NULL || self->tag != NULL)
        return;
    g_autofree char *text = g_strdup_printf("[%s]", self->owner);
    self->tag = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    pango_attr_list_insert(attrs, pango_attr_size_new(9 * PANGO_SCALE));
    pango_layout_set_attributes(self->tag, attrs);
    pango_attr_list_unref(attrs);
    int th = 0;
    pango_layout_get_pixel_size(self->tag, NULL, &th);
    self->bottom_px = MAX(BH_GUID_POPUP_TAG_PX, th + 2 * BH_GUID_FRAME_PX);
    view_forget_target(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

void bh_guest_view_set_buffer_size(BhGuestView *self, guint32 width, guint32 height)
{
    g_return_if_fail(BH_IS_GUEST_VIEW(self));
    self->buf_w = width;
    self->buf_h = height;
    /* Only what can ever be on screen is kept: a huge buffer costs no more. */
    bh_guid_tiles_resize(&self->tiles, MIN(width, self->max_w), MIN(height, self->max_h));
    view_forget_target(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

gboolean bh_guest_view_request_paint(BhGuestView *self)
{
    g_return_val_if_fail(BH_IS_GUEST_VIEW(self), FALSE);
    /* Realized means realize() above has connected to this clock. */
    GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(self));
    if (clock == NULL)
        return FALSE;
    gdk_frame_clock_request_phase(clock, GDK_FRAME_CLOCK_PHASE_AFTER_PAINT);
    return TRUE;
}

void bh_guest_view_set_source(BhGuestView *self, BhGuidXshm *xshm, BhGuidShmSeg *seg, const guint8 *map,
                              gsize map_size, guint32 stride, guint32 height)
{
    g_return_if_fail(BH_IS_GUEST_VIEW(self));
    if (map == NULL && self->src != NULL)
        /* The tiles may still hold marks for the old buffer: they will never
         * be copied now, and GTK shows what they had. */
        bh_guid_tiles_flush(&self->tiles, self->src, self->src_size, self->src_stride);
    self->xshm = map != NULL ? xshm : NULL;
    self->seg = map != NULL ? seg : NULL;
    self->src = map;
    self->src_size = map != NULL ? map_size : 0;
    self->src_stride = stride;
    self->src_h = height;
}

void bh_guest_view_damage_later(BhGuestView *self, const struct bh_gui_rect *rects, guint32 n_rects)
{
    g_return_if_fail(BH_IS_GUEST_VIEW(self));
    bh_guid_tiles_mark(&self->tiles, rects, n_rects);
    if (self->unput == NULL)
        self->unput = cairo_region_create();
    for (guint32 i = 0; i < n_rects; i++) {
        cairo_rectangle_int_t r = {rects[i].x, rects[i].y, (int)MIN(rects[i].width, (guint32)G_MAXINT16),
                                   (int)MIN(rects[i].height, (guint32)G_MAXINT16)};
        cairo_region_union_rectangle(self->unput, &r);
    }
    /* However the guest floods, the region stays small. */
    if (cairo_region_num_rectangles(self->unput) > (int)BH_MAX_DAMAGE_RECTS) {
        cairo_rectangle_int_t box;
        cairo_region_get_extents(self->unput, &box);
        cairo_region_destroy(self->unput);
        self->unput = cairo_region_create_rectangle(&box);
    }
}

gboolean bh_guest_view_put_later(BhGuestView *self)
{
    g_return_val_if_fail(BH_IS_GUEST_VIEW(self), FALSE);
    cairo_region_t *unput = g_steal_pointer(&self->unput);
    if (unput == NULL)
        return FALSE;
    struct bh_gui_rect rects[BH_MAX_DAMAGE_RECTS];
    guint32 n = region_rects(unput, 0, 0, rects);
    cairo_region_destroy(unput);
    BhGuidXshmTarget t;
    if (n > 0 && view_target(self, &t) && view_put(self, &t, rects, n, TRUE))
        return TRUE;
    /* No longer on X: the marked tiles go through GTK. */
    if (bh_guid_tiles_flush(&self->tiles, self->src, self->src_size, self->src_stride) > 0)
        gtk_widget_queue_draw(GTK_WIDGET(self));
    return FALSE;
}

gboolean bh_guest_view_damage(BhGuestView *self, const guint8 *map, gsize map_size, guint32 stride,
                              const struct bh_gui_rect *rects, guint32 n_rects)
{
    g_return_val_if_fail(BH_IS_GUEST_VIEW(self), FALSE);
    BhGuidXshmTarget t;
    if (map != NULL && map == self->src && view_target(self, &t)) {
        /* The tiles are only needed when GTK next draws the view. */
        bh_guid_tiles_mark(&self->tiles, rects, n_rects);
        if (view_put(self, &t, rects, n_rects, TRUE))
            return TRUE;
        n_rects = 0; /* marked already: the update below copies them */
    }
    if (bh_guid_tiles_update(&self->tiles, map, map_size, stride, rects, n_rects) > 0)
        gtk_widget_queue_draw(GTK_WIDGET(self));
    return FALSE;
}

void bh_guest_view_set_min_content_size(BhGuestView *self, guint32 width, guint32 height)
{
    self->min_w = MIN(width, self->max_w);
    self->min_h = MIN(height, self->max_h);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

void bh_guest_view_get_content_size(BhGuestView *self, guint32 *width, guint32 *height)
{
    *width = self->alloc_w;
    *height = self->alloc_h;
}

void bh_guest_view_set_cursor_shape(BhGuestView *self, guint32 shape)
{
    /* CSS cursor names, indexed by enum bh_gui_cursor_shape. */
    static const char *const names[BH_GUI_CURSOR_COUNT] = {
        "default",  "text",     "pointer",   "move",      "wait",      "crosshair", "n-resize", "s-resize",
        "e-resize", "w-resize", "ne-resize", "nw-resize", "se-resize", "sw-resize", "none",
    };
    if (shape >= BH_GUI_CURSOR_COUNT)
        return;
    gtk_widget_set_cursor_from_name(GTK_WIDGET(self), names[shape]);
}

const BhGuidTileStats *bh_guest_view_get_stats(BhGuestView *self)
{
    return &self->tiles.stats;
}

/* ---- Popups ------------------------------------------------------------------------ */

/* What guid keeps on a guest popup (a GtkPopover). The guest says whether it
 * wants it shown; guid shows it only while the toplevel it hangs under is on
 * screen and is the window the user is working in: a popup never stays above
 * a window the user activated, nor on screen when its parent is minimised,
 * hidden or on another workspace (all of which take the focus away). */
typedef struct {
    gint x, y;           /* where the guest wants it, in the parent's content */
    gboolean wanted;     /* mapped by the guest */
    GtkWindow *root;     /* weak: the toplevel at the top of the chain */
    GdkSurface *surface; /* weak: root's surface, for its minimised state */
    gulong on_active, on_visible, on_realize, on_state;
} Popup;

static void popup_update(GtkWidget *popover);

static void popup_state_changed(GObject *object, GParamSpec *pspec, gpointer popover)
{
    popup_update(popover);
}

static void popup_watch_surface(GtkWidget *popover)
{
    Popup *p = g_object_get_data(G_OBJECT(popover), "bh-popup");
    GdkSurface *s = p->root != NULL ? gtk_native_get_surface(GTK_NATIVE(p->root)) : NULL;
    if (s == p->surface)
        return;
    if (p->surface != NULL) {
        g_signal_handler_disconnect(p->surface, p->on_state);
        g_object_remove_weak_pointer(G_OBJECT(p->surface), (gpointer *)&p->surface);
    }
    p->surface = s;
    p->on_state = 0;
    if (s != NULL) {
        g_object_add_weak_pointer(G_OBJECT(s), (gpointer *)&p->surface);
        p->on_state = g_signal_connect(s, "notify::state", G_CALLBACK(popup_state_changed), popover);
    }
}

static void popup_root_realized(GtkWidget *root, gpointer popover)
{
    popup_watch_surface(popover);
    popup_update(popover);
}

gboolean bh_guest_popup_may_show(GtkWindow *root)
{
    if (root == NULL || !gtk_widget_get_visible(GTK_WIDGET(root)) || !gtk_window_is_active(root))
        return FALSE;
    GdkSurface *s = gtk_native_get_surface(GTK_NATIVE(root));
    if (s == NULL || !GDK_IS_TOPLEVEL(s))
        return FALSE;
    GdkToplevelState state = gdk_toplevel_get_state(GDK_TOPLEVEL(s));
    return !(state & GDK_TOPLEVEL_STATE_MINIMIZED);
}

static void popup_update(GtkWidget *popover)
{
    Popup *p = g_object_get_data(G_OBJECT(popover), "bh-popup");
    gboolean show = p->wanted && bh_guest_popup_may_show(p->root);
    if (show == gtk_widget_get_visible(popover))
        return;
    if (show)
        gtk_popover_popup(GTK_POPOVER(popover));
    else
        gtk_popover_popdown(GTK_POPOVER(popover));
}

static void popup_free(gpointer data)
{
    Popup *p = data;
    if (p->surface != NULL) {
        g_signal_handler_disconnect(p->surface, p->on_state);
        g_object_remove_weak_pointer(G_OBJECT(p->surface), (gpointer *)&p->surface);
    }
    if (p->root != NULL) {
        g_signal_handler_disconnect(p->root, p->on_active);
        g_signal_handler_disconnect(p->root, p->on_visible);
        g_signal_handler_disconnect(p->root, p->on_realize);
        g_object_remove_weak_pointer(G_OBJECT(p->root), (gpointer *)&p->root);
    }
    g_free(p);
}

GtkWidget *bh_guest_popup_new(BhGuestView *parent, GtkWidget *child, guint32 max_w, guint32 max_h)
{
    GtkWidget *popover = gtk_popover_new();
    gtk_widget_add_css_class(popover, "bh-guest-popup");
    gtk_popover_set_has_arrow(GTK_POPOVER(popover), FALSE);
    /* The guest opens and closes its menus; guid never grabs for it. */
    gtk_popover_set_autohide(GTK_POPOVER(popover), FALSE);
    gtk_popover_set_position(GTK_POPOVER(popover), GTK_POS_BOTTOM);
    gtk_widget_set_halign(popover, GTK_ALIGN_START);
    if (BH_IS_GUEST_VIEW(child)) {
        /* Bounded (larger content is clipped, never scaled) and named. */
        bh_guest_view_set_cap(BH_GUEST_VIEW(child), max_w, max_h);
        if (BH_GUEST_VIEW(child)->owner == NULL && parent->owner != NULL)
            bh_guest_view_set_owner(BH_GUEST_VIEW(child), parent->owner, &parent->owner_rgba);
        view_show_owner(BH_GUEST_VIEW(child));
    }
    gtk_popover_set_child(GTK_POPOVER(popover), child);
    gtk_widget_set_parent(popover, GTK_WIDGET(parent));

    Popup *p = g_new0(Popup, 1);
    g_object_set_data_full(G_OBJECT(popover), "bh-popup", p, popup_free);
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(parent));
    if (root != NULL && GTK_IS_WINDOW(root)) {
        p->root = GTK_WINDOW(root);
        g_object_add_weak_pointer(G_OBJECT(p->root), (gpointer *)&p->root);
        p->on_active = g_signal_connect_swapped(root, "notify::is-active", G_CALLBACK(popup_update), popover);
        p->on_visible = g_signal_connect_swapped(root, "notify::visible", G_CALLBACK(popup_update), popover);
        p->on_realize = g_signal_connect(root, "realize", G_CALLBACK(popup_root_realized), popover);
        popup_watch_surface(popover);
    }
    return popover;
}

void bh_guest_popup_set_wanted(GtkWidget *popup, gboolean wanted)
{
    Popup *p = g_object_get_data(G_OBJECT(popup), "bh-popup");
    g_return_if_fail(p != NULL);
    p->wanted = wanted;
    popup_update(popup);
}

static void popup_anchor(GtkWidget *popup)
{
    BhGuestView *parent = BH_GUEST_VIEW(gtk_widget_get_parent(popup));
    Popup *off = g_object_get_data(G_OBJECT(popup), "bh-popup");
    if (off == NULL || parent->alloc_w == 0)
        return; /* placed at the parent's first allocation */
    /* Both surfaces have a frame of the same width, so the popup's top-left
     * corner goes to the parent's (x, y) in view coordinates; the 1-px-high
     * anchor sits one row above so "below the anchor" is exactly y. GDK
     * needs the anchor on a monitor: keep it inside the parent. */
    gint vw = (gint)parent->alloc_w + 2 * BH_GUID_FRAME_PX;
    gint vh = (gint)parent->alloc_h + BH_GUID_FRAME_PX + parent->bottom_px;
    GdkRectangle anchor = {CLAMP(off->x, 0, vw - 1), CLAMP(off->y - 1, 0, vh - 2), 1, 1};
    GdkRectangle now;
    if (!gtk_popover_get_pointing_to(GTK_POPOVER(popup), &now) || now.x != anchor.x || now.y != anchor.y)
        gtk_popover_set_pointing_to(GTK_POPOVER(popup), &anchor);
}

void bh_guest_popup_move(GtkWidget *popup, gint x, gint y)
{
    Popup *p = g_object_get_data(G_OBJECT(popup), "bh-popup");
    g_return_if_fail(p != NULL);
    p->x = x;
    p->y = y;
    popup_anchor(popup);
}
