/* bh-settings-app.h — bulkhead-settings as a GtkApplication
 * (org.bulkhead.Settings, one process per invocation).
 *
 * Owns: the command line (--qube NAME [--page P], --create, --global,
 * --manager, --map; none: the manager) and the context every window shares.
 * Must never: open the store or reach bulkheadd but through the context. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BH_SETTINGS_APP_ID "org.bulkhead.Settings"

#define BH_TYPE_SETTINGS_APP (bh_settings_app_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsApp, bh_settings_app, BH, SETTINGS_APP, GtkApplication)

BhSettingsApp *bh_settings_app_new(void);
/* Non-zero when bulkheadd could not be reached. */
int bh_settings_app_get_status(BhSettingsApp *self);

G_END_DECLS
