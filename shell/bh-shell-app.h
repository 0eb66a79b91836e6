/* bh-shell-app.h — bulkhead-shell as a GtkApplication (org.bulkhead.Shell).
 *
 * Owns the process-wide pieces: the one connection to bulkheadd
 * (BhDbusAdmin1 proxy on the session bus, never auto-started), the live list
 * of qubes, the notification server (where the session has none), the CSS
 * (themes/labels.css, generated from the palette, and the shell's own) and
 * the label icons, the panel, the menu keys it grabs itself on X11
 * (bh-shell-hotkey.c), and the "menu" action that a desktop session's key
 * binding reaches with `bulkhead-shell --menu` (a second instance forwards it
 * over D-Bus to the running one and exits).
 * Must never: open the store, read a qube's files, or run anything itself
 * but dom0's bulkhead-settings: every launch in a qube is the daemon's Run. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BH_SHELL_APP_ID "org.bulkhead.Shell"

#define BH_TYPE_SHELL_APP (bh_shell_app_get_type())
G_DECLARE_FINAL_TYPE(BhShellApp, bh_shell_app, BH, SHELL_APP, GtkApplication)

BhShellApp *bh_shell_app_new(void);

G_END_DECLS
