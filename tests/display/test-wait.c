/* test-wait.c — the display tests' wait (bh_wait_until) lets the waiting
 * process's own main loop work, however slow the condition is.
 *
 * Proves: while a condition that takes longer than the wait's 50 ms tick is
 * polled, a source at GTK's redraw priority (layout and paint) still runs.
 * Before this was so, test-guest-window's windows stayed black on a loaded
 * machine: each full-screen screenshot outlasted the tick, the tick was ready
 * on every iteration at the default priority, and the paint never ran. No X
 * server needed: the priorities are GLib's. */
#include <glib.h>

#include "bh-display.h"

/* GDK_PRIORITY_REDRAW (gdk/gdkevents.h), without linking GTK for it. */
#define REDRAW_PRIORITY (G_PRIORITY_HIGH_IDLE + 20)

static gboolean on_redraw(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Like a screenshot on a busy X server: slower than the tick, every time. */
static gboolean slow_cond(gpointer data)
{
    g_usleep(120 * 1000);
    return *(gboolean *)data;
}

static void test_slow_condition_lets_redraw_run(void)
{
    gboolean drawn = FALSE;
    g_idle_add_full(REDRAW_PRIORITY, on_redraw, &drawn, NULL);
    /* 3 s = 25 looks; one is enough when the redraw is not starved. */
    g_assert_true(bh_wait_until(slow_cond, &drawn, 3000));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/display/wait/slow-condition-lets-redraw-run", test_slow_condition_lets_redraw_run);
    return g_test_run();
}
