/* test-xen-config.c — the xen backend without a hypervisor: libxl domain
 * configurations for every class and virt mode against golden JSON printed
 * by libxl itself, the error paths, volumes on a real filesystem, dom0
 * detection, the backend refusing to open where there is no Xen, which
 * loop devices it would detach as stale, and the loop devices it attaches
 * under a domain's disks (xen-disks.c: the sharing rule on a sysfs tree of
 * its own; real loop devices where this test may make them).
 *
 * Golden files: tests/data/xen/<case>.json, with the test's temporary state
 * directory written as @STATE@. After a deliberate change, a human runs
 *   build/tests/unit/xen/test-xen-config --regenerate
 * and reviews the diff; the test itself never rewrites them.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "net-rules.h"
#include "volume-leftovers.h"
#include "xen-config.h"
#include "xen-disks.h"
#include "xen-stale-loops.h"
#include "xen-volumes.h"
#include "xen.h"

typedef struct {
    char *tmp;
    char *state;
    char *kernels;
    const char *const *running; /* domains the netvm check finds */
    const char *gateway;        /* sys-firewall's address (its xenstore's, in the daemon); sys-net's
                                   is 10.137.0.1 */
} Fixture;

static gboolean regenerate;

static void write_file(const char *path, const char *text)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
    f->tmp = g_dir_make_tmp("bh-xen-XXXXXX", NULL);
    g_assert_nonnull(f->tmp);
    f->state = g_build_filename(f->tmp, "state", NULL);
    f->kernels = g_build_filename(f->state, "vm-kernels", NULL);
    /* A default kernel with an initramfs, a versioned one without. */
    g_autofree char *k1 = g_build_filename(f->kernels, "default", "vmlinuz", NULL);
    g_autofree char *i1 = g_build_filename(f->kernels, "default", "initramfs", NULL);
    g_autofree char *k2 = g_build_filename(f->kernels, "6.1.0-13", "vmlinuz", NULL);
    write_file(k1, "kernel");
    write_file(i1, "initramfs");
    write_file(k2, "kernel");
    g_autofree char *root = bh_xen_volume_path(f->state, "debian-12", "root");
    write_file(root, "root");
    static const char *const running[] = {"sys-net", "sys-firewall", NULL};
    f->running = running;
    f->gateway = "10.137.0.2";
}

static void rm_rf(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            rm_rf(child);
        }
        g_dir_close(dir);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    rm_rf(f->tmp);
    g_free(f->tmp);
    g_free(f->state);
    g_free(f->kernels);
}

static gboolean fixture_is_running(const char *qube, gpointer user_data)
{
    Fixture *f = user_data;
    return f->running && g_strv_contains(f->running, qube);
}

static BhXenEnv fixture_env_for(Fixture *f, const BhBackendQube *q)
{
    return (BhXenEnv){
        .state_dir = f->state,
        .kernels_dir = f->kernels,
        .is_running = fixture_is_running,
        .user_data = f,
        .gateway = q && g_strcmp0(q->netvm, "sys-net") == 0 ? "10.137.0.1" : f->gateway,
    };
}

static BhXenEnv fixture_env(Fixture *f)
{
    return fixture_env_for(f, NULL);
}

/* ---- qubes of every kind ---------------------------------------------------- */

static BhBackendQube appvm(void)
{
    return (BhBackendQube){
        .name = "work",
        .qid = 3,
        .klass = "AppVM",
        .label = "blue",
        .template_name = "debian-12",
        .root_template = "debian-12",
        .netvm = "sys-firewall",
        .memory_mib = 400,
        .maxmem_mib = 4000,
        .vcpus = 2,
        .virt_mode = "pvh",
    };
}

typedef struct {
    const char *name;
    BhBackendQube qube;
} GoldenCase;

static GPtrArray *golden_cases(void)
{
    GPtrArray *cases = g_ptr_array_new_with_free_func(g_free);
#define ADD(n, ...)                                                                                          \
    do {                                                                                                     \
        GoldenCase *c = g_new0(GoldenCase, 1);                                                               \
        c->name = n;                                                                                         \
        c->qube = appvm();                                                                                   \
        __VA_ARGS__;                                                                                         \
        g_ptr_array_add(cases, c);                                                                           \
    } while (0)
    ADD("appvm-pvh", (void)0);
    ADD("appvm-pv", c->qube.virt_mode = "pv");
    ADD("appvm-hvm", c->qube.virt_mode = "hvm");
    ADD("appvm-hvm-kernel", c->qube.virt_mode = "hvm"; c->qube.kernel = "6.1.0-13");
    ADD("appvm-default-mode", c->qube.virt_mode = NULL; c->qube.vcpus = 1; c->qube.memory_mib = 32;
        c->qube.maxmem_mib = 0);
    ADD("templatevm-pvh", c->qube.name = "debian-12"; c->qube.qid = 1; c->qube.klass = "TemplateVM";
        c->qube.label = "black"; c->qube.template_name = NULL; c->qube.root_template = NULL;
        c->qube.netvm = NULL);
    ADD("templatevm-pv", c->qube.name = "debian-12"; c->qube.qid = 1; c->qube.klass = "TemplateVM";
        c->qube.label = "black"; c->qube.template_name = NULL; c->qube.root_template = NULL;
        c->qube.netvm = NULL; c->qube.virt_mode = "pv");
    ADD("standalonevm-pvh", c->qube.name = "legacy"; c->qube.qid = 9; c->qube.klass = "StandaloneVM";
        c->qube.label = "purple"; c->qube.template_name = NULL; c->qube.root_template = NULL;
        c->qube.kernel = "6.1.0-13"; c->qube.maxmem_mib = 0; c->qube.memory_mib = 1024);
    ADD("standalonevm-hvm", c->qube.name = "windows"; c->qube.qid = 10; c->qube.klass = "StandaloneVM";
        c->qube.label = "orange"; c->qube.template_name = NULL; c->qube.root_template = NULL;
        c->qube.virt_mode = "hvm"; c->qube.vcpus = 4);
    ADD("dispvm-pvh", c->qube.name = "disp4095"; c->qube.qid = 4095; c->qube.klass = "DispVM";
        c->qube.label = "red"; c->qube.template_name = "default-dvm"; c->qube.disposable = TRUE);
    ADD("dispvm-pv", c->qube.name = "disp7"; c->qube.qid = 7; c->qube.klass = "DispVM"; c->qube.label = "red";
        c->qube.template_name = "default-dvm"; c->qube.disposable = TRUE; c->qube.virt_mode = "pv";
        c->qube.netvm = NULL);
    ADD("netvm-firewall-pvh", c->qube.name = "sys-firewall"; c->qube.qid = 2; c->qube.label = "green";
        c->qube.netvm = "sys-net"; c->qube.provides_network = TRUE);
    ADD("netvm-net-hvm", c->qube.name = "sys-net"; c->qube.qid = 1; c->qube.label = "red";
        c->qube.netvm = NULL; c->qube.provides_network = TRUE; c->qube.virt_mode = "hvm";
        c->qube.maxmem_mib = 0);
#undef ADD
    return cases;
}

/* libxl's JSON with the temporary directory made stable. */
static char *config_json(Fixture *f, const BhBackendQube *qube)
{
    g_autoptr(GError) error = NULL;
    BhXenEnv env = fixture_env_for(f, qube);
    libxl_domain_config config;
    libxl_domain_config_init(&config);
    gboolean ok = bh_xen_config_build(qube, &env, &config, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    g_autofree char *json = bh_xen_config_to_json(&config);
    libxl_domain_config_dispose(&config);
    g_assert_nonnull(json);
    g_auto(GStrv) parts = g_strsplit(json, f->state, -1);
    return g_strjoinv("@STATE@", parts);
}

static char *golden_path(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".json", NULL);
    return g_build_filename(g_getenv("BH_SOURCE_ROOT"), "tests", "data", "xen", file, NULL);
}

static void test_golden(Fixture *f, gconstpointer data)
{
    const GoldenCase *c = data;
    g_autofree char *json = config_json(f, &c->qube);
    g_autofree char *path = golden_path(c->name);
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    g_file_get_contents(path, &expected, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json, ==, expected);

    /* That libxl also reads it back (libxl_domain_config_from_json) needs a
     * libxl context, so a hypervisor: tests/xen/ checks it in dom0. */
}

/* The properties that must show, checked field by field so that a golden
 * file regenerated by mistake cannot hide a wrong mapping. */
static void test_mapping(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    BhXenEnv env = fixture_env(f);
    libxl_domain_config config;
    BhBackendQube q = appvm();

    libxl_domain_config_init(&config);
    g_assert_true(bh_xen_config_build(&q, &env, &config, &error));
    g_assert_cmpint(config.c_info.type, ==, LIBXL_DOMAIN_TYPE_PVH);
    g_assert_cmpstr(config.c_info.name, ==, "work");
    g_assert_cmpuint(config.b_info.target_memkb, ==, 400 * 1024);
    g_assert_cmpuint(config.b_info.max_memkb, ==, 4000 * 1024);
    g_assert_cmpint(config.b_info.max_vcpus, ==, 2);
    /* PVH: the TSC is never emulated (xen-config.c says why). */
    g_assert_cmpint(config.b_info.tsc_mode, ==, LIBXL_TSC_MODE_NATIVE);
    g_autofree char *kernel = g_build_filename(f->kernels, "default", "vmlinuz", NULL);
    g_assert_cmpstr(config.b_info.kernel, ==, kernel);
    g_assert_nonnull(strstr(config.b_info.cmdline, "root=/dev/xvda ro"));
    g_assert_cmpint(config.num_disks, ==, 3);
    g_autofree char *troot = bh_xen_volume_path(f->state, "debian-12", "root");
    g_assert_cmpstr(config.disks[0].pdev_path, ==, troot);
    g_assert_cmpstr(config.disks[0].vdev, ==, "xvda");
    g_assert_cmpint(config.disks[0].readwrite, ==, 0);
    g_assert_cmpstr(config.disks[1].vdev, ==, "xvdb");
    g_assert_cmpint(config.disks[1].readwrite, ==, 1);
    g_assert_cmpstr(config.disks[2].vdev, ==, "xvdc");
    g_assert_cmpint(config.num_nics, ==, 1);
    g_assert_cmpstr(config.nics[0].backend_domname, ==, "sys-firewall");
    g_assert_cmpuint(config.nics[0].mac[5], ==, 3);
    /* The vif's name in the netvm (its firewall chain's) and its address. */
    g_assert_cmpstr(config.nics[0].ifname, ==, "vif3");
    g_assert_cmpstr(config.nics[0].ip, ==, "10.137.0.3");
    g_autoptr(GHashTable) xs = g_hash_table_new(g_str_hash, g_str_equal);
    for (char **kv = config.c_info.xsdata; kv && kv[0]; kv += 2)
        g_hash_table_insert(xs, kv[0], kv[1]);
    g_assert_cmpstr(g_hash_table_lookup(xs, "bulkhead/vchan/gui"), ==, "6000");
    /* Its addresses as Qubes gives them; no netvm's rules in a client. */
    g_assert_cmpstr(g_hash_table_lookup(xs, "bulkhead/net/ip"), ==, "10.137.0.3");
    g_assert_cmpstr(g_hash_table_lookup(xs, "bulkhead/net/gateway"), ==, "10.137.0.2");
    g_assert_cmpstr(g_hash_table_lookup(xs, "bulkhead/net/dns"), ==, "10.139.1.1 10.139.1.2");
    g_assert_null(g_hash_table_lookup(xs, "bulkhead/net/rules"));
    g_clear_pointer(&xs, g_hash_table_unref);
    libxl_domain_config_dispose(&config);

    /* A netvm gets the table net-rules.h makes, its own address, and no
     * gateway when it has no netvm; a disposable client its 10.138 address. */
    BhBackendQube net = appvm();
    net.name = "sys-net";
    net.qid = 1;
    net.netvm = NULL;
    net.provides_network = TRUE;
    libxl_domain_config_init(&config);
    g_assert_true(bh_xen_config_build(&net, &env, &config, &error));
    g_assert_cmpint(config.num_nics, ==, 0);
    xs = g_hash_table_new(g_str_hash, g_str_equal);
    for (char **kv = config.c_info.xsdata; kv && kv[0]; kv += 2)
        g_hash_table_insert(xs, kv[0], kv[1]);
    g_assert_cmpstr(g_hash_table_lookup(xs, "bulkhead/net/ip"), ==, "10.137.0.1");
    g_assert_null(g_hash_table_lookup(xs, "bulkhead/net/gateway"));
    g_autofree char *rules = bh_net_rules_netvm(FALSE);
    g_assert_cmpstr(g_hash_table_lookup(xs, "bulkhead/net/rules"), ==, rules);
    g_assert_nonnull(strstr(rules, "iifname \"vif*\" oifname \"vif*\" drop"));
    g_clear_pointer(&xs, g_hash_table_unref);
    libxl_domain_config_dispose(&config);
    BhBackendQube disp = appvm();
    disp.qid = 7;
    disp.disposable = TRUE;
    libxl_domain_config_init(&config);
    g_assert_true(bh_xen_config_build(&disp, &env, &config, &error));
    g_assert_cmpstr(config.nics[0].ip, ==, "10.138.0.7");
    g_assert_cmpstr(config.nics[0].ifname, ==, "vif7");
    libxl_domain_config_dispose(&config);

    /* A template's own root is writable, its kernel line says so. */
    q.name = "debian-12";
    q.root_template = NULL;
    libxl_domain_config_init(&config);
    g_assert_true(bh_xen_config_build(&q, &env, &config, &error));
    g_assert_cmpint(config.disks[0].readwrite, ==, 1);
    g_assert_nonnull(strstr(config.b_info.cmdline, "root=/dev/xvda rw"));
    /* Every disk gets the backend's block script; without one, libxl's.
     * Each is a phy disk: the start puts the image on a loop device first
     * (xen-disks.h), and the image stays pdev_path until then. */
    g_assert_null(config.disks[0].script);
    libxl_domain_config_dispose(&config);
    env.block_script = "/usr/libexec/bulkhead/bulkhead-xen-block";
    libxl_domain_config_init(&config);
    g_assert_true(bh_xen_config_build(&q, &env, &config, &error));
    for (int i = 0; i < config.num_disks; i++) {
        g_assert_cmpstr(config.disks[i].script, ==, env.block_script);
        g_assert_cmpint(config.disks[i].backend, ==, LIBXL_DISK_BACKEND_PHY);
        g_assert_true(g_str_has_suffix(config.disks[i].pdev_path, ".img"));
    }
    libxl_domain_config_dispose(&config);
    env.block_script = NULL;

    /* PV keeps libxl's default TSC mode. */
    q.virt_mode = "pv";
    libxl_domain_config_init(&config);
    g_assert_true(bh_xen_config_build(&q, &env, &config, &error));
    g_assert_cmpint(config.b_info.tsc_mode, ==, LIBXL_TSC_MODE_DEFAULT);
    libxl_domain_config_dispose(&config);
}

/* ---- errors ---------------------------------------------------------------- */

static void expect_error(Fixture *f, const BhBackendQube *q, const char *const *needles)
{
    g_autoptr(GError) error = NULL;
    BhXenEnv env = fixture_env(f);
    libxl_domain_config config;
    libxl_domain_config_init(&config);
    g_assert_false(bh_xen_config_build(q, &env, &config, &error));
    libxl_domain_config_dispose(&config);
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED);
    g_test_message("%s", error->message);
    for (; *needles; needles++)
        if (!strstr(error->message, *needles))
            g_error("'%s' does not say '%s'", error->message, *needles);
}

#define EXPECT(q, ...) expect_error(f, &(q), (const char *const[]){__VA_ARGS__, NULL})

static void test_errors(Fixture *f, gconstpointer data)
{
    BhBackendQube q = appvm();
    q.kernel = "9.9.9";
    EXPECT(q, "qube work", "no kernel", "vm-kernels/9.9.9/vmlinuz does not exist", "docs/xen.md");
    q = appvm();
    q.kernel = "../../etc";
    EXPECT(q, "kernel '../../etc' is not a kernel version");
    q = appvm();
    q.memory_mib = 16;
    EXPECT(q, "memory is 16 MiB", "between 32 and 1048576 MiB");
    q.memory_mib = 2000000;
    EXPECT(q, "memory is 2000000 MiB");
    q = appvm();
    q.maxmem_mib = 200;
    EXPECT(q, "maxmem (200 MiB) is below memory (400 MiB)", "set it to 0");
    q.maxmem_mib = 2000000;
    EXPECT(q, "maxmem is 2000000 MiB");
    q = appvm();
    q.vcpus = 0;
    EXPECT(q, "vcpus is 0");
    q = appvm();
    q.virt_mode = "kvm";
    EXPECT(q, "virt_mode 'kvm' is not one of pvh, pv, hvm");
    q = appvm();
    q.root_template = "fedora-39";
    EXPECT(q, "the root image of its template fedora-39 is missing", "qubes/fedora-39/root.img");

    /* The netvm check asks the environment (libxl, in the daemon). */
    q = appvm();
    static const char *const only_net[] = {"sys-net", NULL};
    f->running = only_net;
    EXPECT(q, "its netvm sys-firewall is not running", "start sys-firewall first");
    f->running = NULL;
    /* Running, but without the address dom0 gives a netvm at its start. */
    f->running = (const char *const[]){"sys-firewall", NULL};
    f->gateway = NULL;
    EXPECT(q, "the address of its netvm sys-firewall is not known", "restart sys-firewall");
    f->running = NULL;
    f->gateway = "10.137.0.2";
    q.netvm = NULL;
    g_autofree char *json = config_json(f, &q);
    g_assert_null(strstr(json, "\"nics\""));

    /* No default kernel installed at all. */
    g_autofree char *k = g_build_filename(f->kernels, "default", "vmlinuz", NULL);
    g_assert_cmpint(g_unlink(k), ==, 0);
    q = appvm();
    q.netvm = NULL;
    EXPECT(q, "vm-kernels/default/vmlinuz does not exist");
    /* ...which an HVM booting its own disk does not need. */
    q.virt_mode = "hvm";
    g_autofree char *hvm = config_json(f, &q);
    g_assert_nonnull(strstr(hvm, "\"boot\": \"c\""));
}

/* ---- volumes ------------------------------------------------------------- */

static guint64 allocated(const char *path)
{
    struct stat st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    return (guint64)st.st_blocks * 512;
}

static guint64 apparent(const char *path)
{
    struct stat st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    return (guint64)st.st_size;
}

/* 12 bytes at 1 MiB, without reading gigabytes of holes. */
static void assert_marker(const char *path)
{
    char buf[12];
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, sizeof buf, 1 << 20), ==, sizeof buf);
    close(fd);
    g_assert_cmpmem(buf, sizeof buf, "private-data", 12);
}

static void test_volumes(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    BhBackendQube tpl = appvm();
    tpl.name = "debian-12";
    tpl.root_template = NULL;
    BhBackendQube dvm = appvm();
    dvm.name = "default-dvm";
    BhBackendQube disp = appvm();
    disp.name = "disp1";
    disp.klass = "DispVM";
    disp.template_name = "default-dvm";
    disp.disposable = TRUE;

    /* An AppVM: private only, sparse. */
    g_assert_true(bh_xen_volumes_create(f->state, &dvm, &error));
    g_autofree char *priv = bh_xen_volume_path(f->state, "default-dvm", "private");
    g_autofree char *own_root = bh_xen_volume_path(f->state, "default-dvm", "root");
    g_assert_cmpuint(apparent(priv), ==, BH_XEN_PRIVATE_SIZE);
    g_assert_cmpuint(allocated(priv), <, 1 << 20);
    g_assert_false(g_file_test(own_root, G_FILE_TEST_EXISTS));

    /* Create is idempotent and never clobbers data. */
    int fd = open(priv, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, "private-data", 12, 1 << 20), ==, 12);
    close(fd);
    g_assert_true(bh_xen_volumes_create(f->state, &dvm, &error));
    assert_marker(priv);

    /* A disposable starts from a fresh copy of its template's private data,
     * holes kept, and gets a new volatile image at every start. */
    g_assert_true(bh_xen_volumes_prepare(f->state, &disp, &error));
    g_autofree char *dpriv = bh_xen_volume_path(f->state, "disp1", "private");
    g_autofree char *dvol = bh_xen_volume_path(f->state, "disp1", "volatile");
    g_assert_cmpuint(apparent(dpriv), ==, BH_XEN_PRIVATE_SIZE);
    assert_marker(dpriv);
    g_assert_cmpuint(allocated(dpriv), <, 1 << 20);
    g_assert_cmpuint(apparent(dvol), ==, BH_XEN_VOLATILE_SIZE);
    fd = open(dvol, O_WRONLY);
    g_assert_cmpint(pwrite(fd, "scratch", 7, 0), ==, 7);
    close(fd);
    g_assert_true(bh_xen_volumes_prepare(f->state, &disp, &error));
    g_assert_cmpuint(allocated(dvol), ==, 0);

    /* A template has its own root; a clone copies root and private. */
    g_assert_true(bh_xen_volumes_create(f->state, &tpl, &error));
    BhBackendQube clone = tpl;
    clone.name = "debian-12-clone";
    g_assert_true(bh_xen_volumes_clone(f->state, "debian-12", &clone, &error));
    g_autofree char *croot = bh_xen_volume_path(f->state, "debian-12-clone", "root");
    g_autofree char *content = NULL;
    g_assert_true(g_file_get_contents(croot, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, "root"); /* the fixture's root.img */

    /* Remove: everything gone; twice is fine; a stray file stops it. */
    g_assert_true(bh_xen_volumes_remove(f->state, "disp1", &error));
    g_assert_true(bh_xen_volumes_remove(f->state, "disp1", &error));
    g_autofree char *ddir = bh_xen_qube_dir(f->state, "disp1");
    g_assert_false(g_file_test(ddir, G_FILE_TEST_EXISTS));
    g_autofree char *stray = g_build_filename(f->state, "qubes", "default-dvm", "notes.txt", NULL);
    write_file(stray, "mine");
    g_assert_false(bh_xen_volumes_remove(f->state, "default-dvm", &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_EMPTY);
    g_assert_nonnull(strstr(error->message, "qubes/default-dvm"));
    g_clear_error(&error);

    /* A disposable whose template has no private image cannot start. */
    disp.template_name = "nothing-here";
    g_assert_false(bh_xen_volumes_prepare(f->state, &disp, &error));
    g_assert_nonnull(strstr(error->message, "qubes/nothing-here/private.img"));
}

/* The one .orphan- directory of qube in state's qubes/: its path. */
static char *the_leftover(Fixture *f, const char *qube)
{
    g_autofree char *qubes = g_build_filename(f->state, "qubes", NULL);
    g_autoptr(GPtrArray) list = bh_volume_leftovers(qubes, NULL);
    g_assert_nonnull(list);
    char *found = NULL;
    for (guint i = 0; i < list->len; i++) {
        BhLeftover *l = list->pdata[i];
        if (!g_str_equal(l->qube, qube))
            continue;
        g_assert_null(found);
        found = g_build_filename(qubes, l->name, NULL);
    }
    g_assert_nonnull(found);
    return found;
}

/* The images a dead qube of the name left (its private data at 1 MiB). */
static void plant_dead(Fixture *f, const char *qube)
{
    g_autofree char *priv = bh_xen_volume_path(f->state, qube, "private");
    write_file(priv, "");
    int fd = open(priv, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, "private-data", 12, 1 << 20), ==, 12);
    close(fd);
}

/* A new qube (created or cloned) never adopts the images a dead qube of its
 * name left: they are set aside whole, and the new qube's are its own. */
static void test_volumes_leftover(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    BhBackendQube work = appvm();
    plant_dead(f, "work");
    g_assert_true(bh_xen_volumes_add(f->state, &work, &error));
    g_assert_no_error(error);
    g_autofree char *priv = bh_xen_volume_path(f->state, "work", "private");
    g_assert_cmpuint(apparent(priv), ==, BH_XEN_PRIVATE_SIZE);
    g_assert_cmpuint(allocated(priv), ==, 0);
    g_autofree char *kept_dir = the_leftover(f, "work");
    g_autofree char *kept = g_build_filename(kept_dir, "private.img", NULL);
    assert_marker(kept);
    /* A start still keeps what the qube has. */
    g_assert_true(bh_xen_volumes_prepare(f->state, &work, &error));
    g_assert_no_error(error);

    BhBackendQube tpl = appvm();
    tpl.name = "debian-12";
    tpl.root_template = NULL;
    BhBackendQube clone = tpl;
    clone.name = "copy";
    plant_dead(f, "copy");
    g_autofree char *dead_notes = g_build_filename(f->state, "qubes", "copy", "notes.txt", NULL);
    write_file(dead_notes, "dead");
    g_assert_true(bh_xen_volumes_clone(f->state, "debian-12", &clone, &error));
    g_assert_no_error(error);
    g_autofree char *cpriv = bh_xen_volume_path(f->state, "copy", "private");
    g_assert_cmpuint(allocated(cpriv), ==, 0);
    g_autofree char *notes = g_build_filename(f->state, "qubes", "copy", "notes.txt", NULL);
    g_assert_false(g_file_test(notes, G_FILE_TEST_EXISTS));
    g_autofree char *ckept_dir = the_leftover(f, "copy");
    g_autofree char *ckept = g_build_filename(ckept_dir, "private.img", NULL);
    assert_marker(ckept);

    /* A clone that fails leaves nothing of itself, and the leftover it set
     * aside stays. */
    BhBackendQube bad = tpl;
    bad.name = "copy2";
    plant_dead(f, "copy2");
    g_autofree char *src_root = bh_xen_volume_path(f->state, "debian-12", "root");
    g_assert_cmpint(g_unlink(src_root), ==, 0);
    g_assert_cmpint(g_mkdir(src_root, 0700), ==, 0); /* not a regular file: the copy fails */
    g_assert_false(bh_xen_volumes_clone(f->state, "debian-12", &bad, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_autofree char *bad_dir = bh_xen_qube_dir(f->state, "copy2");
    g_assert_false(g_file_test(bad_dir, G_FILE_TEST_EXISTS));
    g_autofree char *bkept_dir = the_leftover(f, "copy2");
    g_autofree char *bkept = g_build_filename(bkept_dir, "private.img", NULL);
    assert_marker(bkept);
}

/* ---- detection and availability -------------------------------------------- */

static void test_detect(Fixture *f, gconstpointer data)
{
    g_autofree char *caps = g_build_filename(f->tmp, "capabilities", NULL);
    write_file(caps, "control_d\n");
    g_assert_true(bh_xen_running_in_dom0(caps));
    write_file(caps, "\n"); /* a domU */
    g_assert_false(bh_xen_running_in_dom0(caps));
    g_autofree char *missing = g_build_filename(f->tmp, "nope", NULL);
    g_assert_false(bh_xen_running_in_dom0(missing));
}

static void test_unavailable(Fixture *f, gconstpointer data)
{
    if (g_file_test("/dev/xen/privcmd", G_FILE_TEST_EXISTS)) {
        g_test_skip("this machine runs Xen: the backend can open");
        return;
    }
    g_autoptr(GError) error = NULL;
    BhBackendConfig config = {.state_dir = f->state, .runtime_dir = f->tmp};
    BhBackend *backend = NULL;
    g_assert_false(bh_backend_open("xen", &config, &backend, &error));
    g_assert_null(backend);
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "needs dom0 on Xen"));
}

static int regenerate_goldens(void)
{
    Fixture f = {0};
    g_autoptr(GPtrArray) cases = golden_cases();
    fixture_set_up(&f, NULL);
    for (guint i = 0; i < cases->len; i++) {
        const GoldenCase *c = cases->pdata[i];
        g_autofree char *json = config_json(&f, &c->qube);
        g_autofree char *path = golden_path(c->name);
        write_file(path, json);
        g_print("wrote %s\n", path);
    }
    fixture_tear_down(&f, NULL);
    return 0;
}

static void add_device(const char *sys, const char *name, const char *backing)
{
    g_autofree char *dir = g_build_filename(sys, name, "loop", NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    if (backing == NULL)
        return;
    g_autofree char *file = g_build_filename(dir, "backing_file", NULL);
    g_autofree char *text = g_strconcat(backing, "\n", NULL);
    g_assert_true(g_file_set_contents(file, text, -1, NULL));
}

static int by_device(gconstpointer a, gconstpointer b)
{
    const BhXenStaleLoop *x = *(BhXenStaleLoop *const *)a, *y = *(BhXenStaleLoop *const *)b;
    return g_strcmp0(x->device, y->device);
}

/* Which loop devices are stale (xen-stale-loops.c), on a sysfs tree written
 * here: a device on an image below the directory that no back-end names,
 * also when its file was deleted since; not one a back-end names, one on a
 * file elsewhere (also below a directory whose name only starts the same),
 * an unattached one, nor devices that are not loop devices. Detaching needs
 * loop devices and xenstore: tests/xen does it in dom0. */
static void test_stale_loops(Fixture *f, gconstpointer data)
{
    g_autofree char *sys = g_build_filename(f->tmp, "block", NULL);
    add_device(sys, "loop0", "/state/qubes/a/private.img");
    add_device(sys, "loop1", "/state/qubes/b/root.img (deleted)");
    add_device(sys, "loop2", "/state/qubes/a/volatile.img");
    add_device(sys, "loop3", "/other/qubes/a/private.img");
    add_device(sys, "loop4", NULL);
    add_device(sys, "loop5", "/state/qubesX/a/private.img");
    add_device(sys, "loop6p1", "/state/qubes/c/private.img");
    add_device(sys, "sda", "/state/qubes/c/private.img");
    add_device(sys, "loop", "/state/qubes/c/private.img");
    g_autoptr(GHashTable) named = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_add(named, "/dev/loop2");

    g_autoptr(GPtrArray) found = bh_xen_stale_loops_find(sys, "/state/qubes", named);
    g_ptr_array_sort(found, by_device);
    g_assert_cmpuint(found->len, ==, 2);
    BhXenStaleLoop *l0 = g_ptr_array_index(found, 0), *l1 = g_ptr_array_index(found, 1);
    g_assert_cmpstr(l0->device, ==, "/dev/loop0");
    g_assert_cmpstr(l0->file, ==, "/state/qubes/a/private.img");
    g_assert_cmpstr(l1->device, ==, "/dev/loop1");
    g_assert_cmpstr(l1->file, ==, "/state/qubes/b/root.img");

    /* One qube's directory (a removal): only its own images. */
    g_autoptr(GPtrArray) one = bh_xen_stale_loops_find(sys, "/state/qubes/b/", named);
    g_assert_cmpuint(one->len, ==, 1);
    g_assert_cmpstr(((BhXenStaleLoop *)g_ptr_array_index(one, 0))->device, ==, "/dev/loop1");

    /* Once a back-end names it, the same device is in use. */
    g_hash_table_add(named, "/dev/loop0");
    g_autoptr(GPtrArray) again = bh_xen_stale_loops_find(sys, "/state/qubes", named);
    g_assert_cmpuint(again->len, ==, 1);

    /* No sysfs (not Linux, or not mounted): nothing. */
    g_autofree char *none = g_build_filename(f->tmp, "none", NULL);
    g_autoptr(GPtrArray) empty = bh_xen_stale_loops_find(none, "/state/qubes", named);
    g_assert_cmpuint(empty->len, ==, 0);
}

static void add_loop(const char *sys, const char *name, const char *backing, const char *ro)
{
    add_device(sys, name, backing);
    g_autofree char *path = g_build_filename(sys, name, "ro", NULL);
    g_assert_true(g_file_set_contents(path, ro, -1, NULL));
}

static BhXenLoopOnFile *loop_named(GPtrArray *loops, const char *device)
{
    for (guint i = 0; i < loops->len; i++) {
        BhXenLoopOnFile *l = g_ptr_array_index(loops, i);
        if (g_str_equal(l->device, device))
            return l;
    }
    return NULL;
}

/* The loop devices on an image and the sharing rule (xen-disks.c), on a
 * sysfs tree written here: a device is on the image by inode (also through
 * another path to it), never when its file was deleted, is another file,
 * or the device is no loop device. The rule: read-only beside read-only
 * devices in use; nothing beside a writable one; no writable use beside
 * any; devices no back-end names and the backend does not hold are stale;
 * without xenstore every device counts as in use. */
static void test_disks_sharing(Fixture *f, gconstpointer data)
{
    g_autofree char *sys = g_build_filename(f->tmp, "block", NULL);
    g_autofree char *a = g_build_filename(f->tmp, "a.img", NULL);
    g_autofree char *a_link = g_build_filename(f->tmp, "a-link.img", NULL);
    g_autofree char *b = g_build_filename(f->tmp, "b.img", NULL);
    write_file(a, "a");
    write_file(b, "b");
    g_assert_cmpint(link(a, a_link), ==, 0);
    g_autofree char *a_deleted = g_strconcat(a, " (deleted)", NULL);
    add_loop(sys, "loop0", a, "1\n");
    add_loop(sys, "loop1", b, "0\n");
    add_loop(sys, "loop2", a_link, "1\n");
    add_loop(sys, "loop3", a_deleted, "0\n");
    add_loop(sys, "loop4p1", a, "0\n");
    add_loop(sys, "sda", a, "0\n");
    add_device(sys, "loop5", NULL);
    struct stat st;
    g_assert_cmpint(stat(a, &st), ==, 0);

    g_autoptr(GPtrArray) on_a = bh_xen_loops_on_file(sys, &st);
    g_assert_cmpuint(on_a->len, ==, 2);
    g_assert_nonnull(loop_named(on_a, "/dev/loop0"));
    g_assert_true(loop_named(on_a, "/dev/loop0")->read_only);
    g_assert_nonnull(loop_named(on_a, "/dev/loop2"));

    g_autoptr(GHashTable) in_use = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_add(in_use, "/dev/loop0");
    g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    /* Read-only beside a read-only device in use; loop2 is nobody's. */
    g_assert_true(bh_xen_loops_check_sharing(a, on_a, in_use, FALSE, stale, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(stale->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(stale, 0), ==, "/dev/loop2");
    /* A writable use beside it: refused, naming the device. */
    g_ptr_array_set_size(stale, 0);
    g_assert_false(bh_xen_loops_check_sharing(a, on_a, in_use, TRUE, stale, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "in use by /dev/loop0 (read-only)"));
    g_clear_error(&error);
    /* Nothing beside a writable device in use. */
    g_autofree char *ro0 = g_build_filename(sys, "loop0", "ro", NULL);
    g_assert_true(g_file_set_contents(ro0, "0\n", -1, NULL));
    g_autoptr(GPtrArray) on_a_rw = bh_xen_loops_on_file(sys, &st);
    g_assert_false(bh_xen_loops_check_sharing(a, on_a_rw, in_use, FALSE, stale, &error));
    g_assert_nonnull(strstr(error->message, "in use by /dev/loop0 (writable)"));
    g_clear_error(&error);
    /* Without xenstore nothing is stale: loop2 refuses a writable use. */
    g_ptr_array_set_size(stale, 0);
    g_assert_true(bh_xen_loops_check_sharing(a, on_a, NULL, FALSE, stale, &error));
    g_assert_cmpuint(stale->len, ==, 0);
    g_hash_table_remove(in_use, "/dev/loop0");
    g_assert_false(bh_xen_loops_check_sharing(a, on_a, NULL, TRUE, stale, &error));
    g_assert_nonnull(strstr(error->message, "xenstore could not be read"));
    g_clear_error(&error);
    /* No device on it: any use, nothing stale. */
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    g_assert_true(bh_xen_loops_check_sharing(b, none, in_use, TRUE, stale, &error));
    g_assert_cmpuint(stale->len, ==, 0);
}

static char *sys_read(const char *device, const char *attr)
{
    g_autofree char *path = g_build_filename("/sys/block", device + strlen("/dev/"), attr, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strchomp(text);
}

/* Real loop devices (root with /dev/loop-control; skipped elsewhere): a
 * read-only and a writable disk become phy disks on devices of their own,
 * read-only and autoclear as asked, on the images (a link followed); a second start's
 * writable use of the writable image is refused while the first holds it
 * (no xenstore here, so every device counts as in use), its read-only use
 * of the read-only one is not; released, the devices are detached. */
static void test_disks_attach(Fixture *f, gconstpointer data)
{
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        g_test_skip("no /dev/loop-control to open (needs root and the loop module)");
        return;
    }
    close(ctl);
    /* The read-only image is a link to where it is kept, as tests/xen's
     * template part links its root.img: attached is the file it names. */
    g_autofree char *ro_img = g_build_filename(f->tmp, "kept-root.img", NULL);
    g_autofree char *ro_link = g_build_filename(f->tmp, "root.img", NULL);
    g_autofree char *rw_img = g_build_filename(f->tmp, "private.img", NULL);
    for (int i = 0; i < 2; i++) {
        int fd = open(i ? rw_img : ro_img, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, 1 << 20), ==, 0);
        close(fd);
    }
    g_assert_cmpint(symlink(ro_img, ro_link), ==, 0);
    libxl_device_disk disks[2], again[2];
    for (int i = 0; i < 2; i++) {
        libxl_device_disk_init(&disks[i]);
        libxl_device_disk_init(&again[i]);
        disks[i].pdev_path = g_strdup(i ? rw_img : ro_link);
        again[i].pdev_path = g_strdup(i ? rw_img : ro_link);
        disks[i].readwrite = again[i].readwrite = i;
    }
    g_autoptr(GHashTable) held = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) loops = g_ptr_array_new_with_free_func((GDestroyNotify)bh_xen_disk_loop_free);
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_xen_disks_attach(disks, 2, held, loops, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(loops->len, ==, 2);
    g_autofree char *devices[2] = {0};
    for (int i = 0; i < 2; i++) {
        BhXenDiskLoop *l = g_ptr_array_index(loops, i);
        devices[i] = g_strdup(l->device);
        g_assert_cmpstr(disks[i].pdev_path, ==, l->device);
        g_assert_true(g_str_has_prefix(l->device, "/dev/loop"));
        g_autofree char *backing = sys_read(l->device, "loop/backing_file");
        g_autofree char *ro = sys_read(l->device, "ro");
        g_autofree char *autoclear = sys_read(l->device, "loop/autoclear");
        g_assert_cmpstr(backing, ==, i ? rw_img : ro_img);
        g_assert_cmpstr(ro, ==, i ? "0" : "1");
        g_assert_cmpstr(autoclear, ==, "1");
        g_hash_table_add(held, l->device);
    }
    g_assert_cmpstr(devices[0], !=, devices[1]);

    g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func((GDestroyNotify)bh_xen_disk_loop_free);
    g_assert_false(bh_xen_disks_attach(again, 2, held, second, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, devices[1]));
    g_assert_cmpuint(second->len, ==, 0);
    g_clear_error(&error);
    /* A failed attach leaves the configuration to be disposed of: anew. */
    g_free(again[0].pdev_path);
    again[0].pdev_path = g_strdup(ro_link);
    g_assert_true(bh_xen_disks_attach(again, 1, held, second, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(second->len, ==, 1);
    g_autofree char *shared = g_strdup(again[0].pdev_path);
    g_assert_cmpstr(shared, !=, devices[0]);

    g_hash_table_remove_all(held);
    g_ptr_array_set_size(loops, 0);
    g_ptr_array_set_size(second, 0);
    for (int i = 0; i < 3; i++) {
        const char *device = i < 2 ? devices[i] : shared;
        g_autofree char *backing = sys_read(device, "loop/backing_file");
        g_assert_null(backing);
    }
    for (int i = 0; i < 2; i++) {
        libxl_device_disk_dispose(&disks[i]);
        libxl_device_disk_dispose(&again[i]);
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (g_str_equal(argv[i], "--regenerate"))
            regenerate = TRUE;
    if (g_getenv("BH_SOURCE_ROOT") == NULL)
        g_setenv("BH_SOURCE_ROOT", BH_SOURCE_ROOT, FALSE);
    if (regenerate)
        return regenerate_goldens();

    g_test_init(&argc, &argv, NULL);
    g_autoptr(GPtrArray) cases = golden_cases();
    for (guint i = 0; i < cases->len; i++) {
        const GoldenCase *c = cases->pdata[i];
        g_autofree char *path = g_strconcat("/xen/config/golden/", c->name, NULL);
        g_test_add(path, Fixture, c, fixture_set_up, test_golden, fixture_tear_down);
    }
    g_test_add("/xen/config/mapping", Fixture, NULL, fixture_set_up, test_mapping, fixture_tear_down);
    g_test_add("/xen/config/errors", Fixture, NULL, fixture_set_up, test_errors, fixture_tear_down);
    g_test_add("/xen/volumes", Fixture, NULL, fixture_set_up, test_volumes, fixture_tear_down);
    g_test_add("/xen/volumes/leftover", Fixture, NULL, fixture_set_up, test_volumes_leftover,
               fixture_tear_down);
    g_test_add("/xen/detect-dom0", Fixture, NULL, fixture_set_up, test_detect, fixture_tear_down);
    g_test_add("/xen/unavailable", Fixture, NULL, fixture_set_up, test_unavailable, fixture_tear_down);
    g_test_add("/xen/stale-loops", Fixture, NULL, fixture_set_up, test_stale_loops, fixture_tear_down);
    g_test_add("/xen/disks/sharing", Fixture, NULL, fixture_set_up, test_disks_sharing, fixture_tear_down);
    g_test_add("/xen/disks/attach", Fixture, NULL, fixture_set_up, test_disks_attach, fixture_tear_down);
    return g_test_run();
}
