/* bh-daemon-power-calls.c — the D-Bus methods of org.bulkhead.Admin1 that
 * change a qube's power; see bh-daemon-private.h.
 *
 * Owns the handlers of Start, Shutdown (with its waiters and its bounded
 * timeout), Kill, Pause, Unpause, CreateDisposable and GetStats (the
 * backend's figures for the running qubes), and the common checks
 * of a power call (a backend, an existing qube, not dom0). Must never: set a
 * power state but through bh_daemon_set_state, nor start a qube but through
 * the start chain of bh-daemon-power.c (its netvm first).
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-error.h"
#include "bh-daemon-private.h"
#include "bh-dbus-error.h"

/* Shutdown timeouts beyond this are treated as a mistake, not a wish. */
#define BH_DAEMON_MAX_SHUTDOWN_TIMEOUT_S 3600

/* ---- D-Bus: power -------------------------------------------------------- */

/* Common preamble of the power methods: a backend, an existing qube, not dom0. */
BhQubeInfo *bh_daemon_power_target(BhDaemon *self, const char *name, const char *what, GError **error)
{
    if (!bh_daemon_require_backend(self, error))
        return NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, error);
    if (info == NULL)
        return NULL;
    if (info->klass == BH_CLASS_ADMIN_VM) {
        g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_PERMISSION, "cannot %s dom0", what);
        return NULL;
    }
    return g_steal_pointer(&info);
}

typedef struct {
    BhDaemon *self;
    GDBusMethodInvocation *invocation;
    char *name;
    guint timeout_s; /* Shutdown's, once its app list is read */
} BhCallContext;

static BhCallContext *bh_call_context_new(BhDaemon *self, GDBusMethodInvocation *invocation, const char *name)
{
    BhCallContext *ctx = g_new0(BhCallContext, 1);
    ctx->self = g_object_ref(self);
    ctx->invocation = invocation;
    ctx->name = g_strdup(name);
    return ctx;
}

static void bh_call_context_free(BhCallContext *ctx)
{
    g_object_unref(ctx->self);
    g_free(ctx->name);
    g_free(ctx);
}

static void bh_daemon_start_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhCallContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (bh_daemon_start_finish(ctx->self, result, &error))
        bh_dbus_admin1_complete_start(ctx->self->skeleton, ctx->invocation);
    else
        bh_daemon_return_error(ctx->invocation, error);
    bh_call_context_free(ctx);
}

static gboolean bh_daemon_handle_start(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                       const char *name, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_daemon_power_target(self, name, "start", &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    bh_daemon_runtime(self, name)->wanted++; /* even when it runs: wanted up (first app lists) */
    if (bh_daemon_runtime(self, name)->state == BH_POWER_RUNNING) {
        g_dbus_method_invocation_return_error(invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_HALTED,
                                              "qube %s is already running", name);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    bh_daemon_start_async(self, name, bh_daemon_start_done, bh_call_context_new(self, invocation, name));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void bh_daemon_shutdown_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhCallContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (!bh_backend_shutdown_finish(ctx->self->backend, result, &error)) {
        /* Nobody hears of it when the caller did not wait: logged then (a
         * backend's failure, not the daemon's). */
        if (ctx->invocation)
            bh_daemon_return_error(ctx->invocation, error);
        else
            g_message("[%s] shutdown failed: %s", ctx->name, error->message);
    } else {
        /* The backend may report Halted only through this completion. */
        bh_daemon_set_state(ctx->self, ctx->name, BH_POWER_HALTED, NULL);
        if (ctx->invocation)
            bh_dbus_admin1_complete_shutdown(ctx->self->skeleton, ctx->invocation);
    }
    bh_call_context_free(ctx);
}

static void bh_daemon_shutdown_now(BhCallContext *ctx)
{
    bh_daemon_set_state(ctx->self, ctx->name, BH_POWER_HALTING, NULL);
    bh_backend_shutdown(ctx->self->backend, ctx->name, ctx->timeout_s, NULL, bh_daemon_shutdown_done, ctx);
}

void bh_daemon_shutdown_quietly(BhDaemon *self, const char *name)
{
    BhCallContext *ctx = bh_call_context_new(self, NULL, name);
    ctx->timeout_s =
        MIN(bh_daemon_get_uint(self, name, "shutdown_timeout", 60), BH_DAEMON_MAX_SHUTDOWN_TIMEOUT_S);
    bh_daemon_shutdown_now(ctx);
}

static void bh_daemon_shutdown_after_apps(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhCallContext *ctx = user_data;
    BhQubeRuntime *rt = bh_daemon_runtime(ctx->self, ctx->name);

    /* The read logged its own outcome; it never keeps the qube up. */
    g_task_propagate_boolean(G_TASK(result), NULL);
    rt->reading_apps = FALSE;
    if (bh_power_is_down(rt->state)) {
        /* Killed, or it halted by itself, while its list was read. */
        if (ctx->invocation)
            bh_dbus_admin1_complete_shutdown(ctx->self->skeleton, ctx->invocation);
        bh_call_context_free(ctx);
        return;
    }
    bh_daemon_shutdown_now(ctx);
}

static gboolean bh_daemon_handle_shutdown(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                          const char *name, gboolean wait, guint timeout_s, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_daemon_power_target(self, name, "shut down", &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);

    if (bh_power_is_down(rt->state)) {
        bh_dbus_admin1_complete_shutdown(skeleton, invocation);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (rt->state == BH_POWER_TRANSIENT) {
        g_dbus_method_invocation_return_error(invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_RUNNING,
                                              "qube %s is still starting; shut it down once it "
                                              "runs, or kill it (qvm-kill %s)",
                                              name, name);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (rt->state == BH_POWER_HALTING || rt->state == BH_POWER_DYING || rt->reading_apps) {
        if (wait)
            g_ptr_array_add(rt->halt_waiters, invocation);
        else
            bh_dbus_admin1_complete_shutdown(skeleton, invocation);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

    if (timeout_s == 0)
        timeout_s = bh_daemon_get_uint(self, name, "shutdown_timeout", 60);
    timeout_s = MIN(timeout_s, BH_DAEMON_MAX_SHUTDOWN_TIMEOUT_S);
    BhCallContext *ctx = bh_call_context_new(self, wait ? invocation : NULL, name);
    ctx->timeout_s = timeout_s;
    if (!wait)
        bh_dbus_admin1_complete_shutdown(skeleton, invocation);
    /* A template's list is what its app qubes show: read what was installed
     * in it while it is still up (only a Running qube answers; a paused one
     * would only stall the capture). */
    if (rt->state == BH_POWER_RUNNING && bh_daemon_apps_inherited(self, info)) {
        rt->reading_apps = TRUE;
        bh_daemon_apps_read_before_shutdown_async(self, name, bh_daemon_shutdown_after_apps, ctx);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    bh_daemon_shutdown_now(ctx);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef gboolean (*BhBackendQubeOp)(BhBackend *backend, const char *qube, GError **error);

static gboolean bh_daemon_simple_power(BhDaemon *self, GDBusMethodInvocation *invocation, const char *name,
                                       const char *what, BhPowerState required, BhPowerState after,
                                       BhBackendQubeOp op)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_daemon_power_target(self, name, what, &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    BhPowerState state = bh_daemon_runtime(self, name)->state;
    gboolean allowed = required == BH_POWER_N_STATES ? !bh_power_is_down(state) : state == required;
    if (!allowed) {
        int code = required == BH_POWER_PAUSED ? BH_DBUS_ERROR_NOT_PAUSED : BH_DBUS_ERROR_NOT_RUNNING;
        g_dbus_method_invocation_return_error(invocation, BH_DBUS_ERROR, code, "cannot %s %s: it is %s", what,
                                              name, bh_power_state_name(state));
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (!op(self->backend, name, &error))
        return bh_daemon_return_error(invocation, error);
    /* The backend may already have reported the change, or a later one. */
    if (bh_daemon_runtime(self, name)->state == state)
        bh_daemon_set_state(self, name, after, NULL);
    g_dbus_method_invocation_return_value(invocation, NULL);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_kill(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                      const char *name, BhDaemon *self)
{
    /* BH_POWER_N_STATES: any state but down. */
    return bh_daemon_simple_power(self, invocation, name, "kill", BH_POWER_N_STATES, BH_POWER_DYING,
                                  bh_backend_kill);
}

static gboolean bh_daemon_handle_pause(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                       const char *name, BhDaemon *self)
{
    return bh_daemon_simple_power(self, invocation, name, "pause", BH_POWER_RUNNING, BH_POWER_PAUSED,
                                  bh_backend_pause);
}

static gboolean bh_daemon_handle_unpause(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                         const char *name, BhDaemon *self)
{
    return bh_daemon_simple_power(self, invocation, name, "unpause", BH_POWER_PAUSED, BH_POWER_RUNNING,
                                  bh_backend_unpause);
}

static void bh_daemon_disposable_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhCallContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (bh_daemon_start_finish(ctx->self, result, &error)) {
        bh_dbus_admin1_complete_create_disposable(ctx->self->skeleton, ctx->invocation, ctx->name);
    } else {
        bh_daemon_discard_disposable(ctx->self, ctx->name);
        bh_daemon_return_error(ctx->invocation, error);
    }
    bh_call_context_free(ctx);
}

char *bh_daemon_new_disposable(BhDaemon *self, const char *dvm_template, GError **error)
{
    int qid = -1;
    if (!bh_daemon_require_backend(self, error))
        return NULL;
    g_autofree char *name = bh_store_create_disposable(self->store, dvm_template, &qid, error);
    if (name == NULL || !bh_daemon_add_volumes(self, name, error))
        return NULL;
    g_info("[%s] disposable created (qid %d)", name, qid);
    bh_dbus_admin1_emit_qube_added(self->skeleton, name);
    return g_steal_pointer(&name);
}

static gboolean bh_daemon_handle_create_disposable(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                   const char *dvm_template, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    /* Started ahead (preload_dispvm): running already, or joined while it
     * starts; a failure discards it as for a new one. */
    g_autofree char *preloaded = bh_daemon_preload_take(self, dvm_template);
    if (preloaded) {
        bh_daemon_start_async(self, preloaded, bh_daemon_disposable_started,
                              bh_call_context_new(self, invocation, preloaded));
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    g_autofree char *name = bh_daemon_new_disposable(self, *dvm_template ? dvm_template : NULL, &error);
    if (name == NULL)
        return bh_daemon_return_error(invocation, error);
    bh_daemon_start_async(self, name, bh_daemon_disposable_started,
                          bh_call_context_new(self, invocation, name));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void bh_daemon_end_disposable(BhDaemon *self, const char *name)
{
    g_autoptr(GError) error = NULL;
    /* Already removed (its halt cleaned it up): nothing to do, and no
     * runtime record to make for a name that is gone. */
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, NULL);
    if (info == NULL || info->klass != BH_CLASS_DISP_VM)
        return;
    BhPowerState state = bh_daemon_runtime(self, name)->state;
    if (bh_power_is_down(state)) {
        bh_daemon_discard_disposable(self, name);
        return;
    }
    if (state == BH_POWER_DYING || self->backend == NULL)
        return;
    if (!bh_backend_kill(self->backend, name, &error)) {
        g_message("[%s] cannot kill the disposable: %s", name, error->message);
        return;
    }
    /* The backend may already have reported the change, or a later one. */
    if (bh_daemon_runtime(self, name)->state == state)
        bh_daemon_set_state(self, name, BH_POWER_DYING, NULL);
}

static gboolean bh_daemon_handle_get_stats(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                           BhDaemon *self)
{
    GVariantBuilder b;
    GHashTableIter iter;
    gpointer key, value;

    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
    g_hash_table_iter_init(&iter, self->runtime);
    while (self->backend != NULL && g_hash_table_iter_next(&iter, &key, &value)) {
        const BhQubeRuntime *rt = value;
        BhBackendStats stats = {0};
        g_autoptr(GError) error = NULL;
        GVariantDict qube;

        if (rt->state != BH_POWER_RUNNING && rt->state != BH_POWER_PAUSED)
            continue;
        if (!bh_backend_get_stats(self->backend, key, &stats, &error)) {
            g_debug("[%s] no stats: %s", (const char *)key, error->message);
            continue;
        }
        g_variant_dict_init(&qube, NULL);
        g_variant_dict_insert(&qube, "memory", "t", stats.memory_bytes);
        g_variant_dict_insert(&qube, "cpu_usec", "t", stats.cpu_usec);
        g_variant_builder_add(&b, "{s@a{sv}}", (const char *)key, g_variant_dict_end(&qube));
    }
    bh_dbus_admin1_complete_get_stats(skeleton, invocation, g_variant_builder_end(&b));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
    BhDaemon *self; /* strong: the backend outlives the measure */
    GDBusMethodInvocation *invocation;
} BhUsageCall;

static void bh_daemon_usage_done(GObject *source, GAsyncResult *result, gpointer data)
{
    BhUsageCall *call = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) usage = bh_backend_volume_usage_finish(call->self->backend, result, &error);
    GVariantBuilder b;
    GHashTableIter iter;
    gpointer key, value;

    g_variant_builder_init(&b, G_VARIANT_TYPE("a{s(tbt)}"));
    if (usage == NULL) {
        g_debug("disk usage: %s", error->message);
    } else {
        g_hash_table_iter_init(&iter, usage);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
            const BhBackendUsage *u = value;
            g_variant_builder_add(&b, "{s(tbt)}", (const char *)key, u->bytes, u->exact, u->root_bytes);
        }
    }
    bh_dbus_admin1_complete_get_disk_usage(call->self->skeleton, call->invocation, g_variant_builder_end(&b));
    g_object_unref(call->self);
    g_free(call);
}

static gboolean bh_daemon_handle_get_disk_usage(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                const char *const *names, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(self->store, &error);
    g_autoptr(GPtrArray) wanted = g_ptr_array_new();
    BhUsageCall *call;

    if (qubes == NULL)
        return bh_daemon_return_error(invocation, error);
    /* Only qubes the model has: a caller's name never becomes a path. */
    for (guint i = 0; i < qubes->len; i++) {
        const BhQubeInfo *info = qubes->pdata[i];
        if (info->klass != BH_CLASS_ADMIN_VM && (names[0] == NULL || g_strv_contains(names, info->name)))
            g_ptr_array_add(wanted, info->name);
    }
    g_ptr_array_add(wanted, NULL);
    if (self->backend == NULL) {
        bh_dbus_admin1_complete_get_disk_usage(skeleton, invocation,
                                               g_variant_new_array(G_VARIANT_TYPE("{s(tbt)}"), NULL, 0));
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    call = g_new0(BhUsageCall, 1);
    call->self = g_object_ref(self);
    call->invocation = invocation;
    bh_backend_volume_usage(self->backend, (const char *const *)wanted->pdata, NULL, bh_daemon_usage_done,
                            call);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

const BhDaemonHandler *bh_daemon_power_calls_handlers(gsize *n)
{
    static const BhDaemonHandler handlers[] = {
        {"handle-start", G_CALLBACK(bh_daemon_handle_start)},
        {"handle-shutdown", G_CALLBACK(bh_daemon_handle_shutdown)},
        {"handle-kill", G_CALLBACK(bh_daemon_handle_kill)},
        {"handle-pause", G_CALLBACK(bh_daemon_handle_pause)},
        {"handle-unpause", G_CALLBACK(bh_daemon_handle_unpause)},
        {"handle-get-stats", G_CALLBACK(bh_daemon_handle_get_stats)},
        {"handle-get-disk-usage", G_CALLBACK(bh_daemon_handle_get_disk_usage)},
        {"handle-create-disposable", G_CALLBACK(bh_daemon_handle_create_disposable)},
    };
    *n = G_N_ELEMENTS(handlers);
    return handlers;
}
