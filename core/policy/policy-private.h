/* policy-private.h — the parsed form shared by the parser, the loader and
 * the evaluator of core/policy (policy.h). Nothing outside core/policy and
 * its tests includes this. */
#pragma once

#include "bulkhead/policy.h"

typedef enum {
    BH_TOK_NAME = 1,    /* a literal qube name (dom0 is always BH_TOK_ADMINVM) */
    BH_TOK_ADMINVM,     /* @adminvm, dom0 */
    BH_TOK_ANYVM,       /* @anyvm: every qube but dom0 */
    BH_TOK_DEFAULT,     /* @default: the caller named no target */
    BH_TOK_DISPVM,      /* @dispvm */
    BH_TOK_DISPVM_NAME, /* @dispvm:NAME */
    BH_TOK_TAG,         /* @tag:T */
    BH_TOK_TYPE,        /* @type:CLASS */
} BhPolicyTokKind;

typedef struct {
    BhPolicyTokKind kind; /* 0: absent (an option not given) */
    char *value;          /* NAME, T, CLASS; NULL for the bare tokens */
} BhPolicyTok;

typedef struct {
    char *service;  /* NULL: '*' */
    char *argument; /* NULL: '*'; "" for a bare '+' */
    BhPolicyTok source;
    BhPolicyTok target;
    BhPolicyVerdict action;
    BhPolicyTok opt_target;         /* target= (allow) */
    BhPolicyTok opt_default_target; /* default_target= (ask) */
    int notify;                     /* -1: not given */
    int autostart;                  /* -1: not given */
    guint file;                     /* index into BhPolicy.files */
    guint line;
} BhPolicyRule;

struct _BhPolicy {
    gint refs;
    GPtrArray *files;  /* paths, as given */
    GArray *rules;     /* BhPolicyRule */
    GPtrArray *errors; /* "path:line:column: what", at most BH_POLICY_ERRORS_MAX */
    guint n_errors;    /* all of them, kept or not */
    char *first_error_file;
    guint first_error_line;
};

typedef struct {
    char *name;
    char *klass;
    GHashTable *tags; /* set; NULL: none */
    gboolean template_for_dispvms;
    char *dispvm_template;
    char *default_dispvm;
} BhPolicyQube;

struct _BhPolicySystem {
    GHashTable *qubes; /* name -> BhPolicyQube*; dom0 included */
};

const BhPolicyQube *bh_policy_system_lookup(const BhPolicySystem *sys, const char *name);

/* [0-9a-z_.-]+ ending in .policy, not starting with '.', at most
 * BH_POLICY_FILE_NAME_MAX bytes. */
gboolean bh_policy_file_name_valid(const char *name);
