/* target.c — libFuzzer entry point for gui-agent/shm-layout.c: the input is
 * a run of 16-byte records, each the width, height, stride (int32) and
 * format (uint32) a client gives wl_shm_pool.create_buffer. Checks, aborting
 * on violation: a layout called good has a composed format, a positive size
 * and a last row that ends within height × stride (no row read past what
 * libwayland checked against the pool); a layout with a composed format, a
 * positive size and a stride of at least the width in bytes is called good
 * (nothing sound refused); every verdict has a reason; the same input gives
 * the same verdict.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shm-layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t off = 0; size - off >= 16; off += 16) {
        int32_t w, h, stride;
        uint32_t format;
        memcpy(&w, data + off, 4);
        memcpy(&h, data + off + 4, 4);
        memcpy(&stride, data + off + 8, 4);
        memcpy(&format, data + off + 12, 4);
        enum bh_shm_verdict v = bh_shm_layout_check(w, h, stride, format);
        if (v != bh_shm_layout_check(w, h, stride, format))
            abort();
        const char *reason = bh_shm_verdict_reason(v);
        if (!reason || !reason[0])
            abort();
        int64_t bpp = bh_shm_bytes_per_pixel(format);
        if (bpp != 0 && bpp != 4)
            abort();
        if (v == BH_SHM_OK) {
            if (bpp == 0 || w <= 0 || h <= 0)
                abort();
            int64_t last_row_end = (int64_t)(h - 1) * stride + (int64_t)w * bpp;
            if (last_row_end > (int64_t)h * stride)
                abort();
        } else if (bpp && w > 0 && h > 0 && (int64_t)stride >= (int64_t)w * bpp) {
            abort();
        }
    }
    return 0;
}
