/* target.c — libFuzzer entry point for the file-copy stream as the receiver
 * decodes it (core/filecopy/fc-codec.c), and for the status as the sender
 * decodes it. Input: the first byte chooses the read size (1..256) the
 * stream is fed in; the rest is the stream. Checks, aborting on violation:
 * the same input fed whole and in pieces gives the same events and outcome;
 * every entry handed out passes the name rules, sits in a folder handed out
 * before it (the pop/depth bookkeeping a receiver follows), is not deeper
 * than the limit, and a symlink's target passes the target rule; data adds
 * up to each file's size; nothing follows an error or the end; the status
 * decoder never accepts a reason or name that is not clean text; with the
 * one-file rule, a stream is whole only if it is one regular file.
 *
 * Must never: keep state between inputs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/filecopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
    uint64_t events, entries, files, bytes;
    uint32_t crc;
    enum bh_fc_reason reason;
    int ended;
};

/* Folders handed out and not yet left, as the receiver keeps them. */
struct dirs {
    unsigned n;
    size_t end[BH_FC_MAX_DEPTH];
    char path[BH_FC_MAX_PATH + 1];
};

static void check_entry(const struct bh_fc_item *it, struct dirs *ds)
{
    char why[256];
    size_t len = strlen(it->name);
    if (len != it->entry.name_len || bh_fc_check_name(it->name, len, why, sizeof why) != BH_FC_OK)
        abort();
    if (it->pop > ds->n || ds->n - it->pop != it->depth)
        abort();
    ds->n = it->depth;
    if (it->depth > 0 && (ds->end[it->depth - 1] + 1 + strlen(it->leaf) != len ||
                          memcmp(ds->path, it->name, ds->end[it->depth - 1]) != 0))
        abort();
    if (it->entry.kind == BH_FC_DIR) {
        if (it->depth >= BH_FC_MAX_DEPTH)
            abort();
        ds->end[ds->n++] = len;
        memcpy(ds->path, it->name, len);
    }
    if (it->entry.kind == BH_FC_SYMLINK &&
        (!it->target ||
         bh_fc_check_target(it->depth, it->target, strlen(it->target), why, sizeof why) != BH_FC_OK))
        abort();
    if (it->entry.mode & ~0777u)
        abort();
}

static void run(const uint8_t *data, size_t size, size_t chunk, bool one_file, struct trace *t)
{
    const struct bh_fc_limits limits = {1000, 1u << 20, one_file};
    struct bh_fc_decoder *d = malloc(sizeof *d);
    struct bh_fc_item *it = malloc(sizeof *it);
    struct dirs *ds = calloc(1, sizeof *ds);
    uint64_t file_left = 0;
    int in_file = 0;
    if (!d || !it || !ds)
        abort();
    memset(t, 0, sizeof *t);
    bh_fc_decoder_init(d, &limits);
    for (size_t off = 0; off <= size && !t->ended;) {
        size_t n = size - off < chunk ? size - off : chunk;
        enum bh_fc_event ev;
        size_t pos = 0;
        if (n == 0) {
            ev = bh_fc_decode_eof(d, it);
            t->events++;
            if (ev == BH_FC_EV_END)
                t->ended = 1;
            else if (ev == BH_FC_EV_ERROR)
                t->reason = it->reason, t->ended = 2;
            else
                abort();
            break;
        }
        while (!t->ended) {
            size_t used = 0;
            ev = bh_fc_decode(d, data + off + pos, n - pos, &used, it);
            pos += used;
            if (pos > n)
                abort();
            if (ev == BH_FC_EV_MORE) {
                if (pos != n)
                    abort();
                break;
            }
            t->events++;
            switch (ev) {
            case BH_FC_EV_ENTRY:
                if (in_file)
                    abort();
                check_entry(it, ds);
                t->entries++;
                if (it->entry.kind == BH_FC_FILE) {
                    t->files++;
                    in_file = 1;
                    file_left = it->entry.size;
                }
                break;
            case BH_FC_EV_DATA:
                if (!in_file || it->data_len == 0 || it->data_len > file_left)
                    abort();
                file_left -= it->data_len;
                t->bytes += it->data_len;
                t->crc = bh_fc_crc32c(t->crc, it->data, it->data_len);
                break;
            case BH_FC_EV_FILE_DONE:
                if (!in_file || file_left != 0)
                    abort();
                in_file = 0;
                break;
            case BH_FC_EV_END:
                if (in_file)
                    abort();
                /* after the end, any further byte is an error */
                if (off + pos < size) {
                    size_t u;
                    if (bh_fc_decode(d, data + off + pos, size - off - pos, &u, it) != BH_FC_EV_ERROR ||
                        it->reason != BH_FC_ERR_TRAILING)
                        abort();
                    t->reason = BH_FC_ERR_TRAILING;
                    t->ended = 2;
                } else {
                    t->ended = 1;
                }
                break;
            case BH_FC_EV_ERROR:
                if (it->reason == BH_FC_OK || it->reason >= BH_FC_REASON_COUNT || it->text[0] == '\0')
                    abort();
                t->reason = it->reason;
                t->ended = 2;
                /* an error sticks */
                size_t u;
                if (bh_fc_decode(d, (const uint8_t *)"x", 1, &u, it) != BH_FC_EV_ERROR)
                    abort();
                break;
            default:
                abort();
            }
        }
        off += n;
    }
    if (t->ended == 1 && bh_fc_decoder_checksum(d) != bh_fc_crc32c(0, data, size))
        abort();
    free(ds);
    free(it);
    free(d);
}

static void status(const uint8_t *data, size_t size)
{
    struct bh_fc_status_msg *m = malloc(sizeof *m);
    char why[128];
    size_t used;
    if (!m)
        abort();
    int r = bh_fc_status_decode(data, size, &used, m, why, sizeof why);
    if (r == 1) {
        if (used > size || m->code >= BH_FC_REASON_COUNT)
            abort();
        for (const char *p = m->reason; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
        for (const char *p = m->name; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
    }
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace whole, pieces;
    if (size < 1 || size > (8u << 20))
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    data++;
    size--;
    run(data, size, size ? size : 1, false, &whole);
    run(data, size, chunk, false, &pieces);
    if (whole.ended != pieces.ended || whole.reason != pieces.reason || whole.entries != pieces.entries ||
        whole.bytes != pieces.bytes || whole.crc != pieces.crc)
        abort();
    /* One regular file (bulkhead.OpenInVM): whole only when the stream is
     * whole without the rule and is one file; never a second entry. */
    struct trace one;
    run(data, size, chunk, true, &one);
    if (one.entries > 1 || (one.ended == 1 && (whole.ended != 1 || whole.entries != 1 || one.files != 1)))
        abort();
    status(data, size);
    return 0;
}
