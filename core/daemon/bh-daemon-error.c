/* bh-daemon-error.c — see bh-daemon-error.h. */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-error.h"

#include "backend.h"
#include "bh-dbus-error.h"
#include "bulkhead/qubes.h"

int bh_daemon_error_to_dbus(const GError *error)
{
    if (error->domain == BH_DBUS_ERROR)
        return error->code;
    if (error->domain == BH_QUBES_ERROR) {
        /* The model names its codes as the D-Bus API does; matching by name
         * keeps the two enums free to grow independently. */
        int code = bh_dbus_error_from_short_name(bh_qubes_error_code_name(error->code));
        return code >= 0 ? code : BH_DBUS_ERROR_FAILED;
    }
    if (error->domain == BH_BACKEND_ERROR) {
        switch ((BhBackendError)error->code) {
        case BH_BACKEND_ERROR_UNAVAILABLE:
            return BH_DBUS_ERROR_NO_BACKEND;
        case BH_BACKEND_ERROR_TIMEOUT:
            return BH_DBUS_ERROR_TIMEOUT;
        case BH_BACKEND_ERROR_FAILED:
        case BH_BACKEND_ERROR_NOT_SUPPORTED:
        case BH_BACKEND_ERROR_WRONG_STATE:
            return BH_DBUS_ERROR_BACKEND;
        }
        return BH_DBUS_ERROR_BACKEND;
    }
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return BH_DBUS_ERROR_TIMEOUT;
    return BH_DBUS_ERROR_FAILED;
}

gboolean bh_daemon_return_error(GDBusMethodInvocation *invocation, const GError *error)
{
    int code = bh_daemon_error_to_dbus(error);
    g_info("%s: %s (%s)", g_dbus_method_invocation_get_method_name(invocation), error->message,
           bh_dbus_error_name(code));
    g_dbus_method_invocation_return_error_literal(invocation, BH_DBUS_ERROR, code, error->message);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}
