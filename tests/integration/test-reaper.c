/* test-reaper.c — bh-test-reaper: ends what a test's daemons left running.
 *
 *   bh-test-reaper DIR           now: kill what belongs to DIR, say what
 *   bh-test-reaper --watch PID DIR   the same once process PID has ended,
 *                                in the background, outside the test's
 *                                session (its exit, a crash, a timeout's
 *                                SIGTERM, even its SIGKILL)
 *
 * What belongs to DIR (a test's temporary directory): every bulkheadd whose
 * --state-dir lies below it, and every sandbox qube of a daemon whose
 * staging marker (/run/bulkhead-sandbox/<pid>/.state) names a state
 * directory below it — killed through the daemon's control groups
 * (bulkhead-<pid>/<qube>, beside the reaper's own group in each hierarchy),
 * which hold the qube's init, bubblewrap and slirp4netns alike; and the
 * network interfaces a test made in the host's namespace and listed in
 * DIR/reap-links, one name a line (only names "bht" + up to 12 letters or
 * digits: a test's own, never one of the machine's). Qubes outlive
 * a daemon that is SIGKILLed by design (docs/sandbox.md, re-adoption), and
 * their sessions are their own, so nothing else a test harness does reaches
 * them.
 *
 * Owns nothing of the product. Must never touch a group, a staging directory
 * or a process that is not DIR's: every match is by DIR's full path plus '/',
 * and pids are only read from the groups so matched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STAGE_TOP  "/run/bulkhead-sandbox"
#define MAX_GROUPS 64
/* A group whose processes keep reappearing (a fork loop) is given this
 * long; far beyond what a kill of a qube takes. */
#define KILL_TIMEOUT_MS 10000

static const char *dir;
static size_t dir_len;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static bool below_dir(const char *path)
{
    return strncmp(path, dir, dir_len) == 0 && path[dir_len] == '/';
}

static char *read_small(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = calloc(1, 65537);
    ssize_t n = buf ? read(fd, buf, 65536) : -1;
    close(fd);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = (size_t)n;
    return buf;
}

static void write_str(const char *group, const char *file, const char *value)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", group, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, value, strlen(value)) < 0) {
        /* Not every hierarchy has every file's feature: nothing to do. */
    }
    close(fd);
}

/* ---- daemons ------------------------------------------------------------------------------------ */

static bool is_dir_daemon(pid_t pid)
{
    char path[64];
    size_t len = 0;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    char *cmd = read_small(path, &len);
    bool ours = false;
    for (size_t i = 0; cmd && i < len && !ours;) {
        const char *arg = cmd + i;
        size_t n = strlen(arg);
        const char *base = strrchr(cmd, '/');
        ours = i > 0 && strstr(base ? base : cmd, "bulkheadd") && below_dir(arg);
        i += n + 1;
    }
    free(cmd);
    return ours;
}

/* SIGTERM first: a daemon that still runs stops its own qubes, the normal
 * path; SIGKILL if it has not ended within 10 s. */
static void stop_daemons(void)
{
    pid_t pids[256];
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 256) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end == '\0' && pid > 1 && pid != getpid() && is_dir_daemon((pid_t)pid))
            pids[n++] = (pid_t)pid;
    }
    if (d)
        closedir(d);
    for (int i = 0; i < n; i++) {
        printf("# bh-test-reaper: bulkheadd %d (state below %s) still ran: stopping it\n", (int)pids[i], dir);
        kill(pids[i], SIGTERM);
    }
    long deadline = now_ms() + 10000;
    for (int i = 0; i < n; i++) {
        while (kill(pids[i], 0) == 0 && is_dir_daemon(pids[i]) && now_ms() < deadline)
            pause_ms(50);
        if (kill(pids[i], 0) == 0 && is_dir_daemon(pids[i]))
            kill(pids[i], SIGKILL);
    }
}

/* ---- control groups ---------------------------------------------------------------------------- */

/* The directories that hold bulkhead-<tag> groups: our own group in each
 * mounted hierarchy (the daemons ran in the test's groups, as we do). */
static int own_group_dirs(char dirs[][PATH_MAX], int max)
{
    size_t len = 0;
    char *mountinfo = read_small("/proc/self/mountinfo", &len);
    char *self = read_small("/proc/self/cgroup", NULL);
    int n = 0;
    for (char *line = mountinfo, *next; line && *line && n < max; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        else
            next = line + strlen(line);
        /* id parent major:minor root mount-point options ... - type source super-options */
        char root[PATH_MAX], mnt[PATH_MAX], type[64], super[512];
        const char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
            sscanf(sep + 3, "%63s %*s %511s", type, super) != 2)
            continue;
        bool v2 = strcmp(type, "cgroup2") == 0;
        if (!v2 && strcmp(type, "cgroup") != 0)
            continue;
        /* Our path in this hierarchy: "0::path" for v2; for v1 the line
         * whose controllers are among the mount's options. */
        char own[PATH_MAX] = "";
        char *copy = strdup(self ? self : "");
        for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n")) {
            char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (!c2)
                continue;
            *c2 = '\0';
            const char *ctrls = c1 + 1;
            bool match = v2 ? (*ctrls == '\0' && strncmp(l, "0:", 2) == 0) : (*ctrls != '\0');
            if (match && !v2) {
                char want[256], opts[520];
                snprintf(opts, sizeof opts, ",%s,", super);
                snprintf(want, sizeof want, "%s", ctrls);
                for (char *save = NULL, *w = strtok_r(want, ",", &save); w && match;
                     w = strtok_r(NULL, ",", &save)) {
                    char needle[270];
                    snprintf(needle, sizeof needle, ",%s,", w);
                    match = strstr(opts, needle) != NULL;
                }
            }
            if (match) {
                snprintf(own, sizeof own, "%s", c2 + 1);
                break;
            }
        }
        free(copy);
        if (own[0] != '/')
            continue;
        /* The mount shows the hierarchy from root on. */
        size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
        if (rl && strncmp(own, root, rl) != 0)
            continue;
        snprintf(dirs[n++], PATH_MAX, "%s%s", mnt, own + rl);
    }
    free(mountinfo);
    free(self);
    return n;
}

/* Kills every process in group and below, then removes the groups. */
static void kill_group(const char *group, const char *what)
{
    DIR *d = opendir(group);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char sub[PATH_MAX];
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", group, e->d_name);
        kill_group(sub, e->d_name);
    }
    if (d)
        closedir(d);
    /* Frozen (a paused qube): thawed, or v1 holds the SIGKILL back. */
    write_str(group, "freezer.state", "THAWED");
    write_str(group, "cgroup.freeze", "0");
    write_str(group, "cgroup.kill", "1");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cgroup.procs", group);
    long deadline = now_ms() + KILL_TIMEOUT_MS;
    bool said = false;
    /* Until the group can be removed: a process the dead daemon had forked
     * may still join it (its spawn child joins before it execs). */
    while (rmdir(group) < 0 && errno == EBUSY && now_ms() < deadline) {
        char *procs = read_small(path, NULL);
        for (char *p = procs, *end; p && *p; p = end) {
            long pid = strtol(p, &end, 10);
            if (end == p)
                break;
            if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0 && !said) {
                printf("# bh-test-reaper: killed what ran in %s (qube %s)\n", group, what);
                said = true;
            }
            while (*end == '\n')
                end++;
        }
        free(procs);
        pause_ms(20);
    }
}

/* The daemon's copies of the guest programs (<stage>/.bin): files only. */
static void empty_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[PATH_MAX + 600];
        if (e->d_type == DT_DIR)
            continue;
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

static void reap_groups(void)
{
    static char own[MAX_GROUPS][PATH_MAX];
    int n_own = own_group_dirs(own, MAX_GROUPS);
    DIR *d = opendir(STAGE_TOP);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[PATH_MAX];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, STAGE_TOP "/%s/.state", e->d_name);
        char *state = read_small(path, NULL);
        bool ours = state && below_dir(state);
        free(state);
        if (!ours)
            continue;
        for (int i = 0; i < n_own; i++) {
            char group[PATH_MAX + 300];
            struct stat st;
            if (snprintf(group, sizeof group, "%s/bulkhead-%s", own[i], e->d_name) < (int)sizeof group &&
                stat(group, &st) == 0 && S_ISDIR(st.st_mode))
                kill_group(group, "(all of the daemon's)");
        }
        /* What bulkheadd would sweep once it starts again: the marker, its
         * resolv.conf, its programs' copies and empty staging points. Nothing is mounted here on
         * the host (the mounts live in the qubes' namespaces). */
        char stage[PATH_MAX];
        snprintf(stage, sizeof stage, STAGE_TOP "/%s", e->d_name);
        DIR *sd = opendir(stage);
        struct dirent *se;
        while (sd && (se = readdir(sd))) {
            char p[PATH_MAX + 300];
            if (strcmp(se->d_name, ".") == 0 || strcmp(se->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", stage, se->d_name);
            if (se->d_type == DT_DIR && strcmp(se->d_name, ".bin") == 0)
                empty_dir(p);
            if (se->d_type == DT_DIR)
                rmdir(p);
            else if (strcmp(se->d_name, ".state") != 0)
                unlink(p);
        }
        if (sd)
            closedir(sd);
        unlink(path);
        rmdir(stage);
    }
    if (d)
        closedir(d);
}

/* A name a test may give an interface of its own (sandbox-network.sh). */
static bool test_link_name(const char *name, size_t len)
{
    if (len < 4 || len > 15 || strncmp(name, "bht", 3) != 0)
        return false;
    for (size_t i = 3; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
            return false;
    return true;
}

/* The interfaces DIR/reap-links names: deleted with ip(8), which also
 * takes a veth pair's other end. */
static void reap_links(void)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/reap-links", dir) >= (int)sizeof path)
        return;
    char *list = read_small(path, NULL);
    for (char *line = list, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        else
            next = line + strlen(line);
        if (!test_link_name(line, strlen(line)))
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 1);
            dup2(null, 2);
            execlp("ip", "ip", "link", "del", line, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            printf("# bh-test-reaper: removed the interface %s\n", line);
    }
    free(list);
}

/* ---- mounts ------------------------------------------------------------------------------------- */

/* The bounded vchan directories (sandbox-vchan.c) are tmpfs mounts in the
 * host's namespace, below DIR's runtime directory: a daemon that was
 * SIGKILLed leaves them behind its dead qubes, and rm -rf cannot remove a
 * mount point. Only tmpfs mounts named bulkhead-vchan below DIR. */
static void unmount_vchan(void)
{
    char *mountinfo = read_small("/proc/self/mountinfo", NULL);
    for (char *line = mountinfo, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        else
            next = line + strlen(line);
        /* id parent major:minor root mount-point options ... - type source ... */
        char point[PATH_MAX], type[64], source[64];
        const char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
            sscanf(sep + 3, "%63s %63s", type, source) != 2)
            continue;
        if (strcmp(type, "tmpfs") == 0 && strcmp(source, "bulkhead-vchan") == 0 && below_dir(point) &&
            umount2(point, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
            printf("# bh-test-reaper: unmounted %s\n", point);
    }
    free(mountinfo);
}

static void reap(void)
{
    stop_daemons();
    reap_groups();
    reap_links();
    unmount_vchan();
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc == 2 && argv[1][0] == '/') {
        dir = argv[1];
        dir_len = strlen(dir);
        reap();
        return 0;
    }
    if (argc != 4 || strcmp(argv[1], "--watch") != 0 || argv[3][0] != '/') {
        fprintf(stderr, "usage: bh-test-reaper DIR | --watch PID DIR (DIR absolute)\n");
        return 2;
    }
    dir = argv[3];
    dir_len = strlen(dir);
    /* The pid is the caller's, alive while it waits for us: no reuse race. */
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)atoi(argv[2]), 0);
    if (pidfd < 0) {
        perror("bh-test-reaper: pidfd_open");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("bh-test-reaper: fork");
        return 1;
    }
    if (child > 0)
        return 0;
    /* Outside the test's session and process group (a timeout's killpg),
     * and off its output pipes (meson reads them until they close). */
    setsid();
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    for (int fd = 3; fd < 1024; fd++)
        if (fd != pidfd)
            close(fd);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
    reap();
    return 0;
}
