/* bh-guid-style.h — installs guid's look on a display: the label colours,
 * themes/guid.css and the label icons.
 *
 * Owns: the CSS provider priority (above the user's CSS: the frame and bar
 * colours are a security property, not a preference).
 * Must never: take a colour or a style from the agent. */
#ifndef BH_GUID_STYLE_H
#define BH_GUID_STYLE_H

#include <gtk/gtk.h>

#include "bh-guid-label.h"

G_BEGIN_DECLS

/* Before gtk_init: GTK's theme for this process is guid's own
 * (themes/guid-theme.css, compiled in), not GTK's default or the desktop's:
 * guid's look does not follow the theme, and the default costs 10-11 ms of
 * CPU to parse per guid. Sets GTK_THEME; guid starts no other program. */
void bh_guid_style_select_theme(void);

void bh_guid_style_install(GdkDisplay *display, const BhLabel *label);

/* The environment variable naming a directory made by
 * bh_guid_style_write_icon_index: guid's icon search path when set. */
#define BH_GUID_ICON_INDEX_ENV "BH_GUID_ICON_INDEX"

/* Writes DIR/hicolor/index.theme: GTK's built-in hicolor index cut to the
 * directories GTK's and guid's icon resources have (themes/guid-icon-index.theme;
 * every icon guid can draw is in one). Without an index on disk GTK parses
 * its built-in one, 649 directories, in every guid. Needs no display. */
gboolean bh_guid_style_write_icon_index(const char *dir, GError **error);

/* Removes what bh_guid_style_write_icon_index wrote, and DIR if empty. */
void bh_guid_style_remove_icon_index(const char *dir);

/* The label colour as a GdkRGBA (for the frame BhGuestView draws). */
void bh_guid_style_label_rgba(const BhLabel *label, GdkRGBA *out);

G_END_DECLS

#endif /* BH_GUID_STYLE_H */
