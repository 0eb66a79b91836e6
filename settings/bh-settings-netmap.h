/* bh-settings-netmap.h — the network map: every qube (dom0 aside) as a box
 * in its label colour, an arrow from each to its netvm, the ones running
 * drawn solid with a thick border, the others faded. Dragging a box onto
 * another makes that one its netvm; the right-click menu offers the same
 * (default, none, each provider) and the settings; a click opens the qube's
 * settings. A refusal (a loop, a qube that does not provide network) appears
 * in a bubble at the dragged box, in the daemon's words, and changes nothing.
 *
 * Owns: the layout (a column per hop from the network, each qube under the
 * qube it reaches the network through; qubes without network last) and the
 * gestures.
 * Must never: change a netvm but through the daemon's SetProperty, or draw a
 * name it did not get from the daemon's list. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_NETMAP (bh_settings_netmap_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsNetmap, bh_settings_netmap, BH, SETTINGS_NETMAP, GtkWidget)

BhSettingsNetmap *bh_settings_netmap_new(BhSettingsContext *context);
/* The map in a scrolled window, titled "Network map"; the map is named "map". */
GtkWindow *bh_settings_netmap_window_new(BhSettingsContext *context);

/* The box of a qube in the map's coordinates; FALSE when it has none. */
gboolean bh_settings_netmap_get_box(BhSettingsNetmap *self, const char *qube, graphene_rect_t *box);
/* Whether a qube's box shows its whole text (name and state), uncut. */
gboolean bh_settings_netmap_text_fits(BhSettingsNetmap *self, const char *qube);
/* What dropping qube on netvm does (netvm "" = the default, "none"). */
void bh_settings_netmap_relink(BhSettingsNetmap *self, const char *qube, const char *netvm);
/* The refusal shown now, or NULL. */
const char *bh_settings_netmap_get_error(BhSettingsNetmap *self);
/* How many times the layout was computed (tests and the benchmark wait on it). */
guint bh_settings_netmap_get_layouts(BhSettingsNetmap *self);

G_END_DECLS
