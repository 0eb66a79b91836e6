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
 */
#define G_LOG_DOMAIN "bh-daemon"
#include "bh-daemon-calls.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <unistd.h>

#include "bh-daemon-policy.h"
#include "bulkhead/qubes.h"
#include "bulkhead/vchan.h"

#define BH_CALL_SOCKET "call.sock"
#define BH_CALL_CHUNK  65536
/* Calls in flight per qube: each holds a socket, a pipe, a 64 KiB buffer
 * and an RPC request in the target; a qube opening connections in a loop
 * stops here (the RPC allows 32 requests per target). */
#define BH_CALL_MAX_PER_QUBE 8
/* Refusals logged per qube while this daemon runs: a qube that calls in a
 * loop must not fill dom0's log; past this one line says the rest is not
 * logged (the caller still gets each reason). */
#define BH_CALL_MAX_LOGGED_REFUSALS 32

struct _BhCalls {
    BhBackend *backend;
    BhAgentSet *agents;
    BhPolicyStore *policy;
    BhStore *store;
    GHashTable *listeners; /* qube -> BhCallListener */
    GHashTable *active;    /* qube -> its calls in flight (GUINT_TO_POINTER) */
    GHashTable *refusals;  /* qube -> refusals logged so far (GUINT_TO_POINTER) */
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
    char *service;
    char *target;
    GSocketConnection *conn;
    GOutputStream *out;
    GInputStream *pipe_in;
    char req[BH_CALL_MAX_REQUEST];
    gsize req_len;
    guint8 chunk[4 + BH_CALL_CHUNK];
    gboolean relay_done, run_done;
    int status;
} BhCall;

static void bh_calls_unref(BhCalls *calls)
{
    if (--calls->refs > 0)
        return;
    g_hash_table_unref(calls->refusals);
    g_hash_table_unref(calls->active);
    g_free(calls);
}

static void bh_call_free(BhCall *call)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(call->calls->active, call->source));
    if (n > 1)
        g_hash_table_insert(call->calls->active, g_strdup(call->source), GUINT_TO_POINTER(n - 1));
    else
        g_hash_table_remove(call->calls->active, call->source);
    g_free(call->source);
    g_free(call->service);
    g_free(call->target);
    g_clear_object(&call->pipe_in);
    if (call->conn)
        g_io_stream_close(G_IO_STREAM(call->conn), NULL, NULL);
    g_clear_object(&call->conn);
    bh_calls_unref(call->calls);
    g_free(call);
}

static void bh_call_trailer_written(GObject *obj, GAsyncResult *res, gpointer data)
{
    g_output_stream_write_all_finish(G_OUTPUT_STREAM(obj), res, NULL, NULL);
    bh_call_free(data);
}

/* Both the output and the program are done: end marker and exit status. */
static void bh_call_maybe_finish(BhCall *call)
{
    if (!call->relay_done || !call->run_done)
        return;
    guint32 t[2] = {0, (guint32)call->status};
    memcpy(call->chunk, t, sizeof t);
    g_output_stream_write_all_async(call->out, call->chunk, sizeof t, G_PRIORITY_DEFAULT, NULL,
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

static void bh_call_ok_written(GObject *obj, GAsyncResult *res, gpointer data)
{
    BhCall *call = data;
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(obj), res, NULL, NULL) || call->calls->closed)
        return bh_call_free(call);
    int pipefd[2] = {-1, -1};
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return bh_call_free(call);
    /* Both words were checked (bh_call_request_parse, the model's names):
     * nothing in them is special to the agent's shell. */
    g_autofree char *cmd = g_strdup_printf("bulkhead-service %s %s", call->service, call->source);
    int sock = g_socket_get_fd(g_socket_connection_get_socket(call->conn));
    BhAgentRun run = {.user = NULL,
                      .commandline = cmd,
                      .stdin_fd = sock,
                      .stdout_fd = pipefd[1],
                      .stderr_fd = -1,
                      .wait = TRUE};
    /* The set duplicates the descriptors it is given. */
    bh_agent_set_run_async(call->calls->agents, call->target, &run, NULL, bh_call_ran, call);
    close(pipefd[1]);
    call->pipe_in = g_unix_input_stream_new(pipefd[0], TRUE);
    bh_call_read_pipe(call);
}

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
    /* SERVICE+ARGUMENT: policy sees the two apart, as in Qubes. */
    g_autofree char *service = g_strdup(call->service);
    char *plus = strchr(service, '+');
    if (plus)
        *plus++ = '\0';

    /* The source is the qube whose socket this is: dom0's word, not the caller's. */
    BhPolicyRequest req = {
        .service = service, .argument = plus ? plus : "", .source = call->source, .target = call->target};
    BhPolicyDecision decision;
    bh_daemon_policy_evaluate(call->calls->policy, call->calls->store, &req, &decision);
    if (decision.verdict != BH_POLICY_ALLOW) {
        g_autofree char *why_deny =
            g_strdup_printf("%s from %s to %s is denied by policy%s", call->service, call->source,
                            call->target, decision.verdict == BH_POLICY_ASK ? " (ask: no dialog yet)" : "");
        bh_policy_decision_clear(&decision);
        return bh_call_refuse(call, why_deny);
    }
    if (decision.target && !g_str_equal(decision.target, call->target)) {
        g_free(call->target);
        call->target = g_strdup(decision.target);
    }
    bh_policy_decision_clear(&decision);
    g_info("[%s] call %s to %s allowed", call->source, call->service, call->target);
    g_output_stream_write_all_async(call->out, "ok\n", 3, G_PRIORITY_DEFAULT, NULL, bh_call_ok_written, call);
}

static gboolean bh_call_incoming(GSocketService *service, GSocketConnection *conn, GObject *source,
                                 gpointer data)
{
    (void)service;
    (void)source;
    BhCallListener *l = data;
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(l->calls->active, l->qube));
    if (n >= BH_CALL_MAX_PER_QUBE) {
        g_autofree char *why = g_strdup_printf("%u calls are in flight already", n);
        bh_calls_log_refusal(l->calls, l->qube, why);
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        return TRUE;
    }
    g_hash_table_insert(l->calls->active, g_strdup(l->qube), GUINT_TO_POINTER(n + 1));
    BhCall *call = g_new0(BhCall, 1);
    call->calls = l->calls;
    l->calls->refs++;
    call->source = g_strdup(l->qube);
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

BhCalls *bh_calls_new(BhBackend *backend, BhAgentSet *agents, BhPolicyStore *policy, BhStore *store)
{
    BhCalls *calls = g_new0(BhCalls, 1);
    calls->backend = backend;
    calls->agents = agents;
    calls->policy = policy;
    calls->store = store;
    calls->refs = 1;
    calls->listeners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bh_call_listener_free);
    calls->active = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    calls->refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return calls;
}

void bh_calls_free(BhCalls *calls)
{
    if (calls == NULL)
        return;
    calls->closed = TRUE;
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
        g_warning("[%s] no call socket: %s", qube, error->message);
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
