/* bh-daemon.c — BhDaemon; see bh-daemon.h.
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

#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "bh-clipboard.h"
#include "bh-daemon-error.h"
#include "bh-dbus-admin1.h"
#include "bh-dbus-error.h"
#include "bh-guid-set.h"
#include "bh-policy-store.h"
#include "bh-state-lock.h"

G_DEFINE_TYPE(BhDaemon, bh_daemon, G_TYPE_OBJECT)

/* ---- D-Bus: Run ----------------------------------------------------------- */

typedef struct {
    BhDaemon *self;
    GDBusMethodInvocation *invocation;
    char *name;
    char *commandline;
    char *user;
    gboolean wait;
    int fds[3]; /* ours (duplicated from the message); -1 when not passed */
} BhRunContext;

static void bh_run_context_free(BhRunContext *ctx)
{
    for (int i = 0; i < 3; i++)
        if (ctx->fds[i] >= 0)
            close(ctx->fds[i]);
    g_object_unref(ctx->self);
    g_free(ctx->name);
    g_free(ctx->commandline);
    g_free(ctx->user);
    g_free(ctx);
}

static void bh_daemon_run_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhRunContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    int status = -1;
    if (bh_backend_run_finish(ctx->self->backend, result, &status, &error)) {
        g_info("[%s] command finished with status %d", ctx->name, status);
        bh_dbus_admin1_complete_run(ctx->self->skeleton, ctx->invocation, NULL, ctx->wait ? status : 0);
    } else {
        bh_daemon_return_error(ctx->invocation, error);
    }
    bh_run_context_free(ctx);
}

static void bh_daemon_run_now(BhRunContext *ctx)
{
    BhDaemon *self = ctx->self;
    if (*ctx->user == '\0') {
        g_free(ctx->user);
        ctx->user = bh_daemon_get_string(self, ctx->name, "default_user");
    }
    BhBackendRun run = {
        .user = ctx->user,
        .commandline = ctx->commandline,
        .stdin_fd = ctx->fds[0],
        .stdout_fd = ctx->fds[1],
        .stderr_fd = ctx->fds[2],
        .wait = ctx->wait,
    };
    g_info("[%s] run as %s: %s", ctx->name, ctx->user, ctx->commandline);
    bh_backend_run(self->backend, ctx->name, &run, NULL, bh_daemon_run_done, ctx);
}

static void bh_daemon_run_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhRunContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (!bh_daemon_start_finish(ctx->self, result, &error)) {
        bh_daemon_return_error(ctx->invocation, error);
        bh_run_context_free(ctx);
        return;
    }
    bh_daemon_run_now(ctx);
}

/* Reads the options of Run into ctx; unknown keys and wrong types are
 * refused rather than ignored, so a typo never silently changes behaviour. */
static gboolean bh_daemon_parse_run_options(BhRunContext *ctx, GVariant *options, GUnixFDList *fd_list,
                                            gboolean *autostart, GError **error)
{
    static const char *const fd_keys[] = {"stdin", "stdout", "stderr"};
    GVariantIter iter;
    const char *key;
    GVariant *value;

    g_variant_iter_init(&iter, options);
    while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
        g_autoptr(GVariant) v = value;
        int fd_slot = -1;
        for (int i = 0; i < 3; i++)
            if (g_str_equal(key, fd_keys[i]))
                fd_slot = i;
        if (g_str_equal(key, "wait") && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
            ctx->wait = g_variant_get_boolean(v);
        } else if (g_str_equal(key, "autostart") && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
            *autostart = g_variant_get_boolean(v);
        } else if (fd_slot >= 0 && g_variant_is_of_type(v, G_VARIANT_TYPE_HANDLE)) {
            gint32 index = g_variant_get_handle(v);
            if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length(fd_list)) {
                g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                            "option %s refers to file descriptor %d, which was not passed", key, index);
                return FALSE;
            }
            if (ctx->fds[fd_slot] >= 0)
                close(ctx->fds[fd_slot]);
            ctx->fds[fd_slot] = g_unix_fd_list_get(fd_list, index, error);
            if (ctx->fds[fd_slot] < 0)
                return FALSE;
        } else {
            g_autofree char *quoted = bh_qubes_quote(key);
            g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                        "unknown Run option %s of type %s (options: autostart b, wait b, stdin h, "
                        "stdout h, stderr h)",
                        quoted, g_variant_get_type_string(v));
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean bh_daemon_handle_run(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                     GUnixFDList *fd_list, const char *name, const char *commandline,
                                     const char *user, GVariant *options, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = NULL;
    gboolean autostart = TRUE;
    BhRunContext *ctx = g_new0(BhRunContext, 1);
    ctx->self = g_object_ref(self);
    ctx->invocation = invocation;
    ctx->name = g_strdup(name);
    ctx->commandline = g_strdup(commandline);
    ctx->user = g_strdup(user);
    ctx->fds[0] = ctx->fds[1] = ctx->fds[2] = -1;

    if (!bh_daemon_parse_run_options(ctx, options, fd_list, &autostart, &error))
        goto fail;
    info = bh_daemon_power_target(self, name, "run commands in", &error);
    if (info == NULL)
        goto fail;
    if (*commandline == '\0') {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT, "the command is empty");
        goto fail;
    }

    BhPowerState state = bh_daemon_runtime(self, name)->state;
    if (state == BH_POWER_RUNNING) {
        bh_daemon_run_now(ctx);
    } else if ((bh_power_is_down(state) || state == BH_POWER_TRANSIENT) && autostart) {
        bh_daemon_start_async(self, name, bh_daemon_run_started, ctx);
    } else {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_RUNNING, "qube %s is %s; %s", name,
                    bh_power_state_name(state),
                    state == BH_POWER_PAUSED ? "resume it with qvm-unpause first"
                                             : "start it first, or allow autostart");
        goto fail;
    }
    return G_DBUS_METHOD_INVOCATION_HANDLED;

fail:
    bh_run_context_free(ctx);
    return bh_daemon_return_error(invocation, error);
}

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
    g_clear_pointer(&self->clipboard, bh_clipboard_free);
    g_clear_pointer(&self->guids, bh_guid_set_free);
    g_clear_pointer(&self->backend, bh_backend_free);
}

static void bh_daemon_finalize(GObject *object)
{
    BhDaemon *self = BH_DAEMON(object);
    bh_daemon_unexport(self);
    /* Reverse order of bh_daemon_new: guids, backend (stops qubes), store, lock. */
    g_clear_pointer(&self->clipboard, bh_clipboard_free);
    g_clear_object(&self->policy);
    g_clear_pointer(&self->guids, bh_guid_set_free);
    g_clear_pointer(&self->runtime, g_hash_table_unref);
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

/* Each part's handlers, connected with the object as their user data. */
static void bh_daemon_connect(BhDaemon *self, const BhDaemonHandler *handlers, gsize n)
{
    for (gsize i = 0; i < n; i++)
        g_signal_connect(self->skeleton, handlers[i].signal, handlers[i].handler, self);
}

static void bh_daemon_init(BhDaemon *self)
{
    self->runtime = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bh_qube_runtime_free);
    self->skeleton = bh_dbus_admin1_skeleton_new();

    static const BhDaemonHandler handlers[] = {
        {"handle-run", G_CALLBACK(bh_daemon_handle_run)},
    };
    bh_daemon_connect(self, handlers, G_N_ELEMENTS(handlers));
    gsize n = 0;
    const BhDaemonHandler *model = bh_daemon_model_handlers(&n);
    bh_daemon_connect(self, model, n);
    const BhDaemonHandler *power_calls = bh_daemon_power_calls_handlers(&n);
    bh_daemon_connect(self, power_calls, n);
}

BhDaemon *bh_daemon_new(const BhDaemonConfig *config, GError **error)
{
    g_autoptr(BhDaemon) self = g_object_new(BH_TYPE_DAEMON, NULL);
    g_autoptr(BhBackend) given = config->backend_instance; /* ours even if we fail */
    const char *backend_name = config->backend ? config->backend : "none";

    /* Registers org.bulkhead.Error.* before the first reply. */
    (void)bh_dbus_error_quark();
    self->state_dir = g_strdup(config->state_dir);
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
        BhBackendConfig bc = {.state_dir = self->state_dir, .runtime_dir = runtime_dir};
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
    }
    if (!config->no_guid)
        self->guids = bh_guid_set_new(bh_daemon_guid_ended, self);
    /* Problems in the files are logged here; they deny, they do not stop us. */
    self->policy = bh_policy_store_new(NULL);
    self->clipboard = bh_clipboard_new(self->store, self->policy, self->guids);
    bh_dbus_admin1_set_backend(self->skeleton, self->backend_name);
    bh_dbus_admin1_set_backend_description(self->skeleton, self->backend_isolation);
    return g_steal_pointer(&self);
}

gboolean bh_daemon_export(BhDaemon *self, GDBusConnection *connection, GError **error)
{
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
