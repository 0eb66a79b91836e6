/* bh-ask-window.c — the ask dialog's window (see the header).
 *
 * The focus rule is against click-jacking: a qube can make the user click
 * or press Enter at a moment of its choosing; a dialog that appears under
 * the pointer must not take that click. So OK works only once the dialog
 * has been the active window for a whole second, and losing the focus
 * starts the second again.
 *
 * GTK's is-active alone is not enough on X: with the pointer resting over
 * the dialog, GDK can keep counting it as focused (X pointer focus) after the
 * window manager gave the focus to another window (seen under openbox). So
 * the dialog also asks the X server who has the input focus, every
 * BH_ASK_FOCUS_POLL_MS and again at each OK or Enter. */
#include "bh-ask-window.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

#define BH_ASK_FOCUS_POLL_MS 40

struct _BhAskWindow {
    GtkWindow parent;
    BhAskRequest *request;
    GtkWidget *badge; /* template children (bh-ask-window.ui) */
    GtkWidget *what;
    GtkWidget *search;
    GtkWidget *list;
    GtkWidget *countdown;
    GtkWidget *cancel;
    GtkWidget *ok;
    guint focus_timer; /* the poll of who has the focus */
    guint tick_timer;
    guint seconds_left;
    gint64 focused_since; /* monotonic µs; 0 while it does not have the focus */
    gboolean focused_long_enough;
    gboolean done;
};

G_DEFINE_FINAL_TYPE(BhAskWindow, bh_ask_window, GTK_TYPE_WINDOW)

enum { SIGNAL_DONE, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *row_target(GtkListBoxRow *row)
{
    return row ? g_object_get_data(G_OBJECT(row), "bh-target") : NULL;
}

static void finish(BhAskWindow *self, const char *target)
{
    if (self->done)
        return;
    self->done = TRUE;
    g_clear_handle_id(&self->focus_timer, g_source_remove);
    g_clear_handle_id(&self->tick_timer, g_source_remove);
    g_signal_emit(self, signals[SIGNAL_DONE], 0, target);
}

static void on_cancel(BhAskWindow *self)
{
    finish(self, NULL);
}

static GtkListBoxRow *chosen_row(BhAskWindow *self)
{
    GtkListBoxRow *row = gtk_list_box_get_selected_row(GTK_LIST_BOX(self->list));
    return row && gtk_widget_get_child_visible(GTK_WIDGET(row)) ? row : NULL;
}

static void update_ok(BhAskWindow *self)
{
    /* After the answer the window goes away: focus and selection changes
     * during its teardown mean nothing (and its children may be gone). */
    if (self->done || !self->list)
        return;
    gtk_widget_set_sensitive(self->ok, self->focused_long_enough && chosen_row(self) != NULL);
}

static void check_focus(BhAskWindow *self);

static void try_ok(BhAskWindow *self)
{
    GtkListBoxRow *row = chosen_row(self);
    /* Enter and a click on OK go through here: both wait for the focus time,
     * checked now (a poll may not have run since the focus came back). */
    check_focus(self);
    if (!self->focused_long_enough || !row) {
        g_debug("OK refused: %s",
                row ? "the dialog has not had the focus for long enough" : "no target chosen");
        return;
    }
    finish(self, row_target(row));
}

/* Whether the X server's input focus is this window (TRUE off X: GTK's word
 * is all there is there). */
static gboolean x_has_focus(BhAskWindow *self)
{
#ifdef GDK_WINDOWING_X11
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(self));
    GdkDisplay *display = gtk_widget_get_display(GTK_WIDGET(self));
    if (surface == NULL || !GDK_IS_X11_DISPLAY(display))
        return TRUE;
    Display *xdpy = gdk_x11_display_get_xdisplay(display);
    Window self_xid = gdk_x11_surface_get_xid(surface);
    Window w = None;
    int revert = 0;
    XGetInputFocus(xdpy, &w, &revert);
    /* The focus may sit on a window of GDK's inside ours: walk up a little. */
    for (int depth = 0; depth < 8 && w != None && w != PointerRoot; depth++) {
        if (w == self_xid)
            return TRUE;
        Window root = None, parent = None, *children = NULL;
        unsigned n = 0;
        if (!XQueryTree(xdpy, w, &root, &parent, &children, &n))
            return FALSE;
        if (children)
            XFree(children);
        if (parent == root)
            return FALSE;
        w = parent;
    }
    return FALSE;
#else
    (void)self;
    return TRUE;
#endif
}

/* Above every ordinary window, a qube's included: a window a qube maps
 * while the dialog is open would otherwise be stacked on top of it (a new
 * window goes on top) and could hide it or show a look-alike in its place.
 * GTK 4 has no keep-above, so the EWMH request goes to the window manager
 * by hand, once the window is mapped (a window manager reads a client
 * message only for a window it manages). Off X there is nothing to ask. */
static void keep_above(BhAskWindow *self)
{
#ifdef GDK_WINDOWING_X11
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(self));
    GdkDisplay *display = gtk_widget_get_display(GTK_WIDGET(self));
    if (surface == NULL || !GDK_IS_X11_DISPLAY(display))
        return;
    Display *xdpy = gdk_x11_display_get_xdisplay(display);
    XEvent ev = {0};
    ev.xclient.type = ClientMessage;
    ev.xclient.window = gdk_x11_surface_get_xid(surface);
    ev.xclient.message_type = gdk_x11_get_xatom_by_name_for_display(display, "_NET_WM_STATE");
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = 1; /* _NET_WM_STATE_ADD */
    ev.xclient.data.l[1] = (long)gdk_x11_get_xatom_by_name_for_display(display, "_NET_WM_STATE_ABOVE");
    ev.xclient.data.l[3] = 1; /* from an application */
    XSendEvent(xdpy, DefaultRootWindow(xdpy), False, SubstructureRedirectMask | SubstructureNotifyMask, &ev);
    XFlush(xdpy);
#else
    (void)self;
#endif
}

static void bh_ask_window_map(GtkWidget *widget)
{
    GTK_WIDGET_CLASS(bh_ask_window_parent_class)->map(widget);
    keep_above(BH_ASK_WINDOW(widget));
}

/* Brings focused_since and focused_long_enough up to date. */
static void check_focus(BhAskWindow *self)
{
    if (self->done)
        return;
    gboolean focused = gtk_window_is_active(GTK_WINDOW(self)) && x_has_focus(self);
    gint64 now = g_get_monotonic_time();
    if (!focused)
        self->focused_since = 0;
    else if (self->focused_since == 0)
        self->focused_since = now;
    gboolean enough =
        self->focused_since != 0 && now - self->focused_since >= (gint64)self->request->focus_ms * 1000;
    if (enough != self->focused_long_enough) {
        self->focused_long_enough = enough;
        update_ok(self);
    }
}

static gboolean focus_poll(gpointer data)
{
    check_focus(data);
    return G_SOURCE_CONTINUE;
}

static void on_active(BhAskWindow *self)
{
    check_focus(self);
}

static void show_countdown(BhAskWindow *self)
{
    g_autofree char *text = g_strdup_printf("Denied in %u s unless you choose.", self->seconds_left);
    gtk_label_set_text(GTK_LABEL(self->countdown), text);
}

static gboolean tick(gpointer data)
{
    BhAskWindow *self = data;
    if (--self->seconds_left == 0) {
        self->tick_timer = 0;
        finish(self, NULL);
        return G_SOURCE_REMOVE;
    }
    show_countdown(self);
    return G_SOURCE_CONTINUE;
}

static gboolean filter_row(GtkListBoxRow *row, gpointer data)
{
    BhAskWindow *self = data;
    const char *typed = gtk_editable_get_text(GTK_EDITABLE(self->search));
    g_autofree char *words = bh_ask_target_words(row_target(row));
    return bh_ask_matches(row_target(row), typed) || bh_ask_matches(words, typed);
}

/* Typing keeps a visible row chosen: the first one when the chosen one is
 * filtered away. */
static void on_search_changed(BhAskWindow *self)
{
    gtk_list_box_invalidate_filter(GTK_LIST_BOX(self->list));
    if (chosen_row(self))
        goto out;
    for (int i = 0;; i++) {
        GtkListBoxRow *row = gtk_list_box_get_row_at_index(GTK_LIST_BOX(self->list), i);
        if (!row) {
            gtk_list_box_unselect_all(GTK_LIST_BOX(self->list));
            break;
        }
        if (filter_row(row, self)) {
            gtk_list_box_select_row(GTK_LIST_BOX(self->list), row);
            break;
        }
    }
out:
    update_ok(self);
}

static void move_selection(BhAskWindow *self, int step)
{
    GtkListBoxRow *row = chosen_row(self);
    int i = row ? gtk_list_box_row_get_index(row) : -1;
    for (i += step; i >= 0; i += step) {
        GtkListBoxRow *next = gtk_list_box_get_row_at_index(GTK_LIST_BOX(self->list), i);
        if (!next)
            break;
        if (filter_row(next, self)) {
            gtk_list_box_select_row(GTK_LIST_BOX(self->list), next);
            break;
        }
    }
    update_ok(self);
}

static gboolean on_key(GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
                       gpointer data)
{
    BhAskWindow *self = data;
    switch (keyval) {
    case GDK_KEY_Escape:
        finish(self, NULL);
        return TRUE;
    case GDK_KEY_Down:
        move_selection(self, 1);
        return TRUE;
    case GDK_KEY_Up:
        move_selection(self, -1);
        return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
        try_ok(self);
        return TRUE;
    default:
        return FALSE;
    }
}

static void on_row_activated(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
    try_ok(data);
}

static gboolean on_close_request(GtkWindow *w)
{
    finish(BH_ASK_WINDOW(w), NULL);
    return FALSE;
}

static void style_badge(GtkWidget *badge, const BhLabel *label, const char *name)
{
    /* Only a validated name and a colour from the label table become CSS. */
    g_autofree char *css =
        g_strdup_printf(".bh-ask-source { background: %s; color: #%06x; padding: 4px 10px; "
                        "border-radius: 4px; font-weight: bold; }",
                        label->hex, bh_label_text_rgb(label));
    g_autoptr(GtkCssProvider) provider = gtk_css_provider_new();
    gtk_css_provider_load_from_data(provider, css, -1);
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(provider),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    gtk_label_set_text(GTK_LABEL(badge), name);
}

/* One target's row: a swatch in its label's colour (when bulkheadd gave
 * one) and the target in the user's words. The colour comes only from the
 * label table, the words from a checked target. */
static GtkWidget *target_row(const char *target, const BhLabel *label)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_set_margin_start(box, 6);
    gtk_widget_set_margin_top(box, 4);
    gtk_widget_set_margin_bottom(box, 4);
    GtkWidget *swatch = gtk_label_new(NULL);
    gtk_widget_set_size_request(swatch, 14, 14);
    gtk_widget_set_valign(swatch, GTK_ALIGN_CENTER);
    if (label) {
        g_autofree char *cls = g_strdup_printf("bh-ask-target-%s", label->name);
        g_autofree char *css =
            g_strdup_printf(".%s { background: %s; border-radius: 3px; }", cls, label->hex);
        g_autoptr(GtkCssProvider) provider = gtk_css_provider_new();
        gtk_css_provider_load_from_data(provider, css, -1);
        gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(provider),
                                                   GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
        gtk_widget_add_css_class(swatch, cls);
        gtk_widget_set_tooltip_text(swatch, label->name);
    }
    gtk_box_append(GTK_BOX(box), swatch);
    g_autofree char *words = bh_ask_target_words(target);
    GtkWidget *text = gtk_label_new(words);
    gtk_label_set_xalign(GTK_LABEL(text), 0);
    gtk_box_append(GTK_BOX(box), text);
    return box;
}

static void bh_ask_window_dispose(GObject *object)
{
    BhAskWindow *self = BH_ASK_WINDOW(object);
    g_clear_handle_id(&self->focus_timer, g_source_remove);
    g_clear_handle_id(&self->tick_timer, g_source_remove);
    gtk_widget_dispose_template(GTK_WIDGET(self), BH_TYPE_ASK_WINDOW);
    G_OBJECT_CLASS(bh_ask_window_parent_class)->dispose(object);
}

static void bh_ask_window_finalize(GObject *object)
{
    bh_ask_request_free(BH_ASK_WINDOW(object)->request);
    G_OBJECT_CLASS(bh_ask_window_parent_class)->finalize(object);
}

static void bh_ask_window_class_init(BhAskWindowClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_ask_window_dispose;
    G_OBJECT_CLASS(klass)->finalize = bh_ask_window_finalize;
    GTK_WINDOW_CLASS(klass)->close_request = on_close_request;
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    widget_class->map = bh_ask_window_map;
    gtk_widget_class_set_template_from_resource(widget_class, "/org/bulkhead/ask/bh-ask-window.ui");
    gtk_widget_class_bind_template_child(widget_class, BhAskWindow, badge);
    gtk_widget_class_bind_template_child(widget_class, BhAskWindow, what);
    gtk_widget_class_bind_template_child(widget_class, BhAskWindow, search);
    gtk_widget_class_bind_template_child(widget_class, BhAskWindow, list);
    gtk_widget_class_bind_template_child(widget_class, BhAskWindow, countdown);
    gtk_widget_class_bind_template_child(widget_class, BhAskWindow, cancel);
    gtk_widget_class_bind_template_child(widget_class, BhAskWindow, ok);
    signals[SIGNAL_DONE] = g_signal_new("done", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                        NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void bh_ask_window_init(BhAskWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}

BhAskWindow *bh_ask_window_new(BhAskRequest *request)
{
    BhAskWindow *self = g_object_new(BH_TYPE_ASK_WINDOW, NULL);
    self->request = request;
    g_autofree char *title = g_strdup_printf("Bulkhead: %s asks to %s", request->source, request->service);
    gtk_window_set_title(GTK_WINDOW(self), title);
    style_badge(self->badge, request->source_label, request->source);
    g_autofree char *words = g_strdup_printf("asks to %s. Where to?", request->service);
    gtk_label_set_text(GTK_LABEL(self->what), words);

    GtkListBoxRow *preselect = NULL;
    for (guint i = 0; i < request->targets->len; i++) {
        const char *t = request->targets->pdata[i];
        gtk_list_box_append(GTK_LIST_BOX(self->list), target_row(t, request->target_labels->pdata[i]));
        GtkListBoxRow *row = gtk_list_box_get_row_at_index(GTK_LIST_BOX(self->list), (int)i);
        g_object_set_data_full(G_OBJECT(row), "bh-target", g_strdup(t), g_free);
        if (request->default_target && g_str_equal(t, request->default_target))
            preselect = row;
    }
    gtk_list_box_set_filter_func(GTK_LIST_BOX(self->list), filter_row, self, NULL);
    if (preselect)
        gtk_list_box_select_row(GTK_LIST_BOX(self->list), preselect);

    g_signal_connect_swapped(self->cancel, "clicked", G_CALLBACK(on_cancel), self);
    g_signal_connect_swapped(self->ok, "clicked", G_CALLBACK(try_ok), self);
    g_signal_connect_swapped(self->search, "search-changed", G_CALLBACK(on_search_changed), self);
    g_signal_connect_swapped(self->search, "activate", G_CALLBACK(try_ok), self);
    g_signal_connect(self->list, "row-activated", G_CALLBACK(on_row_activated), self);
    g_signal_connect_swapped(self->list, "selected-rows-changed", G_CALLBACK(update_ok), self);
    g_signal_connect(self, "notify::is-active", G_CALLBACK(on_active), NULL);
    self->focus_timer = g_timeout_add(BH_ASK_FOCUS_POLL_MS, focus_poll, self);
    GtkEventController *keys = gtk_event_controller_key_new();
    gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_key), self);
    gtk_widget_add_controller(GTK_WIDGET(self), keys);

    self->seconds_left = request->timeout_s;
    show_countdown(self);
    self->tick_timer = g_timeout_add_seconds(1, tick, self);
    gtk_widget_grab_focus(self->search);
    return self;
}
