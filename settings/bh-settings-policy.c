/* bh-settings-policy.c — the settings' clipboard policy file (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-policy.h"

#include <glib/gstdio.h>
#include <string.h>

/* Pairs are n*(n-1): 40 qubes is 1560 evaluations, well under a frame. */
#define BH_POLICY_PROBE_QUBES 40

char *bh_settings_clipboard_policy_text(BhPolicyVerdict verdict)
{
    return g_strdup_printf(
        "# Written by bulkhead-settings (Global settings, Clipboard). Changing the choice\n"
        "# there rewrites this file; a file whose name sorts before this one wins.\n"
        "bulkhead.ClipboardPaste  *  @anyvm  @anyvm  %s\n",
        bh_policy_verdict_name(verdict));
}

gboolean bh_settings_clipboard_policy_write(const char *dir, BhPolicyVerdict verdict, GError **error)
{
    g_autofree char *path = g_build_filename(dir, BH_SETTINGS_CLIPBOARD_POLICY, NULL);
    g_autofree char *text = bh_settings_clipboard_policy_text(verdict);

    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int saved = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot create %s: %s", dir,
                    g_strerror(saved));
        return FALSE;
    }
    /* Atomic (a temporary file renamed over it): the daemon's monitor never
     * reads half a rule. */
    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/* What our own file says: the action of its rule (the last word of the
 * line we write). DENY when the file is missing or holds no such line. */
static BhPolicyVerdict bh_own_verdict(const char *const *dirs, gboolean *exists)
{
    BhPolicyVerdict verdict = BH_POLICY_DENY;

    *exists = FALSE;
    for (guint i = 0; dirs[i] != NULL; i++) {
        g_autofree char *path = g_build_filename(dirs[i], BH_SETTINGS_CLIPBOARD_POLICY, NULL);
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue;
        *exists = TRUE;
        lines = g_strsplit(text, "\n", -1);
        for (guint j = 0; lines[j] != NULL; j++) {
            g_auto(GStrv) words = NULL;
            guint n;

            if (!g_str_has_prefix(lines[j], "bulkhead.ClipboardPaste"))
                continue;
            words = g_strsplit_set(g_strstrip(lines[j]), " \t", -1);
            n = g_strv_length(words);
            verdict = g_str_equal(words[n - 1], "allow") ? BH_POLICY_ALLOW
                      : g_str_equal(words[n - 1], "ask") ? BH_POLICY_ASK
                                                         : BH_POLICY_DENY;
        }
    }
    return verdict;
}

char *bh_settings_clipboard_policy_check(const char *const *dirs, const char *const *names,
                                         const char *const *classes, BhPolicyVerdict *verdict)
{
    g_autoptr(BhPolicy) policy = bh_policy_load_dirs(dirs);
    g_autoptr(BhPolicySystem) sys = bh_policy_system_new();
    g_autoptr(GHashTable) others = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) probe = g_ptr_array_new();
    guint pairs = 0, elsewhere = 0;
    gboolean own = FALSE;

    *verdict = bh_own_verdict(dirs, &own);
    if (bh_policy_n_errors(policy) > 0)
        return g_strdup_printf("The policy has a problem, so every paste is refused until it is fixed: %s",
                               bh_policy_error(policy, 0));
    for (guint i = 0; names[i] != NULL && probe->len < BH_POLICY_PROBE_QUBES; i++) {
        if (bh_policy_system_add(sys, names[i], classes[i], NULL, FALSE, NULL, NULL))
            g_ptr_array_add(probe, (gpointer)names[i]);
    }
    for (guint a = 0; a < probe->len; a++) {
        for (guint b = 0; b < probe->len; b++) {
            BhPolicyRequest request = {"bulkhead.ClipboardPaste", "", probe->pdata[a], probe->pdata[b]};
            BhPolicyDecision decision = {0};

            if (a == b)
                continue;
            bh_policy_evaluate(policy, sys, &request, &decision);
            /* Before the user chose anything here, the choice shown is what
             * the files decide today (the first pair's answer). */
            if (!own && pairs == 0)
                *verdict = decision.verdict;
            pairs++;
            if (decision.file == NULL || !g_str_has_suffix(decision.file, "/" BH_SETTINGS_CLIPBOARD_POLICY)) {
                elsewhere++;
                g_hash_table_add(others, g_strdup(decision.file != NULL ? decision.file : "no rule"));
            }
            bh_policy_decision_clear(&decision);
        }
    }
    if (elsewhere == 0 || !own)
        return NULL;
    g_autofree char **files = (char **)g_hash_table_get_keys_as_array(others, NULL);
    g_autofree char *list = g_strjoinv(", ", files);
    return g_strdup_printf("This choice does not decide %u of %u pastes between qubes: %s comes first "
                           "(a rule in a file earlier in name order wins). Change or remove that rule.",
                           elsewhere, pairs, list);
}
