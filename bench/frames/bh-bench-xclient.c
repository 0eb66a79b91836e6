/* bh-bench-xclient.c — the X11 client of bench/frames' agent-x11 path: the
 * same frames as bh-bench-client, drawn by an X application into a plain X
 * window (MIT-SHM PutImage), so the cost of X11 through the qube's Xwayland
 * can be set against the same content from a Wayland client.
 *
 *   bh-bench-xclient --width W --height H --damage F [--fps F] [--log FILE]
 *                    [--seconds S] [--ready FILE]
 *
 * Each frame repaints the same rectangle as bh-bench-client (centred, F of
 * the area, the window's aspect) from the same noise pool at the same
 * per-frame offsets, with the sequence number in its first two pixels
 * (bench-frames-common.h), puts exactly that rectangle and waits for the
 * server to have handled it (a round trip: the shared segment is then free
 * to draw the next frame in). An X client has no frame callback: frames go
 * out on a fixed grid of --fps a second (default 60, a video at its rate),
 * as a timer-driven X application draws.
 *
 * The log (written at exit) has "c SEQ PUT_NS" (CLOCK_MONOTONIC, when the
 * PutImage was sent) per frame. The first frame after the window is mapped
 * creates --ready and starts the --seconds clock. Exit status 0 at the end,
 * 1 if the X server went away.
 *
 * Owns: its window, its shared segment and its log. Must never: draw outside
 * the rectangle it puts. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include <xcb/shm.h>
#include <xcb/xcb.h>

#include "bench-frames-common.h"

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static bool round_trip(xcb_connection_t *c)
{
    xcb_get_input_focus_reply_t *r = xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL);
    free(r);
    return r != NULL;
}

int main(int argc, char **argv)
{
    int width = 0, height = 0;
    double damage = 0, fps = 60, seconds = 5;
    const char *log_path = NULL, *ready = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--width") == 0)
            width = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--height") == 0)
            height = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--damage") == 0)
            damage = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--fps") == 0)
            fps = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--log") == 0)
            log_path = argv[i + 1];
        else if (strcmp(argv[i], "--ready") == 0)
            ready = argv[i + 1];
    }
    struct bh_bench_rect rect;
    if (!(fps > 0) || bh_bench_damage_rect(width, height, damage, false, &rect) < 0) {
        fprintf(stderr, "usage: bh-bench-xclient --width W --height H --damage F [--fps F] [--log FILE] "
                        "[--seconds S] [--ready FILE]\n");
        return 2;
    }
    xcb_connection_t *c = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(c)) {
        fprintf(stderr, "bh-bench-xclient: cannot connect to X\n");
        return 1;
    }
    xcb_screen_t *s = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
    xcb_shm_query_version_reply_t *v = xcb_shm_query_version_reply(c, xcb_shm_query_version(c), NULL);
    if (!v) {
        fprintf(stderr, "bh-bench-xclient: no MIT-SHM\n");
        return 1;
    }
    free(v);
    size_t stride = (size_t)width * 4, size = stride * (size_t)height;
    int shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    uint8_t *pixels = shmid < 0 ? NULL : shmat(shmid, NULL, 0);
    if (shmid < 0 || pixels == (void *)-1) {
        fprintf(stderr, "bh-bench-xclient: shm: %s\n", strerror(errno));
        return 1;
    }
    xcb_shm_seg_t seg = xcb_generate_id(c);
    xcb_shm_attach(c, seg, (uint32_t)shmid, 0);
    memset(pixels, 0x40, size);
    uint8_t *noise = bh_bench_noise();
    FILE *log = log_path ? fopen(log_path, "w") : NULL;
    if (!noise || (log_path && !log)) {
        fprintf(stderr, "bh-bench-xclient: out of memory or no log\n");
        return 1;
    }

    xcb_window_t w = xcb_generate_id(c);
    uint32_t values[] = {s->black_pixel, XCB_EVENT_MASK_STRUCTURE_NOTIFY | XCB_EVENT_MASK_EXPOSURE};
    xcb_create_window(c, XCB_COPY_FROM_PARENT, w, s->root, 0, 0, (uint16_t)width, (uint16_t)height, 0,
                      XCB_WINDOW_CLASS_INPUT_OUTPUT, s->root_visual, XCB_CW_BACK_PIXEL | XCB_CW_EVENT_MASK,
                      values);
    xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8, 8, "bh-bench");
    xcb_gcontext_t gc = xcb_generate_id(c);
    xcb_create_gc(c, gc, w, 0, NULL);
    xcb_map_window(c, w);
    xcb_flush(c);
    /* Mapped (the window manager, the agent's XWM, let it). */
    xcb_generic_event_t *ev;
    bool mapped = false;
    while (!mapped && (ev = xcb_wait_for_event(c))) {
        mapped = (ev->response_type & 0x7f) == XCB_MAP_NOTIFY;
        free(ev);
    }
    if (!mapped) {
        fprintf(stderr, "bh-bench-xclient: the X server went away\n");
        return 1;
    }
    /* The whole window once, then only the rectangle. */
    xcb_shm_put_image(c, w, gc, (uint16_t)width, (uint16_t)height, 0, 0, (uint16_t)width, (uint16_t)height, 0,
                      0, s->root_depth, XCB_IMAGE_FORMAT_Z_PIXMAP, 0, seg, 0);
    if (!round_trip(c))
        return 1;
    /* Attached on both sides: the segment goes when both let go of it. */
    shmctl(shmid, IPC_RMID, NULL);

    uint64_t period = (uint64_t)(1e9 / fps), next = now_ns(), end = 0;
    int status = 0;
    for (uint32_t seq = 0;; seq++) {
        uint64_t t = now_ns();
        if (t < next) {
            struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        next += period;
        bh_bench_paint(noise, pixels, stride, &rect, seq);
        uint64_t put = now_ns();
        xcb_shm_put_image(c, w, gc, (uint16_t)width, (uint16_t)height, (uint16_t)rect.x, (uint16_t)rect.y,
                          (uint16_t)rect.width, (uint16_t)rect.height, (int16_t)rect.x, (int16_t)rect.y,
                          s->root_depth, XCB_IMAGE_FORMAT_Z_PIXMAP, 0, seg, 0);
        if (log)
            fprintf(log, "c %u %llu\n", seq, (unsigned long long)put);
        if (!round_trip(c)) {
            status = 1;
            break;
        }
        while ((ev = xcb_poll_for_event(c)))
            free(ev);
        if (seq == 0) {
            end = now_ns() + (uint64_t)(seconds * 1e9);
            if (ready) {
                FILE *f = fopen(ready, "w");
                if (f)
                    fclose(f);
            }
        } else if (now_ns() >= end) {
            break;
        }
    }
    if (log)
        fclose(log);
    xcb_shm_detach(c, seg);
    xcb_disconnect(c);
    shmdt(pixels);
    free(noise);
    return status;
}
