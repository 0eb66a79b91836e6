/* bh-settings-global.h — placeholder while it is written. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_GLOBAL (bh_settings_global_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsGlobal, bh_settings_global, BH, SETTINGS_GLOBAL, GtkWindow)

BhSettingsGlobal *bh_settings_global_new(BhSettingsContext *context);

G_END_DECLS
