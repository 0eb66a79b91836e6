/* xen.h — the xen backend: qubes as Xen domains through libxl.
 *
 * Owns the registry entry for "xen" (BH_XEN_BACKEND_NEW is NULL when this
 * build has no Xen libraries) and the dom0-on-Xen check the daemon uses to
 * pick this backend by itself. Includes nothing of Xen, so the registry
 * compiles without it.
 */
#pragma once

#include "backend.h"
#include "config.h"

G_BEGIN_DECLS

#if BH_HAVE_XEN
/* Fails with BH_BACKEND_ERROR_UNAVAILABLE when there is no hypervisor or
 * no toolstack access (not dom0, no /dev/xen/privcmd, no xenstored). */
BhBackend *bh_xen_backend_new(const BhBackendConfig *config, GError **error);
#define BH_XEN_BACKEND_NEW bh_xen_backend_new
#else
#define BH_XEN_BACKEND_NEW NULL
#endif

/* TRUE when this process runs in dom0 on Xen (/proc/xen/capabilities says
 * control_d). capabilities_path: NULL for the real file (tests pass one). */
gboolean bh_xen_running_in_dom0(const char *capabilities_path);

G_END_DECLS
