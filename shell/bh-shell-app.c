/* bh-shell-app.c — bulkhead-shell as a GtkApplication (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-app.h"

#include "bh-dbus-error.h"
#include "bh-labels-resources.h"
#include "bh-shell-hotkey.h"
#include "bh-shell-notify.h"
#include "bh-shell-panel.h"
#include "bh-shell-qubes.h"
#include "bh-shell-resources.h"

/* Above the user's gtk.css, as guid's: a theme must not repaint a label. */
#define BH_SHELL_STYLE_PRIORITY (GTK_STYLE_PROVIDER_PRIORITY_USER + 10)

struct _BhShellApp {
    GtkApplication parent_instance;
    BhDbusAdmin1 *admin;
    BhShellQubes *qubes;
    BhShellPanel *panel;
    BhShellNotify *notify;
    BhShellHotkey *hotkey;
};

G_DEFINE_FINAL_TYPE(BhShellApp, bh_shell_app, GTK_TYPE_APPLICATION)

static void on_menu(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    BhShellApp *self = data;

    g_application_activate(G_APPLICATION(self));
    if (self->panel != NULL)
        bh_shell_panel_toggle_menu(self->panel, GDK_CURRENT_TIME);
}

/* The menu key, grabbed here: the same as the `menu` action, without a
 * process between the key and the shell. */
static void on_hotkey(guint32 time, gpointer data)
{
    BhShellApp *self = data;

    if (self->panel != NULL)
        bh_shell_panel_toggle_menu(self->panel, time);
}

/* The notification cards hang under the panel, on its monitor. */
static void on_panel_area(BhShellPanel *panel, BhShellApp *self)
{
    GdkRectangle area;

    bh_shell_panel_get_area(panel, &area);
    if (self->notify != NULL)
        bh_shell_notify_set_area(self->notify, &area);
}

static void bh_shell_app_startup(GApplication *app)
{
    BhShellApp *self = BH_SHELL_APP(app);
    GdkDisplay *display;
    g_autoptr(GError) error = NULL;
    g_autoptr(GtkCssProvider) theme = gtk_css_provider_new();
    g_autoptr(GtkCssProvider) labels = gtk_css_provider_new();
    static const GActionEntry actions[] = {{"menu", on_menu, NULL, NULL, NULL, {0}}};

    G_APPLICATION_CLASS(bh_shell_app_parent_class)->startup(app);
    g_resources_register(bh_shell_get_resource());
    display = gdk_display_get_default();
    /* The label icons and classes made at build time (icons/, themes/),
     * shared with guid and the settings app; the shell's own CSS after. */
    bh_labels_register_resource();
    gtk_icon_theme_add_resource_path(gtk_icon_theme_get_for_display(display), "/org/bulkhead/icons");
    gtk_css_provider_load_from_resource(labels, "/org/bulkhead/theme/labels.css");
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(labels), BH_SHELL_STYLE_PRIORITY);
    gtk_css_provider_load_from_resource(theme, "/org/bulkhead/shell/shell.css");
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(theme), BH_SHELL_STYLE_PRIORITY);
    g_action_map_add_action_entries(G_ACTION_MAP(app), actions, G_N_ELEMENTS(actions), self);

    /* Not auto-started: the shell shows what runs; starting bulkheadd is
     * ./run's or the session's job. The proxy follows the name, so a daemon
     * that starts (or restarts) later is picked up (BhShellQubes). */
    self->admin = bh_dbus_admin1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
        BH_DBUS_NAME, BH_DBUS_PATH, NULL, &error);
    if (self->admin == NULL) {
        g_printerr("bulkhead-shell: cannot reach the session bus: %s\n", error->message);
        return;
    }
    /* Before anything notifies: where the session has no server, ours. */
    self->notify = bh_shell_notify_new();
    self->qubes = bh_shell_qubes_new(self->admin);
}

static void bh_shell_app_activate(GApplication *app)
{
    BhShellApp *self = BH_SHELL_APP(app);

    if (self->qubes == NULL)
        return; /* startup said why */
    if (self->panel == NULL) {
        self->panel = bh_shell_panel_new(GTK_APPLICATION(app), self->qubes);
        g_signal_connect(self->panel, "area-changed", G_CALLBACK(on_panel_area), self);
        on_panel_area(self->panel, self);
        self->hotkey = bh_shell_hotkey_new(gtk_widget_get_display(GTK_WIDGET(self->panel)), on_hotkey, self);
    }
    gtk_window_present(GTK_WINDOW(self->panel));
}

/* `bulkhead-shell --menu`: the window manager's key binding. */
static int bh_shell_app_handle_local_options(GApplication *app, GVariantDict *options)
{
    g_autoptr(GError) error = NULL;

    if (!g_variant_dict_contains(options, "menu"))
        return -1;
    if (!g_application_register(app, NULL, &error)) {
        g_printerr("bulkhead-shell: %s\n", error->message);
        return 1;
    }
    /* Here too when no shell ran: this instance becomes the shell. */
    g_action_group_activate_action(G_ACTION_GROUP(app), "menu", NULL);
    return g_application_get_is_remote(app) ? 0 : -1;
}

static void bh_shell_app_dispose(GObject *object)
{
    BhShellApp *self = BH_SHELL_APP(object);

    g_clear_pointer(&self->hotkey, bh_shell_hotkey_free);
    g_clear_object(&self->qubes);
    g_clear_object(&self->notify);
    g_clear_object(&self->admin);
    G_OBJECT_CLASS(bh_shell_app_parent_class)->dispose(object);
}

static void bh_shell_app_class_init(BhShellAppClass *klass)
{
    GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = bh_shell_app_dispose;
    app_class->startup = bh_shell_app_startup;
    app_class->activate = bh_shell_app_activate;
    app_class->handle_local_options = bh_shell_app_handle_local_options;
}

static void bh_shell_app_init(BhShellApp *self)
{
    static const GOptionEntry entries[] = {
        {"menu", 0, 0, G_OPTION_ARG_NONE, NULL,
         "Open the app menu of the running shell, or close it when open (for a window manager's key binding)",
         NULL},
        {NULL},
    };
    g_application_add_main_option_entries(G_APPLICATION(self), entries);
}

BhShellApp *bh_shell_app_new(void)
{
    return g_object_new(BH_TYPE_SHELL_APP, "application-id", BH_SHELL_APP_ID, "flags",
                        G_APPLICATION_DEFAULT_FLAGS, NULL);
}
