/* xen-disks.c — the loop devices under a Xen qube's disks (see xen-disks.h).
 *
 * Owns reading /sys/block/loop* for the devices on one image, the sharing
 * rule, and attaching with LOOP_CONFIGURE. Must never: detach a device in
 * use, or open an image for writing for a read-only disk.
 */
#define G_LOG_DOMAIN "bh-xen"

#include "xen-disks.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "xen-stale-loops.h"

void bh_xen_loop_on_file_free(BhXenLoopOnFile *loop)
{
    if (loop == NULL)
        return;
    g_free(loop->device);
    g_free(loop);
}

void bh_xen_disk_loop_free(BhXenDiskLoop *loop)
{
    if (loop == NULL)
        return;
    /* The last close of an autoclear device detaches it (blkback's, once
     * its domain is gone, or this one). */
    if (loop->fd >= 0)
        close(loop->fd);
    g_free(loop->device);
    g_free(loop);
}

GPtrArray *bh_xen_loops_on_file(const char *sys_block, const struct stat *st)
{
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)bh_xen_loop_on_file_free);
    g_autoptr(GDir) d = g_dir_open(sys_block, 0, NULL);
    if (d == NULL)
        return found;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *file = bh_xen_loop_backing_file(sys_block, name);
        struct stat bst;
        if (file == NULL)
            continue;
        /* By inode: the kernel shows the path the file was attached by. A
         * deleted file (" (deleted)") is no longer the one being attached. */
        if (stat(file, &bst) != 0 || bst.st_dev != st->st_dev || bst.st_ino != st->st_ino)
            continue;
        g_autofree char *ro_path = g_build_filename(sys_block, name, "ro", NULL);
        g_autofree char *ro = NULL;
        BhXenLoopOnFile *loop = g_new0(BhXenLoopOnFile, 1);
        loop->device = g_strconcat("/dev/", name, NULL);
        /* Unreadable counts as writable: the stricter reading. */
        loop->read_only = g_file_get_contents(ro_path, &ro, NULL, NULL) && g_str_equal(g_strchomp(ro), "1");
        g_ptr_array_add(found, loop);
    }
    return found;
}

gboolean bh_xen_loops_check_sharing(const char *file, GPtrArray *on_file, GHashTable *in_use,
                                    gboolean writable, GPtrArray *stale, GError **error)
{
    for (guint i = 0; i < on_file->len; i++) {
        const BhXenLoopOnFile *loop = g_ptr_array_index(on_file, i);
        if (in_use && !g_hash_table_contains(in_use, loop->device)) {
            g_ptr_array_add(stale, g_strdup(loop->device));
            continue;
        }
        if (writable || !loop->read_only) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                        "%s is already in use by %s (%s)%s; stop the qube that uses it first", file,
                        loop->device, loop->read_only ? "read-only" : "writable",
                        in_use ? "" : ", or xenstore could not be read to tell");
            return FALSE;
        }
    }
    return TRUE;
}

/* Detaches a stale device; its autoclear (if it had one) would have done
 * so at its last close, which never came. */
static void bh_xen_loop_detach(const char *device, const char *file)
{
    int fd = open(device, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, LOOP_CLR_FD, 0) < 0)
        g_message("cannot detach %s, left on %s: %s", device, file, g_strerror(errno));
    else
        g_message("detached %s: it was left on %s by a start that did not finish", device, file);
    if (fd >= 0)
        close(fd);
}

/* A new loop device on the file open as file_fd; its fd (kept open) or -1. */
static int bh_xen_loop_attach(int file_fd, const char *file, gboolean writable, char **device, GError **error)
{
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    int loop_fd = -1;

    if (ctl < 0) {
        bh_error_errno(error, errno, "cannot open /dev/loop-control (is the loop module loaded?)");
        goto out;
    }
    /* Another program may take the free device first: then the next. */
    for (int attempt = 0; attempt < 16; attempt++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            bh_error_errno(error, errno, "no free loop device for %s", file);
            goto out;
        }
        g_autofree char *path = g_strdup_printf("/dev/loop%d", n);
        loop_fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (loop_fd < 0) {
            bh_error_errno(error, errno, "cannot open %s for %s", path, file);
            goto out;
        }
        struct loop_config config = {.fd = (guint32)file_fd};
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (writable ? 0 : LO_FLAGS_READ_ONLY);
        g_strlcpy((char *)config.info.lo_file_name, file, sizeof config.info.lo_file_name);
        if (ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0) {
            *device = g_steal_pointer(&path);
            goto out;
        }
        int e = errno;
        close(loop_fd);
        loop_fd = -1;
        if (e != EBUSY) {
            bh_error_errno(error, e, "cannot attach %s to %s", file, path);
            goto out;
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                "cannot attach %s: every free loop device was taken first", file);
out:
    if (ctl >= 0)
        close(ctl);
    return loop_fd;
}

/* One disk: the sharing rule, stale devices detached, the attach. */
static gboolean bh_xen_disk_attach(libxl_device_disk *disk, GHashTable *in_use, GPtrArray *loops,
                                   GError **error)
{
    const char *file = disk->pdev_path;
    gboolean writable = disk->readwrite != 0;
    g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) on_file = NULL;
    g_autofree char *device = NULL;
    struct stat st;

    /* By path, links followed: the images are dom0's own files under its
     * state directory, which no guest can write a link into (a guest
     * reaches only the blocks of its disks); an administrator may link a
     * template's root.img to where it is kept (tests/xen's template part
     * does, to its 9p share), as Xen's block script allows. */
    int file_fd = open(file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (file_fd < 0)
        return bh_error_errno(error, errno, "cannot open the disk image %s", file);
    if (fstat(file_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(file_fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "the disk image %s is not a regular file",
                    file);
        return FALSE;
    }
    on_file = bh_xen_loops_on_file("/sys/block", &st);
    if (!bh_xen_loops_check_sharing(file, on_file, in_use, writable, stale, error)) {
        close(file_fd);
        return FALSE;
    }
    for (guint i = 0; i < stale->len; i++)
        bh_xen_loop_detach(g_ptr_array_index(stale, i), file);
    int loop_fd = bh_xen_loop_attach(file_fd, file, writable, &device, error);
    close(file_fd);
    if (loop_fd < 0)
        return FALSE;
    BhXenDiskLoop *loop = g_new0(BhXenDiskLoop, 1);
    loop->device = g_strdup(device);
    loop->fd = loop_fd;
    g_ptr_array_add(loops, loop);
    /* libxl_device_disk_dispose frees with free(); g_malloc is malloc. */
    free(disk->pdev_path);
    disk->pdev_path = g_steal_pointer(&device);
    return TRUE;
}

gboolean bh_xen_disks_attach(libxl_device_disk *disks, int num, GHashTable *held, GPtrArray *loops,
                             GError **error)
{
    g_autoptr(GError) xs_error = NULL;
    /* In use: what dom0's back-ends name, what other starts hold, what this
     * one attached already (a qube's own disks are different files, but a
     * device is never counted stale by the start that made it). */
    g_autoptr(GHashTable) in_use = bh_xen_backend_nodes(&xs_error);
    guint first = loops->len;

    if (in_use == NULL)
        g_message("xenstore cannot be read (%s): every loop device on an image counts as in use",
                  xs_error->message);
    for (int i = 0; i < num; i++) {
        if (in_use) {
            GHashTableIter iter;
            gpointer key;
            g_hash_table_iter_init(&iter, held);
            while (g_hash_table_iter_next(&iter, &key, NULL))
                g_hash_table_add(in_use, g_strdup(key));
            for (guint j = first; j < loops->len; j++)
                g_hash_table_add(in_use, g_strdup(((BhXenDiskLoop *)g_ptr_array_index(loops, j))->device));
        }
        if (!bh_xen_disk_attach(&disks[i], in_use, loops, error)) {
            g_ptr_array_remove_range(loops, first, loops->len - first);
            return FALSE;
        }
    }
    return TRUE;
}
