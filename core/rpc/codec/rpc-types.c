/* rpc-types.c — the per-type table of the RPC protocol and the request table
 * both ends keep (bh_rpc_state).
 *
 * Owns: which direction may send which type, each type's body bounds, and
 * how a message changes the request table.
 * Must never: allocate, or apply a message the decoder did not accept. */
#include <string.h>

#include "rpc-internal.h"

_Static_assert(BH_RPC_MAX_USER_BYTES == BH_TEXT_MAX_USER_BYTES,
               "the RPC carries every user name the model accepts");

#define BOTH       (BH_RPC_FROM_AGENT | BH_RPC_FROM_DOM0)
#define HDR_MIN(s) ((uint32_t)sizeof(s))
/* Rows of core/wire's table: exact length (unit 0) or any length between
 * the bounds (unit 1). */
#define EXACT(s)        HDR_MIN(s), HDR_MIN(s), 0
#define RANGE(min, max) (min), (max), 1

static const struct bh_wire_type types[] = {
    {BH_RPC_HELLO, "HELLO", BOTH, true, EXACT(struct bh_rpc_hello)},
    {BH_RPC_PING, "PING", BH_RPC_FROM_DOM0, true, EXACT(struct bh_rpc_ping)},
    {BH_RPC_EXEC, "EXEC", BH_RPC_FROM_DOM0, false,
     RANGE(HDR_MIN(struct bh_rpc_exec) + 1, (uint32_t)BH_RPC_MAX_EXEC_BODY_BYTES)},
    {BH_RPC_STDIN, "STDIN", BH_RPC_FROM_DOM0, false, RANGE(0, BH_RPC_MAX_CHUNK)},
    {BH_RPC_SIGNAL, "SIGNAL", BH_RPC_FROM_DOM0, false, EXACT(struct bh_rpc_signal)},
    {BH_RPC_PONG, "PONG", BH_RPC_FROM_AGENT, true, EXACT(struct bh_rpc_ping)},
    {BH_RPC_STDOUT, "STDOUT", BH_RPC_FROM_AGENT, false, RANGE(0, BH_RPC_MAX_CHUNK)},
    {BH_RPC_STDERR, "STDERR", BH_RPC_FROM_AGENT, false, RANGE(0, BH_RPC_MAX_CHUNK)},
    {BH_RPC_EXIT, "EXIT", BH_RPC_FROM_AGENT, false,
     RANGE(HDR_MIN(struct bh_rpc_exit), HDR_MIN(struct bh_rpc_exit) + BH_RPC_MAX_MESSAGE_BYTES)},
    {BH_RPC_CREDIT, "CREDIT", BOTH, false, EXACT(struct bh_rpc_credit)},
};

const struct bh_wire_type *bh_rpc_type_info(uint32_t type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (types[i].type == type)
            return &types[i];
    }
    return NULL;
}

const char *bh_rpc_type_name(uint32_t type)
{
    const struct bh_wire_type *ti = bh_rpc_type_info(type);

    if (ti)
        return ti->name;
    switch (type) {
    case BH_RPC_CLIPBOARD_GET:
        return "CLIPBOARD_GET";
    case BH_RPC_CLIPBOARD_DATA:
        return "CLIPBOARD_DATA";
    case BH_RPC_CLIPBOARD_SET:
        return "CLIPBOARD_SET";
    case BH_RPC_FILE_BEGIN:
        return "FILE_BEGIN";
    case BH_RPC_FILE_DATA:
        return "FILE_DATA";
    case BH_RPC_FILE_END:
        return "FILE_END";
    default:
        return "unknown";
    }
}

static void unknown_type(char *reason, size_t cap, uint32_t type)
{
    bh_wire_reason(reason, cap, "message type 0x%x (%s) not part of protocol %u.%u", type,
                   bh_rpc_type_name(type), BH_RPC_PROTOCOL_MAJOR, BH_RPC_PROTOCOL_MINOR);
}

const struct bh_wire_protocol bh_rpc_wire = {
    .id_word = "request",
    .max_id = BH_RPC_MAX_REQUEST_ID,
    .max_body = BH_RPC_MAX_BODY_BYTES,
    .type_info = bh_rpc_type_info,
    .unknown_type = unknown_type,
};

const char *bh_rpc_err_name(enum bh_rpc_err code)
{
    static const char *const names[] = {
        [BH_RPC_OK] = "ok",
        [BH_RPC_E_SHORT] = "short",
        [BH_RPC_E_TYPE] = "type",
        [BH_RPC_E_LENGTH] = "length",
        [BH_RPC_E_REQUEST] = "request",
        [BH_RPC_E_VALUE] = "value",
        [BH_RPC_E_LIMIT] = "limit",
        [BH_RPC_E_TEXT] = "text",
        [BH_RPC_E_STATE] = "state",
        [BH_RPC_E_VERSION] = "version",
        [BH_RPC_E_CREDIT] = "credit",
    };

    if ((unsigned)code < sizeof names / sizeof names[0] && names[code])
        return names[code];
    return "unknown";
}

int bh_rpc_type_stream(uint32_t type)
{
    switch (type) {
    case BH_RPC_STDIN:
        return BH_RPC_STREAM_STDIN;
    case BH_RPC_STDOUT:
        return BH_RPC_STREAM_STDOUT;
    case BH_RPC_STDERR:
        return BH_RPC_STREAM_STDERR;
    default:
        return -1;
    }
}

bool bh_rpc_user_name_ok(const char *user, size_t len)
{
    /* The model's rule (core/wire), plus "": the agent's own user. */
    return len == 0 || bh_text_user_name_ok(user, len);
}

/* ---- The request table ---------------------------------------------------- */

void bh_rpc_state_init(struct bh_rpc_state *s)
{
    memset(s, 0, sizeof *s);
}

const struct bh_rpc_req_entry *bh_rpc_state_find(const struct bh_rpc_state *s, uint32_t id)
{
    if (id == 0)
        return NULL;
    for (size_t i = 0; i < BH_RPC_MAX_REQUESTS; i++) {
        if (s->slots[i].id == id)
            return &s->slots[i];
    }
    return NULL;
}

static struct bh_rpc_req_entry *find_mut(struct bh_rpc_state *s, uint32_t id)
{
    return (struct bh_rpc_req_entry *)bh_rpc_state_find(s, id);
}

void bh_rpc_state_apply(struct bh_rpc_state *s, const struct bh_rpc_msg *m, bool received)
{
    struct bh_rpc_req_entry *e;
    int stream = bh_rpc_type_stream(m->type);

    if (m->stale)
        return;
    if (m->type == BH_RPC_HELLO) {
        if (received) {
            s->hello_done = true;
            s->peer_version = m->u.hello.version;
        }
        return;
    }
    if (m->type == BH_RPC_EXEC) {
        if (bh_rpc_state_find(s, m->request) || s->count >= BH_RPC_MAX_REQUESTS)
            return;
        e = NULL;
        for (size_t i = 0; i < BH_RPC_MAX_REQUESTS && !e; i++) {
            if (s->slots[i].id == 0)
                e = &s->slots[i];
        }
        if (!e)
            return;
        e->id = m->request;
        e->flags = m->u.exec.flags;
        e->open = (m->u.exec.flags & BH_RPC_EXEC_PASS_IO) ? (1u << BH_RPC_N_STREAMS) - 1u : 0u;
        for (int i = 0; i < BH_RPC_N_STREAMS; i++)
            e->credit[i] = BH_RPC_WINDOW;
        s->count++;
        return;
    }
    e = find_mut(s, m->request);
    if (!e)
        return;
    if (stream >= 0) {
        if (m->u.data.len == 0)
            e->open &= ~(1u << stream);
        else if (m->u.data.len <= e->credit[stream])
            e->credit[stream] -= (uint32_t)m->u.data.len;
        return;
    }
    switch (m->type) {
    case BH_RPC_CREDIT:
        if (m->u.credit.stream < BH_RPC_N_STREAMS &&
            m->u.credit.bytes <= BH_RPC_WINDOW - e->credit[m->u.credit.stream])
            e->credit[m->u.credit.stream] += m->u.credit.bytes;
        break;
    case BH_RPC_EXIT:
        memset(e, 0, sizeof *e);
        s->count--;
        break;
    default:
        break;
    }
}
