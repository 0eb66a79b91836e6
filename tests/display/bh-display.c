/* bh-display.c — screenshots, pixel checks and window lookup for display
 * tests (see bh-display.h). */
#include "bh-display.h"

#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <cairo.h>
#include <string.h>

Display *bh_display_open(void)
{
    Display *dpy = XOpenDisplay(NULL);
    if (dpy == NULL)
        g_error("cannot open display %s", g_getenv("DISPLAY"));
    return dpy;
}

BhShot *bh_shot_take(Display *dpy)
{
    Window root = DefaultRootWindow(dpy);
    XWindowAttributes attr;
    XGetWindowAttributes(dpy, root, &attr);
    XImage *img = XGetImage(dpy, root, 0, 0, attr.width, attr.height, AllPlanes, ZPixmap);
    g_assert_nonnull(img);

    BhShot *shot = g_new0(BhShot, 1);
    shot->width = attr.width;
    shot->height = attr.height;
    shot->px = g_new(guint32, (gsize)attr.width * attr.height);
    for (int y = 0; y < attr.height; y++)
        for (int x = 0; x < attr.width; x++)
            shot->px[(gsize)y * attr.width + x] = XGetPixel(img, x, y) & 0xffffff;
    XDestroyImage(img);
    return shot;
}

void bh_shot_free(BhShot *shot)
{
    if (shot == NULL)
        return;
    g_free(shot->px);
    g_free(shot);
}

guint32 bh_shot_px(const BhShot *shot, int x, int y)
{
    g_assert(x >= 0 && y >= 0 && x < shot->width && y < shot->height);
    return shot->px[(gsize)y * shot->width + x];
}

char *bh_shot_save(const BhShot *shot, const char *name)
{
    const char *root = g_getenv("BH_BUILD_ROOT");
    g_autofree char *dir = g_build_filename(root != NULL ? root : ".", "tests", "display", "shots",
                                            NULL);
    g_mkdir_with_parents(dir, 0755);
    g_autofree char *file = g_strconcat(name, ".png", NULL);
    char *path = g_build_filename(dir, file, NULL);

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, shot->width, shot->height);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < shot->height; y++)
        memcpy(data + (gsize)y * stride, shot->px + (gsize)y * shot->width,
               (gsize)shot->width * 4);
    cairo_surface_mark_dirty(s);
    cairo_status_t st = cairo_surface_write_to_png(s, path);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        g_printerr("# could not save %s: %s\n", path, cairo_status_to_string(st));
    else
        g_printerr("# screenshot: %s\n", path);
    return path;
}

static void clip_area(const BhShot *shot, const BhRect *area, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = MAX(area->x, 0);
    *y0 = MAX(area->y, 0);
    *x1 = MIN(area->x + area->width, shot->width);
    *y1 = MIN(area->y + area->height, shot->height);
}

gboolean bh_shot_find_colour(const BhShot *shot, const BhRect *area, guint32 rgb, BhRect *out)
{
    int x0, y0, x1, y1, minx = G_MAXINT, miny = G_MAXINT, maxx = -1, maxy = -1;
    clip_area(shot, area, &x0, &y0, &x1, &y1);
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            if (shot->px[(gsize)y * shot->width + x] == rgb) {
                minx = MIN(minx, x);
                miny = MIN(miny, y);
                maxx = MAX(maxx, x);
                maxy = MAX(maxy, y);
            }
    if (maxx < 0)
        return FALSE;
    *out = (BhRect){minx, miny, maxx - minx + 1, maxy - miny + 1};
    return TRUE;
}

guint bh_shot_ring_mismatches(const BhShot *shot, const BhRect *inner, int width, guint32 rgb,
                              int *bad_x, int *bad_y, guint32 *bad_rgb)
{
    guint bad = 0;
    for (int y = inner->y - width; y < inner->y + inner->height + width; y++) {
        for (int x = inner->x - width; x < inner->x + inner->width + width; x++) {
            gboolean inside = x >= inner->x && x < inner->x + inner->width && y >= inner->y &&
                              y < inner->y + inner->height;
            if (inside)
                continue;
            guint32 p = (x < 0 || y < 0 || x >= shot->width || y >= shot->height)
                            ? 0xff000000u /* off screen: never the label colour */
                            : shot->px[(gsize)y * shot->width + x];
            if (p != rgb) {
                if (bad++ == 0) {
                    *bad_x = x;
                    *bad_y = y;
                    *bad_rgb = p;
                }
            }
        }
    }
    return bad;
}

guint bh_shot_diff(const BhShot *a, const BhShot *b, const BhRect *area)
{
    int x0, y0, x1, y1;
    guint n = 0;
    g_assert(a->width == b->width && a->height == b->height);
    clip_area(a, area, &x0, &y0, &x1, &y1);
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += a->px[(gsize)y * a->width + x] != b->px[(gsize)y * b->width + x];
    return n;
}

static char *window_name(Display *dpy, Window w)
{
    Atom utf8 = XInternAtom(dpy, "UTF8_STRING", False);
    Atom net_name = XInternAtom(dpy, "_NET_WM_NAME", False);
    Atom type;
    int format;
    unsigned long n, after;
    unsigned char *data = NULL;
    char *name = NULL;

    if (XGetWindowProperty(dpy, w, net_name, 0, 4096, False, utf8, &type, &format, &n, &after,
                           &data) == Success &&
        data != NULL && type == utf8) {
        name = g_strndup((const char *)data, n);
    }
    if (data != NULL)
        XFree(data);
    if (name == NULL) {
        char *wm = NULL;
        if (XFetchName(dpy, w, &wm) && wm != NULL) {
            name = g_strdup(wm);
            XFree(wm);
        }
    }
    return name;
}

static guint scan_windows(Display *dpy, const char *prefix, Window *found, char **title)
{
    Window root_ret, parent, *children = NULL;
    unsigned int n = 0;
    guint count = 0;
    if (!XQueryTree(dpy, DefaultRootWindow(dpy), &root_ret, &parent, &children, &n))
        return 0;
    for (unsigned int i = 0; i < n; i++) {
        XWindowAttributes attr;
        if (!XGetWindowAttributes(dpy, children[i], &attr) || attr.map_state != IsViewable)
            continue;
        g_autofree char *name = window_name(dpy, children[i]);
        if (name == NULL || !g_str_has_prefix(name, prefix))
            continue;
        if (count++ == 0) {
            if (found != NULL)
                *found = children[i];
            if (title != NULL)
                *title = g_steal_pointer(&name);
        }
    }
    if (children != NULL)
        XFree(children);
    return count;
}

Window bh_x_find_window(Display *dpy, const char *prefix, char **title)
{
    Window w = 0;
    scan_windows(dpy, prefix, &w, title);
    return w;
}

guint bh_x_count_windows(Display *dpy, const char *prefix)
{
    return scan_windows(dpy, prefix, NULL, NULL);
}

gboolean bh_x_window_rect(Display *dpy, Window w, BhRect *out)
{
    XWindowAttributes attr;
    Window child;
    int x, y;
    if (!XGetWindowAttributes(dpy, w, &attr))
        return FALSE;
    XTranslateCoordinates(dpy, w, DefaultRootWindow(dpy), 0, 0, &x, &y, &child);
    *out = (BhRect){x, y, attr.width, attr.height};
    return TRUE;
}

static gboolean on_timeout(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

static gboolean on_tick(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

gboolean bh_wait_until(gboolean (*cond)(gpointer), gpointer data, guint timeout_ms)
{
    gboolean timed_out = FALSE;
    guint id = g_timeout_add(timeout_ms, on_timeout, &timed_out);
    /* Conditions may depend on other processes: look again every 50 ms. */
    guint tick = g_timeout_add(50, on_tick, NULL);
    gboolean ok = TRUE;
    while (!cond(data)) {
        if (timed_out) {
            ok = FALSE;
            break;
        }
        g_main_context_iteration(NULL, TRUE);
    }
    if (!timed_out)
        g_source_remove(id);
    g_source_remove(tick);
    return ok;
}

guint32 bh_pattern_rgb(int x, int y, int width, int height, guint seed)
{
    if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
        return seed >= BH_PATTERN_POPUP ? BH_PATTERN_OUTLINE_POPUP : BH_PATTERN_OUTLINE;
    guint32 r = (guint32)(x * 255 / MAX(width, 1) + seed * 37) & 0xff;
    guint32 g = (guint32)(y * 255 / MAX(height, 1) + seed * 11) & 0xff;
    guint32 b = (guint32)((x ^ y) + seed * 5) & 0x7f; /* < 0x80: never magenta */
    return r << 16 | g << 8 | b;
}

void bh_pattern_fill(guint8 *buf, int width, int height, int stride, guint seed)
{
    for (int y = 0; y < height; y++) {
        guint32 *row = (guint32 *)(buf + (gsize)y * stride);
        for (int x = 0; x < width; x++)
            row[x] = 0xff000000u | bh_pattern_rgb(x, y, width, height, seed);
    }
}

guint bh_pattern_mismatches(const BhShot *shot, int at_x, int at_y, int width, int height,
                            guint seed)
{
    guint bad = 0;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            int sx = at_x + x, sy = at_y + y;
            if (sx < 0 || sy < 0 || sx >= shot->width || sy >= shot->height ||
                shot->px[(gsize)sy * shot->width + sx] != bh_pattern_rgb(x, y, width, height, seed))
                bad++;
        }
    return bad;
}
