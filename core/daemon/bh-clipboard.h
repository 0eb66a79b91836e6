/* bh-clipboard.h — the global clipboard in bulkheadd (org.bulkhead.Clipboard1).
 *
 * Owns: the one text the global clipboard holds (in memory only, with its
 * source qube, type, size and time), the limit check against the global
 * clipboard_max_bytes, the paste policy (bulkhead.ClipboardPaste), one copy
 * one paste, the Changed signal and the user's notifications.
 * Must never: write the contents anywhere (disk, logs, notifications,
 * GetState), hand them to any caller but the guid bulkheadd runs for the
 * pasting qube, or take a qube's name from anything but dom0's own
 * knowledge of who called.
 */
#pragma once

#include <gio/gio.h>

#include "bh-guid-set.h"
#include "bh-policy-store.h"
#include "bulkhead/store.h"

G_BEGIN_DECLS

typedef struct _BhClipboard BhClipboard;

/* guids may be NULL (bulkheadd --no-guid): then no caller may copy or paste.
 * Borrows all three; they outlive the clipboard. */
BhClipboard *bh_clipboard_new(BhStore *store, BhPolicyStore *policy, BhGuidSet *guids);
/* Wipes the contents. NULL-safe. */
void bh_clipboard_free(BhClipboard *clip);

gboolean bh_clipboard_export(BhClipboard *clip, GDBusConnection *connection, const char *path,
                             GError **error);
void bh_clipboard_unexport(BhClipboard *clip);

/* The global clipboard_max_bytes changed (or may have). */
void bh_clipboard_limit_changed(BhClipboard *clip);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhClipboard, bh_clipboard_free)

G_END_DECLS
