/* bh-shell-qubes.c — the shell's live list of qubes (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-qubes.h"

#include "bh-dbus-error.h"

/* Start replies once the qube runs, and starting the netvm chain of a qube
 * on a loaded machine takes a while: the proxy's 25 s default is too short. */
#define BH_SHELL_START_TIMEOUT_MS (180 * 1000)
/* A qube's count is bounded by the daemon; this only caps what one reply
 * can make the shell allocate if the daemon misbehaves. */
#define BH_SHELL_MAX_QUBES 4096
/* Memory and CPU are asked for this often while a qube runs (GetStats is a
 * few file reads per qube in the daemon); states never are. */
#define BH_SHELL_STATS_INTERVAL_S 3

typedef struct {
    guint64 memory;
    guint64 cpu_usec;
    gint64 when;        /* monotonic µs of the figures */
    double cpu_percent; /* since the previous figures; < 0: not known yet */
} BhStats;

struct _BhShellQubes {
    GObject parent_instance;
    BhDbusAdmin1 *admin;
    GListStore *store;
    GCancellable *cancellable;
    /* One ListQubes at a time: a burst of signals (200 QubeAdded when a
     * script creates qubes) while one is on its way asks for one more
     * afterwards, not one each, and the reply that is already out of date
     * is dropped. */
    gboolean in_flight, again;
    GHashTable *stats; /* qube name -> BhStats */
    guint stats_id;
    gboolean stats_pending;
};

G_DEFINE_FINAL_TYPE(BhShellQubes, bh_shell_qubes, G_TYPE_OBJECT)

enum {
    SIGNAL_CHANGED,
    SIGNAL_ACTION_FAILED,
    SIGNAL_ACTION_STARTED,
    SIGNAL_STATE_CHANGED,
    SIGNAL_STATS_CHANGED,
    SIGNAL_START_FAILED,
    SIGNAL_LAUNCHED,
    N_SIGNALS
};
static guint bh_signals[N_SIGNALS];

typedef struct {
    BhShellQubes *self; /* strong */
    char *qube;
    char *action;
    char *commandline;
} BhCall;

static BhCall *bh_call_new(BhShellQubes *self, const char *qube, const char *action, const char *commandline)
{
    BhCall *call = g_new0(BhCall, 1);

    call->self = g_object_ref(self);
    call->qube = g_strdup(qube);
    call->action = g_strdup(action);
    call->commandline = g_strdup(commandline);
    return call;
}

static void bh_call_free(BhCall *call)
{
    g_object_unref(call->self);
    g_free(call->qube);
    g_free(call->action);
    g_free(call->commandline);
    g_free(call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhCall, bh_call_free)

static void bh_call_failed(BhCall *call, GError *error)
{
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    if (g_dbus_error_is_remote_error(error))
        g_dbus_error_strip_remote_error(error);
    /* A message, not a warning: a refused call is the user's business, shown
     * in the UI, and never a reason to stop the shell. */
    g_message("%s %s: %s", call->action, call->qube, error->message);
    g_signal_emit(call->self, bh_signals[SIGNAL_ACTION_FAILED], 0, call->qube, call->action, error->message);
}

static int compare_by_name(gconstpointer a, gconstpointer b, gpointer data)
{
    return g_strcmp0(bh_shell_qube_get_name((BhShellQube *)a), bh_shell_qube_get_name((BhShellQube *)b));
}

BhShellQube *bh_shell_qubes_find(BhShellQubes *self, const char *name)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->store));

    for (guint i = 0; i < n; i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(G_LIST_MODEL(self->store), i);
        if (g_strcmp0(bh_shell_qube_get_name(qube), name) == 0)
            return qube; /* the store keeps its reference */
    }
    return NULL;
}

typedef struct {
    BhShellQubes *self;
} BhListRequest;

/* Replaces the list by a new snapshot, keeping the objects of qubes that
 * stay (widgets may hold them) and emitting "changed" once. */
static void bh_shell_qubes_apply(BhShellQubes *self, GPtrArray *fresh)
{
    gboolean changed = FALSE;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < fresh->len; i++) {
        BhShellQube *qube = fresh->pdata[i];
        BhShellQube *old = bh_shell_qubes_find(self, bh_shell_qube_get_name(qube));

        g_hash_table_add(seen, (gpointer)bh_shell_qube_get_name(qube));
        if (old != NULL) {
            changed |= bh_shell_qube_update(old, qube);
        } else {
            g_list_store_insert_sorted(self->store, qube, compare_by_name, NULL);
            changed = TRUE;
        }
    }
    for (guint i = g_list_model_get_n_items(G_LIST_MODEL(self->store)); i-- > 0;) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(G_LIST_MODEL(self->store), i);
        if (!g_hash_table_contains(seen, bh_shell_qube_get_name(qube))) {
            g_list_store_remove(self->store, i);
            changed = TRUE;
        }
    }
    if (changed)
        g_signal_emit(self, bh_signals[SIGNAL_CHANGED], 0);
}

static void on_list_qubes(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autofree BhListRequest *request = data;
    g_autoptr(GObject) self_ref = G_OBJECT(request->self);
    BhShellQubes *self = request->self;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) list = NULL;
    g_autoptr(GPtrArray) fresh = g_ptr_array_new_with_free_func(g_object_unref);

    gboolean ok = bh_dbus_admin1_call_list_qubes_finish(BH_DBUS_ADMIN1(source), &list, result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    self->in_flight = FALSE;
    if (self->again) {
        /* Something changed after this list was asked for: a newer one. */
        self->again = FALSE;
        bh_shell_qubes_reload(self);
        return;
    }
    if (!ok) {
        g_message("cannot list the qubes: %s", error->message);
        return;
    }
    gsize n = g_variant_n_children(list);
    if (n > BH_SHELL_MAX_QUBES) {
        g_message("ListQubes returned %" G_GSIZE_FORMAT " qubes; showing the first %d", n,
                  BH_SHELL_MAX_QUBES);
        n = BH_SHELL_MAX_QUBES;
    }
    for (gsize i = 0; i < n; i++) {
        g_autoptr(GVariant) entry = g_variant_get_child_value(list, i);
        g_autoptr(GError) entry_error = NULL;
        BhShellQube *qube = bh_shell_qube_new_from_variant(entry, &entry_error);

        if (qube == NULL) {
            g_message("skipping a qube: %s", entry_error->message);
            continue;
        }
        g_ptr_array_add(fresh, qube);
    }
    bh_shell_qubes_apply(self, fresh);
}

void bh_shell_qubes_reload(BhShellQubes *self)
{
    BhListRequest *request;

    if (self->in_flight) {
        self->again = TRUE;
        return;
    }
    self->in_flight = TRUE;
    request = g_new0(BhListRequest, 1);
    request->self = g_object_ref(self);
    bh_dbus_admin1_call_list_qubes(self->admin, self->cancellable, on_list_qubes, request);
}

static void on_state_changed(BhDbusAdmin1 *admin, const char *qube_name, const char *state,
                             BhShellQubes *self)
{
    BhShellQube *qube = bh_shell_qubes_find(self, qube_name);

    if (qube == NULL) {
        /* A qube we have not seen yet (a new disposable): read the list. */
        bh_shell_qubes_reload(self);
        return;
    }
    g_autofree char *old = g_strdup(bh_shell_qube_get_state(qube));
    if (bh_shell_qube_set_state(qube, state)) {
        g_signal_emit(self, bh_signals[SIGNAL_STATE_CHANGED], 0, qube_name, old, state);
        g_signal_emit(self, bh_signals[SIGNAL_CHANGED], 0);
    }
}

/* Whoever asked for the start (autostart, a call from a qube, the command
 * line): the daemon says why it failed. */
static void on_start_failed(BhDbusAdmin1 *admin, const char *qube_name, const char *reason,
                            BhShellQubes *self)
{
    g_signal_emit(self, bh_signals[SIGNAL_START_FAILED], 0, qube_name, reason);
}

/* ---- memory and CPU ----------------------------------------------------- */

static void on_stats(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhShellQubes) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) stats = NULL;
    g_autoptr(GHashTable) fresh = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gint64 now = g_get_monotonic_time();
    GVariantIter iter;
    const char *name;
    GVariant *figures;
    guint n = 0;

    self->stats_pending = FALSE;
    if (!bh_dbus_admin1_call_get_stats_finish(BH_DBUS_ADMIN1(source), &stats, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_debug("no memory and CPU figures: %s", error->message);
        return;
    }
    g_variant_iter_init(&iter, stats);
    while (n++ < BH_SHELL_MAX_QUBES && g_variant_iter_next(&iter, "{&s@a{sv}}", &name, &figures)) {
        BhStats *s = g_new0(BhStats, 1);
        const BhStats *before = g_hash_table_lookup(self->stats, name);

        g_variant_lookup(figures, "memory", "t", &s->memory);
        g_variant_lookup(figures, "cpu_usec", "t", &s->cpu_usec);
        s->when = now;
        s->cpu_percent = -1;
        /* A count that went down (a process of a v1 sandbox exited) gives
         * no figure this time rather than a wrong one. */
        if (before != NULL && now > before->when && s->cpu_usec >= before->cpu_usec)
            s->cpu_percent = 100.0 * (double)(s->cpu_usec - before->cpu_usec) / (double)(now - before->when);
        g_hash_table_insert(fresh, g_strdup(name), s);
        g_variant_unref(figures);
    }
    g_hash_table_unref(self->stats);
    self->stats = g_steal_pointer(&fresh);
    g_signal_emit(self, bh_signals[SIGNAL_STATS_CHANGED], 0);
}

static gboolean poll_stats(gpointer data)
{
    BhShellQubes *self = data;
    GListModel *model = G_LIST_MODEL(self->store);
    gboolean any = FALSE;

    for (guint i = 0; i < g_list_model_get_n_items(model) && !any; i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(model, i);
        const char *state = bh_shell_qube_get_state(qube);
        any = g_str_equal(state, "Running") || g_str_equal(state, "Paused");
    }
    if (!any) {
        if (g_hash_table_size(self->stats) > 0) {
            g_hash_table_remove_all(self->stats);
            g_signal_emit(self, bh_signals[SIGNAL_STATS_CHANGED], 0);
        }
        return G_SOURCE_CONTINUE;
    }
    if (!self->stats_pending) {
        self->stats_pending = TRUE;
        bh_dbus_admin1_call_get_stats(self->admin, self->cancellable, on_stats, g_object_ref(self));
    }
    return G_SOURCE_CONTINUE;
}

gboolean bh_shell_qubes_get_stats(BhShellQubes *self, const char *qube, guint64 *memory, double *cpu_percent)
{
    const BhStats *s = g_hash_table_lookup(self->stats, qube);

    if (s == NULL)
        return FALSE;
    *memory = s->memory;
    *cpu_percent = s->cpu_percent;
    return TRUE;
}

static void on_set_changed(BhDbusAdmin1 *admin, const char *qube_name, BhShellQubes *self)
{
    bh_shell_qubes_reload(self);
}

static void on_property_changed(BhDbusAdmin1 *admin, const char *qube_name, const char *property,
                                const char *value, BhShellQubes *self)
{
    /* Only what ListQubes carries and the shell or settings show; the colour
     * comes with the list. */
    static const char *const shown[] = {"label",
                                        "template_for_dispvms",
                                        "provides_network",
                                        "template",
                                        "netvm",
                                        "memory",
                                        "private_size",
                                        "ip",
                                        NULL};

    if (g_strv_contains(shown, property))
        bh_shell_qubes_reload(self);
}

static void on_global_changed(BhDbusAdmin1 *admin, const char *property, const char *value,
                              BhShellQubes *self)
{
    /* Each qube whose netvm is the default follows default_netvm without a
     * signal of its own (docs/dbus.md). */
    if (g_str_equal(property, "default_netvm"))
        bh_shell_qubes_reload(self);
}

static void on_name_owner(GObject *proxy, GParamSpec *pspec, BhShellQubes *self)
{
    g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));

    if (owner != NULL) {
        bh_shell_qubes_reload(self);
        return;
    }
    /* The daemon is gone: nothing runs that the shell could name. */
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    bh_shell_qubes_apply(self, none);
}

static void bh_shell_qubes_dispose(GObject *object)
{
    BhShellQubes *self = BH_SHELL_QUBES(object);

    g_cancellable_cancel(self->cancellable);
    g_clear_handle_id(&self->stats_id, g_source_remove);
    g_clear_pointer(&self->stats, g_hash_table_unref);
    if (self->admin != NULL)
        g_signal_handlers_disconnect_by_data(self->admin, self);
    g_clear_object(&self->admin);
    g_clear_object(&self->store);
    g_clear_object(&self->cancellable);
    G_OBJECT_CLASS(bh_shell_qubes_parent_class)->dispose(object);
}

static void bh_shell_qubes_class_init(BhShellQubesClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_qubes_dispose;
    bh_signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                              NULL, NULL, G_TYPE_NONE, 0);
    bh_signals[SIGNAL_ACTION_FAILED] =
        g_signal_new("action-failed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
    bh_signals[SIGNAL_ACTION_STARTED] =
        g_signal_new("action-started", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
    bh_signals[SIGNAL_STATE_CHANGED] =
        g_signal_new("state-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
    bh_signals[SIGNAL_STATS_CHANGED] = g_signal_new("stats-changed", G_TYPE_FROM_CLASS(klass),
                                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    bh_signals[SIGNAL_START_FAILED] =
        g_signal_new("start-failed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
    bh_signals[SIGNAL_LAUNCHED] = g_signal_new("launched", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                               NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void bh_shell_qubes_init(BhShellQubes *self)
{
    self->store = g_list_store_new(BH_TYPE_SHELL_QUBE);
    self->cancellable = g_cancellable_new();
    self->stats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

BhShellQubes *bh_shell_qubes_new(BhDbusAdmin1 *admin)
{
    BhShellQubes *self = g_object_new(BH_TYPE_SHELL_QUBES, NULL);

    self->admin = g_object_ref(admin);
    g_signal_connect(admin, "state-changed", G_CALLBACK(on_state_changed), self);
    g_signal_connect(admin, "start-failed", G_CALLBACK(on_start_failed), self);
    g_signal_connect(admin, "qube-added", G_CALLBACK(on_set_changed), self);
    g_signal_connect(admin, "qube-removed", G_CALLBACK(on_set_changed), self);
    g_signal_connect(admin, "property-changed", G_CALLBACK(on_property_changed), self);
    g_signal_connect(admin, "global-changed", G_CALLBACK(on_global_changed), self);
    g_signal_connect(admin, "notify::g-name-owner", G_CALLBACK(on_name_owner), self);
    bh_shell_qubes_reload(self);
    self->stats_id = g_timeout_add_seconds(BH_SHELL_STATS_INTERVAL_S, poll_stats, self);
    return self;
}

GListModel *bh_shell_qubes_get_model(BhShellQubes *self)
{
    return G_LIST_MODEL(self->store);
}

/* ---- verbs ---------------------------------------------------------------- */

static void on_power_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) call = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (reply == NULL)
        bh_call_failed(call, error);
}

/* The power verbs share one shape: a method taking the qube's name (and, for
 * Shutdown, "do not wait, daemon's default timeout"). */
static void bh_power(BhShellQubes *self, const char *qube, const char *method, GVariant *params,
                     int timeout_ms)
{
    BhCall *call = bh_call_new(self, qube, method, NULL);

    g_signal_emit(self, bh_signals[SIGNAL_ACTION_STARTED], 0, qube, method);
    g_dbus_proxy_call(G_DBUS_PROXY(self->admin), method, params, G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_ms,
                      self->cancellable, on_power_done, call);
}

void bh_shell_qubes_start(BhShellQubes *self, const char *qube)
{
    bh_power(self, qube, "Start", g_variant_new("(s)", qube), BH_SHELL_START_TIMEOUT_MS);
}

void bh_shell_qubes_shutdown(BhShellQubes *self, const char *qube)
{
    bh_power(self, qube, "Shutdown", g_variant_new("(sbu)", qube, FALSE, 0), -1);
}

void bh_shell_qubes_kill(BhShellQubes *self, const char *qube)
{
    bh_power(self, qube, "Kill", g_variant_new("(s)", qube), -1);
}

static void on_restart_halted(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) call = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (reply == NULL) {
        bh_call_failed(call, error);
        return;
    }
    bh_shell_qubes_start(call->self, call->qube);
}

/* Shutdown with wait (the daemon's timeout kills a qube that does not stop),
 * then Start: one verb for the user, two calls in order. */
void bh_shell_qubes_restart(BhShellQubes *self, const char *qube)
{
    BhCall *call = bh_call_new(self, qube, "Restart", NULL);

    g_signal_emit(self, bh_signals[SIGNAL_ACTION_STARTED], 0, qube, "Restart");
    g_dbus_proxy_call(G_DBUS_PROXY(self->admin), "Shutdown", g_variant_new("(sbu)", qube, TRUE, 0),
                      G_DBUS_CALL_FLAGS_NO_AUTO_START, BH_SHELL_START_TIMEOUT_MS, self->cancellable,
                      on_restart_halted, call);
}

void bh_shell_qubes_pause(BhShellQubes *self, const char *qube)
{
    bh_power(self, qube, "Pause", g_variant_new("(s)", qube), -1);
}

void bh_shell_qubes_unpause(BhShellQubes *self, const char *qube)
{
    bh_power(self, qube, "Unpause", g_variant_new("(s)", qube), -1);
}

static GVariant *bh_run_options(gboolean wait)
{
    GVariantDict options;

    g_variant_dict_init(&options, NULL);
    g_variant_dict_insert(&options, "autostart", "b", TRUE);
    g_variant_dict_insert(&options, "wait", "b", wait);
    return g_variant_dict_end(&options);
}

/* Run call->commandline in call->qube; the reply goes to done with call. */
static void bh_run_send(BhShellQubes *self, BhCall *call, gboolean wait, int timeout_ms,
                        GCancellable *cancellable, GAsyncReadyCallback done)
{
    g_dbus_proxy_call_with_unix_fd_list(
        G_DBUS_PROXY(self->admin), "Run",
        g_variant_new("(ss&s@a{sv})", call->qube, call->commandline, "", bh_run_options(wait)),
        G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_ms, NULL, cancellable, done, call);
}

static void on_run_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) call = data;
    g_autoptr(GError) error = NULL;
    int status = 0;

    if (!bh_dbus_admin1_call_run_finish(BH_DBUS_ADMIN1(source), &status, NULL, result, &error))
        bh_call_failed(call, error);
}

void bh_shell_qubes_run(BhShellQubes *self, const char *qube, const char *commandline)
{
    BhCall *call = bh_call_new(self, qube, "Run", commandline);

    g_signal_emit(self, bh_signals[SIGNAL_ACTION_STARTED], 0, qube, "Run");
    g_signal_emit(self, bh_signals[SIGNAL_LAUNCHED], 0, qube);
    /* Run with autostart replies once the command started, which includes
     * starting the qube: Start's timeout. */
    bh_run_send(self, call, FALSE, BH_SHELL_START_TIMEOUT_MS, self->cancellable, on_run_done);
}

static void on_disposable_killed(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) call = data;
    g_autoptr(GError) error = NULL;

    /* Already gone is the usual case: the command's end halts it. */
    if (!bh_dbus_admin1_call_kill_finish(BH_DBUS_ADMIN1(source), result, &error))
        g_debug("kill %s: %s", call->qube, error->message);
}

static void on_disposable_command_ended(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) call = data;
    g_autoptr(GError) error = NULL;
    int status = 0;

    if (!bh_dbus_admin1_call_run_finish(BH_DBUS_ADMIN1(source), &status, NULL, result, &error))
        bh_call_failed(call, error);
    /* The disposable lives as long as its command (as qvm-run --dispvm):
     * killing it makes the daemon discard it. Not cancellable: a shell that
     * quits must not leave it behind. */
    bh_dbus_admin1_call_kill(call->self->admin, call->qube, NULL, on_disposable_killed,
                             bh_call_new(call->self, call->qube, "Kill", NULL));
}

static void on_disposable_created(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhCall) call = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;

    if (!bh_dbus_admin1_call_create_disposable_finish(BH_DBUS_ADMIN1(source), &name, result, &error)) {
        bh_call_failed(call, error);
        return;
    }
    BhCall *run = bh_call_new(call->self, name, "Run", call->commandline);
    g_signal_emit(call->self, bh_signals[SIGNAL_LAUNCHED], 0, name);
    /* wait: the reply is the command's end, hours later perhaps. */
    bh_run_send(call->self, run, TRUE, G_MAXINT, NULL, on_disposable_command_ended);
}

void bh_shell_qubes_run_disposable(BhShellQubes *self, const char *template_name, const char *commandline)
{
    BhCall *call = bh_call_new(self, template_name, "CreateDisposable", commandline);

    g_signal_emit(self, bh_signals[SIGNAL_ACTION_STARTED], 0, template_name, "CreateDisposable");
    g_dbus_proxy_call(G_DBUS_PROXY(self->admin), "CreateDisposable", g_variant_new("(s)", template_name),
                      G_DBUS_CALL_FLAGS_NO_AUTO_START, BH_SHELL_START_TIMEOUT_MS, self->cancellable,
                      on_disposable_created, call);
}

BhDbusAdmin1 *bh_shell_qubes_get_admin(BhShellQubes *self)
{
    return self->admin;
}

gboolean bh_shell_open_settings(const char *qube, GError **error)
{
    g_autofree char *path = g_find_program_in_path("bulkhead-settings");
    g_autofree char *option = qube != NULL ? g_strdup_printf("--qube=%s", qube) : NULL;
    char *argv[] = {path, option, NULL};

    if (path == NULL) {
        g_set_error_literal(error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT, "bulkhead-settings is not installed");
        return FALSE;
    }
    return g_spawn_async(NULL, argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, NULL, error);
}
