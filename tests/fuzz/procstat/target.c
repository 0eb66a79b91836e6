/* target.c — libFuzzer entry point for the /proc/PID/stat line of a qube's
 * process as dom0 reads its CPU times (core/backends/sandbox-procstat.c).
 * Input: the line. Checks, aborting on violation: no read beyond the input
 * (ASan), a line over the bound is refused, a sum that is reported is the sum
 * of four numbers below 2^48, and a line the qube's name cannot change the
 * verdict on — the same fields after a different name give the same answer.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox-procstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    guint64 ticks = 0, again = 0;
    /* A copy of exactly size bytes: ASan sees any read past it. */
    char *line = g_malloc(size ? size : 1);
    memcpy(line, data, size);
    gboolean ok = bh_procstat_cpu_ticks(line, size, &ticks);

    if (size > BH_PROCSTAT_MAX && ok)
        abort();
    if (ok && ticks >= 4 * (G_GUINT64_CONSTANT(1) << 48))
        abort();
    /* Put another name in front: "9 (" + the input. The verdict depends only
     * on what follows the last ')', so it must not change. */
    if (size + 3 <= BH_PROCSTAT_MAX) {
        char *other = g_malloc(size + 3);
        memcpy(other, "9 (", 3);
        memcpy(other + 3, line, size);
        gboolean ok2 = bh_procstat_cpu_ticks(other, size + 3, &again);
        if (memchr(line, ')', size) != NULL && (ok2 != ok || (ok && again != ticks)))
            abort();
        g_free(other);
    }
    g_free(line);
    return 0;
}
