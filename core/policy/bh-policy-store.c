/* bh-policy-store.c — see bh-policy-store.h. */
#define G_LOG_DOMAIN "bh-policy"

#include "bh-policy-store.h"

/* Long enough to fold an editor's write-rename-chmod into one reload, short
 * enough that a user who saves and retries sees the new rule. */
#define BH_POLICY_SETTLE_MS 100

struct _BhPolicyStore {
    GObject parent_instance;

    char **dirs;
    GPtrArray *monitors; /* GFileMonitor, one per directory */
    BhPolicy *policy;
    guint settle_id;
};

G_DEFINE_FINAL_TYPE(BhPolicyStore, bh_policy_store, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint bh_policy_store_signals[N_SIGNALS];

static void bh_policy_store_dispose(GObject *object)
{
    BhPolicyStore *self = BH_POLICY_STORE(object);

    g_clear_handle_id(&self->settle_id, g_source_remove);
    if (self->monitors) {
        for (guint i = 0; i < self->monitors->len; i++)
            g_file_monitor_cancel(self->monitors->pdata[i]);
        g_clear_pointer(&self->monitors, g_ptr_array_unref);
    }
    G_OBJECT_CLASS(bh_policy_store_parent_class)->dispose(object);
}

static void bh_policy_store_finalize(GObject *object)
{
    BhPolicyStore *self = BH_POLICY_STORE(object);

    g_strfreev(self->dirs);
    g_clear_pointer(&self->policy, bh_policy_unref);
    G_OBJECT_CLASS(bh_policy_store_parent_class)->finalize(object);
}

static void bh_policy_store_class_init(BhPolicyStoreClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = bh_policy_store_dispose;
    object_class->finalize = bh_policy_store_finalize;
    bh_policy_store_signals[SIGNAL_CHANGED] = g_signal_new(
        "changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void bh_policy_store_init(BhPolicyStore *self)
{
    self->monitors = g_ptr_array_new_with_free_func(g_object_unref);
}

void bh_policy_store_reload(BhPolicyStore *self)
{
    BhPolicy *policy = bh_policy_load_dirs((const char *const *)self->dirs);
    guint n = bh_policy_n_errors(policy);

    /* The problems go to the log each time they are (re)loaded: the daemon's
     * log is where a user looks when everything is denied. A message, not a
     * warning: a typo in a file is the user's to fix, not a fault of ours
     * (and tests run with fatal warnings). */
    for (guint i = 0; i < n && bh_policy_error(policy, i); i++)
        g_message("policy: %s", bh_policy_error(policy, i));
    if (n > 0)
        g_message("policy has %u problem%s: every call is denied until it is fixed", n, n == 1 ? "" : "s");
    else
        g_message("policy loaded: %u rules", bh_policy_n_rules(policy));
    g_clear_pointer(&self->policy, bh_policy_unref);
    self->policy = policy;
    g_signal_emit(self, bh_policy_store_signals[SIGNAL_CHANGED], 0);
}

static gboolean bh_policy_store_settled(gpointer data)
{
    BhPolicyStore *self = data;

    self->settle_id = 0;
    bh_policy_store_reload(self);
    return G_SOURCE_REMOVE;
}

static void bh_policy_store_on_change(GFileMonitor *monitor, GFile *file, GFile *other,
                                      GFileMonitorEvent event, gpointer data)
{
    BhPolicyStore *self = data;

    if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED || event == G_FILE_MONITOR_EVENT_PRE_UNMOUNT)
        return;
    /* Restart the delay on each event: one reload after the last one. */
    g_clear_handle_id(&self->settle_id, g_source_remove);
    self->settle_id = g_timeout_add(BH_POLICY_SETTLE_MS, bh_policy_store_settled, self);
}

BhPolicyStore *bh_policy_store_new(const char *const *dirs)
{
    BhPolicyStore *self = g_object_new(BH_TYPE_POLICY_STORE, NULL);

    self->dirs = dirs ? g_strdupv((char **)dirs) : bh_policy_default_dirs();
    for (char **d = self->dirs; *d; d++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GFile) file = g_file_new_for_path(*d);
        /* A directory that does not exist yet is watched too: GLib notices
         * when it appears (the user's policy.d usually does not exist). */
        GFileMonitor *monitor = g_file_monitor_directory(file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
        if (monitor == NULL) {
            g_message("%s: not watched for changes (%s); restart bulkheadd after editing it", *d,
                      error->message);
            continue;
        }
        g_signal_connect(monitor, "changed", G_CALLBACK(bh_policy_store_on_change), self);
        g_ptr_array_add(self->monitors, monitor);
    }
    bh_policy_store_reload(self);
    return self;
}

BhPolicy *bh_policy_store_get_policy(BhPolicyStore *self)
{
    return bh_policy_ref(self->policy);
}

const char *const *bh_policy_store_get_dirs(BhPolicyStore *self)
{
    return (const char *const *)self->dirs;
}
