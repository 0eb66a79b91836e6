/* bh-display.c — screenshots, pixel checks and window lookup for display
 * tests (see bh-display.h). */
#include "bh-display.h"

#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <cairo.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

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
    g_autofree char *dir = g_build_filename(root != NULL ? root : ".", "tests", "display", "shots", NULL);
    g_mkdir_with_parents(dir, 0755);
    g_autofree char *file = g_strconcat(name, ".png", NULL);
    char *path = g_build_filename(dir, file, NULL);

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, shot->width, shot->height);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < shot->height; y++)
        memcpy(data + (gsize)y * stride, shot->px + (gsize)y * shot->width, (gsize)shot->width * 4);
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

/* Bounding box of the pixels of `shot` in `area` for which `other` is NULL
 * and the pixel is `rgb`, or `other` differs from it. */
static gboolean box_of(const BhShot *shot, const BhShot *other, const BhRect *area, guint32 rgb, BhRect *out)
{
    int x0, y0, x1, y1, minx = G_MAXINT, miny = G_MAXINT, maxx = -1, maxy = -1;
    clip_area(shot, area, &x0, &y0, &x1, &y1);
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            if (other != NULL ? shot->px[(gsize)y * shot->width + x] != bh_shot_px(other, x, y)
                              : shot->px[(gsize)y * shot->width + x] == rgb) {
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

gboolean bh_shot_find_colour(const BhShot *shot, const BhRect *area, guint32 rgb, BhRect *out)
{
    return box_of(shot, NULL, area, rgb, out);
}

gboolean bh_shot_diff_box(const BhShot *a, const BhShot *b, const BhRect *area, BhRect *out)
{
    g_return_val_if_fail(a->width == b->width && a->height == b->height, FALSE);
    return box_of(a, b, area, 0, out);
}

guint bh_shot_ring_mismatches(const BhShot *shot, const BhRect *inner, int width, guint32 rgb, int *bad_x,
                              int *bad_y, guint32 *bad_rgb)
{
    guint bad = 0;
    for (int y = inner->y - width; y < inner->y + inner->height + width; y++) {
        for (int x = inner->x - width; x < inner->x + inner->width + width; x++) {
            gboolean inside =
                x >= inner->x && x < inner->x + inner->width && y >= inner->y && y < inner->y + inner->height;
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

    if (XGetWindowProperty(dpy, w, net_name, 0, 4096, False, utf8, &type, &format, &n, &after, &data) ==
            Success &&
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

/* A window found by XQueryTree may be gone by the next request (a guid
 * closing its windows, a window manager destroying its frame): Xlib's
 * default handler would exit the test. Only such a vanished window is
 * ignored, and only on this connection while a lookup runs (the handler is
 * process-wide; GTK's own connection is not read meanwhile). */
static int ignore_vanished(Display *dpy, XErrorEvent *e)
{
    if (e->error_code == BadWindow || e->error_code == BadDrawable)
        return 0;
    char text[160];
    XGetErrorText(dpy, e->error_code, text, sizeof text);
    g_error("X error during a window lookup: %s (request %d)", text, e->request_code);
}

static XErrorHandler vanished_push(void)
{
    return XSetErrorHandler(ignore_vanished);
}

static void vanished_pop(Display *dpy, XErrorHandler old)
{
    XSync(dpy, False); /* errors of the lookup's requests arrive before restoring */
    XSetErrorHandler(old);
}

/* Top-levels are children of the root, or, under a window manager, children
 * of its frames (depth 2). */
static guint scan_windows_in(Display *dpy, Window in, int depth, const char *prefix, gboolean exact,
                             Window *found, char **title, guint count)
{
    Window root_ret, parent, *children = NULL;
    unsigned int n = 0;
    if (!XQueryTree(dpy, in, &root_ret, &parent, &children, &n))
        return count;
    for (unsigned int i = 0; i < n; i++) {
        XWindowAttributes attr;
        if (!XGetWindowAttributes(dpy, children[i], &attr) || attr.map_state != IsViewable)
            continue;
        g_autofree char *name = window_name(dpy, children[i]);
        if (name == NULL) {
            if (depth < 2)
                count = scan_windows_in(dpy, children[i], depth + 1, prefix, exact, found, title, count);
            continue;
        }
        if (exact ? !g_str_equal(name, prefix) : !g_str_has_prefix(name, prefix))
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

static guint scan_windows(Display *dpy, const char *prefix, Window *found, char **title)
{
    XErrorHandler old = vanished_push();
    guint n = scan_windows_in(dpy, DefaultRootWindow(dpy), 1, prefix, FALSE, found, title, 0);
    vanished_pop(dpy, old);
    return n;
}

Window bh_x_find_window_exact(Display *dpy, const char *title)
{
    Window w = 0;
    XErrorHandler old = vanished_push();
    scan_windows_in(dpy, DefaultRootWindow(dpy), 1, title, TRUE, &w, NULL, 0);
    vanished_pop(dpy, old);
    return w;
}

Window bh_x_find_window(Display *dpy, const char *prefix, char **title)
{
    Window w = 0;
    scan_windows(dpy, prefix, &w, title);
    return w;
}

Window bh_x_wait_window(Display *dpy, const char *prefix, guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        Window w = bh_x_find_window(dpy, prefix, NULL);
        if (w != 0)
            return w;
        if (g_get_monotonic_time() > end) {
            g_autofree char *any = NULL;
            bh_x_find_window(dpy, "", &any);
            g_error("no window titled '%s...' (one window is '%s')", prefix, any != NULL ? any : "(none)");
        }
        g_usleep(50000);
    }
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
    XErrorHandler old = vanished_push();
    gboolean ok = XGetWindowAttributes(dpy, w, &attr) &&
                  XTranslateCoordinates(dpy, w, DefaultRootWindow(dpy), 0, 0, &x, &y, &child);
    vanished_pop(dpy, old);
    if (ok)
        *out = (BhRect){x, y, attr.width, attr.height};
    return ok;
}

void bh_x_close_window(Display *dpy, Window w)
{
    /* What a window manager does for the close button: WM_DELETE_WINDOW. */
    XEvent ev = {0};
    ev.xclient.type = ClientMessage;
    ev.xclient.window = w;
    ev.xclient.message_type = XInternAtom(dpy, "WM_PROTOCOLS", False);
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = (long)XInternAtom(dpy, "WM_DELETE_WINDOW", False);
    ev.xclient.data.l[1] = CurrentTime;
    XSendEvent(dpy, w, False, NoEventMask, &ev);
    XFlush(dpy);
}

gboolean bh_x_has_state(Display *dpy, Window w, const char *state)
{
    Atom prop = XInternAtom(dpy, "_NET_WM_STATE", False), want = XInternAtom(dpy, state, False);
    Atom type;
    int format;
    unsigned long n = 0, after;
    unsigned char *data = NULL;
    gboolean found = FALSE;
    if (XGetWindowProperty(dpy, w, prop, 0, 64, False, XA_ATOM, &type, &format, &n, &after, &data) ==
            Success &&
        data != NULL) {
        for (unsigned long i = 0; i < n; i++)
            found |= ((Atom *)data)[i] == want;
    }
    if (data != NULL)
        XFree(data);
    return found;
}

gboolean bh_x_is_urgent(Display *dpy, Window w)
{
    XWMHints *h = XGetWMHints(dpy, w);
    gboolean urgent = h != NULL && (h->flags & XUrgencyHint);
    if (h != NULL)
        XFree(h);
    return urgent;
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
    /* Conditions may depend on other processes: look again every 50 ms.
     * The tick only wakes the loop, so it runs below everything else: one
     * iteration dispatches only the highest priority that is ready, and a
     * condition slower than the tick (a full-screen XGetImage on a loaded
     * machine) would otherwise find the tick ready on every iteration, at
     * the default priority, above GTK's layout and paint
     * (GDK_PRIORITY_REDRAW): this process's own windows would never be
     * drawn and the wait would time out on a black screen. */
    guint tick = g_timeout_add_full(G_PRIORITY_LOW, 50, on_tick, NULL, NULL);
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

guint bh_pattern_mismatches(const BhShot *shot, int at_x, int at_y, int width, int height, guint seed)
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

typedef struct {
    Display *dpy;
    int w, h;
    guint seed;
    gboolean whole;
    BhRect *found;
} WaitPattern;

static gboolean pattern_shown(gpointer data)
{
    WaitPattern *wp = data;
    g_autoptr(BhShot) shot = bh_shot_take(wp->dpy);
    BhRect all = {0, 0, shot->width, shot->height};
    guint32 outline = bh_pattern_rgb(0, 0, wp->w, wp->h, wp->seed);
    return bh_shot_find_colour(shot, &all, outline, wp->found) && wp->found->width == wp->w &&
           wp->found->height == wp->h &&
           (!wp->whole ||
            bh_pattern_mismatches(shot, wp->found->x, wp->found->y, wp->w, wp->h, wp->seed) == 0);
}

gboolean bh_wait_pattern(Display *dpy, int width, int height, guint seed, gboolean whole, BhRect *found,
                         guint timeout_ms)
{
    WaitPattern wp = {dpy, width, height, seed, whole, found};
    return bh_wait_until(pattern_shown, &wp, timeout_ms);
}

guint bh_frame_mismatches(const BhShot *shot, const BhRect *content, int width, guint32 rgb)
{
    int bx = 0, by = 0;
    guint32 brgb = 0;
    guint bad = bh_shot_ring_mismatches(shot, content, width, rgb, &bx, &by, &brgb);
    if (bad != 0)
        g_printerr("# %u frame pixels are not #%06x, first at (%d,%d) = #%06x\n", bad, rgb, bx, by, brgb);
    return bad;
}

/* ---- processes ------------------------------------------------------------- */

void bh_programs_parse(BhPrograms *p, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    for (int i = 1; i + 1 < argc; i++) {
        if (g_str_equal(argv[i], "--guid"))
            p->guid = argv[i + 1];
        else if (g_str_equal(argv[i], "--agent"))
            p->agent = argv[i + 1];
        else if (g_str_equal(argv[i], "--gui-agent"))
            p->gui_agent = argv[i + 1];
        else if (g_str_equal(argv[i], "--wlclient"))
            p->wlclient = argv[i + 1];
        else if (g_str_equal(argv[i], "--wm"))
            p->wm = argv[i + 1];
    }
    if (p->guid == NULL || p->agent == NULL)
        g_error("usage: %s --guid PATH --agent PATH (meson passes them)", argv[0]);
}

static void on_proc_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    BhProc *p = data;
    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    if (g_subprocess_get_if_exited(p->proc))
        p->status = g_subprocess_get_exit_status(p->proc);
    else if (g_subprocess_get_if_signaled(p->proc))
        p->status = 128 + g_subprocess_get_term_sig(p->proc);
    p->exited = TRUE;
}

/* A failing test aborts without cleaning up: its children must not outlive it. */
static void die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

BhProc *bh_proc_spawn(const char *name, const char *const *argv, const char *const *env)
{
    guint32 serial = g_random_int(); /* unique file names within this test */
    const char *dir = g_getenv("XDG_RUNTIME_DIR");
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GError) error = NULL;
    BhProc *p = g_new0(BhProc, 1);

    p->name = g_strdup(name);
    p->out_path = g_strdup_printf("%s/%s-%08x.out", dir != NULL ? dir : "/tmp", name, serial);
    p->err_path = g_strdup_printf("%s/%s-%08x.err", dir != NULL ? dir : "/tmp", name, serial);
    g_subprocess_launcher_set_stdout_file_path(l, p->out_path);
    g_subprocess_launcher_set_stderr_file_path(l, p->err_path);
    g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
    for (gsize i = 0; env != NULL && env[i] != NULL; i++) {
        g_auto(GStrv) kv = g_strsplit(env[i], "=", 2);
        g_subprocess_launcher_setenv(l, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
    }
    p->proc = g_subprocess_launcher_spawnv(l, argv, &error);
    if (p->proc == NULL)
        g_error("cannot start %s: %s", argv[0], error->message);
    g_subprocess_wait_async(p->proc, NULL, on_proc_exit, p);
    return p;
}

static gboolean proc_exited(gpointer data)
{
    return ((BhProc *)data)->exited;
}

gboolean bh_proc_wait(BhProc *p, guint timeout_ms)
{
    return bh_wait_until(proc_exited, p, timeout_ms);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

char *bh_proc_stdout(BhProc *p)
{
    return slurp(p->out_path);
}

char *bh_proc_stderr(BhProc *p)
{
    return slurp(p->err_path);
}

typedef struct {
    BhProc *p;
    gboolean err;
    const char *text;
} WaitOut;

static gboolean output_has(gpointer data)
{
    WaitOut *w = data;
    g_autofree char *all = slurp(w->err ? w->p->err_path : w->p->out_path);
    return strstr(all, w->text) != NULL;
}

gboolean bh_proc_wait_output(BhProc *p, gboolean stderr_, const char *text, guint timeout_ms)
{
    WaitOut w = {p, stderr_, text};
    return bh_wait_until(output_has, &w, timeout_ms);
}

double bh_pid_cpu_seconds(const char *pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/stat", pid);
    g_autofree char *stat = slurp(path);
    /* Fields after the ")" of the command name: utime and stime are 14 and 15. */
    const char *rest = strrchr(stat, ')');
    if (rest == NULL)
        return 0;
    g_auto(GStrv) f = g_strsplit(rest + 2, " ", 0);
    if (g_strv_length(f) < 13)
        return 0;
    double ticks = (double)g_ascii_strtoull(f[11], NULL, 10) + g_ascii_strtoull(f[12], NULL, 10);
    return ticks / (double)sysconf(_SC_CLK_TCK);
}

pid_t bh_pid_parent(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *close;
    int ppid = 0;
    if (g_file_get_contents(path, &text, NULL, NULL) && (close = strrchr(text, ')')))
        sscanf(close + 2, "%*c %d", &ppid);
    return ppid;
}

double bh_proc_cpu_seconds(BhProc *p)
{
    const char *id = g_subprocess_get_identifier(p->proc);
    return id != NULL ? bh_pid_cpu_seconds(id) : 0;
}

void bh_proc_stop(BhProc *p)
{
    if (p == NULL)
        return;
    if (!p->exited) {
        g_subprocess_send_signal(p->proc, SIGTERM);
        if (!bh_proc_wait(p, 5000)) {
            g_subprocess_force_exit(p->proc);
            bh_proc_wait(p, 5000);
        }
    }
    g_object_unref(p->proc);
    g_free(p->name);
    g_free(p->out_path);
    g_free(p->err_path);
    g_free(p);
}

BhProc *bh_start_agent(const BhPrograms *p, int domid, const char *scenario, const char *const *extra)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, p->agent);
    g_ptr_array_add(argv, (gpointer) "--scenario");
    g_ptr_array_add(argv, (gpointer)scenario);
    for (gsize i = 0; extra != NULL && extra[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, NULL);
    g_autofree char *dom = g_strdup_printf("BH_VCHAN_DOMID=%d", domid);
    const char *env[] = {dom, NULL};
    g_autofree char *name = g_strdup_printf("agent-%d-%s", domid, scenario);
    BhProc *proc = bh_proc_spawn(name, (const char *const *)argv->pdata, env);
    if (!bh_proc_wait_output(proc, FALSE, "LISTENING", 30000)) {
        g_autofree char *err = bh_proc_stderr(proc);
        g_error("agent %s did not start listening: %s", scenario, err);
    }
    return proc;
}

BhProc *bh_start_guid(const BhPrograms *p, const char *qube, const char *label, int domid,
                      const char *const *extra)
{
    g_autofree char *dom = g_strdup_printf("%d", domid);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *base[] = {p->guid, "--qube", qube, "--label", label, "--domid", dom};
    for (gsize i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(argv, (gpointer)base[i]);
    for (gsize i = 0; extra != NULL && extra[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, NULL);
    g_autofree char *name = g_strdup_printf("guid-%s", qube);
    /* guid's own messages are what the tests read; debug adds the combo lines. */
    const char *env[] = {"G_MESSAGES_DEBUG=bh-guid", NULL};
    return bh_proc_spawn(name, (const char *const *)argv->pdata, env);
}

BhProc *bh_start_guid_warmed(const BhPrograms *p, const char *qube, const char *label, int domid,
                             const char *scenario, const char *const *agent_extra, BhProc **agent,
                             Display *dpy)
{
    g_autofree char *go = g_strdup_printf("%s/warm-%d.go", g_get_user_runtime_dir(), domid);
    g_unlink(go);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, (gpointer) "--wait-file");
    g_ptr_array_add(args, go);
    for (gsize i = 0; agent_extra != NULL && agent_extra[i] != NULL; i++)
        g_ptr_array_add(args, (gpointer)agent_extra[i]);
    g_ptr_array_add(args, NULL);
    *agent = bh_start_agent(p, domid, scenario, (const char *const *)args->pdata);
    const char *guid_args[] = {"--warm-up", NULL};
    BhProc *guid = bh_start_guid(p, qube, label, domid, guid_args);
    if (!bh_proc_wait_output(guid, TRUE, "warm-up: a window built", 60000)) {
        g_autofree char *log = bh_proc_stderr(guid);
        g_error("guid of %s did not finish its warm-up within 60 s:\n%s", qube, log);
    }
    g_autofree char *prefix = g_strdup_printf("[%s]", qube);
    g_assert_cmpuint(bh_x_count_windows(dpy, prefix), ==, 0);
    if (!g_file_set_contents(go, "", 0, NULL))
        g_error("cannot write %s", go);
    return guid;
}

void bh_agent_leaves(BhProc **agent, BhProc *guid)
{
    bh_proc_stop(g_steal_pointer(agent));
    if (!bh_proc_wait(guid, 30000))
        g_error("%s did not end within 30 s of its agent leaving", guid->name);
    if (guid->status != 0) {
        g_autofree char *log = bh_proc_stderr(guid);
        g_error("%s ended with status %d when its agent left:\n%s", guid->name, guid->status, log);
    }
}

BhProc *bh_start_gui_agent(const BhPrograms *p, int domid, const char *const *clients)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *socket = g_strdup_printf("wayland-bh-%d", domid);
    g_ptr_array_add(argv, g_strdup(p->gui_agent));
    g_ptr_array_add(argv, g_strdup("--wayland-socket"));
    g_ptr_array_add(argv, g_strdup(socket));
    for (gsize i = 0; clients != NULL && clients[i] != NULL; i++) {
        g_ptr_array_add(argv, g_strdup("--exec"));
        g_ptr_array_add(argv, g_strdup(clients[i]));
    }
    g_ptr_array_add(argv, NULL);
    g_autofree char *dom = g_strdup_printf("BH_VCHAN_DOMID=%d", domid);
    const char *env[] = {dom, NULL};
    g_autofree char *name = g_strdup_printf("gui-agent-%d", domid);
    BhProc *proc = bh_proc_spawn(name, (const char *const *)argv->pdata, env);
    if (!bh_proc_wait_output(proc, TRUE, "serving Wayland", 30000)) {
        g_autofree char *err = bh_proc_stderr(proc);
        g_error("gui-agent did not start: %s", err);
    }
    return proc;
}

gboolean bh_shot_find_framed(const BhShot *shot, const BhRect *area, int width, int height, int frame,
                             guint32 rgb, BhRect *found)
{
    guint n = 0;
    int bx, by;
    guint32 brgb;
    for (int y = area->y + frame; y + height + frame <= area->y + area->height; y++) {
        for (int x = area->x + frame; x + width + frame <= area->x + area->width; x++) {
            /* Cheap rejection first: the four corners of the ring. */
            if (x - frame < 0 || y - frame < 0 || x + width + frame > shot->width ||
                y + height + frame > shot->height)
                continue;
            if (bh_shot_px(shot, x - 1, y - 1) != rgb || bh_shot_px(shot, x + width, y + height) != rgb ||
                bh_shot_px(shot, x - 1, y + height) != rgb || bh_shot_px(shot, x + width, y - 1) != rgb)
                continue;
            BhRect r = {x, y, width, height};
            /* A frame around something else: no pixel of the content's own
             * edge is frame colour (else any frame-coloured area, a title bar
             * with a few words on it, would match too). */
            BhRect edge = {x + 1, y + 1, width - 2, height - 2};
            guint edge_px = 2u * (guint)(width + height) - 4u;
            if (width > 2 && height > 2 &&
                bh_shot_ring_mismatches(shot, &edge, 1, rgb, &bx, &by, &brgb) != edge_px)
                continue;
            if (bh_shot_ring_mismatches(shot, &r, frame, rgb, &bx, &by, &brgb) == 0) {
                if (n++ == 0)
                    *found = r;
            }
        }
    }
    return n == 1;
}

BhShot *bh_shot_wait_framed(Display *dpy, const BhRect *area, int width, int height, int frame, guint32 rgb,
                            BhRect *content)
{
    for (int i = 0; i < 400; i++) {
        BhShot *shot = bh_shot_take(dpy);
        if (bh_shot_find_framed(shot, area, width, height, frame, rgb, content))
            return shot;
        bh_shot_free(shot);
        g_usleep(50000);
    }
    g_autoptr(BhShot) shot = bh_shot_take(dpy);
    g_free(bh_shot_save(shot, "failed-frame"));
    g_error("no %dx%d content framed in #%06x in %dx%d+%d+%d", width, height, rgb, area->width, area->height,
            area->x, area->y);
}

gboolean bh_run(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                      &error)) {
        g_printerr("# %s: %s\n", argv[0], error->message);
        return FALSE;
    }
    return g_spawn_check_wait_status(status, NULL);
}

/* ---- Window managers and focus ------------------------------------------------ */

static gboolean wm_running(gpointer data)
{
    Display *dpy = data;
    Atom check = XInternAtom(dpy, "_NET_SUPPORTING_WM_CHECK", False);
    Atom type;
    int format;
    unsigned long n = 0, after;
    unsigned char *prop = NULL;
    gboolean ok = XGetWindowProperty(dpy, DefaultRootWindow(dpy), check, 0, 1, False, XA_WINDOW, &type,
                                     &format, &n, &after, &prop) == Success &&
                  n == 1;
    if (prop != NULL)
        XFree(prop);
    return ok;
}

BhProc *bh_start_wm(Display *dpy, const char *wm)
{
    if (wm == NULL || g_str_equal(wm, "none"))
        return NULL;
    if (!g_str_equal(wm, "openbox"))
        g_error("unknown window manager '%s' (none or openbox)", wm);
    /* No session manager, no user configuration: Debian's defaults
     * (click to focus, new windows focused unless they say otherwise). */
    const char *argv[] = {"openbox", "--sm-disable", NULL};
    g_autofree char *home = g_build_filename(g_getenv("XDG_RUNTIME_DIR"), "wm-home", NULL);
    g_mkdir_with_parents(home, 0700);
    g_autofree char *home_env = g_strdup_printf("HOME=%s", home);
    g_autofree char *cfg_env = g_strdup_printf("XDG_CONFIG_HOME=%s", home);
    const char *env[] = {home_env, cfg_env, NULL};
    BhProc *p = bh_proc_spawn("openbox", argv, env);
    if (!bh_wait_until(wm_running, dpy, 30000)) {
        g_autofree char *err = bh_proc_stderr(p);
        g_error("openbox did not start within 30 s: %s", err);
    }
    return p;
}

Window bh_x_focus(void)
{
    g_autofree char *out = NULL;
    int status = 0;
    const char *argv[] = {"xdotool", "getwindowfocus", NULL};
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                      &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return 0;
    return (Window)g_ascii_strtoull(out, NULL, 10);
}

/* The top-level (child of the root) that contains w: a window manager
 * reparents clients into its frames, and X focus may sit on a child. */
static Window toplevel_of(Display *dpy, Window w)
{
    Window root = 0, parent = 0, *kids = NULL;
    unsigned int n = 0;
    while (w != 0 && XQueryTree(dpy, w, &root, &parent, &kids, &n)) {
        if (kids != NULL)
            XFree(kids);
        if (parent == root || parent == 0)
            return w;
        w = parent;
    }
    return 0;
}

gboolean bh_x_frame_rect(Display *dpy, Window w, BhRect *out)
{
    XErrorHandler old = vanished_push();
    Window top = toplevel_of(dpy, w);
    vanished_pop(dpy, old);
    return top != 0 && bh_x_window_rect(dpy, top, out);
}

void bh_x_move_to_corner(Display *dpy, Window w, int margin)
{
    BhRect frame, client;
    if (!bh_x_frame_rect(dpy, w, &frame) || !bh_x_window_rect(dpy, w, &client))
        g_error("window 0x%lx is gone", (unsigned long)w);
    int sw = DisplayWidth(dpy, DefaultScreen(dpy)), sh = DisplayHeight(dpy, DefaultScreen(dpy));
    int x = sw - margin - frame.width, y = sh - margin - frame.height;
    /* A window manager takes the request as the frame's new position
     * (NorthWest gravity, what GTK asks); without one it is the window's. */
    XMoveWindow(dpy, w, x, y);
    XSync(dpy, False);
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (bh_x_frame_rect(dpy, w, &frame) && (frame.x != x || frame.y != y)) {
        if (g_get_monotonic_time() > end)
            g_error("window 0x%lx did not move to %d,%d (its frame is at %d,%d)", (unsigned long)w, x, y,
                    frame.x, frame.y);
        g_usleep(20000);
    }
}

gboolean bh_x_focus_in(Display *dpy, Window client)
{
    Window f = bh_x_focus();
    if (f == 0)
        return FALSE;
    if (f == client)
        return TRUE;
    /* GDK's focus proxy is a child of the client: compare their frames. */
    Window tf = toplevel_of(dpy, f), tc = toplevel_of(dpy, client);
    return tf != 0 && tf == tc;
}

void bh_x_activate(Display *dpy, Window w, gboolean wm)
{
    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)w);
    /* With a window manager, as a click on it would (the WM raises and
     * focuses it); without one, raise and focus by hand. */
    const char *with_wm[] = {"xdotool", "windowactivate", "--sync", wid, NULL};
    const char *raise[] = {"xdotool", "windowraise", wid, NULL};
    const char *focus[] = {"xdotool", "windowfocus", "--sync", wid, NULL};
    if (wm) {
        if (!bh_run(with_wm))
            g_error("xdotool windowactivate %s failed", wid);
    } else if (!bh_run(raise) || !bh_run(focus)) {
        g_error("xdotool windowraise/windowfocus %s failed", wid);
    }
    XSync(dpy, False);
}
