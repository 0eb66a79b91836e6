/* test-popup-rule.c — issue 13 item 1: a popup can never pass for another
 * qube's or dom0's window, on Xvfb without and with a window manager
 * (--wm openbox).
 *
 * The hostile agent (bh-fake-agent "fake-desktop") has a 220x60 toplevel
 * open a 1280x800 popup (a fake desktop) and a 400x200 one (a fake "[dom0]"
 * dialog). Proves, by screenshot:
 * - the fake desktop is not a popup: it is an ordinary window with guid's
 *   title bar ("[hostile]", text pixels in the bar) and the red frame;
 * - the dialog-sized popup is on screen while its toplevel is the active
 *   window (the control: the attack's target exists), with the red frame and
 *   a band under it where "[hostile]" is written in the bar's text colour;
 * - it goes away when the user activates another qube's window above, comes
 *   back when the user returns, follows its window when the user moves it,
 *   and goes away on another workspace and when the toplevel is minimised
 *   (with a window manager);
 * - on every screenshot, each hostile image found (the popup images' cyan
 *   outline) has the red frame and the qube's name in view. */
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
    guint32 red, red_text;
} Env;
static Env env; /* set up in main */

#define DIALOG_W    400
#define DIALOG_H    200
#define DIALOG_SEED (BH_PATTERN_POPUP + 2)
/* Where popup images are looked for: all but the corner the fake desktop's
 * window is moved to (its own image is a popup's, with the same outline). */
#define SEARCH ((BhRect){0, 0, 1200, 940})

/* The dialog-sized popup's content on screen now (its whole image). */
static gboolean dialog_shown(BhRect *at)
{
    g_autoptr(BhShot) s = bh_shot_take(env.dpy);
    BhRect all = SEARCH;
    BhRect r;
    /* The outline colour appears only where popup images are. */
    if (!bh_shot_find_colour(s, &all, BH_PATTERN_OUTLINE_POPUP, &r))
        return FALSE;
    if (r.width != DIALOG_W || r.height != DIALOG_H)
        return FALSE;
    if (bh_pattern_mismatches(s, r.x, r.y, DIALOG_W, DIALOG_H, DIALOG_SEED) != 0)
        return FALSE;
    if (at != NULL)
        *at = r;
    return TRUE;
}

static gboolean dialog_gone(gpointer data)
{
    g_autoptr(BhShot) s = bh_shot_take(env.dpy);
    BhRect all = SEARCH, r;
    return !bh_shot_find_colour(s, &all, BH_PATTERN_OUTLINE_POPUP, &r);
}

static gboolean dialog_back(gpointer data)
{
    return dialog_shown(data);
}

typedef struct {
    BhRect *now;
    int dx, dy;
    BhRect before;
} MovedBy;

static gboolean dialog_moved(gpointer data)
{
    MovedBy *m = data;
    return dialog_shown(m->now) && m->now->x == m->before.x + m->dx && m->now->y == m->before.y + m->dy;
}

static guint text_pixels(const BhShot *s, const BhRect *area)
{
    guint n = 0;
    for (int y = MAX(area->y, 0); y < MIN(area->y + area->height, s->height); y++)
        for (int x = MAX(area->x, 0); x < MIN(area->x + area->width, s->width); x++)
            n += bh_shot_px(s, x, y) == env.red_text;
    return n;
}

/* The popup's frame is whole and "[hostile]" is written under its content. */
static void assert_popup_named(const BhShot *s, const BhRect *content, const char *when)
{
    if (bh_frame_mismatches(s, content, BH_GUID_FRAME_PX, env.red) != 0)
        g_error("%s: the popup's frame is not all red", when);
    BhRect band = {content->x, content->y + content->height + BH_GUID_FRAME_PX, content->width,
                   BH_GUID_POPUP_TAG_PX - BH_GUID_FRAME_PX};
    guint n = text_pixels(s, &band);
    g_test_message("%s: popup at %d,%d, %u text pixels in its name band", when, content->x, content->y, n);
    if (n < 30)
        g_error("%s: no \"[hostile]\" under the popup (%u text pixels)", when, n);
}

/* Where the user would drag it (a window manager honours the request). */
static void move(Window w, int x, int y)
{
    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)w);
    g_autofree char *xs = g_strdup_printf("%d", x), *ys = g_strdup_printf("%d", y);
    if (!bh_run((const char *[]){"xdotool", "windowmove", "--sync", wid, xs, ys, NULL}))
        g_error("xdotool windowmove %s failed", wid);
    XSync(env.dpy, False);
}

static void save(const char *what)
{
    g_autoptr(BhShot) s = bh_shot_take(env.dpy);
    g_autofree char *name = g_strdup_printf("popup-%s-%s", env.wm ? "openbox" : "nowm", what);
    g_free(bh_shot_save(s, name));
}

static void test_fake_desktop(void)
{
    int calm_dom = env.domid++, bad_dom = env.domid++;
    const char *calm_args[] = {"--title", "calm", "--seed", "3", "--width", "300", "--height", "200", NULL};
    g_autoptr(BhProc) calm_agent = bh_start_agent(&env.prog, calm_dom, "window", calm_args);
    g_autoptr(BhProc) calm_guid = bh_start_guid(&env.prog, "calm", "green", calm_dom, NULL);
    Window calm = bh_x_wait_window(env.dpy, "[calm]", 30000);
    move(calm, 700, 600);

    g_autoptr(BhProc) agent = bh_start_agent(&env.prog, bad_dom, "fake-desktop", NULL);
    g_autoptr(BhProc) guid = bh_start_guid(&env.prog, "hostile", "red", bad_dom, NULL);
    g_assert_true(bh_proc_wait_output(agent, FALSE, "POPUPS shown", 30000));
    Window tiny = bh_x_wait_window(env.dpy, "[hostile] tiny", 30000);

    /* 1. The fake desktop is a window with guid's title bar. */
    Window big = 0;
    for (int i = 0; i < 300 && big == 0; i++) {
        g_usleep(50 * 1000);
        big = bh_x_find_window_exact(env.dpy, "[hostile]");
    }
    g_assert_cmpuint(big, !=, 0);
    g_assert_true(bh_proc_wait_output(guid, TRUE, "a 1280x800 popup is shown as a window", 10000));
    g_usleep(1000 * 1000);
    save("fake-desktop");
    {
        g_autoptr(BhShot) s = bh_shot_take(env.dpy);
        BhRect xr;
        g_assert_true(bh_x_window_rect(env.dpy, big, &xr));
        BhRect bar = {xr.x, xr.y, xr.width, 30};
        guint n = text_pixels(s, &bar);
        g_test_message("fake desktop: a %dx%d window at %d,%d, %u text pixels in its bar", xr.width,
                       xr.height, xr.x, xr.y, n);
        g_assert_cmpint(xr.width, <=, 1280);
        g_assert_cmpint(xr.height, <=, 1024);
        g_assert_cmpuint(n, >=, 30);
        g_assert_cmpuint(bh_x_count_windows(env.dpy, "[hostile]"), ==, 2);
    }
    /* Out of the way for the rest (the user moves it, or closes it). */
    move(big, 1279 - 40, 1023 - 40);

    /* 2. The dialog-sized popup: shown while its toplevel is active. */
    move(tiny, 300, 100);
    bh_x_activate(env.dpy, tiny, env.wm);
    BhRect dlg;
    if (!bh_wait_until(dialog_back, &dlg, 20000)) {
        save("dialog-missing");
        g_error("the dialog-sized popup never showed while its toplevel was active");
    }
    save("dialog-active");
    {
        g_autoptr(BhShot) s = bh_shot_take(env.dpy);
        assert_popup_named(s, &dlg, "parent active");
    }

    /* 3. The user activates another qube's window: the popup goes. */
    bh_x_activate(env.dpy, calm, env.wm);
    if (!bh_wait_until(dialog_gone, NULL, 10000)) {
        save("dialog-stays");
        g_error("the popup stayed on screen after another qube's window was activated");
    }
    save("dialog-other-active");

    /* 4. Back to the hostile window: it comes back, still named. */
    bh_x_activate(env.dpy, tiny, env.wm);
    g_assert_true(bh_wait_until(dialog_back, &dlg, 10000));
    {
        g_autoptr(BhShot) s = bh_shot_take(env.dpy);
        assert_popup_named(s, &dlg, "parent active again");
    }

    /* Attached: the user drags the window, the popup goes with it. */
    BhRect before = dlg;
    move(tiny, 420, 160);
    MovedBy m = {&dlg, 120, 60, before};
    if (!bh_wait_until(dialog_moved, &m, 10000)) {
        save("dialog-left-behind");
        g_error("the popup did not follow its window (still at %d,%d)", dlg.x, dlg.y);
    }
    g_test_message("moved: the popup followed its window to %d,%d", dlg.x, dlg.y);

    /* 5. Another workspace, then minimised (only a window manager has
     * those). */
    if (env.wm) {
        g_assert_true(bh_run((const char *[]){"xdotool", "set_desktop", "1", NULL}));
        if (!bh_wait_until(dialog_gone, NULL, 10000)) {
            save("dialog-other-desktop-stays");
            g_error("the popup stayed on screen on another workspace");
        }
        save("dialog-other-desktop");
        g_test_message("other workspace: the popup is gone");
        g_assert_true(bh_run((const char *[]){"xdotool", "set_desktop", "0", NULL}));
        bh_x_activate(env.dpy, tiny, env.wm);
        g_assert_true(bh_wait_until(dialog_back, &dlg, 10000));

        g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)tiny);
        g_assert_true(bh_run((const char *[]){"xdotool", "windowminimize", "--sync", wid, NULL}));
        if (!bh_wait_until(dialog_gone, NULL, 10000)) {
            save("dialog-minimised-stays");
            g_error("the popup stayed on screen with its toplevel minimised");
        }
        save("dialog-minimised");
        g_test_message("minimised: the popup is gone");
    }
    g_assert_false(guid->exited);
    bh_agent_leaves(&agent, guid);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bh_programs_parse(&env.prog, argc, argv);
    env.dpy = bh_display_open();
    env.domid = 400;
    env.red = bh_label_lookup("red")->rgb;
    env.red_text = bh_label_text_rgb(bh_label_lookup("red"));
    g_autoptr(BhProc) wm = bh_start_wm(env.dpy, env.prog.wm);
    env.wm = wm != NULL;

    g_test_add_func("/guid/popup/fake-desktop", test_fake_desktop);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    return rc;
}
