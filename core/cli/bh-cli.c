/* bh-cli.c — dispatch, messages and the D-Bus connection; see bh-cli.h. */
#define G_LOG_DOMAIN "bh-cli"

#include "bh-cli.h"

#include <stdio.h>

#include "config.h"

static const BhCliCommand bh_cli_command_table[] = {
    {"qvm-ls", "ls", "list qubes and their state", bh_cli_ls},
    {"qvm-create", "create", "create a qube", bh_cli_create},
    {"qvm-prefs", "prefs", "show or change a qube's properties", bh_cli_prefs},
    {"qubes-prefs", "global-prefs", "show or change global properties", bh_cli_global_prefs},
    {"qvm-start", "start", "start qubes", bh_cli_start},
    {"qvm-shutdown", "shutdown", "shut qubes down cleanly", bh_cli_shutdown},
    {"qvm-kill", "kill", "stop qubes at once", bh_cli_kill},
    {"qvm-pause", "pause", "pause qubes", bh_cli_pause},
    {"qvm-unpause", "unpause", "resume paused qubes", bh_cli_unpause},
    {"qvm-remove", "remove", "remove qubes and their data", bh_cli_remove},
    {"qvm-clone", "clone", "copy a qube under a new name", bh_cli_clone},
    {"qvm-run", "run", "run a command in a qube", bh_cli_run},
    {"qvm-firewall", "firewall", "show or change a qube's firewall rules", bh_cli_firewall},
    {"qvm-notes", "notes", "show or change a qube's notes", bh_cli_notes},
    {"qvm-service", "service", "show or change a qube's services", bh_cli_service},
    /* No Qubes name: Qubes has no command for this. */
    {NULL, "policy", "check the policy files, or evaluate one call", bh_cli_policy},
    {NULL, "leftovers", "list or delete what dead qubes left", bh_cli_leftovers},
};

const BhCliCommand *bh_cli_commands(gsize *n_commands)
{
    *n_commands = G_N_ELEMENTS(bh_cli_command_table);
    return bh_cli_command_table;
}

const char *bh_cli_or_dash(const char *value)
{
    return (value == NULL || *value == '\0') ? "-" : value;
}

int bh_cli_fail(BhCli *cli, GError *error)
{
    if (g_dbus_error_is_remote_error(error))
        g_dbus_error_strip_remote_error(error);
    fprintf(stderr, "%s: error: %s\n", cli->prog, error->message);
    return BH_CLI_ERROR;
}

static void G_GNUC_PRINTF(3, 0) bh_cli_vreport(BhCli *cli, gboolean hint, const char *format, va_list ap)
{
    g_autofree char *message = g_strdup_vprintf(format, ap);
    fprintf(stderr, "%s: error: %s\n", cli->prog, message);
    if (hint)
        fprintf(stderr, "Try '%s --help' for more information.\n", cli->prog);
}

int bh_cli_failf(BhCli *cli, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    bh_cli_vreport(cli, FALSE, format, ap);
    va_end(ap);
    return BH_CLI_ERROR;
}

int bh_cli_usage(BhCli *cli, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    bh_cli_vreport(cli, TRUE, format, ap);
    va_end(ap);
    return BH_CLI_USAGE;
}

gboolean bh_cli_parse(BhCli *cli, GOptionContext *context, int *argc, char ***argv, int *exit_code)
{
    g_autoptr(GError) error = NULL;

    /* GOption's own --help handler calls exit(); that is the behaviour we want
     * (help on stdout, status 0), so only parse errors are handled here. */
    g_option_context_set_help_enabled(context, TRUE);
    if (!g_option_context_parse(context, argc, argv, &error)) {
        *exit_code = bh_cli_usage(cli, "%s", error->message);
        return FALSE;
    }
    return TRUE;
}

BhDbusAdmin1 *bh_cli_admin(BhCli *cli, GError **error)
{
    if (cli->admin)
        return cli->admin;

    /* Registers org.bulkhead.Error.* so replies decode into BH_DBUS_ERROR. */
    (void)bh_dbus_error_quark();

    g_autoptr(BhDbusAdmin1) admin = bh_dbus_admin1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION,
        G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
            G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
        BH_DBUS_NAME, BH_DBUS_PATH, NULL, error);
    if (admin == NULL) {
        g_prefix_error(error, "cannot reach the session bus: ");
        return NULL;
    }
    g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(admin));
    if (owner == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "bulkheadd is not running (nobody owns %s on the session bus); start it "
                    "with ./run or bulkheadd",
                    BH_DBUS_NAME);
        return NULL;
    }
    /* Power operations can legitimately take long (a shutdown waits for the
     * qube); the daemon bounds them itself. */
    g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(admin), 120 * 1000);
    cli->admin = g_steal_pointer(&admin);
    return cli->admin;
}

BhDbusAdmin1 *bh_cli_parse_qubes(BhCli *cli, GOptionContext *context, int *argc, char ***argv, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    if (!bh_cli_parse(cli, context, argc, argv, exit_code))
        return NULL;
    if (*argc < 2) {
        *exit_code = bh_cli_usage(cli, "name at least one QUBE");
        return NULL;
    }
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        *exit_code = bh_cli_fail(cli, error);
    return admin;
}

static void bh_cli_print_main_help(FILE *out)
{
    fprintf(out, "Usage: bulkhead COMMAND [OPTION…] [ARGUMENT…]\n"
                 "\n"
                 "Manage qubes through bulkheadd. Every command is also installed under its\n"
                 "Qubes name (qvm-ls, qvm-prefs, …) and behaves the same under either name.\n"
                 "\n"
                 "Commands:\n");
    for (gsize i = 0; i < G_N_ELEMENTS(bh_cli_command_table); i++) {
        const BhCliCommand *c = &bh_cli_command_table[i];
        fprintf(out, "  %-13s %-13s %s\n", c->subcommand, c->qvm_name ? c->qvm_name : "-", c->summary);
    }
    fprintf(out, "\n"
                 "Run 'bulkhead COMMAND --help' for a command's options.\n"
                 "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static const BhCliCommand *bh_cli_find(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bh_cli_command_table); i++) {
        const BhCliCommand *c = &bh_cli_command_table[i];
        if (g_strcmp0(name, c->qvm_name) == 0 || g_str_equal(name, c->subcommand))
            return c;
    }
    return NULL;
}

int bh_cli_main(int argc, char **argv)
{
    g_autofree char *base = g_path_get_basename(argc > 0 && argv[0] ? argv[0] : "bulkhead");
    g_autofree char *prog = NULL;
    const BhCliCommand *command = bh_cli_find(base);
    int rc = BH_CLI_ERROR;

    if (command != NULL) {
        prog = command->qvm_name ? g_strdup(command->qvm_name)
                                 : g_strdup_printf("bulkhead %s", command->subcommand);
    } else {
        if (argc < 2) {
            bh_cli_print_main_help(stderr);
            return BH_CLI_USAGE;
        }
        if (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h") || g_str_equal(argv[1], "help")) {
            bh_cli_print_main_help(stdout);
            return BH_CLI_OK;
        }
        if (g_str_equal(argv[1], "--version")) {
            printf("bulkhead %s\n", BH_VERSION);
            return BH_CLI_OK;
        }
        command = bh_cli_find(argv[1]);
        if (command == NULL) {
            fprintf(stderr, "bulkhead: error: unknown command '%s'\nTry 'bulkhead --help' for the list.\n",
                    argv[1]);
            return BH_CLI_USAGE;
        }
        prog = g_strdup_printf("bulkhead %s", command->subcommand);
        argc--;
        argv++;
    }

    g_set_prgname(prog);
    BhCli cli = {.prog = prog, .admin = NULL};
    rc = command->run(&cli, argc, argv);
    g_clear_object(&cli.admin);
    return rc;
}
