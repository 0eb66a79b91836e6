/* error.h — the one way a failed system call becomes a GError, for every
 * GLib part of dom0 (backends, daemon, CLI).
 *
 * Owns the domain and wording: G_IO_ERROR with the code
 * g_io_error_from_errno gives (so callers can still tell NOT_FOUND, EXISTS,
 * NO_SPACE, PERMISSION_DENIED apart) and "<what>: <strerror>". What a user
 * sees on D-Bus is decided at the boundary of the layer, not here: every
 * error of a backend operation reaches the daemon as BH_BACKEND_ERROR
 * (org.bulkhead.Error.Backend, core/backends/backend.c), whichever backend.
 * Must never: read errno itself (the caller passes the value it saved right
 * after the failing call; formatting may change errno).
 */
#pragma once

#include <gio/gio.h>
#include <stdarg.h>

G_BEGIN_DECLS

/* Sets *error (if error is not NULL) from errno value e, the message being
 * the formatted text, ": ", and strerror(e). Returns FALSE, so that
 * `return bh_error_errno(error, errno, "cannot open %s", path);` reads as
 * the failure it is. */
static inline G_GNUC_PRINTF(3, 4) gboolean bh_error_errno(GError **error, int e, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *what = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", what, g_strerror(e));
    return FALSE;
}

G_END_DECLS
