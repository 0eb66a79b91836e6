/* net-rules.h — the nftables text of a netvm, one generator for every backend.
 *
 * Owns what a netvm enforces for its clients: forwarding to its upstream
 * with NAT, no client reaching another client or the netvm's own services,
 * the second virtual DNS server sent to the first, and the per-client
 * firewall chains (docs/sandbox.md "Networking", docs/xen.md "Networking").
 * The sandbox backend feeds the text to nft inside the netvm's namespace
 * (sandbox-net.c); the xen backend writes it to the netvm's xenstore, where
 * the netvm's bulkhead-xen-net applies it (xen-net.c).
 * Clients are matched by interface: vif<qid> on both backends.
 * Must never: run anything, or take text a qube chose (everything here comes
 * from the daemon: qids, and rules bulkhead/firewall.h rendered).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One client of a netvm for its firewall: the rules of its chain (nft
 * statements, one a line, ending in its own verdict; NULL: accept all). */
typedef struct {
    guint32 qid;
    const char *rules;
} BhNetClient;

/* The netvm's table inet bulkhead, replacing any earlier one; ipv6: IPv6 is
 * routed and NATed too (FALSE: all IPv6 through the netvm or into it from a
 * client is dropped). */
char *bh_net_rules_netvm(gboolean ipv6);

/* One nft transaction that replaces the whole per-client firewall of the
 * netvm with a chain per client, jumped to from its vif<qid>. drop_others:
 * a vif of no client listed is dropped (xen: its netvm serves vifs that
 * dom0 makes, whose rules may not be written yet); FALSE: it passes (the
 * sandbox makes each link and its rules in one job). */
char *bh_net_rules_firewall(const BhNetClient *clients, gsize n_clients, gboolean drop_others);

G_END_DECLS
