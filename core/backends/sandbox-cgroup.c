/* sandbox-cgroup.c — control groups for sandbox qubes; see sandbox-cgroup.h.
 *
 * Everything here runs on the daemon's main context and only writes below
 * the subtree it created. Waiting for a freeze is a short bounded poll: the
 * kernel offers no notification that works on both v1 and v2.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-cgroup.h"
#include "sandbox-procstat.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/error.h>

/* A freeze that takes longer than this is reported as failed. */
#define BH_CGROUP_FREEZE_TIMEOUT_US (5 * G_USEC_PER_SEC)
/* Kill passes before giving up on processes that keep appearing (fork races). */
#define BH_CGROUP_KILL_PASSES 20

static const char *const bh_cg_names[BH_CG_N] = {"freezer", "memory", "pids"};

struct BhSandboxCgroups {
    /* The subtree per controller; NULL where that controller is not used. */
    char *base[BH_CG_N];
    BhCgroupVersion version[BH_CG_N];
    char *v2_base; /* the v2 subtree, even if only the freezer uses it */
    char *v1_base[BH_CG_N];
};

struct BhSandboxCgroup {
    BhSandboxCgroups *cgs;
    char *qube;
    char *path[BH_CG_N];
    /* Distinct directories to remove and to list processes from. */
    GPtrArray *dirs;
};

/* ---- probing -------------------------------------------------------------- */

typedef struct {
    char *v2_mount; /* mount point of cgroup2 */
    char *v2_root;  /* root of that mount within the hierarchy */
    char *v2_own;   /* our group in v2 ("0::/path") */
    char *v1_mount[BH_CG_N];
    char *v1_root[BH_CG_N];
    char *v1_own[BH_CG_N];
} BhCgroupLayout;

static void bh_cgroup_layout_clear(BhCgroupLayout *l)
{
    g_free(l->v2_mount);
    g_free(l->v2_root);
    g_free(l->v2_own);
    for (int i = 0; i < BH_CG_N; i++) {
        g_free(l->v1_mount[i]);
        g_free(l->v1_root[i]);
        g_free(l->v1_own[i]);
    }
}

/* mountinfo escapes spaces and the like as \ooo. */
static char *bh_cgroup_unescape(const char *s)
{
    GString *out = g_string_new(NULL);
    for (; *s; s++) {
        if (s[0] == '\\' && g_ascii_isdigit(s[1]) && g_ascii_isdigit(s[2]) && g_ascii_isdigit(s[3])) {
            g_string_append_c(out, (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0')));
            s += 3;
        } else {
            g_string_append_c(out, *s);
        }
    }
    return g_string_free(out, FALSE);
}

static gboolean bh_cgroup_has_option(const char *options, const char *name)
{
    g_auto(GStrv) opts = g_strsplit(options, ",", -1);
    return g_strv_contains((const char *const *)opts, name);
}

static void bh_cgroup_parse_mountinfo(BhCgroupLayout *l, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        /* id parent major:minor root mountpoint options [optional...] - fstype source superopts */
        const char *sep = strstr(*line, " - ");
        if (sep == NULL)
            continue;
        g_autofree char *front = g_strndup(*line, (gsize)(sep - *line));
        g_auto(GStrv) head = g_strsplit(front, " ", -1);
        g_auto(GStrv) tail = g_strsplit(sep + 3, " ", -1);
        if (g_strv_length(head) < 5 || g_strv_length(tail) < 3)
            continue;
        const char *fstype = tail[0];
        if (g_str_equal(fstype, "cgroup2")) {
            if (l->v2_mount == NULL) {
                l->v2_mount = bh_cgroup_unescape(head[4]);
                l->v2_root = bh_cgroup_unescape(head[3]);
            }
        } else if (g_str_equal(fstype, "cgroup")) {
            for (int c = 0; c < BH_CG_N; c++) {
                if (l->v1_mount[c] == NULL && bh_cgroup_has_option(tail[2], bh_cg_names[c])) {
                    l->v1_mount[c] = bh_cgroup_unescape(head[4]);
                    l->v1_root[c] = bh_cgroup_unescape(head[3]);
                }
            }
        }
    }
}

static void bh_cgroup_parse_self(BhCgroupLayout *l, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        g_auto(GStrv) f = g_strsplit(*line, ":", 3);
        if (g_strv_length(f) != 3)
            continue;
        if (g_str_equal(f[0], "0") && *f[1] == '\0') {
            g_free(l->v2_own);
            l->v2_own = g_strdup(f[2]);
            continue;
        }
        for (int c = 0; c < BH_CG_N; c++)
            if (bh_cgroup_has_option(f[1], bh_cg_names[c])) {
                g_free(l->v1_own[c]);
                l->v1_own[c] = g_strdup(f[2]);
            }
    }
}

/* The directory of our own group: mount point + (own path - mount root). */
static char *bh_cgroup_own_dir(const char *mount, const char *root, const char *own)
{
    const char *rel = own ? own : "/";
    if (root && !g_str_equal(root, "/") && g_str_has_prefix(rel, root))
        rel += strlen(root);
    return g_build_filename(mount, rel, NULL);
}

static gboolean bh_cgroup_file_exists(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

static gboolean bh_cgroup_write(const char *dir, const char *file, const char *value, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return bh_error_errno(error, e, "cannot write '%s' to %s", value, path);
    }
    close(fd);
    return TRUE;
}

static char *bh_cgroup_read(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

/* Alive: kill(0) finds it and it is not a zombie (gone, only not reaped). */
static gboolean bh_daemon_running(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno != EPERM)
        return FALSE;
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return FALSE;
    /* The command name may hold ')': the state follows the last one. */
    const char *p = strrchr(stat, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

GPtrArray *bh_sandbox_dead_daemon_tags(const char *top, const char *prefix)
{
    GPtrArray *tags = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = g_dir_open(top, 0, NULL);
    const char *name;
    gsize n = strlen(prefix);
    while (dir && (name = g_dir_read_name(dir))) {
        guint64 pid;
        if (strncmp(name, prefix, n) != 0 ||
            !g_ascii_string_to_unsigned(name + n, 10, 1, G_MAXINT, &pid, NULL) || (pid_t)pid == getpid() ||
            bh_daemon_running((pid_t)pid))
            continue;
        g_ptr_array_add(tags, g_strdup(name + n));
    }
    return tags;
}

/* Subtrees of daemons that are gone: the empty groups can go. Groups that
 * still hold a qube are left for the daemon of that qube's state directory,
 * which adopts or sweeps them (bh_sandbox_cgroups_sweep). */
static void bh_cgroup_sweep(const char *own_dir)
{
    g_autoptr(GPtrArray) tags = bh_sandbox_dead_daemon_tags(own_dir, "bulkhead-");
    for (guint i = 0; i < tags->len; i++) {
        g_autofree char *leaf = g_strdup_printf("bulkhead-%s", (char *)tags->pdata[i]);
        g_autofree char *base = g_build_filename(own_dir, leaf, NULL);
        g_autoptr(GDir) sub = g_dir_open(base, 0, NULL);
        const char *q;
        while (sub && (q = g_dir_read_name(sub))) {
            g_autofree char *path = g_build_filename(base, q, NULL);
            if (g_file_test(path, G_FILE_TEST_IS_DIR))
                rmdir(path);
        }
        if (rmdir(base) == 0)
            g_info("cgroup: removed %s, left by a daemon that is gone", base);
    }
}

/* Creates <own>/bulkhead-<tag>; NULL when that is not possible here. */
static char *bh_cgroup_make_base(const char *mount, const char *root, const char *own, const char *tag)
{
    if (mount == NULL)
        return NULL;
    g_autofree char *own_dir = bh_cgroup_own_dir(mount, root, own);
    bh_cgroup_sweep(own_dir);
    g_autofree char *leaf = g_strdup_printf("bulkhead-%s", tag);
    g_autofree char *base = g_build_filename(own_dir, leaf, NULL);
    if (mkdir(base, 0755) < 0 && errno != EEXIST) {
        g_debug("cgroup: cannot create %s: %s", base, g_strerror(errno));
        return NULL;
    }
    return g_steal_pointer(&base);
}

/* v2 controllers must be enabled top-down; our own group usually holds
 * processes (us), which v2 forbids for a group that delegates controllers,
 * so this only works where we run in the root group or a prepared one. */
static gboolean bh_cgroup_v2_enable(const char *own_dir, const char *base, const char *ctrl)
{
    g_autofree char *available = bh_cgroup_read(own_dir, "cgroup.controllers");
    g_autofree char *plus = g_strdup_printf("+%s", ctrl);
    if (available == NULL)
        return FALSE;
    g_auto(GStrv) words = g_strsplit_set(g_strstrip(available), " \n", -1);
    if (!g_strv_contains((const char *const *)words, ctrl))
        return FALSE;
    if (!bh_cgroup_write(own_dir, "cgroup.subtree_control", plus, NULL))
        return FALSE;
    return bh_cgroup_write(base, "cgroup.subtree_control", plus, NULL);
}

BhSandboxCgroups *bh_sandbox_cgroups_new(const BhCgroupProbe *probe)
{
    BhSandboxCgroups *cgs = g_new0(BhSandboxCgroups, 1);
    BhCgroupLayout l = {0};
    g_autofree char *mountinfo = NULL;
    g_autofree char *self = NULL;
    g_autofree char *own_tag = NULL;
    const char *force = probe ? probe->force : g_getenv("BH_SANDBOX_CGROUP");
    const char *tag = probe ? probe->tag : NULL;

    if (probe) {
        mountinfo = g_strdup(probe->mountinfo);
        self = g_strdup(probe->self_cgroup);
    } else {
        g_file_get_contents("/proc/self/mountinfo", &mountinfo, NULL, NULL);
        g_file_get_contents("/proc/self/cgroup", &self, NULL, NULL);
    }
    if (tag == NULL)
        tag = own_tag = g_strdup_printf("%d", (int)getpid());
    if (force && !g_str_equal(force, "v1") && !g_str_equal(force, "v2") && !g_str_equal(force, "none")) {
        g_message("cgroup: ignoring BH_SANDBOX_CGROUP=%s (use v1, v2 or none)", force);
        force = NULL;
    }
    bh_cgroup_parse_mountinfo(&l, mountinfo ? mountinfo : "");
    bh_cgroup_parse_self(&l, self ? self : "");

    gboolean want_v1 = force == NULL || g_str_equal(force, "v1");
    gboolean want_v2 = force == NULL || g_str_equal(force, "v2");

    if (want_v2)
        cgs->v2_base = bh_cgroup_make_base(l.v2_mount, l.v2_root, l.v2_own, tag);
    for (int c = 0; want_v1 && c < BH_CG_N; c++)
        cgs->v1_base[c] = bh_cgroup_make_base(l.v1_mount[c], l.v1_root[c], l.v1_own[c], tag);

    gboolean v2_freeze = cgs->v2_base != NULL;
    if (v2_freeze) {
        /* cgroup.freeze exists in non-root groups of kernels >= 5.2. */
        g_autofree char *probe_dir = g_build_filename(cgs->v2_base, "probe", NULL);
        if (mkdir(probe_dir, 0755) == 0 || errno == EEXIST) {
            v2_freeze = bh_cgroup_file_exists(probe_dir, "cgroup.freeze");
            rmdir(probe_dir);
        } else {
            v2_freeze = FALSE;
        }
    }
    gboolean v2_ctrl[BH_CG_N] = {FALSE};
    if (cgs->v2_base) {
        g_autofree char *own_dir = bh_cgroup_own_dir(l.v2_mount, l.v2_root, l.v2_own);
        v2_ctrl[BH_CG_MEMORY] = bh_cgroup_v2_enable(own_dir, cgs->v2_base, "memory");
        v2_ctrl[BH_CG_PIDS] = bh_cgroup_v2_enable(own_dir, cgs->v2_base, "pids");
    }
    /* A machine whose v2 carries controllers is a v2 machine: use it for all.
     * Otherwise v1 where mounted, and the bare v2 freezer as a last resort. */
    gboolean v2_primary = v2_ctrl[BH_CG_MEMORY] || v2_ctrl[BH_CG_PIDS];
    for (int c = 0; c < BH_CG_N; c++) {
        gboolean v2_ok = c == BH_CG_FREEZER ? v2_freeze : v2_ctrl[c];
        if (v2_ok && (v2_primary || cgs->v1_base[c] == NULL)) {
            cgs->version[c] = BH_CGROUP_V2;
            cgs->base[c] = g_strdup(cgs->v2_base);
        } else if (cgs->v1_base[c]) {
            cgs->version[c] = BH_CGROUP_V1;
            cgs->base[c] = g_strdup(cgs->v1_base[c]);
        }
    }
    /* Subtrees we created but will not use go away now. */
    if (cgs->v2_base && !(cgs->version[0] == BH_CGROUP_V2 || cgs->version[1] == BH_CGROUP_V2 ||
                          cgs->version[2] == BH_CGROUP_V2)) {
        rmdir(cgs->v2_base);
        g_clear_pointer(&cgs->v2_base, g_free);
    }
    for (int c = 0; c < BH_CG_N; c++)
        if (cgs->v1_base[c] && cgs->version[c] != BH_CGROUP_V1) {
            rmdir(cgs->v1_base[c]);
            g_clear_pointer(&cgs->v1_base[c], g_free);
        }
    bh_cgroup_layout_clear(&l);

    g_autofree char *what = bh_sandbox_cgroups_describe(cgs);
    g_info("cgroups: %s", what);
    return cgs;
}

void bh_sandbox_cgroups_free(BhSandboxCgroups *cgs)
{
    if (cgs == NULL)
        return;
    if (cgs->v2_base)
        rmdir(cgs->v2_base);
    for (int c = 0; c < BH_CG_N; c++) {
        if (cgs->v1_base[c])
            rmdir(cgs->v1_base[c]);
        g_free(cgs->v1_base[c]);
        g_free(cgs->base[c]);
    }
    g_free(cgs->v2_base);
    g_free(cgs);
}

BhCgroupVersion bh_sandbox_cgroups_version(const BhSandboxCgroups *cgs, BhCgroupController ctrl)
{
    return cgs->version[ctrl];
}

const char *bh_sandbox_cgroups_base(const BhSandboxCgroups *cgs, BhCgroupVersion version,
                                    BhCgroupController ctrl)
{
    return version == BH_CGROUP_V2 ? cgs->v2_base : version == BH_CGROUP_V1 ? cgs->v1_base[ctrl] : NULL;
}

char *bh_sandbox_cgroups_describe(const BhSandboxCgroups *cgs)
{
    GString *s = g_string_new(NULL);
    for (int c = 0; c < BH_CG_N; c++) {
        const char *how = cgs->version[c] == BH_CGROUP_V2   ? "cgroup v2"
                          : cgs->version[c] == BH_CGROUP_V1 ? "cgroup v1"
                          : c == BH_CG_FREEZER              ? "SIGSTOP/SIGCONT (no cgroup freezer)"
                                                            : "not limited (no cgroup)";
        g_string_append_printf(s, "%s%s: %s", c ? ", " : "", bh_cg_names[c], how);
    }
    return g_string_free(s, FALSE);
}

/* ---- one qube's groups ------------------------------------------------------ */

static gboolean bh_cgroup_dir_has_procs(const char *dir)
{
    g_autofree char *procs = bh_cgroup_read(dir, "cgroup.procs");
    return procs && *g_strstrip(procs) != '\0';
}

static gboolean bh_cgroup_set_limits(BhSandboxCgroup *cg, const BhCgroupLimits *limits, GError **error)
{
    const char *mem = cg->path[BH_CG_MEMORY];
    const char *pids = cg->path[BH_CG_PIDS];
    gboolean v2mem = cg->cgs->version[BH_CG_MEMORY] == BH_CGROUP_V2;
    g_autofree char *max = g_strdup_printf("%" G_GUINT64_FORMAT, limits->memory_max);
    g_autofree char *soft = g_strdup_printf("%" G_GUINT64_FORMAT, limits->memory_soft);
    g_autofree char *npids = g_strdup_printf("%" G_GUINT64_FORMAT, limits->pids_max);

    if (mem && limits->memory_max &&
        !bh_cgroup_write(mem, v2mem ? "memory.max" : "memory.limit_in_bytes", max, error))
        return FALSE;
    /* tmpfs pages a qube writes are charged to it: without this they could
     * go on to the host's swap past maxmem (docs/sandbox.md, "What a qube
     * can write"). v1 bounds memory plus swap, so the same number is none. */
    const char *swap = v2mem ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
    g_autofree char *swap_file = mem ? g_build_filename(mem, swap, NULL) : NULL;
    if (mem && limits->memory_max && access(swap_file, F_OK) == 0 &&
        !bh_cgroup_write(mem, swap, v2mem ? "0" : max, error))
        return FALSE;
    if (mem && !v2mem && limits->memory_soft &&
        !bh_cgroup_write(mem, "memory.soft_limit_in_bytes", soft, error))
        return FALSE;
    if (pids && limits->pids_max && !bh_cgroup_write(pids, "pids.max", npids, error))
        return FALSE;
    return TRUE;
}

/* The qube's groups in the hierarchies this backend uses, by name only
 * (nothing is created): under our own subtree, or (tag) under the subtree
 * bulkhead-<tag> of an earlier daemon beside it. Only names decide the
 * paths, so nothing outside such subtrees can be named. */
static BhSandboxCgroup *bh_cgroup_alloc(BhSandboxCgroups *cgs, const char *qube, const char *tag)
{
    BhSandboxCgroup *cg = g_new0(BhSandboxCgroup, 1);
    g_autofree char *leaf = tag ? g_strdup_printf("bulkhead-%s", tag) : NULL;
    cg->cgs = cgs;
    cg->qube = g_strdup(qube);
    cg->dirs = g_ptr_array_new_with_free_func(g_free);
    for (int c = 0; c < BH_CG_N; c++) {
        if (cgs->base[c] == NULL)
            continue;
        g_autofree char *own_dir = g_path_get_dirname(cgs->base[c]);
        cg->path[c] =
            tag ? g_build_filename(own_dir, leaf, qube, NULL) : g_build_filename(cgs->base[c], qube, NULL);
        gboolean seen = FALSE;
        for (guint i = 0; i < cg->dirs->len; i++)
            seen |= g_str_equal(cg->dirs->pdata[i], cg->path[c]);
        if (!seen)
            g_ptr_array_add(cg->dirs, g_strdup(cg->path[c]));
    }
    return cg;
}

BhSandboxCgroup *bh_sandbox_cgroup_new(BhSandboxCgroups *cgs, const char *qube, const BhCgroupLimits *limits,
                                       GError **error)
{
    BhSandboxCgroup *cg = bh_cgroup_alloc(cgs, qube, NULL);

    for (guint i = 0; i < cg->dirs->len; i++) {
        const char *dir = cg->dirs->pdata[i];
        /* A group left by a qube of a daemon that died: reuse it only empty. */
        if (g_file_test(dir, G_FILE_TEST_IS_DIR) && rmdir(dir) < 0 && bh_cgroup_dir_has_procs(dir)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                        "the control group %s still holds processes of an earlier run of %s; kill "
                        "them (cat %s/cgroup.procs)",
                        dir, qube, dir);
            g_ptr_array_set_size(cg->dirs, i); /* only what we made is removed */
            bh_sandbox_cgroup_free(cg);
            return NULL;
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            bh_error_errno(error, e, "cannot create the control group %s", dir);
            g_ptr_array_set_size(cg->dirs, i);
            bh_sandbox_cgroup_free(cg);
            return NULL;
        }
    }
    if (!bh_cgroup_set_limits(cg, limits, error)) {
        bh_sandbox_cgroup_free(cg);
        return NULL;
    }
    return cg;
}

GArray *bh_sandbox_cgroup_procs_fds(BhSandboxCgroup *cg, GError **error)
{
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint i = 0; i < cg->dirs->len; i++) {
        g_autofree char *path = g_build_filename(cg->dirs->pdata[i], "cgroup.procs", NULL);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            for (guint j = 0; j < fds->len; j++)
                close(g_array_index(fds, int, j));
            bh_error_errno(error, e, "cannot open %s", path);
            return NULL;
        }
        g_array_append_val(fds, fd);
    }
    return g_steal_pointer(&fds);
}

static gboolean bh_cgroup_is_frozen(BhSandboxCgroup *cg, gboolean frozen)
{
    const char *dir = cg->path[BH_CG_FREEZER];
    if (cg->cgs->version[BH_CG_FREEZER] == BH_CGROUP_V2) {
        g_autofree char *events = bh_cgroup_read(dir, "cgroup.events");
        return events && strstr(events, frozen ? "frozen 1" : "frozen 0") != NULL;
    }
    g_autofree char *state = bh_cgroup_read(dir, "freezer.state");
    return state && g_str_equal(g_strstrip(state), frozen ? "FROZEN" : "THAWED");
}

gboolean bh_sandbox_cgroup_freeze(BhSandboxCgroup *cg, gboolean frozen, GError **error)
{
    const char *dir = cg->path[BH_CG_FREEZER];
    gboolean v2 = cg->cgs->version[BH_CG_FREEZER] == BH_CGROUP_V2;
    if (dir == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no cgroup freezer in use");
        return FALSE;
    }
    if (!bh_cgroup_write(dir, v2 ? "cgroup.freeze" : "freezer.state",
                         v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED"), error))
        return FALSE;
    gint64 deadline = g_get_monotonic_time() + BH_CGROUP_FREEZE_TIMEOUT_US;
    while (!bh_cgroup_is_frozen(cg, frozen)) {
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the kernel did not %s %s within %d s",
                        frozen ? "freeze" : "thaw", dir, (int)(BH_CGROUP_FREEZE_TIMEOUT_US / G_USEC_PER_SEC));
            return FALSE;
        }
        g_usleep(2000);
    }
    return TRUE;
}

GArray *bh_sandbox_cgroup_pids(BhSandboxCgroup *cg)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
    if (cg->dirs->len == 0)
        return pids;
    g_autofree char *text = bh_cgroup_read(cg->dirs->pdata[0], "cgroup.procs");
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    for (char **l = lines; *l; l++) {
        guint64 pid;
        if (**l && g_ascii_string_to_unsigned(*l, 10, 1, G_MAXINT, &pid, NULL)) {
            pid_t p = (pid_t)pid;
            g_array_append_val(pids, p);
        }
    }
    return pids;
}

void bh_sandbox_cgroup_kill(BhSandboxCgroup *cg)
{
    if (cg->dirs->len == 0)
        return;
    const char *freezer = cg->path[BH_CG_FREEZER];
    gboolean v2 = freezer && cg->cgs->version[BH_CG_FREEZER] == BH_CGROUP_V2;
    if (v2 && bh_cgroup_file_exists(freezer, "cgroup.kill") &&
        bh_cgroup_write(freezer, "cgroup.kill", "1", NULL))
        return;
    for (int pass = 0; pass < BH_CGROUP_KILL_PASSES; pass++) {
        g_autoptr(GArray) pids = bh_sandbox_cgroup_pids(cg);
        if (pids->len == 0)
            break;
        for (guint i = 0; i < pids->len; i++)
            kill(g_array_index(pids, pid_t, i), SIGKILL);
        /* v1-frozen tasks only die once thawed. */
        if (freezer && !v2)
            bh_cgroup_write(freezer, "freezer.state", "THAWED", NULL);
        g_usleep(1000);
    }
}

guint64 bh_sandbox_cgroup_memory(BhSandboxCgroup *cg)
{
    const char *dir = cg->path[BH_CG_MEMORY];
    if (dir == NULL)
        return 0;
    gboolean v2 = cg->cgs->version[BH_CG_MEMORY] == BH_CGROUP_V2;
    g_autofree char *text = bh_cgroup_read(dir, v2 ? "memory.current" : "memory.usage_in_bytes");
    guint64 n = 0;
    if (text)
        g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, G_MAXUINT64, &n, NULL);
    return n;
}

/* utime + stime + cutime + cstime of one process, in clock ticks; 0 when it
 * is gone or its line does not parse (sandbox-procstat.c: the name in it is
 * the qube's). */
static guint64 bh_proc_cpu_ticks(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    gsize len = 0;
    guint64 ticks = 0;
    if (!g_file_get_contents(path, &text, &len, NULL) || !bh_procstat_cpu_ticks(text, len, &ticks))
        return 0;
    return ticks;
}

guint64 bh_sandbox_cgroup_cpu_usec(BhSandboxCgroup *cg)
{
    for (int c = 0; c < BH_CG_N; c++) {
        if (cg->path[c] == NULL || cg->cgs->version[c] != BH_CGROUP_V2)
            continue;
        g_autofree char *text = bh_cgroup_read(cg->path[c], "cpu.stat");
        const char *line = text ? strstr(text, "usage_usec ") : NULL;
        guint64 n = 0;
        if (line && sscanf(line, "usage_usec %" G_GUINT64_FORMAT, &n) == 1)
            return n;
    }
    long hz = sysconf(_SC_CLK_TCK);
    g_autoptr(GArray) pids = bh_sandbox_cgroup_pids(cg);
    guint64 ticks = 0;
    /* The pids limit bounds this; the cap keeps one call cheap regardless. */
    for (guint i = 0; i < pids->len && i < 4096; i++)
        ticks += bh_proc_cpu_ticks(g_array_index(pids, pid_t, i));
    return hz > 0 ? ticks * (G_USEC_PER_SEC / (guint64)hz) : 0;
}

const char *bh_sandbox_cgroup_path(BhSandboxCgroup *cg, BhCgroupController ctrl)
{
    return cg->path[ctrl];
}

void bh_sandbox_cgroup_free(BhSandboxCgroup *cg)
{
    if (cg == NULL)
        return;
    bh_sandbox_cgroup_kill(cg);
    for (guint i = 0; i < cg->dirs->len; i++) {
        const char *dir = cg->dirs->pdata[i];
        /* The kernel may need a moment to let go of the last exited task. */
        for (int tries = 0; rmdir(dir) < 0 && errno == EBUSY && tries < 100; tries++)
            g_usleep(2000);
        if (g_file_test(dir, G_FILE_TEST_IS_DIR))
            g_message("[%s] cannot remove the control group %s: %s", cg->qube, dir, g_strerror(errno));
    }
    g_ptr_array_unref(cg->dirs);
    for (int c = 0; c < BH_CG_N; c++)
        g_free(cg->path[c]);
    g_free(cg->qube);
    g_free(cg);
}

/* ---- groups left by an earlier daemon ----------------------------------------- */

static gboolean bh_cgroup_holds(const char *dir, pid_t pid)
{
    g_autofree char *text = bh_cgroup_read(dir, "cgroup.procs");
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    for (char **l = lines; *l; l++) {
        guint64 p;
        if (g_ascii_string_to_unsigned(*l, 10, 1, G_MAXINT, &p, NULL) && (pid_t)p == pid)
            return TRUE;
    }
    return FALSE;
}

BhSandboxCgroup *bh_sandbox_cgroup_adopt(BhSandboxCgroups *cgs, const char *tag, const char *qube,
                                         pid_t member, GError **error)
{
    BhSandboxCgroup *cg = bh_cgroup_alloc(cgs, qube, tag);
    for (guint i = 0; i < cg->dirs->len; i++) {
        const char *dir = cg->dirs->pdata[i];
        if (!bh_cgroup_holds(dir, member)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                        "its init (pid %d) is not in the control group %s", (int)member, dir);
            /* Not ours to kill or remove: only forget it. */
            g_ptr_array_set_size(cg->dirs, 0);
            bh_sandbox_cgroup_free(cg);
            return NULL;
        }
    }
    return cg;
}

gboolean bh_sandbox_cgroup_frozen(BhSandboxCgroup *cg)
{
    return cg->path[BH_CG_FREEZER] && bh_cgroup_is_frozen(cg, TRUE);
}

gboolean bh_sandbox_cgroups_has_group(BhSandboxCgroups *cgs, const char *tag, const char *qube)
{
    BhSandboxCgroup *cg = bh_cgroup_alloc(cgs, qube, tag);
    gboolean found = FALSE;
    for (guint i = 0; i < cg->dirs->len; i++)
        found |= g_file_test(cg->dirs->pdata[i], G_FILE_TEST_IS_DIR);
    g_ptr_array_set_size(cg->dirs, 0);
    bh_sandbox_cgroup_free(cg);
    return found;
}

GPtrArray *bh_sandbox_cgroups_sweep(BhSandboxCgroups *cgs, const char *tag, GHashTable *keep,
                                    const char *only)
{
    GPtrArray *cleaned = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *leaf = g_strdup_printf("bulkhead-%s", tag);
    g_autoptr(GPtrArray) tops = g_ptr_array_new_with_free_func(g_free);
    for (int c = 0; c < BH_CG_N; c++) {
        if (cgs->base[c] == NULL)
            continue;
        g_autofree char *own_dir = g_path_get_dirname(cgs->base[c]);
        char *top = g_build_filename(own_dir, leaf, NULL);
        g_ptr_array_add(tops, top);
        g_autoptr(GDir) dir = g_dir_open(top, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(top, name, NULL);
            if (g_file_test(path, G_FILE_TEST_IS_DIR) && !(keep && g_hash_table_contains(keep, name)) &&
                (only == NULL || g_str_equal(only, name)))
                g_hash_table_add(names, g_strdup(name));
        }
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, names);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        BhSandboxCgroup *cg = bh_cgroup_alloc(cgs, key, tag);
        /* Directories that do not exist in some hierarchy are not listed. */
        for (guint i = 0; i < cg->dirs->len; i++)
            if (!g_file_test(cg->dirs->pdata[i], G_FILE_TEST_IS_DIR))
                g_ptr_array_remove_index(cg->dirs, i--);
        g_autoptr(GArray) pids = bh_sandbox_cgroup_pids(cg);
        if (pids->len > 0)
            g_ptr_array_add(cleaned, g_strdup(key));
        bh_sandbox_cgroup_free(cg); /* kills what is there, removes the groups */
    }
    for (guint i = 0; i < tops->len; i++)
        rmdir(tops->pdata[i]);
    return cleaned;
}
