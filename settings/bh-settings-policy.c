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

gboolean bh_settings_policy_write(const char *dir, const char *name, const char *text, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

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

gboolean bh_settings_clipboard_policy_write(const char *dir, BhPolicyVerdict verdict, GError **error)
{
    g_autofree char *text = bh_settings_clipboard_policy_text(verdict);

    return bh_settings_policy_write(dir, BH_SETTINGS_CLIPBOARD_POLICY, text, error);
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

/* Every ordered pair of the first BH_POLICY_PROBE_QUBES qubes, evaluated
 * for service with every file as it is: how many pairs, how many of them a
 * file other than ours decides (elsewhere(file): file NULL when no rule
 * did), which files, and the first pair's verdict. NULL, or the problem
 * that makes every call denied ("every WHAT is refused"). */
typedef struct {
    guint pairs, elsewhere;
    GHashTable *files; /* of the rules that decide instead */
    BhPolicyVerdict first;
} BhProbe;

static char *bh_probe_pairs(const char *const *dirs, const char *const *names, const char *const *classes,
                            const char *service, const char *what, gboolean (*elsewhere)(const char *file),
                            BhProbe *out)
{
    g_autoptr(BhPolicy) policy = bh_policy_load_dirs(dirs);
    g_autoptr(BhPolicySystem) sys = bh_policy_system_new();
    g_autoptr(GPtrArray) probe = g_ptr_array_new();

    out->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (bh_policy_n_errors(policy) > 0)
        return g_strdup_printf("The policy has a problem, so every %s is refused until it is fixed: %s", what,
                               bh_policy_error(policy, 0));
    for (guint i = 0; names[i] != NULL && probe->len < BH_POLICY_PROBE_QUBES; i++) {
        if (bh_policy_system_add(sys, names[i], classes[i], NULL, FALSE, NULL, NULL))
            g_ptr_array_add(probe, (gpointer)names[i]);
    }
    for (guint a = 0; a < probe->len; a++) {
        for (guint b = 0; b < probe->len; b++) {
            BhPolicyRequest request = {service, "", probe->pdata[a], probe->pdata[b]};
            BhPolicyDecision decision = {0};

            if (a == b)
                continue;
            bh_policy_evaluate(policy, sys, &request, &decision);
            if (out->pairs++ == 0)
                out->first = decision.verdict;
            if (elsewhere(decision.file)) {
                out->elsewhere++;
                g_hash_table_add(out->files, g_strdup(decision.file != NULL ? decision.file : "no rule"));
            }
            bh_policy_decision_clear(&decision);
        }
    }
    return NULL;
}

static char *bh_probe_warning(BhProbe *probe, const char *subject, const char *what)
{
    g_autofree char **files = (char **)g_hash_table_get_keys_as_array(probe->files, NULL);
    g_autofree char *list = g_strjoinv(", ", files);

    return g_strdup_printf("%s not decide %u of %u %s between qubes: %s comes first (a rule in a file "
                           "earlier in name order wins). Change or remove that rule.",
                           subject, probe->elsewhere, probe->pairs, what, list);
}

static gboolean bh_not_clipboard_file(const char *file)
{
    return file == NULL || !g_str_has_suffix(file, "/" BH_SETTINGS_CLIPBOARD_POLICY);
}

char *bh_settings_clipboard_policy_check(const char *const *dirs, const char *const *names,
                                         const char *const *classes, BhPolicyVerdict *verdict)
{
    BhProbe probe = {0};
    gboolean own = FALSE;
    char *warning;

    *verdict = bh_own_verdict(dirs, &own);
    warning = bh_probe_pairs(dirs, names, classes, "bulkhead.ClipboardPaste", "paste", bh_not_clipboard_file,
                             &probe);
    /* Before the user chose anything here, the choice shown is what the
     * files decide today (the first pair's answer). */
    if (warning == NULL && !own && probe.pairs > 0)
        *verdict = probe.first;
    if (warning == NULL && own && probe.elsewhere > 0)
        warning = bh_probe_warning(&probe, "This choice does", "pastes");
    g_hash_table_unref(probe.files);
    return warning;
}

/* ---- file copy ------------------------------------------------------------ */

#define BH_FILECOPY_HEADER                                                                                   \
    "# Written by bulkhead-settings (Global settings, File copy). Changing the rows\n"                       \
    "# there rewrites this file; a file whose name sorts before this one wins.\n"

/* The header's lines: a rule's line is its row's number plus these. */
#define BH_FILECOPY_HEADER_LINES 2

void bh_settings_filecopy_rule_free(BhSettingsFilecopyRule *rule)
{
    if (rule == NULL)
        return;
    g_free(rule->source);
    g_free(rule->target);
    g_free(rule->default_target);
    g_free(rule);
}

char *bh_settings_filecopy_policy_text(GPtrArray *rules, GError **error)
{
    g_autoptr(GString) text = g_string_new(BH_FILECOPY_HEADER);
    g_autoptr(BhPolicy) probe = bh_policy_new();

    if (rules->len > BH_SETTINGS_FILECOPY_ROWS_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "at most %d rows here; write more in a file "
                    "of your own (docs/policy.md)",
                    BH_SETTINGS_FILECOPY_ROWS_MAX);
        return NULL;
    }
    for (guint i = 0; i < rules->len; i++) {
        const BhSettingsFilecopyRule *rule = rules->pdata[i];

        g_string_append_printf(text, "%s  *  %s  %s  %s", BH_SETTINGS_FILECOPY_SERVICE, rule->source,
                               rule->target, bh_policy_verdict_name(rule->action));
        if (rule->action == BH_POLICY_ASK && rule->default_target != NULL && *rule->default_target != '\0')
            g_string_append_printf(text, " default_target=%s", rule->default_target);
        g_string_append_c(text, '\n');
    }
    /* The engine is the judge of a row: what it refuses is never written
     * (a broken file would deny every call of every service). */
    bh_policy_add_file(probe, BH_SETTINGS_FILECOPY_POLICY, BH_SETTINGS_FILECOPY_POLICY, text->str, text->len);
    if (bh_policy_n_errors(probe) > 0) {
        /* "file:LINE:COLUMN: what": the row is the line after the header. */
        const char *problem = bh_policy_error(probe, 0);
        g_auto(GStrv) parts = g_strsplit(problem, ":", 4);
        guint line = g_strv_length(parts) == 4 ? (guint)g_ascii_strtoull(parts[1], NULL, 10) : 0;

        if (line > BH_FILECOPY_HEADER_LINES)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "row %u: %s",
                        line - BH_FILECOPY_HEADER_LINES, g_strstrip(parts[3]));
        else
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s", problem);
        return NULL;
    }
    return g_strdup(text->str);
}

GPtrArray *bh_settings_filecopy_policy_read(const char *const *dirs, gboolean *foreign)
{
    GPtrArray *rules = g_ptr_array_new_with_free_func((GDestroyNotify)bh_settings_filecopy_rule_free);
    guint n_dirs = g_strv_length((char **)dirs);
    g_autofree char *path = NULL, *text = NULL;
    g_auto(GStrv) lines = NULL;

    *foreign = FALSE;
    if (n_dirs == 0)
        return rules;
    path = g_build_filename(dirs[n_dirs - 1], BH_SETTINGS_FILECOPY_POLICY, NULL);
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return rules;
    lines = g_strsplit(text, "\n", -1);
    for (guint j = 0; lines[j] != NULL; j++) {
        char *line = g_strstrip(lines[j]);
        g_auto(GStrv) words = NULL;
        g_autoptr(GPtrArray) kept = g_ptr_array_new();
        BhSettingsFilecopyRule *rule;

        if (*line == '\0' || *line == '#')
            continue;
        words = g_strsplit_set(line, " \t", -1);
        for (guint k = 0; words[k] != NULL; k++) {
            if (*words[k] != '\0')
                g_ptr_array_add(kept, words[k]);
        }
        /* Only what this page writes: SERVICE * SOURCE TARGET ACTION
         * [default_target=X]. Anything else is the user's hand. */
        if ((kept->len != 5 && kept->len != 6) ||
            !g_str_equal(kept->pdata[0], BH_SETTINGS_FILECOPY_SERVICE) || !g_str_equal(kept->pdata[1], "*") ||
            (kept->len == 6 &&
             (!g_str_has_prefix(kept->pdata[5], "default_target=") || !g_str_equal(kept->pdata[4], "ask"))) ||
            rules->len >= BH_SETTINGS_FILECOPY_ROWS_MAX) {
            *foreign = TRUE;
            continue;
        }
        rule = g_new0(BhSettingsFilecopyRule, 1);
        rule->source = g_strdup(kept->pdata[2]);
        rule->target = g_strdup(kept->pdata[3]);
        rule->action = g_str_equal(kept->pdata[4], "allow") ? BH_POLICY_ALLOW
                       : g_str_equal(kept->pdata[4], "ask") ? BH_POLICY_ASK
                                                            : BH_POLICY_DENY;
        if (!g_str_equal(kept->pdata[4], "allow") && !g_str_equal(kept->pdata[4], "ask") &&
            !g_str_equal(kept->pdata[4], "deny"))
            *foreign = TRUE;
        rule->default_target =
            kept->len == 6 ? g_strdup((char *)kept->pdata[5] + strlen("default_target=")) : NULL;
        g_ptr_array_add(rules, rule);
    }
    return rules;
}

/* A rule in a file whose name sorts before ours decides instead of our rows. */
static gboolean bh_before_filecopy_file(const char *file)
{
    g_autofree char *base = file != NULL ? g_path_get_basename(file) : NULL;

    return base != NULL && strcmp(base, BH_SETTINGS_FILECOPY_POLICY) < 0;
}

char *bh_settings_filecopy_policy_check(const char *const *dirs, const char *const *names,
                                        const char *const *classes)
{
    BhProbe probe = {0};
    char *warning = bh_probe_pairs(dirs, names, classes, BH_SETTINGS_FILECOPY_SERVICE, "copy",
                                   bh_before_filecopy_file, &probe);

    if (warning == NULL && probe.elsewhere > 0)
        warning = bh_probe_warning(&probe, "These rows do", "copies");
    g_hash_table_unref(probe.files);
    return warning;
}

char *bh_settings_policy_try(const char *const *dirs, BhPolicySystem *sys, const char *service,
                             const char *source, const char *target, BhPolicyVerdict *verdict)
{
    g_autoptr(BhPolicy) policy = bh_policy_load_dirs(dirs);
    BhPolicyRequest request = {service, "", source, target};
    BhPolicyDecision decision = {0};
    g_autofree char *where = NULL;
    char *text;

    bh_policy_evaluate(policy, sys, &request, &decision);
    *verdict = decision.verdict;
    if (decision.file != NULL) {
        g_autofree char *base = g_path_get_basename(decision.file);
        where = g_strdup_printf(" — %s:%u", base, decision.line);
    }
    switch (decision.verdict) {
    case BH_POLICY_ALLOW:
        text = g_strdup_printf("allow: the files go to %s%s", decision.target, where ? where : "");
        break;
    case BH_POLICY_ASK:
        text = g_strdup_printf("ask%s%s%s", decision.default_target ? ", preselected " : "",
                               decision.default_target ? decision.default_target : "", where ? where : "");
        break;
    default:
        text = g_strdup_printf("deny: %s%s", decision.reason, where ? where : "");
        break;
    }
    bh_policy_decision_clear(&decision);
    return text;
}
