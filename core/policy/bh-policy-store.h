/* bh-policy-store.h — the policy as loaded now, reloaded when a file changes.
 *
 * Owns: one BhPolicy at a time for a list of directories, the GFileMonitors
 * on them, and the "changed" signal. Holders (bulkheadd) take a reference to
 * the current policy per evaluation, so a reload never changes a decision
 * half-way. Must never: evaluate anything itself or keep an old policy once
 * a newer one has loaded (a broken new one replaces a good old one: it denies). */
#pragma once

#include <gio/gio.h>

#include "bulkhead/policy.h"

G_BEGIN_DECLS

#define BH_TYPE_POLICY_STORE (bh_policy_store_get_type())
G_DECLARE_FINAL_TYPE(BhPolicyStore, bh_policy_store, BH, POLICY_STORE, GObject)

/* Loads dirs (NULL: bh_policy_default_dirs()) now and watches them; a
 * change is picked up after a short settling delay (an editor's save is
 * several events). Emits "changed" after each reload. */
BhPolicyStore *bh_policy_store_new(const char *const *dirs);

/* The current policy (a new reference). */
BhPolicy *bh_policy_store_get_policy(BhPolicyStore *self);

/* The directories read, earlier first. */
const char *const *bh_policy_store_get_dirs(BhPolicyStore *self);

/* Reloads now (also what the monitors trigger). */
void bh_policy_store_reload(BhPolicyStore *self);

G_END_DECLS
