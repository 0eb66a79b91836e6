/* sandbox-network.c — the private network between sandbox qubes, through
 * real namespaces, veth pairs and nftables (no traffic ever leaves the
 * machine: there is no uplink):
 *   a qube behind a netvm gets eth0 with its 10.137 address and a default
 *   route to the netvm; it reaches the netvm, and through a netvm chain the
 *   upstream netvm; it never reaches another qube behind the same netvm; a
 *   qube without a netvm has only lo.
 */
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube net = {
    .name = "net", .qid = 7, .template_name = "tpl", .root_template = "tpl", .provides_network = TRUE};
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

/* A TCP listener on port 8080 inside the qube, answering "hello from QUBE". */
static void listen_in(BhHarness *h, const char *qube)
{
    g_autofree char *cmd =
        g_strdup_printf("nohup python3 -c 'import socket\n"
                        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                        "s.bind((\"0.0.0.0\", 8080)); s.listen(8)\n"
                        "while True:\n"
                        "    c, _ = s.accept(); c.sendall(b\"hello from %s\"); c.close()' >/dev/null 2>&1 &\n"
                        "for i in $(seq 50); do python3 probe.py tcp 127.0.0.1 8080 | grep -q connected && "
                        "break; sleep 0.1; done",
                        qube);
    bh_harness_put_probe(h, qube);
    g_assert_cmpint(bh_harness_run(h, qube, cmd, NULL), ==, 0);
}

static char *probe(BhHarness *h, const char *qube, const char *addr)
{
    g_autofree char *cmd = g_strdup_printf("python3 probe.py tcp %s 8080 1.5", addr);
    return bh_harness_run_out(h, qube, cmd);
}

static void test_network(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    if (geteuid() != 0) {
        g_test_skip("linking qubes needs bulkheadd to run as root");
        bh_harness_teardown(&h);
        return;
    }
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    const BhTestQube *order[] = {&net, &fw, &work, &other, &vault};
    for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
        g_assert_true(bh_harness_start(&h, order[i], &error));
        g_assert_no_error(error);
    }
    bh_harness_put_probe(&h, "work");

    /* Addresses and routes as derived from qids. */
    g_autofree char *addr = bh_harness_run_out(&h, "work", "ip -o -4 addr show dev eth0 | awk '{print $4}'");
    g_assert_cmpstr(addr, ==, "10.137.0.3/32");
    g_autofree char *route = bh_harness_run_out(&h, "work", "ip route show default");
    g_assert_cmpstr(route, ==, "default via 10.138.0.8 dev eth0");
    g_autofree char *fw_links =
        bh_harness_run_out(&h, "fw", "ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort");
    g_assert_cmpstr(fw_links, ==, "eth0\nlo\nvif3\nvif4");

    listen_in(&h, "fw");
    listen_in(&h, "net");
    listen_in(&h, "other");
    /* Its netvm, and through it the netvm's own upstream. */
    g_autofree char *to_fw = probe(&h, "work", "10.138.0.8");
    g_assert_cmpstr(to_fw, ==, "connected");
    g_autofree char *to_net = probe(&h, "work", "10.138.0.7");
    g_assert_cmpstr(to_net, ==, "connected");
    /* Never a sibling behind the same netvm (the control: other's listener
     * answers other itself). */
    g_autofree char *self = probe(&h, "other", "127.0.0.1");
    g_assert_cmpstr(self, ==, "connected");
    g_autofree char *sibling = probe(&h, "work", "10.137.0.4");
    g_test_message("work -> other: %s", sibling);
    g_assert_cmpstr(sibling, !=, "connected");
    /* Beyond the last netvm there is nothing: no uplink. */
    g_autofree char *far = probe(&h, "work", "192.0.2.1");
    g_test_message("work -> 192.0.2.1: %s", far);
    g_assert_cmpstr(far, !=, "connected");
    g_autofree char *net_links =
        bh_harness_run_out(&h, "net", "ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort");
    g_assert_cmpstr(net_links, ==, "lo\nvif8");

    /* netvm none: lo only, nothing reachable. */
    bh_harness_put_probe(&h, "vault");
    g_autofree char *vault_links = bh_harness_run_out(&h, "vault", "ip -o link | awk -F': ' '{print $2}'");
    g_assert_cmpstr(vault_links, ==, "lo");
    g_autofree char *from_vault = probe(&h, "vault", "10.138.0.8");
    g_assert_cmpstr(from_vault, ==, "ENETUNREACH");

    /* A qube whose netvm is not running does not start. */
    g_assert_true(bh_harness_shutdown(&h, "fw", 5, &error));
    g_assert_true(bh_harness_shutdown(&h, "work", 5, &error));
    g_assert_false(bh_harness_start(&h, &work, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "netvm fw is not running"));
    bh_harness_teardown(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/network/netvm-links", test_network);
    return g_test_run();
}
