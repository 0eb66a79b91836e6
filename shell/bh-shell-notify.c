/* bh-shell-notify.c — the shell's notification server (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-notify.h"

#include <string.h>

#include "bh-shell-panel.h"

#ifdef GDK_WINDOWING_X11
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <gdk/x11/gdkx.h>
#endif

#define BH_NOTIFY_NAME  "org.freedesktop.Notifications"
#define BH_NOTIFY_PATH  "/org/freedesktop/Notifications"
#define BH_NOTIFY_WIDTH 360
/* Callers we remember for the rate limit; a bus with more is pruned. */
#define BH_NOTIFY_MAX_CALLERS 256

/* NotificationClosed reasons (the specification's numbers). */
enum { BH_CLOSED_EXPIRED = 1, BH_CLOSED_DISMISSED = 2, BH_CLOSED_CALLED = 3, BH_CLOSED_OTHER = 4 };

static const char bh_notify_xml[] =
    "<node><interface name='org.freedesktop.Notifications'>"
    "<method name='Notify'><arg type='s' name='app_name' direction='in'/>"
    "<arg type='u' name='replaces_id' direction='in'/><arg type='s' name='app_icon' direction='in'/>"
    "<arg type='s' name='summary' direction='in'/><arg type='s' name='body' direction='in'/>"
    "<arg type='as' name='actions' direction='in'/><arg type='a{sv}' name='hints' direction='in'/>"
    "<arg type='i' name='expire_timeout' direction='in'/><arg type='u' name='id' direction='out'/></method>"
    "<method name='CloseNotification'><arg type='u' name='id' direction='in'/></method>"
    "<method name='GetCapabilities'><arg type='as' name='capabilities' direction='out'/></method>"
    "<method name='GetServerInformation'><arg type='s' name='name' direction='out'/>"
    "<arg type='s' name='vendor' direction='out'/><arg type='s' name='version' direction='out'/>"
    "<arg type='s' name='spec_version' direction='out'/></method>"
    "<signal name='NotificationClosed'><arg type='u' name='id'/><arg type='u' name='reason'/></signal>"
    "<signal name='ActionInvoked'><arg type='u' name='id'/><arg type='s' name='action_key'/></signal>"
    "</interface></node>";

typedef struct {
    gint64 since; /* start of the caller's current window */
    guint count;
} BhRate;

typedef struct {
    guint id;
    char *sender;
    GtkWidget *card;
    guint expire_id;
    BhShellNotify *owner;
} BhNote;

struct _BhShellNotify {
    GObject parent_instance;
    guint own_id;
    guint object_id;
    GDBusConnection *connection;
    gboolean owned;
    GDBusNodeInfo *info;
    GHashTable *rates; /* "pid N" (or a unique name) -> BhRate */
    GQueue notes;      /* BhNote, oldest first */
    guint next_id;
    GtkWidget *window;
    GtkWidget *column;
    GdkRectangle area; /* the panel's monitor: the cards hang in its top-right corner */
};

G_DEFINE_FINAL_TYPE(BhShellNotify, bh_shell_notify, G_TYPE_OBJECT)

/* ---- pure rules ----------------------------------------------------------- */

static gboolean is_bidi_control(gunichar c)
{
    return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

char *bh_shell_notify_clean_text(const char *text, gsize max)
{
    g_autofree char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
    GString *out = g_string_new(NULL);

    for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        gsize len = (gsize)(g_utf8_next_char(p) - p);

        if (is_bidi_control(c))
            continue;
        if (c != '\n' && (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029))
            c = ' ';
        if (out->len + (c == ' ' ? 1 : len) > max) {
            /* Room for the ellipsis (3 bytes) within max. */
            while (out->len > 0 && out->len + 3 > max) {
                const char *prev = g_utf8_find_prev_char(out->str, out->str + out->len);
                g_string_truncate(out, prev != NULL ? (gsize)(prev - out->str) : 0);
            }
            if (out->len + 3 <= max)
                g_string_append(out, "…");
            break;
        }
        if (c == ' ')
            g_string_append_c(out, ' ');
        else
            g_string_append_len(out, p, (gssize)len);
    }
    return g_string_free(out, FALSE);
}

guint bh_shell_notify_expiry_ms(gint32 expire_timeout)
{
    if (expire_timeout < 0)
        return BH_NOTIFY_DEFAULT_MS;
    if (expire_timeout == 0)
        return 0;
    return (guint)MIN(expire_timeout, BH_NOTIFY_MAX_MS);
}

/* ---- the window ----------------------------------------------------------- */

#ifdef GDK_WINDOWING_X11
/* A notification window, above, on every desktop, in no task list, placed in
 * the top-right corner under the panel, and one that never takes the focus
 * (WM_HINTS input False): a card appearing must not steal keys from the
 * window the user types in. */
static void place_x11(GtkWidget *window, const GdkRectangle *area)
{
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(window));
    Display *dpy;
    Window xid;
    Atom type, state[4];
    XWMHints *hints;
    XSizeHints size = {0};
    long all_desktops = 0xFFFFFFFF;

    if (!GDK_IS_X11_SURFACE(surface))
        return;
    dpy = gdk_x11_display_get_xdisplay(gdk_surface_get_display(surface));
    xid = gdk_x11_surface_get_xid(surface);
    type = XInternAtom(dpy, "_NET_WM_WINDOW_TYPE_NOTIFICATION", False);
    XChangeProperty(dpy, xid, XInternAtom(dpy, "_NET_WM_WINDOW_TYPE", False), XA_ATOM, 32, PropModeReplace,
                    (unsigned char *)&type, 1);
    state[0] = XInternAtom(dpy, "_NET_WM_STATE_ABOVE", False);
    state[1] = XInternAtom(dpy, "_NET_WM_STATE_STICKY", False);
    state[2] = XInternAtom(dpy, "_NET_WM_STATE_SKIP_TASKBAR", False);
    state[3] = XInternAtom(dpy, "_NET_WM_STATE_SKIP_PAGER", False);
    XChangeProperty(dpy, xid, XInternAtom(dpy, "_NET_WM_STATE", False), XA_ATOM, 32, PropModeReplace,
                    (unsigned char *)state, 4);
    XChangeProperty(dpy, xid, XInternAtom(dpy, "_NET_WM_DESKTOP", False), XA_CARDINAL, 32, PropModeReplace,
                    (unsigned char *)&all_desktops, 1);
    hints = XGetWMHints(dpy, xid);
    if (hints == NULL)
        hints = XAllocWMHints();
    if (hints != NULL) {
        hints->flags |= InputHint;
        hints->input = False;
        XSetWMHints(dpy, xid, hints);
        XFree(hints);
    }
    size.flags = USPosition | PPosition;
    size.x = area->x + area->width - BH_NOTIFY_WIDTH - 8;
    size.y = area->y + BH_SHELL_PANEL_HEIGHT + 8;
    XSetWMNormalHints(dpy, xid, &size);
    XMoveWindow(dpy, xid, size.x, size.y);
}
#endif

/* GDK writes WM_HINTS (input True), _NET_WM_STATE and _NET_WM_DESKTOP anew
 * when it maps a window (GTK 4.8, seen at its XMapWindow: what realize set is
 * gone), and "map" runs after that XMapWindow. So a window manager handling
 * the map request before the shell's "map" writes arrived managed a normal
 * window that takes the focus, with the time of the user's last key as its
 * user time: a card mapping while the user typed in the menu could take the
 * keys. What GDK itself keeps through its map is set at realize: user time
 * 0 (EWMH: not to be focused when mapped) and the taskbar and pager hints;
 * the rest is written again at "map" while the shell holds the server
 * (show_window), so the window manager reads only the final hints. */
static void on_window_map(GtkWidget *window, BhShellNotify *self)
{
#ifdef GDK_WINDOWING_X11
    place_x11(window, &self->area);
#endif
}

static void on_window_realize(GtkWidget *window, BhShellNotify *self)
{
#ifdef GDK_WINDOWING_X11
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(window));
    if (GDK_IS_X11_SURFACE(surface)) {
        gdk_x11_surface_set_user_time(surface, 0);
        gdk_x11_surface_set_skip_taskbar_hint(surface, TRUE);
        gdk_x11_surface_set_skip_pager_hint(surface, TRUE);
    }
    place_x11(window, &self->area);
#endif
}

/* Shows the window (realize, GDK's map, "map"), with the server held on X11
 * so that no window manager reads the card's hints between GDK's map and
 * on_window_map's rewrite of them; GDK waits for no other client in it.
 * Shown, never presented: gtk_window_present also asks the window manager
 * to activate the window (_NET_ACTIVE_WINDOW), which openbox grants whatever
 * the hints say (seen: the card took the focus from the window typed in). */
static void show_window(BhShellNotify *self)
{
#ifdef GDK_WINDOWING_X11
    GdkDisplay *display = gtk_widget_get_display(self->window);
    if (GDK_IS_X11_DISPLAY(display)) {
        Display *dpy = gdk_x11_display_get_xdisplay(display);
        XGrabServer(dpy);
        gtk_widget_set_visible(self->window, TRUE);
        XUngrabServer(dpy);
        XFlush(dpy);
        return;
    }
#endif
    gtk_widget_set_visible(self->window, TRUE);
}

void bh_shell_notify_set_area(BhShellNotify *self, const GdkRectangle *area)
{
    if (gdk_rectangle_equal(&self->area, area))
        return;
    self->area = *area;
    /* Cards already shown move with the panel, not only the next ones. */
#ifdef GDK_WINDOWING_X11
    if (self->window != NULL && gtk_widget_get_realized(self->window)) {
        place_x11(self->window, &self->area);
        g_info("notifications: moved to %dx%d+%d+%d", area->width, area->height, area->x, area->y);
    }
#endif
}

static void ensure_window(BhShellNotify *self)
{
    if (self->window != NULL)
        return;
    self->window = gtk_window_new();
    g_object_ref_sink(self->window);
    gtk_window_set_title(GTK_WINDOW(self->window), "Bulkhead notifications");
    gtk_window_set_decorated(GTK_WINDOW(self->window), FALSE);
    gtk_window_set_resizable(GTK_WINDOW(self->window), FALSE);
    gtk_widget_add_css_class(self->window, "bh-notifications");
    self->column = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_size_request(self->column, BH_NOTIFY_WIDTH, -1);
    gtk_window_set_child(GTK_WINDOW(self->window), self->column);
    g_signal_connect(self->window, "realize", G_CALLBACK(on_window_realize), self);
    g_signal_connect(self->window, "map", G_CALLBACK(on_window_map), self);
}

/* ---- notes ---------------------------------------------------------------- */

static void emit_closed(BhShellNotify *self, guint id, guint reason)
{
    if (self->connection == NULL || self->object_id == 0)
        return;
    g_dbus_connection_emit_signal(self->connection, NULL, BH_NOTIFY_PATH, BH_NOTIFY_NAME,
                                  "NotificationClosed", g_variant_new("(uu)", id, reason), NULL);
}

static void note_free(BhNote *note)
{
    g_clear_handle_id(&note->expire_id, g_source_remove);
    g_free(note->sender);
    g_free(note);
}

static BhNote *find_note(BhShellNotify *self, guint id)
{
    for (GList *l = self->notes.head; l != NULL; l = l->next) {
        BhNote *note = l->data;
        if (note->id == id)
            return note;
    }
    return NULL;
}

static void close_note(BhShellNotify *self, BhNote *note, guint reason)
{
    guint id = note->id;

    g_queue_remove(&self->notes, note);
    if (self->column != NULL && note->card != NULL)
        gtk_box_remove(GTK_BOX(self->column), note->card);
    note_free(note);
    /* Destroyed, not hidden: GTK 4 on X11 does not draw a window shown again
     * after a hide (seen under openbox); the next card makes a new one. */
    if (self->window != NULL && g_queue_is_empty(&self->notes)) {
        gtk_window_destroy(GTK_WINDOW(self->window));
        g_clear_object(&self->window);
        self->column = NULL;
    }
    emit_closed(self, id, reason);
}

static gboolean on_expired(gpointer data)
{
    BhNote *note = data;

    note->expire_id = 0;
    close_note(note->owner, note, BH_CLOSED_EXPIRED);
    return G_SOURCE_REMOVE;
}

static void on_card_clicked(GtkGestureClick *gesture, int n_press, double x, double y, BhNote *note)
{
    close_note(note->owner, note, BH_CLOSED_DISMISSED);
}

/* The card's widgets: labels only, never markup (gtk_label_set_text). */
static GtkWidget *card_new(BhNote *note, const char *app, const char *summary, const char *body)
{
    GtkWidget *card = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *from = gtk_label_new(app);
    GtkWidget *title = gtk_label_new(summary);
    GtkWidget *text = gtk_label_new(body);
    GtkGesture *click = gtk_gesture_click_new();

    gtk_widget_add_css_class(card, "bh-notification");
    gtk_widget_add_css_class(from, "bh-notification-app");
    gtk_widget_add_css_class(title, "bh-notification-summary");
    gtk_widget_add_css_class(text, "bh-notification-body");
    GtkWidget *labels[] = {from, title, text};

    for (gsize i = 0; i < G_N_ELEMENTS(labels); i++) {
        GtkWidget *w = labels[i];

        gtk_label_set_use_markup(GTK_LABEL(w), FALSE);
        gtk_label_set_xalign(GTK_LABEL(w), 0);
        gtk_label_set_wrap(GTK_LABEL(w), TRUE);
        gtk_label_set_wrap_mode(GTK_LABEL(w), PANGO_WRAP_WORD_CHAR);
        /* As narrow as a wrapped label can be: the column's width
         * (BH_NOTIFY_WIDTH) decides where lines break, so a card is never
         * wider than the width the window is placed for (at 44 characters
         * the cards were 9 px wider, flush with the screen's edge). */
        gtk_label_set_max_width_chars(GTK_LABEL(w), 1);
        gtk_box_append(GTK_BOX(card), w);
    }
    /* Eight lines at most: a long body never covers the screen. */
    gtk_label_set_lines(GTK_LABEL(text), 8);
    gtk_label_set_ellipsize(GTK_LABEL(text), PANGO_ELLIPSIZE_END);
    gtk_widget_set_visible(text, body[0] != '\0');
    gtk_widget_set_tooltip_text(card, "Click to dismiss");
    g_signal_connect(click, "pressed", G_CALLBACK(on_card_clicked), note);
    gtk_widget_add_controller(card, GTK_EVENT_CONTROLLER(click));
    return card;
}

/* FALSE when caller has sent its share for now (logged once per window). */
static gboolean rate_allows(BhShellNotify *self, const char *sender)
{
    gint64 now = g_get_monotonic_time();
    BhRate *rate = g_hash_table_lookup(self->rates, sender);

    if (rate == NULL) {
        if (g_hash_table_size(self->rates) >= BH_NOTIFY_MAX_CALLERS)
            g_hash_table_remove_all(self->rates);
        rate = g_new0(BhRate, 1);
        g_hash_table_insert(self->rates, g_strdup(sender), rate);
    }
    if (now - rate->since > BH_NOTIFY_RATE_WINDOW_US) {
        rate->since = now;
        rate->count = 0;
    }
    if (++rate->count > BH_NOTIFY_RATE_COUNT) {
        if (rate->count == BH_NOTIFY_RATE_COUNT + 1)
            g_message("notifications from %s refused for a while: more than %d in %d s", sender,
                      BH_NOTIFY_RATE_COUNT, (int)(BH_NOTIFY_RATE_WINDOW_US / G_USEC_PER_SEC));
        return FALSE;
    }
    return TRUE;
}

static guint show_note(BhShellNotify *self, const char *sender, guint replaces, const char *untrusted_app,
                       const char *untrusted_summary, const char *untrusted_body, gint32 expire_timeout)
{
    g_autofree char *app = bh_shell_notify_clean_text(untrusted_app, BH_NOTIFY_MAX_APP);
    g_autofree char *summary = bh_shell_notify_clean_text(untrusted_summary, BH_NOTIFY_MAX_SUMMARY);
    g_autofree char *body = bh_shell_notify_clean_text(untrusted_body, BH_NOTIFY_MAX_BODY);
    BhNote *note = replaces != 0 ? find_note(self, replaces) : NULL;
    guint expiry = bh_shell_notify_expiry_ms(expire_timeout);

    ensure_window(self);
    /* Only the caller that made a notification may replace it. */
    if (note != NULL && g_strcmp0(note->sender, sender) == 0) {
        GtkWidget *old = note->card;
        note->card = card_new(note, app, summary, body);
        gtk_box_insert_child_after(GTK_BOX(self->column), note->card, old);
        gtk_box_remove(GTK_BOX(self->column), old);
        g_clear_handle_id(&note->expire_id, g_source_remove);
    } else {
        while (g_queue_get_length(&self->notes) >= BH_NOTIFY_MAX_SHOWN)
            close_note(self, g_queue_peek_head(&self->notes), BH_CLOSED_OTHER);
        note = g_new0(BhNote, 1);
        note->owner = self;
        note->sender = g_strdup(sender);
        do
            note->id = ++self->next_id;
        while (note->id == 0);
        note->card = card_new(note, app, summary, body);
        gtk_box_append(GTK_BOX(self->column), note->card);
        g_queue_push_tail(&self->notes, note);
    }
    if (expiry > 0)
        note->expire_id = g_timeout_add(expiry, on_expired, note);
    g_info("notification %u from %s: %s", note->id, sender, summary);
    /* Shown once; a card added later only grows it (presenting a mapped
     * window again would also ask the window manager to raise and focus it). */
    if (!gtk_widget_get_visible(self->window))
        show_window(self);
    return note->id;
}

/* ---- D-Bus ------------------------------------------------------------------ */

typedef struct {
    BhShellNotify *self; /* a reference until the bus answers */
    GDBusMethodInvocation *invocation;
} BhNotifyCall;

static BhNotifyCall *notify_call_new(BhShellNotify *self, GDBusMethodInvocation *invocation)
{
    BhNotifyCall *call = g_new0(BhNotifyCall, 1);

    call->self = g_object_ref(self);
    call->invocation = invocation; /* ours to answer, as on_method's */
    return call;
}

/* Notify, once the bus said which process called: "pid N" is the rate's
 * key; a caller the bus cannot place (gone already) keeps its unique name. */
static void on_caller_pid(GObject *source, GAsyncResult *result, gpointer data)
{
    BhNotifyCall *call = data;
    BhShellNotify *self = call->self;
    GDBusMethodInvocation *invocation = call->invocation;
    const char *sender = g_dbus_method_invocation_get_sender(invocation);
    GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, NULL);
    g_autofree char *caller = NULL;
    const char *app, *icon, *summary, *body;
    guint32 replaces, pid;
    gint32 timeout;
    guint id;

    if (reply != NULL) {
        g_variant_get(reply, "(u)", &pid);
        caller = g_strdup_printf("pid %u", pid);
    } else {
        caller = g_strdup(sender);
    }
    g_variant_get(params, "(&su&s&s&s@as@a{sv}i)", &app, &replaces, &icon, &summary, &body, NULL, NULL,
                  &timeout);
    if (self->rates == NULL) { /* the shell is going away */
        g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "closing");
    } else if (!rate_allows(self, caller)) {
        g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED,
                                              "more than %d notifications in %d s: wait",
                                              BH_NOTIFY_RATE_COUNT,
                                              (int)(BH_NOTIFY_RATE_WINDOW_US / G_USEC_PER_SEC));
    } else {
        id = show_note(self, sender, replaces, app, summary, body, timeout);
        g_dbus_method_invocation_return_value(invocation, g_variant_new("(u)", id));
    }
    g_object_unref(self);
    g_free(call);
}

static void on_method(GDBusConnection *connection, const char *sender, const char *path,
                      const char *interface, const char *method, GVariant *params,
                      GDBusMethodInvocation *invocation, gpointer data)
{
    BhShellNotify *self = data;

    if (g_str_equal(method, "Notify")) {
        /* The rate is per process, not per connection: a program opening a
         * connection per call (gdbus call, notify-send) or many at once
         * would otherwise get 20 calls each. The bus tells the caller's pid. */
        g_dbus_connection_call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                               g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE,
                               -1, NULL, on_caller_pid, notify_call_new(self, invocation));
    } else if (g_str_equal(method, "CloseNotification")) {
        guint32 id;
        BhNote *note;

        g_variant_get(params, "(u)", &id);
        note = find_note(self, id);
        if (note != NULL)
            close_note(self, note, BH_CLOSED_CALLED);
        g_dbus_method_invocation_return_value(invocation, NULL);
    } else if (g_str_equal(method, "GetCapabilities")) {
        /* "body" only: no markup, hyperlinks, images, icons or actions. */
        const char *caps[] = {"body", NULL};
        g_dbus_method_invocation_return_value(invocation, g_variant_new("(^as)", caps));
    } else if (g_str_equal(method, "GetServerInformation")) {
        g_dbus_method_invocation_return_value(
            invocation, g_variant_new("(ssss)", "bulkhead-shell", "Bulkhead", "1", "1.2"));
    } else {
        g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                              "no method %s", method);
    }
}

static const GDBusInterfaceVTable bh_notify_vtable = {on_method, NULL, NULL, {0}};

static void on_bus_acquired(GDBusConnection *connection, const char *name, gpointer data)
{
    BhShellNotify *self = data;
    g_autoptr(GError) error = NULL;

    g_set_object(&self->connection, connection);
    self->object_id = g_dbus_connection_register_object(connection, BH_NOTIFY_PATH, self->info->interfaces[0],
                                                        &bh_notify_vtable, self, NULL, &error);
    if (self->object_id == 0)
        g_warning("cannot offer notifications: %s", error->message);
}

static void on_name_acquired(GDBusConnection *connection, const char *name, gpointer data)
{
    BH_SHELL_NOTIFY(data)->owned = TRUE;
    g_info("no other notification server on the session bus: the shell shows notifications");
}

static void on_name_lost(GDBusConnection *connection, const char *name, gpointer data)
{
    BhShellNotify *self = data;

    if (self->owned)
        g_info("another notification server took %s: it shows notifications now", name);
    self->owned = FALSE;
}

gboolean bh_shell_notify_is_server(BhShellNotify *self)
{
    return self->owned;
}

static void on_sent(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autofree char *text = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

    if (reply == NULL)
        g_message("(no notification shown: %s) %s", error->message, text);
}

void bh_shell_notify_send(const char *summary, const char *body)
{
    g_autoptr(GDBusConnection) connection = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);

    g_info("%s: %s", summary, body);
    if (connection == NULL)
        return;
    g_dbus_connection_call(
        connection, BH_NOTIFY_NAME, BH_NOTIFY_PATH, BH_NOTIFY_NAME, "Notify",
        g_variant_new("(susssasa{sv}i)", "Bulkhead", 0u, "", summary, body, NULL, NULL, -1),
        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, on_sent,
        g_strdup_printf("%s: %s", summary, body));
}

/* ---- life ------------------------------------------------------------------- */

static void bh_shell_notify_dispose(GObject *object)
{
    BhShellNotify *self = BH_SHELL_NOTIFY(object);
    BhNote *note;

    g_clear_handle_id(&self->own_id, g_bus_unown_name);
    if (self->connection != NULL && self->object_id != 0)
        g_dbus_connection_unregister_object(self->connection, self->object_id);
    self->object_id = 0;
    while ((note = g_queue_pop_head(&self->notes)) != NULL)
        note_free(note);
    if (self->window != NULL)
        gtk_window_destroy(GTK_WINDOW(self->window));
    g_clear_object(&self->window);
    g_clear_object(&self->connection);
    g_clear_pointer(&self->info, g_dbus_node_info_unref);
    g_clear_pointer(&self->rates, g_hash_table_unref);
    G_OBJECT_CLASS(bh_shell_notify_parent_class)->dispose(object);
}

static void bh_shell_notify_class_init(BhShellNotifyClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_notify_dispose;
}

static void bh_shell_notify_init(BhShellNotify *self)
{
    g_queue_init(&self->notes);
    self->area = (GdkRectangle){0, 0, 1024, 768}; /* until the panel says */
    self->rates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    self->info = g_dbus_node_info_new_for_xml(bh_notify_xml, NULL);
}

BhShellNotify *bh_shell_notify_new(void)
{
    BhShellNotify *self = g_object_new(BH_TYPE_SHELL_NOTIFY, NULL);

    /* Queued behind a server that runs (it keeps the name and is used), and
     * replaceable by one that starts later. */
    self->own_id =
        g_bus_own_name(G_BUS_TYPE_SESSION, BH_NOTIFY_NAME, G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT,
                       on_bus_acquired, on_name_acquired, on_name_lost, self, NULL);
    return self;
}
