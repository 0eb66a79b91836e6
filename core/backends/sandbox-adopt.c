/* sandbox-adopt.c — records of running sandboxes and their proof; see
 * sandbox-adopt.h.
 *
 * Records are written by the daemon (root) into a 0700 directory of its own
 * state directory, so they are not qube data; they are still checked against
 * the kernel before anything is believed, because pids are reused and a
 * record may be older than a reboot or a crash.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-adopt.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bulkhead/error.h>

#define BH_RECORD_GROUP "sandbox"
/* A record is a few hundred bytes; anything larger is not one of ours. */
#define BH_RECORD_MAX 16384

gboolean bh_sandbox_name_ok(const char *name)
{
    gboolean ok = name && g_ascii_isalpha(name[0]) && strlen(name) <= 31;
    for (const char *p = name; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '_' || *p == '.' || *p == '-';
    return ok;
}

void bh_sandbox_record_free(BhSandboxRecord *r)
{
    if (r == NULL)
        return;
    g_free(r->name);
    g_free(r->tag);
    g_free(r->stage_dir);
    g_free(r->vchan_dir);
    g_free(r->netvm);
    g_free(r->boot_id);
    g_free(r);
}

char *bh_sandbox_record_dir(const char *state_dir, GError **error)
{
    g_autofree char *dir = g_build_filename(state_dir, "sandbox-running", NULL);
    if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || chmod(dir, 0700) < 0) {
        int e = errno;
        bh_error_errno(error, e, "cannot create %s", dir);
        return NULL;
    }
    return g_steal_pointer(&dir);
}

gboolean bh_sandbox_record_save(const char *dir, const BhSandboxRecord *r, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, BH_RECORD_GROUP, "name", r->name);
    g_key_file_set_uint64(kf, BH_RECORD_GROUP, "qid", r->qid);
    g_key_file_set_uint64(kf, BH_RECORD_GROUP, "uid", r->uid);
    g_key_file_set_string(kf, BH_RECORD_GROUP, "tag", r->tag);
    g_key_file_set_uint64(kf, BH_RECORD_GROUP, "bwrap_pid", (guint64)r->bwrap_pid);
    g_key_file_set_uint64(kf, BH_RECORD_GROUP, "bwrap_start", r->bwrap_start);
    g_key_file_set_uint64(kf, BH_RECORD_GROUP, "init_pid", (guint64)r->init_pid);
    g_key_file_set_uint64(kf, BH_RECORD_GROUP, "init_start", r->init_start);
    g_key_file_set_string(kf, BH_RECORD_GROUP, "stage_dir", r->stage_dir);
    g_key_file_set_string(kf, BH_RECORD_GROUP, "vchan_dir", r->vchan_dir);
    g_key_file_set_string(kf, BH_RECORD_GROUP, "netvm", r->netvm ? r->netvm : "");
    g_key_file_set_boolean(kf, BH_RECORD_GROUP, "provides_network", r->provides_network);
    g_key_file_set_boolean(kf, BH_RECORD_GROUP, "ipv6", r->ipv6);
    g_key_file_set_boolean(kf, BH_RECORD_GROUP, "disposable", r->disposable);
    g_key_file_set_string(kf, BH_RECORD_GROUP, "boot_id", r->boot_id);
    g_key_file_set_uint64(kf, BH_RECORD_GROUP, "console_ino", r->console_ino);
    gsize len = 0;
    g_autofree char *text = g_key_file_to_data(kf, &len, NULL);
    g_autofree char *path = g_build_filename(dir, r->name, NULL);
    g_autofree char *tmp_name = g_strconcat(".", r->name, ".new", NULL);
    g_autofree char *tmp = g_build_filename(dir, tmp_name, NULL);
    /* Replaced by a rename, so a daemon that dies while writing leaves the
     * old record or the new one, never half of one; but not synced: the
     * record describes processes that die with the kernel, and one from an
     * earlier boot is refused (boot id), so after a power loss it is worth
     * nothing synced or not, and while the kernel lives the next daemon
     * reads it from the page cache. Its two fsyncs per start (file and
     * directory) took 0.65 s of bulkheadd's main thread for 20 qubes
     * started at once (under strace, load 5; bench/RESULTS.md, "Start at
     * scale II"). A name with a leading dot is no qube's: the listing skips
     * it. */
    if (!g_file_set_contents_full(tmp, text, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0600, error))
        return FALSE;
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot replace %s: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

static gboolean bh_record_uint(GKeyFile *kf, const char *key, guint64 max, guint64 *out, GError **error)
{
    g_autofree char *s = g_key_file_get_value(kf, BH_RECORD_GROUP, key, error);
    return s && g_ascii_string_to_unsigned(s, 10, 0, max, out, error);
}

BhSandboxRecord *bh_sandbox_record_load(const char *dir, const char *name, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > BH_RECORD_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a sandbox record", path);
        return NULL;
    }
    if (!g_file_get_contents(path, &text, &len, error))
        return NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, error))
        return NULL;
    g_autoptr(BhSandboxRecord) r = g_new0(BhSandboxRecord, 1);
    guint64 v[6] = {0};
    const char *keys[6] = {"qid", "uid", "bwrap_pid", "bwrap_start", "init_pid", "init_start"};
    const guint64 max[6] = {0x7fef, G_MAXUINT32 - 1, G_MAXINT, G_MAXUINT64, G_MAXINT, G_MAXUINT64};
    for (int i = 0; i < 6; i++)
        if (!bh_record_uint(kf, keys[i], max[i], &v[i], error))
            return NULL;
    r->qid = (guint32)v[0];
    r->uid = (uid_t)v[1];
    r->bwrap_pid = (pid_t)v[2];
    r->bwrap_start = v[3];
    r->init_pid = (pid_t)v[4];
    r->init_start = v[5];
    if (!(r->name = g_key_file_get_string(kf, BH_RECORD_GROUP, "name", error)) ||
        !(r->tag = g_key_file_get_string(kf, BH_RECORD_GROUP, "tag", error)) ||
        !(r->stage_dir = g_key_file_get_string(kf, BH_RECORD_GROUP, "stage_dir", error)) ||
        !(r->vchan_dir = g_key_file_get_string(kf, BH_RECORD_GROUP, "vchan_dir", error)) ||
        !(r->netvm = g_key_file_get_string(kf, BH_RECORD_GROUP, "netvm", error)) ||
        !(r->boot_id = g_key_file_get_string(kf, BH_RECORD_GROUP, "boot_id", error)))
        return NULL;
    r->provides_network = g_key_file_get_boolean(kf, BH_RECORD_GROUP, "provides_network", NULL);
    /* A record of an earlier version has none: no IPv6, as it ran. */
    r->ipv6 = g_key_file_get_boolean(kf, BH_RECORD_GROUP, "ipv6", NULL);
    r->disposable = g_key_file_get_boolean(kf, BH_RECORD_GROUP, "disposable", NULL);
    r->console_ino = g_key_file_get_uint64(kf, BH_RECORD_GROUP, "console_ino", NULL);
    if (!*r->netvm)
        g_clear_pointer(&r->netvm, g_free);
    guint64 tag;
    if (!g_str_equal(r->name, name) || !bh_sandbox_name_ok(r->name) || r->bwrap_pid < 2 || r->init_pid < 2 ||
        !g_ascii_string_to_unsigned(r->tag, 10, 1, G_MAXINT, &tag, NULL) ||
        (r->netvm && !bh_sandbox_name_ok(r->netvm)) || r->stage_dir[0] != '/' || r->vchan_dir[0] != '/') {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a valid sandbox record", path);
        return NULL;
    }
    return g_steal_pointer(&r);
}

void bh_sandbox_record_remove(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (unlink(path) < 0 && errno != ENOENT)
        g_message("[%s] cannot remove %s: %s", name, path, g_strerror(errno));
}

GPtrArray *bh_sandbox_record_list(const char *dir)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        if (bh_sandbox_name_ok(name))
            g_ptr_array_add(names, g_strdup(name));
        else if (name[0] != '.')
            g_message("ignoring %s/%s: not a qube's record", dir, name);
    return names;
}

/* ---- the kernel's view --------------------------------------------------------------- */

int bh_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

gboolean bh_pidfd_signal(int pidfd, int sig)
{
    return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0;
}

int bh_pidfd_getfd(int pidfd, int target_fd)
{
    return (int)syscall(SYS_pidfd_getfd, pidfd, target_fd, 0);
}

static char *bh_proc_read(pid_t pid, const char *file)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", (int)pid, file);
    char *text = NULL;
    return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

/* Fields 3… of /proc/<pid>/stat. The command name may hold anything, ')'
 * included: they start after the last one. */
static GStrv bh_proc_stat_fields(pid_t pid)
{
    g_autofree char *stat = bh_proc_read(pid, "stat");
    const char *p = stat ? strrchr(stat, ')') : NULL;
    return p && p[1] == ' ' ? g_strsplit(p + 2, " ", 0) : NULL;
}

gboolean bh_proc_start_time(pid_t pid, guint64 *start)
{
    /* Field 3 (state) comes first; starttime is field 22. */
    g_auto(GStrv) fields = bh_proc_stat_fields(pid);
    return fields && g_strv_length(fields) > 19 &&
           g_ascii_string_to_unsigned(fields[19], 10, 0, G_MAXUINT64, start, NULL);
}

gboolean bh_proc_running(pid_t pid)
{
    /* A zombie is a process that is gone, only not yet reaped. */
    g_auto(GStrv) fields = bh_proc_stat_fields(pid);
    return fields && fields[0] && !g_str_equal(fields[0], "Z") && !g_str_equal(fields[0], "X");
}

/* "PPid", "Uid" (the real uid: the first number). */
static gboolean bh_proc_status(pid_t pid, const char *key, guint64 *out)
{
    g_autofree char *status = bh_proc_read(pid, "status");
    g_autofree char *prefix = g_strdup_printf("\n%s:", key);
    const char *p = status ? strstr(status, prefix) : NULL;
    if (p == NULL)
        return FALSE;
    p += strlen(prefix);
    while (*p == ' ' || *p == '\t')
        p++;
    char *end = NULL;
    *out = g_ascii_strtoull(p, &end, 10);
    return end != p;
}

static char *bh_boot_id(void)
{
    char *text = NULL;
    if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &text, NULL, NULL))
        return g_strdup("");
    return g_strstrip(text);
}

gboolean bh_sandbox_record_fill(BhSandboxRecord *r, pid_t bwrap_pid, pid_t init_pid, GError **error)
{
    r->bwrap_pid = bwrap_pid;
    r->init_pid = init_pid;
    g_free(r->boot_id);
    r->boot_id = bh_boot_id();
    if (!bh_proc_start_time(bwrap_pid, &r->bwrap_start) || !bh_proc_start_time(init_pid, &r->init_start)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot read the start time of %d or %d",
                    (int)bwrap_pid, (int)init_pid);
        return FALSE;
    }
    return TRUE;
}

/* A pidfd for pid if it is still the process that started at start. */
static int bh_proc_prove(pid_t pid, guint64 start, const char *what, GError **error)
{
    int fd = bh_pidfd_open(pid);
    guint64 now = 0;
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "its %s (pid %d) is gone", what, (int)pid);
        return -1;
    }
    if (!bh_proc_start_time(pid, &now) || now != start) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "pid %d is not its %s any more (started at tick %" G_GUINT64_FORMAT
                    ", recorded %" G_GUINT64_FORMAT ")",
                    (int)pid, what, now, start);
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean bh_ns_differs(pid_t pid, const char *ns)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/ns/%s", (int)pid, ns);
    g_autofree char *self = g_strdup_printf("/proc/self/ns/%s", ns);
    struct stat a, b;
    return stat(path, &a) == 0 && stat(self, &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev);
}

/* The qube's /usr is an overlay whose layers were staged in stage_dir: its
 * mount options name it. (The mount options are fixed when mounted, and the
 * qube cannot mount; whereas the staging directory on the host may have been
 * removed meanwhile by an older daemon's sweep, which detaches the staging
 * tmpfs in bubblewrap's namespace but not the qube's overlays.) */
static gboolean bh_stage_in_use(pid_t init, const char *stage_dir)
{
    g_autofree char *mountinfo = bh_proc_read(init, "mountinfo");
    g_autofree char *eq = g_strconcat("=", stage_dir, "/", NULL);
    g_autofree char *colon = g_strconcat(":", stage_dir, "/", NULL);
    g_auto(GStrv) lines = g_strsplit(mountinfo ? mountinfo : "", "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, " ", 6);
        const char *options = strstr(*l, " - overlay ");
        if (g_strv_length(f) >= 5 && g_str_equal(f[4], "/usr") && options &&
            (strstr(options, eq) || strstr(options, colon)))
            return TRUE;
    }
    return FALSE;
}

static gboolean bh_stage_shape(const BhSandboxRecord *r, const char *stage_top)
{
    g_autofree char *dir = g_path_get_dirname(r->stage_dir);
    g_autofree char *top = g_path_get_dirname(dir);
    g_autofree char *tag = g_path_get_basename(dir);
    g_autofree char *leaf = g_path_get_basename(r->stage_dir);
    return g_str_equal(top, stage_top) && g_str_equal(tag, r->tag) && g_str_equal(leaf, r->name);
}

void bh_sandbox_proof_clear(BhSandboxProof *proof)
{
    if (proof->bwrap_pidfd >= 0)
        close(proof->bwrap_pidfd);
    if (proof->init_pidfd >= 0)
        close(proof->init_pidfd);
    proof->bwrap_pidfd = proof->init_pidfd = -1;
    g_clear_pointer(&proof->cgroup, bh_sandbox_cgroup_free);
}

gboolean bh_sandbox_record_verify(const BhSandboxRecord *r, const BhSandboxExpect *expect,
                                  BhSandboxProof *proof, GError **error)
{
    BhSandboxProof p = {.bwrap_pidfd = -1, .init_pidfd = -1, .cgroup = NULL};
    g_autofree char *boot = bh_boot_id();
    g_autofree char *exe_link = NULL;
    g_autofree char *exe = NULL;
    g_autofree char *bwrap = NULL;
    guint64 uid = 0, ppid = 0;
    gboolean ok = FALSE;

    if (!g_str_equal(boot, r->boot_id)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "it was recorded before the last boot");
        goto out;
    }
    if (r->uid != expect->uid) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "its record names uid %u, its qid gives %u",
                    (unsigned)r->uid, (unsigned)expect->uid);
        goto out;
    }
    if (!bh_stage_shape(r, expect->stage_top)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "its staging directory %s is not one of ours",
                    r->stage_dir);
        goto out;
    }
    if ((p.bwrap_pidfd = bh_proc_prove(r->bwrap_pid, r->bwrap_start, "bubblewrap", error)) < 0)
        goto out;
    exe_link = g_strdup_printf("/proc/%d/exe", (int)r->bwrap_pid);
    exe = g_file_read_link(exe_link, NULL);
    bwrap = g_canonicalize_filename(expect->bwrap, "/");
    if (exe == NULL || !g_str_equal(exe, bwrap)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "pid %d runs %s, not %s", (int)r->bwrap_pid,
                    exe ? exe : "(unknown)", bwrap);
        goto out;
    }
    if (!bh_proc_status(r->bwrap_pid, "Uid", &uid) || uid != r->uid) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "its bubblewrap (pid %d) runs as uid %u, not %u", (int)r->bwrap_pid, (unsigned)uid,
                    (unsigned)r->uid);
        goto out;
    }
    if ((p.init_pidfd = bh_proc_prove(r->init_pid, r->init_start, "init", error)) < 0)
        goto out;
    if (!bh_proc_status(r->init_pid, "PPid", &ppid) || ppid != (guint64)r->bwrap_pid ||
        !bh_proc_status(r->init_pid, "Uid", &uid) || uid != r->uid || !bh_ns_differs(r->init_pid, "pid") ||
        !bh_ns_differs(r->init_pid, "mnt")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "pid %d is not bubblewrap's sandboxed init (parent %d, uid %u)", (int)r->init_pid,
                    (int)ppid, (unsigned)uid);
        goto out;
    }
    if (!bh_stage_in_use(r->init_pid, r->stage_dir)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "its init (pid %d) does not run on layers staged in %s", (int)r->init_pid, r->stage_dir);
        goto out;
    }
    if (expect->cgroups &&
        (p.cgroup = bh_sandbox_cgroup_adopt(expect->cgroups, r->tag, r->name, r->init_pid, error)) == NULL)
        goto out;
    /* Both still the processes read above: nothing was recycled meanwhile. */
    if (!bh_pidfd_signal(p.bwrap_pidfd, 0) || !bh_pidfd_signal(p.init_pidfd, 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "it ended while being checked");
        goto out;
    }
    ok = TRUE;
out:
    if (!ok) {
        /* The groups are this state directory's either way: what is in
         * them is an orphan, and clearing the proof kills it. */
        bh_sandbox_proof_clear(&p);
        return FALSE;
    }
    *proof = p;
    return TRUE;
}

int bh_sandbox_record_take_console(const BhSandboxRecord *r, int init_pidfd)
{
    struct stat st;
    int fd = bh_pidfd_getfd(init_pidfd, BH_SANDBOX_FD_CONSOLE);
    if (fd < 0)
        return -1;
    /* The init runs as the qube's user: what sits at that number now may be
     * anything the qube put there. Only the very pipe we made is taken. */
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_ino != r->console_ino) {
        close(fd);
        errno = EBADF;
        return -1;
    }
    return fd;
}

/* ---- earlier daemons --------------------------------------------------------------------- */

GPtrArray *bh_sandbox_owners_load(const char *dir)
{
    GPtrArray *tags = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *path = g_build_filename(dir, ".daemons", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return tags;
    g_auto(GStrv) lines = g_strsplit(text, "\n", 64);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, " ", 3);
        guint64 pid, start;
        if (g_strv_length(f) == 2 && g_ascii_string_to_unsigned(f[0], 10, 1, G_MAXINT, &pid, NULL) &&
            g_ascii_string_to_unsigned(f[1], 10, 0, G_MAXUINT64, &start, NULL))
            g_ptr_array_add(tags, g_strdup(*l));
    }
    return tags;
}

gboolean bh_sandbox_owners_save(const char *dir, GPtrArray *tags, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; i < tags->len; i++)
        g_string_append_printf(s, "%s\n", (char *)tags->pdata[i]);
    g_autofree char *path = g_build_filename(dir, ".daemons", NULL);
    return g_file_set_contents_full(path, s->str, (gssize)s->len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                    error);
}

gboolean bh_sandbox_owner_alive(const char *tag_line)
{
    g_auto(GStrv) f = g_strsplit(tag_line, " ", 3);
    guint64 pid = 0, start = 0, now = 0;
    if (g_strv_length(f) != 2 || !g_ascii_string_to_unsigned(f[0], 10, 1, G_MAXINT, &pid, NULL) ||
        !g_ascii_string_to_unsigned(f[1], 10, 0, G_MAXUINT64, &start, NULL))
        return FALSE;
    return bh_proc_running((pid_t)pid) && bh_proc_start_time((pid_t)pid, &now) && now == start;
}

char *bh_sandbox_owner_self(void)
{
    guint64 start = 0;
    bh_proc_start_time(getpid(), &start);
    return g_strdup_printf("%d %" G_GUINT64_FORMAT, (int)getpid(), start);
}
