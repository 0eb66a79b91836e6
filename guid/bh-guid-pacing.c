/* bh-guid-pacing.c — when a window's buffer goes back to the guest, and
 * what one qube may spend (see bh-guid-session-private.h): the release
 * after paint and the pacing of frames put straight to X, the qube's X-time
 * and memory budgets as they apply to its windows (the arithmetic is
 * bh-guid-budget.c's), and the frame trace of bench/frames.
 *
 * Owns: each window's release state, px_* charges and trace state, the
 * session's paced queue and pace_timer. Must never: release a buffer
 * before its damage is copied out or on screen, let a charge past the
 * budget through, or touch a window's GTK widgets (bh-guid-windows.c does). */
#define G_LOG_DOMAIN "bh-guid"

#include <time.h>
#include <unistd.h>

#include "bh-guid-session-private.h"

/* ---- Release after paint ----------------------------------------------------- */

static void win_send_release(BhGuidWin *w);

/* Lines are kept as numbers and formatted when written out (at exit, or
 * every TRACE_ROWS_MAX frames): formatting one per frame was 2-3 % of
 * guid's CPU per 5 % frame in bench/frames, which counts it as guid's. */
#define TRACE_ROWS_MAX 65536
void bh_guid_trace_write_out(BhGuidSession *self)
{
    if (self->trace == NULL || self->trace_rows == NULL)
        return;
    for (guint i = 0; i < self->trace_rows->len; i++) {
        const BhGuidTraceRow *r = &g_array_index(self->trace_rows, BhGuidTraceRow, i);
        fprintf(self->trace, "%u %u %08x %08x %lld\n", r->window, r->serial, r->px[0], r->px[1],
                (long long)r->ns);
    }
    g_array_set_size(self->trace_rows, 0);
}

static void trace_write(BhGuidWin *w, gint64 ns)
{
    if (ns <= 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ns = (gint64)ts.tv_sec * 1000000000ll + ts.tv_nsec;
    }
    BhGuidTraceRow row = {w->id, w->trace_serial, {w->trace_px[0], w->trace_px[1]}, ns};
    g_array_append_val(w->session->trace_rows, row);
    if (w->session->trace_rows->len >= TRACE_ROWS_MAX)
        bh_guid_trace_write_out(w->session);
}

/* Writes the trace line of the frame GTK just painted (BH_GUID_TRACE_FRAMES). */
void bh_guid_win_trace_painted(BhGuidWin *w)
{
    w->trace_pending = FALSE;
    trace_write(w, 0);
}

/* The noted frame was put straight to X: its line is written when the
 * server's answer is read, with the time the answer came. */
void bh_guid_win_trace_put(BhGuidWin *w)
{
    w->trace_pending = FALSE;
    w->trace_put = TRUE;
}

/* GTK has painted a frame, with what the window's last DAMAGE brought: hand
 * the buffer back now. Released here rather than at the frame's start, the
 * guest draws its next frame while this one is on screen and its DAMAGE
 * arrives before the next frame instead of just after it (bench/frames:
 * commit-to-paint latency at 1080p down by the paint time; RESULTS.md). One
 * release per painted frame still paces the guest to the display. */
void bh_guid_win_on_painted(BhGuestView *view, BhGuidWin *w)
{
    if (w->trace_pending)
        bh_guid_win_trace_painted(w);
    if (w->release_pending && w->release_at == 0)
        win_send_release(w);
}

static void on_release_timer(BhGuidWin *w);

/* ---- The release timer -------------------------------------------------------- */

/* One source per window for its life, armed by its deadline: adding and
 * removing a timeout source for every frame (GLib allocates, hashes and
 * links each) was 3-4 % of guid's CPU per 5 % frame (bench/RESULTS.md, "The
 * 5 % frame IV"). Not g_source_set_ready_time: GLib 2.74 wakes the loop's
 * own poll through its eventfd at every call, one more system call and
 * loop turn per frame; this source's prepare reads the deadline instead,
 * and it is only ever armed from the loop's own thread. */
typedef struct {
    GSource source;
    BhGuidWin *w;
} ReleaseSource;

static gboolean release_prepare(GSource *source, gint *timeout)
{
    const BhGuidWin *w = ((ReleaseSource *)source)->w;
    *timeout = -1;
    if (w->release_at == 0)
        return FALSE;
    gint64 left = w->release_at - g_source_get_time(source);
    if (left <= 0) {
        *timeout = 0;
        return TRUE;
    }
    *timeout = (gint)MIN((left + 999) / 1000, G_MAXINT);
    return FALSE;
}

static gboolean release_check(GSource *source)
{
    const BhGuidWin *w = ((ReleaseSource *)source)->w;
    return w->release_at != 0 && g_source_get_time(source) >= w->release_at;
}

static gboolean release_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    BhGuidWin *w = ((ReleaseSource *)source)->w;
    w->release_at = 0;
    on_release_timer(w);
    return G_SOURCE_CONTINUE;
}

/* Never written; GLib's API takes it non-const. */
static GSourceFuncs release_funcs = {release_prepare, release_check, release_dispatch, NULL, NULL, NULL};

/* Due in `ms` milliseconds from now, as g_timeout_add would be. */
static void release_arm(BhGuidWin *w, guint ms)
{
    if (w->release_src == NULL) {
        w->release_src = g_source_new(&release_funcs, sizeof(ReleaseSource));
        ((ReleaseSource *)w->release_src)->w = w;
        g_source_set_priority(w->release_src, G_PRIORITY_HIGH);
        g_source_set_name(w->release_src, "bh-guid release");
        g_source_attach(w->release_src, NULL);
    }
    w->release_at = g_get_monotonic_time() + (gint64)ms * 1000;
}

void bh_guid_win_release_timer_free(BhGuidWin *w)
{
    w->release_at = 0;
    if (w->release_src != NULL) {
        g_source_destroy(w->release_src);
        g_clear_pointer(&w->release_src, g_source_unref);
    }
}

/* Not on screen: nothing paints it, but a guest released at once redraws at
 * once, and a qube with many hidden windows (say, those the memory budget
 * keeps hidden) spins its guid and itself at full speed, on CPUs the X
 * server needs too (guid-budget /pace measured it). So a hidden window gets
 * at most one release per refresh, as a compositor holds the frame
 * callbacks of hidden surfaces. */
static void win_release_hidden(BhGuidWin *w)
{
    gint64 now = g_get_monotonic_time(), due = w->last_release_us + w->session->frame_us;
    if (w->release_at != 0) {
        w->release_pending = TRUE;
        return;
    }
    if (w->last_release_us == 0 || now >= due) {
        win_send_release(w);
        return;
    }
    w->release_pending = TRUE;
    release_arm(w, (guint)((due - now + 999) / 1000));
}

/* The damage is already copied out; hand the buffer back once the frame that
 * shows it is painted, or (paced as above) when the window is not on screen. */
void bh_guid_win_queue_release(BhGuidWin *w, guint32 serial)
{
    w->release_serial = serial;
    if (w->release_pending)
        return;
    if (gtk_widget_get_mapped(GTK_WIDGET(w->view)) && bh_guest_view_request_paint(w->view))
        w->release_pending = TRUE;
    else
        win_release_hidden(w);
}

/* ---- Pacing of frames put straight to X -------------------------------------------- */

static void win_send_release(BhGuidWin *w)
{
    struct bh_gui_buffer_release r = {w->release_serial};
    gint64 answered = 0;
    /* Never before the server has done our puts from this buffer: the guest
     * draws into it as soon as it is back. A refresh after the put the
     * answer is in the socket already, so this costs a read, not a sleep. */
    if (!bh_guest_view_finish_puts(w->view, &answered)) {
        /* Refused (the window went away under us): GTK draws the frame now,
         * and the buffer goes back after that paint. */
        if (w->trace_put) {
            w->trace_put = FALSE;
            w->trace_pending = TRUE;
        }
        w->release_pending = FALSE;
        bh_guid_win_queue_release(w, w->release_serial);
        return;
    }
    if (w->trace_put) {
        w->trace_put = FALSE;
        trace_write(w, answered);
    }
    w->release_pending = FALSE;
    w->release_sent_us = g_get_monotonic_time();
    w->last_release_us = w->release_sent_us;
    bh_guid_wire_send(w->session, BH_GUI_BUFFER_RELEASE, w->id, &r, sizeof r);
}

static void on_release_timer(BhGuidWin *w)
{
    if (bh_guest_view_put_later(w->view) && w->trace_pending)
        bh_guid_win_trace_put(w);
    if (w->release_pending)
        win_send_release(w);
}

/* A frame is on screen the moment its DAMAGE is handled, so nothing waits
 * for a frame clock; the display's rate is kept by when the buffer goes back
 * instead. The release (the guest's frame callback) goes out so that the
 * next frame arrives just before it is due one refresh interval after this
 * one: "due" minus the longest of the last release-to-DAMAGE times, plus a
 * margin. A guest that takes longer than a refresh (or is idle: typing in a
 * terminal) gets its release at once, so pacing never adds latency to an
 * occasional update; a video gets 60 frames/s, each shown within a few
 * milliseconds of its commit instead of waiting up to a whole refresh. */
#define PACE_MARGIN_US 2000
void bh_guid_win_pace_release(BhGuidWin *w, guint32 serial, gint64 arrived)
{
    gint64 now = g_get_monotonic_time(), frame = w->session->frame_us;
    if (w->release_sent_us != 0) {
        w->answer_us[w->answer_i++ % G_N_ELEMENTS(w->answer_us)] = arrived - w->release_sent_us;
        w->release_sent_us = 0;
    }
    /* On time: keep the grid; late or early by half a refresh: start a new
     * one. Judged by when the frame arrived, not when the X server was done
     * with it: a 4K frame takes the server most of a refresh to copy. */
    gint64 due = w->next_present_us;
    if (due == 0 || arrived > due + frame / 2 || arrived < due - frame / 2)
        due = arrived;
    w->next_present_us = due + frame;

    gint64 lead = 0;
    for (guint i = 0; i < G_N_ELEMENTS(w->answer_us); i++)
        lead = MAX(lead, w->answer_us[i]);
    gint64 at = w->next_present_us - lead - PACE_MARGIN_US;
    /* About one release per refresh at most, whatever the lead: the lead counts
     * guid's own delay in reading a DAMAGE already queued, so on a loaded
     * machine a flooding guest's "answers" looked slow, every release went
     * out at once and each queued DAMAGE became a put (guid-hostile /flood:
     * 841 puts in 6.6 s, above two per refresh, on main under load). */
    if (w->last_release_us != 0) /* less 1 ms: timers round up to ms, no drift below the rate */
        at = MAX(at, w->last_release_us + frame - 1000);

    w->release_serial = serial;
    w->release_pending = TRUE;
    w->release_at = 0;
    if (at <= now + 500)
        win_send_release(w);
    else
        release_arm(w, (guint)((at - now + 999) / 1000));
}

/* ---- Per-qube X-time budget ------------------------------------------------------- */

/* The X server is shared by every qube: whatever the number of windows, one
 * qube's puts take at most BH_GUID_PACE_SCREENS screens of pixels per
 * refresh (bh-guid-budget.h). A DAMAGE beyond it waits here, marked in its
 * view, and is put (then released, which paces the guest) in arrival order
 * as the budget refills. */
static gboolean on_pace_timer(gpointer data);

static void pace_schedule(BhGuidSession *self)
{
    BhGuidWin *head = g_queue_peek_head(&self->paced);
    if (self->pace_timer != 0 || head == NULL || self->finished)
        return;
    gint64 wait = bh_guid_pace_wait_us(&self->pace, head->paced_px, g_get_monotonic_time());
    self->pace_timer =
        g_timeout_add_full(G_PRIORITY_HIGH, (guint)MAX((wait + 999) / 1000, 1), on_pace_timer, self, NULL);
}

static gboolean on_pace_timer(gpointer data)
{
    BhGuidSession *self = data;
    self->pace_timer = 0;
    gint64 now = g_get_monotonic_time();
    BhGuidWin *w;
    while ((w = g_queue_peek_head(&self->paced)) != NULL &&
           bh_guid_pace_take(&self->pace, w->paced_px, now)) {
        g_queue_pop_head(&self->paced);
        w->paced = FALSE;
        if (bh_guest_view_put_later(w->view)) {
            if (w->trace_pending)
                bh_guid_win_trace_put(w);
            win_send_release(w);
        } else {
            bh_guid_win_queue_release(w, w->release_serial); /* GTK draws it */
        }
    }
    pace_schedule(self);
    return G_SOURCE_REMOVE;
}

void bh_guid_win_pace_wait(BhGuidWin *w, guint32 serial, guint64 px, const struct bh_gui_rect *rects,
                           guint32 n_rects)
{
    BhGuidSession *self = w->session;
    bh_guest_view_damage_later(w->view, rects, n_rects);
    w->release_serial = serial;
    w->paced = TRUE;
    w->paced_px = px;
    self->paced_frames++;
    g_queue_push_tail(&self->paced, w);
    pace_schedule(self);
}

/* ---- Frame trace (bench/frames) ------------------------------------------------ */

/* Notes the first two pixels of the first damaged rectangle (the bench
 * client writes its frame number there), to be logged when painted. A
 * DAMAGE replaced before it was painted is never logged: it was never
 * shown. */
void bh_guid_win_trace_damage(BhGuidWin *w, guint32 serial, const struct bh_gui_rect *rects, guint32 n)
{
    if (n == 0 || w->buf.map == NULL)
        return;
    guint64 off = (guint64)rects[0].y * w->buf_stride + (guint64)rects[0].x * 4;
    if (off + 8 > w->buf.size)
        return;
    if (bh_winbuf_guard_copy(w->trace_px, (const guint8 *)w->buf.map + off, 8) < 0)
        return;
    w->trace_serial = serial;
    w->trace_pending = TRUE;
}

/* ---- Per-qube memory budget ------------------------------------------------------ */

/* Charge the window (bh-guid-budget.h) what it would hold: TRUE and applied
 * if the qube's total stays within its budget. */
gboolean bh_guid_win_charge(BhGuidWin *w, guint64 px_window, guint64 px_buf, guint64 px_next)
{
    BhGuidSession *self = w->session;
    if (!bh_guid_budget_change(&self->budget, w->px_window + w->px_buf + w->px_next,
                               px_window + px_buf + px_next))
        return FALSE;
    w->px_window = px_window;
    w->px_buf = px_buf;
    w->px_next = px_next;
    return TRUE;
}

/* Over the budget is not a protocol violation (a qube may simply have many
 * big windows): what does not fit is refused, the agent stays, and the
 * log says so once per window; the exit line counts every refusal. */
static void win_refused(BhGuidWin *w, const char *what, guint32 width, guint32 height)
{
    BhGuidSession *self = w->session;
    self->refused_buffers++;
    if (w->refused_logged)
        return;
    w->refused_logged = TRUE;
    LOG(self,
        "window %u: %ux%u %s refused: the qube's windows already hold %" G_GUINT64_FORMAT
        " of the %" G_GUINT64_FORMAT " pixels (%u screens) dom0 keeps for one qube",
        w->id, width, height, what, self->budget.used_px, self->budget.limit_px, BH_GUID_BUDGET_SCREENS);
}

/* A new buffer: refused (fd closed, a pending next one dropped too, the
 * window keeps showing what it had) when it does not fit. */
gboolean bh_guid_win_charge_buffer(BhGuidWin *w, const struct bh_gui_buffer *info, int fd)
{
    BhGuidSession *self = w->session;
    if (bh_guid_win_charge(w, w->px_window, w->px_buf,
                           bh_guid_budget_area(&self->budget, info->width, info->height)))
        return TRUE;
    if (fd >= 0)
        close(fd);
    win_refused(w, "buffer", info->width, info->height);
    bh_winbuf_release(&w->next);
    bh_guid_win_charge(w, w->px_window, w->px_buf, 0);
    return FALSE;
}

/* The window is to be shown (MAP), or its size changed while shown: FALSE
 * when its size does not fit; the caller then keeps (or puts) it hidden. */
gboolean bh_guid_win_charge_shown(BhGuidWin *w)
{
    BhGuidSession *self = w->session;
    if (bh_guid_win_charge(w, bh_guid_budget_area(&self->budget, w->guest_w, w->guest_h), w->px_buf,
                           w->px_next))
        return TRUE;
    win_refused(w, "window", w->guest_w, w->guest_h);
    bh_guid_win_charge(w, 0, w->px_buf, w->px_next);
    return FALSE;
}
