/* frames-paths.c — running one case of bench/frames on one path: start the
 * path's processes in a private XDG_RUNTIME_DIR, let the bench client draw,
 * measure a window of `seconds` after `warmup`, then collect the client's
 * commit log and the presenting side's times.
 *
 * Paths: the memcpy floor (in this process); gui-agent with this process as
 * dom0 (the test-only dom0 of tests/gui-agent-dom0, releasing each frame as
 * soon as it has read its sequence number); gui-agent with bulkhead-guid on
 * a private Xvfb (GTK's cairo renderer; guid's BH_GUID_TRACE_FRAMES log says
 * when each frame was painted); waypipe (server + client) into a headless
 * weston with the pixman renderer; agent-x11: the same frames from an X11
 * client (bh-bench-xclient) through the agent's own Xwayland (`--x11` on a
 * free display number) to this process as dom0, Xwayland's CPU counted.
 *
 * Owns: the processes and the temporary directory of the case being run.
 * Must never: leave a process or directory behind, or count a frame that was
 * not presented inside the window. */
#include "bench-frames.h"

#include <errno.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-frames-common.h"
#include "bench-proc.h"
#include "bh-test-dom0.h"

#define AGENT_DOMID   7
#define MAX_PROCS     6
#define START_TIMEOUT 20000
/* Each measured process is measured with its process group (waypipe works
 * in forked children), less the bench client that waypipe server starts. */
#define CLIENT_COMM "bh-bench-client"

const char *bench_path_name(enum bench_path p)
{
    static const char *const names[PATH_COUNT] = {"floor",   "agent",        "guid",     "guid-gtk",
                                                  "waypipe", "waypipe-none", "agent-x11"};
    return (unsigned)p < PATH_COUNT ? names[p] : "?";
}

struct present {
    uint32_t seq;
    uint64_t ns;
};

struct run {
    const struct bench_opts *o;
    const struct bench_case *c;
    struct bench_result *r;
    char dir[256];
    char client_log[320];
    char ready[320];             /* the client creates it on its first frame callback */
    pid_t procs[MAX_PROCS];      /* stopped in reverse order */
    bool single[BENCH_MAX_COMP]; /* measure that process alone, not its group */
    char logs[MAX_PROCS][320];
    unsigned n_procs;
    pid_t client;
    struct bh_tdom0 *dom0; /* PATH_AGENT */
    uint64_t next_release; /* PATH_AGENT with --agent-hz: the next tick, ns */
    GArray *presents;      /* struct present, from the presenting side */
    struct bh_bench_rect rect;
};

static void fail(struct run *run, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void fail(struct run *run, const char *fmt, ...)
{
    va_list ap;
    if (!run->r->ok && run->r->error[0])
        return; /* keep the first reason */
    va_start(ap, fmt);
    vsnprintf(run->r->error, sizeof(run->r->error), fmt, ap);
    va_end(ap);
    run->r->ok = false;
}

static void dump_log(const char *path)
{
    g_autofree char *text = NULL;
    gsize len;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return;
    const char *tail = len > 2000 ? text + len - 2000 : text;
    g_printerr("---- %s ----\n%s---- end ----\n", path, tail);
}

static pid_t start(struct run *run, const char *const *argv, const char *const *env)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *base = g_path_get_basename(argv[0]);
    if (run->n_procs >= MAX_PROCS)
        return -1;
    char *log = run->logs[run->n_procs];
    snprintf(log, sizeof(run->logs[0]), "%s/%s-%u.log", run->dir, base, run->n_procs);
    pid_t pid = bench_proc_spawn(argv, env, log, &error);
    if (pid < 0) {
        fail(run, "cannot start %s: %s", argv[0], error->message);
        return -1;
    }
    run->procs[run->n_procs++] = pid;
    return pid;
}

/* pid ended and was reaped: never signal that number again. */
static void forget(struct run *run, pid_t pid)
{
    for (unsigned i = 0; i < run->n_procs; i++)
        if (run->procs[i] == pid)
            run->procs[i] = -1;
    if (run->client == pid)
        run->client = -1;
}

static bool wait_socket(struct run *run, const char *name, pid_t owner)
{
    g_autofree char *path = g_build_filename(run->dir, name, NULL);
    if (bench_wait_path(path, owner, START_TIMEOUT))
        return true;
    fail(run, "%s did not appear", path);
    return false;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void client_argv(struct run *run, const char **argv, char bufs[4][32], double extra_s)
{
    const struct bench_case *c = run->c;
    snprintf(bufs[0], 32, "%d", c->width);
    snprintf(bufs[1], 32, "%d", c->height);
    snprintf(bufs[2], 32, "%.6f", c->damage);
    /* The client ends on its own after the window (plus slack), so its log
     * is complete whoever its parent is (waypipe starts it, not us). */
    snprintf(bufs[3], 32, "%.3f", run->o->warmup + run->o->seconds + extra_s);
    size_t n = 0;
    argv[n++] = run->o->client;
    argv[n++] = "--width";
    argv[n++] = bufs[0];
    argv[n++] = "--height";
    argv[n++] = bufs[1];
    argv[n++] = "--damage";
    argv[n++] = bufs[2];
    argv[n++] = "--seconds";
    argv[n++] = bufs[3];
    argv[n++] = "--log";
    argv[n++] = run->client_log;
    argv[n++] = "--ready";
    argv[n++] = run->ready;
    argv[n] = NULL;
}

/* ---- measuring ---------------------------------------------------------------- */

typedef void (*pump_fn)(struct run *run, int timeout_ms);

struct window {
    uint64_t t0, t1;
    int64_t cpu0[BENCH_MAX_COMP], cpu1[BENCH_MAX_COMP];
    int64_t tick0[BENCH_MAX_COMP], tick1[BENCH_MAX_COMP];
};

static void wait_until(struct run *run, uint64_t end, pump_fn pump)
{
    uint64_t now;
    while ((now = bench_now_ns()) < end) {
        int ms = (int)((end - now) / 1000000u) + 1;
        if (pump)
            pump(run, ms > 20 ? 20 : ms);
        else
            g_usleep((gulong)(ms > 20 ? 20 : ms) * 1000);
    }
}

/* Waits for the client's first frame, then the warm-up, then measures the
 * window. false if the first frame never came. */
static bool measure(struct run *run, const pid_t *pids, struct window *w, pump_fn pump)
{
    struct bench_result *r = run->r;
    uint64_t end = bench_now_ns() + (uint64_t)START_TIMEOUT * 1000000u;
    while (access(run->ready, F_OK) != 0) {
        if (bench_now_ns() >= end || !bench_proc_alive(pids[0])) {
            fail(run, "the client never got its first frame callback");
            return false;
        }
        if (pump)
            pump(run, 10);
        else
            g_usleep(10 * 1000);
    }
    /* The client's --seconds clock started at about this time too. */
    uint64_t started = bench_now_ns();
    wait_until(run, started + (uint64_t)(run->o->warmup * 1e9), pump);
    r->load_before = bench_loadavg();
    w->t0 = bench_now_ns();
    for (unsigned i = 0; i < r->n_comp; i++) {
        w->cpu0[i] = run->single[i] ? bench_proc_cpu_ns(pids[i]) : bench_group_cpu_ns(pids[i], CLIENT_COMM);
        w->tick0[i] = run->single[i] ? bench_proc_cpu_ticks_ns(pids[i])
                                     : bench_group_cpu_ticks_ns(pids[i], CLIENT_COMM);
    }
    wait_until(run, w->t0 + (uint64_t)(run->o->seconds * 1e9), pump);
    w->t1 = bench_now_ns();
    for (unsigned i = 0; i < r->n_comp; i++) {
        w->cpu1[i] = run->single[i] ? bench_proc_cpu_ns(pids[i]) : bench_group_cpu_ns(pids[i], CLIENT_COMM);
        w->tick1[i] = run->single[i] ? bench_proc_cpu_ticks_ns(pids[i])
                                     : bench_group_cpu_ticks_ns(pids[i], CLIENT_COMM);
        r->comp_pss_mib[i] =
            (double)(run->single[i] ? bench_proc_pss(pids[i]) : bench_group_pss(pids[i], CLIENT_COMM)) /
            (1024.0 * 1024.0);
    }
    r->load_after = bench_loadavg();
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double percentile(double *sorted, size_t n, double p)
{
    /* Nearest rank: the smallest value with at least p of the samples at or
     * below it. */
    size_t k = (size_t)ceil(p * (double)n);
    return sorted[k ? k - 1 : 0];
}

/* Reads the client's log: commit times by sequence number, and (when
 * use_feedback) the presentation feedback as the presents. */
static bool read_client_log(struct run *run, GArray *commits, bool use_feedback)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(run->client_log, &text, NULL, &error)) {
        fail(run, "no client log: %s", error->message);
        return false;
    }
    int clock = -1;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        unsigned seq;
        unsigned long long ns;
        if (sscanf(line, "clock %d", &clock) == 1)
            continue;
        if (sscanf(line, "c %u %llu", &seq, &ns) == 2) {
            if (seq >= commits->len)
                g_array_set_size(commits, seq + 1);
            g_array_index(commits, uint64_t, seq) = ns;
        } else if (use_feedback && sscanf(line, "p %u %llu", &seq, &ns) == 2) {
            struct present p = {seq, ns};
            g_array_append_val(run->presents, p);
        }
    }
    if (use_feedback && clock < 0) {
        fail(run, "the compositor offers no wp_presentation");
        return false;
    }
    return true;
}

static void compute(struct run *run, const struct window *w, bool use_feedback)
{
    struct bench_result *r = run->r;
    g_autoptr(GArray) commits = g_array_new(FALSE, TRUE, sizeof(uint64_t));
    if (!read_client_log(run, commits, use_feedback))
        return;
    g_autoptr(GArray) lat = g_array_new(FALSE, FALSE, sizeof(double));
    unsigned frames = 0;
    for (guint i = 0; i < run->presents->len; i++) {
        const struct present *p = &g_array_index(run->presents, struct present, i);
        if (p->ns < w->t0 || p->ns > w->t1)
            continue;
        frames++;
        /* 24-bit sequence numbers from pixels: the run is far shorter than
         * 2^24 frames, so they are the full numbers. */
        if (p->seq < commits->len && g_array_index(commits, uint64_t, p->seq)) {
            double ms = (double)(int64_t)(p->ns - g_array_index(commits, uint64_t, p->seq)) / 1e6;
            g_array_append_val(lat, ms);
        }
    }
    r->seconds = (double)(w->t1 - w->t0) / 1e9;
    r->frames = frames;
    r->fps = frames / r->seconds;
    if (frames == 0) {
        fail(run, "no frame was presented in the window");
        return;
    }
    double total = 0, all = 0;
    for (unsigned i = 0; i < r->n_comp; i++) {
        if (w->cpu0[i] < 0 || w->cpu1[i] < 0) {
            fail(run, "cannot read the CPU time of %s", r->comp_name[i]);
            return;
        }
        int64_t d = w->cpu1[i] - w->cpu0[i];
        int64_t dt = w->tick1[i] - w->tick0[i];
        /* schedstat misses threads that ended inside the window; the tick
         * count (10 ms resolution) does not. Trust the larger when they
         * disagree by more than the tick resolution. */
        if (dt > d + 2 * 10000000)
            d = dt;
        r->comp_cpu_ns[i] = (double)d / frames;
        if (r->comp_counted[i])
            total += (double)d;
        all += (double)d;
    }
    r->cpu_ns = total / frames;
    r->cpu_all_ns = all / frames;
    r->cpu_cores = total / 1e9 / r->seconds;
    r->lat_n = lat->len;
    if (lat->len) {
        qsort(lat->data, lat->len, sizeof(double), cmp_double);
        r->lat_p50_ms = percentile((double *)(void *)lat->data, lat->len, 0.50);
        r->lat_p99_ms = percentile((double *)(void *)lat->data, lat->len, 0.99);
    } else {
        r->lat_p50_ms = r->lat_p99_ms = NAN;
    }
    r->ok = true;
}

static bool setup(struct run *run)
{
    snprintf(run->dir, sizeof(run->dir), "%s/bh-bench-XXXXXX", g_get_tmp_dir());
    if (!mkdtemp(run->dir)) {
        fail(run, "mkdtemp: %s", g_strerror(errno));
        return false;
    }
    chmod(run->dir, 0700);
    snprintf(run->client_log, sizeof(run->client_log), "%s/client-frames.log", run->dir);
    snprintf(run->ready, sizeof(run->ready), "%s/client-ready", run->dir);
    run->presents = g_array_new(FALSE, FALSE, sizeof(struct present));
    return true;
}

static void teardown(struct run *run)
{
    if (run->client > 0) {
        bench_proc_stop(run->client, 3000);
        forget(run, run->client);
    }
    bh_tdom0_free(run->dom0);
    for (unsigned i = run->n_procs; i-- > 0;)
        bench_proc_stop(run->procs[i], 5000);
    if (!run->r->ok || run->o->verbose)
        for (unsigned i = 0; i < run->n_procs; i++)
            dump_log(run->logs[i]);
    if (run->presents)
        g_array_unref(run->presents);
    if (run->dir[0] && !g_getenv("BH_BENCH_KEEP"))
        rm_tree(run->dir);
}

/* ---- the memcpy floor ----------------------------------------------------------- */

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void run_floor(struct run *run)
{
    const struct bench_case *c = run->c;
    struct bench_result *r = run->r;
    size_t stride = (size_t)c->width * 4, size = stride * (size_t)c->height;
    /* Two source frames taking turns and a destination the size of the
     * window: as much memory traffic as the real copies, no cache tricks.
     * Page-aligned mappings like the real buffers (shm pools, memfds): with
     * malloc's heap offsets the same copy ran at half the speed. */
    size_t map_len = size * 3;
    uint8_t *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        fail(run, "mmap: %s", g_strerror(errno));
        return;
    }
    uint8_t *src = map, *dst = map + size * 2;
    for (size_t i = 0; i < size * 2; i++)
        src[i] = (uint8_t)(i * 2654435761u >> 13);
    memset(dst, 0, size);
    const struct bh_bench_rect *rc = &run->rect;
    size_t row = (size_t)rc->width * 4;
    r->load_before = bench_loadavg();
    uint64_t w0 = bench_now_ns(), c0 = thread_cpu_ns();
    uint64_t end = w0 + (uint64_t)(fmin(run->o->seconds, 1.0) * 1e9);
    unsigned n = 0;
    do {
        const uint8_t *s = src + (n & 1) * size;
        for (int y = rc->y; y < rc->y + rc->height; y++)
            memcpy(dst + (size_t)y * stride + (size_t)rc->x * 4, s + (size_t)y * stride + (size_t)rc->x * 4,
                   row);
        n++;
    } while (bench_now_ns() < end || n < 10);
    uint64_t c1 = thread_cpu_ns(), w1 = bench_now_ns();
    r->load_after = bench_loadavg();
    r->seconds = (double)(w1 - w0) / 1e9;
    r->frames = n;
    r->fps = n / r->seconds;
    r->n_comp = 1;
    r->comp_name[0] = "memcpy";
    r->comp_counted[0] = true;
    r->comp_cpu_ns[0] = (double)(c1 - c0) / n;
    r->cpu_ns = r->cpu_all_ns = r->comp_cpu_ns[0];
    r->cpu_cores = (double)(c1 - c0) / 1e9 / r->seconds;
    r->lat_p50_ms = r->lat_p99_ms = NAN;
    r->ok = true;
    munmap(map, map_len);
}

/* ---- gui-agent with the bench as dom0 ------------------------------------------ */

/* With --agent-hz, releases are paced like a display: at most one per tick
 * of a fixed grid, so the agent sleeps between frames as it does under guid.
 * Returns the pump's timeout: no longer than until the next tick. */
static int agent_pace(struct run *run, int timeout_ms)
{
    if (!(run->o->agent_hz > 0))
        return timeout_ms;
    uint64_t now = bench_now_ns();
    if (!run->next_release)
        run->next_release = now;
    if (run->next_release <= now) {
        struct bh_tdom0_win *w = bh_tdom0_find_shown(run->dom0, "bh-bench");
        return w && w->unreleased ? 0 : timeout_ms;
    }
    int ms = (int)((run->next_release - now + 999999u) / 1000000u);
    return ms < timeout_ms ? ms : timeout_ms;
}

static void agent_pump(struct run *run, int timeout_ms)
{
    struct bh_tdom0 *d = run->dom0;
    if (!d->alive) {
        g_usleep((gulong)timeout_ms * 1000);
        return;
    }
    bh_tdom0_pump(d, agent_pace(run, timeout_ms));
    struct bh_tdom0_win *w = bh_tdom0_find_shown(d, "bh-bench");
    if (!w || !w->unreleased)
        return;
    if (run->o->agent_hz > 0) {
        uint64_t now = bench_now_ns();
        if (now < run->next_release)
            return;
        while (run->next_release <= now)
            run->next_release += (uint64_t)(1e9 / run->o->agent_hz);
    }
    /* The agent does not touch the buffer until it is released, so these
     * pixels are the frame it announced. "Presented" here means: dom0 has
     * the frame's pixels. */
    uint32_t seq;
    if (bh_bench_seq_decode(bh_tdom0_pixel(w, (uint32_t)run->rect.x, (uint32_t)run->rect.y),
                            bh_tdom0_pixel(w, (uint32_t)run->rect.x + 1, (uint32_t)run->rect.y), &seq)) {
        struct present p = {seq, bench_now_ns()};
        g_array_append_val(run->presents, p);
    }
    bh_tdom0_release(d, w);
}

/* Starts the agent serving vchan directory dir/vchan as domain AGENT_DOMID
 * and Wayland socket dir/wl-bench (and X11 on :x11 when not NULL). */
static pid_t start_agent(struct run *run, const char *x11)
{
    g_autofree char *e_xdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", run->dir);
    g_autofree char *e_vdir = g_strdup_printf("BH_VCHAN_DIR=%s/vchan", run->dir);
    g_autofree char *e_dom = g_strdup_printf("BH_VCHAN_DOMID=%d", AGENT_DOMID);
    const char *agent_env[] = {e_xdg, e_vdir, e_dom, "BH_VCHAN_TRANSPORT=socket", NULL};
    const char *agent_argv[] = {run->o->agent, "--wayland-socket", "wl-bench", x11 ? "--x11" : NULL, x11,
                                NULL};
    pid_t agent = start(run, agent_argv, agent_env);
    return agent >= 0 && wait_socket(run, "wl-bench", agent) ? agent : -1;
}

/* Under ./test --sanitize: GTK and fontconfig keep allocations until exit
 * (as the display tests say), and the bench client does not tear its Wayland
 * objects down; leak checks stay on for the agent. "ASAN_OPTIONS=" when not
 * sanitized. */
static char *no_leak_checks(void)
{
    const char *asan = g_getenv("ASAN_OPTIONS");
    return asan ? g_strdup_printf("ASAN_OPTIONS=%s:detect_leaks=0", asan) : g_strdup("ASAN_OPTIONS=");
}

static pid_t start_client(struct run *run)
{
    g_autofree char *e_xdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", run->dir);
    g_autofree char *e_asan = no_leak_checks();
    const char *client_env[] = {e_xdg, "WAYLAND_DISPLAY=wl-bench", e_asan, NULL};
    const char *argv[16];
    char bufs[4][32];
    client_argv(run, argv, bufs, 1.0);
    return run->client = start(run, argv, client_env);
}

/* This process as domain 0 of the agent's vchan directory, releasing
 * frames itself. false (failed) if it cannot connect. */
static bool agent_dom0(struct run *run)
{
    char err[256];
    run->dom0 = bh_tdom0_connect(AGENT_DOMID, (uint32_t)run->c->width, (uint32_t)run->c->height,
                                 START_TIMEOUT, err, sizeof(err));
    if (!run->dom0) {
        fail(run, "dom0 side: %s", err);
        return false;
    }
    run->dom0->auto_release = false;
    return true;
}

/* Measures the window with dom0 releasing, then keeps releasing until the
 * client has ended on its own and written its log. */
static void agent_measure(struct run *run, const pid_t *pids)
{
    struct window w;
    if (!measure(run, pids, &w, agent_pump))
        return;
    while (bench_proc_alive(run->client) && bench_now_ns() < w.t1 + 10000000000u)
        agent_pump(run, 20);
    if (bench_proc_wait(run->client, 100) == -1) {
        fail(run, "the client did not end on time");
        return;
    }
    forget(run, run->client);
    if (!run->dom0->alive) {
        fail(run, "dom0 side: %s", run->dom0->error);
        return;
    }
    compute(run, &w, false);
}

/* The bench is domain 0 of the agent's vchan directory (set before the
 * agent starts). */
static void be_dom0(struct run *run)
{
    g_autofree char *vdir = g_build_filename(run->dir, "vchan", NULL);
    g_setenv("BH_VCHAN_DIR", vdir, TRUE);
    g_setenv("BH_VCHAN_DOMID", "0", TRUE);
    g_setenv("BH_VCHAN_TRANSPORT", "socket", TRUE);
}

static void run_agent(struct run *run)
{
    struct bench_result *r = run->r;
    be_dom0(run);
    pid_t agent = start_agent(run, NULL);
    if (agent < 0 || !agent_dom0(run) || start_client(run) < 0)
        return;
    pid_t pids[] = {agent};
    r->n_comp = 1;
    r->comp_name[0] = "agent";
    r->comp_counted[0] = true;
    agent_measure(run, pids);
}

/* ---- an X11 client through Xwayland and gui-agent, the bench as dom0 ----------- */

/* A display number nobody uses: no socket and no lock file. The agent
 * treats a socket already there as stale and replaces it, so a live one
 * must never be named. -1 if none is free. */
static int free_x_display(void)
{
    for (int n = 150; n < 400; n++) {
        char sock[64], lock[64];
        snprintf(sock, sizeof(sock), "/tmp/.X11-unix/X%d", n);
        snprintf(lock, sizeof(lock), "/tmp/.X%d-lock", n);
        if (access(sock, F_OK) != 0 && access(lock, F_OK) != 0)
            return n;
    }
    return -1;
}

/* The Xwayland the agent started, its child. */
static pid_t xwayland_of(pid_t agent)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)agent, (int)agent);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    g_auto(GStrv) kids = g_strsplit(g_strstrip(text), " ", -1);
    for (size_t i = 0; kids[i]; i++) {
        char comm_path[64];
        g_autofree char *comm = NULL;
        snprintf(comm_path, sizeof(comm_path), "/proc/%s/comm", kids[i]);
        if (g_file_get_contents(comm_path, &comm, NULL, NULL) && g_str_has_prefix(comm, "Xwayland"))
            return (pid_t)atoi(kids[i]);
    }
    return -1;
}

static void run_agent_x11(struct run *run)
{
    struct bench_result *r = run->r;
    char num[16], fps[32];
    int display = free_x_display();
    if (display < 0) {
        fail(run, "no free X display number");
        return;
    }
    snprintf(num, sizeof(num), "%d", display);
    be_dom0(run);
    pid_t agent = start_agent(run, num);
    if (agent < 0 || !agent_dom0(run))
        return;
    /* The X client at the rate dom0 releases (a display), else 60 Hz. */
    snprintf(fps, sizeof(fps), "%g", run->o->agent_hz > 0 ? run->o->agent_hz : 60.0);
    g_autofree char *e_xdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", run->dir);
    g_autofree char *e_display = g_strdup_printf("DISPLAY=:%d", display);
    g_autofree char *e_asan = no_leak_checks();
    const char *client_env[] = {e_xdg, e_display, "WAYLAND_DISPLAY=", e_asan, NULL};
    const char *argv[20];
    char bufs[4][32];
    client_argv(run, argv, bufs, 1.0);
    argv[0] = run->o->xclient;
    size_t n = 0;
    while (argv[n])
        n++;
    argv[n++] = "--fps";
    argv[n++] = fps;
    argv[n] = NULL;
    if ((run->client = start(run, argv, client_env)) < 0)
        return;
    /* Xwayland starts at the client's connection: wait for the first
     * frame, then find it among the agent's children. */
    uint64_t until = bench_now_ns() + (uint64_t)START_TIMEOUT * 1000000u;
    while (access(run->ready, F_OK) != 0 && bench_now_ns() < until && bench_proc_alive(run->client))
        agent_pump(run, 10);
    pid_t xw = xwayland_of(agent);
    if (xw < 0) {
        fail(run, "the agent started no Xwayland");
        return;
    }
    pid_t pids[] = {agent, xw};
    r->n_comp = 2;
    r->comp_name[0] = "agent";
    r->comp_name[1] = "Xwayland";
    r->comp_counted[0] = r->comp_counted[1] = true;
    run->single[0] = run->single[1] = true;
    agent_measure(run, pids);
}

/* ---- gui-agent and bulkhead-guid on Xvfb --------------------------------------- */

static pid_t start_xvfb(struct run *run, int *display)
{
    const struct bench_case *c = run->c;
    g_autoptr(GError) error = NULL;
    g_autofree char *log = g_build_filename(run->dir, "xvfb.log", NULL);
    /* Room for the window with guid's frame and title bar. */
    pid_t pid = bench_xvfb_start(c->width + 64, c->height + 128, log, display, &error);
    if (pid < 0) {
        fail(run, "%s", error->message);
        return -1;
    }
    if (run->n_procs >= MAX_PROCS) {
        bench_proc_stop(pid, 1000);
        fail(run, "too many processes");
        return -1;
    }
    snprintf(run->logs[run->n_procs], sizeof(run->logs[0]), "%s", log);
    run->procs[run->n_procs++] = pid;
    return pid;
}

/* guid's trace: "WINDOW SERIAL PIXEL0 PIXEL1 PAINTED_NS" per painted frame. */
static bool read_guid_trace(struct run *run, const char *path)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error)) {
        fail(run, "no guid frame trace (is BH_GUID_TRACE_FRAMES in this guid?): %s", error->message);
        return false;
    }
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        unsigned win, serial, p0, p1, seq;
        unsigned long long ns;
        if (sscanf(line, "%u %u %x %x %llu", &win, &serial, &p0, &p1, &ns) != 5 ||
            !bh_bench_seq_decode(p0, p1, &seq))
            continue;
        struct present p = {seq, ns};
        g_array_append_val(run->presents, p);
    }
    return true;
}

static void run_guid(struct run *run, bool through_gtk)
{
    struct bench_result *r = run->r;
    int display = -1;
    if (!run->o->guid || access(run->o->guid, X_OK) != 0) {
        fail(run, "bulkhead-guid is not built (%s)", run->o->guid ? run->o->guid : "no path");
        return;
    }
    pid_t xvfb = start_xvfb(run, &display);
    if (xvfb < 0)
        return;
    pid_t agent = start_agent(run, NULL);
    if (agent < 0)
        return;
    g_autofree char *trace = g_build_filename(run->dir, "guid-trace", NULL);
    g_autofree char *guid_run = g_build_filename(run->dir, "guid-run", NULL);
    g_mkdir(guid_run, 0700);
    g_autofree char *e_xdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", guid_run);
    g_autofree char *e_vdir = g_strdup_printf("BH_VCHAN_DIR=%s/vchan", run->dir);
    g_autofree char *e_disp = g_strdup_printf("DISPLAY=:%d", display);
    g_autofree char *e_trace = g_strdup_printf("BH_GUID_TRACE_FRAMES=%s", trace);
    g_autofree char *domid = g_strdup_printf("%d", AGENT_DOMID);
    /* As the display tests run it: X11, GTK's cairo renderer (Xvfb has no
     * GPU), no accessibility bus. */
    g_autofree char *e_asan = no_leak_checks();
    const char *env[] = {e_xdg,          e_vdir, e_disp,
                         e_trace,        e_asan, through_gtk ? "BH_GUID_XSHM=off" : "BH_GUID_XSHM=auto",
                         BENCH_GUID_ENV, NULL};
    const char *argv[] = {run->o->guid,        "--qube", "bench", "--label", "blue", "--domid", domid,
                          "--connect-timeout", "20",     NULL};
    pid_t guid = start(run, argv, env);
    if (guid < 0 || start_client(run) < 0)
        return;
    pid_t pids[] = {agent, guid, xvfb};
    r->n_comp = 3;
    r->comp_name[0] = "agent";
    r->comp_name[1] = "guid";
    r->comp_name[2] = "Xvfb";
    r->comp_counted[0] = r->comp_counted[1] = true;
    struct window w;
    if (!measure(run, pids, &w, NULL))
        return;
    if (bench_proc_wait(run->client, 10000) == -1) {
        fail(run, "the client did not end on time");
        return;
    }
    forget(run, run->client);
    /* guid writes its trace out when it ends. */
    int st = bench_proc_stop(guid, 5000);
    forget(run, guid);
    if (!WIFEXITED(st)) {
        fail(run, "bulkhead-guid did not exit cleanly (status 0x%x)", st);
        return;
    }
    if (read_guid_trace(run, trace))
        compute(run, &w, false);
}

/* ---- waypipe into a headless weston -------------------------------------------- */

static void run_waypipe(struct run *run, bool compress)
{
    struct bench_result *r = run->r;
    const struct bench_case *c = run->c;
    g_autofree char *e_xdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", run->dir);
    g_autofree char *w_arg = g_strdup_printf("--width=%d", c->width);
    g_autofree char *h_arg = g_strdup_printf("--height=%d", c->height + 64);
    g_autofree char *sock = g_build_filename(run->dir, "wp.sock", NULL);
    /* desktop-shell (kiosk-shell maps nothing without a seat) on an output
     * as wide as the window and 64 rows taller: its 32-row panel leaves the
     * window wholly visible, so weston composites every pixel of it, as guid
     * does. The headless output "presents" 16 ms after each repaint and
     * weston then waits for its repaint window: the default window (7 ms)
     * makes that a 39 Hz display; 16 ms makes it the 60 Hz one guid gets. */
    g_autofree char *ini = g_build_filename(run->dir, "weston.ini", NULL);
    g_autofree char *c_arg = g_strdup_printf("--config=%s", ini);
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(ini, "[core]\nrepaint-window=16\n", -1, &error)) {
        fail(run, "%s", error->message);
        return;
    }
    const char *weston_argv[] = {
        "weston",           "--backend=headless-backend.so", "--use-pixman", w_arg,           h_arg,
        "--socket=wl-peer", "--shell=desktop-shell.so",      c_arg,          "--idle-time=0", NULL};
    const char *weston_env[] = {e_xdg, "WAYLAND_DISPLAY=", "DISPLAY=", NULL};
    const char *comp = compress ? "lz4" : "none";
    const char *wpc_argv[] = {"waypipe", "--no-gpu", "-c", comp, "-s", sock, "client", NULL};
    const char *wpc_env[] = {e_xdg, "WAYLAND_DISPLAY=wl-peer", NULL};
    const char *wps_env[] = {e_xdg, "WAYLAND_DISPLAY=", NULL};
    const char *wps_argv[24] = {"waypipe", "--no-gpu", "-c", comp, "-s", sock, "server", "--"};
    char bufs[4][32];

    pid_t weston = start(run, weston_argv, weston_env);
    if (weston < 0 || !wait_socket(run, "wl-peer", weston))
        return;
    pid_t wpc = start(run, wpc_argv, wpc_env);
    if (wpc < 0 || !wait_socket(run, "wp.sock", wpc))
        return;
    client_argv(run, wps_argv + 8, bufs, 1.0);
    pid_t wps = start(run, wps_argv, wps_env);
    if (wps < 0)
        return;
    pid_t pids[] = {wps, wpc, weston};
    r->n_comp = 3;
    r->comp_name[0] = "waypipe-server";
    r->comp_name[1] = "waypipe-client";
    r->comp_name[2] = "weston";
    r->comp_counted[0] = r->comp_counted[1] = r->comp_counted[2] = true;
    struct window w;
    if (!measure(run, pids, &w, NULL))
        return;
    /* waypipe server ends when its child, the client, does. */
    if (bench_proc_wait(wps, 10000) == -1) {
        fail(run, "waypipe server (and the client) did not end on time");
        return;
    }
    forget(run, wps);
    compute(run, &w, true);
}

void bench_run_case(const struct bench_opts *o, const struct bench_case *c, struct bench_result *r)
{
    struct run run;
    memset(&run, 0, sizeof(run));
    memset(r, 0, sizeof(*r));
    run.o = o;
    run.c = c;
    run.r = r;
    run.client = -1;
    if (bh_bench_damage_rect(c->width, c->height, c->damage, false, &run.rect) < 0) {
        fail(&run, "bad case %dx%d damage %g", c->width, c->height, c->damage);
        return;
    }
    if (c->path == PATH_FLOOR) {
        run_floor(&run);
        return;
    }
    if (!setup(&run))
        return;
    switch (c->path) {
    case PATH_AGENT:
        run_agent(&run);
        break;
    case PATH_AGENT_X11:
        run_agent_x11(&run);
        break;
    case PATH_GUID:
    case PATH_GUID_GTK:
        run_guid(&run, c->path == PATH_GUID_GTK);
        break;
    case PATH_WAYPIPE:
    case PATH_WAYPIPE_NONE:
        run_waypipe(&run, c->path == PATH_WAYPIPE);
        break;
    default:
        fail(&run, "unknown path");
        break;
    }
    teardown(&run);
}
