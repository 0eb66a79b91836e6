/* bh-daemon-error.h — how errors leave the daemon.
 *
 * Owns the translation of model (BH_QUBES_ERROR) and backend
 * (BH_BACKEND_ERROR) errors into the named D-Bus errors of BH_DBUS_ERROR,
 * keeping the original message. It must never rewrite a model message: the
 * user sees the model's words.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The BH_DBUS_ERROR code for any GError; BH_DBUS_ERROR_FAILED when unknown. */
int bh_daemon_error_to_dbus(const GError *error);

/* Replies to the invocation with the mapped error; returns
 * G_DBUS_METHOD_INVOCATION_HANDLED for use as a handler's return value. */
gboolean bh_daemon_return_error(GDBusMethodInvocation *invocation, const GError *error);

G_END_DECLS
