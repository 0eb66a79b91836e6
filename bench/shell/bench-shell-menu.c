/* bench-shell-menu.c — bulkhead-shell's menu with many qubes: time from
 * opening the menu to the menu drawn, and from a new search text to the
 * filtered list drawn (bench/README.md, "bench/shell").
 *
 * Owns the measurement only: it links libbh_shell, reads the qubes from the
 * running bulkheadd as the shell does (bench-shell.sh created them), builds
 * the real panel and opens the real menu popover on the X display. "Drawn"
 * is the popover surface's frame clock "after-paint" that follows the
 * change. "Key" is an XTest press of Super+Space sent on a second X
 * connection, grabbed by the shell's own hotkey code (bh-shell-hotkey.c) in
 * this process: the path from the X server to the drawn menu, measured in the
 * same run as the action, so their ratio holds on a loaded machine.
 * "Row widgets made" counts the list views' row widgets that were not there
 * before a search (each marked when first seen), whatever the menu's code.
 * Must never: change the shell's code paths or the daemon's state.
 *
 *   bench-shell-menu [--reps N]   prints a Markdown table on stdout */
#define G_LOG_DOMAIN "bench-shell"

#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <gtk/gtk.h>
#include <time.h>

#include "bh-dbus-error.h"
#include "bh-shell-hotkey.h"
#include "bh-shell-panel.h"
#include "bh-shell-qubes.h"
#include "bh-shell-resources.h"

typedef struct {
    GtkApplication *app;
    BhShellQubes *qubes;
    BhShellPanel *panel;
    GtkWidget *menu;
    GtkWidget *search;
    int reps;
    GArray *open_ms;
    GArray *key_ms;        /* the XTest key press to the menu drawn */
    GArray *key_cpu_ms;    /* the main thread's CPU time over the same span */
    guint active_flips[2]; /* the panel's is-active changes while timing: the action, the key */
    GArray *search_ms;
    GArray *open_cpu_ms; /* the main thread's CPU time over the same span */
    GArray *search_cpu_ms;
    GArray *search_made; /* row widgets new after each search */
    gint64 t0;
    double cpu0;
    gboolean measuring_open;
    gboolean measuring_key;
    BhShellHotkey *hotkey;
    Display *xtest;    /* a second connection: the key comes from "outside" */
    Window elsewhere;  /* its window, focused before each open: a user works in an app */
    gboolean filtered; /* search-changed ran since the text was set */
    int step;
    gboolean loaded;
} Bench;

static GtkWidget *find_widget(GtkWidget *root, GType type)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(root, type))
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = find_widget(c, type);
        if (found != NULL)
            return found;
    }
    return NULL;
}

static int compare_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, GArray *ms)
{
    g_array_sort(ms, compare_double);
    double median = g_array_index(ms, double, ms->len / 2);
    double p90 = g_array_index(ms, double, (ms->len * 9) / 10 < ms->len ? (ms->len * 9) / 10 : ms->len - 1);
    double max = g_array_index(ms, double, ms->len - 1);
    printf("| %s | %u | %.1f | %.1f | %.1f |\n", what, ms->len, median, p90, max);
}

static void next_step(Bench *b);

/* Row widgets under root not seen before (and marks them seen): GTK 4.8's
 * list view makes one per item new to its model. */
static guint count_new_rows(GtkWidget *root)
{
    static GQuark seen;
    guint n = 0;

    if (seen == 0)
        seen = g_quark_from_static_string("bench-seen");
    if (g_str_equal(G_OBJECT_TYPE_NAME(root), "GtkListItemWidget") &&
        g_object_get_qdata(G_OBJECT(root), seen) == NULL) {
        g_object_set_qdata(G_OBJECT(root), seen, GINT_TO_POINTER(1));
        n++;
    }
    for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL; c = gtk_widget_get_next_sibling(c))
        n += count_new_rows(c);
    return n;
}

/* The main thread's CPU time (GTK lays out and draws there with the cairo
 * renderer): unlike the wall time, it does not grow when other processes
 * take the machine's two cores. */
static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static gboolean next_step_idle(gpointer data)
{
    next_step(data);
    return G_SOURCE_REMOVE;
}

static void on_after_paint(GdkFrameClock *clock, Bench *b)
{
    if (b->t0 == 0)
        return;
    if (!b->measuring_open && !b->filtered)
        return; /* a frame for the typed text, before the list was filtered */
    double ms = (g_get_monotonic_time() - b->t0) / 1000.0;
    double cpu = thread_cpu_ms() - b->cpu0;
    if (b->measuring_key) {
        g_array_append_val(b->key_ms, ms);
        g_array_append_val(b->key_cpu_ms, cpu);
    } else {
        g_array_append_val(b->measuring_open ? b->open_ms : b->search_ms, ms);
        g_array_append_val(b->measuring_open ? b->open_cpu_ms : b->search_cpu_ms, cpu);
    }
    /* After the times: the walk is the bench's, not the menu's. */
    double made = count_new_rows(b->menu);
    if (!b->measuring_open)
        g_array_append_val(b->search_made, made);
    b->t0 = 0;
    g_signal_handlers_disconnect_by_func(clock, on_after_paint, b);
    /* Let the frame finish before the next change. */
    g_timeout_add(50, next_step_idle, b);
}

static void on_menu_map(GtkWidget *menu, Bench *b)
{
    GdkFrameClock *clock = gdk_surface_get_frame_clock(gtk_native_get_surface(GTK_NATIVE(menu)));
    g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), b);
}

static void on_search_changed(GtkSearchEntry *entry, Bench *b)
{
    b->filtered = TRUE;
}

/* Where the time goes: a change of the panel's is-active restyles it and
 * the open popover. */
static void on_active(GObject *panel, GParamSpec *pspec, Bench *b)
{
    if (b->t0 != 0 && b->measuring_open)
        b->active_flips[b->measuring_key ? 1 : 0]++;
}

static void send_menu_key(Bench *b)
{
    KeyCode super = XKeysymToKeycode(b->xtest, XK_Super_L);
    KeyCode space = XKeysymToKeycode(b->xtest, XK_space);

    XTestFakeKeyEvent(b->xtest, super, True, CurrentTime);
    XTestFakeKeyEvent(b->xtest, space, True, CurrentTime);
    XTestFakeKeyEvent(b->xtest, space, False, CurrentTime);
    XTestFakeKeyEvent(b->xtest, super, False, CurrentTime);
    XFlush(b->xtest);
}

static void on_hotkey(guint32 time, gpointer data)
{
    Bench *b = data;
    bh_shell_panel_open_menu(b->panel, time);
}

/* Each repetition: open by the action (measured), one search text
 * (measured), close; open by the key (measured), the same search (measured),
 * close. Both opens follow a close after a search (which clears it and
 * rebuilds the rows: that cost must fall on both alike). */
static void next_step(Bench *b)
{
    static const char *const queries[] = {"work",     "dvm 4", "q7 calc", "term",
                                          "new disp", "zzz",   "firefox", "q42 ed"};
    int rep = b->step / 6, phase = b->step % 6;
    gboolean by_key = b->hotkey != NULL && b->xtest != NULL;

    if (rep >= b->reps) {
        printf("| what | n | median ms | p90 ms | max ms |\n|---|---|---|---|---|\n");
        report("open (the menu action) to menu drawn", b->open_ms);
        if (b->key_ms->len > 0)
            report("Super+Space (XTest, the shell's grab) to menu drawn", b->key_ms);
        report("new search text to filtered list drawn", b->search_ms);
        report("open: the shell's main-thread CPU time", b->open_cpu_ms);
        if (b->key_cpu_ms->len > 0)
            report("Super+Space: the shell's main-thread CPU time", b->key_cpu_ms);
        report("search: the shell's main-thread CPU time", b->search_cpu_ms);
        report("search: row widgets made (count, not ms)", b->search_made);
        printf("\nthe panel's is-active changed %u times while the action opened the menu, %u times while "
               "the key did (%d each)\n",
               b->active_flips[0], b->active_flips[1], b->reps);
        g_application_quit(G_APPLICATION(b->app));
        return;
    }
    b->step++;
    if ((phase == 3 || phase == 4) && !by_key) {
        g_idle_add(next_step_idle, b); /* no key: the action's half alone */
    } else if (phase == 0 || phase == 3) {
        b->measuring_open = TRUE;
        b->measuring_key = phase == 3;
        b->cpu0 = thread_cpu_ms();
        b->t0 = g_get_monotonic_time();
        if (phase == 3)
            send_menu_key(b);
        else
            bh_shell_panel_open_menu(b->panel, GDK_CURRENT_TIME);
    } else if (phase == 1 || phase == 4) {
        GdkFrameClock *clock = gdk_surface_get_frame_clock(gtk_native_get_surface(GTK_NATIVE(b->menu)));
        b->measuring_open = FALSE;
        b->measuring_key = FALSE;
        b->filtered = FALSE;
        g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), b);
        b->cpu0 = thread_cpu_ms();
        b->t0 = g_get_monotonic_time();
        gtk_editable_set_text(GTK_EDITABLE(b->search), queries[rep % G_N_ELEMENTS(queries)]);
    } else {
        gtk_popover_popdown(GTK_POPOVER(b->menu));
        /* The next open starts as a user's does, from another window with
         * the focus, so both opens pay the panel's activation and the
         * grab's focus events go to that window, not to the panel. */
        if (b->xtest != NULL) {
            XSetInputFocus(b->xtest, b->elsewhere, RevertToPointerRoot, CurrentTime);
            XFlush(b->xtest);
        }
        g_timeout_add(100, next_step_idle, b);
    }
}

/* The rows the menu's list view shows (its visible row widgets: a menu may
 * keep hidden ones to bind again later): with 30 apps per qube, they stop
 * changing once every qube's list arrived. */
static guint count_rows(GtkWidget *view)
{
    guint n = 0;

    for (GtkWidget *c = gtk_widget_get_first_child(view); c != NULL; c = gtk_widget_get_next_sibling(c))
        n += gtk_widget_get_visible(c);
    return n;
}

static gboolean start(gpointer data)
{
    Bench *b = data;
    GtkWidget *button = find_widget(GTK_WIDGET(b->panel), GTK_TYPE_MENU_BUTTON);
    static guint last = 0;

    b->menu = GTK_WIDGET(gtk_menu_button_get_popover(GTK_MENU_BUTTON(button)));
    /* The app lists arrive after the qubes (one ListApps per qube): wait
     * until the menu's rows stop growing. */
    guint rows = count_rows(find_widget(b->menu, GTK_TYPE_LIST_VIEW));
    if (rows != last) {
        last = rows;
        g_timeout_add(1000, start, b);
        return G_SOURCE_REMOVE;
    }
    printf("%u rows shown in the menu without a search\n\n", rows);
    b->search = find_widget(b->menu, GTK_TYPE_SEARCH_ENTRY);
    g_signal_connect(b->menu, "map", G_CALLBACK(on_menu_map), b);
    g_signal_connect(b->search, "search-changed", G_CALLBACK(on_search_changed), b);
    if (b->xtest != NULL) {
        XSetInputFocus(b->xtest, b->elsewhere, RevertToPointerRoot, CurrentTime);
        XSync(b->xtest, False);
    }
    next_step(b);
    return G_SOURCE_REMOVE;
}

static void on_changed(BhShellQubes *qubes, Bench *b)
{
    if (b->loaded)
        return;
    b->loaded = TRUE;
    printf("%u qubes from bulkheadd\n\n", g_list_model_get_n_items(bh_shell_qubes_get_model(qubes)));
    b->panel = bh_shell_panel_new(b->app, qubes);
    gtk_window_present(GTK_WINDOW(b->panel));
    g_signal_connect(b->panel, "notify::is-active", G_CALLBACK(on_active), b);
    /* The shell's own grab (the real shell must not run: it would hold the
     * key; bench-shell.sh starts it after this). */
    b->hotkey = bh_shell_hotkey_new(gtk_widget_get_display(GTK_WIDGET(b->panel)), on_hotkey, b);
    b->xtest = XOpenDisplay(NULL);
    if (b->xtest != NULL) {
        b->elsewhere =
            XCreateSimpleWindow(b->xtest, DefaultRootWindow(b->xtest), 600, 600, 100, 100, 0, 0, 0);
        XMapWindow(b->xtest, b->elsewhere);
        XSync(b->xtest, False);
    }
    if (b->hotkey == NULL || b->xtest == NULL)
        printf("the menu key could not be grabbed or sent: only the action is measured\n\n");
    /* The panel first maps and settles; then the measured opens. */
    g_timeout_add(1000, start, b);
}

static gboolean give_up(gpointer app)
{
    g_printerr("bench-shell-menu: no result within 120 s\n");
    g_application_quit(G_APPLICATION(app));
    return G_SOURCE_REMOVE;
}

static void on_activate(GtkApplication *app, Bench *b)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhDbusAdmin1) admin = bh_dbus_admin1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
        BH_DBUS_NAME, BH_DBUS_PATH, NULL, &error);

    if (admin == NULL) {
        g_printerr("bench-shell-menu: %s\n", error->message);
        return;
    }
    /* The shell's resources and CSS, as BhShellApp's start-up installs them. */
    g_resources_register(bh_shell_get_resource());
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/org/bulkhead/shell/shell.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_USER + 10);
    g_application_hold(G_APPLICATION(app));
    g_timeout_add_seconds(120, give_up, app);
    b->qubes = bh_shell_qubes_new(admin);
    g_signal_connect(b->qubes, "changed", G_CALLBACK(on_changed), b);
}

int main(int argc, char **argv)
{
    Bench b = {0};
    const GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &b.reps, "Repetitions (default 21)", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;

    b.reps = 21;
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("bench-shell-menu: %s\n", error->message);
        return 2;
    }
    b.open_ms = g_array_new(FALSE, FALSE, sizeof(double));
    b.key_ms = g_array_new(FALSE, FALSE, sizeof(double));
    b.key_cpu_ms = g_array_new(FALSE, FALSE, sizeof(double));
    b.search_ms = g_array_new(FALSE, FALSE, sizeof(double));
    b.open_cpu_ms = g_array_new(FALSE, FALSE, sizeof(double));
    b.search_cpu_ms = g_array_new(FALSE, FALSE, sizeof(double));
    b.search_made = g_array_new(FALSE, FALSE, sizeof(double));
    /* Not the shell's id: the real shell may run beside it (bench-shell.sh). */
    b.app = gtk_application_new("org.bulkhead.BenchShellMenu", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(b.app, "activate", G_CALLBACK(on_activate), &b);
    int status = g_application_run(G_APPLICATION(b.app), 0, NULL);
    int done = b.open_ms->len == (guint)b.reps && b.search_ms->len >= (guint)b.reps;
    g_clear_pointer(&b.hotkey, bh_shell_hotkey_free);
    if (b.xtest != NULL)
        XCloseDisplay(b.xtest);
    g_clear_object(&b.qubes);
    g_object_unref(b.app);
    g_array_unref(b.open_ms);
    g_array_unref(b.key_ms);
    g_array_unref(b.key_cpu_ms);
    g_array_unref(b.search_ms);
    g_array_unref(b.open_cpu_ms);
    g_array_unref(b.search_cpu_ms);
    g_array_unref(b.search_made);
    return status != 0 || !done;
}
