/* text.h — the text rules of core/wire (text.c): what counts as valid UTF-8
 * on the wire, and which characters dom0 may show of what a qube names
 * (window titles, app ids, the RPC's exit messages).
 *
 * Their names are the GUI protocol's, where they were born (core/proto).
 * Must never: depend on anything but libc. */
#ifndef BULKHEAD_TEXT_H
#define BULKHEAD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* bh_gui_utf8_check: the offset of the first byte that is not part of valid
 * UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF),
 * or len when all of s[0..len) is valid.
 * bh_gui_text_sanitize: copies valid UTF-8 from in[0..len) to out, dropping
 * the characters a window title must not carry (controls, bidi overrides,
 * invisible format characters; list in docs/gui-protocol.md), and
 * NUL-terminates it. Needs cap > len. Returns the bytes written (without the
 * NUL), or -1 if the input is not valid UTF-8 or cap is too small. out may
 * be in itself (sanitising in place). Both protocols use it for what dom0
 * shows: titles, app ids, the RPC's exit messages. */
size_t bh_gui_utf8_check(const uint8_t *s, size_t len);
long bh_gui_text_sanitize(const uint8_t *in, size_t len, char *out, size_t cap);
bool bh_gui_text_char_dropped(uint32_t cp);

/* bh_gui_text_tidy: what a title shows, from sanitised text s[0..len), in
 * place: runs of blank-looking characters (bh_gui_text_char_blank) become one
 * space and leading/trailing ones go, enclosing marks go (except the keycap),
 * and at most BH_GUI_MAX_MARKS_IN_A_ROW generic combining marks stay on one
 * character. NUL-terminates at the returned length (<= len; s needs len + 1
 * bytes). */
#define BH_GUI_MAX_MARKS_IN_A_ROW 3
size_t bh_gui_text_tidy(char *s, size_t len);
bool bh_gui_text_char_blank(uint32_t cp);

/* bh_text_user_name_ok: whether s[0..len) is a user name dom0 accepts for a
 * qube (the model's default_user, the user of an RPC EXEC): 1 to
 * BH_TEXT_MAX_USER_BYTES bytes, a lower-case ASCII letter or '_' first, then
 * lower-case letters, digits, '_' or '-' (the portable subset useradd accepts
 * by default; nothing a shell, a path or a log line could misread). One rule
 * for both, so a name the model stores is always one the RPC carries. */
#define BH_TEXT_MAX_USER_BYTES 32u
bool bh_text_user_name_ok(const char *s, size_t len);

#endif /* BULKHEAD_TEXT_H */
