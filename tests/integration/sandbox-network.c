/* sandbox-network.c — the network of sandbox qubes, through real namespaces,
 * veth pairs, nftables and slirp4netns; "the internet" is servers this test runs
 * on the host's loopback (net-servers.py), reached through the uplink's
 * host mapping, so no traffic leaves the machine:
 *   addresses as Qubes gives them (10.137.0.qid/32, gateway = the netvm's
 *   own address); work reaches the host's TCP and UDP servers through
 *   fw -> net -> slirp4netns, moves 64 MiB there twice intact (the
 *   sink's byte count and sha256 equal to what was sent), and resolves a name through the virtual 10.139.1.1
 *   and .2 to the resolver this test runs; a sibling behind the same netvm,
 *   the netvm's own services and everything from a qube without netvm stay
 *   out of reach; IPv6 passes no netvm even when a qube and a netvm turn
 *   it on; the uplink runs in a read-only root of its own without dom0's
 *   files, stops with its netvm, and network_uplink off (the backend's
 *   uplink flag) leaves sys-net without one;
 *   with IPv6 on (Qubes' ipv6 on the netvm chain): fd09:24ef:4179::a89:x/128
 *   with the netvm's own as gateway, TCP, UDP and ping to the host's ::1
 *   through fw, net and the uplink's fd00::2, NAT at each netvm, siblings and
 *   the netvm's services out of reach over IPv6, a client without IPv6
 *   behind the same netvm has none, firewall rules per family, and without
 *   the uplink's host loopback the host's ::1 is out of reach.
 */
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bulkhead/firewall.h"
#include "sandbox-harness.h"
#include "sandbox-net.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube net = {.name = "net",
                               .qid = 7,
                               .template_name = "tpl",
                               .root_template = "tpl",
                               .provides_network = TRUE,
                               .uplink = TRUE,
                               .uplink_host_loopback = TRUE};
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
/* Named as the staging file of the qubes' resolv.conf once was: it could
 * not start (its staging directory was that file). */
static const BhTestQube resolv_named = {
    .name = "resolv.conf", .qid = 6, .template_name = "tpl", .root_template = "tpl"};

/* The host's servers: ports of TCP A, TCP B, UDP and the sha256 sink. */
typedef struct {
    GSubprocess *proc;
    guint tcp_a, tcp_b, udp, sink;
    gboolean ipv6; /* set before the start: on the host's ::1 (the resolver on any port) */
} BhNetServers;

static gboolean servers_start(BhNetServers *s)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *script =
        g_build_filename(g_getenv("BH_SOURCE_ROOT"), "tests", "integration", "net-servers.py", NULL);
    s->proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                               "python3", script, s->ipv6 ? "0" : "53", s->ipv6 ? "ipv6" : "4", NULL);
    g_assert_no_error(error);
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(s->proc));
    g_autofree char *line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    if (line == NULL || sscanf(line, "%u %u %u", &s->tcp_a, &s->tcp_b, &s->udp) != 3)
        return FALSE; /* 127.0.0.1:53 taken: said on stderr */
    g_autofree char *sink = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    return sink != NULL && sscanf(sink, "%u", &s->sink) == 1;
}

static void servers_stop(BhNetServers *s)
{
    if (s->proc)
        g_subprocess_force_exit(s->proc);
    g_clear_object(&s->proc);
}

/* A TCP listener on port 8080 (IPv6: 8086) inside the qube, answering
 * "hello from QUBE"; returns once it answers the qube itself. */
static void listen_on(BhHarness *h, const char *qube, gboolean ipv6)
{
    g_autofree char *cmd = g_strdup_printf(
        "nohup python3 -c 'import socket\n"
        "s = socket.socket(socket.%s); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind((\"%s\", %u)); s.listen(8)\n"
        "while True:\n"
        "    c, _ = s.accept(); c.sendall(b\"hello from %s\"); c.close()' >/dev/null 2>&1 &\n"
        "for i in $(seq 50); do python3 net.py tcp %s %u | grep -q hello && "
        "break; sleep 0.1; done",
        ipv6 ? "AF_INET6" : "AF_INET", ipv6 ? "::" : "0.0.0.0", ipv6 ? 8086 : 8080, qube,
        ipv6 ? "::1" : "127.0.0.1", ipv6 ? 8086 : 8080);
    g_assert_cmpint(bh_harness_run(h, qube, cmd, NULL), ==, 0);
}

static void listen_in(BhHarness *h, const char *qube)
{
    listen_on(h, qube, FALSE);
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

/* script run by sh as root in the qube's network namespace (what a qube
 * that got root there, or a netvm gone wrong, could do); its output. */
static char *root_in(BhHarness *h, const char *qube, const char *script)
{
    g_autofree char *ns =
        g_strdup_printf("--net=/proc/%d/ns/net", (int)bh_sandbox_init_pid(h->backend, qube));
    const char *argv[] = {"nsenter", ns, "sh", "-ec", script, NULL};
    g_autofree char *err = NULL;
    char *out = NULL;
    int status = -1;
    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL));
    g_test_message("as root in %s: %s%s%s", qube, script, err && *err ? " -> " : "", err ? err : "");
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return g_strstrip(out);
}

/* How many IPv6 packets arrived at net from fw since the counter was made. */
static guint64 ipv6_from_fw(BhHarness *h)
{
    g_autofree char *n =
        root_in(h, "net", "nft list chain inet bulkhead input | awk '/bh-test-v6/ {print $(NF-4)}'");
    return g_ascii_strtoull(n, NULL, 10);
}

/* IPv6 passes no netvm: the links come up without it, a qube's user cannot
 * turn it on, and when a qube with root and a careless netvm give the
 * links addresses (and fixed neighbours, as the netvm's input drops the
 * discovery), fw still drops it, into its services and through it
 * upstream; the control for the latter removes just that rule. */
static void check_ipv6(BhHarness *h)
{
    g_autofree char *work_v6 = bh_harness_run_out(h, "work", "ip -6 -o addr show dev eth0");
    g_assert_cmpstr(work_v6, ==, "");
    g_autofree char *work_off =
        bh_harness_run_out(h, "work", "cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6");
    g_assert_cmpstr(work_off, ==, "1");
    g_assert_cmpint(bh_harness_run(h, "work", "echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6", NULL), !=,
                    0);
    g_autofree char *fw_v6 = bh_harness_run_out(h, "fw", "ip -6 -o addr show dev vif3");
    g_assert_cmpstr(fw_v6, ==, "");

    /* The links given IPv6 by hand (no duplicate detection: usable at once). */
    static const char mac[] = "ip -o link show dev %s | sed 's/.*link\\/ether \\([^ ]*\\).*/\\1/'";
    g_autofree char *mac_cmd_vif3 = g_strdup_printf(mac, "vif3");
    g_autofree char *mac_cmd_vif8 = g_strdup_printf(mac, "vif8");
    g_autofree char *fw_mac = root_in(h, "fw", mac_cmd_vif3);
    g_autofree char *net_mac = root_in(h, "net", mac_cmd_vif8);
    g_autofree char *work_script =
        g_strdup_printf("sysctl -q -w net.ipv6.conf.eth0.disable_ipv6=0\n"
                        "ip -6 addr add fd09:3::3/64 dev eth0 nodad\n"
                        "ip -6 neigh replace fd09:3::1 lladdr %s dev eth0 nud permanent\n"
                        "ip -6 route add default via fd09:3::1",
                        fw_mac);
    g_free(root_in(h, "work", work_script));
    g_autofree char *fw_script =
        g_strdup_printf("sysctl -q -w net.ipv6.conf.vif3.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0 "
                        "net.ipv6.conf.all.forwarding=1\n"
                        "ip -6 addr add fd09:3::1/64 dev vif3 nodad\n"
                        "ip -6 addr add fd09:8::8/64 dev eth0 nodad\n"
                        "ip -6 neigh replace fd09:8::1 lladdr %s dev eth0 nud permanent\n"
                        "ip -6 route add default via fd09:8::1",
                        net_mac);
    g_free(root_in(h, "fw", fw_script));
    g_free(root_in(
        h, "net",
        "sysctl -q -w net.ipv6.conf.vif8.disable_ipv6=0\n"
        "ip -6 addr add fd09:8::1/64 dev vif8 nodad\n"
        "nft insert rule inet bulkhead input iifname vif8 meta nfproto ipv6 counter comment bh-test-v6"));
    listen_on(h, "fw", TRUE);

    /* Into the netvm's services (the control: fw's listener answers on
     * that address). */
    g_autofree char *fw_self = client(h, "fw", "tcp", "fd09:3::1", 8086);
    g_assert_cmpstr(fw_self, ==, "hello from fw");
    g_autofree char *to_fw = client(h, "work", "tcp", "fd09:3::1", 8086);
    g_test_message("work -> fw's service over IPv6: %s", to_fw);
    g_assert_cmpstr(to_fw, ==, "timeout");

    /* Through it upstream: nothing reaches net (its counter); the control:
     * without fw's rule, work's packets arrive there. */
    guint64 before = ipv6_from_fw(h);
    g_autofree char *through = client(h, "work", "tcp", "fd09:8::1", 8086);
    guint64 after = ipv6_from_fw(h);
    g_test_message("work -> through fw -> net over IPv6: %s, %" G_GUINT64_FORMAT " packets at net", through,
                   after - before);
    g_assert_cmpstr(through, ==, "timeout");
    g_assert_cmpuint(after, ==, before);
    g_free(
        root_in(h, "fw",
                "n=$(nft -a list chain inet bulkhead forward | awk '/meta nfproto ipv6 drop/ {print $NF}')\n"
                "[ -n \"$n\" ]; nft delete rule inet bulkhead forward handle $n"));
    g_autofree char *through_open = client(h, "work", "tcp", "fd09:8::1", 8086);
    guint64 passed = ipv6_from_fw(h);
    g_test_message("without fw's rule: %s, %" G_GUINT64_FORMAT " packets at net", through_open,
                   passed - after);
    g_assert_cmpuint(passed, >, after);
}

/* The host's servers, then the qubes in order, each with net.py; FALSE
 * (skipped) without root. test_resolver: the uplink asks the resolver the
 * servers run (on 127.0.0.1:53). */
static gboolean start_all(BhHarness *h, BhNetServers *srv, gboolean test_resolver,
                          const BhTestQube *const *order, gsize n)
{
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(h))
        return FALSE;
    if (geteuid() != 0) {
        g_test_skip("linking qubes needs bulkheadd to run as root");
        bh_harness_teardown(h);
        return FALSE;
    }
    g_assert_true(servers_start(srv));
    if (test_resolver) {
        h->resolv_conf = g_build_filename(h->tmp, "resolv.conf", NULL);
        g_assert_true(g_file_set_contents(h->resolv_conf, "# the test's\nnameserver 127.0.0.1\n", -1, NULL));
        bh_harness_restart_backend(h);
    }
    g_assert_true(bh_harness_create(h, &tpl, &error));
    for (gsize i = 0; i < n; i++) {
        gboolean started = bh_harness_start(h, order[i], &error);
        g_assert_no_error(error);
        g_assert_true(started);
        put_client(h, order[i]->name);
    }
    return TRUE;
}

/* The uplink (which carried everything above) sees a root of its own,
 * read-only, with its programs, /etc and its devices, and none of dom0's
 * files: a world-readable file of this test (the control: the test reads
 * it, and so could the uplink's uid without that root), /home, /run, /tmp,
 * /proc, the source tree. Seen through /proc/PID/root, which the kernel
 * resolves in the uplink's own mount namespace. */
static void check_uplink_root(BhHarness *h, pid_t uplink)
{
    g_autofree char *own_mnt = g_file_read_link("/proc/self/ns/mnt", NULL);
    g_autofree char *mnt_link = g_strdup_printf("/proc/%d/ns/mnt", (int)uplink);
    g_autofree char *its_mnt = g_file_read_link(mnt_link, NULL);
    g_assert_nonnull(its_mnt);
    g_assert_cmpstr(its_mnt, !=, own_mnt);

    g_autofree char *secret = g_build_filename(h->tmp, "dom0-secret", NULL);
    g_assert_true(g_file_set_contents(secret, "dom0's\n", -1, NULL));
    g_assert_cmpint(chmod(secret, 0644), ==, 0);
    g_assert_cmpint(chmod(h->tmp, 0755), ==, 0);
    /* The control: the uplink's uid, with the host's view, reads it. */
    g_autofree char *proc = g_strdup_printf("/proc/%d", (int)uplink);
    struct stat st;
    g_assert_cmpint(stat(proc, &st), ==, 0);
    g_assert_cmpuint(st.st_uid, !=, 0);
    g_autofree char *as_uid = g_strdup_printf("setpriv --reuid=%u --regid=%u --clear-groups cat %s",
                                              (unsigned)st.st_uid, (unsigned)st.st_gid, secret);
    g_autofree char *read_back = NULL;
    g_assert_true(g_spawn_command_line_sync(as_uid, &read_back, NULL, NULL, NULL));
    g_assert_cmpstr(read_back, ==, "dom0's\n");

    g_autofree char *root = g_strdup_printf("/proc/%d/root", (int)uplink);
    g_autofree char *slirp = g_build_filename(root, "usr", "bin", "slirp4netns", NULL);
    g_autofree char *resolv = g_build_filename(root, "etc", "resolv.conf", NULL);
    g_autofree char *tun = g_build_filename(root, "dev", "net", "tun", NULL);
    g_assert_true(g_file_test(slirp, G_FILE_TEST_IS_EXECUTABLE));
    g_assert_true(g_file_test(resolv, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(tun, G_FILE_TEST_EXISTS));
    const char *hidden[] = {
        secret, h->tmp, "/home", "/run", "/tmp", "/proc/self", "/var", "/root", g_getenv("BH_SOURCE_ROOT")};
    for (gsize i = 0; i < G_N_ELEMENTS(hidden); i++) {
        g_autofree char *there = g_build_filename(root, hidden[i], NULL);
        g_test_message("the uplink's root has no %s", hidden[i]);
        g_assert_false(g_file_test(there, G_FILE_TEST_EXISTS));
    }
    g_autofree char *ls = NULL;
    g_autofree char *cmd = g_strdup_printf("ls -A %s", root);
    g_assert_true(g_spawn_command_line_sync(cmd, &ls, NULL, NULL, NULL));
    g_test_message("the uplink's root: %s", g_strdelimit(ls, "\n", ' '));
    struct statvfs vfs;
    g_assert_cmpint(statvfs(root, &vfs), ==, 0);
    g_assert_true(vfs.f_flag & ST_RDONLY);

    /* Under two seccomp filters: ours (no AF_UNIX socket, test_uplink_unix)
     * and its own --enable-seccomp one; without ours it had one. */
    g_autofree char *status_path = g_strdup_printf("/proc/%d/status", (int)uplink);
    g_autofree char *status = NULL;
    g_assert_true(g_file_get_contents(status_path, &status, NULL, NULL));
    const char *filters = strstr(status, "Seccomp_filters:");
    if (filters != NULL) {
        guint64 n = g_ascii_strtoull(filters + strlen("Seccomp_filters:"), NULL, 10);
        g_test_message("the uplink's seccomp filters: %" G_GUINT64_FORMAT, n);
        g_assert_cmpuint(n, >=, 2);
    }
    g_assert_nonnull(strstr(status, "NoNewPrivs:\t1"));
}

static void test_network(void)
{
    BhHarness h;
    BhNetServers srv = {0};
    g_autoptr(GError) error = NULL;
    const BhTestQube *const order[] = {&net, &fw, &work, &other, &vault, &resolv_named};
    if (!start_all(&h, &srv, TRUE, order, G_N_ELEMENTS(order)))
        return;
    /* The qube named resolv.conf runs (start_all asserted its start), and
     * the qubes' resolv.conf is still what it was (below, in work). */
    g_assert_cmpint(bh_harness_state(&h, "resolv.conf"), ==, BH_POWER_RUNNING);

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

    /* Bulk: 64 MiB from work through fw and net's uplink, twice; the sink
     * answers the byte count and sha256 of what reached it, which must be
     * what was sent (Debian 12's pasta reset such transfers or answered
     * them twice over: bench/net/README.md). The control: the same sum
     * computed on the host. */
    g_autofree char *client_py =
        g_build_filename(g_getenv("BH_SOURCE_ROOT"), "tests", "integration", "net-client.py", NULL);
    g_autofree char *sum_cmd = g_strdup_printf("python3 %s bulksum - 64", client_py);
    g_autofree char *want = NULL;
    g_assert_true(g_spawn_command_line_sync(sum_cmd, &want, NULL, NULL, NULL));
    g_strstrip(want);
    g_assert_true(g_str_has_prefix(want, "67108864 "));
    for (int i = 0; i < 2; i++) {
        g_autofree char *cmd = g_strdup_printf("python3 net.py bulk %s %u 64", host, srv.sink);
        gint64 t0 = g_get_monotonic_time();
        g_autofree char *got = bh_harness_run_out(&h, "work", cmd);
        g_test_message("64 MiB from work, run %d: %s in %.1f s", i + 1, got,
                       (g_get_monotonic_time() - t0) / 1e6);
        g_assert_cmpstr(got, ==, want);
    }

    /* DNS: the qube's resolv.conf names both virtual servers, each
     * redirected to the test's resolver. */
    g_autofree char *resolv = bh_harness_run_out(&h, "work", "cat /etc/resolv.conf");
    g_assert_cmpstr(resolv, ==, "nameserver 10.139.1.1\nnameserver 10.139.1.2");
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

    check_ipv6(&h);

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
    pid_t uplink_pid = bh_sandbox_uplink_pid(h.backend, "net");
    g_assert_cmpint(uplink_pid, >, 0);
    g_assert_cmpint(kill(uplink_pid, 0), ==, 0);
    check_uplink_root(&h, uplink_pid);
    /* In net's control group (bounded, frozen and killed with it), beside
     * net's own processes. */
    const char *pids_dir = bh_sandbox_cgroup_dir(h.backend, "net", "pids");
    if (pids_dir) {
        g_autofree char *procs_path = g_build_filename(pids_dir, "cgroup.procs", NULL);
        g_autofree char *procs = NULL;
        g_assert_true(g_file_get_contents(procs_path, &procs, NULL, NULL));
        g_auto(GStrv) members = g_strsplit(g_strstrip(procs), "\n", -1);
        g_autofree char *uplink_text = g_strdup_printf("%d", (int)uplink_pid);
        g_test_message("net's group %s: %u processes, the uplink's %s among them?", pids_dir,
                       g_strv_length(members), uplink_text);
        g_assert_true(g_strv_contains((const char *const *)members, uplink_text));
        g_assert_cmpuint(g_strv_length(members), >, 1);
    }
    g_assert_true(bh_harness_shutdown(&h, "net", 5, &error));
    for (int i = 0; i < 50 && kill(uplink_pid, 0) == 0; i++)
        bh_harness_spin(100);
    g_assert_cmpint(kill(uplink_pid, 0), ==, -1);

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

static const BhTestQube vpn = {.name = "vpn",
                               .qid = 9,
                               .template_name = "tpl",
                               .root_template = "tpl",
                               .provides_network = TRUE,
                               .netvm = "fw"};
static const BhTestQube anon = {
    .name = "anon", .qid = 6, .template_name = "tpl", .root_template = "tpl", .netvm = "vpn"};

typedef struct {
    BhBackend *backend;
    gboolean done;
    GError *error;
} BhFirewallWait;

static void firewall_done(GObject *source, GAsyncResult *result, gpointer data)
{
    BhFirewallWait *w = data;
    bh_backend_set_firewall_finish(w->backend, result, &w->error);
    w->done = TRUE;
}

/* Applies rules to qube's netvm and waits until they are in force. */
static void set_firewall(BhHarness *h, const char *qube, const char *rules)
{
    BhFirewallWait w = {h->backend, FALSE, NULL};
    bh_backend_set_firewall(h->backend, qube, rules, NULL, firewall_done, &w);
    for (int i = 0; i < 200 && !w.done; i++)
        bh_harness_spin(25);
    g_assert_true(w.done);
    g_assert_no_error(w.error);
}

/* Polls (up to 5 s) until the client's answer is want; returns the last. */
static char *await(BhHarness *h, const char *qube, const char *kind, const char *addr, guint port,
                   const char *want)
{
    char *got = NULL;
    for (int i = 0; i < 25; i++) {
        g_free(got);
        got = client(h, qube, kind, addr, port);
        if (g_str_equal(got, want))
            break;
        bh_harness_spin(200);
    }
    return got;
}

/* What the netvm's connection tracking knows of connections to port. */
static char *tracked(BhHarness *h, const char *netvm, guint port)
{
    g_autofree char *cmd = g_strdup_printf("nsenter --net=/proc/%d/ns/net conntrack -L -p tcp --dport %u",
                                           (int)bh_sandbox_init_pid(h->backend, netvm), port);
    char *out = NULL;
    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
    return out;
}

/* A chain three netvms deep, NAT at each; the per-qube firewall on a
 * running qube (one port, at once, an open connection cut); relinking a
 * running qube; a netvm's restart under running clients. */
static void test_live(void)
{
    BhHarness h;
    BhNetServers srv = {0};
    g_autoptr(GError) error = NULL;
    const BhTestQube *const order[] = {&net, &fw, &vpn, &work, &anon};
    if (!start_all(&h, &srv, FALSE, order, G_N_ELEMENTS(order)))
        return;
    g_autofree char *host =
        bh_harness_run_out(&h, "net", "ip -4 route show default dev uplink0 | awk '{print $3}'");

    /* anon -> vpn -> fw -> net -> the host: seen passing vpn with anon's
     * own address, and fw sees only vpn's (NAT at each netvm). */
    g_autofree char *from_anon = client(&h, "anon", "tcp", host, srv.tcp_b);
    g_assert_cmpstr(from_anon, ==, "hello B");
    g_autofree char *at_vpn = tracked(&h, "vpn", srv.tcp_b);
    g_test_message("vpn tracks: %s", at_vpn);
    g_assert_nonnull(strstr(at_vpn, "src=10.137.0.6 "));
    g_autofree char *at_fw = tracked(&h, "fw", srv.tcp_b);
    g_test_message("fw tracks: %s", at_fw);
    g_assert_nonnull(strstr(at_fw, "src=10.137.0.9 "));
    g_assert_null(strstr(at_fw, "src=10.137.0.6 "));

    /* The firewall: an open connection to port A, then a rule against A. */
    g_autofree char *hold =
        g_strdup_printf("nohup python3 net.py hold %s %u 30 > hold.out 2>&1 &\n"
                        "for i in $(seq 50); do grep -qs open hold.out && break; sleep 0.1; done;"
                        " cat hold.out",
                        host, srv.tcp_a);
    g_autofree char *held = bh_harness_run_out(&h, "work", hold);
    g_assert_cmpstr(held, ==, "open");
    g_autofree char *rule = g_strdup_printf("tcp dport %u drop\naccept", srv.tcp_a);
    set_firewall(&h, "work", rule);
    g_autofree char *blocked = client(&h, "work", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(blocked, ==, "timeout");
    g_autofree char *other_port = client(&h, "work", "tcp", host, srv.tcp_b);
    g_assert_cmpstr(other_port, ==, "hello B");
    g_autofree char *udp = client(&h, "work", "udp", host, srv.udp);
    g_assert_cmpstr(udp, ==, "udp ping");

    g_autofree char *cut = bh_harness_run_out(
        &h, "work",
        "for i in $(seq 50); do grep -q cut hold.out && break; sleep 0.1; done; tail -n 1 hold.out");
    g_assert_cmpstr(cut, ==, "cut");
    /* Only work's: anon (behind another netvm) still reaches port A. */
    g_autofree char *anon_a = client(&h, "anon", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(anon_a, ==, "hello A");

    /* Relinking a running qube: none cuts it at once, back restores it. */
    g_assert_true(bh_backend_set_netvm(h.backend, "work", NULL, &error));
    g_autofree char *unlinked = await(&h, "work", "tcp", host, srv.tcp_b, "ENETUNREACH");
    g_assert_cmpstr(unlinked, ==, "ENETUNREACH");
    g_assert_true(bh_backend_set_netvm(h.backend, "work", "fw", &error));
    g_autofree char *relinked = await(&h, "work", "tcp", host, srv.tcp_b, "hello B");
    g_assert_cmpstr(relinked, ==, "hello B");
    /* Its firewall came along. */
    g_autofree char *still_blocked = client(&h, "work", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(still_blocked, ==, "timeout");

    /* fw stops: work and anon keep running, cut off; fw starts again:
     * both are back, work's firewall with it. */
    g_assert_true(bh_harness_shutdown(&h, "fw", 5, &error));
    g_assert_cmpint(bh_harness_state(&h, "work"), ==, BH_POWER_RUNNING);
    g_assert_cmpint(bh_harness_state(&h, "anon"), ==, BH_POWER_RUNNING);
    g_autofree char *fw_down = client(&h, "work", "tcp", host, srv.tcp_b);
    g_assert_cmpstr(fw_down, ==, "ENETUNREACH");
    g_assert_true(bh_harness_start(&h, &fw, &error));
    g_autofree char *back = await(&h, "work", "tcp", host, srv.tcp_b, "hello B");
    g_assert_cmpstr(back, ==, "hello B");
    g_autofree char *anon_back = await(&h, "anon", "tcp", host, srv.tcp_b, "hello B");
    g_assert_cmpstr(anon_back, ==, "hello B");
    g_autofree char *fw_kept = client(&h, "work", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(fw_kept, ==, "timeout");
    /* Rules lifted: port A again. */
    set_firewall(&h, "work", NULL);
    g_autofree char *open_again = client(&h, "work", "tcp", host, srv.tcp_a);
    g_assert_cmpstr(open_again, ==, "hello A");

    bh_harness_teardown(&h);
    servers_stop(&srv);
}

/* python3 run with the uplink's confinement (its root, an unprivileged
 * uid, with or without its filter; in the host's network namespace, as
 * slirp4netns is): what connecting to the abstract socket name gives. */
static char *connect_confined(gboolean filter, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhSandboxSetup) setup = bh_sandbox_net_uplink_setup(65534, 65534, 0, filter, &error);
    g_assert_no_error(error);
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_child_setup(launcher, bh_sandbox_setup_child, setup, NULL);
    g_subprocess_launcher_take_fd(launcher, open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC),
                                  BH_SANDBOX_UPLINK_FD_USERNS);
    g_subprocess_launcher_take_fd(launcher, open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC),
                                  BH_SANDBOX_UPLINK_FD_NETNS);
    g_autofree char *script = g_strdup_printf("import errno, socket\n"
                                              "try:\n"
                                              "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                                              "    s.connect(b'\\0%s')\n"
                                              "    print('connected')\n"
                                              "except OSError as e:\n"
                                              "    print(errno.errorcode.get(e.errno, str(e)))\n",
                                              name);
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawn(launcher, &error, "python3", "-c", script, NULL);
    g_assert_no_error(error);
    char *out = NULL;
    g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
    g_assert_no_error(error);
    return g_strstrip(out);
}

/* slirp4netns stays in the host's network namespace, where abstract Unix
 * sockets are reached by name whatever the root: the uplink's confinement
 * refuses it any AF_UNIX socket. A process started with it cannot connect
 * to one this test listens on; the control: with the same root and uid but
 * without the filter, it connects. */
static void test_uplink_unix(void)
{
    if (geteuid() != 0) {
        g_test_skip("the uplink's root needs root to be built");
        return;
    }
    g_autofree char *name = g_strdup_printf("bh-uplink-test-%d", (int)getpid());
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(listener, >=, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path + 1, name, strlen(name));
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
    g_assert_cmpint(bind(listener, (struct sockaddr *)&addr, len), ==, 0);
    g_assert_cmpint(listen(listener, 4), ==, 0);

    g_autofree char *reached = connect_confined(FALSE, name);
    g_test_message("without the filter: %s", reached);
    g_assert_cmpstr(reached, ==, "connected");
    g_autofree char *confined = connect_confined(TRUE, name);
    g_test_message("with the uplink's filter: %s", confined);
    g_assert_cmpstr(confined, ==, "EACCES");
    close(listener);
}

/* The same chain with IPv6 on every qube but plain (Qubes' ipv6 set on
 * the netvm and inherited; the backend gets the model's answer). */
static const BhTestQube net6 = {.name = "net",
                                .qid = 7,
                                .template_name = "tpl",
                                .root_template = "tpl",
                                .provides_network = TRUE,
                                .uplink = TRUE,
                                .uplink_host_loopback = TRUE,
                                .ipv6 = TRUE};
static const BhTestQube fw6 = {.name = "fw",
                               .qid = 8,
                               .template_name = "tpl",
                               .root_template = "tpl",
                               .provides_network = TRUE,
                               .netvm = "net",
                               .ipv6 = TRUE};
static const BhTestQube work6 = {
    .name = "work", .qid = 3, .template_name = "tpl", .root_template = "tpl", .netvm = "fw", .ipv6 = TRUE};
static const BhTestQube other6 = {
    .name = "other", .qid = 4, .template_name = "tpl", .root_template = "tpl", .netvm = "fw", .ipv6 = TRUE};
static const BhTestQube plain = {
    .name = "plain", .qid = 5, .template_name = "tpl", .root_template = "tpl", .netvm = "fw"};

#define WORK6 "fd09:24ef:4179::a89:3"
#define FW6   "fd09:24ef:4179::a89:8"
#define NET6  "fd09:24ef:4179::a89:7"

/* What the netvm's connection tracking knows of IPv6 connections to port. */
static char *tracked6(BhHarness *h, const char *netvm, guint port)
{
    g_autofree char *cmd =
        g_strdup_printf("nsenter --net=/proc/%d/ns/net conntrack -L -f ipv6 -p tcp --dport %u",
                        (int)bh_sandbox_init_pid(h->backend, netvm), port);
    char *out = NULL;
    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
    return out;
}

/* One of Qubes' rules as the daemon compiles it (bulkhead/firewall.h),
 * followed by accept (what a qube's default "action=accept" compiles to). */
static char *compile(const char *rule, const char *const *addrs)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhFwRule) r = bh_fw_rule_parse(rule, g_get_real_time() / G_USEC_PER_SEC, &error);
    g_assert_no_error(error);
    g_autofree char *nft = bh_fw_rule_nft(r, addrs, g_get_real_time() / G_USEC_PER_SEC);
    g_assert_nonnull(nft);
    g_test_message("%s -> %s", rule, nft);
    return g_strdup_printf("%s\naccept", nft);
}

static void test_ipv6(void)
{
    BhHarness h;
    BhNetServers srv = {.ipv6 = TRUE};
    g_autoptr(GError) error = NULL;
    const BhTestQube *const order[] = {&net6, &fw6, &work6, &other6, &plain};
    if (g_file_test("/proc/sys/net/ipv6", G_FILE_TEST_IS_DIR) == FALSE) {
        g_test_skip("the kernel has no IPv6");
        return;
    }
    if (!start_all(&h, &srv, FALSE, order, G_N_ELEMENTS(order)))
        return;

    /* Addresses as Qubes gives them: the IPv4 address in the low 32 bits,
     * /128, the gateway the netvm's own. */
    g_autofree char *addr =
        bh_harness_run_out(&h, "work", "ip -o -6 addr show dev eth0 scope global | awk '{print $4}'");
    g_assert_cmpstr(addr, ==, WORK6 "/128");
    g_autofree char *route = bh_harness_run_out(&h, "work", "ip -6 route show default | cut -d' ' -f1-5");
    g_assert_cmpstr(route, ==, "default via " FW6 " dev eth0");
    g_autofree char *fw_addr =
        bh_harness_run_out(&h, "fw", "ip -o -6 addr show dev eth0 scope global | awk '{print $4}'");
    g_assert_cmpstr(fw_addr, ==, FW6 "/128");
    g_autofree char *fw_route = bh_harness_run_out(&h, "fw", "ip -6 route show default | cut -d' ' -f1-5");
    g_assert_cmpstr(fw_route, ==, "default via " NET6 " dev eth0");
    g_autofree char *net_route = bh_harness_run_out(&h, "net", "ip -6 route show default | cut -d' ' -f1-5");
    g_assert_cmpstr(net_route, ==, "default via fd00::2 dev uplink0");
    /* IPv4 as before beside it. */
    g_autofree char *addr4 = bh_harness_run_out(&h, "work", "ip -o -4 addr show dev eth0 | awk '{print $4}'");
    g_assert_cmpstr(addr4, ==, "10.137.0.3/32");

    /* A client without IPv6 behind the same netvm has none on its link. */
    g_autofree char *plain_off =
        bh_harness_run_out(&h, "plain", "cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6");
    g_assert_cmpstr(plain_off, ==, "1");
    g_autofree char *plain_v6 = bh_harness_run_out(&h, "plain", "ip -6 -o addr show dev eth0");
    g_assert_cmpstr(plain_v6, ==, "");
    g_autofree char *plain_ping = client(&h, "plain", "ping", "10.137.0.8", 0);
    g_assert_cmpstr(plain_ping, ==, "pong");

    /* The host's ::1 through the uplink's fd00::2, from net and from work
     * through fw. */
    g_autofree char *from_net = client(&h, "net", "tcp", "fd00::2", srv.tcp_a);
    g_assert_cmpstr(from_net, ==, "hello A");
    g_autofree char *tcp = client(&h, "work", "tcp", "fd00::2", srv.tcp_a);
    g_assert_cmpstr(tcp, ==, "hello A");
    g_autofree char *udp = client(&h, "work", "udp", "fd00::2", srv.udp);
    g_assert_cmpstr(udp, ==, "udp ping");
    g_autofree char *ping_fw = client(&h, "work", "ping", FW6, 0);
    g_assert_cmpstr(ping_fw, ==, "pong");
    g_autofree char *ping_net = client(&h, "work", "ping", NET6, 0);
    g_assert_cmpstr(ping_net, ==, "pong");

    /* NAT at each netvm: fw sees work's address, net only fw's. */
    g_autofree char *from_work = client(&h, "work", "tcp", "fd00::2", srv.tcp_b);
    g_assert_cmpstr(from_work, ==, "hello B");
    g_autofree char *at_fw = tracked6(&h, "fw", srv.tcp_b);
    g_test_message("fw tracks: %s", at_fw);
    g_assert_nonnull(strstr(at_fw, "src=" WORK6 " "));
    g_autofree char *at_net = tracked6(&h, "net", srv.tcp_b);
    g_test_message("net tracks: %s", at_net);
    g_assert_nonnull(strstr(at_net, "src=" FW6 " "));
    g_assert_null(strstr(at_net, "src=" WORK6 " "));

    /* Never a sibling (the control: fw, on the link, reaches work's
     * listener), nor the netvm's own services (the control: net reaches
     * fw's), over IPv6 as over IPv4. */
    listen_on(&h, "work", TRUE);
    listen_on(&h, "fw", TRUE);
    g_autofree char *fw_to_work = client(&h, "fw", "tcp", WORK6, 8086);
    g_assert_cmpstr(fw_to_work, ==, "hello from work");
    g_autofree char *sibling = client(&h, "other", "tcp", WORK6, 8086);
    g_test_message("other -> work over IPv6: %s", sibling);
    g_assert_cmpstr(sibling, ==, "timeout");
    g_autofree char *net_to_fw = client(&h, "net", "tcp", FW6, 8086);
    g_assert_cmpstr(net_to_fw, ==, "hello from fw");
    g_autofree char *to_fw = client(&h, "work", "tcp", FW6, 8086);
    g_test_message("work -> fw's service over IPv6: %s", to_fw);
    g_assert_cmpstr(to_fw, ==, "timeout");
    /* plain cannot send IPv6 even with root in its namespace: its vif in fw
     * has IPv6 off (the kernel drops it there). */
    g_free(root_in(&h, "plain",
                   "sysctl -q -w net.ipv6.conf.eth0.disable_ipv6=0\n"
                   "ip -6 addr add fd09:24ef:4179::a89:5/128 dev eth0 nodad\n"
                   "ip -6 route add " FW6 "/128 dev eth0\n"
                   "ip -6 route add default via " FW6 " dev eth0"));
    g_autofree char *plain_out = client(&h, "plain", "tcp", "fd00::2", srv.tcp_a);
    g_test_message("plain, IPv6 forced on its own end: %s", plain_out);
    g_assert_cmpstr(plain_out, !=, "hello A");

    /* The firewall per family: an IPv6 address and port, then a host name
     * whose A and AAAA records are both blocked (its IPv6 half on traffic). */
    g_autofree char *rule = g_strdup_printf("action=drop dsthost=fd00::2 proto=tcp dstports=%u", srv.tcp_a);
    g_autofree char *rules = compile(rule, NULL);
    set_firewall(&h, "work", rules);
    g_autofree char *blocked = client(&h, "work", "tcp", "fd00::2", srv.tcp_a);
    g_assert_cmpstr(blocked, ==, "timeout");
    g_autofree char *other_port = client(&h, "work", "tcp", "fd00::2", srv.tcp_b);
    g_assert_cmpstr(other_port, ==, "hello B");
    const char *const resolved[] = {"10.0.2.2", "fd00::2", NULL};
    g_autofree char *name_rule =
        g_strdup_printf("action=drop dsthost=host.test proto=tcp dstports=%u", srv.tcp_b);
    g_autofree char *name_rules = compile(name_rule, resolved);
    g_assert_nonnull(strstr(name_rules, "ip daddr { 10.0.2.2 }"));
    set_firewall(&h, "work", name_rules);
    g_autofree char *name_blocked = client(&h, "work", "tcp", "fd00::2", srv.tcp_b);
    g_assert_cmpstr(name_blocked, ==, "timeout");
    g_autofree char *name_open = client(&h, "work", "tcp", "fd00::2", srv.tcp_a);
    g_assert_cmpstr(name_open, ==, "hello A");
    set_firewall(&h, "work", NULL);
    g_autofree char *lifted = await(&h, "work", "tcp", "fd00::2", srv.tcp_b, "hello B");
    g_assert_cmpstr(lifted, ==, "hello B");

    /* dom0's ::1 is out of reach without the uplink's host loopback (the
     * default): net started again without it, fw relinked under it. The
     * control: the path is up (work pings net). */
    g_assert_true(bh_harness_shutdown(&h, "net", 5, &error));
    BhTestQube closed = net6;
    closed.uplink_host_loopback = FALSE;
    g_assert_true(bh_harness_start(&h, &closed, &error));
    g_autofree char *path_up = await(&h, "work", "ping", NET6, 0, "pong");
    g_assert_cmpstr(path_up, ==, "pong");
    g_autofree char *closed_out = client(&h, "work", "tcp", "fd00::2", srv.tcp_a);
    g_test_message("work -> the host's ::1 without host loopback: %s", closed_out);
    g_assert_true(g_str_equal(closed_out, "ENETUNREACH") || g_str_equal(closed_out, "ECONNREFUSED") ||
                  g_str_equal(closed_out, "ECONNRESET") || g_str_equal(closed_out, "timeout"));

    bh_harness_teardown(&h);
    servers_stop(&srv);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/network/netvm-links", test_network);
    g_test_add_func("/sandbox/network/live", test_live);
    g_test_add_func("/sandbox/network/ipv6", test_ipv6);
    g_test_add_func("/sandbox/network/uplink-unix", test_uplink_unix);
    return g_test_run();
}
