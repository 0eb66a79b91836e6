/* bh-guid-budget.h — what one qube may make dom0 spend, all its windows
 * together: memory (pixels of the buffers guid holds) and the shared X
 * server's time (pixels put per refresh interval).
 *
 * Why per qube and not per window: every per-window limit multiplies by the
 * window count (256). 255 windows of 7680x4320, each damaged once, grew the
 * qube's guid to 2.5 GB and Xvfb to 1.1 GB; 64 screen-sized windows re-damaged
 * without pause made the X server copy 7.3 Gpx in 12 s and every other X
 * client's round trip 4x slower (issue 13). Both bounds are in screens so
 * they follow the display; docs/guid.md says what each costs.
 *
 * Owns: the arithmetic of the two budgets (pure, no GTK, no clock of its
 * own: callers pass the time). Must never: let a charge past the limit
 * through, or overflow (pixel counts are 64-bit; inputs are 32-bit). */
#ifndef BH_GUID_BUDGET_H
#define BH_GUID_BUDGET_H

#include <glib.h>

#include "bulkhead/gui-protocol.h"

G_BEGIN_DECLS

/* Memory: the buffers one qube's windows hold (current and next, each
 * counted only as far as it can ever be on screen) may together cover at
 * most this many screens. Below it dom0's memory for the qube is about 8
 * bytes per counted pixel in guid (tiles, and the guest's pages guid or the
 * X server fault in) plus 4 in the X server. */
#define BH_GUID_BUDGET_SCREENS 16u
/* X server time: pixels put for one qube per refresh interval, in screens;
 * the bucket holds at most BH_GUID_PACE_BURST intervals' worth. One screen
 * per refresh is a full-screen video at the display's rate. */
#define BH_GUID_PACE_SCREENS 1u
#define BH_GUID_PACE_BURST   2u

typedef struct {
    guint64 limit_px;
    guint64 used_px;
    guint32 screen_w, screen_h;
} BhGuidBudget;

void bh_guid_budget_init(BhGuidBudget *b, guint32 screen_w, guint32 screen_h);
/* Pixels of a w x h buffer that can ever be on screen. */
guint64 bh_guid_budget_area(const BhGuidBudget *b, guint32 w, guint32 h);
/* Replace a charge of old_px by new_px: TRUE if it fits (applied), FALSE if
 * the total would pass the limit (nothing changes). Lowering always fits. */
gboolean bh_guid_budget_change(BhGuidBudget *b, guint64 old_px, guint64 new_px);

/* Pacing: a token bucket of pixels, refilled continuously at rate_px per
 * interval_us. */
typedef struct {
    guint64 rate_px;     /* per interval */
    guint64 capacity_px; /* burst */
    gint64 interval_us;
    double tokens;
    gint64 last_us;
    gboolean off; /* BH_GUID_PACE=off: for before/after measurements only */
} BhGuidPace;

void bh_guid_pace_init(BhGuidPace *p, guint32 screen_w, guint32 screen_h, gint64 interval_us);
/* Take px now if the bucket has them (a put larger than the whole bucket
 * goes when the bucket is full, leaving it in debt): TRUE = put now. */
gboolean bh_guid_pace_take(BhGuidPace *p, guint64 px, gint64 now_us);
/* Microseconds from now until bh_guid_pace_take(px) would succeed (0: now). */
gint64 bh_guid_pace_wait_us(BhGuidPace *p, guint64 px, gint64 now_us);

/* Damaged pixels of one DAMAGE, each rectangle clipped to the buffer
 * (buf_w x buf_h) and the screen: what the X server would copy. */
guint64 bh_guid_damage_px(const BhGuidBudget *b, guint32 buf_w, guint32 buf_h,
                          const struct bh_gui_rect *rects, guint32 n_rects);

G_END_DECLS

#endif /* BH_GUID_BUDGET_H */
