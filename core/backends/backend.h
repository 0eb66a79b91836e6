/* backend.h — the interface between bulkheadd and whatever runs qubes.
 *
 * Owns the contract every backend implements (sandbox: bubblewrap namespaces;
 * xen: libxl domains): a table of operations plus an instance that embeds
 * BhBackend as its first member. The daemon calls these and nothing else to
 * start, stop or pause qubes and to learn where a qube's RPC agent listens;
 * backends report every power state transition back through one callback.
 *
 * A backend must never open the store, talk D-Bus, evaluate policy or talk
 * RPC to a qube: the daemon hands it a filled-in BhBackendQube, owns all
 * state decisions, and alone connects to the agents (core/daemon/bh-agent-set.h).
 * Everything here runs on the daemon's main context; asynchronous operations
 * complete there through GAsyncReadyCallback (a backend may use threads
 * internally but must call back on the context that called it).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Power states as Qubes names them; the daemon keeps one per qube in memory. */
typedef enum {
    BH_POWER_HALTED,
    BH_POWER_TRANSIENT, /* starting: created but not yet running */
    BH_POWER_RUNNING,
    BH_POWER_PAUSED,
    BH_POWER_HALTING, /* clean shutdown requested, not yet down */
    BH_POWER_DYING,   /* being destroyed */
    BH_POWER_CRASHED,
} BhPowerState;

#define BH_POWER_N_STATES (BH_POWER_CRASHED + 1)

/* "Halted", "Running", ...; "Unknown" for a value out of range. */
const char *bh_power_state_name(BhPowerState state);
/* Parses a name as above (exact case); FALSE for anything else. */
gboolean bh_power_state_from_name(const char *name, BhPowerState *out);

#define BH_BACKEND_ERROR (bh_backend_error_quark())
GQuark bh_backend_error_quark(void);

typedef enum {
    BH_BACKEND_ERROR_FAILED,        /* the operation itself failed (message says why) */
    BH_BACKEND_ERROR_NOT_SUPPORTED, /* this backend cannot do that */
    BH_BACKEND_ERROR_UNAVAILABLE,   /* this backend is not built or cannot run here */
    BH_BACKEND_ERROR_WRONG_STATE,   /* e.g. pause of a halted qube */
    BH_BACKEND_ERROR_TIMEOUT,
} BhBackendError;

/* What a backend needs to know about one qube, filled in by the daemon from
 * the model for each call. Strings are borrowed for the duration of the call
 * (a backend copies what it keeps). NULL means "none". */
typedef struct {
    const char *name;
    guint32 qid;       /* stable across restarts; xen may derive names from it */
    const char *klass; /* "AdminVM", "TemplateVM", "AppVM", "DispVM", "StandaloneVM" */
    const char *label;
    const char *template_name; /* the qube's template (for a DispVM: its disposable template) */
    const char *root_template; /* the TemplateVM whose root it runs on read-only; NULL when
                                  the qube has its own root (TemplateVM, StandaloneVM) */
    const char *netvm;         /* the qube providing its network; already running at start */
    gboolean provides_network;
    /* A netvm without netvm reaches the real network through user-mode
     * networking (sandbox: slirp4netns); FALSE when the global network_uplink is
     * off. Ignored for any other qube. */
    gboolean uplink;
    /* The uplink reaches the host's own 127.0.0.1 (the global
     * network_uplink_host_loopback; FALSE by default: dom0's local services
     * stay out of sys-net's reach). Ignored without uplink. */
    gboolean uplink_host_loopback;
    /* It has IPv6 (the model's ip6 is set: ipv6 on for it and its whole
     * netvm chain). A netvm with it routes and NATs IPv6 for its clients
     * that have it too; a netvm without netvm gets IPv6 on its uplink. */
    gboolean ipv6;
    /* Its firewall for its netvm: nft statements, one a line, each with its
     * verdict, the last one the default (bulkhead/firewall.h renders them);
     * NULL: everything accepted. */
    const char *firewall;
    gboolean disposable; /* private data is a throw-away copy of template_name's */
    /* The root filesystem tree (sandbox): root_path of root_template, or of the
     * qube itself when it has its own root; "" means one the backend keeps. */
    const char *root_path;
    gboolean root_readonly; /* even for the qube owning the root */
    guint memory_mib;
    guint maxmem_mib;
    guint vcpus;
    guint private_mib;     /* size of the private volume; 0: the backend's default */
    guint root_mib;        /* size of a StandaloneVM's root volume (sandbox); 0: the default */
    const char *kernel;    /* xen: kernel version, "" for the default */
    const char *virt_mode; /* xen: "pvh", "hvm" or "pv" */
    /* Its services (qvm-service), "NAME=1" on or "NAME=0" off, names checked
     * by the model (bh_service_validate); NULL: none. Shown to the qube
     * read-only at its start; it never writes them back. */
    const char *const *services;
} BhBackendQube;

/* What a running qube uses now (the domains widget's figures). */
typedef struct {
    guint64 memory_bytes; /* charged to it now */
    guint64 cpu_usec;     /* CPU time so far; the caller takes differences */
} BhBackendStats;

/* Where a running qube's RPC agent (bulkhead-agent) listens: all the
 * daemon's agent set needs to connect to it (the port is the protocol's,
 * BH_RPC_VCHAN_PORT). */
typedef struct {
    int transport;          /* enum bh_vchan_transport: BH_VCHAN_SOCKET (sandbox), BH_VCHAN_XEN */
    int domid;              /* the qube's vchan domain id */
    guint ready_timeout_ms; /* how long after Running its agent may take to answer */
} BhBackendAgentAddress;

/* What a qube's volumes take on dom0's disk (volume_usage). */
typedef struct {
    guint64 bytes;      /* its private volume, what du says: allocated blocks, not the size limit */
    gboolean exact;     /* FALSE: a walk stopped at its bound; bytes is at least that */
    guint64 root_bytes; /* its own root volume, the same way; 0: it has none */
} BhBackendUsage;

typedef struct BhBackend BhBackend;

/* Called by the backend on every transition, including ones nobody asked
 * for (a qube that powers itself off or crashes). reason may be NULL. */
typedef void (*BhBackendStateFunc)(BhBackend *backend, const char *qube, BhPowerState state,
                                   const char *reason, gpointer user_data);

typedef struct {
    /* Volumes. create: a new qube's private storage; what a dead qube of its
     * name left is set aside, never adopted (volume-leftovers.h). clone:
     * copy src's volumes for dst, with the same set-aside. Both, when they
     * fail, leave nothing they made and never remove what was there before
     * (the caller's undo only forgets the qube). remove: delete everything
     * stored for the qube; a missing volume is not an error. */
    gboolean (*create_volumes)(BhBackend *backend, const BhBackendQube *qube, GError **error);
    gboolean (*clone_volumes)(BhBackend *backend, const char *source, const BhBackendQube *qube,
                              GError **error);
    gboolean (*remove_volumes)(BhBackend *backend, const char *qube, GError **error);
    /* clone_volumes off the caller's main loop (a clone copies all that the
     * source stored: minutes of a daemon answering nothing otherwise).
     * Completes once the copy is made, or failed leaving nothing of dst;
     * until then neither source nor dst starts or loses its volumes.
     * Optional: without it, clone_volumes runs at once. */
    void (*clone_volumes_async)(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                GAsyncReadyCallback callback, gpointer user_data);
    gboolean (*clone_volumes_finish)(BhBackend *backend, GAsyncResult *result, GError **error);

    /* Completes when the qube is Running (state callbacks: Transient, Running)
     * or failed to start (Halted or Crashed, with the error). */
    void (*start)(BhBackend *backend, const BhBackendQube *qube, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data);
    gboolean (*start_finish)(BhBackend *backend, GAsyncResult *result, GError **error);

    /* Asks for a clean shutdown (Halting), forces it after timeout_s seconds,
     * completes when Halted. A paused qube is resumed first. */
    void (*shutdown)(BhBackend *backend, const char *qube, guint timeout_s, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data);
    gboolean (*shutdown_finish)(BhBackend *backend, GAsyncResult *result, GError **error);

    /* Destroys the qube. It must report Halted through the callback once the
     * qube is gone, before returning or later; until then the daemon shows
     * Dying. */
    gboolean (*kill)(BhBackend *backend, const char *qube, GError **error);
    gboolean (*pause)(BhBackend *backend, const char *qube, GError **error);
    gboolean (*unpause)(BhBackend *backend, const char *qube, GError **error);

    /* The backend's own view, used by the daemon to resynchronise on start. */
    BhPowerState (*get_state)(BhBackend *backend, const char *qube);
    /* Memory and CPU of a running or paused qube (WRONG_STATE otherwise);
     * cheap enough to be asked every few seconds. */
    gboolean (*get_stats)(BhBackend *backend, const char *qube, BhBackendStats *out, GError **error);

    /* Where the running qube's agent listens. BH_BACKEND_ERROR_UNAVAILABLE:
     * the qube has no agent (the installation has none to give it);
     * _WRONG_STATE: it is not running. The daemon's agent set asks this on
     * every boot and adoption; a backend never connects itself. */
    gboolean (*agent_address)(BhBackend *backend, const char *qube, BhBackendAgentAddress *out,
                              GError **error);

    /* Networking, optional (NULL: the backend cannot). set_netvm: the
     * qube's netvm is now netvm (NULL: none); a running qube is relinked at
     * once (its old link cut, the new one made if that netvm runs).
     * set_firewall: the qube's rules (as BhBackendQube.firewall), applied
     * in its netvm at once while it runs, the connections they now forbid
     * cut; completes when they are in force. */
    gboolean (*set_netvm)(BhBackend *backend, const char *qube, const char *netvm, GError **error);
    void (*set_firewall)(BhBackend *backend, const char *qube, const char *rules, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
    gboolean (*set_firewall_finish)(BhBackend *backend, GAsyncResult *result, GError **error);

    /* Optional (NULL: cannot say). The disk space each named qube's private
     * volume (and its own root volume, if it has one) takes, measured off the main context (a walk of a tree
     * the qube shapes is bounded); completes with a table name → BhBackendUsage* (g_free'd), without the
     * qubes that have no volume. */
    void (*volume_usage)(BhBackend *backend, const char *const *qubes, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
    GHashTable *(*volume_usage_finish)(BhBackend *backend, GAsyncResult *result, GError **error);

    /* Once, when the daemon starts and is the one daemon of its state
     * directory: takes over the qubes an earlier daemon left running, for the
     * qubes named in qubes (the store's, as they are now), reporting each
     * through the state callback (Running or Paused); whatever of an earlier
     * daemon runs but is not one of them or cannot be proven to be what it
     * claims is killed and cleaned up. NULL: nothing of this backend outlives
     * its daemon (or, like xen domains, it is found through get_state). */
    void (*adopt)(BhBackend *backend, const BhBackendQube *qubes, gsize n_qubes);

    /* Stops every qube this backend started or adopted (forcefully if it
     * must) and frees the instance. */
    void (*free)(BhBackend *backend);
} BhBackendOps;

/* The common head of every backend instance. */
struct BhBackend {
    const BhBackendOps *ops;
    const char *name; /* "sandbox", "xen" */
    char *state_dir;  /* where volumes live: <state_dir>/qubes/<name>/ */
    BhBackendStateFunc state_changed;
    gpointer state_changed_data;
};

/* What the daemon passes to a backend constructor. */
typedef struct {
    const char *state_dir;
    const char *runtime_dir; /* sockets and other per-boot files */
    gboolean verbose;
    const char *resolv_conf; /* names the uplink DNS's resolver; NULL: the uplink's own forwarder */
} BhBackendConfig;

typedef BhBackend *(*BhBackendNewFunc)(const BhBackendConfig *config, GError **error);

/* A backend this build knows about. create is NULL for one that is not built. */
typedef struct {
    const char *name;
    const char *isolation; /* user-facing: what separates the qubes */
    BhBackendNewFunc create;
} BhBackendInfo;

/* Every backend name the daemon accepts, "none" first. */
const BhBackendInfo *bh_backend_list(gsize *n_backends);

/* "none, sandbox, xen (not built: sandbox, xen)": for messages and --help. */
char *bh_backend_describe_choices(void);

/* Opens the named backend. "none" succeeds with *out = NULL: the daemon then
 * runs without one and refuses power operations. An unknown name or one not
 * built fails with a message naming the choices. */
gboolean bh_backend_open(const char *name, const BhBackendConfig *config, BhBackend **out, GError **error);

/* For backend constructors: fill in the common head. */
void bh_backend_init(BhBackend *backend, const BhBackendOps *ops, const char *name,
                     const BhBackendConfig *config);
/* For backend free functions: release the common head (not the instance). */
void bh_backend_clear(BhBackend *backend);

void bh_backend_set_state_func(BhBackend *backend, BhBackendStateFunc func, gpointer user_data);
/* For backends: report a transition to the daemon. */
void bh_backend_notify_state(BhBackend *backend, const char *qube, BhPowerState state, const char *reason);

/* The daemon's entry points: each checks that the backend implements the
 * operation (BH_BACKEND_ERROR_NOT_SUPPORTED otherwise) and logs with the
 * qube's name. */
gboolean bh_backend_create_volumes(BhBackend *backend, const BhBackendQube *qube, GError **error);
gboolean bh_backend_clone_volumes(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                  GError **error);
gboolean bh_backend_remove_volumes(BhBackend *backend, const char *qube, GError **error);
void bh_backend_clone_volumes_async(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_backend_clone_volumes_finish(BhBackend *backend, GAsyncResult *result, GError **error);
void bh_backend_start(BhBackend *backend, const BhBackendQube *qube, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_backend_start_finish(BhBackend *backend, GAsyncResult *result, GError **error);
void bh_backend_shutdown(BhBackend *backend, const char *qube, guint timeout_s, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_backend_shutdown_finish(BhBackend *backend, GAsyncResult *result, GError **error);
gboolean bh_backend_kill(BhBackend *backend, const char *qube, GError **error);
gboolean bh_backend_pause(BhBackend *backend, const char *qube, GError **error);
gboolean bh_backend_unpause(BhBackend *backend, const char *qube, GError **error);
BhPowerState bh_backend_get_state(BhBackend *backend, const char *qube);
gboolean bh_backend_get_stats(BhBackend *backend, const char *qube, BhBackendStats *out, GError **error);
gboolean bh_backend_agent_address(BhBackend *backend, const char *qube, BhBackendAgentAddress *out,
                                  GError **error);
void bh_backend_adopt(BhBackend *backend, const BhBackendQube *qubes, gsize n_qubes);
void bh_backend_free(BhBackend *backend);
/* Networking: a backend without them reports NOT_SUPPORTED. */
gboolean bh_backend_set_netvm(BhBackend *backend, const char *qube, const char *netvm, GError **error);
void bh_backend_set_firewall(BhBackend *backend, const char *qube, const char *rules,
                             GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean bh_backend_set_firewall_finish(BhBackend *backend, GAsyncResult *result, GError **error);
/* Disk usage: a backend without it reports NOT_SUPPORTED. */
void bh_backend_volume_usage(BhBackend *backend, const char *const *qubes, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
GHashTable *bh_backend_volume_usage_finish(BhBackend *backend, GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhBackend, bh_backend_free)

G_END_DECLS
