/* sandbox-vchan.c — a sandbox qube's vchan directory on the host; see
 * sandbox-vchan.h and docs/sandbox.md ("dom0 and a qube's files").
 *
 * The directory is bound (idmapped) into the qube, which must be able to
 * make its agents' sockets there, so it can write any file there too. A
 * tmpfs mounted on it by dom0 puts a size and an inode count on that, and
 * its pages are charged to the memory cgroup of whoever writes them: the
 * qube. Unmounting takes whatever the qube left in one step, without a walk.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-vchan.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "sandbox-fsops.h"

/* Mounts stacked on one directory that a start takes off before its own:
 * more than a crashed daemon or two can leave is not ours to guess at. */
#define BH_SANDBOX_VCHAN_MAX_STALE 8

/* Unmounts what is mounted on dir itself (never through a link: dir is
 * dom0's own path, but its last component is checked anyway); the number of
 * mounts taken off, or -1 with errno. */
static int bh_vchan_unmount(const char *dir)
{
    int n = 0;
    for (; n < BH_SANDBOX_VCHAN_MAX_STALE; n++) {
        if (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
            continue;
        /* EINVAL: not a mount point (any more). EPERM: no root, so nothing
         * of ours can be mounted there either. */
        if (errno == EINVAL || errno == EPERM || errno == ENOENT)
            return n;
        return -1;
    }
    errno = EBUSY;
    return -1;
}

static gboolean bh_vchan_empty(const char *dir, GError **error)
{
    int fd = bh_fs_open_dir_path(dir, error);
    gboolean ok = fd >= 0 && bh_fs_empty_dir(fd, error);
    if (fd >= 0)
        close(fd);
    return ok;
}

gboolean bh_sandbox_vchan_prepare(const char *dir, GError **error)
{
    int stale = bh_vchan_unmount(dir);
    if (stale < 0)
        return bh_error_errno(error, errno, "cannot unmount what is mounted on %s", dir);
    if (stale > 0)
        g_message("%s: %d mount(s) of an earlier run taken off", dir, stale);
    return bh_vchan_empty(dir, error);
}

/* What the set-up child does with the directory (sandbox-spawn.c), tried
 * here on a clone that is then dropped. */
static gboolean bh_vchan_idmap_works(const char *dir, int idmap_userns, int *err)
{
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return FALSE;
    }
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned)idmap_userns};
    gboolean ok = syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0;
    *err = ok ? 0 : errno;
    close(fd);
    return ok;
}

gboolean bh_sandbox_vchan_bound(const char *dir, int idmap_userns, gboolean *unsupported, GError **error)
{
    /* Owned by the daemon and 0700, as the vchan transport requires of a
     * socket directory; the qube gets it through the idmapped bind. */
    g_autofree char *options =
        g_strdup_printf("size=%u,nr_inodes=%u,mode=0700,uid=%u,gid=%u", (unsigned)BH_SANDBOX_VCHAN_BYTES,
                        (unsigned)BH_SANDBOX_VCHAN_INODES, (unsigned)geteuid(), (unsigned)getegid());
    int err = 0;

    *unsupported = FALSE;
    if (mount("bulkhead-vchan", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) < 0)
        return bh_error_errno(error, errno, "cannot mount the bounded vchan directory on %s", dir);
    if (idmap_userns < 0 || bh_vchan_idmap_works(dir, idmap_userns, &err))
        return TRUE;
    if (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
        return bh_error_errno(error, errno, "cannot unmount %s", dir);
    if (err == EINVAL || err == EPERM || err == ENOSYS) {
        *unsupported = TRUE;
        return FALSE;
    }
    return bh_error_errno(error, err, "cannot idmap the bounded vchan directory %s", dir);
}

void bh_sandbox_vchan_release(const char *qube, const char *dir)
{
    g_autoptr(GError) error = NULL;
    if (bh_vchan_unmount(dir) < 0)
        g_warning("[%s] cannot unmount the vchan directory %s: %s", qube, dir, g_strerror(errno));
    if (!bh_vchan_empty(dir, &error))
        g_message("[%s] cannot empty the vchan directory %s: %s", qube, dir, error->message);
}
