/* bh-test-gtk-app.c — a minimal real GTK 4 application, for agent tests:
 * one window titled "bulkhead gtk test", 320x240 by default, filled by a
 * menu button whose popover is a GTK popup.
 * It exits 0 when its window is closed (xdg_toplevel.close from the agent),
 * printing the last size GTK allocated so the test can compare.
 *
 * With the argument "menu" (popup grabs, agent-gtk): the window
 * "bulkhead gtk menu", 320x240, has the menu button (80 pixels tall) under its title bar
 * and a button "below" filling the rest, a second window "bulkhead gtk
 * other" (300x150) is one button, and a third, "bulkhead gtk big"
 * (300x150), has a menu button whose popover holds 700x160 (more than guid
 * shows as a popup on a 1280-wide screen); each click that reaches a button
 * prints "clicked NAME", and the popovers print "popover shown/hidden" and
 * "big popover shown/hidden". */
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

static void say(const char *line)
{
    printf("%s\n", line);
    fflush(stdout);
}

static void on_clicked(GtkButton *button, gpointer name)
{
    g_autofree char *line = g_strdup_printf("clicked %s", (const char *)name);
    say(line);
}

static void on_popover_visible(GObject *popover, GParamSpec *pspec, gpointer name)
{
    g_autofree char *line = g_strdup_printf("%s %s", (const char *)name,
                                            gtk_widget_get_visible(GTK_WIDGET(popover)) ? "shown" : "hidden");
    say(line);
}

/* A menu button whose popover (named `name` in the output) holds `child`. */
static GtkWidget *menu_button(const char *label, const char *name, GtkWidget *child)
{
    GtkWidget *menu = gtk_menu_button_new();
    gtk_menu_button_set_label(GTK_MENU_BUTTON(menu), label);
    gtk_widget_set_size_request(menu, -1, 80);
    GtkWidget *popover = gtk_popover_new();
    gtk_popover_set_child(GTK_POPOVER(popover), child);
    g_signal_connect(popover, "notify::visible", G_CALLBACK(on_popover_visible), (gpointer)name);
    gtk_menu_button_set_popover(GTK_MENU_BUTTON(menu), popover);
    return menu;
}

static void window_new(const char *title, int w, int h, GtkWidget *child)
{
    GtkWidget *win = gtk_window_new();
    gtk_window_set_title(GTK_WINDOW(win), title);
    gtk_window_set_default_size(GTK_WINDOW(win), w, h);
    gtk_window_set_child(GTK_WINDOW(win), child);
    gtk_window_present(GTK_WINDOW(win));
}

static GtkWidget *named_button(const char *name)
{
    GtkWidget *b = gtk_button_new_with_label(name);
    g_signal_connect(b, "clicked", G_CALLBACK(on_clicked), (gpointer)name);
    return b;
}

/* "menu": a menu button above a plain button, a second window, and a third
 * whose menu is too large for guid to show as a popup. */
static void run_menu(GMainLoop *loop)
{
    GtkWidget *win = gtk_window_new();
    gtk_window_set_title(GTK_WINDOW(win), "bulkhead gtk menu");
    gtk_window_set_default_size(GTK_WINDOW(win), 320, 240);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *below = named_button("below");
    gtk_widget_set_vexpand(below, TRUE);
    gtk_box_append(GTK_BOX(box), menu_button("menu", "popover", gtk_label_new("popover content")));
    gtk_box_append(GTK_BOX(box), below);
    gtk_window_set_child(GTK_WINDOW(win), box);
    g_signal_connect(win, "close-request", G_CALLBACK(on_close), loop);
    gtk_window_present(GTK_WINDOW(win));

    window_new("bulkhead gtk other", 300, 150, named_button("other"));
    GtkWidget *large = gtk_label_new("a large menu");
    gtk_widget_set_size_request(large, 700, 160);
    window_new("bulkhead gtk big", 300, 150, menu_button("big menu", "big popover", large));
}

int main(int argc, char **argv)
{
    gtk_init();
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    if (argc > 1 && g_str_equal(argv[1], "menu")) {
        run_menu(loop);
        g_main_loop_run(loop);
        return 0;
    }
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
