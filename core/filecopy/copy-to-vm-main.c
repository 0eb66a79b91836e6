/* copy-to-vm-main.c — qvm-copy-to-vm QUBE FILE...: runs in the source qube,
 * asks dom0 for the call bulkhead.Filecopy to QUBE on this qube's call
 * socket ($BH_VCHAN_DIR/$BH_VCHAN_DOMID/call.sock, docs/rpc.md "Calls from a
 * qube") and, once dom0 allowed it, runs bulkhead-file-sender with its
 * stdout on the socket and its stdin fed from dom0's framed answer (the
 * receiver's status), then reports the receiver's exit status.
 *
 * Owns: the request line, the verdict, the deframing of dom0's answer.
 * Must never: name its own qube (dom0 knows it), or send a byte of the
 * stream before dom0 said "ok". libc only, as the sender. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CALL_MAX_CHUNK 65536

static int usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: qvm-copy-to-vm QUBE FILE...\n"
            "Copies FILE... to ~/QubesIncoming/<this qube>/ in QUBE, if dom0's policy allows\n"
            "bulkhead.Filecopy from this qube to QUBE. Exit: 0 copied, 1 refused or failed,\n"
            "2 cannot send.\n");
    return rc;
}

/* Blocks until size bytes arrived; 0 ok, -1 on EOF or error. */
static int read_exact(int fd, void *buf, size_t size)
{
    char *p = buf;
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static int connect_call_socket(void)
{
    const char *dir = getenv("BH_VCHAN_DIR");
    const char *domid = getenv("BH_VCHAN_DOMID");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (dir == NULL || domid == NULL ||
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s/call.sock", dir, domid) >=
            (int)sizeof addr.sun_path) {
        fprintf(stderr, "qvm-copy-to-vm: not in a qube (BH_VCHAN_DIR/BH_VCHAN_DOMID unset)\n");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "qvm-copy-to-vm: cannot reach dom0 at %s: %s\n", addr.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        return usage(0);
    if (argc < 3)
        return usage(2);
    const char *target = argv[1];
    signal(SIGPIPE, SIG_IGN);

    int sock = connect_call_socket();
    if (sock < 0)
        return 2;
    char line[700];
    int n = snprintf(line, sizeof line, "bulkhead.Filecopy %s\n", target);
    if (n <= 0 || (size_t)n >= 128 || write(sock, line, (size_t)n) != n) {
        fprintf(stderr, "qvm-copy-to-vm: cannot send the request (is '%s' a qube name?)\n", target);
        return 2;
    }
    /* The verdict, one line; dom0 sends nothing after a refusal. */
    size_t len = 0;
    while (len + 1 < sizeof line) {
        if (read_exact(sock, line + len, 1) < 0)
            break;
        if (line[len++] == '\n')
            break;
    }
    line[len] = '\0';
    if (strcmp(line, "ok\n") != 0) {
        for (size_t i = 0; i < len; i++) /* dom0's words, but print no controls */
            if ((unsigned char)line[i] < 0x20 && line[i] != '\n')
                line[i] = '?';
        fprintf(stderr, "qvm-copy-to-vm: %s%s", len ? line : "dom0 closed the call without an answer",
                len && line[len - 1] == '\n' ? "" : "\n");
        return 1;
    }

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
        char **args = calloc((size_t)argc + 1, sizeof *args);
        if (args == NULL)
            _exit(2);
        args[0] = "bulkhead-file-sender";
        for (int i = 2; i < argc; i++)
            args[i - 1] = argv[i];
        execvp(args[0], args);
        fprintf(stderr, "qvm-copy-to-vm: cannot run bulkhead-file-sender: %s\n", strerror(errno));
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
        uint32_t hdr;
        if (read_exact(sock, &hdr, sizeof hdr) < 0)
            break;
        if (hdr == 0) {
            uint32_t st;
            if (read_exact(sock, &st, sizeof st) == 0)
                service_status = (int)st;
            break;
        }
        static char buf[CALL_MAX_CHUNK];
        if (hdr > CALL_MAX_CHUNK || read_exact(sock, buf, hdr) < 0)
            break;
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
    if (sender_status != 0)
        return sender_status;
    if (service_status == 127 || service_status == 126) {
        fprintf(
            stderr,
            "qvm-copy-to-vm: %s %s the service bulkhead.Filecopy (docs/rpc.md, \"Services in the target\")\n",
            target, service_status == 127 ? "has no" : "refuses to run");
        return 1;
    }
    if (service_status != 0) {
        fprintf(stderr, "qvm-copy-to-vm: the receiver in %s ended with status %d\n", target, service_status);
        return 1;
    }
    return 0;
}
