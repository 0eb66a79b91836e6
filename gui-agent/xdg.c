/* xdg.c — xdg_wm_base, xdg_positioner, xdg_surface, xdg_toplevel, xdg_popup
 * and zxdg_decoration_manager_v1 (always server-side: dom0 draws the frame).
 *
 * Owns: the configure/ack handshake, map and unmap of xdg surfaces (which
 * create and destroy protocol windows), titles, app ids, size hints and
 * window-state requests, popup placement and grabs.
 * Must never: forward an unconfigured or unmapped surface, place a popup
 * further than BH_MAX_POPUP_OFFSET from its parent, or pass text on without
 * bounding and sanitising it (window.c sends what is stored here). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <wayland-server-protocol.h>

#include "xdg-decoration-unstable-v1-server-protocol.h"
#include "xdg-shell-server-protocol.h"

#define MOD             "xdg"
#define WM_BASE_VERSION 5

/* ---- positioner ------------------------------------------------------------- */

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

/* ---- configure ----------------------------------------------------------------- */

static struct bh_xdg_surface *xdg_from_resource(struct wl_resource *r)
{
    return wl_resource_get_user_data(r);
}

static void send_configure(void *data)
{
    struct bh_xdg_surface *x = data;
    x->configure_idle = NULL;
    if (!x->role_resource)
        return;

    if (x->kind == BH_XDG_TOPLEVEL) {
        struct wl_array states;
        wl_array_init(&states);
        uint32_t st = x->toplevel.req_states;
        uint32_t *p;
#define PUSH(v)                                                                                              \
    do {                                                                                                     \
        if ((p = wl_array_add(&states, sizeof(*p))))                                                         \
            *p = (v);                                                                                        \
    } while (0)
        if (st & BH_GUI_STATE_MAXIMIZED)
            PUSH(XDG_TOPLEVEL_STATE_MAXIMIZED);
        if (st & BH_GUI_STATE_FULLSCREEN)
            PUSH(XDG_TOPLEVEL_STATE_FULLSCREEN);
        if (st & BH_GUI_STATE_RESIZING)
            PUSH(XDG_TOPLEVEL_STATE_RESIZING);
        if (st & BH_GUI_STATE_ACTIVATED)
            PUSH(XDG_TOPLEVEL_STATE_ACTIVATED);
        /* Tiled on every edge: clients then draw neither shadows nor
         * rounded corners around their content; dom0 draws the border. */
        if (wl_resource_get_version(x->role_resource) >= XDG_TOPLEVEL_STATE_TILED_LEFT_SINCE_VERSION) {
            PUSH(XDG_TOPLEVEL_STATE_TILED_LEFT);
            PUSH(XDG_TOPLEVEL_STATE_TILED_RIGHT);
            PUSH(XDG_TOPLEVEL_STATE_TILED_TOP);
            PUSH(XDG_TOPLEVEL_STATE_TILED_BOTTOM);
        }
#undef PUSH
        if (wl_resource_get_version(x->role_resource) >= XDG_TOPLEVEL_CONFIGURE_BOUNDS_SINCE_VERSION)
            xdg_toplevel_send_configure_bounds(x->role_resource, (int32_t)x->agent->output.screen.width,
                                               (int32_t)x->agent->output.screen.height);
        xdg_toplevel_send_configure(x->role_resource, x->toplevel.req_w, x->toplevel.req_h, &states);
        wl_array_release(&states);
        if (x->toplevel.decoration)
            zxdg_toplevel_decoration_v1_send_configure(x->toplevel.decoration,
                                                       ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
    } else if (x->kind == BH_XDG_POPUP) {
        xdg_popup_send_configure(x->role_resource, x->content.popup_x, x->content.popup_y,
                                 x->popup.positioner.width, x->popup.positioner.height);
    }

    uint32_t serial = wl_display_next_serial(x->agent->display);
    x->sent_serials[x->n_sent % BH_XDG_SERIALS] = serial;
    x->n_sent++;
    xdg_surface_send_configure(x->resource, serial);
}

static void schedule_configure(struct bh_xdg_surface *x)
{
    /* Coalesce: several changes in one dispatch make one configure. */
    if (x->configure_idle || !x->role_resource)
        return;
    x->configure_idle = wl_event_loop_add_idle(x->agent->loop, send_configure, x);
}

void bh_xdg_request_configure(struct bh_xdg_surface *x, int32_t w, int32_t h, uint32_t states)
{
    if (x->kind != BH_XDG_TOPLEVEL)
        return;
    x->toplevel.req_w = w;
    x->toplevel.req_h = h;
    x->toplevel.req_states =
        (states & ~BH_GUI_STATE_ACTIVATED) | (x->toplevel.req_states & BH_GUI_STATE_ACTIVATED);
    schedule_configure(x);
}

void bh_xdg_set_activated(struct bh_xdg_surface *x, bool on)
{
    if (x->kind != BH_XDG_TOPLEVEL)
        return;
    uint32_t st = on ? x->toplevel.req_states | BH_GUI_STATE_ACTIVATED
                     : x->toplevel.req_states & ~BH_GUI_STATE_ACTIVATED;
    if (st == x->toplevel.req_states)
        return;
    x->toplevel.req_states = st;
    /* Keep the size the client has: 0x0 would let it pick a new one. */
    if (x->window && x->toplevel.req_w == 0) {
        x->toplevel.req_w = (int32_t)x->window->width;
        x->toplevel.req_h = (int32_t)x->window->height;
    }
    schedule_configure(x);
}

void bh_xdg_request_close(struct bh_xdg_surface *x)
{
    if (x->kind == BH_XDG_TOPLEVEL && x->role_resource)
        xdg_toplevel_send_close(x->role_resource);
    else if (x->kind == BH_XDG_POPUP)
        bh_xdg_popup_dismiss(x);
}

/* ---- map / unmap ------------------------------------------------------------------ */

static void dismiss_popups_of(struct bh_agent *a, struct bh_window *w)
{
    struct bh_window *c;
    /* Restart after each dismissal: it edits the list. */
again:
    wl_list_for_each(c, &a->windows, link)
    {
        if (c->parent == w && c->popup) {
            bh_xdg_popup_dismiss(c->xdg);
            goto again;
        }
    }
}

static void unmap(struct bh_xdg_surface *x)
{
    wl_list_remove(&x->grab_link);
    wl_list_init(&x->grab_link);
    if (x->window) {
        struct bh_window *w = x->window;
        /* Popups go with their parent. */
        dismiss_popups_of(x->agent, w);
        x->window = NULL;
        bh_window_destroy(w);
    }
    x->mapped = false;
    bh_signal_emit_safe(&x->agent->events.focus_changed, x);
}

void bh_xdg_popup_dismiss(struct bh_xdg_surface *x)
{
    if (x->kind != BH_XDG_POPUP || x->popup.dismissed)
        return;
    x->popup.dismissed = true;
    unmap(x);
    if (x->role_resource)
        xdg_popup_send_popup_done(x->role_resource);
}

static bool chain_contains(struct bh_xdg_surface *top, struct bh_xdg_surface *x)
{
    /* Is x `top` or one of its popup ancestors? */
    for (struct bh_xdg_surface *p = top; p; p = p->kind == BH_XDG_POPUP ? p->popup.parent : NULL)
        if (p == x)
            return true;
    return false;
}

void bh_xdg_dismiss_grabs(struct bh_agent *a, struct bh_xdg_surface *keep)
{
    /* Newest first: children go before their parents. */
    struct bh_xdg_surface *x, *tmp;
    wl_list_for_each_reverse_safe(x, tmp, &a->grabs, grab_link)
    {
        if (keep && chain_contains(keep, x))
            continue;
        bh_xdg_popup_dismiss(x);
    }
}

static void map(struct bh_xdg_surface *x)
{
    x->mapped = true;
    if (x->kind == BH_XDG_POPUP) {
        struct bh_xdg_surface *parent = x->popup.parent;
        if (!parent || !parent->window || x->popup.dismissed) {
            /* Nothing to attach it to: dismissed at once, as the protocol allows. */
            bh_xdg_popup_dismiss(x);
            return;
        }
    }
    struct bh_window *parent = x->kind == BH_XDG_POPUP ? x->popup.parent->window
                               : x->toplevel.parent    ? x->toplevel.parent->window
                                                       : NULL;
    x->window = bh_window_create(x->agent, x, &x->content, x->surface, parent, x->kind == BH_XDG_POPUP);
    if (x->kind == BH_XDG_POPUP && x->popup.grab && x->window)
        wl_list_insert(x->agent->grabs.prev, &x->grab_link);
    bh_output_enter_surface(x->agent, x->surface);
    if (x->kind == BH_XDG_POPUP && x->popup.grab)
        bh_signal_emit_safe(&x->agent->events.focus_changed, x);
}

static bool hints_changed(struct bh_xdg_surface *x)
{
    bool changed =
        x->content.min_w != x->toplevel.pending_min_w || x->content.min_h != x->toplevel.pending_min_h ||
        x->content.max_w != x->toplevel.pending_max_w || x->content.max_h != x->toplevel.pending_max_h;
    x->content.min_w = x->toplevel.pending_min_w;
    x->content.min_h = x->toplevel.pending_min_h;
    x->content.max_w = x->toplevel.pending_max_w;
    x->content.max_h = x->toplevel.pending_max_h;
    return changed;
}

static void xdg_surface_commit(struct bh_xdg_surface *x)
{
    struct bh_surface *s = x->surface;
    bool has_buffer = s->width > 0;

    x->content.has_geometry = x->pending_has_geometry;
    x->content.geometry = x->pending_geometry;

    if (x->kind == BH_XDG_NONE) {
        if (has_buffer)
            wl_resource_post_error(x->resource, XDG_SURFACE_ERROR_NOT_CONSTRUCTED,
                                   "a buffer was committed before the xdg_surface got a role");
        return;
    }
    bool hints = x->kind == BH_XDG_TOPLEVEL && hints_changed(x);
    if (hints && ((x->content.max_w > 0 && x->content.min_w > x->content.max_w) ||
                  (x->content.max_h > 0 && x->content.min_h > x->content.max_h))) {
        wl_resource_post_error(x->role_resource, XDG_TOPLEVEL_ERROR_INVALID_SIZE,
                               "minimum size %dx%d above maximum size %dx%d", x->content.min_w,
                               x->content.min_h, x->content.max_w, x->content.max_h);
        return;
    }
    if (!x->initial_commit) {
        if (has_buffer) {
            wl_resource_post_error(x->resource, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
                                   "a buffer was attached before the first configure");
            return;
        }
        x->initial_commit = true;
        schedule_configure(x);
        return;
    }
    if (has_buffer && !x->configured) {
        wl_resource_post_error(x->resource, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
                               "a buffer was committed before a configure was acked");
        return;
    }
    if (has_buffer && !x->mapped)
        map(x);
    else if (!has_buffer && x->mapped) {
        unmap(x);
        if (x->kind == BH_XDG_POPUP) {
            bh_xdg_popup_dismiss(x);
        } else {
            /* An unmapped toplevel starts over: initial commit, configure. */
            x->initial_commit = false;
            x->configured = false;
        }
    }
    if (x->window) {
        if (hints)
            bh_window_send_hints(x->window);
        bh_window_commit(x->window);
        return;
    }
    struct wl_list frames;
    wl_list_init(&frames);
    bh_frames_take_tree(s, &frames);
    bh_agent_defer_frames(x->agent, &frames);
}

/* The surface role of an xdg_surface: its own commits, and its window
 * showing the tree it is the root of. */
static void role_commit(struct bh_surface *s)
{
    xdg_surface_commit(s->role_data);
}

static struct bh_window *root_window(struct bh_surface *root)
{
    struct bh_xdg_surface *x = root->role_data;
    return x ? x->window : NULL;
}

static bool role_presented(struct bh_surface *root)
{
    struct bh_window *w = root_window(root);
    return w && w->announced;
}

static void role_damage_all(struct bh_surface *root)
{
    struct bh_window *w = root_window(root);
    if (w)
        bh_window_damage_all(w);
}

static bool role_recompose(struct bh_surface *root)
{
    struct bh_window *w = root_window(root);
    if (w)
        bh_window_commit(w);
    return w != NULL;
}

static const struct bh_surface_role xdg_surface_role = {
    .name = "xdg_surface",
    .commit = role_commit,
    .presented = role_presented,
    .damage_all = role_damage_all,
    .recompose = role_recompose,
};

/* ---- xdg_toplevel ----------------------------------------------------------------- */

static void toplevel_parent_gone(struct wl_listener *l, void *data)
{
    struct bh_xdg_surface *x = wl_container_of(l, x, toplevel.parent_destroy);
    wl_list_remove(&l->link);
    wl_list_init(&l->link);
    x->toplevel.parent = NULL;
}

static void toplevel_set_parent(struct wl_client *client, struct wl_resource *resource,
                                struct wl_resource *parent_res)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    struct bh_xdg_surface *parent = parent_res ? xdg_from_resource(parent_res) : NULL;
    if (!x)
        return;
    /* The parent must not be x itself or one of its transient children. */
    for (struct bh_xdg_surface *p = parent; p; p = p->toplevel.parent) {
        if (p == x) {
            wl_resource_post_error(resource, XDG_TOPLEVEL_ERROR_INVALID_PARENT, "transient-for loop");
            return;
        }
    }
    wl_list_remove(&x->toplevel.parent_destroy.link);
    wl_list_init(&x->toplevel.parent_destroy.link);
    x->toplevel.parent = parent;
    if (parent)
        wl_signal_add(&parent->role_destroy, &x->toplevel.parent_destroy);
    /* A change after mapping is kept for the next map (docs/gui-agent.md). */
}

/* Title and app id: cut at BH_MAX_* on a character boundary, sanitised with
 * the same function dom0's decoder uses so dom0 never rejects them. */
static void store_text(struct bh_agent *a, const char *in, char *out, size_t cap_bytes)
{
    size_t len = strlen(in);
    if (len > cap_bytes)
        len = cap_bytes;
    size_t valid = bh_gui_utf8_check((const uint8_t *)in, len);
    /* A cut in the middle of a character: drop the partial tail. */
    len = valid;
    if (bh_gui_text_sanitize((const uint8_t *)in, len, out, cap_bytes + 1) < 0)
        out[0] = '\0';
}

static void toplevel_set_title(struct wl_client *client, struct wl_resource *resource, const char *title)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (!x)
        return;
    char buf[sizeof(x->content.title)];
    store_text(x->agent, title, buf, BH_MAX_TITLE_BYTES);
    if (strcmp(buf, x->content.title) == 0)
        return;
    memcpy(x->content.title, buf, sizeof(buf));
    if (x->window)
        bh_window_send_title(x->window);
}

static void toplevel_set_app_id(struct wl_client *client, struct wl_resource *resource, const char *app_id)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (!x)
        return;
    char buf[sizeof(x->content.app_id)];
    store_text(x->agent, app_id, buf, BH_MAX_APP_ID_BYTES);
    if (strcmp(buf, x->content.app_id) == 0)
        return;
    memcpy(x->content.app_id, buf, sizeof(buf));
    if (x->window)
        bh_window_send_app_id(x->window);
}

static void toplevel_show_window_menu(struct wl_client *client, struct wl_resource *resource,
                                      struct wl_resource *seat, uint32_t serial, int32_t x, int32_t y)
{
    /* dom0 owns window menus. */
}

static void toplevel_move(struct wl_client *client, struct wl_resource *resource, struct wl_resource *seat,
                          uint32_t serial)
{
    /* dom0 moves windows; a client cannot. */
}

static void toplevel_resize(struct wl_client *client, struct wl_resource *resource, struct wl_resource *seat,
                            uint32_t serial, uint32_t edges)
{
    /* Valid edges are 0..10 except the impossible 3 (top+bottom) and 7. */
    if (edges > XDG_TOPLEVEL_RESIZE_EDGE_BOTTOM_RIGHT || edges == 3 || edges == 7) {
        wl_resource_post_error(resource, XDG_TOPLEVEL_ERROR_INVALID_RESIZE_EDGE, "edges %u", edges);
        return;
    }
    /* Interactive resizing is dom0's (it sends CONFIGURE_REQ). */
}

static void set_size_hint(struct wl_resource *resource, int32_t w, int32_t h, bool max)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (!x)
        return;
    if (w < 0 || h < 0) {
        wl_resource_post_error(resource, XDG_TOPLEVEL_ERROR_INVALID_SIZE, "negative size %dx%d", w, h);
        return;
    }
    if (max) {
        x->toplevel.pending_max_w = w;
        x->toplevel.pending_max_h = h;
    } else {
        x->toplevel.pending_min_w = w;
        x->toplevel.pending_min_h = h;
    }
}

static void toplevel_set_max_size(struct wl_client *client, struct wl_resource *resource, int32_t w,
                                  int32_t h)
{
    set_size_hint(resource, w, h, true);
}

static void toplevel_set_min_size(struct wl_client *client, struct wl_resource *resource, int32_t w,
                                  int32_t h)
{
    set_size_hint(resource, w, h, false);
}

static void set_flag(struct wl_resource *resource, uint32_t flag, bool on)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (!x)
        return;
    uint32_t f = on ? x->content.flags | flag : x->content.flags & ~flag;
    if (f == x->content.flags)
        return;
    x->content.flags = f;
    if (x->window)
        bh_window_send_flags(x->window);
    /* Until dom0 answers, the client keeps its current state. */
    schedule_configure(x);
}

static void toplevel_set_maximized(struct wl_client *client, struct wl_resource *resource)
{
    set_flag(resource, BH_GUI_FLAG_MAXIMIZED, true);
}

static void toplevel_unset_maximized(struct wl_client *client, struct wl_resource *resource)
{
    set_flag(resource, BH_GUI_FLAG_MAXIMIZED, false);
}

static void toplevel_set_fullscreen(struct wl_client *client, struct wl_resource *resource,
                                    struct wl_resource *output)
{
    set_flag(resource, BH_GUI_FLAG_FULLSCREEN, true);
}

static void toplevel_unset_fullscreen(struct wl_client *client, struct wl_resource *resource)
{
    set_flag(resource, BH_GUI_FLAG_FULLSCREEN, false);
}

static void toplevel_set_minimized(struct wl_client *client, struct wl_resource *resource)
{
    /* Not in the GUI protocol: dom0 minimises. */
}

static const struct xdg_toplevel_interface toplevel_impl = {
    .destroy = bh_request_destroy,
    .set_parent = toplevel_set_parent,
    .set_title = toplevel_set_title,
    .set_app_id = toplevel_set_app_id,
    .show_window_menu = toplevel_show_window_menu,
    .move = toplevel_move,
    .resize = toplevel_resize,
    .set_max_size = toplevel_set_max_size,
    .set_min_size = toplevel_set_min_size,
    .set_maximized = toplevel_set_maximized,
    .unset_maximized = toplevel_unset_maximized,
    .set_fullscreen = toplevel_set_fullscreen,
    .unset_fullscreen = toplevel_unset_fullscreen,
    .set_minimized = toplevel_set_minimized,
};

/* The role object went away: the surface is unmapped and role-less again
 * from the xdg_surface's point of view (it may not get a new role). */
static void role_resource_destroy(struct wl_resource *resource)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (!x)
        return;
    if (x->configure_idle) {
        wl_event_source_remove(x->configure_idle);
        x->configure_idle = NULL;
    }
    unmap(x);
    bh_signal_emit_safe(&x->role_destroy, x);
    if (x->kind == BH_XDG_TOPLEVEL) {
        wl_list_remove(&x->toplevel.parent_destroy.link);
        wl_list_init(&x->toplevel.parent_destroy.link);
        x->toplevel.parent = NULL;
        if (x->toplevel.decoration)
            wl_resource_set_user_data(x->toplevel.decoration, NULL);
        x->toplevel.decoration = NULL;
    } else if (x->kind == BH_XDG_POPUP) {
        wl_list_remove(&x->popup.parent_destroy.link);
        wl_list_init(&x->popup.parent_destroy.link);
        x->popup.parent = NULL;
    }
    x->role_resource = NULL;
    x->initial_commit = false;
    x->configured = false;
}

static void xdg_get_toplevel(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (!x->surface) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT, "its wl_surface is gone");
        return;
    }
    if (x->kind != BH_XDG_NONE) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_ALREADY_CONSTRUCTED,
                               "xdg_surface already has a role");
        return;
    }
    struct wl_resource *r =
        wl_resource_create(client, &xdg_toplevel_interface, wl_resource_get_version(resource), id);
    if (!r) {
        wl_client_post_no_memory(client);
        return;
    }
    x->kind = BH_XDG_TOPLEVEL;
    x->role_resource = r;
    wl_resource_set_implementation(r, &toplevel_impl, x, role_resource_destroy);
    if (wl_resource_get_version(r) >= XDG_TOPLEVEL_WM_CAPABILITIES_SINCE_VERSION) {
        struct wl_array caps;
        uint32_t *p;
        wl_array_init(&caps);
        if ((p = wl_array_add(&caps, sizeof(*p))))
            *p = XDG_TOPLEVEL_WM_CAPABILITIES_MAXIMIZE;
        if ((p = wl_array_add(&caps, sizeof(*p))))
            *p = XDG_TOPLEVEL_WM_CAPABILITIES_FULLSCREEN;
        xdg_toplevel_send_wm_capabilities(r, &caps);
        wl_array_release(&caps);
    }
}

/* ---- xdg_popup ------------------------------------------------------------------- */

static void popup_grab(struct wl_client *client, struct wl_resource *resource, struct wl_resource *seat,
                       uint32_t serial)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (!x)
        return;
    if (x->mapped) {
        wl_resource_post_error(resource, XDG_POPUP_ERROR_INVALID_GRAB, "grab after the popup was mapped");
        return;
    }
    x->popup.grab = true;
}

static void popup_reposition(struct wl_client *client, struct wl_resource *resource,
                             struct wl_resource *positioner, uint32_t token)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    struct bh_positioner *p = wl_resource_get_user_data(positioner);
    if (!x)
        return;
    if (!p->has_size || !p->has_anchor_rect) {
        wl_resource_post_error(resource, XDG_WM_BASE_ERROR_INVALID_POSITIONER, "incomplete positioner");
        return;
    }
    x->popup.positioner = *p;
    bh_positioner_place(p, &x->content.popup_x, &x->content.popup_y);
    xdg_popup_send_repositioned(resource, token);
    schedule_configure(x);
}

static const struct xdg_popup_interface popup_impl = {
    .destroy = bh_request_destroy,
    .grab = popup_grab,
    .reposition = popup_reposition,
};

static void popup_parent_gone(struct wl_listener *l, void *data)
{
    struct bh_xdg_surface *x = wl_container_of(l, x, popup.parent_destroy);
    wl_list_remove(&l->link);
    wl_list_init(&l->link);
    x->popup.parent = NULL;
    bh_xdg_popup_dismiss(x);
}

static void xdg_get_popup(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                          struct wl_resource *parent_res, struct wl_resource *positioner)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    struct bh_xdg_surface *parent = parent_res ? xdg_from_resource(parent_res) : NULL;
    struct bh_positioner *p = wl_resource_get_user_data(positioner);

    if (!x->surface) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT, "its wl_surface is gone");
        return;
    }
    if (x->kind != BH_XDG_NONE) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_ALREADY_CONSTRUCTED,
                               "xdg_surface already has a role");
        return;
    }
    if (!p->has_size || !p->has_anchor_rect) {
        wl_resource_post_error(x->wm_base, XDG_WM_BASE_ERROR_INVALID_POSITIONER,
                               "positioner without size or anchor rectangle");
        return;
    }
    if (parent && (parent == x || parent->kind == BH_XDG_NONE)) {
        wl_resource_post_error(x->wm_base, XDG_WM_BASE_ERROR_INVALID_POPUP_PARENT,
                               "popup parent has no xdg role");
        return;
    }
    struct wl_resource *r =
        wl_resource_create(client, &xdg_popup_interface, wl_resource_get_version(resource), id);
    if (!r) {
        wl_client_post_no_memory(client);
        return;
    }
    x->kind = BH_XDG_POPUP;
    x->role_resource = r;
    x->popup.parent = parent;
    if (parent)
        wl_signal_add(&parent->role_destroy, &x->popup.parent_destroy);
    x->popup.positioner = *p;
    bh_positioner_place(p, &x->content.popup_x, &x->content.popup_y);
    wl_resource_set_implementation(r, &popup_impl, x, role_resource_destroy);
}

/* ---- xdg_surface ------------------------------------------------------------------- */

static void xdg_surface_destroy_req(struct wl_client *client, struct wl_resource *resource)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    if (x->role_resource) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT,
                               "xdg_surface destroyed before its role object");
        return;
    }
    wl_resource_destroy(resource);
}

static void xdg_set_window_geometry(struct wl_client *client, struct wl_resource *resource, int32_t x,
                                    int32_t y, int32_t w, int32_t h)
{
    struct bh_xdg_surface *xs = xdg_from_resource(resource);
    if (w <= 0 || h <= 0) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_INVALID_SIZE, "window geometry %dx%d", w, h);
        return;
    }
    xs->pending_has_geometry = true;
    xs->pending_geometry = bh_box_make(x, y, w, h);
}

static void xdg_ack_configure(struct wl_client *client, struct wl_resource *resource, uint32_t serial)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    uint32_t n = x->n_sent < BH_XDG_SERIALS ? x->n_sent : BH_XDG_SERIALS;
    for (uint32_t i = 0; i < n; i++) {
        if (x->sent_serials[i] == serial) {
            x->configured = true;
            x->acked_serial = serial;
            return;
        }
    }
    wl_resource_post_error(resource, XDG_SURFACE_ERROR_INVALID_SERIAL, "serial %u was never sent", serial);
}

static const struct xdg_surface_interface xdg_surface_impl = {
    .destroy = xdg_surface_destroy_req,
    .get_toplevel = xdg_get_toplevel,
    .get_popup = xdg_get_popup,
    .set_window_geometry = xdg_set_window_geometry,
    .ack_configure = xdg_ack_configure,
};

static void xdg_surface_detach(struct bh_xdg_surface *x)
{
    if (x->role_resource) {
        /* The role object stays (the client will destroy it) but is inert. */
        struct wl_resource *r = x->role_resource;
        role_resource_destroy(r);
        wl_resource_set_user_data(r, NULL);
    }
    if (x->surface) {
        x->surface->role_data = NULL;
        x->surface = NULL;
    }
    wl_list_remove(&x->surface_destroy.link);
    wl_list_init(&x->surface_destroy.link);
}

static void xdg_surface_surface_gone(struct wl_listener *l, void *data)
{
    struct bh_xdg_surface *x = wl_container_of(l, x, surface_destroy);
    xdg_surface_detach(x);
}

static void xdg_surface_resource_destroy(struct wl_resource *resource)
{
    struct bh_xdg_surface *x = xdg_from_resource(resource);
    xdg_surface_detach(x);
    free(x);
}

/* ---- xdg_wm_base --------------------------------------------------------------- */

static void wm_base_create_positioner(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_positioner *p = calloc(1, sizeof(*p));
    struct wl_resource *r = NULL;
    if (p)
        r = wl_resource_create(client, &xdg_positioner_interface, wl_resource_get_version(resource), id);
    if (!r) {
        free(p);
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(r, &positioner_impl, p, positioner_resource_destroy);
}

static void wm_base_get_xdg_surface(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                                    struct wl_resource *surface_res)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct bh_surface *s = bh_surface_from_resource(surface_res);

    if (s->buffer || s->pending.buffer) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
                               "wl_surface@%u already has a buffer", wl_resource_get_id(surface_res));
        return;
    }
    struct bh_xdg_surface *x = calloc(1, sizeof(*x));
    if (!x) {
        wl_client_post_no_memory(client);
        return;
    }
    if (!bh_surface_set_role(s, &xdg_surface_role, x, resource, XDG_WM_BASE_ERROR_ROLE)) {
        free(x);
        return;
    }
    x->resource = wl_resource_create(client, &xdg_surface_interface, wl_resource_get_version(resource), id);
    if (!x->resource) {
        s->role_data = NULL;
        free(x);
        wl_client_post_no_memory(client);
        return;
    }
    x->agent = a;
    x->wm_base = resource;
    x->surface = s;
    wl_signal_init(&x->role_destroy);
    wl_list_init(&x->grab_link);
    wl_list_init(&x->toplevel.parent_destroy.link);
    x->toplevel.parent_destroy.notify = toplevel_parent_gone;
    wl_list_init(&x->popup.parent_destroy.link);
    x->popup.parent_destroy.notify = popup_parent_gone;
    x->surface_destroy.notify = xdg_surface_surface_gone;
    wl_signal_add(&s->destroy_signal, &x->surface_destroy);
    wl_resource_set_implementation(x->resource, &xdg_surface_impl, x, xdg_surface_resource_destroy);
}

static void wm_base_pong(struct wl_client *client, struct wl_resource *resource, uint32_t serial)
{
    /* We never ping: an unresponsive client is dom0's to judge. */
}

static const struct xdg_wm_base_interface wm_base_impl = {
    .destroy = bh_request_destroy,
    .create_positioner = wm_base_create_positioner,
    .get_xdg_surface = wm_base_get_xdg_surface,
    .pong = wm_base_pong,
};

static void wm_base_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    bh_resource_new(client, &xdg_wm_base_interface, version, id, &wm_base_impl, data, NULL);
}

/* ---- server-side decorations ---------------------------------------------------------- */

static void decoration_set_mode(struct wl_client *client, struct wl_resource *resource, uint32_t mode)
{
    /* Whatever the client prefers, dom0 draws the frame. */
    struct bh_xdg_surface *x = wl_resource_get_user_data(resource);
    if (x)
        schedule_configure(x);
}

static void decoration_unset_mode(struct wl_client *client, struct wl_resource *resource)
{
    decoration_set_mode(client, resource, 0);
}

static const struct zxdg_toplevel_decoration_v1_interface decoration_impl = {
    .destroy = bh_request_destroy,
    .set_mode = decoration_set_mode,
    .unset_mode = decoration_unset_mode,
};

static void decoration_resource_destroy(struct wl_resource *resource)
{
    struct bh_xdg_surface *x = wl_resource_get_user_data(resource);
    if (x)
        x->toplevel.decoration = NULL;
}

static void decoration_manager_get(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                                   struct wl_resource *toplevel)
{
    struct bh_xdg_surface *x = wl_resource_get_user_data(toplevel);
    if (x && x->toplevel.decoration) {
        wl_resource_post_error(resource, ZXDG_TOPLEVEL_DECORATION_V1_ERROR_ALREADY_CONSTRUCTED,
                               "toplevel already has a decoration object");
        return;
    }
    struct wl_resource *r = bh_resource_new(client, &zxdg_toplevel_decoration_v1_interface, 1, id,
                                            &decoration_impl, x, decoration_resource_destroy);
    if (!r)
        return;
    if (x) {
        x->toplevel.decoration = r;
        schedule_configure(x);
    }
}

static const struct zxdg_decoration_manager_v1_interface decoration_manager_impl = {
    .destroy = bh_request_destroy,
    .get_toplevel_decoration = decoration_manager_get,
};

static void decoration_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    bh_resource_new(client, &zxdg_decoration_manager_v1_interface, version, id, &decoration_manager_impl,
                    data, NULL);
}

void bh_xdg_init(struct bh_agent *a)
{
    a->wm_base_global =
        wl_global_create(a->display, &xdg_wm_base_interface, WM_BASE_VERSION, a, wm_base_bind);
    a->decoration_global =
        wl_global_create(a->display, &zxdg_decoration_manager_v1_interface, 1, a, decoration_bind);
}
