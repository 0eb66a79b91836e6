/* bh-test-wlclient.c — a small Wayland client for agent tests, one scenario
 * per run:
 *   bh-test-wlclient MODE
 * "scene" maps a toplevel made of subsurfaces (above, below, translucent)
 * with known colours, reports pointer and keyboard events on stdout by
 * surface name, and on keys opens a grabbing popup ('p'), moves a
 * subsurface ('m'), unmaps one ('h'), opens a transient dialog ('d') or
 * quits ('q').
 * The other modes misbehave on purpose: those that break a protocol rule
 * exit 0 only if the compositor answered with the expected protocol error
 * (interface and code printed); many-windows and title-spam exit 0 when
 * they got through. "release-pacing" draws 30 frames with two buffers and
 * a frame callback each, and exits 0 only if no wl_buffer.release arrived
 * without a frame callback in the same read (they are held for it), and a
 * commit without a frame callback got its release at once.
 *
 * Owns: nothing outside tests. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

struct app {
    struct wl_display *display;
    struct wl_compositor *compositor;
    struct wl_subcompositor *subcompositor;
    struct wl_shm *shm;
    struct xdg_wm_base *wm_base;
    struct wl_seat *seat;
    uint32_t last_configure;
    bool configured;
};

static void wm_ping(void *data, struct xdg_wm_base *b, uint32_t serial)
{
    xdg_wm_base_pong(b, serial);
}

static const struct xdg_wm_base_listener wm_listener = {wm_ping};

static void global(void *data, struct wl_registry *r, uint32_t name, const char *iface, uint32_t version)
{
    struct app *a = data;
    if (strcmp(iface, "wl_compositor") == 0)
        a->compositor = wl_registry_bind(r, name, &wl_compositor_interface, 4);
    else if (strcmp(iface, "wl_subcompositor") == 0)
        a->subcompositor = wl_registry_bind(r, name, &wl_subcompositor_interface, 1);
    else if (strcmp(iface, "wl_shm") == 0)
        a->shm = wl_registry_bind(r, name, &wl_shm_interface, 1);
    else if (strcmp(iface, "wl_seat") == 0)
        a->seat = wl_registry_bind(r, name, &wl_seat_interface, 5);
    else if (strcmp(iface, "xdg_wm_base") == 0) {
        a->wm_base = wl_registry_bind(r, name, &xdg_wm_base_interface, 2);
        xdg_wm_base_add_listener(a->wm_base, &wm_listener, a);
    }
}

static void global_remove(void *data, struct wl_registry *r, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {global, global_remove};

static void surface_configure(void *data, struct xdg_surface *s, uint32_t serial)
{
    struct app *a = data;
    a->last_configure = serial;
    a->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {surface_configure};

static struct wl_buffer *make_buffer(struct app *a, int w, int h, uint32_t colour)
{
    size_t size = (size_t)w * (size_t)h * 4;
    int fd = memfd_create("bh-test-wlclient", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        perror("memfd");
        exit(2);
    }
    uint32_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    for (size_t i = 0; i < size / 4; i++)
        p[i] = colour;
    munmap(p, size);
    struct wl_shm_pool *pool = wl_shm_create_pool(a->shm, fd, (int32_t)size);
    struct wl_buffer *b = wl_shm_pool_create_buffer(pool, 0, w, h, w * 4, WL_SHM_FORMAT_ARGB8888);
    wl_shm_pool_destroy(pool);
    close(fd);
    return b;
}

struct toplevel {
    struct wl_surface *surface;
    struct xdg_surface *xdg;
    struct xdg_toplevel *top;
};

static struct toplevel toplevel_new(struct app *a, const char *title)
{
    struct toplevel t;
    t.surface = wl_compositor_create_surface(a->compositor);
    t.xdg = xdg_wm_base_get_xdg_surface(a->wm_base, t.surface);
    xdg_surface_add_listener(t.xdg, &xdg_surface_listener, a);
    t.top = xdg_surface_get_toplevel(t.xdg);
    xdg_toplevel_set_title(t.top, title);
    return t;
}

/* Map a toplevel of w x h: initial commit, wait for configure, ack, buffer. */
static struct toplevel toplevel_map(struct app *a, const char *title, int w, int h)
{
    struct toplevel t = toplevel_new(a, title);
    a->configured = false;
    wl_surface_commit(t.surface);
    while (!a->configured && wl_display_dispatch(a->display) >= 0)
        ;
    xdg_surface_ack_configure(t.xdg, a->last_configure);
    wl_surface_attach(t.surface, make_buffer(a, w, h, 0xff336699), 0, 0);
    wl_surface_damage_buffer(t.surface, 0, 0, w, h);
    wl_surface_commit(t.surface);
    return t;
}

/* Run until the compositor reports an error; check it is the expected one. */
static int expect_error(struct app *a, const struct wl_interface *iface, uint32_t code)
{
    while (wl_display_roundtrip(a->display) >= 0)
        ;
    int err = wl_display_get_error(a->display);
    const struct wl_interface *got = NULL;
    uint32_t id = 0;
    uint32_t got_code = wl_display_get_protocol_error(a->display, &got, &id);
    printf("error %d: protocol error %s %u\n", err, got ? got->name : "(none)", got_code);
    fflush(stdout);
    if (err != EPROTO || got != iface || got_code != code)
        return 1;
    return 0;
}

/* A stride one byte short of the width in bytes (libwayland itself takes
 * any stride from the width in pixels up): refused at create_buffer, as
 * wl_shm_pool.invalid_stride, before any commit. First a buffer from the
 * same pool with the exact stride is created, shown and must draw no
 * error, so the check is on the stride and not the format or pool. 1024x64
 * fills whole pages. Exit 3: the good buffer was refused. */
static int short_stride(struct app *a, uint32_t format)
{
    enum { W = 1024, H = 64 };
    struct toplevel t = toplevel_new(a, "stride");
    wl_surface_commit(t.surface);
    while (!a->configured && wl_display_dispatch(a->display) >= 0)
        ;
    xdg_surface_ack_configure(t.xdg, a->last_configure);
    int fd = memfd_create("bh-test-wlclient", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, W * H * 4) < 0)
        return 2;
    struct wl_shm_pool *pool = wl_shm_create_pool(a->shm, fd, W * H * 4);
    close(fd);
    struct wl_buffer *good = wl_shm_pool_create_buffer(pool, 0, W, H, W * 4, format);
    wl_surface_attach(t.surface, good, 0, 0);
    wl_surface_damage_buffer(t.surface, 0, 0, W, H);
    wl_surface_commit(t.surface);
    if (wl_display_roundtrip(a->display) < 0) {
        printf("the exact stride was refused: error %d\n", wl_display_get_error(a->display));
        return 3;
    }
    wl_shm_pool_create_buffer(pool, 0, W, H, W * 4 - 1, format);
    return expect_error(a, &wl_shm_pool_interface, WL_SHM_ERROR_INVALID_STRIDE);
}

/* ---- "scene": subsurfaces, input by surface, a grabbing popup ----------------- */

struct scene {
    struct app *a;
    struct toplevel top;
    struct wl_surface *sub[3];
    struct wl_subsurface *ss[3];
    struct wl_surface *popup_surface;
    struct xdg_surface *popup_xdg;
    struct xdg_popup *popup;
    struct wl_pointer *pointer;
    struct wl_keyboard *keyboard;
    struct wl_surface *ptr_focus;
    struct toplevel dialog;
    struct wl_surface *dialog_sub;
    bool dialog_mapped;
    uint32_t last_serial;
    bool quit;
};

static const char *name_of(struct scene *sc, struct wl_surface *s)
{
    static const char *const names[] = {"A", "B", "C"};
    if (s == sc->top.surface)
        return "parent";
    if (s && s == sc->popup_surface)
        return "popup";
    for (int i = 0; i < 3; i++)
        if (s == sc->sub[i])
            return names[i];
    return "?";
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void ptr_enter(void *data, struct wl_pointer *p, uint32_t serial, struct wl_surface *s, wl_fixed_t x,
                      wl_fixed_t y)
{
    struct scene *sc = data;
    sc->ptr_focus = s;
    say("enter %s %d %d", name_of(sc, s), wl_fixed_to_int(x), wl_fixed_to_int(y));
}

static void ptr_leave(void *data, struct wl_pointer *p, uint32_t serial, struct wl_surface *s)
{
    struct scene *sc = data;
    say("leave %s", name_of(sc, s));
    sc->ptr_focus = NULL;
}

static void ptr_motion(void *data, struct wl_pointer *p, uint32_t time, wl_fixed_t x, wl_fixed_t y)
{
    say("motion %d %d", wl_fixed_to_int(x), wl_fixed_to_int(y));
}

static void ptr_button(void *data, struct wl_pointer *p, uint32_t serial, uint32_t time, uint32_t button,
                       uint32_t state)
{
    struct scene *sc = data;
    sc->last_serial = serial;
    say("button %s %u %u", name_of(sc, sc->ptr_focus), button, state);
}

static void ptr_axis(void *data, struct wl_pointer *p, uint32_t time, uint32_t axis, wl_fixed_t value)
{
    say("axis %u %d", axis, wl_fixed_to_int(value));
}

static void ptr_frame(void *data, struct wl_pointer *p)
{
}

static void ptr_axis_source(void *data, struct wl_pointer *p, uint32_t source)
{
}

static void ptr_axis_stop(void *data, struct wl_pointer *p, uint32_t time, uint32_t axis)
{
}

static void ptr_axis_discrete(void *data, struct wl_pointer *p, uint32_t axis, int32_t discrete)
{
    say("discrete %u %d", axis, discrete);
}

static const struct wl_pointer_listener ptr_listener = {
    ptr_enter, ptr_leave,       ptr_motion,    ptr_button,        ptr_axis,
    ptr_frame, ptr_axis_source, ptr_axis_stop, ptr_axis_discrete,
};

static void popup_configure(void *data, struct xdg_popup *p, int32_t x, int32_t y, int32_t w, int32_t h)
{
    say("popup-configure %d %d %d %d", x, y, w, h);
}

static void popup_done(void *data, struct xdg_popup *p)
{
    struct scene *sc = data;
    say("popup-done");
    xdg_popup_destroy(sc->popup);
    xdg_surface_destroy(sc->popup_xdg);
    wl_surface_destroy(sc->popup_surface);
    sc->popup = NULL;
    sc->popup_xdg = NULL;
    sc->popup_surface = NULL;
}

static void popup_repositioned(void *data, struct xdg_popup *p, uint32_t token)
{
}

static const struct xdg_popup_listener popup_listener = {popup_configure, popup_done, popup_repositioned};

static void popup_surface_configure(void *data, struct xdg_surface *x, uint32_t serial)
{
    struct scene *sc = data;
    xdg_surface_ack_configure(x, serial);
    wl_surface_attach(sc->popup_surface, make_buffer(sc->a, 40, 30, 0xffffff00), 0, 0);
    wl_surface_damage_buffer(sc->popup_surface, 0, 0, 40, 30);
    wl_surface_commit(sc->popup_surface);
}

static const struct xdg_surface_listener popup_surface_listener = {popup_surface_configure};

static void open_popup(struct scene *sc)
{
    struct app *a = sc->a;
    if (sc->popup)
        return;
    sc->popup_surface = wl_compositor_create_surface(a->compositor);
    sc->popup_xdg = xdg_wm_base_get_xdg_surface(a->wm_base, sc->popup_surface);
    xdg_surface_add_listener(sc->popup_xdg, &popup_surface_listener, sc);
    struct xdg_positioner *pos = xdg_wm_base_create_positioner(a->wm_base);
    xdg_positioner_set_size(pos, 40, 30);
    xdg_positioner_set_anchor_rect(pos, 10, 10, 20, 20);
    xdg_positioner_set_anchor(pos, XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT);
    xdg_positioner_set_gravity(pos, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
    sc->popup = xdg_surface_get_popup(sc->popup_xdg, sc->top.xdg, pos);
    xdg_positioner_destroy(pos);
    xdg_popup_add_listener(sc->popup, &popup_listener, sc);
    xdg_popup_grab(sc->popup, a->seat, sc->last_serial);
    wl_surface_commit(sc->popup_surface);
}

static void dialog_configure(void *data, struct xdg_surface *x, uint32_t serial)
{
    struct scene *sc = data;
    xdg_surface_ack_configure(x, serial);
    if (sc->dialog_mapped)
        return;
    sc->dialog_mapped = true;
    /* No window geometry, and a subsurface reaching past its left and
     * bottom edges: the window is the bounds of both (xdg-shell). */
    sc->dialog_sub = wl_compositor_create_surface(sc->a->compositor);
    struct wl_subsurface *ss =
        wl_subcompositor_get_subsurface(sc->a->subcompositor, sc->dialog_sub, sc->dialog.surface);
    wl_subsurface_set_position(ss, -10, 30);
    wl_surface_attach(sc->dialog_sub, make_buffer(sc->a, 20, 20, 0xff00ffff), 0, 0);
    wl_surface_damage_buffer(sc->dialog_sub, 0, 0, 20, 20);
    wl_surface_commit(sc->dialog_sub);
    wl_surface_attach(sc->dialog.surface, make_buffer(sc->a, 60, 40, 0xff0000ff), 0, 0);
    wl_surface_damage_buffer(sc->dialog.surface, 0, 0, 60, 40);
    wl_surface_commit(sc->dialog.surface);
}

static const struct xdg_surface_listener dialog_listener = {dialog_configure};

/* A transient dialog: a toplevel whose parent is the scene. */
static void open_dialog(struct scene *sc)
{
    struct app *a = sc->a;
    if (sc->dialog.surface)
        return;
    sc->dialog.surface = wl_compositor_create_surface(a->compositor);
    sc->dialog.xdg = xdg_wm_base_get_xdg_surface(a->wm_base, sc->dialog.surface);
    xdg_surface_add_listener(sc->dialog.xdg, &dialog_listener, sc);
    sc->dialog.top = xdg_surface_get_toplevel(sc->dialog.xdg);
    xdg_toplevel_set_title(sc->dialog.top, "scene dialog");
    xdg_toplevel_set_parent(sc->dialog.top, sc->top.top);
    wl_surface_commit(sc->dialog.surface);
}

static void kb_keymap(void *data, struct wl_keyboard *k, uint32_t format, int32_t fd, uint32_t size)
{
    say("keymap %u bytes", size);
    close(fd);
}

static void kb_enter(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s,
                     struct wl_array *keys)
{
    struct scene *sc = data;
    say("kbd-enter %s", name_of(sc, s));
}

static void kb_leave(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s)
{
    struct scene *sc = data;
    say("kbd-leave %s", name_of(sc, s));
}

static void kb_key(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t time, uint32_t key,
                   uint32_t state)
{
    struct scene *sc = data;
    sc->last_serial = serial;
    say("key %u %u", key, state);
    if (state != WL_KEYBOARD_KEY_STATE_PRESSED)
        return;
    if (key == 25) { /* p */
        open_popup(sc);
    } else if (key == 50) { /* m: move A; takes effect with the parent's commit */
        wl_subsurface_set_position(sc->ss[0], 60, 10);
        wl_surface_commit(sc->top.surface);
    } else if (key == 35) { /* h: B, desynchronized, unmaps itself */
        wl_subsurface_set_desync(sc->ss[1]);
        wl_surface_attach(sc->sub[1], NULL, 0, 0);
        wl_surface_commit(sc->sub[1]);
    } else if (key == 32) { /* d: a transient dialog */
        open_dialog(sc);
    } else if (key == 16) { /* q */
        sc->quit = true;
    }
}

static void kb_modifiers(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t dep, uint32_t lat,
                         uint32_t lock, uint32_t group)
{
    say("mods %u %u %u %u", dep, lat, lock, group);
}

static void kb_repeat(void *data, struct wl_keyboard *k, int32_t rate, int32_t delay)
{
    say("repeat %d %d", rate, delay);
}

static const struct wl_keyboard_listener kb_listener = {kb_keymap, kb_enter,     kb_leave,
                                                        kb_key,    kb_modifiers, kb_repeat};

/* "keyboard": a wl_keyboard and its keymap, nothing else; prints the keymap's
 * size and whether it is an xkb text keymap, then exits 0 if it was. */
struct kb_only {
    bool got;
    bool ok;
};

static void kbo_keymap(void *data, struct wl_keyboard *k, uint32_t format, int32_t fd, uint32_t size)
{
    struct kb_only *ko = data;
    ko->got = true;
    char *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    ko->ok = format == WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1 && p != MAP_FAILED && size > 11 &&
             strncmp(p, "xkb_keymap", 10) == 0;
    say("keymap %u bytes%s", size, ko->ok ? ", an xkb keymap" : ", not a keymap");
    if (p != MAP_FAILED)
        munmap(p, size);
    close(fd);
}

static void kbo_enter(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s,
                      struct wl_array *keys)
{
}

static void kbo_leave(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s)
{
}

static void kbo_key(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t time, uint32_t key,
                    uint32_t state)
{
}

static void kbo_modifiers(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t dep, uint32_t lat,
                          uint32_t lock, uint32_t group)
{
}

static void kbo_repeat(void *data, struct wl_keyboard *k, int32_t rate, int32_t delay)
{
}

static const struct wl_keyboard_listener kbo_listener = {kbo_keymap, kbo_enter,     kbo_leave,
                                                         kbo_key,    kbo_modifiers, kbo_repeat};

static int run_keyboard(struct app *a)
{
    struct kb_only ko = {0};
    if (!a->seat) {
        fprintf(stderr, "no wl_seat\n");
        return 2;
    }
    struct wl_keyboard *kb = wl_seat_get_keyboard(a->seat);
    wl_keyboard_add_listener(kb, &kbo_listener, &ko);
    wl_display_roundtrip(a->display);
    if (!ko.got)
        say("no keymap");
    return ko.ok ? 0 : 1;
}

static int run_scene(struct app *a)
{
    struct scene sc = {.a = a};
    static const struct {
        int x, y, size;
        uint32_t colour;
    } subs[3] = {
        {10, 10, 20, 0xff00ff00}, /* A: opaque green, above */
        {50, 50, 30, 0x80000080}, /* B: half-transparent blue (premultiplied), above */
        {0, 0, 10, 0xffffffff},   /* C: white, below the parent: never visible */
    };
    if (!a->seat)
        return 2;
    sc.pointer = wl_seat_get_pointer(a->seat);
    wl_pointer_add_listener(sc.pointer, &ptr_listener, &sc);
    sc.keyboard = wl_seat_get_keyboard(a->seat);
    wl_keyboard_add_listener(sc.keyboard, &kb_listener, &sc);

    sc.top = toplevel_new(a, "scene");
    xdg_toplevel_set_app_id(sc.top.top, "org.bulkhead.test.scene");
    a->configured = false;
    wl_surface_commit(sc.top.surface);
    while (!a->configured && wl_display_dispatch(a->display) >= 0)
        ;
    xdg_surface_ack_configure(sc.top.xdg, a->last_configure);
    for (int i = 0; i < 3; i++) {
        sc.sub[i] = wl_compositor_create_surface(a->compositor);
        sc.ss[i] = wl_subcompositor_get_subsurface(a->subcompositor, sc.sub[i], sc.top.surface);
        wl_subsurface_set_position(sc.ss[i], subs[i].x, subs[i].y);
        wl_surface_attach(sc.sub[i], make_buffer(a, subs[i].size, subs[i].size, subs[i].colour), 0, 0);
        wl_surface_damage_buffer(sc.sub[i], 0, 0, subs[i].size, subs[i].size);
        wl_surface_commit(sc.sub[i]); /* synchronized: cached until the parent commits */
    }
    wl_subsurface_place_below(sc.ss[2], sc.top.surface);
    wl_surface_attach(sc.top.surface, make_buffer(a, 100, 100, 0xffff0000), 0, 0);
    wl_surface_damage_buffer(sc.top.surface, 0, 0, 100, 100);
    xdg_surface_set_window_geometry(sc.top.xdg, 0, 0, 100, 100);
    wl_surface_commit(sc.top.surface);
    say("ready");
    while (!sc.quit && wl_display_dispatch(a->display) >= 0)
        ;
    say("bye");
    return sc.quit ? 0 : 1;
}

/* ---- release-pacing ---------------------------------------------------------- */

struct pacing {
    struct wl_buffer *buf[2];
    bool busy[2];
    bool release_seen, done_seen;
};

static void pacing_release(void *data, struct wl_buffer *b)
{
    struct pacing *p = data;
    for (int i = 0; i < 2; i++)
        if (p->buf[i] == b)
            p->busy[i] = false;
    p->release_seen = true;
}

static const struct wl_buffer_listener pacing_buffer_listener = {pacing_release};

static void pacing_done(void *data, struct wl_callback *cb, uint32_t time)
{
    struct pacing *p = data;
    p->done_seen = true;
    wl_callback_destroy(cb);
}

static const struct wl_callback_listener pacing_frame_listener = {pacing_done};

/* Draw into the free buffer (false if none is), with a frame callback or not. */
static bool pacing_commit(struct pacing *p, struct toplevel *t, int frame, bool with_callback)
{
    int i = !p->busy[0] ? 0 : !p->busy[1] ? 1 : -1;
    if (i < 0) {
        printf("no free buffer at frame %d\n", frame);
        return false;
    }
    wl_surface_attach(t->surface, p->buf[i], 0, 0);
    wl_surface_damage_buffer(t->surface, 0, 0, 64, 64);
    if (with_callback)
        wl_callback_add_listener(wl_surface_frame(t->surface), &pacing_frame_listener, p);
    wl_surface_commit(t->surface);
    p->busy[i] = true;
    return true;
}

static int release_pacing(struct app *a)
{
    struct pacing p = {0};
    struct toplevel t = toplevel_new(a, "release-pacing");
    a->configured = false;
    wl_surface_commit(t.surface);
    while (!a->configured && wl_display_dispatch(a->display) >= 0)
        ;
    xdg_surface_ack_configure(t.xdg, a->last_configure);
    for (int i = 0; i < 2; i++) {
        p.buf[i] = make_buffer(a, 64, 64, 0xff000000u | (uint32_t)(0x40 * (i + 1)));
        wl_buffer_add_listener(p.buf[i], &pacing_buffer_listener, &p);
    }
    int lonely = 0, frames = 0;
    for (; frames < 30; frames++) {
        if (!pacing_commit(&p, &t, frames, true))
            return 1;
        p.done_seen = false;
        while (!p.done_seen) {
            /* One read per dispatch here: what the compositor flushed
             * together is seen together. */
            p.release_seen = false;
            if (wl_display_dispatch(a->display) < 0)
                return 1;
            if (p.release_seen && !p.done_seen)
                lonely++;
        }
    }
    /* No frame callback: nothing to carry the release, so it is not held. */
    if (!pacing_commit(&p, &t, frames, false) || wl_display_roundtrip(a->display) < 0)
        return 1;
    bool at_once = !p.busy[0] || !p.busy[1];
    printf("frames %d, releases without a frame callback %d, released at once without one: %s\n", frames,
           lonely, at_once ? "yes" : "no");
    return lonely == 0 && at_once ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct app a = {0};
    if (argc != 2) {
        fprintf(stderr, "usage: bh-test-wlclient MODE\n");
        return 2;
    }
    const char *mode = argv[1];
    a.display = wl_display_connect(NULL);
    if (!a.display) {
        perror("wl_display_connect");
        return 2;
    }
    struct wl_registry *reg = wl_display_get_registry(a.display);
    wl_registry_add_listener(reg, &registry_listener, &a);
    wl_display_roundtrip(a.display);
    if (!a.compositor || !a.subcompositor || !a.shm || !a.wm_base) {
        fprintf(stderr, "missing globals\n");
        return 2;
    }

    if (strcmp(mode, "scene") == 0)
        return run_scene(&a);
    if (strcmp(mode, "keyboard") == 0)
        return run_keyboard(&a);
    if (strcmp(mode, "huge-buffer") == 0) {
        /* Wider than BH_MAX_WINDOW_WIDTH: refused before anything is copied. */
        struct toplevel t = toplevel_new(&a, "huge");
        wl_surface_commit(t.surface);
        while (!a.configured && wl_display_dispatch(a.display) >= 0)
            ;
        xdg_surface_ack_configure(t.xdg, a.last_configure);
        wl_surface_attach(t.surface, make_buffer(&a, 8000, 2, 0), 0, 0);
        wl_surface_commit(t.surface);
        return expect_error(&a, &wl_surface_interface, WL_SURFACE_ERROR_INVALID_SIZE);
    }
    if (strcmp(mode, "unconfigured") == 0) {
        struct toplevel t = toplevel_new(&a, "eager");
        wl_surface_attach(t.surface, make_buffer(&a, 10, 10, 0), 0, 0);
        wl_surface_commit(t.surface);
        return expect_error(&a, &xdg_surface_interface, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER);
    }
    if (strcmp(mode, "unacked") == 0) {
        /* wlcs 1.5's window helper: the initial commit, then a buffer at
         * once, the configure never acked. Only tests/wlcs's build of the
         * agent lets it wait; the shipped one must refuse it. */
        struct toplevel t = toplevel_new(&a, "hasty");
        wl_surface_commit(t.surface);
        wl_surface_attach(t.surface, make_buffer(&a, 10, 10, 0), 0, 0);
        wl_surface_commit(t.surface);
        return expect_error(&a, &xdg_surface_interface, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER);
    }
    if (strcmp(mode, "short-stride-argb8888") == 0)
        return short_stride(&a, WL_SHM_FORMAT_ARGB8888);
    if (strcmp(mode, "short-stride-xrgb8888") == 0)
        return short_stride(&a, WL_SHM_FORMAT_XRGB8888);
    if (strcmp(mode, "bad-ack") == 0) {
        struct toplevel t = toplevel_new(&a, "liar");
        wl_surface_commit(t.surface);
        xdg_surface_ack_configure(t.xdg, 0xdeadbeef);
        return expect_error(&a, &xdg_surface_interface, XDG_SURFACE_ERROR_INVALID_SERIAL);
    }
    if (strcmp(mode, "bad-positioner") == 0) {
        struct toplevel t = toplevel_map(&a, "parent", 50, 50);
        struct wl_surface *s = wl_compositor_create_surface(a.compositor);
        struct xdg_surface *x = xdg_wm_base_get_xdg_surface(a.wm_base, s);
        struct xdg_positioner *p = xdg_wm_base_create_positioner(a.wm_base);
        xdg_positioner_set_size(p, 10, 10); /* no anchor rectangle */
        xdg_surface_get_popup(x, t.xdg, p);
        return expect_error(&a, &xdg_wm_base_interface, XDG_WM_BASE_ERROR_INVALID_POSITIONER);
    }
    if (strcmp(mode, "min-above-max") == 0) {
        struct toplevel t = toplevel_new(&a, "hints");
        xdg_toplevel_set_min_size(t.top, 500, 500);
        xdg_toplevel_set_max_size(t.top, 300, 300);
        wl_surface_commit(t.surface);
        return expect_error(&a, &xdg_toplevel_interface, XDG_TOPLEVEL_ERROR_INVALID_SIZE);
    }
    if (strcmp(mode, "subsurface-loop") == 0) {
        struct wl_surface *p = wl_compositor_create_surface(a.compositor);
        struct wl_surface *c = wl_compositor_create_surface(a.compositor);
        wl_subcompositor_get_subsurface(a.subcompositor, c, p);
        wl_subcompositor_get_subsurface(a.subcompositor, p, c);
        return expect_error(&a, &wl_subcompositor_interface, WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE);
    }
    if (strcmp(mode, "region-flood") == 0) {
        /* In batches that each go out in one write, so the error is read
         * back instead of racing the compositor closing the socket. */
        struct wl_region *r = wl_compositor_create_region(a.compositor);
        for (int i = 0; i < 1000; i++) {
            wl_region_add(r, i, i, 1, 1);
            if (i % 100 == 99 && wl_display_roundtrip(a.display) < 0)
                break;
        }
        return expect_error(&a, &wl_display_interface, WL_DISPLAY_ERROR_IMPLEMENTATION);
    }
    if (strcmp(mode, "release-pacing") == 0)
        return release_pacing(&a);
    if (strcmp(mode, "many-windows") == 0) {
        /* A flood of toplevels, far more than BH_MAX_WINDOWS: the extra
         * ones are not shown (nor logged one by one). */
        for (int i = 0; i < 1000; i++) {
            char title[32];
            snprintf(title, sizeof(title), "many %d", i);
            toplevel_map(&a, title, 4, 4);
        }
        if (wl_display_roundtrip(a.display) < 0)
            return 1;
        printf("mapped 1000\n");
        fflush(stdout);
        pause();
        return 0;
    }
    if (strcmp(mode, "title-spam") == 0) {
        /* Titles as fast as possible: if dom0 does not read, the agent must
         * drop dom0, not block or grow without bound. */
        struct toplevel t = toplevel_map(&a, "spam", 4, 4);
        char title[200];
        for (int i = 0; i < 400000; i++) {
            snprintf(title, sizeof(title), "spam %d %0150d", i, i);
            xdg_toplevel_set_title(t.top, title);
            if (i % 500 == 0 && wl_display_roundtrip(a.display) < 0)
                return 1;
        }
        if (wl_display_roundtrip(a.display) < 0)
            return 1;
        printf("spammed\n");
        fflush(stdout);
        pause();
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
