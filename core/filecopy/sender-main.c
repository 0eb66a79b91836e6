/* sender-main.c — bulkhead-file-sender FILE...: runs in the source qube,
 * writes the file-copy stream of FILE... to stdout and reads the receiver's
 * status from stdin (dom0 connects both to bulkhead-file-receiver in the
 * target qube). docs/filecopy.md.
 *
 * Owns: the command line, signals (the stop flag is this file's), exit codes.
 * Must never: hold logic beyond that (fc-sender.c does the work). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fc-private.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: bulkhead-file-sender [--move] [--progress|--no-progress] FILE...\n"
            "Writes FILE... (files, folders, symbolic links inside folders) as a file-copy stream\n"
            "to stdout and reads the receiver's answer from stdin. --move deletes what was sent\n"
            "once the receiver confirmed it. Progress goes to stderr (by default when it is a\n"
            "terminal). Exit: 0 confirmed, 1 refused or failed, 2 cannot send, 130 cancelled.\n");
    return rc;
}

int main(int argc, char **argv)
{
    struct bh_fc_send_options opts = {.progress = isatty(STDERR_FILENO)};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--move") == 0)
            opts.move = true;
        else if (strcmp(argv[i], "--progress") == 0)
            opts.progress = true;
        else if (strcmp(argv[i], "--no-progress") == 0)
            opts.progress = false;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(0);
        else
            return usage(2);
    }
    if (i >= argc)
        return usage(2);
    if (isatty(STDOUT_FILENO)) {
        fprintf(stderr,
                "bulkhead-file-sender: stdout is a terminal; it must lead to bulkhead-file-receiver\n");
        return 2;
    }

    /* No SA_RESTART: a blocked read or poll returns, so Ctrl+C stops at once. */
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a receiver that went away is an answer, not a crash */

    return bh_fc_send(STDOUT_FILENO, STDIN_FILENO, argv + i, (size_t)(argc - i), &opts, &stop_requested,
                      stderr);
}
