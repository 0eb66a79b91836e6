/* bh-ask-window.h — the ask dialog's window (docs/ask.md).
 *
 * Owns: what the user sees and may do: the source in its label colour, the
 * service, the allowed targets with type-ahead, OK only after the window
 * has had the focus for request->focus_ms, Cancel, the timeout.
 * Must never: offer a target that is not in the request, enable OK before
 * the focus time, or answer anything but one target or a denial. */
#ifndef BH_ASK_WINDOW_H
#define BH_ASK_WINDOW_H

#include <gtk/gtk.h>

#include "bh-ask-request.h"

#define BH_TYPE_ASK_WINDOW (bh_ask_window_get_type())
G_DECLARE_FINAL_TYPE(BhAskWindow, bh_ask_window, BH, ASK_WINDOW, GtkWindow)

/* The window takes the request. "done" (const char *target or NULL for a
 * denial) is emitted once. */
BhAskWindow *bh_ask_window_new(BhAskRequest *request);

#endif /* BH_ASK_WINDOW_H */
