/* copy-to-vm-main.c — qvm-copy-to-vm QUBE FILE..., qvm-move-to-vm QUBE
 * FILE..., qvm-copy FILE..., qvm-move FILE... (one program, its name says
 * which; the last two ask for the target "@default", which dom0's ask
 * dialog chooses): runs in the source qube, asks dom0 for the call
 * bulkhead.Filecopy on this qube's call socket
 * ($BH_VCHAN_DIR/$BH_VCHAN_DOMID/call.sock, docs/rpc.md "Calls from a
 * qube") and, once dom0 allowed it, runs bulkhead-file-sender (with --move
 * for the move commands: it deletes only after the receiver's status 0 and
 * an equal checksum) with its stdout on the socket and its stdin fed from
 * dom0's framed answer (the receiver's status), then reports the
 * receiver's exit status. From the desktop (stderr not a terminal, a
 * display there) it also shows bulkhead-copy-progress, feeding it the
 * sender's progress lines; its Cancel interrupts the sender.
 *
 * Owns: the command names, the sender's command line, feeding it dom0's
 * answer (the call itself is fc-call.c's). Must never: name its own qube
 * (dom0 knows it), or send a byte of the stream before dom0 said "ok".
 * libc only, as the sender. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fc-private.h"

static const char *prog = "qvm-copy-to-vm";

static int usage(int rc, bool to_vm, bool move)
{
    fprintf(rc ? stderr : stdout,
            "usage: %s [--gui|--no-gui] %sFILE...\n"
            "%s FILE... to ~/QubesIncoming/<this qube>/ in %s, if dom0's policy allows\n"
            "bulkhead.Filecopy from this qube to it%s. Exit: 0 %s, 1 refused or failed,\n"
            "2 cannot send. A progress window is shown when stderr is not a terminal and a\n"
            "display is there (--gui: always, --no-gui: never); its Cancel stops the copy.\n",
            prog, to_vm ? "QUBE " : "", move ? "Moves" : "Copies", to_vm ? "QUBE" : "the qube chosen in dom0",
            move ? " (the files are deleted here only once\nthe receiver has confirmed them)" : "",
            move ? "moved" : "copied");
    return rc;
}

/* The progress window, if it is wanted and runs: its pid, its stdin in *fd. */
static pid_t start_window(bool move, const char *target, int *fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    char title[200];
    snprintf(title, sizeof title, "%s files to %s", move ? "Moving" : "Copying",
             strcmp(target, "@default") == 0 ? "another qube" : target);
    pid_t pid = fork();
    if (pid == 0) {
        /* Detached: a failure's window may stay open after this command
         * has ended, and must not hold its caller's stdout or stderr. */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (setsid() < 0 || dup2(p[0], STDIN_FILENO) < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
            dup2(null, STDERR_FILENO) < 0)
            _exit(2);
        execlp("bulkhead-copy-progress", "bulkhead-copy-progress", "--title", title, (char *)NULL);
        _exit(2); /* no window: the copy goes on without one */
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return -1;
    }
    *fd = p[1];
    return pid;
}

/* The sender's progress lines end in \r (for a terminal); the window reads
 * lines, so each \r becomes \n there at once. */
static void to_window(int fd, char *text, size_t n)
{
    if (fd < 0)
        return;
    for (size_t k = 0; k < n; k++)
        if (text[k] == '\r')
            text[k] = '\n';
    fc_write_all(fd, text, n);
}

static int exit_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
    bool to_vm = strstr(prog, "-to-vm") != NULL, move = strstr(prog, "move") != NULL;
    const char *display = getenv("WAYLAND_DISPLAY") ? getenv("WAYLAND_DISPLAY") : getenv("DISPLAY");
    bool gui = !isatty(STDERR_FILENO) && display && *display;
    int i = 1;
    if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0))
        return usage(0, to_vm, move);
    for (; i < argc && (strcmp(argv[i], "--gui") == 0 || strcmp(argv[i], "--no-gui") == 0); i++)
        gui = strcmp(argv[i], "--gui") == 0;
    int first = i + (to_vm ? 1 : 0); /* the first FILE */
    if (argc <= first)
        return usage(2, to_vm, move);
    const char *target = to_vm ? argv[i] : "@default";
    signal(SIGPIPE, SIG_IGN);

    int sock = fc_call_open(prog, "bulkhead.Filecopy", target);
    if (sock < 0)
        return sock == -1 ? 1 : 2;

    /* With a window: the sender's stderr (progress and reasons) comes
     * through here, to our stderr and to the window. */
    int window_in = -1, errp[2] = {-1, -1};
    pid_t window = gui ? start_window(move, target, &window_in) : -1;
    if (window > 0 && pipe2(errp, O_CLOEXEC) < 0)
        return 2;

    int to_sender[2];
    if (pipe2(to_sender, O_CLOEXEC) < 0)
        return 2;
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        if (dup2(to_sender[0], STDIN_FILENO) < 0 || dup2(sock, STDOUT_FILENO) < 0 ||
            (errp[1] >= 0 && dup2(errp[1], STDERR_FILENO) < 0))
            _exit(2);
        signal(SIGPIPE, SIG_DFL);
        char **args = calloc((size_t)argc + 4, sizeof *args);
        if (args == NULL)
            _exit(2);
        size_t nargs = 0;
        args[nargs++] = "bulkhead-file-sender";
        if (move)
            args[nargs++] = "--move";
        if (errp[1] >= 0)
            args[nargs++] = "--progress";
        args[nargs++] = "--"; /* a FILE may start with '-' */
        for (int k = first; k < argc; k++)
            args[nargs++] = argv[k];
        execvp(args[0], args);
        fprintf(stderr, "%s: cannot run bulkhead-file-sender: %s\n", prog, strerror(errno));
        _exit(2);
    }
    close(to_sender[0]);
    if (errp[1] >= 0)
        close(errp[1]);

    /* dom0's answer (fc_call_read_chunk): the service's stdout and stderr,
     * then its exit status. The end of our stream is the end of the
     * sender: then the write side is shut so the receiver sees EOF. */
    int sender_status = -1, service_status = -1;
    bool cancelled = false;
    size_t unused = 0; /* output after the sender took its status */
    BhEscapeFilter err;
    bh_escape_filter_init(&err);
    for (;;) {
        int st;
        if (sender_status < 0 && waitpid(pid, &st, WNOHANG) == pid) {
            sender_status = exit_code(st);
            shutdown(sock, SHUT_WR);
            close(to_sender[1]);
            to_sender[1] = -1;
        }
        /* Cancel in the window (status 3): the sender stops without its
         * end marker, so the receiver keeps nothing. */
        if (window > 0 && waitpid(window, &st, WNOHANG) == window) {
            window = -1;
            if (exit_code(st) == 3 && sender_status < 0) {
                cancelled = true;
                kill(pid, SIGINT);
            }
        }
        struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
        int r = poll(p, errp[0] >= 0 ? 2 : 1, 100);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (errp[0] >= 0 && p[1].revents) {
            char text[4096];
            ssize_t n = read(errp[0], text, sizeof text);
            if (n <= 0) {
                close(errp[0]);
                errp[0] = -1;
            } else {
                fc_write_all(STDERR_FILENO, text, (size_t)n);
                to_window(window_in, text, (size_t)n);
            }
        }
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        static uint8_t buf[FC_CALL_MAX_CHUNK];
        uint32_t hdr = 0, status = 0;
        int got = fc_call_read_chunk(sock, &err, buf, &hdr, &status);
        if (got == 2)
            continue; /* the service's stderr, printed */
        if (got <= 0) {
            if (got == 0)
                service_status = (int)status;
            break;
        }
        /* The receiver's only output is its status: a target that goes on
         * may be sending without end, every byte relayed by dom0. */
        if (to_sender[1] < 0 && (unused += hdr) > FC_CALL_MAX_UNUSED) {
            fprintf(stderr, "%s: %s goes on sending after the receiver's status; the call is ended\n", prog,
                    target);
            break;
        }
        for (uint32_t off = 0; to_sender[1] >= 0 && off < hdr;) {
            ssize_t w = write(to_sender[1], buf + off, hdr - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break; /* the sender is gone; it said why */
            off += (uint32_t)w;
        }
    }
    if (sender_status < 0) {
        int st;
        if (to_sender[1] >= 0)
            close(to_sender[1]);
        waitpid(pid, &st, 0);
        sender_status = exit_code(st);
    }
    /* The sender's last words (its reason) for both readers. */
    for (char text[4096]; errp[0] >= 0;) {
        ssize_t n = read(errp[0], text, sizeof text);
        if (n <= 0)
            break;
        fc_write_all(STDERR_FILENO, text, (size_t)n);
        to_window(window_in, text, (size_t)n);
    }
    close(sock);
    int rc = 0;
    /* The target's word first: without a service the sender only saw the
     * stream cut short. */
    if (service_status == 127 || service_status == 126) {
        fc_call_say_status(prog, target, "bulkhead.Filecopy", service_status);
        rc = 1;
    } else if (cancelled) {
        fprintf(stderr, "%s: cancelled in the progress window; %s keeps nothing of this copy\n", prog,
                target);
        rc = 130;
    } else if (sender_status != 0) {
        rc = sender_status;
    } else if (service_status != 0) {
        fprintf(stderr, "%s: the receiver in %s ended with status %d\n", prog, target, service_status);
        rc = 1;
    }
    /* The window closes itself after a success, shows a failure until it
     * is closed; either way it does not hold this command. */
    if (window_in >= 0) {
        char last[32];
        int n = snprintf(last, sizeof last, "\nbulkhead-result %d\n", rc);
        fc_write_all(window_in, last, (size_t)n);
        close(window_in);
    }
    return rc;
}
