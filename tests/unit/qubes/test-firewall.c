/* test-firewall.c — firewall rules (core/qubes/firewall.c): what parses,
 * its canonical text, what is refused with a message naming the field, and
 * the nftables statement each kind of rule becomes. */
#include "bulkhead/firewall.h"
#include "bulkhead/qubes.h"

#define NOW 1700000000

static void assert_canon(const char *in, const char *want)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhFwRule) r = bh_fw_rule_parse(in, NOW, &error);
    g_assert_no_error(error);
    g_autofree char *text = bh_fw_rule_format(r);
    g_assert_cmpstr(text, ==, want);
}

static void assert_refused(const char *in, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhFwRule) r = bh_fw_rule_parse(in, NOW, &error);
    g_assert_null(r);
    g_assert_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE);
    if (strstr(error->message, fragment) == NULL)
        g_test_message("%s -> %s", in, error->message);
    g_assert_nonnull(strstr(error->message, fragment));
}

static char *nft_of(const char *in, const char *const *addrs)
{
    g_autoptr(BhFwRule) r = bh_fw_rule_parse(in, NOW, NULL);
    g_assert_nonnull(r);
    return bh_fw_rule_nft(r, addrs, NOW);
}

static void test_parse(void)
{
    assert_canon("action=accept", "action=accept");
    assert_canon("  action=drop   proto=tcp  dstports=443 ", "action=drop proto=tcp dstports=443");
    assert_canon("proto=udp dstports=1000-2000 action=accept dsthost=192.0.2.0/24",
                 "action=accept dsthost=192.0.2.0/24 proto=udp dstports=1000-2000");
    assert_canon("action=accept dsthost=Example.ORG", "action=accept dsthost=example.org");
    assert_canon("action=drop proto=icmp icmptype=8", "action=drop proto=icmp icmptype=8");
    assert_canon("action=accept specialtarget=dns", "action=accept specialtarget=dns");
    assert_canon("action=accept expire=+60", "action=accept expire=1700000060");
    assert_canon("action=accept expire=1800000000 comment=web and mail = ok",
                 "action=accept expire=1800000000 comment=web and mail = ok");
    assert_canon("action=drop dsthost=0.0.0.0/0", "action=drop dsthost=0.0.0.0/0");

    assert_refused("", "needs action");
    assert_refused("proto=tcp", "needs action");
    assert_refused("action=maybe", "action=maybe: accept or drop");
    assert_refused("action=accept colour=red", "unknown field 'colour'");
    assert_refused("action=accept action=drop", "action is given twice");
    assert_refused("action=accept proto=sctp", "proto=sctp");
    assert_refused("action=accept dstports=80", "dstports needs proto=tcp or proto=udp");
    assert_refused("action=accept proto=tcp dstports=0", "dstports=0");
    assert_refused("action=accept proto=tcp dstports=70000", "dstports=70000");
    assert_refused("action=accept proto=tcp dstports=90-80", "N <= M");
    assert_refused("action=accept icmptype=3", "icmptype needs proto=icmp");
    assert_refused("action=accept dsthost=10.0.0.1/8", "host bits set; the network is 10.0.0.0/8");
    assert_refused("action=accept dsthost=10.0.0.0/33", "N from 0 to 32");
    assert_refused("action=accept dsthost=a_b.example", "neither an address");
    assert_refused("action=accept dsthost=256.1.1.1", "neither an address");
    /* IPv6: inet_ntop's canonical text; networks without host bits. */
    assert_canon("action=accept dsthost=2001:DB8:0:0::1", "action=accept dsthost=2001:db8::1");
    assert_canon("action=drop dsthost=2001:db8::/32 proto=tcp",
                 "action=drop dsthost=2001:db8::/32 proto=tcp");
    assert_canon("action=drop dsthost=::/0", "action=drop dsthost=::/0");
    assert_canon("action=accept dsthost=fd09:24ef:4179::a89:5/128",
                 "action=accept dsthost=fd09:24ef:4179::a89:5/128");
    assert_refused("action=accept dsthost=2001:db8::1/32", "host bits set; the network is 2001:db8::/32");
    assert_refused("action=accept dsthost=2001:db8::/129", "N from 0 to 128");
    assert_refused("action=accept dsthost=fe80::1%eth0", "2001:db8::7");
    assert_refused("action=accept dsthost=[2001:db8::1]", "2001:db8::7");
    assert_refused("action=accept dsthost=2001:db8:::1", "2001:db8::7");
    assert_refused("action=accept dsthost=2001:db8::1/", "2001:db8::7");
    assert_refused("action=accept specialtarget=ntp", "only dns");
    assert_refused("action=accept specialtarget=dns dsthost=192.0.2.1", "specialtarget=dns");
    assert_refused("action=accept expire=soon", "expire=soon");
    assert_refused("action=accept\tproto=tcp", "without control characters");
    assert_refused("action=accept dsthost", "not KEY=VALUE");
}

static void test_nft(void)
{
    const char *const none[] = {NULL};
    const char *const two[] = {"192.0.2.7", "not-an-address", "198.51.100.1", NULL};
    g_autofree char *a = nft_of("action=accept", NULL);
    g_assert_cmpstr(a, ==, "accept");
    g_autofree char *b = nft_of("action=drop dsthost=192.0.2.0/24 proto=tcp dstports=80-443", NULL);
    g_assert_cmpstr(b, ==, "ip daddr 192.0.2.0/24 tcp dport 80-443 drop");
    g_autofree char *c = nft_of("action=drop proto=udp dstports=53", NULL);
    g_assert_cmpstr(c, ==, "udp dport 53 drop");
    /* A type is per family: the same number in ICMP and ICMPv6, as Qubes
     * writes it. Without a type, ICMP of both families. */
    g_autofree char *d = nft_of("action=accept proto=icmp icmptype=8", NULL);
    g_assert_cmpstr(d, ==, "icmp type 8 accept\nicmpv6 type 8 accept");
    g_autofree char *e = nft_of("action=accept proto=icmp", NULL);
    g_assert_cmpstr(e, ==, "meta l4proto { icmp, ipv6-icmp } accept");
    g_autofree char *f = nft_of("action=accept specialtarget=dns", NULL);
    g_assert_cmpstr(f, ==,
                    "ip daddr { 10.139.1.1, 10.139.1.2 } meta l4proto { tcp, udp } th dport 53 accept");
    g_autofree char *g = nft_of("action=accept dsthost=example.org proto=tcp", two);
    g_assert_cmpstr(g, ==, "ip daddr { 192.0.2.7, 198.51.100.1 } meta l4proto tcp accept");
    /* A name's A and AAAA records: one statement per family. */
    const char *const both[] = {"192.0.2.7", "2001:DB8::7", "2001:db8::zz", "::ffff:1.2.3.4\"", NULL};
    g_autofree char *g6 = nft_of("action=drop dsthost=example.org proto=tcp dstports=443", both);
    g_assert_cmpstr(
        g6, ==, "ip daddr { 192.0.2.7 } tcp dport 443 drop\nip6 daddr { 2001:db8::7 } tcp dport 443 drop");
    const char *const v6only[] = {"2001:db8::7", NULL};
    g_autofree char *g7 = nft_of("action=accept dsthost=example.org", v6only);
    g_assert_cmpstr(g7, ==, "ip6 daddr { 2001:db8::7 } accept");
    /* IPv6 addresses and networks. */
    g_autofree char *v6 = nft_of("action=drop dsthost=2001:db8::/32 proto=tcp dstports=80-443", NULL);
    g_assert_cmpstr(v6, ==, "ip6 daddr 2001:db8::/32 tcp dport 80-443 drop");
    g_autofree char *v6icmp = nft_of("action=accept dsthost=2001:db8::7 proto=icmp", NULL);
    g_assert_cmpstr(v6icmp, ==, "ip6 daddr 2001:db8::7 meta l4proto ipv6-icmp accept");
    g_autofree char *v6type = nft_of("action=accept dsthost=2001:db8::7 proto=icmp icmptype=128", NULL);
    g_assert_cmpstr(v6type, ==, "ip6 daddr 2001:db8::7 icmpv6 type 128 accept");
    /* A name that resolves to nothing: the rule matches nothing. */
    g_autofree char *h = nft_of("action=accept dsthost=nowhere.invalid", none);
    g_assert_null(h);
    g_autofree char *i = nft_of("action=accept comment=x\"; flush ruleset", NULL);
    g_assert_cmpstr(i, ==, "accept");
    /* Expired: gone. */
    g_autoptr(BhFwRule) old = bh_fw_rule_parse("action=accept expire=1600000000", NOW, NULL);
    g_assert_true(bh_fw_rule_expired(old, NOW));
    g_assert_null(bh_fw_rule_nft(old, NULL, NOW));
}

/* The one placement of an added rule (qvm-firewall add, the settings
 * app): before a final rule that matches everything, else at the end. */
static void test_place(void)
{
    const char *const accept_all[] = {"action=accept"};
    const char *const limit[] = {"action=accept proto=tcp dstports=443-443", "action=drop comment=the rest"};
    const char *const open_end[] = {"action=drop proto=udp"};
    const char *const lapsing[] = {"action=accept expire=1700000600"};
    g_assert_cmpuint(bh_fw_rules_place(NULL, 0, "action=drop proto=tcp"), ==, 0);
    g_assert_cmpuint(bh_fw_rules_place(accept_all, 1, "action=drop proto=tcp dstports=25-25"), ==, 0);
    g_assert_cmpuint(bh_fw_rules_place(limit, 2, "action=accept specialtarget=dns"), ==, 1);
    g_assert_cmpuint(bh_fw_rules_place(open_end, 1, "action=drop proto=tcp"), ==, 1);
    /* A new catch-all is a new default: at the end. */
    g_assert_cmpuint(bh_fw_rules_place(accept_all, 1, "action=drop"), ==, 1);
    /* One that lapses is not a catch-all, nor a text that does not parse. */
    g_assert_cmpuint(bh_fw_rules_place(lapsing, 1, "action=drop proto=tcp"), ==, 1);
    g_assert_cmpuint(bh_fw_rules_place(accept_all, 1, "action=maybe"), ==, 0);
    g_autoptr(BhFwRule) plain = bh_fw_rule_parse("action=drop comment=all else", NOW, NULL);
    g_autoptr(BhFwRule) icmp = bh_fw_rule_parse("action=drop proto=icmp icmptype=8", NOW, NULL);
    g_assert_true(bh_fw_rule_matches_all(plain));
    g_assert_false(bh_fw_rule_matches_all(icmp));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/firewall/parse", test_parse);
    g_test_add_func("/firewall/nft", test_nft);
    g_test_add_func("/firewall/place", test_place);
    return g_test_run();
}
