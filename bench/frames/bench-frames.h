/* bench-frames.h — the cases and results of bench/frames, shared by the
 * runner (bench-frames.c), the paths it measures (frames-paths.c) and the
 * plot (bench-plot.c).
 *
 * Owns: the result records. Must never: hold anything but plain data (the
 * plot and the JSON writer read it after the processes are gone). */
#ifndef BH_BENCH_FRAMES_H
#define BH_BENCH_FRAMES_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* What carries the client's frames to a screen. */
enum bench_path {
    PATH_FLOOR,        /* memcpy of the damaged bytes, in this process */
    PATH_AGENT,        /* gui-agent → vchan → the bench's own dom0 (no guid) */
    PATH_GUID,         /* gui-agent → vchan → bulkhead-guid on Xvfb (frames straight to X) */
    PATH_GUID_GTK,     /* the same with BH_GUID_XSHM=off: frames drawn through GTK */
    PATH_WAYPIPE,      /* waypipe server → client (default lz4) → headless weston */
    PATH_WAYPIPE_NONE, /* the same with -c none */
    PATH_AGENT_X11,    /* an X11 client → Xwayland → gui-agent → the bench's own dom0 */
    PATH_COUNT
};

#define BENCH_MAX_COMP 4

struct bench_case {
    enum bench_path path;
    int width, height;
    double damage;
};

/* One measured run of one case. */
struct bench_result {
    bool ok;
    char error[256];
    double seconds;  /* measuring window */
    unsigned frames; /* presented within the window */
    double fps;
    /* CPU per presented frame of each process of the path, ns. */
    unsigned n_comp;
    const char *comp_name[BENCH_MAX_COMP];
    double comp_cpu_ns[BENCH_MAX_COMP];
    bool comp_counted[BENCH_MAX_COMP]; /* part of the path's total */
    double comp_pss_mib[BENCH_MAX_COMP];
    double cpu_ns;     /* counted components, per frame */
    double cpu_all_ns; /* every component (with the display server) */
    double cpu_cores;  /* counted components, CPU-seconds per second */
    unsigned lat_n;    /* frames with a commit-to-present latency */
    double lat_p50_ms, lat_p99_ms;
    double load_before, load_after;
};

struct bench_opts {
    double seconds, warmup;
    /* The agent path's dom0 releases at most this often (a display's
     * refresh rate); 0 = at once (the agent as fast as it goes). */
    double agent_hz;
    char *client, *xclient, *agent, *guid, *out_dir;
    gboolean verbose;
};

const char *bench_path_name(enum bench_path p);
/* Run one case once; fills *r (r->ok false with r->error on failure). */
void bench_run_case(const struct bench_opts *o, const struct bench_case *c, struct bench_result *r);

/* Median of n doubles (the array is sorted in place); NAN for n = 0. */
double bench_median(double *v, size_t n);

/* Draw fps and CPU per frame against the damage fraction, one line per path
 * and size, medians over repetitions. FALSE with *error if the PNG could not
 * be written. */
struct bench_point {
    enum bench_path path;
    int width, height;
    double damage, fps, cpu_ms;
};
gboolean bench_plot(const char *png, const struct bench_point *pts, size_t n, const char *subtitle,
                    GError **error);

#endif /* BH_BENCH_FRAMES_H */
