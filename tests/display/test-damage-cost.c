/* test-damage-cost.c — what a frame costs guid at 100 % and at 5 % damage,
 * on both of guid's paths (method in docs/guid.md, "Drawing cost").
 *
 * For each phase a fresh guid shows a 1200x900 window of the bench agent,
 * which sends N frames (each after guid released the previous one): full
 * damage, or one rectangle of 5 % of the area at a moving place. Measured in
 * guid: CPU time (user + system, /proc) over the N frames, and from its own
 * counters the bytes copied out of the shared buffer, the tiles replaced,
 * and the frames and pixels put straight to the X server.
 *
 * Proves, through GTK (BH_GUID_XSHM=0): a 5 %-damaged frame copies at most
 * 15 % of the bytes of a full one (deterministic: tiles touched) and costs
 * well under half its CPU time. Straight to X (the default): every frame
 * is put, exactly its damaged pixels, with no tile copied after the first
 * paint, and a full frame costs guid under half of what it costs through
 * GTK. */
#include <stdio.h>
#include <string.h>

#include "bh-display.h"

typedef struct {
    double cpu_ms_per_frame;
    double wall_ms_per_frame;
    guint64 bytes, tiles, updates, puts, px;
} Phase;

static void run_phase(const BhPrograms *prog, Display *dpy, int domid, const char *phase, gboolean direct,
                      int frames, Phase *out)
{
    g_setenv("BH_GUID_XSHM", direct ? "auto" : "off", TRUE);
    g_autofree char *nframes = g_strdup_printf("%d", frames);
    const char *args[] = {"--width", "1200", "--height", "900",   "--frames", nframes,
                          "--phase", phase,  "--title",  "bench", NULL};
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
    g_autofree char *screenshot = g_strdup_printf("damage-cost-%s-%s", phase, direct ? "x" : "gtk");
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
    guint64 updates = 0, rects = 0, tiles = 0, bytes = 0, puts = 0, px = 0;
    g_assert_cmpint(sscanf(d,
                           "damage: %" G_GUINT64_FORMAT " updates, %" G_GUINT64_FORMAT
                           " rectangles, %" G_GUINT64_FORMAT " tiles replaced, %" G_GUINT64_FORMAT
                           " bytes copied; %" G_GUINT64_FORMAT " put straight to X, %" G_GUINT64_FORMAT
                           " pixels,",
                           &updates, &rects, &tiles, &bytes, &puts, &px),
                    ==, 6);
    /* Straight to X the tiles are copied only for GTK's own paints. */
    out->puts = puts;
    out->px = px;
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

static void report(const char *path, int frames, const Phase *full, const Phase *five)
{
    g_test_message("drawing cost per frame in guid, %s, 1200x900 window, %d frames each:", path, frames);
    g_test_message("  full damage: %.2f ms CPU, %" G_GUINT64_FORMAT " bytes copied, %.1f tiles, "
                   "%" G_GUINT64_FORMAT " px put, %.2f ms wall",
                   full->cpu_ms_per_frame, full->bytes / frames, (double)full->tiles / frames,
                   full->px / frames, full->wall_ms_per_frame);
    g_test_message("  5%% damage:  %.2f ms CPU, %" G_GUINT64_FORMAT " bytes copied, %.1f tiles, "
                   "%" G_GUINT64_FORMAT " px put, %.2f ms wall",
                   five->cpu_ms_per_frame, five->bytes / frames, (double)five->tiles / frames,
                   five->px / frames, five->wall_ms_per_frame);
    g_test_message("  ratio 5%%/full: CPU %.1f %%", 100.0 * five->cpu_ms_per_frame / full->cpu_ms_per_frame);
}

static void test_damage_cost(void)
{
    const int frames = 120;
    Phase full, five, xfull, xfive;
    run_phase(&env.prog, env.dpy, 300, "full", FALSE, frames, &full);
    run_phase(&env.prog, env.dpy, 301, "five", FALSE, frames, &five);
    run_phase(&env.prog, env.dpy, 302, "full", TRUE, frames, &xfull);
    run_phase(&env.prog, env.dpy, 303, "five", TRUE, frames, &xfive);
    report("through GTK", frames, &full, &five);
    report("straight to X", frames, &xfull, &xfive);
    g_assert_cmpuint(full.updates, ==, frames);
    g_assert_cmpuint(five.updates, ==, frames);
    g_assert_cmpuint(xfull.updates, ==, frames);
    g_assert_cmpuint(xfive.updates, ==, frames);

    /* Through GTK: nothing goes straight to X; a 268x201 rectangle touches
     * at most 4x3 of the 10x8 tiles. */
    g_assert_cmpuint(full.puts + five.puts, ==, 0);
    g_assert_cmpuint(five.bytes * 100, <=, full.bytes * 15);
    g_assert_cmpfloat(five.cpu_ms_per_frame * 2, <, full.cpu_ms_per_frame);

    /* Straight to X: every frame, exactly its pixels (the first frame is
     * full and may come before the window is on screen, then 268x201 at
     * 5 %); after GTK's first paint no tile is copied (at most one more
     * window's worth, if GTK draws the view again, e.g. on an expose). */
    const guint64 win = 1200ull * 900, rect = 268ull * 201;
    g_assert_cmpuint(xfull.puts, >=, (guint64)frames);
    g_assert_cmpuint(xfull.puts, <=, (guint64)frames + 1);
    g_assert_cmpuint(xfull.px, ==, xfull.puts * win);
    g_assert_cmpuint(xfive.puts, >=, (guint64)frames);
    g_assert_cmpuint(xfive.puts, <=, (guint64)frames + 1);
    g_assert_cmpuint(xfive.px, ==, frames * rect + (xfive.puts - frames) * win);
    g_assert_cmpuint(xfull.bytes, <=, win * 4);
    g_assert_cmpuint(xfive.bytes, <=, win * 4);
    g_assert_cmpfloat(xfull.cpu_ms_per_frame * 2, <, full.cpu_ms_per_frame);
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
