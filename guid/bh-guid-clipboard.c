/* bh-guid-clipboard.c — guid's side of the global clipboard (see
 * bh-guid-clipboard.h).
 *
 * The GUI protocol's CLIPBOARD_REQ carries no request id, so "the answer to
 * our request" means: the first CLIPBOARD_DATA after a CLIPBOARD_REQ and
 * before its deadline. Anything else (data nobody asked for, a second
 * answer, one after the deadline) is refused with a log line and never
 * reaches bulkheadd. A late answer can only be taken for a later request of
 * the same qube, so it can never carry one qube's text under another's name. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-clipboard.h"

#include <gio/gio.h>

#include "bh-dbus-clipboard1.h"
#include "bh-dbus-error.h"
#include "bulkhead/gui-protocol.h"

#define TYPE_TEXT "text/plain;charset=utf-8"

#define LOG(clip, fmt, ...) g_message("guid[%s]: clipboard: " fmt, (clip)->qube, ##__VA_ARGS__)

struct _BhGuidClipboard {
    char *qube;
    BhGuidClipboardSend send;
    gpointer send_data;
    GCancellable *cancel;    /* cancelled when freed: callbacks then touch nothing */
    BhDbusClipboard1 *proxy; /* NULL until the first key press */
    guint answer_timer;      /* a CLIPBOARD_REQ awaits its answer while set */
    gboolean timed_out;      /* the last request's deadline passed unanswered */
    gboolean pasting;        /* a Paste call is in flight */
    BhGuidClipboardStats stats;
};

BhGuidClipboard *bh_guid_clipboard_new(const char *qube, BhGuidClipboardSend send, gpointer user_data)
{
    BhGuidClipboard *clip = g_new0(BhGuidClipboard, 1);
    clip->qube = g_strdup(qube);
    clip->send = send;
    clip->send_data = user_data;
    clip->cancel = g_cancellable_new();
    return clip;
}

void bh_guid_clipboard_free(BhGuidClipboard *clip)
{
    if (clip == NULL)
        return;
    g_cancellable_cancel(clip->cancel);
    g_clear_handle_id(&clip->answer_timer, g_source_remove);
    g_clear_object(&clip->proxy);
    g_clear_object(&clip->cancel);
    g_free(clip->qube);
    g_free(clip);
}

const BhGuidClipboardStats *bh_guid_clipboard_get_stats(BhGuidClipboard *clip)
{
    return &clip->stats;
}

/* The daemon, on the session bus bulkheadd shares with the guids it starts.
 * Without DBUS_SESSION_BUS_ADDRESS there is no daemon to ask (a guid started
 * by hand or by a test): GLib would otherwise try to launch a bus. */
static BhDbusClipboard1 *daemon_proxy(BhGuidClipboard *clip)
{
    if (clip->proxy != NULL)
        return clip->proxy;
    if (g_getenv("DBUS_SESSION_BUS_ADDRESS") == NULL) {
        LOG(clip, "no session bus (DBUS_SESSION_BUS_ADDRESS): the global clipboard needs bulkheadd");
        return NULL;
    }
    g_autoptr(GError) error = NULL;
    clip->proxy = bh_dbus_clipboard1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, BH_DBUS_NAME, BH_DBUS_PATH, NULL, &error);
    if (clip->proxy == NULL)
        LOG(clip, "cannot reach bulkheadd: %s", error->message);
    return clip->proxy;
}

static void log_call_error(BhGuidClipboard *clip, const char *what, GError *error)
{
    g_dbus_error_strip_remote_error(error);
    LOG(clip, "%s: %s", what, error->message);
}

/* ---- Ctrl+Shift+C -------------------------------------------------------------- */

static gboolean on_answer_timeout(gpointer data)
{
    BhGuidClipboard *clip = data;
    clip->answer_timer = 0;
    clip->timed_out = TRUE;
    LOG(clip, "the agent did not answer the clipboard request within %d ms: nothing copied",
        BH_GUID_CLIPBOARD_ANSWER_MS);
    return G_SOURCE_REMOVE;
}

void bh_guid_clipboard_copy(BhGuidClipboard *clip)
{
    if (clip->answer_timer != 0) {
        LOG(clip, "Ctrl+Shift+C: a request is already waiting for the agent");
        return;
    }
    clip->stats.requests++;
    clip->timed_out = FALSE;
    clip->answer_timer = g_timeout_add(BH_GUID_CLIPBOARD_ANSWER_MS, on_answer_timeout, clip);
    clip->send(BH_GUI_CLIPBOARD_REQ, NULL, 0, clip->send_data);
}

static void on_copied(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (bh_dbus_clipboard1_call_copy_finish(BH_DBUS_CLIPBOARD1(source), result, &error))
        return; /* bulkheadd tells the user */
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    log_call_error(data, "bulkheadd refused the copy", error);
}

static void on_refused(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (bh_dbus_clipboard1_call_copy_refused_finish(BH_DBUS_CLIPBOARD1(source), result, &error) ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    log_call_error(data, "bulkheadd could not tell the user", error);
}

typedef struct {
    BhGuidClipboard *clip; /* valid unless the call was cancelled */
    GBytes *text;
} Taken;

static void taken_free(Taken *t)
{
    g_bytes_unref(t->text);
    g_free(t);
}

/* The user's limit (MaxBytes) asked of bulkheadd for each copy, so a
 * change of clipboard_max_bytes counts at once: within it the text goes to
 * Copy; over it guid keeps it and only its size goes (CopyRefused, which
 * tells the user). */
static void on_limit(GObject *source, GAsyncResult *result, gpointer data)
{
    Taken *t = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);
    if (reply == NULL) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            log_call_error(t->clip, "nothing copied: bulkheadd did not say the limit", error);
        taken_free(t);
        return;
    }
    BhGuidClipboard *clip = t->clip;
    g_autoptr(GVariant) value = NULL;
    g_variant_get(reply, "(v)", &value);
    gsize len = g_bytes_get_size(t->text);
    guint32 limit = g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32(value) : 0;
    if (len > limit) {
        LOG(clip, "clipboard data (%zu bytes) refused: over the limit of %u bytes", len, limit);
        bh_dbus_clipboard1_call_copy_refused(clip->proxy, clip->qube, len, clip->cancel, on_refused, clip);
    } else {
        bh_dbus_clipboard1_call_copy(clip->proxy, clip->qube, TYPE_TEXT,
                                     g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, t->text, TRUE),
                                     clip->cancel, on_copied, clip);
    }
    taken_free(t);
}

gboolean bh_guid_clipboard_agent_data(BhGuidClipboard *clip, const guint8 *data, gsize len)
{
    if (clip->answer_timer == 0) {
        /* Not one byte goes further: the user did not ask for this. */
        if (clip->timed_out) {
            clip->stats.stale++;
            clip->timed_out = FALSE;
            LOG(clip, "clipboard data (%zu bytes) refused: stale, its request timed out", len);
        } else {
            clip->stats.unrequested++;
            LOG(clip, "clipboard data (%zu bytes) refused: guid did not ask for it", len);
        }
        return FALSE;
    }
    g_clear_handle_id(&clip->answer_timer, g_source_remove);
    clip->stats.taken++;
    LOG(clip, "took %zu bytes from the agent", len);
    /* core/proto's decoder took only UTF-8 without NUL up to the protocol's
     * cap; the user's limit is checked once bulkheadd said it (on_limit). */
    g_assert(len <= BH_MAX_CLIPBOARD_BYTES);
    BhDbusClipboard1 *proxy = daemon_proxy(clip);
    if (proxy == NULL)
        return TRUE;
    Taken *t = g_new0(Taken, 1);
    t->clip = clip;
    t->text = g_bytes_new(data, len);
    g_dbus_proxy_call(G_DBUS_PROXY(proxy), "org.freedesktop.DBus.Properties.Get",
                      g_variant_new("(ss)", "org.bulkhead.Clipboard1", "MaxBytes"), G_DBUS_CALL_FLAGS_NONE,
                      5000, clip->cancel, on_limit, t);
    return TRUE;
}

/* ---- Ctrl+Shift+V -------------------------------------------------------------- */

static void on_pasted(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *from = NULL, *type = NULL;
    g_autoptr(GVariant) contents = NULL;
    if (!bh_dbus_clipboard1_call_paste_finish(BH_DBUS_CLIPBOARD1(source), &from, &type, &contents, result,
                                              &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            ((BhGuidClipboard *)data)->pasting = FALSE;
            log_call_error(data, "nothing pasted", error);
        }
        return;
    }
    BhGuidClipboard *clip = data;
    clip->pasting = FALSE;
    gsize len = 0;
    const guint8 *bytes = g_variant_get_fixed_array(contents, &len, 1);
    /* bulkheadd checked it as text within the limit; guid still never
     * frames more than the protocol takes. */
    if (!g_str_equal(type, TYPE_TEXT) || len > BH_MAX_CLIPBOARD_BYTES) {
        LOG(clip, "paste from %s refused: %s of %zu bytes is not text the protocol carries", from, type, len);
        return;
    }
    clip->send(BH_GUI_CLIPBOARD_DATA, bytes, len, clip->send_data);
    LOG(clip, "pasted %zu bytes from %s", len, from);
}

void bh_guid_clipboard_paste(BhGuidClipboard *clip)
{
    if (clip->pasting)
        return;
    BhDbusClipboard1 *proxy = daemon_proxy(clip);
    if (proxy == NULL)
        return;
    clip->pasting = TRUE;
    bh_dbus_clipboard1_call_paste(proxy, clip->qube, clip->cancel, on_pasted, clip);
}
