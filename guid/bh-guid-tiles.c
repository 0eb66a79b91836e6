/* bh-guid-tiles.c — tile grid of a guest image (see bh-guid-tiles.h).
 * Must never: alias the shared buffer from a texture. */
#include "bh-guid-tiles.h"

#include <string.h>

void bh_guid_tiles_init(BhGuidTiles *t)
{
    memset(t, 0, sizeof(*t));
}

void bh_guid_tiles_clear(BhGuidTiles *t)
{
    for (guint i = 0; t->tex != NULL && i < t->cols * t->rows; i++)
        g_clear_object(&t->tex[i]);
    g_clear_pointer(&t->tex, g_free);
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
    GdkTexture **tex = g_new0(GdkTexture *, (gsize)cols * rows);

    for (guint32 r = 0; r < MIN(rows, t->rows); r++) {
        for (guint32 c = 0; c < MIN(cols, t->cols); c++) {
            gboolean same = tile_extent(c, width) == tile_extent(c, t->width) &&
                            tile_extent(r, height) == tile_extent(r, t->height);
            if (same)
                tex[r * cols + c] = g_steal_pointer(&t->tex[r * t->cols + c]);
        }
    }
    BhGuidTileStats stats = t->stats;
    bh_guid_tiles_clear(t);
    t->stats = stats;
    t->width = width;
    t->height = height;
    t->cols = cols;
    t->rows = rows;
    t->tex = tex;
}

/* Rows of one tile, copied out of the guest buffer with alpha forced to 0xff:
 * premultiplied ARGB over black is the colour bytes themselves, so the guest
 * cannot make its window see-through, and XRGB's undefined X byte is fixed. */
static GdkTexture *copy_tile(const guint8 *map, gsize map_size, guint32 stride, guint32 x0,
                             guint32 y0, guint32 w, guint32 h, guint64 *copied)
{
    gsize tile_stride = (gsize)w * 4;
    guint8 *pix = g_malloc0(tile_stride * h);

    for (guint32 y = 0; y < h; y++) {
        guint64 off = (guint64)(y0 + y) * stride + (guint64)x0 * 4;
        if (off + tile_stride > map_size)
            break; /* the caller checked sizes; this keeps a bad one harmless */
        guint32 *dst = (guint32 *)(pix + y * tile_stride);
        memcpy(dst, map + off, tile_stride);
        for (guint32 x = 0; x < w; x++)
            dst[x] |= 0xff000000u;
        *copied += tile_stride;
    }
    g_autoptr(GBytes) bytes = g_bytes_new_take(pix, tile_stride * h);
    return gdk_memory_texture_new((int)w, (int)h, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bytes,
                                  tile_stride);
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
            GdkTexture *tex = copy_tile(map, map_size, stride, c * BH_GUID_TILE_SIZE,
                                        r * BH_GUID_TILE_SIZE, tile_extent(c, t->width),
                                        tile_extent(r, t->height), &t->stats.bytes_copied);
            g_set_object(&t->tex[r * t->cols + c], tex);
            g_object_unref(tex);
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
            GdkTexture *tex = t->tex[r * t->cols + c];
            if (tex != NULL)
                gtk_snapshot_append_texture(snapshot, tex, &area);
            else
                gtk_snapshot_append_color(snapshot, &black, &area);
        }
    }
}
