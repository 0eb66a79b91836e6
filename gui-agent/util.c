/* util.c — what every file of the agent uses: logging, the clock of Wayland
 * timestamps, resource creation and the "destroy" request, and a signal
 * emission that survives listeners removing each other.
 *
 * Owns: nothing but these helpers; it is the ground floor of the agent.
 * Must never: call into any other file of gui-agent/ or keep state. */
#include "internal.h"

#include <stdio.h>
#include <time.h>

uint32_t bh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

void bh_agent_log(const struct bh_agent *a, enum bh_log_level lvl, const char *module, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (lvl == BH_LOG_DEBUG && !(a && a->opts.verbose))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One write per line so lines from several processes do not interleave. */
    fprintf(stderr, "bulkhead-gui-agent[%s] %s: %s\n", module, names[lvl], msg);
}

struct wl_resource *bh_resource_new(struct wl_client *client, const struct wl_interface *iface, int version,
                                    uint32_t id, const void *impl, void *data,
                                    wl_resource_destroy_func_t destroy)
{
    struct wl_resource *r = wl_resource_create(client, iface, version, id);
    if (!r) {
        wl_client_post_no_memory(client);
        return NULL;
    }
    wl_resource_set_implementation(r, impl, data, destroy);
    return r;
}

void bh_resource_unlink(struct wl_resource *resource)
{
    wl_list_remove(wl_resource_get_link(resource));
}

void bh_request_destroy(struct wl_client *client, struct wl_resource *resource)
{
    wl_resource_destroy(resource);
}

/* ---- signals --------------------------------------------------------------- */

static void noop_notify(struct wl_listener *l, void *data)
{
}

/* libwayland 1.21's wl_signal_emit survives a listener removing itself, not
 * one removing another (focus listeners do: a surface dying unmaps a window,
 * which moves keyboard focus). A cursor that walks the list after each call
 * makes any removal safe; listeners added meanwhile run after the end
 * marker, i.e. not in this emission. */
void bh_signal_emit_safe(struct wl_signal *signal, void *data)
{
    struct wl_listener cursor = {.notify = noop_notify}, end = {.notify = noop_notify};
    wl_list_insert(&signal->listener_list, &cursor.link);
    wl_list_insert(signal->listener_list.prev, &end.link);
    while (cursor.link.next != &end.link) {
        struct wl_list *pos = cursor.link.next;
        struct wl_listener *l = wl_container_of(pos, l, link);
        wl_list_remove(&cursor.link);
        wl_list_insert(pos, &cursor.link);
        l->notify(l, data);
    }
    wl_list_remove(&cursor.link);
    wl_list_remove(&end.link);
}

/* Title and app id: cut at BH_MAX_* on a character boundary, sanitised with
 * the same function dom0's decoder uses so dom0 never rejects them. Shared by
 * xdg toplevels and X windows (xwm.c): both come from hostile clients. */
void bh_store_text(const char *in, size_t in_len, char *out, size_t cap_bytes)
{
    size_t len = in_len;
    if (len > cap_bytes)
        len = cap_bytes;
    /* A cut in the middle of a character: drop the partial tail. */
    len = bh_gui_utf8_check((const uint8_t *)in, len);
    if (bh_gui_text_sanitize((const uint8_t *)in, len, out, cap_bytes + 1) < 0)
        out[0] = '\0';
}
