/* agent-private.h — what the files of libbh_agent share: one running
 * program and how it is started.
 *
 * Must never: be included outside core/rpc/agent. */
#ifndef BULKHEAD_AGENT_PRIVATE_H
#define BULKHEAD_AGENT_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bulkhead/rpc-protocol.h"

/* The parent's ends of a started program's stdio; -1 where not streamed. */
struct bh_agent_child {
    pid_t pid;  /* also its process group (the child calls setsid) */
    int in_fd;  /* write end of its stdin */
    int out_fd; /* read end of its stdout */
    int err_fd; /* read end of its stderr */
};

/* Starts `/bin/sh -c cmdline` as `user` ("" or self_name = no switch), with
 * pipes for stdio when pass_io, else /dev/null. The agent's ends are
 * non-blocking and close-on-exec. Returns 0, or an errno with a message for
 * the user in why[0..why_size). */
int bh_agent_spawn(const char *self_name, const char *user, const char *cmdline, bool pass_io,
                   struct bh_agent_child *out, char *why, size_t why_size);

/* "bulkhead-agent: ..." on stderr, one write per line. */
void bh_agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* BULKHEAD_AGENT_PRIVATE_H */
