/* xen-volumes.c — sparse raw images of the xen backend (see xen-volumes.h).
 *
 * Owns creating, copying and deleting image files. Must never: follow a
 * name out of <state_dir>/qubes/ (names are checked by the model, and the
 * paths are built, never parsed) or overwrite a private image that exists.
 */
#define G_LOG_DOMAIN "bh-xen"

#include "xen-volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "volume-copy.h"
#include "volume-leftovers.h"
#include "xen-config.h"

static const char *const bh_xen_volume_names[] = {"root", "private", "volatile"};

static gboolean bh_xen_make_dir(const char *state_dir, const char *qube, GError **error)
{
    g_autofree char *dir = bh_xen_qube_dir(state_dir, qube);
    if (g_mkdir_with_parents(dir, 0700) < 0)
        return bh_error_errno(error, errno, "cannot create the directory %s", dir);
    return TRUE;
}

/* A sparse file of size bytes; with replace, an existing one starts over. */
static gboolean bh_xen_sparse(const char *path, guint64 size, gboolean replace, GError **error)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, 0600);
    if (fd < 0) {
        if (!replace && errno == EEXIST)
            return TRUE;
        return bh_error_errno(error, errno, "cannot create %s", path);
    }
    gboolean ok = ftruncate(fd, (off_t)size) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        g_unlink(path);
        return bh_error_errno(error, saved, "cannot size %s", path);
    }
    return TRUE;
}

gboolean bh_xen_volumes_create(const char *state_dir, const BhBackendQube *qube, GError **error)
{
    g_autofree char *private_img = bh_xen_volume_path(state_dir, qube->name, "private");
    if (!bh_xen_make_dir(state_dir, qube->name, error) ||
        !bh_xen_sparse(private_img, BH_XEN_PRIVATE_SIZE, FALSE, error))
        return FALSE;
    if (bh_xen_qube_has_own_root(qube)) {
        g_autofree char *root = bh_xen_volume_path(state_dir, qube->name, "root");
        return bh_xen_sparse(root, BH_XEN_ROOT_SIZE, FALSE, error);
    }
    return TRUE;
}

/* What is in a new qube's place is set aside (volume-leftovers.h): a dead
 * qube's images would otherwise be adopted, since create keeps what exists
 * and a clone's copy would replace only some of them. */
static gboolean bh_xen_set_aside(const char *state_dir, const char *qube, GError **error)
{
    g_autofree char *dir = bh_xen_qube_dir(state_dir, qube);
    g_autofree char *moved_to = NULL;
    if (!bh_volume_set_aside(dir, &moved_to, error)) {
        g_prefix_error(error, "cannot create the volumes of %s: ", qube);
        return FALSE;
    }
    return TRUE;
}

/* A failed create or clone leaves nothing it made; what was in its place
 * before was set aside, so all there is its own. */
static gboolean bh_xen_undo_new(const char *state_dir, const char *qube)
{
    g_autoptr(GError) undo = NULL;
    if (!bh_xen_volumes_remove(state_dir, qube, &undo))
        g_message("[%s] what a failed create left stays: %s", qube, undo->message);
    return FALSE;
}

gboolean bh_xen_volumes_add(const char *state_dir, const BhBackendQube *qube, GError **error)
{
    if (!bh_xen_set_aside(state_dir, qube->name, error))
        return FALSE;
    return bh_xen_volumes_create(state_dir, qube, error) || bh_xen_undo_new(state_dir, qube->name);
}

gboolean bh_xen_volumes_prepare(const char *state_dir, const BhBackendQube *qube, GError **error)
{
    if (qube->disposable) {
        if (qube->template_name == NULL) {
            g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                        "disposable %s has no disposable template to copy its private data from", qube->name);
            return FALSE;
        }
        g_autofree char *src = bh_xen_volume_path(state_dir, qube->template_name, "private");
        g_autofree char *dst = bh_xen_volume_path(state_dir, qube->name, "private");
        if (!bh_xen_make_dir(state_dir, qube->name, error) || !bh_volume_copy_sparse(src, dst, error))
            return FALSE;
    }
    g_autofree char *volatile_img = bh_xen_volume_path(state_dir, qube->name, "volatile");
    return bh_xen_volumes_create(state_dir, qube, error) &&
           bh_xen_sparse(volatile_img, BH_XEN_VOLATILE_SIZE, TRUE, error);
}

static gboolean bh_xen_copy_images(const char *state_dir, const char *source, const BhBackendQube *dst,
                                   GError **error)
{
    if (!bh_xen_make_dir(state_dir, dst->name, error))
        return FALSE;
    for (gsize i = 0; i < 2; i++) {
        const char *volume = bh_xen_volume_names[i];
        if (g_str_equal(volume, "root") && !bh_xen_qube_has_own_root(dst))
            continue;
        g_autofree char *from = bh_xen_volume_path(state_dir, source, volume);
        g_autofree char *to = bh_xen_volume_path(state_dir, dst->name, volume);
        /* A source that never got this image (an AppVM's root): dst gets an
         * empty one below. */
        if (!g_file_test(from, G_FILE_TEST_EXISTS))
            continue;
        if (!bh_volume_copy_sparse(from, to, error))
            return FALSE;
    }
    return bh_xen_volumes_create(state_dir, dst, error);
}

gboolean bh_xen_volumes_clone(const char *state_dir, const char *source, const BhBackendQube *dst,
                              GError **error)
{
    if (!bh_xen_set_aside(state_dir, dst->name, error))
        return FALSE;
    return bh_xen_copy_images(state_dir, source, dst, error) || bh_xen_undo_new(state_dir, dst->name);
}

gboolean bh_xen_volumes_remove(const char *state_dir, const char *qube, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bh_xen_volume_names); i++) {
        g_autofree char *path = bh_xen_volume_path(state_dir, qube, bh_xen_volume_names[i]);
        if (g_unlink(path) < 0 && errno != ENOENT)
            return bh_error_errno(error, errno, "cannot delete %s", path);
    }
    g_autofree char *dir = bh_xen_qube_dir(state_dir, qube);
    if (g_rmdir(dir) < 0 && errno != ENOENT)
        return bh_error_errno(error, errno, "cannot remove the directory %s", dir);
    return TRUE;
}
