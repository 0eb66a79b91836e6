/* xdg-wm-base.c — the xdg_wm_base global: it creates positioners and
 * xdg_surfaces, and holds the xdg_surface request table, which joins each
 * xdg_surface (xdg-surface.c) to the role it gets (xdg-toplevel.c,
 * xdg-popup.c).
 *
 * Owns: the xdg_wm_base and xdg_surface request tables.
 * Must never: keep state of its own; we never ping (an unresponsive client
 * is dom0's to judge). */
#include "xdg.h"

#define WM_BASE_VERSION 5

/* The requests of an xdg_surface: its own (xdg-surface.c) and the two that
 * give it a role (xdg-toplevel.c, xdg-popup.c). */
static const struct xdg_surface_interface xdg_surface_impl = {
    .destroy = bh_xdg_surface_destroy_request,
    .get_toplevel = bh_xdg_toplevel_new,
    .get_popup = bh_xdg_popup_new,
    .set_window_geometry = bh_xdg_surface_set_window_geometry,
    .ack_configure = bh_xdg_surface_ack_configure,
};

static void wm_base_get_xdg_surface(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                                    struct wl_resource *surface_res)
{
    bh_xdg_surface_new(client, resource, id, surface_res, &xdg_surface_impl);
}

static void wm_base_pong(struct wl_client *client, struct wl_resource *resource, uint32_t serial)
{
    /* We never ping: an unresponsive client is dom0's to judge. */
}

static const struct xdg_wm_base_interface wm_base_impl = {
    .destroy = bh_request_destroy,
    .create_positioner = bh_xdg_positioner_new,
    .get_xdg_surface = wm_base_get_xdg_surface,
    .pong = wm_base_pong,
};

static void wm_base_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    bh_resource_new(client, &xdg_wm_base_interface, version, id, &wm_base_impl, data, NULL);
}

void bh_xdg_init(struct bh_agent *a)
{
    a->wm_base_global =
        wl_global_create(a->display, &xdg_wm_base_interface, WM_BASE_VERSION, a, wm_base_bind);
}
