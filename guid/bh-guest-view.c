/* bh-guest-view.c — frame + tiles + pointer input of one guest surface
 * (see bh-guest-view.h). Must never: let the guest image reach the frame. */
#include "bh-guest-view.h"

#include <math.h>

#include "bh-guid-input.h"

struct _BhGuestView {
    GtkWidget parent_instance;

    GdkRGBA frame;
    guint32 max_w, max_h;   /* content cap: the screen */
    guint32 buf_w, buf_h;   /* the guest buffer */
    guint32 min_w, min_h;   /* guest hint, capped */
    guint32 alloc_w, alloc_h; /* content size last allocated, 0 before */
    BhGuidTiles tiles;
};

G_DEFINE_FINAL_TYPE(BhGuestView, bh_guest_view, GTK_TYPE_WIDGET)

enum {
    SIG_MOTION,
    SIG_CROSSING,
    SIG_BUTTON,
    SIG_AXIS,
    SIG_CONTENT_RESIZED,
    N_SIGNALS
};
static guint signals[N_SIGNALS];

/* Guest coordinates: content origin is inside the frame. Positions on the
 * frame itself are clamped to the content edge. */
static void to_content(BhGuestView *self, double wx, double wy, gint *x, gint *y)
{
    double cx = floor(wx) - BH_GUID_FRAME_PX, cy = floor(wy) - BH_GUID_FRAME_PX;
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

static void bh_guest_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                  int *minimum, int *natural, int *min_baseline,
                                  int *nat_baseline)
{
    BhGuestView *self = BH_GUEST_VIEW(widget);
    gboolean horiz = orientation == GTK_ORIENTATION_HORIZONTAL;
    guint32 buf = horiz ? self->buf_w : self->buf_h;
    guint32 cap = horiz ? self->max_w : self->max_h;
    guint32 min = horiz ? self->min_w : self->min_h;
    *minimum = 2 * BH_GUID_FRAME_PX + (int)MAX(MIN(min, cap), 1);
    *natural = MAX(*minimum, 2 * BH_GUID_FRAME_PX + (int)MIN(MAX(buf, 1), cap));
}

static void popup_anchor(GtkWidget *popup);

static void bh_guest_view_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    BhGuestView *self = BH_GUEST_VIEW(widget);
    guint32 cw = (guint32)MAX(width - 2 * BH_GUID_FRAME_PX, 1);
    guint32 ch = (guint32)MAX(height - 2 * BH_GUID_FRAME_PX, 1);

    gboolean changed = cw != self->alloc_w || ch != self->alloc_h;
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
    int cw = MIN((int)self->tiles.width, w - 2 * f), ch = MIN((int)self->tiles.height, h - 2 * f);
    if (cw <= 0 || ch <= 0)
        return;

    graphene_rect_t inner = GRAPHENE_RECT_INIT(f, f, cw, ch);
    gtk_snapshot_push_clip(snapshot, &inner);
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(f, f));
    bh_guid_tiles_snapshot(&self->tiles, snapshot, (guint32)cw, (guint32)ch);
    gtk_snapshot_restore(snapshot);
    gtk_snapshot_pop(snapshot);
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
    gtk_widget_class_set_css_name(widget_class, "bh-guest-view");

    /* (x, y) in content coordinates */
    signals[SIG_MOTION] = g_signal_new("pointer-motion", G_TYPE_FROM_CLASS(klass),
                                       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                       G_TYPE_INT, G_TYPE_INT);
    /* (entered, x, y) */
    signals[SIG_CROSSING] = g_signal_new("pointer-crossing", G_TYPE_FROM_CLASS(klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                                         G_TYPE_BOOLEAN, G_TYPE_INT, G_TYPE_INT);
    /* (evdev button, pressed, x, y) */
    signals[SIG_BUTTON] = g_signal_new("pointer-button", G_TYPE_FROM_CLASS(klass),
                                       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                                       G_TYPE_UINT, G_TYPE_BOOLEAN, G_TYPE_INT, G_TYPE_INT);
    /* (enum bh_gui_axis_kind, wl_fixed value, discrete clicks) */
    signals[SIG_AXIS] = g_signal_new("pointer-axis", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_INT,
                                     G_TYPE_INT);
    /* (width, height) of the content rectangle after an allocation change */
    signals[SIG_CONTENT_RESIZED] = g_signal_new("content-resized", G_TYPE_FROM_CLASS(klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
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

    GtkEventController *scroll =
        gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
    g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
    gtk_widget_add_controller(GTK_WIDGET(self), scroll);

    bh_guid_tiles_init(&self->tiles);
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

void bh_guest_view_set_buffer_size(BhGuestView *self, guint32 width, guint32 height)
{
    g_return_if_fail(BH_IS_GUEST_VIEW(self));
    self->buf_w = width;
    self->buf_h = height;
    /* Only what can ever be on screen is kept: a huge buffer costs no more. */
    bh_guid_tiles_resize(&self->tiles, MIN(width, self->max_w), MIN(height, self->max_h));
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

guint bh_guest_view_damage(BhGuestView *self, const guint8 *map, gsize map_size, guint32 stride,
                           const struct bh_gui_rect *rects, guint32 n_rects)
{
    g_return_val_if_fail(BH_IS_GUEST_VIEW(self), 0);
    guint n = bh_guid_tiles_update(&self->tiles, map, map_size, stride, rects, n_rects);
    if (n > 0)
        gtk_widget_queue_draw(GTK_WIDGET(self));
    return n;
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
        "default",   "text",      "pointer",   "move",      "wait",
        "crosshair", "n-resize",  "s-resize",  "e-resize",  "w-resize",
        "ne-resize", "nw-resize", "se-resize", "sw-resize", "none",
    };
    if (shape >= BH_GUI_CURSOR_COUNT)
        return;
    gtk_widget_set_cursor_from_name(GTK_WIDGET(self), names[shape]);
}

const BhGuidTileStats *bh_guest_view_get_stats(BhGuestView *self)
{
    return &self->tiles.stats;
}

GtkWidget *bh_guest_popup_new(BhGuestView *parent, GtkWidget *child)
{
    GtkWidget *popover = gtk_popover_new();
    gtk_widget_add_css_class(popover, "bh-guest-popup");
    gtk_popover_set_has_arrow(GTK_POPOVER(popover), FALSE);
    /* The guest opens and closes its menus; guid never grabs for it. */
    gtk_popover_set_autohide(GTK_POPOVER(popover), FALSE);
    gtk_popover_set_position(GTK_POPOVER(popover), GTK_POS_BOTTOM);
    gtk_widget_set_halign(popover, GTK_ALIGN_START);
    gtk_popover_set_child(GTK_POPOVER(popover), child);
    gtk_widget_set_parent(popover, GTK_WIDGET(parent));
    return popover;
}

/* Where the guest wants the popup, kept on the popover. */
typedef struct {
    gint x, y;
} PopupOffset;

static void popup_anchor(GtkWidget *popup)
{
    BhGuestView *parent = BH_GUEST_VIEW(gtk_widget_get_parent(popup));
    PopupOffset *off = g_object_get_data(G_OBJECT(popup), "bh-popup-offset");
    if (off == NULL || parent->alloc_w == 0)
        return; /* placed at the parent's first allocation */
    /* Both surfaces have a frame of the same width, so the popup's top-left
     * corner goes to the parent's (x, y) in view coordinates; the 1-px-high
     * anchor sits one row above so "below the anchor" is exactly y. GDK
     * needs the anchor on a monitor: keep it inside the parent. */
    gint vw = (gint)parent->alloc_w + 2 * BH_GUID_FRAME_PX;
    gint vh = (gint)parent->alloc_h + 2 * BH_GUID_FRAME_PX;
    GdkRectangle anchor = {CLAMP(off->x, 0, vw - 1), CLAMP(off->y - 1, 0, vh - 2), 1, 1};
    GdkRectangle now;
    if (!gtk_popover_get_pointing_to(GTK_POPOVER(popup), &now) || now.x != anchor.x ||
        now.y != anchor.y)
        gtk_popover_set_pointing_to(GTK_POPOVER(popup), &anchor);
}

void bh_guest_popup_move(GtkWidget *popup, gint x, gint y)
{
    PopupOffset *off = g_new(PopupOffset, 1);
    off->x = x;
    off->y = y;
    g_object_set_data_full(G_OBJECT(popup), "bh-popup-offset", off, g_free);
    popup_anchor(popup);
}
