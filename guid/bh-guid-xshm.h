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
 * Owns: the X connection's MIT-SHM state (checked once), one GC, and the
 * segments it attached. Must never: write to a guest buffer (segments are
 * attached read-only), let an X error reach GDK's handler (every request is
 * checked here; an error just ends the direct path for that drawable), or
 * put pixels outside the destination rectangle it was given. */
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
 * little-endian in 32 bits (guest buffers would need converting). */
BhGuidXshm *bh_guid_xshm_new(GdkDisplay *display, BhGuidXshmMode mode, const char **why);
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
 * and wait until the server has done it (the guest may reuse the buffer
 * after our release). Staged segments copy the rows from `map` first.
 * Returns the number of pixels put, or -1 when the server refused (the
 * window went away): the caller falls back to GTK. */
gint64 bh_guid_xshm_put(BhGuidXshm *x, BhGuidShmSeg *seg, const guint8 *map, gsize size, guint32 stride,
                        guint32 buf_h, const BhGuidXshmTarget *t, const struct bh_gui_rect *rects,
                        guint32 n_rects);

G_END_DECLS

#endif /* BH_GUID_XSHM_H */
