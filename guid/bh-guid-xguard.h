/* bh-guid-xguard.h — guid survives its X windows being destroyed by another
 * X client (`xdotool windowclose`, a misbehaving window manager).
 *
 * GTK 4 cannot: the DestroyNotify of one of its surfaces trips an assertion
 * in GDK (a foreign destroy never clears the surface's EGL window), and any
 * request already on its way to the dead window (a paint, a property) comes
 * back as BadWindow/BadDrawable, which GDK's error handler makes fatal.
 *
 * Owns: an X error handler in front of GDK's, and a handler of GDK's
 * "xevent" signal. Must never: hide an error on a resource guid did not
 * create (those go to GDK's handler, traps and all), or touch a window of
 * another client. */
#ifndef BH_GUID_XGUARD_H
#define BH_GUID_XGUARD_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Once per process, after gtk_init (does nothing off X11). A guid window
 * destroyed from outside is then taken off screen (unrealized: GDK drops its
 * surface the ordinary way) and, for a toplevel, asked to close as if the
 * user had: the guest decides, and a window it maps again gets a new X
 * window. Errors on guid's own dead windows are logged and ignored. */
void bh_guid_xguard_install(GdkDisplay *display);

/* Errors ignored so far (tests). */
guint bh_guid_xguard_ignored(void);

G_END_DECLS

#endif /* BH_GUID_XGUARD_H */
