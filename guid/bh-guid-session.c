/* bh-guid-session.c — one qube's GUI connection on the dom0 side (see
 * bh-guid-session.h): the GObject and its life cycle. Starting (the
 * handshake, the display's screen, keymap and refresh rate, how frames
 * reach X), ending (every window closed, the connection, the exit line with
 * the budgets' and damage's counts) and the totals; the parts it is made of
 * are in bh-guid-session-private.h.
 *
 * Must never: end twice, or leave a source that could run after the end. */
#define G_LOG_DOMAIN "bh-guid"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bh-guid-keymap.h"
#include "bh-guid-session-private.h"
#include "bh-guid-style.h"
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

/* Before the first toplevel is measured: title bar (~40 px) and GTK's solid
 * CSD edge (2 x 3 px) around the view. Replaced by the measured value. */
#define GUESS_OVERHEAD_W (2 * BH_GUID_FRAME_PX + 6)
#define GUESS_OVERHEAD_H (2 * BH_GUID_FRAME_PX + 6 + 40)

G_DEFINE_FINAL_TYPE(BhGuidSession, bh_guid_session, G_TYPE_OBJECT)

enum { SIG_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- Life cycle -------------------------------------------------------------- */

void bh_guid_session_stop(BhGuidSession *self, BhGuidExit status, const char *reason)
{
    if (self->finished)
        return;
    self->finished = TRUE;
    self->exit_status = status;
    LOG(self, "%s; closing its windows", reason);

    bh_guid_wins_close_all(self);
    bh_guid_dispatch_stop(self);
    g_clear_handle_id(&self->pace_timer, g_source_remove);
    g_clear_handle_id(&self->warm_source, g_source_remove);
    bh_guid_wire_close(self);
    LOG(self,
        "budgets: %" G_GUINT64_FORMAT " buffers or windows refused (memory), %" G_GUINT64_FORMAT
        " frames waited for the qube's X time",
        self->refused_buffers, self->paced_frames);

    BhGuidTileStats s;
    bh_guid_session_get_stats(self, &s);
    LOG(self,
        "damage: %" G_GUINT64_FORMAT " updates, %" G_GUINT64_FORMAT " rectangles, %" G_GUINT64_FORMAT
        " tiles replaced, %" G_GUINT64_FORMAT " bytes copied; %" G_GUINT64_FORMAT
        " put straight to X, %" G_GUINT64_FORMAT " pixels, %" G_GUINT64_FORMAT " put again over GTK's paints",
        s.updates, s.rects, s.tiles_replaced, s.bytes_copied, s.puts, s.px_put, s.reputs);
    bh_guid_trace_write_out(self);
    g_signal_emit(self, signals[SIG_FINISHED], 0, (int)status);
}

#ifdef GDK_WINDOWING_X11
/* dom0's layout changed (setxkbmap, a layout switcher): the agent compiles
 * the new one and hands it to every client, Xwayland included, so a key
 * pressed here means in the qube what it means in dom0. */
static gboolean on_xevent(GdkX11Display *display, const XEvent *ev, gpointer data)
{
    BhGuidSession *self = data;
    if (self->finished || !bh_guid_keymap_event_is_change(GDK_DISPLAY(display), ev))
        return FALSE;
    struct bh_gui_keymap keymap;
    bh_guid_keymap_from_display(GDK_DISPLAY(display), &keymap);
    /* The property is rewritten with the same names too (a desktop
     * re-applying its settings): nothing to tell then. */
    if (memcmp(&keymap, &self->keymap, sizeof keymap) == 0)
        return FALSE;
    self->keymap = keymap;
    bh_guid_wire_send(self, BH_GUI_KEYMAP, 0, &keymap, sizeof keymap);
    LOG(self, "keymap changed to %s/%s/%s/%s/%s", keymap.rules, keymap.model, keymap.layout, keymap.variant,
        keymap.options);
    return FALSE;
}
#endif

gboolean bh_guid_session_start(BhGuidSession *self, GError **error)
{
    g_return_val_if_fail(self->vchan != NULL, FALSE);
    GdkDisplay *display = gdk_display_get_default();
    struct bh_gui_screen screen;
    struct bh_gui_keymap keymap;

    bh_guid_screen_from_display(display, &screen);
    bh_guid_keymap_from_display(display, &keymap);
    self->screen_w = screen.width;
    self->screen_h = screen.height;
    bh_guid_budget_init(&self->budget, screen.width, screen.height);
    bh_guid_win_caps_update(self);

    struct bh_gui_hello hello = {BH_GUI_PROTOCOL_VERSION};
    bh_guid_wire_send(self, BH_GUI_HELLO, 0, &hello, sizeof hello);
    bh_guid_wire_send(self, BH_GUI_SCREEN, 0, &screen, sizeof screen);
    bh_guid_wire_send(self, BH_GUI_KEYMAP, 0, &keymap, sizeof keymap);
    self->keymap = keymap;
    if (self->finished) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "the agent of '%s' went away", self->qube);
        return FALSE;
    }
    const char *why = NULL;
    self->xshm = bh_guid_xshm_new(display, self->xshm_mode, &why);
    if (self->xshm != NULL && self->trace != NULL)
        bh_guid_xshm_trace_answers(self->xshm);
    GListModel *monitors = gdk_display_get_monitors(display);
    g_autoptr(GdkMonitor) monitor = g_list_model_get_item(monitors, 0);
    int mhz = monitor != NULL ? gdk_monitor_get_refresh_rate(monitor) : 0;
    if (mhz >= 20000 && mhz <= 500000)
        self->frame_us = 1000000000ll / mhz;
    bh_guid_pace_init(&self->pace, screen.width, screen.height, self->frame_us);
    if (self->pace.off)
        LOG(self, "BH_GUID_PACE=off: this qube's puts are not paced (measurements only)");
    if (self->xshm != NULL)
        LOG(self, "frames go straight to the X server (MIT-SHM), paced at %.1f Hz",
            1e6 / (double)self->frame_us);
    else
        LOG(self, "frames go through GTK: %s", why);
    LOG(self, "connected to domain %d; screen %ux%u, keymap %s/%s/%s/%s/%s", self->domid, screen.width,
        screen.height, keymap.rules, keymap.model, keymap.layout, keymap.variant, keymap.options);

#ifdef GDK_WINDOWING_X11
    if (GDK_IS_X11_DISPLAY(display)) {
        bh_guid_keymap_watch(display);
        g_signal_connect_object(display, "xevent", G_CALLBACK(on_xevent), self, 0);
    }
#endif
    bh_guid_dispatch_start(self);
    return TRUE;
}

void bh_guid_session_warm_up(BhGuidSession *self)
{
    bh_guid_wins_warm_up(self);
}

gboolean bh_guid_session_is_finished(BhGuidSession *self)
{
    return self->finished;
}

BhGuidExit bh_guid_session_get_exit_status(BhGuidSession *self)
{
    return self->exit_status;
}

void bh_guid_session_get_stats(BhGuidSession *self, BhGuidTileStats *out)
{
    *out = self->retired;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, self->wins);
    while (g_hash_table_iter_next(&it, NULL, &value))
        bh_guid_win_accumulate_stats(out, bh_guest_view_get_stats(((BhGuidWin *)value)->view));
}

static gboolean clip_send(guint32 type, const void *body, gsize len, int fd, gpointer data)
{
    if (fd >= 0)
        return bh_guid_wire_send_fd(data, type, 0, body, len, fd);
    bh_guid_wire_send(data, type, 0, body, len);
    return TRUE;
}

static void bh_guid_session_dispose(GObject *object)
{
    BhGuidSession *self = BH_GUID_SESSION(object);
    if (!self->finished && self->vchan != NULL)
        bh_guid_session_stop(self, BH_GUID_EXIT_DISCONNECTED, "guid is stopping");
    g_hash_table_remove_all(self->wins);
    g_clear_pointer(&self->clip, bh_guid_clipboard_free);
    g_clear_handle_id(&self->pace_timer, g_source_remove);
    g_clear_pointer(&self->xshm, bh_guid_xshm_free);
    bh_guid_wire_close(self);
    G_OBJECT_CLASS(bh_guid_session_parent_class)->dispose(object);
}

static void bh_guid_session_finalize(GObject *object)
{
    BhGuidSession *self = BH_GUID_SESSION(object);
    g_hash_table_unref(self->wins);
    g_byte_array_unref(self->outq);
    g_free(self->rx);
    g_free(self->qube);
    if (self->trace != NULL) {
        bh_guid_trace_write_out(self);
        fclose(self->trace);
    }
    g_clear_pointer(&self->trace_rows, g_array_unref);
    G_OBJECT_CLASS(bh_guid_session_parent_class)->finalize(object);
}

static void bh_guid_session_class_init(BhGuidSessionClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->dispose = bh_guid_session_dispose;
    object_class->finalize = bh_guid_session_finalize;

    /* (BhGuidExit status) */
    signals[SIG_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void bh_guid_session_init(BhGuidSession *self)
{
    self->stop = bh_guid_session_stop;
    self->wins = g_hash_table_new_full(NULL, NULL, NULL, bh_guid_win_free);
    self->outq = g_byte_array_new();
    self->rx = g_malloc(BH_MAX_MSG_BYTES);
    self->rx_need = HDR_LEN;
    self->overhead_w = GUESS_OVERHEAD_W;
    self->overhead_h = GUESS_OVERHEAD_H;
    self->screen_w = 1280;
    self->screen_h = 1024;
    bh_guid_win_caps_update(self);
    bh_guid_budget_init(&self->budget, self->screen_w, self->screen_h);
    bh_guid_pace_init(&self->pace, self->screen_w, self->screen_h, 1000000 / 60);
    g_queue_init(&self->paced);
    bh_gui_windows_init(&self->table);
}

BhGuidSession *bh_guid_session_new(const char *qube, const BhLabel *label, gboolean allow_fullscreen,
                                   const char *bus_address)
{
    BhGuidSession *self = g_object_new(BH_TYPE_GUID_SESSION, NULL);
    self->qube = g_strdup(qube);
    self->label = label;
    self->allow_fullscreen = allow_fullscreen;
    self->xshm_mode = bh_guid_xshm_mode_from_env();
    self->frame_us = 1000000 / 60;
    self->clip = bh_guid_clipboard_new(qube, bus_address, clip_send, self);
    bh_guid_style_label_rgba(label, &self->frame);
    /* A benchmark's timing log (bench/), never on otherwise: one line per
     * painted frame, written out when guid exits. A directory gets one file
     * per guid, QUBE-PID.frames (bulkheadd starts many). */
    const char *trace = g_getenv("BH_GUID_TRACE_FRAMES");
    if (trace != NULL && *trace != '\0') {
        g_autofree char *path = NULL;
        if (g_file_test(trace, G_FILE_TEST_IS_DIR)) {
            g_autofree char *name = g_strdup_printf("%s-%d.frames", qube, (int)getpid());
            path = g_build_filename(trace, name, NULL);
        } else {
            path = g_strdup(trace);
        }
        self->trace = fopen(path, "we");
        if (self->trace == NULL)
            g_warning("guid[%s]: BH_GUID_TRACE_FRAMES: %s: %s", qube, path, g_strerror(errno));
        else
            setvbuf(self->trace, NULL, _IOFBF, 1 << 16);
        self->trace_rows = g_array_new(FALSE, FALSE, sizeof(BhGuidTraceRow));
    }
    return self;
}
