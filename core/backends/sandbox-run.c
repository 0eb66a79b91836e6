/* sandbox-run.c — running commands in a qube; see sandbox-qube.h.
 *
 * Owns the backend's run operation: a command goes to the qube's own agent
 * (dom0 never enters a qube itself), or waits, with its own copies of the
 * descriptors, while an adopted qube's agent reconnects. It must never run
 * anything in a qube that is not Running, nor keep a held command beyond the
 * reconnection's outcome.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulkhead/rpc-client.h>

/* ---- running commands ------------------------------------------------------------------ */

static void bh_sandbox_rpc_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GTask) task = data;
    GError *error = NULL;
    int wait_status = 0;
    if (!bh_rpc_client_exec_finish(BH_RPC_CLIENT(source), result, &wait_status, &error)) {
        g_task_return_error(task, error);
        return;
    }
    /* The same convention as a shell's $?: 128+n for a signal. */
    g_task_return_int(task,
                      WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status));
}

static void bh_sandbox_run_dispatch(BhSandbox *sb, BhSandboxQube *q, const BhBackendRun *run,
                                    GCancellable *cancellable, GTask *task);

/* A command asked for while an adopted qube's agent reconnects: kept, with
 * its own copies of the descriptors, until the reconnection is decided. */
typedef struct {
    char *user;
    char *commandline;
    int fds[3];
    gboolean wait;
    GCancellable *cancellable;
    GTask *task;
} BhHeldRun;

static void bh_held_run_free(gpointer data)
{
    BhHeldRun *h = data;
    g_free(h->user);
    g_free(h->commandline);
    for (int i = 0; i < 3; i++)
        if (h->fds[i] >= 0)
            close(h->fds[i]);
    g_clear_object(&h->cancellable);
    if (h->task) {
        g_task_return_new_error(h->task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "bulkheadd is stopping");
        g_object_unref(h->task);
    }
    g_free(h);
}

static void bh_sandbox_hold_run(BhSandboxQube *q, const BhBackendRun *run, GCancellable *cancellable,
                                GTask *task)
{
    BhHeldRun *h = g_new0(BhHeldRun, 1);
    int src[3] = {run->stdin_fd, run->stdout_fd, run->stderr_fd};
    for (int i = 0; i < 3; i++)
        h->fds[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 3) : -1;
    h->user = g_strdup(run->user);
    h->commandline = g_strdup(run->commandline);
    h->wait = run->wait;
    h->cancellable = cancellable ? g_object_ref(cancellable) : NULL;
    h->task = task;
    if (q->held_runs == NULL)
        q->held_runs = g_ptr_array_new_with_free_func(bh_held_run_free);
    g_ptr_array_add(q->held_runs, h);
}

void bh_sandbox_release_held_runs(BhSandboxQube *q)
{
    g_autoptr(GPtrArray) held = g_steal_pointer(&q->held_runs);
    for (guint i = 0; held && i < held->len && q->sb; i++) {
        BhHeldRun *h = held->pdata[i];
        BhBackendRun run = {.user = h->user,
                            .commandline = h->commandline,
                            .stdin_fd = h->fds[0],
                            .stdout_fd = h->fds[1],
                            .stderr_fd = h->fds[2],
                            .wait = h->wait};
        bh_sandbox_run_dispatch(q->sb, q, &run, h->cancellable, g_steal_pointer(&h->task));
    }
}

void bh_sandbox_fail_held_runs(BhSandboxQube *q, const char *why)
{
    g_autoptr(GPtrArray) held = g_steal_pointer(&q->held_runs);
    for (guint i = 0; held && i < held->len; i++) {
        BhHeldRun *h = held->pdata[i];
        g_task_return_new_error(h->task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                                "cannot run a command in %s: %s", q->name, why);
        g_clear_object(&h->task);
    }
}

void bh_sandbox_run(BhBackend *backend, const char *name, const BhBackendRun *run, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
    BhSandbox *sb = (BhSandbox *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GError) error = NULL;
    g_task_set_source_tag(task, bh_sandbox_run);

    BhSandboxQube *q = bh_sandbox_require(sb, name, BH_POWER_RUNNING, "run a command in", &error);
    if (q == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (q->reconnecting) {
        bh_sandbox_hold_run(q, run, cancellable, g_steal_pointer(&task));
        return;
    }
    bh_sandbox_run_dispatch(sb, q, run, cancellable, g_steal_pointer(&task));
}

static void bh_sandbox_run_dispatch(BhSandbox *sb, BhSandboxQube *q, const BhBackendRun *run,
                                    GCancellable *cancellable, GTask *task_in)
{
    g_autoptr(GTask) task = task_in;
    const char *name = q->name;
    /* Commands enter a qube only through its own agent, which starts them
     * inside, in a new session, with pipes of its own: nothing of dom0 (our
     * terminal, session, descriptors, keyring) is ever in the qube's hands.
     * dom0 never enters a qube itself: a qube without an agent answering
     * (none installed, or it exited or was killed inside the qube) is
     * suspect, and taking a more trusting path for it is what its killer
     * would want (docs/sandbox.md, "Running commands"). */
    if (q->rpc == NULL || !bh_rpc_client_is_connected(q->rpc)) {
        if (!sb->has_agent)
            g_task_return_new_error(task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE,
                                    "cannot run a command in %s: this installation has no bulkhead-agent to "
                                    "start it inside the qube; install or build it and restart bulkheadd",
                                    name);
        else
            g_task_return_new_error(task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                    "cannot run a command in %s: its bulkhead-agent is gone (it exited or "
                                    "was killed inside the qube), and bulkheadd does not enter a qube "
                                    "without it; restart the qube (qvm-shutdown --wait %s, or qvm-kill %s, "
                                    "then qvm-start %s)",
                                    name, name, name, name);
        return;
    }
    gboolean wait = run->wait;
    /* Without waiting the agent takes no streams: output is dropped. */
    bh_rpc_client_exec_async(q->rpc, run->user, run->commandline, wait ? run->stdin_fd : -1,
                             wait ? run->stdout_fd : -1, wait ? run->stderr_fd : -1, wait, cancellable,
                             bh_sandbox_rpc_done, g_steal_pointer(&task));
}

gboolean bh_sandbox_run_finish(BhBackend *backend, GAsyncResult *result, int *exit_status, GError **error)
{
    g_autoptr(GError) local = NULL;
    gssize status = g_task_propagate_int(G_TASK(result), &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    *exit_status = (int)status;
    return TRUE;
}
