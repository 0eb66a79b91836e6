/* bench-proc.h — the processes a bench run starts: spawned in their own
 * process group, killed with the bench (PR_SET_PDEATHSIG), output in a log
 * file, and their CPU time read from /proc.
 *
 * Also the small things both benches share: JSON numbers, the CPU model.
 *
 * Owns: the children it starts. Must never: signal a process it did not
 * start, or leave one running after bench_proc_stop. */
#ifndef BH_BENCH_PROC_H
#define BH_BENCH_PROC_H

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

/* Start argv with the bench's environment plus `env` (NAME=VALUE,
 * NULL-terminated, may be NULL), stdin from /dev/null, stdout and stderr to
 * `log`. -1 with *error on failure. */
pid_t bench_proc_spawn(const char *const *argv, const char *const *env, const char *log, GError **error);
/* SIGTERM the process group, wait up to timeout_ms, then SIGKILL it.
 * Returns the wait status, -1 if it could not be reaped. */
int bench_proc_stop(pid_t pid, int timeout_ms);
/* Wait for the child to exit on its own; -1 on timeout. */
int bench_proc_wait(pid_t pid, int timeout_ms);
/* Without reaping it. */
gboolean bench_proc_alive(pid_t pid);
/* CPU time of every thread of pid so far, in ns (sum of
 * /proc/PID/task/(star)/schedstat run times), or -1. Threads that already
 * exited are not counted: the processes measured here keep theirs. */
int64_t bench_proc_cpu_ns(pid_t pid);
/* The same summed over every process of process group pgid (a spawned
 * child's group: waypipe does its work in forked children) except those
 * whose command name is `exclude` (may be NULL). */
int64_t bench_group_cpu_ns(pid_t pgid, const char *exclude);
/* utime + stime of the whole process (dead threads included), in ns at
 * clock-tick resolution, or -1: the cross-check for bench_proc_cpu_ns. */
int64_t bench_proc_cpu_ticks_ns(pid_t pid);
int64_t bench_group_cpu_ticks_ns(pid_t pgid, const char *exclude);
/* Proportional set size of pid in bytes (smaps_rollup), or -1. */
int64_t bench_proc_pss(pid_t pid);
/* The same summed over process group pgid except `exclude` (see above). */
int64_t bench_group_pss(pid_t pgid, const char *exclude);
/* Poll every 10 ms until path exists; FALSE on timeout or if `pid` (when
 * > 0) died first. */
gboolean bench_wait_path(const char *path, pid_t pid, int timeout_ms);
/* A private Xvfb of width x height on the first free display from :90
 * (its number in *display), output to log. -1 with *error on failure. */
pid_t bench_xvfb_start(int width, int height, const char *log, int *display, GError **error);
/* The rest of guid's environment as the display tests run it, dom0 side of
 * a socket vchan: X11, GTK's cairo renderer (Xvfb has no GPU), no
 * accessibility bus. For the middle of a NULL-terminated env array. */
#define BENCH_GUID_ENV                                                                                       \
    "BH_VCHAN_DOMID=0", "BH_VCHAN_TRANSPORT=socket", "GDK_BACKEND=x11", "GSK_RENDERER=cairo",                \
        "GTK_A11Y=none", "NO_AT_BRIDGE=1", "WAYLAND_DISPLAY="
uint64_t bench_now_ns(void);
/* The 1-minute load average, or -1. */
double bench_loadavg(void);

/* Appends `, "key": v` (null when v is not finite). */
void bench_json_field(GString *s, const char *key, double v);
/* The first "model name" of /proc/cpuinfo (g_free), "?" if none. */
char *bench_cpu_model(void);

#endif /* BH_BENCH_PROC_H */
