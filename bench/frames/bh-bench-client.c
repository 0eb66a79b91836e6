/* bh-bench-client.c — the Wayland client of bench/frames: a wl_shm toplevel
 * that redraws a given fraction of its area on every frame callback, as fast
 * as the compositor lets it.
 *
 *   bh-bench-client --width W --height H --damage F [--shape rect|band]
 *                   [--format xrgb|argb] [--log FILE] [--seconds S]
 *                   [--ready FILE] [--fps F]
 *
 * Each frame repaints one rectangle (centred, F of the area with the
 * window's aspect; or a full-width band) with bytes taken from a pool of
 * noise at a per-frame offset (incompressible, like decoded video at worst),
 * damages exactly that rectangle (damage_buffer) and commits. The frame's
 * sequence number is written into the first two pixels of the rectangle:
 *   pixel 0 = 0xff000000 | (seq & 0xffffff)
 *   pixel 1 = 0xff000000 | bh_bench_seq_check(seq)
 * so whoever presents the frame (bulkhead-guid, the bench's dom0) can name it
 * by reading the top-left of the damage, with the check pixel telling a real
 * sequence number from noise.
 *
 * The log (fully buffered, written at exit) has one line per event:
 *   c SEQ COMMIT_NS            commit, CLOCK_MONOTONIC
 *   p SEQ PRESENT_NS           wp_presentation feedback "presented", converted
 *                              from the compositor's clock to CLOCK_MONOTONIC
 *   d SEQ                      feedback "discarded"
 * and a first line "clock ID" with the presentation clock (-1 if none).
 *
 * The first frame callback (the compositor showed the first frame) creates
 * the --ready file and starts the --seconds clock, so a slow start-up does
 * not eat into the time measured.
 *
 * --fps F draws at most F frames a second, on a fixed grid (a video at its
 * own rate): a frame callback that comes early waits for the frame's time.
 *
 * SIGTERM/SIGINT or --seconds end it with exit status 0 after the log is
 * written; a lost connection is exit status 1.
 *
 * Owns: its window and its log. Must never: draw outside the rectangle it
 * damages, or skip a frame callback (the frame rate is what is measured). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <wayland-client.h>

#include "bench-frames-common.h"
#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define N_BUFFERS 3

struct buf {
    struct wl_buffer *wl;
    uint8_t *pixels;
    bool busy;
};

struct feedback {
    struct wp_presentation_feedback *fb;
    uint32_t seq;
    struct client *c;
};

struct client {
    struct wl_display *display;
    struct wl_compositor *compositor;
    struct wl_shm *shm;
    struct xdg_wm_base *wm_base;
    struct wp_presentation *presentation;
    int clock_id;

    struct wl_surface *surface;
    struct xdg_surface *xdg_surface;
    struct xdg_toplevel *toplevel;
    bool configured, closed, failed;
    struct wl_callback *frame;

    int width, height, stride;
    uint32_t format;
    struct bh_bench_rect rect;
    struct buf bufs[N_BUFFERS];
    uint8_t *noise;
    uint32_t seq;
    FILE *log;
    const char *ready_path;
    uint64_t started; /* first frame callback, ns; 0 before */
    uint64_t period;  /* --fps: ns between frames; 0 = every frame callback */
    uint64_t due;     /* --fps: the next frame's time */
    bool waiting;     /* --fps: a frame callback came before `due` */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wm_ping(void *data, struct xdg_wm_base *b, uint32_t serial)
{
    xdg_wm_base_pong(b, serial);
}

static const struct xdg_wm_base_listener wm_listener = {wm_ping};

static void pres_clock(void *data, struct wp_presentation *p, uint32_t clk_id)
{
    struct client *c = data;
    c->clock_id = (int)clk_id;
}

static const struct wp_presentation_listener pres_listener = {pres_clock};

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
    } else if (strcmp(iface, wp_presentation_interface.name) == 0) {
        c->presentation = wl_registry_bind(r, name, &wp_presentation_interface, 1);
        wp_presentation_add_listener(c->presentation, &pres_listener, c);
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

static void top_configure(void *data, struct xdg_toplevel *t, int32_t w, int32_t h, struct wl_array *states)
{
    /* The size is the bench's, whatever the compositor suggests. */
}

static void top_close(void *data, struct xdg_toplevel *t)
{
    struct client *c = data;
    c->closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {top_configure, top_close};

static void buffer_release(void *data, struct wl_buffer *b)
{
    struct buf *buf = data;
    buf->busy = false;
}

static const struct wl_buffer_listener buffer_listener = {buffer_release};

static void fb_sync_output(void *data, struct wp_presentation_feedback *f, struct wl_output *o)
{
}

static void fb_done(struct feedback *f)
{
    wp_presentation_feedback_destroy(f->fb);
    free(f);
}

static void fb_presented(void *data, struct wp_presentation_feedback *fb, uint32_t sec_hi, uint32_t sec_lo,
                         uint32_t nsec, uint32_t refresh, uint32_t seq_hi, uint32_t seq_lo, uint32_t flags)
{
    struct feedback *f = data;
    uint64_t ns = ((((uint64_t)sec_hi << 32) | sec_lo) * 1000000000u) + nsec;
    /* Into CLOCK_MONOTONIC, the clock of the commits and of the bench's
     * window (weston presents in CLOCK_MONOTONIC_RAW): the offset between
     * the two moves by parts per million, nothing over a run. */
    if (f->c->clock_id != CLOCK_MONOTONIC) {
        struct timespec ts;
        clock_gettime((clockid_t)f->c->clock_id, &ts);
        uint64_t other = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        ns = ns + now_ns() - other;
    }
    fprintf(f->c->log, "p %u %llu\n", f->seq, (unsigned long long)ns);
    fb_done(f);
}

static void fb_discarded(void *data, struct wp_presentation_feedback *fb)
{
    struct feedback *f = data;
    fprintf(f->c->log, "d %u\n", f->seq);
    fb_done(f);
}

static const struct wp_presentation_feedback_listener fb_listener = {fb_sync_output, fb_presented,
                                                                     fb_discarded};

static void paint_rect(struct client *c, uint8_t *pixels, const struct bh_bench_rect *r, uint32_t seq)
{
    bh_bench_paint(c->noise, pixels, (size_t)c->stride, r, seq);
}

static int make_buffers(struct client *c)
{
    size_t size = (size_t)c->stride * (size_t)c->height;
    int fd = memfd_create("bh-bench-client", MFD_CLOEXEC);
    int rc = -1;
    uint8_t *map = MAP_FAILED;
    struct wl_shm_pool *pool = NULL;
    if (fd < 0 || ftruncate(fd, (off_t)(size * N_BUFFERS)) < 0)
        goto out;
    map = mmap(NULL, size * N_BUFFERS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        goto out;
    pool = wl_shm_create_pool(c->shm, fd, (int32_t)(size * N_BUFFERS));
    struct bh_bench_rect all = {0, 0, c->width, c->height};
    for (int i = 0; i < N_BUFFERS; i++) {
        struct buf *b = &c->bufs[i];
        b->pixels = map + size * (size_t)i;
        b->wl = wl_shm_pool_create_buffer(pool, (int32_t)(size * (size_t)i), c->width, c->height, c->stride,
                                          c->format);
        wl_buffer_add_listener(b->wl, &buffer_listener, b);
        /* Identical outside the rectangle in every buffer: only the
         * rectangle changes from frame to frame. */
        paint_rect(c, b->pixels, &all, 0);
    }
    rc = 0;
out:
    if (pool)
        wl_shm_pool_destroy(pool);
    if (fd >= 0)
        close(fd);
    return rc;
}

static void frame_done(void *data, struct wl_callback *cb, uint32_t time);
static const struct wl_callback_listener frame_listener = {frame_done};

static void draw(struct client *c, bool full)
{
    struct buf *b = NULL;
    for (int i = 0; i < N_BUFFERS && !b; i++)
        if (!c->bufs[i].busy)
            b = &c->bufs[i];
    if (!b) {
        /* Three buffers and a compositor that releases the previous one on
         * the next commit: cannot happen with a sane compositor. */
        fprintf(stderr, "bh-bench-client: no free buffer\n");
        c->failed = true;
        return;
    }
    uint32_t seq = ++c->seq;
    struct bh_bench_rect all = {0, 0, c->width, c->height};
    const struct bh_bench_rect *r = full ? &all : &c->rect;
    if (full)
        paint_rect(c, b->pixels, &all, 0);
    paint_rect(c, b->pixels, &c->rect, seq);
    b->busy = true;
    wl_surface_attach(c->surface, b->wl, 0, 0);
    wl_surface_damage_buffer(c->surface, r->x, r->y, r->width, r->height);
    c->frame = wl_surface_frame(c->surface);
    wl_callback_add_listener(c->frame, &frame_listener, c);
    if (c->presentation) {
        struct feedback *f = calloc(1, sizeof(*f));
        if (f) {
            f->seq = seq;
            f->c = c;
            f->fb = wp_presentation_feedback(c->presentation, c->surface);
            wp_presentation_feedback_add_listener(f->fb, &fb_listener, f);
        }
    }
    wl_surface_commit(c->surface);
    fprintf(c->log, "c %u %llu\n", seq, (unsigned long long)now_ns());
}

static void frame_done(void *data, struct wl_callback *cb, uint32_t time)
{
    struct client *c = data;
    wl_callback_destroy(cb);
    c->frame = NULL;
    if (!c->started) {
        c->started = now_ns();
        if (c->ready_path) {
            int fd = open(c->ready_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            if (fd >= 0)
                close(fd);
        }
    }
    /* --fps: a frame callback before the frame is due waits for it (a video
     * at its own rate), on a fixed grid so that late frames catch up. */
    if (c->period) {
        uint64_t now = now_ns();
        if (!c->due)
            c->due = now;
        if (now < c->due) {
            c->waiting = true;
            return;
        }
        c->due += c->period;
        if (c->due < now)
            c->due = now + c->period;
    }
    draw(c, false);
}

static void usage(void)
{
    fprintf(stderr, "usage: bh-bench-client --width W --height H --damage F [--shape rect|band]\n"
                    "                       [--format xrgb|argb] [--log FILE] [--seconds S]\n"
                    "                       [--ready FILE] [--fps F]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct client c;
    memset(&c, 0, sizeof(c));
    c.clock_id = -1;
    c.format = WL_SHM_FORMAT_XRGB8888;
    double damage = 1.0, seconds = 0;
    const char *log_path = "/dev/null", *shape = "rect";
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (strcmp(a, "--width") == 0)
            c.width = atoi(v);
        else if (strcmp(a, "--height") == 0)
            c.height = atoi(v);
        else if (strcmp(a, "--damage") == 0)
            damage = atof(v);
        else if (strcmp(a, "--shape") == 0)
            shape = v;
        else if (strcmp(a, "--format") == 0)
            c.format = strcmp(v, "argb") == 0 ? WL_SHM_FORMAT_ARGB8888 : WL_SHM_FORMAT_XRGB8888;
        else if (strcmp(a, "--log") == 0)
            log_path = v;
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(v);
        else if (strcmp(a, "--ready") == 0)
            c.ready_path = v;
        else if (strcmp(a, "--fps") == 0 && atof(v) > 0 && atof(v) <= 1000)
            c.period = (uint64_t)(1e9 / atof(v));
        else
            usage();
        i++;
    }
    if (c.width < 2 || c.height < 1 || c.width > 8192 || c.height > 8192 || !(damage > 0 && damage <= 1))
        usage();
    if (bh_bench_damage_rect(c.width, c.height, damage, strcmp(shape, "band") == 0, &c.rect) < 0)
        usage();
    c.stride = c.width * 4;

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

    c.log = fopen(log_path, "w");
    c.noise = bh_bench_noise();
    if (!c.log || !c.noise || sfd < 0) {
        fprintf(stderr, "bh-bench-client: cannot set up: %s\n", strerror(errno));
        goto out;
    }
    setvbuf(c.log, NULL, _IOFBF, 1 << 20);
    c.display = wl_display_connect(NULL);
    if (!c.display) {
        fprintf(stderr, "bh-bench-client: no Wayland display: %s\n", strerror(errno));
        goto out;
    }
    struct wl_registry *reg = wl_display_get_registry(c.display);
    wl_registry_add_listener(reg, &registry_listener, &c);
    wl_display_roundtrip(c.display);
    wl_display_roundtrip(c.display); /* the presentation clock event */
    if (!c.compositor || !c.shm || !c.wm_base) {
        fprintf(stderr, "bh-bench-client: compositor lacks wl_compositor, wl_shm or xdg_wm_base\n");
        goto out;
    }
    fprintf(c.log, "clock %d\n", c.presentation ? c.clock_id : -1);
    if (make_buffers(&c) < 0) {
        fprintf(stderr, "bh-bench-client: cannot make buffers: %s\n", strerror(errno));
        goto out;
    }
    c.surface = wl_compositor_create_surface(c.compositor);
    c.xdg_surface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
    xdg_surface_add_listener(c.xdg_surface, &xdg_surface_listener, &c);
    c.toplevel = xdg_surface_get_toplevel(c.xdg_surface);
    xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, &c);
    xdg_toplevel_set_title(c.toplevel, "bh-bench");
    xdg_toplevel_set_app_id(c.toplevel, "bh-bench-client");
    wl_surface_commit(c.surface);
    while (!c.configured && wl_display_dispatch(c.display) >= 0)
        ;
    if (!c.configured)
        goto out;
    draw(&c, true);

    for (;;) {
        uint64_t end = seconds > 0 && c.started ? c.started + (uint64_t)(seconds * 1e9) : 0;
        if (c.closed || c.failed)
            break;
        while (wl_display_prepare_read(c.display) != 0)
            wl_display_dispatch_pending(c.display);
        if (wl_display_flush(c.display) < 0 && errno != EAGAIN) {
            wl_display_cancel_read(c.display);
            fprintf(stderr, "bh-bench-client: connection lost: %s\n", strerror(errno));
            goto out;
        }
        int timeout = -1;
        if (end) {
            uint64_t now = now_ns();
            if (now >= end) {
                wl_display_cancel_read(c.display);
                break;
            }
            timeout = (int)((end - now) / 1000000u) + 1;
        }
        if (c.waiting) {
            uint64_t now = now_ns();
            int wait = c.due > now ? (int)((c.due - now + 999999u) / 1000000u) : 0;
            if (timeout < 0 || wait < timeout)
                timeout = wait;
        }
        struct pollfd p[2] = {{wl_display_get_fd(c.display), POLLIN, 0}, {sfd, POLLIN, 0}};
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR) {
            wl_display_cancel_read(c.display);
            goto out;
        }
        if (n > 0 && (p[0].revents & POLLIN)) {
            if (wl_display_read_events(c.display) < 0) {
                fprintf(stderr, "bh-bench-client: connection lost: %s\n", strerror(errno));
                goto out;
            }
        } else {
            wl_display_cancel_read(c.display);
        }
        if (wl_display_dispatch_pending(c.display) < 0) {
            fprintf(stderr, "bh-bench-client: connection lost: %s\n", strerror(errno));
            goto out;
        }
        if (p[1].revents & POLLIN)
            break;
        if (c.waiting && now_ns() >= c.due) {
            c.waiting = false;
            c.due += c.period;
            draw(&c, false);
        }
        if (p[0].revents & (POLLHUP | POLLERR)) {
            fprintf(stderr, "bh-bench-client: compositor went away\n");
            goto out;
        }
    }
    rc = c.failed ? 1 : 0;
out:
    if (c.log && fclose(c.log) != 0)
        rc = 1;
    if (c.display)
        wl_display_disconnect(c.display);
    free(c.noise);
    if (sfd >= 0)
        close(sfd);
    return rc;
}
