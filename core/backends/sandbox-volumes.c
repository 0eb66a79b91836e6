/* sandbox-volumes.c — a qube's volumes and the idmap of its layers; see
 * sandbox-qube.h.
 *
 * Owns the backend's create/clone/remove_volumes operations (the work itself
 * is sandbox-layout.c's and sandbox-private.c's) and the user namespace that
 * describes a privileged qube's idmapped layers. It must never remove a
 * running qube's volumes, nor copy a running template's private volume
 * unfrozen.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "sandbox-fsops.h"
#include "sandbox-layout.h"
#include "sandbox-private.h"
#include "volume-leftovers.h"

/* ---- volumes ------------------------------------------------------------------ */

guint bh_sandbox_private_mib(const BhBackendQube *qube)
{
    return qube->private_mib ? qube->private_mib : BH_SANDBOX_PRIVATE_MIB;
}

guint bh_sandbox_root_mib(const BhBackendQube *qube)
{
    return qube->root_mib ? qube->root_mib : BH_SANDBOX_ROOT_MIB;
}

gboolean bh_sandbox_root_volume(BhSandbox *sb, const BhBackendQube *qube)
{
    if (!sb->private_images || !bh_sandbox_own_root(qube) || !bh_sandbox_valid_name(qube->name, NULL))
        return FALSE;
    if (sb->root_images && g_strcmp0(qube->klass, "StandaloneVM") == 0)
        return TRUE;
    if (sb->template_root_images && g_strcmp0(qube->klass, "TemplateVM") == 0)
        return TRUE;
    /* Made once, it is the only copy of the layers: always used. */
    g_autofree char *dir = bh_sandbox_qube_dir(sb, qube->name);
    return bh_sandbox_runs_on_root_volume(sb, dir);
}

gboolean bh_sandbox_runs_on_root_volume(BhSandbox *sb, const char *root_owner_dir)
{
    g_autofree char *image = g_build_filename(root_owner_dir, BH_SANDBOX_ROOT_IMAGE, NULL);
    return sb->private_images && g_file_test(image, G_FILE_TEST_EXISTS);
}

/* A running qube that may run on name's layers as they are now: its AppVMs
 * and disposables, and any qube taken over from an earlier daemon (what it
 * runs on is not recorded). */
static const char *bh_root_user(BhSandbox *sb, const char *name)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, sb->qubes);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        BhSandboxQube *q = value;
        if (!g_str_equal(q->name, name) && (q->adopted || g_strcmp0(q->root_template, name) == 0))
            return q->name;
    }
    return NULL;
}

gboolean bh_sandbox_private_copy_due(BhSandbox *sb, const BhBackendQube *qube, char **source, char **image)
{
    if (!sb->private_images || !qube->disposable || qube->template_name == NULL ||
        !bh_sandbox_valid_name(qube->name, NULL) || !bh_sandbox_valid_name(qube->template_name, NULL))
        return FALSE;
    g_autofree char *dir = bh_sandbox_qube_dir(sb, qube->name);
    g_autofree char *src_dir = bh_sandbox_qube_dir(sb, qube->template_name);
    g_autofree char *dst = g_build_filename(dir, BH_SANDBOX_PRIVATE_IMAGE, NULL);
    g_autofree char *src = g_build_filename(src_dir, BH_SANDBOX_PRIVATE_IMAGE, NULL);
    if (g_file_test(dst, G_FILE_TEST_EXISTS) || !g_file_test(src, G_FILE_TEST_EXISTS))
        return FALSE;
    *source = g_steal_pointer(&src);
    *image = g_steal_pointer(&dst);
    return TRUE;
}

gboolean bh_sandbox_freeze_template(BhSandbox *sb, const char *template_name, int *frozen, GError **error)
{
    BhSandboxQube *running = bh_sandbox_lookup(sb, template_name);
    *frozen = -1;
    if (running == NULL || !running->private_dev || running->init_pid <= 0)
        return TRUE;
    *frozen = bh_sandbox_private_freeze(running->name, running->init_pid, running->private_dev, error);
    if (*frozen < 0)
        return FALSE;
    g_debug("[%s] private volume frozen for a copy", running->name);
    return TRUE;
}

static gboolean bh_sandbox_volumes_for(BhBackend *backend, const BhBackendQube *qube, gboolean defer_copy,
                                       GError **error)
{
    BhSandbox *sb = (BhSandbox *)backend;
    if (!bh_sandbox_valid_name(qube->name, error))
        return FALSE;
    g_autofree char *dir = bh_sandbox_qube_dir(sb, qube->name);
    g_autofree char *source =
        qube->disposable && qube->template_name ? bh_sandbox_qube_dir(sb, qube->template_name) : NULL;
    if (!bh_sandbox_check_base(bh_sandbox_base_root(qube), error) ||
        !bh_sandbox_volumes_create(dir, bh_sandbox_own_root(qube), source, bh_sandbox_base_root(qube),
                                   error)) {
        g_prefix_error(error, "cannot create the volumes of %s: ", qube->name);
        return FALSE;
    }
    /* A sized home needs loop devices, which only root may attach; a daemon
     * without root keeps homes as directories (docs/sandbox.md). */
    if (!sb->private_images)
        return TRUE;
    /* A disposable's copy of its template's volume takes as long as what the
     * template stored: the start makes it in a worker thread, so that no
     * template stops bulkheadd's main loop (sandbox-start.c). */
    g_autofree char *copy_from = NULL, *copy_to = NULL;
    if (bh_sandbox_private_copy_due(sb, qube, &copy_from, &copy_to) && defer_copy)
        return TRUE;
    /* Here and now, then: of a running template, frozen, so the copy is
     * consistent. */
    int frozen = -1;
    if (copy_from && !bh_sandbox_freeze_template(sb, qube->template_name, &frozen, error)) {
        g_prefix_error(error, "cannot create the private volume of %s: ", qube->name);
        return FALSE;
    }
    gboolean ok = bh_sandbox_private_prepare(dir, source, bh_sandbox_private_mib(qube), error);
    if (frozen >= 0)
        bh_sandbox_private_thaw(qube->template_name, frozen);
    if (!ok)
        g_prefix_error(error, "cannot create the private volume of %s: ", qube->name);
    return ok;
}

gboolean bh_sandbox_set_aside_leftover(BhSandbox *sb, const char *name, GError **error)
{
    if (!bh_sandbox_valid_name(name, error))
        return FALSE;
    g_autofree char *dir = bh_sandbox_qube_dir(sb, name);
    g_autofree char *moved_to = NULL;
    if (!bh_volume_set_aside(dir, &moved_to, error)) {
        g_prefix_error(error, "cannot create the volumes of %s: ", name);
        return FALSE;
    }
    return TRUE;
}

/* The backend's create_volumes: only ever for a qube the store has just
 * added (a start makes what is missing with create_volumes_now). */
gboolean bh_sandbox_create_volumes(BhBackend *backend, const BhBackendQube *qube, GError **error)
{
    BhSandbox *sb = (BhSandbox *)backend;
    if (bh_sandbox_lookup(sb, qube->name) || g_hash_table_contains(sb->copying, qube->name)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                    "cannot create the volumes of %s: a qube of this name still runs or is copied",
                    qube->name);
        return FALSE;
    }
    if (!bh_sandbox_set_aside_leftover(sb, qube->name, error))
        return FALSE;
    if (bh_sandbox_volumes_for(backend, qube, TRUE, error))
        return TRUE;
    /* After the set-aside, all that is in the qube's place is this
     * create's: it goes, and nothing that was there before does. */
    g_autofree char *dir = bh_sandbox_qube_dir(sb, qube->name);
    g_autoptr(GError) undo = NULL;
    if (!bh_sandbox_volumes_remove(dir, &undo))
        g_message("[%s] what a failed create left stays: %s", qube->name, undo->message);
    return FALSE;
}

gboolean bh_sandbox_root_move_due(BhSandbox *sb, const BhBackendQube *qube, char **qube_dir)
{
    if (!bh_sandbox_root_volume(sb, qube))
        return FALSE;
    g_autofree char *dir = bh_sandbox_qube_dir(sb, qube->name);
    g_autofree char *root = g_build_filename(dir, "root", NULL);
    if (bh_sandbox_runs_on_root_volume(sb, dir) || !g_file_test(root, G_FILE_TEST_IS_DIR) ||
        bh_root_user(sb, qube->name) != NULL)
        return FALSE;
    *qube_dir = g_steal_pointer(&dir);
    return TRUE;
}

gboolean bh_sandbox_create_volumes_now(BhBackend *backend, const BhBackendQube *qube, GError **error)
{
    BhSandbox *sb = (BhSandbox *)backend;
    if (!bh_sandbox_volumes_for(backend, qube, FALSE, error))
        return FALSE;
    /* At the start, not at creation: the size is the one the start asks
     * for, and a qube of an older version moves its layers in here. */
    if (!bh_sandbox_root_volume(sb, qube))
        return TRUE;
    g_autofree char *dir = bh_sandbox_qube_dir(sb, qube->name);
    /* A template's layers cannot move while an AppVM runs on them (its
     * overlays hold the directories): they move at a start when none does. */
    const char *user = bh_sandbox_runs_on_root_volume(sb, dir) ? NULL : bh_root_user(sb, qube->name);
    if (user != NULL) {
        g_message("[%s] its root layers stay directories while %s runs on them; they move into a volume at a "
                  "start when none does",
                  qube->name, user);
        return TRUE;
    }
    if (!bh_sandbox_root_prepare(dir, qube->name, bh_sandbox_root_mib(qube), error)) {
        g_prefix_error(error, "cannot create the root volume of %s: ", qube->name);
        return FALSE;
    }
    return TRUE;
}

/* ---- full volumes ---------------------------------------------------------- */

/* inside: a directory of the qube (its home, its /etc: on its volume),
 * reached from its init's root without following anything it made. */
static int bh_open_inside(BhSandboxQube *q, const char *inside)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    g_autofree char *path = g_strdup_printf("/proc/%d/root", (int)q->init_pid);
    int root = q->init_pid > 0 ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    int fd = root >= 0 ? (int)syscall(SYS_openat2, root, inside, &how, sizeof how) : -1;

    if (root >= 0)
        close(root);
    return fd;
}

void bh_sandbox_hold_volumes(BhSandboxQube *q)
{
    bh_sandbox_release_volumes(q);
    if (q->private_dev)
        q->home_fd = bh_open_inside(q, BH_SANDBOX_HOME + 1);
    if (q->root_volume)
        q->etc_fd = bh_open_inside(q, "etc");
}

void bh_sandbox_release_volumes(BhSandboxQube *q)
{
    if (q->home_fd >= 0)
        close(q->home_fd);
    if (q->etc_fd >= 0)
        close(q->etc_fd);
    q->home_fd = q->etc_fd = -1;
}

/* held: what bh_sandbox_hold_volumes kept (-1: look now, from its init). */
static void bh_report_full(BhSandboxQube *q, int held, const char *inside, const char *what, const char *prop)
{
    struct statfs sf;
    int fd = held >= 0 ? held : bh_open_inside(q, inside);
    /* Full: under 1 % left (the volumes have no reserved blocks). */
    if (fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_blocks > 0 && sf.f_bavail * 100 < sf.f_blocks) {
        guint64 mib = (guint64)sf.f_bsize * sf.f_blocks >> 20;
        guint64 used = (guint64)sf.f_bsize * (sf.f_blocks - sf.f_bavail) >> 20;
        g_message("[%s] its %s volume is full (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                  " MiB used): writes to it fail inside the qube; raise %s to give it more",
                  q->name, what, used, mib, prop);
    }
    if (fd >= 0 && fd != held)
        close(fd);
}

void bh_sandbox_report_full_volumes(BhSandboxQube *q)
{
    if (q->private_dev)
        bh_report_full(q, q->home_fd, BH_SANDBOX_HOME + 1, "private", "private_size");
    if (q->root_volume)
        bh_report_full(q, q->etc_fd, "etc", "root", "root_size");
}

gboolean bh_sandbox_remove_volumes(BhBackend *backend, const char *name, GError **error)
{
    BhSandbox *sb = (BhSandbox *)backend;
    if (!bh_sandbox_valid_name(name, error))
        return FALSE;
    if (bh_sandbox_lookup(sb, name)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                    "cannot remove the volumes of %s while it runs", name);
        return FALSE;
    }
    if (g_hash_table_contains(sb->copying, name)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                    "cannot remove the volumes of %s while its volumes are copied from or to it", name);
        return FALSE;
    }
    g_autofree char *dir = bh_sandbox_qube_dir(sb, name);
    return bh_sandbox_volumes_remove(dir, error);
}

/* A user namespace whose only mapping is root -> the qube's host uid: it
 * describes the idmapping of the qube's layers (mount_setattr needs one).
 * The helper child only unshares and waits: async-signal-safe. */
int bh_sandbox_idmap_userns(uid_t uid, gid_t gid, GError **error)
{
    int sync_pipe[2] = {-1, -1};
    int ns = -1;
    pid_t pid = -1;
    char c = 0;
    g_autofree char *ns_path = NULL;

    if (pipe2(sync_pipe, O_CLOEXEC) < 0)
        goto fail;
    pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        char r = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'x';
        (void)!write(sync_pipe[1], &r, 1);
        for (;;)
            pause();
    }
    if (read(sync_pipe[0], &c, 1) != 1 || c != 'u') {
        errno = c == 'x' ? EPERM : EIO;
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        g_autofree char *path = g_strdup_printf("/proc/%d/%s", (int)pid, i == 0 ? "uid_map" : "gid_map");
        g_autofree char *map = g_strdup_printf("0 %u 1\n", i == 0 ? (unsigned)uid : (unsigned)gid);
        if (!g_file_set_contents_full(path, map, -1, G_FILE_SET_CONTENTS_NONE, 0, NULL)) {
            errno = EPERM;
            goto fail;
        }
    }
    ns_path = g_strdup_printf("/proc/%d/ns/user", (int)pid);
    ns = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        goto fail;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(sync_pipe[0]);
    close(sync_pipe[1]);
    return ns;

fail : {
    int e = errno;
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    if (sync_pipe[0] >= 0) {
        close(sync_pipe[0]);
        close(sync_pipe[1]);
    }
    bh_error_errno(error, e, "cannot make the user namespace for idmapped layers");
    return -1;
}
}

/* ---- disk usage ------------------------------------------------------------ */

/* Entries of a home kept as a directory that one measure reads at most: a
 * qube making files as fast as dom0 lists them must not keep it listing. */
#define BH_SANDBOX_USAGE_MAX_ENTRIES 200000

typedef struct {
    char *name, *dir; /* the qube and <state>/qubes/<name>, copied: the thread touches nothing else */
} BhUsageJob;

static void bh_usage_job_free(BhUsageJob *job)
{
    g_free(job->name);
    g_free(job->dir);
    g_free(job);
}

/* Off the main context: each qube's private.img (one fstatat: its blocks),
 * or its private/ directory (a bounded walk, sandbox-fsops.h); and its
 * root.img if it has one (a StandaloneVM's, a template's with volumes).
 * Root layers kept as directories are not walked: no size bounds them. */
static void bh_usage_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    GPtrArray *jobs = data;
    GHashTable *usage = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    for (guint i = 0; i < jobs->len && !g_cancellable_is_cancelled(cancellable); i++) {
        BhUsageJob *job = jobs->pdata[i];
        BhBackendUsage *u = g_new0(BhBackendUsage, 1);
        g_autoptr(GError) error = NULL;
        struct stat st;
        int fd = bh_fs_open_dir_path(job->dir, NULL);

        if (fd < 0) {
            g_free(u);
            continue; /* no volume (yet): nothing to say */
        }
        if (fstatat(fd, BH_SANDBOX_PRIVATE_IMAGE, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
            u->bytes = (guint64)st.st_blocks * 512;
            u->exact = TRUE;
        } else if (!bh_fs_usage_at(fd, "private", BH_SANDBOX_USAGE_MAX_ENTRIES, &u->bytes, &u->exact,
                                   &error)) {
            g_debug("[%s] disk usage: %s", job->name, error->message);
            g_free(u);
            u = NULL;
        }
        if (u != NULL && fstatat(fd, BH_SANDBOX_ROOT_IMAGE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            u->root_bytes = (guint64)st.st_blocks * 512;
        close(fd);
        if (u != NULL)
            g_hash_table_insert(usage, g_strdup(job->name), u);
    }
    g_task_return_pointer(task, usage, (GDestroyNotify)g_hash_table_unref);
}

void bh_sandbox_volume_usage(BhBackend *backend, const char *const *qubes, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    BhSandbox *sb = (BhSandbox *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data); /* a backend is no GObject */
    GPtrArray *jobs = g_ptr_array_new_with_free_func((GDestroyNotify)bh_usage_job_free);

    for (guint i = 0; qubes != NULL && qubes[i] != NULL; i++) {
        BhUsageJob *job;
        if (!bh_sandbox_valid_name(qubes[i], NULL))
            continue;
        job = g_new0(BhUsageJob, 1);
        job->name = g_strdup(qubes[i]);
        job->dir = bh_sandbox_qube_dir(sb, qubes[i]);
        g_ptr_array_add(jobs, job);
    }
    g_task_set_source_tag(task, bh_sandbox_volume_usage);
    g_task_set_task_data(task, jobs, (GDestroyNotify)g_ptr_array_unref);
    g_task_run_in_thread(task, bh_usage_thread);
}

GHashTable *bh_sandbox_volume_usage_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
