/* bh-settings-qube.h — one qube's settings window: pages Basic (name with
 * rename, label, template, netvm, autostart, include in backups, private
 * storage size), Advanced (memory, maxmem, vcpus, provides network,
 * disposable template, default disposable template, virt mode, kernel),
 * Firewall (a pointer to qvm-firewall until its calls land), Applications
 * (which of the qube's apps the menu shows: menu_items),
 * and Delete and Clone, each confirmed in a dialog that names the qube in its
 * label colour.
 *
 * Owns: the form and its Apply: only fields the user changed are sent, one
 * SetProperty (or ResetProperty for "default") each, the rename last; the
 * first refusal stops there and appears under its field in the daemon's
 * words, and nothing typed is lost.
 * Must never: judge a value itself, or change a property the user did not
 * touch. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_QUBE (bh_settings_qube_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsQube, bh_settings_qube, BH, SETTINGS_QUBE, GtkWindow)

/* page: "basic" (NULL), "advanced", "firewall", "applications". */
BhSettingsQube *bh_settings_qube_new(BhSettingsContext *context, const char *qube, const char *page);
void bh_settings_qube_show_page(BhSettingsQube *self, const char *page);

/* How many times the daemon's values were (re)loaded, and whether an Apply
 * is under way (tests wait on both). */
guint bh_settings_qube_get_loads(BhSettingsQube *self);
gboolean bh_settings_qube_is_busy(BhSettingsQube *self);

G_END_DECLS
