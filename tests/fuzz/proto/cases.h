/* cases.h — named GUI protocol inputs, valid and hostile, each with the
 * outcome the decoder must give. One table feeds three consumers: the seed
 * corpus generator (gen-corpus.c), the unit tests (which check code and
 * reason) and, through the committed corpus files, the fuzzer.
 *
 * Must never: hold an input whose expected outcome is not asserted by a test. */
#ifndef BH_FUZZ_PROTO_CASES_H
#define BH_FUZZ_PROTO_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "bulkhead/proto.h"

/* Inputs are small: the largest is 256 CREATEs (7.4 KiB). */
#define BH_CASE_MAX 16384u

struct bh_case_buf {
    size_t len;
    uint8_t data[BH_CASE_MAX];
};

struct bh_proto_case {
    const char *name; /* corpus file: "valid-NAME", "short-NAME" or "invalid-NAME" */
    void (*build)(struct bh_case_buf *b);
    enum bh_gui_err code; /* BH_GUI_OK: the whole input decodes; BH_GUI_E_SHORT:
                           * it decodes up to a message cut short */
    const char *reason;   /* for rejections: a substring of the reason */
};

extern const struct bh_proto_case bh_proto_cases[];
extern const size_t bh_proto_n_cases;

#endif
