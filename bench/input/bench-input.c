/* bench-input.c — key to pixels and pointer to pixels (issue 21): a key press
 * or a pointer motion injected into an X server with XTEST, to the moment the
 * X server holds the pixels that the Wayland client drew for it. Three paths
 * side by side, each on its own private Xvfb, taking turns in one run:
 *
 *   weston   bh-input-client on weston's x11 backend (kiosk-shell, pixman):
 *            no isolation, the floor
 *   waypipe  the client behind `waypipe server` → `waypipe client` (-c none)
 *            → the same weston: the peer
 *   guid     the client on bulkhead-gui-agent → socket vchan → bulkhead-guid
 *            (frames straight to X, as by default)
 *   x11      a plain X window of this program filling itself on the event:
 *            what XTEST, Xvfb and the polling alone cost (the harness)
 *
 * Per event: XTestFake*, XFlush, then XGetImage of one pixel of the root
 * window (what the screen shows) every POLL_US until it is the colour the
 * client draws for that event (bh-input-client.c says which); the time is
 * taken from just before the fake event. Between events a pause of 8–24 ms
 * (varied, so no event rides a fixed phase of anyone's 60 Hz clock).
 *
 *   bench-input [--reps N] [--events N] [--client P] [--agent P] [--guid P]
 *               [--paths weston,waypipe,guid] [--json FILE]
 *
 * N repetitions; in each, every path takes N events of keys, then N of
 * motion. Prints p50/p90/p99/max per path and kind, and the ratio of the
 * percentiles to weston's of the same run.
 *
 * Owns: its Xvfbs, compositors, agent, guid and clients. Must never: count
 * an event whose colour it did not see, or leave a process behind. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <errno.h>
#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-proc.h"

#define WIN_W            320
#define WIN_H            240
#define POLL_US          100
#define EVENT_TIMEOUT_NS (2000u * 1000000u)
#define START_MS         20000
#define MAX_PROCS        6
#define START_COLOUR     0x123456u

enum kind { KIND_KEY, KIND_MOTION, KIND_COUNT };
static const char *const kind_name[KIND_COUNT] = {"key", "motion"};

struct path {
    const char *name;
    char dir[256];
    int display;
    pid_t procs[MAX_PROCS];
    unsigned n_procs;
    Display *dpy;
    Window win;
    int cx, cy;           /* the pixel watched, root coordinates */
    uint32_t last_motion; /* the colour of the last position drawn */
    unsigned presses;
    int motion_step;
    GArray *lat[KIND_COUNT]; /* double ms */
    unsigned lost[KIND_COUNT];
    bool ok;
};

static char *opt_client, *opt_agent, *opt_guid, *opt_paths = "weston,waypipe,guid,x11", *opt_json;
static char *self_path;
static int opt_reps = 3, opt_events = 100;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(p);
    return 0;
}

static pid_t spawn(struct path *p, const char *const *argv, const char *const *env)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *base = g_path_get_basename(argv[0]);
    g_autofree char *log = g_strdup_printf("%s/%s-%u.log", p->dir, base, p->n_procs);
    if (p->n_procs >= MAX_PROCS)
        return -1;
    pid_t pid = bench_proc_spawn(argv, env, log, &error);
    if (pid < 0) {
        g_printerr("%s: cannot start %s: %s\n", p->name, argv[0], error->message);
        return -1;
    }
    p->procs[p->n_procs++] = pid;
    return pid;
}

static bool wait_file(struct path *p, const char *name, pid_t owner)
{
    g_autofree char *f = g_build_filename(p->dir, name, NULL);
    if (bench_wait_path(f, owner, START_MS))
        return true;
    g_printerr("%s: %s did not appear\n", p->name, f);
    return false;
}

static uint32_t pixel(struct path *p)
{
    XImage *img = XGetImage(p->dpy, DefaultRootWindow(p->dpy), p->cx, p->cy, 1, 1, AllPlanes, ZPixmap);
    if (!img)
        return 0xffffffffu;
    uint32_t v = (uint32_t)XGetPixel(img, 0, 0) & 0xffffffu;
    XDestroyImage(img);
    return v;
}

/* Waits until the watched pixel is `want`, or with `other` any position
 * colour but `want` and the start colour; the colour seen in *seen. */
static bool wait_colour(struct path *p, uint32_t want, bool other, uint64_t t0, uint32_t *seen)
{
    for (;;) {
        uint32_t v = pixel(p);
        if (other ? (!(v & 0x800000u) && v != START_COLOUR && v != want) : v == want) {
            if (seen)
                *seen = v;
            return true;
        }
        if (bench_now_ns() - t0 > EVENT_TIMEOUT_NS)
            return false;
        g_usleep(POLL_US);
    }
}

/* The largest mapped child of the root showing the client's start colour at
 * its centre: weston's output window or guid's toplevel. */
static bool find_window(struct path *p)
{
    uint64_t end = bench_now_ns() + (uint64_t)START_MS * 1000000u;
    while (bench_now_ns() < end) {
        Window root, parent, *kids = NULL;
        unsigned n = 0;
        XQueryTree(p->dpy, DefaultRootWindow(p->dpy), &root, &parent, &kids, &n);
        for (unsigned i = 0; i < n; i++) {
            XWindowAttributes a;
            if (!XGetWindowAttributes(p->dpy, kids[i], &a) || a.map_state != IsViewable || a.width < WIN_W ||
                a.height < WIN_H / 2)
                continue;
            p->win = kids[i];
            p->cx = a.x + a.width / 2;
            p->cy = a.y + a.height / 2;
            if (pixel(p) == START_COLOUR) {
                XFree(kids);
                return true;
            }
        }
        if (kids)
            XFree(kids);
        g_usleep(20000);
    }
    g_printerr("%s: no window showing the client's first frame\n", p->name);
    return false;
}

static bool start_path(struct path *p)
{
    g_autoptr(GError) error = NULL;
    snprintf(p->dir, sizeof(p->dir), "%s/bh-input-XXXXXX", g_get_tmp_dir());
    if (!mkdtemp(p->dir))
        return false;
    chmod(p->dir, 0700);
    for (int k = 0; k < KIND_COUNT; k++)
        p->lat[k] = g_array_new(FALSE, FALSE, sizeof(double));
    g_autofree char *xlog = g_build_filename(p->dir, "xvfb.log", NULL);
    pid_t xvfb = bench_xvfb_start(WIN_W + 200, WIN_H + 200, xlog, &p->display, &error);
    if (xvfb < 0) {
        g_printerr("%s: %s\n", p->name, error->message);
        return false;
    }
    p->procs[p->n_procs++] = xvfb;
    g_autofree char *e_xdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", p->dir);
    g_autofree char *e_disp = g_strdup_printf("DISPLAY=:%d", p->display);
    g_autofree char *w_arg = g_strdup_printf("%d", WIN_W);
    g_autofree char *h_arg = g_strdup_printf("%d", WIN_H);
    g_autofree char *ready = g_build_filename(p->dir, "client-ready", NULL);
    const char *client_argv[] = {opt_client, "--width", w_arg, "--height", h_arg, "--ready", ready, NULL};
    pid_t client = -1;

    if (strcmp(p->name, "x11") == 0) {
        g_autofree char *disp = g_strdup_printf(":%d", p->display);
        const char *x_argv[] = {self_path, "--x11-client", disp, ready, NULL};
        client = spawn(p, x_argv, NULL);
    } else if (strcmp(p->name, "guid") == 0) {
        g_autofree char *e_vdir = g_strdup_printf("BH_VCHAN_DIR=%s/vchan", p->dir);
        const char *agent_env[] = {e_xdg, e_vdir, "BH_VCHAN_DOMID=7", "BH_VCHAN_TRANSPORT=socket", NULL};
        const char *agent_argv[] = {opt_agent, "--wayland-socket", "wl-bench", NULL};
        pid_t agent = spawn(p, agent_argv, agent_env);
        if (agent < 0 || !wait_file(p, "wl-bench", agent))
            return false;
        g_autofree char *guid_run = g_build_filename(p->dir, "guid-run", NULL);
        g_mkdir(guid_run, 0700);
        g_autofree char *e_gxdg = g_strdup_printf("XDG_RUNTIME_DIR=%s", guid_run);
        const char *guid_env[] = {e_gxdg, e_vdir, e_disp, BENCH_GUID_ENV, NULL};
        const char *guid_argv[] = {
            opt_guid, "--qube", "bench", "--label", "blue", "--domid", "7", "--connect-timeout", "20", NULL};
        if (spawn(p, guid_argv, guid_env) < 0)
            return false;
        const char *client_env[] = {e_xdg, "WAYLAND_DISPLAY=wl-bench", NULL};
        client = spawn(p, client_argv, client_env);
    } else {
        const char *weston_argv[] = {
            "weston",           "--backend=x11-backend.so", "--use-pixman",  "--width=320", "--height=240",
            "--socket=wl-peer", "--shell=kiosk-shell.so",   "--idle-time=0", NULL};
        const char *weston_env[] = {e_xdg, e_disp, "WAYLAND_DISPLAY=", NULL};
        pid_t weston = spawn(p, weston_argv, weston_env);
        if (weston < 0 || !wait_file(p, "wl-peer", weston))
            return false;
        if (strcmp(p->name, "weston") == 0) {
            const char *client_env[] = {e_xdg, "WAYLAND_DISPLAY=wl-peer", NULL};
            client = spawn(p, client_argv, client_env);
        } else {
            g_autofree char *sock = g_build_filename(p->dir, "wp.sock", NULL);
            const char *wpc_argv[] = {"waypipe", "--no-gpu", "-c", "none", "-s", sock, "client", NULL};
            const char *wpc_env[] = {e_xdg, "WAYLAND_DISPLAY=wl-peer", NULL};
            pid_t wpc = spawn(p, wpc_argv, wpc_env);
            if (wpc < 0 || !wait_file(p, "wp.sock", wpc))
                return false;
            const char *wps_argv[] = {"waypipe",      "--no-gpu",     "-c",           "none",
                                      "-s",           sock,           "server",       "--",
                                      client_argv[0], client_argv[1], client_argv[2], client_argv[3],
                                      client_argv[4], client_argv[5], client_argv[6], NULL};
            const char *wps_env[] = {e_xdg, "WAYLAND_DISPLAY=", NULL};
            client = spawn(p, wps_argv, wps_env);
        }
    }
    if (client < 0 || !wait_file(p, "client-ready", client))
        return false;
    g_autofree char *name = g_strdup_printf(":%d", p->display);
    p->dpy = XOpenDisplay(name);
    if (!p->dpy || !find_window(p))
        return false;
    int ev, er, maj, min;
    if (!XTestQueryExtension(p->dpy, &ev, &er, &maj, &min)) {
        g_printerr("%s: no XTEST\n", p->name);
        return false;
    }
    /* No window manager: give the window the keyboard ourselves. */
    XSetInputFocus(p->dpy, p->win, RevertToPointerRoot, CurrentTime);
    /* The first motion names the offset between the root and the surface. */
    uint32_t seen = 0;
    int tries = 0, mx = 0;
    /* The compositor may not route the pointer to the surface at once
     * (focus, first enter): move until a position is drawn. */
    do {
        mx = p->cx - 3 - (tries % 5);
        XTestFakeMotionEvent(p->dpy, DefaultScreen(p->dpy), mx, p->cy - 2, CurrentTime);
        XFlush(p->dpy);
        uint64_t t0 = bench_now_ns();
        while (bench_now_ns() - t0 < 100000000u &&
               !(!((seen = pixel(p)) & 0x800000u) && seen != START_COLOUR))
            g_usleep(1000);
    } while (((seen & 0x800000u) || seen == START_COLOUR) && ++tries < 100);
    if (tries >= 100) {
        g_printerr("%s: the client never drew a pointer position\n", p->name);
        return false;
    }
    g_usleep(200000);
    p->last_motion = pixel(p);
    /* A first press until one is drawn: weston's kiosk-shell sometimes
     * starts with the keyboard on no surface, and then a click into the
     * window gives it. The presses the client counted are read back from
     * its colour. */
    KeyCode kc = XKeysymToKeycode(p->dpy, XK_a);
    for (int i = 0; i < 10 && p->presses == 0; i++) {
        if (i > 0) {
            XSetInputFocus(p->dpy, p->win, RevertToPointerRoot, CurrentTime);
            XTestFakeButtonEvent(p->dpy, 1, True, CurrentTime);
            XTestFakeButtonEvent(p->dpy, 1, False, CurrentTime);
        }
        XTestFakeKeyEvent(p->dpy, kc, True, CurrentTime);
        XTestFakeKeyEvent(p->dpy, kc, False, CurrentTime);
        XFlush(p->dpy);
        uint64_t t0 = bench_now_ns();
        while (bench_now_ns() - t0 < 300000000u && p->presses == 0) {
            uint32_t v = pixel(p);
            for (unsigned n = 1; n <= 20 && (v & 0x800000u); n++)
                if (v == (0x800000u | ((n * 40503u) & 0x7fffffu)))
                    p->presses = n;
            g_usleep(1000);
        }
    }
    if (p->presses == 0) {
        g_printerr("%s: the client never drew a key press\n", p->name);
        return false;
    }
    /* A click may have drawn a position: take the current one. */
    p->last_motion = 0xffffffffu;
    p->ok = true;
    return true;
}

static void stop_path(struct path *p)
{
    if (p->dpy)
        XCloseDisplay(p->dpy);
    for (unsigned i = p->n_procs; i-- > 0;)
        bench_proc_stop(p->procs[i], 5000);
    if (p->dir[0] && !g_getenv("BH_BENCH_KEEP"))
        nftw(p->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int k = 0; k < KIND_COUNT; k++)
        if (p->lat[k])
            g_array_unref(p->lat[k]);
}

static void one_event(struct path *p, enum kind k)
{
    uint32_t want;
    uint64_t t0 = bench_now_ns();
    if (k == KIND_KEY) {
        KeyCode kc = XKeysymToKeycode(p->dpy, XK_a);
        p->presses++;
        want = 0x800000u | ((p->presses * 40503u) & 0x7fffffu);
        t0 = bench_now_ns();
        XTestFakeKeyEvent(p->dpy, kc, True, CurrentTime);
        XFlush(p->dpy);
        bool seen = wait_colour(p, want, false, t0, NULL);
        uint64_t t1 = bench_now_ns();
        XTestFakeKeyEvent(p->dpy, kc, False, CurrentTime);
        XFlush(p->dpy);
        if (!seen) {
            p->lost[k]++;
            /* Resynchronise: a lost press shifts every later colour. */
            g_printerr("%s: key press %u not seen within 2 s (pixel %06x)\n", p->name, p->presses, pixel(p));
            return;
        }
        double ms = (double)(t1 - t0) / 1e6;
        g_array_append_val(p->lat[k], ms);
        return;
    }
    /* Walk along a short line, never twice the same position in a row.
     * Which position the client drew is not checked, only that it drew a new
     * one: the first positions weston's x11 backend reports after the
     * pointer entered lag by a few pixels, so an exact position would time
     * out there (guid's positions are checked by the display tests). */
    int dx = (p->motion_step % 21) - 10, dy = ((p->motion_step / 21) % 3) - 1;
    p->motion_step++;
    int x = p->cx + dx, y = p->cy + dy;
    uint32_t seen;
    t0 = bench_now_ns();
    XTestFakeMotionEvent(p->dpy, DefaultScreen(p->dpy), x, y, CurrentTime);
    XFlush(p->dpy);
    if (!wait_colour(p, p->last_motion, true, t0, &seen)) {
        p->lost[k]++;
        g_printerr("%s: motion to %d,%d not seen within 2 s (pixel %06x)\n", p->name, x, y, pixel(p));
        return;
    }
    p->last_motion = seen;
    double ms = (double)(bench_now_ns() - t0) / 1e6;
    g_array_append_val(p->lat[k], ms);
}

/* --x11-client DISPLAY READY: the harness's own floor, a plain X window that
 * fills itself with the same colours as bh-input-client on KeyPress and
 * MotionNotify: XTEST, the X server and the polling, nothing else. */
static int x11_client(const char *display, const char *ready)
{
    Display *d = XOpenDisplay(display);
    if (!d)
        return 1;
    int scr = DefaultScreen(d);
    Window w = XCreateSimpleWindow(d, RootWindow(d, scr), 0, 0, WIN_W, WIN_H, 0, 0, START_COLOUR);
    XSelectInput(d, w, KeyPressMask | PointerMotionMask | ExposureMask);
    GC gc = XCreateGC(d, w, 0, NULL);
    XMapWindow(d, w);
    unsigned presses = 0;
    bool announced = false;
    for (;;) {
        XEvent ev;
        XNextEvent(d, &ev);
        unsigned long colour;
        if (ev.type == KeyPress) {
            presses++;
            colour = 0x800000u | ((presses * 40503u) & 0x7fffffu);
        } else if (ev.type == MotionNotify) {
            colour = ((uint32_t)(ev.xmotion.x & 0x7ff) << 12) | (uint32_t)(ev.xmotion.y & 0xfff);
        } else if (ev.type == Expose) {
            XClearWindow(d, w);
            XSync(d, False);
            if (!announced) {
                FILE *f = fopen(ready, "w");
                if (f)
                    fclose(f);
                announced = true;
            }
            continue;
        } else {
            continue;
        }
        XSetForeground(d, gc, colour);
        XFillRectangle(d, w, gc, 0, 0, WIN_W, WIN_H);
        XFlush(d);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double pct(GArray *v, double q)
{
    if (v->len == 0)
        return NAN;
    size_t i = (size_t)ceil(q * (double)v->len);
    return g_array_index(v, double, i ? i - 1 : 0);
}

int main(int argc, char **argv)
{
    GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &opt_reps, "repetitions (default 3)", "N"},
        {"events", 0, 0, G_OPTION_ARG_INT, &opt_events, "events of each kind per path and repetition (100)",
         "N"},
        {"client", 0, 0, G_OPTION_ARG_FILENAME, &opt_client, "bh-input-client", "PATH"},
        {"agent", 0, 0, G_OPTION_ARG_FILENAME, &opt_agent, "bulkhead-gui-agent", "PATH"},
        {"guid", 0, 0, G_OPTION_ARG_FILENAME, &opt_guid, "bulkhead-guid", "PATH"},
        {"paths", 0, 0, G_OPTION_ARG_STRING, &opt_paths,
         "weston,waypipe,guid,x11 (the first is the floor of the ratios)", "LIST"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &opt_json, "write the figures here", "FILE"},
        {NULL}};
    if (argc == 4 && strcmp(argv[1], "--x11-client") == 0)
        return x11_client(argv[2], argv[3]);
    g_autoptr(GOptionContext) ctx = g_option_context_new("— key and pointer to pixels");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("%s\n", error->message);
        return 2;
    }
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    self_path = self;
    g_autofree char *bdir = g_path_get_dirname(self);
    g_autofree char *top = g_path_get_dirname(bdir);
    if (!opt_client)
        opt_client = g_build_filename(bdir, "bh-input-client", NULL);
    if (!opt_agent)
        opt_agent = g_build_filename(top, "gui-agent", "bulkhead-gui-agent", NULL);
    if (!opt_guid)
        opt_guid = g_build_filename(top, "guid", "bulkhead-guid", NULL);

    g_auto(GStrv) names = g_strsplit(opt_paths, ",", 0);
    guint n = g_strv_length(names);
    struct path *paths = g_new0(struct path, n);
    int status = 1;
    g_autoptr(GString) js = NULL;
    double load0 = bench_loadavg();
    for (guint i = 0; i < n; i++) {
        paths[i].name = names[i];
        if (!start_path(&paths[i]))
            goto out;
    }
    for (int rep = 0; rep < opt_reps; rep++)
        for (guint i = 0; i < n; i++)
            for (int k = 0; k < KIND_COUNT; k++)
                for (int e = 0; e < opt_events; e++) {
                    one_event(&paths[i], (enum kind)k);
                    g_usleep((gulong)(8000 + g_random_int_range(0, 16000)));
                }
    double load1 = bench_loadavg();
    js = g_string_new("{\"bench\": \"input\"");
    bench_json_field(js, "load_before", load0);
    bench_json_field(js, "load_after", load1);
    bench_json_field(js, "reps", opt_reps);
    bench_json_field(js, "events", opt_events);
    g_string_append(js, ", \"results\": [");
    printf("key/pointer to pixels, %d reps x %d events, load %.1f -> %.1f\n\n", opt_reps, opt_events, load0,
           load1);
    printf(
        "| path | event | n | lost | p50 ms | p90 ms | p99 ms | max ms | p50 / floor | p99 - floor p99 |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < KIND_COUNT; k++)
        for (guint i = 0; i < n; i++) {
            struct path *p = &paths[i];
            g_array_sort(p->lat[k], cmp_double);
            g_array_sort(paths[0].lat[k], cmp_double);
            double p50 = pct(p->lat[k], 0.5), p90 = pct(p->lat[k], 0.9), p99 = pct(p->lat[k], 0.99);
            double mx = pct(p->lat[k], 1.0);
            double f50 = pct(paths[0].lat[k], 0.5), f99 = pct(paths[0].lat[k], 0.99);
            printf("| %s | %s | %u | %u | %.2f | %.2f | %.2f | %.2f | %.2f | %+.2f |\n", p->name,
                   kind_name[k], p->lat[k]->len, p->lost[k], p50, p90, p99, mx, p50 / f50, p99 - f99);
            g_string_append_printf(js, "%s{\"path\": \"%s\", \"event\": \"%s\"", (k || i) ? ", " : "",
                                   p->name, kind_name[k]);
            bench_json_field(js, "n", p->lat[k]->len);
            bench_json_field(js, "lost", p->lost[k]);
            bench_json_field(js, "p50_ms", p50);
            bench_json_field(js, "p90_ms", p90);
            bench_json_field(js, "p99_ms", p99);
            bench_json_field(js, "max_ms", mx);
            g_string_append(js, "}");
        }
    g_string_append(js, "]}\n");
    if (opt_json && !g_file_set_contents(opt_json, js->str, -1, &error))
        g_printerr("%s\n", error->message);
    status = 0;
    for (guint i = 0; i < n; i++)
        for (int k = 0; k < KIND_COUNT; k++)
            if (paths[i].lat[k]->len == 0)
                status = 1; /* a path that never showed an event is broken */
out:
    for (guint i = 0; i < n; i++)
        stop_path(&paths[i]);
    g_free(paths);
    return status;
}
