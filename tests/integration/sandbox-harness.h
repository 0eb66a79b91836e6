/* sandbox-harness.h — drives the real sandbox backend for the sandbox-*
 * integration tests: a private state and runtime directory per test, real
 * bubblewrap sandboxes started through backend.h, commands run inside them
 * through the daemon's agent set (core/daemon/bh-agent-set.h),
 * and the state transitions the backend reports.
 *
 * It must never use the caller's own XDG directories or leave a qube
 * running: every fixture kills what it started.
 */
#pragma once

#include <glib.h>

#include "backend.h"
#include "bh-agent-set.h"

typedef struct {
    char *tmp;     /* removed at teardown */
    char *state;   /* <tmp>/state */
    char *runtime; /* <tmp>/run, also XDG_RUNTIME_DIR */
    char *home;    /* <tmp>/home: stands for the host user's home */
    BhBackend *backend;
    BhAgentSet *agents;     /* commands go through the qubes' agents, as in bulkheadd */
    GHashTable *states;     /* qube -> last BhPowerState reported */
    GPtrArray *transitions; /* "qube State[: reason]" */
    char *resolv_conf;      /* the backend's (set, then restart it); freed by the caller */
} BhHarness;

/* A qube as the daemon would describe it. */
typedef struct {
    const char *name;
    guint32 qid;
    const char *klass;
    const char *template_name;
    const char *root_template;
    const char *netvm;
    gboolean provides_network;
    gboolean uplink;               /* a netvm without netvm: slirp4netns */
    gboolean uplink_host_loopback; /* ... reaching the host's 127.0.0.1 */
    gboolean ipv6;                 /* it has IPv6 (the model's ip6) */
    gboolean disposable;
    const char *root_path;
    gboolean root_readonly;
    guint memory_mib;
    guint maxmem_mib;
    guint private_mib; /* 0: the backend's default */
} BhTestQube;

/* Skips the test (returns FALSE) when sandboxes cannot run here. */
gboolean bh_harness_setup(BhHarness *h);
void bh_harness_teardown(BhHarness *h);
/* Tears the backend down and opens a new one on the same state (a daemon
 * restart). */
void bh_harness_restart_backend(BhHarness *h);

BhBackendQube bh_harness_qube(const BhTestQube *q);
gboolean bh_harness_create(BhHarness *h, const BhTestQube *q, GError **error);
gboolean bh_harness_start(BhHarness *h, const BhTestQube *q, GError **error);
gboolean bh_harness_shutdown(BhHarness *h, const char *qube, guint timeout_s, GError **error);
/* Runs cmd in the qube as its user; returns the exit status (-1 on error)
 * and stdout+stderr in *output (may be NULL). */
int bh_harness_run(BhHarness *h, const char *qube, const char *cmd, char **output);
/* The same, for a test that reads the output: it stripped (never NULL; free
 * it); a non-zero status is only logged, the caller judges the output. */
char *bh_harness_run_out(BhHarness *h, const char *qube, const char *cmd);
/* Waits until the backend reported state for qube (TRUE) or timeout. */
gboolean bh_harness_wait_state(BhHarness *h, const char *qube, BhPowerState state, guint timeout_ms);
BhPowerState bh_harness_state(BhHarness *h, const char *qube);
/* The reason given with the last transition of qube into state, or NULL. */
const char *bh_harness_reason(BhHarness *h, const char *qube, BhPowerState state);
/* Writes a file into a running qube's home (through the qube). */
void bh_harness_put(BhHarness *h, const char *qube, const char *name, const char *content);
void bh_harness_put_data(BhHarness *h, const char *qube, const char *name, const void *data, gsize len,
                         unsigned mode);
/* The host path of a file in a qube's home: through its init's root while it
 * runs (its volume is mounted only there), else the home directory a daemon
 * without root keeps. */
char *bh_harness_private_path(BhHarness *h, const char *qube, const char *name);
/* Puts probe.py in the qube's home: `python3 probe.py unix PATH`,
 * `abstract NAME`, `tcp HOST PORT [TIMEOUT]` print "connected" or the errno
 * name (ENOENT, ECONNREFUSED, ENETUNREACH, ...) or "timeout". */
void bh_harness_put_probe(BhHarness *h, const char *qube);
/* Iterates the main context for ms milliseconds. */
void bh_harness_spin(guint ms);
