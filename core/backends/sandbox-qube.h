/* sandbox-qube.h — what the parts of the sandbox backend share; the one
 * private header of core/backends/sandbox*.c (the backend's face is
 * sandbox.h; nothing outside the backend includes this).
 *
 * Owns the two records every part works on (BhSandbox: the backend; and
 * BhSandboxQube: one running or starting qube) and what each part offers the
 * others, listed per file. The parts call one way, each only into the files
 * listed above it here: sandbox-qube.c (the record) ← sandbox-volumes.c,
 * sandbox-agent.c ← sandbox-start.c ← sandbox-power.c, sandbox-takeover.c ←
 * sandbox.c (the constructor and the operations table). docs/sandbox.md,
 * "Inside the backend", says what each file owns.
 */
#pragma once

#include <sys/types.h>

#include "backend.h"
#include "sandbox-adopt.h"
#include "sandbox-cgroup.h"
#include "sandbox-console.h"

/* In each daemon's staging directory: the daemon's state directory. Its
 * files start with '.', which no qube name can (a letter comes first), so
 * that they never meet a qube's staging directory of the same name. */
#define BH_SANDBOX_STATE_MARKER ".state"
/* The qubes' resolv.conf, in the staging directory beside the marker. */
#define BH_SANDBOX_GUEST_RESOLV ".resolv.conf"
/* Its name before that (a qube named resolv.conf could not start): what a
 * daemon of an earlier version left is swept under this name. */
#define BH_SANDBOX_GUEST_RESOLV_OLD "resolv.conf"
/* A qube whose init has not said "ready" by then is killed. */
#define BH_SANDBOX_START_TIMEOUT_S 60
/* Lines of a qube's console kept for error messages. */
#define BH_SANDBOX_LOG_LINES 6
/* How long the RPC agent may take to answer once the init is up (the
 * daemon's agent set waits that long, then kills the qube). */
#define BH_SANDBOX_AGENT_TIMEOUT_MS 30000

typedef struct BhSandbox BhSandbox;

typedef struct {
    int refs;
    BhSandbox *sb; /* NULL once the backend is gone */
    char *name;
    guint32 qid;
    uid_t uid;
    gid_t gid;
    char *netvm;
    gboolean provides_network;
    gboolean uplink;               /* asked for: slirp4netns on its namespace (sandbox-net.h) */
    gboolean uplink_host_loopback; /* it reaches the host's 127.0.0.1 */
    gboolean ipv6;                 /* it has IPv6 (backend.h): its link, as a netvm its rules */
    GSubprocess *uplink_proc;      /* the uplink while it runs */
    int uplink_pidfd;              /* an adopted netvm's uplink (not our child), or -1 */
    gboolean net_ready;            /* a netvm whose namespace is set up */
    char *linked_to;               /* the netvm its eth0 leads to now (NULL: none) */
    char *firewall;                /* its rules for its netvm (backend.h set_firewall) */
    gboolean disposable;
    BhPowerState state;
    GSubprocess *proc;
    pid_t init_pid;
    dev_t private_dev;    /* the loop device of its private volume, 0: none */
    gboolean root_volume; /* its root layers are a volume (root.img) */
    /* O_PATH on its home and its /etc (so on its private and root volumes),
     * taken when it runs, so that a volume is still looked at after the qube
     * stopped by itself (its init's root gone); -1: none. */
    int home_fd, etc_fd;
    char *root_template; /* the TemplateVM whose layers it runs on; NULL: its own (or adopted) */
    BhSandboxCgroup *cgroup;
    char *vchan_dir;
    char *stage_dir;
    GOutputStream *block; /* releases bubblewrap's child */
    GInputStream *ready;
    GInputStream *info;
    GString *info_text;
    GTask *start_task;
    GTask *failed_start; /* a start that failed, answered once the qube is gone */
    GError *start_error; /* why it failed */
    GPtrArray *shutdown_tasks;
    guint timer; /* start timeout, then the forced-shutdown timer */
    gboolean stop_requested;
    gboolean signal_paused;
    GCancellable *cancellable;
    GQueue log;           /* last console lines (char*) */
    BhConsole *console;   /* bounds and rate-limits what the qube logs */
    GInputStream *output; /* the console: bubblewrap's stdout and stderr */
    guint console_timer;  /* reports dropped lines after a flood */
    /* Taken over from an earlier daemon (sandbox-adopt.h): bubblewrap is not
     * our child, so its end is seen on its pidfd and signals go through
     * pidfds (the daemon's agent set connects to its agent again). */
    gboolean adopted;
    int bwrap_pidfd;
    int init_pidfd;
    guint exit_watch;
    BhSandboxRecord *record; /* what this run left in the record directory */
    guint64 console_ino;
    char *record_dir;
} BhSandboxQube;

struct BhSandbox {
    BhBackend parent;
    char *stage_base; /* where each qube's staging tmpfs is mounted (privately) */
    gboolean privileged;
    gboolean private_images;       /* homes are sized volumes (sandbox-private.h), not directories */
    gboolean root_images;          /* StandaloneVMs' roots are sized volumes too */
    gboolean template_root_images; /* and TemplateVMs' (BH_SANDBOX_TEMPLATE_ROOT=volume) */
    gboolean verbose;
    BhSandboxCgroups *cgroups;
    GPtrArray *programs;
    char *bin_dir;      /* their copies, bound whole into every qube */
    char *services_dir; /* Bulkhead's own call services, or NULL */
    char *share_dir;    /* desktop data shown to qubes (guest-share), or NULL */
    gboolean has_agent; /* bulkhead-agent is among the programs */
    char *bwrap;
    GBytes *seccomp;         /* the filter of every qube (sandbox-seccomp.h) */
    GHashTable *qubes;       /* name -> BhSandboxQube* (running or starting) */
    char *stage_top;         /* stage_base's parent: one directory per daemon */
    char *record_dir;        /* <state_dir>/sandbox-running; NULL: records could not be kept */
    char *tag;               /* this daemon's cgroup subtree: bulkhead-<tag> */
    char *resolv_conf;       /* names the uplink DNS's resolver; NULL: the uplink's forwarder */
    GThreadPool *net_pool;   /* network jobs, one at a time (sandbox-start.c) */
    char *guest_resolv_conf; /* <stage_base>/resolv.conf: the qubes' (virtual DNS); NULL: none */
    /* This kernel cannot idmap a tmpfs: vchan directories stay unbounded. */
    gboolean vchan_unbounded;
    /* Qubes whose volumes a worker thread copies now (a disposable and its
     * template, sandbox-dispcopy.c; a clone and its source, sandbox-clone.c)
     * -> count: neither starts nor loses its volumes until the copy is done. */
    GHashTable *copying;
    GHashTable *copies; /* disposable -> its copy (BhStartCopy, not owned), for a kill meanwhile */
};

/* ---- sandbox-qube.c ---- */
BhSandboxQube *bh_qube_ref(BhSandboxQube *q);
void bh_qube_unref(BhSandboxQube *q);
void bh_sandbox_answer_failed_start(BhSandboxQube *q);
BhSandboxQube *bh_sandbox_lookup(BhSandbox *sb, const char *name);
void bh_sandbox_set_state(BhSandboxQube *q, BhPowerState state, const char *reason);
void bh_sandbox_signal_init(BhSandboxQube *q, int sig);
char *bh_qube_last_log(BhSandboxQube *q);
gboolean bh_sandbox_valid_name(const char *name, GError **error);
char *bh_sandbox_qube_dir(BhSandbox *sb, const char *name);
uid_t bh_sandbox_host_uid(BhSandbox *sb, guint32 qid);
gid_t bh_sandbox_host_gid(BhSandbox *sb, guint32 qid);
gboolean bh_sandbox_own_root(const BhBackendQube *qube);
const char *bh_sandbox_base_root(const BhBackendQube *qube);
gboolean bh_sandbox_check_base(const char *base, GError **error);
BhSandboxQube *bh_sandbox_require(BhSandbox *sb, const char *name, BhPowerState want, const char *what,
                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhSandboxQube, bh_qube_unref)

/* ---- sandbox-volumes.c ---- */
guint bh_sandbox_private_mib(const BhBackendQube *qube);
guint bh_sandbox_root_mib(const BhBackendQube *qube);
/* Whether the qube's own root layers are (or, at its next start, become) a
 * volume: a StandaloneVM's (a TemplateVM's with template_root_images), and
 * any whose root.img exists. */
gboolean bh_sandbox_root_volume(BhSandbox *sb, const BhBackendQube *qube);
/* Whether the layers a qube runs on (its own, or its template's) are a
 * root volume now: <root_owner>/root.img exists. */
gboolean bh_sandbox_runs_on_root_volume(BhSandbox *sb, const char *root_owner_dir);
/* Logs which of a running qube's volumes are full (at a stop: why its
 * programs met ENOSPC is then in dom0's log). */
void bh_sandbox_report_full_volumes(BhSandboxQube *q);
/* Once it runs: keeps hold of its volumes' filesystems (home_fd, etc_fd) for
 * bh_sandbox_report_full_volumes after it stopped; released at its cleanup
 * (the volume's filesystem then goes, as before). */
void bh_sandbox_hold_volumes(BhSandboxQube *q);
void bh_sandbox_release_volumes(BhSandboxQube *q);
/* Renames what an earlier qube of name left in its volumes' place aside
 * (sandbox-layout.h), with a logged line: for a qube being added only. */
gboolean bh_sandbox_set_aside_leftover(BhSandbox *sb, const char *name, GError **error);
gboolean bh_sandbox_create_volumes(BhBackend *backend, const BhBackendQube *qube, GError **error);
/* As create_volumes, with a disposable's copy of its template's private
 * volume made here and now (create_volumes leaves it to the start, which
 * makes it off the main loop). */
gboolean bh_sandbox_create_volumes_now(BhBackend *backend, const BhBackendQube *qube, GError **error);
/* The private volume a disposable still has to copy: TRUE with the paths
 * (newly allocated) when it has none yet and its template has one. */
gboolean bh_sandbox_private_copy_due(BhSandbox *sb, const BhBackendQube *qube, char **source, char **image);
/* The move of a qube's root layers into its root volume still to be made
 * (they are directories, and no other qube runs on them): TRUE with its
 * directory (newly allocated). */
gboolean bh_sandbox_root_move_due(BhSandbox *sb, const BhBackendQube *qube, char **qube_dir);
/* Freezes the running template's private volume for a copy of it: *frozen
 * is the descriptor to thaw, or -1 when the template is not running. */
gboolean bh_sandbox_freeze_template(BhSandbox *sb, const char *template_name, int *frozen, GError **error);
/* A kill of a disposable whose private volume is still being copied: its
 * start fails once the copy is done. FALSE when no copy is under way. */
gboolean bh_sandbox_kill_copying(BhSandbox *sb, const char *name);

/* ---- sandbox-dispcopy.c ---- */
/* When the disposable qube still needs its copy of its template's private
 * volume, or a qube its root layers moved into its root volume: starts that
 * in a worker thread and TRUE (the start goes on, or fails, through task
 * once it is done); else FALSE and nothing done. */
gboolean bh_sandbox_start_copy(BhSandbox *sb, const BhBackendQube *qube, GTask *task);
/* Counts a copy from or to name in copying (sb->copying; delta +1 or -1). */
void bh_sandbox_copying_mark(GHashTable *copying, const char *name, int delta);

/* ---- sandbox-clone.c ---- */
/* Clones source's volumes for qube: here and now, or in a worker thread
 * (the backend's clone_volumes_async; sb->copying holds both meanwhile). */
gboolean bh_sandbox_clone_volumes(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                  GError **error);
void bh_sandbox_clone_volumes_async(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_sandbox_clone_volumes_finish(BhBackend *backend, GAsyncResult *result, GError **error);

/* ---- sandbox-start.c ---- */
/* The rest of a start once the checks are done and the volumes in place (a
 * disposable's private copy made). Takes task. */
void bh_sandbox_start_now(BhSandbox *sb, const BhBackendQube *qube, GTask *task);
gboolean bh_sandbox_remove_volumes(BhBackend *backend, const char *name, GError **error);
void bh_sandbox_volume_usage(BhBackend *backend, const char *const *qubes, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
GHashTable *bh_sandbox_volume_usage_finish(BhBackend *backend, GAsyncResult *result, GError **error);
int bh_sandbox_idmap_userns(uid_t uid, gid_t gid, GError **error);

/* ---- sandbox-agent.c ---- */
gboolean bh_sandbox_agent_address(BhBackend *backend, const char *name, BhBackendAgentAddress *out,
                                  GError **error);
/* The bulkhead-agent a qube runs: $BH_AGENT_PATH if set, else the one in this
 * build tree if it exists (development), else the installed one. */
const char *bh_sandbox_agent_path(void);

/* ---- sandbox-start.c ---- */
void bh_sandbox_start_fail(BhSandboxQube *q, GError *error);
void bh_sandbox_force_stop(BhSandboxQube *q);
void bh_sandbox_console_line(const char *line, guint64 dropped, gpointer data);
void bh_sandbox_log_read(GObject *source, GAsyncResult *result, gpointer data);
void bh_sandbox_cleanup(BhSandboxQube *q);
void bh_sandbox_finish_exit(BhSandboxQube *q, BhPowerState state, const char *reason);
void bh_sandbox_start(BhBackend *backend, const BhBackendQube *qube, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_sandbox_start_finish(BhBackend *backend, GAsyncResult *result, GError **error);
gboolean bh_sandbox_set_netvm(BhBackend *backend, const char *name, const char *netvm, GError **error);
void bh_sandbox_set_firewall(BhBackend *backend, const char *name, const char *rules,
                             GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_sandbox_set_firewall_finish(BhBackend *backend, GAsyncResult *result, GError **error);

/* ---- sandbox-power.c ---- */
gboolean bh_sandbox_pause(BhBackend *backend, const char *name, GError **error);
gboolean bh_sandbox_unpause(BhBackend *backend, const char *name, GError **error);
void bh_sandbox_shutdown(BhBackend *backend, const char *name, guint timeout_s, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_sandbox_shutdown_finish(BhBackend *backend, GAsyncResult *result, GError **error);
gboolean bh_sandbox_kill(BhBackend *backend, const char *name, GError **error);
BhPowerState bh_sandbox_get_state(BhBackend *backend, const char *name);
gboolean bh_sandbox_get_stats(BhBackend *backend, const char *name, BhBackendStats *out, GError **error);

/* ---- sandbox-takeover.c ---- */
void bh_sandbox_adopt(BhBackend *backend, const BhBackendQube *qubes, gsize n_qubes);
