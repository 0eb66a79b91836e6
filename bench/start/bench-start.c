/* bench-start.c — what a sandbox qube costs, against plain bubblewrap.
 *
 *   bench-start [--reps N] [--qubes Q]
 *
 * 1. Start to agent ready: the backend's start (layers staged, bubblewrap,
 *    init, gui-agent, RPC agent) until the RPC agent answered, N times; and
 *    a shutdown each time. Beside it, in the same run and alternating,
 *    `bwrap --unshare-all --unshare-user ... true` from spawn to exit.
 * 2. Memory with Q qubes running: the drop in MemAvailable over Q, the sum of
 *    PSS of each qube's processes, and the memory cgroup's charge; beside it Q
 *    plain `bwrap ... sleep` sandboxes measured the same way.
 * Needs root (like bulkheadd on the sandbox backend with idmapped layers).
 * Method and results: bench/start/README.md.
 */
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-bwrap.h"
#include "sandbox-harness.h"
#include "sandbox.h"

static GPid spawn_bwrap(const char *const *cmd)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    for (const char *const *a = bwrap_base; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    for (const char *const *a = cmd; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    GPid pid = 0;
    g_autoptr(GError) error = NULL;
    if (!g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                       NULL, NULL, &pid, &error))
        g_error("cannot run bwrap: %s", error->message);
    return pid;
}

static double bwrap_true_ms(void)
{
    static const char *const cmd[] = {"/usr/bin/true", NULL};
    gint64 t0 = g_get_monotonic_time();
    GPid pid = spawn_bwrap(cmd);
    int status;
    waitpid(pid, &status, 0);
    return (g_get_monotonic_time() - t0) / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summary(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf("%-44s median %8.1f ms   min %8.1f   max %8.1f   (n=%d)\n", what, v[n / 2], v[0], v[n - 1], n);
}

static guint64 mem_available_kib(void)
{
    g_autofree char *text = NULL;
    g_file_get_contents("/proc/meminfo", &text, NULL, NULL);
    const char *p = text ? strstr(text, "MemAvailable:") : NULL;
    return p ? g_ascii_strtoull(p + 13, NULL, 10) : 0;
}

static guint64 pss_kib(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/smaps_rollup", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    const char *p = strstr(text, "\nPss:");
    return p ? g_ascii_strtoull(p + 5, NULL, 10) : 0;
}

/* PSS of every process in a cgroup directory. */
static guint64 cgroup_pss_kib(const char *dir, guint *n_procs)
{
    g_autofree char *path = g_build_filename(dir, "cgroup.procs", NULL);
    g_autofree char *text = NULL;
    guint64 sum = 0;
    *n_procs = 0;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (**l == '\0')
            continue;
        sum += pss_kib((pid_t)g_ascii_strtoull(*l, NULL, 10));
        (*n_procs)++;
    }
    return sum;
}

/* Lets the kernel finish freeing (exited sandboxes, RCU) before a reading. */
static guint64 settled_available(void)
{
    bh_harness_spin(1500);
    return mem_available_kib();
}

int main(int argc, char **argv)
{
    int reps = 11, n_qubes = 20;
    GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &reps, "Starts to time (default 11)", "N"},
        {"qubes", 0, 0, G_OPTION_ARG_INT, &n_qubes, "Qubes running for the memory figure (default 20)", "Q"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || reps < 1 || n_qubes < 1 || n_qubes > 200) {
        fprintf(stderr, "bench-start: %s\n", error ? error->message : "bad --reps or --qubes");
        return 2;
    }
    if (geteuid() != 0) {
        printf("bench-start: skipped: needs root (idmapped layers, a host uid per qube)\n");
        return 0;
    }
    g_test_init(&argc, &argv, NULL); /* the harness uses g_test_skip/messages */
    BhHarness h;
    if (!bh_harness_setup(&h))
        return 0;
    g_autofree char *what = bh_sandbox_describe(h.backend);
    printf("sandbox backend: %s\n", what);

    BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
    BhTestQube app = {.name = "app", .qid = 3, .template_name = "tpl", .root_template = "tpl"};
    if (!bh_harness_create(&h, &tpl, &error) || !bh_harness_create(&h, &app, &error))
        g_error("%s", error->message);

    /* One start first: the first touch of /usr and the agent binaries. */
    if (!bh_harness_start(&h, &app, &error) || !bh_harness_shutdown(&h, "app", 10, &error))
        g_error("%s", error->message);
    bwrap_true_ms();

    double *start = g_new(double, reps), *shut = g_new(double, reps), *plain = g_new(double, reps);
    for (int i = 0; i < reps; i++) {
        plain[i] = bwrap_true_ms();
        gint64 t0 = g_get_monotonic_time();
        if (!bh_harness_start(&h, &app, &error))
            g_error("start: %s", error->message);
        start[i] = (g_get_monotonic_time() - t0) / 1000.0;
        t0 = g_get_monotonic_time();
        if (!bh_harness_shutdown(&h, "app", 10, &error))
            g_error("shutdown: %s", error->message);
        shut[i] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    printf("\n");
    summary("sandbox qube: start to agent ready", start, reps);
    summary("sandbox qube: clean shutdown", shut, reps);
    summary("plain bwrap ... true: spawn to exit", plain, reps);

    /* Memory with n_qubes running. */
    guint64 before = settled_available();
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < n_qubes; i++) {
        char *name = g_strdup_printf("q%d", i);
        g_ptr_array_add(names, name);
        BhTestQube q = {
            .name = name, .qid = (guint32)(10 + i), .template_name = "tpl", .root_template = "tpl"};
        if (!bh_harness_start(&h, &q, &error))
            g_error("start %s: %s", name, error->message);
    }
    guint64 after = settled_available();
    guint64 pss = 0, charged = 0;
    guint procs = 0;
    for (guint i = 0; i < names->len; i++) {
        const char *dir = bh_sandbox_cgroup_dir(h.backend, names->pdata[i], "memory");
        guint n = 0;
        if (dir == NULL)
            dir = bh_sandbox_cgroup_dir(h.backend, names->pdata[i], "freezer");
        if (dir)
            pss += cgroup_pss_kib(dir, &n);
        procs += n;
        charged += bh_sandbox_memory(h.backend, names->pdata[i]) / 1024;
    }
    for (guint i = 0; i < names->len; i++)
        bh_harness_shutdown(&h, names->pdata[i], 10, NULL);
    guint64 drained = settled_available();

    static const char *const sleep_cmd[] = {"/usr/bin/sleep", "600", NULL};
    guint64 before_plain = drained;
    GPid *pids = g_new(GPid, n_qubes);
    for (int i = 0; i < n_qubes; i++)
        pids[i] = spawn_bwrap(sleep_cmd);
    guint64 after_plain = settled_available();
    guint64 plain_pss = 0;
    for (int i = 0; i < n_qubes; i++) {
        plain_pss += pss_kib(pids[i]);
        /* bwrap --as-pid-1 has exactly one child: the sleep. */
        g_autofree char *children = NULL;
        g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/children", pids[i], pids[i]);
        if (g_file_get_contents(path, &children, NULL, NULL))
            plain_pss += pss_kib((pid_t)g_ascii_strtoull(children, NULL, 10));
    }
    for (int i = 0; i < n_qubes; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }

    printf("\nmemory with %d running (per qube / per sandbox):\n", n_qubes);
    printf("%-44s %8.1f MiB\n", "sandbox qube: MemAvailable drop / N",
           before > after ? (before - after) / 1024.0 / n_qubes : 0.0);
    printf("%-44s %8.1f MiB  (%.1f processes each)\n", "sandbox qube: PSS of its processes",
           pss / 1024.0 / n_qubes, (double)procs / n_qubes);
    printf("%-44s %8.1f MiB\n", "sandbox qube: memory cgroup charge", charged / 1024.0 / n_qubes);
    printf("%-44s %8.1f MiB\n", "plain bwrap ... sleep: MemAvailable drop / N",
           before_plain > after_plain ? (before_plain - after_plain) / 1024.0 / n_qubes : 0.0);
    printf("%-44s %8.1f MiB\n", "plain bwrap ... sleep: PSS (bwrap + sleep)", plain_pss / 1024.0 / n_qubes);

    g_free(pids);
    g_free(start);
    g_free(shut);
    g_free(plain);
    bh_harness_teardown(&h);
    return 0;
}
