/* sandbox-private.c — private volumes of sandbox qubes; see sandbox-private.h
 * and docs/sandbox.md ("Storage").
 *
 * Why an image and not a quota: ext4 project quotas need the host's root
 * filesystem made and mounted with them (a fresh Debian 12 root has neither,
 * and neither can be turned on while it is mounted); a loop-mounted image
 * works on any host filesystem, is one file per qube to copy or remove, and
 * puts the limit in the kernel's ext4 driver, where a qube cannot argue
 * with it.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "backend.h"
#include "sandbox-fsops.h"
#include "sandbox-layout.h"
#include "volume-copy.h"

static gboolean bh_private_fail(GError **error, int e, const char *what, const char *path)
{
    return bh_error_errno(error, e, "%s %s", what, path);
}

/* e2fsprogs lives in sbin, which a daemon's PATH may not name. */
static char *bh_private_tool_path(const char *tool)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin"};
    char *path = g_find_program_in_path(tool);
    for (gsize i = 0; path == NULL && i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *p = g_build_filename(dirs[i], tool, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE))
            path = g_steal_pointer(&p);
    }
    return path;
}

/* What an e2fsprogs tool printed, for a message the user reads: it names the
 * qube's files (mkfs.ext4 -d reads its layers or its home, e2fsck checks its
 * volume), so it is escaped and bounded as any name from a qube is: a file
 * named with a terminal escape must not reach the user's terminal through
 * "cannot make the root volume" (sandbox-fsops.c does the same for its own
 * messages). Lines are joined with "; ". */
static char *bh_private_tool_said(const char *out, const char *fallback)
{
    g_autofree char *text = g_strstrip(g_strdup(out ? out : ""));
    if (*text == '\0')
        return g_strdup(fallback);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *joined = g_strjoinv("; ", lines);
    g_autofree char *esc = g_strescape(joined, "\""); /* its quotes stay as they are, for reading */
    if (strlen(esc) > 400)
        return g_strdup_printf("%.400s…", esc);
    return g_steal_pointer(&esc);
}

/* An empty directory at path (one that a start made for a qube with an
 * image) is no data: it goes. */
static void bh_private_drop_empty(const char *path)
{
    rmdir(path);
}

/* A fresh ext4 image of size_mib at image, holding the tree below source
 * (owners, modes, xattrs kept). Only dom0's own mkfs writes it. */
static gboolean bh_private_make(const char *image, const char *source, guint size_mib, const char *label,
                                GError **error)
{
    g_autofree char *mkfs = bh_private_tool_path("mkfs.ext4");
    g_autofree char *size = g_strdup_printf("%uM", size_mib);
    g_autofree char *out = NULL;
    int status = 0;
    g_autoptr(GError) local = NULL;

    if (mkfs == NULL) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "cannot make private volumes without mkfs.ext4: apt-get install e2fsprogs");
        return FALSE;
    }
    int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return bh_private_fail(error, errno, "cannot create", image);
    close(fd);
    /* No reserved blocks (the qube is the only user); nodiscard: punching the
     * holes of a new sparse file is wasted time. */
    const char *argv[] = {mkfs, "-q",   "-F",  "-m", "0", "-L", label, "-E", "root_owner=0:0,nodiscard",
                          "-d", source, image, size, NULL};
    if (!g_spawn_sync(NULL, (char **)argv, (char *[]){"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL},
                      G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &out, &status, &local) ||
        !g_spawn_check_wait_status(status, NULL)) {
        g_autofree char *said = bh_private_tool_said(out, "mkfs.ext4 failed");
        unlink(image);
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "cannot make the %s volume %s (%u MiB): %s", label, image, size_mib,
                    local ? local->message : said);
        return FALSE;
    }
    return TRUE;
}

/* The home kept as a directory (qube_dir/private/) moves into a new image;
 * staged as .private.migrate/home so that a crash at any point leaves the
 * data in one of the two places, and prepare picks up where it stopped. */
static gboolean bh_private_migrate(const char *qube_dir, const char *image, guint size_mib, GError **error)
{
    g_autofree char *private_dir = g_build_filename(qube_dir, "private", NULL);
    g_autofree char *stage = g_build_filename(qube_dir, ".private.migrate", NULL);
    g_autofree char *home = g_build_filename(stage, "home", NULL);
    g_autofree char *tmp = g_build_filename(qube_dir, ".private.img.new", NULL);
    struct stat st;

    if (lstat(home, &st) == 0) {
        /* An earlier migration stopped half-way: its home is the data. */
        bh_private_drop_empty(private_dir);
    } else {
        if (lstat(private_dir, &st) < 0 && errno == ENOENT && mkdir(private_dir, 0700) < 0)
            return bh_private_fail(error, errno, "cannot create", private_dir);
        if (mkdir(stage, 0700) < 0 && errno != EEXIST)
            return bh_private_fail(error, errno, "cannot create", stage);
        if (rename(private_dir, home) < 0)
            return bh_private_fail(error, errno, "cannot move the home of", qube_dir);
    }
    if (!bh_private_make(tmp, stage, size_mib, "private", error)) {
        /* Put the data back where it was. */
        if (rename(home, private_dir) == 0)
            rmdir(stage);
        g_prefix_error(error, "the home in %s stays a directory (if it does not fit, raise private_size): ",
                       private_dir);
        return FALSE;
    }
    if (rename(tmp, image) < 0) {
        int e = errno;
        unlink(tmp);
        rename(home, private_dir);
        rmdir(stage);
        return bh_private_fail(error, e, "cannot create", image);
    }
    /* The image holds the data now; the directory copy goes. */
    return bh_sandbox_volumes_remove(stage, error);
}

gboolean bh_sandbox_private_prepare(const char *qube_dir, const char *disp_source_dir, guint size_mib,
                                    GError **error)
{
    g_autofree char *image = g_build_filename(qube_dir, BH_SANDBOX_PRIVATE_IMAGE, NULL);
    g_autofree char *stage = g_build_filename(qube_dir, ".private.migrate", NULL);
    g_autofree char *private_dir = g_build_filename(qube_dir, "private", NULL);

    if (g_file_test(image, G_FILE_TEST_EXISTS)) {
        bh_private_drop_empty(private_dir);
        /* A migration that stopped after the image was in place. */
        return !g_file_test(stage, G_FILE_TEST_EXISTS) || bh_sandbox_volumes_remove(stage, error);
    }
    g_autofree char *source =
        disp_source_dir ? g_build_filename(disp_source_dir, BH_SANDBOX_PRIVATE_IMAGE, NULL) : NULL;
    if (source && g_file_test(source, G_FILE_TEST_EXISTS)) {
        if (!bh_volume_copy_sparse(source, image, error))
            return FALSE;
        bh_private_drop_empty(private_dir);
        return TRUE;
    }
    return bh_private_migrate(qube_dir, image, size_mib, error);
}

/* Runs a tool of e2fsprogs; TRUE when it exits with a status up to ok_max. */
static gboolean bh_private_tool(const char *tool, const char *const *args, int ok_max, GError **error)
{
    g_autofree char *path = bh_private_tool_path(tool);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *out = NULL;
    int status = 0;
    if (path == NULL) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "%s is missing: apt-get install e2fsprogs", tool);
        return FALSE;
    }
    g_ptr_array_add(argv, path);
    for (; *args; args++)
        g_ptr_array_add(argv, (char *)*args);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata,
                      (char *[]){"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL},
                      G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &out, &status, error))
        return FALSE;
    if (!WIFEXITED(status) || WEXITSTATUS(status) > ok_max) {
        g_autofree char *said = bh_private_tool_said(out, "no message");
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "%s failed: %s", tool, said);
        return FALSE;
    }
    return TRUE;
}

/* Grows a halted qube's image file and its filesystem to want bytes. Offline,
 * with e2fsprogs: the kernel grows a mounted ext4 only for CAP_SYS_RESOURCE,
 * which a daemon in a container may lack. These tools read an image that only
 * the kernel's ext4 driver has written (a qube changes files, never the
 * image's bytes: the file is root's 0600 and the loop device is not in any
 * qube), and they only ever grow it. */
static gboolean bh_private_grow(int img, const char *image, off_t want, GError **error)
{
    /* -p: replay the journal of a qube that was killed, fix only what is safe
     * unattended (status 1: fixed). */
    const char *const fsck[] = {"-f", "-p", image, NULL};
    const char *const resize[] = {image, NULL};
    if (!bh_private_tool("e2fsck", fsck, 1, error))
        return FALSE;
    if (ftruncate(img, want) < 0) {
        bh_private_fail(error, errno, "cannot grow", image);
        return FALSE;
    }
    return bh_private_tool("resize2fs", resize, 0, error);
}

/* The loop device img (open) is attached to now, open read-write, or -1:
 * a template's root volume is one filesystem for the template and every
 * AppVM on it (a second loop device on the file would be a second ext4 over
 * the same blocks). Found by the backing file's device and inode, so it
 * survives a daemon that died. */
static int bh_volume_attached(const struct stat *img)
{
    g_autoptr(GDir) dir = g_dir_open("/sys/block", 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
        if (!g_str_has_prefix(name, "loop"))
            continue;
        g_autofree char *backing = g_strdup_printf("/sys/block/%s/loop", name);
        if (!g_file_test(backing, G_FILE_TEST_IS_DIR))
            continue; /* not attached */
        g_autofree char *dev = g_strdup_printf("/dev/%s", name);
        int fd = open(dev, O_RDWR | O_CLOEXEC);
        struct loop_info64 info;
        if (fd < 0)
            continue;
        if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0 && info.lo_device == img->st_dev &&
            info.lo_inode == img->st_ino)
            return fd;
        close(fd);
    }
    return -1;
}

/* Attaches qube_dir/file (the volume called what: "private", "root") to a
 * free loop device, grown to size_mib first when smaller (0: as it is).
 * shared: the device it is attached to already, if any, is the one. */
static int bh_volume_attach(const char *qube_dir, const char *file, const char *what, const char *qube,
                            guint size_mib, gboolean shared, GError **error)
{
    g_autofree char *image = g_build_filename(qube_dir, file, NULL);
    g_autofree char *open_what = g_strdup_printf("cannot open the %s volume", what);
    g_autofree char *not_ours = g_strdup_printf("not a %s volume made by bulkheadd:", what);
    int img = -1, ctl = -1, loop = -1;
    struct stat st;

    img = open(image, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (img < 0 || fstat(img, &st) < 0) {
        bh_private_fail(error, errno, open_what, image);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        bh_private_fail(error, EPERM, not_ours, image);
        goto out;
    }
    if (shared && (loop = bh_volume_attached(&st)) >= 0) {
        if (size_mib && st.st_size < ((off_t)size_mib << 20))
            g_message("[%s] %s volume kept at %lld MiB while a qube uses it; it grows to %u MiB at a start "
                      "when none does",
                      qube, what, (long long)(st.st_size >> 20), size_mib);
        goto out;
    }
    off_t want = (off_t)size_mib << 20;
    if (size_mib == 0) {
        /* An AppVM on its template's volume: never its size to change. */
    } else if (st.st_size < want) {
        g_autoptr(GError) local = NULL;
        if (bh_private_grow(img, image, want, &local))
            g_message("[%s] %s volume grown from %lld to %u MiB", qube, what, (long long)(st.st_size >> 20),
                      size_mib);
        else
            g_message("[%s] %s volume kept at %lld MiB: %s", qube, what, (long long)(st.st_size >> 20),
                      local->message);
    } else if (st.st_size > want) {
        g_message("[%s] %s_size %u MiB is smaller than its volume (%lld MiB): the volume keeps its size "
                  "(volumes never shrink)",
                  qube, what, size_mib, (long long)(st.st_size >> 20));
    }

    ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        bh_private_fail(error, errno, "cannot open", "/dev/loop-control");
        goto out;
    }
    /* Another program may take the free device between asking and
     * configuring it: ask again. */
    for (int tries = 0; tries < 32; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            bh_private_fail(error, errno, "no free loop device for", image);
            goto out;
        }
        char path[32];
        g_snprintf(path, sizeof path, "/dev/loop%d", n);
        loop = open(path, O_RDWR | O_CLOEXEC);
        if (loop < 0) {
            bh_private_fail(error, errno, "cannot open", path);
            goto out;
        }
        struct loop_config cfg = {.fd = (guint32)img};
        cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        g_snprintf((char *)cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, "bulkhead:%s:%s", qube, what);
        if (ioctl(loop, LOOP_CONFIGURE, &cfg) == 0)
            goto out;
        int e = errno;
        close(loop);
        loop = -1;
        if (e != EBUSY) {
            bh_private_fail(error, e, "cannot attach a loop device to", image);
            goto out;
        }
    }
    bh_private_fail(error, EBUSY, "no free loop device for", image);
out:
    if (img >= 0)
        close(img);
    if (ctl >= 0)
        close(ctl);
    return loop;
}

int bh_sandbox_private_attach(const char *qube_dir, const char *qube, guint size_mib, GError **error)
{
    return bh_volume_attach(qube_dir, BH_SANDBOX_PRIVATE_IMAGE, "private", qube, size_mib, FALSE, error);
}

int bh_sandbox_root_attach(const char *qube_dir, const char *qube, guint size_mib, GError **error)
{
    return bh_volume_attach(qube_dir, BH_SANDBOX_ROOT_IMAGE, "root", qube, size_mib, TRUE, error);
}

/* ---- a StandaloneVM's root volume ------------------------------------------ */

/* Removes name in qube if it is there; FALSE (error set) when it cannot. */
static gboolean bh_root_drop(int qube, const char *name, GError **error)
{
    struct stat st;
    return fstatat(qube, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || bh_fs_remove_at(qube, name, error);
}

/* Stages the layers for mkfs: a copy of root/ in stage/root, in which what
 * the qube's host uid owned (its usr layer, an overlay upper on dom0's disk)
 * becomes root's, as everything is in a root volume (it is shown idmapped),
 * and an empty overlay scratch stage/root-work/. The old root/ stays as it is
 * until the image holds it. */
static gboolean bh_root_stage(int qube, int stage, GError **error)
{
    static const char *const layers[] = {"usr", "etc", "var", "opt"};
    int src = -1, work = -1;
    gboolean ok = FALSE;
    struct stat st;

    if ((src = bh_fs_open_beneath(qube, "root", error)) < 0)
        goto out;
    /* The top of the usr layer is given to the qube at each start. */
    uid_t owner = fstatat(src, "usr", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) ? st.st_uid : 0;
    BhFsCopy copy = {
        .flags = BH_FS_COPY_OWNERS | BH_FS_COPY_XATTRS | BH_FS_COPY_WHITEOUTS,
        .reown_from = owner != 0 ? owner : (uid_t)-1,
        .reown_to = owner != 0 ? 0 : (uid_t)-1,
        .what = "the root layers",
    };
    if (!bh_fs_copy_tree(src, stage, "root", &copy, error) ||
        (work = bh_fs_mkdir_at(stage, "root-work", 0700, TRUE, error)) < 0)
        goto out;
    for (gsize i = 0; i < G_N_ELEMENTS(layers); i++) {
        int fd = bh_fs_mkdir_at(work, layers[i], 0700, TRUE, error);
        if (fd < 0)
            goto out;
        close(fd);
    }
    ok = TRUE;
out:
    if (src >= 0)
        close(src);
    if (work >= 0)
        close(work);
    return ok;
}

gboolean bh_sandbox_root_prepare(const char *qube_dir, const char *qube_name, guint size_mib, GError **error)
{
    g_autofree char *image = g_build_filename(qube_dir, BH_SANDBOX_ROOT_IMAGE, NULL);
    g_autofree char *stage_path = g_build_filename(qube_dir, ".root.migrate", NULL);
    g_autofree char *tmp = g_build_filename(qube_dir, ".root.img.new", NULL);
    int qube = -1, stage = -1;
    gboolean ok = FALSE;
    struct stat st;

    if ((qube = bh_fs_open_dir_path(qube_dir, error)) < 0)
        return FALSE;
    if (fstatat(qube, BH_SANDBOX_ROOT_IMAGE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        /* Layers beside the volume: a move that stopped after the image was
         * in place (they are in it), or an older bulkheadd that ran since
         * and made new ones (they may be the only copy of what it kept).
         * Set aside, never removed; the volume is what the qube runs on. */
        if (fstatat(qube, "root", &st, AT_SYMLINK_NOFOLLOW) == 0) {
            g_autoptr(GDateTime) now = g_date_time_new_now_utc();
            g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
            g_autofree char *aside = g_strdup_printf(".root-beside-volume-%s", stamp);
            if (renameat2(qube, "root", qube, aside, RENAME_NOREPLACE) < 0) {
                bh_private_fail(error, errno, "cannot set aside the root layers beside the volume in",
                                qube_dir);
                goto out;
            }
            g_message("[%s] root layers were beside its root volume (it runs on the volume): kept as %s/%s; "
                      "remove them once nothing in them is needed",
                      qube_name, qube_dir, aside);
        }
        ok = bh_root_drop(qube, "root-work", error);
        goto out;
    }
    /* An earlier try that stopped half-way: root/ is still the data. */
    if (!bh_root_drop(qube, ".root.migrate", error) || !bh_root_drop(qube, ".root.img.new", error) ||
        (stage = bh_fs_mkdir_at(qube, ".root.migrate", 0700, TRUE, error)) < 0)
        goto out;
    if (!bh_root_stage(qube, stage, error) || !bh_private_make(tmp, stage_path, size_mib, "root", error)) {
        g_prefix_error(error,
                       "the root of %s stays in %s/root (if it does not fit, raise root_size): ", qube_name,
                       qube_dir);
        goto out;
    }
    if (renameat(qube, ".root.img.new", qube, BH_SANDBOX_ROOT_IMAGE) < 0) {
        bh_private_fail(error, errno, "cannot create", image);
        goto out;
    }
    g_message("[%s] its root layers are now a volume of %u MiB (root_size)", qube_name, size_mib);
    /* The image holds the layers now; the directories go. */
    ok = bh_root_drop(qube, "root", error) && bh_root_drop(qube, "root-work", error);
out:
    if (stage >= 0)
        close(stage);
    if (qube >= 0) {
        g_autoptr(GError) local = NULL;
        if (!bh_root_drop(qube, ".root.migrate", &local) || !bh_root_drop(qube, ".root.img.new", &local))
            g_message("[%s] cannot remove what staging its root volume left: %s", qube_name, local->message);
        close(qube);
    }
    return ok;
}

int bh_sandbox_private_freeze(const char *qube, pid_t init_pid, dev_t volume, GError **error)
{
    char path[64];
    int root = -1, home = -1;
    struct stat st;
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH};

    g_snprintf(path, sizeof path, "/proc/%d/root", (int)init_pid);
    root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    /* The home as the qube's init sees it, never through a link the qube
     * made; and only if it is the volume dom0 attached for it. */
    if (root < 0 || (home = (int)syscall(SYS_openat2, root, BH_SANDBOX_HOME + 1, &how, sizeof how)) < 0 ||
        fstat(home, &st) < 0) {
        bh_private_fail(error, errno, "cannot reach the private volume of", qube);
        goto fail;
    }
    if (st.st_dev != volume) {
        bh_private_fail(error, EXDEV, "the home is not the private volume of", qube);
        goto fail;
    }
    if (ioctl(home, FIFREEZE, 0) < 0) {
        bh_private_fail(error, errno, "cannot freeze the private volume of", qube);
        goto fail;
    }
    close(root);
    return home;
fail:
    if (root >= 0)
        close(root);
    if (home >= 0)
        close(home);
    return -1;
}

void bh_sandbox_private_thaw(const char *qube, int frozen)
{
    if (ioctl(frozen, FITHAW, 0) < 0)
        g_warning("[%s] cannot thaw the private volume: %s", qube, g_strerror(errno));
    close(frozen);
}
