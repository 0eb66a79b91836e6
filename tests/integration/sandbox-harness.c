/* sandbox-harness.c — see sandbox-harness.h. */
#include "sandbox-harness.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "sandbox-layout.h"
#include "sandbox.h"

static void bh_harness_state_cb(BhBackend *backend, const char *qube, BhPowerState state, const char *reason,
                                gpointer data)
{
    BhHarness *h = data;
    g_hash_table_insert(h->states, g_strdup(qube), GINT_TO_POINTER(state));
    bh_agent_set_power_changed(h->agents, qube, state);
    g_ptr_array_add(h->transitions, g_strdup_printf("%s %s%s%s", qube, bh_power_state_name(state),
                                                    reason ? ": " : "", reason ? reason : ""));
    if (g_test_verbose())
        g_test_message("state: %s", (char *)h->transitions->pdata[h->transitions->len - 1]);
}

static BhBackend *bh_harness_open(BhHarness *h)
{
    g_autoptr(GError) error = NULL;
    BhBackendConfig config = {.state_dir = h->state,
                              .runtime_dir = h->runtime,
                              .verbose = g_test_verbose(),
                              .resolv_conf = h->resolv_conf};
    BhBackend *backend = NULL;
    g_assert_true(bh_backend_open("sandbox", &config, &backend, &error));
    g_assert_no_error(error);
    bh_backend_set_state_func(backend, bh_harness_state_cb, h);
    return backend;
}

/* A failed assertion aborts before the teardown kills the qubes, and a
 * timeout's SIGTERM ends the test the same way: bh-test-reaper, outside our
 * session, ends what is left under h->tmp once this process has ended. */
static void bh_harness_watch(BhHarness *h)
{
    const char *build = g_getenv("BH_BUILD_ROOT");
    g_autofree char *reaper = g_build_filename(build ? build : ".", "tests/integration/bh-test-reaper", NULL);
    g_autofree char *pid = g_strdup_printf("%d", (int)getpid());
    const char *argv[] = {reaper, "--watch", pid, h->tmp, NULL};
    g_autoptr(GError) error = NULL;
    int status = -1;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error) ||
        !g_spawn_check_wait_status(status, &error))
        g_test_message("qubes left by a crash of this test are not ended: %s", error->message);
}

gboolean bh_harness_setup(BhHarness *h)
{
    memset(h, 0, sizeof *h);
    g_autofree char *bwrap = g_find_program_in_path("bwrap");
    if (bwrap == NULL) {
        g_test_skip("bubblewrap is not installed");
        return FALSE;
    }
    h->tmp = g_dir_make_tmp("bh-sandbox-XXXXXX", NULL);
    g_assert_nonnull(h->tmp);
    /* Traversable by the qubes' host uids only where the backend says so. */
    g_chmod(h->tmp, 0755);
    h->state = g_build_filename(h->tmp, "state", NULL);
    h->runtime = g_build_filename(h->tmp, "run", NULL);
    h->home = g_build_filename(h->tmp, "home", NULL);
    g_assert_cmpint(g_mkdir_with_parents(h->state, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(h->runtime, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(h->home, 0700), ==, 0);
    g_setenv("XDG_RUNTIME_DIR", h->runtime, TRUE);
    g_unsetenv("BH_VCHAN_DIR");
    g_setenv("HOME", h->home, TRUE);
    bh_harness_watch(h);
    h->states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    h->transitions = g_ptr_array_new_with_free_func(g_free);
    h->backend = bh_harness_open(h);
    h->agents = bh_agent_set_new(h->backend);
    return TRUE;
}

static void bh_harness_rm(const char *path)
{
    g_autofree char *quoted = g_shell_quote(path);
    g_autofree char *cmd = g_strdup_printf("rm -rf %s", quoted);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
}

void bh_harness_teardown(BhHarness *h)
{
    if (h->tmp == NULL)
        return;
    g_clear_pointer(&h->agents, bh_agent_set_free);
    g_clear_pointer(&h->backend, bh_backend_free);
    bh_harness_spin(50);
    bh_harness_rm(h->tmp);
    g_hash_table_unref(h->states);
    g_ptr_array_unref(h->transitions);
    g_free(h->tmp);
    g_free(h->state);
    g_free(h->runtime);
    g_free(h->home);
}

void bh_harness_restart_backend(BhHarness *h)
{
    g_clear_pointer(&h->agents, bh_agent_set_free);
    g_clear_pointer(&h->backend, bh_backend_free);
    bh_harness_spin(20);
    g_hash_table_remove_all(h->states);
    h->backend = bh_harness_open(h);
    h->agents = bh_agent_set_new(h->backend);
}

void bh_harness_spin(guint ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    while (g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
}

BhBackendQube bh_harness_qube(const BhTestQube *q)
{
    BhBackendQube b = {
        .name = q->name,
        .qid = q->qid,
        .klass = q->klass ? q->klass : "AppVM",
        .label = "red",
        .template_name = q->template_name,
        .root_template = q->root_template,
        .netvm = q->netvm,
        .provides_network = q->provides_network,
        .uplink = q->uplink,
        .uplink_host_loopback = q->uplink_host_loopback,
        .ipv6 = q->ipv6,
        .disposable = q->disposable,
        .root_path = q->root_path ? q->root_path : "",
        .root_readonly = q->root_readonly,
        .memory_mib = q->memory_mib ? q->memory_mib : 400,
        .maxmem_mib = q->maxmem_mib ? q->maxmem_mib : 4000,
        .vcpus = 2,
        .private_mib = q->private_mib,
    };
    return b;
}

gboolean bh_harness_create(BhHarness *h, const BhTestQube *q, GError **error)
{
    BhBackendQube b = bh_harness_qube(q);
    return bh_backend_create_volumes(h->backend, &b, error);
}

typedef struct {
    BhBackend *backend; /* tasks carry no source object */
    BhAgentSet *agents;
    gboolean done;
    gboolean ok;
    int status;
    GError *error;
} BhWait;

static void bh_harness_started(GObject *source, GAsyncResult *result, gpointer data)
{
    BhWait *w = data;
    w->ok = bh_backend_start_finish(w->backend, result, &w->error);
    w->done = TRUE;
}

static void bh_harness_wait(BhWait *w)
{
    while (!w->done)
        g_main_context_iteration(NULL, TRUE);
}

static void bh_harness_agent_ready(GObject *source, GAsyncResult *result, gpointer data)
{
    BhWait *w = data;
    w->ok = bh_agent_set_wait_ready_finish(w->agents, result, &w->error);
    w->done = TRUE;
}

/* Started as bulkheadd starts a qube: the backend's start, then its agent. */
gboolean bh_harness_start(BhHarness *h, const BhTestQube *q, GError **error)
{
    BhBackendQube b = bh_harness_qube(q);
    BhWait w = {.backend = h->backend, .agents = h->agents};
    bh_backend_start(h->backend, &b, NULL, bh_harness_started, &w);
    bh_harness_wait(&w);
    if (w.ok) {
        w.done = FALSE;
        bh_agent_set_wait_ready_async(h->agents, q->name, NULL, bh_harness_agent_ready, &w);
        bh_harness_wait(&w);
        if (!w.ok)
            bh_backend_kill(h->backend, q->name, NULL);
    }
    if (w.error)
        g_propagate_error(error, w.error);
    return w.ok;
}

static void bh_harness_shut(GObject *source, GAsyncResult *result, gpointer data)
{
    BhWait *w = data;
    w->ok = bh_backend_shutdown_finish(w->backend, result, &w->error);
    w->done = TRUE;
}

gboolean bh_harness_shutdown(BhHarness *h, const char *qube, guint timeout_s, GError **error)
{
    BhWait w = {.backend = h->backend};
    bh_backend_shutdown(h->backend, qube, timeout_s, NULL, bh_harness_shut, &w);
    bh_harness_wait(&w);
    if (w.error)
        g_propagate_error(error, w.error);
    return w.ok;
}

static void bh_harness_ran(GObject *source, GAsyncResult *result, gpointer data)
{
    BhWait *w = data;
    w->ok = bh_agent_set_run_finish(w->agents, result, &w->status, &w->error);
    w->done = TRUE;
}

static int bh_harness_run_in(BhHarness *h, const char *qube, const char *cmd, int stdin_fd, char **output)
{
    BhWait w = {.backend = h->backend, .agents = h->agents};
    g_autofree char *path = g_build_filename(h->tmp, "run-output", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    BhAgentRun run = {.user = NULL,
                      .commandline = cmd,
                      .stdin_fd = stdin_fd,
                      .stdout_fd = fd,
                      .stderr_fd = fd,
                      .wait = TRUE};
    bh_agent_set_run_async(h->agents, qube, &run, NULL, bh_harness_ran, &w);
    close(fd);
    bh_harness_wait(&w);
    g_autofree char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    if (g_test_verbose())
        g_test_message("[%s] $ %s -> %d%s\n%s", qube, cmd, w.ok ? w.status : -1,
                       w.error ? w.error->message : "", text ? text : "");
    if (output)
        *output = g_steal_pointer(&text);
    if (!w.ok) {
        g_test_message("run in %s failed: %s", qube, w.error->message);
        g_error_free(w.error);
        return -1;
    }
    return w.status;
}

int bh_harness_run(BhHarness *h, const char *qube, const char *cmd, char **output)
{
    return bh_harness_run_in(h, qube, cmd, -1, output);
}

char *bh_harness_run_out(BhHarness *h, const char *qube, const char *cmd)
{
    char *out = NULL;
    int status = bh_harness_run(h, qube, cmd, &out);
    if (status != 0)
        g_test_message("[%s] %s -> %d: %s", qube, cmd, status, out ? out : "");
    return out ? g_strstrip(out) : g_strdup("");
}

BhPowerState bh_harness_state(BhHarness *h, const char *qube)
{
    gpointer v;
    if (!g_hash_table_lookup_extended(h->states, qube, NULL, &v))
        return BH_POWER_HALTED;
    return (BhPowerState)GPOINTER_TO_INT(v);
}

gboolean bh_harness_wait_state(BhHarness *h, const char *qube, BhPowerState state, guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (bh_harness_state(h, qube) != state) {
        if (g_get_monotonic_time() > end)
            return FALSE;
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(2000);
    }
    return TRUE;
}

const char *bh_harness_reason(BhHarness *h, const char *qube, BhPowerState state)
{
    g_autofree char *prefix = g_strdup_printf("%s %s: ", qube, bh_power_state_name(state));
    for (guint i = h->transitions->len; i > 0; i--) {
        const char *t = h->transitions->pdata[i - 1];
        if (g_str_has_prefix(t, prefix))
            return t + strlen(prefix);
    }
    return NULL;
}

char *bh_harness_private_path(BhHarness *h, const char *qube, const char *name)
{
    /* The home is a volume mounted only in the qube's own namespace
     * (docs/sandbox.md): reach it through the init's root. */
    pid_t init = bh_sandbox_init_pid(h->backend, qube);
    if (init > 0)
        return g_strdup_printf("/proc/%d/root%s/%s", (int)init, BH_SANDBOX_HOME, name);
    return g_build_filename(h->state, "qubes", qube, "private", name, NULL);
}

void bh_harness_put_data(BhHarness *h, const char *qube, const char *name, const void *data, gsize len,
                         unsigned mode)
{
    /* Written by the qube itself, as its own file. */
    g_autofree char *path = g_build_filename(h->tmp, "put-input", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_set_contents(path, data, (gssize)len, &error));
    g_assert_no_error(error);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_autofree char *quoted = g_shell_quote(name);
    g_autofree char *cmd = g_strdup_printf("cat > %s && chmod %o %s", quoted, mode, quoted);
    g_assert_cmpint(bh_harness_run_in(h, qube, cmd, fd, NULL), ==, 0);
    close(fd);
}

void bh_harness_put(BhHarness *h, const char *qube, const char *name, const char *content)
{
    bh_harness_put_data(h, qube, name, content, strlen(content), 0644);
}

static const char bh_probe_py[] =
    "import errno, socket, sys\n"
    "kind = sys.argv[1]\n"
    "try:\n"
    "    if kind == 'tcp':\n"
    "        t = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0\n"
    "        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=t)\n"
    "    else:\n"
    "        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    "        s.settimeout(2)\n"
    "        s.connect(('\\0' if kind == 'abstract' else '') + sys.argv[2])\n"
    "    print('connected')\n"
    "except OSError as e:\n"
    "    print(errno.errorcode.get(e.errno, 'timeout') if e.errno else 'timeout')\n";

void bh_harness_put_probe(BhHarness *h, const char *qube)
{
    bh_harness_put(h, qube, "probe.py", bh_probe_py);
}
