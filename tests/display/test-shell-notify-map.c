/* test-shell-notify-map.c — a notification card never takes the keyboard
 * (bh-shell-notify.c), under openbox on Xvfb, with the shell's real
 * notification server on a private bus (dbus-run-session).
 *
 * The suspect of a shell-desktop flake (keys typed into the menu never
 * reached it while sys-firewall's "has started" card appeared): GDK writes
 * a window's WM_HINTS (input True), _NET_WM_STATE and _NET_WM_DESKTOP anew
 * when it maps it, and the card's own hints came at "map", after GDK's
 * XMapWindow. What a window manager reads is checked where it can first
 * read it: this test defines XMapWindow, XGrabServer and XUngrabServer
 * itself (the shell's code and GDK call these, which then call libX11's),
 * and notes the card's hints at its map, or, when the map happens while the
 * shell holds the server, when it lets go. Then the behaviour: a window the
 * user types in (as the menu) keeps the focus and gets the keys after the
 * card is up. Control (the old code, hints set at map without the server
 * held): input True and no above/sticky state at that moment. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <gdk/x11/gdkx.h>
#include <gtk/gtk.h>
#include <string.h>

#include "bh-display.h"
#include "bh-shell-notify.h"
#include "bh-shell-resources.h"

/* What the window manager could read of the card when it first could. */
typedef struct {
    gboolean seen;
    gboolean input_hint, input;
    long user_time;
    char *type, *state;
    long desktop;
} Seen;

static Seen seen;
static int grabs;
static Display *pending_dpy;
static Window pending;

static char *atoms_of(Display *dpy, Window w, const char *prop)
{
    Atom type;
    int format;
    unsigned long n = 0, after;
    unsigned char *data = NULL;
    GString *out = g_string_new(NULL);
    if (XGetWindowProperty(dpy, w, XInternAtom(dpy, prop, False), 0, 64, False, XA_ATOM, &type, &format, &n,
                           &after, &data) == Success &&
        type == XA_ATOM) {
        for (unsigned long i = 0; i < n; i++) {
            char *name = XGetAtomName(dpy, ((Atom *)data)[i]);
            g_string_append_printf(out, "%s%s", out->len ? " " : "", name);
            XFree(name);
        }
    }
    if (data != NULL)
        XFree(data);
    return g_string_free(out, FALSE);
}

static long cardinal_of(Display *dpy, Window w, const char *prop)
{
    Atom type;
    int format;
    unsigned long n = 0, after;
    unsigned char *data = NULL;
    long value = -2; /* none */
    if (XGetWindowProperty(dpy, w, XInternAtom(dpy, prop, False), 0, 1, False, XA_CARDINAL, &type, &format,
                           &n, &after, &data) == Success &&
        type == XA_CARDINAL && n == 1)
        value = (long)((unsigned long *)data)[0] == 0xFFFFFFFFul ? -1 : ((long *)data)[0];
    if (data != NULL)
        XFree(data);
    return value;
}

static gboolean is_card(Display *dpy, Window w)
{
    char *name = NULL;
    gboolean card = XFetchName(dpy, w, &name) && name != NULL && g_str_equal(name, "Bulkhead notifications");
    if (name != NULL)
        XFree(name);
    return card;
}

static void note_card(Display *dpy, Window w)
{
    if (seen.seen)
        return;
    seen.seen = TRUE;
    XWMHints *hints = XGetWMHints(dpy, w);
    seen.input_hint = hints != NULL && (hints->flags & InputHint);
    seen.input = hints != NULL && hints->input;
    if (hints != NULL)
        XFree(hints);
    seen.user_time = cardinal_of(dpy, w, "_NET_WM_USER_TIME");
    seen.type = atoms_of(dpy, w, "_NET_WM_WINDOW_TYPE");
    seen.state = atoms_of(dpy, w, "_NET_WM_STATE");
    seen.desktop = cardinal_of(dpy, w, "_NET_WM_DESKTOP");
}

int XMapWindow(Display *dpy, Window w)
{
    static int (*real)(Display *, Window);
    if (real == NULL)
        real = (int (*)(Display *, Window))dlsym(RTLD_NEXT, "XMapWindow");
    if (!seen.seen && is_card(dpy, w)) {
        if (grabs > 0) {
            pending_dpy = dpy;
            pending = w;
        } else {
            note_card(dpy, w); /* the map request may be read at once */
        }
    }
    return real(dpy, w);
}

int XGrabServer(Display *dpy)
{
    static int (*real)(Display *);
    if (real == NULL)
        real = (int (*)(Display *))dlsym(RTLD_NEXT, "XGrabServer");
    grabs++;
    return real(dpy);
}

int XUngrabServer(Display *dpy)
{
    static int (*real)(Display *);
    if (real == NULL)
        real = (int (*)(Display *))dlsym(RTLD_NEXT, "XUngrabServer");
    if (--grabs == 0 && pending != 0) {
        note_card(pending_dpy, pending); /* the last moment before others run */
        pending = 0;
    }
    return real(dpy);
}

/* ---- the test --------------------------------------------------------------- */

static Display *dpy; /* the test's own connection, for xdotool's view */

static gboolean is_server(gpointer data)
{
    return bh_shell_notify_is_server(data);
}

static gboolean seen_cond(gpointer data)
{
    return seen.seen;
}

static gboolean managed(gpointer data)
{
    Window *w = data;
    Window root, parent, *kids = NULL;
    unsigned int n;
    if (*w == 0 || !XQueryTree(dpy, *w, &root, &parent, &kids, &n))
        return FALSE;
    if (kids != NULL)
        XFree(kids);
    return parent != root; /* openbox reparented it into its frame */
}

static gboolean focus_in(gpointer data)
{
    return bh_x_focus_in(dpy, *(Window *)data);
}

static gboolean text_is(gpointer data)
{
    return g_str_equal(gtk_editable_get_text(GTK_EDITABLE(data)), "abc");
}

static void settle(guint ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE), g_usleep(10000);
}

static Window find_card(void)
{
    Window root = DefaultRootWindow(dpy), r, p, *kids = NULL;
    unsigned int n = 0;
    Window found = 0;
    if (!XQueryTree(dpy, root, &r, &p, &kids, &n))
        return 0;
    for (unsigned int i = 0; i < n && found == 0; i++) {
        /* Top level or openbox's frame around it. */
        Window r2, p2, *inner = NULL;
        unsigned int m = 0;
        if (is_card(dpy, kids[i]))
            found = kids[i];
        else if (XQueryTree(dpy, kids[i], &r2, &p2, &inner, &m))
            for (unsigned int j = 0; j < m && found == 0; j++)
                if (is_card(dpy, inner[j]))
                    found = inner[j];
        if (inner != NULL)
            XFree(inner);
    }
    if (kids != NULL)
        XFree(kids);
    return found;
}

/* Kept to the end: a notification server going away mid-test would only
 * add noise. */
static BhShellNotify *notify;

static void ensure_notify(void)
{
    if (notify != NULL)
        return;
    notify = bh_shell_notify_new();
    g_assert_true(bh_wait_until(is_server, notify, 10000));
}

static void test_card_takes_no_keys(void)
{
    /* The window the user types in, focused by openbox as a click would. */
    GtkWidget *window = gtk_window_new();
    GtkWidget *entry = gtk_entry_new();
    gtk_window_set_title(GTK_WINDOW(window), "typing here");
    gtk_window_set_child(GTK_WINDOW(window), entry);
    gtk_window_set_default_size(GTK_WINDOW(window), 300, 80);
    gtk_window_present(GTK_WINDOW(window));
    settle(800);
    Window typing = gdk_x11_surface_get_xid(gtk_native_get_surface(GTK_NATIVE(window)));
    bh_x_activate(dpy, typing, TRUE);
    if (!bh_wait_until(focus_in, &typing, 5000))
        g_error("openbox did not give the window the focus (focus 0x%lx, window 0x%lx)", bh_x_focus(),
                typing);
    /* A key just now: the user's last input time is recent, as when typing
     * in the menu (GDK gives a new window that time unless told not to). */
    g_assert_true(bh_run((const char *[]){"xdotool", "key", "shift", NULL}));
    settle(200);

    ensure_notify();
    bh_shell_notify_send("Qube sys-firewall has started", "while you type");
    g_assert_true(bh_wait_until(seen_cond, NULL, 10000));

    g_test_message("what a window manager could first read of the card: WM_HINTS input %s%s, "
                   "_NET_WM_USER_TIME %ld, type [%s], state [%s], desktop %ld",
                   seen.input_hint ? "" : "(unset) ", seen.input ? "True" : "False", seen.user_time,
                   seen.type, seen.state, seen.desktop);
    g_assert_true(seen.input_hint);
    g_assert_false(seen.input);
    g_assert_cmpint(seen.user_time, ==, 0);
    g_assert_cmpstr(seen.type, ==, "_NET_WM_WINDOW_TYPE_NOTIFICATION");
    for (const char *const *s =
             (const char *const[]){"_NET_WM_STATE_ABOVE", "_NET_WM_STATE_STICKY",
                                   "_NET_WM_STATE_SKIP_TASKBAR", "_NET_WM_STATE_SKIP_PAGER", NULL};
         *s != NULL; s++)
        if (strstr(seen.state, *s) == NULL)
            g_error("the card's state lacked %s when the window manager could read it: [%s]", *s, seen.state);
    g_assert_cmpint(seen.desktop, ==, -1);

    /* The behaviour: openbox manages the card, the focus stays, the keys
     * reach the window the user types in. */
    Window card = 0;
    for (int i = 0; i < 100 && (card = find_card()) == 0; i++)
        settle(50);
    g_assert_true(card != 0);
    g_assert_true(bh_wait_until(managed, &card, 10000));
    settle(1000);
    if (!bh_x_focus_in(dpy, typing))
        g_error("the card took the focus: it is in 0x%lx (the card 0x%lx%s, typing 0x%lx)", bh_x_focus(),
                card, bh_x_focus_in(dpy, card) ? ", in it" : "", typing);
    g_assert_true(bh_run((const char *[]){"xdotool", "type", "--delay", "50", "abc", NULL}));
    g_assert_true(bh_wait_until(text_is, entry, 5000));
    gtk_window_destroy(GTK_WINDOW(window));
}

static gboolean card_shown(gpointer data)
{
    BhRect *r = data;
    Window card = find_card();
    return card != 0 && bh_x_frame_rect(dpy, card, r) && r->width > 1;
}

/* The column keeps the margin it is placed with: 8 px from the monitor's
 * right edge, however long the text (found on a user's walk: the cards were
 * 9 px wider than the width they were placed for, flush with the screen's
 * edge and one pixel past it). Control: labels 44 characters wide, as
 * before: the card is 369 px wide and ends at the screen's edge. */
static void test_card_inside_monitor(void)
{
    ensure_notify();
    int screen_w = DisplayWidth(dpy, DefaultScreen(dpy)), screen_h = DisplayHeight(dpy, DefaultScreen(dpy));
    bh_shell_notify_set_area(notify, &(GdkRectangle){0, 0, screen_w, screen_h});
    bh_shell_notify_send("Global clipboard",
                         "Copied 19 bytes of text from work. Press Ctrl+Shift+V in another "
                         "qube's window to paste it there (once: the global clipboard is "
                         "emptied by the paste).");
    bh_shell_notify_send("A summary long enough to be wrapped over more than one line of the card, "
                         "with_a_word_that_has_no_place_to_break_at_all_for_quite_a_while",
                         "and a short body");
    BhRect r = {0};
    g_assert_true(bh_wait_until(card_shown, &r, 10000));
    settle(500); /* both cards laid out */
    g_assert_true(card_shown(&r));
    g_test_message("the cards: %dx%d+%d+%d on a %dx%d screen", r.width, r.height, r.x, r.y, screen_w,
                   screen_h);
    g_assert_cmpint(r.y, ==, 32 + 8);
    g_assert_cmpint(r.x + r.width, ==, screen_w - 8);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gtk_init();
    dpy = bh_display_open();
    /* The shell's own CSS, as bh-shell-app.c loads it: the cards' padding
     * and border count in their width. */
    g_resources_register(bh_shell_get_resource());
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/org/bulkhead/shell/shell.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_USER + 10);
    g_autoptr(BhProc) wm = bh_start_wm(dpy, "openbox");
    g_test_add_func("/shell/notify/card-takes-no-keys", test_card_takes_no_keys);
    g_test_add_func("/shell/notify/card-inside-monitor", test_card_inside_monitor);
    return g_test_run();
}
