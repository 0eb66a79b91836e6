/* vchan.c — the public vchan API: argument checks, the choice of transport
 * from the environment and the build, dispatch to vchan-socket.c or
 * vchan-xen.c, and handing out received descriptors.
 *
 * Owns: allocating and freeing struct bh_vchan, taking from the fd queue
 * (vchan-common.c fills it and logs, below both transports, so that calls
 * go one way: this file -> a transport -> vchan-common.c).
 * Must never: look at the bytes it carries, or take a size from the peer. */
#include "vchan-private.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Xen reserves domain ids from DOMID_FIRST_RESERVED (0x7ff0) up. */
#define BH_VCHAN_MAX_DOMAIN 0x7fef
/* The largest ring libxenvchan builds; the socket transport keeps the same
 * limit so that code written against one transport fits the other. */
#define BH_VCHAN_MAX_BUFFER ((size_t)1 << 20)

enum bh_vchan_transport bh_vchan_default_transport(void)
{
    const char *t = getenv("BH_VCHAN_TRANSPORT");

    if (t && *t) {
        if (strcmp(t, "socket") == 0)
            return BH_VCHAN_SOCKET;
#if BH_HAVE_XEN
        if (strcmp(t, "xen") == 0)
            return BH_VCHAN_XEN;
#endif
        return (enum bh_vchan_transport)0;
    }
#if BH_HAVE_XEN
    /* The event channel device exists only in a Xen domain (dom0 or domU). */
    if (access("/dev/xen/evtchn", R_OK | W_OK) == 0)
        return BH_VCHAN_XEN;
#endif
    return BH_VCHAN_SOCKET;
}

/* Both ends: validate, allocate, hand over to the transport. */
static struct bh_vchan *vchan_open(enum bh_vchan_transport t, int domain, int port, bool is_server,
                                   size_t read_min, size_t write_min)
{
    struct bh_vchan *v = NULL;
    int rc = -1;

    if (t == 0) {
        bh_vchan_log(NULL,
                     "BH_VCHAN_TRANSPORT='%s' is not a transport of this build "
                     "(use 'socket'%s)",
                     getenv("BH_VCHAN_TRANSPORT"), BH_HAVE_XEN ? " or 'xen'" : "");
        errno = EINVAL;
        goto out;
    }
    if (domain < 0 || domain > BH_VCHAN_MAX_DOMAIN || port < 0 || read_min > BH_VCHAN_MAX_BUFFER ||
        write_min > BH_VCHAN_MAX_BUFFER) {
        errno = EINVAL;
        goto out;
    }
    v = calloc(1, sizeof *v);
    if (!v)
        goto out;
    v->transport = t;
    v->peer_domain = domain;
    v->port = port;
    v->is_server = is_server;
    v->read_min = read_min;
    v->write_min = write_min;
    v->listen_fd = -1;
    v->dir_fd = -1;
    v->fd = -1;
    if (t == BH_VCHAN_SOCKET)
        rc = is_server ? bh_vchan_socket_server_init(v) : bh_vchan_socket_client_init(v);
#if BH_HAVE_XEN
    if (t == BH_VCHAN_XEN)
        rc = is_server ? bh_vchan_xen_server_init(v) : bh_vchan_xen_client_init(v);
#endif
out:
    if (rc < 0 && v) {
        int saved = errno;
        free(v);
        v = NULL;
        errno = saved;
    }
    return v;
}

struct bh_vchan *bh_vchan_server_init(int domain, int port, size_t read_min, size_t write_min)
{
    return vchan_open(bh_vchan_default_transport(), domain, port, true, read_min, write_min);
}

struct bh_vchan *bh_vchan_client_init(int domain, int port)
{
    return vchan_open(bh_vchan_default_transport(), domain, port, false, 0, 0);
}

struct bh_vchan *bh_vchan_client_init_on(enum bh_vchan_transport transport, int domain, int port)
{
    if (transport == 0)
        return bh_vchan_client_init(domain, port);
#if !BH_HAVE_XEN
    if (transport == BH_VCHAN_XEN) {
        bh_vchan_log(NULL, "the xen transport is not built in");
        errno = EINVAL;
        return NULL;
    }
#endif
    if (transport != BH_VCHAN_SOCKET && transport != BH_VCHAN_XEN) {
        errno = EINVAL;
        return NULL;
    }
    return vchan_open(transport, domain, port, false, 0, 0);
}

/* Common checks of every transfer; -1 with errno when the call cannot go on. */
static int check_io(const struct bh_vchan *v, const void *data, size_t size)
{
    if (!v || (!data && size > 0) || size > SSIZE_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (v->failed) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

ssize_t bh_vchan_send(struct bh_vchan *v, const void *data, size_t size)
{
    if (check_io(v, data, size) < 0)
        return -1;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_send(v, data, size);
#endif
    return bh_vchan_socket_send(v, data, size, -1);
}

ssize_t bh_vchan_recv(struct bh_vchan *v, void *data, size_t size)
{
    if (check_io(v, data, size) < 0)
        return -1;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_recv(v, data, size);
#endif
    return bh_vchan_socket_recv(v, data, size);
}

ssize_t bh_vchan_write(struct bh_vchan *v, const void *data, size_t size)
{
    if (check_io(v, data, size) < 0)
        return -1;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_write(v, data, size);
#endif
    return bh_vchan_socket_write(v, data, size);
}

ssize_t bh_vchan_read(struct bh_vchan *v, void *data, size_t size)
{
    if (check_io(v, data, size) < 0)
        return -1;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_read(v, data, size);
#endif
    return bh_vchan_socket_read(v, data, size);
}

ssize_t bh_vchan_send_fd(struct bh_vchan *v, const void *data, size_t size, int fd)
{
    if (check_io(v, data, size) < 0)
        return -1;
    if (v->transport != BH_VCHAN_SOCKET) {
        errno = ENOTSUP;
        return -1;
    }
    /* A descriptor travels with a byte: there must be one. */
    if (size == 0) {
        errno = EINVAL;
        return -1;
    }
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    return bh_vchan_socket_send(v, data, size, fd);
}

ssize_t bh_vchan_recv_fd(struct bh_vchan *v, void *data, size_t size, int *fd)
{
    ssize_t n;

    if (fd)
        *fd = -1;
    if (check_io(v, data, size) < 0 || !fd) {
        if (!fd)
            errno = EINVAL;
        return -1;
    }
    if (v->transport != BH_VCHAN_SOCKET) {
        errno = ENOTSUP;
        return -1;
    }
    n = bh_vchan_socket_recv(v, data, size);
    if (n < 0)
        return -1;
    if (v->fdq_len > 0)
        *fd = bh_vchan_take_fd(v);
    return n;
}

int bh_vchan_take_fd(struct bh_vchan *v)
{
    int fd;

    if (!v) {
        errno = EINVAL;
        return -1;
    }
    if (v->transport != BH_VCHAN_SOCKET) {
        errno = ENOTSUP;
        return -1;
    }
    if (v->fdq_len == 0) {
        errno = ENOENT;
        return -1;
    }
    fd = v->fdq[v->fdq_head];
    v->fdq_head = (v->fdq_head + 1) % BH_VCHAN_MAX_QUEUED_FDS;
    v->fdq_len--;
    return fd;
}

int bh_vchan_wait(struct bh_vchan *v)
{
    if (!v) {
        errno = EINVAL;
        return -1;
    }
    if (v->failed) {
        errno = EPROTO;
        return -1;
    }
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_wait(v);
#endif
    return bh_vchan_socket_wait(v);
}

int bh_vchan_fd_for_select(const struct bh_vchan *v)
{
    if (!v) {
        errno = EINVAL;
        return -1;
    }
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_fd_for_select(v);
#endif
    return bh_vchan_socket_fd_for_select(v);
}

enum bh_vchan_state bh_vchan_is_open(const struct bh_vchan *v)
{
    if (!v || v->failed)
        return BH_VCHAN_DISCONNECTED;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_is_open(v);
#endif
    return bh_vchan_socket_is_open(v);
}

size_t bh_vchan_data_ready(const struct bh_vchan *v)
{
    if (!v || v->failed)
        return 0;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_data_ready(v);
#endif
    return bh_vchan_socket_data_ready(v);
}

size_t bh_vchan_buffer_space(const struct bh_vchan *v)
{
    if (!v || v->failed)
        return 0;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        return bh_vchan_xen_buffer_space(v);
#endif
    return bh_vchan_socket_buffer_space(v);
}

enum bh_vchan_transport bh_vchan_transport(const struct bh_vchan *v)
{
    return v ? v->transport : (enum bh_vchan_transport)0;
}

int bh_vchan_peer_domain(const struct bh_vchan *v)
{
    return v ? v->peer_domain : -1;
}

void bh_vchan_close(struct bh_vchan *v)
{
    int saved = errno;

    if (!v)
        return;
#if BH_HAVE_XEN
    if (v->transport == BH_VCHAN_XEN)
        bh_vchan_xen_close(v);
#endif
    if (v->transport == BH_VCHAN_SOCKET)
        bh_vchan_socket_close(v);
    while (v->fdq_len > 0)
        close(bh_vchan_take_fd(v));
    free(v);
    errno = saved;
}
