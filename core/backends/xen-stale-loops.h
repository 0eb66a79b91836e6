/* xen-stale-loops.h — loop devices left on the xen backend's images.
 *
 * Until session 10 the disk hotplug script (bulkhead-xen-block) attached
 * the images itself, and libxl killed one that overran its fixed 40 s;
 * one killed after losetup and before it wrote the back-end's "node" left
 * a loop device that no back-end names and libxl's remove never detaches
 * (bulkheadd's own devices, xen-disks.h, are autoclear and cannot be left
 * so). A start of that qube detaches such a device (xen-disks.c); these
 * functions do it when no start follows: when bulkheadd starts and when a
 * qube's volumes are removed.
 *
 * Owns: finding loop devices whose backing file lies below one directory
 * of the state directory and detaching those no disk back-end names. Must
 * never: detach a device a back-end names (a running or starting disk), or
 * one on a file outside that directory (another program's).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *device; /* /dev/loopN */
    char *file;   /* its backing file, as the kernel names it */
} BhXenStaleLoop;

void bh_xen_stale_loop_free(BhXenStaleLoop *loop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhXenStaleLoop, bh_xen_stale_loop_free)

/* The backing file of the device called name under sys_block (chomped,
 * as the kernel shows it), or NULL when name is not loopN or the device
 * is not attached. */
char *bh_xen_loop_backing_file(const char *sys_block, const char *name);

/* The loop devices under sys_block (/sys/block) whose backing file is dir
 * or below it (dir as realpath gives it; a file deleted since, which the
 * kernel shows with " (deleted)", counts) and whose /dev/loopN is not in
 * named (device paths the disk back-ends name). A pure reading of sysfs:
 * tests give it a tree of their own. Returns BhXenStaleLoop*. */
GPtrArray *bh_xen_stale_loops_find(const char *sys_block, const char *dir, GHashTable *named);

/* The device paths dom0's disk back-ends name in xenstore
 * (/local/domain/0/backend/vbd/<domid>/<dev>/node), or NULL with error
 * when xenstore cannot be read (then nothing may be called stale). */
GHashTable *bh_xen_backend_nodes(GError **error);

/* Finds and detaches (LOOP_CLR_FD) the stale loop devices on files below
 * dir, logging each; with lock, first takes bulkhead-xen-block's lock, so
 * that a script between its losetup and its node is waited for (at most a
 * few seconds; then nothing is done and that is logged). Returns how many
 * it detached. why: for the log ("at start-up", "for qube X's removal"). */
guint bh_xen_stale_loops_detach(const char *dir, gboolean lock, const char *why);

G_END_DECLS
