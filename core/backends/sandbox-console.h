/* sandbox-console.h — what bulkheadd's log takes from a qube's console.
 *
 * Owns the reading side of a qube's console (the stdout/stderr of bubblewrap,
 * the init and the agents, which anything in the qube can write to): bytes in,
 * bounded log lines out. Lines are cut at BH_CONSOLE_LINE_MAX bytes (the rest
 * of a longer line is skipped), quoted with bh_qubes_quote_len (no control
 * character or escape reaches the log), and rate-limited per qube by two token
 * buckets, lines and bytes: a burst, then a steady rate. What the buckets
 * refuse is counted, and the count is reported as its own line ("dropped N
 * lines") before the next line shown, by bh_console_flush, and at the end.
 *
 * Pure: time is passed in, output goes to a callback. It must never block,
 * allocate per byte, or hold more than one line of a qube's bytes.
 */
#pragma once

#include <glib.h>

/* Bytes of a line that are shown; the rest of a longer line is skipped. */
#define BH_CONSOLE_LINE_MAX 400
/* What one qube may put in the log: a burst, then a steady rate. */
#define BH_CONSOLE_BURST_LINES 200
#define BH_CONSOLE_LINES_PER_S 10
#define BH_CONSOLE_BURST_BYTES (32 * 1024)
#define BH_CONSOLE_BYTES_PER_S 2048

typedef struct BhConsole BhConsole;

/* line: quoted, printable ASCII, NUL-terminated; NULL for a drop report, then
 * dropped is the number of lines not shown since the previous report. */
typedef void (*BhConsoleEmit)(const char *line, guint64 dropped, gpointer user_data);

BhConsole *bh_console_new(BhConsoleEmit emit, gpointer user_data);
void bh_console_free(BhConsole *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhConsole, bh_console_free)

/* now: a monotonic time in microseconds (g_get_monotonic_time()). */
void bh_console_feed(BhConsole *c, const guint8 *data, gsize n, gint64 now);
/* Reports lines dropped so far, if any (a timer calls it after a flood). */
void bh_console_flush(BhConsole *c);
/* TRUE while dropped lines wait to be reported. */
gboolean bh_console_has_dropped(const BhConsole *c);
/* End of the console: a last line without a newline, then the report. */
void bh_console_finish(BhConsole *c, gint64 now);
/* Lines refused so far, in total (tests). */
guint64 bh_console_total_dropped(const BhConsole *c);
