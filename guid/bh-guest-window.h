/* bh-guest-window.h — BhGuestWindow: the dom0 window of one guest toplevel:
 * guid's own title bar in the label colour with the label icon and the title
 * "[qube] guest title", and a BhGuestView as its only child. Keyboard input on
 * the window is turned into guest key events here.
 *
 * Owns: the title bar, the "[qube] " prefix, the clip of the guest's title,
 * the urgency marking, the user time of each map (focus), the Ctrl+Shift+C/V
 * interception, the key-repeat filter, and the pace at which the guest's
 * titles reach X (at most one every 50 ms for all of this guid's windows).
 * Must never: let the guest set the prefix or the bar's colours, or present
 * (raise/focus) itself because the guest asked. */
#ifndef BH_GUEST_WINDOW_H
#define BH_GUEST_WINDOW_H

#include <gtk/gtk.h>

#include "bh-guid-label.h"

G_BEGIN_DECLS

#define BH_TYPE_GUEST_WINDOW (bh_guest_window_get_type())
G_DECLARE_FINAL_TYPE(BhGuestWindow, bh_guest_window, BH, GUEST_WINDOW, GtkWindow)

BhGuestWindow *bh_guest_window_new(const char *qube, const BhLabel *label, GtkWidget *view);

/* `title` is the decoder's sanitised UTF-8 (no control or bidi characters).
 * Shown at once when no other title went to X in the last 50 ms, else
 * when its turn comes (the window's latest title only). */
void bh_guest_window_set_guest_title(BhGuestWindow *self, const char *title);
/* Marks the window (bar marker + X urgency hint); never takes focus. */
void bh_guest_window_set_urgent(BhGuestWindow *self, gboolean urgent);
gboolean bh_guest_window_get_urgent(BhGuestWindow *self);

/* Show the window because the guest mapped it (first time or again). With
 * may_focus FALSE it is shown with X user time 0 every time, so the window
 * manager does not give it the keyboard however often the guest re-maps it
 * (GDK would otherwise send the time of the user's last input in it). */
void bh_guest_window_show_guest(BhGuestWindow *self, gboolean may_focus);

/* Where the guest's title is drawn and clipped, in window coordinates
 * (tests); FALSE before the window is laid out. */
gboolean bh_guest_window_get_title_box(BhGuestWindow *self, graphene_rect_t *out);

/* Forget keys held down (focus moved away). */
void bh_guest_window_reset_keys(BhGuestWindow *self);

G_END_DECLS

#endif /* BH_GUEST_WINDOW_H */
