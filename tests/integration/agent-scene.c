/* agent-scene.c — bulkhead-gui-agent with a client built from subsurfaces
 * and a grabbing popup (tests/gui-agent-dom0/bh-test-wlclient.c "scene"),
 * driven by a test-only dom0.
 *
 * Proves: subsurfaces are composed into their window in stacking order
 * (above, below, premultiplied translucency) and move with their parent's
 * commit; pointer events from dom0 reach the surface under the pointer with
 * surface-local coordinates, also when a subsurface moves under a still
 * pointer; keyboard focus follows FOCUS and moves to a grabbing popup; the
 * popup becomes a protocol window placed by its positioner relative to its
 * parent, and a click outside it dismisses it without reaching the parent;
 * focus moving to the popup's own window keeps the grab, focus leaving
 * the qube ends it; a dialog with set_parent is
 * created and mapped transient for it, as large as its surface and a
 * subsurface reaching past it (no window geometry). */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "bh-test-agent.h"

#define BTN_LEFT 0x110
/* How long the agent waits after a FOCUS out for a FOCUS in before it ends
 * a grab (BH_SEAT_GRAB_SETTLE_MS, gui-agent/internal.h). */
#define GRAB_SETTLE_MS 300

struct scene {
    struct bh_tagent t;
    const char *log;
    uint32_t id;
};

static bool scene_shown(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_shown(d, "scene") != NULL;
}

static void expect_line(struct scene *s, const char *line)
{
    if (!bh_tagent_wait_lines(&s->t, s->log, line, 1)) {
        bh_tagent_dump(s->log);
        bh_tagent_dump(s->t.agent_log);
        g_error("the client never printed '%s'", line);
    }
}

struct pixel_wait {
    struct bh_tdom0_win *w;
    uint32_t x, y, want;
};

static bool pixel_is(struct bh_tdom0 *d, void *ctx)
{
    struct pixel_wait *p = ctx;
    return bh_tdom0_pixel(p->w, p->x, p->y) == p->want;
}

static void expect_pixel(struct scene *s, struct bh_tdom0_win *w, uint32_t x, uint32_t y, uint32_t want)
{
    struct pixel_wait p = {w, x, y, want};
    if (!bh_tagent_wait(&s->t, pixel_is, &p))
        g_error("window %u pixel (%u,%u) is %08x, want %08x", w->id, x, y, bh_tdom0_pixel(w, x, y), want);
}

static void send_pointer(struct scene *s, uint32_t type, uint32_t window, int32_t x, int32_t y)
{
    struct bh_gui_motion m = {x, y};
    g_assert_true(bh_tdom0_send(s->t.dom0, type, window, &m, sizeof(m)));
}

static void click(struct scene *s, uint32_t window, int32_t x, int32_t y, bool pressed)
{
    struct bh_gui_button b = {BTN_LEFT, pressed ? 1u : 0u, x, y};
    g_assert_true(bh_tdom0_send(s->t.dom0, BH_GUI_BUTTON, window, &b, sizeof(b)));
}

static bool dialog_shown(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_shown(d, "scene dialog") != NULL;
}

static void test_scene(void)
{
    struct scene s;
    bh_tagent_start(&s.t, true);
    g_autofree char *client =
        bh_tagent_build_path("BH_TEST_WLCLIENT", "tests/gui-agent-dom0/bh-test-wlclient");
    const char *argv[] = {client, "scene", NULL};
    pid_t pid = bh_tagent_client(&s.t, argv, NULL);
    s.log = s.t.child_logs[0];
    if (!bh_tagent_wait(&s.t, scene_shown, NULL)) {
        bh_tagent_dump(s.log);
        bh_tagent_dump(s.t.agent_log);
        g_error("no scene window: %s", s.t.dom0->error);
    }
    struct bh_tdom0_win *w = bh_tdom0_find_shown(s.t.dom0, "scene");
    s.id = w->id;
    g_assert_cmpstr(w->app_id, ==, "org.bulkhead.test.scene");
    g_assert_cmpuint(w->width, ==, 100);
    g_assert_cmpuint(w->height, ==, 100);

    /* Composition: parent red, A green above, B half blue over red, C under
     * the parent (invisible). */
    expect_pixel(&s, w, 0, 0, 0xffff0000);
    expect_pixel(&s, w, 5, 5, 0xffff0000);
    expect_pixel(&s, w, 15, 15, 0xff00ff00);
    expect_pixel(&s, w, 29, 29, 0xff00ff00);
    expect_pixel(&s, w, 30, 30, 0xffff0000);
    expect_pixel(&s, w, 60, 60, 0xff7f0080);
    expect_pixel(&s, w, 90, 90, 0xffff0000);

    /* Pointer: the surface under it, in its own coordinates. */
    send_pointer(&s, BH_GUI_ENTER, s.id, 15, 15);
    expect_line(&s, "enter A 5 5");
    send_pointer(&s, BH_GUI_MOTION, s.id, 90, 90);
    expect_line(&s, "leave A");
    expect_line(&s, "enter parent 90 90");
    click(&s, s.id, 60, 60, true);
    click(&s, s.id, 60, 60, false);
    expect_line(&s, "enter B 10 10");
    expect_line(&s, "button B 272 1");
    expect_line(&s, "button B 272 0");
    struct bh_gui_axis ax = {BH_GUI_AXIS_VERTICAL, 10 * 256, 1};
    g_assert_true(bh_tdom0_send(s.t.dom0, BH_GUI_AXIS, s.id, &ax, sizeof(ax)));
    expect_line(&s, "discrete 0 1");
    expect_line(&s, "axis 0 10");

    /* Keyboard: FOCUS gives the toplevel the keys; 'p' opens a popup that
     * grabs them. Anchor (10,10 20x20) bottom-right, gravity bottom-right:
     * the popup sits at (30,30) of its parent. */
    bh_tdom0_focus(s.t.dom0, s.id, true);
    expect_line(&s, "kbd-enter parent");
    expect_line(&s, "repeat 0 0");
    g_assert_true(bh_tdom0_type(s.t.dom0, s.id, "p"));
    expect_line(&s, "key 25 1");
    if (!bh_tagent_wait(&s.t, bh_tdom0_has_popup, NULL))
        g_error("no popup window");
    struct bh_tdom0_win *p = bh_tdom0_find_popup(s.t.dom0);
    g_assert_cmpuint(p->parent, ==, s.id);
    g_assert_cmpint(p->x, ==, 30);
    g_assert_cmpint(p->y, ==, 30);
    g_assert_cmpuint(p->width, ==, 40);
    g_assert_cmpuint(p->height, ==, 30);
    expect_pixel(&s, p, 20, 15, 0xffffff00);
    expect_line(&s, "popup-configure 30 30 40 30");
    expect_line(&s, "kbd-enter popup");

    /* A click on the parent, outside the popup, dismisses it. */
    click(&s, s.id, 5, 5, true);
    click(&s, s.id, 5, 5, false);
    expect_line(&s, "popup-done");
    if (!bh_tagent_wait(&s.t, bh_tdom0_no_popup, NULL))
        g_error("the popup window was not destroyed");
    /* That click was the grab's: neither its press nor its release reached
     * the parent (no button after popup_done). The next one does. */
    click(&s, s.id, 5, 5, true);
    click(&s, s.id, 5, 5, false);
    expect_line(&s, "button parent 272 0");
    g_assert_cmpuint(bh_tagent_count_lines(s.log, "button parent 272 1"), ==, 1);
    g_assert_cmpuint(bh_tagent_count_lines(s.log, "button parent 272 0"), ==, 1);

    /* Keyboard focus moving to the popup's own window (guid shows a large
     * popup as a window, which the window manager focuses) keeps the grab;
     * focus leaving for another qube (FOCUS out, nothing in) ends it. */
    g_assert_true(bh_tdom0_type(s.t.dom0, s.id, "p"));
    if (!bh_tagent_wait(&s.t, bh_tdom0_has_popup, NULL))
        g_error("no second popup window");
    uint32_t popup_id = bh_tdom0_find_popup(s.t.dom0)->id;
    bh_tdom0_focus(s.t.dom0, s.id, false);
    bh_tdom0_focus(s.t.dom0, popup_id, true);
    for (int i = 0; i < 4; i++)
        bh_tdom0_pump(s.t.dom0, GRAB_SETTLE_MS / 2);
    g_assert_true(bh_tdom0_has_popup(s.t.dom0, NULL));
    g_assert_cmpuint(bh_tagent_count_lines(s.log, "popup-done"), ==, 1);
    bh_tdom0_focus(s.t.dom0, popup_id, false);
    if (!bh_tagent_wait_lines(&s.t, s.log, "popup-done", 2))
        g_error("focus left the qube and the popup stayed");
    if (!bh_tagent_wait(&s.t, bh_tdom0_no_popup, NULL))
        g_error("the second popup window was not destroyed");
    bh_tdom0_focus(s.t.dom0, s.id, true);

    /* Moving a subsurface takes effect with the parent's commit; one moved
     * under a still pointer gets it (dom0 sends nothing: the agent looks
     * again at dom0's last position when the tree changes). */
    send_pointer(&s, BH_GUI_MOTION, s.id, 70, 22);
    expect_line(&s, "motion 70 22");
    g_assert_true(bh_tdom0_type(s.t.dom0, s.id, "m"));
    expect_pixel(&s, w, 65, 15, 0xff00ff00);
    expect_pixel(&s, w, 15, 15, 0xffff0000);
    expect_line(&s, "enter A 10 12");

    /* A desynchronized subsurface unmapping itself disappears at once. */
    g_assert_true(bh_tdom0_type(s.t.dom0, s.id, "h"));
    expect_pixel(&s, w, 60, 60, 0xffff0000);

    /* A dialog is created and mapped transient for its parent. */
    g_assert_true(bh_tdom0_type(s.t.dom0, s.id, "d"));
    if (!bh_tagent_wait(&s.t, dialog_shown, NULL))
        g_error("no dialog window");
    struct bh_tdom0_win *dlg = bh_tdom0_find_shown(s.t.dom0, "scene dialog");
    g_assert_cmpuint(dlg->parent, ==, s.id);
    g_assert_cmpuint(dlg->transient_for, ==, s.id);
    /* Without a window geometry the window is the bounds of the surface
     * and its subsurface at (-10,30) 20x20: 70x50, the surface 10 in. */
    g_assert_cmpuint(dlg->width, ==, 70);
    g_assert_cmpuint(dlg->height, ==, 50);
    expect_pixel(&s, dlg, 40, 20, 0xff0000ff);
    expect_pixel(&s, dlg, 5, 45, 0xff00ffff);
    expect_pixel(&s, dlg, 5, 5, 0);
    expect_pixel(&s, dlg, 65, 45, 0);

    g_assert_true(bh_tdom0_type(s.t.dom0, s.id, "q"));
    expect_line(&s, "bye");
    if (!bh_tagent_wait(&s.t, bh_tdom0_no_windows, NULL))
        g_error("the window was not destroyed");
    int st = bh_tproc_wait(pid, bh_tagent_timeout_ms(10000));
    s.t.children[0] = -1;
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    g_assert_false(s.t.dom0->violation);
    st = bh_tagent_stop(&s.t);
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gui-agent/scene/subsurfaces-input-popup", test_scene);
    return g_test_run();
}
