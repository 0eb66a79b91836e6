/* bench-frames.c — bench/frames: frames per second, CPU per frame and
 * commit-to-present latency of the frame pipeline, for Bulkhead and its peer
 * (waypipe into a headless weston) in the same run, with the memcpy of the
 * damaged bytes as the floor. Method and figures: bench/RESULTS.md.
 *
 *   bench-frames [--reps N] [--seconds S] [--warmup S] [--sizes WxH,...]
 *                [--damage F,...] [--paths P,...] [--agent-hz HZ] [--out DIR]
 *                [--smoke]
 *
 * Cases take turns within each repetition (every path of a size and damage
 * fraction, one after the other), so load from elsewhere hits them alike; the
 * ratios are medians of per-repetition ratios. Results go to
 * DIR/frames-latest.json (and a dated copy), the plot to DIR/frames.png, a
 * Markdown summary to stdout.
 *
 * --smoke is the quick check the test suite runs: one small case per path,
 * failing if a path presents no frame or no latency can be matched.
 *
 * Owns: the run (cases, medians, ratios, output files). Must never: report a
 * figure from a failed run, or a ratio from runs of different repetitions. */
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench-frames.h"
#include "bench-proc.h"
#include "config.h"

#define MAX_SIZES   4
#define MAX_DAMAGES 8

struct plan {
    int n_sizes, sizes[MAX_SIZES][2];
    int n_damages;
    double damages[MAX_DAMAGES];
    bool paths[PATH_COUNT];
    int reps;
};

struct cell {
    struct bench_case c;
    struct bench_result *runs; /* one per repetition */
};

static bool parse_sizes(const char *s, struct plan *p)
{
    g_auto(GStrv) v = g_strsplit(s, ",", -1);
    p->n_sizes = 0;
    for (size_t i = 0; v[i]; i++) {
        int w, h;
        if (p->n_sizes >= MAX_SIZES || sscanf(v[i], "%dx%d", &w, &h) != 2 || w < 2 || h < 1 || w > 7680 ||
            h > 4320)
            return false;
        p->sizes[p->n_sizes][0] = w;
        p->sizes[p->n_sizes][1] = h;
        p->n_sizes++;
    }
    return p->n_sizes > 0;
}

static bool parse_damages(const char *s, struct plan *p)
{
    g_auto(GStrv) v = g_strsplit(s, ",", -1);
    p->n_damages = 0;
    for (size_t i = 0; v[i]; i++) {
        double d = g_ascii_strtod(v[i], NULL);
        if (p->n_damages >= MAX_DAMAGES || !(d > 0 && d <= 1))
            return false;
        p->damages[p->n_damages++] = d;
    }
    return p->n_damages > 0;
}

static bool parse_paths(const char *s, struct plan *p)
{
    g_auto(GStrv) v = g_strsplit(s, ",", -1);
    memset(p->paths, 0, sizeof(p->paths));
    for (size_t i = 0; v[i]; i++) {
        int k;
        for (k = 0; k < PATH_COUNT; k++)
            if (strcmp(v[i], bench_path_name((enum bench_path)k)) == 0)
                break;
        if (k == PATH_COUNT)
            return false;
        p->paths[k] = true;
    }
    return true;
}

/* ---- machine ---------------------------------------------------------------- */

static double mem_total_gib(void)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL))
        return NAN;
    const char *p = strstr(text, "MemTotal:");
    return p ? (double)g_ascii_strtoll(p + 9, NULL, 10) / (1024.0 * 1024.0) : NAN;
}

/* ---- output ------------------------------------------------------------------ */

static void json_num(GString *s, double v)
{
    if (isfinite(v))
        g_string_append_printf(s, "%.10g", v);
    else
        g_string_append(s, "null");
}

static void json_str(GString *s, const char *v)
{
    g_string_append_c(s, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(s, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            g_string_append_printf(s, "\\u%04x", *p);
        else
            g_string_append_c(s, *p);
    }
    g_string_append_c(s, '"');
}

static void json_result(GString *s, const struct cell *cl, int rep)
{
    const struct bench_result *r = &cl->runs[rep];
    g_string_append_printf(s, "    {\"rep\": %d, \"path\": ", rep);
    json_str(s, bench_path_name(cl->c.path));
    bench_json_field(s, "width", cl->c.width);
    bench_json_field(s, "height", cl->c.height);
    bench_json_field(s, "damage", cl->c.damage);
    g_string_append_printf(s, ", \"ok\": %s, \"error\": ", r->ok ? "true" : "false");
    json_str(s, r->error);
    bench_json_field(s, "seconds", r->seconds);
    bench_json_field(s, "frames", r->frames);
    bench_json_field(s, "fps", r->fps);
    bench_json_field(s, "cpu_ns_per_frame", r->cpu_ns);
    bench_json_field(s, "cpu_all_ns_per_frame", r->cpu_all_ns);
    bench_json_field(s, "cpu_cores", r->cpu_cores);
    g_string_append(s, ", \"components\": [");
    for (unsigned i = 0; i < r->n_comp; i++) {
        g_string_append(s, i ? ", {\"name\": " : "{\"name\": ");
        json_str(s, r->comp_name[i]);
        bench_json_field(s, "cpu_ns_per_frame", r->comp_cpu_ns[i]);
        g_string_append_printf(s, ", \"counted\": %s", r->comp_counted[i] ? "true" : "false");
        bench_json_field(s, "pss_mib", r->comp_pss_mib[i]);
        g_string_append(s, "}");
    }
    g_string_append_printf(s, "], \"latency_ms\": {\"n\": %u", r->lat_n);
    bench_json_field(s, "p50", r->lat_p50_ms);
    bench_json_field(s, "p99", r->lat_p99_ms);
    g_string_append(s, "}");
    bench_json_field(s, "load_before", r->load_before);
    bench_json_field(s, "load_after", r->load_after);
    g_string_append(s, "}");
}

/* Medians over the successful repetitions of one cell. */
struct summary {
    unsigned n_ok;
    double fps, cpu_ns, cpu_all_ns, cpu_cores, p50, p99, load;
    double comp[BENCH_MAX_COMP];
};

static void summarise(const struct cell *cl, int reps, struct summary *m)
{
    double v[9][64];
    unsigned n = 0;
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < reps && n < 64; i++) {
        const struct bench_result *r = &cl->runs[i];
        if (!r->ok)
            continue;
        v[0][n] = r->fps;
        v[1][n] = r->cpu_ns;
        v[2][n] = r->cpu_cores;
        v[3][n] = r->lat_n ? r->lat_p50_ms : NAN;
        v[4][n] = r->lat_n ? r->lat_p99_ms : NAN;
        v[5][n] = r->load_before;
        v[7][n] = r->cpu_all_ns;
        n++;
    }
    m->n_ok = n;
    m->fps = bench_median(v[0], n);
    m->cpu_ns = bench_median(v[1], n);
    m->cpu_cores = bench_median(v[2], n);
    m->cpu_all_ns = bench_median(v[7], n);
    /* NaNs (no latency on this path) sort anywhere: keep only numbers. */
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (isfinite(v[3][i]))
            v[3][k] = v[3][i], v[4][k] = v[4][i], k++;
    m->p50 = bench_median(v[3], k);
    m->p99 = bench_median(v[4], k);
    m->load = bench_median(v[5], n);
    for (unsigned c = 0; c < BENCH_MAX_COMP; c++) {
        unsigned j = 0;
        for (int i = 0; i < reps && j < 64; i++)
            if (cl->runs[i].ok && c < cl->runs[i].n_comp)
                v[6][j++] = cl->runs[i].comp_cpu_ns[c];
        m->comp[c] = bench_median(v[6], j);
    }
}

static const struct cell *find_cell(const struct cell *cells, size_t n, enum bench_path p, int w, int h,
                                    double d)
{
    for (size_t i = 0; i < n; i++)
        if (cells[i].c.path == p && cells[i].c.width == w && cells[i].c.height == h && cells[i].c.damage == d)
            return &cells[i];
    return NULL;
}

static double run_cpu(const struct bench_result *r, bool all)
{
    return !r->ok ? NAN : all ? r->cpu_all_ns : r->cpu_ns;
}

/* Median over repetitions of num[rep].cpu / den[rep].cpu, pairing runs of
 * the same repetition only; `all`: every process, display server included. */
static double paired_ratio(const struct cell *num, const struct cell *num2, const struct cell *den, int reps,
                           bool all)
{
    double v[64];
    unsigned n = 0;
    if (!num || !den)
        return NAN;
    for (int i = 0; i < reps && n < 64; i++) {
        double cpu = run_cpu(&num->runs[i], all), other = num2 ? run_cpu(&num2->runs[i], all) : NAN;
        double den_cpu = run_cpu(&den->runs[i], all);
        /* num2: the other waypipe variant; the peer is the better of the two. */
        if (isfinite(other) && (!isfinite(cpu) || other < cpu))
            cpu = other;
        if (!isfinite(cpu) || !(den_cpu > 0))
            continue;
        v[n++] = cpu / den_cpu;
    }
    return bench_median(v, n);
}

static void fmt_ms(char *buf, size_t len, double ns)
{
    if (!isfinite(ns))
        snprintf(buf, len, "–");
    else if (ns >= 1e6)
        snprintf(buf, len, "%.2f ms", ns / 1e6);
    else
        snprintf(buf, len, "%.0f µs", ns / 1e3);
}

/* v with `digits` decimals and a unit, or a dash for no value. */
static void fmt_num(char *buf, size_t len, int digits, const char *unit, double v)
{
    if (isfinite(v))
        snprintf(buf, len, "%.*f%s", digits, v, unit);
    else
        snprintf(buf, len, "–");
}

static void print_tables(const struct plan *p, const struct cell *cells, size_t n_cells, GString *json)
{
    printf("\n| path | size | damage | frames/s | CPU/frame (counted) | with display server | components | "
           "CPU cores (counted) | latency p50 | p99 | runs ok "
           "|\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    g_string_append(json, "  \"medians\": [\n");
    for (size_t i = 0; i < n_cells; i++) {
        const struct cell *cl = &cells[i];
        struct summary m;
        summarise(cl, p->reps, &m);
        const struct bench_result *any = NULL;
        for (int r = 0; r < p->reps && !any; r++)
            if (cl->runs[r].ok)
                any = &cl->runs[r];
        char fps[32], cpu[32], cpu_all[32], cores[32], p50[32], p99[32];
        GString *comps = g_string_new(NULL);
        fmt_num(fps, sizeof(fps), 1, "", m.fps);
        fmt_ms(cpu, sizeof(cpu), m.cpu_ns);
        fmt_ms(cpu_all, sizeof(cpu_all), m.cpu_all_ns);
        fmt_num(cores, sizeof(cores), 2, "", m.cpu_cores);
        fmt_num(p50, sizeof(p50), 2, " ms", m.p50);
        fmt_num(p99, sizeof(p99), 2, " ms", m.p99);
        for (unsigned c = 0; any && c < any->n_comp; c++) {
            char b[32];
            fmt_ms(b, sizeof(b), m.comp[c]);
            g_string_append_printf(comps, "%s%s %s", c ? ", " : "", any->comp_name[c], b);
        }
        printf("| %s | %dx%d | %g %% | %s | %s | %s | %s | %s | %s | %s | %u/%d |\n",
               bench_path_name(cl->c.path), cl->c.width, cl->c.height, cl->c.damage * 100, fps, cpu, cpu_all,
               comps->str, cores, p50, p99, m.n_ok, p->reps);
        g_string_free(comps, TRUE);

        g_string_append(json, "    {\"path\": ");
        json_str(json, bench_path_name(cl->c.path));
        bench_json_field(json, "width", cl->c.width);
        bench_json_field(json, "height", cl->c.height);
        bench_json_field(json, "damage", cl->c.damage);
        bench_json_field(json, "runs_ok", m.n_ok);
        bench_json_field(json, "fps", m.fps);
        bench_json_field(json, "cpu_ns_per_frame", m.cpu_ns);
        bench_json_field(json, "cpu_all_ns_per_frame", m.cpu_all_ns);
        bench_json_field(json, "cpu_cores", m.cpu_cores);
        g_string_append(json, ", \"components\": {");
        for (unsigned c = 0; any && c < any->n_comp; c++) {
            g_string_append(json, c ? ", " : "");
            json_str(json, any->comp_name[c]);
            g_string_append(json, ": ");
            json_num(json, m.comp[c]);
        }
        g_string_append(json, "}");
        bench_json_field(json, "latency_p50_ms", m.p50);
        bench_json_field(json, "latency_p99_ms", m.p99);
        bench_json_field(json, "load", m.load);
        g_string_append_printf(json, "}%s\n", i + 1 < n_cells ? "," : "");
    }
    g_string_append(json, "  ],\n");

    /* Ratios: Bulkhead's frames per CPU-second against the peer's (the
     * better waypipe of the two) = peer CPU/frame ÷ ours, counted processes
     * and every process (display server included); and our CPU per frame
     * against the floor's. */
    printf("\n| size | damage | path | × waypipe frames per CPU-second | the same with display servers | "
           "× memcpy floor CPU |\n|---|---|---|---|---|---|\n");
    g_string_append(json, "  \"ratios\": [\n");
    bool first = true;
    for (int k = PATH_AGENT; k <= PATH_GUID_GTK; k++)
        for (int s = 0; s < p->n_sizes; s++) {
            int w = p->sizes[s][0], h = p->sizes[s][1];
            for (int d = 0; d < p->n_damages; d++) {
                double dmg = p->damages[d];
                const struct cell *ours = find_cell(cells, n_cells, (enum bench_path)k, w, h, dmg);
                if (!ours)
                    continue;
                const struct cell *wp = find_cell(cells, n_cells, PATH_WAYPIPE, w, h, dmg);
                const struct cell *wpn = find_cell(cells, n_cells, PATH_WAYPIPE_NONE, w, h, dmg);
                const struct cell *floor = find_cell(cells, n_cells, PATH_FLOOR, w, h, dmg);
                double vs_peer = paired_ratio(wp ? wp : wpn, wp ? wpn : NULL, ours, p->reps, false);
                double vs_peer_all = paired_ratio(wp ? wp : wpn, wp ? wpn : NULL, ours, p->reps, true);
                double vs_floor = paired_ratio(ours, NULL, floor, p->reps, false);
                char a[32], b[32], c[32];
                fmt_num(a, sizeof(a), 2, "", vs_peer);
                fmt_num(b, sizeof(b), 2, "", vs_peer_all);
                fmt_num(c, sizeof(c), 1, "", vs_floor);
                printf("| %dx%d | %g %% | %s | %s | %s | %s |\n", w, h, dmg * 100,
                       bench_path_name(ours->c.path), a, b, c);
                g_string_append_printf(json, "%s    {\"path\": ", first ? "" : ",\n");
                json_str(json, bench_path_name(ours->c.path));
                bench_json_field(json, "width", w);
                bench_json_field(json, "height", h);
                bench_json_field(json, "damage", dmg);
                bench_json_field(json, "frames_per_cpu_s_vs_waypipe", vs_peer);
                bench_json_field(json, "frames_per_cpu_s_vs_waypipe_all", vs_peer_all);
                bench_json_field(json, "cpu_vs_memcpy_floor", vs_floor);
                g_string_append(json, "}");
                first = false;
            }
        }
    g_string_append(json, "\n  ]\n");
}

static void plot(const struct plan *p, const struct cell *cells, size_t n_cells, const char *png,
                 const char *subtitle)
{
    g_autofree struct bench_point *pts = g_new0(struct bench_point, n_cells);
    size_t n = 0;
    for (size_t i = 0; i < n_cells; i++) {
        struct summary m;
        summarise(&cells[i], p->reps, &m);
        if (!m.n_ok)
            continue;
        pts[n].path = cells[i].c.path;
        pts[n].width = cells[i].c.width;
        pts[n].height = cells[i].c.height;
        pts[n].damage = cells[i].c.damage;
        pts[n].fps = cells[i].c.path == PATH_FLOOR ? NAN : m.fps;
        pts[n].cpu_ms = m.cpu_ns / 1e6;
        n++;
    }
    g_autoptr(GError) error = NULL;
    if (!bench_plot(png, pts, n, subtitle, &error))
        g_printerr("bench-frames: no plot: %s\n", error->message);
}

int main(int argc, char **argv)
{
    struct plan plan = {.reps = 3};
    struct bench_opts o = {.seconds = 4, .warmup = 1.5};
    g_autofree char *sizes = g_strdup("1920x1080,3840x2160");
    g_autofree char *damages = g_strdup("1,0.25,0.05");
    g_autofree char *paths = NULL;
    gboolean smoke = FALSE;
    GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &plan.reps, "Repetitions (default 3)", "N"},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o.seconds, "Measuring window per run (default 4)", "S"},
        {"warmup", 0, 0, G_OPTION_ARG_DOUBLE, &o.warmup, "Time before the window (default 1.5)", "S"},
        {"sizes", 0, 0, G_OPTION_ARG_STRING, &sizes, "Window sizes", "WxH,..."},
        {"damage", 0, 0, G_OPTION_ARG_STRING, &damages, "Damage fractions", "F,..."},
        {"paths", 0, 0, G_OPTION_ARG_STRING, &paths,
         "floor,agent,guid,guid-gtk,waypipe,waypipe-none (the default), agent-x11", "P,..."},
        {"agent-hz", 0, 0, G_OPTION_ARG_DOUBLE, &o.agent_hz,
         "Agent path: dom0 releases at most HZ times a second, on a fixed grid (default 0: at once)", "HZ"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &o.out_dir, "Output directory (default bench/out)", "DIR"},
        {"client", 0, 0, G_OPTION_ARG_FILENAME, &o.client, "bh-bench-client", "PATH"},
        {"xclient", 0, 0, G_OPTION_ARG_FILENAME, &o.xclient, "bh-bench-xclient (agent-x11)", "PATH"},
        {"agent", 0, 0, G_OPTION_ARG_FILENAME, &o.agent, "bulkhead-gui-agent", "PATH"},
        {"guid", 0, 0, G_OPTION_ARG_FILENAME, &o.guid, "bulkhead-guid", "PATH"},
        {"smoke", 0, 0, G_OPTION_ARG_NONE, &smoke, "One quick small case per path; fail on no frames", NULL},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose, "Show the processes' logs", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— frame pipeline benchmark");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("bench-frames: %s\n", error->message);
        return 2;
    }
    if (!o.client)
        o.client = g_build_filename(BH_BUILD_ROOT, "bench", "bh-bench-client", NULL);
    if (!o.xclient)
        o.xclient = g_build_filename(BH_BUILD_ROOT, "bench", "bh-bench-xclient", NULL);
    if (!o.agent)
        o.agent = g_build_filename(BH_BUILD_ROOT, "gui-agent", "bulkhead-gui-agent", NULL);
    if (!o.guid)
        o.guid = g_build_filename(BH_BUILD_ROOT, "guid", "bulkhead-guid", NULL);
    bool have_guid = access(o.guid, X_OK) == 0;
    if (!paths)
        paths = g_strdup(have_guid ? "floor,agent,guid,guid-gtk,waypipe,waypipe-none"
                                   : "floor,agent,waypipe,waypipe-none");
    if (smoke) {
        plan.reps = 1;
        o.seconds = 1;
        o.warmup = 0.3;
        g_free(sizes);
        sizes = g_strdup("640x360");
        g_free(damages);
        damages = g_strdup("0.25");
        g_free(paths);
        /* agent-x11 where Xwayland is installed (the X11 path stays alive). */
        g_autofree char *xwayland = g_find_program_in_path("Xwayland");
        paths =
            g_strdup_printf("%s%s", have_guid ? "floor,agent,guid,guid-gtk,waypipe" : "floor,agent,waypipe",
                            xwayland ? ",agent-x11" : "");
    }
    if (plan.reps < 1 || plan.reps > 64 || !(o.seconds > 0) || !(o.warmup >= 0) ||
        !(o.agent_hz >= 0 && o.agent_hz <= 1000) || !parse_sizes(sizes, &plan) ||
        !parse_damages(damages, &plan) || !parse_paths(paths, &plan)) {
        g_printerr("bench-frames: bad option (see --help)\n");
        return 2;
    }
    if (!o.out_dir)
        o.out_dir = g_build_filename(smoke ? BH_BUILD_ROOT : BH_SOURCE_ROOT, "bench", "out", NULL);
    if (g_mkdir_with_parents(o.out_dir, 0755) < 0) {
        g_printerr("bench-frames: cannot create %s: %s\n", o.out_dir, g_strerror(errno));
        return 1;
    }

    /* Cells in run order within a repetition: size, damage, then path. */
    size_t n_cells = 0;
    struct cell *cells = g_new0(struct cell, (size_t)MAX_SIZES * MAX_DAMAGES * PATH_COUNT);
    for (int s = 0; s < plan.n_sizes; s++)
        for (int d = 0; d < plan.n_damages; d++)
            for (int k = 0; k < PATH_COUNT; k++) {
                if (!plan.paths[k])
                    continue;
                struct cell *cl = &cells[n_cells++];
                cl->c.path = (enum bench_path)k;
                cl->c.width = plan.sizes[s][0];
                cl->c.height = plan.sizes[s][1];
                cl->c.damage = plan.damages[d];
                cl->runs = g_new0(struct bench_result, (size_t)plan.reps);
            }

    struct utsname un;
    uname(&un);
    g_autofree char *model = bench_cpu_model();
    double load_start = bench_loadavg();
    g_autoptr(GDateTime) started = g_date_time_new_now_local();
    g_autofree char *date = g_date_time_format_iso8601(started);
    g_printerr("bench-frames: %zu cases x %d repetitions, %.1f s each (+%.1f s warm-up); load %.2f\n",
               n_cells, plan.reps, o.seconds, o.warmup, load_start);

    int failures = 0;
    for (int rep = 0; rep < plan.reps; rep++) {
        for (size_t i = 0; i < n_cells; i++) {
            struct cell *cl = &cells[i];
            struct bench_result *r = &cl->runs[rep];
            bench_run_case(&o, &cl->c, r);
            if (r->ok)
                g_printerr("rep %d %-12s %4dx%-4d %5.1f%%: %7.1f fps, %8.0f us/frame, p50 %6.2f ms, "
                           "p99 %6.2f ms, load %.2f\n",
                           rep, bench_path_name(cl->c.path), cl->c.width, cl->c.height, cl->c.damage * 100,
                           r->fps, r->cpu_ns / 1e3, r->lat_p50_ms, r->lat_p99_ms, r->load_before);
            else {
                g_printerr("rep %d %-12s %4dx%-4d %5.1f%%: FAILED: %s\n", rep, bench_path_name(cl->c.path),
                           cl->c.width, cl->c.height, cl->c.damage * 100, r->error);
                failures++;
            }
            /* Smoke: every real path must match latencies too. */
            if (smoke && r->ok && cl->c.path != PATH_FLOOR && r->lat_n == 0) {
                g_printerr("bench-frames: %s presented frames but none matched a commit\n",
                           bench_path_name(cl->c.path));
                failures++;
            }
        }
    }
    double load_end = bench_loadavg();

    GString *json = g_string_new("{\n  \"bench\": \"frames\",\n  \"version\": ");
    json_str(json, BH_VERSION);
    g_string_append(json, ",\n  \"date\": ");
    json_str(json, date);
    g_string_append_printf(json,
                           ",\n  \"machine\": {\"nproc\": %ld, \"cpu\": ", sysconf(_SC_NPROCESSORS_ONLN));
    json_str(json, model);
    g_string_append(json, ", \"kernel\": ");
    g_autofree char *kernel = g_strdup_printf("%s %s %s", un.sysname, un.release, un.machine);
    json_str(json, kernel);
    bench_json_field(json, "mem_gib", mem_total_gib());
    bench_json_field(json, "load_start", load_start);
    bench_json_field(json, "load_end", load_end);
    g_string_append_printf(json, "},\n  \"options\": {\"reps\": %d", plan.reps);
    bench_json_field(json, "seconds", o.seconds);
    bench_json_field(json, "warmup", o.warmup);
    bench_json_field(json, "agent_hz", o.agent_hz);
    g_string_append(json, "},\n  \"runs\": [\n");
    bool first = true;
    for (int rep = 0; rep < plan.reps; rep++)
        for (size_t i = 0; i < n_cells; i++) {
            g_string_append(json, first ? "" : ",\n");
            json_result(json, &cells[i], rep);
            first = false;
        }
    g_string_append(json, "\n  ],\n");

    printf("Machine: %ld CPUs (%s), %s, %.0f GiB; load average %.2f at start, %.2f at end; %d repetitions "
           "of %.1f s.\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, kernel, mem_total_gib(), load_start, load_end, plan.reps,
           o.seconds);
    if (o.agent_hz > 0)
        printf("The agent path's dom0 released frames at most %.1f times a second.\n", o.agent_hz);
    print_tables(&plan, cells, n_cells, json);
    g_string_append(json, "}\n");

    g_autofree char *stamp = g_date_time_format(started, "%Y%m%d-%H%M%S");
    g_autofree char *name = g_strdup_printf("frames-%s%s.json", smoke ? "smoke-" : "", stamp);
    g_autofree char *path = g_build_filename(o.out_dir, name, NULL);
    g_autofree char *latest =
        g_build_filename(o.out_dir, smoke ? "frames-smoke.json" : "frames-latest.json", NULL);
    if (!g_file_set_contents(path, json->str, (gssize)json->len, &error) ||
        !g_file_set_contents(latest, json->str, (gssize)json->len, &error)) {
        g_printerr("bench-frames: %s\n", error->message);
        failures++;
    } else {
        g_printerr("bench-frames: results in %s\n", path);
    }
    g_autofree char *png = g_build_filename(o.out_dir, smoke ? "frames-smoke.png" : "frames.png", NULL);
    g_autofree char *subtitle =
        g_strdup_printf("%ld CPUs, load %.1f–%.1f, median of %d, %s", sysconf(_SC_NPROCESSORS_ONLN),
                        load_start, load_end, plan.reps, date);
    plot(&plan, cells, n_cells, png, subtitle);
    /* The plot's text loaded fontconfig through cairo's font caches: give it
     * all back, so leak checkers (./test --sanitize) see a clean exit. */
    cairo_debug_reset_static_data();
    FcFini();
    g_string_free(json, TRUE);

    for (size_t i = 0; i < n_cells; i++)
        g_free(cells[i].runs);
    g_free(cells);
    g_free(o.client);
    g_free(o.agent);
    g_free(o.guid);
    g_free(o.out_dir);
    return failures ? 1 : 0;
}
