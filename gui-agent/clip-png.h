/* clip-png.h — PNG to pixels and back for the clipboard, inside the qube.
 *
 * A copied image crosses qubes as raw pixels (BH_GUI_CLIPBOARD_IMAGE), never
 * as a file format dom0 would have to decode: the agent that copies decodes
 * the app's PNG here, in the qube the PNG came from, and the agent that
 * pastes encodes one here, in the qube that receives it.
 *
 * Owns: the libpng calls and their limits. Must never: allocate for an image
 * larger than BH_MAX_CLIPBOARD_IMAGE_SIDE a side before refusing it, apply a
 * gamma or colour transform (the pixels go through unchanged), or keep state
 * between calls. Pure: no I/O, so the fuzzer runs it as it is. */
#ifndef BH_AGENT_CLIP_PNG_H
#define BH_AGENT_CLIP_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Pixels in BH_GUI_CLIPBOARD_IMAGE_FORMAT (R, G, B, A bytes, straight alpha). */
struct bh_clip_pixels {
    uint32_t width, height, stride; /* stride = width * 4 */
    uint8_t *data;                  /* malloc'ed, stride * height bytes */
};

/* png[0..len) (at most BH_CLIP_PNG_MAX_BYTES) to pixels: any PNG colour type
 * and depth, expanded to 8-bit RGBA (grey copied to R, G and B; no alpha
 * becomes 255; 16-bit samples keep their high byte). 0 on success (out
 * filled; free out->data), -1 with a reason in why[0..why_cap). */
int bh_clip_png_decode(const uint8_t *png, size_t len, struct bh_clip_pixels *out, char *why, size_t why_cap);

/* pixels (rows of `stride` bytes) to an 8-bit RGBA PNG without gamma or
 * colour chunks. 0 on success (*png malloc'ed, *len its size), -1. */
int bh_clip_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t stride, uint8_t **png,
                       size_t *len);

/* The most the agent reads of an app's PNG: a 4096x4096 image that does not
 * compress at all, plus room for its chunks. */
#define BH_CLIP_PNG_MAX_BYTES (80u * 1024u * 1024u)

#endif /* BH_AGENT_CLIP_PNG_H */
