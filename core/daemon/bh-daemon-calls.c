/* bh-daemon-calls.c — calls a qube starts; see bh-daemon-calls.h for what
 * this owns and must never do, docs/rpc.md ("Calls from a qube") for the
 * wire.
 *
 * Why a socket of its own rather than a message on the agent's link: the
 * link is dom0's client connection to the agent's single vchan server, and
 * every type on it is answered by the agent; a call is the reverse (the
 * guest asks, dom0 answers) and lives as long as a copy. A separate socket
 * in the directory the sandbox already binds into the qube (only its own)
 * names the source by where it is: no field the caller writes can.
 *
 * A call goes through: request line -> policy (-> the ask dialog -> policy
 * again with the chosen target) -> the target started, or a disposable
 * made -> "ok" -> the service run and spliced -> trailer. Everything is
 * asynchronous on the daemon's loop; each step that waits holds the call's
 * slot in the qube's in-flight bound, so a qube cannot make dom0 wait on
 * more than BH_CALL_MAX_PER_QUBE of them, and at most one of them is a
 * dialog on dom0's screen.
 */
#define G_LOG_DOMAIN "bh-daemon"
#include "bh-daemon-calls.h"

#include <bulkhead/program-path.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <unistd.h>

#include "bh-daemon-policy.h"
#include "bh-guid-set.h"
#include "bulkhead/qubes.h"
#include "bulkhead/vchan.h"
#include "config.h"

#define BH_CALL_SOCKET "call.sock"
#define BH_CALL_CHUNK  65536
/* A frame of the service's stderr has this bit in its length. */
#define BH_CALL_STDERR_FRAME 0x80000000u
/* The service's stderr the caller gets, sent before the exit status: room
 * for a program's reasons; a target writing more only wastes its own time
 * (the rest is read and dropped, so the program never blocks on it). */
#define BH_CALL_MAX_STDERR 16384
/* ...but dropping costs dom0 a read per 4 KiB: a service that writes more
 * than this on stderr (64 times what is kept) is ended, or a target could
 * keep a core of dom0 busy for as long as its caller waits. */
#define BH_CALL_MAX_STDERR_DRAINED (1u << 20)
/* Calls in flight per qube: each holds a socket, a pipe, a 64 KiB buffer
 * and an RPC request in the target; a qube opening connections in a loop
 * stops here (the RPC allows 32 requests per target). Calls waiting for the
 * user, a start or a disposable count too, and so do the calls of a
 * disposable made for one of the qube's calls (bound_of). */
#define BH_CALL_MAX_PER_QUBE 8
/* Calls running in one target, whatever their sources: each holds one of
 * the target agent's BH_RPC_MAX_REQUESTS (32) requests, and dom0's own
 * commands there (qvm-run, an app from the menu) queue behind them. Half
 * stays dom0's: four sources allowed to call a qube cannot lock dom0 out. */
#define BH_CALL_MAX_INTO_QUBE 16
/* Refusals logged per qube while this daemon runs: a qube that calls in a
 * loop must not fill dom0's log; past this one line says the rest is not
 * logged (the caller still gets each reason). Notifications have the same
 * bound of their own. */
#define BH_CALL_MAX_LOGGED_REFUSALS 32
#define BH_CALL_MAX_NOTIFICATIONS   32
/* How long the dialog waits for the user (bulkhead-ask --timeout), unless
 * dom0's environment says BH_ASK_TIMEOUT_S (1..3600: tests). bulkheadd
 * kills a dialog still there BH_CALL_ASK_GRACE_S later. */
#define BH_CALL_ASK_TIMEOUT_S 60
#define BH_CALL_ASK_GRACE_S   15
/* A service whose caller hung up has read the end of its stdin: a sound one
 * ends by itself at once (a receiver removes what it staged); one still
 * running this much later is ended. */
#define BH_CALL_HANGUP_GRACE_S 5

struct _BhCalls {
    BhBackend *backend;
    BhAgentSet *agents;
    BhPolicyStore *policy;
    BhStore *store;
    BhCallsHooks hooks;
    GHashTable *listeners; /* qube -> BhCallListener */
    GHashTable *active;    /* qube -> its calls in flight (GUINT_TO_POINTER) */
    /* A disposable made for a call -> the qube whose bound its own calls
     * count in (its maker's): without it a disposable could make 8 more,
     * each of those 8 more, without end. */
    GHashTable *bound_of;
    GHashTable *into;     /* target -> calls running there (GUINT_TO_POINTER) */
    GHashTable *refusals; /* qube -> refusals logged so far (GUINT_TO_POINTER) */
    GHashTable *notified; /* qube -> notifications sent so far (GUINT_TO_POINTER) */
    GHashTable *asking;   /* qube -> its call whose dialog is open (BhCall *, not owned) */
    /* Calls in flight outlive bh_calls_free (their callbacks still run):
     * each holds a reference, and after the free (closed) none starts a
     * program or asks policy, whose owners are being freed too. */
    guint refs;
    gboolean closed;
};

typedef struct {
    BhCalls *calls;
    char *qube;
    char *path;
    GSocketService *service;
} BhCallListener;

typedef struct {
    BhCalls *calls;
    char *source;
    char *bound; /* whose in-flight count this call is in (bound_of) */
    char *service;
    char *target;
    gboolean notify, autostart;
    gboolean counted_into; /* holds one of calls->into[target] */
    GSocketConnection *conn;
    GOutputStream *out;
    GInputStream *pipe_in;
    char req[BH_CALL_MAX_REQUEST];
    gsize req_len;
    guint8 chunk[4 + BH_CALL_CHUNK];
    gboolean relay_done, run_done;
    int status;
    /* The dialog, while it is open. */
    GSubprocess *dialog;
    char **offered; /* what it offers: the only answers taken */
    GSource *watch; /* the caller's socket: hang-up (and, while asking, any byte) */
    guint dialog_timer;
    gboolean caller_gone;
    /* The disposable made for this call (killed when the call ends). */
    char *dispvm;
    /* Cancels the service's run in the target when the caller hung up and
     * it did not end within BH_CALL_HANGUP_GRACE_S (hangup_timer). */
    GCancellable *run_cancel;
    guint hangup_timer;
    /* The service's stderr: kept up to BH_CALL_MAX_STDERR, the rest dropped. */
    GInputStream *err_in;
    GByteArray *err;
    guint8 err_buf[4096];
    gsize err_total;
    gboolean err_done;
} BhCall;

static void bh_calls_unref(BhCalls *calls)
{
    if (--calls->refs > 0)
        return;
    g_hash_table_unref(calls->asking);
    g_hash_table_unref(calls->notified);
    g_hash_table_unref(calls->refusals);
    g_hash_table_unref(calls->active);
    g_hash_table_unref(calls->bound_of);
    g_hash_table_unref(calls->into);
    g_free(calls);
}

static void bh_call_stop_watch(BhCall *call)
{
    if (call->watch) {
        g_source_destroy(call->watch);
        g_clear_pointer(&call->watch, g_source_unref);
    }
}

static void bh_call_free(BhCall *call)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(call->calls->active, call->bound));
    if (n > 1)
        g_hash_table_insert(call->calls->active, g_strdup(call->bound), GUINT_TO_POINTER(n - 1));
    else
        g_hash_table_remove(call->calls->active, call->bound);
    if (call->dispvm)
        g_hash_table_remove(call->calls->bound_of, call->dispvm);
    if (call->counted_into) {
        guint in = GPOINTER_TO_UINT(g_hash_table_lookup(call->calls->into, call->target));
        if (in > 1)
            g_hash_table_insert(call->calls->into, g_strdup(call->target), GUINT_TO_POINTER(in - 1));
        else
            g_hash_table_remove(call->calls->into, call->target);
    }
    bh_call_stop_watch(call);
    /* The disposable lives exactly as long as its call. */
    if (call->dispvm && !call->calls->closed) {
        g_info("[%s] call ended: killing its disposable %s", call->source, call->dispvm);
        call->calls->hooks.kill_disposable(call->calls->hooks.owner, call->dispvm);
    }
    g_free(call->dispvm);
    g_clear_handle_id(&call->hangup_timer, g_source_remove);
    g_clear_object(&call->run_cancel);
    g_strfreev(call->offered);
    g_free(call->source);
    g_free(call->bound);
    g_free(call->service);
    g_free(call->target);
    g_clear_object(&call->pipe_in);
    g_clear_object(&call->err_in);
    if (call->err)
        g_byte_array_unref(call->err);
    if (call->conn)
        g_io_stream_close(G_IO_STREAM(call->conn), NULL, NULL);
    g_clear_object(&call->conn);
    bh_calls_unref(call->calls);
    g_free(call);
}

/* ---- notifications ------------------------------------------------------- */

static void bh_calls_notified(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autofree char *body = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (reply == NULL)
        g_info("call notification not shown (%s): %s", error->message, body);
}

/* Tells the user through org.freedesktop.Notifications, asynchronously: a
 * missing or slow server never holds a call up. body holds only names
 * dom0 checked and dom0's own words. At most BH_CALL_MAX_NOTIFICATIONS per
 * source, so a qube calling in a loop cannot bury the desktop. */
static void bh_calls_notify(BhCalls *calls, const char *source, gboolean denied, const char *body)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(calls->notified, source));
    if (n >= BH_CALL_MAX_NOTIFICATIONS)
        return;
    g_hash_table_insert(calls->notified, g_strdup(source), GUINT_TO_POINTER(n + 1));
    GDBusConnection *bus = calls->hooks.bus ? calls->hooks.bus(calls->hooks.owner) : NULL;
    if (bus == NULL)
        return;
    g_dbus_connection_call(bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                           "org.freedesktop.Notifications", "Notify",
                           g_variant_new("(susssasa{sv}i)", "Bulkhead", 0u,
                                         denied ? "dialog-warning" : "document-send",
                                         denied ? "Call denied" : "Call allowed", body, NULL, NULL, -1),
                           G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL,
                           bh_calls_notified, g_strdup(body));
}

/* ---- the end of a call --------------------------------------------------- */

static void bh_call_trailer_written(GObject *obj, GAsyncResult *res, gpointer data)
{
    g_output_stream_write_all_finish(G_OUTPUT_STREAM(obj), res, NULL, NULL);
    bh_call_free(data);
}

/* Output, stderr and the program are done: the stderr frame, then the end
 * marker and the exit status. */
static void bh_call_maybe_finish(BhCall *call)
{
    if (!call->relay_done || !call->run_done || !call->err_done)
        return;
    gsize len = 0;
    if (call->err && call->err->len > 0) {
        guint32 hdr = BH_CALL_STDERR_FRAME | call->err->len;
        memcpy(call->chunk, &hdr, 4);
        memcpy(call->chunk + 4, call->err->data, call->err->len);
        len = 4 + call->err->len;
    }
    guint32 t[2] = {0, (guint32)call->status};
    memcpy(call->chunk + len, t, sizeof t);
    g_output_stream_write_all_async(call->out, call->chunk, len + sizeof t, G_PRIORITY_DEFAULT, NULL,
                                    bh_call_trailer_written, call);
}

static void bh_call_read_pipe(BhCall *call);

static void bh_call_chunk_written(GObject *obj, GAsyncResult *res, gpointer data)
{
    BhCall *call = data;
    g_autoptr(GError) error = NULL;
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(obj), res, NULL, &error)) {
        /* The caller went away: drain the service's output so it can end. */
        g_info("[%s] call to %s: the caller stopped reading: %s", call->source, call->target, error->message);
    }
    bh_call_read_pipe(call);
}

static void bh_call_pipe_read(GObject *obj, GAsyncResult *res, gpointer data)
{
    BhCall *call = data;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(obj), res, NULL);
    if (n <= 0) {
        call->relay_done = TRUE;
        return bh_call_maybe_finish(call);
    }
    guint32 len = (guint32)n;
    memcpy(call->chunk, &len, 4);
    g_output_stream_write_all_async(call->out, call->chunk, 4 + (gsize)n, G_PRIORITY_DEFAULT, NULL,
                                    bh_call_chunk_written, call);
}

static void bh_call_read_pipe(BhCall *call)
{
    g_input_stream_read_async(call->pipe_in, call->chunk + 4, BH_CALL_CHUNK, G_PRIORITY_DEFAULT, NULL,
                              bh_call_pipe_read, call);
}

static void bh_call_err_read(GObject *obj, GAsyncResult *res, gpointer data)
{
    BhCall *call = data;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(obj), res, NULL);
    if (n <= 0) {
        call->err_done = TRUE;
        return bh_call_maybe_finish(call);
    }
    gsize room = BH_CALL_MAX_STDERR - call->err->len;
    g_byte_array_append(call->err, call->err_buf, (guint)MIN((gsize)n, room));
    gboolean was_over = call->err_total > BH_CALL_MAX_STDERR_DRAINED;
    call->err_total += (gsize)n;
    if (!was_over && call->err_total > BH_CALL_MAX_STDERR_DRAINED && !call->calls->closed) {
        g_info("[%s] %s in %s wrote more than %u bytes on stderr: ending it", call->source, call->service,
               call->target, BH_CALL_MAX_STDERR_DRAINED);
        g_cancellable_cancel(call->run_cancel);
    }
    g_input_stream_read_async(call->err_in, call->err_buf, sizeof call->err_buf, G_PRIORITY_DEFAULT, NULL,
                              bh_call_err_read, call);
}

static void bh_call_ran(GObject *obj, GAsyncResult *res, gpointer data)
{
    (void)obj;
    BhCall *call = data;
    g_autoptr(GError) error = NULL;
    int status = 0;
    if (!bh_agent_set_run_finish(call->calls->agents, res, &status, &error)) {
        g_info("[%s] call to %s failed: %s", call->source, call->target, error->message);
        status = 255;
    }
    call->status = status;
    call->run_done = TRUE;
    bh_call_maybe_finish(call);
}

static void bh_call_refuse_written(GObject *obj, GAsyncResult *res, gpointer data)
{
    g_output_stream_write_all_finish(G_OUTPUT_STREAM(obj), res, NULL, NULL);
    bh_call_free(data);
}

/* Logs a refusal unless the qube has had its share (see above). */
static void bh_calls_log_refusal(BhCalls *calls, const char *qube, const char *why)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(calls->refusals, qube));
    if (n > BH_CALL_MAX_LOGGED_REFUSALS)
        return;
    g_hash_table_insert(calls->refusals, g_strdup(qube), GUINT_TO_POINTER(n + 1));
    if (n == BH_CALL_MAX_LOGGED_REFUSALS)
        g_message("[%s] %u calls refused; further refusals of this qube's calls are not logged", qube, n);
    else
        g_info("[%s] call refused: %s", qube, why);
}

static void bh_call_refuse(BhCall *call, const char *why)
{
    bh_calls_log_refusal(call->calls, call->source, why);
    g_autofree char *line = g_strdup_printf("refused: %s\n", why);
    gsize n = MIN(strlen(line), sizeof call->chunk);
    memcpy(call->chunk, line, n);
    g_output_stream_write_all_async(call->out, call->chunk, n, G_PRIORITY_DEFAULT, NULL,
                                    bh_call_refuse_written, call);
}

/* A refusal that is a deny (policy, the user, no way to ask, a target that
 * cannot be had): the user hears of it too. */
static void bh_call_deny(BhCall *call, const char *why, gboolean notify)
{
    if (notify)
        bh_calls_notify(call->calls, call->source, TRUE, why);
    bh_call_refuse(call, why);
}

/* ---- running the service ------------------------------------------------- */

static gboolean bh_call_hangup_overdue(gpointer data)
{
    BhCall *call = data;
    call->hangup_timer = 0;
    if (call->calls->closed) /* the agent set is going: its runs end with it */
        return G_SOURCE_REMOVE;
    /* Only --verbose: a qube that calls and hangs up in a loop must not
     * fill dom0's log. */
    g_info("[%s] %s in %s did not end %u s after its caller hung up: ending it", call->source, call->service,
           call->target, BH_CALL_HANGUP_GRACE_S);
    g_cancellable_cancel(call->run_cancel);
    return G_SOURCE_REMOVE;
}

/* The caller hung up (it died, or closed without waiting) while its
 * service runs: nobody is left to read the answer. A disposable made for
 * the call is killed now; any other service gets BH_CALL_HANGUP_GRACE_S to
 * end on the end of its stdin, then its run is cancelled (SIGKILL to its
 * process group in the target) and the call gives back its slot, pipes and
 * buffer. Without this a target whose service never ends (or writes without
 * end, which dom0 drained for nobody) kept the source's call slots until
 * the target stopped: 8 such calls and the source could call no one. */
static gboolean bh_call_caller_hung_up(GSocket *socket, GIOCondition condition, gpointer data)
{
    BhCall *call = data;
    if (!call->calls->closed) {
        g_info("[%s] the caller of %s in %s hung up%s", call->source, call->service, call->target,
               call->dispvm ? ": killing the disposable" : "");
        if (call->dispvm) {
            g_cancellable_cancel(call->run_cancel);
            call->calls->hooks.kill_disposable(call->calls->hooks.owner, call->dispvm);
        } else {
            call->hangup_timer = g_timeout_add_seconds(BH_CALL_HANGUP_GRACE_S, bh_call_hangup_overdue, call);
        }
    }
    g_clear_pointer(&call->watch, g_source_unref);
    return G_SOURCE_REMOVE;
}

static void bh_call_ok_written(GObject *obj, GAsyncResult *res, gpointer data)
{
    BhCall *call = data;
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(obj), res, NULL, NULL) || call->calls->closed)
        return bh_call_free(call);
    int pipefd[2] = {-1, -1};
    int errfd[2] = {-1, -1};
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return bh_call_free(call);
    if (pipe2(errfd, O_CLOEXEC) < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return bh_call_free(call);
    }
    /* Both words were checked (bh_call_request_parse, the model's names):
     * nothing in them is special to the agent's shell. The target finds
     * the service's program (docs/rpc.md, "Services in the target"). */
    g_autofree char *cmd = g_strdup_printf("bulkhead-service %s %s", call->service, call->source);
    GSocket *sock = g_socket_connection_get_socket(call->conn);
    BhAgentRun run = {.user = NULL,
                      .commandline = cmd,
                      .stdin_fd = g_socket_get_fd(sock),
                      .stdout_fd = pipefd[1],
                      .stderr_fd = errfd[1],
                      .wait = TRUE};
    /* The set duplicates the descriptors it is given. */
    call->run_cancel = g_cancellable_new();
    bh_agent_set_run_async(call->calls->agents, call->target, &run, call->run_cancel, bh_call_ran, call);
    close(pipefd[1]);
    close(errfd[1]);
    call->pipe_in = g_unix_input_stream_new(pipefd[0], TRUE);
    call->err_in = g_unix_input_stream_new(errfd[0], TRUE);
    call->err = g_byte_array_new();
    call->watch = g_socket_create_source(sock, G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(call->watch, G_SOURCE_FUNC(bh_call_caller_hung_up), call, NULL);
    g_source_attach(call->watch, NULL);
    bh_call_read_pipe(call);
    g_input_stream_read_async(call->err_in, call->err_buf, sizeof call->err_buf, G_PRIORITY_DEFAULT, NULL,
                              bh_call_err_read, call);
}

static void bh_call_target_started(GObject *obj, GAsyncResult *res, gpointer data)
{
    (void)obj;
    BhCall *call = data;
    BhCalls *calls = call->calls;
    g_autoptr(GError) error = NULL;
    if (calls->closed)
        return bh_call_free(call);
    if (!calls->hooks.start_finish(calls->hooks.owner, res, &error)) {
        /* The netvm chain's errors already say "cannot start QUBE: ...". */
        gboolean said = g_str_has_prefix(error->message, "cannot start ");
        g_autofree char *why = g_strdup_printf("%s from %s to %s: %s%s%s%s", call->service, call->source,
                                               call->target, said ? "" : "cannot start ",
                                               said ? "" : call->target, said ? "" : ": ", error->message);
        return bh_call_deny(call, why, TRUE);
    }
    guint in = GPOINTER_TO_UINT(g_hash_table_lookup(calls->into, call->target));
    if (in >= BH_CALL_MAX_INTO_QUBE) {
        g_autofree char *why = g_strdup_printf("%s from %s to %s: %u calls run in %s already", call->service,
                                               call->source, call->target, in, call->target);
        return bh_call_refuse(call, why);
    }
    g_hash_table_insert(calls->into, g_strdup(call->target), GUINT_TO_POINTER(in + 1));
    call->counted_into = TRUE;
    g_autofree char *what = g_strdup_printf("%s from %s to %s", call->service, call->source, call->target);
    g_info("[%s] call %s to %s allowed", call->source, call->service, call->target);
    if (call->notify)
        bh_calls_notify(calls, call->source, FALSE, what);
    g_output_stream_write_all_async(call->out, "ok\n", 3, G_PRIORITY_DEFAULT, NULL, bh_call_ok_written, call);
}

/* The target is decided: make it run (a new disposable, an autostart, or
 * already running), then answer "ok". The caller waits meanwhile. */
static void bh_call_prepare_target(BhCall *call)
{
    BhCalls *calls = call->calls;
    g_autoptr(GError) error = NULL;
    if (g_str_has_prefix(call->target, "@dispvm:")) {
        const char *dvm_template = call->target + strlen("@dispvm:");
        call->dispvm = calls->hooks.create_disposable(calls->hooks.owner, dvm_template, &error);
        if (call->dispvm == NULL) {
            g_autofree char *why = g_strdup_printf("%s from %s to a disposable of %s: cannot make it: %s",
                                                   call->service, call->source, dvm_template, error->message);
            return bh_call_deny(call, why, TRUE);
        }
        g_info("[%s] call %s: disposable %s made from %s", call->source, call->service, call->dispvm,
               dvm_template);
        g_hash_table_insert(calls->bound_of, g_strdup(call->dispvm), g_strdup(call->bound));
        g_free(call->target);
        call->target = g_strdup(call->dispvm);
    } else if (g_str_equal(call->target, "@adminvm") || g_str_equal(call->target, "dom0")) {
        g_autofree char *why = g_strdup_printf("%s from %s to dom0: calls into dom0 are not supported",
                                               call->service, call->source);
        return bh_call_deny(call, why, TRUE);
    } else if (!calls->hooks.running(calls->hooks.owner, call->target)) {
        if (!call->autostart) {
            g_autofree char *why = g_strdup_printf(
                "%s from %s to %s: %s is not running and policy does not allow starting it (autostart=no)",
                call->service, call->source, call->target, call->target);
            return bh_call_deny(call, why, TRUE);
        }
        g_info("[%s] call %s: starting %s", call->source, call->service, call->target);
    }
    calls->hooks.start_async(calls->hooks.owner, call->target, bh_call_target_started, call);
}

/* Policy for this call to target, now. The source is the qube whose socket
 * the call came in on: dom0's word, not the caller's. SERVICE+ARGUMENT:
 * policy sees the two apart, as in Qubes. */
static void bh_call_evaluate(BhCall *call, const char *target, BhPolicyDecision *out)
{
    g_autofree char *service = g_strdup(call->service);
    char *plus = strchr(service, '+');
    if (plus)
        *plus++ = '\0';
    BhPolicyRequest req = {
        .service = service, .argument = plus ? plus : "", .source = call->source, .target = target};
    bh_daemon_policy_evaluate(call->calls->policy, call->calls->store, &req, out);
}

/* ---- asking the user ----------------------------------------------------- */

/* The service as the dialog says it ("work asks to copy files"). */
static const char *bh_call_service_words(const char *service)
{
    gsize base = strcspn(service, "+"); /* the argument is not part of the words */
    static const struct {
        const char *service, *words;
    } words[] = {
        {"bulkhead.Filecopy", "copy files"},
        {"bulkhead.OpenInVM", "open a file"},
        {"bulkhead.OpenURL", "open a link"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(words); i++)
        if (strlen(words[i].service) == base && strncmp(service, words[i].service, base) == 0)
            return words[i].words;
    return service;
}

static const char *bh_ask_path(void)
{
    return bh_program_path("BH_ASK_PATH", BH_BUILD_ROOT "/ask/bulkhead-ask", BH_LIBEXECDIR "/bulkhead-ask");
}

static guint bh_calls_ask_timeout(void)
{
    const char *env = g_getenv("BH_ASK_TIMEOUT_S");
    guint64 v = 0;
    if (env && g_ascii_string_to_unsigned(env, 10, 1, 3600, &v, NULL))
        return (guint)v;
    return BH_CALL_ASK_TIMEOUT_S;
}

/* The dialog is over (answered, or killed): the source may be asked again. */
static void bh_call_dialog_closed(BhCall *call)
{
    if (g_hash_table_lookup(call->calls->asking, call->source) == call)
        g_hash_table_remove(call->calls->asking, call->source);
    bh_call_stop_watch(call);
    g_clear_handle_id(&call->dialog_timer, g_source_remove);
}

/* The caller hung up, or sent bytes before dom0 answered (a violation),
 * while the user was being asked: the question is void. */
static gboolean bh_call_caller_moved(GSocket *socket, GIOCondition condition, gpointer data)
{
    BhCall *call = data;
    call->caller_gone = TRUE;
    g_subprocess_force_exit(call->dialog);
    g_clear_pointer(&call->watch, g_source_unref);
    return G_SOURCE_REMOVE;
}

static gboolean bh_call_dialog_overdue(gpointer data)
{
    BhCall *call = data;
    g_message("[%s] the dialog for %s did not end by its timeout: killing it", call->source, call->service);
    call->dialog_timer = 0;
    g_subprocess_force_exit(call->dialog);
    return G_SOURCE_REMOVE;
}

static void bh_call_answered(GObject *obj, GAsyncResult *res, gpointer data)
{
    BhCall *call = data;
    BhCalls *calls = call->calls;
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) dialog = g_steal_pointer(&call->dialog);
    gboolean read = g_subprocess_communicate_utf8_finish(dialog, res, &out, NULL, &error);
    bh_call_dialog_closed(call);
    if (calls->closed)
        return bh_call_free(call);
    if (call->caller_gone) {
        g_info("[%s] call %s: the caller went away while the user was asked", call->source, call->service);
        return bh_call_free(call);
    }
    int status = read && g_subprocess_get_if_exited(dialog) ? g_subprocess_get_exit_status(dialog) : -1;
    gsize len = out ? strlen(out) : 0;
    if (status != 0 || len < 2 || out[len - 1] != '\n') {
        g_autofree char *why =
            status == 1
                ? g_strdup_printf("%s from %s to %s: the user refused it (Cancel or no answer in time)",
                                  call->service, call->source, call->target)
                : g_strdup_printf("%s from %s to %s: the dialog failed (%s)", call->service, call->source,
                                  call->target, error ? error->message : "no answer");
        return bh_call_deny(call, why, TRUE);
    }
    out[len - 1] = '\0';
    /* Never the dialog's word alone: one of the targets offered, and
     * allowed (or asked) by policy as it is now. */
    if (!g_strv_contains((const char *const *)call->offered, out)) {
        g_autofree char *why =
            g_strdup_printf("%s from %s to %s: the dialog answered a target it was not offered",
                            call->service, call->source, call->target);
        g_message("[%s] %s", call->source, why);
        return bh_call_deny(call, why, TRUE);
    }
    BhPolicyDecision d;
    bh_call_evaluate(call, out, &d);
    if (d.verdict == BH_POLICY_DENY ||
        (d.verdict == BH_POLICY_ASK && !g_strv_contains((const char *const *)d.targets, out))) {
        g_autofree char *why = g_strdup_printf("%s from %s to %s is denied by policy (%s)", call->service,
                                               call->source, out, d.reason ? d.reason : "changed meanwhile");
        gboolean notify = d.verdict == BH_POLICY_DENY ? d.notify : TRUE;
        bh_policy_decision_clear(&d);
        return bh_call_deny(call, why, notify);
    }
    g_free(call->target);
    call->target = g_strdup(d.verdict == BH_POLICY_ALLOW ? d.target : out);
    call->notify = d.notify;
    call->autostart = d.autostart;
    bh_policy_decision_clear(&d);
    g_info("[%s] call %s: the user chose %s", call->source, call->service, call->target);
    bh_call_prepare_target(call);
}

/* Policy says ask: bulkhead-ask on dom0's display, with the targets policy
 * offers; one dialog per source at a time. */
static void bh_call_ask(BhCall *call, const BhPolicyDecision *d)
{
    BhCalls *calls = call->calls;
    g_autoptr(GError) error = NULL;
    if (!bh_guid_display_available()) {
        g_autofree char *why =
            g_strdup_printf("%s from %s to %s: policy says ask, and dom0 has no display to ask on",
                            call->service, call->source, call->target);
        return bh_call_deny(call, why, TRUE);
    }
    if (g_hash_table_contains(calls->asking, call->source)) {
        /* Not a notification: the user is looking at this qube's dialog. */
        g_autofree char *why =
            g_strdup_printf("a dialog for a call of %s is open already: answer it first", call->source);
        return bh_call_refuse(call, why);
    }
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(calls->store, call->source, &error);
    if (info == NULL || info->label == NULL) {
        g_autofree char *why =
            g_strdup_printf("%s from %s: cannot ask about an unknown qube", call->service, call->source);
        return bh_call_deny(call, why, TRUE);
    }
    g_autofree char *timeout = g_strdup_printf("%u", bh_calls_ask_timeout());
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *fixed[] = {bh_ask_path(),
                           "--source",
                           call->source,
                           "--label",
                           info->label->name,
                           "--service",
                           bh_call_service_words(call->service),
                           "--timeout",
                           timeout};
    for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, (gpointer)fixed[i]);
    for (char **t = d->targets; t && *t; t++) {
        g_ptr_array_add(argv, "--target");
        g_ptr_array_add(argv, *t);
        /* Its colour in the list: the qube's label, a new disposable's
         * that of its template (labels are static table entries). */
        const char *qube = g_str_has_prefix(*t, "@dispvm:") ? *t + strlen("@dispvm:") : *t;
        g_autoptr(BhQubeInfo) target = qube[0] == '@' ? NULL : bh_store_get_qube(calls->store, qube, NULL);
        if (target && target->label) {
            g_ptr_array_add(argv, "--target-label");
            g_ptr_array_add(argv, (gpointer)target->label->name);
        }
    }
    if (d->default_target) {
        g_ptr_array_add(argv, "--default");
        g_ptr_array_add(argv, d->default_target);
    }
    g_ptr_array_add(argv, NULL);
    /* stdin /dev/null, stderr dom0's log; no other descriptor of ours. */
    call->dialog =
        g_subprocess_newv((const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    if (call->dialog == NULL) {
        g_autofree char *why = g_strdup_printf("%s from %s: cannot ask the user: %s", call->service,
                                               call->source, error->message);
        return bh_call_deny(call, why, TRUE);
    }
    call->offered = g_strdupv(d->targets);
    g_hash_table_insert(calls->asking, g_strdup(call->source), call);
    g_info("[%s] call %s to %s: asking the user (%u targets)", call->source, call->service, call->target,
           g_strv_length(d->targets));
    g_subprocess_communicate_utf8_async(call->dialog, NULL, NULL, bh_call_answered, call);
    call->watch = g_socket_create_source(g_socket_connection_get_socket(call->conn),
                                         G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(call->watch, G_SOURCE_FUNC(bh_call_caller_moved), call, NULL);
    g_source_attach(call->watch, NULL);
    call->dialog_timer =
        g_timeout_add_seconds(bh_calls_ask_timeout() + BH_CALL_ASK_GRACE_S, bh_call_dialog_overdue, call);
}

/* ---- the request --------------------------------------------------------- */

static void bh_call_request_read(GObject *obj, GAsyncResult *res, gpointer data)
{
    BhCall *call = data;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(obj), res, NULL);
    if (n <= 0 || call->calls->closed)
        return bh_call_free(call);
    call->req_len += (gsize)n;
    if (memchr(call->req, '\n', call->req_len) == NULL && call->req_len < sizeof call->req) {
        g_input_stream_read_async(G_INPUT_STREAM(obj), call->req + call->req_len,
                                  sizeof call->req - call->req_len, G_PRIORITY_DEFAULT, NULL,
                                  bh_call_request_read, call);
        return;
    }
    const char *why = NULL;
    if (!bh_call_request_parse(call->req, call->req_len, &call->service, &call->target, &why))
        return bh_call_refuse(call, why);

    BhPolicyDecision d;
    bh_call_evaluate(call, call->target, &d);
    call->notify = d.notify;
    call->autostart = d.autostart;
    if (d.verdict == BH_POLICY_ALLOW) {
        g_free(call->target);
        call->target = g_strdup(d.target);
        bh_policy_decision_clear(&d);
        return bh_call_prepare_target(call);
    }
    if (d.verdict == BH_POLICY_ASK) {
        bh_call_ask(call, &d);
        bh_policy_decision_clear(&d);
        return;
    }
    g_autofree char *why_deny =
        g_strdup_printf("%s from %s to %s is denied by policy", call->service, call->source, call->target);
    gboolean notify = d.notify;
    bh_policy_decision_clear(&d);
    bh_call_deny(call, why_deny, notify);
}

static gboolean bh_call_incoming(GSocketService *service, GSocketConnection *conn, GObject *source,
                                 gpointer data)
{
    (void)service;
    (void)source;
    BhCallListener *l = data;
    const char *bound = g_hash_table_lookup(l->calls->bound_of, l->qube);
    if (bound == NULL)
        bound = l->qube;
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(l->calls->active, bound));
    if (n >= BH_CALL_MAX_PER_QUBE) {
        g_autofree char *why = g_str_equal(bound, l->qube)
                                   ? g_strdup_printf("%u calls are in flight already", n)
                                   : g_strdup_printf("%u calls of %s and the disposables made for its calls "
                                                     "are in flight already",
                                                     n, bound);
        bh_calls_log_refusal(l->calls, l->qube, why);
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        return TRUE;
    }
    g_hash_table_insert(l->calls->active, g_strdup(bound), GUINT_TO_POINTER(n + 1));
    BhCall *call = g_new0(BhCall, 1);
    call->calls = l->calls;
    l->calls->refs++;
    call->source = g_strdup(l->qube);
    call->bound = g_strdup(bound);
    call->conn = g_object_ref(conn);
    call->out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(conn)), call->req, sizeof call->req,
                              G_PRIORITY_DEFAULT, NULL, bh_call_request_read, call);
    return TRUE;
}

static void bh_call_listener_free(gpointer data)
{
    BhCallListener *l = data;
    g_socket_service_stop(l->service);
    g_socket_listener_close(G_SOCKET_LISTENER(l->service));
    g_object_unref(l->service);
    unlink(l->path);
    g_free(l->path);
    g_free(l->qube);
    g_free(l);
}

BhCalls *bh_calls_new(BhBackend *backend, BhAgentSet *agents, BhPolicyStore *policy, BhStore *store,
                      const BhCallsHooks *hooks)
{
    BhCalls *calls = g_new0(BhCalls, 1);
    calls->backend = backend;
    calls->agents = agents;
    calls->policy = policy;
    calls->store = store;
    calls->hooks = *hooks;
    calls->refs = 1;
    calls->listeners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bh_call_listener_free);
    calls->active = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    calls->bound_of = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    calls->into = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    calls->refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    calls->notified = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    calls->asking = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return calls;
}

void bh_calls_free(BhCalls *calls)
{
    if (calls == NULL)
        return;
    calls->closed = TRUE;
    /* No dialog outlives bulkheadd; their calls end in their callbacks. */
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, calls->asking);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_subprocess_force_exit(((BhCall *)value)->dialog);
    g_hash_table_unref(calls->listeners);
    bh_calls_unref(calls);
}

void bh_calls_power_changed(BhCalls *calls, const char *qube, BhPowerState state)
{
    if (calls == NULL)
        return;
    if (state == BH_POWER_PAUSED)
        return;
    if (state != BH_POWER_RUNNING) {
        g_hash_table_remove(calls->listeners, qube);
        return;
    }
    if (g_hash_table_contains(calls->listeners, qube))
        return;
    BhBackendAgentAddress address;
    char dir[4096];
    /* Only the socket transport has a directory of the qube's own. */
    if (!bh_backend_agent_address(calls->backend, qube, &address, NULL) ||
        address.transport != BH_VCHAN_SOCKET || bh_vchan_socket_guest_dir(address.domid, dir, sizeof dir) < 0)
        return;
    BhCallListener *l = g_new0(BhCallListener, 1);
    l->calls = calls;
    l->qube = g_strdup(qube);
    l->path = g_build_filename(dir, BH_CALL_SOCKET, NULL);
    unlink(l->path);
    l->service = g_socket_service_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(l->path);
    g_autoptr(GError) error = NULL;
    if (!g_socket_listener_add_address(G_SOCKET_LISTENER(l->service), addr, G_SOCKET_TYPE_STREAM,
                                       G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error)) {
        /* The directory is the qube's: what it put there may be in the
         * way. Its calls are what it loses; not a fault of the daemon's. */
        g_message("[%s] no call socket: %s", qube, error->message);
        g_object_unref(l->service);
        g_free(l->path);
        g_free(l->qube);
        g_free(l);
        return;
    }
    g_signal_connect(l->service, "incoming", G_CALLBACK(bh_call_incoming), l);
    g_socket_service_start(l->service);
    g_hash_table_insert(calls->listeners, g_strdup(qube), l);
}
