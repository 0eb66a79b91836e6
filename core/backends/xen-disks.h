/* xen-disks.h — the loop devices under a Xen qube's disks.
 *
 * bulkheadd attaches each disk image of a domain it starts to a loop device
 * itself, before libxl makes the domain, and hands libxl a phy disk on that
 * device. libxl's disk hotplug script (bulkhead-xen-block) then only
 * publishes the device's number: one xenstore read and one write, no lock,
 * no losetup. Its former losetup under a lock, three scripts per start in
 * a row, missed libxl's fixed 40 s hotplug timeout under emulation on a
 * busy machine (docs/xen.md, "Retries and bounds"). Each device is attached
 * with autoclear and held open by the backend until the domain is gone: the
 * kernel detaches it once blkback and bulkheadd have both closed it, so a
 * device outlives neither its domain nor a bulkheadd that died.
 *
 * Owns: finding the loop devices on an image, the sharing rule (no image
 * served writable twice, none written while served read-only), detaching
 * the stale ones on an image about to be attached, attaching, holding and
 * releasing. Must never: detach a device a disk back-end names or this
 * backend holds, or attach an image writable that the disk reads only.
 */
#pragma once

#include <glib.h>
#include <libxl.h>
#include <sys/stat.h>

G_BEGIN_DECLS

/* A loop device found on an image. */
typedef struct {
    char *device;       /* /dev/loopN */
    gboolean read_only; /* its sysfs ro */
} BhXenLoopOnFile;

void bh_xen_loop_on_file_free(BhXenLoopOnFile *loop);

/* The loop devices under sys_block (/sys/block) whose backing file is the
 * inode st describes (st_dev, st_ino: whatever path the kernel shows for
 * it; a file deleted since is not it). A pure reading of sysfs and stat:
 * tests give it a tree of their own. Returns BhXenLoopOnFile*. */
GPtrArray *bh_xen_loops_on_file(const char *sys_block, const struct stat *st);

/* The sharing rule for a new use of file (writable or not), given the
 * devices already on it and those in use (device paths a disk back-end
 * names or this backend holds; NULL: not known, so every device counts as
 * in use). A device in use that writes, or any in use when the new use
 * writes, refuses it (FALSE, error naming the device). The others are
 * stale (left by a start that never finished): their paths are added to
 * stale, to be detached before the attach. */
gboolean bh_xen_loops_check_sharing(const char *file, GPtrArray *on_file, GHashTable *in_use,
                                    gboolean writable, GPtrArray *stale, GError **error);

/* A loop device the backend holds for a domain's disk. */
typedef struct {
    char *device; /* /dev/loopN */
    int fd;       /* open until the domain is gone (autoclear) */
} BhXenDiskLoop;

void bh_xen_disk_loop_free(BhXenDiskLoop *loop);

/* For each of the num disks: checks the sharing rule against the devices
 * dom0's disk back-ends name and those in held (device paths the backend
 * holds for other domains), detaches stale ones, attaches pdev_path (a
 * file) to a free loop device (read-only for a disk that is not
 * readwrite; autoclear) and makes pdev_path that device. The loops
 * (BhXenDiskLoop*) are appended to loops; on failure those attached so far
 * are released and no pdev_path is left half changed for the caller to
 * use (the configuration is disposed of). */
gboolean bh_xen_disks_attach(libxl_device_disk *disks, int num, GHashTable *held, GPtrArray *loops,
                             GError **error);

G_END_DECLS
