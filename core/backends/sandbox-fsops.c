/* sandbox-fsops.c — dom0's file operations on trees a qube can write; see
 * sandbox-fsops.h.
 *
 * Every entry is reached as (directory descriptor, one name): fstatat and
 * readlinkat with AT_SYMLINK_NOFOLLOW, openat with O_NOFOLLOW, and the type
 * checked again on the opened descriptor, so a link swapped in after a look
 * fails the open (or is copied as a link) instead of being followed. A
 * removal walks down and back up ("..", checked against the parent it left)
 * holding one descriptor at a time, so no nesting a qube makes can exhaust
 * the daemon's descriptors or stack, and at most BH_FS_REMOVE_MAX_HELD of
 * names, so no breadth can take its memory; it never refuses a tree. It
 * never enters a mount (by mount id, so a bind mount of the same file system
 * too; by device before Linux 5.8): what is mounted inside a qube's tree may
 * be dom0's own files. It is left, and named.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <limits.h>
#include <linux/limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <bulkhead/error.h>

/* ---- messages ------------------------------------------------------------------ */

/* Names come from a qube: escaped and bounded before they reach a message. */
static char *bh_fs_quote(const char *untrusted)
{
    g_autofree char *esc = g_strescape(untrusted ? untrusted : "", NULL);
    if (strlen(esc) > 200)
        return g_strdup_printf("'%.200s…'", esc);
    return g_strdup_printf("'%s'", esc);
}

static gboolean bh_fs_fail(GError **error, int e, const char *what, const char *where, const char *name)
{
    /* Names come from a qube's tree: quoted, never printed raw. */
    g_autofree char *q = bh_fs_quote(name);
    return bh_error_errno(error, e, "%s %s%s%s", what, where ? where : "", where ? " " : "", q);
}

static void bh_fs_close(int *fd)
{
    if (*fd >= 0) {
        int e = errno;
        close(*fd);
        errno = e;
    }
    *fd = -1;
}

static gboolean bh_fs_single_name(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* ---- opening ------------------------------------------------------------------- */

int bh_fs_open_dir_path(const char *path, GError **error)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        bh_fs_fail(error, errno, "cannot open the directory", NULL, path);
    return fd;
}

/* One O_NOFOLLOW step per component: what openat2 does, for kernels before
 * 5.6. "..", "." and empty components are refused outright. */
static int bh_fs_walk_beneath(int dirfd, const char *relpath)
{
    g_auto(GStrv) parts = g_strsplit(relpath, "/", -1);
    int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    for (char **p = parts; cur >= 0 && *p; p++) {
        if (**p == '\0' || strcmp(*p, ".") == 0)
            continue;
        if (strcmp(*p, "..") == 0) {
            bh_fs_close(&cur);
            errno = EXDEV;
            return -1;
        }
        int next = openat(cur, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        bh_fs_close(&cur);
        cur = next;
    }
    return cur;
}

int bh_fs_open_beneath(int dirfd, const char *relpath, GError **error)
{
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, dirfd, relpath, &how, sizeof how);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) /* EPERM: a seccomp filter that predates it */
        fd = bh_fs_walk_beneath(dirfd, relpath);
    if (fd < 0)
        bh_fs_fail(error, errno, "cannot open the directory", NULL, relpath);
    return fd;
}

/* chmod of the entry itself, never of what a link points to: through an
 * O_PATH descriptor (fchmodat has no working AT_SYMLINK_NOFOLLOW here). */
static int bh_fs_chmod_at(int dirfd, const char *name, mode_t mode)
{
    int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char proc[64];
    int rc = -1;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        goto out;
    if (S_ISLNK(st.st_mode)) {
        errno = ELOOP;
        goto out;
    }
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    rc = chmod(proc, mode);
out:
    bh_fs_close(&fd);
    return rc;
}

/* ---- making directories -------------------------------------------------------------- */

int bh_fs_mkdir_at(int dirfd, const char *name, mode_t mode, gboolean set_mode, GError **error)
{
    g_return_val_if_fail(bh_fs_single_name(name), -1);
    gboolean created = mkdirat(dirfd, name, mode) == 0;
    if (!created && errno != EEXIST) {
        bh_fs_fail(error, errno, "cannot create the directory", NULL, name);
        return -1;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP || e == ENOTDIR)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                        "%s is not a directory (a link or a file), left as it is", name);
        else
            bh_fs_fail(error, e, "cannot open the directory", NULL, name);
        errno = e;
        return -1;
    }
    /* The umask must not decide the mode of a qube's directory. */
    if ((created || set_mode) && fchmod(fd, mode) < 0) {
        bh_fs_fail(error, errno, "cannot set the mode of", NULL, name);
        bh_fs_close(&fd);
    }
    return fd;
}

int bh_fs_mkdir_p(int dirfd, const char *relpath, mode_t mode, gboolean set_mode, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(relpath, "/", -1);
    int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (cur < 0) {
        bh_fs_fail(error, errno, "cannot open the directory", NULL, relpath);
        return -1;
    }
    for (char **p = parts; *p; p++) {
        if (**p == '\0' || strcmp(*p, ".") == 0)
            continue;
        if (strcmp(*p, "..") == 0) {
            bh_fs_close(&cur);
            bh_fs_fail(error, EXDEV, "cannot create the directory", NULL, relpath);
            return -1;
        }
        int next = bh_fs_mkdir_at(cur, *p, mode, set_mode, error);
        bh_fs_close(&cur);
        if (next < 0)
            return -1;
        cur = next;
    }
    return cur;
}

/* ---- removing ------------------------------------------------------------------------ */

/* A directory to empty: opened without following; without root, made ours
 * to enter and change (a qube may leave 0000 directories behind). */
static int bh_fs_open_for_removal(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && geteuid() != 0 && bh_fs_chmod_at(dirfd, name, 0700) == 0)
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && geteuid() != 0)
        (void)fchmod(fd, 0700);
    return fd;
}

/* Where a removal may go: the file system and mount its tree starts on. */
typedef struct {
    dev_t dev;
    guint64 mnt; /* 0: the kernel does not say (before 5.8) */
} BhFsMount;

static void bh_fs_mount_of(int dirfd, const char *name, BhFsMount *m, gboolean *root)
{
    struct statx stx;
    *root = FALSE;
    m->mnt = 0;
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (*name ? 0 : AT_EMPTY_PATH), STATX_MNT_ID,
              &stx) < 0)
        return;
    if (stx.stx_mask & STATX_MNT_ID)
        m->mnt = stx.stx_mnt_id;
    *root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Whether name in dirfd (st: its fstatat, or "" for dirfd itself) is on
 * another mount than the tree's, or the root of one. By mount id: a btrfs
 * subvolume a qube made has a device of its own but is no mount, and must
 * not make the qube impossible to remove. By device only on a kernel that
 * gives no mount id (before 5.8). */
static gboolean bh_fs_other_mount(int dirfd, const char *name, const struct stat *st, const BhFsMount *tree)
{
    BhFsMount m;
    gboolean root;
    bh_fs_mount_of(dirfd, name, &m, &root);
    if (root)
        return TRUE;
    if (m.mnt != 0 && tree->mnt != 0)
        return m.mnt != tree->mnt;
    return st->st_dev != tree->dev;
}

static gboolean bh_fs_mount_fail(GError **error, const char *name, const char *where)
{
    g_autofree char *q = bh_fs_quote(name);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                "%s is a mount point (another file system, or a bind mount, %s): it was not entered, and "
                "what is mounted there is left as it is; unmount it first, then remove again",
                q, where);
    return FALSE;
}

/* What holding one listed name costs: its bytes, the array's pointer and
 * the allocator's header. */
static gsize bh_fs_name_cost(const char *name)
{
    return strlen(name) + 1 + 3 * sizeof(gpointer);
}

/* A removal goes down one directory at a time and back up, with one
 * descriptor open. What it holds of a qube's tree is bounded: the names of
 * directories still to empty, of every level it is inside of, at most
 * BH_FS_REMOVE_MAX_HELD bytes of them (and one more, freed as it is
 * entered); past that a pass over a directory stops early, and its next
 * pass starts over and meets only what is still there. Per level only its
 * device, inode and two counters are kept, no name: a directory emptied
 * below is removed by its parent's next pass. */
typedef struct {
    dev_t dev;
    ino_t ino;
    guint base;      /* this level's names in the run's pending start here */
    guint64 mark;    /* the run's removals when this level's last pass began */
    gboolean passed; /* a pass over it began */
} BhFsLevel;

typedef struct {
    BhFsMount tree;     /* never left: a mount inside is not entered */
    char *mount;        /* the first mount point met, left as it is */
    GPtrArray *pending; /* directories found not empty, still to empty: every level's, deepest last */
    gsize held;         /* bytes they take (bh_fs_name_cost) */
    guint64 removed;    /* entries removed so far */
    char *left;         /* the first entry left since the last removal, and why */
    int left_errno;
    guint64 left_at;
} BhFsRemoveRun;

/* An entry a pass could not remove: named if the next pass removes nothing
 * either. */
static void bh_fs_leave(BhFsRemoveRun *run, const char *name, int e)
{
    if (run->left != NULL && run->left_at == run->removed)
        return;
    g_free(run->left);
    run->left = g_strdup(name);
    run->left_errno = e;
    run->left_at = run->removed;
}

/* One pass over dirfd from its start: unlinks what is not a directory,
 * removes the empty directories, keeps the names of the others to empty
 * (until the run holds its bound: then the pass stops). An entry that
 * cannot be removed is noted and the pass goes on. *more: whether anything
 * is left (else the directory was empty when the pass ended; what a qube
 * adds after that fails its parent's rmdir, which comes back for it). */
static gboolean bh_fs_remove_pass(BhFsRemoveRun *run, int dirfd, gboolean *more, GError **error)
{
    int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    guint base = run->pending->len;
    struct dirent *de;
    int e = 0;

    *more = FALSE;
    if (dir == NULL) {
        bh_fs_fail(error, errno, "cannot list", NULL, ".");
        bh_fs_close(&dup_fd);
        return FALSE;
    }
    /* A dup shares the offset of the caller's descriptor: start over. */
    rewinddir(dir);
    while ((errno = 0, de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        struct stat st;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            *more = TRUE;
            bh_fs_leave(run, name, errno); /* listed but not found: gone, or stuck */
            continue;
        }
        if (unlinkat(dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0) {
            run->removed++;
            continue;
        }
        *more = TRUE;
        if (errno == EBUSY && run->mount == NULL && bh_fs_other_mount(dirfd, name, &st, &run->tree))
            run->mount = g_strdup(name);
        if (!S_ISDIR(st.st_mode) || (errno != ENOTEMPTY && errno != EEXIST)) {
            bh_fs_leave(run, name, errno);
            continue;
        }
        /* Not empty, and mounted since the rmdir: not entered. */
        if (bh_fs_other_mount(dirfd, name, &st, &run->tree)) {
            if (run->mount == NULL)
                run->mount = g_strdup(name);
            bh_fs_leave(run, name, EBUSY);
            continue;
        }
        gsize cost = bh_fs_name_cost(name);
        if (run->pending->len > base && run->held + cost > BH_FS_REMOVE_MAX_HELD)
            break;
        g_ptr_array_add(run->pending, g_strdup(name));
        run->held += cost;
    }
    if (de == NULL)
        e = errno;
    closedir(dir);
    return e == 0 || bh_fs_fail(error, e, "cannot list", NULL, ".");
}

/* Opens name, found not empty in dirfd's last pass, to empty it. -1 when
 * it cannot be entered: gone, removed as the file or link it became, or
 * left (noted). */
static int bh_fs_enter(BhFsRemoveRun *run, int dirfd, const char *name, struct stat *st)
{
    int child = bh_fs_open_for_removal(dirfd, name);
    if (child < 0 && (errno == ELOOP || errno == ENOTDIR)) {
        if (unlinkat(dirfd, name, 0) == 0)
            run->removed++;
        else if (errno != ENOENT)
            bh_fs_leave(run, name, errno);
        return -1;
    }
    if (child >= 0 && fstat(child, st) < 0)
        bh_fs_close(&child);
    if (child < 0 && errno != ENOENT)
        bh_fs_leave(run, name, errno);
    /* Mounted between the look and the open: left. */
    if (child >= 0 && bh_fs_other_mount(child, "", st, &run->tree)) {
        bh_fs_close(&child);
        if (run->mount == NULL)
            run->mount = g_strdup(name);
        bh_fs_leave(run, name, EBUSY);
    }
    return child;
}

/* Back from an emptied directory to the parent it was entered from, and
 * only that one (a directory moved meanwhile is not followed). */
static gboolean bh_fs_climb(int *cur, const BhFsLevel *parent, GError **error)
{
    struct stat st;
    int up = openat(*cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (up < 0 || fstat(up, &st) < 0 || st.st_dev != parent->dev || st.st_ino != parent->ino) {
        int e = up < 0 ? errno : ESTALE;
        bh_fs_close(&up);
        return bh_error_errno(error, e, "cannot remove: the tree changed while it was removed");
    }
    bh_fs_close(cur);
    *cur = up;
    return TRUE;
}

/* A pass over a directory, and all below it since, removed nothing: what
 * it lists stays (a mount point, a name the file system lists but cannot
 * find). Said once instead of passing over it forever. */
static gboolean bh_fs_stuck(const BhFsRemoveRun *run, GError **error)
{
    if (run->mount != NULL)
        return bh_fs_mount_fail(error, run->mount, "inside the tree");
    if (run->left != NULL && run->left_at == run->removed)
        return bh_fs_fail(error, run->left_errno, "cannot remove", NULL, run->left);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "cannot remove what a directory holds: a pass over it removed nothing");
    return FALSE;
}

gboolean bh_fs_empty_dir(int dirfd, GError **error)
{
    gboolean ok = FALSE;
    int cur = -1;
    struct stat st;
    g_autoptr(GArray) levels = g_array_new(FALSE, TRUE, sizeof(BhFsLevel));
    BhFsRemoveRun run = {.pending = g_ptr_array_new_with_free_func(g_free)};

    cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (cur < 0 || fstat(cur, &st) < 0) {
        bh_fs_fail(error, errno, "cannot empty", NULL, ".");
        goto out;
    }
    if (geteuid() != 0)
        (void)fchmod(cur, 0700);
    gboolean root;
    run.tree.dev = st.st_dev;
    bh_fs_mount_of(cur, "", &run.tree, &root);
    BhFsLevel top = {.dev = st.st_dev, .ino = st.st_ino};
    g_array_append_val(levels, top);

    for (;;) {
        BhFsLevel *l = &g_array_index(levels, BhFsLevel, levels->len - 1);
        if (run.pending->len > l->base) {
            char *name = g_ptr_array_steal_index(run.pending, run.pending->len - 1);
            run.held -= bh_fs_name_cost(name);
            int child = bh_fs_enter(&run, cur, name, &st);
            g_free(name);
            if (child >= 0) {
                bh_fs_close(&cur);
                cur = child;
                BhFsLevel next = {.dev = st.st_dev, .ino = st.st_ino, .base = run.pending->len};
                g_array_append_val(levels, next);
            }
            continue;
        }
        if (l->passed && l->mark == run.removed) {
            bh_fs_stuck(&run, error);
            goto out;
        }
        l->passed = TRUE;
        l->mark = run.removed;
        gboolean more = FALSE;
        if (!bh_fs_remove_pass(&run, cur, &more, error))
            goto out;
        if (more)
            continue;
        if (levels->len == 1)
            break;
        /* Empty: its parent's next pass removes it. */
        g_array_set_size(levels, levels->len - 1);
        if (!bh_fs_climb(&cur, &g_array_index(levels, BhFsLevel, levels->len - 1), error))
            goto out;
    }
    ok = TRUE;
out:
    bh_fs_close(&cur);
    g_ptr_array_unref(run.pending);
    g_free(run.left);
    g_free(run.mount);
    return ok;
}

gboolean bh_fs_remove_at(int dirfd, const char *name, GError **error)
{
    struct stat st;
    g_return_val_if_fail(bh_fs_single_name(name), FALSE);
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? TRUE : bh_fs_fail(error, errno, "cannot remove", NULL, name);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return bh_fs_fail(error, errno, "cannot remove", NULL, name);
        return TRUE;
    }
    /* The tree itself mounted over: its parent's mount is the one to stay on. */
    BhFsMount parent = {0};
    struct stat pst;
    gboolean root;
    if (fstat(dirfd, &pst) < 0)
        return bh_fs_fail(error, errno, "cannot remove", NULL, name);
    parent.dev = pst.st_dev;
    bh_fs_mount_of(dirfd, "", &parent, &root);
    if (bh_fs_other_mount(dirfd, name, &st, &parent))
        return bh_fs_mount_fail(error, name, "over the tree itself");
    int fd = bh_fs_open_for_removal(dirfd, name);
    if (fd < 0)
        return bh_fs_fail(error, errno, "cannot remove", NULL, name);
    gboolean ok = bh_fs_empty_dir(fd, error);
    bh_fs_close(&fd);
    if (!ok) {
        g_prefix_error(error, "in %s: ", name);
        return FALSE;
    }
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return bh_fs_fail(error, errno, "cannot remove", NULL, name);
    return TRUE;
}

/* ---- copying --------------------------------------------------------------------------- */

typedef struct {
    const BhFsCopy *opt;
    gboolean owners; /* keep (or map) owners: root and asked for */
    GString *rel;    /* the entry's path below the top, for messages */
    guint skipped;
    char *xnames;       /* XATTR_LIST_MAX, once a copy meets its first xattr */
    char *xvalue;       /* XATTR_SIZE_MAX */
    int dst_top;        /* the copy's top: dom0's own, new tree */
    gsize listed;       /* bytes the held listings (bh_fs_name_cost) and the linked paths take */
    GHashTable *linked; /* "dev:ino" of a source file with more links -> its copy's rel path */
} BhFsCopyRun;

static const char *bh_fs_what(const BhFsCopyRun *run)
{
    return run->opt->what ? run->opt->what : "a tree";
}

static gboolean bh_fs_copy_fail(BhFsCopyRun *run, GError **error, int e, const char *what)
{
    g_autofree char *where = g_strdup_printf("in %s:", bh_fs_what(run));
    return bh_fs_fail(error, e, what, where, run->rel->str);
}

static gsize bh_fs_max_listed(const BhFsCopyRun *run)
{
    return run->opt->max_listed ? run->opt->max_listed : BH_FS_COPY_MAX_LISTED;
}

/* A bound of the copy's own was reached: the sentence is the reason (no
 * errno's words, which would name a cause that is not one). */
static gboolean bh_fs_copy_refuse(BhFsCopyRun *run, GError **error, GIOErrorEnum code, const char *what)
{
    g_autofree char *q = bh_fs_quote(run->rel->str);
    g_set_error(error, G_IO_ERROR, code, "%s in %s: %s", what, bh_fs_what(run), q);
    return FALSE;
}

/* Whether a failure to reach an entry is the source changing under a live
 * copy (skipped) rather than an error. */
static gboolean bh_fs_vanished(const BhFsCopyRun *run, int e)
{
    return (run->opt->flags & BH_FS_COPY_LIVE) && (e == ENOENT || e == ELOOP || e == ENOTDIR || e == EINVAL);
}

static void bh_fs_skip(BhFsCopyRun *run, const char *why)
{
    run->skipped++;
    if (run->skipped <= 10) {
        g_autofree char *q = bh_fs_quote(run->rel->str);
        g_message("copying %s: %s skipped (%s)", bh_fs_what(run), q, why);
    }
}

/* Only xattrs with a meaning for a qube's files travel: overlay markers of a
 * layer, the user's own, ACLs. security.* (file capabilities, LSM labels) is
 * never copied: a qube may not hand itself, its clones or its disposables a
 * privilege. */
static gboolean bh_fs_xattr_copied(const char *name)
{
    return g_str_has_prefix(name, "trusted.overlay.") || g_str_has_prefix(name, "user.") ||
           g_str_equal(name, "system.posix_acl_access") || g_str_equal(name, "system.posix_acl_default");
}

/* From src_fd to dst_fd when both are open descriptors of the entries; else
 * (links, whiteouts) through /proc/self/fd/<dir>/<name>, whose last component
 * the l* calls do not follow. The buffers hold the kernel's maxima (a list
 * and a value of 64 KiB), so many xattrs of the qube's own cannot crowd out
 * the overlay's markers. Unsupported xattrs are skipped. */
static void bh_fs_copy_xattrs(BhFsCopyRun *run, int src_fd, int src_dir, int dst_fd, int dst_dir,
                              const char *name)
{
    char src_path[PATH_MAX], dst_path[PATH_MAX];
    ssize_t n;
    if (run->xnames == NULL) {
        run->xnames = g_malloc(XATTR_LIST_MAX);
        run->xvalue = g_malloc(XATTR_SIZE_MAX);
    }
    char *names = run->xnames, *value = run->xvalue;
    if (src_fd >= 0) {
        n = flistxattr(src_fd, names, XATTR_LIST_MAX);
    } else {
        snprintf(src_path, sizeof src_path, "/proc/self/fd/%d/%s", src_dir, name);
        snprintf(dst_path, sizeof dst_path, "/proc/self/fd/%d/%s", dst_dir, name);
        n = llistxattr(src_path, names, XATTR_LIST_MAX);
    }
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strnlen(names + off, (size_t)(n - off)) + 1) {
        const char *x = names + off;
        if (!bh_fs_xattr_copied(x))
            continue;
        ssize_t len = src_fd >= 0 ? fgetxattr(src_fd, x, value, XATTR_SIZE_MAX)
                                  : lgetxattr(src_path, x, value, XATTR_SIZE_MAX);
        if (len < 0)
            continue;
        if (dst_fd >= 0)
            (void)fsetxattr(dst_fd, x, value, (size_t)len, 0);
        else
            (void)lsetxattr(dst_path, x, value, (size_t)len, 0);
    }
}

static void bh_fs_owner(const BhFsCopyRun *run, const struct stat *st, uid_t *uid, gid_t *gid)
{
    uid_t from = run->opt->reown_from, to = run->opt->reown_to;
    gboolean map = from != (uid_t)-1 && to != (uid_t)-1;
    *uid = map && st->st_uid == from ? to : st->st_uid;
    *gid = map && st->st_gid == (gid_t)from ? (gid_t)to : st->st_gid;
}

/* Set-uid and set-gid bits never survive a copy: a qube's files are the
 * qube's, and on the host they are owned by root. A directory's set-gid
 * (group inheritance) and the sticky bit are no privilege and stay. */
static mode_t bh_fs_copy_mode(const BhFsCopyRun *run, const struct stat *st)
{
    mode_t mode = st->st_mode & 07777;
    if (!S_ISDIR(st->st_mode))
        mode &= ~(mode_t)(S_ISUID | S_ISGID);
    if (run->opt->flags & BH_FS_COPY_WORLD_READABLE)
        mode &= 0777;
    return mode;
}

/* Owner, mode and xattrs of an entry already created as dst_fd. */
static gboolean bh_fs_finish(BhFsCopyRun *run, int src_fd, int dst_fd, const struct stat *st, GError **error)
{
    if (run->owners) {
        uid_t uid;
        gid_t gid;
        bh_fs_owner(run, st, &uid, &gid);
        if (fchown(dst_fd, uid, gid) < 0)
            return bh_fs_copy_fail(run, error, errno, "cannot set the owner of");
    }
    /* After fchown, which may clear bits itself. */
    if (fchmod(dst_fd, bh_fs_copy_mode(run, st)) < 0)
        return bh_fs_copy_fail(run, error, errno, "cannot set the mode of");
    if (run->opt->flags & BH_FS_COPY_XATTRS)
        bh_fs_copy_xattrs(run, src_fd, -1, dst_fd, -1, NULL);
    return TRUE;
}

/* Copies [off, end) of in to the same offsets of out. */
static gboolean bh_fs_copy_range(BhFsCopyRun *run, int in, int out, off_t off, off_t end, GError **error)
{
    char buf[65536];
    gboolean plain = FALSE;
    while (off < end) {
        ssize_t r;
        size_t want = (size_t)MIN(end - off, (off_t)1 << 30);
        if (!plain) {
            off_t in_off = off, out_off = off;
            r = copy_file_range(in, &in_off, out, &out_off, want, 0);
            if (r < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                plain = TRUE;
                continue;
            }
        } else {
            r = pread(in, buf, MIN(want, sizeof buf), off);
            for (ssize_t done = 0; r > 0 && done < r;) {
                ssize_t w = pwrite(out, buf + done, (size_t)(r - done), off + done);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0)
                    return bh_fs_copy_fail(run, error, errno, "cannot write the copy of");
                done += w;
            }
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return bh_fs_copy_fail(run, error, errno, "cannot copy");
        if (r == 0)
            break; /* it shrank: what there is, is copied */
        off += r;
    }
    return TRUE;
}

/* Copies at most size bytes (the size when it was opened), so a file the
 * qube keeps growing during the copy cannot keep dom0 copying; and only the
 * parts with data, so a sparse file of a terabyte of holes costs the copy
 * what it costs the qube, not a terabyte of dom0's disk. */
static gboolean bh_fs_copy_data(BhFsCopyRun *run, int in, int out, off_t size, GError **error)
{
    off_t off = 0;
    while (off < size) {
        off_t data = lseek(in, off, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break; /* only a hole is left */
        if (data < 0) {
            /* No SEEK_DATA here: everything is data. */
            return bh_fs_copy_range(run, in, out, off, size, error) && ftruncate(out, size) == 0;
        }
        if (data >= size)
            break;
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0 || hole > size)
            hole = size;
        if (!bh_fs_copy_range(run, in, out, data, hole, error))
            return FALSE;
        off = hole;
    }
    /* The holes at the end (and the size, if it shrank meanwhile: as it was). */
    if (ftruncate(out, size) < 0)
        return bh_fs_copy_fail(run, error, errno, "cannot write the copy of");
    return TRUE;
}

static gboolean bh_fs_copy_dir(BhFsCopyRun *run, int src_fd, int dst_fd, int depth, GError **error);

/* Opens an entry the listing saw, without following it (O_RDONLY | flags),
 * and reads what it really is into *st. -1 either way when it fails: with
 * *skipped when a live source changed it after the look (a directory swapped
 * for a link is then skipped, never followed), else with error set. */
static int bh_fs_open_entry(BhFsCopyRun *run, int dir, const char *name, int flags, struct stat *st,
                            gboolean *skipped, GError **error)
{
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | flags);
    *skipped = FALSE;
    if (fd < 0 && bh_fs_vanished(run, errno)) {
        bh_fs_skip(run, "changed during the copy");
        *skipped = TRUE;
        return -1;
    }
    if (fd < 0 || fstat(fd, st) < 0) {
        bh_fs_copy_fail(run, error, errno, "cannot read");
        bh_fs_close(&fd);
        return -1;
    }
    return fd;
}

static gboolean bh_fs_copy_entry(BhFsCopyRun *run, int src_dir, int dst_dir, const char *name, int depth,
                                 GError **error)
{
    struct stat st;
    BhFsCopyFlags flags = run->opt->flags;
    int in = -1, out = -1;
    gboolean ok = FALSE, skipped = FALSE;

    if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (bh_fs_vanished(run, errno)) {
            bh_fs_skip(run, "gone during the copy");
            return TRUE;
        }
        return bh_fs_copy_fail(run, error, errno, "cannot read");
    }
    if (flags & BH_FS_COPY_WORLD_READABLE) {
        if (S_ISDIR(st.st_mode) && (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH))
            return TRUE;
        if (S_ISREG(st.st_mode) && !(st.st_mode & S_IROTH))
            return TRUE;
    }

    if (S_ISLNK(st.st_mode)) {
        /* Copied as a link: what it names is resolved (if ever) inside the
         * qube that gets the copy, never here. */
        char target[PATH_MAX + 1];
        ssize_t n = readlinkat(src_dir, name, target, sizeof target - 1);
        if (n < 0 && bh_fs_vanished(run, errno)) {
            bh_fs_skip(run, "changed during the copy");
            return TRUE;
        }
        if (n < 0)
            return bh_fs_copy_fail(run, error, errno, "cannot read the link");
        if ((size_t)n >= sizeof target - 1)
            return bh_fs_copy_fail(run, error, ENAMETOOLONG, "cannot read the link");
        target[n] = '\0';
        if (symlinkat(target, dst_dir, name) < 0)
            return bh_fs_copy_fail(run, error, errno, "cannot create the link");
        if (run->owners) {
            uid_t uid;
            gid_t gid;
            bh_fs_owner(run, &st, &uid, &gid);
            if (fchownat(dst_dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return bh_fs_copy_fail(run, error, errno, "cannot set the owner of");
        }
        if (flags & BH_FS_COPY_XATTRS)
            bh_fs_copy_xattrs(run, -1, src_dir, -1, dst_dir, name);
        return TRUE;
    }

    if (S_ISDIR(st.st_mode)) {
        if (depth >= BH_FS_COPY_MAX_DEPTH)
            return bh_fs_copy_refuse(
                run, error, G_IO_ERROR_TOO_MANY_LINKS,
                "directories nested too deep (over " G_STRINGIFY(BH_FS_COPY_MAX_DEPTH) " levels)");
        if ((in = bh_fs_open_entry(run, src_dir, name, O_DIRECTORY, &st, &skipped, error)) < 0)
            return skipped;
        if (mkdirat(dst_dir, name, 0700) < 0 ||
            (out = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
            bh_fs_copy_fail(run, error, errno, "cannot create");
            goto out;
        }
        ok = bh_fs_copy_dir(run, in, out, depth + 1, error) && bh_fs_finish(run, in, out, &st, error);
        goto out;
    }

    if (S_ISREG(st.st_mode)) {
        if ((in = bh_fs_open_entry(run, src_dir, name, O_NONBLOCK, &st, &skipped, error)) < 0)
            return skipped;
        if (!S_ISREG(st.st_mode)) {
            /* Swapped for a fifo or device after the look: never read. */
            if (flags & BH_FS_COPY_LIVE) {
                bh_fs_skip(run, "changed during the copy");
                ok = TRUE;
            } else {
                bh_fs_copy_fail(run, error, EINVAL, "not a regular file any more:");
            }
            goto out;
        }
        /* Hard links stay links: a file linked a thousand times in a qube's
         * home costs its copy one file, not a thousand. The first copy is
         * named by its path in the new tree, which is dom0's own. */
        g_autofree char *key =
            st.st_nlink > 1 ? g_strdup_printf("%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino) : NULL;
        const char *first = key ? g_hash_table_lookup(run->linked, key) : NULL;
        if (first) {
            if (linkat(run->dst_top, first, dst_dir, name, 0) < 0)
                bh_fs_copy_fail(run, error, errno, "cannot link");
            else
                ok = TRUE;
            goto out;
        }
        /* That path is kept to the end of the copy, and a qube chooses how
         * long it is (a hundred levels of long names): it counts toward the
         * names the copy holds. */
        gsize kept = key ? strlen(key) + run->rel->len + 2 + 4 * sizeof(gpointer) : 0;
        if (key && run->listed + kept > bh_fs_max_listed(run)) {
            g_autofree char *what = g_strdup_printf("too many hard-linked files (their paths would take over "
                                                    "%" G_GSIZE_FORMAT " KiB of dom0's memory)",
                                                    bh_fs_max_listed(run) >> 10);
            bh_fs_copy_refuse(run, error, G_IO_ERROR_NO_SPACE, what);
            goto out;
        }
        out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0) {
            bh_fs_copy_fail(run, error, errno, "cannot create");
            goto out;
        }
        ok = bh_fs_copy_data(run, in, out, st.st_size, error) && bh_fs_finish(run, in, out, &st, error);
        if (ok && key) {
            g_hash_table_insert(run->linked, g_steal_pointer(&key), g_strdup(run->rel->str));
            run->listed += kept;
        }
        goto out;
    }

    if ((flags & BH_FS_COPY_WHITEOUTS) && run->owners && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        /* An overlay whiteout: a deleted file of a template layer. */
        uid_t uid;
        gid_t gid;
        bh_fs_owner(run, &st, &uid, &gid);
        if (mknodat(dst_dir, name, S_IFCHR | 0600, makedev(0, 0)) < 0 ||
            fchownat(dst_dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            bh_fs_chmod_at(dst_dir, name, st.st_mode & 0777) < 0)
            return bh_fs_copy_fail(run, error, errno, "cannot create the whiteout");
        if (flags & BH_FS_COPY_XATTRS)
            bh_fs_copy_xattrs(run, -1, src_dir, -1, dst_dir, name);
        return TRUE;
    }
    /* Sockets, fifos, devices: nothing a volume needs. */
    return TRUE;
out:
    bh_fs_close(&in);
    bh_fs_close(&out);
    return ok;
}

/* The names of a directory, read before anything is copied: the listing's
 * descriptor is closed again before descending. What they take is added to
 * run->listed, bounded with the listings of the directories above. */
static GPtrArray *bh_fs_list(BhFsCopyRun *run, int dirfd, GError **error)
{
    gsize max_listed = bh_fs_max_listed(run);
    int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *de;
    if (dir == NULL) {
        bh_fs_close(&dup_fd);
        bh_fs_copy_fail(run, error, errno, "cannot list");
        return NULL;
    }
    rewinddir(dir); /* the dup shares the caller's offset */
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    gsize cost = 0;
    gboolean too_many = FALSE, too_long = FALSE;
    while ((errno = 0, de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        too_many = names->len >= BH_FS_COPY_MAX_ENTRIES;
        too_long = run->listed + cost + bh_fs_name_cost(de->d_name) > max_listed;
        if (too_many || too_long)
            break;
        cost += bh_fs_name_cost(de->d_name);
        g_ptr_array_add(names, g_strdup(de->d_name));
    }
    int e = errno;
    closedir(dir);
    if (too_many || too_long || e != 0) {
        if (too_many)
            bh_fs_copy_refuse(run, error, G_IO_ERROR_NO_SPACE,
                              "too many entries (over a million) in a directory");
        else if (too_long) {
            g_autofree char *what =
                g_strdup_printf("too many names in the directories down to here (their "
                                "list would take over %" G_GSIZE_FORMAT " KiB of dom0's memory)",
                                max_listed >> 10);
            bh_fs_copy_refuse(run, error, G_IO_ERROR_NO_SPACE, what);
        } else
            bh_fs_copy_fail(run, error, e, "cannot list");
        g_ptr_array_unref(names);
        return NULL;
    }
    run->listed += cost;
    return names;
}

static gboolean bh_fs_copy_dir(BhFsCopyRun *run, int src_fd, int dst_fd, int depth, GError **error)
{
    g_autoptr(GPtrArray) names = bh_fs_list(run, src_fd, error);
    gboolean ok = names != NULL;
    for (guint i = 0; ok && i < names->len; i++) {
        const char *name = names->pdata[i];
        gsize len = run->rel->len;
        if (depth == 0 && run->opt->exclude_top && g_strv_contains(run->opt->exclude_top, name))
            continue;
        if (len)
            g_string_append_c(run->rel, '/');
        g_string_append(run->rel, name);
        ok = bh_fs_copy_entry(run, src_fd, dst_fd, name, depth, error);
        g_string_truncate(run->rel, len);
    }
    for (guint i = 0; names != NULL && i < names->len; i++)
        run->listed -= bh_fs_name_cost(names->pdata[i]);
    return ok;
}

gboolean bh_fs_copy_tree(int src_fd, int dst_dirfd, const char *dst_name, const BhFsCopy *copy,
                         GError **error)
{
    g_autoptr(GString) rel = g_string_new(NULL);
    g_autoptr(GHashTable) linked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    BhFsCopyRun run = {
        .opt = copy,
        .owners = (copy->flags & BH_FS_COPY_OWNERS) && geteuid() == 0,
        .rel = rel,
        .dst_top = -1,
        .linked = linked,
    };
    struct stat st;
    int out = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(bh_fs_single_name(dst_name), FALSE);
    if (fstat(src_fd, &st) < 0)
        return bh_fs_copy_fail(&run, error, errno, "cannot read");
    if (!S_ISDIR(st.st_mode))
        return bh_fs_copy_fail(&run, error, ENOTDIR, "cannot read");
    if (mkdirat(dst_dirfd, dst_name, 0700) < 0 ||
        (out = openat(dst_dirfd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        bh_fs_fail(error, errno, "cannot create", NULL, dst_name);
        return FALSE;
    }
    run.dst_top = out;
    ok = bh_fs_copy_dir(&run, src_fd, out, 0, error) && bh_fs_finish(&run, src_fd, out, &st, error);
    if (ok && run.skipped > 0)
        g_message("copying %s: %u entries changed during the copy and were skipped", bh_fs_what(&run),
                  run.skipped);
    bh_fs_close(&out);
    g_free(run.xnames);
    g_free(run.xvalue);
    return ok;
}

/* ---- small files ------------------------------------------------------------------------- */

gboolean bh_fs_read_at(int dirfd, const char *name, gsize max, char **contents, GError **error)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    GString *s = NULL;
    char buf[4096];
    if (fd < 0)
        return bh_fs_fail(error, errno, "cannot read", NULL, name);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = errno ? errno : EINVAL;
        errno = 0;
        bh_fs_close(&fd);
        return bh_fs_fail(error, e, "cannot read", NULL, name);
    }
    s = g_string_new(NULL);
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || s->len + (gsize)r > max) {
            int e = r < 0 ? errno : EFBIG;
            bh_fs_close(&fd);
            g_string_free(s, TRUE);
            return bh_fs_fail(error, e, "cannot read", NULL, name);
        }
        if (r == 0)
            break;
        g_string_append_len(s, buf, r);
    }
    bh_fs_close(&fd);
    *contents = g_string_free(s, FALSE);
    return TRUE;
}

gboolean bh_fs_write_at(int dirfd, const char *name, const char *contents, gsize len, mode_t mode,
                        GError **error)
{
    g_autofree char *tmp = g_strconcat(".", name, ".new", NULL);
    gboolean ok = FALSE;
    if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
        return bh_fs_fail(error, errno, "cannot replace", NULL, name);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return bh_fs_fail(error, errno, "cannot create", NULL, tmp);
    for (gsize done = 0; done < len;) {
        ssize_t w = write(fd, contents + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            bh_fs_fail(error, errno, "cannot write", NULL, tmp);
            goto out;
        }
        done += (gsize)w;
    }
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        bh_fs_fail(error, errno, "cannot write", NULL, tmp);
        goto out;
    }
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        bh_fs_fail(error, errno, "cannot replace", NULL, name);
        goto out;
    }
    ok = TRUE;
out:
    bh_fs_close(&fd);
    if (!ok)
        unlinkat(dirfd, tmp, 0);
    return ok;
}

/* ---- usage (du) ------------------------------------------------------------ */

typedef struct {
    dev_t dev;
    GHashTable *seen; /* (dev, ino) of inodes with several links, counted once */
    guint entries, max_entries;
    guint64 bytes;
    gboolean exact;
} BhFsUsage;

/* st: the entry's, or NULL for one that was listed but not measured. */
static gboolean bh_fs_count(BhFsUsage *u, const struct stat *st)
{
    if (u->entries >= u->max_entries) {
        u->exact = FALSE;
        return FALSE;
    }
    u->entries++;
    if (st == NULL)
        return TRUE;
    if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
        guint64 key = ((guint64)st->st_dev << 40) ^ (guint64)st->st_ino;
        if (!g_hash_table_add(u->seen, g_memdup2(&key, sizeof key)))
            return TRUE;
    }
    u->bytes += (guint64)st->st_blocks * 512;
    return TRUE;
}

/* One directory's entries, then its subdirectories: depth bounded, one
 * descriptor per level (the DIR of this level). */
static void bh_fs_usage_dir(BhFsUsage *u, int fd, guint depth)
{
    DIR *dir = fdopendir(fd);
    struct dirent *d;

    if (dir == NULL) {
        close(fd);
        u->exact = FALSE;
        return;
    }
    while ((d = readdir(dir)) != NULL) {
        struct stat st;

        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        /* Every entry listed counts toward the bound, measured or not: a
         * directory the walk may list but not look into (no search
         * permission, for a daemon without root) must not keep it listing. */
        if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) /* not gone (a live tree) but not measured: a lower bound */
                u->exact = FALSE;
            if (!bh_fs_count(u, NULL))
                break;
            continue;
        }
        if (st.st_dev != u->dev) { /* a mount inside: not this volume's */
            if (!bh_fs_count(u, NULL))
                break;
            continue;
        }
        if (!bh_fs_count(u, &st))
            break;
        if (!S_ISDIR(st.st_mode))
            continue;
        if (depth + 1 >= BH_FS_COPY_MAX_DEPTH) {
            u->exact = FALSE;
            continue;
        }
        int sub = openat(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            u->exact = FALSE; /* what it holds is not measured */
            continue;
        }
        bh_fs_usage_dir(u, sub, depth + 1);
        if (u->entries >= u->max_entries)
            break;
    }
    closedir(dir);
}

gboolean bh_fs_usage_at(int dirfd, const char *name, guint max_entries, guint64 *bytes, gboolean *exact,
                        GError **error)
{
    struct stat st;
    BhFsUsage u = {.max_entries = max_entries, .exact = TRUE};

    *bytes = 0;
    *exact = TRUE;
    g_return_val_if_fail(bh_fs_single_name(name), FALSE);
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? TRUE : bh_fs_fail(error, errno, "cannot measure", NULL, name);
    u.dev = st.st_dev;
    u.seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    bh_fs_count(&u, &st);
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            g_hash_table_unref(u.seen);
            return bh_fs_fail(error, errno, "cannot measure", NULL, name);
        }
        bh_fs_usage_dir(&u, fd, 0);
    }
    g_hash_table_unref(u.seen);
    *bytes = u.bytes;
    *exact = u.exact;
    return TRUE;
}
