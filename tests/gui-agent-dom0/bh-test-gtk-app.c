/* bh-test-gtk-app.c — a minimal real GTK 4 application, for agent tests:
 * one window titled "bulkhead gtk test", 320x240 by default, filled by a
 * menu button whose popover is a GTK popup.
 * It exits 0 when its window is closed (xdg_toplevel.close from the agent),
 * printing the last size GTK allocated so the test can compare. */
#include <gtk/gtk.h>
#include <stdio.h>

static gboolean on_close(GtkWindow *win, gpointer loop)
{
    printf("closed at %dx%d\n", gtk_widget_get_width(GTK_WIDGET(win)),
           gtk_widget_get_height(GTK_WIDGET(win)));
    fflush(stdout);
    g_main_loop_quit(loop);
    return FALSE;
}

int main(void)
{
    gtk_init();
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    GtkWidget *win = gtk_window_new();
    gtk_window_set_title(GTK_WINDOW(win), "bulkhead gtk test");
    gtk_window_set_default_size(GTK_WINDOW(win), 320, 240);
    /* The whole content is one menu button: a click anywhere in the middle
     * opens its popover (an xdg_popup with a grab). */
    GtkWidget *button = gtk_menu_button_new();
    gtk_menu_button_set_label(GTK_MENU_BUTTON(button), "Hello from inside a qube");
    GtkWidget *popover = gtk_popover_new();
    gtk_popover_set_child(GTK_POPOVER(popover), gtk_label_new("popover content"));
    gtk_menu_button_set_popover(GTK_MENU_BUTTON(button), popover);
    gtk_widget_set_hexpand(button, TRUE);
    gtk_widget_set_vexpand(button, TRUE);
    gtk_window_set_child(GTK_WINDOW(win), button);
    g_signal_connect(win, "close-request", G_CALLBACK(on_close), loop);
    gtk_window_present(GTK_WINDOW(win));
    g_main_loop_run(loop);
    return 0;
}
