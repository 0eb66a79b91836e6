/* bh-clipboard.c — the global clipboard; see bh-clipboard.h.
 *
 * The contents — UTF-8 text, or an image as packed RGBA pixels (never a file
 * format: nothing here decodes one) — live in one heap buffer that is
 * zeroed before it is freed;
 * log lines and notifications name the qubes and the size only. Who copies
 * and who pastes is the guid bulkheadd started for that qube, recognised by
 * the pid the bus daemon reports for the caller's connection: a guid cannot
 * speak for another qube, and no other dom0 client ever receives contents.
 */
#define G_LOG_DOMAIN "bh-clipboard"

#include "bh-clipboard.h"

#include <string.h>

#include "bh-daemon-error.h"
#include "bh-dbus-clipboard-types.h"
#include "bh-dbus-clipboard1.h"
#include "bh-dbus-error.h"
#include "bulkhead/gui-protocol.h"
#include "bh-daemon-policy.h"
#include "bulkhead/policy.h"
#include "bulkhead/text.h"

#define BH_CLIPBOARD_SUMMARY       "Global clipboard"
#define BH_CLIPBOARD_PASTE_SERVICE "bulkhead.ClipboardPaste"

struct _BhClipboard {
    BhStore *store;
    BhPolicyStore *policy;
    BhGuidSet *guids; /* NULL: nobody may copy or paste */
    BhDbusClipboard1 *skeleton;

    /* The contents: data == NULL when empty. */
    guint8 *data;
    gsize size;
    char *source;
    char *type;     /* as Copy gave it: BH_CLIPBOARD_TYPE_TEXT or an image's */
    char *kind;     /* what GetState says: "text" or "image WxH" */
    gint64 time_us; /* g_get_real_time() of the copy */
};

static void bh_clipboard_wipe(BhClipboard *clip)
{
    if (clip->data) {
        explicit_bzero(clip->data, clip->size);
        g_free(clip->data);
    }
    clip->data = NULL;
    clip->size = 0;
    g_clear_pointer(&clip->source, g_free);
    g_clear_pointer(&clip->type, g_free);
    g_clear_pointer(&clip->kind, g_free);
    clip->time_us = 0;
}

static GVariant *bh_clipboard_state(BhClipboard *clip)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    if (clip->data) {
        g_variant_builder_add(&b, "{sv}", "source", g_variant_new_string(clip->source));
        g_variant_builder_add(&b, "{sv}", "type", g_variant_new_string(clip->kind));
        g_variant_builder_add(&b, "{sv}", "size", g_variant_new_uint64(clip->size));
        g_variant_builder_add(&b, "{sv}", "time", g_variant_new_int64(clip->time_us));
    }
    return g_variant_builder_end(&b);
}

static void bh_clipboard_changed(BhClipboard *clip)
{
    bh_dbus_clipboard1_emit_changed(clip->skeleton, bh_clipboard_state(clip));
}

static guint bh_clipboard_limit(BhClipboard *clip)
{
    g_autofree char *value = NULL;
    guint64 limit = BH_DEFAULT_CLIPBOARD_BYTES;
    /* The store validates the setting (1..256000); a value it cannot give us
     * falls back to the default, never to the protocol's cap. */
    if (bh_store_get_global(clip->store, "clipboard_max_bytes", &value, NULL, NULL) &&
        !g_ascii_string_to_unsigned(value, 10, 1, BH_MAX_CLIPBOARD_BYTES, &limit, NULL))
        limit = BH_DEFAULT_CLIPBOARD_BYTES;
    return (guint)limit;
}

void bh_clipboard_limit_changed(BhClipboard *clip)
{
    bh_dbus_clipboard1_set_max_bytes(clip->skeleton, bh_clipboard_limit(clip));
}

/* ---- notifications ------------------------------------------------------ */

static void bh_clipboard_notified(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autofree char *body = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (reply == NULL)
        g_message("%s (no notification server: %s): %s", BH_CLIPBOARD_SUMMARY, error->message, body);
}

/* Tells the user through org.freedesktop.Notifications when a server is on
 * the bus, else in the log. body never holds contents, only names and sizes. */
static void bh_clipboard_notify(BhClipboard *clip, const char *body)
{
    GDBusConnection *connection =
        g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(clip->skeleton));
    g_info("%s", body);
    if (connection == NULL)
        return;
    g_dbus_connection_call(connection, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                           "org.freedesktop.Notifications", "Notify",
                           g_variant_new("(susssasa{sv}i)", "Bulkhead", 0u, "edit-paste",
                                         BH_CLIPBOARD_SUMMARY, body, NULL, NULL, -1),
                           G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL,
                           bh_clipboard_notified, g_strdup(body));
}

/* ---- who is calling ----------------------------------------------------- */

/* TRUE when the caller is the guid bulkheadd runs for qube. */
static gboolean bh_clipboard_caller_is_guid(BhClipboard *clip, GDBusMethodInvocation *invocation,
                                            const char *qube, GError **error)
{
    pid_t guid = clip->guids ? bh_guid_set_get_pid(clip->guids, qube) : 0;
    if (guid <= 0) {
        g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_PERMISSION,
                    "'%s' has no window manager (guid) that bulkheadd runs: only it may use the "
                    "global clipboard for that qube",
                    qube);
        return FALSE;
    }
    g_autoptr(GError) local = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        g_dbus_method_invocation_get_connection(invocation), "org.freedesktop.DBus", "/org/freedesktop/DBus",
        "org.freedesktop.DBus", "GetConnectionUnixProcessID",
        g_variant_new("(s)", g_dbus_method_invocation_get_sender(invocation)), G_VARIANT_TYPE("(u)"),
        G_DBUS_CALL_FLAGS_NONE, 2000, NULL, &local);
    guint32 caller = 0;
    if (reply)
        g_variant_get(reply, "(u)", &caller);
    if (reply == NULL || (pid_t)caller != guid) {
        g_set_error(error, BH_DBUS_ERROR, BH_DBUS_ERROR_PERMISSION,
                    "only the window manager (guid) of '%s' may copy or paste for it", qube);
        g_message("[%s] clipboard call from %s refused: it is not that qube's guid (%s)", qube,
                  g_dbus_method_invocation_get_sender(invocation),
                  local ? local->message : "another process");
        return FALSE;
    }
    return TRUE;
}

/* ---- methods ------------------------------------------------------------ */

static char *bh_clipboard_over_limit(const char *qube, guint64 size, guint limit)
{
    return g_strdup_printf("Nothing was copied from %s: its %" G_GUINT64_FORMAT " bytes are over "
                           "the limit of %u bytes (clipboard_max_bytes). Copy it as a file "
                           "(qvm-copy) instead.",
                           qube, size, limit);
}

static gboolean bh_clipboard_handle_copy_refused(BhDbusClipboard1 *skeleton,
                                                 GDBusMethodInvocation *invocation, const char *qube,
                                                 guint64 size, BhClipboard *clip)
{
    g_autoptr(GError) error = NULL;
    if (!bh_clipboard_caller_is_guid(clip, invocation, qube, &error))
        return bh_daemon_return_error(invocation, error);
    g_autofree char *body = bh_clipboard_over_limit(qube, size, bh_clipboard_limit(clip));
    bh_clipboard_notify(clip, body);
    bh_dbus_clipboard1_complete_copy_refused(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_clipboard_handle_copy(BhDbusClipboard1 *skeleton, GDBusMethodInvocation *invocation,
                                         const char *qube, const char *type, GVariant *data,
                                         BhClipboard *clip)
{
    g_autoptr(GError) error = NULL;
    if (!bh_clipboard_caller_is_guid(clip, invocation, qube, &error))
        return bh_daemon_return_error(invocation, error);

    gsize size = 0;
    const guint8 *bytes = g_variant_get_fixed_array(data, &size, 1);
    guint limit = bh_clipboard_limit(clip);
    guint32 width = 0, height = 0;
    g_autofree char *kind = NULL, *body = NULL;
    if (g_str_equal(type, BH_CLIPBOARD_TYPE_OTHER)) {
        body = g_strdup_printf("Nothing was copied from %s: its clipboard holds neither text nor an image, "
                               "the only things that go from one qube to another (copy it as a file, "
                               "qvm-copy).",
                               qube);
        bh_clipboard_notify(clip, body);
        bh_dbus_clipboard1_complete_copy(skeleton, invocation);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (bh_clipboard_image_type_parse(type, &width, &height)) {
        /* Pixels, bounded by the type's 4096 a side: nothing to decode, only
         * the size to match. */
        if (size != (gsize)width * height * BH_BYTES_PER_PIXEL) {
            g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_VALUE,
                        "an image of %ux%u pixels is %zu bytes, not %zu", width, height,
                        (gsize)width * height * BH_BYTES_PER_PIXEL, size);
            g_message("[%s] clipboard copy refused: image size does not match its pixels", qube);
            return bh_daemon_return_error(invocation, error);
        }
        kind = g_strdup_printf("image %ux%u", width, height);
        body = g_strdup_printf("Copied an image of %u×%u pixels from %s. Press Ctrl+Shift+V in another "
                               "qube's window to paste it there (once: the global clipboard is emptied by "
                               "the paste).",
                               width, height, qube);
    } else if (!g_str_equal(type, BH_CLIPBOARD_TYPE_TEXT)) {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_VALUE,
                    "only text (%s) or an image can be copied, not '%s'", BH_CLIPBOARD_TYPE_TEXT, type);
        return bh_daemon_return_error(invocation, error);
    } else {
        if (size > limit) {
            /* guid checks first (CopyRefused); this one is for a limit lowered
             * while the text was on its way. */
            body = bh_clipboard_over_limit(qube, size, limit);
            bh_clipboard_notify(clip, body);
            g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_LIMIT, "%s", body);
            return bh_daemon_return_error(invocation, error);
        }
        /* guid already checked this (core/proto's decoder); checked again because
         * what the daemon hands out must be text whoever called. */
        if (bh_gui_utf8_check(bytes, size) != size || memchr(bytes, 0, size) != NULL) {
            g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_VALUE,
                        "the clipboard of '%s' is not UTF-8 text without NUL bytes", qube);
            g_message("[%s] clipboard copy refused: not UTF-8 text without NUL bytes", qube);
            return bh_daemon_return_error(invocation, error);
        }
        if (size == 0) {
            /* Terminals bind Ctrl+Shift+C to their own copy, which guid takes: say how to
             * copy there instead. */
            body = g_strdup_printf("Nothing was copied: the clipboard of %s is empty. Copy in the "
                                   "app first (in a terminal: select the text, then its Copy "
                                   "menu or Copy key), then press Ctrl+Shift+C.",
                                   qube);
            bh_clipboard_notify(clip, body);
            bh_dbus_clipboard1_complete_copy(skeleton, invocation);
            return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
        kind = g_strdup("text");
        body = g_strdup_printf(
            "Copied %zu bytes of text from %s. Press Ctrl+Shift+V in another qube's window to paste "
            "it there (once: the global clipboard is emptied by the paste).",
            size, qube);
    }

    bh_clipboard_wipe(clip);
    clip->data = g_memdup2(bytes, size);
    clip->size = size;
    clip->source = g_strdup(qube);
    clip->type = g_strdup(type);
    clip->kind = g_steal_pointer(&kind);
    clip->time_us = g_get_real_time();
    bh_clipboard_changed(clip);
    bh_clipboard_notify(clip, body);
    bh_dbus_clipboard1_complete_copy(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The shell's "Copy dom0 clipboard": the caller is dom0 (anyone on this bus
 * is), so the source is "dom0", never a name the caller gives. D-Bus strings
 * are UTF-8 without NUL already; the limit is the user's. */
static gboolean bh_clipboard_handle_copy_dom0(BhDbusClipboard1 *skeleton, GDBusMethodInvocation *invocation,
                                              const char *text, BhClipboard *clip)
{
    g_autoptr(GError) error = NULL;
    gsize size = strlen(text);
    guint limit = bh_clipboard_limit(clip);
    if (size > limit) {
        g_autofree char *body = bh_clipboard_over_limit("dom0", size, limit);
        bh_clipboard_notify(clip, body);
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_LIMIT, "%s", body);
        return bh_daemon_return_error(invocation, error);
    }
    if (size == 0) {
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT,
                    "dom0's clipboard holds no text: nothing was copied");
        return bh_daemon_return_error(invocation, error);
    }
    bh_clipboard_wipe(clip);
    clip->data = g_memdup2(text, size);
    clip->size = size;
    clip->source = g_strdup("dom0");
    clip->type = g_strdup(BH_CLIPBOARD_TYPE_TEXT);
    clip->kind = g_strdup("text");
    clip->time_us = g_get_real_time();
    bh_clipboard_changed(clip);
    g_autofree char *body = g_strdup_printf(
        "Copied %zu bytes of text from dom0. Press Ctrl+Shift+V in a qube's window to paste it there.", size);
    bh_clipboard_notify(clip, body);
    bh_dbus_clipboard1_complete_copy_dom0(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_clipboard_handle_paste(BhDbusClipboard1 *skeleton, GDBusMethodInvocation *invocation,
                                          const char *qube, BhClipboard *clip)
{
    g_autoptr(GError) error = NULL;
    if (!bh_clipboard_caller_is_guid(clip, invocation, qube, &error))
        return bh_daemon_return_error(invocation, error);
    if (clip->data == NULL) {
        g_autofree char *body = g_strdup_printf(
            "Nothing to paste into %s: the global clipboard is empty (Ctrl+Shift+C in a qube's "
            "window copies).",
            qube);
        bh_clipboard_notify(clip, body);
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_ARGUMENT, "%s", body);
        return bh_daemon_return_error(invocation, error);
    }

    /* The source is the name dom0 recorded at the copy, never one a qube gave. */
    BhPolicyRequest req = {
        .service = BH_CLIPBOARD_PASTE_SERVICE, .argument = "", .source = clip->source, .target = qube};
    BhPolicyDecision decision;
    bh_daemon_policy_evaluate(clip->policy, clip->store, &req, &decision);
    /* ask: the Ctrl+Shift+V press in the target's window is the user's answer. */
    gboolean allowed = decision.verdict != BH_POLICY_DENY;
    if (!allowed) {
        g_autofree char *body =
            g_strdup_printf("Pasting from %s to %s is denied by policy.", clip->source, qube);
        g_info("[%s] paste from %s denied: %s (%s:%u)", qube, clip->source, decision.reason,
               decision.file ? decision.file : "no rule", decision.line);
        bh_clipboard_notify(clip, body);
        bh_policy_decision_clear(&decision);
        g_set_error(&error, BH_DBUS_ERROR, BH_DBUS_ERROR_PERMISSION, "%s", body);
        return bh_daemon_return_error(invocation, error);
    }
    bh_policy_decision_clear(&decision);

    GVariant *data = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, clip->data, clip->size, 1);
    g_autofree char *source = g_strdup(clip->source);
    g_autofree char *type = g_strdup(clip->type);
    gsize size = clip->size;
    /* One copy, one paste: the global clipboard is empty once it is handed out. */
    bh_dbus_clipboard1_complete_paste(skeleton, invocation, source, type, data);
    bh_clipboard_wipe(clip);
    bh_clipboard_changed(clip);
    guint32 width = 0, height = 0;
    g_autofree char *body =
        bh_clipboard_image_type_parse(type, &width, &height)
            ? g_strdup_printf("Pasted an image of %u×%u pixels from %s into %s. The global clipboard is "
                              "now empty.",
                              width, height, source, qube)
            : g_strdup_printf("Pasted %zu bytes from %s into %s. The global clipboard is now empty.", size,
                              source, qube);
    bh_clipboard_notify(clip, body);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_clipboard_handle_get_state(BhDbusClipboard1 *skeleton, GDBusMethodInvocation *invocation,
                                              BhClipboard *clip)
{
    bh_dbus_clipboard1_complete_get_state(skeleton, invocation, bh_clipboard_state(clip));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean bh_clipboard_handle_clear(BhDbusClipboard1 *skeleton, GDBusMethodInvocation *invocation,
                                          BhClipboard *clip)
{
    gboolean had = clip->data != NULL;
    bh_clipboard_wipe(clip);
    if (had) {
        g_info("global clipboard cleared");
        bh_clipboard_changed(clip);
    }
    bh_dbus_clipboard1_complete_clear(skeleton, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- life --------------------------------------------------------------- */

BhClipboard *bh_clipboard_new(BhStore *store, BhPolicyStore *policy, BhGuidSet *guids)
{
    BhClipboard *clip = g_new0(BhClipboard, 1);
    clip->store = store;
    clip->policy = policy;
    clip->guids = guids;
    clip->skeleton = bh_dbus_clipboard1_skeleton_new();
    g_signal_connect(clip->skeleton, "handle-copy", G_CALLBACK(bh_clipboard_handle_copy), clip);
    g_signal_connect(clip->skeleton, "handle-copy-refused", G_CALLBACK(bh_clipboard_handle_copy_refused),
                     clip);
    g_signal_connect(clip->skeleton, "handle-copy-dom0", G_CALLBACK(bh_clipboard_handle_copy_dom0), clip);
    g_signal_connect(clip->skeleton, "handle-paste", G_CALLBACK(bh_clipboard_handle_paste), clip);
    g_signal_connect(clip->skeleton, "handle-get-state", G_CALLBACK(bh_clipboard_handle_get_state), clip);
    g_signal_connect(clip->skeleton, "handle-clear", G_CALLBACK(bh_clipboard_handle_clear), clip);
    bh_clipboard_limit_changed(clip);
    return clip;
}

gboolean bh_clipboard_export(BhClipboard *clip, GDBusConnection *connection, const char *path, GError **error)
{
    return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(clip->skeleton), connection, path,
                                            error);
}

void bh_clipboard_unexport(BhClipboard *clip)
{
    if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(clip->skeleton)))
        g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(clip->skeleton));
}

void bh_clipboard_free(BhClipboard *clip)
{
    if (clip == NULL)
        return;
    bh_clipboard_unexport(clip);
    g_signal_handlers_disconnect_by_data(clip->skeleton, clip);
    g_clear_object(&clip->skeleton);
    bh_clipboard_wipe(clip);
    g_free(clip);
}
