/* vchan-xen.c — the xen transport: libxenvchan rings between two domains,
 * found through xenstore as Qubes does: the server publishes
 *   /local/domain/<server>/data/vchan/<client>/<port>/{ring-ref,event-channel}
 * readable by the client domain only, and the client maps that ring.
 *
 * Owns: ring set-up and tear-down, exact transfers built from libxenvchan's
 * stream calls, and withdrawing the xenstore entries once the one client
 * has connected (so no second client can find the ring).
 * Must never: use libxenvchan's blocking mode (the stream calls must not
 * block), or hand a ring size to libxenvchan above its 1 MiB limit.
 *
 * This file is compiled when the xen option finds the libraries; it cannot
 * run without a hypervisor, so no test here exercises it. */
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

/* Server: once the client is there, remove the entries that lead to the
 * ring. libxenvchan_close removes them too; doing it early is what refuses
 * a second client. */
static void withdraw_if_connected(struct bh_vchan *v)
{
    struct xs_handle *xs;
    char path[64];

    if (!v->is_server || !v->xen_published || libxenvchan_is_open(v->xen) != 1)
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

    while (done < size) {
        size_t left = (size_t)chunk_of(size - done);
        int n = sending ? libxenvchan_write(v->xen, buf + done, left)
                        : libxenvchan_read(v->xen, buf + done, left);
        if (n < 0)
            return xen_gone(v);
        /* Nothing moved: libxenvchan has asked the peer for a notification. */
        if (n == 0 && libxenvchan_wait(v->xen) < 0)
            return -1;
        done += (size_t)n;
    }
    withdraw_if_connected(v);
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

    if (size == 0)
        return 0;
    n = libxenvchan_write(v->xen, data, (size_t)chunk_of(size));
    if (n < 0)
        return xen_gone(v);
    withdraw_if_connected(v);
    return n;
}

ssize_t bh_vchan_xen_read(struct bh_vchan *v, void *data, size_t size)
{
    int n;

    if (size == 0)
        return 0;
    n = libxenvchan_read(v->xen, data, (size_t)chunk_of(size));
    if (n < 0)
        return xen_gone(v);
    withdraw_if_connected(v);
    return n;
}

int bh_vchan_xen_wait(struct bh_vchan *v)
{
    if (libxenvchan_is_open(v->xen) == 0 && libxenvchan_data_ready(v->xen) == 0)
        return xen_gone(v);
    if (libxenvchan_wait(v->xen) < 0)
        return -1;
    withdraw_if_connected(v);
    return 0;
}

int bh_vchan_xen_fd_for_select(const struct bh_vchan *v)
{
    return libxenvchan_fd_for_select(v->xen);
}

enum bh_vchan_state bh_vchan_xen_is_open(const struct bh_vchan *v)
{
    /* libxenvchan: 0 closed, 1 connected, 2 server still waiting. */
    switch (libxenvchan_is_open(v->xen)) {
    case 1:
        return BH_VCHAN_CONNECTED;
    case 2:
        return BH_VCHAN_WAITING;
    default:
        return BH_VCHAN_DISCONNECTED;
    }
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
