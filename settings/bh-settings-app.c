/* bh-settings-app.c — bulkhead-settings as a GtkApplication (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-app.h"

#include "bh-dbus-error.h"
#include "bh-settings-context.h"

struct _BhSettingsApp {
    GtkApplication parent_instance;
    BhSettingsContext *context;
    char *kind, *qube, *page;
    int status;
};

G_DEFINE_FINAL_TYPE(BhSettingsApp, bh_settings_app, GTK_TYPE_APPLICATION)

static int bh_settings_app_handle_local_options(GApplication *app, GVariantDict *options)
{
    BhSettingsApp *self = BH_SETTINGS_APP(app);
    static const char *const kinds[] = {"create", "global", "manager", "map", NULL};
    int chosen = 0;

    g_variant_dict_lookup(options, "qube", "s", &self->qube);
    g_variant_dict_lookup(options, "page", "s", &self->page);
    if (self->qube != NULL) {
        self->kind = g_strdup("qube");
        chosen++;
    }
    for (guint i = 0; kinds[i] != NULL; i++) {
        if (g_variant_dict_contains(options, kinds[i])) {
            g_free(self->kind);
            self->kind = g_strdup(kinds[i]);
            chosen++;
        }
    }
    if (chosen > 1) {
        g_printerr("bulkhead-settings: choose one of --qube, --create, --global, --manager, --map\n");
        return 2;
    }
    if (self->page != NULL && self->qube == NULL) {
        g_printerr("bulkhead-settings: --page goes with --qube NAME\n");
        return 2;
    }
    if (self->kind == NULL)
        self->kind = g_strdup("manager");
    return -1;
}

static void bh_settings_app_activate(GApplication *app)
{
    BhSettingsApp *self = BH_SETTINGS_APP(app);
    g_autoptr(GError) error = NULL;

    if (self->context == NULL) {
        self->context = bh_settings_context_new(GTK_APPLICATION(app), &error);
        if (self->context == NULL) {
            g_autofree char *text =
                g_dbus_error_is_remote_error(error) ? g_dbus_error_get_remote_error(error) : NULL;
            g_printerr("bulkhead-settings: cannot reach bulkheadd (%s): %s\n", text ? text : "no answer",
                       error->message);
            g_printerr("bulkhead-settings: start it first (./run, or bulkheadd in your session)\n");
            self->status = 1;
            return;
        }
    }
    bh_settings_open(self->context, self->kind, self->qube, self->page);
}

static void bh_settings_app_dispose(GObject *object)
{
    BhSettingsApp *self = BH_SETTINGS_APP(object);

    g_clear_object(&self->context);
    g_clear_pointer(&self->kind, g_free);
    g_clear_pointer(&self->qube, g_free);
    g_clear_pointer(&self->page, g_free);
    G_OBJECT_CLASS(bh_settings_app_parent_class)->dispose(object);
}

static void bh_settings_app_class_init(BhSettingsAppClass *klass)
{
    GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = bh_settings_app_dispose;
    app_class->activate = bh_settings_app_activate;
    app_class->handle_local_options = bh_settings_app_handle_local_options;
}

static void bh_settings_app_init(BhSettingsApp *self)
{
    static const GOptionEntry entries[] = {
        {"qube", 0, 0, G_OPTION_ARG_STRING, NULL, "Open the settings of one qube", "NAME"},
        {"page", 0, 0, G_OPTION_ARG_STRING, NULL,
         "With --qube: basic, advanced, firewall, applications, services or notes", "PAGE"},
        {"create", 0, 0, G_OPTION_ARG_NONE, NULL, "Create a qube", NULL},
        {"global", 0, 0, G_OPTION_ARG_NONE, NULL, "Global settings (defaults, clipboard)", NULL},
        {"manager", 0, 0, G_OPTION_ARG_NONE, NULL, "The qube manager: every qube in a table (the default)",
         NULL},
        {"map", 0, 0, G_OPTION_ARG_NONE, NULL, "The network map: which qube gives which its network", NULL},
        {NULL},
    };

    g_application_add_main_option_entries(G_APPLICATION(self), entries);
    /* The daemon's errors as named GErrors (BH_DBUS_ERROR). */
    (void)bh_dbus_error_quark();
}

BhSettingsApp *bh_settings_app_new(void)
{
    /* Non-unique: `--qube work` from the shell while a manager is open is a
     * second small process, not a message to a first one. */
    return g_object_new(BH_TYPE_SETTINGS_APP, "application-id", BH_SETTINGS_APP_ID, "flags",
                        G_APPLICATION_NON_UNIQUE, NULL);
}

int bh_settings_app_get_status(BhSettingsApp *self)
{
    return self->status;
}
