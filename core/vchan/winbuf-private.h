/* winbuf-private.h — the seam between winbuf.c (memfd buffers, release of
 * every kind) and winbuf-xen.c (grant buffers).
 *
 * Owns: the internal release hook for grant buffers.
 * Must never: be included outside core/vchan. */
#ifndef BH_WINBUF_PRIVATE_H
#define BH_WINBUF_PRIVATE_H

#include "bulkhead/winbuf.h"

/* Empty: kind 0, fd -1, everything else zero. */
void bh_winbuf_clear(struct bh_winbuf *b);

/* NULL when size is a possible buffer size (1..BH_MAX_BUFFER_BYTES), else
 * the reason, with errno set to EINVAL. */
const char *bh_winbuf_size_problem(size_t size);

/* Clears b and checks size: 0 when an export may go ahead, else -1 with
 * errno EINVAL. */
int bh_winbuf_export_begin(struct bh_winbuf *b, size_t size);

/* Unshares/unmaps a grant buffer and frees its refs and handle; the caller
 * clears the struct. */
void bh_winbuf_grant_release(struct bh_winbuf *b);

#endif /* BH_WINBUF_PRIVATE_H */
