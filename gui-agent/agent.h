/* agent.h — bulkhead-gui-agent as a library: a headless Wayland compositor
 * inside a qube that forwards each toplevel and popup to dom0 over the GUI
 * vchan (docs/gui-agent.md).
 *
 * Owns: the public entry points used by main.c and the tests.
 * Must never: expose Wayland or protocol internals (those are internal.h). */
#ifndef BH_GUI_AGENT_H
#define BH_GUI_AGENT_H

#include <stdbool.h>

struct bh_agent;
struct wl_display;

struct bh_agent_options {
    /* Wayland socket name in $XDG_RUNTIME_DIR; NULL = "wayland-0". */
    const char *socket_name;
    /* Domain allowed to connect as the GUI daemon (dom0 = 0). */
    int gui_domain;
    /* Do not serve the GUI vchan (in-process Wayland tests). */
    bool no_vchan;
    bool verbose;
    /* Serve X11 on display :x11_display through Xwayland, started at the
     * first X client (off unless asked: zero-initialised options never
     * take an X display). */
    bool x11;
    int x11_display;
};

/* NULL on failure, with the reason logged. The host process must ignore
 * SIGPIPE (main.c does): clipboard pipes to clients may close at any time. */
struct bh_agent *bh_agent_new(const struct bh_agent_options *opts);
void bh_agent_free(struct bh_agent *a);
/* Serve until bh_agent_terminate (or SIGTERM/SIGINT in bulkhead-gui-agent). */
void bh_agent_run(struct bh_agent *a);
void bh_agent_terminate(struct bh_agent *a);
/* One iteration for tests: dispatch ready events (waiting up to timeout_ms),
 * then flush clients. Returns the number of sources dispatched or -1. */
int bh_agent_dispatch(struct bh_agent *a, int timeout_ms);
const char *bh_agent_socket_name(const struct bh_agent *a);
struct wl_display *bh_agent_display(struct bh_agent *a);

#endif /* BH_GUI_AGENT_H */
