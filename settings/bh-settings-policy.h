/* bh-settings-policy.h — the global settings' own policy files: the clipboard
 * paste rule in plain words, written to
 * $XDG_CONFIG_HOME/bulkhead/policy.d/40-settings-clipboard.policy, the file
 * copy rules (40-settings-filecopy.policy), and the check that they are the
 * rules that decide (a file earlier in name order, or a problem in any file,
 * wins over them: docs/policy.md).
 *
 * Owns: those two files (each written whole, atomically, mode 0600) and
 * nothing else in the policy directories, which it only reads through
 * core/policy.
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

/* ---- file copy (bulkhead.Filecopy, docs/filecopy.md) --------------------- */

#define BH_SETTINGS_FILECOPY_POLICY  "40-settings-filecopy.policy"
#define BH_SETTINGS_FILECOPY_SERVICE "bulkhead.Filecopy"
/* Rows the page keeps: a page, not a policy editor. */
#define BH_SETTINGS_FILECOPY_ROWS_MAX 64

/* One row of the page: `bulkhead.Filecopy * SOURCE TARGET ACTION
 * [default_target=QUBE]`. source and target: a qube's name or @anyvm. */
typedef struct {
    char *source, *target;
    BhPolicyVerdict action;
    char *default_target; /* ask only; NULL or "": none */
} BhSettingsFilecopyRule;

void bh_settings_filecopy_rule_free(BhSettingsFilecopyRule *rule);

/* The file's text for the rows, in order. The text is parsed by the policy
 * engine before it is returned: a row it refuses is an error naming the row
 * (1-based) and the engine's words, and no text. */
char *bh_settings_filecopy_policy_text(GPtrArray *rules /* BhSettingsFilecopyRule* */, GError **error);

/* Writes a settings file (name: one of the two above) into dir, created 0700
 * when missing; atomic, mode 0600. */
gboolean bh_settings_policy_write(const char *dir, const char *name, const char *text, GError **error);

/* Our file's rows as written (the last directory's file, the one we write):
 * an empty array when there is none. *foreign: the file holds a line this
 * page does not write (an edit by hand), which Apply would replace. */
GPtrArray *bh_settings_filecopy_policy_read(const char *const *dirs, gboolean *foreign);

/* Whether our rows decide: every ordered pair of the qubes (the first 40)
 * is evaluated; NULL when no file whose name sorts before ours decides a
 * copy, else the warning naming those files and how many copies they
 * decide; or the problem that makes every copy denied. */
char *bh_settings_filecopy_policy_check(const char *const *dirs, const char *const *names,
                                        const char *const *classes);

/* One copy, as bulkhead policy eval decides it with these facts: the
 * verdict and the line to show ("allow — 40-settings-filecopy.policy:4",
 * "ask, preselected personal — …", "deny: reason — …"). */
char *bh_settings_policy_try(const char *const *dirs, BhPolicySystem *sys, const char *service,
                             const char *source, const char *target, BhPolicyVerdict *verdict);

G_END_DECLS
