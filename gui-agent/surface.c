/* surface.c — wl_compositor, wl_surface, wl_region, wl_subcompositor and
 * wl_subsurface: double-buffered surface state, damage, the subsurface tree
 * and frame callbacks.
 *
 * Owns: every bh_surface and bh_subsurface, the current wl_buffer of each
 * surface (held until replaced, then released: at once, or with the next
 * frame callbacks when the replacing commit asked for one in a shown
 * window), committed damage and frame callbacks until a window (window.c)
 * or the deferred timer (frames.c) takes them.
 * Must never: read pixels (window.c composes), talk to dom0, call a role
 * or window code by name (a surface knows its role, and through the root's
 * role its window, only by its bh_surface_role table), or trust a client
 * value: sizes are capped (BH_MAX_WINDOW_*), regions bounded, roles and
 * tree cycles checked, violations become protocol errors. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <wayland-server-protocol.h>

#include "shm-layout.h"

#define MOD "surface"

static const struct wl_surface_interface surface_impl;
static const struct wl_region_interface region_impl;
static const struct wl_subsurface_interface subsurface_impl;

/* A subsurface needs no hook: its tree's root says how it is shown. */
static const struct bh_surface_role subsurface_role = {.name = "wl_subsurface"};

static void frames_destroy(struct wl_list *frames)
{
    struct wl_resource *r, *tmp;
    wl_resource_for_each_safe(r, tmp, frames) wl_resource_destroy(r);
}

/* ---- double-buffered state -------------------------------------------------- */

static void state_buffer_destroyed(struct wl_listener *l, void *data)
{
    struct bh_surface_state *st = wl_container_of(l, st, buffer_destroy);
    st->buffer = NULL;
    wl_list_remove(&st->buffer_destroy.link);
    wl_list_init(&st->buffer_destroy.link);
}

static void state_init(struct bh_surface_state *st)
{
    memset(st, 0, sizeof(*st));
    wl_list_init(&st->frames);
    wl_list_init(&st->buffer_destroy.link);
    st->buffer_destroy.notify = state_buffer_destroyed;
    bh_region_init(&st->input, true);
}

static void state_set_buffer(struct bh_surface_state *st, struct wl_resource *buffer)
{
    wl_list_remove(&st->buffer_destroy.link);
    wl_list_init(&st->buffer_destroy.link);
    st->buffer = buffer;
    if (buffer)
        wl_resource_add_destroy_listener(buffer, &st->buffer_destroy);
}

/* Reset after the state was consumed; frames must already be moved out. */
static void state_reset(struct bh_surface_state *st)
{
    state_set_buffer(st, NULL);
    st->attached = false;
    bh_rects_clear(&st->damage);
    bh_rects_clear(&st->buffer_damage);
    st->input_set = false;
    st->scale_set = false;
    st->transform_set = false;
}

static void state_fini(struct bh_surface_state *st)
{
    state_set_buffer(st, NULL);
    frames_destroy(&st->frames);
}

/* Merge a synchronized subsurface's commit into its cache. */
static void state_merge(struct bh_surface_state *dst, struct bh_surface_state *src)
{
    if (src->attached) {
        dst->attached = true;
        state_set_buffer(dst, src->buffer);
    }
    bh_rects_add_all(&dst->damage, &src->damage);
    bh_rects_add_all(&dst->buffer_damage, &src->buffer_damage);
    if (src->input_set) {
        dst->input_set = true;
        dst->input = src->input;
    }
    if (src->scale_set) {
        dst->scale_set = true;
        dst->scale = src->scale;
    }
    if (src->transform_set) {
        dst->transform_set = true;
        dst->transform = src->transform;
    }
    wl_list_insert_list(dst->frames.prev, &src->frames);
    wl_list_init(&src->frames);
    state_reset(src);
}

/* ---- current buffer ------------------------------------------------------------ */

static void current_buffer_destroyed(struct wl_listener *l, void *data)
{
    struct bh_surface *s = wl_container_of(l, s, buffer_destroy);
    /* Contents become undefined; the size stays so the tree keeps its shape. */
    s->buffer = NULL;
    wl_list_remove(&s->buffer_destroy.link);
    wl_list_init(&s->buffer_destroy.link);
}

/* `hold`: the replaced buffer's release may wait for the next frame
 * callbacks (see surface_apply). */
static void current_set_buffer(struct bh_surface *s, struct wl_resource *buffer, bool hold)
{
    if (s->buffer == buffer)
        return;
    /* Attached again before its release went out: in use again, so no
     * release is due for it. */
    if (buffer && s->held.buffer == buffer)
        bh_held_forget(&s->held);
    if (s->buffer) {
        if (hold && buffer)
            bh_held_set(s->agent, &s->held, s->buffer);
        else
            wl_buffer_send_release(s->buffer);
    }
    wl_list_remove(&s->buffer_destroy.link);
    wl_list_init(&s->buffer_destroy.link);
    s->buffer = buffer;
    if (buffer)
        wl_resource_add_destroy_listener(buffer, &s->buffer_destroy);
}

/* ---- tree helpers ---------------------------------------------------------------- */

struct bh_surface *bh_surface_from_resource(struct wl_resource *r)
{
    return wl_resource_get_user_data(r);
}

static struct bh_subsurface *as_subsurface(struct bh_surface *s)
{
    return s && s->role == &subsurface_role ? s->role_data : NULL;
}

struct bh_surface *bh_surface_root(struct bh_surface *s)
{
    struct bh_subsurface *sub;
    /* Depth is bounded: get_subsurface refuses cycles, so this terminates. */
    while ((sub = as_subsurface(s)) && sub->parent)
        s = sub->parent;
    return s;
}

void bh_surface_root_offset(struct bh_surface *s, int32_t *x, int32_t *y)
{
    struct bh_subsurface *sub;
    int64_t ox = 0, oy = 0;
    while ((sub = as_subsurface(s)) && sub->parent) {
        ox += sub->x;
        oy += sub->y;
        s = sub->parent;
    }
    *x = (int32_t)(ox > INT32_MAX ? INT32_MAX : ox < INT32_MIN ? INT32_MIN : ox);
    *y = (int32_t)(oy > INT32_MAX ? INT32_MAX : oy < INT32_MIN ? INT32_MIN : oy);
}

/* What the role at the root of a tree says about showing it; every hook
 * may be absent (cursor, drag icon, no role: nothing shows the tree). */
static bool tree_presented(struct bh_surface *root)
{
    return root->role && root->role->presented && root->role->presented(root);
}

static void tree_damage_all(struct bh_surface *root)
{
    if (root->role && root->role->damage_all)
        root->role->damage_all(root);
}

static bool tree_recompose(struct bh_surface *root)
{
    return root->role && root->role->recompose && root->role->recompose(root);
}

static struct bh_surface *surface_at_rec(struct bh_surface *s, int32_t x, int32_t y, int32_t *sx, int32_t *sy)
{
    struct bh_stack_node *n;
    if (s->width <= 0)
        return NULL;
    wl_list_for_each_reverse(n, &s->stack, cur)
    {
        if (n == &s->self) {
            struct bh_box box = bh_box_make(0, 0, s->width, s->height);
            if (bh_box_contains_point(&box, x, y) && bh_region_contains(&s->input, x, y)) {
                *sx = x;
                *sy = y;
                return s;
            }
            continue;
        }
        struct bh_subsurface *sub = as_subsurface(n->surface);
        struct bh_surface *hit = surface_at_rec(n->surface, x - sub->x, y - sub->y, sx, sy);
        if (hit)
            return hit;
    }
    return NULL;
}

struct bh_surface *bh_surface_at(struct bh_surface *root, int32_t x, int32_t y, int32_t *sx, int32_t *sy)
{
    return surface_at_rec(root, x, y, sx, sy);
}

bool bh_surface_set_role(struct bh_surface *s, const struct bh_surface_role *role, void *data,
                         struct wl_resource *error_res, uint32_t error_code)
{
    /* A surface keeps its role for life (a cursor may be set again). */
    if (s->role && s->role != role) {
        wl_resource_post_error(error_res, error_code, "wl_surface@%u already has another role",
                               wl_resource_get_id(s->resource));
        return false;
    }
    if (s->role == role && s->role_data && data && s->role_data != data) {
        wl_resource_post_error(error_res, error_code, "wl_surface@%u already has a role object",
                               wl_resource_get_id(s->resource));
        return false;
    }
    s->role = role;
    s->role_data = data;
    return true;
}

/* ---- commit ------------------------------------------------------------------------ */

/* Convert a buffer-coordinate box to surface coordinates, rounding outwards. */
static struct bh_box buffer_to_surface(const struct bh_box *b, int32_t scale)
{
    struct bh_box r = {
        b->x1 / scale - (b->x1 % scale < 0),
        b->y1 / scale - (b->y1 % scale < 0),
        b->x2 / scale + (b->x2 % scale > 0),
        b->y2 / scale + (b->y2 % scale > 0),
    };
    return r;
}

/* Move a committed state into the current one. false when a protocol error
 * was posted (the client is being disconnected: stop touching it). */
static bool surface_apply(struct bh_surface *s, struct bh_surface_state *st)
{
    if (st->scale_set)
        s->scale = st->scale;
    if (st->transform_set)
        s->transform = st->transform;

    int32_t old_w = s->width, old_h = s->height;
    if (st->attached) {
        struct wl_resource *buffer = st->buffer;
        if (buffer) {
            struct wl_shm_buffer *shm = wl_shm_buffer_get(buffer);
            if (!shm) {
                wl_client_post_implementation_error(wl_resource_get_client(s->resource),
                                                    "only wl_shm buffers are supported");
                return false;
            }
            int32_t bw = wl_shm_buffer_get_width(shm), bh = wl_shm_buffer_get_height(shm);
            if (bw <= 0 || bh <= 0 || (uint32_t)bw > BH_MAX_WINDOW_WIDTH ||
                (uint32_t)bh > BH_MAX_WINDOW_HEIGHT) {
                wl_resource_post_error(s->resource, WL_SURFACE_ERROR_INVALID_SIZE,
                                       "buffer %dx%d outside 1x1..%ux%u", bw, bh, BH_MAX_WINDOW_WIDTH,
                                       BH_MAX_WINDOW_HEIGHT);
                return false;
            }
            /* shm.c refuses a short stride at create_buffer already; checked
             * again here, since composing such rows would read past the
             * client's pool (found by wlcs), should a buffer ever get by. */
            int32_t stride = wl_shm_buffer_get_stride(shm);
            enum bh_shm_verdict v = bh_shm_layout_check(bw, bh, stride, wl_shm_buffer_get_format(shm));
            if (v != BH_SHM_OK) {
                wl_resource_post_error(s->resource, WL_SURFACE_ERROR_INVALID_SIZE,
                                       "buffer %dx%d with a stride of %d bytes: %s", bw, bh, stride,
                                       bh_shm_verdict_reason(v));
                return false;
            }
            if (bw % s->scale || bh % s->scale) {
                wl_resource_post_error(s->resource, WL_SURFACE_ERROR_INVALID_SIZE,
                                       "buffer %dx%d not a multiple of scale %d", bw, bh, s->scale);
                return false;
            }
            s->buf_width = bw;
            s->buf_height = bh;
        } else {
            s->buf_width = s->buf_height = 0;
        }
        /* A client that asked for a frame callback with this commit waits
         * for it before drawing again, and a shown window answers it when
         * dom0 has presented: the old buffer's release can ride with that
         * callback instead of waking the client on its own now. Anywhere
         * else (no dom0, not shown, no callback) it goes out at once. */
        bool presented = !wl_list_empty(&st->frames) && tree_presented(bh_surface_root(s));
        current_set_buffer(s, buffer, presented);
    }
    if (s->buf_width > 0) {
        s->width = s->buf_width / s->scale;
        s->height = s->buf_height / s->scale;
    } else {
        s->width = s->height = 0;
    }

    struct bh_box extent = bh_box_make(0, 0, s->width, s->height);
    if (s->width != old_w || s->height != old_h || st->scale_set || st->transform_set) {
        bh_rects_add(&s->damage, extent);
    } else {
        bh_rects_add_all(&s->damage, &st->damage);
        for (uint32_t i = 0; i < st->buffer_damage.n; i++)
            bh_rects_add(&s->damage, buffer_to_surface(&st->buffer_damage.r[i], s->scale));
        bh_rects_clip(&s->damage, &extent);
    }
    if (st->input_set)
        s->input = st->input;
    wl_list_insert_list(s->frames.prev, &st->frames);
    wl_list_init(&st->frames);
    state_reset(st);
    return true;
}

static bool subsurface_is_sync(struct bh_subsurface *sub)
{
    /* Synchronized if set so, or if any ancestor subsurface is. */
    while (sub) {
        if (sub->sync)
            return true;
        sub = sub->parent ? as_subsurface(sub->parent) : NULL;
    }
    return false;
}

static bool surface_commit_state(struct bh_surface *s, struct bh_surface_state *st);

/* The parent committed: its children's positions, order and cached commits
 * take effect with it. */
static bool apply_children(struct bh_surface *s)
{
    struct bh_stack_node *n;
    bool changed = false;

    /* Stacking order: rebuild the current list from the pending one. */
    wl_list_for_each(n, &s->pending_stack, pending)
    {
        wl_list_remove(&n->cur);
        wl_list_insert(s->stack.prev, &n->cur);
    }
    wl_list_for_each(n, &s->stack, cur)
    {
        if (n == &s->self)
            continue;
        struct bh_subsurface *sub = as_subsurface(n->surface);
        if (sub->x != sub->pending_x || sub->y != sub->pending_y) {
            sub->x = sub->pending_x;
            sub->y = sub->pending_y;
            changed = true;
        }
        if (sub->has_cache && subsurface_is_sync(sub)) {
            sub->has_cache = false;
            if (!surface_commit_state(n->surface, &n->surface->cached))
                return false;
            changed = true;
        }
    }
    if (changed)
        tree_damage_all(bh_surface_root(s));
    return true;
}

static bool surface_commit_state(struct bh_surface *s, struct bh_surface_state *st)
{
    int32_t old_w = s->width;
    if (!surface_apply(s, st))
        return false;
    if (!apply_children(s))
        return false;
    /* A subsurface appearing or vanishing changes what the window shows
     * outside its own damage. */
    if (s->role == &subsurface_role && (old_w > 0) != (s->width > 0))
        tree_damage_all(bh_surface_root(s));
    return true;
}

static void surface_commit(struct wl_client *client, struct wl_resource *resource)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    struct bh_subsurface *sub = as_subsurface(s);

    if (sub && subsurface_is_sync(sub) && sub->parent) {
        state_merge(&s->cached, &s->pending);
        sub->has_cache = true;
        return;
    }
    if (sub && sub->has_cache) {
        /* Switched to desynchronized with a cache: the cache goes first. */
        sub->has_cache = false;
        state_merge(&s->cached, &s->pending);
        if (!surface_commit_state(s, &s->cached))
            return;
    } else if (!surface_commit_state(s, &s->pending)) {
        return;
    }

    if (s->role && s->role->commit && s->role_data) {
        s->role->commit(s);
        return;
    }
    /* Anything in a shown window's tree (even a subsurface that just
     * unmapped itself) recomposes that window. */
    if (tree_recompose(bh_surface_root(s)))
        return;
    /* Cursor, drag icon, a surface without role or an unmapped tree: nobody
     * shows it, its callbacks go to the slow timer. */
    bh_agent_defer_frames(s->agent, &s->frames);
    bh_rects_clear(&s->damage);
}

/* ---- wl_surface requests ------------------------------------------------------- */

static void surface_attach(struct wl_client *client, struct wl_resource *resource, struct wl_resource *buffer,
                           int32_t x, int32_t y)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    /* The attach offset (x, y) would move a toplevel; dom0 places windows,
     * so it is accepted and ignored. */
    s->pending.attached = true;
    state_set_buffer(&s->pending, buffer);
    if (buffer && s->role && s->role->attach && s->role_data)
        s->role->attach(s);
}

static void surface_damage(struct wl_client *client, struct wl_resource *resource, int32_t x, int32_t y,
                           int32_t w, int32_t h)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    bh_rects_add(&s->pending.damage, bh_box_make(x, y, w, h));
}

static void surface_damage_buffer(struct wl_client *client, struct wl_resource *resource, int32_t x,
                                  int32_t y, int32_t w, int32_t h)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    bh_rects_add(&s->pending.buffer_damage, bh_box_make(x, y, w, h));
}

static void surface_frame(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    struct wl_resource *cb =
        bh_resource_new(client, &wl_callback_interface, 1, id, NULL, NULL, bh_resource_unlink);
    if (!cb)
        return;
    wl_list_insert(s->pending.frames.prev, wl_resource_get_link(cb));
}

static void surface_set_opaque_region(struct wl_client *client, struct wl_resource *resource,
                                      struct wl_resource *region)
{
    /* An optimisation hint only; composing does not need it. */
}

static void surface_set_input_region(struct wl_client *client, struct wl_resource *resource,
                                     struct wl_resource *region)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    s->pending.input_set = true;
    if (region)
        s->pending.input = *(struct bh_region *)wl_resource_get_user_data(region);
    else
        bh_region_init(&s->pending.input, true);
}

static void surface_set_buffer_transform(struct wl_client *client, struct wl_resource *resource,
                                         int32_t transform)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    if (transform < WL_OUTPUT_TRANSFORM_NORMAL || transform > WL_OUTPUT_TRANSFORM_FLIPPED_270) {
        wl_resource_post_error(resource, WL_SURFACE_ERROR_INVALID_TRANSFORM, "transform %d", transform);
        return;
    }
    /* Recorded, not applied: our only output is never rotated, so clients
     * have no reason to pre-rotate (docs/gui-agent.md). */
    s->pending.transform_set = true;
    s->pending.transform = transform;
}

static void surface_set_buffer_scale(struct wl_client *client, struct wl_resource *resource, int32_t scale)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    if (scale < 1 || scale > 8) {
        wl_resource_post_error(resource, WL_SURFACE_ERROR_INVALID_SCALE, "scale %d outside 1..8", scale);
        return;
    }
    s->pending.scale_set = true;
    s->pending.scale = scale;
}

static const struct wl_surface_interface surface_impl = {
    .destroy = bh_request_destroy,
    .attach = surface_attach,
    .damage = surface_damage,
    .frame = surface_frame,
    .set_opaque_region = surface_set_opaque_region,
    .set_input_region = surface_set_input_region,
    .commit = surface_commit,
    .set_buffer_transform = surface_set_buffer_transform,
    .set_buffer_scale = surface_set_buffer_scale,
    .damage_buffer = surface_damage_buffer,
};

static void subsurface_make_inert(struct bh_subsurface *sub);

static void surface_resource_destroy(struct wl_resource *resource)
{
    struct bh_surface *s = wl_resource_get_user_data(resource);
    struct bh_surface *root = NULL; /* of the tree s leaves, to recompose */

    /* Listeners (xdg_surface, subsurface, seat focus) detach first. */
    bh_signal_emit_safe(&s->destroy_signal, s);

    /* Children lose their parent and become inert until destroyed. */
    struct bh_stack_node *n, *tmp;
    wl_list_for_each_safe(n, tmp, &s->stack, cur)
    {
        if (n != &s->self)
            subsurface_make_inert(as_subsurface(n->surface));
    }
    if (s->role == &subsurface_role && s->role_data) {
        struct bh_subsurface *sub = s->role_data;
        root = sub->parent ? bh_surface_root(sub->parent) : NULL;
        subsurface_make_inert(sub);
        sub->surface = NULL;
    }

    current_set_buffer(s, NULL, false);
    bh_held_send(&s->held);
    state_fini(&s->pending);
    state_fini(&s->cached);
    frames_destroy(&s->frames);
    wl_list_remove(&s->link);
    free(s);

    if (root) {
        tree_damage_all(root);
        tree_recompose(root);
    }
}

static void compositor_create_surface(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct bh_surface *s = calloc(1, sizeof(*s));
    if (!s) {
        wl_client_post_no_memory(client);
        return;
    }
    s->resource = wl_resource_create(client, &wl_surface_interface, wl_resource_get_version(resource), id);
    if (!s->resource) {
        free(s);
        wl_client_post_no_memory(client);
        return;
    }
    s->agent = a;
    state_init(&s->pending);
    state_init(&s->cached);
    s->pending.scale = s->cached.scale = 1;
    s->scale = 1;
    bh_region_init(&s->input, true);
    wl_list_init(&s->buffer_destroy.link);
    s->buffer_destroy.notify = current_buffer_destroyed;
    bh_held_init(&s->held);
    wl_list_init(&s->frames);
    wl_list_init(&s->stack);
    wl_list_init(&s->pending_stack);
    s->self.surface = s;
    wl_list_insert(&s->stack, &s->self.cur);
    wl_list_insert(&s->pending_stack, &s->self.pending);
    wl_signal_init(&s->destroy_signal);
    wl_list_insert(&a->surfaces, &s->link);
    wl_resource_set_implementation(s->resource, &surface_impl, s, surface_resource_destroy);
}

/* ---- wl_region ------------------------------------------------------------------- */

static void region_op(struct wl_resource *resource, int32_t x, int32_t y, int32_t w, int32_t h, bool add)
{
    struct bh_region *g = wl_resource_get_user_data(resource);
    if (w < 0 || h < 0)
        return; /* empty by definition */
    if (!bh_region_op(g, bh_box_make(x, y, w, h), add))
        wl_client_post_implementation_error(wl_resource_get_client(resource),
                                            "wl_region@%u has more than %u rectangles",
                                            wl_resource_get_id(resource), BH_REGION_MAX_OPS);
}

static void region_add(struct wl_client *client, struct wl_resource *resource, int32_t x, int32_t y,
                       int32_t w, int32_t h)
{
    region_op(resource, x, y, w, h, true);
}

static void region_subtract(struct wl_client *client, struct wl_resource *resource, int32_t x, int32_t y,
                            int32_t w, int32_t h)
{
    region_op(resource, x, y, w, h, false);
}

static const struct wl_region_interface region_impl = {
    .destroy = bh_request_destroy,
    .add = region_add,
    .subtract = region_subtract,
};

static void region_resource_destroy(struct wl_resource *resource)
{
    free(wl_resource_get_user_data(resource));
}

static void compositor_create_region(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_region *g = calloc(1, sizeof(*g));
    struct wl_resource *r = NULL;
    if (g)
        r = wl_resource_create(client, &wl_region_interface, 1, id);
    if (!r) {
        free(g);
        wl_client_post_no_memory(client);
        return;
    }
    bh_region_init(g, false);
    wl_resource_set_implementation(r, &region_impl, g, region_resource_destroy);
}

static const struct wl_compositor_interface compositor_impl = {
    .create_surface = compositor_create_surface,
    .create_region = compositor_create_region,
};

static void compositor_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    bh_resource_new(client, &wl_compositor_interface, version, id, &compositor_impl, data, NULL);
}

/* ---- subsurfaces ------------------------------------------------------------------- */

static struct bh_subsurface *subsurface_from_resource(struct wl_resource *r)
{
    return wl_resource_get_user_data(r);
}

static void subsurface_make_inert(struct bh_subsurface *sub)
{
    if (!sub || !sub->parent)
        return;
    wl_list_remove(&sub->node.cur);
    wl_list_remove(&sub->node.pending);
    wl_list_init(&sub->node.cur);
    wl_list_init(&sub->node.pending);
    sub->parent = NULL;
}

static void subsurface_set_position(struct wl_client *client, struct wl_resource *resource, int32_t x,
                                    int32_t y)
{
    struct bh_subsurface *sub = subsurface_from_resource(resource);
    if (!sub || !sub->parent)
        return;
    sub->pending_x = x;
    sub->pending_y = y;
}

static void subsurface_place(struct wl_resource *resource, struct wl_resource *sibling_res, bool above)
{
    struct bh_subsurface *sub = subsurface_from_resource(resource);
    if (!sub || !sub->parent)
        return;
    struct bh_surface *sibling = bh_surface_from_resource(sibling_res);
    struct bh_stack_node *target = NULL;
    if (sibling == sub->parent) {
        target = &sub->parent->self;
    } else {
        struct bh_subsurface *ss = as_subsurface(sibling);
        if (ss && ss->parent == sub->parent && ss != sub)
            target = &ss->node;
    }
    if (!target) {
        wl_resource_post_error(resource, WL_SUBSURFACE_ERROR_BAD_SURFACE,
                               "wl_surface@%u is neither a sibling nor the parent",
                               wl_resource_get_id(sibling_res));
        return;
    }
    wl_list_remove(&sub->node.pending);
    if (above)
        wl_list_insert(&target->pending, &sub->node.pending);
    else
        wl_list_insert(target->pending.prev, &sub->node.pending);
}

static void subsurface_place_above(struct wl_client *client, struct wl_resource *resource,
                                   struct wl_resource *sibling)
{
    subsurface_place(resource, sibling, true);
}

static void subsurface_place_below(struct wl_client *client, struct wl_resource *resource,
                                   struct wl_resource *sibling)
{
    subsurface_place(resource, sibling, false);
}

static void subsurface_set_sync(struct wl_client *client, struct wl_resource *resource)
{
    struct bh_subsurface *sub = subsurface_from_resource(resource);
    if (sub)
        sub->sync = true;
}

static void subsurface_set_desync(struct wl_client *client, struct wl_resource *resource)
{
    struct bh_subsurface *sub = subsurface_from_resource(resource);
    if (!sub || !sub->sync)
        return;
    sub->sync = false;
    /* A cached commit applies now if nothing above keeps it synchronized. */
    if (sub->has_cache && sub->surface && !subsurface_is_sync(sub)) {
        sub->has_cache = false;
        if (!surface_commit_state(sub->surface, &sub->surface->cached))
            return;
        tree_recompose(bh_surface_root(sub->surface));
    }
}

static const struct wl_subsurface_interface subsurface_impl = {
    .destroy = bh_request_destroy,
    .set_position = subsurface_set_position,
    .place_above = subsurface_place_above,
    .place_below = subsurface_place_below,
    .set_sync = subsurface_set_sync,
    .set_desync = subsurface_set_desync,
};

static void subsurface_resource_destroy(struct wl_resource *resource)
{
    struct bh_subsurface *sub = subsurface_from_resource(resource);
    struct bh_surface *root = NULL; /* of the tree it leaves, to recompose */
    if (sub->surface) {
        root = bh_surface_root(sub->surface);
        sub->surface->role_data = NULL;
    }
    subsurface_make_inert(sub);
    free(sub);
    if (root) {
        tree_damage_all(root);
        tree_recompose(root);
    }
}

static void subcompositor_get_subsurface(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                                         struct wl_resource *surface_res, struct wl_resource *parent_res)
{
    struct bh_surface *s = bh_surface_from_resource(surface_res);
    struct bh_surface *parent = bh_surface_from_resource(parent_res);

    if (s == parent) {
        wl_resource_post_error(resource, WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
                               "a surface cannot be its own parent");
        return;
    }
    if (s->role && !(s->role == &subsurface_role && !s->role_data)) {
        wl_resource_post_error(resource, WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
                               "wl_surface@%u already has a role", wl_resource_get_id(surface_res));
        return;
    }
    /* The parent must not be s itself or one of its descendants. */
    for (struct bh_surface *p = parent; p;) {
        if (p == s) {
            wl_resource_post_error(resource, WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
                                   "wl_surface@%u would become its own ancestor",
                                   wl_resource_get_id(surface_res));
            return;
        }
        struct bh_subsurface *ps = as_subsurface(p);
        p = ps ? ps->parent : NULL;
    }

    struct bh_subsurface *sub = calloc(1, sizeof(*sub));
    if (!sub) {
        wl_client_post_no_memory(client);
        return;
    }
    sub->resource = wl_resource_create(client, &wl_subsurface_interface, 1, id);
    if (!sub->resource) {
        free(sub);
        wl_client_post_no_memory(client);
        return;
    }
    sub->surface = s;
    sub->parent = parent;
    sub->sync = true;
    sub->node.surface = s;
    /* New subsurfaces go on top of the parent's pending stack. */
    wl_list_insert(parent->stack.prev, &sub->node.cur);
    wl_list_insert(parent->pending_stack.prev, &sub->node.pending);
    s->role = &subsurface_role;
    s->role_data = sub;
    wl_resource_set_implementation(sub->resource, &subsurface_impl, sub, subsurface_resource_destroy);
}

static const struct wl_subcompositor_interface subcompositor_impl = {
    .destroy = bh_request_destroy,
    .get_subsurface = subcompositor_get_subsurface,
};

static void subcompositor_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    bh_resource_new(client, &wl_subcompositor_interface, version, id, &subcompositor_impl, data, NULL);
}

void bh_compositor_init(struct bh_agent *a)
{
    a->compositor_global = wl_global_create(a->display, &wl_compositor_interface, 4, a, compositor_bind);
    a->subcompositor_global =
        wl_global_create(a->display, &wl_subcompositor_interface, 1, a, subcompositor_bind);
}
