/* xdg-positioner.c — xdg_positioner: the rules a client gives for placing
 * a popup, and bh_positioner_place, the pure function that applies them.
 *
 * Owns: every positioner's values, checked as they arrive.
 * Must never: place a popup further than BH_MAX_POPUP_OFFSET from its
 * parent, or call other xdg code (popups call it; it is the bottom floor of
 * xdg-shell). */
#include "xdg.h"

#include <stdlib.h>

static bool anchor_left(uint32_t e)
{
    return e == XDG_POSITIONER_ANCHOR_LEFT || e == XDG_POSITIONER_ANCHOR_TOP_LEFT ||
           e == XDG_POSITIONER_ANCHOR_BOTTOM_LEFT;
}

static bool anchor_right(uint32_t e)
{
    return e == XDG_POSITIONER_ANCHOR_RIGHT || e == XDG_POSITIONER_ANCHOR_TOP_RIGHT ||
           e == XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT;
}

static bool anchor_top(uint32_t e)
{
    return e == XDG_POSITIONER_ANCHOR_TOP || e == XDG_POSITIONER_ANCHOR_TOP_LEFT ||
           e == XDG_POSITIONER_ANCHOR_TOP_RIGHT;
}

static bool anchor_bottom(uint32_t e)
{
    return e == XDG_POSITIONER_ANCHOR_BOTTOM || e == XDG_POSITIONER_ANCHOR_BOTTOM_LEFT ||
           e == XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT;
}

static int32_t clamp_offset(int64_t v)
{
    if (v > BH_MAX_POPUP_OFFSET)
        return BH_MAX_POPUP_OFFSET;
    if (v < -BH_MAX_POPUP_OFFSET)
        return -BH_MAX_POPUP_OFFSET;
    return (int32_t)v;
}

/* Anchor and gravity enums share their values (xdg-shell), so the same
 * predicates serve both. Constraint adjustment is not applied: the agent
 * does not know where dom0 put the parent; dom0 keeps popups on screen. */
void bh_positioner_place(const struct bh_positioner *p, int32_t *x, int32_t *y)
{
    const struct bh_box *r = &p->anchor_rect;
    int64_t ax, ay, px, py;

    if (anchor_left(p->anchor))
        ax = r->x1;
    else if (anchor_right(p->anchor))
        ax = r->x2;
    else
        ax = r->x1 + ((int64_t)r->x2 - r->x1) / 2;
    if (anchor_top(p->anchor))
        ay = r->y1;
    else if (anchor_bottom(p->anchor))
        ay = r->y2;
    else
        ay = r->y1 + ((int64_t)r->y2 - r->y1) / 2;

    if (anchor_left(p->gravity))
        px = ax - p->width;
    else if (anchor_right(p->gravity))
        px = ax;
    else
        px = ax - p->width / 2;
    if (anchor_top(p->gravity))
        py = ay - p->height;
    else if (anchor_bottom(p->gravity))
        py = ay;
    else
        py = ay - p->height / 2;

    *x = clamp_offset(px + p->off_x);
    *y = clamp_offset(py + p->off_y);
}

static void positioner_set_size(struct wl_client *client, struct wl_resource *resource, int32_t w, int32_t h)
{
    struct bh_positioner *p = wl_resource_get_user_data(resource);
    if (w <= 0 || h <= 0 || (uint32_t)w > BH_MAX_WINDOW_WIDTH || (uint32_t)h > BH_MAX_WINDOW_HEIGHT) {
        wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT, "size %dx%d", w, h);
        return;
    }
    p->width = w;
    p->height = h;
    p->has_size = true;
}

static void positioner_set_anchor_rect(struct wl_client *client, struct wl_resource *resource, int32_t x,
                                       int32_t y, int32_t w, int32_t h)
{
    struct bh_positioner *p = wl_resource_get_user_data(resource);
    if (w < 0 || h < 0) {
        wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT, "anchor rect %dx%d", w, h);
        return;
    }
    p->anchor_rect = bh_box_make(x, y, w, h);
    p->has_anchor_rect = true;
}

static void positioner_set_anchor(struct wl_client *client, struct wl_resource *resource, uint32_t anchor)
{
    struct bh_positioner *p = wl_resource_get_user_data(resource);
    if (anchor > XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT) {
        wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT, "anchor %u", anchor);
        return;
    }
    p->anchor = anchor;
}

static void positioner_set_gravity(struct wl_client *client, struct wl_resource *resource, uint32_t gravity)
{
    struct bh_positioner *p = wl_resource_get_user_data(resource);
    if (gravity > XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT) {
        wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT, "gravity %u", gravity);
        return;
    }
    p->gravity = gravity;
}

static void positioner_set_constraint_adjustment(struct wl_client *client, struct wl_resource *resource,
                                                 uint32_t adj)
{
    struct bh_positioner *p = wl_resource_get_user_data(resource);
    p->constraint = adj;
}

static void positioner_set_offset(struct wl_client *client, struct wl_resource *resource, int32_t x,
                                  int32_t y)
{
    struct bh_positioner *p = wl_resource_get_user_data(resource);
    p->off_x = x;
    p->off_y = y;
}

static void positioner_set_reactive(struct wl_client *client, struct wl_resource *resource)
{
    struct bh_positioner *p = wl_resource_get_user_data(resource);
    p->reactive = true;
}

static void positioner_set_parent_size(struct wl_client *client, struct wl_resource *resource, int32_t w,
                                       int32_t h)
{
    /* Only useful to reactive constraint solving, which dom0 does. */
}

static void positioner_set_parent_configure(struct wl_client *client, struct wl_resource *resource,
                                            uint32_t serial)
{
}

static const struct xdg_positioner_interface positioner_impl = {
    .destroy = bh_request_destroy,
    .set_size = positioner_set_size,
    .set_anchor_rect = positioner_set_anchor_rect,
    .set_anchor = positioner_set_anchor,
    .set_gravity = positioner_set_gravity,
    .set_constraint_adjustment = positioner_set_constraint_adjustment,
    .set_offset = positioner_set_offset,
    .set_reactive = positioner_set_reactive,
    .set_parent_size = positioner_set_parent_size,
    .set_parent_configure = positioner_set_parent_configure,
};

static void positioner_resource_destroy(struct wl_resource *resource)
{
    free(wl_resource_get_user_data(resource));
}

void bh_xdg_positioner_new(struct wl_client *client, struct wl_resource *wm_base, uint32_t id)
{
    struct bh_positioner *p = calloc(1, sizeof(*p));
    struct wl_resource *r = NULL;
    if (p)
        r = wl_resource_create(client, &xdg_positioner_interface, wl_resource_get_version(wm_base), id);
    if (!r) {
        free(p);
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(r, &positioner_impl, p, positioner_resource_destroy);
}
