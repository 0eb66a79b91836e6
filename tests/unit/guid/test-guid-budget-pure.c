/* test-guid-budget-pure.c — the arithmetic of the per-qube budgets
 * (guid/bh-guid-budget.h), without a display: the memory budget's charges
 * and refusals, the token bucket's rate, burst and waits, and damage
 * clipping. The display test guid-budget measures the same rules on real
 * processes.
 *
 * Owns: these tests. Must never: need a display. */
#include <glib.h>

#include "bh-guid-budget.h"

static void test_memory(void)
{
    BhGuidBudget b;
    bh_guid_budget_init(&b, 1280, 1024);
    const guint64 screen = 1280 * 1024;
    g_assert_cmpuint(b.limit_px, ==, screen * BH_GUID_BUDGET_SCREENS);
    /* Areas count only what can be on screen. */
    g_assert_cmpuint(bh_guid_budget_area(&b, 7680, 4320), ==, screen);
    g_assert_cmpuint(bh_guid_budget_area(&b, 100, 4320), ==, 100 * 1024);
    g_assert_cmpuint(bh_guid_budget_area(&b, 0, 50), ==, 0);
    /* Charges up to the limit fit; one pixel more does not, and changes
     * nothing. */
    for (guint i = 0; i < BH_GUID_BUDGET_SCREENS; i++)
        g_assert_true(bh_guid_budget_change(&b, 0, screen));
    g_assert_cmpuint(b.used_px, ==, b.limit_px);
    g_assert_false(bh_guid_budget_change(&b, 0, 1));
    g_assert_false(bh_guid_budget_change(&b, screen, screen + 1));
    g_assert_cmpuint(b.used_px, ==, b.limit_px);
    /* Lowering or keeping a charge always fits, even at the limit. */
    g_assert_true(bh_guid_budget_change(&b, screen, screen));
    g_assert_true(bh_guid_budget_change(&b, screen, 10));
    g_assert_cmpuint(b.used_px, ==, b.limit_px - screen + 10);
    g_assert_true(bh_guid_budget_change(&b, 0, screen - 10));
    g_assert_false(bh_guid_budget_change(&b, 0, 1));
    /* Releasing everything brings it to zero. */
    for (guint i = 0; i < BH_GUID_BUDGET_SCREENS; i++)
        g_assert_true(bh_guid_budget_change(&b, screen, 0));
    g_assert_cmpuint(b.used_px, ==, 0);
    /* Huge charges never wrap around. */
    g_assert_false(bh_guid_budget_change(&b, 0, G_MAXUINT64));
    g_assert_cmpuint(b.used_px, ==, 0);
}

static void test_pace(void)
{
    BhGuidPace p;
    const gint64 frame = 16667, t0 = 1000000;
    const guint64 screen = 1280 * 1024;
    g_unsetenv("BH_GUID_PACE");
    bh_guid_pace_init(&p, 1280, 1024, frame);
    g_assert_false(p.off);
    /* A full bucket: the burst goes at once, then nothing. */
    for (guint i = 0; i < BH_GUID_PACE_BURST; i++)
        g_assert_true(bh_guid_pace_take(&p, screen, t0));
    g_assert_false(bh_guid_pace_take(&p, 1, t0));
    /* One refresh later: one screen's worth (BH_GUID_PACE_SCREENS). */
    g_assert_cmpint(bh_guid_pace_wait_us(&p, screen, t0), >=, frame - 1);
    g_assert_cmpint(bh_guid_pace_wait_us(&p, screen, t0), <=, frame + 1);
    g_assert_false(bh_guid_pace_take(&p, screen, t0 + frame / 2));
    g_assert_true(bh_guid_pace_take(&p, screen / 2, t0 + frame / 2 + 1));
    g_assert_true(bh_guid_pace_take(&p, screen / 2, t0 + frame + 2));
    /* Over a long run a flood gets the rate and no more: take greedily
     * every 100 us for 10 s. */
    guint64 got = 0;
    gint64 t = t0 + 10 * frame;
    bh_guid_pace_init(&p, 1280, 1024, frame);
    for (gint64 end = t + 10 * G_USEC_PER_SEC; t < end; t += 100)
        while (bh_guid_pace_take(&p, 64 * 1024, t))
            got += 64 * 1024;
    double per_frame = (double)got / (10.0 * G_USEC_PER_SEC / frame);
    g_test_message("greedy: %.3f screens per refresh", per_frame / screen);
    g_assert_cmpfloat(per_frame, <=,
                      screen * BH_GUID_PACE_SCREENS * 1.01 + screen * BH_GUID_PACE_BURST / 600.0);
    g_assert_cmpfloat(per_frame, >=, screen * BH_GUID_PACE_SCREENS * 0.99);
    /* A put larger than the bucket still goes, once the bucket is full. */
    bh_guid_pace_init(&p, 100, 100, frame);
    g_assert_true(bh_guid_pace_take(&p, 1000000, t0));
    g_assert_false(bh_guid_pace_take(&p, 1000000, t0 + frame));
    g_assert_cmpint(bh_guid_pace_wait_us(&p, 1000000, t0 + frame), >, 0);
    /* Time going backwards (or standing still) adds nothing. */
    g_assert_false(bh_guid_pace_take(&p, 1, t0));
    /* The measurement switch. */
    g_setenv("BH_GUID_PACE", "off", TRUE);
    bh_guid_pace_init(&p, 1280, 1024, frame);
    g_assert_true(p.off);
    for (int i = 0; i < 1000; i++)
        g_assert_true(bh_guid_pace_take(&p, screen, t0));
    g_unsetenv("BH_GUID_PACE");
}

static void test_damage_px(void)
{
    BhGuidBudget b;
    bh_guid_budget_init(&b, 1280, 1024);
    struct bh_gui_rect r[] = {
        {0, 0, 100, 100},       /* inside */
        {-50, -50, 100, 100},   /* clipped to 50x50 */
        {1200, 1000, 500, 500}, /* clipped by the screen: 80x24 */
        {2000, 0, 10, 10},      /* outside */
        {0, 0, 0, 10},          /* empty */
        {G_MAXINT32, G_MAXINT32, G_MAXUINT32, G_MAXUINT32},
    };
    g_assert_cmpuint(bh_guid_damage_px(&b, 7680, 4320, r, G_N_ELEMENTS(r)), ==, 10000 + 2500 + 80 * 24);
    /* A small buffer clips too. */
    g_assert_cmpuint(bh_guid_damage_px(&b, 60, 60, r, 2), ==, 3600 + 2500);
    /* No buffer: nothing to put. */
    g_assert_cmpuint(bh_guid_damage_px(&b, 0, 0, r, 2), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guid/budget/memory", test_memory);
    g_test_add_func("/guid/budget/pace", test_pace);
    g_test_add_func("/guid/budget/damage-px", test_damage_px);
    return g_test_run();
}
