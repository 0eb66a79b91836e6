/* rpc-client.h — dom0's side of the RPC to a qube's bulkhead-agent
 * (libbh_rpc_client), for bulkheadd's agent set (core/daemon/bh-agent-set.c). GLib/GIO, asynchronous:
 * every call runs in the thread-default main context of the thread that
 * connected, and nothing blocks.
 *
 * Owns: one connection per qube (vchan port 512, agent = server), request
 * ids, flow control, and turning what the agent sends into results. It does
 * NOT check policy: the daemon does that before calling.
 * Must never: trust the agent (everything it sends goes through the
 * decoder; a violation drops the connection with a logged reason naming the
 * qube), block the main loop, or buffer more than the protocol's window per
 * stream (32 calls x stdout+stderr x 128 KiB = 8 MiB per qube at most).
 *
 * Typical use (bulkheadd, qvm-run):
 *   bh_rpc_client_connect_async(domid, "work", 10000, NULL, on_ready, d);
 *   ... client = bh_rpc_client_connect_finish(res, &error);  // agent ready
 *   bh_rpc_client_exec_async(client, "user", "echo hi", in, out, err, TRUE,
 *                            NULL, on_done, d);
 *   ... bh_rpc_client_exec_finish(client, res, &wait_status, &error); */
#ifndef BULKHEAD_RPC_CLIENT_H
#define BULKHEAD_RPC_CLIENT_H

#include <gio/gio.h>

G_BEGIN_DECLS

#define BH_RPC_ERROR (bh_rpc_error_quark())
GQuark bh_rpc_error_quark(void);

typedef enum {
    /* No agent answered within the timeout (qube not running, agent not
     * started, or vchan misconfigured; the message says which). */
    BH_RPC_ERROR_UNAVAILABLE,
    /* The agent went away: before or during the call (crash, qube stopped),
     * or bh_rpc_client_close() was called. */
    BH_RPC_ERROR_DISCONNECTED,
    /* The agent broke the protocol; the connection was dropped (logged). */
    BH_RPC_ERROR_PROTOCOL,
    /* The agent could not start the program; the message is the agent's
     * (sanitised), e.g. "cannot run as 'root': ...". */
    BH_RPC_ERROR_EXEC_FAILED,
    /* An argument the protocol cannot carry (user name, command line). */
    BH_RPC_ERROR_INVALID,
} BhRpcError;

#define BH_TYPE_RPC_CLIENT (bh_rpc_client_get_type())
G_DECLARE_FINAL_TYPE(BhRpcClient, bh_rpc_client, BH, RPC_CLIENT, GObject)

/* Connects to the agent of domain `domid` (socket transport: under
 * BH_VCHAN_DIR or $XDG_RUNTIME_DIR/bulkhead/vchan), retrying until it
 * answers HELLO or `timeout_ms` passes (BH_RPC_ERROR_UNAVAILABLE). The
 * agent set uses this as "agent ready". `qube_name` appears in logs and
 * errors. The client belongs to the calling thread's default main context.
 * Signal "disconnected" (GError *why) fires once when the connection ends. */
void bh_rpc_client_connect_async(int domid, const char *qube_name, guint timeout_ms,
                                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
/* The same on a given vchan transport (enum bh_vchan_transport, 0: the
 * process's default): bulkheadd's agent set connects on the transport of the
 * backend that runs the qube (core/daemon/bh-agent-set.h). */
void bh_rpc_client_connect_on_async(int transport, int domid, const char *qube_name, guint timeout_ms,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
BhRpcClient *bh_rpc_client_connect_finish(GAsyncResult *result, GError **error);

/* Runs `/bin/sh -c cmdline` in the qube as `user` (NULL or "" = the agent's
 * own user).
 * wait = TRUE: completes when the program has exited and all its output has
 * been written to stdout_fd/stderr_fd; *wait_status is a waitpid(2)-style
 * status (WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG, or
 * g_spawn_check_wait_status). Streams: stdin_fd is read to its end and sent;
 * output goes to stdout_fd / stderr_fd. Pass -1 for a stream you do not
 * want (stdin: empty; output: dropped). If all three are -1 the program's
 * stdio is /dev/null.
 * wait = FALSE: completes as soon as the program runs (*wait_status = 0);
 * the fds must all be -1.
 * The fds are duplicated (the caller keeps and closes its own); note that
 * O_NONBLOCK is set on their open file descriptions. At most 32 calls run at
 * once per qube; more wait their turn. Cancelling a running call sends
 * SIGKILL to its process group and completes with G_IO_ERROR_CANCELLED.
 * Errors: BH_RPC_ERROR_EXEC_FAILED, _DISCONNECTED, _PROTOCOL, _INVALID. */
void bh_rpc_client_exec_async(BhRpcClient *client, const char *user, const char *cmdline, int stdin_fd,
                              int stdout_fd, int stderr_fd, gboolean wait, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_rpc_client_exec_finish(BhRpcClient *client, GAsyncResult *result, int *wait_status,
                                   GError **error);

/* A round trip to the agent (liveness). */
void bh_rpc_client_ping_async(BhRpcClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean bh_rpc_client_ping_finish(BhRpcClient *client, GAsyncResult *result, GError **error);

gboolean bh_rpc_client_is_connected(BhRpcClient *client);
const char *bh_rpc_client_get_qube_name(BhRpcClient *client);
/* Ends the connection: pending calls fail with BH_RPC_ERROR_DISCONNECTED.
 * The agent sends SIGHUP to the programs still running for us. */
void bh_rpc_client_close(BhRpcClient *client);

G_END_DECLS

#endif /* BULKHEAD_RPC_CLIENT_H */
