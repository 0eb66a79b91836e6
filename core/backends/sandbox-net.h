/* sandbox-net.h — the network between sandbox qubes, their netvms and the
 * real network.
 *
 * Owns the veth pair that links a qube's network namespace to its netvm's
 * (vif<qid> in the netvm, eth0 in the qube), the addresses as Qubes gives
 * them (bulkhead/netaddr.h: 10.137.x.y, a disposable's 10.138.x.y, /32, the
 * gateway being the netvm's own address, DNS the virtual 10.139.1.1/.2), the
 * netvm's forwarding, NAT and isolation in nftables inside its own namespace
 * (qubes reach their netvm's upstream, never each other nor the netvm's own
 * services; the rules' text is net-rules.h's), and the uplink of a netvm without a netvm: slirp4netns(1),
 * user-mode networking, run as the qube's own host uid and attached to its
 * namespace.
 *
 * It runs `ip`, `nft` and `sysctl` through nsenter(1) into the namespaces,
 * synchronously: call it from a worker thread. It must never touch the host's
 * own network namespace (slirp4netns only opens sockets there, as the qube's
 * uid).
 */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "net-rules.h"
#include "sandbox-spawn.h"

G_BEGIN_DECLS

/* The name of a netvm's interface to the real network (slirp4netns's tap),
 * the netvm's default gateway, at which the uplink reaches the host's
 * 127.0.0.1 when asked to (host_loopback), and its DNS forwarder (to the
 * host's resolvers): slirp4netns's defaults on its 10.0.2.0/24. */
#define BH_SANDBOX_UPLINK_IF   "uplink0"
#define BH_SANDBOX_UPLINK_HOST "10.0.2.2"
#define BH_SANDBOX_UPLINK_DNS  "10.0.2.3"
/* Its IPv6 side when sys-net has IPv6: slirp4netns's fd00::/64, the host
 * (its ::1 when host_loopback) at fd00::2, and sys-net's own address. */
#define BH_SANDBOX_UPLINK_HOST6 "fd00::2"
#define BH_SANDBOX_UPLINK_ADDR6 "fd00::100"

/* The MTU of the uplink and of every veth link (the largest slirp4netns
 * takes): see bh_sandbox_net_link_cmds. */
#define BH_SANDBOX_LINK_MTU 65520

/* Makes the sandbox with init pid a netvm: forwarding on, the nftables rules
 * that keep its qubes apart and NAT what leaves it; ipv6: for IPv6 too
 * (FALSE: all IPv6 through it or into it from a client is dropped). */
gboolean bh_sandbox_net_provide(pid_t pid, gboolean ipv6, GError **error);

/* One command in a namespace: argv run through nsenter in pid's network
 * namespace with input on stdin. may_fail: its failure is only logged. */
typedef struct {
    pid_t pid;
    GStrv argv;
    char *input;
    gboolean may_fail;
} BhNetCmd;

void bh_net_cmd_free(gpointer cmd);
/* A GPtrArray of BhNetCmd*, freed with them. */
GPtrArray *bh_net_cmds_new(void);
/* Runs them in order; stops at the first failure that may not fail. */
gboolean bh_sandbox_net_run_cmds(GPtrArray *cmds, GError **error);

/* Links qube (qid, pid, address) to its netvm (netvm_pid, gateway: the
 * netvm's own address). gateway6 and address6: the same in IPv6 when both
 * have it (NULL: the link has no IPv6 at all). */
void bh_sandbox_net_link_cmds(GPtrArray *cmds, pid_t netvm_pid, const char *gateway, const char *gateway6,
                              pid_t pid, guint32 qid, const char *address, const char *address6);
/* Removes qube qid's link from its netvm (netvm_pid; 0: gone) and the qube's
 * end (pid; 0: gone). A link already gone is not an error. */
void bh_sandbox_net_unlink_cmds(GPtrArray *cmds, pid_t netvm_pid, pid_t pid, guint32 qid);

/* Replaces the whole per-qube firewall of the netvm (netvm_pid) with one
 * chain per linked client, in one nft transaction; then forgets the tracked
 * connections of flush_address (a qube whose rules changed: a connection
 * its new rules forbid is cut at once; NULL: none). */
void bh_sandbox_net_firewall_cmds(GPtrArray *cmds, pid_t netvm_pid, const BhNetClient *clients,
                                  gsize n_clients, const char *flush_address);

/* Starts slirp4netns on the namespace of init pid (a netvm without netvm),
 * as host uid:gid, and waits until it says its interface is configured.
 * resolv_conf: where the resolver the qubes' 10.139.1.1 goes to is listed
 * (its first nameserver; 127.0.0.1 is the host's); NULL: slirp4netns's
 * forwarder to the host's /etc/resolv.conf. host_loopback: the netvm reaches
 * the host's 127.0.0.1 at BH_SANDBOX_UPLINK_HOST (FALSE: never; a resolver
 * at 127.0.0.1 in resolv_conf is then replaced by the forwarder). ipv6: the
 * netvm gets IPv6 through it too (BH_SANDBOX_UPLINK_ADDR6; the host's ::1 at
 * BH_SANDBOX_UPLINK_HOST6 with host_loopback). cgroup_fds: the netvm's
 * cgroup.procs descriptors (bh_sandbox_cgroup_procs_fds()), which it joins
 * and takes over (the array is left empty); NULL: none. Returns the running
 * uplink. */
GSubprocess *bh_sandbox_net_uplink(pid_t pid, uid_t uid, gid_t gid, const char *resolv_conf,
                                   gboolean host_loopback, gboolean ipv6, GArray *cgroup_fds, GError **error);

/* The confinement the uplink runs in (sandbox-spawn.h; for
 * bh_sandbox_setup_child): its own read-only root, host uid:gid, and with
 * filter the seccomp filter that refuses AF_UNIX sockets (FALSE: only a
 * test's control). The child's BH_SANDBOX_UPLINK_FD_USERNS and _NETNS must
 * be the namespaces it is to find as /userns and /netns; cgroup.procs
 * descriptors follow from 6 (n_cgroup_fds of them). */
#define BH_SANDBOX_UPLINK_FD_USERNS 3
#define BH_SANDBOX_UPLINK_FD_NETNS  4
BhSandboxSetup *bh_sandbox_net_uplink_setup(uid_t uid, gid_t gid, guint n_cgroup_fds, gboolean filter,
                                            GError **error);

G_END_DECLS
