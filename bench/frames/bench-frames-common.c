/* bench-frames-common.c — see bench-frames-common.h. */
#include "bench-frames-common.h"

#include <math.h>

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
