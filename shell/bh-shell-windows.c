/* bh-shell-windows.c — the panel's window list (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-windows.h"

#include "bh-shell-title.h"

#include <string.h>

#ifdef GDK_WINDOWING_X11
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <gdk/x11/gdkx.h>
#endif

/* A panel has room for so many; more windows are counted, not shown. */
#define BH_WINDOWS_MAX 48
/* Titles are read up to this many bytes (guid caps them lower anyway). */
#define BH_WINDOWS_TITLE_MAX 512
/* How long after a launch the qube's first new window may take the focus:
 * a start of the qube and its netvm chain, on a loaded machine. */
#define BH_WINDOWS_LAUNCH_FOCUS_S 30

struct _BhShellWindows {
    GtkBox parent_instance;
    BhShellQubes *qubes;
    GdkDisplay *display;
    guint refresh_id;
    GHashTable *watched; /* X window ids whose PropertyNotify we selected */
    /* The last launch the user asked for (BhShellQubes "launched"): its
     * qube's first new window gets the focus if it comes in time and the
     * user has not activated another window meanwhile. */
    char *launch_qube;       /* NULL: none pending */
    gint64 launch_until;     /* monotonic µs */
    gulong launch_active;    /* _NET_ACTIVE_WINDOW when it was asked */
    GHashTable *launch_seen; /* that qube's windows then (X ids) */
};

G_DEFINE_FINAL_TYPE(BhShellWindows, bh_shell_windows, GTK_TYPE_BOX)

#ifdef GDK_WINDOWING_X11

typedef struct {
    Window xid;
    char *qube; /* NULL: dom0 */
    char *title;
} BhWin;

static void bh_win_free(gpointer data)
{
    BhWin *win = data;

    g_free(win->qube);
    g_free(win->title);
    g_free(win);
}

/* A property's bytes, at most max of them; NULL when absent or of another
 * type. Callers trap X errors (the window may be gone). */
static guchar *get_property(Display *dpy, Window xid, Atom property, Atom type, long max_longs,
                            int want_format, gulong *n_items)
{
    Atom actual = None;
    int format = 0;
    gulong after = 0;
    guchar *data = NULL;

    *n_items = 0;
    if (XGetWindowProperty(dpy, xid, property, 0, max_longs, False, type, &actual, &format, n_items, &after,
                           &data) != Success)
        return NULL;
    if (data != NULL && (actual != type || format != want_format)) {
        XFree(data);
        return NULL;
    }
    return data;
}

static char *window_title(Display *dpy, Window xid)
{
    gulong n = 0;
    guchar *data = get_property(dpy, xid, XInternAtom(dpy, "_NET_WM_NAME", False),
                                XInternAtom(dpy, "UTF8_STRING", False), BH_WINDOWS_TITLE_MAX / 4, 8, &n);
    char *title;

    if (data == NULL)
        data = get_property(dpy, xid, XA_WM_NAME, XA_STRING, BH_WINDOWS_TITLE_MAX / 4, 8, &n);
    if (data == NULL)
        return g_strdup("");
    title = g_utf8_make_valid((const char *)data, (gssize)n);
    XFree(data);
    return title;
}

static gboolean window_is_guid(Display *dpy, Window xid)
{
    XClassHint hint = {NULL, NULL};
    gboolean guid = FALSE;

    if (XGetClassHint(dpy, xid, &hint)) {
        guid = hint.res_name != NULL && g_str_equal(hint.res_name, "bulkhead-guid");
        XFree(hint.res_name);
        XFree(hint.res_class);
    }
    return guid;
}

/* The shell's own: its dock and its notification cards. */
static gboolean window_is_dock(Display *dpy, Window xid)
{
    gulong n = 0;
    Atom *types =
        (Atom *)get_property(dpy, xid, XInternAtom(dpy, "_NET_WM_WINDOW_TYPE", False), XA_ATOM, 8, 32, &n);
    gboolean dock = FALSE;

    for (gulong i = 0; types != NULL && i < n; i++)
        dock |= types[i] == XInternAtom(dpy, "_NET_WM_WINDOW_TYPE_DOCK", False) ||
                types[i] == XInternAtom(dpy, "_NET_WM_WINDOW_TYPE_NOTIFICATION", False);
    if (types != NULL)
        XFree(types);
    return dock;
}

static int compare_windows(gconstpointer a, gconstpointer b)
{
    const BhWin *x = *(BhWin *const *)a, *y = *(BhWin *const *)b;

    /* dom0's group first, then qubes by name, then in stacking-list order. */
    if ((x->qube == NULL) != (y->qube == NULL))
        return x->qube == NULL ? -1 : 1;
    if (x->qube != NULL && y->qube != NULL) {
        int by_qube = strcmp(x->qube, y->qube);
        if (by_qube != 0)
            return by_qube;
    }
    return x->xid < y->xid ? -1 : x->xid > y->xid;
}

/* The windows the manager lists, with their qube; our own dock left out. */
static GPtrArray *read_windows(BhShellWindows *self, Display *dpy, guint *total)
{
    GPtrArray *wins = g_ptr_array_new_with_free_func(bh_win_free);
    Window root = DefaultRootWindow(dpy);
    gulong n = 0;
    Window *list;

    /* Only the listed windows stay watched: the set is as big as the list. */
    GHashTable *watched = g_hash_table_new(g_direct_hash, g_direct_equal);

    gdk_x11_display_error_trap_push(self->display);
    list = (Window *)get_property(dpy, root, XInternAtom(dpy, "_NET_CLIENT_LIST", False), XA_WINDOW, 1024, 32,
                                  &n);
    *total = 0;
    for (gulong i = 0; list != NULL && i < n; i++) {
        Window xid = list[i];
        BhWin *win;

        if (window_is_dock(dpy, xid))
            continue;
        (*total)++;
        if (wins->len >= BH_WINDOWS_MAX)
            continue;
        /* Title changes arrive as PropertyNotify on the client window. */
        if (!g_hash_table_contains(self->watched, GSIZE_TO_POINTER(xid)))
            XSelectInput(dpy, xid, PropertyChangeMask);
        g_hash_table_add(watched, GSIZE_TO_POINTER(xid));
        win = g_new0(BhWin, 1);
        win->xid = xid;
        win->title = window_title(dpy, xid);
        if (window_is_guid(dpy, xid)) {
            win->qube = bh_shell_title_qube(win->title);
            /* A guid window whose qube the shell cannot name (a disposable
             * the list has not caught up with, a qube just removed) is left
             * out rather than shown as dom0's: its title is a qube's text.
             * The list is read again when the qubes change. */
            if (win->qube == NULL || bh_shell_qubes_find(self->qubes, win->qube) == NULL) {
                bh_win_free(win);
                continue;
            }
        }
        g_ptr_array_add(wins, win);
    }
    if (list != NULL)
        XFree(list);
    gdk_x11_display_error_trap_pop_ignored(self->display);
    g_hash_table_unref(self->watched);
    self->watched = watched;
    g_ptr_array_sort(wins, compare_windows);
    return wins;
}

/* What a pager does (EWMH, source indication 2): ask the manager to
 * activate the window; openbox raises it and gives it focus. */
static void activate_window(BhShellWindows *self, Window xid)
{
    Display *dpy = gdk_x11_display_get_xdisplay(self->display);
    XEvent event = {0};

    event.xclient.type = ClientMessage;
    event.xclient.window = xid;
    event.xclient.message_type = XInternAtom(dpy, "_NET_ACTIVE_WINDOW", False);
    event.xclient.format = 32;
    event.xclient.data.l[0] = 2;
    event.xclient.data.l[1] = CurrentTime;
    gdk_x11_display_error_trap_push(self->display);
    XSendEvent(dpy, DefaultRootWindow(dpy), False, SubstructureRedirectMask | SubstructureNotifyMask, &event);
    XFlush(dpy);
    gdk_x11_display_error_trap_pop_ignored(self->display);
}

static void on_window_clicked(GtkButton *button, BhShellWindows *self)
{
    activate_window(self, (Window)GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(button), "bh-xid")));
}

static gulong active_window(BhShellWindows *self, Display *dpy)
{
    gulong n = 0, active = 0;
    Window *data;

    gdk_x11_display_error_trap_push(self->display);
    data = (Window *)get_property(dpy, DefaultRootWindow(dpy), XInternAtom(dpy, "_NET_ACTIVE_WINDOW", False),
                                  XA_WINDOW, 1, 32, &n);
    gdk_x11_display_error_trap_pop_ignored(self->display);
    if (data != NULL && n == 1)
        active = data[0];
    if (data != NULL)
        XFree(data);
    return active;
}

static void launch_clear(BhShellWindows *self)
{
    g_clear_pointer(&self->launch_qube, g_free);
    g_clear_pointer(&self->launch_seen, g_hash_table_unref);
}

/* guid lets a qube's new window take the focus only while the user works in
 * that qube, so a window the user just launched from the menu appeared
 * unfocused and the keys typed for it went elsewhere. The launch is the
 * user's request: its qube's first new window (guid's, with the qube's
 * [name], as for the list) is activated, once, within
 * BH_WINDOWS_LAUNCH_FOCUS_S, and only if the active window is still the one
 * of the moment of the launch: a user who moved on keeps the focus. */
static void launch_check(BhShellWindows *self, Display *dpy, GPtrArray *wins)
{
    if (self->launch_qube == NULL)
        return;
    if (g_get_monotonic_time() > self->launch_until) {
        g_debug("windows: no window of %s came after its launch", self->launch_qube);
        launch_clear(self);
        return;
    }
    for (guint i = 0; i < wins->len; i++) {
        BhWin *win = wins->pdata[i];
        if (g_strcmp0(win->qube, self->launch_qube) != 0 ||
            g_hash_table_contains(self->launch_seen, GSIZE_TO_POINTER(win->xid)))
            continue;
        if (active_window(self, dpy) == self->launch_active) {
            g_info("windows: focusing %s's new window 0x%lx, launched from the shell", self->launch_qube,
                   (unsigned long)win->xid);
            activate_window(self, win->xid);
        } else {
            g_info("windows: %s's new window 0x%lx left unfocused: another window was activated since the "
                   "launch",
                   self->launch_qube, (unsigned long)win->xid);
        }
        launch_clear(self);
        return;
    }
}

static void on_launched(BhShellQubes *qubes, const char *qube, BhShellWindows *self)
{
    Display *dpy = gdk_x11_display_get_xdisplay(self->display);
    guint total = 0;
    g_autoptr(GPtrArray) wins = read_windows(self, dpy, &total);

    launch_clear(self);
    self->launch_qube = g_strdup(qube);
    self->launch_until = g_get_monotonic_time() + BH_WINDOWS_LAUNCH_FOCUS_S * G_USEC_PER_SEC;
    self->launch_active = active_window(self, dpy);
    self->launch_seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < wins->len; i++) {
        BhWin *win = wins->pdata[i];
        if (g_strcmp0(win->qube, qube) == 0)
            g_hash_table_add(self->launch_seen, GSIZE_TO_POINTER(win->xid));
    }
}

static GtkWidget *window_button_new(BhShellWindows *self, BhWin *win)
{
    GtkWidget *button = gtk_button_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 5);
    GtkWidget *swatch = gtk_label_new(NULL);
    GtkWidget *label = gtk_label_new(win->title);
    BhShellQube *qube = win->qube != NULL ? bh_shell_qubes_find(self->qubes, win->qube) : NULL;
    g_autofree char *label_class = qube != NULL ? bh_shell_qube_css_class(qube) : g_strdup("bh-dom0");

    gtk_widget_add_css_class(swatch, "bh-swatch");
    gtk_widget_add_css_class(swatch, label_class);
    gtk_widget_set_valign(swatch, GTK_ALIGN_CENTER);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(label), 22);
    gtk_label_set_single_line_mode(GTK_LABEL(label), TRUE);
    gtk_box_append(GTK_BOX(box), swatch);
    gtk_box_append(GTK_BOX(box), label);
    gtk_button_set_child(GTK_BUTTON(button), box);
    gtk_widget_add_css_class(button, "bh-window");
    gtk_widget_add_css_class(button, label_class);
    /* A paused qube's windows do not answer: greyed as its chip is. */
    if (qube != NULL && g_str_equal(bh_shell_qube_get_state(qube), "Paused"))
        gtk_widget_add_css_class(button, "bh-paused");
    gtk_widget_set_tooltip_text(button, win->title);
    g_object_set_data(G_OBJECT(button), "bh-xid", GSIZE_TO_POINTER(win->xid));
    g_signal_connect(button, "clicked", G_CALLBACK(on_window_clicked), self);
    return button;
}

static gboolean refresh(gpointer data)
{
    BhShellWindows *self = data;
    Display *dpy = gdk_x11_display_get_xdisplay(self->display);
    guint total = 0;
    g_autoptr(GPtrArray) wins = read_windows(self, dpy, &total);
    GtkWidget *child;
    const char *group = "";

    self->refresh_id = 0;
    launch_check(self, dpy, wins);
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self))) != NULL)
        gtk_box_remove(GTK_BOX(self), child);
    for (guint i = 0; i < wins->len; i++) {
        BhWin *win = wins->pdata[i];

        /* A gap between groups: each qube's windows stay together. */
        if (i > 0 && g_strcmp0(group, win->qube) != 0) {
            GtkWidget *gap = gtk_separator_new(GTK_ORIENTATION_VERTICAL);
            gtk_widget_add_css_class(gap, "bh-window-gap");
            gtk_box_append(GTK_BOX(self), gap);
        }
        group = win->qube;
        gtk_box_append(GTK_BOX(self), window_button_new(self, win));
    }
    if (total > wins->len) {
        g_autofree char *more = g_strdup_printf("+%u", total - wins->len);
        gtk_box_append(GTK_BOX(self), gtk_label_new(more));
    }
    return G_SOURCE_REMOVE;
}

static void queue_refresh(BhShellWindows *self)
{
    if (self->refresh_id == 0)
        self->refresh_id = g_idle_add(refresh, self);
}

static gboolean on_xevent(GdkX11Display *display, const XEvent *event, BhShellWindows *self)
{
    Display *dpy = gdk_x11_display_get_xdisplay(GDK_DISPLAY(display));

    if (event->type == PropertyNotify) {
        const XPropertyEvent *p = &event->xproperty;
        if ((p->window == DefaultRootWindow(dpy) && p->atom == XInternAtom(dpy, "_NET_CLIENT_LIST", False)) ||
            (g_hash_table_contains(self->watched, GSIZE_TO_POINTER(p->window)) &&
             (p->atom == XInternAtom(dpy, "_NET_WM_NAME", False) || p->atom == XA_WM_NAME)))
            queue_refresh(self);
    }
    return FALSE; /* GDK still sees every event */
}

static void on_qubes_changed(BhShellQubes *qubes, BhShellWindows *self)
{
    /* A qube's colour or existence decides a window's group. */
    queue_refresh(self);
}

static void start_x11(BhShellWindows *self)
{
    Display *dpy = gdk_x11_display_get_xdisplay(self->display);
    Window root = DefaultRootWindow(dpy);
    XWindowAttributes attrs;

    /* Add to whatever GDK already selected on the root window. */
    if (XGetWindowAttributes(dpy, root, &attrs))
        XSelectInput(dpy, root, attrs.your_event_mask | PropertyChangeMask);
    g_signal_connect(self->display, "xevent", G_CALLBACK(on_xevent), self);
    g_signal_connect(self->qubes, "changed", G_CALLBACK(on_qubes_changed), self);
    g_signal_connect(self->qubes, "launched", G_CALLBACK(on_launched), self);
    queue_refresh(self);
}
#endif

static void bh_shell_windows_dispose(GObject *object)
{
    BhShellWindows *self = BH_SHELL_WINDOWS(object);

    g_clear_handle_id(&self->refresh_id, g_source_remove);
    if (self->display != NULL)
        g_signal_handlers_disconnect_by_data(self->display, self);
    if (self->qubes != NULL)
        g_signal_handlers_disconnect_by_data(self->qubes, self);
    g_clear_object(&self->qubes);
    g_clear_pointer(&self->watched, g_hash_table_unref);
#ifdef GDK_WINDOWING_X11
    launch_clear(self);
#endif
    self->display = NULL;
    G_OBJECT_CLASS(bh_shell_windows_parent_class)->dispose(object);
}

static void bh_shell_windows_class_init(BhShellWindowsClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_windows_dispose;
}

static void bh_shell_windows_init(BhShellWindows *self)
{
    gtk_box_set_spacing(GTK_BOX(self), 4);
    self->watched = g_hash_table_new(g_direct_hash, g_direct_equal);
}

GtkWidget *bh_shell_windows_new(BhShellQubes *qubes)
{
    BhShellWindows *self = g_object_new(BH_TYPE_SHELL_WINDOWS, NULL);

    self->qubes = g_object_ref(qubes);
    self->display = gdk_display_get_default();
#ifdef GDK_WINDOWING_X11
    if (GDK_IS_X11_DISPLAY(self->display))
        start_x11(self);
#endif
    return GTK_WIDGET(self);
}
