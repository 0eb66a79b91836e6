/* sandbox-dispcopy.c — a disposable's copy of its template's private
 * volume, made off the main loop at the disposable's start; see
 * sandbox-qube.h and docs/sandbox.md ("Storage").
 *
 * The copy lasts as long as what the template stored (1 GiB: 4.4 s during
 * which bulkheadd answered nothing when it ran in the main loop), and any
 * qube that may call @dispvm can have one made: it runs in a worker thread,
 * and the start goes on (bh_sandbox_start_now) once it is done. The qube's
 * description is the caller's only for the call, so it is copied here; the
 * template and the disposable neither start nor lose their volumes meanwhile
 * (sb->copying), and a running template stays frozen for the copy.
 * The same for the move of a StandaloneVM's (or template's) root layers into
 * its root volume at its first start (a copy of them and mkfs.ext4 -d: as
 * long as what it stored), which holds the qube alone.
 * Must never: touch the backend's tables from the worker thread (it gets
 * paths and sizes, nothing else), or start a qube that was killed while
 * its copy ran.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <bulkhead/error.h>

#include "sandbox-private.h"
#include "volume-copy.h"

typedef struct {
    BhSandbox *sb;
    GTask *start; /* the start's task, continued once the copy is done */
    BhBackendQube qube;
    GPtrArray *strings; /* what qube's strings point to */
    char **services;
    char *source, *image; /* a disposable's home: copied from, to */
    char *root_dir;       /* or a root to move into its volume: the qube's directory */
    guint root_mib;
    int frozen;
    gboolean killed; /* while copying: the start fails once the copy is done */
} BhStartCopy;

static void bh_start_copy_free(BhStartCopy *c)
{
    g_clear_object(&c->start);
    g_ptr_array_unref(c->strings);
    g_strfreev(c->services);
    g_free(c->source);
    g_free(c->image);
    g_free(c->root_dir);
    g_free(c);
}

static const char *bh_start_copy_keep(BhStartCopy *c, const char *s)
{
    char *copy = g_strdup(s);
    if (copy)
        g_ptr_array_add(c->strings, copy);
    return copy;
}

void bh_sandbox_copying_mark(GHashTable *copying, const char *name, int delta)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(copying, name));
    if (delta > 0)
        g_hash_table_insert(copying, g_strdup(name), GUINT_TO_POINTER(n + 1));
    else if (n > 1)
        g_hash_table_insert(copying, g_strdup(name), GUINT_TO_POINTER(n - 1));
    else
        g_hash_table_remove(copying, name);
}

static void bh_start_copy_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    BhStartCopy *c = data;
    GError *error = NULL;
    if (c->root_dir ? bh_sandbox_root_prepare(c->root_dir, c->qube.name, c->root_mib, &error)
                    : bh_volume_copy_sparse(c->source, c->image, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void bh_start_copy_done(GObject *source, GAsyncResult *result, gpointer data)
{
    BhStartCopy *c = data;
    g_autoptr(GError) error = NULL;
    gboolean ok = g_task_propagate_boolean(G_TASK(result), &error);
    if (c->frozen >= 0)
        bh_sandbox_private_thaw(c->qube.template_name, c->frozen);
    bh_sandbox_copying_mark(c->sb->copying, c->qube.name, -1);
    if (c->source)
        bh_sandbox_copying_mark(c->sb->copying, c->qube.template_name, -1);
    g_hash_table_remove(c->sb->copies, c->qube.name);
    if (c->killed) {
        g_task_return_new_error(c->start, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                "%s was killed while starting", c->qube.name);
    } else if (ok) {
        bh_sandbox_start_now(c->sb, &c->qube, g_steal_pointer(&c->start));
    } else {
        g_prefix_error(&error, "cannot create the %s volume of %s: ", c->root_dir ? "root" : "private",
                       c->qube.name);
        g_task_return_error(c->start, g_steal_pointer(&error));
    }
    bh_start_copy_free(c);
}

gboolean bh_sandbox_start_copy(BhSandbox *sb, const BhBackendQube *qube, GTask *task)
{
    g_autofree char *source = NULL, *image = NULL, *root_dir = NULL;
    g_autoptr(GError) error = NULL;
    int frozen = -1;
    gboolean home = bh_sandbox_private_copy_due(sb, qube, &source, &image);
    if (!home && !bh_sandbox_root_move_due(sb, qube, &root_dir))
        return FALSE;
    if (home && !bh_sandbox_freeze_template(sb, qube->template_name, &frozen, &error)) {
        g_prefix_error(&error, "cannot create the private volume of %s: ", qube->name);
        g_task_return_error(task, g_steal_pointer(&error));
        return TRUE;
    }
    BhStartCopy *c = g_new0(BhStartCopy, 1);
    c->sb = sb;
    c->start = g_object_ref(task);
    c->strings = g_ptr_array_new_with_free_func(g_free);
    c->qube = *qube;
    c->qube.name = bh_start_copy_keep(c, qube->name);
    c->qube.klass = bh_start_copy_keep(c, qube->klass);
    c->qube.label = bh_start_copy_keep(c, qube->label);
    c->qube.template_name = bh_start_copy_keep(c, qube->template_name);
    c->qube.root_template = bh_start_copy_keep(c, qube->root_template);
    c->qube.netvm = bh_start_copy_keep(c, qube->netvm);
    c->qube.firewall = bh_start_copy_keep(c, qube->firewall);
    c->qube.root_path = bh_start_copy_keep(c, qube->root_path);
    c->qube.kernel = bh_start_copy_keep(c, qube->kernel);
    c->qube.virt_mode = bh_start_copy_keep(c, qube->virt_mode);
    c->services = g_strdupv((char **)qube->services);
    c->qube.services = (const char *const *)c->services;
    c->source = g_steal_pointer(&source);
    c->image = g_steal_pointer(&image);
    c->root_dir = g_steal_pointer(&root_dir);
    c->root_mib = bh_sandbox_root_mib(qube);
    c->frozen = frozen;
    bh_sandbox_copying_mark(sb->copying, c->qube.name, +1);
    if (c->source)
        bh_sandbox_copying_mark(sb->copying, c->qube.template_name, +1);
    g_hash_table_insert(sb->copies, (gpointer)c->qube.name, c);
    GTask *copy = g_task_new(NULL, NULL, bh_start_copy_done, c);
    g_task_set_task_data(copy, c, NULL);
    g_task_run_in_thread(copy, bh_start_copy_thread);
    g_object_unref(copy);
    return TRUE;
}

gboolean bh_sandbox_kill_copying(BhSandbox *sb, const char *name)
{
    BhStartCopy *c = g_hash_table_lookup(sb->copies, name);
    if (c == NULL)
        return FALSE;
    c->killed = TRUE;
    return TRUE;
}
