/* test-guid-set.c — bulkheadd's guid supervision (core/daemon/bh-guid-set.c)
 * with the real bulkhead-guid on a private Xvfb: a qube whose agent breaks
 * the protocol is reported with guid's reason (what the daemon turns into
 * GuiFailed and ListQubes' gui_error); an agent that simply leaves is not an
 * error; a guid the daemon stops is never reported.
 * Usage (meson): with-xvfb.sh test-guid-set --guid PATH --agent PATH */
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "bh-guid-set.h"

static char *opt_guid, *opt_agent;

typedef struct {
    GMainLoop *loop;
    int calls;
    char *qube;
    int status;
    char *reason;
} Ended;

static void on_ended(const char *qube, int status, const char *reason, gpointer user_data)
{
    Ended *e = user_data;
    e->calls++;
    g_free(e->qube);
    g_free(e->reason);
    e->qube = g_strdup(qube);
    e->status = status;
    e->reason = g_strdup(reason);
    g_main_loop_quit(e->loop);
}

static gboolean on_timeout(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

/* Runs the main loop until the callback fired or timeout_s passed. */
static void run_until_ended(Ended *e, guint timeout_s)
{
    guint id = g_timeout_add_seconds(timeout_s, on_timeout, e->loop);
    int before = e->calls;
    g_main_loop_run(e->loop);
    if (e->calls != before)
        g_source_remove(id);
}

static GSubprocess *spawn_agent(guint domid, const char *scenario)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autofree char *dom = g_strdup_printf("%u", domid);
    g_subprocess_launcher_setenv(l, "BH_VCHAN_DOMID", dom, TRUE);
    g_autoptr(GError) error = NULL;
    GSubprocess *p = g_subprocess_launcher_spawn(l, &error, opt_agent, "--scenario", scenario, NULL);
    g_assert_no_error(error);
    return p;
}

static void test_violation_reported(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GSubprocess) agent = spawn_agent(41, "unsealed-buffer");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_set_start(set, "evil", "red", 41, 0, FALSE, &error));
    g_assert_no_error(error);
    g_assert_true(bh_guid_set_is_running(set, "evil"));
    run_until_ended(&e, 60);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_cmpstr(e.qube, ==, "evil");
    g_assert_cmpint(e.status, ==, 2);
    /* The reason is guid's own last line: it names the qube and the fault. */
    g_assert_nonnull(strstr(e.reason, "evil"));
    g_assert_nonnull(strstr(e.reason, "violated the protocol"));
    g_assert_nonnull(strstr(e.reason, "seal"));
    g_assert_false(bh_guid_set_is_running(set, "evil"));
    bh_guid_set_free(set);
    g_subprocess_force_exit(agent);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

static void test_agent_leaving_is_clean(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GSubprocess) agent = spawn_agent(42, "disconnect");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_set_start(set, "calm", "green", 42, 0, FALSE, &error));
    run_until_ended(&e, 60);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_cmpint(e.status, ==, 0);
    bh_guid_set_free(set);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

static void test_stop_is_silent(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GError) error = NULL;
    /* No agent at domain 43: guid waits for one until we stop it. */
    g_assert_true(bh_guid_set_start(set, "idle", "blue", 43, 0, FALSE, &error));
    g_assert_true(bh_guid_set_is_running(set, "idle"));
    bh_guid_set_stop(set, "idle");
    g_assert_false(bh_guid_set_is_running(set, "idle"));
    /* A replaced guid's end must not be reported as its successor's either. */
    g_assert_true(bh_guid_set_start(set, "idle", "blue", 43, 0, FALSE, &error));
    g_assert_true(bh_guid_set_start(set, "idle", "blue", 43, 0, FALSE, &error));
    run_until_ended(&e, 3);
    g_assert_cmpint(e.calls, ==, 0);
    g_assert_true(bh_guid_set_is_running(set, "idle"));
    bh_guid_set_free(set);
    g_main_loop_unref(e.loop);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    const GOptionEntry entries[] = {
        {"guid", 0, 0, G_OPTION_ARG_FILENAME, &opt_guid, "bulkhead-guid", "PATH"},
        {"agent", 0, 0, G_OPTION_ARG_FILENAME, &opt_agent, "bh-fake-agent", "PATH"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_ignore_unknown_options(ctx, TRUE);
    if (!g_option_context_parse(ctx, &argc, &argv, NULL) || !opt_guid || !opt_agent)
        g_error("usage: test-guid-set --guid PATH --agent PATH");

    /* Private vchan directory, and the guid under test rather than any other. */
    g_autofree char *dir = g_dir_make_tmp("bh-guid-set-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_chmod(dir, 0700);
    g_setenv("BH_VCHAN_DIR", dir, TRUE);
    g_setenv("BH_GUID_PATH", opt_guid, TRUE);

    g_test_add_func("/guid-set/violation-reported", test_violation_reported);
    g_test_add_func("/guid-set/agent-leaving-is-clean", test_agent_leaving_is_clean);
    g_test_add_func("/guid-set/stop-is-silent", test_stop_is_silent);
    int rc = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    (void)!system(cmd);
    return rc;
}
