/* bh-shell-hotkey.c — the menu key grabbed in the shell (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-hotkey.h"

#ifdef GDK_WINDOWING_X11
#include <X11/Xlib.h>
#include <X11/keysym.h>
#include <gdk/x11/gdkx.h>
#endif

typedef struct {
    const char *name;
    unsigned long keysym;
    unsigned int mods;
} BhKey;

struct _BhShellHotkey {
    GdkDisplay *display;
    BhShellHotkeyFunc func;
    gpointer data;
    guint count;
    unsigned int keycodes[2]; /* 0: not held */
};

#ifdef GDK_WINDOWING_X11
/* openbox's W-space and A-F1, the two keys docs/shell.md names. */
static const BhKey bh_keys[2] = {{"Super+Space", XK_space, Mod4Mask}, {"Alt+F1", XK_F1, Mod1Mask}};
/* The same key with Caps Lock and Num Lock (Mod2 on every keymap X ships)
 * on or off: a grab matches the modifiers exactly. */
static const unsigned int bh_lock_mods[4] = {0, LockMask, Mod2Mask, LockMask | Mod2Mask};

static gboolean on_xevent(GdkX11Display *display, const XEvent *event, BhShellHotkey *self)
{
    Window root = gdk_x11_display_get_xrootwindow(GDK_DISPLAY(display));

    if ((event->type != KeyPress && event->type != KeyRelease) || event->xkey.window != root)
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(bh_keys); i++) {
        if (self->keycodes[i] == 0 || event->xkey.keycode != self->keycodes[i] ||
            (event->xkey.state & ~(LockMask | Mod2Mask)) != bh_keys[i].mods)
            continue;
        if (event->type == KeyPress) {
            /* The press made the passive grab active until the key's
             * release: give the keyboard back now, or the menu's popover
             * cannot take its own grab and closes at once. */
            XUngrabKeyboard(event->xkey.display, event->xkey.time);
            self->func((guint32)event->xkey.time, self->data);
        }
        return TRUE; /* the root's key events are ours alone: GDK has no use for them */
    }
    return FALSE;
}

static void bh_hotkey_ungrab(BhShellHotkey *self, guint i)
{
    Display *xdisplay = gdk_x11_display_get_xdisplay(self->display);
    Window root = gdk_x11_display_get_xrootwindow(self->display);

    for (guint m = 0; m < G_N_ELEMENTS(bh_lock_mods); m++)
        XUngrabKey(xdisplay, (int)self->keycodes[i], bh_keys[i].mods | bh_lock_mods[m], root);
    self->keycodes[i] = 0;
}

/* Every lock variant or none: a key held only with Caps Lock off would
 * work sometimes, which is worse than the window manager's binding. */
static gboolean bh_hotkey_grab(BhShellHotkey *self, guint i)
{
    Display *xdisplay = gdk_x11_display_get_xdisplay(self->display);
    Window root = gdk_x11_display_get_xrootwindow(self->display);
    KeyCode code = XKeysymToKeycode(xdisplay, bh_keys[i].keysym);
    int error;

    if (code == 0) {
        g_message("the menu key %s: no key on this keymap", bh_keys[i].name);
        return FALSE;
    }
    gdk_x11_display_error_trap_push(self->display);
    for (guint m = 0; m < G_N_ELEMENTS(bh_lock_mods); m++)
        XGrabKey(xdisplay, code, bh_keys[i].mods | bh_lock_mods[m], root, False, GrabModeAsync,
                 GrabModeAsync);
    XSync(xdisplay, False);
    error = gdk_x11_display_error_trap_pop(self->display);
    self->keycodes[i] = code;
    if (error != 0) {
        /* BadAccess: another client (a window manager's binding) has it. */
        g_message("the menu key %s is held by another client (X error %d): bind it to "
                  "`bulkhead-shell --menu` there",
                  bh_keys[i].name, error);
        gdk_x11_display_error_trap_push(self->display);
        bh_hotkey_ungrab(self, i);
        gdk_x11_display_error_trap_pop_ignored(self->display);
        return FALSE;
    }
    return TRUE;
}
#endif

BhShellHotkey *bh_shell_hotkey_new(GdkDisplay *display, BhShellHotkeyFunc func, gpointer data)
{
#ifdef GDK_WINDOWING_X11
    g_autoptr(BhShellHotkey) self = NULL;

    if (!GDK_IS_X11_DISPLAY(display)) {
        g_info(
            "no menu key of the shell's own on this display (not X11): bind one to `bulkhead-shell --menu`");
        return NULL;
    }
    self = g_new0(BhShellHotkey, 1);
    self->display = g_object_ref(display);
    self->func = func;
    self->data = data;
    for (guint i = 0; i < G_N_ELEMENTS(bh_keys); i++)
        self->count += bh_hotkey_grab(self, i) ? 1 : 0;
    if (self->count == 0)
        return NULL;
    g_signal_connect(display, "xevent", G_CALLBACK(on_xevent), self);
    g_info("the menu keys: %u of 2 grabbed", self->count);
    return g_steal_pointer(&self);
#else
    g_info("no menu key of the shell's own (built without X11): bind one to `bulkhead-shell --menu`");
    return NULL;
#endif
}

gboolean bh_shell_hotkey_is_menu_key(guint keyval, GdkModifierType state)
{
    /* Super and Alt alone: GDK may add Hyper or Meta beside Super where the
     * keymap puts them on the same X modifier, but Ctrl+Super+Space or
     * Shift+Alt+F1 are other keys. */
    if ((state & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) != 0)
        return FALSE;
    if (keyval == GDK_KEY_space || keyval == GDK_KEY_KP_Space)
        return (state & GDK_SUPER_MASK) != 0 && (state & GDK_ALT_MASK) == 0;
    if (keyval == GDK_KEY_F1)
        return (state & GDK_ALT_MASK) != 0 && (state & GDK_SUPER_MASK) == 0;
    return FALSE;
}

guint bh_shell_hotkey_count(BhShellHotkey *self)
{
    return self != NULL ? self->count : 0;
}

void bh_shell_hotkey_free(BhShellHotkey *self)
{
    if (self == NULL)
        return;
#ifdef GDK_WINDOWING_X11
    g_signal_handlers_disconnect_by_data(self->display, self);
    gdk_x11_display_error_trap_push(self->display);
    for (guint i = 0; i < G_N_ELEMENTS(bh_keys); i++)
        if (self->keycodes[i] != 0)
            bh_hotkey_ungrab(self, i);
    gdk_x11_display_error_trap_pop_ignored(self->display);
#endif
    g_clear_object(&self->display);
    g_free(self);
}
