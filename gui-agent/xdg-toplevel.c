/* xdg-toplevel.c — xdg_toplevel: titles, app ids, size hints, the
 * transient-for parent and window-state requests of an application window.
 *
 * Owns: what a toplevel asks for until it is committed (pending hints) and
 * its text, bounded and sanitised as it arrives.
 * Must never: pass text on without bounding and sanitising it with dom0's
 * own rules (window.c sends what is stored here), move or resize a window
 * itself (dom0 does), or let a transient-for chain loop. */
#include "xdg.h"

#include <string.h>

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
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    struct bh_xdg_surface *parent = parent_res ? bh_xdg_from_resource(parent_res) : NULL;
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

static void toplevel_set_title(struct wl_client *client, struct wl_resource *resource, const char *title)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    if (!x)
        return;
    char buf[sizeof(x->content.title)];
    bh_store_text(title, strlen(title), buf, BH_MAX_TITLE_BYTES);
    if (strcmp(buf, x->content.title) == 0)
        return;
    memcpy(x->content.title, buf, sizeof(buf));
    if (x->window)
        bh_window_send_title(x->window);
}

static void toplevel_set_app_id(struct wl_client *client, struct wl_resource *resource, const char *app_id)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    if (!x)
        return;
    char buf[sizeof(x->content.app_id)];
    bh_store_text(app_id, strlen(app_id), buf, BH_MAX_APP_ID_BYTES);
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
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
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
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    if (!x)
        return;
    uint32_t f = on ? x->content.flags | flag : x->content.flags & ~flag;
    if (f == x->content.flags)
        return;
    x->content.flags = f;
    if (x->window)
        bh_window_send_flags(x->window);
    /* Until dom0 answers, the client keeps its current state. */
    bh_xdg_schedule_configure(x);
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

void bh_xdg_toplevel_new(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    if (!bh_xdg_surface_may_take_role(x, resource))
        return;
    struct wl_resource *r =
        wl_resource_create(client, &xdg_toplevel_interface, wl_resource_get_version(resource), id);
    if (!r) {
        wl_client_post_no_memory(client);
        return;
    }
    x->kind = BH_XDG_TOPLEVEL;
    x->toplevel.parent_destroy.notify = toplevel_parent_gone;
    x->role_resource = r;
    wl_resource_set_implementation(r, &toplevel_impl, x, bh_xdg_role_destroy);
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
