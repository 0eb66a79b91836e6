/* bh-daemon-calls.h — calls a qube starts (qvm-copy-to-vm): one listening
 * socket per running qube, a request read from it, policy asked with the
 * source dom0 knows, the user asked with bulkhead-ask when policy says so,
 * the target started (or a disposable made) when policy allows, the
 * service's program run in the target through the agent set, and the two
 * streams spliced (docs/rpc.md, "Calls from a qube").
 *
 * Owns: the call sockets (created when a qube runs, removed when it stops),
 * the request decoder, the dialogs it starts (at most one per source), the
 * disposables made for calls (killed when the call ends), the splice
 * between a caller and a service, the notifications about calls.
 * Must never: take the source from the caller (it is the qube whose socket
 * the call came in on), run anything in the target but bulkhead-service
 * with a checked name (the target finds the program, docs/rpc.md), take a
 * target from the dialog that it did not offer and policy does not allow
 * now, or block the daemon's loop on a caller, a target or a dialog.
 */
#pragma once

#include <gio/gio.h>

#include "bh-agent-set.h"
#include "bh-policy-store.h"
#include "bulkhead/store.h"

G_BEGIN_DECLS

typedef struct _BhCalls BhCalls;

/* What a call needs of the daemon, which owns power and the model: the
 * calls never change a qube's state themselves. owner is passed back. */
typedef struct {
    gpointer owner;
    /* Completes when the qube runs (its netvm first); joins a start under way. */
    void (*start_async)(gpointer owner, const char *qube, GAsyncReadyCallback callback, gpointer data);
    gboolean (*start_finish)(gpointer owner, GAsyncResult *result, GError **error);
    gboolean (*running)(gpointer owner, const char *qube);
    /* A new disposable of dvm_template, in the model, not started. */
    char *(*create_disposable)(gpointer owner, const char *dvm_template, GError **error);
    /* Kills a disposable made for a call (removed once it is down). */
    void (*kill_disposable)(gpointer owner, const char *qube);
    /* The bus org.freedesktop.Notifications is asked on; NULL: none. */
    GDBusConnection *(*bus)(gpointer owner);
} BhCallsHooks;

/* Everything borrowed; the set is freed before them. */
BhCalls *bh_calls_new(BhBackend *backend, BhAgentSet *agents, BhPolicyStore *policy, BhStore *store,
                      const BhCallsHooks *hooks);
void bh_calls_free(BhCalls *calls);
/* Running opens the qube's call socket, any other state closes it. */
void bh_calls_power_changed(BhCalls *calls, const char *qube, BhPowerState state);

/* The request line, decoded: "SERVICE TARGET\n" in at most
 * BH_CALL_MAX_REQUEST bytes; TARGET a qube (not dom0), @default, @dispvm or
 * @dispvm:QUBE. FALSE with *why (static words) when refused. */
#define BH_CALL_MAX_REQUEST 128
gboolean bh_call_request_parse(const char *buf, gsize len, char **service, char **target, const char **why);

G_END_DECLS
