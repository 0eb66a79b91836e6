/* bh-settings-manager.h — the qube manager: every qube in a table (label,
 * name, state, class, template, netvm, memory, private volume size), sortable
 * by any column (numbers by value), filtered by
 * typing, kept live from the daemon's signals (through BhShellQubes), and
 * actions on the selected rows: start, shut down, pause/resume, settings,
 * remove (confirmed, naming each qube in its colour).
 *
 * Owns: the table and its selection (kept by name across updates).
 * Must never: poll the daemon, or act on a qube the user did not select. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_MANAGER (bh_settings_manager_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsManager, bh_settings_manager, BH, SETTINGS_MANAGER, GtkWindow)

BhSettingsManager *bh_settings_manager_new(BhSettingsContext *context);

/* The rows shown now, after the filter and the sort (items: BhShellQube). */
GListModel *bh_settings_manager_get_rows(BhSettingsManager *self);
/* The names of the selected rows, in table order. */
GStrv bh_settings_manager_get_selected(BhSettingsManager *self);

/* Answers of GetDiskUsage so far (the "Disk used" column). */
guint bh_settings_manager_get_usage_loads(BhSettingsManager *self);

G_END_DECLS
