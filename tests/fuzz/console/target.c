/* target.c — libFuzzer entry point for a qube's console as bulkheadd's log
 * takes it (core/backends/sandbox-console.c). Input: the first byte chooses
 * the read size (1..256) and the time step between reads (its top bits), the
 * rest is what the qube writes. Checks, aborting on violation: every line
 * shown is printable ASCII of bounded length, no more lines are shown than
 * the burst plus the steady rate allow, and every line is either shown or
 * counted as dropped.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox-console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    uint64_t shown;
    uint64_t reported;
} Count;

static void emit(const char *line, guint64 dropped, gpointer data)
{
    Count *n = data;
    if (line == NULL) {
        if (dropped == 0)
            abort();
        n->reported += dropped;
        return;
    }
    /* Quoting at most quadruples a byte (\xNN), plus "..." for a cut line. */
    size_t len = strlen(line);
    if (len > BH_CONSOLE_LINE_MAX * 4 + 3)
        abort();
    for (size_t i = 0; i < len; i++)
        if (line[i] < 0x20 || line[i] > 0x7e)
            abort();
    n->shown++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Count n = {0, 0};
    if (size < 1 || size > (1u << 20))
        return 0;
    size_t chunk = (size_t)(data[0] & 0x3f) * 4 + 1;
    gint64 step = (gint64)(data[0] >> 6) * 100000; /* 0..0.3 s per read */
    data++;
    size--;
    uint64_t newlines = 0;
    for (size_t i = 0; i < size; i++)
        newlines += data[i] == '\n';
    BhConsole *c = bh_console_new(emit, &n);
    gint64 t = 0;
    for (size_t i = 0; i < size; i += chunk, t += step)
        bh_console_feed(c, data + i, size - i < chunk ? size - i : chunk, t);
    uint64_t dropped = bh_console_total_dropped(c);
    bh_console_finish(c, t);
    uint64_t lines = newlines + (size > 0 && data[size - 1] != '\n');
    uint64_t allowed = BH_CONSOLE_BURST_LINES + (uint64_t)(t / G_USEC_PER_SEC + 1) * BH_CONSOLE_LINES_PER_S;
    if (n.shown > allowed || n.shown + bh_console_total_dropped(c) != lines ||
        n.reported != bh_console_total_dropped(c) || dropped > bh_console_total_dropped(c))
        abort();
    bh_console_free(c);
    return 0;
}
