/* test-procstat.c — the CPU times dom0 reads from a qube process's
 * /proc/PID/stat line (core/backends/sandbox-procstat.c), whose name field
 * the qube writes: names with ')', spaces and digits that imitate fields,
 * cut lines, numbers too long. Must never: read /proc itself. */
#include <string.h>

#include "sandbox-procstat.h"

static void test_parse(void)
{
    static const struct {
        const char *line;
        gboolean ok;
        guint64 ticks;
    } cases[] = {
        {"1234 (bash) S 1 1234 1234 0 -1 4194560 1 0 0 0 7 3 2 1 20 0 1 0 100 1 1\n", TRUE, 13},
        /* The qube names itself to look like fields: only the last ')' counts. */
        {"1234 (x) S 1 2 3 4 5 6 7 8 9 9 9 9) S 1 1 1 0 -1 0 0 0 0 0 1 1 1 1 20 0\n", TRUE, 4},
        {"1234 (a b) c) R 1 1 1 0 -1 0 0 0 0 0 100 200 0 0 20\n", TRUE, 300},
        {"1234 ()) S 1 1 1 0 -1 0 0 0 0 0 5 0 0 0 20\n", TRUE, 5},
        /* A line the kernel never writes, or one a qube tried to shape. */
        {"1234 (bash S 1 1 1 0 -1 0 0 0 0 0 5 0 0 0\n", FALSE, 0},
        {"1234 (bash) S 1 1 1 0 -1 0 0 0 0 0 5 0 0", FALSE, 0},
        {"1234 (bash) S 1 1 1 0 -1 0 0 0 0 0 -5 0 0 0\n", FALSE, 0},
        {"1234 (bash) S 1 1 1 0 -1 0 0 0 0 0 5x 0 0 0\n", FALSE, 0},
        {"1234 (bash) S 1 1 1 0 -1 0 0 0 0 0 99999999999999999999 0 0 0\n", FALSE, 0},
        {"1234 (bash)  S 1 1 1 0 -1 0 0 0 0 0 5 0 0 0\n", FALSE, 0},
        {"", FALSE, 0},
        {")", FALSE, 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint64 ticks = 0;
        gboolean ok = bh_procstat_cpu_ticks(cases[i].line, strlen(cases[i].line), &ticks);
        g_assert_cmpint(ok, ==, cases[i].ok);
        if (ok)
            g_assert_cmpuint(ticks, ==, cases[i].ticks);
    }
}

/* The length is the bound, not a NUL: a line cut inside a field stops there. */
static void test_bounds(void)
{
    const char *line = "1 (a) S 1 1 1 0 -1 0 0 0 0 0 5 6 7 8 20\n";
    g_autofree char *huge = g_strnfill(BH_PROCSTAT_MAX + 1, ')');
    guint64 ticks = 0;

    g_assert_true(bh_procstat_cpu_ticks(line, strlen(line), &ticks));
    g_assert_cmpuint(ticks, ==, 26);
    g_assert_false(bh_procstat_cpu_ticks(line, strlen(line) - 8, &ticks));
    g_assert_false(bh_procstat_cpu_ticks(huge, strlen(huge), &ticks));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/procstat/parse", test_parse);
    g_test_add_func("/sandbox/procstat/bounds", test_bounds);
    return g_test_run();
}
