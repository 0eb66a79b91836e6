/* bh-escape-filter.h — what a qube's output may put on a dom0 terminal.
 *
 * Owns one pure, streaming filter: bytes a qube wrote (qvm-run -p output) in,
 * bytes safe to show on a terminal out. Kept: printable ASCII, tab, newline,
 * carriage return only as part of CR LF, and well-formed UTF-8 of printable
 * code points. Replaced by '_', each: every other C0 control (ESC first: no
 * escape sequence can start, so no title, clipboard, cursor or colour change),
 * DEL, C1 controls (raw or UTF-8 encoded), a lone CR (it would move the cursor
 * back over what was shown), and every byte of malformed UTF-8 (overlong,
 * surrogates, beyond U+10FFFF, truncated). A sequence split across two feeds
 * is judged whole, so chunking never changes the output.
 *
 * It must never allocate, fail, or keep anything between streams but the
 * small state below; libc-free so the fuzz target builds it alone.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Bytes a feed may write beyond its input's length (held-back bytes of the
 * previous feed); finish writes at most this many. */
#define BH_ESCAPE_FILTER_SLACK 8

typedef struct {
    uint8_t held[4]; /* the start of a UTF-8 sequence, or a CR, not yet judged */
    uint8_t n_held;
    uint8_t need; /* length of the sequence held (0: a CR, or nothing) */
} BhEscapeFilter;

void bh_escape_filter_init(BhEscapeFilter *f);
/* Filters n bytes of in into out (room for n + BH_ESCAPE_FILTER_SLACK);
 * returns the bytes written. */
size_t bh_escape_filter_feed(BhEscapeFilter *f, const uint8_t *in, size_t n, uint8_t *out);
/* End of the stream: what is still held was cut short. */
size_t bh_escape_filter_finish(BhEscapeFilter *f, uint8_t *out);
