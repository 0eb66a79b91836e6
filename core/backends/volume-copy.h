/* volume-copy.h — copying a backend's volume image, shared by the xen and
 * sandbox backends.
 *
 * Owns one operation: a sparse copy of a regular file (the holes of a mostly
 * empty image stay holes). It must never follow a link at either end, nor
 * leave a half-written destination under the destination's name.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Copies src to dst: shared blocks (FICLONE) where the filesystem can, else
 * only src's data extents; written to dst.new and renamed over dst. */
gboolean bh_volume_copy_sparse(const char *src, const char *dst, GError **error);

G_END_DECLS
