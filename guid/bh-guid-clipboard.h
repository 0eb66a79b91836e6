/* bh-guid-clipboard.h — guid's side of the global clipboard.
 *
 * Owns: Ctrl+Shift+C (ask the qube's agent for its clipboard, take only the
 * answer to that one request, within a deadline, and hand it to bulkheadd),
 * Ctrl+Shift+V (ask bulkheadd, which decides by policy, and give what it
 * returns to the qube's agent), and the one D-Bus connection guid has: a
 * client of org.bulkhead.Clipboard1, for this only.
 * Must never: keep the contents once handed on, log them, open the store,
 * or let the qube's answer reach anything but bulkheadd's Copy.
 */
#ifndef BH_GUID_CLIPBOARD_H
#define BH_GUID_CLIPBOARD_H

#include <glib.h>

#include "bulkhead/gui-protocol.h"

G_BEGIN_DECLS

/* How long the agent has to answer a CLIPBOARD_REQ; an answer later than
 * this is stale and refused. */
#define BH_GUID_CLIPBOARD_ANSWER_MS 3000
/* Refused answers logged per connection; more are only counted (a qube
 * must not fill dom0's log). */
#define BH_GUID_CLIPBOARD_MAX_REFUSAL_LOGS 32

typedef struct _BhGuidClipboard BhGuidClipboard;

/* Sends one message (CLIPBOARD_REQ, CLIPBOARD_DATA or CLIPBOARD_IMAGE,
 * window 0) to the agent, with `fd` (kept by the caller) riding along
 * unless it is -1. FALSE when it could not go (an image to an agent that
 * does not read). */
typedef gboolean (*BhGuidClipboardSend)(guint32 type, const void *body, gsize len, int fd,
                                        gpointer user_data);

/* `bus_address`: bulkheadd's session bus, as guid found it in its
 * environment before GTK started (bh_guid_main); NULL when there was none,
 * and the keys then only say that the clipboard needs bulkheadd. */
BhGuidClipboard *bh_guid_clipboard_new(const char *qube, const char *bus_address, BhGuidClipboardSend send,
                                       gpointer user_data);
/* Cancels what is in flight; nothing is sent after this. NULL-safe. */
void bh_guid_clipboard_free(BhGuidClipboard *clip);

/* Ctrl+Shift+C in one of the qube's windows. */
void bh_guid_clipboard_copy(BhGuidClipboard *clip);
/* Ctrl+Shift+V in one of the qube's windows. */
void bh_guid_clipboard_paste(BhGuidClipboard *clip);
/* CLIPBOARD_DATA from the agent, as core/proto accepted it (UTF-8 without
 * NUL, at most BH_MAX_CLIPBOARD_BYTES; no text with OTHER_TYPE). Returns
 * FALSE when it does not answer the request guid waits for (an id guid
 * never sent, a stale or second answer): this logged why. */
gboolean bh_guid_clipboard_agent_data(BhGuidClipboard *clip, guint32 request, guint32 flags,
                                      const guint8 *data, gsize len);
/* CLIPBOARD_IMAGE from the agent (numbers checked by core/proto) with its
 * memfd (owned here; -1 when none came). An answer guid did not wait for is
 * refused like data (the fd closed, TRUE). FALSE, with *reason (free it),
 * when the agent broke the protocol: no memfd, or one that is not sealed or
 * not exactly stride * height bytes; the caller drops the agent. */
gboolean bh_guid_clipboard_agent_image(BhGuidClipboard *clip, const struct bh_gui_clipboard_image *img,
                                       int fd, char **reason);

/* Tests: answers taken, refused as unrequested or stale. */
typedef struct {
    guint requests, taken, unrequested, stale;
} BhGuidClipboardStats;
const BhGuidClipboardStats *bh_guid_clipboard_get_stats(BhGuidClipboard *clip);

G_END_DECLS

#endif /* BH_GUID_CLIPBOARD_H */
