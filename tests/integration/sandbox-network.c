/* sandbox-network.c — the network of sandbox qubes, through real namespaces,
 * veth pairs, nftables and pasta; "the internet" is servers this test runs
 * on the host's loopback (net-servers.py), reached through the uplink's
 * host mapping, so no traffic leaves the machine:
 *   addresses as Qubes gives them (10.137.0.qid/32, gateway = the netvm's
 *   own address); work reaches the host's TCP and UDP servers through
 *   fw -> net -> pasta, and resolves a name through the virtual 10.139.1.1
 *   and .2 to the resolver this test runs; a sibling behind the same netvm,
 *   the netvm's own services and everything from a qube without netvm stay
 *   out of reach; the uplink stops with its netvm and network_uplink off
 *   (the backend's uplink flag) leaves sys-net without one.
 */
#include <signal.h>
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
                               .uplink = TRUE};
static const BhTestQube fw = {.name = "fw",
                              .qid = 8,
                              .template_name = "tpl",
                              .root_template = "tpl",
                              .provides_network = TRUE,
                              .netvm = "net"};
static const BhTestQube work = {
    .name = "work", .qid = 3, .template_name = "tpl", .root_template = "tpl", .netvm = "fw"};
static const BhTestQube other = {
    .name = "other", .qid = 4, .template_name = "tpl", .root_template = "tpl", .netvm = "fw"};
static const BhTestQube vault = {.name = "vault", .qid = 5, .template_name = "tpl", .root_template = "tpl"};

/* The host's servers: ports of TCP A, TCP B and UDP. */
typedef struct {
    GSubprocess *proc;
    guint tcp_a, tcp_b, udp;
} BhNetServers;

static gboolean servers_start(BhNetServers *s)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *script =
        g_build_filename(g_getenv("BH_SOURCE_ROOT"), "tests", "integration", "net-servers.py", NULL);
    s->proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                               "python3", script, "53", NULL);
    g_assert_no_error(error);
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(s->proc));
    g_autofree char *line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    if (line == NULL || sscanf(line, "%u %u %u", &s->tcp_a, &s->tcp_b, &s->udp) != 3)
        return FALSE; /* 127.0.0.1:53 taken: said on stderr */
    return TRUE;
}

static void servers_stop(BhNetServers *s)
{
    if (s->proc)
        g_subprocess_force_exit(s->proc);
    g_clear_object(&s->proc);
}

/* A TCP listener on port 8080 inside the qube, answering "hello from QUBE". */
static void listen_in(BhHarness *h, const char *qube)
{
    g_autofree char *cmd =
        g_strdup_printf("nohup python3 -c 'import socket\n"
                        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                        "s.bind((\"0.0.0.0\", 8080)); s.listen(8)\n"
                        "while True:\n"
                        "    c, _ = s.accept(); c.sendall(b\"hello from %s\"); c.close()' >/dev/null 2>&1 &\n"
                        "for i in $(seq 50); do python3 net.py tcp 127.0.0.1 8080 | grep -q hello && "
                        "break; sleep 0.1; done",
                        qube);
    g_assert_cmpint(bh_harness_run(h, qube, cmd, NULL), ==, 0);
}

static void put_client(BhHarness *h, const char *qube)
{
    g_autofree char *path =
        g_build_filename(g_getenv("BH_SOURCE_ROOT"), "tests", "integration", "net-client.py", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    bh_harness_put(h, qube, "net.py", text);
}

static char *client(BhHarness *h, const char *qube, const char *kind, const char *addr, guint port)
{
    g_autofree char *cmd = g_strdup_printf("python3 net.py %s %s %u", kind, addr, port);
    return bh_harness_run_out(h, qube, cmd);
}

static void test_network(void)
{
    BhHarness h;
    BhNetServers srv = {0};
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    if (geteuid() != 0) {
        g_test_skip("linking qubes needs bulkheadd to run as root");
        bh_harness_teardown(&h);
        return;
    }
    g_assert_true(servers_start(&srv));
    /* The uplink asks the resolver this test runs. */
    h.resolv_conf = g_build_filename(h.tmp, "resolv.conf", NULL);
    g_assert_true(g_file_set_contents(h.resolv_conf, "# the test's\nnameserver 127.0.0.1\n", -1, NULL));
    bh_harness_restart_backend(&h);

    g_assert_true(bh_harness_create(&h, &tpl, &error));
    const BhTestQube *order[] = {&net, &fw, &work, &other, &vault};
    for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
        gboolean started = bh_harness_start(&h, order[i], &error);
        g_assert_no_error(error);
        g_assert_true(started);
        put_client(&h, order[i]->name);
    }

    /* Addresses as Qubes gives them: /32, the gateway is the netvm's own. */
    g_autofree char *addr = bh_harness_run_out(&h, "work", "ip -o -4 addr show dev eth0 | awk '{print $4}'");
    g_assert_cmpstr(addr, ==, "10.137.0.3/32");
    g_autofree char *route = bh_harness_run_out(&h, "work", "ip route show default");
    g_assert_cmpstr(route, ==, "default via 10.137.0.8 dev eth0");
    g_autofree char *fw_addr = bh_harness_run_out(&h, "fw", "ip -o -4 addr show dev eth0 | awk '{print $4}'");
    g_assert_cmpstr(fw_addr, ==, "10.137.0.8/32");
    g_autofree char *fw_route = bh_harness_run_out(&h, "fw", "ip route show default");
    g_assert_cmpstr(fw_route, ==, "default via 10.137.0.7 dev eth0");
    g_autofree char *fw_links =
        bh_harness_run_out(&h, "fw", "ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort");
    g_assert_cmpstr(fw_links, ==, "eth0\nlo\nvif3\nvif4");
    g_autofree char *net_links =
        bh_harness_run_out(&h, "net", "ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort");
    g_assert_cmpstr(net_links, ==, "lo\nuplink0\nvif8");

    /* The internet: the host's loopback, through the uplink's mapping of
     * the host's gateway address. */
    g_autofree char *host =
        bh_harness_run_out(&h, "net", "ip -4 route show default dev uplink0 | awk '{print $3}'");
    g_test_message("the host through the uplink: %s", host);
    g_assert_cmpstr(host, !=, "");
    g_autofree char *from_net = client(&h, "net", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(from_net, ==, "hello A");
    g_autofree char *tcp = client(&h, "work", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(tcp, ==, "hello A");
    g_autofree char *udp = client(&h, "work", "udp", host, srv.udp);
    g_assert_cmpstr(udp, ==, "udp ping");

    /* DNS: both virtual servers, redirected to the test's resolver. */
    g_autofree char *dns_net =
        bh_harness_run_out(&h, "net", "python3 net.py dns www.example.test 10.139.1.1");
    g_assert_cmpstr(dns_net, ==, "192.0.2.99");
    g_autofree char *dns1 = bh_harness_run_out(&h, "work", "python3 net.py dns www.example.test 10.139.1.1");
    g_assert_cmpstr(dns1, ==, "192.0.2.99");
    g_autofree char *dns2 = bh_harness_run_out(&h, "work", "python3 net.py dns www.example.test 10.139.1.2");
    g_assert_cmpstr(dns2, ==, "192.0.2.99");

    listen_in(&h, "fw");
    listen_in(&h, "work");
    /* Never a sibling behind the same netvm (the control: work's listener
     * answers work itself). */
    g_autofree char *self = client(&h, "work", "tcp", "127.0.0.1", 8080);
    g_assert_cmpstr(self, ==, "hello from work");
    g_autofree char *sibling = client(&h, "other", "tcp", "10.137.0.3", 8080);
    g_test_message("other -> work: %s", sibling);
    g_assert_cmpstr(sibling, ==, "timeout");
    /* Nor the netvm's own services (the control: fw's upstream reaches
     * them, so the listener is on the network). */
    g_autofree char *up = client(&h, "net", "tcp", "10.137.0.8", 8080);
    g_assert_cmpstr(up, ==, "hello from fw");
    g_autofree char *to_fw = client(&h, "work", "tcp", "10.137.0.8", 8080);
    g_test_message("work -> fw's service: %s", to_fw);
    g_assert_cmpstr(to_fw, ==, "timeout");

    /* netvm none: lo only, nothing reachable. */
    g_autofree char *vault_links = bh_harness_run_out(&h, "vault", "ip -o link | awk -F': ' '{print $2}'");
    g_assert_cmpstr(vault_links, ==, "lo");
    g_autofree char *from_vault = client(&h, "vault", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(from_vault, ==, "ENETUNREACH");

    /* A qube whose netvm is not running does not start. */
    g_assert_true(bh_harness_shutdown(&h, "fw", 5, &error));
    g_assert_true(bh_harness_shutdown(&h, "work", 5, &error));
    g_assert_false(bh_harness_start(&h, &work, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "netvm fw is not running"));
    g_clear_error(&error);

    /* The uplink goes with its netvm. */
    pid_t pasta_pid = bh_sandbox_uplink_pid(h.backend, "net");
    g_assert_cmpint(pasta_pid, >, 0);
    g_assert_cmpint(kill(pasta_pid, 0), ==, 0);
    g_assert_true(bh_harness_shutdown(&h, "net", 5, &error));
    for (int i = 0; i < 50 && kill(pasta_pid, 0) == 0; i++)
        bh_harness_spin(100);
    g_assert_cmpint(kill(pasta_pid, 0), ==, -1);

    /* network_uplink off: the same netvm, no uplink. */
    BhTestQube closed = net;
    closed.uplink = FALSE;
    g_assert_true(bh_harness_start(&h, &closed, &error));
    g_autofree char *closed_links = bh_harness_run_out(&h, "net", "ip -o link | awk -F': ' '{print $2}'");
    g_assert_cmpstr(closed_links, ==, "lo");

    bh_harness_teardown(&h);
    g_free(h.resolv_conf);
    servers_stop(&srv);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/network/netvm-links", test_network);
    return g_test_run();
}
