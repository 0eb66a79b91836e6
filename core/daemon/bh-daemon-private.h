/* bh-daemon-private.h — what the parts of BhDaemon share; the one private
 * header of core/daemon/bh-daemon*.c (the daemon's face is bh-daemon.h;
 * nothing outside core/daemon includes this).
 *
 * Owns the BhDaemon record, the in-memory power state of one qube
 * (BhQubeRuntime) and what each part offers the others, listed per file. The
 * parts call one way, each only into the files listed above it here:
 * bh-daemon-power.c (the power state machine) <- bh-daemon-model.c <-
 * bh-daemon-power-calls.c <- bh-daemon-run.c <- bh-daemon-apps.c <- bh-daemon.c (the object: it
 * connects each part's table of handlers). docs/dbus.md,
 * "Inside the daemon", says what each file owns. Must never: be included by
 * anything but the daemon's own parts.
 */
#pragma once

#include <gio/gio.h>

#include "backend.h"
#include "bh-agent-set.h"
#include "bh-clipboard.h"
#include "bh-daemon-calls.h"
#include "bh-daemon.h"
#include "bh-dbus-admin1.h"
#include "bh-guid-set.h"
#include "bh-policy-store.h"
#include "bh-state-lock.h"
#include "bulkhead/store.h"

G_BEGIN_DECLS

typedef struct {
    BhPowerState state;
    GPtrArray *start_waiters; /* GTask*: completed when a start finishes */
    GPtrArray *halt_waiters;  /* GDBusMethodInvocation*: Shutdown(wait) callers */
    char *gui_error;          /* why its guid ended badly since it started; NULL if none */
    char *netvm;              /* the netvm the backend has for it while it runs ("": none) */
    guint firewall_timer;     /* the next expiry of one of its firewall rules */
    gboolean reading_apps;    /* a Shutdown reads its app list first (still Running meanwhile) */
    guint wanted;             /* starts and commands asked of it, in any state (first app lists) */
    guint gui_gone_timer;     /* its guid saw the GUI agent go while it ran: reported unless it stops */
} BhQubeRuntime;

struct _BhDaemon {
    GObject parent_instance;

    char *state_dir;
    BhStateLock *lock;
    BhStore *store;
    BhBackend *backend; /* NULL: --backend=none */
    BhAgentSet *agents; /* the RPC connections to the backend's qubes; NULL without a backend */
    const char *backend_name;
    const char *backend_isolation;
    BhDbusAdmin1 *skeleton;
    GHashTable *runtime;      /* qube name -> BhQubeRuntime* */
    GHashTable *cloning;      /* source and clone -> their clone call, while its copy runs */
    BhGuidSet *guids;         /* NULL: --no-guid */
    BhPolicyStore *policy;    /* loaded at start, reloaded on change; the clipboard asks it */
    BhCalls *calls;           /* the qubes' call sockets (qvm-copy-to-vm); NULL without a backend */
    BhClipboard *clipboard;   /* org.bulkhead.Clipboard1, beside Admin1 */
    GQueue *apps_start_queue; /* qubes whose list is to be read after their start (bh-daemon-apps.c) */
    guint applist_timeout_s;  /* BhDaemonConfig's, 0 replaced by the default */
    gboolean apps_start_busy; /* one of those reads is running */
    GQueue
        *apps_first_queue; /* templates and standalones to start once for a first list (--read-app-lists) */
    char *apps_first_current; /* the one started for that now, or NULL */
    guint apps_first_wanted;  /* its runtime's wanted after that start: more means someone else wants it */
    char *preload_name;       /* the preloaded disposable not handed out yet, or NULL (bh-daemon-preload.c) */
    char *preload_template;   /* what it was made of */
    guint preload_timer;      /* the next look at whether one is wanted */
    guint preload_failures;   /* starts that failed in a row */
};

/* ---- bh-daemon-power.c: power state, guids, starts (netvm first), adoption */

void bh_qube_runtime_free(gpointer data);
/* A qube's name and the daemon (a reference), for callbacks. */
typedef struct {
    BhDaemon *self;
    char *name;
} BhNameContext;
BhNameContext *bh_name_context_new(BhDaemon *self, const char *name);
void bh_name_context_free(gpointer data);
/* The qube's runtime record, made on first use (from the backend's view). */
BhQubeRuntime *bh_daemon_runtime(BhDaemon *self, const char *name);
gboolean bh_power_is_down(BhPowerState state);
/* The one place a qube's power state changes: signals, guid start/stop,
 * Shutdown(wait) callers, a disposable's clean-up. */
void bh_daemon_set_state(BhDaemon *self, const char *name, BhPowerState state, const char *reason);
void bh_daemon_backend_state_changed(BhBackend *backend, const char *qube, BhPowerState state,
                                     const char *reason, gpointer user_data);
void bh_daemon_guid_ended(const char *qube, int status, const char *reason, gpointer user_data);
void bh_daemon_discard_disposable(BhDaemon *self, const char *name);
/* FALSE with org.bulkhead.Error.NoBackend (saying which backends exist). */
gboolean bh_daemon_require_backend(BhDaemon *self, GError **error);
guint bh_daemon_get_uint(BhDaemon *self, const char *qube, const char *prop, guint fallback);
/* "" when the property cannot be read. */
char *bh_daemon_get_string(BhDaemon *self, const char *qube, const char *prop);

/* Strings that BhBackendQube borrows. */
typedef struct {
    BhBackendQube qube;
    BhQubeInfo *info;
    char *netvm;
    char *root_template;
    char *root_path;
    char *kernel;
    char *virt_mode;
    char *firewall;
    char **services;
} BhBackendQubeHolder;

void bh_backend_qube_holder_free(BhBackendQubeHolder *holder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhBackendQubeHolder, bh_backend_qube_holder_free)

/* What the backend needs to know about a qube, from the model. */
BhBackendQubeHolder *bh_daemon_describe_qube(BhDaemon *self, const char *name, GError **error);
/* Completes when the qube runs; starts its netvm first. */
void bh_daemon_start_async(BhDaemon *self, const char *name, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean bh_daemon_start_finish(BhDaemon *self, GAsyncResult *result, GError **error);

/* A part's org.bulkhead.Admin1 handlers: bh-daemon.c connects each table. */
typedef struct {
    const char *signal;
    GCallback handler;
} BhDaemonHandler;

/* ---- bh-daemon-leftovers.c: what dead qubes left (volume-leftovers.h) */

const BhDaemonHandler *bh_daemon_leftovers_handlers(gsize *n);
/* One logged line naming every leftover kept, if any (at the start). */
void bh_daemon_leftovers_report(BhDaemon *self);

/* ---- bh-daemon-model.c: reading and changing the model over D-Bus */

const BhDaemonHandler *bh_daemon_model_handlers(gsize *n);
/* A new qube's volumes; on failure the qube is removed from the store again. */
gboolean bh_daemon_add_volumes(BhDaemon *self, const char *name, GError **error);
/* FALSE with org.bulkhead.Error.Busy while a clone copies from or to the
 * qube: nothing may start it, remove, rename or clone it meanwhile. */
gboolean bh_daemon_require_not_cloning(BhDaemon *self, const char *name, const char *what, GError **error);
/* At a stop: clones whose copy is not done leave the store. */
void bh_daemon_abandon_clones(BhDaemon *self);

/* ---- bh-daemon-power-calls.c: Start, Shutdown, Kill, Pause, Unpause, CreateDisposable, GetStats */

const BhDaemonHandler *bh_daemon_power_calls_handlers(gsize *n);
/* Common preamble of the power methods: a backend, an existing qube, not dom0. */
BhQubeInfo *bh_daemon_power_target(BhDaemon *self, const char *name, const char *what, GError **error);
/* A new disposable of dvm_template (NULL: the default disposable template),
 * in the store with its volumes, announced, not started. */
char *bh_daemon_new_disposable(BhDaemon *self, const char *dvm_template, GError **error);
/* Kills a disposable (removed once it is down; at once when it is). */
void bh_daemon_end_disposable(BhDaemon *self, const char *name);

/* ---- bh-daemon-preload.c: one disposable started ahead (preload_dispvm) */

void bh_daemon_preload_init(BhDaemon *self);
/* The preloaded disposable of dvm_template (NULL or "": default_dispvm),
 * now the caller's, or NULL when there is none ready or starting. */
char *bh_daemon_preload_take(BhDaemon *self, const char *dvm_template);
void bh_daemon_preload_stop(BhDaemon *self);

/* ---- bh-daemon-run.c: Run */

const BhDaemonHandler *bh_daemon_run_handlers(gsize *n);
/* Runs commandline (dom0's own, fixed) in the running qube as its default
 * user and completes with its stdout: the whole of it, at most max_bytes,
 * within timeout_s seconds from when its agent takes the command (a qube
 * that has just started may still be booting: the wait for its agent is
 * the start's, bounded by the backend's agent time, not timeout_s). Past
 * either bound, or on a non-zero exit, the
 * command is killed and the call fails (BH_DBUS_ERROR_FAILED, or the
 * backend's / g_spawn_check_wait_status's error). */
void bh_daemon_run_capture_async(BhDaemon *self, const char *name, const char *commandline, gsize max_bytes,
                                 guint timeout_s, GAsyncReadyCallback callback, gpointer user_data);
GBytes *bh_daemon_run_capture_finish(BhDaemon *self, GAsyncResult *result, GError **error);

/* ---- bh-daemon-apps.c: the qubes' app lists (ListApps, RunApp, RefreshApps) */

const BhDaemonHandler *bh_daemon_apps_handlers(gsize *n);
/* Reads a qube's list when it starts (connected once, at construction). */
void bh_daemon_apps_init(BhDaemon *self);
/* Whether other qubes show info's list when they have none: a template, or
 * any qube some qube names as its template. */
/* Shuts a running qube down with its shutdown_timeout, for no caller and
 * without reading its app list first (bh-daemon-power-calls.c). */
void bh_daemon_shutdown_quietly(BhDaemon *self, const char *name);
gboolean bh_daemon_apps_inherited(BhDaemon *self, const BhQubeInfo *info);
/* Reads the running qube's list as at start (the capture's bounds, the same
 * decoder, kept and signalled the same way) and completes whatever came of
 * it: a Shutdown calls it first so that the app qubes of a template show
 * what was installed in it; a failure is logged, never a reason to stay up. */
void bh_daemon_apps_read_before_shutdown_async(BhDaemon *self, const char *name, GAsyncReadyCallback callback,
                                               gpointer user_data);

/* ---- bh-daemon-net.c: GetFirewall, SetFirewall; running qubes on their netvm */

const BhDaemonHandler *bh_daemon_net_handlers(gsize *n);
/* After any change of properties or globals: each running qube whose netvm
 * changed is relinked at once (its new netvm started first). */
void bh_daemon_net_sync(BhDaemon *self);
/* An adopted running qube: its netvm as the backend has it, its firewall
 * compiled and handed to the backend again. */
void bh_daemon_net_adopted(BhDaemon *self, const char *qube, const char *netvm);
typedef void (*BhDaemonFirewallReady)(BhDaemon *self, BhBackendQubeHolder *holder, gpointer data);
/* Fills in holder's firewall (names resolved, asynchronously), then ready. */
void bh_daemon_firewall_for_start(BhDaemon *self, BhBackendQubeHolder *holder, BhDaemonFirewallReady ready,
                                  gpointer data);

G_END_DECLS
