/* xen-test-pattern.h — the pixels the QEMU test's guest draws and dom0
 * checks: a value per (x, y, frame) that differs between neighbours and
 * between frames, so a wrong stride, offset, page or stale frame shows.
 * Must never: depend on anything but libc and the wire header. */
#ifndef BH_XEN_TEST_PATTERN_H
#define BH_XEN_TEST_PATTERN_H

#include <drm_fourcc.h>
#include <stdint.h>
#include <string.h>

#include "bulkhead/gui-protocol.h"

/* 50 pages: a window spanning many grant references. */
#define BH_TEST_WIDTH  320u
#define BH_TEST_HEIGHT 160u
#define BH_TEST_FORMAT DRM_FORMAT_XRGB8888
/* The rectangle frame 2 redraws and damages. */
#define BH_TEST_RECT2 ((struct bh_gui_rect){37, 21, 101, 57})

static inline uint32_t bh_test_pixel(uint32_t x, uint32_t y, uint32_t frame)
{
    return 0xff000000u | ((x * 7u + frame * 91u) & 0xffu) << 16 | ((y * 13u) & 0xffu) << 8 |
           ((x ^ y ^ (frame << 4)) & 0xffu);
}

static inline void bh_test_pattern_fill(void *map, size_t stride, int32_t x0, int32_t y0, uint32_t w,
                                        uint32_t h, uint32_t frame)
{
    for (uint32_t y = (uint32_t)y0; y < (uint32_t)y0 + h; y++) {
        uint32_t *row = (uint32_t *)((uint8_t *)map + (size_t)y * stride);
        for (uint32_t x = (uint32_t)x0; x < (uint32_t)x0 + w; x++)
            row[x] = bh_test_pixel(x, y, frame);
    }
}

#endif
