/* spawn.c — starting one program for an EXEC: `/bin/sh -c CMDLINE` as the
 * requested user in a session of its own, with pipes or /dev/null for stdio.
 *
 * Owns: the user check and switch, fork/exec, and reporting why a start
 * failed (through a close-on-exec pipe, so an exec or setuid failure in the
 * child reaches dom0 as a message instead of an exit code 127).
 * Must never: look up names between fork and exec (NSS may open files and
 * sockets that would leak into the program; the agent is single-threaded, so
 * plain libc calls are otherwise safe there), run the program as any user
 * but the one asked for, or leak the agent's descriptors into it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-private.h"

#define MAX_GROUPS 256

/* Resolved before fork: the child may not touch NSS. */
struct target {
    bool switch_user;
    uid_t uid;
    gid_t gid;
    int n_groups;
    gid_t groups[MAX_GROUPS];
    char home[512];
    char name[BH_RPC_MAX_USER_BYTES + 1];
};

/* What the child reports through the status pipe when it cannot go on. */
struct child_failure {
    int err;
    int stage; /* enum stage */
};
enum stage { STAGE_STDIO, STAGE_GROUPS, STAGE_GID, STAGE_UID, STAGE_EXEC };

static const char *stage_name(int stage)
{
    switch (stage) {
    case STAGE_STDIO:
        return "cannot set up stdio";
    case STAGE_GROUPS:
        return "cannot set supplementary groups";
    case STAGE_GID:
        return "cannot switch group";
    case STAGE_UID:
        return "cannot switch user";
    default:
        return "cannot execute /bin/sh";
    }
}

static int resolve_user(const char *self_name, const char *user, struct target *t, char *why, size_t why_size)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    int e;

    memset(t, 0, sizeof *t);
    if (user[0] == '\0' || (self_name && strcmp(user, self_name) == 0))
        return 0;
    if (geteuid() != 0) {
        snprintf(why, why_size,
                 "cannot run as '%s': this agent runs as '%s' (uid %u) and cannot switch users; "
                 "ask for '%s' or leave the user empty",
                 user, self_name ? self_name : "?", (unsigned)geteuid(), self_name ? self_name : "");
        return EPERM;
    }
    e = getpwnam_r(user, &pw, buf, sizeof buf, &res);
    if (e != 0 || !res) {
        snprintf(why, why_size, "cannot run as '%s': no such user in this qube", user);
        return e ? e : ENOENT;
    }
    t->switch_user = true;
    t->uid = pw.pw_uid;
    t->gid = pw.pw_gid;
    snprintf(t->home, sizeof t->home, "%s", pw.pw_dir ? pw.pw_dir : "/");
    snprintf(t->name, sizeof t->name, "%s", user);
    t->n_groups = MAX_GROUPS;
    if (getgrouplist(user, pw.pw_gid, t->groups, &t->n_groups) < 0) {
        snprintf(why, why_size, "cannot run as '%s': more than %d groups", user, MAX_GROUPS);
        return E2BIG;
    }
    return 0;
}

/* Child side: never returns. */
__attribute__((noreturn)) static void child(const struct target *t, const char *cmdline, int fds[3],
                                            int status_fd)
{
    struct child_failure f = {0, STAGE_STDIO};
    sigset_t none;

    /* The agent blocks and ignores signals for itself; exec keeps both. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(s, &dfl, NULL);
    }
    setsid();
    for (int i = 0; i < 3; i++) {
        /* dup2 clears close-on-exec on the copy. */
        if (fds[i] != i && dup2(fds[i], i) < 0)
            goto fail;
        if (fds[i] == i && fcntl(i, F_SETFD, 0) < 0)
            goto fail;
    }
    if (t->switch_user) {
        f.stage = STAGE_GROUPS;
        if (setgroups((size_t)t->n_groups, t->groups) < 0)
            goto fail;
        f.stage = STAGE_GID;
        if (setgid(t->gid) < 0)
            goto fail;
        f.stage = STAGE_UID;
        if (setuid(t->uid) < 0)
            goto fail;
        /* The environment is the agent's (WAYLAND_DISPLAY and the like);
         * only who-am-I changes with the user. */
        setenv("HOME", t->home, 1);
        setenv("USER", t->name, 1);
        setenv("LOGNAME", t->name, 1);
        if (chdir(t->home) < 0 && chdir("/") < 0)
            goto fail;
    }
    f.stage = STAGE_EXEC;
    execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
fail:
    f.err = errno;
    if (write(status_fd, &f, sizeof f) < 0) {
        /* Nothing left to report it with. */
    }
    _exit(127);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int bh_agent_spawn(const char *self_name, const char *user, const char *cmdline, bool pass_io,
                   struct bh_agent_child *out, char *why, size_t why_size)
{
    struct target t;
    int rc = -1;
    /* [i][0] read end, [i][1] write end. */
    int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    int status[2] = {-1, -1};
    int null_fd = -1;
    int child_fds[3];
    struct child_failure f;
    pid_t pid = -1;
    ssize_t n;

    *out = (struct bh_agent_child){.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
    rc = resolve_user(self_name, user, &t, why, why_size);
    if (rc != 0)
        goto out;
    if (pass_io) {
        for (int i = 0; i < 3; i++) {
            if (pipe2(pipes[i], O_CLOEXEC) < 0)
                goto fail_errno;
        }
        child_fds[0] = pipes[0][0];
        child_fds[1] = pipes[1][1];
        child_fds[2] = pipes[2][1];
    } else {
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0)
            goto fail_errno;
        child_fds[0] = child_fds[1] = child_fds[2] = null_fd;
    }
    if (pipe2(status, O_CLOEXEC) < 0)
        goto fail_errno;
    pid = fork();
    if (pid < 0)
        goto fail_errno;
    if (pid == 0)
        child(&t, cmdline, child_fds, status[1]);

    close_fd(&status[1]);
    /* EOF means exec succeeded; a struct means it did not. */
    do {
        n = read(status[0], &f, sizeof f);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof f) {
        /* The child has _exited (or is about to): collect it here so the
         * agent's reaper never sees a pid it does not know. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        pid = -1;
        snprintf(why, why_size, "%s%s%s: %s", stage_name(f.stage), t.switch_user ? " to " : "",
                 t.switch_user ? t.name : "", strerror(f.err));
        rc = f.err ? f.err : EIO;
        goto out;
    }
    if (pass_io) {
        for (int i = 0; i < 3; i++) {
            int keep = i == 0 ? pipes[0][1] : pipes[i][0];
            if (fcntl(keep, F_SETFL, O_NONBLOCK) < 0)
                goto fail_errno;
        }
        out->in_fd = pipes[0][1];
        out->out_fd = pipes[1][0];
        out->err_fd = pipes[2][0];
        pipes[0][1] = pipes[1][0] = pipes[2][0] = -1;
    }
    out->pid = pid;
    rc = 0;
    goto out;

fail_errno:
    rc = errno;
    snprintf(why, why_size, "cannot start the program: %s", strerror(rc));
    if (pid > 0) {
        /* Only fcntl on our own pipe ends fails here: the program runs but
         * cannot be served. */
        kill(-pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
out:
    for (int i = 0; i < 3; i++) {
        close_fd(&pipes[i][0]);
        close_fd(&pipes[i][1]);
    }
    close_fd(&status[0]);
    close_fd(&status[1]);
    close_fd(&null_fd);
    return rc;
}
