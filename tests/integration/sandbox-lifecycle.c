/* sandbox-lifecycle.c — real sandbox qubes through the backend interface:
 * start, run, clean and forced shutdown, kill, pause/unpause with each
 * freezer (cgroup v1, v2, signals), a crash seen as Crashed with its signal,
 * GUI-agent readiness, memory and pids limits.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube work = {.name = "work", .qid = 3, .template_name = "tpl", .root_template = "tpl"};

static void start_work(BhHarness *h)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_harness_create(h, &tpl, &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_start(h, &work, &error));
    g_assert_no_error(error);
    g_assert_cmpint(bh_harness_state(h, "work"), ==, BH_POWER_RUNNING);
}

static void test_start_run_shutdown(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    if (!bh_harness_setup(&h))
        return;
    start_work(&h);
    g_assert_cmpint(bh_backend_get_state(h.backend, "work"), ==, BH_POWER_RUNNING);

    g_assert_cmpint(bh_harness_run(&h, "work", "echo hello; id -u; id -un; hostname; echo $HOME; pwd", &out),
                    ==, 0);
    g_assert_cmpstr(out, ==, "hello\n1000\nuser\nwork\n/home/user\n/home/user\n");
    g_clear_pointer(&out, g_free);
    /* The init is pid 1 and the guest programs are on PATH. */
    g_assert_cmpint(
        bh_harness_run(&h, "work",
                       "tr \"\\\\0\" \" \" </proc/1/cmdline; echo; command -v bulkhead-sandbox-init", &out),
        ==, 0);
    g_assert_cmpstr(out, ==,
                    "/run/bulkhead/bin/bulkhead-sandbox-init \n/run/bulkhead/bin/bulkhead-sandbox-init\n");
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(bh_harness_run(&h, "work", "exit 7", NULL), ==, 7);

    g_assert_true(bh_harness_shutdown(&h, "work", 10, &error));
    g_assert_no_error(error);
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_HALTED);
    g_assert_null(bh_harness_reason(&h, "work", BH_POWER_HALTED));
    g_assert_cmpint(bh_backend_get_state(h.backend, "work"), ==, BH_POWER_HALTED);
    /* A halted qube runs nothing. */
    g_assert_cmpint(bh_harness_run(&h, "work", "true", NULL), ==, -1);
    bh_harness_teardown(&h);
}

static void test_forced_shutdown(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    start_work(&h);
    /* A process that ignores SIGTERM holds the qube up until the timeout. */
    g_assert_cmpint(
        bh_harness_run(&h, "work", "(trap '' TERM; exec sleep 600) >/dev/null 2>&1 & sleep 0.2", NULL), ==,
        0);
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(bh_harness_shutdown(&h, "work", 1, &error));
    gint64 took = g_get_monotonic_time() - t0;
    g_assert_no_error(error);
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_HALTED);
    g_assert_cmpint(took, >=, G_USEC_PER_SEC);
    g_assert_cmpint(took, <, 20 * G_USEC_PER_SEC);
    bh_harness_teardown(&h);
}

static void test_kill(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    start_work(&h);
    pid_t init = bh_sandbox_init_pid(h.backend, "work");
    g_assert_cmpint(init, >, 1);
    g_assert_true(bh_backend_kill(h.backend, "work", &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_wait_state(&h, "work", BH_POWER_HALTED, 10000));
    g_assert_cmpint(kill(init, 0), ==, -1);
    bh_harness_teardown(&h);
}

static void test_crash(void)
{
    BhHarness h;
    if (!bh_harness_setup(&h))
        return;
    start_work(&h);
    /* Something outside kills the qube's init: nobody asked, so: Crashed. */
    kill(bh_sandbox_init_pid(h.backend, "work"), SIGKILL);
    g_assert_true(bh_harness_wait_state(&h, "work", BH_POWER_CRASHED, 10000));
    const char *reason = bh_harness_reason(&h, "work", BH_POWER_CRASHED);
    g_assert_nonnull(reason);
    g_assert_nonnull(strstr(reason, "signal 9"));
    /* It can start again. */
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    bh_harness_teardown(&h);
}

static char *read_tick(BhHarness *h)
{
    g_autofree char *path = bh_harness_private_path(h, "work", "tick");
    char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    return text;
}

/* mode: "v1", "v2" or "none" (signals). */
static void pause_with(gconstpointer data)
{
    const char *mode = data;
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_setenv("BH_SANDBOX_CGROUP", mode, TRUE);
    if (!bh_harness_setup(&h)) {
        g_unsetenv("BH_SANDBOX_CGROUP");
        return;
    }
    g_unsetenv("BH_SANDBOX_CGROUP");
    g_autofree char *what = bh_sandbox_describe(h.backend);
    g_test_message("backend: %s", what);
    if (!g_str_equal(mode, "none") &&
        strstr(what, g_str_equal(mode, "v1") ? "freezer: cgroup v1" : "freezer: cgroup v2") == NULL) {
        g_test_skip("this machine has no such freezer");
        bh_harness_teardown(&h);
        return;
    }
    start_work(&h);
    g_assert_cmpint(
        bh_harness_run(&h, "work",
                       "nohup sh -c 'n=0; while :; do n=$((n+1)); echo $n > ~/tick; sleep 0.02; done' "
                       ">/dev/null 2>&1 &",
                       NULL),
        ==, 0);
    g_autofree char *first = NULL;
    for (int i = 0; i < 500 && first == NULL; i++) {
        bh_harness_spin(10);
        first = read_tick(&h);
    }
    g_assert_nonnull(first);
    g_assert_true(bh_backend_pause(h.backend, "work", &error));
    g_assert_no_error(error);
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_PAUSED);
    const char *freezer = bh_sandbox_cgroup_dir(h.backend, "work", "freezer");
    if (g_str_equal(mode, "v1")) {
        g_autofree char *path = g_build_filename(freezer, "freezer.state", NULL);
        g_autofree char *state = NULL;
        g_assert_true(g_file_get_contents(path, &state, NULL, NULL));
        g_assert_cmpstr(g_strstrip(state), ==, "FROZEN");
    } else if (g_str_equal(mode, "v2")) {
        g_autofree char *path = g_build_filename(freezer, "cgroup.events", NULL);
        g_autofree char *events = NULL;
        g_assert_true(g_file_get_contents(path, &events, NULL, NULL));
        g_assert_nonnull(strstr(events, "frozen 1"));
    } else {
        g_assert_null(freezer);
    }
    bh_harness_spin(100);
    g_autofree char *a = read_tick(&h);
    bh_harness_spin(400);
    g_autofree char *b = read_tick(&h);
    g_assert_nonnull(a);
    g_assert_cmpstr(a, ==, b);
    g_assert_true(bh_backend_unpause(h.backend, "work", &error));
    g_assert_no_error(error);
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_RUNNING);
    /* Running again: the counter moves (allow for a loaded machine). */
    g_autofree char *c = NULL;
    for (int i = 0; i < 500; i++) {
        bh_harness_spin(10);
        g_free(c);
        c = read_tick(&h);
        if (g_strcmp0(b, c) != 0)
            break;
    }
    g_assert_cmpstr(b, !=, c);
    /* A paused qube shuts down too (resumed first). */
    g_assert_true(bh_backend_pause(h.backend, "work", &error));
    g_assert_true(bh_harness_shutdown(&h, "work", 5, &error));
    g_assert_no_error(error);
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_HALTED);
    bh_harness_teardown(&h);
}

static void test_guest_services(void)
{
    BhHarness h;
    g_autofree char *out = NULL;
    if (!bh_harness_setup(&h))
        return;
    start_work(&h);
    /* The init started this build's agents; commands came through the RPC
     * agent (their parent), and the GUI agent serves its vchan port for
     * guid in the qube's own directory. */
    g_assert_cmpint(bh_harness_run(&h, "work",
                                   "for p in /proc/[0-9]*; do cat $p/comm; done 2>/dev/null | "
                                   "grep -E '^bulkhead-(agent|gui-ag)$' | sort; "
                                   "cat /proc/$PPID/comm",
                                   &out),
                    ==, 0);
    g_assert_cmpstr(out, ==, "bulkhead-agent\nbulkhead-gui-ag\nbulkhead-agent\n");
    g_autofree char *gui = g_build_filename(h.runtime, "bulkhead", "vchan", "3", "3-0-6000.sock", NULL);
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!g_file_test(gui, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < end)
        bh_harness_spin(20);
    g_assert_true(g_file_test(gui, G_FILE_TEST_EXISTS));
    bh_harness_teardown(&h);
}

/* Without an RPC agent in the installation a qube still starts (its init's
 * word is enough), but bulkheadd never enters it to run a command itself. */
static void test_without_agent(void)
{
    BhHarness h;
    g_setenv("BH_AGENT_PATH", "/nonexistent/bulkhead-agent", TRUE);
    gboolean ok = bh_harness_setup(&h);
    g_unsetenv("BH_AGENT_PATH");
    if (!ok)
        return;
    start_work(&h);
    g_assert_cmpint(bh_harness_run(&h, "work", "echo entered", NULL), ==, -1);
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_RUNNING);
    bh_harness_teardown(&h);
}

/* A qube that kills its own agent is suspect: the next command is refused
 * rather than run by dom0 some other way (the control: the same command ran
 * while the agent lived), and the qube itself runs on. */
static void test_agent_killed(void)
{
    BhHarness h;
    g_autofree char *out = NULL;
    if (!bh_harness_setup(&h))
        return;
    start_work(&h);
    g_assert_cmpint(bh_harness_run(&h, "work", "echo entered", &out), ==, 0);
    g_assert_cmpstr(out, ==, "entered\n");
    /* Not waited for: the agent that runs it is what dies. */
    BhAgentRun run = {.commandline = "sleep 0.3; kill -9 $PPID",
                      .stdin_fd = -1,
                      .stdout_fd = -1,
                      .stderr_fd = -1,
                      .wait = FALSE};
    bh_agent_set_run_async(h.agents, "work", &run, NULL, NULL, NULL);
    bh_harness_spin(1500);
    g_assert_cmpint(bh_harness_run(&h, "work", "echo entered", NULL), ==, -1);
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_RUNNING);
    bh_harness_teardown(&h);
}

static void test_limits(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    if (!bh_harness_setup(&h))
        return;
    const char *mem = NULL;
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    BhTestQube small = work;
    small.memory_mib = 100;
    small.maxmem_mib = 128;
    g_assert_true(bh_harness_start(&h, &small, &error));
    g_assert_no_error(error);
    mem = bh_sandbox_cgroup_dir(h.backend, "work", "memory");
    const char *pids = bh_sandbox_cgroup_dir(h.backend, "work", "pids");
    if (mem == NULL || pids == NULL) {
        g_test_skip("no memory or pids cgroup here");
        bh_harness_teardown(&h);
        return;
    }
    g_autofree char *limit_file = g_build_filename(mem, "memory.max", NULL);
    if (access(limit_file, F_OK) < 0) {
        g_free(limit_file);
        limit_file = g_build_filename(mem, "memory.limit_in_bytes", NULL);
    }
    g_autofree char *limit = NULL;
    g_assert_true(g_file_get_contents(limit_file, &limit, NULL, NULL));
    g_assert_cmpstr(g_strstrip(limit), ==, "134217728");
    /* Read back from the qube's own group: no swap past maxmem (v2: none;
     * v1 bounds memory plus swap, so the same number), where the kernel has
     * swap accounting. */
    g_autofree char *swap_file = g_build_filename(mem, "memory.swap.max", NULL);
    const char *no_swap = "0";
    if (access(swap_file, F_OK) < 0) {
        g_free(swap_file);
        swap_file = g_build_filename(mem, "memory.memsw.limit_in_bytes", NULL);
        no_swap = "134217728";
    }
    g_autofree char *swap = NULL;
    if (g_file_get_contents(swap_file, &swap, NULL, NULL))
        g_assert_cmpstr(g_strstrip(swap), ==, no_swap);
    else
        g_test_message("no swap accounting in this kernel's memory cgroup (%s)", swap_file);
    g_autofree char *pids_file = g_build_filename(pids, "pids.max", NULL);
    g_autofree char *pmax = NULL;
    g_assert_true(g_file_get_contents(pids_file, &pmax, NULL, NULL));
    g_assert_cmpstr(g_strstrip(pmax), ==, "400");
    /* Proven from inside: more memory than the limit gets the allocator
     * killed, and the qube survives it. */
    int status = bh_harness_run(&h, "work", "python3 -c 'b = bytearray(400 << 20); print(len(b))'", &out);
    g_assert_cmpint(status, ==, 128 + SIGKILL);
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(bh_harness_run(&h, "work", "echo alive", &out), ==, 0);
    g_assert_cmpstr(out, ==, "alive\n");
    g_clear_pointer(&out, g_free);
    /* More processes than pids.max cannot be made: the 400th-odd spawn
     * fails with EAGAIN. */
    status = bh_harness_run(&h, "work",
                            "python3 -c 'import os\n"
                            "n = 0\n"
                            "try:\n"
                            "  while n < 1000:\n"
                            "    os.posix_spawn(\"/bin/sleep\", [\"sleep\", \"5\"], os.environ); n += 1\n"
                            "except OSError as e: print(n, e.errno)\n"
                            "else: print(n, 0)'",
                            &out);
    g_assert_cmpint(status, ==, 0);
    g_auto(GStrv) words = g_strsplit(out, " ", 2);
    guint64 n = g_ascii_strtoull(words[0], NULL, 10);
    g_assert_cmpuint(n, <, 400);
    g_assert_cmpuint(n, >, 300);
    g_assert_cmpstr(words[1], ==, "11\n");
    bh_harness_teardown(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/lifecycle/start-run-shutdown", test_start_run_shutdown);
    g_test_add_func("/sandbox/lifecycle/forced-shutdown", test_forced_shutdown);
    g_test_add_func("/sandbox/lifecycle/kill", test_kill);
    g_test_add_func("/sandbox/lifecycle/crash", test_crash);
    g_test_add_data_func("/sandbox/lifecycle/pause/cgroup-v1", "v1", pause_with);
    g_test_add_data_func("/sandbox/lifecycle/pause/cgroup-v2", "v2", pause_with);
    g_test_add_data_func("/sandbox/lifecycle/pause/signals", "none", pause_with);
    g_test_add_func("/sandbox/lifecycle/guest-services", test_guest_services);
    g_test_add_func("/sandbox/lifecycle/limits", test_limits);
    g_test_add_func("/sandbox/lifecycle/without-agent", test_without_agent);
    g_test_add_func("/sandbox/lifecycle/agent-killed", test_agent_killed);
    return g_test_run();
}
