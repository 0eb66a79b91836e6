/* bh-shell-windows.h — the panel's window list: one button per window the
 * window manager lists (EWMH _NET_CLIENT_LIST), grouped by qube in the
 * order of the qubes' names, each with its qube's label-colour square;
 * clicking one raises and focuses it (_NET_ACTIVE_WINDOW).
 *
 * Owns: reading the root window's and the clients' X properties (bounded
 * lengths, windows that vanish meanwhile ignored), and the buttons. A window
 * belongs to a qube only when it is guid's (WM_CLASS "bulkhead-guid") and its
 * title starts with guid's "[qube]" prefix (bh-shell-title.h) naming a qube
 * the daemon knows;
 * the rest of such a title is the qube's text and is shown only on a button
 * carrying that qube's colour; a guid window that names no known qube is not
 * shown. Windows of dom0's own programs form the "dom0" group. Must never: act on a window other than by the
 * EWMH request a pager makes, or use a qube's title text anywhere else. X11 only; on another backend it stays
 * empty. */
#pragma once

#include <gtk/gtk.h>

#include "bh-shell-qubes.h"

G_BEGIN_DECLS

#define BH_TYPE_SHELL_WINDOWS (bh_shell_windows_get_type())
G_DECLARE_FINAL_TYPE(BhShellWindows, bh_shell_windows, BH, SHELL_WINDOWS, GtkBox)

GtkWidget *bh_shell_windows_new(BhShellQubes *qubes);

G_END_DECLS
