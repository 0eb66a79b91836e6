/* test-e2e.c — the whole GUI path with real programs: real Wayland clients
 * (weston-simple-shm, foot, bh-test-wlclient) in the real bulkhead-gui-agent,
 * bulkhead-guid on Xvfb, the socket vchan between them; checked by
 * screenshots, X properties and what the clients saw.
 *
 * Proves: for three labels, guid's frame around simple-shm's 250x250 content
 * is exactly the label colour on every side, the title is "[qube]
 * simple-shm", the content is simple-shm's (its white padding exactly) and
 * animates; a client of known colours (bh-test-wlclient "scene") is shown
 * pixel-exact, its popup opens where the client put it with the frame too,
 * and its transient dialog is transient for its window in X; keys typed with
 * xdotool into foot run a command in its shell, and Ctrl+Shift+C typed there
 * never reaches foot while Ctrl+Shift+A and Ctrl+C do. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <string.h>

#include "bh-display.h"
#include "bh-guest-view.h"
#include "bh-guid-label.h"

typedef struct {
    BhPrograms prog;
    Display *dpy;
    int domid; /* the next qube's domain id: tests run one after another */
} Env;
static Env env; /* set up in main */

typedef struct {
    BhProc *agent, *guid;
    char *prefix; /* "[qube]" */
} Qube;

static void qube_start(Qube *q, const char *name, const char *label, const char *const *clients)
{
    int domid = env.domid++;
    q->prefix = g_strdup_printf("[%s]", name);
    q->agent = bh_start_gui_agent(&env.prog, domid, clients);
    q->guid = bh_start_guid(&env.prog, name, label, domid, NULL);
}

/* Stop the agent (its clients go with it): guid closes every window. */
static void qube_stop(Qube *q)
{
    bh_proc_stop(q->agent);
    g_assert_true(bh_proc_wait(q->guid, 30000));
    g_assert_cmpint(q->guid->status, ==, 0);
    g_assert_cmpuint(bh_x_count_windows(env.dpy, q->prefix), ==, 0);
    bh_proc_stop(q->guid);
    g_free(q->prefix);
}

static Window wait_window(const char *title, BhRect *rect)
{
    Window w = bh_x_wait_window(env.dpy, title, 30000);
    if (rect != NULL)
        g_assert_true(bh_x_window_rect(env.dpy, w, rect));
    return w;
}

/* The content of a w x h client inside its framed window, once drawn. */
static BhShot *wait_framed(const BhRect *area, int w, int h, guint32 rgb, BhRect *content)
{
    return bh_shot_wait_framed(env.dpy, area, w, h, BH_GUID_FRAME_PX, rgb, content);
}

static void test_simple_shm(void)
{
    const char *labels[] = {"red", "yellow", "black"};
    const char *clients[] = {"weston-simple-shm", NULL};
    for (gsize i = 0; i < G_N_ELEMENTS(labels); i++) {
        const BhLabel *label = bh_label_lookup(labels[i]);
        g_autofree char *name = g_strdup_printf("shm-%s", labels[i]);
        Qube q;
        qube_start(&q, name, labels[i], clients);
        g_autofree char *title = g_strdup_printf("[%s] simple-shm", name);
        BhRect xr;
        wait_window(title, &xr);

        /* The 4-px ring around the 250x250 content: label colour, all of it. */
        BhRect c;
        g_autoptr(BhShot) shot = wait_framed(&xr, 250, 250, label->rgb, &c);
        g_autofree char *shot_name = g_strdup_printf("e2e-simple-shm-%s", labels[i]);
        g_free(bh_shot_save(shot, shot_name));
        g_test_message("%s: content at %d,%d in window %dx%d+%d+%d", labels[i], c.x, c.y, xr.width, xr.height,
                       xr.x, xr.y);

        /* simple-shm's pixels: its 20-px padding is white, exactly; its
         * centre animates. */
        for (int y = 0; y < 250; y++)
            for (int x = 0; x < 250; x++)
                if (x < 20 || y < 20 || x >= 230 || y >= 230)
                    g_assert_cmphex(bh_shot_px(shot, c.x + x, c.y + y), ==, 0xffffff);
        BhRect centre = {c.x + 20, c.y + 20, 210, 210};
        guint changed = 0;
        for (int i2 = 0; i2 < 100 && changed == 0; i2++) {
            g_usleep(50000);
            g_autoptr(BhShot) later = bh_shot_take(env.dpy);
            changed = bh_shot_diff(shot, later, &centre);
        }
        g_assert_cmpuint(changed, >, 0);
        qube_stop(&q);
    }
}

static void test_scene(void)
{
    g_autofree char *client =
        g_strdup_printf("%s scene > %s/scene.out 2>&1", env.prog.wlclient, g_getenv("XDG_RUNTIME_DIR"));
    g_autofree char *out_path = g_strdup_printf("%s/scene.out", g_getenv("XDG_RUNTIME_DIR"));
    const char *clients[] = {client, NULL};
    const BhLabel *green = bh_label_lookup("green");
    Qube q;
    qube_start(&q, "scene", "green", clients);
    BhRect xr;
    Window xw = wait_window("[scene] scene", &xr);

    /* 100x100: red, an opaque green 20x20 subsurface at (10,10), a
     * translucent one at (50,50) (blended: not checked), one below (hidden). */
    BhRect c;
    g_autoptr(BhShot) shot = wait_framed(&xr, 100, 100, green->rgb, &c);
    for (int y = 0; y < 100; y++)
        for (int x = 0; x < 100; x++) {
            gboolean in_a = x >= 10 && x < 30 && y >= 10 && y < 30;
            gboolean in_b = x >= 50 && x < 80 && y >= 50 && y < 80;
            if (in_b)
                continue;
            g_assert_cmphex(bh_shot_px(shot, c.x + x, c.y + y), ==, in_a ? 0x00ff00 : 0xff0000);
        }

    /* Keys go to the client: 'p' opens its grabbing popup (40x30 yellow)
     * below-right of (10,10)+(20,20), i.e. at (30,30) of the content. */
    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)xw);
    g_assert_true(bh_run((const char *[]){"xdotool", "windowfocus", "--sync", wid, NULL}));
    g_assert_true(bh_run((const char *[]){"xdotool", "key", "p", NULL}));
    BhRect screen = {0, 0, shot->width, shot->height}, pop;
    g_autoptr(BhShot) with_popup = wait_framed(&screen, 40, 30, green->rgb, &pop);
    g_free(bh_shot_save(with_popup, "e2e-scene-popup"));
    g_assert_cmpint(pop.x - c.x, ==, 30);
    g_assert_cmpint(pop.y - c.y, ==, 30);
    g_assert_cmphex(bh_shot_px(with_popup, pop.x + 20, pop.y + 15), ==, 0xffff00);

    /* 'd' opens a transient dialog: in X it is transient for the window. */
    g_assert_true(bh_run((const char *[]){"xdotool", "key", "d", NULL}));
    BhRect dr;
    Window dialog = wait_window("[scene] scene dialog", &dr);
    Window parent = 0;
    g_assert_true(XGetTransientForHint(env.dpy, dialog, &parent));
    g_assert_cmpuint(parent, ==, xw);

    g_assert_true(bh_run((const char *[]){"xdotool", "windowfocus", "--sync", wid, NULL}));
    g_assert_true(bh_run((const char *[]){"xdotool", "key", "q", NULL}));
    g_autofree char *said = NULL;
    for (int i = 0; i < 200; i++) {
        g_clear_pointer(&said, g_free);
        g_file_get_contents(out_path, &said, NULL, NULL);
        if (said != NULL && strstr(said, "bye") != NULL)
            break;
        g_usleep(50000);
    }
    g_assert_nonnull(said);
    g_assert_nonnull(strstr(said, "key 25 1")); /* p */
    g_assert_nonnull(strstr(said, "bye"));
    qube_stop(&q);
}

static char *wait_file(const char *path, const char *want)
{
    char *text = NULL;
    for (int i = 0; i < 300; i++) {
        g_clear_pointer(&text, g_free);
        if (g_file_get_contents(path, &text, NULL, NULL) && strstr(text, want) != NULL)
            return text;
        g_usleep(50000);
    }
    return text != NULL ? text : g_strdup("");
}

static void test_foot(void)
{
    const char *dir = g_getenv("XDG_RUNTIME_DIR");
    g_autofree char *typed = g_strdup_printf("%s/typed", dir);
    g_autofree char *keys = g_strdup_printf("%s/keys", dir);
    /* Two terminals: a shell to type a command into, and one whose raw input
     * is written to a file as cat -v sees it. foot's own Ctrl+Shift+C
     * binding is off, so if guid let the combination through, foot would
     * send ^C like any other Ctrl+Shift+letter (the ^A check shows that). */
    g_autofree char *raw = g_strdup_printf("foot -c /dev/null -T rawkeys -o key-bindings.clipboard-copy=none "
                                           "sh -c 'stty raw -echo; cat -v > %s'",
                                           keys);
    const char *clients[] = {"foot -c /dev/null -T shell sh", raw, NULL};
    Qube q;
    qube_start(&q, "term", "blue", clients);

    Window shell = wait_window("[term] shell", NULL);
    Window rawwin = wait_window("[term] rawkeys", NULL);
    XMoveWindow(env.dpy, rawwin, 600, 400);
    XSync(env.dpy, False);

    g_autofree char *sid = g_strdup_printf("%lu", (unsigned long)shell);
    g_autofree char *cmd = g_strdup_printf("echo typed-$((6*7)) > %s", typed);
    g_assert_true(bh_run((const char *[]){"xdotool", "windowfocus", "--sync", sid, NULL}));
    g_usleep(300000); /* foot draws its prompt first */
    g_assert_true(bh_run((const char *[]){"xdotool", "type", "--delay", "20", cmd, NULL}));
    g_assert_true(bh_run((const char *[]){"xdotool", "key", "Return", NULL}));
    g_autofree char *got = wait_file(typed, "typed-42");
    g_assert_cmpstr(got, ==, "typed-42\n");
    g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
    g_free(bh_shot_save(shot, "e2e-foot"));

    g_autofree char *rid = g_strdup_printf("%lu", (unsigned long)rawwin);
    g_assert_true(bh_run((const char *[]){"xdotool", "windowfocus", "--sync", rid, NULL}));
    g_usleep(300000);
    g_assert_true(bh_run((const char *[]){"xdotool", "key", "--delay", "50", "a", "ctrl+shift+c", "b",
                                          "ctrl+shift+a", "ctrl+c", "x", NULL}));
    g_autofree char *seen = wait_file(keys, "x");
    g_assert_cmpstr(seen, ==, "ab^A^Cx");
    g_assert_true(bh_proc_wait_output(q.guid, TRUE, "Ctrl+Shift+C kept from the guest", 10000));
    qube_stop(&q);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bh_programs_parse(&env.prog, argc, argv);
    g_assert_nonnull(env.prog.gui_agent);
    g_assert_nonnull(env.prog.wlclient);
    env.dpy = bh_display_open();
    env.domid = 200;

    g_test_add_func("/guid/e2e/simple-shm", test_simple_shm);
    g_test_add_func("/guid/e2e/scene", test_scene);
    g_test_add_func("/guid/e2e/foot", test_foot);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    return rc;
}
