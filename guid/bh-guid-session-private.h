/* bh-guid-session-private.h — what the parts of BhGuidSession share: the
 * session and window structs and each part's functions, one section per part
 * from the bottom up. Included only by the session's own files.
 *
 * The parts depend one way (docs/guid.md, "Inside guid"):
 *   bh-guid-session.c  the GObject: start, stop, totals
 *     -> bh-guid-dispatch.c  the read loop, dispatch of each message
 *       -> bh-guid-windows.c  the window object and its GTK glue
 *         -> bh-guid-pacing.c  frame release and pacing, budgets, trace
 *           -> bh-guid-wire.c  the agent connection: sending, reading, fds
 * A part calls only the parts below it; the one way up is the session's end
 * (BhGuidSession.stop), which any part may need. Only the wire reads,
 * writes or closes self->vchan; the dispatch asks it questions (transport,
 * bytes waiting, the descriptor to poll).
 *
 * Must never: be included outside guid's session files (the structs are
 * not an interface: main.c and the tests use bh-guid-session.h). */
#ifndef BH_GUID_SESSION_PRIVATE_H
#define BH_GUID_SESSION_PRIVATE_H

#include <stdio.h>

#include "bh-guest-view.h"
#include "bh-guest-window.h"
#include "bh-guid-budget.h"
#include "bh-guid-clipboard.h"
#include "bh-guid-session.h"
#include "bh-guid-xshm.h"
#include "bulkhead/proto.h"
#include "bulkhead/vchan.h"
#include "bulkhead/winbuf.h"

G_BEGIN_DECLS

#define HDR_LEN ((gsize)sizeof(struct bh_gui_hdr))

typedef struct _BhGuidWin BhGuidWin;

struct _BhGuidWin {
    BhGuidSession *session; /* unowned: the session owns this */
    guint32 id;
    gboolean popup;
    BhGuestView *view;     /* owned ref */
    BhGuestWindow *window; /* toplevels; destroyed with gtk_window_destroy */
    GtkWidget *popover;    /* popups, from their first MAP; owned ref */
    struct bh_winbuf buf;
    guint32 buf_stride, buf_h;
    guint32 buf_w;
    /* What this window counts against the qube's memory budget: its size
     * while shown (the X server keeps a pixmap of each of guid's ARGB
     * windows), its buffer and a pending next one; and whether a refusal
     * was already logged (one line per window, however often it tries). */
    guint64 px_window, px_buf, px_next;
    gboolean refused_logged;
    /* Waiting for the qube's X-time budget (session->paced): its DAMAGE is
     * marked in the view and put, then released, when the budget allows. */
    gboolean paced;
    guint64 paced_px;
    BhGuidShmSeg *seg; /* buf as an X segment, or NULL (GTK draws) */
    /* A new buffer is shown from its first DAMAGE on (until then the old
     * image stays: no black flash on resize). */
    struct bh_winbuf next;
    guint32 next_stride, next_w, next_h;
    guint32 guest_w, guest_h;         /* the content size the guest last announced */
    guint32 req_w, req_h, req_states; /* the last CONFIGURE_REQ sent */
    guint32 flags;                    /* enum bh_gui_window_flags in force */
    gboolean maximized_for_fullscreen;
    guint32 release_serial;
    gboolean release_pending;
    /* Frames put straight to X are paced by their release (win_pace):
     * when the next one should be on screen, when the last release went
     * out, and the last few release-to-DAMAGE times. */
    gint64 next_present_us;
    gint64 release_sent_us;
    gint64 last_release_us; /* never reset: hidden windows' pacing */
    gint64 answer_us[8];
    guint answer_i;
    /* The release timer: due at release_at (0: not armed), one source for
     * the window's life (bh-guid-pacing.c). */
    gint64 release_at;
    GSource *release_src;
    /* BH_GUID_TRACE_FRAMES: the last DAMAGE not yet painted, or put and
     * waiting for the server's answer (its line is written then). */
    gboolean trace_pending, trace_put;
    guint32 trace_serial, trace_px[2];
};

struct _BhGuidSession {
    GObject parent_instance;

    char *qube;
    const BhLabel *label;
    GdkRGBA frame;
    gboolean allow_fullscreen;
    int domid;

    /* bh_guid_session_stop: how the parts below the session end it (a
     * dropped agent, a closed connection, another protocol version)
     * without calling up by name. */
    void (*stop)(BhGuidSession *self, BhGuidExit status, const char *reason);

    struct bh_vchan *vchan;
    guint io_source;
    guint out_source;
    guint more_source;  /* reading resumes here when the budget ran out */
    guint sweep_source; /* xen: the safety read (bh-guid-dispatch.c) */
    gboolean finished;
    BhGuidExit exit_status;

    struct bh_gui_windows table;
    GHashTable *wins; /* guint32 id -> BhGuidWin* (owned) */

    guint8 *rx;    /* BH_MAX_MSG_BYTES */
    gsize rx_have; /* bytes of the current message read so far */
    gsize rx_need; /* HDR_LEN, then HDR_LEN + body */
    GByteArray *outq;

    guint32 cap_w, cap_h; /* largest content shown (screen minus decoration) */
    guint32 screen_w, screen_h;
    struct bh_gui_keymap keymap; /* the layout the agent was last told */
    gint overhead_w, overhead_h; /* window size minus content size */
    BhGuidTileStats retired;     /* stats of windows already gone */
    FILE *trace;                 /* BH_GUID_TRACE_FRAMES, or NULL */
    GArray *trace_rows;          /* its lines not written yet (bh_guid_trace_write_out) */
    BhGuidClipboard *clip;       /* Ctrl+Shift+C/V */
    BhGuidXshmMode xshm_mode;    /* BH_GUID_XSHM */
    BhGuidXshm *xshm;            /* direct presentation, or NULL */
    gint64 frame_us;             /* the display's refresh interval */
    /* Per-qube bounds (bh-guid-budget.h): pixels held, pixels put. */
    BhGuidBudget budget;
    BhGuidPace pace;
    GQueue paced; /* BhGuidWin* waiting for the pace budget, oldest first */
    guint pace_timer;
    guint warm_source; /* the pending warm-up (bh_guid_wins_warm_up), or 0 */
    guint64 refused_buffers, paced_frames;
};

#define LOG(self, fmt, ...)   g_message("guid[%s]: " fmt, (self)->qube, ##__VA_ARGS__)
#define DEBUG(self, fmt, ...) g_debug("guid[%s]: " fmt, (self)->qube, ##__VA_ARGS__)

/* ---- bh-guid-wire.c: the agent connection ---------------------------------- */

/* Queue one message for the agent and write what it takes now. An agent
 * that leaves more than BH_GUID_MAX_OUTQ unread is dropped. */
void bh_guid_wire_send(BhGuidSession *self, guint32 type, guint32 window, const void *body, gsize body_len);
/* One message with `fd` (kept by the caller) riding along: sent at once or
 * not at all (FALSE: bytes still queued, a full socket, or not the socket
 * transport), never queued and never blocking. */
gboolean bh_guid_wire_send_fd(BhGuidSession *self, guint32 type, guint32 window, const void *body,
                              gsize body_len, int fd);
/* Write what is queued, without blocking. */
void bh_guid_wire_flush(BhGuidSession *self);
/* After the connection's descriptor woke: FALSE when the session ended. */
gboolean bh_guid_wire_wait(BhGuidSession *self);
/* Read on towards the next message: TRUE when rx[0..rx_need) holds a whole
 * framed one; FALSE when nothing more is there now or the session ended. */
gboolean bh_guid_wire_read(BhGuidSession *self);
/* The descriptor that came with the message just read, or -1 (owned by
 * the caller). */
int bh_guid_wire_take_fd(BhGuidSession *self);
/* The message in rx is done with: read the next one from its header. */
void bh_guid_wire_next(BhGuidSession *self);
/* End the session for a violation, with the reason logged. */
void bh_guid_drop_agent(BhGuidSession *self, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Close the connection (idempotent). */
void bh_guid_wire_close(BhGuidSession *self);

/* ---- bh-guid-pacing.c: releases, budgets, trace ------------------------------ */

/* One line of the frame trace, kept as numbers until written out. */
typedef struct {
    guint32 window, serial, px[2];
    gint64 ns;
} BhGuidTraceRow;

/* The view painted a frame ("painted"): trace it, release its buffer. */
void bh_guid_win_on_painted(BhGuestView *view, BhGuidWin *w);
/* Hand the buffer back once the frame that shows it is painted, or paced
 * when the window is not on screen. */
void bh_guid_win_queue_release(BhGuidWin *w, guint32 serial);
/* A frame just put straight to X: release so that the next one arrives
 * when it is due (one refresh later). */
void bh_guid_win_pace_release(BhGuidWin *w, guint32 serial, gint64 arrived);
/* A DAMAGE over the qube's X-time budget: marked now, put and released
 * when the budget allows. */
void bh_guid_win_pace_wait(BhGuidWin *w, guint32 serial, guint64 px, const struct bh_gui_rect *rects,
                           guint32 n_rects);
/* BH_GUID_TRACE_FRAMES: note a DAMAGE; log the frame once painted. */
void bh_guid_win_trace_damage(BhGuidWin *w, guint32 serial, const struct bh_gui_rect *rects, guint32 n);
void bh_guid_win_trace_painted(BhGuidWin *w);
void bh_guid_win_trace_put(BhGuidWin *w);
/* The window goes away: its release timer with it. */
void bh_guid_win_release_timer_free(BhGuidWin *w);
/* Writes the trace's lines kept so far to its file. */
void bh_guid_trace_write_out(BhGuidSession *self);
/* Memory budget: charge what the window would hold (TRUE and applied if
 * it fits); a new buffer (refused: fd closed); the window shown. */
gboolean bh_guid_win_charge(BhGuidWin *w, guint64 px_window, guint64 px_buf, guint64 px_next);
gboolean bh_guid_win_charge_buffer(BhGuidWin *w, const struct bh_gui_buffer *info, int fd);
gboolean bh_guid_win_charge_shown(BhGuidWin *w);

/* ---- bh-guid-windows.c: the window object and its GTK glue ------------------- */

BhGuidWin *bh_guid_win_lookup(BhGuidSession *self, guint32 id);
/* CREATE: the view, and for a toplevel its window (shown at MAP). */
BhGuidWin *bh_guid_win_new(BhGuidSession *self, guint32 id, const struct bh_gui_create *c);
/* The wins map's value destructor. */
void bh_guid_win_free(gpointer data);
void bh_guid_win_accumulate_stats(BhGuidTileStats *into, const BhGuidTileStats *s);
/* Transient-for from the window table, for every window. */
void bh_guid_wins_sync_transients(BhGuidSession *self);
/* Every window closed, popups before their parents; the table emptied. */
void bh_guid_wins_close_all(BhGuidSession *self);
/* Size a toplevel to the content the guest announced, within the screen. */
void bh_guid_win_resize_to_guest(BhGuidWin *w);
/* cap_w/cap_h from the screen and the measured decoration (overhead_*). */
void bh_guid_win_caps_update(BhGuidSession *self);
/* MAP (after the budget allowed it), UNMAP, and what a size change costs. */
void bh_guid_win_map(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_map *map);
gboolean bh_guid_win_parent_shown(BhGuidSession *self, BhGuidWin *w);
void bh_guid_win_hide(BhGuidWin *w);
void bh_guid_win_charge_resized(BhGuidWin *w);
/* FLAGS: fullscreen, maximised, urgent. */
void bh_guid_win_set_flags(BhGuidSession *self, BhGuidWin *w, const struct bh_gui_flags *f);
/* The first DAMAGE on a new buffer makes it the window's image. */
void bh_guid_win_switch_buffer(BhGuidWin *w);
/* Builds and lays out one window that is never shown, so that the first
 * real one finds GTK's styles, fonts and icons loaded (bench/RESULTS.md,
 * "Start at scale V"). */
void bh_guid_wins_warm_up(BhGuidSession *self);

/* ---- bh-guid-dispatch.c: the read loop and the agent's messages -------------- */

/* Read from the connection (below GTK's priority) and act on each message. */
void bh_guid_dispatch_start(BhGuidSession *self);
/* Stop reading (idempotent). */
void bh_guid_dispatch_stop(BhGuidSession *self);

G_END_DECLS

#endif /* BH_GUID_SESSION_PRIVATE_H */
