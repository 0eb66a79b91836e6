/* frames.c — the agent-wide half of frame pacing: frame callbacks of
 * surfaces nobody shows, fired by a slow timer, and the wl_buffer.release
 * events held back to ride with the next frame callbacks.
 *
 * Owns: the deferred-callback list and its timer, the list of held
 * releases (one per surface at most; docs/gui-agent.md, "Per-frame cost").
 * Must never: hold a release past the frame callbacks it waits for or past
 * dom0 going away, or let a client spin: deferred callbacks fire at ~60 Hz.
 * It calls no other file of the agent but util.c: surfaces and windows
 * call it. */
#include "internal.h"

#include <wayland-server-protocol.h>

void bh_frames_done(struct bh_agent *a, struct wl_list *frames, uint32_t time)
{
    struct wl_resource *r, *tmp;
    bh_agent_send_held_releases(a);
    wl_resource_for_each_safe(r, tmp, frames)
    {
        wl_callback_send_done(r, time);
        wl_resource_destroy(r); /* the destructor unlinks it */
    }
}

static void deferred_fire(struct bh_agent *a)
{
    a->deferred_armed = false;
    bh_frames_done(a, &a->deferred_frames, bh_now_ms());
}

static int deferred_timer_cb(void *data)
{
    deferred_fire(data);
    return 0;
}

void bh_agent_defer_frames(struct bh_agent *a, struct wl_list *frames)
{
    if (wl_list_empty(frames))
        return;
    wl_list_insert_list(a->deferred_frames.prev, frames);
    wl_list_init(frames);
    if (!a->deferred_armed) {
        /* ~60 Hz: a client that asks for frames while nothing is shown is
         * neither starved nor allowed to spin. */
        wl_event_source_timer_update(a->deferred_timer, 16);
        a->deferred_armed = true;
    }
}

void bh_frames_take_tree(struct bh_surface *s, struct wl_list *list)
{
    struct bh_stack_node *n;
    wl_list_insert_list(list->prev, &s->frames);
    wl_list_init(&s->frames);
    wl_list_for_each(n, &s->stack, cur) if (n != &s->self) bh_frames_take_tree(n->surface, list);
}

/* ---- held releases ---------------------------------------------------------------- */

static void held_buffer_destroyed(struct wl_listener *l, void *data)
{
    struct bh_held_release *h = wl_container_of(l, h, destroy);
    bh_held_forget(h);
}

void bh_held_init(struct bh_held_release *h)
{
    h->buffer = NULL;
    wl_list_init(&h->destroy.link);
    h->destroy.notify = held_buffer_destroyed;
    wl_list_init(&h->link);
}

void bh_held_forget(struct bh_held_release *h)
{
    h->buffer = NULL;
    wl_list_remove(&h->destroy.link);
    wl_list_init(&h->destroy.link);
    wl_list_remove(&h->link);
    wl_list_init(&h->link);
}

void bh_held_send(struct bh_held_release *h)
{
    struct wl_resource *buffer = h->buffer;
    if (!buffer)
        return;
    bh_held_forget(h);
    wl_buffer_send_release(buffer);
}

void bh_held_set(struct bh_agent *a, struct bh_held_release *h, struct wl_resource *buffer)
{
    bh_held_send(h); /* at most one per surface */
    h->buffer = buffer;
    wl_resource_add_destroy_listener(buffer, &h->destroy);
    wl_list_insert(a->held_releases.prev, &h->link);
}

void bh_agent_send_held_releases(struct bh_agent *a)
{
    while (!wl_list_empty(&a->held_releases)) {
        struct bh_held_release *h = wl_container_of(a->held_releases.next, h, link);
        bh_held_send(h);
    }
}

void bh_frames_init(struct bh_agent *a)
{
    a->deferred_timer = wl_event_loop_add_timer(a->loop, deferred_timer_cb, a);
}
