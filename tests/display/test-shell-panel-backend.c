/* test-shell-panel-backend.c — the panel on the display it is given (issue 17:
 * "on X11 a dock window with a strut, elsewhere a normal window that says
 * so"). Run on GTK's Broadway backend (a real gtk4-broadwayd, started by
 * with-broadway.sh) it must be undocked and show its "not docked" note; run
 * on Xvfb (with-xvfb.sh), the control, docked and without the note.
 *
 * Owns only the check: it builds the shell's real panel (libbh_shell) in a
 * GtkApplication of its own, against a session bus where no bulkheadd runs
 * (the panel shows what runs: nothing), and looks at the mapped widgets.
 *
 *   test-shell-panel-backend --expect docked|undocked   exit 0 when it holds */
#define G_LOG_DOMAIN "test-shell-panel"

#include <gtk/gtk.h>
#include <string.h>

#include "bh-dbus-error.h"
#include "bh-shell-panel.h"
#include "bh-shell-qubes.h"
#include "bh-shell-resources.h"

#define BH_NOTE_PREFIX "not docked"

typedef struct {
    gboolean expect_docked;
    BhShellQubes *qubes;
    BhShellPanel *panel;
    int status;
} Check;

/* The mapped label whose text starts with the note's words, if any. */
static GtkWidget *find_note(GtkWidget *root)
{
    if (GTK_IS_LABEL(root) && gtk_widget_get_mapped(root) &&
        g_str_has_prefix(gtk_label_get_text(GTK_LABEL(root)), BH_NOTE_PREFIX))
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = find_note(c);
        if (found != NULL)
            return found;
    }
    return NULL;
}

static gboolean check(gpointer data)
{
    Check *c = data;
    GtkWidget *note = find_note(GTK_WIDGET(c->panel));
    gboolean docked = bh_shell_panel_is_docked(c->panel);
    const char *backend = G_OBJECT_TYPE_NAME(gtk_widget_get_display(GTK_WIDGET(c->panel)));

    g_print("# display %s: docked %s, note %s%s%s\n", backend, docked ? "yes" : "no",
            note != NULL ? "'" : "none", note != NULL ? gtk_label_get_text(GTK_LABEL(note)) : "",
            note != NULL ? "'" : "");
    c->status = docked == c->expect_docked && (note == NULL) == c->expect_docked ? 0 : 1;
    g_print("%s 1 - on %s the panel is %s and %s\n", c->status == 0 ? "ok" : "not ok", backend,
            c->expect_docked ? "docked" : "a normal window", c->expect_docked ? "shows no note" : "says so");
    g_application_quit(g_application_get_default());
    return G_SOURCE_REMOVE;
}

/* After the panel's first frame: realized, mapped, its note set. */
static void on_after_paint(GdkFrameClock *clock, Check *c)
{
    g_signal_handlers_disconnect_by_func(clock, on_after_paint, c);
    g_idle_add(check, c);
}

static void on_map(GtkWidget *panel, Check *c)
{
    GdkFrameClock *clock = gdk_surface_get_frame_clock(gtk_native_get_surface(GTK_NATIVE(panel)));
    g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), c);
}

static gboolean give_up(gpointer data)
{
    g_print("not ok 1 - the panel was not drawn within 60 s\n");
    g_application_quit(g_application_get_default());
    return G_SOURCE_REMOVE;
}

static void on_activate(GtkApplication *app, Check *c)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhDbusAdmin1) admin = bh_dbus_admin1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
        BH_DBUS_NAME, BH_DBUS_PATH, NULL, &error);

    if (admin == NULL) {
        g_print("not ok 1 - no session bus: %s\n", error->message);
        return;
    }
    g_resources_register(bh_shell_get_resource());
    c->qubes = bh_shell_qubes_new(admin);
    c->panel = bh_shell_panel_new(app, c->qubes);
    g_signal_connect(c->panel, "map", G_CALLBACK(on_map), c);
    g_timeout_add_seconds(60, give_up, c);
    gtk_window_present(GTK_WINDOW(c->panel));
}

int main(int argc, char **argv)
{
    Check c = {.status = 1};
    g_autoptr(GtkApplication) app = NULL;

    if (argc != 3 || strcmp(argv[1], "--expect") != 0 ||
        (strcmp(argv[2], "docked") != 0 && strcmp(argv[2], "undocked") != 0)) {
        g_printerr("usage: test-shell-panel-backend --expect docked|undocked\n");
        return 2;
    }
    c.expect_docked = strcmp(argv[2], "docked") == 0;
    g_print("1..1\n");
    app = gtk_application_new("org.bulkhead.TestShellPanel", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(app, "activate", G_CALLBACK(on_activate), &c);
    g_application_run(G_APPLICATION(app), 0, NULL);
    g_clear_object(&c.qubes);
    return c.status;
}
