/* sandbox-layout.h — where a sandbox qube's data lives and how its root is
 * assembled.
 *
 * Owns the on-disk volumes (<state_dir>/qubes/<name>/: private/, and for a
 * TemplateVM or StandaloneVM its root layers root/{usr,etc,var,opt} and
 * root-work/, which a StandaloneVM's first start moves into root.img,
 * sandbox-private.h), the guest programs this build offers inside every qube, and
 * the translation of one qube into a BhSandboxSetup (layers, staging) plus a
 * bubblewrap command line. Pure data in, data out: it starts nothing.
 *
 * It must never put anything of the host into a qube beyond /usr (read-only
 * below the qube's own writable layer), the guest programs, the qube's own
 * private directory and its own vchan directory.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "sandbox-spawn.h"

G_BEGIN_DECLS

/* Host uids of qubes when the daemon is root: base + qid (qid < 4096). */
#define BH_SANDBOX_UID_BASE 0x300000u
/* The user inside every qube. */
#define BH_SANDBOX_USER_UID   1000u
#define BH_SANDBOX_USER_NAME  "user"
#define BH_SANDBOX_HOME       "/home/user"
#define BH_SANDBOX_FONT_CACHE "/var/cache/fontconfig"
/* Where the guest programs and the vchan directory appear inside. */
#define BH_SANDBOX_GUEST_BIN   "/run/bulkhead/bin"
#define BH_SANDBOX_GUEST_VCHAN "/run/bulkhead/vchan"
/* A qube's services (qvm-service): an empty file per service set on, and
 * per service set off; read-only. /run/qubes-service links to the first. */
#define BH_SANDBOX_GUEST_SERVICES     "/run/bulkhead/service"
#define BH_SANDBOX_GUEST_SERVICES_OFF "/run/bulkhead/service-off"
#define BH_SANDBOX_GUEST_RUNTIME      "/run/user/1000"
/* Read-only desktop data for the qube's own programs (file managers'
 * "Copy to other qube…"): the first of XDG_CONFIG_DIRS and XDG_DATA_DIRS. */
#define BH_SANDBOX_GUEST_SHARE "/run/bulkhead/share"
#define BH_SANDBOX_GUEST_PATH  BH_SANDBOX_GUEST_BIN ":/usr/local/bin:/usr/bin:/bin"
#define BH_SANDBOX_INIT        "bulkhead-sandbox-init"

/* Descriptor numbers in the bubblewrap process. */
enum {
    BH_SANDBOX_FD_INFO = 3,     /* bwrap --info-fd: JSON with child-pid */
    BH_SANDBOX_FD_BLOCK = 4,    /* bwrap --block-fd: released once the network is set up */
    BH_SANDBOX_FD_READY = 5,    /* inherited by the init: "ready\n" */
    BH_SANDBOX_FD_IDMAP = 6,    /* user namespace describing the qube's idmapping */
    BH_SANDBOX_FD_CGROUP = 7,   /* 7..9: cgroup.procs to join */
    BH_SANDBOX_FD_SECCOMP = 10, /* bwrap --seccomp: the filter (sandbox-seccomp.h) */
    BH_SANDBOX_FD_PRIVATE = 12, /* the loop device of the private volume (sandbox-private.h) */
    BH_SANDBOX_FD_ROOT = 13,    /* the loop device of a StandaloneVM's root volume (sandbox-private.h) */
};

/* Ptys one qube may hold at once (its own devpts instance's max=): with the
 * kernel's default pool of 4096 - 1024 reserved for the host's instance,
 * 48 qubes each at the limit still leave the pool open. */
#define BH_SANDBOX_PTY_MAX 64u

/* A qube's private volume when its private_size is not given (MiB). */
#define BH_SANDBOX_PRIVATE_MIB 2048u
/* A StandaloneVM's root volume when its root_size is not given (MiB). */
#define BH_SANDBOX_ROOT_MIB 10240u

/* The layers of a qube's root (besides /usr, which is always a layer). */
typedef enum {
    BH_LAYER_USR,
    BH_LAYER_ETC,
    BH_LAYER_VAR,
    BH_LAYER_OPT,
    BH_LAYER_N,
} BhSandboxLayer;

const char *bh_sandbox_layer_name(BhSandboxLayer layer);

/* What one start needs to know, resolved by the backend. */
typedef struct {
    const char *name;
    guint32 qid;
    gboolean privileged;
    uid_t host_uid; /* the qube's host uid (privileged) or the daemon's */
    gid_t host_gid;
    const char *qube_dir;   /* <state>/qubes/<name> */
    const char *root_dir;   /* the layers the qube runs on: its template's, or its own */
    gboolean own_root;      /* TemplateVM/StandaloneVM: root_dir is its own */
    gboolean root_readonly; /* with own_root: nothing it writes to its root is kept */
    const char *base_root;  /* the tree below the layers: "/" (the host: only its /usr
                               is used) or a root_path tree */
    const char *stage_dir;  /* an empty host directory to mount the staging tmpfs on; its
                               path must be traversable by host_uid */
    const char *vchan_dir;  /* the qube's vchan directory on the host */
    const char *bin_dir;    /* the guest programs, one directory (bh_sandbox_guest_bin_make) */
    /* This build's call services, shown read-only at BH_RPC_SERVICES_RUN, or NULL. */
    const char *services_dir;
    /* core/filecopy/guest-share (file-manager actions), shown read-only at
     * BH_SANDBOX_GUEST_SHARE, or NULL. */
    const char *share_dir;
    GPtrArray *root_links; /* "name=target" pairs: top-level symlinks like bin=usr/bin */
    gboolean disposable;
    gboolean seccomp;       /* the filter is on BH_SANDBOX_FD_SECCOMP */
    gboolean private_image; /* the home is the image on BH_SANDBOX_FD_PRIVATE, not qube_dir/private */
    /* The layers (root/, root-work/) are inside the root volume on
     * BH_SANDBOX_FD_ROOT, all owned by root on disk and shown through one
     * idmapped mount (upper layers included), not root_dir on dom0's disk:
     * the qube's own (own_root) or its template's (then only lower layers). */
    gboolean root_image;
    const char *bwrap; /* the bubblewrap binary */
    /* A host file bound read-only on /etc/resolv.conf (the virtual DNS
     * servers of the netvm model); NULL: the root's own. */
    const char *resolv_conf;
    const char *font_cache; /* the host's fontconfig cache directory, shown read-only at the
                               same path (only with base_root "/"), or NULL */
    /* The qube's services, "NAME=1" / "NAME=0" (BhBackendQube.services), or
     * NULL: an empty file per service in BH_SANDBOX_GUEST_SERVICES (on) or
     * BH_SANDBOX_GUEST_SERVICES_OFF (off), both read-only in the qube. */
    const char *const *services;
} BhSandboxPlan;

/* TRUE when what the qube writes to its root is kept (a writable template). */
gboolean bh_sandbox_layout_writes_kept(const BhSandboxPlan *plan);
/* The set-up steps and bubblewrap arguments for a plan. */
BhSandboxSetup *bh_sandbox_layout_setup(const BhSandboxPlan *plan);
GPtrArray *bh_sandbox_layout_bwrap_argv(const BhSandboxPlan *plan);
/* The environment of everything started in a qube (init, run). */
GPtrArray *bh_sandbox_layout_env(const char *name, guint32 qid);

/* ---- volumes ----------------------------------------------------------------- */

/* <state>/qubes/<name>: private/ always, root layers when own_root (unless
 * the qube has a root volume, root.img, which holds them). A
 * disposable copies disp_source's private/ (a missing one gives an empty
 * home; a running source is copied live, never following what it changes).
 * Existing parts are kept, and whatever the qube made of the inside of its
 * layers (a link in place of /var/tmp) is left as it is. Everything below
 * qube_dir goes through sandbox-fsops.h. base_root is the tree the root layers sit
 * on: for the host's "/", the template's /etc starts as a copy of what every
 * host user may read of the host's /etc; a root_path tree keeps its own. */
gboolean bh_sandbox_volumes_create(const char *qube_dir, gboolean own_root, const char *disp_source_dir,
                                   const char *base_root, GError **error);
/* Copies everything of source_dir to qube_dir (which must not exist), but
 * the overlay scratch root-work/ (made fresh); files of the source's host
 * uid in its usr layer become the new qube's; set-id bits and security.*
 * xattrs are not copied. */
gboolean bh_sandbox_volumes_clone(const char *source_dir, const char *qube_dir, uid_t source_uid,
                                  uid_t dest_uid, GError **error);
gboolean bh_sandbox_volumes_remove(const char *qube_dir, GError **error);

/* Copies a tree to dest (which must not exist): regular files, directories
 * and symbolic links (as links) only, without set-id bits; with
 * world_readable_only, what others could not read on the host stays out
 * (an /etc without shadow, private keys and the like). */
gboolean bh_sandbox_copy_tree(const char *source, const char *dest, gboolean world_readable_only,
                              GError **error);

/* ---- guest programs ------------------------------------------------------------ */

/* The guest programs of this build or installation: with the daemon running
 * from the build tree, found there; else in the installation's directories.
 * BH_SANDBOX_GUEST_DIRS (colon-separated) replaces the search. Missing
 * optional programs are skipped; the init is required. */
GPtrArray *bh_sandbox_find_guest_programs(GError **error);
/* The names looked for, NULL-terminated. */
const char *const *bh_sandbox_guest_program_names(void);
/* In each daemon's staging directory (a '.' first, as its other files,
 * sandbox-qube.h): the copies of the guest programs every qube binds. */
#define BH_SANDBOX_GUEST_BIN_DIR ".bin"
/* Copies the programs (absolute host paths; basename = name inside) into
 * <stage_base>/BH_SANDBOX_GUEST_BIN_DIR, root's, mode 0555, and returns that
 * directory: every qube binds it whole at /run/bulkhead/bin, one mount where
 * a bind per program took sixteen (bench/RESULTS.md, "Start at scale VIII").
 * Copies of an earlier daemon of the same pid are replaced, each by a rename. */
char *bh_sandbox_guest_bin_make(const char *stage_base, GPtrArray *programs, GError **error);
/* Removes that directory and what is in it (no qube of its daemon runs). */
void bh_sandbox_guest_bin_remove(const char *stage_base);
/* The folder of Bulkhead's own call services (docs/rpc.md, "Services in the
 * target") found the same way: rpc-services/ in a BH_SANDBOX_GUEST_DIRS
 * directory, the build tree's, or the installed one; NULL when none. */
char *bh_sandbox_find_services_dir(void);
/* The guest-share folder (desktop data for qubes, docs/filecopy.md "File
 * managers") found the same way: guest-share/ in a BH_SANDBOX_GUEST_DIRS
 * directory, the source tree's, or the installed one; NULL when none. */
char *bh_sandbox_find_share_dir(void);

/* "bin=usr/bin" for each top-level symlink of / pointing into usr/. */
GPtrArray *bh_sandbox_root_links(const char *root);

G_END_DECLS
