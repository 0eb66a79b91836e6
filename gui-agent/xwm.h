/* xwm.h — what xwm.c (windows) and xwm-selection.c (the CLIPBOARD) share:
 * the XWM's connection to Xwayland and its atoms.
 *
 * Owns: nothing; private to the XWM's two files.
 * Must never: be included outside them. */
#ifndef BH_XWM_H
#define BH_XWM_H

#include <stdbool.h>
#include <stdint.h>

#include <wayland-server-core.h>
#include <xcb/xcb.h>

struct bh_agent;
struct bh_xsel;

/* X windows tracked at once. Beyond it a window is left to X alone: it is
 * never shown in dom0 (window.c's BH_MAX_WINDOWS bounds what is shown). */
#define BH_XWM_MAX_WINDOWS 4096
/* Longest title read from the server, in 32-bit units (the protocol's
 * BH_MAX_TITLE_BYTES is far below). */
#define BH_XWM_TITLE_WORDS 256
/* X events handled before the agent's loop runs again. */
#define BH_XWM_EVENT_BATCH 16

enum {
    A_WL_SURFACE_ID,
    A_WM_PROTOCOLS,
    A_WM_DELETE_WINDOW,
    A_WM_TAKE_FOCUS,
    A_WM_STATE,
    A_NET_WM_NAME,
    A_UTF8_STRING,
    A_NET_WM_STATE,
    A_NET_WM_STATE_FULLSCREEN,
    A_NET_WM_STATE_MAXIMIZED_VERT,
    A_NET_WM_STATE_MAXIMIZED_HORZ,
    A_NET_SUPPORTED,
    A_NET_SUPPORTING_WM_CHECK,
    A_NET_ACTIVE_WINDOW,
    A_WM_S0,
    A_CLIPBOARD,
    A_TARGETS,
    A_TIMESTAMP,
    A_INCR,
    A_BH_SELECTION,
    A_BH_TARGETS,
    A_MULTIPLE,
    A_ATOM_PAIR,
    A_N
};

struct bh_xwm {
    struct bh_agent *agent;
    xcb_connection_t *conn;
    xcb_screen_t *screen;
    struct wl_event_source *src;
    struct wl_client *xclient; /* Xwayland's Wayland connection */
    struct wl_listener resource_created;
    struct wl_event_source *retry; /* idle: associate surfaces just created */
    struct wl_event_source *more;  /* more_fd: X events left over from a batch */
    int more_fd;                   /* an eventfd, written to continue */
    bool more_armed;
    xcb_atom_t atoms[A_N];
    xcb_window_t check_window;
    struct wl_list xwins;   /* bh_xwin.link */
    struct wl_list reading; /* bh_xwin.read_link: property replies awaited */
    uint32_t n_xwins;
    bool refused_logged;
    uint32_t hints_logged;
    /* A GetInputFocus sent after the XWM's SetInputFocus: its reply says
     * Xwayland has the new focus, and dom0's keys held meanwhile
     * (bh_seat_hold_keys) may go. */
    bool focus_pending;
    xcb_get_input_focus_cookie_t focus_cookie;
    struct bh_xsel *sel; /* the CLIPBOARD bridge (xwm-selection.c), NULL without XFIXES */
};

/* The CLIPBOARD bridge on the XWM's connection (after its atoms and
 * check_window exist). NULL (logged) when Xwayland lacks XFIXES. */
struct bh_xsel *bh_xsel_new(struct bh_xwm *wm);
void bh_xsel_free(struct bh_xsel *sel);
/* An X event for the bridge: handled (true) or not its own. */
bool bh_xsel_handle(struct bh_xsel *sel, xcb_generic_event_t *ev);

#endif /* BH_XWM_H */
