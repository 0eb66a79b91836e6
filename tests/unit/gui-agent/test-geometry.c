/* test-geometry.c — the agent's pure geometry: boxes, bounded damage lists,
 * replayed wl_regions (gui-agent/region.c) and popup placement
 * (bh_positioner_place in gui-agent/xdg-positioner.c). Client values are hostile, so
 * the edges matter: INT32 extremes, overflowing lists, negative sizes. */
#include <glib.h>
#include <stdint.h>

#include "internal.h"
#include "xdg-shell-server-protocol.h"

static void test_box(void)
{
    struct bh_box a = bh_box_make(0, 0, 10, 10), b = bh_box_make(5, 5, 10, 10);
    struct bh_box i = bh_box_intersect(&a, &b);
    g_assert_cmpint(i.x1, ==, 5);
    g_assert_cmpint(i.y2, ==, 10);
    struct bh_box far = bh_box_make(100, 100, 1, 1);
    i = bh_box_intersect(&a, &far);
    g_assert_true(bh_box_empty(&i));
    /* Negative sizes are empty, and sizes near INT32_MAX do not wrap. */
    struct bh_box neg = bh_box_make(3, 3, -5, 7);
    g_assert_true(bh_box_empty(&neg));
    struct bh_box huge = bh_box_make(INT32_MAX - 1, 0, INT32_MAX, 1);
    g_assert_cmpint(huge.x2, ==, INT32_MAX);
    g_assert_false(bh_box_empty(&huge));
    g_assert_true(bh_box_contains_point(&a, 0, 0));
    g_assert_false(bh_box_contains_point(&a, 10, 0));
}

static void test_rects(void)
{
    struct bh_rects r;
    bh_rects_clear(&r);
    g_assert_true(bh_rects_empty(&r));
    bh_rects_add(&r, bh_box_make(0, 0, 0, 5)); /* empty: ignored */
    g_assert_true(bh_rects_empty(&r));
    bh_rects_add(&r, bh_box_make(10, 10, 5, 5));
    bh_rects_add(&r, bh_box_make(11, 11, 2, 2)); /* covered: ignored */
    g_assert_cmpuint(r.n, ==, 1);
    bh_rects_add(&r, bh_box_make(0, 0, 100, 100)); /* swallows the first */
    g_assert_cmpuint(r.n, ==, 1);
    g_assert_cmpint(r.r[0].x2, ==, 100);

    /* Overflow degrades to the bounding box, never to lost damage. */
    bh_rects_clear(&r);
    for (int i = 0; i < BH_RECTS_MAX + 5; i++)
        bh_rects_add(&r, bh_box_make(i * 10, 0, 1, 1));
    struct bh_box e = bh_rects_extents(&r);
    g_assert_cmpuint(r.n, <=, BH_RECTS_MAX);
    g_assert_cmpint(e.x1, ==, 0);
    g_assert_cmpint(e.x2, ==, (BH_RECTS_MAX + 4) * 10 + 1);
    for (int i = 0; i < BH_RECTS_MAX + 5; i++) {
        bool covered = false;
        for (uint32_t k = 0; k < r.n; k++)
            covered |= bh_box_contains_point(&r.r[k], i * 10, 0);
        g_assert_true(covered);
    }

    /* Clip to a buffer, translate without wrapping. */
    bh_rects_clear(&r);
    bh_rects_add(&r, bh_box_make(-50, -50, 100, 100));
    bh_rects_add(&r, bh_box_make(500, 500, 10, 10));
    struct bh_box buf = bh_box_make(0, 0, 250, 250);
    bh_rects_clip(&r, &buf);
    g_assert_cmpuint(r.n, ==, 1);
    g_assert_cmpint(r.r[0].x1, ==, 0);
    g_assert_cmpint(r.r[0].x2, ==, 50);
    bh_rects_translate(&r, INT32_MAX, INT32_MIN);
    g_assert_cmpint(r.r[0].x2, ==, INT32_MAX);
    g_assert_cmpint(r.r[0].y1, ==, INT32_MIN);
}

static void test_region(void)
{
    static struct bh_region g;
    bh_region_init(&g, true);
    g_assert_true(bh_region_contains(&g, -1000, 1000));
    bh_region_init(&g, false);
    g_assert_false(bh_region_contains(&g, 0, 0));
    g_assert_true(bh_region_op(&g, bh_box_make(0, 0, 100, 100), true));
    g_assert_true(bh_region_op(&g, bh_box_make(10, 10, 10, 10), false));
    g_assert_true(bh_region_op(&g, bh_box_make(12, 12, 2, 2), true));
    g_assert_true(bh_region_contains(&g, 5, 5));
    g_assert_false(bh_region_contains(&g, 15, 15));
    g_assert_true(bh_region_contains(&g, 13, 13));
    g_assert_false(bh_region_contains(&g, 100, 5));
    /* Bounded: a flood is refused, not stored. */
    bh_region_init(&g, false);
    for (int i = 0; i < BH_REGION_MAX_OPS; i++)
        g_assert_true(bh_region_op(&g, bh_box_make(i, 0, 1, 1), true));
    g_assert_false(bh_region_op(&g, bh_box_make(0, 5, 1, 1), true));
    g_assert_cmpuint(g.n, ==, BH_REGION_MAX_OPS);
}

static void place(uint32_t anchor, uint32_t gravity, int32_t *x, int32_t *y)
{
    struct bh_positioner p = {
        .width = 40,
        .height = 30,
        .anchor_rect = bh_box_make(10, 10, 20, 20),
        .anchor = anchor,
        .gravity = gravity,
        .has_size = true,
        .has_anchor_rect = true,
    };
    bh_positioner_place(&p, x, y);
}

static void test_positioner(void)
{
    int32_t x, y;
    /* A menu below-right of its button. */
    place(XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT, &x, &y);
    g_assert_cmpint(x, ==, 30);
    g_assert_cmpint(y, ==, 30);
    /* A drop-down: under the anchor's bottom-left corner. */
    place(XDG_POSITIONER_ANCHOR_BOTTOM_LEFT, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT, &x, &y);
    g_assert_cmpint(x, ==, 10);
    g_assert_cmpint(y, ==, 30);
    /* Opening upwards-left from the top-left corner. */
    place(XDG_POSITIONER_ANCHOR_TOP_LEFT, XDG_POSITIONER_GRAVITY_TOP_LEFT, &x, &y);
    g_assert_cmpint(x, ==, 10 - 40);
    g_assert_cmpint(y, ==, 10 - 30);
    /* Centred on the anchor's centre. */
    place(XDG_POSITIONER_ANCHOR_NONE, XDG_POSITIONER_GRAVITY_NONE, &x, &y);
    g_assert_cmpint(x, ==, 20 - 20);
    g_assert_cmpint(y, ==, 20 - 15);

    /* Offsets apply; hostile values are clamped to the protocol's bound. */
    struct bh_positioner p = {.width = 10,
                              .height = 10,
                              .anchor_rect = bh_box_make(0, 0, 1, 1),
                              .anchor = XDG_POSITIONER_ANCHOR_TOP_LEFT,
                              .gravity = XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT,
                              .off_x = 7,
                              .off_y = -3};
    bh_positioner_place(&p, &x, &y);
    g_assert_cmpint(x, ==, 7);
    g_assert_cmpint(y, ==, -3);
    p.off_x = INT32_MAX;
    p.off_y = INT32_MIN;
    bh_positioner_place(&p, &x, &y);
    g_assert_cmpint(x, ==, BH_MAX_POPUP_OFFSET);
    g_assert_cmpint(y, ==, -BH_MAX_POPUP_OFFSET);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gui-agent/geometry/box", test_box);
    g_test_add_func("/gui-agent/geometry/rects", test_rects);
    g_test_add_func("/gui-agent/geometry/region", test_region);
    g_test_add_func("/gui-agent/geometry/positioner", test_positioner);
    return g_test_run();
}
