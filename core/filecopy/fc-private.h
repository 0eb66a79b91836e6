/* fc-private.h — what the sender and the receiver of core/filecopy share
 * beside the codec: their entry points (called by the two main.c files and
 * by the tests) and small file-system helpers.
 *
 * Must never: be included outside core/filecopy and its tests. */
#ifndef BH_FC_PRIVATE_H
#define BH_FC_PRIVATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bulkhead/escape-filter.h"
#include "bulkhead/filecopy.h"

/* Receives one stream from in_fd into the empty folder stage_fd, and when
 * it is whole moves its entries into final_fd ("where" names that in words,
 * e.g. "QubesIncoming/work"; qube, when not NULL, the name of the qube
 * receiving, so that the sender's user reads where the files went); writes
 * the status to out_fd (and closes it).
 * 0 when everything arrived, 1 when nothing was kept (stage_fd is empty
 * again). Stops (and rolls back) when *stop becomes non-zero. The outcome
 * goes to log (may be NULL). */
int bh_fc_receive(int in_fd, int out_fd, int stage_fd, int final_fd, const char *where, const char *qube,
                  const struct bh_fc_limits *limits, const volatile sig_atomic_t *stop, FILE *log);
/* The folder name in parent, made (0700) if missing, opened only if it is
 * a real folder (O_NOFOLLOW); -1 with errno otherwise. */
int fc_open_folder(int parent, const char *name);
/* What the folder dir holds: 0 exactly one regular file (its name in
 * name[cap]), 1 nothing, -1 anything else. */
int fc_single_file(int dir, char *name, size_t cap);
/* Removes the staging folders in dir whose receiver (the pid after the last
 * '.') is gone: what a receiver killed with SIGKILL left. */
void fc_sweep_stale(int dir);

struct bh_fc_send_options {
    bool move;     /* delete what was sent once the receiver confirmed it */
    bool progress; /* a progress line on log */
};
/* Sends paths[0..n) as one stream to out_fd and reads the status from
 * in_fd. Returns 0 when the receiver confirmed everything (and, with move,
 * the sources are gone), 1 when it refused or failed (sources untouched),
 * 2 when a source cannot be sent (nothing sent), 130 when *stop was set. */
int bh_fc_send(int out_fd, int in_fd, char *const *paths, size_t n, const struct bh_fc_send_options *opts,
               const volatile sig_atomic_t *stop, FILE *log);

/* The caller's half of a call from a qube (fc-call.c). */
#define FC_CALL_MAX_CHUNK 65536
/* Output of the service a caller no longer takes (its status or answer is
 * over) that it still reads before it ends the call: a target could send
 * without end, every byte relayed by dom0. */
#define FC_CALL_MAX_UNUSED (1u << 20)
/* A frame of the service's stderr (docs/rpc.md, "Calls from a qube"). */
#define FC_CALL_STDERR_FRAME 0x80000000u
/* Asks dom0 for SERVICE in TARGET on this qube's call socket: the socket
 * once dom0 said "ok"; -1 refused (dom0's reason printed), -2 dom0 cannot
 * be reached (said why). */
int fc_call_open(const char *prog, const char *service, const char *target);
/* One piece of dom0's framed answer: 1 with *len bytes of the service's
 * stdout in buf (FC_CALL_MAX_CHUNK), 2 when it was a piece of the service's
 * stderr (printed on ours through err, the escape filter of the whole call:
 * initialised once before the first piece, so a character split between
 * two pieces is judged whole), 0 with the service's exit status, -1 when
 * the answer broke off or is no frame (both end err's stream). */
int fc_call_read_chunk(int sock, BhEscapeFilter *err, uint8_t *buf, uint32_t *len, uint32_t *status);
/* Says what statuses 126 and 127 of bulkhead-service mean, if status is one. */
void fc_call_say_status(const char *prog, const char *target, const char *service, int status);
/* Blocking whole reads and writes: 0 / true when done. */
int fc_read_exact(int fd, void *buf, size_t size);
bool fc_write_all(int fd, const void *buf, size_t size);

/* A growing array of strings. */
bool fc_strv_push(char ***v, size_t *n, size_t *cap, const char *s);
void fc_strv_free(char **v, size_t n);
/* Removes name (a file, a link, or a folder with everything in it) in the
 * folder dirfd, never following a link. level bounds the recursion. */
void fc_remove_at(int dirfd, const char *name, unsigned level);
/* Whether s is a qube name: [a-zA-Z][a-zA-Z0-9_.-]*, at most 31 bytes, not
 * "dom0", "none" or "default" (the model's rule, docs/model.md). */
bool fc_qube_name_ok(const char *s);

#endif /* BH_FC_PRIVATE_H */
