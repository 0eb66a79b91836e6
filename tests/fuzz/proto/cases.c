/* cases.c — the table of named protocol inputs (see cases.h): whole
 * conversations that must decode, and hostile variants that must be
 * rejected with a given code and a reason naming the field.
 *
 * Records are a direction byte (0: agent -> dom0, 1: dom0 -> agent) and a
 * message, as stream.c reads them. Valid messages go through the real
 * encoder; hostile ones are written raw when the encoder would refuse them.
 * Must never: abort for anything but a case that does not fit its buffer or
 * that the encoder refuses although it is meant to be well framed. */
#include <drm_fourcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

#define AG 0 /* direction byte: from the agent */
#define D0 1 /* direction byte: from dom0 */

static void put(struct bh_case_buf *b, const void *p, size_t n)
{
    if (n > sizeof b->data - b->len) {
        fprintf(stderr, "case does not fit in %u bytes\n", BH_CASE_MAX);
        abort();
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void msg2(struct bh_case_buf *b, uint8_t dir, uint32_t type, uint32_t window, const void *body,
                 size_t n, const void *tail, size_t tn)
{
    size_t w;

    put(b, &dir, 1);
    w = bh_gui_encode2(b->data + b->len, sizeof b->data - b->len, type, window, body, n, tail, tn);
    if (w == 0) {
        fprintf(stderr, "encoder refused %s window %u (%zu+%zu bytes)\n", bh_gui_type_name(type), window, n,
                tn);
        abort();
    }
    b->len += w;
}

static void msg(struct bh_case_buf *b, uint8_t dir, uint32_t type, uint32_t window, const void *body,
                size_t n)
{
    msg2(b, dir, type, window, body, n, NULL, 0);
}

/* A frame the encoder would refuse: any type, window and length field. */
static void raw(struct bh_case_buf *b, uint8_t dir, uint32_t type, uint32_t window, uint32_t len_field,
                const void *body, size_t n)
{
    struct bh_gui_hdr h = {type, window, len_field};
    put(b, &dir, 1);
    put(b, &h, sizeof h);
    put(b, body, n);
}

static void hello_ver(struct bh_case_buf *b, uint8_t dir, uint32_t version)
{
    struct bh_gui_hello h = {version};
    msg(b, dir, BH_GUI_HELLO, 0, &h, sizeof h);
}

static void hello_a(struct bh_case_buf *b)
{
    hello_ver(b, AG, BH_GUI_PROTOCOL_VERSION);
}

static void hello_d(struct bh_case_buf *b)
{
    hello_ver(b, D0, BH_GUI_PROTOCOL_VERSION);
}

static void create(struct bh_case_buf *b, uint32_t id, uint32_t w, uint32_t h, uint32_t parent,
                   uint32_t flags)
{
    struct bh_gui_create c = {w, h, parent, flags};
    msg(b, AG, BH_GUI_CREATE, id, &c, sizeof c);
}

static void map(struct bh_case_buf *b, uint32_t id, uint32_t transient_for, int32_t x, int32_t y)
{
    struct bh_gui_map m = {transient_for, x, y};
    msg(b, AG, BH_GUI_MAP, id, &m, sizeof m);
}

static void buffer_raw(struct bh_case_buf *b, uint32_t id, struct bh_gui_buffer info)
{
    raw(b, AG, BH_GUI_BUFFER, id, sizeof info, &info, sizeof info);
}

static void buffer(struct bh_case_buf *b, uint32_t id, uint32_t w, uint32_t h)
{
    struct bh_gui_buffer info = {w, h, w * 4, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0};
    msg(b, AG, BH_GUI_BUFFER, id, &info, sizeof info);
}

/* HELLO, then window 1 (64x48) created, mapped and with a buffer. */
static void window1(struct bh_case_buf *b)
{
    hello_a(b);
    create(b, 1, 64, 48, 0, 0);
    map(b, 1, 0, 0, 0);
    buffer(b, 1, 64, 48);
}

/* window1(), then one message from the agent for window 1. */
static void agent_one(struct bh_case_buf *b, uint32_t type, const void *body, size_t n)
{
    window1(b);
    msg(b, AG, type, 1, body, n);
}

/* HELLO from dom0, then one message from dom0 for window 1. */
static void dom0_one(struct bh_case_buf *b, uint32_t type, const void *body, size_t n)
{
    hello_d(b);
    msg(b, D0, type, 1, body, n);
}

static void text(struct bh_case_buf *b, uint32_t type, uint32_t id, const char *s)
{
    raw(b, AG, type, id, (uint32_t)strlen(s), s, strlen(s));
}

static void damage_rects(struct bh_case_buf *b, uint32_t id, uint32_t n_field, const struct bh_gui_rect *r,
                         size_t n)
{
    struct bh_gui_damage d = {7, n_field};
    raw(b, AG, BH_GUI_DAMAGE, id, (uint32_t)(sizeof d + n * sizeof *r), &d, sizeof d);
    put(b, r, n * sizeof *r);
}

static void damage1(struct bh_case_buf *b, int32_t x, int32_t y, uint32_t w, uint32_t h)
{
    struct bh_gui_rect r = {x, y, w, h};
    window1(b);
    damage_rects(b, 1, 1, &r, 1);
}

static void keymap(struct bh_case_buf *b, const char *layout, const char *options)
{
    struct bh_gui_keymap k;
    memset(&k, 0, sizeof k);
    strcpy(k.rules, "evdev");
    strcpy(k.model, "pc105");
    memcpy(k.layout, layout, strnlen(layout, sizeof k.layout));
    strcpy(k.variant, "");
    memcpy(k.options, options, strnlen(options, sizeof k.options));
    msg(b, D0, BH_GUI_KEYMAP, 0, &k, sizeof k);
}

static void key(struct bh_case_buf *b, uint32_t keycode, uint32_t pressed, uint32_t group)
{
    struct bh_gui_key k = {keycode, pressed, 0x1, 0, 0x2, group};
    dom0_one(b, BH_GUI_KEY, &k, sizeof k);
}

/* ---- Conversations that must decode -------------------------------------- */

static void v_handshake(struct bh_case_buf *b)
{
    struct bh_gui_screen s = {2560, 1440, 597, 336};
    hello_a(b);
    hello_d(b);
    msg(b, D0, BH_GUI_SCREEN, 0, &s, sizeof s);
    keymap(b, "us,de", "grp:alt_shift_toggle,ctrl:nocaps");
}

static void v_newer_minor(struct bh_case_buf *b)
{
    hello_ver(b, AG, (BH_GUI_PROTOCOL_MAJOR << 16) | 7);
    hello_d(b);
}

static void v_lifecycle(struct bh_case_buf *b)
{
    struct bh_gui_hints hints = {BH_GUI_HINT_MIN_SIZE | BH_GUI_HINT_MAX_SIZE, 200, 100, 1920, 0};
    struct bh_gui_flags flags = {BH_GUI_FLAG_URGENT, BH_GUI_FLAG_FULLSCREEN};
    struct bh_gui_configure cfg = {0, 0, 640, 480};
    struct bh_gui_buffer info = {640, 480, 2560, DRM_FORMAT_XRGB8888, BH_GUI_BUFFER_MEMFD, 0};
    struct bh_gui_damage dmg = {1, 2};
    struct bh_gui_rect r[2] = {{0, 0, 640, 1}, {10, 20, 30, 40}};
    struct bh_gui_cursor cur = {BH_GUI_CURSOR_TEXT};

    hello_a(b);
    create(b, 1, 320, 200, 0, 0);
    text(b, BH_GUI_TITLE, 1, "Terminal — ~/src");
    text(b, BH_GUI_APP_ID, 1, "org.codeberg.dnkl.foot");
    msg(b, AG, BH_GUI_HINTS, 1, &hints, sizeof hints);
    msg(b, AG, BH_GUI_FLAGS, 1, &flags, sizeof flags);
    map(b, 1, 0, 0, 0);
    msg(b, AG, BH_GUI_CONFIGURE, 1, &cfg, sizeof cfg);
    msg(b, AG, BH_GUI_BUFFER, 1, &info, sizeof info);
    msg2(b, AG, BH_GUI_DAMAGE, 1, &dmg, sizeof dmg, r, sizeof r);
    msg(b, AG, BH_GUI_CURSOR, 1, &cur, sizeof cur);
    msg(b, AG, BH_GUI_UNMAP, 1, NULL, 0);
    msg(b, AG, BH_GUI_DESTROY, 1, NULL, 0);
}

static void v_popups(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 100, 200, 1, BH_GUI_CREATE_POPUP);
    map(b, 2, 1, 10, 20);
    create(b, 3, 100, 50, 2, BH_GUI_CREATE_POPUP);
    map(b, 3, 0, 100, -16384);
    msg(b, AG, BH_GUI_DESTROY, 1, NULL, 0);
    /* the ids are free again */
    create(b, 3, 10, 10, 0, 0);
    create(b, 2, 10, 10, 3, BH_GUI_CREATE_POPUP);
}

static void v_transient(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 300, 100, 1, 0);
    map(b, 2, 1, 0, 0);
    create(b, 3, 300, 100, 2, 0);
    msg(b, AG, BH_GUI_DESTROY, 2, NULL, 0);
    /* 3 moved up to 1 and lives on */
    text(b, BH_GUI_TITLE, 3, "Save as…");
    map(b, 3, 1, 0, 0);
}

static void v_reparent(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 300, 100, 0, 0);
    map(b, 2, 1, 0, 0);
    map(b, 2, 0, 0, 0);
    map(b, 1, 2, 0, 0);
}

static void v_grant(struct bh_case_buf *b)
{
    /* 100 * 400 * 41 = 16400 bytes: 5 pages */
    struct bh_gui_buffer info = {100, 41, 400, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_GRANT, 5};
    uint32_t refs[5] = {8, 9, 10, 11, 12};
    hello_a(b);
    create(b, 1, 100, 41, 0, 0);
    msg2(b, AG, BH_GUI_BUFFER, 1, &info, sizeof info, refs, sizeof refs);
}

static void v_max_buffer(struct bh_case_buf *b)
{
    struct bh_gui_buffer info = {BH_MAX_WINDOW_WIDTH, BH_MAX_WINDOW_HEIGHT, BH_MAX_STRIDE,
                                 DRM_FORMAT_XRGB8888, BH_GUI_BUFFER_MEMFD,  0};
    struct bh_gui_rect r = {0, 0, BH_MAX_WINDOW_WIDTH, BH_MAX_WINDOW_HEIGHT};
    hello_a(b);
    create(b, BH_MAX_WINDOW_ID, BH_MAX_WINDOW_WIDTH, BH_MAX_WINDOW_HEIGHT, 0, 0);
    msg(b, AG, BH_GUI_BUFFER, BH_MAX_WINDOW_ID, &info, sizeof info);
    damage_rects(b, BH_MAX_WINDOW_ID, 1, &r, 1);
}

static void v_damage_max(struct bh_case_buf *b)
{
    struct bh_gui_rect r[BH_MAX_DAMAGE_RECTS];
    for (uint32_t i = 0; i < BH_MAX_DAMAGE_RECTS; i++)
        r[i] = (struct bh_gui_rect){(int32_t)i, (int32_t)(i % 48), 64 - i, 48 - i % 48};
    window1(b);
    damage_rects(b, 1, BH_MAX_DAMAGE_RECTS, r, BH_MAX_DAMAGE_RECTS);
}

static void v_title_multilingual(struct bh_case_buf *b)
{
    window1(b);
    text(b, BH_GUI_TITLE, 1,
         "Übersicht — 日本語 — العربية — हिन्दी — 👩‍💻 ❤️ "
         "e\xcc\x81");
}

static void v_title_sanitised(struct bh_case_buf *b)
{
    window1(b);
    /* RLO, tab, newline, ZWSP, LRI/PDI, BOM around visible text */
    text(b, BH_GUI_TITLE, 1,
         "\xe2\x80\xaeinvoice\tpdf\n\xe2\x80\x8b\xe2\x81\xa6.exe\xe2\x81\xa9\xef\xbb\xbf");
}

static void v_title_blank_runs(struct bh_case_buf *b)
{
    window1(b);
    /* em spaces, braille blanks, ideographic and no-break spaces around a
     * fake prefix: one space between words, none at the ends */
    text(
        b, BH_GUI_TITLE, 1,
        "\xe2\x80\x83\xe2\xa0\x80 editor \xe2\x80\x83\xe2\x80\x83\xe2\xa0\x80\xe2\xa0\x80\xe3\x80\x80\xc2\xa0"
        "[work] Terminal\xe2\xa0\x80");
}

static void v_title_zalgo(struct bh_case_buf *b)
{
    window1(b);
    /* twelve stacked diacritics and an enclosing circle on one letter */
    text(b, BH_GUI_TITLE, 1,
         "Z\xcc\x81\xcc\x82\xcc\x83\xcc\x84\xcc\x85\xcc\x86\xcc\x87\xcc\x88\xcc\x89\xcc\x8a\xcc\x8b"
         "\xcc\x8c\xe2\x83\x9d! 1\xef\xb8\x8f\xe2\x83\xa3");
}

static void v_title_only_blanks(struct bh_case_buf *b)
{
    window1(b);
    text(b, BH_GUI_TITLE, 1, "\xe2\xa0\x80\xe2\xa0\x80 \xe2\x80\x83");
}

static void v_title_empty(struct bh_case_buf *b)
{
    window1(b);
    text(b, BH_GUI_TITLE, 1, "");
    text(b, BH_GUI_APP_ID, 1, "");
}

static void clip(struct bh_case_buf *b, uint8_t dir, uint32_t request, uint32_t flags, const char *text,
                 size_t n)
{
    struct bh_gui_clipboard_data h = {request, flags};
    msg2(b, dir, BH_GUI_CLIPBOARD_DATA, 0, &h, sizeof h, text, n);
}

/* A clipboard frame the encoder would refuse: header, then n bytes of text. */
static void clip_raw(struct bh_case_buf *b, uint8_t dir, uint32_t request, uint32_t flags, const char *text,
                     size_t n)
{
    struct bh_gui_clipboard_data h = {request, flags};
    struct bh_gui_hdr hdr = {BH_GUI_CLIPBOARD_DATA, 0, (uint32_t)(sizeof h + n)};
    put(b, &dir, 1);
    put(b, &hdr, sizeof hdr);
    put(b, &h, sizeof h);
    put(b, text, n);
}

static void image(struct bh_case_buf *b, uint8_t dir, uint32_t request, uint32_t w, uint32_t h,
                  uint32_t stride, uint32_t format)
{
    struct bh_gui_clipboard_image img = {request, w, h, stride, format};
    raw(b, dir, BH_GUI_CLIPBOARD_IMAGE, 0, sizeof img, &img, sizeof img);
}

static void v_clipboard(struct bh_case_buf *b)
{
    static const char data[] = "line one\n\tline two — ünïcödé\r\n";
    struct bh_gui_clipboard_req req = {1};
    hello_a(b);
    hello_d(b);
    msg(b, D0, BH_GUI_CLIPBOARD_REQ, 0, &req, sizeof req);
    clip(b, AG, 1, 0, data, sizeof data - 1);
    clip(b, D0, 0, 0, data, sizeof data - 1);
    clip(b, AG, 2, 0, NULL, 0);
    clip(b, AG, 3, BH_GUI_CLIPBOARD_OTHER_TYPE, NULL, 0);
    req.request = 0xffffffffu;
    msg(b, D0, BH_GUI_CLIPBOARD_REQ, 0, &req, sizeof req);
}

static void v_clipboard_image(struct bh_case_buf *b)
{
    hello_a(b);
    hello_d(b);
    image(b, AG, 4, 1, 1, 4, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
    image(b, AG, 5, 4096, 4096, 16384, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
    image(b, AG, 6, 16, 8, 80, BH_GUI_CLIPBOARD_IMAGE_FORMAT); /* rows padded */
    image(b, D0, 0, 1920, 1080, 1920 * 4, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void v_input(struct bh_case_buf *b)
{
    struct bh_gui_key k = {38, 1, 0, 0, 0x10, 1};
    struct bh_gui_button btn = {0x110, 1, -5, 700};
    struct bh_gui_motion mo = {32767, -32767};
    struct bh_gui_axis ax = {BH_GUI_AXIS_HORIZONTAL, -10 * 256, -1};
    struct bh_gui_enter en = {3, 4};
    struct bh_gui_focus fo = {1};
    struct bh_gui_configure_req cr = {800, 600, BH_GUI_STATE_ACTIVATED | BH_GUI_STATE_MAXIMIZED};
    struct bh_gui_buffer_release rel = {42};

    hello_d(b);
    msg(b, D0, BH_GUI_ENTER, 5, &en, sizeof en);
    msg(b, D0, BH_GUI_FOCUS, 5, &fo, sizeof fo);
    msg(b, D0, BH_GUI_KEY, 5, &k, sizeof k);
    msg(b, D0, BH_GUI_BUTTON, 5, &btn, sizeof btn);
    msg(b, D0, BH_GUI_MOTION, 5, &mo, sizeof mo);
    msg(b, D0, BH_GUI_AXIS, 5, &ax, sizeof ax);
    msg(b, D0, BH_GUI_LEAVE, 5, NULL, 0);
    msg(b, D0, BH_GUI_CONFIGURE_REQ, 5, &cr, sizeof cr);
    msg(b, D0, BH_GUI_BUFFER_RELEASE, 5, &rel, sizeof rel);
    msg(b, D0, BH_GUI_CLOSE, 5, NULL, 0);
}

static void v_max_windows(struct bh_case_buf *b)
{
    hello_a(b);
    for (uint32_t i = 1; i <= BH_MAX_WINDOWS; i++)
        create(b, i * 1000, 10, 10, 0, 0);
}

static void v_interleaved(struct bh_case_buf *b)
{
    struct bh_gui_buffer_release rel = {7};
    struct bh_gui_rect r = {0, 0, 64, 48};
    hello_a(b);
    hello_d(b);
    create(b, 1, 64, 48, 0, 0);
    map(b, 1, 0, 0, 0);
    buffer(b, 1, 64, 48);
    damage_rects(b, 1, 1, &r, 1);
    msg(b, D0, BH_GUI_BUFFER_RELEASE, 1, &rel, sizeof rel);
    /* dom0 input for a window the agent just destroyed: a race, not an error */
    msg(b, AG, BH_GUI_DESTROY, 1, NULL, 0);
    msg(b, D0, BH_GUI_LEAVE, 1, NULL, 0);
}

/* ---- Framing and connection state ----------------------------------------- */

static void i_before_hello(struct bh_case_buf *b)
{
    create(b, 1, 10, 10, 0, 0);
}

static void i_second_hello(struct bh_case_buf *b)
{
    hello_a(b);
    hello_a(b);
}

static void i_version(struct bh_case_buf *b)
{
    hello_ver(b, AG, (BH_GUI_PROTOCOL_MAJOR + 1) << 16);
}

static void i_dom0_version(struct bh_case_buf *b)
{
    hello_ver(b, D0, 0);
}

static void i_unknown_type(struct bh_case_buf *b)
{
    hello_a(b);
    raw(b, AG, 0x0300, 1, 0, NULL, 0);
}

static void i_agent_sends_key(struct bh_case_buf *b)
{
    struct bh_gui_key k = {38, 1, 0, 0, 0, 0};
    hello_a(b);
    raw(b, AG, BH_GUI_KEY, 1, sizeof k, &k, sizeof k);
}

static void i_dom0_sends_create(struct bh_case_buf *b)
{
    struct bh_gui_create c = {10, 10, 0, 0};
    hello_d(b);
    raw(b, D0, BH_GUI_CREATE, 1, sizeof c, &c, sizeof c);
}

static void i_long_body(struct bh_case_buf *b)
{
    uint8_t body[17] = {10, 0, 0, 0, 10};
    hello_a(b);
    raw(b, AG, BH_GUI_CREATE, 1, sizeof body, body, sizeof body);
}

static void i_short_body(struct bh_case_buf *b)
{
    uint8_t body[15] = {10, 0, 0, 0, 10};
    hello_a(b);
    raw(b, AG, BH_GUI_CREATE, 1, sizeof body, body, sizeof body);
}

static void i_huge_length(struct bh_case_buf *b)
{
    hello_a(b);
    raw(b, AG, BH_GUI_TITLE, 1, 0xffffffffu, "x", 1);
}

static void i_hello_long(struct bh_case_buf *b)
{
    uint8_t body[8] = {0, 0, 1, 0};
    raw(b, AG, BH_GUI_HELLO, 0, sizeof body, body, sizeof body);
}

/* ---- Window ids and the table -------------------------------------------- */

static void i_window_zero(struct bh_case_buf *b)
{
    struct bh_gui_create c = {10, 10, 0, 0};
    hello_a(b);
    raw(b, AG, BH_GUI_CREATE, 0, sizeof c, &c, sizeof c);
}

static void i_window_id_range(struct bh_case_buf *b)
{
    struct bh_gui_create c = {10, 10, 0, 0};
    hello_a(b);
    raw(b, AG, BH_GUI_CREATE, BH_MAX_WINDOW_ID + 1, sizeof c, &c, sizeof c);
}

static void i_hello_window(struct bh_case_buf *b)
{
    struct bh_gui_hello h = {BH_GUI_PROTOCOL_VERSION};
    raw(b, AG, BH_GUI_HELLO, 3, sizeof h, &h, sizeof h);
}

static void i_unknown_window(struct bh_case_buf *b)
{
    window1(b);
    map(b, 99, 0, 0, 0);
}

static void i_reused_id(struct bh_case_buf *b)
{
    window1(b);
    create(b, 1, 10, 10, 0, 0);
}

static void i_too_many_windows(struct bh_case_buf *b)
{
    v_max_windows(b);
    create(b, 1, 10, 10, 0, 0);
}

static void i_use_after_destroy(struct bh_case_buf *b)
{
    window1(b);
    msg(b, AG, BH_GUI_DESTROY, 1, NULL, 0);
    text(b, BH_GUI_TITLE, 1, "ghost");
}

static void i_popup_after_parent(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 1, BH_GUI_CREATE_POPUP);
    msg(b, AG, BH_GUI_DESTROY, 1, NULL, 0);
    map(b, 2, 0, 0, 0);
}

static void i_parent_missing(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 5, BH_GUI_CREATE_POPUP);
}

static void i_popup_no_parent(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 0, BH_GUI_CREATE_POPUP);
}

static void i_transient_of_popup(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 1, BH_GUI_CREATE_POPUP);
    create(b, 3, 10, 10, 2, 0);
}

static void i_create_flags(struct bh_case_buf *b)
{
    hello_a(b);
    create(b, 1, 10, 10, 0, 0x80);
}

static void i_map_cycle(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 1, 0);
    map(b, 1, 2, 0, 0);
}

static void i_map_transient_popup(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 1, BH_GUI_CREATE_POPUP);
    create(b, 3, 10, 10, 0, 0);
    map(b, 3, 2, 0, 0);
}

static void i_map_transient_missing(struct bh_case_buf *b)
{
    window1(b);
    map(b, 1, 9, 0, 0);
}

static void i_map_self(struct bh_case_buf *b)
{
    window1(b);
    map(b, 1, 1, 0, 0);
}

static void i_map_popup_other_parent(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 0, 0);
    create(b, 3, 10, 10, 1, BH_GUI_CREATE_POPUP);
    map(b, 3, 2, 0, 0);
}

static void i_popup_parent_unmapped(struct bh_case_buf *b)
{
    window1(b);
    msg(b, AG, BH_GUI_UNMAP, 1, NULL, 0);
    create(b, 2, 10, 10, 1, BH_GUI_CREATE_POPUP);
    map(b, 2, 1, 0, 0);
}

static void i_map_offset(struct bh_case_buf *b)
{
    window1(b);
    create(b, 2, 10, 10, 1, BH_GUI_CREATE_POPUP);
    map(b, 2, 1, BH_MAX_POPUP_OFFSET + 1, 0);
}

static void i_map_offset_min(struct bh_case_buf *b)
{
    window1(b);
    map(b, 1, 0, 0, INT32_MIN);
}

/* ---- Sizes ---------------------------------------------------------------- */

static void i_create_zero(struct bh_case_buf *b)
{
    hello_a(b);
    create(b, 1, 0, 10, 0, 0);
}

static void i_create_huge(struct bh_case_buf *b)
{
    hello_a(b);
    create(b, 1, 10, 0xffffffffu, 0, 0);
}

static void i_configure_huge(struct bh_case_buf *b)
{
    struct bh_gui_configure c = {0, 0, BH_MAX_WINDOW_WIDTH + 1, 10};
    agent_one(b, BH_GUI_CONFIGURE, &c, sizeof c);
}

static void i_hints_min_over_max(struct bh_case_buf *b)
{
    struct bh_gui_hints h = {BH_GUI_HINT_MIN_SIZE | BH_GUI_HINT_MAX_SIZE, 500, 10, 400, 0};
    agent_one(b, BH_GUI_HINTS, &h, sizeof h);
}

static void i_hints_huge(struct bh_case_buf *b)
{
    struct bh_gui_hints h = {BH_GUI_HINT_MAX_SIZE, 0, 0, 10, 0x80000000u};
    agent_one(b, BH_GUI_HINTS, &h, sizeof h);
}

static void i_hints_min_huge(struct bh_case_buf *b)
{
    struct bh_gui_hints h = {BH_GUI_HINT_MIN_SIZE, BH_MAX_WINDOW_WIDTH + 1, 1, 0, 0};
    agent_one(b, BH_GUI_HINTS, &h, sizeof h);
}

static void i_hints_flags(struct bh_case_buf *b)
{
    struct bh_gui_hints h = {0x4, 0, 0, 0, 0};
    agent_one(b, BH_GUI_HINTS, &h, sizeof h);
}

static void i_flags_overlap(struct bh_case_buf *b)
{
    struct bh_gui_flags f = {BH_GUI_FLAG_URGENT, BH_GUI_FLAG_URGENT};
    agent_one(b, BH_GUI_FLAGS, &f, sizeof f);
}

static void i_flags_unknown(struct bh_case_buf *b)
{
    struct bh_gui_flags f = {0x100, 0};
    agent_one(b, BH_GUI_FLAGS, &f, sizeof f);
}

static void i_cursor(struct bh_case_buf *b)
{
    struct bh_gui_cursor c = {BH_GUI_CURSOR_COUNT};
    agent_one(b, BH_GUI_CURSOR, &c, sizeof c);
}

/* ---- BUFFER --------------------------------------------------------------- */

static void buf_case(struct bh_case_buf *b, struct bh_gui_buffer info)
{
    hello_a(b);
    create(b, 1, 64, 48, 0, 0);
    buffer_raw(b, 1, info);
}

static void i_buf_stride_small(struct bh_case_buf *b)
{
    buf_case(b, (struct bh_gui_buffer){64, 48, 252, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0});
}

static void i_buf_stride_unaligned(struct bh_case_buf *b)
{
    buf_case(b, (struct bh_gui_buffer){64, 48, 258, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0});
}

static void i_buf_stride_huge(struct bh_case_buf *b)
{
    /* stride * height wraps to 0 in 32 bits */
    buf_case(b, (struct bh_gui_buffer){64, 16, 0x10000000u, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0});
}

static void i_buf_width_overflow(struct bh_case_buf *b)
{
    /* width * 4 wraps to 4 in 32 bits, which would pass "stride >= width*4" */
    buf_case(b, (struct bh_gui_buffer){0x40000001u, 1, 4, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0});
}

static void i_buf_too_big(struct bh_case_buf *b)
{
    buf_case(b, (struct bh_gui_buffer){BH_MAX_WINDOW_WIDTH, BH_MAX_WINDOW_HEIGHT + 1, BH_MAX_STRIDE,
                                       DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0});
}

static void i_buf_zero(struct bh_case_buf *b)
{
    buf_case(b, (struct bh_gui_buffer){0, 48, 256, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0});
}

static void i_buf_format(struct bh_case_buf *b)
{
    buf_case(b, (struct bh_gui_buffer){64, 48, 256, DRM_FORMAT_RGB565, BH_GUI_BUFFER_MEMFD, 0});
}

static void i_buf_kind(struct bh_case_buf *b)
{
    buf_case(b, (struct bh_gui_buffer){64, 48, 256, DRM_FORMAT_ARGB8888, 3, 0});
}

static void i_buf_memfd_refs(struct bh_case_buf *b)
{
    buf_case(b, (struct bh_gui_buffer){64, 48, 256, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 3});
}

static void i_buf_memfd_long(struct bh_case_buf *b)
{
    struct bh_gui_buffer info = {64, 48, 256, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0};
    uint32_t extra = 0;
    hello_a(b);
    create(b, 1, 64, 48, 0, 0);
    msg2(b, AG, BH_GUI_BUFFER, 1, &info, sizeof info, &extra, sizeof extra);
}

static void i_buf_grant_count(struct bh_case_buf *b)
{
    /* 256 * 48 = 12288 bytes: 3 pages, not 2 */
    struct bh_gui_buffer info = {64, 48, 256, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_GRANT, 2};
    uint32_t refs[2] = {1, 2};
    hello_a(b);
    create(b, 1, 64, 48, 0, 0);
    msg2(b, AG, BH_GUI_BUFFER, 1, &info, sizeof info, refs, sizeof refs);
}

static void i_buf_grant_len(struct bh_case_buf *b)
{
    struct bh_gui_buffer info = {64, 48, 256, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_GRANT, 3};
    uint32_t refs[4] = {1, 2, 3, 4};
    hello_a(b);
    create(b, 1, 64, 48, 0, 0);
    msg2(b, AG, BH_GUI_BUFFER, 1, &info, sizeof info, refs, sizeof refs);
}

/* ---- DAMAGE --------------------------------------------------------------- */

static void i_damage_no_buffer(struct bh_case_buf *b)
{
    struct bh_gui_rect r = {0, 0, 1, 1};
    hello_a(b);
    create(b, 1, 64, 48, 0, 0);
    damage_rects(b, 1, 1, &r, 1);
}

static void i_damage_outside(struct bh_case_buf *b)
{
    damage1(b, 60, 0, 5, 1);
}

static void i_damage_far_outside(struct bh_case_buf *b)
{
    damage1(b, 1000, 1000, 1, 1);
}

static void i_damage_negative(struct bh_case_buf *b)
{
    damage1(b, -1, 0, 10, 10);
}

static void i_damage_overflow(struct bh_case_buf *b)
{
    /* x + width wraps to 62 in 32 bits */
    damage1(b, 63, 0, 0xffffffffu, 1);
}

static void i_damage_empty_rect(struct bh_case_buf *b)
{
    damage1(b, 0, 0, 0, 10);
}

static void i_damage_zero_rects(struct bh_case_buf *b)
{
    struct bh_gui_rect r = {0, 0, 1, 1};
    window1(b);
    damage_rects(b, 1, 0, &r, 1);
}

static void i_damage_count_mismatch(struct bh_case_buf *b)
{
    struct bh_gui_rect r[2] = {{0, 0, 1, 1}, {0, 0, 1, 1}};
    window1(b);
    damage_rects(b, 1, 3, r, 2);
}

static void i_damage_count_huge(struct bh_case_buf *b)
{
    struct bh_gui_rect r = {0, 0, 1, 1};
    window1(b);
    damage_rects(b, 1, 0x10000001u, &r, 1);
}

static void i_damage_too_many(struct bh_case_buf *b)
{
    struct bh_gui_rect r[BH_MAX_DAMAGE_RECTS + 1];
    for (size_t i = 0; i < BH_MAX_DAMAGE_RECTS + 1; i++)
        r[i] = (struct bh_gui_rect){0, 0, 1, 1};
    window1(b);
    damage_rects(b, 1, BH_MAX_DAMAGE_RECTS + 1, r, BH_MAX_DAMAGE_RECTS + 1);
}

/* ---- Text ----------------------------------------------------------------- */

static void title_case(struct bh_case_buf *b, const char *s)
{
    window1(b);
    text(b, BH_GUI_TITLE, 1, s);
}

static void i_title_overlong(struct bh_case_buf *b)
{
    title_case(b, "a\xc0\xafz"); /* overlong '/' */
}

static void i_title_overlong3(struct bh_case_buf *b)
{
    title_case(b, "\xe0\x80\xaf");
}

static void i_title_surrogate(struct bh_case_buf *b)
{
    title_case(b, "ok\xed\xa0\x80");
}

static void i_title_beyond_unicode(struct bh_case_buf *b)
{
    title_case(b, "\xf4\x90\x80\x80");
}

static void i_title_truncated(struct bh_case_buf *b)
{
    title_case(b, "euro \xe2\x82");
}

static void i_title_stray(struct bh_case_buf *b)
{
    title_case(b, "\x80");
}

static void i_title_all_controls(struct bh_case_buf *b)
{
    title_case(b, "\x1b\x07\t\n\x7f\xc2\x85\xe2\x80\xae\xe2\x80\x8b");
}

static void i_title_too_long(struct bh_case_buf *b)
{
    char t[BH_MAX_TITLE_BYTES + 2];
    memset(t, 'a', sizeof t - 1);
    t[sizeof t - 1] = '\0';
    title_case(b, t);
}

static void i_app_id_too_long(struct bh_case_buf *b)
{
    char t[BH_MAX_APP_ID_BYTES + 2];
    memset(t, 'a', sizeof t - 1);
    t[sizeof t - 1] = '\0';
    window1(b);
    text(b, BH_GUI_APP_ID, 1, t);
}

static void i_app_id_nul(struct bh_case_buf *b)
{
    window1(b);
    raw(b, AG, BH_GUI_APP_ID, 1, 1, "", 1);
}

static void i_clipboard_utf8(struct bh_case_buf *b)
{
    hello_a(b);
    clip_raw(b, AG, 1, 0,
             "a\xff"
             "b",
             3);
}

static void i_clipboard_nul(struct bh_case_buf *b)
{
    hello_a(b);
    clip_raw(b, AG, 1, 0, "a\0b", 3);
}

static void i_clipboard_over(struct bh_case_buf *b)
{
    /* rejected from the header alone: the body never needs to arrive */
    hello_a(b);
    raw(b, AG, BH_GUI_CLIPBOARD_DATA, 0, (uint32_t)BH_MAX_CLIPBOARD_BODY_BYTES + 1, "abc", 3);
}

static void i_clipboard_window(struct bh_case_buf *b)
{
    struct bh_gui_clipboard_data h = {0, 0};
    hello_d(b);
    raw(b, D0, BH_GUI_CLIPBOARD_DATA, 4, sizeof h, &h, sizeof h);
}

static void i_clipboard_short(struct bh_case_buf *b)
{
    /* shorter than its request and flags: no room for an id */
    hello_a(b);
    raw(b, AG, BH_GUI_CLIPBOARD_DATA, 0, 3, "abc", 3);
}

static void i_clipboard_request_zero(struct bh_case_buf *b)
{
    hello_a(b);
    clip(b, AG, 0, 0, "a", 1);
}

static void i_clipboard_paste_request(struct bh_case_buf *b)
{
    hello_d(b);
    clip_raw(b, D0, 5, 0, "a", 1);
}

static void i_clipboard_flags(struct bh_case_buf *b)
{
    hello_a(b);
    clip_raw(b, AG, 1, 0x2, "", 0);
}

static void i_clipboard_other_text(struct bh_case_buf *b)
{
    hello_a(b);
    clip_raw(b, AG, 1, BH_GUI_CLIPBOARD_OTHER_TYPE, "hidden", 6);
}

static void i_clipboard_req_zero(struct bh_case_buf *b)
{
    struct bh_gui_clipboard_req req = {0};
    hello_d(b);
    raw(b, D0, BH_GUI_CLIPBOARD_REQ, 0, sizeof req, &req, sizeof req);
}

static void i_clipboard_req_empty(struct bh_case_buf *b)
{
    /* protocol 1's CLIPBOARD_REQ, without an id */
    hello_d(b);
    raw(b, D0, BH_GUI_CLIPBOARD_REQ, 0, 0, NULL, 0);
}

static void i_image_request_zero(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 0, 8, 8, 32, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_image_empty(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 1, 0, 8, 32, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_image_wide(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 1, 4097, 1, 4097 * 4, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_image_tall(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 1, 1, 0xffffffffu, 4, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_image_stride_short(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 1, 16, 16, 60, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_image_stride_odd(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 1, 16, 16, 66, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_image_stride_over(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 1, 16, 16, 16388, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_image_format(struct bh_case_buf *b)
{
    hello_a(b);
    image(b, AG, 1, 16, 16, 64, 0x34325241u /* ARGB8888: premultiplied in practice */);
}

static void i_image_length(struct bh_case_buf *b)
{
    struct bh_gui_clipboard_image img = {1, 8, 8, 32, BH_GUI_CLIPBOARD_IMAGE_FORMAT};
    hello_a(b);
    raw(b, AG, BH_GUI_CLIPBOARD_IMAGE, 0, sizeof img - 4, &img, sizeof img - 4);
}

static void i_image_paste_request(struct bh_case_buf *b)
{
    hello_d(b);
    image(b, D0, 3, 8, 8, 32, BH_GUI_CLIPBOARD_IMAGE_FORMAT);
}

static void i_version_1(struct bh_case_buf *b)
{
    /* an agent of protocol 1 (clipboard without request ids) */
    hello_ver(b, AG, 1u << 16);
}

/* ---- dom0 -> agent -------------------------------------------------------- */

static void km_raw(struct bh_case_buf *b, const char *layout, size_t n)
{
    struct bh_gui_keymap k;
    memset(&k, 0, sizeof k);
    memcpy(k.layout, layout, n);
    hello_d(b);
    msg(b, D0, BH_GUI_KEYMAP, 0, &k, sizeof k);
}

static void i_keymap_no_nul(struct bh_case_buf *b)
{
    char l[BH_KEYMAP_FIELD_BYTES];
    memset(l, 'a', sizeof l);
    km_raw(b, l, sizeof l);
}

static void i_keymap_slash(struct bh_case_buf *b)
{
    km_raw(b, "../../etc/x", 11);
}

static void i_keymap_space(struct bh_case_buf *b)
{
    km_raw(b, "us de", 5);
}

static void i_key_low(struct bh_case_buf *b)
{
    key(b, 7, 1, 0);
}

static void i_key_high(struct bh_case_buf *b)
{
    key(b, 256, 1, 0);
}

static void i_key_pressed(struct bh_case_buf *b)
{
    key(b, 38, 2, 0);
}

static void i_key_group(struct bh_case_buf *b)
{
    key(b, 38, 0, BH_MAX_XKB_GROUPS);
}

static void i_button(struct bh_case_buf *b)
{
    struct bh_gui_button btn = {0x118, 1, 0, 0};
    dom0_one(b, BH_GUI_BUTTON, &btn, sizeof btn);
}

static void i_motion(struct bh_case_buf *b)
{
    struct bh_gui_motion m = {0, INT32_MIN};
    dom0_one(b, BH_GUI_MOTION, &m, sizeof m);
}

static void i_axis(struct bh_case_buf *b)
{
    struct bh_gui_axis a = {2, 256, 1};
    dom0_one(b, BH_GUI_AXIS, &a, sizeof a);
}

static void i_axis_value(struct bh_case_buf *b)
{
    struct bh_gui_axis a = {0, INT32_MIN, 0};
    dom0_one(b, BH_GUI_AXIS, &a, sizeof a);
}

static void i_axis_discrete(struct bh_case_buf *b)
{
    struct bh_gui_axis a = {1, 0, 40000};
    dom0_one(b, BH_GUI_AXIS, &a, sizeof a);
}

static void i_enter(struct bh_case_buf *b)
{
    struct bh_gui_enter e = {40000, 0};
    dom0_one(b, BH_GUI_ENTER, &e, sizeof e);
}

static void i_focus(struct bh_case_buf *b)
{
    struct bh_gui_focus f = {2};
    dom0_one(b, BH_GUI_FOCUS, &f, sizeof f);
}

static void i_configure_req_zero(struct bh_case_buf *b)
{
    struct bh_gui_configure_req r = {0, 600, 0};
    dom0_one(b, BH_GUI_CONFIGURE_REQ, &r, sizeof r);
}

static void i_configure_req_states(struct bh_case_buf *b)
{
    struct bh_gui_configure_req r = {800, 600, 0x10};
    dom0_one(b, BH_GUI_CONFIGURE_REQ, &r, sizeof r);
}

static void i_screen_huge(struct bh_case_buf *b)
{
    struct bh_gui_screen s = {100000, 1000, 0, 0};
    hello_d(b);
    msg(b, D0, BH_GUI_SCREEN, 0, &s, sizeof s);
}

static void i_screen_mm(struct bh_case_buf *b)
{
    struct bh_gui_screen s = {1920, 1080, 0xffffffffu, 300};
    hello_d(b);
    msg(b, D0, BH_GUI_SCREEN, 0, &s, sizeof s);
}

static void i_input_window_zero(struct bh_case_buf *b)
{
    hello_d(b);
    raw(b, D0, BH_GUI_LEAVE, 0, 0, NULL, 0);
}

static void i_dom0_before_hello(struct bh_case_buf *b)
{
    msg(b, D0, BH_GUI_CLOSE, 1, NULL, 0);
}

/* ---- Inputs that end inside a message --------------------------------------- */

static void s_header(struct bh_case_buf *b)
{
    struct bh_gui_hdr h = {BH_GUI_CREATE, 1, sizeof(struct bh_gui_create)};
    uint8_t dir = AG;
    hello_a(b);
    put(b, &dir, 1);
    put(b, &h, sizeof h - 1);
}

static void s_body(struct bh_case_buf *b)
{
    struct bh_gui_hdr h = {BH_GUI_CLIPBOARD_DATA, 0, 1000};
    hello_a(b);
    raw(b, AG, h.type, h.window, h.untrusted_len, "partial", 7);
}

static void s_dir_byte_only(struct bh_case_buf *b)
{
    uint8_t dir = D0;
    hello_d(b);
    put(b, &dir, 1);
}

#define OK(n)                                                                                                \
    {                                                                                                        \
#n, v_##n, BH_GUI_OK, NULL                                                                           \
    }
#define SHORT(n)                                                                                             \
    {                                                                                                        \
#n, s_##n, BH_GUI_E_SHORT, NULL                                                                      \
    }
#define BAD(n, code, reason)                                                                                 \
    {                                                                                                        \
#n, i_##n, BH_GUI_E_##code, reason                                                                   \
    }

const struct bh_proto_case bh_proto_cases[] = {
    OK(handshake),
    OK(newer_minor),
    OK(lifecycle),
    OK(popups),
    OK(transient),
    OK(reparent),
    OK(grant),
    OK(max_buffer),
    OK(damage_max),
    OK(title_multilingual),
    OK(title_sanitised),
    OK(title_blank_runs),
    OK(title_zalgo),
    OK(title_only_blanks),
    OK(title_empty),
    OK(clipboard),
    OK(clipboard_image),
    OK(input),
    OK(max_windows),
    OK(interleaved),

    SHORT(header),
    SHORT(body),
    SHORT(dir_byte_only),

    BAD(before_hello, STATE, "before HELLO"),
    BAD(dom0_before_hello, STATE, "before HELLO"),
    BAD(second_hello, STATE, "second HELLO"),
    BAD(version, VERSION, "major must match"),
    BAD(dom0_version, VERSION, "major must match"),
    BAD(unknown_type, TYPE, "type 0x300 unknown"),
    BAD(agent_sends_key, TYPE, "KEY sent by the agent"),
    BAD(dom0_sends_create, TYPE, "CREATE sent by dom0"),
    BAD(long_body, LENGTH, "body length 17, must be exactly 16"),
    BAD(short_body, LENGTH, "body length 15, must be exactly 16"),
    BAD(huge_length, LENGTH, "body length 4294967295"),
    BAD(hello_long, LENGTH, "HELLO window 0: body length 8"),

    BAD(window_zero, WINDOW, "window id out of range"),
    BAD(window_id_range, WINDOW, "window 16777216"),
    BAD(hello_window, WINDOW, "connection-wide"),
    BAD(unknown_window, WINDOW, "MAP window 99: no such window"),
    BAD(reused_id, WINDOW, "id already in use"),
    BAD(too_many_windows, LIMIT, "256 windows"),
    BAD(use_after_destroy, WINDOW, "TITLE window 1: no such window"),
    BAD(popup_after_parent, WINDOW, "MAP window 2: no such window"),
    BAD(parent_missing, WINDOW, "parent 5 does not exist"),
    BAD(popup_no_parent, VALUE, "popup without a parent"),
    BAD(transient_of_popup, WINDOW, "parent 2 is a popup"),
    BAD(create_flags, VALUE, "flags 0x80"),
    BAD(map_cycle, WINDOW, "cycle"),
    BAD(map_self, WINDOW, "cycle"),
    BAD(map_transient_missing, WINDOW, "transient_for 9 does not exist"),
    BAD(map_transient_popup, WINDOW, "transient_for 2 is a popup"),
    BAD(map_popup_other_parent, WINDOW, "popup of 1 mapped transient for 2"),
    BAD(popup_parent_unmapped, STATE, "parent 1 is not"),
    BAD(map_offset, VALUE, "position (16385,0)"),
    BAD(map_offset_min, VALUE, "position (0,-2147483648)"),

    BAD(create_zero, VALUE, "size width 0 height 10: zero"),
    BAD(create_huge, LIMIT, "size width 10 height 4294967295: larger"),
    BAD(configure_huge, LIMIT, "size width 7681 height 10"),
    BAD(hints_min_over_max, VALUE, "min size 500x10 exceeds max size 400x0"),
    BAD(hints_huge, LIMIT, "max size 10x2147483648"),
    BAD(hints_flags, VALUE, "flags 0x4"),
    BAD(hints_min_huge, LIMIT, "min size 7681x1: larger"),
    BAD(flags_overlap, VALUE, "overlap"),
    BAD(flags_unknown, VALUE, "set 0x100"),
    BAD(cursor, VALUE, "shape 15"),

    BAD(buf_stride_small, VALUE, "stride 252: below width 64"),
    BAD(buf_stride_unaligned, VALUE, "stride 258: not a multiple of 4"),
    BAD(buf_stride_huge, LIMIT, "stride 268435456"),
    BAD(buf_width_overflow, LIMIT, "size width 1073741825 height 1"),
    BAD(buf_too_big, LIMIT, "size width 7680 height 4321"),
    BAD(buf_zero, VALUE, "size width 0 height 48: zero"),
    BAD(buf_format, VALUE, "format 0x36314752"),
    BAD(buf_kind, VALUE, "kind 3"),
    BAD(buf_memfd_refs, VALUE, "n_refs 3"),
    BAD(buf_memfd_long, LENGTH, "memfd buffer: body length 28"),
    BAD(buf_grant_count, VALUE, "n_refs 2 (must be 3)"),
    BAD(buf_grant_len, LENGTH, "body length 40, must be 36"),

    BAD(damage_no_buffer, STATE, "damage before any BUFFER"),
    BAD(damage_outside, VALUE, "rect 0 5x1+60+0: outside the 64x48 buffer"),
    BAD(damage_far_outside, VALUE, "outside the 64x48 buffer"),
    BAD(damage_negative, VALUE, "rect 0 at (-1,0): negative"),
    BAD(damage_overflow, VALUE, "rect 0 4294967295x1+63+0: outside"),
    BAD(damage_empty_rect, VALUE, "rect 0 width 0 height 10: empty"),
    BAD(damage_zero_rects, VALUE, "n_rects 0"),
    BAD(damage_count_mismatch, LENGTH, "n_rects 3 but body length 40"),
    BAD(damage_count_huge, LIMIT, "n_rects 268435457"),
    BAD(damage_too_many, LENGTH, "body length 1048"),

    BAD(title_overlong, TEXT, "invalid UTF-8 at byte 1"),
    BAD(title_overlong3, TEXT, "invalid UTF-8 at byte 0"),
    BAD(title_surrogate, TEXT, "invalid UTF-8 at byte 2"),
    BAD(title_beyond_unicode, TEXT, "invalid UTF-8 at byte 0"),
    BAD(title_truncated, TEXT, "invalid UTF-8 at byte 5"),
    BAD(title_stray, TEXT, "invalid UTF-8 at byte 0"),
    BAD(title_all_controls, TEXT, "all 13 bytes are control or invisible"),
    BAD(title_too_long, LENGTH, "TITLE window 1: body length 257, must be 0..256"),
    BAD(app_id_too_long, LENGTH, "APP_ID window 1: body length 129"),
    BAD(app_id_nul, TEXT, "all 1 bytes"),
    BAD(clipboard_utf8, TEXT, "invalid UTF-8 at byte 1"),
    BAD(clipboard_nul, TEXT, "NUL byte at 1"),
    BAD(clipboard_over, LENGTH, "body length 256009, must be 8..256008"),
    BAD(clipboard_window, WINDOW, "connection-wide"),
    BAD(clipboard_short, LENGTH, "body length 3, must be 8..256008"),
    BAD(clipboard_request_zero, VALUE, "clipboard answer names request 0"),
    BAD(clipboard_paste_request, VALUE, "paste names request 5"),
    BAD(clipboard_flags, VALUE, "clipboard flags 0x2: unknown bits"),
    BAD(clipboard_other_text, VALUE, "6 bytes of text with OTHER_TYPE"),
    BAD(clipboard_req_zero, VALUE, "CLIPBOARD_REQ with request 0"),
    BAD(clipboard_req_empty, LENGTH, "body length 0"),
    BAD(image_request_zero, VALUE, "clipboard answer names request 0"),
    BAD(image_empty, VALUE, "clipboard image 0x8: empty"),
    BAD(image_wide, LIMIT, "clipboard image 4097x1: larger than 4096x4096"),
    BAD(image_tall, LIMIT, "larger than 4096x4096"),
    BAD(image_stride_short, VALUE, "clipboard image stride 60 for width 16"),
    BAD(image_stride_odd, VALUE, "clipboard image stride 66 for width 16"),
    BAD(image_stride_over, LIMIT, "clipboard image stride 16388 over 16384"),
    BAD(image_format, VALUE, "clipboard image format 0x34325241"),
    BAD(image_length, LENGTH, "body length 16"),
    BAD(image_paste_request, VALUE, "paste names request 3"),
    BAD(version_1, VERSION, "peer speaks protocol 1.0"),

    BAD(keymap_no_nul, TEXT, "layout: not NUL-terminated"),
    BAD(keymap_slash, TEXT, "layout: byte 0x2e at 0"),
    BAD(keymap_space, TEXT, "layout: byte 0x20 at 2"),
    BAD(key_low, VALUE, "keycode 7"),
    BAD(key_high, VALUE, "keycode 256"),
    BAD(key_pressed, VALUE, "pressed 2"),
    BAD(key_group, VALUE, "group 4"),
    BAD(button, VALUE, "button 0x118"),
    BAD(motion, VALUE, "position (0,-2147483648)"),
    BAD(axis, VALUE, "axis 2"),
    BAD(axis_value, VALUE, "value -2147483648"),
    BAD(axis_discrete, VALUE, "discrete 40000"),
    BAD(enter, VALUE, "ENTER window 1: position (40000,0)"),
    BAD(focus, VALUE, "focused 2"),
    BAD(configure_req_zero, VALUE, "size width 0 height 600: zero"),
    BAD(configure_req_states, VALUE, "states 0x10"),
    BAD(screen_huge, LIMIT, "screen size width 100000 height 1000"),
    BAD(screen_mm, LIMIT, "physical size 4294967295x300 mm"),
    BAD(input_window_zero, WINDOW, "LEAVE window 0"),
};

const size_t bh_proto_n_cases = sizeof bh_proto_cases / sizeof bh_proto_cases[0];
