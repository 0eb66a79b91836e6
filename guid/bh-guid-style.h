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

void bh_guid_style_install(GdkDisplay *display, const BhLabel *label);

/* The label colour as a GdkRGBA (for the frame BhGuestView draws). */
void bh_guid_style_label_rgba(const BhLabel *label, GdkRGBA *out);

G_END_DECLS

#endif /* BH_GUID_STYLE_H */
