/* test-guid-a11y.c — guid's windows reach screen readers although guid hides
 * the session bus from GTK (docs/guid.md "Accessibility").
 *
 * Proves, with bulkheadd's own guid set (core/daemon/bh-guid-set.c) and real
 * guids showing a fake agent's window on Xvfb:
 * - /guid/a11y/launcher, /guid/a11y/exec (run under dbus-run-session, where
 *   org.a11y.Bus is the real at-spi-bus-launcher, activated by the set's
 *   question): a guid started right after the set asked (before the answer)
 *   waits for it; a guid forked by the launcher, then one started on its
 *   own, each owns a connection on that bus (its pid, asked of the a11y
 *   bus's daemon) once its window is shown; no "Unable to acquire session
 *   bus" among guid's log lines.
 * - /guid/a11y/none (a private bus without org.a11y.Bus): the set says there
 *   is none and keeps no address; a guid still shows its window and logs no
 *   such warning (its GTK's accessibility is off).
 * - /guid/a11y/silent (an org.a11y.Bus that never answers): a guid started
 *   while the question is out waits for it at most 1 s, then shows its
 *   window without the address and without the warning. */
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "bh-display.h"
#include "bh-guid-set.h"

static const char *opt_guid, *opt_agent;
/* What the guid set relayed of guid's log, and said itself (our writer). */
static gboolean saw_session_warning, saw_no_a11y, saw_waited;

static GLogWriterOutput record(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "MESSAGE") != 0 || fields[i].length >= 0)
            continue;
        const char *text = fields[i].value;
        if (strstr(text, "Unable to acquire session bus") != NULL)
            saw_session_warning = TRUE;
        if (strstr(text, "no accessibility bus") != NULL)
            saw_no_a11y = TRUE;
        if (strstr(text, "no answer from org.a11y.Bus") != NULL)
            saw_waited = TRUE;
    }
    return g_log_writer_default(level, fields, n_fields, data);
}

static gboolean a11y_known(gpointer set)
{
    return bh_guid_set_get_a11y(set) != NULL;
}

static gboolean no_a11y_said(gpointer unused)
{
    return saw_no_a11y;
}

typedef struct {
    GDBusConnection *bus;
    pid_t pid;
} Owner;

/* TRUE when o->pid owns a connection on o->bus. */
static gboolean pid_on_bus(gpointer data)
{
    Owner *o = data;
    g_autoptr(GVariant) names = g_dbus_connection_call_sync(
        o->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListNames", NULL,
        G_VARIANT_TYPE("(as)"), 0, 5000, NULL, NULL);
    g_assert_nonnull(names);
    g_autoptr(GVariantIter) it = NULL;
    const char *name;
    g_variant_get(names, "(as)", &it);
    while (g_variant_iter_next(it, "&s", &name)) {
        if (name[0] != ':')
            continue;
        g_autoptr(GVariant) pid = g_dbus_connection_call_sync(
            o->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "GetConnectionUnixProcessID", g_variant_new("(s)", name), G_VARIANT_TYPE("(u)"), 0, 5000, NULL,
            NULL);
        guint32 p = 0;
        if (pid != NULL)
            g_variant_get(pid, "(u)", &p);
        if (p == (guint32)o->pid)
            return TRUE;
    }
    return FALSE;
}

/* The qube start_shown waits for. */
static const char *starting;

/* The launcher's STARTED reply comes through the main loop; a guid that
 * ended at once has no pid, only its log. */
static gboolean guid_started(gpointer set)
{
    return bh_guid_set_get_pid(set, starting) > 0 || saw_session_warning;
}

/* Starts qube's guid for a fake agent in domain domid and returns once the
 * agent saw its window shown (a frame drawn after the first was released). */
static GSubprocess *start_shown(BhGuidSet *set, const char *qube, guint domid, pid_t *pid)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_autofree char *dom = g_strdup_printf("%u", domid);
    g_subprocess_launcher_setenv(l, "BH_VCHAN_DOMID", dom, TRUE);
    g_autoptr(GError) error = NULL;
    GSubprocess *agent =
        g_subprocess_launcher_spawn(l, &error, opt_agent, "--scenario", "second-frame", NULL);
    g_assert_no_error(error);
    g_assert_true(bh_guid_set_start(set, qube, "blue", domid, 0, 0, &error));
    g_assert_no_error(error);
    starting = qube;
    g_assert_true(bh_wait_until(guid_started, set, 60000));
    *pid = bh_guid_set_get_pid(set, qube);
    g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(agent));
    gboolean shown = FALSE;
    while (!shown) {
        g_autofree char *line = g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
        g_assert_no_error(error);
        if (line == NULL)
            break; /* the agent ended: its guid did */
        shown = strstr(line, "SECOND shown") != NULL;
    }
    /* guid's log so far (G_DEBUG=fatal-warnings: GTK's warning ends guid). */
    g_usleep(300 * 1000);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_assert_false(saw_session_warning);
    g_assert_true(shown);
    return agent;
}

static void check_registers(gboolean launcher, const char *qube, guint domid)
{
    g_setenv("BH_GUID_LAUNCHER", launcher ? "1" : "0", TRUE);
    saw_session_warning = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) session = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
    g_assert_no_error(error);
    BhGuidSet *set = bh_guid_set_new(NULL, NULL);
    bh_guid_set_watch_a11y(set, session);
    /* At once, as adoption and autostart do: the answer is not there yet,
     * and the guid waits for it. */
    g_assert_null(bh_guid_set_get_a11y(set));
    pid_t pid = 0;
    g_autoptr(GSubprocess) agent = start_shown(set, qube, domid, &pid);
    g_assert_true(a11y_known(set));
    g_test_message("a11y bus: %s", bh_guid_set_get_a11y(set));

    g_autoptr(GDBusConnection) a11y = g_dbus_connection_new_for_address_sync(
        bh_guid_set_get_a11y(set),
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
        NULL, &error);
    g_assert_no_error(error);
    Owner o = {.bus = a11y, .pid = pid};
    /* Which way it started: forked by the launcher (our child), or ours. */
    if (launcher)
        g_assert_cmpint(bh_pid_parent(bh_pid_parent(o.pid)), ==, getpid());
    else
        g_assert_cmpint(bh_pid_parent(o.pid), ==, getpid());
    g_assert_true(bh_wait_until(pid_on_bus, &o, 60000));
    /* Its log reached us through the set (the lines are read in order). */
    bh_wait_until(no_a11y_said, NULL, 1000);
    g_assert_false(saw_session_warning);

    bh_guid_set_free(set);
    g_subprocess_force_exit(agent);
    g_subprocess_wait(agent, NULL, NULL);
}

static void test_launcher(void)
{
    check_registers(TRUE, "reader", 61);
}

static void test_exec(void)
{
    check_registers(FALSE, "reader2", 62);
}

static char *saved_display, *saved_runtime; /* set in main */

/* A bus of the test's own (GTestDBus: only the services it is given, so no
 * org.a11y.Bus). GTestDBus clears the display and the runtime directory
 * (the vchan's) as it starts and stops: they are put back. */
static GTestDBus *private_bus_up(void)
{
    GTestDBus *bus = g_test_dbus_new(G_TEST_DBUS_NONE);
    g_test_dbus_up(bus);
    g_setenv("DISPLAY", saved_display, TRUE);
    g_setenv("XDG_RUNTIME_DIR", saved_runtime, TRUE);
    return bus;
}

static void private_bus_down(GTestDBus *bus)
{
    g_test_dbus_down(bus);
    g_setenv("DISPLAY", saved_display, TRUE);
    g_setenv("XDG_RUNTIME_DIR", saved_runtime, TRUE);
}

static void test_none(void)
{
    saw_session_warning = saw_no_a11y = FALSE;
    g_autoptr(GTestDBus) bus = private_bus_up();
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) session = g_dbus_connection_new_for_address_sync(
        g_test_dbus_get_bus_address(bus),
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
        NULL, &error);
    g_assert_no_error(error);
    BhGuidSet *set = bh_guid_set_new(NULL, NULL);
    bh_guid_set_watch_a11y(set, session);
    g_assert_true(bh_wait_until(no_a11y_said, NULL, 60000));
    g_assert_null(bh_guid_set_get_a11y(set));

    pid_t pid = 0;
    g_autoptr(GSubprocess) agent = start_shown(set, "quiet", 63, &pid);

    bh_guid_set_free(set);
    g_subprocess_force_exit(agent);
    g_subprocess_wait(agent, NULL, NULL);
    g_dbus_connection_close_sync(session, NULL, NULL);
    private_bus_down(bus);
}

/* An org.a11y.Bus that takes GetAddress and never answers. */
static void hold_call(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                      const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer held)
{
    g_ptr_array_add(held, g_object_ref(inv));
}

static gboolean waited_said(gpointer unused)
{
    return saw_waited;
}

static void test_silent(void)
{
    saw_session_warning = saw_waited = FALSE;
    g_autoptr(GTestDBus) bus = private_bus_up();
    g_autoptr(GError) error = NULL;
    const GDBusConnectionFlags flags =
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION;
    g_autoptr(GDBusConnection) fake =
        g_dbus_connection_new_for_address_sync(g_test_dbus_get_bus_address(bus), flags, NULL, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(GDBusNodeInfo) node =
        g_dbus_node_info_new_for_xml("<node><interface name='org.a11y.Bus'><method name='GetAddress'>"
                                     "<arg type='s' direction='out'/></method></interface></node>",
                                     &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(g_object_unref);
    const GDBusInterfaceVTable vtable = {hold_call};
    g_assert_cmpuint(g_dbus_connection_register_object(fake, "/org/a11y/bus", node->interfaces[0], &vtable,
                                                       held, NULL, &error),
                     >, 0);
    g_autoptr(GVariant) owned = g_dbus_connection_call_sync(
        fake, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
        g_variant_new("(su)", "org.a11y.Bus", 0u), G_VARIANT_TYPE("(u)"), 0, 5000, NULL, &error);
    g_assert_no_error(error);

    g_autoptr(GDBusConnection) session =
        g_dbus_connection_new_for_address_sync(g_test_dbus_get_bus_address(bus), flags, NULL, NULL, &error);
    g_assert_no_error(error);
    BhGuidSet *set = bh_guid_set_new(NULL, NULL);
    bh_guid_set_watch_a11y(set, session);
    /* Started while the question is out: it waits, then starts without. */
    pid_t pid = 0;
    g_autoptr(GSubprocess) agent = start_shown(set, "patient", 64, &pid);
    g_assert_true(bh_wait_until(waited_said, NULL, 5000));
    g_assert_cmpuint(held->len, >=, 1); /* and the watch's own, once it saw the name */
    g_assert_null(bh_guid_set_get_a11y(set));

    bh_guid_set_free(set);
    g_subprocess_force_exit(agent);
    g_subprocess_wait(agent, NULL, NULL);
    g_dbus_connection_close_sync(session, NULL, NULL);
    g_dbus_connection_close_sync(fake, NULL, NULL);
    private_bus_down(bus);
}

int main(int argc, char **argv)
{
    g_log_writer_default_set_use_stderr(TRUE);
    g_log_set_writer_func(record, NULL, NULL);
    g_test_init(&argc, &argv, NULL);
    BhPrograms prog;
    bh_programs_parse(&prog, argc, argv);
    opt_guid = prog.guid;
    opt_agent = prog.agent;
    g_setenv("BH_GUID_PATH", opt_guid, TRUE);
    saved_display = g_strdup(g_getenv("DISPLAY"));
    saved_runtime = g_strdup(g_getenv("XDG_RUNTIME_DIR"));
    /* The display tests' wrapper turns accessibility off for every GTK. */
    g_unsetenv("GTK_A11Y");
    g_unsetenv("NO_AT_BRIDGE");
    g_unsetenv("AT_SPI_BUS_ADDRESS");
    g_test_add_func("/guid/a11y/launcher", test_launcher);
    g_test_add_func("/guid/a11y/exec", test_exec);
    g_test_add_func("/guid/a11y/none", test_none);
    g_test_add_func("/guid/a11y/silent", test_silent);
    return g_test_run();
}
