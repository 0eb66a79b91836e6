/* bench-proc.c — see bench-proc.h. */
#include "bench-proc.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void child_setup(gpointer data)
{
    pid_t *parent = data;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The bench may have died between fork and prctl. */
    if (getppid() != *parent)
        _exit(127);
}

pid_t bench_proc_spawn(const char *const *argv, const char *const *env, const char *log, GError **error)
{
    g_auto(GStrv) envp = g_get_environ();
    pid_t parent = getpid();
    GPid pid = -1;
    int out = -1, in = -1;

    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq)
            continue;
        g_autofree char *name = g_strndup(env[i], (gsize)(eq - env[i]));
        envp = g_environ_setenv(envp, name, eq + 1, TRUE);
    }
    out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot open %s: %s", log,
                    g_strerror(errno));
        goto out;
    }
    if (!g_spawn_async_with_pipes_and_fds(
            NULL, argv, (const char *const *)envp, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
            child_setup, &parent, in, out, out, NULL, NULL, 0, &pid, NULL, NULL, NULL, error))
        pid = -1;
    else
        setpgid(pid, pid); /* also here, so the group exists before we signal it */
out:
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    return pid;
}

gboolean bench_proc_alive(pid_t pid)
{
    /* WNOWAIT: a dead child stays a zombie, so its pid cannot be reused
     * before bench_proc_stop or bench_proc_wait reaps it. */
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    return pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

int bench_proc_wait(pid_t pid, int timeout_ms)
{
    uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 || bench_now_ns() >= end)
            return -1;
        g_usleep(10 * 1000);
    }
}

int bench_proc_stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(-pid, SIGTERM);
    int st = bench_proc_wait(pid, timeout_ms);
    kill(-pid, SIGKILL); /* whatever it left in its group */
    if (st == -1)
        st = bench_proc_wait(pid, 5000);
    return st;
}

int64_t bench_proc_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;
    int64_t sum = 0;
    if (!dir)
        return -1;
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *p = g_strdup_printf("%s/%s/schedstat", path, name);
        g_autofree char *c = g_strdup_printf("%s/%s/comm", path, name);
        g_autofree char *text = NULL, *comm = NULL;
        /* The bench's own instrument, not guid's work: guid runs this
         * thread only under BH_GUID_TRACE_FRAMES, to note when the X server
         * answered each frame (guid/bh-guid-xshm.h). */
        if (g_file_get_contents(c, &comm, NULL, NULL) && g_str_has_prefix(comm, "bh-guid-trace"))
            continue;
        if (!g_file_get_contents(p, &text, NULL, NULL))
            continue; /* the thread just ended */
        sum += g_ascii_strtoll(text, NULL, 10);
    }
    return sum;
}

/* /proc/PID/FILE's contents (g_free), NULL if the process is gone. */
static char *proc_text(pid_t pid, const char *file)
{
    char path[64];
    char *text = NULL;
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

/* Calls fn for each process of group pgid not named `exclude`; returns the
 * sum of what fn returns (negative results skipped: the process ended). */
static int64_t group_sum(pid_t pgid, const char *exclude, int64_t (*fn)(pid_t))
{
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    const char *name;
    int64_t sum = 0;
    bool any = false;
    while (dir && (name = g_dir_read_name(dir))) {
        if (!g_ascii_isdigit(name[0]))
            continue;
        pid_t pid = (pid_t)atoi(name);
        g_autofree char *text = proc_text(pid, "stat");
        if (!text)
            continue;
        /* "PID (COMM) STATE PPID PGRP ...": COMM may hold spaces and ")". */
        const char *open = strchr(text, '('), *close = strrchr(text, ')');
        int pgrp;
        if (!open || !close || sscanf(close + 2, "%*c %*d %d", &pgrp) != 1 || pgrp != pgid)
            continue;
        if (exclude && strlen(exclude) == (size_t)(close - open - 1) &&
            strncmp(open + 1, exclude, (size_t)(close - open - 1)) == 0)
            continue;
        int64_t v = fn(pid);
        if (v >= 0) {
            sum += v;
            any = true;
        }
    }
    return any ? sum : -1;
}

int64_t bench_group_cpu_ns(pid_t pgid, const char *exclude)
{
    return group_sum(pgid, exclude, bench_proc_cpu_ns);
}

int64_t bench_group_cpu_ticks_ns(pid_t pgid, const char *exclude)
{
    return group_sum(pgid, exclude, bench_proc_cpu_ticks_ns);
}

int64_t bench_group_pss(pid_t pgid, const char *exclude)
{
    return group_sum(pgid, exclude, bench_proc_pss);
}

int64_t bench_proc_cpu_ticks_ns(pid_t pid)
{
    g_autofree char *text = proc_text(pid, "stat");
    if (!text)
        return -1;
    /* Fields after the ")" that ends the command name: utime is the 14th
     * field of the line, stime the 15th. */
    const char *p = strrchr(text, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (int64_t)(ut + st) * (1000000000 / sysconf(_SC_CLK_TCK));
}

int64_t bench_proc_pss(pid_t pid)
{
    g_autofree char *text = proc_text(pid, "smaps_rollup");
    if (!text)
        return -1;
    const char *p = strstr(text, "\nPss:");
    if (!p)
        return -1;
    return g_ascii_strtoll(p + 5, NULL, 10) * 1024;
}

gboolean bench_wait_path(const char *path, pid_t pid, int timeout_ms)
{
    uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (access(path, F_OK) != 0) {
        if (bench_now_ns() >= end || (pid > 0 && !bench_proc_alive(pid)))
            return FALSE;
        g_usleep(10 * 1000);
    }
    return TRUE;
}

double bench_loadavg(void)
{
    double l;
    return getloadavg(&l, 1) == 1 ? l : -1;
}

pid_t bench_xvfb_start(int width, int height, const char *log, int *display, GError **error)
{
    g_autofree char *screen = g_strdup_printf("%dx%dx24", width, height);
    for (int n = 90; n < 190; n++) {
        g_autofree char *sock = g_strdup_printf("/tmp/.X11-unix/X%d", n);
        g_autofree char *lock = g_strdup_printf("/tmp/.X%d-lock", n);
        if (access(sock, F_OK) == 0 || access(lock, F_OK) == 0)
            continue;
        g_autofree char *name = g_strdup_printf(":%d", n);
        const char *argv[] = {"Xvfb", name, "-screen", "0", screen, "-nolisten", "tcp", "-noreset", NULL};
        pid_t pid = bench_proc_spawn(argv, NULL, log, error);
        if (pid < 0)
            return -1;
        if (bench_wait_path(sock, pid, 20000)) {
            *display = n;
            return pid;
        }
        /* Lost a race for that display (or too slow): try the next. */
        bench_proc_stop(pid, 1000);
    }
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST, "no free X display for Xvfb in :90..:189");
    return -1;
}

void bench_json_field(GString *s, const char *key, double v)
{
    if (isfinite(v))
        g_string_append_printf(s, ", \"%s\": %.10g", key, v);
    else
        g_string_append_printf(s, ", \"%s\": null", key);
}

char *bench_cpu_model(void)
{
    g_autofree char *text = NULL;
    const char *p;
    if (!g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL) || !(p = strstr(text, "model name")) ||
        !(p = strchr(p, ':')))
        return g_strdup("?");
    p += 1 + strspn(p + 1, " \t");
    return g_strndup(p, strcspn(p, "\n"));
}
