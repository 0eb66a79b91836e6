/* bh-guid-xshm.c — MIT-SHM presenter (see bh-guid-xshm.h).
 *
 * Why a connection of its own: at 5 % damage a frame's cost is its
 * wake-ups (bench/RESULTS.md, "The 5 % frame"). Waiting for the server's
 * answer right after the puts was one sleep per frame; not waiting is no
 * better on GDK's connection, whose event source wakes the main loop when
 * the answer arrives. On a connection nobody polls the answer just waits
 * in the socket until the buffer goes back a refresh later, and reading it
 * then costs one read, no sleep.
 *
 * What one connection gave for free, two must keep by waiting: our puts
 * are done before GTK draws over their target (bh-guest-view.c waits in
 * the render hook), and GTK's drawing is done before a put-back lands over
 * it (bh_guid_xshm_sync_gdk).
 *
 * Must never: attach a segment writable, or block except on the X server's
 * answer to requests already made. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-xshm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bulkhead/winbuf.h"

#ifdef GDK_WINDOWING_X11
#include <X11/Xlib-xcb.h>
#include <gdk/x11/gdkx.h>
#include <xcb/shm.h>
#include <xcb/xcb.h>
#endif

BhGuidXshmMode bh_guid_xshm_mode_from_env(void)
{
    const char *v = g_getenv("BH_GUID_XSHM");
    if (v == NULL || *v == '\0')
        return BH_GUID_XSHM_AUTO;
    if (g_str_equal(v, "0") || g_ascii_strcasecmp(v, "off") == 0)
        return BH_GUID_XSHM_OFF;
    if (g_ascii_strcasecmp(v, "copy") == 0)
        return BH_GUID_XSHM_COPY;
    return BH_GUID_XSHM_AUTO;
}

#ifdef GDK_WINDOWING_X11

/* Under BH_GUID_TRACE_FRAMES: a thread that waits for the server's
 * ShmCompletion events (asked for on the last put of a frame, only under
 * the trace) and notes when the last one came. It reads the socket while
 * the main thread sleeps, so the main thread's work is the same as without
 * the trace: no extra system call, no wake-up. */
typedef struct {
    GThread *thread;
    GMutex lock;
    guint32 done_seq; /* the put the last completion was for, and when */
    gint64 done_ns;
    gboolean any;
} TraceAnswers;

struct _BhGuidXshm {
    xcb_connection_t *conn; /* ours (own), else GDK's */
    xcb_connection_t *gdk;  /* GDK's, borrowed */
    gboolean own;
    BhGuidXshmMode mode;
    TraceAnswers *trace;
    guint8 completion; /* the ShmCompletion event's code (under the trace) */
    /* One GC per depth (a GC only draws on drawables of its depth): 24-bit
     * windows take the whole pixel; on 32-bit (ARGB) windows, which GTK 4
     * uses whenever the server offers them, the plane mask keeps the alpha
     * byte GTK painted (opaque: the view draws no translucent content), so
     * the guest's undefined X byte can never make its window see-through
     * under a compositor. 0 = not created yet. */
    xcb_gcontext_t gc24, gc32;
};

struct _BhGuidShmSeg {
    BhGuidXshm *x; /* the presenter, which outlives its segments */
    xcb_shm_seg_t seg;
    guint8 *stage; /* staging copy (read-write, ours), or NULL: the guest's memfd */
    gsize size;
    /* The last puts, not yet answered: each is checked (an error comes back
     * to us, never to GDK), then the fence whose answer says all are done. */
    guint32 n_pending;
    xcb_void_cookie_t pending[BH_MAX_DAMAGE_RECTS];
    gboolean fenced;
    xcb_get_input_focus_cookie_t fence;
    guint32 last_put; /* its sequence: the trace's completion event names it */
};

/* Pixels of `depth` lie in memory as the guest's XRGB8888 does: little-
 * endian, 32 bits per pixel, rows padded to 32 bits. */
static gboolean depth_is_xrgb_layout(const xcb_setup_t *setup, guint8 depth)
{
    if (setup->image_byte_order != XCB_IMAGE_ORDER_LSB_FIRST)
        return FALSE;
    xcb_format_iterator_t f = xcb_setup_pixmap_formats_iterator(setup);
    for (; f.rem; xcb_format_next(&f))
        if (f.data->depth == depth)
            return f.data->bits_per_pixel == 32 && f.data->scanline_pad == 32;
    return FALSE;
}

/* A TrueColor visual with R, G, B in bits 16, 8, 0, of depth 24 or 32
 * (alpha in the top byte). */
static gboolean visual_is_xrgb(const xcb_screen_t *screen, xcb_visualid_t id, guint8 depth)
{
    xcb_depth_iterator_t d = xcb_screen_allowed_depths_iterator(screen);
    for (; d.rem; xcb_depth_next(&d)) {
        if (d.data->depth != depth)
            continue;
        xcb_visualtype_iterator_t v = xcb_depth_visuals_iterator(d.data);
        for (; v.rem; xcb_visualtype_next(&v))
            if (v.data->visual_id == id)
                return v.data->_class == XCB_VISUAL_CLASS_TRUE_COLOR && v.data->red_mask == 0xff0000 &&
                       v.data->green_mask == 0xff00 && v.data->blue_mask == 0xff;
    }
    return FALSE;
}

BhGuidXshm *bh_guid_xshm_new(GdkDisplay *display, BhGuidXshmMode mode, const char **why)
{
    if (mode == BH_GUID_XSHM_OFF) {
        *why = "turned off (BH_GUID_XSHM)";
        return NULL;
    }
    if (!GDK_IS_X11_DISPLAY(display)) {
        *why = "not an X11 display";
        return NULL;
    }
    xcb_connection_t *conn = XGetXCBConnection(gdk_x11_display_get_xdisplay(display));
    const xcb_query_extension_reply_t *ext = xcb_get_extension_data(conn, &xcb_shm_id);
    if (ext == NULL || !ext->present) {
        *why = "the X server has no MIT-SHM";
        return NULL;
    }
    xcb_shm_query_version_reply_t *ver = xcb_shm_query_version_reply(conn, xcb_shm_query_version(conn), NULL);
    gboolean fd_ok =
        ver != NULL && (ver->major_version > 1 || (ver->major_version == 1 && ver->minor_version >= 2));
    free(ver);
    if (!fd_ok) {
        *why = "the X server's MIT-SHM is older than 1.2 (no file descriptors)";
        return NULL;
    }
    const xcb_setup_t *setup = xcb_get_setup(conn);
    if (!depth_is_xrgb_layout(setup, 24) && !depth_is_xrgb_layout(setup, 32)) {
        *why = "the server's pixels are not laid out as XRGB8888";
        return NULL;
    }
    BhGuidXshm *x = g_new0(BhGuidXshm, 1);
    x->gdk = conn;
    x->conn = conn;
    x->mode = mode;
    /* The same server, so the same extension and formats. */
    xcb_connection_t *own = xcb_connect(gdk_display_get_name(display), NULL);
    const xcb_query_extension_reply_t *own_ext =
        xcb_connection_has_error(own) ? NULL : xcb_get_extension_data(own, &xcb_shm_id);
    if (own_ext != NULL && own_ext->present) {
        x->conn = own;
        x->own = TRUE;
    } else {
        g_message("xshm: no X connection of its own (%s); frames' answers go through GDK's",
                  xcb_connection_has_error(own) ? "the server refused it" : "no MIT-SHM on it");
        xcb_disconnect(own);
    }
    return x;
}

static gpointer trace_thread(gpointer data)
{
    BhGuidXshm *x = data;
    TraceAnswers *t = x->trace;
    xcb_generic_event_t *ev;
    /* xcb is thread-safe: this thread waits for events while the main
     * thread makes requests and reads their replies. NULL: the connection
     * was shut down (bh_guid_xshm_free) or broke. */
    while ((ev = xcb_wait_for_event(x->conn)) != NULL) {
        if ((ev->response_type & 0x7f) == x->completion) {
            gint64 now = g_get_monotonic_time() * 1000;
            g_mutex_lock(&t->lock);
            t->done_seq = ev->full_sequence;
            t->done_ns = now;
            t->any = TRUE;
            g_mutex_unlock(&t->lock);
        }
        free(ev);
    }
    return NULL;
}

void bh_guid_xshm_trace_answers(BhGuidXshm *x)
{
    /* Not on GDK's connection: Xlib there is not ours to share with a thread. */
    if (x->trace != NULL || !x->own)
        return;
    const xcb_query_extension_reply_t *ext = xcb_get_extension_data(x->conn, &xcb_shm_id);
    x->completion = ext->first_event + XCB_SHM_COMPLETION;
    x->trace = g_new0(TraceAnswers, 1);
    g_mutex_init(&x->trace->lock);
    x->trace->thread = g_thread_new("bh-guid-trace", trace_thread, x);
}

void bh_guid_xshm_free(BhGuidXshm *x)
{
    if (x == NULL)
        return;
    if (x->trace != NULL) {
        /* Ends the thread's wait (xcb then reports the connection broken). */
        shutdown(xcb_get_file_descriptor(x->conn), SHUT_RDWR);
        g_thread_join(x->trace->thread);
        g_mutex_clear(&x->trace->lock);
        g_free(x->trace);
    }
    if (x->own) {
        xcb_disconnect(x->conn); /* the server frees its GCs */
    } else {
        if (x->gc24 != 0)
            xcb_free_gc(x->conn, x->gc24);
        if (x->gc32 != 0)
            xcb_free_gc(x->conn, x->gc32);
        xcb_flush(x->conn);
    }
    g_free(x);
}

/* The GC for drawables of `depth`, made on first use on `xid` (one of them). */
static xcb_gcontext_t gc_for(BhGuidXshm *x, guint8 depth, xcb_window_t xid)
{
    xcb_gcontext_t *gc = depth == 32 ? &x->gc32 : &x->gc24;
    if (*gc != 0)
        return *gc;
    xcb_gcontext_t id = xcb_generate_id(x->conn);
    /* No GraphicsExpose/NoExpose events for GDK to puzzle over. */
    guint32 values[] = {depth == 32 ? 0x00ffffffu : 0xffffffffu, 0};
    xcb_generic_error_t *err = xcb_request_check(
        x->conn,
        xcb_create_gc_checked(x->conn, id, xid, XCB_GC_PLANE_MASK | XCB_GC_GRAPHICS_EXPOSURES, values));
    if (err != NULL) {
        free(err);
        return 0;
    }
    *gc = id;
    return id;
}

BhGuidShmSeg *bh_guid_xshm_seg_new(BhGuidXshm *x, int fd, gsize size)
{
    BhGuidShmSeg *seg = NULL;
    int stage_fd = -1, send_fd = -1;
    void *stage = MAP_FAILED;

    if (size == 0)
        goto out;
    if (fd < 0 || x->mode == BH_GUID_XSHM_COPY) {
        stage_fd = memfd_create("bh-guid-stage", MFD_CLOEXEC);
        if (stage_fd < 0 || ftruncate(stage_fd, (off_t)size) < 0)
            goto out;
        stage = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, stage_fd, 0);
        if (stage == MAP_FAILED)
            goto out;
        fd = stage_fd;
    }
    /* xcb closes what it sends; the caller keeps its own descriptor. */
    send_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (send_fd < 0)
        goto out;
    xcb_shm_seg_t id = xcb_generate_id(x->conn);
    /* Read-only: the server maps the guest's memory and can never write it. */
    xcb_void_cookie_t c = xcb_shm_attach_fd_checked(x->conn, id, send_fd, 1);
    send_fd = -1;
    xcb_generic_error_t *err = xcb_request_check(x->conn, c);
    if (err != NULL) {
        g_debug("xshm: attach refused (X error %u)", err->error_code);
        free(err);
        goto out;
    }
    seg = g_new0(BhGuidShmSeg, 1);
    seg->x = x;
    seg->seg = id;
    seg->size = size;
    if (stage != MAP_FAILED)
        seg->stage = g_steal_pointer(&stage);
out:
    if (stage != MAP_FAILED)
        munmap(stage, size);
    if (send_fd >= 0)
        close(send_fd);
    if (stage_fd >= 0)
        close(stage_fd); /* the mapping and the server's copy keep it alive */
    return seg;
}

void bh_guid_xshm_seg_free(BhGuidShmSeg *seg)
{
    if (seg == NULL)
        return;
    /* Every put checked, so no error is left behind in xcb. */
    bh_guid_xshm_wait(seg->x, seg, NULL);
    xcb_shm_detach(seg->x->conn, seg->seg);
    xcb_flush(seg->x->conn);
    if (seg->stage != NULL)
        munmap(seg->stage, seg->size);
    g_free(seg);
}

guint8 bh_guid_xshm_window_depth(BhGuidXshm *x, guint32 xid)
{
    xcb_get_window_attributes_cookie_t ca = xcb_get_window_attributes(x->conn, xid);
    xcb_get_geometry_cookie_t cg = xcb_get_geometry(x->conn, xid);
    xcb_get_window_attributes_reply_t *a = xcb_get_window_attributes_reply(x->conn, ca, NULL);
    xcb_get_geometry_reply_t *g = xcb_get_geometry_reply(x->conn, cg, NULL);
    const xcb_setup_t *setup = xcb_get_setup(x->conn);
    xcb_screen_t *screen = xcb_setup_roots_iterator(setup).data;
    guint8 depth = 0;
    if (a != NULL && g != NULL && screen != NULL && (g->depth == 24 || g->depth == 32) &&
        depth_is_xrgb_layout(setup, g->depth) && visual_is_xrgb(screen, a->visual, g->depth) &&
        gc_for(x, g->depth, xid) != 0)
        depth = g->depth;
    free(a);
    free(g);
    return depth;
}

/* Rows of one rectangle into the staging copy, under the SIGBUS guard
 * (bulkhead/winbuf.h): a grant the guest takes back must not kill guid. */
typedef struct {
    guint8 *stage;
    const guint8 *map;
    guint32 stride;
    gint64 x0, x1, y0, y1;
} StageRows;

static void stage_rows(void *data)
{
    const StageRows *j = data;
    gsize row = (gsize)(j->x1 - j->x0) * 4;
    for (gint64 y = j->y0; y < j->y1; y++) {
        gsize off = (gsize)y * j->stride + (gsize)j->x0 * 4;
        memcpy(j->stage + off, j->map + off, row);
    }
}

gboolean bh_guid_xshm_pending(const BhGuidShmSeg *seg)
{
    return seg != NULL && seg->fenced;
}

gboolean bh_guid_xshm_wait(BhGuidXshm *x, BhGuidShmSeg *seg, gint64 *answered_ns)
{
    gboolean refused = FALSE;
    gint64 at = 0;
    if (seg == NULL || !seg->fenced) {
        if (answered_ns != NULL)
            *answered_ns = 0;
        return TRUE;
    }
    /* A refresh after the put the answer is in the socket already: one
     * read, no sleep. */
    free(xcb_get_input_focus_reply(x->conn, seg->fence, NULL));
    at = g_get_monotonic_time() * 1000;
    if (x->trace != NULL) {
        /* The completion of the last put comes before the fence's answer. */
        g_mutex_lock(&x->trace->lock);
        if (x->trace->any && (gint32)(x->trace->done_seq - seg->last_put) >= 0)
            at = x->trace->done_ns;
        g_mutex_unlock(&x->trace->lock);
    }
    /* All answered by now (the server answers in order): these read
     * nothing, they only collect an error that came. */
    for (guint32 i = 0; i < seg->n_pending; i++) {
        xcb_generic_error_t *err = xcb_request_check(x->conn, seg->pending[i]);
        if (err != NULL) {
            if (!refused)
                g_debug("xshm: put refused (X error %u)", err->error_code);
            refused = TRUE;
            free(err);
        }
    }
    seg->n_pending = 0;
    seg->fenced = FALSE;
    if (answered_ns != NULL)
        *answered_ns = at;
    /* A connection that broke answers nothing and reports no error. */
    return !refused && xcb_connection_has_error(x->conn) == 0;
}

void bh_guid_xshm_sync_gdk(BhGuidXshm *x)
{
    /* Through xcb, Xlib's buffered requests go out first (libX11 hands the
     * socket over only after flushing them). */
    if (x->own)
        free(xcb_get_input_focus_reply(x->gdk, xcb_get_input_focus(x->gdk), NULL));
}

gint64 bh_guid_xshm_put(BhGuidXshm *x, BhGuidShmSeg *seg, const guint8 *map, gsize size, guint32 stride,
                        guint32 buf_h, const BhGuidXshmTarget *t, const struct bh_gui_rect *rects,
                        guint32 n_rects)
{
    /* The request describes the whole buffer as an image of stride/4 x
     * buf_h pixels (16-bit fields) of which it copies a part. */
    if (stride % 4 != 0 || stride / 4 > G_MAXUINT16 || buf_h > G_MAXUINT16 ||
        (gsize)stride * buf_h > MIN(size, seg->size) || (seg->stage != NULL && map == NULL))
        return -1;
    /* One batch in flight per segment: a staged copy must not change rows
     * the server is still reading, and each batch's errors are its own. */
    if (seg->fenced && !bh_guid_xshm_wait(x, seg, NULL))
        return -1;
    gint64 cw = MIN((gint64)t->w, (gint64)stride / 4), ch = MIN((gint64)t->h, (gint64)buf_h);
    gint64 put = 0;
    gboolean faulted = FALSE;

    for (guint32 i = 0; i < MIN(n_rects, BH_MAX_DAMAGE_RECTS); i++) {
        gint64 x0 = MAX(rects[i].x, 0), y0 = MAX(rects[i].y, 0);
        gint64 x1 = MIN((gint64)rects[i].x + rects[i].width, cw);
        gint64 y1 = MIN((gint64)rects[i].y + rects[i].height, ch);
        if (x1 <= x0 || y1 <= y0)
            continue;
        gint64 dx = t->ox + x0, dy = t->oy + y0;
        if (dx > G_MAXINT16 || dy > G_MAXINT16 || dx < G_MININT16 || dy < G_MININT16)
            continue; /* beyond what X can address: not on any screen */
        if (seg->stage != NULL) {
            StageRows job = {seg->stage, map, stride, x0, x1, y0, y1};
            if (bh_winbuf_guard_run(map, size, stage_rows, &job) < 0) {
                g_debug("xshm: the guest's memory faulted while staging");
                faulted = TRUE;
                break;
            }
        }
        /* Checked: an error (the window destroyed under us) comes back to
         * bh_guid_xshm_wait instead of to GDK, which would abort. Under the
         * trace each put also sends a completion event, to the trace's
         * thread. */
        xcb_void_cookie_t c = xcb_shm_put_image_checked(
            x->conn, t->xid, t->depth == 32 ? x->gc32 : x->gc24, (guint16)(stride / 4), (guint16)buf_h,
            (guint16)x0, (guint16)y0, (guint16)(x1 - x0), (guint16)(y1 - y0), (gint16)dx, (gint16)dy,
            t->depth, XCB_IMAGE_FORMAT_Z_PIXMAP, x->trace != NULL, seg->seg, 0);
        seg->pending[seg->n_pending++] = c;
        seg->last_put = c.sequence;
        put += (x1 - x0) * (y1 - y0);
    }
    if (seg->n_pending > 0) {
        /* The fence: its answer comes after the puts are done. */
        seg->fence = xcb_get_input_focus(x->conn);
        seg->fenced = TRUE;
        xcb_flush(x->conn);
    }
    return faulted ? -1 : put;
}

#else /* no X11 in this GTK */

BhGuidXshm *bh_guid_xshm_new(GdkDisplay *display, BhGuidXshmMode mode, const char **why)
{
    *why = "GTK built without X11";
    return NULL;
}
void bh_guid_xshm_free(BhGuidXshm *x)
{
}
BhGuidShmSeg *bh_guid_xshm_seg_new(BhGuidXshm *x, int fd, gsize size)
{
    return NULL;
}
void bh_guid_xshm_seg_free(BhGuidShmSeg *seg)
{
}
guint8 bh_guid_xshm_window_depth(BhGuidXshm *x, guint32 xid)
{
    return 0;
}
gint64 bh_guid_xshm_put(BhGuidXshm *x, BhGuidShmSeg *seg, const guint8 *map, gsize size, guint32 stride,
                        guint32 buf_h, const BhGuidXshmTarget *t, const struct bh_gui_rect *rects,
                        guint32 n_rects)
{
    return -1;
}
void bh_guid_xshm_trace_answers(BhGuidXshm *x)
{
}
gboolean bh_guid_xshm_pending(const BhGuidShmSeg *seg)
{
    return FALSE;
}
gboolean bh_guid_xshm_wait(BhGuidXshm *x, BhGuidShmSeg *seg, gint64 *answered_ns)
{
    if (answered_ns != NULL)
        *answered_ns = 0;
    return TRUE;
}
void bh_guid_xshm_sync_gdk(BhGuidXshm *x)
{
}

#endif
