/* bh-shell-hotkey.h — the menu key, grabbed by the shell itself on X11.
 *
 * Owns the passive grabs of Super+Space and Alt+F1 on the root window (with
 * Caps Lock and Num Lock on or off) and turns their presses into one
 * callback, in the shell's own process: no window manager binding, no
 * `bulkhead-shell --menu` process forwarding the action over D-Bus (that
 * process cost 26-49 ms of the key-to-menu time; bench/README.md, "bench/shell").
 * Must never: grab more than these keys, keep the keyboard (the grabs are
 * passive, asynchronous: the server gives the key back on release), or fail
 * the shell when another client holds a key (then the window manager's binding
 * to `bulkhead-shell --menu` is the way, and the log says so). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _BhShellHotkey BhShellHotkey;

/* Called on a press of a grabbed key; time is the X event's timestamp. */
typedef void (*BhShellHotkeyFunc)(guint32 time, gpointer data);

/* The grabs on display's default screen; NULL when display is not X11 or
 * no key could be grabbed (both logged). */
BhShellHotkey *bh_shell_hotkey_new(GdkDisplay *display, BhShellHotkeyFunc func, gpointer data);
/* Whether a key event in one of the shell's own windows is a menu key
 * (Super+Space or Alt+F1, Caps Lock and Num Lock either way): while the
 * menu's popover holds the keyboard the root's grab never fires, so the
 * popover sees the key and closes the menu with it. Pure: the unit test's. */
gboolean bh_shell_hotkey_is_menu_key(guint keyval, GdkModifierType state);
/* How many of the two keys are held by this process. */
guint bh_shell_hotkey_count(BhShellHotkey *self);
/* Ungrabs and frees; NULL is fine. */
void bh_shell_hotkey_free(BhShellHotkey *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhShellHotkey, bh_shell_hotkey_free)

G_END_DECLS
