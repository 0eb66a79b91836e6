/* gui-windows.c — the per-connection window table the decoder checks ids
 * against: which windows exist, their parents, and their current buffer.
 *
 * Owns: the table's invariants — ids unique and in 1..BH_MAX_WINDOW_ID, at
 * most BH_MAX_WINDOWS entries, every parent exists, popups keep their parent
 * and die with it, the parent relation has no cycles.
 * Must never: be changed except through bh_gui_windows_apply() with a
 * message bh_gui_decode() accepted against this same table. */
#include <string.h>

#include "proto-internal.h"

void bh_gui_windows_init(struct bh_gui_windows *w)
{
    memset(w, 0, sizeof *w);
}

static struct bh_gui_window_entry *find_mut(struct bh_gui_windows *w, uint32_t id)
{
    if (id == 0)
        return NULL;
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++) {
        if (w->slots[i].id == id)
            return &w->slots[i];
    }
    return NULL;
}

const struct bh_gui_window_entry *bh_gui_windows_find(const struct bh_gui_windows *w, uint32_t id)
{
    return find_mut((struct bh_gui_windows *)w, id);
}

bool bh_gui_windows_has_ancestor(const struct bh_gui_windows *w, uint32_t id, uint32_t anc)
{
    /* The table has no cycles, so a chain is at most BH_MAX_WINDOWS long;
     * the bound keeps this finite even if a caller broke the table. */
    for (size_t depth = 0; id != 0 && depth <= BH_MAX_WINDOWS; depth++) {
        if (id == anc)
            return true;
        const struct bh_gui_window_entry *e = bh_gui_windows_find(w, id);
        if (!e)
            return false;
        id = e->parent;
    }
    return false;
}

size_t bh_gui_windows_destroy_set(const struct bh_gui_windows *w, uint32_t id, uint32_t *ids, size_t cap)
{
    uint32_t set[BH_MAX_WINDOWS];
    size_t n = 0;

    if (!bh_gui_windows_find(w, id))
        return 0;
    /* Breadth first from id through popup children only: transient
     * (non-popup) children survive and are re-parented by apply. */
    set[n++] = id;
    for (size_t i = 0; i < n; i++) {
        for (size_t s = 0; s < BH_MAX_WINDOWS && n < BH_MAX_WINDOWS; s++) {
            const struct bh_gui_window_entry *e = &w->slots[s];
            if (e->id != 0 && e->parent == set[i] && (e->flags & BH_GUI_CREATE_POPUP))
                set[n++] = e->id;
        }
    }
    /* Reversed breadth-first order puts every popup before its parent. */
    for (size_t i = 0; i < n && i < cap; i++)
        ids[i] = set[n - 1 - i];
    return n;
}

static void destroy(struct bh_gui_windows *w, uint32_t id)
{
    uint32_t set[BH_MAX_WINDOWS];
    struct bh_gui_window_entry *victim = find_mut(w, id);
    size_t n;

    if (!victim)
        return;
    uint32_t grandparent = victim->parent;
    n = bh_gui_windows_destroy_set(w, id, set, BH_MAX_WINDOWS);
    for (size_t i = 0; i < n; i++) {
        struct bh_gui_window_entry *e = find_mut(w, set[i]);
        if (e) {
            memset(e, 0, sizeof *e);
            w->count--;
        }
    }
    /* Transient dialogs of the destroyed window move up one level, as
     * xdg-shell does for children of an unmapped parent. Only a non-popup
     * can have non-popup children, so only `id` can have survivors. */
    for (size_t s = 0; s < BH_MAX_WINDOWS; s++) {
        if (w->slots[s].id != 0 && w->slots[s].parent == id)
            w->slots[s].parent = grandparent;
    }
}

void bh_gui_windows_apply(struct bh_gui_windows *w, const struct bh_gui_msg *m)
{
    struct bh_gui_window_entry *e = NULL;

    switch (m->type) {
    case BH_GUI_HELLO:
        w->hello_done = true;
        w->peer_version = m->u.hello.version;
        break;
    case BH_GUI_CREATE:
        if (w->count >= BH_MAX_WINDOWS || m->window == 0 || find_mut(w, m->window))
            break;
        for (size_t s = 0; !e && s < BH_MAX_WINDOWS; s++) {
            if (w->slots[s].id == 0)
                e = &w->slots[s];
        }
        if (!e)
            break;
        memset(e, 0, sizeof *e);
        e->id = m->window;
        e->parent = m->u.create.parent;
        e->flags = m->u.create.flags;
        w->count++;
        break;
    case BH_GUI_DESTROY:
        destroy(w, m->window);
        break;
    case BH_GUI_MAP:
        e = find_mut(w, m->window);
        if (!e)
            break;
        e->mapped = true;
        if (!(e->flags & BH_GUI_CREATE_POPUP))
            e->parent = m->u.map.transient_for;
        break;
    case BH_GUI_UNMAP:
        e = find_mut(w, m->window);
        if (e)
            e->mapped = false;
        break;
    case BH_GUI_BUFFER:
        e = find_mut(w, m->window);
        if (!e)
            break;
        e->has_buffer = true;
        e->buf_width = m->u.buffer.info.width;
        e->buf_height = m->u.buffer.info.height;
        e->buf_stride = m->u.buffer.info.stride;
        break;
    default:
        break;
    }
}
