/* bh-guid-tiles.c — tile grid of a guest image (see bh-guid-tiles.h).
 * Must never: alias the shared buffer from a tile. */
#include "bh-guid-tiles.h"

#include <string.h>

void bh_guid_tiles_init(BhGuidTiles *t)
{
    memset(t, 0, sizeof(*t));
}

void bh_guid_tiles_clear(BhGuidTiles *t)
{
    for (guint i = 0; t->node != NULL && i < t->cols * t->rows; i++)
        g_clear_pointer(&t->node[i], gsk_render_node_unref);
    g_clear_pointer(&t->node, g_free);
    t->width = t->height = t->cols = t->rows = 0;
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

    for (guint32 r = 0; r < MIN(rows, t->rows); r++) {
        for (guint32 c = 0; c < MIN(cols, t->cols); c++) {
            gboolean same = tile_extent(c, width) == tile_extent(c, t->width) &&
                            tile_extent(r, height) == tile_extent(r, t->height);
            if (same)
                node[r * cols + c] = g_steal_pointer(&t->node[r * t->cols + c]);
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
}

/* Rows of one tile, copied out of the guest buffer with alpha forced to 0xff:
 * premultiplied ARGB over black is the colour bytes themselves, so the guest
 * cannot make its window see-through, and XRGB's undefined X byte is fixed.
 * DRM ARGB8888 is cairo's ARGB32 on little-endian machines. */
static GskRenderNode *copy_tile(const guint8 *map, gsize map_size, guint32 stride, guint32 x0,
                                guint32 y0, guint32 w, guint32 h, guint64 *copied)
{
    cairo_surface_t *pix = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)w, (int)h);
    guint8 *data = cairo_image_surface_get_data(pix);
    gsize row = (gsize)w * 4, pix_stride = (gsize)cairo_image_surface_get_stride(pix);

    if (data == NULL) { /* out of memory: leave the tile black */
        cairo_surface_destroy(pix);
        return NULL;
    }
    for (guint32 y = 0; y < h; y++) {
        guint64 off = (guint64)(y0 + y) * stride + (guint64)x0 * 4;
        guint32 *dst = (guint32 *)(data + y * pix_stride);
        if (off + row > map_size) {
            /* The caller checked sizes; this keeps a bad one harmless. */
            memset(dst, 0, row);
            for (guint32 x = 0; x < w; x++)
                dst[x] = 0xff000000u;
            continue;
        }
        memcpy(dst, map + off, row);
        for (guint32 x = 0; x < w; x++)
            dst[x] |= 0xff000000u;
        *copied += row;
    }
    cairo_surface_mark_dirty(pix);

    graphene_rect_t bounds = GRAPHENE_RECT_INIT(x0, y0, w, h);
    GskRenderNode *node = gsk_cairo_node_new(&bounds);
    cairo_t *cr = gsk_cairo_node_get_draw_context(node);
    cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
    cairo_set_source_surface(cr, pix, x0, y0);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_surface_destroy(pix);
    return node;
}

guint bh_guid_tiles_update(BhGuidTiles *t, const guint8 *map, gsize map_size, guint32 stride,
                           const struct bh_gui_rect *rects, guint32 n_rects)
{
    if (t->cols == 0 || t->rows == 0 || map == NULL)
        return 0;

    /* Mark first, copy once: overlapping rectangles must not copy a tile twice. */
    g_autofree guint8 *touched = g_malloc0((gsize)t->cols * t->rows);
    for (guint32 i = 0; i < n_rects; i++) {
        gint64 x0 = MAX(rects[i].x, 0), y0 = MAX(rects[i].y, 0);
        gint64 x1 = MIN((gint64)rects[i].x + rects[i].width, (gint64)t->width);
        gint64 y1 = MIN((gint64)rects[i].y + rects[i].height, (gint64)t->height);
        if (x1 <= x0 || y1 <= y0)
            continue;
        t->stats.rects++;
        for (gint64 r = y0 / BH_GUID_TILE_SIZE; r <= (y1 - 1) / BH_GUID_TILE_SIZE; r++)
            for (gint64 c = x0 / BH_GUID_TILE_SIZE; c <= (x1 - 1) / BH_GUID_TILE_SIZE; c++)
                touched[r * t->cols + c] = 1;
    }

    guint replaced = 0;
    for (guint32 r = 0; r < t->rows; r++) {
        for (guint32 c = 0; c < t->cols; c++) {
            if (!touched[r * t->cols + c])
                continue;
            GskRenderNode *node = copy_tile(map, map_size, stride, c * BH_GUID_TILE_SIZE,
                                            r * BH_GUID_TILE_SIZE, tile_extent(c, t->width),
                                            tile_extent(r, t->height), &t->stats.bytes_copied);
            g_clear_pointer(&t->node[r * t->cols + c], gsk_render_node_unref);
            t->node[r * t->cols + c] = node;
            replaced++;
        }
    }
    t->stats.updates++;
    t->stats.tiles_replaced += replaced;
    return replaced;
}

void bh_guid_tiles_snapshot(const BhGuidTiles *t, GtkSnapshot *snapshot, guint32 clip_w,
                            guint32 clip_h)
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
            graphene_rect_t area = GRAPHENE_RECT_INIT(x, y, tile_extent(c, t->width),
                                                      tile_extent(r, t->height));
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
