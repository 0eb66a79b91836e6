/* xen-config.h — from a qube (BhBackendQube) to a libxl domain configuration.
 *
 * Owns the mapping of the Qubes-like model onto libxl: virtualisation mode,
 * memory, vcpus, kernel/initramfs/command line, the disks (template root
 * read-only, private, volatile), the vif served by the netvm (named vif<qid>
 * in the netvm, with the client's address), the xenstore metadata the guest
 * reads (name, label, vchan ports, its addresses; a netvm's nftables rules),
 * and where every file
 * of a qube lives on disk. It runs without a hypervisor (the configuration is
 * plain data and libxl prints it as JSON without a context), which is what
 * lets the tests compare it with golden files.
 * Must never: create or touch a domain, or write volumes (xen-volumes.c and
 * xen.c do that); decide policy (the daemon hands in a checked qube).
 */
#pragma once

#include <libxl.h>

#include "backend.h"

G_BEGIN_DECLS

/* What the configuration is built against. */
typedef struct {
    const char *state_dir;    /* volumes: <state_dir>/qubes/<name>/{root,private,volatile}.img */
    const char *kernels_dir;  /* <kernels_dir>/<version or "default">/{vmlinuz,initramfs} */
    const char *block_script; /* every disk's hotplug script (bulkhead-xen-block); NULL: libxl's */
    /* Whether the named qube runs as a domain now (the netvm check); NULL:
     * nothing runs. */
    gboolean (*is_running)(const char *qube, gpointer user_data);
    gpointer user_data;
    /* For a qube with a netvm: the netvm's own address, its gateway (what
     * dom0 wrote as the netvm's bulkhead/net/ip); NULL: not known. */
    const char *gateway;
} BhXenEnv;

/* Limits the backend enforces on top of the model's (memory in MiB). */
#define BH_XEN_MIN_MEMORY_MIB 32u
#define BH_XEN_MAX_MEMORY_MIB 1048576u
#define BH_XEN_MAX_VCPUS      128u

/* The vchan ports a guest finds in xenstore (bulkhead/vchan/{gui,rpc}). */
#define BH_XEN_GUI_PORT 6000
#define BH_XEN_RPC_PORT 512

/* Fills *config (initialised by the caller with libxl_domain_config_init)
 * for qube. Fails with BH_BACKEND_ERROR_FAILED and a message that says what
 * to fix: unknown virt_mode, memory/maxmem/vcpus out of range, the kernel or
 * the template's root image missing, the netvm not running or its address
 * unknown (env->gateway). On failure
 * *config holds partial data: dispose it as usual. */
gboolean bh_xen_config_build(const BhBackendQube *qube, const BhXenEnv *env, libxl_domain_config *config,
                             GError **error);

/* libxl's own JSON for config (libxl_domain_config_to_json, no context). */
char *bh_xen_config_to_json(libxl_domain_config *config);

/* Paths. The directory of a qube's volumes and one volume in it. */
char *bh_xen_qube_dir(const char *state_dir, const char *qube);
char *bh_xen_volume_path(const char *state_dir, const char *qube, const char *volume);

/* Volume sizes (sparse files; the guest grows its filesystem). */
#define BH_XEN_ROOT_SIZE     (G_GUINT64_CONSTANT(20) << 30)
#define BH_XEN_PRIVATE_SIZE  (G_GUINT64_CONSTANT(2) << 30)
#define BH_XEN_VOLATILE_SIZE (G_GUINT64_CONSTANT(10) << 30)

/* Whether the qube has its own root image (TemplateVM, StandaloneVM). */
gboolean bh_xen_qube_has_own_root(const BhBackendQube *qube);

G_END_DECLS
