/* bh-test-dom0.h — a test-only dom0 side of the GUI protocol, to drive a real
 * bulkhead-gui-agent from tests.
 *
 * It connects as the vchan client, does the handshake (HELLO, SCREEN,
 * KEYMAP), decodes everything the agent sends with the real decoder
 * (BH_GUI_FROM_AGENT, with a real window table) and maps the real window
 * buffers as guid does, by transport: bh_winbuf_import_memfd on sockets,
 * bh_winbuf_import_grant on Xen (tests/xen runs it in a real dom0), keeping
 * per-window state tests can inspect. A decoder violation is recorded and ends the connection, as guid
 * would; tests assert there was none.
 *
 * Owns: nothing outside tests. Must never: be linked into a product binary,
 * or paper over an agent bug (no clipping, no retries of rejected input). */
#ifndef BH_TEST_DOM0_H
#define BH_TEST_DOM0_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead/gui-protocol.h"
#include "bulkhead/proto.h"
#include "bulkhead/winbuf.h"

struct bh_vchan;

struct bh_tdom0_win {
    uint32_t id; /* 0 = free slot */
    bool mapped;
    uint32_t parent, flags, transient_for;
    int32_t x, y;
    uint32_t width, height; /* CREATE / CONFIGURE */
    char title[BH_MAX_TITLE_BYTES + 1];
    char app_id[BH_MAX_TITLE_BYTES + 1];
    unsigned n_titles;
    struct bh_gui_hints hints;
    uint32_t wflags;
    uint32_t cursor;

    struct bh_winbuf buf;
    bool has_buf;
    uint32_t buf_w, buf_h, stride, format;
    unsigned n_buffers;

    unsigned n_damage;    /* DAMAGE messages received */
    uint32_t last_serial; /* of the last DAMAGE */
    bool unreleased;      /* a DAMAGE not yet answered with BUFFER_RELEASE */
    struct bh_gui_rect last_rects[BH_MAX_DAMAGE_RECTS];
    uint32_t last_n_rects;
    uint64_t damage_area; /* pixels announced, over all DAMAGEs */
};

struct bh_tdom0 {
    struct bh_vchan *v;
    int domid; /* the agent's domain (grant references name it) */
    bool alive;
    char error[256];   /* why the connection ended (violation, EOF) */
    bool violation;    /* the agent sent something the decoder rejected */
    bool auto_release; /* answer each DAMAGE with BUFFER_RELEASE at once */
    uint32_t agent_version;
    struct bh_gui_windows table;
    struct bh_tdom0_win wins[BH_MAX_WINDOWS];
    unsigned n_created, n_destroyed;
    char *clipboard;            /* last CLIPBOARD_DATA from the agent, NUL-terminated */
    uint32_t clipboard_request; /* the request it answered */
    size_t clipboard_len;
    unsigned n_clipboard;
    size_t in_len;
    uint8_t in[BH_MAX_MSG_BYTES];
    struct bh_gui_msg msg;
};

/* Connect to the agent of domain `domid` (retrying until timeout_ms), wait
 * for its HELLO, answer HELLO, SCREEN (w x h) and KEYMAP (us). NULL with
 * *error (static string or the decoder's reason copied into buf) on failure. */
struct bh_tdom0 *bh_tdom0_connect(int domid, uint32_t screen_w, uint32_t screen_h, int timeout_ms,
                                  char *errbuf, size_t errlen);
/* guid's order: connect and send HELLO, SCREEN and KEYMAP at once, without
 * waiting for the agent's HELLO (then bh_tdom0_wait_hello). */
struct bh_tdom0 *bh_tdom0_connect_first(int domid, uint32_t screen_w, uint32_t screen_h, int timeout_ms,
                                        char *errbuf, size_t errlen);
/* Pump until the agent's HELLO has arrived; false on timeout or death. */
bool bh_tdom0_wait_hello(struct bh_tdom0 *d, int timeout_ms);
void bh_tdom0_free(struct bh_tdom0 *d);

/* Read and handle what arrives within timeout_ms (at least one poll).
 * false once the connection is dead. */
bool bh_tdom0_pump(struct bh_tdom0 *d, int timeout_ms);
typedef bool (*bh_tdom0_pred)(struct bh_tdom0 *d, void *ctx);
/* Pump until pred is true (true) or timeout / death (false). */
bool bh_tdom0_wait(struct bh_tdom0 *d, bh_tdom0_pred pred, void *ctx, int timeout_ms);

struct bh_tdom0_win *bh_tdom0_find(struct bh_tdom0 *d, uint32_t id);
/* A mapped toplevel (not popup) whose app id or title contains `needle`
 * (NULL: any), with a buffer and at least one DAMAGE. */
struct bh_tdom0_win *bh_tdom0_find_shown(struct bh_tdom0 *d, const char *needle);
unsigned bh_tdom0_count_windows(struct bh_tdom0 *d);
/* A mapped popup with a buffer and a DAMAGE, or NULL. */
struct bh_tdom0_win *bh_tdom0_find_popup(struct bh_tdom0 *d);
/* bh_tdom0_preds: dom0 knows no window / a shown popup / no popup. */
bool bh_tdom0_no_windows(struct bh_tdom0 *d, void *ctx);
bool bh_tdom0_has_popup(struct bh_tdom0 *d, void *ctx);
bool bh_tdom0_no_popup(struct bh_tdom0 *d, void *ctx);

bool bh_tdom0_send(struct bh_tdom0 *d, uint32_t type, uint32_t window, const void *body, size_t len);
void bh_tdom0_release(struct bh_tdom0 *d, struct bh_tdom0_win *w);
void bh_tdom0_key(struct bh_tdom0 *d, uint32_t window, uint32_t evdev, bool pressed, uint32_t mods);
/* Types ASCII text with a US layout (press/release per character, Shift as
 * needed); '\n' is Return. false for a character it cannot type. */
bool bh_tdom0_type(struct bh_tdom0 *d, uint32_t window, const char *text);
/* A Ctrl(+Shift) chord, e.g. ctrl-shift-v: modifiers down, key, up. */
void bh_tdom0_chord(struct bh_tdom0 *d, uint32_t window, bool ctrl, bool shift, uint32_t evdev);
void bh_tdom0_focus(struct bh_tdom0 *d, uint32_t window, bool focused);
/* Pixel (x, y) of the window buffer (0 if out of range or no buffer). */
uint32_t bh_tdom0_pixel(const struct bh_tdom0_win *w, uint32_t x, uint32_t y);

#endif /* BH_TEST_DOM0_H */
