/* gui-types.c — the message table: for every type, who may send it, whether it
 * names a window, and its exact or bounded body length. docs/gui-protocol.md
 * has the same table for humans.
 *
 * Must never: know anything about field contents (gui-decode.c does that). */
#include "proto-internal.h"

#define AGENT    ((unsigned)BH_GUI_FROM_AGENT)
#define DOM0     ((unsigned)BH_GUI_FROM_DOM0)
#define EXACT(t) (uint32_t)sizeof(struct t), (uint32_t)sizeof(struct t), 0
#define EMPTY    0, 0, 0

static const struct bh_wire_type types[] = {
    {BH_GUI_HELLO, "HELLO", AGENT | DOM0, true, EXACT(bh_gui_hello)},
    {BH_GUI_CLIPBOARD_DATA, "CLIPBOARD_DATA", AGENT | DOM0, true,
     (uint32_t)sizeof(struct bh_gui_clipboard_data), (uint32_t)BH_MAX_CLIPBOARD_BODY_BYTES, 1},
    {BH_GUI_CLIPBOARD_IMAGE, "CLIPBOARD_IMAGE", AGENT | DOM0, true, EXACT(bh_gui_clipboard_image)},

    {BH_GUI_CREATE, "CREATE", AGENT, false, EXACT(bh_gui_create)},
    {BH_GUI_DESTROY, "DESTROY", AGENT, false, EMPTY},
    {BH_GUI_MAP, "MAP", AGENT, false, EXACT(bh_gui_map)},
    {BH_GUI_UNMAP, "UNMAP", AGENT, false, EMPTY},
    {BH_GUI_CONFIGURE, "CONFIGURE", AGENT, false, EXACT(bh_gui_configure)},
    {BH_GUI_TITLE, "TITLE", AGENT, false, 0, BH_MAX_TITLE_BYTES, 1},
    {BH_GUI_APP_ID, "APP_ID", AGENT, false, 0, BH_MAX_APP_ID_BYTES, 1},
    {BH_GUI_HINTS, "HINTS", AGENT, false, EXACT(bh_gui_hints)},
    {BH_GUI_FLAGS, "FLAGS", AGENT, false, EXACT(bh_gui_flags)},
    {BH_GUI_BUFFER, "BUFFER", AGENT, false, (uint32_t)sizeof(struct bh_gui_buffer),
     (uint32_t)BH_MAX_BUFFER_BODY_BYTES, (uint32_t)sizeof(uint32_t)},
    {BH_GUI_DAMAGE, "DAMAGE", AGENT, false,
     (uint32_t)(sizeof(struct bh_gui_damage) + sizeof(struct bh_gui_rect)),
     (uint32_t)BH_MAX_DAMAGE_BODY_BYTES, (uint32_t)sizeof(struct bh_gui_rect)},
    {BH_GUI_CURSOR, "CURSOR", AGENT, false, EXACT(bh_gui_cursor)},

    {BH_GUI_SCREEN, "SCREEN", DOM0, true, EXACT(bh_gui_screen)},
    {BH_GUI_KEYMAP, "KEYMAP", DOM0, true, EXACT(bh_gui_keymap)},
    {BH_GUI_KEY, "KEY", DOM0, false, EXACT(bh_gui_key)},
    {BH_GUI_BUTTON, "BUTTON", DOM0, false, EXACT(bh_gui_button)},
    {BH_GUI_MOTION, "MOTION", DOM0, false, EXACT(bh_gui_motion)},
    {BH_GUI_AXIS, "AXIS", DOM0, false, EXACT(bh_gui_axis)},
    {BH_GUI_ENTER, "ENTER", DOM0, false, EXACT(bh_gui_enter)},
    {BH_GUI_LEAVE, "LEAVE", DOM0, false, EMPTY},
    {BH_GUI_FOCUS, "FOCUS", DOM0, false, EXACT(bh_gui_focus)},
    {BH_GUI_CONFIGURE_REQ, "CONFIGURE_REQ", DOM0, false, EXACT(bh_gui_configure_req)},
    {BH_GUI_CLOSE, "CLOSE", DOM0, false, EMPTY},
    {BH_GUI_CLIPBOARD_REQ, "CLIPBOARD_REQ", DOM0, true, EXACT(bh_gui_clipboard_req)},
    {BH_GUI_BUFFER_RELEASE, "BUFFER_RELEASE", DOM0, false, EXACT(bh_gui_buffer_release)},
};

const struct bh_wire_type *bh_gui_type_info(uint32_t type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (types[i].type == type)
            return &types[i];
    }
    return NULL;
}

static void unknown_type(char *reason, size_t cap, uint32_t type)
{
    bh_wire_reason(reason, cap, "message type 0x%x unknown (protocol %u.%u)", type, BH_GUI_PROTOCOL_MAJOR,
                   BH_GUI_PROTOCOL_MINOR);
}

const struct bh_wire_protocol bh_gui_wire = {
    .id_word = "window",
    .max_id = BH_MAX_WINDOW_ID,
    .max_body = BH_MAX_BODY_BYTES,
    .type_info = bh_gui_type_info,
    .unknown_type = unknown_type,
};

const char *bh_gui_type_name(uint32_t type)
{
    const struct bh_wire_type *ti = bh_gui_type_info(type);
    return ti ? ti->name : "UNKNOWN";
}

const char *bh_gui_err_name(enum bh_gui_err code)
{
    switch (code) {
    case BH_GUI_OK:
        return "ok";
    case BH_GUI_E_SHORT:
        return "short";
    case BH_GUI_E_TYPE:
        return "type";
    case BH_GUI_E_LENGTH:
        return "length";
    case BH_GUI_E_WINDOW:
        return "window";
    case BH_GUI_E_VALUE:
        return "value";
    case BH_GUI_E_LIMIT:
        return "limit";
    case BH_GUI_E_TEXT:
        return "text";
    case BH_GUI_E_STATE:
        return "state";
    case BH_GUI_E_VERSION:
        return "version";
    }
    return "unknown";
}
