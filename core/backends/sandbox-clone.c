/* sandbox-clone.c — a clone's copy of its source's volumes, made off the
 * main loop; see sandbox-qube.h and docs/sandbox.md ("Storage").
 *
 * A clone copies everything its source stored: a StandaloneVM holding
 * 200 000 files in its /var stopped bulkheadd for 16.2 s when the copy ran
 * in the main loop, and nothing else (D-Bus calls, other qubes' calls, the
 * clipboard) moved meanwhile. The copy runs in a worker thread; the caller
 * hears of it once it is done. Until then neither the source nor the clone
 * starts or loses its volumes (sb->copying, as for a disposable's copy);
 * the daemon keeps its own lock for what it decides (sandbox only sees
 * volumes). A failed copy leaves nothing of the clone.
 * Must never: touch the backend's tables from the worker thread (it gets
 * paths, uids and flags, nothing else), or copy a source that runs. The
 * lock is a reference of its own: a daemon that stops during a copy frees
 * the backend while the thread still runs.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "sandbox-fsops.h"
#include "sandbox-layout.h"
#include "sandbox-private.h"

typedef struct {
    GHashTable *copying;     /* sb->copying, a reference: the backend may be gone when the copy ends */
    char *source, *name;     /* the qubes, for the lock and messages */
    char *src_dir, *dst_dir; /* <state>/qubes/<source>, <state>/qubes/<name> */
    char *base_root;         /* what the clone's layers sit on (own root only) */
    uid_t dest_uid;          /* the clone's host uid: its usr layer's files become its */
    gboolean own_root;       /* the clone is a TemplateVM or StandaloneVM */
    gboolean private_images; /* the home is an image (sandbox-private.h) */
    guint private_mib;
} BhCloneJob;

static void bh_clone_job_free(BhCloneJob *job)
{
    g_clear_pointer(&job->copying, g_hash_table_unref);
    g_free(job->source);
    g_free(job->name);
    g_free(job->src_dir);
    g_free(job->dst_dir);
    g_free(job->base_root);
    g_free(job);
}

/* The source's host uid is only needed to re-own its template layer; its qid
 * is not passed, so it is read from the layer's top directory, reached
 * without following a link (sandbox-fsops.h). */
static uid_t bh_clone_layer_owner(const char *qube_dir)
{
    int dir = bh_fs_open_dir_path(qube_dir, NULL);
    int usr = dir >= 0 ? bh_fs_open_beneath(dir, "root/usr", NULL) : -1;
    struct stat st;
    uid_t owner = usr >= 0 && fstat(usr, &st) == 0 ? st.st_uid : (uid_t)-1;
    if (usr >= 0)
        close(usr);
    if (dir >= 0)
        close(dir);
    return owner;
}

/* What bh_sandbox_clone_volumes does, from plain data. */
static gboolean bh_clone_copy(const BhCloneJob *job, GError **error)
{
    if (!bh_sandbox_volumes_clone(job->src_dir, job->dst_dir, bh_clone_layer_owner(job->src_dir),
                                  job->dest_uid, error)) {
        g_prefix_error(error, "cannot clone the volumes of %s for %s: ", job->source, job->name);
        return FALSE;
    }
    /* A clone of an AppVM as a template (or the reverse) gets what it lacks. */
    if (!bh_sandbox_volumes_create(job->dst_dir, job->own_root, NULL, job->base_root, error) ||
        (job->private_images && !bh_sandbox_private_prepare(job->dst_dir, NULL, job->private_mib, error))) {
        g_prefix_error(error, "cannot create the volumes of %s: ", job->name);
        return FALSE;
    }
    return TRUE;
}

/* The copy, or nothing: half a clone is no clone, so what was made of it
 * goes (its own directory only: whatever was in its place before was set
 * aside; a failure to remove it is said, not fatal). */
static gboolean bh_clone_copy_whole(const BhCloneJob *job, GError **error)
{
    if (bh_clone_copy(job, error))
        return TRUE;
    g_autoptr(GError) undo = NULL;
    if (!bh_sandbox_volumes_remove(job->dst_dir, &undo))
        g_message("[%s] what a failed clone left stays: %s", job->name, undo->message);
    return FALSE;
}

static void bh_clone_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    BhCloneJob *job = data;
    GError *error = NULL;
    if (bh_clone_copy_whole(job, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/* Back in the main loop: the lock goes, then the caller hears. */
static void bh_clone_done(GObject *unused, GAsyncResult *result, gpointer data)
{
    GTask *outer = data;
    BhCloneJob *job = g_task_get_task_data(outer);
    GError *error = NULL;
    bh_sandbox_copying_mark(job->copying, job->source, -1);
    bh_sandbox_copying_mark(job->copying, job->name, -1);
    if (g_task_propagate_boolean(G_TASK(result), &error))
        g_task_return_boolean(outer, TRUE);
    else
        g_task_return_error(outer, error);
    g_object_unref(outer);
}

/* The job for cloning source's volumes for qube, from the backend's
 * tables: NULL (error set) when it cannot be. */
static BhCloneJob *bh_clone_job_new(BhSandbox *sb, const char *source, const BhBackendQube *qube,
                                    GError **error)
{
    if (!bh_sandbox_valid_name(qube->name, error) || !bh_sandbox_valid_name(source, error) ||
        (bh_sandbox_own_root(qube) && !bh_sandbox_check_base(bh_sandbox_base_root(qube), error)))
        return NULL;
    /* The daemon clones only halted qubes; this is the backend's own word. */
    if (bh_sandbox_lookup(sb, source)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE, "cannot clone %s while it runs",
                    source);
        return NULL;
    }
    if (g_hash_table_contains(sb->copying, qube->name)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                    "the volumes of %s are being copied already", qube->name);
        return NULL;
    }
    /* The clone's own name: what an earlier qube of it left is set aside
     * here, so that the copy's final rename never meets it (and a failed
     * copy's cleanup never removes it). */
    if (bh_sandbox_lookup(sb, qube->name)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE, "cannot clone to %s while it runs",
                    qube->name);
        return NULL;
    }
    if (!bh_sandbox_set_aside_leftover(sb, qube->name, error))
        return NULL;
    BhCloneJob *job = g_new0(BhCloneJob, 1);
    job->source = g_strdup(source);
    job->name = g_strdup(qube->name);
    job->src_dir = bh_sandbox_qube_dir(sb, source);
    job->dst_dir = bh_sandbox_qube_dir(sb, qube->name);
    job->base_root = g_strdup(bh_sandbox_base_root(qube));
    job->dest_uid = bh_sandbox_host_uid(sb, qube->qid);
    job->own_root = bh_sandbox_own_root(qube);
    job->private_images = sb->private_images;
    job->private_mib = bh_sandbox_private_mib(qube);
    return job;
}

gboolean bh_sandbox_clone_volumes(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                  GError **error)
{
    BhCloneJob *job = bh_clone_job_new((BhSandbox *)backend, source, qube, error);
    if (job == NULL)
        return FALSE;
    gboolean ok = bh_clone_copy_whole(job, error);
    bh_clone_job_free(job);
    return ok;
}

void bh_sandbox_clone_volumes_async(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
    BhSandbox *sb = (BhSandbox *)backend;
    g_autoptr(GTask) outer = g_task_new(NULL, NULL, callback, user_data); /* a backend is no GObject */
    GError *error = NULL;
    BhCloneJob *job = bh_clone_job_new(sb, source, qube, &error);

    g_task_set_source_tag(outer, bh_sandbox_clone_volumes_async);
    if (job == NULL) {
        g_task_return_error(outer, error);
        return;
    }
    g_task_set_task_data(outer, job, (GDestroyNotify)bh_clone_job_free);
    job->copying = g_hash_table_ref(sb->copying);
    bh_sandbox_copying_mark(job->copying, source, +1);
    bh_sandbox_copying_mark(job->copying, qube->name, +1);

    GTask *copy = g_task_new(NULL, NULL, bh_clone_done, g_steal_pointer(&outer));
    g_task_set_task_data(copy, job, NULL);
    g_task_run_in_thread(copy, bh_clone_thread);
    g_object_unref(copy);
}

gboolean bh_sandbox_clone_volumes_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}
