/* bench-frames-common.h — what the bench client and the presenting sides of
 * bench/frames agree on: where the damaged rectangle lies for a given window
 * size and damage fraction, and how a frame's sequence number is written into
 * its first two pixels (see bh-bench-client.c).
 *
 * Owns: that convention. Must never: depend on anything but libc (the client
 * is a plain Wayland client; guid only reads pixels). */
#ifndef BH_BENCH_FRAMES_COMMON_H
#define BH_BENCH_FRAMES_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bh_bench_rect {
    int x, y, width, height;
};

/* The rectangle a frame repaints: `fraction` (0 < f <= 1) of width x height,
 * centred, with the window's aspect (band = false) or full width (band =
 * true). -1 for a size or fraction out of range. */
int bh_bench_damage_rect(int width, int height, double fraction, bool band, struct bh_bench_rect *out);

/* The second pixel's 24 bits for sequence number seq. */
uint32_t bh_bench_seq_check(uint32_t seq);

/* Decode the two pixels at the top-left of a frame's rectangle: true and the
 * 24-bit sequence number if the check pixel matches. */
bool bh_bench_seq_decode(uint32_t p0, uint32_t p1, uint32_t *seq24);

/* The noise both bench clients draw from: 32 MiB, the same bytes in each
 * (malloc'd; NULL when out of memory). */
#define BH_BENCH_POOL_BYTES (32u << 20)
uint8_t *bh_bench_noise(void);
/* Frame seq's rectangle r into pixels (rows of `stride` bytes): rows of
 * noise at a per-frame and per-row offset (nothing repeats, nothing
 * compresses), then the sequence number and its check in the first two
 * pixels. */
void bh_bench_paint(const uint8_t *noise, uint8_t *pixels, size_t stride, const struct bh_bench_rect *r,
                    uint32_t seq);

#endif /* BH_BENCH_FRAMES_COMMON_H */
