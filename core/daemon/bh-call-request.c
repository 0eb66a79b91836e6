/* bh-call-request.c — the request line of a call from a qube (docs/rpc.md,
 * "Calls from a qube"): the only decoder of the caller's bytes in dom0.
 *
 * Owns: the request's rules. Which services exist is the target's business
 * (a file per service in its root, run by bulkhead-service): dom0 checks
 * only that the name is one (bulkhead/rpc-service.h). Must never: keep
 * state, log, or accept a source from the caller (the request has no such
 * field). Pure: a fuzz target (tests/fuzz/call). */
#include "bh-daemon-calls.h"

#include <string.h>

#include "bulkhead/qubes.h"
#include "bulkhead/rpc-service.h"

gboolean bh_call_request_parse(const char *buf, gsize len, char **service, char **target, const char **why)
{
    const char *nl = memchr(buf, '\n', len);
    if (nl == NULL) {
        *why = "the request has no end of line within 128 bytes";
        return FALSE;
    }
    if ((gsize)(nl - buf) + 1 != len) {
        *why = "the caller sent data before dom0 answered";
        return FALSE;
    }
    const char *sp = memchr(buf, ' ', (gsize)(nl - buf));
    if (sp == NULL || sp == buf || sp + 1 == nl) {
        *why = "the request is not 'SERVICE TARGET'";
        return FALSE;
    }
    g_autofree char *s = g_strndup(buf, (gsize)(sp - buf));
    g_autofree char *t = g_strndup(sp + 1, (gsize)(nl - sp - 1));
    if (strlen(s) != (gsize)(sp - buf) || strlen(t) != (gsize)(nl - sp - 1)) {
        *why = "the request holds a NUL byte";
        return FALSE;
    }
    if (!bh_rpc_service_name_ok(s)) {
        *why = "the service is not a name of 1 to 64 letters, digits and . + - (not first . or -)";
        return FALSE;
    }
    /* @default: the user chooses in dom0's dialog; @dispvm[:NAME]: a new
     * disposable. Policy decides whether either is allowed. */
    const char *dvm = g_str_has_prefix(t, "@dispvm:") ? t + strlen("@dispvm:") : NULL;
    gboolean keyword = g_str_equal(t, "@default") || g_str_equal(t, "@dispvm") ||
                       (dvm && bh_qube_name_validate(dvm, NULL) && !g_str_equal(dvm, "dom0"));
    if (!keyword && (!bh_qube_name_validate(t, NULL) || g_str_equal(t, "dom0"))) {
        *why = "the target is not a qube name";
        return FALSE;
    }
    *service = g_steal_pointer(&s);
    *target = g_steal_pointer(&t);
    return TRUE;
}
