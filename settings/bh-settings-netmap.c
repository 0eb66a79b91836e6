/* bh-settings-netmap.c — the network map (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-netmap.h"

#include "bh-settings-util.h"
#include "bh-shell-qube.h"

#include <math.h>

/* A box is as wide as its widest text (name and state), within these. */
#define BH_BOX_W_MIN 140.0
#define BH_BOX_W_MAX 260.0
/* The text's room in a box: 8 px before it, 10 after (a running box's
 * inner line is 3 px in). */
#define BH_BOX_PAD 18.0
#define BH_BOX_H   30.0
#define BH_GAP_X   48.0
#define BH_GAP_Y   10.0
#define BH_MARGIN  16.0
/* A netvm chain is bounded by the model (no loops); this caps the columns a
 * corrupt list could ask for. */
#define BH_MAX_DEPTH 32
/* Under this many pixels a press and release is a click, not a drag. */
#define BH_DRAG_SLOP 6.0

typedef struct {
    char *name, *netvm, *color, *state;
    gboolean provides;
    int depth;
    double x, y;
} BhNode;

struct _BhSettingsNetmap {
    GtkWidget parent_instance;
    BhSettingsContext *context;
    GPtrArray *nodes; /* BhNode*, in drawing order */
    GHashTable *by_name;
    double width, height;
    double box_w; /* every box's width, from the widest text (bh_layout) */
    guint layouts;
    /* the drag */
    BhNode *dragged;
    double drag_x, drag_y, drag_dx, drag_dy;
    gboolean dragging;
    /* the refusal bubble and the menu */
    GtkWidget *bubble, *bubble_label, *menu;
    char *error;
    GCancellable *cancellable; /* cancelled at dispose: no reply reaches a gone map */
};

G_DEFINE_FINAL_TYPE(BhSettingsNetmap, bh_settings_netmap, GTK_TYPE_WIDGET)

static void bh_node_free(BhNode *node)
{
    g_free(node->name);
    g_free(node->netvm);
    g_free(node->color);
    g_free(node->state);
    g_free(node);
}

/* ---- layout ----------------------------------------------------------------- */

static int bh_depth(BhSettingsNetmap *self, BhNode *node, int limit)
{
    BhNode *up;

    if (node->depth >= 0)
        return node->depth;
    up = *node->netvm ? g_hash_table_lookup(self->by_name, node->netvm) : NULL;
    /* A netvm the list lacks (dom0 is left out) or a chain past the cap is
     * drawn as a root rather than followed. */
    node->depth = up == NULL || limit <= 0 ? 0 : MIN(bh_depth(self, up, limit - 1) + 1, BH_MAX_DEPTH);
    return node->depth;
}

static int bh_root_order(gconstpointer a, gconstpointer b)
{
    const BhNode *x = *(BhNode *const *)a, *y = *(BhNode *const *)b;

    /* The network's roots first (sys-net), qubes without network last. */
    if (x->provides != y->provides)
        return x->provides ? -1 : 1;
    return g_strcmp0(x->name, y->name);
}

/* What a box says: its name, and its state unless halted (faded says so). */
static char *bh_node_text(const BhNode *node)
{
    return g_str_equal(node->state, "Halted") ? g_strdup(node->name)
                                              : g_strdup_printf("%s · %s", node->name, node->state);
}

static double bh_pixel_width(BhSettingsNetmap *self, const char *text)
{
    g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
    int w = 0;

    pango_layout_get_pixel_size(layout, &w, NULL);
    return w;
}

static double bh_text_width(BhSettingsNetmap *self, const BhNode *node)
{
    g_autofree char *text = bh_node_text(node);
    return bh_pixel_width(self, text);
}

/* Boxes wide enough for the widest name with the widest state, so a state
 * change never changes the layout; a longer text is cut at the widest box.
 * (At a fixed 140 px the map read "sys-firewall · Run…".) */
static double bh_box_width(BhSettingsNetmap *self)
{
    static const char *const states[] = {"Transient", "Running", "Paused", "Halting", "Dying", "Crashed"};
    double name = 0, state = 0;

    for (guint i = 0; i < self->nodes->len; i++)
        name = MAX(name, bh_pixel_width(self, ((BhNode *)self->nodes->pdata[i])->name));
    for (gsize i = 0; i < G_N_ELEMENTS(states); i++) {
        g_autofree char *suffix = g_strdup_printf(" · %s", states[i]);
        state = MAX(state, bh_pixel_width(self, suffix));
    }
    return CLAMP(ceil(name + state + BH_BOX_PAD), BH_BOX_W_MIN, BH_BOX_W_MAX);
}

/* Each qube under the one it reaches the network through, one row each. */
static void bh_place(BhSettingsNetmap *self, BhNode *node, GHashTable *children, double *row)
{
    GPtrArray *kids = g_hash_table_lookup(children, node->name);

    node->x = BH_MARGIN + node->depth * (self->box_w + BH_GAP_X);
    node->y = BH_MARGIN + *row * (BH_BOX_H + BH_GAP_Y);
    *row += 1;
    self->width = MAX(self->width, node->x + self->box_w + BH_MARGIN);
    self->height = MAX(self->height, node->y + BH_BOX_H + BH_MARGIN);
    if (kids == NULL)
        return;
    g_ptr_array_sort(kids, bh_root_order);
    for (guint i = 0; i < kids->len; i++)
        bh_place(self, kids->pdata[i], children, row);
}

static void bh_layout(BhSettingsNetmap *self)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    g_autoptr(GHashTable) children =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
    g_autoptr(GPtrArray) roots = g_ptr_array_new();
    guint n = g_list_model_get_n_items(qubes);
    double row = 0;

    g_hash_table_remove_all(self->by_name);
    g_ptr_array_set_size(self->nodes, 0);
    for (guint i = 0; i < n; i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        BhNode *node;

        if (g_str_equal(bh_shell_qube_get_class(qube), "AdminVM"))
            continue;
        node = g_new0(BhNode, 1);
        node->name = g_strdup(bh_shell_qube_get_name(qube));
        node->netvm = g_strdup(bh_shell_qube_get_netvm(qube));
        node->color = g_strdup(bh_shell_qube_get_color(qube));
        node->state = g_strdup(bh_shell_qube_get_state(qube));
        node->provides = bh_shell_qube_provides_network(qube);
        node->depth = -1;
        g_ptr_array_add(self->nodes, node);
        g_hash_table_insert(self->by_name, node->name, node);
    }
    for (guint i = 0; i < self->nodes->len; i++) {
        BhNode *node = self->nodes->pdata[i];
        BhNode *up;

        if (bh_depth(self, node, BH_MAX_DEPTH) == 0 ||
            (up = g_hash_table_lookup(self->by_name, node->netvm)) == NULL) {
            node->depth = 0;
            g_ptr_array_add(roots, node);
            continue;
        }
        GPtrArray *kids = g_hash_table_lookup(children, up->name);
        if (kids == NULL) {
            kids = g_ptr_array_new();
            g_hash_table_insert(children, up->name, kids);
        }
        g_ptr_array_add(kids, node);
    }
    g_ptr_array_sort(roots, bh_root_order);
    self->box_w = bh_box_width(self);
    self->width = self->height = 0;
    for (guint i = 0; i < roots->len; i++)
        bh_place(self, roots->pdata[i], children, &row);
    self->layouts++;
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

/* ---- drawing ---------------------------------------------------------------- */

static void bh_rgb(const char *color, double alpha, cairo_t *cr)
{
    guint32 rgb = bh_shell_color_is_valid(color) ? (guint32)g_ascii_strtoull(color + 1, NULL, 16) : 0x888888;

    cairo_set_source_rgba(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0,
                          alpha);
}

static void bh_draw_box(BhSettingsNetmap *self, cairo_t *cr, PangoLayout *layout, BhNode *node, double x,
                        double y, gboolean ghost)
{
    gboolean running = g_str_equal(node->state, "Running");
    gboolean halted = g_str_equal(node->state, "Halted");
    g_autofree char *text = bh_node_text(node);

    cairo_rectangle(cr, x, y, self->box_w, BH_BOX_H);
    bh_rgb(node->color, ghost ? 0.5 : halted ? 0.55 : 1.0, cr);
    cairo_fill_preserve(cr);
    /* Running: a thick dark-and-light border that reads on every label. */
    cairo_set_line_width(cr, running ? 4 : 1);
    cairo_set_source_rgb(cr, running ? 0.1 : 0.3, running ? 0.1 : 0.3, running ? 0.1 : 0.3);
    cairo_stroke(cr);
    if (running) {
        cairo_rectangle(cr, x + 3, y + 3, self->box_w - 6, BH_BOX_H - 6);
        cairo_set_line_width(cr, 1);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_stroke(cr);
    }
    pango_layout_set_text(layout, text, -1);
    bh_rgb(bh_settings_text_on(node->color), 1.0, cr);
    cairo_move_to(cr, x + 8, y + 7);
    pango_cairo_show_layout(cr, layout);
}

/* From a qube's left edge to its netvm's right edge (netvms are always in
 * the column to the left), the head at the netvm. */
static void bh_draw_arrow(cairo_t *cr, double x0, double y0, double x1, double y1)
{
    double mid = (x0 + x1) / 2;

    cairo_move_to(cr, x0, y0);
    cairo_curve_to(cr, mid, y0, mid, y1, x1 + 8, y1);
    cairo_stroke(cr);
    cairo_move_to(cr, x1, y1);
    cairo_line_to(cr, x1 + 10, y1 - 5);
    cairo_line_to(cr, x1 + 10, y1 + 5);
    cairo_close_path(cr);
    cairo_fill(cr);
}

static BhNode *bh_hit(BhSettingsNetmap *self, double x, double y)
{
    for (guint i = 0; i < self->nodes->len; i++) {
        BhNode *node = self->nodes->pdata[i];
        if (x >= node->x && x < node->x + self->box_w && y >= node->y && y < node->y + BH_BOX_H)
            return node;
    }
    return NULL;
}

static void bh_settings_netmap_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    BhSettingsNetmap *self = BH_SETTINGS_NETMAP(widget);
    graphene_rect_t bounds = GRAPHENE_RECT_INIT(0, 0, MAX(self->width, 1), MAX(self->height, 1));
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &bounds);
    PangoLayout *layout = gtk_widget_create_pango_layout(widget, NULL);
    BhNode *target = NULL;

    pango_layout_set_width(layout, (int)((self->box_w - BH_BOX_PAD) * PANGO_SCALE));
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    cairo_set_source_rgb(cr, 0.98, 0.98, 0.97);
    cairo_paint(cr);

    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    cairo_set_line_width(cr, 1.5);
    for (guint i = 0; i < self->nodes->len; i++) {
        BhNode *node = self->nodes->pdata[i];
        BhNode *up = *node->netvm ? g_hash_table_lookup(self->by_name, node->netvm) : NULL;
        if (up != NULL && up != node)
            bh_draw_arrow(cr, node->x, node->y + BH_BOX_H / 2, up->x + self->box_w, up->y + BH_BOX_H / 2);
    }
    if (self->dragging)
        target = bh_hit(self, self->drag_x + self->drag_dx, self->drag_y + self->drag_dy);
    for (guint i = 0; i < self->nodes->len; i++) {
        BhNode *node = self->nodes->pdata[i];

        bh_draw_box(self, cr, layout, node, node->x, node->y, FALSE);
        if (node == target && node != self->dragged) {
            cairo_rectangle(cr, node->x - 4, node->y - 4, self->box_w + 8, BH_BOX_H + 8);
            cairo_set_source_rgb(cr, 0.2, 0.4, 0.9);
            cairo_set_line_width(cr, 3);
            cairo_stroke(cr);
        }
    }
    if (self->dragging && self->dragged != NULL) {
        BhNode *node = self->dragged;
        bh_draw_box(self, cr, layout, node, node->x + self->drag_dx, node->y + self->drag_dy, TRUE);
    }
    g_object_unref(layout);
    cairo_destroy(cr);
}

static void bh_settings_netmap_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                       int *minimum, int *natural, int *minimum_baseline,
                                       int *natural_baseline)
{
    BhSettingsNetmap *self = BH_SETTINGS_NETMAP(widget);

    *minimum = *natural = (int)ceil(orientation == GTK_ORIENTATION_HORIZONTAL ? self->width : self->height);
}

static void bh_settings_netmap_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    BhSettingsNetmap *self = BH_SETTINGS_NETMAP(widget);

    if (self->bubble != NULL)
        gtk_popover_present(GTK_POPOVER(self->bubble));
    if (self->menu != NULL)
        gtk_popover_present(GTK_POPOVER(self->menu));
}

/* ---- changing a netvm --------------------------------------------------------- */

static void bh_show_bubble(BhSettingsNetmap *self, const char *qube, const char *message)
{
    graphene_rect_t box;
    GdkRectangle at;

    g_free(self->error);
    self->error = g_strdup(message);
    if (message == NULL || !bh_settings_netmap_get_box(self, qube, &box)) {
        gtk_popover_popdown(GTK_POPOVER(self->bubble));
        return;
    }
    at = (GdkRectangle){(int)box.origin.x, (int)box.origin.y, (int)box.size.width, (int)box.size.height};
    gtk_label_set_text(GTK_LABEL(self->bubble_label), message);
    gtk_popover_set_pointing_to(GTK_POPOVER(self->bubble), &at);
    gtk_popover_popup(GTK_POPOVER(self->bubble));
}

typedef struct {
    BhSettingsNetmap *self; /* weak: a map closed meanwhile shows nothing */
    char *qube;
} BhRelink;

static void on_relinked(GObject *source, GAsyncResult *result, gpointer data)
{
    BhRelink *relink = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (reply == NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_autofree char *text = bh_settings_error_text(error);
        g_message("netvm of %s: %s", relink->qube, text);
        if (relink->self != NULL)
            bh_show_bubble(relink->self, relink->qube, text);
    }
    g_clear_weak_pointer(&relink->self);
    g_free(relink->qube);
    g_free(relink);
}

void bh_settings_netmap_relink(BhSettingsNetmap *self, const char *qube, const char *netvm)
{
    GDBusProxy *proxy = G_DBUS_PROXY(bh_settings_context_get_admin(self->context));
    BhRelink *relink = g_new0(BhRelink, 1);

    g_set_weak_pointer(&relink->self, self);
    relink->qube = g_strdup(qube);
    bh_show_bubble(self, NULL, NULL);
    if (*netvm == '\0')
        g_dbus_proxy_call(proxy, "ResetProperty", g_variant_new("(ss)", qube, "netvm"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable, on_relinked, relink);
    else
        g_dbus_proxy_call(proxy, "SetProperty", g_variant_new("(sss)", qube, "netvm", netvm),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable, on_relinked, relink);
}

/* ---- gestures ----------------------------------------------------------------- */

static void on_drag_begin(GtkGestureDrag *gesture, double x, double y, BhSettingsNetmap *self)
{
    bh_show_bubble(self, NULL, NULL);
    self->dragged = bh_hit(self, x, y);
    self->drag_x = x;
    self->drag_y = y;
    self->drag_dx = self->drag_dy = 0;
    self->dragging = FALSE;
    if (self->dragged == NULL)
        gtk_gesture_set_state(GTK_GESTURE(gesture), GTK_EVENT_SEQUENCE_DENIED);
}

static void on_drag_update(GtkGestureDrag *gesture, double dx, double dy, BhSettingsNetmap *self)
{
    if (self->dragged == NULL)
        return;
    self->drag_dx = dx;
    self->drag_dy = dy;
    if (hypot(dx, dy) >= BH_DRAG_SLOP)
        self->dragging = TRUE;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void on_drag_end(GtkGestureDrag *gesture, double dx, double dy, BhSettingsNetmap *self)
{
    BhNode *source = self->dragged, *target;
    g_autofree char *name = NULL;

    self->dragged = NULL;
    if (source == NULL)
        return;
    name = g_strdup(source->name);
    if (!self->dragging && hypot(dx, dy) < BH_DRAG_SLOP) {
        bh_settings_open(self->context, "qube", name, NULL);
        return;
    }
    self->dragging = FALSE;
    target = bh_hit(self, self->drag_x + dx, self->drag_y + dy);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    if (target != NULL && target != source)
        bh_settings_netmap_relink(self, name, target->name);
}

static void on_menu_item(GtkButton *button, BhSettingsNetmap *self)
{
    const char *qube = g_object_get_data(G_OBJECT(button), "bh-qube");
    const char *netvm = g_object_get_data(G_OBJECT(button), "bh-netvm");
    g_autofree char *q = g_strdup(qube), *n = g_strdup(netvm);

    gtk_popover_popdown(GTK_POPOVER(self->menu));
    if (n == NULL)
        bh_settings_open(self->context, "qube", q, NULL);
    else
        bh_settings_netmap_relink(self, q, n);
}

static void bh_menu_item(BhSettingsNetmap *self, GtkWidget *box, const char *text, const char *qube,
                         const char *netvm)
{
    GtkWidget *button = gtk_button_new_with_label(text);
    /* "menu-settings", "menu-netvm-" + "" / "none" / a qube: found by tests. */
    g_autofree char *name =
        netvm == NULL ? g_strdup("menu-settings") : g_strconcat("menu-netvm-", netvm, NULL);

    gtk_widget_set_name(button, name);
    gtk_widget_add_css_class(button, "flat");
    gtk_widget_set_halign(gtk_button_get_child(GTK_BUTTON(button)), GTK_ALIGN_START);
    g_object_set_data_full(G_OBJECT(button), "bh-qube", g_strdup(qube), g_free);
    g_object_set_data_full(G_OBJECT(button), "bh-netvm", g_strdup(netvm), g_free);
    g_signal_connect(button, "clicked", G_CALLBACK(on_menu_item), self);
    gtk_box_append(GTK_BOX(box), button);
}

/* The menu's most height: half its monitor, less room for the popover's
 * arrow, frame and a panel. One side of the pointer always has that much,
 * so GTK flips the menu there; past it the entries scroll. Taller, with
 * many providers, the menu ran past the screen's bottom and GTK 4.8 could
 * not fit it ("attempt to allocate GtkBox … height -1"). */
static int bh_menu_max_height(BhSettingsNetmap *self)
{
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GdkSurface *surface = native != NULL ? gtk_native_get_surface(native) : NULL;
    GdkMonitor *monitor =
        surface != NULL
            ? gdk_display_get_monitor_at_surface(gtk_widget_get_display(GTK_WIDGET(self)), surface)
            : NULL;
    GdkRectangle geometry = {0, 0, 0, 800};

    if (monitor != NULL)
        gdk_monitor_get_geometry(monitor, &geometry);
    return MAX(geometry.height / 2 - 64, 120);
}

/* On the button's release, not its press: the menu is an autohide popover,
 * which grabs the pointer when it opens. Opened while the button was still
 * down, that grab cut the press's implicit grab short, and GTK 4.8 counts
 * the widgets' :active state by the events that follow: a quick
 * right-click left the map and its window :active for good
 * (/settings/map/menu-release), and one run of settings-desktop ended in
 * GTK's "Broken accounting of active state for widget (GtkPopover)", a
 * release counted on a popover its press never reached. Opened after the
 * release, the menu's grab cuts nothing short. */
static void on_secondary(GtkGestureClick *gesture, int n_press, double x, double y, BhSettingsNetmap *self)
{
    BhNode *node = bh_hit(self, x, y);
    GtkWidget *box, *scroller;
    GdkRectangle at;

    if (node == NULL)
        return;
    box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    bh_menu_item(self, box, "Settings…", node->name, NULL);
    bh_menu_item(self, box, "Network: default", node->name, "");
    bh_menu_item(self, box, "Network: none", node->name, "none");
    for (guint i = 0; i < self->nodes->len; i++) {
        BhNode *other = self->nodes->pdata[i];
        g_autofree char *text = NULL;
        if (!other->provides || other == node)
            continue;
        text = g_strdup_printf("Network: %s", other->name);
        bh_menu_item(self, box, text, node->name, other->name);
    }
    scroller = gtk_scrolled_window_new();
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    /* A scroll bar always shown when it scrolls: the entries past the
     * bottom are not hidden from a user who never hovers it. */
    gtk_scrolled_window_set_overlay_scrolling(GTK_SCROLLED_WINDOW(scroller), FALSE);
    gtk_scrolled_window_set_propagate_natural_width(GTK_SCROLLED_WINDOW(scroller), TRUE);
    gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(scroller), TRUE);
    gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(scroller), bh_menu_max_height(self));
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), box);
    gtk_popover_set_child(GTK_POPOVER(self->menu), scroller);
    at = (GdkRectangle){(int)x, (int)y, 1, 1};
    gtk_popover_set_pointing_to(GTK_POPOVER(self->menu), &at);
    gtk_popover_popup(GTK_POPOVER(self->menu));
}

/* ---- object --------------------------------------------------------------------- */

static void bh_settings_netmap_dispose(GObject *object)
{
    BhSettingsNetmap *self = BH_SETTINGS_NETMAP(object);

    g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    bh_settings_context_release(&self->context, self);
    g_clear_pointer(&self->bubble, gtk_widget_unparent);
    g_clear_pointer(&self->menu, gtk_widget_unparent);
    g_clear_pointer(&self->by_name, g_hash_table_unref);
    g_clear_pointer(&self->nodes, g_ptr_array_unref);
    g_clear_pointer(&self->error, g_free);
    G_OBJECT_CLASS(bh_settings_netmap_parent_class)->dispose(object);
}

static void bh_settings_netmap_class_init(BhSettingsNetmapClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = bh_settings_netmap_dispose;
    widget_class->snapshot = bh_settings_netmap_snapshot;
    widget_class->measure = bh_settings_netmap_measure;
    widget_class->size_allocate = bh_settings_netmap_size_allocate;
}

static void bh_settings_netmap_init(BhSettingsNetmap *self)
{
    GtkGesture *drag = gtk_gesture_drag_new();
    GtkGesture *click = gtk_gesture_click_new();

    self->cancellable = g_cancellable_new();
    self->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)bh_node_free);
    self->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), GDK_BUTTON_PRIMARY);
    g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
    g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
    g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
    g_signal_connect(click, "released", G_CALLBACK(on_secondary), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));

    self->bubble = gtk_popover_new();
    gtk_widget_add_css_class(self->bubble, "bh-bubble");
    self->bubble_label = gtk_label_new(NULL);
    gtk_widget_set_name(self->bubble_label, "map-error");
    gtk_widget_add_css_class(self->bubble_label, "bh-error");
    gtk_label_set_wrap(GTK_LABEL(self->bubble_label), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(self->bubble_label), 50);
    gtk_popover_set_child(GTK_POPOVER(self->bubble), self->bubble_label);
    /* Not autohide: an autohide popover takes the pointer, and the next drag
     * would only close it. It closes at the next press on the map. */
    gtk_popover_set_autohide(GTK_POPOVER(self->bubble), FALSE);
    gtk_widget_set_parent(self->bubble, GTK_WIDGET(self));
    self->menu = gtk_popover_new();
    gtk_widget_set_parent(self->menu, GTK_WIDGET(self));
}

BhSettingsNetmap *bh_settings_netmap_new(BhSettingsContext *context)
{
    BhSettingsNetmap *self = g_object_new(BH_TYPE_SETTINGS_NETMAP, NULL);

    self->context = g_object_ref(context);
    gtk_widget_set_name(GTK_WIDGET(self), "map");
    g_signal_connect_swapped(bh_settings_context_get_qubes(context), "changed", G_CALLBACK(bh_layout), self);
    bh_layout(self);
    return self;
}

GtkWindow *bh_settings_netmap_window_new(BhSettingsContext *context)
{
    GtkWidget *window = gtk_window_new();
    GtkWidget *scrolled = gtk_scrolled_window_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *hint =
        gtk_label_new("Drag a qube onto another to make it its network; right-click for a menu; "
                      "click to open its settings.");

    gtk_window_set_title(GTK_WINDOW(window), "Network map");
    gtk_widget_add_css_class(hint, "bh-form");
    gtk_label_set_xalign(GTK_LABEL(hint), 0);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), GTK_WIDGET(bh_settings_netmap_new(context)));
    gtk_widget_set_vexpand(scrolled, TRUE);
    gtk_box_append(GTK_BOX(box), hint);
    gtk_box_append(GTK_BOX(box), scrolled);
    gtk_window_set_child(GTK_WINDOW(window), box);
    gtk_window_set_default_size(GTK_WINDOW(window), 1180, 720);
    return GTK_WINDOW(window);
}

gboolean bh_settings_netmap_get_box(BhSettingsNetmap *self, const char *qube, graphene_rect_t *box)
{
    BhNode *node = qube != NULL ? g_hash_table_lookup(self->by_name, qube) : NULL;

    if (node == NULL)
        return FALSE;
    graphene_rect_init(box, node->x, node->y, self->box_w, BH_BOX_H);
    return TRUE;
}

const char *bh_settings_netmap_get_error(BhSettingsNetmap *self)
{
    return self->error;
}

guint bh_settings_netmap_get_layouts(BhSettingsNetmap *self)
{
    return self->layouts;
}

gboolean bh_settings_netmap_text_fits(BhSettingsNetmap *self, const char *qube)
{
    BhNode *node = qube != NULL ? g_hash_table_lookup(self->by_name, qube) : NULL;

    return node != NULL && bh_text_width(self, node) <= self->box_w - BH_BOX_PAD;
}
