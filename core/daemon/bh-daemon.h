/* bh-daemon.h — BhDaemon: the state of bulkheadd and its D-Bus face.
 *
 * Owns the one writable store handle, the state-directory lock, the backend
 * instance, the in-memory power state of every qube and the exported
 * org.bulkhead.Admin1 object. Every mutation is one store transaction and is
 * acknowledged (replied to, signalled) only after it committed. It must never
 * let a qube's power state reach the store, nor run a power operation without
 * a backend: those fail with org.bulkhead.Error.NoBackend.
 */
#pragma once

#include <gio/gio.h>

#include "backend.h"
#include "bulkhead/store.h"

G_BEGIN_DECLS

#define BH_TYPE_DAEMON (bh_daemon_get_type())
G_DECLARE_FINAL_TYPE(BhDaemon, bh_daemon, BH, DAEMON, GObject)

typedef struct {
    const char *state_dir; /* required: lock, store (qubes.db) and volumes live here */
    const char *backend;   /* "none" (NULL), "sandbox" or "xen" */
    /* Instead of opening backend by name: an instance the daemon takes over
     * (tests use this to drive the daemon's state handling). */
    BhBackend *backend_instance;
    /* Do not start bulkhead-guid for running qubes (their windows stay unseen). */
    gboolean no_guid;
    /* The resolv.conf whose first nameserver the uplink's DNS asks (the
     * backend's resolv_conf); NULL: the user-mode uplink's own forwarder. */
    const char *uplink_resolv_conf;
    /* The time a qube's bulkhead-applist gets once its agent took the
     * command (docs/apps.md); 0: 30 s. Tests shorten it. */
    guint applist_timeout_s;
} BhDaemonConfig;

/* $XDG_DATA_HOME/bulkhead. */
char *bh_daemon_default_state_dir(void);

/* Locks the state directory (failing if another bulkheadd holds it), opens
 * the store and the backend. */
BhDaemon *bh_daemon_new(const BhDaemonConfig *config, GError **error);

/* Exports org.bulkhead.Admin1 at /org/bulkhead/Admin1 on the connection. */
gboolean bh_daemon_export(BhDaemon *self, GDBusConnection *connection, GError **error);
void bh_daemon_unexport(BhDaemon *self);

/* Once the daemon is the one on its bus (before autostart): takes over the
 * qubes an earlier bulkheadd of this state directory left running (see the
 * backend's adopt) and starts their guids; returns how many run. */
guint bh_daemon_adopt(BhDaemon *self);

/* Starts every qube whose autostart property is True (their netvms first);
 * returns how many starts began. Without a backend it starts none and says
 * so in the log. */
guint bh_daemon_autostart(BhDaemon *self);
/* Starts, one at a time and after any other start, each halted template and
 * standalone with no stored app list, reads its list as after any start and
 * shuts it down again, so a fresh store's menu shows apps (what Qubes'
 * qvm-sync-appmenus does when a template is installed); returns how many it
 * will start. */
guint bh_daemon_apps_read_missing(BhDaemon *self);
/* Preloads a disposable of default_dispvm (when the global preload_dispvm
 * is on) after delay_ms; docs/sandbox.md, "Preloaded disposable". */
void bh_daemon_preload_soon(BhDaemon *self, guint delay_ms);
/* After bh_daemon_adopt: the preloaded disposable a crashed daemon left
 * (its record in the state directory) is taken back if it runs and is still
 * wanted, else thrown away, so that it neither runs unused beside a new one
 * nor is handed out twice. */
void bh_daemon_preload_adopt(BhDaemon *self);

/* A normal stop: every guid and every running qube are stopped (the backend
 * is freed), even while calls in flight still hold the object. The object
 * then only awaits its last unref. */
void bh_daemon_stop(BhDaemon *self);

const char *bh_daemon_get_backend_name(BhDaemon *self);
BhPowerState bh_daemon_get_power_state(BhDaemon *self, const char *qube);

G_END_DECLS
