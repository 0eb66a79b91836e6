/* rpc-decode.c — the layered validating decoder of the RPC protocol: framing,
 * per-type length, field validation and request lookup, in that order.
 *
 * Owns: every rule a message must pass before bulkheadd or the agent acts
 * on it (docs/rpc.md, "What the decoder rejects").
 * Must never: allocate, read outside buf[0..len), write to the caller's
 * request table, trust a field before checking it (unchecked values live in
 * untrusted_* locals), or do arithmetic on wire values that could wrap.
 * Layer 1, the wording and storing of reasons, HELLO's version rule and the
 * text checks are core/wire's (bulkhead/wire.h). */
#include <string.h>

#include "rpc-internal.h"

/* One message being decoded: what core/wire judges it by, then this
 * protocol's tables. */
struct dec {
    struct bh_wire_msg m; /* passed framing; type, request, body, direction */
    const struct bh_rpc_state *state;
    const struct bh_rpc_req_entry *req; /* the named request, when looked up */
    struct bh_rpc_msg *out;
};

/* Reasons start with "TYPE request N: " so a log line names the message. */
#define fail(d, code, ...) bh_wire_fail(&(d)->m, (code), __VA_ARGS__)

static const char *dir_name(enum bh_rpc_dir dir)
{
    return dir == BH_RPC_FROM_AGENT ? "the agent" : "dom0";
}

static const char *stream_name(uint32_t stream)
{
    static const char *const names[] = {"stdin", "stdout", "stderr"};

    return stream < BH_RPC_N_STREAMS ? names[stream] : "?";
}

enum bh_rpc_err bh_rpc_frame_check(const uint8_t *hdr, enum bh_rpc_dir dir, uint32_t *body_len,
                                   struct bh_rpc_error *err)
{
    return (enum bh_rpc_err)bh_wire_verdict(
        BH_WIRE_ERROR(err), bh_wire_frame_check(&bh_rpc_wire, hdr, (unsigned)dir, body_len,
                                                err ? err->reason : NULL, sizeof err->reason));
}

/* ---- Per-type validation (layer 2) and lookup (layer 3) ------------------- */

/* UTF-8 without NUL: everything that ends up in a C string or on screen. */
static long check_text(struct dec *d, const char *what, const uint8_t *s, size_t len)
{
    size_t at = 0;

    switch (bh_wire_text_check(s, len, &at)) {
    case BH_WIRE_TEXT_UTF8:
        return fail(d, BH_RPC_E_TEXT, "%s: invalid UTF-8 at byte %zu of %zu", what, at, len);
    case BH_WIRE_TEXT_NUL:
        return fail(d, BH_RPC_E_TEXT, "%s: NUL byte at %td", what, (ptrdiff_t)at);
    case BH_WIRE_TEXT_OK:
        break;
    }
    return 0;
}

/* dom0's messages about a request: a request the agent no longer has is a
 * normal race with EXIT (stale); the agent's messages must name a live one,
 * because dom0 keeps every request until it has read its EXIT. */
static long lookup(struct dec *d)
{
    d->req = bh_rpc_state_find(d->state, d->m.f.id);
    if (d->req)
        return 0;
    if (d->m.dir == BH_RPC_FROM_DOM0) {
        d->out->stale = true;
        return 0;
    }
    return fail(d, BH_RPC_E_REQUEST, "no such request");
}

static long dec_hello(struct dec *d)
{
    return bh_wire_hello(&d->m, BH_RPC_PROTOCOL_MAJOR, BH_RPC_PROTOCOL_MINOR, &d->out->u.hello.version);
}

static long dec_ping(struct dec *d)
{
    memcpy(&d->out->u.ping, d->m.f.body, sizeof d->out->u.ping);
    return 0;
}

static long dec_exec(struct dec *d)
{
    struct bh_rpc_exec untrusted_exec;
    const uint8_t *user, *cmdline;

    memcpy(&untrusted_exec, d->m.f.body, sizeof untrusted_exec);
    if (untrusted_exec.flags & ~(uint32_t)BH_RPC_EXEC_FLAGS_ALL)
        return fail(d, BH_RPC_E_VALUE, "flags 0x%x: unknown bits", untrusted_exec.flags);
    if ((untrusted_exec.flags & BH_RPC_EXEC_PASS_IO) && !(untrusted_exec.flags & BH_RPC_EXEC_WAIT))
        return fail(d, BH_RPC_E_VALUE, "flags 0x%x: PASS_IO needs WAIT", untrusted_exec.flags);
    if (untrusted_exec.user_len > BH_RPC_MAX_USER_BYTES)
        return fail(d, BH_RPC_E_LIMIT, "user name of %u bytes, more than %u", untrusted_exec.user_len,
                    BH_RPC_MAX_USER_BYTES);
    if (untrusted_exec.cmdline_len == 0)
        return fail(d, BH_RPC_E_VALUE, "empty command line");
    if (untrusted_exec.cmdline_len > BH_RPC_MAX_CMDLINE_BYTES)
        return fail(d, BH_RPC_E_LIMIT, "command line of %u bytes, more than %u", untrusted_exec.cmdline_len,
                    BH_RPC_MAX_CMDLINE_BYTES);
    /* Both lengths are bounded above, so the sum cannot wrap. */
    if ((uint64_t)sizeof untrusted_exec + untrusted_exec.user_len + untrusted_exec.cmdline_len !=
        d->m.f.body_len)
        return fail(d, BH_RPC_E_LENGTH, "body length %u, but user (%u) and command line (%u) need %zu",
                    d->m.f.body_len, untrusted_exec.user_len, untrusted_exec.cmdline_len,
                    sizeof untrusted_exec + untrusted_exec.user_len + untrusted_exec.cmdline_len);
    user = d->m.f.body + sizeof untrusted_exec;
    cmdline = user + untrusted_exec.user_len;
    if (!bh_rpc_user_name_ok((const char *)user, untrusted_exec.user_len))
        return fail(d, BH_RPC_E_TEXT, "user name is not [a-z_][a-z0-9_-]*");
    if (check_text(d, "command line", cmdline, untrusted_exec.cmdline_len) < 0)
        return -1;
    if (bh_rpc_state_find(d->state, d->m.f.id))
        return fail(d, BH_RPC_E_REQUEST, "request id already in use");
    if (d->state->count >= BH_RPC_MAX_REQUESTS)
        return fail(d, BH_RPC_E_LIMIT, "already %u requests in flight, the maximum", d->state->count);
    d->out->u.exec.flags = untrusted_exec.flags;
    memcpy(d->out->u.exec.user, user, untrusted_exec.user_len);
    d->out->u.exec.user[untrusted_exec.user_len] = '\0';
    d->out->u.exec.cmdline_len = untrusted_exec.cmdline_len;
    d->out->u.exec.cmdline = (const char *)cmdline;
    return 0;
}

static long dec_data(struct dec *d)
{
    uint32_t stream = (uint32_t)bh_rpc_type_stream(d->m.f.type->type);

    d->out->u.data.len = d->m.f.body_len;
    d->out->u.data.data = d->m.f.body;
    if (lookup(d) < 0)
        return -1;
    if (d->out->stale)
        return 0;
    if (!(d->req->flags & BH_RPC_EXEC_PASS_IO))
        return fail(d, BH_RPC_E_STATE, "%s data for a request without PASS_IO", stream_name(stream));
    if (!(d->req->open & (1u << stream)))
        return fail(d, BH_RPC_E_STATE, "%s data after its end of stream", stream_name(stream));
    if (d->m.f.body_len > d->req->credit[stream])
        return fail(d, BH_RPC_E_CREDIT, "%u bytes of %s, but only %u of credit", d->m.f.body_len,
                    stream_name(stream), d->req->credit[stream]);
    return 0;
}

static long dec_signal(struct dec *d)
{
    struct bh_rpc_signal untrusted_sig;

    memcpy(&untrusted_sig, d->m.f.body, sizeof untrusted_sig);
    /* Linux numbers: SIGHUP 1, SIGINT 2, SIGKILL 9, SIGTERM 15. */
    if (untrusted_sig.signo != 1 && untrusted_sig.signo != 2 && untrusted_sig.signo != 9 &&
        untrusted_sig.signo != 15)
        return fail(d, BH_RPC_E_VALUE, "signal %u: only HUP, INT, KILL and TERM may be sent",
                    untrusted_sig.signo);
    d->out->u.signal = untrusted_sig;
    return lookup(d);
}

static long dec_credit(struct dec *d)
{
    struct bh_rpc_credit untrusted_credit;
    /* The streams the sender of CREDIT receives. */
    uint32_t own = d->m.dir == BH_RPC_FROM_AGENT
                       ? 1u << BH_RPC_STREAM_STDIN
                       : (1u << BH_RPC_STREAM_STDOUT) | (1u << BH_RPC_STREAM_STDERR);

    memcpy(&untrusted_credit, d->m.f.body, sizeof untrusted_credit);
    if (untrusted_credit.stream >= BH_RPC_N_STREAMS || !(own & (1u << untrusted_credit.stream)))
        return fail(d, BH_RPC_E_VALUE, "stream %u: %s may only return credit for %s", untrusted_credit.stream,
                    dir_name(d->m.dir), d->m.dir == BH_RPC_FROM_AGENT ? "stdin" : "stdout and stderr");
    if (untrusted_credit.bytes == 0 || untrusted_credit.bytes > BH_RPC_WINDOW)
        return fail(d, BH_RPC_E_VALUE, "%u bytes of credit: must be 1..%u", untrusted_credit.bytes,
                    BH_RPC_WINDOW);
    d->out->u.credit = untrusted_credit;
    if (lookup(d) < 0)
        return -1;
    if (d->out->stale)
        return 0;
    if (!(d->req->flags & BH_RPC_EXEC_PASS_IO))
        return fail(d, BH_RPC_E_STATE, "credit for a request without PASS_IO");
    /* Credit may still arrive after end of stream (consumed before it), but
     * never beyond the window: that would let the sender overrun us. */
    if (untrusted_credit.bytes > BH_RPC_WINDOW - d->req->credit[untrusted_credit.stream])
        return fail(d, BH_RPC_E_CREDIT, "%u bytes of %s credit on top of %u exceed the window of %u",
                    untrusted_credit.bytes, stream_name(untrusted_credit.stream),
                    d->req->credit[untrusted_credit.stream], BH_RPC_WINDOW);
    return 0;
}

static long dec_exit(struct dec *d)
{
    struct bh_rpc_exit untrusted_exit;
    uint32_t msg_len = d->m.f.body_len - (uint32_t)sizeof untrusted_exit;
    const uint8_t *msg = d->m.f.body + sizeof untrusted_exit;
    long n;

    memcpy(&untrusted_exit, d->m.f.body, sizeof untrusted_exit);
    if (lookup(d) < 0)
        return -1;
    switch (untrusted_exit.kind) {
    case BH_RPC_EXIT_EXITED:
    case BH_RPC_EXIT_SIGNALED:
        if (!(d->req->flags & BH_RPC_EXEC_WAIT))
            return fail(d, BH_RPC_E_STATE, "exit status for a request without WAIT");
        if (untrusted_exit.kind == BH_RPC_EXIT_EXITED && untrusted_exit.value > 255)
            return fail(d, BH_RPC_E_VALUE, "exit code %u: must be 0..255", untrusted_exit.value);
        if (untrusted_exit.kind == BH_RPC_EXIT_SIGNALED &&
            (untrusted_exit.value == 0 || untrusted_exit.value > 64))
            return fail(d, BH_RPC_E_VALUE, "signal %u: must be 1..64", untrusted_exit.value);
        if (d->req->open & ((1u << BH_RPC_STREAM_STDOUT) | (1u << BH_RPC_STREAM_STDERR)))
            return fail(d, BH_RPC_E_STATE, "exit status before end of stream on stdout and stderr");
        break;
    case BH_RPC_EXIT_STARTED:
        if (d->req->flags & BH_RPC_EXEC_WAIT)
            return fail(d, BH_RPC_E_STATE, "STARTED for a request with WAIT");
        if (untrusted_exit.value != 0)
            return fail(d, BH_RPC_E_VALUE, "STARTED with value %u, must be 0", untrusted_exit.value);
        break;
    case BH_RPC_EXIT_FAILED:
        if (msg_len == 0)
            return fail(d, BH_RPC_E_LENGTH, "FAILED without a message");
        break;
    default:
        return fail(d, BH_RPC_E_VALUE, "exit kind %u unknown", untrusted_exit.kind);
    }
    if (untrusted_exit.kind != BH_RPC_EXIT_FAILED && msg_len != 0)
        return fail(d, BH_RPC_E_LENGTH, "a message of %u bytes on an exit that takes none", msg_len);
    if (check_text(d, "message", msg, msg_len) < 0)
        return -1;
    /* The message is shown to the user: controls and bidi overrides go. */
    n = bh_gui_text_sanitize(msg, msg_len, d->out->u.exit.message, sizeof d->out->u.exit.message);
    if (n < 0)
        return fail(d, BH_RPC_E_TEXT, "message: cannot be sanitised");
    if (n == 0 && msg_len > 0)
        return fail(d, BH_RPC_E_TEXT,
                    "message: nothing left after removing control and formatting characters");
    d->out->u.exit.kind = untrusted_exit.kind;
    d->out->u.exit.value = untrusted_exit.value;
    d->out->u.exit.len = (size_t)n;
    return 0;
}

long bh_rpc_decode(const uint8_t *buf, size_t len, enum bh_rpc_dir dir, const struct bh_rpc_state *state,
                   struct bh_rpc_msg *out, struct bh_rpc_error *err)
{
    struct dec d = {
        .m = {.p = &bh_rpc_wire, .dir = (unsigned)dir, .err = BH_WIRE_ERROR(err)},
        .state = state,
        .out = out,
    };
    enum bh_wire_err code;
    long r;

    /* Layer 1: framing (core/wire). */
    code = bh_wire_frame(&bh_rpc_wire, buf, len, (unsigned)dir, &d.m.f, err ? err->reason : NULL,
                         sizeof err->reason);
    if (code != BH_WIRE_OK)
        return bh_wire_verdict(d.m.err, code) == BH_WIRE_E_SHORT ? 0 : -1;
    memset(out, 0, sizeof *out);
    out->type = d.m.f.type->type;
    out->request = d.m.f.id;

    if (d.m.f.type->type == BH_RPC_HELLO) {
        if (state->hello_done)
            return fail(&d, BH_RPC_E_STATE, "second HELLO");
    } else if (!state->hello_done) {
        return fail(&d, BH_RPC_E_STATE, "before HELLO");
    }

    switch (d.m.f.type->type) {
    case BH_RPC_HELLO:
        r = dec_hello(&d);
        break;
    case BH_RPC_PING:
    case BH_RPC_PONG:
        r = dec_ping(&d);
        break;
    case BH_RPC_EXEC:
        r = dec_exec(&d);
        break;
    case BH_RPC_STDIN:
    case BH_RPC_STDOUT:
    case BH_RPC_STDERR:
        r = dec_data(&d);
        break;
    case BH_RPC_SIGNAL:
        r = dec_signal(&d);
        break;
    case BH_RPC_CREDIT:
        r = dec_credit(&d);
        break;
    case BH_RPC_EXIT:
        r = dec_exit(&d);
        break;
    default:
        /* frame_check knows every type of the table; nothing else gets here. */
        r = fail(&d, BH_RPC_E_TYPE, "no decoder");
        break;
    }
    if (r < 0)
        return -1;
    if (err) {
        err->code = BH_RPC_OK;
        err->reason[0] = '\0';
    }
    return (long)d.m.f.size;
}
