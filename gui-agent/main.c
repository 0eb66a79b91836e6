/* main.c — bulkhead-gui-agent: options, signals, the optional first client,
 * then the compositor's event loop (libbh_gui_agent does the work).
 *
 * Owns: process-level concerns only (argv, environment, signals, children).
 * Must never: contain compositor logic. */
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <wayland-server-core.h>

#include "agent.h"

extern char **environ;

static void usage(FILE *f)
{
    fputs("usage: bulkhead-gui-agent [--wayland-socket NAME] [--x11 N] [--exec CMD]... [--verbose]\n"
          "  A headless Wayland compositor that forwards every window to dom0 over the\n"
          "  GUI vchan (port 6000). Clients connect to $XDG_RUNTIME_DIR/NAME (default\n"
          "  wayland-0); WAYLAND_DISPLAY is set for everything it starts.\n"
          "  --x11 N      serve X11 on :N through Xwayland, started at the first X client\n"
          "  --exec CMD   start CMD with /bin/sh -c once the socket is up (repeatable)\n"
          "  Environment: BH_VCHAN_DOMID (this qube's domain id), BH_VCHAN_DIR,\n"
          "  BH_VCHAN_TRANSPORT (see docs/vchan.md).\n",
          f);
}

static int on_terminate(int sig, void *data)
{
    bh_agent_terminate(data);
    return 0;
}

static int on_child(int sig, void *data)
{
    /* Reap every finished child; the agent outlives its clients. */
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    return 0;
}

static int spawn(const char *cmd)
{
    posix_spawnattr_t attr;
    sigset_t none, deflt;
    pid_t pid;
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

    /* Signals the event loop blocked (to read them via signalfd) must be
     * normal again in the child. */
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGCHLD);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGINT);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int err = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (err) {
        fprintf(stderr, "bulkhead-gui-agent: cannot start '%s': %s\n", cmd, strerror(err));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"wayland-socket", required_argument, NULL, 's'},
        {"exec", required_argument, NULL, 'e'},
        {"x11", required_argument, NULL, 'x'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bh_agent_options opts = {.socket_name = NULL, .gui_domain = 0, .x11 = false};
    /* In a qube the sandbox sets BH_X11_DISPLAY (never DISPLAY, which on a
     * host may name dom0's own X server). */
    const char *x11 = getenv("BH_X11_DISPLAY");
    if (x11 && *x11) {
        opts.x11 = true;
        opts.x11_display = atoi(x11);
    }
    const char *execs[16];
    int n_exec = 0, c;

    while ((c = getopt_long(argc, argv, "s:e:x:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            opts.socket_name = optarg;
            break;
        case 'e':
            if (n_exec == (int)(sizeof(execs) / sizeof(execs[0]))) {
                fprintf(stderr, "bulkhead-gui-agent: at most %zu --exec\n", sizeof(execs) / sizeof(execs[0]));
                return 2;
            }
            execs[n_exec++] = optarg;
            break;
        case 'x':
            opts.x11 = true;
            opts.x11_display = atoi(optarg);
            break;
        case 'v':
            opts.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    struct bh_agent *a = bh_agent_new(&opts);
    if (!a)
        return 1;
    struct wl_event_loop *loop = wl_display_get_event_loop(bh_agent_display(a));
    struct wl_event_source *sigs[] = {
        wl_event_loop_add_signal(loop, SIGTERM, on_terminate, a),
        wl_event_loop_add_signal(loop, SIGINT, on_terminate, a),
        wl_event_loop_add_signal(loop, SIGCHLD, on_child, a),
    };
    setenv("WAYLAND_DISPLAY", bh_agent_socket_name(a), 1);
    if (opts.x11) {
        char d[16];
        snprintf(d, sizeof(d), ":%d", opts.x11_display);
        setenv("DISPLAY", d, 1);
    }
    for (int i = 0; i < n_exec; i++)
        spawn(execs[i]);

    bh_agent_run(a);

    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigs[i])
            wl_event_source_remove(sigs[i]);
    bh_agent_free(a);
    return 0;
}
