/* main.c — bulkheadd: options, the bus name, signals and the main loop.
 *
 * Owns the process: everything else is BhDaemon in the library. The object
 * is exported before the name is requested, so a client that sees the name
 * on the bus can call at once.
 */
#define G_LOG_DOMAIN "bulkheadd"

#include <glib-unix.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "backend.h"
#include "bh-daemon.h"
#include "bh-dbus-error.h"
#include "config.h"
#include "xen.h"

typedef struct {
    GMainLoop *loop;
    BhDaemon *daemon;
    const char *state_dir;
    gboolean autostarted;
    gboolean no_autostart;
    gboolean read_app_lists;
    int exit_code;
} BhMain;

static void bh_main_bus_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
    BhMain *m = user_data;
    g_autoptr(GError) error = NULL;
    if (!bh_daemon_export(m->daemon, connection, &error)) {
        fprintf(stderr, "bulkheadd: error: cannot export %s: %s\n", BH_DBUS_PATH, error->message);
        m->exit_code = 1;
        g_main_loop_quit(m->loop);
    }
}

static void bh_main_name_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
    BhMain *m = user_data;
    g_message("ready: %s on the session bus, state directory %s, backend %s", name, m->state_dir,
              bh_daemon_get_backend_name(m->daemon));
    /* Only once we are the one daemon on this bus: a refused second daemon
     * must not start or adopt anything. */
    if (!m->autostarted) {
        m->autostarted = TRUE;
        /* Qubes left running by a daemon that crashed come first: autostart
         * then finds them running. */
        bh_daemon_adopt(m->daemon);
        bh_daemon_preload_adopt(m->daemon);
        if (m->no_autostart)
            g_message("not starting the qubes marked autostart (--no-autostart)");
        else
            bh_daemon_autostart(m->daemon);
        /* Queued behind autostart's starts and their lists. */
        if (m->read_app_lists)
            bh_daemon_apps_read_missing(m->daemon);
        /* After autostart's qubes had their turn at the CPU. */
        bh_daemon_preload_soon(m->daemon, 3000);
    }
}

static void bh_main_name_lost(GDBusConnection *connection, const char *name, gpointer user_data)
{
    BhMain *m = user_data;
    if (connection == NULL)
        fprintf(stderr, "bulkheadd: error: cannot connect to the session bus\n");
    else
        fprintf(stderr,
                "bulkheadd: error: %s is owned by another process on this bus (another "
                "bulkheadd?); stop it first\n",
                name);
    m->exit_code = 1;
    g_main_loop_quit(m->loop);
}

static gboolean bh_main_quit_on_signal(gpointer user_data)
{
    BhMain *m = user_data;
    g_message("stopping on signal");
    g_main_loop_quit(m->loop);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    g_autofree char *state_dir = NULL;
    g_autofree char *backend = NULL;
    g_autofree char *uplink_resolv_conf = NULL;
    gboolean no_guid = FALSE, no_autostart = FALSE, read_app_lists = FALSE;
    gboolean verbose = FALSE, version = FALSE;
    g_autoptr(GError) error = NULL;
    g_autofree char *choices = bh_backend_describe_choices();
    g_autofree char *backend_help =
        g_strdup_printf("Backend that runs qubes: %s (default: xen in dom0 on Xen, else sandbox)", choices);
    const GOptionEntry entries[] = {
        {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
         "Keep the store (qubes.db), the lock and qube data in DIR (default: "
         "$XDG_DATA_HOME/bulkhead)",
         "DIR"},
        {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, backend_help, "NAME"},
        {"no-guid", 0, 0, G_OPTION_ARG_NONE, &no_guid,
         "Do not show the windows of running qubes (no bulkhead-guid)", NULL},
        {"no-autostart", 0, 0, G_OPTION_ARG_NONE, &no_autostart,
         "Do not start the qubes whose autostart is True (running ones are still adopted)", NULL},
        {"read-app-lists", 0, 0, G_OPTION_ARG_NONE, &read_app_lists,
         "Start each halted template and standalone that has no app list yet, one at a time, to read "
         "its list for the menu, and shut it down again",
         NULL},
        {"uplink-resolv-conf", 0, 0, G_OPTION_ARG_FILENAME, &uplink_resolv_conf,
         "The qubes' DNS (10.139.1.1) asks the first nameserver FILE names; 127.0.0.1 is the host's "
         "(default: the uplink's forwarder to the host's /etc/resolv.conf)",
         "FILE"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every change and state transition", NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
        {NULL},
    };

    /* bulkheadd never reads its input, and whatever it starts must not get the
     * terminal it was started from (./run's): stdin is /dev/null from here on.
     * stdout/stderr stay, they are our log. */
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        if (null_fd != STDIN_FILENO)
            close(null_fd);
    }

    setlocale(LC_ALL, "");
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "The Bulkhead daemon: keeps the qube store and serves "
                                          "org.bulkhead.Admin1 on the session bus.\n"
                                          "One daemon per state directory.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "bulkheadd: error: %s\nTry 'bulkheadd --help' for more information.\n",
                error->message);
        return 2;
    }
    if (argc > 1) {
        fprintf(stderr, "bulkheadd: error: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    if (version) {
        printf("bulkheadd %s\n", BH_VERSION);
        return 0;
    }
    if (verbose)
        g_setenv("G_MESSAGES_DEBUG", "bulkheadd bh-daemon bh-backend bh-guid bh-xen", FALSE);
    if (state_dir == NULL)
        state_dir = bh_daemon_default_state_dir();

    /* In dom0 on Xen the hypervisor is the point; anywhere else the sandbox
     * backend is the embedded default (--backend none turns power off). */
    if (backend == NULL)
        backend = g_strdup(bh_xen_running_in_dom0(NULL) ? "xen" : "sandbox");
    BhDaemonConfig config = {.state_dir = state_dir,
                             .backend = backend,
                             .no_guid = no_guid,
                             .uplink_resolv_conf = uplink_resolv_conf};
    g_autoptr(BhDaemon) daemon = bh_daemon_new(&config, &error);
    if (daemon == NULL) {
        fprintf(stderr, "bulkheadd: error: %s\n", error->message);
        return 1;
    }

    BhMain m = {.loop = g_main_loop_new(NULL, FALSE),
                .daemon = daemon,
                .state_dir = state_dir,
                .no_autostart = no_autostart,
                .read_app_lists = read_app_lists};
    guint owner = g_bus_own_name(G_BUS_TYPE_SESSION, BH_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                 bh_main_bus_acquired, bh_main_name_acquired, bh_main_name_lost, &m, NULL);
    guint sigterm = g_unix_signal_add(SIGTERM, bh_main_quit_on_signal, &m);
    guint sigint = g_unix_signal_add(SIGINT, bh_main_quit_on_signal, &m);
    /* The terminal ./run started us from went away: the session ended, which
     * is a stop (qubes outlive only a crash, to be adopted). */
    guint sighup = g_unix_signal_add(SIGHUP, bh_main_quit_on_signal, &m);

    g_main_loop_run(m.loop);

    g_source_remove(sigterm);
    g_source_remove(sigint);
    g_source_remove(sighup);
    g_bus_unown_name(owner);
    bh_daemon_unexport(daemon);
    bh_daemon_stop(daemon);
    g_main_loop_unref(m.loop);
    return m.exit_code;
}
