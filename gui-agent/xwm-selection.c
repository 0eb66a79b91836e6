/* xwm-selection.c — the CLIPBOARD between the qube's X clients and its
 * Wayland clients, and so with dom0's global clipboard (Ctrl+Shift+C/V
 * reach the agent's selection, data.c). When an X client owns CLIPBOARD
 * (XFIXES tells), its TARGETS become the agent's selection, read on demand
 * with ConvertSelection (INCR too); when anyone else holds the selection
 * (a Wayland client, dom0's paste) the XWM owns CLIPBOARD in X and answers
 * X clients' SelectionRequests from it (MULTIPLE too), in INCR chunks past
 * BH_XSEL_CHUNK.
 * PRIMARY is never touched: it stays among the X clients of the qube.
 *
 * Owns: the selection window (a child of the XWM's check window, so the
 * XWM never tracks it), one window per transfer from an X owner, and the
 * pipe and one chunk of buffer of each transfer in either direction.
 * Must never: trust what an X client answers (its TARGETS list, sizes,
 * INCR chunk count, silences and duration are all bounded by BH_XSEL_*),
 * hold more than one chunk per transfer, run more than
 * BH_XSEL_MAX_TRANSFERS at once (a MULTIPLE's parts included, at most
 * BH_XSEL_MULTIPLE_PAIRS of them), block on a pipe, or read or own PRIMARY. */
#include "internal.h"
#include "clip-png.h"
#include "xwm-props.h"
#include "xwm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xcb/xfixes.h>

#define MOD "clipboard"

/* Transfers in flight, both directions together. */
#define BH_XSEL_MAX_TRANSFERS 8
/* Bytes read from an X property or from a pipe at a time, and the size of
 * the INCR chunks sent to X requestors (beyond one chunk the answer is
 * incremental). */
#define BH_XSEL_CHUNK (32 * 1024)
/* A transfer's total: the largest thing the agent carries (a PNG). */
#define BH_XSEL_MAX_BYTES BH_CLIP_PNG_MAX_BYTES
/* INCR chunks of one transfer (an X owner sending a byte at a time). */
#define BH_XSEL_MAX_CHUNKS 65536u
/* Silence allowed between two steps of a transfer, and its whole length. */
#define BH_XSEL_STEP_MS  3000
#define BH_XSEL_TOTAL_MS 60000
/* TARGETS read from an X owner (32-bit atoms), and kept as MIME types. */
#define BH_XSEL_TARGET_WORDS 256
#define BH_XSEL_MAX_MIMES    64
/* Pairs one MULTIPLE request may name (ICCCM 2.6.2; a client asks for a
 * handful): a longer list is refused whole. */
#define BH_XSEL_MULTIPLE_PAIRS 32
/* Complaints about X owners logged before the rest are only counted: a
 * client could otherwise fill the qube's log, which dom0 reads. */
#define BH_XSEL_LOG_MAX 16

/* From an X owner into a pipe (a Wayland client's or dom0's read). */
struct bh_xsel_in {
    struct bh_xsel *sel;
    struct wl_list link;
    xcb_window_t window; /* ours: the owner writes the data on it */
    int fd;
    struct wl_event_source *fd_src, *timer;
    bool notified;   /* SelectionNotify came */
    bool incr;       /* the owner sends it in chunks */
    bool prop_ready; /* a property value waits to be read */
    bool done;       /* the last byte is in buf */
    uint32_t offset; /* 32-bit units into the property */
    size_t len, off, total;
    uint32_t chunks;
    struct timespec started;
    uint8_t buf[BH_XSEL_CHUNK];
};

/* A MULTIPLE request being answered: one SelectionNotify when every pair
 * is (its data written, or INCR begun, or refused). */
struct bh_xsel_multi {
    xcb_window_t requestor;
    xcb_atom_t selection, property;
    unsigned pending; /* parts not answered yet, +1 while they are started */
    size_t n;
    struct bh_xwm_pair pairs[BH_XSEL_MULTIPLE_PAIRS];
};

/* From the agent's selection to an X requestor's property. */
struct bh_xsel_out {
    struct bh_xsel *sel;
    struct wl_list link;
    struct bh_xsel_multi *multi; /* the MULTIPLE this is a part of, until answered */
    size_t multi_index;
    xcb_window_t requestor;
    xcb_atom_t selection, target, property, type;
    int fd;
    struct wl_event_source *fd_src, *timer;
    bool notified, incr, eof;
    bool ready; /* INCR: the requestor deleted the property, wants more */
    size_t len, total;
    uint32_t chunks;
    struct timespec started;
    uint8_t buf[BH_XSEL_CHUNK];
};

struct bh_xsel {
    struct bh_xwm *wm;
    xcb_window_t window;
    uint8_t xfixes_event; /* first_event of XFIXES */
    bool owning;          /* the XWM owns CLIPBOARD in X */
    bool want_targets;    /* a TARGETS answer from an X owner is awaited */
    struct wl_event_source *targets_timer;
    struct wl_listener selection_changed;
    struct wl_list ins, outs;
    unsigned n_transfers;
    unsigned complaints, owners_logged;
};

static const struct bh_data_source_ops xsel_ops;

#define COMPLAIN(sel, ...)                                                                                   \
    do {                                                                                                     \
        if ((sel)->complaints++ < BH_XSEL_LOG_MAX)                                                           \
            BH_WARN((sel)->wm->agent, MOD, __VA_ARGS__);                                                     \
    } while (0)

static bool over_time(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000 > BH_XSEL_TOTAL_MS;
}

static xcb_atom_t intern(struct bh_xsel *sel, const char *name)
{
    xcb_connection_t *c = sel->wm->conn;
    xcb_intern_atom_reply_t *r =
        xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, (uint16_t)strlen(name), name), NULL);
    xcb_atom_t atom = r ? r->atom : XCB_ATOM_NONE;
    free(r);
    return atom;
}

/* ---- from an X owner ---------------------------------------------------------- */

static void in_end(struct bh_xsel_in *t, const char *why)
{
    struct bh_xsel *sel = t->sel;
    if (why)
        COMPLAIN(sel, "reading CLIPBOARD from its X owner: %s; the reader gets what came so far", why);
    if (t->fd_src)
        wl_event_source_remove(t->fd_src);
    if (t->timer)
        wl_event_source_remove(t->timer);
    close(t->fd);
    xcb_destroy_window(sel->wm->conn, t->window);
    xcb_flush(sel->wm->conn);
    wl_list_remove(&t->link);
    sel->n_transfers--;
    free(t);
}

/* Writes what buf holds, then reads the next piece of the owner's
 * property once buf is empty; one chunk in memory at a time. */
static void in_pump(struct bh_xsel_in *t)
{
    struct bh_xsel *sel = t->sel;
    xcb_connection_t *c = sel->wm->conn;
    for (;;) {
        while (t->off < t->len) {
            ssize_t n = write(t->fd, t->buf + t->off, t->len - t->off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN) {
                wl_event_source_fd_update(t->fd_src, WL_EVENT_WRITABLE);
                return;
            }
            if (n <= 0) {
                in_end(t, NULL); /* the reader went away */
                return;
            }
            t->off += (size_t)n;
        }
        t->off = t->len = 0;
        wl_event_source_fd_update(t->fd_src, 0);
        if (t->done) {
            in_end(t, NULL);
            return;
        }
        if (!t->prop_ready)
            return; /* until the owner's next chunk */
        if (over_time(&t->started)) {
            in_end(t, "it took over 60 s");
            return;
        }
        xcb_get_property_reply_t *r =
            xcb_get_property_reply(c,
                                   xcb_get_property(c, 0, t->window, sel->wm->atoms[A_BH_SELECTION],
                                                    XCB_ATOM_ANY, t->offset, BH_XSEL_CHUNK / 4),
                                   NULL);
        if (!r) {
            in_end(t, "its property is gone");
            return;
        }
        size_t n = (size_t)xcb_get_property_value_length(r);
        if (!t->incr && t->offset == 0 && r->type == sel->wm->atoms[A_INCR]) {
            /* In chunks: deleting the property asks for the first. */
            t->incr = true;
            t->prop_ready = false;
            free(r);
            xcb_delete_property(c, t->window, sel->wm->atoms[A_BH_SELECTION]);
            xcb_flush(c);
            wl_event_source_timer_update(t->timer, BH_XSEL_STEP_MS);
            return;
        }
        if (n > sizeof(t->buf) || t->total + n > BH_XSEL_MAX_BYTES) {
            free(r);
            in_end(t, "it sent more than the bound");
            return;
        }
        memcpy(t->buf, xcb_get_property_value(r), n);
        t->len = n;
        t->total += n;
        bool whole = r->bytes_after == 0;
        free(r);
        if (whole) {
            /* In INCR a zero-length chunk ends it; otherwise one property
             * is all. Deleting it asks an INCR owner for the next chunk. */
            t->done = !t->incr || (t->offset == 0 && n == 0);
            t->offset = 0;
            t->prop_ready = false;
            xcb_delete_property(c, t->window, sel->wm->atoms[A_BH_SELECTION]);
            xcb_flush(c);
            if (t->incr && ++t->chunks > BH_XSEL_MAX_CHUNKS) {
                in_end(t, "it sent too many INCR chunks");
                return;
            }
        } else {
            t->offset += (uint32_t)(n / 4);
        }
        wl_event_source_timer_update(t->timer, BH_XSEL_STEP_MS);
    }
}

static int in_writable(int fd, uint32_t mask, void *data)
{
    in_pump(data); /* may free it */
    return 0;
}

static int in_timeout(void *data)
{
    in_end(data, "it did not answer within 3 s");
    return 0;
}

/* bh_data_source_ops.send: a reader wants the X owner's data as mime. */
static void in_start(void *data, const char *mime, int fd)
{
    struct bh_xsel *sel = data;
    struct bh_xwm *wm = sel->wm;
    struct bh_xsel_in *t = NULL;
    int fl = fcntl(fd, F_GETFL);

    if (sel->n_transfers >= BH_XSEL_MAX_TRANSFERS) {
        COMPLAIN(sel, "more than %d CLIPBOARD transfers at once: one refused (%s)", BH_XSEL_MAX_TRANSFERS,
                 mime);
        goto fail;
    }
    xcb_atom_t target = intern(sel, bh_xwm_mime_target(mime));
    if (target == XCB_ATOM_NONE || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        !(t = calloc(1, sizeof(*t))))
        goto fail;
    t->sel = sel;
    t->fd = fd;
    clock_gettime(CLOCK_MONOTONIC, &t->started);
    t->fd_src = wl_event_loop_add_fd(wm->agent->loop, fd, 0, in_writable, t);
    t->timer = wl_event_loop_add_timer(wm->agent->loop, in_timeout, t);
    if (!t->fd_src || !t->timer) {
        if (t->fd_src)
            wl_event_source_remove(t->fd_src);
        if (t->timer)
            wl_event_source_remove(t->timer);
        free(t);
        goto fail;
    }
    t->window = xcb_generate_id(wm->conn);
    uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
    xcb_create_window(wm->conn, 0, t->window, wm->check_window, 0, 0, 1, 1, 0, XCB_WINDOW_CLASS_INPUT_ONLY,
                      XCB_COPY_FROM_PARENT, XCB_CW_EVENT_MASK, &mask);
    xcb_convert_selection(wm->conn, t->window, wm->atoms[A_CLIPBOARD], target, wm->atoms[A_BH_SELECTION],
                          XCB_CURRENT_TIME);
    xcb_flush(wm->conn);
    wl_event_source_timer_update(t->timer, BH_XSEL_STEP_MS);
    wl_list_insert(&sel->ins, &t->link);
    sel->n_transfers++;
    /* Logged within the same budget as new owners: what a stalled paste
     * did is then in the log. */
    if (sel->owners_logged++ < BH_XSEL_LOG_MAX * 4)
        BH_INFO(wm->agent, MOD, "a reader asks the X owner of CLIPBOARD for %s", mime);
    return;
fail:
    close(fd);
}

static const struct bh_data_source_ops xsel_ops = {.send = in_start};

static struct bh_xsel_in *in_find(struct bh_xsel *sel, xcb_window_t window)
{
    struct bh_xsel_in *t;
    wl_list_for_each(t, &sel->ins, link) if (t->window == window) return t;
    return NULL;
}

/* An X client became CLIPBOARD's owner and said what it offers. */
static void got_targets(struct bh_xsel *sel, xcb_atom_t property)
{
    struct bh_xwm *wm = sel->wm;
    xcb_connection_t *c = wm->conn;
    char names[BH_XSEL_MAX_MIMES][BH_XWM_MIME_MAX + 1];
    const char *mimes[BH_XSEL_MAX_MIMES];
    unsigned n = 0;

    if (property == XCB_ATOM_NONE) {
        /* An old client without TARGETS: it can only mean text. */
        mimes[n++] = "text/plain;charset=utf-8";
    } else {
        xcb_get_property_reply_t *r = xcb_get_property_reply(
            c, xcb_get_property(c, 1, sel->window, property, XCB_ATOM_ATOM, 0, BH_XSEL_TARGET_WORDS), NULL);
        uint32_t atoms[BH_XSEL_TARGET_WORDS];
        size_t k = 0;
        if (r && r->format == 32) {
            k = bh_xwm_targets_pick(xcb_get_property_value(r), (size_t)xcb_get_property_value_length(r) / 4,
                                    atoms, BH_XSEL_TARGET_WORDS);
            if (r->bytes_after)
                COMPLAIN(sel, "an X owner of CLIPBOARD lists over %d targets: the first %d are read",
                         BH_XSEL_TARGET_WORDS, BH_XSEL_TARGET_WORDS);
        }
        free(r);
        xcb_get_atom_name_cookie_t ck[BH_XSEL_TARGET_WORDS];
        for (size_t i = 0; i < k; i++)
            ck[i] = xcb_get_atom_name(c, atoms[i]);
        for (size_t i = 0; i < k; i++) {
            xcb_get_atom_name_reply_t *a = xcb_get_atom_name_reply(c, ck[i], NULL);
            if (a && n < BH_XSEL_MAX_MIMES &&
                bh_xwm_target_mime(xcb_get_atom_name_name(a), (size_t)xcb_get_atom_name_name_length(a),
                                   names[n]))
                mimes[n] = names[n], n++;
            free(a);
        }
    }
    if (sel->owners_logged++ < BH_XSEL_LOG_MAX * 4)
        BH_INFO(wm->agent, MOD, "an X client owns CLIPBOARD (%u types)", n);
    bh_data_set_agent_selection(wm->agent, mimes, n, &xsel_ops, sel);
}

static void on_owner(struct bh_xsel *sel, xcb_xfixes_selection_notify_event_t *e)
{
    struct bh_xwm *wm = sel->wm;
    if (e->selection != wm->atoms[A_CLIPBOARD] || e->owner == sel->window)
        return;
    sel->owning = false;
    if (e->owner == XCB_WINDOW_NONE) {
        /* Its owner went away: so does the selection, if it was X's. */
        sel->want_targets = false;
        bh_data_drop_selection(wm->agent, &xsel_ops);
        return;
    }
    sel->want_targets = true;
    wl_event_source_timer_update(sel->targets_timer, BH_XSEL_STEP_MS);
    xcb_convert_selection(wm->conn, sel->window, wm->atoms[A_CLIPBOARD], wm->atoms[A_TARGETS],
                          wm->atoms[A_BH_TARGETS], XCB_CURRENT_TIME);
    xcb_flush(wm->conn);
}

/* An X owner that does not list its TARGETS in time owns a selection of no
 * type: the one before it is gone, and nothing waits on the silent one. */
static int targets_timeout(void *data)
{
    struct bh_xsel *sel = data;
    if (!sel->want_targets)
        return 0;
    sel->want_targets = false;
    COMPLAIN(sel, "an X owner of CLIPBOARD did not list its TARGETS within %d ms: it offers nothing",
             BH_XSEL_STEP_MS);
    bh_data_set_agent_selection(sel->wm->agent, NULL, 0, &xsel_ops, sel);
    return 0;
}

/* ---- to an X requestor --------------------------------------------------------- */

static void notify(struct bh_xsel *sel, xcb_window_t requestor, xcb_atom_t selection, xcb_atom_t target,
                   xcb_atom_t property)
{
    xcb_selection_notify_event_t ev = {
        .response_type = XCB_SELECTION_NOTIFY,
        .time = XCB_CURRENT_TIME,
        .requestor = requestor,
        .selection = selection,
        .target = target,
        .property = property,
    };
    xcb_send_event(sel->wm->conn, 0, requestor, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
}

/* One part of a MULTIPLE answered (property None: refused); the last one
 * writes the pairs back, refusals as None, and sends the one
 * SelectionNotify the requestor waits for. */
static void multi_part_done(struct bh_xsel *sel, struct bh_xsel_multi *m, size_t i, bool ok)
{
    if (!ok)
        m->pairs[i].property = XCB_ATOM_NONE;
    if (--m->pending > 0)
        return;
    xcb_change_property(sel->wm->conn, XCB_PROP_MODE_REPLACE, m->requestor, m->property,
                        sel->wm->atoms[A_ATOM_PAIR], 32, (uint32_t)(m->n * 2), m->pairs);
    notify(sel, m->requestor, m->selection, sel->wm->atoms[A_MULTIPLE], m->property);
    xcb_flush(sel->wm->conn);
    free(m);
}

/* The SelectionNotify of a request, or its part of a MULTIPLE's. */
static void out_answer(struct bh_xsel_out *o, xcb_atom_t property)
{
    o->notified = true;
    if (!o->multi) {
        notify(o->sel, o->requestor, o->selection, o->target, property);
        return;
    }
    struct bh_xsel_multi *m = o->multi;
    o->multi = NULL;
    multi_part_done(o->sel, m, o->multi_index, property != XCB_ATOM_NONE);
}

static void out_end(struct bh_xsel_out *o, const char *why)
{
    struct bh_xsel *sel = o->sel;
    if (why)
        COMPLAIN(sel, "answering an X client's CLIPBOARD request: %s", why);
    if (!o->notified)
        out_answer(o, XCB_ATOM_NONE);
    xcb_flush(sel->wm->conn);
    if (o->fd_src)
        wl_event_source_remove(o->fd_src);
    if (o->timer)
        wl_event_source_remove(o->timer);
    if (o->fd >= 0)
        close(o->fd);
    wl_list_remove(&o->link);
    sel->n_transfers--;
    free(o);
}

static void put(struct bh_xsel_out *o)
{
    xcb_change_property(o->sel->wm->conn, XCB_PROP_MODE_REPLACE, o->requestor, o->property, o->type, 8,
                        (uint32_t)o->len, o->buf);
}

/* What to do with what the selection's owner wrote so far. */
static void out_step(struct bh_xsel_out *o)
{
    struct bh_xsel *sel = o->sel;
    xcb_connection_t *c = sel->wm->conn;
    if (!o->incr) {
        if (o->eof) {
            put(o);
            out_answer(o, o->property);
            out_end(o, NULL);
        } else if (o->len == sizeof(o->buf)) {
            /* More than a chunk: INCR. The requestor deletes the property
             * for each next chunk, which we hear as PropertyNotify. */
            uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
            xcb_change_window_attributes(c, o->requestor, XCB_CW_EVENT_MASK, &mask);
            uint32_t at_least = (uint32_t)o->len;
            xcb_change_property(c, XCB_PROP_MODE_REPLACE, o->requestor, o->property, sel->wm->atoms[A_INCR],
                                32, 1, &at_least);
            out_answer(o, o->property);
            o->incr = true;
            wl_event_source_fd_update(o->fd_src, 0);
            xcb_flush(c);
        }
        return;
    }
    if (!o->ready || (o->len < sizeof(o->buf) && !o->eof)) {
        wl_event_source_fd_update(o->fd_src, o->eof || o->len == sizeof(o->buf) ? 0 : WL_EVENT_READABLE);
        return;
    }
    bool last = o->len == 0;
    put(o);
    xcb_flush(c);
    o->len = 0;
    o->ready = false;
    if (last) {
        out_end(o, NULL);
        return;
    }
    if (++o->chunks > BH_XSEL_MAX_CHUNKS) {
        out_end(o, "too many chunks");
        return;
    }
    wl_event_source_fd_update(o->fd_src, o->eof ? 0 : WL_EVENT_READABLE);
}

static int out_readable(int fd, uint32_t mask, void *data)
{
    struct bh_xsel_out *o = data;
    while (o->len < sizeof(o->buf) && !o->eof) {
        ssize_t n = read(fd, o->buf + o->len, sizeof(o->buf) - o->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            out_end(o, "the selection could not be read");
            return 0;
        }
        if (n == 0) {
            o->eof = true;
            break;
        }
        o->len += (size_t)n;
        o->total += (size_t)n;
        if (o->total > BH_XSEL_MAX_BYTES) {
            out_end(o, "the selection is over the bound");
            return 0;
        }
    }
    if (over_time(&o->started)) {
        out_end(o, "it took over 60 s");
        return 0;
    }
    wl_event_source_timer_update(o->timer, BH_XSEL_STEP_MS);
    out_step(o);
    return 0;
}

static int out_timeout(void *data)
{
    out_end(data, "nothing moved for 3 s");
    return 0;
}

/* The text types X clients ask for, all served from the selection's text. */
static const char *const x_text_targets[] = {"UTF8_STRING", "STRING", "TEXT", "text/plain;charset=utf-8",
                                             "text/plain"};
static const char *const text_mimes[] = {"text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "TEXT",
                                         "STRING"};

static bool is_text_mime(const char *m)
{
    for (size_t i = 0; i < sizeof(text_mimes) / sizeof(text_mimes[0]); i++)
        if (strcmp(m, text_mimes[i]) == 0)
            return true;
    return false;
}

/* The selection's MIME type that serves X target `name`, or NULL. */
static const char *mime_for(struct bh_xsel *sel, const char *name)
{
    const char *const *mimes;
    unsigned n = bh_data_selection_mimes(sel->wm->agent, &mimes);
    bool text = false;
    for (size_t i = 0; i < sizeof(x_text_targets) / sizeof(x_text_targets[0]); i++)
        text |= strcmp(name, x_text_targets[i]) == 0;
    if (text) {
        for (size_t i = 0; i < sizeof(text_mimes) / sizeof(text_mimes[0]); i++)
            for (unsigned k = 0; k < n; k++)
                if (strcmp(mimes[k], text_mimes[i]) == 0)
                    return mimes[k];
        return NULL;
    }
    for (unsigned k = 0; k < n; k++)
        if (strcmp(mimes[k], name) == 0)
            return mimes[k];
    return NULL;
}

static void answer_targets(struct bh_xsel *sel, xcb_window_t requestor, xcb_atom_t property)
{
    struct bh_xwm *wm = sel->wm;
    const char *const *mimes;
    unsigned n = bh_data_selection_mimes(wm->agent, &mimes);
    xcb_atom_t list[3 + 5 + 64];
    size_t k = 0;
    bool text = false;
    list[k++] = wm->atoms[A_TARGETS];
    list[k++] = wm->atoms[A_TIMESTAMP];
    list[k++] = wm->atoms[A_MULTIPLE];
    for (unsigned i = 0; i < n && k < sizeof(list) / sizeof(list[0]); i++) {
        if (is_text_mime(mimes[i])) {
            text = true;
            continue;
        }
        xcb_atom_t a = intern(sel, mimes[i]);
        if (a != XCB_ATOM_NONE)
            list[k++] = a;
    }
    for (size_t i = 0; text && i < sizeof(x_text_targets) / sizeof(x_text_targets[0]); i++)
        if (k < sizeof(list) / sizeof(list[0]))
            list[k++] = intern(sel, x_text_targets[i]);
    xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, requestor, property, XCB_ATOM_ATOM, 32, (uint32_t)k,
                        list);
}

/* TARGETS and TIMESTAMP, answered at once; false for any other target. */
static bool answer_now(struct bh_xsel *sel, xcb_window_t requestor, xcb_atom_t target, xcb_atom_t property)
{
    struct bh_xwm *wm = sel->wm;
    if (target == wm->atoms[A_TARGETS]) {
        answer_targets(sel, requestor, property);
        return true;
    }
    if (target == wm->atoms[A_TIMESTAMP]) {
        uint32_t t = XCB_CURRENT_TIME;
        xcb_change_property(wm->conn, XCB_PROP_MODE_REPLACE, requestor, property, XCB_ATOM_INTEGER, 32, 1,
                            &t);
        return true;
    }
    return false;
}

/* Starts writing the selection as target into the requestor's property,
 * through a pipe from the selection's owner (as a part of m if not NULL).
 * false: refused, nothing started and nothing told; true: started, or
 * already answered as refused (out_end). */
static bool out_begin(struct bh_xsel *sel, xcb_window_t requestor, xcb_atom_t selection, xcb_atom_t target,
                      xcb_atom_t property, struct bh_xsel_multi *m, size_t index)
{
    struct bh_xwm *wm = sel->wm;
    xcb_connection_t *c = wm->conn;
    struct bh_xsel_out *o = NULL;
    int fds[2] = {-1, -1};

    xcb_get_atom_name_reply_t *an = xcb_get_atom_name_reply(c, xcb_get_atom_name(c, target), NULL);
    char name[BH_XWM_MIME_MAX + 1] = "";
    if (an && xcb_get_atom_name_name_length(an) <= BH_XWM_MIME_MAX) {
        memcpy(name, xcb_get_atom_name_name(an), (size_t)xcb_get_atom_name_name_length(an));
        name[xcb_get_atom_name_name_length(an)] = '\0';
    }
    free(an);
    const char *mime = name[0] ? mime_for(sel, name) : NULL;
    if (!mime)
        return false;
    if (sel->n_transfers >= BH_XSEL_MAX_TRANSFERS) {
        COMPLAIN(sel, "more than %d CLIPBOARD transfers at once: an X request refused (%s)",
                 BH_XSEL_MAX_TRANSFERS, name);
        return false;
    }
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return false;
    if (!(o = calloc(1, sizeof(*o)))) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    o->sel = sel;
    o->requestor = requestor;
    o->selection = selection;
    o->target = target;
    o->property = property;
    o->multi = m;
    o->multi_index = index;
    if (m)
        m->pending++;
    /* TEXT is answered as UTF-8 (ICCCM lets the owner choose). */
    o->type = strcmp(name, "TEXT") == 0 ? wm->atoms[A_UTF8_STRING] : target;
    o->fd = fds[0];
    clock_gettime(CLOCK_MONOTONIC, &o->started);
    o->fd_src = wl_event_loop_add_fd(wm->agent->loop, fds[0], WL_EVENT_READABLE, out_readable, o);
    o->timer = wl_event_loop_add_timer(wm->agent->loop, out_timeout, o);
    wl_list_insert(&sel->outs, &o->link);
    sel->n_transfers++;
    if (!o->fd_src || !o->timer) {
        out_end(o, "out of memory");
        close(fds[1]);
        return true;
    }
    wl_event_source_timer_update(o->timer, BH_XSEL_STEP_MS);
    BH_DBG(wm->agent, MOD, "an X client reads CLIPBOARD as %s", mime);
    bh_data_selection_send(wm->agent, mime, fds[1]); /* takes fds[1] */
    return true;
}

/* MULTIPLE (ICCCM 2.6.2): the requestor's property lists (target,
 * property) pairs; each is answered as its own request would be (INCR
 * included), a refused one's property becomes None in the list written
 * back, and one SelectionNotify says when all are answered. */
static void on_multiple(struct bh_xsel *sel, xcb_selection_request_event_t *e)
{
    struct bh_xwm *wm = sel->wm;
    xcb_connection_t *c = wm->conn;
    struct bh_xsel_multi *m = NULL;
    xcb_get_property_reply_t *r = NULL;

    /* The pairs' property is required (None is the obsolete form). */
    if (e->property == XCB_ATOM_NONE || !(m = calloc(1, sizeof(*m))))
        goto refuse;
    r = xcb_get_property_reply(c,
                               xcb_get_property(c, 0, e->requestor, e->property, XCB_GET_PROPERTY_TYPE_ANY, 0,
                                                BH_XSEL_MULTIPLE_PAIRS * 2),
                               NULL);
    if (!r || r->format != 32 || (r->type != wm->atoms[A_ATOM_PAIR] && r->type != XCB_ATOM_ATOM)) {
        COMPLAIN(sel, "an X client's MULTIPLE request has no ATOM_PAIR list: refused");
        goto refuse;
    }
    if (r->bytes_after) {
        COMPLAIN(sel, "an X client's MULTIPLE request names over %d pairs: refused", BH_XSEL_MULTIPLE_PAIRS);
        goto refuse;
    }
    m->n = bh_xwm_multiple_pairs(xcb_get_property_value(r), (size_t)xcb_get_property_value_length(r) / 4,
                                 wm->atoms[A_MULTIPLE], m->pairs, BH_XSEL_MULTIPLE_PAIRS);
    free(r);
    r = NULL;
    if (m->n == 0)
        goto refuse;
    m->requestor = e->requestor;
    m->selection = e->selection;
    m->property = e->property;
    m->pending = 1; /* until every part is started: a part may end at once */
    for (size_t i = 0; i < m->n; i++) {
        struct bh_xwm_pair *p = &m->pairs[i];
        /* The list's own property would be overwritten by the answer. */
        if (p->property == e->property)
            p->property = XCB_ATOM_NONE;
        if (p->property == XCB_ATOM_NONE || answer_now(sel, e->requestor, p->target, p->property))
            continue;
        if (!out_begin(sel, e->requestor, e->selection, p->target, p->property, m, i))
            p->property = XCB_ATOM_NONE;
    }
    multi_part_done(sel, m, 0, true); /* the +1: sends the answer if nothing is left */
    return;
refuse:
    free(r);
    free(m);
    notify(sel, e->requestor, e->selection, e->target, XCB_ATOM_NONE);
    xcb_flush(c);
}

static void on_request(struct bh_xsel *sel, xcb_selection_request_event_t *e)
{
    struct bh_xwm *wm = sel->wm;
    /* ICCCM: a property of None (obsolete clients) means the target's name. */
    xcb_atom_t property = e->property ? e->property : e->target;

    /* The root (or the XWM's own windows) as requestor: the INCR answer
     * would set our event mask on it and end the XWM's redirection. */
    if (e->selection != wm->atoms[A_CLIPBOARD] || !sel->owning || e->owner != sel->window ||
        e->requestor == wm->screen->root || e->requestor == wm->check_window || e->requestor == sel->window) {
        notify(sel, e->requestor, e->selection, e->target, XCB_ATOM_NONE);
        xcb_flush(wm->conn);
        return;
    }
    if (e->target == wm->atoms[A_MULTIPLE]) {
        on_multiple(sel, e);
        return;
    }
    bool now = answer_now(sel, e->requestor, e->target, property);
    if (!now && out_begin(sel, e->requestor, e->selection, e->target, property, NULL, 0))
        return;
    notify(sel, e->requestor, e->selection, e->target, now ? property : XCB_ATOM_NONE);
    xcb_flush(wm->conn);
}

/* ---- events -------------------------------------------------------------------- */

/* The agent's selection changed: unless X's own owner holds it, the XWM
 * takes CLIPBOARD in X so X clients can paste it. */
static void selection_changed(struct wl_listener *l, void *data)
{
    struct bh_xsel *sel = wl_container_of(l, sel, selection_changed);
    struct bh_xwm *wm = sel->wm;
    if (bh_data_selection_owned_by(wm->agent, &xsel_ops))
        return;
    sel->want_targets = false;
    if (!data && !sel->owning)
        return;
    xcb_set_selection_owner(wm->conn, data ? sel->window : XCB_WINDOW_NONE, wm->atoms[A_CLIPBOARD],
                            XCB_CURRENT_TIME);
    sel->owning = data != NULL;
    xcb_flush(wm->conn);
}

bool bh_xsel_handle(struct bh_xsel *sel, xcb_generic_event_t *ev)
{
    struct bh_xwm *wm = sel->wm;
    uint8_t type = ev->response_type & 0x7f;
    /* Any X client may SendEvent anything to our windows: only
     * SelectionNotify legitimately comes that way (from an owner). */
    bool sent = ev->response_type & 0x80;
    if (type == (uint8_t)(sel->xfixes_event + XCB_XFIXES_SELECTION_NOTIFY)) {
        if (!sent)
            on_owner(sel, (xcb_xfixes_selection_notify_event_t *)ev);
        return true;
    }
    if (sent && type != XCB_SELECTION_NOTIFY && type != XCB_CLIENT_MESSAGE)
        return false;
    switch (type) {
    case XCB_SELECTION_REQUEST:
        on_request(sel, (xcb_selection_request_event_t *)ev);
        return true;
    case XCB_SELECTION_CLEAR:
        if (((xcb_selection_clear_event_t *)ev)->selection == wm->atoms[A_CLIPBOARD])
            sel->owning = false;
        return true;
    case XCB_SELECTION_NOTIFY: {
        xcb_selection_notify_event_t *e = (xcb_selection_notify_event_t *)ev;
        if (e->requestor == sel->window) {
            if (e->target == wm->atoms[A_TARGETS] && sel->want_targets) {
                sel->want_targets = false;
                got_targets(sel, e->property);
            }
            return true;
        }
        struct bh_xsel_in *t = in_find(sel, e->requestor);
        if (!t)
            return false;
        if (t->notified)
            return true; /* one answer per request */
        if (e->property == XCB_ATOM_NONE) {
            in_end(t, "it refused the type asked for");
            return true;
        }
        t->notified = t->prop_ready = true;
        in_pump(t);
        return true;
    }
    case XCB_PROPERTY_NOTIFY: {
        xcb_property_notify_event_t *e = (xcb_property_notify_event_t *)ev;
        struct bh_xsel_in *t = in_find(sel, e->window);
        if (t) {
            /* Only a new INCR chunk counts (our own deletes also notify). */
            if (t->notified && t->incr && e->state == XCB_PROPERTY_NEW_VALUE &&
                e->atom == wm->atoms[A_BH_SELECTION]) {
                t->prop_ready = true;
                in_pump(t);
            }
            return true;
        }
        struct bh_xsel_out *o;
        wl_list_for_each(o, &sel->outs, link)
        {
            if (o->incr && o->requestor == e->window && o->property == e->atom &&
                e->state == XCB_PROPERTY_DELETE) {
                o->ready = true;
                wl_event_source_timer_update(o->timer, BH_XSEL_STEP_MS);
                out_step(o);
                return true;
            }
        }
        return false;
    }
    default:
        return false;
    }
}

struct bh_xsel *bh_xsel_new(struct bh_xwm *wm)
{
    xcb_connection_t *c = wm->conn;
    const xcb_query_extension_reply_t *ext = xcb_get_extension_data(c, &xcb_xfixes_id);
    if (!ext || !ext->present) {
        BH_WARN(wm->agent, MOD, "Xwayland has no XFIXES: no clipboard between X and the rest");
        return NULL;
    }
    free(xcb_xfixes_query_version_reply(c, xcb_xfixes_query_version(c, 5, 0), NULL));
    struct bh_xsel *sel = calloc(1, sizeof(*sel));
    if (!sel)
        return NULL;
    sel->wm = wm;
    sel->xfixes_event = ext->first_event;
    wl_list_init(&sel->ins);
    wl_list_init(&sel->outs);
    sel->targets_timer = wl_event_loop_add_timer(wm->agent->loop, targets_timeout, sel);
    if (!sel->targets_timer) {
        free(sel);
        return NULL;
    }
    sel->window = xcb_generate_id(c);
    uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
    xcb_create_window(c, 0, sel->window, wm->check_window, 0, 0, 1, 1, 0, XCB_WINDOW_CLASS_INPUT_ONLY,
                      XCB_COPY_FROM_PARENT, XCB_CW_EVENT_MASK, &mask);
    /* CLIPBOARD only: PRIMARY stays among the qube's X clients. */
    xcb_xfixes_select_selection_input(c, sel->window, wm->atoms[A_CLIPBOARD],
                                      XCB_XFIXES_SELECTION_EVENT_MASK_SET_SELECTION_OWNER |
                                          XCB_XFIXES_SELECTION_EVENT_MASK_SELECTION_WINDOW_DESTROY |
                                          XCB_XFIXES_SELECTION_EVENT_MASK_SELECTION_CLIENT_CLOSE);
    sel->selection_changed.notify = selection_changed;
    wl_signal_add(&wm->agent->events.selection_changed, &sel->selection_changed);
    /* A selection made before Xwayland started (dom0's paste, a Wayland
     * copy) is X's to paste too. */
    if (wm->agent->data.selection)
        selection_changed(&sel->selection_changed, wm->agent->data.selection);
    return sel;
}

void bh_xsel_free(struct bh_xsel *sel)
{
    if (!sel)
        return;
    wl_list_remove(&sel->selection_changed.link);
    wl_event_source_remove(sel->targets_timer);
    struct bh_xsel_in *t, *tt;
    wl_list_for_each_safe(t, tt, &sel->ins, link) in_end(t, NULL);
    struct bh_xsel_out *o, *to;
    wl_list_for_each_safe(o, to, &sel->outs, link) out_end(o, NULL);
    /* The X owner's selection cannot be read any more. */
    bh_data_drop_selection(sel->wm->agent, &xsel_ops);
    free(sel);
}
