/* guid-launch-io.c — one message with its descriptors over the launcher's
 * SOCK_SEQPACKET pair, for both ends; see bulkhead/guid-launch.h. */
#include "bulkhead/guid-launch.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for the most descriptors either end ever takes or sends. */
#define BH_GUID_LAUNCH_CTL_FDS 4

long bh_guid_launch_send(int sock, const void *buf, size_t len, const int *fds, int n_fds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * BH_GUID_LAUNCH_CTL_FDS)];
        struct cmsghdr align;
    } ctl;
    if (n_fds < 0 || n_fds > BH_GUID_LAUNCH_CTL_FDS) {
        errno = EINVAL;
        return -1;
    }
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n_fds > 0) {
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n_fds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n_fds);
    }
    ssize_t sent;
    while ((sent = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return (long)sent;
}

long bh_guid_launch_recv(int sock, void *buf, size_t cap, int *fds, int max_fds, int *n_fds, int *cut,
                         int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * BH_GUID_LAUNCH_CTL_FDS)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    *n_fds = 0;
    *cut = 0;
    ssize_t len = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
    if (len < 0)
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*n_fds < max_fds)
                fds[(*n_fds)++] = fd;
            else {
                close(fd);
                *cut = 1;
            }
        }
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        *cut = 1;
    return (long)len;
}
