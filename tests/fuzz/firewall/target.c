/* target.c — libFuzzer entry point for the firewall rule parser
 * (core/qubes/firewall.c): what a user, a settings app or a stored rule
 * hands bulkheadd. Checks, aborting on violation: a rule that parses has one
 * canonical text, which parses again to the same text; its nftables
 * statements (one a line, one per family) hold only the characters nft
 * syntax here needs (no quote, semicolon or '#': nothing of the input
 * escapes into the netvm's ruleset), each ends in its verdict, and there are
 * at most two, whatever a name resolved to.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/firewall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_nft(const char *nft)
{
    if (nft == NULL)
        return;
    for (const char *p = nft; *p; p++) {
        if (!(g_ascii_isalnum(*p) || strchr(" .,{}/-:\n", *p)))
            abort();
    }
    char **lines = g_strsplit(nft, "\n", -1);
    guint n = g_strv_length(lines);
    if (n < 1 || n > 2)
        abort();
    for (guint i = 0; i < n; i++)
        if (!g_str_has_suffix(lines[i], "accept") && !g_str_has_suffix(lines[i], "drop"))
            abort();
    g_strfreev(lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = g_strndup((const char *)data, size);
    BhFwRule *rule = bh_fw_rule_parse(text, 1700000000, NULL);
    if (rule != NULL) {
        char *canon = bh_fw_rule_format(rule);
        BhFwRule *again = bh_fw_rule_parse(canon, 1700000000, NULL);
        if (again == NULL)
            abort();
        char *canon2 = bh_fw_rule_format(again);
        if (strcmp(canon, canon2) != 0)
            abort();
        /* Resolution results are data too: junk among them is skipped. */
        const char *const addrs[] = {"192.0.2.1", "1.2.3.4\"; flush ruleset",     "::1",
                                     "300.1.1.1", "2001:db8::1\"; flush ruleset", "fe80::1%eth0",
                                     NULL};
        char *nft = bh_fw_rule_nft(rule, addrs, 1600000000);
        check_nft(nft);
        g_free(nft);
        g_free(canon2);
        bh_fw_rule_free(again);
        g_free(canon);
        bh_fw_rule_free(rule);
    }
    g_free(text);
    return 0;
}
