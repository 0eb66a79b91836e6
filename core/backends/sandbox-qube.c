/* sandbox-qube.c — the record of one qube in the sandbox backend; see
 * sandbox-qube.h.
 *
 * Owns a BhSandboxQube's life (references, state changes reported to the
 * daemon, the console lines kept for messages), the lookup of a running qube
 * by name and the paths and host ids the other parts derive from a qube. It
 * is the bottom of the backend: it calls no other part of it, and must never
 * start, stop or signal anything beyond the one init it is asked to.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <signal.h>
#include <unistd.h>

#include "sandbox-layout.h"

/* ---- qube records ------------------------------------------------------------ */

BhSandboxQube *bh_qube_ref(BhSandboxQube *q)
{
    q->refs++;
    return q;
}

/* The failed start's answer, once its qube is gone. */
void bh_sandbox_answer_failed_start(BhSandboxQube *q)
{
    GTask *task = g_steal_pointer(&q->failed_start);
    if (task == NULL)
        return;
    g_task_return_error(task, g_steal_pointer(&q->start_error));
    g_object_unref(task);
}

void bh_qube_unref(BhSandboxQube *q)
{
    if (--q->refs > 0)
        return;
    bh_sandbox_answer_failed_start(q); /* never left unanswered */
    g_free(q->name);
    g_free(q->netvm);
    g_free(q->linked_to);
    g_free(q->firewall);
    g_free(q->root_template);
    g_free(q->vchan_dir);
    g_free(q->stage_dir);
    g_clear_object(&q->proc);
    g_clear_object(&q->uplink_proc);
    g_clear_object(&q->block);
    g_clear_object(&q->ready);
    g_clear_object(&q->info);
    if (q->info_text)
        g_string_free(q->info_text, TRUE);
    g_clear_object(&q->cancellable);
    if (q->bwrap_pidfd >= 0)
        close(q->bwrap_pidfd);
    if (q->uplink_pidfd > 0)
        close(q->uplink_pidfd);
    if (q->init_pidfd >= 0)
        close(q->init_pidfd);
    bh_sandbox_release_volumes(q);
    bh_sandbox_record_free(q->record);
    g_free(q->record_dir);
    if (q->shutdown_tasks)
        g_ptr_array_unref(q->shutdown_tasks);
    g_queue_clear_full(&q->log, g_free);
    g_clear_pointer(&q->console, bh_console_free);
    g_clear_object(&q->output);
    g_free(q);
}

BhSandboxQube *bh_sandbox_lookup(BhSandbox *sb, const char *name)
{
    return g_hash_table_lookup(sb->qubes, name);
}

void bh_sandbox_set_state(BhSandboxQube *q, BhPowerState state, const char *reason)
{
    if (q->state == state)
        return;
    q->state = state;
    if (q->sb)
        bh_backend_notify_state(&q->sb->parent, q->name, state, reason);
}

/* An adopted init is not our grandchild: signal it by pidfd, so a pid the
 * kernel gave to someone else after it ended is never hit. */
void bh_sandbox_signal_init(BhSandboxQube *q, int sig)
{
    if (q->init_pidfd >= 0)
        bh_pidfd_signal(q->init_pidfd, sig);
    else if (q->init_pid > 0)
        kill(q->init_pid, sig);
}

char *bh_qube_last_log(BhSandboxQube *q)
{
    GString *s = g_string_new(NULL);
    for (GList *l = q->log.head; l; l = l->next)
        g_string_append_printf(s, "%s%s", s->len ? "; " : "", (char *)l->data);
    return g_string_free(s, FALSE);
}

/* ---- paths and identity ------------------------------------------------------- */

gboolean bh_sandbox_valid_name(const char *name, GError **error)
{
    /* The model guarantees this; paths and cgroups depend on it, so check. */
    gboolean ok = bh_sandbox_name_ok(name);
    if (!ok)
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "'%s' is not a qube name",
                    name ? name : "");
    return ok;
}

char *bh_sandbox_qube_dir(BhSandbox *sb, const char *name)
{
    return g_build_filename(sb->parent.state_dir, "qubes", name, NULL);
}

uid_t bh_sandbox_host_uid(BhSandbox *sb, guint32 qid)
{
    return sb->privileged ? BH_SANDBOX_UID_BASE + qid : getuid();
}

gid_t bh_sandbox_host_gid(BhSandbox *sb, guint32 qid)
{
    return sb->privileged ? BH_SANDBOX_UID_BASE + qid : getgid();
}

gboolean bh_sandbox_own_root(const BhBackendQube *qube)
{
    return qube->root_template == NULL;
}

/* The tree below a qube's root layers: its root_path, or the host's "/"
 * (of which only /usr is used) when none is set. */
const char *bh_sandbox_base_root(const BhBackendQube *qube)
{
    return qube->root_path && *qube->root_path ? qube->root_path : "/";
}

/* A root_path tree must be a directory with /usr, whose /bin, /lib... are
 * links into it (merged /usr): only /usr, /etc, /var and /opt are taken. */
gboolean bh_sandbox_check_base(const char *base, GError **error)
{
    g_autofree char *usr = g_build_filename(base, "usr", NULL);
    g_autofree char *bin = g_build_filename(base, "bin", NULL);
    if (base[0] != '/' || !g_file_test(usr, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "root_path %s is not a root filesystem tree (it has no usr directory)", base);
        return FALSE;
    }
    if (g_file_test(bin, G_FILE_TEST_IS_DIR) && !g_file_test(bin, G_FILE_TEST_IS_SYMLINK)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "root_path %s has a real /bin directory; the sandbox backend needs a merged-/usr tree "
                    "(/bin, /lib, /sbin as links into usr/)",
                    base);
        return FALSE;
    }
    return TRUE;
}

BhSandboxQube *bh_sandbox_require(BhSandbox *sb, const char *name, BhPowerState want, const char *what,
                                  GError **error)
{
    BhSandboxQube *q = bh_sandbox_lookup(sb, name);
    if (q == NULL || q->state != want) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE, "cannot %s %s: it is %s", what,
                    name, bh_power_state_name(q ? q->state : BH_POWER_HALTED));
        return NULL;
    }
    return q;
}
