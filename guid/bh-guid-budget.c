/* bh-guid-budget.c — per-qube memory and X-time budgets (see
 * bh-guid-budget.h). Must never: read a clock or the environment except
 * where said (BH_GUID_PACE, once at init). */
#include "bh-guid-budget.h"

void bh_guid_budget_init(BhGuidBudget *b, guint32 screen_w, guint32 screen_h)
{
    b->screen_w = MAX(screen_w, 1);
    b->screen_h = MAX(screen_h, 1);
    b->limit_px = (guint64)b->screen_w * b->screen_h * BH_GUID_BUDGET_SCREENS;
    b->used_px = 0;
}

guint64 bh_guid_budget_area(const BhGuidBudget *b, guint32 w, guint32 h)
{
    return (guint64)MIN(w, b->screen_w) * MIN(h, b->screen_h);
}

gboolean bh_guid_budget_change(BhGuidBudget *b, guint64 old_px, guint64 new_px)
{
    g_assert(old_px <= b->used_px); /* the caller's own charge */
    guint64 rest = b->used_px - old_px;
    if (new_px > old_px && new_px > b->limit_px - MIN(rest, b->limit_px))
        return FALSE;
    b->used_px = rest + new_px;
    return TRUE;
}

void bh_guid_pace_init(BhGuidPace *p, guint32 screen_w, guint32 screen_h, gint64 interval_us)
{
    guint64 screen = (guint64)MAX(screen_w, 1) * MAX(screen_h, 1);
    p->rate_px = screen * BH_GUID_PACE_SCREENS;
    p->capacity_px = p->rate_px * BH_GUID_PACE_BURST;
    p->interval_us = MAX(interval_us, 1000);
    p->tokens = (double)p->capacity_px;
    p->last_us = 0;
    const char *v = g_getenv("BH_GUID_PACE");
    p->off = v != NULL && (g_str_equal(v, "off") || g_str_equal(v, "0"));
}

static void refill(BhGuidPace *p, gint64 now_us)
{
    if (p->last_us != 0 && now_us > p->last_us)
        p->tokens += (double)(now_us - p->last_us) * (double)p->rate_px / (double)p->interval_us;
    p->last_us = now_us;
    if (p->tokens > (double)p->capacity_px)
        p->tokens = (double)p->capacity_px;
}

/* What must be in the bucket before px may go: px, or a full bucket for a
 * put larger than the bucket. */
static double needed(const BhGuidPace *p, guint64 px)
{
    return (double)MIN(px, p->capacity_px);
}

gboolean bh_guid_pace_take(BhGuidPace *p, guint64 px, gint64 now_us)
{
    if (p->off)
        return TRUE;
    refill(p, now_us);
    if (p->tokens < needed(p, px))
        return FALSE;
    p->tokens -= (double)px;
    return TRUE;
}

gint64 bh_guid_pace_wait_us(BhGuidPace *p, guint64 px, gint64 now_us)
{
    if (p->off)
        return 0;
    refill(p, now_us);
    double missing = needed(p, px) - p->tokens;
    if (missing <= 0)
        return 0;
    return (gint64)(missing * (double)p->interval_us / (double)p->rate_px) + 1;
}

guint64 bh_guid_damage_px(const BhGuidBudget *b, guint32 buf_w, guint32 buf_h,
                          const struct bh_gui_rect *rects, guint32 n_rects)
{
    gint64 cw = MIN(buf_w, b->screen_w), ch = MIN(buf_h, b->screen_h);
    guint64 px = 0;
    for (guint32 i = 0; i < n_rects; i++) {
        gint64 x0 = MAX(rects[i].x, 0), y0 = MAX(rects[i].y, 0);
        gint64 x1 = MIN((gint64)rects[i].x + rects[i].width, cw);
        gint64 y1 = MIN((gint64)rects[i].y + rects[i].height, ch);
        if (x1 > x0 && y1 > y0)
            px += (guint64)((x1 - x0) * (y1 - y0));
    }
    /* Overlapping rectangles count once each: each is its own put. */
    return px;
}
