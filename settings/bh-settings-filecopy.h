/* bh-settings-filecopy.h — the global settings' File copy part: which qubes
 * may send files to which (`bulkhead.Filecopy`, docs/filecopy.md) as rows
 * "from SOURCE to TARGET: allow | ask | deny [preselect QUBE]", written to
 * the settings' own 40-settings-filecopy.policy (bh-settings-policy.h); a
 * warning when a file earlier in name order decides copies instead; and a
 * "try it" line that shows what the policy engine decides for one copy with
 * every file as it is now (what `bulkhead policy eval` says).
 *
 * Owns: the rows and that one file's text.
 * Must never: write a row the policy engine refuses (a broken file denies
 * every call), touch another file, or lose a row the user typed when
 * writing fails. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_FILECOPY (bh_settings_filecopy_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsFilecopy, bh_settings_filecopy, BH, SETTINGS_FILECOPY, GtkBox)

GtkWidget *bh_settings_filecopy_new(BhSettingsContext *context);
/* Reads the file again (rows, warning, the try line). */
void bh_settings_filecopy_load(BhSettingsFilecopy *self);
/* Whether the rows differ from the file. */
gboolean bh_settings_filecopy_changed(BhSettingsFilecopy *self);
/* Writes the rows when they changed; FALSE with the reason shown under the
 * rows (and nothing written) when the engine or the file system refuses. */
gboolean bh_settings_filecopy_apply(BhSettingsFilecopy *self);

G_END_DECLS
