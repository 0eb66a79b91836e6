/* bh-guid-input.h — pure translations from GDK input to GUI-protocol input,
 * and the rule for which key combinations guid keeps for itself.
 *
 * Owns: button numbering, modifier bits, the Ctrl+Shift+C/V rule, which
 * presses and releases reach the guest.
 * Must never: send anything (callers do), or depend on the display. */
#ifndef BH_GUID_INPUT_H
#define BH_GUID_INPUT_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* evdev code for a GDK button number, 0 when the guest has no use for it. */
guint32 bh_guid_input_evdev_button(guint gdk_button);

/* xkb modifier masks (standard keymaps: Shift=bit0, Lock=bit1, Control=bit2,
 * Mod1=bit3, Mod4=bit6) from a GDK modifier state. */
void bh_guid_input_xkb_mods(GdkModifierType state, guint32 *depressed, guint32 *locked);

typedef enum {
    BH_GUID_COMBO_NONE = 0,
    BH_GUID_COMBO_COPY,  /* Ctrl+Shift+C: global clipboard copy */
    BH_GUID_COMBO_PASTE, /* Ctrl+Shift+V: global clipboard paste */
} BhGuidCombo;

/* Which guid combination a key press is, if any. `keyval` is the translated
 * keysym, `base_keyval` the keysym of the same key on the first layout (so
 * Ctrl+Shift+C also works on a Cyrillic layout). */
BhGuidCombo bh_guid_input_combo(guint keyval, guint base_keyval, GdkModifierType state);

/* Keys held down, by xkb keycode (8..255). Remembers keys guid swallowed so
 * their release (and auto-repeat) is swallowed too. Auto-repeat of other keys
 * is forwarded: key repeat is dom0's (the agent tells clients rate 0 and
 * turns a press of a held key into release + press). */
typedef struct {
    guint8 down[256 / 8];
    guint8 swallowed[256 / 8];
} BhGuidKeys;

typedef enum {
    BH_GUID_KEY_FORWARD,
    BH_GUID_KEY_DROP,
} BhGuidKeyVerdict;

BhGuidKeyVerdict bh_guid_keys_press(BhGuidKeys *k, guint keycode, gboolean swallow);
BhGuidKeyVerdict bh_guid_keys_release(BhGuidKeys *k, guint keycode);
/* Focus left: the guest is told separately; forget what was down. */
void bh_guid_keys_reset(BhGuidKeys *k);

G_END_DECLS

#endif /* BH_GUID_INPUT_H */
