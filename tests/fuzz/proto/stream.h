/* stream.h — drives the GUI protocol decoder over a fuzz input, shared by
 * the libFuzzer target, the corpus replay and the corpus check.
 *
 * Input format: records of one direction byte (low bit 0: from the agent,
 * decoded as guid does; 1: from dom0, decoded as the agent does) followed by
 * one message. Each direction has its own window table, as on a real
 * connection. Must never: hide a broken invariant; it aborts instead, which
 * is what the fuzzer and the replay test look for. */
#ifndef BH_FUZZ_PROTO_STREAM_H
#define BH_FUZZ_PROTO_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "bulkhead/proto.h"

enum bh_fuzz_end {
    BH_FUZZ_END_CLEAN = 0,     /* every record decoded */
    BH_FUZZ_END_SHORT = 1,     /* input ended inside a message */
    BH_FUZZ_END_VIOLATION = 2, /* the decoder rejected a message */
};

struct bh_fuzz_result {
    unsigned accepted; /* messages decoded and applied */
    enum bh_fuzz_end end;
    struct bh_gui_error err; /* the rejection, when end is VIOLATION */
};

void bh_fuzz_proto_run(const uint8_t *data, size_t size, struct bh_fuzz_result *res);

#endif
