/* xwm-props.h — what the XWM makes of the raw words of an X client's
 * WM_NORMAL_HINTS and _NET_WM_STATE properties, of the TARGETS an X
 * CLIPBOARD owner lists and of the pairs an X requestor's MULTIPLE names
 * (pure, fuzzed: tests/fuzz/xwm-props).
 *
 * Owns: the bounds on size hints, the states the agent honours, and which
 * X selection targets become which MIME types.
 * Must never: do I/O, return a size outside 0..BH_MAX_WINDOW_* or a
 * minimum above a non-zero maximum, or a MIME type that is not printable
 * ASCII of at most BH_XWM_MIME_MAX bytes. */
#ifndef BH_XWM_PROPS_H
#define BH_XWM_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bh_xwm_hints {
    int32_t min_w, min_h, max_w, max_h; /* 0 = none */
    bool dropped;                       /* min above max: both dropped */
};

/* ICCCM WM_SIZE_HINTS as 32-bit words (n_words of them, any number: a short
 * property sets nothing). */
void bh_xwm_size_hints(const uint32_t *words, size_t n_words, struct bh_xwm_hints *out);

/* The atoms the agent honours in _NET_WM_STATE. */
struct bh_xwm_state_atoms {
    uint32_t fullscreen, max_vert, max_horz;
};
/* BH_GUI_FLAG_* for a _NET_WM_STATE of n atoms (at most the first 32 read). */
uint32_t bh_xwm_state_flags(const uint32_t *atoms, size_t n, const struct bh_xwm_state_atoms *known);

/* Longest MIME type taken from an X target name (data.c keeps 256 bytes). */
#define BH_XWM_MIME_MAX 255

/* The MIME type offered to Wayland clients and dom0 for an X selection
 * target named name[0..len) (as X gives it: not NUL-terminated, any bytes):
 * UTF8_STRING is text/plain;charset=utf-8, STRING text/plain, TEXT stays
 * TEXT, a name shaped as a MIME type (type/subtype[;params], printable
 * ASCII) stays as it is. Written to out; false for anything else (TARGETS,
 * MULTIPLE, TIMESTAMP, bitmaps, control bytes, overlong names). */
bool bh_xwm_target_mime(const char *name, size_t len, char out[BH_XWM_MIME_MAX + 1]);
/* The X target to ask an X owner for, for a MIME type the above gave. */
const char *bh_xwm_mime_target(const char *mime);
/* A TARGETS list atoms[0..n) made usable: None dropped, each atom once, in
 * order, at most max of them in out. Returns how many. */
size_t bh_xwm_targets_pick(const uint32_t *atoms, size_t n, uint32_t *out, size_t max);

/* One (target, property) pair of a MULTIPLE request (ICCCM 2.6.2). */
struct bh_xwm_pair {
    uint32_t target, property;
};
/* A MULTIPLE request's ATOM_PAIR list, words[0..n_words) as the requestor
 * set it, made into at most max pairs in out (an odd last word is
 * ignored). A pair the owner must refuse comes out with property 0 (None),
 * as the requestor is then told: a target or property of None, the target
 * `multiple` itself (no nesting), or a property an earlier pair already
 * names (two answers would overwrite each other). Returns how many. */
size_t bh_xwm_multiple_pairs(const uint32_t *words, size_t n_words, uint32_t multiple,
                             struct bh_xwm_pair *out, size_t max);

#endif /* BH_XWM_PROPS_H */
