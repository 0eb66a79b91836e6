/* open-file-main.c — bulkhead-open-file SOURCE: the service
 * bulkhead.OpenInVM in the target qube (docs/filecopy.md, "Open in a
 * qube"). It receives one regular file from the caller as a file-copy
 * stream into a private temporary folder, answers with the receiver's
 * status, opens the file with the desktop's handler (xdg-open) and waits
 * for it, then sends the file back as a second stream if it changed (an
 * empty stream if not) and reads the caller's status of that.
 *
 * Owns: the temporary folder, the handler's process, "changed".
 * Must never: take anything but one regular file (the decoder's one-file
 * rule), let the handler write on the call's stdout, or leave the
 * temporary folder behind when it ends. libc only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fc-private.h"

/* The stat fields an editor's save changes: content (size, mtime) or the
 * file itself (a save by rename gives a new inode). */
static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Runs the handler on path and waits for it; its status. */
static int run_handler(const char *path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* The call's stdout carries the stream: the handler gets neither. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
            _exit(127);
        execlp("xdg-open", "xdg-open", path, (char *)NULL);
        fprintf(stderr, "bulkhead-open-file: cannot run xdg-open: %s\n", strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc != 2 || !fc_qube_name_ok(argv[1])) {
        fprintf(stderr, "usage: bulkhead-open-file SOURCE (the service bulkhead.OpenInVM runs this)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/bulkhead-open-XXXXXX", runtime && runtime[0] == '/' ? runtime : "/tmp");
    int base = -1, stage = -1, final = -1, rc = 1;
    char *slash = NULL;
    if (mkdtemp(tmp) == NULL || (base = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        (stage = fc_open_folder(base, ".stage")) < 0 || (final = fc_open_folder(base, "file")) < 0) {
        fprintf(stderr, "bulkhead-open-file: cannot make a temporary folder in %s: %s\n", tmp,
                strerror(errno));
        goto out;
    }

    char name[BH_FC_MAX_PATH + 1];
    const struct bh_fc_limits one = {1, BH_FC_DEFAULT_MAX_BYTES, true};
    if (bh_fc_receive(STDIN_FILENO, dup(STDOUT_FILENO), stage, final, "a temporary folder", NULL, &one, NULL,
                      stderr) != 0 ||
        fc_single_file(final, name, sizeof name) != 0)
        goto out;

    char path[sizeof tmp + sizeof name + 8];
    snprintf(path, sizeof path, "%s/file/%s", tmp, name);
    struct stat before, after;
    if (fstatat(final, name, &before, AT_SYMLINK_NOFOLLOW) < 0)
        goto out;
    int handler = run_handler(path);
    if (handler != 0)
        fprintf(stderr, "bulkhead-open-file: xdg-open %s ended with status %d\n", path, handler);
    bool changed = fstatat(final, name, &after, AT_SYMLINK_NOFOLLOW) == 0 && !same_file(&before, &after);

    /* The answer: the file again if it changed (a link or folder put in
     * its place is refused by the caller's one-file rule), else nothing. */
    char *paths[] = {path};
    const struct bh_fc_send_options opts = {.move = false, .progress = false};
    rc = bh_fc_send(STDOUT_FILENO, STDIN_FILENO, paths, changed ? 1 : 0, &opts, NULL, stderr);
    if (rc == 0 && handler != 0)
        rc = 1;
out:
    if (final >= 0)
        close(final);
    if (stage >= 0)
        close(stage);
    if (base >= 0)
        close(base);
    /* The whole temporary folder goes, whatever happened. */
    if ((slash = strrchr(tmp, '/')) != NULL && strstr(slash, "bulkhead-open-") != NULL) {
        *slash = '\0';
        int parent = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent >= 0) {
            fc_remove_at(parent, slash + 1, 0);
            close(parent);
        }
    }
    return rc;
}
