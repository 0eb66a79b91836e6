/* store-api.c — the public calls of store.h: reads answer from the current
 * model, changes are BhChange functions run by bh_store_change.
 *
 * Owns: turning the model into the caller's structures and names into
 * model objects.
 * Must never: touch SQLite (store.c does) or bypass bh_store_change for a
 * write: that is what makes each call one validated transaction. */
#include "store-private.h"

#include "bulkhead/firewall.h"

#include <string.h>

/* ---- result structures ------------------------------------------------------- */

void bh_qube_info_free(BhQubeInfo *info)
{
    if (info == NULL)
        return;
    g_free(info->name);
    g_free(info->uuid);
    g_free(info->template_name);
    g_strfreev(info->tags);
    g_free(info);
}

void bh_prop_value_free(BhPropValue *value)
{
    if (value == NULL)
        return;
    g_free(value->value);
    g_free(value);
}

void bh_dependant_free(BhDependant *dep)
{
    if (dep == NULL)
        return;
    g_free(dep->qube);
    g_free(dep->prop);
    g_free(dep);
}

static gint str_ptr_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **sorted_tags(const BhMQube *q)
{
    GPtrArray *tags = g_ptr_array_new();
    GHashTableIter it;
    gpointer tag;

    g_hash_table_iter_init(&it, q->tags);
    while (g_hash_table_iter_next(&it, &tag, NULL))
        g_ptr_array_add(tags, g_strdup(tag));
    g_ptr_array_sort(tags, str_ptr_cmp);
    g_ptr_array_add(tags, NULL);
    return (char **)g_ptr_array_free(tags, FALSE);
}

static BhQubeInfo *info_new(const BhModel *m, const BhMQube *q)
{
    BhQubeInfo *info = g_new0(BhQubeInfo, 1);
    BhEff e;

    info->qid = q->qid;
    info->name = g_strdup(q->name);
    info->klass = q->klass;
    info->uuid = g_strdup(q->uuid);
    bh_model_effective(m, q, BH_P_LABEL, &e);
    /* Only a damaged store lacks a label; show such a qube as least trusted. */
    info->label = bh_label_lookup(e.text);
    if (info->label == NULL)
        info->label = bh_label_lookup("red");
    if (bh_model_effective(m, q, BH_P_TEMPLATE, &e) && bh_model_find_qid(m, e.ref) != NULL)
        info->template_name = g_strdup(bh_model_find_qid(m, e.ref)->name);
    info->provides_network = bh_model_bool(m, q, BH_P_PROVIDES_NETWORK);
    info->template_for_dispvms = bh_model_bool(m, q, BH_P_TEMPLATE_FOR_DISPVMS);
    info->tags = sorted_tags(q);
    return info;
}

static BhPropValue *value_new(const BhPropDef *def, char *text, const BhEff *e)
{
    BhPropValue *v = g_new0(BhPropValue, 1);

    v->def = def;
    v->value = text;
    v->is_default = e->is_default;
    v->has_default = e->has_default;
    return v;
}

/* ---- reading ----------------------------------------------------------------- */

static gint info_cmp(gconstpointer a, gconstpointer b)
{
    const BhQubeInfo *ia = *(BhQubeInfo *const *)a;
    const BhQubeInfo *ib = *(BhQubeInfo *const *)b;

    if ((ia->qid == BH_QID_DOM0) != (ib->qid == BH_QID_DOM0))
        return ia->qid == BH_QID_DOM0 ? -1 : 1;
    return strcmp(ia->name, ib->name);
}

GPtrArray *bh_store_list_qubes(BhStore *store, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    g_autoptr(GPtrArray) all = NULL;
    GPtrArray *out;
    guint i;

    if (m == NULL)
        return NULL;
    all = bh_model_sorted(m);
    out = g_ptr_array_new_with_free_func((GDestroyNotify)bh_qube_info_free);
    for (i = 0; i < all->len; i++)
        g_ptr_array_add(out, info_new(m, all->pdata[i]));
    g_ptr_array_sort(out, info_cmp);
    return out;
}

BhQubeInfo *bh_store_get_qube(BhStore *store, const char *name, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q = m == NULL ? NULL : bh_model_find(m, name, error);

    return q == NULL ? NULL : info_new(m, q);
}

BhQubeInfo *bh_store_get_qube_by_qid(BhStore *store, int qid, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q;

    if (m == NULL)
        return NULL;
    q = bh_model_find_qid(m, qid);
    if (q == NULL) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NO_SUCH_QUBE,
                    "there is no qube with qid %d; qvm-ls lists the qubes", qid);
        return NULL;
    }
    return info_new(m, q);
}

gboolean bh_store_get_property(BhStore *store, const char *qube, const char *prop, char **value,
                               gboolean *is_default, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q = m == NULL ? NULL : bh_model_find(m, qube, error);
    BhEff e;
    int idx;

    if (q == NULL || !bh_model_lookup_prop(q, prop, &idx, error))
        return FALSE;
    *value = bh_model_format(m, q, idx, &e);
    if (is_default != NULL)
        *is_default = e.is_default;
    return TRUE;
}

GPtrArray *bh_store_list_properties(BhStore *store, const char *qube, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q = m == NULL ? NULL : bh_model_find(m, qube, error);
    gsize n, i;
    const BhPropDef *defs = bh_props(&n);
    GPtrArray *out;

    if (q == NULL)
        return NULL;
    out = g_ptr_array_new_with_free_func((GDestroyNotify)bh_prop_value_free);
    for (i = 0; i < n; i++) {
        BhEff e;
        char *text;
        if (!bh_prop_applies(&defs[i], q->klass))
            continue;
        text = bh_model_format(m, q, (int)i, &e);
        g_ptr_array_add(out, value_new(&defs[i], text, &e));
    }
    return out;
}

gboolean bh_store_get_global(BhStore *store, const char *name, char **value, gboolean *is_default,
                             GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    BhEff e;
    int idx;

    if (m == NULL || !bh_model_lookup_global(name, &idx, error))
        return FALSE;
    *value = bh_model_format_global(m, idx, &e);
    if (is_default != NULL)
        *is_default = e.is_default;
    return TRUE;
}

GPtrArray *bh_store_list_globals(BhStore *store, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    gsize n, i;
    const BhPropDef *defs = bh_globals(&n);
    GPtrArray *out;

    if (m == NULL)
        return NULL;
    out = g_ptr_array_new_with_free_func((GDestroyNotify)bh_prop_value_free);
    for (i = 0; i < n; i++) {
        BhEff e;
        char *text = bh_model_format_global(m, (int)i, &e);
        g_ptr_array_add(out, value_new(&defs[i], text, &e));
    }
    return out;
}

GPtrArray *bh_store_list_dependants(BhStore *store, const char *qube, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q = m == NULL ? NULL : bh_model_find(m, qube, error);

    return q == NULL ? NULL : bh_model_dependants(m, q);
}

char **bh_store_list_tags(BhStore *store, const char *qube, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q = m == NULL ? NULL : bh_model_find(m, qube, error);

    return q == NULL ? NULL : sorted_tags(q);
}

/* ---- changes ------------------------------------------------------------------ */

/* Set, or reset when op->value is NULL. */
static gboolean do_property(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_find(m, op->qube, error);
    int idx;

    if (q == NULL || !bh_model_lookup_prop(q, op->prop, &idx, error))
        return FALSE;
    *subject = (BhSubject){q->qid, idx, -1};
    if (op->value == NULL)
        return bh_model_reset_prop(m, q, idx, error);
    return bh_model_set_prop(m, q, idx, op->value, error);
}

gboolean bh_store_set_property(BhStore *store, const char *qube, const char *prop, const char *value,
                               GError **error)
{
    BhOp op = {.qube = qube, .prop = prop, .value = value};

    if (value == NULL) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "%s needs a value; to go back to the default, reset it",
                    prop != NULL ? prop : "a property");
        return FALSE;
    }
    return bh_store_change(store, do_property, &op, error);
}

gboolean bh_store_reset_property(BhStore *store, const char *qube, const char *prop, GError **error)
{
    BhOp op = {.qube = qube, .prop = prop, .value = NULL};
    return bh_store_change(store, do_property, &op, error);
}

static gboolean do_set_global(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    int idx;

    if (!bh_model_lookup_global(op->prop, &idx, error))
        return FALSE;
    *subject = (BhSubject){BH_QID_NONE, -1, idx};
    if (op->value == NULL) {
        bh_model_reset_global(m, idx);
        return TRUE;
    }
    return bh_model_set_global(m, idx, op->value, error);
}

gboolean bh_store_set_global(BhStore *store, const char *name, const char *value, GError **error)
{
    BhOp op = {.prop = name, .value = value};

    if (value == NULL) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "a global needs a value; to go back to the default, reset it");
        return FALSE;
    }
    return bh_store_change(store, do_set_global, &op, error);
}

gboolean bh_store_reset_global(BhStore *store, const char *name, GError **error)
{
    BhOp op = {.prop = name, .value = NULL};
    return bh_store_change(store, do_set_global, &op, error);
}

static gboolean do_create(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_create(m, op->klass, op->qube, op->label, op->tmpl, op->props, error);

    if (q == NULL)
        return FALSE;
    *subject = (BhSubject){q->qid, -1, -1};
    op->qid_out = q->qid;
    return TRUE;
}

int bh_store_create_qube(BhStore *store, BhQubeClass klass, const char *name, const char *label,
                         const char *template_name, const char *const *props, GError **error)
{
    BhOp op = {.klass = klass, .qube = name, .label = label, .tmpl = template_name, .props = props};
    return bh_store_change(store, do_create, &op, error) ? op.qid_out : -1;
}

gboolean bh_store_check_create_qube(BhStore *store, BhQubeClass klass, const char *name, const char *label,
                                    const char *template_name, const char *const *props, GError **error)
{
    BhOp op = {.klass = klass, .qube = name, .label = label, .tmpl = template_name, .props = props};
    return bh_store_try(store, do_create, &op, error);
}

static gboolean do_create_disposable(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_create_disposable(m, op->tmpl, error);

    if (q == NULL)
        return FALSE;
    *subject = (BhSubject){q->qid, -1, -1};
    op->qid_out = q->qid;
    g_free(op->name_out);
    op->name_out = g_strdup(q->name);
    return TRUE;
}

char *bh_store_create_disposable(BhStore *store, const char *dvm_template, int *qid_out, GError **error)
{
    BhOp op = {.tmpl = dvm_template};

    if (!bh_store_change(store, do_create_disposable, &op, error)) {
        g_free(op.name_out);
        return NULL;
    }
    if (qid_out != NULL)
        *qid_out = op.qid_out;
    return op.name_out;
}

static gboolean do_clone(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *src = bh_model_find(m, op->qube, error);
    BhMQube *q = src == NULL ? NULL : bh_model_clone(m, src, op->new_name, error);

    if (q == NULL)
        return FALSE;
    *subject = (BhSubject){q->qid, -1, -1};
    op->qid_out = q->qid;
    return TRUE;
}

int bh_store_clone_qube(BhStore *store, const char *src, const char *dst, GError **error)
{
    BhOp op = {.qube = src, .new_name = dst};
    return bh_store_change(store, do_clone, &op, error) ? op.qid_out : -1;
}

static gboolean do_remove(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_find(m, op->qube, error);
    return q != NULL && bh_model_remove(m, q, error);
}

gboolean bh_store_remove_qube(BhStore *store, const char *name, GError **error)
{
    BhOp op = {.qube = name};
    return bh_store_change(store, do_remove, &op, error);
}

static gboolean do_rename(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_find(m, op->qube, error);

    if (q == NULL)
        return FALSE;
    *subject = (BhSubject){q->qid, BH_P_NAME, -1};
    return bh_model_rename(m, q, op->new_name, error);
}

gboolean bh_store_rename_qube(BhStore *store, const char *name, const char *new_name, GError **error)
{
    BhOp op = {.qube = name, .new_name = new_name};
    return bh_store_change(store, do_rename, &op, error);
}

static gboolean do_tag(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_find(m, op->qube, error);

    if (q == NULL)
        return FALSE;
    *subject = (BhSubject){q->qid, -1, -1};
    return op->value != NULL ? bh_model_add_tag(q, op->value, error)
                             : bh_model_remove_tag(q, op->prop, error);
}

gboolean bh_store_add_tag(BhStore *store, const char *qube, const char *tag, GError **error)
{
    BhOp op = {.qube = qube, .value = tag};

    if (tag == NULL)
        return bh_tag_validate(tag, error);
    return bh_store_change(store, do_tag, &op, error);
}

gboolean bh_store_remove_tag(BhStore *store, const char *qube, const char *tag, GError **error)
{
    BhOp op = {.qube = qube, .prop = tag};

    if (tag == NULL)
        return bh_tag_validate(tag, error);
    return bh_store_change(store, do_tag, &op, error);
}

/* ---- services ------------------------------------------------------------------ */

char **bh_store_list_services(BhStore *store, const char *qube, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q = m == NULL ? NULL : bh_model_find(m, qube, error);
    GPtrArray *list;
    GHashTableIter it;
    gpointer name, on;

    if (q == NULL)
        return NULL;
    list = g_ptr_array_new();
    g_hash_table_iter_init(&it, q->services);
    while (g_hash_table_iter_next(&it, &name, &on))
        g_ptr_array_add(list, g_strdup_printf("%s=%d", (const char *)name, GPOINTER_TO_INT(on)));
    g_ptr_array_sort(list, str_ptr_cmp);
    g_ptr_array_add(list, NULL);
    return (char **)g_ptr_array_free(list, FALSE);
}

static gboolean do_service(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_find(m, op->qube, error);

    if (q == NULL)
        return FALSE;
    *subject = (BhSubject){q->qid, -1, -1};
    return bh_model_set_service(q, op->prop, op->qid_out, error);
}

gboolean bh_store_set_service(BhStore *store, const char *qube, const char *service, int state,
                              GError **error)
{
    BhOp op = {.qube = qube, .prop = service, .qid_out = state < 0 ? -1 : state > 0};

    if (!bh_service_validate(service, error))
        return FALSE;
    return bh_store_change(store, do_service, &op, error);
}

/* ---- firewall ------------------------------------------------------------------ */

static gboolean firewall_qube(const BhMQube *q, GError **error)
{
    if (q->klass != BH_CLASS_ADMIN_VM)
        return TRUE;
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NO_SUCH_PROPERTY,
                "dom0 has no firewall: rules apply to qubes behind a netvm");
    return FALSE;
}

char **bh_store_get_firewall(BhStore *store, const char *qube, GError **error)
{
    const BhModel *m = bh_store_current(store, error);
    const BhMQube *q = m == NULL ? NULL : bh_model_find(m, qube, error);
    if (q == NULL || !firewall_qube(q, error))
        return NULL;
    if (q->firewall == NULL) {
        const char *const fallback[] = {BH_FIREWALL_DEFAULT, NULL};
        return g_strdupv((char **)fallback);
    }
    return g_strdupv(q->firewall);
}

static gboolean do_firewall(BhModel *m, BhOp *op, BhSubject *subject, GError **error)
{
    BhMQube *q = bh_model_find(m, op->qube, error);
    if (q == NULL || !firewall_qube(q, error))
        return FALSE;
    *subject = (BhSubject){q->qid, -1, -1};
    g_strfreev(q->firewall);
    q->firewall = g_strdupv((char **)op->props);
    return TRUE;
}

gboolean bh_store_set_firewall(BhStore *store, const char *qube, const char *const *rules, GError **error)
{
    g_autoptr(GPtrArray) canon = g_ptr_array_new_with_free_func(g_free);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    guint n = rules ? g_strv_length((char **)rules) : 0;

    if (n > BH_FIREWALL_RULES_MAX) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "%u rules are more than a qube may have (%d)", n, BH_FIREWALL_RULES_MAX);
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;
        g_autoptr(BhFwRule) rule = bh_fw_rule_parse(rules[i], now, &local);
        if (rule == NULL) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE, "rule %u: %s", i,
                        local->message);
            return FALSE;
        }
        g_ptr_array_add(canon, bh_fw_rule_format(rule));
    }
    if (n == 0)
        g_ptr_array_add(canon, g_strdup("action=drop"));
    g_ptr_array_add(canon, NULL);
    BhOp op = {.qube = qube, .props = (const char *const *)canon->pdata};
    return bh_store_change(store, do_firewall, &op, error);
}
