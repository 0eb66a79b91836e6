/* bh-guid-xguard.c — guid's windows destroyed from outside (see
 * bh-guid-xguard.h). Must never: make X requests from the error handler
 * (Xlib forbids it) or swallow an error on another client's resource. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-xguard.h"

#ifdef GDK_WINDOWING_X11
#include <X11/Xlib-xcb.h>
#include <X11/Xlib.h>
#include <gdk/x11/gdkx.h>
#include <xcb/xcb.h>

/* The Xlib error handler is process-wide (one guid per process, one
 * display), so its state is too: the handler it replaced and our client's
 * resource id range. Written once at install, before any error can come. */
static XErrorHandler gdk_handler;
static guint32 own_base, own_mask;
static guint ignored;

static int on_x_error(Display *dpy, XErrorEvent *e)
{
    /* Only our own windows can be destroyed under us without a bug of
     * ours: anything on a resource of our client range with "no such
     * window/drawable" is a window another client destroyed. Pictures of a
     * destroyed window go with it (RENDER's BadPicture is extension-coded;
     * GTK's cairo renderer uses the core drawable first, which fails first). */
    gboolean ours = own_mask != 0 && ((guint32)e->resourceid & ~own_mask) == own_base;
    if (ours && (e->error_code == BadWindow || e->error_code == BadDrawable)) {
        ignored++;
        g_debug("X error %d on guid's window 0x%lx (request %d.%d): destroyed from outside; "
                "ignored",
                e->error_code, e->resourceid, e->request_code, e->minor_code);
        return 0;
    }
    return gdk_handler != NULL ? gdk_handler(dpy, e) : 0;
}

/* After the event: GDK is not in the middle of dispatching it. */
static gboolean take_down(gpointer data)
{
    GtkWidget *native = data;
    if (gtk_widget_get_realized(native)) {
        Display *dpy = gdk_x11_display_get_xdisplay(gtk_widget_get_display(native));
        /* GDK destroys a window that is already gone: BadWindow on our
         * resource. Every error on the dead window must reach on_x_error,
         * not GDK's handler, which GDK puts in front while one of its
         * traps is open (and which aborts on an error outside the trap):
         * so no trap here, and a round trip before and after, so errors of
         * requests already sent come back now, between GDK's traps. */
        XSync(dpy, False);
        gtk_widget_set_visible(native, FALSE);
        gtk_widget_unrealize(native);
        XSync(dpy, False);
    }
    if (GTK_IS_WINDOW(native)) {
        /* As if the user closed it: the guest decides (guid's close-request
         * handler asks it and keeps the window). */
        gboolean handled = FALSE;
        g_signal_emit_by_name(native, "close-request", &handled);
    }
    g_object_unref(native);
    return G_SOURCE_REMOVE;
}

static gboolean on_xevent(GdkX11Display *display, const XEvent *ev, gpointer data)
{
    if (ev->type != DestroyNotify || ev->xdestroywindow.event != ev->xdestroywindow.window)
        return FALSE; /* only the window's own StructureNotify copy */
    GdkSurface *surface = gdk_x11_surface_lookup_for_display(GDK_DISPLAY(display), ev->xdestroywindow.window);
    if (surface == NULL || gdk_surface_is_destroyed(surface))
        return FALSE; /* GDK destroyed it itself: its own business */
    GtkNative *native = gtk_native_get_for_surface(surface);
    if (native == NULL)
        return FALSE;
    g_message("guid's X window 0x%lx was destroyed by another client; taking it off screen",
              ev->xdestroywindow.window);
    /* The errors of what GDK already sent to the dead window, now, while
     * on_x_error is the handler (see take_down). */
    XSync(ev->xdestroywindow.display, False);
    /* GDK must not see it (its foreign-destroy path aborts). */
    g_idle_add_full(G_PRIORITY_HIGH, take_down, g_object_ref(native), NULL);
    return TRUE;
}

void bh_guid_xguard_install(GdkDisplay *display)
{
    if (!GDK_IS_X11_DISPLAY(display))
        return;
    Display *dpy = gdk_x11_display_get_xdisplay(display);
    const xcb_setup_t *setup = xcb_get_setup(XGetXCBConnection(dpy));
    own_base = setup->resource_id_base;
    own_mask = setup->resource_id_mask;
    gdk_handler = XSetErrorHandler(on_x_error);
    g_signal_connect(display, "xevent", G_CALLBACK(on_xevent), NULL);
}

guint bh_guid_xguard_ignored(void)
{
    return ignored;
}

#else

void bh_guid_xguard_install(GdkDisplay *display)
{
}

guint bh_guid_xguard_ignored(void)
{
    return 0;
}

#endif
