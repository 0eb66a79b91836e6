/* test-wire.c — unit tests of core/wire, the layer both wire protocols
 * stand on, through a toy protocol of three types (exact, bounded, in
 * steps) so every rule is checked apart from either real table: framing
 * asks for more bytes on every prefix and refuses a bad header before its
 * body arrives; type, direction, id class and length are each refused with
 * their class and a reason that names the message; the encoder never
 * writes a frame the decoder would refuse; text is UTF-8 without NUL;
 * reasons stay bounded whatever the detail. Each refusal has its control:
 * the same message with the one fault removed is accepted.
 *
 * Must never: test through anything but bulkhead/wire.h. */
#include <glib.h>
#include <string.h>

#include "bulkhead/wire.h"

enum { T_PING = 1, T_DATA = 2, T_RECTS = 3, T_BLOB = 4, T_ABSENT = 9 };

static const struct bh_wire_type toy_types[] = {
    {T_PING, "PING", BH_WIRE_FROM_AGENT | BH_WIRE_FROM_DOM0, true, 4, 4, 0},
    {T_DATA, "DATA", BH_WIRE_FROM_AGENT, false, 0, 8, 1},
    {T_RECTS, "RECTS", BH_WIRE_FROM_DOM0, false, 4, 20, 8},
    /* Longer than toy.max_body: only the encoder's bound on parts stops it. */
    {T_BLOB, "BLOB", BH_WIRE_FROM_AGENT | BH_WIRE_FROM_DOM0, true, 0, 1000, 1},
};

static const struct bh_wire_type *toy_type(uint32_t type)
{
    for (size_t i = 0; i < G_N_ELEMENTS(toy_types); i++)
        if (toy_types[i].type == type)
            return &toy_types[i];
    return NULL;
}

static void toy_unknown(char *reason, size_t cap, uint32_t type)
{
    bh_wire_reason(reason, cap, "toy type %u unknown", type);
}

static const struct bh_wire_protocol toy = {
    .id_word = "thing",
    .max_id = 100,
    .max_body = 64,
    .type_info = toy_type,
    .unknown_type = toy_unknown,
};

/* A raw header + body, as a hostile peer may write it. */
static size_t raw(uint8_t *buf, uint32_t type, uint32_t id, uint32_t len, const void *body, size_t body_len)
{
    struct bh_wire_hdr h = {type, id, len};
    memcpy(buf, &h, sizeof h);
    if (body_len)
        memcpy(buf + sizeof h, body, body_len);
    return sizeof h + body_len;
}

static enum bh_wire_err frame(const uint8_t *buf, size_t len, unsigned dir, struct bh_wire_frame *f,
                              char *reason)
{
    return bh_wire_frame(&toy, buf, len, dir, f, reason, BH_WIRE_REASON_BYTES);
}

static void test_prefixes(void)
{
    uint8_t buf[64];
    char reason[BH_WIRE_REASON_BYTES];
    struct bh_wire_frame f;
    size_t n = raw(buf, T_DATA, 7, 5, "hello", 5);

    /* Control: the whole message frames, with its fields. */
    g_assert_cmpint(frame(buf, n, BH_WIRE_FROM_AGENT, &f, reason), ==, BH_WIRE_OK);
    g_assert_cmpstr(f.type->name, ==, "DATA");
    g_assert_cmpuint(f.id, ==, 7);
    g_assert_cmpuint(f.body_len, ==, 5);
    g_assert_true(f.body == buf + BH_WIRE_HDR_BYTES);
    g_assert_cmpuint(f.size, ==, n);
    g_assert_cmpstr(reason, ==, "");
    /* Every prefix only asks for more. */
    for (size_t i = 0; i < n; i++)
        g_assert_cmpint(frame(buf, i, BH_WIRE_FROM_AGENT, &f, reason), ==, BH_WIRE_E_SHORT);
    frame(buf, 3, BH_WIRE_FROM_AGENT, &f, reason);
    g_assert_cmpstr(reason, ==, "need 12 header bytes, have 3");
    frame(buf, 14, BH_WIRE_FROM_AGENT, &f, reason);
    g_assert_cmpstr(reason, ==, "need 5 body bytes, have 2");
    /* No reason wanted: nothing is written anywhere. */
    g_assert_cmpint(bh_wire_frame(&toy, buf, 3, BH_WIRE_FROM_AGENT, &f, NULL, 0), ==, BH_WIRE_E_SHORT);
}

static void test_header_refused_before_body(void)
{
    uint8_t buf[64];
    char reason[BH_WIRE_REASON_BYTES];
    struct bh_wire_frame f;

    /* A header announcing a body too long for DATA: refused with the
     * header alone, not waited for. Control: 8 bytes announced only asks
     * for more. */
    raw(buf, T_DATA, 1, 8, NULL, 0);
    g_assert_cmpint(frame(buf, BH_WIRE_HDR_BYTES, BH_WIRE_FROM_AGENT, &f, reason), ==, BH_WIRE_E_SHORT);
    raw(buf, T_DATA, 1, 0xffffffffu, NULL, 0);
    g_assert_cmpint(frame(buf, BH_WIRE_HDR_BYTES, BH_WIRE_FROM_AGENT, &f, reason), ==, BH_WIRE_E_LENGTH);
    g_assert_cmpstr(reason, ==, "DATA thing 1: body length 4294967295, must be 0..8");
}

struct bad {
    const char *name;
    unsigned dir;
    uint32_t type, id, len;
    enum bh_wire_err code;
    const char *reason;
};

static void test_header_rules(void)
{
    static const struct bad cases[] = {
        {"control ping", BH_WIRE_FROM_DOM0, T_PING, 0, 4, BH_WIRE_OK, ""},
        {"control rects", BH_WIRE_FROM_DOM0, T_RECTS, 100, 12, BH_WIRE_OK, ""},
        {"direction 3", 3, T_PING, 0, 4, BH_WIRE_E_TYPE, "decoder called with unknown direction 3"},
        {"direction 0", 0, T_PING, 0, 4, BH_WIRE_E_TYPE, "decoder called with unknown direction 0"},
        {"unknown type", BH_WIRE_FROM_DOM0, T_ABSENT, 0, 4, BH_WIRE_E_TYPE, "toy type 9 unknown"},
        {"wrong direction", BH_WIRE_FROM_DOM0, T_DATA, 1, 0, BH_WIRE_E_TYPE,
         "DATA sent by dom0: wrong direction"},
        {"conn with id", BH_WIRE_FROM_AGENT, T_PING, 5, 4, BH_WIRE_E_ID,
         "PING thing 5: connection-wide message needs thing 0"},
        {"id 0", BH_WIRE_FROM_AGENT, T_DATA, 0, 0, BH_WIRE_E_ID,
         "DATA thing 0: thing id out of range 1..100"},
        {"id past max", BH_WIRE_FROM_DOM0, T_RECTS, 101, 4, BH_WIRE_E_ID,
         "RECTS thing 101: thing id out of range 1..100"},
        {"exact too long", BH_WIRE_FROM_AGENT, T_PING, 0, 5, BH_WIRE_E_LENGTH,
         "PING thing 0: body length 5, must be exactly 4"},
        {"exact too short", BH_WIRE_FROM_AGENT, T_PING, 0, 3, BH_WIRE_E_LENGTH,
         "PING thing 0: body length 3, must be exactly 4"},
        {"range too long", BH_WIRE_FROM_AGENT, T_DATA, 1, 9, BH_WIRE_E_LENGTH,
         "DATA thing 1: body length 9, must be 0..8"},
        {"off step", BH_WIRE_FROM_DOM0, T_RECTS, 1, 8, BH_WIRE_E_LENGTH,
         "RECTS thing 1: body length 8, must be 4..20 in steps of 8"},
        {"below min", BH_WIRE_FROM_DOM0, T_RECTS, 1, 0, BH_WIRE_E_LENGTH,
         "RECTS thing 1: body length 0, must be 4..20 in steps of 8"},
        {"past max on step", BH_WIRE_FROM_DOM0, T_RECTS, 1, 28, BH_WIRE_E_LENGTH,
         "RECTS thing 1: body length 28, must be 4..20 in steps of 8"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const struct bad *c = &cases[i];
        uint8_t hdr[BH_WIRE_HDR_BYTES];
        char reason[BH_WIRE_REASON_BYTES] = "not touched";
        uint32_t body_len = 12345;

        raw(hdr, c->type, c->id, c->len, NULL, 0);
        g_test_message("case %s", c->name);
        g_assert_cmpint(bh_wire_frame_check(&toy, hdr, c->dir, &body_len, reason, sizeof reason), ==,
                        c->code);
        g_assert_cmpstr(reason, ==, c->reason);
        g_assert_cmpuint(body_len, ==, c->code == BH_WIRE_OK ? c->len : 12345);
        /* The same verdict without a reason buffer. */
        g_assert_cmpint(bh_wire_frame_check(&toy, hdr, c->dir, &body_len, NULL, 0), ==, c->code);
    }
}

static void test_encode(void)
{
    uint8_t out[128];
    char reason[BH_WIRE_REASON_BYTES];
    struct bh_wire_frame f;
    const uint8_t four[4] = {1, 2, 3, 4}, big[80] = {0};
    struct bh_wire_part ping[] = {{four, 2}, {four + 2, 2}};
    size_t n;

    /* Control: parts are joined and the frame decodes. */
    n = bh_wire_encode(&toy, out, sizeof out, T_PING, 0, ping, 2);
    g_assert_cmpuint(n, ==, BH_WIRE_HDR_BYTES + 4);
    g_assert_cmpint(frame(out, n, BH_WIRE_FROM_AGENT, &f, reason), ==, BH_WIRE_OK);
    g_assert_cmpmem(f.body, f.body_len, four, 4);
    /* Never a frame the decoder refuses. */
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_ABSENT, 0, ping, 2), ==, 0);
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_PING, 1, ping, 2), ==, 0);
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_DATA, 0, ping, 1), ==, 0);
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_DATA, 101, ping, 1), ==, 0);
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_PING, 0, ping, 1), ==, 0);
    g_assert_cmpuint(bh_wire_encode(&toy, out, BH_WIRE_HDR_BYTES + 3, T_PING, 0, ping, 2), ==, 0);
    g_assert_cmpuint(bh_wire_encode(&toy, out, 5, T_PING, 0, ping, 2), ==, 0);
    /* A part longer than max_body (control: two parts of 40 pass), and a
     * part with a length and no data. */
    struct bh_wire_part halves[] = {{big, 40}, {big, 40}};
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_BLOB, 0, halves, 2), ==, BH_WIRE_HDR_BYTES + 80);
    struct bh_wire_part huge[] = {{big, 80}};
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_BLOB, 0, huge, 1), ==, 0);
    struct bh_wire_part null[] = {{NULL, 4}};
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_PING, 0, null, 1), ==, 0);
    /* Steps: 4 + 8 is a RECTS body, 4 + 4 is not. */
    struct bh_wire_part rects[] = {{big, 4}, {big, 8}};
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_RECTS, 3, rects, 2), ==, BH_WIRE_HDR_BYTES + 12);
    rects[1].len = 4;
    g_assert_cmpuint(bh_wire_encode(&toy, out, sizeof out, T_RECTS, 3, rects, 2), ==, 0);
}

static void test_text(void)
{
    size_t at = 99;

    g_assert_cmpint(bh_wire_text_check((const uint8_t *)"", 0, &at), ==, BH_WIRE_TEXT_OK);
    g_assert_cmpint(bh_wire_text_check((const uint8_t *)"gr\xc3\xbc\xc3\x9f", 6, &at), ==, BH_WIRE_TEXT_OK);
    /* Overlong '/', a surrogate, past U+10FFFF, a cut character. */
    g_assert_cmpint(bh_wire_text_check((const uint8_t *)"ab\xc0\xaf", 4, &at), ==, BH_WIRE_TEXT_UTF8);
    g_assert_cmpuint(at, ==, 2);
    g_assert_cmpint(bh_wire_text_check((const uint8_t *)"\xed\xa0\x80", 3, &at), ==, BH_WIRE_TEXT_UTF8);
    g_assert_cmpuint(at, ==, 0);
    g_assert_cmpint(bh_wire_text_check((const uint8_t *)"x\xf4\x90\x80\x80", 5, &at), ==, BH_WIRE_TEXT_UTF8);
    g_assert_cmpuint(at, ==, 1);
    g_assert_cmpint(bh_wire_text_check((const uint8_t *)"ok\xc3", 3, &at), ==, BH_WIRE_TEXT_UTF8);
    g_assert_cmpuint(at, ==, 2);
    /* A NUL would cut the text in every C-string API after us. */
    g_assert_cmpint(bh_wire_text_check((const uint8_t *)"ls\0-la", 6, &at), ==, BH_WIRE_TEXT_NUL);
    g_assert_cmpuint(at, ==, 2);
}

static void fail_msg(char *reason, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bh_wire_vreason_msg(reason, cap, "DATA", "thing", 42, fmt, ap);
    va_end(ap);
}

static void test_reasons(void)
{
    char reason[BH_WIRE_REASON_BYTES + 8];
    char detail[1000];

    fail_msg(reason, BH_WIRE_REASON_BYTES, "field %s is %d", "x", -1);
    g_assert_cmpstr(reason, ==, "DATA thing 42: field x is -1");
    /* A detail far longer than a reason is cut, within the bound. */
    memset(detail, 'z', sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    memset(reason, 0x55, sizeof reason);
    fail_msg(reason, BH_WIRE_REASON_BYTES, "%s", detail);
    g_assert_cmpuint(strlen(reason), ==, BH_WIRE_REASON_BYTES - 1);
    g_assert_true(g_str_has_prefix(reason, "DATA thing 42: zzz"));
    for (size_t i = BH_WIRE_REASON_BYTES; i < sizeof reason; i++)
        g_assert_cmpint((uint8_t)reason[i], ==, 0x55);
    /* No buffer, no write. */
    fail_msg(NULL, 0, "%s", "nothing");
    bh_wire_reason(NULL, 0, "%s", "nothing");
}

/* A decoder's verdict on a framed message: code and "TYPE thing ID: ..."
 * reach the error struct; a caller that wants no reason gets -1 alone. */
static void test_verdicts(void)
{
    const uint8_t body[4] = {0x05, 0x00, 0x01, 0x00}; /* version 1.5 */
    struct bh_wire_error err = {0};
    struct bh_wire_msg m = {.p = &toy, .dir = BH_WIRE_FROM_AGENT, .err = &err};
    uint8_t buf[64];
    size_t n = raw(buf, T_DATA, 42, sizeof body, body, sizeof body);

    g_assert_cmpint(bh_wire_frame(&toy, buf, n, BH_WIRE_FROM_AGENT, &m.f, err.reason, sizeof err.reason), ==,
                    BH_WIRE_OK);
    g_assert_cmpint(bh_wire_fail(&m, BH_WIRE_E_LIMIT, "field %s is %d", "x", -1), ==, -1);
    g_assert_cmpint(err.code, ==, BH_WIRE_E_LIMIT);
    g_assert_cmpstr(err.reason, ==, "DATA thing 42: field x is -1");
    /* A protocol's own code past core/wire's (the RPC's CREDIT) is kept. */
    g_assert_cmpint(bh_wire_fail(&m, BH_WIRE_E_VERSION + 1, "over"), ==, -1);
    g_assert_cmpuint((unsigned)err.code, ==, BH_WIRE_E_VERSION + 1);

    /* HELLO: the same major passes whatever the minor (control) and the
     * version is stored; another major is refused with both named. */
    uint32_t version = 0;
    memset(&err, 0, sizeof err);
    g_assert_cmpint(bh_wire_hello(&m, 1, 0, &version), ==, 0);
    g_assert_cmpuint(version, ==, 1u << 16 | 5);
    g_assert_cmpint(err.code, ==, BH_WIRE_OK);
    g_assert_cmpstr(err.reason, ==, "");
    const uint8_t v2[4] = {0x03, 0x00, 0x02, 0x00}; /* version 2.3 */
    n = raw(buf, T_DATA, 42, sizeof v2, v2, sizeof v2);
    g_assert_cmpint(bh_wire_frame(&toy, buf, n, BH_WIRE_FROM_AGENT, &m.f, NULL, 0), ==, BH_WIRE_OK);
    version = 0;
    g_assert_cmpint(bh_wire_hello(&m, 1, 4, &version), ==, -1);
    g_assert_cmpuint(version, ==, 0);
    g_assert_cmpint(err.code, ==, BH_WIRE_E_VERSION);
    g_assert_cmpstr(err.reason, ==,
                    "DATA thing 42: peer speaks protocol 2.3, this side 1.4 (major must match)");
    /* A body too short for a version (no table allows it; core/wire does
     * not rely on that). */
    n = raw(buf, T_DATA, 42, 2, v2, 2);
    g_assert_cmpint(bh_wire_frame(&toy, buf, n, BH_WIRE_FROM_AGENT, &m.f, NULL, 0), ==, BH_WIRE_OK);
    g_assert_cmpint(bh_wire_hello(&m, 2, 0, &version), ==, -1);
    g_assert_cmpint(err.code, ==, BH_WIRE_E_LENGTH);
    g_assert_cmpuint(version, ==, 0);

    /* No error struct: the same answers, nothing written. */
    m.err = NULL;
    g_assert_cmpint(bh_wire_fail(&m, BH_WIRE_E_VALUE, "%s", "nothing"), ==, -1);
    g_assert_cmpint(bh_wire_hello(&m, 1, 0, &version), ==, -1);
    g_assert_cmpint(bh_wire_verdict(NULL, BH_WIRE_E_SHORT), ==, BH_WIRE_E_SHORT);
    g_assert_cmpint(bh_wire_verdict(&err, BH_WIRE_E_TYPE), ==, BH_WIRE_E_TYPE);
    g_assert_cmpint(err.code, ==, BH_WIRE_E_TYPE);
}

/* One user-name rule for the model and the RPC: the edges of length and of
 * each character class, so a change to either side fails here. */
static void test_user_name(void)
{
    char name[BH_TEXT_MAX_USER_BYTES + 2];

    g_assert_true(bh_text_user_name_ok("user", 4));
    g_assert_true(bh_text_user_name_ok("_a-1", 4));
    g_assert_true(bh_text_user_name_ok("a", 1));
    g_assert_false(bh_text_user_name_ok("", 0)); /* the model needs a name */
    g_assert_false(bh_text_user_name_ok("1user", 5));
    g_assert_false(bh_text_user_name_ok("-x", 2));
    g_assert_false(bh_text_user_name_ok("a b", 3));
    g_assert_false(bh_text_user_name_ok("User", 4));
    g_assert_false(bh_text_user_name_ok("a/b", 3));
    g_assert_false(bh_text_user_name_ok("a\nb", 3));
    g_assert_false(bh_text_user_name_ok("\xc3\xbc", 2));
    g_assert_false(bh_text_user_name_ok("ab\0c", 4)); /* the length counts, not the NUL */
    memset(name, 'a', sizeof name);
    g_assert_true(bh_text_user_name_ok(name, BH_TEXT_MAX_USER_BYTES));
    g_assert_false(bh_text_user_name_ok(name, BH_TEXT_MAX_USER_BYTES + 1));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wire/prefixes", test_prefixes);
    g_test_add_func("/wire/header-refused-before-body", test_header_refused_before_body);
    g_test_add_func("/wire/header-rules", test_header_rules);
    g_test_add_func("/wire/encode", test_encode);
    g_test_add_func("/wire/text", test_text);
    g_test_add_func("/wire/reasons", test_reasons);
    g_test_add_func("/wire/verdicts", test_verdicts);
    g_test_add_func("/wire/user-name", test_user_name);
    return g_test_run();
}
