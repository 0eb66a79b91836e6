/* bh-settings-create.h — the "Create a qube" window.
 *
 * Owns: the form (type, name, label, template, network, the template's
 * applications to show in the menu (menu_items, set once created),
 * Advanced: provides network, memory, vcpus; "open settings after
 * creating") and its checking:
 * every change asks bulkheadd's CheckCreate (Create's dry run), so each field
 * shows the model's own sentence under it and Create is enabled only while
 * the daemon's answer for exactly what is typed is yes. Create sends the same
 * arguments; a refusal goes under its field and nothing typed is lost.
 * Must never: judge a name or a value itself, or create anything but through
 * the daemon's Create. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_CREATE (bh_settings_create_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsCreate, bh_settings_create, BH, SETTINGS_CREATE, GtkWindow)

BhSettingsCreate *bh_settings_create_new(BhSettingsContext *context);

/* How many CheckCreate answers have been applied (tests wait on it). */
guint bh_settings_create_get_checks(BhSettingsCreate *self);
/* Whether the newest check asked for has its answer applied: one edit may
 * ask more than one (setting an entry's text empties it first, and an empty
 * name is answered at once), so a count alone can be ahead of the last. */
gboolean bh_settings_create_is_checked(BhSettingsCreate *self);

G_END_DECLS
