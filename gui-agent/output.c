/* output.c — one wl_output (and its zxdg_output_v1) describing dom0's screen.
 *
 * Owns: the screen geometry dom0 announced (SCREEN), defaulting to 1920x1080
 * until then, and telling every bound output about changes.
 * Must never: claim a scale or transform other than 1/normal (window
 * buffers are shown 1:1 by dom0). */
#include "internal.h"

#include <wayland-server-protocol.h>

#include "xdg-output-unstable-v1-server-protocol.h"

#define MOD                "output"
#define OUTPUT_VERSION     4
#define XDG_OUTPUT_VERSION 3

static void send_xdg_output(struct bh_agent *a, struct wl_resource *r)
{
    const struct bh_gui_screen *s = &a->output.screen;
    zxdg_output_v1_send_logical_position(r, 0, 0);
    zxdg_output_v1_send_logical_size(r, (int32_t)s->width, (int32_t)s->height);
    if (wl_resource_get_version(r) >= ZXDG_OUTPUT_V1_NAME_SINCE_VERSION) {
        zxdg_output_v1_send_name(r, "BULKHEAD-1");
        zxdg_output_v1_send_description(r, "dom0 screen");
    }
    /* From version 3 wl_output.done ends the batch instead. */
    if (wl_resource_get_version(r) < 3)
        zxdg_output_v1_send_done(r);
}

static void send_output(struct bh_agent *a, struct wl_resource *r)
{
    const struct bh_gui_screen *s = &a->output.screen;
    wl_output_send_geometry(r, 0, 0, (int32_t)s->width_mm, (int32_t)s->height_mm, WL_OUTPUT_SUBPIXEL_UNKNOWN,
                            "Bulkhead", "dom0", WL_OUTPUT_TRANSFORM_NORMAL);
    wl_output_send_mode(r, WL_OUTPUT_MODE_CURRENT | WL_OUTPUT_MODE_PREFERRED, (int32_t)s->width,
                        (int32_t)s->height, 60000);
    if (wl_resource_get_version(r) >= WL_OUTPUT_SCALE_SINCE_VERSION)
        wl_output_send_scale(r, 1);
    if (wl_resource_get_version(r) >= WL_OUTPUT_NAME_SINCE_VERSION) {
        wl_output_send_name(r, "BULKHEAD-1");
        wl_output_send_description(r, "dom0 screen");
    }
}

static void send_done(struct wl_resource *r)
{
    if (wl_resource_get_version(r) >= WL_OUTPUT_DONE_SINCE_VERSION)
        wl_output_send_done(r);
}

static const struct wl_output_interface output_impl = {
    .release = bh_request_destroy,
};

static void output_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    struct bh_agent *a = data;
    struct wl_resource *r =
        bh_resource_new(client, &wl_output_interface, version, id, &output_impl, a, bh_resource_unlink);
    if (!r)
        return;
    wl_list_insert(&a->output.resources, wl_resource_get_link(r));
    send_output(a, r);
    send_done(r);
}

static const struct zxdg_output_v1_interface xdg_output_impl = {
    .destroy = bh_request_destroy,
};

static void xdg_manager_get(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                            struct wl_resource *output)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct wl_resource *r =
        bh_resource_new(client, &zxdg_output_v1_interface, wl_resource_get_version(resource), id,
                        &xdg_output_impl, a, bh_resource_unlink);
    if (!r)
        return;
    wl_list_insert(&a->output.xdg_resources, wl_resource_get_link(r));
    send_xdg_output(a, r);
    if (wl_resource_get_version(r) >= 3)
        send_done(output);
}

static const struct zxdg_output_manager_v1_interface xdg_manager_impl = {
    .destroy = bh_request_destroy,
    .get_xdg_output = xdg_manager_get,
};

static void xdg_manager_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    bh_resource_new(client, &zxdg_output_manager_v1_interface, version, id, &xdg_manager_impl, data, NULL);
}

void bh_output_set_screen(struct bh_agent *a, const struct bh_gui_screen *s)
{
    struct wl_resource *r;
    a->output.screen = *s;
    BH_INFO(a, MOD, "dom0 screen %ux%u (%ux%u mm)", s->width, s->height, s->width_mm, s->height_mm);
    wl_resource_for_each(r, &a->output.resources) send_output(a, r);
    wl_resource_for_each(r, &a->output.xdg_resources) send_xdg_output(a, r);
    wl_resource_for_each(r, &a->output.resources) send_done(r);
}

void bh_output_enter_surface(struct bh_agent *a, struct bh_surface *s)
{
    struct wl_client *c = wl_resource_get_client(s->resource);
    struct wl_resource *r;
    if (s->entered_output)
        return;
    s->entered_output = true;
    wl_resource_for_each(r, &a->output.resources) if (wl_resource_get_client(r) == c)
        wl_surface_send_enter(s->resource, r);
}

void bh_output_init(struct bh_agent *a)
{
    wl_list_init(&a->output.resources);
    wl_list_init(&a->output.xdg_resources);
    a->output.screen = (struct bh_gui_screen){1920, 1080, 0, 0};
    a->output.global = wl_global_create(a->display, &wl_output_interface, OUTPUT_VERSION, a, output_bind);
    a->output.xdg_manager = wl_global_create(a->display, &zxdg_output_manager_v1_interface,
                                             XDG_OUTPUT_VERSION, a, xdg_manager_bind);
}
