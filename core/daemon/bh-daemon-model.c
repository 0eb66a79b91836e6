/* bh-daemon-model.c — the D-Bus methods of org.bulkhead.Admin1 that read
 * and change the model; see bh-daemon-private.h.
 *
 * Owns the handlers of ListQubes, GetState, the qube properties and the
 * globals (get, set, reset, describe), ListLabels, Create (and its dry run
 * CheckCreate), Clone and Remove:
 * each change one store transaction, signalled and then replied to. Must
 * never: change a qube's power state (it asks bh-daemon-power.c whether a
 * qube is down, and refuses to rename, re-template, clone or remove one that
 * is not).
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-error.h"
#include "bh-daemon-private.h"
#include "bh-dbus-error.h"

/* ---- D-Bus: reading ------------------------------------------------------ */

static GVariant *bh_daemon_qube_dict(BhDaemon *self, const BhQubeInfo *info)
{
    GVariantDict dict;
    g_autofree char *netvm = bh_daemon_get_string(self, info->name, "netvm");
    /* Effective values as text ("" for dom0, which has neither): the
     * settings' manager shows them without a call per qube. */
    g_autofree char *memory = bh_daemon_get_string(self, info->name, "memory");
    g_autofree char *private_size = bh_daemon_get_string(self, info->name, "private_size");
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
    g_variant_dict_insert(&dict, "memory", "s", memory);
    g_variant_dict_insert(&dict, "private_size", "s", private_size);
    g_variant_dict_insert(&dict, "provides_network", "b", info->provides_network);
    g_variant_dict_insert(&dict, "template_for_dispvms", "b", info->template_for_dispvms);
    /* Networking (computed by the model; "" without network), for qvm-ls. */
    const char *const net_keys[] = {"ip", "ip6", "gateway", "gateway6", "dns"};
    for (gsize k = 0; k < G_N_ELEMENTS(net_keys); k++) {
        g_autofree char *value = info->klass == BH_CLASS_ADMIN_VM
                                     ? g_strdup("")
                                     : bh_daemon_get_string(self, info->name, net_keys[k]);
        g_variant_dict_insert(&dict, net_keys[k], "s", value);
    }
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

/* A clone whose volumes a backend copies: the call is answered once they
 * are there (or the clone undone). */
typedef struct {
    BhDaemon *self;                    /* a reference */
    GDBusMethodInvocation *invocation; /* answered once, in bh_daemon_clone_done */
    char *source, *name;
    int qid;
} BhCloneCall;

gboolean bh_daemon_require_not_cloning(BhDaemon *self, const char *name, const char *what, GError **error)
{
    const BhCloneCall *call = g_hash_table_lookup(self->cloning, name);
    if (call == NULL)
        return TRUE;
    gboolean made = g_str_equal(name, call->name);
    g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_BUSY,
                "cannot %s %s while it is %s %s; try again once the clone is done", what, name,
                made ? "being made as a clone of" : "being cloned to", made ? call->source : call->name);
    return FALSE;
}

void bh_daemon_abandon_clones(BhDaemon *self)
{
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, self->cloning);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const BhCloneCall *call = value;
        g_autoptr(GError) error = NULL;
        if (!g_str_equal(key, call->name))
            continue;
        /* Its copy is not done and never will be: a qube listed without it
         * would start on empty volumes, looking like a clone. */
        if (bh_store_remove_qube(self->store, call->name, &error))
            g_message("[%s] bulkheadd stopped before its copy of %s was done: removed; clone it again",
                      call->name, call->source);
        else
            g_warning("[%s] cannot remove the unfinished clone: %s", call->name, error->message);
    }
}

static gboolean bh_daemon_require_halted(BhDaemon *self, const char *name, const char *what, GError **error)
{
    if (!bh_daemon_require_not_cloning(self, name, what, error))
        return FALSE;
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
    /* Notes are text of many lines the user wrote for themselves: the log
     * says that they changed, not what they say. */
    if (g_str_equal(prop, "notes"))
        g_info("[%s] notes: %zu bytes", qube, strlen(effective));
    else
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
    bh_daemon_net_sync(self);
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
    bh_daemon_net_sync(self);
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
    bh_daemon_net_sync(self);
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

/* A new qube whose volumes could not be made leaves the store again, so
 * that the store never lists a qube that cannot start. Its volumes are the
 * backend's to undo: a failed create or clone removed what it made, and
 * what it found in the qube's place (a dead qube's leftover that could not
 * be set aside) may be the only copy of a user's files. */
static void bh_daemon_undo_add(BhDaemon *self, const char *name)
{
    g_autoptr(GError) undo_error = NULL;
    if (!bh_store_remove_qube(self->store, name, &undo_error))
        g_warning("[%s] cannot undo the creation: %s", name, undo_error->message);
}

/* With a backend, a new qube gets its volumes; if that fails the qube is
 * removed again. */
gboolean bh_daemon_add_volumes(BhDaemon *self, const char *name, GError **error)
{
    if (self->backend == NULL)
        return TRUE;
    g_autoptr(BhBackendQubeHolder) holder = bh_daemon_describe_qube(self, name, error);
    if (holder != NULL && bh_backend_create_volumes(self->backend, &holder->qube, error))
        return TRUE;
    bh_daemon_undo_add(self, name);
    return FALSE;
}

/* Create's and CheckCreate's arguments as the store takes them: the class
 * parsed, the a{ss} as name, value pairs. FALSE (and the call answered) for
 * an unknown class. */
static gboolean bh_daemon_create_args(GDBusMethodInvocation *invocation, const char *klass_name,
                                      GVariant *properties, BhQubeClass *klass, GStrv *props)
{
    if (!bh_class_from_name(klass_name, klass)) {
        g_autofree char *quoted = bh_qubes_quote(klass_name);
        g_dbus_method_invocation_return_error(
            invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_VALUE,
            "unknown class %s: use AppVM, TemplateVM, StandaloneVM or DispVM", quoted);
        return FALSE;
    }

    g_autoptr(GStrvBuilder) pairs = g_strv_builder_new();
    GVariantIter iter;
    const char *key, *value;
    g_variant_iter_init(&iter, properties);
    while (g_variant_iter_next(&iter, "{&s&s}", &key, &value)) {
        g_strv_builder_add(pairs, key);
        g_strv_builder_add(pairs, value);
    }
    *props = g_strv_builder_end(pairs);
    return TRUE;
}

static gboolean bh_daemon_handle_create(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                        const char *klass_name, const char *name, const char *label,
                                        const char *template_name, GVariant *properties, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) props = NULL;
    BhQubeClass klass;
    if (!bh_daemon_create_args(invocation, klass_name, properties, &klass, &props))
        return G_DBUS_METHOD_INVOCATION_HANDLED;

    int qid = bh_store_create_qube(self->store, klass, name, *label ? label : NULL,
                                   *template_name ? template_name : NULL, (const char *const *)props, &error);
    if (qid < 0 || !bh_daemon_add_volumes(self, name, &error))
        return bh_daemon_return_error(invocation, error);
    g_info("[%s] created (%s, qid %d)", name, bh_class_name(klass), qid);
    bh_dbus_admin1_emit_qube_added(skeleton, name);
    bh_dbus_admin1_complete_create(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Create's dry run, for forms that check as the user types: the model's own
 * answer, nothing written, no volume made, no signal. */
static gboolean bh_daemon_handle_check_create(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *klass_name, const char *name, const char *label,
                                              const char *template_name, GVariant *properties, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) props = NULL;
    BhQubeClass klass;
    if (!bh_daemon_create_args(invocation, klass_name, properties, &klass, &props))
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    if (!bh_store_check_create_qube(self->store, klass, name, *label ? label : NULL,
                                    *template_name ? template_name : NULL, (const char *const *)props,
                                    &error))
        return bh_daemon_return_error(invocation, error);
    bh_dbus_admin1_complete_check_create(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void bh_clone_call_free(BhCloneCall *call)
{
    g_hash_table_remove(call->self->cloning, call->source);
    g_hash_table_remove(call->self->cloning, call->name);
    g_object_unref(call->self);
    g_free(call->source);
    g_free(call->name);
    g_free(call);
}

static void bh_daemon_clone_done(GObject *unused, GAsyncResult *result, gpointer data)
{
    BhCloneCall *call = data;
    BhDaemon *self = call->self;
    g_autoptr(GError) error = NULL;

    if (self->backend == NULL) {
        /* bh_daemon_stop came first and removed the clone from the store. */
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_FAILED, "bulkheadd stopped while %s was cloned",
                    call->name);
    } else if (!bh_backend_clone_volumes_finish(self->backend, result, &error)) {
        bh_daemon_undo_add(self, call->name);
    } else {
        g_info("[%s] cloned from %s (qid %d)", call->name, call->source, call->qid);
        bh_dbus_admin1_emit_qube_added(self->skeleton, call->name);
        bh_dbus_admin1_complete_clone(self->skeleton, call->invocation);
    }
    if (error != NULL) {
        g_message("[%s] clone of %s failed: %s", call->name, call->source, error->message);
        bh_daemon_return_error(call->invocation, error);
    }
    bh_clone_call_free(call);
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
    if (qid < 0)
        return bh_daemon_return_error(invocation, error);
    g_autoptr(BhBackendQubeHolder) holder =
        self->backend ? bh_daemon_describe_qube(self, name, &error) : NULL;
    if (self->backend == NULL) {
        g_info("[%s] cloned from %s (qid %d)", name, source, qid);
        bh_dbus_admin1_emit_qube_added(skeleton, name);
        bh_dbus_admin1_complete_clone(skeleton, invocation);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (holder == NULL) {
        bh_daemon_undo_add(self, name);
        return bh_daemon_return_error(invocation, error);
    }
    /* The copy takes as long as what the source stored: the backend makes
     * it off the main loop, and both qubes stay locked until it is done. */
    BhCloneCall *call = g_new0(BhCloneCall, 1);
    call->self = g_object_ref(self);
    call->invocation = invocation;
    call->source = g_strdup(source);
    call->name = g_strdup(name);
    call->qid = qid;
    g_hash_table_insert(self->cloning, g_strdup(source), call);
    g_hash_table_insert(self->cloning, g_strdup(name), call);
    bh_backend_clone_volumes_async(self->backend, source, &holder->qube, bh_daemon_clone_done, call);
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
        g_message("[%s] removed, but its volumes were not: %s", name, error->message);
    }
    g_hash_table_remove(self->runtime, name);
    g_info("[%s] removed", name);
    bh_dbus_admin1_emit_qube_removed(skeleton, name);
    bh_dbus_admin1_complete_remove(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- services ---------------------------------------------------------------- */

static gboolean bh_daemon_handle_list_services(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                               const char *qube, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) list = bh_store_list_services(self->store, qube, &error);
    GVariantBuilder builder;

    if (list == NULL)
        return bh_daemon_return_error(invocation, error);
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sb}"));
    for (guint i = 0; list[i] != NULL; i++) {
        char *eq = strrchr(list[i], '=');
        *eq = '\0';
        g_variant_builder_add(&builder, "{sb}", list[i], g_str_equal(eq + 1, "1"));
    }
    bh_dbus_admin1_complete_list_services(skeleton, invocation, g_variant_builder_end(&builder));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_set_service(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                             const char *qube, const char *service, const char *state,
                                             BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    int value = g_str_equal(state, "on") ? 1 : g_str_equal(state, "off") ? 0 : -1;

    if (value < 0 && !g_str_equal(state, "unset")) {
        g_autofree char *shown = bh_qubes_quote(state);
        g_set_error(&error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "a service's state is on, off or unset, not '%s'", shown);
        return bh_daemon_return_error(invocation, error);
    }
    if (!bh_store_set_service(self->store, qube, service, value, &error))
        return bh_daemon_return_error(invocation, error);
    g_info("[%s] service %s: %s", qube, service, state);
    bh_dbus_admin1_emit_services_changed(skeleton, qube);
    bh_dbus_admin1_complete_set_service(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

const BhDaemonHandler *bh_daemon_model_handlers(gsize *n)
{
    static const BhDaemonHandler handlers[] = {
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
        {"handle-check-create", G_CALLBACK(bh_daemon_handle_check_create)},
        {"handle-clone", G_CALLBACK(bh_daemon_handle_clone)},
        {"handle-remove", G_CALLBACK(bh_daemon_handle_remove)},
        {"handle-list-services", G_CALLBACK(bh_daemon_handle_list_services)},
        {"handle-set-service", G_CALLBACK(bh_daemon_handle_set_service)},
    };
    *n = G_N_ELEMENTS(handlers);
    return handlers;
}
