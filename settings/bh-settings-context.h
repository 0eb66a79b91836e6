/* bh-settings-context.h — what every bulkhead-settings window shares: the
 * one connection to bulkheadd (BhDbusAdmin1 on the session bus, never
 * auto-started), the live list of qubes (the shell's BhShellQubes, so both
 * programs read the daemon the same way), the labels and their CSS, and the
 * way one window opens another (bh_settings_open).
 *
 * Owns: those shared objects and the set of open windows (one settings
 * window per qube: asking again presents it).
 * Must never: open the store or a qube's files, or decide anything the model
 * decides: every check is the daemon's. */
#pragma once

#include "bh-dbus-admin1.h"
#include "bh-shell-qubes.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_CONTEXT (bh_settings_context_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsContext, bh_settings_context, BH, SETTINGS_CONTEXT, GObject)

/* Calls that start a qube wait for its netvm chain: longer than D-Bus' 25 s. */
#define BH_SETTINGS_LONG_CALL_MS (180 * 1000)
/* Clone is answered once the clone's files are copied, which takes as long
 * as what the source stored (minutes for a big one): no timeout. The dialog
 * stays responsive meanwhile and says so; closing it only stops waiting. */
#define BH_SETTINGS_COPY_CALL_MS G_MAXINT

/* Connects to the session bus and reads the labels (one call, at start,
 * before any window exists). NULL with the reason when the bus or bulkheadd
 * cannot be reached. app may be NULL (tests). */
BhSettingsContext *bh_settings_context_new(GtkApplication *app, GError **error);

BhDbusAdmin1 *bh_settings_context_get_admin(BhSettingsContext *self);
BhShellQubes *bh_settings_context_get_qubes(BhSettingsContext *self);
/* BhSettingsLabel*, in the daemon's order. */
GPtrArray *bh_settings_context_get_labels(BhSettingsContext *self);
/* "#rrggbb" of a label name; NULL when unknown. */
const char *bh_settings_context_label_color(BhSettingsContext *self, const char *label);

/* A window going away: its handlers on the qube list and the proxy are
 * disconnected, and self->context dropped (*context set to NULL). */
void bh_settings_context_release(BhSettingsContext **context, gpointer instance);

/* Windows: "create", "qube" (with qube, page may be NULL), "manager", "map",
 * "global". Returns the window, shown (borrowed: it lives until closed);
 * NULL for an unknown kind. */
GtkWindow *bh_settings_open(BhSettingsContext *self, const char *kind, const char *qube, const char *page);

G_END_DECLS
