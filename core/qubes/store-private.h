/* store-private.h — private to core/qubes and its tests: the transaction
 * helpers that store-api.c builds on, and the schema steps.
 *
 * Owns: nothing; it joins store.c (the file) and store-api.c (the calls), and
 * lets tests build a store at an old version to compare with tests/data/.
 * Must never: be included outside core/qubes and tests/unit/qubes. */
#ifndef BH_QUBES_STORE_PRIVATE_H
#define BH_QUBES_STORE_PRIVATE_H

#include <glib.h>
#include <sqlite3.h>

#include "bulkhead/store.h"
#include "model.h"

/* The SQL that takes a store from version `from` to `from + 1`; NULL past the end. */
const char *bh_store_migration_sql(int from);

/* Run the steps from the file's user_version up to `to`, each setting
 * user_version, inside the caller's transaction. */
gboolean bh_store_migrate(sqlite3 *db, int to, GError **error);

/* The model as the file has it now, for reading; borrowed, valid until the
 * next call on the store. */
const BhModel *bh_store_current(BhStore *s, GError **error);

/* The arguments of one change, and what it hands back. */
typedef struct {
    const char *qube, *prop, *value, *label, *tmpl, *new_name;
    const char *const *props;
    BhQubeClass klass;
    int qid_out;
    char *name_out;
} BhOp;

/* Apply op to the model m (a copy); set *subject to what it touched. */
typedef gboolean (*BhChange)(BhModel *m, BhOp *op, BhSubject *subject, GError **error);

/* One transaction: run fn on a copy of the current model, validate the copy,
 * write the difference, commit. On any error nothing changes. */
gboolean bh_store_change(BhStore *s, BhChange fn, BhOp *op, GError **error);
/* The same checks on a copy of the current model, which is then thrown away:
 * what bh_store_change would answer, with nothing written. */
gboolean bh_store_try(BhStore *s, BhChange fn, BhOp *op, GError **error);

#endif
