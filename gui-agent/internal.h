/* internal.h — the agent's object model, shared by the files of libbh_gui_agent.
 *
 * One struct bh_agent owns everything: the wl_display and its globals, the
 * surfaces clients create, the protocol windows forwarded to dom0, the seat,
 * the output, the selection and the dom0 link. Wayland objects are tied to
 * their resources' destroy callbacks, so a client that disconnects (or is
 * killed mid-frame) tears down exactly what it owned.
 *
 * Must never: be included outside gui-agent/ and its tests, hold process-wide
 * mutable state, or let a client reach dom0 except through a protocol window
 * (window.c) and the link (link.c). */
#ifndef BH_AGENT_INTERNAL_H
#define BH_AGENT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <wayland-server-core.h>
#include <xkbcommon/xkbcommon.h>

#include "bulkhead/gui-protocol.h"
#include "bulkhead/proto.h"
#include "bulkhead/winbuf.h"

#include "agent.h"
#include "region.h"

struct bh_agent;
struct bh_surface;
struct bh_window;
struct bh_xdg_surface;
struct bh_link;

/* ---- helpers every file uses (util.c) ----------------------------------- */

enum bh_log_level { BH_LOG_ERROR, BH_LOG_WARN, BH_LOG_INFO, BH_LOG_DEBUG };

void bh_agent_log(const struct bh_agent *a, enum bh_log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define BH_ERR(a, mod, ...)  bh_agent_log((a), BH_LOG_ERROR, (mod), __VA_ARGS__)
#define BH_WARN(a, mod, ...) bh_agent_log((a), BH_LOG_WARN, (mod), __VA_ARGS__)
#define BH_INFO(a, mod, ...) bh_agent_log((a), BH_LOG_INFO, (mod), __VA_ARGS__)
#define BH_DBG(a, mod, ...)  bh_agent_log((a), BH_LOG_DEBUG, (mod), __VA_ARGS__)

/* wl_resource_create + set_implementation; on failure posts no_memory to the
 * client and returns NULL. */
struct wl_resource *bh_resource_new(struct wl_client *client, const struct wl_interface *iface, int version,
                                    uint32_t id, const void *impl, void *data,
                                    wl_resource_destroy_func_t destroy);
/* Destructor of resources kept in a wl_list through their resource link. */
void bh_resource_unlink(struct wl_resource *resource);
/* The "destroy"/"release" request of any interface. */
void bh_request_destroy(struct wl_client *client, struct wl_resource *resource);

/* wl_signal_emit that tolerates listeners removing other listeners. */
void bh_signal_emit_safe(struct wl_signal *signal, void *data);

/* A client's text (in_len bytes, not NUL-terminated) into out (cap_bytes + 1
 * bytes): cut on a character boundary, sanitised as dom0's decoder wants. */
void bh_store_text(const char *in, size_t in_len, char *out, size_t cap_bytes);

/* Milliseconds on CLOCK_MONOTONIC, the clock of every Wayland timestamp we send. */
uint32_t bh_now_ms(void);

/* ---- frame callbacks and held releases (frames.c) ------------------------ */

/* A wl_buffer.release held back until the next frame callbacks go out. */
struct bh_held_release {
    struct wl_resource *buffer; /* NULL: nothing held */
    struct wl_listener destroy;
    struct wl_list link; /* agent->held_releases while held */
};

void bh_frames_init(struct bh_agent *a);
/* Hand committed frame callbacks of the whole tree to `list`. */
void bh_frames_take_tree(struct bh_surface *root, struct wl_list *list);
/* Fire frame callbacks; every held wl_buffer.release goes out first, so a
 * client woken for a frame finds its free buffers released. */
void bh_frames_done(struct bh_agent *a, struct wl_list *frames, uint32_t time);
/* Callbacks of surfaces not shown in any window (cursor, unmapped): fired by
 * a low-rate timer so nothing spins, nothing waits forever. */
void bh_agent_defer_frames(struct bh_agent *a, struct wl_list *frames);
void bh_held_init(struct bh_held_release *h);
/* Hold `buffer`'s release (sending the one held before, if any). */
void bh_held_set(struct bh_agent *a, struct bh_held_release *h, struct wl_resource *buffer);
/* Send the held release now / forget it without sending (the buffer is in
 * use again or destroyed). */
void bh_held_send(struct bh_held_release *h);
void bh_held_forget(struct bh_held_release *h);
/* Send every held wl_buffer.release now (dom0 went away: no frame
 * callbacks will come to carry them). */
void bh_agent_send_held_releases(struct bh_agent *a);

/* ---- surfaces (surface.c) ------------------------------------------------ */

/* A surface's role, as wlroots' wlr_surface_role: a table set by the code
 * that gives the role (xdg, subsurface, cursor, drag icon), so surface.c
 * learns what a surface is for without calling any role by name. A surface
 * keeps its role for life; the role object (role_data) may go before it. */
struct bh_surface_role {
    const char *name;
    /* The surface committed and its state is applied; called only while the
     * role object exists. NULL: as any surface of a tree, its root's
     * recompose below runs, and when nothing shows the tree its frame
     * callbacks go to the slow timer. */
    void (*commit)(struct bh_surface *s);
    /* wl_surface.attach of a buffer (not NULL), at once: a role may refuse
     * it before any commit. NULL: nothing to check. */
    void (*attach)(struct bh_surface *s);
    /* Hooks of a tree's root (NULL or false: nothing shows the tree).
     * presented: frame callbacks will be answered when dom0 has presented. */
    bool (*presented)(struct bh_surface *root);
    /* The tree changed shape: everything is to be recomposed. */
    void (*damage_all)(struct bh_surface *root);
    /* A surface of the tree committed: recompose and send; false when no
     * window shows the tree. */
    bool (*recompose)(struct bh_surface *root);
};

/* Double-buffered wl_surface state: `pending` collects requests, commit moves
 * it to the current state (or to `cached` for a synchronized subsurface). */
struct bh_surface_state {
    bool attached;              /* attach was called: buffer (maybe NULL) replaces the current one */
    struct wl_resource *buffer; /* cleared by buffer_destroy if the client destroys it */
    struct wl_listener buffer_destroy;
    struct bh_rects damage;        /* surface coordinates */
    struct bh_rects buffer_damage; /* buffer coordinates */
    bool input_set;
    struct bh_region input;
    bool scale_set;
    int32_t scale;
    bool transform_set;
    int32_t transform;
    struct wl_list frames; /* wl_callback resources (resource link) */
};

/* A node of a surface's stacking list: either the surface itself or one of
 * its subsurfaces. Order changes are double-buffered on the parent. */
struct bh_stack_node {
    struct bh_surface *surface;
    struct wl_list cur;     /* in parent's stack */
    struct wl_list pending; /* in parent's pending_stack */
};

struct bh_subsurface {
    struct wl_resource *resource;
    struct bh_surface *surface;
    struct bh_surface *parent; /* NULL once the parent is gone (inert) */
    struct bh_stack_node node;
    int32_t x, y;
    int32_t pending_x, pending_y;
    bool sync;
    bool has_cache; /* surface->cached holds a commit made while synchronized */
};

struct bh_surface {
    struct bh_agent *agent;
    struct wl_resource *resource;
    struct wl_list link;                /* agent->surfaces */
    const struct bh_surface_role *role; /* NULL: none yet */
    void *role_data;                    /* bh_xdg_surface / bh_subsurface */

    struct bh_surface_state pending, cached;

    /* Current state. The attached buffer is kept (not released) until it is
     * replaced, so any part of the window can be recomposed at any time. */
    struct wl_resource *buffer;
    struct wl_listener buffer_destroy;
    int32_t buf_width, buf_height; /* of the current buffer, kept if it is destroyed */
    int32_t width, height;         /* surface size: buffer / scale; 0 = unmapped */
    int32_t scale, transform;
    struct bh_region input;
    struct bh_rects damage; /* committed, not yet composed; surface coordinates */
    struct wl_list frames;  /* committed callbacks waiting for the window's pacing */

    struct bh_stack_node self;
    struct wl_list stack;         /* bh_stack_node.cur, bottom to top */
    struct wl_list pending_stack; /* bh_stack_node.pending */

    /* The buffer this surface last replaced, when its wl_buffer.release is
     * held back to go out with the next frame callbacks (one wakeup of the
     * client per frame instead of two; docs/gui-agent.md, "Per-frame cost"). */
    struct bh_held_release held;

    struct wl_signal destroy_signal;
    bool entered_output; /* wl_surface.enter sent */
};

void bh_compositor_init(struct bh_agent *a);
struct bh_surface *bh_surface_from_resource(struct wl_resource *r);
/* Give a role; posts `error_code` on `error_res` and returns false if the
 * surface already has another role. */
bool bh_surface_set_role(struct bh_surface *s, const struct bh_surface_role *role, void *data,
                         struct wl_resource *error_res, uint32_t error_code);
/* The surface at the top of the subsurface tree. */
struct bh_surface *bh_surface_root(struct bh_surface *s);
/* Offset of s relative to its root surface (sum of subsurface positions). */
void bh_surface_root_offset(struct bh_surface *s, int32_t *x, int32_t *y);
/* Topmost mapped surface of the tree under root-relative (x, y) that accepts
 * input there; surface-local coordinates returned in *sx, *sy. */
struct bh_surface *bh_surface_at(struct bh_surface *root, int32_t x, int32_t y, int32_t *sx, int32_t *sy);
/* ---- what a window shows (filled by its role, read by window.c) --------- */

/* The state a role (xdg toplevel or popup) shows through its protocol
 * window: kept current by the role, read by window.c when it sends, so
 * windows never look into the role's own state or call its code. Text is
 * stored bounded and sanitised (xdg-toplevel.c); toplevel fields stay
 * empty for a popup. */
struct bh_window_content {
    bool has_geometry;
    struct bh_box geometry;   /* xdg window geometry, root-surface coordinates */
    int32_t popup_x, popup_y; /* popup offset from the parent's window geometry */
    char title[BH_MAX_TITLE_BYTES + 1];
    char app_id[BH_MAX_APP_ID_BYTES + 1];
    int32_t min_w, min_h, max_w, max_h; /* size hints in effect (committed) */
    uint32_t flags;                     /* BH_GUI_FLAG_* the client asked for */
};

/* ---- xdg-shell (xdg-*.c; their shared declarations are in xdg.h) ---------- */

struct bh_positioner {
    int32_t width, height;
    struct bh_box anchor_rect;
    uint32_t anchor, gravity, constraint;
    int32_t off_x, off_y;
    bool has_size, has_anchor_rect;
    bool reactive;
};

enum bh_xdg_kind { BH_XDG_NONE = 0, BH_XDG_TOPLEVEL, BH_XDG_POPUP };

#define BH_XDG_SERIALS 16

struct bh_xdg_surface {
    struct bh_agent *agent;
    struct wl_resource *resource;
    struct wl_resource *wm_base;
    struct bh_surface *surface;
    struct wl_listener surface_destroy;
    enum bh_xdg_kind kind;
    struct wl_resource *role_resource; /* xdg_toplevel / xdg_popup */

    bool initial_commit;                   /* the first commit (no buffer) was seen: configure sent */
    bool configured;                       /* a configure was acked since (re)initialisation */
    bool configure_sent;                   /* a configure was sent since (re)initialisation */
    uint32_t sent_serials[BH_XDG_SERIALS]; /* recent configure serials, for ack checks */
    uint32_t n_sent;
    uint32_t acked_serial;
    struct wl_event_source *configure_idle;
    bool pending_has_geometry;
    struct bh_box pending_geometry; /* root-surface coordinates */
    struct bh_window_content content;

    struct bh_window *window;      /* while mapped and forwarded */
    bool mapped;                   /* mapped as far as the client knows, window or not */
    struct wl_signal role_destroy; /* popups and transients follow their parent */
    struct wl_list grab_link;      /* agent->grabs while a grabbing popup is mapped */

    struct {
        struct bh_xdg_surface *parent; /* transient-for (set_parent) */
        struct wl_listener parent_destroy;
        int32_t pending_min_w, pending_min_h, pending_max_w, pending_max_h;
        int32_t req_w, req_h; /* size to configure (0 = client decides) */
        uint32_t req_states;  /* BH_GUI_STATE_* from dom0 */
        struct wl_resource *decoration;
    } toplevel;
    struct {
        struct bh_xdg_surface *parent;
        struct wl_listener parent_destroy;
        struct bh_positioner positioner;
        bool grab;
        bool dismissed;
    } popup;
};

/* The xdg_wm_base global (xdg-wm-base.c) and the decoration manager
 * (xdg-decoration.c). */
void bh_xdg_init(struct bh_agent *a);
void bh_xdg_decoration_init(struct bh_agent *a);
/* dom0 asked: resize (CONFIGURE_REQ), close (CLOSE), focus changed. */
void bh_xdg_request_configure(struct bh_xdg_surface *x, int32_t w, int32_t h, uint32_t states);
void bh_xdg_request_close(struct bh_xdg_surface *x);
void bh_xdg_set_activated(struct bh_xdg_surface *x, bool on);
/* Dismiss (popup_done, topmost first) every grabbing popup whose chain does
 * not hold `at`: the grab itself, a popup it hangs from or one hanging from
 * it, and with `toplevel` also the toplevel the chain starts from (a press
 * there dismisses, keyboard focus there does not). NULL (an X window,
 * nothing) dismisses all. Returns how many grabs went. */
unsigned bh_xdg_dismiss_grabs_outside(struct bh_agent *a, struct bh_xdg_surface *at, bool toplevel);
void bh_xdg_popup_dismiss(struct bh_xdg_surface *x);
/* Position a popup (xdg-positioner.c): pure, unit-tested. Result relative to the parent's
 * window geometry. */
void bh_positioner_place(const struct bh_positioner *p, int32_t *x, int32_t *y);

/* ---- protocol windows (window.c) ---------------------------------------- */

/* What dom0's requests do to a window whose role is not xdg (an X window,
 * xwm.c): set by that role at create, so dispatch.c and seat.c reach it
 * without calling it by name. */
struct bh_window_owner {
    void (*configure)(void *data, int32_t w, int32_t h, uint32_t states);
    void (*close)(void *data);
    void (*activate)(void *data, bool on);
};

struct bh_window {
    struct bh_agent *agent;
    struct wl_list link; /* agent->windows, creation order (parents first) */
    uint32_t id;         /* 1..BH_MAX_WINDOW_ID, 0 = not forwarded (limit reached) */
    /* The role that shows itself here: window.c never reads it (it reads
     * `content`); dom0's requests and the seat reach the role through it. */
    struct bh_xdg_surface *xdg;
    /* Or, for any other role: its table and object (xdg is then NULL). */
    const struct bh_window_owner *owner;
    void *owner_data;
    const struct bh_window_content *content;
    struct bh_surface *root;  /* the surface tree shown; outlives the window */
    struct bh_window *parent; /* popup parent or transient-for */
    bool popup;
    int32_t x, y;               /* popup offset */
    int32_t origin_x, origin_y; /* root-surface position of the content (window geometry) */
    uint32_t width, height;
    uint32_t stride;
    struct bh_winbuf buf;
    bool buf_ok;

    struct bh_rects damage;      /* window coordinates: to compose */
    struct bh_rects send_damage; /* composed, not yet announced */

    bool announced;         /* CREATE...MAP sent on the current link */
    bool config_pending;    /* size or popup offset changed since announced */
    bool buffer_pending;    /* a new buffer to announce */
    bool in_flight;         /* a DAMAGE awaits BUFFER_RELEASE */
    uint32_t serial;        /* last DAMAGE serial sent */
    struct wl_list waiting; /* frame callbacks for the next DAMAGE */
    struct wl_list in_flight_frames;

    uint32_t sent_flags;
    struct bh_gui_hints sent_hints;
};

/* Map: allocate an id, a buffer; announce if dom0 is there. NULL on failure
 * (out of memory); a window over the BH_MAX_WINDOWS limit is kept with id 0.
 * `content` and `root` must outlive the window. */
struct bh_window *bh_window_create(struct bh_agent *a, struct bh_xdg_surface *owner,
                                   const struct bh_window_content *content, struct bh_surface *root,
                                   struct bh_window *parent, bool popup);
/* Unmap: DESTROY to dom0 (its popups must be gone already; transient
 * children move to its parent), emit agent->events.window_gone, fire
 * nothing: callbacks of a gone window are handed to the deferred list. */
void bh_window_destroy(struct bh_window *w);
/* After a commit in the window's tree: recompute size, compose damage, send. */
void bh_window_commit(struct bh_window *w);
/* Mark everything damaged (tree changed shape). */
void bh_window_damage_all(struct bh_window *w);
/* A role's root hooks (struct bh_surface_role) given its window, or NULL
 * when none shows the tree. */
bool bh_window_root_presented(const struct bh_window *w);
void bh_window_root_damage_all(struct bh_window *w);
bool bh_window_root_recompose(struct bh_window *w);
void bh_window_send_title(struct bh_window *w);
void bh_window_send_app_id(struct bh_window *w);
void bh_window_send_hints(struct bh_window *w);
void bh_window_send_flags(struct bh_window *w);
void bh_window_send_cursor(struct bh_window *w, uint32_t shape);
void bh_window_release(struct bh_window *w, uint32_t serial);
struct bh_window *bh_window_find(struct bh_agent *a, uint32_t id);
/* Link events. */
void bh_windows_announce_all(struct bh_agent *a);
void bh_windows_link_lost(struct bh_agent *a);
/* Compose `rect` (window coordinates) from the surface tree into dst; pure
 * apart from reading client buffers; unit-tested through real shm. */
void bh_window_compose(struct bh_window *w, const struct bh_box *rect);
/* Root-surface origin of the window content (the window geometry). */
void bh_window_content_origin(const struct bh_window *w, int32_t *gx, int32_t *gy);

/* ---- seat (seat.c) ------------------------------------------------------- */

struct bh_seat {
    struct bh_agent *agent;
    struct wl_global *global;
    struct wl_list resources; /* wl_seat */
    struct wl_list pointers;  /* wl_pointer */
    struct wl_list keyboards; /* wl_keyboard */

    struct xkb_context *xkb;
    struct xkb_keymap *keymap;
    struct xkb_state *state;
    int keymap_fd;
    uint32_t keymap_size;
    bool default_failed; /* the default keymap did not compile (said once) */
    uint32_t mods_depressed, mods_latched, mods_locked, group;
#define BH_MAX_PRESSED_KEYS 32
    uint32_t keys[BH_MAX_PRESSED_KEYS];
    uint32_t n_keys;

    struct bh_surface *kb_focus;
    struct wl_listener kb_focus_destroy;
    struct bh_window *focused_window; /* dom0's FOCUS */

    struct bh_surface *ptr_focus;
    struct wl_listener ptr_focus_destroy;
    struct bh_window *ptr_window; /* window under dom0's pointer */
    int32_t ptr_x, ptr_y;         /* last position sent, surface-local */
    int32_t ptr_wx, ptr_wy;       /* dom0's last position in ptr_window */
    uint32_t buttons_down;        /* bitmask of BTN_LEFT.. */
    /* Grabs and dom0's input (seat.c, "popup grabs"). */
    uint32_t swallowed;                 /* buttons whose press ended a grab: their release is dropped */
    struct wl_event_source *grab_timer; /* dom0's focus left the qube while a grab was up */
    uint32_t focus_click_window;        /* took the focus from a grab: its next press is swallowed */
    uint32_t focus_click_at;            /* bh_now_ms() of that focus change */
    uint32_t last_serial;               /* last input serial sent (grabs, selection) */

    struct wl_listener window_gone;      /* agent->events.window_gone */
    struct wl_listener window_committed; /* agent->events.window_committed */
    struct wl_listener focus_changed;    /* agent->events.focus_changed */

    /* dom0's KEY and FOCUS held, in order, while an X focus change is not
     * yet confirmed by Xwayland (bh_seat_hold_keys). */
    bool holding;
    struct wl_event_source *hold_timer;
    uint32_t n_held;
    uint32_t holds_timed_out; /* logged for the first few only */
#define BH_SEAT_MAX_HELD 128
    struct bh_seat_held {
        bool is_focus;
        bool focused;    /* FOCUS */
        uint32_t window; /* FOCUS: looked up again when replayed */
        struct bh_gui_key key;
    } held[BH_SEAT_MAX_HELD];
};

bool bh_seat_init(struct bh_agent *a);
void bh_seat_fini(struct bh_agent *a);
bool bh_seat_set_keymap(struct bh_agent *a, const struct bh_gui_keymap *km);
void bh_seat_key(struct bh_agent *a, const struct bh_gui_key *k);
void bh_seat_button(struct bh_agent *a, struct bh_window *w, const struct bh_gui_button *b);
void bh_seat_motion(struct bh_agent *a, struct bh_window *w, int32_t x, int32_t y);
void bh_seat_axis(struct bh_agent *a, struct bh_window *w, const struct bh_gui_axis *ax);
void bh_seat_leave(struct bh_agent *a, struct bh_window *w);
void bh_seat_focus(struct bh_agent *a, struct bh_window *w, bool focused);
/* An X focus change went to Xwayland over X while keys go over Wayland:
 * Xwayland reads its two sockets in its own order, and a key read in the
 * same wake-up as the focus request is delivered first, to the old focus.
 * The XWM holds dom0's keys (and FOCUS, to keep the order) from its
 * SetInputFocus until Xwayland answered a request sent after it; release
 * replays what was held. BH_SEAT_HOLD_MS bounds a hold (an X client may
 * grab the server). */
#define BH_SEAT_HOLD_MS 3000
/* Popup grabs and focus (seat.c, "popup grabs"): how long a FOCUS out
 * waits for the FOCUS in that may follow it before the grabs end, and how
 * soon after a FOCUS in that ended a grab a press on that window counts as
 * the click that moved the focus. */
#define BH_SEAT_GRAB_SETTLE_MS 300
#define BH_SEAT_FOCUS_CLICK_MS 500
void bh_seat_hold_keys(struct bh_agent *a);
void bh_seat_release_keys(struct bh_agent *a);
/* Keyboard focus moves to s (NULL: nobody); selection offers follow. */
void bh_seat_set_kb_focus(struct bh_agent *a, struct bh_surface *s);
/* Keyboard focus goes to the focused window's tree, or to the topmost
 * grabbing popup above it. */
void bh_seat_refocus(struct bh_agent *a);
uint32_t bh_seat_next_serial(struct bh_agent *a);

/* ---- output (output.c) ---------------------------------------------------- */

struct bh_output {
    struct wl_global *global;
    struct wl_global *xdg_manager;
    struct wl_list resources;     /* wl_output */
    struct wl_list xdg_resources; /* zxdg_output_v1 */
    struct bh_gui_screen screen;
};

void bh_output_init(struct bh_agent *a);
void bh_output_set_screen(struct bh_agent *a, const struct bh_gui_screen *s);
/* wl_surface.enter for every wl_output the surface's client bound. */
void bh_output_enter_surface(struct bh_agent *a, struct bh_surface *s);

/* ---- wl_shm (shm.c) ------------------------------------------------------ */

/* libwayland's wl_shm global, and the check of a new buffer's stride in
 * bytes at wl_shm_pool.create_buffer (shm-layout.h). false on failure. */
bool bh_shm_init(struct bh_agent *a);
void bh_shm_fini(struct bh_agent *a);

/* ---- data device / clipboard (data.c) ------------------------------------ */

struct bh_data_source; /* a client's wl_data_source, or dom0's clipboard */

struct bh_data {
    struct wl_global *global;
    struct wl_list devices; /* wl_data_device resources */
    struct bh_data_source *selection;
    struct bh_data_source *dom0_source; /* our own source when dom0 owns the selection */
    struct wl_list writers;             /* pipes we feed to clients (dom0 data) */
    struct bh_clip_read *reading;       /* CLIPBOARD_REQ in progress */
};

void bh_data_init(struct bh_agent *a);
void bh_data_fini(struct bh_agent *a);
/* Keyboard focus moved to client (or NULL): offer it the selection. */
void bh_data_focus_client(struct bh_agent *a, struct wl_client *client);
/* CLIPBOARD_REQ: answer `request` with the selection (text, else an image
 * as pixels, else OTHER_TYPE). */
void bh_data_clipboard_request(struct bh_agent *a, uint32_t request);
/* dom0's paste: text, or an image (its memfd `fd`, owned here) offered as image/png. */
void bh_data_clipboard_set(struct bh_agent *a, const uint8_t *data, size_t len);
void bh_data_clipboard_set_image(struct bh_agent *a, const struct bh_gui_clipboard_image *img, int fd);

/* An owner of the selection inside the agent (the X CLIPBOARD's owner,
 * xwm-selection.c): send writes the data as `mime` into fd, which it owns. */
struct bh_data_source_ops {
    void (*send)(void *data, const char *mime, int fd);
};
/* That owner takes the selection, offering mimes[0..n) (bounded, deduplicated). */
void bh_data_set_agent_selection(struct bh_agent *a, const char *const *mimes, unsigned n,
                                 const struct bh_data_source_ops *ops, void *data);
bool bh_data_selection_owned_by(const struct bh_agent *a, const struct bh_data_source_ops *ops);
/* The selection is cleared if that owner holds it. */
void bh_data_drop_selection(struct bh_agent *a, const struct bh_data_source_ops *ops);
/* The selection's types (0 and NULL when there is none). */
unsigned bh_data_selection_mimes(const struct bh_agent *a, const char *const **mimes);
/* The selection's data as `mime` into fd (taken; closed when there is none). */
void bh_data_selection_send(struct bh_agent *a, const char *mime, int fd);

/* ---- dom0 link (link.c) ---------------------------------------------------- */

/* Outgoing queue bound: past this dom0 is not reading and is dropped. */
#define BH_LINK_MAX_QUEUED (16u * 1024u * 1024u)

/* What the link hands on: every message dom0 sent that the decoder
 * accepted, and the loss of the connection (after which every window must
 * be announced again). */
struct bh_link_events {
    void (*message)(struct bh_agent *a, const struct bh_gui_msg *m);
    void (*lost)(struct bh_agent *a);
};

struct bh_link *bh_link_new(struct bh_agent *a, int domain, const struct bh_link_events *events);
void bh_link_free(struct bh_link *l);
/* The HELLO exchange is done: window messages may be sent. */
bool bh_link_ready(const struct bh_link *l);
/* Queue a message (never blocks). Every message is run through the same
 * decoder dom0 uses before it is queued; one that would be rejected is not
 * sent (logged as a bug). false when not sent. */
bool bh_link_send(struct bh_link *l, uint32_t type, uint32_t window, const void *body, size_t len);
bool bh_link_send2(struct bh_link *l, uint32_t type, uint32_t window, const void *body, size_t len,
                   const void *tail, size_t tail_len);
bool bh_link_send_fd(struct bh_link *l, uint32_t type, uint32_t window, const void *body, size_t len, int fd);
/* The oldest descriptor dom0 sent (socket transport), or -1: only
 * CLIPBOARD_IMAGE brings one. The caller owns it. */
int bh_link_take_fd(struct bh_link *l);
/* Drop the current dom0 connection (if any) and listen again. */
void bh_link_reset(struct bh_link *l, const char *reason);

/* ---- dom0's messages (dispatch.c) ---------------------------------------- */

/* The link's events: dom0's messages to seat, windows, xdg, output, data. */
extern const struct bh_link_events bh_dom0_events;

/* ---- X11 (xwayland.c: the server's life; xwm.c: its window manager) ------- */

struct bh_xwayland;
struct bh_xwm;

/* Listen on X display `display` in the qube's /tmp/.X11-unix and start
 * Xwayland at the first connection. NULL (logged) if it cannot listen. */
struct bh_xwayland *bh_xwayland_new(struct bh_agent *a, int display);
void bh_xwayland_free(struct bh_xwayland *x);
/* Xwayland's Wayland socket (outer) relayed to the agent's wl_client's peer
 * (inner) through a bounded queue, so Xwayland never finds it full
 * (xwayland-relay.c); takes both. NULL when it cannot. */
struct bh_xrelay;
struct bh_xrelay *bh_xrelay_new(struct bh_agent *a, int outer, int inner);
void bh_xrelay_free(struct bh_xrelay *r);
/* The window manager on Xwayland's -wm connection; takes wm_fd. */
struct bh_xwm *bh_xwm_new(struct bh_agent *a, int wm_fd, struct wl_client *xclient);
void bh_xwm_free(struct bh_xwm *wm);

/* ---- the agent (agent.c) ------------------------------------------------- */

struct bh_agent {
    struct bh_agent_options opts;
    bool xen_buffers; /* window buffers are grants (xen transport), else memfds */
    struct wl_display *display;
    struct wl_event_loop *loop;
    char socket_name[108];

    struct wl_list surfaces;
    struct wl_list windows;
    uint32_t n_windows; /* with an id */
    uint32_t next_window_id;
    /* Windows refused past BH_MAX_WINDOWS in the current second: the first
     * few are logged, the rest summed up when the timer fires (window.c). */
    struct {
        uint32_t logged, more;
        struct wl_event_source *timer; /* made on the first refusal */
    } refused;

    struct wl_list deferred_frames;
    struct wl_event_source *deferred_timer;
    bool deferred_armed;
    struct wl_list held_releases; /* bh_surface.held_link */

    struct bh_seat seat;
    struct bh_output output;
    struct bh_data data;
    struct bh_link *link;

    struct wl_global *compositor_global, *subcompositor_global, *wm_base_global, *decoration_global;
    struct wl_list grabs; /* bh_xdg_surface.grab_link of mapped grabbing popups, oldest first */

    struct wl_listener client_created;
    struct wl_protocol_logger *shm_check; /* shm.c: buffers checked at creation */

    /* X11 through Xwayland (xwayland.c, xwm.c); NULL when not served. */
    struct bh_xwayland *xwayland;

    /* Told by lower floors to upper ones without calling them by name. */
    struct {
        struct wl_signal window_gone;       /* data: the bh_window about to go */
        struct wl_signal window_committed;  /* data: the bh_window whose tree a commit changed */
        struct wl_signal focus_changed;     /* a window or grabbing popup (un)mapped */
        struct wl_signal selection_changed; /* data: the new bh_data_source, or NULL */
    } events;
};

#endif /* BH_AGENT_INTERNAL_H */
