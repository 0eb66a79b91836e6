/* window.c — protocol windows: what dom0 sees of each mapped toplevel and
 * popup. One shared buffer per window (a sealed memfd from core/vchan's
 * winbuf), into which only damaged rectangles are composed from the surface
 * tree; DAMAGE announces them; frame callbacks wait for dom0's
 * BUFFER_RELEASE so a client never draws faster than dom0 presents.
 *
 * Owns: window ids (1..BH_MAX_WINDOW_ID, at most BH_MAX_WINDOWS with an id),
 * window buffers, composition, pacing, and the order of messages per window
 * (CREATE, TITLE, APP_ID, HINTS, FLAGS, BUFFER, DAMAGE, MAP ... DESTROY).
 * Must never: block on dom0 (link.c queues), write outside a window buffer
 * (every rectangle is clipped to it and to the client buffer), send a
 * rectangle outside the current buffer, or call role, seat or surface code:
 * what a window shows comes as its role's bh_window_content and its root
 * surface's tree; the seat hears of a window going and of its commits
 * through the agent's window_gone and window_committed signals. */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <drm_fourcc.h>
#include <wayland-server-protocol.h>

#define MOD "window"

static struct bh_link *link_of(struct bh_window *w)
{
    return w->agent->link;
}

struct bh_window *bh_window_find(struct bh_agent *a, uint32_t id)
{
    struct bh_window *w;
    if (id == 0)
        return NULL;
    wl_list_for_each(w, &a->windows, link) if (w->id == id) return w;
    return NULL;
}

static uint32_t alloc_id(struct bh_agent *a)
{
    if (a->n_windows >= BH_MAX_WINDOWS)
        return 0;
    /* Fewer than BH_MAX_WINDOWS ids are taken, so this ends quickly. */
    for (;;) {
        uint32_t id = a->next_window_id++;
        if (a->next_window_id > BH_MAX_WINDOW_ID)
            a->next_window_id = 1;
        if (!bh_window_find(a, id))
            return id;
    }
}

/* Grow b (x1, y1, x2, y2) by the mapped surfaces of the tree at s, which
 * is at (ox, oy). 64-bit: a client's subsurface positions add up. */
static void tree_bounds(struct bh_surface *s, int64_t ox, int64_t oy, int64_t b[4])
{
    struct bh_stack_node *n;
    if (s->width <= 0)
        return;
    b[0] = ox < b[0] ? ox : b[0];
    b[1] = oy < b[1] ? oy : b[1];
    b[2] = ox + s->width > b[2] ? ox + s->width : b[2];
    b[3] = oy + s->height > b[3] ? oy + s->height : b[3];
    wl_list_for_each(n, &s->stack, cur)
    {
        if (n == &s->self)
            continue;
        struct bh_subsurface *sub = n->surface->role_data;
        tree_bounds(n->surface, ox + sub->x, oy + sub->y, b);
    }
}

/* What the window shows, in root-surface coordinates: the xdg window
 * geometry or, without one, "the full bounds of the surface, including
 * any subsurfaces" (xdg-shell; the root surface alone cut off a
 * subsurface reaching past it, found by wlcs). */
static void content_box(const struct bh_window *w, int64_t b[4])
{
    const struct bh_window_content *c = w->content;
    if (c->has_geometry) {
        b[0] = c->geometry.x1;
        b[1] = c->geometry.y1;
        b[2] = c->geometry.x2;
        b[3] = c->geometry.y2;
        return;
    }
    b[0] = b[1] = INT64_MAX;
    b[2] = b[3] = INT64_MIN;
    tree_bounds(w->root, 0, 0, b);
    if (b[0] > b[2]) /* nothing mapped: the empty root */
        b[0] = b[1] = b[2] = b[3] = 0;
}

/* The window's size: its content box clamped to what the protocol allows. */
static void content_size(struct bh_window *w, uint32_t *width, uint32_t *height)
{
    int64_t b[4];
    content_box(w, b);
    int64_t cw = b[2] - b[0];
    int64_t ch = b[3] - b[1];
    if (cw < 1)
        cw = 1;
    if (ch < 1)
        ch = 1;
    *width = cw > BH_MAX_WINDOW_WIDTH ? BH_MAX_WINDOW_WIDTH : (uint32_t)cw;
    *height = ch > BH_MAX_WINDOW_HEIGHT ? BH_MAX_WINDOW_HEIGHT : (uint32_t)ch;
}

static bool resize_buffer(struct bh_window *w, uint32_t width, uint32_t height)
{
    struct bh_winbuf nb;
    memset(&nb, 0, sizeof(nb));
    nb.fd = -1;
    uint32_t stride = width * BH_BYTES_PER_PIXEL;
    int rc = w->agent->xen_buffers
                 ? bh_winbuf_export_grant(&nb, w->agent->opts.gui_domain, (size_t)stride * height)
                 : bh_winbuf_export_memfd(&nb, (size_t)stride * height);
    if (rc < 0) {
        BH_ERR(w->agent, MOD, "window %u: cannot allocate a %ux%u buffer: %s", w->id, width, height,
               strerror(errno));
        return false;
    }
    if (w->buf_ok)
        bh_winbuf_release(&w->buf);
    w->buf = nb;
    w->buf_ok = true;
    w->width = width;
    w->height = height;
    w->stride = stride;
    w->buffer_pending = true;
    w->config_pending = true;
    bh_rects_clear(&w->send_damage);
    bh_window_damage_all(w);
    return true;
}

void bh_window_damage_all(struct bh_window *w)
{
    bh_rects_clear(&w->damage);
    bh_rects_add(&w->damage, bh_box_make(0, 0, (int32_t)w->width, (int32_t)w->height));
}

/* The tree hooks of every role that shows a tree through one window (xdg,
 * xwayland): the same three answers, given the role's window or NULL. */
bool bh_window_root_presented(const struct bh_window *w)
{
    return w && w->announced;
}

void bh_window_root_damage_all(struct bh_window *w)
{
    if (w)
        bh_window_damage_all(w);
}

bool bh_window_root_recompose(struct bh_window *w)
{
    if (w)
        bh_window_commit(w);
    return w != NULL;
}

/* ---- composition ------------------------------------------------------------ */

static inline uint32_t over(uint32_t src, uint32_t dst)
{
    uint32_t a = src >> 24;
    if (a == 0xff)
        return src;
    if (a == 0)
        return dst;
    uint32_t inv = 255 - a, out = 0;
    /* Premultiplied "over", channel by channel, rounded. */
    for (int shift = 0; shift < 32; shift += 8) {
        uint32_t s = (src >> shift) & 0xff, d = (dst >> shift) & 0xff;
        uint32_t v = s + (d * inv + 127) / 255;
        out |= (v > 255 ? 255 : v) << shift;
    }
    return out;
}

/* The common row, XRGB at scale 1: four pixels per step (GCC at -O2 does
 * not vectorise the plain loop, and the general loop in draw_surface, with
 * its stride multiply and branches, ran at a quarter of memcpy's speed:
 * bench/RESULTS.md). */
typedef uint32_t bh_px4 __attribute__((vector_size(16)));

/* How far ahead draw_surface touches the rows it will copy. */
#define PREFETCH_ROWS 8

static void copy_opaque(uint32_t *d, const uint32_t *s, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        bh_px4 v;
        memcpy(&v, s + i, sizeof(v));
        v |= 0xff000000u;
        memcpy(d + i, &v, sizeof(v));
    }
    for (; i < n; i++)
        d[i] = s[i] | 0xff000000u;
}

static void draw_surface(struct bh_window *w, struct bh_surface *s, int32_t ox, int32_t oy,
                         const struct bh_box *rect, bool first)
{
    if (!s->buffer || s->width <= 0)
        return;
    struct wl_shm_buffer *shm = wl_shm_buffer_get(s->buffer);
    if (!shm)
        return;
    struct bh_box sb = bh_box_make(ox, oy, s->width, s->height);
    struct bh_box box = bh_box_intersect(rect, &sb);
    if (bh_box_empty(&box))
        return;

    int32_t bw = wl_shm_buffer_get_width(shm), bh = wl_shm_buffer_get_height(shm);
    int32_t sstride = wl_shm_buffer_get_stride(shm);
    bool opaque = wl_shm_buffer_get_format(shm) == WL_SHM_FORMAT_XRGB8888;
    int32_t scale = s->scale;
    /* The surface size derives from this buffer's size, so reads stay
     * inside it; the checks below keep that true even if that ever changes.
     * begin/end_access turn a client truncating its pool into zeros, not SIGBUS. */
    int32_t sx0 = (box.x1 - ox) * scale;
    int32_t n = box.x2 - box.x1;
    if (sx0 >= bw)
        return;
    if ((int64_t)(n - 1) * scale + sx0 >= bw)
        n = (bw - sx0 + scale - 1) / scale;
    int32_t sx_last = sx0 + (n - 1) * scale;
    wl_shm_buffer_begin_access(shm);
    const uint8_t *src = wl_shm_buffer_get_data(shm);
    uint8_t *dst = w->buf.map;
    for (int32_t y = box.y1; y < box.y2; y++) {
        int32_t sy = (y - oy) * scale;
        if (sy >= bh)
            break;
        uint32_t *d = (uint32_t *)(dst + (size_t)y * w->stride) + box.x1;
        const uint32_t *srow = (const uint32_t *)(src + (size_t)sy * (size_t)sstride);
        /* Each row of a rectangle starts on pages and lines nobody touched
         * since the last frame (rows are a whole stride apart), so every
         * row waited for its address translation and first misses in turn:
         * at 60 frames/s, copying 5 % of a 1080p window took 8 times as
         * long as with warm caches. Touching both ends of a row a few rows
         * ahead overlaps those waits with the copy (a third less time;
         * docs/gui-agent.md, "Per-frame cost"). */
        int32_t py = y + PREFETCH_ROWS;
        int32_t psy = (py - oy) * scale;
        if (py < box.y2 && psy < bh) {
            const uint32_t *prow = (const uint32_t *)(src + (size_t)psy * (size_t)sstride);
            uint32_t *pd = (uint32_t *)(dst + (size_t)py * w->stride) + box.x1;
            __builtin_prefetch(prow + sx0, 0, 3);
            __builtin_prefetch(prow + sx_last, 0, 3);
            __builtin_prefetch(pd, 1, 3);
            __builtin_prefetch(pd + n - 1, 1, 3);
        }
        if (first && scale == 1 && !opaque) {
            memcpy(d, srow + sx0, (size_t)n * 4);
            continue;
        }
        if (scale == 1 && opaque) {
            copy_opaque(d, srow + sx0, n);
            continue;
        }
        for (int32_t i = 0; i < n; i++) {
            uint32_t p = srow[sx0 + i * scale];
            if (opaque)
                d[i] = p | 0xff000000u;
            else
                d[i] = first ? p : over(p, d[i]);
        }
    }
    wl_shm_buffer_end_access(shm);
}

static void draw_tree(struct bh_window *w, struct bh_surface *s, int32_t ox, int32_t oy,
                      const struct bh_box *rect, bool *first)
{
    struct bh_stack_node *n;
    if (s->width <= 0)
        return;
    wl_list_for_each(n, &s->stack, cur)
    {
        if (n == &s->self) {
            draw_surface(w, s, ox, oy, rect, *first);
            *first = false;
            continue;
        }
        struct bh_subsurface *sub = n->surface->role_data;
        draw_tree(w, n->surface, ox + sub->x, oy + sub->y, rect, first);
    }
}

void bh_window_compose(struct bh_window *w, const struct bh_box *rect)
{
    struct bh_box all = bh_box_make(0, 0, (int32_t)w->width, (int32_t)w->height);
    struct bh_box r = bh_box_intersect(rect, &all);
    if (bh_box_empty(&r) || !w->buf_ok)
        return;
    struct bh_surface *root = w->root;
    int32_t gx, gy;
    bh_window_content_origin(w, &gx, &gy);

    /* Start transparent unless the root surface alone covers the rectangle
     * with nothing stacked on or under it (the common case: a plain copy). */
    struct bh_box rootbox = bh_box_make(-gx, -gy, root->width, root->height);
    struct bh_box covered = bh_box_intersect(&r, &rootbox);
    bool alone = root->stack.next == &root->self.cur && root->stack.prev == &root->self.cur;
    bool first =
        alone && covered.x1 == r.x1 && covered.y1 == r.y1 && covered.x2 == r.x2 && covered.y2 == r.y2;
    if (!first) {
        for (int32_t y = r.y1; y < r.y2; y++)
            memset((uint8_t *)w->buf.map + (size_t)y * w->stride + (size_t)r.x1 * 4, 0,
                   (size_t)(r.x2 - r.x1) * 4);
        first = true;
    }
    draw_tree(w, root, -gx, -gy, &r, &first);
}

void bh_window_content_origin(const struct bh_window *w, int32_t *gx, int32_t *gy)
{
    int64_t b[4];
    content_box(w, b);
    *gx = b[0] < INT32_MIN ? INT32_MIN : b[0] > INT32_MAX ? INT32_MAX : (int32_t)b[0];
    *gy = b[1] < INT32_MIN ? INT32_MIN : b[1] > INT32_MAX ? INT32_MAX : (int32_t)b[1];
}

/* ---- messages ------------------------------------------------------------------ */

static uint32_t parent_id(struct bh_window *w)
{
    return w->parent && w->parent->announced ? w->parent->id : 0;
}

/* Text is stored sanitised (xdg-toplevel.c), so what is sent is what dom0 accepts;
 * an empty text clears dom0's copy. */
void bh_window_send_title(struct bh_window *w)
{
    if (w->announced && !w->popup)
        bh_link_send(link_of(w), BH_GUI_TITLE, w->id, w->content->title, strlen(w->content->title));
}

void bh_window_send_app_id(struct bh_window *w)
{
    if (w->announced && !w->popup)
        bh_link_send(link_of(w), BH_GUI_APP_ID, w->id, w->content->app_id, strlen(w->content->app_id));
}

static uint32_t clamp_hint(int32_t v, uint32_t max)
{
    return v <= 0 ? 0 : (uint32_t)v > max ? max : (uint32_t)v;
}

static struct bh_gui_hints current_hints(struct bh_window *w)
{
    struct bh_gui_hints h;
    memset(&h, 0, sizeof(h));
    if (w->popup)
        return h;
    const struct bh_window_content *c = w->content;
    if (c->min_w > 0 || c->min_h > 0) {
        h.flags |= BH_GUI_HINT_MIN_SIZE;
        h.min_width = clamp_hint(c->min_w, BH_MAX_WINDOW_WIDTH);
        h.min_height = clamp_hint(c->min_h, BH_MAX_WINDOW_HEIGHT);
    }
    if (c->max_w > 0 || c->max_h > 0) {
        h.flags |= BH_GUI_HINT_MAX_SIZE;
        h.max_width = clamp_hint(c->max_w, BH_MAX_WINDOW_WIDTH);
        h.max_height = clamp_hint(c->max_h, BH_MAX_WINDOW_HEIGHT);
    }
    return h;
}

void bh_window_send_hints(struct bh_window *w)
{
    struct bh_gui_hints h = current_hints(w);
    if (!w->announced || memcmp(&h, &w->sent_hints, sizeof(h)) == 0)
        return;
    if (bh_link_send(link_of(w), BH_GUI_HINTS, w->id, &h, sizeof(h)))
        w->sent_hints = h;
}

void bh_window_send_flags(struct bh_window *w)
{
    uint32_t want = w->popup ? 0 : w->content->flags;
    if (!w->announced || want == w->sent_flags)
        return;
    struct bh_gui_flags f = {want & ~w->sent_flags, w->sent_flags & ~want};
    if (bh_link_send(link_of(w), BH_GUI_FLAGS, w->id, &f, sizeof(f)))
        w->sent_flags = want;
}

void bh_window_send_cursor(struct bh_window *w, uint32_t shape)
{
    struct bh_gui_cursor c = {shape};
    if (w->announced)
        bh_link_send(link_of(w), BH_GUI_CURSOR, w->id, &c, sizeof(c));
}

static bool send_buffer(struct bh_window *w)
{
    struct bh_gui_buffer b = {
        .width = w->width,
        .height = w->height,
        .stride = w->stride,
        .format = DRM_FORMAT_ARGB8888,
        .kind = BH_GUI_BUFFER_MEMFD,
        .n_refs = 0,
    };
    bool ok;
    if (w->agent->xen_buffers) {
        /* Xen: the grant references travel in the message instead of an fd. */
        b.kind = BH_GUI_BUFFER_GRANT;
        b.n_refs = w->buf.n_refs;
        ok = bh_link_send2(link_of(w), BH_GUI_BUFFER, w->id, &b, sizeof(b), w->buf.refs,
                           (size_t)w->buf.n_refs * sizeof(uint32_t));
    } else {
        ok = bh_link_send_fd(link_of(w), BH_GUI_BUFFER, w->id, &b, sizeof(b), w->buf.fd);
    }
    if (!ok)
        return false;
    w->buffer_pending = false;
    return true;
}

static void send_configure_msg(struct bh_window *w)
{
    struct bh_gui_configure c = {w->x, w->y, w->width, w->height};
    if (bh_link_send(link_of(w), BH_GUI_CONFIGURE, w->id, &c, sizeof(c)))
        w->config_pending = false;
}

static void send_damage(struct bh_window *w)
{
    struct bh_gui_rect rects[BH_RECTS_MAX];
    struct bh_box all = bh_box_make(0, 0, (int32_t)w->width, (int32_t)w->height);
    bh_rects_clip(&w->send_damage, &all);
    uint32_t n = w->send_damage.n;
    if (n == 0)
        return;
    for (uint32_t i = 0; i < n; i++) {
        const struct bh_box *b = &w->send_damage.r[i];
        rects[i] = (struct bh_gui_rect){b->x1, b->y1, (uint32_t)(b->x2 - b->x1), (uint32_t)(b->y2 - b->y1)};
    }
    struct bh_gui_damage d = {w->serial + 1, n};
    if (!bh_link_send2(link_of(w), BH_GUI_DAMAGE, w->id, &d, sizeof(d), rects, n * sizeof(rects[0])))
        return;
    w->serial++;
    w->in_flight = true;
    bh_rects_clear(&w->send_damage);
    wl_list_insert_list(w->in_flight_frames.prev, &w->waiting);
    wl_list_init(&w->waiting);
}

static void announce(struct bh_window *w, unsigned depth)
{
    struct bh_link *l = link_of(w);
    if (w->announced || w->id == 0 || !w->buf_ok || !l || !bh_link_ready(l))
        return;
    /* Parents first; a cycle is impossible (set_parent refuses loops) but
     * the depth bound keeps this obviously finite. */
    if (w->parent && !w->parent->announced && depth < BH_MAX_WINDOWS)
        announce(w->parent, depth + 1);
    if (w->popup && !parent_id(w))
        return;

    struct bh_gui_create c = {w->width, w->height, parent_id(w), w->popup ? BH_GUI_CREATE_POPUP : 0};
    if (!bh_link_send(l, BH_GUI_CREATE, w->id, &c, sizeof(c)))
        return;
    w->announced = true;
    w->sent_flags = 0;
    memset(&w->sent_hints, 0, sizeof(w->sent_hints));
    if (!w->popup && w->content->title[0])
        bh_window_send_title(w);
    if (!w->popup && w->content->app_id[0])
        bh_window_send_app_id(w);
    bh_window_send_hints(w);
    bh_window_send_flags(w);
    w->config_pending = false;
    if (!send_buffer(w))
        return;
    /* dom0 has never seen these pixels: the whole window is new. */
    bh_rects_clear(&w->send_damage);
    bh_rects_add(&w->send_damage, bh_box_make(0, 0, (int32_t)w->width, (int32_t)w->height));
    w->in_flight = false;
    send_damage(w);
    struct bh_gui_map m = {parent_id(w), w->x, w->y};
    bh_link_send(l, BH_GUI_MAP, w->id, &m, sizeof(m));
    BH_DBG(w->agent, MOD, "window %u announced (%ux%u%s)", w->id, w->width, w->height,
           w->popup ? ", popup" : "");
}

static void collect_damage(struct bh_window *w, struct bh_surface *s, int32_t ox, int32_t oy)
{
    struct bh_stack_node *n;
    bh_rects_translate(&s->damage, ox, oy);
    bh_rects_add_all(&w->damage, &s->damage);
    bh_rects_clear(&s->damage);
    wl_list_for_each(n, &s->stack, cur)
    {
        if (n == &s->self)
            continue;
        struct bh_subsurface *sub = n->surface->role_data;
        collect_damage(w, n->surface, ox + sub->x, oy + sub->y);
    }
}

/* Bring the shared buffer up to date: size, position, damaged pixels. Only
 * called while no DAMAGE is in flight: dom0 may be reading it otherwise. */
static void compose_pending(struct bh_window *w)
{
    const struct bh_window_content *c = w->content;
    uint32_t width, height;
    int32_t gx, gy;

    content_size(w, &width, &height);
    if (!w->buf_ok || width != w->width || height != w->height) {
        if (!resize_buffer(w, width, height) && !w->buf_ok)
            return;
    }
    bh_window_content_origin(w, &gx, &gy);
    if (gx != w->origin_x || gy != w->origin_y) {
        /* The content moved inside the surface: everything shifts. */
        w->origin_x = gx;
        w->origin_y = gy;
        bh_window_damage_all(w);
    }
    if (w->popup && (w->x != c->popup_x || w->y != c->popup_y)) {
        w->x = c->popup_x;
        w->y = c->popup_y;
        w->config_pending = true;
    }
    struct bh_box all = bh_box_make(0, 0, (int32_t)w->width, (int32_t)w->height);
    bh_rects_clip(&w->damage, &all);
    for (uint32_t i = 0; i < w->damage.n; i++) {
        bh_window_compose(w, &w->damage.r[i]);
        bh_rects_add(&w->send_damage, w->damage.r[i]);
    }
    bh_rects_clear(&w->damage);
}

/* Push what is pending to dom0, within the pacing rule: one DAMAGE in
 * flight; until its release, commits only collect damage and callbacks. */
static void flush(struct bh_window *w)
{
    struct bh_link *l = link_of(w);
    if (w->in_flight)
        return;
    compose_pending(w);
    if (w->id == 0 || !l || !bh_link_ready(l))
        return; /* callbacks held until dom0 is there to show it */
    if (!w->announced) {
        announce(w, 0);
        return;
    }
    if (w->config_pending)
        send_configure_msg(w);
    if (w->buffer_pending && !send_buffer(w))
        return;
    if (!bh_rects_empty(&w->send_damage)) {
        send_damage(w);
        return;
    }
    /* Callbacks without new pixels: nothing for dom0 to present, so the
     * slow timer answers them. */
    bh_agent_defer_frames(w->agent, &w->waiting);
}

void bh_window_commit(struct bh_window *w)
{
    collect_damage(w, w->root, -w->origin_x, -w->origin_y);
    bh_frames_take_tree(w->root, &w->waiting);
    flush(w);
    /* The seat looks again at what is under a still pointer. */
    wl_signal_emit(&w->agent->events.window_committed, w);
}

void bh_window_release(struct bh_window *w, uint32_t serial)
{
    /* Serials wrap; "at least the one in flight" in modular order. */
    if (!w->in_flight || (int32_t)(serial - w->serial) < 0)
        return;
    w->in_flight = false;
    bh_frames_done(w->agent, &w->in_flight_frames, bh_now_ms());
    flush(w);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

/* A client mapping windows in a loop past BH_MAX_WINDOWS would otherwise
 * write a line per window (a 1000-window flood: 744 lines) into the qube's
 * console, which dom0 rate-limits by dropping lines — the useful ones with
 * the rest. Per second: the first REFUSED_LOG_BURST, then one sum. */
#define REFUSED_LOG_BURST     5
#define REFUSED_LOG_PERIOD_MS 1000

static int refused_period_end(void *data)
{
    struct bh_agent *a = data;
    if (a->refused.more)
        BH_WARN(a, MOD, "... and %u more windows refused in the last second (more than %u)", a->refused.more,
                BH_MAX_WINDOWS);
    a->refused.logged = 0;
    a->refused.more = 0;
    return 0;
}

static void log_refused(struct bh_agent *a, bool popup)
{
    if (a->refused.logged >= REFUSED_LOG_BURST) {
        a->refused.more++;
        return;
    }
    BH_WARN(a, MOD, "more than %u windows: a new %s is not shown", BH_MAX_WINDOWS,
            popup ? "popup" : "toplevel");
    if (a->refused.logged++ > 0)
        return;
    if (!a->refused.timer)
        a->refused.timer = wl_event_loop_add_timer(a->loop, refused_period_end, a);
    /* Without a timer (out of memory) every refusal is logged: never fewer. */
    if (a->refused.timer)
        wl_event_source_timer_update(a->refused.timer, REFUSED_LOG_PERIOD_MS);
    else
        a->refused.logged = 0;
}

struct bh_window *bh_window_create(struct bh_agent *a, struct bh_xdg_surface *owner,
                                   const struct bh_window_content *content, struct bh_surface *root,
                                   struct bh_window *parent, bool popup)
{
    struct bh_window *w = calloc(1, sizeof(*w));
    if (!w) {
        BH_ERR(a, MOD, "out of memory for a window");
        return NULL;
    }
    w->agent = a;
    w->xdg = owner;
    w->content = content;
    w->root = root;
    w->buf.fd = -1;
    wl_list_init(&w->waiting);
    wl_list_init(&w->in_flight_frames);
    w->popup = popup;
    w->parent = parent;
    if (popup) {
        w->x = content->popup_x;
        w->y = content->popup_y;
    }
    w->id = alloc_id(a);
    if (w->id == 0)
        log_refused(a, popup);
    else
        a->n_windows++;
    /* Appended: parents precede their children in the list. */
    wl_list_insert(a->windows.prev, &w->link);
    bh_window_commit(w);
    return w;
}

void bh_window_destroy(struct bh_window *w)
{
    struct bh_agent *a = w->agent;
    struct bh_window *c;

    /* Transient windows take the grandparent, as dom0's table does (popups
     * went with their parent before: their role dismissed them). */
    wl_list_for_each(c, &a->windows, link) if (c->parent == w) c->parent = w->parent;

    if (w->announced)
        bh_link_send(link_of(w), BH_GUI_DESTROY, w->id, NULL, 0);
    /* The seat drops focus pointing into it. */
    bh_signal_emit_safe(&a->events.window_gone, w);
    bh_agent_defer_frames(a, &w->in_flight_frames);
    bh_agent_defer_frames(a, &w->waiting);
    if (w->buf_ok)
        bh_winbuf_release(&w->buf);
    if (w->id)
        a->n_windows--;
    wl_list_remove(&w->link);
    free(w);
}

void bh_windows_link_lost(struct bh_agent *a)
{
    struct bh_window *w;
    /* Frame callbacks now wait for the next dom0: releases must not. */
    bh_agent_send_held_releases(a);
    wl_list_for_each(w, &a->windows, link)
    {
        w->announced = false;
        w->in_flight = false;
        /* Held until the next dom0 has shown a frame. */
        wl_list_insert_list(&w->waiting, &w->in_flight_frames);
        wl_list_init(&w->in_flight_frames);
    }
}

void bh_windows_announce_all(struct bh_agent *a)
{
    struct bh_window *w;
    /* flush composes what changed while dom0 was away, then announces. */
    wl_list_for_each(w, &a->windows, link) flush(w);
}
