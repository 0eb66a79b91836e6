/* bh-guid-session.h — BhGuidSession: guid's side of one qube's GUI
 * connection. It reads the agent's messages through core/proto's validating
 * decoder, keeps one BhGuestWindow (toplevel) or popover (popup) per guest
 * window, imports window buffers read-only, copies damage out of them, and
 * sends the user's input back.
 *
 * Owns: the vchan connection, the window table, the windows and buffers, the
 * outgoing queue, and the decision to drop the agent.
 * Must never: act on a message the decoder did not accept; block on the agent
 * (reads and writes are non-blocking, the outgoing queue is bounded); raise
 * or focus a window because the guest asked; show a guest surface without
 * guid's frame; outlive a violation (every window closes, the session ends
 * with BH_GUID_EXIT_VIOLATION and the reason is logged with the qube name).
 *
 * Its parts (connection, windows, pacing, dispatch) and who calls whom:
 * bh-guid-session-private.h, docs/guid.md "Inside guid". */
#ifndef BH_GUID_SESSION_H
#define BH_GUID_SESSION_H

#include <gtk/gtk.h>

#include "bh-guid-label.h"
#include "bh-guid-tiles.h"

G_BEGIN_DECLS

/* guid's exit status, read by bulkheadd (docs/guid.md). */
typedef enum {
    BH_GUID_EXIT_DISCONNECTED = 0, /* the agent went away, or guid was told to stop */
    BH_GUID_EXIT_FAILURE = 1,      /* guid could not start (arguments, display, no agent) */
    BH_GUID_EXIT_VIOLATION = 2,    /* the agent broke the protocol: it was dropped */
} BhGuidExit;

/* Bytes of input guid queues for an agent that does not read before it
 * counts as a violation (a few seconds of frantic mouse movement). */
#define BH_GUID_MAX_OUTQ (1024u * 1024u)

#define BH_TYPE_GUID_SESSION (bh_guid_session_get_type())
G_DECLARE_FINAL_TYPE(BhGuidSession, bh_guid_session, BH, GUID_SESSION, GObject)

/* `bus_address`: where the global clipboard finds bulkheadd (NULL: nowhere;
 * see bh_guid_clipboard_new). */
BhGuidSession *bh_guid_session_new(const char *qube, const BhLabel *label, gboolean allow_fullscreen,
                                   const char *bus_address);

/* Connect to the agent of domain `domid` on the GUI port, retrying every
 * 100 ms while nobody listens yet, for at most timeout_ms. */
gboolean bh_guid_session_connect(BhGuidSession *self, int domid, guint timeout_ms, GError **error);

/* Send HELLO, SCREEN and KEYMAP and start reading. "finished" is emitted
 * (once) when the session ends. */
gboolean bh_guid_session_start(BhGuidSession *self, GError **error);
/* Once the main loop is idle: build and draw one window that is never
 * shown, so the qube's first real window finds GTK's styles, fonts and
 * icons loaded (--warm-up; bulkheadd asks for it for a preloaded
 * disposable, whose first window is what its user waits for). */
void bh_guid_session_warm_up(BhGuidSession *self);

/* End the session: close every window and the connection. Idempotent. */
void bh_guid_session_stop(BhGuidSession *self, BhGuidExit status, const char *reason);

gboolean bh_guid_session_is_finished(BhGuidSession *self);
BhGuidExit bh_guid_session_get_exit_status(BhGuidSession *self);

/* Totals over every window this session had: what damage cost. */
void bh_guid_session_get_stats(BhGuidSession *self, BhGuidTileStats *out);

G_END_DECLS

#endif /* BH_GUID_SESSION_H */
