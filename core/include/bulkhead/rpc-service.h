/* rpc-service.h — what a service of a call from a qube is (docs/rpc.md,
 * "Services in the target"): a name, and a program of that name in a fixed
 * directory of the target's root. Shared by bulkheadd (which checks only
 * the name's syntax before asking policy) and bulkhead-service (which looks
 * the name up in the target and runs it).
 *
 * Must never: depend on anything but libc (the guest side has no GLib), or
 * accept a name that can leave a directory, hide in it, or look like an
 * option. */
#ifndef BULKHEAD_RPC_SERVICE_H
#define BULKHEAD_RPC_SERVICE_H

#include <stdbool.h>
#include <string.h>

/* Where a target keeps its services, searched in this order; the first
 * directory holding the name decides (a broken entry there is refused, not
 * skipped). All three are in the root the qube's user cannot write
 * (docs/rpc.md says why for each backend). The third, the installed one,
 * comes from config.h (BH_RPC_SERVICES_DIR), for a guest with Bulkhead
 * installed (a Xen domU). */
#define BH_RPC_SERVICES_ETC "/etc/bulkhead/rpc-services"
#define BH_RPC_SERVICES_RUN "/run/bulkhead/rpc-services"

/* At most this many bytes; the request line (128 bytes) holds it and a
 * qube name. */
#define BH_RPC_SERVICE_MAX_NAME 64

/* Exit statuses bulkhead-service gives when it runs nothing, as a shell
 * does: 127 the target has no such service, 126 the service's file is
 * there but may not run (a link, not a regular file, not executable). */
#define BH_RPC_SERVICE_NOT_FOUND 127
#define BH_RPC_SERVICE_REFUSED   126

/* A service name: 1..64 of [A-Za-z0-9._+-], not starting with '.' or '-'
 * (so no "..", no hidden file, no option). */
static inline bool bh_rpc_service_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > BH_RPC_SERVICE_MAX_NAME || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '+' || c == '-'))
            return false;
    }
    return true;
}

#endif /* BULKHEAD_RPC_SERVICE_H */
