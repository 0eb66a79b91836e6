/* xwayland-relay.c — the agent's end of Xwayland's Wayland connection,
 * drained at once into memory and handed on to the agent's wl_client as it
 * reads. Xwayland's libwayland (1.21) ends Xwayland when its socket is full
 * at a moment it must flush ("can't send file descriptor"), and
 * libwayland-server reads a client 4 KiB at a time, once per loop turn: a
 * client mapping 1 000 windows at once made Xwayland write faster than
 * that. Here every turn takes all Xwayland wrote (bounded), so its socket
 * stays empty; what waits, waits in this queue.
 *
 * Owns: both ends it relays (Xwayland's socket and the peer of the agent's
 * wl_client), the queued bytes and descriptors of each direction.
 * Must never: reorder bytes or move a descriptor after the bytes that came
 * with it, queue more than BH_XRELAY_MAX_BYTES or BH_XRELAY_MAX_FDS in a
 * direction (beyond, it stops reading and the kernel's buffer holds the
 * rest), block, or read what it relays. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MOD "xwayland"

/* libwayland's MAX_FDS_OUT: what one recvmsg of either peer accepts. */
#define BH_XRELAY_FDS_PER_MSG 28
#define BH_XRELAY_READ_BYTES  (64 * 1024)
/* recvmsg calls per loop turn and direction: the other sources get theirs. */
#define BH_XRELAY_READS_PER_TURN 64
#define BH_XRELAY_MAX_BYTES      (32u * 1024u * 1024u)
#define BH_XRELAY_MAX_FDS        2048u

struct chunk {
    struct wl_list link;
    size_t len, off;
    int nfds; /* still to send with the first byte sent */
    int fds[BH_XRELAY_FDS_PER_MSG];
    uint8_t data[];
};

struct dir {
    struct wl_list queue; /* chunk.link */
    size_t bytes;
    unsigned fds;
};

struct bh_xrelay {
    struct bh_agent *agent;
    int outer, inner; /* Xwayland's socket; the peer of the agent's wl_client */
    struct wl_event_source *outer_src, *inner_src;
    struct dir up;   /* Xwayland -> agent */
    struct dir down; /* agent -> Xwayland */
    bool dead;
};

static void chunk_free(struct chunk *c)
{
    for (int i = 0; i < c->nfds; i++)
        close(c->fds[i]);
    wl_list_remove(&c->link);
    free(c);
}

static void dir_clear(struct dir *d)
{
    struct chunk *c, *tmp;
    wl_list_for_each_safe(c, tmp, &d->queue, link) chunk_free(c);
    d->bytes = 0;
    d->fds = 0;
}

/* Either side went: so does the other (Xwayland sees its socket close, the
 * agent its wl_client hang up, and xwayland.c frees us from there). */
static void die(struct bh_xrelay *r, const char *why)
{
    if (r->dead)
        return;
    r->dead = true;
    if (why)
        BH_WARN(r->agent, MOD, "relay to Xwayland: %s; Xwayland is stopped", why);
    wl_event_source_remove(r->outer_src);
    wl_event_source_remove(r->inner_src);
    r->outer_src = r->inner_src = NULL;
    close(r->outer);
    close(r->inner);
    r->outer = r->inner = -1;
    dir_clear(&r->up);
    dir_clear(&r->down);
}

/* false when the relay died. */
static bool drain(struct bh_xrelay *r, int fd, struct dir *d)
{
    static uint8_t buf[BH_XRELAY_READ_BYTES];
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int) * 253)]; /* SCM_MAX_FD */
    } cmsg;
    for (int turn = 0; turn < BH_XRELAY_READS_PER_TURN; turn++) {
        if (d->bytes >= BH_XRELAY_MAX_BYTES || d->fds >= BH_XRELAY_MAX_FDS)
            return true; /* full: the kernel's buffer holds the rest */
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr m = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = cmsg.space,
                           .msg_controllen = sizeof(cmsg.space)};
        ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0) {
            die(r, NULL); /* one side closed */
            return false;
        }
        int fds[253], nfds = 0;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
            if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k && nfds < 253; i++)
                memcpy(&fds[nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
        }
        struct chunk *c = NULL;
        if ((m.msg_flags & MSG_CTRUNC) || nfds > BH_XRELAY_FDS_PER_MSG ||
            !(c = malloc(sizeof(*c) + (size_t)n))) {
            for (int i = 0; i < nfds; i++)
                close(fds[i]);
            die(r, (m.msg_flags & MSG_CTRUNC)     ? "descriptors lost (no room for them)"
                   : nfds > BH_XRELAY_FDS_PER_MSG ? "more descriptors in a message than libwayland sends"
                                                  : "out of memory");
            return false;
        }
        c->len = (size_t)n;
        c->off = 0;
        c->nfds = nfds;
        memcpy(c->fds, fds, sizeof(int) * (size_t)nfds);
        memcpy(c->data, buf, (size_t)n);
        wl_list_insert(d->queue.prev, &c->link);
        d->bytes += (size_t)n;
        d->fds += (unsigned)nfds;
    }
    return true;
}

static bool flush(struct bh_xrelay *r, int fd, struct dir *d)
{
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int) * BH_XRELAY_FDS_PER_MSG)];
    } cmsg;
    while (!wl_list_empty(&d->queue)) {
        struct chunk *c = wl_container_of(d->queue.next, c, link);
        struct iovec iov = {c->data + c->off, c->len - c->off};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        if (c->nfds) {
            /* The descriptors go with the first byte of their chunk. */
            m.msg_control = cmsg.space;
            m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)c->nfds);
            struct cmsghdr *h = CMSG_FIRSTHDR(&m);
            h->cmsg_level = SOL_SOCKET;
            h->cmsg_type = SCM_RIGHTS;
            h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)c->nfds);
            memcpy(CMSG_DATA(h), c->fds, sizeof(int) * (size_t)c->nfds);
        }
        ssize_t n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0) {
            die(r, NULL);
            return false;
        }
        for (int i = 0; i < c->nfds; i++)
            close(c->fds[i]);
        d->fds -= (unsigned)c->nfds;
        c->nfds = 0;
        c->off += (size_t)n;
        d->bytes -= (size_t)n;
        if (c->off == c->len)
            chunk_free(c);
    }
    return true;
}

static void update(struct bh_xrelay *r)
{
    uint32_t outer = WL_EVENT_READABLE, inner = WL_EVENT_READABLE;
    if (!wl_list_empty(&r->down.queue))
        outer |= WL_EVENT_WRITABLE;
    if (!wl_list_empty(&r->up.queue))
        inner |= WL_EVENT_WRITABLE;
    wl_event_source_fd_update(r->outer_src, outer);
    wl_event_source_fd_update(r->inner_src, inner);
}

static int on_fd(int fd, uint32_t mask, void *data)
{
    struct bh_xrelay *r = data;
    bool outer = fd == r->outer;
    struct dir *in = outer ? &r->up : &r->down, *out = outer ? &r->down : &r->up;
    int peer = outer ? r->inner : r->outer;
    /* Read, then pass on at once what the other side can take. */
    if ((mask & WL_EVENT_READABLE) && (!drain(r, fd, in) || !flush(r, peer, in)))
        return 0;
    if ((mask & WL_EVENT_WRITABLE) && !flush(r, fd, out))
        return 0;
    if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) && !(mask & WL_EVENT_READABLE)) {
        die(r, NULL);
        return 0;
    }
    update(r);
    return 0;
}

struct bh_xrelay *bh_xrelay_new(struct bh_agent *a, int outer, int inner)
{
    struct bh_xrelay *r = calloc(1, sizeof(*r));
    if (!r) {
        close(outer);
        close(inner);
        return NULL;
    }
    r->agent = a;
    r->outer = outer;
    r->inner = inner;
    wl_list_init(&r->up.queue);
    wl_list_init(&r->down.queue);
    r->outer_src = wl_event_loop_add_fd(a->loop, outer, WL_EVENT_READABLE, on_fd, r);
    r->inner_src = wl_event_loop_add_fd(a->loop, inner, WL_EVENT_READABLE, on_fd, r);
    if (!r->outer_src || !r->inner_src) {
        if (r->outer_src)
            wl_event_source_remove(r->outer_src);
        if (r->inner_src)
            wl_event_source_remove(r->inner_src);
        close(outer);
        close(inner);
        free(r);
        return NULL;
    }
    return r;
}

void bh_xrelay_free(struct bh_xrelay *r)
{
    if (!r)
        return;
    die(r, NULL);
    free(r);
}
