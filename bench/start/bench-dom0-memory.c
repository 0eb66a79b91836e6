/* bench-dom0-memory.c — dom0's memory per running qube: bulkheadd on the
 * sandbox backend with 0, then 1, 10, 20 idle qubes running, and the PSS of
 * bulkheadd and everything it started, split into dom0 processes (bulkheadd,
 * one bulkhead-guid per running qube, the host side of bwrap) and processes
 * inside qubes (another pid namespace). Method and figures:
 * bench/RESULTS.md; the qubes' own cost against plain bwrap is
 * bench-start's (bench/start/README.md).
 *
 *   bench-dom0-memory [--counts 1,10,20] [--out DIR]
 *   bench-dom0-memory --burst N [--reps R]
 *
 * --burst times N qubes started at once instead (every `qvm-start` returned,
 * every guid connected), against one and N plain `bwrap … true` in the same
 * repetition (bench/RESULTS.md, "Start at scale").
 *
 * Everything runs privately: a temporary directory holds XDG_RUNTIME_DIR, the
 * state directory and a session bus of its own; Xvfb is guid's display, GTK
 * as the display tests run it. Per qube = growth over the 0 case / N; the
 * qubes have no network and no windows.
 *
 * Owns: its processes and temporary directory. Must never: touch the user's
 * bus, display or state directory, or report a count whose qubes did not
 * all start. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-bwrap.h"
#include "bench-proc.h"
#include "config.h"

#define MAX_COUNTS 8

struct env {
    char dir[256];
    char *run_dir, *state, *bus, *cli;
    pid_t dbus, xvfb, daemon;
    int display;
    GStrv envp; /* for bulkheadd and the commands */
};

static void die(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

/* The processes to stop when the bench fails half-way; main.c-style state
 * is fine here: this is the program's own main file. */
static struct env *the_env;

static void stop_all(struct env *e)
{
    if (!e)
        return;
    if (e->daemon > 0)
        bench_proc_stop(e->daemon, 30000);
    if (e->xvfb > 0)
        bench_proc_stop(e->xvfb, 5000);
    if (e->dbus > 0)
        bench_proc_stop(e->dbus, 5000);
    e->daemon = e->xvfb = e->dbus = -1;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench-dom0-memory: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    stop_all(the_env);
    exit(1);
}

/* ---- commands ---------------------------------------------------------------------- */

/* Starts argv (PATH searched) with envp, output to log (appended). */
static pid_t spawn_async(const char *const *argv, char *const *envp, const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die("cannot run %s: %s", argv[0], g_strerror(rc));
    return pid;
}

/* Runs argv (PATH searched) with envp, output to log (appended), and returns
 * its wall time in ns; *status gets the wait status. */
static uint64_t run_timed(const char *const *argv, char *const *envp, const char *log, int *status)
{
    uint64_t t0 = bench_now_ns();
    pid_t pid = spawn_async(argv, envp, log);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return bench_now_ns() - t0;
}

static char *cli_path(struct env *e, const char *name)
{
    return g_build_filename(e->cli, name, NULL);
}

/* A qvm-* command that must succeed; its wall time in ns. */
static uint64_t cli(struct env *e, const char *log, const char *name, ...) G_GNUC_NULL_TERMINATED;
static uint64_t cli(struct env *e, const char *log, const char *name, ...)
{
    const char *argv[16];
    g_autofree char *path = cli_path(e, name);
    size_t n = 0;
    va_list ap;
    argv[n++] = path;
    va_start(ap, name);
    for (const char *a; n < G_N_ELEMENTS(argv) - 1 && (a = va_arg(ap, const char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int st;
    uint64_t ns = run_timed(argv, e->envp, log, &st);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        g_autofree char *text = NULL;
        g_file_get_contents(log, &text, NULL, NULL);
        die("%s failed (status 0x%x); log %s:\n%s", name, st, log, text ? text : "");
    }
    return ns;
}

/* ---- set-up ---------------------------------------------------------------------- */

static void setup(struct env *e)
{
    g_autoptr(GError) error = NULL;
    snprintf(e->dir, sizeof(e->dir), "%s/bh-bench-dom0mem-XXXXXX", g_get_tmp_dir());
    if (!mkdtemp(e->dir))
        die("mkdtemp: %s", g_strerror(errno));
    chmod(e->dir, 0700);
    e->run_dir = g_build_filename(e->dir, "run", NULL);
    e->state = g_build_filename(e->dir, "state", NULL);
    e->bus = g_build_filename(e->dir, "bus", NULL);
    g_mkdir_with_parents(e->run_dir, 0700);

    g_autofree char *bus_addr = g_strdup_printf("unix:path=%s", e->bus);
    g_autofree char *bus_arg = g_strdup_printf("--address=%s", bus_addr);
    g_autofree char *bus_log = g_build_filename(e->dir, "dbus.log", NULL);
    const char *dbus_argv[] = {"dbus-daemon", "--session", "--nofork", "--nopidfile", bus_arg, NULL};
    e->dbus = bench_proc_spawn(dbus_argv, NULL, bus_log, &error);
    if (e->dbus < 0 || !bench_wait_path(e->bus, e->dbus, 20000))
        die("no session bus: %s", error ? error->message : "dbus-daemon did not start");

    g_autofree char *xlog = g_build_filename(e->dir, "xvfb.log", NULL);
    e->xvfb = bench_xvfb_start(1920, 1200, xlog, &e->display, &error);
    if (e->xvfb < 0)
        die("%s", error->message);

    e->envp = g_get_environ();
    e->envp = g_environ_setenv(e->envp, "XDG_RUNTIME_DIR", e->run_dir, TRUE);
    e->envp = g_environ_setenv(e->envp, "DBUS_SESSION_BUS_ADDRESS", bus_addr, TRUE);
    g_autofree char *disp = g_strdup_printf(":%d", e->display);
    e->envp = g_environ_setenv(e->envp, "DISPLAY", disp, TRUE);
    e->envp = g_environ_unsetenv(e->envp, "WAYLAND_DISPLAY");
    /* guid as the display tests run it: X11, the cairo renderer. */
    e->envp = g_environ_setenv(e->envp, "GDK_BACKEND", "x11", TRUE);
    e->envp = g_environ_setenv(e->envp, "GSK_RENDERER", "cairo", TRUE);
    e->envp = g_environ_setenv(e->envp, "GTK_A11Y", "none", TRUE);
    e->envp = g_environ_setenv(e->envp, "NO_AT_BRIDGE", "1", TRUE);

    g_autofree char *daemon = g_build_filename(BH_BUILD_ROOT, "core", "daemon", "bulkheadd", NULL);
    g_autofree char *dlog = g_build_filename(e->dir, "bulkheadd.log", NULL);
    const char *dargv[] = {daemon, "--backend", "sandbox", "--state-dir", e->state, NULL};
    /* bench_proc_spawn adds NAME=VALUE pairs to this process's environment. */
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    for (size_t i = 0; e->envp[i]; i++)
        g_ptr_array_add(extra, e->envp[i]);
    g_ptr_array_add(extra, NULL);
    e->daemon = bench_proc_spawn(dargv, (const char *const *)extra->pdata, dlog, &error);
    if (e->daemon < 0)
        die("cannot start bulkheadd: %s", error->message);
    e->cli = g_build_filename(BH_BUILD_ROOT, "core", "cli", NULL);

    /* Ready when qvm-ls answers and the autostart qubes are up. */
    g_autofree char *log = g_build_filename(e->dir, "cli.log", NULL);
    g_autofree char *ls = cli_path(e, "qvm-ls");
    uint64_t end = bench_now_ns() + 60000000000ull;
    for (;;) {
        const char *argv[] = {ls, "--raw-data", NULL};
        int st;
        run_timed(argv, e->envp, log, &st);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            g_autofree char *out = NULL;
            const char *argv2[] = {ls, "--raw-data", "--running", NULL};
            g_autofree char *tmp = g_build_filename(e->dir, "ls.out", NULL);
            unlink(tmp);
            run_timed(argv2, e->envp, tmp, &st);
            if (g_file_get_contents(tmp, &out, NULL, NULL) && strstr(out, "sys-firewall|Running"))
                break;
        }
        if (bench_now_ns() > end || !bench_proc_alive(e->daemon))
            die("bulkheadd did not come up; see %s", dlog);
        g_usleep(100 * 1000);
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void teardown(struct env *e)
{
    stop_all(e);
    if (!g_getenv("BH_BENCH_KEEP"))
        nftw(e->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else
        fprintf(stderr, "bench-dom0-memory: kept %s\n", e->dir);
}

/* ---- measurements ------------------------------------------------------------------ */

struct mem {
    double daemon, guid, bwrap, other, inqube; /* MiB */
    unsigned n_guid, n_bwrap, n_other, n_inqube;
};

static double dom0_total(const struct mem *m)
{
    return m->daemon + m->guid + m->bwrap + m->other;
}

/* root and every process below it (pids). */
static GArray *descendants(pid_t root)
{
    g_autoptr(GHashTable) parent = g_hash_table_new(NULL, NULL);
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(name[0]))
            continue;
        g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
        g_autofree char *text = NULL;
        int ppid;
        const char *close;
        if (g_file_get_contents(path, &text, NULL, NULL) && (close = strrchr(text, ')')) &&
            sscanf(close + 2, "%*c %d", &ppid) == 1)
            g_hash_table_insert(parent, GINT_TO_POINTER(atoi(name)), GINT_TO_POINTER(ppid));
    }
    GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, parent);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        int pid = GPOINTER_TO_INT(k), p = pid;
        for (int depth = 0; p > 1 && p != root && depth < 64; depth++)
            p = GPOINTER_TO_INT(g_hash_table_lookup(parent, GINT_TO_POINTER(p)));
        if (p == root)
            g_array_append_val(out, pid);
    }
    return out;
}

/* guid's launcher (`bulkhead-guid --launcher`) is counted with "other": it
 * is one process whatever the number of qubes. */
static gboolean is_guid_launcher(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    return g_file_get_contents(path, &cmdline, &len, NULL) &&
           memmem(cmdline, len, "--launcher", sizeof "--launcher") != NULL;
}

/* PSS of bulkheadd and its descendants, by kind. */
static void measure_memory(struct env *e, struct mem *m)
{
    char self_ns[64] = "";
    ssize_t n = readlink("/proc/self/ns/pid", self_ns, sizeof(self_ns) - 1);
    self_ns[n > 0 ? n : 0] = '\0';
    memset(m, 0, sizeof(*m));
    g_autoptr(GArray) pids = descendants(e->daemon);
    for (guint i = 0; i < pids->len; i++) {
        int pid = g_array_index(pids, int, i);
        double mib = (double)bench_proc_pss(pid) / (1024.0 * 1024.0);
        if (mib < 0)
            continue; /* just ended */
        char ns[64] = "", link[64];
        snprintf(link, sizeof(link), "/proc/%d/ns/pid", pid);
        n = readlink(link, ns, sizeof(ns) - 1);
        ns[n > 0 ? n : 0] = '\0';
        g_autofree char *comm_path = g_strdup_printf("/proc/%d/comm", pid);
        g_autofree char *comm = NULL;
        g_file_get_contents(comm_path, &comm, NULL, NULL);
        if (comm)
            g_strchomp(comm);
        if (strcmp(ns, self_ns) != 0) {
            m->inqube += mib;
            m->n_inqube++;
        } else if (pid == e->daemon) {
            m->daemon += mib;
        } else if (comm && strcmp(comm, "bulkhead-guid") == 0 && !is_guid_launcher(pid)) {
            m->guid += mib;
            m->n_guid++;
        } else if (comm && strcmp(comm, "bwrap") == 0) {
            m->bwrap += mib;
            m->n_bwrap++;
        } else {
            m->other += mib;
            m->n_other++;
        }
    }
}

/* ---- output ---------------------------------------------------------------------- */

static void json_mem(GString *j, int count, const struct mem *m, const struct mem *base, bool last)
{
    g_string_append_printf(j, "    {\"running\": %d", count);
    bench_json_field(j, "dom0_mib", dom0_total(m));
    bench_json_field(j, "daemon_mib", m->daemon);
    bench_json_field(j, "guid_mib", m->guid);
    bench_json_field(j, "guids", m->n_guid);
    bench_json_field(j, "bwrap_mib", m->bwrap);
    bench_json_field(j, "bwraps", m->n_bwrap);
    bench_json_field(j, "other_mib", m->other);
    bench_json_field(j, "inqube_mib", m->inqube);
    bench_json_field(j, "inqube_procs", m->n_inqube);
    bench_json_field(j, "dom0_per_qube_mib", count ? (dom0_total(m) - dom0_total(base)) / count : NAN);
    bench_json_field(j, "inqube_per_qube_mib", count ? (m->inqube - base->inqube) / count : NAN);
    g_string_append_printf(j, "}%s\n", last ? "" : ",");
}

/* ---- --burst: N qubes started at once ------------------------------------------------ */

static int cmp_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of the first n (sorts a copy). */
static double median_ms(const double *v, int n)
{
    double c[32];
    memcpy(c, v, sizeof(double) * (size_t)n);
    qsort(c, (size_t)n, sizeof(double), cmp_ms);
    return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
}

/* How often `needle` occurs in the file (0 if unreadable). */
static unsigned count_in_file(const char *path, const char *needle)
{
    g_autofree char *text = NULL;
    unsigned n = 0;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* n plain `bwrap … true` at once: ms until the last exited. */
static double bwrap_burst_ms(int n, char *const *envp, const char *log)
{
    const char *argv[G_N_ELEMENTS(bwrap_base) + 1];
    size_t k = 0;
    for (; bwrap_base[k]; k++)
        argv[k] = bwrap_base[k];
    argv[k++] = "/usr/bin/true";
    argv[k] = NULL;
    pid_t pids[100];
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < n; i++)
        pids[i] = spawn_async(argv, envp, log);
    for (int i = 0; i < n; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("plain bwrap failed (status 0x%x); log %s", st, log);
    }
    return (double)(bench_now_ns() - t0) / 1e6;
}

/* Per repetition: n qubes created beforehand; the floors (one bwrap, n
 * bwraps at once); then n `qvm-start` at once, timed until every one has
 * returned (bulkheadd returns when the qube's RPC agent answered) and until
 * bulkheadd's log holds n more "connected to domain" lines (each guid's
 * first line once its vchan is up, forwarded by bulkheadd with the qube's
 * name); then every qube killed. */
/* CPU time of bulkheadd and everything it starts (its guids, the qubes:
 * the sandbox backend does not use the cpuacct hierarchy), from a cgroup
 * v1 cpuacct group it is moved into; NULL where there is none. This is what
 * a burst costs whatever else runs on the machine: wall time on a shared
 * machine is that CPU spread over what the others leave. */
/* cgroupfs takes writes in place only (no temporary file and rename). */
static gboolean write_in_place(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    gboolean ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    if (fd >= 0)
        close(fd);
    return ok;
}

static char *cpuacct_join(pid_t pid)
{
    if (!g_file_test("/sys/fs/cgroup/cpuacct/cpuacct.usage", G_FILE_TEST_EXISTS))
        return NULL;
    char *dir = g_strdup_printf("/sys/fs/cgroup/cpuacct/bench-burst-%d", (int)getpid());
    g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);
    g_autofree char *text = g_strdup_printf("%d\n", (int)pid);
    if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || !write_in_place(procs, text)) {
        fprintf(stderr, "bench-dom0-memory: no CPU accounting (%s: %s)\n", dir, g_strerror(errno));
        rmdir(dir);
        g_free(dir);
        return NULL;
    }
    /* What bulkheadd started before the burst comes too: guid's launcher,
     * which forks every guid (they are born in its group). */
    g_autoptr(GArray) pids = descendants(pid);
    for (guint i = 0; i < pids->len; i++) {
        g_autofree char *one = g_strdup_printf("%d\n", g_array_index(pids, int, i));
        write_in_place(procs, one);
    }
    return dir;
}

static double cpuacct_s(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "cpuacct.usage", NULL);
    g_autofree char *text = NULL;
    return dir && g_file_get_contents(path, &text, NULL, NULL) ? g_ascii_strtod(text, NULL) / 1e9 : NAN;
}

static void cpuacct_leave(char *dir, pid_t pid)
{
    if (dir == NULL)
        return;
    g_autofree char *text = g_strdup_printf("%d\n", (int)pid);
    write_in_place("/sys/fs/cgroup/cpuacct/cgroup.procs", text);
    rmdir(dir); /* fails while a guid still ends: left empty, harmless */
    g_free(dir);
}

static int run_burst(struct env *e, int n, int reps)
{
    g_autofree char *blog = g_build_filename(e->dir, "burst.log", NULL);
    g_autofree char *dlog = g_build_filename(e->dir, "bulkheadd.log", NULL);
    g_autofree char *start = cli_path(e, "qvm-start");
    double one[32], many[32], agents[32], guids[32], first[32], cpu[32];
    char *acct = cpuacct_join(e->daemon);
    if (reps > 32)
        reps = 32;
    for (int i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("burst%d", i + 1);
        cli(e, blog, "qvm-create", "-l", "gray", "--prop", "netvm=", name, NULL);
    }
    bwrap_burst_ms(1, e->envp, blog); /* first touch */
    printf(
        "| rep | 1 bwrap true | %d bwrap true at once | first qvm-start returned | all %d agents answered "
        "| all %d "
        "guids connected | CPU of bulkheadd and all it started | load |\n|---|---|---|---|---|---|---|---|\n",
        n, n, n);
    for (int r = 0; r < reps; r++) {
        one[r] = bwrap_burst_ms(1, e->envp, blog);
        many[r] = bwrap_burst_ms(n, e->envp, blog);
        unsigned base = count_in_file(dlog, "connected to domain");
        pid_t pids[100];
        bool done[100] = {false};
        int left = n;
        double t_first = NAN, t_agents = NAN, t_guids = NAN;
        double cpu0 = cpuacct_s(acct), cpu1 = NAN;
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < n; i++) {
            g_autofree char *name = g_strdup_printf("burst%d", i + 1);
            const char *argv[] = {start, name, NULL};
            pids[i] = spawn_async(argv, e->envp, blog);
        }
        while (left > 0 || isnan(t_guids)) {
            for (int i = 0; i < n; i++) {
                int st;
                if (done[i] || waitpid(pids[i], &st, WNOHANG) != pids[i])
                    continue;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                    die("qvm-start burst%d failed (status 0x%x); log %s", i + 1, st, blog);
                done[i] = true;
                double ms = (double)(bench_now_ns() - t0) / 1e6;
                if (isnan(t_first))
                    t_first = ms;
                if (--left == 0)
                    t_agents = ms;
            }
            if (isnan(t_guids) && count_in_file(dlog, "connected to domain") >= base + (unsigned)n) {
                t_guids = (double)(bench_now_ns() - t0) / 1e6;
                cpu1 = cpuacct_s(acct);
            }
            if (bench_now_ns() - t0 > 180000000000ull)
                die("burst: %d qvm-start still running or guids missing after 180 s; logs %s, %s", left, blog,
                    dlog);
            g_usleep(2000);
        }
        first[r] = t_first;
        agents[r] = t_agents;
        guids[r] = t_guids;
        cpu[r] = (cpu1 - cpu0) * 1000.0;
        printf("| %d | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.0f ms | %.1f |\n", r + 1, one[r],
               many[r], t_first, t_agents, t_guids, cpu[r], bench_loadavg());
        fflush(stdout);
        for (int i = 0; i < n; i++) {
            g_autofree char *name = g_strdup_printf("burst%d", i + 1);
            cli(e, blog, "qvm-kill", name, NULL);
        }
        g_usleep(1000 * 1000);
    }
    printf("\nmedians: 1 bwrap %.1f ms; %d bwraps %.1f ms; first agent %.1f ms; all agents %.1f ms (%.0f x "
           "one bwrap); all guids "
           "%.1f ms (%.0f x one bwrap)\n",
           median_ms(one, reps), n, median_ms(many, reps), median_ms(first, reps), median_ms(agents, reps),
           median_ms(agents, reps) / median_ms(one, reps), median_ms(guids, reps),
           median_ms(guids, reps) / median_ms(one, reps));
    if (acct)
        printf(
            "CPU from the first qvm-start to the last guid connected: median %.0f ms (bulkheadd, its guids, "
            "the qubes; not Xvfb nor the qvm-start processes): on %u CPUs no less than %.0f ms of wall "
            "time\n",
            median_ms(cpu, reps), g_get_num_processors(), median_ms(cpu, reps) / g_get_num_processors());
    cpuacct_leave(acct, e->daemon);
    return 0;
}

int main(int argc, char **argv)
{
    g_autofree char *counts_s = g_strdup("1,10,20");
    g_autofree char *out_dir = NULL;
    int burst_n = 0, burst_reps = 5;
    GOptionEntry entries[] = {
        {"counts", 0, 0, G_OPTION_ARG_STRING, &counts_s, "Running qubes to measure at (default 1,10,20)",
         "N,..."},
        {"burst", 0, 0, G_OPTION_ARG_INT, &burst_n,
         "Instead: start N qubes at once, time to every agent and guid (bench/RESULTS.md)", "N"},
        {"reps", 0, 0, G_OPTION_ARG_INT, &burst_reps, "Repetitions of --burst (default 5)", "N"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, "Output directory (default bench/out)", "DIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— dom0 memory per running qube");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "bench-dom0-memory: %s\n", error->message);
        return 2;
    }
    int counts[MAX_COUNTS], n_counts = 0;
    g_auto(GStrv) cv = g_strsplit(counts_s, ",", -1);
    for (size_t i = 0; cv[i] && n_counts < MAX_COUNTS; i++) {
        int c = atoi(cv[i]);
        if (c < 1 || c > 100 || (n_counts && c <= counts[n_counts - 1])) {
            fprintf(stderr, "bench-dom0-memory: --counts wants increasing numbers 1..100\n");
            return 2;
        }
        counts[n_counts++] = c;
    }
    if (n_counts == 0) {
        fprintf(stderr, "bench-dom0-memory: --counts is empty\n");
        return 2;
    }
    if (geteuid() != 0) {
        /* The sandbox backend as root: idmapped layers, a host uid per qube. */
        printf("bench-dom0-memory: skipped: needs root\n");
        return 0;
    }
    if (!out_dir)
        out_dir = g_build_filename(BH_SOURCE_ROOT, "bench", "out", NULL);
    g_mkdir_with_parents(out_dir, 0755);

    struct env e = {.dbus = -1, .xvfb = -1, .daemon = -1};
    the_env = &e;
    signal(SIGPIPE, SIG_IGN);
    double load_start = bench_loadavg();
    setup(&e);
    fprintf(stderr, "bench-dom0-memory: bulkheadd up (load %.2f)\n", bench_loadavg());
    if (burst_n > 0) {
        if (burst_n > 100)
            die("--burst takes 1..100");
        int rc = run_burst(&e, burst_n, burst_reps);
        teardown(&e);
        return rc;
    }

    /* Idle qubes without network, started one after another. */
    g_autofree char *mlog = g_build_filename(e.dir, "mem.log", NULL);
    struct mem base, mem[MAX_COUNTS];
    g_usleep(1000 * 1000);
    measure_memory(&e, &base);
    int running = 0;
    for (int c = 0; c < n_counts; c++) {
        for (; running < counts[c]; running++) {
            g_autofree char *name = g_strdup_printf("mem%d", running + 1);
            cli(&e, mlog, "qvm-create", "-l", "gray", "--prop", "netvm=", name, NULL);
            cli(&e, mlog, "qvm-start", name, NULL);
        }
        g_usleep(2000 * 1000); /* guids connect, settle */
        measure_memory(&e, &mem[c]);
        if (mem[c].n_guid < (unsigned)running + base.n_guid)
            die("%d qubes running but only %u guids", running, mem[c].n_guid);
        fprintf(stderr, "%d running: dom0 %.1f MiB (%.2f MiB per qube), in qubes %.1f MiB\n", running,
                dom0_total(&mem[c]), (dom0_total(&mem[c]) - dom0_total(&base)) / running, mem[c].inqube);
    }
    double load_end = bench_loadavg();
    teardown(&e);

    struct utsname un;
    uname(&un);
    g_autofree char *model = bench_cpu_model();
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *date = g_date_time_format_iso8601(now);
    GString *j = g_string_new("{\n  \"bench\": \"dom0-memory\",\n");
    g_string_append_printf(j,
                           "  \"date\": \"%s\",\n  \"machine\": {\"nproc\": %ld, \"cpu\": \"%s\", "
                           "\"kernel\": \"%s %s\", \"load_start\": %.2f, \"load_end\": %.2f},\n",
                           date, sysconf(_SC_NPROCESSORS_ONLN), model, un.sysname, un.release, load_start,
                           load_end);
    g_string_append(j, "  \"memory\": [\n");
    json_mem(j, 0, &base, &base, false);
    for (int c = 0; c < n_counts; c++)
        json_mem(j, counts[c], &mem[c], &base, c + 1 == n_counts);
    g_string_append(j, "  ]\n}\n");
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    g_autofree char *name = g_strdup_printf("dom0-memory-%s.json", stamp);
    g_autofree char *path = g_build_filename(out_dir, name, NULL);
    g_autofree char *latest = g_build_filename(out_dir, "dom0-memory-latest.json", NULL);
    if (!g_file_set_contents(path, j->str, -1, &error) || !g_file_set_contents(latest, j->str, -1, &error)) {
        fprintf(stderr, "bench-dom0-memory: %s\n", error->message);
        return 1;
    }
    fprintf(stderr, "bench-dom0-memory: results in %s\n", path);

    printf("Machine: %ld CPUs (%s), %s %s; load average %.2f at start, %.2f at end.\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, un.sysname, un.release, load_start, load_end);
    printf("| running qubes | dom0 PSS | bulkheadd | guids | bwrap (host side) | other | dom0 per qube | "
           "in qubes | in qubes per qube |\n|---|---|---|---|---|---|---|---|---|\n");
    printf("| 0 (+ sys-net, sys-firewall) | %.1f MiB | %.1f | %.1f (%u) | %.1f (%u) | %.1f | – | %.1f MiB | "
           "– |\n",
           dom0_total(&base), base.daemon, base.guid, base.n_guid, base.bwrap, base.n_bwrap, base.other,
           base.inqube);
    for (int c = 0; c < n_counts; c++) {
        const struct mem *m = &mem[c];
        printf(
            "| %d | %.1f MiB | %.1f | %.1f (%u) | %.1f (%u) | %.1f | **%.2f MiB** | %.1f MiB | %.2f MiB |\n",
            counts[c], dom0_total(m), m->daemon, m->guid, m->n_guid, m->bwrap, m->n_bwrap, m->other,
            (dom0_total(m) - dom0_total(&base)) / counts[c], m->inqube,
            (m->inqube - base.inqube) / counts[c]);
    }
    g_string_free(j, TRUE);
    g_strfreev(e.envp);
    return 0;
}
