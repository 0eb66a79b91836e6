/* vchan-common.c — what both transports use of a connection: its log line
 * and the queue of descriptors received with its bytes; see
 * vchan-private.h.
 *
 * Owns: the wording of bh-vchan's log lines, the bound on queued fds.
 * Must never: call up into vchan.c or a transport (they call this). */
#include "vchan-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void bh_vchan_log(const struct bh_vchan *v, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One write per line so that logs of several processes stay readable. */
    if (v)
        fprintf(stderr, "bh-vchan[dom%d:%d]: %s\n", v->peer_domain, v->port, msg);
    else
        fprintf(stderr, "bh-vchan: %s\n", msg);
}

int bh_vchan_queue_fd(struct bh_vchan *v, int fd)
{
    if (v->fdq_len == BH_VCHAN_MAX_QUEUED_FDS) {
        bh_vchan_log(v,
                     "peer sent more than %d descriptors that were not taken; "
                     "dropping the connection",
                     BH_VCHAN_MAX_QUEUED_FDS);
        close(fd);
        v->failed = true;
        errno = EPROTO;
        return -1;
    }
    v->fdq[(v->fdq_head + v->fdq_len) % BH_VCHAN_MAX_QUEUED_FDS] = fd;
    v->fdq_len++;
    return 0;
}
