/* receiver-main.c — bulkhead-file-receiver SOURCE: runs in the target qube,
 * reads a file-copy stream on stdin into ~/QubesIncoming/SOURCE/ and writes
 * its status to stdout. SOURCE is the sending qube's name as dom0 gives it,
 * never as the sender says. docs/filecopy.md.
 *
 * Owns: the command line and limits, finding and making the incoming
 * folder, signals (the stop flag is this file's).
 * Must never: follow a link at QubesIncoming or SOURCE, or accept a SOURCE
 * that is not a qube name. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fc-private.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Refuses without reading the stream, but still answers the sender. */
static int refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int refuse(const char *fmt, ...)
{
    char text[BH_FC_MAX_REASON + 1];
    uint8_t st[sizeof(struct bh_fc_status) + BH_FC_MAX_REASON];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bulkhead-file-receiver: %s\n", text);
    size_t n = bh_fc_status_encode(st, sizeof st, BH_FC_ERR_USAGE, 0, NULL, text);
    if (write(STDOUT_FILENO, st, n) < 0) {
        /* the sender is gone: nothing left to tell */
    }
    return 2;
}

static bool parse_u64(const char *s, uint64_t ceiling, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0 || v > ceiling)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    struct bh_fc_limits limits = {BH_FC_DEFAULT_MAX_ENTRIES, BH_FC_DEFAULT_MAX_BYTES};
    const char *source = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--max-entries") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], BH_FC_CEILING_MAX_ENTRIES, &limits.max_entries))
                return refuse("--max-entries '%.200s' is not a number from 1 to 10000000", argv[i]);
        } else if (strcmp(argv[i], "--max-bytes") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], BH_FC_CEILING_MAX_BYTES, &limits.max_bytes))
                return refuse("--max-bytes '%.200s' is not a number from 1 to 2^50", argv[i]);
        } else if (!source && argv[i][0] != '-') {
            source = argv[i];
        } else {
            return refuse(
                "usage: bulkhead-file-receiver [--max-entries N] [--max-bytes N] SOURCE (got '%.200s')",
                argv[i]);
        }
    }
    if (!source || !fc_qube_name_ok(source))
        return refuse("'%.200s' is not a qube name; dom0 names the source qube", source ? source : "");

    const char *home = getenv("HOME");
    if (!home || home[0] != '/') {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home)
        return refuse("%s", "cannot find the home folder of this user");
    int home_fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int incoming = home_fd < 0 ? -1 : fc_open_folder(home_fd, "QubesIncoming");
    int final = incoming < 0 ? -1 : fc_open_folder(incoming, source);
    if (final < 0)
        return refuse("cannot use ~/QubesIncoming/%.200s as a folder (is it a link or a file?)", source);
    /* Staging beside the sources' folders: a qube name never starts with
     * '.', and a rename within one file system is what publishes. */
    int partial = fc_open_folder(incoming, ".bulkhead-partial");
    if (partial < 0)
        return refuse("%s",
                      "cannot use ~/QubesIncoming/.bulkhead-partial as a folder (is it a link or a file?)");
    fc_sweep_stale(partial);
    char stage_name[64];
    snprintf(stage_name, sizeof stage_name, "%s.%ld", source, (long)getpid());
    fc_remove_at(partial, stage_name, 0);
    int stage = fc_open_folder(partial, stage_name);
    if (stage < 0)
        return refuse("%s", "cannot make a staging folder in ~/QubesIncoming/.bulkhead-partial");

    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* This qube's name as its environment says (BH_QUBE, set by the
     * backend): only for the words, and only a valid qube name. */
    const char *here = getenv("BH_QUBE");
    if (here && !fc_qube_name_ok(here))
        here = NULL;
    char where[64];
    snprintf(where, sizeof where, "QubesIncoming/%s", source);
    int rc = bh_fc_receive(STDIN_FILENO, STDOUT_FILENO, stage, final, where, here, &limits, &stop_requested,
                           stderr);
    close(stage);
    unlinkat(partial, stage_name, AT_REMOVEDIR); /* empty now, whatever happened */
    close(partial);
    close(final);
    close(incoming);
    close(home_fd);
    return rc;
}
