/* bh-daemon-net.c — networking in the daemon; see bh-daemon-private.h.
 *
 * Owns GetFirewall, SetFirewall and AddFirewallRule of org.bulkhead.Admin1
 * (where an added rule goes: bh_fw_rules_place has its one caller here, for
 * qvm-firewall add and the settings app alike), the firewall as
 * the backend gets it (rules compiled to nftables statements, host names
 * resolved by dom0's resolver, expired rules left out and a timer for the
 * next expiry), and keeping each running qube on the netvm the model names
 * (a changed netvm relinks it at once, that netvm started first). Must
 * never: store anything but through the store, or block the main loop on a
 * name lookup (GResolver, bounded).
 */
#define G_LOG_DOMAIN "bh-daemon"

#include <string.h>

#include "bh-daemon-error.h"
#include "bh-daemon-private.h"
#include "bh-dbus-error.h"
#include "bulkhead/firewall.h"

/* A name that has not resolved by then resolves to nothing. */
#define BH_FIREWALL_LOOKUP_S 10

/* ---- compiling a qube's rules ---------------------------------------------- */

typedef struct {
    BhDaemon *self;
    char *qube;
    GPtrArray *rules;     /* BhFwRule*, as stored (unparsable ones logged and left out) */
    GHashTable *resolved; /* name -> GStrv of its addresses, both families (empty: none) */
    GPtrArray *warnings;  /* char* */
    guint pending;
    GCancellable *timeout;
    guint timeout_id;
} BhFwCompile;

static void bh_fw_compile_free(BhFwCompile *c)
{
    g_object_unref(c->self);
    g_free(c->qube);
    g_ptr_array_unref(c->rules);
    g_hash_table_unref(c->resolved);
    g_ptr_array_unref(c->warnings);
    if (c->timeout_id)
        g_source_remove(c->timeout_id);
    g_object_unref(c->timeout);
    g_free(c);
}

typedef struct {
    char *nft;
    GStrv warnings;
    gint64 next_expiry; /* 0: none */
} BhFwCompiled;

static void bh_fw_compiled_free(BhFwCompiled *c)
{
    g_free(c->nft);
    g_strfreev(c->warnings);
    g_free(c);
}

static void bh_fw_compile_finish_task(GTask *task)
{
    BhFwCompile *c = g_task_get_task_data(task);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    BhFwCompiled *out = g_new0(BhFwCompiled, 1);
    GString *nft = g_string_new(NULL);
    for (guint i = 0; i < c->rules->len; i++) {
        BhFwRule *r = c->rules->pdata[i];
        if (r == NULL)
            continue;
        if (r->expire > now && (out->next_expiry == 0 || r->expire < out->next_expiry))
            out->next_expiry = r->expire;
        const char *const *addrs = r->is_name ? g_hash_table_lookup(c->resolved, r->dsthost) : NULL;
        if (r->is_name && (addrs == NULL || addrs[0] == NULL))
            g_ptr_array_add(c->warnings, g_strdup_printf("rule %u: %s does not resolve; this rule matches "
                                                         "nothing until it does (the others apply)",
                                                         i, r->dsthost));
        g_autofree char *line = bh_fw_rule_nft(r, addrs, now);
        if (line)
            g_string_append_printf(nft, "%s\n", line);
    }
    /* What no rule matches is dropped. */
    g_string_append(nft, "drop\n");
    out->nft = g_string_free(nft, FALSE);
    g_ptr_array_add(c->warnings, NULL);
    out->warnings = (GStrv)g_ptr_array_free(g_steal_pointer(&c->warnings), FALSE);
    c->warnings = g_ptr_array_new_with_free_func(g_free);
    g_task_return_pointer(task, out, (GDestroyNotify)bh_fw_compiled_free);
}

typedef struct {
    GTask *task;
    char *name;
} BhFwLookup;

static void bh_fw_resolved(GObject *source, GAsyncResult *result, gpointer data)
{
    BhFwLookup *l = data;
    BhFwCompile *c = g_task_get_task_data(l->task);
    g_autoptr(GError) error = NULL;
    GList *addrs = g_resolver_lookup_by_name_with_flags_finish(G_RESOLVER(source), result, &error);
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    for (GList *a = addrs; a; a = a->next)
        g_ptr_array_add(found, g_inet_address_to_string(a->data));
    g_ptr_array_add(found, NULL);
    g_resolver_free_addresses(addrs);
    if (error)
        g_info("[%s] firewall: %s: %s", c->qube, l->name, error->message);
    g_hash_table_replace(c->resolved, g_strdup(l->name), g_ptr_array_free(g_steal_pointer(&found), FALSE));
    if (--c->pending == 0)
        bh_fw_compile_finish_task(l->task);
    g_object_unref(l->task);
    g_free(l->name);
    g_free(l);
}

static gboolean bh_fw_lookup_timeout(gpointer data)
{
    BhFwCompile *c = data;
    c->timeout_id = 0;
    g_cancellable_cancel(c->timeout);
    return G_SOURCE_REMOVE;
}

/* Compiles qube's stored rules: a BhFwCompiled for the backend. */
static void bh_fw_compile_async(BhDaemon *self, const char *qube, GAsyncReadyCallback callback, gpointer data)
{
    GTask *task = g_task_new(self, NULL, callback, data);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) stored = bh_store_get_firewall(self->store, qube, &error);
    if (stored == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        g_object_unref(task);
        return;
    }
    BhFwCompile *c = g_new0(BhFwCompile, 1);
    c->self = g_object_ref(self);
    c->qube = g_strdup(qube);
    c->rules = g_ptr_array_new_with_free_func((GDestroyNotify)bh_fw_rule_free);
    c->resolved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
    c->warnings = g_ptr_array_new_with_free_func(g_free);
    c->timeout = g_cancellable_new();
    g_task_set_task_data(task, c, (GDestroyNotify)bh_fw_compile_free);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; stored[i]; i++) {
        g_autoptr(GError) bad = NULL;
        BhFwRule *r = bh_fw_rule_parse(stored[i], now, &bad);
        if (r == NULL) {
            /* Stored by an older version, perhaps: it must not widen what
             * the qube may reach, so it is left out and said. */
            g_ptr_array_add(c->warnings, g_strdup_printf("rule %u is ignored: %s", i, bad->message));
            g_message("[%s] firewall rule %u is ignored: %s", qube, i, bad->message);
        }
        g_ptr_array_add(c->rules, r);
        if (r && r->is_name && !bh_fw_rule_expired(r, now) &&
            !g_hash_table_contains(c->resolved, r->dsthost)) {
            g_hash_table_insert(c->resolved, g_strdup(r->dsthost), NULL);
            g_ptr_array_add(names, r->dsthost);
        }
    }
    if (names->len == 0) {
        bh_fw_compile_finish_task(task);
        g_object_unref(task);
        return;
    }
    c->pending = names->len;
    c->timeout_id = g_timeout_add_seconds(BH_FIREWALL_LOOKUP_S, bh_fw_lookup_timeout, c);
    g_autoptr(GResolver) resolver = g_resolver_get_default();
    for (guint i = 0; i < names->len; i++) {
        BhFwLookup *l = g_new0(BhFwLookup, 1);
        l->task = g_object_ref(task);
        l->name = g_strdup(names->pdata[i]);
        /* A and AAAA: a rule for a name covers both families. */
        g_resolver_lookup_by_name_with_flags_async(resolver, l->name, G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT,
                                                   c->timeout, bh_fw_resolved, l);
    }
    g_object_unref(task);
}

static BhFwCompiled *bh_fw_compile_finish(BhDaemon *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- applying -------------------------------------------------------------- */

static void bh_fw_apply(BhDaemon *self, const char *qube, GDBusMethodInvocation *invocation);

static gboolean bh_fw_expiry(gpointer data)
{
    BhNameContext *ctx = data;
    BhQubeRuntime *rt = bh_daemon_runtime(ctx->self, ctx->name);
    rt->firewall_timer = 0;
    g_info("[%s] a firewall rule expired", ctx->name);
    bh_fw_apply(ctx->self, ctx->name, NULL);
    return G_SOURCE_REMOVE;
}

/* The timer for the next rule to expire of a running qube. */
static void bh_fw_schedule(BhDaemon *self, const char *qube, gint64 next_expiry)
{
    BhQubeRuntime *rt = bh_daemon_runtime(self, qube);
    if (rt->firewall_timer) {
        g_source_remove(rt->firewall_timer);
        rt->firewall_timer = 0;
    }
    if (next_expiry == 0 || bh_power_is_down(rt->state))
        return;
    gint64 in = next_expiry - g_get_real_time() / G_USEC_PER_SEC;
    rt->firewall_timer =
        g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, (guint)CLAMP(in, 1, G_MAXINT32), bh_fw_expiry,
                                   bh_name_context_new(self, qube), bh_name_context_free);
}

typedef struct {
    BhDaemon *self;
    char *qube;
    GDBusMethodInvocation *invocation; /* SetFirewall's or AddFirewallRule's (replied to), or NULL */
    int added;                         /* AddFirewallRule: the new rule's index; -1: SetFirewall */
    GStrv before;                      /* warnings of the change itself, said first */
    GStrv warnings;
} BhFwApply;

static void bh_fw_apply_free(BhFwApply *a)
{
    g_object_unref(a->self);
    g_free(a->qube);
    g_strfreev(a->before);
    g_strfreev(a->warnings);
    g_free(a);
}

/* Replies to the method that changed the rules, with every warning. */
static void bh_fw_reply(BhFwApply *a)
{
    g_autoptr(GStrvBuilder) all = g_strv_builder_new();
    if (a->before)
        g_strv_builder_addv(all, (const char **)a->before);
    if (a->warnings)
        g_strv_builder_addv(all, (const char **)a->warnings);
    g_auto(GStrv) warnings = g_strv_builder_end(all);
    GDBusMethodInvocation *invocation = g_steal_pointer(&a->invocation);
    if (a->added >= 0)
        bh_dbus_admin1_complete_add_firewall_rule(a->self->skeleton, invocation, (guint)a->added,
                                                  (const char *const *)warnings);
    else
        bh_dbus_admin1_complete_set_firewall(a->self->skeleton, invocation, (const char *const *)warnings);
}

static void bh_fw_applied(GObject *source, GAsyncResult *result, gpointer data)
{
    BhFwApply *a = data;
    g_autoptr(GError) error = NULL;
    if (!bh_backend_set_firewall_finish(a->self->backend, result, &error)) {
        g_message("[%s] %s", a->qube, error->message);
        if (g_error_matches(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_NOT_SUPPORTED)) {
            /* Stored all the same: said, not failed. */
            guint n = g_strv_length(a->warnings);
            a->warnings = g_renew(char *, a->warnings, n + 2);
            a->warnings[n] = g_strdup_printf("%s; the rules are stored but not enforced", error->message);
            a->warnings[n + 1] = NULL;
        } else if (a->invocation) {
            bh_daemon_return_error(g_steal_pointer(&a->invocation), error);
        }
    }
    if (a->invocation)
        bh_fw_reply(a);
    bh_fw_apply_free(a);
}

static void bh_fw_compiled(GObject *source, GAsyncResult *result, gpointer data)
{
    BhFwApply *a = data;
    g_autoptr(GError) error = NULL;
    BhFwCompiled *c = bh_fw_compile_finish(a->self, result, &error);
    if (c == NULL) {
        if (a->invocation)
            bh_daemon_return_error(g_steal_pointer(&a->invocation), error);
        bh_fw_apply_free(a);
        return;
    }
    for (char **w = c->warnings; *w; w++)
        g_message("[%s] firewall: %s", a->qube, *w);
    a->warnings = g_strdupv(c->warnings);
    bh_fw_schedule(a->self, a->qube, c->next_expiry);
    if (a->self->backend == NULL) {
        if (a->invocation)
            bh_fw_reply(a);
        bh_fw_apply_free(a);
    } else {
        bh_backend_set_firewall(a->self->backend, a->qube, c->nft, NULL, bh_fw_applied, a);
    }
    bh_fw_compiled_free(c);
}

/* Compiles qube's rules and hands them to the backend (in force at once if
 * it runs); replies to invocation (SetFirewall, or AddFirewallRule with the
 * new rule's index added and the change's own warnings before) with the
 * warnings. */
static void bh_fw_apply_full(BhDaemon *self, const char *qube, GDBusMethodInvocation *invocation, int added,
                             GStrv before)
{
    BhFwApply *a = g_new0(BhFwApply, 1);
    a->self = g_object_ref(self);
    a->qube = g_strdup(qube);
    a->invocation = invocation; /* its one reference, given back with the reply */
    a->added = added;
    a->before = before;
    bh_fw_compile_async(self, qube, bh_fw_compiled, a);
}

static void bh_fw_apply(BhDaemon *self, const char *qube, GDBusMethodInvocation *invocation)
{
    bh_fw_apply_full(self, qube, invocation, -1, NULL);
}

/* ---- at start -------------------------------------------------------------- */

typedef struct {
    BhDaemon *self;
    BhBackendQubeHolder *holder;
    BhDaemonFirewallReady ready;
    gpointer data;
} BhFwStart;

static void bh_fw_start_compiled(GObject *source, GAsyncResult *result, gpointer data)
{
    BhFwStart *s = data;
    g_autoptr(GError) error = NULL;
    BhFwCompiled *c = bh_fw_compile_finish(s->self, result, &error);
    if (c) {
        for (char **w = c->warnings; *w; w++)
            g_message("[%s] firewall: %s", s->holder->qube.name, *w);
        s->holder->firewall = g_steal_pointer(&c->nft);
        s->holder->qube.firewall = s->holder->firewall;
        bh_fw_schedule(s->self, s->holder->qube.name, c->next_expiry);
        bh_fw_compiled_free(c);
    } else {
        /* Never start it open: everything dropped, and said. */
        g_message("[%s] firewall: %s; the qube starts with everything dropped", s->holder->qube.name,
                  error->message);
        s->holder->firewall = g_strdup("drop\n");
        s->holder->qube.firewall = s->holder->firewall;
    }
    BhQubeRuntime *rt = bh_daemon_runtime(s->self, s->holder->qube.name);
    g_free(rt->netvm);
    rt->netvm = g_strdup(s->holder->netvm);
    s->ready(s->self, s->holder, s->data);
    g_object_unref(s->self);
    g_free(s);
}

void bh_daemon_firewall_for_start(BhDaemon *self, BhBackendQubeHolder *holder, BhDaemonFirewallReady ready,
                                  gpointer data)
{
    BhFwStart *s = g_new0(BhFwStart, 1);
    s->self = g_object_ref(self);
    s->holder = holder;
    s->ready = ready;
    s->data = data;
    bh_fw_compile_async(self, holder->qube.name, bh_fw_start_compiled, s);
}

void bh_daemon_net_adopted(BhDaemon *self, const char *qube, const char *netvm)
{
    BhQubeRuntime *rt = bh_daemon_runtime(self, qube);
    g_free(rt->netvm);
    rt->netvm = g_strdup(netvm ? netvm : "");
    bh_fw_apply(self, qube, NULL);
}

/* ---- the netvm of running qubes -------------------------------------------- */

static void bh_net_netvm_started(GObject *source, GAsyncResult *result, gpointer data)
{
    BhNameContext *ctx = data;
    g_autoptr(GError) error = NULL;
    if (!bh_daemon_start_finish(ctx->self, result, &error))
        g_message("[%s] stays without network: %s", ctx->name, error->message);
    bh_name_context_free(ctx);
}

void bh_daemon_net_sync(BhDaemon *self)
{
    if (self->backend == NULL)
        return;
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, self->runtime);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const char *name = key;
        BhQubeRuntime *rt = value;
        if (rt->state != BH_POWER_RUNNING && rt->state != BH_POWER_PAUSED)
            continue;
        g_autofree char *netvm = bh_daemon_get_string(self, name, "netvm");
        if (g_strcmp0(netvm, rt->netvm ? rt->netvm : "") == 0)
            continue;
        g_autoptr(GError) error = NULL;
        g_info("[%s] netvm %s -> %s: relinking", name, rt->netvm && *rt->netvm ? rt->netvm : "none",
               *netvm ? netvm : "none");
        if (!bh_backend_set_netvm(self->backend, name, *netvm ? netvm : NULL, &error)) {
            g_message("[%s] cannot change its netvm while it runs: %s", name, error->message);
            continue;
        }
        g_free(rt->netvm);
        rt->netvm = g_strdup(netvm);
        /* Its new netvm (and that one's chain) comes up; the backend links
         * it once that netvm is ready. */
        if (*netvm)
            bh_daemon_start_async(self, netvm, bh_net_netvm_started, bh_name_context_new(self, name));
    }
}

/* ---- D-Bus ----------------------------------------------------------------- */

static gboolean bh_daemon_handle_get_firewall(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *qube, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) rules = bh_store_get_firewall(self->store, qube, &error);
    if (rules == NULL)
        return bh_daemon_return_error(invocation, error);
    bh_dbus_admin1_complete_get_firewall(skeleton, invocation, (const char *const *)rules);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_set_firewall(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *qube, const char *const *rules, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    if (!bh_store_set_firewall(self->store, qube, rules, &error))
        return bh_daemon_return_error(invocation, error);
    g_info("[%s] firewall: %u rules", qube, g_strv_length((char **)rules));
    bh_dbus_admin1_emit_firewall_changed(skeleton, qube);
    bh_fw_apply(self, qube, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_daemon_handle_add_firewall_rule(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                   const char *qube, const char *untrusted_rule,
                                                   gint position, BhDaemon *self)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) rules = bh_store_get_firewall(self->store, qube, &error);
    if (rules == NULL)
        return bh_daemon_return_error(invocation, error);
    guint n = g_strv_length(rules);
    g_autoptr(BhFwRule) parsed = bh_fw_rule_parse(untrusted_rule, g_get_real_time() / G_USEC_PER_SEC, &error);
    if (parsed == NULL)
        return bh_daemon_return_error(invocation, error);
    if (position < -1 || position > (gint)n) {
        g_set_error(&error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "position %d: -1 (placed by bulkheadd) or a rule number from 0 to %u", position, n);
        return bh_daemon_return_error(invocation, error);
    }
    /* The canonical text (expire=+N made a time now): what the store keeps
     * and what the placement and the warnings judge. */
    g_autofree char *rule = bh_fw_rule_format(parsed);
    guint at = position < 0 ? bh_fw_rules_place((const char *const *)rules, n, rule) : (guint)position;
    g_autoptr(GStrvBuilder) now = g_strv_builder_new();
    for (guint i = 0; i <= n; i++) {
        if (i == at)
            g_strv_builder_add(now, rule);
        if (i < n)
            g_strv_builder_add(now, rules[i]);
    }
    g_auto(GStrv) list = g_strv_builder_end(now);
    if (!bh_store_set_firewall(self->store, qube, (const char *const *)list, &error))
        return bh_daemon_return_error(invocation, error);
    g_autoptr(GStrvBuilder) before = g_strv_builder_new();
    for (guint i = 0; i < at; i++) {
        g_autoptr(BhFwRule) r = bh_fw_rule_parse(rules[i], 0, NULL);
        if (r != NULL && bh_fw_rule_matches_all(r)) {
            g_autofree char *w = g_strdup_printf(
                "rule %u never matches: rule %u before it ('%s') matches everything", at, i, rules[i]);
            g_strv_builder_add(before, w);
            break;
        }
    }
    g_info("[%s] firewall: rule %u added, %u rules", qube, at, n + 1);
    bh_dbus_admin1_emit_firewall_changed(skeleton, qube);
    bh_fw_apply_full(self, qube, invocation, (int)at, g_strv_builder_end(before));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

const BhDaemonHandler *bh_daemon_net_handlers(gsize *n)
{
    static const BhDaemonHandler handlers[] = {
        {"handle-get-firewall", G_CALLBACK(bh_daemon_handle_get_firewall)},
        {"handle-set-firewall", G_CALLBACK(bh_daemon_handle_set_firewall)},
        {"handle-add-firewall-rule", G_CALLBACK(bh_daemon_handle_add_firewall_rule)},
    };
    *n = G_N_ELEMENTS(handlers);
    return handlers;
}
