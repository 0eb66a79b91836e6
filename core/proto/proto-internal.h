/* proto-internal.h — what the pieces of core/proto share and nobody else
 * may use: the per-type table (direction, window class, body length rule)
 * and table helpers the decoder needs for lookups.
 *
 * Must never: be included outside core/proto (tests may, to check the table
 * against the specification). */
#ifndef BULKHEAD_PROTO_INTERNAL_H
#define BULKHEAD_PROTO_INTERNAL_H

#include "bulkhead/proto.h"

struct bh_gui_type_info {
    uint32_t type;
    const char *name;
    unsigned dirs;      /* mask of enum bh_gui_dir values allowed to send it */
    bool conn;          /* connection-wide: window must be 0; else 1..BH_MAX_WINDOW_ID */
    uint32_t min_len;   /* body length: min_len + k * unit <= max_len */
    uint32_t max_len;
    uint32_t unit;      /* 0 = exact length (min_len == max_len) */
};

/* NULL for a type this version does not know. */
const struct bh_gui_type_info *bh_gui_type_info(uint32_t type);

/* Whether len is an allowed body length for the type. */
bool bh_gui_type_len_ok(const struct bh_gui_type_info *ti, uint64_t len);

/* Whether `anc` is `id` or one of its ancestors through parent links. */
bool bh_gui_windows_has_ancestor(const struct bh_gui_windows *w, uint32_t id, uint32_t anc);

#endif /* BULKHEAD_PROTO_INTERNAL_H */
