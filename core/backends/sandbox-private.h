/* sandbox-private.h — a sandbox qube's sized volumes: its home (the private
 * volume) and a StandaloneVM's root, each with a size the kernel enforces.
 *
 * Owns <qube_dir>/private.img (and a StandaloneVM's root.img, made the same
 * way from its layers): a sparse ext4 image that dom0 makes itself
 * (mkfs.ext4, from a directory dom0 staged), attaches to a loop device when
 * the qube starts, and grows (never shrinks) to the qube's private_size. The
 * image is mounted only inside the qube's own set-up mount namespace
 * (sandbox-spawn.h), never in dom0's, and only the kernel writes it: the
 * qube changes files through the ext4 driver, never the image's bytes.
 *
 * It must never lose stored data: a home kept as a directory by an older
 * version is moved into the new image, and put back if that fails. It must
 * never hand a qube the image's bytes (only the kernel writes them), since
 * dom0's e2fsck and resize2fs read them when the volume grows.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define BH_SANDBOX_PRIVATE_IMAGE "private.img"
/* A StandaloneVM's root volume: its layers root/ and root-work/. */
#define BH_SANDBOX_ROOT_IMAGE "root.img"

/* Makes sure qube_dir has its image, the qube halted: a disposable's is a
 * sparse copy of its disposable template's (disp_source_dir) when that one
 * has an image; otherwise the image is made from qube_dir/private/ (the old
 * directory, or the empty one a new qube starts with), which is then gone. */
gboolean bh_sandbox_private_prepare(const char *qube_dir, const char *disp_source_dir, guint size_mib,
                                    GError **error);

/* Grows the image to size_mib when smaller and attaches it to a free loop
 * device that goes away with its last user (LO_FLAGS_AUTOCLEAR). Returns the
 * loop device, open read-write, or -1. */
int bh_sandbox_private_attach(const char *qube_dir, const char *qube, guint size_mib, GError **error);

/* A StandaloneVM's root volume, the qube halted: when qube_dir has no
 * root.img yet (a new qube, or one of an older version), its layers root/
 * are moved into a new image of size_mib (files of the qube's host uid
 * become root's: the image is shown idmapped), and root/ and root-work/ go
 * once the image is in place. If they do not fit or anything fails, root/
 * stays as it was and the error says so. */
gboolean bh_sandbox_root_prepare(const char *qube_dir, const char *qube_name, guint size_mib, GError **error);
/* The loop device of qube_dir's root volume: the one it is attached to
 * already (a template's, used by its AppVMs too), else a new one, grown to
 * size_mib first (0: as it is, for an AppVM). */
int bh_sandbox_root_attach(const char *qube_dir, const char *qube, guint size_mib, GError **error);

/* Freezes the filesystem of a running qube's private volume (FIFREEZE), so
 * that a copy of its image is consistent: volume is the loop device it was
 * attached to (the home must be on it). Returns the descriptor to thaw with,
 * or -1. The qube's writers wait until the thaw. */
int bh_sandbox_private_freeze(const char *qube, pid_t init_pid, dev_t volume, GError **error);
void bh_sandbox_private_thaw(const char *qube, int frozen);

G_END_DECLS
