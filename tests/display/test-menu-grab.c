/* test-menu-grab.c — issue 22: a GTK 4 menu in a qube as a user meets it.
 * The real bulkhead-gui-agent runs a real GTK 4 program (bh-test-gtk-app
 * "menu": a window with a menu button above a button "below", and a second
 * window, one button "other", and a third whose menu is large),
 * bulkhead-guid shows it on Xvfb under
 * openbox, and the pointer is xdotool's.
 *
 * Proves, with the menu (a grabbing popup) open each time:
 * - a click elsewhere in its window closes the menu and does not press the
 *   button under the pointer; the next click there does;
 * - a click on the qube's other window (openbox focuses it on the press,
 *   then lets the press through) closes the menu and does not press that
 *   window's button; the next click does;
 * - a click on a window of dom0 (the focus leaves the qube; no press reaches
 *   it) closes the menu too;
 * - a menu too large for a popup, which guid shows as a window of its own
 *   and openbox focuses, stays open while it has the focus, and a click in
 *   another window of the qube closes it without pressing what is there.
 * What the program saw is its output ("popover shown/hidden", "clicked
 * NAME"); screenshots "menu-grab-open", "menu-grab-closed" and
 * "menu-grab-large" are saved. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <string.h>

#include "bh-display.h"
#include "bh-guest-view.h"
#include "bh-guid-label.h"

/* The windows' content (GTK's own title bar included). */
#define MENU_W  320
#define MENU_H  240
#define OTHER_W 300
#define OTHER_H 150

typedef struct {
    BhPrograms prog;
    Display *dpy;
    char *gtk_app;
    char *out;          /* the GTK program's output */
    BhRect menu, other; /* their content on screen */
    int ptr_x, ptr_y;   /* where xdotool last put the pointer */
} Env;
static Env env; /* set up in main */

static guint count_lines(const char *line)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(env.out, &text, NULL, NULL))
        return 0;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = 0;
    for (gsize i = 0; lines[i] != NULL; i++)
        n += g_str_equal(lines[i], line);
    return n;
}

static void expect_lines(const char *line, guint n, const char *why)
{
    for (int i = 0; i < 400 && count_lines(line) < n; i++)
        g_usleep(50000);
    if (count_lines(line) >= n)
        return;
    g_autofree char *text = NULL;
    g_file_get_contents(env.out, &text, NULL, NULL);
    g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
    g_free(bh_shot_save(shot, "failed-menu-grab"));
    g_error("%s: '%s' printed %u times, want %u; the program said:\n%s", why, line, count_lines(line), n,
            text != NULL ? text : "");
}

/* Long enough for a click that got through to be printed. */
static void settle(void)
{
    g_usleep(700000);
}

static void click(int x, int y)
{
    g_autofree char *sx = g_strdup_printf("%d", x), *sy = g_strdup_printf("%d", y);
    /* mousemove --sync waits for a motion, which a move to where the
     * pointer already is never makes. */
    if (x != env.ptr_x || y != env.ptr_y)
        g_assert_true(bh_run((const char *[]){"xdotool", "mousemove", "--sync", sx, sy, NULL}));
    env.ptr_x = x;
    env.ptr_y = y;
    g_usleep(100000);
    g_assert_true(bh_run((const char *[]){"xdotool", "click", "1", NULL}));
}

/* The menu button is the 80 pixels under GTK's title bar. */
static void open_menu(guint n)
{
    click(env.menu.x + MENU_W / 2, env.menu.y + 80);
    expect_lines("popover shown", n, "the menu did not open");
}

/* With the menu open, a click at (x, y) closes it (its n-th close) and does
 * not press the button there (whose line is `pressed`); the next click
 * there presses it (the n-th time). */
static void click_closes_only(int x, int y, guint n, const char *pressed, const char *why)
{
    guint before = count_lines(pressed);
    click(x, y);
    expect_lines("popover hidden", n, why);
    settle();
    g_assert_cmpuint(count_lines(pressed), ==, before);
    click(x, y);
    expect_lines(pressed, before + 1, why);
}

/* A dom0 window (no qube's): where the user goes to leave the qube. Its
 * rectangle on screen goes to *r. */
static Window dom0_window(BhRect *r)
{
    Window w = XCreateSimpleWindow(env.dpy, DefaultRootWindow(env.dpy), 0, 0, 200, 150, 0, 0, 0x888888);
    XStoreName(env.dpy, w, "dom0 window");
    XWMHints hints = {.flags = InputHint, .input = True};
    XSetWMHints(env.dpy, w, &hints);
    XMapWindow(env.dpy, w);
    XSync(env.dpy, False);
    bh_x_wait_window(env.dpy, "dom0 window", 30000);
    g_autofree char *id = g_strdup_printf("%lu", (unsigned long)w);
    g_assert_true(bh_run((const char *[]){"xdotool", "windowmove", "--sync", id, "900", "100", NULL}));
    g_assert_true(bh_x_window_rect(env.dpy, w, r));
    return w;
}

static void test_menu_grab(void)
{
    g_autoptr(BhProc) wm = bh_start_wm(env.dpy, "openbox");
    g_assert_nonnull(wm);
    env.out = g_strdup_printf("%s/menu.out", g_getenv("XDG_RUNTIME_DIR"));
    /* with-xvfb.sh pins GTK to X11 for dom0's programs; the qube's is a
     * Wayland client of its agent. */
    g_autofree char *client = g_strdup_printf(
        "GDK_BACKEND=wayland GSETTINGS_BACKEND=memory %s menu > %s 2>&1", env.gtk_app, env.out);
    const char *clients[] = {client, NULL};
    g_autoptr(BhProc) agent = bh_start_gui_agent(&env.prog, 300, clients);
    g_autoptr(BhProc) guid = bh_start_guid(&env.prog, "menu", "purple", 300, NULL);
    const BhLabel *purple = bh_label_lookup("purple");

    Window other = bh_x_wait_window(env.dpy, "[menu] bulkhead gtk other", 30000);
    Window menu = bh_x_wait_window(env.dpy, "[menu] bulkhead gtk menu", 30000);
    g_autofree char *oid = g_strdup_printf("%lu", (unsigned long)other);
    g_autofree char *mid = g_strdup_printf("%lu", (unsigned long)menu);
    g_assert_true(bh_run((const char *[]){"xdotool", "windowmove", "--sync", mid, "50", "50", NULL}));
    g_assert_true(bh_run((const char *[]){"xdotool", "windowmove", "--sync", oid, "500", "500", NULL}));
    BhRect mr, orr;
    g_assert_true(bh_x_window_rect(env.dpy, menu, &mr));
    g_assert_true(bh_x_window_rect(env.dpy, other, &orr));
    g_autoptr(BhShot) s1 =
        bh_shot_wait_framed(env.dpy, &mr, MENU_W, MENU_H, BH_GUID_FRAME_PX, purple->rgb, &env.menu);
    g_autoptr(BhShot) s2 =
        bh_shot_wait_framed(env.dpy, &orr, OTHER_W, OTHER_H, BH_GUID_FRAME_PX, purple->rgb, &env.other);
    g_test_message("menu window content %dx%d+%d+%d, other %dx%d+%d+%d", env.menu.width, env.menu.height,
                   env.menu.x, env.menu.y, env.other.width, env.other.height, env.other.x, env.other.y);
    bh_x_activate(env.dpy, menu, TRUE);

    /* A click below the menu, on the button there: the menu closes, the
     * button is not pressed; the next click presses it. */
    open_menu(1);
    g_autoptr(BhShot) open = bh_shot_take(env.dpy);
    g_free(bh_shot_save(open, "menu-grab-open"));
    click_closes_only(env.menu.x + 20, env.menu.y + MENU_H - 20, 1, "clicked below",
                      "a click outside the menu");
    g_autoptr(BhShot) closed = bh_shot_take(env.dpy);
    g_free(bh_shot_save(closed, "menu-grab-closed"));

    /* A click on the other window of the qube. */
    open_menu(2);
    click_closes_only(env.other.x + OTHER_W / 2, env.other.y + OTHER_H - 40, 2, "clicked other",
                      "a click on the other window");

    /* A click on dom0's window: the focus leaves the qube. */
    BhRect d0r;
    Window d0 = dom0_window(&d0r);
    open_menu(3);
    click(d0r.x + d0r.width / 2, d0r.y + d0r.height / 2);
    expect_lines("popover hidden", 3, "a click on a dom0 window");
    settle();
    g_assert_cmpuint(count_lines("clicked below"), ==, 1);
    g_assert_cmpuint(count_lines("clicked other"), ==, 1);

    /* A menu too large for a popup is a window of its own, which openbox
     * focuses when it maps (a FOCUS out of its parent, in of it): that
     * keeps the grab. A click in the menu window then ends it. */
    Window big = bh_x_wait_window(env.dpy, "[menu] bulkhead gtk big", 30000);
    g_autofree char *bid = g_strdup_printf("%lu", (unsigned long)big);
    g_assert_true(bh_run((const char *[]){"xdotool", "windowmove", "--sync", bid, "500", "750", NULL}));
    BhRect br, big_content;
    g_assert_true(bh_x_window_rect(env.dpy, big, &br));
    g_autoptr(BhShot) s3 =
        bh_shot_wait_framed(env.dpy, &br, OTHER_W, OTHER_H, BH_GUID_FRAME_PX, purple->rgb, &big_content);
    click(big_content.x + OTHER_W / 2, big_content.y + 80);
    expect_lines("big popover shown", 1, "the large menu did not open");
    for (int i = 0; i < 400 && (bh_x_count_windows(env.dpy, "[menu]") < 4 || bh_x_focus_in(env.dpy, big));
         i++)
        g_usleep(50000);
    g_assert_cmpuint(bh_x_count_windows(env.dpy, "[menu]"), ==, 4);
    g_assert_false(bh_x_focus_in(env.dpy, big));
    settle();
    g_autoptr(BhShot) large = bh_shot_take(env.dpy);
    g_free(bh_shot_save(large, "menu-grab-large"));
    g_assert_cmpuint(count_lines("big popover hidden"), ==, 0);
    click(env.menu.x + 20, env.menu.y + MENU_H - 20);
    expect_lines("big popover hidden", 1, "a click in another window with the large menu open");
    settle();
    g_assert_cmpuint(count_lines("clicked below"), ==, 1);
    g_assert_cmpuint(count_lines("popover hidden"), ==, 3);

    XDestroyWindow(env.dpy, d0);
    XSync(env.dpy, False);
    bh_proc_stop(g_steal_pointer(&agent));
    g_assert_true(bh_proc_wait(guid, 30000));
    g_assert_cmpint(guid->status, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bh_programs_parse(&env.prog, argc, argv);
    for (int i = 1; i + 1 < argc; i++)
        if (g_str_equal(argv[i], "--gtk-app"))
            env.gtk_app = argv[i + 1];
    g_assert_nonnull(env.prog.gui_agent);
    g_assert_nonnull(env.gtk_app);
    env.dpy = bh_display_open();
    g_test_add_func("/guid/menu-grab/openbox", test_menu_grab);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    g_free(env.out);
    return rc;
}
