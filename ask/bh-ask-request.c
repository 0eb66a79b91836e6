/* bh-ask-request.c — bulkhead-ask's command line, checked (see the header).
 *
 * Must never: let unchecked text reach GTK, or fall back to a target that
 * was not passed. */
#include <string.h>

#include "bh-ask-request.h"

void bh_ask_request_free(BhAskRequest *r)
{
    if (!r)
        return;
    g_free(r->source);
    g_free(r->service);
    g_free(r->default_target);
    if (r->targets)
        g_ptr_array_unref(r->targets);
    if (r->target_labels)
        g_ptr_array_unref(r->target_labels);
    g_free(r);
}

static gboolean target_ok(const char *t, GError **error)
{
    if (g_str_equal(t, "@dispvm"))
        return TRUE;
    if (g_str_has_prefix(t, "@dispvm:"))
        return bh_qube_name_validate(t + strlen("@dispvm:"), error);
    return bh_qube_name_validate(t, error);
}

static gboolean parse_uint(const char *s, guint min, guint max, guint *out)
{
    guint64 v;
    if (!g_ascii_string_to_unsigned(s, 10, min, max, &v, NULL))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

BhAskRequest *bh_ask_request_parse(int argc, char **argv, GError **error)
{
    g_autoptr(BhAskRequest) r = g_new0(BhAskRequest, 1);
    g_autoptr(GError) local = NULL;
    const char *label = NULL;
    r->targets = g_ptr_array_new_with_free_func(g_free);
    r->target_labels = g_ptr_array_new();
    r->timeout_s = BH_ASK_DEFAULT_TIMEOUT;
    r->focus_ms = BH_ASK_FOCUS_MS;

    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s needs a value", opt);
            return NULL;
        }
        i++;
        if (g_str_equal(opt, "--source") && !r->source) {
            r->source = g_strdup(val);
        } else if (g_str_equal(opt, "--label") && !label) {
            label = val;
        } else if (g_str_equal(opt, "--service") && !r->service) {
            r->service = g_strdup(val);
        } else if (g_str_equal(opt, "--target")) {
            if (r->targets->len >= BH_ASK_MAX_TARGETS) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "more than %d targets",
                            BH_ASK_MAX_TARGETS);
                return NULL;
            }
            g_ptr_array_add(r->targets, g_strdup(val));
            g_ptr_array_add(r->target_labels, NULL);
        } else if (g_str_equal(opt, "--target-label")) {
            guint n = r->targets->len;
            const BhLabel *l = bh_label_lookup(val);
            if (n == 0 || r->target_labels->pdata[n - 1] != NULL || l == NULL) {
                g_set_error(
                    error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--target-label '%s' must be a label (red, orange, … black), once, after its --target",
                    val);
                return NULL;
            }
            r->target_labels->pdata[n - 1] = (gpointer)l;
        } else if (g_str_equal(opt, "--default") && !r->default_target) {
            r->default_target = g_strdup(val);
        } else if (g_str_equal(opt, "--timeout")) {
            if (!parse_uint(val, 1, 3600, &r->timeout_s)) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--timeout takes 1..3600 seconds");
                return NULL;
            }
        } else if (g_str_equal(opt, "--focus-ms")) {
            if (!parse_uint(val, 1000, 10000, &r->focus_ms)) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--focus-ms takes 1000..10000 (never less than a second)");
                return NULL;
            }
        } else {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION, "unknown or repeated option %s",
                        opt);
            return NULL;
        }
    }
    if (!r->source || !label || !r->service || r->targets->len == 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--source, --label, --service and at least one --target are needed");
        return NULL;
    }
    if (!bh_qube_name_validate(r->source, &local)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "source: %s", local->message);
        return NULL;
    }
    if (!(r->source_label = bh_label_lookup(label))) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "'%s' is not a label (red, orange, … black)", label);
        return NULL;
    }
    /* The service's words are dom0's own, but they are shown: bounded,
     * valid, and without anything that would reorder or hide text. */
    if (strlen(r->service) > BH_ASK_MAX_SERVICE || !g_utf8_validate(r->service, -1, NULL)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--service must be UTF-8 of at most %d bytes", BH_ASK_MAX_SERVICE);
        return NULL;
    }
    for (const char *p = r->service; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || g_unichar_type(c) == G_UNICODE_FORMAT) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--service contains a control or formatting character");
            return NULL;
        }
    }
    for (guint i = 0; i < r->targets->len; i++) {
        const char *t = r->targets->pdata[i];
        g_clear_error(&local);
        if (!target_ok(t, &local)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "target '%s': %s", t,
                        local ? local->message : "not a qube");
            return NULL;
        }
        if (g_str_equal(t, r->source) || g_ascii_strcasecmp(t, "dom0") == 0) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "'%s' cannot be a target (an ask never offers the source or dom0)", t);
            return NULL;
        }
        for (guint j = 0; j < i; j++)
            if (g_str_equal(t, r->targets->pdata[j])) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "target '%s' given twice", t);
                return NULL;
            }
    }
    if (r->default_target) {
        gboolean found = FALSE;
        for (guint i = 0; i < r->targets->len; i++)
            found |= g_str_equal(r->default_target, r->targets->pdata[i]);
        if (!found) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "the default '%s' is not among the targets", r->default_target);
            return NULL;
        }
    }
    return g_steal_pointer(&r);
}

char *bh_ask_target_words(const char *target)
{
    if (g_str_equal(target, "@dispvm"))
        return g_strdup("New disposable");
    if (g_str_has_prefix(target, "@dispvm:"))
        return g_strdup_printf("New disposable (from %s)", target + strlen("@dispvm:"));
    return g_strdup(target);
}

gboolean bh_ask_matches(const char *name, const char *typed)
{
    if (!typed || !*typed)
        return TRUE;
    g_autofree char *n = g_utf8_casefold(name, -1);
    g_autofree char *t = g_utf8_casefold(typed, -1);
    return strstr(n, t) != NULL;
}
