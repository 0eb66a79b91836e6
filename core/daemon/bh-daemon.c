/* bh-daemon.c — BhDaemon, the object; see bh-daemon.h.
 *
 * Owns the construction (lock, store, backend, agent set, guid set, policy, clipboard),
 * the connection of each part's Admin1 handlers, export, stop and finalize.
 * The parts (the power state machine and the D-Bus handlers) are the other
 * bh-daemon-*.c files, listed in bh-daemon-private.h; this file only calls
 * them, they never call here. Must never: handle a method itself.
 *
 * Runs entirely on the main context: GDBus dispatches every method call
 * there, so store transactions are naturally serialised and the in-memory
 * power states need no lock. A reply is sent only after the store call
 * returned (the store commits and syncs before returning), which is what
 * "acknowledged" means to clients. Signals describing a change are emitted
 * before the reply, so a client sees them by the time its call returns.
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-private.h"
#include "bh-dbus-error.h"

G_DEFINE_TYPE(BhDaemon, bh_daemon, G_TYPE_OBJECT)

/* ---- object ----------------------------------------------------------------- */

char *bh_daemon_default_state_dir(void)
{
    return g_build_filename(g_get_user_data_dir(), "bulkhead", NULL);
}

void bh_daemon_stop(BhDaemon *self)
{
    /* Work in flight (a start's GTask) holds references to the object, so
     * finalize may never come; the qubes must stop all the same, now that a
     * crashed daemon's sandboxes outlive it (docs/sandbox.md). The
     * clipboard goes first: it asks the guid set who is calling. */
    bh_daemon_preload_stop(self);
    g_clear_pointer(&self->clipboard, bh_clipboard_free);
    g_clear_pointer(&self->calls, bh_calls_free);
    g_clear_pointer(&self->guids, bh_guid_set_free);
    g_clear_pointer(&self->agents, bh_agent_set_free);
    if (self->backend)
        bh_daemon_abandon_clones(self);
    g_clear_pointer(&self->backend, bh_backend_free);
}

static void bh_daemon_finalize(GObject *object)
{
    BhDaemon *self = BH_DAEMON(object);
    bh_daemon_unexport(self);
    bh_daemon_preload_stop(self);
    /* Reverse order of bh_daemon_new: guids, agents, backend (stops qubes), store, lock. */
    g_clear_pointer(&self->clipboard, bh_clipboard_free);
    g_clear_pointer(&self->calls, bh_calls_free);
    g_clear_object(&self->policy);
    g_clear_pointer(&self->guids, bh_guid_set_free);
    g_clear_pointer(&self->runtime, g_hash_table_unref);
    g_clear_pointer(&self->cloning, g_hash_table_unref);
    if (self->apps_start_queue)
        g_queue_free_full(g_steal_pointer(&self->apps_start_queue), g_free);
    if (self->apps_first_queue)
        g_queue_free_full(g_steal_pointer(&self->apps_first_queue), g_free);
    g_clear_pointer(&self->apps_first_current, g_free);
    g_clear_pointer(&self->agents, bh_agent_set_free);
    g_clear_pointer(&self->backend, bh_backend_free);
    g_clear_pointer(&self->store, bh_store_close);
    g_clear_pointer(&self->lock, bh_state_lock_release);
    g_clear_object(&self->skeleton);
    g_free(self->state_dir);
    G_OBJECT_CLASS(bh_daemon_parent_class)->finalize(object);
}

static void bh_daemon_class_init(BhDaemonClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = bh_daemon_finalize;
}

static void bh_daemon_init(BhDaemon *self)
{
    self->runtime = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bh_qube_runtime_free);
    self->cloning = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->skeleton = bh_dbus_admin1_skeleton_new();

    /* Each part's Admin1 handlers, with the object as their user data. */
    const BhDaemonHandler *(*const parts[])(gsize * n) = {
        bh_daemon_model_handlers, bh_daemon_power_calls_handlers, bh_daemon_run_handlers,
        bh_daemon_apps_handlers,  bh_daemon_net_handlers,         bh_daemon_leftovers_handlers,
    };
    for (gsize i = 0; i < G_N_ELEMENTS(parts); i++) {
        gsize n = 0;
        const BhDaemonHandler *handlers = parts[i](&n);
        for (gsize j = 0; j < n; j++)
            g_signal_connect(self->skeleton, handlers[j].signal, handlers[j].handler, self);
    }
    bh_daemon_apps_init(self);
    bh_daemon_preload_init(self);
}

/* ---- what a qube's call needs of the daemon (bh-daemon-calls.h) ---------- */

static void bh_daemon_calls_start(gpointer owner, const char *qube, GAsyncReadyCallback callback,
                                  gpointer data)
{
    bh_daemon_start_async(owner, qube, callback, data);
}

static gboolean bh_daemon_calls_start_finish(gpointer owner, GAsyncResult *result, GError **error)
{
    return bh_daemon_start_finish(owner, result, error);
}

static gboolean bh_daemon_calls_running(gpointer owner, const char *qube)
{
    return bh_daemon_runtime(owner, qube)->state == BH_POWER_RUNNING;
}

static char *bh_daemon_calls_create_disposable(gpointer owner, const char *dvm_template, GError **error)
{
    return bh_daemon_new_disposable(owner, dvm_template, error);
}

static void bh_daemon_calls_kill_disposable(gpointer owner, const char *qube)
{
    bh_daemon_end_disposable(owner, qube);
}

static GDBusConnection *bh_daemon_calls_bus(gpointer owner)
{
    BhDaemon *self = owner;
    return g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self->skeleton));
}

BhDaemon *bh_daemon_new(const BhDaemonConfig *config, GError **error)
{
    g_autoptr(BhDaemon) self = g_object_new(BH_TYPE_DAEMON, NULL);
    g_autoptr(BhBackend) given = config->backend_instance; /* ours even if we fail */
    const char *backend_name = config->backend ? config->backend : "none";

    /* Registers org.bulkhead.Error.* before the first reply. */
    (void)bh_dbus_error_quark();
    self->state_dir = g_strdup(config->state_dir);
    self->applist_timeout_s = config->applist_timeout_s;
    self->lock = bh_state_lock_acquire(self->state_dir, error);
    if (self->lock == NULL)
        return NULL;

    g_autofree char *store_path = g_build_filename(self->state_dir, "qubes.db", NULL);
    self->store = bh_store_open(store_path, error);
    if (self->store == NULL) {
        g_prefix_error(error, "cannot open the store %s: ", store_path);
        return NULL;
    }

    if (given) {
        self->backend = g_steal_pointer(&given);
        backend_name = self->backend->name;
    } else {
        g_autofree char *runtime_dir = g_build_filename(g_get_user_runtime_dir(), "bulkhead", NULL);
        BhBackendConfig bc = {.state_dir = self->state_dir,
                              .runtime_dir = runtime_dir,
                              .resolv_conf = config->uplink_resolv_conf};
        if (!bh_backend_open(backend_name, &bc, &self->backend, error))
            return NULL;
    }
    self->backend_name = "none";
    self->backend_isolation = "none: qubes cannot be started";
    gsize n = 0;
    const BhBackendInfo *infos = bh_backend_list(&n);
    for (gsize i = 0; i < n; i++) {
        if (g_str_equal(infos[i].name, backend_name)) {
            self->backend_name = infos[i].name;
            self->backend_isolation = infos[i].isolation;
        }
    }
    if (self->backend) {
        if (!g_str_equal(self->backend_name, backend_name)) {
            /* A backend this registry does not list (a test's): report its own name. */
            self->backend_name = self->backend->name;
            self->backend_isolation = self->backend->name;
        }
        bh_backend_set_state_func(self->backend, bh_daemon_backend_state_changed, self);
        self->agents = bh_agent_set_new(self->backend);
    }
    if (!config->no_guid) {
        self->guids = bh_guid_set_new(bh_daemon_guid_ended, self);
        /* guid's launcher starts now, not with the first qube: a burst of
         * qubes at boot then forks every guid from it. */
        if (bh_guid_display_available())
            bh_guid_set_prepare(self->guids);
    }
    /* Problems in the files are logged here; they deny, they do not stop us. */
    self->policy = bh_policy_store_new(NULL);
    self->clipboard = bh_clipboard_new(self->store, self->policy, self->guids);
    if (self->backend) {
        BhCallsHooks hooks = {.owner = self,
                              .start_async = bh_daemon_calls_start,
                              .start_finish = bh_daemon_calls_start_finish,
                              .running = bh_daemon_calls_running,
                              .create_disposable = bh_daemon_calls_create_disposable,
                              .kill_disposable = bh_daemon_calls_kill_disposable,
                              .bus = bh_daemon_calls_bus};
        self->calls = bh_calls_new(self->backend, self->agents, self->policy, self->store, &hooks);
    }
    bh_daemon_leftovers_report(self);
    bh_dbus_admin1_set_backend(self->skeleton, self->backend_name);
    bh_dbus_admin1_set_backend_description(self->skeleton, self->backend_isolation);
    return g_steal_pointer(&self);
}

gboolean bh_daemon_export(BhDaemon *self, GDBusConnection *connection, GError **error)
{
    /* Before the first qube starts (adoption and autostart come once the
     * name is ours): its guid then has the answer, if it came in time. */
    if (self->guids != NULL)
        bh_guid_set_watch_a11y(self->guids, connection);
    return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton), connection,
                                            BH_DBUS_PATH, error) &&
           bh_clipboard_export(self->clipboard, connection, BH_DBUS_PATH, error);
}

void bh_daemon_unexport(BhDaemon *self)
{
    if (self->skeleton && g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self->skeleton)))
        g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->skeleton));
    if (self->clipboard)
        bh_clipboard_unexport(self->clipboard);
}

const char *bh_daemon_get_backend_name(BhDaemon *self)
{
    return self->backend_name;
}
