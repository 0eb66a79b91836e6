/* agent.c — creates and tears down the compositor: the wl_display, its
 * socket, wl_shm and every global, and the dom0 link.
 *
 * Owns: struct bh_agent's lifetime and the order of set-up and teardown
 * (clients first, then the globals' state, then the display).
 * Must never: keep state outside struct bh_agent, or exit the process on a
 * client's behalf. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wayland-server-protocol.h>

#include "bulkhead/vchan.h"

#define MOD "agent"

struct bh_agent *bh_agent_new(const struct bh_agent_options *opts)
{
    struct bh_agent *a = calloc(1, sizeof(*a));
    if (!a) {
        bh_agent_log(NULL, BH_LOG_ERROR, MOD, "out of memory");
        return NULL;
    }
    a->opts = *opts;
    /* Buffers must be of the kind the transport can carry: fds over the
     * socket vchan, grant references over Xen. */
    a->xen_buffers = !opts->no_vchan && bh_vchan_default_transport() == BH_VCHAN_XEN;
    const char *name = opts->socket_name ? opts->socket_name : "wayland-0";
    if (strlen(name) >= sizeof(a->socket_name)) {
        BH_ERR(a, MOD, "socket name '%s' is too long", name);
        free(a);
        return NULL;
    }
    snprintf(a->socket_name, sizeof(a->socket_name), "%s", name);
    a->opts.socket_name = a->socket_name;
    wl_list_init(&a->surfaces);
    wl_list_init(&a->windows);
    wl_list_init(&a->deferred_frames);
    wl_list_init(&a->held_releases);
    wl_list_init(&a->grabs);
    wl_signal_init(&a->events.window_gone);
    wl_signal_init(&a->events.window_committed);
    wl_signal_init(&a->events.focus_changed);
    wl_signal_init(&a->events.selection_changed);
    a->next_window_id = 1;

    a->display = wl_display_create();
    if (!a->display) {
        BH_ERR(a, MOD, "cannot create a Wayland display");
        free(a);
        return NULL;
    }
    a->loop = wl_display_get_event_loop(a->display);
    /* Every module initialises its lists before anything can fail, so the
     * teardown below is valid from here on. */
    bh_frames_init(a);
    bh_compositor_init(a);
    bh_xdg_init(a);
    bh_xdg_decoration_init(a);
    bh_output_init(a);
    bh_data_init(a);
    if (!bh_seat_init(a))
        goto fail;
    if (!bh_shm_init(a)) {
        BH_ERR(a, MOD, "cannot set up wl_shm");
        goto fail;
    }
    if (!a->compositor_global || !a->subcompositor_global || !a->wm_base_global || !a->deferred_timer ||
        !a->output.global || !a->data.global) {
        BH_ERR(a, MOD, "cannot create the Wayland globals");
        goto fail;
    }
    /* The X socket before the Wayland one: the sandbox starts the qube's
     * commands once the Wayland socket answers, and an X client started
     * at once found none (sandbox-x11 check 2, under load). Without X11
     * the Wayland apps still work: a failure here is logged and the agent
     * goes on. */
    if (opts->x11)
        a->xwayland = bh_xwayland_new(a, opts->x11_display);
    if (wl_display_add_socket(a->display, a->socket_name) < 0) {
        const char *dir = getenv("XDG_RUNTIME_DIR");
        BH_ERR(a, MOD, "cannot listen on %s/%s: is XDG_RUNTIME_DIR set and the name free?",
               dir ? dir : "(unset)", a->socket_name);
        goto fail;
    }
    if (!opts->no_vchan) {
        a->link = bh_link_new(a, opts->gui_domain, &bh_dom0_events);
        if (!a->link)
            goto fail;
    }
    BH_INFO(a, MOD, "serving Wayland on %s", a->socket_name);
    return a;
fail:
    bh_agent_free(a);
    return NULL;
}

void bh_agent_free(struct bh_agent *a)
{
    if (!a)
        return;
    if (a->link) {
        bh_link_free(a->link);
        a->link = NULL;
    }
    bh_xwayland_free(a->xwayland);
    a->xwayland = NULL;
    /* Clients go first: their resources' destructors unmap windows and
     * release everything that points into the agent's state. */
    wl_display_destroy_clients(a->display);
    bh_shm_fini(a);
    bh_data_fini(a);
    bh_seat_fini(a);
    if (a->deferred_timer)
        wl_event_source_remove(a->deferred_timer);
    if (a->refused.timer)
        wl_event_source_remove(a->refused.timer);
    wl_display_destroy(a->display);
    free(a);
}

void bh_agent_run(struct bh_agent *a)
{
    wl_display_run(a->display);
}

void bh_agent_terminate(struct bh_agent *a)
{
    wl_display_terminate(a->display);
}

int bh_agent_dispatch(struct bh_agent *a, int timeout_ms)
{
    wl_display_flush_clients(a->display);
    int n = wl_event_loop_dispatch(a->loop, timeout_ms);
    wl_display_flush_clients(a->display);
    return n;
}

const char *bh_agent_socket_name(const struct bh_agent *a)
{
    return a->socket_name;
}

struct wl_display *bh_agent_display(struct bh_agent *a)
{
    return a->display;
}
