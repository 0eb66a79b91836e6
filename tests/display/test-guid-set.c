/* test-guid-set.c — bulkheadd's guid supervision (core/daemon/bh-guid-set.c)
 * with the real bulkhead-guid on a private Xvfb: a qube whose agent breaks
 * the protocol is reported with guid's reason (what the daemon turns into
 * GuiFailed and ListQubes' gui_error); an agent that simply leaves is not an
 * error; a guid the daemon stops is never reported. guid's launcher (each
 * guid a fork of it): one guid crashing costs neither the launcher nor the
 * other guids; the launcher's death is reported for each of its guids and
 * the next start makes a new one; the launcher refuses malformed requests
 * and keeps serving; a guid binary without a launcher mode still works; what
 * the launcher prepares for its guids (one thread, an icon index its guids
 * use) and removes when it ends.
 * Usage (meson): with-xvfb.sh test-guid-set --guid PATH --agent PATH */
#include <gio/gio.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bh-display.h"
#include "bh-guid-set.h"
#include "bulkhead/guid-launch.h"

static char *opt_guid, *opt_agent;

typedef struct {
    GMainLoop *loop;
    int calls;
    char *qube;
    int status;
    char *reason;
} Ended;

static void on_ended(const char *qube, int status, const char *reason, gpointer user_data)
{
    Ended *e = user_data;
    e->calls++;
    g_free(e->qube);
    g_free(e->reason);
    e->qube = g_strdup(qube);
    e->status = status;
    e->reason = g_strdup(reason);
    g_main_loop_quit(e->loop);
}

static gboolean on_timeout(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

/* Runs the main loop until the callback fired or timeout_s passed. */
static void run_until_ended(Ended *e, guint timeout_s)
{
    guint id = g_timeout_add_seconds(timeout_s, on_timeout, e->loop);
    int before = e->calls;
    g_main_loop_run(e->loop);
    if (e->calls != before)
        g_source_remove(id);
}

static GSubprocess *spawn_agent(guint domid, const char *scenario)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autofree char *dom = g_strdup_printf("%u", domid);
    g_subprocess_launcher_setenv(l, "BH_VCHAN_DOMID", dom, TRUE);
    g_autoptr(GError) error = NULL;
    GSubprocess *p = g_subprocess_launcher_spawn(l, &error, opt_agent, "--scenario", scenario, NULL);
    g_assert_no_error(error);
    return p;
}

static void test_violation_reported(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GSubprocess) agent = spawn_agent(41, "unsealed-buffer");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_set_start(set, "evil", "red", 41, 0, FALSE, &error));
    g_assert_no_error(error);
    g_assert_true(bh_guid_set_is_running(set, "evil"));
    run_until_ended(&e, 60);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_cmpstr(e.qube, ==, "evil");
    g_assert_cmpint(e.status, ==, 2);
    /* The reason is guid's own last line: it names the qube and the fault. */
    g_assert_nonnull(strstr(e.reason, "evil"));
    g_assert_nonnull(strstr(e.reason, "violated the protocol"));
    g_assert_nonnull(strstr(e.reason, "seal"));
    g_assert_false(bh_guid_set_is_running(set, "evil"));
    bh_guid_set_free(set);
    g_subprocess_force_exit(agent);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

static void test_agent_leaving_is_clean(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GSubprocess) agent = spawn_agent(42, "disconnect");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_set_start(set, "calm", "green", 42, 0, FALSE, &error));
    run_until_ended(&e, 60);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_cmpint(e.status, ==, 0);
    bh_guid_set_free(set);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

static void test_stop_is_silent(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GError) error = NULL;
    /* No agent at domain 43: guid waits for one until we stop it. */
    g_assert_true(bh_guid_set_start(set, "idle", "blue", 43, 0, FALSE, &error));
    g_assert_true(bh_guid_set_is_running(set, "idle"));
    bh_guid_set_stop(set, "idle");
    g_assert_false(bh_guid_set_is_running(set, "idle"));
    /* A replaced guid's end must not be reported as its successor's either. */
    g_assert_true(bh_guid_set_start(set, "idle", "blue", 43, 0, FALSE, &error));
    g_assert_true(bh_guid_set_start(set, "idle", "blue", 43, 0, FALSE, &error));
    run_until_ended(&e, 3);
    g_assert_cmpint(e.calls, ==, 0);
    g_assert_true(bh_guid_set_is_running(set, "idle"));
    bh_guid_set_free(set);
    g_main_loop_unref(e.loop);
}

/* ---- guid's launcher ---------------------------------------------------------------- */

/* Running (not a zombie). */
static gboolean alive(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *close;
    if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL) || !(close = strrchr(text, ')')))
        return FALSE;
    return close[2] != 'Z' && close[2] != 'X';
}

typedef struct {
    BhGuidSet *set;
    const char *qube;
} PidWait;

static gboolean has_pid(gpointer data)
{
    PidWait *w = data;
    return bh_guid_set_get_pid(w->set, w->qube) > 0;
}

static pid_t wait_pid(BhGuidSet *set, const char *qube)
{
    PidWait w = {set, qube};
    g_assert_true(bh_wait_until(has_pid, &w, 30000));
    return bh_guid_set_get_pid(set, qube);
}

static void test_launcher_crash_stays_alone(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    Display *dpy = XOpenDisplay(NULL);
    g_assert_nonnull(dpy);
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GSubprocess) agent_a = spawn_agent(44, "window");
    g_autoptr(GSubprocess) agent_b = spawn_agent(45, "window");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_set_start(set, "crashy", "red", 44, 0, 0, &error));
    g_assert_true(bh_guid_set_start(set, "steady", "green", 45, 0, 0, &error));
    pid_t a = wait_pid(set, "crashy"), b = wait_pid(set, "steady");
    pid_t launcher = bh_pid_parent(a);
    /* Both forked by one launcher, a child of ours. */
    g_assert_cmpint(bh_pid_parent(b), ==, launcher);
    g_assert_cmpint(bh_pid_parent(launcher), ==, getpid());
    bh_x_wait_window(dpy, "[crashy]", 60000);
    bh_x_wait_window(dpy, "[steady]", 60000);

    /* What a qube that found a way to crash its guid would cause. */
    g_assert_cmpint(kill(a, SIGSEGV), ==, 0);
    run_until_ended(&e, 30);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_cmpstr(e.qube, ==, "crashy");
    g_assert_cmpint(e.status, ==, 128 + SIGSEGV);
    g_assert_nonnull(strstr(e.reason, "signal 11"));
    /* Nothing else ended: the launcher, the other guid and its window stay. */
    run_until_ended(&e, 2);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_true(alive(launcher));
    g_assert_true(alive(b));
    g_assert_true(bh_guid_set_is_running(set, "steady"));
    g_assert_cmpint(bh_guid_set_get_pid(set, "steady"), ==, b);
    g_assert_cmpuint(bh_x_count_windows(dpy, "[steady]"), ==, 1);
    g_assert_cmpuint(bh_x_count_windows(dpy, "[crashy]"), ==, 0);
    g_assert_nonnull(g_subprocess_get_identifier(agent_b)); /* still running */

    /* And the launcher still forks working guids: this one talks to its
     * agent until the agent leaves (a clean end). */
    g_autoptr(GSubprocess) agent_c = spawn_agent(46, "disconnect");
    g_assert_true(bh_guid_set_start(set, "third", "blue", 46, 0, 0, &error));
    pid_t c = wait_pid(set, "third");
    g_assert_cmpint(bh_pid_parent(c), ==, launcher);
    run_until_ended(&e, 60);
    g_assert_cmpint(e.calls, ==, 2);
    g_assert_cmpstr(e.qube, ==, "third");
    g_assert_cmpint(e.status, ==, 0);
    g_assert_true(alive(b));

    bh_guid_set_free(set);
    g_subprocess_force_exit(agent_a);
    g_subprocess_force_exit(agent_b);
    XCloseDisplay(dpy);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

static guint threads_of(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    guint n = 0;
    while (dir != NULL && g_dir_read_name(dir) != NULL)
        n++;
    return n;
}

/* The launcher's warm-up (bh-guid-launcher.c) starts no thread: a fork
 * copies only the calling thread, and a lock another thread held would stay
 * held in every guid. It leaves guid's icon index (themes/guid-icon-index.theme)
 * in the runtime directory, where guids look for it, and its guid draws its
 * window. */
static void test_launcher_warm_up(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    Display *dpy = XOpenDisplay(NULL);
    g_assert_nonnull(dpy);
    g_autofree char *dir = g_build_filename(g_get_user_runtime_dir(), "bulkhead-guid-icons", NULL);
    g_autofree char *index = g_build_filename(dir, "hicolor", "index.theme", NULL);
    g_unlink(index);
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GSubprocess) agent = spawn_agent(48, "window");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_set_start(set, "indexed", "purple", 48, 0, 0, &error));
    pid_t g = wait_pid(set, "indexed");
    pid_t launcher = bh_pid_parent(g);
    g_assert_cmpint(bh_pid_parent(launcher), ==, getpid());
    bh_x_wait_window(dpy, "[indexed]", 60000);
    g_assert_cmpuint(threads_of(launcher), ==, 1);

    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(index, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "\nDirectories=16x16/actions,"));
    GStatBuf st;
    g_assert_cmpint(g_stat(dir, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 0777, ==, 0700);

    bh_guid_set_free(set);
    g_subprocess_force_exit(agent);
    XCloseDisplay(dpy);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

static void test_launcher_death_reported(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GError) error = NULL;
    /* No agent at domain 47: guid waits for one. */
    g_assert_true(bh_guid_set_start(set, "orphan", "orange", 47, 0, 0, &error));
    pid_t g = wait_pid(set, "orphan");
    pid_t launcher = bh_pid_parent(g);
    g_assert_cmpint(bh_pid_parent(launcher), ==, getpid());
    g_assert_cmpint(kill(launcher, SIGKILL), ==, 0);
    run_until_ended(&e, 30);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_cmpstr(e.qube, ==, "orphan");
    g_assert_cmpint(e.status, ==, 1);
    g_assert_nonnull(strstr(e.reason, "launcher ended"));
    /* Its guid went with it (parent-death signal): nothing left behind. */
    for (int i = 0; i < 100 && alive(g); i++)
        g_usleep(20000);
    g_assert_false(alive(g));
    /* The next start makes a new launcher. */
    g_assert_true(bh_guid_set_start(set, "orphan", "orange", 47, 0, 0, &error));
    pid_t g2 = wait_pid(set, "orphan");
    g_assert_cmpint(bh_pid_parent(g2), !=, launcher);
    g_assert_cmpint(bh_pid_parent(bh_pid_parent(g2)), ==, getpid());
    bh_guid_set_free(set);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

/* One reply from the launcher, waiting up to 10 s; its fd (if any) closed. */
static struct bh_guid_launch_reply read_reply(int sock)
{
    guint8 buf[64];
    int fds[2], n_fds = 0, cut = 0;
    struct timeval tv = {10, 0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    long len = bh_guid_launch_recv(sock, buf, sizeof buf, fds, 2, &n_fds, &cut, 0);
    g_assert_cmpint(len, >, 0);
    for (int i = 0; i < n_fds; i++)
        close(fds[i]);
    struct bh_guid_launch_reply r;
    const char *why = NULL;
    g_assert_cmpint(bh_guid_launch_decode_reply(buf, (size_t)len, &r, &why), ==, 0);
    return r;
}

/* Sends bytes with n_fds copies of fd attached. */
static void send_raw(int sock, const void *bytes, size_t len, int fd, int n_fds)
{
    int fds[2] = {fd, fd};
    g_assert_cmpint(bh_guid_launch_send(sock, bytes, len, fds, n_fds), ==, (long)len);
}

static void test_launcher_refuses_bad_requests(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_fd(l, sv[1], 3);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) launcher =
        g_subprocess_launcher_spawn(l, &error, opt_guid, "--launcher", "3", NULL);
    g_assert_no_error(error);
    int sock = sv[0];
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    const char *good_argv[] = {opt_guid, "--qube", "BAD NAME", "--label", "red", "--domid", "48", NULL};
    guint8 good[BH_GUID_LAUNCH_MAX_BYTES];
    long good_len = bh_guid_launch_encode_request(good, sizeof good, 7, good_argv, NULL);
    g_assert_cmpint(good_len, >, 0);

    struct {
        const char *what;
        guint8 bytes[64];
        size_t len;
        int n_fds;
    } bad[] = {
        {"garbage", "not a request at all", 20, 1},
        {"header only, no argument", {0x42, 0x48, 0x47, 0x4c, 2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0}, 16, 1},
        {"argument without its NUL",
         {0x42, 0x48, 0x47, 0x4c, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 'x', 'y'},
         18,
         1},
        {"a11y bus address without its NUL",
         {0x42, 0x48, 0x47, 0x4c, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 'x', 0, 'y'},
         19,
         1},
        {"bytes after the a11y bus address",
         {0x42, 0x48, 0x47, 0x4c, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 'x', 0, 'y', 0, 'z', 0},
         22,
         1},
        {"empty a11y bus address",
         {0x42, 0x48, 0x47, 0x4c, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 'x', 0, 0},
         19,
         1},
        {"version 1", {0x42, 0x48, 0x47, 0x4c, 1, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 'x', 0}, 18, 1},
        {"17 arguments", {0x42, 0x48, 0x47, 0x4c, 2, 0, 0, 0, 9, 0, 0, 0, 17, 0, 0, 0}, 16 + 17 * 2, 1},
    };
    /* 17 one-letter arguments. */
    gsize many = G_N_ELEMENTS(bad) - 1;
    g_assert_cmpuint(bad[many].len, ==, 16 + 17 * 2);
    for (int i = 0; i < 17; i++) {
        bad[many].bytes[16 + 2 * i] = 'a';
        bad[many].bytes[17 + 2 * i] = 0;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        send_raw(sock, bad[i].bytes, bad[i].len, devnull, bad[i].n_fds);
        struct bh_guid_launch_reply r = read_reply(sock);
        g_test_message("%s: reply kind %u", bad[i].what, r.kind);
        g_assert_cmpuint(r.kind, ==, BH_GUID_LAUNCH_FAILED);
    }
    /* A well-formed request with no descriptor, or with two. */
    send_raw(sock, good, (size_t)good_len, devnull, 0);
    g_assert_cmpuint(read_reply(sock).kind, ==, BH_GUID_LAUNCH_FAILED);
    send_raw(sock, good, (size_t)good_len, devnull, 2);
    g_assert_cmpuint(read_reply(sock).kind, ==, BH_GUID_LAUNCH_FAILED);

    /* Still serving: a guid is forked, refuses its arguments (exit 1) and
     * its end is reported. */
    send_raw(sock, good, (size_t)good_len, devnull, 1);
    struct bh_guid_launch_reply started = read_reply(sock);
    g_assert_cmpuint(started.kind, ==, BH_GUID_LAUNCH_STARTED);
    g_assert_cmpuint(started.serial, ==, 7);
    struct bh_guid_launch_reply exited = read_reply(sock);
    g_assert_cmpuint(exited.kind, ==, BH_GUID_LAUNCH_EXITED);
    g_assert_cmpint(exited.pid, ==, started.pid);
    g_assert_true(WIFEXITED(exited.value));
    g_assert_cmpint(WEXITSTATUS(exited.value), ==, 1);
    g_assert_nonnull(g_subprocess_get_identifier(launcher)); /* still running */

    /* bulkheadd gone: the launcher ends. */
    close(sock);
    close(devnull);
    g_assert_true(g_subprocess_wait(launcher, NULL, NULL));
    g_assert_true(g_subprocess_get_if_exited(launcher));
    g_assert_cmpint(g_subprocess_get_exit_status(launcher), ==, 0);
}

/* A guid binary that does not know --launcher (BH_GUID_PATH to an older
 * one): its "launcher" exits (after the request is sent); the guid asked for starts on its own
 * and works, and the launcher is not tried again. */
static void test_launcher_unsupported_falls_back(void)
{
    Ended e = {.loop = g_main_loop_new(NULL, FALSE)};
    g_autofree char *dir = g_dir_make_tmp("bh-old-guid-XXXXXX", NULL);
    g_autofree char *wrapper = g_build_filename(dir, "bulkhead-guid", NULL);
    g_autofree char *script = g_strdup_printf(
        "#!/bin/sh\n[ \"$1\" = --launcher ] && sleep 0.3 && exit 1\nexec '%s' \"$@\"\n", opt_guid);
    g_assert_true(g_file_set_contents(wrapper, script, -1, NULL));
    g_chmod(wrapper, 0755);
    g_setenv("BH_GUID_PATH", wrapper, TRUE);

    BhGuidSet *set = bh_guid_set_new(on_ended, &e);
    g_autoptr(GSubprocess) agent = spawn_agent(49, "disconnect");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_set_start(set, "older", "purple", 49, 0, 0, &error));
    pid_t g = wait_pid(set, "older");
    g_assert_cmpint(bh_pid_parent(g), ==, getpid());
    run_until_ended(&e, 60);
    g_assert_cmpint(e.calls, ==, 1);
    g_assert_cmpstr(e.qube, ==, "older");
    g_assert_cmpint(e.status, ==, 0);
    /* No new launcher: the next guid is ours directly too. */
    g_assert_true(bh_guid_set_start(set, "older2", "purple", 50, 0, 0, &error));
    g_assert_cmpint(bh_pid_parent(wait_pid(set, "older2")), ==, getpid());

    bh_guid_set_free(set);
    g_setenv("BH_GUID_PATH", opt_guid, TRUE);
    g_unlink(wrapper);
    g_rmdir(dir);
    g_main_loop_unref(e.loop);
    g_free(e.qube);
    g_free(e.reason);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    const GOptionEntry entries[] = {
        {"guid", 0, 0, G_OPTION_ARG_FILENAME, &opt_guid, "bulkhead-guid", "PATH"},
        {"agent", 0, 0, G_OPTION_ARG_FILENAME, &opt_agent, "bh-fake-agent", "PATH"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_ignore_unknown_options(ctx, TRUE);
    if (!g_option_context_parse(ctx, &argc, &argv, NULL) || !opt_guid || !opt_agent)
        g_error("usage: test-guid-set --guid PATH --agent PATH");

    /* Private vchan directory, and the guid under test rather than any other. */
    g_autofree char *dir = g_dir_make_tmp("bh-guid-set-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_chmod(dir, 0700);
    g_setenv("BH_VCHAN_DIR", dir, TRUE);
    g_setenv("BH_GUID_PATH", opt_guid, TRUE);

    g_test_add_func("/guid-set/violation-reported", test_violation_reported);
    g_test_add_func("/guid-set/agent-leaving-is-clean", test_agent_leaving_is_clean);
    g_test_add_func("/guid-set/stop-is-silent", test_stop_is_silent);
    g_test_add_func("/guid-set/launcher/crash-stays-alone", test_launcher_crash_stays_alone);
    g_test_add_func("/guid-set/launcher/death-reported", test_launcher_death_reported);
    g_test_add_func("/guid-set/launcher/warm-up", test_launcher_warm_up);
    g_test_add_func("/guid-set/launcher/refuses-bad-requests", test_launcher_refuses_bad_requests);
    g_test_add_func("/guid-set/launcher/unsupported-falls-back", test_launcher_unsupported_falls_back);
    int rc = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    (void)!system(cmd);
    return rc;
}
