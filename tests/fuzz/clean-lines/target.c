/* target.c — libFuzzer entry point for bh_fc_clean_lines (core/filecopy/
 * fc-codec.c): a target qube's stderr on the calling qube's terminal
 * (qvm-copy, qvm-open-in-vm). Input: what a target writes. Checks, aborting
 * on violation: the output is never longer than the input; it is
 * well-formed UTF-8 holding no control but tab and newline, no DEL, no C1,
 * no bidi embedding, override, isolate or mark, and no zero-width
 * character (checked with a decoder of its own, so the check does not trust
 * the code it checks); and cleaning it again changes nothing.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/filecopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 65536

static int forbidden(uint32_t u)
{
    if (u < 0x20)
        return u != '\t' && u != '\n';
    if (u >= 0x7f && u <= 0x9f)
        return 1;
    if ((u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069))
        return 1; /* bidi embeddings, overrides, isolates */
    return u == 0x200e || u == 0x200f || u == 0x061c || u == 0x200b || u == 0xfeff || u == 0x2028 ||
           u == 0x2029;
}

static void check_safe(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (len == 0 || i + len > n || c > 0xf4)
            abort();
        uint32_t u = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                abort();
            u = (u << 6) | (p[i + k] & 0x3f);
        }
        uint32_t min = len == 1 ? 0 : len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff) || forbidden(u))
            abort();
        i += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[MAX_INPUT], again[MAX_INPUT];
    if (size > MAX_INPUT)
        return 0;
    memcpy(buf, data, size);
    size_t n = bh_fc_clean_lines(buf, size);
    if (n > size)
        abort();
    check_safe(buf, n);
    memcpy(again, buf, n);
    if (bh_fc_clean_lines(again, n) != n || memcmp(again, buf, n) != 0)
        abort();
    return 0;
}
