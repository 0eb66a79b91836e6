/* test-daemon.c — BhDaemon's power-state handling over real D-Bus.
 *
 * The real daemon object and store, exported on the private session bus of
 * the dbus-run-session that meson runs this under, called through a second
 * connection exactly as the CLI calls it. Power methods
 * need a backend; the sandbox and xen backends are other issues, so this
 * file drives the daemon through a scripted backend implementing backend.h
 * in-process (it reports transitions the way the contract says, and runs
 * the real bulkhead-agent for each running qube on the socket vchan, which
 * the daemon's agent set reaches for Run). What is tested is the daemon: the netvm
 * start chain, waiting, refusals by state, disposables' clean-up, fd passing,
 * rollbacks, and the state-directory lock.
 */
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulkhead/vchan.h>

#include "backend.h"
#include "bh-daemon.h"
#include "bh-dbus-error.h"

/* ---- the scripted backend ------------------------------------------------- */

typedef struct {
    BhBackend base;
    GHashTable *states; /* name -> GINT_TO_POINTER(BhPowerState) */
    GString *log;       /* "start:work;" ... in call order */
    char *fail_start;   /* qubes whose name starts so fail to start */
    char *stuck_start;  /* ... so fail to start but stay Transient (breaking backend.h) */
    GHashTable *agents; /* name -> TbAgent*: the real bulkhead-agent of a running qube */
    char *mute_agent;   /* qubes whose name starts so run no agent (a silent one) */
    char *late_agent;   /* ... so get theirs late_ms after Running (a Xen domU boots first) */
    guint late_ms;
    int next_domid;
    struct { /* copy of what the last start was told */
        char *name, *klass, *template_name, *root_template, *netvm, *root_path;
        gboolean root_readonly, disposable;
        guint memory_mib;
        char *services; /* joined with spaces */
    } last;
} TestBackend;

static void tb_forget_last(TestBackend *tb)
{
    g_free(tb->last.name);
    g_free(tb->last.klass);
    g_free(tb->last.template_name);
    g_free(tb->last.root_template);
    g_free(tb->last.netvm);
    g_free(tb->last.root_path);
    g_free(tb->last.services);
}

static void tb_remember(TestBackend *tb, const BhBackendQube *q)
{
    tb_forget_last(tb);
    tb->last.name = g_strdup(q->name);
    tb->last.klass = g_strdup(q->klass);
    tb->last.template_name = g_strdup(q->template_name);
    tb->last.root_template = g_strdup(q->root_template);
    tb->last.netvm = g_strdup(q->netvm);
    tb->last.root_path = g_strdup(q->root_path);
    tb->last.root_readonly = q->root_readonly;
    tb->last.disposable = q->disposable;
    tb->last.memory_mib = q->memory_mib;
    tb->last.services = q->services != NULL ? g_strjoinv(" ", (char **)q->services) : g_strdup("");
}

typedef struct {
    GPid pid;
    int domid;
    guint late_id; /* the late agent's start, pending */
} TbAgent;

static void tb_agent_free(gpointer data)
{
    TbAgent *a = data;
    g_clear_handle_id(&a->late_id, g_source_remove);
    if (a->pid > 0) {
        kill(a->pid, SIGKILL);
        waitpid(a->pid, NULL, 0);
    }
    g_free(a);
}

/* The agent dies with the test, even one that aborts. */
static void tb_agent_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static void tb_agent_spawn(TbAgent *a)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *domid = g_strdup_printf("%d", a->domid);
    g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "BH_VCHAN_DOMID", domid, TRUE);
    const char *argv[] = {BH_RPC_AGENT, NULL};
    g_spawn_async(NULL, (char **)argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, tb_agent_setup, NULL, &a->pid,
                  &error);
    g_assert_no_error(error);
}

static gboolean tb_agent_late(gpointer data)
{
    TbAgent *a = data;
    a->late_id = 0;
    tb_agent_spawn(a);
    return G_SOURCE_REMOVE;
}

/* A running qube has its real agent, serving its own domain id; a stopped
 * one has none, as in a real qube. */
static void tb_set(TestBackend *tb, const char *name, BhPowerState state)
{
    g_hash_table_insert(tb->states, g_strdup(name), GINT_TO_POINTER(state));
    if (state == BH_POWER_RUNNING && !g_hash_table_contains(tb->agents, name)) {
        TbAgent *a = g_new0(TbAgent, 1);
        a->domid = tb->next_domid++;
        a->pid = 0;
        g_hash_table_insert(tb->agents, g_strdup(name), a);
        if (tb->mute_agent && g_str_has_prefix(name, tb->mute_agent)) {
            bh_backend_notify_state(&tb->base, name, state, NULL);
            return;
        }
        if (tb->late_agent && g_str_has_prefix(name, tb->late_agent))
            a->late_id = g_timeout_add(tb->late_ms, tb_agent_late, a);
        else
            tb_agent_spawn(a);
    } else if (state != BH_POWER_RUNNING && state != BH_POWER_PAUSED) {
        g_hash_table_remove(tb->agents, name);
    }
    bh_backend_notify_state(&tb->base, name, state, NULL);
}

static BhPowerState tb_get_state(BhBackend *backend, const char *qube)
{
    TestBackend *tb = (TestBackend *)backend;
    return (BhPowerState)GPOINTER_TO_INT(g_hash_table_lookup(tb->states, qube));
}

static gboolean tb_create_volumes(BhBackend *backend, const BhBackendQube *qube, GError **error)
{
    TestBackend *tb = (TestBackend *)backend;
    if (g_str_has_prefix(qube->name, "novol")) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "disk full for %s", qube->name);
        return FALSE;
    }
    g_string_append_printf(tb->log, "volumes:%s;", qube->name);
    return TRUE;
}

static gboolean tb_clone_volumes(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                 GError **error)
{
    TestBackend *tb = (TestBackend *)backend;
    if (g_str_has_prefix(qube->name, "noclone")) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "%s is left from an earlier qube and cannot be moved aside", qube->name);
        return FALSE;
    }
    g_string_append_printf(tb->log, "clone:%s>%s;", source, qube->name);
    return TRUE;
}

static gboolean tb_remove_volumes(BhBackend *backend, const char *qube, GError **error)
{
    TestBackend *tb = (TestBackend *)backend;
    g_string_append_printf(tb->log, "remove:%s;", qube);
    return TRUE;
}

typedef struct {
    TestBackend *tb;
    GTask *task;
    char *name;
} TbOp;

static void tb_op_free(TbOp *op)
{
    g_object_unref(op->task);
    g_free(op->name);
    g_free(op);
}

/* Transitions happen on a later main-loop iteration, as with a real backend. */
static gboolean tb_start_idle(gpointer data)
{
    TbOp *op = data;
    if (op->tb->stuck_start && g_str_has_prefix(op->name, op->tb->stuck_start)) {
        g_task_return_new_error(op->task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                "the test backend leaves %s half-started", op->name);
    } else if (op->tb->fail_start && g_str_has_prefix(op->name, op->tb->fail_start)) {
        tb_set(op->tb, op->name, BH_POWER_HALTED);
        g_task_return_new_error(op->task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                "the test backend refuses to start %s", op->name);
    } else {
        tb_set(op->tb, op->name, BH_POWER_RUNNING);
        g_task_return_boolean(op->task, TRUE);
    }
    tb_op_free(op);
    return G_SOURCE_REMOVE;
}

static void tb_start(BhBackend *backend, const BhBackendQube *qube, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
    TestBackend *tb = (TestBackend *)backend;
    TbOp *op = g_new0(TbOp, 1);
    op->tb = tb;
    op->task = g_task_new(NULL, cancellable, callback, user_data);
    op->name = g_strdup(qube->name);
    /* The netvm must already run: the daemon's job. */
    if (qube->netvm)
        g_assert_cmpint(tb_get_state(backend, qube->netvm), ==, BH_POWER_RUNNING);
    g_string_append_printf(tb->log, "start:%s;", qube->name);
    tb_remember(tb, qube);
    tb_set(tb, qube->name, BH_POWER_TRANSIENT);
    g_idle_add(tb_start_idle, op);
}

static gboolean tb_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

static gboolean tb_shutdown_idle(gpointer data)
{
    TbOp *op = data;
    tb_set(op->tb, op->name, BH_POWER_HALTED);
    g_task_return_boolean(op->task, TRUE);
    tb_op_free(op);
    return G_SOURCE_REMOVE;
}

static void tb_shutdown(BhBackend *backend, const char *qube, guint timeout_s, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
    TestBackend *tb = (TestBackend *)backend;
    TbOp *op = g_new0(TbOp, 1);
    op->tb = tb;
    op->task = g_task_new(NULL, cancellable, callback, user_data);
    op->name = g_strdup(qube);
    g_string_append_printf(tb->log, "shutdown:%s/%u;", qube, timeout_s);
    tb_set(tb, qube, BH_POWER_HALTING);
    g_timeout_add(50, tb_shutdown_idle, op);
}

static gboolean tb_halt_idle(gpointer data)
{
    TbOp *op = data;
    tb_set(op->tb, op->name, BH_POWER_HALTED);
    g_free(op->name);
    g_free(op);
    return G_SOURCE_REMOVE;
}

static gboolean tb_kill(BhBackend *backend, const char *qube, GError **error)
{
    TestBackend *tb = (TestBackend *)backend;
    TbOp *op = g_new0(TbOp, 1);
    op->tb = tb;
    op->name = g_strdup(qube);
    g_string_append_printf(tb->log, "kill:%s;", qube);
    g_idle_add(tb_halt_idle, op); /* Halted reported later: the daemon shows Dying first */
    return TRUE;
}

static gboolean tb_pause(BhBackend *backend, const char *qube, GError **error)
{
    tb_set((TestBackend *)backend, qube, BH_POWER_PAUSED);
    return TRUE;
}

static gboolean tb_unpause(BhBackend *backend, const char *qube, GError **error)
{
    tb_set((TestBackend *)backend, qube, BH_POWER_RUNNING);
    return TRUE;
}

static gboolean tb_agent_address(BhBackend *backend, const char *qube, BhBackendAgentAddress *out,
                                 GError **error)
{
    TbAgent *a = g_hash_table_lookup(((TestBackend *)backend)->agents, qube);
    g_assert_nonnull(a);
    out->transport = BH_VCHAN_SOCKET;
    out->domid = a->domid;
    out->ready_timeout_ms = a->pid > 0 || a->late_id != 0 ? 30000 : 800;
    return TRUE;
}

static void tb_free(BhBackend *backend)
{
    TestBackend *tb = (TestBackend *)backend;
    g_hash_table_unref(tb->agents);
    g_hash_table_unref(tb->states);
    g_string_free(tb->log, TRUE);
    g_free(tb->fail_start);
    g_free(tb->stuck_start);
    g_free(tb->mute_agent);
    g_free(tb->late_agent);
    tb_forget_last(tb);
    bh_backend_clear(backend);
    g_free(tb);
}

static const BhBackendOps tb_ops = {
    .create_volumes = tb_create_volumes,
    .clone_volumes = tb_clone_volumes,
    .remove_volumes = tb_remove_volumes,
    .start = tb_start,
    .start_finish = tb_finish,
    .shutdown = tb_shutdown,
    .shutdown_finish = tb_finish,
    .kill = tb_kill,
    .pause = tb_pause,
    .unpause = tb_unpause,
    .get_state = tb_get_state,
    .agent_address = tb_agent_address,
    .free = tb_free,
};

static TestBackend *tb_new(const char *state_dir)
{
    TestBackend *tb = g_new0(TestBackend, 1);
    BhBackendConfig config = {.state_dir = state_dir, .runtime_dir = state_dir};
    bh_backend_init(&tb->base, &tb_ops, "scripted", &config);
    tb->states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    tb->log = g_string_new(NULL);
    tb->agents = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, tb_agent_free);
    tb->next_domid = 40;
    /* The agents' sockets, and where the daemon's agent set looks for them. */
    g_autofree char *vchan = g_build_filename(state_dir, "vchan", NULL);
    g_setenv("BH_VCHAN_DIR", vchan, TRUE);
    g_setenv("BH_VCHAN_TRANSPORT", "socket", TRUE);
    return tb;
}

/* ---- fixture: daemon on a private bus, a client connection ---------------- */

typedef struct {
    char *state_dir;
    TestBackend *tb; /* owned by the daemon */
    BhDaemon *daemon;
    GDBusConnection *server;
    GDBusConnection *client;
    GString *signals; /* "StateChanged work Running;" ... */
    guint subscription;
} Fixture;

static void on_signal(GDBusConnection *connection, const char *sender, const char *path,
                      const char *interface, const char *signal, GVariant *params, gpointer user_data)
{
    Fixture *f = user_data;
    g_string_append(f->signals, signal);
    GVariantIter iter;
    GVariant *child;
    g_variant_iter_init(&iter, params);
    while ((child = g_variant_iter_next_value(&iter))) {
        g_string_append_printf(f->signals, " %s", g_variant_get_string(child, NULL));
        g_variant_unref(child);
    }
    g_string_append_c(f->signals, ';');
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, NULL, &error);
    g_assert_no_error(error);
    f->state_dir = g_dir_make_tmp("bh-test-daemon-XXXXXX", &error);
    g_assert_no_error(error);
    f->tb = tb_new(f->state_dir);
    /* data: the app list's time, when the test shortens it. */
    BhDaemonConfig config = {.state_dir = f->state_dir,
                             .backend_instance = &f->tb->base,
                             .applist_timeout_s = GPOINTER_TO_UINT(data)};
    f->daemon = bh_daemon_new(&config, &error);
    g_assert_no_error(error);

    f->server = g_dbus_connection_new_for_address_sync(address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                           G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(bh_daemon_export(f->daemon, f->server, &error));
    g_assert_no_error(error);
    f->client = g_dbus_connection_new_for_address_sync(address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                           G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
    g_assert_no_error(error);
    f->signals = g_string_new(NULL);
    f->subscription = g_dbus_connection_signal_subscribe(
        f->client, g_dbus_connection_get_unique_name(f->server), BH_DBUS_INTERFACE, NULL, BH_DBUS_PATH, NULL,
        G_DBUS_SIGNAL_FLAGS_NONE, on_signal, f, NULL);
}

static void remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            remove_tree(path);
        else
            g_unlink(path);
    }
    g_rmdir(dir);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_dbus_connection_signal_unsubscribe(f->client, f->subscription);
    /* Stop as bulkheadd does before it exits: work still in flight (an
     * autostart waiting for an agent, an app-list read) holds references to
     * the daemon, and would otherwise go on in the next test's main loop
     * against this test's removed directory (seen: a 30 s agent wait of
     * /daemon/autostart failing in the middle of the next test). */
    bh_daemon_stop(f->daemon);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_clear_object(&f->daemon);
    g_dbus_connection_close_sync(f->client, NULL, NULL);
    g_dbus_connection_close_sync(f->server, NULL, NULL);
    g_clear_object(&f->client);
    g_clear_object(&f->server);
    g_string_free(f->signals, TRUE);
    remove_tree(f->state_dir);
    g_free(f->state_dir);
}

typedef struct {
    gboolean done;
    GVariant *reply;
    GUnixFDList *fds;
    GError *error;
} CallResult;

static void call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    CallResult *r = user_data;
    r->reply = g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(source), &r->fds, result,
                                                               &r->error);
    r->done = TRUE;
}

/* Calls a method and runs the main loop (the daemon's too) until it replies.
 * Generous: a start waits for the qube's real agent, on 2 shared cores. */
static GVariant *call_fds(Fixture *f, const char *method, GVariant *params, GUnixFDList *fds, GError **error)
{
    CallResult r = {0};
    g_dbus_connection_call_with_unix_fd_list(f->client, g_dbus_connection_get_unique_name(f->server),
                                             BH_DBUS_PATH, BH_DBUS_INTERFACE, method, params, NULL,
                                             G_DBUS_CALL_FLAGS_NONE, 30000, fds, NULL, call_done, &r);
    while (!r.done)
        g_main_context_iteration(NULL, TRUE);
    g_clear_object(&r.fds);
    if (r.error) {
        g_dbus_error_strip_remote_error(r.error);
        g_propagate_error(error, r.error);
    }
    return r.reply;
}

static GVariant *call(Fixture *f, const char *method, GVariant *params, GError **error)
{
    return call_fds(f, method, params, NULL, error);
}

static void call_ok(Fixture *f, const char *method, GVariant *params)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = call(f, method, params, &error);
    g_assert_no_error(error);
}

static void call_fails(Fixture *f, const char *method, GVariant *params, int code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = call(f, method, params, &error);
    g_assert_null(reply);
    g_assert_error(error, BH_DBUS_ERROR, code);
    if (fragment && !strstr(error->message, fragment))
        g_error("'%s' does not contain '%s'", error->message, fragment);
}

static char *state_of(Fixture *f, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = call(f, "GetState", g_variant_new("(s)", name), &error);
    if (reply == NULL)
        return g_strdup(error->message);
    char *state = NULL;
    g_variant_get(reply, "(s)", &state);
    return state;
}

static void assert_state(Fixture *f, const char *name, const char *want)
{
    g_autofree char *state = state_of(f, name);
    g_assert_cmpstr(state, ==, want);
}

/* Iterates until the qube is in the state (backends report asynchronously). */
static void wait_for_state(Fixture *f, const char *name, const char *want)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        g_autofree char *state = state_of(f, name);
        if (g_str_equal(state, want))
            return;
        if (g_get_monotonic_time() > deadline)
            g_error("%s is %s, not %s", name, state, want);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

/* "dom0 debian-12 … work " from ListQubes. */
static char *qube_names(Fixture *f)
{
    g_autoptr(GVariant) reply = call(f, "ListQubes", NULL, NULL);
    g_autoptr(GVariant) list = g_variant_get_child_value(reply, 0);
    GString *names = g_string_new(NULL);
    GVariantIter iter;
    GVariant *dict;
    g_variant_iter_init(&iter, list);
    while ((dict = g_variant_iter_next_value(&iter))) {
        const char *n = NULL;
        if (g_variant_lookup(dict, "name", "&s", &n))
            g_string_append_printf(names, "%s ", n);
        g_variant_unref(dict);
    }
    return g_string_free(names, FALSE);
}

/* One key of one qube's ListQubes entry, as text ("" for none). */
static char *listed_string(Fixture *f, const char *qube, const char *key)
{
    g_autoptr(GVariant) reply = call(f, "ListQubes", NULL, NULL);
    g_autoptr(GVariant) list = g_variant_get_child_value(reply, 0);
    GVariantIter iter;
    GVariant *dict;
    char *value = NULL;
    g_variant_iter_init(&iter, list);
    while (value == NULL && (dict = g_variant_iter_next_value(&iter))) {
        const char *n = NULL;
        if (g_variant_lookup(dict, "name", "&s", &n) && g_str_equal(n, qube) &&
            !g_variant_lookup(dict, key, "s", &value))
            value = g_strdup("");
        g_variant_unref(dict);
    }
    return value;
}

static gboolean qube_listed(Fixture *f, const char *name)
{
    g_autofree char *names = qube_names(f);
    g_autofree char *needle = g_strdup_printf(" %s ", name);
    g_autofree char *haystack = g_strdup_printf(" %s", names);
    return strstr(haystack, needle) != NULL;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_start_chain(Fixture *f, gconstpointer data)
{
    call_ok(f, "Start", g_variant_new("(s)", "work"));
    /* work's netvm is sys-firewall, whose netvm is sys-net: started in that order. */
    g_assert_cmpstr(f->tb->log->str, ==, "start:sys-net;start:sys-firewall;start:work;");
    for (const char *const *q = (const char *const[]){"sys-net", "sys-firewall", "work", NULL}; *q; q++)
        assert_state(f, *q, "Running");
    assert_state(f, "personal", "Halted");
    g_assert_nonnull(strstr(f->signals->str, "StateChanged work Transient;"));
    g_assert_nonnull(strstr(f->signals->str, "StateChanged work Running;"));
    call_fails(f, "Start", g_variant_new("(s)", "work"), BH_DBUS_ERROR_NOT_HALTED, "already running");
    call_fails(f, "Start", g_variant_new("(s)", "dom0"), BH_DBUS_ERROR_PERMISSION, "dom0");
    call_fails(f, "Start", g_variant_new("(s)", "nosuch"), BH_DBUS_ERROR_NO_SUCH_QUBE, "nosuch");

    /* A second qube behind the same netvms starts only itself. */
    g_string_truncate(f->tb->log, 0);
    call_ok(f, "Start", g_variant_new("(s)", "personal"));
    g_assert_cmpstr(f->tb->log->str, ==, "start:personal;");
}

static void test_running_refusals(Fixture *f, gconstpointer data)
{
    call_ok(f, "Start", g_variant_new("(s)", "vault"));
    call_fails(f, "Remove", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_NOT_HALTED, "shut it down first");
    call_fails(f, "SetProperty", g_variant_new("(sss)", "vault", "name", "vault2"), BH_DBUS_ERROR_NOT_HALTED,
               "rename");
    call_fails(f, "Clone", g_variant_new("(ss)", "vault", "vault2"), BH_DBUS_ERROR_NOT_HALTED, "clone");
    /* Other properties may change while it runs. */
    call_ok(f, "SetProperty", g_variant_new("(sss)", "vault", "memory", "800"));
    g_assert_true(qube_listed(f, "vault"));
    g_assert_false(qube_listed(f, "vault2"));
}

static void test_shutdown_wait(Fixture *f, gconstpointer data)
{
    call_ok(f, "Start", g_variant_new("(s)", "vault"));
    call_ok(f, "Shutdown", g_variant_new("(sbu)", "vault", TRUE, 0));
    /* The reply came only once it was halted; timeout 0 = its shutdown_timeout. */
    assert_state(f, "vault", "Halted");
    g_assert_nonnull(strstr(f->tb->log->str, "shutdown:vault/60;"));
    g_assert_nonnull(strstr(f->signals->str, "StateChanged vault Halting;StateChanged vault Halted;"));
    call_ok(f, "Shutdown", g_variant_new("(sbu)", "vault", TRUE, 5)); /* already down: fine */

    /* Without wait the reply comes first; a second caller with wait joins. */
    call_ok(f, "Start", g_variant_new("(s)", "vault"));
    call_ok(f, "Shutdown", g_variant_new("(sbu)", "vault", FALSE, 5000));
    assert_state(f, "vault", "Halting");
    g_assert_nonnull(strstr(f->tb->log->str, "shutdown:vault/3600;")); /* capped */
    call_ok(f, "Shutdown", g_variant_new("(sbu)", "vault", TRUE, 5));
    assert_state(f, "vault", "Halted");
    call_ok(f, "Remove", g_variant_new("(s)", "vault"));
    g_assert_nonnull(strstr(f->tb->log->str, "remove:vault;"));
}

static void test_pause_kill(Fixture *f, gconstpointer data)
{
    call_fails(f, "Pause", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_NOT_RUNNING, "Halted");
    call_fails(f, "Kill", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_NOT_RUNNING, "Halted");
    call_ok(f, "Start", g_variant_new("(s)", "vault"));
    call_ok(f, "Pause", g_variant_new("(s)", "vault"));
    assert_state(f, "vault", "Paused");
    call_fails(f, "Pause", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_NOT_RUNNING, "Paused");
    call_fails(f, "Start", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_NOT_HALTED, "unpause");
    call_ok(f, "Unpause", g_variant_new("(s)", "vault"));
    call_fails(f, "Unpause", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_NOT_PAUSED, "Running");
    call_ok(f, "Kill", g_variant_new("(s)", "vault"));
    wait_for_state(f, "vault", "Halted");
    g_assert_nonnull(strstr(f->signals->str, "StateChanged vault Dying;StateChanged vault Halted;"));
}

static void test_disposable(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = call(f, "CreateDisposable", g_variant_new("(s)", ""), &error);
    g_assert_no_error(error);
    const char *name = NULL;
    g_variant_get(reply, "(&s)", &name);
    g_assert_true(g_str_has_prefix(name, "disp"));
    assert_state(f, name, "Running");
    g_assert_true(qube_listed(f, name));
    g_autofree char *added = g_strdup_printf("QubeAdded %s;", name);
    g_assert_nonnull(strstr(f->signals->str, added));
    g_autofree char *volumes = g_strdup_printf("volumes:%s;", name);
    g_assert_nonnull(strstr(f->tb->log->str, volumes));

    /* Halting it discards it: store entry and volumes. */
    call_ok(f, "Kill", g_variant_new("(s)", name));
    g_autofree char *removed = g_strdup_printf("QubeRemoved %s;", name);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!strstr(f->signals->str, removed) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_nonnull(strstr(f->signals->str, removed));
    g_assert_false(qube_listed(f, name));
    g_autofree char *gone = g_strdup_printf("remove:%s;", name);
    g_assert_nonnull(strstr(f->tb->log->str, gone));

    call_fails(f, "CreateDisposable", g_variant_new("(s)", "work"), BH_DBUS_ERROR_NOT_DISPVM_TEMPLATE,
               "work");
}

static void test_start_failure(Fixture *f, gconstpointer data)
{
    f->tb->fail_start = g_strdup("vault");
    call_fails(f, "Start", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_BACKEND,
               "the test backend refuses to start vault");
    assert_state(f, "vault", "Halted");
    /* Told to every client, with the reason (the shell's notice). */
    g_assert_nonnull(strstr(f->signals->str, "StartFailed vault the test backend refuses to start vault;"));

    /* A netvm that fails takes its dependant down with a message naming it. */
    g_free(f->tb->fail_start);
    f->tb->fail_start = g_strdup("sys-net");
    call_fails(f, "Start", g_variant_new("(s)", "work"), BH_DBUS_ERROR_BACKEND,
               "its netvm sys-firewall did not start");
    assert_state(f, "work", "Halted");
    g_assert_nonnull(
        strstr(f->signals->str, "StartFailed sys-net the test backend refuses to start sys-net;"));
    g_assert_nonnull(strstr(f->signals->str, "StartFailed work cannot start work: its netvm sys-firewall did "
                                             "not start: "));

    /* A disposable that fails to start is not left behind. */
    g_free(f->tb->fail_start);
    f->tb->fail_start = g_strdup("disp");
    g_autofree char *before = qube_names(f);
    call_fails(f, "CreateDisposable", g_variant_new("(s)", "default-dvm"), BH_DBUS_ERROR_BACKEND,
               "refuses to start disp");
    g_autofree char *after = qube_names(f);
    g_assert_cmpstr(before, ==, after);
    g_assert_nonnull(strstr(f->signals->str, "QubeRemoved disp"));

    /* A backend that answers a failed start while it still holds the qube:
     * the daemon kills what is left; the qube is Dying until the backend
     * reports it gone, never Halted while it runs. */
    f->tb->stuck_start = g_strdup("vault");
    call_fails(f, "Start", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_BACKEND, "leaves vault half-started");
    g_assert_nonnull(strstr(f->tb->log->str, "kill:vault;"));
    g_assert_nonnull(strstr(f->signals->str, "StartFailed vault the test backend leaves vault half-started;"
                                             "StateChanged vault Dying;"));
    wait_for_state(f, "vault", "Halted");
}

/* A started qube whose agent never answers is of no use and may be hostile:
 * the daemon kills it and the start fails saying why. The control: with an
 * agent, the same qube starts and runs a command through it. */
static void test_agent_silent(Fixture *f, gconstpointer data)
{
    f->tb->mute_agent = g_strdup("vault");
    call_fails(f, "Start", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_BACKEND,
               "vault started but is not ready: the bulkhead-agent of vault did not answer");
    g_assert_nonnull(strstr(f->tb->log->str, "kill:vault;"));
    wait_for_state(f, "vault", "Halted");

    g_clear_pointer(&f->tb->mute_agent, g_free);
    call_ok(f, "Start", g_variant_new("(s)", "vault"));
    assert_state(f, "vault", "Running");
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = call(f, "Run",
                                     g_variant_new("(sss@a{sv})", "vault", "exit 5", g_get_user_name(),
                                                   g_variant_new_parsed("{'wait': <true>}")),
                                     &error);
    g_assert_no_error(error);
    gint32 status = -1;
    g_variant_get(reply, "(i)", &status);
    g_assert_cmpint(status, ==, 5);
}

/* A qube whose agent answers only after its app list's whole time has
 * passed since Running (a Xen domU boots its kernel first; under emulation
 * that took longer than the 30 s): the list's time starts when the agent
 * takes the command, so the real bulkhead-applist in it is read and
 * ListApps (the shell's call) names its one app, with no problem. Before,
 * the time ran from Running and the list was refused as a stall ("did not
 * finish within the time allowed"). The fixture gives the list 3 s; the
 * agent comes 7 s after Running. */
#define LATE_APPLIST_S 3
static void test_apps_late_agent(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *applications = g_build_filename(f->state_dir, "share", "applications", NULL);
    g_autofree char *share = g_build_filename(f->state_dir, "share", NULL);
    g_autofree char *user_share = g_build_filename(f->state_dir, "user-share", NULL);
    g_autofree char *entry = g_build_filename(applications, "bh-late-one.desktop", NULL);
    g_autofree char *applist_dir = g_path_get_dirname(BH_APPLIST);
    g_autofree char *old_path = g_strdup(g_getenv("PATH"));
    g_autofree char *old_dirs = g_strdup(g_getenv("XDG_DATA_DIRS"));
    g_autofree char *old_home = g_strdup(g_getenv("XDG_DATA_HOME"));
    g_autofree char *path = g_strdup_printf("%s:%s", applist_dir, old_path ? old_path : "/usr/bin:/bin");

    g_assert_cmpint(g_mkdir_with_parents(applications, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(user_share, 0700), ==, 0);
    g_file_set_contents(entry, "[Desktop Entry]\nType=Application\nName=Late Qube Tool\nExec=true\n", -1,
                        &error);
    g_assert_no_error(error);
    /* What the qube's agent (and so its bulkhead-applist) is started with. */
    g_setenv("PATH", path, TRUE);
    g_setenv("XDG_DATA_DIRS", share, TRUE);
    g_setenv("XDG_DATA_HOME", user_share, TRUE);

    f->tb->late_agent = g_strdup("work");
    f->tb->late_ms = (LATE_APPLIST_S + 4) * 1000;
    call_ok(f, "SetProperty", g_variant_new("(sss)", "work", "default_user", g_get_user_name()));
    gint64 t0 = g_get_monotonic_time();
    call_ok(f, "Start", g_variant_new("(s)", "work"));
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, (gint64)(LATE_APPLIST_S + 4) * 1000 * 900);

    /* The read after the start ends with a list or a problem. */
    g_autofree char *problem = NULL;
    g_autofree char *source = NULL;
    g_autoptr(GVariant) apps = NULL;
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    for (;;) {
        g_autoptr(GVariant) reply = call(f, "ListApps", g_variant_new("(s)", "work"), &error);
        g_assert_no_error(error);
        g_clear_pointer(&apps, g_variant_unref);
        g_clear_pointer(&source, g_free);
        g_clear_pointer(&problem, g_free);
        g_variant_get(reply, "(@a(sssssbuuay)ss)", &apps, &source, &problem);
        if (g_variant_n_children(apps) > 0 || *problem != '\0')
            break;
        if (g_get_monotonic_time() > deadline)
            g_error("work's app list was neither read nor refused within 60 s");
        g_main_context_iteration(NULL, FALSE);
        g_usleep(20000);
    }
    g_setenv("PATH", old_path, TRUE);
    if (old_dirs != NULL)
        g_setenv("XDG_DATA_DIRS", old_dirs, TRUE);
    else
        g_unsetenv("XDG_DATA_DIRS");
    if (old_home != NULL)
        g_setenv("XDG_DATA_HOME", old_home, TRUE);
    else
        g_unsetenv("XDG_DATA_HOME");

    g_assert_cmpstr(problem, ==, "");
    g_assert_cmpstr(source, ==, "work");
    g_assert_cmpuint(g_variant_n_children(apps), ==, 1);
    const char *id = NULL, *name = NULL;
    g_variant_get_child(apps, 0, "(&s&ssssbuu@ay)", &id, &name, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    g_assert_cmpstr(id, ==, "bh-late-one.desktop");
    g_assert_cmpstr(name, ==, "Late Qube Tool");
}

/* A qube the backend already runs when the daemon first looks at it (a xen
 * domain that outlived an earlier daemon: no transition is ever reported)
 * gets its agent connected all the same, and Run reaches it. */
static void test_found_running(Fixture *f, gconstpointer data)
{
    BhBackendStateFunc func = f->tb->base.state_changed;
    gpointer func_data = f->tb->base.state_changed_data;
    bh_backend_set_state_func(&f->tb->base, NULL, NULL);
    tb_set(f->tb, "personal", BH_POWER_RUNNING); /* its agent starts; nobody is told */
    bh_backend_set_state_func(&f->tb->base, func, func_data);

    GVariantDict options;
    g_variant_dict_init(&options, NULL);
    g_variant_dict_insert(&options, "wait", "b", TRUE);
    g_variant_dict_insert(&options, "autostart", "b", FALSE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = call(
        f, "Run",
        g_variant_new("(sss@a{sv})", "personal", "exit 4", g_get_user_name(), g_variant_dict_end(&options)),
        &error);
    g_assert_no_error(error);
    gint32 status = -1;
    g_variant_get(reply, "(i)", &status);
    g_assert_cmpint(status, ==, 4);
    g_assert_null(strstr(f->tb->log->str, "start:personal;"));
}

static void test_volume_rollback(Fixture *f, gconstpointer data)
{
    call_fails(f, "Create",
               g_variant_new("(ssss@a{ss})", "AppVM", "novol1", "red", "",
                             g_variant_new_array(G_VARIANT_TYPE("{ss}"), NULL, 0)),
               BH_DBUS_ERROR_BACKEND, "disk full for novol1");
    g_assert_false(qube_listed(f, "novol1"));
    g_assert_null(strstr(f->signals->str, "QubeAdded novol1"));
    /* The undo forgets the qube and leaves its volumes to the backend: what
     * is in its place may be a dead qube's leftover the backend could not
     * set aside, the only copy of a user's files. */
    g_assert_null(strstr(f->tb->log->str, "remove:novol1;"));
    call_fails(f, "Clone", g_variant_new("(ss)", "work", "noclone1"), BH_DBUS_ERROR_BACKEND,
               "cannot be moved aside");
    g_assert_false(qube_listed(f, "noclone1"));
    g_assert_null(strstr(f->tb->log->str, "remove:noclone1;"));

    call_ok(f, "Clone", g_variant_new("(ss)", "work", "work2"));
    g_assert_nonnull(strstr(f->tb->log->str, "clone:work>work2;"));
    g_assert_true(qube_listed(f, "work2"));
}

/* CheckCreate: the model's answer for each field a form fills, nothing
 * created, no volume made, no signal; the control: Create with the same
 * arguments does all three. */
static void test_check_create(Fixture *f, gconstpointer data)
{
#define ARGS(klass, name, label, tmpl, netvm)                                                                \
    g_variant_new("(ssss@a{ss})", klass, name, label, tmpl,                                                  \
                  g_variant_new_parsed("@a{ss} {'netvm': %s}", netvm))
    call_fails(f, "CheckCreate", ARGS("AppVM", "9lives", "purple", "", "none"), BH_DBUS_ERROR_INVALID_NAME,
               "letter first");
    call_fails(f, "CheckCreate", ARGS("AppVM", "work", "purple", "", "none"), BH_DBUS_ERROR_NAME_IN_USE,
               "work");
    call_fails(f, "CheckCreate", ARGS("AppVM", "px", "purple", "work", "none"), BH_DBUS_ERROR_NOT_A_TEMPLATE,
               "work");
    call_fails(f, "CheckCreate", ARGS("AppVM", "px", "purple", "", "personal"),
               BH_DBUS_ERROR_NOT_NETWORK_PROVIDER, "personal");
    call_fails(f, "CheckCreate", ARGS("Teapot", "px", "purple", "", "none"), BH_DBUS_ERROR_INVALID_VALUE,
               "unknown class");

    call_ok(f, "CheckCreate", ARGS("AppVM", "project-x", "purple", "", "none"));
    g_assert_false(qube_listed(f, "project-x"));
    g_assert_null(strstr(f->signals->str, "QubeAdded project-x"));
    g_assert_null(strstr(f->tb->log->str, "volumes:project-x;"));

    call_ok(f, "Create", ARGS("AppVM", "project-x", "purple", "", "none"));
    g_assert_true(qube_listed(f, "project-x"));
    /* ListQubes carries the effective memory and private size (the
     * settings' manager columns); dom0 has neither. */
    g_autofree char *memory = listed_string(f, "project-x", "memory");
    g_autofree char *private_size = listed_string(f, "project-x", "private_size");
    g_autofree char *dom0_memory = listed_string(f, "dom0", "memory");
    g_assert_cmpstr(memory, ==, "400");
    g_assert_cmpstr(private_size, ==, "2048");
    g_assert_cmpstr(dom0_memory, ==, "");
    g_assert_nonnull(strstr(f->signals->str, "QubeAdded project-x"));
    g_assert_nonnull(strstr(f->tb->log->str, "volumes:project-x;"));
    call_fails(f, "CheckCreate", ARGS("AppVM", "project-x", "purple", "", "none"), BH_DBUS_ERROR_NAME_IN_USE,
               "project-x");
#undef ARGS
}

static void test_run_fds(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    int pipefd[2];
    g_assert_cmpint(pipe(pipefd), ==, 0);
    g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
    g_assert_cmpint(g_unix_fd_list_append(fds, pipefd[1], &error), ==, 0);
    close(pipefd[1]);
    GVariantDict options;
    g_variant_dict_init(&options, NULL);
    g_variant_dict_insert(&options, "wait", "b", TRUE);
    g_variant_dict_insert(&options, "stdout", "h", 0);

    /* The agent runs as this test's user: that is the default user that
     * works; another (below) is what proves the default is passed on. */
    const char *me = g_get_user_name();
    call_ok(f, "SetProperty", g_variant_new("(sss)", "vault", "default_user", me));

    /* vault is halted: Run starts it (autostart defaults to on), and the
     * command runs in its agent: output and status come back. */
    g_autoptr(GVariant) reply = call_fds(
        f, "Run",
        g_variant_new("(sss@a{sv})", "vault", "echo hi; id -un; exit 7", "", g_variant_dict_end(&options)),
        fds, &error);
    g_assert_no_error(error);
    gint32 status = -1;
    g_variant_get(reply, "(i)", &status);
    g_assert_cmpint(status, ==, 7);
    char buf[128] = {0};
    gsize got = 0;
    g_autofree char *want = g_strdup_printf("hi\n%s\n", me);
    for (int i = 0; i < 50 && got < strlen(want); i++) {
        ssize_t n = read(pipefd[0], buf + got, sizeof buf - 1 - got);
        g_assert_cmpint(n, >, 0);
        got += (gsize)n;
    }
    close(pipefd[0]);
    g_assert_cmpstr(buf, ==, want);
    assert_state(f, "vault", "Running");

    /* Without wait the status is 0; a named user is passed on. */
    g_autoptr(GVariant) nowait = call(f, "Run",
                                      g_variant_new("(sss@a{sv})", "vault", "true", me,
                                                    g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
                                      &error);
    g_assert_no_error(error);
    g_variant_get(nowait, "(i)", &status);
    g_assert_cmpint(status, ==, 0);
    /* ... and the default user is what the agent is asked for: one it is
     * not refuses (the control above ran with the default that works). */
    call_ok(f, "SetProperty", g_variant_new("(sss)", "vault", "default_user", "bh-nosuchuser"));
    call_fails(f, "Run",
               g_variant_new("(sss@a{sv})", "vault", "true", "",
                             g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
               BH_DBUS_ERROR_FAILED, "bh-nosuchuser");

    GVariantDict no_auto;
    g_variant_dict_init(&no_auto, NULL);
    g_variant_dict_insert(&no_auto, "autostart", "b", FALSE);
    call_fails(f, "Run", g_variant_new("(sss@a{sv})", "personal", "true", "", g_variant_dict_end(&no_auto)),
               BH_DBUS_ERROR_NOT_RUNNING, "personal is Halted");
    call_fails(f, "Run",
               g_variant_new("(sss@a{sv})", "dom0", "true", "",
                             g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
               BH_DBUS_ERROR_PERMISSION, "dom0");
    call_fails(
        f, "Run",
        g_variant_new("(sss@a{sv})", "vault", "", "", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
        BH_DBUS_ERROR_INVALID_ARGUMENT, "empty");
}

static void test_crash_report(Fixture *f, gconstpointer data)
{
    call_ok(f, "Start", g_variant_new("(s)", "vault"));
    /* Nobody asked: the qube died on its own. */
    tb_set(f->tb, "vault", BH_POWER_CRASHED);
    assert_state(f, "vault", "Crashed");
    g_assert_nonnull(strstr(f->signals->str, "StateChanged vault Crashed;"));
    call_ok(f, "Start", g_variant_new("(s)", "vault"));
    tb_set(f->tb, "vault", BH_POWER_CRASHED);
    call_ok(f, "Remove", g_variant_new("(s)", "vault"));
}

static void test_property_signals(Fixture *f, gconstpointer data)
{
    call_ok(f, "SetProperty", g_variant_new("(sss)", "work", "memory", "0600"));
    g_assert_nonnull(strstr(f->signals->str, "PropertyChanged work memory 600;"));
    call_ok(f, "ResetProperty", g_variant_new("(ss)", "work", "memory"));
    g_assert_nonnull(strstr(f->signals->str, "PropertyChanged work memory 400;"));
    call_ok(f, "SetGlobal", g_variant_new("(ss)", "default_netvm", "sys-net"));
    g_assert_nonnull(strstr(f->signals->str, "GlobalChanged default_netvm sys-net;"));
    call_ok(f, "SetProperty", g_variant_new("(sss)", "personal", "name", "private"));
    g_assert_nonnull(strstr(f->signals->str, "PropertyChanged personal name private;QubeRemoved personal;"
                                             "QubeAdded private;"));
    /* The power state follows the rename. */
    call_ok(f, "Start", g_variant_new("(s)", "private"));
    assert_state(f, "private", "Running");
}

static void test_autostart(Fixture *f, gconstpointer data)
{
    /* First run marks sys-net and sys-firewall autostart; add one more. */
    call_ok(f, "SetProperty", g_variant_new("(sss)", "vault", "autostart", "True"));
    g_assert_cmpuint(bh_daemon_autostart(f->daemon), ==, 3);
    wait_for_state(f, "sys-net", "Running");
    wait_for_state(f, "sys-firewall", "Running");
    wait_for_state(f, "vault", "Running");
    assert_state(f, "work", "Halted");
    /* sys-firewall needs sys-net: started once, before it. */
    g_assert_nonnull(strstr(f->tb->log->str, "start:sys-net;"));
    g_assert_null(strstr(strstr(f->tb->log->str, "start:sys-net;") + 1, "start:sys-net;"));
    g_assert_cmpint(strstr(f->tb->log->str, "start:sys-net;") - f->tb->log->str, <,
                    strstr(f->tb->log->str, "start:sys-firewall;") - f->tb->log->str);
}

/* An autostart that fails is the qube's failure, not the daemon's: under the
 * tests' fatal warnings (g_test_init) a warning about it would abort the
 * daemon here, as it did bulkheadd once when sys-net died during its start.
 * The daemon lives, the qube is Halted, the others start, and every client
 * hears why (StartFailed: the shell's notice). */
static void test_autostart_failed(Fixture *f, gconstpointer data)
{
    const char *told = "StartFailed vault the test backend refuses to start vault;";
    f->tb->fail_start = g_strdup("vault");
    call_ok(f, "SetProperty", g_variant_new("(sss)", "vault", "autostart", "True"));
    g_assert_cmpuint(bh_daemon_autostart(f->daemon), ==, 3);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!strstr(f->signals->str, told) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_nonnull(strstr(f->signals->str, told));
    assert_state(f, "vault", "Halted");
    wait_for_state(f, "sys-net", "Running");
    wait_for_state(f, "sys-firewall", "Running");
    /* And it can be asked again, with the same answer. */
    call_fails(f, "Start", g_variant_new("(s)", "vault"), BH_DBUS_ERROR_BACKEND,
               "the test backend refuses to start vault");
}

static void test_backend_qube(Fixture *f, gconstpointer data)
{
    call_ok(f, "SetProperty", g_variant_new("(sss)", "work", "memory", "1500"));
    call_ok(f, "Start", g_variant_new("(s)", "work"));
    g_autofree char *tpl = g_strdup(f->tb->last.root_template);
    g_assert_cmpstr(f->tb->last.name, ==, "work");
    g_assert_cmpstr(f->tb->last.klass, ==, "AppVM");
    g_assert_cmpstr(f->tb->last.netvm, ==, "sys-firewall");
    g_assert_cmpuint(f->tb->last.memory_mib, ==, 1500);
    g_assert_cmpstr(f->tb->last.services, ==, "");
    g_assert_nonnull(tpl);
    /* A backend that cannot measure disk use: an empty answer, no error. */
    g_autoptr(GVariant) usage =
        call(f, "GetDiskUsage", g_variant_new("(^as)", (const char *const[]){NULL}), NULL);
    g_assert_nonnull(usage);
    g_assert_cmpstr(g_variant_get_type_string(usage), ==, "(a{s(tbt)})");
    g_autoptr(GVariant) none = g_variant_get_child_value(usage, 0);
    g_assert_cmpuint(g_variant_n_children(none), ==, 0);
    /* The first-run template is the host's root, read-only. */
    g_assert_cmpstr(f->tb->last.root_path, ==, "/");
    g_assert_true(f->tb->last.root_readonly);
    g_assert_false(f->tb->last.disposable);

    /* Services: the qube's own at its start; a disposable has its disposable
     * template's too, its own winning (set before it exists: none). */
    call_ok(f, "SetService", g_variant_new("(sss)", "default-dvm", "crond", "on"));
    call_ok(f, "SetService", g_variant_new("(sss)", "default-dvm", "cups", "off"));
    g_autoptr(GVariant) reply = call(f, "CreateDisposable", g_variant_new("(s)", ""), NULL);
    g_assert_nonnull(reply);
    g_assert_cmpstr(f->tb->last.services, ==, "crond=1 cups=0");
    g_assert_true(f->tb->last.disposable);
    g_assert_cmpstr(f->tb->last.klass, ==, "DispVM");
    g_assert_cmpstr(f->tb->last.template_name, ==, "default-dvm");
    g_assert_cmpstr(f->tb->last.root_template, ==, tpl);
}

typedef struct {
    gboolean done;
    char *out;
    char *err;
    GError *error;
} CliResult;

static void cli_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    CliResult *r = user_data;
    g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), result, &r->out, &r->err, &r->error);
    r->done = TRUE;
}

/* Runs a CLI command from the build tree while this process's main loop
 * (the daemon's) keeps serving it; returns its exit status. *out and *err
 * (freed first) receive its output. */
static int run_cli(const char *stdin_text, char **out, char **err, const char *command, ...)
{
    const char *build_root = g_getenv("BH_BUILD_ROOT");
    g_assert_nonnull(build_root);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_build_filename(build_root, "core", "cli", command, NULL));
    va_list ap;
    va_start(ap, command);
    for (const char *arg; (arg = va_arg(ap, const char *));)
        g_ptr_array_add(argv, g_strdup(arg));
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) process = g_subprocess_newv(
        (const char *const *)argv->pdata,
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
        &error);
    g_assert_no_error(error);
    CliResult r = {0};
    g_subprocess_communicate_utf8_async(process, stdin_text, NULL, cli_done, &r);
    while (!r.done)
        g_main_context_iteration(NULL, TRUE);
    g_assert_no_error(r.error);
    /* Output is complete; the exit status may still be on its way. */
    while (!g_subprocess_get_if_exited(process) && !g_subprocess_get_if_signaled(process))
        g_main_context_iteration(NULL, TRUE);
    g_free(*out);
    g_free(*err);
    *out = r.out;
    *err = r.err;
    return g_subprocess_get_if_exited(process) ? g_subprocess_get_exit_status(process) : -1;
}

static void name_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
    *(gboolean *)user_data = TRUE;
}

/* The CLI's power commands and qvm-run's descriptor passing, end to end:
 * the real binaries against the daemon, which owns the well-known name here. */
static void test_cli_power(Fixture *f, gconstpointer data)
{
    gboolean owned = FALSE;
    guint owner = g_bus_own_name_on_connection(f->server, BH_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                               name_acquired, NULL, &owned, NULL);
    while (!owned)
        g_main_context_iteration(NULL, TRUE);

    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-start", "vault", NULL), ==, 0);
    assert_state(f, "vault", "Running");
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-ls", "--running", "--raw-data", NULL), ==, 0);
    /* The template is named after the host OS: match around it. */
    g_assert_true(g_str_has_prefix(out, "dom0|Running|AdminVM|black|-|-\nvault|Running|AppVM|black|"));
    g_assert_true(g_str_has_suffix(out, "|-\n"));
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3); /* two lines and the empty tail */

    /* -p: our pipe is the command's stdout (from the qube's agent), its
     * status is qvm-run's. */
    const char *me = g_get_user_name();
    g_autofree char *want = g_strdup_printf("hi\n%s\n", me);
    g_assert_cmpint(
        run_cli(NULL, &out, &err, "qvm-run", "-p", "-u", me, "vault", "echo hi; id -un; exit 7", NULL), ==,
        7);
    g_assert_cmpstr(out, ==, want);
    /* Without -p: started, status 0, nothing printed. */
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-run", "-u", me, "vault", "true", NULL), ==, 0);
    g_assert_cmpstr(out, ==, "");

    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-pause", "vault", NULL), ==, 0);
    assert_state(f, "vault", "Paused");
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-remove", "-f", "vault", NULL), ==, 1);
    g_assert_true(g_str_has_prefix(err, "qvm-remove: error: cannot remove vault while it is Paused"));
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-unpause", "vault", NULL), ==, 0);
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-shutdown", "--wait", "vault", NULL), ==, 0);
    assert_state(f, "vault", "Halted");

    /* A disposable lives for its command, then is gone. */
    g_autofree char *before = qube_names(f);
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-run", "--dispvm", "-p", "-u", me, "echo hi; exit 7", NULL),
                    ==, 7);
    g_assert_cmpstr(out, ==, "hi\n");
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        g_autofree char *now = qube_names(f);
        if (g_str_equal(now, before) || g_get_monotonic_time() > deadline) {
            g_assert_cmpstr(now, ==, before);
            break;
        }
        g_main_context_iteration(NULL, FALSE);
    }

    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-start", "vault", "nosuch", NULL), ==, 1);
    g_assert_cmpstr(err, ==, "qvm-start: error: there is no qube named 'nosuch'; qvm-ls lists the qubes\n");
    assert_state(f, "vault", "Running");
    g_assert_cmpint(run_cli(NULL, &out, &err, "qvm-shutdown", "--all", "--wait", NULL), ==, 0);
    assert_state(f, "vault", "Halted");
    assert_state(f, "dom0", "Running");
    g_bus_unown_name(owner);
}

static void test_lock(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    BhDaemonConfig config = {.state_dir = f->state_dir};
    g_autoptr(BhDaemon) second = bh_daemon_new(&config, &error);
    g_assert_null(second);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
    g_autofree char *pid = g_strdup_printf("(pid %d)", (int)getpid());
    g_assert_nonnull(strstr(error->message, pid));
    g_assert_nonnull(strstr(error->message, f->state_dir));
}

/* ---- the global clipboard (org.bulkhead.Clipboard1) --------------------------- */

static GVariant *clip_call(Fixture *f, const char *interface, const char *method, GVariant *params,
                           GError **error)
{
    CallResult r = {0};
    g_dbus_connection_call_with_unix_fd_list(f->client, g_dbus_connection_get_unique_name(f->server),
                                             BH_DBUS_PATH, interface, method, params, NULL,
                                             G_DBUS_CALL_FLAGS_NONE, 10000, NULL, NULL, call_done, &r);
    while (!r.done)
        g_main_context_iteration(NULL, TRUE);
    g_clear_object(&r.fds);
    if (r.error)
        g_propagate_error(error, r.error);
    return r.reply;
}

static guint clip_max_bytes(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        clip_call(f, "org.freedesktop.DBus.Properties", "Get",
                  g_variant_new("(ss)", "org.bulkhead.Clipboard1", "MaxBytes"), &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) value = NULL;
    g_variant_get(reply, "(v)", &value);
    return g_variant_get_uint32(value);
}

/* What any dom0 client may do (state, limit, Clear) and may not (Copy, Paste:
 * only the guid bulkheadd runs for the qube; this process is none). The
 * control, a guid that may, is sandbox-clipboard. */
static void test_clipboard(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) state = clip_call(f, "org.bulkhead.Clipboard1", "GetState", NULL, &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) dict = g_variant_get_child_value(state, 0);
    g_assert_cmpuint(g_variant_n_children(dict), ==, 0);

    g_assert_cmpuint(clip_max_bytes(f), ==, 64000);
    call_ok(f, "SetGlobal", g_variant_new("(ss)", "clipboard_max_bytes", "256000"));
    g_assert_cmpuint(clip_max_bytes(f), ==, 256000);
    call_ok(f, "ResetGlobal", g_variant_new("(s)", "clipboard_max_bytes"));
    g_assert_cmpuint(clip_max_bytes(f), ==, 64000);

    const guint8 text[] = "hello";
    GVariant *bytes = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, text, 5, 1);
    g_autoptr(GVariant) copied =
        clip_call(f, "org.bulkhead.Clipboard1", "Copy",
                  g_variant_new("(ss@ay)", "work", "text/plain;charset=utf-8", bytes), &error);
    g_assert_null(copied);
    g_assert_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_PERMISSION);
    g_assert_nonnull(strstr(error->message, "'work' has no window manager (guid)"));
    g_clear_error(&error);
    g_autoptr(GVariant) pasted =
        clip_call(f, "org.bulkhead.Clipboard1", "Paste", g_variant_new("(s)", "work"), &error);
    g_assert_null(pasted);
    g_assert_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_PERMISSION);
    g_clear_error(&error);

    /* CopyDom0: any dom0 client; the source is always "dom0", the size is
     * given, never the contents; over the limit nothing changes. */
    g_autoptr(GVariant) dom0 =
        clip_call(f, "org.bulkhead.Clipboard1", "CopyDom0", g_variant_new("(s)", "héllo"), &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) held = clip_call(f, "org.bulkhead.Clipboard1", "GetState", NULL, &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) held_dict = g_variant_get_child_value(held, 0);
    const char *source = NULL;
    guint64 size = 0;
    g_assert_true(g_variant_lookup(held_dict, "source", "&s", &source));
    g_assert_cmpstr(source, ==, "dom0");
    g_assert_true(g_variant_lookup(held_dict, "size", "t", &size));
    g_assert_cmpuint(size, ==, 6);
    g_assert_false(g_variant_lookup(held_dict, "data", "*", NULL));
    g_autofree char *big = g_strnfill(64001, 'x');
    g_autoptr(GVariant) refused =
        clip_call(f, "org.bulkhead.Clipboard1", "CopyDom0", g_variant_new("(s)", big), &error);
    g_assert_null(refused);
    g_assert_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_LIMIT);
    g_clear_error(&error);
    g_autoptr(GVariant) still = clip_call(f, "org.bulkhead.Clipboard1", "GetState", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_variant_equal(still, held));

    g_autoptr(GVariant) cleared = clip_call(f, "org.bulkhead.Clipboard1", "Clear", NULL, &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) after = clip_call(f, "org.bulkhead.Clipboard1", "GetState", NULL, &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) after_dict = g_variant_get_child_value(after, 0);
    g_assert_cmpuint(g_variant_n_children(after_dict), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
    ADD("/daemon/start-chain", test_start_chain);
    ADD("/daemon/running-refusals", test_running_refusals);
    ADD("/daemon/shutdown-wait", test_shutdown_wait);
    ADD("/daemon/pause-kill", test_pause_kill);
    ADD("/daemon/disposable", test_disposable);
    ADD("/daemon/start-failure", test_start_failure);
    ADD("/daemon/agent-silent", test_agent_silent);
    ADD("/daemon/found-running", test_found_running);
    ADD("/daemon/volume-rollback", test_volume_rollback);
    ADD("/daemon/check-create", test_check_create);
    ADD("/daemon/run-fds", test_run_fds);
    ADD("/daemon/crash-report", test_crash_report);
    ADD("/daemon/property-signals", test_property_signals);
    ADD("/daemon/autostart", test_autostart);
    ADD("/daemon/autostart-failed", test_autostart_failed);
    ADD("/daemon/backend-qube", test_backend_qube);
    ADD("/daemon/cli-power", test_cli_power);
    ADD("/daemon/lock", test_lock);
    ADD("/daemon/clipboard", test_clipboard);
#undef ADD
    g_test_add("/daemon/apps-late-agent", Fixture, GUINT_TO_POINTER(LATE_APPLIST_S), fixture_set_up,
               test_apps_late_agent, fixture_tear_down);
    return g_test_run();
}
