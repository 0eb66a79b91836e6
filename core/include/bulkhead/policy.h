/* policy.h — the policy engine: who may call which service in which qube
 * (docs/policy.md).
 *
 * Owns: the format of `*.policy` files (a validating, bounded parser with
 * `file:line:column` errors), the order in which files are read, and the
 * evaluation of one request (service, argument, source, requested target)
 * against the rules and a table of qube facts the caller fills in.
 * Must never: do I/O other than reading the policy directories it is given
 * (bh_policy_load_dirs), keep global state, or decide anything but deny when
 * a file is broken, no rule matches, or a request names what it cannot be. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Hard caps: a policy is dom0's own file, but a typo (a pasted binary, a
 * runaway generator) must cost bounded memory and time. */
#define BH_POLICY_LINE_MAX      1024u        /* bytes per line, without the newline */
#define BH_POLICY_FILE_MAX      (256u << 10) /* bytes per file */
#define BH_POLICY_RULES_MAX     10000u       /* rules over all files */
#define BH_POLICY_FILES_MAX     256u         /* `*.policy` files over all directories */
#define BH_POLICY_FILE_NAME_MAX 128u         /* bytes of a file's name */
#define BH_POLICY_SERVICE_MAX   64u          /* bytes of a service name */
#define BH_POLICY_ARGUMENT_MAX  64u          /* bytes of an argument, without the '+' */
#define BH_POLICY_ERRORS_MAX    100u         /* problems kept (more are counted) */

typedef enum {
    BH_POLICY_DENY = 0, /* zero: a decision that was never filled in denies */
    BH_POLICY_ALLOW,
    BH_POLICY_ASK,
} BhPolicyVerdict;

/* "allow", "deny", "ask". */
const char *bh_policy_verdict_name(BhPolicyVerdict verdict);

/* ---- qube facts: what the caller (bulkheadd, the CLI) knows ------------- */

/* A table of the qubes that exist, filled in by the caller from the store or
 * from ListQubes; the evaluator looks facts up here and nowhere else. dom0 is
 * always present (class AdminVM) and cannot be added. */
typedef struct _BhPolicySystem BhPolicySystem;

BhPolicySystem *bh_policy_system_new(void);
void bh_policy_system_free(BhPolicySystem *sys);
/* klass: "AppVM", "DispVM", … as bh_class_name() spells it; tags: NULL or a
 * NULL-terminated list; dispvm_template: for a DispVM, the disposable template
 * it was made from (else NULL); default_dispvm: the disposable template a
 * `@dispvm` request from this qube uses (NULL or "" for none). Returns FALSE
 * (and adds nothing) for dom0, a name or class that is not valid, or a name
 * already added. */
gboolean bh_policy_system_add(BhPolicySystem *sys, const char *name, const char *klass,
                              const char *const *tags, gboolean template_for_dispvms,
                              const char *dispvm_template, const char *default_dispvm);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhPolicySystem, bh_policy_system_free)

/* ---- parsed policy -------------------------------------------------------- */

typedef struct _BhPolicy BhPolicy;

/* An empty policy (no rules, no problems: every request is denied). */
BhPolicy *bh_policy_new(void);
BhPolicy *bh_policy_ref(BhPolicy *policy);
void bh_policy_unref(BhPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhPolicy, bh_policy_unref)

/* Parses one file's bytes (which need not be NUL-terminated) and appends its
 * rules, in order, after the rules already held. path is what errors and
 * decisions name; name is the file's base name, checked against
 * [0-9a-z_.-]+\.policy. Problems are recorded in the policy (never thrown):
 * see bh_policy_n_errors(). */
void bh_policy_add_file(BhPolicy *policy, const char *path, const char *name, const char *data, gsize len);

/* Records a problem that is not inside a line (a file that cannot be read, too
 * many files): it is shown as "path:0:0: what". */
void bh_policy_add_file_error(BhPolicy *policy, const char *path, const char *what);

/* Reads every `*.policy` file of dirs (a NULL-terminated list, earlier first)
 * in one C-locale name order; a file in a later directory replaces the file of
 * the same name in an earlier one (so a user can mask a shipped file). A
 * directory that does not exist holds no files. Other names are ignored. */
BhPolicy *bh_policy_load_dirs(const char *const *dirs);

/* The directories a default installation reads: the shipped files
 * (BH_POLICY_SYSTEM_DIR from the environment, else the source tree's
 * core/policy/policy.d when the program runs from the build tree, else
 * <datadir>/bulkhead/policy.d), then $XDG_CONFIG_HOME/bulkhead/policy.d. */
char **bh_policy_default_dirs(void);

guint bh_policy_n_rules(const BhPolicy *policy);
/* Files parsed (a file that could not be read is only a problem). */
guint bh_policy_n_files(const BhPolicy *policy);
/* Problems found while loading; any problem makes every evaluation deny. */
guint bh_policy_n_errors(const BhPolicy *policy);
/* "path:line:column: what is wrong", i < MIN(n_errors, BH_POLICY_ERRORS_MAX). */
const char *bh_policy_error(const BhPolicy *policy, guint i);

/* ---- evaluation ------------------------------------------------------------ */

typedef struct {
    const char *service;  /* "bulkhead.ClipboardPaste" */
    const char *argument; /* "" for none; without the '+' */
    const char *source;   /* a qube name, or "dom0"; named by dom0, never by the caller */
    const char *target;   /* a qube name, "dom0", "@adminvm", "@default", "@dispvm", "@dispvm:NAME" */
} BhPolicyRequest;

typedef struct {
    BhPolicyVerdict verdict;
    /* allow: the qube (or "@dispvm:NAME" for a new disposable, "@adminvm")
     * the call goes to. */
    char *target;
    /* ask: the targets the dialog may offer (sorted, NULL-terminated, never
     * the source or dom0), and the one to preselect (NULL: none). */
    char **targets;
    char *default_target;
    gboolean notify;    /* notify=yes, or a deny that did not say notify=no */
    gboolean autostart; /* autostart=yes (the default) */
    char *file;         /* the rule that decided: path and line; NULL when none did */
    guint line;
    char *reason; /* deny: why, in words (never NULL for a deny) */
} BhPolicyDecision;

/* Evaluates req: the first matching rule over all files decides; no match,
 * a broken policy, an unknown source or a target that does not exist deny.
 * Fills *out (free with bh_policy_decision_clear). Pure: same inputs, same
 * decision. */
void bh_policy_evaluate(const BhPolicy *policy, const BhPolicySystem *sys, const BhPolicyRequest *req,
                        BhPolicyDecision *out);
void bh_policy_decision_clear(BhPolicyDecision *decision);

/* The decision as text for logs and `bulkhead policy eval`, one "key: value"
 * per line. */
char *bh_policy_decision_format(const BhPolicyDecision *decision);

G_END_DECLS
