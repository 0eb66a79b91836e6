/* bh-settings-policy.h — the global settings' own policy file: the clipboard
 * paste rule in plain words, written to
 * $XDG_CONFIG_HOME/bulkhead/policy.d/40-settings-clipboard.policy, and the
 * check that it is the rule that decides (a file earlier in name order, or a
 * problem in any file, wins over it: docs/policy.md).
 *
 * Owns: that one file (written whole, atomically, mode 0600) and nothing
 * else in the policy directories, which it only reads through core/policy.
 * Must never: edit or remove another file, or tell the user a rule applies
 * when the policy engine says another one decides. */
#pragma once

#include "bulkhead/policy.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define BH_SETTINGS_CLIPBOARD_POLICY "40-settings-clipboard.policy"

/* The file's text for a verdict (allow, ask or deny between any two qubes). */
char *bh_settings_clipboard_policy_text(BhPolicyVerdict verdict);
/* Writes it into dir (created 0700 when missing). */
gboolean bh_settings_clipboard_policy_write(const char *dir, BhPolicyVerdict verdict, GError **error);

/* For each ordered pair of the qubes (name, class; at most the first 40),
 * which file decides a paste from one to the other. NULL when this file
 * decides every pair; otherwise the warning to show, naming the file(s) that
 * decide instead, or the problems that make every paste denied.
 * *verdict gets what our file says; when it is missing, what the files
 * decide for the first pair (and no warning: nothing was chosen here). */
char *bh_settings_clipboard_policy_check(const char *const *dirs, const char *const *names,
                                         const char *const *classes, BhPolicyVerdict *verdict);

G_END_DECLS
