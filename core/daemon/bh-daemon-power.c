/* bh-daemon-power.c — the daemon's power state machine; see
 * bh-daemon-private.h.
 *
 * Owns each qube's in-memory power state and its one place of change
 * (bh_daemon_set_state: signals, guid start and stop, Shutdown(wait)
 * callers, the clean-up of a disposable), the start chain (a qube's netvm
 * first, joined starts), the model-to-backend description of a qube, the
 * adoption of qubes an earlier bulkheadd left running, and autostart. Must
 * never: let a power state reach the store, or call a D-Bus handler (the
 * handlers call here, not the other way).
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-private.h"
#include "bh-dbus-error.h"

/* ---- power-state bookkeeping -------------------------------------------- */

void bh_qube_runtime_free(gpointer data)
{
    BhQubeRuntime *rt = data;
    /* Waiters still pending belong to calls in flight; fail them rather than
     * leave clients hanging. */
    for (guint i = 0; rt->start_waiters && i < rt->start_waiters->len; i++) {
        GTask *task = rt->start_waiters->pdata[i];
        g_task_return_new_error(task, BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED, "bulkheadd is shutting down");
        g_object_unref(task);
    }
    for (guint i = 0; rt->halt_waiters && i < rt->halt_waiters->len; i++)
        g_dbus_method_invocation_return_error(rt->halt_waiters->pdata[i], BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED,
                                              "bulkheadd is shutting down");
    g_clear_pointer(&rt->start_waiters, g_ptr_array_unref);
    g_clear_pointer(&rt->halt_waiters, g_ptr_array_unref);
    g_free(rt->gui_error);
    g_free(rt->netvm);
    if (rt->firewall_timer)
        g_source_remove(rt->firewall_timer);
    if (rt->gui_gone_timer)
        g_source_remove(rt->gui_gone_timer);
    g_free(rt);
}

BhQubeRuntime *bh_daemon_runtime(BhDaemon *self, const char *name)
{
    BhQubeRuntime *rt = g_hash_table_lookup(self->runtime, name);
    if (rt)
        return rt;
    rt = g_new0(BhQubeRuntime, 1);
    rt->start_waiters = g_ptr_array_new();
    rt->halt_waiters = g_ptr_array_new();
    if (g_str_equal(name, "dom0"))
        rt->state = BH_POWER_RUNNING;
    else if (self->backend)
        rt->state = bh_backend_get_state(self->backend, name); /* e.g. xen domains outlive us */
    else
        rt->state = BH_POWER_HALTED;
    g_hash_table_insert(self->runtime, g_strdup(name), rt);
    /* A qube found running (a xen domain that outlived an earlier daemon) is
     * one whose agent we connect to, as for any other way into Running. */
    if (!g_str_equal(name, "dom0"))
        bh_agent_set_power_changed(self->agents, name, rt->state);
    if (!g_str_equal(name, "dom0"))
        bh_calls_power_changed(self->calls, name, rt->state);
    return rt;
}

BhPowerState bh_daemon_get_power_state(BhDaemon *self, const char *qube)
{
    return bh_daemon_runtime(self, qube)->state;
}

gboolean bh_power_is_down(BhPowerState state)
{
    return state == BH_POWER_HALTED || state == BH_POWER_CRASHED;
}

static void bh_daemon_complete_start_waiters(BhDaemon *self, const char *name, const GError *error)
{
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);
    g_autoptr(GPtrArray) waiters = g_steal_pointer(&rt->start_waiters);
    rt->start_waiters = g_ptr_array_new();
    for (guint i = 0; i < waiters->len; i++) {
        GTask *task = waiters->pdata[i];
        if (error)
            g_task_return_error(task, g_error_copy(error));
        else
            g_task_return_boolean(task, TRUE);
        g_object_unref(task);
    }
}

/* A disposable with auto_cleanup is forgotten once it is down: its volumes
 * are removed and so is its entry in the store. Idempotent. */
void bh_daemon_discard_disposable(BhDaemon *self, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, NULL);
    if (info == NULL || info->klass != BH_CLASS_DISP_VM)
        return;
    if (self->backend && !bh_backend_remove_volumes(self->backend, name, &error)) {
        g_message("[%s] cannot remove the disposable's volumes: %s", name, error->message);
        g_clear_error(&error);
    }
    if (!bh_store_remove_qube(self->store, name, &error)) {
        g_warning("[%s] cannot remove the disposable: %s", name, error->message);
        return;
    }
    g_hash_table_remove(self->runtime, name);
    g_info("[%s] disposable removed", name);
    bh_dbus_admin1_emit_qube_removed(self->skeleton, name);
}

BhNameContext *bh_name_context_new(BhDaemon *self, const char *name)
{
    BhNameContext *ctx = g_new0(BhNameContext, 1);
    ctx->self = g_object_ref(self);
    ctx->name = g_strdup(name);
    return ctx;
}

void bh_name_context_free(gpointer data)
{
    BhNameContext *ctx = data;
    g_object_unref(ctx->self);
    g_free(ctx->name);
    g_free(ctx);
}

static gboolean bh_daemon_cleanup_idle(gpointer data)
{
    BhNameContext *ctx = data;
    if (bh_power_is_down(bh_daemon_runtime(ctx->self, ctx->name)->state))
        bh_daemon_discard_disposable(ctx->self, ctx->name);
    return G_SOURCE_REMOVE;
}

static gboolean bh_daemon_wants_cleanup(BhDaemon *self, const char *name)
{
    g_autofree char *auto_cleanup = NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, NULL);
    if (info == NULL || info->klass != BH_CLASS_DISP_VM)
        return FALSE;
    if (!bh_store_get_property(self->store, name, "auto_cleanup", &auto_cleanup, NULL, NULL))
        return TRUE;
    return g_str_equal(auto_cleanup, "True");
}

/* ---- guid: one window process per running qube ----------------------------- */

static void bh_daemon_mark_gui_error(BhDaemon *self, const char *name, const char *reason)
{
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);
    g_free(rt->gui_error);
    rt->gui_error = g_strdup(reason);
    bh_dbus_admin1_emit_gui_failed(self->skeleton, name, reason);
}

/* A guid that ends on its own while its qube runs: exit 0 means the agent
 * went away (the qube is probably stopping); anything else is something the
 * user must hear about, above all status 2 — the qube's agent broke the
 * protocol, which is what a compromised qube looks like from dom0. */
/* How long a qube whose GUI agent went away may take to be seen stopping: a
 * guest that powers itself off (or a sandbox whose init ends) loses its agent
 * a moment before its backend reports the stop. A qube still Running after
 * this lost its agent some other way (killed, crashed): that is reported. */
#define BH_DAEMON_GUI_GONE_GRACE_S 15

typedef struct {
    BhDaemon *self; /* no reference: the timer goes with the qube's runtime record */
    char *name;
} BhGuiGone;

static void bh_gui_gone_free(gpointer data)
{
    BhGuiGone *g = data;
    g_free(g->name);
    g_free(g);
}

static gboolean bh_daemon_gui_gone_check(gpointer data)
{
    BhGuiGone *g = data;
    BhQubeRuntime *rt = bh_daemon_runtime(g->self, g->name);
    rt->gui_gone_timer = 0;
    if (rt->state == BH_POWER_RUNNING) {
        g_message("[%s] its GUI agent went away %d s ago and the qube still runs", g->name,
                  BH_DAEMON_GUI_GONE_GRACE_S);
        bh_daemon_mark_gui_error(g->self, g->name,
                                 "its GUI agent went away while the qube kept running: its windows were "
                                 "closed; restart the qube to see them again");
    }
    return G_SOURCE_REMOVE;
}

void bh_daemon_guid_ended(const char *qube, int status, const char *reason, gpointer user_data)
{
    BhDaemon *self = user_data;
    if (status == 0) {
        /* The agent hung up. Usually the qube is stopping; if it still runs
         * after the grace, its agent was killed or died, which the user must
         * hear about (a qube that breaks its side is suspect). */
        BhQubeRuntime *rt = bh_daemon_runtime(self, qube);
        if (rt->state == BH_POWER_RUNNING && rt->gui_gone_timer == 0) {
            BhGuiGone *g = g_new0(BhGuiGone, 1);
            g->self = self;
            g->name = g_strdup(qube);
            rt->gui_gone_timer = g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, BH_DAEMON_GUI_GONE_GRACE_S,
                                                            bh_daemon_gui_gone_check, g, bh_gui_gone_free);
        }
        return;
    }
    g_autofree char *why =
        status == 2
            ? g_strdup_printf("its GUI agent broke the protocol and its windows were closed: %s", reason)
            : g_strdup_printf("its window manager (guid) ended with status %d: %s", status, reason);
    bh_daemon_mark_gui_error(self, qube, why);
}

static void bh_daemon_start_guid(BhDaemon *self, const char *name)
{
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);
    g_clear_pointer(&rt->gui_error, g_free);
    if (self->guids == NULL || g_str_equal(name, "dom0"))
        return;
    if (!bh_guid_display_available()) {
        g_info("[%s] no display (DISPLAY, WAYLAND_DISPLAY): its windows are not shown", name);
        return;
    }
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, NULL);
    if (info == NULL)
        return;
    g_autofree char *fullscreen = bh_daemon_get_string(self, name, "allow_fullscreen");
    g_autoptr(GError) error = NULL;
    /* guid's vchan peer is where the backend says the qube's agents are: on
     * xen the domain id of this boot, not the qid, and its GUI agent may take
     * as long as its RPC agent to come up (a kernel boots first). A backend
     * without agents keeps the qid (the socket transport's name for the qube). */
    BhBackendAgentAddress address = {.domid = (int)info->qid};
    if (self->backend && !bh_backend_agent_address(self->backend, name, &address, NULL))
        address = (BhBackendAgentAddress){.domid = (int)info->qid};
    BhGuidStartFlags flags = g_str_equal(fullscreen, "True") ? BH_GUID_START_ALLOW_FULLSCREEN : 0;
    /* Not yet handed out: its first window comes when a user asks for it,
     * seconds or minutes from now, so guid prepares it meanwhile. */
    if (g_strcmp0(self->preload_name, name) == 0)
        flags |= BH_GUID_START_WARM_UP;
    if (!bh_guid_set_start(self->guids, name, info->label ? info->label->name : "black", (guint)address.domid,
                           address.ready_timeout_ms / 1000, flags, &error)) {
        g_message("[%s] %s", name, error->message);
        bh_daemon_mark_gui_error(self, name, error->message);
    }
}

void bh_daemon_set_state(BhDaemon *self, const char *name, BhPowerState state, const char *reason)
{
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);
    if (rt->state == state)
        return;
    BhPowerState old = rt->state;
    rt->state = state;
    g_info("[%s] %s -> %s%s%s", name, bh_power_state_name(old), bh_power_state_name(state),
           reason ? ": " : "", reason ? reason : "");
    /* The agent set first: StateChanged's handlers inside the daemon (the app
     * list read at boot) run commands in a qube that has just become Running. */
    bh_agent_set_power_changed(self->agents, name, state);
    bh_calls_power_changed(self->calls, name, state);
    bh_dbus_admin1_emit_state_changed(self->skeleton, name, bh_power_state_name(state));

    if (state != BH_POWER_RUNNING)
        g_clear_handle_id(&rt->gui_gone_timer, g_source_remove);
    /* Unpausing keeps the guid it had; any other way into Running is a boot. */
    if (state == BH_POWER_RUNNING && old != BH_POWER_PAUSED)
        bh_daemon_start_guid(self, name);
    else if (state != BH_POWER_RUNNING && state != BH_POWER_PAUSED && self->guids)
        bh_guid_set_stop(self->guids, name);

    if (bh_power_is_down(state)) {
        g_autoptr(GPtrArray) waiters = g_steal_pointer(&rt->halt_waiters);
        rt->halt_waiters = g_ptr_array_new();
        for (guint i = 0; i < waiters->len; i++)
            bh_dbus_admin1_complete_shutdown(self->skeleton, waiters->pdata[i]);
        /* Deferred: we may be inside a backend callback or a start completion
         * that still refers to the qube. */
        if (!bh_power_is_down(old) && bh_daemon_wants_cleanup(self, name))
            g_idle_add_full(G_PRIORITY_DEFAULT, bh_daemon_cleanup_idle, bh_name_context_new(self, name),
                            bh_name_context_free);
    }
}

void bh_daemon_backend_state_changed(BhBackend *backend, const char *qube, BhPowerState state,
                                     const char *reason, gpointer user_data)
{
    bh_daemon_set_state(BH_DAEMON(user_data), qube, state, reason);
}

gboolean bh_daemon_require_backend(BhDaemon *self, GError **error)
{
    if (self->backend)
        return TRUE;
    g_autoptr(GString) built = g_string_new(NULL);
    g_autoptr(GString) missing = g_string_new(NULL);
    gsize n = 0;
    const BhBackendInfo *infos = bh_backend_list(&n);
    for (gsize i = 0; i < n; i++) {
        if (g_str_equal(infos[i].name, "none"))
            continue;
        if (infos[i].create)
            g_string_append_printf(built, "%s--backend=%s", built->len ? " or " : "", infos[i].name);
        else
            g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", infos[i].name);
    }
    g_autoptr(GString) message = g_string_new("no backend: bulkheadd runs with --backend=none, so "
                                              "qubes cannot start or run commands; ");
    if (built->len)
        g_string_append_printf(message, "restart bulkheadd with %s", built->str);
    if (missing->len)
        g_string_append_printf(message, "%sbackends not built into this bulkheadd yet: %s",
                               built->len ? "; " : "", missing->str);
    g_set_error_literal(error, BH_DBUS_ERROR, BH_DBUS_ERROR_NO_BACKEND, message->str);
    return FALSE;
}

/* ---- starting (with the netvm first) ------------------------------------ */

void bh_backend_qube_holder_free(BhBackendQubeHolder *holder)
{
    g_clear_pointer(&holder->info, bh_qube_info_free);
    g_free(holder->netvm);
    g_free(holder->root_template);
    g_free(holder->root_path);
    g_free(holder->kernel);
    g_free(holder->virt_mode);
    g_free(holder->firewall);
    g_strfreev(holder->services);
    g_free(holder);
}

/* A qube's services as it starts: its own; a disposable also has its
 * disposable template's (as Qubes copies a template's features into a new
 * disposable), its own winning. */
static char **bh_daemon_services_for_start(BhDaemon *self, const BhQubeInfo *info)
{
    g_auto(GStrv) own = bh_store_list_services(self->store, info->name, NULL);
    g_auto(GStrv) inherited = NULL;
    g_autoptr(GStrvBuilder) all = g_strv_builder_new();

    if (info->klass == BH_CLASS_DISP_VM && info->template_name != NULL)
        inherited = bh_store_list_services(self->store, info->template_name, NULL);
    for (guint i = 0; own != NULL && own[i] != NULL; i++)
        g_strv_builder_add(all, own[i]);
    for (guint i = 0; inherited != NULL && inherited[i] != NULL; i++) {
        gsize len = strcspn(inherited[i], "=") + 1; /* "NAME=" */
        gboolean shadowed = FALSE;
        for (guint j = 0; own != NULL && own[j] != NULL && !shadowed; j++)
            shadowed = strncmp(own[j], inherited[i], len) == 0;
        if (!shadowed)
            g_strv_builder_add(all, inherited[i]);
    }
    return g_strv_builder_end(all);
}

guint bh_daemon_get_uint(BhDaemon *self, const char *qube, const char *prop, guint fallback)
{
    g_autofree char *value = NULL;
    guint64 n = 0;
    if (!bh_store_get_property(self->store, qube, prop, &value, NULL, NULL) ||
        !g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT, &n, NULL))
        return fallback;
    return (guint)n;
}

char *bh_daemon_get_string(BhDaemon *self, const char *qube, const char *prop)
{
    char *value = NULL;
    if (!bh_store_get_property(self->store, qube, prop, &value, NULL, NULL))
        return g_strdup("");
    return value;
}

/* What the backend needs to know about a qube, from the model. */
BhBackendQubeHolder *bh_daemon_describe_qube(BhDaemon *self, const char *name, GError **error)
{
    g_autoptr(BhBackendQubeHolder) h = g_new0(BhBackendQubeHolder, 1);
    h->info = bh_store_get_qube(self->store, name, error);
    if (h->info == NULL)
        return NULL;
    BhQubeInfo *info = h->info;
    h->netvm = bh_daemon_get_string(self, name, "netvm");
    if (info->template_name) {
        g_autoptr(BhQubeInfo) tpl = bh_store_get_qube(self->store, info->template_name, NULL);
        /* A DispVM's template is a disposable template (an AppVM): the root
         * comes from that one's template. */
        if (tpl && tpl->klass == BH_CLASS_TEMPLATE_VM)
            h->root_template = g_strdup(tpl->name);
        else if (tpl && tpl->template_name)
            h->root_template = g_strdup(tpl->template_name);
    }
    /* The root belongs to the TemplateVM it runs on, or to the qube itself. */
    const char *root_owner = h->root_template ? h->root_template : name;
    g_autofree char *readonly = bh_daemon_get_string(self, root_owner, "root_readonly");
    h->root_path = bh_daemon_get_string(self, root_owner, "root_path");
    h->kernel = bh_daemon_get_string(self, name, "kernel");
    h->virt_mode = bh_daemon_get_string(self, name, "virt_mode");
    h->qube.name = info->name;
    h->qube.qid = (guint32)info->qid;
    h->qube.klass = bh_class_name(info->klass);
    h->qube.label = info->label ? info->label->name : NULL;
    h->qube.template_name = info->template_name;
    h->qube.root_template = h->root_template;
    h->qube.netvm = *h->netvm ? h->netvm : NULL;
    h->qube.provides_network = info->provides_network;
    g_autofree char *uplink = NULL;
    h->qube.uplink = !bh_store_get_global(self->store, "network_uplink", &uplink, NULL, NULL) ||
                     g_strcmp0(uplink, "False") != 0;
    g_autofree char *loopback = NULL;
    h->qube.uplink_host_loopback =
        bh_store_get_global(self->store, "network_uplink_host_loopback", &loopback, NULL, NULL) &&
        g_strcmp0(loopback, "True") == 0;
    g_autofree char *ip6 = bh_daemon_get_string(self, name, "ip6");
    h->qube.ipv6 = ip6 != NULL && *ip6 != '\0';
    h->qube.disposable = info->klass == BH_CLASS_DISP_VM;
    h->qube.root_path = h->root_path;
    h->qube.root_readonly = g_str_equal(readonly, "True");
    h->qube.kernel = h->kernel;
    h->qube.virt_mode = h->virt_mode;
    h->qube.memory_mib = bh_daemon_get_uint(self, name, "memory", 400);
    h->qube.maxmem_mib = bh_daemon_get_uint(self, name, "maxmem", 4000);
    h->qube.vcpus = bh_daemon_get_uint(self, name, "vcpus", 2);
    h->qube.private_mib = bh_daemon_get_uint(self, name, "private_size", 2048);
    h->qube.root_mib = info->klass == BH_CLASS_STANDALONE_VM || info->klass == BH_CLASS_TEMPLATE_VM
                           ? bh_daemon_get_uint(self, name, "root_size", 10240)
                           : 0;
    h->services = bh_daemon_services_for_start(self, info);
    h->qube.services = (const char *const *)h->services;
    return g_steal_pointer(&h);
}

gboolean bh_daemon_start_finish(BhDaemon *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* A failed start is an event of the qube's (its backend could not start it,
 * its netvm did not start, its agent stayed silent), never a fault of the
 * daemon's: logged as a message, and told to whoever listens (StartFailed:
 * the shell's notice) with the reason, whoever asked for the start. Nothing
 * of it may run on (backend.h: a backend answers a failed start once the
 * qube is gone); what a backend still holds of it is killed, and the qube
 * is Dying until the backend reports it gone, never Halted while it runs. */
static void bh_daemon_start_failed(BhDaemon *self, const char *name, const GError *error)
{
    g_message("[%s] start failed: %s", name, error->message);
    bh_dbus_admin1_emit_start_failed(self->skeleton, name, error->message);
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);
    BhPowerState held = self->backend ? bh_backend_get_state(self->backend, name) : BH_POWER_HALTED;
    if (rt->state == BH_POWER_TRANSIENT &&
        (held == BH_POWER_TRANSIENT || held == BH_POWER_RUNNING || held == BH_POWER_PAUSED)) {
        g_autoptr(GError) kill_error = NULL;
        g_message("[%s] its backend still holds it (%s) after the failed start: killing it", name,
                  bh_power_state_name(held));
        if (!bh_backend_kill(self->backend, name, &kill_error))
            g_message("[%s] cannot kill it: %s", name, kill_error->message);
        else if (rt->state == BH_POWER_TRANSIENT)
            bh_daemon_set_state(self, name, BH_POWER_DYING, error->message);
    }
    if (rt->state == BH_POWER_TRANSIENT)
        bh_daemon_set_state(self, name, BH_POWER_HALTED, error->message);
    bh_daemon_complete_start_waiters(self, name, error);
}

/* A started qube is ready once its RPC agent answered (or it has none): one
 * whose agent stays silent is killed, as one whose init does not boot is by
 * its backend — it cannot be used, and a silent agent may be a hostile one. */
static void bh_daemon_agent_ready(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhNameContext *ctx = user_data;
    BhDaemon *self = ctx->self;
    g_autoptr(GError) error = NULL;

    if (self->agents && bh_agent_set_wait_ready_finish(self->agents, result, &error)) {
        bh_daemon_complete_start_waiters(self, ctx->name, NULL);
    } else {
        g_autoptr(GError) failed =
            g_error_new(BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "%s started but is not ready: %s",
                        ctx->name, error ? error->message : "bulkheadd is stopping");
        g_autoptr(GError) kill_error = NULL;
        if (self->backend && !bh_power_is_down(bh_daemon_runtime(self, ctx->name)->state) &&
            !bh_backend_kill(self->backend, ctx->name, &kill_error))
            g_message("[%s] cannot kill it: %s", ctx->name, kill_error->message);
        bh_daemon_start_failed(self, ctx->name, failed);
    }
    bh_name_context_free(ctx);
}

static void bh_daemon_backend_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhNameContext *ctx = user_data;
    BhDaemon *self = ctx->self;
    g_autoptr(GError) error = NULL;

    if (!bh_backend_start_finish(self->backend, result, &error)) {
        bh_daemon_start_failed(self, ctx->name, error);
        bh_name_context_free(ctx);
        return;
    }
    bh_daemon_set_state(self, ctx->name, BH_POWER_RUNNING, NULL);
    bh_agent_set_wait_ready_async(self->agents, ctx->name, NULL, bh_daemon_agent_ready, ctx);
}

static void bh_daemon_start_with_firewall(BhDaemon *self, BhBackendQubeHolder *holder, gpointer data)
{
    bh_backend_start(self->backend, &holder->qube, NULL, bh_daemon_backend_started, data);
    bh_backend_qube_holder_free(holder);
}

static void bh_daemon_start_backend(BhDaemon *self, const char *name)
{
    g_autoptr(GError) error = NULL;
    BhBackendQubeHolder *holder = bh_daemon_describe_qube(self, name, &error);
    if (holder == NULL) {
        bh_daemon_start_failed(self, name, error);
        return;
    }
    /* Its firewall first (names resolved): it never runs without it. */
    bh_daemon_firewall_for_start(self, holder, bh_daemon_start_with_firewall,
                                 bh_name_context_new(self, name));
}

static void bh_daemon_netvm_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhNameContext *ctx = user_data;
    g_autoptr(GError) error = NULL;

    if (!bh_daemon_start_finish(ctx->self, result, &error)) {
        g_autofree char *netvm = bh_daemon_get_string(ctx->self, ctx->name, "netvm");
        g_prefix_error(&error, "cannot start %s: its netvm %s did not start: ", ctx->name, netvm);
        bh_daemon_start_failed(ctx->self, ctx->name, error);
    } else {
        bh_daemon_start_backend(ctx->self, ctx->name);
    }
    bh_name_context_free(ctx);
}

/* Completes when the qube runs; starts its netvm first. A qube already
 * starting is joined, one already running succeeds at once. */
void bh_daemon_start_async(BhDaemon *self, const char *name, GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
    g_autoptr(GError) error = NULL;
    g_task_set_source_tag(task, bh_daemon_start_async);

    if (!bh_daemon_require_backend(self, &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, &error);
    if (info == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (info->klass == BH_CLASS_ADMIN_VM) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);
    rt->wanted++;
    switch (rt->state) {
    case BH_POWER_RUNNING:
        g_task_return_boolean(task, TRUE);
        return;
    case BH_POWER_TRANSIENT:
        g_ptr_array_add(rt->start_waiters, g_steal_pointer(&task));
        return;
    case BH_POWER_PAUSED:
        g_task_return_new_error(task, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_HALTED,
                                "qube %s is paused; resume it with qvm-unpause %s", name, name);
        return;
    case BH_POWER_HALTING:
    case BH_POWER_DYING:
        g_task_return_new_error(task, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_HALTED,
                                "qube %s is shutting down; start it again once it is halted", name);
        return;
    case BH_POWER_HALTED:
    case BH_POWER_CRASHED:
        break;
    }
    if (!bh_daemon_require_not_cloning(self, name, "start", &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }

    g_ptr_array_add(rt->start_waiters, g_steal_pointer(&task));
    bh_daemon_set_state(self, name, BH_POWER_TRANSIENT, NULL);
    g_autofree char *netvm = bh_daemon_get_string(self, name, "netvm");
    if (*netvm)
        bh_daemon_start_async(self, netvm, bh_daemon_netvm_started, bh_name_context_new(self, name));
    else
        bh_daemon_start_backend(self, name);
}

static void bh_daemon_autostarted(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autofree char *name = user_data;
    g_autoptr(GError) error = NULL;
    BhDaemon *self = BH_DAEMON(source);
    if (bh_daemon_start_finish(self, result, &error))
        g_info("[%s] autostarted", name);
    else if (self->backend == NULL) /* bh_daemon_stop came first: not a failure of the qube */
        g_info("[%s] autostart ended: bulkheadd is stopping (%s)", name, error->message);
    else /* bh_daemon_start_failed said why, and told the user */
        g_message("[%s] autostart failed: %s", name, error->message);
}

guint bh_daemon_adopt(BhDaemon *self)
{
    if (self->backend == NULL)
        return 0;
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(self->store, NULL);
    g_autoptr(GPtrArray) holders =
        g_ptr_array_new_with_free_func((GDestroyNotify)bh_backend_qube_holder_free);
    g_autoptr(GArray) described = g_array_new(FALSE, FALSE, sizeof(BhBackendQube));
    for (guint i = 0; qubes && i < qubes->len; i++) {
        BhQubeInfo *info = qubes->pdata[i];
        g_autoptr(GError) error = NULL;
        if (info->klass == BH_CLASS_ADMIN_VM)
            continue;
        /* Known (as the backend sees it now: down) before the backend reports
         * an adopted qube, so that report is a transition, which starts its guid. */
        (void)bh_daemon_runtime(self, info->name);
        BhBackendQubeHolder *h = bh_daemon_describe_qube(self, info->name, &error);
        if (h == NULL) {
            g_message("[%s] cannot be adopted: %s", info->name, error->message);
            continue;
        }
        g_ptr_array_add(holders, h);
        g_array_append_val(described, h->qube);
    }
    bh_backend_adopt(self->backend, (const BhBackendQube *)(void *)described->data, described->len);
    guint running = 0;
    for (guint i = 0; i < holders->len; i++) {
        BhBackendQubeHolder *h = holders->pdata[i];
        BhPowerState state = bh_daemon_runtime(self, h->qube.name)->state;
        running += state == BH_POWER_RUNNING || state == BH_POWER_PAUSED;
        /* Running started its guid; a paused one gets it now (it connects once
         * the qube is resumed), as unpausing keeps the guid it has. */
        if (state == BH_POWER_PAUSED)
            bh_daemon_start_guid(self, h->qube.name);
        /* The backend learns its netvm and firewall again (it had them from
         * the earlier daemon only in the kernel's tables). */
        if (state == BH_POWER_RUNNING || state == BH_POWER_PAUSED)
            bh_daemon_net_adopted(self, h->qube.name, h->netvm);
    }
    return running;
}

guint bh_daemon_autostart(BhDaemon *self)
{
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(self->store, NULL);
    guint started = 0;
    for (guint i = 0; qubes && i < qubes->len; i++) {
        BhQubeInfo *info = qubes->pdata[i];
        g_autofree char *autostart = bh_daemon_get_string(self, info->name, "autostart");
        if (!g_str_equal(autostart, "True"))
            continue;
        if (self->backend == NULL) {
            g_message("[%s] not autostarted: no backend (--backend=none)", info->name);
            continue;
        }
        bh_daemon_start_async(self, info->name, bh_daemon_autostarted, g_strdup(info->name));
        started++;
    }
    return started;
}
