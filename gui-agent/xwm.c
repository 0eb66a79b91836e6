/* xwm.c — the X window manager of the qube's Xwayland: X toplevels become
 * protocol windows with their titles, size hints and fullscreen requests;
 * override-redirect windows (menus, tooltips) become popups of the window
 * they belong to, so dom0's popup rules apply to them as to Wayland popups.
 *
 * Owns: the -wm xcb connection, one struct bh_xwin per X window it tracks,
 * and the "xwayland" surface role that joins an X window to the wl_surface
 * Xwayland draws it in (the WL_SURFACE_ID client message).
 * Must never: trust any property an X client set (each is read with a byte
 * cap, sanitised, clamped), track more than BH_XWM_MAX_WINDOWS windows, block
 * on the X server outside a reply it asked for, or call xdg code. */
#include "internal.h"
#include "xwm-props.h"
#include "xwm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <wayland-server-protocol.h>
#include <xcb/xcb.h>
#include <xcb/composite.h>
#include <xcb/xcb_icccm.h>
#include <xcb/xcbext.h> /* xcb_poll_for_reply: replies taken without waiting */

#define MOD "xwm"

static const char *const atom_names[A_N] = {
    [A_WL_SURFACE_ID] = "WL_SURFACE_ID",
    [A_WM_PROTOCOLS] = "WM_PROTOCOLS",
    [A_WM_DELETE_WINDOW] = "WM_DELETE_WINDOW",
    [A_WM_TAKE_FOCUS] = "WM_TAKE_FOCUS",
    [A_WM_STATE] = "WM_STATE",
    [A_NET_WM_NAME] = "_NET_WM_NAME",
    [A_UTF8_STRING] = "UTF8_STRING",
    [A_NET_WM_STATE] = "_NET_WM_STATE",
    [A_NET_WM_STATE_FULLSCREEN] = "_NET_WM_STATE_FULLSCREEN",
    [A_NET_WM_STATE_MAXIMIZED_VERT] = "_NET_WM_STATE_MAXIMIZED_VERT",
    [A_NET_WM_STATE_MAXIMIZED_HORZ] = "_NET_WM_STATE_MAXIMIZED_HORZ",
    [A_NET_SUPPORTED] = "_NET_SUPPORTED",
    [A_NET_SUPPORTING_WM_CHECK] = "_NET_SUPPORTING_WM_CHECK",
    [A_NET_ACTIVE_WINDOW] = "_NET_ACTIVE_WINDOW",
    [A_WM_S0] = "WM_S0",
    [A_CLIPBOARD] = "CLIPBOARD",
    [A_TARGETS] = "TARGETS",
    [A_TIMESTAMP] = "TIMESTAMP",
    [A_INCR] = "INCR",
    [A_BH_SELECTION] = "_BH_SELECTION",
    [A_BH_TARGETS] = "_BH_TARGETS",
    [A_MULTIPLE] = "MULTIPLE",
    [A_ATOM_PAIR] = "ATOM_PAIR",
};

struct bh_xwin {
    struct bh_xwm *wm;
    struct wl_list link;
    xcb_window_t id;
    bool override_redirect;
    bool mapped; /* mapped in X */
    int32_t x, y;
    uint32_t width, height;
    xcb_window_t transient_for;
    bool delete_window, take_focus;
    uint32_t reading, reread; /* R_* in flight, and asked again meanwhile */
    xcb_get_property_cookie_t cookie[6];
    struct wl_list read_link; /* bh_xwm.reading while reading */
    uint32_t surface_id;      /* from WL_SURFACE_ID, 0 = not yet */
    struct bh_surface *surface;
    struct wl_listener surface_destroy;
    struct bh_window_content content;
    struct bh_window *window;
};

static const struct bh_surface_role xwayland_role;
static const struct bh_window_owner xwin_owner;

static struct bh_xwin *find(struct bh_xwm *wm, xcb_window_t id)
{
    struct bh_xwin *w;
    wl_list_for_each(w, &wm->xwins, link) if (w->id == id) return w;
    return NULL;
}

/* ---- reading what a client set: capped and sanitised --------------------------- */

/* Properties are read without waiting: the requests go out at once and
 * their replies are taken as they arrive (collect()). A reply waited for
 * in the loop left Xwayland's Wayland socket unread meanwhile: a client
 * mapping 1 000 windows kept the agent in round trips (each behind the
 * flood's requests in Xwayland) until that socket filled and Xwayland gave
 * up. */
enum {
    R_TITLE = 1u << 0,
    R_HINTS = 1u << 1,
    R_STATE = 1u << 2,
    R_PROTO = 1u << 3, /* WM_PROTOCOLS and WM_TRANSIENT_FOR */
    R_ALL = R_TITLE | R_HINTS | R_STATE | R_PROTO,
};

static void apply_title(struct bh_xwin *w, xcb_get_property_reply_t *r[2])
{
    char buf[sizeof(w->content.title)];
    buf[0] = '\0';
    /* _NET_WM_NAME (UTF-8) wins over WM_NAME (Latin-1, kept only if ASCII
     * survives sanitising: no transcoding of hostile bytes). */
    for (int i = 0; i < 2; i++)
        if (r[i] && !buf[0] && r[i]->format == 8 && xcb_get_property_value_length(r[i]) > 0)
            bh_store_text(xcb_get_property_value(r[i]), (size_t)xcb_get_property_value_length(r[i]), buf,
                          BH_MAX_TITLE_BYTES);
    if (strcmp(buf, w->content.title) == 0)
        return;
    memcpy(w->content.title, buf, sizeof(buf));
    if (w->window)
        bh_window_send_title(w->window);
}

static void apply_hints(struct bh_xwin *w, xcb_get_property_reply_t *r)
{
    struct bh_xwm *wm = w->wm;
    struct bh_xwm_hints h = {0};
    if (r && r->format == 32)
        bh_xwm_size_hints(xcb_get_property_value(r), (size_t)xcb_get_property_value_length(r) / 4, &h);
    if (h.dropped) {
        /* Logged for the first few windows only: a client could otherwise
         * fill the qube's log, which dom0 reads. */
        if (wm->hints_logged < 8)
            BH_WARN(wm->agent, MOD, "X window 0x%x: minimum size above maximum: size hints ignored", w->id);
        wm->hints_logged++;
    }
    if (h.min_w == w->content.min_w && h.min_h == w->content.min_h && h.max_w == w->content.max_w &&
        h.max_h == w->content.max_h)
        return;
    w->content.min_w = h.min_w;
    w->content.min_h = h.min_h;
    w->content.max_w = h.max_w;
    w->content.max_h = h.max_h;
    if (w->window)
        bh_window_send_hints(w->window);
}

static void apply_protocols_and_transient(struct bh_xwin *w, xcb_get_property_reply_t *r[2])
{
    xcb_icccm_get_wm_protocols_reply_t p;
    w->delete_window = w->take_focus = false;
    if (r[0] && xcb_icccm_get_wm_protocols_from_reply(r[0], &p)) {
        for (uint32_t i = 0; i < p.atoms_len && i < 64; i++) {
            w->delete_window |= p.atoms[i] == w->wm->atoms[A_WM_DELETE_WINDOW];
            w->take_focus |= p.atoms[i] == w->wm->atoms[A_WM_TAKE_FOCUS];
        }
        /* p points into r[0], freed by the caller. */
    }
    xcb_window_t t = XCB_WINDOW_NONE;
    if (!r[1] || !xcb_icccm_get_wm_transient_for_from_reply(&t, r[1]))
        t = XCB_WINDOW_NONE;
    w->transient_for = t;
}

static void apply_state(struct bh_xwin *w, xcb_get_property_reply_t *r)
{
    struct bh_xwm *wm = w->wm;
    const struct bh_xwm_state_atoms known = {wm->atoms[A_NET_WM_STATE_FULLSCREEN],
                                             wm->atoms[A_NET_WM_STATE_MAXIMIZED_VERT],
                                             wm->atoms[A_NET_WM_STATE_MAXIMIZED_HORZ]};
    uint32_t flags = 0;
    if (r && r->format == 32)
        flags = bh_xwm_state_flags(xcb_get_property_value(r), (size_t)xcb_get_property_value_length(r) / 4,
                                   &known);
    if (flags == w->content.flags)
        return;
    w->content.flags = flags;
    if (w->window)
        bh_window_send_flags(w->window);
}

/* The requests for `what` (R_*) go out; one already in flight is asked
 * again once its reply is in, so the newest value wins. */
static void request_reads(struct bh_xwin *w, uint32_t what)
{
    struct bh_xwm *wm = w->wm;
    xcb_connection_t *c = wm->conn;
    w->reread |= what & w->reading;
    what &= ~w->reading;
    if (!what)
        return;
    /* The list stays in the order of the newest request of each window,
     * which is the order its replies complete in (collect() stops at the
     * first window not complete). */
    if (w->reading)
        wl_list_remove(&w->read_link);
    wl_list_insert(wm->reading.prev, &w->read_link);
    w->reading |= what;
    if (what & R_TITLE) {
        w->cookie[0] = xcb_get_property(c, 0, w->id, wm->atoms[A_NET_WM_NAME], wm->atoms[A_UTF8_STRING], 0,
                                        BH_XWM_TITLE_WORDS);
        w->cookie[1] = xcb_get_property(c, 0, w->id, XCB_ATOM_WM_NAME, XCB_ATOM_ANY, 0, BH_XWM_TITLE_WORDS);
    }
    if (what & R_HINTS)
        w->cookie[2] = xcb_get_property(c, 0, w->id, XCB_ATOM_WM_NORMAL_HINTS, XCB_ATOM_ANY, 0, 32);
    if (what & R_STATE)
        w->cookie[3] = xcb_get_property(c, 0, w->id, wm->atoms[A_NET_WM_STATE], XCB_ATOM_ATOM, 0, 32);
    if (what & R_PROTO) {
        w->cookie[4] = xcb_icccm_get_wm_protocols(c, w->id, wm->atoms[A_WM_PROTOCOLS]);
        w->cookie[5] = xcb_icccm_get_wm_transient_for(c, w->id);
    }
}

/* Cookies of each R_* bit, in w->cookie[]. */
static const struct {
    uint32_t bit;
    int first, n;
} read_cookies[] = {{R_TITLE, 0, 2}, {R_HINTS, 2, 1}, {R_STATE, 3, 1}, {R_PROTO, 4, 2}};

static void show(struct bh_xwin *w);

/* Takes the replies that came (never waits), applies them, and shows a
 * window whose reads are all done. */
static void collect(struct bh_xwm *wm)
{
    struct bh_xwin *w, *tmp;
    wl_list_for_each_safe(w, tmp, &wm->reading, read_link)
    {
        for (size_t k = 0; k < sizeof(read_cookies) / sizeof(read_cookies[0]); k++) {
            if (!(w->reading & read_cookies[k].bit))
                continue;
            xcb_get_property_reply_t *r[2] = {NULL, NULL};
            int first = read_cookies[k].first, n = read_cookies[k].n;
            /* Replies come in order: the last of the bit's cookies is enough. */
            void *last = NULL;
            xcb_generic_error_t *err = NULL;
            if (!xcb_poll_for_reply(wm->conn, w->cookie[first + n - 1].sequence, &last, &err))
                continue;
            free(err);
            r[n - 1] = last;
            if (n == 2) {
                err = NULL;
                if (xcb_poll_for_reply(wm->conn, w->cookie[first].sequence, (void **)&r[0], &err) != 1)
                    r[0] = NULL;
                free(err);
            }
            w->reading &= ~read_cookies[k].bit;
            switch (read_cookies[k].bit) {
            case R_TITLE:
                apply_title(w, r);
                break;
            case R_HINTS:
                apply_hints(w, r[0]);
                break;
            case R_STATE:
                apply_state(w, r[0]);
                break;
            default:
                apply_protocols_and_transient(w, r);
                break;
            }
            free(r[0]);
            free(r[1]);
        }
        if (w->reading)
            break; /* the replies of the windows after it come later */
        wl_list_remove(&w->read_link);
        if (w->reread) {
            uint32_t again = w->reread;
            w->reread = 0;
            request_reads(w, again);
        } else {
            show(w);
        }
    }
    if (wm->focus_pending) {
        void *r = NULL;
        xcb_generic_error_t *err = NULL;
        if (xcb_poll_for_reply(wm->conn, wm->focus_cookie.sequence, &r, &err)) {
            free(r);
            free(err);
            wm->focus_pending = false;
            /* Xwayland did the SetInputFocus before this answer: a key it
             * reads from now on goes to the new focus. */
            bh_seat_release_keys(wm->agent);
        }
    }
}

/* Replies collect() still waits for. */
static bool awaiting_replies(const struct bh_xwm *wm)
{
    return !wl_list_empty(&wm->reading) || wm->focus_pending;
}

/* A window that goes stops waiting for its replies. */
static void forget_reads(struct bh_xwin *w)
{
    for (size_t k = 0; k < sizeof(read_cookies) / sizeof(read_cookies[0]); k++)
        if (w->reading & read_cookies[k].bit)
            for (int i = 0; i < read_cookies[k].n; i++)
                xcb_discard_reply(w->wm->conn, w->cookie[read_cookies[k].first + i].sequence);
    if (w->reading)
        wl_list_remove(&w->read_link);
    w->reading = w->reread = 0;
}

/* ---- X windows as protocol windows --------------------------------------------- */

/* The window an override-redirect or transient window belongs to: its
 * WM_TRANSIENT_FOR if shown, else the X window dom0 last focused, else the
 * newest shown toplevel. */
static struct bh_xwin *owner_of(struct bh_xwin *w)
{
    struct bh_xwm *wm = w->wm;
    struct bh_xwin *p = w->transient_for ? find(wm, w->transient_for) : NULL;
    if (p && p->window && p != w)
        return p;
    if (!w->override_redirect)
        return NULL;
    struct bh_window *f = wm->agent->seat.focused_window;
    if (f && f->owner == &xwin_owner) {
        p = f->owner_data;
        if (p != w && !p->override_redirect)
            return p;
    }
    struct bh_xwin *c, *best = NULL;
    wl_list_for_each(c, &wm->xwins, link) if (c != w && c->window && !c->override_redirect) best = c;
    return best;
}

static void show(struct bh_xwin *w)
{
    /* Shown once what it says of itself (title, transient-for) is read. */
    if (w->window || !w->mapped || !w->surface || w->surface->width <= 0 || w->reading)
        return;
    struct bh_xwin *parent = owner_of(w);
    bool popup = w->override_redirect;
    if (popup && !parent) {
        /* A menu with nothing to belong to is not shown: dom0 would show it
         * as a window of its own. */
        BH_DBG(w->wm->agent, MOD, "override-redirect 0x%x has no parent: not shown", w->id);
        return;
    }
    BH_DBG(w->wm->agent, MOD, "window 0x%x shown (%s)", w->id, popup ? "popup" : "toplevel");
    w->content.popup_x = parent ? w->x - parent->x : 0;
    w->content.popup_y = parent ? w->y - parent->y : 0;
    w->window =
        bh_window_create(w->wm->agent, NULL, &w->content, w->surface, parent ? parent->window : NULL, popup);
    if (w->window) {
        w->window->owner = &xwin_owner;
        w->window->owner_data = w;
    }
    bh_output_enter_surface(w->wm->agent, w->surface);
}

static void hide(struct bh_xwin *w)
{
    if (!w->window)
        return;
    struct bh_window *win = w->window;
    /* Popups go before their parent. */
    struct bh_xwin *c;
    wl_list_for_each(c, &w->wm->xwins, link) if (c->window && c->window->parent == win && c->window->popup)
    {
        bh_window_destroy(c->window);
        c->window = NULL;
    }
    w->window = NULL;
    bh_window_destroy(win);
}

static void surface_destroyed(struct wl_listener *l, void *data)
{
    struct bh_xwin *w = wl_container_of(l, w, surface_destroy);
    hide(w);
    wl_list_remove(&w->surface_destroy.link);
    wl_list_init(&w->surface_destroy.link);
    w->surface = NULL;
}

/* By its interface (wl_resource_instance_of would also compare the
 * implementation, which the id Xwayland names need not have yet). */
static bool is_surface(struct wl_resource *r)
{
    return strcmp(wl_resource_get_class(r), wl_surface_interface.name) == 0;
}

static void associate(struct bh_xwin *w)
{
    struct bh_xwm *wm = w->wm;
    if (w->surface || !w->surface_id || !wm->xclient)
        return;
    struct wl_resource *r = wl_client_get_object(wm->xclient, w->surface_id);
    if (!r || !is_surface(r)) {
        BH_DBG(wm->agent, MOD, "window 0x%x: wl_surface %u not there yet", w->id, w->surface_id);
        return; /* not created yet: resource_created retries */
    }
    struct bh_surface *s = bh_surface_from_resource(r);
    if (!s || !bh_surface_set_role(s, &xwayland_role, w, r, WL_SURFACE_ERROR_INVALID_SCALE))
        return;
    BH_DBG(wm->agent, MOD, "window 0x%x is drawn in wl_surface %u", w->id, w->surface_id);
    w->surface = s;
    w->surface_destroy.notify = surface_destroyed;
    wl_signal_add(&s->destroy_signal, &w->surface_destroy);
    show(w);
}

static void retry_associate(void *data)
{
    struct bh_xwm *wm = data;
    wm->retry = NULL;
    struct bh_xwin *w;
    wl_list_for_each(w, &wm->xwins, link) associate(w);
}

static void resource_created(struct wl_listener *l, void *data)
{
    struct bh_xwm *wm = wl_container_of(l, wm, resource_created);
    /* The WL_SURFACE_ID message can come before the wl_surface; and the
     * resource is announced before its constructor ran: look again once
     * this dispatch is over. */
    if (!wm->retry && is_surface(data))
        wm->retry = wl_event_loop_add_idle(wm->agent->loop, retry_associate, wm);
}

/* ---- the role: Xwayland's surfaces ----------------------------------------------- */

static struct bh_window *root_window(struct bh_surface *root)
{
    struct bh_xwin *w = root->role_data;
    return w ? w->window : NULL;
}

static void role_commit(struct bh_surface *s)
{
    struct bh_xwin *w = s->role_data;
    if (!w->window)
        show(w);
    if (w->window) {
        bh_window_commit(w->window);
        return;
    }
    /* Not shown (unmapped, no parent, over the limit): nobody will present
     * it, its callbacks go to the slow timer. */
    struct wl_list frames;
    wl_list_init(&frames);
    bh_frames_take_tree(s, &frames);
    bh_agent_defer_frames(w->wm->agent, &frames);
}

static bool role_presented(struct bh_surface *root)
{
    return bh_window_root_presented(root_window(root));
}

static void role_damage_all(struct bh_surface *root)
{
    bh_window_root_damage_all(root_window(root));
}

static bool role_recompose(struct bh_surface *root)
{
    return bh_window_root_recompose(root_window(root));
}

static const struct bh_surface_role xwayland_role = {
    .name = "xwayland",
    .commit = role_commit,
    .presented = role_presented,
    .damage_all = role_damage_all,
    .recompose = role_recompose,
};

/* ---- dom0's requests ------------------------------------------------------------- */

static void xwin_configure(void *data, int32_t width, int32_t height, uint32_t states)
{
    struct bh_xwin *w = data;
    if (width <= 0 || height <= 0 || w->override_redirect)
        return;
    uint32_t v[2] = {(uint32_t)width, (uint32_t)height};
    xcb_configure_window(w->wm->conn, w->id, XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT, v);
    xcb_flush(w->wm->conn);
}

static void xwin_close(void *data)
{
    struct bh_xwin *w = data;
    struct bh_xwm *wm = w->wm;
    if (w->override_redirect) {
        hide(w);
        return;
    }
    if (w->delete_window) {
        xcb_client_message_event_t ev = {
            .response_type = XCB_CLIENT_MESSAGE,
            .format = 32,
            .window = w->id,
            .type = wm->atoms[A_WM_PROTOCOLS],
            .data.data32 = {wm->atoms[A_WM_DELETE_WINDOW], XCB_CURRENT_TIME},
        };
        xcb_send_event(wm->conn, 0, w->id, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
    } else {
        /* No WM_DELETE_WINDOW: as every X window manager does. */
        xcb_kill_client(wm->conn, w->id);
    }
    xcb_flush(wm->conn);
}

static void xwin_activate(void *data, bool on)
{
    struct bh_xwin *w = data;
    struct bh_xwm *wm = w->wm;
    if (w->override_redirect)
        return;
    xcb_window_t focus = on ? w->id : XCB_WINDOW_NONE;
    if (on && w->take_focus) {
        xcb_client_message_event_t ev = {
            .response_type = XCB_CLIENT_MESSAGE,
            .format = 32,
            .window = w->id,
            .type = wm->atoms[A_WM_PROTOCOLS],
            .data.data32 = {wm->atoms[A_WM_TAKE_FOCUS], XCB_CURRENT_TIME},
        };
        xcb_send_event(wm->conn, 0, w->id, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
    }
    xcb_set_input_focus(wm->conn, XCB_INPUT_FOCUS_POINTER_ROOT, focus, XCB_CURRENT_TIME);
    xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, wm->screen->root, wm->atoms[A_NET_ACTIVE_WINDOW],
                        XCB_ATOM_WINDOW, 32, 1, &focus);
    if (on && !xcb_connection_has_error(wm->conn)) {
        /* dom0's next keys go over Wayland, this focus over X: held until
         * Xwayland answers a request sent after it (collect()). Without
         * that, one first key in five was lost at load 17, and when
         * Xwayland reads both in one wake-up it delivers the key first,
         * to the old focus (sandbox-x11-apps stops it to make sure). */
        if (wm->focus_pending)
            xcb_discard_reply(wm->conn, wm->focus_cookie.sequence);
        wm->focus_cookie = xcb_get_input_focus(wm->conn);
        wm->focus_pending = true;
        bh_seat_hold_keys(wm->agent);
    }
    xcb_flush(wm->conn);
}

static const struct bh_window_owner xwin_owner = {
    .configure = xwin_configure,
    .close = xwin_close,
    .activate = xwin_activate,
};

/* ---- X events -------------------------------------------------------------------- */

static void forget(struct bh_xwin *w)
{
    forget_reads(w);
    hide(w);
    if (w->surface) {
        w->surface->role_data = NULL;
        wl_list_remove(&w->surface_destroy.link);
    }
    wl_list_remove(&w->link);
    w->wm->n_xwins--;
    free(w);
}

static void on_create(struct bh_xwm *wm, xcb_create_notify_event_t *e)
{
    if (e->window == wm->check_window || find(wm, e->window))
        return;
    if (wm->n_xwins >= BH_XWM_MAX_WINDOWS) {
        if (!wm->refused_logged)
            BH_WARN(wm->agent, MOD, "an X client made more than %d windows: the others are not shown",
                    BH_XWM_MAX_WINDOWS);
        wm->refused_logged = true;
        return;
    }
    struct bh_xwin *w = calloc(1, sizeof(*w));
    if (!w)
        return;
    w->wm = wm;
    w->id = e->window;
    w->override_redirect = e->override_redirect;
    w->x = e->x;
    w->y = e->y;
    w->width = e->width;
    w->height = e->height;
    wl_list_init(&w->surface_destroy.link);
    wl_list_insert(wm->xwins.prev, &w->link);
    wm->n_xwins++;
    uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
    xcb_change_window_attributes(wm->conn, w->id, XCB_CW_EVENT_MASK, &mask);
}

static void on_map_request(struct bh_xwm *wm, xcb_map_request_event_t *e)
{
    struct bh_xwin *w = find(wm, e->window);
    if (!w)
        return;
    w->override_redirect = false;
    request_reads(w, R_ALL);
    uint32_t state[2] = {XCB_ICCCM_WM_STATE_NORMAL, XCB_WINDOW_NONE};
    xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, w->id, wm->atoms[A_WM_STATE], wm->atoms[A_WM_STATE],
                        32, 2, state);
    /* No X border: rootless Xwayland makes it part of the window's
     * surface, so the content dom0 sizes would be the window plus twice
     * the border, and each size dom0 asks for (focus changes send one)
     * grew the window by that much (xterm's 1 px border: 2 px a time). A
     * framing manager sets it to 0 too (dom0 draws the frame). */
    uint32_t no_border = 0;
    xcb_configure_window(wm->conn, w->id, XCB_CONFIG_WINDOW_BORDER_WIDTH, &no_border);
    xcb_map_window(wm->conn, w->id);
    /* ICCCM 4.1.5: the manager tells a client where its window is with a
     * synthetic ConfigureNotify (a reparenting one does it after framing
     * it). Java's AWT paints nothing in a new window until one comes: its
     * Swing windows stayed blank grey until dom0 resized them. */
    xcb_configure_notify_event_t cn = {
        .response_type = XCB_CONFIGURE_NOTIFY,
        .event = w->id,
        .window = w->id,
        .above_sibling = XCB_WINDOW_NONE,
        .x = (int16_t)w->x,
        .y = (int16_t)w->y,
        .width = (uint16_t)w->width,
        .height = (uint16_t)w->height,
    };
    xcb_send_event(wm->conn, 0, w->id, XCB_EVENT_MASK_STRUCTURE_NOTIFY, (const char *)&cn);
}

static void on_map_notify(struct bh_xwm *wm, xcb_map_notify_event_t *e)
{
    struct bh_xwin *w = find(wm, e->window);
    if (!w)
        return;
    /* Tk and others set override-redirect after creating the window: what
     * counts is the state at map. */
    w->override_redirect = e->override_redirect;
    if (w->override_redirect)
        request_reads(w, R_PROTO);
    w->mapped = true;
    show(w);
}

static void on_unmap(struct bh_xwm *wm, xcb_window_t id)
{
    struct bh_xwin *w = find(wm, id);
    if (!w)
        return;
    w->mapped = false;
    hide(w);
    /* Xwayland gives a window a new wl_surface at each map. */
    if (w->surface) {
        w->surface->role_data = NULL;
        wl_list_remove(&w->surface_destroy.link);
        wl_list_init(&w->surface_destroy.link);
        w->surface = NULL;
    }
    w->surface_id = 0;
}

static void on_configure_request(struct bh_xwm *wm, xcb_configure_request_event_t *e)
{
    struct bh_xwin *w = find(wm, e->window);
    uint32_t v[5], n = 0;
    uint16_t mask = 0;
    /* Position and size as asked, sizes capped: dom0 places toplevels, the
     * X position only matters for where menus open relative to them. */
    if (e->value_mask & XCB_CONFIG_WINDOW_X)
        mask |= XCB_CONFIG_WINDOW_X, v[n++] = (uint32_t)(int32_t)e->x;
    if (e->value_mask & XCB_CONFIG_WINDOW_Y)
        mask |= XCB_CONFIG_WINDOW_Y, v[n++] = (uint32_t)(int32_t)e->y;
    if (e->value_mask & XCB_CONFIG_WINDOW_WIDTH)
        mask |= XCB_CONFIG_WINDOW_WIDTH,
            v[n++] = e->width > BH_MAX_WINDOW_WIDTH ? BH_MAX_WINDOW_WIDTH : (e->width ? e->width : 1);
    if (e->value_mask & XCB_CONFIG_WINDOW_HEIGHT)
        mask |= XCB_CONFIG_WINDOW_HEIGHT,
            v[n++] = e->height > BH_MAX_WINDOW_HEIGHT ? BH_MAX_WINDOW_HEIGHT : (e->height ? e->height : 1);
    /* A border asked for stays 0 (on_map_request says why). */
    if (e->value_mask & XCB_CONFIG_WINDOW_BORDER_WIDTH)
        mask |= XCB_CONFIG_WINDOW_BORDER_WIDTH, v[n++] = 0;
    if (!w || !mask)
        return;
    xcb_configure_window(wm->conn, e->window, mask, v);
    /* What the window is now, before its ConfigureNotify comes back: a map
     * requested right after tells the client this (on_map_request). */
    n = 0;
    if (mask & XCB_CONFIG_WINDOW_X)
        w->x = (int32_t)v[n++];
    if (mask & XCB_CONFIG_WINDOW_Y)
        w->y = (int32_t)v[n++];
    if (mask & XCB_CONFIG_WINDOW_WIDTH)
        w->width = v[n++];
    if (mask & XCB_CONFIG_WINDOW_HEIGHT)
        w->height = v[n++];
}

static void on_configure_notify(struct bh_xwm *wm, xcb_configure_notify_event_t *e)
{
    struct bh_xwin *w = find(wm, e->window);
    if (!w)
        return;
    w->x = e->x;
    w->y = e->y;
    w->width = e->width;
    w->height = e->height;
    if (w->window && w->window->popup && w->window->parent) {
        struct bh_xwin *p = w->window->parent->owner_data;
        if (w->window->parent->owner == &xwin_owner && p) {
            w->content.popup_x = w->x - p->x;
            w->content.popup_y = w->y - p->y;
            bh_window_damage_all(w->window);
            bh_window_commit(w->window);
        }
    }
}

static void on_property(struct bh_xwm *wm, xcb_property_notify_event_t *e)
{
    struct bh_xwin *w = find(wm, e->window);
    if (!w)
        return;
    if (e->atom == wm->atoms[A_NET_WM_NAME] || e->atom == XCB_ATOM_WM_NAME)
        request_reads(w, R_TITLE);
    else if (e->atom == XCB_ATOM_WM_NORMAL_HINTS)
        request_reads(w, R_HINTS);
    else if (e->atom == wm->atoms[A_NET_WM_STATE])
        request_reads(w, R_STATE);
    else if (e->atom == wm->atoms[A_WM_PROTOCOLS] || e->atom == XCB_ATOM_WM_TRANSIENT_FOR)
        request_reads(w, R_PROTO);
}

static void on_client_message(struct bh_xwm *wm, xcb_client_message_event_t *e)
{
    struct bh_xwin *w = find(wm, e->window);
    if (!w || e->format != 32)
        return;
    BH_DBG(wm->agent, MOD, "client message %u on 0x%x", e->type, w->id);
    if (e->type == wm->atoms[A_WL_SURFACE_ID]) {
        if (w->surface)
            return;
        w->surface_id = e->data.data32[0];
        associate(w);
    } else if (e->type == wm->atoms[A_NET_WM_STATE]) {
        /* _NET_WM_STATE requests: only fullscreen is honoured, as a request
         * dom0 maps to the qube's fullscreen rule. */
        uint32_t action = e->data.data32[0];
        bool fs = e->data.data32[1] == wm->atoms[A_NET_WM_STATE_FULLSCREEN] ||
                  e->data.data32[2] == wm->atoms[A_NET_WM_STATE_FULLSCREEN];
        if (!fs || action > 2)
            return;
        bool on = action == 1 || (action == 2 && !(w->content.flags & BH_GUI_FLAG_FULLSCREEN));
        uint32_t flags =
            on ? (w->content.flags | BH_GUI_FLAG_FULLSCREEN) : (w->content.flags & ~BH_GUI_FLAG_FULLSCREEN);
        if (flags != w->content.flags) {
            w->content.flags = flags;
            if (w->window)
                bh_window_send_flags(w->window);
        }
    }
}

static void handle(struct bh_xwm *wm, xcb_generic_event_t *ev)
{
    if (wm->sel && bh_xsel_handle(wm->sel, ev))
        return;
    switch (ev->response_type & 0x7f) {
    case XCB_CREATE_NOTIFY:
        on_create(wm, (xcb_create_notify_event_t *)ev);
        break;
    case XCB_DESTROY_NOTIFY: {
        struct bh_xwin *w = find(wm, ((xcb_destroy_notify_event_t *)ev)->window);
        if (w)
            forget(w);
        break;
    }
    case XCB_MAP_REQUEST:
        on_map_request(wm, (xcb_map_request_event_t *)ev);
        break;
    case XCB_MAP_NOTIFY:
        on_map_notify(wm, (xcb_map_notify_event_t *)ev);
        break;
    case XCB_UNMAP_NOTIFY:
        on_unmap(wm, ((xcb_unmap_notify_event_t *)ev)->window);
        break;
    case XCB_CONFIGURE_REQUEST:
        on_configure_request(wm, (xcb_configure_request_event_t *)ev);
        break;
    case XCB_CONFIGURE_NOTIFY:
        on_configure_notify(wm, (xcb_configure_notify_event_t *)ev);
        break;
    case XCB_PROPERTY_NOTIFY:
        on_property(wm, (xcb_property_notify_event_t *)ev);
        break;
    case XCB_CLIENT_MESSAGE:
        on_client_message(wm, (xcb_client_message_event_t *)ev);
        break;
    default:
        break;
    }
}

static int on_x_readable(int fd, uint32_t mask, void *data);

/* The rest of a full batch on the next loop turn. */
static void continue_later(struct bh_xwm *wm)
{
    uint64_t one = 1;
    if (!wm->more_armed && wm->more_fd >= 0)
        wm->more_armed = write(wm->more_fd, &one, sizeof(one)) == sizeof(one);
}

/* The rest of a batch, after the loop's other ready fds: an eventfd (an
 * idle source would run again before the loop polls anything). */
static int x_continue(int fd, uint32_t mask, void *data)
{
    struct bh_xwm *wm = data;
    uint64_t v;
    if (read(fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing was pending. */
    }
    wm->more_armed = false;
    return on_x_readable(-1, 0, wm);
}

/* Called when Xwayland's socket is readable, from x_continue (fd -1), and
 * after every dispatch of the agent's loop (wl_event_source_check: fd set,
 * mask 0). That last call takes only what xcb already holds: any reply
 * read anywhere (collect's xcb_poll_for_reply, a synchronous reply in the
 * selection code, a timer) can pull X events and other replies into xcb's
 * queues, and the socket will not become readable again for them. A
 * SelectionRequest left there went unanswered until the next X event
 * happened to come (10 s in one CI run, when the client gave up and its
 * exit woke us). So the check takes queued events and the replies
 * collect() awaits, and goes round again while collecting queued more:
 * when it returns, xcb holds nothing the XWM waits for, which no other
 * part of the agent has to think of. */
static int on_x_readable(int fd, uint32_t mask, void *data)
{
    struct bh_xwm *wm = data;
    xcb_generic_event_t *ev;
    int n = 0;
    bool queued_only = fd >= 0 && mask == 0;
    /* The check after each dispatch must cost nothing when idle: no event
     * queued and no reply awaited means no system call. */
    if (queued_only && !awaiting_replies(wm)) {
        if (!(ev = xcb_poll_for_queued_event(wm->conn)))
            return 0;
        handle(wm, ev);
        free(ev);
        n++;
    }
    /* A batch at a time, then back to the loop: Xwayland's Wayland
     * requests must be read meanwhile, or a client mapping 1 000 windows
     * fills Xwayland's socket and it gives up ("can't send file
     * descriptor"). */
    for (;;) {
        while (n < BH_XWM_EVENT_BATCH &&
               (ev = queued_only ? xcb_poll_for_queued_event(wm->conn) : xcb_poll_for_event(wm->conn))) {
            handle(wm, ev);
            free(ev);
            n++;
        }
        collect(wm); /* may read the socket, and queue events */
        if (!queued_only || n >= BH_XWM_EVENT_BATCH || !(ev = xcb_poll_for_queued_event(wm->conn)))
            break;
        handle(wm, ev);
        free(ev);
        n++;
    }
    if (n >= BH_XWM_EVENT_BATCH)
        continue_later(wm);
    if (xcb_connection_has_error(wm->conn)) {
        /* Once: a batch left over (more_fd) comes here again, and removing
         * the source twice crashed the agent when Xwayland ended mid-burst. */
        if (wm->src) {
            BH_WARN(wm->agent, MOD, "the connection to Xwayland broke");
            wl_event_source_remove(wm->src);
            wm->src = NULL;
        }
        if (wm->focus_pending) {
            wm->focus_pending = false;
            bh_seat_release_keys(wm->agent);
        }
        return 0;
    }
    xcb_flush(wm->conn);
    /* From the check, 0 always: the loop would call it again at once while
     * it returns more, and a burst must go back to epoll between batches
     * (a full batch has kicked more_fd for the rest). */
    return queued_only ? 0 : n;
}

struct bh_xwm *bh_xwm_new(struct bh_agent *a, int wm_fd, struct wl_client *xclient)
{
    struct bh_xwm *wm = calloc(1, sizeof(*wm));
    if (!wm) {
        close(wm_fd);
        return NULL;
    }
    wm->agent = a;
    wm->xclient = xclient;
    wm->more_fd = -1;
    wl_list_init(&wm->xwins);
    wl_list_init(&wm->reading);
    wl_list_init(&wm->resource_created.link);
    wm->conn = xcb_connect_to_fd(wm_fd, NULL);
    if (xcb_connection_has_error(wm->conn)) {
        BH_WARN(a, MOD, "cannot speak X to Xwayland (xcb error %d)", xcb_connection_has_error(wm->conn));
        goto fail;
    }
    wm->screen = xcb_setup_roots_iterator(xcb_get_setup(wm->conn)).data;
    xcb_intern_atom_cookie_t ck[A_N];
    for (int i = 0; i < A_N; i++)
        ck[i] = xcb_intern_atom(wm->conn, 0, (uint16_t)strlen(atom_names[i]), atom_names[i]);
    for (int i = 0; i < A_N; i++) {
        xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(wm->conn, ck[i], NULL);
        wm->atoms[i] = r ? r->atom : XCB_ATOM_NONE;
        free(r);
    }
    uint32_t mask = XCB_EVENT_MASK_SUBSTRUCTURE_REDIRECT | XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY |
                    XCB_EVENT_MASK_PROPERTY_CHANGE;
    xcb_generic_error_t *err = xcb_request_check(
        wm->conn, xcb_change_window_attributes_checked(wm->conn, wm->screen->root, XCB_CW_EVENT_MASK, &mask));
    if (err) {
        BH_WARN(a, MOD, "another window manager runs on Xwayland");
        free(err);
        goto fail;
    }
    /* Rootless Xwayland gives a wl_surface (and sends WL_SURFACE_ID) only
     * to windows redirected by the manager: every child of the root is. */
    xcb_composite_redirect_subwindows(wm->conn, wm->screen->root, XCB_COMPOSITE_REDIRECT_MANUAL);
    /* EWMH: a window manager is here, and which states it understands. */
    wm->check_window = xcb_generate_id(wm->conn);
    xcb_create_window(wm->conn, XCB_COPY_FROM_PARENT, wm->check_window, wm->screen->root, 0, 0, 1, 1, 0,
                      XCB_WINDOW_CLASS_INPUT_OUTPUT, XCB_COPY_FROM_PARENT, 0, NULL);
    xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, wm->check_window,
                        wm->atoms[A_NET_SUPPORTING_WM_CHECK], XCB_ATOM_WINDOW, 32, 1, &wm->check_window);
    xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, wm->screen->root,
                        wm->atoms[A_NET_SUPPORTING_WM_CHECK], XCB_ATOM_WINDOW, 32, 1, &wm->check_window);
    xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, wm->check_window, wm->atoms[A_NET_WM_NAME],
                        wm->atoms[A_UTF8_STRING], 8, 8, "bulkhead");
    xcb_atom_t supported[] = {wm->atoms[A_NET_WM_STATE], wm->atoms[A_NET_WM_STATE_FULLSCREEN],
                              wm->atoms[A_NET_ACTIVE_WINDOW], wm->atoms[A_NET_WM_NAME]};
    xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, wm->screen->root, wm->atoms[A_NET_SUPPORTED],
                        XCB_ATOM_ATOM, 32, sizeof(supported) / sizeof(supported[0]), supported);
    /* ICCCM: the manager of screen 0 owns WM_S0. Xwayland serves its
     * -listenfd sockets only once this is done: X clients that connected
     * meanwhile wait in the socket's backlog. */
    xcb_set_selection_owner(wm->conn, wm->check_window, wm->atoms[A_WM_S0], XCB_CURRENT_TIME);
    wm->sel = bh_xsel_new(wm);
    xcb_flush(wm->conn);
    wm->resource_created.notify = resource_created;
    wl_client_add_resource_created_listener(xclient, &wm->resource_created);
    wm->src = wl_event_loop_add_fd(a->loop, xcb_get_file_descriptor(wm->conn), WL_EVENT_READABLE,
                                   on_x_readable, wm);
    if (wm->src)
        wl_event_source_check(wm->src);
    wm->more_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wm->more_fd >= 0)
        wm->more = wl_event_loop_add_fd(a->loop, wm->more_fd, WL_EVENT_READABLE, x_continue, wm);
    if (!wm->src || !wm->more)
        goto fail;
    BH_INFO(a, MOD, "managing Xwayland's windows");
    return wm;
fail:
    bh_xwm_free(wm);
    return NULL;
}

void bh_xwm_free(struct bh_xwm *wm)
{
    if (!wm)
        return;
    bh_xsel_free(wm->sel);
    struct bh_xwin *w, *tmp;
    wl_list_for_each_reverse_safe(w, tmp, &wm->xwins, link) forget(w);
    if (wm->focus_pending) {
        /* No X window is left for what was held: Wayland windows get theirs. */
        wm->focus_pending = false;
        bh_seat_release_keys(wm->agent);
    }
    wl_list_remove(&wm->resource_created.link);
    if (wm->retry)
        wl_event_source_remove(wm->retry);
    if (wm->more)
        wl_event_source_remove(wm->more);
    if (wm->more_fd >= 0)
        close(wm->more_fd);
    if (wm->src)
        wl_event_source_remove(wm->src);
    if (wm->conn)
        xcb_disconnect(wm->conn);
    free(wm);
}
