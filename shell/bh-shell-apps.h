/* bh-shell-apps.h — the qubes' app lists as the shell sees them, over
 * org.bulkhead.Admin1's ListApps, RunApp and AppsChanged only, and the
 * user's favourites.
 *
 * Owns: one list per qube (read when the qube appears, again on AppsChanged
 * and when the daemon comes back), each app's icon as a texture made from
 * the daemon's checked pixels (never from an image file), and the
 * favourites file ($XDG_CONFIG_HOME/bulkhead/shell.ini, dom0's own).
 * Must never: show an app's words outside its qube's name and colour (the
 * menu's job; this file only hands them over), launch anything but RunApp
 * with an id of the qube's list, or block the main loop on a call. */
#pragma once

#include <gtk/gtk.h>

#include "bh-dbus-admin1.h"
#include "bh-shell-qubes.h"

G_BEGIN_DECLS

typedef struct {
    char *id;
    char *name;
    char *generic;
    char *keywords;
    gboolean in_menu; /* the qube's menu_items lists it */
    GdkTexture *icon; /* NULL: none */
} BhShellAppEntry;

#define BH_TYPE_SHELL_APPS (bh_shell_apps_get_type())
G_DECLARE_FINAL_TYPE(BhShellApps, bh_shell_apps, BH, SHELL_APPS, GObject)

/* Signals: "changed" () — some qube's list or the favourites changed. */
BhShellApps *bh_shell_apps_new(BhDbusAdmin1 *admin, BhShellQubes *qubes);

/* The qube's apps sorted by name (BhShellAppEntry*, borrowed), or NULL when
 * not read yet. *problem: why its last list was refused ("" if it was not). */
GPtrArray *bh_shell_apps_get(BhShellApps *self, const char *qube, const char **problem);

/* RunApp; a failure is reported as the qubes' "action-failed". */
void bh_shell_apps_run(BhShellApps *self, const char *qube, const char *id);
/* A new disposable of template_name running the app until it exits. */
void bh_shell_apps_run_disposable(BhShellApps *self, const char *template_name, const char *id);

gboolean bh_shell_apps_is_favourite(BhShellApps *self, const char *qube, const char *id);
void bh_shell_apps_toggle_favourite(BhShellApps *self, const char *qube, const char *id);
/* "qube/id" strings in the order they were added (borrowed). */
const char *const *bh_shell_apps_get_favourites(BhShellApps *self);

/* The entries' texture from RGBA rows (w * h * 4 bytes); NULL when the size
 * does not match or is out of 1..64. Pure but for GDK: the unit test's. */
GdkTexture *bh_shell_apps_icon_texture(guint w, guint h, GBytes *pixels);

G_END_DECLS
