/* rpc-internal.h — what the pieces of the RPC codec share and nobody else
 * may use: the per-type table (core/wire's rows: direction, request class,
 * body bounds).
 *
 * Must never: be included outside core/rpc/codec (tests may, to check the
 * table against the specification). */
#ifndef BULKHEAD_RPC_INTERNAL_H
#define BULKHEAD_RPC_INTERNAL_H

#include "bulkhead/rpc.h"

/* The RPC as core/wire frames it: ids are requests. */
extern const struct bh_wire_protocol bh_rpc_wire;

/* NULL for a type this version does not implement (reserved ones included). */
const struct bh_wire_type *bh_rpc_type_info(uint32_t type);

#endif /* BULKHEAD_RPC_INTERNAL_H */
