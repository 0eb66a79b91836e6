/* cases.c — the table of named RPC inputs (see cases.h): whole
 * conversations that must decode, and hostile variants that must be
 * rejected with a given code and a reason naming the rule.
 *
 * Records are a direction byte (0: agent -> dom0, 1: dom0 -> agent) and a
 * message, as stream.c reads them. Valid messages go through the real
 * encoder; hostile ones are written raw when the encoder would refuse them.
 * Must never: abort for anything but a case that does not fit its buffer or
 * that the encoder refuses although it is meant to be well framed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

#define AG 0 /* direction byte: from the agent */
#define D0 1 /* direction byte: from dom0 */
#define IO (BH_RPC_EXEC_PASS_IO | BH_RPC_EXEC_WAIT)

static void put(struct bh_rpc_case_buf *b, const void *p, size_t n)
{
    if (n > sizeof b->data - b->len) {
        fprintf(stderr, "case does not fit in %u bytes\n", BH_RPC_CASE_MAX);
        abort();
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void dir(struct bh_rpc_case_buf *b, uint8_t d)
{
    put(b, &d, 1);
}

static void check(size_t w, uint32_t type, uint32_t request)
{
    if (w == 0) {
        fprintf(stderr, "encoder refused %s request %u\n", bh_rpc_type_name(type), request);
        abort();
    }
}

static void msg(struct bh_rpc_case_buf *b, uint8_t d, uint32_t type, uint32_t request, const void *body,
                size_t n)
{
    size_t w;

    dir(b, d);
    w = bh_rpc_encode(b->data + b->len, sizeof b->data - b->len, type, request, body, n);
    check(w, type, request);
    b->len += w;
}

/* A frame the encoder would refuse: any type, request and length field. */
static void raw(struct bh_rpc_case_buf *b, uint8_t d, uint32_t type, uint32_t request, uint32_t len_field,
                const void *body, size_t n)
{
    struct bh_rpc_hdr h = {type, request, len_field};

    dir(b, d);
    put(b, &h, sizeof h);
    put(b, body, n);
}

static void hellos(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_hello h = {BH_RPC_PROTOCOL_VERSION};

    msg(b, D0, BH_RPC_HELLO, 0, &h, sizeof h);
    msg(b, AG, BH_RPC_HELLO, 0, &h, sizeof h);
}

static void exec(struct bh_rpc_case_buf *b, uint32_t req, uint32_t flags, const char *user, const char *cmd)
{
    size_t w;

    dir(b, D0);
    w = bh_rpc_encode_exec(b->data + b->len, sizeof b->data - b->len, req, flags, user, cmd, strlen(cmd));
    check(w, BH_RPC_EXEC, req);
    b->len += w;
}

/* EXEC with hand-made lengths: user and command line as given. */
static void exec_raw(struct bh_rpc_case_buf *b, uint32_t req, uint32_t flags, const void *user, uint32_t ulen,
                     const void *cmd, uint32_t clen, uint32_t len_field)
{
    struct bh_rpc_exec e = {flags, ulen, clen};
    struct bh_rpc_hdr h = {BH_RPC_EXEC, req, len_field};

    dir(b, D0);
    put(b, &h, sizeof h);
    put(b, &e, sizeof e);
    put(b, user, ulen);
    put(b, cmd, clen);
}

static void data(struct bh_rpc_case_buf *b, uint32_t type, uint32_t req, const void *p, size_t n)
{
    size_t w;

    dir(b, type == BH_RPC_STDIN ? D0 : AG);
    w = bh_rpc_encode_data(b->data + b->len, sizeof b->data - b->len, type, req, p, n);
    check(w, type, req);
    b->len += w;
}

static void fill(struct bh_rpc_case_buf *b, uint32_t type, uint32_t req, size_t n)
{
    static const uint8_t chunk[BH_RPC_MAX_CHUNK]; /* zeros: data is opaque */

    while (n > 0) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;
        data(b, type, req, chunk, k);
        n -= k;
    }
}

static void credit(struct bh_rpc_case_buf *b, uint8_t d, uint32_t req, uint32_t stream, uint32_t bytes)
{
    struct bh_rpc_credit c = {stream, bytes};

    msg(b, d, BH_RPC_CREDIT, req, &c, sizeof c);
}

static void eofs(struct bh_rpc_case_buf *b, uint32_t req)
{
    data(b, BH_RPC_STDOUT, req, NULL, 0);
    data(b, BH_RPC_STDERR, req, NULL, 0);
}

static void exit_msg(struct bh_rpc_case_buf *b, uint32_t req, uint32_t kind, uint32_t value, const char *text)
{
    size_t w;

    dir(b, AG);
    w = bh_rpc_encode_exit(b->data + b->len, sizeof b->data - b->len, req, kind, value, text);
    check(w, BH_RPC_EXIT, req);
    b->len += w;
}

static void exit_raw(struct bh_rpc_case_buf *b, uint32_t req, uint32_t kind, uint32_t value, const void *text,
                     size_t n)
{
    struct bh_rpc_exit e = {kind, value};
    struct bh_rpc_hdr h = {BH_RPC_EXIT, req, (uint32_t)(sizeof e + n)};

    dir(b, AG);
    put(b, &h, sizeof h);
    put(b, &e, sizeof e);
    put(b, text, n);
}

/* ---- Valid conversations -------------------------------------------------- */

static void v_handshake(struct bh_rpc_case_buf *b)
{
    hellos(b);
}

static void v_exec_echo(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "user", "echo hi");
    data(b, BH_RPC_STDIN, 1, NULL, 0);
    data(b, BH_RPC_STDOUT, 1, "hi\n", 3);
    data(b, BH_RPC_STDERR, 1, "warn\n", 5);
    eofs(b, 1);
    exit_msg(b, 1, BH_RPC_EXIT_EXITED, 0, NULL);
}

static void v_no_wait(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 7, 0, "", "firefox");
    exit_msg(b, 7, BH_RPC_EXIT_STARTED, 0, NULL);
}

static void v_wait_no_io(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 2, BH_RPC_EXEC_WAIT, "", "true");
    exit_msg(b, 2, BH_RPC_EXIT_EXITED, 1, NULL);
}

static void v_failed(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 3, IO, "root", "id");
    exit_msg(b, 3, BH_RPC_EXIT_FAILED, 1, "cannot run as 'root': this agent cannot switch users");
}

static void v_signaled(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_signal s = {15};

    hellos(b);
    exec(b, 4, IO, "", "sleep 100");
    msg(b, D0, BH_RPC_SIGNAL, 4, &s, sizeof s);
    eofs(b, 4);
    exit_msg(b, 4, BH_RPC_EXIT_SIGNALED, 15, NULL);
}

static void v_ping(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_ping p = {0x1122334455667788ull};

    hellos(b);
    msg(b, D0, BH_RPC_PING, 0, &p, sizeof p);
    msg(b, AG, BH_RPC_PONG, 0, &p, sizeof p);
}

/* Fill the stdout window, get it back, fill it again. */
static void v_stdout_credit(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 9, IO, "", "cat big");
    fill(b, BH_RPC_STDOUT, 9, BH_RPC_WINDOW);
    credit(b, D0, 9, BH_RPC_STREAM_STDOUT, BH_RPC_WINDOW / 2);
    credit(b, D0, 9, BH_RPC_STREAM_STDOUT, BH_RPC_WINDOW / 2);
    fill(b, BH_RPC_STDOUT, 9, BH_RPC_WINDOW);
    eofs(b, 9);
    exit_msg(b, 9, BH_RPC_EXIT_EXITED, 0, NULL);
}

static void v_stdin_credit(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 5, IO, "", "cat");
    fill(b, BH_RPC_STDIN, 5, BH_RPC_WINDOW);
    credit(b, AG, 5, BH_RPC_STREAM_STDIN, BH_RPC_WINDOW);
    fill(b, BH_RPC_STDIN, 5, 1000);
    data(b, BH_RPC_STDIN, 5, NULL, 0);
    /* Credit for bytes consumed before end of stream may still come. */
    credit(b, AG, 5, BH_RPC_STREAM_STDIN, 1000);
    eofs(b, 5);
    exit_msg(b, 5, BH_RPC_EXIT_EXITED, 0, NULL);
}

static void v_max_requests(struct bh_rpc_case_buf *b)
{
    hellos(b);
    for (uint32_t i = 1; i <= BH_RPC_MAX_REQUESTS; i++)
        exec(b, i, BH_RPC_EXEC_WAIT, "", "sleep 1");
    exit_msg(b, 17, BH_RPC_EXIT_EXITED, 0, NULL);
    exec(b, BH_RPC_MAX_REQUEST_ID, BH_RPC_EXEC_WAIT, "", "sleep 1");
}

/* dom0 messages racing with EXIT are stale, not violations. */
static void v_stale(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_signal s = {9};

    hellos(b);
    exec(b, 6, IO, "", "cat");
    exit_msg(b, 6, BH_RPC_EXIT_FAILED, 12, "out of memory");
    data(b, BH_RPC_STDIN, 6, "late", 4);
    msg(b, D0, BH_RPC_SIGNAL, 6, &s, sizeof s);
    credit(b, D0, 6, BH_RPC_STREAM_STDOUT, 100);
    /* and the id may be used again */
    exec(b, 6, BH_RPC_EXEC_WAIT, "", "true");
}

static void v_exit_message_sanitised(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 8, BH_RPC_EXEC_WAIT, "", "x");
    exit_msg(b, 8, BH_RPC_EXIT_FAILED, 2, "\x1b[31mred\xe2\x80\xae text\n");
}

static void v_limits(struct bh_rpc_case_buf *b)
{
    char *cmd = malloc(BH_RPC_MAX_CMDLINE_BYTES + 1);
    char user[BH_RPC_MAX_USER_BYTES + 1];

    memset(cmd, 'y', BH_RPC_MAX_CMDLINE_BYTES);
    cmd[BH_RPC_MAX_CMDLINE_BYTES] = '\0';
    memset(user, 'u', BH_RPC_MAX_USER_BYTES);
    user[BH_RPC_MAX_USER_BYTES] = '\0';
    hellos(b);
    exec(b, 1, IO, user, cmd);
    fill(b, BH_RPC_STDOUT, 1, BH_RPC_MAX_CHUNK);
    free(cmd);
}

/* ---- Hostile inputs ---------------------------------------------------- */

static void i_before_hello(struct bh_rpc_case_buf *b)
{
    exec(b, 1, IO, "", "id");
}

static void i_agent_before_hello(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_hello h = {BH_RPC_PROTOCOL_VERSION};
    struct bh_rpc_ping p = {1};

    msg(b, D0, BH_RPC_HELLO, 0, &h, sizeof h);
    msg(b, AG, BH_RPC_PONG, 0, &p, sizeof p);
}

static void i_second_hello(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_hello h = {BH_RPC_PROTOCOL_VERSION};

    hellos(b);
    msg(b, AG, BH_RPC_HELLO, 0, &h, sizeof h);
}

static void i_version(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_hello h = {(BH_RPC_PROTOCOL_MAJOR + 1) << 16};

    msg(b, AG, BH_RPC_HELLO, 0, &h, sizeof h);
}

static void i_unknown_type(struct bh_rpc_case_buf *b)
{
    hellos(b);
    raw(b, AG, 0x9999, 0, 0, NULL, 0);
}

static void i_reserved_clipboard(struct bh_rpc_case_buf *b)
{
    hellos(b);
    raw(b, AG, BH_RPC_CLIPBOARD_DATA, 1, 5, "hello", 5);
}

static void i_reserved_file(struct bh_rpc_case_buf *b)
{
    hellos(b);
    raw(b, D0, BH_RPC_FILE_BEGIN, 1, 0, NULL, 0);
}

static void i_wrong_direction(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_exec e = {BH_RPC_EXEC_WAIT, 0, 2};

    hellos(b);
    raw(b, AG, BH_RPC_EXEC, 1, sizeof e + 2, &e, sizeof e);
    put(b, "id", 2);
}

static void i_conn_with_request(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_ping p = {1};

    hellos(b);
    raw(b, D0, BH_RPC_PING, 5, sizeof p, &p, sizeof p);
}

static void i_request_zero(struct bh_rpc_case_buf *b)
{
    hellos(b);
    raw(b, AG, BH_RPC_STDOUT, 0, 1, "x", 1);
}

static void i_request_too_big(struct bh_rpc_case_buf *b)
{
    hellos(b);
    raw(b, AG, BH_RPC_STDOUT, BH_RPC_MAX_REQUEST_ID + 1, 1, "x", 1);
}

static void i_oversized_chunk(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    /* Only the header: the length alone is refused. */
    raw(b, AG, BH_RPC_STDOUT, 1, BH_RPC_MAX_CHUNK + 1, NULL, 0);
}

static void i_huge_length(struct bh_rpc_case_buf *b)
{
    hellos(b);
    raw(b, AG, BH_RPC_EXIT, 1, 0xffffffffu, NULL, 0);
}

static void i_hello_length(struct bh_rpc_case_buf *b)
{
    uint32_t v[2] = {BH_RPC_PROTOCOL_VERSION, 0};

    raw(b, AG, BH_RPC_HELLO, 0, sizeof v, v, sizeof v);
}

static void i_unknown_request(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    data(b, BH_RPC_STDOUT, 2, "x", 1);
}

static void i_exit_unknown_request(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exit_msg(b, 3, BH_RPC_EXIT_FAILED, 1, "nothing");
}

static void i_exit_twice(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, 0, "", "x");
    exit_msg(b, 1, BH_RPC_EXIT_STARTED, 0, NULL);
    exit_msg(b, 1, BH_RPC_EXIT_STARTED, 0, NULL);
}

static void i_id_in_use(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 4, IO, "", "cat");
    exec(b, 4, IO, "", "cat");
}

static void i_too_many_requests(struct bh_rpc_case_buf *b)
{
    hellos(b);
    for (uint32_t i = 1; i <= BH_RPC_MAX_REQUESTS + 1; i++)
        exec(b, i, BH_RPC_EXEC_WAIT, "", "sleep 1");
}

static void i_cmdline_utf8(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, IO, "", 0, "echo \xc3\x28", 7, sizeof(struct bh_rpc_exec) + 7);
}

static void i_cmdline_overlong(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, IO, "", 0, "echo \xc0\xaf", 7, sizeof(struct bh_rpc_exec) + 7);
}

static void i_cmdline_nul(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, IO, "", 0, "rm\0-rf", 6, sizeof(struct bh_rpc_exec) + 6);
}

static void i_cmdline_empty(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, IO, "u", 1, NULL, 0, sizeof(struct bh_rpc_exec) + 1);
}

static void i_cmdline_too_long(struct bh_rpc_case_buf *b)
{
    static char cmd[BH_RPC_MAX_CMDLINE_BYTES + 1];

    memset(cmd, 'x', sizeof cmd);
    hellos(b);
    exec_raw(b, 1, IO, "", 0, cmd, sizeof cmd, (uint32_t)(sizeof(struct bh_rpc_exec) + sizeof cmd));
}

static void i_user_bad(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, IO, "Root", 4, "id", 2, sizeof(struct bh_rpc_exec) + 6);
}

static void i_user_slash(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, IO, "../x", 4, "id", 2, sizeof(struct bh_rpc_exec) + 6);
}

static void i_user_too_long(struct bh_rpc_case_buf *b)
{
    static const char user[BH_RPC_MAX_USER_BYTES + 1] = "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu";

    hellos(b);
    exec_raw(b, 1, IO, user, sizeof user, "id", 2, (uint32_t)(sizeof(struct bh_rpc_exec) + sizeof user + 2));
}

static void i_exec_length_mismatch(struct bh_rpc_case_buf *b)
{
    hellos(b);
    /* says 2 bytes of command line, carries 3 */
    exec_raw(b, 1, IO, "", 0, "id", 2, sizeof(struct bh_rpc_exec) + 3);
    put(b, "x", 1);
}

static void i_exec_flags(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, 0x80 | BH_RPC_EXEC_WAIT, "", 0, "id", 2, sizeof(struct bh_rpc_exec) + 2);
}

static void i_pass_io_no_wait(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec_raw(b, 1, BH_RPC_EXEC_PASS_IO, "", 0, "id", 2, sizeof(struct bh_rpc_exec) + 2);
}

static void i_stdout_beyond_credit(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat big");
    fill(b, BH_RPC_STDOUT, 1, BH_RPC_WINDOW);
    data(b, BH_RPC_STDOUT, 1, "x", 1);
}

static void i_stderr_beyond_credit(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat big");
    fill(b, BH_RPC_STDERR, 1, BH_RPC_WINDOW - 10);
    credit(b, D0, 1, BH_RPC_STREAM_STDERR, 5);
    fill(b, BH_RPC_STDERR, 1, 16);
}

static void i_stdin_beyond_credit(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    fill(b, BH_RPC_STDIN, 1, BH_RPC_WINDOW + 1);
}

static void i_stdout_after_eof(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    data(b, BH_RPC_STDOUT, 1, NULL, 0);
    data(b, BH_RPC_STDOUT, 1, "more", 4);
}

static void i_stdin_after_eof(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    data(b, BH_RPC_STDIN, 1, NULL, 0);
    data(b, BH_RPC_STDIN, 1, "more", 4);
}

static void i_stdout_without_io(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "id");
    data(b, BH_RPC_STDOUT, 1, "uid=0", 5);
}

static void i_credit_over_window(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    fill(b, BH_RPC_STDIN, 1, 100);
    credit(b, AG, 1, BH_RPC_STREAM_STDIN, 101);
}

static void i_credit_wrong_stream(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    raw(b, AG, BH_RPC_CREDIT, 1, sizeof(struct bh_rpc_credit),
        &(struct bh_rpc_credit){BH_RPC_STREAM_STDOUT, 1}, sizeof(struct bh_rpc_credit));
}

static void i_credit_zero(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    fill(b, BH_RPC_STDOUT, 1, 10);
    raw(b, D0, BH_RPC_CREDIT, 1, sizeof(struct bh_rpc_credit),
        &(struct bh_rpc_credit){BH_RPC_STREAM_STDOUT, 0}, sizeof(struct bh_rpc_credit));
}

static void i_credit_no_io(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "cat");
    credit(b, AG, 1, BH_RPC_STREAM_STDIN, 1);
}

static void i_exit_before_eof(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, IO, "", "cat");
    data(b, BH_RPC_STDOUT, 1, NULL, 0);
    exit_msg(b, 1, BH_RPC_EXIT_EXITED, 0, NULL);
}

static void i_exit_code(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, BH_RPC_EXIT_EXITED, 256, NULL, 0);
}

static void i_exit_signal(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, BH_RPC_EXIT_SIGNALED, 0, NULL, 0);
}

static void i_exit_kind(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, 99, 0, NULL, 0);
}

static void i_exit_failed_silent(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, BH_RPC_EXIT_FAILED, 1, NULL, 0);
}

static void i_exit_message_on_exited(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, BH_RPC_EXIT_EXITED, 0, "hi", 2);
}

static void i_exit_message_utf8(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, BH_RPC_EXIT_FAILED, 1, "bad \xed\xa0\x80 surrogate", 16);
}

static void i_exit_message_nul(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, BH_RPC_EXIT_FAILED, 1, "a\0b", 3);
}

/* Found by the fuzzer: a reason made only of characters the sanitiser drops
 * would reach the user as an empty string. */
static void i_exit_message_all_controls(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_raw(b, 1, BH_RPC_EXIT_FAILED, 2, "\x10\x10\x1b\xe2\x80\xae", 6);
}

static void i_started_with_wait(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    exit_msg(b, 1, BH_RPC_EXIT_STARTED, 0, NULL);
}

static void i_exited_without_wait(struct bh_rpc_case_buf *b)
{
    hellos(b);
    exec(b, 1, 0, "", "x");
    exit_msg(b, 1, BH_RPC_EXIT_EXITED, 0, NULL);
}

static void i_signal_number(struct bh_rpc_case_buf *b)
{
    struct bh_rpc_signal s = {11};

    hellos(b);
    exec(b, 1, BH_RPC_EXEC_WAIT, "", "x");
    msg(b, D0, BH_RPC_SIGNAL, 1, &s, sizeof s);
}

static void i_pong_length(struct bh_rpc_case_buf *b)
{
    hellos(b);
    raw(b, AG, BH_RPC_PONG, 0, 4, "pong", 4);
}

const struct bh_rpc_case bh_rpc_cases[] = {
    {"handshake", v_handshake, BH_RPC_OK, NULL},
    {"exec_echo", v_exec_echo, BH_RPC_OK, NULL},
    {"no_wait", v_no_wait, BH_RPC_OK, NULL},
    {"wait_no_io", v_wait_no_io, BH_RPC_OK, NULL},
    {"failed", v_failed, BH_RPC_OK, NULL},
    {"signaled", v_signaled, BH_RPC_OK, NULL},
    {"ping", v_ping, BH_RPC_OK, NULL},
    {"stdout_credit", v_stdout_credit, BH_RPC_OK, NULL},
    {"stdin_credit", v_stdin_credit, BH_RPC_OK, NULL},
    {"max_requests", v_max_requests, BH_RPC_OK, NULL},
    {"stale", v_stale, BH_RPC_OK, NULL},
    {"exit_message_sanitised", v_exit_message_sanitised, BH_RPC_OK, NULL},
    {"limits", v_limits, BH_RPC_OK, NULL},

    {"before_hello", i_before_hello, BH_RPC_E_STATE, "before HELLO"},
    {"agent_before_hello", i_agent_before_hello, BH_RPC_E_STATE, "PONG request 0: before HELLO"},
    {"second_hello", i_second_hello, BH_RPC_E_STATE, "second HELLO"},
    {"version", i_version, BH_RPC_E_VERSION, "major must match"},
    {"unknown_type", i_unknown_type, BH_RPC_E_TYPE, "0x9999"},
    {"reserved_clipboard", i_reserved_clipboard, BH_RPC_E_TYPE, "CLIPBOARD_DATA) not part of protocol"},
    {"reserved_file", i_reserved_file, BH_RPC_E_TYPE, "FILE_BEGIN"},
    {"wrong_direction", i_wrong_direction, BH_RPC_E_TYPE, "EXEC sent by the agent"},
    {"conn_with_request", i_conn_with_request, BH_RPC_E_REQUEST, "needs request 0"},
    {"request_zero", i_request_zero, BH_RPC_E_REQUEST, "out of range"},
    {"request_too_big", i_request_too_big, BH_RPC_E_REQUEST, "out of range"},
    {"oversized_chunk", i_oversized_chunk, BH_RPC_E_LENGTH, "body length 65537, must be 0..65536"},
    {"huge_length", i_huge_length, BH_RPC_E_LENGTH, "body length 4294967295"},
    {"hello_length", i_hello_length, BH_RPC_E_LENGTH, "must be exactly 4"},
    {"unknown_request", i_unknown_request, BH_RPC_E_REQUEST, "STDOUT request 2: no such request"},
    {"exit_unknown_request", i_exit_unknown_request, BH_RPC_E_REQUEST, "no such request"},
    {"exit_twice", i_exit_twice, BH_RPC_E_REQUEST, "no such request"},
    {"id_in_use", i_id_in_use, BH_RPC_E_REQUEST, "already in use"},
    {"too_many_requests", i_too_many_requests, BH_RPC_E_LIMIT, "already 32 requests"},
    {"cmdline_utf8", i_cmdline_utf8, BH_RPC_E_TEXT, "command line: invalid UTF-8 at byte 5"},
    {"cmdline_overlong", i_cmdline_overlong, BH_RPC_E_TEXT, "invalid UTF-8"},
    {"cmdline_nul", i_cmdline_nul, BH_RPC_E_TEXT, "NUL byte at 2"},
    {"cmdline_empty", i_cmdline_empty, BH_RPC_E_VALUE, "empty command line"},
    {"cmdline_too_long", i_cmdline_too_long, BH_RPC_E_LIMIT, "command line of 32769 bytes"},
    {"user_bad", i_user_bad, BH_RPC_E_TEXT, "user name"},
    {"user_slash", i_user_slash, BH_RPC_E_TEXT, "user name"},
    {"user_too_long", i_user_too_long, BH_RPC_E_LIMIT, "user name of 33 bytes"},
    {"exec_length_mismatch", i_exec_length_mismatch, BH_RPC_E_LENGTH, "need 14"},
    {"exec_flags", i_exec_flags, BH_RPC_E_VALUE, "unknown bits"},
    {"pass_io_no_wait", i_pass_io_no_wait, BH_RPC_E_VALUE, "PASS_IO needs WAIT"},
    {"stdout_beyond_credit", i_stdout_beyond_credit, BH_RPC_E_CREDIT,
     "1 bytes of stdout, but only 0 of credit"},
    {"stderr_beyond_credit", i_stderr_beyond_credit, BH_RPC_E_CREDIT, "16 bytes of stderr, but only 15"},
    {"stdin_beyond_credit", i_stdin_beyond_credit, BH_RPC_E_CREDIT, "of stdin"},
    {"stdout_after_eof", i_stdout_after_eof, BH_RPC_E_STATE, "after its end of stream"},
    {"stdin_after_eof", i_stdin_after_eof, BH_RPC_E_STATE, "after its end of stream"},
    {"stdout_without_io", i_stdout_without_io, BH_RPC_E_STATE, "without PASS_IO"},
    {"credit_over_window", i_credit_over_window, BH_RPC_E_CREDIT, "exceed the window"},
    {"credit_wrong_stream", i_credit_wrong_stream, BH_RPC_E_VALUE, "only return credit for stdin"},
    {"credit_zero", i_credit_zero, BH_RPC_E_VALUE, "0 bytes of credit"},
    {"credit_no_io", i_credit_no_io, BH_RPC_E_STATE, "without PASS_IO"},
    {"exit_before_eof", i_exit_before_eof, BH_RPC_E_STATE, "before end of stream"},
    {"exit_code", i_exit_code, BH_RPC_E_VALUE, "exit code 256"},
    {"exit_signal", i_exit_signal, BH_RPC_E_VALUE, "signal 0"},
    {"exit_kind", i_exit_kind, BH_RPC_E_VALUE, "exit kind 99"},
    {"exit_failed_silent", i_exit_failed_silent, BH_RPC_E_LENGTH, "FAILED without a message"},
    {"exit_message_on_exited", i_exit_message_on_exited, BH_RPC_E_LENGTH, "takes none"},
    {"exit_message_utf8", i_exit_message_utf8, BH_RPC_E_TEXT, "message: invalid UTF-8 at byte 4"},
    {"exit_message_nul", i_exit_message_nul, BH_RPC_E_TEXT, "NUL byte at 1"},
    {"exit_message_all_controls", i_exit_message_all_controls, BH_RPC_E_TEXT, "nothing left"},
    {"started_with_wait", i_started_with_wait, BH_RPC_E_STATE, "STARTED for a request with WAIT"},
    {"exited_without_wait", i_exited_without_wait, BH_RPC_E_STATE, "without WAIT"},
    {"signal_number", i_signal_number, BH_RPC_E_VALUE, "signal 11"},
    {"pong_length", i_pong_length, BH_RPC_E_LENGTH, "must be exactly 8"},
};
const size_t bh_rpc_n_cases = sizeof bh_rpc_cases / sizeof bh_rpc_cases[0];
