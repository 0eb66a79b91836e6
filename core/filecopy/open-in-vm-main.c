/* open-in-vm-main.c — qvm-open-in-vm [--view-only] QUBE FILE and
 * qvm-open-in-dvm [--view-only] FILE (the target "@dispvm": a new
 * disposable that dom0 starts): runs in the calling qube, asks dom0 for
 * bulkhead.OpenInVM (docs/filecopy.md, "Open in a qube"), sends FILE as a
 * one-file stream, and waits while it is open there; if the target sends
 * it back changed (the user saved it), the new content replaces FILE, as
 * in Qubes. --view-only keeps FILE whatever comes back.
 *
 * A URL instead of FILE (a word that names no file and starts with a
 * scheme, "https:"): checked with bh_url_check, sent as one line to the
 * service bulkhead.OpenURL (docs/filecopy.md, "Open a link"), which opens it
 * there; nothing comes back but its words and exit status.
 *
 * Owns: the two children (the sender of FILE, the receiver of the answer),
 * splitting dom0's answer between them, replacing FILE.
 * Must never: take back anything but one regular file (the decoder's and
 * fc_single_file's rules), write outside a temporary folder beside FILE
 * before the answer is whole, or replace FILE when anything failed. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fc-private.h"

static const char *prog = "qvm-open-in-vm";

static int usage(int rc, bool dvm)
{
    fprintf(rc ? stderr : stdout,
            "usage: %s [--view-only] %sFILE|URL\n"
            "Opens FILE in %s with its default application, if dom0's policy allows\n"
            "bulkhead.OpenInVM from this qube. When it is saved there, the new content replaces\n"
            "FILE here (not with --view-only). A URL (http, https, ftp, mailto) is opened there\n"
            "under bulkhead.OpenURL. Exit: 0 done, 1 refused or failed, 2 cannot send.\n",
            prog, dvm ? "" : "QUBE ", dvm ? "a new disposable" : "QUBE");
    return rc;
}

static int wait_child(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A word that names no file and starts as a URL does ("x:"): the user
 * meant a link; whether it is an allowed one is bh_url_check's to say. */
static bool looks_like_url(const char *arg)
{
    struct stat st;
    if (lstat(arg, &st) == 0 || errno != ENOENT)
        return false;
    size_t i = 0;
    while ((arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
           (i > 0 && ((arg[i] >= '0' && arg[i] <= '9') || arg[i] == '+' || arg[i] == '-' || arg[i] == '.')))
        i++;
    return i > 0 && arg[i] == ':';
}

/* bulkhead.OpenURL: the link and a newline up, then dom0's framed answer
 * (the service's words on stderr and its exit status). */
static int open_url(const char *target, const char *url)
{
    const char *why = NULL;
    if (bh_url_check(url, strlen(url), &why) < 0) {
        char quoted[256];
        bh_fc_quote(quoted, sizeof quoted, url);
        fprintf(stderr, "%s: %s is not opened: %s\n", prog, quoted, why);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int sock = fc_call_open(prog, "bulkhead.OpenURL", target);
    if (sock < 0)
        return sock == -1 ? 1 : 2;
    int rc = 1, service_status = -1;
    if (!fc_write_all(sock, url, strlen(url)) || !fc_write_all(sock, "\n", 1) ||
        shutdown(sock, SHUT_WR) < 0) {
        fprintf(stderr, "%s: cannot send the link: %s\n", prog, strerror(errno));
        goto out;
    }
    static uint8_t buf[FC_CALL_MAX_CHUNK];
    BhEscapeFilter err;
    bh_escape_filter_init(&err);
    for (;;) {
        uint32_t len = 0, exit_status = 0;
        int got = fc_call_read_chunk(sock, &err, buf, &len, &exit_status);
        if (got == 0)
            service_status = (int)exit_status;
        if (got <= 0)
            break;
        if (got == 1) {
            /* The service sends no output: a target that does may be
             * sending without end, and dom0 relays every byte. */
            fprintf(stderr, "%s: %s sent output, which bulkhead.OpenURL never does; the call is ended\n",
                    prog, target);
            goto out;
        }
        /* got == 2: the service's words, printed. */
    }
    if (service_status == 127 || service_status == 126)
        fc_call_say_status(prog, target, "bulkhead.OpenURL", service_status);
    else if (service_status < 0)
        fprintf(stderr, "%s: dom0 closed the call to %s before the service's exit status\n", prog, target);
    else if (service_status != 0)
        fprintf(stderr, "%s: the link in %s ended with status %d\n", prog, target, service_status);
    else
        rc = 0;
out:
    close(sock);
    return rc;
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
    bool dvm = strstr(prog, "dvm") != NULL, view_only = false;
    int i = 1;
    if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0))
        return usage(0, dvm);
    if (i < argc && strcmp(argv[i], "--view-only") == 0)
        view_only = true, i++;
    if (argc - i != (dvm ? 1 : 2))
        return usage(2, dvm);
    const char *target = dvm ? "@dispvm" : argv[i++];
    if (looks_like_url(argv[i]))
        return open_url(target, argv[i]);

    /* The file itself, whatever link names it: that is what comes back. */
    char *real = realpath(argv[i], NULL);
    struct stat st;
    if (real == NULL || stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "%s: %s is not a regular file%s%s\n", prog, argv[i], real ? "" : ": ",
                real ? "" : strerror(errno));
        return 2;
    }
    char *dir_copy = strdup(real), *name_copy = strdup(real);
    if (!dir_copy || !name_copy)
        return 2;
    const char *dir = dirname(dir_copy), *name = basename(name_copy);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        fprintf(stderr, "%s: cannot open the folder %s: %s\n", prog, dir, strerror(errno));
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    int sock = fc_call_open(prog, "bulkhead.OpenInVM", target);
    if (sock < 0)
        return sock == -1 ? 1 : 2;

    /* The sender of FILE reads its status from to_sender; the answer's
     * receiver reads what follows from to_receiver. */
    int to_sender[2], to_receiver[2] = {-1, -1};
    if (pipe2(to_sender, O_CLOEXEC) < 0)
        return 2;
    pid_t sender = fork();
    if (sender < 0)
        return 2;
    if (sender == 0) {
        close(to_sender[1]);
        char *paths[] = {real};
        const struct bh_fc_send_options opts = {.move = false, .progress = isatty(STDERR_FILENO)};
        _exit(bh_fc_send(sock, to_sender[0], paths, 1, &opts, NULL, stderr));
    }
    close(to_sender[0]);

    /* A folder beside FILE (same file system: the rename below is atomic)
     * that only this program uses. */
    size_t tmp_len = strlen(dir) + sizeof "/.bulkhead-open-XXXXXX";
    char *tmp_path = malloc(tmp_len), *tmp = NULL;
    int fd = -1, stage = -1, final = -1;
    if (tmp_path && snprintf(tmp_path, tmp_len, "%s/.bulkhead-open-XXXXXX", dir) > 0 && mkdtemp(tmp_path)) {
        tmp = strrchr(tmp_path, '/') + 1;
        fd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd >= 0) {
        stage = fc_open_folder(fd, "stage");
        final = fc_open_folder(fd, "file");
    }

    /* dom0's answer: the status of FILE's stream, then the answer stream,
     * then the service's exit status. */
    uint8_t status[sizeof(struct bh_fc_status) + BH_FC_MAX_PATH + BH_FC_MAX_REASON];
    size_t have = 0;
    bool status_done = false, status_ok = false;
    pid_t receiver = -1;
    int service_status = -1;
    static uint8_t buf[FC_CALL_MAX_CHUNK];
    /* Output nobody takes any more (the status or the answer went wrong):
     * a little is the rest of a stream cut short, more is a target sending
     * without end through dom0, and the call is ended. */
    size_t unused = 0;
    BhEscapeFilter err;
    bh_escape_filter_init(&err);
    for (;;) {
        uint32_t len = 0, exit_status = 0;
        int got = fc_call_read_chunk(sock, &err, buf, &len, &exit_status);
        if (got == 2)
            continue; /* the service's stderr, printed */
        if (got <= 0) {
            if (got == 0)
                service_status = (int)exit_status;
            break;
        }
        if (status_done && (!status_ok || to_receiver[1] < 0) && (unused += len) > FC_CALL_MAX_UNUSED) {
            fprintf(stderr, "%s: %s goes on sending after its answer; the call is ended\n", prog, target);
            break;
        }
        uint32_t off = 0;
        while (!status_done && off < len) {
            size_t take = len - off < sizeof status - have ? len - off : sizeof status - have;
            memcpy(status + have, buf + off, take);
            struct bh_fc_status_msg *msg = malloc(sizeof *msg);
            char why[128];
            size_t used = 0;
            int r = msg ? bh_fc_status_decode(status, have + take, &used, msg, why, sizeof why) : -1;
            if (r == 0 && take > 0) {
                have += take;
                off += (uint32_t)take;
                free(msg);
                continue;
            }
            /* Complete (or no status at all: the sender says so). */
            size_t fed = r == 1 ? used : have + take;
            fc_write_all(to_sender[1], status, fed);
            close(to_sender[1]);
            to_sender[1] = -1;
            off += (uint32_t)(fed - have);
            status_done = true;
            status_ok = r == 1 && msg->code == BH_FC_OK;
            free(msg);
            if (!status_ok) {
                shutdown(sock, SHUT_WR); /* the service drains to the end */
                break;
            }
            /* The answer is at most one regular file, its receiver writes
             * only in the folder above and answers on the socket. */
            if (stage < 0 || final < 0 || pipe2(to_receiver, O_CLOEXEC) < 0 || (receiver = fork()) < 0) {
                fprintf(stderr, "%s: cannot make a folder for the answer beside %s\n", prog, real);
                break;
            }
            if (receiver == 0) {
                close(to_receiver[1]);
                const struct bh_fc_limits one = {1, BH_FC_DEFAULT_MAX_BYTES, false};
                _exit(bh_fc_receive(to_receiver[0], sock, stage, final, "the folder of the file", NULL, &one,
                                    NULL, NULL));
            }
            close(to_receiver[0]);
        }
        if (status_done && status_ok && to_receiver[1] >= 0 && off < len &&
            !fc_write_all(to_receiver[1], buf + off, len - off)) {
            close(to_receiver[1]);
            to_receiver[1] = -1;
        }
    }
    if (to_sender[1] >= 0)
        close(to_sender[1]);
    if (to_receiver[1] >= 0)
        close(to_receiver[1]);
    int sent = wait_child(sender);
    int received = receiver > 0 ? wait_child(receiver) : 1;
    close(sock);

    int rc = 0;
    char back[BH_FC_MAX_PATH + 1];
    int held = final >= 0 ? fc_single_file(final, back, sizeof back) : -1;
    if (service_status == 127 || service_status == 126) {
        fc_call_say_status(prog, target, "bulkhead.OpenInVM", service_status);
        rc = 1;
    } else if (sent != 0) {
        rc = sent; /* the sender said why */
    } else if (service_status != 0 || received != 0 || held < 0) {
        fprintf(stderr, "%s: %s in %s ended with status %d%s; %s is unchanged\n", prog, name, target,
                service_status,
                held < 0 && received == 0 ? " and sent back something that is not one file" : "", real);
        rc = 1;
    } else if (held == 0 && view_only) {
        fprintf(stderr, "%s: %s was changed in %s; --view-only: the change is not kept\n", prog, name,
                target);
    } else if (held == 0) {
        /* The content is whole (its checksum agreed): replace FILE. */
        if (fchmodat(final, back, st.st_mode & 0777, 0) < 0 || renameat(final, back, dirfd, name) < 0) {
            fprintf(stderr, "%s: cannot replace %s: %s\n", prog, real, strerror(errno));
            rc = 1;
        } else {
            fprintf(stderr, "%s: %s was changed in %s and saved here\n", prog, name, target);
        }
    }
    if (stage >= 0)
        close(stage);
    if (final >= 0)
        close(final);
    if (fd >= 0)
        close(fd);
    if (tmp)
        fc_remove_at(dirfd, tmp, 0);
    free(tmp_path);
    close(dirfd);
    free(real);
    free(dir_copy);
    free(name_copy);
    return rc;
}
