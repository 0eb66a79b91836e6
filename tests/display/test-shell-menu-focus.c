/* test-shell-menu-focus.c — the keys typed after the app menu closes do
 * not open it again (bh-shell-panel.c), under openbox on Xvfb, with the
 * shell's real panel on a private bus where no bulkheadd runs.
 *
 * Found on a user's first walk through the desktop: launched from the menu,
 * a qube's new window does not get the focus (guid lets a qube's window
 * take it only while the user works in that qube), so the keyboard stayed
 * on the panel, where GTK had put it back on the "Bulkhead" button; the
 * first space typed for the new terminal ("ls -l") pressed that button and
 * the menu opened again, taking the rest of the line into its search.
 * Checked: after the menu closes (Escape, as after a launch), Space and
 * Return typed on the panel leave the menu closed and no widget of the panel
 * focused; the menu key still opens it. Control (the panel without its
 * "closed" handler): Space opens the menu again. */
#include <X11/Xlib.h>
#include <gdk/x11/gdkx.h>
#include <gtk/gtk.h>

#include "bh-dbus-error.h"
#include "bh-display.h"
#include "bh-shell-panel.h"
#include "bh-shell-qubes.h"
#include "bh-shell-resources.h"

static Display *dpy;
static BhShellPanel *panel;
static BhShellQubes *qubes;

static GtkWidget *find_menu_button(GtkWidget *root)
{
    if (GTK_IS_MENU_BUTTON(root))
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = find_menu_button(c);
        if (found != NULL)
            return found;
    }
    return NULL;
}

static gboolean mapped(gpointer data)
{
    return gtk_widget_get_mapped(data);
}

static gboolean not_visible(gpointer data)
{
    return !gtk_widget_get_visible(data);
}

static gboolean focus_in(gpointer data)
{
    return bh_x_focus_in(dpy, *(Window *)data);
}

static void settle(guint ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE), g_usleep(10000);
}

static void key(const char *name)
{
    g_assert_true(bh_run((const char *[]){"xdotool", "key", "--delay", "80", name, NULL}));
    settle(400);
}

static void test_keys_after_close(void)
{
    GtkWidget *button = find_menu_button(GTK_WIDGET(panel));
    g_assert_nonnull(button);
    GtkWidget *menu = GTK_WIDGET(gtk_menu_button_get_popover(GTK_MENU_BUTTON(button)));
    g_assert_nonnull(menu);
    Window xid = gdk_x11_surface_get_xid(gtk_native_get_surface(GTK_NATIVE(panel)));

    for (int round = 0; round < 2; round++) {
        /* The menu key: the panel presented and the menu open, as the
         * shell's grab does it. */
        bh_shell_panel_open_menu(panel, GDK_CURRENT_TIME);
        bh_x_activate(dpy, xid, TRUE);
        if (!bh_wait_until(mapped, menu, 10000))
            g_error("round %d: the menu did not open", round);
        if (!bh_wait_until(focus_in, &xid, 5000))
            g_error("round %d: the panel did not get the focus (focus 0x%lx, panel 0x%lx)", round,
                    bh_x_focus(), xid);
        /* Closed as after a launch or Escape. */
        key("Escape");
        if (!bh_wait_until(not_visible, menu, 5000))
            g_error("round %d: Escape did not close the menu", round);
        settle(300);
        GtkWidget *focus = gtk_window_get_focus(GTK_WINDOW(panel));
        g_test_message("round %d: after the close the panel's focus widget is %s", round,
                       focus != NULL ? G_OBJECT_TYPE_NAME(focus) : "none");
        /* What the user types next for the window they launched. */
        key(round == 0 ? "space" : "Return");
        if (gtk_widget_get_visible(menu))
            g_error("round %d: %s typed after the menu closed opened it again", round,
                    round == 0 ? "Space" : "Return");
        g_assert_null(gtk_window_get_focus(GTK_WINDOW(panel)));
    }
}

static void on_activate(GtkApplication *app, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhDbusAdmin1) admin = bh_dbus_admin1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
        BH_DBUS_NAME, BH_DBUS_PATH, NULL, &error);
    g_assert_no_error(error);
    g_resources_register(bh_shell_get_resource());
    qubes = bh_shell_qubes_new(admin);
    panel = bh_shell_panel_new(app, qubes);
    gtk_window_present(GTK_WINDOW(panel));
    if (!bh_wait_until(mapped, panel, 30000))
        g_error("the panel was not mapped");
    settle(500);
    g_test_add_func("/shell/menu/keys-after-close", test_keys_after_close);
    *(int *)data = g_test_run();
    gtk_window_destroy(GTK_WINDOW(panel));
    g_clear_object(&qubes);
}

int main(int argc, char **argv)
{
    int status = 1;
    g_test_init(&argc, &argv, NULL);
    gtk_init();
    dpy = bh_display_open();
    g_autoptr(BhProc) wm = bh_start_wm(dpy, "openbox");
    g_autoptr(GtkApplication) app =
        gtk_application_new("org.bulkhead.TestShellMenuFocus", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(app, "activate", G_CALLBACK(on_activate), &status);
    g_application_run(G_APPLICATION(app), 0, NULL);
    return status;
}
