/* xwayland.c — the qube's X server: a listening socket in the qube's own
 * /tmp/.X11-unix, and Xwayland (rootless) started at the first X client
 * that connects, as one more Wayland client of this agent.
 *
 * Owns: the X listening socket, the Xwayland process's fds (its Wayland
 * connection, its -wm connection, its readiness pipe) and starting it again
 * on demand after it ended.
 * Must never: listen anywhere but the qube's /tmp (the qube has its own
 * network namespace, so no abstract socket is needed and none is made; dom0's
 * X server is never named), trust what Xwayland's X clients do (xwm.c bounds
 * that), or block the agent's loop while Xwayland starts. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MOD "xwayland"

#define BH_X11_DIR "/tmp/.X11-unix"

struct bh_xwayland {
    struct bh_agent *agent;
    int display;
    int listen_fd;
    struct wl_event_source *listen_src; /* armed while Xwayland is not running */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

    pid_t pid;
    struct wl_client *client; /* Xwayland's Wayland connection, through relay */
    struct bh_xrelay *relay;
    struct wl_listener client_destroy;
    int wm_fd;    /* our end of -wm, until the server is ready */
    int ready_fd; /* -displayfd: readable once it accepts clients */
    struct wl_event_source *ready_src;
    char ready_buf[8]; /* -displayfd's "N\n", written in two parts */
    size_t ready_len;
    struct timespec started;
    struct bh_xwm *wm;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int on_connection(int fd, uint32_t mask, void *data);

static void stopped(struct bh_xwayland *x, const char *why)
{
    if (x->wm) {
        bh_xwm_free(x->wm);
        x->wm = NULL;
    }
    bh_xrelay_free(x->relay);
    x->relay = NULL;
    if (x->ready_src) {
        wl_event_source_remove(x->ready_src);
        x->ready_src = NULL;
    }
    close_fd(&x->ready_fd);
    close_fd(&x->wm_fd);
    if (x->pid > 0) {
        /* main.c's SIGCHLD handler reaps it. */
        kill(x->pid, SIGTERM);
        x->pid = -1;
    }
    /* The next X client starts it again. */
    if (!x->listen_src && x->listen_fd >= 0)
        x->listen_src =
            wl_event_loop_add_fd(x->agent->loop, x->listen_fd, WL_EVENT_READABLE, on_connection, x);
    BH_INFO(x->agent, MOD, "Xwayland on :%d ended (%s); it starts again at the next X client", x->display,
            why);
}

static void client_destroyed(struct wl_listener *l, void *data)
{
    struct bh_xwayland *x = wl_container_of(l, x, client_destroy);
    wl_list_remove(&x->client_destroy.link);
    x->client = NULL;
    stopped(x, "its Wayland connection closed");
}

static int on_ready(int fd, uint32_t mask, void *data)
{
    struct bh_xwayland *x = data;
    ssize_t n = read(fd, x->ready_buf + x->ready_len, sizeof(x->ready_buf) - x->ready_len);
    if (n > 0) {
        x->ready_len += (size_t)n;
        /* Xwayland writes the number, then "\n": closing the pipe before
         * the newline would make its second write fail, and it exits. */
        if (!memchr(x->ready_buf, '\n', x->ready_len) && x->ready_len < sizeof(x->ready_buf))
            return 0;
    }
    wl_event_source_remove(x->ready_src);
    x->ready_src = NULL;
    close_fd(&x->ready_fd);
    if (n <= 0) {
        BH_WARN(x->agent, MOD, "Xwayland ended before it was ready");
        if (x->client)
            wl_client_destroy(x->client); /* calls stopped() */
        return 0;
    }
    BH_INFO(x->agent, MOD, "Xwayland ready on :%d after %.0f ms", x->display, ms_since(&x->started));
    int wm_fd = x->wm_fd;
    x->wm_fd = -1;
    x->wm = bh_xwm_new(x->agent, wm_fd, x->client);
    if (!x->wm && x->client)
        wl_client_destroy(x->client);
    return 0;
}

/* In the child: the fds Xwayland is given, at fixed numbers, every other
 * one closed (the agent's vchan and clients are none of its business). */
static void exec_xwayland(int display, int wl_fd, int wm_fd, int listen_fd, int ready_fd)
{
    int fds[4] = {wl_fd, wm_fd, listen_fd, ready_fd};
    /* Move them out of the way of 3..6 first. */
    for (int i = 0; i < 4; i++)
        if ((fds[i] = fcntl(fds[i], F_DUPFD, 16)) < 0)
            _exit(127);
    for (int i = 0; i < 4; i++)
        if (dup2(fds[i], 3 + i) < 0)
            _exit(127);
    for (int fd = 7; fd < 1024; fd++)
        close(fd);
    /* Each mapped X window holds a buffer fd towards us: with the usual
     * soft limit of 1024 a client mapping 1 000 windows made Xwayland fail
     * ("can't send file descriptor") and end. Up to the hard limit. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    /* Xwayland goes with the agent, even one killed outright. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    char disp[16];
    snprintf(disp, sizeof(disp), ":%d", display);
    setenv("WAYLAND_SOCKET", "3", 1);
    unsetenv("DISPLAY");
    char *argv[] = {"Xwayland",   disp, "-rootless", "-wm", "4",        "-listenfd", "5",
                    "-displayfd", "6",  "-nolisten", "tcp", "-noreset", NULL};
    execvp("Xwayland", argv);
    _exit(127);
}

static bool start(struct bh_xwayland *x)
{
    int wl[2] = {-1, -1}, in[2] = {-1, -1}, wm[2] = {-1, -1}, ready[2] = {-1, -1};
    bool ok = false;

    /* wl: Xwayland's Wayland socket, drained by the relay (xwayland-relay.c)
     * into in, whose other end is the wl_client. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, wl) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, wm) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
        BH_WARN(x->agent, MOD, "cannot make Xwayland's connections: %s", strerror(errno));
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &x->started);
    pid_t pid = fork();
    if (pid < 0) {
        BH_WARN(x->agent, MOD, "cannot start Xwayland: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        exec_xwayland(x->display, wl[1], wm[1], x->listen_fd, ready[1]);
    x->pid = pid;
    x->relay = bh_xrelay_new(x->agent, wl[0], in[1]);
    wl[0] = in[1] = -1; /* the relay owns them, even when it failed */
    x->client = x->relay ? wl_client_create(x->agent->display, in[0]) : NULL;
    if (!x->client) {
        BH_WARN(x->agent, MOD, "cannot accept Xwayland as a Wayland client");
        bh_xrelay_free(x->relay);
        x->relay = NULL;
        kill(pid, SIGTERM);
        x->pid = -1;
        goto out;
    }
    in[0] = -1; /* the client owns it */
    x->client_destroy.notify = client_destroyed;
    wl_client_add_destroy_listener(x->client, &x->client_destroy);
    x->wm_fd = wm[0];
    wm[0] = -1;
    x->ready_fd = ready[0];
    ready[0] = -1;
    x->ready_len = 0;
    x->ready_src = wl_event_loop_add_fd(x->agent->loop, x->ready_fd, WL_EVENT_READABLE, on_ready, x);
    BH_INFO(x->agent, MOD, "an X client connected: Xwayland starts on :%d (pid %d)", x->display, (int)pid);
    ok = true;
out:
    close_fd(&wl[0]);
    close_fd(&wl[1]);
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&wm[0]);
    close_fd(&wm[1]);
    close_fd(&ready[0]);
    close_fd(&ready[1]);
    return ok;
}

static int on_connection(int fd, uint32_t mask, void *data)
{
    struct bh_xwayland *x = data;
    /* Xwayland accepts this pending connection itself; we stop watching. */
    wl_event_source_remove(x->listen_src);
    x->listen_src = NULL;
    if (!start(x))
        stopped(x, "it could not start");
    return 0;
}

struct bh_xwayland *bh_xwayland_new(struct bh_agent *a, int display)
{
    struct bh_xwayland *x = calloc(1, sizeof(*x));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!x)
        return NULL;
    x->agent = a;
    x->display = display;
    x->listen_fd = x->wm_fd = x->ready_fd = -1;
    x->pid = -1;
    if (display < 0 || display > 9999)
        goto fail;
    /* The relay may hold Xwayland's descriptors in flight (one per window
     * it maps; BH_XRELAY_MAX_FDS at most): the soft limit of 1024 is not
     * enough, the hard one is ours to take. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    /* The qube's own /tmp (a tmpfs of its sandbox): made world-writable
     * and sticky as X expects. A link or a file there is refused, never
     * followed. */
    if (mkdir(BH_X11_DIR, 01777) < 0 && errno != EEXIST) {
        BH_WARN(a, MOD, "cannot create %s: %s", BH_X11_DIR, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (lstat(BH_X11_DIR, &st) < 0 || !S_ISDIR(st.st_mode)) {
        BH_WARN(a, MOD, "%s is not a directory; X11 is not served", BH_X11_DIR);
        goto fail;
    }
    chmod(BH_X11_DIR, 01777);
    snprintf(x->path, sizeof(x->path), BH_X11_DIR "/X%d", display);
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", x->path);
    x->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (x->listen_fd < 0)
        goto fail_errno;
    if (bind(x->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        /* A socket left by an earlier agent in this qube: nobody else
         * serves X here, so it is stale. */
        if (errno != EADDRINUSE || lstat(x->path, &st) < 0 || !S_ISSOCK(st.st_mode) || unlink(x->path) < 0 ||
            bind(x->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
            goto fail_errno;
    }
    if (listen(x->listen_fd, 64) < 0)
        goto fail_errno;
    x->listen_src = wl_event_loop_add_fd(a->loop, x->listen_fd, WL_EVENT_READABLE, on_connection, x);
    if (!x->listen_src)
        goto fail;
    BH_INFO(a, MOD, "serving X11 on :%d (%s); Xwayland starts at the first client", display, x->path);
    return x;
fail_errno:
    BH_WARN(a, MOD, "cannot listen on %s: %s; X11 is not served", x->path, strerror(errno));
fail:
    bh_xwayland_free(x);
    return NULL;
}

void bh_xwayland_free(struct bh_xwayland *x)
{
    if (!x)
        return;
    if (x->client) {
        wl_list_remove(&x->client_destroy.link);
        struct wl_client *c = x->client;
        x->client = NULL;
        wl_client_destroy(c);
    }
    if (x->wm)
        bh_xwm_free(x->wm);
    bh_xrelay_free(x->relay);
    if (x->ready_src)
        wl_event_source_remove(x->ready_src);
    if (x->listen_src)
        wl_event_source_remove(x->listen_src);
    close_fd(&x->ready_fd);
    close_fd(&x->wm_fd);
    if (x->pid > 0)
        kill(x->pid, SIGTERM);
    if (x->listen_fd >= 0) {
        close(x->listen_fd);
        unlink(x->path);
    }
    free(x);
}
