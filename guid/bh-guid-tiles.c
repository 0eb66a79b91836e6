/* bh-guid-tiles.c — tile grid of a guest image (see bh-guid-tiles.h).
 * Must never: alias the shared buffer from a tile. */
#include "bh-guid-tiles.h"

#include <string.h>

#include "bulkhead/winbuf.h"

void bh_guid_tiles_init(BhGuidTiles *t)
{
    memset(t, 0, sizeof(*t));
}

void bh_guid_tiles_clear(BhGuidTiles *t)
{
    for (guint i = 0; t->node != NULL && i < t->cols * t->rows; i++)
        g_clear_pointer(&t->node[i], gsk_render_node_unref);
    g_clear_pointer(&t->node, g_free);
    g_clear_pointer(&t->dirty, g_free);
    t->width = t->height = t->cols = t->rows = t->n_dirty = 0;
}

static guint32 tile_extent(guint32 index, guint32 total)
{
    guint32 start = index * BH_GUID_TILE_SIZE;
    return MIN(BH_GUID_TILE_SIZE, total - start);
}

void bh_guid_tiles_resize(BhGuidTiles *t, guint32 width, guint32 height)
{
    guint32 cols = (width + BH_GUID_TILE_SIZE - 1) / BH_GUID_TILE_SIZE;
    guint32 rows = (height + BH_GUID_TILE_SIZE - 1) / BH_GUID_TILE_SIZE;
    GskRenderNode **node = g_new0(GskRenderNode *, (gsize)cols * rows);
    guint8 *dirty = g_new0(guint8, MAX((gsize)cols * rows, 1));
    guint32 n_dirty = 0;

    for (guint32 r = 0; r < MIN(rows, t->rows); r++) {
        for (guint32 c = 0; c < MIN(cols, t->cols); c++) {
            gboolean same = tile_extent(c, width) == tile_extent(c, t->width) &&
                            tile_extent(r, height) == tile_extent(r, t->height);
            if (same) {
                node[r * cols + c] = g_steal_pointer(&t->node[r * t->cols + c]);
                dirty[r * cols + c] = t->dirty[r * t->cols + c];
                n_dirty += dirty[r * cols + c];
            }
        }
    }
    BhGuidTileStats stats = t->stats;
    bh_guid_tiles_clear(t);
    t->stats = stats;
    t->width = width;
    t->height = height;
    t->cols = cols;
    t->rows = rows;
    t->node = node;
    t->dirty = dirty;
    t->n_dirty = n_dirty;
}

/* A tile's pixels reach the cairo node's recording surface as a raster-source
 * pattern holding a reference on the image: a plain surface pattern would be
 * "snapshotted" by the recording, and cairo copies the whole image again
 * when the original is destroyed under such a snapshot (measured: 11 % of
 * guid's CPU at full damage, bench/RESULTS.md). The pixels never change after
 * the copy, so sharing them is safe. */
static cairo_surface_t *raster_acquire(cairo_pattern_t *pattern, void *data, cairo_surface_t *target,
                                       const cairo_rectangle_int_t *extents)
{
    return cairo_surface_reference(data);
}

static void raster_release(cairo_pattern_t *pattern, void *data, cairo_surface_t *surface)
{
    cairo_surface_destroy(surface);
}

/* The recording copies the pattern; every copy holds its own reference. */
static cairo_status_t raster_copy(cairo_pattern_t *pattern, void *data, const cairo_pattern_t *other)
{
    cairo_surface_reference(data);
    return CAIRO_STATUS_SUCCESS;
}

static void raster_finish(cairo_pattern_t *pattern, void *data)
{
    cairo_surface_destroy(data);
}

static const cairo_user_data_key_t tile_pixels_key;

/* The rows of one tile, copied under the SIGBUS guard (bulkhead/winbuf.h):
 * the only reads of guest memory here. */
typedef struct {
    guint8 *data;
    int pix_stride;
    const guint8 *map;
    gsize map_size;
    guint32 stride, x0, y0, h;
    gsize row;
    guint64 copied;
} TileCopy;

static void copy_rows(void *p)
{
    TileCopy *j = p;
    for (guint32 y = 0; y < j->h; y++) {
        guint64 off = (guint64)(j->y0 + y) * j->stride + (guint64)j->x0 * 4;
        guint8 *dst = j->data + (gsize)y * (gsize)j->pix_stride;
        if (off + j->row > j->map_size) {
            /* The caller checked sizes; this keeps a bad one harmless. */
            memset(dst, 0, j->row);
            continue;
        }
        memcpy(dst, j->map + off, j->row);
        j->copied += j->row;
    }
}

/* Rows of one tile, copied out of the guest buffer into an RGB24 image: cairo
 * and pixman ignore its top byte, so the guest cannot make its window
 * see-through (premultiplied ARGB over black is the colour bytes themselves,
 * which is what RGB24 shows) and XRGB's undefined X byte needs no fixing.
 * DRM ARGB8888 is cairo's ARGB32/RGB24 layout on little-endian machines.
 * The image is not zero-filled first (every byte is written), and being
 * opaque it is painted by pixman's copy path, not a per-pixel OVER. */
static GskRenderNode *copy_tile(const guint8 *map, gsize map_size, guint32 stride, guint32 x0, guint32 y0,
                                guint32 w, guint32 h, guint64 *copied, guint64 *faults)
{
    int pix_stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, (int)w);
    guint8 *data = g_try_malloc((gsize)pix_stride * h);
    gsize row = (gsize)w * 4;

    if (data == NULL) /* out of memory: leave the tile black */
        return NULL;
    TileCopy job = {data, pix_stride, map, map_size, stride, x0, y0, h, row, 0};
    int guarded = bh_winbuf_guard_run(map, map_size, copy_rows, &job);
    *copied += job.copied;
    if (guarded < 0) {
        /* The guest's memory faulted under us: the tile stays black and the
         * session hears of it (stats.faults) and drops the agent. */
        g_free(data);
        *faults += 1;
        return NULL;
    }
    cairo_surface_t *pix =
        cairo_image_surface_create_for_data(data, CAIRO_FORMAT_RGB24, (int)w, (int)h, pix_stride);
    if (cairo_surface_set_user_data(pix, &tile_pixels_key, data, g_free) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(pix);
        g_free(data);
        return NULL;
    }
    /* The pattern owns pix from here (raster_finish). */
    cairo_pattern_t *pattern = cairo_pattern_create_raster_source(pix, CAIRO_CONTENT_COLOR, (int)w, (int)h);
    if (cairo_pattern_status(pattern) != CAIRO_STATUS_SUCCESS) {
        cairo_pattern_destroy(pattern);
        cairo_surface_destroy(pix);
        return NULL;
    }
    cairo_raster_source_pattern_set_acquire(pattern, raster_acquire, raster_release);
    cairo_raster_source_pattern_set_copy(pattern, raster_copy);
    cairo_raster_source_pattern_set_finish(pattern, raster_finish);
    cairo_matrix_t m;
    cairo_matrix_init_translate(&m, -(double)x0, -(double)y0);
    cairo_pattern_set_matrix(pattern, &m);

    graphene_rect_t bounds = GRAPHENE_RECT_INIT(x0, y0, w, h);
    GskRenderNode *node = gsk_cairo_node_new(&bounds);
    cairo_t *cr = gsk_cairo_node_get_draw_context(node);
    cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
    cairo_set_source(cr, pattern);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_pattern_destroy(pattern);
    return node;
}

void bh_guid_tiles_mark(BhGuidTiles *t, const struct bh_gui_rect *rects, guint32 n_rects)
{
    if (t->cols == 0 || t->rows == 0)
        return;
    /* Marked once, copied once: overlapping rectangles never copy a tile twice. */
    for (guint32 i = 0; i < n_rects; i++) {
        gint64 x0 = MAX(rects[i].x, 0), y0 = MAX(rects[i].y, 0);
        gint64 x1 = MIN((gint64)rects[i].x + rects[i].width, (gint64)t->width);
        gint64 y1 = MIN((gint64)rects[i].y + rects[i].height, (gint64)t->height);
        if (x1 <= x0 || y1 <= y0)
            continue;
        t->stats.rects++;
        for (gint64 r = y0 / BH_GUID_TILE_SIZE; r <= (y1 - 1) / BH_GUID_TILE_SIZE; r++) {
            for (gint64 c = x0 / BH_GUID_TILE_SIZE; c <= (x1 - 1) / BH_GUID_TILE_SIZE; c++) {
                guint8 *d = &t->dirty[r * t->cols + c];
                t->n_dirty += !*d;
                *d = 1;
            }
        }
    }
    t->stats.updates++;
}

guint bh_guid_tiles_flush(BhGuidTiles *t, const guint8 *map, gsize map_size, guint32 stride)
{
    if (t->n_dirty == 0 || map == NULL)
        return 0;
    guint replaced = 0;
    for (guint32 r = 0; r < t->rows; r++) {
        for (guint32 c = 0; c < t->cols; c++) {
            if (!t->dirty[r * t->cols + c])
                continue;
            t->dirty[r * t->cols + c] = 0;
            GskRenderNode *node = copy_tile(
                map, map_size, stride, c * BH_GUID_TILE_SIZE, r * BH_GUID_TILE_SIZE, tile_extent(c, t->width),
                tile_extent(r, t->height), &t->stats.bytes_copied, &t->stats.faults);
            g_clear_pointer(&t->node[r * t->cols + c], gsk_render_node_unref);
            t->node[r * t->cols + c] = node;
            replaced++;
        }
    }
    t->n_dirty = 0;
    t->stats.tiles_replaced += replaced;
    return replaced;
}

guint bh_guid_tiles_update(BhGuidTiles *t, const guint8 *map, gsize map_size, guint32 stride,
                           const struct bh_gui_rect *rects, guint32 n_rects)
{
    if (map == NULL)
        return 0;
    bh_guid_tiles_mark(t, rects, n_rects);
    return bh_guid_tiles_flush(t, map, map_size, stride);
}

void bh_guid_tiles_snapshot(const BhGuidTiles *t, GtkSnapshot *snapshot, guint32 clip_w, guint32 clip_h)
{
    static const GdkRGBA black = {0, 0, 0, 1};

    for (guint32 r = 0; r < t->rows; r++) {
        guint32 y = r * BH_GUID_TILE_SIZE;
        if (y >= clip_h)
            break;
        for (guint32 c = 0; c < t->cols; c++) {
            guint32 x = c * BH_GUID_TILE_SIZE;
            if (x >= clip_w)
                break;
            graphene_rect_t area =
                GRAPHENE_RECT_INIT(x, y, tile_extent(c, t->width), tile_extent(r, t->height));
            GskRenderNode *node = t->node[r * t->cols + c];
            /* The same node every frame until the tile changes: the diff
             * sees it unchanged, the renderer skips it outside the damage. */
            if (node != NULL)
                gtk_snapshot_append_node(snapshot, node);
            else
                gtk_snapshot_append_color(snapshot, &black, &area);
        }
    }
}
