/* bh-daemon-run.c — the Run method of org.bulkhead.Admin1; see
 * bh-daemon-private.h.
 *
 * Owns Run: its options (refused when unknown or of the wrong type), the
 * caller's stdin/stdout/stderr descriptors (ours once duplicated from the
 * message, closed when the call ends), the autostart of a halted qube and
 * the hand-over of the command to the qube's agent through the agent set
 * (bh-agent-set.h). Must never: run a command in dom0 or without a backend,
 * nor keep a descriptor past the call.
 */
#define G_LOG_DOMAIN "bh-daemon"

#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "bh-daemon-error.h"
#include "bh-daemon-private.h"
#include "bh-dbus-error.h"

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
    if (bh_agent_set_run_finish(ctx->self->agents, result, &status, &error)) {
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
    BhAgentRun run = {
        .user = ctx->user,
        .commandline = ctx->commandline,
        .stdin_fd = ctx->fds[0],
        .stdout_fd = ctx->fds[1],
        .stderr_fd = ctx->fds[2],
        .wait = ctx->wait,
    };
    g_info("[%s] run as %s: %s", ctx->name, ctx->user, ctx->commandline);
    bh_agent_set_run_async(self->agents, ctx->name, &run, NULL, bh_daemon_run_done, ctx);
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

const BhDaemonHandler *bh_daemon_run_handlers(gsize *n)
{
    static const BhDaemonHandler handlers[] = {
        {"handle-run", G_CALLBACK(bh_daemon_handle_run)},
    };
    *n = G_N_ELEMENTS(handlers);
    return handlers;
}
