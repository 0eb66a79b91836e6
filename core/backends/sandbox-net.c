/* sandbox-net.c — veth links, netvm forwarding and NAT, the uplink; see
 * sandbox-net.h.
 *
 * The commands are fixed text plus addresses and interface names derived
 * from qids (integers) by the daemon, so nothing a qube chooses ever reaches
 * them. Must never change the host's own network configuration: every `ip`,
 * `nft` and `sysctl` runs inside a qube's namespace, and the uplink is
 * slirp4netns run as the netvm's own unprivileged host uid.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bulkhead/qubes.h"
#include "sandbox-seccomp.h"
#include "sandbox-spawn.h"

/* Runs argv inside pid's network namespace with input on stdin. */
static gboolean bh_net_run(pid_t pid, const char *const *argv, const char *input, GError **error)
{
    g_autofree char *ns = g_strdup_printf("--net=/proc/%d/ns/net", (int)pid);
    g_autoptr(GPtrArray) full = g_ptr_array_new();
    g_ptr_array_add(full, "nsenter");
    g_ptr_array_add(full, ns);
    g_ptr_array_add(full, "--");
    for (const char *const *a = argv; *a; a++)
        g_ptr_array_add(full, (gpointer)*a);
    g_ptr_array_add(full, NULL);

    g_autoptr(GSubprocess) p = g_subprocess_newv(
        (const char *const *)full->pdata,
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
        error);
    g_autofree char *err = NULL;
    if (p == NULL || !g_subprocess_communicate_utf8(p, input, NULL, NULL, &err, error))
        return FALSE;
    if (!g_subprocess_get_successful(p)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed in the network namespace of pid %d: %s",
                    argv[0], (int)pid, err ? g_strstrip(err) : "");
        return FALSE;
    }
    return TRUE;
}

gboolean bh_sandbox_net_provide(pid_t pid, gboolean ipv6, GError **error)
{
    /* Liberal TCP tracking: a segment outside the window conntrack expects
     * (a user-mode stack's acknowledgements under load) is not made INVALID,
     * which would otherwise leave the netvm un-NATed and be reset upstream. */
    static const char *const sysctl[] = {"sysctl", "-q", "-w", "net.ipv4.ip_forward=1", NULL};
    static const char *const liberal[] = {"sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_be_liberal=1",
                                          NULL};
    /* Forwarding for IPv6 (all interfaces; a vif of a client without IPv6
     * has IPv6 off, so nothing comes in there). It also makes the kernel
     * ignore router advertisements, so the netvm's own routes stay ours. */
    static const char *const forward6[] = {"sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1", NULL};
    static const char *const nft[] = {"nft", "-f", "-", NULL};
    g_autofree char *rules = bh_net_rules_netvm(ipv6);
    /* The conntrack sysctls exist once the rules brought conntrack in. */
    return bh_net_run(pid, sysctl, NULL, error) && (!ipv6 || bh_net_run(pid, forward6, NULL, error)) &&
           bh_net_run(pid, nft, rules, error) && bh_net_run(pid, liberal, NULL, error);
}

void bh_net_cmd_free(gpointer data)
{
    BhNetCmd *cmd = data;
    g_strfreev(cmd->argv);
    g_free(cmd->input);
    g_free(cmd);
}

GPtrArray *bh_net_cmds_new(void)
{
    return g_ptr_array_new_with_free_func(bh_net_cmd_free);
}

static void bh_net_add(GPtrArray *cmds, pid_t pid, gboolean may_fail, char *input, const char *arg0, ...)
{
    BhNetCmd *cmd = g_new0(BhNetCmd, 1);
    GPtrArray *argv = g_ptr_array_new();
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, g_strdup(a));
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    cmd->pid = pid;
    cmd->argv = (GStrv)g_ptr_array_free(argv, FALSE);
    cmd->input = input;
    cmd->may_fail = may_fail;
    g_ptr_array_add(cmds, cmd);
}

gboolean bh_sandbox_net_run_cmds(GPtrArray *cmds, GError **error)
{
    for (guint i = 0; i < cmds->len; i++) {
        BhNetCmd *cmd = cmds->pdata[i];
        g_autoptr(GError) local = NULL;
        if (cmd->pid <= 0)
            continue;
        if (bh_net_run(cmd->pid, (const char *const *)cmd->argv, cmd->input, &local))
            continue;
        if (!cmd->may_fail) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        g_debug("%s", local->message);
    }
    return TRUE;
}

void bh_sandbox_net_link_cmds(GPtrArray *cmds, pid_t netvm_pid, const char *gateway, const char *gateway6,
                              pid_t pid, guint32 qid, const char *address, const char *address6)
{
    gboolean ipv6 = gateway6 != NULL && address6 != NULL;
    /* A link left from before (a relink racing the netvm's restart) goes
     * first, so that the pair can be made again. */
    bh_sandbox_net_unlink_cmds(cmds, netvm_pid, pid, qid);
    /* The uplink's MTU on every link: TCP's segment size is set end to
     * end, and slirp4netns's cost is per segment, so at 1500 a qube behind
     * sys-net got a quarter of sys-net's own throughput (bench/net). The
     * links are virtual end to end: nothing on a real wire sees it. */
    bh_net_add(cmds, netvm_pid, FALSE,
               g_strdup_printf("link add vif%u mtu %d type veth peer name eth0 mtu %d netns %d\n", qid,
                               BH_SANDBOX_LINK_MTU, BH_SANDBOX_LINK_MTU, (int)pid),
               "ip", "-batch", "-", NULL);
    /* Set before the link is up, so that it holds from the first packet.
     * Without IPv6: none on the link, so that no link-local address is
     * ever made and the two ends do not even find each other (the netvm's
     * rules drop IPv6 anyway: bh_net_rules_netvm). With it: no duplicate
     * detection (the link has two ends, both ours; the addresses are
     * usable at once) and no router advertisements taken (the routes are
     * the ones set here). A kernel without IPv6 has no such settings. */
    g_autofree char *vif_conf = g_strdup_printf("net.ipv6.conf.vif%u.", qid);
    static const char *const v6_off[] = {"disable_ipv6=1", NULL};
    static const char *const v6_on[] = {"accept_dad=0", "accept_ra=0", NULL};
    for (const char *const *k = ipv6 ? v6_on : v6_off; *k; k++) {
        g_autofree char *vif_key = g_strconcat(vif_conf, *k, NULL);
        g_autofree char *eth_key = g_strconcat("net.ipv6.conf.eth0.", *k, NULL);
        bh_net_add(cmds, netvm_pid, TRUE, NULL, "sysctl", "-q", "-w", vif_key, NULL);
        bh_net_add(cmds, pid, TRUE, NULL, "sysctl", "-q", "-w", eth_key, NULL);
    }
    /* IPv6 as IPv4: the qube's address/128, a route to its netvm's own
     * address on the link, the default route through it; the netvm holds
     * its own address on every vif with a route back to the qube. */
    g_autofree char *netvm6 =
        ipv6 ? g_strdup_printf("addr add %s/128 dev vif%u nodad\nroute add %s/128 dev vif%u\n", gateway6, qid,
                               address6, qid)
             : g_strdup("");
    g_autofree char *qube6 = ipv6 ? g_strdup_printf("addr add %s/128 dev eth0 nodad\n"
                                                    "route add %s/128 dev eth0\n"
                                                    "route add default via %s dev eth0\n",
                                                    address6, gateway6, gateway6)
                                  : g_strdup("");
    bh_net_add(cmds, netvm_pid, FALSE,
               g_strdup_printf("addr add %s/32 dev vif%u\n"
                               "link set vif%u up\n"
                               "route add %s/32 dev vif%u\n"
                               "%s",
                               gateway, qid, qid, address, qid, netvm6),
               "ip", "-batch", "-", NULL);
    bh_net_add(cmds, pid, FALSE,
               g_strdup_printf("addr add %s/32 dev eth0\n"
                               "link set eth0 up\n"
                               "route add %s/32 dev eth0\n"
                               "route add default via %s dev eth0\n"
                               "%s",
                               address, gateway, gateway, qube6),
               "ip", "-batch", "-", NULL);
    /* ping works for the qube's own users, as on a desktop distribution
     * (ICMP datagram sockets, no raw socket or capability; the setting
     * covers ICMPv6 too); it belongs to the qube's namespace only. */
    bh_net_add(cmds, pid, TRUE, NULL, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647", NULL);
}

void bh_sandbox_net_unlink_cmds(GPtrArray *cmds, pid_t netvm_pid, pid_t pid, guint32 qid)
{
    /* Deleting one end of a veth pair deletes the other, and the qube's
     * routes with it; the qube's own end goes too in case its netvm's is
     * gone already. */
    g_autofree char *vif = g_strdup_printf("vif%u", qid);
    bh_net_add(cmds, netvm_pid, TRUE, NULL, "ip", "link", "del", vif, NULL);
    bh_net_add(cmds, pid, TRUE, NULL, "ip", "link", "del", "eth0", NULL);
}

void bh_sandbox_net_firewall_cmds(GPtrArray *cmds, pid_t netvm_pid, const BhNetClient *clients,
                                  gsize n_clients, const char *flush_address)
{
    bh_net_add(cmds, netvm_pid, FALSE, bh_net_rules_firewall(clients, n_clients, FALSE), "nft", "-f", "-",
               NULL);
    /* conntrack exits 1 when there was nothing to forget. */
    if (flush_address)
        bh_net_add(cmds, netvm_pid, TRUE, NULL, "conntrack", "-D", "-s", flush_address, NULL);
}

/* The first "nameserver ADDR" of an IPv4 address in resolv.conf, or NULL. */
static char *bh_net_host_resolver(const char *resolv_conf)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(resolv_conf, &text, NULL, NULL))
        return NULL;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) w = g_strsplit_set(g_strstrip(*l), " \t", 3);
        if (w[0] && w[1] && strcmp(w[0], "nameserver") == 0 && g_hostname_is_ip_address(w[1]) &&
            strchr(w[1], ':') == NULL)
            return g_strdup(w[1]);
    }
    return NULL;
}

/* Where sys-net sends the virtual DNS servers. Without resolv_conf:
 * slirp4netns's own forwarder, which asks the host's resolvers (libslirp
 * reads /etc/resolv.conf itself; its forwarder is not the host mapping
 * that host_loopback opens, so it works either way). With one (the tests, or a
 * configured resolver): its first nameserver; the host's 127.0.0.1 is
 * reached at the uplink's host address, which slirp4netns maps to the
 * host's loopback only when host_loopback allows it. */
static char *bh_net_dns_target(const char *resolv_conf, gboolean host_loopback)
{
    if (resolv_conf == NULL)
        return g_strdup(BH_SANDBOX_UPLINK_DNS);
    g_autofree char *resolver = bh_net_host_resolver(resolv_conf);
    if (resolver == NULL) {
        g_warning("%s names no IPv4 nameserver: the uplink's DNS asks the host's /etc/resolv.conf",
                  resolv_conf);
        return g_strdup(BH_SANDBOX_UPLINK_DNS);
    }
    if (strcmp(resolver, "127.0.0.1") == 0 && host_loopback)
        return g_strdup(BH_SANDBOX_UPLINK_HOST);
    if (strcmp(resolver, "127.0.0.1") == 0) {
        /* Expected (the default), so not a warning. */
        g_message("%s names the host's 127.0.0.1, which sys-net may not reach (network_uplink_host_loopback "
                  "is off): its DNS asks the host's /etc/resolv.conf",
                  resolv_conf);
        return g_strdup(BH_SANDBOX_UPLINK_DNS);
    }
    if (g_str_has_prefix(resolver, "127.")) {
        g_warning("the uplink reaches only 127.0.0.1 of the host's loopback, not %s: its DNS asks the host's "
                  "/etc/resolv.conf",
                  resolver);
        return g_strdup(BH_SANDBOX_UPLINK_DNS);
    }
    return g_steal_pointer(&resolver);
}

/* The host's own addresses but loopback and link-local (which the uplink
 * cannot reach anyway), as nft sets: "{ a, b }" per family, NULL for none;
 * except: one address left out (the DNS target the netvm must reach). Read
 * in the daemon, which runs in the host's network namespace. */
static void bh_net_host_addresses(const char *except, char **v4, char **v6)
{
    struct ifaddrs *all = NULL;
    g_autoptr(GString) s4 = g_string_new(NULL);
    g_autoptr(GString) s6 = g_string_new(NULL);
    *v4 = *v6 = NULL;
    if (getifaddrs(&all) < 0) {
        g_warning("cannot list the host's addresses (%s): sys-net may reach dom0's services on them",
                  g_strerror(errno));
        return;
    }
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (struct ifaddrs *a = all; a; a = a->ifa_next) {
        char text[INET6_ADDRSTRLEN];
        GString *set = NULL;
        if (a->ifa_addr == NULL)
            continue;
        if (a->ifa_addr->sa_family == AF_INET) {
            const struct in_addr *in = &((const struct sockaddr_in *)a->ifa_addr)->sin_addr;
            if ((ntohl(in->s_addr) >> 24) == 127 || !inet_ntop(AF_INET, in, text, sizeof text))
                continue;
            set = s4;
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            const struct in6_addr *in6 = &((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LOOPBACK(in6) || IN6_IS_ADDR_LINKLOCAL(in6) ||
                !inet_ntop(AF_INET6, in6, text, sizeof text))
                continue;
            set = s6;
        }
        if (set == NULL || g_strcmp0(text, except) == 0 || !g_hash_table_add(seen, g_strdup(text)))
            continue;
        g_string_append_printf(set, "%s%s", set->len ? ", " : "", text);
    }
    freeifaddrs(all);
    if (s4->len)
        *v4 = g_strdup_printf("{ %s }", s4->str);
    if (s6->len)
        *v6 = g_strdup_printf("{ %s }", s6->str);
}

/* With the host's loopback closed, the rest of dom0 is closed too: nothing
 * leaves sys-net (its own or forwarded) for one of the host's other
 * addresses, which slirp4netns would otherwise connect to from inside the
 * host (dom0's services on its LAN address, a bridge, a VPN's). Qubes' dom0
 * has no network at all. The addresses are those of the uplink's start. */
static char *bh_net_host_rules(const char *dns)
{
    g_autofree char *v4 = NULL, *v6 = NULL;
    bh_net_host_addresses(dns, &v4, &v6);
    g_autofree char *drop4 = v4 ? g_strdup_printf("    ip daddr %s drop\n", v4) : g_strdup("");
    g_autofree char *drop6 = v6 ? g_strdup_printf("    ip6 daddr %s drop\n", v6) : g_strdup("");
    return g_strdup_printf("table inet bulkhead-host\n"
                           "delete table inet bulkhead-host\n"
                           "table inet bulkhead-host {\n"
                           "  chain output {\n"
                           "    type filter hook output priority filter; policy accept;\n"
                           "%s%s"
                           "  }\n"
                           "  chain forward {\n"
                           "    type filter hook forward priority filter; policy accept;\n"
                           "%s%s"
                           "  }\n"
                           "}\n",
                           drop4, drop6, drop4, drop6);
}

#define BH_NET_UPLINK_FD_USERNS BH_SANDBOX_UPLINK_FD_USERNS
#define BH_NET_UPLINK_FD_NETNS  BH_SANDBOX_UPLINK_FD_NETNS
#define BH_NET_UPLINK_FD_READY  5
#define BH_NET_UPLINK_FD_CGROUP 6

/* Where the uplink's root is built, in its own mount namespace (the host's
 * directory is not touched: the tmpfs hides it there only). */
#define BH_NET_UPLINK_ROOT "/tmp"

/* The program run between fork and exec for slirp4netns (sandbox-spawn.h):
 * it joins the netvm's control groups (while still root: its memory and
 * pids count against the netvm's limits, it is frozen and killed with it,
 * and a crashed daemon's sweep of the group takes it too), gets a root of
 * its own with only what it needs, read-only: the programs and libraries
 * (/usr and the links or directories beside it), /etc (its forwarder reads
 * resolv.conf, the loader ld.so.cache; plus the directory resolv.conf
 * leads to when it is a link out of /etc), /dev/null, /dev/urandom,
 * /dev/net/tun, and the two namespaces it joins as files (/netns, /userns).
 * No /home, /tmp, /run, /proc, /var or /work: a slirp4netns taken over by
 * what sys-net sends finds none of dom0's files or sockets there. Then it
 * runs as the netvm's own host uid with no supplementary groups, and under
 * a filter that refuses it any AF_UNIX socket: it stays in the host's
 * network namespace (it is the uplink), where abstract sockets are reached
 * by name alone, whatever its root (dom0's session bus, X, systemd's). */
BhSandboxSetup *bh_sandbox_net_uplink_setup(uid_t uid, gid_t gid, guint n_cgroup_fds, gboolean filter,
                                            GError **error)
{
    g_autoptr(GBytes) program = filter ? bh_sandbox_seccomp_uplink_program(error) : NULL;
    if (filter && program == NULL)
        return NULL;
    BhSandboxSetup *s = bh_sandbox_setup_new(TRUE, uid, gid);
    for (guint i = 0; i < n_cgroup_fds; i++)
        bh_sandbox_setup_add_cgroup_fd(s, BH_NET_UPLINK_FD_CGROUP + (int)i);
    bh_sandbox_setup_tmpfs(s, BH_NET_UPLINK_ROOT, "mode=0755,size=64k,nr_inodes=64");
    static const char *const top[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"};
    for (gsize i = 0; i < G_N_ELEMENTS(top); i++) {
        g_autofree char *host = g_strconcat("/", top[i], NULL);
        g_autofree char *inside = g_strconcat(BH_NET_UPLINK_ROOT "/", top[i], NULL);
        g_autofree char *link = g_file_read_link(host, NULL);
        if (link) {
            bh_sandbox_setup_symlink(s, link, inside);
        } else if (g_file_test(host, G_FILE_TEST_IS_DIR)) {
            bh_sandbox_setup_mkdir(s, inside, 0755);
            bh_sandbox_setup_bind_ro(s, host, inside);
        }
    }
    /* resolv.conf as a link out of /etc (systemd-resolved's in /run): its
     * directory, so that a rewritten file is seen. */
    g_autofree char *resolv = realpath("/etc/resolv.conf", NULL);
    if (resolv && !g_str_has_prefix(resolv, "/etc/") && !g_str_has_prefix(resolv, "/usr/")) {
        g_autofree char *dir = g_path_get_dirname(resolv);
        g_auto(GStrv) parts = g_strsplit(dir + 1, "/", -1);
        g_autoptr(GString) inside = g_string_new(BH_NET_UPLINK_ROOT);
        for (char **p = parts; *p; p++) {
            g_string_append_printf(inside, "/%s", *p);
            bh_sandbox_setup_mkdir(s, inside->str, 0755);
        }
        bh_sandbox_setup_bind_ro(s, dir, inside->str);
    }
    bh_sandbox_setup_mkdir(s, BH_NET_UPLINK_ROOT "/dev", 0755);
    bh_sandbox_setup_mkdir(s, BH_NET_UPLINK_ROOT "/dev/net", 0755);
    static const char *const devs[] = {"/dev/null", "/dev/urandom", "/dev/net/tun"};
    for (gsize i = 0; i < G_N_ELEMENTS(devs); i++) {
        if (!g_file_test(devs[i], G_FILE_TEST_EXISTS))
            continue;
        g_autofree char *inside = g_strconcat(BH_NET_UPLINK_ROOT, devs[i], NULL);
        bh_sandbox_setup_touch(s, inside);
        bh_sandbox_setup_bind(s, devs[i], inside);
    }
    bh_sandbox_setup_touch(s, BH_NET_UPLINK_ROOT "/netns");
    bh_sandbox_setup_bind(s, "/proc/self/fd/" G_STRINGIFY(BH_NET_UPLINK_FD_NETNS),
                          BH_NET_UPLINK_ROOT "/netns");
    bh_sandbox_setup_touch(s, BH_NET_UPLINK_ROOT "/userns");
    bh_sandbox_setup_bind(s, "/proc/self/fd/" G_STRINGIFY(BH_NET_UPLINK_FD_USERNS),
                          BH_NET_UPLINK_ROOT "/userns");
    bh_sandbox_setup_pivot(s, BH_NET_UPLINK_ROOT);
    if (program)
        bh_sandbox_setup_seccomp(s, program);
    return s;
}

/* Waits until fd has a byte ("1": slirp4netns configured the interface) or
 * EOF (it exited), for at most timeout_ms. */
static gboolean bh_net_wait_ready(int fd, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        gint64 left = (end - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            return FALSE;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        return r == 1;
    }
}

GSubprocess *bh_sandbox_net_uplink(pid_t pid, uid_t uid, gid_t gid, const char *resolv_conf,
                                   gboolean host_loopback, gboolean ipv6, GArray *cgroup_fds, GError **error)
{
    g_autofree char *netns_path = g_strdup_printf("/proc/%d/ns/net", (int)pid);
    g_autofree char *dns = bh_net_dns_target(resolv_conf, host_loopback);
    /* slirp4netns joins the namespaces as the qube's uid, so it gets them
     * as descriptors of its own: the network namespace and the user
     * namespace that owns it (bubblewrap nests another one inside, which
     * holds no rights over the network namespace). It keeps fd 4 open for
     * its life, which is how a later daemon finds it (sandbox-takeover.c);
     * it opens them as /netns and /userns of its own root. */
    int netns = open(netns_path, O_RDONLY | O_CLOEXEC);
    int userns = netns >= 0 ? ioctl(netns, NS_GET_USERNS) : -1;
    int ready[2] = {-1, -1};
    if (netns < 0 || userns < 0 || pipe2(ready, O_CLOEXEC) < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot open the namespaces of pid %d (or a pipe) for the uplink: %s", (int)pid,
                    g_strerror(e));
        if (netns >= 0)
            close(netns);
        if (userns >= 0)
            close(userns);
        return NULL;
    }
    /* Not pasta: Debian 12's pasta (March 2023) answers a half-closed
     * connection's reply many times over and resets bulk transfers, even
     * on a quiet machine (bench/net/README.md). The MTU: see
     * bh_sandbox_net_link_cmds. seccomp: slirp4netns's own filter. Its
     * --enable-sandbox cannot work here: it enters the netvm's user
     * namespace and becomes uid 0 there, which bubblewrap does not map
     * (the qube's user is 1000); bh_net_uplink_setup gives it a smaller
     * root of our own instead (docs/sandbox.md). The host's loopback is
     * out of reach unless asked for: slirp4netns would otherwise map
     * BH_SANDBOX_UPLINK_HOST to the host's 127.0.0.1, where dom0's local
     * services (a D-Bus over TCP, CUPS, databases) listen for no qube. The
     * tests ask for it: their "internet" listens there. */
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, "slirp4netns");
    if (!host_loopback)
        g_ptr_array_add(argv, "--disable-host-loopback");
    /* IPv6 only when sys-net has it (its ipv6 property): without it, the
     * netvm has no IPv6 way out at all. */
    if (ipv6)
        g_ptr_array_add(argv, "--enable-ipv6");
    static const char *const rest[] = {"--configure",
                                       "--mtu=" G_STRINGIFY(BH_SANDBOX_LINK_MTU),
                                       "--enable-seccomp",
                                       "--ready-fd=" G_STRINGIFY(BH_NET_UPLINK_FD_READY),
                                       "--userns-path=/userns",
                                       "--netns-type=path",
                                       "/netns",
                                       BH_SANDBOX_UPLINK_IF,
                                       NULL};
    for (const char *const *a = rest; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    guint n_cgroup_fds = cgroup_fds ? MIN(cgroup_fds->len, 8) : 0;
    g_autoptr(BhSandboxSetup) setup = bh_sandbox_net_uplink_setup(uid, gid, n_cgroup_fds, TRUE, error);
    if (setup == NULL) {
        close(netns);
        close(userns);
        close(ready[0]);
        close(ready[1]);
        return NULL;
    }
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                  G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_set_child_setup(launcher, bh_sandbox_setup_child, setup, NULL);
    g_subprocess_launcher_take_fd(launcher, userns, BH_NET_UPLINK_FD_USERNS);
    g_subprocess_launcher_take_fd(launcher, netns, BH_NET_UPLINK_FD_NETNS);
    g_subprocess_launcher_take_fd(launcher, ready[1], BH_NET_UPLINK_FD_READY);
    for (guint i = 0; i < n_cgroup_fds; i++)
        g_subprocess_launcher_take_fd(launcher, g_array_index(cgroup_fds, int, i),
                                      BH_NET_UPLINK_FD_CGROUP + (int)i);
    for (guint i = n_cgroup_fds; cgroup_fds && i < cgroup_fds->len; i++)
        close(g_array_index(cgroup_fds, int, i));
    if (cgroup_fds)
        g_array_set_size(cgroup_fds, 0); /* the launcher's now */
    g_autoptr(GSubprocess) p =
        g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
    /* Our copy of the write end goes, so that its exit is EOF. */
    g_clear_object(&launcher);
    if (p == NULL) {
        close(ready[0]);
        g_prefix_error(error, "cannot start the uplink (slirp4netns): ");
        /* The user's next step, in the card that tells the failure. */
        if (error != NULL && g_error_matches(*error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT)) {
            char *told =
                g_strdup_printf("%s; install slirp4netns, then start the qube again", (*error)->message);
            g_free((*error)->message);
            (*error)->message = told;
        }
        return NULL;
    }
    /* It configures the interface (address, default route) before it
     * says so: the netvm is usable once it runs. Waits for that event, not
     * for a time; the bound is for a slirp4netns that hangs. */
    gboolean up = bh_net_wait_ready(ready[0], 30000);
    close(ready[0]);
    if (!up) {
        g_subprocess_force_exit(p);
        g_subprocess_wait(p, NULL, NULL);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the uplink (slirp4netns) did not configure %s (exit status %d)", BH_SANDBOX_UPLINK_IF,
                    g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1);
        return NULL;
    }
    /* The virtual DNS servers, for the qubes and sys-net itself, go to
     * dns (answers come back from it, so that connection tracking matches
     * them through each NAT). Before the common rules' second-server
     * redirection (dstnat, -100). */
    g_autofree char *rules = g_strdup_printf(
        "table ip bulkhead-dns\n"
        "delete table ip bulkhead-dns\n"
        "table ip bulkhead-dns {\n"
        "  chain prerouting {\n"
        "    type nat hook prerouting priority -101; policy accept;\n"
        "    ip daddr { " BH_NET_DNS1 ", " BH_NET_DNS2 " } meta l4proto { tcp, udp } th dport 53 dnat to %s\n"
        "  }\n"
        "  chain output {\n"
        "    type nat hook output priority -101; policy accept;\n"
        "    ip daddr { " BH_NET_DNS1 ", " BH_NET_DNS2 " } meta l4proto { tcp, udp } th dport 53 dnat to %s\n"
        "  }\n"
        "}\n",
        dns, dns);
    static const char *const nft[] = {"nft", "-f", "-", NULL};
    /* slirp4netns configures only IPv4; its IPv6 side (BH_SANDBOX_UPLINK_NET6)
     * would come by router advertisement, which a forwarding netvm ignores:
     * the address and the route are set here, at once (no duplicate
     * detection: slirp4netns is the link's only other end). */
    static const char *const ip[] = {"ip", "-batch", "-", NULL};
    static const char uplink6[] =
        "addr add " BH_SANDBOX_UPLINK_ADDR6 "/64 dev " BH_SANDBOX_UPLINK_IF " nodad\n"
        "route add default via " BH_SANDBOX_UPLINK_HOST6 " dev " BH_SANDBOX_UPLINK_IF "\n";
    g_autofree char *host_rules = host_loopback ? NULL : bh_net_host_rules(dns);
    if (!bh_net_run(pid, nft, rules, error) || (host_rules && !bh_net_run(pid, nft, host_rules, error)) ||
        (ipv6 && !bh_net_run(pid, ip, uplink6, error))) {
        g_subprocess_force_exit(p);
        return NULL;
    }
    return g_steal_pointer(&p);
}
