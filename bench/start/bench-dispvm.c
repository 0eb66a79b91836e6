/* bench-dispvm.c — from `qvm-run --dispvm default-dvm foot` to foot's first
 * frame on screen, through bulkheadd on the sandbox backend and guid.
 *
 *   bench-dispvm [--reps N] [--preload]   (run by bench-dispvm.sh: daemon, bus, Xvfb)
 *
 * Each repetition: start the clock, spawn qvm-run; poll the X server every
 * 2 ms for a top-level titled "[disp…"; once it is there, read the pixel
 * in the middle of the window every 2 ms until it shows foot's background
 * (not the black of an undrawn window, not the frame): that is the first
 * frame. Then qvm-kill
 * the disposable (the daemon deletes it) and wait until it is gone. Beside
 * it, in the same run, `bwrap … true` from spawn to exit. With --preload the
 * global preload_dispvm is turned on and each repetition starts once the
 * preloaded disposable runs (qvm-ls shows a running disp… qube), so what
 * is timed is the hand-out, the command's start in it and its first frame
 * (with BH_BENCH_DAEMON_LOG, once its guid also connected, as for a
 * disposable preloaded a while before it is used).
 * Method and results: bench/start/README.md.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <X11/Xutil.h>

#include "bh-display.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summary(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf("%-48s median %8.1f ms   min %8.1f   max %8.1f   (n=%d)\n", what, v[n / 2], v[0], v[n - 1], n);
}

static double bwrap_true_ms(void)
{
    const char *argv[] = {"bwrap",          "--unshare-all",
                          "--unshare-user", "--die-with-parent",
                          "--ro-bind",      "/usr",
                          "/usr",           "--symlink",
                          "usr/bin",        "/bin",
                          "--symlink",      "usr/lib",
                          "/lib",           "--symlink",
                          "usr/lib64",      "/lib64",
                          "--proc",         "/proc",
                          "--dev",          "/dev",
                          "/usr/bin/true",  NULL};
    gint64 t0 = g_get_monotonic_time();
    int status = 0;
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL);
    return (g_get_monotonic_time() - t0) / 1000.0;
}

/* Windows come and go while we look: an error about one that just went is
 * expected, not fatal (Xlib's default handler would exit). */
static int ignore_x_errors(Display *dpy, XErrorEvent *e)
{
    return 0;
}

static void run_cli(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                      NULL, NULL, NULL, &error))
        g_error("%s: %s", argv[0], error->message);
}

/* Until qvm-ls lists a running disposable (the preloaded one), and then
 * until bulkheadd's log (BH_BENCH_DAEMON_LOG, set by bench-dispvm.sh) says
 * its guid connected, and warmed its first window up when it was asked to
 * (--warm-up): 60 s. A preloaded disposable is used seconds or minutes
 * after it was made; timing one whose guid is still starting (GTK's start,
 * about 40 ms of CPU) would count a start the user never waits for. */
static void wait_preloaded(void)
{
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *name = NULL;
    while (name == NULL) {
        const char *argv[] = {"qvm-ls", "--raw-data", NULL};
        g_autofree char *out = NULL;
        if (g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                         NULL, &out, NULL, NULL, NULL)) {
            g_auto(GStrv) rows = g_strsplit(out, "\n", -1);
            for (char **r = rows; *r && name == NULL; r++)
                if (g_str_has_prefix(*r, "disp") && strstr(*r, "|Running|"))
                    name = g_strndup(*r, strcspn(*r, "|"));
        }
        if (g_get_monotonic_time() - t0 > 60 * G_USEC_PER_SEC)
            g_error("no preloaded disposable running within 60 s");
        if (name == NULL)
            g_usleep(20000);
    }
    const char *log = g_getenv("BH_BENCH_DAEMON_LOG");
    if (log == NULL)
        return;
    g_autofree char *line = g_strdup_printf("[%s] guid[%s]: connected to domain", name, name);
    g_autofree char *warm_line = g_strdup_printf("[%s] guid[%s]: warm-up:", name, name);
    g_autofree char *started = g_strdup_printf("[%s] started ", name);
    gboolean warm = FALSE;
    for (;;) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(log, &text, NULL, NULL) && strstr(text, line) != NULL) {
            /* Asked to warm its first window up (--warm-up, on its command
             * line): that too is done before a user comes. */
            const char *pid = strstr(text, started) ? strstr(strstr(text, started), "(pid ") : NULL;
            g_autofree char *cmdline_path = pid ? g_strdup_printf("/proc/%d/cmdline", atoi(pid + 5)) : NULL;
            g_autofree char *cmdline = NULL;
            gsize len = 0;
            if (cmdline_path && g_file_get_contents(cmdline_path, &cmdline, &len, NULL))
                warm = memmem(cmdline, len, "--warm-up", sizeof "--warm-up") != NULL;
            if (!warm || strstr(text, warm_line) != NULL)
                return;
        }
        if (g_get_monotonic_time() - t0 > 60 * G_USEC_PER_SEC)
            g_error("the guid of %s did not connect (and warm up) within 60 s", name);
        g_usleep(20000);
    }
}

/* The pixel at (x, y) of the screen. One pixel, not a screenshot: a
 * 1280x1024 XGetImage and its 1.3 million XGetPixel calls cost the bench
 * some 20 ms of CPU per look, taken from the two CPUs that guid, Xvfb and
 * the qube need right then, and made each look that much later. */
static guint32 screen_px(Display *dpy, int x, int y, gboolean whole_shot)
{
    if (whole_shot) { /* the way of earlier sessions (--whole-shots), for comparison */
        g_autoptr(BhShot) shot = bh_shot_take(dpy);
        return bh_shot_px(shot, x, y);
    }
    XImage *img = XGetImage(dpy, DefaultRootWindow(dpy), x, y, 1, 1, AllPlanes, ZPixmap);
    if (img == NULL)
        return 0;
    guint32 px = XGetPixel(img, 0, 0) & 0xffffff;
    XDestroyImage(img);
    return px;
}

int main(int argc, char **argv)
{
    int reps = 7;
    gboolean preload = FALSE, whole_shots = FALSE;
    GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &reps, "Disposables to time (default 7)", "N"},
        {"preload", 0, 0, G_OPTION_ARG_NONE, &preload,
         "Turn preload_dispvm on and time disposables that were started ahead", NULL},
        {"whole-shots", 0, 0, G_OPTION_ARG_NONE, &whole_shots,
         "Look for the first frame in whole screenshots, as before (slower, for comparison)", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || reps < 1) {
        fprintf(stderr, "bench-dispvm: %s\n", error ? error->message : "bad --reps");
        return 2;
    }
    Display *dpy = bh_display_open();
    XSetErrorHandler(ignore_x_errors);
    double *mapped = g_new(double, reps), *frame = g_new(double, reps), *plain = g_new(double, reps);
    double *ratio = g_new(double, reps);
    if (preload) {
        const char *on[] = {"qubes-prefs", "preload_dispvm", "True", NULL};
        run_cli(on);
    }

    for (int i = 0; i < reps; i++) {
        if (preload)
            wait_preloaded();
        plain[i] = bwrap_true_ms();
        const char *run[] = {"qvm-run", "--dispvm", "default-dvm", "foot", NULL};
        GPid pid = 0;
        gint64 t0 = g_get_monotonic_time();
        /* It reports the disposable's end (our qvm-kill) as an error: quiet. */
        if (!g_spawn_async(NULL, (char **)run, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                           NULL, &pid, &error))
            g_error("qvm-run: %s", error->message);
        g_autofree char *title = NULL;
        Window w = 0;
        while (w == 0) {
            if (g_get_monotonic_time() - t0 > 60 * G_USEC_PER_SEC)
                g_error("no disposable window within 60 s");
            g_usleep(2000);
            g_clear_pointer(&title, g_free);
            w = bh_x_find_window(dpy, "[disp", &title);
        }
        mapped[i] = (g_get_monotonic_time() - t0) / 1000.0;
        for (;;) {
            BhRect r;
            if (g_get_monotonic_time() - t0 > 60 * G_USEC_PER_SEC)
                g_error("no frame within 60 s");
            if (bh_x_window_rect(dpy, w, &r)) {
                guint32 px = screen_px(dpy, r.x + r.width / 2, r.y + r.height / 2, whole_shots);
                /* Undrawn: black. The label's red is the frame, not content. */
                if (px != 0x000000 && px != 0xcc0000) {
                    frame[i] = (g_get_monotonic_time() - t0) / 1000.0;
                    break;
                }
            }
            g_usleep(2000);
        }
        /* "[disp12] foot" -> disp12: qvm-kill it; the daemon deletes it. */
        g_autofree char *name = g_strndup(title + 1, strcspn(title + 1, "]"));
        const char *kill_argv[] = {"qvm-kill", name, NULL};
        run_cli(kill_argv);
        int status;
        waitpid(pid, &status, 0);
        g_spawn_close_pid(pid);
        while (bh_x_find_window(dpy, "[disp", NULL))
            g_usleep(10000);
        ratio[i] = frame[i] / plain[i];
        fprintf(stderr, "# %s: window %.1f ms, first frame %.1f ms, bwrap %.1f ms\n", name, mapped[i],
                frame[i], plain[i]);
    }
    summary("qvm-run --dispvm: window mapped", mapped, reps);
    summary("qvm-run --dispvm: first frame on screen", frame, reps);
    summary("plain bwrap ... true: spawn to exit", plain, reps);
    qsort(ratio, (size_t)reps, sizeof *ratio, cmp_double);
    printf("%-48s median %8.1f x   min %8.1f   max %8.1f\n", "first frame / bwrap of the same repetition",
           ratio[reps / 2], ratio[0], ratio[reps - 1]);
    g_free(ratio);
    g_free(mapped);
    g_free(frame);
    g_free(plain);
    XCloseDisplay(dpy);
    return 0;
}
