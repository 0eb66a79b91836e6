/* gui-encode.c — writes GUI protocol messages.
 *
 * Owns: the framing side of sending: a header whose type, window class and
 * body length the peer's bh_gui_frame_check() will accept.
 * Must never: write past cap, or emit a frame the decoder's layer 1 would
 * reject (fields are the caller's business: the decoder checks them). */
#include <string.h>

#include "proto-internal.h"

size_t bh_gui_encode2(uint8_t *out, size_t cap, uint32_t type, uint32_t window, const void *body, size_t body_len,
                      const void *tail, size_t tail_len)
{
    const struct bh_gui_type_info *ti = bh_gui_type_info(type);
    struct bh_gui_hdr hdr;
    uint64_t total;

    if (!ti || (body_len && !body) || (tail_len && !tail))
        return 0;
    if (ti->conn ? window != 0 : (window == 0 || window > BH_MAX_WINDOW_ID))
        return 0;
    /* Both lengths are at most SIZE_MAX; their sum is checked in 64 bits
     * before it can be narrowed to the header's u32. */
    if (body_len > BH_MAX_BODY_BYTES || tail_len > BH_MAX_BODY_BYTES)
        return 0;
    total = (uint64_t)body_len + tail_len;
    if (!bh_gui_type_len_ok(ti, total) || cap < sizeof hdr || cap - sizeof hdr < total)
        return 0;

    hdr.type = type;
    hdr.window = window;
    hdr.untrusted_len = (uint32_t)total;
    memcpy(out, &hdr, sizeof hdr);
    if (body_len)
        memcpy(out + sizeof hdr, body, body_len);
    if (tail_len)
        memcpy(out + sizeof hdr + body_len, tail, tail_len);
    return sizeof hdr + (size_t)total;
}

size_t bh_gui_encode(uint8_t *out, size_t cap, uint32_t type, uint32_t window, const void *body, size_t body_len)
{
    return bh_gui_encode2(out, cap, type, window, body, body_len, NULL, 0);
}
