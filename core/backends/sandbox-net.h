/* sandbox-net.h — the private network between sandbox qubes and their netvm.
 *
 * Owns the veth pair that links a qube's network namespace to its netvm's
 * (vif<qid> in the netvm, eth0 in the qube), the addresses (10.137.x.y for a
 * qube, 10.138.x.y for the netvm's side, derived from qids: namespaces we
 * create, never real hosts), and the netvm's forwarding with nftables inside
 * its own namespace: qubes may reach their netvm and, through it, its own
 * upstream; never each other. There is no uplink to the real network.
 *
 * It runs `ip`, `nft` and `sysctl` through nsenter(1) into the namespaces,
 * synchronously: call it from a worker thread. It must never touch the host's
 * own network namespace.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* "10.137.0.5": the address of qube qid on its link to its netvm. */
char *bh_sandbox_net_address(guint32 qid);
/* "10.138.0.3": the address netvm qid shows to the qubes behind it. */
char *bh_sandbox_net_gateway(guint32 netvm_qid);

/* Makes the sandbox with init pid a netvm: forwarding on, the nftables rules
 * that keep its qubes apart. */
gboolean bh_sandbox_net_provide(pid_t pid, GError **error);

/* Links qube (qid, pid) to its netvm (netvm_qid, netvm_pid). */
gboolean bh_sandbox_net_link(pid_t netvm_pid, guint32 netvm_qid, pid_t pid, guint32 qid, GError **error);

G_END_DECLS
