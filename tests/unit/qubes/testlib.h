/* testlib.h — helpers shared by the core/qubes tests: temporary stores, a
 * canonical dump of a store file, SQLite's own integrity check.
 *
 * Owns: test scaffolding only.
 * Must never: go through the store API to inspect a file (the dump and the
 * integrity check read it with plain SQLite so that they judge the store
 * from outside). */
#ifndef BH_QUBES_TESTLIB_H
#define BH_QUBES_TESTLIB_H

#include <glib.h>
#include <string.h>

#include "bulkhead/store.h"

/* A temporary directory, removed with everything in it when freed. (Not
 * G_TEST_OPTION_ISOLATE_DIRS: GLib 2.74 leaks there, which fails the
 * sanitizer leg.) */
typedef struct {
    char *path;
} BhTestDir;

BhTestDir *bh_test_dir_new(void);
/* path/name (name may contain '/'). */
char *bh_test_dir_file(const BhTestDir *dir, const char *name);
void bh_test_dir_free(BhTestDir *dir);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhTestDir, bh_test_dir_free)
/* Open, failing the test on error. */
BhStore *bh_test_open(const char *path);
/* Every table's rows in a stable order plus user_version, as text. */
char *bh_test_dump(const char *path);
/* The result of PRAGMA integrity_check ("ok" when sound). */
char *bh_test_integrity(const char *path);
/* Run SQL on the file through a separate connection. */
void bh_test_sql(const char *path, const char *sql);

/* Assert that `ok` (a success condition whose call passes BH_ERR as its
 * GError **) is false and failed with the given BH_QUBES_ERROR code; the
 * message goes to the test log. bh_assert_fails_msg: and the message
 * contains `needle`. */
#define BH_ERR                    (&bh_err_)
#define bh_assert_fails(ok, code) bh_assert_fails_msg(ok, code, "")

#define bh_assert_fails_msg(ok, code, needle)                                                                \
    G_STMT_START                                                                                             \
    {                                                                                                        \
        GError *bh_err_ = NULL;                                                                              \
        g_assert_false(ok);                                                                                  \
        g_assert_error(bh_err_, BH_QUBES_ERROR, (code));                                                     \
        g_test_message("expected error: %s", bh_err_->message);                                              \
        if (strstr(bh_err_->message, (needle)) == NULL)                                                      \
            g_test_message("the message lacks: %s", (needle));                                               \
        g_assert_nonnull(strstr(bh_err_->message, (needle)));                                                \
        g_error_free(bh_err_);                                                                               \
    }                                                                                                        \
    G_STMT_END

/* The crash test's step i (i >= BH_STEP_FIRST): a deterministic sequence of
 * creates (with properties), sets, tags, removals and untags, so that the
 * test can compute what the store must hold after any prefix of it. */
#define BH_STEP_FIRST 5
typedef enum { BH_STEP_CREATE, BH_STEP_SET, BH_STEP_TAG, BH_STEP_REMOVE, BH_STEP_UNTAG } BhStepKind;
typedef struct {
    BhStepKind kind;
    char qube[32];
    char arg[32]; /* label (create) or tag */
    int value;    /* memory (create, set) */
} BhStep;

void bh_test_crash_step(int i, BhStep *out);
gboolean bh_test_crash_apply(BhStore *s, const BhStep *step, GError **error);

#endif
