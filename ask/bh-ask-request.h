/* bh-ask-request.h — what bulkhead-ask is asked: the source qube and its
 * label, the service in words, the targets policy allows, the default.
 *
 * Owns: checking the command line before any of it reaches the screen.
 * Must never: accept a target that is the source or dom0 (an ask never
 * offers them, docs/policy.md), a default that is not among the targets,
 * or text that is not clean, bounded UTF-8. */
#ifndef BH_ASK_REQUEST_H
#define BH_ASK_REQUEST_H

#include <glib.h>

#include "bulkhead/qubes.h"

#define BH_ASK_MAX_TARGETS     256
#define BH_ASK_MAX_SERVICE     120  /* bytes of the service's words */
#define BH_ASK_DEFAULT_TIMEOUT 60   /* seconds until the dialog denies */
#define BH_ASK_FOCUS_MS        1000 /* focus time before OK works */

typedef struct {
    char *source;
    const BhLabel *source_label;
    char *service;
    GPtrArray *targets;       /* char *, in the order given */
    GPtrArray *target_labels; /* const BhLabel * or NULL, one per target */
    char *default_target;     /* NULL: none preselected */
    guint timeout_s;
    guint focus_ms;
} BhAskRequest;

/* Parses argv (without argv[0]):
 *   --source QUBE --label LABEL --service WORDS --target QUBE [--target-label LABEL]...
 *   [--default QUBE] [--timeout SECONDS] [--focus-ms MS]
 * A target is a qube name or @dispvm / @dispvm:QUBE; --target-label gives
 * the label of the target before it (its colour in the list). */
BhAskRequest *bh_ask_request_parse(int argc, char **argv, GError **error);
void bh_ask_request_free(BhAskRequest *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhAskRequest, bh_ask_request_free)

/* A target in the user's words: "New disposable (from default-dvm)" for
 * "@dispvm:default-dvm", "New disposable" for "@dispvm", else the name.
 * Only the words change: the dialog still prints the target itself. */
char *bh_ask_target_words(const char *target);

/* Whether a target row named name is shown for what the user typed:
 * a case-insensitive substring (type-ahead). */
gboolean bh_ask_matches(const char *name, const char *typed);

#endif /* BH_ASK_REQUEST_H */
