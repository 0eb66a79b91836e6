/* bh-settings-global.c — placeholder. */
#include "bh-settings-global.h"

struct _BhSettingsGlobal {
    GtkWindow parent_instance;
};

G_DEFINE_FINAL_TYPE(BhSettingsGlobal, bh_settings_global, GTK_TYPE_WINDOW)

static void bh_settings_global_class_init(BhSettingsGlobalClass *klass)
{
}

static void bh_settings_global_init(BhSettingsGlobal *self)
{
}

BhSettingsGlobal *bh_settings_global_new(BhSettingsContext *context)
{
    return g_object_new(BH_TYPE_SETTINGS_GLOBAL, NULL);
}
