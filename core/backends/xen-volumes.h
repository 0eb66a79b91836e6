/* xen-volumes.h — a qube's disk images for the xen backend.
 *
 * Owns the files under <state_dir>/qubes/<name>/: root.img (TemplateVM and
 * StandaloneVM only), private.img, volatile.img, all sparse raw images.
 * Must never: touch another qube's files except to read the source of a
 * clone or of a disposable's private copy.
 */
#pragma once

#include "backend.h"

G_BEGIN_DECLS

/* A new qube: its directory, private.img and (own root) root.img, sparse.
 * Idempotent: existing images are kept. */
gboolean bh_xen_volumes_create(const char *state_dir, const BhBackendQube *qube, GError **error);

/* Create for a qube the model has just added: what a dead qube of its name
 * left is set aside first (volume-leftovers.h), and a failure leaves
 * nothing it made. */
gboolean bh_xen_volumes_add(const char *state_dir, const BhBackendQube *qube, GError **error);

/* Before each start: what create makes, plus a new empty volatile.img, and
 * for a disposable a fresh copy of its disposable template's private.img. */
gboolean bh_xen_volumes_prepare(const char *state_dir, const BhBackendQube *qube, GError **error);

/* dst gets copies of source's private.img and (when dst has its own root)
 * root.img; holes stay holes. What a dead qube of dst's name left is set
 * aside first, and a failure leaves nothing of dst. */
gboolean bh_xen_volumes_clone(const char *state_dir, const char *source, const BhBackendQube *dst,
                              GError **error);

/* Deletes the qube's images and directory; what is missing is no error. */
gboolean bh_xen_volumes_remove(const char *state_dir, const char *qube, GError **error);

G_END_DECLS
