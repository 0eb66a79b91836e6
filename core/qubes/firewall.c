/* firewall.c — firewall rules: syntax, canonical text, nftables statements
 * (bulkhead/firewall.h).
 *
 * Owns what a rule may say. Must never: resolve a name, read the clock, or
 * let a character of the input into an nft statement that is not checked
 * here (addresses are re-printed from parsed numbers; names are only ever
 * used to look addresses up; comments never reach nft).
 */
#include "bulkhead/firewall.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/qubes.h"

void bh_fw_rule_free(BhFwRule *rule)
{
    if (rule == NULL)
        return;
    g_free(rule->dsthost);
    g_free(rule->proto);
    g_free(rule->comment);
    g_free(rule);
}

static gboolean bh_fw_fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean bh_fw_fail(GError **error, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *text = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error_literal(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE, text);
    return FALSE;
}

/* A decimal number in [lo, hi], digits only. */
static gboolean bh_fw_number(const char *text, guint64 lo, guint64 hi, guint64 *out)
{
    if (*text == '\0' || strlen(text) > 19)
        return FALSE;
    for (const char *p = text; *p; p++)
        if (!g_ascii_isdigit(*p))
            return FALSE;
    guint64 v = g_ascii_strtoull(text, NULL, 10);
    if (v < lo || v > hi)
        return FALSE;
    *out = v;
    return TRUE;
}

/* "a.b.c.d" into 32 bits; no leading zeros games, no missing parts. */
static gboolean bh_fw_ipv4(const char *text, guint32 *out)
{
    g_auto(GStrv) parts = g_strsplit(text, ".", -1);
    guint32 a = 0;
    if (g_strv_length(parts) != 4)
        return FALSE;
    for (int i = 0; i < 4; i++) {
        guint64 v;
        if (strlen(parts[i]) > 3 || !bh_fw_number(parts[i], 0, 255, &v))
            return FALSE;
        a = (a << 8) | (guint32)v;
    }
    *out = a;
    return TRUE;
}

static char *bh_fw_ipv4_text(guint32 a)
{
    return g_strdup_printf("%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* RFC 1123 host name: labels of letters, digits and '-', not at either
 * end of a label, 1..63 bytes each, 253 in all; not all digits. */
static gboolean bh_fw_hostname(const char *text)
{
    gsize len = strlen(text);
    gboolean letter = FALSE;
    if (len == 0 || len > 253)
        return FALSE;
    g_auto(GStrv) labels = g_strsplit(text, ".", -1);
    for (char **l = labels; *l; l++) {
        gsize n = strlen(*l);
        if (n == 0 || n > 63 || (*l)[0] == '-' || (*l)[n - 1] == '-')
            return FALSE;
        for (gsize i = 0; i < n; i++) {
            if (!g_ascii_isalnum((*l)[i]) && (*l)[i] != '-')
                return FALSE;
            letter |= g_ascii_isalpha((*l)[i]) || (*l)[i] == '-';
        }
    }
    return letter;
}

/* "ADDR" or "ADDR/N" in IPv6 (inet_pton's forms: no zone, no brackets)
 * into its canonical text (inet_ntop's), host bits refused. */
static gboolean bh_fw_dsthost6(BhFwRule *r, const char *value, GError **error)
{
    const char *slash = strchr(value, '/');
    g_autofree char *addr = g_strndup(value, slash ? (gsize)(slash - value) : strlen(value));
    guint64 bits = 128;
    guint8 a[16];
    char text[INET6_ADDRSTRLEN];
    if (strlen(addr) >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, addr, a) != 1 ||
        (slash && !bh_fw_number(slash + 1, 0, 128, &bits)))
        return bh_fw_fail(error,
                          "dsthost=%s: an IPv6 address is written as 2001:db8::7, a network as 2001:db8::/32 "
                          "(N from 0 to 128)",
                          value);
    for (guint i = 0; i < 16; i++) {
        guint keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? (guint)(bits - i * 8) : 0;
        guint8 mask = keep == 0 ? 0 : (guint8)(0xffu << (8 - keep));
        if (a[i] & ~mask) {
            for (guint j = i; j < 16; j++) {
                keep = bits >= (j + 1) * 8 ? 8 : bits > j * 8 ? (guint)(bits - j * 8) : 0;
                a[j] &= keep == 0 ? 0 : (guint8)(0xffu << (8 - keep));
            }
            inet_ntop(AF_INET6, a, text, sizeof(text));
            return bh_fw_fail(error, "dsthost=%s has host bits set; the network is %s/%u", value, text,
                              (unsigned)bits);
        }
    }
    inet_ntop(AF_INET6, a, text, sizeof(text));
    r->dsthost = slash ? g_strdup_printf("%s/%u", text, (unsigned)bits) : g_strdup(text);
    r->is_v6 = TRUE;
    return TRUE;
}

static gboolean bh_fw_dsthost(BhFwRule *r, const char *value, GError **error)
{
    guint32 a;
    const char *slash = strchr(value, '/');
    if (strchr(value, ':'))
        return bh_fw_dsthost6(r, value, error);
    if (slash) {
        g_autofree char *addr = g_strndup(value, slash - value);
        guint64 bits;
        if (!bh_fw_ipv4(addr, &a) || !bh_fw_number(slash + 1, 0, 32, &bits))
            return bh_fw_fail(error, "dsthost=%s: a network is written a.b.c.d/N with N from 0 to 32", value);
        guint32 mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
        if (a & ~mask) {
            g_autofree char *net = bh_fw_ipv4_text(a & mask);
            return bh_fw_fail(error, "dsthost=%s has host bits set; the network is %s/%u", value, net,
                              (unsigned)bits);
        }
        g_autofree char *net = bh_fw_ipv4_text(a);
        r->dsthost = g_strdup_printf("%s/%u", net, (unsigned)bits);
        return TRUE;
    }
    if (bh_fw_ipv4(value, &a)) {
        r->dsthost = bh_fw_ipv4_text(a);
        return TRUE;
    }
    if (!bh_fw_hostname(value))
        return bh_fw_fail(
            error,
            "dsthost=%s is neither an address (192.0.2.7, 2001:db8::7), a network (192.0.2.0/24, "
            "2001:db8::/32) nor a host name (letters, digits, '-' and '.')",
            value);
    r->dsthost = g_ascii_strdown(value, -1);
    r->is_name = TRUE;
    return TRUE;
}

static gboolean bh_fw_ports(BhFwRule *r, const char *value, GError **error)
{
    g_auto(GStrv) ends = g_strsplit(value, "-", 3);
    guint64 lo, hi;
    guint n = g_strv_length(ends);
    if (n < 1 || n > 2 || !bh_fw_number(ends[0], 1, 65535, &lo) ||
        !bh_fw_number(n == 2 ? ends[1] : ends[0], 1, 65535, &hi) || lo > hi)
        return bh_fw_fail(error, "dstports=%s: a port (1 to 65535) or a range N-M with N <= M", value);
    r->port_lo = (guint)lo;
    r->port_hi = (guint)hi;
    return TRUE;
}

static gboolean bh_fw_expire(BhFwRule *r, const char *value, gint64 now, GError **error)
{
    guint64 v;
    if (value[0] == '+') {
        if (!bh_fw_number(value + 1, 1, G_GUINT64_CONSTANT(10) * 365 * 24 * 3600, &v))
            return bh_fw_fail(error, "expire=%s: +SECONDS, at most ten years", value);
        r->expire = now + (gint64)v;
        return TRUE;
    }
    if (bh_fw_number(value, 1, G_GUINT64_CONSTANT(253402300799), &v)) {
        r->expire = (gint64)v;
        return TRUE;
    }
    g_autoptr(GTimeZone) local = g_time_zone_new_local();
    g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(value, local);
    if (t == NULL)
        return bh_fw_fail(
            error, "expire=%s: +SECONDS, seconds since the epoch, or a time such as 2026-12-24T18:00:00",
            value);
    r->expire = g_date_time_to_unix(t);
    return TRUE;
}

BhFwRule *bh_fw_rule_parse(const char *untrusted, gint64 now, GError **error)
{
    g_autoptr(BhFwRule) r = g_new0(BhFwRule, 1);
    r->icmptype = -1;
    gboolean have_action = FALSE;
    guint seen = 0;

    if (strlen(untrusted) > BH_FIREWALL_RULE_MAX || !g_utf8_validate(untrusted, -1, NULL)) {
        bh_fw_fail(error, "a rule is UTF-8 text of at most %d bytes", BH_FIREWALL_RULE_MAX);
        return NULL;
    }
    for (const char *p = untrusted; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            bh_fw_fail(error, "a rule is one line without control characters");
            return NULL;
        }
    }
    static const char *const keys[] = {"action",   "dsthost",       "proto",  "dstports",
                                       "icmptype", "specialtarget", "expire", "comment"};
    const char *p = untrusted;
    while (*p) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        const char *eq = strchr(p, '=');
        const char *space = strchr(p, ' ');
        if (eq == NULL || (space && space < eq)) {
            g_autofree char *word = g_strndup(p, space ? (gsize)(space - p) : strlen(p));
            bh_fw_fail(error,
                       "'%s' is not KEY=VALUE (keys: action, dsthost, proto, dstports, icmptype, "
                       "specialtarget, expire, comment)",
                       word);
            return NULL;
        }
        g_autofree char *key = g_strndup(p, eq - p);
        int k = -1;
        for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
            if (g_str_equal(key, keys[i]))
                k = (int)i;
        if (k < 0) {
            bh_fw_fail(error,
                       "unknown field '%s' (fields: action, dsthost, proto, dstports, icmptype, "
                       "specialtarget, expire, comment)",
                       key);
            return NULL;
        }
        if (seen & (1u << k)) {
            bh_fw_fail(error, "%s is given twice", key);
            return NULL;
        }
        seen |= 1u << k;
        /* comment= takes the rest of the line, spaces and all. */
        const char *end = k == 7 ? eq + 1 + strlen(eq + 1) : (space ? space : eq + 1 + strlen(eq + 1));
        g_autofree char *value = g_strndup(eq + 1, end - (eq + 1));
        p = end;
        if (*value == '\0' && k != 7) {
            bh_fw_fail(error, "%s= needs a value", key);
            return NULL;
        }
        gboolean ok = TRUE;
        guint64 v;
        switch (k) {
        case 0:
            if (g_str_equal(value, "accept") || g_str_equal(value, "drop")) {
                r->accept = g_str_equal(value, "accept");
                have_action = TRUE;
            } else {
                ok = bh_fw_fail(error, "action=%s: accept or drop", value);
            }
            break;
        case 1:
            ok = bh_fw_dsthost(r, value, error);
            break;
        case 2:
            if (g_str_equal(value, "tcp") || g_str_equal(value, "udp") || g_str_equal(value, "icmp"))
                r->proto = g_strdup(value);
            else
                ok = bh_fw_fail(error, "proto=%s: tcp, udp or icmp", value);
            break;
        case 3:
            ok = bh_fw_ports(r, value, error);
            break;
        case 4:
            if (bh_fw_number(value, 0, 255, &v))
                r->icmptype = (int)v;
            else
                ok = bh_fw_fail(error, "icmptype=%s: a number from 0 to 255", value);
            break;
        case 5:
            if (g_str_equal(value, "dns"))
                r->dns = TRUE;
            else
                ok = bh_fw_fail(error, "specialtarget=%s: only dns", value);
            break;
        case 6:
            ok = bh_fw_expire(r, value, now, error);
            break;
        case 7:
            r->comment = g_strdup(value);
            break;
        }
        if (!ok)
            return NULL;
    }
    if (!have_action) {
        bh_fw_fail(error, "a rule needs action=accept or action=drop");
        return NULL;
    }
    if (r->port_lo && g_strcmp0(r->proto, "tcp") != 0 && g_strcmp0(r->proto, "udp") != 0) {
        bh_fw_fail(error, "dstports needs proto=tcp or proto=udp");
        return NULL;
    }
    if (r->icmptype >= 0 && g_strcmp0(r->proto, "icmp") != 0) {
        bh_fw_fail(error, "icmptype needs proto=icmp");
        return NULL;
    }
    if (r->dns && (r->dsthost || r->port_lo || g_strcmp0(r->proto, "icmp") == 0)) {
        bh_fw_fail(error, "specialtarget=dns means the DNS servers' port 53: no dsthost, dstports or "
                          "proto=icmp with it");
        return NULL;
    }
    return g_steal_pointer(&r);
}

char *bh_fw_rule_format(const BhFwRule *r)
{
    GString *s = g_string_new(r->accept ? "action=accept" : "action=drop");
    if (r->dsthost)
        g_string_append_printf(s, " dsthost=%s", r->dsthost);
    if (r->proto)
        g_string_append_printf(s, " proto=%s", r->proto);
    if (r->port_lo)
        g_string_append_printf(s, r->port_lo == r->port_hi ? " dstports=%u" : " dstports=%u-%u", r->port_lo,
                               r->port_hi);
    if (r->icmptype >= 0)
        g_string_append_printf(s, " icmptype=%d", r->icmptype);
    if (r->dns)
        g_string_append(s, " specialtarget=dns");
    if (r->expire)
        g_string_append_printf(s, " expire=%" G_GINT64_FORMAT, r->expire);
    if (r->comment)
        g_string_append_printf(s, " comment=%s", r->comment);
    return g_string_free(s, FALSE);
}

gboolean bh_fw_rule_expired(const BhFwRule *r, gint64 now)
{
    return r->expire != 0 && r->expire <= now;
}

gboolean bh_fw_rule_matches_all(const BhFwRule *r)
{
    return r->dsthost == NULL && r->proto == NULL && r->port_lo == 0 && r->icmptype < 0 && !r->dns &&
           r->expire == 0;
}

/* A text that does not parse matches nothing (the daemon refuses it). The
 * time only turns expire=+N into a time, which is not 0 either way. */
static gboolean bh_fw_text_matches_all(const char *text)
{
    g_autoptr(BhFwRule) r = bh_fw_rule_parse(text, 0, NULL);
    return r != NULL && bh_fw_rule_matches_all(r);
}

guint bh_fw_rules_place(const char *const *rules, guint n, const char *rule)
{
    if (n > 0 && bh_fw_text_matches_all(rules[n - 1]) && !bh_fw_text_matches_all(rule))
        return n - 1;
    return n;
}

/* The statement of rule r for one family (6: IPv6), with dst the address
 * match it starts with ("" for none); NULL when the rule cannot match that
 * family (specialtarget=dns: the DNS servers are IPv4). ICMP is ICMPv6 in
 * IPv6, icmptype the same number there (as Qubes writes it; echo request
 * is 8 in ICMP and 128 in ICMPv6). */
static char *bh_fw_rule_nft_family(const BhFwRule *r, int family, const char *dst)
{
    if (r->dns && family == 6)
        return NULL;
    GString *s = g_string_new(dst);
    const char *icmp = family == 6 ? "icmpv6" : "icmp";
    const char *icmp_l4 = family == 6 ? "ipv6-icmp" : family == 4 ? "icmp" : "{ icmp, ipv6-icmp }";
    if (r->dns)
        g_string_append(s, "ip daddr { " BH_NET_DNS1 ", " BH_NET_DNS2 " } ");
    if (r->proto && r->port_lo) {
        if (r->port_lo == r->port_hi)
            g_string_append_printf(s, "%s dport %u ", r->proto, r->port_lo);
        else
            g_string_append_printf(s, "%s dport %u-%u ", r->proto, r->port_lo, r->port_hi);
    } else if (r->proto && g_str_equal(r->proto, "icmp")) {
        if (r->icmptype >= 0)
            g_string_append_printf(s, "%s type %d ", icmp, r->icmptype);
        else
            g_string_append_printf(s, "meta l4proto %s ", icmp_l4);
    } else if (r->proto) {
        g_string_append_printf(s, "meta l4proto %s ", r->proto);
    }
    if (r->dns && r->proto == NULL)
        g_string_append(s, "meta l4proto { tcp, udp } th dport 53 ");
    else if (r->dns)
        g_string_append_printf(s, "%s dport 53 ", r->proto);
    g_string_append(s, r->accept ? "accept" : "drop");
    return g_string_free(s, FALSE);
}

/* "ip daddr { A, B } " of the addresses of one family a name resolved to,
 * each re-printed from numbers; NULL when there are none. */
static char *bh_fw_name_set(const char *const *addrs, int family)
{
    g_autoptr(GString) set = g_string_new(NULL);
    for (const char *const *a = addrs; a && *a; a++) {
        g_autofree char *text = NULL;
        guint32 v4;
        guint8 v6[16];
        char buf[INET6_ADDRSTRLEN];
        if (family == 4 && bh_fw_ipv4(*a, &v4))
            text = bh_fw_ipv4_text(v4);
        else if (family == 6 && strchr(*a, ':') && strlen(*a) < INET6_ADDRSTRLEN &&
                 inet_pton(AF_INET6, *a, v6) == 1 && inet_ntop(AF_INET6, v6, buf, sizeof(buf)))
            text = g_strdup(buf);
        if (text)
            g_string_append_printf(set, "%s%s", set->len ? ", " : "", text);
    }
    if (set->len == 0)
        return NULL;
    return g_strdup_printf("%s daddr { %s } ", family == 6 ? "ip6" : "ip", set->str);
}

char *bh_fw_rule_nft(const BhFwRule *r, const char *const *addrs, gint64 now)
{
    if (bh_fw_rule_expired(r, now))
        return NULL;
    /* One statement per family the rule covers, one a line: a packet is of
     * one family, so it meets at most one of them and the order of the
     * rules still decides. */
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    if (r->is_name) {
        /* A name covers what it resolves to in both families (A and AAAA). */
        for (int family = 4; family <= 6; family += 2) {
            g_autofree char *set = bh_fw_name_set(addrs, family);
            char *line = set ? bh_fw_rule_nft_family(r, family, set) : NULL;
            if (line)
                g_ptr_array_add(lines, line);
        }
    } else if (r->dsthost) {
        int family = r->is_v6 ? 6 : 4;
        g_autofree char *dst = g_strdup_printf("%s daddr %s ", r->is_v6 ? "ip6" : "ip", r->dsthost);
        char *line = bh_fw_rule_nft_family(r, family, dst);
        if (line)
            g_ptr_array_add(lines, line);
    } else if (r->proto && g_str_equal(r->proto, "icmp") && r->icmptype >= 0) {
        /* A type is per family: one statement each. */
        g_ptr_array_add(lines, bh_fw_rule_nft_family(r, 4, ""));
        g_ptr_array_add(lines, bh_fw_rule_nft_family(r, 6, ""));
    } else {
        /* Both families at once (family 0): "tcp dport 80 drop" is not
         * limited to one; specialtarget=dns names IPv4 servers. */
        g_ptr_array_add(lines, bh_fw_rule_nft_family(r, r->dns ? 4 : 0, ""));
    }
    if (lines->len == 0)
        return NULL;
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}
