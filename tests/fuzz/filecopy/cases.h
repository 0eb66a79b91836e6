/* cases.h — file-copy streams, valid and hostile, each with the reason the
 * receiver must give: one list for the unit test (which sends each to the
 * real receiver), the integration test (which sends them into a real qube)
 * and the fuzz corpus (written from it).
 *
 * Must never: depend on anything but libc and the codec's header. */
#ifndef BH_FC_CASES_H
#define BH_FC_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "bulkhead/filecopy.h"

struct fc_buf {
    uint8_t *p;
    size_t len, cap;
};

void fc_buf_add(struct fc_buf *b, const void *data, size_t len);
void fc_buf_magic(struct fc_buf *b);
/* One entry: header (mode, times fixed), name, then payload (data or target). */
void fc_buf_entry(struct fc_buf *b, uint32_t kind, uint32_t mode, const char *name, uint64_t size,
                  const void *payload, size_t payload_len);
void fc_buf_end(struct fc_buf *b);

struct fc_case {
    const char *name;       /* corpus file name, stream name for --stream */
    enum bh_fc_reason want; /* the status code the receiver must answer */
    const char *words;      /* a part of the reason that must be there */
    void (*build)(struct fc_buf *b);
    int corpus; /* small enough to keep in the corpus */
};

extern const struct fc_case fc_cases[];
extern const size_t fc_case_count;
const struct fc_case *fc_case_find(const char *name);

#endif
