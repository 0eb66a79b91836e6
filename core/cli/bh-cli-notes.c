/* bh-cli-notes.c — qvm-notes: show or change a qube's notes (its `notes`
 * property, docs/model.md).
 *
 * Owns the three ways to change them (--set TEXT, --set - from stdin, --edit
 * in the user's editor) and printing them. Must never: validate the text
 * itself (the model does, and its sentence is what the user sees) nor lose
 * what the user typed in the editor when the daemon refuses it (the file is
 * kept and named).
 */
#define G_LOG_DOMAIN "bh-cli"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bh-cli.h"
#include "bulkhead/escape-filter.h"
#include "bulkhead/qubes.h"

/* stdin is read up to here: past the model's limit, so its own sentence
 * (with the size) is what the user sees, but never without bound. */
#define BH_NOTES_READ_MAX (BH_NOTES_MAX * 4)

/* Through the terminal filter: the model allows only tabs and newlines as
 * controls, and a store from elsewhere must not rewrite the terminal either. */
static void bh_notes_print(const char *text)
{
    gsize n = strlen(text);
    g_autofree guint8 *out = g_malloc(n + 2 * BH_ESCAPE_FILTER_SLACK);
    BhEscapeFilter filter;
    gsize len;

    bh_escape_filter_init(&filter);
    len = bh_escape_filter_feed(&filter, (const guint8 *)text, n, out);
    len += bh_escape_filter_finish(&filter, out + len);
    fwrite(out, 1, len, stdout);
    if (len > 0 && out[len - 1] != '\n')
        fputc('\n', stdout);
}

static char *bh_notes_read_stdin(BhCli *cli, int *rc)
{
    GString *text = g_string_new(NULL);
    char buf[4096];
    size_t n;

    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        g_string_append_len(text, buf, (gssize)n);
        if (text->len > BH_NOTES_READ_MAX) {
            g_string_free(text, TRUE);
            *rc = bh_cli_failf(cli,
                               "the notes on stdin are longer than %d bytes (the most is %d); nothing "
                               "was changed",
                               BH_NOTES_READ_MAX, BH_NOTES_MAX);
            return NULL;
        }
    }
    if (ferror(stdin)) {
        g_string_free(text, TRUE);
        *rc = bh_cli_failf(cli, "cannot read stdin; nothing was changed");
        return NULL;
    }
    return g_string_free(text, FALSE);
}

/* The notes in $VISUAL, $EDITOR or vi on a private temporary file; saved when
 * the editor exits with 0 and the text changed. */
static int bh_notes_edit(BhCli *cli, BhDbusAdmin1 *admin, const char *qube, const char *current)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL, *edited = NULL;
    g_auto(GStrv) argv = NULL;
    const char *editor = g_getenv("VISUAL");
    int fd, status = 0;

    if (editor == NULL || *editor == '\0')
        editor = g_getenv("EDITOR");
    if (editor == NULL || *editor == '\0')
        editor = "vi";
    fd = g_file_open_tmp("bulkhead-notes-XXXXXX.txt", &path, &error); /* mode 0600 */
    if (fd < 0)
        return bh_cli_fail(cli, error);
    close(fd);
    if (!g_file_set_contents(path, current, -1, &error) || !g_shell_parse_argv(editor, NULL, &argv, &error)) {
        g_unlink(path);
        return bh_cli_fail(cli, error);
    }
    {
        guint n = g_strv_length(argv);
        argv = g_renew(char *, argv, n + 2);
        argv[n] = g_strdup(path);
        argv[n + 1] = NULL;
    }
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL,
                      NULL, &status, &error)) {
        g_unlink(path);
        return bh_cli_fail(cli, error);
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_unlink(path);
        return bh_cli_failf(cli, "the editor (%s) failed; the notes were not changed", editor);
    }
    if (!g_file_get_contents(path, &edited, NULL, &error))
        return bh_cli_fail(cli, error);
    if (g_str_equal(edited, current)) {
        g_unlink(path);
        return BH_CLI_OK;
    }
    if (!bh_dbus_admin1_call_set_property_sync(admin, qube, "notes", edited, NULL, &error)) {
        if (g_dbus_error_is_remote_error(error))
            g_dbus_error_strip_remote_error(error);
        /* What the user typed stays on disk: they can fix it and --set - < it. */
        return bh_cli_failf(cli, "%s\nWhat you wrote is kept in %s", error->message, path);
    }
    g_unlink(path);
    return BH_CLI_OK;
}

int bh_cli_notes(BhCli *cli, int argc, char **argv)
{
    g_autofree char *set = NULL;
    gboolean edit = FALSE;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"set", 's', 0, G_OPTION_ARG_STRING, &set,
         "Replace the notes with TEXT ('' clears them, - reads stdin)", "TEXT"},
        {"edit", 'e', 0, G_OPTION_ARG_NONE, &edit, "Edit the notes in $VISUAL, $EDITOR or vi", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("QUBE");

    g_option_context_set_summary(context, "Show or change a qube's notes: your own free text about it, "
                                          "kept by dom0 (the qube never sees it).");
    g_option_context_set_description(context,
                                     "Without an option: print the notes.\n"
                                     "Notes are UTF-8 text of several lines, at most 16384 bytes.\n"
                                     "\nExamples:\n  qvm-notes vault\n"
                                     "  qvm-notes vault --set 'Tax papers; never networked'\n"
                                     "  qvm-notes vault --set - < notes.txt\n  qvm-notes vault --edit\n");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc))
        return rc;
    if (argc != 2)
        return bh_cli_usage(cli, argc < 2 ? "the QUBE is missing" : "too many arguments: expected one QUBE");
    if (set != NULL && edit)
        return bh_cli_usage(cli, "--set and --edit cannot be used together");

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        return bh_cli_fail(cli, error);
    const char *qube = argv[1];
    if (set != NULL) {
        g_autofree char *text = g_str_equal(set, "-") ? bh_notes_read_stdin(cli, &rc) : g_strdup(set);
        if (text == NULL)
            return rc;
        if (!bh_dbus_admin1_call_set_property_sync(admin, qube, "notes", text, NULL, &error))
            return bh_cli_fail(cli, error);
        return BH_CLI_OK;
    }
    g_autofree char *current = NULL;
    if (!bh_dbus_admin1_call_get_property_sync(admin, qube, "notes", &current, NULL, NULL, &error))
        return bh_cli_fail(cli, error);
    if (edit)
        return bh_notes_edit(cli, admin, qube, current);
    bh_notes_print(current);
    return BH_CLI_OK;
}
