/* sandbox-vchan.h — a sandbox qube's vchan directory on the host.
 *
 * Owns: making the directory bulkheadd shares with a qube (its agents'
 * sockets, dom0's call socket) empty before a start and after a stop, and,
 * with root, a small tmpfs of its own, so that what a qube writes there costs
 * dom0 at most BH_SANDBOX_VCHAN_BYTES and BH_SANDBOX_VCHAN_INODES (the
 * directory is writable by the qube, and without a bound of its own it took
 * from the filesystem of XDG_RUNTIME_DIR whatever the qube wrote: dom0's
 * disk, or its RAM on a tmpfs, past the qube's private_size).
 * Must never: follow anything the qube put in the directory, or unmount
 * anything but what is mounted on the directory itself.
 */
#pragma once

#include <glib.h>

/* Sockets take inodes, no blocks: three per qube today (agent, GUI agent,
 * dom0's call socket). The bytes are a tmpfs's smallest useful size. */
#define BH_SANDBOX_VCHAN_BYTES  (64 * 1024)
#define BH_SANDBOX_VCHAN_INODES 64

/* Unmounts whatever an earlier run left mounted on dir (a daemon that died
 * with the qube running) and empties the directory below. */
gboolean bh_sandbox_vchan_prepare(const char *dir, GError **error);

/* With root: mounts the bounded tmpfs on dir and checks that it can be
 * idmapped with idmap_userns, as the qube's set-up will (a kernel before
 * 6.3 cannot idmap a tmpfs). TRUE when dir is bounded now; FALSE with
 * *unsupported set when this kernel cannot (dir is left as it was); FALSE
 * with error on any other failure. */
gboolean bh_sandbox_vchan_bound(const char *dir, int idmap_userns, gboolean *unsupported, GError **error);

/* After a stop: the tmpfs (if any) goes, and the directory is emptied. */
void bh_sandbox_vchan_release(const char *qube, const char *dir);
