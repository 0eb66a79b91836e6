/* bh-shell-clipboard.h — the clipboard widget on the panel: what the global
 * clipboard holds ("N bytes from QUBE", in that qube's label colour, or
 * empty), Clear, and "Copy dom0 clipboard".
 *
 * Owns its org.bulkhead.Clipboard1 proxy (GetState, Changed, Clear,
 * CopyDom0) and the widget. Must never: receive, show or log the global
 * clipboard's contents (the daemon never gives them to it), or put dom0's
 * text anywhere but CopyDom0, the one way dom0 text enters. */
#pragma once

#include <gtk/gtk.h>

#include "bh-shell-qubes.h"

G_BEGIN_DECLS

#define BH_TYPE_SHELL_CLIPBOARD (bh_shell_clipboard_get_type())
G_DECLARE_FINAL_TYPE(BhShellClipboard, bh_shell_clipboard, BH, SHELL_CLIPBOARD, GtkBox)

GtkWidget *bh_shell_clipboard_new(BhShellQubes *qubes);

/* Pure (the unit test's): the widget's words for a GetState dict ({} or
 * source, size); a source that is neither "dom0" nor a valid qube name
 * reads as "unknown". */
char *bh_shell_clipboard_describe(GVariant *state);

G_END_DECLS
