/* bh-fake-agent.c — a scripted GUI agent for guid's display tests: the
 * vchan server in "its" domain (BH_VCHAN_DOMID), speaking the GUI protocol
 * with core/proto's encoder and core/vchan's transport and window buffers.
 *
 * Benign scenarios draw a known test image (bh_pattern_*) so a test can check
 * guid's screen pixel by pixel, and report what guid sends (one line per
 * message on stdout: "KEY 54 1", "CONFIGURE_REQ 1 400 300 4", ...).
 * Hostile scenarios are the attacker the issue asks for: each sends one kind
 * of malformed or abusive traffic. The real agent (gui-agent/) is tested
 * end to end elsewhere; this program is not a stand-in for it.
 *
 * Owns: nothing outside the test. Must never: be installed. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bh-display.h"
#include "bulkhead/proto.h"
#include "bulkhead/vchan.h"
#include "bulkhead/winbuf.h"
#include <drm_fourcc.h>

typedef struct {
    struct bh_vchan *v;
    struct bh_gui_windows mine; /* what guid's decoder knows of our windows */
    gboolean dom0_hello;
    guint8 rx[BH_MAX_MSG_BYTES];
    gsize rx_have;
    guint8 tx[BH_MAX_MSG_BYTES];
    /* one window's buffer (benign scenarios draw into window 1) */
    struct bh_winbuf buf;
    int w, h, stride;
    guint seed;
    guint32 serial, released;
} Agent;

static char *opt_scenario = NULL, *opt_title = NULL;
static char *opt_phase = NULL, *opt_wait_file = NULL;
static int opt_width = 320, opt_height = 200, opt_seed = 1, opt_frames = 120;
static int opt_windows = 64, opt_seconds = 10;

static void die(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fake-agent: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(3);
}

/* ---- sending ------------------------------------------------------------- */

static gboolean send_raw(Agent *a, const void *bytes, gsize len, int fd)
{
    ssize_t n = fd >= 0 ? bh_vchan_send_fd(a->v, bytes, len, fd) : bh_vchan_send(a->v, bytes, len);
    return n == (ssize_t)len;
}

/* Encode, keep our table in step (as guid's decoder will see it), send. */
static gboolean send2(Agent *a, guint32 type, guint32 window, const void *body, gsize len, const void *tail,
                      gsize tail_len, int fd)
{
    guint8 *out = a->tx;
    gsize n = bh_gui_encode2(out, sizeof a->tx, type, window, body, len, tail, tail_len);
    if (n == 0)
        die("cannot encode %s", bh_gui_type_name(type));
    struct bh_gui_msg m;
    struct bh_gui_error err;
    if (bh_gui_decode(out, n, BH_GUI_FROM_AGENT, &a->mine, &m, &err) > 0)
        bh_gui_windows_apply(&a->mine, &m);
    return send_raw(a, out, n, fd);
}

static gboolean send_msg(Agent *a, guint32 type, guint32 window, const void *body, gsize len)
{
    return send2(a, type, window, body, len, NULL, 0, -1);
}

static gboolean send_clip(Agent *a, guint32 request, guint32 flags, const void *text, gsize len)
{
    struct bh_gui_clipboard_data head = {request, flags};
    return send2(a, BH_GUI_CLIPBOARD_DATA, 0, &head, sizeof head, text, len, -1);
}

/* A clipboard image whose memfd holds `bytes` bytes (honest: stride * h),
 * filled with a pattern. */
static gboolean send_image(Agent *a, guint32 request, guint32 w, guint32 h, guint32 stride, gsize bytes)
{
    struct bh_gui_clipboard_image img = {request, w, h, stride, BH_GUI_CLIPBOARD_IMAGE_FORMAT};
    struct bh_winbuf b = {0};
    if (bh_winbuf_export_memfd(&b, bytes) < 0)
        die("memfd: %s", g_strerror(errno));
    for (gsize i = 0; i < bytes; i++)
        ((guint8 *)b.map)[i] = (guint8)(i * 7);
    gboolean ok = send2(a, BH_GUI_CLIPBOARD_IMAGE, 0, &img, sizeof img, NULL, 0, b.fd);
    bh_winbuf_release(&b);
    return ok;
}

static void send_hello(Agent *a)
{
    struct bh_gui_hello h = {BH_GUI_PROTOCOL_VERSION};
    send_msg(a, BH_GUI_HELLO, 0, &h, sizeof h);
}

static void send_title(Agent *a, guint32 id, const char *title, gsize len)
{
    send_msg(a, BH_GUI_TITLE, id, title, len);
}

static void create_window(Agent *a, guint32 id, int w, int h, guint32 parent, guint32 flags)
{
    struct bh_gui_create c = {(guint32)w, (guint32)h, parent, flags};
    send_msg(a, BH_GUI_CREATE, id, &c, sizeof c);
}

static void map_window(Agent *a, guint32 id, guint32 transient_for, int x, int y)
{
    struct bh_gui_map m = {transient_for, x, y};
    send_msg(a, BH_GUI_MAP, id, &m, sizeof m);
}

/* A fresh sealed memfd for window `id`, announced with BUFFER. */
static void new_buffer(Agent *a, guint32 id, int w, int h)
{
    bh_winbuf_release(&a->buf);
    a->w = w;
    a->h = h;
    a->stride = w * 4;
    if (bh_winbuf_export_memfd(&a->buf, (gsize)a->stride * h) < 0)
        die("memfd: %s", g_strerror(errno));
    struct bh_gui_buffer b = {(guint32)w,          (guint32)h,          (guint32)a->stride,
                              DRM_FORMAT_XRGB8888, BH_GUI_BUFFER_MEMFD, 0};
    send2(a, BH_GUI_BUFFER, id, &b, sizeof b, NULL, 0, a->buf.fd);
}

static void damage(Agent *a, guint32 id, const struct bh_gui_rect *rects, guint32 n)
{
    struct bh_gui_damage d = {++a->serial, n};
    send2(a, BH_GUI_DAMAGE, id, &d, sizeof d, rects, n * sizeof *rects, -1);
}

static void draw_full(Agent *a, guint32 id, guint seed)
{
    a->seed = seed;
    bh_pattern_fill(a->buf.map, a->w, a->h, a->stride, seed);
    struct bh_gui_rect r = {0, 0, (guint32)a->w, (guint32)a->h};
    damage(a, id, &r, 1);
}

/* A toplevel with the test image, titled, shown. */
static void show_window(Agent *a, guint32 id, const char *title)
{
    create_window(a, id, opt_width, opt_height, 0, 0);
    send_title(a, id, title, strlen(title));
    new_buffer(a, id, opt_width, opt_height);
    draw_full(a, id, (guint)opt_seed);
    map_window(a, id, 0, 0, 0);
}

/* ---- receiving ------------------------------------------------------------ */

static void report(const struct bh_gui_msg *m)
{
    switch (m->type) {
    case BH_GUI_SCREEN:
        printf("SCREEN %u %u\n", m->u.screen.width, m->u.screen.height);
        break;
    case BH_GUI_KEYMAP:
        printf("KEYMAP %s %s %s %s %s\n", m->u.keymap.rules, m->u.keymap.model, m->u.keymap.layout,
               m->u.keymap.variant[0] ? m->u.keymap.variant : "-",
               m->u.keymap.options[0] ? m->u.keymap.options : "-");
        break;
    case BH_GUI_CLIPBOARD_REQ:
        printf("CLIPBOARD_REQ %u\n", m->u.clipboard_req.request);
        break;
    case BH_GUI_KEY:
        printf("KEY %u %u mods %u\n", m->u.key.keycode, m->u.key.pressed, m->u.key.mods_depressed);
        break;
    case BH_GUI_BUTTON:
        printf("BUTTON %u 0x%x %u %d %d\n", m->window, m->u.button.button, m->u.button.pressed, m->u.button.x,
               m->u.button.y);
        break;
    case BH_GUI_ENTER:
        printf("ENTER %u %d %d\n", m->window, m->u.enter.x, m->u.enter.y);
        break;
    case BH_GUI_LEAVE:
        printf("LEAVE %u\n", m->window);
        break;
    case BH_GUI_FOCUS:
        printf("FOCUS %u %u\n", m->window, m->u.focus.focused);
        break;
    case BH_GUI_CONFIGURE_REQ:
        printf("CONFIGURE_REQ %u %u %u %u\n", m->window, m->u.configure_req.width, m->u.configure_req.height,
               m->u.configure_req.states);
        break;
    case BH_GUI_CLOSE:
        printf("CLOSE %u\n", m->window);
        break;
    case BH_GUI_AXIS:
        printf("AXIS %u %u %d %d\n", m->window, m->u.axis.axis, m->u.axis.value, m->u.axis.discrete);
        break;
    case BH_GUI_MOTION:
    case BH_GUI_BUFFER_RELEASE:
    case BH_GUI_HELLO:
        break; /* too many to print / nothing to say */
    default:
        printf("%s %u\n", bh_gui_type_name(m->type), m->window);
    }
}

/* Reads what is there; fills *m and returns TRUE for each whole message.
 * Returns FALSE when nothing complete is buffered. Exits on disconnect. */
static gboolean next_message(Agent *a, struct bh_gui_msg *m)
{
    for (;;) {
        struct bh_gui_windows peer = a->mine;
        struct bh_gui_error err;
        peer.hello_done = a->dom0_hello;
        long used = bh_gui_decode(a->rx, a->rx_have, BH_GUI_FROM_DOM0, &peer, m, &err);
        if (used < 0)
            die("guid sent something invalid: %s", err.reason);
        if (used > 0) {
            memmove(a->rx, a->rx + used, a->rx_have - (gsize)used);
            a->rx_have -= (gsize)used;
            if (m->type == BH_GUI_HELLO)
                a->dom0_hello = TRUE;
            report(m);
            return TRUE;
        }
        ssize_t n = bh_vchan_read(a->v, a->rx + a->rx_have, sizeof a->rx - a->rx_have);
        if (n < 0) {
            printf("DISCONNECTED\n");
            exit(0);
        }
        if (n == 0)
            return FALSE;
        a->rx_have += (gsize)n;
    }
}

/* Wait up to timeout_ms for guid to send something (-1: forever). */
static gboolean wait_readable(Agent *a, int timeout_ms)
{
    struct pollfd p = {bh_vchan_fd_for_select(a->v), POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r > 0 && bh_vchan_wait(a->v) < 0) {
        printf("DISCONNECTED\n");
        exit(0);
    }
    return r > 0;
}

/* Handle guid's messages until it goes away. `on_release` runs for each
 * BUFFER_RELEASE (animation); a CLOSE destroys the window and ends. */
static void serve(Agent *a, void (*on_release)(Agent *, guint32 id))
{
    struct bh_gui_msg m;
    for (;;) {
        while (next_message(a, &m)) {
            if (m.type == BH_GUI_BUFFER_RELEASE) {
                a->released = m.u.buffer_release.serial;
                if (on_release != NULL)
                    on_release(a, m.window);
            } else if (m.type == BH_GUI_CLOSE) {
                send_msg(a, BH_GUI_DESTROY, m.window, NULL, 0);
                if (a->mine.count == 0) {
                    bh_vchan_close(a->v);
                    exit(0);
                }
            }
        }
        wait_readable(a, -1);
    }
}

/* Read until guid released `serial` (frames are paced by guid). */
static void wait_release(Agent *a, guint32 serial)
{
    struct bh_gui_msg m;
    while (a->released < serial) {
        while (next_message(a, &m))
            if (m.type == BH_GUI_BUFFER_RELEASE)
                a->released = m.u.buffer_release.serial;
        if (a->released < serial)
            wait_readable(a, 1000);
    }
}

/* After `ms`, window 1 drawn whole with `seed`; returns once guid released it. */
static void redraw_shown(Agent *a, guint ms, guint seed)
{
    g_usleep(ms * 1000);
    draw_full(a, 1, seed);
    wait_release(a, a->serial);
}

/* Tell the test how far the scenario got, then answer guid until it goes. */
static void say_and_serve(Agent *a, const char *line)
{
    printf("%s\n", line);
    fflush(stdout);
    serve(a, NULL);
}

/* ---- benign scenarios ------------------------------------------------------- */

static void next_frame(Agent *a, guint32 id)
{
    draw_full(a, id, a->seed + 1);
}

/* animate-count: the same, and once a second "FRAMES <shown so far>" (a
 * calm qube whose frame rate a test reads while another qube floods). */
static void next_frame_counted(Agent *a, guint32 id)
{
    static guint64 frames;
    static gint64 last;
    gint64 now = g_get_monotonic_time();
    frames++;
    if (now - last >= G_USEC_PER_SEC) {
        last = now;
        printf("FRAMES %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT "\n", frames, now);
        fflush(stdout);
    }
    next_frame(a, id);
}

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* Method (docs/guid.md): N frames of full damage, then N frames damaging 5 %
 * of the window, each sent when guid released the previous one. Prints the
 * wall time per frame; the test reads guid's CPU time from /proc. */
static void bench(Agent *a, guint32 id)
{
    int w = a->w, h = a->h;
    /* 5 %: a w/4.47 x h/4.47 rectangle, moving so it is always new pixels. */
    guint32 dw = (guint32)(w * 0.2236), dh = (guint32)(h * 0.2236);
    wait_release(a, a->serial);
    /* Let guid map and paint the window first: its cost is not a frame's. */
    g_usleep(1000 * 1000);
    printf("BENCH ready\n");
    fflush(stdout);
    /* The test samples guid's CPU time between the phase lines. */
    for (int phase = 0; phase < 2; phase++) {
        if (opt_phase != NULL && !g_str_equal(opt_phase, phase == 0 ? "full" : "five"))
            continue;
        double t0 = now_s();
        printf("BENCH start %s\n", phase == 0 ? "full" : "five");
        fflush(stdout);
        for (int f = 0; f < opt_frames; f++) {
            bh_pattern_fill(a->buf.map, w, h, a->stride, (guint)(100 + f));
            struct bh_gui_rect r = {0, 0, (guint32)w, (guint32)h};
            if (phase == 1) {
                r.x = (gint32)((guint32)(f * 37) % ((guint32)w - dw));
                r.y = (gint32)((guint32)(f * 23) % ((guint32)h - dh));
                r.width = dw;
                r.height = dh;
            }
            damage(a, id, &r, 1);
            wait_release(a, a->serial);
        }
        printf("BENCH done %s %.3f ms/frame\n", phase == 0 ? "full" : "five",
               (now_s() - t0) * 1000.0 / opt_frames);
        fflush(stdout);
    }
}

/* ---- hostile scenarios ---------------------------------------------------- */

/* Several windows' buffers at once (the scenarios below keep each alive:
 * a->buf is only the last one's). */
static struct bh_winbuf extra_bufs[8];
static guint n_extra_bufs;

static void keep_buffer(Agent *a)
{
    if (n_extra_bufs < G_N_ELEMENTS(extra_bufs)) {
        extra_bufs[n_extra_bufs++] = a->buf;
        memset(&a->buf, 0, sizeof a->buf);
        a->buf.fd = -1;
    }
}

/* A popup `id` of `parent`, w x h, the test image of `seed`, mapped at x, y. */
static void show_popup(Agent *a, guint32 id, guint32 parent, int w, int h, guint seed, int x, int y)
{
    create_window(a, id, w, h, parent, BH_GUI_CREATE_POPUP);
    new_buffer(a, id, w, h);
    draw_full(a, id, seed);
    map_window(a, id, parent, x, y);
    keep_buffer(a);
}

/* Issue 13 item 1: a small toplevel opens a popup the size of the screen (a
 * fake desktop) and one the size of a dialog (a fake "[dom0]" prompt). */
static void fake_desktop(Agent *a)
{
    /* hostile() sent HELLO */
    opt_width = 220;
    opt_height = 60;
    show_window(a, 1, "tiny");
    wait_release(a, a->serial);
    keep_buffer(a);
    show_popup(a, 2, 1, 1280, 800, BH_PATTERN_POPUP + 1, 0, 0);
    show_popup(a, 3, 1, 400, 200, BH_PATTERN_POPUP + 2, 10, 70);
    printf("POPUPS shown\n");
    serve(a, NULL);
}

/* Issue 13 item 2: each time window 1 loses the keyboard, the next way of
 * showing it again (or showing another window) to get the keyboard back. */
static const char *const trick_names[] = {"remap", "recreate", "big-popup", "fullscreen", "urgent", NULL};

static void do_trick(Agent *a, guint i)
{
    const char *name = trick_names[i];
    if (g_str_equal(name, "remap")) {
        send_msg(a, BH_GUI_UNMAP, 1, NULL, 0);
        g_usleep(200 * 1000);
        map_window(a, 1, 0, 0, 0);
    } else if (g_str_equal(name, "recreate")) {
        send_msg(a, BH_GUI_DESTROY, 1, NULL, 0);
        g_usleep(200 * 1000);
        show_window(a, 1, "victim");
    } else if (g_str_equal(name, "big-popup")) {
        /* Too big for a popup: guid shows it as a window. */
        show_popup(a, 2, 1, 900, 900, BH_PATTERN_POPUP + 1, 0, 0);
    } else if (g_str_equal(name, "fullscreen")) {
        send_msg(a, BH_GUI_DESTROY, 2, NULL, 0);
        struct bh_gui_flags f = {BH_GUI_FLAG_FULLSCREEN, 0};
        send_msg(a, BH_GUI_FLAGS, 1, &f, sizeof f);
        send_msg(a, BH_GUI_UNMAP, 1, NULL, 0);
        g_usleep(200 * 1000);
        map_window(a, 1, 0, 0, 0);
    } else if (g_str_equal(name, "urgent")) {
        struct bh_gui_flags f = {BH_GUI_FLAG_URGENT, BH_GUI_FLAG_FULLSCREEN};
        send_msg(a, BH_GUI_FLAGS, 1, &f, sizeof f);
        send_msg(a, BH_GUI_UNMAP, 1, NULL, 0);
        g_usleep(200 * 1000);
        map_window(a, 1, 0, 0, 0);
    }
    printf("TRICK %s\n", name);
}

static void tricks(Agent *a)
{
    /* hostile() sent HELLO */
    show_window(a, 1, "victim");
    guint next = 0;
    struct bh_gui_msg m;
    for (;;) {
        while (next_message(a, &m)) {
            if (m.type == BH_GUI_BUFFER_RELEASE)
                a->released = m.u.buffer_release.serial;
            /* Window 1 lost the keyboard to another qube: take it back. */
            if (m.type == BH_GUI_FOCUS && m.window == 1 && m.u.focus.focused == 0 &&
                trick_names[next] != NULL) {
                g_usleep(300 * 1000);
                do_trick(a, next++);
            }
        }
        wait_readable(a, -1);
    }
}

/* Issue 13 item 9: the toplevel and a popup; when guid asks to close the
 * toplevel (its X window was destroyed from outside), show it again. */
static void come_back(Agent *a)
{
    /* hostile() sent HELLO */
    show_window(a, 1, "survivor");
    wait_release(a, a->serial);
    keep_buffer(a);
    show_popup(a, 2, 1, 120, 80, BH_PATTERN_POPUP + 4, 30, 30);
    struct bh_gui_msg m;
    for (;;) {
        while (next_message(a, &m)) {
            if (m.type == BH_GUI_CLOSE && m.window == 1) {
                send_msg(a, BH_GUI_UNMAP, 1, NULL, 0);
                map_window(a, 1, 0, 0, 0);
                struct bh_gui_rect r = {0, 0, (guint32)opt_width, (guint32)opt_height};
                damage(a, 1, &r, 1);
                printf("MAPPED again\n");
            }
        }
        wait_readable(a, -1);
    }
}

static int memfd_plain(gsize size, gboolean seal)
{
    int fd = memfd_create("fake-agent", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        die("memfd: %s", g_strerror(errno));
    if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        die("seal: %s", g_strerror(errno));
    return fd;
}

static void buffer_with_fd(Agent *a, guint32 id, int w, int h, int fd)
{
    struct bh_gui_buffer b = {(guint32)w,          (guint32)h,          (guint32)w * 4,
                              DRM_FORMAT_XRGB8888, BH_GUI_BUFFER_MEMFD, 0};
    send2(a, BH_GUI_BUFFER, id, &b, sizeof b, NULL, 0, fd);
}

static void hostile(Agent *a, const char *s)
{
    if (g_str_equal(s, "no-hello")) {
        create_window(a, 1, 100, 100, 0, 0); /* before HELLO */
        return;
    }
    send_hello(a);
    if (g_str_equal(s, "huge-create")) {
        struct bh_gui_create c = {100000, 100000, 0, 0};
        send_msg(a, BH_GUI_CREATE, 1, &c, sizeof c);
    } else if (g_str_equal(s, "huge-length")) {
        struct bh_gui_hdr h = {BH_GUI_TITLE, 1, 0xffffffffu};
        send_raw(a, &h, sizeof h, -1);
    } else if (g_str_equal(s, "garbage")) {
        guint8 junk[4096];
        GRand *r = g_rand_new_with_seed(42);
        for (gsize i = 0; i < sizeof junk; i++)
            junk[i] = (guint8)g_rand_int(r);
        g_rand_free(r);
        send_raw(a, junk, sizeof junk, -1);
    } else if (g_str_equal(s, "unknown-window")) {
        map_window(a, 77, 0, 0, 0);
    } else if (g_str_equal(s, "many-windows")) {
        /* Thousands: each mapped, so guid really builds every window until
         * the per-qube limit stops it. */
        for (guint32 id = 1; id <= 3000; id++) {
            create_window(a, id, 64, 48, 0, 0);
            map_window(a, id, 0, 0, 0);
        }
    } else if (g_str_equal(s, "huge-window")) {
        /* Within the protocol's limits, far beyond the screen: accepted,
         * shown clamped to the screen. */
        opt_width = (int)BH_MAX_WINDOW_WIDTH;
        opt_height = (int)BH_MAX_WINDOW_HEIGHT;
        show_window(a, 1, "huge");
        serve(a, NULL);
    } else if (g_str_equal(s, "evil-title")) {
        /* Controls, bidi overrides, a fake prefix, an escape sequence: the
         * decoder strips what must not be drawn, guid keeps its prefix. */
        const char t[] = "\xe2\x80\xae[dom0] \x1b[31mroot\x07\x7f shell\xe2\x80\x8f\xe2\x81\xa6x";
        show_window(a, 1, "innocent");
        send_title(a, 1, t, sizeof t - 1);
        serve(a, NULL);
    } else if (g_str_equal(s, "control-title")) {
        const char t[] = "\x1b\x07\x08\x7f\xe2\x80\xae\xe2\x80\x8b";
        create_window(a, 1, 100, 100, 0, 0);
        send_title(a, 1, t, sizeof t - 1);
    } else if (g_str_equal(s, "bad-utf8-title")) {
        const char t[] = "ok \xc0\xaf \xff";
        create_window(a, 1, 100, 100, 0, 0);
        send_title(a, 1, t, sizeof t - 1);
    } else if (g_str_equal(s, "damage-outside")) {
        show_window(a, 1, "damage");
        wait_release(a, a->serial);
        struct bh_gui_rect r = {opt_width - 10, 0, 20, 20};
        damage(a, 1, &r, 1);
    } else if (g_str_equal(s, "unsealed-buffer")) {
        create_window(a, 1, 100, 100, 0, 0);
        buffer_with_fd(a, 1, 100, 100, memfd_plain(100 * 100 * 4, FALSE));
    } else if (g_str_equal(s, "short-buffer")) {
        create_window(a, 1, 100, 100, 0, 0);
        buffer_with_fd(a, 1, 100, 100, memfd_plain(100 * 50 * 4, TRUE));
    } else if (g_str_equal(s, "not-memfd")) {
        int p[2];
        if (pipe(p) < 0)
            die("pipe");
        create_window(a, 1, 100, 100, 0, 0);
        buffer_with_fd(a, 1, 100, 100, p[0]);
    } else if (g_str_equal(s, "no-fd")) {
        create_window(a, 1, 100, 100, 0, 0);
        buffer_with_fd(a, 1, 100, 100, -1);
    } else if (g_str_equal(s, "stray-fd")) {
        create_window(a, 1, 100, 100, 0, 0);
        int fd = memfd_plain(4096, TRUE);
        struct bh_gui_hdr h = {BH_GUI_TITLE, 1, 2};
        guint8 msg[sizeof h + 2];
        memcpy(msg, &h, sizeof h);
        memcpy(msg + sizeof h, "hi", 2);
        send_raw(a, msg, sizeof msg, fd);
    } else if (g_str_equal(s, "fake-desktop")) {
        fake_desktop(a);
    } else if (g_str_equal(s, "tricks")) {
        tricks(a);
    } else if (g_str_equal(s, "come-back")) {
        come_back(a);
    } else if (g_str_equal(s, "blank-title")) {
        /* em spaces and braille blanks push a fake "[work] Terminal" along
         * the bar; stacked and enclosing marks climb out of it */
        show_window(a, 1,
                    "\xe2\x80\x83\xe2\x80\x83ok\xe2\xa0\x80\xe2\xa0\x80\xe2\xa0\x80\xe2\xa0\x80"
                    "\xe2\xa0\x80\xe2\xa0\x80\xe2\x80\x83\xe2\x80\x83[work] Terminal"
                    "\xe2\x80\x83 Z\xcc\x81\xcc\x82\xcc\x83\xcc\x84\xcc\x85\xcc\x86\xe2\x83\x9d");
        serve(a, NULL);
    } else if (g_str_equal(s, "scribble")) {
        /* Keeps rewriting a buffer guid is reading and tries to shrink it
         * (the seals refuse): not a violation, guid keeps drawing. */
        show_window(a, 1, "scribbler");
        int shrink = ftruncate(a->buf.fd, 0);
        printf("SHRINK %s\n", shrink == 0 ? "succeeded" : "refused");
        fflush(stdout);
        for (guint i = 0; i < 2000; i++) {
            memset(a->buf.map, (int)(i & 0xff), a->buf.size);
            struct bh_gui_rect r = {0, 0, (guint32)a->w, (guint32)a->h};
            damage(a, 1, &r, 1);
            struct bh_gui_msg m;
            while (next_message(a, &m)) {
            }
        }
        serve(a, NULL);
    } else if (g_str_equal(s, "hugetlb-buffer")) {
        /* A huge-page memfd, sealed like a good one: the seals hold, but a
         * punched-out huge page comes back only while free ones exist. */
        const int w = 512, h = 1024; /* 2 MiB: one huge page */
        int fd = memfd_create("fake-agent-huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
        if (fd < 0)
            die("no hugetlbfs memfd: %s", g_strerror(errno));
        if (ftruncate(fd, (off_t)w * 4 * h) < 0 ||
            fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
            die("hugetlb memfd: %s", g_strerror(errno));
        printf("HUGETLB sealed 0x%x\n", (unsigned)fcntl(fd, F_GET_SEALS));
        fflush(stdout);
        create_window(a, 1, w, h, 0, 0);
        buffer_with_fd(a, 1, w, h, fd);
    } else if (g_str_equal(s, "punch-hole")) {
        /* Shown, then every page punched out of the buffer guid and the X
         * server have mapped (no seal forbids it: the guest must draw), and
         * damaged again: both read a hole. */
        show_window(a, 1, "punched");
        wait_release(a, a->serial);
        if (fallocate(a->buf.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)a->buf.size) < 0)
            die("punch: %s", g_strerror(errno));
        printf("PUNCHED first byte now %u\n", ((guint8 *)a->buf.map)[0]);
        struct bh_gui_rect r = {0, 0, (guint32)a->w, (guint32)a->h};
        damage(a, 1, &r, 1);
        wait_release(a, a->serial);
        /* Again, after the window went through GTK too (a hidden and
         * re-shown window is drawn from guid's own copy). */
        if (fallocate(a->buf.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)a->buf.size) < 0)
            die("punch: %s", g_strerror(errno));
        send_msg(a, BH_GUI_UNMAP, 1, NULL, 0);
        map_window(a, 1, 0, 0, 0);
        damage(a, 1, &r, 1);
        wait_release(a, a->serial);
        printf("PUNCH shown\n");
        fflush(stdout);
        serve(a, NULL);
    } else if (g_str_equal(s, "memory-hog")) {
        /* Issue 13: many windows of the largest size, each with a buffer the
         * guest never writes (no memory on its side), damaged once and
         * shown: whatever dom0 allocates for them is dom0's alone. */
        guint32 w = (guint32)opt_width, h = (guint32)opt_height;
        for (guint32 id = 1; id <= (guint32)opt_windows; id++) {
            int fd = memfd_plain((gsize)w * 4 * h, TRUE);
            create_window(a, id, (int)w, (int)h, 0, 0);
            buffer_with_fd(a, id, (int)w, (int)h, fd);
            close(fd); /* guid has its own (or refused it) */
            struct bh_gui_rect r = {0, 0, w, h};
            damage(a, id, &r, 1);
            map_window(a, id, 0, 0, 0);
            struct bh_gui_msg m;
            while (next_message(a, &m)) {
            }
        }
        /* And a popup of the last window (which the budget keeps hidden). */
        guint32 last = (guint32)opt_windows, pop = 100000;
        create_window(a, pop, 100, 80, last, BH_GUI_CREATE_POPUP);
        buffer_with_fd(a, pop, 100, 80, memfd_plain(100 * 4 * 80, TRUE));
        struct bh_gui_rect pr = {0, 0, 100, 80};
        damage(a, pop, &pr, 1);
        map_window(a, pop, last, 10, 10);
        printf("HOG sent %d\n", opt_windows);
        fflush(stdout);
        serve(a, NULL);
    } else if (g_str_equal(s, "flood-windows")) {
        /* Issue 13: many windows, each damaged whole again the moment guid
         * releases it, for --seconds; then quiet. Counts what guid showed. */
        int n = CLAMP(opt_windows, 1, 255);
        struct bh_winbuf *bufs = g_new0(struct bh_winbuf, n + 1);
        guint32 w = (guint32)opt_width, h = (guint32)opt_height;
        struct bh_gui_rect r = {0, 0, w, h};
        for (int id = 1; id <= n; id++) {
            if (bh_winbuf_export_memfd(&bufs[id], (gsize)w * 4 * h) < 0)
                die("memfd: %s", g_strerror(errno));
            bh_pattern_fill(bufs[id].map, (int)w, (int)h, (int)w * 4, (guint)id);
            create_window(a, (guint32)id, (int)w, (int)h, 0, 0);
            send_title(a, (guint32)id, "flooder", 7);
            struct bh_gui_buffer b = {w, h, w * 4, DRM_FORMAT_XRGB8888, BH_GUI_BUFFER_MEMFD, 0};
            send2(a, BH_GUI_BUFFER, (guint32)id, &b, sizeof b, NULL, 0, bufs[id].fd);
            damage(a, (guint32)id, &r, 1);
            map_window(a, (guint32)id, 0, (id % 8) * 40, (id / 8) * 40);
        }
        printf("FLOODW started\n");
        fflush(stdout);
        gint64 t0 = g_get_monotonic_time(), end = t0 + (gint64)opt_seconds * G_USEC_PER_SEC;
        guint64 shown = 0;
        struct bh_gui_msg m;
        while (g_get_monotonic_time() < end) {
            while (next_message(a, &m)) {
                if (m.type == BH_GUI_BUFFER_RELEASE && g_get_monotonic_time() < end) {
                    shown++;
                    damage(a, m.window, &r, 1);
                }
            }
            wait_readable(a, 100);
        }
        double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
        printf("FLOODW done %" G_GUINT64_FORMAT " frames %.0f px/s in %.1f s\n", shown,
               (double)shown * w * h / secs, secs);
        fflush(stdout);
        serve(a, NULL);
    } else if (g_str_equal(s, "clip-bad-utf8")) {
        const char t[] = "copied \xc0\xaf \xff";
        send_clip(a, 1, 0, t, sizeof t - 1);
    } else if (g_str_equal(s, "clip-nul")) {
        const char t[] = "before\0after";
        send_clip(a, 1, 0, t, sizeof t - 1);
    } else if (g_str_equal(s, "clip-huge")) {
        /* One byte over the protocol's cap: the header alone is refused. */
        struct bh_gui_hdr h = {BH_GUI_CLIPBOARD_DATA, 0, (guint32)BH_MAX_CLIPBOARD_BODY_BYTES + 1};
        send_raw(a, &h, sizeof h, -1);
    } else if (g_str_equal(s, "clip-request-zero")) {
        send_clip(a, 0, 0, "zero", 4);
    } else if (g_str_equal(s, "clip-other-text")) {
        /* "Neither text nor an image" with text after it. */
        send_clip(a, 1, BH_GUI_CLIPBOARD_OTHER_TYPE, "smuggled", 8);
    } else if (g_str_equal(s, "clip-image-huge")) {
        /* 4097 a side, with a buffer that really is that big. */
        send_image(a, 1, 4097, 16, 4097 * 4, (gsize)4097 * 4 * 16);
    } else if (g_str_equal(s, "clip-image-format")) {
        struct bh_gui_clipboard_image img = {1, 8, 8, 32, DRM_FORMAT_XRGB8888};
        struct bh_winbuf b = {0};
        if (bh_winbuf_export_memfd(&b, 8 * 32) < 0)
            die("memfd: %s", g_strerror(errno));
        send2(a, BH_GUI_CLIPBOARD_IMAGE, 0, &img, sizeof img, NULL, 0, b.fd);
    } else if (g_str_equal(s, "clip-image-lies")) {
        /* Asked for its clipboard, it claims 64x64 pixels in a memfd that
         * holds 32x32: guid must not read past the 4 KiB it got. */
        show_window(a, 1, "clip");
        struct bh_gui_msg m;
        for (;;) {
            if (next_message(a, &m) && m.type == BH_GUI_CLIPBOARD_REQ)
                break;
            wait_readable(a, 1000);
        }
        send_image(a, m.u.clipboard_req.request, 64, 64, 64 * 4, 32 * 32 * 4);
        printf("CLIP lying image sent\n");
        fflush(stdout);
        serve(a, NULL);
    } else if (g_str_equal(s, "clipboard")) {
        /* Within the protocol, never what guid asked for: data naming a
         * request guid never sent, an image likewise, an answer after
         * guid's deadline, an answer naming an older request, a second
         * answer to one request. The answers guid asked for (text, then an
         * image) are the control. */
        show_window(a, 1, "clip");
        send_clip(a, 7, 0, "unasked", 7);
        send_image(a, 99, 8, 8, 32, 8 * 32);
        printf("CLIP unasked sent\n");
        fflush(stdout);
        struct bh_gui_msg m;
        for (guint asked = 0; asked < 3;) {
            while (next_message(a, &m)) {
                if (m.type != BH_GUI_CLIPBOARD_REQ)
                    continue;
                guint32 id = m.u.clipboard_req.request;
                if (asked++ == 0) {
                    printf("CLIP asked %u\n", id);
                    fflush(stdout);
                    g_usleep(3500 * 1000); /* guid waits 3000 ms */
                    send_clip(a, id, 0, "late", 4);
                    printf("CLIP stale sent\n");
                } else if (asked == 2) {
                    send_clip(a, id - 1, 0, "older", 5);
                    send_clip(a, id, 0, "fresh", 5);
                    send_clip(a, id, 0, "again", 5);
                    printf("CLIP answered twice\n");
                } else {
                    send_image(a, id, 16, 8, 80, 80 * 8); /* a stride wider than the rows */
                    printf("CLIP image sent\n");
                    fflush(stdout);
                    /* Then a flood of answers nobody asked for. */
                    for (guint32 i = 0; i < 200; i++)
                        send_clip(a, 1000 + i, 0, "flood", 5);
                    printf("CLIP flood sent\n");
                }
                fflush(stdout);
                break;
            }
            if (asked < 3)
                wait_readable(a, 1000);
        }
        serve(a, NULL);
    } else if (g_str_equal(s, "flood")) {
        /* Valid messages as fast as the socket takes them, then quiet. */
        show_window(a, 1, "flood");
        char t[32];
        for (guint i = 0; i < 200000; i++) {
            if (i % 2 == 0) {
                int len = g_snprintf(t, sizeof t, "flood %u", i);
                send_title(a, 1, t, (gsize)len);
            } else {
                struct bh_gui_rect r = {(gint32)(i % 200), 0, 16, 16};
                damage(a, 1, &r, 1);
            }
            struct bh_gui_msg m;
            while (next_message(a, &m)) {
            }
        }
        send_title(a, 1, "flood over", 10);
        printf("FLOOD sent\n");
        fflush(stdout);
        serve(a, NULL);
    } else {
        die("unknown scenario '%s'", s);
    }
    /* Wait for guid to drop us. */
    serve(a, NULL);
}

int main(int argc, char **argv)
{
    GOptionEntry entries[] = {
        {"scenario", 0, 0, G_OPTION_ARG_STRING, &opt_scenario, "What to do", "NAME"},
        /* Raw bytes (UTF-8 from the test): no locale conversion. */
        {"title", 0, 0, G_OPTION_ARG_FILENAME, &opt_title, "Window title", "T"},
        {"width", 0, 0, G_OPTION_ARG_INT, &opt_width, "Window width", "W"},
        {"height", 0, 0, G_OPTION_ARG_INT, &opt_height, "Window height", "H"},
        {"seed", 0, 0, G_OPTION_ARG_INT, &opt_seed, "Test image seed", "S"},
        {"frames", 0, 0, G_OPTION_ARG_INT, &opt_frames, "Frames per bench phase", "N"},
        {"phase", 0, 0, G_OPTION_ARG_STRING, &opt_phase, "Bench only this phase", "full|five"},
        {"windows", 0, 0, G_OPTION_ARG_INT, &opt_windows, "Windows (memory-hog, flood-windows)", "N"},
        {"seconds", 0, 0, G_OPTION_ARG_INT, &opt_seconds, "How long (flood-windows)", "S"},
        {"wait-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_wait_file,
         "Once connected, wait until PATH exists before the scenario (a guid's warm-up first)", "PATH"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- scripted GUI agent for tests");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || opt_scenario == NULL)
        die("%s", error ? error->message : "--scenario is required");
    setvbuf(stdout, NULL, _IOLBF, 0);

    static Agent agent;
    Agent *a = &agent;
    bh_gui_windows_init(&a->mine);
    a->v = bh_vchan_server_init(0, BH_GUI_VCHAN_PORT, 0, 0);
    if (a->v == NULL)
        die("cannot listen: %s", g_strerror(errno));
    printf("LISTENING\n");
    while (bh_vchan_is_open(a->v) != BH_VCHAN_CONNECTED) {
        struct pollfd p = {bh_vchan_fd_for_select(a->v), POLLIN, 0};
        if (poll(&p, 1, 60000) <= 0)
            die("nobody connected within 60 s");
        if (bh_vchan_wait(a->v) < 0)
            die("accept: %s", g_strerror(errno));
    }
    printf("CONNECTED\n");
    for (int waited = 0; opt_wait_file != NULL && !g_file_test(opt_wait_file, G_FILE_TEST_EXISTS); waited++) {
        if (waited == 6000)
            die("%s did not appear within 60 s", opt_wait_file);
        g_usleep(10000);
    }

    const char *s = opt_scenario;
    const char *title = opt_title != NULL ? opt_title : "test window";
    if (g_str_equal(s, "window")) {
        send_hello(a);
        show_window(a, 1, title);
        serve(a, NULL);
    } else if (g_str_equal(s, "animate")) {
        send_hello(a);
        show_window(a, 1, title);
        serve(a, next_frame);
    } else if (g_str_equal(s, "animate-count")) {
        send_hello(a);
        show_window(a, 1, title);
        serve(a, next_frame_counted);
    } else if (g_str_equal(s, "bench")) {
        send_hello(a);
        show_window(a, 1, title);
        bench(a, 1);
        bh_vchan_close(a->v);
        return 0;
    } else if (g_str_equal(s, "popup")) {
        send_hello(a);
        show_window(a, 1, title);
        wait_release(a, a->serial);
        create_window(a, 2, 120, 80, 1, BH_GUI_CREATE_POPUP);
        new_buffer(a, 2, 120, 80);
        draw_full(a, 2, BH_PATTERN_POPUP + 5);
        map_window(a, 2, 1, 40, 30);
        serve(a, NULL);
    } else if (g_str_equal(s, "fullscreen")) {
        send_hello(a);
        create_window(a, 1, opt_width, opt_height, 0, 0);
        send_title(a, 1, title, strlen(title));
        struct bh_gui_flags f = {BH_GUI_FLAG_FULLSCREEN, 0};
        send_msg(a, BH_GUI_FLAGS, 1, &f, sizeof f);
        new_buffer(a, 1, opt_width, opt_height);
        draw_full(a, 1, (guint)opt_seed);
        map_window(a, 1, 0, 0, 0);
        serve(a, NULL);
    } else if (g_str_equal(s, "second-frame")) {
        /* The test image, then (once guid has shown it) the next seed over it:
         * a frame that arrives while the window is on screen. */
        send_hello(a);
        show_window(a, 1, title);
        wait_release(a, a->serial);
        redraw_shown(a, 500, (guint)opt_seed + 1);
        say_and_serve(a, "SECOND shown");
    } else if (g_str_equal(s, "grow")) {
        /* The test image; then the guest grows its window (a new buffer,
         * 80x60 larger, the next seed); then, once guid has laid the
         * window out at the new size, the seed after that: a frame put
         * where the content now is, not where it was. */
        send_hello(a);
        show_window(a, 1, title);
        wait_release(a, a->serial);
        g_usleep(300 * 1000);
        new_buffer(a, 1, opt_width + 80, opt_height + 60);
        draw_full(a, 1, (guint)opt_seed + 1);
        wait_release(a, a->serial);
        redraw_shown(a, 500, (guint)opt_seed + 2);
        say_and_serve(a, "GROWN shown");
    } else if (g_str_equal(s, "urgent")) {
        send_hello(a);
        show_window(a, 1, title);
        wait_release(a, a->serial);
        struct bh_gui_flags f = {BH_GUI_FLAG_URGENT, 0};
        send_msg(a, BH_GUI_FLAGS, 1, &f, sizeof f);
        printf("URGENT sent\n");
        serve(a, NULL);
    } else if (g_str_equal(s, "wrong-version")) {
        /* An old template's agent: the major before ours. */
        struct bh_gui_hello h = {(BH_GUI_PROTOCOL_MAJOR - 1) << 16};
        send_msg(a, BH_GUI_HELLO, 0, &h, sizeof h);
        serve(a, NULL);
    } else if (g_str_equal(s, "disconnect")) {
        send_hello(a);
        show_window(a, 1, title);
        wait_release(a, a->serial);
        g_usleep(300 * 1000);
        printf("LEAVING\n");
        bh_vchan_close(a->v);
        return 0;
    } else {
        hostile(a, s);
    }
    return 0;
}
