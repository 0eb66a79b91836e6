/* test-outside-destroy.c — issue 13 item 9 (part): guid survives its X
 * windows being destroyed by another client (`xdotool windowclose`, i.e.
 * XDestroyWindow), on Xvfb without and with a window manager (--wm openbox).
 *
 * Before the fix guid died at once (GDK's assertion on the foreign destroy,
 * or BadWindow/BadDrawable from its next request on the dead window). Proves:
 * destroying the toplevel's X window leaves guid running; guid asks the
 * guest to close the window (CLOSE), and when the guest (bh-fake-agent
 * "come-back") maps it again it is on screen again, pixel-exact inside a
 * whole frame; destroying a popup's X window too; the other qube's guid is
 * untouched; the hostile guid still ends cleanly (exit 0) when its agent
 * leaves. Control: the windows destroyed were guid's (they vanish from the
 * screen), and the errors guid ignored are in its log. */
#include <X11/Xlib.h>
#include <string.h>

#include "bh-display.h"
#include "bh-guest-view.h"
#include "bh-guid-label.h"

typedef struct {
    BhPrograms prog;
    Display *dpy;
    gboolean wm;
    int domid;
} Env;
static Env env; /* set up in main */

static void windowclose(Window w)
{
    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)w);
    if (!bh_run((const char *[]){"xdotool", "windowclose", wid, NULL}))
        g_error("xdotool windowclose %s failed", wid);
}

typedef struct {
    Window w;
} Gone;

static gboolean window_gone(gpointer data)
{
    Gone *g = data;
    XWindowAttributes attr;
    XSync(env.dpy, False);
    /* Our own connection: a BadWindow here is expected, not fatal. */
    return !XGetWindowAttributes(env.dpy, g->w, &attr);
}

/* A cw x ch test image of `seed` shown exactly inside the window `w` (the
 * other qube's window shows a test image too: look only inside `w`). */
static gboolean wait_content(Window w, int cw, int ch, guint seed, BhRect *found)
{
    guint32 outline = seed >= BH_PATTERN_POPUP ? BH_PATTERN_OUTLINE_POPUP : BH_PATTERN_OUTLINE;
    for (int i = 0; i < 300; i++) {
        BhRect area, r;
        g_autoptr(BhShot) s = bh_shot_take(env.dpy);
        if (bh_x_window_rect(env.dpy, w, &area) && bh_shot_find_colour(s, &area, outline, &r) &&
            r.width == cw && r.height == ch && bh_pattern_mismatches(s, r.x, r.y, cw, ch, seed) == 0) {
            *found = r;
            return TRUE;
        }
        g_usleep(50 * 1000);
    }
    return FALSE;
}

static int ignore_x_errors(Display *dpy, XErrorEvent *e)
{
    return 0;
}

/* Override-redirect children of the root that are mapped and not `except`:
 * GTK's popup surfaces (popovers) have no name. */
static Window find_popup_surface(void)
{
    Window root_ret, parent, *kids = NULL;
    unsigned int n = 0;
    Window found = 0;
    if (!XQueryTree(env.dpy, DefaultRootWindow(env.dpy), &root_ret, &parent, &kids, &n))
        return 0;
    for (unsigned int i = 0; i < n; i++) {
        XWindowAttributes a;
        if (XGetWindowAttributes(env.dpy, kids[i], &a) && a.map_state == IsViewable && a.override_redirect &&
            a.width > 100 && a.height > 80)
            found = kids[i];
    }
    if (kids != NULL)
        XFree(kids);
    return found;
}

static void test_windowclose(void)
{
    int calm_dom = env.domid++, bad_dom = env.domid++;
    const char *calm_args[] = {"--title", "calm", "--seed", "3", NULL};
    g_autoptr(BhProc) calm_agent = bh_start_agent(&env.prog, calm_dom, "window", calm_args);
    g_autoptr(BhProc) calm_guid = bh_start_guid(&env.prog, "calm", "green", calm_dom, NULL);
    Window calm = bh_x_wait_window(env.dpy, "[calm]", 30000);
    g_autofree char *cwid = g_strdup_printf("%lu", (unsigned long)calm);
    g_assert_true(bh_run((const char *[]){"xdotool", "windowmove", "--sync", cwid, "800", "600", NULL}));

    g_autoptr(BhProc) agent = bh_start_agent(&env.prog, bad_dom, "come-back", NULL);
    g_autoptr(BhProc) guid = bh_start_guid(&env.prog, "hostile", "red", bad_dom, NULL);
    Window w = bh_x_wait_window(env.dpy, "[hostile] survivor", 30000);
    BhRect content;
    g_assert_true(wait_content(w, 320, 200, 1, &content));

    /* The popup shows while its toplevel is active: destroy its surface. */
    bh_x_activate(env.dpy, w, env.wm);
    BhRect pop;
    if (!wait_content(w, 120, 80, BH_PATTERN_POPUP + 4, &pop)) {
        g_autoptr(BhShot) fs = bh_shot_take(env.dpy);
        g_free(bh_shot_save(fs, "outside-destroy-no-popup"));
        g_autofree char *out = bh_proc_stdout(agent), *err = bh_proc_stderr(guid);
        g_error("the popup never showed.\nagent:\n%s\nguid:\n%s", out, err);
    }
    Window popup = find_popup_surface();
    g_assert_cmpuint(popup, !=, 0);
    g_test_message("popup surface 0x%lx, toplevel 0x%lx", popup, w);
    windowclose(popup);
    Gone pg = {popup};
    g_assert_true(bh_wait_until(window_gone, &pg, 10000));
    if (bh_proc_wait(guid, 1500)) {
        g_autofree char *log = bh_proc_stderr(guid);
        g_error("guid died when its popup's X window was destroyed (status %d):\n%s", guid->status, log);
    }

    /* The toplevel. */
    windowclose(w);
    Gone tg = {w};
    g_assert_true(bh_wait_until(window_gone, &tg, 10000));
    g_assert_true(bh_proc_wait_output(agent, FALSE, "CLOSE 1", 10000));
    g_assert_true(bh_proc_wait_output(agent, FALSE, "MAPPED again", 10000));
    if (bh_proc_wait(guid, 500)) {
        g_autofree char *log = bh_proc_stderr(guid);
        g_error("guid died (status %d):\n%s", guid->status, log);
    }
    /* Back on screen, in a new X window, whole. */
    Window again = bh_x_wait_window(env.dpy, "[hostile] survivor", 30000);
    g_assert_cmpuint(again, !=, w);
    g_assert_true(wait_content(again, 320, 200, 1, &content));
    g_autoptr(BhShot) s = bh_shot_take(env.dpy);
    g_autofree char *name = g_strdup_printf("outside-destroy-%s", env.wm ? "openbox" : "nowm");
    g_free(bh_shot_save(s, name));
    g_assert_cmpuint(bh_frame_mismatches(s, &content, BH_GUID_FRAME_PX, bh_label_lookup("red")->rgb), ==, 0);

    g_autofree char *log = bh_proc_stderr(guid);
    g_assert_nonnull(strstr(log, "was destroyed by another client"));
    const char *ignored = strstr(log, "destroyed from outside; ignored");
    g_test_message("guid logged ignored errors on its dead windows: %s", ignored ? "yes" : "no");
    g_assert_false(calm_guid->exited);

    bh_agent_leaves(&agent, guid);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bh_programs_parse(&env.prog, argc, argv);
    env.dpy = bh_display_open();
    XSetErrorHandler(ignore_x_errors);
    env.domid = 500;
    g_autoptr(BhProc) wm = bh_start_wm(env.dpy, env.prog.wm);
    env.wm = wm != NULL;

    g_test_add_func("/guid/outside-destroy/windowclose", test_windowclose);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    return rc;
}
