/* firewall.h — a qube's firewall rules as Qubes writes them: one rule a
 * line of key=value fields, in order, the first that matches deciding:
 *
 *   action=accept|drop [dsthost=ADDRESS|CIDR|HOSTNAME] [proto=tcp|udp|icmp]
 *   [dstports=N|N-M] [icmptype=N] [specialtarget=dns] [expire=+SECONDS|TIME]
 *   [comment=TEXT (the rest of the line)]
 *
 * A qube without rules of its own has "action=accept"; what no rule matches
 * is dropped. Rules cover both families where the qube has IPv6 (its ipv6
 * property): dsthost may be an IPv6 address or network, a host name covers
 * its A and AAAA records, a rule without dsthost matches both families;
 * specialtarget=dns is the IPv4 pair (the DNS servers stay IPv4).
 *
 * Owns the syntax (parse with a message naming the field, one canonical
 * text per rule, expire kept as seconds since the epoch) and the nftables
 * statements a netvm enforces. Must never resolve names or read the clock
 * itself: the caller passes what a hostname resolves to and the time.
 */
#ifndef BULKHEAD_FIREWALL_H
#define BULKHEAD_FIREWALL_H

#include <glib.h>

G_BEGIN_DECLS

#define BH_FIREWALL_RULE_MAX  1024 /* bytes of one rule's text */
#define BH_FIREWALL_RULES_MAX 256  /* rules of one qube */
#define BH_FIREWALL_DEFAULT   "action=accept"

typedef struct {
    gboolean accept;
    char *dsthost; /* NULL: any; else canonical: "a.b.c.d", "a.b.c.d/n", inet_ntop's IPv6
                      (with "/n" for a network) or a lower-case name */
    gboolean is_name;
    gboolean is_v6;         /* dsthost is an IPv6 address or network */
    char *proto;            /* NULL, "tcp", "udp", "icmp" */
    guint port_lo, port_hi; /* 0: any */
    int icmptype;           /* -1: any */
    gboolean dns;           /* specialtarget=dns */
    gint64 expire;          /* 0: never; else seconds since the epoch */
    char *comment;
} BhFwRule;

void bh_fw_rule_free(BhFwRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhFwRule, bh_fw_rule_free)

/* Parses untrusted text; now (seconds since the epoch) turns expire=+N into
 * a time. Errors: BH_QUBES_ERROR_INVALID_VALUE, naming the field. */
BhFwRule *bh_fw_rule_parse(const char *untrusted, gint64 now, GError **error);
/* The canonical text ("action=drop dsthost=192.0.2.0/24 proto=tcp
 * dstports=443-443 expire=1796613600 comment=..."). */
char *bh_fw_rule_format(const BhFwRule *rule);
gboolean bh_fw_rule_expired(const BhFwRule *rule, gint64 now);
/* Whether the rule matches every packet for good: only action= (and maybe
 * a comment), no expire. */
gboolean bh_fw_rule_matches_all(const BhFwRule *rule);

/* Where a rule added without a chosen place goes among rules (n canonical
 * texts, in order): at the end, or before the last one when that one
 * matches every packet and the new one does not (after it, the new rule
 * would never match). The one placement for qvm-firewall add and the
 * settings app; Qubes' qvm-firewall always appends. */
guint bh_fw_rules_place(const char *const *rules, guint n, const char *rule);

/* The nftables statements of one rule for its qube's chain, one a line (one
 * per family it covers), with addrs what a hostname resolves to now, IPv4
 * and IPv6 (NULL or empty for a name that does not resolve: then NULL, the
 * rule matches nothing); NULL too for an expired one. */
char *bh_fw_rule_nft(const BhFwRule *rule, const char *const *addrs, gint64 now);

G_END_DECLS

#endif
