/* test-guid-process.c — bulkhead-guid as a real process on Xvfb, talking to a
 * scripted agent (bh-fake-agent) over the socket vchan, checked by
 * screenshots, X properties and what the agent receives.
 *
 * Proves: for four labels the frame all around the content is exactly the
 * label colour, the content is the agent's pixels exactly and the title is
 * "[qube] title"; the handshake announces the screen and the X server's
 * keymap; keys typed with xdotool arrive as xkb keycodes but Ctrl+Shift+C/V
 * never do; clicks and scrolls arrive in content coordinates; closing the
 * window asks the agent, which decides; a resize becomes CONFIGURE_REQ;
 * popups sit at their offset with the frame; fullscreen becomes maximise
 * unless allowed; a frame after the guest grows its window fills the new
 * size exactly, straight to X; urgency marks the window and takes no focus; an agent that
 * goes away closes the windows and guid exits 0; an agent of another protocol
 * version or no agent at all makes guid say what to do and exit 1; guid
 * starts without touching the session bus (GTK's gtk_init would). */
#include <X11/Xlib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bh-display.h"
#include "bh-guest-view.h"
#include "bh-guid-label.h"

typedef struct {
    BhPrograms prog;
    Display *dpy;
    int domid; /* the next qube's domain id: tests run one after another */
} Env;
static Env env; /* set up in main */

static int next_domid(void)
{
    return env.domid++;
}

/* An agent + guid pair showing one test window of qube `qube`. */
typedef struct {
    BhProc *agent, *guid;
    Window xw;
    BhRect content;
} Pair;

static void pair_start(Pair *p, const char *qube, const char *label, const char *scenario,
                       const char *const *agent_args, const char *const *guid_args, int w, int h, guint seed)
{
    int domid = next_domid();
    memset(p, 0, sizeof *p);
    p->agent = bh_start_agent(&env.prog, domid, scenario, agent_args);
    p->guid = bh_start_guid(&env.prog, qube, label, domid, guid_args);
    /* A popup may cover part of the image: its outline is enough here. */
    if (!bh_wait_pattern(env.dpy, w, h, seed, FALSE, &p->content, 30000)) {
        g_autofree char *log = bh_proc_stderr(p->guid);
        g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
        g_free(bh_shot_save(shot, "failed-pair-start"));
        g_error("%s: the %dx%d test image never appeared; guid said:\n%s", qube, w, h, log);
    }
    g_autofree char *prefix = g_strdup_printf("[%s]", qube);
    p->xw = bh_x_wait_window(env.dpy, prefix, 30000);
}

/* Stop the agent: guid must close the windows and exit 0 (its log stays). */
static void pair_finish_keep(Pair *p, const char *qube)
{
    bh_proc_stop(p->agent);
    g_assert_true(bh_proc_wait(p->guid, 30000));
    g_assert_cmpint(p->guid->status, ==, 0);
    g_autofree char *prefix = g_strdup_printf("[%s]", qube);
    g_assert_cmpuint(bh_x_count_windows(env.dpy, prefix), ==, 0);
}

static void pair_finish(Pair *p, const char *qube)
{
    bh_proc_stop(p->agent);
    g_assert_true(bh_proc_wait(p->guid, 30000));
    g_assert_cmpint(p->guid->status, ==, 0);
    g_autofree char *log = bh_proc_stderr(p->guid);
    g_assert_nonnull(strstr(log, "agent disconnected"));
    g_autofree char *prefix = g_strdup_printf("[%s]", qube);
    g_assert_cmpuint(bh_x_count_windows(env.dpy, prefix), ==, 0);
    bh_proc_stop(p->guid);
}

static void test_frames(void)
{
    const char *labels[] = {"red", "yellow", "black", "gray"};
    for (gsize i = 0; i < G_N_ELEMENTS(labels); i++) {
        const BhLabel *label = bh_label_lookup(labels[i]);
        g_autofree char *qube = g_strdup_printf("q-%s", labels[i]);
        g_autofree char *seed_s = g_strdup_printf("%zu", 20 + i);
        const char *args[] = {"--seed", seed_s, "--title", "pattern – ünïcode", NULL};
        Pair p;
        pair_start(&p, qube, labels[i], "window", args, NULL, 320, 200, (guint)(20 + i));

        g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
        g_autofree char *name = g_strdup_printf("process-%s", labels[i]);
        g_free(bh_shot_save(shot, name));
        g_assert_cmpuint(bh_frame_mismatches(shot, &p.content, BH_GUID_FRAME_PX, label->rgb), ==, 0);
        g_assert_cmpuint(bh_pattern_mismatches(shot, p.content.x, p.content.y, 320, 200, (guint)(20 + i)), ==,
                         0);
        g_autofree char *title = NULL;
        bh_x_find_window(env.dpy, "[", &title);
        g_autofree char *want = g_strdup_printf("[%s] pattern – ünïcode", qube);
        g_assert_cmpstr(title, ==, want);
        pair_finish(&p, qube);
    }
}

/* A preloaded disposable's guid (--warm-up) builds a throwaway window and
 * draws its title bar and icons while it waits, showing nothing
 * (bh_start_guid_warmed checks that no window of the qube is on screen
 * meanwhile); the first real window is then like any other: a frame of
 * exactly the label colour around exactly the agent's pixels, "[qube]
 * title", and the same size as a guid without the warm-up gives the same
 * content. */
static void test_warm_up(void)
{
    const char *args[] = {"--seed", "31", "--title", "warm", NULL};
    Pair p = {0};
    p.guid =
        bh_start_guid_warmed(&env.prog, "q-warm", "blue", next_domid(), "window", args, &p.agent, env.dpy);
    if (!bh_wait_pattern(env.dpy, 320, 200, 31, FALSE, &p.content, 30000)) {
        g_autofree char *log = bh_proc_stderr(p.guid);
        g_error("q-warm: the test image never appeared; guid said:\n%s", log);
    }
    p.xw = bh_x_wait_window(env.dpy, "[q-warm]", 30000);
    g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
    g_free(bh_shot_save(shot, "process-warm-up"));
    g_assert_cmpuint(bh_frame_mismatches(shot, &p.content, BH_GUID_FRAME_PX, bh_label_lookup("blue")->rgb),
                     ==, 0);
    g_assert_cmpuint(bh_pattern_mismatches(shot, p.content.x, p.content.y, 320, 200, 31), ==, 0);
    g_autofree char *title = NULL;
    bh_x_find_window(env.dpy, "[q-warm]", &title);
    g_assert_cmpstr(title, ==, "[q-warm] warm");
    BhRect warm;
    g_assert_true(bh_x_window_rect(env.dpy, p.xw, &warm));
    pair_finish(&p, "q-warm");

    Pair cold;
    const char *cold_args[] = {"--seed", "32", "--title", "warm", NULL};
    pair_start(&cold, "q-cold", "blue", "window", cold_args, NULL, 320, 200, 32);
    BhRect rect;
    g_assert_true(bh_x_window_rect(env.dpy, cold.xw, &rect));
    g_test_message("window of 320x200 content: %dx%d with the warm-up, %dx%d without", warm.width,
                   warm.height, rect.width, rect.height);
    g_assert_cmpint(warm.width, ==, rect.width);
    g_assert_cmpint(warm.height, ==, rect.height);
    pair_finish(&cold, "q-cold");
}

static void expect(BhProc *p, gboolean from_stderr, const char *text);

/* The pattern of `seed` exactly on screen within the timeout. */
typedef struct {
    const BhRect *content;
    guint seed;
} ShownAt;

static gboolean pattern_shown(gpointer data)
{
    const ShownAt *s = data;
    g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
    return bh_pattern_mismatches(shot, s->content->x, s->content->y, s->content->width, s->content->height,
                                 s->seed) == 0;
}

static gboolean wait_shown(const BhRect *content, guint seed)
{
    ShownAt s = {content, seed};
    return bh_wait_until(pattern_shown, &s, 15000);
}

/* guid's three ways to the screen (docs/guid.md): straight to X from the
 * guest's memfd (default), through a staging copy (what Xen's grant buffers
 * take), and through GTK's tiles. Each must show a frame that arrives while
 * the window is on screen pixel-exact, and keep showing it after GTK draws
 * the whole window again (an Expose): GTK draws the view from tiles it
 * refreshed only when it last snapshotted, so straight to X the newest
 * frame must be put back over them. */
static void test_paths(void)
{
    static const struct {
        const char *mode, *log;
        gboolean direct;
    } paths[] = {
        {"auto", "frames go straight to the X server", TRUE},
        {"copy", "frames go straight to the X server", TRUE},
        {"off", "frames go through GTK", FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_setenv("BH_GUID_XSHM", paths[i].mode, TRUE);
        g_autofree char *qube = g_strdup_printf("path-%s", paths[i].mode);
        const char *args[] = {"--seed", "40", "--width", "300", "--height", "180", NULL};
        Pair p;
        pair_start(&p, qube, "orange", "second-frame", args, NULL, 300, 180, 40);
        expect(p.agent, FALSE, "SECOND shown");
        if (!wait_shown(&p.content, 41))
            g_error("%s: the second frame never showed exactly", paths[i].mode);

        /* Expose the whole window: GTK repaints it from its render nodes
         * (stale straight to X) and guid must put the frame back. GTK
         * repaints within a frame or two; on a loaded machine the check may
         * come before it (then it proves less, but never fails wrongly),
         * and a missing put-back leaves the stale image for good. */
        XClearArea(env.dpy, p.xw, 0, 0, 0, 0, True);
        XSync(env.dpy, False);
        g_usleep(300 * 1000);
        if (!wait_shown(&p.content, 41))
            g_error("%s: the second frame did not survive an Expose", paths[i].mode);
        g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
        g_autofree char *name = g_strdup_printf("process-path-%s", paths[i].mode);
        g_free(bh_shot_save(shot, name));
        g_assert_cmpuint(bh_pattern_mismatches(shot, p.content.x, p.content.y, 300, 180, 41), ==, 0);
        g_assert_cmpuint(
            bh_frame_mismatches(shot, &p.content, BH_GUID_FRAME_PX, bh_label_lookup("orange")->rgb), ==, 0);

        pair_finish_keep(&p, qube);
        g_autofree char *log = bh_proc_stderr(p.guid);
        g_assert_nonnull(strstr(log, paths[i].log));
        const char *d = strstr(log, "bytes copied; ");
        g_assert_nonnull(d);
        guint64 puts = g_ascii_strtoull(d + strlen("bytes copied; "), NULL, 10);
        if (paths[i].direct)
            g_assert_cmpuint(puts, >=, 1); /* the second frame at least */
        else
            g_assert_cmpuint(puts, ==, 0);
        bh_proc_stop(p.guid);
    }
    g_unsetenv("BH_GUID_XSHM");
}

/* guid keeps where the content lies in its X window between frames
 * (bh-guest-view.c, view_target). When the guest grows its window, the
 * next frame must fill the new size exactly, inside an exact frame: a
 * place kept from before the resize would clip it to the old size (or put
 * it where the frame now is). Straight to X from the memfd and through the
 * staging copy. */
static void test_grow(void)
{
    static const char *const modes[] = {"auto", "copy"};
    for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_setenv("BH_GUID_XSHM", modes[i], TRUE);
        g_autofree char *qube = g_strdup_printf("grow-%s", modes[i]);
        const char *args[] = {"--seed", "50", "--width", "300", "--height", "180", NULL};
        Pair p;
        pair_start(&p, qube, "green", "grow", args, NULL, 300, 180, 50);
        expect(p.agent, FALSE, "GROWN shown");
        BhRect grown;
        if (!bh_wait_pattern(env.dpy, 380, 240, 52, FALSE, &grown, 15000)) {
            g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
            g_free(bh_shot_save(shot, "failed-grow"));
            g_error("%s: the frame after the resize never showed exactly at 380x240", modes[i]);
        }
        g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
        g_autofree char *name = g_strdup_printf("process-grow-%s", modes[i]);
        g_free(bh_shot_save(shot, name));
        g_assert_cmpint(grown.x, ==, p.content.x);
        g_assert_cmpint(grown.y, ==, p.content.y);
        g_assert_cmpuint(bh_pattern_mismatches(shot, grown.x, grown.y, 380, 240, 52), ==, 0);
        g_assert_cmpuint(bh_frame_mismatches(shot, &grown, BH_GUID_FRAME_PX, bh_label_lookup("green")->rgb),
                         ==, 0);
        pair_finish_keep(&p, qube);
        g_autofree char *log = bh_proc_stderr(p.guid);
        g_assert_nonnull(strstr(log, "frames go straight to the X server"));
        bh_proc_stop(p.guid);
    }
    g_unsetenv("BH_GUID_XSHM");
}

/* Wait for a line from a process; on timeout, show what it did say. */
static void expect(BhProc *p, gboolean from_stderr, const char *text)
{
    if (bh_proc_wait_output(p, from_stderr, text, 15000))
        return;
    g_autofree char *out = bh_proc_stdout(p), *err = bh_proc_stderr(p);
    g_error("%s never said '%s'.\nstdout:\n%s\nstderr:\n%s", p->name, text, out, err);
}

static void xdo(const char *const *argv)
{
    if (!bh_run(argv))
        g_error("%s %s failed", argv[0], argv[1]);
}

static void test_input(void)
{
    Pair p;
    pair_start(&p, "typist", "blue", "window", NULL, NULL, 320, 200, 1);

    expect(p.agent, FALSE, "SCREEN 1280 1024");
    expect(p.agent, FALSE, "KEYMAP evdev pc105 us - -");

    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)p.xw);
    xdo((const char *[]){"xdotool", "windowfocus", "--sync", wid, NULL});
    expect(p.agent, FALSE, "FOCUS 1 1");

    /* "a" is keycode 38 (evdev 30 + 8), Ctrl 37, Shift 50, C 54, V 55. */
    xdo((const char *[]){"xdotool", "key", "a", NULL});
    expect(p.agent, FALSE, "KEY 38 0");
    xdo((const char *[]){"xdotool", "key", "ctrl+shift+c", "ctrl+shift+v", "b", NULL});
    expect(p.agent, FALSE, "KEY 56 0"); /* b, after them */
    expect(p.guid, TRUE, "Ctrl+Shift+C kept from the guest");
    expect(p.guid, TRUE, "Ctrl+Shift+V kept from the guest");
    g_autofree char *seen = bh_proc_stdout(p.agent);
    g_assert_nonnull(strstr(seen, "KEY 37 1")); /* Ctrl reached the guest ... */
    g_assert_nonnull(strstr(seen, "KEY 50 1")); /* ... and Shift ... */
    g_assert_null(strstr(seen, "KEY 54 "));     /* ... C did not, */
    g_assert_null(strstr(seen, "KEY 55 "));     /* ... nor V. */
    /* Ctrl+C without Shift is the guest's. */
    xdo((const char *[]){"xdotool", "key", "ctrl+c", NULL});
    expect(p.agent, FALSE, "KEY 54 1 mods 4");

    /* Pointer: content coordinates, evdev buttons, wheel as AXIS. */
    g_autofree char *x = g_strdup_printf("%d", p.content.x + 50);
    g_autofree char *y = g_strdup_printf("%d", p.content.y + 40);
    xdo((const char *[]){"xdotool", "mousemove", "--sync", x, y, NULL});
    xdo((const char *[]){"xdotool", "click", "1", NULL});
    expect(p.agent, FALSE, "BUTTON 1 0x110 1 50 40");
    expect(p.agent, FALSE, "BUTTON 1 0x110 0 50 40");
    xdo((const char *[]){"xdotool", "click", "3", NULL});
    expect(p.agent, FALSE, "BUTTON 1 0x111 1 50 40");
    xdo((const char *[]){"xdotool", "click", "5", NULL});
    expect(p.agent, FALSE, "AXIS 1 0 2560 1");

    /* The user resizes the window: the guest is asked for the new size. */
    BhRect xr;
    g_assert_true(bh_x_window_rect(env.dpy, p.xw, &xr));
    XResizeWindow(env.dpy, p.xw, (unsigned)xr.width + 100, (unsigned)xr.height + 50);
    XSync(env.dpy, False);
    expect(p.agent, FALSE, "CONFIGURE_REQ 1 420 250");

    /* Closing asks the guest; this agent agrees, destroys the window and
     * leaves, so guid closes cleanly. */
    bh_x_close_window(env.dpy, p.xw);
    expect(p.agent, FALSE, "CLOSE 1");
    g_assert_true(bh_proc_wait(p.guid, 30000));
    g_assert_cmpint(p.guid->status, ==, 0);
    g_assert_cmpuint(bh_x_count_windows(env.dpy, "[typist]"), ==, 0);
    bh_proc_stop(p.agent);
    bh_proc_stop(p.guid);
}

static void test_popup(void)
{
    Pair p;
    pair_start(&p, "menus", "purple", "popup", NULL, NULL, 320, 200, 1);
    /* A popup is on screen only while its toplevel is the active window. */
    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)p.xw);
    xdo((const char *[]){"xdotool", "windowfocus", "--sync", wid, NULL});
    BhRect pop;
    g_assert_true(bh_wait_pattern(env.dpy, 120, 80, BH_PATTERN_POPUP + 5, TRUE, &pop, 30000));
    g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
    g_free(bh_shot_save(shot, "process-popup"));
    /* Exactly where the guest put it, relative to its parent's content. */
    g_assert_cmpint(pop.x - p.content.x, ==, 40);
    g_assert_cmpint(pop.y - p.content.y, ==, 30);
    g_assert_cmpuint(bh_frame_mismatches(shot, &pop, BH_GUID_FRAME_PX, bh_label_lookup("purple")->rgb), ==,
                     0);
    pair_finish(&p, "menus");
}

static void test_fullscreen(void)
{
    /* Not allowed: the window is maximised instead. */
    Pair p;
    pair_start(&p, "movie", "orange", "fullscreen", NULL, NULL, 320, 200, 1);
    g_assert_true(bh_x_has_state(env.dpy, p.xw, "_NET_WM_STATE_MAXIMIZED_VERT"));
    g_assert_false(bh_x_has_state(env.dpy, p.xw, "_NET_WM_STATE_FULLSCREEN"));
    expect(p.guid, TRUE, "shown maximised");
    pair_finish(&p, "movie");

    /* Allowed for this qube. */
    const char *allow[] = {"--allow-fullscreen", NULL};
    pair_start(&p, "cinema", "orange", "fullscreen", NULL, allow, 320, 200, 1);
    g_assert_true(bh_x_has_state(env.dpy, p.xw, "_NET_WM_STATE_FULLSCREEN"));
    pair_finish(&p, "cinema");
}

static void test_urgent_no_focus(void)
{
    Pair work;
    pair_start(&work, "work", "blue", "window", NULL, NULL, 320, 200, 1);
    XMoveWindow(env.dpy, work.xw, 600, 500);
    XSync(env.dpy, False);
    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)work.xw);
    xdo((const char *[]){"xdotool", "windowfocus", "--sync", wid, NULL});

    /* Another qube maps a window and asks for attention: it is marked, and
     * the keyboard stays with the window the user was in. */
    Pair loud;
    const char *args[] = {"--seed", "9", NULL};
    pair_start(&loud, "loud", "red", "urgent", args, NULL, 320, 200, 9);
    expect(loud.agent, FALSE, "URGENT sent");
    gboolean urgent = FALSE;
    for (int i = 0; i < 100 && !urgent; i++) {
        g_usleep(50000);
        urgent = bh_x_is_urgent(env.dpy, loud.xw);
    }
    g_assert_true(urgent);
    Window focus;
    int revert;
    XGetInputFocus(env.dpy, &focus, &revert);
    g_assert_cmpuint(focus, ==, work.xw);
    g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
    g_free(bh_shot_save(shot, "process-urgent"));

    pair_finish(&loud, "loud");
    pair_finish(&work, "work");
}

static void test_disconnect(void)
{
    int domid = next_domid();
    g_autoptr(BhProc) agent = bh_start_agent(&env.prog, domid, "disconnect", NULL);
    g_autoptr(BhProc) guid = bh_start_guid(&env.prog, "leaver", "green", domid, NULL);
    expect(agent, FALSE, "LEAVING");
    g_assert_true(bh_proc_wait(guid, 30000));
    g_assert_cmpint(guid->status, ==, 0);
    g_assert_cmpuint(bh_x_count_windows(env.dpy, "[leaver]"), ==, 0);
    g_autofree char *log = bh_proc_stderr(guid);
    g_assert_nonnull(strstr(log, "guid[leaver]: agent disconnected"));
}

static void test_version_mismatch(void)
{
    /* Not an attack: guid says what to update and exits 1, not 2. */
    int domid = next_domid();
    g_autoptr(BhProc) agent = bh_start_agent(&env.prog, domid, "wrong-version", NULL);
    g_autoptr(BhProc) guid = bh_start_guid(&env.prog, "old", "gray", domid, NULL);
    g_assert_true(bh_proc_wait(guid, 30000));
    g_assert_cmpint(guid->status, ==, 1);
    g_autofree char *log = bh_proc_stderr(guid);
    g_autofree char *want =
        g_strdup_printf("peer speaks protocol %u.0, this side %u.%u", BH_GUI_PROTOCOL_MAJOR - 1,
                        BH_GUI_PROTOCOL_MAJOR, BH_GUI_PROTOCOL_MINOR);
    g_assert_nonnull(strstr(log, want));
    g_assert_nonnull(strstr(log, "update the qube's template or dom0"));
}

static void test_no_agent(void)
{
    /* Nobody listens: guid says so and exits 1 after its timeout. */
    const char *args[] = {"--connect-timeout", "1", NULL};
    g_autoptr(BhProc) guid = bh_start_guid(&env.prog, "absent", "red", 4242, args);
    g_assert_true(bh_proc_wait(guid, 30000));
    g_assert_cmpint(guid->status, ==, 1);
    g_autofree char *log = bh_proc_stderr(guid);
    g_assert_nonnull(strstr(log, "no GUI agent of qube 'absent'"));
}

/* GTK opens the session bus inside gtk_init for the document portal's file
 * transfer, synchronous round trips that a burst of starts waits for; guid
 * hides the bus from GTK (bh_guid_main). The "bus" here is a socket nobody
 * accepts on: once guid shows its qube's window, no connection may be
 * pending on it. guid's own clipboard connects only when used, to the
 * address guid was started with (its environment no longer names it):
 * Ctrl+Shift+V knocks, and a bus that hangs up is logged, not fatal. */
static void test_no_bus_at_start(void)
{
    g_autofree char *path = g_build_filename(g_get_user_runtime_dir(), "guid-bus-trap", NULL);
    g_unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_assert_cmpuint(strlen(path), <, sizeof sa.sun_path);
    strcpy(sa.sun_path, path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    g_assert_cmpint(listen(fd, 8), ==, 0);
    g_autofree char *address = g_strdup_printf("unix:path=%s", path);
    g_setenv("DBUS_SESSION_BUS_ADDRESS", address, TRUE);

    const char *args[] = {"--seed", "41", "--title", "bus", NULL};
    Pair p;
    pair_start(&p, "q-bus", "green", "window", args, NULL, 320, 200, 41);
    g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    g_assert_cmpint(poll(&pfd, 1, 0), ==, 0); /* nobody knocked */

    g_autofree char *wid = g_strdup_printf("%lu", (unsigned long)p.xw);
    xdo((const char *[]){"xdotool", "windowfocus", "--sync", wid, NULL});
    xdo((const char *[]){"xdotool", "key", "ctrl+shift+v", NULL});
    g_assert_cmpint(poll(&pfd, 1, 30000), ==, 1); /* the clipboard knocked */
    int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    g_assert_cmpint(conn, >=, 0);
    close(conn);
    expect(p.guid, TRUE, "guid[q-bus]: clipboard: cannot reach bulkheadd");
    pair_finish(&p, "q-bus");
    close(fd);
    g_unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bh_programs_parse(&env.prog, argc, argv);
    env.dpy = bh_display_open();
    env.domid = 10;

    g_test_add_func("/guid/process/frames", test_frames);
    g_test_add_func("/guid/process/warm-up", test_warm_up);
    g_test_add_func("/guid/process/paths", test_paths);
    g_test_add_func("/guid/process/grow", test_grow);
    g_test_add_func("/guid/process/input", test_input);
    g_test_add_func("/guid/process/popup", test_popup);
    g_test_add_func("/guid/process/fullscreen", test_fullscreen);
    g_test_add_func("/guid/process/urgent-no-focus", test_urgent_no_focus);
    g_test_add_func("/guid/process/disconnect", test_disconnect);
    g_test_add_func("/guid/process/version-mismatch", test_version_mismatch);
    g_test_add_func("/guid/process/no-agent", test_no_agent);
    g_test_add_func("/guid/process/no-bus-at-start", test_no_bus_at_start);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    return rc;
}
