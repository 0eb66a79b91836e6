/* bench-frames-common.c — see bench-frames-common.h. */
#include "bench-frames-common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int bh_bench_damage_rect(int width, int height, double fraction, bool band, struct bh_bench_rect *out)
{
    if (width < 2 || height < 1 || !(fraction > 0 && fraction <= 1))
        return -1;
    int w = width, h = height;
    if (band) {
        h = (int)lround(height * fraction);
    } else {
        double side = sqrt(fraction);
        w = (int)lround(width * side);
        h = (int)lround(height * side);
    }
    /* Two pixels wide at least: the sequence number and its check. */
    w = w < 2 ? 2 : w > width ? width : w;
    h = h < 1 ? 1 : h > height ? height : h;
    out->width = w;
    out->height = h;
    out->x = (width - w) / 2;
    out->y = (height - h) / 2;
    return 0;
}

uint32_t bh_bench_seq_check(uint32_t seq)
{
    /* Any mixing will do; noise matches it by chance once in 2^24. */
    return ((seq & 0xffffffu) * 2654435761u >> 8) & 0xffffffu;
}

bool bh_bench_seq_decode(uint32_t p0, uint32_t p1, uint32_t *seq24)
{
    uint32_t s = p0 & 0xffffffu;
    if ((p1 & 0xffffffu) != bh_bench_seq_check(s))
        return false;
    *seq24 = s;
    return true;
}

uint8_t *bh_bench_noise(void)
{
    uint8_t *p = malloc(BH_BENCH_POOL_BYTES);
    uint64_t x = 0x9e3779b97f4a7c15u;
    if (!p)
        return NULL;
    for (size_t i = 0; i < BH_BENCH_POOL_BYTES; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
    return p;
}

void bh_bench_paint(const uint8_t *noise, uint8_t *pixels, size_t stride, const struct bh_bench_rect *r,
                    uint32_t seq)
{
    size_t row_bytes = (size_t)r->width * 4;
    size_t span = BH_BENCH_POOL_BYTES - row_bytes;
    for (int y = 0; y < r->height; y++) {
        size_t off = (((size_t)seq * 1031u + (size_t)y * 577u) * 64u) % span;
        memcpy(pixels + (size_t)(r->y + y) * stride + (size_t)r->x * 4, noise + off, row_bytes);
    }
    uint32_t mark[2] = {0xff000000u | (seq & 0xffffffu), 0xff000000u | bh_bench_seq_check(seq)};
    memcpy(pixels + (size_t)r->y * stride + (size_t)r->x * 4, mark, r->width >= 2 ? 8 : 4);
}
