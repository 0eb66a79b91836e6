/* xen-config.c — the libxl domain configuration of a qube (see xen-config.h).
 *
 * Owns every choice of how a qube looks to Xen. Must never: call into a
 * libxl context or a hypervisor, or write a file; it only checks that the
 * read-only inputs (kernel, template root) are there.
 */
#define G_LOG_DOMAIN "bh-xen"

#include "xen-config.h"

#include <libxl_utils.h>

#include "bulkhead/qubes.h"
#include "net-rules.h"

char *bh_xen_qube_dir(const char *state_dir, const char *qube)
{
    return g_build_filename(state_dir, "qubes", qube, NULL);
}

char *bh_xen_volume_path(const char *state_dir, const char *qube, const char *volume)
{
    g_autofree char *file = g_strconcat(volume, ".img", NULL);
    return g_build_filename(state_dir, "qubes", qube, file, NULL);
}

gboolean bh_xen_qube_has_own_root(const BhBackendQube *qube)
{
    return qube->root_template == NULL;
}

static gboolean bh_xen_fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean bh_xen_fail(GError **error, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *message = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error_literal(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, message);
    return FALSE;
}

static gboolean bh_xen_virt_mode(const BhBackendQube *qube, libxl_domain_type *out, GError **error)
{
    const char *mode = qube->virt_mode && *qube->virt_mode ? qube->virt_mode : "pvh";
    if (g_str_equal(mode, "pvh"))
        *out = LIBXL_DOMAIN_TYPE_PVH;
    else if (g_str_equal(mode, "pv"))
        *out = LIBXL_DOMAIN_TYPE_PV;
    else if (g_str_equal(mode, "hvm"))
        *out = LIBXL_DOMAIN_TYPE_HVM;
    else
        return bh_xen_fail(error, "qube %s: virt_mode '%s' is not one of pvh, pv, hvm", qube->name, mode);
    return TRUE;
}

static gboolean bh_xen_check_resources(const BhBackendQube *qube, GError **error)
{
    if (qube->memory_mib < BH_XEN_MIN_MEMORY_MIB || qube->memory_mib > BH_XEN_MAX_MEMORY_MIB)
        return bh_xen_fail(error, "qube %s: memory is %u MiB; it must be between %u and %u MiB", qube->name,
                           qube->memory_mib, BH_XEN_MIN_MEMORY_MIB, BH_XEN_MAX_MEMORY_MIB);
    if (qube->maxmem_mib != 0 && qube->maxmem_mib < qube->memory_mib)
        return bh_xen_fail(error,
                           "qube %s: maxmem (%u MiB) is below memory (%u MiB); raise maxmem, or set "
                           "it to 0 to turn memory balancing off",
                           qube->name, qube->maxmem_mib, qube->memory_mib);
    if (qube->maxmem_mib > BH_XEN_MAX_MEMORY_MIB)
        return bh_xen_fail(error, "qube %s: maxmem is %u MiB; it must be at most %u MiB", qube->name,
                           qube->maxmem_mib, BH_XEN_MAX_MEMORY_MIB);
    if (qube->vcpus < 1 || qube->vcpus > BH_XEN_MAX_VCPUS)
        return bh_xen_fail(error, "qube %s: vcpus is %u; it must be between 1 and %u", qube->name,
                           qube->vcpus, BH_XEN_MAX_VCPUS);
    return TRUE;
}

/* A kernel version names a directory under kernels_dir: nothing that could
 * climb out of it (the model checks this too; a backend does not rely on it). */
static gboolean bh_xen_kernel_version_ok(const char *version)
{
    return *version && *version != '.' && strchr(version, '/') == NULL;
}

/* Fills kernel, ramdisk and cmdline for a directly booted kernel. */
static gboolean bh_xen_kernel(const BhBackendQube *qube, const BhXenEnv *env, libxl_domain_build_info *b,
                              GError **error)
{
    const char *version = qube->kernel && *qube->kernel ? qube->kernel : "default";
    if (!bh_xen_kernel_version_ok(version))
        return bh_xen_fail(error, "qube %s: kernel '%s' is not a kernel version", qube->name, version);
    g_autofree char *dir = g_build_filename(env->kernels_dir, version, NULL);
    g_autofree char *kernel = g_build_filename(dir, "vmlinuz", NULL);
    g_autofree char *initramfs = g_build_filename(dir, "initramfs", NULL);

    if (!g_file_test(kernel, G_FILE_TEST_IS_REGULAR))
        return bh_xen_fail(error,
                           "qube %s: no kernel: %s does not exist; install a kernel there (a "
                           "directory with vmlinuz and optionally initramfs, see docs/xen.md) or "
                           "set the qube's kernel property to an installed version",
                           qube->name, kernel);
    b->kernel = g_steal_pointer(&kernel);
    if (g_file_test(initramfs, G_FILE_TEST_IS_REGULAR))
        b->ramdisk = g_steal_pointer(&initramfs);
    /* A template-based root is read-only: the guest puts its changes on the
     * volatile disk, which is new at every start (docs/xen.md). */
    b->cmdline =
        g_strdup_printf("root=/dev/xvda %s console=hvc0", bh_xen_qube_has_own_root(qube) ? "rw" : "ro");
    return TRUE;
}

static void bh_xen_disk(libxl_device_disk *disk, char *path, const char *vdev, gboolean writable,
                        const char *script)
{
    libxl_device_disk_init(disk);
    disk->pdev_path = path;
    disk->script = g_strdup(script);
    disk->vdev = g_strdup(vdev);
    disk->format = LIBXL_DISK_FORMAT_RAW;
    /* A phy disk: xen.c puts the image on a loop device of its own and
     * makes pdev_path that device before libxl sees it (xen-disks.h). */
    disk->backend = LIBXL_DISK_BACKEND_PHY;
    disk->readwrite = writable ? 1 : 0;
}

static gboolean bh_xen_disks(const BhBackendQube *qube, const BhXenEnv *env, libxl_domain_config *config,
                             GError **error)
{
    g_autofree char *root = NULL;
    gboolean own_root = bh_xen_qube_has_own_root(qube);

    if (own_root) {
        root = bh_xen_volume_path(env->state_dir, qube->name, "root");
    } else {
        root = bh_xen_volume_path(env->state_dir, qube->root_template, "root");
        if (!g_file_test(root, G_FILE_TEST_IS_REGULAR))
            return bh_xen_fail(error,
                               "qube %s: the root image of its template %s is missing (%s); install "
                               "the template's root.img there (docs/xen.md)",
                               qube->name, qube->root_template, root);
    }
    /* libxl_device_disk_dispose frees with free(): hand it malloc'd strings
     * (g_malloc is malloc in GLib >= 2.46). */
    config->disks = g_new0(libxl_device_disk, 3);
    config->num_disks = 3;
    bh_xen_disk(&config->disks[0], g_steal_pointer(&root), "xvda", own_root, env->block_script);
    bh_xen_disk(&config->disks[1], bh_xen_volume_path(env->state_dir, qube->name, "private"), "xvdb", TRUE,
                env->block_script);
    bh_xen_disk(&config->disks[2], bh_xen_volume_path(env->state_dir, qube->name, "volatile"), "xvdc", TRUE,
                env->block_script);
    return TRUE;
}

static gboolean bh_xen_nic(const BhBackendQube *qube, const BhXenEnv *env, libxl_domain_config *config,
                           GError **error)
{
    if (qube->netvm == NULL)
        return TRUE;
    if (env->is_running == NULL || !env->is_running(qube->netvm, env->user_data))
        return bh_xen_fail(error,
                           "qube %s: its netvm %s is not running; start %s first, or set the netvm "
                           "of %s to none",
                           qube->name, qube->netvm, qube->netvm, qube->name);
    if (env->gateway == NULL)
        return bh_xen_fail(error,
                           "qube %s: the address of its netvm %s is not known (its xenstore has no "
                           "bulkhead/net/ip: was it started by bulkheadd as a qube that provides "
                           "network?); restart %s",
                           qube->name, qube->netvm, qube->netvm);
    config->nics = g_new0(libxl_device_nic, 1);
    config->num_nics = 1;
    libxl_device_nic *nic = &config->nics[0];
    libxl_device_nic_init(nic);
    nic->devid = 0;
    /* By name, so the configuration does not depend on the netvm's domid of
     * the day; libxl resolves it when it creates the device. */
    nic->backend_domname = g_strdup(qube->netvm);
    /* In the netvm: the interface's name, the one its firewall chain is
     * jumped to from (net-rules.h), and the client's address, for the
     * route to it (libxl writes both in the vif's backend directory, where
     * the netvm's bulkhead-xen-net reads them). */
    nic->ifname = g_strdup_printf("vif%u", qube->qid);
    nic->ip = bh_net_address(qube->qid, qube->disposable);
    if (nic->ip == NULL)
        return bh_xen_fail(error, "qube %s: qid %u has no network address", qube->name, qube->qid);
    /* Xen's OUI, then a fixed byte and the 12-bit qid: stable across restarts. */
    const guint8 mac[6] = {0x00, 0x16, 0x3e, 0x5e, (qube->qid >> 8) & 0xff, qube->qid & 0xff};
    memcpy(nic->mac, mac, sizeof mac);
    return TRUE;
}

/* The guest's view of itself: /local/domain/<domid>/bulkhead/..., written by
 * libxl when it makes the domain, readable by the guest, owned by dom0. */
static void bh_xen_xsdata(const BhBackendQube *qube, const BhXenEnv *env, libxl_domain_create_info *c)
{
    GPtrArray *kv = g_ptr_array_new();
#define BH_KV(k, v)                                                                                          \
    do {                                                                                                     \
        g_ptr_array_add(kv, g_strdup(k));                                                                    \
        g_ptr_array_add(kv, v);                                                                              \
    } while (0)
    BH_KV("bulkhead/name", g_strdup(qube->name));
    BH_KV("bulkhead/qid", g_strdup_printf("%u", qube->qid));
    BH_KV("bulkhead/class", g_strdup(qube->klass ? qube->klass : "AppVM"));
    if (qube->label)
        BH_KV("bulkhead/label", g_strdup(qube->label));
    if (qube->netvm)
        BH_KV("bulkhead/netvm", g_strdup(qube->netvm));
    BH_KV("bulkhead/provides-network", g_strdup(qube->provides_network ? "1" : "0"));
    /* Networking, as Qubes' qubesdb gives it (/qubes-ip, /qubes-gateway,
     * ...): the qube's own address (also a netvm's gateway address on its
     * vifs), its gateway and the virtual DNS servers; a netvm's rules,
     * applied by its bulkhead-xen-net before it serves a vif. IPv6 is not
     * given on Xen yet (docs/xen.md). */
    char *address =
        qube->netvm || qube->provides_network ? bh_net_address(qube->qid, qube->disposable) : NULL;
    if (address) /* NULL for a qid out of range: bh_xen_nic refuses it */
        BH_KV("bulkhead/net/ip", address);
    if (qube->netvm && env->gateway) {
        BH_KV("bulkhead/net/gateway", g_strdup(env->gateway));
        BH_KV("bulkhead/net/dns", g_strdup(BH_NET_DNS1 " " BH_NET_DNS2));
    }
    if (qube->provides_network)
        BH_KV("bulkhead/net/rules", bh_net_rules_netvm(FALSE));
    BH_KV("bulkhead/vchan/gui", g_strdup_printf("%d", BH_XEN_GUI_PORT));
    BH_KV("bulkhead/vchan/rpc", g_strdup_printf("%d", BH_XEN_RPC_PORT));
#undef BH_KV
    g_ptr_array_add(kv, NULL);
    c->xsdata = (libxl_key_value_list)g_ptr_array_free(kv, FALSE);
}

gboolean bh_xen_config_build(const BhBackendQube *qube, const BhXenEnv *env, libxl_domain_config *config,
                             GError **error)
{
    libxl_domain_type type = LIBXL_DOMAIN_TYPE_INVALID;

    if (!bh_xen_virt_mode(qube, &type, error) || !bh_xen_check_resources(qube, error))
        return FALSE;

    libxl_domain_create_info *c = &config->c_info;
    libxl_domain_create_info_init(c);
    c->type = type;
    c->name = g_strdup(qube->name);
    /* A qube that provides network serves vifs of other domains: libxl grants
     * it the xenstore access a backend needs. */
    if (qube->provides_network)
        libxl_defbool_set(&c->driver_domain, true);
    bh_xen_xsdata(qube, env, c);

    libxl_domain_build_info *b = &config->b_info;
    libxl_domain_build_info_init_type(b, type);
    b->max_vcpus = (int)qube->vcpus;
    b->target_memkb = (guint64)qube->memory_mib * 1024;
    b->max_memkb = (guint64)(qube->maxmem_mib ? qube->maxmem_mib : qube->memory_mib) * 1024;
    /* PVH and HVM: the guest's RDTSC/RDTSCP run natively, never trapped and
     * emulated by Xen. libxl's default emulates them when Xen does not trust
     * the host's TSC (not invariant, as under QEMU's emulation, where Xen then
     * fails on RDTSCP: "SVM Insn len emulation failed", docs/xen.md). Emulation
     * exists to keep the TSC consistent across a migration or a save/restore,
     * which bulkheadd never does; the guest keeps time with Xen's pvclock
     * either way. PV keeps libxl's default (its kernel uses pvclock). */
    if (type != LIBXL_DOMAIN_TYPE_PV)
        b->tsc_mode = LIBXL_TSC_MODE_NATIVE;

    if (type == LIBXL_DOMAIN_TYPE_HVM && !(qube->kernel && *qube->kernel)) {
        /* HVM without a kernel version boots its own from the root disk. */
        b->u.hvm.boot = g_strdup("c");
    } else if (!bh_xen_kernel(qube, env, b, error)) {
        return FALSE;
    }

    /* Power-off, reboot and crash all end the domain; bulkheadd decides what
     * happens next (xen.c reports Halted or Crashed). */
    config->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    config->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    config->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    config->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;

    return bh_xen_disks(qube, env, config, error) && bh_xen_nic(qube, env, config, error);
}

char *bh_xen_config_to_json(libxl_domain_config *config)
{
    /* libxl's JSON generator needs no context (it only uses one for its
     * allocation pool), so this works on a machine without Xen. */
    char *json = libxl_domain_config_to_json(NULL, config);
    char *copy = g_strdup(json);
    free(json);
    return copy;
}
