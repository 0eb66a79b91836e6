/* rpc-encode.c — the RPC protocol's encoders.
 *
 * Owns: putting header and body together within the type's bounds.
 * Must never: write past cap, or produce a message whose framing the
 * decoder would refuse (the wrong length, an unknown type, a bad user name,
 * a command line that is not text). Field values beyond framing are the
 * sender's business; the peer's decoder checks them anyway. */
#include <string.h>

#include "rpc-internal.h"

/* Header + up to three body parts, after the type's length bounds. */
static size_t encode_parts(uint8_t *out, size_t cap, uint32_t type, uint32_t request, const void *a,
                           size_t a_len, const void *b, size_t b_len, const void *c, size_t c_len)
{
    const struct bh_wire_part parts[] = {{a, a_len}, {b, b_len}, {c, c_len}};

    return bh_wire_encode(&bh_rpc_wire, out, cap, type, request, parts, 3);
}

size_t bh_rpc_encode(uint8_t *out, size_t cap, uint32_t type, uint32_t request, const void *body,
                     size_t body_len)
{
    /* The two-part bodies have their own encoders, which check the parts. */
    if (type == BH_RPC_EXEC || type == BH_RPC_EXIT)
        return 0;
    return encode_parts(out, cap, type, request, body, body_len, NULL, 0, NULL, 0);
}

size_t bh_rpc_encode_exec(uint8_t *out, size_t cap, uint32_t request, uint32_t flags, const char *user,
                          const char *cmdline, size_t cmdline_len)
{
    size_t user_len = user ? strlen(user) : 0, at;
    struct bh_rpc_exec e;

    if (!bh_rpc_user_name_ok(user, user_len) || !cmdline || cmdline_len == 0 ||
        cmdline_len > BH_RPC_MAX_CMDLINE_BYTES ||
        bh_wire_text_check((const uint8_t *)cmdline, cmdline_len, &at) != BH_WIRE_TEXT_OK)
        return 0;
    e = (struct bh_rpc_exec){
        .flags = flags, .user_len = (uint32_t)user_len, .cmdline_len = (uint32_t)cmdline_len};
    return encode_parts(out, cap, BH_RPC_EXEC, request, &e, sizeof e, user, user_len, cmdline, cmdline_len);
}

size_t bh_rpc_encode_exit(uint8_t *out, size_t cap, uint32_t request, uint32_t kind, uint32_t value,
                          const char *message)
{
    struct bh_rpc_exit e = {.kind = kind, .value = value};
    size_t msg_len = message ? strlen(message) : 0, at;

    if ((kind == BH_RPC_EXIT_FAILED) != (msg_len > 0) || msg_len > BH_RPC_MAX_MESSAGE_BYTES ||
        (msg_len && bh_wire_text_check((const uint8_t *)message, msg_len, &at) != BH_WIRE_TEXT_OK))
        return 0;
    return encode_parts(out, cap, BH_RPC_EXIT, request, &e, sizeof e, message, msg_len, NULL, 0);
}

size_t bh_rpc_encode_hello(uint8_t *out, size_t cap)
{
    struct bh_rpc_hello h = {.version = BH_RPC_PROTOCOL_VERSION};

    return bh_rpc_encode(out, cap, BH_RPC_HELLO, 0, &h, sizeof h);
}

size_t bh_rpc_encode_credit(uint8_t *out, size_t cap, uint32_t request, uint32_t stream, uint32_t bytes)
{
    struct bh_rpc_credit c = {.stream = stream, .bytes = bytes};

    return bh_rpc_encode(out, cap, BH_RPC_CREDIT, request, &c, sizeof c);
}

size_t bh_rpc_encode_data(uint8_t *out, size_t cap, uint32_t type, uint32_t request, const void *data,
                          size_t len)
{
    if (bh_rpc_type_stream(type) < 0)
        return 0;
    return bh_rpc_encode(out, cap, type, request, data, len);
}

size_t bh_rpc_encode_msg(uint8_t *out, size_t cap, const struct bh_rpc_msg *m)
{
    switch (m->type) {
    case BH_RPC_HELLO:
        return bh_rpc_encode(out, cap, m->type, m->request, &m->u.hello, sizeof m->u.hello);
    case BH_RPC_PING:
    case BH_RPC_PONG:
        return bh_rpc_encode(out, cap, m->type, m->request, &m->u.ping, sizeof m->u.ping);
    case BH_RPC_EXEC:
        return bh_rpc_encode_exec(out, cap, m->request, m->u.exec.flags, m->u.exec.user, m->u.exec.cmdline,
                                  m->u.exec.cmdline_len);
    case BH_RPC_STDIN:
    case BH_RPC_STDOUT:
    case BH_RPC_STDERR:
        return bh_rpc_encode_data(out, cap, m->type, m->request, m->u.data.data, m->u.data.len);
    case BH_RPC_SIGNAL:
        return bh_rpc_encode(out, cap, m->type, m->request, &m->u.signal, sizeof m->u.signal);
    case BH_RPC_CREDIT:
        return bh_rpc_encode(out, cap, m->type, m->request, &m->u.credit, sizeof m->u.credit);
    case BH_RPC_EXIT:
        return bh_rpc_encode_exit(out, cap, m->request, m->u.exit.kind, m->u.exit.value, m->u.exit.message);
    default:
        return 0;
    }
}
