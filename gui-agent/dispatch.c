/* dispatch.c — what dom0's messages mean to the agent: each message the
 * link (link.c) decoded and accepted goes to the seat, a window, its xdg
 * surface, the output or the clipboard; a lost link tells the windows.
 *
 * Owns: the table from message type to handler, and the lookup of the
 * window a message names.
 * Must never: see bytes (the link decodes; only accepted messages come
 * here), or act on a window id the agent does not know (a normal race:
 * ignored, logged at debug level). It is the top floor of the agent beside
 * agent.c: nothing calls it by name, the link calls it through
 * bh_dom0_events. */
#include "internal.h"

/* Logged under the link's tag, as before the split: one tag for dom0's side. */
#define MOD "link"

static void dispatch(struct bh_agent *a, const struct bh_gui_msg *m)
{
    struct bh_window *w = NULL;

    if (m->window) {
        /* Input for a window that is already gone is a normal race. */
        w = bh_window_find(a, m->window);
        if (!w || (!w->xdg && !w->owner)) {
            BH_DBG(a, MOD, "%s for unknown window %u ignored", bh_gui_type_name(m->type), m->window);
            return;
        }
    }
    switch (m->type) {
    case BH_GUI_HELLO:
        BH_INFO(a, MOD, "dom0 connected (protocol %u.%u)", m->u.hello.version >> 16,
                m->u.hello.version & 0xffff);
        bh_windows_announce_all(a);
        break;
    case BH_GUI_SCREEN:
        bh_output_set_screen(a, &m->u.screen);
        break;
    case BH_GUI_KEYMAP:
        bh_seat_set_keymap(a, &m->u.keymap);
        break;
    case BH_GUI_KEY:
        bh_seat_key(a, &m->u.key);
        break;
    case BH_GUI_BUTTON:
        bh_seat_button(a, w, &m->u.button);
        break;
    case BH_GUI_MOTION:
        bh_seat_motion(a, w, m->u.motion.x, m->u.motion.y);
        break;
    case BH_GUI_ENTER:
        bh_seat_motion(a, w, m->u.enter.x, m->u.enter.y);
        break;
    case BH_GUI_LEAVE:
        bh_seat_leave(a, w);
        break;
    case BH_GUI_AXIS:
        bh_seat_axis(a, w, &m->u.axis);
        break;
    case BH_GUI_FOCUS:
        bh_seat_focus(a, w, m->u.focus.focused != 0);
        break;
    case BH_GUI_CONFIGURE_REQ:
        if (w->xdg)
            bh_xdg_request_configure(w->xdg, (int32_t)m->u.configure_req.width,
                                     (int32_t)m->u.configure_req.height, m->u.configure_req.states);
        else
            w->owner->configure(w->owner_data, (int32_t)m->u.configure_req.width,
                                (int32_t)m->u.configure_req.height, m->u.configure_req.states);
        break;
    case BH_GUI_CLOSE:
        if (w->xdg)
            bh_xdg_request_close(w->xdg);
        else
            w->owner->close(w->owner_data);
        break;
    case BH_GUI_BUFFER_RELEASE:
        bh_window_release(w, m->u.buffer_release.serial);
        break;
    case BH_GUI_CLIPBOARD_REQ:
        bh_data_clipboard_request(a, m->u.clipboard_req.request);
        break;
    case BH_GUI_CLIPBOARD_DATA:
        bh_data_clipboard_set(a, m->u.clipboard.data, m->u.clipboard.len);
        break;
    case BH_GUI_CLIPBOARD_IMAGE:
        bh_data_clipboard_set_image(a, &m->u.clipboard_image, bh_link_take_fd(a->link));
        break;
    default:
        /* The decoder only lets dom0's types through. */
        break;
    }
}

static void link_lost(struct bh_agent *a)
{
    /* Windows stay; the next dom0 gets each of them announced afresh. */
    bh_windows_link_lost(a);
}

const struct bh_link_events bh_dom0_events = {
    .message = dispatch,
    .lost = link_lost,
};
