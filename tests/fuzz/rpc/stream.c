/* stream.c — feeds a fuzz input through bh_rpc_decode() message by message
 * and checks, after every accepted message, what the decoder promises:
 * purity, that the encoder reproduces the message, text and user names
 * well formed, data within credit, and the request tables' invariants
 * (bounded, unique ids, credit within the window, both ends agreeing).
 *
 * Each message is copied into a heap block of exactly its size before
 * decoding, so AddressSanitizer catches any read past what the decoder was
 * given. Must never: continue after a broken invariant (it aborts). */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/proto.h"
#include "stream.h"

#define HDR_LEN sizeof(struct bh_rpc_hdr)

__attribute__((noreturn, format(printf, 1, 2))) static void broken(const char *fmt, ...);

static void broken(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rpc invariant broken: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void check_table(const struct bh_rpc_state *s)
{
    uint32_t live = 0;

    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++) {
        const struct bh_rpc_req_entry *e = &s->slots[i];
        if (e->id == 0) {
            if (e->flags || e->open || e->credit[0] || e->credit[1] || e->credit[2])
                broken("free slot %zu not cleared", i);
            continue;
        }
        live++;
        if (e->id > BH_RPC_MAX_REQUEST_ID)
            broken("request id %u out of range", e->id);
        if (bh_rpc_state_find(s, e->id) != e)
            broken("request id %u appears twice", e->id);
        if (e->flags & ~(uint32_t)BH_RPC_EXEC_FLAGS_ALL)
            broken("request %u has flags 0x%x", e->id, e->flags);
        if (!(e->flags & BH_RPC_EXEC_PASS_IO) && e->open)
            broken("request %u without PASS_IO has open streams", e->id);
        for (int k = 0; k < BH_RPC_N_STREAMS; k++) {
            if (e->credit[k] > BH_RPC_WINDOW)
                broken("request %u stream %d credit %u beyond the window", e->id, k, e->credit[k]);
        }
    }
    if (live != s->count || live > BH_RPC_MAX_REQUESTS)
        broken("table count %u but %u live requests", s->count, live);
}

static void check_msg(const struct bh_rpc_state *s, const uint8_t *msg, size_t len,
                      const struct bh_rpc_msg *m, enum bh_rpc_dir dir)
{
    uint8_t *again = malloc(len);
    struct bh_rpc_msg m2;
    struct bh_rpc_error e2;
    size_t n;
    bool exact = true;

    if (!again)
        abort();
    /* The sanitiser may shorten an EXIT message; everything else must come
     * back byte for byte from the encoder. */
    if (m->type == BH_RPC_EXIT && m->u.exit.len + HDR_LEN + sizeof(struct bh_rpc_exit) != len)
        exact = false;
    n = bh_rpc_encode_msg(again, len, m);
    if (exact && (n != len || memcmp(again, msg, len) != 0))
        broken("%s: encoder does not reproduce an accepted message", bh_rpc_type_name(m->type));
    if (!exact && n == 0)
        broken("EXIT: encoder refuses the sanitised message");
    free(again);

    if (bh_rpc_decode(msg, len, dir, s, &m2, &e2) != (long)len || m2.type != m->type ||
        m2.request != m->request || m2.stale != m->stale)
        broken("%s: decoding twice differs", bh_rpc_type_name(m->type));

    switch (m->type) {
    case BH_RPC_EXEC:
        if (!bh_rpc_user_name_ok(m->u.exec.user, strlen(m->u.exec.user)))
            broken("EXEC accepted with user '%s'", m->u.exec.user);
        if (m->u.exec.cmdline_len == 0 || m->u.exec.cmdline_len > BH_RPC_MAX_CMDLINE_BYTES ||
            bh_gui_utf8_check((const uint8_t *)m->u.exec.cmdline, m->u.exec.cmdline_len) !=
                m->u.exec.cmdline_len ||
            memchr(m->u.exec.cmdline, 0, m->u.exec.cmdline_len))
            broken("EXEC accepted with a bad command line");
        break;
    case BH_RPC_STDIN:
    case BH_RPC_STDOUT:
    case BH_RPC_STDERR: {
        const struct bh_rpc_req_entry *e = bh_rpc_state_find(s, m->request);
        int k = bh_rpc_type_stream(m->type);
        if (m->u.data.len > BH_RPC_MAX_CHUNK)
            broken("%zu-byte chunk accepted", m->u.data.len);
        if (!m->stale && (!e || m->u.data.len > e->credit[k] || !(e->open & (1u << k))))
            broken("%s accepted beyond credit or after end of stream", bh_rpc_type_name(m->type));
        break;
    }
    case BH_RPC_EXIT:
        if (m->u.exit.len != strlen(m->u.exit.message) ||
            bh_gui_utf8_check((const uint8_t *)m->u.exit.message, m->u.exit.len) != m->u.exit.len)
            broken("EXIT message not clean text");
        for (size_t i = 0; i < m->u.exit.len; i++) {
            if ((unsigned char)m->u.exit.message[i] < 0x20)
                broken("EXIT message keeps control character 0x%02x", (unsigned char)m->u.exit.message[i]);
        }
        break;
    default:
        break;
    }
}

/* Decodes one message from a copy of exactly the bytes available, so a read
 * past them is a heap overflow ASan reports. Returns bytes consumed, 0 when
 * the input ends inside the message, -1 on a violation. */
static long one(const uint8_t *data, size_t size, enum bh_rpc_dir dir, struct bh_rpc_state *rx,
                struct bh_rpc_state *tx, struct bh_fuzz_rpc_result *res)
{
    struct bh_rpc_msg m;
    uint32_t body_len = 0;
    size_t want = size;
    uint8_t *copy;
    long n;

    if (size >= HDR_LEN) {
        struct bh_rpc_error fe;
        if (bh_rpc_frame_check(data, dir, &body_len, &fe) == BH_RPC_OK) {
            if (body_len > BH_RPC_MAX_BODY_BYTES)
                broken("frame_check let through a %u-byte body", body_len);
            if (size > HDR_LEN + body_len)
                want = HDR_LEN + body_len;
        }
    }
    copy = malloc(want ? want : 1);
    if (!copy)
        abort();
    memcpy(copy, data, want);
    n = bh_rpc_decode(copy, want, dir, rx, &m, &res->err);
    if (n > 0) {
        if ((size_t)n != want)
            broken("decode consumed %ld of a %zu-byte message", n, want);
        check_msg(rx, copy, want, &m, dir);
        res->accepted++;
        if (m.stale) {
            res->stale++;
        } else {
            bh_rpc_state_apply(rx, &m, true);
            /* HELLO is the one message the sender does not record. */
            bh_rpc_state_apply(tx, &m, false);
        }
        check_table(rx);
        check_table(tx);
        if (rx->count != tx->count || memcmp(rx->slots, tx->slots, sizeof rx->slots) != 0)
            broken("the two ends disagree after %s request %u", bh_rpc_type_name(m.type), m.request);
    } else if (n == 0) {
        if (res->err.code != BH_RPC_E_SHORT)
            broken("decode returned 0 with code %d", res->err.code);
    } else if (res->err.code == BH_RPC_OK || res->err.code == BH_RPC_E_SHORT || res->err.reason[0] == '\0') {
        broken("rejection without a code or reason");
    }
    free(copy);
    return n;
}

void bh_fuzz_rpc_run(const uint8_t *data, size_t size, struct bh_fuzz_rpc_result *res)
{
    struct bh_rpc_state *dom0 = malloc(sizeof *dom0), *agent = malloc(sizeof *agent);
    size_t off = 0;

    if (!dom0 || !agent)
        abort();
    memset(res, 0, sizeof *res);
    bh_rpc_state_init(dom0);
    bh_rpc_state_init(agent);
    while (off < size) {
        enum bh_rpc_dir dir = (data[off] & 1) ? BH_RPC_FROM_DOM0 : BH_RPC_FROM_AGENT;
        off++;
        long n = dir == BH_RPC_FROM_AGENT ? one(data + off, size - off, dir, dom0, agent, res)
                                          : one(data + off, size - off, dir, agent, dom0, res);
        if (n < 0) {
            res->end = BH_FUZZ_RPC_VIOLATION;
            break;
        }
        if (n == 0) {
            res->end = BH_FUZZ_RPC_SHORT;
            break;
        }
        off += (size_t)n;
    }
    free(dom0);
    free(agent);
}
