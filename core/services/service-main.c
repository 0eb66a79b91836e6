/* service-main.c — bulkhead-service SERVICE[+ARGUMENT] SOURCE: runs in the
 * target qube of a call (docs/rpc.md, "Services in the target"). bulkheadd
 * starts it through the agent once policy allowed SOURCE to call SERVICE
 * here; it finds the service's program in the target's fixed directories
 * and replaces itself with it, stdin and stdout being the call's stream.
 *
 * Owns: the lookup (directory order, the checks on the entry) and the
 * service's command line and environment (BH_RPC_SOURCE, BH_RPC_SERVICE,
 * BH_RPC_ARGUMENT, as Qubes' QREXEC_REMOTE_DOMAIN and friends).
 * Must never: run anything outside those directories, follow a link there,
 * run a file that is not an executable regular file, or take a name it did
 * not check (dom0 checks too; this runs in a qube that trusts no one).
 * libc only, as the agent. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bulkhead/rpc-service.h"
#include "config.h"

/* Checked: 1..31 bytes of [A-Za-z][A-Za-z0-9_.-]* (docs/model.md). The
 * source only travels as an argument and in the environment, so the
 * narrower rules of the model (dom0, none, default) do not matter here. */
static int qube_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 31 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

static const char *this_qube(void)
{
    const char *q = getenv("BH_QUBE");
    return q && qube_name_ok(q) ? q : "this qube";
}

/* The entry name in dir, opened without following a link (O_PATH: nothing
 * is read, and a script's interpreter finds it at /dev/fd/N). Returns the
 * fd, -1 when dir has no such entry, -2 when the entry may not run (why
 * says so). */
static int open_service(const char *dir, const char *name, const char **why)
{
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, name, O_PATH | O_NOFOLLOW);
    int err = errno;
    close(dfd);
    if (fd < 0)
        return err == ENOENT ? -1 : (*why = "cannot be opened", -2);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        *why = "cannot be opened";
    } else if (S_ISLNK(st.st_mode)) {
        *why = "is a symbolic link (a service must be the program itself)";
    } else if (!S_ISREG(st.st_mode)) {
        *why = "is not a regular file";
    } else if ((st.st_mode & 0111) == 0) {
        *why = "is not executable";
    } else {
        return fd;
    }
    close(fd);
    return -2;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bulkhead-service SERVICE[+ARGUMENT] SOURCE (bulkheadd runs this)\n");
        return 2;
    }
    const char *service = argv[1], *source = argv[2];
    if (!bh_rpc_service_name_ok(service)) {
        fprintf(stderr, "bulkhead-service: '%.80s' is not a service name\n", service);
        return BH_RPC_SERVICE_NOT_FOUND;
    }
    if (!qube_name_ok(source)) {
        fprintf(stderr, "bulkhead-service: '%.80s' is not a qube name\n", source);
        return 2;
    }
    /* SERVICE+ARGUMENT: a file of the whole name first, then the service's
     * own with the argument in the environment (as Qubes does). */
    char base[BH_RPC_SERVICE_MAX_NAME + 1];
    snprintf(base, sizeof base, "%s", service);
    char *plus = strchr(base, '+');
    const char *argument = "";
    if (plus) {
        *plus = '\0';
        argument = service + (plus - base) + 1;
    }
    const char *const dirs[] = {BH_RPC_SERVICES_ETC, BH_RPC_SERVICES_RUN, BH_RPC_SERVICES_DIR};
    const char *const names[] = {service, base};
    for (size_t n = 0; n < (plus ? 2u : 1u); n++) {
        for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
            const char *why = NULL;
            int fd = open_service(dirs[d], names[n], &why);
            if (fd == -1)
                continue;
            if (fd == -2) {
                fprintf(stderr, "bulkhead-service: %s/%s %s; refused in %s\n", dirs[d], names[n], why,
                        this_qube());
                return BH_RPC_SERVICE_REFUSED;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[d], names[n]);
            if (setenv("BH_RPC_SOURCE", source, 1) < 0 || setenv("BH_RPC_SERVICE", base, 1) < 0 ||
                setenv("BH_RPC_ARGUMENT", argument, 1) < 0)
                return 2;
            char *const args[] = {path, (char *)source, NULL};
            extern char **environ;
            syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
            fprintf(stderr, "bulkhead-service: cannot run %s: %s\n", path, strerror(errno));
            return BH_RPC_SERVICE_REFUSED;
        }
    }
    fprintf(stderr, "bulkhead-service: no such service %s in %s\n", service, this_qube());
    return BH_RPC_SERVICE_NOT_FOUND;
}
