/* bh-cli-firewall.c — qvm-firewall: a qube's firewall rules, as Qubes users
 * know the command:
 *
 *   qvm-firewall QUBE [list] [--raw]
 *   qvm-firewall QUBE add [--before N] action=… [dsthost=…] [proto=…] …
 *                         (default: before a final catch-all rule, see below)
 *   qvm-firewall QUBE del (--rule-no N | action=… …)
 *   qvm-firewall QUBE reset
 *
 * Owns reading the rules from bulkheadd and asking for the change: add is
 * AddFirewallRule (bulkheadd places the rule and warns), del and reset send
 * the whole list back (SetFirewall, one transaction); rule text is checked
 * here first so that an error names the user's own field, and the daemon
 * checks again. Must never: print a rule it did not get from the daemon as
 * stored, or decide itself where an added rule goes.
 */
#define G_LOG_DOMAIN "bh-cli"

#include <stdio.h>
#include <string.h>

#include "bh-cli.h"
#include "bulkhead/firewall.h"

/* The fields of a canonical rule; comment= is the rest of the line. */
static void bh_fw_fields(const char *rule, GHashTable *out)
{
    const char *p = rule;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *eq = strchr(p, '=');
        if (eq == NULL)
            break;
        g_autofree char *key = g_strndup(p, eq - p);
        gboolean rest = g_str_equal(key, "comment");
        const char *end = rest ? eq + 1 + strlen(eq + 1) : strchrnul(eq + 1, ' ');
        g_hash_table_insert(out, g_steal_pointer(&key), g_strndup(eq + 1, end - eq - 1));
        p = end;
    }
}

static char *bh_fw_expire_text(const char *epoch)
{
    if (epoch == NULL)
        return g_strdup("-");
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(g_ascii_strtoll(epoch, NULL, 10));
    return t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S") : g_strdup(epoch);
}

static void bh_fw_print(char **rules)
{
    static const char *const heads[] = {
        "NO", "ACTION", "HOST", "PROTOCOL", "PORT(S)", "SPECIAL TARGET", "ICMP TYPE", "EXPIRE", "COMMENT"};
    enum { N = G_N_ELEMENTS(heads) };
    guint n = g_strv_length(rules);
    g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
    int width[N];
    for (int f = 0; f < N; f++)
        width[f] = (int)strlen(heads[f]);
    for (guint i = 0; i < n; i++) {
        g_autoptr(GHashTable) kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        bh_fw_fields(rules[i], kv);
        const char *row[N] = {NULL};
        g_autofree char *no = g_strdup_printf("%u", i);
        g_autofree char *expire = bh_fw_expire_text(g_hash_table_lookup(kv, "expire"));
        row[0] = no;
        row[1] = g_hash_table_lookup(kv, "action");
        row[2] = g_hash_table_lookup(kv, "dsthost");
        row[3] = g_hash_table_lookup(kv, "proto");
        row[4] = g_hash_table_lookup(kv, "dstports");
        row[5] = g_hash_table_lookup(kv, "specialtarget");
        row[6] = g_hash_table_lookup(kv, "icmptype");
        row[7] = expire;
        row[8] = g_hash_table_lookup(kv, "comment");
        for (int f = 0; f < N; f++) {
            char *cell = g_strdup(bh_cli_or_dash(row[f]));
            width[f] = MAX(width[f], (int)g_utf8_strlen(cell, -1));
            g_ptr_array_add(cells, cell);
        }
    }
    for (int f = 0; f < N - 1; f++)
        printf("%-*s  ", width[f], heads[f]);
    printf("%s\n", heads[N - 1]);
    for (guint i = 0; i < n; i++) {
        for (int f = 0; f < N - 1; f++)
            printf("%-*s  ", width[f], (char *)cells->pdata[i * N + f]);
        printf("%s\n", (char *)cells->pdata[i * N + N - 1]);
    }
}

/* The rule the arguments spell, canonical; NULL after saying why. */
static char *bh_fw_rule_from_args(BhCli *cli, int argc, char **argv, int *rc)
{
    g_autofree char *text = g_strjoinv(" ", argv);
    g_autoptr(GError) error = NULL;
    if (argc == 0) {
        *rc = bh_cli_usage(cli, "give the rule as fields, for example: action=drop proto=tcp dstports=25");
        return NULL;
    }
    g_autoptr(BhFwRule) rule = bh_fw_rule_parse(text, g_get_real_time() / G_USEC_PER_SEC, &error);
    if (rule == NULL) {
        *rc = bh_cli_usage(cli, "%s", error->message);
        return NULL;
    }
    return bh_fw_rule_format(rule);
}

/* A rule number as listed (0 first). */
static gboolean bh_fw_number(const char *text, guint limit, guint *out)
{
    guint64 v;
    if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &v, NULL) || v >= limit)
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

int bh_cli_firewall(BhCli *cli, int argc, char **argv)
{
    gboolean raw = FALSE;
    g_autofree char *before = NULL, *rule_no = NULL;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"raw", 0, 0, G_OPTION_ARG_NONE, &raw, "list: the rules as stored, one a line", NULL},
        {"before", 0, 0, G_OPTION_ARG_STRING, &before,
         "add: insert before rule N (default: at the end, or before a final catch-all rule)", "N"},
        {"rule-no", 0, 0, G_OPTION_ARG_STRING, &rule_no, "del: remove rule N", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("QUBE [list|add|del|reset] [RULE…]");
    g_option_context_set_summary(
        context, "Show or change a qube's firewall, enforced in its netvm. Rules are checked in order, the\n"
                 "first that matches decides; what none matches is dropped. A rule's fields:\n"
                 "  action=accept|drop  dsthost=ADDRESS|NETWORK/N|HOSTNAME  proto=tcp|udp|icmp\n"
                 "  dstports=N|N-M  icmptype=N  specialtarget=dns  expire=+SECONDS|TIME  comment=TEXT…\n"
                 "A new qube has one rule, action=accept; reset goes back to it. add puts a rule at the\n"
                 "end, or before the last rule when that one matches everything (a bare action=accept\n"
                 "or action=drop: a rule after it would never match); --before N chooses the place.");
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_set_strict_posix(context, FALSE);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    if (argc < 2)
        return bh_cli_usage(cli, "name the QUBE");
    const char *qube = argv[1];
    const char *action = argc > 2 ? argv[2] : "list";
    int n_args = argc > 3 ? argc - 3 : 0;
    char **args = argv + 3;
    gboolean list = g_str_equal(action, "list"), add = g_str_equal(action, "add"),
             del = g_str_equal(action, "del"), reset = g_str_equal(action, "reset");
    if (!list && !add && !del && !reset)
        return bh_cli_usage(cli, "unknown action '%s': list, add, del or reset", action);
    if ((list || reset) && n_args > 0)
        return bh_cli_usage(cli, "%s takes no rule", action);
    if (before && !add)
        return bh_cli_usage(cli, "--before goes with add");
    if (rule_no && (!del || n_args > 0))
        return bh_cli_usage(cli, rule_no && del ? "del takes --rule-no N or a rule, not both"
                                                : "--rule-no goes with del");
    if (raw && !list)
        return bh_cli_usage(cli, "--raw goes with list");

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    g_auto(GStrv) rules = NULL;
    if (admin == NULL || !bh_dbus_admin1_call_get_firewall_sync(admin, qube, &rules, NULL, &error))
        return bh_cli_fail(cli, error);
    guint n = g_strv_length(rules);

    if (list) {
        if (raw) {
            for (guint i = 0; i < n; i++)
                printf("%s\n", rules[i]);
        } else {
            bh_fw_print(rules);
        }
        return BH_CLI_OK;
    }

    if (add) {
        guint at = n;
        if (before && !bh_fw_number(before, n + 1, &at))
            return bh_cli_usage(cli, "--before %s: a rule number from 0 to %u", before, n);
        g_autofree char *rule = bh_fw_rule_from_args(cli, n_args, args, &rc);
        if (rule == NULL)
            return rc;
        /* Unlike Qubes' qvm-firewall, which appends after the default
         * action=accept, so that the rule never matters (a reset then add
         * did nothing): bulkheadd puts it before a final catch-all, and
         * this says so. A catch-all itself still goes at the end (a new
         * default). */
        guint index = 0;
        g_auto(GStrv) warnings = NULL;
        if (!bh_dbus_admin1_call_add_firewall_rule_sync(admin, qube, rule, before ? (gint)at : -1, &index,
                                                        &warnings, NULL, &error))
            return bh_cli_fail(cli, error);
        if (!before && index < n)
            fprintf(stderr,
                    "%s: rule %u added before the last rule, '%s', which matches everything "
                    "(--before %u to put it elsewhere)\n",
                    cli->prog, index, rules[n - 1], n);
        for (char **w = warnings; w && *w; w++)
            fprintf(stderr, "%s: warning: %s\n", cli->prog, *w);
        return BH_CLI_OK;
    }

    g_autoptr(GPtrArray) now = g_ptr_array_new_with_free_func(g_free);
    if (del) {
        guint drop = n;
        if (rule_no) {
            if (!bh_fw_number(rule_no, n, &drop))
                return bh_cli_failf(cli, "%s has no rule %s (rules 0 to %u; qvm-firewall %s list)", qube,
                                    rule_no, n ? n - 1 : 0, qube);
        } else {
            g_autofree char *rule = bh_fw_rule_from_args(cli, n_args, args, &rc);
            if (rule == NULL)
                return rc;
            for (guint i = 0; i < n && drop == n; i++)
                if (g_str_equal(rules[i], rule))
                    drop = i;
            if (drop == n)
                return bh_cli_failf(cli, "%s has no rule '%s' (qvm-firewall %s list --raw shows them)", qube,
                                    rule, qube);
        }
        for (guint i = 0; i < n; i++)
            if (i != drop)
                g_ptr_array_add(now, g_strdup(rules[i]));
        if (now->len == 0)
            fprintf(stderr, "%s: warning: %s has no rule left: all its traffic is dropped\n", cli->prog,
                    qube);
    } else {
        g_ptr_array_add(now, g_strdup(BH_FIREWALL_DEFAULT));
    }
    g_ptr_array_add(now, NULL);

    g_auto(GStrv) warnings = NULL;
    if (!bh_dbus_admin1_call_set_firewall_sync(admin, qube, (const char *const *)now->pdata, &warnings, NULL,
                                               &error))
        return bh_cli_fail(cli, error);
    for (char **w = warnings; w && *w; w++)
        fprintf(stderr, "%s: warning: %s\n", cli->prog, *w);
    return BH_CLI_OK;
}
