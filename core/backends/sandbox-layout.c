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
 * "idmap" shows files owned by host root as owned by the qube's user, so the
 * qube may change its own root (like root in a Qubes VM) while the host's
 * files stay untouched: writes land in the upper layer. An overlay's upper
 * layer cannot be idmapped (the kernel mounts it as root), so a template's
 * usr layer keeps files owned by the template's host uid.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "config.h"

static const char *const bh_layer_names[BH_LAYER_N] = {"usr", "etc", "var", "opt"};

const char *bh_sandbox_layer_name(BhSandboxLayer layer)
{
    return bh_layer_names[layer];
}

/* ---- the root of a running qube ------------------------------------------------ */

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

BhSandboxSetup *bh_sandbox_layout_setup(const BhSandboxPlan *plan)
{
    BhSandboxSetup *s = bh_sandbox_setup_new(plan->privileged, plan->host_uid, plan->host_gid);
    const char *S = plan->stage_dir;
    gboolean kept = bh_sandbox_layout_writes_kept(plan);
    g_autofree char *work_dir = g_strconcat(plan->root_dir, "-work", NULL);
    g_autofree char *upper = bh_path(S, "upper");
    g_autofree char *work = bh_path(S, "work");
    g_autofree char *lower = bh_path(S, "lower");

    if (plan->privileged)
        bh_sandbox_setup_set_idmap_fd(s, BH_SANDBOX_FD_IDMAP);
    bh_sandbox_setup_tmpfs(s, S, "mode=0755");
    bh_sandbox_setup_mkdir(s, lower, 0755);
    if (!kept) {
        bh_sandbox_setup_mkdir(s, upper, 0755);
        bh_sandbox_setup_mkdir(s, work, 0700);
    }
    for (int l = 0; l < BH_LAYER_N; l++) {
        const char *name = bh_layer_names[l];
        g_autofree char *target = bh_path(S, name);
        g_autofree char *own = bh_path(plan->root_dir, name);
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
                bh_sandbox_setup_chown(s, own);
                bh_sandbox_setup_overlay(s, target, low, own, w);
            } else {
                bh_sandbox_setup_idmap(s, own, target);
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
            bh_sandbox_setup_idmap(s, own, low);
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

    g_autofree char *bin = bh_path(S, "bin");
    bh_sandbox_setup_mkdir(s, bin, 0755);
    for (guint i = 0; i < plan->programs->len; i++) {
        const char *prog = plan->programs->pdata[i];
        g_autofree char *base = g_path_get_basename(prog);
        g_autofree char *dest = bh_path(bin, base);
        bh_sandbox_setup_touch(s, dest);
        bh_sandbox_setup_bind_ro(s, prog, dest);
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
    g_ptr_array_add(env, g_strdup("XDG_RUNTIME_DIR=" BH_SANDBOX_GUEST_RUNTIME));
    /* Applications draw through the qube's gui-agent, never anything else. */
    g_ptr_array_add(env, g_strdup("WAYLAND_DISPLAY=wayland-0"));
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

    bh_argv_add(argv, plan->bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--as-pid-1", "--new-session", "--cap-drop", "ALL", "--uid", uid, "--gid", uid, "--hostname",
                plan->name, "--info-fd", info, "--block-fd", block, NULL);
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
    for (guint i = 0; i < plan->root_links->len; i++) {
        g_auto(GStrv) kv = g_strsplit(plan->root_links->pdata[i], "=", 2);
        g_autofree char *dest = g_strconcat("/", kv[0], NULL);
        bh_argv_add(argv, "--symlink", kv[1], dest, NULL);
    }
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

/* ---- copying and removing trees ---------------------------------------------- */

static gboolean bh_fail_errno(GError **error, int e, const char *what, const char *path)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s %s: %s", what, path, g_strerror(e));
    return FALSE;
}

/* Overlay whiteouts and opaque markers live in xattrs: a copied layer must
 * keep them. Unsupported xattrs are skipped. */
static void bh_copy_xattrs(const char *src, const char *dst)
{
    char names[4096];
    ssize_t n = llistxattr(src, names, sizeof names);
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
        char value[4096];
        ssize_t len = lgetxattr(src, names + off, value, sizeof value);
        if (len >= 0)
            lsetxattr(dst, names + off, value, (size_t)len, 0);
    }
}

static gboolean bh_all_zero(const char *buf, size_t len)
{
    return len > 0 && buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0;
}

static gboolean bh_copy_file(const char *src, const char *dst, mode_t mode, GError **error)
{
    int in = -1, out = -1;
    gboolean ok = FALSE;
    char buf[65536];

    in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) {
        bh_fail_errno(error, errno, "cannot read", src);
        goto out;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        bh_fail_errno(error, errno, "cannot create", dst);
        goto out;
    }
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            bh_fail_errno(error, errno, "cannot read", src);
            goto out;
        }
        if (r == 0)
            break;
        /* Holes stay holes (a private volume image is mostly holes). */
        if (bh_all_zero(buf, (size_t)r)) {
            if (lseek(out, r, SEEK_CUR) < 0) {
                bh_fail_errno(error, errno, "cannot write", dst);
                goto out;
            }
            continue;
        }
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(out, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                bh_fail_errno(error, errno, "cannot write", dst);
                goto out;
            }
            done += w;
        }
    }
    off_t end = lseek(out, 0, SEEK_CUR);
    if (end < 0 || ftruncate(out, end) < 0) {
        bh_fail_errno(error, errno, "cannot write", dst);
        goto out;
    }
    if (fchmod(out, mode) < 0) {
        bh_fail_errno(error, errno, "cannot set the mode of", dst);
        goto out;
    }
    ok = TRUE;
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return ok;
}

static gboolean bh_copy_entry(const char *src, const char *dst, gboolean filter, gboolean top, GError **error)
{
    struct stat st;
    gboolean privileged = geteuid() == 0;

    if (lstat(src, &st) < 0)
        return bh_fail_errno(error, errno, "cannot read", src);
    if (filter && !top) {
        if (S_ISDIR(st.st_mode) && (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH))
            return TRUE;
        if (S_ISREG(st.st_mode) && !(st.st_mode & S_IROTH))
            return TRUE;
    }
    /* Set-id bits never survive a filtered copy: they would mean nothing
     * good inside a qube. */
    mode_t mode = st.st_mode & (filter ? 0777 : 07777);

    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0)
            return bh_fail_errno(error, errno, "cannot read the link", src);
        target[n] = '\0';
        if (symlink(target, dst) < 0)
            return bh_fail_errno(error, errno, "cannot create the link", dst);
    } else if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst, 0700) < 0 && !(top && errno == EEXIST))
            return bh_fail_errno(error, errno, "cannot create", dst);
        g_autoptr(GDir) dir = g_dir_open(src, 0, NULL);
        const char *name;
        if (dir == NULL)
            return bh_fail_errno(error, errno, "cannot list", src);
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *s = bh_path(src, name);
            g_autofree char *d = bh_path(dst, name);
            if (!bh_copy_entry(s, d, filter, FALSE, error))
                return FALSE;
        }
        if (chmod(dst, mode) < 0)
            return bh_fail_errno(error, errno, "cannot set the mode of", dst);
    } else if (S_ISREG(st.st_mode)) {
        if (!bh_copy_file(src, dst, mode, error))
            return FALSE;
    } else if (!filter && privileged && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        /* An overlay whiteout: a deleted file of a template layer. */
        if (mknod(dst, S_IFCHR | (mode & 0777), makedev(0, 0)) < 0)
            return bh_fail_errno(error, errno, "cannot create the whiteout", dst);
    } else {
        return TRUE; /* sockets, fifos, devices: nothing a volume needs */
    }
    if (privileged && lchown(dst, st.st_uid, st.st_gid) < 0)
        return bh_fail_errno(error, errno, "cannot set the owner of", dst);
    if (privileged && !S_ISLNK(st.st_mode) && chmod(dst, mode) < 0)
        return bh_fail_errno(error, errno, "cannot set the mode of", dst);
    if (!filter)
        bh_copy_xattrs(src, dst);
    return TRUE;
}

gboolean bh_sandbox_copy_tree(const char *source, const char *dest, gboolean world_readable_only,
                              GError **error)
{
    return bh_copy_entry(source, dest, world_readable_only, TRUE, error);
}

static gboolean bh_remove_tree(const char *path, GError **error)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? TRUE : bh_fail_errno(error, errno, "cannot remove", path);
    if (S_ISDIR(st.st_mode)) {
        /* Without root, a qube may have left directories we cannot enter. */
        if (geteuid() != 0)
            chmod(path, 0700);
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *child = bh_path(path, name);
            if (!bh_remove_tree(child, error))
                return FALSE;
        }
        if (rmdir(path) < 0)
            return bh_fail_errno(error, errno, "cannot remove", path);
        return TRUE;
    }
    if (unlink(path) < 0 && errno != ENOENT)
        return bh_fail_errno(error, errno, "cannot remove", path);
    return TRUE;
}

/* The qube's user is uid/gid 1000 named "user": whatever the host calls
 * 1000 (or "user") is replaced, so shells and programs agree on who runs. */
static gboolean bh_set_account(const char *etc, const char *file, const char *line, GError **error)
{
    g_autofree char *path = bh_path(etc, file);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = g_strdup("");
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GString *out = g_string_new(NULL);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, ":", 4);
        if (**l == '\0' ||
            (g_strv_length(f) >= 3 && (g_str_equal(f[2], "1000") || g_str_equal(f[0], "user"))))
            continue;
        g_string_append_printf(out, "%s\n", *l);
    }
    g_string_append_printf(out, "%s\n", line);
    gboolean ok = g_file_set_contents_full(path, out->str, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
    g_string_free(out, TRUE);
    return ok;
}

static gboolean bh_mkdir_mode(const char *path, mode_t mode, GError **error)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return bh_fail_errno(error, errno, "cannot create", path);
    if (chmod(path, mode) < 0)
        return bh_fail_errno(error, errno, "cannot set the mode of", path);
    return TRUE;
}

static gboolean bh_create_root(const char *qube_dir, const char *base_root, GError **error)
{
    gboolean host = g_str_equal(base_root, "/");
    g_autofree char *host_etc = bh_path(base_root, "etc");
    g_autofree char *root = bh_path(qube_dir, "root");
    g_autofree char *work = bh_path(qube_dir, "root-work");
    g_autofree char *usr = bh_path(root, "usr");
    g_autofree char *work_usr = bh_path(work, "usr");
    g_autofree char *etc = bh_path(root, "etc");
    g_autofree char *var = bh_path(root, "var");
    g_autofree char *opt = bh_path(root, "opt");

    if (!bh_mkdir_mode(root, 0755, error) || !bh_mkdir_mode(work, 0700, error) ||
        !bh_mkdir_mode(usr, 0755, error) || !bh_mkdir_mode(work_usr, 0700, error) ||
        !bh_mkdir_mode(opt, 0755, error))
        return FALSE;
    if (!host) {
        /* A root_path tree brings its own /etc, /var, /opt: the template's
         * layers start empty above them. */
        static const char *const layers[] = {"etc", "var"};
        for (gsize i = 0; i < G_N_ELEMENTS(layers); i++) {
            g_autofree char *d = bh_path(root, layers[i]);
            g_autofree char *w = bh_path(work, layers[i]);
            if (!bh_mkdir_mode(d, 0755, error) || !bh_mkdir_mode(w, 0700, error))
                return FALSE;
        }
        g_autofree char *w = bh_path(work, "opt");
        return bh_mkdir_mode(w, 0700, error);
    }
    if (!g_file_test(etc, G_FILE_TEST_IS_DIR)) {
        /* Build it aside and rename: a half-copied /etc is never used. */
        g_autofree char *tmp = bh_path(root, ".etc.new");
        if (!bh_remove_tree(tmp, error) || !bh_sandbox_copy_tree(host_etc, tmp, TRUE, error) ||
            !bh_set_account(tmp, "passwd", "user:x:1000:1000:Qube user:" BH_SANDBOX_HOME ":/bin/bash",
                            error) ||
            !bh_set_account(tmp, "group", "user:x:1000:", error))
            return FALSE;
        if (rename(tmp, etc) < 0)
            return bh_fail_errno(error, errno, "cannot create", etc);
    }
    if (!bh_mkdir_mode(var, 0755, error))
        return FALSE;
    static const char *const var_dirs[] = {"lib", "cache", "log", "spool", "local", "tmp"};
    for (gsize i = 0; i < G_N_ELEMENTS(var_dirs); i++) {
        g_autofree char *d = bh_path(var, var_dirs[i]);
        if (!bh_mkdir_mode(d, g_str_equal(var_dirs[i], "tmp") ? 01777 : 0755, error))
            return FALSE;
    }
    return TRUE;
}

gboolean bh_sandbox_volumes_create(const char *qube_dir, gboolean own_root, const char *disp_source_dir,
                                   const char *base_root, GError **error)
{
    g_autofree char *private_dir = bh_path(qube_dir, "private");
    if (g_mkdir_with_parents(qube_dir, 0700) < 0)
        return bh_fail_errno(error, errno, "cannot create", qube_dir);
    g_autofree char *image = bh_path(qube_dir, "private.img");
    /* A private volume image (sandbox-private.h) holds the home instead. */
    if (!g_file_test(private_dir, G_FILE_TEST_IS_DIR) && !g_file_test(image, G_FILE_TEST_EXISTS)) {
        g_autofree char *source = disp_source_dir ? bh_path(disp_source_dir, "private") : NULL;
        if (source && g_file_test(source, G_FILE_TEST_IS_DIR)) {
            g_autofree char *tmp = bh_path(qube_dir, ".private.new");
            if (!bh_remove_tree(tmp, error) || !bh_sandbox_copy_tree(source, tmp, FALSE, error))
                return FALSE;
            if (rename(tmp, private_dir) < 0)
                return bh_fail_errno(error, errno, "cannot create", private_dir);
        } else if (!bh_mkdir_mode(private_dir, 0700, error)) {
            return FALSE;
        }
    }
    if (own_root && !bh_create_root(qube_dir, base_root, error))
        return FALSE;
    return TRUE;
}

/* Files a template's qube uid created in its usr layer belong to the clone. */
static gboolean bh_reown_tree(const char *path, uid_t from, uid_t to, GError **error)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return bh_fail_errno(error, errno, "cannot read", path);
    if (st.st_uid == from && lchown(path, to, st.st_gid == from ? to : st.st_gid) < 0)
        return bh_fail_errno(error, errno, "cannot set the owner of", path);
    if (!S_ISDIR(st.st_mode))
        return TRUE;
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = bh_path(path, name);
        if (!bh_reown_tree(child, from, to, error))
            return FALSE;
    }
    return TRUE;
}

gboolean bh_sandbox_volumes_clone(const char *source_dir, const char *qube_dir, uid_t source_uid,
                                  uid_t dest_uid, GError **error)
{
    g_autofree char *tmp = g_strconcat(qube_dir, ".clone", NULL);
    g_autofree char *usr = g_build_filename(tmp, "root", "usr", NULL);
    g_autofree char *work = g_build_filename(tmp, "root-work", NULL);

    if (!g_file_test(source_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s has no volumes to clone", source_dir);
        return FALSE;
    }
    if (g_file_test(qube_dir, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s already exists; remove it first", qube_dir);
        return FALSE;
    }
    if (!bh_remove_tree(tmp, error) || !bh_sandbox_copy_tree(source_dir, tmp, FALSE, error))
        return FALSE;
    /* The overlay work directory is scratch space of the source's mounts. */
    if (g_file_test(work, G_FILE_TEST_IS_DIR)) {
        g_autofree char *work_usr = bh_path(work, "usr");
        if (!bh_remove_tree(work, error) || !bh_mkdir_mode(work, 0700, error) ||
            !bh_mkdir_mode(work_usr, 0700, error))
            return FALSE;
    }
    /* Root-owned entries (whiteouts, a layer never used) stay root's. */
    if (source_uid != dest_uid && source_uid != 0 && source_uid != (uid_t)-1 &&
        g_file_test(usr, G_FILE_TEST_IS_DIR) && !bh_reown_tree(usr, source_uid, dest_uid, error))
        return FALSE;
    if (rename(tmp, qube_dir) < 0)
        return bh_fail_errno(error, errno, "cannot create", qube_dir);
    return TRUE;
}

gboolean bh_sandbox_volumes_remove(const char *qube_dir, GError **error)
{
    return bh_remove_tree(qube_dir, error);
}

/* ---- guest programs -------------------------------------------------------------- */

static const char *const bh_guest_programs[] = {
    BH_SANDBOX_INIT,  "bulkhead-agent", "bulkhead-gui-agent", "qvm-copy",        "qvm-move",
    "qvm-copy-to-vm", "qvm-move-to-vm", "qvm-open-in-vm",     "qvm-open-in-dvm", NULL,
};

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
