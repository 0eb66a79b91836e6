/* bh-cli-power.c — qvm-start, qvm-shutdown, qvm-kill, qvm-pause, qvm-unpause
 * and qvm-remove.
 *
 * Owns argument handling and per-qube reporting; each named qube is tried
 * even when an earlier one failed, and any failure makes the status 1.
 */
#define G_LOG_DOMAIN "bh-cli"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bh-cli.h"

typedef gboolean (*BhPowerCall)(BhDbusAdmin1 *admin, const char *qube, GCancellable *cancellable,
                                GError **error);

static int bh_power_simple(BhCli *cli, int argc, char **argv, const char *summary, BhPowerCall call)
{
    int rc = BH_CLI_ERROR;
    g_autoptr(GOptionContext) context = g_option_context_new("QUBE…");
    g_option_context_set_summary(context, summary);
    BhDbusAdmin1 *admin = bh_cli_parse_qubes(cli, context, &argc, &argv, &rc);
    if (admin == NULL)
        return rc;
    rc = BH_CLI_OK;
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) e = NULL;
        if (!call(admin, argv[i], NULL, &e))
            rc = bh_cli_fail(cli, e);
    }
    return rc;
}

/* Start completes once the qube runs and its agent answered, which bulkheadd
 * bounds itself (its backend's start, then the agent's timeout: 120 s on xen
 * after the kernel booted, per qube of a netvm chain). The CLI's usual 120 s
 * D-Bus limit was shorter than that: under load a Xen qube's start outlived
 * it and qvm-start failed while the start went on and succeeded. */
static gboolean bh_cli_start_call(BhDbusAdmin1 *admin, const char *qube, GCancellable *cancellable,
                                  GError **error)
{
    g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(admin), G_MAXINT);
    return bh_dbus_admin1_call_start_sync(admin, qube, cancellable, error);
}

int bh_cli_start(BhCli *cli, int argc, char **argv)
{
    return bh_power_simple(cli, argc, argv, "Start qubes (and the qubes providing their network).",
                           bh_cli_start_call);
}

int bh_cli_kill(BhCli *cli, int argc, char **argv)
{
    return bh_power_simple(cli, argc, argv,
                           "Stop qubes at once, without a clean shutdown. Unsaved work is lost.",
                           bh_dbus_admin1_call_kill_sync);
}

int bh_cli_pause(BhCli *cli, int argc, char **argv)
{
    return bh_power_simple(cli, argc, argv, "Pause running qubes.", bh_dbus_admin1_call_pause_sync);
}

int bh_cli_unpause(BhCli *cli, int argc, char **argv)
{
    return bh_power_simple(cli, argc, argv, "Resume paused qubes.", bh_dbus_admin1_call_unpause_sync);
}

/* Names of every qube that is not Halted and not dom0, minus the excluded. */
static GPtrArray *bh_shutdown_collect_all(BhDbusAdmin1 *admin, char **exclude, GError **error)
{
    g_autoptr(GVariant) qubes = NULL;
    if (!bh_dbus_admin1_call_list_qubes_sync(admin, &qubes, NULL, error))
        return NULL;
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GVariantIter iter;
    GVariant *dict;
    g_variant_iter_init(&iter, qubes);
    while ((dict = g_variant_iter_next_value(&iter))) {
        const char *name = NULL, *state = NULL, *klass = NULL;
        if (g_variant_lookup(dict, "name", "&s", &name) && g_variant_lookup(dict, "state", "&s", &state) &&
            g_variant_lookup(dict, "class", "&s", &klass) && !g_str_equal(state, "Halted") &&
            !g_str_equal(klass, "AdminVM") &&
            !(exclude && g_strv_contains((const char *const *)exclude, name)))
            g_ptr_array_add(names, g_strdup(name));
        g_variant_unref(dict);
    }
    return names;
}

int bh_cli_shutdown(BhCli *cli, int argc, char **argv)
{
    gboolean wait = FALSE, all = FALSE;
    int timeout = 0;
    g_auto(GStrv) exclude = NULL;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"wait", 0, 0, G_OPTION_ARG_NONE, &wait, "Wait until the qubes are halted", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
         "Seconds to wait for a clean shutdown before the qube is killed (default: the "
         "daemon's, 60)",
         "SECONDS"},
        {"all", 0, 0, G_OPTION_ARG_NONE, &all, "Shut down every running qube except dom0", NULL},
        {"exclude", 0, 0, G_OPTION_ARG_STRING_ARRAY, &exclude, "With --all: leave this qube running", "QUBE"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("[QUBE…]");
    g_option_context_set_summary(context, "Shut qubes down cleanly.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    if (timeout < 0)
        return bh_cli_usage(cli, "--timeout must not be negative");
    if (all == (argc > 1))
        return bh_cli_usage(cli, all ? "--all and QUBE names exclude each other"
                                     : "name at least one QUBE, or use --all");

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        return bh_cli_fail(cli, error);
    g_autoptr(GPtrArray) names = NULL;
    if (all) {
        names = bh_shutdown_collect_all(admin, exclude, &error);
        if (names == NULL)
            return bh_cli_fail(cli, error);
    } else {
        names = g_ptr_array_new_with_free_func(g_free);
        for (int i = 1; i < argc; i++)
            g_ptr_array_add(names, g_strdup(argv[i]));
    }

    /* Ask all first, then wait for each: the qubes go down in parallel. */
    g_autoptr(GPtrArray) asked = g_ptr_array_new();
    rc = BH_CLI_OK;
    for (guint i = 0; i < names->len; i++) {
        g_autoptr(GError) e = NULL;
        if (bh_dbus_admin1_call_shutdown_sync(admin, names->pdata[i], FALSE, (guint)timeout, NULL, &e))
            g_ptr_array_add(asked, names->pdata[i]);
        else
            rc = bh_cli_fail(cli, e);
    }
    if (wait) {
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(admin), G_MAXINT);
        for (guint i = 0; i < asked->len; i++) {
            g_autoptr(GError) e = NULL;
            if (!bh_dbus_admin1_call_shutdown_sync(admin, asked->pdata[i], TRUE, (guint)timeout, NULL, &e))
                rc = bh_cli_fail(cli, e);
        }
    }
    return rc;
}

/* y or yes (any case) confirms; anything else, or end of input, declines. */
static gboolean bh_remove_confirm(GPtrArray *names)
{
    fprintf(stderr, "This will completely remove %s:\n",
            names->len > 1 ? "these qubes and all their data" : "this qube and all its data");
    for (guint i = 0; i < names->len; i++)
        fprintf(stderr, "  %s\n", (const char *)names->pdata[i]);
    fprintf(stderr, "Are you sure? [y/N] ");
    fflush(stderr);
    char answer[16] = {0};
    if (fgets(answer, sizeof answer, stdin) == NULL)
        return FALSE;
    g_strstrip(answer);
    return g_ascii_strcasecmp(answer, "y") == 0 || g_ascii_strcasecmp(answer, "yes") == 0;
}

int bh_cli_remove(BhCli *cli, int argc, char **argv)
{
    gboolean force = FALSE;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("QUBE…");
    g_option_context_set_summary(context, "Remove halted qubes with all their data. A qube that another "
                                          "one uses (as template, netvm\nor default_dispvm) cannot be "
                                          "removed until nothing refers to it.");
    g_option_context_add_main_entries(context, entries, NULL);
    BhDbusAdmin1 *admin = bh_cli_parse_qubes(cli, context, &argc, &argv, &rc);
    if (admin == NULL)
        return rc;

    /* Ask only about qubes that exist, so the question is never misleading. */
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    rc = BH_CLI_OK;
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) e = NULL;
        g_autofree char *state = NULL;
        if (bh_dbus_admin1_call_get_state_sync(admin, argv[i], &state, NULL, &e))
            g_ptr_array_add(names, argv[i]);
        else
            rc = bh_cli_fail(cli, e);
    }
    if (names->len == 0)
        return rc;
    if (!force) {
        if (!isatty(STDIN_FILENO))
            return bh_cli_failf(cli, "not removing without confirmation: input is not a terminal; "
                                     "use -f to remove without asking");
        if (!bh_remove_confirm(names))
            return bh_cli_failf(cli, "not confirmed; nothing removed");
    }
    for (guint i = 0; i < names->len; i++) {
        g_autoptr(GError) e = NULL;
        if (!bh_dbus_admin1_call_remove_sync(admin, names->pdata[i], NULL, &e))
            rc = bh_cli_fail(cli, e);
    }
    return rc;
}
