/* bh-guid-xshm.c — MIT-SHM presenter (see bh-guid-xshm.h).
 * Must never: attach a segment writable, or block except on the X server's
 * answer to a request just made. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-xshm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
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

struct _BhGuidXshm {
    xcb_connection_t *conn; /* GDK's, borrowed */
    BhGuidXshmMode mode;
    /* One GC per depth (a GC only draws on drawables of its depth): 24-bit
     * windows take the whole pixel; on 32-bit (ARGB) windows, which GTK 4
     * uses whenever the server offers them, the plane mask keeps the alpha
     * byte GTK painted (opaque: the view draws no translucent content), so
     * the guest's undefined X byte can never make its window see-through
     * under a compositor. 0 = not created yet. */
    xcb_gcontext_t gc24, gc32;
};

struct _BhGuidShmSeg {
    xcb_connection_t *conn; /* the presenter's */
    xcb_shm_seg_t seg;
    guint8 *stage; /* staging copy (read-write, ours), or NULL: the guest's memfd */
    gsize size;
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
    x->conn = conn;
    x->mode = mode;
    return x;
}

void bh_guid_xshm_free(BhGuidXshm *x)
{
    if (x == NULL)
        return;
    if (x->gc24 != 0)
        xcb_free_gc(x->conn, x->gc24);
    if (x->gc32 != 0)
        xcb_free_gc(x->conn, x->gc32);
    xcb_flush(x->conn);
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
    seg->conn = x->conn;
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
    xcb_shm_detach(seg->conn, seg->seg);
    xcb_flush(seg->conn);
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

gint64 bh_guid_xshm_put(BhGuidXshm *x, BhGuidShmSeg *seg, const guint8 *map, gsize size, guint32 stride,
                        guint32 buf_h, const BhGuidXshmTarget *t, const struct bh_gui_rect *rects,
                        guint32 n_rects)
{
    /* The request describes the whole buffer as an image of stride/4 x
     * buf_h pixels (16-bit fields) of which it copies a part. */
    if (stride % 4 != 0 || stride / 4 > G_MAXUINT16 || buf_h > G_MAXUINT16 ||
        (gsize)stride * buf_h > MIN(size, seg->size) || (seg->stage != NULL && map == NULL))
        return -1;
    gint64 cw = MIN((gint64)t->w, (gint64)stride / 4), ch = MIN((gint64)t->h, (gint64)buf_h);
    gint64 put = 0;
    xcb_void_cookie_t sent[BH_MAX_DAMAGE_RECTS];
    guint32 n_sent = 0;
    gboolean refused = FALSE;

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
                refused = TRUE;
                break;
            }
        }
        /* Checked: an error (the window destroyed under us) comes back here
         * instead of to GDK, which would abort. */
        sent[n_sent++] = xcb_shm_put_image_checked(
            x->conn, t->xid, t->depth == 32 ? x->gc32 : x->gc24, (guint16)(stride / 4), (guint16)buf_h,
            (guint16)x0, (guint16)y0, (guint16)(x1 - x0), (guint16)(y1 - y0), (gint16)dx, (gint16)dy,
            t->depth, XCB_IMAGE_FORMAT_Z_PIXMAP, 0, seg->seg, 0);
        put += (x1 - x0) * (y1 - y0);
    }
    /* One round trip (the first check; the server answers in order, so the
     * rest are already in): when it returns every put is done and the
     * buffer can go back to the guest. Each is checked so that no error is
     * left for GDK. */
    for (guint32 i = 0; i < n_sent; i++) {
        xcb_generic_error_t *err = xcb_request_check(x->conn, sent[i]);
        if (err != NULL) {
            if (!refused)
                g_debug("xshm: put refused (X error %u)", err->error_code);
            refused = TRUE;
            free(err);
        }
    }
    return refused ? -1 : put;
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

#endif
