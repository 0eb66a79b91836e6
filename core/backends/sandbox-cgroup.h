/* sandbox-cgroup.h — control groups for sandbox qubes: pause, limits, kill.
 *
 * Owns the choice of cgroup hierarchy and everything written into it: one
 * group per running qube under <hierarchy>/<daemon's own group>/bulkhead-<tag>/
 * <qube>, with the qube's memory and pids limits, frozen for Pause and
 * emptied for Kill. Three machine shapes are handled:
 *   - cgroup v2 with its controllers (pure v2): everything in v2;
 *   - cgroup v1 controllers freezer/memory/pids (with or without an empty v2
 *     mounted beside them, as on hybrid machines): v1 for each of them;
 *   - neither writable (an unprivileged daemon without delegation): no
 *     limits, and Pause falls back to stopping the qube's processes with
 *     SIGSTOP (done by the caller: see bh_sandbox_cgroups_freezer()).
 * BH_SANDBOX_CGROUP=v1|v2|none restricts the choice (tests, benchmarks).
 *
 * Groups of an earlier daemon of the same state directory are taken over or
 * swept (killed, removed) only when the caller names that daemon's tag.
 * It must never move a process itself (processes join by writing "0" to the
 * descriptors from bh_sandbox_cgroup_procs_fds() before they exec anything,
 * so nothing of a qube ever runs outside its group) nor touch groups it did
 * not create.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
    BH_CGROUP_NONE = 0,
    BH_CGROUP_V1 = 1,
    BH_CGROUP_V2 = 2,
} BhCgroupVersion;

typedef enum {
    BH_CG_FREEZER,
    BH_CG_MEMORY,
    BH_CG_PIDS,
    BH_CG_N,
} BhCgroupController;

typedef struct BhSandboxCgroups BhSandboxCgroups;
typedef struct BhSandboxCgroup BhSandboxCgroup;

/* What the kernel tells us; the real files unless a test passes its own. */
typedef struct {
    const char *mountinfo;   /* contents of /proc/self/mountinfo */
    const char *self_cgroup; /* contents of /proc/self/cgroup */
    const char *force;       /* "v1", "v2", "none" or NULL (BH_SANDBOX_CGROUP) */
    const char *tag;         /* names this backend's subtree: bulkhead-<tag> */
} BhCgroupProbe;

/* Finds usable hierarchies and creates this backend's subtree in each. Never
 * fails: what is unusable is logged once and left out. probe NULL: this
 * process's files, BH_SANDBOX_CGROUP and tag = our pid. */
BhSandboxCgroups *bh_sandbox_cgroups_new(const BhCgroupProbe *probe);
/* Removes the (empty) subtree. */
void bh_sandbox_cgroups_free(BhSandboxCgroups *cgs);
/* Which hierarchy serves a controller (BH_CGROUP_NONE: none usable). */
BhCgroupVersion bh_sandbox_cgroups_version(const BhSandboxCgroups *cgs, BhCgroupController ctrl);
/* "freezer v1, memory v1, pids v1": for logs and the docs. */
char *bh_sandbox_cgroups_describe(const BhSandboxCgroups *cgs);
/* The subtree for a hierarchy, for tests and the benchmark. */
const char *bh_sandbox_cgroups_base(const BhSandboxCgroups *cgs, BhCgroupVersion version,
                                    BhCgroupController ctrl);

typedef struct {
    guint64 memory_max;  /* bytes; 0 = no limit */
    guint64 memory_soft; /* bytes; 0 = none (v1 soft limit, v2 memory.low is not used) */
    guint64 pids_max;    /* 0 = no limit */
} BhCgroupLimits;

/* Creates the qube's groups (a leftover empty group of the same name is
 * replaced) and applies the limits. Fails when a limit cannot be written or
 * a leftover group still holds processes. */
BhSandboxCgroup *bh_sandbox_cgroup_new(BhSandboxCgroups *cgs, const char *qube, const BhCgroupLimits *limits,
                                       GError **error);
/* Kills what is left (see kill) and removes the groups. NULL-safe. */
void bh_sandbox_cgroup_free(BhSandboxCgroup *cg);

/* Opens every group's cgroup.procs for writing (close-on-exec); the caller
 * owns them. A process joins by writing "0" to each. */
GArray *bh_sandbox_cgroup_procs_fds(BhSandboxCgroup *cg, GError **error);

/* Freezes or thaws the whole group and waits until the kernel says it is
 * done. G_IO_ERROR_NOT_SUPPORTED when no freezer hierarchy is in use. */
gboolean bh_sandbox_cgroup_freeze(BhSandboxCgroup *cg, gboolean frozen, GError **error);

/* SIGKILL for every process in the group (cgroup.kill where v2 has it),
 * thawing a v1-frozen group so the kill can land. */
void bh_sandbox_cgroup_kill(BhSandboxCgroup *cg);

/* Pids in the group (of the first hierarchy in use); empty when none is. */
GArray *bh_sandbox_cgroup_pids(BhSandboxCgroup *cg);

/* Charged memory in bytes (memory.usage_in_bytes / memory.current); 0 when
 * no memory hierarchy is in use. */
guint64 bh_sandbox_cgroup_memory(BhSandboxCgroup *cg);

/* CPU time used, in µs: cpu.stat's usage_usec on cgroup v2; with v1 (no
 * cpuacct hierarchy is used) the sum of the group's live processes'
 * user+system time from /proc/PID/stat, so it may drop when one exits. */
guint64 bh_sandbox_cgroup_cpu_usec(BhSandboxCgroup *cg);

/* The group's directory in a hierarchy, or NULL. */
const char *bh_sandbox_cgroup_path(BhSandboxCgroup *cg, BhCgroupController ctrl);

/* Groups an earlier daemon (whose subtree is bulkhead-<tag>) made, in the
 * hierarchies this one uses; see sandbox-adopt.h.
 * adopt: takes over the qube's groups if member is in every one of them
 * (else NULL, and nothing is touched). frozen: the freezer says so. */
BhSandboxCgroup *bh_sandbox_cgroup_adopt(BhSandboxCgroups *cgs, const char *tag, const char *qube,
                                         pid_t member, GError **error);
gboolean bh_sandbox_cgroup_frozen(BhSandboxCgroup *cg);
/* Whether the qube's group (qube NULL: the subtree) exists in a hierarchy. */
gboolean bh_sandbox_cgroups_has_group(BhSandboxCgroups *cgs, const char *tag, const char *qube);
/* Kills everything in the qube groups under bulkhead-<tag> whose names are
 * not in keep (may be NULL; only: that one group, if not NULL), removes them
 * and the subtree if it is then empty; returns the names of the groups that
 * still held processes. */
GPtrArray *bh_sandbox_cgroups_sweep(BhSandboxCgroups *cgs, const char *tag, GHashTable *keep,
                                    const char *only);

G_END_DECLS
