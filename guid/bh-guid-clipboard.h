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

G_BEGIN_DECLS

/* How long the agent has to answer a CLIPBOARD_REQ; an answer later than
 * this is stale and refused. */
#define BH_GUID_CLIPBOARD_ANSWER_MS 3000

typedef struct _BhGuidClipboard BhGuidClipboard;

/* Sends one message (CLIPBOARD_REQ or CLIPBOARD_DATA, window 0) to the agent. */
typedef void (*BhGuidClipboardSend)(guint32 type, const void *body, gsize len, gpointer user_data);

BhGuidClipboard *bh_guid_clipboard_new(const char *qube, BhGuidClipboardSend send, gpointer user_data);
/* Cancels what is in flight; nothing is sent after this. NULL-safe. */
void bh_guid_clipboard_free(BhGuidClipboard *clip);

/* Ctrl+Shift+C in one of the qube's windows. */
void bh_guid_clipboard_copy(BhGuidClipboard *clip);
/* Ctrl+Shift+V in one of the qube's windows. */
void bh_guid_clipboard_paste(BhGuidClipboard *clip);
/* CLIPBOARD_DATA from the agent, as core/proto accepted it (UTF-8 without
 * NUL, at most BH_MAX_CLIPBOARD_BYTES). Returns FALSE when it was not
 * asked for (none pending, or its request timed out): the caller logs
 * nothing more, this did. */
gboolean bh_guid_clipboard_agent_data(BhGuidClipboard *clip, const guint8 *data, gsize len);

/* Tests: answers taken, refused as unrequested or stale. */
typedef struct {
    guint requests, taken, unrequested, stale;
} BhGuidClipboardStats;
const BhGuidClipboardStats *bh_guid_clipboard_get_stats(BhGuidClipboard *clip);

G_END_DECLS

#endif /* BH_GUID_CLIPBOARD_H */
