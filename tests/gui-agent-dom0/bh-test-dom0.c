/* bh-test-dom0.c — the test-only dom0 side (see bh-test-dom0.h). */
#include "bh-test-dom0.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/vchan.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die(struct bh_tdom0 *d, const char *why, bool violation)
{
    if (!d->alive)
        return;
    d->alive = false;
    d->violation = violation;
    snprintf(d->error, sizeof(d->error), "%s", why);
    fprintf(stderr, "test-dom0: connection ended: %s\n", why);
}

struct bh_tdom0_win *bh_tdom0_find(struct bh_tdom0 *d, uint32_t id)
{
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++)
        if (d->wins[i].id == id && id)
            return &d->wins[i];
    return NULL;
}

static struct bh_tdom0_win *slot_new(struct bh_tdom0 *d, uint32_t id)
{
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++) {
        if (d->wins[i].id == 0) {
            memset(&d->wins[i], 0, sizeof(d->wins[i]));
            d->wins[i].id = id;
            d->wins[i].buf.fd = -1;
            return &d->wins[i];
        }
    }
    return NULL;
}

static void slot_free(struct bh_tdom0_win *w)
{
    bh_winbuf_release(&w->buf);
    memset(w, 0, sizeof(*w));
}

bool bh_tdom0_send(struct bh_tdom0 *d, uint32_t type, uint32_t window, const void *body, size_t len)
{
    uint8_t buf[BH_MAX_MSG_BYTES];
    if (!d->alive)
        return false;
    size_t n = bh_gui_encode(buf, sizeof(buf), type, window, body, len);
    if (n == 0 || bh_vchan_send(d->v, buf, n) != (ssize_t)n) {
        die(d, "send failed", false);
        return false;
    }
    return true;
}

void bh_tdom0_release(struct bh_tdom0 *d, struct bh_tdom0_win *w)
{
    struct bh_gui_buffer_release r = {w->last_serial};
    if (!w->unreleased)
        return;
    w->unreleased = false;
    bh_tdom0_send(d, BH_GUI_BUFFER_RELEASE, w->id, &r, sizeof(r));
}

static void handle(struct bh_tdom0 *d, const struct bh_gui_msg *m)
{
    struct bh_tdom0_win *w = m->window ? bh_tdom0_find(d, m->window) : NULL;
    uint32_t ids[BH_MAX_WINDOWS];

    switch (m->type) {
    case BH_GUI_HELLO:
        d->agent_version = m->u.hello.version;
        break;
    case BH_GUI_CREATE:
        w = slot_new(d, m->window);
        if (!w)
            break;
        w->width = m->u.create.width;
        w->height = m->u.create.height;
        w->parent = m->u.create.parent;
        w->flags = m->u.create.flags;
        d->n_created++;
        break;
    case BH_GUI_DESTROY: {
        /* As guid does: the window and its popups go, popups first. */
        size_t n = bh_gui_windows_destroy_set(&d->table, m->window, ids, BH_MAX_WINDOWS);
        for (size_t i = 0; i < n && i < BH_MAX_WINDOWS; i++) {
            struct bh_tdom0_win *x = bh_tdom0_find(d, ids[i]);
            if (x) {
                slot_free(x);
                d->n_destroyed++;
            }
        }
        break;
    }
    case BH_GUI_MAP:
        w->mapped = true;
        w->transient_for = m->u.map.transient_for;
        w->x = m->u.map.x;
        w->y = m->u.map.y;
        break;
    case BH_GUI_UNMAP:
        w->mapped = false;
        break;
    case BH_GUI_CONFIGURE:
        w->x = m->u.configure.x;
        w->y = m->u.configure.y;
        w->width = m->u.configure.width;
        w->height = m->u.configure.height;
        break;
    case BH_GUI_TITLE:
        snprintf(w->title, sizeof(w->title), "%s", m->u.title.text);
        w->n_titles++;
        break;
    case BH_GUI_APP_ID:
        snprintf(w->app_id, sizeof(w->app_id), "%s", m->u.title.text);
        break;
    case BH_GUI_HINTS:
        w->hints = m->u.hints;
        break;
    case BH_GUI_FLAGS:
        w->wflags = (w->wflags | m->u.flags.set) & ~m->u.flags.unset;
        break;
    case BH_GUI_CURSOR:
        w->cursor = m->u.cursor.shape;
        break;
    case BH_GUI_BUFFER: {
        const struct bh_gui_buffer *b = &m->u.buffer.info;
        const char *reason = NULL;
        struct bh_winbuf nb;
        size_t size = (size_t)b->stride * b->height;
        bool xen = bh_vchan_transport(d->v) == BH_VCHAN_XEN;
        int fd = xen ? -1 : bh_vchan_take_fd(d->v);
        int rc;
        memset(&nb, 0, sizeof(nb));
        nb.fd = -1;
        /* As guid: the buffer kind must be the transport's. */
        if (xen && b->kind == BH_GUI_BUFFER_GRANT) {
            /* The refs are unaligned in the message: copy them out. */
            uint32_t *refs = malloc(((size_t)b->n_refs + 1) * sizeof(*refs));
            if (!refs) {
                die(d, "out of memory", false);
                return;
            }
            memcpy(refs, m->u.buffer.refs, (size_t)b->n_refs * sizeof(*refs));
            rc = bh_winbuf_import_grant(&nb, d->domid, refs, b->n_refs, size, &reason);
            free(refs);
        } else if (!xen && b->kind == BH_GUI_BUFFER_MEMFD && fd >= 0) {
            rc = bh_winbuf_import_memfd(&nb, fd, size, &reason);
        } else {
            if (fd >= 0)
                close(fd);
            die(d, xen ? "BUFFER without grant references on xen" : "BUFFER without a memfd", true);
            return;
        }
        if (rc < 0) {
            char why[200];
            snprintf(why, sizeof(why), "BUFFER import refused: %s", reason ? reason : "?");
            die(d, why, true);
            return;
        }
        bh_winbuf_release(&w->buf);
        w->buf = nb;
        w->has_buf = true;
        w->buf_w = b->width;
        w->buf_h = b->height;
        w->stride = b->stride;
        w->format = b->format;
        w->n_buffers++;
        break;
    }
    case BH_GUI_DAMAGE:
        w->n_damage++;
        w->last_serial = m->u.damage.serial;
        w->unreleased = true;
        w->last_n_rects = m->u.damage.n_rects;
        memcpy(w->last_rects, m->u.damage.rects, m->u.damage.n_rects * sizeof(struct bh_gui_rect));
        for (uint32_t i = 0; i < m->u.damage.n_rects; i++)
            w->damage_area += (uint64_t)m->u.damage.rects[i].width * m->u.damage.rects[i].height;
        if (d->auto_release)
            bh_tdom0_release(d, w);
        break;
    case BH_GUI_CLIPBOARD_DATA:
        free(d->clipboard);
        d->clipboard = malloc(m->u.clipboard.len + 1);
        if (d->clipboard) {
            memcpy(d->clipboard, m->u.clipboard.data, m->u.clipboard.len);
            d->clipboard[m->u.clipboard.len] = '\0';
        }
        d->clipboard_len = m->u.clipboard.len;
        d->clipboard_request = m->u.clipboard.request;
        d->n_clipboard++;
        break;
    default:
        break;
    }
}

static void process(struct bh_tdom0 *d)
{
    struct bh_gui_error err;
    size_t off = 0;
    while (d->alive && off < d->in_len) {
        long n = bh_gui_decode(d->in + off, d->in_len - off, BH_GUI_FROM_AGENT, &d->table, &d->msg, &err);
        if (n == 0)
            break;
        if (n < 0) {
            char why[240];
            snprintf(why, sizeof(why), "agent violated the protocol: %s", err.reason);
            die(d, why, true);
            return;
        }
        handle(d, &d->msg);
        bh_gui_windows_apply(&d->table, &d->msg);
        off += (size_t)n;
    }
    memmove(d->in, d->in + off, d->in_len - off);
    d->in_len -= off;
}

bool bh_tdom0_pump(struct bh_tdom0 *d, int timeout_ms)
{
    if (!d->alive)
        return false;
    struct pollfd p = {bh_vchan_fd_for_select(d->v), POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR) {
        die(d, "poll failed", false);
        return false;
    }
    /* An exact send that waited for ring space may have consumed the
     * event for bytes that are already here (xen, vchan.h). */
    if (r <= 0 && bh_vchan_data_ready(d->v) == 0)
        return true;
    bool gone = r > 0 && bh_vchan_wait(d->v) < 0;
    for (;;) {
        ssize_t n = bh_vchan_read(d->v, d->in + d->in_len, sizeof(d->in) - d->in_len);
        if (n < 0) {
            gone = true;
            break;
        }
        if (n == 0)
            break;
        d->in_len += (size_t)n;
        process(d);
        if (!d->alive)
            return false;
    }
    if (gone || bh_vchan_is_open(d->v) == BH_VCHAN_DISCONNECTED) {
        die(d, "agent closed the connection", false);
        return false;
    }
    return true;
}

bool bh_tdom0_wait(struct bh_tdom0 *d, bh_tdom0_pred pred, void *ctx, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (!pred(d, ctx)) {
        uint64_t now = now_ms();
        if (now >= end || !d->alive)
            return pred(d, ctx);
        bh_tdom0_pump(d, (int)(end - now > 100 ? 100 : end - now));
    }
    return true;
}

static bool has_hello(struct bh_tdom0 *d, void *ctx)
{
    return d->table.hello_done;
}

static bool send_handshake(struct bh_tdom0 *d, uint32_t screen_w, uint32_t screen_h)
{
    struct bh_gui_hello h = {BH_GUI_PROTOCOL_VERSION};
    struct bh_gui_screen s = {screen_w, screen_h, screen_w / 4, screen_h / 4};
    struct bh_gui_keymap km;
    memset(&km, 0, sizeof(km));
    snprintf(km.rules, sizeof(km.rules), "evdev");
    snprintf(km.model, sizeof(km.model), "pc105");
    snprintf(km.layout, sizeof(km.layout), "us");
    return bh_tdom0_send(d, BH_GUI_HELLO, 0, &h, sizeof(h)) &&
           bh_tdom0_send(d, BH_GUI_SCREEN, 0, &s, sizeof(s)) &&
           bh_tdom0_send(d, BH_GUI_KEYMAP, 0, &km, sizeof(km));
}

static struct bh_tdom0 *connect_dom0(int domid, uint32_t screen_w, uint32_t screen_h, int timeout_ms,
                                     bool send_first, char *errbuf, size_t errlen)
{
    struct bh_tdom0 *d = calloc(1, sizeof(*d));
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    if (!d) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    bh_gui_windows_init(&d->table);
    d->auto_release = true;
    d->domid = domid;
    while (!(d->v = bh_vchan_client_init(domid, BH_GUI_VCHAN_PORT))) {
        if (now_ms() >= end) {
            snprintf(errbuf, errlen, "no agent on domain %d: %s", domid, strerror(errno));
            free(d);
            return NULL;
        }
        usleep(50 * 1000);
    }
    d->alive = true;
    if (send_first) {
        if (!send_handshake(d, screen_w, screen_h)) {
            snprintf(errbuf, errlen, "handshake failed: %s", d->error);
            bh_tdom0_free(d);
            return NULL;
        }
        return d;
    }
    uint64_t now = now_ms();
    if (!bh_tdom0_wait(d, has_hello, NULL, now < end ? (int)(end - now) : 1)) {
        snprintf(errbuf, errlen, "no HELLO from the agent: %s", d->alive ? "timeout" : d->error);
        bh_tdom0_free(d);
        return NULL;
    }
    if (!send_handshake(d, screen_w, screen_h)) {
        snprintf(errbuf, errlen, "handshake failed: %s", d->error);
        bh_tdom0_free(d);
        return NULL;
    }
    return d;
}

struct bh_tdom0 *bh_tdom0_connect(int domid, uint32_t screen_w, uint32_t screen_h, int timeout_ms,
                                  char *errbuf, size_t errlen)
{
    return connect_dom0(domid, screen_w, screen_h, timeout_ms, false, errbuf, errlen);
}

struct bh_tdom0 *bh_tdom0_connect_first(int domid, uint32_t screen_w, uint32_t screen_h, int timeout_ms,
                                        char *errbuf, size_t errlen)
{
    return connect_dom0(domid, screen_w, screen_h, timeout_ms, true, errbuf, errlen);
}

bool bh_tdom0_wait_hello(struct bh_tdom0 *d, int timeout_ms)
{
    return bh_tdom0_wait(d, has_hello, NULL, timeout_ms);
}

void bh_tdom0_free(struct bh_tdom0 *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++)
        if (d->wins[i].id)
            slot_free(&d->wins[i]);
    bh_vchan_close(d->v);
    free(d->clipboard);
    free(d);
}

struct bh_tdom0_win *bh_tdom0_find_shown(struct bh_tdom0 *d, const char *needle)
{
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++) {
        struct bh_tdom0_win *w = &d->wins[i];
        if (!w->id || !w->mapped || (w->flags & BH_GUI_CREATE_POPUP) || !w->has_buf || !w->n_damage)
            continue;
        if (!needle || strstr(w->title, needle) || strstr(w->app_id, needle))
            return w;
    }
    return NULL;
}

unsigned bh_tdom0_count_windows(struct bh_tdom0 *d)
{
    unsigned n = 0;
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++)
        n += d->wins[i].id != 0;
    return n;
}

bool bh_tdom0_no_windows(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_count_windows(d) == 0;
}

struct bh_tdom0_win *bh_tdom0_find_popup(struct bh_tdom0 *d)
{
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++) {
        struct bh_tdom0_win *w = &d->wins[i];
        if (w->id && (w->flags & BH_GUI_CREATE_POPUP) && w->mapped && w->has_buf && w->n_damage)
            return w;
    }
    return NULL;
}

bool bh_tdom0_has_popup(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_popup(d) != NULL;
}

bool bh_tdom0_no_popup(struct bh_tdom0 *d, void *ctx)
{
    for (size_t i = 0; i < BH_MAX_WINDOWS; i++)
        if (d->wins[i].id && (d->wins[i].flags & BH_GUI_CREATE_POPUP))
            return false;
    return true;
}

uint32_t bh_tdom0_pixel(const struct bh_tdom0_win *w, uint32_t x, uint32_t y)
{
    uint32_t p;
    if (!w->has_buf || x >= w->buf_w || y >= w->buf_h)
        return 0;
    memcpy(&p, (const uint8_t *)w->buf.map + (size_t)y * w->stride + (size_t)x * 4, 4);
    return p;
}

/* ---- keyboard ------------------------------------------------------------------ */

#define KEY_LEFTCTRL  29
#define KEY_LEFTSHIFT 42
#define MOD_SHIFT     1u /* xkb's Shift and Control mod indices in the us keymap */
#define MOD_CTRL      4u

void bh_tdom0_key(struct bh_tdom0 *d, uint32_t window, uint32_t evdev, bool pressed, uint32_t mods)
{
    struct bh_gui_key k = {evdev + 8, pressed ? 1u : 0u, mods, 0, 0, 0};
    bh_tdom0_send(d, BH_GUI_KEY, window, &k, sizeof(k));
}

/* US layout: evdev code and whether Shift is needed, for printable ASCII. */
static bool us_key(char c, uint32_t *code, bool *shift)
{
    static const char row_q[] = "qwertyuiop", row_a[] = "asdfghjkl", row_z[] = "zxcvbnm";
    static const struct {
        char c;
        uint32_t code;
        bool shift;
    } table[] = {
        {'1', 2, 0},  {'2', 3, 0},   {'3', 4, 0},   {'4', 5, 0},  {'5', 6, 0},  {'6', 7, 0},  {'7', 8, 0},
        {'8', 9, 0},  {'9', 10, 0},  {'0', 11, 0},  {'!', 2, 1},  {'@', 3, 1},  {'#', 4, 1},  {'$', 5, 1},
        {'%', 6, 1},  {'^', 7, 1},   {'&', 8, 1},   {'*', 9, 1},  {'(', 10, 1}, {')', 11, 1}, {'-', 12, 0},
        {'_', 12, 1}, {'=', 13, 0},  {'+', 13, 1},  {'[', 26, 0}, {'{', 26, 1}, {']', 27, 0}, {'}', 27, 1},
        {';', 39, 0}, {':', 39, 1},  {'\'', 40, 0}, {'"', 40, 1}, {'`', 41, 0}, {'~', 41, 1}, {'\\', 43, 0},
        {'|', 43, 1}, {',', 51, 0},  {'<', 51, 1},  {'.', 52, 0}, {'>', 52, 1}, {'/', 53, 0}, {'?', 53, 1},
        {' ', 57, 0}, {'\n', 28, 0}, {'\t', 15, 0},
    };
    char lower = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    const char *p;
    *shift = c >= 'A' && c <= 'Z';
    if ((p = strchr(row_q, lower)) && lower) {
        *code = 16 + (uint32_t)(p - row_q);
        return true;
    }
    if ((p = strchr(row_a, lower)) && lower) {
        *code = 30 + (uint32_t)(p - row_a);
        return true;
    }
    if ((p = strchr(row_z, lower)) && lower) {
        *code = 44 + (uint32_t)(p - row_z);
        return true;
    }
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].c == c) {
            *code = table[i].code;
            *shift = table[i].shift;
            return true;
        }
    }
    return false;
}

bool bh_tdom0_type(struct bh_tdom0 *d, uint32_t window, const char *text)
{
    for (const char *c = text; *c; c++) {
        uint32_t code;
        bool shift;
        if (!us_key(*c, &code, &shift))
            return false;
        uint32_t mods = shift ? MOD_SHIFT : 0;
        if (shift)
            bh_tdom0_key(d, window, KEY_LEFTSHIFT, true, 0);
        bh_tdom0_key(d, window, code, true, mods);
        bh_tdom0_key(d, window, code, false, mods);
        if (shift)
            bh_tdom0_key(d, window, KEY_LEFTSHIFT, false, mods);
    }
    return d->alive;
}

void bh_tdom0_chord(struct bh_tdom0 *d, uint32_t window, bool ctrl, bool shift, uint32_t evdev)
{
    uint32_t mods = 0;
    if (ctrl) {
        bh_tdom0_key(d, window, KEY_LEFTCTRL, true, mods);
        mods |= MOD_CTRL;
    }
    if (shift) {
        bh_tdom0_key(d, window, KEY_LEFTSHIFT, true, mods);
        mods |= MOD_SHIFT;
    }
    bh_tdom0_key(d, window, evdev, true, mods);
    bh_tdom0_key(d, window, evdev, false, mods);
    if (shift) {
        bh_tdom0_key(d, window, KEY_LEFTSHIFT, false, mods);
        mods &= ~MOD_SHIFT;
    }
    if (ctrl)
        bh_tdom0_key(d, window, KEY_LEFTCTRL, false, mods);
}

void bh_tdom0_focus(struct bh_tdom0 *d, uint32_t window, bool focused)
{
    struct bh_gui_focus f = {focused ? 1u : 0u};
    bh_tdom0_send(d, BH_GUI_FOCUS, window, &f, sizeof(f));
}
