/* proto.h — encoder and layered validating decoder for the GUI protocol
 * (wire format in gui-protocol.h, specification in docs/gui-protocol.md).
 *
 * Decoding is layered and pure:
 *   1. framing     bh_gui_frame_check(): header sane, body length within the
 *                  per-type exact/bounded length, before anything is read or
 *                  allocated for the body;
 *   2. validation  bh_gui_decode(): fields within limits, DRM fourcc known,
 *                  damage inside the buffer, text valid UTF-8 with control and
 *                  bidi-override characters removed;
 *   3. lookup      bh_gui_decode() also checks the window id against the
 *                  caller's bh_gui_windows table (created? parent exists?
 *                  buffer present for damage?);
 *   4. dispatch    the caller acts on the typed message, then calls
 *                  bh_gui_windows_apply() so the table follows.
 * Nothing here allocates; nothing reads past the length it was given; any
 * error carries a reason for the log and means "drop this peer".
 *
 * Framing (layer 1), the wording of reasons and the text checks are
 * core/wire's, shared with the RPC (bulkhead/wire.h).
 *
 * Owns: the message semantics. Must never: depend on anything but libc and
 * core/wire (no GLib, GTK or vchan), keep state outside the caller's table,
 * or allocate. */
#ifndef BULKHEAD_PROTO_H
#define BULKHEAD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead/gui-protocol.h"
#include "bulkhead/wire.h"

/* Who sent the bytes being decoded: the same type number may be valid in one
 * direction only. */
enum bh_gui_dir {
    BH_GUI_FROM_AGENT = BH_WIRE_FROM_AGENT, /* decoded by guid: hostile */
    BH_GUI_FROM_DOM0 = BH_WIRE_FROM_DOM0,   /* decoded by the agent */
};

enum bh_gui_err {
    BH_GUI_OK = BH_WIRE_OK,
    BH_GUI_E_SHORT = BH_WIRE_E_SHORT,     /* not an error by itself: need more bytes */
    BH_GUI_E_TYPE = BH_WIRE_E_TYPE,       /* unknown type, or wrong direction */
    BH_GUI_E_LENGTH = BH_WIRE_E_LENGTH,   /* body length not what the type allows */
    BH_GUI_E_WINDOW = BH_WIRE_E_ID,       /* unknown, reused, out-of-range or forbidden window id */
    BH_GUI_E_VALUE = BH_WIRE_E_VALUE,     /* a field out of range */
    BH_GUI_E_LIMIT = BH_WIRE_E_LIMIT,     /* a BH_MAX_* limit would be exceeded */
    BH_GUI_E_TEXT = BH_WIRE_E_TEXT,       /* invalid UTF-8 or nothing left after sanitising */
    BH_GUI_E_STATE = BH_WIRE_E_STATE,     /* valid message at the wrong time (e.g. before HELLO) */
    BH_GUI_E_VERSION = BH_WIRE_E_VERSION, /* HELLO from a peer with another major version */
};

/* core/wire's struct bh_wire_error under this protocol's code enum, so
 * core/wire words and stores the verdicts of this decoder too. */
struct bh_gui_error {
    union {
        struct bh_wire_error wire;
        struct {
            enum bh_gui_err code;
            char reason[BH_WIRE_REASON_BYTES]; /* for the log: which field, which limit, which value */
        };
    };
};
_Static_assert(sizeof(enum bh_gui_err) == sizeof(enum bh_wire_err), "gui: error codes are core/wire's size");

/* Per-window state the decoder needs for lookup and bounds. Owned by the
 * caller; changed only through bh_gui_windows_apply(). */
struct bh_gui_window_entry {
    uint32_t id;     /* 0 = free slot */
    uint32_t parent; /* 0 for toplevels */
    uint32_t flags;  /* bh_gui_create_flags */
    bool mapped;
    bool has_buffer;
    uint32_t buf_width, buf_height, buf_stride;
};
struct bh_gui_windows {
    bool hello_done;       /* peer's HELLO accepted */
    uint32_t peer_version; /* from the peer's HELLO */
    uint32_t count;
    struct bh_gui_window_entry slots[BH_MAX_WINDOWS];
};

/* A validated message. Text and rectangles are copies (sanitised); only
 * clipboard data and grant refs point into the caller's input buffer, which
 * must outlive the use of the message. */
struct bh_gui_msg {
    uint32_t type;
    uint32_t window;
    union {
        struct bh_gui_hello hello;
        struct bh_gui_create create;
        struct bh_gui_map map;
        struct bh_gui_configure configure;
        struct bh_gui_hints hints;
        struct bh_gui_flags flags;
        struct bh_gui_cursor cursor;
        struct {
            struct bh_gui_buffer info;
            const uint8_t *refs; /* n_refs little-endian u32, unaligned: memcpy out */
        } buffer;
        struct {
            uint32_t serial;
            uint32_t n_rects;
            struct bh_gui_rect rects[BH_MAX_DAMAGE_RECTS]; /* inside the buffer, non-empty */
        } damage;
        struct {
            size_t len;                        /* bytes before the NUL */
            char text[BH_MAX_TITLE_BYTES + 1]; /* sanitised UTF-8, NUL-terminated */
        } title;                               /* TITLE and APP_ID */
        struct {
            uint32_t request; /* the CLIPBOARD_REQ answered; 0 from dom0 */
            uint32_t flags;   /* bh_gui_clipboard_flags */
            size_t len;
            const uint8_t *data; /* valid UTF-8 without NUL, not NUL-terminated */
        } clipboard;
        struct bh_gui_clipboard_image clipboard_image; /* the fd is the transport's */
        struct bh_gui_clipboard_req clipboard_req;
        struct bh_gui_screen screen;
        struct bh_gui_keymap keymap; /* every field NUL-terminated */
        struct bh_gui_key key;
        struct bh_gui_button button;
        struct bh_gui_motion motion;
        struct bh_gui_axis axis;
        struct bh_gui_enter enter;
        struct bh_gui_focus focus;
        struct bh_gui_configure_req configure_req;
        struct bh_gui_buffer_release buffer_release;
    } u;
};

void bh_gui_windows_init(struct bh_gui_windows *w);
const struct bh_gui_window_entry *bh_gui_windows_find(const struct bh_gui_windows *w, uint32_t id);
/* The ids a DESTROY of `id` removes from the table, in teardown order (every
 * popup before its parent, `id` itself last); call it before
 * bh_gui_windows_apply() to tear down what the caller built for them.
 * Returns how many ids there are (at most BH_MAX_WINDOWS; 0 if id is unknown),
 * writing at most cap of them. */
size_t bh_gui_windows_destroy_set(const struct bh_gui_windows *w, uint32_t id, uint32_t *ids, size_t cap);

/* Layer 1. `hdr` holds at least sizeof(struct bh_gui_hdr) bytes. On success
 * stores the body length (already bounded for the type) and returns BH_GUI_OK. */
enum bh_gui_err bh_gui_frame_check(const uint8_t *hdr, enum bh_gui_dir dir, uint32_t *body_len,
                                   struct bh_gui_error *err);

/* Layers 1-3 on one message at the start of buf[0..len). Returns the number
 * of bytes the message occupies (> 0) and fills *out; 0 when more bytes are
 * needed (err->code = BH_GUI_E_SHORT, nothing else changed); -1 on a
 * violation (err filled). `windows` (not NULL) is read, never written: for
 * BH_GUI_FROM_AGENT it is guid's table of the agent's windows; for
 * BH_GUI_FROM_DOM0 only its handshake state is used, since input for a
 * window the agent just destroyed is a race the agent ignores, not an error.
 * err may be NULL. */
long bh_gui_decode(const uint8_t *buf, size_t len, enum bh_gui_dir dir, const struct bh_gui_windows *windows,
                   struct bh_gui_msg *out, struct bh_gui_error *err);

/* Update the table after a successfully decoded message (CREATE adds,
 * DESTROY removes with its popups, BUFFER records size, HELLO marks done). */
void bh_gui_windows_apply(struct bh_gui_windows *w, const struct bh_gui_msg *m);

/* Encoder: writes header + body into out[0..cap). Returns bytes written, or 0
 * when cap is too small or body_len exceeds what the type allows. */
size_t bh_gui_encode(uint8_t *out, size_t cap, uint32_t type, uint32_t window, const void *body,
                     size_t body_len);
/* For bounded bodies made of two parts (DAMAGE header + rects, BUFFER + refs). */
size_t bh_gui_encode2(uint8_t *out, size_t cap, uint32_t type, uint32_t window, const void *body,
                      size_t body_len, const void *tail, size_t tail_len);

const char *bh_gui_type_name(uint32_t type);
const char *bh_gui_err_name(enum bh_gui_err code);

/* The text helpers (bh_gui_utf8_check, bh_gui_text_sanitize,
 * bh_gui_text_char_dropped, bh_gui_text_tidy), shared so the agent sends exactly what dom0
 * accepts, are core/wire's: bulkhead/text.h, included through wire.h. */

#endif /* BULKHEAD_PROTO_H */
