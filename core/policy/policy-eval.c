/* policy-eval.c — one request against the parsed rules (policy.h).
 *
 * Owns: what each token matches, the order of rules, and how a decision's
 * target is resolved (target=, @dispvm, the ask list).
 * Must never: allow anything when the policy has a problem, no rule matches,
 * or a request names a qube the fact table does not hold; let @anyvm, @tag
 * or @type widen to dom0 through a request's spelling; modify the policy. */
#include "policy-private.h"

#include <string.h>

#include "bulkhead/qubes.h"

/* ---- qube facts ----------------------------------------------------------- */

static void bh_policy_qube_free(gpointer data)
{
    BhPolicyQube *q = data;
    g_free(q->name);
    g_free(q->klass);
    g_clear_pointer(&q->tags, g_hash_table_unref);
    g_free(q->dispvm_template);
    g_free(q->default_dispvm);
    g_free(q);
}

BhPolicySystem *bh_policy_system_new(void)
{
    BhPolicySystem *sys = g_new0(BhPolicySystem, 1);
    BhPolicyQube *dom0 = g_new0(BhPolicyQube, 1);

    sys->qubes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, bh_policy_qube_free);
    dom0->name = g_strdup("dom0");
    dom0->klass = g_strdup("AdminVM");
    g_hash_table_insert(sys->qubes, dom0->name, dom0);
    return sys;
}

void bh_policy_system_free(BhPolicySystem *sys)
{
    if (sys == NULL)
        return;
    g_hash_table_unref(sys->qubes);
    g_free(sys);
}

gboolean bh_policy_system_add(BhPolicySystem *sys, const char *name, const char *klass,
                              const char *const *tags, gboolean template_for_dispvms,
                              const char *dispvm_template, const char *default_dispvm)
{
    BhQubeClass k;

    if (name == NULL || klass == NULL || !bh_qube_name_validate(name, NULL) ||
        !bh_class_from_name(klass, &k) || k == BH_CLASS_ADMIN_VM || g_hash_table_contains(sys->qubes, name))
        return FALSE;
    BhPolicyQube *q = g_new0(BhPolicyQube, 1);
    q->name = g_strdup(name);
    q->klass = g_strdup(bh_class_name(k));
    for (gsize i = 0; tags && tags[i]; i++) {
        if (q->tags == NULL)
            q->tags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_add(q->tags, g_strdup(tags[i]));
    }
    q->template_for_dispvms = template_for_dispvms;
    q->dispvm_template = dispvm_template && *dispvm_template ? g_strdup(dispvm_template) : NULL;
    q->default_dispvm = default_dispvm && *default_dispvm ? g_strdup(default_dispvm) : NULL;
    g_hash_table_insert(sys->qubes, q->name, q);
    return TRUE;
}

const BhPolicyQube *bh_policy_system_lookup(const BhPolicySystem *sys, const char *name)
{
    return g_hash_table_lookup(sys->qubes, name);
}

/* ---- a request, checked ------------------------------------------------- */

/* The request target after it has been checked against the facts. */
typedef struct {
    BhPolicyTokKind kind;  /* NAME, ADMINVM, DEFAULT, DISPVM or DISPVM_NAME */
    const char *name;      /* NAME: the qube; DISPVM_NAME: the template */
    const BhPolicyQube *q; /* NAME, ADMINVM: its facts */
} BhPolicyReqTarget;

static gboolean bh_policy_is_dom0(const BhPolicyQube *q)
{
    return strcmp(q->klass, "AdminVM") == 0;
}

static gboolean bh_policy_has_tag(const BhPolicyQube *q, const char *tag)
{
    return q->tags && g_hash_table_contains(q->tags, tag);
}

static gboolean bh_policy_match_source(const BhPolicyTok *t, const BhPolicyQube *src)
{
    switch (t->kind) {
    case BH_TOK_NAME:
        return strcmp(t->value, src->name) == 0;
    case BH_TOK_ADMINVM:
        return bh_policy_is_dom0(src);
    case BH_TOK_ANYVM:
        return !bh_policy_is_dom0(src);
    case BH_TOK_DISPVM:
        return strcmp(src->klass, "DispVM") == 0;
    case BH_TOK_DISPVM_NAME:
        return strcmp(src->klass, "DispVM") == 0 && g_strcmp0(src->dispvm_template, t->value) == 0;
    case BH_TOK_TAG:
        return bh_policy_has_tag(src, t->value);
    case BH_TOK_TYPE:
        return strcmp(src->klass, t->value) == 0;
    case BH_TOK_DEFAULT: /* the parser refuses it as a source */
        break;
    }
    return FALSE;
}

static gboolean bh_policy_match_target(const BhPolicyTok *t, const BhPolicyReqTarget *req,
                                       const BhPolicyQube *src)
{
    switch (t->kind) {
    case BH_TOK_NAME:
        return req->kind == BH_TOK_NAME && strcmp(t->value, req->name) == 0;
    case BH_TOK_ADMINVM:
        return req->kind == BH_TOK_ADMINVM;
    case BH_TOK_ANYVM:
        /* Every target but dom0, including "dom0 chooses" and disposables. */
        return req->kind != BH_TOK_ADMINVM;
    case BH_TOK_DEFAULT:
        return req->kind == BH_TOK_DEFAULT;
    case BH_TOK_DISPVM:
        return req->kind == BH_TOK_DISPVM ||
               (req->kind == BH_TOK_DISPVM_NAME && g_strcmp0(src->default_dispvm, req->name) == 0);
    case BH_TOK_DISPVM_NAME:
        if (req->kind == BH_TOK_DISPVM_NAME)
            return strcmp(t->value, req->name) == 0;
        if (req->kind == BH_TOK_DISPVM)
            return g_strcmp0(src->default_dispvm, t->value) == 0;
        /* An existing disposable made from that template. */
        return req->kind == BH_TOK_NAME && strcmp(req->q->klass, "DispVM") == 0 &&
               g_strcmp0(req->q->dispvm_template, t->value) == 0;
    case BH_TOK_TAG:
        return req->kind == BH_TOK_NAME && bh_policy_has_tag(req->q, t->value);
    case BH_TOK_TYPE:
        return (req->kind == BH_TOK_NAME || req->kind == BH_TOK_ADMINVM) &&
               strcmp(req->q->klass, t->value) == 0;
    }
    return FALSE;
}

static void bh_policy_deny(BhPolicyDecision *out, const char *file, guint line, char *reason)
{
    out->verdict = BH_POLICY_DENY;
    out->notify = TRUE;
    out->file = g_strdup(file);
    out->line = line;
    out->reason = reason;
}

static gboolean bh_policy_name_ok(const char *s, gsize max, const char *extra)
{
    gsize len = strlen(s);
    if (len > max)
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isalnum(s[i]) && strchr(extra, s[i]) == NULL)
            return FALSE;
    return TRUE;
}

/* Checks req->target against the facts; FALSE with a reason when it names
 * nothing that exists (the request then denies). */
static gboolean bh_policy_check_target(const BhPolicySystem *sys, const char *target, BhPolicyReqTarget *out,
                                       char **reason)
{
    memset(out, 0, sizeof *out);
    if (strcmp(target, "@adminvm") == 0 || strcmp(target, "dom0") == 0) {
        out->kind = BH_TOK_ADMINVM;
        out->q = bh_policy_system_lookup(sys, "dom0");
        out->name = "dom0";
        return TRUE;
    }
    if (strcmp(target, "@default") == 0 || *target == '\0') {
        out->kind = BH_TOK_DEFAULT;
        return TRUE;
    }
    if (strcmp(target, "@dispvm") == 0) {
        out->kind = BH_TOK_DISPVM;
        return TRUE;
    }
    const char *name = g_str_has_prefix(target, "@dispvm:") ? target + 8 : target;
    const BhPolicyQube *q = bh_policy_system_lookup(sys, name);
    if (q == NULL || bh_policy_is_dom0(q)) {
        g_autofree char *shown = g_strescape(target, NULL);
        *reason = g_strdup_printf("the target '%.64s' is not a qube that exists", shown);
        return FALSE;
    }
    if (name != target) {
        if (!q->template_for_dispvms) {
            *reason = g_strdup_printf("the target '%s' names '%s', which is not a disposable template",
                                      target, name);
            return FALSE;
        }
        out->kind = BH_TOK_DISPVM_NAME;
        out->name = q->name;
        return TRUE;
    }
    out->kind = BH_TOK_NAME;
    out->name = q->name;
    out->q = q;
    return TRUE;
}

/* A token that names one target (target=, default_target=, or the request)
 * as the string a decision carries; NULL when it cannot be resolved. */
static char *bh_policy_resolve(const BhPolicyTok *t, const BhPolicySystem *sys, const BhPolicyQube *src)
{
    switch (t->kind) {
    case BH_TOK_ADMINVM:
        return g_strdup("@adminvm");
    case BH_TOK_NAME: {
        const BhPolicyQube *q = bh_policy_system_lookup(sys, t->value);
        return q ? g_strdup(q->name) : NULL;
    }
    case BH_TOK_DISPVM:
        return src->default_dispvm ? g_strconcat("@dispvm:", src->default_dispvm, NULL) : NULL;
    case BH_TOK_DISPVM_NAME: {
        const BhPolicyQube *q = bh_policy_system_lookup(sys, t->value);
        return q && q->template_for_dispvms ? g_strconcat("@dispvm:", t->value, NULL) : NULL;
    }
    default:
        return NULL;
    }
}

static int bh_policy_strcmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void bh_policy_evaluate_one(const BhPolicy *policy, const BhPolicySystem *sys,
                                   const BhPolicyRequest *req, gboolean list_targets, BhPolicyDecision *out);

/* The ask dialog's list: every qube (and new disposable) the same request
 * would be allowed or asked for, never the source or dom0. */
static void bh_policy_ask_targets(const BhPolicy *policy, const BhPolicySystem *sys,
                                  const BhPolicyRequest *req, BhPolicyDecision *out)
{
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, sys->qubes);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const BhPolicyQube *q = value;
        g_autofree char *disp = NULL;
        const char *candidates[2] = {NULL, NULL};
        if (bh_policy_is_dom0(q))
            continue;
        if (strcmp(q->name, req->source) != 0)
            candidates[0] = q->name;
        if (q->template_for_dispvms)
            candidates[1] = disp = g_strconcat("@dispvm:", q->name, NULL);
        for (int i = 0; i < 2; i++) {
            if (candidates[i] == NULL)
                continue;
            BhPolicyRequest sub = *req;
            BhPolicyDecision d = {0};
            sub.target = candidates[i];
            bh_policy_evaluate_one(policy, sys, &sub, FALSE, &d);
            if (d.verdict != BH_POLICY_DENY)
                g_ptr_array_add(found, g_strdup(candidates[i]));
            bh_policy_decision_clear(&d);
        }
    }
    g_ptr_array_sort(found, bh_policy_strcmp);
    g_ptr_array_add(found, NULL);
    out->targets = (char **)g_ptr_array_free(g_steal_pointer(&found), FALSE);
}

static gboolean bh_policy_strv_has(char **v, const char *s)
{
    return s && v && g_strv_contains((const char *const *)v, s);
}

static void bh_policy_evaluate_one(const BhPolicy *policy, const BhPolicySystem *sys,
                                   const BhPolicyRequest *req, gboolean list_targets, BhPolicyDecision *out)
{
    BhPolicyReqTarget target;
    char *reason = NULL;
    const BhPolicyRule *rule = NULL;

    memset(out, 0, sizeof *out);
    if (policy->n_errors > 0) {
        bh_policy_deny(out, policy->first_error_file, policy->first_error_line,
                       g_strdup_printf("the policy has %u problem%s, so everything is denied until it is "
                                       "fixed (run 'bulkhead policy check'); the first: %s",
                                       policy->n_errors, policy->n_errors == 1 ? "" : "s",
                                       (const char *)policy->errors->pdata[0]));
        return;
    }
    if (!bh_policy_name_ok(req->service, BH_POLICY_SERVICE_MAX, "._-") || *req->service == '\0' ||
        !bh_policy_name_ok(req->argument ? req->argument : "", BH_POLICY_ARGUMENT_MAX, "._+-")) {
        bh_policy_deny(out, NULL, 0, g_strdup("the service or argument is not a valid name"));
        return;
    }
    const BhPolicyQube *src = bh_policy_system_lookup(sys, req->source);
    if (src == NULL) {
        g_autofree char *shown = g_strescape(req->source, NULL);
        bh_policy_deny(out, NULL, 0, g_strdup_printf("the source '%.64s' is not a qube that exists", shown));
        return;
    }
    if (!bh_policy_check_target(sys, req->target, &target, &reason)) {
        bh_policy_deny(out, NULL, 0, reason);
        return;
    }

    const char *argument = req->argument ? req->argument : "";
    for (guint i = 0; i < policy->rules->len && rule == NULL; i++) {
        const BhPolicyRule *r = &g_array_index(policy->rules, BhPolicyRule, i);
        if (r->service && strcmp(r->service, req->service) != 0)
            continue;
        if (r->argument && strcmp(r->argument, argument) != 0)
            continue;
        if (bh_policy_match_source(&r->source, src) && bh_policy_match_target(&r->target, &target, src))
            rule = r;
    }
    if (rule == NULL) {
        bh_policy_deny(out, NULL, 0, g_strdup("no rule matched, and what no rule allows is denied"));
        return;
    }
    const char *file = policy->files->pdata[rule->file];

    if (rule->action == BH_POLICY_DENY) {
        bh_policy_deny(out, file, rule->line, g_strdup("denied by the rule"));
        out->notify = rule->notify != 0;
        return;
    }

    out->autostart = rule->autostart != 0;
    out->notify = rule->notify == 1;
    out->file = g_strdup(file);
    out->line = rule->line;

    if (rule->action == BH_POLICY_ALLOW) {
        const char *why = NULL;
        if (rule->opt_target.kind) {
            out->target = bh_policy_resolve(&rule->opt_target, sys, src);
            why = "its target= names no qube or disposable template that exists";
        } else if (target.kind == BH_TOK_DEFAULT) {
            why = "the caller named no target and the rule has no target=";
        } else if (target.kind == BH_TOK_DISPVM) {
            BhPolicyTok t = {BH_TOK_DISPVM, NULL};
            out->target = bh_policy_resolve(&t, sys, src);
            why = "the source has no default_dispvm";
        } else if (target.kind == BH_TOK_DISPVM_NAME) {
            out->target = g_strconcat("@dispvm:", target.name, NULL);
        } else if (target.kind == BH_TOK_ADMINVM) {
            out->target = g_strdup("@adminvm");
        } else {
            out->target = g_strdup(target.name);
        }
        if (out->target == NULL) {
            g_autofree char *f = g_steal_pointer(&out->file);
            bh_policy_decision_clear(out);
            bh_policy_deny(out, f, rule->line, g_strdup_printf("the rule allows, but %s", why));
            return;
        }
        out->verdict = BH_POLICY_ALLOW;
        return;
    }

    out->verdict = BH_POLICY_ASK;
    if (!list_targets)
        return;
    bh_policy_ask_targets(policy, sys, req, out);
    if (out->targets[0] == NULL) {
        g_autofree char *f = g_steal_pointer(&out->file);
        bh_policy_decision_clear(out);
        bh_policy_deny(out, f, rule->line, g_strdup("the rule asks, but no target may be offered"));
        return;
    }
    /* The target the caller named, else the rule's default_target=. */
    g_autofree char *wanted = NULL;
    if (target.kind == BH_TOK_NAME)
        wanted = g_strdup(target.name);
    else if (target.kind == BH_TOK_DISPVM_NAME)
        wanted = g_strconcat("@dispvm:", target.name, NULL);
    else if (target.kind == BH_TOK_DISPVM)
        wanted = src->default_dispvm ? g_strconcat("@dispvm:", src->default_dispvm, NULL) : NULL;
    if (!bh_policy_strv_has(out->targets, wanted)) {
        g_clear_pointer(&wanted, g_free);
        if (rule->opt_default_target.kind)
            wanted = bh_policy_resolve(&rule->opt_default_target, sys, src);
    }
    if (bh_policy_strv_has(out->targets, wanted))
        out->default_target = g_steal_pointer(&wanted);
}

void bh_policy_evaluate(const BhPolicy *policy, const BhPolicySystem *sys, const BhPolicyRequest *req,
                        BhPolicyDecision *out)
{
    bh_policy_evaluate_one(policy, sys, req, TRUE, out);
}

void bh_policy_decision_clear(BhPolicyDecision *d)
{
    g_free(d->target);
    g_strfreev(d->targets);
    g_free(d->default_target);
    g_free(d->file);
    g_free(d->reason);
    memset(d, 0, sizeof *d);
}

const char *bh_policy_verdict_name(BhPolicyVerdict verdict)
{
    switch (verdict) {
    case BH_POLICY_ALLOW:
        return "allow";
    case BH_POLICY_ASK:
        return "ask";
    case BH_POLICY_DENY:
        break;
    }
    return "deny";
}

char *bh_policy_decision_format(const BhPolicyDecision *d)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "decision: %s\n", bh_policy_verdict_name(d->verdict));
    if (d->file)
        g_string_append_printf(s, "rule: %s:%u\n", d->file, d->line);
    else
        g_string_append(s, "rule: none\n");
    if (d->verdict == BH_POLICY_ALLOW)
        g_string_append_printf(s, "target: %s\n", d->target);
    if (d->verdict == BH_POLICY_ASK && d->targets) {
        g_autofree char *list = g_strjoinv(" ", d->targets);
        g_string_append_printf(s, "targets: %s\n", list);
        g_string_append_printf(s, "default_target: %s\n", d->default_target ? d->default_target : "none");
    }
    g_string_append_printf(s, "notify: %s\n", d->notify ? "yes" : "no");
    if (d->verdict != BH_POLICY_DENY)
        g_string_append_printf(s, "autostart: %s\n", d->autostart ? "yes" : "no");
    if (d->reason)
        g_string_append_printf(s, "reason: %s\n", d->reason);
    return g_string_free(s, FALSE);
}
