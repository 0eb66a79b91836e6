/* bh-guid-clipboard.c — guid's side of the global clipboard (see
 * bh-guid-clipboard.h).
 *
 * Each CLIPBOARD_REQ carries a new request id (1, 2, …) and guid takes only
 * the first answer naming the request it waits for, before its deadline.
 * Anything else (an answer naming an id guid never sent, a second answer,
 * one after the deadline, one for an older request) is refused with a log
 * line naming the qube and never reaches bulkheadd.
 *
 * Images come as pixels in a sealed memfd (CLIPBOARD_IMAGE): guid maps it
 * read-only only if it is exactly stride * height bytes and sealed (an
 * image that lies about its size drops the agent, as a lying BUFFER does),
 * copies the rows out under the SIGBUS guard and hands bulkheadd packed
 * rows. A paste of an image goes to the agent the same way, in a memfd guid
 * fills and seals. No file format is ever decoded in dom0. */
#define G_LOG_DOMAIN "bh-guid"

#include "bh-guid-clipboard.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "bh-dbus-clipboard-types.h"
#include "bh-dbus-clipboard1.h"
#include "bh-dbus-error.h"
#include "bulkhead/gui-protocol.h"
#include "bulkhead/winbuf.h"

#define LOG(clip, fmt, ...) g_message("guid[%s]: clipboard: " fmt, (clip)->qube, ##__VA_ARGS__)

struct _BhGuidClipboard {
    char *qube;
    char *bus_address; /* bulkheadd's bus; NULL: none */
    BhGuidClipboardSend send;
    gpointer send_data;
    GCancellable *cancel;    /* cancelled when freed: callbacks then touch nothing */
    BhDbusClipboard1 *proxy; /* NULL until the first key press */
    guint answer_timer;      /* request `pending` awaits its answer while set */
    guint32 pending;         /* the request waited for; 0: none */
    guint32 last_request;    /* the newest id sent; ids start at 1 */
    gboolean pasting;        /* a Paste call is in flight */
    BhGuidClipboardStats stats;
};

BhGuidClipboard *bh_guid_clipboard_new(const char *qube, const char *bus_address, BhGuidClipboardSend send,
                                       gpointer user_data)
{
    BhGuidClipboard *clip = g_new0(BhGuidClipboard, 1);
    clip->qube = g_strdup(qube);
    clip->bus_address = g_strdup(bus_address);
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
    g_free(clip->bus_address);
    g_free(clip->qube);
    g_free(clip);
}

const BhGuidClipboardStats *bh_guid_clipboard_get_stats(BhGuidClipboard *clip)
{
    return &clip->stats;
}

/* The daemon, on the session bus bulkheadd shares with the guids it starts.
 * guid's environment no longer names that bus (bh_guid_main hides it from
 * GTK and, GTK's threads running, never sets it back), so the address comes
 * from guid's start and this is a connection of guid's own, not GLib's
 * shared one. Without an address there is no daemon to ask (a guid started
 * by hand or by a test). A connection that closed (bulkheadd's bus went
 * away) is replaced at the next use. */
static BhDbusClipboard1 *daemon_proxy(BhGuidClipboard *clip)
{
    if (clip->proxy != NULL &&
        !g_dbus_connection_is_closed(g_dbus_proxy_get_connection(G_DBUS_PROXY(clip->proxy))))
        return clip->proxy;
    g_clear_object(&clip->proxy);
    if (clip->bus_address == NULL) {
        LOG(clip, "no session bus (DBUS_SESSION_BUS_ADDRESS): the global clipboard needs bulkheadd");
        return NULL;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) bus = g_dbus_connection_new_for_address_sync(
        clip->bus_address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
        clip->cancel, &error);
    if (bus != NULL)
        clip->proxy = bh_dbus_clipboard1_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                        BH_DBUS_NAME, BH_DBUS_PATH, clip->cancel, &error);
    if (clip->proxy == NULL) {
        LOG(clip, "cannot reach bulkheadd: %s", error->message);
        return NULL;
    }
    /* What GTK's threads may read stays as it was at gtk_init: the test of
     * the clipboard (sandbox-clipboard) checks this line. */
    LOG(clip, "connected to bulkheadd's bus (guid's environment: DBUS_SESSION_BUS_ADDRESS=%s)",
        g_getenv("DBUS_SESSION_BUS_ADDRESS") ?: "(unset)");
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
    LOG(clip, "the agent did not answer clipboard request %u within %d ms: nothing copied", clip->pending,
        BH_GUID_CLIPBOARD_ANSWER_MS);
    clip->pending = 0;
    return G_SOURCE_REMOVE;
}

void bh_guid_clipboard_copy(BhGuidClipboard *clip)
{
    if (clip->answer_timer != 0) {
        LOG(clip, "Ctrl+Shift+C: a request is already waiting for the agent");
        return;
    }
    clip->stats.requests++;
    if (++clip->last_request == 0)
        clip->last_request = 1; /* 0 names no request */
    clip->pending = clip->last_request;
    clip->answer_timer = g_timeout_add(BH_GUID_CLIPBOARD_ANSWER_MS, on_answer_timeout, clip);
    struct bh_gui_clipboard_req req = {clip->pending};
    clip->send(BH_GUI_CLIPBOARD_REQ, &req, sizeof req, -1, clip->send_data);
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

static void copy_to_daemon(BhGuidClipboard *clip, const char *type, GBytes *data)
{
    BhDbusClipboard1 *proxy = daemon_proxy(clip);
    if (proxy == NULL)
        return;
    bh_dbus_clipboard1_call_copy(proxy, clip->qube, type,
                                 g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, data, TRUE),
                                 clip->cancel, on_copied, clip);
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
        copy_to_daemon(clip, BH_CLIPBOARD_TYPE_TEXT, t->text);
    }
    taken_free(t);
}

/* TRUE when `request` is the one guid waits for (it is then no longer
 * waited for); else the refusal is counted and logged with the qube's name. */
static gboolean take_answer(BhGuidClipboard *clip, guint32 request, const char *what)
{
    if (clip->answer_timer != 0 && request == clip->pending) {
        g_clear_handle_id(&clip->answer_timer, g_source_remove);
        clip->pending = 0;
        clip->stats.taken++;
        return TRUE;
    }
    /* Not one byte goes further: the user did not ask for this. An agent
     * that keeps sending is counted, but logged a bounded number of times. */
    gboolean unrequested = request == 0 || request > clip->last_request;
    if (unrequested)
        clip->stats.unrequested++;
    else
        clip->stats.stale++;
    guint refused = clip->stats.unrequested + clip->stats.stale;
    if (refused > BH_GUID_CLIPBOARD_MAX_REFUSAL_LOGS) {
        if (refused == BH_GUID_CLIPBOARD_MAX_REFUSAL_LOGS + 1)
            LOG(clip, "more refused clipboard answers: no longer logged");
    } else if (unrequested) {
        LOG(clip, "%s refused: guid never sent request %u", what, request);
    } else if (clip->pending != 0) {
        LOG(clip, "%s refused: stale, request %u is answered or timed out (guid waits for %u)", what, request,
            clip->pending);
    } else {
        LOG(clip, "%s refused: stale, request %u is answered or timed out", what, request);
    }
    return FALSE;
}

gboolean bh_guid_clipboard_agent_data(BhGuidClipboard *clip, guint32 request, guint32 flags,
                                      const guint8 *data, gsize len)
{
    g_autofree char *what = g_strdup_printf("clipboard data (%zu bytes)", len);
    if (!take_answer(clip, request, what))
        return FALSE;
    if (flags & BH_GUI_CLIPBOARD_OTHER_TYPE) {
        /* The decoder let no text come with it; bulkheadd tells the user. */
        LOG(clip, "the qube's clipboard holds neither text nor an image: nothing copied");
        g_autoptr(GBytes) none = g_bytes_new(NULL, 0);
        copy_to_daemon(clip, BH_CLIPBOARD_TYPE_OTHER, none);
        return TRUE;
    }
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

typedef struct {
    guint8 *dst;
    const guint8 *src;
    gsize row, stride;
    guint32 height;
} RowCopy;

static void copy_rows(void *data)
{
    RowCopy *c = data;
    for (guint32 y = 0; y < c->height; y++)
        memcpy(c->dst + (gsize)y * c->row, c->src + (gsize)y * c->stride, c->row);
}

gboolean bh_guid_clipboard_agent_image(BhGuidClipboard *clip, const struct bh_gui_clipboard_image *img,
                                       int fd, char **reason)
{
    struct bh_winbuf buf = {0};
    const char *why = NULL;
    buf.fd = -1;

    g_autofree char *what = g_strdup_printf("clipboard image %ux%u", img->width, img->height);
    if (!take_answer(clip, img->request, what)) {
        if (fd >= 0)
            close(fd);
        return TRUE;
    }
    if (fd < 0) {
        *reason = g_strdup_printf("%s came without its memfd (images need the socket transport)", what);
        return FALSE;
    }
    /* The decoder bounded the numbers (4096 a side, stride); the memfd must
     * be sealed and hold exactly what they say, or the agent lied. */
    if (bh_winbuf_import_memfd(&buf, fd, (gsize)img->stride * img->height, &why) < 0) {
        *reason = g_strdup_printf("%s (stride %u) refused: %s", what, img->stride, why ? why : "?");
        return FALSE;
    }
    gsize row = (gsize)img->width * BH_BYTES_PER_PIXEL;
    g_autofree guint8 *packed = g_malloc(row * img->height);
    RowCopy c = {packed, buf.map, row, img->stride, img->height};
    int rc = bh_winbuf_guard_run(buf.map, buf.size, copy_rows, &c);
    bh_winbuf_release(&buf);
    if (rc < 0) {
        *reason = g_strdup_printf("%s: its memory faulted (SIGBUS) while guid read it", what);
        return FALSE;
    }
    LOG(clip, "took a %ux%u image from the agent", img->width, img->height);
    g_autofree char *type = bh_clipboard_image_type(img->width, img->height);
    g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&packed), row * img->height);
    copy_to_daemon(clip, type, bytes);
    return TRUE;
}

/* ---- Ctrl+Shift+V -------------------------------------------------------------- */

/* The pixels go in a memfd guid fills and seals (bh_winbuf_export_memfd),
 * rows packed; the agent encodes PNG inside its qube. */
static void paste_image(BhGuidClipboard *clip, const char *from, guint32 width, guint32 height,
                        const guint8 *pixels)
{
    struct bh_winbuf buf = {0};
    gsize size = (gsize)width * height * BH_BYTES_PER_PIXEL;
    buf.fd = -1;
    if (bh_winbuf_export_memfd(&buf, size) < 0) {
        LOG(clip, "paste from %s failed: no memfd for a %ux%u image: %s", from, width, height,
            g_strerror(errno));
        return;
    }
    memcpy(buf.map, pixels, size);
    struct bh_gui_clipboard_image img = {0, width, height, width * BH_BYTES_PER_PIXEL,
                                         BH_GUI_CLIPBOARD_IMAGE_FORMAT};
    if (clip->send(BH_GUI_CLIPBOARD_IMAGE, &img, sizeof img, buf.fd, clip->send_data))
        LOG(clip, "pasted a %ux%u image from %s", width, height, from);
    else
        LOG(clip, "paste of a %ux%u image from %s failed: the agent is not reading", width, height, from);
    bh_winbuf_release(&buf);
}

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
    guint32 width = 0, height = 0;
    if (g_str_equal(type, BH_CLIPBOARD_TYPE_TEXT) && len <= BH_MAX_CLIPBOARD_BYTES) {
        /* bulkheadd checked it as text within the limit; guid still never
         * frames more than the protocol takes. */
        g_autofree guint8 *body = g_malloc(sizeof(struct bh_gui_clipboard_data) + len);
        struct bh_gui_clipboard_data head = {0, 0};
        memcpy(body, &head, sizeof head);
        if (len > 0)
            memcpy(body + sizeof head, bytes, len);
        clip->send(BH_GUI_CLIPBOARD_DATA, body, sizeof head + len, -1, clip->send_data);
        LOG(clip, "pasted %zu bytes from %s", len, from);
    } else if (bh_clipboard_image_type_parse(type, &width, &height) &&
               len == (gsize)width * height * BH_BYTES_PER_PIXEL) {
        paste_image(clip, from, width, height, bytes);
    } else {
        LOG(clip, "paste from %s refused: %s of %zu bytes is not text or an image the protocol carries", from,
            type, len);
    }
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
