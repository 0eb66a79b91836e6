/* bh-guid-set.c — BhGuidSet; see bh-guid-set.h.
 *
 * Each guid is forked by guid's launcher (`bulkhead-guid --launcher`, one
 * per set, started at the first need; bulkhead/guid-launch.h) or, when there
 * is none (BH_GUID_LAUNCHER=0, or it cannot start), is a GSubprocess of its
 * own. Either way we read its stderr line by line from a pipe: the lines go
 * to our log with the qube's name. guid states a protocol violation in a line
 * "guid[QUBE]: agent violated the protocol: …" before exiting 2; that line
 * (else the last one) is the reason reported.
 * A guid dies with the daemon (PR_SET_PDEATHSIG); the next daemon starts a
 * new one for each qube it adopts.
 * Each guid gets the desktop's accessibility bus address, which we ask of
 * the session bus because guid hides that bus from GTK (docs/guid.md
 * "Accessibility").
 * An entry is looked up by qube and compared by a serial number when the
 * process ends, so the end of a guid that was replaced is never reported as
 * the end of its successor.
 */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-set.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulkhead/guid-launch.h>
#include <bulkhead/program-path.h>

#include "config.h"

/* A guid waits at least this long for the qube's GUI agent to appear
 * (longer when the backend says its agents may take longer: a Xen guest
 * boots a kernel first). */
#define BH_GUID_CONNECT_TIMEOUT_S 60
/* Log lines from guid longer than this are cut: guid's own lines are short. */
#define BH_GUID_MAX_LINE 1024
/* Command-line room the launcher's children write their own arguments over
 * (ps and /proc/PID/cmdline show each guid's qube); guid's are ~200 bytes. */
#define BH_GUID_TITLE_ROOM 512

typedef struct {
    BhGuidSet *set;
    char *qube;
    guint64 serial;
    GSubprocess *proc; /* started on its own; NULL when the launcher forked it */
    pid_t pid;         /* the launcher's child: 0 until the launcher said STARTED */
    int pidfd;         /* the launcher's child, for signals without a pid-reuse race; -1 if none */
    int wait_status;   /* the launcher's child: its wait status once exited */
    GDataInputStream *err;
    GCancellable *cancel;
    char **argv; /* its command line, kept to start it on its own if the launcher never forked it */
    char *last_line;
    char *violation; /* guid's "violated the protocol" line, if any */
    gboolean stopping;
    gboolean deferred; /* not started yet: waits for the a11y bus's address */
    /* Reported once both happened: guid writes its reason and exits, and the
     * exit may be seen before the last line has been read. */
    gboolean exited, log_closed;
} BhGuidProc;

typedef struct {
    GSubprocess *proc;
    int sock; /* our end of the SOCK_SEQPACKET pair */
    guint watch;
    gboolean forked; /* it has forked a guid (said STARTED) */
} BhGuidLauncher;

struct _BhGuidSet {
    GHashTable *procs; /* qube -> BhGuidProc* (owned) */
    BhGuidLauncher *launcher;
    gboolean launcher_broken; /* one ended before it forked anything: not tried again */
    GCancellable *cancel;     /* cancels the waits once the set is gone */
    guint64 next_serial;
    BhGuidEndedFunc ended;
    gpointer ended_data;
    char *a11y;           /* the AT-SPI bus address guids get; NULL: none (yet) */
    guint a11y_watch;     /* org.a11y.Bus on the session bus */
    gboolean a11y_asking; /* the first question is out: guid starts wait for it */
    guint a11y_wait;      /* how long they wait */
};

static void bh_guid_proc_free(gpointer data)
{
    BhGuidProc *p = data;
    g_cancellable_cancel(p->cancel);
    g_clear_object(&p->err);
    g_clear_object(&p->proc);
    if (p->pidfd >= 0)
        close(p->pidfd);
    g_clear_object(&p->cancel);
    g_strfreev(p->argv);
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
    if (p->proc != NULL)
        g_subprocess_send_signal(p->proc, SIGTERM);
    else if (p->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, p->pidfd, SIGTERM, NULL, 0);
    else if (p->pid > 0 && !p->exited)
        kill(p->pid, SIGTERM);
    /* Not forked yet: the launcher's STARTED finds no entry and stops it. */
}

static void bh_guid_launcher_free(BhGuidLauncher *l)
{
    if (l == NULL)
        return;
    g_clear_handle_id(&l->watch, g_source_remove);
    /* The launcher sees the hang-up and ends; its guids end with it (their
     * parent-death signal). GSubprocess reaps it. */
    close(l->sock);
    g_clear_object(&l->proc);
    g_free(l);
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
    g_clear_handle_id(&set->a11y_watch, g_bus_unwatch_name);
    g_clear_handle_id(&set->a11y_wait, g_source_remove);
    g_cancellable_cancel(set->cancel);
    g_object_unref(set->cancel);
    g_hash_table_unref(set->procs);
    bh_guid_launcher_free(set->launcher);
    g_free(set->a11y);
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
    gboolean signaled = p->proc ? g_subprocess_get_if_signaled(p->proc) : WIFSIGNALED(p->wait_status);
    if (signaled) {
        int sig = p->proc ? g_subprocess_get_term_sig(p->proc) : WTERMSIG(p->wait_status);
        status = 128 + sig;
        reason = g_strdup_printf("guid was killed by signal %d (%s)", sig, g_strsignal(sig));
    } else {
        status = p->proc ? g_subprocess_get_exit_status(p->proc) : WEXITSTATUS(p->wait_status);
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

/* ---- the launcher --------------------------------------------------------------- */

static gboolean bh_guid_proc_has_serial(gpointer key, gpointer value, gpointer user_data)
{
    BhGuidProc *p = value;
    return p->proc == NULL && (guint32)p->serial == *(const guint32 *)user_data;
}

/* The entry a launcher reply is about: forked by the launcher, same serial. */
static BhGuidProc *bh_guid_set_find_serial(BhGuidSet *set, guint32 serial)
{
    return g_hash_table_find(set->procs, bh_guid_proc_has_serial, &serial);
}

/* The launcher is gone: its guids went with it (their parent-death signal).
 * Each is reported as ended, with that reason; the next start makes a new
 * launcher. */
static gboolean bh_guid_proc_spawn(BhGuidSet *set, BhGuidProc *p, GError **error);

/* The launcher is gone: the guids it forked went with it (their
 * parent-death signal) and are reported as ended, with that reason; those
 * it had not forked yet start on their own. A launcher that ended before
 * it forked anything (a guid binary without --launcher, say) is not tried
 * again; otherwise the next start makes a new one. */
static void bh_guid_launcher_lost(BhGuidSet *set, const char *why)
{
    if (!set->launcher->forked) {
        set->launcher_broken = TRUE;
        g_message(
            "guid's launcher ended (%s) before it forked any guid; guids start on their own from now on",
            why);
    } else {
        g_message("guid's launcher ended (%s); its guids ended with it", why);
    }
    bh_guid_launcher_free(set->launcher);
    set->launcher = NULL;
    g_autoptr(GPtrArray) ended = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, set->procs);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        BhGuidProc *p = value;
        if (p->proc == NULL && !p->exited && !p->deferred)
            g_ptr_array_add(ended, p);
    }
    for (guint i = 0; i < ended->len; i++) {
        BhGuidProc *p = ended->pdata[i];
        g_autoptr(GError) error = NULL;
        if (p->pid == 0) {
            /* Never forked: its log pipe is the launcher's; a new process
             * gets a new one. */
            g_cancellable_cancel(p->cancel);
            g_object_unref(p->cancel);
            p->cancel = g_cancellable_new();
            g_clear_object(&p->err);
            if (bh_guid_proc_spawn(set, p, &error)) {
                bh_guid_read_line(p);
                continue;
            }
            p->log_closed = TRUE;
        }
        p->exited = TRUE;
        p->wait_status = 1 << 8; /* exit status 1 */
        g_free(p->last_line);
        p->last_line =
            error ? g_strdup(error->message) : g_strdup("guid's launcher ended, and this guid with it");
        bh_guid_maybe_report(p);
    }
}

static void bh_guid_launcher_handle(BhGuidSet *set, const struct bh_guid_launch_reply *r, int fd)
{
    BhGuidProc *p = bh_guid_set_find_serial(set, r->serial);
    switch (r->kind) {
    case BH_GUID_LAUNCH_STARTED:
        set->launcher->forked = TRUE;
        if (p == NULL || p->pid != 0) {
            /* Stopped before it was forked: stop it now. */
            if (fd >= 0)
                syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
            else
                kill(r->pid, SIGTERM);
            break;
        }
        p->pid = r->pid;
        p->pidfd = fd;
        fd = -1;
        g_info("[%s] started %s (pid %d, forked by guid's launcher)", p->qube, p->argv[0], (int)r->pid);
        break;
    case BH_GUID_LAUNCH_FAILED:
        if (p != NULL && !p->exited) {
            p->exited = TRUE;
            p->wait_status = 1 << 8;
            g_free(p->last_line);
            p->last_line = g_strdup_printf("guid's launcher could not start it: %s", g_strerror(r->value));
            bh_guid_maybe_report(p);
        }
        break;
    case BH_GUID_LAUNCH_EXITED:
        if (p != NULL && p->pid == r->pid && !p->exited) {
            p->exited = TRUE;
            p->wait_status = r->value;
            bh_guid_maybe_report(p);
        }
        break;
    }
    if (fd >= 0)
        close(fd);
}

static gboolean bh_guid_launcher_readable(int sock, GIOCondition cond, gpointer user_data)
{
    BhGuidSet *set = user_data;
    for (;;) {
        guint8 buf[sizeof(struct bh_guid_launch_reply) + 1];
        int fds[1], n_fds = 0, cut = 0;
        long len = bh_guid_launch_recv(sock, buf, sizeof buf, fds, 1, &n_fds, &cut, MSG_DONTWAIT);
        if (len < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (len <= 0) {
            set->launcher->watch = 0;
            bh_guid_launcher_lost(set, len == 0 ? "hung up" : g_strerror(errno));
            return G_SOURCE_REMOVE;
        }
        struct bh_guid_launch_reply reply;
        const char *why = NULL;
        if (bh_guid_launch_decode_reply(buf, (size_t)len, &reply, &why) < 0 || cut ||
            (n_fds == 1 && reply.kind != BH_GUID_LAUNCH_STARTED)) {
            g_message("guid's launcher sent a bad reply (%s); ignored", why ? why : "descriptors");
            for (int i = 0; i < n_fds; i++)
                close(fds[i]);
            continue;
        }
        bh_guid_launcher_handle(set, &reply, n_fds ? fds[0] : -1);
        if (set->launcher == NULL)
            return G_SOURCE_REMOVE;
    }
    if (cond & (G_IO_HUP | G_IO_ERR)) {
        set->launcher->watch = 0;
        bh_guid_launcher_lost(set, "hung up");
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* BH_GUID_LAUNCHER=0 starts every guid on its own, as before the launcher. */
static gboolean bh_guid_launcher_wanted(void)
{
    return g_strcmp0(g_getenv("BH_GUID_LAUNCHER"), "0") != 0;
}

static BhGuidLauncher *bh_guid_launcher_start(BhGuidSet *set, GError **error)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s", g_strerror(errno));
        return NULL;
    }
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_fd(launcher, sv[1], 3);
    g_subprocess_launcher_set_child_setup(launcher, bh_guid_child_setup, GINT_TO_POINTER((int)getpid()),
                                          NULL);
    g_autofree char *room = g_strnfill(BH_GUID_TITLE_ROOM, ' ');
    const char *argv[] = {bh_guid_path(), "--launcher", "3", room, NULL};
    GSubprocess *proc = g_subprocess_launcher_spawnv(launcher, argv, error);
    if (proc == NULL) {
        close(sv[0]);
        return NULL;
    }
    BhGuidLauncher *l = g_new0(BhGuidLauncher, 1);
    l->proc = proc;
    l->sock = sv[0];
    l->watch = g_unix_fd_add(l->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, bh_guid_launcher_readable, set);
    g_info("started guid's launcher %s (pid %s)", argv[0], g_subprocess_get_identifier(proc));
    return l;
}

void bh_guid_set_prepare(BhGuidSet *set)
{
    if (set->launcher != NULL || set->launcher_broken || !bh_guid_launcher_wanted())
        return;
    g_autoptr(GError) error = NULL;
    set->launcher = bh_guid_launcher_start(set, &error);
    if (set->launcher == NULL)
        g_message("no guid launcher (%s): each guid starts on its own", error->message);
}

/* Asks the launcher for p's guid; its stderr is a pipe we read. FALSE
 * (nothing sent) if the launcher cannot take the request. */
static gboolean bh_guid_launcher_request(BhGuidSet *set, BhGuidProc *p, const char *const *argv)
{
    guint8 buf[BH_GUID_LAUNCH_MAX_BYTES];
    long len = bh_guid_launch_encode_request(buf, sizeof buf, (guint32)p->serial, argv, set->a11y);
    int pipefd[2];
    if (len < 0 || g_unix_open_pipe(pipefd, FD_CLOEXEC, NULL) == FALSE)
        return FALSE;
    long sent = bh_guid_launch_send(set->launcher->sock, buf, (size_t)len, &pipefd[1], 1);
    close(pipefd[1]);
    if (sent != len) {
        close(pipefd[0]);
        return FALSE;
    }
    p->err = g_data_input_stream_new(g_unix_input_stream_new(pipefd[0], TRUE));
    return TRUE;
}

/* Starts p's guid as a process of its own, as before the launcher. */
static gboolean bh_guid_proc_spawn(BhGuidSet *set, BhGuidProc *p, GError **error)
{
    /* stdin is /dev/null: guid reads a hostile qube's data and has no use
     * for the terminal bulkheadd was started from. */
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_set_child_setup(launcher, bh_guid_child_setup, GINT_TO_POINTER((int)getpid()),
                                          NULL);
    if (set->a11y != NULL)
        g_subprocess_launcher_setenv(launcher, "AT_SPI_BUS_ADDRESS", set->a11y, TRUE);
    else
        g_subprocess_launcher_unsetenv(launcher, "AT_SPI_BUS_ADDRESS");
    p->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)p->argv, error);
    if (p->proc == NULL)
        return FALSE;
    p->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(p->proc));
    BhGuidWait *w = g_new0(BhGuidWait, 1);
    w->set = set;
    w->serial = p->serial;
    w->qube = g_strdup(p->qube);
    /* Not cancelled with p: after a stop the wait still ends, finds p gone
     * and stays quiet; only freeing the set cancels it. */
    g_subprocess_wait_async(p->proc, set->cancel, bh_guid_exited, w);
    g_info("[%s] started %s (pid %s)", p->qube, p->argv[0], g_subprocess_get_identifier(p->proc));
    return TRUE;
}

/* Asks the launcher for p's guid, else starts it on its own, and reads its
 * log. */
static gboolean bh_guid_proc_launch(BhGuidSet *set, BhGuidProc *p, GError **error)
{
    bh_guid_set_prepare(set);
    if (set->launcher != NULL && !bh_guid_launcher_request(set, p, (const char *const *)p->argv)) {
        g_message("[%s] guid's launcher did not take the request; starting guid on its own", p->qube);
        bh_guid_launcher_lost(set, "it took no request");
    }
    if (p->err == NULL && !bh_guid_proc_spawn(set, p, error))
        return FALSE;
    bh_guid_read_line(p);
    return TRUE;
}

/* ---- the accessibility bus ------------------------------------------------------------ */

/* guid hides the session bus from GTK (bh-guid-main.c), and GTK finds the
 * AT-SPI bus through it unless AT_SPI_BUS_ADDRESS names it: we ask once for
 * every guid, on our own connection, and never wait for the answer. An
 * activation (at-spi-bus-launcher starting its dbus-daemon) takes well
 * under a second; past this the desktop has none that works. */
#define BH_GUID_A11Y_TIMEOUT_MS 10000
/* A guid started while the first question is out (adoption and autostart
 * come right after bulkheadd gets on the bus) waits for the answer this
 * long at most, then starts without it: its accessibility is fixed at its
 * start. The qube itself never waits. */
#define BH_GUID_A11Y_WAIT_MS 1000

/* The first answer came, or the wait is over: the guids that waited start. */
static void bh_guid_set_a11y_settled(BhGuidSet *set)
{
    g_clear_handle_id(&set->a11y_wait, g_source_remove);
    if (!set->a11y_asking)
        return;
    set->a11y_asking = FALSE;
    g_autoptr(GPtrArray) waiting = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, set->procs);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (((BhGuidProc *)value)->deferred)
            g_ptr_array_add(waiting, g_strdup(((BhGuidProc *)value)->qube));
    /* By name: a failed start reports its end, which removes its entry. */
    for (guint i = 0; i < waiting->len; i++) {
        BhGuidProc *p = g_hash_table_lookup(set->procs, waiting->pdata[i]);
        if (p == NULL || !p->deferred)
            continue;
        g_autoptr(GError) error = NULL;
        gboolean started =
            bh_guid_proc_launch(set, p, &error); /* p->deferred keeps it from a lost launcher's list */
        p->deferred = FALSE;
        if (!started) {
            p->exited = p->log_closed = TRUE;
            p->wait_status = 1 << 8; /* exit status 1 */
            g_free(p->last_line);
            p->last_line =
                g_strdup_printf("cannot start the window manager of '%s': %s", p->qube, error->message);
            bh_guid_maybe_report(p);
        }
    }
}

static gboolean bh_guid_set_a11y_waited(gpointer user_data)
{
    BhGuidSet *set = user_data;
    set->a11y_wait = 0;
    g_message("no answer from org.a11y.Bus within %d ms: the guids waiting for it start without it",
              BH_GUID_A11Y_WAIT_MS);
    bh_guid_set_a11y_settled(set);
    return G_SOURCE_REMOVE;
}

static void bh_guid_set_a11y_take(BhGuidSet *set, const char *address, const char *why)
{
    if (address != NULL && g_strcmp0(set->a11y, address) == 0)
        return;
    g_free(set->a11y);
    set->a11y = g_strdup(address);
    if (address != NULL)
        g_info("accessibility bus at %s: guids started from now on use it", address);
    else
        g_message("no accessibility bus (%s): guids start with GTK's accessibility off", why);
}

static void bh_guid_set_a11y_answered(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (reply == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* the set is gone */
    BhGuidSet *set = user_data;
    const char *address = NULL;
    const char *why = error != NULL ? error->message : NULL;
    if (reply != NULL) {
        const char *untrusted_address = NULL;
        g_variant_get(reply, "(&s)", &untrusted_address);
        /* Whoever owns org.a11y.Bus said it: it reaches every guid's
         * environment, so it must be one D-Bus address of sane length. */
        if (strlen(untrusted_address) >= BH_GUID_LAUNCH_MAX_A11Y || !g_dbus_is_address(untrusted_address))
            why = "org.a11y.Bus gave no valid D-Bus address";
        else
            address = untrusted_address;
    }
    bh_guid_set_a11y_take(set, address, why);
    bh_guid_set_a11y_settled(set);
}

static void bh_guid_set_a11y_ask(BhGuidSet *set, GDBusConnection *connection)
{
    g_dbus_connection_call(connection, "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress", NULL,
                           G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, BH_GUID_A11Y_TIMEOUT_MS,
                           set->cancel, bh_guid_set_a11y_answered, set);
}

static void bh_guid_set_a11y_appeared(GDBusConnection *connection, const char *name, const char *owner,
                                      gpointer user_data)
{
    BhGuidSet *set = user_data;
    /* At the watch's start the first question is out already
     * (bh_guid_set_watch_a11y asks at once, to activate the bus): asking
     * again would only repeat it. Later appearances are a new bus. */
    if (!set->a11y_asking)
        bh_guid_set_a11y_ask(set, connection);
}

static void bh_guid_set_a11y_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
    BhGuidSet *set = user_data;
    /* Not at the watch's start, while the first question activates it. */
    if (set->a11y != NULL)
        bh_guid_set_a11y_take(set, NULL, "org.a11y.Bus left the session bus");
}

void bh_guid_set_watch_a11y(BhGuidSet *set, GDBusConnection *connection)
{
    const char *env = g_getenv("AT_SPI_BUS_ADDRESS");
    if (env != NULL && *env != '\0') {
        bh_guid_set_a11y_take(set, env, NULL);
        return;
    }
    /* Accessibility turned off for every GTK (the tests do): guids keep
     * that, so nothing to ask, and no a11y bus started for nothing. */
    if (g_strcmp0(g_getenv("GTK_A11Y"), "none") == 0) {
        g_info("GTK_A11Y=none: guids start with GTK's accessibility off; the accessibility bus is not asked "
               "for");
        return;
    }
    if (set->a11y_watch != 0)
        return;
    set->a11y_watch =
        g_bus_watch_name_on_connection(connection, "org.a11y.Bus", G_BUS_NAME_WATCHER_FLAGS_NONE,
                                       bh_guid_set_a11y_appeared, bh_guid_set_a11y_vanished, set, NULL);
    /* Activates it when nothing runs it yet, as GTK did at a guid's first
     * window before guid hid the session bus. */
    set->a11y_asking = TRUE;
    set->a11y_wait = g_timeout_add(BH_GUID_A11Y_WAIT_MS, bh_guid_set_a11y_waited, set);
    bh_guid_set_a11y_ask(set, connection);
}

const char *bh_guid_set_get_a11y(BhGuidSet *set)
{
    return set->a11y;
}

/* ---- starting and stopping ---------------------------------------------------------- */

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

    BhGuidProc *p = g_new0(BhGuidProc, 1);
    p->set = set;
    p->qube = g_strdup(qube);
    p->serial = ++set->next_serial;
    p->pidfd = -1;
    p->cancel = g_cancellable_new();
    p->argv = g_strdupv((char **)argv);

    if (set->a11y_asking) {
        /* Started by bh_guid_set_a11y_settled, within BH_GUID_A11Y_WAIT_MS. */
        p->deferred = TRUE;
        g_info("[%s] guid starts once the accessibility bus's address is known", qube);
    } else if (!bh_guid_proc_launch(set, p, error)) {
        g_prefix_error(error, "cannot start the window manager of '%s' (%s): ", qube, argv[0]);
        bh_guid_proc_free(p);
        return FALSE;
    }
    g_hash_table_insert(set->procs, p->qube, p);
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
    if (p == NULL || p->exited)
        return 0;
    if (p->proc == NULL)
        return p->pid;
    const char *id = g_subprocess_get_identifier(p->proc);
    return id ? (pid_t)g_ascii_strtoll(id, NULL, 10) : 0;
}
