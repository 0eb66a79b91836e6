/* bh-cli-policy.c — `bulkhead policy check` and `bulkhead policy eval`.
 *
 * Owns: reading the policy directories the daemon reads (the files are dom0's
 * own configuration, not state), printing their problems, and evaluating one
 * request with the qube facts bulkheadd gives over D-Bus (ListQubes and the
 * source's default_dispvm). It must never read the store or decide anything
 * itself: the decision is core/policy's, with the files as they are now.
 */
#define G_LOG_DOMAIN "bh-cli"

#include <stdio.h>
#include <string.h>

#include "bh-cli.h"
#include "bulkhead/policy.h"

static const char bh_policy_cli_summary[] =
    "  check                      print each problem of the policy files as\n"
    "                             file:line:column: what; exit 1 if there is any\n"
    "  eval SERVICE[+ARG] SOURCE TARGET\n"
    "                             print the decision for one call and the\n"
    "                             file:line of the rule that made it\n"
    "\n"
    "TARGET is a qube, dom0, @default, @dispvm or @dispvm:NAME. The files are read\n"
    "from the shipped policy.d, then $XDG_CONFIG_HOME/bulkhead/policy.d (see\n"
    "docs/policy.md), or from each --dir given, in that order.";

static char **bh_cli_policy_dirs(char **given)
{
    return (given && given[0]) ? g_strdupv(given) : bh_policy_default_dirs();
}

static int bh_cli_policy_check(BhCli *cli, char **dirs)
{
    g_autoptr(BhPolicy) policy = bh_policy_load_dirs((const char *const *)dirs);
    guint n = bh_policy_n_errors(policy);
    g_autofree char *where = g_strjoinv(", ", dirs);

    for (guint i = 0; i < n && bh_policy_error(policy, i); i++)
        printf("%s\n", bh_policy_error(policy, i));
    if (n > BH_POLICY_ERRORS_MAX)
        printf("(%u more problems not shown)\n", n - BH_POLICY_ERRORS_MAX);
    if (n > 0)
        return bh_cli_failf(cli, "%u problem%s in the policy (%s); until %s fixed, every call is denied", n,
                            n == 1 ? "" : "s", where, n == 1 ? "it is" : "they are");
    printf("OK: %u rule%s in %u file%s (%s)\n", bh_policy_n_rules(policy),
           bh_policy_n_rules(policy) == 1 ? "" : "s", bh_policy_n_files(policy),
           bh_policy_n_files(policy) == 1 ? "" : "s", where);
    return BH_CLI_OK;
}

/* The facts the evaluator may use, from bulkheadd: every qube's class, tags,
 * disposable template and template_for_dispvms, and the source's
 * default_dispvm (the only one a decision depends on). */
static BhPolicySystem *bh_cli_policy_facts(BhCli *cli, const char *source, GError **error)
{
    BhDbusAdmin1 *admin = bh_cli_admin(cli, error);
    g_autoptr(GVariant) qubes = NULL;
    g_autoptr(BhPolicySystem) sys = bh_policy_system_new();
    GVariantIter iter;
    GVariant *dict;

    if (admin == NULL || !bh_dbus_admin1_call_list_qubes_sync(admin, &qubes, NULL, error))
        return NULL;
    g_variant_iter_init(&iter, qubes);
    while ((dict = g_variant_iter_next_value(&iter))) {
        g_autoptr(GVariantDict) d = g_variant_dict_new(dict);
        const char *name = "", *klass = "", *template = "";
        g_autofree const char **tags = NULL;
        gboolean for_dispvms = FALSE;
        g_autofree char *default_dispvm = NULL;

        g_variant_dict_lookup(d, "name", "&s", &name);
        g_variant_dict_lookup(d, "class", "&s", &klass);
        g_variant_dict_lookup(d, "template", "&s", &template);
        g_variant_dict_lookup(d, "tags", "^a&s", &tags);
        g_variant_dict_lookup(d, "template_for_dispvms", "b", &for_dispvms);
        if (g_str_equal(name, source) && !g_str_equal(klass, "AdminVM")) {
            gboolean is_default;
            if (!bh_dbus_admin1_call_get_property_sync(admin, name, "default_dispvm", &default_dispvm,
                                                       &is_default, NULL, error)) {
                g_variant_unref(dict);
                return NULL;
            }
        }
        /* dom0 is in the table already; anything else the model would refuse
         * cannot be a qube either, so it is left out (and denied). */
        if (!g_str_equal(klass, "AdminVM"))
            bh_policy_system_add(sys, name, klass, tags, for_dispvms,
                                 g_str_equal(klass, "DispVM") ? template : NULL,
                                 g_strcmp0(default_dispvm, "none") == 0 ? NULL : default_dispvm);
        g_variant_unref(dict);
    }
    return g_steal_pointer(&sys);
}

static int bh_cli_policy_eval(BhCli *cli, char **dirs, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;

    if (argc != 4)
        return bh_cli_usage(cli, "eval wants SERVICE[+ARGUMENT] SOURCE TARGET");
    const char *plus = strchr(argv[1], '+');
    g_autofree char *service = plus ? g_strndup(argv[1], plus - argv[1]) : g_strdup(argv[1]);
    BhPolicyRequest req = {service, plus ? plus + 1 : "", argv[2], argv[3]};

    g_autoptr(BhPolicySystem) sys = bh_cli_policy_facts(cli, req.source, &error);
    if (sys == NULL)
        return bh_cli_fail(cli, error);
    g_autoptr(BhPolicy) policy = bh_policy_load_dirs((const char *const *)dirs);
    BhPolicyDecision d;
    bh_policy_evaluate(policy, sys, &req, &d);
    g_autofree char *text = bh_policy_decision_format(&d);
    fputs(text, stdout);
    bh_policy_decision_clear(&d);
    return BH_CLI_OK;
}

int bh_cli_policy(BhCli *cli, int argc, char **argv)
{
    g_auto(GStrv) given = NULL;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &given,
         "Read policy files from DIR instead of the default directories (repeatable; earlier first)", "DIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("check | eval SERVICE[+ARG] SOURCE TARGET");
    g_option_context_set_summary(context, "Check the policy files, or see what they decide for one call.");
    g_option_context_set_description(context, bh_policy_cli_summary);
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    if (argc < 2)
        return bh_cli_usage(cli, "say check or eval");

    g_auto(GStrv) dirs = bh_cli_policy_dirs(given);
    if (g_str_equal(argv[1], "check")) {
        if (argc != 2)
            return bh_cli_usage(cli, "check takes no arguments");
        return bh_cli_policy_check(cli, dirs);
    }
    if (g_str_equal(argv[1], "eval"))
        return bh_cli_policy_eval(cli, dirs, argc - 1, argv + 1);
    return bh_cli_usage(cli, "unknown policy command '%s' (check or eval)", argv[1]);
}
