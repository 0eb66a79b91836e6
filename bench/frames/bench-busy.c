/* bench-busy.c — twenty busy qubes (issue 21): N bench clients, each on its
 * own bulkhead-gui-agent and bulkhead-guid, all on one Xvfb, each drawing
 * W×H at F frames/s with a fraction D damaged; optionally the first one
 * flooding (full damage, as fast as it is let). Per qube: frames presented
 * per second and the commit-to-present p99 (guid's BH_GUID_TRACE_FRAMES
 * against the client's commit log); in all: CPU of the agents, the guids
 * and Xvfb, in cores.
 *
 *   bench-busy [--qubes N] [--fps F] [--width W] [--height H] [--damage D]
 *              [--seconds S] [--flood] [--client P] [--agent P] [--guid P]
 *
 * As bench/frames' guid path: the agents are not inside bwrap sandboxes
 * (the sockets and the shared buffers are the same).
 *
 * Owns: its processes and temporary directory. Must never: count a frame
 * presented outside the window, or leave a process behind. */
#include <errno.h>
#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-frames-common.h"
#include "bench-proc.h"

#define MAX_QUBES 64
#define DOMID0    10

struct qube {
    char dir[300];
    pid_t agent, guid, client;
    GHashTable *commits; /* seq -> commit ns */
    unsigned frames;
    double fps, p99_ms;
};

static int opt_qubes = 20, opt_width = 640, opt_height = 480;
static double opt_fps = 30, opt_damage = 0.25, opt_seconds = 6, opt_warmup = 2;
static gboolean opt_flood;
static char *opt_client, *opt_agent, *opt_guid;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(p);
    return 0;
}

static pid_t spawn(const char *const *argv, const char *const *env, const char *log)
{
    g_autoptr(GError) error = NULL;
    pid_t pid = bench_proc_spawn(argv, env, log, &error);
    if (pid < 0)
        g_printerr("cannot start %s: %s\n", argv[0], error->message);
    return pid;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Frames presented in [t0, t1) and their latency, from the client's log
 * ("c SEQ NS") and guid's trace ("WIN SERIAL P0 P1 NS"). */
static void collect(struct qube *q, uint64_t t0, uint64_t t1)
{
    g_autofree char *log = g_build_filename(q->dir, "client.log", NULL);
    g_autofree char *trace = g_build_filename(q->dir, "trace", NULL);
    g_autofree char *text = NULL;
    GHashTable *commits = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (g_file_get_contents(log, &text, NULL, NULL))
        for (char *l = text, *n; l && *l; l = n) {
            n = strchr(l, '\n');
            if (n)
                *n++ = '\0';
            unsigned seq;
            unsigned long long ns;
            if (sscanf(l, "c %u %llu", &seq, &ns) == 2)
                g_hash_table_insert(commits, GUINT_TO_POINTER(seq), GSIZE_TO_POINTER((gsize)ns));
        }
    g_free(text);
    text = NULL;
    g_autoptr(GArray) lat = g_array_new(FALSE, FALSE, sizeof(double));
    if (g_file_get_contents(trace, &text, NULL, NULL))
        for (char *l = text, *n; l && *l; l = n) {
            n = strchr(l, '\n');
            if (n)
                *n++ = '\0';
            unsigned win, serial, p0, p1, seq;
            unsigned long long ns;
            if (sscanf(l, "%u %u %x %x %llu", &win, &serial, &p0, &p1, &ns) != 5 ||
                !bh_bench_seq_decode(p0, p1, &seq) || ns < t0 || ns >= t1)
                continue;
            q->frames++;
            gpointer c;
            if (g_hash_table_lookup_extended(commits, GUINT_TO_POINTER(seq), NULL, &c)) {
                double ms = ((double)ns - (double)(gsize)c) / 1e6;
                g_array_append_val(lat, ms);
            }
        }
    g_hash_table_unref(commits);
    q->fps = q->frames / ((double)(t1 - t0) / 1e9);
    g_array_sort(lat, cmp_double);
    q->p99_ms = lat->len ? g_array_index(lat, double, (size_t)ceil(0.99 * lat->len) - 1) : NAN;
}

int main(int argc, char **argv)
{
    GOptionEntry entries[] = {
        {"qubes", 0, 0, G_OPTION_ARG_INT, &opt_qubes, "clients, each with its agent and guid (20)", "N"},
        {"fps", 0, 0, G_OPTION_ARG_DOUBLE, &opt_fps, "frames/s each draws (30)", "F"},
        {"width", 0, 0, G_OPTION_ARG_INT, &opt_width, "window width (640)", "W"},
        {"height", 0, 0, G_OPTION_ARG_INT, &opt_height, "window height (480)", "H"},
        {"damage", 0, 0, G_OPTION_ARG_DOUBLE, &opt_damage, "damaged fraction (0.25)", "D"},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_seconds, "measured window (6)", "S"},
        {"flood", 0, 0, G_OPTION_ARG_NONE, &opt_flood, "the first client: full damage, unpaced", NULL},
        {"client", 0, 0, G_OPTION_ARG_FILENAME, &opt_client, "bh-bench-client", "P"},
        {"agent", 0, 0, G_OPTION_ARG_FILENAME, &opt_agent, "bulkhead-gui-agent", "P"},
        {"guid", 0, 0, G_OPTION_ARG_FILENAME, &opt_guid, "bulkhead-guid", "P"},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("— twenty busy qubes");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || opt_qubes < 1 || opt_qubes > MAX_QUBES) {
        g_printerr("%s\n", error ? error->message : "--qubes takes 1..64");
        return 2;
    }
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *bdir = g_path_get_dirname(self);
    g_autofree char *top = g_path_get_dirname(bdir);
    if (!opt_client)
        opt_client = g_build_filename(bdir, "bh-bench-client", NULL);
    if (!opt_agent)
        opt_agent = g_build_filename(top, "gui-agent", "bulkhead-gui-agent", NULL);
    if (!opt_guid)
        opt_guid = g_build_filename(top, "guid", "bulkhead-guid", NULL);

    char dir[256];
    snprintf(dir, sizeof(dir), "%s/bh-busy-XXXXXX", g_get_tmp_dir());
    if (!mkdtemp(dir))
        return 1;
    struct qube *qs = g_new0(struct qube, opt_qubes);
    int status = 1, display = -1;
    pid_t wm = -1;
    /* Before the first goto out: freed there. */
    g_autofree char *e_vdir = NULL, *e_disp = NULL, *wmlog = NULL;
    double load0 = bench_loadavg();
    g_autofree char *xlog = g_build_filename(dir, "xvfb.log", NULL);
    /* Room for 20 windows of 640x480 with their frames side by side, with
     * slack: openbox's placement does not pack them tightly. */
    pid_t xvfb = bench_xvfb_start(4400, 2400, xlog, &display, &error);
    if (xvfb < 0) {
        g_printerr("%s\n", error->message);
        goto out;
    }
    e_vdir = g_strdup_printf("BH_VCHAN_DIR=%s/vchan", dir);
    e_disp = g_strdup_printf("DISPLAY=:%d", display);
    /* A window manager places the windows side by side, as on a desktop:
     * without one every guid window maps at 0,0 under the others. */
    wmlog = g_build_filename(dir, "openbox.log", NULL);
    const char *wm_env[] = {e_disp, NULL};
    const char *wm_argv[] = {"openbox", NULL};
    wm = spawn(wm_argv, wm_env, wmlog);
    g_usleep(500000);
    char w[16], h[16], dmg[32], secs[32], fps[32];
    snprintf(w, sizeof(w), "%d", opt_width);
    snprintf(h, sizeof(h), "%d", opt_height);
    /* The clients run until stopped after the window: on a clock of their
     * own they would end early, the first started first (starting 20 takes
     * seconds on a loaded machine). */
    snprintf(secs, sizeof(secs), "%d", 600);
    snprintf(fps, sizeof(fps), "%.3f", opt_fps);
    for (int i = 0; i < opt_qubes; i++) {
        struct qube *q = &qs[i];
        q->agent = q->guid = q->client = -1;
        snprintf(q->dir, sizeof(q->dir), "%s/q%d", dir, i);
        g_mkdir(q->dir, 0700);
        g_autofree char *guid_run = g_build_filename(q->dir, "guid-run", NULL);
        g_mkdir(guid_run, 0700);
        g_autofree char *e_xdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", q->dir);
        g_autofree char *e_gxdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", guid_run);
        g_autofree char *e_dom = g_strdup_printf("BH_VCHAN_DOMID=%d", DOMID0 + i);
        g_autofree char *domid = g_strdup_printf("%d", DOMID0 + i);
        g_autofree char *name = g_strdup_printf("busy%d", i);
        g_autofree char *e_trace = g_strdup_printf("BH_GUID_TRACE_FRAMES=%s/trace", q->dir);
        g_autofree char *alog = g_build_filename(q->dir, "agent.log", NULL);
        g_autofree char *glog = g_build_filename(q->dir, "guid.log", NULL);
        g_autofree char *clog = g_build_filename(q->dir, "client.out", NULL);
        g_autofree char *frames = g_build_filename(q->dir, "client.log", NULL);
        g_autofree char *ready = g_build_filename(q->dir, "ready", NULL);
        g_autofree char *sock = g_build_filename(q->dir, "wl-bench", NULL);
        const char *agent_env[] = {e_xdg, e_vdir, e_dom, "BH_VCHAN_TRANSPORT=socket", NULL};
        const char *agent_argv[] = {opt_agent, "--wayland-socket", "wl-bench", NULL};
        if ((q->agent = spawn(agent_argv, agent_env, alog)) < 0 || !bench_wait_path(sock, q->agent, 20000))
            goto out;
        const char *guid_env[] = {e_gxdg, e_vdir, e_disp, e_trace, BENCH_GUID_ENV, NULL};
        const char *guid_argv[] = {
            opt_guid, "--qube", name, "--label", "blue", "--domid", domid, "--connect-timeout", "30", NULL};
        if ((q->guid = spawn(guid_argv, guid_env, glog)) < 0)
            goto out;
        bool flood = opt_flood && i == 0;
        snprintf(dmg, sizeof(dmg), "%.6f", flood ? 1.0 : opt_damage);
        const char *client_env[] = {e_xdg, "WAYLAND_DISPLAY=wl-bench", NULL};
        const char *client_argv[] = {
            opt_client,  "--width", w,       "--height", h,         "--damage", dmg,
            "--seconds", secs,      "--log", frames,     "--ready", ready,      flood ? NULL : "--fps",
            fps,         NULL};
        if ((q->client = spawn(client_argv, client_env, clog)) < 0)
            goto out;
    }
    for (int i = 0; i < opt_qubes; i++) {
        g_autofree char *ready = g_build_filename(qs[i].dir, "ready", NULL);
        if (!bench_wait_path(ready, qs[i].client, 60000)) {
            g_printerr("client %d never showed a frame\n", i);
            goto out;
        }
    }
    g_usleep((gulong)(opt_warmup * 1e6));
    int64_t a0 = 0, g0 = 0, x0 = bench_proc_cpu_ns(xvfb), a1 = 0, g1 = 0, x1;
    for (int i = 0; i < opt_qubes; i++) {
        a0 += bench_proc_cpu_ns(qs[i].agent);
        g0 += bench_proc_cpu_ns(qs[i].guid);
    }
    uint64_t t0 = bench_now_ns();
    g_usleep((gulong)(opt_seconds * 1e6));
    uint64_t t1 = bench_now_ns();
    for (int i = 0; i < opt_qubes; i++) {
        a1 += bench_proc_cpu_ns(qs[i].agent);
        g1 += bench_proc_cpu_ns(qs[i].guid);
    }
    x1 = bench_proc_cpu_ns(xvfb);
    double span = (double)(t1 - t0);
    for (int i = 0; i < opt_qubes; i++) {
        bench_proc_stop(qs[i].client, 5000); /* SIGTERM: it writes its log and exits */
        qs[i].client = -1;
        bench_proc_stop(qs[i].guid, 5000); /* writes its trace */
        qs[i].guid = -1;
        collect(&qs[i], t0, t1);
    }
    double min_fps = INFINITY, worst = 0, sum = 0;
    int first = opt_flood ? 1 : 0;
    printf("%d qubes, %dx%d at %.0f frames/s, %.0f %% damage%s; load %.1f -> %.1f\n\n", opt_qubes, opt_width,
           opt_height, opt_fps, opt_damage * 100, opt_flood ? ", qube 0 flooding (full damage, unpaced)" : "",
           load0, bench_loadavg());
    printf("| qube | frames/s | p99 ms |\n|---|---|---|\n");
    for (int i = 0; i < opt_qubes; i++) {
        printf("| %d%s | %.1f | %.2f |\n", i, opt_flood && i == 0 ? " (flood)" : "", qs[i].fps, qs[i].p99_ms);
        if (i < first)
            continue;
        min_fps = MIN(min_fps, qs[i].fps);
        worst = MAX(worst, qs[i].p99_ms);
        sum += qs[i].fps;
    }
    printf("\npaced qubes: min %.1f, mean %.1f frames/s; worst p99 %.2f ms\n", min_fps,
           sum / (opt_qubes - first), worst);
    printf("CPU: agents %.2f cores, guids %.2f cores (dom0 + agents %.2f), Xvfb %.2f cores\n",
           (a1 - a0) / span, (g1 - g0) / span, (a1 - a0 + g1 - g0) / span, (x1 - x0) / span);
    status = min_fps > 0 ? 0 : 1;
out:
    for (int i = 0; i < opt_qubes; i++) {
        if (qs[i].client > 0)
            bench_proc_stop(qs[i].client, 2000);
        if (qs[i].guid > 0)
            bench_proc_stop(qs[i].guid, 3000);
        if (qs[i].agent > 0)
            bench_proc_stop(qs[i].agent, 3000);
    }
    if (wm > 0)
        bench_proc_stop(wm, 3000);
    if (xvfb > 0)
        bench_proc_stop(xvfb, 3000);
    if (!g_getenv("BH_BENCH_KEEP"))
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_free(qs);
    return status;
}
