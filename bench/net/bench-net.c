/* bench-net.c — a qube's network through netvms, against the host's own
 * loopback, in one run:
 *
 *   bench-net [--reps N] [--mib M] [--rtts K]
 *
 * A TCP server on the host's 127.0.0.1 (net-bench.py serve) stands for the
 * internet. Three paths reach it: the host itself (loopback), work1 behind
 * one netvm (sys-net: veth, nftables, slirp4netns) and work3 behind three (fw2 ->
 * fw1 -> sys-net: NAT at each). Per path and repetition, alternating: M MiB
 * sent (throughput, MB/s) and K one-byte round trips (median and p99 µs).
 * Prints a Markdown table of medians over the repetitions. Needs root.
 * Method and results: bench/net/README.md.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube net = {.name = "net",
                               .qid = 7,
                               .template_name = "tpl",
                               .root_template = "tpl",
                               .provides_network = TRUE,
                               .uplink = TRUE,
                               .uplink_host_loopback = TRUE};
static const BhTestQube fw1 = {.name = "fw1",
                               .qid = 8,
                               .template_name = "tpl",
                               .root_template = "tpl",
                               .provides_network = TRUE,
                               .netvm = "net"};
static const BhTestQube fw2 = {.name = "fw2",
                               .qid = 9,
                               .template_name = "tpl",
                               .root_template = "tpl",
                               .provides_network = TRUE,
                               .netvm = "fw1"};
static const BhTestQube work1 = {
    .name = "work1", .qid = 3, .template_name = "tpl", .root_template = "tpl", .netvm = "net"};
static const BhTestQube work3 = {
    .name = "work3", .qid = 4, .template_name = "tpl", .root_template = "tpl", .netvm = "fw2"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(GArray *v)
{
    if (v->len == 0)
        return 0;
    qsort(v->data, v->len, sizeof(double), cmp_double);
    return g_array_index(v, double, v->len / 2);
}

/* One measurement's output ("123.4" or "56.7 89.0"), on the host or in a qube. */
static char *measure(BhHarness *h, const char *qube, const char *script, const char *args)
{
    if (qube == NULL) {
        g_autofree char *cmd = g_strdup_printf("python3 %s %s", script, args);
        char *out = NULL;
        g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
        return g_strstrip(out);
    }
    g_autofree char *cmd = g_strdup_printf("python3 net-bench.py %s", args);
    return bh_harness_run_out(h, qube, cmd);
}

int main(int argc, char **argv)
{
    int reps = 5, mib = 256, rtts = 2000;
    GOptionEntry entries[] = {
        {"reps", 0, 0, G_OPTION_ARG_INT, &reps, "repetitions per path", "N"},
        {"mib", 0, 0, G_OPTION_ARG_INT, &mib, "MiB per throughput run", "M"},
        {"rtts", 0, 0, G_OPTION_ARG_INT, &rtts, "round trips per latency run", "K"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, NULL))
        return 2;
    g_test_init(&argc, &argv, NULL); /* the harness reports through g_test */
    if (geteuid() != 0) {
        printf("skipped: needs root (netvms, slirp4netns)\n");
        return 0;
    }
    g_autofree char *script = g_build_filename(g_getenv("BH_SOURCE_ROOT") ? g_getenv("BH_SOURCE_ROOT") : ".",
                                               "bench", "net", "net-bench.py", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(script, &text, NULL, NULL)) {
        fprintf(stderr, "cannot read %s (set BH_SOURCE_ROOT)\n", script);
        return 1;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) server =
        g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "python3", script, "serve", NULL);
    g_assert_no_error(error);
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(server));
    g_autofree char *port = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    g_assert_nonnull(port);

    BhHarness h;
    if (!bh_harness_setup(&h))
        return 1;
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    const BhTestQube *order[] = {&net, &fw1, &fw2, &work1, &work3};
    for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
        g_assert_true(bh_harness_start(&h, order[i], &error));
        g_assert_no_error(error);
    }
    bh_harness_put(&h, "net", "net-bench.py", text);
    bh_harness_put(&h, "work1", "net-bench.py", text);
    bh_harness_put(&h, "work3", "net-bench.py", text);
    g_autofree char *host =
        bh_harness_run_out(&h, "net", "ip -4 route show default dev uplink0 | awk '{print $3}'");

    struct {
        const char *label, *qube, *addr;
        GArray *tput, *rtt50, *rtt99;
        int failed;
    } paths[] = {
        {"host loopback (127.0.0.1)", NULL, "127.0.0.1"},
        {"sys-net itself -> slirp4netns", "net", host},
        {"work1 -> sys-net -> slirp4netns", "work1", host},
        {"work3 -> fw2 -> fw1 -> sys-net -> slirp4netns", "work3", host},
    };
    for (gsize p = 0; p < G_N_ELEMENTS(paths); p++) {
        paths[p].tput = g_array_new(FALSE, FALSE, sizeof(double));
        paths[p].rtt50 = g_array_new(FALSE, FALSE, sizeof(double));
        paths[p].rtt99 = g_array_new(FALSE, FALSE, sizeof(double));
    }
    for (int r = 0; r < reps; r++) {
        for (gsize p = 0; p < G_N_ELEMENTS(paths); p++) {
            g_autofree char *targs = g_strdup_printf("tput %s %s %d", paths[p].addr, port, mib);
            g_autofree char *t = measure(&h, paths[p].qube, script, targs);
            char *end = NULL;
            double v = g_ascii_strtod(t, &end);
            if (end != t && *end == '\0')
                g_array_append_val(paths[p].tput, v);
            else
                paths[p].failed++; /* "reset", "short ...": said in the table */
            g_autofree char *rargs = g_strdup_printf("rtt %s %s %d", paths[p].addr, port, rtts);
            g_autofree char *l = measure(&h, paths[p].qube, script, rargs);
            double a = 0, b = 0;
            if (sscanf(l, "%lf %lf", &a, &b) == 2) {
                g_array_append_val(paths[p].rtt50, a);
                g_array_append_val(paths[p].rtt99, b);
            }
            fprintf(stderr, "rep %d %s: %s MB/s, rtt %s\n", r, paths[p].label, t, l);
        }
    }
    printf("| path | MB/s (median, %d MiB) | transfers failed | RTT median µs | RTT p99 µs |\n"
           "|---|---|---|---|---|\n",
           mib);
    for (gsize p = 0; p < G_N_ELEMENTS(paths); p++)
        printf("| %s | %.0f | %d of %d | %.1f | %.1f |\n", paths[p].label, median(paths[p].tput),
               paths[p].failed, reps, median(paths[p].rtt50), median(paths[p].rtt99));
    bh_harness_teardown(&h);
    g_subprocess_force_exit(server);
    return 0;
}
