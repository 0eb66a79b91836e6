/* test-rpc-codec.c — unit tests of libbh_rpc_proto: every case of
 * tests/fuzz/rpc/cases.c ends as its table says (valid conversations decode
 * to the end, each hostile one is rejected with its code and a reason naming
 * the rule); every message type round trips; every truncated prefix asks for
 * more bytes; the encoder refuses what the decoder would reject; the request
 * table follows EXEC/data/CREDIT/EXIT.
 *
 * The seed corpus of tests/fuzz/rpc is this table written out: the test
 * checks every valid-/invalid- file is byte for byte what its case builds
 * (so the fuzzer starts from what is asserted here), and
 *   test-rpc-codec --write-corpus tests/fuzz/rpc/corpus
 * rewrites them after a change to cases.c.
 *
 * Must never: test through anything but the library's public API and the
 * shared fuzz stream driver. */
#include <glib.h>
#include <string.h>

#include "bulkhead/rpc.h"
#include "cases.h"
#include "stream.h"

#define HDR sizeof(struct bh_rpc_hdr)

static void test_cases(void)
{
    struct bh_rpc_case_buf *b = g_malloc(sizeof *b);
    unsigned valid = 0, invalid = 0;

    for (size_t i = 0; i < bh_rpc_n_cases; i++) {
        const struct bh_rpc_case *c = &bh_rpc_cases[i];
        struct bh_fuzz_rpc_result res;

        b->len = 0;
        c->build(b);
        bh_fuzz_rpc_run(b->data, b->len, &res);
        if (c->code == BH_RPC_OK) {
            if (res.end != BH_FUZZ_RPC_CLEAN)
                g_error("valid case %s: rejected: %s (%s)", c->name, res.err.reason,
                        bh_rpc_err_name(res.err.code));
            g_assert_cmpuint(res.accepted, >, 0);
            valid++;
            continue;
        }
        if (res.end != BH_FUZZ_RPC_VIOLATION)
            g_error("hostile case %s: not rejected (end %d after %u messages)", c->name, (int)res.end,
                    res.accepted);
        if (res.err.code != c->code || !strstr(res.err.reason, c->reason))
            g_error("hostile case %s: rejected as %s '%s', expected %s containing '%s'", c->name,
                    bh_rpc_err_name(res.err.code), res.err.reason, bh_rpc_err_name(c->code), c->reason);
        g_test_message("%s: %s", c->name, res.err.reason);
        invalid++;
    }
    g_assert_cmpuint(valid, >=, 10);
    g_assert_cmpuint(invalid, >=, 40);
    g_free(b);
}

/* A connection with both HELLOs done and request 1 (PASS_IO|WAIT) open, as
 * each end sees it. */
struct conn {
    struct bh_rpc_state dom0, agent;
    uint8_t buf[BH_RPC_MAX_MSG_BYTES];
    struct bh_rpc_msg m;
    struct bh_rpc_error e;
};

static struct conn *conn_new(void)
{
    struct conn *c = g_malloc0(sizeof *c);
    struct bh_rpc_msg hello = {.type = BH_RPC_HELLO, .u.hello.version = BH_RPC_PROTOCOL_VERSION};
    struct bh_rpc_msg exec = {.type = BH_RPC_EXEC, .request = 1};

    bh_rpc_state_init(&c->dom0);
    bh_rpc_state_init(&c->agent);
    bh_rpc_state_apply(&c->dom0, &hello, true);
    bh_rpc_state_apply(&c->agent, &hello, true);
    exec.u.exec.flags = BH_RPC_EXEC_PASS_IO | BH_RPC_EXEC_WAIT;
    bh_rpc_state_apply(&c->dom0, &exec, false);
    bh_rpc_state_apply(&c->agent, &exec, true);
    return c;
}

/* Encode m, decode it on the other end, compare the header. */
static long roundtrip(struct conn *c, const struct bh_rpc_msg *m, enum bh_rpc_dir dir)
{
    size_t n = bh_rpc_encode_msg(c->buf, sizeof c->buf, m);
    long r;

    g_assert_cmpuint(n, >=, HDR);
    r = bh_rpc_decode(c->buf, n, dir, dir == BH_RPC_FROM_AGENT ? &c->dom0 : &c->agent, &c->m, &c->e);
    if (r < 0)
        g_error("%s rejected: %s", bh_rpc_type_name(m->type), c->e.reason);
    g_assert_cmpint(r, ==, (long)n);
    g_assert_cmpuint(c->m.type, ==, m->type);
    g_assert_cmpuint(c->m.request, ==, m->request);
    /* Every shorter prefix is "need more bytes", never a verdict. */
    for (size_t k = 0; k < n; k++) {
        struct bh_rpc_msg tmp;
        struct bh_rpc_error e;
        g_assert_cmpint(
            bh_rpc_decode(c->buf, k, dir, dir == BH_RPC_FROM_AGENT ? &c->dom0 : &c->agent, &tmp, &e), ==, 0);
        g_assert_cmpint(e.code, ==, BH_RPC_E_SHORT);
    }
    return r;
}

static void test_roundtrip(void)
{
    struct conn *c = conn_new();
    struct bh_rpc_msg m;
    static const char cmd[] = "printf '%s\\n' \"héllo wörld\" | tr a-z A-Z";

    m = (struct bh_rpc_msg){.type = BH_RPC_EXEC, .request = 2};
    m.u.exec.flags = BH_RPC_EXEC_WAIT;
    strcpy(m.u.exec.user, "user");
    m.u.exec.cmdline = cmd;
    m.u.exec.cmdline_len = strlen(cmd);
    roundtrip(c, &m, BH_RPC_FROM_DOM0);
    g_assert_cmpuint(c->m.u.exec.flags, ==, BH_RPC_EXEC_WAIT);
    g_assert_cmpstr(c->m.u.exec.user, ==, "user");
    g_assert_cmpmem(c->m.u.exec.cmdline, c->m.u.exec.cmdline_len, cmd, strlen(cmd));

    m = (struct bh_rpc_msg){.type = BH_RPC_STDIN, .request = 1};
    m.u.data.data = (const uint8_t *)"abc";
    m.u.data.len = 3;
    roundtrip(c, &m, BH_RPC_FROM_DOM0);
    g_assert_cmpmem(c->m.u.data.data, c->m.u.data.len, "abc", 3);

    m = (struct bh_rpc_msg){.type = BH_RPC_STDERR, .request = 1};
    roundtrip(c, &m, BH_RPC_FROM_AGENT);
    g_assert_cmpuint(c->m.u.data.len, ==, 0);

    m = (struct bh_rpc_msg){.type = BH_RPC_SIGNAL, .request = 1, .u.signal.signo = 9};
    roundtrip(c, &m, BH_RPC_FROM_DOM0);
    g_assert_cmpuint(c->m.u.signal.signo, ==, 9);

    m = (struct bh_rpc_msg){.type = BH_RPC_CREDIT, .request = 1};
    m.u.credit.stream = BH_RPC_STREAM_STDIN;
    m.u.credit.bytes = 1;
    /* The window is full: one byte of credit is already too much. */
    g_assert_cmpint(bh_rpc_decode(c->buf, bh_rpc_encode_msg(c->buf, sizeof c->buf, &m), BH_RPC_FROM_AGENT,
                                  &c->dom0, &c->m, &c->e),
                    ==, -1);
    g_assert_cmpint(c->e.code, ==, BH_RPC_E_CREDIT);

    m = (struct bh_rpc_msg){.type = BH_RPC_PING, .u.ping.cookie = 0xdeadbeefcafef00dull};
    roundtrip(c, &m, BH_RPC_FROM_DOM0);
    g_assert_cmphex(c->m.u.ping.cookie, ==, 0xdeadbeefcafef00dull);
    m.type = BH_RPC_PONG;
    roundtrip(c, &m, BH_RPC_FROM_AGENT);

    m = (struct bh_rpc_msg){.type = BH_RPC_EXIT, .request = 1};
    m.u.exit.kind = BH_RPC_EXIT_FAILED;
    m.u.exit.value = 13;
    strcpy(m.u.exit.message, "cannot run as 'x'");
    roundtrip(c, &m, BH_RPC_FROM_AGENT);
    g_assert_cmpuint(c->m.u.exit.kind, ==, BH_RPC_EXIT_FAILED);
    g_assert_cmpuint(c->m.u.exit.value, ==, 13);
    g_assert_cmpstr(c->m.u.exit.message, ==, "cannot run as 'x'");
    g_free(c);
}

/* What reaches the user from EXIT is plain text: no escapes, no bidi. */
static void test_exit_message_sanitised(void)
{
    struct conn *c = conn_new();
    struct bh_rpc_exit e = {BH_RPC_EXIT_FAILED, 1};
    static const char text[] = "\x1b[31mred\xe2\x80\xae text\n";
    struct bh_rpc_hdr h = {BH_RPC_EXIT, 1, (uint32_t)(sizeof e + strlen(text))};

    memcpy(c->buf, &h, sizeof h);
    memcpy(c->buf + sizeof h, &e, sizeof e);
    memcpy(c->buf + sizeof h + sizeof e, text, strlen(text));
    g_assert_cmpint(
        bh_rpc_decode(c->buf, sizeof h + sizeof e + strlen(text), BH_RPC_FROM_AGENT, &c->dom0, &c->m, &c->e),
        >, 0);
    g_assert_null(strchr(c->m.u.exit.message, 0x1b));
    g_assert_null(strstr(c->m.u.exit.message, "\xe2\x80\xae"));
    g_assert_null(strchr(c->m.u.exit.message, '\n'));
    g_assert_nonnull(strstr(c->m.u.exit.message, "red"));
    g_assert_cmpuint(c->m.u.exit.len, ==, strlen(c->m.u.exit.message));
    g_free(c);
}

static void test_encoder_refuses(void)
{
    uint8_t buf[BH_RPC_MAX_MSG_BYTES];
    g_autofree char *long_cmd = g_strnfill(BH_RPC_MAX_CMDLINE_BYTES + 1, 'x');
    static const uint8_t big[BH_RPC_MAX_CHUNK + 1];

    g_assert_cmpuint(bh_rpc_encode_exec(buf, sizeof buf, 1, 0, "user", "a\0b", 3), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exec(buf, sizeof buf, 1, 0, "user", "\xff", 1), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exec(buf, sizeof buf, 1, 0, "user", "", 0), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exec(buf, sizeof buf, 1, 0, "user", long_cmd, strlen(long_cmd)), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exec(buf, sizeof buf, 1, 0, "Us er", "id", 2), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exec(buf, sizeof buf, 0, 0, "user", "id", 2), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exec(buf, 20, 1, 0, "user", "id", 2), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exec(buf, sizeof buf, 1, 0, NULL, "id", 2), >, 0);
    g_assert_cmpuint(bh_rpc_encode_exit(buf, sizeof buf, 1, BH_RPC_EXIT_EXITED, 0, "why"), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exit(buf, sizeof buf, 1, BH_RPC_EXIT_FAILED, 1, NULL), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_exit(buf, sizeof buf, 1, BH_RPC_EXIT_FAILED, 1, ""), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_data(buf, sizeof buf, BH_RPC_STDOUT, 1, big, sizeof big), ==, 0);
    g_assert_cmpuint(bh_rpc_encode_data(buf, sizeof buf, BH_RPC_CREDIT, 1, big, 8), ==, 0);
    g_assert_cmpuint(bh_rpc_encode(buf, sizeof buf, BH_RPC_CLIPBOARD_GET, 1, NULL, 0), ==, 0);
    g_assert_cmpuint(bh_rpc_encode(buf, sizeof buf, BH_RPC_PING, 1, big, 8), ==, 0);
    g_assert_cmpuint(bh_rpc_encode(buf, sizeof buf, BH_RPC_STDIN, BH_RPC_MAX_REQUEST_ID + 1, big, 8), ==, 0);
}

/* The table both ends keep: slots fill and free, credit moves. */
static void test_state(void)
{
    struct bh_rpc_state s;
    struct bh_rpc_msg m = {.type = BH_RPC_EXEC};
    const struct bh_rpc_req_entry *e;

    bh_rpc_state_init(&s);
    for (uint32_t i = 1; i <= BH_RPC_MAX_REQUESTS; i++) {
        m.request = i * 3;
        m.u.exec.flags = BH_RPC_EXEC_PASS_IO | BH_RPC_EXEC_WAIT;
        bh_rpc_state_apply(&s, &m, false);
    }
    g_assert_cmpuint(s.count, ==, BH_RPC_MAX_REQUESTS);
    /* A 33rd is not recorded: the decoder refuses it before it gets here. */
    m.request = 1000;
    bh_rpc_state_apply(&s, &m, true);
    g_assert_cmpuint(s.count, ==, BH_RPC_MAX_REQUESTS);
    g_assert_null(bh_rpc_state_find(&s, 1000));
    g_assert_null(bh_rpc_state_find(&s, 0));

    e = bh_rpc_state_find(&s, 30);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->open, ==, 7);
    m = (struct bh_rpc_msg){.type = BH_RPC_STDOUT, .request = 30};
    m.u.data.len = 1000;
    bh_rpc_state_apply(&s, &m, true);
    g_assert_cmpuint(e->credit[BH_RPC_STREAM_STDOUT], ==, BH_RPC_WINDOW - 1000);
    m.u.data.len = 0;
    bh_rpc_state_apply(&s, &m, true);
    g_assert_cmpuint(e->open, ==, 5);
    m = (struct bh_rpc_msg){.type = BH_RPC_CREDIT, .request = 30};
    m.u.credit.stream = BH_RPC_STREAM_STDOUT;
    m.u.credit.bytes = 1000;
    bh_rpc_state_apply(&s, &m, false);
    g_assert_cmpuint(e->credit[BH_RPC_STREAM_STDOUT], ==, BH_RPC_WINDOW);
    m = (struct bh_rpc_msg){.type = BH_RPC_EXIT, .request = 30};
    bh_rpc_state_apply(&s, &m, true);
    g_assert_null(bh_rpc_state_find(&s, 30));
    g_assert_cmpuint(s.count, ==, BH_RPC_MAX_REQUESTS - 1);
}

static void test_names(void)
{
    g_assert_cmpstr(bh_rpc_type_name(BH_RPC_EXEC), ==, "EXEC");
    g_assert_cmpstr(bh_rpc_type_name(BH_RPC_CLIPBOARD_SET), ==, "CLIPBOARD_SET");
    g_assert_cmpstr(bh_rpc_type_name(0x12345), ==, "unknown");
    g_assert_cmpstr(bh_rpc_err_name(BH_RPC_E_CREDIT), ==, "credit");
    g_assert_cmpstr(bh_rpc_err_name((enum bh_rpc_err)99), ==, "unknown");
    g_assert_true(bh_rpc_user_name_ok("user", 4));
    g_assert_true(bh_rpc_user_name_ok("_a-1", 4));
    g_assert_true(bh_rpc_user_name_ok("", 0));
    g_assert_false(bh_rpc_user_name_ok("1user", 5));
    g_assert_false(bh_rpc_user_name_ok("-x", 2));
    g_assert_false(bh_rpc_user_name_ok("a b", 3));
    g_assert_false(bh_rpc_user_name_ok("ü", 2));
}

static char *corpus_name(const struct bh_rpc_case *c)
{
    return g_strdup_printf("%s-%s", c->code == BH_RPC_OK ? "valid" : "invalid", c->name);
}

static void test_corpus_in_sync(void)
{
    struct bh_rpc_case_buf *b = g_malloc(sizeof *b);
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GDir) d = g_dir_open(BH_RPC_CORPUS_DIR, 0, NULL);
    const char *n;

    g_assert_nonnull(d);
    for (size_t i = 0; i < bh_rpc_n_cases; i++) {
        char *name = corpus_name(&bh_rpc_cases[i]);
        g_autofree char *path = g_build_filename(BH_RPC_CORPUS_DIR, name, NULL);
        g_autofree char *got = NULL;
        gsize len = 0;

        b->len = 0;
        bh_rpc_cases[i].build(b);
        if (!g_file_get_contents(path, &got, &len, NULL))
            g_error("%s is missing: run test-rpc-codec --write-corpus %s", path, BH_RPC_CORPUS_DIR);
        if (len != b->len || memcmp(got, b->data, len) != 0)
            g_error("%s differs from its case: run test-rpc-codec --write-corpus %s", path,
                    BH_RPC_CORPUS_DIR);
        g_hash_table_add(names, name);
    }
    /* A valid-/invalid- file without a case would claim an outcome nobody
     * asserts. (Other names, e.g. inputs saved from fuzzing, are replayed.) */
    while ((n = g_dir_read_name(d))) {
        if ((g_str_has_prefix(n, "valid-") || g_str_has_prefix(n, "invalid-")) &&
            !g_hash_table_contains(names, n))
            g_error("%s/%s has no case in cases.c", BH_RPC_CORPUS_DIR, n);
    }
    g_free(b);
}

static int write_corpus(const char *dir)
{
    struct bh_rpc_case_buf *b = g_malloc(sizeof *b);

    for (size_t i = 0; i < bh_rpc_n_cases; i++) {
        g_autofree char *name = corpus_name(&bh_rpc_cases[i]);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) err = NULL;

        b->len = 0;
        bh_rpc_cases[i].build(b);
        if (!g_file_set_contents(path, (const char *)b->data, (gssize)b->len, &err)) {
            g_printerr("%s\n", err->message);
            return 1;
        }
    }
    g_print("wrote %zu inputs to %s\n", bh_rpc_n_cases, dir);
    g_free(b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc/codec/corpus-in-sync", test_corpus_in_sync);
    g_test_add_func("/rpc/codec/cases", test_cases);
    g_test_add_func("/rpc/codec/roundtrip-and-prefixes", test_roundtrip);
    g_test_add_func("/rpc/codec/exit-message-sanitised", test_exit_message_sanitised);
    g_test_add_func("/rpc/codec/encoder-refuses", test_encoder_refuses);
    g_test_add_func("/rpc/codec/state", test_state);
    g_test_add_func("/rpc/codec/names", test_names);
    return g_test_run();
}
