/* sandbox-layout.c — volumes, guest programs and the shape of a qube's root;
 * see sandbox-layout.h.
 *
 * The root of a running qube, as staged on a private tmpfs before bubblewrap
 * binds it (S = the staging directory, R = the root layers, H = host /usr):
 *
 *   layer  TemplateVM / StandaloneVM (own root)     AppVM / DispVM
 *   /usr   overlay: lower idmap(H), upper R/usr     overlay: lower R/usr + idmap(H), upper S (tmpfs)
 *   /etc   idmap(R/etc), writable, kept             overlay: lower idmap(R/etc), upper S (tmpfs)
 *   /var   idmap(R/var), writable, kept             overlay: lower idmap(R/var), upper S (tmpfs)
 *   /opt   idmap(R/opt), writable, kept             overlay: lower idmap(R/opt), upper S (tmpfs)
 *   /home/user  idmap(<qube>/private), kept
 *
 * A StandaloneVM's R is its root volume (root.img) instead, mounted here and
 * shown through one idmapped mount: then its usr upper is idmapped too, and
 * that overlay is mounted with the qube's fs ids (sandbox-spawn.c).
 *
 * "idmap" shows files owned by host root as owned by the qube's user, so the
 * qube may change its own root (like root in a Qubes VM) while the host's
 * files stay untouched: writes land in the upper layer. An overlay's upper
 * layer cannot be idmapped (the kernel mounts it as root), so a template's
 * usr layer keeps files owned by the template's host uid.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-layout.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/error.h>
#include <bulkhead/rpc-service.h>

#include "config.h"
#include "sandbox-fsops.h"
#include "sandbox-private.h"

static const char *const bh_layer_names[BH_LAYER_N] = {"usr", "etc", "var", "opt"};

const char *bh_sandbox_layer_name(BhSandboxLayer layer)
{
    return bh_layer_names[layer];
}

/* ---- the root of a running qube ------------------------------------------------ */

/* The model's rule for a service's name (bh_service_validate), checked again
 * before it becomes a file name: a letter or digit, then letters, digits,
 * '_', '-', '.'; at most 64 bytes. [name, end) is the name. */
static gboolean bh_service_name_ok(const char *name, const char *end)
{
    if (end <= name || end - name > 64 || !g_ascii_isalnum(name[0]))
        return FALSE;
    for (const char *p = name; p < end; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

static char *bh_path(const char *a, const char *b)
{
    return g_build_filename(a, b, NULL);
}

/* Whether the base tree provides this layer itself (a root_path tree does;
 * of the host's own root only /usr is ever used: its /etc, /var and /opt
 * hold the host's secrets and data, so the template keeps its own). */
static gboolean bh_base_has(const BhSandboxPlan *plan, BhSandboxLayer l)
{
    if (l == BH_LAYER_USR)
        return TRUE;
    if (g_str_equal(plan->base_root, "/"))
        return FALSE;
    g_autofree char *dir = g_build_filename(plan->base_root, bh_layer_names[l], NULL);
    return g_file_test(dir, G_FILE_TEST_IS_DIR);
}

gboolean bh_sandbox_layout_writes_kept(const BhSandboxPlan *plan)
{
    return plan->own_root && !plan->root_readonly;
}

/* A layer of the qube's own shown at target with the qube's ownership: an
 * idmapped bind, or a plain one of what is already idmapped (a root
 * volume's mount: an idmapped mount cannot be idmapped again). */
static void bh_show_layer(BhSandboxSetup *s, gboolean root_image, const char *own, const char *target)
{
    if (root_image)
        bh_sandbox_setup_bind(s, own, target);
    else
        bh_sandbox_setup_idmap(s, own, target);
}

BhSandboxSetup *bh_sandbox_layout_setup(const BhSandboxPlan *plan)
{
    BhSandboxSetup *s = bh_sandbox_setup_new(plan->privileged, plan->host_uid, plan->host_gid);
    const char *S = plan->stage_dir;
    gboolean kept = bh_sandbox_layout_writes_kept(plan);
    gboolean root_image = plan->root_image;
    g_autofree char *rvol = bh_path(S, "rvol");
    g_autofree char *rimg = bh_path(S, "rimg");
    /* A root volume is mounted in this namespace only and shown whole through
     * one idmapped mount, so that an overlay's upper layer and its work
     * directory (which must share a mount) are both idmapped: everything in
     * the image stays root's on disk, and a clone is a copy of the file. */
    g_autofree char *root_dir = root_image ? bh_path(rimg, "root") : g_strdup(plan->root_dir);
    g_autofree char *work_dir = g_strconcat(root_dir, "-work", NULL);
    g_autofree char *upper = bh_path(S, "upper");
    g_autofree char *work = bh_path(S, "work");
    g_autofree char *lower = bh_path(S, "lower");

    if (plan->privileged)
        bh_sandbox_setup_set_idmap_fd(s, BH_SANDBOX_FD_IDMAP);
    bh_sandbox_setup_tmpfs(s, S, "mode=0755");
    bh_sandbox_setup_mkdir(s, lower, 0755);
    if (root_image) {
        bh_sandbox_setup_mkdir(s, rvol, 0700);
        bh_sandbox_setup_private(s, rvol, BH_SANDBOX_FD_ROOT);
        bh_sandbox_setup_mkdir(s, rimg, 0700);
        bh_sandbox_setup_idmap(s, rvol, rimg);
    }
    if (!kept) {
        bh_sandbox_setup_mkdir(s, upper, 0755);
        bh_sandbox_setup_mkdir(s, work, 0700);
    }
    for (int l = 0; l < BH_LAYER_N; l++) {
        const char *name = bh_layer_names[l];
        g_autofree char *target = bh_path(S, name);
        g_autofree char *own = bh_path(root_dir, name);
        g_autofree char *low = bh_path(lower, name);
        gboolean from_base = bh_base_has(plan, (BhSandboxLayer)l);
        /* An own layer is an overlay upper (files of the template's uid) when
         * it sits over the base; else a whole tree owned by root on disk. */
        gboolean own_is_upper = from_base;
        bh_sandbox_setup_mkdir(s, target, 0755);

        g_autofree char *base_layer = from_base ? bh_path(plan->base_root, name) : NULL;
        if (from_base) {
            bh_sandbox_setup_mkdir(s, low, 0755);
            bh_sandbox_setup_idmap(s, base_layer, low);
        }
        if (kept) {
            /* The template itself: its layer is where writes land and stay. */
            if (own_is_upper) {
                g_autofree char *w = bh_path(work_dir, name);
                /* On dom0's disk the upper is not idmapped: its top must be
                 * the qube's. In a root volume it is (root's = the qube's). */
                if (root_image) {
                    bh_sandbox_setup_overlay_idmapped(s, target, low, own, w);
                } else {
                    bh_sandbox_setup_chown(s, own);
                    bh_sandbox_setup_overlay(s, target, low, own, w);
                }
            } else {
                bh_show_layer(s, root_image, own, target);
            }
            continue;
        }
        /* An AppVM (or a read-only template): the template's layer and the
         * base below, writes into a tmpfs that dies with the qube. */
        g_autofree char *up = bh_path(upper, name);
        g_autofree char *w = bh_path(work, name);
        g_autofree char *lowers = NULL;
        if (own_is_upper) {
            lowers = g_strconcat(own, ":", low, NULL);
        } else {
            bh_sandbox_setup_mkdir(s, low, 0755);
            bh_show_layer(s, root_image, own, low);
            lowers = g_strdup(low);
        }
        bh_sandbox_setup_mkdir(s, up, 0755);
        bh_sandbox_setup_chown(s, up);
        bh_sandbox_setup_mkdir(s, w, 0700);
        bh_sandbox_setup_overlay(s, target, lowers, up, w);
    }

    g_autofree char *home = bh_path(S, "home");
    g_autofree char *private_dir = bh_path(plan->qube_dir, "private");
    bh_sandbox_setup_mkdir(s, home, 0755);
    if (plan->private_image) {
        /* The volume is mounted in this namespace only, its home/ idmapped. */
        g_autofree char *pvol = bh_path(S, "pvol");
        g_autofree char *pvol_home = bh_path(pvol, "home");
        bh_sandbox_setup_mkdir(s, pvol, 0700);
        bh_sandbox_setup_private(s, pvol, BH_SANDBOX_FD_PRIVATE);
        bh_sandbox_setup_idmap(s, pvol_home, home);
    } else {
        bh_sandbox_setup_idmap(s, private_dir, home);
    }

    g_autofree char *vchan = bh_path(S, "vchan");
    bh_sandbox_setup_mkdir(s, vchan, 0700);
    bh_sandbox_setup_idmap(s, plan->vchan_dir, vchan);

    /* The qube's own ptys, bounded: bubblewrap's --dev makes a devpts
     * instance too, but without a limit, so one qube could take the pool
     * every other qube's instance draws from (kernel.pty.max minus
     * kernel.pty.reserve). */
    g_autofree char *pts = bh_path(S, "pts");
    bh_sandbox_setup_mkdir(s, pts, 0755);
    bh_sandbox_setup_devpts(s, pts, BH_SANDBOX_PTY_MAX);

    /* Without root every qube has the daemon's uid, and /proc/keys lists
     * every key a uid owns: its keys' names would show in every qube. */
    if (!plan->privileged) {
        g_autofree char *empty = bh_path(S, "empty");
        bh_sandbox_setup_touch(s, empty);
    }

    /* Read-only at both ends: the qube can read the cache, never change
     * what dom0's own programs read. */
    if (plan->font_cache) {
        g_autofree char *fonts = bh_path(S, "fontcache");
        bh_sandbox_setup_mkdir(s, fonts, 0755);
        bh_sandbox_setup_bind_ro(s, plan->font_cache, fonts);
    }
    /* The build's own call services, read-only like the programs they run. */
    if (plan->services_dir) {
        g_autofree char *services = bh_path(S, "rpc-services");
        bh_sandbox_setup_mkdir(s, services, 0755);
        bh_sandbox_setup_bind_ro(s, plan->services_dir, services);
    }

    /* File managers' actions: data, read-only like the programs they run. */
    if (plan->share_dir) {
        g_autofree char *share = bh_path(S, "share");
        bh_sandbox_setup_mkdir(s, share, 0755);
        bh_sandbox_setup_bind_ro(s, plan->share_dir, share);
    }

    /* Services: dom0's flags, one way. Staged on the tmpfs, bound read-only:
     * the qube reads them, and nothing it does reaches dom0 through them. */
    g_autofree char *on = bh_path(S, "service");
    g_autofree char *off = bh_path(S, "service-off");
    bh_sandbox_setup_mkdir(s, on, 0755);
    bh_sandbox_setup_mkdir(s, off, 0755);
    for (guint i = 0; plan->services != NULL && plan->services[i] != NULL; i++) {
        g_autofree char *name = g_strdup(plan->services[i]);
        char *eq = strrchr(name, '=');
        if (eq == NULL || !bh_service_name_ok(name, eq))
            continue; /* the model never gives one: a file name stays a name */
        *eq = '\0';
        g_autofree char *file = bh_path(g_str_equal(eq + 1, "1") ? on : off, name);
        bh_sandbox_setup_touch(s, file);
    }

    /* One mount for all the guest programs (bh_sandbox_guest_bin_make). */
    g_autofree char *bin = bh_path(S, "bin");
    bh_sandbox_setup_mkdir(s, bin, 0755);
    bh_sandbox_setup_bind_ro(s, plan->bin_dir, bin);

    /* Last: of the host's mounts only what bubblewrap still reads (its
     * binary and libraries, /proc, the devices its --dev binds, the
     * resolv.conf beside the staging directories) and the staged parts stay
     * in this namespace (sandbox-spawn.h). */
    if (plan->privileged) {
        g_autofree char *resolv_dir = plan->resolv_conf ? g_path_get_dirname(plan->resolv_conf) : NULL;
        const char *keep[] = {S, plan->bwrap, "/usr", "/etc", "/proc", "/dev", resolv_dir, NULL};
        bh_sandbox_setup_detach_others(s, keep);
    }
    return s;
}

static void bh_argv_add(GPtrArray *argv, const char *first, ...) G_GNUC_NULL_TERMINATED;

static void bh_argv_add(GPtrArray *argv, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, g_strdup(a));
    va_end(ap);
}

/* A bind of a staged part: bubblewrap resolves sources with realpath(), so
 * the staging directory must be reachable by path (see sandbox.c). */
static void bh_argv_add_staged(GPtrArray *argv, const char *option, const char *stage, const char *part,
                               const char *dest)
{
    g_autofree char *source = g_build_filename(stage, part, NULL);
    bh_argv_add(argv, option, source, dest, NULL);
}

GPtrArray *bh_sandbox_layout_env(const char *name, guint32 qid)
{
    GPtrArray *env = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(env, g_strdup("HOME=" BH_SANDBOX_HOME));
    g_ptr_array_add(env, g_strdup("USER=" BH_SANDBOX_USER_NAME));
    g_ptr_array_add(env, g_strdup("LOGNAME=" BH_SANDBOX_USER_NAME));
    g_ptr_array_add(env, g_strdup("SHELL=/bin/sh"));
    g_ptr_array_add(env, g_strdup("PATH=" BH_SANDBOX_GUEST_PATH));
    g_ptr_array_add(env, g_strdup("LANG=C.UTF-8"));
    /* Bulkhead's desktop data first (a missing folder is skipped), then
     * the XDG defaults these variables replace. */
    g_ptr_array_add(env, g_strdup("XDG_CONFIG_DIRS=" BH_SANDBOX_GUEST_SHARE "/config:/etc/xdg"));
    g_ptr_array_add(env,
                    g_strdup("XDG_DATA_DIRS=" BH_SANDBOX_GUEST_SHARE "/data:/usr/local/share:/usr/share"));
    g_ptr_array_add(env, g_strdup("XDG_RUNTIME_DIR=" BH_SANDBOX_GUEST_RUNTIME));
    /* Applications draw through the qube's gui-agent, never anything else. */
    g_ptr_array_add(env, g_strdup("WAYLAND_DISPLAY=wayland-0"));
    /* X11 apps reach the qube's own Xwayland, started by the gui-agent in
     * the qube's /tmp and network namespace (docs/gui-agent.md, "X11"). */
    g_ptr_array_add(env, g_strdup("DISPLAY=:0"));
    g_ptr_array_add(env, g_strdup("BH_X11_DISPLAY=0"));
    /* Java's AWT takes an X window manager it does not know for one that
     * reparents (it waits for a ReparentNotify to learn the frame's
     * insets) and draws none of a window's contents: the agent's XWM never
     * reparents, so say so, as sway and other Wayland desktops do. With the
     * XWM's ConfigureNotify at map (gui-agent/xwm.c) Swing windows are
     * drawn; without either they stayed blank grey (sandbox-x11-apps). */
    g_ptr_array_add(env, g_strdup("_JAVA_AWT_WM_NONREPARENTING=1"));
    g_ptr_array_add(env, g_strdup("XDG_SESSION_TYPE=wayland"));
    g_ptr_array_add(env, g_strdup("GDK_BACKEND=wayland"));
    g_ptr_array_add(env, g_strdup("QT_QPA_PLATFORM=wayland"));
    g_ptr_array_add(env, g_strdup("BH_VCHAN_TRANSPORT=socket"));
    g_ptr_array_add(env, g_strdup("BH_VCHAN_DIR=" BH_SANDBOX_GUEST_VCHAN));
    g_ptr_array_add(env, g_strdup_printf("BH_VCHAN_DOMID=%u", qid));
    g_ptr_array_add(env, g_strdup_printf("BH_QUBE=%s", name));
    return env;
}

GPtrArray *bh_sandbox_layout_bwrap_argv(const BhSandboxPlan *plan)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *vchan = g_strdup_printf(BH_SANDBOX_GUEST_VCHAN "/%u", plan->qid);
    g_autofree char *uid = g_strdup_printf("%u", BH_SANDBOX_USER_UID);
    g_autofree char *info = g_strdup_printf("%d", BH_SANDBOX_FD_INFO);
    g_autofree char *block = g_strdup_printf("%d", BH_SANDBOX_FD_BLOCK);

    /* No --die-with-parent: a qube outlives a daemon that crashes, and the
     * next one adopts it or kills it by its cgroup (sandbox-adopt.h). */
    bh_argv_add(argv, plan->bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--as-pid-1",
                "--new-session", "--cap-drop", "ALL", "--uid", uid, "--gid", uid, "--hostname", plan->name,
                "--info-fd", info, "--block-fd", block, NULL);
    if (plan->seccomp) {
        g_autofree char *fd = g_strdup_printf("%d", BH_SANDBOX_FD_SECCOMP);
        bh_argv_add(argv, "--seccomp", fd, NULL);
    }
    for (int l = 0; l < BH_LAYER_N; l++) {
        g_autofree char *dest = g_strconcat("/", bh_layer_names[l], NULL);
        /* root_readonly: the template's own root is not writable at all,
         * except /var, which programs need for scratch (and which is still
         * discarded). */
        gboolean ro = plan->own_root && plan->root_readonly && l != BH_LAYER_VAR;
        bh_argv_add_staged(argv, ro ? "--ro-bind" : "--bind", plan->stage_dir, bh_layer_names[l], dest);
    }
    if (plan->font_cache)
        bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "fontcache", plan->font_cache);
    for (guint i = 0; i < plan->root_links->len; i++) {
        g_auto(GStrv) kv = g_strsplit(plan->root_links->pdata[i], "=", 2);
        g_autofree char *dest = g_strconcat("/", kv[0], NULL);
        bh_argv_add(argv, "--symlink", kv[1], dest, NULL);
    }
    /* Not on a root that is read-only all through: bubblewrap could not
     * make the mount point there if the root has no resolv.conf. */
    if (plan->resolv_conf && !(plan->own_root && plan->root_readonly))
        bh_argv_add(argv, "--ro-bind", plan->resolv_conf, "/etc/resolv.conf", NULL);
    bh_argv_add(argv, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--perms", "1777", "--tmpfs",
                "/tmp", "--tmpfs", "/run", "--perms", "0700", "--dir", BH_SANDBOX_GUEST_RUNTIME, "--dir",
                "/run/bulkhead", "--perms", "0700", "--dir", BH_SANDBOX_GUEST_VCHAN, NULL);
    bh_argv_add_staged(argv, "--dev-bind", plan->stage_dir, "pts", "/dev/pts");
    if (!plan->privileged) {
        bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "empty", "/proc/keys");
        bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "empty", "/proc/key-users");
    }
    bh_argv_add_staged(argv, "--bind", plan->stage_dir, "vchan", vchan);
    bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "bin", BH_SANDBOX_GUEST_BIN);
    bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "service", BH_SANDBOX_GUEST_SERVICES);
    bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "service-off", BH_SANDBOX_GUEST_SERVICES_OFF);
    /* Where Qubes' own template scripts look (ConditionPathExists=). */
    bh_argv_add(argv, "--symlink", "bulkhead/service", "/run/qubes-service", NULL);
    if (plan->services_dir)
        bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "rpc-services", BH_RPC_SERVICES_RUN);
    if (plan->share_dir)
        bh_argv_add_staged(argv, "--ro-bind", plan->stage_dir, "share", BH_SANDBOX_GUEST_SHARE);
    bh_argv_add_staged(argv, "--bind", plan->stage_dir, "home", BH_SANDBOX_HOME);
    bh_argv_add(argv, "--chdir", BH_SANDBOX_HOME, "--clearenv", NULL);

    g_autoptr(GPtrArray) env = bh_sandbox_layout_env(plan->name, plan->qid);
    g_ptr_array_add(env, g_strdup_printf("BH_SANDBOX_READY_FD=%d", BH_SANDBOX_FD_READY));
    if (plan->disposable)
        g_ptr_array_add(env, g_strdup("BH_SANDBOX_DISPOSABLE=1"));
    for (guint i = 0; i < env->len; i++) {
        g_auto(GStrv) kv = g_strsplit(env->pdata[i], "=", 2);
        bh_argv_add(argv, "--setenv", kv[0], kv[1], NULL);
    }
    bh_argv_add(argv, BH_SANDBOX_GUEST_BIN "/" BH_SANDBOX_INIT, NULL);
    return argv;
}

/* ---- volumes ------------------------------------------------------------------ */

/* A qube shapes everything inside its directory (its home, its root layers),
 * so nothing there is reached by path: every operation below goes through
 * sandbox-fsops.c, relative to descriptors, never following a link. The only
 * paths used are dom0's own: the state directory and a qube's directory in
 * it (named after the validated qube name). */

static void bh_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The parent directory of a dom0 path, opened (and made, with create), and
 * the last component of the path in *base. */
static int bh_open_parent(const char *path, gboolean create, char **base, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    if (create && g_mkdir_with_parents(dir, 0700) < 0) {
        bh_error_errno(error, errno, "cannot create %s", dir);
        return -1;
    }
    *base = g_path_get_basename(path);
    return bh_fs_open_dir_path(dir, error);
}

gboolean bh_sandbox_copy_tree(const char *source, const char *dest, gboolean world_readable_only,
                              GError **error)
{
    g_autofree char *base = NULL;
    int src = -1, parent = -1;
    gboolean ok = FALSE;
    /* Set-id bits never survive (sandbox-fsops.c); a filtered copy (the
     * host's /etc) has no xattrs or whiteouts that would mean anything. */
    BhFsCopy copy = {
        .flags = BH_FS_COPY_OWNERS |
                 (world_readable_only ? BH_FS_COPY_WORLD_READABLE : BH_FS_COPY_XATTRS | BH_FS_COPY_WHITEOUTS),
        .reown_from = (uid_t)-1,
        .reown_to = (uid_t)-1,
        .what = source,
    };
    if ((src = bh_fs_open_dir_path(source, error)) >= 0 &&
        (parent = bh_open_parent(dest, FALSE, &base, error)) >= 0)
        ok = bh_fs_copy_tree(src, parent, base, &copy, error);
    bh_close_fd(&src);
    bh_close_fd(&parent);
    return ok;
}

/* The qube's user is uid/gid 1000 named "user": whatever the host calls
 * 1000 (or "user") is replaced, so shells and programs agree on who runs. */
static gboolean bh_set_account(int etc_fd, const char *file, const char *line, GError **error)
{
    g_autofree char *text = NULL;
    if (!bh_fs_read_at(etc_fd, file, 16 << 20, &text, NULL))
        text = g_strdup("");
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GString) out = g_string_new(NULL);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, ":", 4);
        if (**l == '\0' ||
            (g_strv_length(f) >= 3 && (g_str_equal(f[2], "1000") || g_str_equal(f[0], "user"))))
            continue;
        g_string_append_printf(out, "%s\n", *l);
    }
    g_string_append_printf(out, "%s\n", line);
    return bh_fs_write_at(etc_fd, file, out->str, out->len, 0644, error);
}

/* The template's /etc on the host's "/": a filtered copy of the host's,
 * built aside and renamed, so a half-copied /etc is never used. */
static gboolean bh_create_etc(int root, const char *host_etc, GError **error)
{
    int src = -1, etc = -1;
    gboolean ok = FALSE;
    BhFsCopy copy = {
        .flags = BH_FS_COPY_OWNERS | BH_FS_COPY_WORLD_READABLE,
        .reown_from = (uid_t)-1,
        .reown_to = (uid_t)-1,
        .what = host_etc,
    };
    if (!bh_fs_remove_at(root, ".etc.new", error) || (src = bh_fs_open_dir_path(host_etc, error)) < 0 ||
        !bh_fs_copy_tree(src, root, ".etc.new", &copy, error) ||
        (etc = bh_fs_open_beneath(root, ".etc.new", error)) < 0 ||
        !bh_set_account(etc, "passwd", "user:x:1000:1000:Qube user:" BH_SANDBOX_HOME ":/bin/bash", error) ||
        !bh_set_account(etc, "group", "user:x:1000:", error))
        goto out;
    if (renameat(root, ".etc.new", root, "etc") < 0) {
        bh_error_errno(error, errno, "cannot create %s", "root/etc");
        goto out;
    }
    ok = TRUE;
out:
    bh_close_fd(&src);
    bh_close_fd(&etc);
    return ok;
}

/* Makes name in dirfd with mode (set again each time with set_mode), and
 * closes it again. */
static gboolean bh_make_dir(int dirfd, const char *name, mode_t mode, gboolean set_mode, GError **error)
{
    int fd = bh_fs_mkdir_at(dirfd, name, mode, set_mode, error);
    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

static gboolean bh_create_root(int qube, const char *name, const char *base_root, GError **error)
{
    gboolean host = g_str_equal(base_root, "/");
    g_autofree char *host_etc = g_build_filename(base_root, "etc", NULL);
    int root = -1, work = -1, var = -1;
    gboolean ok = FALSE;
    struct stat st;

    /* The tops of the layers are dom0's (they are mount points inside):
     * their modes are set each time. */
    if ((root = bh_fs_mkdir_at(qube, "root", 0755, TRUE, error)) < 0 ||
        (work = bh_fs_mkdir_at(qube, "root-work", 0700, TRUE, error)) < 0 ||
        !bh_make_dir(root, "usr", 0755, TRUE, error) || !bh_make_dir(work, "usr", 0700, TRUE, error) ||
        !bh_make_dir(root, "opt", 0755, TRUE, error))
        goto out;
    if (!host) {
        /* A root_path tree brings its own /etc, /var, /opt: the template's
         * layers start empty above them. */
        ok = bh_make_dir(root, "etc", 0755, TRUE, error) && bh_make_dir(root, "var", 0755, TRUE, error) &&
             bh_make_dir(work, "etc", 0700, TRUE, error) && bh_make_dir(work, "var", 0700, TRUE, error) &&
             bh_make_dir(work, "opt", 0700, TRUE, error);
        goto out;
    }
    if (fstatat(root, "etc", &st, AT_SYMLINK_NOFOLLOW) < 0 && !bh_create_etc(root, host_etc, error))
        goto out;
    if ((var = bh_fs_mkdir_at(root, "var", 0755, TRUE, error)) < 0)
        goto out;
    /* What is inside /var is the qube's: a missing directory is made, an
     * existing one (or whatever the qube put there instead, a link to a host
     * path included) is left exactly as it is. */
    static const char *const var_dirs[] = {"lib", "cache", "log", "spool", "local", "tmp"};
    for (gsize i = 0; i < G_N_ELEMENTS(var_dirs); i++) {
        g_autoptr(GError) local = NULL;
        mode_t mode = g_str_equal(var_dirs[i], "tmp") ? 01777 : 0755;
        int fd = bh_fs_mkdir_at(var, var_dirs[i], mode, FALSE, &local);
        if (fd < 0 && !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY)) {
            g_propagate_error(error, g_steal_pointer(&local));
            goto out;
        }
        if (fd < 0)
            g_message("[%s] /var/%s: %s", name, var_dirs[i], local->message);
        bh_close_fd(&fd);
    }
    ok = TRUE;
out:
    bh_close_fd(&root);
    bh_close_fd(&work);
    bh_close_fd(&var);
    return ok;
}

/* A disposable's home: a copy of its disposable template's, which may be
 * running and changing it during the copy (see docs/sandbox.md). */
static gboolean bh_copy_home(int qube, const char *source_dir, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *source_name = g_path_get_basename(source_dir);
    g_autofree char *what = g_strdup_printf("the home of %s", source_name);
    int src_qube = -1, src = -1;
    gboolean ok = FALSE;
    BhFsCopy copy = {
        .flags = BH_FS_COPY_OWNERS | BH_FS_COPY_XATTRS | BH_FS_COPY_LIVE,
        .reown_from = (uid_t)-1,
        .reown_to = (uid_t)-1,
        .what = what,
    };
    if ((src_qube = bh_fs_open_dir_path(source_dir, &local)) < 0 ||
        (src = bh_fs_open_beneath(src_qube, "private", &local)) < 0) {
        /* A template without volumes gives an empty home. */
        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            ok = bh_make_dir(qube, "private", 0700, TRUE, error);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        goto out;
    }
    if (!bh_fs_remove_at(qube, ".private.new", error) ||
        !bh_fs_copy_tree(src, qube, ".private.new", &copy, error))
        goto out;
    if (renameat(qube, ".private.new", qube, "private") < 0) {
        bh_error_errno(error, errno, "cannot create %s", "private");
        goto out;
    }
    ok = TRUE;
out:
    bh_close_fd(&src_qube);
    bh_close_fd(&src);
    return ok;
}

gboolean bh_sandbox_volumes_create(const char *qube_dir, gboolean own_root, const char *disp_source_dir,
                                   const char *base_root, GError **error)
{
    g_autofree char *name = NULL;
    int parent = -1, qube = -1;
    gboolean ok = FALSE;
    struct stat st;

    if ((parent = bh_open_parent(qube_dir, TRUE, &name, error)) < 0 ||
        (qube = bh_fs_mkdir_at(parent, name, 0700, TRUE, error)) < 0)
        goto out;
    if (fstatat(qube, "private", &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (disp_source_dir ? !bh_copy_home(qube, disp_source_dir, error)
                            : !bh_make_dir(qube, "private", 0700, TRUE, error))
            goto out;
    }
    /* A root volume holds the layers: none are made beside it. */
    if (own_root && fstatat(qube, BH_SANDBOX_ROOT_IMAGE, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
        !bh_create_root(qube, name, base_root, error))
        goto out;
    ok = TRUE;
out:
    bh_close_fd(&parent);
    bh_close_fd(&qube);
    return ok;
}

gboolean bh_sandbox_volumes_clone(const char *source_dir, const char *qube_dir, uid_t source_uid,
                                  uid_t dest_uid, GError **error)
{
    g_autofree char *name = NULL;
    g_autofree char *tmp = NULL;
    int src = -1, parent = -1, clone = -1, work = -1;
    gboolean ok = FALSE;
    struct stat st;
    /* Files a template's qube uid created in its usr layer (an overlay upper,
     * not idmapped) belong to the clone; root-owned entries (whiteouts, a
     * layer never used) stay root's. */
    gboolean reown = source_uid != dest_uid && source_uid != 0 && source_uid != (uid_t)-1;
    /* The overlay work directory is scratch space of the source's mounts
     * (with directories the kernel made 0000): the clone gets a fresh one. */
    static const char *const scratch[] = {"root-work", NULL};
    BhFsCopy copy = {
        .flags = BH_FS_COPY_OWNERS | BH_FS_COPY_XATTRS | BH_FS_COPY_WHITEOUTS,
        .reown_from = reown ? source_uid : (uid_t)-1,
        .reown_to = reown ? dest_uid : (uid_t)-1,
        .what = source_dir,
        .exclude_top = scratch,
    };

    if ((src = bh_fs_open_dir_path(source_dir, NULL)) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s has no volumes to clone", source_dir);
        goto out;
    }
    if ((parent = bh_open_parent(qube_dir, TRUE, &name, error)) < 0)
        goto out;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s already exists; remove it first", qube_dir);
        goto out;
    }
    tmp = g_strconcat(name, ".clone", NULL);
    if (!bh_fs_remove_at(parent, tmp, error) || !bh_fs_copy_tree(src, parent, tmp, &copy, error) ||
        (clone = bh_fs_open_beneath(parent, tmp, error)) < 0)
        goto out;
    if (fstatat(src, "root-work", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        ((work = bh_fs_mkdir_at(clone, "root-work", 0700, TRUE, error)) < 0 ||
         !bh_make_dir(work, "usr", 0700, TRUE, error)))
        goto out;
    if (renameat2(parent, tmp, parent, name, RENAME_NOREPLACE) < 0) {
        bh_error_errno(error, errno, "cannot create %s", qube_dir);
        goto out;
    }
    ok = TRUE;
out:
    /* Half a copy is no clone: it goes now, not at the next try. */
    if (!ok && tmp != NULL && parent >= 0 && !bh_fs_remove_at(parent, tmp, NULL))
        g_message("cannot remove the half-made clone %s.clone", qube_dir);
    bh_close_fd(&src);
    bh_close_fd(&parent);
    bh_close_fd(&clone);
    bh_close_fd(&work);
    return ok;
}

/* The parent of an existing qube directory: -1 with *gone TRUE when there is
 * none (nothing to do), -1 with error set when it cannot be opened. */
static int bh_open_existing_parent(const char *qube_dir, char **name, gboolean *gone, GError **error)
{
    g_autoptr(GError) local = NULL;
    int parent = bh_open_parent(qube_dir, FALSE, name, &local);
    *gone = parent < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    if (parent < 0 && !*gone)
        g_propagate_error(error, g_steal_pointer(&local));
    return parent;
}

gboolean bh_sandbox_volumes_remove(const char *qube_dir, GError **error)
{
    g_autofree char *name = NULL;
    gboolean gone = FALSE;
    int parent = bh_open_existing_parent(qube_dir, &name, &gone, error);
    if (parent < 0)
        return gone;
    gboolean ok = bh_fs_remove_at(parent, name, error);
    bh_close_fd(&parent);
    return ok;
}

/* ---- guest programs -------------------------------------------------------------- */

/* One per line (clang-format would pack them into columns). */
/* clang-format off */
static const char *const bh_guest_programs[] = {
    BH_SANDBOX_INIT,
    "bulkhead-agent",
    "bulkhead-gui-agent",
    "qvm-copy",
    "qvm-move",
    "qvm-copy-to-vm",
    "qvm-move-to-vm",
    "qvm-open-in-vm",
    "qvm-open-in-dvm",
    "bulkhead-applist",
    "bulkhead-file-sender",
    "bulkhead-file-receiver",
    "bulkhead-service",
    "bulkhead-open-file",
    "bulkhead-open-url",
    "bulkhead-copy-progress",
    NULL,
};
/* clang-format on */

const char *const *bh_sandbox_guest_program_names(void)
{
    return bh_guest_programs;
}

/* Build trees keep each program next to its sources; a shallow walk finds
 * them without knowing the layout (object dirs and meson's own are skipped). */
static void bh_walk_build_tree(const char *dir, int depth, GHashTable *found)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = bh_path(dir, name);
        if (g_strv_contains(bh_guest_programs, name)) {
            if (!g_hash_table_contains(found, name) && g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
                g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
                g_hash_table_insert(found, g_strdup(name), g_steal_pointer(&path));
            continue;
        }
        if (depth <= 0 || name[0] == '.' || g_str_has_suffix(name, ".p") ||
            g_str_has_prefix(name, "meson-") || g_str_equal(name, "tests") || g_str_equal(name, "bench") ||
            g_str_equal(name, "subprojects"))
            continue;
        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            bh_walk_build_tree(path, depth - 1, found);
    }
}

static gboolean bh_running_from_build_tree(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *build = g_canonicalize_filename(BH_BUILD_ROOT, "/");
    g_autofree char *prefix = g_strconcat(build, "/", NULL);
    return exe && g_str_has_prefix(exe, prefix);
}

GPtrArray *bh_sandbox_find_guest_programs(GError **error)
{
    g_autoptr(GHashTable) found = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *dirs_env = g_getenv("BH_SANDBOX_GUEST_DIRS");

    if (dirs_env && *dirs_env) {
        g_auto(GStrv) dirs = g_strsplit(dirs_env, ":", -1);
        for (char **d = dirs; *d; d++)
            if (**d)
                bh_walk_build_tree(*d, 0, found);
    } else if (bh_running_from_build_tree()) {
        bh_walk_build_tree(BH_BUILD_ROOT, 3, found);
    } else {
        bh_walk_build_tree(BH_LIBEXECDIR, 0, found);
        bh_walk_build_tree(BH_SANDBOX_BINDIR, 0, found);
    }
    if (!g_hash_table_contains(found, BH_SANDBOX_INIT)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s is missing from this %s (looked in %s); rebuild or reinstall Bulkhead",
                    BH_SANDBOX_INIT,
                    dirs_env && *dirs_env          ? "BH_SANDBOX_GUEST_DIRS"
                    : bh_running_from_build_tree() ? "build tree"
                                                   : "installation",
                    dirs_env && *dirs_env          ? dirs_env
                    : bh_running_from_build_tree() ? BH_BUILD_ROOT
                                                   : BH_LIBEXECDIR " and " BH_SANDBOX_BINDIR);
        return NULL;
    }
    GPtrArray *programs = g_ptr_array_new_with_free_func(g_free);
    for (const char *const *n = bh_guest_programs; *n; n++) {
        const char *path = g_hash_table_lookup(found, *n);
        if (path)
            g_ptr_array_add(programs, g_strdup(path));
    }
    return programs;
}

/* One regular file, program to <dir_fd>/name with mode 0555: written under
 * a temporary name and renamed over the old copy, so that a qube still
 * running from an earlier copy (adopted after a crash) never sees half a
 * program. */
static gboolean bh_copy_program(int dir_fd, const char *program, const char *name, GError **error)
{
    g_autofree char *tmp = g_strconcat(".", name, ".new", NULL);
    int src = -1, dst = -1;
    gboolean ok = FALSE;
    struct stat st;

    src = open(program, O_RDONLY | O_CLOEXEC);
    if (src < 0 || fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
        bh_error_errno(error, src < 0 || !S_ISREG(st.st_mode) ? errno : EINVAL, "cannot read %s", program);
        goto out;
    }
    unlinkat(dir_fd, tmp, 0);
    dst = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
    if (dst < 0) {
        bh_error_errno(error, errno, "cannot create a copy of %s", program);
        goto out;
    }
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = sendfile(dst, src, NULL, (size_t)MIN(st.st_size - done, (off_t)1 << 30));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            bh_error_errno(error, n < 0 ? errno : EIO, "cannot copy %s", program);
            goto out;
        }
        done += n;
    }
    if (fchmod(dst, 0555) < 0 || close(dst) < 0) {
        dst = -1;
        bh_error_errno(error, errno, "cannot finish the copy of %s", program);
        goto out;
    }
    dst = -1;
    if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
        bh_error_errno(error, errno, "cannot put the copy of %s in place", program);
        goto out;
    }
    ok = TRUE;
out:
    if (src >= 0)
        close(src);
    if (dst >= 0)
        close(dst);
    if (!ok)
        unlinkat(dir_fd, tmp, 0);
    return ok;
}

char *bh_sandbox_guest_bin_make(const char *stage_base, GPtrArray *programs, GError **error)
{
    g_autofree char *dir = g_build_filename(stage_base, BH_SANDBOX_GUEST_BIN_DIR, NULL);
    int fd = -1;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        bh_error_errno(error, errno, "cannot create %s", dir);
        return NULL;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0755) < 0) {
        bh_error_errno(error, errno, "cannot open %s", dir);
        goto fail;
    }
    for (guint i = 0; i < programs->len; i++) {
        g_autofree char *name = g_path_get_basename(programs->pdata[i]);
        if (!bh_copy_program(fd, programs->pdata[i], name, error)) {
            g_prefix_error(error, "cannot make the qubes' programs in %s: ", dir);
            goto fail;
        }
    }
    close(fd);
    return g_steal_pointer(&dir);
fail:
    if (fd >= 0)
        close(fd);
    return NULL;
}

void bh_sandbox_guest_bin_remove(const char *stage_base)
{
    g_autofree char *dir = g_build_filename(stage_base, BH_SANDBOX_GUEST_BIN_DIR, NULL);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        unlinkat(fd, name, 0);
    close(fd);
    rmdir(dir);
}

char *bh_sandbox_find_services_dir(void)
{
    const char *dirs_env = g_getenv("BH_SANDBOX_GUEST_DIRS");
    if (dirs_env && *dirs_env) {
        g_auto(GStrv) dirs = g_strsplit(dirs_env, ":", -1);
        for (char **d = dirs; *d; d++) {
            g_autofree char *path = **d ? bh_path(*d, "rpc-services") : NULL;
            if (path && g_file_test(path, G_FILE_TEST_IS_DIR))
                return g_steal_pointer(&path);
        }
        return NULL;
    }
    g_autofree char *path = bh_running_from_build_tree()
                                ? g_build_filename(BH_BUILD_ROOT, "core", "services", "rpc-services", NULL)
                                : g_strdup(BH_RPC_SERVICES_DIR);
    return g_file_test(path, G_FILE_TEST_IS_DIR) ? g_steal_pointer(&path) : NULL;
}

char *bh_sandbox_find_share_dir(void)
{
    const char *dirs_env = g_getenv("BH_SANDBOX_GUEST_DIRS");
    if (dirs_env && *dirs_env) {
        g_auto(GStrv) dirs = g_strsplit(dirs_env, ":", -1);
        for (char **d = dirs; *d; d++) {
            g_autofree char *path = **d ? bh_path(*d, "guest-share") : NULL;
            if (path && g_file_test(path, G_FILE_TEST_IS_DIR))
                return g_steal_pointer(&path);
        }
        return NULL;
    }
    /* Plain data: the build tree uses the source's copy. */
    g_autofree char *path = bh_running_from_build_tree()
                                ? g_build_filename(BH_SOURCE_ROOT, "core", "filecopy", "guest-share", NULL)
                                : g_build_filename(BH_DATADIR, "guest-share", NULL);
    return g_file_test(path, G_FILE_TEST_IS_DIR) ? g_steal_pointer(&path) : NULL;
}

static gint bh_compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *bh_sandbox_root_links(const char *root)
{
    GPtrArray *links = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = bh_path(root, name);
        g_autofree char *target = g_file_read_link(path, NULL);
        if (target == NULL)
            continue;
        const char *rel = target[0] == '/' ? target + 1 : target;
        if (g_str_has_prefix(rel, "usr/") && !strstr(rel, ".."))
            g_ptr_array_add(links, g_strdup_printf("%s=%s", name, rel));
    }
    g_ptr_array_sort(links, bh_compare_strings);
    return links;
}
