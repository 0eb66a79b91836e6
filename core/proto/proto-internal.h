/* proto-internal.h — what the pieces of core/proto share and nobody else
 * may use: the per-type table (core/wire's rows: direction, window class,
 * body length rule) and table helpers the decoder needs for lookups.
 *
 * Must never: be included outside core/proto (tests may, to check the table
 * against the specification). */
#ifndef BULKHEAD_PROTO_INTERNAL_H
#define BULKHEAD_PROTO_INTERNAL_H

#include "bulkhead/proto.h"

/* The GUI protocol as core/wire frames it: ids are windows. */
extern const struct bh_wire_protocol bh_gui_wire;

/* NULL for a type this version does not know. */
const struct bh_wire_type *bh_gui_type_info(uint32_t type);

/* Whether `anc` is `id` or one of its ancestors through parent links. */
bool bh_gui_windows_has_ancestor(const struct bh_gui_windows *w, uint32_t id, uint32_t anc);

#endif /* BULKHEAD_PROTO_INTERNAL_H */
