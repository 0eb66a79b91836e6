/* xen-test-wire.h — sending and receiving one GUI message over a vchan, for
 * both programs of the QEMU test: frame check, body, full validation, table
 * update, exactly as guid and the agent do it.
 * Must never: skip a decoding layer (the point is to run the real ones). */
#ifndef BH_XEN_TEST_WIRE_H
#define BH_XEN_TEST_WIRE_H

#include <stdio.h>

#include "bulkhead/proto.h"
#include "bulkhead/vchan.h"

static inline int bh_test_send(struct bh_vchan *v, uint32_t type, uint32_t window, const void *body,
                               size_t len, const void *tail, size_t tail_len)
{
    static uint8_t buf[BH_MAX_MSG_BYTES];
    size_t n = bh_gui_encode2(buf, sizeof buf, type, window, body, len, tail, tail_len);

    if (n == 0) {
        fprintf(stderr, "cannot encode %s\n", bh_gui_type_name(type));
        return -1;
    }
    return bh_vchan_send(v, buf, n) == (ssize_t)n ? 0 : -1;
}

/* buf: BH_MAX_MSG_BYTES; m may point into it (grant refs) until the next call. */
static inline int bh_test_recv(struct bh_vchan *v, enum bh_gui_dir dir, struct bh_gui_windows *w,
                               struct bh_gui_msg *m, uint8_t *buf)
{
    struct bh_gui_error err;
    uint32_t body = 0;
    size_t hdr = sizeof(struct bh_gui_hdr);

    if (bh_vchan_recv(v, buf, hdr) != (ssize_t)hdr)
        return -1;
    if (bh_gui_frame_check(buf, dir, &body, &err) != BH_GUI_OK) {
        fprintf(stderr, "bad frame: %s\n", err.reason);
        return -1;
    }
    if (body && bh_vchan_recv(v, buf + hdr, body) != (ssize_t)body)
        return -1;
    if (bh_gui_decode(buf, hdr + body, dir, w, m, &err) <= 0) {
        fprintf(stderr, "bad %s: %s\n", bh_gui_type_name(m->type), err.reason);
        return -1;
    }
    bh_gui_windows_apply(w, m);
    return 0;
}

#endif
