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
 * receiver's exit status.
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
            "usage: %s %sFILE...\n"
            "%s FILE... to ~/QubesIncoming/<this qube>/ in %s, if dom0's policy allows\n"
            "bulkhead.Filecopy from this qube to it%s. Exit: 0 %s, 1 refused or failed,\n"
            "2 cannot send.\n",
            prog, to_vm ? "QUBE " : "", move ? "Moves" : "Copies", to_vm ? "QUBE" : "the qube chosen in dom0",
            move ? " (the files are deleted here only once\nthe receiver has confirmed them)" : "",
            move ? "moved" : "copied");
    return rc;
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
    bool to_vm = strstr(prog, "-to-vm") != NULL, move = strstr(prog, "move") != NULL;
    int first = to_vm ? 2 : 1; /* the first FILE */
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        return usage(0, to_vm, move);
    if (argc <= first)
        return usage(2, to_vm, move);
    const char *target = to_vm ? argv[1] : "@default";
    signal(SIGPIPE, SIG_IGN);

    int sock = fc_call_open(prog, "bulkhead.Filecopy", target);
    if (sock < 0)
        return sock == -1 ? 1 : 2;

    int to_sender[2];
    if (pipe2(to_sender, O_CLOEXEC) < 0)
        return 2;
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        if (dup2(to_sender[0], STDIN_FILENO) < 0 || dup2(sock, STDOUT_FILENO) < 0)
            _exit(2);
        signal(SIGPIPE, SIG_DFL);
        char **args = calloc((size_t)argc + 3, sizeof *args);
        if (args == NULL)
            _exit(2);
        size_t nargs = 0;
        args[nargs++] = "bulkhead-file-sender";
        if (move)
            args[nargs++] = "--move";
        args[nargs++] = "--"; /* a FILE may start with '-' */
        for (int i = first; i < argc; i++)
            args[nargs++] = argv[i];
        execvp(args[0], args);
        fprintf(stderr, "%s: cannot run bulkhead-file-sender: %s\n", prog, strerror(errno));
        _exit(2);
    }
    close(to_sender[0]);

    /* dom0's answer: {u32 len, bytes} chunks of the service's stdout, then
     * {u32 0, u32 exit status}. The end of our stream is the end of the
     * sender: then the write side is shut so the receiver sees EOF. */
    int sender_status = -1, service_status = -1;
    for (;;) {
        if (sender_status < 0) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                sender_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                shutdown(sock, SHUT_WR);
                close(to_sender[1]);
                to_sender[1] = -1;
            }
        }
        struct pollfd p = {.fd = sock, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        static uint8_t buf[FC_CALL_MAX_CHUNK];
        uint32_t hdr = 0, st = 0;
        int got = fc_call_read_chunk(sock, buf, &hdr, &st);
        if (got <= 0) {
            if (got == 0)
                service_status = (int)st;
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
        sender_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    close(sock);
    /* The target's word first: without a service the sender only saw the
     * stream cut short. */
    if (service_status == 127 || service_status == 126) {
        fc_call_say_status(prog, target, "bulkhead.Filecopy", service_status);
        return 1;
    }
    if (sender_status != 0)
        return sender_status;
    if (service_status != 0) {
        fprintf(stderr, "%s: the receiver in %s ended with status %d\n", prog, target, service_status);
        return 1;
    }
    return 0;
}
