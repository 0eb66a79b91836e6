/* bh-display.h — helpers for display tests: screenshots of the X server the
 * test runs on (see with-xvfb.sh), pixel checks, and finding windows.
 *
 * Owns: its own Xlib connection (separate from GTK's, like any screenshot
 * tool). Must never: open a display other than $DISPLAY. */
#ifndef BH_DISPLAY_H
#define BH_DISPLAY_H

#include <X11/Xlib.h>
#include <gio/gio.h>
#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
    int x, y, width, height;
} BhRect;

typedef struct {
    int width, height;
    guint32 *px; /* 0x00RRGGBB, row-major */
} BhShot;

Display *bh_display_open(void);

/* The whole root window, as the user would see it. */
BhShot *bh_shot_take(Display *dpy);
void bh_shot_free(BhShot *shot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhShot, bh_shot_free)
guint32 bh_shot_px(const BhShot *shot, int x, int y);
/* Saves to $BH_BUILD_ROOT/tests/display/shots/<name>.png (for a human to
 * look at) and returns the path. */
char *bh_shot_save(const BhShot *shot, const char *name);

/* Bounding box of the pixels of exactly `rgb` inside `area`; FALSE if none. */
gboolean bh_shot_find_colour(const BhShot *shot, const BhRect *area, guint32 rgb, BhRect *out);
/* Pixels of the ring of `width` around `inner` (outside it) that are not
 * exactly `rgb`; the first offender goes to bad_x, bad_y and bad_rgb. */
guint bh_shot_ring_mismatches(const BhShot *shot, const BhRect *inner, int width, guint32 rgb, int *bad_x,
                              int *bad_y, guint32 *bad_rgb);
/* Bounding box of the pixels inside `area` that differ between two shots of
 * the same size; FALSE if none. */
gboolean bh_shot_diff_box(const BhShot *a, const BhShot *b, const BhRect *area, BhRect *out);
/* Pixels inside `area` that differ between two shots. */
guint bh_shot_diff(const BhShot *a, const BhShot *b, const BhRect *area);

/* A viewable top-level whose _NET_WM_NAME (or WM_NAME) starts with
 * `prefix`; 0 if none. *title gets the full name. */
Window bh_x_find_window(Display *dpy, const char *prefix, char **title);
/* Wait for such a window (titles and pixels arrive separately); g_error
 * naming what is there instead when none comes within timeout_ms. */
Window bh_x_wait_window(Display *dpy, const char *prefix, guint timeout_ms);
/* A viewable top-level named exactly `title`; 0 if none. */
Window bh_x_find_window_exact(Display *dpy, const char *title);
/* Every viewable top-level whose name starts with `prefix`. */
guint bh_x_count_windows(Display *dpy, const char *prefix);
gboolean bh_x_window_rect(Display *dpy, Window w, BhRect *out);
/* The rectangle of what holds `w` on screen: the window manager's frame
 * around it, or `w` itself without one (root coordinates). */
gboolean bh_x_frame_rect(Display *dpy, Window w, BhRect *out);
/* Moves `w` so that its frame (bh_x_frame_rect) is in the bottom-right
 * corner of the screen, `margin` px from both edges, with or without a
 * window manager (which places the frame where the client asks). */
void bh_x_move_to_corner(Display *dpy, Window w, int margin);
/* Ask the window to close, as a window manager's close button does. */
void bh_x_close_window(Display *dpy, Window w);
/* Whether _NET_WM_STATE holds `state` (e.g. "_NET_WM_STATE_FULLSCREEN"). */
gboolean bh_x_has_state(Display *dpy, Window w, const char *state);
/* Whether WM_HINTS carries the urgency flag. */
gboolean bh_x_is_urgent(Display *dpy, Window w);

/* Run the default main context until cond(data) is TRUE or `timeout_ms`
 * passes; TRUE if it became TRUE. Generous timeouts: the machine is shared. */
gboolean bh_wait_until(gboolean (*cond)(gpointer), gpointer data, guint timeout_ms);

/* The test image guests draw: a 1-px outline (magenta for toplevels, cyan for
 * popups), so a test can find the content in a screenshot, around a gradient
 * that depends on `seed` and never contains either (its blue stays below
 * 0x80). Returns 0x00RRGGBB. Seeds >= BH_PATTERN_POPUP draw the cyan outline. */
#define BH_PATTERN_OUTLINE       0xff00ffu
#define BH_PATTERN_OUTLINE_POPUP 0x00ffffu
#define BH_PATTERN_POPUP         1000u
guint32 bh_pattern_rgb(int x, int y, int width, int height, guint seed);
/* Fills an XRGB8888 or ARGB8888 buffer (alpha 0xff) with the pattern. */
void bh_pattern_fill(guint8 *buf, int width, int height, int stride, guint seed);
/* Pixels of the content rectangle in `shot` (its top-left at `at`) that are
 * not the pattern. */
guint bh_pattern_mismatches(const BhShot *shot, int at_x, int at_y, int width, int height, guint seed);
/* Wait until a width x height test image of `seed` is on screen: its
 * outline, and with `whole` every pixel exactly; *found gets its rectangle. */
gboolean bh_wait_pattern(Display *dpy, int width, int height, guint seed, gboolean whole, BhRect *found,
                         guint timeout_ms);
/* Frame pixels around `content` (`width` wide) that are not `rgb`; logs the
 * first offender. */
guint bh_frame_mismatches(const BhShot *shot, const BhRect *content, int width, guint32 rgb);

/* ---- Processes: guid and agents, really started ---------------------------- */

/* Paths of the programs under test, from the test's command line
 * (--guid PATH --agent PATH [--gui-agent PATH --wlclient PATH]), set by
 * meson; the first two are required. */
typedef struct {
    char *guid;
    char *agent;
    char *gui_agent;
    char *wlclient; /* tests/gui-agent-dom0/bh-test-wlclient */
    char *wm;       /* --wm: "openbox", or NULL/"none" (bh_start_wm) */
} BhPrograms;
void bh_programs_parse(BhPrograms *p, int argc, char **argv);

typedef struct {
    GSubprocess *proc;
    char *name;
    char *out_path, *err_path;
    gboolean exited;
    int status; /* exit status, or 128 + signal */
} BhProc;

/* argv NULL-terminated; env: extra NAME=VALUE strings (NULL-terminated or
 * NULL). Output goes to files in $XDG_RUNTIME_DIR (set by with-xvfb.sh). */
BhProc *bh_proc_spawn(const char *name, const char *const *argv, const char *const *env);
/* Wait for exit (running the main context); FALSE on timeout. */
gboolean bh_proc_wait(BhProc *p, guint timeout_ms);
/* Wait until its stdout (or stderr) contains `text`. */
gboolean bh_proc_wait_output(BhProc *p, gboolean stderr_, const char *text, guint timeout_ms);
char *bh_proc_stdout(BhProc *p);
char *bh_proc_stderr(BhProc *p);
/* User+system CPU time so far, in seconds (from /proc). */
double bh_proc_cpu_seconds(BhProc *p);
/* The same for any process id (one the test did not start: the X server). */
double bh_pid_cpu_seconds(const char *pid);
/* The parent of process pid (from /proc), 0 when it is gone. */
pid_t bh_pid_parent(pid_t pid);
/* SIGTERM (then SIGKILL after 5 s), reap, free. NULL-safe. */
void bh_proc_stop(BhProc *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhProc, bh_proc_stop)

/* The fake agent (bh-fake-agent) of domain `domid` with a scenario and extra
 * arguments (NULL-terminated or NULL); waits until it listens. */
BhProc *bh_start_agent(const BhPrograms *p, int domid, const char *scenario, const char *const *extra);
/* bulkhead-guid for qube `qube`; extra arguments NULL-terminated or NULL. */
BhProc *bh_start_guid(const BhPrograms *p, const char *qube, const char *label, int domid,
                      const char *const *extra);

/* A preloaded disposable's guid: bulkhead-guid with --warm-up for qube
 * `qube`, whose fake agent (scenario, extra arguments) connects at once but
 * starts its scenario only once guid's log says the warm-up is done (so
 * its first toplevel takes the window prepared ahead); asserts that no
 * window of the qube was on screen meanwhile. The agent is stored in
 * *agent. */
BhProc *bh_start_guid_warmed(const BhPrograms *p, const char *qube, const char *label, int domid,
                             const char *scenario, const char *const *agent_extra, BhProc **agent,
                             Display *dpy);

/* Stops the agent (*agent becomes NULL): guid must close the qube's windows
 * and exit 0 on its own (it is still the caller's to free). */
void bh_agent_leaves(BhProc **agent, BhProc *guid);

/* The real bulkhead-gui-agent of domain `domid` (Wayland socket
 * wayland-bh-<domid>), starting each of `clients` (shell commands,
 * NULL-terminated or NULL) once it serves; waits until it does. */
BhProc *bh_start_gui_agent(const BhPrograms *p, int domid, const char *const *clients);

/* The one place in `area` where a width x height rectangle has a `frame`-px
 * ring of exactly `rgb` around it and no `rgb` pixel on its own edge (guid's
 * frame around a real client's content); FALSE if there is none or more
 * than one. */
gboolean bh_shot_find_framed(const BhShot *shot, const BhRect *area, int width, int height, int frame,
                             guint32 rgb, BhRect *found);

/* A screenshot once bh_shot_find_framed finds it (up to 20 s); fails the
 * test (and saves "failed-frame") if it never does. */
BhShot *bh_shot_wait_framed(Display *dpy, const BhRect *area, int width, int height, int frame, guint32 rgb,
                            BhRect *content);

/* Run a command (xdotool ...) to completion; TRUE if it exited 0. */
gboolean bh_run(const char *const *argv);

/* ---- Window managers and focus ------------------------------------------------ */

/* Starts the window manager `wm` ("openbox"; "none" or NULL: none, returns
 * NULL) and waits until it manages the screen. */
BhProc *bh_start_wm(Display *dpy, const char *wm);
/* What `xdotool getwindowfocus` says (0 if it fails). */
Window bh_x_focus(void);
/* Whether the keyboard focus is in `client` (itself, a child of it such as
 * GDK's focus proxy, or the window manager frame around it). */
gboolean bh_x_focus_in(Display *dpy, Window client);
/* The user activates `w`: `xdotool windowactivate` with a window manager,
 * windowraise + windowfocus without. */
void bh_x_activate(Display *dpy, Window w, gboolean wm);

G_END_DECLS

#endif /* BH_DISPLAY_H */
