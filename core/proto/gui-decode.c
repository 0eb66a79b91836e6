/* gui-decode.c — the layered validating decoder of the GUI protocol: framing,
 * per-type length, field validation and window lookup, in that order.
 *
 * Owns: every rule a message must pass before guid or the agent acts on it
 * (docs/gui-protocol.md, "What the decoder rejects").
 * Must never: allocate, read outside buf[0..len), write to the caller's
 * window table, trust a field before checking it (unchecked values live in
 * untrusted_* locals), or do arithmetic on wire values that could wrap
 * (sizes and coordinates are combined in 64 bits). Layer 1, the wording and
 * storing of reasons, HELLO's version rule and the text checks are
 * core/wire's (bulkhead/wire.h). */
#include <drm_fourcc.h>
#include <string.h>

#include "proto-internal.h"

/* One message being decoded: what core/wire judges it by, then this
 * protocol's tables. */
struct dec {
    struct bh_wire_msg m; /* passed framing; type, window, body, direction */
    const struct bh_gui_windows *windows;
    const struct bh_gui_window_entry *win; /* the named window, when looked up */
    struct bh_gui_msg *out;
};

/* Reasons start with "TYPE window N: " so a log line names the message. */
#define fail(d, code, ...) bh_wire_fail(&(d)->m, (code), __VA_ARGS__)

enum bh_gui_err bh_gui_frame_check(const uint8_t *hdr, enum bh_gui_dir dir, uint32_t *body_len,
                                   struct bh_gui_error *err)
{
    return (enum bh_gui_err)bh_wire_verdict(
        BH_WIRE_ERROR(err), bh_wire_frame_check(&bh_gui_wire, hdr, (unsigned)dir, body_len,
                                                err ? err->reason : NULL, sizeof err->reason));
}

/* ---- Field helpers ------------------------------------------------------- */

/* A width/height pair: 0 is a bad value, past the maximum is a limit. */
static long check_size(struct dec *d, const char *what, uint32_t untrusted_w, uint32_t untrusted_h)
{
    if (untrusted_w == 0 || untrusted_h == 0)
        return fail(d, BH_GUI_E_VALUE, "%s width %u height %u: zero", what, untrusted_w, untrusted_h);
    if (untrusted_w > BH_MAX_WINDOW_WIDTH || untrusted_h > BH_MAX_WINDOW_HEIGHT)
        return fail(d, BH_GUI_E_LIMIT, "%s width %u height %u: larger than %ux%u", what, untrusted_w,
                    untrusted_h, BH_MAX_WINDOW_WIDTH, BH_MAX_WINDOW_HEIGHT);
    return 0;
}

static long check_coord(struct dec *d, const char *what, int32_t untrusted_x, int32_t untrusted_y,
                        int32_t lim)
{
    /* Compared in 64 bits: negating INT32_MIN would overflow. */
    if ((int64_t)untrusted_x < -(int64_t)lim || untrusted_x > lim || (int64_t)untrusted_y < -(int64_t)lim ||
        untrusted_y > lim)
        return fail(d, BH_GUI_E_VALUE, "%s (%d,%d): outside -%d..%d", what, untrusted_x, untrusted_y, lim,
                    lim);
    return 0;
}

static long check_bool(struct dec *d, const char *what, uint32_t untrusted_v)
{
    if (untrusted_v > 1)
        return fail(d, BH_GUI_E_VALUE, "%s %u: must be 0 or 1", what, untrusted_v);
    return 0;
}

/* Window lookup (layer 3) for the agent's messages: dom0 never invents
 * window ids, so naming a window the agent has not created is a violation.
 * dom0's messages are not looked up: input for a window the agent destroyed
 * a moment ago is a normal race, and the agent ignores it. */
static long lookup(struct dec *d)
{
    if (d->m.dir != BH_GUI_FROM_AGENT)
        return 0;
    d->win = bh_gui_windows_find(d->windows, d->m.f.id);
    if (!d->win)
        return fail(d, BH_GUI_E_WINDOW, "no such window");
    return 0;
}

/* ---- Per-type validation (layer 2) and lookup (layer 3) ------------------- */

static long dec_hello(struct dec *d)
{
    return bh_wire_hello(&d->m, BH_GUI_PROTOCOL_MAJOR, BH_GUI_PROTOCOL_MINOR, &d->out->u.hello.version);
}

_Static_assert(BH_GUI_CLIPBOARD_IMAGE_FORMAT == DRM_FORMAT_ABGR8888, "the clipboard's one pixel format");

/* The request an answer names: the agent's answers name a CLIPBOARD_REQ (ids
 * start at 1), dom0's pastes answer nothing (0). Whether guid asked for it
 * is guid's to judge; the form is checked here. */
static long check_clipboard_request(struct dec *d, uint32_t untrusted_request)
{
    if (d->m.dir == BH_GUI_FROM_AGENT && untrusted_request == 0)
        return fail(d, BH_GUI_E_VALUE, "clipboard answer names request 0 (ids start at 1)");
    if (d->m.dir == BH_GUI_FROM_DOM0 && untrusted_request != 0)
        return fail(d, BH_GUI_E_VALUE, "paste names request %u (must be 0)", untrusted_request);
    return 0;
}

static long dec_clipboard(struct dec *d)
{
    struct bh_gui_clipboard_data untrusted_head;
    const uint8_t *text = d->m.f.body + sizeof untrusted_head;
    size_t text_len = d->m.f.body_len - sizeof untrusted_head; /* framing: >= the header */
    size_t at = 0;

    memcpy(&untrusted_head, d->m.f.body, sizeof untrusted_head);
    if (check_clipboard_request(d, untrusted_head.request) < 0)
        return -1;
    if (untrusted_head.flags & ~(uint32_t)BH_GUI_CLIPBOARD_FLAGS_ALL)
        return fail(d, BH_GUI_E_VALUE, "clipboard flags 0x%x: unknown bits", untrusted_head.flags);
    if (d->m.dir == BH_GUI_FROM_DOM0 && untrusted_head.flags != 0)
        return fail(d, BH_GUI_E_VALUE, "paste with flags 0x%x", untrusted_head.flags);
    if ((untrusted_head.flags & BH_GUI_CLIPBOARD_OTHER_TYPE) && text_len != 0)
        return fail(d, BH_GUI_E_VALUE, "clipboard data: %zu bytes of text with OTHER_TYPE", text_len);
    switch (bh_wire_text_check(text, text_len, &at)) {
    case BH_WIRE_TEXT_UTF8:
        return fail(d, BH_GUI_E_TEXT, "clipboard data: invalid UTF-8 at byte %zu of %zu", at, text_len);
    case BH_WIRE_TEXT_NUL:
        return fail(d, BH_GUI_E_TEXT, "clipboard data: NUL byte at %td", (ptrdiff_t)at);
    case BH_WIRE_TEXT_OK:
        break;
    }
    d->out->u.clipboard.request = untrusted_head.request;
    d->out->u.clipboard.flags = untrusted_head.flags;
    d->out->u.clipboard.len = text_len;
    d->out->u.clipboard.data = text;
    return 0;
}

static long dec_clipboard_req(struct dec *d)
{
    memcpy(&d->out->u.clipboard_req, d->m.f.body, sizeof d->out->u.clipboard_req);
    if (d->out->u.clipboard_req.request == 0)
        return fail(d, BH_GUI_E_VALUE, "CLIPBOARD_REQ with request 0 (ids start at 1)");
    return 0;
}

/* The numbers only: the memfd that rides along is checked by the importer
 * (bh_winbuf_import_memfd: sealed, exactly stride * height bytes). */
static long dec_clipboard_image(struct dec *d)
{
    struct bh_gui_clipboard_image untrusted_img;

    memcpy(&untrusted_img, d->m.f.body, sizeof untrusted_img);
    if (check_clipboard_request(d, untrusted_img.request) < 0)
        return -1;
    if (untrusted_img.width == 0 || untrusted_img.height == 0)
        return fail(d, BH_GUI_E_VALUE, "clipboard image %ux%u: empty", untrusted_img.width,
                    untrusted_img.height);
    if (untrusted_img.width > BH_MAX_CLIPBOARD_IMAGE_SIDE ||
        untrusted_img.height > BH_MAX_CLIPBOARD_IMAGE_SIDE)
        return fail(d, BH_GUI_E_LIMIT, "clipboard image %ux%u: larger than %ux%u", untrusted_img.width,
                    untrusted_img.height, BH_MAX_CLIPBOARD_IMAGE_SIDE, BH_MAX_CLIPBOARD_IMAGE_SIDE);
    if (untrusted_img.stride % BH_BYTES_PER_PIXEL != 0 ||
        (uint64_t)untrusted_img.stride < (uint64_t)untrusted_img.width * BH_BYTES_PER_PIXEL)
        return fail(d, BH_GUI_E_VALUE, "clipboard image stride %u for width %u", untrusted_img.stride,
                    untrusted_img.width);
    if (untrusted_img.stride > BH_MAX_CLIPBOARD_IMAGE_STRIDE)
        return fail(d, BH_GUI_E_LIMIT, "clipboard image stride %u over %u", untrusted_img.stride,
                    BH_MAX_CLIPBOARD_IMAGE_STRIDE);
    if (untrusted_img.format != BH_GUI_CLIPBOARD_IMAGE_FORMAT)
        return fail(d, BH_GUI_E_VALUE, "clipboard image format 0x%08x (only ABGR8888)", untrusted_img.format);
    d->out->u.clipboard_image = untrusted_img;
    return 0;
}

static long dec_create(struct dec *d)
{
    struct bh_gui_create untrusted_create;
    const struct bh_gui_window_entry *parent = NULL;

    memcpy(&untrusted_create, d->m.f.body, sizeof untrusted_create);
    if (check_size(d, "size", untrusted_create.width, untrusted_create.height) < 0)
        return -1;
    if (untrusted_create.flags & ~(uint32_t)BH_GUI_CREATE_FLAGS_ALL)
        return fail(d, BH_GUI_E_VALUE, "flags 0x%x: unknown bits", untrusted_create.flags);
    if (bh_gui_windows_find(d->windows, d->m.f.id))
        return fail(d, BH_GUI_E_WINDOW, "id already in use");
    if (d->windows->count >= BH_MAX_WINDOWS)
        return fail(d, BH_GUI_E_LIMIT, "already %u windows, the maximum", d->windows->count);
    if (untrusted_create.parent != 0) {
        parent = bh_gui_windows_find(d->windows, untrusted_create.parent);
        if (!parent)
            return fail(d, BH_GUI_E_WINDOW, "parent %u does not exist", untrusted_create.parent);
    }
    if (untrusted_create.flags & BH_GUI_CREATE_POPUP) {
        if (!parent)
            return fail(d, BH_GUI_E_VALUE, "popup without a parent");
    } else if (parent && (parent->flags & BH_GUI_CREATE_POPUP)) {
        return fail(d, BH_GUI_E_WINDOW, "parent %u is a popup; only popups may have one", parent->id);
    }
    d->out->u.create = untrusted_create;
    return 0;
}

static long dec_map(struct dec *d)
{
    struct bh_gui_map untrusted_map;
    const struct bh_gui_window_entry *parent;

    if (lookup(d) < 0)
        return -1;
    memcpy(&untrusted_map, d->m.f.body, sizeof untrusted_map);
    if (check_coord(d, "position", untrusted_map.x, untrusted_map.y, BH_MAX_POPUP_OFFSET) < 0)
        return -1;
    if (d->win->flags & BH_GUI_CREATE_POPUP) {
        if (untrusted_map.transient_for != 0 && untrusted_map.transient_for != d->win->parent)
            return fail(d, BH_GUI_E_WINDOW, "popup of %u mapped transient for %u", d->win->parent,
                        untrusted_map.transient_for);
        parent = bh_gui_windows_find(d->windows, d->win->parent);
        if (!parent || !parent->mapped)
            return fail(d, BH_GUI_E_STATE, "popup mapped while its parent %u is not", d->win->parent);
        untrusted_map.transient_for = d->win->parent;
    } else if (untrusted_map.transient_for != 0) {
        parent = bh_gui_windows_find(d->windows, untrusted_map.transient_for);
        if (!parent)
            return fail(d, BH_GUI_E_WINDOW, "transient_for %u does not exist", untrusted_map.transient_for);
        if (parent->flags & BH_GUI_CREATE_POPUP)
            return fail(d, BH_GUI_E_WINDOW, "transient_for %u is a popup", parent->id);
        if (bh_gui_windows_has_ancestor(d->windows, parent->id, d->m.f.id))
            return fail(d, BH_GUI_E_WINDOW, "transient_for %u would make a cycle", parent->id);
    }
    d->out->u.map = untrusted_map;
    return 0;
}

static long dec_configure(struct dec *d)
{
    struct bh_gui_configure untrusted_cfg;

    if (lookup(d) < 0)
        return -1;
    memcpy(&untrusted_cfg, d->m.f.body, sizeof untrusted_cfg);
    if (check_coord(d, "position", untrusted_cfg.x, untrusted_cfg.y, BH_MAX_POPUP_OFFSET) < 0 ||
        check_size(d, "size", untrusted_cfg.width, untrusted_cfg.height) < 0)
        return -1;
    d->out->u.configure = untrusted_cfg;
    return 0;
}

static long dec_title(struct dec *d)
{
    long n;

    if (lookup(d) < 0)
        return -1;
    n = bh_gui_text_sanitize(d->m.f.body, d->m.f.body_len, d->out->u.title.text, sizeof d->out->u.title.text);
    if (n < 0)
        return fail(d, BH_GUI_E_TEXT, "invalid UTF-8 at byte %zu of %u",
                    bh_gui_utf8_check(d->m.f.body, d->m.f.body_len), d->m.f.body_len);
    /* An empty text clears the title; a non-empty one that was nothing but
     * controls or invisible characters is an attempt to hide something. */
    if (n == 0 && d->m.f.body_len > 0)
        return fail(d, BH_GUI_E_TEXT, "all %u bytes are control or invisible characters", d->m.f.body_len);
    /* What dom0 shows: blank runs cannot push text about, marks cannot
     * stack out of the bar (a title of blanks only is simply empty). */
    d->out->u.title.len = bh_gui_text_tidy(d->out->u.title.text, (size_t)n);
    return 0;
}

static long dec_hints(struct dec *d)
{
    struct bh_gui_hints untrusted_hints;
    struct bh_gui_hints *h = &d->out->u.hints;

    if (lookup(d) < 0)
        return -1;
    memcpy(&untrusted_hints, d->m.f.body, sizeof untrusted_hints);
    if (untrusted_hints.flags & ~(uint32_t)BH_GUI_HINTS_ALL)
        return fail(d, BH_GUI_E_VALUE, "flags 0x%x: unknown bits", untrusted_hints.flags);
    h->flags = untrusted_hints.flags;
    /* Sizes a flag does not cover are zeroed so nobody acts on them. */
    if (untrusted_hints.flags & BH_GUI_HINT_MIN_SIZE) {
        if (untrusted_hints.min_width > BH_MAX_WINDOW_WIDTH ||
            untrusted_hints.min_height > BH_MAX_WINDOW_HEIGHT)
            return fail(d, BH_GUI_E_LIMIT, "min size %ux%u: larger than %ux%u", untrusted_hints.min_width,
                        untrusted_hints.min_height, BH_MAX_WINDOW_WIDTH, BH_MAX_WINDOW_HEIGHT);
        h->min_width = untrusted_hints.min_width;
        h->min_height = untrusted_hints.min_height;
    }
    if (untrusted_hints.flags & BH_GUI_HINT_MAX_SIZE) {
        if (untrusted_hints.max_width > BH_MAX_WINDOW_WIDTH ||
            untrusted_hints.max_height > BH_MAX_WINDOW_HEIGHT)
            return fail(d, BH_GUI_E_LIMIT, "max size %ux%u: larger than %ux%u", untrusted_hints.max_width,
                        untrusted_hints.max_height, BH_MAX_WINDOW_WIDTH, BH_MAX_WINDOW_HEIGHT);
        h->max_width = untrusted_hints.max_width;
        h->max_height = untrusted_hints.max_height;
    }
    /* 0 = unbounded in that dimension. */
    if ((h->max_width != 0 && h->min_width > h->max_width) ||
        (h->max_height != 0 && h->min_height > h->max_height))
        return fail(d, BH_GUI_E_VALUE, "min size %ux%u exceeds max size %ux%u", h->min_width, h->min_height,
                    h->max_width, h->max_height);
    return 0;
}

static long dec_flags(struct dec *d)
{
    struct bh_gui_flags untrusted_flags;

    if (lookup(d) < 0)
        return -1;
    memcpy(&untrusted_flags, d->m.f.body, sizeof untrusted_flags);
    if ((untrusted_flags.set | untrusted_flags.unset) & ~(uint32_t)BH_GUI_FLAGS_ALL)
        return fail(d, BH_GUI_E_VALUE, "set 0x%x unset 0x%x: unknown bits", untrusted_flags.set,
                    untrusted_flags.unset);
    if (untrusted_flags.set & untrusted_flags.unset)
        return fail(d, BH_GUI_E_VALUE, "set 0x%x and unset 0x%x overlap", untrusted_flags.set,
                    untrusted_flags.unset);
    d->out->u.flags = untrusted_flags;
    return 0;
}

static long dec_buffer(struct dec *d)
{
    struct bh_gui_buffer untrusted_buf;
    uint64_t bytes, pages;

    if (lookup(d) < 0)
        return -1;
    memcpy(&untrusted_buf, d->m.f.body, sizeof untrusted_buf);
    if (check_size(d, "size", untrusted_buf.width, untrusted_buf.height) < 0)
        return -1;
    if (untrusted_buf.stride % BH_BYTES_PER_PIXEL != 0)
        return fail(d, BH_GUI_E_VALUE, "stride %u: not a multiple of %u", untrusted_buf.stride,
                    BH_BYTES_PER_PIXEL);
    if ((uint64_t)untrusted_buf.width * BH_BYTES_PER_PIXEL > untrusted_buf.stride)
        return fail(d, BH_GUI_E_VALUE, "stride %u: below width %u * %u", untrusted_buf.stride,
                    untrusted_buf.width, BH_BYTES_PER_PIXEL);
    if (untrusted_buf.stride > BH_MAX_STRIDE)
        return fail(d, BH_GUI_E_LIMIT, "stride %u: larger than %u", untrusted_buf.stride, BH_MAX_STRIDE);
    bytes = (uint64_t)untrusted_buf.stride * untrusted_buf.height;
    if (bytes > BH_MAX_BUFFER_BYTES)
        return fail(d, BH_GUI_E_LIMIT, "stride %u * height %u = %llu bytes: larger than %llu",
                    untrusted_buf.stride, untrusted_buf.height, (unsigned long long)bytes,
                    (unsigned long long)BH_MAX_BUFFER_BYTES);
    if (untrusted_buf.format != DRM_FORMAT_ARGB8888 && untrusted_buf.format != DRM_FORMAT_XRGB8888)
        return fail(d, BH_GUI_E_VALUE, "format 0x%08x: only ARGB8888 and XRGB8888", untrusted_buf.format);
    switch (untrusted_buf.kind) {
    case BH_GUI_BUFFER_MEMFD:
        if (untrusted_buf.n_refs != 0)
            return fail(d, BH_GUI_E_VALUE, "memfd buffer with n_refs %u (must be 0)", untrusted_buf.n_refs);
        if (d->m.f.body_len != sizeof untrusted_buf)
            return fail(d, BH_GUI_E_LENGTH, "memfd buffer: body length %u, must be %zu", d->m.f.body_len,
                        sizeof untrusted_buf);
        d->out->u.buffer.refs = NULL;
        break;
    case BH_GUI_BUFFER_GRANT:
        pages = (bytes + BH_PAGE_SIZE - 1) / BH_PAGE_SIZE;
        if (untrusted_buf.n_refs != pages)
            return fail(d, BH_GUI_E_VALUE, "grant buffer of %llu bytes with n_refs %u (must be %llu)",
                        (unsigned long long)bytes, untrusted_buf.n_refs, (unsigned long long)pages);
        if (d->m.f.body_len != sizeof untrusted_buf + pages * sizeof(uint32_t))
            return fail(
                d, BH_GUI_E_LENGTH, "grant buffer: body length %u, must be %llu for %u refs", d->m.f.body_len,
                (unsigned long long)(sizeof untrusted_buf + pages * sizeof(uint32_t)), untrusted_buf.n_refs);
        d->out->u.buffer.refs = d->m.f.body + sizeof untrusted_buf;
        break;
    default:
        return fail(d, BH_GUI_E_VALUE, "kind %u: unknown", untrusted_buf.kind);
    }
    d->out->u.buffer.info = untrusted_buf;
    return 0;
}

static long dec_damage(struct dec *d)
{
    struct bh_gui_damage untrusted_dmg;

    if (lookup(d) < 0)
        return -1;
    if (!d->win->has_buffer)
        return fail(d, BH_GUI_E_STATE, "damage before any BUFFER");
    memcpy(&untrusted_dmg, d->m.f.body, sizeof untrusted_dmg);
    if (untrusted_dmg.n_rects == 0)
        return fail(d, BH_GUI_E_VALUE, "n_rects 0");
    if (untrusted_dmg.n_rects > BH_MAX_DAMAGE_RECTS)
        return fail(d, BH_GUI_E_LIMIT, "n_rects %u: more than %u", untrusted_dmg.n_rects,
                    BH_MAX_DAMAGE_RECTS);
    if ((uint64_t)d->m.f.body_len !=
        sizeof untrusted_dmg + (uint64_t)untrusted_dmg.n_rects * sizeof(struct bh_gui_rect))
        return fail(d, BH_GUI_E_LENGTH, "n_rects %u but body length %u", untrusted_dmg.n_rects,
                    d->m.f.body_len);

    /* Rejected, never clipped: the agent allocated this buffer and knows its
     * size, so a rectangle outside it is a bug or an attack, and dom0's copy
     * must use exactly the bounds checked here. */
    for (uint32_t i = 0; i < untrusted_dmg.n_rects; i++) {
        struct bh_gui_rect untrusted_r;
        memcpy(&untrusted_r, d->m.f.body + sizeof untrusted_dmg + (size_t)i * sizeof untrusted_r,
               sizeof untrusted_r);
        if (untrusted_r.x < 0 || untrusted_r.y < 0)
            return fail(d, BH_GUI_E_VALUE, "rect %u at (%d,%d): negative", i, untrusted_r.x, untrusted_r.y);
        if (untrusted_r.width == 0 || untrusted_r.height == 0)
            return fail(d, BH_GUI_E_VALUE, "rect %u width %u height %u: empty", i, untrusted_r.width,
                        untrusted_r.height);
        if ((uint64_t)untrusted_r.x + untrusted_r.width > d->win->buf_width ||
            (uint64_t)untrusted_r.y + untrusted_r.height > d->win->buf_height)
            return fail(d, BH_GUI_E_VALUE, "rect %u %ux%u+%d+%d: outside the %ux%u buffer", i,
                        untrusted_r.width, untrusted_r.height, untrusted_r.x, untrusted_r.y,
                        d->win->buf_width, d->win->buf_height);
        d->out->u.damage.rects[i] = untrusted_r;
    }
    d->out->u.damage.serial = untrusted_dmg.serial;
    d->out->u.damage.n_rects = untrusted_dmg.n_rects;
    return 0;
}

static long dec_cursor(struct dec *d)
{
    struct bh_gui_cursor untrusted_cursor;

    if (lookup(d) < 0)
        return -1;
    memcpy(&untrusted_cursor, d->m.f.body, sizeof untrusted_cursor);
    if (untrusted_cursor.shape >= BH_GUI_CURSOR_COUNT)
        return fail(d, BH_GUI_E_VALUE, "shape %u: unknown", untrusted_cursor.shape);
    d->out->u.cursor = untrusted_cursor;
    return 0;
}

static long dec_screen(struct dec *d)
{
    struct bh_gui_screen untrusted_screen;

    memcpy(&untrusted_screen, d->m.f.body, sizeof untrusted_screen);
    if (check_size(d, "screen size", untrusted_screen.width, untrusted_screen.height) < 0)
        return -1;
    if (untrusted_screen.width_mm > BH_MAX_SCREEN_MM || untrusted_screen.height_mm > BH_MAX_SCREEN_MM)
        return fail(d, BH_GUI_E_LIMIT, "physical size %ux%u mm: larger than %u", untrusted_screen.width_mm,
                    untrusted_screen.height_mm, BH_MAX_SCREEN_MM);
    d->out->u.screen = untrusted_screen;
    return 0;
}

/* RMLVO names become file names inside xkbcommon's include path: no '/',
 * no '.', nothing that could walk out of it or confuse its parser. */
static bool keymap_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == ',' || c == ':' || c == '+' || c == '(' || c == ')' || c == '-';
}

static long keymap_field(struct dec *d, const char *what, const char *untrusted_field, size_t size, char *out)
{
    const char *nul = memchr(untrusted_field, '\0', size);

    if (!nul)
        return fail(d, BH_GUI_E_TEXT, "%s: not NUL-terminated within %zu bytes", what, size);
    for (const char *p = untrusted_field; p < nul; p++) {
        if (!keymap_char_ok(*p))
            return fail(d, BH_GUI_E_TEXT, "%s: byte 0x%02x at %td not in [A-Za-z0-9_,:+()-]", what,
                        (unsigned)(unsigned char)*p, p - untrusted_field);
    }
    /* Bytes after the NUL are dropped, so nothing unchecked is passed on. */
    memset(out, 0, size);
    memcpy(out, untrusted_field, (size_t)(nul - untrusted_field));
    return 0;
}

static long dec_keymap(struct dec *d)
{
    struct bh_gui_keymap untrusted_km;
    struct bh_gui_keymap *km = &d->out->u.keymap;

    memcpy(&untrusted_km, d->m.f.body, sizeof untrusted_km);
    if (keymap_field(d, "rules", untrusted_km.rules, sizeof km->rules, km->rules) < 0 ||
        keymap_field(d, "model", untrusted_km.model, sizeof km->model, km->model) < 0 ||
        keymap_field(d, "layout", untrusted_km.layout, sizeof km->layout, km->layout) < 0 ||
        keymap_field(d, "variant", untrusted_km.variant, sizeof km->variant, km->variant) < 0 ||
        keymap_field(d, "options", untrusted_km.options, sizeof km->options, km->options) < 0)
        return -1;
    return 0;
}

static long dec_key(struct dec *d)
{
    struct bh_gui_key untrusted_key;

    memcpy(&untrusted_key, d->m.f.body, sizeof untrusted_key);
    if (untrusted_key.keycode < 8 || untrusted_key.keycode > 255)
        return fail(d, BH_GUI_E_VALUE, "keycode %u: outside 8..255", untrusted_key.keycode);
    if (check_bool(d, "pressed", untrusted_key.pressed) < 0)
        return -1;
    if (untrusted_key.group >= BH_MAX_XKB_GROUPS)
        return fail(d, BH_GUI_E_VALUE, "group %u: must be below %u", untrusted_key.group, BH_MAX_XKB_GROUPS);
    d->out->u.key = untrusted_key;
    return 0;
}

static long dec_button(struct dec *d)
{
    struct bh_gui_button untrusted_btn;

    memcpy(&untrusted_btn, d->m.f.body, sizeof untrusted_btn);
    if (untrusted_btn.button < BH_GUI_BUTTON_MIN || untrusted_btn.button > BH_GUI_BUTTON_MAX)
        return fail(d, BH_GUI_E_VALUE, "button 0x%x: outside 0x%x..0x%x", untrusted_btn.button,
                    BH_GUI_BUTTON_MIN, BH_GUI_BUTTON_MAX);
    if (check_bool(d, "pressed", untrusted_btn.pressed) < 0 ||
        check_coord(d, "position", untrusted_btn.x, untrusted_btn.y, BH_MAX_INPUT_COORD) < 0)
        return -1;
    d->out->u.button = untrusted_btn;
    return 0;
}

static long dec_motion(struct dec *d)
{
    struct bh_gui_motion untrusted_m;

    memcpy(&untrusted_m, d->m.f.body, sizeof untrusted_m);
    if (check_coord(d, "position", untrusted_m.x, untrusted_m.y, BH_MAX_INPUT_COORD) < 0)
        return -1;
    d->out->u.motion = untrusted_m;
    return 0;
}

static long dec_enter(struct dec *d)
{
    struct bh_gui_enter untrusted_e;

    memcpy(&untrusted_e, d->m.f.body, sizeof untrusted_e);
    if (check_coord(d, "position", untrusted_e.x, untrusted_e.y, BH_MAX_INPUT_COORD) < 0)
        return -1;
    d->out->u.enter = untrusted_e;
    return 0;
}

static long dec_axis(struct dec *d)
{
    struct bh_gui_axis untrusted_axis;

    memcpy(&untrusted_axis, d->m.f.body, sizeof untrusted_axis);
    if (untrusted_axis.axis != BH_GUI_AXIS_VERTICAL && untrusted_axis.axis != BH_GUI_AXIS_HORIZONTAL)
        return fail(d, BH_GUI_E_VALUE, "axis %u: must be 0 or 1", untrusted_axis.axis);
    /* value is 24.8 fixed point: the same pixel bound as positions. */
    if ((int64_t)untrusted_axis.value < -(int64_t)BH_MAX_INPUT_COORD * 256 ||
        (int64_t)untrusted_axis.value > (int64_t)BH_MAX_INPUT_COORD * 256)
        return fail(d, BH_GUI_E_VALUE, "value %d: beyond %d pixels", untrusted_axis.value,
                    BH_MAX_INPUT_COORD);
    if ((int64_t)untrusted_axis.discrete < -(int64_t)BH_MAX_INPUT_COORD ||
        untrusted_axis.discrete > BH_MAX_INPUT_COORD)
        return fail(d, BH_GUI_E_VALUE, "discrete %d: beyond %d", untrusted_axis.discrete, BH_MAX_INPUT_COORD);
    d->out->u.axis = untrusted_axis;
    return 0;
}

static long dec_focus(struct dec *d)
{
    struct bh_gui_focus untrusted_f;

    memcpy(&untrusted_f, d->m.f.body, sizeof untrusted_f);
    if (check_bool(d, "focused", untrusted_f.focused) < 0)
        return -1;
    d->out->u.focus = untrusted_f;
    return 0;
}

static long dec_configure_req(struct dec *d)
{
    struct bh_gui_configure_req untrusted_req;

    memcpy(&untrusted_req, d->m.f.body, sizeof untrusted_req);
    if (check_size(d, "size", untrusted_req.width, untrusted_req.height) < 0)
        return -1;
    if (untrusted_req.states & ~(uint32_t)BH_GUI_STATES_ALL)
        return fail(d, BH_GUI_E_VALUE, "states 0x%x: unknown bits", untrusted_req.states);
    d->out->u.configure_req = untrusted_req;
    return 0;
}

static long dec_buffer_release(struct dec *d)
{
    memcpy(&d->out->u.buffer_release, d->m.f.body, sizeof d->out->u.buffer_release);
    return 0;
}

static long dec_fields(struct dec *d)
{
    switch (d->m.f.type->type) {
    case BH_GUI_HELLO:
        return dec_hello(d);
    case BH_GUI_CLIPBOARD_DATA:
        return dec_clipboard(d);
    case BH_GUI_CLIPBOARD_IMAGE:
        return dec_clipboard_image(d);
    case BH_GUI_CLIPBOARD_REQ:
        return dec_clipboard_req(d);
    case BH_GUI_CREATE:
        return dec_create(d);
    case BH_GUI_DESTROY:
    case BH_GUI_UNMAP:
        return lookup(d);
    case BH_GUI_MAP:
        return dec_map(d);
    case BH_GUI_CONFIGURE:
        return dec_configure(d);
    case BH_GUI_TITLE:
    case BH_GUI_APP_ID:
        return dec_title(d);
    case BH_GUI_HINTS:
        return dec_hints(d);
    case BH_GUI_FLAGS:
        return dec_flags(d);
    case BH_GUI_BUFFER:
        return dec_buffer(d);
    case BH_GUI_DAMAGE:
        return dec_damage(d);
    case BH_GUI_CURSOR:
        return dec_cursor(d);
    case BH_GUI_SCREEN:
        return dec_screen(d);
    case BH_GUI_KEYMAP:
        return dec_keymap(d);
    case BH_GUI_KEY:
        return dec_key(d);
    case BH_GUI_BUTTON:
        return dec_button(d);
    case BH_GUI_MOTION:
        return dec_motion(d);
    case BH_GUI_AXIS:
        return dec_axis(d);
    case BH_GUI_ENTER:
        return dec_enter(d);
    case BH_GUI_FOCUS:
        return dec_focus(d);
    case BH_GUI_CONFIGURE_REQ:
        return dec_configure_req(d);
    case BH_GUI_BUFFER_RELEASE:
        return dec_buffer_release(d);
    case BH_GUI_LEAVE:
    case BH_GUI_CLOSE:
        return 0;
    default:
        /* The type table and this switch disagree: a bug here, not the peer's. */
        return fail(d, BH_GUI_E_TYPE, "no decoder for this type");
    }
}

long bh_gui_decode(const uint8_t *buf, size_t len, enum bh_gui_dir dir, const struct bh_gui_windows *windows,
                   struct bh_gui_msg *out, struct bh_gui_error *err)
{
    struct dec d = {
        .m = {.p = &bh_gui_wire, .dir = (unsigned)dir, .err = BH_WIRE_ERROR(err)},
        .windows = windows,
        .out = out,
    };
    enum bh_wire_err code;

    /* Layer 1: framing (core/wire). A bad header is reported as soon as it
     * is complete, before waiting for (or reading) any of the body it
     * announces. */
    code = bh_wire_frame(&bh_gui_wire, buf, len, (unsigned)dir, &d.m.f, err ? err->reason : NULL,
                         sizeof err->reason);
    if (code != BH_WIRE_OK)
        return bh_wire_verdict(d.m.err, code) == BH_WIRE_E_SHORT ? 0 : -1;

    /* Connection state: HELLO first, exactly once. */
    if (!windows->hello_done && d.m.f.type->type != BH_GUI_HELLO)
        return fail(&d, BH_GUI_E_STATE, "sent before HELLO");
    if (windows->hello_done && d.m.f.type->type == BH_GUI_HELLO)
        return fail(&d, BH_GUI_E_STATE, "second HELLO");

    /* Layers 2 and 3: fields, then window lookup (inside each decoder, as
     * some checks need the window and some lookups need checked fields). */
    memset(out, 0, sizeof *out);
    out->type = d.m.f.type->type;
    out->window = d.m.f.id;
    if (dec_fields(&d) < 0)
        return -1;
    if (err) {
        err->code = BH_GUI_OK;
        err->reason[0] = '\0';
    }
    return (long)d.m.f.size;
}
