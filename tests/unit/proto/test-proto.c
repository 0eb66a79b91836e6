/* test-proto.c — unit tests of core/proto: every message type round trips
 * through encoder and decoder; every truncated prefix asks for more bytes;
 * framing rejects before the body arrives; every hostile case of
 * tests/fuzz/proto/cases.c is rejected with its code and a reason naming
 * the field; the window table follows CREATE/MAP/DESTROY; the sanitiser
 * keeps real text and drops what could spoof a title.
 *
 * Must never: test through anything but the library's public API and the
 * shared fuzz stream driver. */
#include <drm_fourcc.h>
#include <glib.h>
#include <string.h>

#include "bulkhead/proto.h"
#include "cases.h"
#include "stream.h"

#define HDR sizeof(struct bh_gui_hdr)

/* ---- A connection as each side sees it ------------------------------------ */

struct fx {
    struct bh_gui_windows agent; /* guid's table: decodes what the agent sends */
    struct bh_gui_windows dom0;  /* the agent's table: decodes what dom0 sends */
    struct bh_gui_msg m;
    struct bh_gui_error e;
    uint8_t buf[BH_MAX_MSG_BYTES];
};

static struct bh_gui_windows *table(struct fx *f, enum bh_gui_dir dir)
{
    return dir == BH_GUI_FROM_AGENT ? &f->agent : &f->dom0;
}

/* Encodes, decodes and applies one message; returns the decoder's result. */
static long feed2(struct fx *f, enum bh_gui_dir dir, uint32_t type, uint32_t window, const void *body,
                  size_t n, const void *tail, size_t tn)
{
    size_t w = bh_gui_encode2(f->buf, sizeof f->buf, type, window, body, n, tail, tn);
    long r;

    g_assert_cmpuint(w, ==, HDR + n + tn);
    r = bh_gui_decode(f->buf, w, dir, table(f, dir), &f->m, &f->e);
    if (r > 0)
        bh_gui_windows_apply(table(f, dir), &f->m);
    return r;
}

static long feed(struct fx *f, enum bh_gui_dir dir, uint32_t type, uint32_t window, const void *body,
                 size_t n)
{
    return feed2(f, dir, type, window, body, n, NULL, 0);
}

static void ok(struct fx *f, long r)
{
    if (r <= 0)
        g_error("rejected: %s (%s)", f->e.reason, bh_gui_err_name(f->e.code));
}

static void bad(struct fx *f, long r, enum bh_gui_err code, const char *reason)
{
    g_assert_cmpint(r, ==, -1);
    g_assert_cmpstr(bh_gui_err_name(f->e.code), ==, bh_gui_err_name(code));
    if (!strstr(f->e.reason, reason))
        g_error("reason \"%s\" lacks \"%s\"", f->e.reason, reason);
}

static struct fx *fx_new(void)
{
    struct fx *f = g_new0(struct fx, 1);
    struct bh_gui_hello h = {BH_GUI_PROTOCOL_VERSION};

    bh_gui_windows_init(&f->agent);
    bh_gui_windows_init(&f->dom0);
    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_HELLO, 0, &h, sizeof h));
    ok(f, feed(f, BH_GUI_FROM_DOM0, BH_GUI_HELLO, 0, &h, sizeof h));
    return f;
}

static void create(struct fx *f, uint32_t id, uint32_t parent, uint32_t flags)
{
    struct bh_gui_create c = {64, 48, parent, flags};
    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_CREATE, id, &c, sizeof c));
}

static void map(struct fx *f, uint32_t id, uint32_t transient_for)
{
    struct bh_gui_map m = {transient_for, 0, 0};
    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_MAP, id, &m, sizeof m));
}

static void buffer(struct fx *f, uint32_t id, uint32_t w, uint32_t h)
{
    struct bh_gui_buffer b = {w, h, w * 4, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_MEMFD, 0};
    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_BUFFER, id, &b, sizeof b));
}

/* ---- Round trip of every type --------------------------------------------- */

struct rt {
    enum bh_gui_dir dir;
    uint32_t type, window;
    const void *body;
    size_t len;
    const void *tail;
    size_t tail_len;
};

static const struct bh_gui_hello rt_hello = {BH_GUI_PROTOCOL_VERSION};
static const char rt_clip[] = "copy\tpaste\nüñí";
static const struct bh_gui_clipboard_data rt_clip_answer = {41, 0};
static const struct bh_gui_clipboard_data rt_clip_paste = {0, 0};
static const struct bh_gui_clipboard_req rt_clip_req = {41};
static const struct bh_gui_clipboard_image rt_image = {42, 640, 480, 2560, BH_GUI_CLIPBOARD_IMAGE_FORMAT};
static const struct bh_gui_clipboard_image rt_image_paste = {0, 4096, 4096, 16384,
                                                             BH_GUI_CLIPBOARD_IMAGE_FORMAT};
static const struct bh_gui_create rt_create = {640, 480, 1, BH_GUI_CREATE_POPUP};
static const struct bh_gui_map rt_map = {1, -20, 30};
static const struct bh_gui_configure rt_configure = {5, 6, 700, 500};
static const char rt_title[] = "Ångström — 東京 — שלום";
static const char rt_app_id[] = "org.gnome.TextEditor";
static const struct bh_gui_hints rt_hints = {BH_GUI_HINTS_ALL, 100, 50, 1000, 800};
static const struct bh_gui_flags rt_flags = {BH_GUI_FLAG_FULLSCREEN | BH_GUI_FLAG_MAXIMIZED,
                                             BH_GUI_FLAG_URGENT};
static const struct bh_gui_buffer rt_memfd = {64, 48, 256, DRM_FORMAT_XRGB8888, BH_GUI_BUFFER_MEMFD, 0};
static const struct bh_gui_buffer rt_grant = {64, 48, 256, DRM_FORMAT_ARGB8888, BH_GUI_BUFFER_GRANT, 3};
static const uint32_t rt_refs[3] = {100, 200, 0xffffffffu};
static const struct bh_gui_damage rt_damage = {99, 2};
static const struct bh_gui_rect rt_rects[2] = {{0, 0, 64, 48}, {63, 47, 1, 1}};
static const struct bh_gui_cursor rt_cursor = {BH_GUI_CURSOR_RESIZE_SW};
static const struct bh_gui_screen rt_screen = {3840, 2160, 600, 340};
static const struct bh_gui_key rt_key = {255, 1, 0x5, 0x0, 0x2, 3};
static const struct bh_gui_button rt_button = {0x117, 0, -32767, 32767};
static const struct bh_gui_motion rt_motion = {-1, 2};
static const struct bh_gui_axis rt_axis = {BH_GUI_AXIS_VERTICAL, 15 * 256, 1};
static const struct bh_gui_enter rt_enter = {10, 20};
static const struct bh_gui_focus rt_focus = {0};
static const struct bh_gui_configure_req rt_creq = {1, BH_MAX_WINDOW_HEIGHT, BH_GUI_STATES_ALL};
static const struct bh_gui_buffer_release rt_release = {0xfffffffeu};

static struct bh_gui_keymap rt_keymap(void)
{
    struct bh_gui_keymap k;
    memset(&k, 0, sizeof k);
    strcpy(k.rules, "evdev");
    strcpy(k.model, "pc105");
    strcpy(k.layout, "us,ru(phonetic)");
    strcpy(k.variant, ",winkeys");
    strcpy(k.options, "grp:win_space_toggle,compose:ralt,lv3:ralt_switch");
    return k;
}

/* Window 1 exists (mapped, 64x48 buffer) on dom0's side before these run;
 * CREATE makes 2, a popup of 1; DESTROY removes 3, a plain window. */
static void rt_list(struct rt *v, size_t *n, const struct bh_gui_keymap *km)
{
    const struct rt all[] = {
        {BH_GUI_FROM_AGENT, BH_GUI_CLIPBOARD_DATA, 0, &rt_clip_answer, sizeof rt_clip_answer, rt_clip,
         sizeof rt_clip - 1},
        {BH_GUI_FROM_DOM0, BH_GUI_CLIPBOARD_DATA, 0, &rt_clip_paste, sizeof rt_clip_paste, rt_clip,
         sizeof rt_clip - 1},
        {BH_GUI_FROM_AGENT, BH_GUI_CLIPBOARD_IMAGE, 0, &rt_image, sizeof rt_image},
        {BH_GUI_FROM_DOM0, BH_GUI_CLIPBOARD_IMAGE, 0, &rt_image_paste, sizeof rt_image_paste},
        {BH_GUI_FROM_AGENT, BH_GUI_CREATE, 2, &rt_create, sizeof rt_create},
        {BH_GUI_FROM_AGENT, BH_GUI_DESTROY, 3, NULL, 0},
        {BH_GUI_FROM_AGENT, BH_GUI_MAP, 2, &rt_map, sizeof rt_map},
        {BH_GUI_FROM_AGENT, BH_GUI_UNMAP, 2, NULL, 0},
        {BH_GUI_FROM_AGENT, BH_GUI_CONFIGURE, 1, &rt_configure, sizeof rt_configure},
        {BH_GUI_FROM_AGENT, BH_GUI_TITLE, 1, rt_title, sizeof rt_title - 1},
        {BH_GUI_FROM_AGENT, BH_GUI_APP_ID, 1, rt_app_id, sizeof rt_app_id - 1},
        {BH_GUI_FROM_AGENT, BH_GUI_HINTS, 1, &rt_hints, sizeof rt_hints},
        {BH_GUI_FROM_AGENT, BH_GUI_FLAGS, 1, &rt_flags, sizeof rt_flags},
        {BH_GUI_FROM_AGENT, BH_GUI_BUFFER, 1, &rt_memfd, sizeof rt_memfd},
        {BH_GUI_FROM_AGENT, BH_GUI_BUFFER, 1, &rt_grant, sizeof rt_grant, rt_refs, sizeof rt_refs},
        {BH_GUI_FROM_AGENT, BH_GUI_DAMAGE, 1, &rt_damage, sizeof rt_damage, rt_rects, sizeof rt_rects},
        {BH_GUI_FROM_AGENT, BH_GUI_CURSOR, 1, &rt_cursor, sizeof rt_cursor},
        {BH_GUI_FROM_DOM0, BH_GUI_SCREEN, 0, &rt_screen, sizeof rt_screen},
        {BH_GUI_FROM_DOM0, BH_GUI_KEYMAP, 0, km, sizeof *km},
        {BH_GUI_FROM_DOM0, BH_GUI_KEY, 7, &rt_key, sizeof rt_key},
        {BH_GUI_FROM_DOM0, BH_GUI_BUTTON, 7, &rt_button, sizeof rt_button},
        {BH_GUI_FROM_DOM0, BH_GUI_MOTION, 7, &rt_motion, sizeof rt_motion},
        {BH_GUI_FROM_DOM0, BH_GUI_AXIS, 7, &rt_axis, sizeof rt_axis},
        {BH_GUI_FROM_DOM0, BH_GUI_ENTER, 7, &rt_enter, sizeof rt_enter},
        {BH_GUI_FROM_DOM0, BH_GUI_LEAVE, 7, NULL, 0},
        {BH_GUI_FROM_DOM0, BH_GUI_FOCUS, 7, &rt_focus, sizeof rt_focus},
        {BH_GUI_FROM_DOM0, BH_GUI_CONFIGURE_REQ, 7, &rt_creq, sizeof rt_creq},
        {BH_GUI_FROM_DOM0, BH_GUI_CLOSE, 7, NULL, 0},
        {BH_GUI_FROM_DOM0, BH_GUI_CLIPBOARD_REQ, 0, &rt_clip_req, sizeof rt_clip_req},
        {BH_GUI_FROM_DOM0, BH_GUI_BUFFER_RELEASE, 7, &rt_release, sizeof rt_release},
        {BH_GUI_FROM_AGENT, BH_GUI_HELLO, 0, &rt_hello, sizeof rt_hello},
        {BH_GUI_FROM_DOM0, BH_GUI_HELLO, 0, &rt_hello, sizeof rt_hello},
    };
    memcpy(v, all, sizeof all);
    *n = G_N_ELEMENTS(all);
}

/* Tables in the state each round-trip message expects. */
static void rt_setup(struct fx *f, const struct rt *t)
{
    bh_gui_windows_init(&f->agent);
    bh_gui_windows_init(&f->dom0);
    if (t->type == BH_GUI_HELLO)
        return;
    f->agent.hello_done = f->dom0.hello_done = true;
    create(f, 1, 0, 0);
    map(f, 1, 0);
    buffer(f, 1, 64, 48);
    create(f, 3, 0, 0);
    if (t->type == BH_GUI_MAP || t->type == BH_GUI_UNMAP)
        create(f, 2, 1, BH_GUI_CREATE_POPUP);
}

static void test_roundtrip(void)
{
    g_autofree struct fx *f = g_new0(struct fx, 1);
    struct bh_gui_keymap km = rt_keymap();
    struct rt v[40];
    size_t n;
    bool seen[0x300] = {false};

    rt_list(v, &n, &km);
    for (size_t i = 0; i < n; i++) {
        const struct rt *t = &v[i];
        uint8_t joined[1024];
        long r;

        rt_setup(f, t);
        g_test_message("round trip %s", bh_gui_type_name(t->type));
        r = feed2(f, t->dir, t->type, t->window, t->body, t->len, t->tail, t->tail_len);
        ok(f, r);
        g_assert_cmpint(r, ==, (long)(HDR + t->len + t->tail_len));
        g_assert_cmpuint(f->m.type, ==, t->type);
        g_assert_cmpuint(f->m.window, ==, t->window);
        seen[t->type] = true;

        g_assert_cmpuint(t->len + t->tail_len, <=, sizeof joined);
        if (t->len)
            memcpy(joined, t->body, t->len);
        if (t->tail_len)
            memcpy(joined + t->len, t->tail, t->tail_len);
        switch (t->type) {
        case BH_GUI_TITLE:
        case BH_GUI_APP_ID:
            g_assert_cmpstr(f->m.u.title.text, ==, (const char *)t->body);
            g_assert_cmpuint(f->m.u.title.len, ==, t->len);
            break;
        case BH_GUI_CLIPBOARD_DATA:
            g_assert_cmpuint(f->m.u.clipboard.request, ==,
                             ((const struct bh_gui_clipboard_data *)t->body)->request);
            g_assert_cmpuint(f->m.u.clipboard.len, ==, t->tail_len);
            g_assert_true(f->m.u.clipboard.data == f->buf + HDR + t->len);
            break;
        case BH_GUI_CLIPBOARD_IMAGE:
            g_assert_cmpmem(&f->m.u.clipboard_image, sizeof f->m.u.clipboard_image, t->body, t->len);
            break;
        case BH_GUI_CLIPBOARD_REQ:
            g_assert_cmpuint(f->m.u.clipboard_req.request, ==, 41);
            break;
        case BH_GUI_BUFFER:
            g_assert_cmpmem(&f->m.u.buffer.info, sizeof f->m.u.buffer.info, t->body, t->len);
            if (t->tail_len) {
                g_assert_true(f->m.u.buffer.refs == f->buf + HDR + t->len);
                g_assert_cmpmem(f->m.u.buffer.refs, t->tail_len, t->tail, t->tail_len);
            } else {
                g_assert_null(f->m.u.buffer.refs);
            }
            break;
        default:
            /* Every other decoded form has the wire layout (DAMAGE: serial,
             * n_rects, rects), so the bytes must come back unchanged. */
            g_assert_cmpmem(&f->m.u, t->len + t->tail_len, joined, t->len + t->tail_len);
            break;
        }
    }
    /* Every type this version knows went round. */
    for (uint32_t type = 0; type < G_N_ELEMENTS(seen); type++) {
        if (strcmp(bh_gui_type_name(type), "UNKNOWN") != 0 && !seen[type])
            g_error("no round trip for %s", bh_gui_type_name(type));
    }
}

/* ---- Truncation and framing ----------------------------------------------- */

static void test_prefixes(void)
{
    g_autofree struct fx *f = g_new0(struct fx, 1);
    struct bh_gui_keymap km = rt_keymap();
    struct rt v[40];
    size_t n;
    uint8_t untouched[sizeof f->m];

    memset(untouched, 0xa5, sizeof untouched);
    rt_list(v, &n, &km);
    for (size_t i = 0; i < n; i++) {
        const struct rt *t = &v[i];
        size_t w;

        rt_setup(f, t);
        w = bh_gui_encode2(f->buf, sizeof f->buf, t->type, t->window, t->body, t->len, t->tail, t->tail_len);
        g_assert_cmpuint(w, >, 0);
        for (size_t len = 0; len < w; len++) {
            /* An exact-size copy: a read past `len` is an ASan error. */
            g_autofree uint8_t *p = g_memdup2(f->buf, len ? len : 1);
            memset(&f->m, 0xa5, sizeof f->m);
            g_assert_cmpint(bh_gui_decode(p, len, t->dir, table(f, t->dir), &f->m, &f->e), ==, 0);
            g_assert_cmpint(f->e.code, ==, BH_GUI_E_SHORT);
            /* "nothing else changed": the output is untouched */
            g_assert_cmpmem(&f->m, sizeof f->m, untouched, sizeof untouched);
        }
        g_assert_cmpint(bh_gui_decode(f->buf, w, t->dir, table(f, t->dir), &f->m, &f->e), ==, (long)w);
    }
}

static void test_frame_before_body(void)
{
    g_autofree struct fx *f = fx_new();
    struct bh_gui_hdr h;
    uint32_t body_len = 12345;

    /* A header announcing 4 GiB is refused from its 12 bytes alone, before
     * any body is awaited or read. */
    h = (struct bh_gui_hdr){BH_GUI_BUFFER, 1, 0xffffffffu};
    memcpy(f->buf, &h, sizeof h);
    g_assert_cmpint(bh_gui_frame_check(f->buf, BH_GUI_FROM_AGENT, &body_len, &f->e), ==, BH_GUI_E_LENGTH);
    g_assert_cmpuint(body_len, ==, 12345);
    bad(f, bh_gui_decode(f->buf, sizeof h, BH_GUI_FROM_AGENT, &f->agent, &f->m, &f->e), BH_GUI_E_LENGTH,
        "BUFFER window 1: body length 4294967295");

    /* The bounded types: their largest body passes framing, one more fails. */
    const struct {
        uint32_t type, window, max;
        enum bh_gui_dir dir;
    } bounded[] = {
        {BH_GUI_BUFFER, 1, (uint32_t)BH_MAX_BUFFER_BODY_BYTES, BH_GUI_FROM_AGENT},
        {BH_GUI_DAMAGE, 1, (uint32_t)BH_MAX_DAMAGE_BODY_BYTES, BH_GUI_FROM_AGENT},
        {BH_GUI_TITLE, 1, BH_MAX_TITLE_BYTES, BH_GUI_FROM_AGENT},
        {BH_GUI_APP_ID, 1, BH_MAX_APP_ID_BYTES, BH_GUI_FROM_AGENT},
        {BH_GUI_CLIPBOARD_DATA, 0, (uint32_t)BH_MAX_CLIPBOARD_BODY_BYTES, BH_GUI_FROM_AGENT},
        {BH_GUI_CLIPBOARD_DATA, 0, (uint32_t)BH_MAX_CLIPBOARD_BODY_BYTES, BH_GUI_FROM_DOM0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bounded); i++) {
        h = (struct bh_gui_hdr){bounded[i].type, bounded[i].window, bounded[i].max};
        g_assert_cmpint(bh_gui_frame_check((uint8_t *)&h, bounded[i].dir, &body_len, &f->e), ==, BH_GUI_OK);
        g_assert_cmpuint(body_len, ==, bounded[i].max);
        g_assert_cmpuint(body_len, <=, BH_MAX_BODY_BYTES);
        h.untrusted_len++;
        g_assert_cmpint(bh_gui_frame_check((uint8_t *)&h, bounded[i].dir, &body_len, &f->e), ==,
                        BH_GUI_E_LENGTH);
        g_assert_nonnull(strstr(f->e.reason, bh_gui_type_name(bounded[i].type)));
    }
    /* DAMAGE bodies come in whole rectangles. */
    h = (struct bh_gui_hdr){BH_GUI_DAMAGE, 1, 8 + 16 + 4};
    g_assert_cmpint(bh_gui_frame_check((uint8_t *)&h, BH_GUI_FROM_AGENT, &body_len, &f->e), ==,
                    BH_GUI_E_LENGTH);
    g_assert_nonnull(strstr(f->e.reason, "steps of 16"));
    /* A direction that is neither side is a caller bug, still no crash. */
    h = (struct bh_gui_hdr){BH_GUI_HELLO, 0, 4};
    g_assert_cmpint(bh_gui_frame_check((uint8_t *)&h, (enum bh_gui_dir)3, &body_len, &f->e), ==,
                    BH_GUI_E_TYPE);
    g_assert_cmpuint(BH_MAX_MSG_BYTES, ==, HDR + BH_MAX_CLIPBOARD_BODY_BYTES);
}

/* ---- The hostile cases ----------------------------------------------------- */

static void test_cases(void)
{
    g_autofree struct bh_case_buf *b = g_new0(struct bh_case_buf, 1);
    unsigned valid = 0, invalid = 0;

    for (size_t i = 0; i < bh_proto_n_cases; i++) {
        const struct bh_proto_case *c = &bh_proto_cases[i];
        struct bh_fuzz_result res;

        b->len = 0;
        c->build(b);
        bh_fuzz_proto_run(b->data, b->len, &res);
        if (c->code == BH_GUI_OK) {
            if (res.end != BH_FUZZ_END_CLEAN)
                g_error("valid case %s: end %d after %u messages: %s", c->name, (int)res.end, res.accepted,
                        res.err.reason);
            g_assert_cmpuint(res.accepted, >, 0);
            valid++;
            continue;
        }
        if (c->code == BH_GUI_E_SHORT) {
            if (res.end != BH_FUZZ_END_SHORT || res.err.code != BH_GUI_E_SHORT)
                g_error("truncated case %s: end %d (%s)", c->name, (int)res.end, res.err.reason);
            g_assert_cmpuint(res.accepted, >, 0);
            continue;
        }
        if (res.end != BH_FUZZ_END_VIOLATION)
            g_error("hostile case %s accepted (%u messages, end %d)", c->name, res.accepted, (int)res.end);
        if (res.err.code != c->code || !strstr(res.err.reason, c->reason))
            g_error("hostile case %s: got %s \"%s\", want %s \"%s\"", c->name, bh_gui_err_name(res.err.code),
                    res.err.reason, bh_gui_err_name(c->code), c->reason);
        g_test_message("%s: %s", c->name, res.err.reason);
        invalid++;
    }
    g_assert_cmpuint(valid, >=, 10);
    g_assert_cmpuint(invalid, >=, 50);
}

/* ---- The window table ------------------------------------------------------ */

static void test_windows_destroy(void)
{
    g_autofree struct fx *f = fx_new();
    uint32_t ids[BH_MAX_WINDOWS];
    const struct bh_gui_window_entry *e;

    create(f, 1, 0, 0);
    map(f, 1, 0);
    create(f, 2, 1, BH_GUI_CREATE_POPUP); /* menu of 1 */
    map(f, 2, 1);
    create(f, 3, 2, BH_GUI_CREATE_POPUP); /* submenu */
    create(f, 4, 1, 0);                   /* dialog of 1 */
    create(f, 5, 4, BH_GUI_CREATE_POPUP); /* menu of the dialog */
    create(f, 6, 0, 0);
    g_assert_cmpuint(f->agent.count, ==, 6);

    g_assert_cmpuint(bh_gui_windows_destroy_set(&f->agent, 1, ids, G_N_ELEMENTS(ids)), ==, 3);
    g_assert_cmpuint(ids[0], ==, 3);
    g_assert_cmpuint(ids[1], ==, 2);
    g_assert_cmpuint(ids[2], ==, 1);
    /* cap below the count: count still reported, only cap written */
    ids[1] = 0;
    g_assert_cmpuint(bh_gui_windows_destroy_set(&f->agent, 1, ids, 1), ==, 3);
    g_assert_cmpuint(ids[1], ==, 0);
    g_assert_cmpuint(bh_gui_windows_destroy_set(&f->agent, 77, ids, G_N_ELEMENTS(ids)), ==, 0);

    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_DESTROY, 1, NULL, 0));
    g_assert_null(bh_gui_windows_find(&f->agent, 1));
    g_assert_null(bh_gui_windows_find(&f->agent, 2));
    g_assert_null(bh_gui_windows_find(&f->agent, 3));
    e = bh_gui_windows_find(&f->agent, 4);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->parent, ==, 0); /* took 1's parent */
    e = bh_gui_windows_find(&f->agent, 5);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->parent, ==, 4);
    g_assert_cmpuint(f->agent.count, ==, 3);

    /* destroyed ids may be reused, and their old children are gone */
    create(f, 2, 0, 0);
    create(f, 1, 2, 0);
    bad(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_UNMAP, 3, NULL, 0), BH_GUI_E_WINDOW,
        "UNMAP window 3: no such window");
}

static void test_windows_limit(void)
{
    g_autofree struct fx *f = fx_new();
    struct bh_gui_create c = {10, 10, 0, 0};

    for (uint32_t i = 1; i <= BH_MAX_WINDOWS; i++)
        create(f, i, i > 1 ? i - 1 : 0, 0); /* also a chain BH_MAX_WINDOWS deep */
    g_assert_cmpuint(f->agent.count, ==, BH_MAX_WINDOWS);
    bad(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_CREATE, 1000, &c, sizeof c), BH_GUI_E_LIMIT,
        "already 256 windows");
    /* a cycle through the whole chain is still found */
    struct bh_gui_map m = {BH_MAX_WINDOWS, 0, 0};
    bad(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_MAP, 1, &m, sizeof m), BH_GUI_E_WINDOW, "cycle");
    /* destroying the root frees one slot; its dialog moves to the top */
    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_DESTROY, 1, NULL, 0));
    g_assert_cmpuint(bh_gui_windows_find(&f->agent, 2)->parent, ==, 0);
    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_CREATE, 1000, &c, sizeof c));
    bad(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_CREATE, 1001, &c, sizeof c), BH_GUI_E_LIMIT, "256");
}

static void test_windows_buffer(void)
{
    g_autofree struct fx *f = fx_new();
    struct bh_gui_damage d = {1, 1};
    struct bh_gui_rect r = {50, 0, 14, 48};
    const struct bh_gui_window_entry *e;

    g_assert_true(f->agent.hello_done);
    g_assert_cmpuint(f->agent.peer_version, ==, BH_GUI_PROTOCOL_VERSION);
    create(f, 9, 0, 0);
    e = bh_gui_windows_find(&f->agent, 9);
    g_assert_false(e->has_buffer);
    g_assert_false(e->mapped);
    map(f, 9, 0);
    g_assert_true(e->mapped);
    buffer(f, 9, 64, 48);
    g_assert_true(e->has_buffer);
    g_assert_cmpuint(e->buf_width, ==, 64);
    g_assert_cmpuint(e->buf_stride, ==, 256);
    ok(f, feed2(f, BH_GUI_FROM_AGENT, BH_GUI_DAMAGE, 9, &d, sizeof d, &r, sizeof r));
    /* a smaller buffer makes the same damage fall outside */
    buffer(f, 9, 32, 48);
    bad(f, feed2(f, BH_GUI_FROM_AGENT, BH_GUI_DAMAGE, 9, &d, sizeof d, &r, sizeof r), BH_GUI_E_VALUE,
        "outside the 32x48 buffer");
    ok(f, feed(f, BH_GUI_FROM_AGENT, BH_GUI_UNMAP, 9, NULL, 0));
    g_assert_false(e->mapped);
}

/* ---- Text ------------------------------------------------------------------ */

static char *sanitize(const char *in)
{
    size_t n = strlen(in);
    char *out = g_malloc(n + 1);
    g_assert_cmpint(bh_gui_text_sanitize((const uint8_t *)in, n, out, n + 1), >=, 0);
    return out;
}

static void test_sanitize_keeps(void)
{
    static const char *const keep[] = {
        "plain ASCII title - with (punctuation) & 100% [brackets]",
        "Übersicht – Müller‑Lüdenscheid",
        "日本語のタイトル",
        "مرحبا بالعالم", /* right-to-left script itself is fine */
        "सत्यमेव जयते",
        "क्‍ष",                                 /* virama + ZWJ */
        "می‌خواهم",                            /* ZWNJ */
        "e\xcc\x81 a\xcc\x8a",                          /* combining acute, ring */
        "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", /* woman technologist: ZWJ sequence */
        "\xe2\x9d\xa4\xef\xb8\x8f",                     /* heart + VS16 */
        "\xef\xbf\xbd replacement char, \xee\x80\x80 private use",
        "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(keep); i++) {
        g_autofree char *out = sanitize(keep[i]);
        g_assert_cmpstr(out, ==, keep[i]);
    }
}

static void test_sanitize_drops(void)
{
    static const struct {
        const char *in, *out;
    } drop[] = {
        {"a\tb\nc\rd\x1b[31me\x7f", "abcd[31me"},
        {"x\xc2\x80\xc2\x9fy", "xy"},                                           /* C1 */
        {"\xe2\x80\xaegpj.exe", "gpj.exe"},                                     /* RLO */
        {"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae!", "!"}, /* LRE..RLO */
        {"\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9!", "!"},             /* LRI..PDI */
        {"\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c!", "!"},                             /* LRM RLM ALM */
        {"in\xe2\x80\x8bvis\xe2\x81\xa0ible\xef\xbb\xbf", "invisible"},         /* ZWSP WJ BOM */
        {"soft\xc2\xadhyphen", "softhyphen"},                                   /* SHY */
        {"tag\xf3\xa0\x81\x81\xf3\xa0\x81\xbf", "tag"},                         /* tag chars */
        {"line\xe2\x80\xa8para\xe2\x80\xa9", "linepara"},                       /* LS PS */
        {"\xe3\x85\xa4"
         "fill\xef\xbe\xa0",
         "fill"},                                               /* hangul fillers */
        {"non\xef\xb7\x90\xef\xbf\xbe\xf4\x8f\xbf\xbf", "non"}, /* noncharacters */
        {"ann\xef\xbf\xb9otation\xef\xbf\xbb", "annotation"},   /* interlinear */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(drop); i++) {
        g_autofree char *out = sanitize(drop[i].in);
        g_assert_cmpstr(out, ==, drop[i].out);
    }
    /* NUL is a C0 control too */
    char out[4];
    g_assert_cmpint(bh_gui_text_sanitize((const uint8_t *)"a\0b", 3, out, sizeof out), ==, 2);
    g_assert_cmpstr(out, ==, "ab");
    /* in place */
    char buf[] = "\xe2\x80\xae"
                 "evil";
    g_assert_cmpint(bh_gui_text_sanitize((const uint8_t *)buf, strlen(buf), buf, sizeof buf), ==, 4);
    g_assert_cmpstr(buf, ==, "evil");
    /* cap must leave room for the NUL */
    g_assert_cmpint(bh_gui_text_sanitize((const uint8_t *)"abc", 3, out, 3), ==, -1);
}

static char *tidy(const char *in)
{
    char *s = g_strdup(in);
    size_t n = bh_gui_text_tidy(s, strlen(s));
    g_assert_cmpuint(n, ==, strlen(s));
    /* A fixed point: tidying what is shown changes nothing. */
    g_autofree char *again = g_strdup(s);
    g_assert_cmpuint(bh_gui_text_tidy(again, n), ==, n);
    g_assert_cmpstr(again, ==, s);
    return s;
}

/* Issue 13 item 8: blank runs (em spaces, braille blanks) pushed a fake
 * "[work] Terminal" into the middle of the bar, stacked and enclosing marks
 * drew outside the title's box. */
static void test_tidy(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain title", "plain title"},
        {"", ""},
        {"   ", ""},
        {"  lead and trail  ", "lead and trail"},
        {"a \xe2\x80\x83\xe2\x80\x83\xe2\x80\x83 b", "a b"}, /* em spaces */
        {"x\xe2\xa0\x80\xe2\xa0\x80\xe2\xa0\x80\xe2\xa0\x80[work] Terminal",
         "x [work] Terminal"},                                              /* braille */
        {"\xe3\x80\x80\xc2\xa0\xe1\x9a\x80\xe2\x80\xaf\xe2\x81\x9fz", "z"}, /* U+3000 A0 1680 202F 205F */
        {"\xe2\x80\x80\xe2\x80\x81\xe2\x80\x82\xe2\x80\x84\xe2\x80\x85\xe2\x80\x86\xe2\x80\x87\xe2\x80\x88"
         "\xe2\x80\x89\xe2\x80\x8ay",
         "y"}, /* U+2000..200A */
        /* at most three generic marks on a letter; enclosing marks dropped */
        {"e\xcc\x81\xcc\x82\xcc\x83\xcc\x84\xcc\x85", "e\xcc\x81\xcc\x82\xcc\x83"},
        {"o\xe2\x83\x9d\xe2\x83\x9e\xe2\x83\x9f\xe2\x83\xa0\xd2\x88\xd2\x89\xea\x99\xb0", "o"},
        {"a\xe1\xb7\x80\xe1\xb7\x81\xe1\xaa\xb0\xef\xb8\xa0\xe2\x83\x90",
         "a\xe1\xb7\x80\xe1\xb7\x81\xe1\xaa\xb0"},
        /* a blank resets the count: each letter may carry its own */
        {"a\xcc\x81\xcc\x81\xcc\x81 b\xcc\x81\xcc\x81\xcc\x81",
         "a\xcc\x81\xcc\x81\xcc\x81 b\xcc\x81\xcc\x81\xcc\x81"},
        /* real text is untouched: keycap emoji, Vietnamese, Hindi, Arabic */
        {"1\xef\xb8\x8f\xe2\x83\xa3", "1\xef\xb8\x8f\xe2\x83\xa3"},
        {"Vi\xe1\xbb\x87t Nam \xe1\xbb\x87\xcc\x81", "Vi\xe1\xbb\x87t Nam \xe1\xbb\x87\xcc\x81"},
        {"\xe0\xa4\xb8\xe0\xa4\xa4\xe0\xa5\x8d\xe0\xa4\xaf",
         "\xe0\xa4\xb8\xe0\xa4\xa4\xe0\xa5\x8d\xe0\xa4\xaf"},
        {"\xd9\x85\xd9\x8e\xd8\xb1\xd9\x92", "\xd9\x85\xd9\x8e\xd8\xb1\xd9\x92"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = tidy(cases[i].in);
        if (strcmp(out, cases[i].out) != 0)
            g_error("case %zu: '%s' tidied to '%s', want '%s'", i, cases[i].in, out, cases[i].out);
    }
    /* Every blank-looking scalar GLib calls a space separator is one of ours. */
    for (gunichar c = 0; c <= 0x10ffff; c++)
        if (g_unichar_type(c) == G_UNICODE_SPACE_SEPARATOR && !bh_gui_text_char_blank(c))
            g_error("U+%04X is a space separator but not blank", c);
    g_assert_true(bh_gui_text_char_blank(0x2800));
    g_assert_false(bh_gui_text_char_blank('x'));
}

/* Through the decoder: the title guid gets is the tidied one. */
static void test_title_tidied_by_decoder(void)
{
    static const char t[] = "\xe2\x80\x83\xe2\x80\x83ok\xe2\xa0\x80\xe2\xa0\x80\xe2\xa0\x80[work] Terminal  ";
    struct bh_gui_windows w;
    struct bh_gui_msg m;
    struct bh_gui_error err;
    uint8_t buf[256];
    bh_gui_windows_init(&w);
    w.hello_done = true;
    struct bh_gui_create c = {100, 100, 0, 0};
    size_t n = bh_gui_encode(buf, sizeof buf, BH_GUI_CREATE, 1, &c, sizeof c);
    g_assert_cmpint(bh_gui_decode(buf, n, BH_GUI_FROM_AGENT, &w, &m, &err), ==, (long)n);
    bh_gui_windows_apply(&w, &m);
    n = bh_gui_encode(buf, sizeof buf, BH_GUI_TITLE, 1, t, sizeof t - 1);
    g_assert_cmpint(bh_gui_decode(buf, n, BH_GUI_FROM_AGENT, &w, &m, &err), ==, (long)n);
    g_assert_cmpstr(m.u.title.text, ==, "ok [work] Terminal");
    g_assert_cmpuint(m.u.title.len, ==, strlen("ok [work] Terminal"));
}

static void test_utf8_invalid(void)
{
    static const struct {
        const char *s;
        size_t len, bad;
    } inv[] = {
        {"\xc0\x80", 2, 0},         /* overlong NUL */
        {"a\xc1\xbf", 3, 1},        /* overlong */
        {"\xe0\x9f\xbf", 3, 0},     /* overlong 3-byte */
        {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong 4-byte */
        {"\xed\xa0\x80", 3, 0},     /* high surrogate */
        {"ab\xed\xbf\xbf", 5, 2},   /* low surrogate */
        {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4, 0}, {"\xff", 1, 0},         {"\x80", 1, 0},
        {"ok\xe2\x82", 4, 2}, /* truncated */
        {"\xe2\x28\xa1", 3, 0},     {"\xf0\x9f\x98", 3, 0},
    };
    char out[16];
    for (size_t i = 0; i < G_N_ELEMENTS(inv); i++) {
        g_assert_cmpuint(bh_gui_utf8_check((const uint8_t *)inv[i].s, inv[i].len), ==, inv[i].bad);
        g_assert_cmpint(bh_gui_text_sanitize((const uint8_t *)inv[i].s, inv[i].len, out, sizeof out), ==, -1);
    }
    /* the edges that are valid */
    g_assert_cmpuint(bh_gui_utf8_check((const uint8_t *)"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", 10), ==,
                     10);
}

/* Every scalar value, encoded by GLib: valid, and kept or dropped exactly as
 * bh_gui_text_char_dropped() says. */
static void test_utf8_all_scalars(void)
{
    for (gunichar c = 0; c <= 0x10ffff; c++) {
        char in[8], out[8];
        if (c >= 0xd800 && c <= 0xdfff)
            continue;
        int n = g_unichar_to_utf8(c, in);
        g_assert_cmpuint(bh_gui_utf8_check((const uint8_t *)in, (size_t)n), ==, (size_t)n);
        long w = bh_gui_text_sanitize((const uint8_t *)in, (size_t)n, out, sizeof out);
        if (w != (bh_gui_text_char_dropped(c) ? 0 : n))
            g_error("U+%04X: sanitised to %ld bytes", c, w);
    }
    g_assert_true(bh_gui_text_char_dropped(0x202e));
    g_assert_false(bh_gui_text_char_dropped(0x200d));
    g_assert_false(bh_gui_text_char_dropped(0xfe0f));
    g_assert_false(bh_gui_text_char_dropped(0x0301));
}

static void vs_glib(const uint8_t *s, size_t len)
{
    if (memchr(s, 0, len))
        return; /* GLib refuses NUL by design; we accept U+0000 as UTF-8 */
    bool ours = bh_gui_utf8_check(s, len) == len;
    if (ours != (bool)g_utf8_validate_len((const char *)s, len, NULL))
        g_error("%zu bytes %02x %02x %02x %02x: ours says %svalid", len, s[0], len > 1 ? s[1] : 0,
                len > 2 ? s[2] : 0, len > 3 ? s[3] : 0, ours ? "" : "in");
}

/* Byte sequences judged the same way as GLib's independent validator: all of
 * 1 and 2 bytes, all 3-byte ones behind a multi-byte lead, and 4-byte ones
 * with every second byte and the edge values for the rest. */
static void test_utf8_vs_glib(void)
{
    static const uint8_t edge[] = {0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
    uint8_t s[4];

    for (uint32_t v = 0; v < 0x10000; v++) {
        s[0] = (uint8_t)(v >> 8), s[1] = (uint8_t)v;
        vs_glib(s, 1);
        vs_glib(s, 2);
    }
    for (uint32_t v = 0; v < 0x10000; v++) {
        s[1] = (uint8_t)(v >> 8), s[2] = (uint8_t)v;
        for (uint32_t lead = 0xc0; lead <= 0xff; lead++) {
            s[0] = (uint8_t)lead;
            vs_glib(s, 3);
        }
    }
    for (uint32_t lead = 0xf0; lead <= 0xff; lead++) {
        for (uint32_t b1 = 0; b1 < 0x100; b1++) {
            for (size_t i = 0; i < sizeof edge * sizeof edge; i++) {
                s[0] = (uint8_t)lead, s[1] = (uint8_t)b1, s[2] = edge[i / sizeof edge],
                s[3] = edge[i % sizeof edge];
                vs_glib(s, 4);
            }
        }
    }
}

/* ---- Encoder --------------------------------------------------------------- */

static void test_encoder(void)
{
    uint8_t out[64], two[64];
    struct bh_gui_create c = {1, 2, 0, 0};
    struct bh_gui_damage d = {1, 1};
    struct bh_gui_rect r = {0, 0, 1, 1};
    uint8_t joined[sizeof d + sizeof r];

    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CREATE, 1, &c, sizeof c), ==, 28);
    for (size_t cap = 0; cap < 28; cap++)
        g_assert_cmpuint(bh_gui_encode(out, cap, BH_GUI_CREATE, 1, &c, sizeof c), ==, 0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CREATE, 1, &c, sizeof c - 1), ==, 0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CREATE, 0, &c, sizeof c), ==, 0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CREATE, BH_MAX_WINDOW_ID + 1, &c, sizeof c), ==,
                     0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CREATE, 1, NULL, sizeof c), ==, 0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, 0x4242, 1, &c, sizeof c), ==, 0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CLIPBOARD_REQ, 1, &rt_clip_req, 4), ==, 0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CLIPBOARD_REQ, 0, NULL, 0), ==, 0);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_CLIPBOARD_REQ, 0, &rt_clip_req, 4), ==, 16);
    g_assert_cmpuint(bh_gui_encode(out, sizeof out, BH_GUI_DAMAGE, 1, &d, sizeof d), ==, 0);
    g_assert_cmpuint(bh_gui_encode2(out, sizeof out, BH_GUI_DAMAGE, 1, &d, sizeof d, &r, sizeof r - 1), ==,
                     0);
    g_assert_cmpuint(bh_gui_encode2(out, sizeof out, BH_GUI_DAMAGE, 1, &d, sizeof d, &r, SIZE_MAX), ==, 0);
    /* encode2 is encode of the concatenation */
    memcpy(joined, &d, sizeof d);
    memcpy(joined + sizeof d, &r, sizeof r);
    g_assert_cmpuint(bh_gui_encode2(out, sizeof out, BH_GUI_DAMAGE, 1, &d, sizeof d, &r, sizeof r), ==, 36);
    g_assert_cmpuint(bh_gui_encode(two, sizeof two, BH_GUI_DAMAGE, 1, joined, sizeof joined), ==, 36);
    g_assert_cmpmem(out, 36, two, 36);
}

static void test_names(void)
{
    g_assert_cmpstr(bh_gui_type_name(BH_GUI_HELLO), ==, "HELLO");
    g_assert_cmpstr(bh_gui_type_name(BH_GUI_BUFFER_RELEASE), ==, "BUFFER_RELEASE");
    g_assert_cmpstr(bh_gui_type_name(0xdead), ==, "UNKNOWN");
    g_assert_cmpstr(bh_gui_err_name(BH_GUI_E_TEXT), ==, "text");
    g_assert_cmpstr(bh_gui_err_name((enum bh_gui_err)99), ==, "unknown");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proto/roundtrip", test_roundtrip);
    g_test_add_func("/proto/prefixes", test_prefixes);
    g_test_add_func("/proto/frame-before-body", test_frame_before_body);
    g_test_add_func("/proto/cases", test_cases);
    g_test_add_func("/proto/windows/destroy", test_windows_destroy);
    g_test_add_func("/proto/windows/limit", test_windows_limit);
    g_test_add_func("/proto/windows/buffer", test_windows_buffer);
    g_test_add_func("/proto/text/keeps", test_sanitize_keeps);
    g_test_add_func("/proto/text/drops", test_sanitize_drops);
    g_test_add_func("/proto/text/tidy", test_tidy);
    g_test_add_func("/proto/text/tidy-decoder", test_title_tidied_by_decoder);
    g_test_add_func("/proto/text/invalid", test_utf8_invalid);
    g_test_add_func("/proto/text/all-scalars", test_utf8_all_scalars);
    g_test_add_func("/proto/text/vs-glib", test_utf8_vs_glib);
    g_test_add_func("/proto/encoder", test_encoder);
    g_test_add_func("/proto/names", test_names);
    return g_test_run();
}
