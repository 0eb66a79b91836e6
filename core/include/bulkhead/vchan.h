/* vchan.h — the byte-stream transport between dom0 and a qube, modelled on
 * Qubes' libvchan, with two implementations chosen at run time:
 *   socket: UNIX stream sockets under $XDG_RUNTIME_DIR/bulkhead/vchan/
 *           (sandbox backend and tests); can carry file descriptors.
 *   xen:    libxenvchan (built when the xen option finds the libraries).
 *
 * Owns: connection set-up, framing-free byte transfer, fd passing.
 * Must never: interpret the bytes it carries (that is core/proto's job) or
 * trust the peer: sizes come from the caller, never from the wire.
 *
 * Domain ids: 0 is dom0. In socket mode a process learns its own domain id
 * from BH_VCHAN_DOMID (default 0) and the socket directory from
 * BH_VCHAN_DIR (default $XDG_RUNTIME_DIR/bulkhead/vchan). The server's socket
 * for a (server, client, port) triple lives in the directory of the non-dom0
 * side, so a sandbox can be given its own directory and nothing else:
 *   <dir>/<guest-domid>/<server>-<client>-<port>.sock
 * Transport selection: BH_VCHAN_TRANSPORT=socket|xen (default socket unless
 * running as a Xen domain with the xen transport built in). */
#ifndef BULKHEAD_VCHAN_H
#define BULKHEAD_VCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bh_vchan;

enum bh_vchan_transport {
    BH_VCHAN_SOCKET = 1,
    BH_VCHAN_XEN = 2,
};

/* The transport this process uses (environment + build). */
enum bh_vchan_transport bh_vchan_default_transport(void);

/* Server side: listen for one client from `domain` on `port`. Returns at once;
 * the connection is open once a client has connected (see bh_vchan_wait and
 * bh_vchan_is_open). read_min/write_min size the buffers (ring or socket).
 * A second client is refused. NULL on error with errno set. */
struct bh_vchan *bh_vchan_server_init(int domain, int port, size_t read_min, size_t write_min);

/* Client side: connect to the server in `domain` on `port`. NULL with errno
 * set when there is no server (yet). */
struct bh_vchan *bh_vchan_client_init(int domain, int port);

/* Exact transfers: block until all `size` bytes moved. Return size, or -1 on
 * error/disconnect (errno set; EPIPE for a closed peer). */
ssize_t bh_vchan_send(struct bh_vchan *v, const void *data, size_t size);
ssize_t bh_vchan_recv(struct bh_vchan *v, void *data, size_t size);

/* Stream transfers: move what fits/what is there without blocking; return
 * bytes moved (0 = would block), -1 on error/disconnect. */
ssize_t bh_vchan_write(struct bh_vchan *v, const void *data, size_t size);
ssize_t bh_vchan_read(struct bh_vchan *v, void *data, size_t size);

/* File descriptors (socket transport only; -1 with errno=ENOTSUP on xen).
 * send_fd sends `size` bytes (exactly, blocking) with `fd` attached to the
 * first byte. recv_fd receives exactly `size` bytes and stores an fd that
 * arrived with them in *fd (or -1); extra fds are closed, never leaked. */
ssize_t bh_vchan_send_fd(struct bh_vchan *v, const void *data, size_t size, int fd);
ssize_t bh_vchan_recv_fd(struct bh_vchan *v, void *data, size_t size, int *fd);

/* Server: accept a pending client / client: nothing. Then consume event
 * notifications. Call when fd_for_select is readable. 0 ok, -1 on error. */
int bh_vchan_wait(struct bh_vchan *v);
/* An fd that becomes readable when bh_vchan_wait has something to do. */
int bh_vchan_fd_for_select(const struct bh_vchan *v);

enum bh_vchan_state {
    BH_VCHAN_DISCONNECTED = 0,
    BH_VCHAN_CONNECTED = 1,
    BH_VCHAN_WAITING = 2, /* server, no client yet */
};
enum bh_vchan_state bh_vchan_is_open(const struct bh_vchan *v);
/* Bytes readable now without blocking. */
size_t bh_vchan_data_ready(const struct bh_vchan *v);
/* Bytes writable now without blocking. */
size_t bh_vchan_buffer_space(const struct bh_vchan *v);

enum bh_vchan_transport bh_vchan_transport(const struct bh_vchan *v);
/* The peer's domain id as given at init. */
int bh_vchan_peer_domain(const struct bh_vchan *v);

/* Closes the connection (server: also removes its socket). NULL-safe. */
void bh_vchan_close(struct bh_vchan *v);

#endif /* BULKHEAD_VCHAN_H */
