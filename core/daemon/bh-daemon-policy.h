/* bh-daemon-policy.h — policy decisions with the store's qube facts.
 *
 * Owns: turning the store's qubes (class, tags, disposable templates,
 * default_dispvm) into the fact table core/policy evaluates against, and one
 * evaluation against a BhPolicyStore's current policy. The clipboard's
 * paste (bh-clipboard.c) calls this; qube-to-qube calls will. It must never take a source from a qube:
 * callers pass the name dom0 knows the caller by.
 */
#pragma once

#include "bh-policy-store.h"
#include "bulkhead/policy.h"
#include "bulkhead/store.h"

G_BEGIN_DECLS

/* Every qube of the store, with the default_dispvm of each (NULL on a store
 * error). */
BhPolicySystem *bh_daemon_policy_facts(BhStore *store, GError **error);

/* Evaluates req with the store's facts now and the policy loaded now. A
 * store error denies (with the error as the reason) rather than fails: the
 * caller only ever needs the decision. */
void bh_daemon_policy_evaluate(BhPolicyStore *policy, BhStore *store, const BhPolicyRequest *req,
                               BhPolicyDecision *out);

G_END_DECLS
