/* target.c — libFuzzer entry point for the agent's clipboard PNG code
 * (gui-agent/clip-png.c): the input is what an app inside a qube offers as
 * image/png. Checks, aborting on violation: a decoded image is 1..4096 a
 * side with rows of exactly width * 4 bytes; encoding those pixels succeeds
 * and decoding the result gives the same size and the same bytes (what the
 * pasting agent encodes, an app reads back pixel for pixel).
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/gui-protocol.h"
#include "clip-png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bh_clip_pixels px, again;
    uint8_t *png = NULL;
    size_t png_len = 0;
    char why[160];

    if (bh_clip_png_decode(data, size, &px, why, sizeof why) < 0) {
        if (why[0] == '\0')
            abort(); /* every refusal says why */
        return 0;
    }
    if (px.width == 0 || px.height == 0 || px.width > BH_MAX_CLIPBOARD_IMAGE_SIDE ||
        px.height > BH_MAX_CLIPBOARD_IMAGE_SIDE || px.stride != px.width * 4u || px.data == NULL)
        abort();
    if (bh_clip_png_encode(px.data, px.width, px.height, px.stride, &png, &png_len) < 0)
        abort();
    if (bh_clip_png_decode(png, png_len, &again, why, sizeof why) < 0)
        abort();
    if (again.width != px.width || again.height != px.height ||
        memcmp(again.data, px.data, (size_t)px.stride * px.height) != 0)
        abort();
    free(again.data);
    free(png);
    free(px.data);
    return 0;
}
