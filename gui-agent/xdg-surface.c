/* xdg-surface.c — the xdg_surface under every toplevel and popup: the
 * configure/ack handshake, map and unmap (which create and destroy protocol
 * windows), the role it gives its wl_surface, popup dismissal and grabs.
 *
 * Owns: each bh_xdg_surface's lifetime and state machine, and its
 * bh_window_content (window.c reads it; text is stored sanitised by
 * xdg-toplevel.c).
 * Must never: forward an unconfigured or unmapped surface, or call the
 * toplevel, popup or decoration files: they call it (its requests are
 * joined to them in xdg-wm-base.c). */
#include "xdg.h"

#include <stdlib.h>

#include "xdg-decoration-unstable-v1-server-protocol.h"

/* ---- configure ----------------------------------------------------------------- */

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
    x->configure_sent = true;
    xdg_surface_send_configure(x->resource, serial);
}

void bh_xdg_schedule_configure(struct bh_xdg_surface *x)
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
    bh_xdg_schedule_configure(x);
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
    bh_xdg_schedule_configure(x);
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

/* Is x one of the surfaces of grab's chain: grab itself, a popup it hangs
 * from, or (when `toplevel`) the toplevel the chain starts from? */
static bool in_chain(struct bh_xdg_surface *grab, struct bh_xdg_surface *x, bool toplevel)
{
    for (struct bh_xdg_surface *p = grab; p; p = p->kind == BH_XDG_POPUP ? p->popup.parent : NULL)
        if (p == x)
            return p->kind == BH_XDG_POPUP || toplevel;
    return false;
}

unsigned bh_xdg_dismiss_grabs_outside(struct bh_agent *a, struct bh_xdg_surface *at, bool toplevel)
{
    /* Newest first: children go before their parents (and a popup's own
     * children before it, in bh_xdg_popup_dismiss), so the client hears
     * popup_done topmost first. A grab is kept when `at` is in its chain
     * or is a popup hanging from it (a tooltip of a menu). */
    unsigned n = 0;
    struct bh_xdg_surface *x, *tmp;
    wl_list_for_each_reverse_safe(x, tmp, &a->grabs, grab_link)
    {
        if (at && (in_chain(x, at, toplevel) || (at->kind == BH_XDG_POPUP && in_chain(at, x, false))))
            continue;
        bh_xdg_popup_dismiss(x);
        n++;
    }
    return n;
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

#ifdef BH_AGENT_WLCS_LENIENT
/* Compiled only into tests/wlcs's copy of this file (BH_AGENT_WLCS_LENIENT
 * is set there and nowhere else; the product's libbh_gui_agent and
 * bulkhead-gui-agent never have it, agent-robust's "unacked" mode checks
 * the shipped agent still refuses this). wlcs 1.5's window helpers attach
 * and commit a buffer before the first configure (one after an initial
 * commit without it, one as the first commit) and never ack a configure:
 * a protocol error that would end every test using them before it checks
 * anything. Here that buffer waits for the configure instead: the
 * configure (still queued, or not yet asked for) is sent now, ahead of the
 * window, and taken as acked, so the client sees the order of events of
 * one that waited. A buffer on an xdg_surface without a role is still an
 * error (wlcs checks that). */
static void lenient_take_unacked(struct bh_xdg_surface *x)
{
    if (x->configure_idle)
        wl_event_source_remove(x->configure_idle);
    if (x->configure_idle || !x->configure_sent)
        send_configure(x);
    x->configured = true;
}
#endif

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
#ifdef BH_AGENT_WLCS_LENIENT
        if (has_buffer)
            x->initial_commit = true; /* and the buffer waits, below */
        else
#endif
        {
            if (has_buffer) {
                wl_resource_post_error(x->resource, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
                                       "a buffer was attached before the first configure");
                return;
            }
            x->initial_commit = true;
            bh_xdg_schedule_configure(x);
            return;
        }
    }
    if (has_buffer && !x->configured) {
#ifdef BH_AGENT_WLCS_LENIENT
        lenient_take_unacked(x);
#else
        wl_resource_post_error(x->resource, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
                               "a buffer was committed before a configure was acked");
        return;
#endif
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
            x->configure_sent = false;
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

/* ---- the wl_surface role ---------------------------------------------------------- */

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
    return bh_window_root_presented(root_window(root));
}

static void role_damage_all(struct bh_surface *root)
{
    bh_window_root_damage_all(root_window(root));
}

static bool role_recompose(struct bh_surface *root)
{
    return bh_window_root_recompose(root_window(root));
}

/* xdg-shell: "any attempts by a client to attach or manipulate a buffer
 * prior to the first xdg_surface.configure call must also be treated as
 * errors": at the attach, not only at the commit (wlcs checks it with an
 * attach and no commit). */
static void role_attach(struct bh_surface *s)
{
    struct bh_xdg_surface *x = s->role_data;
#ifdef BH_AGENT_WLCS_LENIENT
    /* With a role, a configure will come: the buffer waits for it
     * (lenient_take_unacked). Without one, still an error. */
    if (x->kind != BH_XDG_NONE)
        return;
#endif
    if (!x->configure_sent)
        wl_resource_post_error(x->resource, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
                               "a buffer was attached before the first configure");
}

static const struct bh_surface_role xdg_surface_role = {
    .name = "xdg_surface",
    .commit = role_commit,
    .attach = role_attach,
    .presented = role_presented,
    .damage_all = role_damage_all,
    .recompose = role_recompose,
};

/* ---- the role object (xdg_toplevel or xdg_popup) ---------------------------------- */

bool bh_xdg_surface_may_take_role(struct bh_xdg_surface *x, struct wl_resource *resource)
{
    if (!x->surface) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT, "its wl_surface is gone");
        return false;
    }
    if (x->kind != BH_XDG_NONE) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_ALREADY_CONSTRUCTED,
                               "xdg_surface already has a role");
        return false;
    }
    return true;
}

/* The role object went away: the surface is unmapped and role-less again
 * from the xdg_surface's point of view (it may not get a new role). */
void bh_xdg_role_destroy(struct wl_resource *resource)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
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
    x->configure_sent = false;
}

/* ---- xdg_surface requests (their table is in xdg-wm-base.c) ------------------------ */

void bh_xdg_surface_destroy_request(struct wl_client *client, struct wl_resource *resource)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    if (x->role_resource) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT,
                               "xdg_surface destroyed before its role object");
        return;
    }
    wl_resource_destroy(resource);
}

void bh_xdg_surface_set_window_geometry(struct wl_client *client, struct wl_resource *resource, int32_t x,
                                        int32_t y, int32_t w, int32_t h)
{
    struct bh_xdg_surface *xs = bh_xdg_from_resource(resource);
    if (w <= 0 || h <= 0) {
        wl_resource_post_error(resource, XDG_SURFACE_ERROR_INVALID_SIZE, "window geometry %dx%d", w, h);
        return;
    }
    xs->pending_has_geometry = true;
    xs->pending_geometry = bh_box_make(x, y, w, h);
}

void bh_xdg_surface_ack_configure(struct wl_client *client, struct wl_resource *resource, uint32_t serial)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
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

static void xdg_surface_detach(struct bh_xdg_surface *x)
{
    if (x->role_resource) {
        /* The role object stays (the client will destroy it) but is inert. */
        struct wl_resource *r = x->role_resource;
        bh_xdg_role_destroy(r);
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
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    xdg_surface_detach(x);
    free(x);
}

/* ---- lifetime ---------------------------------------------------------------------- */

void bh_xdg_surface_new(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                        struct wl_resource *surface_res, const struct xdg_surface_interface *impl)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct bh_surface *s = bh_surface_from_resource(surface_res);

    if (s->buffer || s->pending.buffer) {
        /* The error is xdg_wm_base's (resource): its invalid_surface_state,
         * not xdg_surface's unconfigured_buffer (the same number 3 is
         * xdg_wm_base's invalid_popup_parent). Found by wlcs. */
        wl_resource_post_error(resource, XDG_WM_BASE_ERROR_INVALID_SURFACE_STATE,
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
    wl_list_init(&x->popup.parent_destroy.link);
    x->surface_destroy.notify = xdg_surface_surface_gone;
    wl_signal_add(&s->destroy_signal, &x->surface_destroy);
    wl_resource_set_implementation(x->resource, impl, x, xdg_surface_resource_destroy);
}
