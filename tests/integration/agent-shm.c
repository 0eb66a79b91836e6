/* agent-shm.c — bulkhead-gui-agent with Debian's weston-simple-shm, seen from
 * a test-only dom0 through the real decoder and the real window buffers.
 *
 * Proves: the window appears with its title; every frame's pixels in the
 * shared buffer are exactly what simple-shm draws (bh-test-shm.h: its
 * pattern is a pure function of the frame time, recovered from one pixel
 * and then checked on all 62 500); one DAMAGE arrives per frame with increasing serials and the
 * client's damaged rectangle; frames are paced by BUFFER_RELEASE (holding the
 * release stops the client: no DAMAGE, no client CPU). */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "bh-test-agent.h"
#include "bh-test-shm.h"

#define SHM_SIZE BH_TSHM_SIZE
#define PAD      BH_TSHM_PAD

static const char *const shm_argv[] = {"weston-simple-shm", NULL};

static bool shm_shown(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_shown(d, "simple-shm") != NULL;
}

struct frame_wait {
    struct bh_tdom0_win *w;
    unsigned n_damage;
};

static bool next_damage(struct bh_tdom0 *d, void *ctx)
{
    struct frame_wait *f = ctx;
    return f->w->n_damage > f->n_damage && f->w->unreleased;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_shm_frames(void)
{
    struct bh_tagent t;
    bh_tagent_start(&t, true);
    t.dom0->auto_release = false;
    pid_t shm = bh_tagent_client(&t, shm_argv, NULL);

    if (!bh_tagent_wait(&t, shm_shown, NULL)) {
        bh_tagent_dump(t.agent_log);
        bh_tagent_dump(t.child_logs[0]);
        g_error("no simple-shm window: %s", t.dom0->error);
    }
    struct bh_tdom0_win *w = bh_tdom0_find_shown(t.dom0, "simple-shm");
    g_assert_cmpstr(w->title, ==, "simple-shm");
    g_assert_cmpuint(w->buf_w, ==, SHM_SIZE);
    g_assert_cmpuint(w->buf_h, ==, SHM_SIZE);
    g_assert_cmpuint(w->width, ==, SHM_SIZE);
    g_assert_cmpuint(w->format, ==, DRM_FORMAT_ARGB8888);
    g_assert_cmpuint(w->stride, >=, SHM_SIZE * 4);

    /* Frames: each DAMAGE is checked pixel by pixel before it is released. */
    const unsigned frames = 40;
    uint32_t prev_serial = w->last_serial, prev_t16 = 0;
    unsigned checked = 0, distinct_times = 0;
    double start = mono_s();
    for (unsigned i = 0; i < frames; i++) {
        uint32_t t16;
        if (!bh_tshm_check_frame(w, &t16)) {
            bh_tshm_dump(w);
            g_error("frame %u (serial %u): buffer does not hold simple-shm's pattern", i, w->last_serial);
        }
        checked++;
        if (i > 0 && t16 != prev_t16)
            distinct_times++;
        prev_t16 = t16;
        if (i > 0) {
            /* After the first full frame simple-shm damages its inner square. */
            g_assert_cmpuint(w->last_n_rects, ==, 1);
            g_assert_cmpint(w->last_rects[0].x, ==, PAD);
            g_assert_cmpint(w->last_rects[0].y, ==, PAD);
            g_assert_cmpuint(w->last_rects[0].width, ==, SHM_SIZE - 2 * PAD);
            g_assert_cmpuint(w->last_rects[0].height, ==, SHM_SIZE - 2 * PAD);
            g_assert_cmpuint(w->last_serial, ==, prev_serial + 1);
        }
        prev_serial = w->last_serial;
        struct frame_wait f = {w, w->n_damage};
        /* Present at ~60 Hz like a screen would: each frame gets a new time. */
        g_usleep(16 * 1000);
        bh_tdom0_release(t.dom0, w);
        if (!bh_tagent_wait(&t, next_damage, &f))
            g_error("no DAMAGE after releasing serial %u: %s", prev_serial, t.dom0->error);
    }
    double elapsed = mono_s() - start;
    g_test_message("%u frames checked pixel-exact in %.2f s: %.1f frames/s (dom0 presenting at ~60 Hz)",
                   checked, elapsed, frames / elapsed);
    /* The pattern moves with the frame time: frames really are new. */
    g_assert_cmpuint(distinct_times, >, frames / 2);

    /* Throughput when dom0 releases at once: the agent's own ceiling. */
    const unsigned burst = 300;
    start = mono_s();
    for (unsigned i = 0; i < burst; i++) {
        struct frame_wait f = {w, w->n_damage};
        bh_tdom0_release(t.dom0, w);
        if (!bh_tagent_wait(&t, next_damage, &f))
            g_error("no DAMAGE after releasing serial %u: %s", w->last_serial, t.dom0->error);
    }
    elapsed = mono_s() - start;
    g_test_message("%u frames released at once: %.0f frames/s, 250x250", burst, burst / elapsed);
    g_assert_true(bh_tshm_check_frame(w, &prev_t16));

    /* Pacing: while dom0 holds the release, nothing more is drawn. */
    unsigned held_at = w->n_damage;
    long cpu0 = bh_tproc_cpu_ticks(shm);
    for (int i = 0; i < 10; i++)
        bh_tdom0_pump(t.dom0, 100);
    long cpu1 = bh_tproc_cpu_ticks(shm);
    g_assert_cmpuint(w->n_damage, ==, held_at);
    g_test_message("simple-shm CPU while dom0 held the release for 1 s: %ld ticks", cpu1 - cpu0);
    g_assert_cmpint(cpu1 - cpu0, <=, 5);
    struct frame_wait f = {w, w->n_damage};
    bh_tdom0_release(t.dom0, w);
    g_assert_true(bh_tagent_wait(&t, next_damage, &f));
    g_assert_cmpuint(w->n_damage, ==, held_at + 1);

    g_assert_false(t.dom0->violation);
    int st = bh_tagent_stop(&t);
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gui-agent/shm/frames", test_shm_frames);
    return g_test_run();
}
