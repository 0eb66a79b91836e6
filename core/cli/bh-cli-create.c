/* bh-cli-create.c — qvm-create and qvm-clone.
 *
 * Owns turning options into one Create/Clone call; validation of names,
 * labels and templates is the model's, reported through the daemon.
 */
#define G_LOG_DOMAIN "bh-cli"

#include <string.h>

#include "bh-cli.h"

int bh_cli_create(BhCli *cli, int argc, char **argv)
{
    g_autofree char *label = NULL, *template_name = NULL, *klass = NULL;
    g_auto(GStrv) props = NULL;
    gboolean standalone = FALSE, disp = FALSE;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"label", 'l', 0, G_OPTION_ARG_STRING, &label,
         "The qube's label (colour): red, orange, yellow, green, gray, blue, purple, black "
         "(required)",
         "LABEL"},
        {"template", 't', 0, G_OPTION_ARG_STRING, &template_name,
         "Template to base it on (default: the default_template global)", "TEMPLATE"},
        {"class", 'C', 0, G_OPTION_ARG_STRING, &klass, "AppVM (default), TemplateVM, StandaloneVM or DispVM",
         "CLASS"},
        {"prop", 0, 0, G_OPTION_ARG_STRING_ARRAY, &props, "Set a property (repeatable)", "NAME=VALUE"},
        {"property", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY, &props, NULL, NULL},
        {"standalone", 0, 0, G_OPTION_ARG_NONE, &standalone,
         "Create a StandaloneVM (its own copy of the template's root)", NULL},
        {"disp", 0, 0, G_OPTION_ARG_NONE, &disp,
         "Create a DispVM based on a disposable template (default: the default_dispvm global)", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("NAME");
    g_option_context_set_summary(context, "Create a qube.");
    g_option_context_set_description(context, "Examples:\n"
                                              "  qvm-create -l blue work2\n"
                                              "  qvm-create -C TemplateVM -l black debian-13\n"
                                              "  qvm-create -t debian-13 -l red --prop netvm= offline\n");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;

    if (argc != 2)
        return bh_cli_usage(cli, argc < 2 ? "the qube's NAME is missing" : "only one NAME, please");
    if (label == NULL)
        return bh_cli_usage(cli, "--label is required (red, orange, yellow, green, gray, blue, "
                                 "purple or black)");
    if ((standalone ? 1 : 0) + (disp ? 1 : 0) + (klass ? 1 : 0) > 1)
        return bh_cli_usage(cli, "--class, --standalone and --disp exclude each other");
    const char *chosen = klass ? klass : standalone ? "StandaloneVM" : disp ? "DispVM" : "AppVM";

    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a{ss}"));
    for (char **p = props; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (eq == NULL || eq == *p) {
            g_variant_builder_clear(&builder);
            return bh_cli_usage(cli, "--prop wants NAME=VALUE, not '%s'", *p);
        }
        g_autofree char *key = g_strndup(*p, (gsize)(eq - *p));
        g_variant_builder_add(&builder, "{ss}", key, eq + 1);
    }
    GVariant *properties = g_variant_builder_end(&builder);

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL) {
        g_variant_unref(g_variant_ref_sink(properties));
        return bh_cli_fail(cli, error);
    }
    if (!bh_dbus_admin1_call_create_sync(admin, chosen, argv[1], label, template_name ? template_name : "",
                                         properties, NULL, &error))
        return bh_cli_fail(cli, error);
    return BH_CLI_OK;
}

int bh_cli_clone(BhCli *cli, int argc, char **argv)
{
    int rc = BH_CLI_ERROR;
    g_autoptr(GOptionContext) context = g_option_context_new("SOURCE NAME");
    g_option_context_set_summary(context, "Copy a halted qube: its properties and, with a backend, its "
                                          "private data.");
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    if (argc != 3)
        return bh_cli_usage(cli, "expected SOURCE and NAME");

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        return bh_cli_fail(cli, error);
    /* Clone is answered once the volumes are copied, which takes as long as
     * what the source stored (bulkheadd answers others meanwhile). */
    g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(admin), G_MAXINT);
    if (!bh_dbus_admin1_call_clone_sync(admin, argv[1], argv[2], NULL, &error))
        return bh_cli_fail(cli, error);
    return BH_CLI_OK;
}
