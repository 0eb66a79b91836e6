/* bench-settings.c — bulkhead-settings with many qubes: time from opening the
 * qube manager or the network map to the window drawn, and from a netvm
 * change made on the map to the map drawn with the qube moved
 * (bench/README.md, "bench/settings").
 *
 * Owns the measurement only: it links libbh_settings, creates the qubes
 * through the daemon's Create (bench-settings.sh started the daemon), and
 * opens the real windows on the X display. "Drawn" is the window's frame
 * clock "after-paint" that follows the change. Must never: change the
 * settings' code paths.
 *
 *   bench-settings [--reps N] [--qubes N]   prints a Markdown table */
#define G_LOG_DOMAIN "bench-settings"

#include "bh-dbus-error.h"
#include "bh-settings-context.h"
#include "bh-settings-manager.h"
#include "bh-settings-netmap.h"
#include "bh-shell-qube.h"

#include <gtk/gtk.h>
#include <time.h>

static BhSettingsContext *context;
static gboolean painted;

static int compare_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, GArray *ms)
{
    g_array_sort(ms, compare_double);
    double median = g_array_index(ms, double, ms->len / 2);
    double p90 = g_array_index(ms, double, MIN(ms->len * 9 / 10, ms->len - 1));
    double max = g_array_index(ms, double, ms->len - 1);
    g_print("| %s | %u | %.1f | %.1f | %.1f |\n", what, ms->len, median, p90, max);
}

static void spin_until(gboolean (*cond)(gpointer), gpointer data)
{
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

    while (!cond(data)) {
        if (g_get_monotonic_time() > deadline)
            g_error("timed out");
        g_main_context_iteration(NULL, TRUE);
    }
}

static gboolean is_painted(gpointer data)
{
    return painted;
}

static void on_after_paint(GdkFrameClock *clock, gpointer data)
{
    painted = TRUE;
}

/* Shown and one frame painted after it was mapped. */
static void wait_drawn(GtkWindow *window)
{
    GdkFrameClock *clock;
    gulong id;

    while (!gtk_widget_get_mapped(GTK_WIDGET(window)))
        g_main_context_iteration(NULL, TRUE);
    clock = gtk_widget_get_frame_clock(GTK_WIDGET(window));
    painted = FALSE;
    id = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), NULL);
    gtk_widget_queue_draw(GTK_WIDGET(window));
    spin_until(is_painted, NULL);
    g_signal_handler_disconnect(clock, id);
}

static gboolean list_has(gpointer data)
{
    return g_list_model_get_n_items(bh_shell_qubes_get_model(bh_settings_context_get_qubes(context))) >=
           GPOINTER_TO_UINT(data);
}

typedef struct {
    const char *qube, *netvm;
} Netvm;

static gboolean netvm_is(gpointer data)
{
    Netvm *want = data;
    BhShellQube *q = bh_shell_qubes_find(bh_settings_context_get_qubes(context), want->qube);
    return q != NULL && g_strcmp0(bh_shell_qube_get_netvm(q), want->netvm) == 0;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static GArray *cpu_of_last; /* the CPU time of each open, by kind */

static double open_ms(const char *kind)
{
    gint64 t0 = g_get_monotonic_time();
    double c0 = cpu_ms();
    GtkWindow *window = bh_settings_open(context, kind, NULL, NULL);
    double ms;

    wait_drawn(window);
    ms = (g_get_monotonic_time() - t0) / 1000.0;
    double c = cpu_ms() - c0;
    g_array_append_val(cpu_of_last, c);
    gtk_window_destroy(window);
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(NULL, FALSE);
    return ms;
}

int main(int argc, char **argv)
{
    int reps = 11, qubes = 200;
    g_autoptr(GError) error = NULL;
    GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &reps, "Repetitions", "N"},
        {"qubes", 0, 0, G_OPTION_ARG_INT, &qubes, "Qubes to create", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) options = g_option_context_new("");
    g_autoptr(GArray) manager = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) map = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) relink = g_array_new(FALSE, FALSE, sizeof(double));
    guint before;

    g_option_context_add_main_entries(options, entries, NULL);
    if (!g_option_context_parse(options, &argc, &argv, &error))
        g_error("%s", error->message);
    gtk_init();
    (void)bh_dbus_error_quark();
    context = bh_settings_context_new(NULL, &error);
    if (context == NULL)
        g_error("%s", error->message);
    spin_until(list_has, GUINT_TO_POINTER(2));
    before = g_list_model_get_n_items(bh_shell_qubes_get_model(bh_settings_context_get_qubes(context)));
    for (int i = 0; i < qubes; i++) {
        g_autofree char *name = g_strdup_printf("q-%03d", i);
        GVariantBuilder props;
        g_variant_builder_init(&props, G_VARIANT_TYPE("a{ss}"));
        if (!bh_dbus_admin1_call_create_sync(bh_settings_context_get_admin(context), "AppVM", name,
                                             i % 2 ? "blue" : "orange", "", g_variant_builder_end(&props),
                                             NULL, &error))
            g_error("%s", error->message);
    }
    spin_until(list_has, GUINT_TO_POINTER(before + qubes));
    g_print("qubes listed: %u (the first-run set and %d app qubes)\n\n",
            g_list_model_get_n_items(bh_shell_qubes_get_model(bh_settings_context_get_qubes(context))),
            qubes);

    g_autoptr(GArray) manager_cpu = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) map_cpu = g_array_new(FALSE, FALSE, sizeof(double));
    for (int r = 0; r < reps; r++) {
        cpu_of_last = manager_cpu;
        double m = open_ms("manager");
        cpu_of_last = map_cpu;
        double n = open_ms("map");
        g_array_append_val(manager, m);
        g_array_append_val(map, n);
    }

    /* A netvm change from the map: the call the drop makes, to the map drawn
     * with the qube under its new netvm. */
    GtkWindow *window = bh_settings_open(context, "map", NULL, NULL);
    BhSettingsNetmap *netmap = NULL;
    wait_drawn(window);
    for (GtkWidget *w = GTK_WIDGET(window); w != NULL && netmap == NULL;) {
        /* the map is the one BhSettingsNetmap in the window */
        GtkWidget *child = gtk_widget_get_first_child(w);
        if (child != NULL && BH_IS_SETTINGS_NETMAP(child))
            netmap = BH_SETTINGS_NETMAP(child);
        else if (child != NULL && gtk_widget_get_first_child(child) != NULL)
            w = child;
        else if (child != NULL && gtk_widget_get_next_sibling(child) != NULL)
            w = gtk_widget_get_next_sibling(child);
        else
            break;
    }
    if (netmap == NULL)
        g_error("no map in the window");
    for (int r = 0; r < reps; r++) {
        Netvm want = {qubes > 100 ? "q-100" : "work", r % 2 ? "sys-firewall" : "sys-net"};
        gint64 t0 = g_get_monotonic_time();

        bh_settings_netmap_relink(netmap, want.qube, want.netvm);
        spin_until(netvm_is, &want);
        wait_drawn(window);
        double ms = (g_get_monotonic_time() - t0) / 1000.0;
        g_array_append_val(relink, ms);
    }

    g_print("| what | n | median ms | p90 ms | max ms |\n|---|---|---|---|---|\n");
    report("open the qube manager to drawn", manager);
    report("  of which bench-settings' own CPU time", manager_cpu);
    report("open the network map to drawn", map);
    report("  of which bench-settings' own CPU time", map_cpu);
    report("netvm change on the map to the map drawn again", relink);
    return 0;
}
