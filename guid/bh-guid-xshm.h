/* bh-guid-xshm.h — guest pixels straight to the X server (MIT-SHM 1.2).
 *
 * Why: drawing a guest frame through GTK costs three full copies in guid
 * (into tiles, GTK compositing them into its offscreen, the upload to X)
 * plus GTK's fixed per-frame work, and waits for GTK's 60 Hz frame clock
 * (bench/RESULTS.md). Here the guest's sealed memfd is handed to the X
 * server read-only, once per buffer, and each DAMAGE becomes one
 * ShmPutImage per rectangle into the window: the X server makes the only
 * copy, at once. Grant-mapped (Xen) buffers have no file to hand over; they
 * go through a staging memfd owned by guid (one copy of the damaged rows).
 *
 * Owns: its own X connection for the puts (or GDK's, borrowed, when that
 * cannot be opened), one GC per depth, the segments it attached and their
 * unanswered puts. Must never: write to a guest buffer (segments are
 * attached read-only), let an X error reach GDK's handler (every request is
 * checked here; an error just ends the direct path for that drawable), put
 * pixels outside the destination rectangle it was given, or say a put is
 * done before the server answered it. */
#ifndef BH_GUID_XSHM_H
#define BH_GUID_XSHM_H

#include <gtk/gtk.h>

#include "bulkhead/gui-protocol.h"

G_BEGIN_DECLS

typedef struct _BhGuidXshm BhGuidXshm;
typedef struct _BhGuidShmSeg BhGuidShmSeg;

typedef enum {
    BH_GUID_XSHM_OFF,  /* never: everything through GTK */
    BH_GUID_XSHM_AUTO, /* memfds attached, grants staged */
    BH_GUID_XSHM_COPY, /* every buffer staged (tests the Xen path on sockets) */
} BhGuidXshmMode;

/* BH_GUID_XSHM=0|off / copy / anything else (default auto). */
BhGuidXshmMode bh_guid_xshm_mode_from_env(void);

/* The presenter for `display`, or NULL with *why set when there is none: not
 * X11, no MIT-SHM 1.2, or a server whose pixels are not XRGB8888
 * little-endian in 32 bits (guest buffers would need converting). Puts go
 * on an X connection of the presenter's own, which GDK never polls, so the
 * server's answer to a frame wakes nobody: it is read when the buffer goes
 * back (bh_guid_xshm_wait). When that connection cannot be opened, GDK's
 * is used, as before (its event source then wakes once more per frame). */
BhGuidXshm *bh_guid_xshm_new(GdkDisplay *display, BhGuidXshmMode mode, const char **why);
/* BH_GUID_TRACE_FRAMES only: each put also asks for the server's
 * completion event, and a thread ("bh-guid-trace") waits for those and notes
 * when they come, so the trace says when a frame was on screen, not when
 * guid next looked. The main thread's work stays what it is without the
 * trace; bench/frames does not count that thread, which exists only under
 * the trace. */
void bh_guid_xshm_trace_answers(BhGuidXshm *x);
void bh_guid_xshm_free(BhGuidXshm *x);

/* A segment for one guest buffer of `size` bytes: the memfd itself (fd >= 0,
 * not consumed: a duplicate goes to the server) or, for fd < 0 or in COPY
 * mode, a staging memfd of guid's own. NULL when the server refused. */
BhGuidShmSeg *bh_guid_xshm_seg_new(BhGuidXshm *x, int fd, gsize size);
/* Before the presenter goes. */
void bh_guid_xshm_seg_free(BhGuidShmSeg *seg);

/* Where a surface's content goes: X window `xid`, content origin (ox, oy) in
 * it, only the w x h rectangle from there is guest content. */
typedef struct {
    guint32 xid;
    guint8 depth; /* from bh_guid_xshm_window_depth */
    gint ox, oy;
    guint32 w, h;
} BhGuidXshmTarget;

/* The depth (24 or 32) of `xid` if it takes our pixels (an XRGB TrueColor
 * visual, 32 bits per pixel), else 0. A round trip; callers cache the
 * answer per window. */
guint8 bh_guid_xshm_window_depth(BhGuidXshm *x, guint32 xid);

/* Put the damaged rectangles of the buffer (`map` of `size` bytes, `stride`
 * bytes per row, `buf_h` rows) into the target, clipped to its rectangle,
 * and ask the server to answer once it has done them; returns at once.
 * Staged segments copy the rows from `map` first. Puts of this segment
 * still unanswered are waited for first. Returns the number of pixels
 * put, or -1 when nothing could be put (the guest's memory faulted while
 * staging): the caller falls back to GTK. */
gint64 bh_guid_xshm_put(BhGuidXshm *x, BhGuidShmSeg *seg, const guint8 *map, gsize size, guint32 stride,
                        guint32 buf_h, const BhGuidXshmTarget *t, const struct bh_gui_rect *rects,
                        guint32 n_rects);
/* TRUE while the segment's last puts are unanswered: the guest's buffer
 * must not go back, and GDK must not draw over their target, before
 * bh_guid_xshm_wait. */
gboolean bh_guid_xshm_pending(const BhGuidShmSeg *seg);
/* Until the server has done the segment's last puts (no wait when it has
 * answered already, which is the rule a refresh after the put). FALSE when
 * it refused one (the window went away): the caller falls back to GTK.
 * *answered_ns (may be NULL): CLOCK_MONOTONIC in ns when the answer came,
 * known only under bh_guid_xshm_trace_answers; else when this returned. */
gboolean bh_guid_xshm_wait(BhGuidXshm *x, BhGuidShmSeg *seg, gint64 *answered_ns);
/* After GDK drew on its own connection: until the server has done that,
 * so that a put which follows lands over it, not under it. */
void bh_guid_xshm_sync_gdk(BhGuidXshm *x);

G_END_DECLS

#endif /* BH_GUID_XSHM_H */
