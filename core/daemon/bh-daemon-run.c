/* bh-daemon-run.c — the Run method of org.bulkhead.Admin1; see
 * bh-daemon-private.h.
 *
 * Owns Run: its options (refused when unknown or of the wrong type), the
 * caller's stdin/stdout/stderr descriptors (ours once duplicated from the
 * message, closed when the call ends), the autostart of a halted qube and
 * the hand-over of the command to the qube's agent through the agent set
 * (bh-agent-set.h); and the one narrow path by which dom0 runs its own fixed
 * programs in a qube and keeps their output (bh_daemon_run_capture_async: a
 * byte bound and a time bound, the command killed past either). Must never:
 * run a command in dom0 or without a backend, keep a descriptor past the
 * call, or hold more of a qube's output than the caller's bound.
 */
#define G_LOG_DOMAIN "bh-daemon"

#include <gio/gunixfdlist.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
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
    bh_daemon_runtime(self, name)->wanted++;
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

/* ---- dom0's own programs in a qube: output captured with a bound ------------ */

typedef struct {
    BhDaemon *self;
    char *name;
    gsize max_bytes;
    int write_fd; /* the pipe's end the command writes; ours until the run ends */
    GInputStream *out;
    GByteArray *bytes;
    GCancellable *run_cancel; /* cancels the command (SIGKILL) on overflow or timeout */
    char *user;
    char *commandline;
    guint timeout_s;
    guint timeout_id;
    gboolean run_done, read_done;
    int status;
    GError *error; /* the first failure */
} BhCapture;

static void bh_capture_free(BhCapture *c)
{
    if (c->write_fd >= 0)
        close(c->write_fd);
    if (c->timeout_id != 0)
        g_source_remove(c->timeout_id);
    g_clear_object(&c->out);
    g_clear_object(&c->run_cancel);
    g_free(c->user);
    g_free(c->commandline);
    g_byte_array_unref(c->bytes);
    g_clear_error(&c->error);
    g_object_unref(c->self);
    g_free(c->name);
    g_free(c);
}

static void bh_capture_fail(BhCapture *c, GError *error)
{
    if (c->error == NULL)
        c->error = error;
    else
        g_error_free(error);
    g_cancellable_cancel(c->run_cancel);
}

static void bh_capture_maybe_done(GTask *task)
{
    BhCapture *c = g_task_get_task_data(task);
    if (!c->run_done || !c->read_done)
        return;
    if (c->error != NULL)
        g_task_return_error(task, g_steal_pointer(&c->error));
    else
        g_task_return_pointer(task, g_byte_array_free_to_bytes(g_byte_array_ref(c->bytes)),
                              (GDestroyNotify)g_bytes_unref);
    g_object_unref(task);
}

static void bh_capture_read(GTask *task);

static void bh_capture_read_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GTask *task = user_data;
    BhCapture *c = g_task_get_task_data(task);
    GError *error = NULL;
    g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish(c->out, result, &error);
    if (chunk == NULL) {
        bh_capture_fail(c, error);
    } else if (g_bytes_get_size(chunk) == 0) {
        c->read_done = TRUE;
    } else if (c->bytes->len + g_bytes_get_size(chunk) > c->max_bytes) {
        bh_capture_fail(c, g_error_new(BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED,
                                       "qube %s wrote more than %" G_GSIZE_FORMAT " bytes; it was stopped",
                                       c->name, c->max_bytes));
        c->read_done = TRUE;
    } else {
        g_byte_array_append(c->bytes, g_bytes_get_data(chunk, NULL), (guint)g_bytes_get_size(chunk));
        bh_capture_read(task);
        return;
    }
    if (!c->read_done) /* a read error: nothing more will come */
        c->read_done = TRUE;
    bh_capture_maybe_done(task);
}

static void bh_capture_read(GTask *task)
{
    BhCapture *c = g_task_get_task_data(task);
    g_input_stream_read_bytes_async(c->out, 65536, G_PRIORITY_DEFAULT, NULL, bh_capture_read_done, task);
}

/* The command ended (or never started): our end of the pipe closes, so the
 * read sees the end once the qube's copies are gone. */
static void bh_capture_run_ended(GTask *task)
{
    BhCapture *c = g_task_get_task_data(task);
    close(c->write_fd);
    c->write_fd = -1;
    c->run_done = TRUE;
    bh_capture_maybe_done(task);
}

static void bh_capture_run_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GTask *task = user_data;
    BhCapture *c = g_task_get_task_data(task);
    GError *error = NULL;
    /* The agent set gives the status as a shell's $? (128+n for signal n). */
    if (!bh_agent_set_run_finish(c->self->agents, result, &c->status, &error))
        bh_capture_fail(c, error);
    else if (c->status != 0)
        bh_capture_fail(c, g_error_new(BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED,
                                       "the program in qube %s ended with status %d", c->name, c->status));
    bh_capture_run_ended(task);
}

static gboolean bh_capture_timeout(gpointer user_data)
{
    BhCapture *c = g_task_get_task_data(G_TASK(user_data));
    c->timeout_id = 0;
    bh_capture_fail(c,
                    g_error_new(BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED,
                                "qube %s did not finish within the time allowed; it was stopped", c->name));
    return G_SOURCE_REMOVE;
}

/* The qube's agent answered: the command starts now, and so does its time.
 * The time until then is the start's (the backend's bound for an agent to
 * answer, past which the qube is killed): under Xen a domU's kernel boots
 * first, which took longer than a list's whole time under emulation, and a
 * slow boot is not the qube's program stalling. */
static void bh_capture_agent_ready(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GTask *task = user_data;
    BhCapture *c = g_task_get_task_data(task);
    GError *error = NULL;

    if (!bh_agent_set_wait_ready_finish(c->self->agents, result, &error)) {
        bh_capture_fail(c, error);
        bh_capture_run_ended(task);
        return;
    }
    BhAgentRun run = {
        .user = c->user,
        .commandline = c->commandline,
        .stdin_fd = -1,
        .stdout_fd = c->write_fd,
        .stderr_fd = -1,
        .wait = TRUE,
    };
    g_info("[%s] run as %s, output kept up to %" G_GSIZE_FORMAT " bytes: %s", c->name, c->user, c->max_bytes,
           c->commandline);
    c->timeout_id = g_timeout_add_seconds(c->timeout_s, bh_capture_timeout, task);
    bh_agent_set_run_async(c->self->agents, c->name, &run, c->run_cancel, bh_capture_run_done, task);
}

void bh_daemon_run_capture_async(BhDaemon *self, const char *name, const char *commandline, gsize max_bytes,
                                 guint timeout_s, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(self, NULL, callback, user_data);
    BhCapture *c = g_new0(BhCapture, 1);
    int fds[2] = {-1, -1};
    g_task_set_task_data(task, c, (GDestroyNotify)bh_capture_free);
    c->self = g_object_ref(self);
    c->name = g_strdup(name);
    c->max_bytes = max_bytes;
    c->write_fd = -1;
    c->bytes = g_byte_array_new();
    c->run_cancel = g_cancellable_new();
    c->commandline = g_strdup(commandline);
    c->timeout_s = timeout_s;

    GError *error = NULL;
    if (!bh_daemon_require_backend(self, &error) || !g_unix_open_pipe(fds, FD_CLOEXEC, &error)) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    c->write_fd = fds[1];
    c->out = g_unix_input_stream_new(fds[0], TRUE);
    c->user = bh_daemon_get_string(self, name, "default_user");
    bh_capture_read(task);
    bh_agent_set_wait_ready_async(self->agents, name, NULL, bh_capture_agent_ready, task);
}

GBytes *bh_daemon_run_capture_finish(BhDaemon *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

const BhDaemonHandler *bh_daemon_run_handlers(gsize *n)
{
    static const BhDaemonHandler handlers[] = {
        {"handle-run", G_CALLBACK(bh_daemon_handle_run)},
    };
    *n = G_N_ELEMENTS(handlers);
    return handlers;
}
