/* bh-test-agent.h — fixture for tests that drive the real bulkhead-gui-agent:
 * a private XDG_RUNTIME_DIR and vchan directory, the agent and Wayland
 * clients as child processes, and a test-only dom0 (bh-test-dom0.h).
 *
 * Every child runs in its own process group with PR_SET_PDEATHSIG, so a
 * failing assertion (which aborts the test) still takes them all down;
 * bh_tagent_stop() stops them in order on the normal path.
 *
 * Owns: test processes and the temporary directory. Must never: touch the
 * user's real XDG_RUNTIME_DIR, WAYLAND_DISPLAY or session bus. */
#ifndef BH_TEST_AGENT_H
#define BH_TEST_AGENT_H

#include <stdbool.h>
#include <sys/types.h>

#include "bh-test-dom0.h"

#define BH_TAGENT_DOMID        7
#define BH_TAGENT_MAX_CHILDREN 12

struct bh_tagent {
    char dir[256]; /* XDG_RUNTIME_DIR of everything here */
    char vchan_dir[300];
    char agent_log[300];
    pid_t agent;
    pid_t children[BH_TAGENT_MAX_CHILDREN];
    char child_logs[BH_TAGENT_MAX_CHILDREN][300];
    int n_children;
    struct bh_tdom0 *dom0;
};

/* Make the directory and start the agent ("wl-test" socket); then connect the
 * dom0 side unless `connect` is false. Aborts the test on failure. */
void bh_tagent_start(struct bh_tagent *t, bool connect);
/* The same with extra agent arguments (NULL-terminated). */
void bh_tagent_start_with(struct bh_tagent *t, bool connect, const char *const *extra);
/* Connect (again) as dom0; the previous dom0 must be gone. */
void bh_tagent_connect(struct bh_tagent *t);
/* Start a client with the agent's WAYLAND_DISPLAY; env adds NAME=VALUE pairs
 * (NULL-terminated, may be NULL). Its output goes to <dir>/<argv0>-N.log. */
pid_t bh_tagent_client(struct bh_tagent *t, const char *const *argv, const char *const *env);
/* SIGTERM the process group, wait up to timeout_ms, then SIGKILL. Returns the
 * wait status (or -1). */
int bh_tproc_stop(pid_t pid, int timeout_ms);
/* Wait for exit without signalling; -1 on timeout. */
int bh_tproc_wait(pid_t pid, int timeout_ms);
bool bh_tproc_alive(pid_t pid);
/* utime + stime in clock ticks from /proc/<pid>/stat, -1 on error. */
long bh_tproc_cpu_ticks(pid_t pid);
/* Stop clients, dom0, then the agent (which must exit 0 on SIGTERM), remove
 * the directory. Returns the agent's wait status. */
int bh_tagent_stop(struct bh_tagent *t);
/* Print a log file to stderr (for failing tests). */
void bh_tagent_dump(const char *path);

/* Pump dom0 until pred or timeout (30 s scaled by BH_TEST_TIMEOUT_SCALE). */
bool bh_tagent_wait(struct bh_tagent *t, bh_tdom0_pred pred, void *ctx);
int bh_tagent_timeout_ms(int base_ms);
/* How many lines of the file at path are exactly `line` (0 if unreadable). */
unsigned bh_tagent_count_lines(const char *path, const char *line);
/* Pump dom0 until that file has at least n such lines (bh_tagent_wait). */
bool bh_tagent_wait_lines(struct bh_tagent *t, const char *path, const char *line, unsigned n);
/* $env if set, else $BH_BUILD_ROOT/rel (g_free the result). */
char *bh_tagent_build_path(const char *env, const char *rel);

#endif /* BH_TEST_AGENT_H */
