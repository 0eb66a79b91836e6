/* region.c — boxes, bounded damage lists and replayed wl_regions (see
 * region.h). Arithmetic is done in int64 so client coordinates near
 * INT32_MAX cannot overflow. */
#include "region.h"

#include <string.h>

static int32_t clamp64(int64_t v)
{
    if (v > INT32_MAX)
        return INT32_MAX;
    if (v < INT32_MIN)
        return INT32_MIN;
    return (int32_t)v;
}

bool bh_box_empty(const struct bh_box *b)
{
    return b->x2 <= b->x1 || b->y2 <= b->y1;
}

struct bh_box bh_box_make(int32_t x, int32_t y, int32_t w, int32_t h)
{
    struct bh_box b = {x, y, clamp64((int64_t)x + (w > 0 ? w : 0)), clamp64((int64_t)y + (h > 0 ? h : 0))};
    return b;
}

struct bh_box bh_box_intersect(const struct bh_box *a, const struct bh_box *b)
{
    struct bh_box r = {
        a->x1 > b->x1 ? a->x1 : b->x1,
        a->y1 > b->y1 ? a->y1 : b->y1,
        a->x2 < b->x2 ? a->x2 : b->x2,
        a->y2 < b->y2 ? a->y2 : b->y2,
    };
    if (bh_box_empty(&r))
        memset(&r, 0, sizeof(r));
    return r;
}

bool bh_box_contains_point(const struct bh_box *b, int32_t x, int32_t y)
{
    return x >= b->x1 && x < b->x2 && y >= b->y1 && y < b->y2;
}

static bool box_covers(const struct bh_box *outer, const struct bh_box *inner)
{
    return inner->x1 >= outer->x1 && inner->y1 >= outer->y1 && inner->x2 <= outer->x2 &&
           inner->y2 <= outer->y2;
}

static struct bh_box box_union(const struct bh_box *a, const struct bh_box *b)
{
    struct bh_box r = {
        a->x1 < b->x1 ? a->x1 : b->x1,
        a->y1 < b->y1 ? a->y1 : b->y1,
        a->x2 > b->x2 ? a->x2 : b->x2,
        a->y2 > b->y2 ? a->y2 : b->y2,
    };
    return r;
}

void bh_rects_clear(struct bh_rects *r)
{
    r->n = 0;
}

bool bh_rects_empty(const struct bh_rects *r)
{
    return r->n == 0;
}

struct bh_box bh_rects_extents(const struct bh_rects *r)
{
    struct bh_box e = {0, 0, 0, 0};
    for (uint32_t i = 0; i < r->n; i++)
        e = i == 0 ? r->r[0] : box_union(&e, &r->r[i]);
    return e;
}

void bh_rects_add(struct bh_rects *r, struct bh_box b)
{
    if (bh_box_empty(&b))
        return;
    /* Drop boxes the new one swallows, and the new one if it is swallowed. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        if (box_covers(&r->r[i], &b))
            return;
        if (!box_covers(&b, &r->r[i]))
            r->r[k++] = r->r[i];
    }
    r->n = k;
    if (r->n == BH_RECTS_MAX) {
        struct bh_box e = bh_rects_extents(r);
        r->r[0] = box_union(&e, &b);
        r->n = 1;
        return;
    }
    r->r[r->n++] = b;
}

void bh_rects_add_all(struct bh_rects *dst, const struct bh_rects *src)
{
    for (uint32_t i = 0; i < src->n; i++)
        bh_rects_add(dst, src->r[i]);
}

void bh_rects_clip(struct bh_rects *r, const struct bh_box *clip)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        struct bh_box b = bh_box_intersect(&r->r[i], clip);
        if (!bh_box_empty(&b))
            r->r[k++] = b;
    }
    r->n = k;
}

void bh_rects_translate(struct bh_rects *r, int32_t dx, int32_t dy)
{
    for (uint32_t i = 0; i < r->n; i++) {
        r->r[i].x1 = clamp64((int64_t)r->r[i].x1 + dx);
        r->r[i].x2 = clamp64((int64_t)r->r[i].x2 + dx);
        r->r[i].y1 = clamp64((int64_t)r->r[i].y1 + dy);
        r->r[i].y2 = clamp64((int64_t)r->r[i].y2 + dy);
    }
}

void bh_region_init(struct bh_region *g, bool infinite)
{
    g->infinite = infinite;
    g->n = 0;
}

bool bh_region_op(struct bh_region *g, struct bh_box b, bool add)
{
    if (bh_box_empty(&b))
        return true;
    if (g->n == BH_REGION_MAX_OPS)
        return false;
    g->ops[g->n].box = b;
    g->ops[g->n].add = add;
    g->n++;
    return true;
}

bool bh_region_contains(const struct bh_region *g, int32_t x, int32_t y)
{
    if (g->infinite)
        return true;
    /* The last operation touching the point decides. */
    for (uint32_t i = g->n; i-- > 0;)
        if (bh_box_contains_point(&g->ops[i].box, x, y))
            return g->ops[i].add;
    return false;
}
