/* stream.c — feeds a fuzz input through bh_gui_decode() message by message
 * and checks, after every accepted message, what the decoder promises:
 * purity, that the encoder can produce the same bytes, sanitised text,
 * damage inside the buffer, and the window table's invariants.
 *
 * Each message is copied into a heap block of exactly its size before
 * decoding, so AddressSanitizer catches any read past what the decoder was
 * given. Must never: continue after a broken invariant (it aborts). */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define HDR_LEN sizeof(struct bh_gui_hdr)

__attribute__((noreturn, format(printf, 1, 2))) static void broken(const char *fmt, ...);

static void broken(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "proto invariant broken: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void check_table(const struct bh_gui_windows *w)
{
    uint32_t live = 0;

    for (size_t i = 0; i < BH_MAX_WINDOWS; i++) {
        const struct bh_gui_window_entry *e = &w->slots[i];
        if (e->id == 0)
            continue;
        live++;
        if (e->id > BH_MAX_WINDOW_ID)
            broken("window id %u out of range", e->id);
        if (bh_gui_windows_find(w, e->id) != e)
            broken("window id %u appears twice", e->id);
        if (e->parent != 0) {
            const struct bh_gui_window_entry *p = bh_gui_windows_find(w, e->parent);
            if (!p)
                broken("window %u has a dangling parent %u", e->id, e->parent);
            if (!(e->flags & BH_GUI_CREATE_POPUP) && (p->flags & BH_GUI_CREATE_POPUP))
                broken("non-popup %u has popup parent %u", e->id, e->parent);
        }
        if ((e->flags & BH_GUI_CREATE_POPUP) && e->parent == 0)
            broken("popup %u without parent", e->id);
        /* No cycles: every chain reaches 0 within the table size. */
        uint32_t id = e->parent;
        size_t depth = 0;
        while (id != 0) {
            if (++depth > BH_MAX_WINDOWS)
                broken("parent cycle through window %u", e->id);
            id = bh_gui_windows_find(w, id)->parent;
        }
        if (e->has_buffer && ((uint64_t)e->buf_stride * e->buf_height > BH_MAX_BUFFER_BYTES ||
                              (uint64_t)e->buf_width * BH_BYTES_PER_PIXEL > e->buf_stride))
            broken("window %u holds an unchecked buffer", e->id);
    }
    if (live != w->count || live > BH_MAX_WINDOWS)
        broken("table count %u but %u live windows", w->count, live);
}

static void check_msg(const struct bh_gui_windows *w, const uint8_t *msg, size_t len,
                      const struct bh_gui_msg *m, enum bh_gui_dir dir)
{
    uint8_t *again = malloc(len);
    char text[BH_MAX_TITLE_BYTES + 1];
    struct bh_gui_msg m2;
    struct bh_gui_error e2;
    long n2;

    if (!again)
        abort();
    /* The encoder accepts everything the decoder accepts, byte for byte. */
    if (bh_gui_encode(again, len, m->type, m->window, len > HDR_LEN ? msg + HDR_LEN : NULL, len - HDR_LEN) !=
            len ||
        memcmp(again, msg, len) != 0)
        broken("%s: encoder does not reproduce an accepted message", bh_gui_type_name(m->type));
    free(again);

    /* Pure: the same input and table give the same answer. */
    n2 = bh_gui_decode(msg, len, dir, w, &m2, &e2);
    if (n2 != (long)len || m2.type != m->type || m2.window != m->window)
        broken("%s: decoding twice differs", bh_gui_type_name(m->type));

    switch (m->type) {
    case BH_GUI_TITLE:
    case BH_GUI_APP_ID:
        if (m->u.title.len != strlen(m->u.title.text))
            broken("title length %zu but strlen %zu", m->u.title.len, strlen(m->u.title.text));
        if (bh_gui_text_sanitize((const uint8_t *)m->u.title.text, m->u.title.len, text, sizeof text) !=
                (long)m->u.title.len ||
            memcmp(text, m->u.title.text, m->u.title.len) != 0)
            broken("sanitised title is not a fixed point of the sanitiser");
        /* ... nor of the tidying: no blank run, no blank at either end. */
        if (bh_gui_text_tidy(text, m->u.title.len) != m->u.title.len)
            broken("tidied title is not a fixed point of bh_gui_text_tidy");
        if (m->u.title.len > 0 && (m->u.title.text[0] == ' ' || m->u.title.text[m->u.title.len - 1] == ' ' ||
                                   strstr(m->u.title.text, "  ") != NULL))
            broken("title keeps a blank run or a blank at an end");
        break;
    case BH_GUI_CLIPBOARD_DATA:
        if (bh_gui_utf8_check(m->u.clipboard.data, m->u.clipboard.len) != m->u.clipboard.len ||
            memchr(m->u.clipboard.data, 0, m->u.clipboard.len) != NULL)
            broken("clipboard data accepted with invalid UTF-8 or a NUL");
        if ((m->u.clipboard.request == 0) != (dir == BH_GUI_FROM_DOM0))
            broken("clipboard data accepted with request %u", m->u.clipboard.request);
        if ((m->u.clipboard.flags & BH_GUI_CLIPBOARD_OTHER_TYPE) && m->u.clipboard.len != 0)
            broken("OTHER_TYPE accepted with text");
        break;
    case BH_GUI_CLIPBOARD_IMAGE: {
        const struct bh_gui_clipboard_image *img = &m->u.clipboard_image;
        if (img->width == 0 || img->height == 0 || img->width > BH_MAX_CLIPBOARD_IMAGE_SIDE ||
            img->height > BH_MAX_CLIPBOARD_IMAGE_SIDE || img->stride % 4 != 0 ||
            (uint64_t)img->stride < (uint64_t)img->width * 4 || img->stride > BH_MAX_CLIPBOARD_IMAGE_STRIDE ||
            (uint64_t)img->stride * img->height > BH_MAX_CLIPBOARD_IMAGE_BYTES ||
            img->format != BH_GUI_CLIPBOARD_IMAGE_FORMAT)
            broken("clipboard image %ux%u stride %u accepted", img->width, img->height, img->stride);
        if ((img->request == 0) != (dir == BH_GUI_FROM_DOM0))
            broken("clipboard image accepted with request %u", img->request);
        break;
    }
    case BH_GUI_CLIPBOARD_REQ:
        if (m->u.clipboard_req.request == 0)
            broken("CLIPBOARD_REQ accepted with request 0");
        break;
    case BH_GUI_DAMAGE: {
        const struct bh_gui_window_entry *e = bh_gui_windows_find(w, m->window);
        if (!e || !e->has_buffer || m->u.damage.n_rects == 0 || m->u.damage.n_rects > BH_MAX_DAMAGE_RECTS)
            broken("damage accepted without a buffer or with a bad count");
        for (uint32_t i = 0; i < m->u.damage.n_rects; i++) {
            const struct bh_gui_rect *r = &m->u.damage.rects[i];
            if (r->x < 0 || r->y < 0 || r->width == 0 || r->height == 0 ||
                (uint64_t)r->x + r->width > e->buf_width || (uint64_t)r->y + r->height > e->buf_height)
                broken("damage rect %u outside the buffer", i);
        }
        break;
    }
    case BH_GUI_KEYMAP: {
        const struct bh_gui_keymap *k = &m->u.keymap;
        if (!memchr(k->rules, 0, sizeof k->rules) || !memchr(k->model, 0, sizeof k->model) ||
            !memchr(k->layout, 0, sizeof k->layout) || !memchr(k->variant, 0, sizeof k->variant) ||
            !memchr(k->options, 0, sizeof k->options))
            broken("keymap field without NUL");
        break;
    }
    default:
        break;
    }
}

/* Decodes one message from a copy of exactly the bytes available, so a read
 * past them is a heap overflow ASan reports. Returns bytes consumed, 0 when
 * the input ends inside the message, -1 on a violation. */
static long one(const uint8_t *data, size_t size, enum bh_gui_dir dir, struct bh_gui_windows *w,
                struct bh_fuzz_result *res)
{
    struct bh_gui_msg m;
    uint32_t body_len = 0;
    size_t want = size;
    uint8_t *copy;
    long n;

    if (size >= HDR_LEN) {
        struct bh_gui_error fe;
        if (bh_gui_frame_check(data, dir, &body_len, &fe) == BH_GUI_OK) {
            if (body_len > BH_MAX_BODY_BYTES)
                broken("frame_check let through a %u-byte body", body_len);
            if (size > HDR_LEN + body_len)
                want = HDR_LEN + body_len;
        }
    }
    copy = malloc(want ? want : 1);
    if (!copy)
        abort();
    memcpy(copy, data, want);
    n = bh_gui_decode(copy, want, dir, w, &m, &res->err);
    if (n > 0) {
        if ((size_t)n != want)
            broken("decode consumed %ld of a %zu-byte message", n, want);
        if (m.type == BH_GUI_DESTROY) {
            uint32_t gone[BH_MAX_WINDOWS];
            size_t k = bh_gui_windows_destroy_set(w, m.window, gone, BH_MAX_WINDOWS);
            check_msg(w, copy, want, &m, dir);
            bh_gui_windows_apply(w, &m);
            for (size_t i = 0; i < k; i++) {
                if (bh_gui_windows_find(w, gone[i]))
                    broken("window %u survived DESTROY of %u", gone[i], m.window);
            }
        } else {
            check_msg(w, copy, want, &m, dir);
            bh_gui_windows_apply(w, &m);
        }
        check_table(w);
    } else if (n == 0) {
        if (res->err.code != BH_GUI_E_SHORT)
            broken("decode returned 0 with code %d", res->err.code);
    } else if (res->err.code == BH_GUI_OK || res->err.code == BH_GUI_E_SHORT || res->err.reason[0] == '\0') {
        broken("rejection without a code or reason");
    }
    free(copy);
    return n;
}

void bh_fuzz_proto_run(const uint8_t *data, size_t size, struct bh_fuzz_result *res)
{
    /* guid's table holds what the agent created; the agent's only its
     * handshake state (dom0's messages are not looked up). */
    static_assert(sizeof(struct bh_gui_windows) < 16384, "tables fit on the stack");
    struct bh_gui_windows from_agent, from_dom0;
    size_t off = 0;

    memset(res, 0, sizeof *res);
    bh_gui_windows_init(&from_agent);
    bh_gui_windows_init(&from_dom0);
    while (off < size) {
        enum bh_gui_dir dir = (data[off] & 1) ? BH_GUI_FROM_DOM0 : BH_GUI_FROM_AGENT;
        off++;
        long n = one(data + off, size - off, dir, dir == BH_GUI_FROM_AGENT ? &from_agent : &from_dom0, res);
        if (n < 0) {
            res->end = BH_FUZZ_END_VIOLATION;
            return;
        }
        if (n == 0) {
            res->end = BH_FUZZ_END_SHORT;
            return;
        }
        res->accepted++;
        off += (size_t)n;
    }
    res->end = BH_FUZZ_END_CLEAN;
}
