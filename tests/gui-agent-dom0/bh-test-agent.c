/* bh-test-agent.c — processes and directories for agent tests (see
 * bh-test-agent.h). */
#include "bh-test-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *bh_tagent_build_path(const char *env, const char *rel)
{
    const char *p = g_getenv(env);
    if (p)
        return g_strdup(p);
    const char *root = g_getenv("BH_BUILD_ROOT");
    if (!root)
        g_error("neither %s nor BH_BUILD_ROOT is set (run the tests with meson test)", env);
    return g_build_filename(root, rel, NULL);
}

int bh_tagent_timeout_ms(int base_ms)
{
    const char *s = getenv("BH_TEST_TIMEOUT_SCALE");
    int scale = s ? atoi(s) : 1;
    return base_ms * (scale > 0 ? scale : 1);
}

static pid_t spawn(const char *const *argv, const char *const *env, const char *log)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        /* Also from here, so the group exists before anyone signals it. */
        setpgid(pid, pid);
        return pid;
    }
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2(null, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Clients must not abort on GLib warnings meant for the test itself,
     * nor look for a session bus or an accessibility bus. */
    unsetenv("G_DEBUG");
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
    unsetenv("DISPLAY");
    for (size_t i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

bool bh_tproc_alive(pid_t pid)
{
    int st;
    return pid > 0 && waitpid(pid, &st, WNOHANG) == 0;
}

int bh_tproc_wait(pid_t pid, int timeout_ms)
{
    uint64_t end = mono_ms() + (uint64_t)timeout_ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0)
            return -1;
        if (mono_ms() >= end)
            return -1;
        usleep(20 * 1000);
    }
}

int bh_tproc_stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    int st = bh_tproc_wait(pid, timeout_ms);
    if (st == -1) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        st = bh_tproc_wait(pid, 5000);
    } else {
        /* Whatever the child left in its group (foot's shell) goes too. */
        kill(-pid, SIGKILL);
    }
    return st;
}

long bh_tproc_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the ")" that closes the command name: state is field 3,
     * utime 14, stime 15. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

void bh_tagent_dump(const char *path)
{
    g_autofree char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL))
        g_printerr("---- %s ----\n%s\n---- end ----\n", path, text);
}

bool bh_tagent_wait(struct bh_tagent *t, bh_tdom0_pred pred, void *ctx)
{
    return bh_tdom0_wait(t->dom0, pred, ctx, bh_tagent_timeout_ms(30000));
}

unsigned bh_tagent_count_lines(const char *path, const char *line)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    unsigned n = 0;
    for (size_t i = 0; lines[i]; i++)
        n += strcmp(lines[i], line) == 0;
    return n;
}

struct lines_wait {
    const char *path, *line;
    unsigned n;
};

static bool lines_reached(struct bh_tdom0 *d, void *ctx)
{
    struct lines_wait *l = ctx;
    return bh_tagent_count_lines(l->path, l->line) >= l->n;
}

bool bh_tagent_wait_lines(struct bh_tagent *t, const char *path, const char *line, unsigned n)
{
    struct lines_wait l = {path, line, n};
    return bh_tagent_wait(t, lines_reached, &l);
}

void bh_tagent_connect(struct bh_tagent *t)
{
    char err[256];
    t->dom0 = bh_tdom0_connect(BH_TAGENT_DOMID, 1280, 800, bh_tagent_timeout_ms(20000), err, sizeof(err));
    if (!t->dom0) {
        bh_tagent_dump(t->agent_log);
        g_error("dom0 side: %s", err);
    }
}

void bh_tagent_start(struct bh_tagent *t, bool connect)
{
    bh_tagent_start_with(t, connect, NULL);
}

void bh_tagent_start_with(struct bh_tagent *t, bool connect, const char *const *extra)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "%s/bh-agent-test-XXXXXX", g_get_tmp_dir());
    if (!mkdtemp(t->dir))
        g_error("mkdtemp: %s", strerror(errno));
    chmod(t->dir, 0700);
    snprintf(t->vchan_dir, sizeof(t->vchan_dir), "%s/vchan", t->dir);
    snprintf(t->agent_log, sizeof(t->agent_log), "%s/agent.log", t->dir);

    /* This process is dom0 (domain 0) in the same vchan directory. */
    g_setenv("XDG_RUNTIME_DIR", t->dir, TRUE);
    g_setenv("BH_VCHAN_DIR", t->vchan_dir, TRUE);
    g_setenv("BH_VCHAN_DOMID", "0", TRUE);
    g_setenv("BH_VCHAN_TRANSPORT", "socket", TRUE);
    g_unsetenv("WAYLAND_DISPLAY");

    g_autofree char *agent = bh_tagent_build_path("BH_GUI_AGENT", "gui-agent/bulkhead-gui-agent");
    char domid[32];
    snprintf(domid, sizeof(domid), "BH_VCHAN_DOMID=%d", BH_TAGENT_DOMID);
    char *env[] = {domid, NULL};
    const char *argv[16] = {agent, "--wayland-socket", "wl-test", "--verbose"};
    for (size_t i = 0, n = 4; extra && extra[i] && n < G_N_ELEMENTS(argv) - 1; i++)
        argv[n++] = extra[i];
    t->agent = spawn(argv, (const char *const *)env, t->agent_log);
    if (t->agent < 0)
        g_error("cannot start %s", agent);

    /* The Wayland socket appears once the agent is serving. */
    char sock[400];
    snprintf(sock, sizeof(sock), "%s/wl-test", t->dir);
    uint64_t end = mono_ms() + (uint64_t)bh_tagent_timeout_ms(20000);
    while (access(sock, F_OK) != 0) {
        if (mono_ms() > end || !bh_tproc_alive(t->agent)) {
            bh_tagent_dump(t->agent_log);
            g_error("the agent did not create %s", sock);
        }
        usleep(20 * 1000);
    }
    if (connect)
        bh_tagent_connect(t);
}

pid_t bh_tagent_client(struct bh_tagent *t, const char *const *argv, const char *const *extra)
{
    g_assert_cmpint(t->n_children, <, BH_TAGENT_MAX_CHILDREN);
    char *log = t->child_logs[t->n_children];
    g_autofree char *base = g_path_get_basename(argv[0]);
    g_autofree char *path = g_strdup_printf("%s/%s-%d.log", t->dir, base, t->n_children);
    g_strlcpy(log, path, sizeof(t->child_logs[0]));
    /* Owned by the child after fork; the parent frees its copies below. */
    GPtrArray *env = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(env, g_strdup_printf("XDG_RUNTIME_DIR=%s", t->dir));
    g_ptr_array_add(env, g_strdup("WAYLAND_DISPLAY=wl-test"));
    g_ptr_array_add(env, g_strdup("GDK_BACKEND=wayland"));
    g_ptr_array_add(env, g_strdup("GSK_RENDERER=cairo"));
    g_ptr_array_add(env, g_strdup("LIBGL_ALWAYS_SOFTWARE=1"));
    g_ptr_array_add(env, g_strdup("GTK_A11Y=none"));
    g_ptr_array_add(env, g_strdup("NO_AT_BRIDGE=1"));
    g_ptr_array_add(env, g_strdup_printf("HOME=%s", t->dir));
    /* Under ./test --sanitize our own test clients are instrumented too;
     * their leaks (GTK's caches, a client exiting without cleanup) are not
     * what these tests check. The agent keeps the full checks. */
    g_ptr_array_add(env, g_strdup("ASAN_OPTIONS=detect_leaks=0"));
    for (size_t i = 0; extra && extra[i]; i++)
        g_ptr_array_add(env, g_strdup(extra[i]));
    g_ptr_array_add(env, NULL);
    pid_t pid = spawn(argv, (const char *const *)env->pdata, log);
    g_ptr_array_unref(env);
    if (pid < 0)
        g_error("cannot start %s", argv[0]);
    t->children[t->n_children++] = pid;
    return pid;
}

static void rm_rf(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            rm_rf(p);
        else
            unlink(p);
    }
    rmdir(path);
}

int bh_tagent_stop(struct bh_tagent *t)
{
    for (int i = t->n_children; i-- > 0;)
        if (t->children[i] > 0)
            bh_tproc_stop(t->children[i], 3000);
    bh_tdom0_free(t->dom0);
    t->dom0 = NULL;
    int st = bh_tproc_stop(t->agent, 5000);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        bh_tagent_dump(t->agent_log);
    if (!g_getenv("BH_TEST_KEEP"))
        rm_rf(t->dir);
    return st;
}
