/* seat.c — wl_seat with wl_keyboard and wl_pointer, fed by dom0's input.
 *
 * Owns: the xkb keymap (compiled here from dom0's RMLVO names and handed to
 * clients as a sealed memfd), the keyboard state, keyboard and pointer focus,
 * input serials, and the routing of dom0 events to the right surface in the
 * right window's tree (subsurfaces and input regions included).
 * Must never: deliver input to a surface outside the window dom0 named (the
 * one exception is the implicit grab while a button is held, inside the same
 * tree), or let a keymap dom0 sends leave the agent without a working one.
 *
 * Key repeat is dom0's: clients are told rate 0, and a press of a key that
 * is already down (dom0's auto-repeat) becomes release + press. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wayland-server-protocol.h>

#define MOD          "seat"
#define SEAT_VERSION 7

/* A cursor surface is never shown (dom0 draws cursors, by name): no hooks,
 * so its frame callbacks go to the slow timer. */
static const struct bh_surface_role cursor_role = {.name = "wl_pointer cursor"};

uint32_t bh_seat_next_serial(struct bh_agent *a)
{
    a->seat.last_serial = wl_display_next_serial(a->display);
    return a->seat.last_serial;
}

static struct wl_client *client_of(struct bh_surface *s)
{
    return s ? wl_resource_get_client(s->resource) : NULL;
}

/* ---- keymap -------------------------------------------------------------------- */

static int keymap_fd_new(struct bh_agent *a, const char *text, uint32_t *size)
{
    int fd = -1, rc = -1;
    size_t len = strlen(text) + 1;

    fd = memfd_create("bulkhead-keymap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        goto out;
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        off += (size_t)n;
    }
    /* Clients map it; sealed so no client can change what others read. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        goto out;
    *size = (uint32_t)len;
    rc = 0;
out:
    if (rc < 0) {
        BH_ERR(a, MOD, "cannot store the keymap for clients: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    return fd;
}

static void send_keymap(struct bh_seat *seat, struct wl_resource *kb)
{
    if (seat->keymap_fd >= 0)
        wl_keyboard_send_keymap(kb, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, seat->keymap_fd, seat->keymap_size);
}

static void read_mods(struct bh_seat *seat, uint32_t *dep, uint32_t *lat, uint32_t *lock, uint32_t *group)
{
    *dep = xkb_state_serialize_mods(seat->state, XKB_STATE_MODS_DEPRESSED);
    *lat = xkb_state_serialize_mods(seat->state, XKB_STATE_MODS_LATCHED);
    *lock = xkb_state_serialize_mods(seat->state, XKB_STATE_MODS_LOCKED);
    *group = xkb_state_serialize_layout(seat->state, XKB_STATE_LAYOUT_EFFECTIVE);
}

static void send_modifiers(struct bh_agent *a, bool force)
{
    struct bh_seat *seat = &a->seat;
    uint32_t dep, lat, lock, group;
    if (!seat->state)
        return; /* no keymap yet: nothing pressed, nothing locked */
    read_mods(seat, &dep, &lat, &lock, &group);
    if (!force && dep == seat->mods_depressed && lat == seat->mods_latched && lock == seat->mods_locked &&
        group == seat->group)
        return;
    seat->mods_depressed = dep;
    seat->mods_latched = lat;
    seat->mods_locked = lock;
    seat->group = group;
    struct wl_client *c = client_of(seat->kb_focus);
    if (!c)
        return;
    uint32_t serial = bh_seat_next_serial(a);
    struct wl_resource *r;
    wl_resource_for_each(r, &seat->keyboards) if (wl_resource_get_client(r) == c)
        wl_keyboard_send_modifiers(r, serial, dep, lat, lock, group);
}

/* Fresh state with only the locks and layout carried over: keys held while
 * another window had focus must not stay "down" here. */
static void reset_keys(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    if (!seat->keymap)
        return; /* no key was ever taken in: nothing held */
    struct xkb_state *st = xkb_state_new(seat->keymap);
    if (!st)
        return;
    uint32_t lock = xkb_state_serialize_mods(seat->state, XKB_STATE_MODS_LOCKED);
    uint32_t group = xkb_state_serialize_layout(seat->state, XKB_STATE_LAYOUT_LOCKED);
    xkb_state_update_mask(st, 0, 0, lock, 0, 0, group);
    xkb_state_unref(seat->state);
    seat->state = st;
    seat->n_keys = 0;
}

static bool install_keymap(struct bh_agent *a, struct xkb_keymap *km)
{
    struct bh_seat *seat = &a->seat;
    char *text = NULL;
    struct xkb_state *st = NULL;
    int fd = -1;
    uint32_t size = 0;
    bool ok = false;

    text = xkb_keymap_get_as_string(km, XKB_KEYMAP_FORMAT_TEXT_V1);
    if (!text)
        goto out;
    fd = keymap_fd_new(a, text, &size);
    if (fd < 0)
        goto out;
    st = xkb_state_new(km);
    if (!st)
        goto out;

    if (seat->keymap_fd >= 0)
        close(seat->keymap_fd);
    seat->keymap_fd = fd;
    fd = -1;
    seat->keymap_size = size;
    if (seat->keymap)
        xkb_keymap_unref(seat->keymap);
    seat->keymap = xkb_keymap_ref(km);
    if (seat->state)
        xkb_state_unref(seat->state);
    seat->state = st;
    st = NULL;
    seat->n_keys = 0;

    struct wl_resource *r;
    wl_resource_for_each(r, &seat->keyboards) send_keymap(seat, r);
    send_modifiers(a, true);
    ok = true;
out:
    free(text);
    if (st)
        xkb_state_unref(st);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Until dom0's KEYMAP comes the keymap is US, the xkb default, compiled only
 * when something needs one (a client's wl_keyboard, a key): dom0 sends its
 * layout right after it connects, and a qube whose first keyboard comes
 * after that never compiles this one. A compile is about 3 ms of CPU, an
 * eighth of what a qube's start costs inside it (bench/RESULTS.md, "Start at
 * scale VIII"). */
static bool keymap_ready(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    if (seat->keymap)
        return true;
    struct xkb_rule_names names = {.layout = "us"};
    struct xkb_keymap *map = xkb_keymap_new_from_names(seat->xkb, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
    bool ok = map && install_keymap(a, map);
    if (map)
        xkb_keymap_unref(map);
    if (!ok && !seat->default_failed) {
        seat->default_failed = true;
        BH_ERR(a, MOD, "cannot compile the default 'us' keymap (is xkb-data installed?): keys are dropped");
    }
    if (ok)
        BH_INFO(a, MOD, "keyboard layout 'us' (the default: dom0's layout has not come yet)");
    return ok;
}

bool bh_seat_set_keymap(struct bh_agent *a, const struct bh_gui_keymap *km)
{
    /* The decoder guarantees every field is NUL-terminated. */
    struct xkb_rule_names names = {
        .rules = km->rules[0] ? km->rules : NULL,
        .model = km->model[0] ? km->model : NULL,
        .layout = km->layout[0] ? km->layout : NULL,
        .variant = km->variant[0] ? km->variant : NULL,
        .options = km->options[0] ? km->options : NULL,
    };
    struct xkb_keymap *map = xkb_keymap_new_from_names(a->seat.xkb, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
    if (!map) {
        BH_WARN(a, MOD,
                "dom0's layout '%s' (variant '%s', options '%s') does not compile; keeping the current one",
                km->layout, km->variant, km->options);
        return false;
    }
    bool ok = install_keymap(a, map);
    xkb_keymap_unref(map);
    if (ok)
        BH_INFO(a, MOD, "keyboard layout '%s' variant '%s'", km->layout, km->variant);
    return ok;
}

/* ---- keyboard focus ---------------------------------------------------------------- */

static void kb_focus_gone(struct wl_listener *l, void *data)
{
    struct bh_seat *seat = wl_container_of(l, seat, kb_focus_destroy);
    wl_list_remove(&l->link);
    wl_list_init(&l->link);
    seat->kb_focus = NULL;
    bh_data_focus_client(seat->agent, NULL);
}

static void send_kb_enter(struct bh_agent *a, struct wl_resource *kb, struct bh_surface *s, uint32_t serial)
{
    struct bh_seat *seat = &a->seat;
    struct wl_array keys;
    wl_array_init(&keys);
    for (uint32_t i = 0; i < seat->n_keys; i++) {
        uint32_t *k = wl_array_add(&keys, sizeof(*k));
        if (k)
            *k = seat->keys[i] - 8;
    }
    wl_keyboard_send_enter(kb, serial, s->resource, &keys);
    wl_array_release(&keys);
    wl_keyboard_send_modifiers(kb, serial, seat->mods_depressed, seat->mods_latched, seat->mods_locked,
                               seat->group);
}

void bh_seat_set_kb_focus(struct bh_agent *a, struct bh_surface *s)
{
    struct bh_seat *seat = &a->seat;
    struct wl_resource *r;
    if (seat->kb_focus == s)
        return;
    if (seat->kb_focus) {
        struct wl_client *c = client_of(seat->kb_focus);
        uint32_t serial = bh_seat_next_serial(a);
        wl_resource_for_each(r, &seat->keyboards) if (wl_resource_get_client(r) == c)
            wl_keyboard_send_leave(r, serial, seat->kb_focus->resource);
        wl_list_remove(&seat->kb_focus_destroy.link);
        wl_list_init(&seat->kb_focus_destroy.link);
    }
    seat->kb_focus = s;
    if (s) {
        wl_signal_add(&s->destroy_signal, &seat->kb_focus_destroy);
        struct wl_client *c = client_of(s);
        uint32_t serial = bh_seat_next_serial(a);
        wl_resource_for_each(r, &seat->keyboards) if (wl_resource_get_client(r) == c)
            send_kb_enter(a, r, s, serial);
    }
    bh_data_focus_client(a, client_of(s));
}

static struct bh_xdg_surface *toplevel_of(struct bh_xdg_surface *x)
{
    while (x && x->kind == BH_XDG_POPUP)
        x = x->popup.parent;
    return x;
}

/* The focused window's tree gets the keys; a grabbing popup on top of it
 * takes them (menus are driven by the keyboard). */
void bh_seat_refocus(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    struct bh_surface *target = NULL;
    if (seat->focused_window && !seat->focused_window->xdg) {
        /* An X window: Xwayland routes keys inside X by its own focus. */
        target = seat->focused_window->root;
    } else if (seat->focused_window) {
        struct bh_xdg_surface *top = toplevel_of(seat->focused_window->xdg);
        target = seat->focused_window->xdg->surface;
        struct bh_xdg_surface *x;
        wl_list_for_each(x, &a->grabs, grab_link) if (toplevel_of(x) == top && x->surface) target =
            x->surface;
    }
    bh_seat_set_kb_focus(a, target);
}

static void set_activated(struct bh_window *w, bool on)
{
    if (w->xdg)
        bh_xdg_set_activated(toplevel_of(w->xdg), on);
    else if (w->owner)
        w->owner->activate(w->owner_data, on);
}

/* ---- popup grabs ------------------------------------------------------------------- */

/* An xdg_popup grab ends when the user works elsewhere: a press outside its
 * chain of popups, or keyboard focus going to a window that shows none of
 * the chain. dom0 tells a focus move as a FOCUS out of the old window and
 * a FOCUS in of the new one (two messages, perhaps read apart), and only
 * the FOCUS out when the user went to another qube or to dom0; and guid
 * shows a popup too large for a popover as a window of its own, which the
 * window manager focuses: a FOCUS out of its parent, then in of it. So a
 * FOCUS out only starts a short wait, and a FOCUS in decides at once. A
 * window manager focuses a window on the press and then passes the press
 * on, so that press comes after the FOCUS in that already ended the grab:
 * it is swallowed as if the grab had still been up. */

static int grab_focus_settled(void *data)
{
    struct bh_agent *a = data;
    if (a->seat.focused_window)
        return 0;
    unsigned n = bh_xdg_dismiss_grabs_outside(a, NULL, true);
    if (n)
        BH_DBG(a, MOD, "focus left the qube's windows: %u popup grab(s) dismissed", n);
    return 0;
}

static void grab_focus_out(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    if (wl_list_empty(&a->grabs))
        return;
    if (!seat->grab_timer)
        seat->grab_timer = wl_event_loop_add_timer(a->loop, grab_focus_settled, a);
    if (!seat->grab_timer) {
        grab_focus_settled(a); /* cannot wait: decide now */
        return;
    }
    wl_event_source_timer_update(seat->grab_timer, BH_SEAT_GRAB_SETTLE_MS);
}

static void grab_focus_in(struct bh_agent *a, struct bh_window *w)
{
    struct bh_seat *seat = &a->seat;
    if (seat->grab_timer)
        wl_event_source_timer_update(seat->grab_timer, 0);
    unsigned n = bh_xdg_dismiss_grabs_outside(a, w->xdg, true);
    if (!n)
        return;
    BH_DBG(a, MOD, "focus went to window %u: %u popup grab(s) dismissed", w->id, n);
    seat->focus_click_window = w->id;
    seat->focus_click_at = bh_now_ms();
}

/* A press on w: true when it ends a grab (or is the click that moved the
 * focus and ended one), and so must not reach the client; its release is
 * dropped with it. */
static bool grab_press(struct bh_agent *a, struct bh_window *w)
{
    struct bh_seat *seat = &a->seat;
    uint32_t since = bh_now_ms() - seat->focus_click_at;
    bool focus_click = seat->focus_click_window == w->id && since < BH_SEAT_FOCUS_CLICK_MS;
    seat->focus_click_window = 0;
    unsigned n = bh_xdg_dismiss_grabs_outside(a, w->xdg, false);
    if (n)
        BH_DBG(a, MOD, "a press on window %u: %u popup grab(s) dismissed, the press kept from the client",
               w->id, n);
    else if (focus_click)
        BH_DBG(a, MOD, "a press on window %u %u ms after its focus ended a grab: kept from the client", w->id,
               since);
    return n > 0 || focus_click;
}

/* ---- dom0's FOCUS ----------------------------------------------------------------------- */

static void focus_now(struct bh_agent *a, struct bh_window *w, bool focused)
{
    struct bh_seat *seat = &a->seat;
    if (focused) {
        if (seat->focused_window == w)
            return;
        if (seat->focused_window)
            set_activated(seat->focused_window, false);
        seat->focused_window = w;
        reset_keys(a);
        set_activated(w, true);
        grab_focus_in(a, w);
    } else {
        if (seat->focused_window != w)
            return;
        set_activated(w, false);
        seat->focused_window = NULL;
        reset_keys(a);
        grab_focus_out(a);
    }
    bh_seat_refocus(a);
    send_modifiers(a, false);
}

static bool key_down(struct bh_seat *seat, uint32_t keycode)
{
    for (uint32_t i = 0; i < seat->n_keys; i++)
        if (seat->keys[i] == keycode)
            return true;
    return false;
}

static void key_forget(struct bh_seat *seat, uint32_t keycode)
{
    for (uint32_t i = 0; i < seat->n_keys; i++) {
        if (seat->keys[i] == keycode) {
            seat->keys[i] = seat->keys[--seat->n_keys];
            return;
        }
    }
}

static void send_key(struct bh_agent *a, uint32_t keycode, uint32_t state)
{
    struct bh_seat *seat = &a->seat;
    struct wl_client *c = client_of(seat->kb_focus);
    if (!c)
        return;
    uint32_t serial = bh_seat_next_serial(a), time = bh_now_ms();
    struct wl_resource *r;
    wl_resource_for_each(r, &seat->keyboards) if (wl_resource_get_client(r) == c)
        wl_keyboard_send_key(r, serial, time, keycode - 8, state);
}

static void key_now(struct bh_agent *a, const struct bh_gui_key *k)
{
    struct bh_seat *seat = &a->seat;
    uint32_t dep, lat, lock, group;

    if (!keymap_ready(a))
        return;
    /* Depressed and latched modifiers follow the keys we saw; locks and
     * the layout group are dom0's (it may have toggled them elsewhere). */
    read_mods(seat, &dep, &lat, &lock, &group);
    if (k->mods_locked != lock || k->group != group) {
        xkb_state_update_mask(seat->state, dep, lat, k->mods_locked, 0, 0, k->group);
        send_modifiers(a, false);
    }

    if (k->pressed) {
        if (key_down(seat, k->keycode)) {
            send_key(a, k->keycode, WL_KEYBOARD_KEY_STATE_RELEASED);
            send_key(a, k->keycode, WL_KEYBOARD_KEY_STATE_PRESSED);
            return;
        }
        if (seat->n_keys == BH_MAX_PRESSED_KEYS) {
            BH_DBG(a, MOD, "more than %u keys down: key %u ignored", BH_MAX_PRESSED_KEYS, k->keycode);
            return;
        }
        seat->keys[seat->n_keys++] = k->keycode;
        send_key(a, k->keycode, WL_KEYBOARD_KEY_STATE_PRESSED);
        xkb_state_update_key(seat->state, k->keycode, XKB_KEY_DOWN);
    } else {
        if (!key_down(seat, k->keycode))
            return; /* pressed before we had focus: the client never saw it */
        key_forget(seat, k->keycode);
        send_key(a, k->keycode, WL_KEYBOARD_KEY_STATE_RELEASED);
        xkb_state_update_key(seat->state, k->keycode, XKB_KEY_UP);
    }
    send_modifiers(a, false);
}

/* ---- keys held for an X focus change ------------------------------------------------ */

static void replay(struct bh_agent *a, const struct bh_seat_held *h)
{
    if (!h->is_focus) {
        key_now(a, &h->key);
        return;
    }
    /* A window gone meanwhile: its FOCUS means nothing any more. */
    struct bh_window *w = bh_window_find(a, h->window);
    if (w && (w->xdg || w->owner))
        focus_now(a, w, h->focused);
}

static void hold_push(struct bh_agent *a, const struct bh_seat_held *h)
{
    struct bh_seat *seat = &a->seat;
    if (seat->n_held == BH_SEAT_MAX_HELD) {
        /* dom0 typed faster than Xwayland answers (or it stopped): stop
         * holding rather than drop a key. */
        BH_WARN(a, MOD, "%d keys held for an X focus change: sent on without waiting", BH_SEAT_MAX_HELD);
        bh_seat_release_keys(a);
    }
    if (seat->holding)
        seat->held[seat->n_held++] = *h;
    else
        replay(a, h);
}

void bh_seat_focus(struct bh_agent *a, struct bh_window *w, bool focused)
{
    if (!a->seat.holding) {
        focus_now(a, w, focused);
        return;
    }
    struct bh_seat_held h = {.is_focus = true, .focused = focused, .window = w->id};
    hold_push(a, &h);
}

void bh_seat_key(struct bh_agent *a, const struct bh_gui_key *k)
{
    if (!a->seat.holding) {
        key_now(a, k);
        return;
    }
    struct bh_seat_held h = {.is_focus = false, .key = *k};
    hold_push(a, &h);
}

static int hold_expired(void *data)
{
    struct bh_agent *a = data;
    /* The first few only: the qube's log is read by dom0. */
    if (a->seat.holds_timed_out++ < 8)
        BH_WARN(a, MOD, "Xwayland did not confirm an X focus change within %d ms: keys sent on",
                BH_SEAT_HOLD_MS);
    bh_seat_release_keys(a);
    return 0;
}

void bh_seat_hold_keys(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    if (!seat->hold_timer)
        seat->hold_timer = wl_event_loop_add_timer(a->loop, hold_expired, a);
    if (!seat->hold_timer)
        return; /* cannot bound a hold: do not start one */
    seat->holding = true;
    wl_event_source_timer_update(seat->hold_timer, BH_SEAT_HOLD_MS);
}

void bh_seat_release_keys(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    if (!seat->holding)
        return;
    seat->holding = false;
    wl_event_source_timer_update(seat->hold_timer, 0);
    /* In dom0's order; a FOCUS replayed onto another X window holds again,
     * and what follows it waits for that one. */
    uint32_t i = 0;
    while (i < seat->n_held && !seat->holding) {
        struct bh_seat_held h = seat->held[i++];
        replay(a, &h);
    }
    memmove(seat->held, seat->held + i, (seat->n_held - i) * sizeof(seat->held[0]));
    seat->n_held -= i;
}

/* ---- pointer -------------------------------------------------------------------------- */

static void ptr_focus_gone(struct wl_listener *l, void *data)
{
    struct bh_seat *seat = wl_container_of(l, seat, ptr_focus_destroy);
    wl_list_remove(&l->link);
    wl_list_init(&l->link);
    seat->ptr_focus = NULL;
    seat->buttons_down = 0;
}

static void pointer_frame(struct wl_resource *r)
{
    if (wl_resource_get_version(r) >= WL_POINTER_FRAME_SINCE_VERSION)
        wl_pointer_send_frame(r);
}

static void set_ptr_focus(struct bh_agent *a, struct bh_surface *s, int32_t sx, int32_t sy)
{
    struct bh_seat *seat = &a->seat;
    struct wl_resource *r;
    if (seat->ptr_focus == s)
        return;
    if (seat->ptr_focus) {
        struct wl_client *c = client_of(seat->ptr_focus);
        uint32_t serial = bh_seat_next_serial(a);
        wl_resource_for_each(r, &seat->pointers)
        {
            if (wl_resource_get_client(r) != c)
                continue;
            wl_pointer_send_leave(r, serial, seat->ptr_focus->resource);
            pointer_frame(r);
        }
        wl_list_remove(&seat->ptr_focus_destroy.link);
        wl_list_init(&seat->ptr_focus_destroy.link);
    }
    seat->ptr_focus = s;
    if (s) {
        wl_signal_add(&s->destroy_signal, &seat->ptr_focus_destroy);
        struct wl_client *c = client_of(s);
        uint32_t serial = bh_seat_next_serial(a);
        wl_resource_for_each(r, &seat->pointers)
        {
            if (wl_resource_get_client(r) != c)
                continue;
            wl_pointer_send_enter(r, serial, s->resource, wl_fixed_from_int(sx), wl_fixed_from_int(sy));
            pointer_frame(r);
        }
    }
}

/* Move dom0's pointer to window-relative (x, y) of w; returns the focus. */
static struct bh_surface *pointer_move(struct bh_agent *a, struct bh_window *w, int32_t x, int32_t y,
                                       bool motion)
{
    struct bh_seat *seat = &a->seat;
    if (!w->root)
        return NULL;
    struct bh_surface *root = w->root;
    int32_t gx, gy, sx = 0, sy = 0;
    bh_window_content_origin(w, &gx, &gy);
    int64_t rx = (int64_t)x + gx, ry = (int64_t)y + gy;

    struct bh_surface *target;
    if (seat->buttons_down && seat->ptr_focus && seat->ptr_window == w) {
        /* Implicit grab: the surface that got the press keeps the pointer. */
        int32_t ox, oy;
        target = seat->ptr_focus;
        bh_surface_root_offset(target, &ox, &oy);
        sx = (int32_t)(rx - ox);
        sy = (int32_t)(ry - oy);
    } else {
        seat->buttons_down = 0;
        target = bh_surface_at(root, (int32_t)rx, (int32_t)ry, &sx, &sy);
    }
    seat->ptr_window = w;
    seat->ptr_wx = x;
    seat->ptr_wy = y;
    if (target != seat->ptr_focus) {
        set_ptr_focus(a, target, sx, sy);
        seat->ptr_x = sx;
        seat->ptr_y = sy;
        return target;
    }
    /* Repeated positions (a button at the current place) are no motion. */
    if (motion && target && (sx != seat->ptr_x || sy != seat->ptr_y)) {
        struct wl_client *c = client_of(target);
        uint32_t time = bh_now_ms();
        struct wl_resource *r;
        wl_resource_for_each(r, &seat->pointers)
        {
            if (wl_resource_get_client(r) != c)
                continue;
            wl_pointer_send_motion(r, time, wl_fixed_from_int(sx), wl_fixed_from_int(sy));
            pointer_frame(r);
        }
        seat->ptr_x = sx;
        seat->ptr_y = sy;
    }
    return target;
}

void bh_seat_motion(struct bh_agent *a, struct bh_window *w, int32_t x, int32_t y)
{
    pointer_move(a, w, x, y, true);
}

void bh_seat_leave(struct bh_agent *a, struct bh_window *w)
{
    struct bh_seat *seat = &a->seat;
    if (seat->ptr_window != w)
        return;
    seat->ptr_window = NULL;
    seat->buttons_down = 0;
    set_ptr_focus(a, NULL, 0, 0);
}

void bh_seat_button(struct bh_agent *a, struct bh_window *w, const struct bh_gui_button *b)
{
    struct bh_seat *seat = &a->seat;
    uint32_t bit = 1u << (b->button - BH_GUI_BUTTON_MIN);
    if (b->pressed) {
        seat->swallowed &= ~bit; /* a release lost with its window */
        if (grab_press(a, w))
            seat->swallowed |= bit;
    }
    /* The pointer moves to the press in any case: after a dismissal the
     * surface under it (enter/leave) is the parent's or another one. */
    struct bh_surface *s = pointer_move(a, w, b->x, b->y, true);
    if (seat->swallowed & bit) {
        if (!b->pressed)
            seat->swallowed &= ~bit;
        return;
    }
    if (b->pressed)
        seat->buttons_down |= bit;
    else
        seat->buttons_down &= ~bit;
    if (!s)
        return;
    struct wl_client *c = client_of(s);
    uint32_t serial = bh_seat_next_serial(a), time = bh_now_ms();
    struct wl_resource *r;
    wl_resource_for_each(r, &seat->pointers)
    {
        if (wl_resource_get_client(r) != c)
            continue;
        wl_pointer_send_button(r, serial, time, b->button,
                               b->pressed ? WL_POINTER_BUTTON_STATE_PRESSED
                                          : WL_POINTER_BUTTON_STATE_RELEASED);
        pointer_frame(r);
    }
}

void bh_seat_axis(struct bh_agent *a, struct bh_window *w, const struct bh_gui_axis *ax)
{
    struct bh_seat *seat = &a->seat;
    if (seat->ptr_window != w || !seat->ptr_focus)
        return;
    struct wl_client *c = client_of(seat->ptr_focus);
    uint32_t time = bh_now_ms();
    uint32_t axis = ax->axis == BH_GUI_AXIS_HORIZONTAL ? WL_POINTER_AXIS_HORIZONTAL_SCROLL
                                                       : WL_POINTER_AXIS_VERTICAL_SCROLL;
    struct wl_resource *r;
    wl_resource_for_each(r, &seat->pointers)
    {
        if (wl_resource_get_client(r) != c)
            continue;
        if (wl_resource_get_version(r) >= WL_POINTER_AXIS_SOURCE_SINCE_VERSION)
            wl_pointer_send_axis_source(r, ax->discrete ? WL_POINTER_AXIS_SOURCE_WHEEL
                                                        : WL_POINTER_AXIS_SOURCE_FINGER);
        if (ax->discrete && wl_resource_get_version(r) >= WL_POINTER_AXIS_DISCRETE_SINCE_VERSION)
            wl_pointer_send_axis_discrete(r, axis, ax->discrete);
        if (ax->value)
            wl_pointer_send_axis(r, time, axis, ax->value);
        else if (wl_resource_get_version(r) >= WL_POINTER_AXIS_STOP_SINCE_VERSION)
            wl_pointer_send_axis_stop(r, time, axis);
        pointer_frame(r);
    }
}

/* A commit moved, restacked, resized or unmapped surfaces of the window
 * under a still pointer: the surface under it, or its place in that
 * surface, may have changed, and dom0 sends nothing until the pointer
 * moves. Look again at dom0's last position (enter/leave or motion), as
 * a compositor does when its scene changes under the cursor (found by
 * wlcs: a subsurface moved or restacked under the pointer kept it). */
static void window_committed(struct wl_listener *l, void *data)
{
    struct bh_seat *seat = wl_container_of(l, seat, window_committed);
    struct bh_window *w = data;
    if (seat->ptr_window == w)
        pointer_move(seat->agent, w, seat->ptr_wx, seat->ptr_wy, true);
}

/* A window goes away: drop focus pointing into it. */
static void window_gone(struct wl_listener *l, void *data)
{
    struct bh_seat *seat = wl_container_of(l, seat, window_gone);
    struct bh_agent *a = seat->agent;
    struct bh_window *w = data;
    if (seat->ptr_window == w) {
        seat->ptr_window = NULL;
        seat->buttons_down = 0;
        set_ptr_focus(a, NULL, 0, 0);
    }
    if (seat->focused_window == w) {
        seat->focused_window = NULL;
        /* A popup closing hands the keys back to its toplevel. */
        if (w->popup && w->parent)
            seat->focused_window = w->parent;
        bh_seat_refocus(a);
    }
}

/* A window or a grabbing popup mapped or unmapped: keyboard focus follows
 * the topmost grab. */
static void focus_changed(struct wl_listener *l, void *data)
{
    struct bh_seat *seat = wl_container_of(l, seat, focus_changed);
    bh_seat_refocus(seat->agent);
}

/* ---- wl_pointer / wl_keyboard requests --------------------------------------------- */

static void pointer_set_cursor(struct wl_client *client, struct wl_resource *resource, uint32_t serial,
                               struct wl_resource *surface_res, int32_t hx, int32_t hy)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct bh_seat *seat = &a->seat;
    if (surface_res) {
        struct bh_surface *s = bh_surface_from_resource(surface_res);
        if (!bh_surface_set_role(s, &cursor_role, NULL, resource, WL_POINTER_ERROR_ROLE))
            return;
    }
    /* Only the client under the pointer may change it. Cursor pixels never
     * leave the qube: dom0 gets a named shape. */
    if (!seat->ptr_focus || client_of(seat->ptr_focus) != client || !seat->ptr_window)
        return;
    bh_window_send_cursor(seat->ptr_window, surface_res ? BH_GUI_CURSOR_DEFAULT : BH_GUI_CURSOR_NONE);
}

static const struct wl_pointer_interface pointer_impl = {
    .set_cursor = pointer_set_cursor,
    .release = bh_request_destroy,
};

static const struct wl_keyboard_interface keyboard_impl = {
    .release = bh_request_destroy,
};

static void seat_get_pointer(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct wl_resource *r = bh_resource_new(client, &wl_pointer_interface, wl_resource_get_version(resource),
                                            id, &pointer_impl, a, bh_resource_unlink);
    if (!r)
        return;
    wl_list_insert(&a->seat.pointers, wl_resource_get_link(r));
}

static void seat_get_keyboard(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct bh_seat *seat = &a->seat;
    struct wl_resource *r = bh_resource_new(client, &wl_keyboard_interface, wl_resource_get_version(resource),
                                            id, &keyboard_impl, a, bh_resource_unlink);
    if (!r)
        return;
    wl_list_insert(&seat->keyboards, wl_resource_get_link(r));
    /* Compiling the default sends it to every keyboard, this one included. */
    if (seat->keymap || !keymap_ready(a))
        send_keymap(seat, r);
    if (wl_resource_get_version(r) >= WL_KEYBOARD_REPEAT_INFO_SINCE_VERSION)
        wl_keyboard_send_repeat_info(r, 0, 0);
    if (seat->kb_focus && client_of(seat->kb_focus) == client)
        send_kb_enter(a, r, seat->kb_focus, bh_seat_next_serial(a));
}

static void seat_get_touch(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    wl_resource_post_error(resource, WL_SEAT_ERROR_MISSING_CAPABILITY, "this seat has no touch");
}

static const struct wl_seat_interface seat_impl = {
    .get_pointer = seat_get_pointer,
    .get_keyboard = seat_get_keyboard,
    .get_touch = seat_get_touch,
    .release = bh_request_destroy,
};

static void seat_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    struct bh_agent *a = data;
    struct wl_resource *r =
        bh_resource_new(client, &wl_seat_interface, version, id, &seat_impl, a, bh_resource_unlink);
    if (!r)
        return;
    wl_list_insert(&a->seat.resources, wl_resource_get_link(r));
    wl_seat_send_capabilities(r, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
    if (version >= WL_SEAT_NAME_SINCE_VERSION)
        wl_seat_send_name(r, "seat0");
}

bool bh_seat_init(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    seat->agent = a;
    seat->keymap_fd = -1;
    wl_list_init(&seat->resources);
    wl_list_init(&seat->pointers);
    wl_list_init(&seat->keyboards);
    wl_list_init(&seat->kb_focus_destroy.link);
    seat->kb_focus_destroy.notify = kb_focus_gone;
    wl_list_init(&seat->ptr_focus_destroy.link);
    seat->ptr_focus_destroy.notify = ptr_focus_gone;
    seat->window_gone.notify = window_gone;
    wl_signal_add(&a->events.window_gone, &seat->window_gone);
    seat->window_committed.notify = window_committed;
    wl_signal_add(&a->events.window_committed, &seat->window_committed);
    seat->focus_changed.notify = focus_changed;
    wl_signal_add(&a->events.focus_changed, &seat->focus_changed);

    seat->xkb = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
    if (!seat->xkb) {
        BH_ERR(a, MOD, "cannot create an xkb context");
        return false;
    }
    /* No keymap yet: dom0's comes with its connection (keymap_ready). */
    seat->global = wl_global_create(a->display, &wl_seat_interface, SEAT_VERSION, a, seat_bind);
    return seat->global != NULL;
}

void bh_seat_fini(struct bh_agent *a)
{
    struct bh_seat *seat = &a->seat;
    wl_list_remove(&seat->window_gone.link);
    wl_list_remove(&seat->window_committed.link);
    wl_list_remove(&seat->focus_changed.link);
    wl_list_remove(&seat->kb_focus_destroy.link);
    wl_list_init(&seat->kb_focus_destroy.link);
    wl_list_remove(&seat->ptr_focus_destroy.link);
    wl_list_init(&seat->ptr_focus_destroy.link);
    if (seat->state)
        xkb_state_unref(seat->state);
    if (seat->keymap)
        xkb_keymap_unref(seat->keymap);
    if (seat->xkb)
        xkb_context_unref(seat->xkb);
    if (seat->keymap_fd >= 0)
        close(seat->keymap_fd);
    if (seat->hold_timer)
        wl_event_source_remove(seat->hold_timer);
    seat->hold_timer = NULL;
    if (seat->grab_timer)
        wl_event_source_remove(seat->grab_timer);
    seat->grab_timer = NULL;
    seat->holding = false;
    seat->n_held = 0;
    seat->state = NULL;
    seat->keymap = NULL;
    seat->xkb = NULL;
    seat->keymap_fd = -1;
}
