/* store.c — the SQLite store behind store.h: opening, schema migrations,
 * loading the model and writing each change as one transaction.
 *
 * Owns: the file. Every mutation is BEGIN IMMEDIATE → load (or reuse) the
 * model → change a copy → validate the whole copy → write the difference →
 * COMMIT; any error rolls back, so the file is left exactly as it was and
 * the cached model is untouched.
 * Must never: decide a rule itself (model.c does), or keep a transaction
 * open across calls.
 *
 * Durability: WAL with synchronous=FULL, so COMMIT returns only after the
 * WAL is fsync'd. A change this API acknowledged survives the process being
 * killed and also power loss, as far as the disk honours fsync. NORMAL would
 * survive a process crash but could lose the last commits on power loss;
 * changes are rare user actions, so the fsync per commit costs nothing that
 * matters. */
#include "bulkhead/store.h"
#include "model.h"
#include "store-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

struct BhStore {
    sqlite3 *db;
    char *path;
    GHashTable *stmts;    /* SQL text → sqlite3_stmt*, prepared once */
    BhModel *cache;       /* the file's content as of cache_version */
    gint64 cache_version; /* PRAGMA data_version when cache was loaded */
};

/* ---- schema ---------------------------------------------------------------- */

/* migrations[v] takes a store from version v to v + 1. Never edit a step
 * that has shipped: add one. Foreign keys are DEFERRABLE so that a change
 * may write its rows in any order; they are checked at COMMIT. */
static const char *const migrations[] = {
    /* 0 → 1: qubes, their properties, the globals. Qube references are qids. */
    "CREATE TABLE qubes (\n"
    "  qid INTEGER PRIMARY KEY CHECK (qid >= 0),\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  class TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE props (\n"
    "  qid INTEGER NOT NULL REFERENCES qubes(qid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
    "  name TEXT NOT NULL,\n"
    "  value TEXT,\n"
    "  ref INTEGER REFERENCES qubes(qid) DEFERRABLE INITIALLY DEFERRED,\n"
    "  PRIMARY KEY (qid, name)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX props_ref ON props(ref);\n"
    "CREATE TABLE globals (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  value TEXT,\n"
    "  ref INTEGER REFERENCES qubes(qid) DEFERRABLE INITIALLY DEFERRED\n"
    ") WITHOUT ROWID;\n",

    /* 1 → 2: a uuid per qube (random v4; dom0's is all zeros), tags, and
     * the qid allocator's position so that ids are not reused soon. */
    "ALTER TABLE qubes ADD COLUMN uuid TEXT;\n"
    "UPDATE qubes SET uuid = CASE qid WHEN 0 THEN '00000000-0000-0000-0000-000000000000' ELSE\n"
    "  lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||\n"
    "  substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) ||\n"
    "  substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) END;\n"
    "CREATE UNIQUE INDEX qubes_uuid ON qubes(uuid);\n"
    "CREATE TABLE tags (\n"
    "  qid INTEGER NOT NULL REFERENCES qubes(qid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
    "  tag TEXT NOT NULL,\n"
    "  PRIMARY KEY (qid, tag)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE meta (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO meta(key, value) SELECT 'next_qid', coalesce(max(qid), 0) + 1 FROM qubes;\n",

    /* 2 → 3: each qube's last app list as its agent's program wrote it and
     * the daemon's decoder accepted it (docs/apps.md), so that a halted
     * qube's apps are in the menu. The store keeps the bytes; it does not
     * read them. */
    "CREATE TABLE apps (\n"
    "  qid INTEGER PRIMARY KEY REFERENCES qubes(qid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
    "  data BLOB NOT NULL\n"
    ") WITHOUT ROWID;\n",

    /* 3 → 4: each qube's firewall rules in order (bulkhead/firewall.h); a
     * qube without rows has the default, "action=accept". */
    "CREATE TABLE firewall (\n"
    "  qid INTEGER NOT NULL REFERENCES qubes(qid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
    "  pos INTEGER NOT NULL CHECK (pos >= 0),\n"
    "  rule TEXT NOT NULL,\n"
    "  PRIMARY KEY (qid, pos)\n"
    ") WITHOUT ROWID;\n",

    /* 4 → 5: each qube's services (qvm-service) set on (1) or off (0); a
     * service without a row is unset. */
    "CREATE TABLE services (\n"
    "  qid INTEGER NOT NULL REFERENCES qubes(qid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
    "  name TEXT NOT NULL,\n"
    "  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),\n"
    "  PRIMARY KEY (qid, name)\n"
    ") WITHOUT ROWID;\n",

    /* 5 → 6: why a qube's last app list was not kept, so that it is still
     * said after a restart and bulkheadd --read-app-lists does not start
     * the qube again for a list it cannot give (docs/apps.md). */
    "CREATE TABLE apps_problems (\n"
    "  qid INTEGER PRIMARY KEY REFERENCES qubes(qid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n"
    "  reason TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == BH_STORE_SCHEMA_VERSION);

const char *bh_store_migration_sql(int from)
{
    if (from < 0 || from >= (int)G_N_ELEMENTS(migrations))
        return NULL;
    return migrations[from];
}

/* ---- errors ------------------------------------------------------------------ */

static void set_db_error(const char *path, sqlite3 *db, int rc, const char *doing, GError **error)
{
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_BUSY,
                    "the store %s stayed locked by another process for more than %d s while %s; "
                    "try again, and check that only one bulkheadd runs",
                    path, BH_STORE_BUSY_MS / 1000, doing);
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "the store %s is damaged or is not a Bulkhead store (%s, while %s); restore it from a "
                    "backup, or move it away to start with a new one",
                    path, msg, doing);
        break;
    case SQLITE_FULL:
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "the disk holding %s is full (while %s); free some space and try again", path, doing);
        break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "cannot open or write the store %s (%s, while %s); check that the file and its "
                    "directory exist and are writable by this user",
                    path, msg, doing);
        break;
    case SQLITE_IOERR:
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "input/output error on the store %s (%s, while %s); check the disk", path, msg, doing);
        break;
    default:
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE, "the store %s failed while %s: %s", path,
                    doing, msg);
        break;
    }
}

static void store_error(BhStore *s, int rc, const char *doing, GError **error)
{
    set_db_error(s->path, s->db, rc, doing, error);
}

/* ---- statements ---------------------------------------------------------------- */

static sqlite3_stmt *stmt(BhStore *s, const char *sql, GError **error)
{
    sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);
    int rc;

    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        store_error(s, rc, "preparing a statement", error);
        return NULL;
    }
    g_hash_table_insert(s->stmts, (gpointer)sql, st);
    return st;
}

/* Bind by a type string: 'i' int, 's' text (NULL → NULL), 'r' qube ref
 * (BH_QID_NONE → NULL); then step to completion. */
static gboolean runv(BhStore *s, GError **error, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = stmt(s, sql, error);
    va_list ap;
    int i, rc;

    if (st == NULL)
        return FALSE;
    va_start(ap, types);
    for (i = 0; types[i] != '\0'; i++) {
        switch (types[i]) {
        case 'i':
            sqlite3_bind_int(st, i + 1, va_arg(ap, int));
            break;
        case 's':
            sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
            break;
        case 'r': {
            int ref = va_arg(ap, int);
            if (ref == BH_QID_NONE)
                sqlite3_bind_null(st, i + 1);
            else
                sqlite3_bind_int(st, i + 1, ref);
            break;
        }
        default:
            g_assert_not_reached();
        }
    }
    va_end(ap);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_error(s, rc, "writing", error);
        return FALSE;
    }
    return TRUE;
}

static gboolean exec(BhStore *s, const char *sql, const char *doing, GError **error)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        store_error(s, rc, doing, error);
        return FALSE;
    }
    return TRUE;
}

static gboolean pragma_int(BhStore *s, const char *sql, gint64 *out, GError **error)
{
    sqlite3_stmt *st = stmt(s, sql, error);
    int rc;

    if (st == NULL)
        return FALSE;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_error(s, rc, "reading the store's state", error);
        sqlite3_reset(st);
        return FALSE;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return TRUE;
}

static gboolean pragma_text(BhStore *s, const char *sql, const char *expect, GError **error)
{
    sqlite3_stmt *st = stmt(s, sql, error);
    gboolean ok;
    int rc;

    if (st == NULL)
        return FALSE;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_error(s, rc, sql, error);
        sqlite3_reset(st);
        return FALSE;
    }
    ok = g_ascii_strcasecmp((const char *)sqlite3_column_text(st, 0), expect) == 0;
    if (!ok)
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "the store %s answered '%s' to %s, expected '%s'; restore it from a backup or move "
                    "it away",
                    s->path, (const char *)sqlite3_column_text(st, 0), sql, expect);
    sqlite3_reset(st);
    return ok;
}

static void rollback(BhStore *s)
{
    /* A failed COMMIT or an I/O error may already have ended the transaction. */
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static gboolean commit(BhStore *s, GError **error)
{
    int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);

    if (rc == SQLITE_OK)
        return TRUE;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "the store %s refused a change as inconsistent (%s); nothing was changed. This is a "
                    "Bulkhead bug: please report it",
                    s->path, sqlite3_errmsg(s->db));
    else
        store_error(s, rc, "committing", error);
    return FALSE;
}

/* ---- migrations ------------------------------------------------------------------ */

gboolean bh_store_migrate(sqlite3 *db, int to, GError **error)
{
    sqlite3_stmt *st = NULL;
    int version, rc;

    rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        set_db_error(sqlite3_db_filename(db, "main"), db, rc, "reading the schema version", error);
        sqlite3_finalize(st);
        return FALSE;
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    for (; version < to; version++) {
        g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", version + 1);
        const char *sql = bh_store_migration_sql(version);
        if (sql == NULL) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE, "no migration from schema version %d",
                        version);
            return FALSE;
        }
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, bump, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            g_autofree char *doing = g_strdup_printf("migrating from schema version %d", version);
            set_db_error(sqlite3_db_filename(db, "main"), db, rc, doing, error);
            return FALSE;
        }
        g_info("store migrated to schema version %d", version + 1);
    }
    return TRUE;
}

/* ---- loading and writing the model ---------------------------------------------------- */

/* One row of a load query into the model; FALSE (with error) stops the load. */
typedef gboolean (*BhRowFn)(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error);

static gboolean each_row(BhStore *s, BhModel *m, const char *sql, BhRowFn fn, GError **error)
{
    sqlite3_stmt *st = stmt(s, sql, error);
    gboolean ok = TRUE;
    int rc;

    if (st == NULL)
        return FALSE;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ok = fn(s, m, st, error);
    sqlite3_reset(st);
    if (ok && rc != SQLITE_DONE) {
        store_error(s, rc, "loading the store", error);
        return FALSE;
    }
    return ok;
}

static const char *column(sqlite3_stmt *st, int col)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    return text != NULL ? text : "";
}

static gboolean load_qube(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error)
{
    BhQubeClass klass;

    if (!bh_class_from_name(column(st, 2), &klass)) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "the store %s has a qube of unknown class '%s'; it was written by another program: "
                    "restore it from a backup",
                    s->path, column(st, 2));
        return FALSE;
    }
    bh_model_insert(m, sqlite3_column_int(st, 0), column(st, 1), klass, column(st, 3));
    return TRUE;
}

/* Values in the file went through the model's checks on their way in; a row
 * that does not parse now (a hand edit, a property this version dropped) is
 * skipped with a message and its default applies. Columns: value, ref. */
static void load_value(BhStore *s, const BhPropDef *def, BhMVal *slot, sqlite3_stmt *st, int col,
                       const char *owner)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *canon = NULL;

    if (def->type == BH_PROP_QUBE) {
        gboolean none = sqlite3_column_type(st, col + 1) == SQLITE_NULL;
        bh_mval_set(slot, none ? BH_QID_NONE : sqlite3_column_int(st, col + 1), NULL);
        return;
    }
    canon = bh_prop_normalize(def, column(st, col), &local);
    if (canon == NULL) {
        g_message("%s: ignoring stored %s of %s: %s", s->path, def->name, owner, local->message);
        return;
    }
    bh_mval_set(slot, BH_QID_NONE, canon);
}

static gboolean load_prop(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error)
{
    BhMQube *q = bh_model_find_qid(m, sqlite3_column_int(st, 0));
    int idx = bh_prop_index(column(st, 1));
    const BhPropDef *def = idx < 0 ? NULL : &bh_props(NULL)[idx];

    if (q != NULL && def != NULL && bh_prop_applies(def, q->klass) &&
        !(def->flags & (BH_PROPF_READ_ONLY | BH_PROPF_RENAME)))
        load_value(s, def, &q->props[idx], st, 2, q->name);
    return TRUE;
}

static gboolean load_tag(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error)
{
    BhMQube *q = bh_model_find_qid(m, sqlite3_column_int(st, 0));

    if (q != NULL)
        g_hash_table_add(q->tags, g_strdup(column(st, 1)));
    return TRUE;
}

/* Rows come in (qid, pos) order; a rule that does not parse any more is
 * kept as it is (the daemon reports it when it applies the rules). */
static gboolean load_firewall(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error)
{
    BhMQube *q = bh_model_find_qid(m, sqlite3_column_int(st, 0));
    if (q == NULL)
        return TRUE;
    guint n = q->firewall ? g_strv_length(q->firewall) : 0;
    q->firewall = g_renew(char *, q->firewall, n + 2);
    q->firewall[n] = g_strdup(column(st, 1));
    q->firewall[n + 1] = NULL;
    return TRUE;
}

/* A name the model would refuse (written by hand into the file) is left
 * out: it could never reach a qube as a file name. */
static gboolean load_service(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error)
{
    BhMQube *q = bh_model_find_qid(m, sqlite3_column_int(st, 0));

    if (q != NULL && bh_service_validate(column(st, 1), NULL))
        g_hash_table_insert(q->services, g_strdup(column(st, 1)),
                            GINT_TO_POINTER(sqlite3_column_int(st, 2) != 0));
    return TRUE;
}

static gboolean load_global(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error)
{
    int idx = bh_global_index(column(st, 0));

    if (idx >= 0)
        load_value(s, &bh_globals(NULL)[idx], &m->globals[idx], st, 1, "the globals");
    return TRUE;
}

static gboolean load_meta(BhStore *s, BhModel *m, sqlite3_stmt *st, GError **error)
{
    m->next_qid = sqlite3_column_int(st, 0);
    return TRUE;
}

static BhModel *load(BhStore *s, GError **error)
{
    g_autoptr(BhModel) m = bh_model_new();

    if (!each_row(s, m, "SELECT qid, name, class, uuid FROM qubes", load_qube, error) ||
        !each_row(s, m, "SELECT qid, name, value, ref FROM props", load_prop, error) ||
        !each_row(s, m, "SELECT qid, tag FROM tags", load_tag, error) ||
        !each_row(s, m, "SELECT qid, rule FROM firewall ORDER BY qid, pos", load_firewall, error) ||
        !each_row(s, m, "SELECT qid, name, enabled FROM services", load_service, error) ||
        !each_row(s, m, "SELECT name, value, ref FROM globals", load_global, error) ||
        !each_row(s, m, "SELECT value FROM meta WHERE key = 'next_qid'", load_meta, error))
        return NULL;
    return g_steal_pointer(&m);
}

static gboolean write_value(BhStore *s, int qid, const BhPropDef *def, const BhMVal *old, const BhMVal *now,
                            GError **error)
{
    static const BhMVal unset = {FALSE, BH_QID_NONE, NULL};

    if (old == NULL)
        old = &unset;
    if (bh_mval_equal(old, now))
        return TRUE;
    if (qid == BH_QID_NONE) {
        if (!now->set)
            return runv(s, error, "DELETE FROM globals WHERE name = ?", "s", def->name);
        return runv(s, error,
                    "INSERT INTO globals(name, value, ref) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value, ref = excluded.ref",
                    "ssr", def->name, now->text, now->ref);
    }
    if (!now->set)
        return runv(s, error, "DELETE FROM props WHERE qid = ? AND name = ?", "is", qid, def->name);
    return runv(s, error,
                "INSERT INTO props(qid, name, value, ref) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(qid, name) DO UPDATE SET value = excluded.value, ref = excluded.ref",
                "issr", qid, def->name, now->text, now->ref);
}

static gboolean write_tags(BhStore *s, const BhMQube *old, const BhMQube *now, GError **error)
{
    GHashTableIter it;
    gpointer tag;

    g_hash_table_iter_init(&it, now->tags);
    while (g_hash_table_iter_next(&it, &tag, NULL)) {
        if ((old == NULL || !g_hash_table_contains(old->tags, tag)) &&
            !runv(s, error, "INSERT INTO tags(qid, tag) VALUES (?, ?)", "is", now->qid, (const char *)tag))
            return FALSE;
    }
    if (old == NULL)
        return TRUE;
    g_hash_table_iter_init(&it, old->tags);
    while (g_hash_table_iter_next(&it, &tag, NULL)) {
        if (!g_hash_table_contains(now->tags, tag) &&
            !runv(s, error, "DELETE FROM tags WHERE qid = ? AND tag = ?", "is", now->qid, (const char *)tag))
            return FALSE;
    }
    return TRUE;
}

static gboolean write_firewall(BhStore *s, const BhMQube *old, const BhMQube *now, GError **error)
{
    const char *const none[] = {NULL};
    const char *const *before = old && old->firewall ? (const char *const *)old->firewall : none;
    const char *const *after = now->firewall ? (const char *const *)now->firewall : none;
    if ((old == NULL || (old->firewall == NULL) == (now->firewall == NULL)) && g_strv_equal(before, after))
        return TRUE;
    if (old != NULL && !runv(s, error, "DELETE FROM firewall WHERE qid = ?", "i", now->qid))
        return FALSE;
    for (int i = 0; after[i]; i++) {
        if (!runv(s, error, "INSERT INTO firewall(qid, pos, rule) VALUES (?, ?, ?)", "iis", now->qid, i,
                  after[i]))
            return FALSE;
    }
    return TRUE;
}

static gboolean write_services(BhStore *s, const BhMQube *old, const BhMQube *now, GError **error)
{
    GHashTableIter it;
    gpointer name, on, was;

    g_hash_table_iter_init(&it, now->services);
    while (g_hash_table_iter_next(&it, &name, &on)) {
        if (old != NULL && g_hash_table_lookup_extended(old->services, name, NULL, &was) && was == on)
            continue;
        if (!runv(s, error,
                  "INSERT INTO services(qid, name, enabled) VALUES (?, ?, ?) "
                  "ON CONFLICT(qid, name) DO UPDATE SET enabled = excluded.enabled",
                  "isi", now->qid, (const char *)name, GPOINTER_TO_INT(on)))
            return FALSE;
    }
    if (old == NULL)
        return TRUE;
    g_hash_table_iter_init(&it, old->services);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        if (!g_hash_table_contains(now->services, name) &&
            !runv(s, error, "DELETE FROM services WHERE qid = ? AND name = ?", "is", now->qid,
                  (const char *)name))
            return FALSE;
    }
    return TRUE;
}

/* Write what differs between the cached model and the changed copy. Removed
 * qubes go first so that a freed name can be reused within the change. */
static gboolean write_diff(BhStore *s, const BhModel *old, const BhModel *now, GError **error)
{
    const BhPropDef *props = bh_props(NULL);
    const BhPropDef *globals = bh_globals(NULL);
    g_autoptr(GPtrArray) before = bh_model_sorted(old);
    g_autoptr(GPtrArray) after = bh_model_sorted(now);
    guint i;
    int idx;

    for (i = 0; i < before->len; i++) {
        const BhMQube *q = before->pdata[i];
        if (bh_model_find_qid(now, q->qid) == NULL &&
            !runv(s, error, "DELETE FROM qubes WHERE qid = ?", "i", q->qid))
            return FALSE;
    }
    for (i = 0; i < after->len; i++) {
        const BhMQube *q = after->pdata[i];
        const BhMQube *o = bh_model_find_qid(old, q->qid);
        if (o == NULL && !runv(s, error, "INSERT INTO qubes(qid, name, class, uuid) VALUES (?, ?, ?, ?)",
                               "isss", q->qid, q->name, bh_class_name(q->klass), q->uuid))
            return FALSE;
        if (o != NULL && strcmp(o->name, q->name) != 0 &&
            !runv(s, error, "UPDATE qubes SET name = ? WHERE qid = ?", "si", q->name, q->qid))
            return FALSE;
        for (idx = 0; idx < BH_PROPS_N; idx++) {
            if (!write_value(s, q->qid, &props[idx], o ? &o->props[idx] : NULL, &q->props[idx], error))
                return FALSE;
        }
        if (!write_tags(s, o, q, error) || !write_firewall(s, o, q, error) || !write_services(s, o, q, error))
            return FALSE;
    }
    for (idx = 0; idx < BH_GLOBALS_N; idx++) {
        if (!write_value(s, BH_QID_NONE, &globals[idx], &old->globals[idx], &now->globals[idx], error))
            return FALSE;
    }
    if (old->next_qid != now->next_qid && !runv(s, error,
                                                "INSERT INTO meta(key, value) VALUES ('next_qid', ?) "
                                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                                "i", now->next_qid))
        return FALSE;
    return TRUE;
}

/* ---- transactions ------------------------------------------------------------------- */

/* Inside a transaction: make the cache match the file. data_version changes
 * only when another connection commits, so an unchanged value means the
 * cache (which follows our own commits) is current. */
static gboolean refresh(BhStore *s, GError **error)
{
    gint64 version;
    BhModel *m;

    if (!pragma_int(s, "PRAGMA data_version", &version, error))
        return FALSE;
    if (s->cache != NULL && version == s->cache_version)
        return TRUE;
    m = load(s, error);
    if (m == NULL)
        return FALSE;
    bh_model_free(s->cache);
    s->cache = m;
    s->cache_version = version;
    return TRUE;
}

const BhModel *bh_store_current(BhStore *s, GError **error)
{
    if (!exec(s, "BEGIN", "starting to read", error))
        return NULL;
    if (!refresh(s, error)) {
        rollback(s);
        return NULL;
    }
    if (!commit(s, error)) {
        rollback(s);
        return NULL;
    }
    return s->cache;
}

gboolean bh_store_change(BhStore *s, BhChange fn, BhOp *op, GError **error)
{
    g_autoptr(BhModel) copy = NULL;
    BhSubject subject = BH_SUBJECT_NONE;

    if (!exec(s, "BEGIN IMMEDIATE", "starting a change", error))
        return FALSE;
    if (!refresh(s, error))
        goto fail;
    copy = bh_model_copy(s->cache);
    if (!fn(copy, op, &subject, error) || !bh_model_validate(copy, subject, error) ||
        !write_diff(s, s->cache, copy, error) || !commit(s, error))
        goto fail;
    bh_model_free(s->cache);
    s->cache = g_steal_pointer(&copy);
    return TRUE;
fail:
    rollback(s);
    return FALSE;
}

gboolean bh_store_try(BhStore *s, BhChange fn, BhOp *op, GError **error)
{
    g_autoptr(BhModel) copy = NULL;
    BhSubject subject = BH_SUBJECT_NONE;
    const BhModel *now = bh_store_current(s, error);

    if (now == NULL)
        return FALSE;
    copy = bh_model_copy(now);
    return fn(copy, op, &subject, error) && bh_model_validate(copy, subject, error);
}

/* ---- opening ----------------------------------------------------------------------------- */

char *bh_store_default_path(void)
{
    const char *env = g_getenv("BH_STORE_PATH");
    const char *data = g_getenv("XDG_DATA_HOME");

    if (env != NULL && env[0] != '\0')
        return g_strdup(env);
    /* The XDG spec: a relative XDG_DATA_HOME is invalid and ignored. */
    if (data != NULL && g_path_is_absolute(data))
        return g_build_filename(data, "bulkhead", "qubes.db", NULL);
    return g_build_filename(g_get_home_dir(), ".local", "share", "bulkhead", "qubes.db", NULL);
}

/* The first-run template stands for the host's own root, so it is named
 * after the host's OS ("debian-12"); "host" when that gives no valid name. */
static char *host_template_name(void)
{
    static const char *const files[] = {"/etc/os-release", "/usr/lib/os-release"};
    g_autofree char *id = NULL, *version = NULL;
    g_autoptr(GString) name = g_string_new(NULL);
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(files) && id == NULL; i++) {
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        guint j;
        if (!g_file_get_contents(files[i], &text, NULL, NULL))
            continue;
        lines = g_strsplit(text, "\n", -1);
        for (j = 0; lines[j] != NULL; j++) {
            char **slot = g_str_has_prefix(lines[j], "ID=")           ? &id
                          : g_str_has_prefix(lines[j], "VERSION_ID=") ? &version
                                                                      : NULL;
            if (slot != NULL && *slot == NULL)
                *slot = g_shell_unquote(strchr(lines[j], '=') + 1, NULL);
        }
    }
    if (id == NULL)
        return g_strdup("host");
    g_string_append(name, id);
    if (version != NULL)
        g_string_append_printf(name, "-%s", version);
    for (i = 0; i < name->len; i++) {
        char c = g_ascii_tolower(name->str[i]);
        name->str[i] = g_ascii_isalnum(c) || c == '.' || c == '_' ? c : '-';
    }
    if (name->len > BH_QUBE_NAME_MAX)
        g_string_truncate(name, BH_QUBE_NAME_MAX);
    if (!bh_qube_name_validate(name->str, NULL))
        return g_strdup("host");
    return g_string_free(g_steal_pointer(&name), FALSE);
}

static gboolean populate(BhStore *s, GError **error)
{
    g_autoptr(BhModel) empty = bh_model_new();
    g_autoptr(BhModel) m = bh_model_new();
    g_autofree char *tmpl = host_template_name();

    if (!bh_model_populate_defaults(m, tmpl, error))
        return FALSE;
    g_info("new store %s with the default qubes (template %s)", s->path, tmpl);
    return write_diff(s, empty, m, error);
}

static gboolean check_not_newer(BhStore *s, gint64 version, GError **error)
{
    if (version <= BH_STORE_SCHEMA_VERSION)
        return TRUE;
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_TOO_NEW,
                "the store %s was written by a newer Bulkhead (schema version %" G_GINT64_FORMAT
                ", this one knows up to %d); run the newer Bulkhead, or point this one at another store",
                s->path, version, BH_STORE_SCHEMA_VERSION);
    return FALSE;
}

/* Under the write lock, so that two processes opening a new or old store
 * do not both create or migrate it. */
static gboolean prepare_schema(BhStore *s, GError **error)
{
    gint64 version, tables;

    if (!exec(s, "BEGIN IMMEDIATE", "opening", error))
        return FALSE;
    if (!pragma_int(s, "PRAGMA user_version", &version, error) ||
        !pragma_int(s, "SELECT count(*) FROM sqlite_master", &tables, error))
        goto fail;
    if (!check_not_newer(s, version, error))
        goto fail;
    if (version == 0 && tables > 0) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "%s is an SQLite file but not a Bulkhead store (it has tables and no schema version); "
                    "move it away or choose another store path",
                    s->path);
        goto fail;
    }
    if (version < BH_STORE_SCHEMA_VERSION) {
        if (!bh_store_migrate(s->db, BH_STORE_SCHEMA_VERSION, error))
            goto fail;
        /* A migration must leave every reference intact. */
        if (!pragma_int(s, "SELECT count(*) FROM pragma_foreign_key_check", &tables, error))
            goto fail;
        if (tables != 0) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                        "the store %s has %" G_GINT64_FORMAT " broken qube references after migration; "
                        "restore it from a backup",
                        s->path, tables);
            goto fail;
        }
    }
    if (version == 0 && !populate(s, error))
        goto fail;
    if (!commit(s, error))
        goto fail;
    return TRUE;
fail:
    rollback(s);
    return FALSE;
}

/* SQLite may answer BUSY at once, without its busy handler, when two
 * processes switch a new file to WAL together: retry until the deadline. */
static gboolean switch_to_wal(BhStore *s, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)BH_STORE_BUSY_MS * 1000;

    for (;;) {
        GError *local = NULL;
        if (pragma_text(s, "PRAGMA journal_mode = WAL", "wal", &local))
            return TRUE;
        if (!g_error_matches(local, BH_QUBES_ERROR, BH_QUBES_ERROR_BUSY) ||
            g_get_monotonic_time() > deadline) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_error_free(local);
        g_usleep(10 * 1000);
    }
}

static void finalize_stmt(gpointer st)
{
    sqlite3_finalize(st);
}

BhStore *bh_store_open(const char *path, GError **error)
{
    g_autofree char *dir = NULL;
    BhStore *s = g_new0(BhStore, 1);
    gint64 version;
    int rc;

    s->path = path != NULL ? g_strdup(path) : bh_store_default_path();
    s->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, finalize_stmt);
    dir = g_path_get_dirname(s->path);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int err = errno;
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_STORE,
                    "cannot create the directory %s for the store: %s; check its permissions or choose "
                    "another store path",
                    dir, g_strerror(err));
        goto fail;
    }
    rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        store_error(s, rc, "opening", error);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BH_STORE_BUSY_MS);
    /* The file is ours alone: refuse SQL that could corrupt it, and schema
     * code (triggers, views) that a third party could have planted. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    /* A newer Bulkhead's store is refused before anything touches it. */
    if (!pragma_int(s, "PRAGMA user_version", &version, error) || !check_not_newer(s, version, error) ||
        !switch_to_wal(s, error) ||
        !exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", "configuring", error) ||
        !pragma_text(s, "PRAGMA quick_check", "ok", error) || !prepare_schema(s, error))
        goto fail;
    return s;
fail:
    bh_store_close(s);
    return NULL;
}

void bh_store_close(BhStore *store)
{
    if (store == NULL)
        return;
    g_hash_table_unref(store->stmts);
    if (store->db != NULL)
        sqlite3_close(store->db);
    bh_model_free(store->cache);
    g_free(store->path);
    g_free(store);
}

const char *bh_store_get_path(BhStore *store)
{
    return store->path;
}

/* ---- app lists (outside the model: bytes the daemon checked) --------------------------- */

#define BH_APPS_QID "(SELECT qid FROM qubes WHERE name = ?1)"

/* One change of a qube's app-list rows: each statement gets the qube's name
 * as ?1 and, when it has a ?2, blob (or text). */
static gboolean apps_change(BhStore *s, const char *qube, const char *const sqls[2], GBytes *blob,
                            const char *text, GError **error)
{
    if (!exec(s, "BEGIN IMMEDIATE", "starting a change", error))
        return FALSE;
    if (!refresh(s, error) || bh_model_find(s->cache, qube, error) == NULL)
        goto fail;
    for (int i = 0; i < 2 && sqls[i] != NULL; i++) {
        sqlite3_stmt *st = stmt(s, sqls[i], error);
        int rc;

        if (st == NULL)
            goto fail;
        sqlite3_bind_text(st, 1, qube, -1, SQLITE_TRANSIENT);
        if (blob != NULL) {
            gsize len;
            const void *data = g_bytes_get_data(blob, &len);
            sqlite3_bind_blob64(st, 2, data != NULL ? data : "", len, SQLITE_TRANSIENT);
        } else if (text != NULL) {
            sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        }
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            store_error(s, rc, "writing an app list", error);
            goto fail;
        }
    }
    if (!commit(s, error))
        goto fail;
    return TRUE;
fail:
    rollback(s);
    return FALSE;
}

gboolean bh_store_set_apps(BhStore *s, const char *qube, GBytes *list, GError **error)
{
    static const char *const keep[2] = {
        "INSERT OR REPLACE INTO apps(qid, data) SELECT qid, ?2 FROM qubes WHERE name = ?1",
        "DELETE FROM apps_problems WHERE qid = " BH_APPS_QID,
    };
    static const char *const forget[2] = {"DELETE FROM apps WHERE qid = " BH_APPS_QID, NULL};

    return apps_change(s, qube, list != NULL ? keep : forget, list, NULL, error);
}

gboolean bh_store_set_apps_problem(BhStore *s, const char *qube, const char *reason, GError **error)
{
    static const char *const keep[2] = {
        "INSERT OR REPLACE INTO apps_problems(qid, reason) SELECT qid, ?2 FROM qubes WHERE name = ?1",
        "DELETE FROM apps WHERE qid = " BH_APPS_QID,
    };
    static const char *const forget[2] = {"DELETE FROM apps_problems WHERE qid = " BH_APPS_QID, NULL};

    return apps_change(s, qube, reason != NULL ? keep : forget, NULL, reason, error);
}

/* The first column of the one row sql (?1: the qube's name) finds, as
 * take makes it; NULL when there is none, or on an error (while doing). */
static gpointer apps_select(BhStore *s, const char *sql, const char *qube, gpointer (*take)(sqlite3_stmt *st),
                            const char *doing, GError **error)
{
    sqlite3_stmt *st = stmt(s, sql, error);
    gpointer out = NULL;
    int rc;

    if (st == NULL)
        return NULL;
    sqlite3_bind_text(st, 1, qube, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        out = take(st);
    else if (rc != SQLITE_DONE)
        store_error(s, rc, doing, error);
    sqlite3_reset(st);
    return out;
}

static gpointer take_text(sqlite3_stmt *st)
{
    return g_strdup((const char *)sqlite3_column_text(st, 0));
}

static gpointer take_blob(sqlite3_stmt *st)
{
    return g_bytes_new(sqlite3_column_blob(st, 0), (gsize)sqlite3_column_bytes(st, 0));
}

char *bh_store_get_apps_problem(BhStore *s, const char *qube, GError **error)
{
    return apps_select(s,
                       "SELECT p.reason FROM apps_problems p JOIN qubes q ON q.qid = p.qid WHERE q.name = ?1",
                       qube, take_text, "reading an app-list problem", error);
}

GBytes *bh_store_get_apps(BhStore *s, const char *qube, GError **error)
{
    return apps_select(s, "SELECT a.data FROM apps a JOIN qubes q ON q.qid = a.qid WHERE q.name = ?1", qube,
                       take_blob, "reading an app list", error);
}
