/* bh-daemon.c — BhDaemon; see bh-daemon.h.
 *
 * Runs entirely on the main context: GDBus dispatches every method call
 * there, so store transactions are naturally serialised and the in-memory
 * power states need no lock. A reply is sent only after the store call
 * returned (the store commits and syncs before returning), which is what
 * "acknowledged" means to clients. Signals describing a change are emitted
 * before the reply, so a client sees them by the time its call returns.
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-private.h"

#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "bh-clipboard.h"
#include "bh-daemon-error.h"
#include "bh-dbus-admin1.h"
#include "bh-dbus-error.h"
#include "bh-guid-set.h"
#include "bh-policy-store.h"
#include "bh-state-lock.h"

/* Shutdown timeouts beyond this are treated as a mistake, not a wish. */
#define BH_DAEMON_MAX_SHUTDOWN_TIMEOUT_S 3600

G_DEFINE_TYPE(BhDaemon, bh_daemon, G_TYPE_OBJECT)

/* ---- D-Bus: reading ------------------------------------------------------ */

static GVariant *bh_daemon_qube_dict(BhDaemon *self, const BhQubeInfo *info)
{
    GVariantDict dict;
    g_autofree char *netvm = bh_daemon_get_string(self, info->name, "netvm");
    g_variant_dict_init(&dict, NULL);
    g_variant_dict_insert(&dict, "name", "s", info->name);
    g_variant_dict_insert(&dict, "qid", "u", (guint32)info->qid);
    g_variant_dict_insert(&dict, "class", "s", bh_class_name(info->klass));
    g_variant_dict_insert(&dict, "state", "s",
                          bh_power_state_name(bh_daemon_runtime(self, info->name)->state));
    g_variant_dict_insert(&dict, "label", "s", info->label ? info->label->name : "");
    g_variant_dict_insert(&dict, "color", "s", info->label ? info->label->hex : "");
    g_variant_dict_insert(&dict, "template", "s", info->template_name ? info->template_name : "");
    g_variant_dict_insert(&dict, "netvm", "s", netvm);
    g_variant_dict_insert(&dict, "provides_network", "b", info->provides_network);
    g_variant_dict_insert(&dict, "template_for_dispvms", "b", info->template_for_dispvms);
    const char *gui_error = bh_daemon_runtime(self, info->name)->gui_error;
    g_variant_dict_insert(&dict, "gui_error", "s", gui_error ? gui_error : "");
    const char *const empty[] = {NULL};
    g_variant_dict_insert_value(&dict, "tags",
                                g_variant_new_strv(info->tags ? (const char *const *)info->tags : empty, -1));
    return g_variant_dict_end(&dict);
}

static gboolean bh_daemon_handle_list_qubes(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                            BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(self->store, &error);
    if (qubes == NULL)
        return bh_daemon_return_error(invocation, error);
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < qubes->len; i++)
        g_variant_builder_add_value(&builder, bh_daemon_qube_dict(self, qubes->pdata[i]));
    bh_dbus_admin1_complete_list_qubes(skeleton, invocation, g_variant_builder_end(&builder));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_get_state(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                           const char *qube, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, qube, &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    bh_dbus_admin1_complete_get_state(skeleton, invocation,
                                      bh_power_state_name(bh_daemon_runtime(self, qube)->state));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GVariant *bh_daemon_values_variant(GPtrArray *values)
{
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a{s(sb)}"));
    for (guint i = 0; i < values->len; i++) {
        BhPropValue *v = values->pdata[i];
        g_variant_builder_add(&builder, "{s(sb)}", v->def->name, v->value ? v->value : "", v->is_default);
    }
    return g_variant_builder_end(&builder);
}

static gboolean bh_daemon_handle_get_properties(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                const char *qube, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) values = bh_store_list_properties(self->store, qube, &error);
    if (values == NULL)
        return bh_daemon_return_error(invocation, error);
    bh_dbus_admin1_complete_get_properties(skeleton, invocation, bh_daemon_values_variant(values));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_get_property(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *qube, const char *prop, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    gboolean is_default = FALSE;
    if (!bh_store_get_property(self->store, qube, prop, &value, &is_default, &error))
        return bh_daemon_return_error(invocation, error);
    bh_dbus_admin1_complete_get_property(skeleton, invocation, value ? value : "", is_default);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_get_globals(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                             BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) values = bh_store_list_globals(self->store, &error);
    if (values == NULL)
        return bh_daemon_return_error(invocation, error);
    bh_dbus_admin1_complete_get_globals(skeleton, invocation, bh_daemon_values_variant(values));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_get_global(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                            const char *prop, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    gboolean is_default = FALSE;
    if (!bh_store_get_global(self->store, prop, &value, &is_default, &error))
        return bh_daemon_return_error(invocation, error);
    bh_dbus_admin1_complete_get_global(skeleton, invocation, value ? value : "", is_default);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_describe_properties(BhDbusAdmin1 *skeleton,
                                                     GDBusMethodInvocation *invocation, const char *scope,
                                                     BhDaemon *self)
{
    gsize n = 0;
    const BhPropDef *defs;
    if (g_str_equal(scope, "qube")) {
        defs = bh_props(&n);
    } else if (g_str_equal(scope, "global")) {
        defs = bh_globals(&n);
    } else {
        g_autofree char *quoted = bh_qubes_quote(scope);
        g_dbus_method_invocation_return_error(invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                                              "unknown scope %s: use \"qube\" or \"global\"", quoted);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sss)"));
    for (gsize i = 0; i < n; i++) {
        const BhPropDef *def = &defs[i];
        g_autofree char *help =
            def->default_help
                ? g_strdup_printf("%s Default: %s", def->help ? def->help : "", def->default_help)
                : g_strdup(def->help ? def->help : "");
        g_variant_builder_add(&builder, "(sss)", def->name, bh_prop_type_name(def->type), help);
    }
    bh_dbus_admin1_complete_describe_properties(skeleton, invocation, g_variant_builder_end(&builder));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_list_labels(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                             BhDaemon *self)
{
    const BhLabel *labels = bh_labels();
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a(ss)"));
    for (guint i = 0; i < BH_LABEL_COUNT; i++)
        g_variant_builder_add(&builder, "(ss)", labels[i].name, labels[i].hex);
    bh_dbus_admin1_complete_list_labels(skeleton, invocation, g_variant_builder_end(&builder));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- D-Bus: changing the model ------------------------------------------- */

static gboolean bh_daemon_require_halted(BhDaemon *self, const char *name, const char *what, GError **error)
{
    BhPowerState state = bh_daemon_runtime(self, name)->state;
    if (bh_power_is_down(state))
        return TRUE;
    g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_HALTED,
                "cannot %s %s while it is %s; shut it down first (qvm-shutdown --wait %s)", what, name,
                bh_power_state_name(state), name);
    return FALSE;
}

static gboolean bh_daemon_handle_set_property(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *qube, const char *prop, const char *value,
                                              BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    gboolean rename = g_str_equal(prop, "name");

    /* A running qube keeps the name and root it was started with. */
    if (rename || g_str_equal(prop, "template")) {
        g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, qube, NULL);
        if (info &&
            !bh_daemon_require_halted(self, qube, rename ? "rename" : "change the template of", &error))
            return bh_daemon_return_error(invocation, error);
    }
    if (!bh_store_set_property(self->store, qube, prop, value, &error))
        return bh_daemon_return_error(invocation, error);

    const char *now_named = rename ? value : qube;
    g_autofree char *effective = bh_daemon_get_string(self, now_named, prop);
    g_info("[%s] %s = %s", qube, prop, effective);
    bh_dbus_admin1_emit_property_changed(skeleton, qube, prop, effective);
    if (rename) {
        g_autofree char *old_key = NULL;
        BhQubeRuntime *rt = NULL;
        if (g_hash_table_steal_extended(self->runtime, qube, (gpointer *)&old_key, (gpointer *)&rt))
            g_hash_table_insert(self->runtime, g_strdup(value), rt);
        bh_dbus_admin1_emit_qube_removed(skeleton, qube);
        bh_dbus_admin1_emit_qube_added(skeleton, value);
    }
    bh_dbus_admin1_complete_set_property(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_reset_property(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                const char *qube, const char *prop, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    if (!bh_store_reset_property(self->store, qube, prop, &error))
        return bh_daemon_return_error(invocation, error);
    g_autofree char *effective = bh_daemon_get_string(self, qube, prop);
    g_info("[%s] %s reset to %s", qube, prop, effective);
    bh_dbus_admin1_emit_property_changed(skeleton, qube, prop, effective);
    bh_dbus_admin1_complete_reset_property(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void bh_daemon_global_changed(BhDaemon *self, const char *prop)
{
    g_autofree char *effective = NULL;
    if (!bh_store_get_global(self->store, prop, &effective, NULL, NULL))
        effective = g_strdup("");
    g_info("global %s = %s", prop, effective);
    bh_dbus_admin1_emit_global_changed(self->skeleton, prop, effective);
    bh_clipboard_limit_changed(self->clipboard);
}

static gboolean bh_daemon_handle_set_global(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                            const char *prop, const char *value, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    if (!bh_store_set_global(self->store, prop, value, &error))
        return bh_daemon_return_error(invocation, error);
    bh_daemon_global_changed(self, prop);
    bh_dbus_admin1_complete_set_global(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_reset_global(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *prop, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    if (!bh_store_reset_global(self->store, prop, &error))
        return bh_daemon_return_error(invocation, error);
    bh_daemon_global_changed(self, prop);
    bh_dbus_admin1_complete_reset_global(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* With a backend, a new qube gets its volumes; if that fails the qube is
 * removed again so the store never lists a qube that cannot start. */
static gboolean bh_daemon_add_volumes(BhDaemon *self, const char *name, const char *clone_source,
                                      GError **error)
{
    if (self->backend == NULL)
        return TRUE;
    g_autoptr(BhBackendQubeHolder) holder = bh_daemon_describe_qube(self, name, error);
    gboolean ok = holder != NULL &&
                  (clone_source ? bh_backend_clone_volumes(self->backend, clone_source, &holder->qube, error)
                                : bh_backend_create_volumes(self->backend, &holder->qube, error));
    if (ok)
        return TRUE;
    g_autoptr(GError) undo_error = NULL;
    bh_backend_remove_volumes(self->backend, name, NULL);
    if (!bh_store_remove_qube(self->store, name, &undo_error))
        g_warning("[%s] cannot undo the creation: %s", name, undo_error->message);
    return FALSE;
}

static gboolean bh_daemon_handle_create(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                        const char *klass_name, const char *name, const char *label,
                                        const char *template_name, GVariant *properties, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    BhQubeClass klass;
    if (!bh_class_from_name(klass_name, &klass)) {
        g_autofree char *quoted = bh_qubes_quote(klass_name);
        g_dbus_method_invocation_return_error(
            invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_VALUE,
            "unknown class %s: use AppVM, TemplateVM, StandaloneVM or DispVM", quoted);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

    g_autoptr(GStrvBuilder) pairs = g_strv_builder_new();
    GVariantIter iter;
    const char *key, *value;
    g_variant_iter_init(&iter, properties);
    while (g_variant_iter_next(&iter, "{&s&s}", &key, &value)) {
        g_strv_builder_add(pairs, key);
        g_strv_builder_add(pairs, value);
    }
    g_auto(GStrv) props = g_strv_builder_end(pairs);

    int qid = bh_store_create_qube(self->store, klass, name, *label ? label : NULL,
                                   *template_name ? template_name : NULL, (const char *const *)props, &error);
    if (qid < 0 || !bh_daemon_add_volumes(self, name, NULL, &error))
        return bh_daemon_return_error(invocation, error);
    g_info("[%s] created (%s, qid %d)", name, bh_class_name(klass), qid);
    bh_dbus_admin1_emit_qube_added(skeleton, name);
    bh_dbus_admin1_complete_create(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_clone(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                       const char *source, const char *name, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, source, NULL);
    /* Copying volumes under a running qube would copy a torn state. */
    if (info && !bh_daemon_require_halted(self, source, "clone", &error))
        return bh_daemon_return_error(invocation, error);
    int qid = bh_store_clone_qube(self->store, source, name, &error);
    if (qid < 0 || !bh_daemon_add_volumes(self, name, source, &error))
        return bh_daemon_return_error(invocation, error);
    g_info("[%s] cloned from %s (qid %d)", name, source, qid);
    bh_dbus_admin1_emit_qube_added(skeleton, name);
    bh_dbus_admin1_complete_clone(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_remove(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                        const char *name, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    if (info->klass != BH_CLASS_ADMIN_VM && !bh_daemon_require_halted(self, name, "remove", &error))
        return bh_daemon_return_error(invocation, error);
    if (!bh_store_remove_qube(self->store, name, &error))
        return bh_daemon_return_error(invocation, error);
    if (self->backend && !bh_backend_remove_volumes(self->backend, name, &error)) {
        /* The qube is gone from the model either way; leftover files are
         * reported, not fatal. */
        g_warning("[%s] removed, but its volumes were not: %s", name, error->message);
    }
    g_hash_table_remove(self->runtime, name);
    g_info("[%s] removed", name);
    bh_dbus_admin1_emit_qube_removed(skeleton, name);
    bh_dbus_admin1_complete_remove(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- D-Bus: power -------------------------------------------------------- */

/* Common preamble of the power methods: a backend, an existing qube, not dom0. */
static BhQubeInfo *bh_daemon_power_target(BhDaemon *self, const char *name, const char *what, GError **error)
{
    if (!bh_daemon_require_backend(self, error))
        return NULL;
    g_autoptr(BhQubeInfo) info = bh_store_get_qube(self->store, name, error);
    if (info == NULL)
        return NULL;
    if (info->klass == BH_CLASS_ADMIN_VM) {
        g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_PERMISSION, "cannot %s dom0", what);
        return NULL;
    }
    return g_steal_pointer(&info);
}

typedef struct {
    BhDaemon *self;
    GDBusMethodInvocation *invocation;
    char *name;
} BhCallContext;

static BhCallContext *bh_call_context_new(BhDaemon *self, GDBusMethodInvocation *invocation, const char *name)
{
    BhCallContext *ctx = g_new0(BhCallContext, 1);
    ctx->self = g_object_ref(self);
    ctx->invocation = invocation;
    ctx->name = g_strdup(name);
    return ctx;
}

static void bh_call_context_free(BhCallContext *ctx)
{
    g_object_unref(ctx->self);
    g_free(ctx->name);
    g_free(ctx);
}

static void bh_daemon_start_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhCallContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (bh_daemon_start_finish(ctx->self, result, &error))
        bh_dbus_admin1_complete_start(ctx->self->skeleton, ctx->invocation);
    else
        bh_daemon_return_error(ctx->invocation, error);
    bh_call_context_free(ctx);
}

static gboolean bh_daemon_handle_start(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                       const char *name, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_daemon_power_target(self, name, "start", &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    if (bh_daemon_runtime(self, name)->state == BH_POWER_RUNNING) {
        g_dbus_method_invocation_return_error(invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_HALTED,
                                              "qube %s is already running", name);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    bh_daemon_start_async(self, name, bh_daemon_start_done, bh_call_context_new(self, invocation, name));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void bh_daemon_shutdown_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhCallContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (!bh_backend_shutdown_finish(ctx->self->backend, result, &error)) {
        /* Nobody hears of it when the caller did not wait: warn then. */
        if (ctx->invocation)
            bh_daemon_return_error(ctx->invocation, error);
        else
            g_warning("[%s] shutdown failed: %s", ctx->name, error->message);
    } else {
        /* The backend may report Halted only through this completion. */
        bh_daemon_set_state(ctx->self, ctx->name, BH_POWER_HALTED, NULL);
        if (ctx->invocation)
            bh_dbus_admin1_complete_shutdown(ctx->self->skeleton, ctx->invocation);
    }
    bh_call_context_free(ctx);
}

static gboolean bh_daemon_handle_shutdown(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                          const char *name, gboolean wait, guint timeout_s, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_daemon_power_target(self, name, "shut down", &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    BhQubeRuntime *rt = bh_daemon_runtime(self, name);

    if (bh_power_is_down(rt->state)) {
        bh_dbus_admin1_complete_shutdown(skeleton, invocation);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (rt->state == BH_POWER_TRANSIENT) {
        g_dbus_method_invocation_return_error(invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_RUNNING,
                                              "qube %s is still starting; shut it down once it "
                                              "runs, or kill it (qvm-kill %s)",
                                              name, name);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (rt->state == BH_POWER_HALTING || rt->state == BH_POWER_DYING) {
        if (wait)
            g_ptr_array_add(rt->halt_waiters, invocation);
        else
            bh_dbus_admin1_complete_shutdown(skeleton, invocation);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

    if (timeout_s == 0)
        timeout_s = bh_daemon_get_uint(self, name, "shutdown_timeout", 60);
    timeout_s = MIN(timeout_s, BH_DAEMON_MAX_SHUTDOWN_TIMEOUT_S);
    bh_daemon_set_state(self, name, BH_POWER_HALTING, NULL);
    BhCallContext *ctx = bh_call_context_new(self, wait ? invocation : NULL, name);
    if (!wait)
        bh_dbus_admin1_complete_shutdown(skeleton, invocation);
    bh_backend_shutdown(self->backend, name, timeout_s, NULL, bh_daemon_shutdown_done, ctx);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef gboolean (*BhBackendQubeOp)(BhBackend *backend, const char *qube, GError **error);

static gboolean bh_daemon_simple_power(BhDaemon *self, GDBusMethodInvocation *invocation, const char *name,
                                       const char *what, BhPowerState required, BhPowerState after,
                                       BhBackendQubeOp op)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = bh_daemon_power_target(self, name, what, &error);
    if (info == NULL)
        return bh_daemon_return_error(invocation, error);
    BhPowerState state = bh_daemon_runtime(self, name)->state;
    gboolean allowed = required == BH_POWER_N_STATES ? !bh_power_is_down(state) : state == required;
    if (!allowed) {
        int code = required == BH_POWER_PAUSED ? BH_DBUS_ERROR_NOT_PAUSED : BH_DBUS_ERROR_NOT_RUNNING;
        g_dbus_method_invocation_return_error(invocation, BH_DBUS_ERROR, code, "cannot %s %s: it is %s", what,
                                              name, bh_power_state_name(state));
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (!op(self->backend, name, &error))
        return bh_daemon_return_error(invocation, error);
    /* The backend may already have reported the change, or a later one. */
    if (bh_daemon_runtime(self, name)->state == state)
        bh_daemon_set_state(self, name, after, NULL);
    g_dbus_method_invocation_return_value(invocation, NULL);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_kill(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                      const char *name, BhDaemon *self)
{
    /* BH_POWER_N_STATES: any state but down. */
    return bh_daemon_simple_power(self, invocation, name, "kill", BH_POWER_N_STATES, BH_POWER_DYING,
                                  bh_backend_kill);
}

static gboolean bh_daemon_handle_pause(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                       const char *name, BhDaemon *self)
{
    return bh_daemon_simple_power(self, invocation, name, "pause", BH_POWER_RUNNING, BH_POWER_PAUSED,
                                  bh_backend_pause);
}

static gboolean bh_daemon_handle_unpause(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                         const char *name, BhDaemon *self)
{
    return bh_daemon_simple_power(self, invocation, name, "unpause", BH_POWER_PAUSED, BH_POWER_RUNNING,
                                  bh_backend_unpause);
}

static void bh_daemon_disposable_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhCallContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (bh_daemon_start_finish(ctx->self, result, &error)) {
        bh_dbus_admin1_complete_create_disposable(ctx->self->skeleton, ctx->invocation, ctx->name);
    } else {
        bh_daemon_discard_disposable(ctx->self, ctx->name);
        bh_daemon_return_error(ctx->invocation, error);
    }
    bh_call_context_free(ctx);
}

static gboolean bh_daemon_handle_create_disposable(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                   const char *dvm_template, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    int qid = -1;
    if (!bh_daemon_require_backend(self, &error))
        return bh_daemon_return_error(invocation, error);
    g_autofree char *name =
        bh_store_create_disposable(self->store, *dvm_template ? dvm_template : NULL, &qid, &error);
    if (name == NULL || !bh_daemon_add_volumes(self, name, NULL, &error))
        return bh_daemon_return_error(invocation, error);
    g_info("[%s] disposable created (qid %d)", name, qid);
    bh_dbus_admin1_emit_qube_added(skeleton, name);
    bh_daemon_start_async(self, name, bh_daemon_disposable_started,
                          bh_call_context_new(self, invocation, name));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- D-Bus: Run ----------------------------------------------------------- */

typedef struct {
    BhDaemon *self;
    GDBusMethodInvocation *invocation;
    char *name;
    char *commandline;
    char *user;
    gboolean wait;
    int fds[3]; /* ours (duplicated from the message); -1 when not passed */
} BhRunContext;

static void bh_run_context_free(BhRunContext *ctx)
{
    for (int i = 0; i < 3; i++)
        if (ctx->fds[i] >= 0)
            close(ctx->fds[i]);
    g_object_unref(ctx->self);
    g_free(ctx->name);
    g_free(ctx->commandline);
    g_free(ctx->user);
    g_free(ctx);
}

static void bh_daemon_run_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhRunContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    int status = -1;
    if (bh_backend_run_finish(ctx->self->backend, result, &status, &error)) {
        g_info("[%s] command finished with status %d", ctx->name, status);
        bh_dbus_admin1_complete_run(ctx->self->skeleton, ctx->invocation, NULL, ctx->wait ? status : 0);
    } else {
        bh_daemon_return_error(ctx->invocation, error);
    }
    bh_run_context_free(ctx);
}

static void bh_daemon_run_now(BhRunContext *ctx)
{
    BhDaemon *self = ctx->self;
    if (*ctx->user == '\0') {
        g_free(ctx->user);
        ctx->user = bh_daemon_get_string(self, ctx->name, "default_user");
    }
    BhBackendRun run = {
        .user = ctx->user,
        .commandline = ctx->commandline,
        .stdin_fd = ctx->fds[0],
        .stdout_fd = ctx->fds[1],
        .stderr_fd = ctx->fds[2],
        .wait = ctx->wait,
    };
    g_info("[%s] run as %s: %s", ctx->name, ctx->user, ctx->commandline);
    bh_backend_run(self->backend, ctx->name, &run, NULL, bh_daemon_run_done, ctx);
}

static void bh_daemon_run_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhRunContext *ctx = user_data;
    g_autoptr(GError) error = NULL;
    if (!bh_daemon_start_finish(ctx->self, result, &error)) {
        bh_daemon_return_error(ctx->invocation, error);
        bh_run_context_free(ctx);
        return;
    }
    bh_daemon_run_now(ctx);
}

/* Reads the options of Run into ctx; unknown keys and wrong types are
 * refused rather than ignored, so a typo never silently changes behaviour. */
static gboolean bh_daemon_parse_run_options(BhRunContext *ctx, GVariant *options, GUnixFDList *fd_list,
                                            gboolean *autostart, GError **error)
{
    static const char *const fd_keys[] = {"stdin", "stdout", "stderr"};
    GVariantIter iter;
    const char *key;
    GVariant *value;

    g_variant_iter_init(&iter, options);
    while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
        g_autoptr(GVariant) v = value;
        int fd_slot = -1;
        for (int i = 0; i < 3; i++)
            if (g_str_equal(key, fd_keys[i]))
                fd_slot = i;
        if (g_str_equal(key, "wait") && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
            ctx->wait = g_variant_get_boolean(v);
        } else if (g_str_equal(key, "autostart") && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
            *autostart = g_variant_get_boolean(v);
        } else if (fd_slot >= 0 && g_variant_is_of_type(v, G_VARIANT_TYPE_HANDLE)) {
            gint32 index = g_variant_get_handle(v);
            if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length(fd_list)) {
                g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                            "option %s refers to file descriptor %d, which was not passed", key, index);
                return FALSE;
            }
            if (ctx->fds[fd_slot] >= 0)
                close(ctx->fds[fd_slot]);
            ctx->fds[fd_slot] = g_unix_fd_list_get(fd_list, index, error);
            if (ctx->fds[fd_slot] < 0)
                return FALSE;
        } else {
            g_autofree char *quoted = bh_qubes_quote(key);
            g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                        "unknown Run option %s of type %s (options: autostart b, wait b, stdin h, "
                        "stdout h, stderr h)",
                        quoted, g_variant_get_type_string(v));
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean bh_daemon_handle_run(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                     GUnixFDList *fd_list, const char *name, const char *commandline,
                                     const char *user, GVariant *options, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhQubeInfo) info = NULL;
    gboolean autostart = TRUE;
    BhRunContext *ctx = g_new0(BhRunContext, 1);
    ctx->self = g_object_ref(self);
    ctx->invocation = invocation;
    ctx->name = g_strdup(name);
    ctx->commandline = g_strdup(commandline);
    ctx->user = g_strdup(user);
    ctx->fds[0] = ctx->fds[1] = ctx->fds[2] = -1;

    if (!bh_daemon_parse_run_options(ctx, options, fd_list, &autostart, &error))
        goto fail;
    info = bh_daemon_power_target(self, name, "run commands in", &error);
    if (info == NULL)
        goto fail;
    if (*commandline == '\0') {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT, "the command is empty");
        goto fail;
    }

    BhPowerState state = bh_daemon_runtime(self, name)->state;
    if (state == BH_POWER_RUNNING) {
        bh_daemon_run_now(ctx);
    } else if ((bh_power_is_down(state) || state == BH_POWER_TRANSIENT) && autostart) {
        bh_daemon_start_async(self, name, bh_daemon_run_started, ctx);
    } else {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_NOT_RUNNING, "qube %s is %s; %s", name,
                    bh_power_state_name(state),
                    state == BH_POWER_PAUSED ? "resume it with qvm-unpause first"
                                             : "start it first, or allow autostart");
        goto fail;
    }
    return G_DBUS_METHOD_INVOCATION_HANDLED;

fail:
    bh_run_context_free(ctx);
    return bh_daemon_return_error(invocation, error);
}

/* ---- object ----------------------------------------------------------------- */

char *bh_daemon_default_state_dir(void)
{
    return g_build_filename(g_get_user_data_dir(), "bulkhead", NULL);
}

void bh_daemon_stop(BhDaemon *self)
{
    /* Work in flight (a start's GTask) holds references to the object, so
     * finalize may never come; the qubes must stop all the same, now that a
     * crashed daemon's sandboxes outlive it (docs/sandbox.md). The
     * clipboard goes first: it asks the guid set who is calling. */
    g_clear_pointer(&self->clipboard, bh_clipboard_free);
    g_clear_pointer(&self->guids, bh_guid_set_free);
    g_clear_pointer(&self->backend, bh_backend_free);
}

static void bh_daemon_finalize(GObject *object)
{
    BhDaemon *self = BH_DAEMON(object);
    bh_daemon_unexport(self);
    /* Reverse order of bh_daemon_new: guids, backend (stops qubes), store, lock. */
    g_clear_pointer(&self->clipboard, bh_clipboard_free);
    g_clear_object(&self->policy);
    g_clear_pointer(&self->guids, bh_guid_set_free);
    g_clear_pointer(&self->runtime, g_hash_table_unref);
    g_clear_pointer(&self->backend, bh_backend_free);
    g_clear_pointer(&self->store, bh_store_close);
    g_clear_pointer(&self->lock, bh_state_lock_release);
    g_clear_object(&self->skeleton);
    g_free(self->state_dir);
    G_OBJECT_CLASS(bh_daemon_parent_class)->finalize(object);
}

static void bh_daemon_class_init(BhDaemonClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = bh_daemon_finalize;
}

static void bh_daemon_init(BhDaemon *self)
{
    self->runtime = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bh_qube_runtime_free);
    self->skeleton = bh_dbus_admin1_skeleton_new();

    struct {
        const char *signal;
        GCallback handler;
    } const handlers[] = {
        {"handle-list-qubes", G_CALLBACK(bh_daemon_handle_list_qubes)},
        {"handle-get-state", G_CALLBACK(bh_daemon_handle_get_state)},
        {"handle-get-properties", G_CALLBACK(bh_daemon_handle_get_properties)},
        {"handle-get-property", G_CALLBACK(bh_daemon_handle_get_property)},
        {"handle-set-property", G_CALLBACK(bh_daemon_handle_set_property)},
        {"handle-reset-property", G_CALLBACK(bh_daemon_handle_reset_property)},
        {"handle-describe-properties", G_CALLBACK(bh_daemon_handle_describe_properties)},
        {"handle-get-globals", G_CALLBACK(bh_daemon_handle_get_globals)},
        {"handle-get-global", G_CALLBACK(bh_daemon_handle_get_global)},
        {"handle-set-global", G_CALLBACK(bh_daemon_handle_set_global)},
        {"handle-reset-global", G_CALLBACK(bh_daemon_handle_reset_global)},
        {"handle-list-labels", G_CALLBACK(bh_daemon_handle_list_labels)},
        {"handle-create", G_CALLBACK(bh_daemon_handle_create)},
        {"handle-clone", G_CALLBACK(bh_daemon_handle_clone)},
        {"handle-remove", G_CALLBACK(bh_daemon_handle_remove)},
        {"handle-start", G_CALLBACK(bh_daemon_handle_start)},
        {"handle-shutdown", G_CALLBACK(bh_daemon_handle_shutdown)},
        {"handle-kill", G_CALLBACK(bh_daemon_handle_kill)},
        {"handle-pause", G_CALLBACK(bh_daemon_handle_pause)},
        {"handle-unpause", G_CALLBACK(bh_daemon_handle_unpause)},
        {"handle-create-disposable", G_CALLBACK(bh_daemon_handle_create_disposable)},
        {"handle-run", G_CALLBACK(bh_daemon_handle_run)},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(handlers); i++)
        g_signal_connect(self->skeleton, handlers[i].signal, handlers[i].handler, self);
}

BhDaemon *bh_daemon_new(const BhDaemonConfig *config, GError **error)
{
    g_autoptr(BhDaemon) self = g_object_new(BH_TYPE_DAEMON, NULL);
    g_autoptr(BhBackend) given = config->backend_instance; /* ours even if we fail */
    const char *backend_name = config->backend ? config->backend : "none";

    /* Registers org.bulkhead.Error.* before the first reply. */
    (void)bh_dbus_error_quark();
    self->state_dir = g_strdup(config->state_dir);
    self->lock = bh_state_lock_acquire(self->state_dir, error);
    if (self->lock == NULL)
        return NULL;

    g_autofree char *store_path = g_build_filename(self->state_dir, "qubes.db", NULL);
    self->store = bh_store_open(store_path, error);
    if (self->store == NULL) {
        g_prefix_error(error, "cannot open the store %s: ", store_path);
        return NULL;
    }

    if (given) {
        self->backend = g_steal_pointer(&given);
        backend_name = self->backend->name;
    } else {
        g_autofree char *runtime_dir = g_build_filename(g_get_user_runtime_dir(), "bulkhead", NULL);
        BhBackendConfig bc = {.state_dir = self->state_dir, .runtime_dir = runtime_dir};
        if (!bh_backend_open(backend_name, &bc, &self->backend, error))
            return NULL;
    }
    self->backend_name = "none";
    self->backend_isolation = "none: qubes cannot be started";
    gsize n = 0;
    const BhBackendInfo *infos = bh_backend_list(&n);
    for (gsize i = 0; i < n; i++) {
        if (g_str_equal(infos[i].name, backend_name)) {
            self->backend_name = infos[i].name;
            self->backend_isolation = infos[i].isolation;
        }
    }
    if (self->backend) {
        if (!g_str_equal(self->backend_name, backend_name)) {
            /* A backend this registry does not list (a test's): report its own name. */
            self->backend_name = self->backend->name;
            self->backend_isolation = self->backend->name;
        }
        bh_backend_set_state_func(self->backend, bh_daemon_backend_state_changed, self);
    }
    if (!config->no_guid)
        self->guids = bh_guid_set_new(bh_daemon_guid_ended, self);
    /* Problems in the files are logged here; they deny, they do not stop us. */
    self->policy = bh_policy_store_new(NULL);
    self->clipboard = bh_clipboard_new(self->store, self->policy, self->guids);
    bh_dbus_admin1_set_backend(self->skeleton, self->backend_name);
    bh_dbus_admin1_set_backend_description(self->skeleton, self->backend_isolation);
    return g_steal_pointer(&self);
}

gboolean bh_daemon_export(BhDaemon *self, GDBusConnection *connection, GError **error)
{
    return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton), connection,
                                            BH_DBUS_PATH, error) &&
           bh_clipboard_export(self->clipboard, connection, BH_DBUS_PATH, error);
}

void bh_daemon_unexport(BhDaemon *self)
{
    if (self->skeleton && g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self->skeleton)))
        g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->skeleton));
    if (self->clipboard)
        bh_clipboard_unexport(self->clipboard);
}

const char *bh_daemon_get_backend_name(BhDaemon *self)
{
    return self->backend_name;
}
