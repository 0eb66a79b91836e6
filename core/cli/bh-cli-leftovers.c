/* bh-cli-leftovers.c — `bulkhead leftovers`: what dead qubes left, set aside
 * when a new qube took their name (docs/sandbox.md, "A new qube never takes
 * over what a dead one left").
 *
 * Owns listing them and deleting the ones the user names. Must never:
 * delete one the user did not name (no "all"), nor check a name itself
 * (bulkheadd does, and its sentence is what the user sees).
 */
#define G_LOG_DOMAIN "bh-cli"

#include <stdio.h>
#include <string.h>

#include "bh-cli.h"

int bh_cli_leftovers(BhCli *cli, int argc, char **argv)
{
    gboolean remove = FALSE;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"remove", 0, 0, G_OPTION_ARG_NONE, &remove, "Delete the leftovers named, with all they hold", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("[--remove LEFTOVER…]");
    g_option_context_set_summary(
        context, "List what dead qubes left, or delete it. When a new qube takes the name of "
                 "a qube whose volumes were left behind (bulkheadd stopped during a clone, a "
                 "removal failed), they are set aside, never reused and never deleted unasked: "
                 "they may hold the only copy of that qube's files.");
    g_option_context_set_description(
        context, "Columns: the leftover's name (a directory in the state directory's qubes/),\n"
                 "the qube whose place it took, and when it was set aside (UTC).\n"
                 "To keep files from one, copy them out of that directory as root first.\n"
                 "\nExamples:\n  bulkhead leftovers\n"
                 "  bulkhead leftovers --remove .orphan-work-20261207T230102Z\n");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    if (remove && argc < 2)
        return bh_cli_usage(cli, "--remove needs the LEFTOVER to delete ('bulkhead leftovers' lists them)");
    if (!remove && argc > 1)
        return bh_cli_usage(cli, "a LEFTOVER is only taken with --remove");

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        return bh_cli_fail(cli, error);
    if (remove) {
        rc = BH_CLI_OK;
        /* A big leftover takes a while: no D-Bus timeout. */
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(admin), G_MAXINT);
        for (int i = 1; i < argc; i++) {
            if (bh_dbus_admin1_call_remove_leftover_sync(admin, argv[i], NULL, &error))
                continue;
            rc = bh_cli_fail(cli, error);
            g_clear_error(&error);
        }
        return rc;
    }
    g_autoptr(GVariant) list = NULL;
    if (!bh_dbus_admin1_call_list_leftovers_sync(admin, &list, NULL, &error))
        return bh_cli_fail(cli, error);
    GVariantIter iter;
    const char *name, *qube, *when;
    int w_name = (int)strlen("LEFTOVER"), w_qube = (int)strlen("QUBE");
    g_variant_iter_init(&iter, list);
    while (g_variant_iter_next(&iter, "(&s&s&s)", &name, &qube, &when)) {
        w_name = MAX(w_name, (int)strlen(name));
        w_qube = MAX(w_qube, (int)strlen(qube));
    }
    if (g_variant_n_children(list) == 0) {
        printf("no leftovers of dead qubes\n");
        return BH_CLI_OK;
    }
    printf("%-*s  %-*s  %s\n", w_name, "LEFTOVER", w_qube, "QUBE", "SET ASIDE");
    g_variant_iter_init(&iter, list);
    while (g_variant_iter_next(&iter, "(&s&s&s)", &name, &qube, &when))
        printf("%-*s  %-*s  %s\n", w_name, name, w_qube, qube, when);
    return BH_CLI_OK;
}
