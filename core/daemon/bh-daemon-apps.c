/* bh-daemon-apps.c — the qubes' app lists: ListApps, RunApp, RefreshApps and
 * AppsChanged of org.bulkhead.Admin1; see bh-daemon-private.h and
 * docs/apps.md.
 *
 * Owns: reading a qube's list when it starts (one qube at a time, once no
 * qube is starting) and, for a qube whose list
 * others inherit, before it shuts down (its bulkhead-applist, through Run's
 * bounded capture), deciding with bulkhead/apps.h's decoder whether to
 * keep it (in the store, so a halted qube's apps stay in the menu), which
 * list a qube shows (its own, else its template's), and launching by id.
 * Must never: take anything but an id from a caller for a launch, pass an
 * id that is not in the qube's list, keep a list the decoder refused, or
 * run anything in a qube that is not dom0's own fixed program.
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bulkhead/apps.h"

#include "bh-daemon-error.h"
#include "bh-daemon-private.h"
#include "bh-dbus-error.h"

#define BH_APPLIST_COMMAND "bulkhead-applist"
/* A list of 2 000 entries takes well under a second to write; a qube that
 * needs longer is stalling. Counted from when the qube's agent takes the
 * command (bh_daemon_run_capture_async), not from the start. */
#define BH_APPLIST_TIMEOUT_S 30

static guint bh_apps_timeout_s(BhDaemon *self)
{
    return self->applist_timeout_s > 0 ? self->applist_timeout_s : BH_APPLIST_TIMEOUT_S;
}

/* How far a list is inherited: a disposable's template (an app qube), its
 * template (a TemplateVM). More is a chain the model does not make. */
#define BH_APPS_MAX_DEPTH 4

/* The qube, and every qube whose list takes from it: its app qubes, their
 * disposables (a template's list reaches them through the disposable
 * template). */
static void bh_apps_emit_changed(BhDaemon *self, const char *name)
{
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(self->store, NULL);
    g_autoptr(GPtrArray) changed = g_ptr_array_new();

    g_ptr_array_add(changed, (gpointer)name);
    for (guint depth = 0, from = 0; depth < BH_APPS_MAX_DEPTH && from < changed->len; depth++) {
        guint to = changed->len;
        for (guint c = from; c < to; c++)
            for (guint i = 0; qubes != NULL && i < qubes->len; i++) {
                BhQubeInfo *info = g_ptr_array_index(qubes, i);
                if (g_strcmp0(info->template_name, g_ptr_array_index(changed, c)) == 0)
                    g_ptr_array_add(changed, info->name);
            }
        from = to;
    }
    for (guint i = 0; i < changed->len; i++)
        bh_dbus_admin1_emit_apps_changed(self->skeleton, g_ptr_array_index(changed, i));
}

static gint bh_app_compare_id(gconstpointer a, gconstpointer b)
{
    return g_strcmp0((*(BhApp *const *)a)->id, (*(BhApp *const *)b)->id);
}

/* The qube's own stored list, decoded again (the store keeps bytes; the
 * decoder is the one judge of what they mean); NULL and no error when it
 * has none (or one that no longer decodes, logged). */
static GPtrArray *bh_apps_own(BhDaemon *self, const char *name, GError **error)
{
    g_autoptr(GBytes) bytes = bh_store_get_apps(self->store, name, error);
    GPtrArray *apps;
    char reason[160];

    if (bytes == NULL)
        return NULL;
    apps = bh_apps_decode(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), reason, sizeof reason);
    if (apps == NULL)
        g_message("[%s] the stored app list does not decode (%s); ignored", name, reason);
    return apps;
}

/* The list a qube shows, as Qubes does: its template's (the template's own
 * effective list, so a disposable shows its disposable template's), with the
 * qube's own entries added and replacing the template's of the same id (its
 * own list also holds what is installed in its private home, which only it
 * has). A qube without a template shows its own. *source names the qube whose
 * list it is: the qube when it has one of its own, else the nearest template
 * with one, "" when none has. At most BH_APPS_MAX_ENTRIES apps: a qube's own
 * entries past that are left out (logged), never its template's. NULL on an
 * error (no such qube, the store). */
static GPtrArray *bh_apps_effective_at(BhDaemon *self, const char *name, guint depth, char **source,
                                       GError **error)
{
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, error);
    g_autoptr(GPtrArray) base = NULL;
    g_autoptr(GPtrArray) own = NULL;
    g_autoptr(GHashTable) own_ids = NULL;
    g_autoptr(GError) local = NULL;
    GPtrArray *merged;
    guint left_out = 0;

    *source = g_strdup("");
    if (info == NULL)
        return NULL;
    own = bh_apps_own(self, info->name, &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    if (info->template_name != NULL && depth + 1 < BH_APPS_MAX_DEPTH) {
        base = bh_apps_effective_at(self, info->template_name, depth + 1, source, error);
        if (base == NULL)
            return NULL;
    }
    if (own == NULL)
        return base != NULL ? g_steal_pointer(&base)
                            : g_ptr_array_new_with_free_func((GDestroyNotify)bh_app_free);
    g_free(*source);
    *source = g_strdup(info->name);
    if (base == NULL || base->len == 0)
        return g_steal_pointer(&own);

    own_ids = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < own->len; i++)
        g_hash_table_add(own_ids, ((BhApp *)g_ptr_array_index(own, i))->id);
    /* The apps move (their slots left NULL) into merged. */
    merged = g_ptr_array_new_with_free_func((GDestroyNotify)bh_app_free);
    for (guint i = 0; i < base->len; i++) {
        if (!g_hash_table_contains(own_ids, ((BhApp *)g_ptr_array_index(base, i))->id)) {
            g_ptr_array_add(merged, g_ptr_array_index(base, i));
            base->pdata[i] = NULL;
        }
    }
    for (guint i = 0; i < own->len; i++) {
        if (merged->len >= BH_APPS_MAX_ENTRIES) {
            left_out = own->len - i;
            break;
        }
        g_ptr_array_add(merged, g_ptr_array_index(own, i));
        own->pdata[i] = NULL;
    }
    if (left_out > 0)
        g_message("[%s] %u of its own apps left out: with %s's, more than %u", info->name, left_out,
                  info->template_name, BH_APPS_MAX_ENTRIES);
    g_ptr_array_sort(merged, bh_app_compare_id);
    return merged;
}

static GPtrArray *bh_apps_effective(BhDaemon *self, const char *name, char **source, GError **error)
{
    return bh_apps_effective_at(self, name, 0, source, error);
}

/* ---- reading a qube's list ---------------------------------------------------- */

typedef struct {
    BhDaemon *self;
    char *name;
    GDBusMethodInvocation *invocation; /* RefreshApps; NULL at start */
    GTask *before_shutdown;            /* bh_daemon_apps_read_before_shutdown_async; NULL otherwise */
    gboolean at_start;                 /* the read after a start, from apps_start_queue */
} BhAppsFetch;

static void bh_apps_pump(BhDaemon *self);
static void bh_apps_first_pump(BhDaemon *self);

static void bh_apps_fetch_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhAppsFetch *f = user_data;
    BhDaemon *self = f->self;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = bh_daemon_run_capture_finish(self, result, &error);
    g_autoptr(GPtrArray) apps = NULL;
    char reason[160] = "";
    gboolean refused = FALSE;
    /* Started by the first lists only for this read (bh_apps_first_pump). */
    gboolean first = f->at_start && g_strcmp0(f->name, self->apps_first_current) == 0;

    if (bytes == NULL) {
        /* An overflow or a stall is the qube misbehaving; a program that
         * failed (an old qube without it) is not: keep what was there. */
        refused = g_error_matches(error, BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED);
        g_strlcpy(reason, error->message, sizeof reason);
    } else if ((apps = bh_apps_decode(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), reason,
                                      sizeof reason)) == NULL) {
        refused = TRUE;
    }

    if (apps != NULL) {
        g_autoptr(GError) store_error = NULL;
        g_autoptr(GBytes) stored = bh_store_get_apps(self->store, f->name, NULL);
        /* Most starts find the list they found last time: no write (the
         * store syncs each one) and no signal for an unchanged list. */
        gboolean same = stored != NULL && g_bytes_equal(stored, bytes);
        if (same) {
            g_info("[%s] app list: %u apps, unchanged", f->name, apps->len);
        } else if (!bh_store_set_apps(self->store, f->name, bytes, &store_error)) {
            g_warning("[%s] cannot keep its app list: %s", f->name, store_error->message);
            g_clear_pointer(&apps, g_ptr_array_unref);
            g_strlcpy(reason, store_error->message, sizeof reason);
        } else {
            g_info("[%s] app list: %u apps, %" G_GSIZE_FORMAT " bytes", f->name, apps->len,
                   g_bytes_get_size(bytes));
            bh_apps_emit_changed(self, f->name);
        }
    } else if (refused || first) {
        /* The stricter path: nothing of a list that broke the rules is
         * shown, not even the list it sent before. The reason is kept in
         * the store: it is still said after a restart, and a first list is
         * not tried again at every daemon start (only at the qube's next
         * start, as for any qube). */
        g_autofree char *was = bh_store_get_apps_problem(self->store, f->name, NULL);
        g_autoptr(GError) store_error = NULL;
        g_message("[%s] app list %s: %s", f->name, refused ? "refused" : "not read", reason);
        if (g_strcmp0(was, reason) == 0) {
            /* Said already; its list went then. */
        } else if (!bh_store_set_apps_problem(self->store, f->name, reason, &store_error)) {
            g_warning("[%s] cannot keep why its app list was not kept: %s", f->name, store_error->message);
        } else {
            bh_apps_emit_changed(self, f->name);
        }
    } else {
        g_info("[%s] no app list: %s", f->name, reason);
    }

    if (f->invocation != NULL) {
        if (apps != NULL)
            bh_dbus_admin1_complete_refresh_apps(self->skeleton, f->invocation, apps->len);
        else
            g_dbus_method_invocation_return_error(f->invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED,
                                                  "the app list of %s was not read: %s", f->name, reason);
    }
    if (f->before_shutdown != NULL) {
        /* Whatever came of the read, the shutdown goes on. */
        g_task_return_boolean(f->before_shutdown, apps != NULL);
        g_object_unref(f->before_shutdown);
    }
    if (f->at_start) {
        self->apps_start_busy = FALSE;
        /* Started only for its first list: read (or not), so down again,
         * unless someone asked for it meanwhile (a start, a command, an
         * app): then it is theirs and stays as they left it. */
        if (first && bh_daemon_runtime(self, f->name)->wanted != self->apps_first_wanted) {
            g_message("[%s] stays up: it was asked for while its app list was read", f->name);
            g_clear_pointer(&self->apps_first_current, g_free);
        } else if (first && bh_daemon_get_power_state(self, f->name) == BH_POWER_RUNNING) {
            g_info("[%s] shutting down: it was started only to read its app list", f->name);
            bh_daemon_shutdown_quietly(self, f->name);
        }
        bh_apps_pump(self);
        /* The last read after a start may be what the first lists wait for. */
        bh_apps_first_pump(self);
    }
    g_object_unref(f->self);
    g_free(f->name);
    g_free(f);
}

static void bh_apps_fetch(BhDaemon *self, const char *name, GDBusMethodInvocation *invocation,
                          gboolean at_start)
{
    BhAppsFetch *f = g_new0(BhAppsFetch, 1);
    f->self = g_object_ref(self);
    f->name = g_strdup(name);
    f->invocation = invocation;
    f->at_start = at_start;
    bh_daemon_run_capture_async(self, name, BH_APPLIST_COMMAND, BH_APPS_MAX_BYTES, bh_apps_timeout_s(self),
                                bh_apps_fetch_done, f);
}

gboolean bh_daemon_apps_inherited(BhDaemon *self, const BhQubeInfo *info)
{
    g_autoptr(GPtrArray) qubes = NULL;

    if (info->klass == BH_CLASS_TEMPLATE_VM)
        return TRUE;
    qubes = bh_store_list_qubes(self->store, NULL);
    for (guint i = 0; qubes != NULL && i < qubes->len; i++)
        if (g_strcmp0(((BhQubeInfo *)g_ptr_array_index(qubes, i))->template_name, info->name) == 0)
            return TRUE;
    return FALSE;
}

void bh_daemon_apps_read_before_shutdown_async(BhDaemon *self, const char *name, GAsyncReadyCallback callback,
                                               gpointer user_data)
{
    BhAppsFetch *f = g_new0(BhAppsFetch, 1);
    f->self = g_object_ref(self);
    f->name = g_strdup(name);
    f->before_shutdown = g_task_new(self, NULL, callback, user_data);
    g_info("[%s] reading its app list before it shuts down (app qubes show it)", name);
    bh_daemon_run_capture_async(self, name, BH_APPLIST_COMMAND, BH_APPS_MAX_BYTES, bh_apps_timeout_s(self),
                                bh_apps_fetch_done, f);
}

/* The reads after starts wait while any qube is starting, and run one at
 * a time: bulkhead-applist (GLib's desktop entries, an SVG renderer with
 * pango and fontconfig) was 28 % of all CPU while 20 qubes started at once
 * on two cores, competing with the starts themselves (bench/RESULTS.md,
 * "Start at scale"). The menu gets the lists a little later; the qubes
 * are usable sooner. */
static gboolean bh_apps_any_starting(BhDaemon *self)
{
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, self->runtime);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        if (((BhQubeRuntime *)value)->state == BH_POWER_TRANSIENT)
            return TRUE;
    return FALSE;
}

static void bh_apps_pump(BhDaemon *self)
{
    while (!self->apps_start_busy && !g_queue_is_empty(self->apps_start_queue) &&
           !bh_apps_any_starting(self)) {
        g_autofree char *name = g_queue_pop_head(self->apps_start_queue);
        /* Stopped meanwhile: read at its next start. */
        if (bh_daemon_get_power_state(self, name) != BH_POWER_RUNNING)
            continue;
        self->apps_start_busy = TRUE;
        bh_apps_fetch(self, name, NULL, TRUE);
    }
}

static void bh_apps_on_state_changed(BhDbusAdmin1 *skeleton, const char *name, const char *state,
                                     BhDaemon *self)
{
    g_autoptr(BhQubeInfo) info = NULL;

    if (g_str_equal(state, bh_power_state_name(BH_POWER_RUNNING))) {
        /* A disposable's list dies with it: its template's is the one shown. */
        info = bh_store_get_qube(self->store, name, NULL);
        if (info != NULL && info->klass != BH_CLASS_DISP_VM && info->klass != BH_CLASS_ADMIN_VM &&
            !g_queue_find_custom(self->apps_start_queue, name, (GCompareFunc)g_strcmp0))
            g_queue_push_tail(self->apps_start_queue, g_strdup(name));
    }
    if (g_strcmp0(name, self->apps_first_current) == 0 &&
        bh_power_is_down(bh_daemon_get_power_state(self, name))) {
        g_info("[%s] done with its first app list", name);
        g_clear_pointer(&self->apps_first_current, g_free);
    }
    /* Any change may be the last start ending. */
    bh_apps_pump(self);
    bh_apps_first_pump(self);
}

/* ---- first lists (--read-app-lists) ------------------------------------------------ */

static void bh_apps_first_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autofree char *name = user_data;
    g_autoptr(GError) error = NULL;
    /* Its state going down again ends its turn (bh_apps_on_state_changed). */
    if (!bh_daemon_start_finish(BH_DAEMON(source), result, &error))
        g_message("[%s] not started to read its app list: %s", name, error->message);
}

/* A qube for which a first list is wanted: it has none (nor a reason it
 * has none: a refused or failed read, kept in the store), it is down, and
 * its list is its own (a template's, or a standalone's). */
static gboolean bh_apps_first_wanted(BhDaemon *self, const BhQubeInfo *info)
{
    g_autoptr(GBytes) stored = NULL;
    g_autofree char *problem = NULL;
    if (info->klass != BH_CLASS_TEMPLATE_VM && info->klass != BH_CLASS_STANDALONE_VM)
        return FALSE;
    if (!bh_power_is_down(bh_daemon_get_power_state(self, info->name)))
        return FALSE;
    stored = bh_store_get_apps(self->store, info->name, NULL);
    problem = stored == NULL ? bh_store_get_apps_problem(self->store, info->name, NULL) : NULL;
    return stored == NULL && problem == NULL;
}

/* After every other start and read: these qubes are not what the user is
 * waiting for, and each one started is a whole qube's CPU for a while. */
static void bh_apps_first_pump(BhDaemon *self)
{
    while (self->apps_first_current == NULL && self->backend != NULL &&
           !g_queue_is_empty(self->apps_first_queue) && !self->apps_start_busy &&
           g_queue_is_empty(self->apps_start_queue) && !bh_apps_any_starting(self)) {
        g_autofree char *name = g_queue_pop_head(self->apps_first_queue);
        g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, NULL);
        /* Started, removed or read meanwhile. */
        if (info == NULL || !bh_apps_first_wanted(self, info))
            continue;
        g_message("[%s] starting it to read its app list (it has none yet); it shuts down after", name);
        self->apps_first_current = g_strdup(name);
        bh_daemon_start_async(self, name, bh_apps_first_started, g_strdup(name));
        self->apps_first_wanted = bh_daemon_runtime(self, name)->wanted;
    }
}

guint bh_daemon_apps_read_missing(BhDaemon *self)
{
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(self->store, NULL);
    guint n = 0;
    if (self->backend == NULL)
        return 0;
    for (guint i = 0; qubes != NULL && i < qubes->len; i++) {
        BhQubeInfo *info = g_ptr_array_index(qubes, i);
        if (bh_apps_first_wanted(self, info)) {
            g_queue_push_tail(self->apps_first_queue, g_strdup(info->name));
            n++;
        }
    }
    bh_apps_first_pump(self);
    return n;
}

void bh_daemon_apps_init(BhDaemon *self)
{
    self->apps_start_queue = g_queue_new();
    self->apps_first_queue = g_queue_new();
    g_signal_connect(self->skeleton, "state-changed", G_CALLBACK(bh_apps_on_state_changed), self);
}

/* ---- D-Bus ---------------------------------------------------------------------- */

/* The menu_items that chooses a qube's menu: its own, unless it is
 * "default" (unset); then its template's, followed as the list is (a
 * disposable: its disposable template's, then that one's template). NULL
 * when none in the chain chose: the menu leaves out the variants. */
static char *bh_apps_menu_items(BhDaemon *self, const char *name)
{
    g_autofree char *at = g_strdup(name);

    for (guint depth = 0; at != NULL && depth < BH_APPS_MAX_DEPTH; depth++) {
        g_autofree char *value = NULL;
        g_autoptr(BhQubeInfo) info = NULL;

        if (bh_store_get_property(self->store, at, "menu_items", &value, NULL, NULL) &&
            !g_str_equal(value, "default"))
            return g_steal_pointer(&value);
        info = bh_store_get_qube(self->store, at, NULL);
        g_free(at);
        at = info != NULL ? g_strdup(info->template_name) : NULL;
    }
    return NULL;
}

/* Whether the menu shows an app: "all", the ids separated by spaces, or,
 * when no menu_items chose (NULL), every app but the variants. */
static gboolean bh_apps_in_menu(const char *menu_items, GHashTable *variants, const char *id)
{
    g_auto(GStrv) words = NULL;

    if (menu_items == NULL)
        return !g_hash_table_contains(variants, id);
    if (g_str_equal(menu_items, "all"))
        return TRUE;
    words = g_strsplit(menu_items, " ", -1);
    return g_strv_contains((const char *const *)words, id);
}

static gboolean bh_daemon_handle_list_apps(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                           const char *name, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *source = NULL;
    g_autofree char *menu_items = NULL;
    g_autoptr(GPtrArray) apps = bh_apps_effective(self, name, &source, &error);
    g_autoptr(GHashTable) variants = NULL; /* after apps, so freed first: it borrows their ids */
    GVariantBuilder builder;
    g_autofree char *problem = NULL;

    if (apps == NULL)
        return bh_daemon_return_error(invocation, error);
    menu_items = bh_apps_menu_items(self, name);
    variants = bh_apps_variants(apps);
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sssssbuuay)"));
    for (guint i = 0; i < apps->len; i++) {
        BhApp *app = g_ptr_array_index(apps, i);
        gsize n = 0;
        gconstpointer pixels = app->icon != NULL ? g_bytes_get_data(app->icon, &n) : NULL;
        g_variant_builder_add(&builder, "(sssssbuu@ay)", app->id, app->name, app->generic, app->categories,
                              app->keywords, bh_apps_in_menu(menu_items, variants, app->id), app->icon_w,
                              app->icon_h, g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, pixels, n, 1));
    }
    problem = bh_store_get_apps_problem(self->store, name, NULL);
    bh_dbus_admin1_complete_list_apps(skeleton, invocation, g_variant_builder_end(&builder), source,
                                      problem != NULL ? problem : "");
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_refresh_apps(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *name, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_daemon_power_target(self, name, "read the apps of", &error);

    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    if (bh_daemon_runtime(self, name)->state != BH_POWER_RUNNING) {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_RUNNING,
                    "qube %s is %s; its apps are read when it runs (start it first)", name,
                    bh_power_state_name(bh_daemon_runtime(self, name)->state));
        return bh_daemon_return_error(invocation, error);
    }
    bh_apps_fetch(self, name, invocation, FALSE);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
    BhDaemon *self;
    GDBusMethodInvocation *invocation;
    char *name;
    char *commandline;
} BhRunApp;

static void bh_run_app_free(BhRunApp *r)
{
    g_object_unref(r->self);
    g_free(r->name);
    g_free(r->commandline);
    g_free(r);
}

static void bh_run_app_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhRunApp *r = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) out = bh_daemon_run_capture_finish(r->self, result, &error);

    if (out == NULL) {
        g_prefix_error(&error, "could not start the app in %s: ", r->name);
        bh_daemon_return_error(r->invocation, error);
    } else {
        bh_dbus_admin1_complete_run_app(r->self->skeleton, r->invocation);
    }
    bh_run_app_free(r);
}

static void bh_run_app_now(BhRunApp *r)
{
    /* The launcher forks the app and exits: a short run, no output kept. */
    bh_daemon_run_capture_async(r->self, r->name, r->commandline, 4096, bh_apps_timeout_s(r->self),
                                bh_run_app_done, r);
}

static void bh_run_app_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhRunApp *r = user_data;
    g_autoptr(GError) error = NULL;
    if (!bh_daemon_start_finish(r->self, result, &error)) {
        bh_daemon_return_error(r->invocation, error);
        bh_run_app_free(r);
        return;
    }
    bh_run_app_now(r);
}

static gboolean bh_daemon_handle_run_app(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                         const char *name, const char *id, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = NULL;
    g_autoptr(GPtrArray) apps = NULL;
    g_autofree char *source = NULL;
    gboolean listed = FALSE;
    BhRunApp *r;

    info = bh_daemon_power_target(self, name, "run apps in", &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    bh_daemon_runtime(self, name)->wanted++;
    if (!bh_apps_id_ok(id, strlen(id))) {
        g_autofree char *quoted = bh_qubes_quote(id);
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                    "%s is not an app id (a desktop file id such as org.gnome.Calculator.desktop)", quoted);
        return bh_daemon_return_error(invocation, error);
    }
    apps = bh_apps_effective(self, name, &source, &error);
    if (apps == NULL)
        return bh_daemon_return_error(invocation, error);
    for (guint i = 0; i < apps->len && !listed; i++)
        listed = g_str_equal(((BhApp *)g_ptr_array_index(apps, i))->id, id);
    if (!listed) {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                    "%s offers no app %s (see ListApps; a qube's apps are read when it starts)", name, id);
        return bh_daemon_return_error(invocation, error);
    }

    r = g_new0(BhRunApp, 1);
    r->self = g_object_ref(self);
    r->invocation = invocation;
    r->name = g_strdup(name);
    /* The id's characters need no quoting ([A-Za-z0-9._+-]). */
    r->commandline = g_strdup_printf(BH_APPLIST_COMMAND " --launch %s", id);
    g_info("[%s] run app %s (from %s's list)", name, id, source);

    BhPowerState state = bh_daemon_runtime(self, name)->state;
    if (state == BH_POWER_RUNNING) {
        bh_run_app_now(r);
    } else if (bh_power_is_down(state) || state == BH_POWER_TRANSIENT) {
        bh_daemon_start_async(self, name, bh_run_app_started, r);
    } else {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_RUNNING, "qube %s is %s; %s", name,
                    bh_power_state_name(state),
                    state == BH_POWER_PAUSED ? "resume it with qvm-unpause first"
                                             : "wait until it has stopped");
        bh_run_app_free(r);
        return bh_daemon_return_error(invocation, error);
    }
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

const BhDaemonHandler *bh_daemon_apps_handlers(gsize *n)
{
    static const BhDaemonHandler handlers[] = {
        {"handle-list-apps", G_CALLBACK(bh_daemon_handle_list_apps)},
        {"handle-run-app", G_CALLBACK(bh_daemon_handle_run_app)},
        {"handle-refresh-apps", G_CALLBACK(bh_daemon_handle_refresh_apps)},
    };
    *n = G_N_ELEMENTS(handlers);
    return handlers;
}
