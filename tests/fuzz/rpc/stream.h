/* stream.h — drives the RPC decoder over a fuzz input, shared by the
 * libFuzzer target, the corpus replay, the corpus check and the unit tests.
 *
 * Input format: records of one direction byte (low bit 0: from the agent,
 * decoded as dom0 does; 1: from dom0, decoded as the agent does) followed by
 * one message. Both ends' request tables are kept, as on a real connection
 * where every message arrives at once: what one end accepts is applied to
 * its table as received and to the other's as sent, so the two must stay
 * equal. Must never: hide a broken invariant; it aborts instead, which is
 * what the fuzzer and the replay test look for. */
#ifndef BH_FUZZ_RPC_STREAM_H
#define BH_FUZZ_RPC_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "bulkhead/rpc.h"

enum bh_fuzz_rpc_end {
    BH_FUZZ_RPC_CLEAN = 0,     /* every record decoded */
    BH_FUZZ_RPC_SHORT = 1,     /* input ended inside a message */
    BH_FUZZ_RPC_VIOLATION = 2, /* the decoder rejected a message */
};

struct bh_fuzz_rpc_result {
    unsigned accepted; /* messages decoded (stale ones included) */
    unsigned stale;    /* dom0 messages for requests already gone */
    enum bh_fuzz_rpc_end end;
    struct bh_rpc_error err; /* the rejection, when end is VIOLATION */
};

void bh_fuzz_rpc_run(const uint8_t *data, size_t size, struct bh_fuzz_rpc_result *res);

#endif
