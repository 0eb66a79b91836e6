/* bh-cli.h — shared plumbing of the `bulkhead` command and its qvm-* names.
 *
 * Owns the exit-status convention (0 ok, 1 error, 2 usage), the
 * "<command>: error: ..." message format, option parsing with --help and the
 * connection to bulkheadd. It must never reach state except through the
 * org.bulkhead.Admin1 proxy: the CLI is a D-Bus client like the shell.
 */
#pragma once

#include <gio/gio.h>

#include "bh-dbus-admin1.h"
#include "bh-dbus-error.h"

G_BEGIN_DECLS

enum {
    BH_CLI_OK = 0,
    BH_CLI_ERROR = 1,
    BH_CLI_USAGE = 2,
};

typedef struct {
    const char *prog;    /* as the user typed it: "qvm-prefs" or "bulkhead prefs" */
    BhDbusAdmin1 *admin; /* connected on first use */
} BhCli;

typedef int (*BhCliCommandFunc)(BhCli *cli, int argc, char **argv);

typedef struct {
    const char *qvm_name;   /* "qvm-ls"; NULL: only `bulkhead <subcommand>` */
    const char *subcommand; /* "ls" */
    const char *summary;
    BhCliCommandFunc run;
} BhCliCommand;

/* Entry point for main(): dispatches on argv[0], or on argv[1] for `bulkhead`. */
int bh_cli_main(int argc, char **argv);

/* The command table (for `bulkhead --help` and the dispatch). */
const BhCliCommand *bh_cli_commands(gsize *n_commands);

/* Prints "<prog>: error: <message>" to stderr and returns BH_CLI_ERROR. For a
 * D-Bus error the remote prefix is stripped: the user sees the model's text. */
int bh_cli_fail(BhCli *cli, GError *error);
int bh_cli_failf(BhCli *cli, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* Prints the error and a hint to use --help; returns BH_CLI_USAGE. */
int bh_cli_usage(BhCli *cli, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Parses options; on --help prints help and sets *exit_code = BH_CLI_OK, on
 * a bad option prints the error and sets BH_CLI_USAGE; returns FALSE then. */
gboolean bh_cli_parse(BhCli *cli, GOptionContext *context, int *argc, char ***argv, int *exit_code);

/* bh_cli_parse, then at least one QUBE argument, then bh_cli_admin: the
 * preamble of commands taking QUBE…; NULL with *exit_code set on failure. */
BhDbusAdmin1 *bh_cli_parse_qubes(BhCli *cli, GOptionContext *context, int *argc, char ***argv,
                                 int *exit_code);

/* The proxy to bulkheadd; fails with a message saying how to start it. */
BhDbusAdmin1 *bh_cli_admin(BhCli *cli, GError **error);

/* "" for none is shown as "-", as qvm-ls does. */
const char *bh_cli_or_dash(const char *value);

int bh_cli_ls(BhCli *cli, int argc, char **argv);
int bh_cli_create(BhCli *cli, int argc, char **argv);
int bh_cli_prefs(BhCli *cli, int argc, char **argv);
int bh_cli_global_prefs(BhCli *cli, int argc, char **argv);
int bh_cli_start(BhCli *cli, int argc, char **argv);
int bh_cli_shutdown(BhCli *cli, int argc, char **argv);
int bh_cli_kill(BhCli *cli, int argc, char **argv);
int bh_cli_pause(BhCli *cli, int argc, char **argv);
int bh_cli_unpause(BhCli *cli, int argc, char **argv);
int bh_cli_remove(BhCli *cli, int argc, char **argv);
int bh_cli_clone(BhCli *cli, int argc, char **argv);
int bh_cli_run(BhCli *cli, int argc, char **argv);
int bh_cli_firewall(BhCli *cli, int argc, char **argv);
int bh_cli_notes(BhCli *cli, int argc, char **argv);
int bh_cli_service(BhCli *cli, int argc, char **argv);
int bh_cli_leftovers(BhCli *cli, int argc, char **argv);
int bh_cli_policy(BhCli *cli, int argc, char **argv);

G_END_DECLS
