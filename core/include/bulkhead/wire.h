/* wire.h — the layer both of Bulkhead's wire protocols stand on (the GUI
 * protocol, core/proto; the RPC, core/rpc/codec): the 12-byte header, a
 * protocol's table of message types, framing in both directions, the
 * wording of reasons, and the checks of text (docs/gui-protocol.md and
 * docs/rpc.md, "What the decoder rejects").
 *
 * Both protocols run between a qube's agent and dom0, frame every message
 * as type, id (a window or a request; 0 for the connection) and body
 * length, and bound each type's body by a table. What a message means, its
 * fields and the per-connection tables stay with each protocol, and so do
 * their fuzzers (tests/fuzz/proto, tests/fuzz/rpc), which compile this
 * library with them.
 *
 * Owns: layer 1 of both decoders (bh_wire_frame), the framing of both
 * encoders (bh_wire_encode), "TYPE window N: ..." reasons and the verdict
 * they go with (bh_wire_fail, bh_wire_verdict), HELLO's version rule
 * (bh_wire_hello), and what counts as text (bh_wire_text_check; UTF-8
 * itself and the title sanitiser are text.c's, bulkhead/text.h).
 * Must never: depend on anything but libc, allocate, read outside the
 * bytes it was given, or know a message type of either protocol (HELLO's
 * version word is a body both share; each protocol says when it applies). */
#ifndef BULKHEAD_WIRE_H
#define BULKHEAD_WIRE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead/text.h"

/* Who sent the bytes: the same type number may be valid one way only. The
 * protocols' own direction enums take these values. */
enum bh_wire_dir {
    BH_WIRE_FROM_AGENT = 1, /* decoded in dom0: hostile */
    BH_WIRE_FROM_DOM0 = 2,  /* decoded by the qube's agent */
};

/* The classes of violation both protocols share; their own error enums
 * take these values (the RPC adds one of its own after them). */
enum bh_wire_err {
    BH_WIRE_OK = 0,
    BH_WIRE_E_SHORT,   /* not an error by itself: need more bytes */
    BH_WIRE_E_TYPE,    /* unknown type, or wrong direction */
    BH_WIRE_E_LENGTH,  /* body length not what the type allows */
    BH_WIRE_E_ID,      /* window or request id unknown, reused or out of range */
    BH_WIRE_E_VALUE,   /* a field out of range */
    BH_WIRE_E_LIMIT,   /* a hard limit would be exceeded */
    BH_WIRE_E_TEXT,    /* invalid UTF-8, a NUL byte, nothing left after sanitising */
    BH_WIRE_E_STATE,   /* valid message at the wrong time (before HELLO) */
    BH_WIRE_E_VERSION, /* HELLO from a peer with another major version */
};

/* The header of every message of both protocols. */
struct bh_wire_hdr {
    uint32_t type;
    uint32_t id;            /* window or request; 0 for connection-wide messages */
    uint32_t untrusted_len; /* body bytes that follow */
} __attribute__((packed));
_Static_assert(sizeof(struct bh_wire_hdr) == 12, "wire: header");

#define BH_WIRE_HDR_BYTES ((uint32_t)sizeof(struct bh_wire_hdr))

/* One row of a protocol's message table. */
struct bh_wire_type {
    uint32_t type;
    const char *name;
    unsigned dirs;    /* mask of enum bh_wire_dir values allowed to send it */
    bool conn;        /* connection-wide: id must be 0; else 1..max_id */
    uint32_t min_len; /* body length: min_len + k * unit <= max_len */
    uint32_t max_len;
    uint32_t unit; /* 0 = exact length (min_len == max_len) */
};

/* What framing needs to know of a protocol. */
struct bh_wire_protocol {
    const char *id_word; /* "window", "request": names the header's id in reasons */
    uint32_t max_id;
    uint64_t max_body; /* no part of a body an encoder is given may be longer */
    /* NULL for a type the protocol does not know. */
    const struct bh_wire_type *(*type_info)(uint32_t type);
    /* The reason for a type the table does not have (each protocol says
     * which version it speaks). */
    void (*unknown_type)(char *reason, size_t cap, uint32_t type);
};

/* Whether len is an allowed body length for the type. */
bool bh_wire_type_len_ok(const struct bh_wire_type *t, uint64_t len);

/* ---- Reasons ------------------------------------------------------------ */

/* Every reason is at most this long with its NUL (both protocols' error
 * structs hold one). A NULL reason below means "no reason wanted". */
#define BH_WIRE_REASON_BYTES 160

/* A decoder's verdict. Each protocol's error struct is a union of this and
 * the same two fields under its own code enum (bulkhead/proto.h,
 * bulkhead/rpc.h), so the helpers below fill either. */
struct bh_wire_error {
    enum bh_wire_err code; /* or a protocol's own code after BH_WIRE_E_VERSION */
    char reason[BH_WIRE_REASON_BYTES];
};

/* Stores code in err (nothing if err is NULL) and returns it. */
enum bh_wire_err bh_wire_verdict(struct bh_wire_error *err, enum bh_wire_err code);
/* A protocol's error (a pointer, may be NULL) as the struct core/wire fills. */
#define BH_WIRE_ERROR(proto_err) ((proto_err) ? &(proto_err)->wire : NULL)

__attribute__((format(printf, 3, 4))) void bh_wire_reason(char *reason, size_t cap, const char *fmt, ...);
/* "TYPE <id_word> ID: detail", so a log line names the message. */
__attribute__((format(printf, 6, 0))) void bh_wire_vreason_msg(char *reason, size_t cap,
                                                               const char *type_name, const char *id_word,
                                                               uint32_t id, const char *fmt, va_list ap);

/* ---- Layer 1 ------------------------------------------------------------ */

/* A header at `hdr` (BH_WIRE_HDR_BYTES bytes): type known and allowed from
 * `dir`, id of the right class, body length within the type's bounds. On
 * success stores the body length, empties the reason and returns
 * BH_WIRE_OK. */
enum bh_wire_err bh_wire_frame_check(const struct bh_wire_protocol *p, const uint8_t *hdr, unsigned dir,
                                     uint32_t *body_len, char *reason, size_t cap);

/* One message framed at the start of buf[0..len). */
struct bh_wire_frame {
    const struct bh_wire_type *type;
    uint32_t id;
    const uint8_t *body;
    uint32_t body_len;
    size_t size; /* header + body */
};

/* bh_wire_frame_check on buf's header once it is complete, then the body's
 * presence. BH_WIRE_E_SHORT (the reason says what is missing) when more
 * bytes are needed; a bad header is reported as soon as it is complete,
 * before waiting for the body it announces. */
enum bh_wire_err bh_wire_frame(const struct bh_wire_protocol *p, const uint8_t *buf, size_t len, unsigned dir,
                               struct bh_wire_frame *f, char *reason, size_t cap);

/* A message that passed layer 1, as a protocol's decoder judges it. */
struct bh_wire_msg {
    const struct bh_wire_protocol *p;
    struct bh_wire_frame f;
    unsigned dir;              /* who sent it: enum bh_wire_dir */
    struct bh_wire_error *err; /* where the verdict goes; NULL: nowhere */
};

/* Stores code and "TYPE <id_word> ID: detail" in m->err (if any) and
 * returns -1, a decoder's answer for a refused message. */
__attribute__((format(printf, 3, 4))) long bh_wire_fail(const struct bh_wire_msg *m, unsigned code,
                                                        const char *fmt, ...);

/* HELLO's body in both protocols: the sender's version, major << 16 |
 * minor. Copies it to version (a uint32_t of any alignment: the protocols'
 * structs are packed) if its major is this side's; else bh_wire_fail's -1
 * with BH_WIRE_E_VERSION. */
long bh_wire_hello(const struct bh_wire_msg *m, unsigned major, unsigned minor, void *version);

/* ---- Encoding ----------------------------------------------------------- */

struct bh_wire_part {
    const void *data;
    size_t len;
};

/* Header + the parts of the body into out[0..cap). Returns the message's
 * size, or 0 (nothing written that counts) when the type is unknown, the id
 * of the wrong class, a part longer than p->max_body or NULL with a length,
 * the body's length not allowed, or cap too small: a bug in the sender
 * never puts a frame on the wire that the peer's layer 1 would refuse. */
size_t bh_wire_encode(const struct bh_wire_protocol *p, uint8_t *out, size_t cap, uint32_t type, uint32_t id,
                      const struct bh_wire_part *parts, size_t n_parts);

/* ---- Text ---------------------------------------------------------------- */

/* How s[0..len) fails to be text: UTF-8 without NUL, the form of everything
 * that ends up in a C string or on a screen. *at is the offset of the first
 * invalid byte or of the NUL. */
enum bh_wire_text {
    BH_WIRE_TEXT_OK = 0,
    BH_WIRE_TEXT_UTF8,
    BH_WIRE_TEXT_NUL,
};
enum bh_wire_text bh_wire_text_check(const uint8_t *s, size_t len, size_t *at);

#endif /* BULKHEAD_WIRE_H */
