/* bh-guid-input.c — GDK -> protocol input translation (see bh-guid-input.h). */
#include "bh-guid-input.h"

#include <string.h>

/* linux/input-event-codes.h values; spelled out so guid does not need kernel
 * headers for five numbers. */
enum {
    EVDEV_BTN_LEFT = 0x110,
    EVDEV_BTN_RIGHT = 0x111,
    EVDEV_BTN_MIDDLE = 0x112,
    EVDEV_BTN_SIDE = 0x113,
    EVDEV_BTN_EXTRA = 0x114,
};

guint32 bh_guid_input_evdev_button(guint gdk_button)
{
    switch (gdk_button) {
    case GDK_BUTTON_PRIMARY:
        return EVDEV_BTN_LEFT;
    case GDK_BUTTON_MIDDLE:
        return EVDEV_BTN_MIDDLE;
    case GDK_BUTTON_SECONDARY:
        return EVDEV_BTN_RIGHT;
    case 8:
        return EVDEV_BTN_SIDE;
    case 9:
        return EVDEV_BTN_EXTRA;
    default:
        return 0; /* 4-7 are X11's wheel buttons: GDK turns them into scroll events */
    }
}

void bh_guid_input_xkb_mods(GdkModifierType state, guint32 *depressed, guint32 *locked)
{
    guint32 d = 0;
    if (state & GDK_SHIFT_MASK)
        d |= 1u << 0;
    if (state & GDK_CONTROL_MASK)
        d |= 1u << 2;
    if (state & GDK_ALT_MASK)
        d |= 1u << 3;
    if (state & GDK_SUPER_MASK)
        d |= 1u << 6;
    *depressed = d;
    *locked = (state & GDK_LOCK_MASK) ? 1u << 1 : 0;
}

BhGuidCombo bh_guid_input_combo(guint keyval, guint base_keyval, GdkModifierType state)
{
    GdkModifierType mods = state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK |
                                    GDK_META_MASK | GDK_HYPER_MASK);
    if (mods != (GDK_SHIFT_MASK | GDK_CONTROL_MASK))
        return BH_GUID_COMBO_NONE;
    guint k = gdk_keyval_to_lower(keyval), b = gdk_keyval_to_lower(base_keyval);
    if (k == GDK_KEY_c || b == GDK_KEY_c)
        return BH_GUID_COMBO_COPY;
    if (k == GDK_KEY_v || b == GDK_KEY_v)
        return BH_GUID_COMBO_PASTE;
    return BH_GUID_COMBO_NONE;
}

static gboolean bit_get(const guint8 *set, guint i)
{
    return (set[i / 8] >> (i % 8)) & 1;
}

static void bit_put(guint8 *set, guint i, gboolean on)
{
    if (on)
        set[i / 8] |= (guint8)(1u << (i % 8));
    else
        set[i / 8] &= (guint8) ~(1u << (i % 8));
}

BhGuidKeyVerdict bh_guid_keys_press(BhGuidKeys *k, guint keycode, gboolean swallow)
{
    if (keycode < 8 || keycode > 255)
        return BH_GUID_KEY_DROP;
    if (bit_get(k->down, keycode)) /* auto-repeat: as the first press went */
        return bit_get(k->swallowed, keycode) ? BH_GUID_KEY_DROP : BH_GUID_KEY_FORWARD;
    bit_put(k->down, keycode, TRUE);
    bit_put(k->swallowed, keycode, swallow);
    return swallow ? BH_GUID_KEY_DROP : BH_GUID_KEY_FORWARD;
}

BhGuidKeyVerdict bh_guid_keys_release(BhGuidKeys *k, guint keycode)
{
    if (keycode < 8 || keycode > 255)
        return BH_GUID_KEY_DROP;
    gboolean was_down = bit_get(k->down, keycode), swallowed = bit_get(k->swallowed, keycode);
    bit_put(k->down, keycode, FALSE);
    bit_put(k->swallowed, keycode, FALSE);
    /* A release without a press we forwarded (focus came in with the key held,
     * or guid kept the press) would confuse the guest's key state. */
    return was_down && !swallowed ? BH_GUID_KEY_FORWARD : BH_GUID_KEY_DROP;
}

void bh_guid_keys_reset(BhGuidKeys *k)
{
    memset(k, 0, sizeof(*k));
}
