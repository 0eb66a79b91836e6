/* backend.c — the backend registry and the checked entry points of backend.h.
 *
 * Owns the list of backend names this build accepts and the dispatch through
 * BhBackendOps. It must never implement isolation itself: the sandbox and xen
 * backends live in their own files and register here.
 */
#define G_LOG_DOMAIN "bh-backend"

#include "backend.h"
#include "sandbox.h"
#include "xen.h"

G_DEFINE_QUARK(bh - backend - error - quark, bh_backend_error)

static const char *const bh_power_state_names[BH_POWER_N_STATES] = {
    [BH_POWER_HALTED] = "Halted",   [BH_POWER_TRANSIENT] = "Transient", [BH_POWER_RUNNING] = "Running",
    [BH_POWER_PAUSED] = "Paused",   [BH_POWER_HALTING] = "Halting",     [BH_POWER_DYING] = "Dying",
    [BH_POWER_CRASHED] = "Crashed",
};

const char *bh_power_state_name(BhPowerState state)
{
    if ((unsigned)state >= BH_POWER_N_STATES)
        return "Unknown";
    return bh_power_state_names[state];
}

gboolean bh_power_state_from_name(const char *name, BhPowerState *out)
{
    for (unsigned i = 0; name && i < BH_POWER_N_STATES; i++) {
        if (g_str_equal(name, bh_power_state_names[i])) {
            *out = (BhPowerState)i;
            return TRUE;
        }
    }
    return FALSE;
}

/* Backends this build knows; a NULL constructor: not built. */
static const BhBackendInfo bh_backends[] = {
    {"none", "none: qubes cannot be started", NULL},
    {"sandbox", "Linux namespaces (bubblewrap) on the host's kernel", bh_sandbox_backend_new},
    {"xen", "Xen hypervisor domains (libxl)", BH_XEN_BACKEND_NEW},
};

const BhBackendInfo *bh_backend_list(gsize *n_backends)
{
    *n_backends = G_N_ELEMENTS(bh_backends);
    return bh_backends;
}

char *bh_backend_describe_choices(void)
{
    g_autoptr(GString) all = g_string_new(NULL);
    g_autoptr(GString) missing = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(bh_backends); i++) {
        const BhBackendInfo *info = &bh_backends[i];
        g_string_append_printf(all, "%s%s", all->len ? ", " : "", info->name);
        if (!g_str_equal(info->name, "none") && info->create == NULL)
            g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", info->name);
    }
    if (missing->len)
        g_string_append_printf(all, " (not built yet: %s)", missing->str);
    return g_string_free(g_steal_pointer(&all), FALSE);
}

gboolean bh_backend_open(const char *name, const BhBackendConfig *config, BhBackend **out, GError **error)
{
    *out = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(bh_backends); i++) {
        const BhBackendInfo *info = &bh_backends[i];
        if (!g_str_equal(name, info->name))
            continue;
        if (g_str_equal(name, "none"))
            return TRUE;
        if (info->create == NULL) {
            g_autofree char *choices = bh_backend_describe_choices();
            g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE,
                        "the %s backend is not built into this bulkheadd; backends: %s", name, choices);
            return FALSE;
        }
        BhBackend *backend = info->create(config, error);
        if (backend == NULL)
            return FALSE;
        *out = backend;
        return TRUE;
    }
    g_autofree char *choices = bh_backend_describe_choices();
    g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE, "unknown backend '%s'; backends: %s",
                name, choices);
    return FALSE;
}

void bh_backend_init(BhBackend *backend, const BhBackendOps *ops, const char *name,
                     const BhBackendConfig *config)
{
    backend->ops = ops;
    backend->name = name;
    backend->state_dir = g_strdup(config->state_dir);
    backend->state_changed = NULL;
    backend->state_changed_data = NULL;
}

void bh_backend_clear(BhBackend *backend)
{
    g_clear_pointer(&backend->state_dir, g_free);
}

void bh_backend_set_state_func(BhBackend *backend, BhBackendStateFunc func, gpointer user_data)
{
    backend->state_changed = func;
    backend->state_changed_data = user_data;
}

void bh_backend_notify_state(BhBackend *backend, const char *qube, BhPowerState state, const char *reason)
{
    g_debug("[%s] %s%s%s", qube, bh_power_state_name(state), reason ? ": " : "", reason ? reason : "");
    if (backend->state_changed)
        backend->state_changed(backend, qube, state, reason, backend->state_changed_data);
}

static gboolean bh_backend_unsupported(BhBackend *backend, const char *what, const char *qube, GError **error)
{
    g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_NOT_SUPPORTED, "the %s backend cannot %s (qube %s)",
                backend->name, what, qube);
    return FALSE;
}

/* Whatever a backend operation fails with reaches the daemon, and the user,
 * as BH_BACKEND_ERROR (org.bulkhead.Error.Backend), whichever backend: the
 * I/O errors of bh_error_errno (G_IO_ERROR, bulkhead/error.h) become
 * BH_BACKEND_ERROR_FAILED with their message, a timeout stays a timeout and
 * a cancellation a cancellation. Backends keep G_IO_ERROR inside, where the
 * errno's meaning (NOT_FOUND, EXISTS) is still tested. */
static gboolean bh_backend_result(gboolean ok, GError **error)
{
    GError *e = error ? *error : NULL;
    if (ok || e == NULL || e->domain == BH_BACKEND_ERROR ||
        g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return ok;
    e->code = g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ? BH_BACKEND_ERROR_TIMEOUT
                                                                   : BH_BACKEND_ERROR_FAILED;
    e->domain = BH_BACKEND_ERROR;
    return ok;
}

gboolean bh_backend_create_volumes(BhBackend *backend, const BhBackendQube *qube, GError **error)
{
    if (backend->ops->create_volumes == NULL)
        return bh_backend_unsupported(backend, "create volumes", qube->name, error);
    return bh_backend_result(backend->ops->create_volumes(backend, qube, error), error);
}

gboolean bh_backend_clone_volumes(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                  GError **error)
{
    if (backend->ops->clone_volumes == NULL)
        return bh_backend_unsupported(backend, "clone volumes", qube->name, error);
    return bh_backend_result(backend->ops->clone_volumes(backend, source, qube, error), error);
}

gboolean bh_backend_remove_volumes(BhBackend *backend, const char *qube, GError **error)
{
    if (backend->ops->remove_volumes == NULL)
        return bh_backend_unsupported(backend, "remove volumes", qube, error);
    return bh_backend_result(backend->ops->remove_volumes(backend, qube, error), error);
}

void bh_backend_clone_volumes_async(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
    if (backend->ops->clone_volumes_async == NULL) {
        /* A backend without a worker copies here and now. */
        g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
        g_autoptr(GError) error = NULL;
        g_task_set_source_tag(task, bh_backend_clone_volumes_async);
        if (bh_backend_clone_volumes(backend, source, qube, &error))
            g_task_return_boolean(task, TRUE);
        else
            g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    backend->ops->clone_volumes_async(backend, source, qube, callback, user_data);
}

gboolean bh_backend_clone_volumes_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    if (g_async_result_is_tagged(result, bh_backend_clone_volumes_async))
        return g_task_propagate_boolean(G_TASK(result), error);
    return bh_backend_result(backend->ops->clone_volumes_finish(backend, result, error), error);
}

/* An asynchronous operation the backend lacks completes with an error
 * tagged with the wrapper, so the matching _finish can recognise it. */
static void bh_backend_report_unsupported(BhBackend *backend, const char *what, const char *qube,
                                          gpointer source_tag, GAsyncReadyCallback callback,
                                          gpointer user_data)
{
    g_task_report_new_error(NULL, callback, user_data, source_tag, BH_BACKEND_ERROR,
                            BH_BACKEND_ERROR_NOT_SUPPORTED, "the %s backend cannot %s (qube %s)",
                            backend->name, what, qube);
}

void bh_backend_start(BhBackend *backend, const BhBackendQube *qube, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
    if (backend->ops->start == NULL) {
        bh_backend_report_unsupported(backend, "start qubes", qube->name, bh_backend_start, callback,
                                      user_data);
        return;
    }
    backend->ops->start(backend, qube, cancellable, callback, user_data);
}

gboolean bh_backend_start_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    if (g_async_result_is_tagged(result, bh_backend_start))
        return g_task_propagate_boolean(G_TASK(result), error);
    return bh_backend_result(backend->ops->start_finish(backend, result, error), error);
}

gboolean bh_backend_set_netvm(BhBackend *backend, const char *qube, const char *netvm, GError **error)
{
    if (backend->ops->set_netvm == NULL)
        return bh_backend_unsupported(backend, "change a running qube's netvm", qube, error);
    return backend->ops->set_netvm(backend, qube, netvm, error);
}

void bh_backend_set_firewall(BhBackend *backend, const char *qube, const char *rules,
                             GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
    if (backend->ops->set_firewall == NULL) {
        bh_backend_report_unsupported(backend, "apply a firewall", qube, bh_backend_set_firewall, callback,
                                      user_data);
        return;
    }
    backend->ops->set_firewall(backend, qube, rules, cancellable, callback, user_data);
}

gboolean bh_backend_set_firewall_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    if (g_async_result_is_tagged(result, bh_backend_set_firewall))
        return g_task_propagate_boolean(G_TASK(result), error);
    return backend->ops->set_firewall_finish(backend, result, error);
}

void bh_backend_shutdown(BhBackend *backend, const char *qube, guint timeout_s, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    if (backend->ops->shutdown == NULL) {
        bh_backend_report_unsupported(backend, "shut qubes down", qube, bh_backend_shutdown, callback,
                                      user_data);
        return;
    }
    backend->ops->shutdown(backend, qube, timeout_s, cancellable, callback, user_data);
}

gboolean bh_backend_shutdown_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    if (g_async_result_is_tagged(result, bh_backend_shutdown))
        return g_task_propagate_boolean(G_TASK(result), error);
    return bh_backend_result(backend->ops->shutdown_finish(backend, result, error), error);
}

gboolean bh_backend_kill(BhBackend *backend, const char *qube, GError **error)
{
    if (backend->ops->kill == NULL)
        return bh_backend_unsupported(backend, "kill qubes", qube, error);
    return bh_backend_result(backend->ops->kill(backend, qube, error), error);
}

gboolean bh_backend_pause(BhBackend *backend, const char *qube, GError **error)
{
    if (backend->ops->pause == NULL)
        return bh_backend_unsupported(backend, "pause qubes", qube, error);
    return bh_backend_result(backend->ops->pause(backend, qube, error), error);
}

gboolean bh_backend_unpause(BhBackend *backend, const char *qube, GError **error)
{
    if (backend->ops->unpause == NULL)
        return bh_backend_unsupported(backend, "unpause qubes", qube, error);
    return bh_backend_result(backend->ops->unpause(backend, qube, error), error);
}

gboolean bh_backend_get_stats(BhBackend *backend, const char *qube, BhBackendStats *out, GError **error)
{
    if (backend->ops->get_stats == NULL)
        return bh_backend_unsupported(backend, "report memory and CPU use", qube, error);
    return backend->ops->get_stats(backend, qube, out, error);
}

void bh_backend_volume_usage(BhBackend *backend, const char *const *qubes, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    if (backend->ops->volume_usage == NULL) {
        g_task_report_new_error(NULL, callback, user_data, bh_backend_volume_usage, BH_BACKEND_ERROR,
                                BH_BACKEND_ERROR_NOT_SUPPORTED, "the %s backend cannot report disk usage",
                                backend->name);
        return;
    }
    backend->ops->volume_usage(backend, qubes, cancellable, callback, user_data);
}

GHashTable *bh_backend_volume_usage_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    if (g_task_is_valid(result, NULL) && g_task_get_source_tag(G_TASK(result)) == bh_backend_volume_usage)
        return g_task_propagate_pointer(G_TASK(result), error);
    return backend->ops->volume_usage_finish(backend, result, error);
}

BhPowerState bh_backend_get_state(BhBackend *backend, const char *qube)
{
    if (backend->ops->get_state == NULL)
        return BH_POWER_HALTED;
    return backend->ops->get_state(backend, qube);
}

gboolean bh_backend_agent_address(BhBackend *backend, const char *qube, BhBackendAgentAddress *out,
                                  GError **error)
{
    *out = (BhBackendAgentAddress){0};
    if (backend->ops->agent_address == NULL)
        return bh_backend_unsupported(backend, "reach a qube's agent", qube, error);
    return bh_backend_result(backend->ops->agent_address(backend, qube, out, error), error);
}

void bh_backend_adopt(BhBackend *backend, const BhBackendQube *qubes, gsize n_qubes)
{
    if (backend->ops->adopt)
        backend->ops->adopt(backend, qubes, n_qubes);
}

void bh_backend_free(BhBackend *backend)
{
    if (backend == NULL)
        return;
    if (backend->ops->free) {
        backend->ops->free(backend);
        return;
    }
    bh_backend_clear(backend);
    g_free(backend);
}
