/* bh-shell-app.c — bulkhead-shell as a GtkApplication (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-app.h"

#include "bh-dbus-error.h"
#include "bh-labels-resources.h"
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
    GtkCssProvider *label_css;
    char *label_css_text;
};

G_DEFINE_FINAL_TYPE(BhShellApp, bh_shell_app, GTK_TYPE_APPLICATION)

char *bh_shell_label_css(GListModel *qubes)
{
    g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
    GString *css = g_string_new(NULL);
    guint n = g_list_model_get_n_items(qubes);

    for (guint i = 0; i < n; i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        const char *label = bh_shell_qube_get_label(qube);
        const char *color = bh_shell_qube_get_color(qube);

        /* BhShellQube checked both already; checked again here because this
         * is where they become CSS text. */
        if (!bh_shell_label_name_is_valid(label) || !bh_shell_color_is_valid(color) ||
            g_hash_table_contains(done, label))
            continue;
        g_hash_table_add(done, (gpointer)label);
        g_string_append_printf(css,
                               ".bh-swatch.bh-label-%s { background-color: %s; }\n"
                               ".bh-menu-launcher.bh-label-%s { border-left-color: %s; }\n",
                               label, color, label, color);
    }
    return g_string_free(css, FALSE);
}

static void on_qubes_changed(BhShellQubes *qubes, BhShellApp *self)
{
    g_autofree char *css = bh_shell_label_css(bh_shell_qubes_get_model(qubes));

    if (g_strcmp0(css, self->label_css_text) == 0)
        return;
    g_free(self->label_css_text);
    self->label_css_text = g_steal_pointer(&css);
    gtk_css_provider_load_from_data(self->label_css, self->label_css_text, -1);
}

static void on_menu(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    BhShellApp *self = data;

    g_application_activate(G_APPLICATION(self));
    if (self->panel != NULL)
        bh_shell_panel_open_menu(self->panel);
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
    self->label_css = gtk_css_provider_new();
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(self->label_css),
                                               BH_SHELL_STYLE_PRIORITY);
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
    g_signal_connect(self->qubes, "changed", G_CALLBACK(on_qubes_changed), self);
}

static void bh_shell_app_activate(GApplication *app)
{
    BhShellApp *self = BH_SHELL_APP(app);

    if (self->qubes == NULL)
        return; /* startup said why */
    if (self->panel == NULL)
        self->panel = bh_shell_panel_new(GTK_APPLICATION(app), self->qubes);
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

    if (self->qubes != NULL)
        g_signal_handlers_disconnect_by_data(self->qubes, self);
    g_clear_object(&self->qubes);
    g_clear_object(&self->notify);
    g_clear_object(&self->admin);
    g_clear_object(&self->label_css);
    g_clear_pointer(&self->label_css_text, g_free);
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
         "Open the app menu of the running shell (for a window manager's key binding)", NULL},
        {NULL},
    };
    g_application_add_main_option_entries(G_APPLICATION(self), entries);
}

BhShellApp *bh_shell_app_new(void)
{
    return g_object_new(BH_TYPE_SHELL_APP, "application-id", BH_SHELL_APP_ID, "flags",
                        G_APPLICATION_DEFAULT_FLAGS, NULL);
}
