/* bh-dbus-error.c — registers org.bulkhead.Error.* with GDBus.
 *
 * Owns the one table of error names. Registration happens once per process
 * inside the quark function (GLib's g_once idiom), so both ends see remote
 * errors decoded into BH_DBUS_ERROR without either calling an init function.
 */
#include "bh-dbus-error.h"

#include <string.h>

static const GDBusErrorEntry bh_dbus_error_entries[] = {
    {BH_DBUS_ERROR_FAILED, "org.bulkhead.Error.Failed"},
    {BH_DBUS_ERROR_NO_SUCH_QUBE, "org.bulkhead.Error.NoSuchQube"},
    {BH_DBUS_ERROR_NO_SUCH_PROPERTY, "org.bulkhead.Error.NoSuchProperty"},
    {BH_DBUS_ERROR_INVALID_NAME, "org.bulkhead.Error.InvalidName"},
    {BH_DBUS_ERROR_NAME_IN_USE, "org.bulkhead.Error.NameInUse"},
    {BH_DBUS_ERROR_INVALID_VALUE, "org.bulkhead.Error.InvalidValue"},
    {BH_DBUS_ERROR_IN_USE, "org.bulkhead.Error.InUse"},
    {BH_DBUS_ERROR_NOT_A_TEMPLATE, "org.bulkhead.Error.NotATemplate"},
    {BH_DBUS_ERROR_NOT_NETWORK_PROVIDER, "org.bulkhead.Error.NotNetworkProvider"},
    {BH_DBUS_ERROR_NETWORK_LOOP, "org.bulkhead.Error.NetworkLoop"},
    {BH_DBUS_ERROR_PERMISSION, "org.bulkhead.Error.Permission"},
    {BH_DBUS_ERROR_STORE, "org.bulkhead.Error.Store"},
    {BH_DBUS_ERROR_READ_ONLY, "org.bulkhead.Error.ReadOnly"},
    {BH_DBUS_ERROR_NOT_DISPVM_TEMPLATE, "org.bulkhead.Error.NotDispvmTemplate"},
    {BH_DBUS_ERROR_LIMIT, "org.bulkhead.Error.Limit"},
    {BH_DBUS_ERROR_BUSY, "org.bulkhead.Error.Busy"},
    {BH_DBUS_ERROR_TOO_NEW, "org.bulkhead.Error.TooNew"},
    {BH_DBUS_ERROR_NO_BACKEND, "org.bulkhead.Error.NoBackend"},
    {BH_DBUS_ERROR_NOT_HALTED, "org.bulkhead.Error.NotHalted"},
    {BH_DBUS_ERROR_NOT_RUNNING, "org.bulkhead.Error.NotRunning"},
    {BH_DBUS_ERROR_NOT_PAUSED, "org.bulkhead.Error.NotPaused"},
    {BH_DBUS_ERROR_BACKEND, "org.bulkhead.Error.Backend"},
    {BH_DBUS_ERROR_TIMEOUT, "org.bulkhead.Error.Timeout"},
    {BH_DBUS_ERROR_INVALID_ARGUMENT, "org.bulkhead.Error.InvalidArgument"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(bh_dbus_error_entries) == BH_DBUS_ERROR_N_CODES);

GQuark bh_dbus_error_quark(void)
{
    static gsize quark = 0;

    g_dbus_error_register_error_domain("bh-dbus-error-quark", &quark, bh_dbus_error_entries,
                                       G_N_ELEMENTS(bh_dbus_error_entries));
    return (GQuark)quark;
}

int bh_dbus_error_from_short_name(const char *name)
{
    for (gsize i = 0; name && i < G_N_ELEMENTS(bh_dbus_error_entries); i++) {
        const char *full = bh_dbus_error_entries[i].dbus_error_name;
        if (g_str_equal(full + strlen("org.bulkhead.Error."), name))
            return bh_dbus_error_entries[i].error_code;
    }
    return -1;
}

const char *bh_dbus_error_name(int code)
{
    if (code < 0 || code >= (int)G_N_ELEMENTS(bh_dbus_error_entries))
        return NULL;
    return bh_dbus_error_entries[code].dbus_error_name;
}
