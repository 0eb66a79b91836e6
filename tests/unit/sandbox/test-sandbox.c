/* test-sandbox.c — the sandbox backend's pure parts: which cgroup hierarchy
 * serves what on each machine shape (from fake mountinfo and cgroup trees),
 * the root a plan builds and the bubblewrap command line (nothing of the
 * host beyond the staged layers), the filtered /etc copy, top-level links,
 * and finding the guest programs. Real sandboxes: tests/integration.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox-cgroup.h"
#include "sandbox-layout.h"
#include "sandbox-seccomp.h"

typedef struct {
    char *tmp;
} Tmp;

static void tmp_setup(Tmp *t, gconstpointer data)
{
    t->tmp = g_dir_make_tmp("bh-sandbox-unit-XXXXXX", NULL);
    g_assert_nonnull(t->tmp);
}

static void tmp_teardown(Tmp *t, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", t->tmp);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    g_free(t->tmp);
}

static char *mk(const char *base, const char *rel)
{
    char *path = g_build_filename(base, rel, NULL);
    g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
    return path;
}

static void touch(const char *dir, const char *file, const char *content)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_assert_true(g_file_set_contents(path, content, -1, NULL));
}

static char *slurp(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* ---- cgroups ------------------------------------------------------------------ */

/* A hybrid machine like the ones these tests run on: v1 freezer, memory
 * and pids (memory in a nested group of ours), an empty v2 beside them. */
static char *hybrid_mountinfo(const char *root)
{
    return g_strdup_printf("31 23 0:28 / %s rw - tmpfs tmpfs rw\n"
                           "35 31 0:32 / %s/memory rw,relatime - cgroup cgroup rw,memory\n"
                           "37 31 0:34 / %s/freezer rw,relatime - cgroup cgroup rw,freezer\n"
                           "39 31 0:36 / %s/pids rw,relatime - cgroup cgroup rw,pids\n"
                           "40 31 0:37 / %s/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                           "41 31 0:38 / %s/unified rw,relatime - cgroup2 cgroup2 rw\n",
                           root, root, root, root, root, root);
}

static const char hybrid_self[] = "8:pids:/\n6:freezer:/\n4:memory:/jobs/j1\n1:cpu:/\n0::/\n";

static void test_cgroup_hybrid(Tmp *t, gconstpointer data)
{
    g_autofree char *mountinfo = hybrid_mountinfo(t->tmp);
    g_autofree char *memory = mk(t->tmp, "memory/jobs/j1");
    g_autofree char *freezer = mk(t->tmp, "freezer");
    g_autofree char *pids = mk(t->tmp, "pids");
    g_autofree char *unified = mk(t->tmp, "unified");
    BhCgroupProbe probe = {.mountinfo = mountinfo, .self_cgroup = hybrid_self, .tag = "t1"};

    BhSandboxCgroups *cgs = bh_sandbox_cgroups_new(&probe);
    g_autofree char *what = bh_sandbox_cgroups_describe(cgs);
    g_assert_cmpstr(what, ==, "freezer: cgroup v1, memory: cgroup v1, pids: cgroup v1");
    /* Nested below our own group, named after the tag. */
    g_autofree char *mem_base = g_build_filename(memory, "bulkhead-t1", NULL);
    g_assert_cmpstr(bh_sandbox_cgroups_base(cgs, BH_CGROUP_V1, BH_CG_MEMORY), ==, mem_base);
    /* The unused v2 subtree is not left behind. */
    g_autofree char *v2_base = g_build_filename(unified, "bulkhead-t1", NULL);
    g_assert_false(g_file_test(v2_base, G_FILE_TEST_EXISTS));

    /* A qube's groups get its limits (files stand in for the kernel's). */
    g_autofree char *qmem = g_build_filename(mem_base, "work", NULL);
    g_autofree char *qpids = g_build_filename(pids, "bulkhead-t1", "work", NULL);
    g_assert_cmpint(g_mkdir_with_parents(qmem, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(qpids, 0755), ==, 0);
    touch(qmem, "memory.limit_in_bytes", "");
    touch(qmem, "memory.soft_limit_in_bytes", "");
    touch(qmem, "memory.memsw.limit_in_bytes", "");
    touch(qpids, "pids.max", "");
    BhCgroupLimits limits = {.memory_max = 128 << 20, .memory_soft = 100 << 20, .pids_max = 400};
    g_autoptr(GError) error = NULL;
    BhSandboxCgroup *cg = bh_sandbox_cgroup_new(cgs, "work", &limits, &error);
    g_assert_no_error(error);
    g_assert_nonnull(cg);
    g_autofree char *max = slurp(qmem, "memory.limit_in_bytes");
    g_autofree char *soft = slurp(qmem, "memory.soft_limit_in_bytes");
    g_autofree char *pmax = slurp(qpids, "pids.max");
    g_assert_cmpstr(max, ==, "134217728");
    g_assert_cmpstr(soft, ==, "104857600");
    g_assert_cmpstr(pmax, ==, "400");
    /* No swap past maxmem: v1 bounds memory plus swap by the same number. */
    g_autofree char *memsw = slurp(qmem, "memory.memsw.limit_in_bytes");
    g_assert_cmpstr(memsw, ==, "134217728");
    g_assert_cmpstr(bh_sandbox_cgroup_path(cg, BH_CG_MEMORY), ==, qmem);
    /* Without the kernel's freezer.state, freezing fails with a reason. */
    g_assert_false(bh_sandbox_cgroup_freeze(cg, TRUE, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    bh_sandbox_cgroup_free(cg);
    bh_sandbox_cgroups_free(cgs);
}

static void test_cgroup_pure_v2(Tmp *t, gconstpointer data)
{
    g_autofree char *mountinfo = g_strdup_printf("25 1 0:22 / %s rw - cgroup2 cgroup2 rw\n", t->tmp);
    g_autofree char *own = mk(t->tmp, "user.slice/bh");
    g_autofree char *base = mk(own, "bulkhead-t2");
    g_autofree char *probe_dir = mk(base, "probe");
    touch(own, "cgroup.controllers", "cpu memory pids\n");
    touch(own, "cgroup.subtree_control", "");
    touch(base, "cgroup.subtree_control", "");
    touch(probe_dir, "cgroup.freeze", "0\n");
    BhCgroupProbe probe = {.mountinfo = mountinfo, .self_cgroup = "0::/user.slice/bh\n", .tag = "t2"};
    BhSandboxCgroups *cgs = bh_sandbox_cgroups_new(&probe);
    g_autofree char *what = bh_sandbox_cgroups_describe(cgs);
    g_assert_cmpstr(what, ==, "freezer: cgroup v2, memory: cgroup v2, pids: cgroup v2");
    /* Both controllers were delegated to our subtree (the last write). */
    g_autofree char *enabled = slurp(base, "cgroup.subtree_control");
    g_assert_true(g_str_has_prefix(enabled, "+pids"));
    bh_sandbox_cgroups_free(cgs);
}

static void test_cgroup_v2_freezer_only(Tmp *t, gconstpointer data)
{
    /* No v1 at all and v2 without controllers for us: only the freezer. */
    g_autofree char *mountinfo = g_strdup_printf("41 31 0:38 / %s rw - cgroup2 cgroup2 rw\n", t->tmp);
    g_autofree char *base = mk(t->tmp, "bulkhead-t3");
    g_autofree char *probe_dir = mk(base, "probe");
    touch(probe_dir, "cgroup.freeze", "0\n");
    BhCgroupProbe probe = {.mountinfo = mountinfo, .self_cgroup = "0::/\n", .tag = "t3"};
    BhSandboxCgroups *cgs = bh_sandbox_cgroups_new(&probe);
    g_autofree char *what = bh_sandbox_cgroups_describe(cgs);
    g_assert_cmpstr(what, ==,
                    "freezer: cgroup v2, memory: not limited (no cgroup), pids: not limited (no cgroup)");
    bh_sandbox_cgroups_free(cgs);
}

static void test_cgroup_none(Tmp *t, gconstpointer data)
{
    BhCgroupProbe probe = {.mountinfo = "", .self_cgroup = "", .tag = "t4"};
    BhSandboxCgroups *cgs = bh_sandbox_cgroups_new(&probe);
    g_autofree char *what = bh_sandbox_cgroups_describe(cgs);
    g_assert_cmpstr(
        what, ==,
        "freezer: SIGSTOP/SIGCONT (no cgroup freezer), memory: not limited (no cgroup), pids: not "
        "limited (no cgroup)");
    /* A qube still gets a (hierarchy-less) group: nothing to join or freeze. */
    g_autoptr(GError) error = NULL;
    BhCgroupLimits limits = {0};
    BhSandboxCgroup *cg = bh_sandbox_cgroup_new(cgs, "work", &limits, &error);
    g_assert_no_error(error);
    g_autoptr(GArray) fds = bh_sandbox_cgroup_procs_fds(cg, &error);
    g_assert_cmpuint(fds->len, ==, 0);
    g_assert_false(bh_sandbox_cgroup_freeze(cg, TRUE, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    bh_sandbox_cgroup_free(cg);
    bh_sandbox_cgroups_free(cgs);
}

static void test_cgroup_forced(Tmp *t, gconstpointer data)
{
    g_autofree char *mountinfo = hybrid_mountinfo(t->tmp);
    g_autofree char *memory = mk(t->tmp, "memory/jobs/j1");
    g_autofree char *freezer = mk(t->tmp, "freezer");
    g_autofree char *pids = mk(t->tmp, "pids");
    g_autofree char *probe_dir = mk(t->tmp, "unified/bulkhead-t5/probe");
    touch(probe_dir, "cgroup.freeze", "0\n");
    struct {
        const char *force;
        const char *expect;
    } cases[] = {
        {"v2", "freezer: cgroup v2, memory: not limited (no cgroup), pids: not limited (no cgroup)"},
        {"v1", "freezer: cgroup v1, memory: cgroup v1, pids: cgroup v1"},
        {"none",
         "freezer: SIGSTOP/SIGCONT (no cgroup freezer), memory: not limited (no cgroup), pids: not limited "
         "(no cgroup)"},
        {"bogus", "freezer: cgroup v1, memory: cgroup v1, pids: cgroup v1"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        BhCgroupProbe probe = {
            .mountinfo = mountinfo, .self_cgroup = hybrid_self, .force = cases[i].force, .tag = "t5"};
        BhSandboxCgroups *cgs = bh_sandbox_cgroups_new(&probe);
        g_autofree char *what = bh_sandbox_cgroups_describe(cgs);
        g_assert_cmpstr(what, ==, cases[i].expect);
        bh_sandbox_cgroups_free(cgs);
    }
}

static void test_cgroup_mount_root(Tmp *t, gconstpointer data)
{
    /* A container sees its v1 memory hierarchy from /docker/abc: our group
     * /docker/abc/job lives at <mount>/job. */
    g_autofree char *mountinfo =
        g_strdup_printf("35 31 0:32 /docker/abc %s rw - cgroup cgroup rw,memory\n", t->tmp);
    g_autofree char *job = mk(t->tmp, "job");
    BhCgroupProbe probe = {.mountinfo = mountinfo, .self_cgroup = "4:memory:/docker/abc/job\n", .tag = "t6"};
    BhSandboxCgroups *cgs = bh_sandbox_cgroups_new(&probe);
    g_autofree char *expect = g_build_filename(job, "bulkhead-t6", NULL);
    g_assert_cmpstr(bh_sandbox_cgroups_base(cgs, BH_CGROUP_V1, BH_CG_MEMORY), ==, expect);
    bh_sandbox_cgroups_free(cgs);
}

/* ---- the root and the command line ------------------------------------------------ */

static BhSandboxPlan plan_for(GPtrArray *links, gboolean own, gboolean readonly, const char *base)
{
    BhSandboxPlan p = {
        .name = "work",
        .qid = 3,
        .privileged = TRUE,
        .host_uid = BH_SANDBOX_UID_BASE + 3,
        .host_gid = BH_SANDBOX_UID_BASE + 3,
        .qube_dir = "/state/qubes/work",
        .root_dir = "/state/qubes/tpl/root",
        .own_root = own,
        .root_readonly = readonly,
        .base_root = base,
        .stage_dir = "/run/bulkhead-sandbox/1/work",
        .vchan_dir = "/rt/bulkhead/vchan/3",
        .bin_dir = "/run/bulkhead-sandbox/1/.bin",
        .root_links = links,
        .seccomp = TRUE,
        .bwrap = "/usr/bin/bwrap",
    };
    return p;
}

static gboolean argv_has(GPtrArray *argv, const char *a, const char *b, const char *c)
{
    for (guint i = 0; i + 2 < argv->len; i++)
        if (g_str_equal(argv->pdata[i], a) && g_str_equal(argv->pdata[i + 1], b) &&
            (c == NULL || g_str_equal(argv->pdata[i + 2], c)))
            return TRUE;
    return FALSE;
}

static void test_plan_appvm(void)
{
    g_autoptr(GPtrArray) links = g_ptr_array_new();
    g_ptr_array_add(links, "bin=usr/bin");
    BhSandboxPlan plan = plan_for(links, FALSE, FALSE, "/");
    g_autoptr(BhSandboxSetup) setup = bh_sandbox_layout_setup(&plan);
    g_autofree char *steps = bh_sandbox_setup_describe(setup);
    g_test_message("%s", steps);
    const char *S = "/run/bulkhead-sandbox/1/work";
    /* /usr: the template's layer over the host's /usr (idmapped), writes to
     * the staging tmpfs. */
    g_assert_nonnull(strstr(steps, "tmpfs /run/bulkhead-sandbox/1/work mode=0755\n"));
    g_assert_nonnull(strstr(steps, "idmap /usr -> /run/bulkhead-sandbox/1/work/lower/usr\n"));
    g_assert_nonnull(strstr(steps,
                            "overlay /run/bulkhead-sandbox/1/work/usr lowerdir=/state/qubes/tpl/root/usr:"
                            "/run/bulkhead-sandbox/1/work/lower/usr,upperdir=/run/bulkhead-sandbox/1/work/"
                            "upper/usr,workdir=/run/bulkhead-sandbox/1/work/work/usr\n"));
    /* /etc from the template's own layer, never the host's. */
    g_assert_nonnull(
        strstr(steps, "idmap /state/qubes/tpl/root/etc -> /run/bulkhead-sandbox/1/work/lower/etc\n"));
    g_assert_null(strstr(steps, "idmap /etc "));
    g_assert_nonnull(strstr(steps, "idmap /state/qubes/work/private -> /run/bulkhead-sandbox/1/work/home\n"));
    g_assert_nonnull(strstr(steps, "idmap /rt/bulkhead/vchan/3 -> /run/bulkhead-sandbox/1/work/vchan\n"));
    /* The guest programs: one directory, one read-only mount. */
    g_assert_nonnull(
        strstr(steps, "bind-ro /run/bulkhead-sandbox/1/.bin -> /run/bulkhead-sandbox/1/work/bin\n"));

    /* Last, the host's other mounts leave the set-up's namespace. */
    g_assert_true(g_str_has_suffix(steps,
                                   "detach-all-but /run/bulkhead-sandbox/1/work /usr/bin/bwrap /usr /etc "
                                   "/proc /dev\n"));

    /* The qube's own ptys, bounded, over bubblewrap's unbounded devpts. */
    g_assert_nonnull(strstr(steps, "devpts /run/bulkhead-sandbox/1/work/pts "
                                   "newinstance,ptmxmode=0666,mode=0620,max=64\n"));

    g_autoptr(GPtrArray) argv = bh_sandbox_layout_bwrap_argv(&plan);
    g_assert_true(argv_has(argv, "--bind", "/run/bulkhead-sandbox/1/work/usr", "/usr"));
    g_assert_true(argv_has(argv, "--bind", "/run/bulkhead-sandbox/1/work/vchan", "/run/bulkhead/vchan/3"));
    g_assert_true(argv_has(argv, "--dev-bind", "/run/bulkhead-sandbox/1/work/pts", "/dev/pts"));
    g_assert_true(argv_has(argv, "--seccomp", "10", NULL));
    g_assert_true(argv_has(argv, "--ro-bind", "/run/bulkhead-sandbox/1/work/bin", "/run/bulkhead/bin"));
    g_assert_true(argv_has(argv, "--symlink", "usr/bin", "/bin"));
    g_assert_true(argv_has(argv, "--setenv", "BH_VCHAN_DOMID", "3"));
    g_assert_true(argv_has(argv, "--hostname", "work", NULL));
    for (guint i = 0; i < argv->len; i++) {
        const char *a = argv->pdata[i];
        /* Every bind comes from the staging area: nothing else of the host. */
        if (g_str_equal(a, "--bind") || g_str_equal(a, "--ro-bind") || g_str_equal(a, "--dev-bind"))
            g_assert_true(g_str_has_prefix(argv->pdata[i + 1], S));
        g_assert_false(g_str_has_prefix(a, "--share"));
        g_assert_cmpstr(a, !=, "--bind-try");
        /* A qube must outlive a daemon that crashes (it is adopted). */
        g_assert_cmpstr(a, !=, "--die-with-parent");
        /* dom0's display and bus never leak in; DISPLAY names the qube's
         * own Xwayland (:0 in its private /tmp), set by us. */
        g_assert_false(g_str_has_prefix(a, "DBUS_SESSION"));
        if (g_str_has_prefix(a, "DISPLAY")) {
            g_assert_cmpstr(a, ==, "DISPLAY");
            g_assert_cmpstr(argv->pdata[i - 1], ==, "--setenv");
            g_assert_cmpstr(argv->pdata[i + 1], ==, ":0");
        }
    }
    g_assert_true(argv_has(argv, "--setenv", "DISPLAY", ":0"));
    static const char *const required[] = {"--unshare-all", "--unshare-user", "--disable-userns",
                                           "--as-pid-1",    "--new-session",  "--clearenv"};
    for (gsize i = 0; i < G_N_ELEMENTS(required); i++) {
        gboolean seen = FALSE;
        for (guint j = 0; j < argv->len; j++)
            seen |= g_str_equal(argv->pdata[j], required[i]);
        g_assert_true(seen);
    }
    g_assert_cmpstr(argv->pdata[argv->len - 1], ==, "/run/bulkhead/bin/bulkhead-sandbox-init");
    /* Services: an empty file each, on or off, bound read-only; a name the
     * model would refuse never becomes a file (the control: the good ones
     * do). */
    static const char *const services[] = {"crond=1", "cups=0", "../../etc=1", "a/b=1", ".x=1", "noeq", NULL};
    BhSandboxPlan with_services = plan;
    with_services.services = services;
    g_autoptr(BhSandboxSetup) svc_setup = bh_sandbox_layout_setup(&with_services);
    g_autofree char *svc_steps = bh_sandbox_setup_describe(svc_setup);
    g_autoptr(GPtrArray) svc_argv = bh_sandbox_layout_bwrap_argv(&with_services);
    g_assert_nonnull(strstr(svc_steps, "touch /run/bulkhead-sandbox/1/work/service/crond\n"));
    g_assert_nonnull(strstr(svc_steps, "touch /run/bulkhead-sandbox/1/work/service-off/cups\n"));
    g_assert_null(strstr(svc_steps, "service/.."));
    g_assert_null(strstr(svc_steps, "service/a"));
    g_assert_null(strstr(svc_steps, "service/.x"));
    g_assert_null(strstr(svc_steps, "noeq"));
    g_assert_true(
        argv_has(svc_argv, "--ro-bind", "/run/bulkhead-sandbox/1/work/service", "/run/bulkhead/service"));
    g_assert_true(argv_has(svc_argv, "--ro-bind", "/run/bulkhead-sandbox/1/work/service-off",
                           "/run/bulkhead/service-off"));
    g_assert_true(argv_has(svc_argv, "--symlink", "bulkhead/service", "/run/qubes-service"));
    g_assert_null(strstr(steps, "touch /run/bulkhead-sandbox/1/work/service/"));

    /* No font cache unless the plan names one. */
    g_assert_null(strstr(steps, "fontcache"));
    g_assert_false(argv_has(argv, "--ro-bind", "/run/bulkhead-sandbox/1/work/fontcache", NULL));

    /* The host's font cache: bound read-only into the staging area, then
     * read-only at its own path inside (bench/RESULTS.md, "Start at scale"). */
    BhSandboxPlan fonts = plan;
    fonts.font_cache = BH_SANDBOX_FONT_CACHE;
    g_autoptr(BhSandboxSetup) font_setup = bh_sandbox_layout_setup(&fonts);
    g_autofree char *font_steps = bh_sandbox_setup_describe(font_setup);
    g_assert_nonnull(
        strstr(font_steps, "bind-ro /var/cache/fontconfig -> /run/bulkhead-sandbox/1/work/fontcache\n"));
    g_autoptr(GPtrArray) font_argv = bh_sandbox_layout_bwrap_argv(&fonts);
    g_assert_true(
        argv_has(font_argv, "--ro-bind", "/run/bulkhead-sandbox/1/work/fontcache", "/var/cache/fontconfig"));
    g_assert_false(argv_has(font_argv, "--bind", "/run/bulkhead-sandbox/1/work/fontcache", NULL));

    /* With a private volume, the home comes from it, mounted in the set-up
     * namespace, and not from the directory. */
    plan.private_image = TRUE;
    g_autoptr(BhSandboxSetup) vol = bh_sandbox_layout_setup(&plan);
    g_autofree char *vol_steps = bh_sandbox_setup_describe(vol);
    g_assert_nonnull(strstr(vol_steps, "private /run/bulkhead-sandbox/1/work/pvol /proc/self/fd/12\n"));
    g_assert_nonnull(strstr(
        vol_steps, "idmap /run/bulkhead-sandbox/1/work/pvol/home -> /run/bulkhead-sandbox/1/work/home\n"));
    g_assert_null(strstr(vol_steps, "/state/qubes/work/private"));
}

static void test_plan_template(void)
{
    g_autoptr(GPtrArray) links = g_ptr_array_new();
    BhSandboxPlan plan = plan_for(links, TRUE, FALSE, "/");
    g_assert_true(bh_sandbox_layout_writes_kept(&plan));
    g_autoptr(BhSandboxSetup) setup = bh_sandbox_layout_setup(&plan);
    g_autofree char *steps = bh_sandbox_setup_describe(setup);
    /* Its writes land in its own kept layers. */
    g_assert_nonnull(strstr(steps, "chown /state/qubes/tpl/root/usr\n"));
    g_assert_nonnull(strstr(steps,
                            "lowerdir=/run/bulkhead-sandbox/1/work/lower/usr,upperdir=/state/qubes/tpl/root/"
                            "usr,workdir=/state/qubes/tpl/root-work/usr\n"));
    g_assert_nonnull(strstr(steps, "idmap /state/qubes/tpl/root/etc -> /run/bulkhead-sandbox/1/work/etc\n"));
    g_assert_null(strstr(steps, "upper/"));
    g_autoptr(GPtrArray) argv = bh_sandbox_layout_bwrap_argv(&plan);
    g_assert_true(argv_has(argv, "--bind", "/run/bulkhead-sandbox/1/work/usr", "/usr"));

    /* Read-only: like an AppVM below, and bound read-only (but /var). */
    BhSandboxPlan ro = plan_for(links, TRUE, TRUE, "/");
    g_assert_false(bh_sandbox_layout_writes_kept(&ro));
    g_autoptr(GPtrArray) ro_argv = bh_sandbox_layout_bwrap_argv(&ro);
    g_assert_true(argv_has(ro_argv, "--ro-bind", "/run/bulkhead-sandbox/1/work/usr", "/usr"));
    g_assert_true(argv_has(ro_argv, "--ro-bind", "/run/bulkhead-sandbox/1/work/etc", "/etc"));
    g_assert_true(argv_has(ro_argv, "--bind", "/run/bulkhead-sandbox/1/work/var", "/var"));
}

/* A StandaloneVM's root volume: mounted in the set-up namespace, shown
 * through one idmapped mount, the usr overlay's upper and work both on it
 * and mounted with the qube's fs ids; nothing of the layers on dom0's disk. */
static void test_plan_root_volume(void)
{
    g_autoptr(GPtrArray) links = g_ptr_array_new();
    BhSandboxPlan plan = plan_for(links, TRUE, FALSE, "/");
    plan.root_image = TRUE;
    g_autoptr(BhSandboxSetup) setup = bh_sandbox_layout_setup(&plan);
    g_autofree char *steps = bh_sandbox_setup_describe(setup);
    g_test_message("%s", steps);
    const char *mount = "private /run/bulkhead-sandbox/1/work/rvol /proc/self/fd/13\n";
    const char *idmap = "idmap /run/bulkhead-sandbox/1/work/rvol -> /run/bulkhead-sandbox/1/work/rimg\n";
    const char *usr =
        "overlay-as-qube /run/bulkhead-sandbox/1/work/usr lowerdir=/run/bulkhead-sandbox/1/work/"
        "lower/usr,upperdir=/run/bulkhead-sandbox/1/work/rimg/root/usr,workdir=/run/"
        "bulkhead-sandbox/1/work/rimg/root-work/usr\n";
    g_assert_nonnull(strstr(steps, mount));
    g_assert_nonnull(strstr(steps, idmap));
    g_assert_nonnull(strstr(steps, usr));
    /* Already idmapped: a plain bind (an idmapped mount is not mapped again). */
    g_assert_nonnull(strstr(
        steps, "bind /run/bulkhead-sandbox/1/work/rimg/root/etc -> /run/bulkhead-sandbox/1/work/etc\n"));
    g_assert_true(strstr(steps, mount) < strstr(steps, idmap) && strstr(steps, idmap) < strstr(steps, usr));
    g_assert_null(strstr(steps, "/state/qubes/tpl/root"));
    g_assert_null(strstr(steps, "chown "));
    /* An AppVM on a template's root volume: the same mount (the template's
     * loop device), its layers as lowers, writes to the staging tmpfs. */
    BhSandboxPlan app = plan_for(links, FALSE, FALSE, "/");
    app.root_image = TRUE;
    g_autoptr(BhSandboxSetup) app_setup = bh_sandbox_layout_setup(&app);
    g_autofree char *app_steps = bh_sandbox_setup_describe(app_setup);
    g_assert_nonnull(strstr(app_steps, mount));
    g_assert_nonnull(strstr(app_steps, idmap));
    g_assert_nonnull(strstr(app_steps, "bind /run/bulkhead-sandbox/1/work/rimg/root/etc -> "
                                       "/run/bulkhead-sandbox/1/work/lower/etc\n"));
    g_assert_nonnull(strstr(app_steps, "lowerdir=/run/bulkhead-sandbox/1/work/rimg/root/usr:/run/"
                                       "bulkhead-sandbox/1/work/lower/usr,upperdir=/run/bulkhead-sandbox/1/"
                                       "work/upper/usr,"));
    g_assert_null(strstr(app_steps, "/state/qubes/tpl/root"));
}

static void test_plan_root_path(Tmp *t, gconstpointer data)
{
    g_autofree char *usr = mk(t->tmp, "usr");
    g_autofree char *etc = mk(t->tmp, "etc");
    g_autoptr(GPtrArray) links = g_ptr_array_new();
    BhSandboxPlan plan = plan_for(links, TRUE, FALSE, t->tmp);
    g_autoptr(BhSandboxSetup) setup = bh_sandbox_layout_setup(&plan);
    g_autofree char *steps = bh_sandbox_setup_describe(setup);
    /* The tree's /usr and /etc are lower layers; the template's are uppers;
     * it has no /opt, so the template's own /opt stands alone. */
    g_autofree char *idmap_usr = g_strdup_printf("idmap %s -> /run/bulkhead-sandbox/1/work/lower/usr\n", usr);
    g_autofree char *idmap_etc = g_strdup_printf("idmap %s -> /run/bulkhead-sandbox/1/work/lower/etc\n", etc);
    g_assert_nonnull(strstr(steps, idmap_usr));
    g_assert_nonnull(strstr(steps, idmap_etc));
    g_assert_nonnull(
        strstr(steps, "upperdir=/state/qubes/tpl/root/etc,workdir=/state/qubes/tpl/root-work/etc\n"));
    g_assert_nonnull(strstr(steps, "idmap /state/qubes/tpl/root/opt -> /run/bulkhead-sandbox/1/work/opt\n"));
}

/* ---- volumes and trees -------------------------------------------------------------- */

static void test_copy_filtered(Tmp *t, gconstpointer data)
{
    g_autofree char *src = mk(t->tmp, "src");
    g_autofree char *priv = mk(src, "private");
    g_autofree char *pub = mk(src, "public");
    touch(src, "readable", "ok");
    touch(src, "secret", "no");
    touch(pub, "inner", "ok");
    touch(priv, "key", "no");
    touch(src, "suid", "x");
    g_autofree char *secret = g_build_filename(src, "secret", NULL);
    g_autofree char *suid = g_build_filename(src, "suid", NULL);
    g_autofree char *link = g_build_filename(src, "link", NULL);
    g_assert_cmpint(g_chmod(secret, 0600), ==, 0);
    g_assert_cmpint(g_chmod(priv, 0700), ==, 0);
    g_assert_cmpint(g_chmod(suid, 04755), ==, 0);
    g_assert_cmpint(symlink("readable", link), ==, 0);

    g_autofree char *dst = g_build_filename(t->tmp, "dst", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_sandbox_copy_tree(src, dst, TRUE, &error));
    g_assert_no_error(error);
    g_autofree char *d_readable = g_build_filename(dst, "readable", NULL);
    g_autofree char *d_inner = g_build_filename(dst, "public", "inner", NULL);
    g_autofree char *d_secret = g_build_filename(dst, "secret", NULL);
    g_autofree char *d_priv = g_build_filename(dst, "private", NULL);
    g_autofree char *d_suid = g_build_filename(dst, "suid", NULL);
    g_autofree char *d_link = g_build_filename(dst, "link", NULL);
    g_assert_true(g_file_test(d_readable, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(d_inner, G_FILE_TEST_IS_REGULAR));
    g_assert_false(g_file_test(d_secret, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(d_priv, G_FILE_TEST_EXISTS));
    g_autofree char *target = g_file_read_link(d_link, NULL);
    g_assert_cmpstr(target, ==, "readable");
    struct stat st;
    g_assert_cmpint(stat(d_suid, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);

    /* A full copy (clones, disposables) keeps everything. */
    g_autofree char *all = g_build_filename(t->tmp, "all", NULL);
    g_assert_true(bh_sandbox_copy_tree(src, all, FALSE, &error));
    g_autofree char *a_secret = g_build_filename(all, "secret", NULL);
    g_autofree char *a_key = g_build_filename(all, "private", "key", NULL);
    g_assert_true(g_file_test(a_secret, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(a_key, G_FILE_TEST_IS_REGULAR));
}

static void test_volumes(Tmp *t, gconstpointer data)
{
    g_autofree char *tpl = g_build_filename(t->tmp, "qubes", "tpl", NULL);
    g_autofree char *dvm = g_build_filename(t->tmp, "qubes", "dvm", NULL);
    g_autofree char *disp = g_build_filename(t->tmp, "qubes", "disp1", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_sandbox_volumes_create(tpl, TRUE, NULL, "/", &error));
    g_assert_no_error(error);
    /* The template's /etc: the host's readable part, with the qube's user. */
    g_autofree char *passwd = g_build_filename(tpl, "root", "etc", NULL);
    g_autofree char *text = slurp(passwd, "passwd");
    g_assert_nonnull(strstr(text, "\nuser:x:1000:1000:Qube user:/home/user:/bin/bash\n"));
    g_autofree char *shadow = g_build_filename(passwd, "shadow", NULL);
    g_assert_false(g_file_test(shadow, G_FILE_TEST_EXISTS));
    /* A disposable starts from a copy of its template's home. */
    g_assert_true(bh_sandbox_volumes_create(dvm, FALSE, NULL, "/", &error));
    g_autofree char *dvm_private = g_build_filename(dvm, "private", NULL);
    touch(dvm_private, "note", "from dvm");
    g_assert_true(bh_sandbox_volumes_create(disp, FALSE, dvm, "/", &error));
    g_autofree char *disp_private = g_build_filename(disp, "private", NULL);
    g_autofree char *note = slurp(disp_private, "note");
    g_assert_cmpstr(note, ==, "from dvm");
    /* Cloning copies, and refuses to overwrite. */
    g_autofree char *clone = g_build_filename(t->tmp, "qubes", "tpl2", NULL);
    g_assert_true(bh_sandbox_volumes_clone(tpl, clone, 1, 2, &error));
    g_assert_no_error(error);
    g_assert_false(bh_sandbox_volumes_clone(tpl, clone, 1, 2, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
    g_clear_error(&error);
    g_assert_true(bh_sandbox_volumes_remove(disp, &error));
    g_assert_false(g_file_test(disp, G_FILE_TEST_EXISTS));
    g_assert_true(bh_sandbox_volumes_remove(disp, &error)); /* a missing one is fine */
}

static void test_root_links(Tmp *t, gconstpointer data)
{
    g_autofree char *home = mk(t->tmp, "home");
    const char *const links[][2] = {{"bin", "usr/bin"},
                                    {"lib64", "/usr/lib64"},
                                    {"evil", "../etc"},
                                    {"sneaky", "usr/../../etc"},
                                    {"tmp", "var/tmp"}};
    for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
        g_autofree char *l = g_build_filename(t->tmp, links[i][0], NULL);
        g_assert_cmpint(symlink(links[i][1], l), ==, 0);
    }
    g_autoptr(GPtrArray) found = bh_sandbox_root_links(t->tmp);
    g_assert_cmpuint(found->len, ==, 2);
    g_assert_cmpstr(found->pdata[0], ==, "bin=usr/bin");
    g_assert_cmpstr(found->pdata[1], ==, "lib64=usr/lib64");
}

static void test_guest_programs(Tmp *t, gconstpointer data)
{
    touch(t->tmp, "bulkhead-sandbox-init", "#!/bin/sh\n");
    touch(t->tmp, "bulkhead-gui-agent", "#!/bin/sh\n");
    touch(t->tmp, "qvm-copy", "not executable");
    touch(t->tmp, "unrelated", "#!/bin/sh\n");
    static const char *const exe[] = {"bulkhead-sandbox-init", "bulkhead-gui-agent", "unrelated"};
    for (gsize i = 0; i < G_N_ELEMENTS(exe); i++) {
        g_autofree char *p = g_build_filename(t->tmp, exe[i], NULL);
        g_assert_cmpint(g_chmod(p, 0755), ==, 0);
    }
    g_setenv("BH_SANDBOX_GUEST_DIRS", t->tmp, TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) found = bh_sandbox_find_guest_programs(&error);
    g_assert_no_error(error);
    g_assert_cmpuint(found->len, ==, 2);
    g_autofree char *init = g_build_filename(t->tmp, "bulkhead-sandbox-init", NULL);
    g_autofree char *gui = g_build_filename(t->tmp, "bulkhead-gui-agent", NULL);
    g_assert_cmpstr(found->pdata[0], ==, init);
    g_assert_cmpstr(found->pdata[1], ==, gui);
    /* Without the init there is no sandbox: an error naming where we looked. */
    g_unlink(init);
    g_autoptr(GPtrArray) none = bh_sandbox_find_guest_programs(&error);
    g_assert_null(none);
    g_assert_nonnull(strstr(error->message, t->tmp));
    g_unsetenv("BH_SANDBOX_GUEST_DIRS");
}

/* The guest programs' copies: one directory per daemon, every program in it
 * whole and read-only, replaced in place by a later daemon of the same pid,
 * gone with remove. */
static void test_guest_bin(Tmp *t, gconstpointer data)
{
    g_autofree char *src = g_build_filename(t->tmp, "src", NULL);
    g_autofree char *stage = g_build_filename(t->tmp, "stage", NULL);
    g_assert_cmpint(g_mkdir(src, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(stage, 0711), ==, 0);
    GString *big = g_string_new(NULL);
    for (int i = 0; i < 100000; i++)
        g_string_append_printf(big, "%d\n", i);
    touch(src, "bulkhead-sandbox-init", big->str);
    touch(src, "bulkhead-agent", "#!/bin/sh\n");
    g_autoptr(GPtrArray) programs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(programs, g_build_filename(src, "bulkhead-sandbox-init", NULL));
    g_ptr_array_add(programs, g_build_filename(src, "bulkhead-agent", NULL));

    g_autoptr(GError) error = NULL;
    g_autofree char *bin = bh_sandbox_guest_bin_make(stage, programs, &error);
    g_assert_no_error(error);
    g_autofree char *want = g_build_filename(stage, BH_SANDBOX_GUEST_BIN_DIR, NULL);
    g_assert_cmpstr(bin, ==, want);
    struct stat st;
    g_assert_cmpint(g_stat(bin, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);
    g_autofree char *init = g_build_filename(bin, "bulkhead-sandbox-init", NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(init, &text, &len, NULL));
    g_assert_cmpuint(len, ==, big->len);
    g_assert_cmpstr(text, ==, big->str);
    g_assert_cmpint(g_stat(init, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0555);

    /* Again (a daemon of the same pid): the copy is replaced, not written
     * into (a qube running the old one keeps its file). */
    int old = open(init, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(old, >=, 0);
    touch(src, "bulkhead-sandbox-init", "new\n");
    g_autofree char *again = bh_sandbox_guest_bin_make(stage, programs, &error);
    g_assert_no_error(error);
    g_free(text);
    text = NULL;
    g_assert_true(g_file_get_contents(init, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "new\n");
    char head[8] = {0};
    g_assert_cmpint(pread(old, head, 2, 0), ==, 2);
    g_assert_cmpstr(head, ==, "0\n");
    close(old);

    /* A program that cannot be read: an error naming it. */
    g_ptr_array_add(programs, g_build_filename(src, "missing", NULL));
    g_autofree char *none = bh_sandbox_guest_bin_make(stage, programs, &error);
    g_assert_null(none);
    g_assert_nonnull(strstr(error->message, "missing"));

    bh_sandbox_guest_bin_remove(stage);
    g_assert_false(g_file_test(bin, G_FILE_TEST_EXISTS));
    g_string_free(big, TRUE);
}

/* The detach step, for real (root: a private mount namespace in a child):
 * a mount beside the kept ones goes, the kept one, what is above it and
 * what is below it stay. */
static gboolean mounted(const char *point)
{
    g_autofree char *table = NULL;
    g_autofree char *needle = g_strdup_printf(" %s ", point);
    return g_file_get_contents("/proc/self/mountinfo", &table, NULL, NULL) && strstr(table, needle) != NULL;
}

static void test_detach_others(Tmp *t, gconstpointer data)
{
    if (geteuid() != 0) {
        g_test_skip("needs root (mount namespaces)");
        return;
    }
    g_autofree char *kept = g_build_filename(t->tmp, "kept", NULL);
    g_autofree char *below = g_build_filename(kept, "below", NULL);
    g_autofree char *other = g_build_filename(t->tmp, "other", NULL);
    g_autofree char *spaced = g_build_filename(t->tmp, "with space", NULL);
    g_assert_cmpint(g_mkdir(kept, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(other, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(spaced, 0755), ==, 0);

    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        /* The host's table must not change: a namespace of our own first. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", kept, "tmpfs", 0, NULL) < 0 || mkdir(below, 0755) < 0 ||
            mount("tmpfs", below, "tmpfs", 0, NULL) < 0 || mount("tmpfs", other, "tmpfs", 0, NULL) < 0 ||
            mount("tmpfs", spaced, "tmpfs", 0, NULL) < 0)
            _exit(10);
        BhSandboxSetup *s = bh_sandbox_setup_new(TRUE, 0, 0);
        const char *keep[] = {kept, "/proc", NULL};
        bh_sandbox_setup_detach_others(s, keep);
        bh_sandbox_setup_child(s);
        int rc = 0;
        if (!mounted(kept) || !mounted(below))
            rc |= 1; /* what was kept is gone */
        if (mounted(other))
            rc |= 2; /* what was not kept stayed */
        if (!mounted("/proc") || !mounted("/"))
            rc |= 4;
        g_autofree char *escaped = g_strdup_printf("%s/with\\040space", t->tmp);
        if (mounted(escaped))
            rc |= 8; /* a name with an escape in the table */
        _exit(rc);
    }
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    /* Nothing of it reached this namespace. */
    g_assert_false(mounted(kept));
}

/* The filter itself, loaded in a child: what it refuses, how, and that it
 * lets ordinary calls through. (Inside real qubes: sandbox-confine.) */
static int seccomp_child(GBytes *program)
{
    gsize len = 0;
    struct sock_fprog prog = {.filter = (struct sock_filter *)g_bytes_get_data(program, &len)};
    prog.len = (unsigned short)(len / sizeof(struct sock_filter));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return 10;
    char c = 'x';
    if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) != -1 || errno != EPERM)
        return 11;
    /* Refused before the descriptor is looked at (EPERM, not EBADF), also
     * with bits above the 32 the kernel reads. */
    if (syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &c) != -1 || errno != EPERM)
        return 12;
    if (syscall(SYS_ioctl, -1, TIOCGWINSZ, &c) != -1 || errno != EBADF)
        return 13;
    if (personality(PER_LINUX | ADDR_NO_RANDOMIZE) != -1 || errno != EPERM)
        return 14;
    if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
        return 15;
    if (syscall(SYS_unshare, CLONE_NEWUSER) != -1 || errno != EPERM)
        return 16;
    if (syscall(SYS_getpid) != getpid())
        return 17;
    /* Last: an x32 call ends the process. */
    syscall(0x40000000L | SYS_getpid);
    return 18;
}

static void test_seccomp_program(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) program = bh_sandbox_seccomp_program(&error);
    g_assert_no_error(error);
    g_assert_nonnull(program);
    g_assert_cmpuint(g_bytes_get_size(program) % sizeof(struct sock_filter), ==, 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(seccomp_child(program));
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (WIFEXITED(status))
        g_test_message("child exited with %d", WEXITSTATUS(status));
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGSYS);

    /* What bubblewrap reads cannot be changed: sealed. */
    int fd = bh_sandbox_seccomp_memfd(program, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "x", 1), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
    char buf[8];
    g_assert_cmpint(read(fd, buf, sizeof buf), ==, (ssize_t)MIN(sizeof buf, g_bytes_get_size(program)));
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/sandbox/" path, Tmp, NULL, tmp_setup, fn, tmp_teardown)
    ADD("cgroup/hybrid-v1", test_cgroup_hybrid);
    ADD("cgroup/pure-v2", test_cgroup_pure_v2);
    ADD("cgroup/v2-freezer-only", test_cgroup_v2_freezer_only);
    ADD("cgroup/none", test_cgroup_none);
    ADD("cgroup/forced", test_cgroup_forced);
    ADD("cgroup/mount-root", test_cgroup_mount_root);
    g_test_add_func("/sandbox/plan/appvm", test_plan_appvm);
    g_test_add_func("/sandbox/plan/template", test_plan_template);
    g_test_add_func("/sandbox/plan/root-volume", test_plan_root_volume);
    ADD("plan/root-path", test_plan_root_path);
    ADD("volumes/copy-filtered", test_copy_filtered);
    ADD("volumes/create-clone-remove", test_volumes);
    ADD("root-links", test_root_links);
    ADD("guest-programs", test_guest_programs);
    ADD("guest-bin", test_guest_bin);
    ADD("detach-others", test_detach_others);
    g_test_add_func("/sandbox/seccomp/program", test_seccomp_program);
#undef ADD
    return g_test_run();
}
