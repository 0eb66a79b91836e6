/* bh-guid-keymap.c — RMLVO and screen geometry for the handshake. */
#include "bh-guid-keymap.h"

#include <string.h>
#ifdef GDK_WINDOWING_X11
#include <X11/Xatom.h>
#include <gdk/x11/gdkx.h>
#endif

static void put(char *field, size_t size, const char *value)
{
    memset(field, 0, size);
    if (value != NULL)
        g_strlcpy(field, value, size);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = g_getenv(name);
    return v != NULL && v[0] != '\0' ? v : fallback;
}

static void keymap_from_env(struct bh_gui_keymap *out)
{
    put(out->rules, sizeof out->rules, env_or("XKB_DEFAULT_RULES", "evdev"));
    put(out->model, sizeof out->model, env_or("XKB_DEFAULT_MODEL", "pc105"));
    put(out->layout, sizeof out->layout, env_or("XKB_DEFAULT_LAYOUT", "us"));
    put(out->variant, sizeof out->variant, env_or("XKB_DEFAULT_VARIANT", ""));
    put(out->options, sizeof out->options, env_or("XKB_DEFAULT_OPTIONS", ""));
}

void bh_guid_keymap_from_display(GdkDisplay *display, struct bh_gui_keymap *out)
{
    keymap_from_env(out);
#ifdef GDK_WINDOWING_X11
    if (!GDK_IS_X11_DISPLAY(display))
        return;
    Display *dpy = gdk_x11_display_get_xdisplay(display);
    Atom prop = XInternAtom(dpy, "_XKB_RULES_NAMES", True);
    Atom type = None;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char *data = NULL;
    if (prop == None ||
        XGetWindowProperty(dpy, DefaultRootWindow(dpy), prop, 0, 1024, False, XA_STRING, &type, &format, &n,
                           &after, &data) != Success ||
        data == NULL || type != XA_STRING || format != 8) {
        if (data != NULL)
            XFree(data);
        return;
    }
    /* Five NUL-separated strings: rules, model, layout, variant, options. */
    char *fields[] = {out->rules, out->model, out->layout, out->variant, out->options};
    size_t sizes[] = {sizeof out->rules, sizeof out->model, sizeof out->layout, sizeof out->variant,
                      sizeof out->options};
    unsigned long pos = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(fields) && pos < n; i++) {
        size_t len = strnlen((const char *)data + pos, n - pos);
        g_autofree char *value = g_strndup((const char *)data + pos, len);
        /* An empty rules/model/layout keeps the default; variant/options may be empty. */
        if (value[0] != '\0' || i >= 3)
            put(fields[i], sizes[i], value);
        pos += len + 1;
    }
    XFree(data);
#endif
}

void bh_guid_keymap_watch(GdkDisplay *display)
{
#ifdef GDK_WINDOWING_X11
    if (!GDK_IS_X11_DISPLAY(display))
        return;
    Display *dpy = gdk_x11_display_get_xdisplay(display);
    Window root = DefaultRootWindow(dpy);
    XWindowAttributes attrs;
    /* Added to the mask GDK already selected on the root (its own
     * property and structure events), never replacing it. */
    if (XGetWindowAttributes(dpy, root, &attrs))
        XSelectInput(dpy, root, attrs.your_event_mask | PropertyChangeMask);
#endif
}

gboolean bh_guid_keymap_event_is_change(GdkDisplay *display, const void *xevent)
{
#ifdef GDK_WINDOWING_X11
    const XEvent *ev = xevent;
    if (!GDK_IS_X11_DISPLAY(display) || ev->type != PropertyNotify)
        return FALSE;
    Display *dpy = gdk_x11_display_get_xdisplay(display);
    /* GDK interns the name once and caches it: no round trip per event. */
    return ev->xproperty.window == DefaultRootWindow(dpy) &&
           ev->xproperty.atom == gdk_x11_get_xatom_by_name_for_display(display, "_XKB_RULES_NAMES");
#else
    return FALSE;
#endif
}

void bh_guid_screen_from_display(GdkDisplay *display, struct bh_gui_screen *out)
{
    memset(out, 0, sizeof *out);
    out->width = 1280;
    out->height = 1024;
    GListModel *monitors = gdk_display_get_monitors(display);
    g_autoptr(GdkMonitor) monitor =
        g_list_model_get_n_items(monitors) > 0 ? g_list_model_get_item(monitors, 0) : NULL;
    if (monitor == NULL)
        return;
    GdkRectangle geo;
    gdk_monitor_get_geometry(monitor, &geo);
    if (geo.width > 0 && geo.height > 0) {
        out->width = (guint32)MIN((guint32)geo.width, BH_MAX_WINDOW_WIDTH);
        out->height = (guint32)MIN((guint32)geo.height, BH_MAX_WINDOW_HEIGHT);
    }
    out->width_mm = (guint32)CLAMP(gdk_monitor_get_width_mm(monitor), 0, 100000);
    out->height_mm = (guint32)CLAMP(gdk_monitor_get_height_mm(monitor), 0, 100000);
}
