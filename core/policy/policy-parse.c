/* policy-parse.c — the policy file format (policy.h, docs/policy.md).
 *
 * Owns: turning one file's bytes into rules, and every message that says
 * what is wrong with a line and where ("path:line:column: what").
 * Must never: read past len, keep a rule from a line that has a problem,
 * accept a byte it has not checked, or grow past the caps in policy.h. */
#include "policy-private.h"

#include <string.h>

#include "bulkhead/qubes.h"

/* Tokens are shown in messages; a line is already known to be printable
 * ASCII when they are, so only the length needs a bound. */
#define BH_POLICY_SHOWN_MAX 64

static void bh_policy_rule_clear(BhPolicyRule *r)
{
    g_free(r->service);
    g_free(r->argument);
    g_free(r->source.value);
    g_free(r->target.value);
    g_free(r->opt_target.value);
    g_free(r->opt_default_target.value);
}

BhPolicy *bh_policy_new(void)
{
    BhPolicy *p = g_new0(BhPolicy, 1);
    p->refs = 1;
    p->files = g_ptr_array_new_with_free_func(g_free);
    p->rules = g_array_new(FALSE, TRUE, sizeof(BhPolicyRule));
    g_array_set_clear_func(p->rules, (GDestroyNotify)bh_policy_rule_clear);
    p->errors = g_ptr_array_new_with_free_func(g_free);
    return p;
}

BhPolicy *bh_policy_ref(BhPolicy *policy)
{
    g_atomic_int_inc(&policy->refs);
    return policy;
}

void bh_policy_unref(BhPolicy *policy)
{
    if (policy == NULL || !g_atomic_int_dec_and_test(&policy->refs))
        return;
    g_ptr_array_unref(policy->files);
    g_array_unref(policy->rules);
    g_ptr_array_unref(policy->errors);
    g_free(policy->first_error_file);
    g_free(policy);
}

guint bh_policy_n_rules(const BhPolicy *policy)
{
    return policy->rules->len;
}

guint bh_policy_n_files(const BhPolicy *policy)
{
    return policy->files->len;
}

guint bh_policy_n_errors(const BhPolicy *policy)
{
    return policy->n_errors;
}

const char *bh_policy_error(const BhPolicy *policy, guint i)
{
    return i < policy->errors->len ? policy->errors->pdata[i] : NULL;
}

static void G_GNUC_PRINTF(5, 6)
    bh_policy_errorf(BhPolicy *p, const char *path, guint line, guint column, const char *format, ...)
{
    va_list ap;

    if (p->n_errors == 0) {
        p->first_error_file = g_strdup(path);
        p->first_error_line = line;
    }
    p->n_errors++;
    if (p->errors->len >= BH_POLICY_ERRORS_MAX)
        return;
    va_start(ap, format);
    g_autofree char *what = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_ptr_array_add(p->errors, g_strdup_printf("%s:%u:%u: %s", path, line, column, what));
}

void bh_policy_add_file_error(BhPolicy *policy, const char *path, const char *what)
{
    bh_policy_errorf(policy, path, 0, 0, "%s", what);
}

/* ---- one line ------------------------------------------------------------ */

typedef struct {
    const char *s; /* not NUL-terminated */
    gsize len;
    guint column; /* 1-based */
} BhPolicyField;

/* 5 fields and the 4 options are all a rule may have: a line with more is
 * refused at its first extra field, before anything else is looked at. */
#define BH_POLICY_FIELDS_MAX 9

typedef struct {
    BhPolicy *p;
    const char *path;
    guint line;
} BhPolicyCtx;

static char *bh_policy_field_dup(const BhPolicyField *f)
{
    return g_strndup(f->s, f->len);
}

/* For messages: the field, cut at BH_POLICY_SHOWN_MAX bytes. */
static char *bh_policy_field_shown(const BhPolicyField *f)
{
    if (f->len <= BH_POLICY_SHOWN_MAX)
        return bh_policy_field_dup(f);
    return g_strdup_printf("%.*s…", BH_POLICY_SHOWN_MAX, f->s);
}

static gboolean bh_policy_field_is(const BhPolicyField *f, const char *lit)
{
    return f->len == strlen(lit) && memcmp(f->s, lit, f->len) == 0;
}

static gboolean bh_policy_field_has_prefix(const BhPolicyField *f, const char *prefix)
{
    gsize n = strlen(prefix);
    return f->len >= n && memcmp(f->s, prefix, n) == 0;
}

static gboolean bh_policy_name_chars(const char *s, gsize len, const char *extra)
{
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isalnum(s[i]) && strchr(extra, s[i]) == NULL)
            return FALSE;
    return TRUE;
}

typedef enum {
    BH_TOKEN_AS_SOURCE,
    BH_TOKEN_AS_TARGET,
    BH_TOKEN_AS_OPTION, /* target=, default_target=: one qube or a disposable */
} BhTokenRole;

/* Parses a qube token at f into *out. On a problem, reports it and returns
 * FALSE with *out untouched. */
static gboolean bh_policy_parse_token(BhPolicyCtx *c, const BhPolicyField *f, BhTokenRole role,
                                      const char *what, BhPolicyTok *out)
{
    g_autofree char *shown = bh_policy_field_shown(f);
    g_autofree char *rest = NULL;
    BhPolicyTok tok = {0};
    gboolean ok = FALSE;

    if (bh_policy_field_is(f, "@adminvm") || bh_policy_field_is(f, "dom0")) {
        tok.kind = BH_TOK_ADMINVM;
    } else if (bh_policy_field_is(f, "@anyvm")) {
        if (role == BH_TOKEN_AS_OPTION) {
            bh_policy_errorf(c->p, c->path, c->line, f->column,
                             "%s names one qube or disposable, not '@anyvm'", what);
            goto out;
        }
        tok.kind = BH_TOK_ANYVM;
    } else if (bh_policy_field_is(f, "@default")) {
        if (role != BH_TOKEN_AS_TARGET) {
            bh_policy_errorf(c->p, c->path, c->line, f->column,
                             "'@default' can only be a target (the caller named none), not a %s", what);
            goto out;
        }
        tok.kind = BH_TOK_DEFAULT;
    } else if (bh_policy_field_is(f, "@dispvm")) {
        tok.kind = BH_TOK_DISPVM;
    } else if (bh_policy_field_has_prefix(f, "@dispvm:")) {
        tok.kind = BH_TOK_DISPVM_NAME;
        rest = g_strndup(f->s + 8, f->len - 8);
        g_autoptr(GError) error = NULL;
        if (!bh_qube_name_validate(rest, &error)) {
            bh_policy_errorf(c->p, c->path, c->line, f->column + 8,
                             "'%s': after '@dispvm:' a disposable template's name is expected: %s", shown,
                             error->message);
            goto out;
        }
    } else if (bh_policy_field_has_prefix(f, "@tag:")) {
        if (role == BH_TOKEN_AS_OPTION) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "%s names one qube or disposable, not '%s'",
                             what, shown);
            goto out;
        }
        tok.kind = BH_TOK_TAG;
        rest = g_strndup(f->s + 5, f->len - 5);
        g_autoptr(GError) error = NULL;
        if (!bh_tag_validate(rest, &error)) {
            bh_policy_errorf(c->p, c->path, c->line, f->column + 5, "'%s': invalid tag: %s", shown,
                             error->message);
            goto out;
        }
    } else if (bh_policy_field_has_prefix(f, "@type:")) {
        if (role == BH_TOKEN_AS_OPTION) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "%s names one qube or disposable, not '%s'",
                             what, shown);
            goto out;
        }
        tok.kind = BH_TOK_TYPE;
        rest = g_strndup(f->s + 6, f->len - 6);
        BhQubeClass klass;
        /* Exact spelling only: the file says what it means. */
        if (!bh_class_from_name(rest, &klass) || strcmp(bh_class_name(klass), rest) != 0) {
            bh_policy_errorf(c->p, c->path, c->line, f->column + 6,
                             "'%s': unknown class (AdminVM, AppVM, DispVM, StandaloneVM or TemplateVM)",
                             shown);
            goto out;
        }
    } else if (f->len > 0 && f->s[0] == '@') {
        bh_policy_errorf(c->p, c->path, c->line, f->column,
                         "unknown %s '%s' (a qube's name, @adminvm, @anyvm, @default, @dispvm, "
                         "@dispvm:NAME, @tag:T or @type:CLASS)",
                         what, shown);
        goto out;
    } else {
        tok.kind = BH_TOK_NAME;
        rest = bh_policy_field_dup(f);
        g_autoptr(GError) error = NULL;
        if (!bh_qube_name_validate(rest, &error)) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "invalid %s '%s': %s", what, shown,
                             error->message);
            goto out;
        }
    }
    tok.value = g_steal_pointer(&rest);
    *out = tok;
    ok = TRUE;
out:
    return ok;
}

static gboolean bh_policy_parse_yes_no(BhPolicyCtx *c, const BhPolicyField *value, const char *key, int *out)
{
    if (bh_policy_field_is(value, "yes")) {
        *out = 1;
        return TRUE;
    }
    if (bh_policy_field_is(value, "no")) {
        *out = 0;
        return TRUE;
    }
    g_autofree char *shown = bh_policy_field_shown(value);
    bh_policy_errorf(c->p, c->path, c->line, value->column, "%s= wants yes or no, not '%s'", key, shown);
    return FALSE;
}

static gboolean bh_policy_parse_option(BhPolicyCtx *c, const BhPolicyField *f, BhPolicyRule *r)
{
    const char *eq = memchr(f->s, '=', f->len);
    g_autofree char *shown = bh_policy_field_shown(f);

    if (eq == NULL) {
        bh_policy_errorf(c->p, c->path, c->line, f->column,
                         "'%s': options are written key=value (target, default_target, notify, autostart)",
                         shown);
        return FALSE;
    }
    BhPolicyField key = {f->s, (gsize)(eq - f->s), f->column};
    BhPolicyField value = {eq + 1, f->len - key.len - 1, f->column + (guint)key.len + 1};
    g_autofree char *key_s = bh_policy_field_shown(&key);

    if (value.len == 0) {
        bh_policy_errorf(c->p, c->path, c->line, value.column, "%s= has no value", key_s);
        return FALSE;
    }
    if (bh_policy_field_is(&key, "target")) {
        if (r->action != BH_POLICY_ALLOW) {
            bh_policy_errorf(c->p, c->path, c->line, f->column,
                             "target= only goes with allow (ask uses default_target=)");
            return FALSE;
        }
        if (r->opt_target.kind) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "target= is given twice");
            return FALSE;
        }
        return bh_policy_parse_token(c, &value, BH_TOKEN_AS_OPTION, "target=", &r->opt_target);
    }
    if (bh_policy_field_is(&key, "default_target")) {
        if (r->action != BH_POLICY_ASK) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "default_target= only goes with ask");
            return FALSE;
        }
        if (r->opt_default_target.kind) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "default_target= is given twice");
            return FALSE;
        }
        if (bh_policy_field_is(&value, "@adminvm") || bh_policy_field_is(&value, "dom0")) {
            bh_policy_errorf(c->p, c->path, c->line, value.column,
                             "default_target= cannot be dom0: an ask dialog never offers it");
            return FALSE;
        }
        return bh_policy_parse_token(c, &value, BH_TOKEN_AS_OPTION,
                                     "default_target=", &r->opt_default_target);
    }
    if (bh_policy_field_is(&key, "notify")) {
        if (r->notify != -1) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "notify= is given twice");
            return FALSE;
        }
        return bh_policy_parse_yes_no(c, &value, "notify", &r->notify);
    }
    if (bh_policy_field_is(&key, "autostart")) {
        if (r->action == BH_POLICY_DENY) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "autostart= only goes with allow or ask");
            return FALSE;
        }
        if (r->autostart != -1) {
            bh_policy_errorf(c->p, c->path, c->line, f->column, "autostart= is given twice");
            return FALSE;
        }
        return bh_policy_parse_yes_no(c, &value, "autostart", &r->autostart);
    }
    bh_policy_errorf(c->p, c->path, c->line, f->column,
                     "unknown option '%s' (target, default_target, notify or autostart)", key_s);
    return FALSE;
}

/* One line (without its newline), already checked for length. Reports at most
 * one problem: the first, since later ones often follow from it. */
static void bh_policy_parse_line(BhPolicyCtx *c, const char *s, gsize len)
{
    BhPolicyField fields[BH_POLICY_FIELDS_MAX];
    guint n = 0;
    BhPolicyRule r = {.notify = -1, .autostart = -1};

    /* Bytes first: everything after this is printable ASCII and blanks. */
    for (gsize i = 0; i < len; i++) {
        guchar b = (guchar)s[i];
        if (b == '\t' || (b >= 0x20 && b < 0x7f))
            continue;
        if (b == '\r' && i + 1 == len)
            bh_policy_errorf(c->p, c->path, c->line, (guint)i + 1,
                             "carriage return at the end of the line (save the file with Unix line endings)");
        else if (b == 0)
            bh_policy_errorf(c->p, c->path, c->line, (guint)i + 1, "NUL byte (is this a text file?)");
        else if (b >= 0x80)
            bh_policy_errorf(c->p, c->path, c->line, (guint)i + 1,
                             "byte 0x%02x: policy files are ASCII (qube names and services are)", b);
        else
            bh_policy_errorf(c->p, c->path, c->line, (guint)i + 1, "control character 0x%02x", b);
        return;
    }

    for (gsize i = 0; i < len;) {
        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        gsize start = i;
        while (i < len && s[i] != ' ' && s[i] != '\t')
            i++;
        if (n == 0 && s[start] == '#')
            return; /* a comment line */
        if (n == BH_POLICY_FIELDS_MAX) {
            bh_policy_errorf(c->p, c->path, c->line, (guint)start + 1,
                             "too many fields: a rule is SERVICE ARGUMENT SOURCE TARGET ACTION and up to "
                             "four options");
            return;
        }
        fields[n++] = (BhPolicyField){s + start, i - start, (guint)start + 1};
    }
    if (n == 0)
        return; /* blank */

    if (fields[0].s[0] == '!') {
        bh_policy_errorf(c->p, c->path, c->line, 1,
                         "directives such as !include are not supported: put rules in their own file");
        return;
    }
    if (n < 5) {
        static const char *const names[] = {"ARGUMENT", "SOURCE", "TARGET", "ACTION"};
        bh_policy_errorf(c->p, c->path, c->line, (guint)len + 1,
                         "%s is missing: a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [key=value…]",
                         names[n - 1]);
        return;
    }
    if (c->p->rules->len >= BH_POLICY_RULES_MAX) {
        bh_policy_errorf(c->p, c->path, c->line, 1, "more than %u rules in all files", BH_POLICY_RULES_MAX);
        return;
    }

    const BhPolicyField *svc = &fields[0], *arg = &fields[1];
    g_autofree char *svc_shown = bh_policy_field_shown(svc);
    g_autofree char *arg_shown = bh_policy_field_shown(arg);
    if (!bh_policy_field_is(svc, "*")) {
        if (svc->len > BH_POLICY_SERVICE_MAX || !bh_policy_name_chars(svc->s, svc->len, "._-")) {
            bh_policy_errorf(
                c->p, c->path, c->line, svc->column,
                "invalid service name '%s' (letters, digits, '.', '_' and '-', at most %u bytes; "
                "or '*')",
                svc_shown, BH_POLICY_SERVICE_MAX);
            goto out;
        }
        r.service = bh_policy_field_dup(svc);
    }
    if (bh_policy_field_is(arg, "*")) {
        r.argument = NULL;
    } else if (arg->s[0] != '+') {
        bh_policy_errorf(c->p, c->path, c->line, arg->column,
                         "the argument '%s' must be '*' or start with '+' (+ alone: no argument)", arg_shown);
        goto out;
    } else if (r.service == NULL) {
        bh_policy_errorf(c->p, c->path, c->line, arg->column, "service '*' needs argument '*', not '%s'",
                         arg_shown);
        goto out;
    } else if (arg->len - 1 > BH_POLICY_ARGUMENT_MAX ||
               !bh_policy_name_chars(arg->s + 1, arg->len - 1, "._+-")) {
        bh_policy_errorf(c->p, c->path, c->line, arg->column,
                         "invalid argument '%s' (letters, digits, '.', '_', '+' and '-', at most %u bytes)",
                         arg_shown, BH_POLICY_ARGUMENT_MAX);
        goto out;
    } else {
        r.argument = g_strndup(arg->s + 1, arg->len - 1);
    }
    if (!bh_policy_parse_token(c, &fields[2], BH_TOKEN_AS_SOURCE, "source", &r.source))
        goto out;
    if (!bh_policy_parse_token(c, &fields[3], BH_TOKEN_AS_TARGET, "target", &r.target))
        goto out;

    const BhPolicyField *act = &fields[4];
    if (bh_policy_field_is(act, "allow")) {
        r.action = BH_POLICY_ALLOW;
    } else if (bh_policy_field_is(act, "deny")) {
        r.action = BH_POLICY_DENY;
    } else if (bh_policy_field_is(act, "ask")) {
        r.action = BH_POLICY_ASK;
    } else {
        g_autofree char *shown = bh_policy_field_shown(act);
        bh_policy_errorf(c->p, c->path, c->line, act->column, "unknown action '%s' (allow, deny or ask)",
                         shown);
        goto out;
    }
    for (guint i = 5; i < n; i++)
        if (!bh_policy_parse_option(c, &fields[i], &r))
            goto out;

    r.file = c->p->files->len - 1;
    r.line = c->line;
    g_array_append_val(c->p->rules, r);
    /* The array owns the strings now. */
    r = (BhPolicyRule){0};
out:
    bh_policy_rule_clear(&r);
}

/* ---- one file ------------------------------------------------------------ */

gboolean bh_policy_file_name_valid(const char *name)
{
    gsize len = strlen(name);
    gsize suffix = strlen(".policy");

    if (len <= suffix || len > BH_POLICY_FILE_NAME_MAX || !g_str_has_suffix(name, ".policy"))
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if (!(g_ascii_isdigit(name[i]) || (name[i] >= 'a' && name[i] <= 'z') || strchr("_.-", name[i])))
            return FALSE;
    return name[0] != '.';
}

void bh_policy_add_file(BhPolicy *policy, const char *path, const char *name, const char *data, gsize len)
{
    BhPolicyCtx c = {policy, path, 0};

    g_ptr_array_add(policy->files, g_strdup(path));
    if (!bh_policy_file_name_valid(name)) {
        bh_policy_errorf(policy, path, 0, 0,
                         "file name '%.*s' is not allowed: lower-case letters, digits, '_', '.' and '-', "
                         "ending in .policy, at most %u bytes (rename the file)",
                         BH_POLICY_SHOWN_MAX, g_str_is_ascii(name) ? name : "(not ASCII)",
                         BH_POLICY_FILE_NAME_MAX);
        return;
    }
    if (len > BH_POLICY_FILE_MAX) {
        bh_policy_errorf(policy, path, 0, 0, "file is larger than %u KiB", BH_POLICY_FILE_MAX >> 10);
        return;
    }
    for (gsize pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        gsize end = nl ? (gsize)(nl - data) : len;
        c.line++;
        if (end - pos > BH_POLICY_LINE_MAX)
            bh_policy_errorf(policy, path, c.line, BH_POLICY_LINE_MAX + 1, "line is longer than %u bytes",
                             BH_POLICY_LINE_MAX);
        else
            bh_policy_parse_line(&c, data + pos, end - pos);
        pos = end + 1;
    }
}
