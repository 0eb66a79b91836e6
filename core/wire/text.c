/* text.c — strict UTF-8 validation and the title sanitiser of the GUI
 * protocol.
 *
 * Owns: what counts as valid UTF-8 on the wire and which characters a window
 * title or app id may carry to dom0's screen.
 * Must never: allocate, read outside [in, in + len), write past cap, or
 * "repair" invalid input (invalid text is rejected, not guessed at). */
#include <string.h>

#include "bulkhead/text.h"

/* Decodes one scalar value at s[0..len). Returns its length in bytes (1..4),
 * or 0 when the bytes there are not a complete, shortest-form encoding of a
 * Unicode scalar value. The second-byte ranges below are what excludes
 * overlongs (E0, F0), surrogates (ED) and values past U+10FFFF (F4). */
static size_t utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
    uint8_t b0 = s[0];
    uint8_t lo = 0x80, hi = 0xbf;
    size_t n;
    uint32_t c;

    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        n = 2;
        c = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        n = 3;
        c = b0 & 0x0f;
        if (b0 == 0xe0)
            lo = 0xa0;
        else if (b0 == 0xed)
            hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        n = 4;
        c = b0 & 0x07;
        if (b0 == 0xf0)
            lo = 0x90;
        else if (b0 == 0xf4)
            hi = 0x8f;
    } else {
        return 0; /* stray continuation byte, C0/C1 overlong lead, F5..FF */
    }
    if (len < n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    c = (c << 6) | (s[1] & 0x3f);
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    *cp = c;
    return n;
}

size_t bh_gui_utf8_check(const uint8_t *s, size_t len)
{
    size_t off = 0;
    uint32_t cp;

    while (off < len) {
        size_t n = utf8_next(s + off, len - off, &cp);
        if (n == 0)
            return off;
        off += n;
    }
    return len;
}

/* A title is drawn by dom0 next to the "[qube]" prefix the guest must not be
 * able to forge or visually detach. So it loses everything that is invisible
 * or that reorders, breaks or hides text: Unicode's Default_Ignorable code
 * points (minus the joiners and selectors real scripts and emoji need),
 * controls, line breaks, annotation marks and noncharacters. Combining marks,
 * ZWJ/ZWNJ and variation selectors stay: dropping them would garble Arabic,
 * Indic and emoji text without removing any spoofing power. */
bool bh_gui_text_char_dropped(uint32_t c)
{
    /* C0 controls (newline and tab included), DEL, C1 controls. */
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return true;
    switch (c) {
    case 0x00ad: /* soft hyphen: invisible unless the line breaks there */
    case 0x061c: /* arabic letter mark (bidi) */
    case 0x115f: /* hangul choseong filler */
    case 0x1160: /* hangul jungseong filler */
    case 0x17b4: /* khmer inherent vowels: render as nothing */
    case 0x17b5:
    case 0x180e: /* mongolian vowel separator */
    case 0x200b: /* zero width space */
    case 0x200e: /* left-to-right mark */
    case 0x200f: /* right-to-left mark */
    case 0x2028: /* line separator */
    case 0x2029: /* paragraph separator */
    case 0x3164: /* hangul filler */
    case 0xfeff: /* zero width no-break space / BOM */
    case 0xffa0: /* halfwidth hangul filler */
        return true;
    default:
        break;
    }
    /* bidi embeddings and overrides: LRE RLE PDF LRO RLO */
    if (c >= 0x202a && c <= 0x202e)
        return true;
    /* word joiner, invisible operators, bidi isolates LRI RLI FSI PDI, and
     * the deprecated shaping/swapping controls */
    if (c >= 0x2060 && c <= 0x206f)
        return true;
    /* reserved default-ignorables and interlinear annotation marks */
    if (c >= 0xfff0 && c <= 0xfffb)
        return true;
    /* shorthand format controls, musical symbol format controls */
    if ((c >= 0x1bca0 && c <= 0x1bca3) || (c >= 0x1d173 && c <= 0x1d17a))
        return true;
    /* tag characters (can smuggle invisible ASCII) and the rest of the
     * default-ignorable plane-14 block, keeping variation selectors
     * U+E0100..U+E01EF */
    if ((c >= 0xe0000 && c <= 0xe00ff) || (c >= 0xe01f0 && c <= 0xe0fff))
        return true;
    /* noncharacters: never meant for interchange */
    if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
        return true;
    return false;
}

long bh_gui_text_sanitize(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t off = 0, w = 0;
    uint32_t cp;

    if (cap <= len)
        return -1;
    while (off < len) {
        size_t n = utf8_next(in + off, len - off, &cp);
        if (n == 0)
            return -1;
        if (!bh_gui_text_char_dropped(cp)) {
            /* w <= off always holds, so this never passes cap - 1, and
             * memmove makes sanitising in place (out == in) safe. */
            memmove(out + w, in + off, n);
            w += n;
        }
        off += n;
    }
    out[w] = '\0';
    return (long)w;
}

/* Characters that draw as empty space: every Unicode space separator (Zs)
 * and the braille blank, which fonts draw as nothing at all. A run of them
 * can push text a guest wants to hide out of view, or push a fake
 * "[work] Terminal" into the middle of the bar. */
bool bh_gui_text_char_blank(uint32_t c)
{
    return c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f ||
           c == 0x205f || c == 0x2800 || c == 0x3000;
}

/* Enclosing marks draw a circle, square or screen around what precedes them,
 * far outside the text's box; the keycap (U+20E3) stays: emoji keycap
 * sequences need it and it is no larger than its digit. */
static bool char_enclosing(uint32_t c)
{
    return c == 0x0488 || c == 0x0489 || c == 0x1abe || (c >= 0x20dd && c <= 0x20e0) || c == 0x20e2 ||
           c == 0x20e4 || (c >= 0xa670 && c <= 0xa672);
}

/* The script-independent combining blocks (diacritics and their supplements,
 * half marks): what "zalgo" text stacks dozens deep. Script-specific marks
 * (Indic, Arabic, Thai) are left alone; guid clips the title's drawing to its
 * box whatever the marks. */
static bool char_generic_mark(uint32_t c)
{
    return (c >= 0x0300 && c <= 0x036f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) ||
           (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f);
}

size_t bh_gui_text_tidy(char *s, size_t len)
{
    const uint8_t *in = (const uint8_t *)s;
    size_t off = 0, w = 0;
    unsigned marks = 0; /* generic marks in a row so far */
    bool blank_pending = false;
    uint32_t cp;

    while (off < len) {
        size_t n = utf8_next(in + off, len - off, &cp);
        if (n == 0)
            break; /* callers pass sanitised text; never guess past bad bytes */
        size_t at = off;
        off += n;
        if (bh_gui_text_char_blank(cp)) {
            /* Leading blanks go; a run becomes one space, written only when
             * something visible follows (so trailing blanks go too). */
            blank_pending = w > 0;
            marks = 0;
            continue;
        }
        if (char_enclosing(cp))
            continue;
        if (char_generic_mark(cp)) {
            if (marks >= BH_GUI_MAX_MARKS_IN_A_ROW)
                continue;
            marks++;
        } else {
            marks = 0;
        }
        if (blank_pending) {
            s[w++] = ' ';
            blank_pending = false;
        }
        /* w < off - n + 1 always: output never overtakes input. */
        memmove(s + w, in + at, n);
        w += n;
    }
    s[w] = '\0';
    return w;
}

bool bh_text_user_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > BH_TEXT_MAX_USER_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool lower = c >= 'a' && c <= 'z';
        bool digit = c >= '0' && c <= '9';
        if (!(lower || c == '_' || (i > 0 && (digit || c == '-'))))
            return false;
    }
    return true;
}
