/* wire.c — framing and reasons for both wire protocols (bulkhead/wire.h).
 *
 * Owns: layer 1 of both decoders and the framing of both encoders, and the
 * wording every reason shares.
 * Must never: read a header field before copying it out of the buffer
 * (unchecked values live in untrusted_* locals), read past len, or know a
 * message type of either protocol (the protocol's table does). */
#include <stdio.h>
#include <string.h>

#include "bulkhead/wire.h"

bool bh_wire_type_len_ok(const struct bh_wire_type *t, uint64_t len)
{
    if (len < t->min_len || len > t->max_len)
        return false;
    if (t->unit == 0)
        return len == t->min_len;
    return (len - t->min_len) % t->unit == 0;
}

/* ---- Reasons ------------------------------------------------------------- */

void bh_wire_reason(char *reason, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (!reason)
        return;
    va_start(ap, fmt);
    vsnprintf(reason, cap, fmt, ap);
    va_end(ap);
}

void bh_wire_vreason_msg(char *reason, size_t cap, const char *type_name, const char *id_word, uint32_t id,
                         const char *fmt, va_list ap)
{
    char detail[BH_WIRE_REASON_BYTES];

    if (!reason)
        return;
    vsnprintf(detail, sizeof detail, fmt, ap);
    snprintf(reason, cap, "%s %s %u: %s", type_name, id_word, id, detail);
}

enum bh_wire_err bh_wire_verdict(struct bh_wire_error *err, enum bh_wire_err code)
{
    if (err)
        err->code = code;
    return code;
}

static const char *dir_name(unsigned dir)
{
    return dir == BH_WIRE_FROM_AGENT ? "the agent" : "dom0";
}

/* ---- Layer 1 ------------------------------------------------------------- */

enum bh_wire_err bh_wire_frame_check(const struct bh_wire_protocol *p, const uint8_t *hdr, unsigned dir,
                                     uint32_t *body_len, char *reason, size_t cap)
{
    struct bh_wire_hdr untrusted_hdr;
    const struct bh_wire_type *t;
    const char *w = p->id_word;

    if (dir != BH_WIRE_FROM_AGENT && dir != BH_WIRE_FROM_DOM0) {
        bh_wire_reason(reason, cap, "decoder called with unknown direction %d", (int)dir);
        return BH_WIRE_E_TYPE;
    }
    memcpy(&untrusted_hdr, hdr, sizeof untrusted_hdr);

    t = p->type_info(untrusted_hdr.type);
    if (!t) {
        if (reason)
            p->unknown_type(reason, cap, untrusted_hdr.type);
        return BH_WIRE_E_TYPE;
    }
    if (!(t->dirs & dir)) {
        bh_wire_reason(reason, cap, "%s sent by %s: wrong direction", t->name, dir_name(dir));
        return BH_WIRE_E_TYPE;
    }
    if (t->conn && untrusted_hdr.id != 0) {
        bh_wire_reason(reason, cap, "%s %s %u: connection-wide message needs %s 0", t->name, w,
                       untrusted_hdr.id, w);
        return BH_WIRE_E_ID;
    }
    if (!t->conn && (untrusted_hdr.id == 0 || untrusted_hdr.id > p->max_id)) {
        bh_wire_reason(reason, cap, "%s %s %u: %s id out of range 1..%u", t->name, w, untrusted_hdr.id, w,
                       p->max_id);
        return BH_WIRE_E_ID;
    }
    if (!bh_wire_type_len_ok(t, untrusted_hdr.untrusted_len)) {
        if (t->unit == 0)
            bh_wire_reason(reason, cap, "%s %s %u: body length %u, must be exactly %u", t->name, w,
                           untrusted_hdr.id, untrusted_hdr.untrusted_len, t->min_len);
        else if (t->unit == 1)
            bh_wire_reason(reason, cap, "%s %s %u: body length %u, must be %u..%u", t->name, w,
                           untrusted_hdr.id, untrusted_hdr.untrusted_len, t->min_len, t->max_len);
        else
            bh_wire_reason(reason, cap, "%s %s %u: body length %u, must be %u..%u in steps of %u", t->name, w,
                           untrusted_hdr.id, untrusted_hdr.untrusted_len, t->min_len, t->max_len, t->unit);
        return BH_WIRE_E_LENGTH;
    }
    *body_len = untrusted_hdr.untrusted_len;
    if (reason && cap)
        reason[0] = '\0';
    return BH_WIRE_OK;
}

enum bh_wire_err bh_wire_frame(const struct bh_wire_protocol *p, const uint8_t *buf, size_t len, unsigned dir,
                               struct bh_wire_frame *f, char *reason, size_t cap)
{
    struct bh_wire_hdr hdr;
    uint32_t body_len = 0;
    enum bh_wire_err e;

    if (len < BH_WIRE_HDR_BYTES) {
        bh_wire_reason(reason, cap, "need %u header bytes, have %zu", BH_WIRE_HDR_BYTES, len);
        return BH_WIRE_E_SHORT;
    }
    e = bh_wire_frame_check(p, buf, dir, &body_len, reason, cap);
    if (e != BH_WIRE_OK)
        return e;
    if (len - BH_WIRE_HDR_BYTES < body_len) {
        bh_wire_reason(reason, cap, "need %u body bytes, have %zu", body_len, len - BH_WIRE_HDR_BYTES);
        return BH_WIRE_E_SHORT;
    }
    memcpy(&hdr, buf, sizeof hdr); /* type, id and length passed the check */
    f->type = p->type_info(hdr.type);
    f->id = hdr.id;
    f->body = buf + BH_WIRE_HDR_BYTES;
    f->body_len = body_len;
    f->size = BH_WIRE_HDR_BYTES + (size_t)body_len;
    return BH_WIRE_OK;
}

/* ---- Judging a framed message -------------------------------------------- */

long bh_wire_fail(const struct bh_wire_msg *m, unsigned code, const char *fmt, ...)
{
    va_list ap;

    if (!m->err)
        return -1;
    m->err->code = (enum bh_wire_err)code;
    va_start(ap, fmt);
    bh_wire_vreason_msg(m->err->reason, sizeof m->err->reason, m->f.type->name, m->p->id_word, m->f.id, fmt,
                        ap);
    va_end(ap);
    return -1;
}

long bh_wire_hello(const struct bh_wire_msg *m, unsigned major, unsigned minor, void *version)
{
    uint32_t untrusted_version;

    /* Both type tables give HELLO exactly this many bytes; framing checked. */
    if (m->f.body_len < sizeof untrusted_version)
        return bh_wire_fail(m, BH_WIRE_E_LENGTH, "body length %u, no version", m->f.body_len);
    memcpy(&untrusted_version, m->f.body, sizeof untrusted_version);
    if (untrusted_version >> 16 != major)
        return bh_wire_fail(m, BH_WIRE_E_VERSION,
                            "peer speaks protocol %u.%u, this side %u.%u (major must match)",
                            untrusted_version >> 16, untrusted_version & 0xffffu, major, minor);
    memcpy(version, &untrusted_version, sizeof untrusted_version);
    return 0;
}

/* ---- Encoding ------------------------------------------------------------ */

size_t bh_wire_encode(const struct bh_wire_protocol *p, uint8_t *out, size_t cap, uint32_t type, uint32_t id,
                      const struct bh_wire_part *parts, size_t n_parts)
{
    const struct bh_wire_type *t = p->type_info(type);
    struct bh_wire_hdr hdr;
    uint64_t total = 0;
    size_t off;

    if (!t)
        return 0;
    if (t->conn ? id != 0 : (id == 0 || id > p->max_id))
        return 0;
    /* Each part is bounded before it is added, so the sum, kept in 64 bits,
     * cannot wrap before it is narrowed to the header's u32. */
    for (size_t i = 0; i < n_parts; i++) {
        if (parts[i].len > p->max_body || (parts[i].len && !parts[i].data))
            return 0;
        total += parts[i].len;
    }
    if (!bh_wire_type_len_ok(t, total) || cap < sizeof hdr || cap - sizeof hdr < total)
        return 0;

    hdr.type = type;
    hdr.id = id;
    hdr.untrusted_len = (uint32_t)total;
    memcpy(out, &hdr, sizeof hdr);
    off = sizeof hdr;
    for (size_t i = 0; i < n_parts; i++) {
        if (parts[i].len)
            memcpy(out + off, parts[i].data, parts[i].len);
        off += parts[i].len;
    }
    return off;
}

/* ---- Text ---------------------------------------------------------------- */

enum bh_wire_text bh_wire_text_check(const uint8_t *s, size_t len, size_t *at)
{
    size_t bad = bh_gui_utf8_check(s, len);
    const uint8_t *nul;

    if (bad != len) {
        *at = bad;
        return BH_WIRE_TEXT_UTF8;
    }
    /* Consumers hand text to C-string APIs; an embedded NUL would cut it. */
    nul = memchr(s, 0, len);
    if (nul) {
        *at = (size_t)(nul - s);
        return BH_WIRE_TEXT_NUL;
    }
    return BH_WIRE_TEXT_OK;
}
