/* cases.c — the file-copy streams of cases.h.
 *
 * Must never: depend on anything but libc and the codec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

void fc_buf_add(struct fc_buf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

void fc_buf_magic(struct fc_buf *b)
{
    fc_buf_add(b, BH_FC_MAGIC, BH_FC_MAGIC_BYTES);
}

void fc_buf_entry(struct fc_buf *b, uint32_t kind, uint32_t mode, const char *name, uint64_t size,
                  const void *payload, size_t payload_len)
{
    struct bh_fc_entry e = {
        .kind = kind,
        .mode = mode,
        .name_len = (uint32_t)strlen(name),
        .size = size,
        .atime_sec = 1700000000,
        .mtime_sec = 1600000000,
        .mtime_nsec = 5,
    };
    uint8_t raw[sizeof e];
    bh_fc_entry_encode(&e, raw);
    fc_buf_add(b, raw, sizeof raw);
    fc_buf_add(b, name, strlen(name));
    fc_buf_add(b, payload, payload_len);
}

void fc_buf_end(struct fc_buf *b)
{
    static const uint8_t zero[sizeof(struct bh_fc_entry)];
    fc_buf_add(b, zero, sizeof zero);
}

#define FILE_(b, name, text) fc_buf_entry(b, BH_FC_FILE, 0644, name, strlen(text), text, strlen(text))
#define DIR_(b, name)        fc_buf_entry(b, BH_FC_DIR, 0755, name, 0, NULL, 0)
#define LINK_(b, name, to)   fc_buf_entry(b, BH_FC_SYMLINK, 0777, name, strlen(to), to, strlen(to))

static void valid_tree(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "tree");
    FILE_(b, "tree/a.txt", "hello\n");
    fc_buf_entry(b, BH_FC_FILE, 0600, "tree/empty", 0, NULL, 0);
    DIR_(b, "tree/sub");
    FILE_(b, "tree/sub/ünï código ✓.txt", "x\n");
    LINK_(b, "tree/sub/link", "../a.txt");
    DIR_(b, "tree/other");
    LINK_(b, "tree/other/deep", "../sub/link");
    FILE_(b, "top.txt", "top\n");
    fc_buf_end(b);
}

static void traversal(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "../../../outside-evil", "owned\n");
    fc_buf_end(b);
}

static void traversal_inner(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "a");
    FILE_(b, "a/../../outside-evil", "owned\n");
    fc_buf_end(b);
}

static void absolute(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "/tmp/outside-evil", "owned\n");
    fc_buf_end(b);
}

static void symlink_out(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "t");
    LINK_(b, "t/etc", "/etc");
    fc_buf_end(b);
}

static void symlink_up(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "t");
    LINK_(b, "t/up", "../../..");
    fc_buf_end(b);
}

static void symlink_dotdot_after_name(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "t");
    DIR_(b, "t/sub");
    LINK_(b, "t/sub/x", "y/../../..");
    fc_buf_end(b);
}

static void symlink_top(struct fc_buf *b)
{
    fc_buf_magic(b);
    LINK_(b, "link", "somewhere");
    fc_buf_end(b);
}

/* A link that is itself allowed (it stays in the tree), then a file whose
 * path goes through it: the receiver never creates through a link. */
static void symlink_then_file(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "t");
    DIR_(b, "t/sub");
    LINK_(b, "t/l", "sub");
    FILE_(b, "t/l/through", "owned\n");
    fc_buf_end(b);
}

static void newline_name(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "innocent\nrm -rf ~", "x");
    fc_buf_end(b);
}

static void bidi_name(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b,
          "invoice\xe2\x80\xae"
          "fdp.exe",
          "x"); /* U+202E RIGHT-TO-LEFT OVERRIDE */
    fc_buf_end(b);
}

static void bad_utf8(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "caf\xc3", "x");
    fc_buf_end(b);
}

static void overlong_utf8(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b,
          "\xc0\xaf"
          "etc",
          "x");
    fc_buf_end(b);
}

static void nul_name(struct fc_buf *b)
{
    fc_buf_magic(b);
    fc_buf_entry(b, BH_FC_FILE, 0644, "a", 0, NULL, 0);
    /* patch: a name "a\0b" (the builder takes C strings) */
    b->len -= 1;
    b->p[b->len - 40] = 3; /* name_len field of this header (offset 8 of 48) */
    fc_buf_add(b, "a\0b", 3);
    fc_buf_end(b);
}

static void empty_component(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "a");
    FILE_(b, "a//b", "x");
    fc_buf_end(b);
}

static void trailing_slash(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "a/");
    fc_buf_end(b);
}

static void dot_component(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "a");
    FILE_(b, "a/./b", "x");
    fc_buf_end(b);
}

static void not_sent_folder(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "nowhere/file", "x");
    fc_buf_end(b);
}

static void size_beyond_data(struct fc_buf *b)
{
    fc_buf_magic(b);
    DIR_(b, "t");
    FILE_(b, "t/complete", "whole\n");
    fc_buf_entry(b, BH_FC_FILE, 0644, "t/short", 1000000, "only this", 9);
    /* the stream ends: no more data, no end marker */
}

static void huge_size(struct fc_buf *b)
{
    fc_buf_magic(b);
    fc_buf_entry(b, BH_FC_FILE, 0644, "huge", 1ull << 60, "x", 1);
    fc_buf_end(b);
}

static void long_component(struct fc_buf *b)
{
    char name[300];
    memset(name, 'a', 256);
    name[256] = '\0';
    fc_buf_magic(b);
    FILE_(b, name, "x");
    fc_buf_end(b);
}

static void long_path(struct fc_buf *b)
{
    fc_buf_magic(b);
    struct bh_fc_entry e = {.kind = BH_FC_FILE, .mode = 0644, .name_len = 5000};
    uint8_t raw[sizeof e];
    bh_fc_entry_encode(&e, raw);
    fc_buf_add(b, raw, sizeof raw);
    for (int i = 0; i < 5000; i++)
        fc_buf_add(b, "a", 1);
    fc_buf_end(b);
}

static void setuid_mode(struct fc_buf *b)
{
    fc_buf_magic(b);
    fc_buf_entry(b, BH_FC_FILE, 04755, "suid", 2, "#!", 2);
    fc_buf_end(b);
}

static void device_kind(struct fc_buf *b)
{
    fc_buf_magic(b);
    fc_buf_entry(b, 7, 0644, "dev", 0, NULL, 0);
    fc_buf_end(b);
}

static void bad_magic(struct fc_buf *b)
{
    fc_buf_add(b, "PK\x03\x04 not a stream", 18);
}

static void trailing_bytes(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "ok", "x");
    fc_buf_end(b);
    fc_buf_add(b, "more", 4);
}

static void end_not_zero(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "ok", "x");
    fc_buf_entry(b, BH_FC_END, 0, "", 0, NULL, 0);
    b->p[b->len - 48 + 4] = 1; /* mode of the end marker */
}

static void no_end(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "ok", "x");
}

static void deep_nesting(struct fc_buf *b)
{
    char path[BH_FC_MAX_PATH + 1] = "";
    fc_buf_magic(b);
    for (int i = 0; i < 200; i++) {
        strcat(path, i ? "/d" : "d");
        DIR_(b, path);
    }
    fc_buf_end(b);
}

static void many_files(struct fc_buf *b)
{
    char name[32];
    fc_buf_magic(b);
    DIR_(b, "many");
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "many/%d", i);
        FILE_(b, name, "x");
    }
    fc_buf_end(b);
}

static void duplicate_top(struct fc_buf *b)
{
    fc_buf_magic(b);
    FILE_(b, "same.txt", "first\n");
    FILE_(b, "same.txt", "second\n");
    DIR_(b, "dir");
    FILE_(b, "dir/in", "1\n");
    DIR_(b, "dir");
    FILE_(b, "dir/in", "2\n");
    fc_buf_end(b);
}

const struct fc_case fc_cases[] = {
    {"valid-tree", BH_FC_OK, NULL, valid_tree, 1},
    {"valid-duplicates", BH_FC_OK, NULL, duplicate_top, 1},
    {"traversal", BH_FC_ERR_NAME, "'..' component", traversal, 1},
    {"traversal-inner", BH_FC_ERR_NAME, "'..' component", traversal_inner, 1},
    {"absolute", BH_FC_ERR_NAME, "absolute path", absolute, 1},
    {"symlink-absolute", BH_FC_ERR_TARGET, "absolute path", symlink_out, 1},
    {"symlink-up", BH_FC_ERR_TARGET, "outside the copied folder", symlink_up, 1},
    {"symlink-dotdot-after-name", BH_FC_ERR_TARGET, "'..' after a name", symlink_dotdot_after_name, 1},
    {"symlink-top-level", BH_FC_ERR_TARGET, "outside the copied folder", symlink_top, 1},
    {"symlink-then-file-through-it", BH_FC_ERR_ORDER, "was not sent before it as a folder", symlink_then_file,
     1},
    {"newline-name", BH_FC_ERR_NAME, "line break", newline_name, 1},
    {"bidi-name", BH_FC_ERR_NAME, "text-direction", bidi_name, 1},
    {"invalid-utf8", BH_FC_ERR_NAME, "not valid UTF-8", bad_utf8, 1},
    {"overlong-utf8", BH_FC_ERR_NAME, "not valid UTF-8", overlong_utf8, 1},
    {"nul-in-name", BH_FC_ERR_NAME, "NUL", nul_name, 1},
    {"double-slash", BH_FC_ERR_NAME, "'//'", empty_component, 1},
    {"trailing-slash", BH_FC_ERR_NAME, "ends with '/'", trailing_slash, 1},
    {"dot-component", BH_FC_ERR_NAME, "'.' component", dot_component, 1},
    {"folder-not-sent", BH_FC_ERR_ORDER, "was not sent before it", not_sent_folder, 1},
    {"size-beyond-data", BH_FC_ERR_TRUNCATED, "in the middle of 't/short' (9 of 1000000 bytes",
     size_beyond_data, 1},
    {"size-over-limit", BH_FC_ERR_LIMIT, "left of the transfer's limit", huge_size, 1},
    {"component-too-long", BH_FC_ERR_LIMIT, "longer than 255 bytes", long_component, 1},
    {"path-too-long", BH_FC_ERR_LIMIT, "5000 bytes", long_path, 1},
    {"setuid-mode", BH_FC_ERR_HEADER, "set-id", setuid_mode, 1},
    {"device-kind", BH_FC_ERR_HEADER, "unknown kind", device_kind, 1},
    {"bad-magic", BH_FC_ERR_MAGIC, "not a file-copy stream", bad_magic, 1},
    {"bytes-after-end", BH_FC_ERR_TRAILING, "after the end", trailing_bytes, 1},
    {"end-marker-not-zero", BH_FC_ERR_HEADER, "end marker", end_not_zero, 1},
    {"no-end-marker", BH_FC_ERR_TRUNCATED, "without its end marker", no_end, 1},
    {"deep-nesting", BH_FC_ERR_LIMIT, "nested more than 128 deep", deep_nesting, 1},
    {"many-tiny-files", BH_FC_ERR_LIMIT, "more than 50000 files and folders", many_files, 0},
};
const size_t fc_case_count = sizeof fc_cases / sizeof fc_cases[0];

const struct fc_case *fc_case_find(const char *name)
{
    for (size_t i = 0; i < fc_case_count; i++)
        if (strcmp(fc_cases[i].name, name) == 0)
            return &fc_cases[i];
    return NULL;
}
