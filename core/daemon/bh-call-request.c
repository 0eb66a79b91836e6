/* bh-call-request.c — the request line of a call from a qube (docs/rpc.md,
 * "Calls from a qube"): the only decoder of the caller's bytes in dom0.
 *
 * Owns: the list of services a qube may call and their programs, the
 * request's rules. Must never: keep state, log, or accept a source from the
 * caller (the request has no such field). Pure: a fuzz target (tests/fuzz/call). */
#include "bh-daemon-calls.h"

#include <string.h>

#include "bulkhead/qubes.h"

/* Service name -> the program run in the target, with the source appended. */
static const struct {
    const char *service;
    const char *program;
} bh_call_services[] = {
    {"bulkhead.Filecopy", "bulkhead-file-receiver"},
};

const char *bh_call_service_program(const char *service)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bh_call_services); i++)
        if (g_str_equal(service, bh_call_services[i].service))
            return bh_call_services[i].program;
    return NULL;
}

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
    if (bh_call_service_program(s) == NULL) {
        *why = "no such service";
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
