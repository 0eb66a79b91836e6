/* bh-daemon-calls.h — calls a qube starts (qvm-copy-to-vm): one listening
 * socket per running qube, a request read from it, policy asked with the
 * source dom0 knows, the service's program run in the target through the
 * agent set, and the two streams spliced (docs/rpc.md, "Calls from a qube").
 *
 * Owns: the call sockets (created when a qube runs, removed when it stops),
 * the request decoder, the splice between a caller and a service.
 * Must never: take the source from the caller (it is the qube whose socket
 * the call came in on), run anything in the target but bulkhead-service
 * with a checked name (the target finds the program, docs/rpc.md), or
 * block the daemon's loop on a caller or a target.
 */
#pragma once

#include <gio/gio.h>

#include "bh-agent-set.h"
#include "bh-policy-store.h"
#include "bulkhead/store.h"

G_BEGIN_DECLS

typedef struct _BhCalls BhCalls;

/* Everything borrowed; the set is freed before them. */
BhCalls *bh_calls_new(BhBackend *backend, BhAgentSet *agents, BhPolicyStore *policy, BhStore *store);
void bh_calls_free(BhCalls *calls);
/* Running opens the qube's call socket, any other state closes it. */
void bh_calls_power_changed(BhCalls *calls, const char *qube, BhPowerState state);

/* The request line, decoded: "SERVICE TARGET\n" in at most
 * BH_CALL_MAX_REQUEST bytes. FALSE with *why (static words) when refused. */
#define BH_CALL_MAX_REQUEST 128
gboolean bh_call_request_parse(const char *buf, gsize len, char **service, char **target, const char **why);

G_END_DECLS
