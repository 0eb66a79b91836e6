/* vchan-private.h — the connection object shared by the dispatch layer
 * (vchan.c) and the two transports (vchan-socket.c, vchan-xen.c).
 *
 * Owns: the layout of struct bh_vchan and the transport entry points.
 * Must never: be installed or included outside core/vchan; callers see only
 * the opaque type from bulkhead/vchan.h. */
#ifndef BH_VCHAN_PRIVATE_H
#define BH_VCHAN_PRIVATE_H

#include "config.h"

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "bulkhead/vchan.h"

#if BH_HAVE_XEN
struct libxenvchan;
#endif

struct bh_vchan {
    enum bh_vchan_transport transport;
    int peer_domain;
    int port;
    bool is_server;
    /* Set on a violation (too many or truncated fds): from then on every
     * call fails with EPROTO and is_open reports DISCONNECTED. */
    bool failed;
    /* Set once a read saw end-of-file or a write saw EPIPE/ECONNRESET. */
    bool peer_gone;

    /* socket transport */
    int listen_fd; /* server until its one client is accepted, else -1 */
    int fd;        /* the connection, -1 until accepted (server) */
    size_t read_min, write_min;
    /* The server's socket while it is bound: its directory (held open, so
     * the unlink is never resolved through a path) and name in it; dev/ino
     * say whether the name still points at our socket, so close never
     * unlinks a successor's. */
    int dir_fd;
    char name[64];
    dev_t path_dev;
    ino_t path_ino;
    /* Received descriptors in arrival order (ring buffer). */
    int fdq[BH_VCHAN_MAX_QUEUED_FDS];
    unsigned fdq_head, fdq_len;

#if BH_HAVE_XEN
    struct libxenvchan *xen;
    /* Server: the xenstore entries leading to the ring are still there. */
    bool xen_published;
    /* Server: a client has been accepted (by wait or a transfer call), as
     * the socket transport accepts: until then is_open says WAITING even if
     * the client has already mapped the ring. */
    bool xen_accepted;
#endif
};

/* "bh-vchan[dom<peer>:<port>]: ..." on stderr; v may be NULL. */
void bh_vchan_log(const struct bh_vchan *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends a received fd to v's queue; on overflow closes it, marks v failed
 * and returns -1 (EPROTO). */
int bh_vchan_queue_fd(struct bh_vchan *v, int fd);

/* socket transport (vchan-socket.c) */
int bh_vchan_socket_server_init(struct bh_vchan *v);
int bh_vchan_socket_client_init(struct bh_vchan *v);
ssize_t bh_vchan_socket_send(struct bh_vchan *v, const void *data, size_t size, int fd);
ssize_t bh_vchan_socket_recv(struct bh_vchan *v, void *data, size_t size);
ssize_t bh_vchan_socket_write(struct bh_vchan *v, const void *data, size_t size);
ssize_t bh_vchan_socket_read(struct bh_vchan *v, void *data, size_t size);
int bh_vchan_socket_wait(struct bh_vchan *v);
int bh_vchan_socket_fd_for_select(const struct bh_vchan *v);
enum bh_vchan_state bh_vchan_socket_is_open(const struct bh_vchan *v);
size_t bh_vchan_socket_data_ready(const struct bh_vchan *v);
size_t bh_vchan_socket_buffer_space(const struct bh_vchan *v);
void bh_vchan_socket_close(struct bh_vchan *v);

#if BH_HAVE_XEN
/* xen transport (vchan-xen.c) */
int bh_vchan_xen_server_init(struct bh_vchan *v);
int bh_vchan_xen_client_init(struct bh_vchan *v);
ssize_t bh_vchan_xen_send(struct bh_vchan *v, const void *data, size_t size);
ssize_t bh_vchan_xen_recv(struct bh_vchan *v, void *data, size_t size);
ssize_t bh_vchan_xen_write(struct bh_vchan *v, const void *data, size_t size);
ssize_t bh_vchan_xen_read(struct bh_vchan *v, void *data, size_t size);
int bh_vchan_xen_wait(struct bh_vchan *v);
int bh_vchan_xen_fd_for_select(const struct bh_vchan *v);
enum bh_vchan_state bh_vchan_xen_is_open(const struct bh_vchan *v);
size_t bh_vchan_xen_data_ready(const struct bh_vchan *v);
size_t bh_vchan_xen_buffer_space(const struct bh_vchan *v);
void bh_vchan_xen_close(struct bh_vchan *v);
#endif

#endif /* BH_VCHAN_PRIVATE_H */
