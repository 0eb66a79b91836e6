/* escape-filter.c — see bulkhead/escape-filter.h. Pure: no I/O, no
 * allocation. */
#include "bulkhead/escape-filter.h"

#include "bulkhead/text.h"

#define BH_REPLACEMENT '_'

void bh_escape_filter_init(BhEscapeFilter *f)
{
    f->n_held = 0;
    f->need = 0;
}

/* The range the byte after a lead byte may take (RFC 3629): excludes
 * overlong forms, surrogates and code points beyond U+10FFFF. */
static int bh_second_ok(uint8_t lead, uint8_t c)
{
    switch (lead) {
    case 0xe0:
        return c >= 0xa0 && c <= 0xbf;
    case 0xed:
        return c >= 0x80 && c <= 0x9f;
    case 0xf0:
        return c >= 0x90 && c <= 0xbf;
    case 0xf4:
        return c >= 0x80 && c <= 0x8f;
    default:
        return c >= 0x80 && c <= 0xbf;
    }
}

/* The code point of a complete, valid sequence held. */
static uint32_t bh_decode_held(const BhEscapeFilter *f)
{
    uint32_t cp = f->held[0] & (0x7f >> f->need);
    for (uint8_t k = 1; k < f->need; k++)
        cp = (cp << 6) | (f->held[k] & 0x3f);
    return cp;
}

static uint8_t bh_sequence_length(uint8_t lead)
{
    if (lead >= 0xc2 && lead <= 0xdf)
        return 2;
    if (lead >= 0xe0 && lead <= 0xef)
        return 3;
    if (lead >= 0xf0 && lead <= 0xf4)
        return 4;
    return 0; /* a continuation byte, C0/C1 overlong leads, F5..FF */
}

/* What is held could not be completed: one '_' per byte, so a reader can
 * still count what was there. */
static size_t bh_drop_held(BhEscapeFilter *f, uint8_t *out)
{
    size_t n = f->n_held;
    for (size_t i = 0; i < n; i++)
        out[i] = BH_REPLACEMENT;
    f->n_held = 0;
    f->need = 0;
    return n;
}

size_t bh_escape_filter_feed(BhEscapeFilter *f, const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (f->n_held > 0 && f->need == 0) {
            /* A CR: harmless only as the first half of a line end. */
            f->n_held = 0;
            if (c == '\n') {
                out[o++] = '\r';
                out[o++] = '\n';
                continue;
            }
            out[o++] = BH_REPLACEMENT;
        } else if (f->n_held > 0) {
            int ok = f->n_held == 1 ? bh_second_ok(f->held[0], c) : (c >= 0x80 && c <= 0xbf);
            if (ok) {
                f->held[f->n_held++] = c;
                if (f->n_held < f->need)
                    continue;
                /* The C1 controls U+0080..U+009F (CSI, OSC, ...), bidi
                 * controls and invisible characters: one mark each. */
                if (bh_gui_text_char_dropped(bh_decode_held(f))) {
                    out[o++] = BH_REPLACEMENT;
                } else {
                    for (uint8_t k = 0; k < f->need; k++)
                        out[o++] = f->held[k];
                }
                f->n_held = 0;
                f->need = 0;
                continue;
            }
            o += bh_drop_held(f, out + o);
        }
        if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
            out[o++] = c;
        } else if (c == '\r') {
            f->held[0] = c;
            f->n_held = 1;
            f->need = 0;
        } else if (c >= 0x80 && (f->need = bh_sequence_length(c)) != 0) {
            f->held[0] = c;
            f->n_held = 1;
        } else {
            out[o++] = BH_REPLACEMENT;
        }
    }
    return o;
}

size_t bh_escape_filter_finish(BhEscapeFilter *f, uint8_t *out)
{
    return bh_drop_held(f, out);
}
