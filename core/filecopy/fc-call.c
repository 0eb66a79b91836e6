/* fc-call.c — the caller's half of a call from a qube (docs/rpc.md, "Calls
 * from a qube"), shared by the qvm-copy family and qvm-open-in-vm: this
 * qube's call socket, the request line, dom0's verdict, and the framed
 * answer.
 *
 * Owns: reaching dom0 and reading its answer. Must never: name this qube
 * (dom0 knows it), send a byte of the stream before dom0 said "ok", or
 * print dom0's words with control characters in them. libc only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fc-private.h"

int fc_read_exact(int fd, void *buf, size_t size)
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

bool fc_write_all(int fd, const void *buf, size_t size)
{
    const char *p = buf;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        size -= (size_t)n;
    }
    return true;
}

static int connect_call_socket(const char *prog)
{
    const char *dir = getenv("BH_VCHAN_DIR");
    const char *domid = getenv("BH_VCHAN_DOMID");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (dir == NULL || domid == NULL ||
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s/call.sock", dir, domid) >=
            (int)sizeof addr.sun_path) {
        fprintf(stderr, "%s: not in a qube (BH_VCHAN_DIR/BH_VCHAN_DOMID unset)\n", prog);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "%s: cannot reach dom0 at %s: %s\n", prog, addr.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int fc_call_open(const char *prog, const char *service, const char *target)
{
    int sock = connect_call_socket(prog);
    if (sock < 0)
        return -2;
    char line[700];
    int n = snprintf(line, sizeof line, "%s %s\n", service, target);
    if (n <= 0 || (size_t)n >= 128 || write(sock, line, (size_t)n) != n) {
        fprintf(stderr, "%s: cannot send the request (is '%s' a qube name?)\n", prog, target);
        close(sock);
        return -2;
    }
    /* The verdict, one line; dom0 sends nothing after a refusal. */
    size_t len = 0;
    while (len + 1 < sizeof line) {
        if (fc_read_exact(sock, line + len, 1) < 0)
            break;
        if (line[len++] == '\n')
            break;
    }
    line[len] = '\0';
    if (strcmp(line, "ok\n") == 0)
        return sock;
    for (size_t i = 0; i < len; i++) /* dom0's words, but print no controls */
        if ((unsigned char)line[i] < 0x20 && line[i] != '\n')
            line[i] = '?';
    fprintf(stderr, "%s: %s%s", prog, len ? line : "dom0 closed the call without an answer",
            len && line[len - 1] == '\n' ? "" : "\n");
    close(sock);
    return -1;
}

/* The end of the service's stderr: what the filter still holds was cut
 * short. */
static int fc_call_err_end(BhEscapeFilter *err, int rc)
{
    uint8_t out[BH_ESCAPE_FILTER_SLACK];
    fc_write_all(STDERR_FILENO, out, bh_escape_filter_finish(err, out));
    return rc;
}

int fc_call_read_chunk(int sock, BhEscapeFilter *err, uint8_t *buf, uint32_t *len, uint32_t *status)
{
    uint32_t hdr;
    if (fc_read_exact(sock, &hdr, sizeof hdr) < 0)
        return fc_call_err_end(err, -1);
    if (hdr == 0)
        return fc_call_err_end(err, fc_read_exact(sock, status, sizeof *status) < 0 ? -1 : 0);
    if ((hdr & FC_CALL_STDERR_FRAME) != 0) {
        /* The service's stderr (another qube's words): to ours through the
         * terminal filter (escape-filter.h), as dom0's qvm-run shows a
         * qube's output. */
        uint32_t elen = hdr & ~FC_CALL_STDERR_FRAME;
        if (elen == 0 || elen > FC_CALL_MAX_CHUNK || fc_read_exact(sock, buf, elen) < 0)
            return fc_call_err_end(err, -1);
        uint8_t out[4096 + BH_ESCAPE_FILTER_SLACK];
        for (uint32_t off = 0; off < elen;) {
            size_t n = elen - off < 4096 ? elen - off : 4096;
            fc_write_all(STDERR_FILENO, out, bh_escape_filter_feed(err, buf + off, n, out));
            off += (uint32_t)n;
        }
        return 2;
    }
    if (hdr > FC_CALL_MAX_CHUNK || fc_read_exact(sock, buf, hdr) < 0)
        return -1;
    *len = hdr;
    return 1;
}

void fc_call_say_status(const char *prog, const char *target, const char *service, int status)
{
    if (status == 127 || status == 126)
        fprintf(stderr, "%s: %s %s %s (docs/rpc.md, \"Services in the target\")\n", prog, target,
                status == 127 ? "has no service" : "refuses to run its service", service);
}
