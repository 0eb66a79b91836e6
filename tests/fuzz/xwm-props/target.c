/* target.c — libFuzzer entry point for gui-agent/xwm-props.c: the input is
 * the raw words an X client in a qube set as WM_NORMAL_HINTS or
 * _NET_WM_STATE, a CLIPBOARD owner's TARGETS list, a requestor's MULTIPLE
 * pairs, and (the same bytes) the name of a target. Checks, aborting on violation: every size is within
 * 0..BH_MAX_WINDOW_*, a non-zero maximum is never below its minimum, only
 * the honoured flags come out, a TARGETS list keeps at most its bound with
 * no None and no atom twice, MULTIPLE pairs are the input's in order, at
 * most their bound, and every one not refused has a target other than None
 * and MULTIPLE and a property no earlier one has, a MIME type made from a name is printable
 * ASCII without spaces, at most BH_XWM_MIME_MAX bytes, shaped type/subtype
 * (or one of the X text names), and maps back to an X target; the same
 * input gives the same answer.
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

    uint32_t picked[16];
    size_t k = bh_xwm_targets_pick(words, n, picked, 16);
    if (k > 16 || k > n)
        abort();
    for (size_t i = 0; i < k; i++) {
        if (picked[i] == 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (picked[j] == picked[i])
                abort();
    }

    struct bh_xwm_pair pairs[8];
    size_t np = bh_xwm_multiple_pairs(words, n, 7, pairs, 8);
    if (np > 8 || np > n / 2)
        abort();
    for (size_t i = 0; i < np; i++) {
        if (pairs[i].target != words[2 * i])
            abort();
        if (pairs[i].property == 0)
            continue;
        if (pairs[i].property != words[2 * i + 1] || pairs[i].target == 0 || pairs[i].target == 7)
            abort();
        for (size_t j = 0; j < i; j++)
            if (pairs[j].property == pairs[i].property)
                abort();
    }
    free(words);

    char mime[BH_XWM_MIME_MAX + 1], again_mime[BH_XWM_MIME_MAX + 1];
    bool ok = bh_xwm_target_mime((const char *)data, size, mime);
    if (ok != bh_xwm_target_mime((const char *)data, size, again_mime) || (ok && strcmp(mime, again_mime)))
        abort();
    if (ok) {
        size_t len = strlen(mime);
        if (len == 0 || len > BH_XWM_MIME_MAX)
            abort();
        for (size_t i = 0; i < len; i++)
            if (mime[i] <= ' ' || mime[i] > '~')
                abort();
        if (strcmp(mime, "TEXT") != 0 && (!strchr(mime, '/') || mime[0] == '/'))
            abort();
        const char *target = bh_xwm_mime_target(mime);
        if (!target || !target[0])
            abort();
    }
    return 0;
}
