/* test-policy.c — the policy engine (core/policy, docs/policy.md): every
 * token, action and option, each error message with its column, the order of
 * files, the broken-file rule, the caps, and BhPolicyStore's reload.
 *
 * Must never: read the user's own policy (every directory is a temporary one
 * or the source tree's shipped policy.d). */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bh-policy-store.h"
#include "bulkhead/policy.h"

#define TEST_PATH "/etc/p/50-test.policy"

static BhPolicySystem *make_system(void)
{
    BhPolicySystem *sys = bh_policy_system_new();
    const char *work_tags[] = {"trusted", "office", NULL};
    const char *untrusted_tags[] = {"risky", NULL};

    g_assert_true(bh_policy_system_add(sys, "work", "AppVM", work_tags, FALSE, NULL, "default-dvm"));
    g_assert_true(bh_policy_system_add(sys, "personal", "AppVM", NULL, FALSE, NULL, "other-dvm"));
    g_assert_true(bh_policy_system_add(sys, "untrusted", "AppVM", untrusted_tags, FALSE, NULL, NULL));
    g_assert_true(bh_policy_system_add(sys, "default-dvm", "AppVM", NULL, TRUE, NULL, "default-dvm"));
    g_assert_true(bh_policy_system_add(sys, "other-dvm", "AppVM", NULL, TRUE, NULL, "default-dvm"));
    g_assert_true(bh_policy_system_add(sys, "disp12", "DispVM", NULL, FALSE, "default-dvm", "default-dvm"));
    g_assert_true(bh_policy_system_add(sys, "disp13", "DispVM", NULL, FALSE, "other-dvm", "other-dvm"));
    g_assert_true(bh_policy_system_add(sys, "debian-12", "TemplateVM", NULL, FALSE, NULL, NULL));
    return sys;
}

static BhPolicy *parse(const char *text)
{
    BhPolicy *p = bh_policy_new();
    bh_policy_add_file(p, TEST_PATH, "50-test.policy", text, strlen(text));
    return p;
}

static BhPolicyVerdict eval(const BhPolicy *p, const BhPolicySystem *sys, const char *service,
                            const char *source, const char *target, BhPolicyDecision *d)
{
    const char *plus = strchr(service, '+');
    g_autofree char *svc = plus ? g_strndup(service, (gsize)(plus - service)) : g_strdup(service);
    BhPolicyRequest req = {svc, plus ? plus + 1 : "", source, target};
    bh_policy_evaluate(p, sys, &req, d);
    return d->verdict;
}

/* The verdict alone, for tables. */
static BhPolicyVerdict verdict(const char *text, const char *service, const char *source, const char *target)
{
    g_autoptr(BhPolicySystem) sys = make_system();
    g_autoptr(BhPolicy) p = parse(text);
    BhPolicyDecision d;
    g_assert_cmpuint(bh_policy_n_errors(p), ==, 0);
    BhPolicyVerdict v = eval(p, sys, service, source, target, &d);
    bh_policy_decision_clear(&d);
    return v;
}

#define ALLOW BH_POLICY_ALLOW
#define DENY  BH_POLICY_DENY
#define ASK   BH_POLICY_ASK

static void test_source_tokens(void)
{
    static const struct {
        const char *source_token, *source;
        BhPolicyVerdict expect;
    } cases[] = {
        {"work", "work", ALLOW},
        {"work", "personal", DENY},
        {"@adminvm", "dom0", ALLOW},
        {"dom0", "dom0", ALLOW},
        {"@adminvm", "work", DENY},
        {"@anyvm", "work", ALLOW},
        {"@anyvm", "disp12", ALLOW},
        {"@anyvm", "dom0", DENY}, /* @anyvm is never dom0 */
        {"@dispvm", "disp12", ALLOW},
        {"@dispvm", "default-dvm", DENY},
        {"@dispvm", "work", DENY},
        {"@dispvm:default-dvm", "disp12", ALLOW},
        {"@dispvm:default-dvm", "disp13", DENY},
        {"@dispvm:default-dvm", "default-dvm", DENY}, /* the template itself is no disposable */
        {"@tag:trusted", "work", ALLOW},
        {"@tag:trusted", "untrusted", DENY},
        {"@tag:trusted", "dom0", DENY},
        {"@type:AppVM", "work", ALLOW},
        {"@type:AppVM", "disp12", DENY},
        {"@type:DispVM", "disp12", ALLOW},
        {"@type:TemplateVM", "debian-12", ALLOW},
        {"@type:AdminVM", "dom0", ALLOW},
        {"@type:AdminVM", "work", DENY},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("svc.A * %s personal allow\n", cases[i].source_token);
        g_test_message("%s from %s", cases[i].source_token, cases[i].source);
        g_assert_cmpint(verdict(text, "svc.A", cases[i].source, "personal"), ==, cases[i].expect);
    }
    /* A source the facts do not hold is denied before any rule. */
    g_assert_cmpint(verdict("* * @anyvm @anyvm allow\n", "svc.A", "ghost", "work"), ==, DENY);
}

static void test_target_tokens(void)
{
    static const struct {
        const char *target_token, *source, *target;
        BhPolicyVerdict expect;
    } cases[] = {
        {"personal", "work", "personal", ALLOW},
        {"personal", "work", "untrusted", DENY},
        {"@adminvm", "work", "@adminvm", ALLOW},
        {"@adminvm", "work", "dom0", ALLOW},
        {"@adminvm", "work", "personal", DENY},
        {"dom0", "work", "@adminvm", ALLOW},
        {"@anyvm", "work", "personal", ALLOW},
        {"@anyvm", "work", "dom0", DENY}, /* @anyvm is never dom0, however spelled */
        {"@anyvm", "work", "@adminvm", DENY},
        {"@anyvm", "work", "@dispvm", ALLOW},
        {"@anyvm", "work", "@dispvm:other-dvm", ALLOW},
        {"@default", "work", "@default", DENY}, /* allow with @default and no target= denies */
        {"@default", "work", "personal", DENY},
        {"@dispvm", "work", "@dispvm", ALLOW},
        {"@dispvm", "work", "@dispvm:default-dvm", ALLOW}, /* work's default_dispvm */
        {"@dispvm", "work", "@dispvm:other-dvm", DENY},
        {"@dispvm", "untrusted", "@dispvm", DENY}, /* no default_dispvm: nothing to start */
        {"@dispvm", "work", "disp12", DENY},
        {"@dispvm:other-dvm", "work", "@dispvm:other-dvm", ALLOW},
        {"@dispvm:other-dvm", "personal", "@dispvm", ALLOW}, /* personal's default_dispvm */
        {"@dispvm:other-dvm", "work", "@dispvm", DENY},
        {"@dispvm:other-dvm", "work", "disp13", ALLOW}, /* a running disposable of it */
        {"@dispvm:other-dvm", "work", "disp12", DENY},
        {"@dispvm:other-dvm", "work", "other-dvm", DENY},
        {"@tag:risky", "work", "untrusted", ALLOW},
        {"@tag:risky", "work", "personal", DENY},
        {"@type:TemplateVM", "work", "debian-12", ALLOW},
        {"@type:TemplateVM", "work", "personal", DENY},
        {"@type:AdminVM", "work", "dom0", ALLOW},
        {"@type:DispVM", "work", "@dispvm", DENY}, /* a class names qubes that exist */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("svc.A * @anyvm %s allow\n", cases[i].target_token);
        g_test_message("%s to %s from %s", cases[i].target_token, cases[i].target, cases[i].source);
        g_assert_cmpint(verdict(text, "svc.A", cases[i].source, cases[i].target), ==, cases[i].expect);
    }
    /* Requests that name nothing real. */
    g_assert_cmpint(verdict("* * @anyvm @anyvm allow\n", "svc.A", "work", "ghost"), ==, DENY);
    g_assert_cmpint(verdict("* * @anyvm @anyvm allow\n", "svc.A", "work", "@dispvm:personal"), ==, DENY);
    g_assert_cmpint(verdict("* * @anyvm @anyvm allow\n", "svc.A", "work", "@dispvm:ghost"), ==, DENY);
    g_assert_cmpint(verdict("* * @anyvm @anyvm allow\n", "svc.A", "work", "@anyvm"), ==, DENY);
    g_assert_cmpint(verdict("* * @anyvm @anyvm allow\n", "svc.A", "work", "@tag:trusted"), ==, DENY);
}

static void test_service_argument(void)
{
    const char *text = "svc.A +one work personal allow\n"
                       "svc.A + work personal ask\n"
                       "svc.B * work personal allow\n";
    g_assert_cmpint(verdict(text, "svc.A+one", "work", "personal"), ==, ALLOW);
    g_assert_cmpint(verdict(text, "svc.A", "work", "personal"), ==, ASK); /* '+' alone: no argument */
    g_assert_cmpint(verdict(text, "svc.A+two", "work", "personal"), ==, DENY);
    g_assert_cmpint(verdict(text, "svc.B+any", "work", "personal"), ==, ALLOW);
    g_assert_cmpint(verdict(text, "svc.C", "work", "personal"), ==, DENY);
    g_assert_cmpint(verdict("* * work personal allow\n", "svc.C+x", "work", "personal"), ==, ALLOW);
    /* A request with a name that no file could hold is denied, not matched by '*'. */
    g_assert_cmpint(verdict("* * work personal allow\n", "svc C", "work", "personal"), ==, DENY);
    g_assert_cmpint(verdict("* * work personal allow\n", "svc.C+a/b", "work", "personal"), ==, DENY);
}

static void test_actions(void)
{
    g_autoptr(BhPolicySystem) sys = make_system();
    BhPolicyDecision d;

    /* allow: the target as asked, or as target= redirects it. */
    g_autoptr(BhPolicy) p = parse("# comment\n"
                                  "\n"
                                  "svc.A * work @anyvm allow\n"
                                  "svc.B * work @default allow target=personal\n"
                                  "svc.C * work @anyvm allow target=@dispvm\n"
                                  "svc.D * @anyvm @anyvm allow target=@dispvm:other-dvm\n"
                                  "svc.E * work @anyvm allow target=ghost\n"
                                  "svc.F * work @anyvm allow target=@adminvm\n");
    g_assert_cmpuint(bh_policy_n_errors(p), ==, 0);
    g_assert_cmpuint(bh_policy_n_rules(p), ==, 6);
    g_assert_cmpint(eval(p, sys, "svc.A", "work", "personal", &d), ==, ALLOW);
    g_assert_cmpstr(d.target, ==, "personal");
    g_assert_cmpstr(d.file, ==, TEST_PATH);
    g_assert_cmpuint(d.line, ==, 3);
    g_assert_false(d.notify);
    g_assert_true(d.autostart);
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.A", "work", "@dispvm", &d), ==, ALLOW);
    g_assert_cmpstr(d.target, ==, "@dispvm:default-dvm"); /* resolved to work's default_dispvm */
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.A", "work", "@default", &d), ==, DENY);
    g_assert_nonnull(strstr(d.reason, "no target="));
    g_assert_cmpuint(d.line, ==, 3);
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.B", "work", "@default", &d), ==, ALLOW);
    g_assert_cmpstr(d.target, ==, "personal");
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.C", "work", "personal", &d), ==, ALLOW);
    g_assert_cmpstr(d.target, ==, "@dispvm:default-dvm");
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.D", "untrusted", "work", &d), ==, ALLOW);
    g_assert_cmpstr(d.target, ==, "@dispvm:other-dvm");
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.E", "work", "personal", &d), ==, DENY);
    g_assert_nonnull(strstr(d.reason, "target="));
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.F", "work", "personal", &d), ==, ALLOW);
    g_assert_cmpstr(d.target, ==, "@adminvm");
    bh_policy_decision_clear(&d);

    /* deny notifies unless told not to; its rule is named. */
    g_autoptr(BhPolicy) q = parse("svc.A * work personal deny\n"
                                  "svc.B * work personal deny notify=no\n"
                                  "svc.C * work personal allow notify=yes autostart=no\n");
    g_assert_cmpuint(bh_policy_n_errors(q), ==, 0);
    g_assert_cmpint(eval(q, sys, "svc.A", "work", "personal", &d), ==, DENY);
    g_assert_true(d.notify);
    g_assert_cmpuint(d.line, ==, 1);
    g_assert_cmpstr(d.reason, ==, "denied by the rule");
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(q, sys, "svc.B", "work", "personal", &d), ==, DENY);
    g_assert_false(d.notify);
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(q, sys, "svc.C", "work", "personal", &d), ==, ALLOW);
    g_assert_true(d.notify);
    g_assert_false(d.autostart);
    bh_policy_decision_clear(&d);
    /* No match: deny, no rule named. */
    g_assert_cmpint(eval(q, sys, "svc.Z", "work", "personal", &d), ==, DENY);
    g_assert_null(d.file);
    g_assert_nonnull(strstr(d.reason, "no rule matched"));
    bh_policy_decision_clear(&d);
}

static void test_ask(void)
{
    g_autoptr(BhPolicySystem) sys = make_system();
    BhPolicyDecision d;
    g_autoptr(BhPolicy) p = parse("svc.A * @anyvm untrusted deny\n"
                                  "svc.A * @anyvm @dispvm:other-dvm deny\n"
                                  "svc.A * work @tag:trusted deny\n"
                                  "svc.A * @anyvm @anyvm ask default_target=personal\n"
                                  "svc.B * work @default ask default_target=@dispvm\n"
                                  "svc.B * work personal allow\n"
                                  "svc.B * work disp12 ask\n"
                                  "svc.C * work @default ask default_target=untrusted\n"
                                  "svc.D * work @default ask\n");
    g_assert_cmpuint(bh_policy_n_errors(p), ==, 0);

    /* The list: every target the same call may reach, never the source, never
     * dom0, never what a deny rule before the ask forbids. */
    g_assert_cmpint(eval(p, sys, "svc.A", "work", "@default", &d), ==, ASK);
    g_autofree char *list = g_strjoinv(",", d.targets);
    /* disp13 is a disposable of other-dvm: rule 2 denies it too. */
    g_assert_cmpstr(list, ==, "@dispvm:default-dvm,debian-12,default-dvm,disp12,other-dvm,personal");
    g_assert_cmpstr(d.default_target, ==, "personal");
    g_assert_cmpuint(d.line, ==, 4);
    bh_policy_decision_clear(&d);
    /* A named target is preselected. */
    g_assert_cmpint(eval(p, sys, "svc.A", "work", "debian-12", &d), ==, ASK);
    g_assert_cmpstr(d.default_target, ==, "debian-12");
    bh_policy_decision_clear(&d);
    /* @dispvm: work's default disposable template, resolved. */
    g_assert_cmpint(eval(p, sys, "svc.B", "work", "@default", &d), ==, ASK);
    g_clear_pointer(&list, g_free);
    list = g_strjoinv(",", d.targets);
    g_assert_cmpstr(list, ==, "disp12,personal"); /* allow and ask rules both offer */
    g_assert_null(d.default_target);              /* @dispvm:default-dvm is not in the list */
    bh_policy_decision_clear(&d);
    /* default_target= that is not offered is not preselected. */
    g_assert_cmpint(eval(p, sys, "svc.C", "work", "@default", &d), ==, DENY); /* nothing to offer */
    g_assert_nonnull(strstr(d.reason, "no target may be offered"));
    bh_policy_decision_clear(&d);
}

static void test_default_only_target(void)
{
    g_autoptr(BhPolicy) p = parse("svc.A * @default work allow\n");
    g_assert_cmpuint(bh_policy_n_errors(p), ==, 1);
    g_assert_cmpstr(bh_policy_error(p, 0), ==,
                    TEST_PATH ":1:9: '@default' can only be a target (the caller named none), not a source");
}

/* Every message, with its column. */
static void test_errors(void)
{
    static const struct {
        const char *line, *error;
    } cases[] = {
        {"svc.A", "1:6: ARGUMENT is missing: a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [key=value…]"},
        {"svc.A * work",
         "1:13: TARGET is missing: a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [key=value…]"},
        {"svc.A * work personal",
         "1:22: ACTION is missing: a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [key=value…]"},
        {"svc/A * work personal allow",
         "1:1: invalid service name 'svc/A' (letters, digits, '.', '_' and '-', at most 64 bytes; or '*')"},
        {"svc.A arg work personal allow",
         "1:7: the argument 'arg' must be '*' or start with '+' (+ alone: no argument)"},
        {"* +x work personal allow", "1:3: service '*' needs argument '*', not '+x'"},
        {"svc.A +a/b work personal allow",
         "1:7: invalid argument '+a/b' (letters, digits, '.', '_', '+' and '-', at most 64 bytes)"},
        {"svc.A * 1work personal allow",
         "1:9: invalid source '1work': qube name '1work' must start with a letter"},
        {"svc.A * work @bogus allow",
         "1:14: unknown target '@bogus' (a qube's name, @adminvm, @anyvm, @default, @dispvm, @dispvm:NAME, "
         "@tag:T or @type:CLASS)"},
        {"svc.A * @tag:a/b work allow", "1:14: '@tag:a/b': invalid tag: "},
        {"svc.A * @type:appvm work allow",
         "1:15: '@type:appvm': unknown class (AdminVM, AppVM, DispVM, StandaloneVM or TemplateVM)"},
        {"svc.A * @dispvm: work allow",
         "1:17: '@dispvm:': after '@dispvm:' a disposable template's name is expected: "},
        {"svc.A * work personal permit", "1:23: unknown action 'permit' (allow, deny or ask)"},
        {"svc.A * work personal allow target",
         "1:29: 'target': options are written key=value (target, default_target, notify, autostart)"},
        {"svc.A * work personal allow colour=red",
         "1:29: unknown option 'colour' (target, default_target, notify or autostart)"},
        {"svc.A * work personal allow target=", "1:36: target= has no value"},
        {"svc.A * work personal ask target=work",
         "1:27: target= only goes with allow (ask uses default_target=)"},
        {"svc.A * work personal allow target=a target=b", "1:38: target= is given twice"},
        {"svc.A * work personal allow target=@anyvm",
         "1:36: target= names one qube or disposable, not '@anyvm'"},
        {"svc.A * work personal allow target=@default",
         "1:36: '@default' can only be a target (the caller named none), not a target="},
        {"svc.A * work personal allow target=@tag:x",
         "1:36: target= names one qube or disposable, not '@tag:x'"},
        {"svc.A * work personal allow default_target=x", "1:29: default_target= only goes with ask"},
        {"svc.A * work @default ask default_target=dom0",
         "1:42: default_target= cannot be dom0: an ask dialog never offers it"},
        {"svc.A * work personal ask default_target=a default_target=b",
         "1:44: default_target= is given twice"},
        {"svc.A * work personal allow notify=maybe", "1:36: notify= wants yes or no, not 'maybe'"},
        {"svc.A * work personal allow notify=yes notify=no", "1:40: notify= is given twice"},
        {"svc.A * work personal deny autostart=yes", "1:28: autostart= only goes with allow or ask"},
        {"svc.A * work personal ask autostart=1", "1:37: autostart= wants yes or no, not '1'"},
        {"svc.A * work personal ask autostart=no autostart=no", "1:40: autostart= is given twice"},
        {"svc.A * work personal allow a=1 b=2 c=3 d=4 e=5",
         "1:45: too many fields: a rule is SERVICE ARGUMENT SOURCE TARGET ACTION and up to four options"},
        {"!include /etc/other",
         "1:1: directives such as !include are not supported: put rules in their own file"},
        {"svc.A * work personal allow\r",
         "1:28: carriage return at the end of the line (save the file with Unix line endings)"},
        {"svc.A * w\x01rk personal allow", "1:10: control character 0x01"},
        {"svc.A * w\xc3\xa9rk personal allow",
         "1:10: byte 0xc3: policy files are ASCII (qube names and services are)"},
        {"svc.A * work personal allow # comment",
         "1:29: '#': options are written key=value (target, default_target, notify, autostart)"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("%s\n", cases[i].line);
        g_autoptr(BhPolicy) p = parse(text);
        g_autofree char *expect = g_strconcat(TEST_PATH ":", cases[i].error, NULL);
        g_test_message("line: %s", cases[i].line);
        g_assert_cmpuint(bh_policy_n_errors(p), ==, 1);
        g_assert_cmpuint(bh_policy_n_rules(p), ==, 0);
        /* The whole message, or its fixed start where it quotes another module. */
        g_autofree char *got = g_strndup(bh_policy_error(p, 0), strlen(expect));
        g_assert_cmpstr(got, ==, expect);
    }
    /* A NUL byte (not reachable through a C string literal in the table). */
    g_autoptr(BhPolicy) p = bh_policy_new();
    static const char nul_text[] = "ok * a b allow\nsvc\0 * a b allow\n";
    bh_policy_add_file(p, TEST_PATH, "50-test.policy", nul_text, sizeof nul_text - 1);
    g_assert_cmpuint(bh_policy_n_errors(p), ==, 1);
    g_assert_cmpstr(bh_policy_error(p, 0), ==, TEST_PATH ":2:4: NUL byte (is this a text file?)");
    /* Line numbers count every line, blank and comment too; tabs are blanks. */
    g_autoptr(BhPolicy) q = parse("# one\n\n\tsvc.A\t*\twork\tpersonal\tallow\nsvc.A * work personal nope\n");
    g_assert_cmpuint(bh_policy_n_errors(q), ==, 1);
    g_assert_cmpstr(bh_policy_error(q, 0), ==, TEST_PATH ":4:23: unknown action 'nope' (allow, deny or ask)");
}

static void test_limits(void)
{
    /* A line over the cap, a file over the cap, the rule cap, and file names. */
    g_autofree char *long_line = g_strnfill(BH_POLICY_LINE_MAX + 1, 'a');
    g_autoptr(BhPolicy) p = parse(long_line);
    g_assert_cmpstr(bh_policy_error(p, 0), ==, TEST_PATH ":1:1025: line is longer than 1024 bytes");
    g_autofree char *exact = g_strnfill(BH_POLICY_LINE_MAX, ' ');
    g_autoptr(BhPolicy) p2 = parse(exact);
    g_assert_cmpuint(bh_policy_n_errors(p2), ==, 0);

    g_autofree char *big = g_strnfill(BH_POLICY_FILE_MAX + 1, '\n');
    g_autoptr(BhPolicy) p3 = parse(big);
    g_assert_cmpstr(bh_policy_error(p3, 0), ==, TEST_PATH ":0:0: file is larger than 256 KiB");

    GString *many = g_string_new(NULL);
    for (guint i = 0; i < BH_POLICY_RULES_MAX + 1; i++)
        g_string_append(many, "s * a b deny\n");
    g_autoptr(BhPolicy) p4 = parse(many->str);
    g_assert_cmpuint(bh_policy_n_rules(p4), ==, BH_POLICY_RULES_MAX);
    g_assert_cmpuint(bh_policy_n_errors(p4), ==, 1);
    g_assert_cmpstr(bh_policy_error(p4, 0), ==, TEST_PATH ":10001:1: more than 10000 rules in all files");
    g_string_free(many, TRUE);

    /* Problems beyond the kept ones are still counted. */
    GString *bad = g_string_new(NULL);
    for (guint i = 0; i < BH_POLICY_ERRORS_MAX + 5; i++)
        g_string_append(bad, "bad\n");
    g_autoptr(BhPolicy) p5 = parse(bad->str);
    g_assert_cmpuint(bh_policy_n_errors(p5), ==, BH_POLICY_ERRORS_MAX + 5);
    g_assert_null(bh_policy_error(p5, BH_POLICY_ERRORS_MAX));
    g_string_free(bad, TRUE);

    static const struct {
        const char *name;
        gboolean ok;
    } names[] = {
        {"50-test.policy", TRUE},     {"a.b_c-d.policy", TRUE}, {"Upper.policy", FALSE},
        {"with space.policy", FALSE}, {".policy", FALSE},       {".hidden.policy", FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(BhPolicy) n = bh_policy_new();
        bh_policy_add_file(n, names[i].name, names[i].name, "", 0);
        g_assert_cmpuint(bh_policy_n_errors(n), ==, names[i].ok ? 0 : 1);
    }
    g_autoptr(BhPolicy) n = bh_policy_new();
    bh_policy_add_file(n, "/x/Upper.policy", "Upper.policy", "", 0);
    g_assert_true(g_str_has_prefix(bh_policy_error(n, 0),
                                   "/x/Upper.policy:0:0: file name 'Upper.policy' is not "
                                   "allowed: lower-case letters, digits"));
}

/* ---- directories ---------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *tmp = g_strconcat(dir, "/.tmp-", name, NULL);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    /* Written aside and renamed, as editors do: the loader never sees half a file. */
    g_assert_true(g_file_set_contents(tmp, text, -1, &error));
    g_assert_cmpint(rename(tmp, path), ==, 0);
}

static char *make_tmpdir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("bh-policy-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

static void rm_rf(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_order(void)
{
    g_autofree char *root = make_tmpdir();
    g_autofree char *sys_dir = g_build_filename(root, "system", NULL);
    g_autofree char *user_dir = g_build_filename(root, "user", NULL);
    g_autofree char *missing = g_build_filename(root, "missing", NULL);
    const char *dirs[] = {sys_dir, missing, user_dir, NULL};
    g_autoptr(BhPolicySystem) sys = make_system();
    BhPolicyDecision d;

    write_file(sys_dir, "90-default.policy", "* * @anyvm @anyvm deny\n");
    write_file(sys_dir, "50-shipped.policy", "svc.A * work personal deny\nsvc.M * work personal allow\n");
    /* C-locale order: "10-" before "9-", '-' (0x2d) before '.' (0x2e) before '_'. */
    write_file(user_dir, "9-later.policy", "svc.B * work personal deny\n");
    write_file(user_dir, "10-first.policy", "svc.B * work personal allow\n");
    write_file(user_dir, "20-a_b.policy", "svc.C * work personal deny\n");
    write_file(user_dir, "20-a.b.policy", "svc.C * work personal ask\n");
    write_file(user_dir, "20-a-b.policy", "svc.C * work personal allow\n");
    /* The user's file of a shipped name replaces it. */
    write_file(user_dir, "50-shipped.policy", "svc.A * work personal allow\n");
    /* Not policy: ignored. */
    write_file(user_dir, "00-notes.txt", "garbage\n");
    write_file(user_dir, "00-backup.policy~", "garbage\n");
    write_file(user_dir, ".00-hidden.policy", "garbage\n");

    g_autoptr(BhPolicy) p = bh_policy_load_dirs(dirs);
    g_assert_cmpuint(bh_policy_n_errors(p), ==, 0);
    g_assert_cmpint(eval(p, sys, "svc.B", "work", "personal", &d), ==, ALLOW);
    g_assert_true(g_str_has_suffix(d.file, "/user/10-first.policy"));
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.C", "work", "personal", &d), ==, ALLOW);
    g_assert_true(g_str_has_suffix(d.file, "/20-a-b.policy"));
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "svc.A", "work", "personal", &d), ==, ALLOW);
    g_assert_true(g_str_has_suffix(d.file, "/user/50-shipped.policy"));
    bh_policy_decision_clear(&d);
    /* Replaced means gone: svc.M lived only in the shipped 50-shipped. */
    g_assert_cmpint(eval(p, sys, "svc.M", "work", "personal", &d), ==, DENY);
    g_assert_true(g_str_has_suffix(d.file, "/system/90-default.policy"));
    bh_policy_decision_clear(&d);

    /* An invalid name that looks like policy is an error, not a skipped file. */
    write_file(user_dir, "My Rules.policy", "svc.Q * work personal allow\n");
    g_autoptr(BhPolicy) q = bh_policy_load_dirs(dirs);
    g_assert_cmpuint(bh_policy_n_errors(q), ==, 1);
    g_assert_true(strstr(bh_policy_error(q, 0), "/user/My Rules.policy:0:0: file name 'My Rules.policy'"));
    g_assert_cmpint(eval(q, sys, "svc.B", "work", "personal", &d), ==, DENY);
    bh_policy_decision_clear(&d);
    g_autofree char *bad = g_build_filename(user_dir, "My Rules.policy", NULL);
    g_assert_cmpint(unlink(bad), ==, 0);

    /* A FIFO or a directory named *.policy: recorded, never waited on. */
    g_autofree char *fifo = g_build_filename(user_dir, "30-fifo.policy", NULL);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_autofree char *subdir = g_build_filename(user_dir, "31-dir.policy", NULL);
    g_assert_cmpint(g_mkdir(subdir, 0700), ==, 0);
    g_autoptr(BhPolicy) r = bh_policy_load_dirs(dirs);
    g_assert_cmpuint(bh_policy_n_errors(r), ==, 2);
    g_assert_true(g_str_has_suffix(bh_policy_error(r, 0), "30-fifo.policy:0:0: not a regular file"));
    g_assert_true(g_str_has_suffix(bh_policy_error(r, 1), "31-dir.policy:0:0: not a regular file"));
    unlink(fifo);
    g_rmdir(subdir);

    /* The file cap. */
    for (guint i = 0; i < BH_POLICY_FILES_MAX; i++) {
        g_autofree char *name = g_strdup_printf("x%03u.policy", i);
        write_file(missing, name, "");
    }
    g_autoptr(BhPolicy) s = bh_policy_load_dirs(dirs);
    g_assert_cmpuint(bh_policy_n_errors(s), ==, 1);
    g_assert_true(g_str_has_suffix(bh_policy_error(s, 0), ":0:0: more than 256 policy files"));
    rm_rf(root);
}

/* Any file that does not parse denies every request, whatever the other
 * files say, until it is fixed. */
static void test_broken_denies_everything(void)
{
    g_autofree char *root = make_tmpdir();
    const char *dirs[] = {root, NULL};
    g_autoptr(BhPolicySystem) sys = make_system();
    BhPolicyDecision d;

    write_file(root, "10-good.policy", "* * @anyvm @anyvm allow\n");
    g_autoptr(BhPolicy) good = bh_policy_load_dirs(dirs);
    /* Control: the good file alone allows. */
    g_assert_cmpint(eval(good, sys, "svc.A", "work", "personal", &d), ==, ALLOW);
    bh_policy_decision_clear(&d);

    write_file(root, "99-typo.policy", "\n\nsvc.B * work personal alow\n");
    g_autoptr(BhPolicy) broken = bh_policy_load_dirs(dirs);
    g_assert_cmpint(eval(broken, sys, "svc.A", "work", "personal", &d), ==, DENY);
    g_assert_true(g_str_has_suffix(d.file, "/99-typo.policy"));
    g_assert_cmpuint(d.line, ==, 3);
    g_assert_nonnull(strstr(d.reason, "the policy has 1 problem, so everything is denied until it is fixed"));
    g_assert_nonnull(strstr(d.reason, "99-typo.policy:3:23: unknown action 'alow'"));
    g_autofree char *text = bh_policy_decision_format(&d);
    g_assert_true(g_str_has_prefix(text, "decision: deny\nrule: "));
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(broken, sys, "svc.B", "work", "personal", &d), ==, DENY);
    bh_policy_decision_clear(&d);

    write_file(root, "99-typo.policy", "\n\nsvc.B * work personal allow\n");
    g_autoptr(BhPolicy) fixed = bh_policy_load_dirs(dirs);
    g_assert_cmpint(eval(fixed, sys, "svc.A", "work", "personal", &d), ==, ALLOW);
    bh_policy_decision_clear(&d);
    rm_rf(root);
}

/* The shipped policy.d: paste asks (Ctrl+Shift+V is the answer), a file
 * copy asks (bulkhead-ask), all else denies. */
static void test_shipped(void)
{
    g_autofree char *dir = g_build_filename(g_getenv("BH_SOURCE_ROOT"), "core", "policy", "policy.d", NULL);
    const char *dirs[] = {dir, NULL};
    g_autoptr(BhPolicySystem) sys = make_system();
    g_autoptr(BhPolicy) p = bh_policy_load_dirs(dirs);
    BhPolicyDecision d;

    g_assert_cmpuint(bh_policy_n_errors(p), ==, 0);
    g_assert_cmpint(eval(p, sys, "bulkhead.ClipboardPaste", "untrusted", "work", &d), ==, ASK);
    g_assert_cmpstr(d.default_target, ==, "work");
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "bulkhead.ClipboardPaste", "work", "dom0", &d), ==, DENY);
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "bulkhead.ClipboardPaste", "dom0", "work", &d), ==, DENY);
    bh_policy_decision_clear(&d);
    /* A copy asks, offering every qube but the source and dom0, the named
     * target preselected; never into dom0. */
    g_assert_cmpint(eval(p, sys, "bulkhead.Filecopy", "work", "personal", &d), ==, ASK);
    g_assert_cmpstr(d.default_target, ==, "personal");
    g_assert_false(g_strv_contains((const char *const *)d.targets, "work"));
    g_assert_false(g_strv_contains((const char *const *)d.targets, "dom0"));
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "bulkhead.Filecopy", "work", "@default", &d), ==, ASK);
    g_assert_null(d.default_target);
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "bulkhead.Filecopy", "work", "@adminvm", &d), ==, DENY);
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "qubes.Filecopy", "work", "personal", &d), ==, DENY);
    g_assert_nonnull(d.file); /* the explicit final deny */
    bh_policy_decision_clear(&d);
    g_assert_cmpint(eval(p, sys, "qubes.Filecopy", "work", "@adminvm", &d), ==, DENY);
    bh_policy_decision_clear(&d);
}

static void test_default_dirs(void)
{
    g_setenv("BH_POLICY_SYSTEM_DIR", "/somewhere/policy.d", TRUE);
    g_auto(GStrv) dirs = bh_policy_default_dirs();
    g_assert_cmpstr(dirs[0], ==, "/somewhere/policy.d");
    g_assert_true(g_str_has_suffix(dirs[1], "/bulkhead/policy.d"));
    g_assert_null(dirs[2]);
    g_unsetenv("BH_POLICY_SYSTEM_DIR");
    g_auto(GStrv) built = bh_policy_default_dirs();
    /* This test runs from the build tree: the source tree's shipped files. */
    g_assert_true(g_str_has_suffix(built[0], "/core/policy/policy.d"));
}

/* ---- reload ---------------------------------------------------------------- */

static gboolean on_timeout(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Runs the main loop until the store's policy gives want for the request, or
 * limit_ms pass. Returns the milliseconds it took, or -1. */
static gint64 wait_for(BhPolicyStore *store, const BhPolicySystem *sys, const char *source,
                       BhPolicyVerdict want, guint limit_ms)
{
    gint64 start = g_get_monotonic_time();
    gboolean expired = FALSE;
    guint id = g_timeout_add(limit_ms, on_timeout, &expired);

    while (!expired) {
        g_autoptr(BhPolicy) p = bh_policy_store_get_policy(store);
        BhPolicyDecision d;
        BhPolicyVerdict v = eval(p, sys, "svc.A", source, "personal", &d);
        bh_policy_decision_clear(&d);
        if (v == want) {
            g_source_remove(id);
            return (g_get_monotonic_time() - start) / 1000;
        }
        g_main_context_iteration(NULL, TRUE);
    }
    return -1;
}

static void test_reload(void)
{
    g_autofree char *root = make_tmpdir();
    g_autofree char *sys_dir = g_build_filename(root, "system", NULL);
    g_autofree char *user_dir = g_build_filename(root, "user-not-yet", NULL);
    const char *dirs[] = {sys_dir, user_dir, NULL};
    g_autoptr(BhPolicySystem) sys = make_system();
    guint changed = 0;

    write_file(sys_dir, "90-default.policy", "* * @anyvm @anyvm deny\n");
    g_autoptr(BhPolicyStore) store = bh_policy_store_new(dirs);
    g_signal_connect_swapped(store, "changed", G_CALLBACK(g_atomic_int_inc), &changed);
    g_assert_cmpint(wait_for(store, sys, "work", DENY, 1), >=, 0);

    /* A new file: picked up within 5 s (the settle delay is 100 ms). */
    write_file(sys_dir, "10-allow.policy", "svc.A * work personal allow\n");
    gint64 ms = wait_for(store, sys, "work", ALLOW, 5000);
    g_test_message("new file picked up after %" G_GINT64_FORMAT " ms", ms);
    g_assert_cmpint(ms, >=, 0);
    g_assert_cmpuint(changed, >=, 1);

    /* A broken edit denies everything; the fix allows again. */
    write_file(sys_dir, "10-allow.policy", "svc.A * work personal allow notify=perhaps\n");
    g_assert_cmpint(wait_for(store, sys, "work", DENY, 5000), >=, 0);
    write_file(sys_dir, "10-allow.policy", "svc.A * work personal allow\n");
    g_assert_cmpint(wait_for(store, sys, "work", ALLOW, 5000), >=, 0);

    /* Removing the file: back to deny. */
    g_autofree char *path = g_build_filename(sys_dir, "10-allow.policy", NULL);
    g_assert_cmpint(unlink(path), ==, 0);
    g_assert_cmpint(wait_for(store, sys, "work", DENY, 5000), >=, 0);

    /* A directory that did not exist at start (the user's policy.d, usually):
     * GLib polls for it, so the bound is longer. */
    write_file(user_dir, "20-user.policy", "svc.A * personal personal allow\n");
    ms = wait_for(store, sys, "personal", ALLOW, 15000);
    g_test_message("file in a new directory picked up after %" G_GINT64_FORMAT " ms", ms);
    g_assert_cmpint(ms, >=, 0);

    g_assert_cmpstr(bh_policy_store_get_dirs(store)[1], ==, user_dir);
    g_clear_object(&store);
    rm_rf(root);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/source-tokens", test_source_tokens);
    g_test_add_func("/policy/target-tokens", test_target_tokens);
    g_test_add_func("/policy/service-argument", test_service_argument);
    g_test_add_func("/policy/actions", test_actions);
    g_test_add_func("/policy/ask", test_ask);
    g_test_add_func("/policy/default-only-target", test_default_only_target);
    g_test_add_func("/policy/errors", test_errors);
    g_test_add_func("/policy/limits", test_limits);
    g_test_add_func("/policy/order", test_order);
    g_test_add_func("/policy/broken-denies-everything", test_broken_denies_everything);
    g_test_add_func("/policy/shipped", test_shipped);
    g_test_add_func("/policy/default-dirs", test_default_dirs);
    g_test_add_func("/policy/reload", test_reload);
    return g_test_run();
}
