/* bh-guid-tiles.h — a guest window's image kept as a grid of immutable
 * render nodes, so that drawing cost follows the damage: a DAMAGE message
 * replaces only the tiles it touches, GTK's render-node diffing then repaints
 * only those, and drawing an unchanged tile outside the repainted region costs
 * nothing.
 *
 * Why cairo nodes and not texture nodes: GTK 4.8's cairo renderer converts
 * every texture node into a new cairo surface on every frame, clipped or not,
 * so a window of texture tiles costs a full window per frame whatever the
 * damage (measured: a 5 % frame cost 71 % of a full one). A cairo node keeps
 * its surface and is composited only inside the clip; GL renderers cache it
 * by node, uploading a tile once per change.
 *
 * Owns: the private copy of the guest's pixels (copied out of the shared
 * buffer at damage time, shown opaque: RGB24), tile geometry, copy counters.
 * Must never: keep a pointer into the shared buffer past bh_guid_tiles_update
 * (the guest may change it at any time), read outside [map, map+size), or
 * read it except under the SIGBUS guard (bulkhead/winbuf.h). */
#ifndef BH_GUID_TILES_H
#define BH_GUID_TILES_H

#include <gtk/gtk.h>

#include "bulkhead/gui-protocol.h"

G_BEGIN_DECLS

/* 128x128 tiles (64 KiB each): a 5 % damage of a 1280x1024 window touches
 * about a dozen of the 80 tiles. */
#define BH_GUID_TILE_SIZE 128u

typedef struct {
    guint64 updates;        /* DAMAGE messages applied */
    guint64 rects;          /* damage rectangles after clipping */
    guint64 tiles_replaced; /* new textures made */
    guint64 bytes_copied;   /* bytes read out of the shared buffer */
    guint64 puts;           /* DAMAGE messages put straight to X (bh-guid-xshm.h) */
    guint64 px_put;         /* their pixels */
    guint64 reputs;         /* content put again over what GTK drew */
    guint64 faults;         /* copies cut short by a SIGBUS in the guest's memory */
} BhGuidTileStats;

typedef struct {
    guint32 width, height; /* image size (the guest buffer, clipped to the cap) */
    guint32 cols, rows;
    GskRenderNode **node; /* cols*rows; NULL = never drawn (painted black) */
    guint8 *dirty;        /* cols*rows; damaged since the tile was last copied */
    guint32 n_dirty;
    BhGuidTileStats stats;
} BhGuidTiles;

void bh_guid_tiles_init(BhGuidTiles *t);
/* A new image size. Tiles whose rectangle is unchanged keep their pixels (no
 * black flash on resize); the others start black. */
void bh_guid_tiles_resize(BhGuidTiles *t, guint32 width, guint32 height);
void bh_guid_tiles_clear(BhGuidTiles *t);

/* Note damaged rectangles without copying (the pixels went to the screen
 * another way and the tiles are only needed when GTK draws the view). */
void bh_guid_tiles_mark(BhGuidTiles *t, const struct bh_gui_rect *rects, guint32 n_rects);

/* Copy every tile marked since its last copy out of a mapped guest buffer of
 * `map_size` bytes with `stride` bytes per row (rows beyond the map or the
 * tile image are ignored, never read); each becomes a new node. Returns the
 * number of tiles replaced. */
guint bh_guid_tiles_flush(BhGuidTiles *t, const guint8 *map, gsize map_size, guint32 stride);

/* Mark, then flush. */
guint bh_guid_tiles_update(BhGuidTiles *t, const guint8 *map, gsize map_size, guint32 stride,
                           const struct bh_gui_rect *rects, guint32 n_rects);

/* Append the image at (0,0), clipped to clip_w x clip_h. */
void bh_guid_tiles_snapshot(const BhGuidTiles *t, GtkSnapshot *snapshot, guint32 clip_w, guint32 clip_h);

G_END_DECLS

#endif /* BH_GUID_TILES_H */
