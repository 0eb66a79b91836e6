/* bh-settings-context.c — what every settings window shares (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-context.h"

#include "bh-dbus-error.h"
#include "bh-settings-create.h"
#include "bh-settings-global.h"
#include "bh-settings-manager.h"
#include "bh-settings-netmap.h"
#include "bh-settings-qube.h"
#include "bh-settings-resources.h"
#include "bh-settings-util.h"
#include "bh-shell-qube.h"

/* Above the user's gtk.css, as the shell's: a theme must not repaint a label. */
#define BH_SETTINGS_STYLE_PRIORITY (GTK_STYLE_PROVIDER_PRIORITY_USER + 10)
/* The daemon has eight; this only caps what a misbehaving reply can cost. */
#define BH_SETTINGS_MAX_LABELS 64

struct _BhSettingsContext {
    GObject parent_instance;
    GtkApplication *app; /* weak: the application owns us */
    BhDbusAdmin1 *admin;
    BhShellQubes *qubes;
    GPtrArray *labels;
    GHashTable *windows; /* "kind" or "qube:NAME" -> GtkWindow (weak: removed on
                          * destroy, and when found off GTK's list) */
};

G_DEFINE_FINAL_TYPE(BhSettingsContext, bh_settings_context, G_TYPE_OBJECT)

static void bh_settings_label_free(BhSettingsLabel *label)
{
    g_free(label->name);
    g_free(label->color);
    g_free(label);
}

static void bh_settings_context_dispose(GObject *object)
{
    BhSettingsContext *self = BH_SETTINGS_CONTEXT(object);

    g_clear_pointer(&self->windows, g_hash_table_unref);
    g_clear_object(&self->qubes);
    g_clear_object(&self->admin);
    g_clear_pointer(&self->labels, g_ptr_array_unref);
    G_OBJECT_CLASS(bh_settings_context_parent_class)->dispose(object);
}

static void bh_settings_context_class_init(BhSettingsContextClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_settings_context_dispose;
}

static void bh_settings_context_init(BhSettingsContext *self)
{
    self->labels = g_ptr_array_new_with_free_func((GDestroyNotify)bh_settings_label_free);
    self->windows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static gboolean bh_read_labels(BhSettingsContext *self, GError **error)
{
    g_autoptr(GVariant) labels = NULL;
    GVariantIter iter;
    const char *name, *color;

    if (!bh_dbus_admin1_call_list_labels_sync(self->admin, &labels, NULL, error))
        return FALSE;
    g_variant_iter_init(&iter, labels);
    while (self->labels->len < BH_SETTINGS_MAX_LABELS &&
           g_variant_iter_next(&iter, "(&s&s)", &name, &color)) {
        BhSettingsLabel *label;

        if (!bh_shell_label_name_is_valid(name) || !bh_shell_color_is_valid(color)) {
            g_message("ListLabels gave a label that is not a name and #rrggbb; left out");
            continue;
        }
        label = g_new0(BhSettingsLabel, 1);
        label->name = g_strdup(name);
        label->color = g_strdup(color);
        g_ptr_array_add(self->labels, label);
    }
    return TRUE;
}

static void bh_add_css(BhSettingsContext *self)
{
    GdkDisplay *display = gdk_display_get_default();
    g_autoptr(GtkCssProvider) theme = gtk_css_provider_new();
    g_autoptr(GtkCssProvider) labels = gtk_css_provider_new();
    g_autofree char *label_css = bh_settings_label_css(self->labels);

    if (display == NULL)
        return;
    g_resources_register(bh_settings_get_resource());
    gtk_css_provider_load_from_resource(theme, "/org/bulkhead/settings/settings.css");
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(theme),
                                               BH_SETTINGS_STYLE_PRIORITY);
    gtk_css_provider_load_from_data(labels, label_css, -1);
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(labels),
                                               BH_SETTINGS_STYLE_PRIORITY);
}

BhSettingsContext *bh_settings_context_new(GtkApplication *app, GError **error)
{
    g_autoptr(BhSettingsContext) self = g_object_new(BH_TYPE_SETTINGS_CONTEXT, NULL);

    self->app = app;
    self->admin = bh_dbus_admin1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
        BH_DBUS_NAME, BH_DBUS_PATH, NULL, error);
    if (self->admin == NULL)
        return NULL;
    if (!bh_read_labels(self, error))
        return NULL;
    bh_add_css(self);
    self->qubes = bh_shell_qubes_new(self->admin);
    return g_steal_pointer(&self);
}

BhDbusAdmin1 *bh_settings_context_get_admin(BhSettingsContext *self)
{
    return self->admin;
}

BhShellQubes *bh_settings_context_get_qubes(BhSettingsContext *self)
{
    return self->qubes;
}

GPtrArray *bh_settings_context_get_labels(BhSettingsContext *self)
{
    return self->labels;
}

const char *bh_settings_context_label_color(BhSettingsContext *self, const char *label)
{
    for (guint i = 0; i < self->labels->len; i++) {
        BhSettingsLabel *entry = self->labels->pdata[i];
        if (g_strcmp0(entry->name, label) == 0)
            return entry->color;
    }
    return NULL;
}

void bh_settings_context_release(BhSettingsContext **context, gpointer instance)
{
    if (*context == NULL)
        return;
    g_signal_handlers_disconnect_by_data((*context)->qubes, instance);
    g_signal_handlers_disconnect_by_data((*context)->admin, instance);
    g_clear_object(context);
}

typedef struct {
    BhSettingsContext *self; /* weak */
    char *key;
} BhWindowKey;

static void on_window_destroy(GtkWidget *window, BhWindowKey *key)
{
    if (key->self != NULL && key->self->windows != NULL &&
        g_hash_table_lookup(key->self->windows, key->key) == window)
        g_hash_table_remove(key->self->windows, key->key);
}

static void bh_window_key_free(gpointer data, GClosure *closure)
{
    BhWindowKey *key = data;

    g_clear_weak_pointer(&key->self);
    g_free(key->key);
    g_free(key);
}

/* Whether GTK still lists the window: gtk_window_destroy() takes it off the
 * list at once, but "destroy" (which removes it from the table) comes only
 * with the last reference, and a call on the way (a load, an Apply) holds
 * one. Such a window must not be handed out again: it is freed when that
 * call ends. */
static gboolean bh_window_listed(GtkWindow *window)
{
    GListModel *all = gtk_window_get_toplevels();

    for (guint i = 0; i < g_list_model_get_n_items(all); i++) {
        g_autoptr(GtkWindow) listed = g_list_model_get_item(all, i);
        if (listed == window)
            return TRUE;
    }
    return FALSE;
}

GtkWindow *bh_settings_open(BhSettingsContext *self, const char *kind, const char *qube, const char *page)
{
    g_autofree char *key = g_str_equal(kind, "qube") ? g_strconcat("qube:", qube, NULL) : g_strdup(kind);
    GtkWindow *window = g_hash_table_lookup(self->windows, key);
    BhWindowKey *closure_key;

    if (window != NULL && !bh_window_listed(window)) {
        g_hash_table_remove(self->windows, key);
        window = NULL;
    }
    if (window != NULL && !g_str_equal(kind, "create")) {
        if (page != NULL && BH_IS_SETTINGS_QUBE(window))
            bh_settings_qube_show_page(BH_SETTINGS_QUBE(window), page);
        gtk_window_present(window);
        return window;
    }
    if (g_str_equal(kind, "create"))
        window = GTK_WINDOW(bh_settings_create_new(self));
    else if (g_str_equal(kind, "qube") && qube != NULL)
        window = GTK_WINDOW(bh_settings_qube_new(self, qube, page));
    else if (g_str_equal(kind, "manager"))
        window = GTK_WINDOW(bh_settings_manager_new(self));
    else if (g_str_equal(kind, "map"))
        window = GTK_WINDOW(bh_settings_netmap_window_new(self));
    else if (g_str_equal(kind, "global"))
        window = GTK_WINDOW(bh_settings_global_new(self));
    else
        return NULL;
    if (self->app != NULL)
        gtk_window_set_application(window, self->app);
    g_hash_table_replace(self->windows, g_strdup(key), window);
    closure_key = g_new0(BhWindowKey, 1);
    g_set_weak_pointer(&closure_key->self, self);
    closure_key->key = g_strdup(key);
    g_signal_connect_data(window, "destroy", G_CALLBACK(on_window_destroy), closure_key, bh_window_key_free,
                          0);
    gtk_window_present(window);
    return window;
}
