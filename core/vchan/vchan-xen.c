/* vchan-xen.c — the xen transport: libxenvchan rings between two domains,
 * found through xenstore as Qubes does: the server publishes
 *   /local/domain/<server>/data/vchan/<client>/<port>/{ring-ref,event-channel}
 * readable by the client domain only, and the client maps that ring.
 *
 * Owns: ring set-up and tear-down, exact transfers built from libxenvchan's
 * stream calls, accepting the one client the way the socket transport does
 * (the server's state leaves WAITING only inside wait or a transfer call,
 * never behind the caller's back), and withdrawing the xenstore entries at
 * that moment (so no second client can find the ring).
 * Must never: use libxenvchan's blocking mode (the stream calls must not
 * block), hand a ring size to libxenvchan above its 1 MiB limit, or report
 * WAITING on a client (the liveness byte a client reads is the server's to
 * write: any value but 0 is "open", as libxenvchan itself treats it).
 *
 * Events are edge-like, unlike a socket's readability: one notification
 * stands for everything the peer did before it, and bytes already in the
 * ring are not signalled again. Callers read until read returns 0 after
 * each wait (vchan.h); a read that finds less than it asked for is what
 * asks the peer to notify on its next write.
 *
 * Compiled when the xen option finds the libraries; exercised on a real
 * Xen by the QEMU test (tests/xen, docs/xen.md). */
#include "vchan-private.h"

#include <errno.h>
#include <libxenvchan.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

/* A ring size of 0 asks for this (Qubes uses 64 KiB rings for its data). */
#define BH_VCHAN_XEN_DEFAULT_RING 65536

static int xen_own_domid(const struct bh_vchan *v, int *out)
{
    int rc = -1;
    struct xs_handle *xs = NULL;
    char *s = NULL;
    char *end = NULL;
    unsigned len = 0;
    long id;

    xs = xs_open(0);
    if (!xs) {
        bh_vchan_log(v, "cannot open xenstore: %s", strerror(errno));
        goto out;
    }
    /* Relative paths are under /local/domain/<own id>/. */
    s = xs_read(xs, XBT_NULL, "domid", &len);
    if (!s) {
        bh_vchan_log(v, "xenstore has no 'domid' for this domain: %s", strerror(errno));
        goto out;
    }
    errno = 0;
    id = strtol(s, &end, 10);
    if (errno || end == s || *end || id < 0 || id > 0x7fef) {
        bh_vchan_log(v, "xenstore 'domid' is not a domain id");
        errno = EINVAL;
        goto out;
    }
    *out = (int)id;
    rc = 0;
out:
    free(s);
    if (xs)
        xs_close(xs);
    return rc;
}

static void xs_path_of(const struct bh_vchan *v, char *out, size_t n)
{
    snprintf(out, n, "data/vchan/%d/%d", v->peer_domain, v->port);
}

/* Server: accept the client once it has mapped the ring (libxenvchan's
 * liveness byte is no longer the server's initial 2), and remove the
 * entries that lead to the ring. libxenvchan_close removes them too; doing
 * it here is what refuses a second client. Called from wait and the
 * transfer calls only, so the state changes where the socket transport's
 * does (its accept), and code written against one transport fits the other. */
static void xen_accept(struct bh_vchan *v)
{
    struct xs_handle *xs;
    char path[64];

    if (!v->is_server || v->xen_accepted || libxenvchan_is_open(v->xen) == 2)
        return;
    v->xen_accepted = true;
    if (!v->xen_published)
        return;
    v->xen_published = false;
    xs_path_of(v, path, sizeof path);
    xs = xs_open(0);
    if (!xs) {
        bh_vchan_log(v, "cannot open xenstore to withdraw %s: %s", path, strerror(errno));
        return;
    }
    if (!xs_rm(xs, XBT_NULL, path))
        bh_vchan_log(v, "cannot remove %s from xenstore: %s", path, strerror(errno));
    xs_close(xs);
}

/* The peer is gone and nothing it sent is left to read. */
static bool xen_peer_gone(const struct bh_vchan *v)
{
    return libxenvchan_is_open(v->xen) == 0 && libxenvchan_data_ready(v->xen) == 0;
}

int bh_vchan_xen_server_init(struct bh_vchan *v)
{
    char path[64];
    size_t rd = v->read_min ? v->read_min : BH_VCHAN_XEN_DEFAULT_RING;
    size_t wr = v->write_min ? v->write_min : BH_VCHAN_XEN_DEFAULT_RING;

    xs_path_of(v, path, sizeof path);
    v->xen = libxenvchan_server_init(NULL, v->peer_domain, path, rd, wr);
    if (!v->xen) {
        if (errno == 0)
            errno = EIO;
        bh_vchan_log(v, "cannot set up a vchan server at %s: %s", path, strerror(errno));
        return -1;
    }
    v->xen->blocking = 0;
    v->xen_published = true;
    return 0;
}

int bh_vchan_xen_client_init(struct bh_vchan *v)
{
    char path[96];
    int me;

    if (xen_own_domid(v, &me) < 0)
        return -1;
    snprintf(path, sizeof path, "/local/domain/%d/data/vchan/%d/%d", v->peer_domain, me, v->port);
    errno = 0;
    v->xen = libxenvchan_client_init(NULL, v->peer_domain, path);
    if (!v->xen) {
        /* Mostly: the server has not published its ring yet. */
        if (errno == 0)
            errno = ENOENT;
        return -1;
    }
    v->xen->blocking = 0;
    return 0;
}

static int chunk_of(size_t left)
{
    return left > INT_MAX ? INT_MAX : (int)left;
}

static int xen_gone(struct bh_vchan *v)
{
    v->peer_gone = true;
    errno = EPIPE;
    return -1;
}

/* Exact transfers from the stream calls: libxenvchan's own send/recv refuse
 * anything larger than the ring, and its blocking mode would make the stream
 * calls block too. */
static ssize_t xen_exact(struct bh_vchan *v, char *buf, size_t size, bool sending)
{
    size_t done = 0;

    xen_accept(v);
    while (done < size) {
        size_t left = (size_t)chunk_of(size - done);
        int n = sending ? libxenvchan_write(v->xen, buf + done, left)
                        : libxenvchan_read(v->xen, buf + done, left);
        if (n < 0)
            return xen_gone(v);
        /* Nothing moved: libxenvchan has asked the peer for a notification. */
        if (n == 0) {
            if (libxenvchan_wait(v->xen) < 0)
                return -1;
            xen_accept(v);
        }
        done += (size_t)n;
    }
    return (ssize_t)size;
}

ssize_t bh_vchan_xen_send(struct bh_vchan *v, const void *data, size_t size)
{
    /* xen_exact only reads from buf when sending. */
    return xen_exact(v, (char *)(uintptr_t)data, size, true);
}

ssize_t bh_vchan_xen_recv(struct bh_vchan *v, void *data, size_t size)
{
    return xen_exact(v, data, size, false);
}

ssize_t bh_vchan_xen_write(struct bh_vchan *v, const void *data, size_t size)
{
    int n;

    xen_accept(v);
    if (size == 0)
        return 0;
    n = libxenvchan_write(v->xen, data, (size_t)chunk_of(size));
    if (n < 0)
        return xen_gone(v);
    return n;
}

ssize_t bh_vchan_xen_read(struct bh_vchan *v, void *data, size_t size)
{
    int n;

    xen_accept(v);
    if (size == 0)
        return 0;
    n = libxenvchan_read(v->xen, data, (size_t)chunk_of(size));
    if (n < 0)
        return xen_gone(v);
    return n;
}

int bh_vchan_xen_wait(struct bh_vchan *v)
{
    /* A client that came and went before this call is accepted first, as a
     * socket server accepts a connection that is already closed: the caller
     * then sees DISCONNECTED, not a server waiting forever. */
    xen_accept(v);
    if (xen_peer_gone(v))
        return xen_gone(v);
    /* Blocks until the event channel fires; the caller polls its fd first. */
    if (libxenvchan_wait(v->xen) < 0)
        return -1;
    xen_accept(v);
    return 0;
}

int bh_vchan_xen_fd_for_select(const struct bh_vchan *v)
{
    return libxenvchan_fd_for_select(v->xen);
}

enum bh_vchan_state bh_vchan_xen_is_open(const struct bh_vchan *v)
{
    /* libxenvchan: the peer's liveness byte, 0 closed, 1 open, 2 (server's
     * initial value) no client yet; anything else is a peer's scribble that
     * libxenvchan treats as open. */
    if (v->is_server && !v->xen_accepted)
        return BH_VCHAN_WAITING;
    return libxenvchan_is_open(v->xen) == 0 ? BH_VCHAN_DISCONNECTED : BH_VCHAN_CONNECTED;
}

size_t bh_vchan_xen_data_ready(const struct bh_vchan *v)
{
    int n = libxenvchan_data_ready(v->xen);

    return n > 0 ? (size_t)n : 0;
}

size_t bh_vchan_xen_buffer_space(const struct bh_vchan *v)
{
    int n = libxenvchan_buffer_space(v->xen);

    return n > 0 ? (size_t)n : 0;
}

void bh_vchan_xen_close(struct bh_vchan *v)
{
    if (v->xen)
        libxenvchan_close(v->xen);
    v->xen = NULL;
}
