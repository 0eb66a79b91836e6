/* sandbox-power.c — pause, unpause, shutdown and kill of a running qube;
 * see sandbox-qube.h.
 *
 * Owns the backend's power operations after the start: the freezer (or, with
 * none, SIGSTOP/SIGCONT to the qube's pid namespace), the polite shutdown with
 * its timeout, and the kill. Each only signals; the exit itself is seen and
 * reported by sandbox-start.c. It must never signal a process outside the
 * qube's own namespace or cgroup.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <signal.h>
#include <sys/stat.h>

/* ---- pause ----------------------------------------------------------------------- */

/* Without a cgroup freezer: stop every process of the qube's pid namespace,
 * found by comparing namespace inodes. Repeated until a pass finds nothing
 * new, since a process may fork while we walk. The qube's own processes can
 * send SIGCONT to each other, so this pause is advisory (docs/sandbox.md). */
static void bh_sandbox_signal_all(BhSandboxQube *q, int sig)
{
    g_autofree char *ns_path = g_strdup_printf("/proc/%d/ns/pid", (int)q->init_pid);
    struct stat ns;
    if (q->init_pid <= 0 || stat(ns_path, &ns) < 0)
        return;
    g_autoptr(GHashTable) done = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int pass = 0; pass < 10; pass++) {
        gboolean more = FALSE;
        g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
        const char *name;
        while (proc && (name = g_dir_read_name(proc))) {
            guint64 pid;
            struct stat st;
            if (!g_ascii_string_to_unsigned(name, 10, 1, G_MAXINT, &pid, NULL) ||
                g_hash_table_contains(done, GINT_TO_POINTER((int)pid)))
                continue;
            g_autofree char *path = g_strdup_printf("/proc/%s/ns/pid", name);
            if (stat(path, &st) < 0 || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
                continue;
            kill((pid_t)pid, sig);
            g_hash_table_add(done, GINT_TO_POINTER((int)pid));
            more = TRUE;
        }
        if (!more)
            break;
    }
}

static gboolean bh_sandbox_freeze(BhSandboxQube *q, gboolean frozen, GError **error)
{
    g_autoptr(GError) local = NULL;
    if (q->cgroup && bh_sandbox_cgroup_freeze(q->cgroup, frozen, &local))
        return TRUE;
    if (local && !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "cannot %s %s: %s",
                    frozen ? "pause" : "resume", q->name, local->message);
        return FALSE;
    }
    bh_sandbox_signal_all(q, frozen ? SIGSTOP : SIGCONT);
    q->signal_paused = frozen;
    return TRUE;
}

gboolean bh_sandbox_pause(BhBackend *backend, const char *name, GError **error)
{
    BhSandboxQube *q = bh_sandbox_require((BhSandbox *)backend, name, BH_POWER_RUNNING, "pause", error);
    if (q == NULL || !bh_sandbox_freeze(q, TRUE, error))
        return FALSE;
    bh_sandbox_set_state(q, BH_POWER_PAUSED, NULL);
    return TRUE;
}

gboolean bh_sandbox_unpause(BhBackend *backend, const char *name, GError **error)
{
    BhSandboxQube *q = bh_sandbox_require((BhSandbox *)backend, name, BH_POWER_PAUSED, "resume", error);
    if (q == NULL || !bh_sandbox_freeze(q, FALSE, error))
        return FALSE;
    bh_sandbox_set_state(q, BH_POWER_RUNNING, NULL);
    return TRUE;
}

/* ---- stopping ----------------------------------------------------------------------- */

static gboolean bh_sandbox_shutdown_timeout(gpointer data)
{
    BhSandboxQube *q = data;
    q->timer = 0;
    g_message("[%s] did not shut down in time; killing it", q->name);
    bh_sandbox_force_stop(q);
    return G_SOURCE_REMOVE;
}

void bh_sandbox_shutdown(BhBackend *backend, const char *name, guint timeout_s, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    BhSandbox *sb = (BhSandbox *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, bh_sandbox_shutdown);
    BhSandboxQube *q = bh_sandbox_lookup(sb, name);

    if (q == NULL) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    g_ptr_array_add(q->shutdown_tasks, g_steal_pointer(&task));
    if (q->stop_requested)
        return;
    if (q->state == BH_POWER_PAUSED) {
        g_autoptr(GError) error = NULL;
        if (!bh_sandbox_freeze(q, FALSE, &error))
            g_message("[%s] %s; killing it instead", name, error->message);
    }
    q->stop_requested = TRUE;
    bh_sandbox_report_full_volumes(q);
    if (q->start_task) {
        bh_sandbox_start_fail(q, g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                             "%s was shut down while starting", name));
    }
    bh_sandbox_set_state(q, BH_POWER_HALTING, NULL);
    if (q->timer)
        g_source_remove(q->timer);
    if (q->init_pid > 0 && q->block == NULL) {
        bh_sandbox_signal_init(q, SIGTERM);
        q->timer = g_timeout_add((guint)MIN(MAX(timeout_s, 1), 3600) * 1000, bh_sandbox_shutdown_timeout, q);
    } else {
        /* Not yet running anything of its own: nothing to ask. */
        q->timer = 0;
        bh_sandbox_force_stop(q);
    }
}

gboolean bh_sandbox_shutdown_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean bh_sandbox_kill(BhBackend *backend, const char *name, GError **error)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, name);
    if (q == NULL && bh_sandbox_kill_copying((BhSandbox *)backend, name))
        return TRUE;
    if (q == NULL) {
        bh_backend_notify_state(backend, name, BH_POWER_HALTED, NULL);
        return TRUE;
    }
    if (q->start_task)
        bh_sandbox_start_fail(
            q, g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "%s was killed while starting", name));
    bh_sandbox_set_state(q, BH_POWER_DYING, NULL);
    bh_sandbox_report_full_volumes(q);
    bh_sandbox_force_stop(q);
    return TRUE;
}

BhPowerState bh_sandbox_get_state(BhBackend *backend, const char *name)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, name);
    return q ? q->state : BH_POWER_HALTED;
}

/* From the qube's cgroup: read-only files of the kernel's, nothing of the
 * qube's own (its processes can rename themselves, not change these). */
gboolean bh_sandbox_get_stats(BhBackend *backend, const char *name, BhBackendStats *out, GError **error)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, name);
    if (q == NULL || (q->state != BH_POWER_RUNNING && q->state != BH_POWER_PAUSED)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE, "qube %s is not running", name);
        return FALSE;
    }
    if (q->cgroup == NULL) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_NOT_SUPPORTED,
                    "qube %s runs without a control group: no memory or CPU figures", name);
        return FALSE;
    }
    out->memory_bytes = bh_sandbox_cgroup_memory(q->cgroup);
    out->cpu_usec = bh_sandbox_cgroup_cpu_usec(q->cgroup);
    return TRUE;
}
