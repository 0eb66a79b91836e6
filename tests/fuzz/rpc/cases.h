/* cases.h — named RPC inputs, valid and hostile, each with the outcome the
 * decoder must give. One table feeds three consumers: the seed corpus
 * generator (gen-corpus.c), the unit tests (which check code and reason)
 * and, through the committed corpus files, the fuzzer.
 *
 * Must never: hold an input whose expected outcome is not asserted by a test. */
#ifndef BH_FUZZ_RPC_CASES_H
#define BH_FUZZ_RPC_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "bulkhead/rpc.h"

/* The largest input: two full windows of stdout, or 33 EXECs. */
#define BH_RPC_CASE_MAX (320u * 1024u)

struct bh_rpc_case_buf {
    size_t len;
    uint8_t data[BH_RPC_CASE_MAX];
};

struct bh_rpc_case {
    const char *name; /* corpus file: "valid-NAME" or "invalid-NAME" */
    void (*build)(struct bh_rpc_case_buf *b);
    enum bh_rpc_err code; /* BH_RPC_OK: the whole input decodes */
    const char *reason;   /* for rejections: a substring of the reason */
};

extern const struct bh_rpc_case bh_rpc_cases[];
extern const size_t bh_rpc_n_cases;

#endif
