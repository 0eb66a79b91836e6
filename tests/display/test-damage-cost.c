/* test-damage-cost.c — what a frame costs guid at 100 % and at 5 % damage
 * (method in docs/guid.md, "Drawing cost").
 *
 * For each phase a fresh guid shows a 1200x900 window of the bench agent,
 * which sends N frames (each after guid released the previous one): full
 * damage, or one rectangle of 5 % of the area at a moving place. Measured in
 * guid: CPU time (user + system, /proc) over the N frames, and from its own
 * counters the bytes copied out of the shared buffer and the tiles replaced.
 *
 * Proves: a 5 %-damaged frame copies at most 15 % of the bytes of a full
 * one (deterministic: tiles touched) and costs well under half its CPU time. */
#include <stdio.h>
#include <string.h>

#include "bh-display.h"

typedef struct {
    double cpu_ms_per_frame;
    double wall_ms_per_frame;
    guint64 bytes, tiles, updates;
} Phase;

static void run_phase(const BhPrograms *prog, Display *dpy, int domid, const char *phase,
                      int frames, Phase *out)
{
    g_autofree char *nframes = g_strdup_printf("%d", frames);
    const char *args[] = {"--width", "1200", "--height", "900", "--frames", nframes,
                          "--phase", phase, "--title", "bench", NULL};
    g_autoptr(BhProc) agent = bh_start_agent(prog, domid, "bench", args);
    g_autoptr(BhProc) guid = bh_start_guid(prog, "bench", "blue", domid, NULL);
    BhRect content;
    g_assert_true(bh_wait_pattern(dpy, 1200, 900, 1, FALSE, &content, 60000));

    g_autofree char *start = g_strdup_printf("BENCH start %s", phase);
    g_autofree char *done = g_strdup_printf("BENCH done %s", phase);
    g_assert_true(bh_proc_wait_output(agent, FALSE, start, 60000));
    double cpu0 = bh_proc_cpu_seconds(guid);
    g_assert_true(bh_proc_wait_output(agent, FALSE, done, 300000));
    double cpu1 = bh_proc_cpu_seconds(guid);
    g_autofree char *screenshot = g_strdup_printf("damage-cost-%s", phase);
    g_autoptr(BhShot) shot = bh_shot_take(dpy);
    g_free(bh_shot_save(shot, screenshot));

    g_assert_true(bh_proc_wait(agent, 60000));
    g_assert_true(bh_proc_wait(guid, 60000));
    g_autofree char *said = bh_proc_stdout(agent), *log = bh_proc_stderr(guid);
    const char *w = strstr(said, done);
    g_assert_nonnull(w);
    out->wall_ms_per_frame = g_ascii_strtod(w + strlen(done), NULL);
    const char *d = strstr(log, "damage: ");
    g_assert_nonnull(d);
    guint64 updates = 0, rects = 0, tiles = 0, bytes = 0;
    g_assert_cmpint(sscanf(d, "damage: %" G_GUINT64_FORMAT " updates, %" G_GUINT64_FORMAT
                              " rectangles, %" G_GUINT64_FORMAT " tiles replaced, %"
                              G_GUINT64_FORMAT " bytes copied",
                           &updates, &rects, &tiles, &bytes),
                    ==, 4);
    /* Less the first full frame that put the window on screen. */
    const guint64 first_bytes = 1200ull * 900ull * 4ull, first_tiles = 10ull * 8ull;
    out->updates = updates - 1;
    out->bytes = bytes - first_bytes;
    out->tiles = tiles - first_tiles;
    out->cpu_ms_per_frame = (cpu1 - cpu0) * 1000.0 / frames;
}

typedef struct {
    BhPrograms prog;
    Display *dpy;
} Env;
static Env env; /* set up in main */

static void test_damage_cost(void)
{
    const int frames = 120;
    Phase full, five;
    run_phase(&env.prog, env.dpy, 300, "full", frames, &full);
    run_phase(&env.prog, env.dpy, 301, "five", frames, &five);
    g_assert_cmpuint(full.updates, ==, frames);
    g_assert_cmpuint(five.updates, ==, frames);

    g_test_message("drawing cost per frame in guid, 1200x900 window, %d frames each:", frames);
    g_test_message("  full damage: %.2f ms CPU, %" G_GUINT64_FORMAT " bytes copied, %.1f tiles, "
                   "%.2f ms wall",
                   full.cpu_ms_per_frame, full.bytes / frames, (double)full.tiles / frames,
                   full.wall_ms_per_frame);
    g_test_message("  5%% damage:  %.2f ms CPU, %" G_GUINT64_FORMAT " bytes copied, %.1f tiles, "
                   "%.2f ms wall",
                   five.cpu_ms_per_frame, five.bytes / frames, (double)five.tiles / frames,
                   five.wall_ms_per_frame);
    g_test_message("  ratio 5%%/full: CPU %.1f %%, bytes %.1f %%",
                   100.0 * five.cpu_ms_per_frame / full.cpu_ms_per_frame,
                   100.0 * (double)five.bytes / (double)full.bytes);

    /* A 268x201 rectangle touches at most 4x3 of the 10x8 tiles. */
    g_assert_cmpuint(five.bytes * 100, <=, full.bytes * 15);
    g_assert_cmpfloat(five.cpu_ms_per_frame * 2, <, full.cpu_ms_per_frame);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bh_programs_parse(&env.prog, argc, argv);
    env.dpy = bh_display_open();
    g_test_add_func("/guid/damage-cost", test_damage_cost);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    return rc;
}
