/* test-backend.c — the backend interface's own logic (core/backends) and the
 * named D-Bus errors (core/dbus): state names, the registry's choices and
 * messages, dispatch to a backend lacking operations, error round trips. */
#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include <bulkhead/error.h>

#include "backend.h"
#include "bh-daemon-error.h"
#include "bh-dbus-error.h"

static void test_power_state_names(void)
{
    const char *expected[] = {"Halted", "Transient", "Running", "Paused", "Halting", "Dying", "Crashed"};
    g_assert_cmpint(G_N_ELEMENTS(expected), ==, BH_POWER_N_STATES);
    for (int i = 0; i < BH_POWER_N_STATES; i++) {
        BhPowerState back;
        g_assert_cmpstr(bh_power_state_name((BhPowerState)i), ==, expected[i]);
        g_assert_true(bh_power_state_from_name(expected[i], &back));
        g_assert_cmpint(back, ==, i);
    }
    BhPowerState unused;
    g_assert_cmpstr(bh_power_state_name((BhPowerState)99), ==, "Unknown");
    g_assert_false(bh_power_state_from_name("running", &unused));
    g_assert_false(bh_power_state_from_name("", &unused));
    g_assert_false(bh_power_state_from_name(NULL, &unused));
}

static void test_registry(void)
{
    BhBackendConfig config = {.state_dir = "/nonexistent", .runtime_dir = "/nonexistent"};
    BhBackend *backend = (BhBackend *)0x1;
    g_autoptr(GError) error = NULL;
    gsize n = 0;
    const BhBackendInfo *list = bh_backend_list(&n);

    g_assert_cmpuint(n, >=, 3);
    g_assert_cmpstr(list[0].name, ==, "none");

    g_assert_true(bh_backend_open("none", &config, &backend, &error));
    g_assert_no_error(error);
    g_assert_null(backend);

    g_assert_false(bh_backend_open("qemu", &config, &backend, &error));
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "unknown backend 'qemu'"));
    g_assert_nonnull(strstr(error->message, "none, sandbox, xen"));
    g_assert_null(backend);
    g_clear_error(&error);

    /* Every listed backend either opens or says it is not built. */
    for (gsize i = 1; i < n; i++) {
        gboolean ok = bh_backend_open(list[i].name, &config, &backend, &error);
        if (list[i].create == NULL) {
            g_assert_false(ok);
            g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE);
            g_assert_nonnull(strstr(error->message, "not built"));
            g_clear_error(&error);
        } else {
            g_clear_pointer(&backend, bh_backend_free);
            g_clear_error(&error);
        }
    }

    g_autofree char *choices = bh_backend_describe_choices();
    g_assert_true(g_str_has_prefix(choices, "none, sandbox, xen"));
}

/* A backend implementing nothing: the dispatch must answer for it. */
static const BhBackendOps empty_ops = {0};

typedef struct {
    GMainLoop *loop;
    BhBackend *backend;
    GError *error;
    int kind;
} AsyncState;

static void async_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    AsyncState *st = user_data;
    gboolean ok = FALSE;
    switch (st->kind) {
    case 0:
        ok = bh_backend_start_finish(st->backend, result, &st->error);
        break;
    case 1:
        ok = bh_backend_shutdown_finish(st->backend, result, &st->error);
        break;
    }
    g_assert_false(ok);
    g_main_loop_quit(st->loop);
}

static void state_cb(BhBackend *backend, const char *qube, BhPowerState state, const char *reason,
                     gpointer user_data)
{
    GString *log = user_data;
    g_string_append_printf(log, "%s:%s:%s;", qube, bh_power_state_name(state), reason ? reason : "-");
}

/* A backend's volume code fails as the system call did (bulkhead/error.h)... */
static gboolean io_remove_volumes(BhBackend *backend, const char *qube, GError **error)
{
    return bh_error_errno(error, ENOSPC, "cannot remove %s", qube);
}

static gboolean io_pause(BhBackend *backend, const char *qube, GError **error)
{
    return bh_error_errno(error, ETIMEDOUT, "cannot freeze %s", qube);
}

static const BhBackendOps io_ops = {.remove_volumes = io_remove_volumes, .pause = io_pause};

/* ... and the daemon, whichever backend, gets a backend error (D-Bus
 * org.bulkhead.Error.Backend) with the same words; a timeout stays one. The
 * control: the backend's own error is an I/O error with errno's code. */
static void test_io_errors_are_backend_errors(void)
{
    BhBackendConfig config = {.state_dir = "/tmp/x", .runtime_dir = "/tmp/y"};
    BhBackend *backend = g_new0(BhBackend, 1);
    g_autoptr(GError) error = NULL;
    bh_backend_init(backend, &io_ops, "io", &config);

    g_assert_false(io_remove_volumes(backend, "work", &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
    g_clear_error(&error);

    g_assert_false(bh_backend_remove_volumes(backend, "work", &error));
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "cannot remove work: "));
    g_assert_cmpint(bh_daemon_error_to_dbus(error), ==, BH_DBUS_ERROR_BACKEND);
    g_clear_error(&error);
    g_assert_false(bh_backend_pause(backend, "work", &error));
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_TIMEOUT);
    g_assert_cmpint(bh_daemon_error_to_dbus(error), ==, BH_DBUS_ERROR_TIMEOUT);
    bh_backend_free(backend);
}

static void test_unsupported_ops(void)
{
    BhBackendConfig config = {.state_dir = "/tmp/x", .runtime_dir = "/tmp/y"};
    BhBackend *backend = g_new0(BhBackend, 1);
    g_autoptr(GError) error = NULL;
    BhBackendQube qube = {.name = "work"};

    bh_backend_init(backend, &empty_ops, "empty", &config);
    g_assert_cmpstr(backend->state_dir, ==, "/tmp/x");

    g_assert_false(bh_backend_create_volumes(backend, &qube, &error));
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_NOT_SUPPORTED);
    g_assert_nonnull(strstr(error->message, "qube work"));
    g_clear_error(&error);
    g_assert_false(bh_backend_kill(backend, "work", &error));
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_NOT_SUPPORTED);
    g_clear_error(&error);
    g_assert_false(bh_backend_pause(backend, "work", &error));
    g_clear_error(&error);
    g_assert_false(bh_backend_unpause(backend, "work", &error));
    g_clear_error(&error);
    g_assert_false(bh_backend_remove_volumes(backend, "work", &error));
    g_clear_error(&error);
    g_assert_false(bh_backend_clone_volumes(backend, "work", &qube, &error));
    g_clear_error(&error);
    g_assert_cmpint(bh_backend_get_state(backend, "work"), ==, BH_POWER_HALTED);

    BhBackendAgentAddress address = {.domid = 7};
    g_assert_false(bh_backend_agent_address(backend, "work", &address, &error));
    g_assert_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_NOT_SUPPORTED);
    g_assert_cmpint(address.domid, ==, 0);
    g_clear_error(&error);

    AsyncState st = {.loop = g_main_loop_new(NULL, FALSE), .backend = backend};
    for (st.kind = 0; st.kind < 2; st.kind++) {
        if (st.kind == 0)
            bh_backend_start(backend, &qube, NULL, async_done, &st);
        else
            bh_backend_shutdown(backend, "work", 5, NULL, async_done, &st);
        g_main_loop_run(st.loop);
        g_assert_error(st.error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_NOT_SUPPORTED);
        g_clear_error(&st.error);
    }
    g_main_loop_unref(st.loop);

    g_autoptr(GString) log = g_string_new(NULL);
    bh_backend_notify_state(backend, "work", BH_POWER_RUNNING, NULL); /* no callback yet: fine */
    bh_backend_set_state_func(backend, state_cb, log);
    bh_backend_notify_state(backend, "work", BH_POWER_HALTING, "asked");
    bh_backend_notify_state(backend, "work", BH_POWER_HALTED, NULL);
    g_assert_cmpstr(log->str, ==, "work:Halting:asked;work:Halted:-;");

    bh_backend_free(backend);
    bh_backend_free(NULL);
}

static void test_dbus_error_names(void)
{
    for (int code = 0; code < BH_DBUS_ERROR_N_CODES; code++) {
        const char *name = bh_dbus_error_name(code);
        g_assert_nonnull(name);
        g_assert_true(g_str_has_prefix(name, "org.bulkhead.Error."));
        g_assert_cmpint(bh_dbus_error_from_short_name(name + strlen("org.bulkhead.Error.")), ==, code);

        /* What the daemon sends decodes into the same code and message. */
        g_autoptr(GError) local = g_error_new(BH_DBUS_ERROR, code, "message %d", code);
        g_autofree char *encoded = g_dbus_error_encode_gerror(local);
        g_assert_cmpstr(encoded, ==, name);
        g_autoptr(GError) remote = g_dbus_error_new_for_dbus_error(encoded, local->message);
        g_assert_error(remote, BH_DBUS_ERROR, code);
        g_assert_true(g_dbus_error_strip_remote_error(remote));
        g_assert_cmpstr(remote->message, ==, local->message);
    }
    g_assert_null(bh_dbus_error_name(-1));
    g_assert_null(bh_dbus_error_name(BH_DBUS_ERROR_N_CODES));
    g_assert_cmpint(bh_dbus_error_from_short_name("NoSuchThing"), ==, -1);
    g_assert_cmpint(bh_dbus_error_from_short_name(NULL), ==, -1);
    g_assert_cmpint(bh_dbus_error_from_short_name("NoBackend"), ==, BH_DBUS_ERROR_NO_BACKEND);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/backend/power-state-names", test_power_state_names);
    g_test_add_func("/backend/registry", test_registry);
    g_test_add_func("/backend/unsupported-ops", test_unsupported_ops);
    g_test_add_func("/backend/io-errors", test_io_errors_are_backend_errors);
    g_test_add_func("/dbus/error-names", test_dbus_error_names);
    return g_test_run();
}
