/* bh-shell-panel.c — the panel window (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-panel.h"

#include "bh-shell-clipboard.h"
#include "bh-shell-domains.h"
#include "bh-shell-menu.h"
#include "bh-shell-windows.h"

#ifdef GDK_WINDOWING_X11
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <gdk/x11/gdkx.h>
#endif

struct _BhShellPanel {
    GtkApplicationWindow parent_instance;
    GtkWidget *menu_button;
    GtkWidget *domains_slot;
    GtkWidget *windows_slot;
    GtkWidget *clipboard_slot;
    GtkWidget *note;
    GtkWidget *clock;
    GtkWidget *menu;
    guint clock_id;
    gboolean docked;
    GdkRectangle area;           /* the monitor the panel spans */
    GdkMonitor *monitor;         /* that monitor, followed (its geometry); NULL: none */
    GListModel *monitors;        /* the display's, followed (monitors come and go) */
    int randr_event_base;        /* X11: RandR's first event code; -1: no RandR */
    guint primary_id;            /* idle: read the primary monitor again */
    unsigned long workarea_atom; /* X11: _NET_WORKAREA; 0: not followed */
    guint refit_id;              /* idle: lay out again for a new work area */
    guint drop_focus_id;         /* idle: no focus widget once the menu closed */
};

G_DEFINE_FINAL_TYPE(BhShellPanel, bh_shell_panel, GTK_TYPE_APPLICATION_WINDOW)

enum { BH_PANEL_AREA_CHANGED, BH_PANEL_N_SIGNALS };
static guint bh_panel_signals[BH_PANEL_N_SIGNALS];

static void on_monitor_geometry(GdkMonitor *monitor, GParamSpec *pspec, BhShellPanel *self);
static void on_monitors_changed(GListModel *monitors, guint position, guint removed, guint added,
                                BhShellPanel *self);
#ifdef GDK_WINDOWING_X11
static gboolean on_xevent(GdkX11Display *display, const XEvent *event, BhShellPanel *self);
#endif

static gboolean tick(gpointer data)
{
    BhShellPanel *self = data;
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *text = g_date_time_format(now, "%a %e %b  %H:%M");

    gtk_label_set_text(GTK_LABEL(self->clock), text);
    g_debug("clock: %s", text);
    /* Wake at the next minute, not every second: an idle desktop stays idle. */
    self->clock_id = g_timeout_add_seconds(60 - g_date_time_get_second(now), tick, self);
    return G_SOURCE_REMOVE;
}

#ifdef GDK_WINDOWING_X11
static void place_x11(BhShellPanel *self, GdkSurface *surface);

static void set_atoms(Display *dpy, Window xid, const char *property, const char *const *values, int n)
{
    Atom atoms[4];

    for (int i = 0; i < n && i < 4; i++)
        atoms[i] = XInternAtom(dpy, values[i], False);
    XChangeProperty(dpy, xid, XInternAtom(dpy, property, False), XA_ATOM, 32, PropModeReplace,
                    (unsigned char *)atoms, n);
}

/* Before the window is mapped, so the window manager reads a dock when it
 * first sees it. The strut reserves the panel's height along the top of its
 * monitor only (the _PARTIAL form), in root-window coordinates. */
static void dock_x11(BhShellPanel *self, GdkSurface *surface)
{
    Display *dpy = gdk_x11_display_get_xdisplay(gdk_surface_get_display(surface));
    Window xid = gdk_x11_surface_get_xid(surface);
    const char *const type[] = {"_NET_WM_WINDOW_TYPE_DOCK"};
    const char *const state[] = {"_NET_WM_STATE_STICKY", "_NET_WM_STATE_ABOVE"};
    long all_desktops = 0xFFFFFFFF;

    set_atoms(dpy, xid, "_NET_WM_WINDOW_TYPE", type, 1);
    set_atoms(dpy, xid, "_NET_WM_STATE", state, 2);
    XChangeProperty(dpy, xid, XInternAtom(dpy, "_NET_WM_DESKTOP", False), XA_CARDINAL, 32, PropModeReplace,
                    (unsigned char *)&all_desktops, 1);
    place_x11(self, surface);
    self->docked = TRUE;
}

/* The strut and the position for self->area: at realize, and again when the
 * monitor changes (the window manager reads both again on a change). */
static void place_x11(BhShellPanel *self, GdkSurface *surface)
{
    Display *dpy = gdk_x11_display_get_xdisplay(gdk_surface_get_display(surface));
    Window xid = gdk_x11_surface_get_xid(surface);
    long strut[12] = {0};

    strut[2] = self->area.y + BH_SHELL_PANEL_HEIGHT; /* top */
    strut[8] = self->area.x;                         /* top_start_x */
    strut[9] = self->area.x + self->area.width - 1;  /* top_end_x */
    XChangeProperty(dpy, xid, XInternAtom(dpy, "_NET_WM_STRUT_PARTIAL", False), XA_CARDINAL, 32,
                    PropModeReplace, (unsigned char *)strut, 12);
    XChangeProperty(dpy, xid, XInternAtom(dpy, "_NET_WM_STRUT", False), XA_CARDINAL, 32, PropModeReplace,
                    (unsigned char *)strut, 4);
    /* Docks are placed where they ask to be; GTK 4 has no call for a
     * position, so ask through X directly (and in the size hints, which is
     * what window managers read at map time). */
    XSizeHints hints = {0};
    hints.flags = USPosition | PPosition;
    hints.x = self->area.x;
    hints.y = self->area.y;
    XSetWMNormalHints(dpy, xid, &hints);
    XMoveWindow(dpy, xid, self->area.x, self->area.y);
}
#endif

static void on_realize(GtkWidget *widget, gpointer data)
{
    BhShellPanel *self = BH_SHELL_PANEL(widget);
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(widget));

#ifdef GDK_WINDOWING_X11
    if (GDK_IS_X11_SURFACE(surface)) {
        dock_x11(self, surface);
        return;
    }
#endif
    (void)surface;
    gtk_label_set_text(GTK_LABEL(self->note),
                       "not docked: a panel with a strut needs X11 (this is a normal window)");
    gtk_widget_set_visible(self->note, TRUE);
}

#ifdef GDK_WINDOWING_X11
/* GDK resets the size hints when it computes the window's geometry; a
 * window manager that reads them after the map still finds the position. */
static void on_map(GtkWidget *widget, gpointer data)
{
    BhShellPanel *self = BH_SHELL_PANEL(widget);
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(widget));

    if (!GDK_IS_X11_SURFACE(surface))
        return;
    XMoveWindow(gdk_x11_display_get_xdisplay(gdk_surface_get_display(surface)),
                gdk_x11_surface_get_xid(surface), self->area.x, self->area.y);
}
#endif

/* GTK puts the keyboard back on the menu button when the menu closes. A
 * qube's window started from the menu does not get the focus (guid lets a
 * qube's window take it only while the user works in that qube), so the
 * keys typed next for it came here, and the first Space or Return pressed
 * the button: the menu opened again and took the rest of the line into its
 * search. With no focus widget such keys do nothing; the menu key, a click
 * on the new window or on its button in the window list still work. */
static gboolean drop_focus(gpointer data)
{
    BhShellPanel *self = data;

    self->drop_focus_id = 0;
    if (!gtk_widget_get_visible(self->menu))
        gtk_window_set_focus(GTK_WINDOW(self), NULL);
    return G_SOURCE_REMOVE;
}

static void on_menu_closed(GtkPopover *menu, BhShellPanel *self)
{
    gtk_window_set_focus(GTK_WINDOW(self), NULL);
    /* And again once GTK has finished closing (it may focus the button
     * after "closed"). */
    if (self->drop_focus_id == 0)
        self->drop_focus_id = g_idle_add(drop_focus, self);
}

void bh_shell_panel_open_menu(BhShellPanel *self, guint32 time)
{
    /* The key's own time: the window manager gives the focus to a window
     * presented with the time of a user's key press (a key grabbed on the
     * root never reaches GDK, so GDK's last user time would be older than
     * the focused window's and the focus would stay there). */
    gtk_window_present_with_time(GTK_WINDOW(self), time);
    gtk_menu_button_popup(GTK_MENU_BUTTON(self->menu_button));
}

void bh_shell_panel_toggle_menu(BhShellPanel *self, guint32 time)
{
    if (gtk_widget_get_visible(self->menu))
        gtk_popover_popdown(GTK_POPOVER(self->menu));
    else
        bh_shell_panel_open_menu(self, time);
}

void bh_shell_panel_get_area(BhShellPanel *self, GdkRectangle *area)
{
    *area = self->area;
}

gboolean bh_shell_panel_is_docked(BhShellPanel *self)
{
    return self->docked;
}

static void bh_shell_panel_dispose(GObject *object)
{
    BhShellPanel *self = BH_SHELL_PANEL(object);

    g_clear_handle_id(&self->clock_id, g_source_remove);
    if (self->monitor != NULL)
        g_signal_handlers_disconnect_by_func(self->monitor, on_monitor_geometry, self);
    g_clear_object(&self->monitor);
    if (self->monitors != NULL)
        g_signal_handlers_disconnect_by_func(self->monitors, on_monitors_changed, self);
    g_clear_object(&self->monitors);
    g_clear_handle_id(&self->primary_id, g_source_remove);
    g_clear_handle_id(&self->refit_id, g_source_remove);
    g_clear_handle_id(&self->drop_focus_id, g_source_remove);
#ifdef GDK_WINDOWING_X11
    g_signal_handlers_disconnect_by_func(gtk_widget_get_display(GTK_WIDGET(self)), on_xevent, self);
#endif
    gtk_widget_dispose_template(GTK_WIDGET(self), BH_TYPE_SHELL_PANEL);
    G_OBJECT_CLASS(bh_shell_panel_parent_class)->dispose(object);
}

static void bh_shell_panel_class_init(BhShellPanelClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = bh_shell_panel_dispose;
    bh_panel_signals[BH_PANEL_AREA_CHANGED] = g_signal_new(
        "area-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    gtk_widget_class_set_template_from_resource(widget_class, "/org/bulkhead/shell/bh-shell-panel.ui");
    gtk_widget_class_bind_template_child(widget_class, BhShellPanel, menu_button);
    gtk_widget_class_bind_template_child(widget_class, BhShellPanel, domains_slot);
    gtk_widget_class_bind_template_child(widget_class, BhShellPanel, windows_slot);
    gtk_widget_class_bind_template_child(widget_class, BhShellPanel, clipboard_slot);
    gtk_widget_class_bind_template_child(widget_class, BhShellPanel, note);
    gtk_widget_class_bind_template_child(widget_class, BhShellPanel, clock);
}

static void bh_shell_panel_init(BhShellPanel *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    g_signal_connect(self, "realize", G_CALLBACK(on_realize), NULL);
#ifdef GDK_WINDOWING_X11
    g_signal_connect(self, "map", G_CALLBACK(on_map), NULL);
#endif
}

/* The panel's monitor: on X11 RandR's primary one (GDK keeps the list in
 * the order monitors came, so the first is not the primary once the user
 * chose another), elsewhere the first; NULL when there is none. */
static GdkMonitor *panel_monitor(BhShellPanel *self)
{
#ifdef GDK_WINDOWING_X11
    GdkDisplay *display = gtk_widget_get_display(GTK_WIDGET(self));

    if (GDK_IS_X11_DISPLAY(display)) {
        GdkMonitor *primary = gdk_x11_display_get_primary_monitor(display);

        if (primary != NULL)
            return g_object_ref(primary);
    }
#endif
    return g_list_model_get_item(self->monitors, 0);
}

/* One panel, on the primary monitor; a panel per monitor is a choice
 * docs/shell.md explains. It follows that monitor: a new size (a resolution
 * change, a resized nested X server), another primary, or the monitor gone
 * moves the strut, the position and the width. */
static void follow_area(BhShellPanel *self)
{
    g_autoptr(GdkMonitor) first = panel_monitor(self);
    GdkRectangle was = self->area;

    if (first != self->monitor) {
        if (self->monitor != NULL)
            g_signal_handlers_disconnect_by_func(self->monitor, on_monitor_geometry, self);
        g_set_object(&self->monitor, first);
        if (first != NULL)
            g_signal_connect(first, "notify::geometry", G_CALLBACK(on_monitor_geometry), self);
    }
    self->area = (GdkRectangle){0, 0, 1024, BH_SHELL_PANEL_HEIGHT};
    if (self->monitor != NULL)
        gdk_monitor_get_geometry(self->monitor, &self->area);
    if (gdk_rectangle_equal(&was, &self->area))
        return;
    g_info("the panel spans %dx%d+%d+%d", self->area.width, self->area.height, self->area.x, self->area.y);
    g_signal_emit(self, bh_panel_signals[BH_PANEL_AREA_CHANGED], 0);
    gtk_window_set_default_size(GTK_WINDOW(self), self->area.width, BH_SHELL_PANEL_HEIGHT);
#ifdef GDK_WINDOWING_X11
    if (self->docked)
        place_x11(self, gtk_native_get_surface(GTK_NATIVE(self)));
#endif
}

static void on_monitor_geometry(GdkMonitor *monitor, GParamSpec *pspec, BhShellPanel *self)
{
    follow_area(self);
}

static void on_monitors_changed(GListModel *monitors, guint position, guint removed, guint added,
                                BhShellPanel *self)
{
    follow_area(self);
}

#ifdef GDK_WINDOWING_X11
/* GDK bounds a window's size by the work area the window manager publishes
 * (_NET_WORKAREA). When the screen grows, the panel asks for the new width
 * at once, and that can come before the window manager has read the new
 * monitor and written a wider work area: GTK then lays the panel out at the
 * old width, and nothing asks again (in CI under load: the panel stayed
 * 1024 px wide on a 1280 px screen, its strut right). So a new work area
 * lays out a panel that is not as wide as its monitor again, with the bound
 * read anew. */
static gboolean refit(gpointer data)
{
    BhShellPanel *self = data;
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(self));

    self->refit_id = 0;
    if (!self->docked || surface == NULL || gdk_surface_get_width(surface) == self->area.width)
        return G_SOURCE_REMOVE;
    g_info("the panel is %d px wide, its monitor %d px: asking again for the new work area",
           gdk_surface_get_width(surface), self->area.width);
    gtk_window_set_default_size(GTK_WINDOW(self), self->area.width, BH_SHELL_PANEL_HEIGHT);
    return G_SOURCE_REMOVE;
}

static gboolean primary_again(gpointer data)
{
    BhShellPanel *self = data;

    self->primary_id = 0;
    follow_area(self);
    return G_SOURCE_REMOVE;
}

/* Another primary changes no monitor's geometry and no list: GDK only reads
 * it again at RandR's screen-change event, which it selects on the root.
 * This handler runs before GDK's, so the primary is read in an idle after. */
static gboolean on_xevent(GdkX11Display *display, const XEvent *event, BhShellPanel *self)
{
    if (self->randr_event_base >= 0 && event->type == self->randr_event_base /* RRScreenChangeNotify */ &&
        self->primary_id == 0)
        self->primary_id = g_idle_add(primary_again, self);
    if (event->type == PropertyNotify && event->xproperty.atom == self->workarea_atom &&
        event->xproperty.window == DefaultRootWindow(event->xproperty.display) && self->refit_id == 0)
        self->refit_id = g_idle_add(refit, self);
    return GDK_EVENT_PROPAGATE;
}

/* A change of _NET_WORKAREA is a PropertyNotify on the root: select those
 * without dropping what GDK selected there. */
static void follow_workarea(BhShellPanel *self, Display *dpy)
{
    Window root = DefaultRootWindow(dpy);
    XWindowAttributes attrs;

    if (!XGetWindowAttributes(dpy, root, &attrs))
        return;
    self->workarea_atom = XInternAtom(dpy, "_NET_WORKAREA", False);
    XSelectInput(dpy, root, attrs.your_event_mask | PropertyChangeMask);
}
#endif

BhShellPanel *bh_shell_panel_new(GtkApplication *app, BhShellQubes *qubes)
{
    BhShellPanel *self = g_object_new(BH_TYPE_SHELL_PANEL, "application", app, NULL);

    self->monitors = g_object_ref(gdk_display_get_monitors(gtk_widget_get_display(GTK_WIDGET(self))));
    g_signal_connect(self->monitors, "items-changed", G_CALLBACK(on_monitors_changed), self);
    self->randr_event_base = -1;
#ifdef GDK_WINDOWING_X11
    GdkDisplay *display = gtk_widget_get_display(GTK_WIDGET(self));
    int opcode, event_base, error_base;

    if (GDK_IS_X11_DISPLAY(display)) {
        Display *dpy = gdk_x11_display_get_xdisplay(display);

        if (XQueryExtension(dpy, "RANDR", &opcode, &event_base, &error_base))
            self->randr_event_base = event_base;
        follow_workarea(self, dpy);
        g_signal_connect(display, "xevent", G_CALLBACK(on_xevent), self);
    }
#endif
    follow_area(self);
    gtk_window_set_default_size(GTK_WINDOW(self), self->area.width, BH_SHELL_PANEL_HEIGHT);
    gtk_box_append(GTK_BOX(self->domains_slot), bh_shell_domains_new(qubes));
    gtk_box_append(GTK_BOX(self->windows_slot), bh_shell_windows_new(qubes));
    gtk_box_append(GTK_BOX(self->clipboard_slot), bh_shell_clipboard_new(qubes));
    self->menu = bh_shell_menu_new(qubes);
    gtk_menu_button_set_popover(GTK_MENU_BUTTON(self->menu_button), self->menu);
    g_signal_connect_after(self->menu, "closed", G_CALLBACK(on_menu_closed), self);
    tick(self);
    return self;
}
