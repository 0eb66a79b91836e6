/* guid-launch.h — the messages between bulkheadd and guid's launcher
 * (`bulkhead-guid --launcher FD`, docs/guid.md "The launcher").
 *
 * The launcher is one dom0 process that has loaded guid's libraries and
 * fontconfig's configuration and forks one guid per qube on bulkheadd's
 * request. Only bulkheadd talks to it, over a SOCK_SEQPACKET pair: one
 * message per datagram. A request is a header and the guid's argv, NUL
 * terminated strings, then at most one more string, the address of the
 * accessibility bus (AT-SPI) the guid is to use, filling the rest exactly,
 * with one descriptor
 * (SCM_RIGHTS): the write end of the pipe that becomes the guid's stderr.
 * Replies say that a guid was forked (its pid, and a pidfd for signalling
 * it without a pid-reuse race), could not be, or ended (its wait status).
 *
 * Owns: the layout, the limits, pure encoders and decoders
 * (guid-launch.c), and sending or receiving one message with its
 * descriptors (guid-launch-io.c).
 * Must never: depend on anything but libc, allocate, or read outside the
 * bytes it was given. Nothing here comes from a qube: argv holds names and
 * labels bulkheadd took from its store; the decoder still checks all of it. */
#ifndef BULKHEAD_GUID_LAUNCH_H
#define BULKHEAD_GUID_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BH_GUID_LAUNCH_MAGIC     0x4c474842u /* "BHGL" */
#define BH_GUID_LAUNCH_VERSION   2u
#define BH_GUID_LAUNCH_MAX_ARGS  16u   /* guid takes 12 at most */
#define BH_GUID_LAUNCH_MAX_BYTES 4096u /* a whole request */
#define BH_GUID_LAUNCH_MAX_A11Y  1024u /* the a11y bus address, its NUL included */

struct bh_guid_launch_request {
    uint32_t magic;
    uint32_t version;
    uint32_t serial; /* bulkheadd's, echoed in every reply about this guid */
    uint32_t argc;
    /* argc NUL-terminated strings follow, then optionally the a11y bus
     * address (one non-empty NUL-terminated string), nothing after it */
};
_Static_assert(sizeof(struct bh_guid_launch_request) == 16, "request header is 16 bytes");

enum bh_guid_launch_kind {
    BH_GUID_LAUNCH_STARTED = 1, /* pid = the guid; a pidfd rides along when the kernel has them */
    BH_GUID_LAUNCH_FAILED = 2,  /* value = errno (or EINVAL for a request refused) */
    BH_GUID_LAUNCH_EXITED = 3,  /* value = the wait status (waitpid) */
};

struct bh_guid_launch_reply {
    uint32_t magic;
    uint32_t kind;
    uint32_t serial;
    int32_t pid;
    int32_t value;
};
_Static_assert(sizeof(struct bh_guid_launch_reply) == 20, "reply is 20 bytes");

/* Writes a request for argv (NULL-terminated) and the a11y bus address
 * (NULL: none) into buf: its length, or -1 when it does not fit in cap or
 * breaks a limit. */
long bh_guid_launch_encode_request(uint8_t *buf, size_t cap, uint32_t serial, const char *const *argv,
                                   const char *a11y);

/* Checks a request of len bytes: argc (1..MAX_ARGS) and argv pointing into
 * buf, NULL-terminated (argv has room for MAX_ARGS + 1), *a11y the address
 * (NULL when the request has none), or -1 and *why. */
int bh_guid_launch_decode_request(const uint8_t *buf, size_t len, uint32_t *serial, const char **argv,
                                  const char **a11y, const char **why);

void bh_guid_launch_encode_reply(struct bh_guid_launch_reply *reply, enum bh_guid_launch_kind kind,
                                 uint32_t serial, pid_t pid, int value);

/* 0 and *reply filled, or -1 and *why. */
int bh_guid_launch_decode_reply(const uint8_t *buf, size_t len, struct bh_guid_launch_reply *reply,
                                const char **why);

/* Sends one message of len bytes with n_fds (0..4) descriptors attached;
 * sendmsg's result (EINTR retried, no SIGPIPE). */
long bh_guid_launch_send(int sock, const void *buf, size_t len, const int *fds, int n_fds);

/* Receives one message into buf (cap bytes) and up to max_fds descriptors
 * (close-on-exec; any beyond max_fds are closed), *n_fds of them. *cut is
 * set when the message or its descriptors were cut short. flags: recvmsg's
 * (MSG_DONTWAIT). recvmsg's result: 0 when the peer closed its end. */
long bh_guid_launch_recv(int sock, void *buf, size_t cap, int *fds, int max_fds, int *n_fds, int *cut,
                         int flags);

#endif /* BULKHEAD_GUID_LAUNCH_H */
