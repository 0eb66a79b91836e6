/* bh-guid-main.c — one guid's life, from its command line to its exit
 * status: parses the arguments, opens the display, connects to the qube's
 * gui-agent and runs until the agent goes away (exit 0), cannot be reached
 * (exit 1) or breaks the protocol (exit 2; docs/guid.md). Runs in a process
 * of its own: bulkhead-guid's main(), or a child forked by the launcher
 * (bh-guid-launcher.c) before anything here ran.
 * Owns: the process (signals, exit status). Must never: hold state other
 * modules need: everything lives in BhGuidSession. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-main.h"

#include <errno.h>
#include <glib-unix.h>
#include <gtk/gtk.h>

#include "bh-guid-args.h"
#include "bh-guid-session.h"
#include "bh-guid-style.h"
#include "bulkhead/winbuf.h"
#include "bh-guid-xguard.h"

static gboolean on_signal(gpointer data)
{
    bh_guid_session_stop(BH_GUID_SESSION(data), BH_GUID_EXIT_DISCONNECTED, "stopped by a signal");
    return G_SOURCE_CONTINUE;
}

static void on_finished(BhGuidSession *session, int status, gpointer data)
{
    g_main_loop_quit(data);
}

int bh_guid_main(int argc, char **argv)
{
    BhGuidArgs args = {0};
    g_autoptr(GError) error = NULL;

    /* All of guid's log on stderr, where bulkheadd collects it. */
    g_log_writer_default_set_use_stderr(TRUE);

    /* Before any guest memory is mapped: a SIGBUS while guid reads a
     * qube's buffer costs that window, never the process. */
    if (bh_winbuf_guard_install() < 0) {
        g_printerr("bulkhead-guid: cannot install the SIGBUS guard: %s\n", g_strerror(errno));
        return BH_GUID_EXIT_FAILURE;
    }
    if (!bh_guid_args_parse(&args, &argc, &argv, &error)) {
        g_printerr("bulkhead-guid: %s\n", error->message);
        return BH_GUID_EXIT_FAILURE;
    }
    /* No OpenGL unless asked for (BH_GUID_GL=1): GTK's GL set-up loads the
     * Mesa driver (with LLVM for software GL) into every guid, one per
     * running qube: measured 37 MiB PSS per idle guid with it, 11 MiB
     * without (bench/RESULTS.md). guid then draws with GTK's cairo renderer,
     * the path bench/frames measures. */
    if (g_strcmp0(g_getenv("BH_GUID_GL"), "1") != 0) {
        const char *debug = g_getenv("GDK_DEBUG");
        g_autofree char *flags = debug != NULL && *debug != '\0' ? g_strconcat(debug, ",gl-disable", NULL)
                                                                 : g_strdup("gl-disable");
        g_setenv("GDK_DEBUG", flags, TRUE);
    }
    bh_guid_style_select_theme();
    /* GTK 4.8 opens the session bus inside gtk_init (the document portal's
     * file transfer, synchronous round trips to dbus-daemon) for drag and
     * drop of files, which guid never does. In a burst of starts that bus
     * is busy and those round trips were on every guid's way to its agent
     * (bench/RESULTS.md "Start at scale VII"). So GTK never sees the bus:
     * the variable says "disabled:" for the rest of guid's life, because
     * once gtk_init has run GTK's threads (fontconfig, the icon theme's
     * pool) may call getenv, and a setenv beside them is a data race in
     * glibc. guid's own use of the bus (the global clipboard) gets the
     * address from here and connects itself, when a user copies or pastes.
     * Still one thread here. */
    g_autofree char *bus = g_strdup(g_getenv("DBUS_SESSION_BUS_ADDRESS"));
    if (bus != NULL)
        g_setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);
    /* Accessibility (AT-SPI) finds its bus through the session bus when
     * AT_SPI_BUS_ADDRESS does not name it, and that bus is hidden: GTK would
     * warn at the first window ("Unable to acquire session bus") and screen
     * readers would not see guid's windows. bulkheadd asks the session bus
     * for the address and gives it to each guid in AT_SPI_BUS_ADDRESS (the
     * launcher's children get it in their request); without one there is no
     * accessibility bus on this desktop (or it was not known yet), and GTK's
     * accessibility is off, quietly. A GTK_A11Y the user set stays. */
    const char *a11y = g_getenv("AT_SPI_BUS_ADDRESS");
    if ((a11y == NULL || *a11y == '\0') && g_getenv("GTK_A11Y") == NULL)
        g_setenv("GTK_A11Y", "none", TRUE);
    gboolean opened = gtk_init_check();
    if (!opened) {
        g_printerr("bulkhead-guid: cannot open the display (DISPLAY=%s, WAYLAND_DISPLAY=%s)\n",
                   g_getenv("DISPLAY") ?: "", g_getenv("WAYLAND_DISPLAY") ?: "");
        bh_guid_args_clear(&args);
        return BH_GUID_EXIT_FAILURE;
    }
    bh_guid_style_install(gdk_display_get_default(), args.label);
    bh_guid_xguard_install(gdk_display_get_default());

    g_autoptr(BhGuidSession) session = bh_guid_session_new(args.qube, args.label, args.allow_fullscreen, bus);
    if (!bh_guid_session_connect(session, args.domid, args.connect_timeout_ms, &error) ||
        !bh_guid_session_start(session, &error)) {
        g_printerr("bulkhead-guid: %s\n", error->message);
        bh_guid_args_clear(&args);
        return BH_GUID_EXIT_FAILURE;
    }

    if (args.warm_up)
        bh_guid_session_warm_up(session);
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_signal_connect(session, "finished", G_CALLBACK(on_finished), loop);
    g_unix_signal_add(SIGTERM, on_signal, session);
    g_unix_signal_add(SIGINT, on_signal, session);
    if (!bh_guid_session_is_finished(session))
        g_main_loop_run(loop);

    int status = (int)bh_guid_session_get_exit_status(session);
    bh_guid_args_clear(&args);
    return status;
}
