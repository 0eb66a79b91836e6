/* bh-guest-view.h — BhGuestView: the widget that shows one guest surface
 * (a toplevel's content or a popup) inside guid's frame, and turns pointer
 * input on it into guest coordinates.
 *
 * Owns: the frame (BH_GUID_FRAME_PX on every side, in the label colour, drawn
 * here and never by the theme, so no CSS can thin it), the tile image, the
 * cursor shape, and popovers parented to it (guest popups of this surface):
 * their bound, their "[qube]" band and when they may be on screen.
 * Must never: draw guest pixels outside the frame's inner rectangle, size
 * itself beyond the cap it was given (the screen; a popup's bound), or show
 * a popup while its toplevel is not the window the user is working in. */
#ifndef BH_GUEST_VIEW_H
#define BH_GUEST_VIEW_H

#include <gtk/gtk.h>

#include "bh-guid-tiles.h"
#include "bh-guid-xshm.h"

G_BEGIN_DECLS

/* Frame width in pixels around every guest surface. */
#define BH_GUID_FRAME_PX 4
/* A popup's bottom band, which carries "[qube]" (at least this tall, more
 * if the font needs it). */
#define BH_GUID_POPUP_TAG_PX 18

/* The largest popup content shown as a popup on a screen_w x screen_h
 * screen: half the width, three quarters of the height (menus are narrow,
 * long lists tall; a fake desktop is neither). docs/guid.md says why. */
static inline void bh_guid_popup_bound(guint32 screen_w, guint32 screen_h, guint32 *w, guint32 *h)
{
    *w = MAX(screen_w / 2, 1);
    *h = MAX(screen_h / 4 * 3, 1);
}

/* A popup of this content size is shown as an ordinary window instead. */
static inline gboolean bh_guid_popup_as_window(guint32 screen_w, guint32 screen_h, guint32 w, guint32 h)
{
    guint32 bw, bh;
    bh_guid_popup_bound(screen_w, screen_h, &bw, &bh);
    return w > bw || h > bh;
}

#define BH_TYPE_GUEST_VIEW (bh_guest_view_get_type())
G_DECLARE_FINAL_TYPE(BhGuestView, bh_guest_view, BH, GUEST_VIEW, GtkWidget)

/* frame: the label colour. max_w/max_h: the largest content size shown
 * (the screen); larger buffers are clipped, never scaled. */
GtkWidget *bh_guest_view_new(const GdkRGBA *frame, guint32 max_w, guint32 max_h);

/* The qube the view belongs to and the label's text colour: a popup shows
 * "[qube]" in it (set on toplevels; popups take their parent's). */
void bh_guest_view_set_owner(BhGuestView *self, const char *qube, const GdkRGBA *text);
/* A new cap (largest content shown; more is clipped). */
void bh_guest_view_set_cap(BhGuestView *self, guint32 max_w, guint32 max_h);

/* A new buffer size (content size from now on). Pixels arrive by damage. */
void bh_guest_view_set_buffer_size(BhGuestView *self, guint32 width, guint32 height);

/* The buffer the view shows from now on, and its X segment (NULL when it
 * has none: GTK draws). map NULL: none; the caller must say so before it
 * unmaps the buffer. Everything stays the caller's. */
void bh_guest_view_set_source(BhGuestView *self, BhGuidXshm *xshm, BhGuidShmSeg *seg, const guint8 *map,
                              gsize map_size, guint32 stride, guint32 height);

/* Show the damaged rectangles of the mapped buffer: straight to X when the
 * buffer is the view's source with a segment and the view is on an X11
 * window that takes it (returns TRUE: sent to the server, the buffer may go
 * back after bh_guest_view_finish_puts), otherwise copied into tiles with a
 * redraw queued (FALSE: on screen after GTK's next paint). */
gboolean bh_guest_view_damage(BhGuestView *self, const guint8 *map, gsize map_size, guint32 stride,
                              const struct bh_gui_rect *rects, guint32 n_rects);

/* Before the buffer goes back: the server's answer to the view's puts,
 * waited for if it has not come (a refresh after the put it has). FALSE
 * when it refused one since the last call: the view now draws through GTK
 * and has queued the redraw, so the buffer goes back after that paint.
 * *answered_ns (may be NULL): when the answer came (bh_guid_xshm_wait). */
gboolean bh_guest_view_finish_puts(BhGuestView *self, gint64 *answered_ns);

/* Damage that arrived before the previous frame was released: marked, and
 * put by bh_guest_view_put_later (at most one put per release, whatever a
 * flooding guest sends; the X server is shared by every qube). */
void bh_guest_view_damage_later(BhGuestView *self, const struct bh_gui_rect *rects, guint32 n_rects);
/* Put what bh_guest_view_damage_later collected; TRUE if it went straight to
 * X (on screen now), FALSE if nothing was pending or GTK draws it. */
gboolean bh_guest_view_put_later(BhGuestView *self);

/* Ask for a frame of the view's surface and its "painted" signal at the
 * end of it; FALSE when the view is not realized (no frame clock yet). */
gboolean bh_guest_view_request_paint(BhGuestView *self);

/* Guest minimum size hint (0 = none), clamped to the cap. */
void bh_guest_view_set_min_content_size(BhGuestView *self, guint32 width, guint32 height);
/* The content rectangle the view has now (allocation minus frame). */
void bh_guest_view_get_content_size(BhGuestView *self, guint32 *width, guint32 *height);

/* enum bh_gui_cursor_shape, already validated. */
void bh_guest_view_set_cursor_shape(BhGuestView *self, guint32 shape);

const BhGuidTileStats *bh_guest_view_get_stats(BhGuestView *self);

/* A guest popup (menu, tooltip) of the surface `parent` shows: a frameless,
 * arrowless GtkPopover holding `child` (another BhGuestView), its content
 * capped at max_w x max_h (bh_guid_popup_bound) and a band with the owner's
 * "[qube]" under it. GTK keeps it on the screen (it slides or flips at the
 * edges). Hidden until bh_guest_popup_set_wanted. */
GtkWidget *bh_guest_popup_new(BhGuestView *parent, GtkWidget *child, guint32 max_w, guint32 max_h);
/* The guest maps (TRUE) or unmaps it. Shown only while also
 * bh_guest_popup_may_show(its toplevel); follows that by itself. */
void bh_guest_popup_set_wanted(GtkWidget *popup, gboolean wanted);
/* A toplevel's popups may be on screen: it is shown, not minimised, and it
 * is the active window (the one the user works in). */
gboolean bh_guest_popup_may_show(GtkWindow *root);
/* Place the popup's content at (x, y) of the parent's content, as the guest
 * asked; the anchor is clamped to the parent so it is always on a monitor. */
void bh_guest_popup_move(GtkWidget *popup, gint x, gint y);

G_END_DECLS

#endif /* BH_GUEST_VIEW_H */
