/* gui-protocol.h — the Bulkhead GUI protocol between a qube's gui-agent and
 * dom0's guid: the single source in code for docs/gui-protocol.md.
 *
 * Owns: wire layout (packed, fixed-width, little-endian host order as both
 * ends run on one machine), message type numbers, and the hard limits.
 * Must never: contain logic, depend on anything but libc, libdrm's fourcc
 * header and the window buffers' limits (bulkhead/winbuf.h, which knows
 * nothing of this protocol), or change a struct without bumping
 * BH_GUI_PROTOCOL_VERSION.
 *
 * Every message is a bh_gui_hdr followed by exactly hdr.untrusted_len bytes
 * of body. Bodies are fixed-size unless the table in docs/gui-protocol.md
 * says "bounded". Everything the agent sends is hostile: see core/proto for
 * the validating decoder, the only code allowed to read these structs off
 * the wire. */
#ifndef BULKHEAD_GUI_PROTOCOL_H
#define BULKHEAD_GUI_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "bulkhead/winbuf.h"

/* major << 16 | minor. A peer with another major is refused (HELLO). A
 * minor bump may only add message types; after HELLO each side sends only
 * the types known to min(its minor, the peer's minor), so a receiver can
 * treat every type it does not know as a violation. */
#define BH_GUI_PROTOCOL_MAJOR   2u
#define BH_GUI_PROTOCOL_MINOR   0u
#define BH_GUI_PROTOCOL_VERSION ((BH_GUI_PROTOCOL_MAJOR << 16) | BH_GUI_PROTOCOL_MINOR)

/* vchan port for the GUI connection (the agent is the server, as in Qubes). */
#define BH_GUI_VCHAN_PORT 6000

/* ---- Limits (the decoder enforces each one) ---------------------------- */

/* A window's size and its buffer's bytes (BH_MAX_WINDOW_WIDTH/HEIGHT,
 * BH_BYTES_PER_PIXEL, BH_MAX_STRIDE, BH_MAX_BUFFER_BYTES) and the Xen grant
 * bounds (BH_PAGE_SIZE, BH_MAX_GRANT_REFS) are the window buffers' limits:
 * bulkhead/winbuf.h. */
/* Windows (toplevels + popups) one qube may have at once. */
#define BH_MAX_WINDOWS 256u
/* Window ids are chosen by the agent in 1..BH_MAX_WINDOW_ID; 0 = the connection. */
#define BH_MAX_WINDOW_ID    0x00ffffffu
#define BH_MAX_TITLE_BYTES  256u
#define BH_MAX_APP_ID_BYTES 128u
#define BH_MAX_DAMAGE_RECTS 64u
/* Clipboard: the protocol's hard cap; the user-configurable limit (default
 * 64 000) is applied by bulkheadd below this. */
#define BH_MAX_CLIPBOARD_BYTES     256000u
#define BH_DEFAULT_CLIPBOARD_BYTES 64000u
/* A copied image: at most this many pixels a side, in the one format below.
 * 4096 x 4096 x 4 = 64 MiB, the most a copy may make dom0 hold. */
#define BH_MAX_CLIPBOARD_IMAGE_SIDE   4096u
#define BH_MAX_CLIPBOARD_IMAGE_STRIDE (BH_MAX_CLIPBOARD_IMAGE_SIDE * BH_BYTES_PER_PIXEL)
#define BH_MAX_CLIPBOARD_IMAGE_BYTES  ((uint64_t)BH_MAX_CLIPBOARD_IMAGE_STRIDE * BH_MAX_CLIPBOARD_IMAGE_SIDE)
/* R, G, B, A bytes in memory order, alpha not premultiplied: what PNG
 * holds, so an 8-bit PNG goes through the clipboard without a rounding. */
#define BH_GUI_CLIPBOARD_IMAGE_FORMAT 0x34324241u /* DRM_FORMAT_ABGR8888, 'AB24' (asserted in core/proto) */
#define BH_KEYMAP_FIELD_BYTES         64u
#define BH_KEYMAP_OPTIONS_BYTES       256u
/* The largest body of each bounded message, and of any message: a full
 * clipboard (256 000) is larger than a BUFFER with every grant reference
 * (24 + 4 * 32 400). Receivers size their input buffer with BH_MAX_MSG_BYTES. */
#define BH_MAX_BUFFER_BODY_BYTES (sizeof(struct bh_gui_buffer) + BH_MAX_GRANT_REFS * sizeof(uint32_t))
#define BH_MAX_DAMAGE_BODY_BYTES                                                                             \
    (sizeof(struct bh_gui_damage) + BH_MAX_DAMAGE_RECTS * sizeof(struct bh_gui_rect))
#define BH_MAX_CLIPBOARD_BODY_BYTES (sizeof(struct bh_gui_clipboard_data) + BH_MAX_CLIPBOARD_BYTES)
#define BH_MAX_BODY_BYTES                                                                                    \
    (BH_MAX_CLIPBOARD_BODY_BYTES > BH_MAX_BUFFER_BODY_BYTES ? BH_MAX_CLIPBOARD_BODY_BYTES                    \
                                                            : BH_MAX_BUFFER_BODY_BYTES)
#define BH_MAX_MSG_BYTES (sizeof(struct bh_gui_hdr) + BH_MAX_BODY_BYTES)
/* Popups may sit this far outside their parent (menus near a screen edge). */
#define BH_MAX_POPUP_OFFSET 16384
/* Pointer positions (BUTTON, MOTION, ENTER) are window-relative and may lie
 * outside the window during a grab, but never further than this. AXIS values
 * (24.8 fixed point) are bounded by the same number of pixels. */
#define BH_MAX_INPUT_COORD 32767
/* xkb layouts (groups) a keymap may have: KEY.group is below this. */
#define BH_MAX_XKB_GROUPS 4u
/* SCREEN physical size: 0 (unknown) up to 100 m. */
#define BH_MAX_SCREEN_MM 100000u

/* ---- Message types ------------------------------------------------------ */

enum bh_gui_msg_type {
    /* Both directions, window 0. First message on a connection, each way. */
    BH_GUI_HELLO = 0x0001,
    /* Both directions, window 0. Bounded body: bh_gui_clipboard_data + UTF-8 text. */
    BH_GUI_CLIPBOARD_DATA = 0x0002,
    /* Both directions, window 0: bh_gui_clipboard_image + one sealed memfd. */
    BH_GUI_CLIPBOARD_IMAGE = 0x0003,

    /* Agent -> dom0 */
    BH_GUI_CREATE = 0x0100,
    BH_GUI_DESTROY = 0x0101,
    BH_GUI_MAP = 0x0102,
    BH_GUI_UNMAP = 0x0103,
    BH_GUI_CONFIGURE = 0x0104,
    BH_GUI_TITLE = 0x0105,  /* bounded: UTF-8, not NUL-terminated */
    BH_GUI_APP_ID = 0x0106, /* bounded: UTF-8, not NUL-terminated */
    BH_GUI_HINTS = 0x0107,
    BH_GUI_FLAGS = 0x0108,
    BH_GUI_BUFFER = 0x0109, /* socket: fixed body + one fd; xen: + grant refs */
    BH_GUI_DAMAGE = 0x010a, /* bounded: header + n rectangles */
    BH_GUI_CURSOR = 0x010b,

    /* dom0 -> agent */
    BH_GUI_SCREEN = 0x0200,
    BH_GUI_KEYMAP = 0x0201,
    BH_GUI_KEY = 0x0202,
    BH_GUI_BUTTON = 0x0203,
    BH_GUI_MOTION = 0x0204,
    BH_GUI_AXIS = 0x0205,
    BH_GUI_ENTER = 0x0206,
    BH_GUI_LEAVE = 0x0207,
    BH_GUI_FOCUS = 0x0208,
    BH_GUI_CONFIGURE_REQ = 0x0209,
    BH_GUI_CLOSE = 0x020a,
    BH_GUI_CLIPBOARD_REQ = 0x020b,
    BH_GUI_BUFFER_RELEASE = 0x020c,
};

/* ---- Wire structs --------------------------------------------------------- */

#define BH_PACKED __attribute__((packed))

struct bh_gui_hdr {
    uint32_t type;          /* enum bh_gui_msg_type */
    uint32_t window;        /* 0 for connection-wide messages */
    uint32_t untrusted_len; /* body bytes that follow */
} BH_PACKED;

struct bh_gui_hello {
    uint32_t version; /* BH_GUI_PROTOCOL_VERSION of the sender */
} BH_PACKED;

/* CREATE: a new window, not yet shown, with an id not in use. A popup names
 * its parent (any existing window: popups nest) and dies with it. Any other
 * window may name an existing non-popup window as parent (transient dialog)
 * or 0; when its parent is destroyed it takes the parent's parent. */
enum bh_gui_create_flags {
    BH_GUI_CREATE_POPUP = 1u << 0, /* menu/tooltip: placed relative to parent */
};
#define BH_GUI_CREATE_FLAGS_ALL BH_GUI_CREATE_POPUP
struct bh_gui_create {
    uint32_t width, height; /* 1..BH_MAX_WINDOW_* */
    uint32_t parent;        /* see above */
    uint32_t flags;         /* bh_gui_create_flags */
} BH_PACKED;

/* MAP: show the window. Popups are placed at (x, y) relative to the
 * parent's content origin; toplevels ignore x/y (dom0 places them).
 * transient_for: popups: 0 or their CREATE parent (a popup never changes
 * parent); other windows: 0 (no parent) or an existing non-popup window that
 * is not the window itself nor one of its descendants; it replaces the
 * parent given at CREATE. */
struct bh_gui_map {
    uint32_t transient_for; /* see above */
    int32_t x, y;           /* |x|,|y| <= BH_MAX_POPUP_OFFSET */
} BH_PACKED;

/* CONFIGURE (agent -> dom0): the window's content size changed. */
struct bh_gui_configure {
    int32_t x, y;           /* popups: offset from parent, as in MAP */
    uint32_t width, height; /* 1..BH_MAX_WINDOW_* */
} BH_PACKED;

enum bh_gui_hint_flags {
    BH_GUI_HINT_MIN_SIZE = 1u << 0,
    BH_GUI_HINT_MAX_SIZE = 1u << 1,
};
#define BH_GUI_HINTS_ALL (BH_GUI_HINT_MIN_SIZE | BH_GUI_HINT_MAX_SIZE)
struct bh_gui_hints {
    uint32_t flags; /* bh_gui_hint_flags */
    uint32_t min_width, min_height;
    uint32_t max_width, max_height; /* 0 = unbounded when the flag is set */
} BH_PACKED;

enum bh_gui_window_flags {
    BH_GUI_FLAG_FULLSCREEN = 1u << 0, /* a request: dom0 decides (policy) */
    BH_GUI_FLAG_URGENT = 1u << 1,     /* marks the window, never takes focus */
    BH_GUI_FLAG_MAXIMIZED = 1u << 2,  /* a request */
};
#define BH_GUI_FLAGS_ALL (BH_GUI_FLAG_FULLSCREEN | BH_GUI_FLAG_URGENT | BH_GUI_FLAG_MAXIMIZED)
struct bh_gui_flags {
    uint32_t set;   /* flags to turn on */
    uint32_t unset; /* flags to turn off; set & unset must be 0 */
} BH_PACKED;

/* BUFFER: the window's pixels live in a new shared buffer from now on.
 * Socket transport: exactly one fd rides with this message (SCM_RIGHTS), a
 * memfd sealed with F_SEAL_SHRINK|F_SEAL_GROW of size stride*height.
 * Xen transport: n_refs grant references follow the struct. */
/* The kind is enum bh_gui_buffer_kind (bulkhead/winbuf.h). */
struct bh_gui_buffer {
    uint32_t width, height; /* 1..BH_MAX_WINDOW_* */
    uint32_t stride;        /* >= width*4, multiple of 4, <= BH_MAX_STRIDE */
    uint32_t format;        /* DRM_FORMAT_ARGB8888 or DRM_FORMAT_XRGB8888 */
    uint32_t kind;          /* bh_gui_buffer_kind */
    uint32_t n_refs;        /* GRANT: ceil(stride*height/4096); MEMFD: 0 */
    /* uint32_t refs[n_refs] follow for BH_GUI_BUFFER_GRANT */
} BH_PACKED;

struct bh_gui_rect {
    int32_t x, y;
    uint32_t width, height;
} BH_PACKED;

/* DAMAGE: these rectangles of the current buffer hold a new frame. The
 * serial comes back in BUFFER_RELEASE once dom0 has copied them out. Every
 * rectangle is non-empty and lies entirely inside the current buffer (the
 * agent clips client damage before sending; dom0 rejects, never clips). */
struct bh_gui_damage {
    uint32_t serial;
    uint32_t n_rects; /* 1..BH_MAX_DAMAGE_RECTS; rects follow */
    /* struct bh_gui_rect rects[n_rects] */
} BH_PACKED;

/* CLIPBOARD_REQ (dom0 -> agent, window 0): send your clipboard, naming this
 * request in the answer. dom0 numbers its requests from 1 and takes only
 * the answer to the one it waits for. */
struct bh_gui_clipboard_req {
    uint32_t request; /* != 0 */
} BH_PACKED;

/* CLIPBOARD_DATA (both ways, window 0): this header, then 0..256 000 bytes of
 * UTF-8 text without NUL. From the agent it answers `request`; from dom0
 * (a paste) request and flags are 0. */
enum bh_gui_clipboard_flags {
    /* The selection holds neither text nor an image the agent can carry:
     * no text follows, and dom0 tells the user why nothing was copied. */
    BH_GUI_CLIPBOARD_OTHER_TYPE = 1u << 0,
};
#define BH_GUI_CLIPBOARD_FLAGS_ALL BH_GUI_CLIPBOARD_OTHER_TYPE
struct bh_gui_clipboard_data {
    uint32_t request; /* agent: the CLIPBOARD_REQ answered (!= 0); dom0: 0 */
    uint32_t flags;   /* bh_gui_clipboard_flags; dom0: 0 */
    /* uint8_t text[] follows */
} BH_PACKED;

/* CLIPBOARD_IMAGE (both ways, window 0): a copied image as pixels, never a
 * file format. Socket transport only: one memfd rides with it (SCM_RIGHTS),
 * sealed against shrinking and growing, of exactly stride * height bytes,
 * in BH_GUI_CLIPBOARD_IMAGE_FORMAT. The agent that copies decodes the app's
 * PNG inside its qube; the agent that pastes encodes PNG inside its own. */
struct bh_gui_clipboard_image {
    uint32_t request;       /* agent: the CLIPBOARD_REQ answered (!= 0); dom0: 0 */
    uint32_t width, height; /* 1..BH_MAX_CLIPBOARD_IMAGE_SIDE */
    uint32_t stride;        /* multiple of 4, >= width * 4, <= BH_MAX_CLIPBOARD_IMAGE_STRIDE */
    uint32_t format;        /* BH_GUI_CLIPBOARD_IMAGE_FORMAT */
} BH_PACKED;

/* Cursors are named shapes only: a guest never supplies cursor pixels. */
enum bh_gui_cursor_shape {
    BH_GUI_CURSOR_DEFAULT = 0,
    BH_GUI_CURSOR_TEXT,
    BH_GUI_CURSOR_POINTER,
    BH_GUI_CURSOR_MOVE,
    BH_GUI_CURSOR_WAIT,
    BH_GUI_CURSOR_CROSSHAIR,
    BH_GUI_CURSOR_RESIZE_N,
    BH_GUI_CURSOR_RESIZE_S,
    BH_GUI_CURSOR_RESIZE_E,
    BH_GUI_CURSOR_RESIZE_W,
    BH_GUI_CURSOR_RESIZE_NE,
    BH_GUI_CURSOR_RESIZE_NW,
    BH_GUI_CURSOR_RESIZE_SE,
    BH_GUI_CURSOR_RESIZE_SW,
    BH_GUI_CURSOR_NONE,
    BH_GUI_CURSOR_COUNT
};
struct bh_gui_cursor {
    uint32_t shape; /* < BH_GUI_CURSOR_COUNT */
} BH_PACKED;

/* SCREEN (dom0 -> agent, window 0): the size of dom0's screen, used for
 * wl_output and to bound window sizes. */
struct bh_gui_screen {
    uint32_t width, height;
    uint32_t width_mm, height_mm;
} BH_PACKED;

/* KEYMAP (dom0 -> agent, window 0): RMLVO names, each NUL-terminated within
 * its field. The agent compiles the keymap itself with libxkbcommon. */
struct bh_gui_keymap {
    char rules[BH_KEYMAP_FIELD_BYTES];
    char model[BH_KEYMAP_FIELD_BYTES];
    char layout[BH_KEYMAP_FIELD_BYTES];
    char variant[BH_KEYMAP_FIELD_BYTES];
    char options[BH_KEYMAP_OPTIONS_BYTES];
} BH_PACKED;

/* KEY: an xkb keycode (evdev + 8) and dom0's view of the modifier state. */
struct bh_gui_key {
    uint32_t keycode; /* 8..255 */
    uint32_t pressed; /* 0 or 1 */
    uint32_t mods_depressed, mods_latched, mods_locked;
    uint32_t group; /* < BH_MAX_XKB_GROUPS */
} BH_PACKED;

/* BUTTON: evdev button code at a window position. Only the mouse range
 * BTN_LEFT (0x110) .. BTN_TASK (0x117) is accepted. */
#define BH_GUI_BUTTON_MIN 0x110u
#define BH_GUI_BUTTON_MAX 0x117u
struct bh_gui_button {
    uint32_t button;
    uint32_t pressed;
    int32_t x, y;
} BH_PACKED;

struct bh_gui_motion {
    int32_t x, y; /* window-relative, content coordinates */
} BH_PACKED;

enum bh_gui_axis_kind {
    BH_GUI_AXIS_VERTICAL = 0,
    BH_GUI_AXIS_HORIZONTAL = 1,
};
struct bh_gui_axis {
    uint32_t axis;    /* bh_gui_axis_kind */
    int32_t value;    /* wl_fixed_t (24.8), positive = down/right */
    int32_t discrete; /* wheel clicks, 0 for smooth scrolling */
} BH_PACKED;

struct bh_gui_enter {
    int32_t x, y;
} BH_PACKED;

struct bh_gui_focus {
    uint32_t focused; /* 0 or 1 */
} BH_PACKED;

enum bh_gui_configure_states {
    BH_GUI_STATE_MAXIMIZED = 1u << 0,
    BH_GUI_STATE_FULLSCREEN = 1u << 1,
    BH_GUI_STATE_ACTIVATED = 1u << 2,
    BH_GUI_STATE_RESIZING = 1u << 3,
};
#define BH_GUI_STATES_ALL                                                                                    \
    (BH_GUI_STATE_MAXIMIZED | BH_GUI_STATE_FULLSCREEN | BH_GUI_STATE_ACTIVATED | BH_GUI_STATE_RESIZING)
/* CONFIGURE_REQ (dom0 -> agent): dom0 asks for this content size. */
struct bh_gui_configure_req {
    uint32_t width, height;
    uint32_t states; /* bh_gui_configure_states */
} BH_PACKED;

/* BUFFER_RELEASE (dom0 -> agent): damage up to and including this serial
 * has been copied out and presented; the agent may fire frame callbacks. */
struct bh_gui_buffer_release {
    uint32_t serial;
} BH_PACKED;

_Static_assert(sizeof(struct bh_gui_hdr) == 12, "wire: hdr");
_Static_assert(sizeof(struct bh_gui_hello) == 4, "wire: hello");
_Static_assert(sizeof(struct bh_gui_create) == 16, "wire: create");
_Static_assert(sizeof(struct bh_gui_map) == 12, "wire: map");
_Static_assert(sizeof(struct bh_gui_configure) == 16, "wire: configure");
_Static_assert(sizeof(struct bh_gui_hints) == 20, "wire: hints");
_Static_assert(sizeof(struct bh_gui_flags) == 8, "wire: flags");
_Static_assert(sizeof(struct bh_gui_buffer) == 24, "wire: buffer");
_Static_assert(sizeof(struct bh_gui_rect) == 16, "wire: rect");
_Static_assert(sizeof(struct bh_gui_damage) == 8, "wire: damage");
_Static_assert(sizeof(struct bh_gui_cursor) == 4, "wire: cursor");
_Static_assert(sizeof(struct bh_gui_screen) == 16, "wire: screen");
_Static_assert(sizeof(struct bh_gui_keymap) == 4 * 64 + 256, "wire: keymap");
_Static_assert(sizeof(struct bh_gui_key) == 24, "wire: key");
_Static_assert(sizeof(struct bh_gui_button) == 16, "wire: button");
_Static_assert(sizeof(struct bh_gui_motion) == 8, "wire: motion");
_Static_assert(sizeof(struct bh_gui_axis) == 12, "wire: axis");
_Static_assert(sizeof(struct bh_gui_enter) == 8, "wire: enter");
_Static_assert(sizeof(struct bh_gui_focus) == 4, "wire: focus");
_Static_assert(sizeof(struct bh_gui_configure_req) == 12, "wire: configure_req");
_Static_assert(sizeof(struct bh_gui_buffer_release) == 4, "wire: buffer_release");
_Static_assert(sizeof(struct bh_gui_clipboard_req) == 4, "wire: clipboard_req");
_Static_assert(sizeof(struct bh_gui_clipboard_data) == 8, "wire: clipboard_data");
_Static_assert(sizeof(struct bh_gui_clipboard_image) == 20, "wire: clipboard_image");
_Static_assert(BH_MAX_CLIPBOARD_IMAGE_BYTES <= BH_MAX_BUFFER_BYTES, "a clipboard image is a window buffer");
_Static_assert(BH_MAX_BUFFER_BYTES < UINT32_MAX, "buffer sizes fit in u32 arithmetic done in u64");
_Static_assert(BH_MAX_BODY_BYTES < UINT32_MAX / 2, "a whole message length fits in u32");
_Static_assert(BH_MAX_APP_ID_BYTES <= BH_MAX_TITLE_BYTES, "APP_ID decodes into the title buffer");

#endif /* BULKHEAD_GUI_PROTOCOL_H */
