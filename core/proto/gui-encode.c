/* gui-encode.c — writes GUI protocol messages.
 *
 * Owns: the GUI protocol's entry points for sending; the framing itself (a
 * header the peer's bh_gui_frame_check() accepts) is core/wire's.
 * Must never: write past cap, or emit a frame the decoder's layer 1 would
 * reject (fields are the caller's business: the decoder checks them). */
#include "proto-internal.h"

size_t bh_gui_encode2(uint8_t *out, size_t cap, uint32_t type, uint32_t window, const void *body,
                      size_t body_len, const void *tail, size_t tail_len)
{
    const struct bh_wire_part parts[] = {{body, body_len}, {tail, tail_len}};

    return bh_wire_encode(&bh_gui_wire, out, cap, type, window, parts, 2);
}

size_t bh_gui_encode(uint8_t *out, size_t cap, uint32_t type, uint32_t window, const void *body,
                     size_t body_len)
{
    return bh_gui_encode2(out, cap, type, window, body, body_len, NULL, 0);
}
