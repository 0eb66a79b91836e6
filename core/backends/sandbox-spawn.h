/* sandbox-spawn.h — what runs between fork and exec for a sandbox qube.
 *
 * Owns the child-side program of the sandbox backend, written as plain
 * data prepared by the parent and executed in the child with async-signal-safe
 * system calls only (the daemon is multi-threaded):
 *   - BhSandboxSetup: before bubblewrap starts, join the qube's cgroups, take
 *     a private mount namespace, build the qube's root from layers (idmapped
 *     binds, overlays, a staging tmpfs), hand the results to bubblewrap as
 *     descriptors, and become the qube's own host uid;
 *   - the same program for the uplink of a netvm (sandbox-net.c): a root
 *     of its own holding only what slirp4netns needs (pivoted into), then
 *     the qube's host uid, then a seccomp filter (no AF_UNIX sockets).
 * The child ends with a session keyring of its own.
 * Nothing of dom0 ever enters a running qube from here: commands reach a qube
 * only through its own agent (docs/sandbox.md, "Running commands").
 * A failing step writes one line to stderr and exits with status 125.
 *
 * It must never allocate, lock or log through GLib in the child, and never
 * leave the child with more privilege than the qube's user.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Exit status of a child whose set-up failed (bubblewrap uses 1 and 128+n). */
#define BH_SANDBOX_SETUP_FAILED 125

typedef struct BhSandboxSetup BhSandboxSetup;

/* privileged: the daemon is root: idmapped layers and a host uid per qube.
 * Otherwise the child makes a user namespace mapping root to the daemon's
 * own uid and uses plain binds (see docs/sandbox.md). */
BhSandboxSetup *bh_sandbox_setup_new(gboolean privileged, uid_t host_uid, gid_t host_gid);
void bh_sandbox_setup_free(BhSandboxSetup *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhSandboxSetup, bh_sandbox_setup_free)

/* Descriptors as numbered in the child (the spawner maps them there). */
void bh_sandbox_setup_set_idmap_fd(BhSandboxSetup *s, int child_fd);
void bh_sandbox_setup_add_cgroup_fd(BhSandboxSetup *s, int child_fd);
/* A seccomp filter (struct sock_filter[], as sandbox-seccomp.h builds
 * them) loaded after everything else, with no new privileges. */
void bh_sandbox_setup_seccomp(BhSandboxSetup *s, GBytes *program);

/* Steps, run in order. Paths are host paths as root sees them. */
void bh_sandbox_setup_tmpfs(BhSandboxSetup *s, const char *target, const char *options);
void bh_sandbox_setup_mkdir(BhSandboxSetup *s, const char *path, unsigned mode);
/* Gives path to the qube's host uid (the top of a writable layer). */
void bh_sandbox_setup_chown(BhSandboxSetup *s, const char *path);
void bh_sandbox_setup_touch(BhSandboxSetup *s, const char *path);
/* A bind whose files appear owned by the qube's user (plain bind when not
 * privileged). */
void bh_sandbox_setup_idmap(BhSandboxSetup *s, const char *source, const char *target);
void bh_sandbox_setup_bind_ro(BhSandboxSetup *s, const char *source, const char *target);
/* A devpts instance of its own at target, with at most max ptys. */
void bh_sandbox_setup_devpts(BhSandboxSetup *s, const char *target, unsigned max);
/* A volume (the private one, a root): mounts the (ext4) loop device on child_fd at target. */
void bh_sandbox_setup_private(BhSandboxSetup *s, const char *target, int child_fd);
/* lowerdirs: colon-separated, top first; upper/work NULL for a read-only
 * overlay. */
void bh_sandbox_setup_overlay(BhSandboxSetup *s, const char *target, const char *lowerdirs, const char *upper,
                              const char *work);

/* The same with upper and work on an idmapped mount (a root volume's):
 * mounted with the qube's fs ids, so that what overlayfs itself makes there
 * is root's on disk. */
void bh_sandbox_setup_overlay_idmapped(BhSandboxSetup *s, const char *target, const char *lowerdirs,
                                       const char *upper, const char *work);

/* A symbolic link at path pointing to target. */
void bh_sandbox_setup_symlink(BhSandboxSetup *s, const char *target, const char *path);
/* A bind of one file as it is (a device node, a namespace file). */
void bh_sandbox_setup_bind(BhSandboxSetup *s, const char *source, const char *target);
/* root becomes the child's root, read-only, and everything else of the
 * host's mount tree goes. */
void bh_sandbox_setup_pivot(BhSandboxSetup *s, const char *root);
/* Detaches every mount of the namespace except "/" and the mount points at,
 * above or below one of keep (NULL-terminated absolute paths): what is
 * needed after this step (bubblewrap's binary, its /proc and /dev, the
 * staged parts). At most BH_SANDBOX_MOUNT_TABLE_MAX bytes of the mount table
 * are looked at. Privileged set-ups only (a user namespace's inherited
 * mounts are locked). */
#define BH_SANDBOX_MOUNT_TABLE_MAX (256 * 1024)
void bh_sandbox_setup_detach_others(BhSandboxSetup *s, const char *const *keep);

/* GSpawnChildSetupFunc; user_data is the BhSandboxSetup. */
void bh_sandbox_setup_child(gpointer user_data);

/* A human-readable list of the steps, for --verbose logs and tests. */
char *bh_sandbox_setup_describe(const BhSandboxSetup *s);

G_END_DECLS
