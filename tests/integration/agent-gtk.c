/* agent-gtk.c — bulkhead-gui-agent with a real GTK 4 program (wl_shm through
 * GSK's cairo renderer), driven by a test-only dom0.
 *
 * Proves: the window opens with its title and real pixels; a click opens a
 * GTK popover as a popup window of it, which Escape closes; a CONFIGURE_REQ
 * from dom0 becomes an xdg configure that GTK follows (CONFIGURE, a new
 * BUFFER of the requested size, DAMAGE); CLOSE becomes xdg_toplevel.close,
 * GTK exits 0 and the window is destroyed. With a GTK menu open (a popup
 * grab), a click elsewhere in its window or on another window of the qube
 * closes the menu without activating what was under it, and focus leaving
 * the qube closes it too. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "bh-test-agent.h"

#define TITLE "bulkhead gtk test"

static bool gtk_shown(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_shown(d, TITLE) != NULL;
}

struct size_wait {
    struct bh_tdom0_win *w;
    uint32_t width, height;
    unsigned n_damage;
};

static bool resized(struct bh_tdom0 *d, void *ctx)
{
    struct size_wait *s = ctx;
    return s->w->width == s->width && s->w->height == s->height && s->w->buf_w == s->width &&
           s->w->buf_h == s->height && s->w->n_damage > s->n_damage;
}

/* Share of pixels that are not fully transparent: GTK painted the window. */
static double painted(const struct bh_tdom0_win *w)
{
    uint64_t n = 0;
    for (uint32_t y = 0; y < w->buf_h; y++)
        for (uint32_t x = 0; x < w->buf_w; x++)
            n += (bh_tdom0_pixel(w, x, y) >> 24) != 0;
    return (double)n / ((double)w->buf_w * w->buf_h);
}

static void test_gtk(void)
{
    struct bh_tagent t;
    bh_tagent_start(&t, true);
    g_autofree char *app = bh_tagent_build_path("BH_TEST_GTK_APP", "tests/gui-agent-dom0/bh-test-gtk-app");
    const char *argv[] = {app, NULL};
    const char *env[] = {"GSETTINGS_BACKEND=memory", NULL};
    pid_t pid = bh_tagent_client(&t, argv, env);

    if (!bh_tagent_wait(&t, gtk_shown, NULL)) {
        bh_tagent_dump(t.agent_log);
        bh_tagent_dump(t.child_logs[0]);
        g_error("no GTK window: %s", t.dom0->error);
    }
    struct bh_tdom0_win *w = bh_tdom0_find_shown(t.dom0, TITLE);
    g_test_message("GTK window %u: %ux%u, app id '%s'", w->id, w->width, w->height, w->app_id);
    /* Tiled states make GTK drop its shadow: the window is its content. */
    g_assert_cmpuint(w->width, ==, 320);
    g_assert_cmpuint(w->height, ==, 240);
    bh_tdom0_focus(t.dom0, w->id, true);
    for (int i = 0; i < 5; i++)
        bh_tdom0_pump(t.dom0, 100);
    g_assert_cmpfloat(painted(w), >, 0.95);

    /* A click in the middle opens the menu button's popover: a popup
     * window of the GTK window, painted; Escape closes it. */
    struct bh_gui_motion m = {160, 140};
    struct bh_gui_button b = {0x110, 1, 160, 140};
    g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_ENTER, w->id, &m, sizeof(m)));
    g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_BUTTON, w->id, &b, sizeof(b)));
    b.pressed = 0;
    g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_BUTTON, w->id, &b, sizeof(b)));
    if (!bh_tagent_wait(&t, bh_tdom0_has_popup, NULL)) {
        bh_tagent_dump(t.agent_log);
        g_error("no popover popup");
    }
    struct bh_tdom0_win *p = bh_tdom0_find_popup(t.dom0);
    g_test_message("popover: window %u, %ux%u at %d,%d of window %u", p->id, p->width, p->height, p->x, p->y,
                   p->parent);
    g_assert_cmpuint(p->parent, ==, w->id);
    for (int i = 0; i < 5; i++)
        bh_tdom0_pump(t.dom0, 100);
    g_assert_cmpfloat(painted(p), >, 0.3);
    bh_tdom0_key(t.dom0, w->id, 1 /* KEY_ESC */, true, 0);
    bh_tdom0_key(t.dom0, w->id, 1, false, 0);
    if (!bh_tagent_wait(&t, bh_tdom0_no_popup, NULL))
        g_error("Escape did not close the popover");

    struct bh_gui_configure_req req = {500, 400, BH_GUI_STATE_ACTIVATED};
    struct size_wait s = {w, 500, 400, w->n_damage};
    g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_CONFIGURE_REQ, w->id, &req, sizeof(req)));
    if (!bh_tagent_wait(&t, resized, &s)) {
        bh_tagent_dump(t.agent_log);
        g_error("GTK window is %ux%u (buffer %ux%u), want 500x400", w->width, w->height, w->buf_w, w->buf_h);
    }
    for (int i = 0; i < 5; i++)
        bh_tdom0_pump(t.dom0, 100);
    g_assert_cmpfloat(painted(w), >, 0.95);

    g_assert_true(bh_tdom0_send(t.dom0, BH_GUI_CLOSE, w->id, NULL, 0));
    if (!bh_tagent_wait(&t, bh_tdom0_no_windows, NULL))
        g_error("the GTK window was not destroyed after CLOSE");
    int st = bh_tproc_wait(pid, bh_tagent_timeout_ms(10000));
    t.children[0] = -1;
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    g_autofree char *out = NULL;
    g_assert_true(g_file_get_contents(t.child_logs[0], &out, NULL, NULL));
    g_assert_nonnull(strstr(out, "closed at 500x400"));

    g_assert_false(t.dom0->violation);
    st = bh_tagent_stop(&t);
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- popup grabs with a real GTK menu ------------------------------------------ */

#define MENU_TITLE  "bulkhead gtk menu"
#define OTHER_TITLE "bulkhead gtk other"

struct menu_test {
    struct bh_tagent t;
    const char *log;
    struct bh_tdom0_win *menu, *other;
};

static bool menu_shown(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_shown(d, MENU_TITLE) != NULL && bh_tdom0_find_shown(d, OTHER_TITLE) != NULL;
}

static void expect_lines(struct menu_test *m, const char *line, unsigned n)
{
    if (!bh_tagent_wait_lines(&m->t, m->log, line, n)) {
        bh_tagent_dump(m->log);
        bh_tagent_dump(m->t.agent_log);
        g_error("the GTK program printed '%s' %u times, want %u", line, bh_tagent_count_lines(m->log, line),
                n);
    }
}

static void click_at(struct menu_test *m, struct bh_tdom0_win *w, int32_t x, int32_t y)
{
    struct bh_gui_motion at = {x, y};
    struct bh_gui_button b = {0x110, 1, x, y};
    g_assert_true(bh_tdom0_send(m->t.dom0, BH_GUI_MOTION, w->id, &at, sizeof(at)));
    g_assert_true(bh_tdom0_send(m->t.dom0, BH_GUI_BUTTON, w->id, &b, sizeof(b)));
    b.pressed = 0;
    g_assert_true(bh_tdom0_send(m->t.dom0, BH_GUI_BUTTON, w->id, &b, sizeof(b)));
}

/* The user moves the pointer into w (a window manager's ENTER). */
static void enter(struct menu_test *m, struct bh_tdom0_win *w)
{
    struct bh_gui_motion at = {10, 10};
    g_assert_true(bh_tdom0_send(m->t.dom0, BH_GUI_ENTER, w->id, &at, sizeof(at)));
}

/* Open the menu (its n-th time) with a click on the menu button. */
static void open_menu(struct menu_test *m, unsigned n)
{
    click_at(m, m->menu, 160, 80);
    expect_lines(m, "popover shown", n);
    if (!bh_tagent_wait(&m->t, bh_tdom0_has_popup, NULL))
        g_error("no popover popup");
}

/* The menu closed (its n-th time) and no popup window is left. */
static void menu_closed(struct menu_test *m, unsigned n, const char *how)
{
    if (!bh_tagent_wait_lines(&m->t, m->log, "popover hidden", n) ||
        !bh_tagent_wait(&m->t, bh_tdom0_no_popup, NULL)) {
        bh_tagent_dump(m->log);
        bh_tagent_dump(m->t.agent_log);
        g_error("%s did not close the menu", how);
    }
}

/* Long enough for a stray click to reach GTK and be printed. */
static void settle(struct menu_test *m)
{
    for (int i = 0; i < 5; i++)
        bh_tdom0_pump(m->t.dom0, 100);
}

/* With the menu open, a click at (x, y) of w closes it (its n-th close)
 * and does not press the button there (whose line is `pressed`); the next
 * click there presses it. */
static void click_closes_only(struct menu_test *m, struct bh_tdom0_win *w, int32_t x, int32_t y, unsigned n,
                              const char *pressed, const char *how)
{
    unsigned before = bh_tagent_count_lines(m->log, pressed);
    click_at(m, w, x, y);
    menu_closed(m, n, how);
    settle(m);
    g_assert_cmpuint(bh_tagent_count_lines(m->log, pressed), ==, before);
    click_at(m, w, x, y);
    expect_lines(m, pressed, before + 1);
}

/* A user's view of popup grabs: with a GTK menu open, a click elsewhere in
 * the window, or on another window of the qube (which the window manager
 * focuses first), closes the menu and does not activate what was under
 * it; the next click there does. Focus leaving for another qube (a FOCUS
 * out and nothing in) closes it too. */
static void test_menu(void)
{
    struct menu_test m;
    bh_tagent_start(&m.t, true);
    g_autofree char *app = bh_tagent_build_path("BH_TEST_GTK_APP", "tests/gui-agent-dom0/bh-test-gtk-app");
    const char *argv[] = {app, "menu", NULL};
    const char *env[] = {"GSETTINGS_BACKEND=memory", NULL};
    bh_tagent_client(&m.t, argv, env);
    m.log = m.t.child_logs[0];
    if (!bh_tagent_wait(&m.t, menu_shown, NULL)) {
        bh_tagent_dump(m.t.agent_log);
        bh_tagent_dump(m.log);
        g_error("no GTK windows: %s", m.t.dom0->error);
    }
    m.menu = bh_tdom0_find_shown(m.t.dom0, MENU_TITLE);
    m.other = bh_tdom0_find_shown(m.t.dom0, OTHER_TITLE);
    bh_tdom0_focus(m.t.dom0, m.menu->id, true);
    enter(&m, m.menu);
    settle(&m);

    /* A click on the button below the menu closes the menu only. */
    open_menu(&m, 1);
    click_closes_only(&m, m.menu, 20, 220, 1, "clicked below", "a click outside the menu");

    /* A click on the other window: the window manager moves the focus on
     * the press, then passes the press on. */
    open_menu(&m, 2);
    bh_tdom0_focus(m.t.dom0, m.menu->id, false);
    bh_tdom0_focus(m.t.dom0, m.other->id, true);
    enter(&m, m.other);
    click_closes_only(&m, m.other, 150, 100, 2, "clicked other", "a click on another window");

    /* The user goes to another qube's window: FOCUS out only. */
    bh_tdom0_focus(m.t.dom0, m.other->id, false);
    bh_tdom0_focus(m.t.dom0, m.menu->id, true);
    enter(&m, m.menu);
    open_menu(&m, 3);
    bh_tdom0_focus(m.t.dom0, m.menu->id, false);
    menu_closed(&m, 3, "focus leaving the qube");
    g_assert_cmpuint(bh_tagent_count_lines(m.log, "clicked below"), ==, 1);
    g_assert_cmpuint(bh_tagent_count_lines(m.log, "clicked other"), ==, 1);

    g_assert_false(m.t.dom0->violation);
    int st = bh_tagent_stop(&m.t);
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gui-agent/gtk/open-resize-close", test_gtk);
    g_test_add_func("/gui-agent/gtk/menu-grab", test_menu);
    return g_test_run();
}
