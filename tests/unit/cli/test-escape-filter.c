/* test-escape-filter.c — the filter for another qube's text on a terminal
 * (core/wire/escape-filter.c: qvm-run's output, a call's stderr in the
 * caller's qube) on what a hostile qube prints: terminal title and clipboard
 * escapes, screen clearing, a fake prompt drawn over the line, C1 controls
 * raw and in UTF-8, bidi controls and invisible characters, malformed UTF-8;
 * and that real text (UTF-8, CR LF, tabs) passes, whatever the chunking. */
#include <glib.h>
#include <string.h>

#include "bulkhead/escape-filter.h"

/* The whole input in chunks of `chunk` bytes (0: at once). */
static char *filter_chunked(const char *in, gsize n, gsize chunk)
{
    BhEscapeFilter f;
    GString *out = g_string_new(NULL);
    guint8 buf[64 + BH_ESCAPE_FILTER_SLACK];
    bh_escape_filter_init(&f);
    if (chunk == 0 || chunk > 64)
        chunk = 64;
    for (gsize i = 0; i < n; i += chunk) {
        gsize len = MIN(chunk, n - i);
        gsize o = bh_escape_filter_feed(&f, (const guint8 *)in + i, len, buf);
        g_assert_cmpuint(o, <=, len + BH_ESCAPE_FILTER_SLACK);
        g_string_append_len(out, (char *)buf, (gssize)o);
    }
    gsize o = bh_escape_filter_finish(&f, buf);
    g_assert_cmpuint(o, <=, BH_ESCAPE_FILTER_SLACK);
    g_string_append_len(out, (char *)buf, (gssize)o);
    return g_string_free(out, FALSE);
}

/* What may reach the terminal: no control byte but tab, newline and CR
 * before LF; valid UTF-8 without C1, bidi controls or invisible characters;
 * never longer than the input. */
static void assert_safe(const char *out, gsize in_len)
{
    gsize n = strlen(out);
    g_assert_cmpuint(n, <=, in_len);
    g_assert_true(g_utf8_validate(out, (gssize)n, NULL));
    for (gsize i = 0; i < n; i++) {
        guchar c = (guchar)out[i];
        g_assert_true(c >= 0x20 || c == '\t' || c == '\n' || (c == '\r' && out[i + 1] == '\n'));
        g_assert_cmpint(c, !=, 0x7f);
    }
    for (const char *p = out; *p; p = g_utf8_next_char(p)) {
        gunichar u = g_utf8_get_char(p);
        g_assert_false(u >= 0x80 && u <= 0x9f);
        g_assert_false((u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069));
        g_assert_false(u == 0x200e || u == 0x200f || u == 0x061c || u == 0x200b || u == 0xfeff ||
                       u == 0x2028 || u == 0x2029);
    }
}

/* Same output for every chunk size, and safe. */
static char *filter(const char *in, gsize n)
{
    char *whole = filter_chunked(in, n, 0);
    assert_safe(whole, n);
    for (gsize chunk = 1; chunk <= 7; chunk++) {
        g_autofree char *part = filter_chunked(in, n, chunk);
        g_assert_cmpstr(part, ==, whole);
    }
    return whole;
}

typedef struct {
    const char *what;
    const char *in;
    gsize len; /* 0: strlen */
    const char *want;
} Case;

static const Case cases[] = {
    {"plain text", "hello, world\n\tindented\n", 0, "hello, world\n\tindented\n"},
    {"OSC 0 window title", "\033]0;dom0 - root\007text\n", 0, "_]0;dom0 - root_text\n"},
    {"OSC 52 clipboard write", "\033]52;c;ZWNobyBwd25lZA==\033\\", 0, "_]52;c;ZWNobyBwd25lZA==_\\"},
    {"clear screen and home", "\033[2J\033[H", 0, "_[2J_[H"},
    {"fake prompt over the line", "done\r[root@dom0 ~]# ", 0, "done_[root@dom0 ~]# "},
    {"CR LF line ends pass", "one\r\ntwo\r\n", 0, "one\r\ntwo\r\n"},
    {"CR CR LF", "a\r\r\n", 0, "a_\r\n"},
    {"CR at the very end", "a\r", 0, "a_"},
    {"backspace, bell, NUL, DEL", "a\bb\007c\0d\177e", 9, "a_b_c_d_e"},
    {"UTF-8 text passes", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\n", 0,
     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\n"},
    {"raw C1 CSI byte",
     "\x9b"
     "31m",
     0, "_31m"},
    {"C1 CSI encoded in UTF-8",
     "\xc2\x9b"
     "2J",
     0, "_2J"},
    {"C1 OSC encoded in UTF-8",
     "\xc2\x9d"
     "0;x\xc2\x9c",
     0, "_0;x_"},
    {"U+00A0 is not C1", "\xc2\xa0", 0, "\xc2\xa0"},
    {"overlong ESC", "\xc0\x9b[2J", 0, "__[2J"},
    {"overlong three-byte", "\xe0\x80\x9b", 0, "___"},
    {"surrogate", "\xed\xa0\x80x", 0, "___x"},
    {"beyond U+10FFFF", "\xf4\x90\x80\x80", 0, "____"},
    {"lead bytes F5..FF", "\xf5\xff", 0, "__"},
    {"truncated sequence then ESC", "\xe2\x82\033[0m", 0, "___[0m"},
    {"truncated at the end", "ok\xf0\x9f\x98", 0, "ok___"},
    {"lone continuation bytes", "\x80\xbf", 0, "__"},
    /* What reorders or hides text on the line: one mark per character. */
    {"bidi override",
     "txt.\xe2\x80\xae"
     "exe",
     0, "txt._exe"},
    {"bidi isolates",
     "\xe2\x81\xa6"
     "isolate\xe2\x81\xa9",
     0, "_isolate_"},
    {"bidi marks",
     "\xe2\x80\x8f"
     "x\xd8\x9c",
     0, "_x_"},
    {"zero-width space and BOM",
     "a\xe2\x80\x8b"
     "b\xef\xbb\xbf",
     0, "a_b_"},
    {"line separator", "a\xe2\x80\xa8", 0, "a_"},
    {"emoji with a joiner passes", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb", 0,
     "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb"},
    {"combining accent passes", "e\xcc\x81", 0, "e\xcc\x81"},
};

static void test_case(gconstpointer data)
{
    const Case *c = data;
    gsize n = c->len ? c->len : strlen(c->in);
    g_autofree char *out = filter(c->in, n);
    g_assert_cmpstr(out, ==, c->want);
    /* What it lets through it lets through again. */
    g_autofree char *again = filter(out, strlen(out));
    g_assert_cmpstr(again, ==, out);
}

/* Every split of a mixed input into two feeds gives the whole's output. */
static void test_every_split(void)
{
    const char *in = "a\xc3\xa9\r\n\xf0\x9f\x98\x80\033]0;t\007\xc2\x9b\xe2\x82\xac\r";
    gsize n = strlen(in);
    g_autofree char *whole = filter_chunked(in, n, 0);
    for (gsize cut = 0; cut <= n; cut++) {
        BhEscapeFilter f;
        guint8 buf[64];
        GString *out = g_string_new(NULL);
        bh_escape_filter_init(&f);
        gsize o = bh_escape_filter_feed(&f, (const guint8 *)in, cut, buf);
        g_string_append_len(out, (char *)buf, (gssize)o);
        o = bh_escape_filter_feed(&f, (const guint8 *)in + cut, n - cut, buf);
        g_string_append_len(out, (char *)buf, (gssize)o);
        o = bh_escape_filter_finish(&f, buf);
        g_string_append_len(out, (char *)buf, (gssize)o);
        g_autofree char *got = g_string_free(out, FALSE);
        g_assert_cmpstr(got, ==, whole);
    }
}

/* Every byte value alone and after every lead byte: the output stays safe. */
static void test_all_bytes(void)
{
    for (guint lead = 0; lead < 256; lead++) {
        for (guint b = 0; b < 256; b++) {
            char in[3] = {(char)lead, (char)b, 'z'};
            g_autofree char *out = filter_chunked(in, 3, lead % 3 + 1);
            assert_safe(out, 3);
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/cli/escape-filter/%s", cases[i].what);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/cli/escape-filter/every-split", test_every_split);
    g_test_add_func("/cli/escape-filter/all-bytes", test_all_bytes);
    return g_test_run();
}
