/* bh-test-shm.c — weston-simple-shm's pattern (see bh-test-shm.h). */
#include "bh-test-shm.h"

#include <stdio.h>

/* The inverse of simple-shm's colour multiplier modulo 2^24 (it is odd). */
static uint32_t inverse_mod24(uint32_t a)
{
    uint32_t x = 1;
    for (int i = 0; i < 5; i++)
        x *= 2 - a * x; /* Newton: doubles the correct low bits each step */
    return x & 0xffffff;
}

/* simple-shm's pattern for frame time t (given as t/16; the other terms are
 * derived from it), as it writes it, then as we must show it (XRGB: alpha
 * forced opaque). */
static uint32_t expected(int x, int y, uint32_t t16)
{
    const int halfh = BH_TSHM_PAD + (BH_TSHM_SIZE - BH_TSHM_PAD * 2) / 2, halfw = halfh;
    int or = (halfw < halfh ? halfw : halfh) - 8, ir = or -32;
    or *= or ;
    ir *= ir;
    if (x < BH_TSHM_PAD || y < BH_TSHM_PAD || x >= BH_TSHM_SIZE - BH_TSHM_PAD ||
        y >= BH_TSHM_SIZE - BH_TSHM_PAD)
        return 0xffffffffu; /* simple-shm paints its padding white */
    int r2 = (x - halfw) * (x - halfw) + (y - halfh) * (y - halfh);
    uint32_t v;
    if (r2 < ir)
        v = ((uint32_t)(r2 / 32) + t16 / 4) * 0x0080401u;
    else if (r2 < or)
        v = ((uint32_t)y + t16 / 2) * 0x0080401u;
    else
        v = ((uint32_t)x + t16) * 0x0080401u;
    return (v & 0x00ffffffu) | 0xff000000u;
}

static bool frame_matches(const struct bh_tdom0_win *w, uint32_t t16)
{
    for (int y = 0; y < BH_TSHM_SIZE; y++)
        for (int x = 0; x < BH_TSHM_SIZE; x++)
            if (bh_tdom0_pixel(w, (uint32_t)x, (uint32_t)y) != expected(x, y, t16))
                return false;
    return true;
}

/* Recover the frame time from the top-left painted pixel (outer region:
 * v = (x + t/16) * 0x80401 mod 2^24) and check the whole buffer. t/16 is
 * known modulo 2^24 only; t < 2^32 leaves 16 candidates. */
bool bh_tshm_check_frame(const struct bh_tdom0_win *w, uint32_t *t16_out)
{
    uint32_t v = bh_tdom0_pixel(w, BH_TSHM_PAD, BH_TSHM_PAD) & 0xffffff;
    uint32_t n = (v * inverse_mod24(0x0080401u)) & 0xffffff;
    uint32_t low = (n - BH_TSHM_PAD) & 0xffffff;
    for (uint32_t k = 0; k < 16; k++) {
        uint32_t t16 = low + (k << 24);
        if (frame_matches(w, t16)) {
            *t16_out = t16;
            return true;
        }
    }
    return false;
}

void bh_tshm_dump(const struct bh_tdom0_win *w)
{
    for (int y = 0; y < BH_TSHM_SIZE; y += 50)
        fprintf(stderr, "row %3d: %08x %08x %08x %08x\n", y, bh_tdom0_pixel(w, 0, (uint32_t)y),
                bh_tdom0_pixel(w, 30, (uint32_t)y), bh_tdom0_pixel(w, 125, (uint32_t)y),
                bh_tdom0_pixel(w, 220, (uint32_t)y));
}
