/* open-url-main.c — bulkhead-open-url: the service bulkhead.OpenURL in the
 * target qube (docs/filecopy.md, "Open a link"). It reads the one line the
 * caller sent (qvm-open-in-vm QUBE URL, qvm-open-in-dvm URL), checks it with
 * bh_url_decode, opens it with the desktop's handler for its scheme
 * (xdg-open) and waits for it: in a disposable, the call's end removes the
 * qube, so the browser must have been closed by then.
 *
 * Owns: reading the caller's bytes (bounded), the handler's process.
 * Must never: pass on a link bh_url_decode refused, read more than one
 * link's worth, or let the handler read the call's stdin or write on its
 * stdout. libc only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fc-private.h"

int main(int argc, char **argv)
{
    if (argc != 2 || !fc_qube_name_ok(argv[1])) {
        fprintf(stderr, "usage: bulkhead-open-url SOURCE (the service bulkhead.OpenURL runs this)\n");
        return 2;
    }
    const char *source = argv[1];
    /* One byte more than a whole line may hold: enough to see it is too long. */
    uint8_t untrusted[BH_URL_MAX + 2];
    size_t len = 0;
    while (len < sizeof untrusted) {
        ssize_t n = read(STDIN_FILENO, untrusted + len, sizeof untrusted - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "bulkhead-open-url: cannot read the link from %s: %s\n", source, strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    char url[BH_URL_MAX + 1];
    const char *why = NULL;
    if (bh_url_decode(untrusted, len, url, &why) < 0) {
        fprintf(stderr, "bulkhead-open-url: the link from %s is refused: %s\n", source, why);
        return 1;
    }

    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        /* The call's stdout goes back to the caller: the handler gets
         * neither it nor the caller's stdin. "--" is not needed (a URL
         * starts with a letter) and xdg-open would take it as the link. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
            _exit(127);
        execlp("xdg-open", "xdg-open", url, (char *)NULL);
        fprintf(stderr, "bulkhead-open-url: cannot run xdg-open: %s\n", strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 1;
    int handler = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (handler != 0) {
        fprintf(stderr, "bulkhead-open-url: xdg-open of the link from %s ended with status %d\n", source,
                handler);
        return 1;
    }
    return 0;
}
