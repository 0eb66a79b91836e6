/* sandbox-adopt.h — what lets a restarted bulkheadd take over the sandboxes
 * of the daemon before it (docs/sandbox.md, "When bulkheadd restarts").
 *
 * Owns the record a running qube leaves in <state_dir>/sandbox-running/<name>
 * (who its bubblewrap and init are, with their start times, which cgroup
 * subtree and staging directory it uses), the list of earlier daemons whose
 * cgroup subtrees may still hold this state directory's qubes, and the
 * proof, from the kernel, that a record still describes the same processes:
 * pidfds, start times, uids, parentage, pid namespace, cgroup membership,
 * the staging mount, the boot.
 *
 * A record is only a claim: nothing here signals a process or removes a
 * group. It must never hand back a pidfd for a process it did not prove to be
 * the one the record names (a recycled pid, someone else's process).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "sandbox-cgroup.h"

G_BEGIN_DECLS

/* Descriptor number of a spare read end of the qube's console pipe, handed
 * to bubblewrap, which passes it on to the init (bubblewrap's own process
 * closes it): the console outlives the daemon (no EPIPE for the qube's
 * writers) and the next daemon takes it back from the init with
 * pidfd_getfd(2) — only if it is still that pipe (console_ino). */
#define BH_SANDBOX_FD_CONSOLE 11

typedef struct {
    char *name;
    guint32 qid;
    uid_t uid; /* host uid of bubblewrap and of the init */
    char *tag; /* the daemon that started it: cgroups under bulkhead-<tag> */
    pid_t bwrap_pid;
    guint64 bwrap_start; /* clock ticks after boot, /proc/<pid>/stat field 22 */
    pid_t init_pid;
    guint64 init_start;
    char *stage_dir;
    char *vchan_dir;
    char *netvm; /* NULL: none */
    gboolean provides_network;
    gboolean ipv6; /* it has IPv6: a netvm's rules, a client's link */
    gboolean disposable;
    char *boot_id;
    guint64 console_ino; /* the console pipe's inode */
} BhSandboxRecord;

/* A qube name as the model allows it (paths and cgroups are built from it). */
gboolean bh_sandbox_name_ok(const char *name);

void bh_sandbox_record_free(BhSandboxRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhSandboxRecord, bh_sandbox_record_free)

/* <state_dir>/sandbox-running, created 0700 when missing. */
char *bh_sandbox_record_dir(const char *state_dir, GError **error);
/* Atomic (write and rename). */
gboolean bh_sandbox_record_save(const char *dir, const BhSandboxRecord *r, GError **error);
BhSandboxRecord *bh_sandbox_record_load(const char *dir, const char *name, GError **error);
void bh_sandbox_record_remove(const char *dir, const char *name);
/* Names of the records in dir (each a valid qube name). */
GPtrArray *bh_sandbox_record_list(const char *dir);

/* Fills the pids, start times and boot id for a qube now running. */
gboolean bh_sandbox_record_fill(BhSandboxRecord *r, pid_t bwrap_pid, pid_t init_pid, GError **error);

/* What a record must agree with besides the kernel. */
typedef struct {
    const char *bwrap;     /* bubblewrap's path */
    uid_t uid;             /* the host uid the qube's qid gives */
    const char *stage_top; /* /run/bulkhead-sandbox (or the unprivileged one) */
    BhSandboxCgroups *cgroups;
} BhSandboxExpect;

typedef struct {
    int bwrap_pidfd;
    int init_pidfd;
    BhSandboxCgroup *cgroup; /* NULL when no hierarchy is in use */
} BhSandboxProof;

/* TRUE with pidfds for both processes and the qube's groups when every check
 * holds; otherwise FALSE with the first one that failed, and nothing open. */
gboolean bh_sandbox_record_verify(const BhSandboxRecord *r, const BhSandboxExpect *expect,
                                  BhSandboxProof *proof, GError **error);
void bh_sandbox_proof_clear(BhSandboxProof *proof);

/* Earlier daemons of this state directory: "<pid> <start>" lines in
 * <dir>/.daemons. A tag is dead when no process with that pid and start time
 * runs. */
GPtrArray *bh_sandbox_owners_load(const char *dir);
gboolean bh_sandbox_owners_save(const char *dir, GPtrArray *tags, GError **error);
gboolean bh_sandbox_owner_alive(const char *tag_line);
/* "<pid> <start>" for this process. */
char *bh_sandbox_owner_self(void);

/* The console read end held by the init, if it is still the pipe the
 * record names; -1 otherwise. */
int bh_sandbox_record_take_console(const BhSandboxRecord *r, int init_pidfd);

/* pidfd helpers (-1 / FALSE with errno on failure). */
int bh_pidfd_open(pid_t pid);
gboolean bh_pidfd_signal(int pidfd, int sig);
int bh_pidfd_getfd(int pidfd, int target_fd);
gboolean bh_proc_start_time(pid_t pid, guint64 *start);
/* The process exists and is not a zombie. */
gboolean bh_proc_running(pid_t pid);

G_END_DECLS
