/* bh-guid-set.h — the bulkhead-guid processes bulkheadd runs, one per
 * running qube with a GUI.
 *
 * Owns: spawning guid with the qube's name, label and domain id, relaying its
 * log lines (tagged with the qube), and reporting how it ended. guid exits 2
 * when the qube's agent broke the protocol (its last log line says why), 1
 * when it could not start, 0 when the agent went away or it was told to stop.
 * Must never: decide anything about the qube's power state — a guid that
 * ends is reported, the qube keeps running; that is the daemon's call.
 */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _BhGuidSet BhGuidSet;

/* Called on the main context when a guid ended on its own (not after
 * bh_guid_set_stop). status is its exit status (or 128+signal); reason is its
 * last log line, or a description of the signal. */
typedef void (*BhGuidEndedFunc)(const char *qube, int status, const char *reason, gpointer user_data);

BhGuidSet *bh_guid_set_new(BhGuidEndedFunc ended, gpointer user_data);
/* Starts guid's launcher ahead of the first guid (no-op if it runs, or if
 * BH_GUID_LAUNCHER=0): bulkhead-guid --launcher, which has loaded guid's
 * libraries and fontconfig's configuration and forks each guid
 * (docs/guid.md "The launcher"). Without one, each guid starts on its own. */
void bh_guid_set_prepare(BhGuidSet *set);
/* Finds the accessibility (AT-SPI) bus on the session bus connection
 * (org.a11y.Bus GetAddress, activating it; asynchronous, bounded) and hands
 * its address to every guid started from then on; follows the bus going
 * and coming back. Until the answer, and without an a11y bus, guids start
 * with GTK's accessibility off (docs/guid.md "Accessibility").
 * $AT_SPI_BUS_ADDRESS, when set, is the address and nothing is asked;
 * with GTK_A11Y=none (which guids inherit) nothing is asked either. */
void bh_guid_set_watch_a11y(BhGuidSet *set, GDBusConnection *connection);
/* The a11y bus address guids are given (NULL: none). */
const char *bh_guid_set_get_a11y(BhGuidSet *set);
/* Stops every guid (SIGTERM) and frees the set. NULL-safe. */
void bh_guid_set_free(BhGuidSet *set);

/* The guid binary: $BH_GUID_PATH, else the one beside this build's daemon,
 * else the installed one. */
const char *bh_guid_path(void);

/* TRUE when a display is there to draw on (X11, Wayland or Broadway). */
gboolean bh_guid_display_available(void);

/* Starts guid for a qube (a running one is stopped first). domid: the qube's
 * vchan peer, as its backend names it (the qid on the socket transport, the
 * Xen domain id on xen, which changes at every boot). connect_timeout_s: how
 * long the backend gives the qube's agents to come up (guid waits at least
 * 60 s for its GUI agent, this long if longer; 0: 60 s). */
typedef enum {
    BH_GUID_START_ALLOW_FULLSCREEN = 1 << 0, /* --allow-fullscreen */
    /* --warm-up: its first window prepared ahead (a preloaded disposable,
     * whose first window is what its user waits for) */
    BH_GUID_START_WARM_UP = 1 << 1,
} BhGuidStartFlags;
gboolean bh_guid_set_start(BhGuidSet *set, const char *qube, const char *label, guint domid,
                           guint connect_timeout_s, BhGuidStartFlags flags, GError **error);
/* Stops the qube's guid, if any, without reporting its end. */
void bh_guid_set_stop(BhGuidSet *set, const char *qube);
gboolean bh_guid_set_is_running(BhGuidSet *set, const char *qube);
/* The pid of the qube's running guid, 0 if none: who may use the global
 * clipboard for that qube (bh-clipboard.c). */
pid_t bh_guid_set_get_pid(BhGuidSet *set, const char *qube);

G_END_DECLS
