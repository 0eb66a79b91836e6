/* bh-shell-apps.c — the qubes' app lists and the favourites (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-apps.h"

#include <errno.h>
#include <string.h>

#include "bulkhead/apps.h"

#define BH_SHELL_APPS_MAX   4096         /* the daemon sends at most 2 000 per qube; never trust a count */
#define BH_SHELL_RUN_APP_MS (120 * 1000) /* RunApp may start the qube and its netvm chain */

struct _BhShellApps {
    GObject parent_instance;
    BhDbusAdmin1 *admin;
    BhShellQubes *qubes;
    GCancellable *cancellable;
    GHashTable *lists;     /* qube name -> GPtrArray of BhShellAppEntry* */
    GHashTable *problems;  /* qube name -> why its list was refused */
    GHashTable *loading;   /* qube names with a ListApps in flight */
    GPtrArray *favourites; /* "qube/id", NULL-terminated */
    char *config_path;
};

G_DEFINE_FINAL_TYPE(BhShellApps, bh_shell_apps, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint bh_signals[N_SIGNALS];

static void entry_free(BhShellAppEntry *e)
{
    g_free(e->id);
    g_free(e->name);
    g_free(e->generic);
    g_free(e->keywords);
    g_clear_object(&e->icon);
    g_free(e);
}

GdkTexture *bh_shell_apps_icon_texture(guint w, guint h, GBytes *pixels)
{
    if (pixels == NULL || w < 1 || h < 1 || w > BH_APPS_MAX_ICON_SIDE || h > BH_APPS_MAX_ICON_SIDE ||
        g_bytes_get_size(pixels) != (gsize)w * h * 4)
        return NULL;
    return gdk_memory_texture_new((int)w, (int)h, GDK_MEMORY_R8G8B8A8, pixels, (gsize)w * 4);
}

static gint entry_by_name(gconstpointer a, gconstpointer b)
{
    const BhShellAppEntry *x = *(BhShellAppEntry *const *)a, *y = *(BhShellAppEntry *const *)b;
    return g_utf8_collate(x->name, y->name);
}

/* ---- calls ------------------------------------------------------------------- */

/* What a call's reply needs: the object and the qube it was for. */
typedef struct {
    BhShellApps *self;
    char *qube;
} BhCall;

static BhCall *bh_call_new(BhShellApps *self, const char *qube)
{
    BhCall *call = g_new0(BhCall, 1);
    call->self = g_object_ref(self);
    call->qube = g_strdup(qube);
    return call;
}

static void bh_call_free(BhCall *call)
{
    g_object_unref(call->self);
    g_free(call->qube);
    g_free(call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhCall, bh_call_free)

/* ---- reading ----------------------------------------------------------------- */

static void on_listed(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) load = data;
    BhShellApps *self = load->self;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) apps = NULL;
    g_autofree char *origin = NULL, *problem = NULL;

    if (!bh_dbus_admin1_call_list_apps_finish(BH_DBUS_ADMIN1(source), &apps, &origin, &problem, result,
                                              &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_debug("ListApps %s: %s", load->qube, error->message);
            g_hash_table_remove(self->loading, load->qube);
        }
        return;
    }
    g_hash_table_remove(self->loading, load->qube);

    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    GVariantIter iter;
    const char *id, *name, *generic, *categories, *keywords;
    gboolean in_menu;
    guint32 w, h;
    GVariant *pixels;
    g_variant_iter_init(&iter, apps);
    while (list->len < BH_SHELL_APPS_MAX &&
           g_variant_iter_next(&iter, "(&s&s&s&s&sbuu@ay)", &id, &name, &generic, &categories, &keywords,
                               &in_menu, &w, &h, &pixels)) {
        g_autoptr(GVariant) owned = pixels;
        g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes(owned);
        /* The daemon checked every field; ids are checked again because
         * they go back into a call. */
        if (!bh_apps_id_ok(id, strlen(id)))
            continue;
        BhShellAppEntry *e = g_new0(BhShellAppEntry, 1);
        e->id = g_strdup(id);
        e->name = g_strdup(name);
        e->generic = g_strdup(generic);
        e->keywords = g_strdup(keywords);
        e->in_menu = in_menu;
        e->icon = bh_shell_apps_icon_texture(w, h, bytes);
        g_ptr_array_add(list, e);
    }
    g_ptr_array_sort(list, entry_by_name);
    g_hash_table_replace(self->lists, g_strdup(load->qube), list);
    g_hash_table_replace(self->problems, g_strdup(load->qube), g_strdup(problem));
    g_debug("app list of %s: %u apps", load->qube, list->len); /* the tests wait for it */
    g_signal_emit(self, bh_signals[SIGNAL_CHANGED], 0);
}

static void load(BhShellApps *self, const char *qube)
{
    if (!g_hash_table_add(self->loading, g_strdup(qube)))
        return;
    bh_dbus_admin1_call_list_apps(self->admin, qube, self->cancellable, on_listed, bh_call_new(self, qube));
}

static void on_apps_changed(BhDbusAdmin1 *admin, const char *qube, BhShellApps *self)
{
    load(self, qube);
}

/* New qubes get their list read; removed ones lose theirs. */
static void on_qubes_changed(BhShellQubes *qubes, BhShellApps *self)
{
    GListModel *model = bh_shell_qubes_get_model(qubes);
    guint n = g_list_model_get_n_items(model);
    g_autoptr(GHashTable) present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter iter;
    gpointer key;

    for (guint i = 0; i < n; i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(model, i);
        const char *name = bh_shell_qube_get_name(qube);
        g_hash_table_add(present, g_strdup(name));
        if (!g_hash_table_contains(self->lists, name) &&
            bh_shell_qube_get_group(qube) != BH_SHELL_GROUP_HIDDEN)
            load(self, name);
    }
    g_hash_table_iter_init(&iter, self->lists);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        if (!g_hash_table_contains(present, key))
            g_hash_table_iter_remove(&iter);
}

static void on_name_owner(GObject *proxy, GParamSpec *pspec, BhShellApps *self)
{
    /* A daemon that comes back is read again from scratch. */
    g_hash_table_remove_all(self->lists);
    g_hash_table_remove_all(self->loading);
    on_qubes_changed(self->qubes, self);
}

GPtrArray *bh_shell_apps_get(BhShellApps *self, const char *qube, const char **problem)
{
    if (problem != NULL) {
        const char *p = g_hash_table_lookup(self->problems, qube);
        *problem = p != NULL ? p : "";
    }
    return g_hash_table_lookup(self->lists, qube);
}

/* ---- launching ---------------------------------------------------------------- */

static void on_run_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) run = data;
    g_autoptr(GError) error = NULL;

    if (!bh_dbus_admin1_call_run_app_finish(BH_DBUS_ADMIN1(source), result, &error) &&
        !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_dbus_error_strip_remote_error(error);
        g_message("RunApp %s: %s", run->qube, error->message);
        /* The domains widget shows a failed call of the user's in the qube's row. */
        g_signal_emit_by_name(run->self->qubes, "action-failed", run->qube, "RunApp", error->message);
    }
}

void bh_shell_apps_run(BhShellApps *self, const char *qube, const char *id)
{
    g_signal_emit_by_name(self->qubes, "action-started", qube, "RunApp");
    g_signal_emit_by_name(self->qubes, "launched", qube);
    g_dbus_proxy_call(G_DBUS_PROXY(self->admin), "RunApp", g_variant_new("(ss)", qube, id),
                      G_DBUS_CALL_FLAGS_NO_AUTO_START, BH_SHELL_RUN_APP_MS, self->cancellable, on_run_done,
                      bh_call_new(self, qube));
}

void bh_shell_apps_run_disposable(BhShellApps *self, const char *template_name, const char *id)
{
    g_autofree char *commandline = NULL;

    if (!bh_apps_id_ok(id, strlen(id)))
        return;
    /* The id's characters need no quoting; the disposable starts from its
     * template's private data, so the template's list is its list. */
    commandline = g_strdup_printf("bulkhead-applist --launch %s --wait", id);
    bh_shell_qubes_run_disposable(self->qubes, template_name, commandline);
}

/* ---- favourites ------------------------------------------------------------------ */

static void favourites_load(BhShellApps *self)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_auto(GStrv) list = NULL;

    g_ptr_array_set_size(self->favourites, 0);
    if (g_key_file_load_from_file(kf, self->config_path, G_KEY_FILE_KEEP_COMMENTS, NULL))
        list = g_key_file_get_string_list(kf, "menu", "favourites", NULL, NULL);
    for (char **f = list; f != NULL && *f != NULL; f++)
        if (strchr(*f, '/') != NULL)
            g_ptr_array_add(self->favourites, g_strdup(*f));
    g_ptr_array_add(self->favourites, NULL);
}

static void favourites_save(BhShellApps *self)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_path_get_dirname(self->config_path);

    g_key_file_load_from_file(kf, self->config_path, G_KEY_FILE_KEEP_COMMENTS, NULL);
    g_key_file_set_string_list(kf, "menu", "favourites", (const char *const *)self->favourites->pdata,
                               self->favourites->len - 1);
    if (g_mkdir_with_parents(dir, 0700) < 0 || !g_key_file_save_to_file(kf, self->config_path, &error))
        g_warning("cannot keep the favourites in %s: %s", self->config_path,
                  error != NULL ? error->message : g_strerror(errno));
}

gboolean bh_shell_apps_is_favourite(BhShellApps *self, const char *qube, const char *id)
{
    g_autofree char *key = g_strconcat(qube, "/", id, NULL);
    return g_strv_contains((const char *const *)self->favourites->pdata, key);
}

void bh_shell_apps_toggle_favourite(BhShellApps *self, const char *qube, const char *id)
{
    g_autofree char *key = g_strconcat(qube, "/", id, NULL);
    guint at;

    g_ptr_array_remove_index(self->favourites, self->favourites->len - 1); /* the NULL */
    if (g_ptr_array_find_with_equal_func(self->favourites, key, g_str_equal, &at))
        g_ptr_array_remove_index(self->favourites, at);
    else
        g_ptr_array_add(self->favourites, g_steal_pointer(&key));
    g_ptr_array_add(self->favourites, NULL);
    favourites_save(self);
    g_signal_emit(self, bh_signals[SIGNAL_CHANGED], 0);
}

const char *const *bh_shell_apps_get_favourites(BhShellApps *self)
{
    return (const char *const *)self->favourites->pdata;
}

/* ---- object ----------------------------------------------------------------------- */

static void bh_shell_apps_dispose(GObject *object)
{
    BhShellApps *self = BH_SHELL_APPS(object);

    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    if (self->admin != NULL)
        g_signal_handlers_disconnect_by_data(self->admin, self);
    if (self->qubes != NULL)
        g_signal_handlers_disconnect_by_data(self->qubes, self);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->admin);
    g_clear_object(&self->qubes);
    G_OBJECT_CLASS(bh_shell_apps_parent_class)->dispose(object);
}

static void bh_shell_apps_finalize(GObject *object)
{
    BhShellApps *self = BH_SHELL_APPS(object);

    g_hash_table_unref(self->lists);
    g_hash_table_unref(self->problems);
    g_hash_table_unref(self->loading);
    g_ptr_array_unref(self->favourites);
    g_free(self->config_path);
    G_OBJECT_CLASS(bh_shell_apps_parent_class)->finalize(object);
}

static void bh_shell_apps_class_init(BhShellAppsClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_apps_dispose;
    G_OBJECT_CLASS(klass)->finalize = bh_shell_apps_finalize;
    bh_signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                              NULL, NULL, G_TYPE_NONE, 0);
}

static void bh_shell_apps_init(BhShellApps *self)
{
    self->cancellable = g_cancellable_new();
    self->lists = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    self->problems = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    self->loading = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->favourites = g_ptr_array_new_with_free_func(g_free);
    self->config_path = g_build_filename(g_get_user_config_dir(), "bulkhead", "shell.ini", NULL);
    favourites_load(self);
}

BhShellApps *bh_shell_apps_new(BhDbusAdmin1 *admin, BhShellQubes *qubes)
{
    BhShellApps *self = g_object_new(BH_TYPE_SHELL_APPS, NULL);

    self->admin = g_object_ref(admin);
    self->qubes = g_object_ref(qubes);
    g_signal_connect(admin, "apps-changed", G_CALLBACK(on_apps_changed), self);
    g_signal_connect(admin, "notify::g-name-owner", G_CALLBACK(on_name_owner), self);
    g_signal_connect(qubes, "changed", G_CALLBACK(on_qubes_changed), self);
    on_qubes_changed(qubes, self);
    return self;
}
