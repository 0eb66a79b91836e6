/* net-rules.c — a netvm's nftables text; see net-rules.h.
 *
 * Moved out of sandbox-net.c unchanged in substance, so that the xen backend
 * enforces the same model from the same text.
 */
#include "net-rules.h"

#include "bulkhead/qubes.h"

/* Qubes behind a netvm never reach each other (vif to vif is dropped) nor
 * the netvm's own services (input from a vif: replies and ping only; with
 * IPv6 also neighbour discovery, which is ICMPv6); they reach whatever the
 * netvm forwards to upstream (its eth0 or the uplink), masqueraded so that
 * the upstream needs no route back. The second virtual DNS server is sent
 * to the first: the netvm uses BH_NET_DNS1 itself (through its own netvm,
 * or for the last one, the uplink's DNS target); DNS stays IPv4 with IPv6
 * on, as in Qubes. The chain "firewall" is where the per-qube rules go
 * (jump from each vif; they are written for both families).
 * Without IPv6 (the netvm's ipv6 off, the default), none passes the netvm
 * (forward) or reaches it from a vif (input), whatever a qube or a netvm
 * configures in its own namespace (the links also come up with IPv6 off:
 * bh_sandbox_net_link_cmds). With it, a client whose own link has IPv6
 * off still cannot send any: the kernel drops IPv6 on such a vif. */
char *bh_net_rules_netvm(gboolean ipv6)
{
    const char *v6_drop = ipv6 ? "" : "    meta nfproto ipv6 drop\n";
    return g_strdup_printf("table inet bulkhead\n"
                           "delete table inet bulkhead\n"
                           "table inet bulkhead {\n"
                           "  chain input {\n"
                           "    type filter hook input priority filter; policy accept;\n"
                           "    iifname != \"vif*\" accept\n"
                           "%s"
                           "    ct state established,related accept\n"
                           "    meta l4proto %s accept\n"
                           "    drop\n"
                           "  }\n"
                           "  chain firewall {\n"
                           "  }\n"
                           "  chain forward {\n"
                           "    type filter hook forward priority filter; policy drop;\n"
                           "%s"
                           "    iifname \"vif*\" oifname \"vif*\" drop\n"
                           "    ct state invalid drop\n"
                           "    iifname \"vif*\" jump firewall\n"
                           "    ct state established,related accept\n"
                           "    iifname \"vif*\" accept\n"
                           "  }\n"
                           "  chain dns {\n"
                           "    type nat hook prerouting priority dstnat; policy accept;\n"
                           "    iifname \"vif*\" ip daddr " BH_NET_DNS2
                           " meta l4proto { tcp, udp } th dport 53 dnat ip to " BH_NET_DNS1 "\n"
                           "  }\n"
                           "  chain postrouting {\n"
                           "    type nat hook postrouting priority srcnat; policy accept;\n"
                           "    oifname != \"vif*\" ip saddr { 10.137.0.0/16, 10.138.0.0/16 } masquerade\n"
                           "%s"
                           "  }\n"
                           "}\n",
                           v6_drop, ipv6 ? "{ icmp, ipv6-icmp }" : "icmp", v6_drop,
                           ipv6 ? "    oifname != \"vif*\" ip6 saddr " BH_NET_PREFIX6
                                  "/" G_STRINGIFY(BH_NET_PREFIX6_LEN) " masquerade\n"
                                : "");
}

char *bh_net_rules_firewall(const BhNetClient *clients, gsize n_clients, gboolean drop_others)
{
    /* Each packet a client sends goes through its chain (the forward
     * chain jumps here before it accepts established connections), so a
     * rule takes effect on open connections too. */
    GString *nft = g_string_new("flush chain inet bulkhead firewall\n");
    for (gsize i = 0; i < n_clients; i++) {
        guint32 qid = clients[i].qid;
        g_string_append_printf(nft, "add chain inet bulkhead fw-%u\nflush chain inet bulkhead fw-%u\n", qid,
                               qid);
        g_auto(GStrv) lines = g_strsplit(clients[i].rules ? clients[i].rules : "accept", "\n", -1);
        for (char **l = lines; *l; l++) {
            if (**l)
                g_string_append_printf(nft, "add rule inet bulkhead fw-%u %s\n", qid, *l);
        }
        g_string_append_printf(nft, "add rule inet bulkhead firewall iifname \"vif%u\" goto fw-%u\n", qid,
                               qid);
    }
    if (drop_others)
        g_string_append(nft, "add rule inet bulkhead firewall iifname \"vif*\" drop\n");
    return g_string_free(nft, FALSE);
}
