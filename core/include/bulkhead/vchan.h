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
 * (When both ends are guests, the server's directory is used.) Both
 * directories must be owned by the caller and closed to group and other
 * (mode 0700); they are created so when missing (see docs/vchan.md).
 * Transport selection: BH_VCHAN_TRANSPORT=socket|xen (default socket unless
 * running as a Xen domain with the xen transport built in).
 *
 * A connection is used from one thread at a time. It never raises SIGPIPE. */
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

/* The transport this process uses (environment + build); 0 when
 * BH_VCHAN_TRANSPORT names no transport built in (init then fails EINVAL). */
enum bh_vchan_transport bh_vchan_default_transport(void);

/* Descriptors received but not yet taken (socket transport). More is a
 * violation: the connection fails with EPROTO and the fds are closed. */
#define BH_VCHAN_MAX_QUEUED_FDS 64

/* Server side: listen for one client from `domain` on `port`. Returns at once;
 * the connection is open once a client has connected (see bh_vchan_wait and
 * bh_vchan_is_open). read_min/write_min size the buffers (ring or socket;
 * 0 = the transport's default). Socket mode: write_min becomes SO_SNDBUF,
 * the bound on bytes in flight towards the client; the client's direction
 * keeps the kernel default (docs/vchan.md). A second client is refused.
 * NULL on error with errno set. */
struct bh_vchan *bh_vchan_server_init(int domain, int port, size_t read_min, size_t write_min);

/* Client side: connect to the server in `domain` on `port`. NULL with errno
 * set when there is no server (yet): ENOENT, ECONNREFUSED or EAGAIN mean
 * "retry later"; anything else is a configuration error. */
struct bh_vchan *bh_vchan_client_init(int domain, int port);
/* The same on a given transport (0: the default above): bulkheadd connects
 * to a qube's agent on the transport of the backend that runs the qube,
 * whatever its own environment says. EINVAL for one not built in. */
struct bh_vchan *bh_vchan_client_init_on(enum bh_vchan_transport transport, int domain, int port);

/* Socket transport: create (mode 0700) and check <dir>/<domain>, and write
 * its path to out. The sandbox backend binds this directory into the qube
 * (as <the qube's BH_VCHAN_DIR>/<domain>) and nothing else. 0 ok, -1 errno. */
int bh_vchan_socket_guest_dir(int domain, char *out, size_t out_size);

/* Exact transfers: block until all `size` bytes moved. Return size, or -1 on
 * error/disconnect (errno set; EPIPE for a closed peer). */
ssize_t bh_vchan_send(struct bh_vchan *v, const void *data, size_t size);
ssize_t bh_vchan_recv(struct bh_vchan *v, void *data, size_t size);

/* Stream transfers: move what fits/what is there without blocking; return
 * bytes moved (0 = would block), -1 on error/disconnect. */
ssize_t bh_vchan_write(struct bh_vchan *v, const void *data, size_t size);
ssize_t bh_vchan_read(struct bh_vchan *v, void *data, size_t size);

/* File descriptors (socket transport only; -1 with errno=ENOTSUP on xen).
 * send_fd sends `size` (>= 1) bytes (exactly, blocking) with `fd` attached to
 * the first byte; the caller keeps its own `fd`.
 * Every receive call (recv, read, recv_fd) queues the descriptors that arrive
 * with the bytes it reads, in order, at most one per sendmsg of the peer: the
 * extras a hostile peer attaches are closed, never leaked. recv_fd receives
 * exactly `size` bytes, then hands over the oldest queued fd in *fd (or -1
 * when none is queued). Stream readers take it with bh_vchan_take_fd. The
 * caller owns a returned fd (close-on-exec); close() frees what is queued. */
ssize_t bh_vchan_send_fd(struct bh_vchan *v, const void *data, size_t size, int fd);
ssize_t bh_vchan_recv_fd(struct bh_vchan *v, void *data, size_t size, int *fd);
/* The oldest queued fd, or -1 (errno ENOENT: none; ENOTSUP: xen). */
int bh_vchan_take_fd(struct bh_vchan *v);

/* Server: accept a pending client / client: nothing. Then consume event
 * notifications. Call when fd_for_select is readable; blocks otherwise until
 * there is an event (socket: data or a client arrives or the peer hangs up;
 * xen: also when the peer frees ring space). 0 ok, -1 on error or when the
 * peer is gone and nothing is left to read (errno EPIPE).
 * After every wait, read until read returns 0 (or data_ready is 0) before
 * polling fd_for_select again: on xen one event stands for everything the
 * peer did before it and is not repeated for bytes already there (a socket
 * stays readable; code that drains works on both). The same holds after an
 * exact send/recv, which may consume events while it waits (xen): check
 * data_ready before polling. */
int bh_vchan_wait(struct bh_vchan *v);
/* An fd that becomes readable when bh_vchan_wait has something to do. It
 * changes once when a server accepts its client: fetch it again after wait. */
int bh_vchan_fd_for_select(const struct bh_vchan *v);

enum bh_vchan_state {
    BH_VCHAN_DISCONNECTED = 0,
    BH_VCHAN_CONNECTED = 1,
    BH_VCHAN_WAITING = 2, /* server, no client accepted yet (never a client) */
};
/* A server's state leaves WAITING only inside bh_vchan_wait or a transfer
 * call (when it accepts its client), on both transports; a client that
 * came and went before that is accepted and then reported DISCONNECTED.
 * Code that reacts to "dom0 connected" therefore does so right after its
 * own wait, and then drains (above): the client may have written already. */
enum bh_vchan_state bh_vchan_is_open(const struct bh_vchan *v);
/* Bytes readable now without blocking. Bytes the peer sent before it
 * closed stay readable after is_open says DISCONNECTED. */
size_t bh_vchan_data_ready(const struct bh_vchan *v);
/* Bytes one write of this size takes whole now without blocking (socket:
 * a lower bound, see docs/vchan.md; many small writes fit fewer bytes). */
size_t bh_vchan_buffer_space(const struct bh_vchan *v);

enum bh_vchan_transport bh_vchan_transport(const struct bh_vchan *v);
/* The peer's domain id as given at init. */
int bh_vchan_peer_domain(const struct bh_vchan *v);

/* Closes the connection (server: also removes its socket). NULL-safe. */
void bh_vchan_close(struct bh_vchan *v);

#endif /* BULKHEAD_VCHAN_H */
