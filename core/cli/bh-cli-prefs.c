/* bh-cli-prefs.c — qvm-prefs (a qube's properties) and qubes-prefs (globals).
 *
 * Owns the shared shape of both: list, get, set, reset (-D) and
 * --help-properties. Values are passed as typed; the model validates them.
 */
#define G_LOG_DOMAIN "bh-cli"

#include <stdio.h>
#include <string.h>

#include "bh-cli.h"

/* name  D  value — "D" marks a default, "-" a value set explicitly. The
 * daemon sends them in the model's table order, which is kept. */
static void bh_prefs_print_all(GVariant *properties)
{
    int width = 0;
    GVariantIter iter;
    const char *name, *value;
    gboolean is_default;
    g_variant_iter_init(&iter, properties);
    while (g_variant_iter_loop(&iter, "{&s(&sb)}", &name, &value, &is_default))
        width = MAX(width, (int)strlen(name));
    g_variant_iter_init(&iter, properties);
    while (g_variant_iter_loop(&iter, "{&s(&sb)}", &name, &value, &is_default)) {
        /* One line per property: a value of several lines (notes) is shown
         * with its newlines and tabs escaped; `qvm-prefs QUBE notes` and
         * qvm-notes print it as it is. */
        g_autoptr(GString) shown = g_string_new(value);
        if (strpbrk(value, "\n\t") != NULL) {
            g_string_replace(shown, "\\", "\\\\", 0);
            g_string_replace(shown, "\n", "\\n", 0);
            g_string_replace(shown, "\t", "\\t", 0);
        }
        printf("%-*s  %s  %s\n", width, name, is_default ? "D" : "-", shown->str);
    }
}

static int bh_prefs_help_properties(BhCli *cli, BhDbusAdmin1 *admin, gboolean global)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) list = NULL;
    if (!bh_dbus_admin1_call_describe_properties_sync(admin, global ? "global" : "qube", &list, NULL, &error))
        return bh_cli_fail(cli, error);

    int width = 0;
    GVariantIter iter;
    const char *name, *type, *help;
    g_variant_iter_init(&iter, list);
    while (g_variant_iter_loop(&iter, "(&s&s&s)", &name, &type, &help))
        width = MAX(width, (int)strlen(name));
    g_variant_iter_init(&iter, list);
    while (g_variant_iter_loop(&iter, "(&s&s&s)", &name, &type, &help))
        printf("%-*s  (%s) %s\n", width, name, type, help);
    return BH_CLI_OK;
}

static int bh_prefs_main(BhCli *cli, int argc, char **argv, gboolean global)
{
    gboolean reset = FALSE, help_properties = FALSE;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"default", 'D', 0, G_OPTION_ARG_NONE, &reset, "Reset PROPERTY to its default", NULL},
        {"help-properties", 0, 0, G_OPTION_ARG_NONE, &help_properties,
         "List the properties with a description of each", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new(global ? "[PROPERTY [VALUE]]" : "QUBE [PROPERTY [VALUE]]");
    g_option_context_set_summary(context, global
                                              ? "Show or change global properties (defaults for every qube)."
                                              : "Show or change a qube's properties.");
    g_option_context_set_description(
        context, global ? "Without PROPERTY: list all, 'D' marking defaults.\n"
                          "With PROPERTY: print its value; with VALUE: set it; with -D: reset it.\n"
                          "An empty VALUE ('') means none, e.g. qubes-prefs default_netvm ''.\n"
                          "\nExamples:\n  qubes-prefs default_template\n"
                          "  qubes-prefs default_netvm sys-firewall\n"
                          "  qubes-prefs -D default_netvm\n"
                        : "Without PROPERTY: list all, 'D' marking defaults.\n"
                          "With PROPERTY: print its value; with VALUE: set it; with -D: reset it.\n"
                          "An empty VALUE ('') means none, e.g. qvm-prefs work netvm ''.\n"
                          "Put -- before a VALUE that starts with '-'.\n"
                          "\nExamples:\n  qvm-prefs work\n  qvm-prefs work label green\n"
                          "  qvm-prefs -D work netvm\n");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;

    g_autoptr(GError) error = NULL;
    if (help_properties) {
        if (argc > 1 + (global ? 0 : 1))
            return bh_cli_usage(cli, "--help-properties takes no PROPERTY");
        BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
        return admin ? bh_prefs_help_properties(cli, admin, global) : bh_cli_fail(cli, error);
    }

    int first = 1;
    const char *qube = NULL;
    if (!global) {
        if (argc < 2)
            return bh_cli_usage(cli, "the QUBE is missing");
        qube = argv[1];
        first = 2;
    }
    int rest = argc - first;
    if (rest > 2)
        return bh_cli_usage(cli, "too many arguments: expected %sPROPERTY [VALUE]", global ? "" : "QUBE ");
    if (reset && rest != 1)
        return bh_cli_usage(cli, "-D takes exactly one PROPERTY and no VALUE");
    const char *prop = rest >= 1 ? argv[first] : NULL;
    const char *value = rest == 2 ? argv[first + 1] : NULL;

    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        return bh_cli_fail(cli, error);

    gboolean ok;
    if (prop == NULL) {
        g_autoptr(GVariant) all = NULL;
        ok = global ? bh_dbus_admin1_call_get_globals_sync(admin, &all, NULL, &error)
                    : bh_dbus_admin1_call_get_properties_sync(admin, qube, &all, NULL, &error);
        if (ok)
            bh_prefs_print_all(all);
    } else if (reset) {
        ok = global ? bh_dbus_admin1_call_reset_global_sync(admin, prop, NULL, &error)
                    : bh_dbus_admin1_call_reset_property_sync(admin, qube, prop, NULL, &error);
    } else if (value != NULL) {
        ok = global ? bh_dbus_admin1_call_set_global_sync(admin, prop, value, NULL, &error)
                    : bh_dbus_admin1_call_set_property_sync(admin, qube, prop, value, NULL, &error);
    } else {
        g_autofree char *current = NULL;
        gboolean is_default = FALSE;
        ok = global ? bh_dbus_admin1_call_get_global_sync(admin, prop, &current, &is_default, NULL, &error)
                    : bh_dbus_admin1_call_get_property_sync(admin, qube, prop, &current, &is_default, NULL,
                                                            &error);
        if (ok)
            printf("%s\n", current);
    }
    return ok ? BH_CLI_OK : bh_cli_fail(cli, error);
}

int bh_cli_prefs(BhCli *cli, int argc, char **argv)
{
    return bh_prefs_main(cli, argc, argv, FALSE);
}

int bh_cli_global_prefs(BhCli *cli, int argc, char **argv)
{
    return bh_prefs_main(cli, argc, argv, TRUE);
}
