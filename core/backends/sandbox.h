/* sandbox.h — the sandbox backend: every running qube is a bubblewrap
 * sandbox (user, pid, ipc, uts, mount, network and cgroup namespaces) on the
 * host's kernel. The embedded default: no hypervisor needed.
 *
 * Owns the constructor registered in backend.c and a few read-only views for
 * tests and benchmarks. Everything else is the BhBackendOps contract of
 * backend.h; docs/sandbox.md describes the layout, isolation and limits.
 */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

BhBackend *bh_sandbox_backend_new(const BhBackendConfig *config, GError **error);

/* The host pid of a running qube's init (pid 1 inside), 0 when not running. */
pid_t bh_sandbox_init_pid(BhBackend *backend, const char *qube);
/* The host pid of a running netvm's uplink (slirp4netns), 0 when it has none. */
pid_t bh_sandbox_uplink_pid(BhBackend *backend, const char *qube);
/* Memory charged to a running qube's cgroup, in bytes (0: no memory cgroup). */
guint64 bh_sandbox_memory(BhBackend *backend, const char *qube);
/* The directory of a running qube's cgroup for "freezer", "memory" or
 * "pids", or NULL. */
const char *bh_sandbox_cgroup_dir(BhBackend *backend, const char *qube, const char *controller);
/* "privileged (idmapped layers, a host uid per qube); freezer: cgroup v1, ..." */
char *bh_sandbox_describe(BhBackend *backend);

G_END_DECLS
