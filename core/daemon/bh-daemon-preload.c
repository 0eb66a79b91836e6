/* bh-daemon-preload.c — one disposable started ahead (the global
 * preload_dispvm); see bh-daemon-private.h and docs/sandbox.md, "Preloaded
 * disposable".
 *
 * Owns: the one preloaded disposable of default_dispvm — filling it (a
 * disposable created and started as CreateDisposable does, with nobody
 * waiting), handing it to the next CreateDisposable of that template, and
 * throwing it away when it could differ from a disposable made now (its
 * template started or changed, default_dispvm changed, the global turned
 * off). A disposable is fresh by construction (a copy of its template's
 * private data, removed when it stops); preloading only moves its start
 * earlier, so the rules here are what keeps "made now" true: a preloaded
 * one is made only while its template is halted, is handed out once, and
 * any change to what it was made from replaces it.
 * It also owns the record STATE_DIR/preloaded-dispvm, which names the
 * preloaded disposable while it is not handed out, so that a daemon started
 * after a crash takes it back (or throws it away) instead of leaving it
 * running unused beside a new one.
 * Must never: hand the same disposable out twice, hand out one whose
 * template started or changed since it was made, start one while its
 * template runs (its home could be changing under the copy), or take from
 * the record anything but a disposable of the template it names (a
 * record is never a reason to kill or hand out any other qube).
 */
#define G_LOG_DOMAIN "bh-daemon"

#include <errno.h>
#include <unistd.h>

#include "bh-daemon-private.h"

/* After a hand-out the next one waits this long: its start (about 150 ms
 * of CPU, bench/RESULTS.md) must not compete with the first frame of the
 * program just started in the one handed out. */
#define BH_PRELOAD_REFILL_DELAY_MS 2000
/* Starts that failed in a row before preloading waits for a change. */
#define BH_PRELOAD_MAX_FAILURES 3

/* The record of the preloaded disposable not handed out yet (a key file:
 * name, qid, template). Written before its start, removed before it is
 * handed out: a record that survives a crash names a disposable nobody was
 * given. */
#define BH_PRELOAD_RECORD "preloaded-dispvm"
#define BH_PRELOAD_GROUP  "preloaded"

static char *bh_preload_record_path(BhDaemon *self)
{
    return g_build_filename(self->state_dir, BH_PRELOAD_RECORD, NULL);
}

static gboolean bh_preload_record_write(BhDaemon *self, const char *name, int qid, const char *tmpl,
                                        GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, BH_PRELOAD_GROUP, "name", name);
    g_key_file_set_integer(kf, BH_PRELOAD_GROUP, "qid", qid);
    g_key_file_set_string(kf, BH_PRELOAD_GROUP, "template", tmpl);
    gsize len = 0;
    g_autofree char *text = g_key_file_to_data(kf, &len, NULL);
    g_autofree char *path = bh_preload_record_path(self);
    /* Replaced by a rename (never half a record); a new file is not synced
     * by GLib: after a power loss no qube runs to be taken back, and the
     * record then names one that is down, which is thrown away. */
    return g_file_set_contents_full(path, text, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static gboolean bh_preload_record_remove(BhDaemon *self)
{
    g_autofree char *path = bh_preload_record_path(self);
    if (unlink(path) < 0 && errno != ENOENT) {
        g_warning("cannot remove %s: %s", path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* The template a preloaded disposable should be made of now, or NULL
 * (*busy then names a template that would be wanted but runs). */
static char *bh_preload_wanted(BhDaemon *self, char **busy)
{
    g_autofree char *on = NULL;
    g_autofree char *tmpl = NULL;
    if (self->backend == NULL || self->preload_failures >= BH_PRELOAD_MAX_FAILURES ||
        !bh_store_get_global(self->store, "preload_dispvm", &on, NULL, NULL) || !g_str_equal(on, "True") ||
        !bh_store_get_global(self->store, "default_dispvm", &tmpl, NULL, NULL) || *tmpl == '\0')
        return NULL;
    /* Its home is copied at creation: not while it may be changing. */
    if (bh_daemon_get_power_state(self, tmpl) != BH_POWER_HALTED) {
        *busy = g_steal_pointer(&tmpl);
        return NULL;
    }
    return g_steal_pointer(&tmpl);
}

static void bh_preload_drop(BhDaemon *self, const char *why)
{
    g_autofree char *name = g_steal_pointer(&self->preload_name);
    g_clear_pointer(&self->preload_template, g_free);
    if (name == NULL)
        return;
    (void)bh_preload_record_remove(self);
    g_info("[%s] preloaded disposable thrown away: %s", name, why);
    g_autoptr(GError) error = NULL;
    BhPowerState state = bh_daemon_get_power_state(self, name);
    if (bh_power_is_down(state))
        bh_daemon_discard_disposable(self, name);
    else if (self->backend && !bh_backend_kill(self->backend, name, &error))
        g_message("[%s] cannot kill the preloaded disposable: %s", name, error->message);
    /* Killed, it is removed once down (auto_cleanup), as any disposable. */
}

static void bh_preload_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhNameContext *ctx = user_data;
    BhDaemon *self = ctx->self;
    g_autoptr(GError) error = NULL;
    gboolean ok = bh_daemon_start_finish(self, result, &error);
    gboolean ours = g_strcmp0(self->preload_name, ctx->name) == 0;
    if (ok) {
        if (ours)
            g_info("[%s] preloaded disposable of %s is ready", ctx->name, self->preload_template);
    } else {
        self->preload_failures++;
        g_message("[%s] preloaded disposable did not start (%u in a row): %s", ctx->name,
                  self->preload_failures, error->message);
        if (ours) {
            g_clear_pointer(&self->preload_name, g_free);
            g_clear_pointer(&self->preload_template, g_free);
            (void)bh_preload_record_remove(self);
        }
        bh_daemon_discard_disposable(self, ctx->name);
    }
    bh_name_context_free(ctx);
}

/* Makes the preloaded disposable what bh_preload_wanted says. */
static void bh_preload_review(BhDaemon *self)
{
    g_autofree char *busy = NULL;
    g_autofree char *tmpl = bh_preload_wanted(self, &busy);
    if (self->preload_name && g_strcmp0(tmpl, self->preload_template) != 0)
        bh_preload_drop(self, tmpl ? "default_dispvm changed"
                                   : "not wanted now (preload_dispvm, default_dispvm or "
                                     "its template started)");
    /* Said, so that a refill that decided to wait can be seen to have
     * decided (daemon-preload waits for this line, not for a time). */
    if (busy && self->preload_name == NULL)
        g_info("no disposable preloaded now: its template %s runs (one is made once it halts)", busy);
    if (self->preload_name || tmpl == NULL)
        return;

    g_autoptr(GError) error = NULL;
    int qid = -1;
    g_autofree char *name = bh_store_create_disposable(self->store, tmpl, &qid, &error);
    if (name == NULL || !bh_daemon_add_volumes(self, name, &error)) {
        self->preload_failures++;
        g_message("cannot preload a disposable of %s: %s", tmpl, error->message);
        return;
    }
    if (!bh_preload_record_write(self, name, qid, tmpl, &error)) {
        /* Unrecorded, a crash would leave it running unused: not made. */
        self->preload_failures++;
        g_message("[%s] not preloaded: cannot write its record: %s", name, error->message);
        bh_daemon_discard_disposable(self, name);
        return;
    }
    g_info("[%s] preloading a disposable of %s (qid %d)", name, tmpl, qid);
    self->preload_name = g_strdup(name);
    self->preload_template = g_steal_pointer(&tmpl);
    bh_dbus_admin1_emit_qube_added(self->skeleton, name);
    bh_daemon_start_async(self, name, bh_preload_started, bh_name_context_new(self, name));
}

static gboolean bh_preload_timer(gpointer data)
{
    BhDaemon *self = data;
    self->preload_timer = 0;
    bh_preload_review(self);
    return G_SOURCE_REMOVE;
}

void bh_daemon_preload_soon(BhDaemon *self, guint delay_ms)
{
    if (self->preload_timer != 0 || self->backend == NULL)
        return;
    self->preload_timer = g_timeout_add(delay_ms, bh_preload_timer, self);
}

char *bh_daemon_preload_take(BhDaemon *self, const char *dvm_template)
{
    g_autofree char *dflt = NULL;
    if (self->preload_name == NULL)
        return NULL;
    if (dvm_template == NULL || *dvm_template == '\0') {
        if (!bh_store_get_global(self->store, "default_dispvm", &dflt, NULL, NULL))
            return NULL;
        dvm_template = dflt;
    }
    BhPowerState state = bh_daemon_get_power_state(self, self->preload_name);
    if (!g_str_equal(dvm_template, self->preload_template) ||
        (state != BH_POWER_RUNNING && state != BH_POWER_TRANSIENT))
        return NULL;
    /* The record goes first: a crash after this point must not make the
     * next daemon hand the same disposable out again. */
    if (!bh_preload_record_remove(self)) {
        bh_preload_drop(self, "its record cannot be removed");
        return NULL;
    }
    /* Once: from here on it is the caller's like any new disposable. */
    self->preload_failures = 0;
    char *name = g_steal_pointer(&self->preload_name);
    g_clear_pointer(&self->preload_template, g_free);
    g_info("[%s] preloaded disposable handed out", name);
    bh_daemon_preload_soon(self, BH_PRELOAD_REFILL_DELAY_MS);
    return name;
}

/* The template started (its home may change) or stopped (a new one can be
 * made), or the preloaded one itself went down. */
static void bh_preload_on_state_changed(BhDbusAdmin1 *skeleton, const char *name, const char *state,
                                        BhDaemon *self)
{
    if (self->preload_name && g_str_equal(name, self->preload_name)) {
        if (g_str_equal(state, bh_power_state_name(BH_POWER_HALTED)) ||
            g_str_equal(state, bh_power_state_name(BH_POWER_CRASHED))) {
            /* Counted as a failure: one that keeps dying is not remade forever. */
            self->preload_failures++;
            g_info("[%s] preloaded disposable went down before use", name);
            g_clear_pointer(&self->preload_name, g_free);
            g_clear_pointer(&self->preload_template, g_free);
            (void)bh_preload_record_remove(self);
            bh_daemon_preload_soon(self, BH_PRELOAD_REFILL_DELAY_MS);
        }
        return;
    }
    if (self->preload_template && g_str_equal(name, self->preload_template) &&
        !g_str_equal(state, bh_power_state_name(BH_POWER_HALTED)))
        bh_preload_drop(self, "its template started");
    else if (g_str_equal(state, bh_power_state_name(BH_POWER_HALTED)))
        bh_daemon_preload_soon(self, BH_PRELOAD_REFILL_DELAY_MS);
}

/* Any property of the template may show in a disposable made now (label,
 * netvm, memory, …): the preloaded one is replaced. */
static void bh_preload_on_property_changed(BhDbusAdmin1 *skeleton, const char *qube, const char *prop,
                                           const char *value, BhDaemon *self)
{
    if (self->preload_template && g_str_equal(qube, self->preload_template)) {
        g_autofree char *why = g_strdup_printf("its template's %s changed", prop);
        bh_preload_drop(self, why);
        bh_daemon_preload_soon(self, BH_PRELOAD_REFILL_DELAY_MS);
    }
}

static void bh_preload_on_global_changed(BhDbusAdmin1 *skeleton, const char *prop, const char *value,
                                         BhDaemon *self)
{
    if (!g_str_equal(prop, "preload_dispvm") && !g_str_equal(prop, "default_dispvm") &&
        !g_str_equal(prop, "default_netvm"))
        return;
    /* A change is a new chance after failed starts. */
    self->preload_failures = 0;
    if (self->preload_name && !g_str_equal(prop, "preload_dispvm")) {
        g_autofree char *why = g_strdup_printf("%s changed", prop);
        bh_preload_drop(self, why);
    }
    /* Turned off: gone now; otherwise made (again) after the usual wait. */
    bh_preload_review(self);
}

void bh_daemon_preload_adopt(BhDaemon *self)
{
    g_autofree char *path = bh_preload_record_path(self);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) error = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error)) {
        if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_warning("%s cannot be read (removed): %s", path, error->message);
        (void)bh_preload_record_remove(self);
        return;
    }
    g_autofree char *name = g_key_file_get_string(kf, BH_PRELOAD_GROUP, "name", NULL);
    g_autofree char *tmpl = g_key_file_get_string(kf, BH_PRELOAD_GROUP, "template", NULL);
    int qid = g_key_file_get_integer(kf, BH_PRELOAD_GROUP, "qid", NULL);
    g_autoptr(BhQubeInfo) info = name ? bh_store_get_qube(self->store, name, NULL) : NULL;
    /* Only the disposable it names, of the template it names: a record
     * that fits no such qube (removed, renamed, another qid) is only
     * forgotten. */
    if (info == NULL || info->klass != BH_CLASS_DISP_VM || info->qid != qid || tmpl == NULL ||
        g_strcmp0(info->template_name, tmpl) != 0) {
        g_message("%s names no preloaded disposable here (%s): forgotten", path, name ? name : "no name");
        (void)bh_preload_record_remove(self);
        return;
    }
    self->preload_name = g_steal_pointer(&name);
    self->preload_template = g_steal_pointer(&tmpl);
    g_autofree char *busy = NULL;
    g_autofree char *wanted = bh_preload_wanted(self, &busy);
    BhPowerState state = bh_daemon_get_power_state(self, self->preload_name);
    if (state != BH_POWER_RUNNING)
        bh_preload_drop(self, "it did not survive the daemon's restart");
    else if (g_strcmp0(wanted, self->preload_template) != 0)
        bh_preload_drop(self, "not wanted now (preload_dispvm, default_dispvm or its template started)");
    else
        g_info("[%s] preloaded disposable of %s taken back after a restart", self->preload_name,
               self->preload_template);
}

void bh_daemon_preload_init(BhDaemon *self)
{
    g_signal_connect(self->skeleton, "state-changed", G_CALLBACK(bh_preload_on_state_changed), self);
    g_signal_connect(self->skeleton, "property-changed", G_CALLBACK(bh_preload_on_property_changed), self);
    g_signal_connect(self->skeleton, "global-changed", G_CALLBACK(bh_preload_on_global_changed), self);
}

void bh_daemon_preload_stop(BhDaemon *self)
{
    if (self->preload_timer)
        g_source_remove(self->preload_timer);
    self->preload_timer = 0;
    g_clear_pointer(&self->preload_name, g_free);
    g_clear_pointer(&self->preload_template, g_free);
}
