/* sandbox-spawn.c — the child side of starting qubes; see
 * sandbox-spawn.h.
 *
 * Everything named *_child runs after fork in a copy of a multi-threaded
 * daemon: only system calls and plain memory reads, no malloc, no stdio, no
 * GLib. The parent builds every string beforehand.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef enum {
    BH_STEP_TMPFS,
    BH_STEP_MKDIR,
    BH_STEP_CHOWN,
    BH_STEP_TOUCH,
    BH_STEP_IDMAP,
    BH_STEP_BIND_RO,
    BH_STEP_OVERLAY,
    BH_STEP_DEVPTS,
    BH_STEP_PRIVATE,
    BH_STEP_SYMLINK,
    BH_STEP_BIND,
    BH_STEP_PIVOT,
    BH_STEP_DETACH,
} BhStepType;

typedef struct {
    BhStepType type;
    char *a; /* target / path */
    char *b; /* source / mount data */
    unsigned mode;
    int fd;
} BhStep;

struct BhSandboxSetup {
    gboolean privileged;
    uid_t uid;
    gid_t gid;
    int idmap_fd;
    int cgroup_fds[8];
    int n_cgroup_fds;
    GArray *steps; /* BhStep */
    /* Non-privileged user namespace maps, built by the parent. */
    char uid_map[64];
    char gid_map[64];
    /* A seccomp filter loaded last (NULL: none): its bytes, read in the
     * child without GLib. */
    GBytes *filter;
    const struct sock_filter *filter_code;
    unsigned short filter_len;
    /* BH_STEP_DETACH: the mount points kept (NULL-terminated) and room for
     * the mount table, both from the parent. */
    char **keep;
    char *table;
    gsize table_size;
};

/* ---- async-signal-safe helpers ---------------------------------------------- */

static void bh_child_write_str(const char *s)
{
    (void)!write(STDERR_FILENO, s, strlen(s));
}

static void bh_child_die(const char *what, const char *arg, int err)
{
    char num[16];
    int i = sizeof num - 1;
    unsigned v = (unsigned)err;
    num[i] = '\0';
    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    bh_child_write_str("bulkhead sandbox set-up: ");
    bh_child_write_str(what);
    if (arg) {
        bh_child_write_str(" ");
        bh_child_write_str(arg);
    }
    bh_child_write_str(": ");
    /* strerrordesc_np is a table lookup: no locale, no allocation. */
    const char *desc = strerrordesc_np(err);
    bh_child_write_str(desc ? desc : "error");
    bh_child_write_str(" (errno ");
    bh_child_write_str(num + i);
    bh_child_write_str(")\n");
    _exit(BH_SANDBOX_SETUP_FAILED);
}

static void bh_child_reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
}

static void bh_child_join_cgroups(const int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        if (write(fds[i], "0", 1) != 1)
            bh_child_die("cannot join the qube's control group", NULL, errno);
        close(fds[i]);
    }
}

/* A new, empty session keyring owned by whoever calls it: nothing a qube runs
 * may possess dom0's (or another qube's) keys through an inherited one. A
 * kernel without keyrings has nothing to share. */
static void bh_child_own_keyring(void)
{
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
        bh_child_die("cannot make the qube's own session keyring", NULL, errno);
}

static void bh_child_write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        bh_child_die("cannot write", path, errno);
    close(fd);
}

static void bh_child_idmap(const char *source, const char *target, int userns)
{
    int fd =
        (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0)
        bh_child_die("cannot clone the mount of", source, errno);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                              .userns_fd = (unsigned)userns};
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        bh_child_die("cannot map the owner of", source, errno);
    if (syscall(SYS_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        bh_child_die("cannot mount", target, errno);
    close(fd);
}

/* A volume (sandbox-private.h: the home, a StandaloneVM's root): the loop device the parent
 * attached (and grew), mounted here only. */
static void bh_child_private(const BhStep *st)
{
    if (mount(st->b, st->a, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
        bh_child_die("cannot mount the volume (ext4) on", st->a, errno);
    close(st->fd);
}

/* An overlay whose upper layer is idmapped (a root volume's): overlayfs
 * makes its work directory, whiteouts and copies up with its mounter's
 * credentials, and root's ids have no place in the idmapping (EOVERFLOW,
 * and the overlay falls back to read-only). Mounted with the qube's fs ids
 * they land as root's on disk, like everything else in the volume. The fs
 * capabilities the kernel drops with a non-zero fsuid are raised again for
 * the mount (they are still permitted), and root's fs ids come back after. */
static void bh_child_overlay_as_qube(const BhSandboxSetup *s, const BhStep *st)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct caps[2];
    syscall(SYS_setfsgid, s->gid);
    syscall(SYS_setfsuid, s->uid);
    if (syscall(SYS_capget, &hdr, caps) < 0)
        bh_child_die("cannot read the capabilities for", st->a, errno);
    caps[0].effective = caps[0].permitted;
    caps[1].effective = caps[1].permitted;
    if (syscall(SYS_capset, &hdr, caps) < 0)
        bh_child_die("cannot keep the capabilities for", st->a, errno);
    if (mount("overlay", st->a, "overlay", MS_NOSUID | MS_NODEV, st->b) < 0)
        bh_child_die("cannot mount the overlay on", st->a, errno);
    syscall(SYS_setfsuid, 0);
    syscall(SYS_setfsgid, 0);
}

/* Whether the mount point m (n bytes) stays for bubblewrap: a kept path, one
 * above it (its filesystem) or one below it (what was staged there). */
static gboolean bh_child_kept(const BhSandboxSetup *s, const char *m, size_t n)
{
    if (n == 1 && m[0] == '/')
        return TRUE;
    for (char **k = s->keep; *k; k++) {
        size_t kn = strlen(*k);
        size_t c = n < kn ? n : kn;
        if (memcmp(m, *k, c) != 0)
            continue;
        if (n == kn || (n < kn && (*k)[n] == '/') || (n > kn && m[kn] == '/'))
            return TRUE;
    }
    return FALSE;
}

/* The 5th field of a mountinfo line, its octal escapes (\040 and the
 * like) undone, into out (size out_size); FALSE if it does not fit. */
static gboolean bh_child_mount_point(const char *line, const char *end, char *out, size_t out_size,
                                     size_t *len)
{
    const char *p = line;
    for (int field = 0; field < 4; field++) {
        while (p < end && *p != ' ')
            p++;
        if (p == end)
            return FALSE;
        p++;
    }
    size_t n = 0;
    while (p < end && *p != ' ') {
        char c = *p++;
        if (c == '\\' && end - p >= 3 && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' &&
            p[2] >= '0' && p[2] <= '7') {
            c = (char)((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
            p += 3;
        }
        if (n + 1 >= out_size)
            return FALSE;
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    return n > 0;
}

/* Everything of the host's mount table that bubblewrap does not need leaves
 * this namespace: bubblewrap copies what is left into the qube's namespace
 * and reads the whole table at each of its twenty binds, so every mount
 * here (other qubes' vchan directories, /sys and its cgroups, whatever the
 * host has mounted) was printed and parsed twenty times per start
 * (bench/RESULTS.md, "Start at scale VIII"). The mounts are private by now:
 * nothing of this reaches the host. A table larger than the room is taken as
 * far as it goes; a mount that will not go is left (it only costs time). */
static void bh_child_detach_others(const BhSandboxSetup *s)
{
    int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t len = 0;
    while (len < s->table_size) {
        ssize_t n = read(fd, s->table + len, s->table_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    char point[4096];
    const char *end = s->table + len;
    for (const char *line = s->table; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL)
            break; /* cut off by the room: not a whole line */
        size_t n = 0;
        if (bh_child_mount_point(line, nl, point, sizeof point, &n) && !bh_child_kept(s, point, n))
            (void)umount2(point, MNT_DETACH);
        line = nl + 1;
    }
}

static void bh_child_step(const BhSandboxSetup *s, const BhStep *st)
{
    switch (st->type) {
    case BH_STEP_TMPFS:
        if (mount("tmpfs", st->a, "tmpfs", MS_NOSUID | MS_NODEV, st->b) < 0)
            bh_child_die("cannot mount a tmpfs on", st->a, errno);
        break;
    case BH_STEP_MKDIR:
        if (mkdir(st->a, st->mode) < 0 && errno != EEXIST)
            bh_child_die("cannot create", st->a, errno);
        break;
    case BH_STEP_CHOWN:
        if (s->privileged && chown(st->a, s->uid, s->gid) < 0)
            bh_child_die("cannot give the qube", st->a, errno);
        break;
    case BH_STEP_TOUCH: {
        int fd = open(st->a, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            bh_child_die("cannot create", st->a, errno);
        close(fd);
        break;
    }
    case BH_STEP_IDMAP:
        if (s->privileged && s->idmap_fd >= 0) {
            bh_child_idmap(st->b, st->a, s->idmap_fd);
        } else if (mount(st->b, st->a, NULL, MS_BIND | MS_REC, NULL) < 0) {
            bh_child_die("cannot bind", st->b, errno);
        }
        break;
    case BH_STEP_BIND_RO:
        if (mount(st->b, st->a, NULL, MS_BIND, NULL) < 0)
            bh_child_die("cannot bind", st->b, errno);
        if (mount(NULL, st->a, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
            bh_child_die("cannot make read-only", st->a, errno);
        break;
    case BH_STEP_OVERLAY:
        if (st->mode && s->privileged)
            bh_child_overlay_as_qube(s, st);
        else if (mount("overlay", st->a, "overlay", MS_NOSUID | MS_NODEV, st->b) < 0)
            bh_child_die("cannot mount the overlay on", st->a, errno);
        break;
    case BH_STEP_DEVPTS:
        if (mount("devpts", st->a, "devpts", MS_NOSUID | MS_NOEXEC, st->b) < 0)
            bh_child_die("cannot mount the qube's devpts on", st->a, errno);
        break;
    case BH_STEP_PRIVATE:
        bh_child_private(st);
        break;
    case BH_STEP_SYMLINK:
        if (symlink(st->b, st->a) < 0)
            bh_child_die("cannot create the link", st->a, errno);
        break;
    case BH_STEP_BIND:
        /* A file as it is (a device node, a namespace): no flags of ours. */
        if (mount(st->b, st->a, NULL, MS_BIND, NULL) < 0)
            bh_child_die("cannot bind", st->b, errno);
        break;
    case BH_STEP_DETACH:
        bh_child_detach_others(s);
        break;
    case BH_STEP_PIVOT:
        /* pivot_root(".", ".") stacks the old root on the new one, and the
         * detach takes it away: no directory for it is needed. */
        if (chdir(st->a) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
            bh_child_die("cannot make the root", st->a, errno);
        if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
            bh_child_die("cannot drop the old root under", st->a, errno);
        if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
            bh_child_die("cannot make read-only the root", st->a, errno);
        break;
    }
}

void bh_sandbox_setup_child(gpointer user_data)
{
    const BhSandboxSetup *s = user_data;

    bh_child_reset_signals();
    /* bubblewrap (which stays outside as the qube's host uid) and everything
     * after it must not keep bulkheadd's session or controlling terminal
     * (the one ./run was started from): a new session has none. */
    if (setsid() < 0)
        bh_child_die("cannot start a new session", NULL, errno);
    /* First: from here on everything this qube runs is accounted to it. */
    bh_child_join_cgroups(s->cgroup_fds, s->n_cgroup_fds);

    if (s->privileged) {
        if (unshare(CLONE_NEWNS) < 0)
            bh_child_die("cannot make a mount namespace", NULL, errno);
    } else {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            bh_child_die("cannot make a user and mount namespace", NULL, errno);
        bh_child_write_file("/proc/self/setgroups", "deny");
        bh_child_write_file("/proc/self/uid_map", s->uid_map);
        bh_child_write_file("/proc/self/gid_map", s->gid_map);
    }
    /* Nothing we mount may leak back to the host, and the mounts die with
     * the last process of this namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        bh_child_die("cannot make the mounts private", NULL, errno);

    for (guint i = 0; i < s->steps->len; i++)
        bh_child_step(s, &g_array_index(s->steps, BhStep, i));

    if (s->idmap_fd >= 0)
        close(s->idmap_fd);
    if (s->privileged) {
        if (setgroups(0, NULL) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
            setresuid(s->uid, s->uid, s->uid) < 0)
            bh_child_die("cannot become the qube's user", NULL, errno);
    }
    /* As the qube's uid, so the keyring is charged to and owned by it. */
    bh_child_own_keyring();
    /* Last, so that nothing above meets it; it holds across exec and for
     * every child (no new privileges: no set-uid program can shed it). */
    if (s->filter_code != NULL) {
        struct sock_fprog prog = {.len = s->filter_len, .filter = (struct sock_filter *)s->filter_code};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
            bh_child_die("cannot load the seccomp filter", NULL, errno);
    }
}

/* ---- building the set-up --------------------------------------------------- */

static void bh_step_clear(gpointer data)
{
    BhStep *st = data;
    g_free(st->a);
    g_free(st->b);
}

BhSandboxSetup *bh_sandbox_setup_new(gboolean privileged, uid_t host_uid, gid_t host_gid)
{
    BhSandboxSetup *s = g_new0(BhSandboxSetup, 1);
    s->privileged = privileged;
    s->uid = host_uid;
    s->gid = host_gid;
    s->idmap_fd = -1;
    s->steps = g_array_new(FALSE, TRUE, sizeof(BhStep));
    g_array_set_clear_func(s->steps, bh_step_clear);
    g_snprintf(s->uid_map, sizeof s->uid_map, "0 %u 1\n", (unsigned)host_uid);
    g_snprintf(s->gid_map, sizeof s->gid_map, "0 %u 1\n", (unsigned)host_gid);
    return s;
}

void bh_sandbox_setup_free(BhSandboxSetup *s)
{
    if (s == NULL)
        return;
    g_clear_pointer(&s->filter, g_bytes_unref);
    g_array_unref(s->steps);
    g_strfreev(s->keep);
    g_free(s->table);
    g_free(s);
}

void bh_sandbox_setup_set_idmap_fd(BhSandboxSetup *s, int child_fd)
{
    s->idmap_fd = child_fd;
}

void bh_sandbox_setup_seccomp(BhSandboxSetup *s, GBytes *program)
{
    gsize len = 0;
    g_clear_pointer(&s->filter, g_bytes_unref);
    s->filter = g_bytes_ref(program);
    s->filter_code = g_bytes_get_data(s->filter, &len);
    s->filter_len = (unsigned short)(len / sizeof(struct sock_filter));
}

void bh_sandbox_setup_add_cgroup_fd(BhSandboxSetup *s, int child_fd)
{
    g_return_if_fail(s->n_cgroup_fds < (int)G_N_ELEMENTS(s->cgroup_fds));
    s->cgroup_fds[s->n_cgroup_fds++] = child_fd;
}

static void bh_setup_add(BhSandboxSetup *s, BhStepType type, const char *a, const char *b, unsigned mode,
                         int fd)
{
    BhStep st = {.type = type, .a = g_strdup(a), .b = g_strdup(b), .mode = mode, .fd = fd};
    g_array_append_val(s->steps, st);
}

void bh_sandbox_setup_tmpfs(BhSandboxSetup *s, const char *target, const char *options)
{
    bh_setup_add(s, BH_STEP_TMPFS, target, options, 0, -1);
}

void bh_sandbox_setup_mkdir(BhSandboxSetup *s, const char *path, unsigned mode)
{
    bh_setup_add(s, BH_STEP_MKDIR, path, NULL, mode, -1);
}

void bh_sandbox_setup_chown(BhSandboxSetup *s, const char *path)
{
    bh_setup_add(s, BH_STEP_CHOWN, path, NULL, 0, -1);
}

void bh_sandbox_setup_touch(BhSandboxSetup *s, const char *path)
{
    bh_setup_add(s, BH_STEP_TOUCH, path, NULL, 0, -1);
}

void bh_sandbox_setup_idmap(BhSandboxSetup *s, const char *source, const char *target)
{
    bh_setup_add(s, BH_STEP_IDMAP, target, source, 0, -1);
}

void bh_sandbox_setup_bind_ro(BhSandboxSetup *s, const char *source, const char *target)
{
    bh_setup_add(s, BH_STEP_BIND_RO, target, source, 0, -1);
}

void bh_sandbox_setup_devpts(BhSandboxSetup *s, const char *target, unsigned max)
{
    g_autofree char *data = g_strdup_printf("newinstance,ptmxmode=0666,mode=0620,max=%u", max);
    bh_setup_add(s, BH_STEP_DEVPTS, target, data, 0, -1);
}

void bh_sandbox_setup_private(BhSandboxSetup *s, const char *target, int child_fd)
{
    g_autofree char *source = g_strdup_printf("/proc/self/fd/%d", child_fd);
    bh_setup_add(s, BH_STEP_PRIVATE, target, source, 0, child_fd);
}

static void bh_setup_overlay(BhSandboxSetup *s, const char *target, const char *lowerdirs, const char *upper,
                             const char *work, gboolean as_qube)
{
    GString *data = g_string_new(NULL);
    g_string_append_printf(data, "lowerdir=%s", lowerdirs);
    if (upper)
        g_string_append_printf(data, ",upperdir=%s,workdir=%s", upper, work);
    /* Inside a user namespace the kernel refuses trusted.* xattrs. */
    if (!s->privileged)
        g_string_append(data, ",userxattr");
    bh_setup_add(s, BH_STEP_OVERLAY, target, data->str, as_qube ? 1 : 0, -1);
    g_string_free(data, TRUE);
}

void bh_sandbox_setup_overlay(BhSandboxSetup *s, const char *target, const char *lowerdirs, const char *upper,
                              const char *work)
{
    bh_setup_overlay(s, target, lowerdirs, upper, work, FALSE);
}

void bh_sandbox_setup_overlay_idmapped(BhSandboxSetup *s, const char *target, const char *lowerdirs,
                                       const char *upper, const char *work)
{
    bh_setup_overlay(s, target, lowerdirs, upper, work, TRUE);
}

void bh_sandbox_setup_symlink(BhSandboxSetup *s, const char *target, const char *path)
{
    bh_setup_add(s, BH_STEP_SYMLINK, path, target, 0, -1);
}

void bh_sandbox_setup_bind(BhSandboxSetup *s, const char *source, const char *target)
{
    bh_setup_add(s, BH_STEP_BIND, target, source, 0, -1);
}

void bh_sandbox_setup_pivot(BhSandboxSetup *s, const char *root)
{
    bh_setup_add(s, BH_STEP_PIVOT, root, NULL, 0, -1);
}

void bh_sandbox_setup_detach_others(BhSandboxSetup *s, const char *const *keep)
{
    g_return_if_fail(s->keep == NULL);
    s->keep = g_strdupv((char **)keep);
    s->table_size = BH_SANDBOX_MOUNT_TABLE_MAX;
    s->table = g_malloc(s->table_size);
    g_autofree char *kept = g_strjoinv(" ", s->keep);
    bh_setup_add(s, BH_STEP_DETACH, kept, NULL, 0, -1);
}

char *bh_sandbox_setup_describe(const BhSandboxSetup *s)
{
    static const char *const names[] = {"tmpfs",   "mkdir",   "chown",         "touch",   "idmap",
                                        "bind-ro", "overlay", "devpts",        "private", "symlink",
                                        "bind",    "pivot",   "detach-all-but"};
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "%s uid %u\n", s->privileged ? "privileged" : "user-namespace",
                           (unsigned)s->uid);
    for (guint i = 0; i < s->steps->len; i++) {
        const BhStep *st = &g_array_index(s->steps, BhStep, i);
        if (st->type == BH_STEP_OVERLAY && st->mode)
            g_string_append_printf(out, "overlay-as-qube %s %s", st->a, st->b);
        else if (st->type == BH_STEP_IDMAP || st->type == BH_STEP_BIND_RO || st->type == BH_STEP_BIND ||
                 st->type == BH_STEP_SYMLINK)
            g_string_append_printf(out, "%s %s -> %s", names[st->type], st->b, st->a);
        else if (st->b)
            g_string_append_printf(out, "%s %s %s", names[st->type], st->a, st->b);
        else
            g_string_append_printf(out, "%s %s", names[st->type], st->a);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}
