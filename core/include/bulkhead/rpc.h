/* rpc.h — encoder and layered validating decoder of the RPC protocol (wire
 * format in rpc-protocol.h, specification in docs/rpc.md): libbh_rpc_proto.
 *
 * Decoding is layered and pure:
 *   1. framing     bh_rpc_frame_check(): type known for this direction,
 *                  request id in range, body length within the per-type
 *                  exact/bounded length, before any body byte is read;
 *   2. validation  bh_rpc_decode(): fields within limits, text valid UTF-8
 *                  without NUL, user names well formed;
 *   3. lookup      bh_rpc_decode() also checks the request id and the
 *                  stream against the caller's bh_rpc_state (request live?
 *                  stream still open? within credit? room for another
 *                  request?);
 *   4. dispatch    the caller acts on the typed message, then calls
 *                  bh_rpc_state_apply() so the table follows.
 * Both ends keep one bh_rpc_state per connection and apply to it every
 * message they send and every message they receive; the rules in
 * docs/rpc.md ("Flow control") make the two views agree on what is legal.
 * Nothing here allocates; nothing reads past the length it was given; any
 * error carries a reason for the log and means "drop this peer".
 *
 * Framing (layer 1), the wording of reasons and the text checks are
 * core/wire's, shared with the GUI protocol (bulkhead/wire.h).
 *
 * Owns: the message semantics. Must never: depend on anything but libc and
 * core/wire (no GLib, no vchan, not the GUI protocol), keep state outside
 * the caller's table, or allocate. */
#ifndef BULKHEAD_RPC_H
#define BULKHEAD_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead/rpc-protocol.h"
#include "bulkhead/wire.h"

/* Who sent the bytes being decoded. */
enum bh_rpc_dir {
    BH_RPC_FROM_AGENT = BH_WIRE_FROM_AGENT, /* decoded by dom0: hostile */
    BH_RPC_FROM_DOM0 = BH_WIRE_FROM_DOM0,   /* decoded by the agent */
};

enum bh_rpc_err {
    BH_RPC_OK = BH_WIRE_OK,
    BH_RPC_E_SHORT = BH_WIRE_E_SHORT,     /* not an error by itself: need more bytes */
    BH_RPC_E_TYPE = BH_WIRE_E_TYPE,       /* unknown or reserved type, or wrong direction */
    BH_RPC_E_LENGTH = BH_WIRE_E_LENGTH,   /* body length not what the type allows */
    BH_RPC_E_REQUEST = BH_WIRE_E_ID,      /* request id unknown, in use, or out of range */
    BH_RPC_E_VALUE = BH_WIRE_E_VALUE,     /* a field out of range */
    BH_RPC_E_LIMIT = BH_WIRE_E_LIMIT,     /* a BH_RPC_MAX_* limit would be exceeded */
    BH_RPC_E_TEXT = BH_WIRE_E_TEXT,       /* invalid UTF-8, NUL byte, or a malformed user name */
    BH_RPC_E_STATE = BH_WIRE_E_STATE,     /* valid message at the wrong time (before HELLO, after EOF) */
    BH_RPC_E_VERSION = BH_WIRE_E_VERSION, /* HELLO from a peer with another major version */
    BH_RPC_E_CREDIT,                      /* more stream data than the receiver granted */
};

/* core/wire's struct bh_wire_error under this protocol's code enum, so
 * core/wire words and stores the verdicts of this decoder too. */
struct bh_rpc_error {
    union {
        struct bh_wire_error wire;
        struct {
            enum bh_rpc_err code;
            char reason[BH_WIRE_REASON_BYTES]; /* for the log: which message, field, limit, value */
        };
    };
};
_Static_assert(sizeof(enum bh_rpc_err) == sizeof(enum bh_wire_err), "rpc: error codes are core/wire's size");

/* One live request as both ends track it. */
struct bh_rpc_req_entry {
    uint32_t id;    /* 0 = free slot */
    uint32_t flags; /* bh_rpc_exec_flags */
    /* Bit (1 << stream): the stream has not reached end of stream. */
    uint32_t open;
    /* Bytes the sender of each stream may still send. */
    uint32_t credit[BH_RPC_N_STREAMS];
};
struct bh_rpc_state {
    bool hello_done;       /* peer's HELLO received */
    uint32_t peer_version; /* from the peer's HELLO */
    uint32_t count;
    struct bh_rpc_req_entry slots[BH_RPC_MAX_REQUESTS];
};

/* A validated message. Stream data and the command line point into the
 * caller's input buffer, which must outlive the use of the message. */
struct bh_rpc_msg {
    uint32_t type;
    uint32_t request;
    /* Agent side only: a dom0 message for a request that has already ended
     * (a normal race with EXIT). Valid, but the caller ignores it and does
     * not apply it. */
    bool stale;
    union {
        struct bh_rpc_hello hello;
        struct bh_rpc_ping ping; /* PING and PONG */
        struct {
            uint32_t flags;
            char user[BH_RPC_MAX_USER_BYTES + 1]; /* NUL-terminated; "" = the agent's user */
            size_t cmdline_len;
            const char *cmdline; /* valid UTF-8 without NUL, not NUL-terminated */
        } exec;
        struct {
            size_t len; /* 0 = end of stream */
            const uint8_t *data;
        } data; /* STDIN, STDOUT, STDERR */
        struct bh_rpc_signal signal;
        struct bh_rpc_credit credit;
        struct {
            uint32_t kind;
            uint32_t value;
            size_t len;                                 /* bytes before the NUL */
            char message[BH_RPC_MAX_MESSAGE_BYTES + 1]; /* sanitised UTF-8, NUL-terminated */
        } exit;
    } u;
};

void bh_rpc_state_init(struct bh_rpc_state *s);
const struct bh_rpc_req_entry *bh_rpc_state_find(const struct bh_rpc_state *s, uint32_t id);
/* Applies a message this end sent or received and the decoder (or, for sent
 * ones, the rules) allowed: EXEC adds a request, EXIT removes it, stream
 * data spends credit, end of stream closes the stream, CREDIT returns credit,
 * HELLO received marks the handshake done. Never call it for stale messages. */
void bh_rpc_state_apply(struct bh_rpc_state *s, const struct bh_rpc_msg *m, bool received);

/* Layer 1 on a header alone (sizeof(struct bh_rpc_hdr) bytes at hdr). On
 * success *body_len is the announced body length, already checked against
 * the type's bound, so a buffer of BH_RPC_MAX_MSG_BYTES always holds the
 * message. */
enum bh_rpc_err bh_rpc_frame_check(const uint8_t *hdr, enum bh_rpc_dir dir, uint32_t *body_len,
                                   struct bh_rpc_error *err);

/* Layers 1 to 3 on buf[0..len). Returns the bytes of the message consumed
 * (> 0) with *out filled; 0 when buf holds only part of a message
 * (err->code = BH_RPC_E_SHORT); -1 on a violation (err->reason says which
 * rule). Never reads outside buf[0..len), never writes to *state. */
long bh_rpc_decode(const uint8_t *buf, size_t len, enum bh_rpc_dir dir, const struct bh_rpc_state *state,
                   struct bh_rpc_msg *out, struct bh_rpc_error *err);

/* Encoders: write one message into out[0..cap). Return its length, or 0 when
 * cap is too small or the arguments break a limit of the type (so a bug in
 * the sender never puts a message on the wire that the peer must reject). */
size_t bh_rpc_encode(uint8_t *out, size_t cap, uint32_t type, uint32_t request, const void *body,
                     size_t body_len);
size_t bh_rpc_encode_exec(uint8_t *out, size_t cap, uint32_t request, uint32_t flags, const char *user,
                          const char *cmdline, size_t cmdline_len);
size_t bh_rpc_encode_exit(uint8_t *out, size_t cap, uint32_t request, uint32_t kind, uint32_t value,
                          const char *message);
/* Convenience: HELLO with this side's version; CREDIT; stream data. */
size_t bh_rpc_encode_hello(uint8_t *out, size_t cap);
size_t bh_rpc_encode_credit(uint8_t *out, size_t cap, uint32_t request, uint32_t stream, uint32_t bytes);
size_t bh_rpc_encode_data(uint8_t *out, size_t cap, uint32_t type, uint32_t request, const void *data,
                          size_t len);

/* Any message from its decoded form (what bh_rpc_decode fills in, or what
 * a sender builds the same way): EXEC takes u.exec.user/cmdline, EXIT takes
 * u.exit.message (NUL-terminated; empty unless FAILED). */
size_t bh_rpc_encode_msg(uint8_t *out, size_t cap, const struct bh_rpc_msg *m);

/* Whether a user name is well formed ("" is: the agent's own user). */
bool bh_rpc_user_name_ok(const char *user, size_t len);
/* The stream a data message type carries, or -1. */
int bh_rpc_type_stream(uint32_t type);
const char *bh_rpc_type_name(uint32_t type);
const char *bh_rpc_err_name(enum bh_rpc_err code);

#endif /* BULKHEAD_RPC_H */
