/* rpc-internal.h — what the pieces of the RPC codec share and nobody else
 * may use: the per-type table (direction, request class, body bounds).
 *
 * Must never: be included outside core/rpc/codec (tests may, to check the
 * table against the specification). */
#ifndef BULKHEAD_RPC_INTERNAL_H
#define BULKHEAD_RPC_INTERNAL_H

#include "bulkhead/rpc.h"

struct bh_rpc_type_info {
    uint32_t type;
    const char *name;
    unsigned dirs;    /* mask of enum bh_rpc_dir values allowed to send it */
    bool conn;        /* connection-wide: request must be 0; else 1..BH_RPC_MAX_REQUEST_ID */
    uint32_t min_len; /* body length bounds, inclusive */
    uint32_t max_len;
};

/* NULL for a type this version does not implement (reserved ones included). */
const struct bh_rpc_type_info *bh_rpc_type_info(uint32_t type);

#endif /* BULKHEAD_RPC_INTERNAL_H */
