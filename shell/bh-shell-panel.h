/* bh-shell-panel.h — the panel along the top of the screen: the menu
 * button, the domains widget, the window list and a clock.
 *
 * Owns the panel window and how it sits on the screen: on X11 a dock
 * (_NET_WM_WINDOW_TYPE_DOCK) at the primary monitor's top edge that reserves
 * its height with _NET_WM_STRUT(_PARTIAL), so the window manager keeps other
 * windows below it, following that monitor's changes and another primary;
 * elsewhere a normal window that says it is not docked.
 * Must never: talk to the daemon (BhShellQubes does) or read a qube's data. */
#pragma once

#include <gtk/gtk.h>

#include "bh-shell-qubes.h"

G_BEGIN_DECLS

#define BH_SHELL_PANEL_HEIGHT 32

#define BH_TYPE_SHELL_PANEL (bh_shell_panel_get_type())
G_DECLARE_FINAL_TYPE(BhShellPanel, bh_shell_panel, BH, SHELL_PANEL, GtkApplicationWindow)

BhShellPanel *bh_shell_panel_new(GtkApplication *app, BhShellQubes *qubes);
/* Opens the app menu with its search field focused (the menu key); time is
 * the key press's X timestamp, or GDK_CURRENT_TIME when GDK saw the event. */
void bh_shell_panel_open_menu(BhShellPanel *self, guint32 time);
/* The menu key: opens the menu, or closes it when it is open (a window
 * manager's binding to `bulkhead-shell --menu` fires while it is). */
void bh_shell_panel_toggle_menu(BhShellPanel *self, guint32 time);
/* The monitor the panel spans now; "area-changed" (no arguments) says when
 * it changes. */
void bh_shell_panel_get_area(BhShellPanel *self, GdkRectangle *area);
/* Whether it is docked (X11, with a strut). */
gboolean bh_shell_panel_is_docked(BhShellPanel *self);

G_END_DECLS
