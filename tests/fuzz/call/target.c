/* target.c — libFuzzer entry point for the request line of a call from a
 * qube (core/daemon/bh-call-request.c, docs/rpc.md "Calls from a qube").
 * Built as a fuzzer with -Dfuzz=true and, always, as a replay test over
 * corpus/. Checks what an accepted request must be: a service name
 * (bulkhead/rpc-service.h), a valid qube name that is not dom0 (also after
 * @dispvm:) or @default or @dispvm, the whole input one line.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bh-daemon-calls.h"
#include "bulkhead/qubes.h"
#include "bulkhead/rpc-service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean target_ok(const char *t)
{
    if (strcmp(t, "@default") == 0 || strcmp(t, "@dispvm") == 0)
        return TRUE;
    if (strncmp(t, "@dispvm:", 8) == 0)
        t += 8;
    return bh_qube_name_validate(t, NULL) && strcmp(t, "dom0") != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BH_CALL_MAX_REQUEST) /* the daemon never reads more */
        return 0;
    char *service = NULL, *target = NULL;
    const char *why = NULL;
    gboolean ok = bh_call_request_parse((const char *)data, size, &service, &target, &why);
    if (ok) {
        if (why != NULL || !bh_rpc_service_name_ok(service) || strpbrk(service, "/ ") != NULL ||
            !target_ok(target) || data[size - 1] != '\n' || strlen(service) + 1 + strlen(target) + 1 != size)
            abort();
    } else if (why == NULL || service != NULL || target != NULL) {
        abort();
    }
    g_free(service);
    g_free(target);
    return 0;
}
