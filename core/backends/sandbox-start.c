/* sandbox-start.c — a qube's start and its exit: the state machine of one
 * bubblewrap process; see sandbox-qube.h.
 *
 * Starts bubblewrap with the set-up of sandbox-spawn.c (cgroups joined,
 * layers staged, host uid taken) and follows it through three pipes:
 * bubblewrap's --info-fd (the init's pid), --block-fd (held until the
 * network is linked) and the init's ready pipe; its console goes to the log
 * through sandbox-console.c. A qube is Running once its init reports ready
 * (its agent is the daemon's to wait for); its exit is Halted when asked for
 * (or a clean exit), Crashed otherwise, with the signal or status as the
 * reason, and everything the run held is cleaned up.
 *
 * Everything runs on the daemon's main context except the network set-up,
 * which runs `ip`/`nft` in a worker thread and reports back through its
 * GTask. It must never decide policy: the daemon says what to start.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/error.h>
#include <bulkhead/qubes.h>
#include <bulkhead/vchan.h>

#include "sandbox-fsops.h"
#include "sandbox-layout.h"
#include "sandbox-net.h"
#include "sandbox-private.h"
#include "sandbox-seccomp.h"
#include "sandbox-spawn.h"
#include "sandbox-vchan.h"

/* ---- starting ------------------------------------------------------------------- */

/* The starter hears of the failure once the qube is gone, in
 * bh_sandbox_finish_exit (every failure here is followed by a stop): as
 * backend.h promises, nothing of a failed start runs on when its error
 * comes, so neither a half-started qube nor a start of it again at once
 * ("already running") is left to trip on. */
void bh_sandbox_start_fail(BhSandboxQube *q, GError *error)
{
    GTask *task = g_steal_pointer(&q->start_task);
    if (task == NULL) {
        g_error_free(error);
        return;
    }
    q->failed_start = task;
    q->start_error = error;
}

/* Last resort when killing the init did not end bubblewrap: everything in
 * the qube's cgroups (bubblewrap included), then bubblewrap itself. */
static gboolean bh_sandbox_kill_harder(gpointer data)
{
    BhSandboxQube *q = data;
    q->timer = 0;
    g_message("[%s] still there after SIGKILL to its init; killing its control group", q->name);
    if (q->cgroup)
        bh_sandbox_cgroup_kill(q->cgroup);
    if (q->proc)
        g_subprocess_force_exit(q->proc);
    if (q->bwrap_pidfd >= 0)
        bh_pidfd_signal(q->bwrap_pidfd, SIGKILL);
    return G_SOURCE_REMOVE;
}

/* Killing pid 1 of the namespace ends every process in it; bubblewrap then
 * reaps it and exits, so nothing is left as a zombie elsewhere. */
void bh_sandbox_force_stop(BhSandboxQube *q)
{
    q->stop_requested = TRUE;
    if (q->init_pid <= 0) {
        if (q->proc)
            g_subprocess_force_exit(q->proc);
        return;
    }
    bh_sandbox_signal_init(q, SIGKILL);
    /* A task frozen by the v1 freezer only dies once thawed. */
    if (q->state == BH_POWER_PAUSED && q->cgroup)
        bh_sandbox_cgroup_freeze(q->cgroup, FALSE, NULL);
    if (q->timer)
        g_source_remove(q->timer);
    q->timer = g_timeout_add_seconds(5, bh_sandbox_kill_harder, q);
}

static gboolean bh_sandbox_start_timeout(gpointer data)
{
    BhSandboxQube *q = data;
    q->timer = 0;
    if (q->start_task) {
        g_autofree char *log = bh_qube_last_log(q);
        g_message("[%s] not ready after %d s; killing it", q->name, BH_SANDBOX_START_TIMEOUT_S);
        bh_sandbox_start_fail(q, g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_TIMEOUT,
                                             "%s did not start within %d s%s%s", q->name,
                                             BH_SANDBOX_START_TIMEOUT_S, *log ? ": " : "", log));
        bh_sandbox_force_stop(q);
    }
    return G_SOURCE_REMOVE;
}

/* What lets the next daemon take this qube over if we die (sandbox-adopt.h).
 * Without it the qube still runs; it is then swept, not adopted, after a
 * crash of this daemon. */
static void bh_sandbox_keep_record(BhSandboxQube *q)
{
    BhSandbox *sb = q->sb;
    g_autoptr(GError) error = NULL;
    if (sb == NULL || sb->record_dir == NULL || q->proc == NULL || q->init_pid <= 0)
        return;
    g_autoptr(BhSandboxRecord) r = g_new0(BhSandboxRecord, 1);
    r->name = g_strdup(q->name);
    r->qid = q->qid;
    r->uid = q->uid;
    r->tag = g_strdup(sb->tag);
    r->stage_dir = g_strdup(q->stage_dir);
    r->vchan_dir = g_strdup(q->vchan_dir);
    r->netvm = g_strdup(q->netvm);
    r->provides_network = q->provides_network;
    r->ipv6 = q->ipv6;
    r->disposable = q->disposable;
    r->console_ino = q->console_ino;
    guint64 bwrap_pid = 0;
    g_ascii_string_to_unsigned(g_subprocess_get_identifier(q->proc), 10, 1, G_MAXINT, &bwrap_pid, NULL);
    if (!bh_sandbox_record_fill(r, (pid_t)bwrap_pid, q->init_pid, &error) ||
        !bh_sandbox_record_save(sb->record_dir, r, &error)) {
        g_message("[%s] no record for a restarted bulkheadd to adopt it by: %s", q->name, error->message);
        return;
    }
    q->record = g_steal_pointer(&r);
    q->record_dir = g_strdup(sb->record_dir);
}

static void bh_sandbox_became_ready(BhSandboxQube *q)
{
    if (q->timer) {
        g_source_remove(q->timer);
        q->timer = 0;
    }
    bh_sandbox_keep_record(q);
    bh_sandbox_hold_volumes(q);
    bh_sandbox_set_state(q, BH_POWER_RUNNING, NULL);
    GTask *task = g_steal_pointer(&q->start_task);
    if (task) {
        g_task_return_boolean(task, TRUE);
        g_object_unref(task);
    }
}

/* The init is up: the qube is Running. Its agent is the daemon's to wait
 * for (core/daemon/bh-agent-set.c); a qube whose agent does not answer is
 * killed there, as one whose init does not answer is here. */
static void bh_sandbox_init_ready(BhSandboxQube *q)
{
    bh_sandbox_became_ready(q);
}

static void bh_sandbox_ready_read(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSandboxQube) q = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
    gsize n = 0;
    const char *text = bytes ? g_bytes_get_data(bytes, &n) : NULL;
    /* EOF without a word: the exit handler reports why. */
    if (text && n >= 5 && memcmp(text, "ready", 5) == 0 && q->start_task && q->sb)
        bh_sandbox_init_ready(q);
}

/* Lets bubblewrap's child exec the init. */
static void bh_sandbox_release(BhSandboxQube *q)
{
    if (q->block == NULL)
        return;
    g_output_stream_write_all(q->block, "x", 1, NULL, NULL, NULL);
    g_output_stream_close(q->block, NULL, NULL);
    g_clear_object(&q->block);
    g_input_stream_read_bytes_async(q->ready, 64, G_PRIORITY_DEFAULT, q->cancellable, bh_sandbox_ready_read,
                                    bh_qube_ref(q));
}

/* ---- the network ------------------------------------------------------------------- */

/* Network work runs on one thread per backend, one job after the other in
 * the order asked (a pool of one): links, firewalls and relinks of the same
 * netvm never interleave, and a later firewall is never overtaken by an
 * earlier one. Each job completes on the context that asked for it. */
typedef struct BhNetJob BhNetJob;
typedef void (*BhNetJobDone)(BhSandboxQube *q, BhNetJob *job);

struct BhNetJob {
    BhSandboxQube *q; /* a reference */
    GMainContext *context;
    BhNetJobDone done;
    GTask *task; /* set_firewall's, completed after done */
    /* In order: the netvm set-up, the commands, the uplink. */
    gboolean provide;
    pid_t pid;
    GPtrArray *cmds;
    gboolean uplink;
    gboolean host_loopback;
    gboolean ipv6; /* the netvm set-up and the uplink carry IPv6 */
    uid_t uid;
    gid_t gid;
    char *resolv_conf;
    GArray *cgroup_fds;       /* the netvm's cgroup.procs, for the uplink to join */
    GSubprocess *uplink_proc; /* the uplink's result */
    GError *error;
};

static void bh_net_job_free(BhNetJob *job)
{
    bh_qube_unref(job->q);
    g_main_context_unref(job->context);
    g_clear_object(&job->task);
    g_ptr_array_unref(job->cmds);
    g_free(job->resolv_conf);
    for (guint i = 0; job->cgroup_fds && i < job->cgroup_fds->len; i++)
        close(g_array_index(job->cgroup_fds, int, i));
    g_clear_pointer(&job->cgroup_fds, g_array_unref);
    g_clear_object(&job->uplink_proc);
    g_clear_error(&job->error);
    g_free(job);
}

static gboolean bh_net_job_complete(gpointer data)
{
    BhNetJob *job = data;
    job->done(job->q, job);
    if (job->task) {
        if (job->error)
            g_task_return_error(job->task, g_steal_pointer(&job->error));
        else
            g_task_return_boolean(job->task, TRUE);
    }
    bh_net_job_free(job);
    return G_SOURCE_REMOVE;
}

static void bh_net_job_thread(gpointer data, gpointer pool_data)
{
    BhNetJob *job = data;
    if ((job->provide && !bh_sandbox_net_provide(job->pid, job->ipv6, &job->error)) ||
        !bh_sandbox_net_run_cmds(job->cmds, &job->error))
        goto out;
    if (job->uplink)
        job->uplink_proc = bh_sandbox_net_uplink(job->pid, job->uid, job->gid, job->resolv_conf,
                                                 job->host_loopback, job->ipv6, job->cgroup_fds, &job->error);
out:
    g_main_context_invoke(job->context, bh_net_job_complete, job);
}

static BhNetJob *bh_net_job_new(BhSandboxQube *q, BhNetJobDone done)
{
    BhNetJob *job = g_new0(BhNetJob, 1);
    job->q = bh_qube_ref(q);
    job->context = g_main_context_ref_thread_default();
    job->done = done;
    job->cmds = bh_net_cmds_new();
    return job;
}

static void bh_net_job_push(BhSandbox *sb, BhNetJob *job)
{
    if (sb->net_pool == NULL)
        sb->net_pool = g_thread_pool_new(bh_net_job_thread, NULL, 1, TRUE, NULL);
    g_thread_pool_push(sb->net_pool, job, NULL);
}

/* A netvm whose namespace is set up (its own start job done). */
static BhSandboxQube *bh_net_ready_netvm(BhSandbox *sb, const char *name)
{
    BhSandboxQube *netvm = name ? bh_sandbox_lookup(sb, name) : NULL;
    return netvm && netvm->net_ready && netvm->init_pid > 0 ? netvm : NULL;
}

/* The whole firewall of netvm, from the clients linked to it now. */
static void bh_net_firewall_cmds(BhSandbox *sb, BhSandboxQube *netvm, GPtrArray *cmds,
                                 const char *flush_address)
{
    g_autoptr(GArray) clients = g_array_new(FALSE, FALSE, sizeof(BhNetClient));
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, sb->qubes);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        BhSandboxQube *c = value;
        if (c->linked_to && g_str_equal(c->linked_to, netvm->name) && c->init_pid > 0) {
            BhNetClient client = {c->qid, c->firewall};
            g_array_append_val(clients, client);
        }
    }
    bh_sandbox_net_firewall_cmds(cmds, netvm->init_pid, (BhNetClient *)clients->data, clients->len,
                                 flush_address);
}

/* Links q to its netvm if that one is ready: the commands, its firewall. */
static void bh_net_link_cmds(BhSandbox *sb, BhSandboxQube *q, GPtrArray *cmds)
{
    BhSandboxQube *netvm = bh_net_ready_netvm(sb, q->netvm);
    if (netvm == NULL)
        return;
    g_autofree char *address = bh_net_address(q->qid, q->disposable);
    g_autofree char *gateway = bh_net_address(netvm->qid, netvm->disposable);
    /* IPv6 on the link only when both ends have it: a netvm set up
     * without it drops IPv6 (its ipv6 changed after its start counts at
     * its next one). */
    gboolean ipv6 = q->ipv6 && netvm->ipv6;
    g_autofree char *address6 = ipv6 ? bh_net_address6(q->qid, q->disposable) : NULL;
    g_autofree char *gateway6 = ipv6 ? bh_net_address6(netvm->qid, netvm->disposable) : NULL;
    bh_sandbox_net_link_cmds(cmds, netvm->init_pid, gateway, gateway6, q->init_pid, q->qid, address,
                             address6);
    g_free(q->linked_to);
    q->linked_to = g_strdup(netvm->name);
    bh_net_firewall_cmds(sb, netvm, cmds, NULL);
}

static void bh_net_logged(BhSandboxQube *q, BhNetJob *job)
{
    if (job->error)
        g_message("[%s] cannot change its network: %s", q->name, job->error->message);
}

/* A running qube to its netvm as it is now (q->netvm): off the one it is
 * linked to, onto the new one if that runs. */
static void bh_net_relink(BhSandbox *sb, BhSandboxQube *q)
{
    if (q->init_pid <= 0 || q->start_task || !sb->privileged)
        return;
    BhNetJob *job = bh_net_job_new(q, bh_net_logged);
    if (q->linked_to) {
        BhSandboxQube *old = bh_net_ready_netvm(sb, q->linked_to);
        g_clear_pointer(&q->linked_to, g_free);
        bh_sandbox_net_unlink_cmds(job->cmds, old ? old->init_pid : 0, q->init_pid, q->qid);
        if (old)
            bh_net_firewall_cmds(sb, old, job->cmds, NULL);
    }
    bh_net_link_cmds(sb, q, job->cmds);
    g_message("[%s] network: %s", q->name, q->linked_to ? q->linked_to : "none");
    bh_net_job_push(sb, job);
}

/* A netvm is ready again: its running clients come back to it. */
static void bh_net_relink_clients(BhSandbox *sb, BhSandboxQube *netvm)
{
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, sb->qubes);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        BhSandboxQube *c = value;
        if (c != netvm && c->netvm && g_str_equal(c->netvm, netvm->name))
            bh_net_relink(sb, c);
    }
}

/* A netvm stopped: its links went with its namespace. Its clients keep
 * running, without network, until it is back. */
static void bh_net_netvm_gone(BhSandbox *sb, BhSandboxQube *netvm)
{
    GHashTableIter iter;
    gpointer value;
    netvm->net_ready = FALSE;
    g_hash_table_iter_init(&iter, sb->qubes);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        BhSandboxQube *c = value;
        if (c->linked_to && g_str_equal(c->linked_to, netvm->name)) {
            g_clear_pointer(&c->linked_to, g_free);
            g_message("[%s] network: none (its netvm %s stopped)", c->name, netvm->name);
        }
    }
}

gboolean bh_sandbox_set_netvm(BhBackend *backend, const char *name, const char *netvm, GError **error)
{
    BhSandbox *sb = (BhSandbox *)backend;
    BhSandboxQube *q = bh_sandbox_lookup(sb, name);
    if (q == NULL || g_strcmp0(q->netvm, netvm) == 0)
        return TRUE;
    g_free(q->netvm);
    q->netvm = g_strdup(netvm);
    /* A daemon that adopts it after a crash links it where it is now. */
    if (q->record && q->record_dir) {
        g_autoptr(GError) record_error = NULL;
        g_free(q->record->netvm);
        q->record->netvm = g_strdup(netvm);
        if (!bh_sandbox_record_save(q->record_dir, q->record, &record_error))
            g_message("[%s] its record keeps the old netvm: %s", q->name, record_error->message);
    }
    bh_net_relink(sb, q);
    return TRUE;
}

static void bh_net_firewall_done(BhSandboxQube *q, BhNetJob *job)
{
    if (job->error)
        g_prefix_error(&job->error, "cannot apply the firewall of %s: ", q->name);
}

void bh_sandbox_set_firewall(BhBackend *backend, const char *name, const char *rules,
                             GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
    BhSandbox *sb = (BhSandbox *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    BhSandboxQube *q = bh_sandbox_lookup(sb, name);
    if (q == NULL) {
        g_task_return_boolean(task, TRUE); /* halted: it gets them at its start */
        return;
    }
    g_free(q->firewall);
    q->firewall = g_strdup(rules);
    BhSandboxQube *netvm = q->linked_to ? bh_net_ready_netvm(sb, q->linked_to) : NULL;
    if (netvm == NULL || !sb->privileged) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    BhNetJob *job = bh_net_job_new(q, bh_net_firewall_done);
    job->task = g_steal_pointer(&task);
    g_autofree char *address = bh_net_address(q->qid, q->disposable);
    bh_net_firewall_cmds(sb, netvm, job->cmds, address);
    bh_net_job_push(sb, job);
}

gboolean bh_sandbox_set_firewall_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

static void bh_sandbox_net_done(BhSandboxQube *q, BhNetJob *job)
{
    if (job->error) {
        g_clear_pointer(&q->linked_to, g_free);
        if (q->start_task) {
            GError *error = g_steal_pointer(&job->error);
            g_prefix_error(&error, "cannot set up the network of %s: ", q->name);
            bh_sandbox_start_fail(q, error);
            bh_sandbox_force_stop(q);
        }
        return;
    }
    if (job->uplink_proc) {
        /* Stopped while the uplink came up: it goes with the qube. */
        if (q->start_task == NULL) {
            g_subprocess_force_exit(job->uplink_proc);
            return;
        }
        g_clear_object(&q->uplink_proc);
        q->uplink_proc = g_steal_pointer(&job->uplink_proc);
        g_message("[%s] uplink: slirp4netns (pid %s) on %s", q->name,
                  g_subprocess_get_identifier(q->uplink_proc), BH_SANDBOX_UPLINK_IF);
    }
    if (q->start_task == NULL)
        return;
    if (q->provides_network) {
        q->net_ready = TRUE;
        if (q->sb)
            bh_net_relink_clients(q->sb, q);
    }
    bh_sandbox_release(q);
}

/* The init's pid is known: link the network (if any), then release. */
static void bh_sandbox_have_pid(BhSandboxQube *q)
{
    BhSandbox *sb = q->sb;
    gboolean link = q->netvm != NULL;

    if (link && bh_net_ready_netvm(sb, q->netvm) == NULL) {
        bh_sandbox_start_fail(q,
                              g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                                          "cannot start %s: its netvm %s is not running", q->name, q->netvm));
        bh_sandbox_force_stop(q);
        return;
    }
    if (!link && !q->provides_network) {
        bh_sandbox_release(q);
        return;
    }
    if (!sb->privileged) {
        g_message("[%s] networking needs bulkheadd to run as root; the qube starts without it", q->name);
        bh_sandbox_release(q);
        return;
    }
    BhNetJob *job = bh_net_job_new(q, bh_sandbox_net_done);
    job->pid = q->init_pid;
    job->provide = q->provides_network;
    job->uplink = q->provides_network && !link && q->uplink;
    job->host_loopback = q->uplink_host_loopback;
    job->ipv6 = q->ipv6;
    job->uid = q->uid;
    job->gid = q->gid;
    job->resolv_conf = g_strdup(sb->resolv_conf);
    if (job->uplink && q->cgroup) {
        /* Opened here, where the group is ours to read; an uplink that
         * could not be bounded with its netvm does not start (stricter). */
        g_autoptr(GError) error = NULL;
        job->cgroup_fds = bh_sandbox_cgroup_procs_fds(q->cgroup, &error);
        if (job->cgroup_fds == NULL) {
            g_warning("[%s] no uplink: cannot open its control groups for it: %s", q->name, error->message);
            job->uplink = FALSE;
        }
    }
    if (link)
        bh_net_link_cmds(sb, q, job->cmds);
    bh_net_job_push(sb, job);
}

static void bh_sandbox_info_read(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSandboxQube) q = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
    if (bytes == NULL || q->sb == NULL)
        return;
    gsize n = 0;
    const char *chunk = g_bytes_get_data(bytes, &n);
    if (n > 0 && q->info_text->len < 4096) {
        g_string_append_len(q->info_text, chunk, (gssize)n);
        g_input_stream_read_bytes_async(q->info, 1024, G_PRIORITY_DEFAULT, q->cancellable,
                                        bh_sandbox_info_read, bh_qube_ref(q));
        return;
    }
    /* EOF: bubblewrap wrote {"child-pid": N, ...} and closed it. */
    const char *key = strstr(q->info_text->str, "\"child-pid\"");
    const char *colon = key ? strchr(key, ':') : NULL;
    guint64 pid = 0;
    if (colon) {
        colon++;
        while (*colon == ' ')
            colon++;
        pid = g_ascii_strtoull(colon, NULL, 10);
    }
    if (pid == 0 || pid > G_MAXINT)
        return; /* bubblewrap failed before: the exit handler reports it */
    q->init_pid = (pid_t)pid;
    if (q->start_task)
        bh_sandbox_have_pid(q);
}

void bh_sandbox_console_line(const char *line, guint64 dropped, gpointer data)
{
    BhSandboxQube *q = data;
    if (line == NULL) {
        g_message("[%s] … dropped %" G_GUINT64_FORMAT " lines from qube %s (more than its console may log)",
                  q->name, dropped, q->name);
        return;
    }
    g_message("[%s] %s", q->name, line);
    g_queue_push_tail(&q->log, g_strdup(line));
    while (q->log.length > BH_SANDBOX_LOG_LINES)
        g_free(g_queue_pop_head(&q->log));
}

static gboolean bh_sandbox_console_report(gpointer data)
{
    BhSandboxQube *q = data;
    q->console_timer = 0;
    bh_console_flush(q->console);
    return G_SOURCE_REMOVE;
}

/* A qube writes what it likes here, as fast as it likes: the console bounds
 * each line and how many reach the log (sandbox-console.h). */
void bh_sandbox_log_read(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSandboxQube) q = data;
    g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, NULL);
    gsize n = 0;
    const guint8 *chunk = bytes ? g_bytes_get_data(bytes, &n) : NULL;
    if (n == 0) {
        if (q->console_timer) {
            g_source_remove(q->console_timer);
            q->console_timer = 0;
        }
        bh_console_finish(q->console, g_get_monotonic_time());
        return;
    }
    bh_console_feed(q->console, chunk, n, g_get_monotonic_time());
    if (bh_console_has_dropped(q->console) && q->console_timer == 0)
        q->console_timer = g_timeout_add_seconds(2, bh_sandbox_console_report, q);
    g_input_stream_read_bytes_async(G_INPUT_STREAM(source), 4096, G_PRIORITY_DEFAULT, q->cancellable,
                                    bh_sandbox_log_read, bh_qube_ref(q));
}

static char *bh_sandbox_exit_reason(GSubprocess *proc, gboolean *clean)
{
    *clean = FALSE;
    if (g_subprocess_get_if_signaled(proc)) {
        int sig = g_subprocess_get_term_sig(proc);
        return g_strdup_printf("bubblewrap was killed by signal %d (%s)", sig, g_strsignal(sig));
    }
    int status = g_subprocess_get_exit_status(proc);
    if (status == 0) {
        *clean = TRUE;
        return g_strdup("the qube's init exited");
    }
    /* bubblewrap reports a child killed by signal n as 128 + n. */
    if (status > 128 && status < 128 + 65)
        return g_strdup_printf("killed by signal %d (%s)", status - 128, g_strsignal(status - 128));
    if (status == BH_SANDBOX_SETUP_FAILED)
        return g_strdup("the sandbox could not be set up");
    return g_strdup_printf("exited with status %d", status);
}

void bh_sandbox_cleanup(BhSandboxQube *q)
{
    if (q->timer) {
        g_source_remove(q->timer);
        q->timer = 0;
    }
    if (q->console_timer) {
        g_source_remove(q->console_timer);
        q->console_timer = 0;
    }
    g_cancellable_cancel(q->cancellable);
    g_clear_pointer(&q->cgroup, bh_sandbox_cgroup_free);
    /* Its links went with its namespace. */
    if (q->sb && q->provides_network)
        bh_net_netvm_gone(q->sb, q);
    g_clear_pointer(&q->linked_to, g_free);
    /* The uplink goes with its netvm (its namespace is gone anyway). */
    if (q->uplink_proc) {
        g_subprocess_force_exit(q->uplink_proc);
        g_clear_object(&q->uplink_proc);
    }
    if (q->uplink_pidfd >= 0) {
        bh_pidfd_signal(q->uplink_pidfd, SIGKILL);
        close(q->uplink_pidfd);
        q->uplink_pidfd = -1;
    }
    /* Nothing a qube wrote into its vchan directory (sockets, files, whole
     * trees, links to host paths) may greet its next run or outlive a
     * disposable: swept without following anything. */
    if (q->vchan_dir)
        bh_sandbox_vchan_release(q->name, q->vchan_dir);
    if (q->stage_dir)
        rmdir(q->stage_dir);
    if (q->record) {
        bh_sandbox_record_remove(q->record_dir, q->name);
        g_clear_pointer(&q->record, bh_sandbox_record_free);
    }
    if (q->exit_watch) {
        g_source_remove(q->exit_watch);
        q->exit_watch = 0;
    }
    bh_sandbox_release_volumes(q);
    /* An adopted qube leaves its daemon's directories: the last one out
     * removes them (rmdir fails while others are there). */
    if (q->adopted && q->stage_dir) {
        g_autofree char *parent = g_path_get_dirname(q->stage_dir);
        rmdir(parent);
    }
}

static void bh_sandbox_exited(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSandboxQube) q = data;
    gboolean clean = FALSE;
    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    g_autofree char *reason = bh_sandbox_exit_reason(q->proc, &clean);
    g_autofree char *log = bh_qube_last_log(q);
    BhPowerState state;

    if (q->start_task) {
        bh_sandbox_start_fail(q, g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                             "%s did not start: %s%s%s", q->name, reason, *log ? ": " : "",
                                             log));
        state = BH_POWER_HALTED;
    } else if (q->stop_requested || clean) {
        state = BH_POWER_HALTED;
    } else {
        state = BH_POWER_CRASHED;
    }
    /* Shutdown and Kill looked already; a qube that stopped by itself (or
     * crashed) is looked at now, through what bh_sandbox_hold_volumes kept. */
    if (!q->stop_requested && q->state != BH_POWER_DYING)
        bh_sandbox_report_full_volumes(q);
    if (q->sb)
        g_hash_table_remove(q->sb->qubes, q->name);
    bh_sandbox_cleanup(q);
    if (state == BH_POWER_CRASHED)
        g_message("[%s] crashed: %s", q->name, reason);
    /* A clean or requested stop needs no reason; a crash or failed start does. */
    gboolean explain = state == BH_POWER_CRASHED || (!q->stop_requested && !clean);
    bh_sandbox_finish_exit(q, state, explain ? reason : NULL);
}

void bh_sandbox_finish_exit(BhSandboxQube *q, BhPowerState state, const char *reason)
{
    /* Its error before its state: the daemon tells why (StartFailed) before
     * the qube shows as down. */
    bh_sandbox_answer_failed_start(q);
    bh_sandbox_set_state(q, state, reason);
    g_autoptr(GPtrArray) tasks = g_steal_pointer(&q->shutdown_tasks);
    q->shutdown_tasks = g_ptr_array_new();
    for (guint i = 0; tasks && i < tasks->len; i++) {
        GTask *task = tasks->pdata[i];
        g_task_return_boolean(task, TRUE);
        g_object_unref(task);
    }
}

static gboolean bh_sandbox_prepare_vchan(BhSandboxQube *q, GError **error)
{
    char dir[4096];
    if (bh_vchan_socket_guest_dir((int)q->qid, dir, sizeof dir) < 0) {
        int e = errno;
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "cannot prepare the vchan directory of %s (domain %u): %s; set XDG_RUNTIME_DIR or "
                    "BH_VCHAN_DIR to a directory of this user",
                    q->name, q->qid, g_strerror(e));
        return FALSE;
    }
    q->vchan_dir = g_strdup(dir);
    /* Normally swept when the qube last stopped; what a daemon that died
     * left there (or an earlier qube of this qid) must not greet this one.
     * Only the qube's own agents serve there, so nothing of dom0's is lost. */
    g_autoptr(GError) local = NULL;
    if (!bh_sandbox_vchan_prepare(dir, &local)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "cannot empty the vchan directory %s of %s: %s; remove what is in it", dir, q->name,
                    local->message);
        return FALSE;
    }
    return TRUE;
}

static GSubprocess *bh_sandbox_spawn(BhSandbox *sb, BhSandboxQube *q, const BhBackendQube *qube,
                                     GError **error)
{
    g_autofree char *qube_dir = bh_sandbox_qube_dir(sb, q->name);
    g_autofree char *root_owner =
        qube->root_template ? bh_sandbox_qube_dir(sb, qube->root_template) : g_strdup(qube_dir);
    g_autofree char *root_dir = g_build_filename(root_owner, "root", NULL);
    g_autoptr(GPtrArray) root_links = bh_sandbox_root_links(bh_sandbox_base_root(qube));
    int info[2] = {-1, -1}, block[2] = {-1, -1}, ready[2] = {-1, -1}, console[2] = {-1, -1};
    int idmap = -1, filter = -1, private_vol = -1, root_vol = -1;
    GSubprocess *proc = NULL;
    g_autoptr(GArray) cg_fds = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;

    /* Qubes the store made without us (the first-run set) get their
     * template's layers on first use, as their own volumes. */
    if (!g_file_test(root_dir, G_FILE_TEST_IS_DIR) && !bh_sandbox_runs_on_root_volume(sb, root_owner) &&
        !bh_sandbox_volumes_create(root_owner, TRUE, NULL, bh_sandbox_base_root(qube), error)) {
        g_prefix_error(error, "cannot create the root layers of %s for %s: ",
                       qube->root_template ? qube->root_template : q->name, q->name);
        return NULL;
    }
    q->stage_dir = g_build_filename(sb->stage_base, q->name, NULL);
    if (mkdir(q->stage_dir, 0700) < 0 && errno != EEXIST) {
        bh_error_errno(error, errno, "cannot create %s", q->stage_dir);
        return NULL;
    }

    /* On the host's /usr, the host's font cache describes the qube's fonts.
     * Without it the first font lookup of each program in a qube without a
     * cache of its own (bulkhead-applist's SVG icons at every start, a
     * disposable's terminal) scans every font with FreeType: about 150 ms of
     * CPU each, 61 % of all CPU while 20 qubes start (bench/RESULTS.md,
     * "Start at scale"). fontconfig checks each cache file against its font
     * directory's mtime, so a stale one is only ignored. */
    const char *base_root = bh_sandbox_base_root(qube);
    const char *font_cache =
        g_str_equal(base_root, "/") && g_file_test(BH_SANDBOX_FONT_CACHE, G_FILE_TEST_IS_DIR)
            ? BH_SANDBOX_FONT_CACHE
            : NULL;
    BhSandboxPlan plan = {
        .font_cache = font_cache,
        .name = q->name,
        .qid = q->qid,
        .privileged = sb->privileged,
        .host_uid = q->uid,
        .host_gid = q->gid,
        .qube_dir = qube_dir,
        .root_dir = root_dir,
        .own_root = bh_sandbox_own_root(qube),
        .root_readonly = qube->root_readonly,
        .base_root = base_root,
        .stage_dir = q->stage_dir,
        .vchan_dir = q->vchan_dir,
        .bin_dir = sb->bin_dir,
        .services_dir = sb->services_dir,
        .share_dir = sb->share_dir,
        .root_links = root_links,
        .disposable = q->disposable,
        .seccomp = TRUE,
        .private_image = sb->private_images,
        .root_image = bh_sandbox_runs_on_root_volume(sb, root_owner),
        .bwrap = sb->bwrap,
        .resolv_conf = sb->guest_resolv_conf,
        .services = qube->services,
    };
    g_autoptr(BhSandboxSetup) setup = bh_sandbox_layout_setup(&plan);
    g_autoptr(GPtrArray) argv = bh_sandbox_layout_bwrap_argv(&plan);
    g_ptr_array_add(argv, NULL);
    if (sb->verbose) {
        g_autofree char *steps = bh_sandbox_setup_describe(setup);
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata);
        g_debug("[%s] set-up:\n%s%s", q->name, steps, cmd);
    }

    if (pipe2(info, O_CLOEXEC) < 0 || pipe2(block, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 ||
        pipe2(console, O_CLOEXEC) < 0) {
        bh_error_errno(error, errno, "cannot make pipes");
        goto out;
    }
    if (sb->privileged && (idmap = bh_sandbox_idmap_userns(q->uid, q->gid, error)) < 0)
        goto out;
    /* What the qube writes into its vchan directory costs dom0 a bounded
     * tmpfs, not the runtime directory's filesystem (sandbox-vchan.h). */
    if (sb->privileged && !sb->vchan_unbounded) {
        gboolean unsupported = FALSE;
        if (!bh_sandbox_vchan_bound(q->vchan_dir, idmap, &unsupported, error) && !unsupported)
            goto out;
        if (unsupported) {
            sb->vchan_unbounded = TRUE;
            g_message("this kernel cannot idmap a tmpfs (Linux 6.3 can): qubes' vchan directories stay on "
                      "the filesystem of %s, without a bound of their own",
                      q->vchan_dir);
        }
    }
    if ((filter = bh_sandbox_seccomp_memfd(sb->seccomp, error)) < 0)
        goto out;
    if (plan.private_image &&
        (private_vol = bh_sandbox_private_attach(qube_dir, q->name, bh_sandbox_private_mib(qube), error)) < 0)
        goto out;
    if (plan.root_image &&
        (root_vol = bh_sandbox_root_attach(root_owner, q->name, plan.own_root ? bh_sandbox_root_mib(qube) : 0,
                                           error)) < 0)
        goto out;
    if (q->cgroup && (cg_fds = bh_sandbox_cgroup_procs_fds(q->cgroup, error)) == NULL)
        goto out;

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_environ(launcher, (char *[]){"PATH=/usr/bin:/bin", NULL});
    /* The console (stdout and stderr); the init keeps a spare read end
     * (bubblewrap hands it on) so that the qube's writers never meet EPIPE
     * when we die, and our successor can take the pipe back (sandbox-adopt.h). */
    g_subprocess_launcher_take_stderr_fd(launcher, fcntl(console[1], F_DUPFD_CLOEXEC, 3));
    g_subprocess_launcher_take_stdout_fd(launcher, g_steal_fd(&console[1]));
    g_subprocess_launcher_take_fd(launcher, fcntl(console[0], F_DUPFD_CLOEXEC, 3), BH_SANDBOX_FD_CONSOLE);
    g_subprocess_launcher_take_fd(launcher, g_steal_fd(&info[1]), BH_SANDBOX_FD_INFO);
    g_subprocess_launcher_take_fd(launcher, g_steal_fd(&block[0]), BH_SANDBOX_FD_BLOCK);
    g_subprocess_launcher_take_fd(launcher, g_steal_fd(&ready[1]), BH_SANDBOX_FD_READY);
    if (idmap >= 0)
        g_subprocess_launcher_take_fd(launcher, g_steal_fd(&idmap), BH_SANDBOX_FD_IDMAP);
    g_subprocess_launcher_take_fd(launcher, g_steal_fd(&filter), BH_SANDBOX_FD_SECCOMP);
    if (private_vol >= 0) {
        struct stat st;
        if (fstat(private_vol, &st) == 0)
            q->private_dev = st.st_rdev;
        g_subprocess_launcher_take_fd(launcher, g_steal_fd(&private_vol), BH_SANDBOX_FD_PRIVATE);
    }
    if (root_vol >= 0) {
        q->root_volume = plan.own_root;
        g_subprocess_launcher_take_fd(launcher, g_steal_fd(&root_vol), BH_SANDBOX_FD_ROOT);
    }
    for (guint i = 0; cg_fds && i < cg_fds->len; i++) {
        g_subprocess_launcher_take_fd(launcher, g_array_index(cg_fds, int, i), BH_SANDBOX_FD_CGROUP + (int)i);
        bh_sandbox_setup_add_cgroup_fd(setup, BH_SANDBOX_FD_CGROUP + (int)i);
    }
    g_clear_pointer(&cg_fds, g_array_unref);
    g_subprocess_launcher_set_child_setup(launcher, bh_sandbox_setup_child, setup, NULL);
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
    if (proc == NULL)
        goto out;

    q->info = g_unix_input_stream_new(g_steal_fd(&info[0]), TRUE);
    q->block = g_unix_output_stream_new(g_steal_fd(&block[1]), TRUE);
    q->ready = g_unix_input_stream_new(g_steal_fd(&ready[0]), TRUE);
    struct stat st;
    q->console_ino = fstat(console[0], &st) == 0 ? (guint64)st.st_ino : 0;
    q->output = g_unix_input_stream_new(g_steal_fd(&console[0]), TRUE);
out:
    for (int i = 0; i < 2; i++) {
        if (info[i] >= 0)
            close(info[i]);
        if (block[i] >= 0)
            close(block[i]);
        if (ready[i] >= 0)
            close(ready[i]);
        if (console[i] >= 0)
            close(console[i]);
    }
    if (idmap >= 0)
        close(idmap);
    if (filter >= 0)
        close(filter);
    if (private_vol >= 0)
        close(private_vol);
    if (root_vol >= 0)
        close(root_vol);
    for (guint i = 0; cg_fds && i < cg_fds->len; i++)
        close(g_array_index(cg_fds, int, i));
    return proc;
}

void bh_sandbox_start(BhBackend *backend, const BhBackendQube *qube, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
    BhSandbox *sb = (BhSandbox *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GError) error = NULL;
    g_task_set_source_tag(task, bh_sandbox_start);

    if (!bh_sandbox_valid_name(qube->name, &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (bh_sandbox_lookup(sb, qube->name)) {
        g_task_return_new_error(task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE, "%s is already running",
                                qube->name);
        return;
    }
    if (g_hash_table_contains(sb->copying, qube->name)) {
        g_task_return_new_error(
            task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
            "%s cannot start while its volumes are copied from or to it (a disposable's home, a clone); "
            "start it again in a moment",
            qube->name);
        return;
    }
    if (qube->qid == 0 || qube->qid > 0x7fef) {
        g_task_return_new_error(task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                "%s has qid %u, which cannot be a vchan domain id", qube->name, qube->qid);
        return;
    }
    if (bh_sandbox_start_copy(sb, qube, task))
        return;
    bh_sandbox_start_now(sb, qube, g_steal_pointer(&task));
}

void bh_sandbox_start_now(BhSandbox *sb, const BhBackendQube *qube, GTask *start_task)
{
    BhBackend *backend = &sb->parent;
    g_autoptr(GTask) task = start_task;
    g_autoptr(GError) error = NULL;
    g_autoptr(BhSandboxQube) q = g_new0(BhSandboxQube, 1);
    q->refs = 1;
    q->sb = sb;
    q->name = g_strdup(qube->name);
    q->qid = qube->qid;
    q->uid = bh_sandbox_host_uid(sb, qube->qid);
    q->gid = bh_sandbox_host_gid(sb, qube->qid);
    q->netvm = g_strdup(qube->netvm);
    q->provides_network = qube->provides_network;
    q->uplink = qube->uplink;
    q->uplink_host_loopback = qube->uplink_host_loopback;
    q->ipv6 = qube->ipv6;
    q->firewall = g_strdup(qube->firewall);
    q->root_template = g_strdup(qube->root_template);
    q->disposable = qube->disposable;
    q->state = BH_POWER_HALTED;
    q->bwrap_pidfd = q->init_pidfd = q->uplink_pidfd = -1;
    q->home_fd = q->etc_fd = -1;
    q->cancellable = g_cancellable_new();
    q->info_text = g_string_new(NULL);
    q->shutdown_tasks = g_ptr_array_new();

    guint mem = MAX(qube->memory_mib, qube->maxmem_mib);
    BhCgroupLimits limits = {
        .memory_max = (guint64)mem << 20,
        .memory_soft = (guint64)qube->memory_mib << 20,
        .pids_max = CLAMP((guint64)qube->memory_mib * 4, 256, 65536),
    };
    if (!bh_sandbox_create_volumes_now(backend, qube, &error) || !bh_sandbox_prepare_vchan(q, &error) ||
        (q->cgroup = bh_sandbox_cgroup_new(sb->cgroups, q->name, &limits, &error)) == NULL ||
        (q->proc = bh_sandbox_spawn(sb, q, qube, &error)) == NULL) {
        bh_sandbox_cleanup(q);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    q->start_task = g_steal_pointer(&task);
    g_hash_table_insert(sb->qubes, q->name, bh_qube_ref(q));
    bh_sandbox_set_state(q, BH_POWER_TRANSIENT, NULL);

    q->console = bh_console_new(bh_sandbox_console_line, q);
    g_input_stream_read_bytes_async(q->output, 4096, G_PRIORITY_DEFAULT, q->cancellable, bh_sandbox_log_read,
                                    bh_qube_ref(q));
    g_input_stream_read_bytes_async(q->info, 1024, G_PRIORITY_DEFAULT, q->cancellable, bh_sandbox_info_read,
                                    bh_qube_ref(q));
    g_subprocess_wait_async(q->proc, NULL, bh_sandbox_exited, bh_qube_ref(q));
    q->timer = g_timeout_add_seconds(BH_SANDBOX_START_TIMEOUT_S, bh_sandbox_start_timeout, q);
}

gboolean bh_sandbox_start_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}
