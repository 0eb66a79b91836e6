/* bh-cli-ls.c — qvm-ls: one line per qube, as Qubes prints it.
 *
 * Owns only formatting and filtering of ListQubes; it must never guess a
 * value the daemon did not send.
 */
#define G_LOG_DOMAIN "bh-cli"

#include <stdio.h>
#include <string.h>

#include "bh-cli.h"

enum {
    BH_LS_NAME,
    BH_LS_STATE,
    BH_LS_CLASS,
    BH_LS_LABEL,
    BH_LS_TEMPLATE,
    BH_LS_NETVM,
    BH_LS_IP,
    BH_LS_IP6,
    BH_LS_GATEWAY,
    BH_LS_DNS,
    BH_LS_N
};

static const char *const bh_ls_headers[BH_LS_N] = {"NAME",  "STATE", "CLASS", "LABEL",   "TEMPLATE",
                                                   "NETVM", "IP",    "IP6",   "GATEWAY", "DNS"};
static const char *const bh_ls_keys[BH_LS_N] = {"name",  "state", "class", "label",   "template",
                                                "netvm", "ip",    "ip6",   "gateway", "dns"};
/* Without -O: Qubes' default columns; --network: its network view. */
static const char bh_ls_default[] = "NAME,STATE,CLASS,LABEL,TEMPLATE,NETVM";
static const char bh_ls_network[] = "NAME,STATE,NETVM,IP,GATEWAY,DNS";

typedef struct {
    char *fields[BH_LS_N];
    gboolean admin;
} BhLsRow;

static void bh_ls_row_free(gpointer data)
{
    BhLsRow *row = data;
    for (int i = 0; i < BH_LS_N; i++)
        g_free(row->fields[i]);
    g_free(row);
}

/* dom0 first, then by name: the order Qubes users know. */
static gint bh_ls_row_compare(gconstpointer a, gconstpointer b)
{
    const BhLsRow *ra = *(const BhLsRow *const *)a;
    const BhLsRow *rb = *(const BhLsRow *const *)b;
    if (ra->admin != rb->admin)
        return ra->admin ? -1 : 1;
    return strcmp(ra->fields[BH_LS_NAME], rb->fields[BH_LS_NAME]);
}

/* Aligned columns; the last one unpadded so lines carry no trailing blanks. */
static void bh_ls_print_line(const int *width, const int *cols, int n_cols, const char *const *fields)
{
    for (int c = 0; c < n_cols - 1; c++)
        printf("%-*s  ", width[cols[c]], fields[cols[c]]);
    printf("%s\n", fields[cols[n_cols - 1]]);
}

/* "NAME,STATE,IP" (any case) to column numbers; FALSE names the bad one. */
static gboolean bh_ls_parse_columns(BhCli *cli, const char *spec, int *cols, int *n_cols, int *rc)
{
    g_auto(GStrv) names = g_strsplit(spec, ",", -1);
    *n_cols = 0;
    for (char **n = names; *n; n++) {
        int found = -1;
        for (int f = 0; f < BH_LS_N && found < 0; f++)
            if (g_ascii_strcasecmp(g_strstrip(*n), bh_ls_headers[f]) == 0)
                found = f;
        if (found < 0) {
            *rc = bh_cli_usage(cli,
                               "no column '%s' in -O; there are: NAME, STATE, CLASS, LABEL, TEMPLATE, "
                               "NETVM, IP, IP6, GATEWAY, DNS",
                               *n);
            return FALSE;
        }
        if (*n_cols >= BH_LS_N) {
            *rc = bh_cli_usage(cli, "too many columns in -O (at most %d)", BH_LS_N);
            return FALSE;
        }
        cols[(*n_cols)++] = found;
    }
    if (*n_cols == 0) {
        *rc = bh_cli_usage(cli, "-O needs at least one column, such as NAME,STATE,NETVM,IP");
        return FALSE;
    }
    return TRUE;
}

int bh_cli_ls(BhCli *cli, int argc, char **argv)
{
    gboolean running = FALSE, paused = FALSE, halted = FALSE, raw = FALSE, network = FALSE;
    g_autofree char *format = NULL;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"running", 0, 0, G_OPTION_ARG_NONE, &running, "Show running qubes", NULL},
        {"paused", 0, 0, G_OPTION_ARG_NONE, &paused, "Show paused qubes", NULL},
        {"halted", 0, 0, G_OPTION_ARG_NONE, &halted, "Show halted qubes", NULL},
        {"raw-data", 0, 0, G_OPTION_ARG_NONE, &raw,
         "Print fields separated by '|', without header or padding", NULL},
        {"fields", 'O', 0, G_OPTION_ARG_STRING, &format,
         "Columns to show, comma-separated: NAME, STATE, CLASS, LABEL, TEMPLATE, NETVM, IP, IP6, GATEWAY, "
         "DNS",
         "COLUMNS"},
        {"network", 0, 0, G_OPTION_ARG_NONE, &network,
         "Show the network columns: "
         "NAME,STATE,NETVM,IP,GATEWAY,DNS",
         NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("[QUBE…]");
    g_option_context_set_summary(
        context, "List qubes: NAME STATE CLASS LABEL TEMPLATE NETVM (-O and --network choose others).\n"
                 "The state filters combine: --running --paused shows both.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    int cols[BH_LS_N], n_cols = 0;
    if (format && network)
        return bh_cli_usage(cli, "-O and --network both choose the columns; give one of them");
    if (!bh_ls_parse_columns(cli,
                             format    ? format
                             : network ? bh_ls_network
                                       : bh_ls_default,
                             cols, &n_cols, &rc))
        return rc;

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    g_autoptr(GVariant) qubes = NULL;
    if (admin == NULL || !bh_dbus_admin1_call_list_qubes_sync(admin, &qubes, NULL, &error))
        return bh_cli_fail(cli, error);

    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(bh_ls_row_free);
    GVariantIter iter;
    GVariant *dict;
    g_variant_iter_init(&iter, qubes);
    while ((dict = g_variant_iter_next_value(&iter))) {
        g_autoptr(GVariantDict) d = g_variant_dict_new(dict);
        BhLsRow *row = g_new0(BhLsRow, 1);
        for (int i = 0; i < BH_LS_N; i++) {
            const char *value = NULL;
            if (!g_variant_dict_lookup(d, bh_ls_keys[i], "&s", &value))
                value = "";
            row->fields[i] = g_strdup(bh_cli_or_dash(value));
        }
        row->admin = g_str_equal(row->fields[BH_LS_CLASS], "AdminVM");
        g_ptr_array_add(rows, row);
        g_variant_unref(dict);
    }

    /* Named qubes must all exist: a typo should not look like "not running". */
    for (int a = 1; a < argc; a++) {
        gboolean found = FALSE;
        for (guint i = 0; i < rows->len && !found; i++)
            found = g_str_equal(((BhLsRow *)rows->pdata[i])->fields[BH_LS_NAME], argv[a]);
        if (!found)
            return bh_cli_failf(cli, "no such qube: '%s'", argv[a]);
    }

    g_autoptr(GPtrArray) shown = g_ptr_array_new();
    for (guint i = 0; i < rows->len; i++) {
        BhLsRow *row = rows->pdata[i];
        const char *state = row->fields[BH_LS_STATE];
        if (running || paused || halted) {
            gboolean keep = (running && g_str_equal(state, "Running")) ||
                            (paused && g_str_equal(state, "Paused")) ||
                            (halted && g_str_equal(state, "Halted"));
            if (!keep)
                continue;
        }
        if (argc > 1 && !g_strv_contains((const char *const *)argv + 1, row->fields[BH_LS_NAME]))
            continue;
        g_ptr_array_add(shown, row);
    }
    g_ptr_array_sort(shown, bh_ls_row_compare);

    if (raw) {
        for (guint i = 0; i < shown->len; i++) {
            BhLsRow *row = shown->pdata[i];
            for (int c = 0; c < n_cols; c++)
                printf("%s%s", c ? "|" : "", row->fields[cols[c]]);
            putchar('\n');
        }
        return BH_CLI_OK;
    }

    int width[BH_LS_N];
    for (int f = 0; f < BH_LS_N; f++)
        width[f] = (int)strlen(bh_ls_headers[f]);
    for (guint i = 0; i < shown->len; i++) {
        BhLsRow *row = shown->pdata[i];
        for (int f = 0; f < BH_LS_N; f++)
            width[f] = MAX(width[f], (int)g_utf8_strlen(row->fields[f], -1));
    }
    bh_ls_print_line(width, cols, n_cols, bh_ls_headers);
    for (guint i = 0; i < shown->len; i++)
        bh_ls_print_line(width, cols, n_cols, (const char *const *)((BhLsRow *)shown->pdata[i])->fields);
    return BH_CLI_OK;
}
