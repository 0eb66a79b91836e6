/* bh-wlcs.c — the gui-agent as a server for the Wayland Conformance Suite
 * (Debian's wlcs): a shared object exporting wlcs_server_integration,
 * loaded by `wlcs libbh-wlcs.so` (tests/wlcs/meson.build, run-wlcs.py).
 *
 * Each test gets a fresh agent (the product's objects with xdg-surface.c
 * built with BH_AGENT_WLCS_LENIENT, tests/wlcs/meson.build: wlcs 1.5's
 * early buffers wait for their configure; its vchan over sockets in a
 * private directory) and the test dom0 of tests/gui-agent-dom0
 * connected to it in this process, both driven from wlcs's own event loop
 * (start_on_this_thread: no thread, so nothing here needs a lock). The dom0
 * side plays guid's part: it releases every frame, keeps a global
 * coordinate space where wlcs places windows (position_window_absolute),
 * gives the newest toplevel the focus, and turns wlcs's pointer into ENTER,
 * MOTION, BUTTON and LEAVE of the window under it, relative to that
 * window's content, as guid does with X's pointer.
 *
 * Owns: one agent, one test dom0 and their temporary directory per test.
 * Must never: be linked into a product binary, or reach into the agent
 * other than to name a client's surface's window (what guid learns from the
 * protocol: which window a surface is). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wayland-client-core.h>
#include <wayland-server-core.h>
#include <wlcs/display_server.h>
#include <wlcs/pointer.h>
#include <wlcs/touch.h>

#include "agent.h"
#include "bh-test-dom0.h"
#include "bulkhead/vchan.h"
#include "internal.h"

#define SCREEN_W    1920
#define SCREEN_H    1080
#define MAX_CLIENTS 64

struct placed {
    uint32_t id;
    int32_t x, y;                /* of the window's content, in the global space */
    uint32_t wflags;             /* the FLAGS last acted on */
    uint32_t normal_w, normal_h; /* its size before it was maximised */
};

struct bh_wlcs {
    WlcsDisplayServer base;
    char dir[64];
    struct bh_agent *agent;
    struct bh_tdom0 *dom0;
    struct wl_event_loop *loop; /* wlcs's */
    struct wl_event_source *agent_src, *dom0_src;
    bool running;
    /* Client fds given to wlcs, and their server side. */
    int client_fd[MAX_CLIENTS];
    struct wl_client *client[MAX_CLIENTS];
    unsigned n_clients;
    /* Toplevels in stacking order, bottom first. */
    struct placed placed[BH_MAX_WINDOWS];
    unsigned n_placed;
    uint32_t focused;
    struct wl_list pointers; /* bh_wlcs_pointer.link */
};

struct bh_wlcs_pointer {
    WlcsPointer base;
    struct bh_wlcs *s;
    struct wl_list link; /* s->pointers */
    int32_t x, y;        /* global */
    uint32_t window;     /* the window the pointer is in, 0: none */
    int32_t lx, ly;      /* where in it, as last sent */
    bool moved;          /* wlcs placed it: before, it is nowhere */
    uint32_t grabbed;    /* the window of a press, while buttons are down */
    unsigned buttons;
};

static void pointers_recheck(struct bh_wlcs *s);

static void flush(struct bh_wlcs *s)
{
    wl_display_flush_clients(bh_agent_display(s->agent));
}

/* ---- dom0's view: placement and focus ------------------------------------------ */

static struct placed *placed_find(struct bh_wlcs *s, uint32_t id)
{
    for (unsigned i = 0; i < s->n_placed; i++)
        if (s->placed[i].id == id)
            return &s->placed[i];
    return NULL;
}

static void raise_placed(struct bh_wlcs *s, uint32_t id)
{
    struct placed *p = placed_find(s, id);
    if (!p)
        return;
    struct placed keep = *p;
    size_t i = (size_t)(p - s->placed);
    memmove(&s->placed[i], &s->placed[i + 1], (s->n_placed - i - 1) * sizeof(*p));
    s->placed[s->n_placed - 1] = keep;
}

static void focus(struct bh_wlcs *s, uint32_t id)
{
    if (s->focused == id)
        return;
    if (s->focused && bh_tdom0_find(s->dom0, s->focused))
        bh_tdom0_focus(s->dom0, s->focused, false);
    s->focused = id;
    if (id)
        bh_tdom0_focus(s->dom0, id, true);
}

/* A toplevel asked to be maximised or fullscreen, or no longer: guid's
 * GTK window does it and says so with CONFIGURE_REQ, the screen's size
 * and the state (dom0 here allows fullscreen), or the size it had. */
static void follow_flags(struct bh_wlcs *s, struct placed *p, const struct bh_tdom0_win *w)
{
    const uint32_t asked = BH_GUI_FLAG_MAXIMIZED | BH_GUI_FLAG_FULLSCREEN;
    if ((w->wflags & asked) == (p->wflags & asked))
        return;
    if (!(p->wflags & asked)) {
        p->normal_w = w->width;
        p->normal_h = w->height;
    }
    p->wflags = w->wflags;
    struct bh_gui_configure_req req = {p->normal_w, p->normal_h, 0};
    if (w->wflags & asked) {
        req.width = SCREEN_W;
        req.height = SCREEN_H;
        req.states = w->wflags & BH_GUI_FLAG_FULLSCREEN ? BH_GUI_STATE_FULLSCREEN : BH_GUI_STATE_MAXIMIZED;
    }
    if (s->focused == p->id)
        req.states |= BH_GUI_STATE_ACTIVATED;
    bh_tdom0_send(s->dom0, BH_GUI_CONFIGURE_REQ, p->id, &req, sizeof req);
}

/* After what the agent said: new toplevels are placed at the origin, on
 * top, and focused (as a window manager does); gone ones are forgotten. */
static void sync_windows(struct bh_wlcs *s)
{
    for (unsigned i = 0; i < s->n_placed;) {
        struct bh_tdom0_win *w = bh_tdom0_find(s->dom0, s->placed[i].id);
        if (w && w->mapped) {
            follow_flags(s, &s->placed[i], w);
            i++;
            continue;
        }
        if (s->focused == s->placed[i].id)
            s->focused = 0;
        memmove(&s->placed[i], &s->placed[i + 1], (s->n_placed - i - 1) * sizeof(s->placed[0]));
        s->n_placed--;
    }
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++) {
        struct bh_tdom0_win *w = &s->dom0->wins[i];
        if (!w->id || !w->mapped || w->parent || placed_find(s, w->id) || s->n_placed >= BH_MAX_WINDOWS)
            continue;
        s->placed[s->n_placed++] = (struct placed){.id = w->id, .normal_w = w->width, .normal_h = w->height};
        focus(s, w->id);
        follow_flags(s, &s->placed[s->n_placed - 1], w);
    }
}

/* The global position of a window's content: a toplevel's placement, a
 * popup's parent's plus its offset. false for a window dom0 does not show. */
static bool origin_of(struct bh_wlcs *s, uint32_t id, int32_t *x, int32_t *y)
{
    for (int depth = 0; depth < 64; depth++) {
        struct bh_tdom0_win *w = bh_tdom0_find(s->dom0, id);
        if (!w || !w->mapped)
            return false;
        if (!w->parent) {
            struct placed *p = placed_find(s, id);
            if (!p)
                return false;
            *x += p->x;
            *y += p->y;
            return true;
        }
        *x += w->x;
        *y += w->y;
        id = w->parent;
    }
    return false;
}

static bool contains(struct bh_wlcs *s, uint32_t id, int32_t gx, int32_t gy, int32_t *lx, int32_t *ly)
{
    struct bh_tdom0_win *w = bh_tdom0_find(s->dom0, id);
    int32_t ox = 0, oy = 0;
    if (!w || !origin_of(s, id, &ox, &oy))
        return false;
    *lx = gx - ox;
    *ly = gy - oy;
    return *lx >= 0 && *ly >= 0 && *lx < (int32_t)w->width && *ly < (int32_t)w->height;
}

/* The topmost window at a global point: popups (newest first) over the
 * toplevels in stacking order. 0 for none. */
static uint32_t window_at(struct bh_wlcs *s, int32_t gx, int32_t gy, int32_t *lx, int32_t *ly)
{
    for (size_t i = BH_MAX_WINDOWS; i-- > 0;) {
        struct bh_tdom0_win *w = &s->dom0->wins[i];
        if (w->id && w->mapped && w->parent && (w->flags & BH_GUI_CREATE_POPUP) &&
            contains(s, w->id, gx, gy, lx, ly))
            return w->id;
    }
    for (unsigned i = s->n_placed; i-- > 0;)
        if (contains(s, s->placed[i].id, gx, gy, lx, ly))
            return s->placed[i].id;
    return 0;
}

/* ---- the event loop -------------------------------------------------------------- */

static int on_agent(int fd, uint32_t mask, void *data)
{
    struct bh_wlcs *s = data;
    bh_agent_dispatch(s->agent, 0);
    return 0;
}

static int on_dom0(int fd, uint32_t mask, void *data)
{
    struct bh_wlcs *s = data;
    if (!bh_tdom0_pump(s->dom0, 0)) {
        fprintf(stderr, "bh-wlcs: the test dom0 lost the agent: %s\n", s->dom0->error);
        wl_event_source_fd_update(s->dom0_src, 0);
        return 0;
    }
    sync_windows(s);
    pointers_recheck(s);
    flush(s);
    return 0;
}

/* ---- the pointer ----------------------------------------------------------------- */

/* Tell the agent where the pointer is now: ENTER/LEAVE when the window
 * under it changed, MOTION when its place in that window did, nothing
 * otherwise (as X tells guid, also when a window moves or resizes under a
 * still pointer). */
static void pointer_update(struct bh_wlcs_pointer *p)
{
    struct bh_wlcs *s = p->s;
    int32_t lx = 0, ly = 0;
    uint32_t id;
    if (p->grabbed) {
        /* guid's GTK keeps a pressed window's pointer until the release. */
        id = p->grabbed;
        int32_t ox = 0, oy = 0;
        if (!origin_of(s, id, &ox, &oy)) {
            p->grabbed = 0;
            return;
        }
        lx = p->x - ox;
        ly = p->y - oy;
    } else {
        id = window_at(s, p->x, p->y, &lx, &ly);
    }
    if (id != p->window) {
        if (p->window && bh_tdom0_find(s->dom0, p->window))
            bh_tdom0_send(s->dom0, BH_GUI_LEAVE, p->window, NULL, 0);
        p->window = id;
        if (id) {
            struct bh_gui_enter e = {lx, ly};
            bh_tdom0_send(s->dom0, BH_GUI_ENTER, id, &e, sizeof e);
        }
    } else if (id && (lx != p->lx || ly != p->ly)) {
        struct bh_gui_motion m = {lx, ly};
        bh_tdom0_send(s->dom0, BH_GUI_MOTION, id, &m, sizeof m);
    }
    p->lx = lx;
    p->ly = ly;
}

/* Windows moved, resized, came or went: every pointer looks again. */
static void pointers_recheck(struct bh_wlcs *s)
{
    struct bh_wlcs_pointer *p;
    wl_list_for_each(p, &s->pointers, link) if (p->moved) pointer_update(p);
}

static void pointer_move_absolute(WlcsPointer *base, wl_fixed_t x, wl_fixed_t y)
{
    struct bh_wlcs_pointer *p = (struct bh_wlcs_pointer *)base;
    p->x = wl_fixed_to_int(x);
    p->y = wl_fixed_to_int(y);
    p->moved = true;
    pointer_update(p);
    flush(p->s);
}

static void pointer_move_relative(WlcsPointer *base, wl_fixed_t dx, wl_fixed_t dy)
{
    struct bh_wlcs_pointer *p = (struct bh_wlcs_pointer *)base;
    pointer_move_absolute(base, wl_fixed_from_int(p->x) + dx, wl_fixed_from_int(p->y) + dy);
}

static void pointer_button(struct bh_wlcs_pointer *p, int button, bool pressed)
{
    struct bh_wlcs *s = p->s;
    if (button < (int)BH_GUI_BUTTON_MIN || button > (int)BH_GUI_BUTTON_MAX)
        return;
    pointer_update(p);
    if (!p->window)
        return;
    int32_t ox = 0, oy = 0;
    origin_of(s, p->window, &ox, &oy);
    struct bh_gui_button b = {(uint32_t)button, pressed, p->x - ox, p->y - oy};
    if (pressed) {
        /* A click focuses and raises its toplevel, as a window manager does. */
        uint32_t top = p->window;
        for (struct bh_tdom0_win *w = bh_tdom0_find(s->dom0, top); w && w->parent;
             w = bh_tdom0_find(s->dom0, w->parent))
            top = w->parent;
        const struct bh_tdom0_win *pw = bh_tdom0_find(s->dom0, p->window);
        if (placed_find(s, top) && pw && !(pw->flags & BH_GUI_CREATE_POPUP)) {
            raise_placed(s, top);
            focus(s, top);
        }
        p->buttons |= 1u << (button - BH_GUI_BUTTON_MIN);
        p->grabbed = p->window;
    } else {
        p->buttons &= ~(1u << (button - BH_GUI_BUTTON_MIN));
    }
    bh_tdom0_send(s->dom0, BH_GUI_BUTTON, p->window, &b, sizeof b);
    if (!p->buttons) {
        p->grabbed = 0;
        pointer_update(p); /* the window under it now gets it */
    }
    flush(s);
}

static void pointer_button_down(WlcsPointer *base, int button)
{
    pointer_button((struct bh_wlcs_pointer *)base, button, true);
}

static void pointer_button_up(WlcsPointer *base, int button)
{
    pointer_button((struct bh_wlcs_pointer *)base, button, false);
}

static void pointer_destroy(WlcsPointer *base)
{
    struct bh_wlcs_pointer *p = (struct bh_wlcs_pointer *)base;
    wl_list_remove(&p->link);
    free(p);
}

static WlcsPointer *create_pointer(WlcsDisplayServer *base)
{
    struct bh_wlcs_pointer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->base = (WlcsPointer){
        .version = WLCS_POINTER_VERSION,
        .move_absolute = pointer_move_absolute,
        .move_relative = pointer_move_relative,
        .button_up = pointer_button_up,
        .button_down = pointer_button_down,
        .destroy = pointer_destroy,
    };
    p->s = (struct bh_wlcs *)base;
    wl_list_insert(&p->s->pointers, &p->link);
    return &p->base;
}

/* ---- touch: not applicable -------------------------------------------------------- */

/* The GUI protocol has no touch, so nothing a test touches can reach a
 * client. wlcs 1.5 calls create_touch without checking it (a NULL one
 * crashes it), and its parameterised input-region tests run every case
 * with a pointer and with touch under names that do not say which. So a
 * touch device is given that does nothing, and its creation prints
 * BH_WLCS_TOUCH: run-wlcs.py counts a test that printed it as not
 * applicable, whether it passed or failed (a "not seen" check would pass
 * without meaning anything). */
#define BH_WLCS_TOUCH "bh-wlcs: touch is not applicable (the GUI protocol has no touch)"

static void touch_at(WlcsTouch *t, wl_fixed_t x, wl_fixed_t y)
{
}

static void touch_up(WlcsTouch *t)
{
}

static void touch_destroy(WlcsTouch *t)
{
    free(t);
}

static WlcsTouch *create_touch(WlcsDisplayServer *base)
{
    WlcsTouch *t = calloc(1, sizeof(*t));
    if (!t)
        abort(); /* wlcs would call through it */
    *t = (WlcsTouch){
        .version = WLCS_TOUCH_VERSION,
        .touch_down = touch_at,
        .touch_move = touch_at,
        .touch_up = touch_up,
        .destroy = touch_destroy,
    };
    fprintf(stderr, "%s\n", BH_WLCS_TOUCH);
    return t;
}

/* ---- the server ------------------------------------------------------------------ */

static int create_client_socket(WlcsDisplayServer *base)
{
    struct bh_wlcs *s = (struct bh_wlcs *)base;
    int sv[2];
    if (s->n_clients >= MAX_CLIENTS || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    struct wl_client *c = wl_client_create(bh_agent_display(s->agent), sv[0]);
    if (!c) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    s->client_fd[s->n_clients] = sv[1];
    s->client[s->n_clients++] = c;
    return sv[1];
}

static void position_window_absolute(WlcsDisplayServer *base, struct wl_display *client_display,
                                     struct wl_surface *surface, int x, int y)
{
    struct bh_wlcs *s = (struct bh_wlcs *)base;
    int fd = wl_display_get_fd(client_display);
    struct wl_client *c = NULL;
    for (unsigned i = 0; i < s->n_clients; i++)
        if (s->client_fd[i] == fd)
            c = s->client[i];
    struct wl_resource *r = c ? wl_client_get_object(c, wl_proxy_get_id((struct wl_proxy *)surface)) : NULL;
    if (!r) {
        fprintf(stderr, "bh-wlcs: position_window_absolute: no such surface\n");
        return;
    }
    /* Which window shows this surface: dom0 learns it from CREATE; here
     * the agent's own list names it. */
    struct bh_window *w;
    wl_list_for_each(w, &s->agent->windows, link)
    {
        if (w->root && w->root->resource == r && w->id) {
            struct placed *p = placed_find(s, w->id);
            if (!p && s->n_placed < BH_MAX_WINDOWS && !w->parent) {
                p = &s->placed[s->n_placed++];
                *p = (struct placed){.id = w->id, .normal_w = w->width, .normal_h = w->height};
            }
            if (p) {
                /* wlcs moves "the left of the window" here: the window
                 * geometry, which is what dom0 shows and places (its
                 * builder of offset surfaces moves the surface to its
                 * position plus the geometry's offset). */
                p->x = x;
                p->y = y;
            }
            pointers_recheck(s);
            flush(s);
            return;
        }
    }
    fprintf(stderr, "bh-wlcs: position_window_absolute: the surface is not a window\n");
}

static WlcsIntegrationDescriptor const *get_descriptor(WlcsDisplayServer const *base)
{
    static const WlcsExtensionDescriptor extensions[] = {
        {"wl_compositor", 4},
        {"wl_subcompositor", 1},
        {"wl_shm", 1},
        {"wl_data_device_manager", 3},
        {"wl_seat", 7},
        {"wl_output", 4},
        {"xdg_wm_base", 5},
        {"zxdg_decoration_manager_v1", 1},
        {"zxdg_output_manager_v1", 3},
    };
    static const WlcsIntegrationDescriptor descriptor = {
        .version = WLCS_INTEGRATION_DESCRIPTOR_VERSION,
        .num_extensions = sizeof(extensions) / sizeof(extensions[0]),
        .supported_extensions = extensions,
    };
    return &descriptor;
}

static void start_on_this_thread(WlcsDisplayServer *base, struct wl_event_loop *loop)
{
    struct bh_wlcs *s = (struct bh_wlcs *)base;
    char err[256];
    s->loop = loop;
    s->agent_src = wl_event_loop_add_fd(
        loop, wl_event_loop_get_fd(wl_display_get_event_loop(bh_agent_display(s->agent))), WL_EVENT_READABLE,
        on_agent, s);
    /* guid's order: HELLO, SCREEN, KEYMAP at once; the agent answers when
     * its loop runs (the same thread). */
    s->dom0 = bh_tdom0_connect_first(0, SCREEN_W, SCREEN_H, 5000, err, sizeof(err));
    if (!s->dom0) {
        fprintf(stderr, "bh-wlcs: the test dom0 cannot connect: %s\n", err);
        abort();
    }
    s->dom0->auto_release = true;
    s->dom0_src =
        wl_event_loop_add_fd(loop, bh_vchan_fd_for_select(s->dom0->v), WL_EVENT_READABLE, on_dom0, s);
    for (int i = 0; i < 500 && !s->dom0->agent_version; i++) {
        bh_agent_dispatch(s->agent, 10);
        bh_tdom0_pump(s->dom0, 0);
    }
    if (!s->dom0->agent_version) {
        fprintf(stderr, "bh-wlcs: the agent did not say HELLO\n");
        abort();
    }
    s->running = true;
    while (s->running)
        wl_event_loop_dispatch(loop, -1);
    /* The loop is wlcs's and may be gone by destroy_server. */
    wl_event_source_remove(s->agent_src);
    wl_event_source_remove(s->dom0_src);
    s->agent_src = s->dom0_src = NULL;
}

static void stop(WlcsDisplayServer *base)
{
    struct bh_wlcs *s = (struct bh_wlcs *)base;
    s->running = false;
}

static WlcsDisplayServer *create_server(int argc, char const **argv)
{
    struct bh_wlcs *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    snprintf(s->dir, sizeof(s->dir), "/tmp/bh-wlcs.XXXXXX");
    if (!mkdtemp(s->dir)) {
        free(s);
        return NULL;
    }
    char vdir[128];
    snprintf(vdir, sizeof(vdir), "%s/vchan", s->dir);
    setenv("XDG_RUNTIME_DIR", s->dir, 1);
    setenv("BH_VCHAN_DIR", vdir, 1);
    setenv("BH_VCHAN_DOMID", "0", 1);
    setenv("BH_VCHAN_TRANSPORT", "socket", 1);
    struct bh_agent_options o = {.socket_name = "wayland-wlcs", .gui_domain = 0};
    s->agent = bh_agent_new(&o);
    if (!s->agent) {
        rmdir(s->dir);
        free(s);
        return NULL;
    }
    wl_list_init(&s->pointers);
    s->base = (WlcsDisplayServer){
        .version = 3,
        .stop = stop,
        .create_client_socket = create_client_socket,
        .position_window_absolute = position_window_absolute,
        .create_pointer = create_pointer,
        .create_touch = create_touch,
        .get_descriptor = get_descriptor,
        .start_on_this_thread = start_on_this_thread,
    };
    return &s->base;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(path);
}

static void destroy_server(WlcsDisplayServer *base)
{
    struct bh_wlcs *s = (struct bh_wlcs *)base;
    /* A pointer wlcs destroys later must not reach this freed list. */
    struct bh_wlcs_pointer *p, *tmp;
    wl_list_for_each_safe(p, tmp, &s->pointers, link)
    {
        wl_list_remove(&p->link);
        wl_list_init(&p->link);
    }
    bh_tdom0_free(s->dom0);
    bh_agent_free(s->agent);
    if (nftw(s->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bh-wlcs: could not remove %s: %s\n", s->dir, strerror(errno));
    free(s);
}

WlcsServerIntegration const wlcs_server_integration = {
    .version = WLCS_SERVER_INTEGRATION_VERSION,
    .create_server = create_server,
    .destroy_server = destroy_server,
};
