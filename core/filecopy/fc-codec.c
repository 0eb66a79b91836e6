/* fc-codec.c — the pure codec of the file-copy stream (docs/filecopy.md):
 * the receiver's incremental decoder, the name and symlink rules, the
 * entry encoder, the status both ways, CRC-32C.
 *
 * Owns: every decision about which bytes of a sender are a valid stream,
 * and the words that say why not.
 * Must never: do I/O, allocate, keep state outside struct bh_fc_decoder,
 * read outside the buffer it is given, or let a name through that is not
 * checked (the receiver creates exactly what this file hands it). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bulkhead/filecopy.h"
#include "bulkhead/text.h"

#include "fc-crc-table.h"

enum {
    ST_MAGIC,
    ST_HDR,
    ST_NAME,
    ST_TARGET,
    ST_DATA,
    ST_DONE,
    ST_ERROR,
};

/* ---- little-endian ------------------------------------------------------ */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- CRC-32C ---------------------------------------------------------------- */

static uint32_t crc_soft(uint32_t c, const uint8_t *p, size_t len)
{
    while (len--)
        c = bh_fc_crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The SSE4.2 instruction computes the same polynomial 8 bytes at a time:
 * the checksum must not be what limits a copy (bench/filecopy). */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
    while (len--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
#endif

uint32_t bh_fc_crc32c(uint32_t crc, const void *buf, size_t len)
{
    uint32_t c = ~crc;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc_hw(c, buf, len);
#endif
    return ~crc_soft(c, buf, len);
}

/* ---- words ------------------------------------------------------------------ */

const char *bh_fc_reason_name(enum bh_fc_reason r)
{
    static const char *const names[BH_FC_REASON_COUNT] = {
        [BH_FC_OK] = "ok",
        [BH_FC_ERR_MAGIC] = "not a file-copy stream",
        [BH_FC_ERR_HEADER] = "bad entry header",
        [BH_FC_ERR_NAME] = "name refused",
        [BH_FC_ERR_ORDER] = "entry out of order",
        [BH_FC_ERR_TARGET] = "symbolic link refused",
        [BH_FC_ERR_LIMIT] = "over a limit",
        [BH_FC_ERR_TRUNCATED] = "stream cut short",
        [BH_FC_ERR_TRAILING] = "bytes after the end",
        [BH_FC_ERR_IO] = "could not write",
        [BH_FC_ERR_EXISTS] = "no free name",
        [BH_FC_ERR_CANCELLED] = "cancelled",
        [BH_FC_ERR_USAGE] = "receiver started wrongly",
    };
    return (unsigned)r < BH_FC_REASON_COUNT ? names[r] : "unknown reason";
}

static void say(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    if (!why || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

/* One scalar value of already validated UTF-8. */
static size_t utf8_decode(const uint8_t *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] < 0xe0) {
        *cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
        return 2;
    }
    if (s[0] < 0xf0) {
        *cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
        return 3;
    }
    *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 |
          (s[3] & 0x3f);
    return 4;
}

/* A name as a person can read it in a message: valid, visible characters as
 * they are, every other byte as \xNN, so a hostile name can neither break
 * the line nor reorder the text around it. */
static void quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t w = 0, valid = bh_gui_utf8_check((const uint8_t *)s, len);
    if (cap == 0)
        return;
    for (size_t i = 0; i < len && w + 8 < cap;) {
        uint32_t cp = 0;
        size_t n = i < valid ? utf8_decode((const uint8_t *)s + i, &cp) : 1;
        if (i >= valid || bh_gui_text_char_dropped(cp)) {
            for (size_t k = 0; k < n && w + 8 < cap; k++)
                w += (size_t)snprintf(out + w, cap - w, "\\x%02x", (uint8_t)s[i + k]);
        } else {
            memcpy(out + w, s + i, n);
            w += n;
        }
        i += n;
    }
    if (w + 8 >= cap && w + 4 < cap) {
        memcpy(out + w, "...", 3);
        w += 3;
    }
    out[w] = '\0';
}

void bh_fc_quote(char *out, size_t cap, const char *s)
{
    quote(out, cap, s, strlen(s));
}

/* The text rules shared by names and targets: valid UTF-8, no NUL, no
 * character a title would lose (controls, line breaks, bidi overrides and
 * isolates, invisible formatting): in a file manager or a shell such a
 * name can pass for another. */
static enum bh_fc_reason check_text(const char *what, const char *s, size_t len, char *why, size_t cap)
{
    size_t valid = bh_gui_utf8_check((const uint8_t *)s, len);
    if (valid != len) {
        say(why, cap, "%s is not valid UTF-8 (byte %zu)", what, valid);
        return BH_FC_ERR_NAME;
    }
    if (memchr(s, '\0', len)) {
        say(why, cap, "%s contains a NUL byte", what);
        return BH_FC_ERR_NAME;
    }
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode((const uint8_t *)s + i, &cp);
        if (bh_gui_text_char_dropped(cp)) {
            if (cp == '\n' || cp == '\r')
                say(why, cap, "%s contains a line break (U+%04" PRIX32 ")", what, cp);
            else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                say(why, cap, "%s contains a control character (U+%04" PRIX32 ")", what, cp);
            else
                say(why, cap, "%s contains an invisible or text-direction character (U+%04" PRIX32 ")", what,
                    cp);
            return BH_FC_ERR_NAME;
        }
        i += n;
    }
    return BH_FC_OK;
}

enum bh_fc_reason bh_fc_check_name(const char *name, size_t len, char *why, size_t cap)
{
    if (len == 0) {
        say(why, cap, "the name is empty");
        return BH_FC_ERR_NAME;
    }
    if (len > BH_FC_MAX_PATH) {
        say(why, cap, "the path is longer than %u bytes", BH_FC_MAX_PATH);
        return BH_FC_ERR_LIMIT;
    }
    if (name[0] == '/') {
        say(why, cap, "it is an absolute path (starts with '/')");
        return BH_FC_ERR_NAME;
    }
    enum bh_fc_reason r = check_text("the name", name, len, why, cap);
    if (r != BH_FC_OK)
        return r;
    for (size_t start = 0; start <= len;) {
        const char *slash = memchr(name + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - name) : len;
        size_t n = end - start;
        if (n == 0) {
            say(why, cap, end == len ? "it ends with '/'" : "it contains '//'");
            return BH_FC_ERR_NAME;
        }
        if ((n == 1 && name[start] == '.') || (n == 2 && name[start] == '.' && name[start + 1] == '.')) {
            say(why, cap, "it contains a '%.*s' component", (int)n, name + start);
            return BH_FC_ERR_NAME;
        }
        if (n > BH_FC_MAX_COMPONENT) {
            say(why, cap, "a part of it is longer than %u bytes", BH_FC_MAX_COMPONENT);
            return BH_FC_ERR_LIMIT;
        }
        start = end + 1;
    }
    return BH_FC_OK;
}

enum bh_fc_reason bh_fc_check_target(unsigned depth, const char *t, size_t len, char *why, size_t cap)
{
    if (len == 0 || len > BH_FC_MAX_TARGET) {
        say(why, cap, "its target is empty or longer than %u bytes", BH_FC_MAX_TARGET);
        return BH_FC_ERR_TARGET;
    }
    if (t[0] == '/') {
        say(why, cap, "it points to an absolute path");
        return BH_FC_ERR_TARGET;
    }
    if (check_text("its target", t, len, why, cap) != BH_FC_OK)
        return BH_FC_ERR_TARGET;
    /* "../" only as a leading run: once a name is passed, ".." could climb
     * out of a symlink's own target, which a lexical count cannot see. */
    unsigned up = 0;
    bool named = false;
    for (size_t start = 0; start <= len;) {
        const char *slash = memchr(t + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - t) : len;
        size_t n = end - start;
        bool dotdot = n == 2 && t[start] == '.' && t[start + 1] == '.';
        if (n == 0 || (n == 1 && t[start] == '.')) {
            say(why, cap, "its target has an empty or '.' part");
            return BH_FC_ERR_TARGET;
        }
        if (n > BH_FC_MAX_COMPONENT) {
            say(why, cap, "a part of its target is longer than %u bytes", BH_FC_MAX_COMPONENT);
            return BH_FC_ERR_TARGET;
        }
        if (dotdot && named) {
            say(why, cap, "its target has '..' after a name");
            return BH_FC_ERR_TARGET;
        }
        if (dotdot)
            up++;
        else
            named = true;
        start = end + 1;
    }
    /* The link sits at level depth (0 = the incoming folder itself); its
     * target must stay at level 1 or below: inside the copied folder. */
    if (depth == 0 || up >= depth) {
        say(why, cap, "it points outside the copied folder");
        return BH_FC_ERR_TARGET;
    }
    return BH_FC_OK;
}

/* ---- encoding ------------------------------------------------------------ */

void bh_fc_entry_encode(const struct bh_fc_entry *e, uint8_t out[sizeof(struct bh_fc_entry)])
{
    put32(out + 0, e->kind);
    put32(out + 4, e->mode);
    put32(out + 8, e->name_len);
    put32(out + 12, e->reserved);
    put64(out + 16, e->size);
    put64(out + 24, (uint64_t)e->atime_sec);
    put64(out + 32, (uint64_t)e->mtime_sec);
    put32(out + 40, e->atime_nsec);
    put32(out + 44, e->mtime_nsec);
}

static void entry_decode(const uint8_t *in, struct bh_fc_entry *e)
{
    e->kind = get32(in + 0);
    e->mode = get32(in + 4);
    e->name_len = get32(in + 8);
    e->reserved = get32(in + 12);
    e->size = get64(in + 16);
    e->atime_sec = (int64_t)get64(in + 24);
    e->mtime_sec = (int64_t)get64(in + 32);
    e->atime_nsec = get32(in + 40);
    e->mtime_nsec = get32(in + 44);
}

size_t bh_fc_status_encode(uint8_t *out, size_t cap, enum bh_fc_reason code, uint32_t checksum,
                           const char *name, const char *reason)
{
    size_t nl = name ? strnlen(name, BH_FC_MAX_PATH) : 0;
    size_t rl = code == BH_FC_OK || !reason ? 0 : strnlen(reason, BH_FC_MAX_REASON);
    if (code != BH_FC_OK && rl == 0) {
        reason = bh_fc_reason_name(code);
        rl = strlen(reason);
    }
    size_t total = sizeof(struct bh_fc_status) + nl + rl;
    if (cap < total)
        return 0;
    put32(out + 0, BH_FC_STATUS_MAGIC);
    put32(out + 4, (uint32_t)code);
    put32(out + 8, checksum);
    put32(out + 12, (uint32_t)nl);
    put32(out + 16, (uint32_t)rl);
    memcpy(out + sizeof(struct bh_fc_status), name, nl);
    memcpy(out + sizeof(struct bh_fc_status) + nl, reason, rl);
    return total;
}

int bh_fc_status_decode(const uint8_t *buf, size_t len, size_t *used, struct bh_fc_status_msg *msg, char *why,
                        size_t cap)
{
    *used = 0;
    if (len < sizeof(struct bh_fc_status))
        return 0;
    uint32_t untrusted_magic = get32(buf), untrusted_code = get32(buf + 4);
    uint32_t untrusted_nl = get32(buf + 12), untrusted_rl = get32(buf + 16);
    if (untrusted_magic != BH_FC_STATUS_MAGIC) {
        say(why, cap, "the receiver's answer is not a file-copy status");
        return -1;
    }
    if (untrusted_code >= BH_FC_REASON_COUNT || untrusted_nl > BH_FC_MAX_PATH ||
        untrusted_rl > BH_FC_MAX_REASON || (untrusted_code == BH_FC_OK) != (untrusted_rl == 0)) {
        say(why, cap, "the receiver's status has a field out of range");
        return -1;
    }
    size_t total = sizeof(struct bh_fc_status) + untrusted_nl + untrusted_rl;
    if (len < total)
        return 0;
    const uint8_t *name = buf + sizeof(struct bh_fc_status), *reason = name + untrusted_nl;
    /* What a person will read: only valid text, stripped of anything that
     * could fake or hide words on their terminal. */
    if (bh_gui_text_sanitize(name, untrusted_nl, msg->name, sizeof msg->name) < 0 ||
        bh_gui_text_sanitize(reason, untrusted_rl, msg->reason, sizeof msg->reason) < 0 ||
        memchr(name, '\0', untrusted_nl) || memchr(reason, '\0', untrusted_rl)) {
        say(why, cap, "the receiver's status is not valid text");
        return -1;
    }
    msg->code = (enum bh_fc_reason)untrusted_code;
    msg->checksum = get32(buf + 8);
    *used = total;
    return 1;
}

/* ---- the decoder ------------------------------------------------------------ */

void bh_fc_decoder_init(struct bh_fc_decoder *d, const struct bh_fc_limits *limits)
{
    memset(d, 0, sizeof *d);
    d->state = ST_MAGIC;
    d->limits.max_entries = limits ? limits->max_entries : BH_FC_DEFAULT_MAX_ENTRIES;
    d->limits.max_bytes = limits ? limits->max_bytes : BH_FC_DEFAULT_MAX_BYTES;
    d->limits.one_file = limits ? limits->one_file : false;
}

const char *bh_fc_decoder_current(const struct bh_fc_decoder *d)
{
    return d->name;
}

uint32_t bh_fc_decoder_checksum(const struct bh_fc_decoder *d)
{
    return d->crc;
}

static enum bh_fc_event fail(struct bh_fc_decoder *d, struct bh_fc_item *item, enum bh_fc_reason r,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum bh_fc_event fail(struct bh_fc_decoder *d, struct bh_fc_item *item, enum bh_fc_reason r,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof d->text, fmt, ap);
    va_end(ap);
    d->reason = r;
    d->state = ST_ERROR;
    item->reason = r;
    memcpy(item->text, d->text, sizeof item->text);
    item->name = d->name;
    return BH_FC_EV_ERROR;
}

/* Takes up to want - d->have bytes into dst; true when it holds want. */
static bool gather(struct bh_fc_decoder *d, uint8_t *dst, size_t want, const uint8_t *buf, size_t len,
                   size_t *used)
{
    size_t n = want - d->have;
    if (n > len - *used)
        n = len - *used;
    memcpy(dst + d->have, buf + *used, n);
    d->crc = bh_fc_crc32c(d->crc, buf + *used, n);
    d->have += n;
    *used += n;
    return d->have == want;
}

static const char *prev_name(const struct bh_fc_decoder *d, char *buf, size_t cap)
{
    if (d->entries <= 1 && d->dirs == 0 && d->name[0] == '\0')
        return "the start of the stream";
    buf[0] = '\'';
    quote(buf + 1, cap - 2, d->name, strlen(d->name));
    strcat(buf, "'");
    return buf;
}

static enum bh_fc_event header(struct bh_fc_decoder *d, struct bh_fc_item *item)
{
    struct bh_fc_entry *e = &d->entry;
    char prev[BH_FC_MAX_PATH * 4 + 16];
#define P prev_name(d, prev, sizeof prev)
    entry_decode(d->hdr, e);
    /* P: the previous entry's name, for the words only, quoted on failure. */
    if (e->kind == BH_FC_END) {
        static const uint8_t zero[sizeof(struct bh_fc_entry)];
        if (memcmp(d->hdr, zero, sizeof zero) != 0)
            return fail(d, item, BH_FC_ERR_HEADER, "the end marker after %s has non-zero fields", P);
        if (d->limits.one_file && d->entries == 0)
            return fail(d, item, BH_FC_ERR_LIMIT,
                        "the stream holds no file; exactly one regular file is taken");
        d->state = ST_DONE;
        item->name = d->name;
        return BH_FC_EV_END;
    }
    if (e->kind > BH_FC_SYMLINK)
        return fail(d, item, BH_FC_ERR_HEADER, "the entry after %s has an unknown kind %" PRIu32, P, e->kind);
    if (e->reserved != 0 || e->atime_nsec > 999999999u || e->mtime_nsec > 999999999u)
        return fail(d, item, BH_FC_ERR_HEADER, "the entry after %s has a malformed header", P);
    if (e->mode & ~0777u)
        return fail(d, item, BH_FC_ERR_HEADER,
                    "the entry after %s asks for mode 0%" PRIo32
                    " (set-id, sticky or type bits are never accepted)",
                    P, e->mode);
    if (e->name_len == 0 || e->name_len > BH_FC_MAX_PATH)
        return fail(d, item, BH_FC_ERR_LIMIT,
                    "the entry after %s has a name of %" PRIu32 " bytes (1 to %u allowed)", P, e->name_len,
                    BH_FC_MAX_PATH);
    if (d->limits.one_file && (e->kind != BH_FC_FILE || d->entries > 0))
        return fail(d, item, BH_FC_ERR_LIMIT, "exactly one regular file is taken, and the stream holds %s",
                    e->kind != BH_FC_FILE ? "a folder or a link" : "more than one file");
    if (d->entries >= d->limits.max_entries)
        return fail(d, item, BH_FC_ERR_LIMIT, "more than %" PRIu64 " files and folders (the limit)",
                    d->limits.max_entries);
    if (e->kind == BH_FC_DIR && e->size != 0)
        return fail(d, item, BH_FC_ERR_HEADER, "the folder after %s claims a size", P);
    if (e->kind == BH_FC_SYMLINK && (e->size == 0 || e->size > BH_FC_MAX_TARGET))
        return fail(d, item, BH_FC_ERR_HEADER,
                    "the symbolic link after %s has a target of %" PRIu64 " bytes (1 to %u allowed)", P,
                    e->size, BH_FC_MAX_TARGET);
    if (e->kind == BH_FC_FILE && e->size > d->limits.max_bytes - d->bytes)
        return fail(d, item, BH_FC_ERR_LIMIT,
                    "the file after %s is %" PRIu64 " bytes: more than the %" PRIu64
                    " bytes left of the transfer's limit",
                    P, e->size, d->limits.max_bytes - d->bytes);
    d->entries++;
    d->have = 0;
    d->state = ST_NAME;
    return BH_FC_EV_MORE;
#undef P
}

/* The name is in d->name; check it and where it goes. */
static enum bh_fc_event named(struct bh_fc_decoder *d, struct bh_fc_item *item)
{
    struct bh_fc_entry *e = &d->entry;
    size_t len = e->name_len;
    char why[256], q[BH_FC_MAX_PATH * 4 + 16];
    d->name[len] = '\0';
    enum bh_fc_reason r = bh_fc_check_name(d->name, len, why, sizeof why);
    if (r != BH_FC_OK) {
        quote(q, sizeof q, d->name, len);
        return fail(d, item, r, "'%s' refused: %s", q, why);
    }
    /* From here the name is valid visible text: it is its own quotation. */
    memcpy(q, d->name, len + 1);

    const char *slash = memrchr(d->name, '/', len);
    size_t parent_len = slash ? (size_t)(slash - d->name) : 0;
    unsigned depth = 0;
    for (size_t i = 0; i < parent_len; i++)
        depth += d->name[i] == '/';
    depth += slash != NULL;
    /* Entries come in the order a walk meets them: each one's folder is a
     * folder sent before it and not yet left. So the receiver only ever
     * creates inside directories it made itself and still holds open. */
    if (depth > 0 && !(depth <= d->dirs && d->dir_end[depth - 1] == parent_len &&
                       memcmp(d->dir_path, d->name, parent_len) == 0))
        return fail(d, item, BH_FC_ERR_ORDER,
                    "'%s' refused: its folder '%.*s' was not sent before it as a folder", q, (int)parent_len,
                    q);
    if (e->kind == BH_FC_DIR && depth + 1 > BH_FC_MAX_DEPTH)
        return fail(d, item, BH_FC_ERR_LIMIT, "'%s' refused: folders nested more than %u deep", q,
                    BH_FC_MAX_DEPTH);

    item->pop = d->dirs - depth;
    item->depth = depth;
    d->dirs = depth;
    if (e->kind == BH_FC_DIR) {
        d->dir_end[depth] = (uint16_t)len;
        memcpy(d->dir_path, d->name, len);
        d->dirs = depth + 1;
    }
    item->entry = *e;
    item->name = d->name;
    item->leaf = slash ? slash + 1 : d->name;
    item->target = NULL;
    d->have = 0;
    if (e->kind == BH_FC_SYMLINK) {
        d->state = ST_TARGET;
        return BH_FC_EV_MORE;
    }
    if (e->kind == BH_FC_FILE) {
        d->bytes += e->size;
        d->remaining = e->size;
        d->state = ST_DATA;
    } else {
        d->state = ST_HDR;
    }
    return BH_FC_EV_ENTRY;
}

static enum bh_fc_event targeted(struct bh_fc_decoder *d, struct bh_fc_item *item)
{
    char why[256], q[BH_FC_MAX_PATH * 4 + 16];
    size_t len = (size_t)d->entry.size;
    d->target[len] = '\0';
    if (bh_fc_check_target(item->depth, d->target, len, why, sizeof why) != BH_FC_OK) {
        quote(q, sizeof q, d->name, strlen(d->name));
        return fail(d, item, BH_FC_ERR_TARGET, "symbolic link '%s' refused: %s", q, why);
    }
    item->entry = d->entry;
    item->name = d->name;
    item->target = d->target;
    d->state = ST_HDR;
    d->have = 0;
    return BH_FC_EV_ENTRY;
}

enum bh_fc_event bh_fc_decode(struct bh_fc_decoder *d, const uint8_t *buf, size_t len, size_t *used,
                              struct bh_fc_item *item)
{
    *used = 0;
    for (;;) {
        enum bh_fc_event ev = BH_FC_EV_MORE;
        switch (d->state) {
        case ST_ERROR:
            item->reason = d->reason;
            memcpy(item->text, d->text, sizeof item->text);
            item->name = d->name;
            return BH_FC_EV_ERROR;
        case ST_DONE:
            if (*used < len)
                return fail(d, item, BH_FC_ERR_TRAILING, "there are bytes after the end of the stream");
            return BH_FC_EV_MORE;
        case ST_MAGIC:
            if (!gather(d, d->hdr, BH_FC_MAGIC_BYTES, buf, len, used))
                return BH_FC_EV_MORE;
            if (memcmp(d->hdr, BH_FC_MAGIC, BH_FC_MAGIC_BYTES) != 0)
                return fail(d, item, BH_FC_ERR_MAGIC,
                            "this is not a file-copy stream of this version (its first bytes are wrong)");
            d->have = 0;
            d->state = ST_HDR;
            break;
        case ST_HDR:
            if (!gather(d, d->hdr, sizeof d->hdr, buf, len, used))
                return BH_FC_EV_MORE;
            d->have = 0;
            ev = header(d, item);
            break;
        case ST_NAME:
            if (!gather(d, (uint8_t *)d->name, d->entry.name_len, buf, len, used))
                return BH_FC_EV_MORE;
            ev = named(d, item);
            break;
        case ST_TARGET:
            if (!gather(d, (uint8_t *)d->target, (size_t)d->entry.size, buf, len, used))
                return BH_FC_EV_MORE;
            ev = targeted(d, item);
            break;
        case ST_DATA:
            if (d->remaining == 0) {
                d->state = ST_HDR;
                d->have = 0;
                item->name = d->name;
                return BH_FC_EV_FILE_DONE;
            }
            if (*used == len)
                return BH_FC_EV_MORE;
            size_t n = len - *used;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            item->data = buf + *used;
            item->data_len = n;
            d->crc = bh_fc_crc32c(d->crc, buf + *used, n);
            d->remaining -= n;
            *used += n;
            return BH_FC_EV_DATA;
        default:
            return fail(d, item, BH_FC_ERR_HEADER, "decoder in an unknown state");
        }
        if (ev != BH_FC_EV_MORE)
            return ev;
    }
}

enum bh_fc_event bh_fc_decode_eof(struct bh_fc_decoder *d, struct bh_fc_item *item)
{
    char q[BH_FC_MAX_PATH * 4 + 16];
    if (d->state == ST_NAME)
        d->name[d->have] = '\0';
    quote(q, sizeof q, d->name, strlen(d->name));
    switch (d->state) {
    case ST_DONE:
        item->name = d->name;
        return BH_FC_EV_END;
    case ST_ERROR:
        return bh_fc_decode(d, NULL, 0, &(size_t){0}, item);
    case ST_MAGIC:
        return fail(d, item, BH_FC_ERR_TRUNCATED, "the sender sent nothing (it stopped or died at once)");
    case ST_DATA:
        return fail(d, item, BH_FC_ERR_TRUNCATED,
                    "the stream ended in the middle of '%s' (%" PRIu64 " of %" PRIu64
                    " bytes arrived): the sender stopped or died",
                    q, d->entry.size - d->remaining, d->entry.size);
    default:
        if (d->entries == 0)
            return fail(d, item, BH_FC_ERR_TRUNCATED, "the stream ended before its first entry");
        return fail(d, item, BH_FC_ERR_TRUNCATED,
                    "the stream ended after '%s' without its end marker: the sender stopped or died", q);
    }
}
