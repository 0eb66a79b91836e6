/* sandbox-init.c — bulkhead-sandbox-init, pid 1 of every sandbox qube.
 *
 * Owns the inside of a running sandbox: it starts the qube's services (the
 * GUI agent and the RPC agent, when this build has them), tells bulkheadd
 * that the qube is up, reaps every orphan, turns SIGTERM into a clean stop of
 * everything in the qube, and ends a disposable when its last user process is
 * gone. When it exits, the kernel ends the whole pid namespace.
 *
 * It runs as the qube's user, inside the sandbox, and must never trust or
 * need anything from the host beyond its environment; libc only, so it stays
 * small and has nothing to load.
 *
 * Environment (set by the sandbox backend):
 *   BH_SANDBOX_READY_FD    a descriptor to write "ready\n" to once the
 *                          services were started (then closed; close-on-exec
 *                          from the start, so nothing the qube runs gets it)
 *   BH_SANDBOX_DISPOSABLE  "1": stop once user processes came and went
 *   HOME                   where the Nautilus scripts of /run/bulkhead/share
 *                          are linked when their names are free
 *   BH_SANDBOX_SERVICES    colon-separated program names to start (default
 *                          "bulkhead-gui-agent:bulkhead-agent"); a name not
 *                          found on PATH is skipped with a log line
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_SERVICES 8
/* A disposable stops after this many consecutive empty scans (ticks of 250 ms):
 * long enough that a command handing over to another process is not cut off. */
#define DISPOSABLE_EMPTY_TICKS 4
#define TICK_NS                250000000L

struct service {
    char name[64];
    pid_t pid;
};

struct init {
    struct service services[MAX_SERVICES];
    int n_services;
    bool stopping;
    bool disposable;
    bool seen_user_process;
    int empty_ticks;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;
    char line[512];
    int n = snprintf(line, sizeof line, "bulkhead-sandbox-init: ");
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    if (len < sizeof line - 1)
        line[len++] = '\n';
    (void)!write(STDERR_FILENO, line, len);
}

/* PATH lookup without executing: the services are optional, and a missing one
 * should be one log line, not a failed exec in a child. */
static bool find_on_path(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)len, path, name) < n &&
            access(out, X_OK) == 0)
            return true;
        path += len + (end ? 1 : 0);
    }
    return false;
}

static pid_t spawn(const char *file)
{
    posix_spawnattr_t attr;
    sigset_t none, deflt;
    pid_t pid = -1;
    char *argv[] = {(char *)file, NULL};

    /* The services get the signal state of a normal program, not ours. */
    sigemptyset(&none);
    sigfillset(&deflt);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    int err = posix_spawn(&pid, file, NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (err) {
        say("cannot start %s: %s", file, strerror(err));
        return -1;
    }
    return pid;
}

/* Whether a compositor listens at addr: a connection is taken (and dropped
 * at once) only after its listen(2). The socket file exists from its bind(2)
 * on, a moment earlier, when a client would still be refused. */
static bool display_serves(const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0;
    close(fd);
    return ok;
}

/* Until the GUI agent serves Wayland: bulkheadd calls the qube Running when
 * the RPC agent answers and may run an app at once, so the display must be
 * served by then, or the app (foot) finds no compositor and exits. Bounded:
 * an agent that never serves delays the start by 2 s only. */
static void wait_for_display(void)
{
    const char *dir = getenv("XDG_RUNTIME_DIR"), *name = getenv("WAYLAND_DISPLAY");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    /* A path longer than sun_path is one no compositor can listen on. */
    if (!dir || !name ||
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s", dir, name) >= (int)sizeof addr.sun_path)
        return;
    struct timespec tick = {0, 5000000L};
    for (int i = 0; i < 400; i++) {
        if (display_serves(&addr))
            return;
        nanosleep(&tick, NULL);
    }
    say("no compositor listens on %s after 2 s; starting the other services anyway", addr.sun_path);
}

static void start_services(struct init *in)
{
    const char *list = getenv("BH_SANDBOX_SERVICES");
    if (!list)
        list = "bulkhead-gui-agent:bulkhead-agent";
    while (*list && in->n_services < MAX_SERVICES) {
        const char *end = strchr(list, ':');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        struct service *s = &in->services[in->n_services];
        char file[4096];
        if (len > 0 && len < sizeof s->name) {
            memcpy(s->name, list, len);
            s->name[len] = '\0';
            if (!find_on_path(s->name, file, sizeof file)) {
                say("%s is not in this build; the qube runs without it", s->name);
            } else if ((s->pid = spawn(file)) > 0) {
                in->n_services++;
                if (strcmp(s->name, "bulkhead-gui-agent") == 0)
                    wait_for_display();
            }
        }
        list += len + (end ? 1 : 0);
    }
}

/* The ready pipe, or -1. Read before anything is started. */
static int ready_fd(void)
{
    const char *s = getenv("BH_SANDBOX_READY_FD");
    char *end;
    if (!s || !*s)
        return -1;
    long fd = strtol(s, &end, 10);
    if (*end || fd < 3 || fd > 1024)
        return -1;
    return (int)fd;
}

/* A spare read end of our own console that bubblewrap hands us: held for a
 * bulkheadd that restarts, which takes the console back from us (see
 * BH_SANDBOX_FD_CONSOLE in sandbox-adopt.h). */
#define CONSOLE_SPARE_FD 11

/* Nothing we were handed beyond stdin/stdout/stderr may reach what we start:
 * the ready pipe leads to bulkheadd, and every command of the qube would
 * otherwise inherit it through the agents (a command could write "ready" or
 * keep the pipe open). We keep it and the console spare, close-on-exec;
 * everything else from bubblewrap is closed for good. */
static void keep_only_stdio(int ready)
{
    int keep[2] = {ready < CONSOLE_SPARE_FD ? ready : CONSOLE_SPARE_FD,
                   ready < CONSOLE_SPARE_FD ? CONSOLE_SPARE_FD : ready};
    unsigned from = 3;
    for (int i = 0; i < 2; i++) {
        if (keep[i] < (int)from)
            continue;
        if (keep[i] > (int)from)
            close_range(from, (unsigned)keep[i] - 1, 0);
        fcntl(keep[i], F_SETFD, FD_CLOEXEC);
        from = (unsigned)keep[i] + 1;
    }
    close_range(from, ~0U, 0);
    unsetenv("BH_SANDBOX_READY_FD");
}

static void report_ready(int fd)
{
    if (fd < 0)
        return;
    (void)!write(fd, "ready\n", 6);
    close(fd);
}

static void stop_everything(struct init *in, const char *why)
{
    if (in->stopping)
        return;
    in->stopping = true;
    say("stopping: %s", why);
    /* As pid 1 of the namespace, -1 reaches every other process in it. */
    kill(-1, SIGTERM);
    kill(-1, SIGCONT);
}

static void reap(struct init *in)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < in->n_services; i++) {
            if (in->services[i].pid != pid)
                continue;
            in->services[i].pid = -1;
            if (!in->stopping) {
                if (WIFSIGNALED(status))
                    say("%s was killed by signal %d", in->services[i].name, WTERMSIG(status));
                else
                    say("%s exited with status %d", in->services[i].name, WEXITSTATUS(status));
            }
        }
    }
}

static bool is_service(const struct init *in, pid_t pid)
{
    for (int i = 0; i < in->n_services; i++)
        if (in->services[i].pid == pid)
            return true;
    return false;
}

/* Counts the processes that are neither us nor a service: what the user
 * started. Zombies still count until reaped, which is what we want. */
static int count_user_processes(const struct init *in)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || is_service(in, (pid_t)pid))
            continue;
        n++;
    }
    closedir(d);
    return n;
}

static void disposable_tick(struct init *in)
{
    int n = count_user_processes(in);
    if (n < 0)
        return;
    if (n > 0) {
        in->seen_user_process = true;
        in->empty_ticks = 0;
        return;
    }
    if (in->seen_user_process && ++in->empty_ticks >= DISPOSABLE_EMPTY_TICKS)
        stop_everything(in, "the disposable's last process ended");
}

/* Nautilus reads scripts only from ~/.local/share/nautilus/scripts: link
 * Bulkhead's ("Copy to other qube…", docs/filecopy.md "File managers") there
 * when the name is free. The qube does this in its own home, as its user;
 * a name the user took (a file, a link, even a dangling one) is left alone. */
#define NAUTILUS_SCRIPTS_SHIPPED "/run/bulkhead/share/data/bulkhead/nautilus-scripts"
static void link_nautilus_scripts(void)
{
    const char *home = getenv("HOME");
    char dir[512], target[1024], link[1024];
    DIR *d = opendir(NAUTILUS_SCRIPTS_SHIPPED);
    if (d == NULL || home == NULL || home[0] != '/' ||
        snprintf(dir, sizeof dir, "%s/.local/share/nautilus/scripts", home) >= (int)sizeof dir)
        goto out;
    /* Each level made if missing (the home is the user's own). */
    for (char *p = dir + strlen(home) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    mkdir(dir, 0755);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.' ||
            snprintf(target, sizeof target, "%s/%s", NAUTILUS_SCRIPTS_SHIPPED, e->d_name) >=
                (int)sizeof target ||
            snprintf(link, sizeof link, "%s/%s", dir, e->d_name) >= (int)sizeof link ||
            lstat(link, &st) == 0 || errno != ENOENT)
            continue;
        if (symlink(target, link) < 0)
            say("cannot link the Nautilus script %s: %s", link, strerror(errno));
    }
out:
    if (d != NULL)
        closedir(d);
}

int main(int argc, char **argv)
{
    struct init in = {0};
    sigset_t set;
    const char *disp = getenv("BH_SANDBOX_DISPOSABLE");

    (void)argc;
    (void)argv;
    in.disposable = disp && strcmp(disp, "1") == 0;
    if (getpid() != 1)
        say("not pid 1 (pid %d): orphans will not be reaped here", (int)getpid());

    /* Every signal we act on is taken synchronously; pid 1 gets no default
     * actions anyway, so nothing is lost by blocking. */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPWR);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ready = ready_fd();
    keep_only_stdio(ready);
    link_nautilus_scripts();
    start_services(&in);
    report_ready(ready);

    for (;;) {
        struct timespec tick = {0, TICK_NS};
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGPWR)
            stop_everything(&in, "asked to shut down");
        reap(&in);
        if (in.stopping) {
            /* Done once nothing is left to wait for. */
            if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD && count_user_processes(&in) == 0)
                break;
            continue;
        }
        if (in.disposable)
            disposable_tick(&in);
    }
    return 0;
}
