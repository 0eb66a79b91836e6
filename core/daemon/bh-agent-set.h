/* bh-agent-set.h — the RPC connections bulkheadd holds, one per running
 * qube, to the qube's bulkhead-agent; the one way anything in dom0 runs a
 * program in a qube (Run, and whatever else the daemon does for a qube).
 *
 * Owns: following each qube's power state (connect when it boots or is
 * adopted, close when it stops), asking the backend where the agent listens
 * (bh_backend_agent_address: the only thing a backend knows of RPC), the
 * BhRpcClient of each qube, the commands that wait while an agent is being
 * connected, and the words a caller gets when a qube has no agent or lost it.
 * Must never: check policy (the caller did), enter a qube any other way than
 * through its own agent, or act for a qube that is not Running.
 *
 * Backend-neutral: the sandbox's agents are reached on the socket vchan, a
 * Xen domain's on libxenvchan; nothing here knows which. Errors are in
 * BH_BACKEND_ERROR (the daemon maps them to D-Bus errors like the backend's
 * own), plus BH_RPC_ERROR from the connection and G_IO_ERROR_CANCELLED.
 */
#pragma once

#include <gio/gio.h>

#include "backend.h"

G_BEGIN_DECLS

typedef struct _BhAgentSet BhAgentSet;

/* The set of the qubes of `backend` (borrowed: the set is freed first). */
BhAgentSet *bh_agent_set_new(BhBackend *backend);
/* Closes every connection; waiting calls fail. NULL-safe. */
void bh_agent_set_free(BhAgentSet *set);

/* Tell the set every power state the daemon records. Running (a boot, an
 * adoption, or an unpause of a qube never connected) starts connecting to
 * the qube's agent; Paused keeps what there is; any other state closes the
 * connection and fails whatever waits for it ("it stopped"). */
void bh_agent_set_power_changed(BhAgentSet *set, const char *qube, BhPowerState state);

/* Completes once the Running qube's agent answered, at once if it has, or if
 * the qube has no agent to wait for (the installation has none: its commands
 * are refused saying so). Fails when it did not answer within the backend's
 * time (the daemon then kills the qube) or the qube stopped meanwhile. */
void bh_agent_set_wait_ready_async(BhAgentSet *set, const char *qube, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_agent_set_wait_ready_finish(BhAgentSet *set, GAsyncResult *result, GError **error);

/* A program to run in a qube, by its /bin/sh -c, as `user` (NULL or "": the
 * agent's own). Descriptors are borrowed (duplicated while the call waits
 * for the agent); -1 is /dev/null for stdin, dropped output otherwise.
 * Without wait the call completes once the program started and takes no
 * streams. */
typedef struct {
    const char *user;
    const char *commandline;
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    gboolean wait;
} BhAgentRun;

/* Runs it through the qube's agent, waiting while the agent is connected.
 * exit_status: the program's status as a shell's $? (128+n for signal n)
 * when run->wait, else 0. Errors: BH_BACKEND_ERROR_WRONG_STATE (not
 * running), _UNAVAILABLE (no agent in this installation), _FAILED (the
 * agent is gone or never answered), BH_RPC_ERROR_* from the agent. */
void bh_agent_set_run_async(BhAgentSet *set, const char *qube, const BhAgentRun *run,
                            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_agent_set_run_finish(BhAgentSet *set, GAsyncResult *result, int *exit_status, GError **error);

G_END_DECLS
