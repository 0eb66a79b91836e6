/* bh-cli-service.c — qvm-service: show or change a qube's services (flags
 * the qube reads at its start: docs/model.md "Services").
 *
 * Owns the command's shapes, Qubes' own: QUBE lists, QUBE SERVICE prints
 * on/off/unset, QUBE SERVICE VALUE or --enable/--disable/--unset sets.
 * Must never: check a service's name itself (the model does, and its
 * sentence is what the user sees).
 */
#define G_LOG_DOMAIN "bh-cli"

#include <stdio.h>
#include <string.h>

#include "bh-cli.h"

/* Qubes accepts these for VALUE. */
static const char *bh_service_state(const char *value)
{
    static const char *const on[] = {"on", "1", "true", "True", "yes", "enable", "enabled", NULL};
    static const char *const off[] = {"off", "0", "false", "False", "no", "disable", "disabled", NULL};

    if (g_strv_contains(on, value))
        return "on";
    if (g_strv_contains(off, value))
        return "off";
    if (g_str_equal(value, "unset") || g_str_equal(value, "default"))
        return "unset";
    return NULL;
}

int bh_cli_service(BhCli *cli, int argc, char **argv)
{
    gboolean enable = FALSE, disable = FALSE, unset = FALSE;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"enable", 'e', 0, G_OPTION_ARG_NONE, &enable, "Turn SERVICE on", NULL},
        {"disable", 'd', 0, G_OPTION_ARG_NONE, &disable, "Turn SERVICE off", NULL},
        {"unset", 'D', 0, G_OPTION_ARG_NONE, &unset, "Unset SERVICE (the qube's own default applies)", NULL},
        {"default", 0, 0, G_OPTION_ARG_NONE, &unset, "The same as --unset", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("QUBE [SERVICE [on|off|unset]]");

    g_option_context_set_summary(context,
                                 "Show or change a qube's services: flags the qube reads at its start "
                                 "(for example crond, cups, network-manager).");
    g_option_context_set_description(
        context, "Without SERVICE: list the services set, on or off.\n"
                 "With SERVICE: print on, off or unset; with a VALUE or an option: set it.\n"
                 "A change applies at the qube's next start. In the qube, a service that is\n"
                 "on is a file /run/bulkhead/service/NAME (also /run/qubes-service/NAME), one\n"
                 "that is off a file /run/bulkhead/service-off/NAME.\n"
                 "\nExamples:\n  qvm-service work\n  qvm-service work crond on\n"
                 "  qvm-service --disable work cups\n  qvm-service --unset work cups\n");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    if (enable + disable + unset > 1)
        return bh_cli_usage(cli, "--enable, --disable and --unset exclude each other");
    if (argc < 2)
        return bh_cli_usage(cli, "the QUBE is missing");
    if ((enable || disable || unset) && argc != 3)
        return bh_cli_usage(cli, "--enable, --disable and --unset take QUBE and one SERVICE");
    if (argc > 4)
        return bh_cli_usage(cli, "too many arguments: expected QUBE [SERVICE [VALUE]]");

    const char *qube = argv[1];
    const char *service = argc >= 3 ? argv[2] : NULL;
    const char *state = enable ? "on" : disable ? "off" : unset ? "unset" : NULL;
    if (argc == 4 && (state = bh_service_state(argv[3])) == NULL)
        return bh_cli_usage(cli, "'%s' is not on, off or unset", argv[3]);

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        return bh_cli_fail(cli, error);
    if (state != NULL) {
        if (!bh_dbus_admin1_call_set_service_sync(admin, qube, service, state, NULL, &error))
            return bh_cli_fail(cli, error);
        return BH_CLI_OK;
    }
    g_autoptr(GVariant) services = NULL;
    if (!bh_dbus_admin1_call_list_services_sync(admin, qube, &services, NULL, &error))
        return bh_cli_fail(cli, error);
    if (service != NULL) {
        gboolean on = FALSE;
        printf("%s\n", !g_variant_lookup(services, service, "b", &on) ? "unset" : on ? "on" : "off");
        return BH_CLI_OK;
    }
    /* The daemon checked the names: letters, digits, '_', '-', '.'. */
    int width = 0;
    GVariantIter iter;
    const char *name;
    gboolean on;
    g_variant_iter_init(&iter, services);
    while (g_variant_iter_loop(&iter, "{&sb}", &name, &on))
        width = MAX(width, (int)strlen(name));
    g_variant_iter_init(&iter, services);
    while (g_variant_iter_loop(&iter, "{&sb}", &name, &on))
        printf("%-*s  %s\n", width, name, on ? "on" : "off");
    return BH_CLI_OK;
}
