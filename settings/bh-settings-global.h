/* bh-settings-global.h — the global settings: the default template, netvm
 * and disposable template, the clock and update qubes, the clipboard's size
 * limit (the daemon's globals, applied with SetGlobal, errors under their
 * field), and the clipboard's paste rule in plain words (the settings' own
 * policy file, bh-settings-policy.h, with a warning when another file
 * decides instead).
 *
 * Owns: the form and its Apply.
 * Must never: write a policy file but its own, or change a global the user
 * did not touch. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_GLOBAL (bh_settings_global_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsGlobal, bh_settings_global, BH, SETTINGS_GLOBAL, GtkWindow)

BhSettingsGlobal *bh_settings_global_new(BhSettingsContext *context);

/* Loads of the daemon's values, and whether an Apply is under way. */
guint bh_settings_global_get_loads(BhSettingsGlobal *self);
gboolean bh_settings_global_is_busy(BhSettingsGlobal *self);

G_END_DECLS
