/* bh-test-badclient.c — a Wayland client that misbehaves on purpose, one way
 * per run, for the agent's robustness tests:
 *   bh-test-badclient MODE
 * Modes that break a protocol rule exit 0 only if the compositor answered
 * with the expected protocol error (interface and code printed); the other
 * modes (many-windows, title-spam) exit 0 when they got through.
 *
 * Owns: nothing outside tests. */
#include <errno.h>
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
    int fd = memfd_create("badclient", MFD_CLOEXEC);
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

int main(int argc, char **argv)
{
    struct app a = {0};
    if (argc != 2) {
        fprintf(stderr, "usage: bh-test-badclient MODE\n");
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
    if (strcmp(mode, "many-windows") == 0) {
        /* More toplevels than BH_MAX_WINDOWS: the extra ones are not shown. */
        for (int i = 0; i < 260; i++) {
            char title[32];
            snprintf(title, sizeof(title), "many %d", i);
            toplevel_map(&a, title, 4, 4);
        }
        if (wl_display_roundtrip(a.display) < 0)
            return 1;
        printf("mapped 260\n");
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
