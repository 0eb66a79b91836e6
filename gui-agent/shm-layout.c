/* shm-layout.c — the row rule for wl_shm buffers (shm-layout.h). Pure: no
 * Wayland, no allocation. */
#include "shm-layout.h"

uint32_t bh_shm_bytes_per_pixel(uint32_t format)
{
    switch (format) {
    case BH_SHM_FORMAT_ARGB8888:
    case BH_SHM_FORMAT_XRGB8888:
        return 4;
    default:
        return 0;
    }
}

enum bh_shm_verdict bh_shm_layout_check(int32_t untrusted_width, int32_t untrusted_height,
                                        int32_t untrusted_stride, uint32_t untrusted_format)
{
    uint32_t bpp = bh_shm_bytes_per_pixel(untrusted_format);
    if (bpp == 0)
        return BH_SHM_BAD_FORMAT;
    if (untrusted_width <= 0 || untrusted_height <= 0)
        return BH_SHM_BAD_SIZE;
    /* In 64 bits: width × 4 of a positive int32 does not overflow there,
     * and a negative stride is short of any positive width. libwayland
     * compares the stride with the width in pixels only, so a stride of
     * the width in bytes ÷ 4 passes there and the copy of the last rows
     * would run past height × stride. */
    if ((int64_t)untrusted_stride < (int64_t)untrusted_width * bpp)
        return BH_SHM_SHORT_STRIDE;
    return BH_SHM_OK;
}

const char *bh_shm_verdict_reason(enum bh_shm_verdict v)
{
    switch (v) {
    case BH_SHM_OK:
        return "ok";
    case BH_SHM_BAD_FORMAT:
        return "a format the agent does not compose";
    case BH_SHM_BAD_SIZE:
        return "a width or height that is not positive";
    case BH_SHM_SHORT_STRIDE:
        return "a stride shorter than the width in bytes";
    }
    return "unknown";
}
