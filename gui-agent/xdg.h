/* xdg.h — what the files of xdg-shell (xdg-*.c) share among themselves:
 * xdg-positioner.c at the bottom, xdg-surface.c above it, the toplevel,
 * popup and decoration files above that, and xdg-wm-base.c on top, joining
 * an xdg_surface's requests to the roles it can get.
 *
 * Must never: be included outside gui-agent/xdg-*.c (the rest of the
 * agent sees xdg-shell through internal.h's bh_xdg_* functions). */
#ifndef BH_AGENT_XDG_H
#define BH_AGENT_XDG_H

#include "internal.h"

#include <wayland-server-protocol.h>

#include "xdg-shell-server-protocol.h"

static inline struct bh_xdg_surface *bh_xdg_from_resource(struct wl_resource *r)
{
    return wl_resource_get_user_data(r);
}

/* xdg-positioner.c: xdg_wm_base.create_positioner. */
void bh_xdg_positioner_new(struct wl_client *client, struct wl_resource *wm_base, uint32_t id);

/* xdg-surface.c */
/* xdg_wm_base.get_xdg_surface, with the request table to give the object. */
void bh_xdg_surface_new(struct wl_client *client, struct wl_resource *wm_base, uint32_t id,
                        struct wl_resource *surface_res, const struct xdg_surface_interface *impl);
void bh_xdg_surface_destroy_request(struct wl_client *client, struct wl_resource *resource);
void bh_xdg_surface_set_window_geometry(struct wl_client *client, struct wl_resource *resource, int32_t x,
                                        int32_t y, int32_t w, int32_t h);
void bh_xdg_surface_ack_configure(struct wl_client *client, struct wl_resource *resource, uint32_t serial);
/* A configure goes out at the end of this dispatch (several changes, one
 * configure). */
void bh_xdg_schedule_configure(struct bh_xdg_surface *x);
/* get_toplevel, get_popup: x still has its wl_surface and no role yet;
 * false with the protocol error posted on `resource` otherwise. */
bool bh_xdg_surface_may_take_role(struct bh_xdg_surface *x, struct wl_resource *resource);
/* Destructor of an xdg_toplevel or xdg_popup resource: unmaps, and leaves
 * the xdg_surface without a role object. */
void bh_xdg_role_destroy(struct wl_resource *role_resource);

/* xdg-toplevel.c, xdg-popup.c: xdg_surface.get_toplevel, get_popup. */
void bh_xdg_toplevel_new(struct wl_client *client, struct wl_resource *xdg_surface, uint32_t id);
void bh_xdg_popup_new(struct wl_client *client, struct wl_resource *xdg_surface, uint32_t id,
                      struct wl_resource *parent, struct wl_resource *positioner);

#endif /* BH_AGENT_XDG_H */
