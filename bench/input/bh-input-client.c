/* bh-input-client.c — the Wayland client of bench/input: a wl_shm toplevel
 * of one colour that repaints itself the moment an input event arrives, so
 * the time from an event injected into dom0's X server to the new colour on
 * that X server is the input path's latency there and back.
 *
 *   bh-input-client --width W --height H [--ready FILE]
 *
 * Colours (XRGB8888, the whole buffer, damaged whole):
 *   start            0x123456 (as a position: y 1110, beyond any window here)
 *   N-th key press   0x800000 | ((N * 40503) & 0x7fffff)   (releases draw nothing)
 *   pointer motion   ((x & 0x7ff) << 12) | (y & 0xfff), x and y the surface
 *                    position in whole pixels (bit 23 clear: never a key's)
 * so the bench knows which press or which position it is looking at.
 *
 * It draws on the event, not on the next frame callback: a text editor waits
 * for its frame callback, but then the wait is the compositor's pacing, which
 * is measured apart (bench/frames). A press arriving while all buffers are
 * busy is drawn when one comes back. --ready is created on the first
 * configure-and-commit. SIGTERM ends it with status 0.
 *
 * Owns: its window. Must never: draw a colour that names an event it did not
 * receive. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

#define N_BUFFERS 3

struct buf {
    struct wl_buffer *wl;
    uint32_t *pixels;
    bool busy;
};

struct client {
    struct wl_compositor *compositor;
    struct wl_shm *shm;
    struct xdg_wm_base *wm_base;
    struct wl_seat *seat;
    struct wl_keyboard *keyboard;
    struct wl_pointer *pointer;
    struct wl_surface *surface;
    bool configured, closed, failed, pending;
    int width, height;
    struct buf bufs[N_BUFFERS];
    uint32_t colour; /* the colour the next draw shows */
    uint32_t presses;
    const char *ready_path;
};

static void draw(struct client *c)
{
    struct buf *b = NULL;
    for (int i = 0; i < N_BUFFERS && !b; i++)
        if (!c->bufs[i].busy)
            b = &c->bufs[i];
    if (!b) {
        c->pending = true; /* drawn on the next release */
        return;
    }
    c->pending = false;
    size_t n = (size_t)c->width * (size_t)c->height;
    for (size_t i = 0; i < n; i++)
        b->pixels[i] = c->colour;
    b->busy = true;
    wl_surface_attach(c->surface, b->wl, 0, 0);
    wl_surface_damage_buffer(c->surface, 0, 0, c->width, c->height);
    wl_surface_commit(c->surface);
}

static void buffer_release(void *data, struct wl_buffer *wb)
{
    struct client *c = data;
    for (int i = 0; i < N_BUFFERS; i++)
        if (c->bufs[i].wl == wb)
            c->bufs[i].busy = false;
    if (c->pending)
        draw(c);
}

static const struct wl_buffer_listener buffer_listener = {buffer_release};

/* ---- input ----------------------------------------------------------------------- */

static void kb_keymap(void *d, struct wl_keyboard *k, uint32_t fmt, int32_t fd, uint32_t size)
{
    close(fd); /* the colour depends on the count of presses, not on the key */
}
static void kb_enter(void *d, struct wl_keyboard *k, uint32_t s, struct wl_surface *sf, struct wl_array *keys)
{
}
static void kb_leave(void *d, struct wl_keyboard *k, uint32_t s, struct wl_surface *sf)
{
}
static void kb_key(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t time, uint32_t key,
                   uint32_t state)
{
    struct client *c = data;
    if (state != WL_KEYBOARD_KEY_STATE_PRESSED)
        return;
    c->presses++;
    c->colour = 0x800000u | ((c->presses * 40503u) & 0x7fffffu);
    draw(c);
}
static void kb_mods(void *d, struct wl_keyboard *k, uint32_t s, uint32_t a, uint32_t b, uint32_t l,
                    uint32_t g)
{
}
static void kb_repeat(void *d, struct wl_keyboard *k, int32_t rate, int32_t delay)
{
}
static const struct wl_keyboard_listener kb_listener = {kb_keymap, kb_enter, kb_leave,
                                                        kb_key,    kb_mods,  kb_repeat};

static void ptr_enter(void *d, struct wl_pointer *p, uint32_t s, struct wl_surface *sf, wl_fixed_t x,
                      wl_fixed_t y)
{
}
static void ptr_leave(void *d, struct wl_pointer *p, uint32_t s, struct wl_surface *sf)
{
}
static void ptr_motion(void *data, struct wl_pointer *p, uint32_t time, wl_fixed_t fx, wl_fixed_t fy)
{
    struct client *c = data;
    uint32_t x = (uint32_t)wl_fixed_to_int(fx), y = (uint32_t)wl_fixed_to_int(fy);
    c->colour = ((x & 0x7ffu) << 12) | (y & 0xfffu);
    draw(c);
}
static void ptr_button(void *d, struct wl_pointer *p, uint32_t s, uint32_t t, uint32_t b, uint32_t st)
{
}
static void ptr_axis(void *d, struct wl_pointer *p, uint32_t t, uint32_t a, wl_fixed_t v)
{
}
static const struct wl_pointer_listener ptr_listener = {ptr_enter, ptr_leave, ptr_motion, ptr_button,
                                                        ptr_axis};

static void seat_caps(void *data, struct wl_seat *s, uint32_t caps)
{
    struct client *c = data;
    if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !c->keyboard) {
        c->keyboard = wl_seat_get_keyboard(s);
        wl_keyboard_add_listener(c->keyboard, &kb_listener, c);
    }
    if ((caps & WL_SEAT_CAPABILITY_POINTER) && !c->pointer) {
        c->pointer = wl_seat_get_pointer(s);
        wl_pointer_add_listener(c->pointer, &ptr_listener, c);
    }
}
static void seat_name(void *d, struct wl_seat *s, const char *name)
{
}
static const struct wl_seat_listener seat_listener = {seat_caps, seat_name};

/* ---- globals and the toplevel ---------------------------------------------------- */

static void wm_ping(void *data, struct xdg_wm_base *b, uint32_t serial)
{
    xdg_wm_base_pong(b, serial);
}
static const struct xdg_wm_base_listener wm_listener = {wm_ping};

static void global(void *data, struct wl_registry *r, uint32_t name, const char *iface, uint32_t version)
{
    struct client *c = data;
    if (strcmp(iface, wl_compositor_interface.name) == 0) {
        c->compositor = wl_registry_bind(r, name, &wl_compositor_interface, 4);
    } else if (strcmp(iface, wl_shm_interface.name) == 0) {
        c->shm = wl_registry_bind(r, name, &wl_shm_interface, 1);
    } else if (strcmp(iface, xdg_wm_base_interface.name) == 0) {
        c->wm_base = wl_registry_bind(r, name, &xdg_wm_base_interface, 1);
        xdg_wm_base_add_listener(c->wm_base, &wm_listener, c);
    } else if (strcmp(iface, wl_seat_interface.name) == 0 && !c->seat) {
        c->seat = wl_registry_bind(r, name, &wl_seat_interface, version < 4 ? version : 4);
        wl_seat_add_listener(c->seat, &seat_listener, c);
    }
}
static void global_remove(void *data, struct wl_registry *r, uint32_t name)
{
}
static const struct wl_registry_listener registry_listener = {global, global_remove};

static void xdg_configure(void *data, struct xdg_surface *s, uint32_t serial)
{
    struct client *c = data;
    xdg_surface_ack_configure(s, serial);
    c->configured = true;
}
static const struct xdg_surface_listener xdg_surface_listener = {xdg_configure};

static void top_configure(void *d, struct xdg_toplevel *t, int32_t w, int32_t h, struct wl_array *states)
{
    /* The size is the bench's. */
}
static void top_close(void *data, struct xdg_toplevel *t)
{
    struct client *c = data;
    c->closed = true;
}
static const struct xdg_toplevel_listener toplevel_listener = {top_configure, top_close};

static int make_buffers(struct client *c)
{
    size_t size = (size_t)c->width * (size_t)c->height * 4;
    int fd = memfd_create("bh-input-client", MFD_CLOEXEC);
    int rc = -1;
    struct wl_shm_pool *pool = NULL;
    uint8_t *map = MAP_FAILED;
    if (fd < 0 || ftruncate(fd, (off_t)(size * N_BUFFERS)) < 0)
        goto out;
    map = mmap(NULL, size * N_BUFFERS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        goto out;
    pool = wl_shm_create_pool(c->shm, fd, (int32_t)(size * N_BUFFERS));
    for (int i = 0; i < N_BUFFERS; i++) {
        c->bufs[i].pixels = (uint32_t *)(map + size * (size_t)i);
        c->bufs[i].wl = wl_shm_pool_create_buffer(pool, (int32_t)(size * (size_t)i), c->width, c->height,
                                                  c->width * 4, WL_SHM_FORMAT_XRGB8888);
        wl_buffer_add_listener(c->bufs[i].wl, &buffer_listener, c);
    }
    rc = 0;
out:
    if (pool)
        wl_shm_pool_destroy(pool);
    if (fd >= 0)
        close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    struct client c = {.width = 320, .height = 240, .colour = 0x123456};
    int status = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--width") == 0)
            c.width = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--height") == 0)
            c.height = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--ready") == 0)
            c.ready_path = argv[i + 1];
        else {
            fprintf(stderr, "usage: bh-input-client --width W --height H [--ready FILE]\n");
            return 2;
        }
    }
    if (c.width < 16 || c.height < 16 || c.width > 4096 || c.height > 4096) {
        fprintf(stderr, "bh-input-client: size out of range\n");
        return 2;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    struct wl_display *d = wl_display_connect(NULL);
    if (!d || sfd < 0) {
        fprintf(stderr, "bh-input-client: cannot connect to the compositor\n");
        return 1;
    }
    struct wl_registry *reg = wl_display_get_registry(d);
    wl_registry_add_listener(reg, &registry_listener, &c);
    wl_display_roundtrip(d);
    wl_display_roundtrip(d);
    if (!c.compositor || !c.shm || !c.wm_base || !c.seat || make_buffers(&c) < 0) {
        fprintf(stderr, "bh-input-client: compositor lacks wl_compositor, wl_shm, xdg_wm_base or wl_seat\n");
        goto out;
    }
    c.surface = wl_compositor_create_surface(c.compositor);
    struct xdg_surface *xs = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
    xdg_surface_add_listener(xs, &xdg_surface_listener, &c);
    struct xdg_toplevel *top = xdg_surface_get_toplevel(xs);
    xdg_toplevel_add_listener(top, &toplevel_listener, &c);
    xdg_toplevel_set_title(top, "bh-input-client");
    wl_surface_commit(c.surface);
    while (!c.configured)
        if (wl_display_dispatch(d) < 0)
            goto out;
    draw(&c);
    wl_display_roundtrip(d);
    if (c.ready_path) {
        FILE *f = fopen(c.ready_path, "w");
        if (f)
            fclose(f);
    }
    for (;;) {
        wl_display_flush(d);
        struct pollfd p[2] = {{wl_display_get_fd(d), POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            goto out;
        if (p[1].revents) {
            status = 0;
            goto out;
        }
        if (p[0].revents && wl_display_dispatch(d) < 0)
            goto out;
        if (c.closed) {
            status = 0;
            goto out;
        }
    }
out:
    wl_display_disconnect(d);
    return status;
}
