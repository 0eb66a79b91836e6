/* clip-png.c — PNG to pixels and back for the clipboard; see clip-png.h.
 *
 * libpng's own limits are set before its first read (width and height, the
 * size of any one chunk, the number of ancillary chunks kept), so a hostile
 * or broken PNG from an app ends in an error, never in a large allocation;
 * the pixel buffer is sized from checked numbers only. */
#include "clip-png.h"

#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/gui-protocol.h"

/* Ancillary chunks (text, ICC profiles…) are not wanted, but libpng reads
 * them: bounded so one cannot make it allocate much. */
#define CHUNK_MAX_BYTES (1024u * 1024u)
#define CHUNKS_KEPT     32u
/* zlib's fastest level and one fixed row filter (Up) instead of libpng's
 * per-row choice among all five: pixel-exact all the same, and the
 * 1920x1080 image of bench/clipboard encodes in about half the time
 * (measured 110-170 ms against 260-410 ms on the loaded 2-core test
 * machine), to a third of the size. */
#define ENCODE_LEVEL  1
#define ENCODE_FILTER PNG_FILTER_UP

struct png_err {
    char *why;
    size_t cap;
};

static void say(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    if (why == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_err *e = png_get_error_ptr(png);
    if (e != NULL)
        say(e->why, e->cap, "PNG: %s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    /* Warnings are about chunks the pixels do not depend on. */
    (void)png;
    (void)msg;
}

/* ---- decode ------------------------------------------------------------------ */

struct reader {
    const uint8_t *p;
    size_t len, off;
};

static void read_fn(png_structp png, png_bytep out, size_t n)
{
    struct reader *r = png_get_io_ptr(png);
    if (n > r->len - r->off)
        png_error(png, "the data ends inside the image");
    memcpy(out, r->p + r->off, n);
    r->off += n;
}

int bh_clip_png_decode(const uint8_t *data, size_t len, struct bh_clip_pixels *out, char *why, size_t why_cap)
{
    struct png_err err = {why, why_cap};
    struct reader rd = {data, len, 0};
    png_structp png = NULL;
    png_infop info = NULL;
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile int rc = -1;

    memset(out, 0, sizeof *out);
    if (len > BH_CLIP_PNG_MAX_BYTES) {
        say(why, why_cap, "PNG of %zu bytes: over %u", len, BH_CLIP_PNG_MAX_BYTES);
        return -1;
    }
    if (len < 8 || png_sig_cmp(data, 0, 8) != 0) {
        say(why, why_cap, "not a PNG (no signature)");
        return -1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, on_error, on_warning);
    if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
        say(why, why_cap, "out of memory");
        goto out;
    }
    if (setjmp(png_jmpbuf(png)))
        goto out; /* on_error said why */
    png_set_read_fn(png, &rd, read_fn);
    png_set_user_limits(png, BH_MAX_CLIPBOARD_IMAGE_SIDE, BH_MAX_CLIPBOARD_IMAGE_SIDE);
    png_set_chunk_malloc_max(png, CHUNK_MAX_BYTES);
    png_set_chunk_cache_max(png, CHUNKS_KEPT);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, colour = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &colour, NULL, NULL, NULL);
    if (w == 0 || h == 0 || w > BH_MAX_CLIPBOARD_IMAGE_SIDE || h > BH_MAX_CLIPBOARD_IMAGE_SIDE) {
        say(why, why_cap, "PNG of %ux%u: the clipboard takes 1..%u a side", (unsigned)w, (unsigned)h,
            BH_MAX_CLIPBOARD_IMAGE_SIDE);
        goto out;
    }
    /* Everything to 8-bit R, G, B, A, with no gamma or colour handling: the
     * pixels arrive as the file has them. */
    bool has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    if (colour == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (colour == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (has_trns)
        png_set_tRNS_to_alpha(png);
    if (depth == 16)
        png_set_strip_16(png);
    if (colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    if (!(colour & PNG_COLOR_MASK_ALPHA) && !has_trns)
        png_set_filler(png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * BH_BYTES_PER_PIXEL) {
        say(why, why_cap, "PNG rows of %zu bytes after expansion, not %u",
            (size_t)png_get_rowbytes(png, info), (unsigned)w * BH_BYTES_PER_PIXEL);
        goto out;
    }

    size_t stride = (size_t)w * BH_BYTES_PER_PIXEL;
    pixels = malloc(stride * h); /* at most 64 MiB: both sides checked above */
    rows = malloc(sizeof(png_bytep) * h);
    if (pixels == NULL || rows == NULL) {
        say(why, why_cap, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
        goto out;
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = pixels + y * stride;
    png_read_image(png, rows);

    out->width = w;
    out->height = h;
    out->stride = (uint32_t)stride;
    out->data = pixels;
    pixels = NULL;
    rc = 0;
out:
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    free(rows);
    free(pixels);
    return rc;
}

/* ---- encode ------------------------------------------------------------------ */

struct writer {
    uint8_t *p;
    size_t len, cap;
};

static void write_fn(png_structp png, png_bytep in, size_t n)
{
    struct writer *w = png_get_io_ptr(png);
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 64 * 1024;
        while (n > cap - w->len) {
            if (cap > SIZE_MAX / 2)
                png_error(png, "encoded image too large");
            cap *= 2;
        }
        uint8_t *np = realloc(w->p, cap);
        if (np == NULL)
            png_error(png, "out of memory");
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->len, in, n);
    w->len += n;
}

static void flush_fn(png_structp png)
{
    (void)png;
}

int bh_clip_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t stride, uint8_t **out,
                       size_t *out_len)
{
    struct writer wr = {0};
    png_structp png = NULL;
    png_infop info = NULL;
    volatile int rc = -1;

    *out = NULL;
    *out_len = 0;
    if (width == 0 || height == 0 || width > BH_MAX_CLIPBOARD_IMAGE_SIDE ||
        height > BH_MAX_CLIPBOARD_IMAGE_SIDE || stride < (uint64_t)width * BH_BYTES_PER_PIXEL)
        return -1;
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, on_error, on_warning);
    if (png == NULL || (info = png_create_info_struct(png)) == NULL)
        goto out;
    if (setjmp(png_jmpbuf(png)))
        goto out;
    png_set_write_fn(png, &wr, write_fn, flush_fn);
    png_set_compression_level(png, ENCODE_LEVEL);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, ENCODE_FILTER);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    png_write_end(png, NULL);
    *out = wr.p;
    *out_len = wr.len;
    wr.p = NULL;
    rc = 0;
out:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(wr.p);
    return rc;
}
