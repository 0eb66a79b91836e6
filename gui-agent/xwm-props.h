/* xwm-props.h — what the XWM makes of the raw words of an X client's
 * WM_NORMAL_HINTS and _NET_WM_STATE properties (pure, fuzzed:
 * tests/fuzz/xwm-props).
 *
 * Owns: the bounds on size hints and the states the agent honours.
 * Must never: do I/O, or return a size outside 0..BH_MAX_WINDOW_* or a
 * minimum above a non-zero maximum. */
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

#endif /* BH_XWM_PROPS_H */
