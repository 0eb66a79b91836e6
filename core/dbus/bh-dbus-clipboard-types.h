/* bh-dbus-clipboard-types.h — the contents types org.bulkhead.Clipboard1's
 * Copy and Paste carry, shared by bulkheadd and guid.
 *
 * Owns: the type strings and the one parser of an image's. Must never:
 * accept a type in more than one spelling (the canonical form is rebuilt
 * and compared), or a size past the GUI protocol's clipboard image bounds. */
#ifndef BH_DBUS_CLIPBOARD_TYPES_H
#define BH_DBUS_CLIPBOARD_TYPES_H

#include <glib.h>

#include "bulkhead/gui-protocol.h"

/* UTF-8 text without NUL, at most MaxBytes. */
#define BH_CLIPBOARD_TYPE_TEXT "text/plain;charset=utf-8"
/* guid: the qube's clipboard held neither text nor an image (no data);
 * bulkheadd tells the user nothing was copied, and why. */
#define BH_CLIPBOARD_TYPE_OTHER "application/x-bulkhead-other"
/* An image: width * height pixels, rows packed (stride width * 4), bytes R,
 * G, B, A with straight alpha (the GUI protocol's
 * BH_GUI_CLIPBOARD_IMAGE_FORMAT), never a file format. */
#define BH_CLIPBOARD_TYPE_IMAGE_FMT "image/x-bulkhead-rgba;width=%u;height=%u"

static inline char *bh_clipboard_image_type(guint32 width, guint32 height)
{
    return g_strdup_printf(BH_CLIPBOARD_TYPE_IMAGE_FMT, width, height);
}

/* TRUE when type is an image's, in its one spelling, of 1..4096 a side. */
static inline gboolean bh_clipboard_image_type_parse(const char *type, guint32 *width, guint32 *height)
{
    static const char width_key[] = "image/x-bulkhead-rgba;width=", height_key[] = ";height=";
    const char *p = type;
    char *end = NULL;
    guint64 w, h;
    if (!g_str_has_prefix(p, width_key) || !g_ascii_isdigit(p[sizeof width_key - 1]))
        return FALSE;
    w = g_ascii_strtoull(p + sizeof width_key - 1, &end, 10);
    if (!g_str_has_prefix(end, height_key) || !g_ascii_isdigit(end[sizeof height_key - 1]))
        return FALSE;
    h = g_ascii_strtoull(end + sizeof height_key - 1, &end, 10);
    if (*end != '\0' || w == 0 || h == 0 || w > BH_MAX_CLIPBOARD_IMAGE_SIDE ||
        h > BH_MAX_CLIPBOARD_IMAGE_SIDE)
        return FALSE;
    /* Leading zeros are another spelling of the same size: refused. */
    g_autofree char *canonical = bh_clipboard_image_type((guint32)w, (guint32)h);
    if (!g_str_equal(canonical, type))
        return FALSE;
    *width = (guint32)w;
    *height = (guint32)h;
    return TRUE;
}

#endif /* BH_DBUS_CLIPBOARD_TYPES_H */
