/* rpc-protocol.h — the Bulkhead RPC protocol between dom0 (bulkheadd, through
 * libbh_rpc_client) and bulkhead-agent inside a qube: the single source in
 * code for docs/rpc.md.
 *
 * Owns: wire layout (packed, fixed-width, host byte order: both ends run on
 * one machine), message type numbers, stream numbers and the hard limits.
 * Must never: contain logic, depend on anything but libc, or change a struct
 * without bumping BH_RPC_PROTOCOL_VERSION.
 *
 * One vchan connection (port BH_RPC_VCHAN_PORT, the agent is the server)
 * carries every call, multiplexed by a request id that dom0 chooses. Every
 * message is a bh_rpc_hdr followed by exactly hdr.untrusted_len bytes of
 * body; every type has an exact or a bounded body length. Stream data is
 * flow-controlled per request and stream with credit (CREDIT messages), so
 * neither side ever buffers more than BH_RPC_WINDOW bytes per stream.
 * Everything the agent sends is hostile: core/rpc's decoder is the only code
 * allowed to read these structs off the wire. */
#ifndef BULKHEAD_RPC_PROTOCOL_H
#define BULKHEAD_RPC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* major << 16 | minor. A peer with another major is refused at HELLO. A
 * minor bump may only add message types; after HELLO each side sends only
 * the types of min(its minor, the peer's minor). */
#define BH_RPC_PROTOCOL_MAJOR   1u
#define BH_RPC_PROTOCOL_MINOR   0u
#define BH_RPC_PROTOCOL_VERSION ((BH_RPC_PROTOCOL_MAJOR << 16) | BH_RPC_PROTOCOL_MINOR)

/* vchan port of the RPC connection (as qrexec's 512). */
#define BH_RPC_VCHAN_PORT 512

/* ---- Limits (the decoder enforces each one) ---------------------------- */

/* Calls in flight on one connection. Bounds the agent's children and pipes
 * and both ends' buffers: 32 x 3 streams x BH_RPC_WINDOW = 12 MiB at most
 * (dom0 holds the 8 MiB of stdout/stderr, the agent the 4 MiB of stdin). */
#define BH_RPC_MAX_REQUESTS 32u
/* Request ids are chosen by dom0 in 1..BH_RPC_MAX_REQUEST_ID; 0 = the
 * connection (HELLO, PING, PONG). */
#define BH_RPC_MAX_REQUEST_ID 0x7fffffffu
/* One STDIN/STDOUT/STDERR message carries at most this much. */
#define BH_RPC_MAX_CHUNK 65536u
/* Credit per stream: bytes the sender may have sent and the receiver not yet
 * consumed. Initial credit equals the window; the receiver returns credit as
 * it consumes, never beyond the window. */
#define BH_RPC_WINDOW (128u * 1024u)
/* EXEC: user name and command line. */
#define BH_RPC_MAX_USER_BYTES    32u
#define BH_RPC_MAX_CMDLINE_BYTES 32768u
/* EXIT of a failed call: why, for the user (UTF-8). */
#define BH_RPC_MAX_MESSAGE_BYTES 512u
/* Clipboard (reserved, not implemented in 1.0): same cap as the GUI
 * protocol's clipboard. */
#define BH_RPC_MAX_CLIPBOARD_BYTES 256000u

/* ---- Message types ------------------------------------------------------ */

enum bh_rpc_msg_type {
    /* Both directions, request 0. First message on a connection, each way. */
    BH_RPC_HELLO = 0x0001,

    /* dom0 -> agent */
    BH_RPC_PING = 0x0100,   /* request 0; the agent answers PONG with the cookie */
    BH_RPC_EXEC = 0x0101,   /* a new request: bh_rpc_exec + user + cmdline */
    BH_RPC_STDIN = 0x0102,  /* 0..BH_RPC_MAX_CHUNK bytes; 0 bytes = end of stream */
    BH_RPC_SIGNAL = 0x0103, /* deliver a signal to the request's process group */

    /* agent -> dom0 */
    BH_RPC_PONG = 0x0200,
    BH_RPC_STDOUT = 0x0201, /* 0..BH_RPC_MAX_CHUNK bytes; 0 bytes = end of stream */
    BH_RPC_STDERR = 0x0202, /* likewise */
    BH_RPC_EXIT = 0x0203,   /* the request's last message: bh_rpc_exit [+ message] */

    /* Both directions: the receiver of a stream returns credit to its sender. */
    BH_RPC_CREDIT = 0x0300,

    /* Reserved for a later version; the 1.0 decoder rejects them as unknown.
     * Shapes in docs/rpc.md ("Later services"). */
    BH_RPC_CLIPBOARD_GET = 0x0400,  /* dom0 -> agent: hand over your clipboard */
    BH_RPC_CLIPBOARD_DATA = 0x0401, /* agent -> dom0: UTF-8, <= BH_RPC_MAX_CLIPBOARD_BYTES */
    BH_RPC_CLIPBOARD_SET = 0x0402,  /* dom0 -> agent: take this clipboard */
    BH_RPC_FILE_BEGIN = 0x0410,     /* dom0 -> agent: qvm-copy, a file or directory entry */
    BH_RPC_FILE_DATA = 0x0411,
    BH_RPC_FILE_END = 0x0412,
};

/* Streams of a request, as named in CREDIT. */
enum bh_rpc_stream {
    BH_RPC_STREAM_STDIN = 0,  /* dom0 -> agent */
    BH_RPC_STREAM_STDOUT = 1, /* agent -> dom0 */
    BH_RPC_STREAM_STDERR = 2, /* agent -> dom0 */
    BH_RPC_N_STREAMS = 3,
};

/* ---- Wire structs --------------------------------------------------------- */

#define BH_RPC_PACKED __attribute__((packed))

struct bh_rpc_hdr {
    uint32_t type;          /* enum bh_rpc_msg_type */
    uint32_t request;       /* 0 for connection-wide messages */
    uint32_t untrusted_len; /* body bytes that follow */
} BH_RPC_PACKED;

struct bh_rpc_hello {
    uint32_t version; /* BH_RPC_PROTOCOL_VERSION of the sender */
} BH_RPC_PACKED;

/* PING / PONG: dom0 picks the cookie; the agent echoes it. */
struct bh_rpc_ping {
    uint64_t cookie;
} BH_RPC_PACKED;

enum bh_rpc_exec_flags {
    /* Stream stdin/stdout/stderr (else they are /dev/null). Needs WAIT. */
    BH_RPC_EXEC_PASS_IO = 1u << 0,
    /* Report the exit status. Without it the agent answers EXIT(STARTED) as
     * soon as the program runs and forgets it (qvm-run without --wait). */
    BH_RPC_EXEC_WAIT = 1u << 1,
};
#define BH_RPC_EXEC_FLAGS_ALL (BH_RPC_EXEC_PASS_IO | BH_RPC_EXEC_WAIT)

/* EXEC body: this struct, then user_len bytes of user name (ASCII
 * [a-z_][a-z0-9_-]*, or empty = the agent's own user), then cmdline_len bytes
 * of command line (UTF-8, no NUL, 1..BH_RPC_MAX_CMDLINE_BYTES) run as
 * `/bin/sh -c CMDLINE`. Nothing is NUL-terminated. */
struct bh_rpc_exec {
    uint32_t flags;       /* bh_rpc_exec_flags */
    uint32_t user_len;    /* 0..BH_RPC_MAX_USER_BYTES */
    uint32_t cmdline_len; /* 1..BH_RPC_MAX_CMDLINE_BYTES */
} BH_RPC_PACKED;

/* SIGNAL: only these may be sent (to the request's process group). */
struct bh_rpc_signal {
    uint32_t signo; /* SIGHUP, SIGINT, SIGKILL or SIGTERM (Linux numbers) */
} BH_RPC_PACKED;

/* CREDIT: the receiver of `stream` consumed `bytes` more. */
struct bh_rpc_credit {
    uint32_t stream; /* bh_rpc_stream, one the sender of CREDIT receives */
    uint32_t bytes;  /* 1..BH_RPC_WINDOW; the sender's credit never exceeds the window */
} BH_RPC_PACKED;

enum bh_rpc_exit_kind {
    BH_RPC_EXIT_EXITED = 1,   /* value = exit code 0..255 */
    BH_RPC_EXIT_SIGNALED = 2, /* value = signal number 1..64 */
    BH_RPC_EXIT_STARTED = 3,  /* no WAIT: the program runs; value = 0 */
    BH_RPC_EXIT_FAILED = 4,   /* could not run (user, fork, ...): value = errno, message says why */
};

/* EXIT body: this struct, then for FAILED 1..BH_RPC_MAX_MESSAGE_BYTES of
 * UTF-8 (no NUL) saying why; other kinds have no message. EXITED and
 * SIGNALED come only after end of stream on stdout and stderr (PASS_IO), so
 * EXIT means all output has been sent. */
struct bh_rpc_exit {
    uint32_t kind;  /* bh_rpc_exit_kind */
    uint32_t value; /* see bh_rpc_exit_kind */
} BH_RPC_PACKED;

_Static_assert(sizeof(struct bh_rpc_hdr) == 12, "rpc header is 12 bytes");
_Static_assert(sizeof(struct bh_rpc_hello) == 4, "hello is 4 bytes");
_Static_assert(sizeof(struct bh_rpc_ping) == 8, "ping is 8 bytes");
_Static_assert(sizeof(struct bh_rpc_exec) == 12, "exec is 12 bytes");
_Static_assert(sizeof(struct bh_rpc_signal) == 4, "signal is 4 bytes");
_Static_assert(sizeof(struct bh_rpc_credit) == 8, "credit is 8 bytes");
_Static_assert(sizeof(struct bh_rpc_exit) == 8, "exit is 8 bytes");

/* The largest body of any 1.0 message, and of a whole message: receivers
 * size their input buffer with BH_RPC_MAX_MSG_BYTES. */
#define BH_RPC_MAX_EXEC_BODY_BYTES                                                                           \
    (sizeof(struct bh_rpc_exec) + BH_RPC_MAX_USER_BYTES + BH_RPC_MAX_CMDLINE_BYTES)
#define BH_RPC_MAX_BODY_BYTES                                                                                \
    (BH_RPC_MAX_EXEC_BODY_BYTES > BH_RPC_MAX_CHUNK ? BH_RPC_MAX_EXEC_BODY_BYTES : (size_t)BH_RPC_MAX_CHUNK)
#define BH_RPC_MAX_MSG_BYTES (sizeof(struct bh_rpc_hdr) + BH_RPC_MAX_BODY_BYTES)

_Static_assert(BH_RPC_WINDOW >= BH_RPC_MAX_CHUNK, "a full chunk always fits the window");
_Static_assert(BH_RPC_MAX_REQUESTS <= 64, "the agent polls 3 pipes per request");

#endif /* BULKHEAD_RPC_PROTOCOL_H */
