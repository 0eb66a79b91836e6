/* bh-guid-set.c — BhGuidSet; see bh-guid-set.h.
 *
 * Each guid is a GSubprocess whose stderr we read line by line: the lines go
 * to our log with the qube's name. guid states a protocol violation in a line
 * "guid[QUBE]: agent violated the protocol: …" before exiting 2; that line
 * (else the last one) is the reason reported.
 * A guid dies with the daemon (PR_SET_PDEATHSIG); the next daemon starts a
 * new one for each qube it adopts.
 * An entry is looked up by qube and compared by a serial number when the
 * process ends, so the end of a guid that was replaced is never reported as
 * the end of its successor.
 */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-set.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <bulkhead/program-path.h>

#include "config.h"

/* A guid waits at least this long for the qube's GUI agent to appear
 * (longer when the backend says its agents may take longer: a Xen guest
 * boots a kernel first). */
#define BH_GUID_CONNECT_TIMEOUT_S 60
/* Log lines from guid longer than this are cut: guid's own lines are short. */
#define BH_GUID_MAX_LINE 1024

typedef struct {
    BhGuidSet *set;
    char *qube;
    guint64 serial;
    GSubprocess *proc;
    GDataInputStream *err;
    GCancellable *cancel;
    char *last_line;
    char *violation; /* guid's "violated the protocol" line, if any */
    gboolean stopping;
    /* Reported once both happened: guid writes its reason and exits, and the
     * exit may be seen before the last line has been read. */
    gboolean exited, log_closed;
} BhGuidProc;

struct _BhGuidSet {
    GHashTable *procs;    /* qube -> BhGuidProc* (owned) */
    GCancellable *cancel; /* cancels the waits once the set is gone */
    guint64 next_serial;
    BhGuidEndedFunc ended;
    gpointer ended_data;
};

static void bh_guid_proc_free(gpointer data)
{
    BhGuidProc *p = data;
    g_cancellable_cancel(p->cancel);
    g_clear_object(&p->err);
    g_clear_object(&p->proc);
    g_clear_object(&p->cancel);
    g_free(p->last_line);
    g_free(p->violation);
    g_free(p->qube);
    g_free(p);
}

const char *bh_guid_path(void)
{
    return bh_program_path("BH_GUID_PATH", BH_BUILD_ROOT "/guid/bulkhead-guid",
                           BH_LIBEXECDIR "/bulkhead-guid");
}

gboolean bh_guid_display_available(void)
{
    const char *vars[] = {"DISPLAY", "WAYLAND_DISPLAY", "BROADWAY_DISPLAY"};
    for (gsize i = 0; i < G_N_ELEMENTS(vars); i++) {
        const char *v = g_getenv(vars[i]);
        if (v && *v)
            return TRUE;
    }
    return FALSE;
}

BhGuidSet *bh_guid_set_new(BhGuidEndedFunc ended, gpointer user_data)
{
    BhGuidSet *set = g_new0(BhGuidSet, 1);
    set->procs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, bh_guid_proc_free);
    set->cancel = g_cancellable_new();
    set->ended = ended;
    set->ended_data = user_data;
    return set;
}

static void bh_guid_proc_terminate(BhGuidProc *p)
{
    p->stopping = TRUE;
    g_subprocess_send_signal(p->proc, SIGTERM);
}

void bh_guid_set_free(BhGuidSet *set)
{
    if (set == NULL)
        return;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, set->procs);
    while (g_hash_table_iter_next(&it, NULL, &value))
        bh_guid_proc_terminate(value);
    /* GSubprocess reaps its child whether or not anyone waits. */
    g_cancellable_cancel(set->cancel);
    g_object_unref(set->cancel);
    g_hash_table_unref(set->procs);
    g_free(set);
}

static void bh_guid_read_line(BhGuidProc *p);
static void bh_guid_report_end(BhGuidSet *set, BhGuidProc *p);

static void bh_guid_maybe_report(BhGuidProc *p)
{
    if (p->exited && p->log_closed)
        bh_guid_report_end(p->set, p);
}

static void bh_guid_line_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhGuidProc *p = user_data;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    g_autofree char *line =
        g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), result, &len, &error);
    if (line == NULL) {
        /* Cancelled: p is gone. EOF or not UTF-8: stop reading. */
        if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        if (error)
            g_message("[%s] guid's log is unreadable: %s", p->qube, error->message);
        p->log_closed = TRUE;
        bh_guid_maybe_report(p);
        return;
    }
    if (len > BH_GUID_MAX_LINE)
        line[BH_GUID_MAX_LINE] = '\0';
    /* guid's GLib log prefix (domain, time) says nothing the daemon's does not. */
    const char *text = strstr(line, "guid[");
    text = text ? text : line;
    g_message("[%s] %s", p->qube, text);
    if (p->violation == NULL && strstr(text, "violated the protocol"))
        p->violation = g_strdup(text);
    g_free(p->last_line);
    p->last_line = g_strdup(text);
    bh_guid_read_line(p);
}

static void bh_guid_read_line(BhGuidProc *p)
{
    g_data_input_stream_read_line_async(p->err, G_PRIORITY_DEFAULT, p->cancel, bh_guid_line_read, p);
}

typedef struct {
    BhGuidSet *set;
    guint64 serial;
    char *qube;
} BhGuidWait;

/* The process of entry p ended and its log is read; report it unless it was
 * stopped by us. Frees p. */
static void bh_guid_report_end(BhGuidSet *set, BhGuidProc *p)
{
    int status;
    g_autofree char *reason = NULL;
    if (g_subprocess_get_if_signaled(p->proc)) {
        int sig = g_subprocess_get_term_sig(p->proc);
        status = 128 + sig;
        reason = g_strdup_printf("guid was killed by signal %d (%s)", sig, g_strsignal(sig));
    } else {
        status = g_subprocess_get_exit_status(p->proc);
        reason = g_strdup(p->violation ? p->violation : p->last_line ? p->last_line : "guid said nothing");
    }
    gboolean stopping = p->stopping;
    g_autofree char *qube = g_strdup(p->qube);
    g_hash_table_remove(set->procs, qube); /* frees p */
    if (status == 0)
        g_info("[%s] guid ended: the qube's GUI agent went away", qube);
    else
        g_message("[%s] guid ended with status %d: %s", qube, status, reason);
    if (!stopping && set->ended)
        set->ended(qube, status, reason, set->ended_data);
}

static void bh_guid_exited(GObject *source, GAsyncResult *result, gpointer user_data)
{
    BhGuidWait *w = user_data;
    g_autoptr(GError) error = NULL;
    /* Cancelled: the set is gone and w->set with it. */
    if (g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error) ||
        !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        BhGuidProc *p = g_hash_table_lookup(w->set->procs, w->qube);
        /* Replaced or stopped: its end is not news. */
        if (p != NULL && p->serial == w->serial) {
            p->exited = TRUE;
            bh_guid_maybe_report(p);
        }
    }
    g_free(w->qube);
    g_free(w);
}

/* A guid ends with the daemon that started it (SIGTERM): a daemon that
 * crashed and restarts adopts the qube and starts a new guid, which the
 * qube's GUI agent accepts as a reconnection; an old guid left behind would
 * hold the agent's one connection. Runs between fork and exec: system calls
 * only. */
static void bh_guid_child_setup(gpointer user_data)
{
    pid_t parent = (pid_t)GPOINTER_TO_INT(user_data);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        raise(SIGTERM);
}

gboolean bh_guid_set_start(BhGuidSet *set, const char *qube, const char *label, guint domid_n,
                           guint connect_timeout_s, BhGuidStartFlags flags, GError **error)
{
    bh_guid_set_stop(set, qube);

    g_autofree char *domid = g_strdup_printf("%u", domid_n);
    g_autofree char *timeout = g_strdup_printf("%u", MAX(connect_timeout_s, BH_GUID_CONNECT_TIMEOUT_S));
    const char *argv[12] = {bh_guid_path(),      "--qube", qube, "--label", label, "--domid", domid,
                            "--connect-timeout", timeout};
    int argc = 9;
    if (flags & BH_GUID_START_ALLOW_FULLSCREEN)
        argv[argc++] = "--allow-fullscreen";
    if (flags & BH_GUID_START_WARM_UP)
        argv[argc++] = "--warm-up";
    /* stdin is /dev/null: guid reads a hostile qube's data and has no use for
     * the terminal bulkheadd was started from. */
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_set_child_setup(launcher, bh_guid_child_setup, GINT_TO_POINTER((int)getpid()),
                                          NULL);
    g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv(launcher, argv, error);
    if (proc == NULL) {
        g_prefix_error(error, "cannot start the window manager of '%s' (%s): ", qube, argv[0]);
        return FALSE;
    }

    BhGuidProc *p = g_new0(BhGuidProc, 1);
    p->set = set;
    p->qube = g_strdup(qube);
    p->serial = ++set->next_serial;
    p->proc = g_steal_pointer(&proc);
    p->cancel = g_cancellable_new();
    p->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(p->proc));
    g_hash_table_insert(set->procs, p->qube, p);
    bh_guid_read_line(p);

    BhGuidWait *w = g_new0(BhGuidWait, 1);
    w->set = set;
    w->serial = p->serial;
    w->qube = g_strdup(qube);
    /* Not cancelled with p: after a stop the wait still ends, finds p gone
     * and stays quiet; only freeing the set cancels it. */
    g_subprocess_wait_async(p->proc, set->cancel, bh_guid_exited, w);
    g_info("[%s] started %s (pid %s)", qube, argv[0], g_subprocess_get_identifier(p->proc));
    return TRUE;
}

void bh_guid_set_stop(BhGuidSet *set, const char *qube)
{
    BhGuidProc *p = g_hash_table_lookup(set->procs, qube);
    if (p == NULL)
        return;
    bh_guid_proc_terminate(p);
    g_hash_table_remove(set->procs, qube);
}

gboolean bh_guid_set_is_running(BhGuidSet *set, const char *qube)
{
    return g_hash_table_contains(set->procs, qube);
}

pid_t bh_guid_set_get_pid(BhGuidSet *set, const char *qube)
{
    BhGuidProc *p = g_hash_table_lookup(set->procs, qube);
    const char *id = p && !p->exited ? g_subprocess_get_identifier(p->proc) : NULL;
    return id ? (pid_t)g_ascii_strtoll(id, NULL, 10) : 0;
}
