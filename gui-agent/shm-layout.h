/* shm-layout.h — whether the numbers a client gives for a wl_shm buffer
 * (width, height, stride in bytes, format) describe rows the agent can copy
 * without reading past them (pure, fuzzed: tests/fuzz/shm-layout).
 *
 * Owns: the formats the agent composes and their bytes per pixel, and the
 * rule that a row's pixels fit in its stride.
 * Must never: do I/O, include Wayland's headers (the fuzzer links this file
 * alone), or call a layout good whose last row ends past height × stride. */
#ifndef BH_SHM_LAYOUT_H
#define BH_SHM_LAYOUT_H

#include <stdint.h>

/* wl_shm's format codes for the two formats every compositor offers and the
 * GUI protocol carries (shm.c asserts they are Wayland's). */
#define BH_SHM_FORMAT_ARGB8888 0u
#define BH_SHM_FORMAT_XRGB8888 1u

enum bh_shm_verdict {
    BH_SHM_OK = 0,
    BH_SHM_BAD_FORMAT,   /* not a format the agent composes */
    BH_SHM_BAD_SIZE,     /* width or height not positive */
    BH_SHM_SHORT_STRIDE, /* a row's pixels are longer than its stride */
};

/* Bytes a pixel takes in format; 0 for a format the agent does not compose. */
uint32_t bh_shm_bytes_per_pixel(uint32_t format);

/* The verdict on a buffer's layout, format first (as libwayland checks it).
 * Bounds on the size itself (BH_MAX_WINDOW_*) and on the pool are not this
 * function's: libwayland checks stride × height against the pool, the
 * surface's commit the window limits. */
enum bh_shm_verdict bh_shm_layout_check(int32_t untrusted_width, int32_t untrusted_height,
                                        int32_t untrusted_stride, uint32_t untrusted_format);

/* A short English reason for a verdict other than BH_SHM_OK. */
const char *bh_shm_verdict_reason(enum bh_shm_verdict v);

#endif /* BH_SHM_LAYOUT_H */
