/* target.c — libFuzzer entry point for gui-agent/xwm-props.c: the input is
 * the raw words an X client in a qube set as WM_NORMAL_HINTS or
 * _NET_WM_STATE. Checks, aborting on violation: every size is within
 * 0..BH_MAX_WINDOW_*, a non-zero maximum is never below its minimum, only
 * the honoured flags come out, and the same input gives the same answer.
 *
 * Must never: keep state between inputs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/gui-protocol.h"
#include "xwm-props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size / 4;
    uint32_t *words = malloc(n ? n * 4 : 4);
    if (!words)
        return 0;
    memcpy(words, data, n * 4); /* aligned, as xcb hands them */
    struct bh_xwm_hints h, again;
    bh_xwm_size_hints(words, n, &h);
    bh_xwm_size_hints(words, n, &again);
    if (memcmp(&h, &again, sizeof h) != 0)
        abort();
    const int32_t mw = BH_MAX_WINDOW_WIDTH, mh = BH_MAX_WINDOW_HEIGHT;
    if (h.min_w < 0 || h.min_h < 0 || h.max_w < 0 || h.max_h < 0 || h.min_w > mw || h.max_w > mw ||
        h.min_h > mh || h.max_h > mh)
        abort();
    if ((h.max_w && h.min_w > h.max_w) || (h.max_h && h.min_h > h.max_h))
        abort();
    if (h.dropped && (h.min_w || h.min_h || h.max_w || h.max_h))
        abort();
    const struct bh_xwm_state_atoms known = {1, 2, 3};
    uint32_t flags = bh_xwm_state_flags(words, n, &known);
    if (flags & ~(uint32_t)(BH_GUI_FLAG_FULLSCREEN | BH_GUI_FLAG_MAXIMIZED))
        abort();
    free(words);
    return 0;
}
