/* bh-agent-set.c — one RPC connection per running qube; see bh-agent-set.h.
 *
 * Owns the BhAgentLink of each qube the daemon saw Running: where its agent
 * listens (from the backend), its BhRpcClient once the agent answered, and
 * the calls that wait meanwhile. Must never: connect anywhere the backend did
 * not name, keep a waiting call past the connection's outcome, or run a
 * command in a qube whose agent is gone — dom0 never enters a qube itself,
 * and a qube whose agent went away is suspect: a more trusting path for it
 * is what its killer would want (docs/rpc.md, "Who talks RPC").
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-agent-set.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulkhead/rpc-client.h>

typedef enum {
    BH_LINK_CONNECTING, /* waiting for the agent's HELLO; calls are held */
    BH_LINK_CONNECTED,
    BH_LINK_NO_AGENT, /* nothing to connect to: the backend said why */
    BH_LINK_GONE,     /* never answered, or went away: refused until the qube restarts */
} BhLinkState;

typedef struct {
    int refs;
    BhAgentSet *set; /* NULL once the link is dropped */
    char *qube;
    BhLinkState state;
    BhRpcClient *client;
    GCancellable *connecting;
    GPtrArray *waiting; /* BhWaiter*: wait_ready calls and held runs */
    GError *why;        /* NO_AGENT, GONE: what a caller is told */
} BhAgentLink;

struct _BhAgentSet {
    BhBackend *backend;
    GHashTable *links; /* qube name -> BhAgentLink* */
};

/* A wait_ready call (run == FALSE) or a command held while the agent is
 * connected, with its own copies of the descriptors. */
typedef struct {
    GTask *task;
    gboolean is_run;
    char *user;
    char *commandline;
    int fds[3];
    gboolean wait;
} BhWaiter;

static void bh_waiter_free(BhWaiter *w)
{
    g_free(w->user);
    g_free(w->commandline);
    for (int i = 0; i < 3; i++)
        if (w->fds[i] >= 0)
            close(w->fds[i]);
    g_clear_object(&w->task);
    g_free(w);
}

static BhAgentLink *bh_link_ref(BhAgentLink *link)
{
    link->refs++;
    return link;
}

static void bh_link_unref(BhAgentLink *link)
{
    if (--link->refs > 0)
        return;
    g_free(link->qube);
    g_clear_object(&link->client);
    g_clear_object(&link->connecting);
    if (link->waiting)
        g_ptr_array_unref(link->waiting);
    g_clear_error(&link->why);
    g_free(link);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhAgentLink, bh_link_unref)

/* ---- running ------------------------------------------------------------------------- */

static void bh_agent_exec_done(GObject *source, GAsyncResult *result, gpointer data)
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

/* The link as a caller is told it: connected, or the reason why not. */
static gboolean bh_link_usable(BhAgentLink *link, GError **error)
{
    if (link->state == BH_LINK_CONNECTED && bh_rpc_client_is_connected(link->client))
        return TRUE;
    if (link->why) {
        g_propagate_error(error, g_error_copy(link->why));
        return FALSE;
    }
    g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                "cannot run a command in %s: its bulkhead-agent is gone (it exited or was killed inside the "
                "qube), and bulkheadd does not enter a qube without it; restart the qube (qvm-shutdown "
                "--wait %s, or qvm-kill %s, then qvm-start %s)",
                link->qube, link->qube, link->qube, link->qube);
    return FALSE;
}

static void bh_link_exec(BhAgentLink *link, const BhAgentRun *run, GTask *task_in)
{
    g_autoptr(GTask) task = task_in;
    GError *error = NULL;
    if (!bh_link_usable(link, &error)) {
        g_task_return_error(task, error);
        return;
    }
    gboolean wait = run->wait;
    GCancellable *cancellable = g_task_get_cancellable(task);
    /* Without waiting the agent takes no streams: output is dropped. */
    bh_rpc_client_exec_async(link->client, run->user, run->commandline, wait ? run->stdin_fd : -1,
                             wait ? run->stdout_fd : -1, wait ? run->stderr_fd : -1, wait, cancellable,
                             bh_agent_exec_done, g_steal_pointer(&task));
}

/* The connection's outcome is known (or the qube stopped): every waiting
 * call goes on or fails, in the order it came. */
static void bh_link_release(BhAgentLink *link)
{
    g_autoptr(GPtrArray) waiting = g_steal_pointer(&link->waiting);
    for (guint i = 0; waiting && i < waiting->len; i++) {
        BhWaiter *w = waiting->pdata[i];
        GError *error = NULL;
        if (!w->is_run) {
            if (link->state == BH_LINK_NO_AGENT || bh_link_usable(link, &error))
                g_task_return_boolean(w->task, TRUE);
            else
                g_task_return_error(w->task, error);
            continue;
        }
        BhAgentRun run = {.user = w->user,
                          .commandline = w->commandline,
                          .stdin_fd = w->fds[0],
                          .stdout_fd = w->fds[1],
                          .stderr_fd = w->fds[2],
                          .wait = w->wait};
        bh_link_exec(link, &run, g_steal_pointer(&w->task));
    }
}

static void bh_link_hold(BhAgentLink *link, BhWaiter *w)
{
    if (link->waiting == NULL)
        link->waiting = g_ptr_array_new_with_free_func((GDestroyNotify)bh_waiter_free);
    g_ptr_array_add(link->waiting, w);
}

/* ---- connecting ---------------------------------------------------------------------- */

static void bh_link_agent_gone(BhRpcClient *client, GError *why, gpointer data)
{
    BhAgentLink *link = data;
    /* A stopping qube takes its agent along and is dropped first (the
     * handler goes with it): anything that reaches here is worth a line. */
    g_message("[%s] lost its RPC agent (%s); commands are refused until the qube restarts", link->qube,
              why ? why->message : "disconnected");
    link->state = BH_LINK_GONE;
}

static void bh_link_connected(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhAgentLink) link = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(BhRpcClient) client = bh_rpc_client_connect_finish(result, &error);
    if (link->set == NULL) {
        /* Dropped meanwhile (the qube stopped): its waiters were told. */
        if (client)
            bh_rpc_client_close(client);
        return;
    }
    g_clear_object(&link->connecting);
    if (client == NULL) {
        g_message("[%s] its RPC agent did not answer: %s", link->qube, error->message);
        link->state = BH_LINK_GONE;
        link->why = g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                "the bulkhead-agent of %s did not answer: %s", link->qube, error->message);
    } else {
        /* Once a boot: after an adoption this is the line that says the
         * qube's agent came back. */
        g_message("[%s] its RPC agent answered", link->qube);
        link->state = BH_LINK_CONNECTED;
        link->client = g_steal_pointer(&client);
        g_signal_connect(link->client, "disconnected", G_CALLBACK(bh_link_agent_gone), link);
    }
    bh_link_release(link);
}

static BhAgentLink *bh_agent_set_connect(BhAgentSet *set, const char *qube)
{
    BhAgentLink *link = g_new0(BhAgentLink, 1);
    link->refs = 1;
    link->set = set;
    link->qube = g_strdup(qube);
    g_hash_table_insert(set->links, link->qube, link);

    BhBackendAgentAddress address;
    g_autoptr(GError) error = NULL;
    if (!bh_backend_agent_address(set->backend, qube, &address, &error)) {
        g_info("[%s] no RPC agent to connect to: %s", qube, error->message);
        link->state = BH_LINK_NO_AGENT;
        link->why = g_steal_pointer(&error);
        return link;
    }
    link->state = BH_LINK_CONNECTING;
    link->connecting = g_cancellable_new();
    bh_rpc_client_connect_on_async(address.transport, address.domid, qube, address.ready_timeout_ms,
                                   link->connecting, bh_link_connected, bh_link_ref(link));
    return link;
}

/* The qube stopped: its connection ends and whatever waits is told so. */
static void bh_agent_set_drop(BhAgentSet *set, const char *qube)
{
    BhAgentLink *link = NULL;
    if (!g_hash_table_steal_extended(set->links, qube, NULL, (gpointer *)&link))
        return;
    link->set = NULL;
    if (link->connecting)
        g_cancellable_cancel(link->connecting);
    if (link->client) {
        g_signal_handlers_disconnect_by_data(link->client, link);
        bh_rpc_client_close(link->client);
    }
    link->state = BH_LINK_GONE;
    g_clear_error(&link->why);
    link->why = g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                            "cannot run a command in %s: it stopped", qube);
    bh_link_release(link);
    bh_link_unref(link);
}

/* ---- public -------------------------------------------------------------------------- */

BhAgentSet *bh_agent_set_new(BhBackend *backend)
{
    BhAgentSet *set = g_new0(BhAgentSet, 1);
    set->backend = backend;
    set->links = g_hash_table_new(g_str_hash, g_str_equal);
    return set;
}

void bh_agent_set_free(BhAgentSet *set)
{
    if (set == NULL)
        return;
    /* Copies of the names: dropping a link frees its key. */
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init(&iter, set->links);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(names, g_strdup(key));
    for (guint i = 0; i < names->len; i++)
        bh_agent_set_drop(set, names->pdata[i]);
    g_hash_table_unref(set->links);
    g_free(set);
}

void bh_agent_set_power_changed(BhAgentSet *set, const char *qube, BhPowerState state)
{
    if (set == NULL)
        return;
    if (state == BH_POWER_RUNNING) {
        if (!g_hash_table_contains(set->links, qube))
            bh_agent_set_connect(set, qube);
    } else if (state != BH_POWER_PAUSED) {
        bh_agent_set_drop(set, qube);
    }
}

/* The link of the qube a call is for; NULL, the task answered, when it has
 * none (the qube is not running). */
static BhAgentLink *bh_agent_set_link_for(BhAgentSet *set, const char *qube, GTask *task)
{
    BhAgentLink *link = g_hash_table_lookup(set->links, qube);
    if (link == NULL)
        g_task_return_new_error(task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                                "cannot run a command in %s: it is not running", qube);
    return link;
}

void bh_agent_set_wait_ready_async(BhAgentSet *set, const char *qube, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, bh_agent_set_wait_ready_async);
    GError *error = NULL;
    BhAgentLink *link = bh_agent_set_link_for(set, qube, task);
    if (link == NULL) {
        return;
    } else if (link->state == BH_LINK_CONNECTING) {
        BhWaiter *w = g_new0(BhWaiter, 1);
        w->fds[0] = w->fds[1] = w->fds[2] = -1;
        w->task = g_steal_pointer(&task);
        bh_link_hold(link, w);
    } else if (link->state == BH_LINK_NO_AGENT || bh_link_usable(link, &error)) {
        g_task_return_boolean(task, TRUE);
    } else {
        g_task_return_error(task, error);
    }
}

gboolean bh_agent_set_wait_ready_finish(BhAgentSet *set, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

void bh_agent_set_run_async(BhAgentSet *set, const char *qube, const BhAgentRun *run,
                            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, bh_agent_set_run_async);
    BhAgentLink *link = bh_agent_set_link_for(set, qube, task);
    if (link == NULL)
        return;
    if (link->state != BH_LINK_CONNECTING) {
        bh_link_exec(link, run, g_steal_pointer(&task));
        return;
    }
    BhWaiter *w = g_new0(BhWaiter, 1);
    int src[3] = {run->stdin_fd, run->stdout_fd, run->stderr_fd};
    for (int i = 0; i < 3; i++)
        w->fds[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 3) : -1;
    w->is_run = TRUE;
    w->user = g_strdup(run->user);
    w->commandline = g_strdup(run->commandline);
    w->wait = run->wait;
    w->task = g_steal_pointer(&task);
    bh_link_hold(link, w);
}

gboolean bh_agent_set_run_finish(BhAgentSet *set, GAsyncResult *result, int *exit_status, GError **error)
{
    g_autoptr(GError) local = NULL;
    gssize status = g_task_propagate_int(G_TASK(result), &local);
    *exit_status = -1;
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    *exit_status = (int)status;
    return TRUE;
}
