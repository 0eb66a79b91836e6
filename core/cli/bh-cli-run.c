/* bh-cli-run.c — qvm-run: a command line in a qube or in a new disposable.
 *
 * Owns the client side of Run: with --pass-io our stdin/stdout/stderr travel
 * to the daemon as file descriptors (GUnixFDList), so nothing is copied
 * through D-Bus. An output stream that is to be filtered (by default: one that
 * is a terminal) is never handed over: the daemon gets a pipe instead, and a
 * thread here copies what arrives through the escape filter (core/wire) to our own fd, so
 * a qube's bytes reach a dom0 terminal only as harmless text.
 * It must never give the daemon (or through it, a qube) a terminal to write
 * to unfiltered, unless the user asked for raw output.
 */
#define G_LOG_DOMAIN "bh-cli"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <unistd.h>

#include <bulkhead/error.h>
#include <bulkhead/escape-filter.h>

#include "bh-cli.h"

typedef struct {
    gboolean dispvm;
    char *dispvm_template; /* NULL: the default_dispvm global */
} BhRunOptions;

static gboolean bh_run_parse_dispvm(const char *option, const char *value, gpointer data, GError **error)
{
    BhRunOptions *options = data;
    options->dispvm = TRUE;
    g_free(options->dispvm_template);
    options->dispvm_template = g_strdup(value);
    return TRUE;
}

/* One filtered output stream: the read end of the pipe the daemon writes
 * to, and our own descriptor the filtered text goes to. */
typedef struct {
    int from;
    int to;
} BhRunPump;

static void bh_run_write_all(int fd, const guint8 *buf, gsize n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        /* Our output is gone: keep draining so the command is not blocked. */
        if (w <= 0)
            return;
        buf += w;
        n -= (gsize)w;
    }
}

static gpointer bh_run_pump(gpointer data)
{
    BhRunPump *p = data;
    BhEscapeFilter filter;
    guint8 in[4096], out[sizeof in + BH_ESCAPE_FILTER_SLACK];
    bh_escape_filter_init(&filter);
    for (;;) {
        ssize_t r = read(p->from, in, sizeof in);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        bh_run_write_all(p->to, out, bh_escape_filter_feed(&filter, in, (gsize)r, out));
    }
    bh_run_write_all(p->to, out, bh_escape_filter_finish(&filter, out));
    close(p->from);
    return NULL;
}

/* Runs and, with wait, returns the command's status in *status. filter[1]
 * and filter[2]: show that stream's output through the escape filter. */
static gboolean bh_run_call(BhDbusAdmin1 *admin, const char *qube, const char *commandline, const char *user,
                            gboolean autostart, gboolean wait, gboolean pass_io, const gboolean filter[3],
                            int *status, GError **error)
{
    g_autoptr(GUnixFDList) fds = NULL;
    BhRunPump pumps[3] = {{-1, -1}, {-1, -1}, {-1, -1}};
    GThread *threads[3] = {NULL, NULL, NULL};
    gboolean ok = FALSE;
    GVariantDict options;
    g_variant_dict_init(&options, NULL);
    g_variant_dict_insert(&options, "autostart", "b", autostart);
    g_variant_dict_insert(&options, "wait", "b", wait);
    if (pass_io) {
        fds = g_unix_fd_list_new();
        const char *const keys[] = {"stdin", "stdout", "stderr"};
        for (int fd = 0; fd < 3; fd++) {
            int give = fd, pipe_fds[2] = {-1, -1};
            if (filter[fd]) {
                if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
                    int e = errno;
                    g_variant_dict_clear(&options);
                    bh_error_errno(error, e, "cannot make a pipe for %s", keys[fd]);
                    goto out;
                }
                pumps[fd].from = pipe_fds[0];
                pumps[fd].to = fd;
                give = pipe_fds[1];
            }
            int index = g_unix_fd_list_append(fds, give, error);
            /* The list holds its own copy: the pipe ends at EOF once the daemon
             * closes its copy. */
            if (pipe_fds[1] >= 0)
                close(pipe_fds[1]);
            if (index < 0) {
                g_variant_dict_clear(&options);
                g_prefix_error(error, "cannot pass %s: ", keys[fd]);
                goto out;
            }
            g_variant_dict_insert(&options, keys[fd], "h", index);
        }
        for (int fd = 0; fd < 3; fd++)
            if (pumps[fd].from >= 0)
                threads[fd] = g_thread_new("qvm-run-filter", bh_run_pump, &pumps[fd]);
    }
    ok = bh_dbus_admin1_call_run_sync(admin, qube, commandline, user, g_variant_dict_end(&options), fds,
                                      status, NULL, NULL, error);
out:
    g_clear_object(&fds);
    for (int fd = 0; fd < 3; fd++) {
        if (threads[fd])
            g_thread_join(threads[fd]);
        else if (pumps[fd].from >= 0)
            close(pumps[fd].from);
    }
    return ok;
}

int bh_cli_run(BhCli *cli, int argc, char **argv)
{
    BhRunOptions run = {FALSE, NULL};
    gboolean pass_io = FALSE, autostart = TRUE, no_autostart = FALSE;
    gboolean filter_escapes = FALSE, no_filter_escapes = FALSE;
    g_autofree char *user = NULL;
    int rc = BH_CLI_ERROR;
    const GOptionEntry entries[] = {
        {"pass-io", 'p', 0, G_OPTION_ARG_NONE, &pass_io,
         "Connect the command to this terminal's input and output and exit with its status", NULL},
        {"user", 'u', 0, G_OPTION_ARG_STRING, &user, "Run as USER (default: the qube's user)", "USER"},
        {"autostart", 'a', 0, G_OPTION_ARG_NONE, &autostart,
         "Start the qube if it is not running (the default)", NULL},
        {"no-autostart", 'n', 0, G_OPTION_ARG_NONE, &no_autostart, "Fail instead of starting a halted qube",
         NULL},
        {"filter-escape-chars", 0, 0, G_OPTION_ARG_NONE, &filter_escapes,
         "Show the command's output with control characters and escape sequences replaced by '_' "
         "(the default when the output is a terminal)",
         NULL},
        {"no-filter-escape-chars", 0, 0, G_OPTION_ARG_NONE, &no_filter_escapes,
         "Pass the command's output byte for byte, even to a terminal (the default for pipes and "
         "files)",
         NULL},
        {"dispvm", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, bh_run_parse_dispvm,
         "Run in a new disposable (from TEMPLATE, default: the default_dispvm global), which is "
         "removed when the command ends; the QUBE argument is then omitted",
         "[TEMPLATE]"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("QUBE COMMAND [ARG…]");
    GOptionGroup *group = g_option_group_new(NULL, NULL, NULL, &run, NULL);
    g_option_group_add_entries(group, entries);
    g_option_context_set_main_group(context, group);
    /* Options end at QUBE: `qvm-run work ls -l` must not parse -l. */
    g_option_context_set_strict_posix(context, TRUE);
    g_option_context_set_summary(context, "Run a shell command line in a qube.");
    g_option_context_set_description(context, "Several COMMAND arguments are joined with spaces and run by "
                                              "the qube's shell.\n"
                                              "Without --pass-io the command's input and output are "
                                              "/dev/null and qvm-run returns once it started.\n"
                                              "With --pass-io, output that goes to a terminal is filtered: "
                                              "a qube cannot change the terminal's title, clipboard or "
                                              "screen.\n"
                                              "\nExamples:\n"
                                              "  qvm-run work firefox\n"
                                              "  qvm-run -p work 'cat /etc/os-release'\n"
                                              "  qvm-run --dispvm=default-dvm -p 'uname -a'\n"
                                              "  qvm-run --dispvm xterm        (the default disposable "
                                              "template)\n");
    /* Like Qubes, "--dispvm WORD" takes WORD as the template; but when WORD is
     * the only argument left it can only be the command. Only the spelled-out
     * form without '=' is ambiguous, so note whether it was used. */
    gboolean dispvm_separate = FALSE;
    for (int i = 1; i < argc && !g_str_equal(argv[i], "--"); i++)
        dispvm_separate |= g_str_equal(argv[i], "--dispvm");
    if (!bh_cli_parse(cli, context, &argc, &argv, &rc)) {
        g_free(run.dispvm_template);
        return rc;
    }
    g_autofree char *dispvm_template = run.dispvm_template;
    g_autofree char *lone_command = NULL;
    if (run.dispvm && dispvm_separate && dispvm_template && argc == 1)
        lone_command = g_steal_pointer(&dispvm_template);

    int first = run.dispvm ? 1 : 2;
    if (argc <= first && lone_command == NULL) {
        return bh_cli_usage(cli, run.dispvm ? "the COMMAND is missing"
                                 : argc < 2 ? "the QUBE and COMMAND are missing"
                                            : "the COMMAND is missing");
    }
    g_autofree char *commandline =
        lone_command ? g_steal_pointer(&lone_command) : g_strjoinv(" ", argv + first);
    autostart = !no_autostart;
    if (filter_escapes && no_filter_escapes)
        return bh_cli_usage(cli, "--filter-escape-chars and --no-filter-escape-chars exclude each other");
    /* Like Qubes: a terminal gets text, a pipe or file gets the bytes. */
    gboolean filter[3] = {FALSE, FALSE, FALSE};
    for (int fd = 1; fd < 3; fd++)
        filter[fd] = filter_escapes || (!no_filter_escapes && isatty(fd));

    g_autoptr(GError) error = NULL;
    BhDbusAdmin1 *admin = bh_cli_admin(cli, &error);
    if (admin == NULL)
        return bh_cli_fail(cli, error);
    /* A command may run for hours; the daemon ends the call when it exits. */
    g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(admin), G_MAXINT);

    int status = 0;
    if (!run.dispvm) {
        if (!bh_run_call(admin, argv[1], commandline, user ? user : "", autostart, pass_io, pass_io, filter,
                         &status, &error))
            return bh_cli_fail(cli, error);
    } else {
        g_autofree char *name = NULL;
        if (!bh_dbus_admin1_call_create_disposable_sync(admin, dispvm_template ? dispvm_template : "", &name,
                                                        NULL, &error))
            return bh_cli_fail(cli, error);
        /* The disposable lives as long as its command: always wait, then kill
         * it, which makes the daemon discard it. */
        gboolean ok = bh_run_call(admin, name, commandline, user ? user : "", TRUE, TRUE, pass_io, filter,
                                  &status, &error);
        g_autoptr(GError) kill_error = NULL;
        if (!bh_dbus_admin1_call_kill_sync(admin, name, NULL, &kill_error))
            g_debug("kill %s: %s", name, kill_error->message);
        if (!ok)
            return bh_cli_fail(cli, error);
    }
    if (!pass_io)
        return BH_CLI_OK;
    return (status >= 0 && status <= 255) ? status : BH_CLI_ERROR;
}
