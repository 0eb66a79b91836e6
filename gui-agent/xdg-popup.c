/* xdg-popup.c — xdg_popup: menus and tooltips placed by a positioner
 * relative to their parent, with optional grabs.
 *
 * Owns: a popup's parent link, its positioner copy and its grab request.
 * Must never: accept an incomplete positioner or a parent without an xdg
 * role, or a grab after the popup is mapped. */
#include "xdg.h"

static void popup_grab(struct wl_client *client, struct wl_resource *resource, struct wl_resource *seat,
                       uint32_t serial)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
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
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
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
    bh_xdg_schedule_configure(x);
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

void bh_xdg_popup_new(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                      struct wl_resource *parent_res, struct wl_resource *positioner)
{
    struct bh_xdg_surface *x = bh_xdg_from_resource(resource);
    struct bh_xdg_surface *parent = parent_res ? bh_xdg_from_resource(parent_res) : NULL;
    struct bh_positioner *p = wl_resource_get_user_data(positioner);

    if (!bh_xdg_surface_may_take_role(x, resource))
        return;
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
    x->popup.parent_destroy.notify = popup_parent_gone;
    x->role_resource = r;
    x->popup.parent = parent;
    if (parent)
        wl_signal_add(&parent->role_destroy, &x->popup.parent_destroy);
    x->popup.positioner = *p;
    bh_positioner_place(p, &x->content.popup_x, &x->content.popup_y);
    wl_resource_set_implementation(r, &popup_impl, x, bh_xdg_role_destroy);
}
