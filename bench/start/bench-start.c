/* bench-start.c — bench/start: how fast a qube starts, how fast a disposable
 * shows its first frame, and how much dom0 memory each running qube costs,
 * on the sandbox backend, with a plain bubblewrap start as the floor in the
 * same run. Method and figures: bench/RESULTS.md.
 *
 *   bench-start [--reps N] [--counts 1,10,20] [--out DIR]
 *
 * Everything runs privately: a temporary directory holds XDG_RUNTIME_DIR, the
 * state directory and a session bus of its own; Xvfb is guid's display;
 * bulkheadd runs with --backend sandbox and BH_GUID_TRACE_FRAMES pointing at
 * a directory, so every guid it starts logs when it painted each frame.
 *
 * Measured (wall clock, CLOCK_MONOTONIC, from just before the command is
 * spawned):
 *   floor       `bwrap --unshare-all … true` until it exits;
 *   start       `qvm-start work` until it exits (it returns once the qube's
 *               RPC agent answers: the sandbox backend's "running");
 *   dispvm      `qvm-run --dispvm=default-dvm -p 'timeout … weston-simple-shm'`
 *               until the disposable's guid painted its first frame;
 *   memory      proportional set size (PSS) of bulkheadd and everything it
 *               started, split into dom0 processes (bulkheadd, guid, the
 *               host side of bwrap) and processes inside qubes (another pid
 *               namespace), with 0, then N idle qubes (no network, no
 *               windows) running; per qube = growth over the 0 case / N.
 *
 * Owns: its processes and temporary directory. Must never: touch the user's
 * bus, display or state directory, or report a run whose command failed. */
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

#include "bench-proc.h"
#include "config.h"

#define MAX_COUNTS 8

struct env {
    char dir[256];
    char *run_dir, *state, *traces, *bus, *cli;
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
    fprintf(stderr, "bench-start: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    stop_all(the_env);
    exit(1);
}

/* ---- timed commands -------------------------------------------------------------- */

/* Runs argv (PATH searched) with envp, output to log (appended), and returns
 * its wall time in ns; *status gets the wait status. posix_spawn: no GLib
 * child set-up between the clock and the exec. */
static uint64_t run_timed(const char *const *argv, char *const *envp, const char *log, int *status)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    uint64_t t0 = bench_now_ns();
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die("cannot run %s: %s", argv[0], g_strerror(rc));
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
    snprintf(e->dir, sizeof(e->dir), "%s/bh-bench-start-XXXXXX", g_get_tmp_dir());
    if (!mkdtemp(e->dir))
        die("mkdtemp: %s", g_strerror(errno));
    chmod(e->dir, 0700);
    e->run_dir = g_build_filename(e->dir, "run", NULL);
    e->state = g_build_filename(e->dir, "state", NULL);
    e->traces = g_build_filename(e->dir, "traces", NULL);
    e->bus = g_build_filename(e->dir, "bus", NULL);
    g_mkdir_with_parents(e->run_dir, 0700);
    g_mkdir_with_parents(e->traces, 0700);

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
    e->envp = g_environ_setenv(e->envp, "BH_GUID_TRACE_FRAMES", e->traces, TRUE);

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
        fprintf(stderr, "bench-start: kept %s\n", e->dir);
}

/* ---- measurements ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct series {
    const char *name;
    uint64_t v[64];
    unsigned n;
};

static double med_ms(struct series *s)
{
    if (!s->n)
        return NAN;
    qsort(s->v, s->n, sizeof(s->v[0]), cmp_u64);
    return (s->n % 2 ? (double)s->v[s->n / 2] : ((double)s->v[s->n / 2 - 1] + (double)s->v[s->n / 2]) / 2) / 1e6;
}

static double min_ms(const struct series *s)
{
    uint64_t m = UINT64_MAX;
    for (unsigned i = 0; i < s->n; i++)
        m = s->v[i] < m ? s->v[i] : m;
    return s->n ? (double)m / 1e6 : NAN;
}

static double max_ms(const struct series *s)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < s->n; i++)
        m = s->v[i] > m ? s->v[i] : m;
    return s->n ? (double)m / 1e6 : NAN;
}

static void floor_bwrap(struct env *e, struct series *s, int reps)
{
    g_autofree char *log = g_build_filename(e->dir, "bwrap.log", NULL);
    /* The namespaces a sandbox qube gets, /usr read-only, nothing else. */
    const char *argv[] = {"bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
                          "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink",
                          "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                          "/usr/bin/true", NULL};
    for (int i = 0; i < reps && s->n < 64; i++) {
        int st;
        uint64_t ns = run_timed(argv, e->envp, log, &st);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("bwrap failed (status 0x%x); see %s", st, log);
        s->v[s->n++] = ns;
    }
}

static void start_work(struct env *e, struct series *start, struct series *stop, int reps)
{
    g_autofree char *log = g_build_filename(e->dir, "start.log", NULL);
    for (int i = 0; i < reps && start->n < 64; i++) {
        start->v[start->n++] = cli(e, log, "qvm-start", "work", NULL);
        stop->v[stop->n++] = cli(e, log, "qvm-shutdown", "--wait", "work", NULL);
    }
}

/* The names of traces/<prefix>*.frames files. */
static GPtrArray *trace_files(struct env *e, const char *prefix)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(e->traces, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        if (g_str_has_prefix(name, prefix) && g_str_has_suffix(name, ".frames"))
            g_ptr_array_add(a, g_strdup(name));
    return a;
}

static gboolean in_list(GPtrArray *a, const char *name)
{
    for (guint i = 0; i < a->len; i++)
        if (strcmp(a->pdata[i], name) == 0)
            return TRUE;
    return FALSE;
}

/* The first painted frame of a disposable started now: the first line of
 * the trace its guid writes when it exits. */
static void dispvm_first_frame(struct env *e, struct series *first, struct series *total, int reps)
{
    g_autofree char *log = g_build_filename(e->dir, "dispvm.log", NULL);
    for (int i = 0; i < reps && first->n < 64; i++) {
        g_autoptr(GPtrArray) before = trace_files(e, "disp");
        uint64_t t0 = bench_now_ns();
        total->v[total->n++] = cli(e, log, "qvm-run", "--dispvm=default-dvm", "-p",
                                   "timeout -s INT 0.5 weston-simple-shm || true", NULL);
        uint64_t end = bench_now_ns() + 30000000000ull, painted = 0;
        while (!painted) {
            g_autoptr(GPtrArray) now = trace_files(e, "disp");
            for (guint k = 0; k < now->len && !painted; k++) {
                if (in_list(before, now->pdata[k]))
                    continue;
                g_autofree char *path = g_build_filename(e->traces, now->pdata[k], NULL);
                g_autofree char *text = NULL;
                unsigned win, serial, p0, p1;
                unsigned long long ns;
                if (g_file_get_contents(path, &text, NULL, NULL) &&
                    sscanf(text, "%u %u %x %x %llu", &win, &serial, &p0, &p1, &ns) == 5)
                    painted = ns;
            }
            if (!painted && bench_now_ns() > end)
                die("the disposable's guid left no frame trace in %s", e->traces);
            if (!painted)
                g_usleep(20 * 1000);
        }
        if (painted < t0)
            die("a frame painted before the disposable was asked for");
        first->v[first->n++] = painted - t0;
    }
}

struct mem {
    double daemon, guid, bwrap, other, inqube; /* MiB */
    unsigned n_guid, n_bwrap, n_other, n_inqube;
};

static double dom0_total(const struct mem *m)
{
    return m->daemon + m->guid + m->bwrap + m->other;
}

/* PSS of bulkheadd and its descendants, by kind. */
static void measure_memory(struct env *e, struct mem *m)
{
    char self_ns[64] = "";
    ssize_t n = readlink("/proc/self/ns/pid", self_ns, sizeof(self_ns) - 1);
    self_ns[n > 0 ? n : 0] = '\0';
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
    memset(m, 0, sizeof(*m));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, parent);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        int pid = GPOINTER_TO_INT(k), p = pid;
        for (int depth = 0; p > 1 && p != e->daemon && depth < 64; depth++)
            p = GPOINTER_TO_INT(g_hash_table_lookup(parent, GINT_TO_POINTER(p)));
        if (p != e->daemon)
            continue;
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
        } else if (comm && strcmp(comm, "bulkhead-guid") == 0) {
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

static void json_series(GString *j, const char *key, struct series *s, bool last)
{
    g_string_append_printf(j, "    \"%s\": {\"n\": %u, \"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, "
                              "\"runs_ms\": [",
                           key, s->n, med_ms(s), min_ms(s), max_ms(s));
    for (unsigned i = 0; i < s->n; i++)
        g_string_append_printf(j, "%s%.3f", i ? ", " : "", (double)s->v[i] / 1e6);
    g_string_append_printf(j, "]}%s\n", last ? "" : ",");
}

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

int main(int argc, char **argv)
{
    int reps = 10;
    g_autofree char *counts_s = g_strdup("1,10,20");
    g_autofree char *out_dir = NULL;
    GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &reps, "Repetitions of each timing (default 10)", "N"},
        {"counts", 0, 0, G_OPTION_ARG_STRING, &counts_s, "Running qubes for the memory figures", "N,..."},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, "Output directory (default bench/out)", "DIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— qube start, disposable first frame, memory");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "bench-start: %s\n", error->message);
        return 2;
    }
    int counts[MAX_COUNTS], n_counts = 0;
    g_auto(GStrv) cv = g_strsplit(counts_s, ",", -1);
    for (size_t i = 0; cv[i] && n_counts < MAX_COUNTS; i++) {
        int c = atoi(cv[i]);
        if (c < 1 || c > 100 || (n_counts && c <= counts[n_counts - 1])) {
            fprintf(stderr, "bench-start: --counts wants increasing numbers 1..100\n");
            return 2;
        }
        counts[n_counts++] = c;
    }
    if (reps < 1 || reps > 64 || n_counts == 0) {
        fprintf(stderr, "bench-start: bad option (see --help)\n");
        return 2;
    }
    if (!out_dir)
        out_dir = g_build_filename(BH_SOURCE_ROOT, "bench", "out", NULL);
    g_mkdir_with_parents(out_dir, 0755);

    struct env e = {.dbus = -1, .xvfb = -1, .daemon = -1};
    the_env = &e;
    signal(SIGPIPE, SIG_IGN);
    double load_start = bench_loadavg();
    setup(&e);
    fprintf(stderr, "bench-start: bulkheadd up (load %.2f)\n", bench_loadavg());

    /* Timings take turns, so load from elsewhere hits them alike. */
    struct series floor = {"bwrap true"}, start = {"qvm-start"}, stop = {"qvm-shutdown --wait"};
    struct series first = {"dispvm first frame"}, disp_total = {"qvm-run --dispvm total"};
    for (int r = 0; r < reps; r++) {
        floor_bwrap(&e, &floor, 1);
        start_work(&e, &start, &stop, 1);
        dispvm_first_frame(&e, &first, &disp_total, 1);
        fprintf(stderr, "rep %d: bwrap %.1f ms, qvm-start %.1f ms, disposable first frame %.1f ms (load %.2f)\n", r,
                (double)floor.v[r] / 1e6, (double)start.v[r] / 1e6, (double)first.v[r] / 1e6, bench_loadavg());
    }

    /* Memory: idle qubes without network, started one after another. */
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
        fprintf(stderr, "%d running: dom0 %.1f MiB (%.2f MiB per qube), in qubes %.1f MiB\n", running,
                dom0_total(&mem[c]), (dom0_total(&mem[c]) - dom0_total(&base)) / running, mem[c].inqube);
    }
    double load_end = bench_loadavg();
    teardown(&e);

    /* Results. */
    struct utsname un;
    uname(&un);
    g_autofree char *model = bench_cpu_model();
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *date = g_date_time_format_iso8601(now);
    GString *j = g_string_new("{\n  \"bench\": \"start\",\n");
    g_string_append_printf(j, "  \"date\": \"%s\",\n  \"machine\": {\"nproc\": %ld, \"cpu\": \"%s\", "
                              "\"kernel\": \"%s %s\", \"load_start\": %.2f, \"load_end\": %.2f},\n",
                           date, sysconf(_SC_NPROCESSORS_ONLN), model, un.sysname, un.release, load_start,
                           load_end);
    g_string_append_printf(j, "  \"reps\": %d,\n  \"timings\": {\n", reps);
    json_series(j, "bwrap_true", &floor, false);
    json_series(j, "qvm_start_to_agent_ready", &start, false);
    json_series(j, "qvm_shutdown_wait", &stop, false);
    json_series(j, "dispvm_to_first_frame", &first, false);
    json_series(j, "dispvm_qvm_run_total", &disp_total, true);
    g_string_append(j, "  },\n  \"memory\": [\n");
    json_mem(j, 0, &base, &base, false);
    for (int c = 0; c < n_counts; c++)
        json_mem(j, counts[c], &mem[c], &base, c + 1 == n_counts);
    g_string_append(j, "  ]\n}\n");
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    g_autofree char *name = g_strdup_printf("start-%s.json", stamp);
    g_autofree char *path = g_build_filename(out_dir, name, NULL);
    g_autofree char *latest = g_build_filename(out_dir, "start-latest.json", NULL);
    if (!g_file_set_contents(path, j->str, -1, &error) || !g_file_set_contents(latest, j->str, -1, &error)) {
        fprintf(stderr, "bench-start: %s\n", error->message);
        return 1;
    }
    fprintf(stderr, "bench-start: results in %s\n", path);

    double fl = med_ms(&floor), st = med_ms(&start), fi = med_ms(&first);
    printf("Machine: %ld CPUs (%s), %s %s; load average %.2f at start, %.2f at end; %d repetitions.\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, un.sysname, un.release, load_start, load_end, reps);
    printf("| timing | median | min | max | × bwrap floor |\n|---|---|---|---|---|\n");
    printf("| `bwrap --unshare-all … true` (floor) | %.1f ms | %.1f ms | %.1f ms | 1 |\n", fl, min_ms(&floor),
           max_ms(&floor));
    printf("| `qvm-start work` → agent ready | %.1f ms | %.1f ms | %.1f ms | %.1f |\n", st, min_ms(&start),
           max_ms(&start), st / fl);
    printf("| `qvm-run --dispvm` → first frame painted | %.1f ms | %.1f ms | %.1f ms | %.1f |\n", fi,
           min_ms(&first), max_ms(&first), fi / fl);
    printf("| `qvm-run --dispvm` total (0.5 s app, teardown) | %.1f ms | %.1f ms | %.1f ms | |\n",
           med_ms(&disp_total), min_ms(&disp_total), max_ms(&disp_total));
    printf("| `qvm-shutdown --wait work` | %.1f ms | %.1f ms | %.1f ms | |\n", med_ms(&stop), min_ms(&stop),
           max_ms(&stop));
    printf("\n| running qubes | dom0 PSS | bulkheadd | guids | bwrap (host side) | other | dom0 per qube | "
           "in qubes | in qubes per qube |\n|---|---|---|---|---|---|---|---|---|\n");
    printf("| 0 (+ sys-net, sys-firewall) | %.1f MiB | %.1f | %.1f (%u) | %.1f (%u) | %.1f | – | %.1f MiB | – |\n",
           dom0_total(&base), base.daemon, base.guid, base.n_guid, base.bwrap, base.n_bwrap, base.other,
           base.inqube);
    for (int c = 0; c < n_counts; c++) {
        const struct mem *m = &mem[c];
        printf("| %d | %.1f MiB | %.1f | %.1f (%u) | %.1f (%u) | %.1f | **%.2f MiB** | %.1f MiB | %.2f MiB |\n",
               counts[c], dom0_total(m), m->daemon, m->guid, m->n_guid, m->bwrap, m->n_bwrap, m->other,
               (dom0_total(m) - dom0_total(&base)) / counts[c], m->inqube, (m->inqube - base.inqube) / counts[c]);
    }
    g_string_free(j, TRUE);
    g_strfreev(e.envp);
    return 0;
}
