/* bh-guid-keymap.h — the keyboard layout and screen size guid announces to
 * the agent at connect (KEYMAP, SCREEN), and the layout again whenever
 * dom0's X server changes it (setxkbmap, a desktop's layout switcher).
 *
 * Owns: where RMLVO names come from: the X server's _XKB_RULES_NAMES root
 * property (the layout X keycodes are in), else XKB_DEFAULT_* from the
 * environment, else evdev/pc105/us.
 * Must never: send a name that does not fit its field (it is cut at the
 * field size, always NUL-terminated). */
#ifndef BH_GUID_KEYMAP_H
#define BH_GUID_KEYMAP_H

#include <gtk/gtk.h>

#include "bulkhead/gui-protocol.h"

G_BEGIN_DECLS

void bh_guid_keymap_from_display(GdkDisplay *display, struct bh_gui_keymap *out);

/* Make the X server tell guid when its layout names change (PropertyNotify
 * of _XKB_RULES_NAMES on the root window); nothing on other backends. */
void bh_guid_keymap_watch(GdkDisplay *display);
/* TRUE if xevent (an XEvent, from GdkX11Display::xevent) says the layout
 * names changed: read them again with bh_guid_keymap_from_display. */
gboolean bh_guid_keymap_event_is_change(GdkDisplay *display, const void *xevent);

/* The first monitor's size (the agent's wl_output); 1280x1024 if none. */
void bh_guid_screen_from_display(GdkDisplay *display, struct bh_gui_screen *out);

G_END_DECLS

#endif /* BH_GUID_KEYMAP_H */
