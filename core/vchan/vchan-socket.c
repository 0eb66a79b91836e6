/* vchan-socket.c — the socket transport: one UNIX stream connection per
 * (server, client, port), named <dir>/<guest>/<server>-<client>-<port>.sock,
 * able to carry file descriptors (SCM_RIGHTS).
 *
 * Owns: the socket directory checks and naming, bind / accept-exactly-once /
 * connect, non-blocking transfers with poll(), receiving descriptors into
 * the connection's queue.
 * Must never: block in the stream calls (read/write), raise SIGPIPE, accept
 * a second client, use a directory another user can reach, keep a
 * descriptor the peer attached beyond the one per message it may send, or
 * resolve a name inside a guest's directory by path: the guest owns the
 * entries there (dom0 connects to its agents), so a name is looked at
 * without following links (fstatat AT_SYMLINK_NOFOLLOW), must be a socket
 * of the directory's owner, and the inode checked is the one connected to
 * (an O_PATH descriptor of it, reached as /proc/self/fd/N); binds and
 * unlinks go through the directory's descriptor, never the path.
 *
 * Blocking: the listening socket is non-blocking and accepted only after
 * poll(); the connection's descriptor is blocking, and every stream call
 * (read/write) passes MSG_DONTWAIT, so those never block, while the exact
 * calls (send/recv) let the kernel wait (MSG_WAITALL on receive) instead of
 * paying EAGAIN + poll + retry: that keeps 4 KiB messages as cheap as on a
 * bare socket (bench/README.md). Linux sizing facts this relies on (docs/vchan.md):
 * for AF_UNIX stream sockets only the sender's SO_SNDBUF bounds the bytes in
 * flight (the receiver's SO_RCVBUF is not consulted); the kernel doubles the
 * value set (minimum 4608) to cover its per-packet bookkeeping (~770 bytes
 * per sendmsg), and SIOCOUTQ reports that bookkeeping, not payload. */
#include "vchan-private.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The kernel's SCM_MAX_FD: the most descriptors one sendmsg can carry. A
 * control buffer this large means MSG_CTRUNC only happens when we cannot
 * take the descriptors at all (EMFILE), never because a peer sent many. */
#define BH_SCM_MAX_FD 253
/* One sendmsg/recvmsg moves at most this much; keeps int arithmetic in the
 * kernel and in our loops far from overflow. */
#define BH_IO_CHUNK ((size_t)1 << 30)

static bool would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

/* BH_VCHAN_DOMID, default 0. */
static int own_domid(int *out)
{
    const char *s = getenv("BH_VCHAN_DOMID");
    char *end = NULL;
    long id;

    *out = 0;
    if (!s || !*s)
        return 0;
    errno = 0;
    id = strtol(s, &end, 10);
    if (errno || *end || id < 0 || id > 0x7fef) {
        bh_vchan_log(NULL, "BH_VCHAN_DOMID='%s' is not a domain id (0..32751)", s);
        errno = EINVAL;
        return -1;
    }
    *out = (int)id;
    return 0;
}

/* The directory must be ours and closed to everyone else: whoever can enter
 * it can connect to (or replace) the sockets inside. With dir_fd, the
 * checked directory's descriptor is handed back (O_DIRECTORY|O_NOFOLLOW, the
 * one every later lookup inside it goes through). */
static int check_dir(const char *path, bool create, int *dir_fd)
{
    int rc = -1;
    int fd = -1;
    struct stat st;

    if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
        bh_vchan_log(NULL, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        /* A missing directory on the client side just means "no server yet". */
        if (errno != ENOENT)
            bh_vchan_log(NULL, "cannot use %s as a socket directory: %s", path,
                         errno == ELOOP || errno == ENOTDIR ? "not a directory (symbolic links are refused)"
                                                            : strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0)
        goto out;
    if (st.st_uid != geteuid()) {
        bh_vchan_log(NULL, "%s belongs to uid %u, not to this user (uid %u); refusing it", path,
                     (unsigned)st.st_uid, (unsigned)geteuid());
        errno = EPERM;
        goto out;
    }
    if (st.st_mode & 077) {
        bh_vchan_log(NULL, "%s has mode %04o, open to others; it must be 0700 (chmod 700 %s)", path,
                     (unsigned)(st.st_mode & 07777), path);
        errno = EPERM;
        goto out;
    }
    if (dir_fd) {
        *dir_fd = fd;
        fd = -1;
    }
    rc = 0;
out:
    bh_close_keep_errno(fd);
    return rc;
}

/* BH_VCHAN_DIR, else $XDG_RUNTIME_DIR/bulkhead/vchan. */
static int base_dir(char *out, size_t n, bool create)
{
    const char *dir = getenv("BH_VCHAN_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    if (dir && *dir) {
        if (dir[0] != '/') {
            bh_vchan_log(NULL, "BH_VCHAN_DIR='%s' must be an absolute path", dir);
            errno = EINVAL;
            return -1;
        }
        if ((size_t)snprintf(out, n, "%s", dir) >= n) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return check_dir(out, create, NULL);
    }
    if (!xdg || xdg[0] != '/') {
        bh_vchan_log(NULL, "neither BH_VCHAN_DIR nor XDG_RUNTIME_DIR is set to an absolute "
                           "path; set one of them");
        errno = ENOENT;
        return -1;
    }
    if ((size_t)snprintf(out, n, "%s/bulkhead", xdg) >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (create && mkdir(out, 0700) < 0 && errno != EEXIST) {
        bh_vchan_log(NULL, "cannot create %s: %s", out, strerror(errno));
        return -1;
    }
    if ((size_t)snprintf(out, n, "%s/bulkhead/vchan", xdg) >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return check_dir(out, create, NULL);
}

/* dir_fd NULL: only create and check. */
static int guest_dir(int guest, bool create, char *out, size_t n, int *dir_fd)
{
    char base[PATH_MAX];

    if (base_dir(base, sizeof base, create) < 0)
        return -1;
    if ((size_t)snprintf(out, n, "%s/%d", base, guest) >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return check_dir(out, create, dir_fd);
}

int bh_vchan_socket_guest_dir(int domain, char *out, size_t out_size)
{
    if (domain < 0 || domain > 0x7fef || !out) {
        errno = EINVAL;
        return -1;
    }
    return guest_dir(domain, true, out, out_size, NULL);
}

/* The socket of (server, client, port) lives in the guest's directory: the
 * server's unless the server is dom0. Opens that directory (*dir_fd) and
 * names the socket in it (name); path is the full path, for log lines. */
static int socket_dir(const struct bh_vchan *v, int server, int client, bool create, int *dir_fd, char *name,
                      size_t name_size, char *path, size_t path_size)
{
    char dir[PATH_MAX];

    if (guest_dir(server != 0 ? server : client, create, dir, sizeof dir, dir_fd) < 0)
        return -1;
    if ((size_t)snprintf(name, name_size, "%d-%d-%d.sock", server, client, v->port) >= name_size ||
        (size_t)snprintf(path, path_size, "%s/%s", dir, name) >= path_size) {
        bh_close_keep_errno(*dir_fd);
        *dir_fd = -1;
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* A UNIX socket address that reaches `name` in the directory `dir_fd`
 * (name NULL: the file `dir_fd` itself, an O_PATH descriptor) through the
 * descriptor, never through a path the guest could change meanwhile; short
 * whatever BH_VCHAN_DIR is. Needs /proc. */
static int fd_address(struct sockaddr_un *sa, int dir_fd, const char *name)
{
    int n = name ? snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dir_fd, name)
                 : snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d", dir_fd);

    sa->sun_family = AF_UNIX;
    if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int bh_vchan_socket_server_init(struct bh_vchan *v)
{
    int rc = -1;
    int fd = -1;
    int dir_fd = -1;
    int me;
    bool bound = false;
    char name[sizeof v->name];
    char path[PATH_MAX];
    struct sockaddr_un sa;
    struct stat st;

    if (own_domid(&me) < 0)
        goto out;
    if (socket_dir(v, me, v->peer_domain, true, &dir_fd, name, sizeof name, path, sizeof path) < 0)
        goto out;
    if (fd_address(&sa, dir_fd, name) < 0)
        goto out;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto out;
    /* A socket left by a server that died; a live one is replaced, as a new
     * libxenvchan server replaces its xenstore entries. unlinkat never
     * follows a link: a link of that name is removed, not its target. */
    if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT) {
        bh_vchan_log(v, "cannot remove the old %s: %s", path, strerror(errno));
        goto out;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        bh_vchan_log(v, "cannot bind %s: %s", path, strerror(errno));
        goto out;
    }
    bound = true;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || listen(fd, 1) < 0)
        goto out;
    memcpy(v->name, name, sizeof v->name);
    v->dir_fd = dir_fd;
    dir_fd = -1;
    v->path_dev = st.st_dev;
    v->path_ino = st.st_ino;
    v->listen_fd = fd;
    fd = -1;
    rc = 0;
out:
    if (rc < 0 && bound) {
        int saved = errno;
        unlinkat(dir_fd, name, 0);
        errno = saved;
    }
    if (rc < 0)
        bh_close_keep_errno(fd);
    bh_close_keep_errno(dir_fd);
    return rc;
}

/* The server's socket in dir_fd, as an O_PATH descriptor of that very
 * inode: a UNIX socket of the directory's owner (the guest writes there as
 * that user; anything else, e.g. a link to dom0's X server socket, was
 * planted). -1 with errno ENOENT when there is none yet (callers retry). */
static int open_server_socket(const struct bh_vchan *v, int dir_fd, const char *name, const char *path)
{
    int fd = -1;
    struct stat dir_st, st;

    if (fstat(dir_fd, &dir_st) < 0)
        return -1;
    fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        goto fail;
    if (!S_ISSOCK(st.st_mode)) {
        bh_vchan_log(v, "%s is %s, not a socket; refusing to connect to it", path,
                     S_ISLNK(st.st_mode) ? "a symbolic link" : "another kind of file");
        errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTSOCK;
        goto fail;
    }
    if (st.st_uid != dir_st.st_uid) {
        bh_vchan_log(v, "%s belongs to uid %u, not to the directory's owner (uid %u); refusing it", path,
                     (unsigned)st.st_uid, (unsigned)dir_st.st_uid);
        errno = EPERM;
        goto fail;
    }
    return fd;
fail:
    bh_close_keep_errno(fd);
    return -1;
}

int bh_vchan_socket_client_init(struct bh_vchan *v)
{
    int rc = -1;
    int fd = -1;
    int dir_fd = -1;
    int sock_fd = -1;
    int me, flags;
    char name[sizeof v->name];
    char path[PATH_MAX];
    struct sockaddr_un sa;

    if (own_domid(&me) < 0)
        goto out;
    if (socket_dir(v, v->peer_domain, me, false, &dir_fd, name, sizeof name, path, sizeof path) < 0)
        goto out;
    sock_fd = open_server_socket(v, dir_fd, name, path);
    if (sock_fd < 0 || fd_address(&sa, sock_fd, NULL) < 0)
        goto out;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto out;
    /* Non-blocking connect on AF_UNIX completes at once or fails; EAGAIN
     * means the server's backlog is full. Then blocking, as on the server.
     * ENOENT here means /proc is missing (the socket itself is open). */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno == ENOENT) {
            bh_vchan_log(v, "cannot reach %s through /proc/self/fd (is /proc mounted?)", path);
            errno = ENOTSUP;
        }
        goto out;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
        goto out;
    v->fd = fd;
    fd = -1;
    rc = 0;
out:
    if (rc < 0)
        bh_close_keep_errno(fd);
    bh_close_keep_errno(sock_fd);
    bh_close_keep_errno(dir_fd);
    return rc;
}

/* Remove the server's name, unless another server has bound it since. */
static void unlink_own_path(struct bh_vchan *v)
{
    struct stat st;

    if (v->dir_fd < 0)
        return;
    if (fstatat(v->dir_fd, v->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == v->path_dev &&
        st.st_ino == v->path_ino)
        unlinkat(v->dir_fd, v->name, 0);
    close(v->dir_fd);
    v->dir_fd = -1;
    v->name[0] = '\0';
}

static void size_buffers(struct bh_vchan *v, int fd)
{
    /* Bounded by read_min/write_min <= 1 MiB in vchan.c, so they fit an int. */
    int snd = (int)v->write_min;
    int rcv = (int)v->read_min;

    if (snd > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd) < 0)
        bh_vchan_log(v, "cannot set SO_SNDBUF to %d: %s", snd, strerror(errno));
    /* Not consulted by Linux for AF_UNIX stream sockets; set for parity. */
    if (rcv > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0)
        bh_vchan_log(v, "cannot set SO_RCVBUF to %d: %s", rcv, strerror(errno));
}

/* Server: take the one client if it has arrived, then stop listening and
 * turn away anyone else already queued. 1 accepted, 0 not yet, -1 error. */
static int accept_client(struct bh_vchan *v)
{
    int c;

    if (v->fd >= 0)
        return 1;
    if (v->listen_fd < 0) {
        errno = EPIPE;
        return -1;
    }
    c = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
        /* ECONNABORTED: that client gave up; keep waiting for another. */
        if (would_block(errno) || errno == EINTR || errno == ECONNABORTED)
            return 0;
        return -1;
    }
    size_buffers(v, c);
    v->fd = c;
    for (;;) {
        int extra = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (extra < 0)
            break;
        bh_vchan_log(v, "refused a second client: the connection is taken");
        close(extra);
    }
    close(v->listen_fd);
    v->listen_fd = -1;
    unlink_own_path(v);
    return 1;
}

/* Server: block until the client is there and accepted. */
static int wait_client(struct bh_vchan *v)
{
    while (v->fd < 0) {
        struct pollfd p = {.fd = v->listen_fd, .events = POLLIN};

        if (v->listen_fd < 0) {
            errno = EPIPE;
            return -1;
        }
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return -1;
        if (accept_client(v) < 0)
            return -1;
    }
    return 0;
}

static void fill_fd_cmsg(struct msghdr *m, void *buf, size_t len, int fd)
{
    struct cmsghdr *c;

    memset(buf, 0, len);
    m->msg_control = buf;
    m->msg_controllen = CMSG_SPACE(sizeof fd);
    c = CMSG_FIRSTHDR(m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fd);
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
}

/* One sendmsg: bytes sent, 0 when it would block (stream calls only), -1 on
 * error (EPIPE once the peer is gone). */
static ssize_t send_some(struct bh_vchan *v, const void *data, size_t size, int fd, bool block)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {.iov_base = (void *)data, .iov_len = size < BH_IO_CHUNK ? size : BH_IO_CHUNK};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

    if (fd >= 0)
        fill_fd_cmsg(&m, cbuf.buf, sizeof cbuf.buf, fd);
    for (;;) {
        ssize_t n = sendmsg(v->fd, &m, MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT));
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (would_block(errno))
            return 0;
        if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
            v->peer_gone = true;
            errno = EPIPE;
        }
        return -1;
    }
}

/* Queue the first descriptor of this message; close every other one. */
static int collect_fds(struct bh_vchan *v, struct msghdr *m)
{
    bool truncated = (m->msg_flags & MSG_CTRUNC) != 0;
    bool kept = false;
    unsigned closed = 0;
    int rc = 0;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        size_t n;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
            if (truncated || kept || rc < 0) {
                close(fd);
                closed++;
                continue;
            }
            rc = bh_vchan_queue_fd(v, fd);
            kept = true;
        }
    }
    if (truncated) {
        /* The kernel dropped descriptors we could not take (out of fds):
         * the stream and its descriptors no longer line up. */
        bh_vchan_log(v, "descriptors from the peer were truncated (process out of file "
                        "descriptors?); dropping the connection");
        v->failed = true;
        errno = EPROTO;
        return -1;
    }
    if (closed)
        bh_vchan_log(v, "closed %u extra descriptors the peer attached to one message", closed);
    return rc;
}

/* One recvmsg: bytes read, 0 when nothing is there (stream calls only), -1
 * on error (EPIPE at end of stream). A blocking one still returns early at
 * a message that carries descriptors, or on a signal. */
static ssize_t recv_some(struct bh_vchan *v, void *data, size_t size, bool block)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * BH_SCM_MAX_FD)];
        struct cmsghdr align;
    } cbuf;

    if (size == 0)
        return 0;
    for (;;) {
        struct iovec iov = {.iov_base = data, .iov_len = size < BH_IO_CHUNK ? size : BH_IO_CHUNK};
        struct msghdr m = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = cbuf.buf,
            .msg_controllen = sizeof cbuf.buf,
        };
        ssize_t n = recvmsg(v->fd, &m, MSG_CMSG_CLOEXEC | (block ? MSG_WAITALL : MSG_DONTWAIT));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (would_block(errno))
                return 0;
            if (errno == ECONNRESET) {
                v->peer_gone = true;
                errno = EPIPE;
            }
            return -1;
        }
        if (collect_fds(v, &m) < 0)
            return -1;
        if (n == 0) {
            v->peer_gone = true;
            errno = EPIPE;
            return -1;
        }
        return n;
    }
}

/* Exact transfers: blocking steps until everything moved. A descriptor
 * rides on the first step. */
static ssize_t socket_exact(struct bh_vchan *v, char *buf, size_t size, int fd, bool sending)
{
    size_t done = 0;

    while (done < size) {
        ssize_t n;

        if (wait_client(v) < 0)
            return -1;
        n = sending ? send_some(v, buf + done, size - done, done == 0 ? fd : -1, true)
                    : recv_some(v, buf + done, size - done, true);
        if (n < 0)
            return -1;
        done += (size_t)n;
    }
    return (ssize_t)size;
}

ssize_t bh_vchan_socket_send(struct bh_vchan *v, const void *data, size_t size, int fd)
{
    /* socket_exact only reads from buf when sending. */
    return socket_exact(v, (char *)(uintptr_t)data, size, fd, true);
}

ssize_t bh_vchan_socket_recv(struct bh_vchan *v, void *data, size_t size)
{
    return socket_exact(v, data, size, -1, false);
}

ssize_t bh_vchan_socket_write(struct bh_vchan *v, const void *data, size_t size)
{
    int r = accept_client(v);

    if (r <= 0)
        return r;
    if (size == 0)
        return 0;
    return send_some(v, data, size, -1, false);
}

ssize_t bh_vchan_socket_read(struct bh_vchan *v, void *data, size_t size)
{
    int r = accept_client(v);

    if (r <= 0)
        return r;
    return recv_some(v, data, size, false);
}

int bh_vchan_socket_wait(struct bh_vchan *v)
{
    struct pollfd p;

    if (v->fd < 0) {
        return wait_client(v);
    }
    if (v->peer_gone && bh_vchan_socket_data_ready(v) == 0) {
        errno = EPIPE;
        return -1;
    }
    p = (struct pollfd){.fd = v->fd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if ((p.revents & (POLLHUP | POLLERR)) && bh_vchan_socket_data_ready(v) == 0) {
        v->peer_gone = true;
        errno = EPIPE;
        return -1;
    }
    return 0;
}

int bh_vchan_socket_fd_for_select(const struct bh_vchan *v)
{
    return v->fd >= 0 ? v->fd : v->listen_fd;
}

enum bh_vchan_state bh_vchan_socket_is_open(const struct bh_vchan *v)
{
    struct pollfd p;

    if (v->fd < 0)
        return v->listen_fd >= 0 ? BH_VCHAN_WAITING : BH_VCHAN_DISCONNECTED;
    if (v->peer_gone)
        return BH_VCHAN_DISCONNECTED;
    p = (struct pollfd){.fd = v->fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)))
        return BH_VCHAN_DISCONNECTED;
    return BH_VCHAN_CONNECTED;
}

size_t bh_vchan_socket_data_ready(const struct bh_vchan *v)
{
    int n = 0;

    if (v->fd < 0 || ioctl(v->fd, FIONREAD, &n) < 0 || n < 0)
        return 0;
    return (size_t)n;
}

size_t bh_vchan_socket_buffer_space(const struct bh_vchan *v)
{
    int sndbuf = 0;
    int outq = 0;
    socklen_t len = sizeof sndbuf;

    if (v->fd < 0 || v->peer_gone)
        return 0;
    if (getsockopt(v->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) < 0 || ioctl(v->fd, SIOCOUTQ, &outq) < 0 ||
        outq >= sndbuf)
        return 0;
    /* SO_SNDBUF and SIOCOUTQ count the kernel's bookkeeping too. Half of
     * the free budget always goes through one write: the kernel cuts it into
     * packets of at least 2 KiB, each costing less than twice its payload
     * (docs/vchan.md); it also makes the largest value equal to write_min. */
    return (size_t)(sndbuf - outq) / 2;
}

void bh_vchan_socket_close(struct bh_vchan *v)
{
    if (v->fd >= 0)
        close(v->fd);
    v->fd = -1;
    if (v->listen_fd >= 0)
        close(v->listen_fd);
    v->listen_fd = -1;
    unlink_own_path(v);
}
