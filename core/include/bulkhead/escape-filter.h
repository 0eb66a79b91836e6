/* escape-filter.h — what another qube's text may put on a terminal: the one
 * filter for it, in dom0 (qvm-run's output, core/cli) and in a qube (a call's
 * service stderr on the caller's terminal: qvm-copy, qvm-open-in-vm,
 * core/filecopy/fc-call.c).
 *
 * Owns one pure, streaming filter: bytes a qube wrote in, bytes safe to show
 * on a terminal out. Kept: printable ASCII, tab, newline, carriage return
 * only as part of CR LF, and well-formed UTF-8 of characters a title may
 * show (bh_gui_text_char_dropped, text.h). Replaced by '_', each: every other
 * C0 control (ESC first: no escape sequence can start, so no title,
 * clipboard, cursor or colour change), DEL, C1 controls (raw or UTF-8
 * encoded), a lone CR (it would move the cursor back over what was shown),
 * each bidi embedding, override, isolate or mark and each invisible or
 * line-breaking character (one '_' per character: they could reorder or hide
 * what follows on the line, dom0's prompt included), and every byte of
 * malformed UTF-8 (overlong, surrogates, beyond U+10FFFF, truncated). A
 * sequence split across two feeds is judged whole, so chunking never changes
 * the output; what it lets through it lets through again unchanged.
 *
 * It must never allocate, fail, or keep anything between streams but the
 * small state below; libc only (core/wire), so the fuzz target builds it
 * with text.c alone. */
#ifndef BULKHEAD_ESCAPE_FILTER_H
#define BULKHEAD_ESCAPE_FILTER_H

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
/* Filters n bytes of in into out (room for n + BH_ESCAPE_FILTER_SLACK; not
 * overlapping in); returns the bytes written. */
size_t bh_escape_filter_feed(BhEscapeFilter *f, const uint8_t *in, size_t n, uint8_t *out);
/* End of the stream: what is still held was cut short. */
size_t bh_escape_filter_finish(BhEscapeFilter *f, uint8_t *out);

#endif /* BULKHEAD_ESCAPE_FILTER_H */
