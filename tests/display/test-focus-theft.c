/* test-focus-theft.c — issue 13 item 2: a qube that does not have the
 * keyboard never gets it back by showing a window again, on Xvfb without and
 * with a window manager (--wm openbox).
 *
 * The hostile qube's window had the keyboard (the user typed in it), then
 * the user activated another qube's window ("calm"). Each time the hostile
 * window loses the keyboard, its agent (bh-fake-agent "tricks") tries the
 * next way back: unmap + map, destroy + create, a popup too big to be one
 * (shown as a window), the fullscreen flag with a re-map, the urgency flag
 * with a re-map. After each, `xdotool getwindowfocus` must still be in the
 * calm window.
 *
 * Control (with a window manager): a plain X window mapped with the time of
 * the user's last input as its _NET_WM_USER_TIME — what GDK sent on a re-map
 * before the fix — does get the focus from openbox; the same window mapped
 * with user time 0 does not. So openbox would hand the keyboard over, and
 * user time 0 is what stops it. */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <string.h>

#include "bh-display.h"

typedef struct {
    BhPrograms prog;
    Display *dpy;
    gboolean wm;
    int domid;
} Env;
static Env env; /* set up in main */

static void xdo(const char *const *argv)
{
    if (!bh_run(argv))
        g_error("%s %s failed", argv[0], argv[1]);
}

static guint count_lines(BhProc *p, const char *text)
{
    g_autofree char *out = bh_proc_stdout(p);
    guint n = 0;
    for (const char *s = out; (s = strstr(s, text)) != NULL; s += strlen(text))
        n++;
    return n;
}

typedef struct {
    BhProc *p;
    const char *text;
    guint at_least;
} Lines;

static gboolean has_lines(gpointer data)
{
    Lines *l = data;
    return count_lines(l->p, l->text) >= l->at_least;
}

static void wait_lines(BhProc *p, const char *text, guint at_least)
{
    Lines l = {p, text, at_least};
    if (!bh_wait_until(has_lines, &l, 30000)) {
        g_autofree char *out = bh_proc_stdout(p);
        g_error("%s never said '%s' %u times:\n%s", p->name, text, at_least, out);
    }
}

static char *focus_name(void)
{
    Window f = bh_x_focus();
    return g_strdup_printf("0x%lx", (unsigned long)f);
}

/* ---- Control: what openbox does with a window's user time ------------------ */

/* The server's time now: from the PropertyNotify of a dummy change. */
static Time server_time(Window w)
{
    Atom a = XInternAtom(env.dpy, "BH_TIME_PROBE", False);
    XSelectInput(env.dpy, w, PropertyChangeMask);
    XChangeProperty(env.dpy, w, a, XA_CARDINAL, 32, PropModeReplace, (unsigned char *)"\0\0\0\0", 1);
    XEvent ev;
    for (;;) {
        XWindowEvent(env.dpy, w, PropertyChangeMask, &ev);
        if (ev.xproperty.atom == a)
            return ev.xproperty.time;
    }
}

static Window map_plain(const char *name, gboolean fresh_time)
{
    Window w = XCreateSimpleWindow(env.dpy, DefaultRootWindow(env.dpy), 100, 100, 200, 100, 0, 0, 0x808080);
    XStoreName(env.dpy, w, name);
    XWMHints hints = {.flags = InputHint, .input = True};
    XSetWMHints(env.dpy, w, &hints);
    unsigned long t = fresh_time ? server_time(w) : 0;
    XChangeProperty(env.dpy, w, XInternAtom(env.dpy, "_NET_WM_USER_TIME", False), XA_CARDINAL, 32,
                    PropModeReplace, (unsigned char *)&t, 1);
    XMapWindow(env.dpy, w);
    XSync(env.dpy, False);
    return w;
}

static void test_control(void)
{
    if (!env.wm) {
        g_test_skip("no window manager: nothing but a client's own XSetInputFocus moves the "
                    "focus, so there is no policy to control");
        return;
    }
    /* The user works in a window (activated like a click would). */
    Window user = map_plain("user window", TRUE);
    g_usleep(500 * 1000);
    bh_x_activate(env.dpy, user, TRUE);
    xdo((const char *[]){"xdotool", "key", "shift", NULL});
    g_assert_true(bh_x_focus_in(env.dpy, user));

    /* Mapped with user time 0: openbox leaves the focus alone. */
    Window quiet = map_plain("quiet window", FALSE);
    g_usleep(1500 * 1000);
    g_autofree char *f1 = focus_name();
    g_test_message("control: after a map with user time 0 the focus is %s (user window 0x%lx)", f1, user);
    g_assert_true(bh_x_focus_in(env.dpy, user));

    /* Mapped with the time of the last input: openbox gives it the focus,
     * as it did guid's re-mapped window before the fix. */
    Window loud = map_plain("fresh window", TRUE);
    gboolean moved = FALSE;
    for (int i = 0; i < 60 && !moved; i++) {
        g_usleep(50 * 1000);
        moved = bh_x_focus_in(env.dpy, loud);
    }
    g_autofree char *f2 = focus_name();
    g_test_message("control: after a map with a fresh user time the focus is %s (0x%lx)", f2, loud);
    g_assert_true(moved);
    XDestroyWindow(env.dpy, user);
    XDestroyWindow(env.dpy, quiet);
    XDestroyWindow(env.dpy, loud);
    XSync(env.dpy, False);
}

/* ---- The tricks ----------------------------------------------------------------- */

static void test_tricks(void)
{
    static const char *const tricks[] = {"remap", "recreate", "big-popup", "fullscreen", "urgent"};
    int calm_dom = env.domid++, bad_dom = env.domid++;
    const char *calm_args[] = {"--title", "calm", "--seed", "3", NULL};
    g_autoptr(BhProc) calm_agent = bh_start_agent(&env.prog, calm_dom, "window", calm_args);
    g_autoptr(BhProc) calm_guid = bh_start_guid(&env.prog, "calm", "green", calm_dom, NULL);
    Window calm = bh_x_wait_window(env.dpy, "[calm]", 30000);
    g_autoptr(BhProc) bad_agent = bh_start_agent(&env.prog, bad_dom, "tricks", NULL);
    g_autoptr(BhProc) bad_guid = bh_start_guid(&env.prog, "hostile", "red", bad_dom, NULL);
    if (!env.wm) {
        /* Side by side, as a window manager would place them. */
        XMoveWindow(env.dpy, calm, 700, 500);
        XSync(env.dpy, False);
    }

    for (gsize i = 0; i < G_N_ELEMENTS(tricks); i++) {
        Window victim = bh_x_wait_window(env.dpy, "[hostile] victim", 30000);
        /* The user types in the hostile window ... */
        bh_x_activate(env.dpy, victim, env.wm);
        guint keys = count_lines(bad_agent, "KEY 38 0");
        xdo((const char *[]){"xdotool", "key", "a", NULL});
        wait_lines(bad_agent, "KEY 38 0", keys + 1);
        /* ... then moves to another qube's window. */
        bh_x_activate(env.dpy, calm, env.wm);
        g_assert_true(bh_x_focus_in(env.dpy, calm));
        g_autofree char *line = g_strdup_printf("TRICK %s", tricks[i]);
        wait_lines(bad_agent, line, 1);

        /* The hostile window is on screen again; give the window manager
         * time to decide (it maps within a frame; 1.5 s is generous). */
        bh_x_wait_window(env.dpy, "[hostile]", 30000);
        g_usleep(1500 * 1000);
        g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
        g_autofree char *name = g_strdup_printf("focus-%s-%s", env.wm ? "openbox" : "nowm", tricks[i]);
        g_free(bh_shot_save(shot, name));
        g_autofree char *f = focus_name();
        g_test_message("%s: focus is %s, calm is 0x%lx, %u hostile windows shown", tricks[i], f, calm,
                       bh_x_count_windows(env.dpy, "[hostile]"));
        if (!bh_x_focus_in(env.dpy, calm))
            g_error("%s: the hostile qube took the focus (%s)", tricks[i], f);
        g_assert_false(bad_guid->exited);
    }
    /* The last trick asked for attention: marked, still not focused. */
    Window victim = bh_x_wait_window(env.dpy, "[hostile] victim", 30000);
    g_assert_true(bh_x_is_urgent(env.dpy, victim));

    bh_agent_leaves(&bad_agent, bad_guid);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bh_programs_parse(&env.prog, argc, argv);
    env.dpy = bh_display_open();
    env.domid = 300;
    g_autoptr(BhProc) wm = bh_start_wm(env.dpy, env.prog.wm);
    env.wm = wm != NULL;

    g_test_add_func("/guid/focus/control", test_control);
    g_test_add_func("/guid/focus/tricks", test_tricks);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    return rc;
}
