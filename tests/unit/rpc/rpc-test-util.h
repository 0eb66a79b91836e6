/* rpc-test-util.h — scaffolding for the RPC tests: a private vchan
 * directory, the real bulkhead-agent started as a process with its own
 * domain id, and synchronous wrappers around the asynchronous client.
 *
 * Owns: test scaffolding only.
 * Must never: be linked into the product, or hide a failure (every wait has
 * a deadline that fails the test instead of hanging it). */
#ifndef BH_RPC_TEST_UTIL_H
#define BH_RPC_TEST_UTIL_H

#include <glib.h>
#include <sys/types.h>

#include "bulkhead/rpc-client.h"

/* Generous: the suite runs on 2 shared cores next to other builds. */
#define BH_TEST_DEADLINE_MS 60000u

typedef struct {
    char *tmp; /* temporary directory (removed at teardown) */
    char *dir; /* tmp/vchan: BH_VCHAN_DIR for the test and its agents */
    GPid agent;
    int domid;
} BhRpcFixture;

void bh_rpc_fixture_setup(BhRpcFixture *f, gconstpointer data);
void bh_rpc_fixture_teardown(BhRpcFixture *f, gconstpointer data);

/* Starts bulkhead-agent (BH_RPC_AGENT) as domain f->domid with extra
 * arguments (NULL-terminated, may be NULL). drop_setuid: without
 * CAP_SETUID/CAP_SETGID in its bounding set (a uid 0 that cannot switch). */
void bh_rpc_start_agent(BhRpcFixture *f, const char *const *extra_args, gboolean drop_setuid);
/* SIGKILL or SIGTERM the agent and reap it. */
void bh_rpc_stop_agent(BhRpcFixture *f, int sig);

/* Runs the default main context until *flag is set or the deadline passes
 * (then fails the test, naming what). */
void bh_rpc_spin_until(const gboolean *flag, const char *what);

BhRpcClient *bh_rpc_connect_sync(int domid, guint timeout_ms, GError **error);
gboolean bh_rpc_exec_sync(BhRpcClient *c, const char *user, const char *cmdline, int in, int out, int err,
                          gboolean wait, int *status, GError **error);

/* A memfd holding `len` bytes of `data` (offset 0), or an empty one. */
int bh_rpc_memfd(const void *data, gsize len);
/* Everything written to a memfd, NUL-terminated. */
GBytes *bh_rpc_memfd_contents(int fd);
char *bh_rpc_memfd_string(int fd);

#endif /* BH_RPC_TEST_UTIL_H */
