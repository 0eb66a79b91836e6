/* region.h — the small geometry the agent needs: damage lists and wl_region.
 *
 * Owns: half-open integer boxes, a bounded damage list that degrades to its
 * bounding box, and a bounded add/subtract list answering "is this point
 * inside". Must never: allocate, or grow without bound on client input
 * (every list has a hard cap; callers decide what overflow means). */
#ifndef BH_AGENT_REGION_H
#define BH_AGENT_REGION_H

#include <stdbool.h>
#include <stdint.h>

/* [x1, x2) x [y1, y2); empty when x2 <= x1 or y2 <= y1. */
struct bh_box {
    int32_t x1, y1, x2, y2;
};

/* Enough for a frame of typical damage; more collapses into the extents,
 * which only costs copying a few extra pixels. */
#define BH_RECTS_MAX 32

struct bh_rects {
    uint32_t n;
    struct bh_box r[BH_RECTS_MAX];
};

/* wl_region: replaying adds and subtracts in order answers point queries
 * exactly without a real region algebra. GTK and foot use a handful. */
#define BH_REGION_MAX_OPS 256

struct bh_region {
    bool infinite; /* the wl_surface default input region */
    uint32_t n;
    struct {
        struct bh_box box;
        bool add;
    } ops[BH_REGION_MAX_OPS];
};

bool bh_box_empty(const struct bh_box *b);
struct bh_box bh_box_make(int32_t x, int32_t y, int32_t w, int32_t h);
/* Intersection; empty boxes come out as {0,0,0,0}. */
struct bh_box bh_box_intersect(const struct bh_box *a, const struct bh_box *b);
bool bh_box_contains_point(const struct bh_box *b, int32_t x, int32_t y);

void bh_rects_clear(struct bh_rects *r);
bool bh_rects_empty(const struct bh_rects *r);
/* Adds a box (ignored when empty or already covered). On overflow the whole
 * list becomes its bounding box. */
void bh_rects_add(struct bh_rects *r, struct bh_box b);
void bh_rects_add_all(struct bh_rects *dst, const struct bh_rects *src);
void bh_rects_clip(struct bh_rects *r, const struct bh_box *clip);
void bh_rects_translate(struct bh_rects *r, int32_t dx, int32_t dy);
struct bh_box bh_rects_extents(const struct bh_rects *r);

void bh_region_init(struct bh_region *g, bool infinite);
/* false when the region already holds BH_REGION_MAX_OPS operations. */
bool bh_region_op(struct bh_region *g, struct bh_box b, bool add);
bool bh_region_contains(const struct bh_region *g, int32_t x, int32_t y);

#endif /* BH_AGENT_REGION_H */
