/* target.c — libFuzzer entry point for the filter of another qube's text on
 * a terminal (core/wire/escape-filter.c): qvm-run's output in dom0, a call's
 * service stderr on the caller's terminal in a qube (it replaced
 * bh_fc_clean_lines, whose target this one took over with its corpus, the
 * stderr-* files). Input: the first byte chooses the chunk size (1..64), the
 * rest is what a qube writes. Checks, aborting on violation: the output of
 * the chunked feed equals that of one feed, is never longer than the input,
 * and holds no control byte but tab, newline and CR before LF, no DEL, no
 * C1, no bidi embedding, override, isolate or mark, no zero-width or
 * line-separator character, and only well-formed UTF-8 (checked with a
 * decoder of its own, so the check does not trust the code it checks); and
 * filtering the output again changes nothing.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/escape-filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 65536

static size_t run(const uint8_t *in, size_t n, size_t chunk, uint8_t *out)
{
    BhEscapeFilter f;
    size_t o = 0;
    bh_escape_filter_init(&f);
    for (size_t i = 0; i < n; i += chunk) {
        size_t len = n - i < chunk ? n - i : chunk;
        size_t w = bh_escape_filter_feed(&f, in + i, len, out + o);
        if (w > len + BH_ESCAPE_FILTER_SLACK)
            abort();
        o += w;
    }
    size_t w = bh_escape_filter_finish(&f, out + o);
    if (w > BH_ESCAPE_FILTER_SLACK)
        abort();
    return o + w;
}

/* Characters that would reorder or hide text on the line: C1 controls, bidi
 * embeddings, overrides, isolates and marks, zero-width and separators. */
static int forbidden(uint32_t u)
{
    if (u >= 0x80 && u <= 0x9f)
        return 1;
    if ((u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069))
        return 1;
    return u == 0x200e || u == 0x200f || u == 0x061c || u == 0x200b || u == 0xfeff || u == 0x2028 ||
           u == 0x2029;
}

/* The safety property on the output alone (a small UTF-8 decoder of its own,
 * so the check does not trust the code it checks). */
static void check_safe(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == 0x7f ||
                (c < 0x20 && c != '\t' && c != '\n' && !(c == '\r' && i + 1 < n && p[i + 1] == '\n')))
                abort();
            i++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (len == 0 || i + len > n || c > 0xf4)
            abort();
        uint32_t u = c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                abort();
            u = (u << 6) | (p[i + k] & 0x3f);
        }
        uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff) || forbidden(u))
            abort();
        i += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t whole[MAX_INPUT + BH_ESCAPE_FILTER_SLACK * 2];
    static uint8_t chunked[MAX_INPUT + BH_ESCAPE_FILTER_SLACK * 2];
    static uint8_t again[MAX_INPUT + BH_ESCAPE_FILTER_SLACK * 2];
    if (size < 1 || size > MAX_INPUT)
        return 0;
    size_t chunk = (size_t)(data[0] % 64) + 1;
    data++;
    size--;
    size_t a = run(data, size, size ? size : 1, whole);
    size_t b = run(data, size, chunk, chunked);
    if (a != b || memcmp(whole, chunked, a) != 0 || a > size)
        abort();
    check_safe(whole, a);
    if (run(whole, a, a ? a : 1, again) != a || memcmp(again, whole, a) != 0)
        abort();
    return 0;
}
