/* bh-dbus-error.h — the named D-Bus errors of org.bulkhead.Admin1.
 *
 * Owns the mapping between the BH_DBUS_ERROR GError domain and the
 * org.bulkhead.Error.* names, so a client's GError carries the same code the
 * daemon raised. It must never know the model: the daemon translates model
 * errors into these codes; clients link this without the store.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BH_DBUS_ERROR (bh_dbus_error_quark())

/* Keep in step with the name table in bh-dbus-error.c and docs/dbus.md.
 * Every model error (BH_QUBES_ERROR) has a code here of the same name. */
typedef enum {
    BH_DBUS_ERROR_FAILED,               /* org.bulkhead.Error.Failed */
    BH_DBUS_ERROR_NO_SUCH_QUBE,         /* .NoSuchQube */
    BH_DBUS_ERROR_NO_SUCH_PROPERTY,     /* .NoSuchProperty */
    BH_DBUS_ERROR_INVALID_NAME,         /* .InvalidName */
    BH_DBUS_ERROR_NAME_IN_USE,          /* .NameInUse */
    BH_DBUS_ERROR_INVALID_VALUE,        /* .InvalidValue */
    BH_DBUS_ERROR_IN_USE,               /* .InUse */
    BH_DBUS_ERROR_NOT_A_TEMPLATE,       /* .NotATemplate */
    BH_DBUS_ERROR_NOT_NETWORK_PROVIDER, /* .NotNetworkProvider */
    BH_DBUS_ERROR_NETWORK_LOOP,         /* .NetworkLoop */
    BH_DBUS_ERROR_PERMISSION,           /* .Permission */
    BH_DBUS_ERROR_STORE,                /* .Store */
    BH_DBUS_ERROR_READ_ONLY,            /* .ReadOnly */
    BH_DBUS_ERROR_NOT_DISPVM_TEMPLATE,  /* .NotDispvmTemplate */
    BH_DBUS_ERROR_LIMIT,                /* .Limit */
    BH_DBUS_ERROR_BUSY,                 /* .Busy */
    BH_DBUS_ERROR_TOO_NEW,              /* .TooNew */
    BH_DBUS_ERROR_NO_BACKEND,           /* .NoBackend */
    BH_DBUS_ERROR_NOT_HALTED,           /* .NotHalted */
    BH_DBUS_ERROR_NOT_RUNNING,          /* .NotRunning */
    BH_DBUS_ERROR_NOT_PAUSED,           /* .NotPaused */
    BH_DBUS_ERROR_BACKEND,              /* .Backend */
    BH_DBUS_ERROR_TIMEOUT,              /* .Timeout */
    BH_DBUS_ERROR_INVALID_ARGUMENT,     /* .InvalidArgument */
} BhDbusError;

#define BH_DBUS_ERROR_N_CODES (BH_DBUS_ERROR_INVALID_ARGUMENT + 1)

GQuark bh_dbus_error_quark(void);

/* The D-Bus error name of a code, e.g. "org.bulkhead.Error.NoSuchQube";
 * NULL for a code out of range. */
const char *bh_dbus_error_name(int code);

/* The code whose name ends in ".<name>" ("NoSuchQube"), or -1. */
int bh_dbus_error_from_short_name(const char *name);

/* The well-known name, object path and interface of the service. */
#define BH_DBUS_NAME      "org.bulkhead.Admin1"
#define BH_DBUS_PATH      "/org/bulkhead/Admin1"
#define BH_DBUS_INTERFACE "org.bulkhead.Admin1"

G_END_DECLS
