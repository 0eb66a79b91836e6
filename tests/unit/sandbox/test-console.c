/* test-console.c — what bulkheadd's log takes from a qube's console
 * (core/backends/sandbox-console.c): a flood is cut to the burst plus the
 * steady rate and the drop is reported with its count; lines are bounded and
 * quoted; a line split across reads is one line. */
#include <string.h>

#include "sandbox-console.h"

typedef struct {
    GPtrArray *lines; /* shown lines, and "DROPPED n" for reports */
} Log;

static void emit(const char *line, guint64 dropped, gpointer data)
{
    Log *log = data;
    if (line)
        g_ptr_array_add(log->lines, g_strdup(line));
    else
        g_ptr_array_add(log->lines, g_strdup_printf("DROPPED %" G_GUINT64_FORMAT, dropped));
}

static void test_flood(void)
{
    Log log = {g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(BhConsole) c = bh_console_new(emit, &log);
    gint64 t = 1000000;
    /* 200 000 lines at once, as `yes | head` into the init's stderr. */
    for (int i = 0; i < 200000; i++) {
        char line[32];
        int n = g_snprintf(line, sizeof line, "flood %06d\n", i);
        bh_console_feed(c, (const guint8 *)line, (gsize)n, t);
    }
    g_assert_cmpuint(log.lines->len, ==, BH_CONSOLE_BURST_LINES);
    g_assert_cmpstr(log.lines->pdata[0], ==, "flood 000000");
    g_assert_cmpuint(bh_console_total_dropped(c), ==, 200000 - BH_CONSOLE_BURST_LINES);
    /* One second later the steady rate lets a few through, the first after
     * the report of what was dropped. */
    t += G_USEC_PER_SEC;
    for (int i = 0; i < 100; i++)
        bh_console_feed(c, (const guint8 *)"later\n", 6, t);
    g_assert_cmpuint(log.lines->len, ==, BH_CONSOLE_BURST_LINES + 1 + BH_CONSOLE_LINES_PER_S);
    g_assert_cmpstr(log.lines->pdata[BH_CONSOLE_BURST_LINES], ==, "DROPPED 199800");
    g_assert_cmpstr(log.lines->pdata[BH_CONSOLE_BURST_LINES + 1], ==, "later");
    bh_console_finish(c, t);
    g_assert_cmpstr(log.lines->pdata[log.lines->len - 1], ==, "DROPPED 90");
    g_ptr_array_unref(log.lines);
}

/* Long lines cost their bytes: the byte bucket stops them first. */
static void test_bytes(void)
{
    Log log = {g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(BhConsole) c = bh_console_new(emit, &log);
    char line[BH_CONSOLE_LINE_MAX + 1];
    memset(line, 'x', BH_CONSOLE_LINE_MAX);
    line[BH_CONSOLE_LINE_MAX] = '\n';
    for (int i = 0; i < 1000; i++)
        bh_console_feed(c, (const guint8 *)line, sizeof line, 5);
    g_assert_cmpuint(log.lines->len, ==, BH_CONSOLE_BURST_BYTES / BH_CONSOLE_LINE_MAX);
    g_ptr_array_unref(log.lines);
}

static void test_bounded_and_quoted(void)
{
    Log log = {g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(BhConsole) c = bh_console_new(emit, &log);
    /* A megabyte without a newline: one line of the maximum, marked cut. */
    g_autofree guint8 *big = g_malloc(1 << 20);
    memset(big, 'a', 1 << 20);
    for (int i = 0; i < 4; i++)
        bh_console_feed(c, big, 1 << 18, 0);
    bh_console_feed(c, (const guint8 *)"\n", 1, 0);
    g_assert_cmpuint(log.lines->len, ==, 1);
    g_assert_cmpuint(strlen(log.lines->pdata[0]), ==, BH_CONSOLE_LINE_MAX + 3);
    g_assert_true(g_str_has_suffix(log.lines->pdata[0], "aaa..."));
    /* Escapes, a CR that would rewrite the log line, a NUL, a split line. */
    const char *parts[] = {"\033]0;owned\007 \r[dom0]", "\0x", "y\n"};
    const gsize lens[] = {18, 2, 2};
    for (int i = 0; i < 3; i++)
        bh_console_feed(c, (const guint8 *)parts[i], lens[i], 0);
    g_assert_cmpstr(log.lines->pdata[1], ==, "\\x1b]0;owned\\x07 \\x0d[dom0]\\x00xy");
    /* A last line without a newline is shown at the end. */
    bh_console_feed(c, (const guint8 *)"tail", 4, 0);
    bh_console_finish(c, 0);
    g_assert_cmpuint(log.lines->len, ==, 3);
    g_assert_cmpstr(log.lines->pdata[2], ==, "tail");
    g_ptr_array_unref(log.lines);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/console/flood", test_flood);
    g_test_add_func("/sandbox/console/bytes", test_bytes);
    g_test_add_func("/sandbox/console/bounded-and-quoted", test_bounded_and_quoted);
    return g_test_run();
}
