/* xdg-decoration.c — zxdg_decoration_manager_v1: every toplevel is told
 * its decoration is server-side, whatever it prefers, because dom0 draws
 * the frame and its label colour.
 *
 * Owns: the decoration object of a toplevel (one at most).
 * Must never: let a client draw its own frame by our leave. */
#include "xdg.h"

#include "xdg-decoration-unstable-v1-server-protocol.h"

static void decoration_set_mode(struct wl_client *client, struct wl_resource *resource, uint32_t mode)
{
    /* Whatever the client prefers, dom0 draws the frame. */
    struct bh_xdg_surface *x = wl_resource_get_user_data(resource);
    if (x)
        bh_xdg_schedule_configure(x);
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
        bh_xdg_schedule_configure(x);
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

void bh_xdg_decoration_init(struct bh_agent *a)
{
    a->decoration_global =
        wl_global_create(a->display, &zxdg_decoration_manager_v1_interface, 1, a, decoration_bind);
}
