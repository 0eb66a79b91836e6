/* model.c — the in-memory model: effective values (defaults, inheritance),
 * every change the store offers, and the validation of the whole model.
 *
 * Owns: the rules. A change here may leave the model invalid; the store then
 * runs bh_model_validate on it and throws it away if it fails, so each rule
 * lives in one place (validate) and the change functions only check what
 * they need to make a good message or to find their objects.
 * Must never: do I/O or keep state outside the BhModel it is given. */
#include "model.h"

#include <string.h>

/* Longest inheritance chain: DispVM → disposable template → TemplateVM. */
#define INHERIT_DEPTH_MAX 4
/* Netvm chains followed for a value (loops are refused, so only a model
 * under validation can go round). */
#define NETVM_DEPTH_MAX 64
/* Dependants named in one message before "and N more". */
#define NAMES_SHOWN_MAX 8

static const BhPropDef *pdef(int idx)
{
    return &bh_props(NULL)[idx];
}

static const BhPropDef *gdef(int idx)
{
    return &bh_globals(NULL)[idx];
}

void bh_mval_clear(BhMVal *v)
{
    g_clear_pointer(&v->text, g_free);
    v->set = FALSE;
    v->ref = BH_QID_NONE;
}

void bh_mval_set(BhMVal *v, int ref, const char *text)
{
    char *copy = g_strdup(text);

    g_free(v->text);
    v->text = copy;
    v->ref = ref;
    v->set = TRUE;
}

gboolean bh_mval_equal(const BhMVal *a, const BhMVal *b)
{
    if (a->set != b->set)
        return FALSE;
    if (!a->set)
        return TRUE;
    return a->ref == b->ref && g_strcmp0(a->text, b->text) == 0;
}

static void mqube_free(gpointer data)
{
    BhMQube *q = data;
    int i;

    for (i = 0; i < BH_PROPS_N; i++)
        bh_mval_clear(&q->props[i]);
    g_hash_table_unref(q->tags);
    g_strfreev(q->firewall);
    g_hash_table_unref(q->services);
    g_free(q->name);
    g_free(q->uuid);
    g_free(q);
}

BhModel *bh_model_new(void)
{
    BhModel *m = g_new0(BhModel, 1);
    int i;

    m->by_qid = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, mqube_free);
    m->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    for (i = 0; i < BH_GLOBALS_N; i++)
        m->globals[i].ref = BH_QID_NONE;
    m->next_qid = 1;
    return m;
}

void bh_model_free(BhModel *m)
{
    int i;

    if (m == NULL)
        return;
    g_hash_table_unref(m->by_name);
    g_hash_table_unref(m->by_qid);
    for (i = 0; i < BH_GLOBALS_N; i++)
        bh_mval_clear(&m->globals[i]);
    g_free(m);
}

BhMQube *bh_model_insert(BhModel *m, int qid, const char *name, BhQubeClass klass, const char *uuid)
{
    BhMQube *q = g_new0(BhMQube, 1);
    int i;

    q->qid = qid;
    q->name = g_strdup(name);
    q->klass = klass;
    q->uuid = g_strdup(uuid);
    for (i = 0; i < BH_PROPS_N; i++)
        q->props[i].ref = BH_QID_NONE;
    q->tags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    q->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(m->by_qid, GINT_TO_POINTER(qid), q);
    g_hash_table_insert(m->by_name, q->name, q);
    return q;
}

static void copy_values(BhMQube *dst, const BhMQube *src)
{
    GHashTableIter it;
    gpointer tag, on;
    int i;

    for (i = 0; i < BH_PROPS_N; i++) {
        if (src->props[i].set)
            bh_mval_set(&dst->props[i], src->props[i].ref, src->props[i].text);
    }
    g_hash_table_iter_init(&it, src->tags);
    while (g_hash_table_iter_next(&it, &tag, NULL))
        g_hash_table_add(dst->tags, g_strdup(tag));
    g_strfreev(dst->firewall);
    dst->firewall = g_strdupv(src->firewall);
    g_hash_table_iter_init(&it, src->services);
    while (g_hash_table_iter_next(&it, &tag, &on))
        g_hash_table_insert(dst->services, g_strdup(tag), on);
}

BhModel *bh_model_copy(const BhModel *m)
{
    BhModel *c = bh_model_new();
    GHashTableIter it;
    gpointer value;
    int i;

    g_hash_table_iter_init(&it, m->by_qid);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const BhMQube *q = value;
        copy_values(bh_model_insert(c, q->qid, q->name, q->klass, q->uuid), q);
    }
    for (i = 0; i < BH_GLOBALS_N; i++) {
        if (m->globals[i].set)
            bh_mval_set(&c->globals[i], m->globals[i].ref, m->globals[i].text);
    }
    c->next_qid = m->next_qid;
    return c;
}

BhMQube *bh_model_find(const BhModel *m, const char *name, GError **error)
{
    BhMQube *q = name == NULL ? NULL : g_hash_table_lookup(m->by_name, name);

    if (q == NULL) {
        g_autofree char *shown = bh_qubes_quote(name);
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NO_SUCH_QUBE,
                    "there is no qube named '%s'; qvm-ls lists the qubes", shown);
    }
    return q;
}

BhMQube *bh_model_find_qid(const BhModel *m, int qid)
{
    if (qid < 0)
        return NULL;
    return g_hash_table_lookup(m->by_qid, GINT_TO_POINTER(qid));
}

static gint by_qid_cmp(gconstpointer a, gconstpointer b)
{
    const BhMQube *qa = *(BhMQube *const *)a;
    const BhMQube *qb = *(BhMQube *const *)b;
    return (qa->qid > qb->qid) - (qa->qid < qb->qid);
}

GPtrArray *bh_model_sorted(const BhModel *m)
{
    GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(m->by_qid));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, m->by_qid);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(all, value);
    g_ptr_array_sort(all, by_qid_cmp);
    return all;
}

/* "an AppVM", "a TemplateVM": for messages. */
static const char *a_class(BhQubeClass klass)
{
    static const char *const with_article[BH_CLASS_COUNT] = {
        [BH_CLASS_ADMIN_VM] = "an AdminVM",
        [BH_CLASS_TEMPLATE_VM] = "a TemplateVM",
        [BH_CLASS_APP_VM] = "an AppVM",
        [BH_CLASS_DISP_VM] = "a DispVM",
        [BH_CLASS_STANDALONE_VM] = "a StandaloneVM",
    };
    return (guint)klass < BH_CLASS_COUNT ? with_article[klass] : "a qube of unknown class";
}

static const char *qube_name(const BhModel *m, int qid)
{
    const BhMQube *q = bh_model_find_qid(m, qid);
    return q == NULL ? "" : q->name;
}

/* ---- effective values ---------------------------------------------------- */

static BhMQube *template_of(const BhModel *m, const BhMQube *q)
{
    if (!bh_prop_applies(pdef(BH_P_TEMPLATE), q->klass) || !q->props[BH_P_TEMPLATE].set)
        return NULL;
    return bh_model_find_qid(m, q->props[BH_P_TEMPLATE].ref);
}

void bh_model_global_effective(const BhModel *m, int idx, BhEff *out)
{
    const BhMVal *v = &m->globals[idx];

    out->is_default = !v->set;
    out->has_default = TRUE;
    out->ref = v->set ? v->ref : BH_QID_NONE;
    out->text = v->set ? v->text : gdef(idx)->default_value;
}

static gboolean effective(const BhModel *m, const BhMQube *q, int idx, int depth, BhEff *out);
static int effective_ref(const BhModel *m, const BhMQube *q, int idx);

static void default_of(const BhModel *m, const BhMQube *q, int idx, int depth, BhEff *out)
{
    const BhPropDef *def = pdef(idx);
    const BhMQube *tmpl = template_of(m, q);
    gboolean inherits = (def->flags & BH_PROPF_INHERIT) ||
                        ((def->flags & BH_PROPF_DISP_INHERIT) && q->klass == BH_CLASS_DISP_VM);
    BhEff from;

    out->is_default = TRUE;
    out->has_default = FALSE;
    out->ref = BH_QID_NONE;
    out->text = NULL;
    if (inherits && tmpl != NULL && depth < INHERIT_DEPTH_MAX && effective(m, tmpl, idx, depth + 1, &from)) {
        out->ref = from.ref;
        out->text = from.text;
        out->has_default = TRUE;
        return;
    }
    switch (idx) {
    case BH_P_NETVM:
        /* Templates get updates through the updatevm, not a network of their own. */
        if (q->klass != BH_CLASS_TEMPLATE_VM) {
            bh_model_global_effective(m, BH_G_DEFAULT_NETVM, &from);
            out->ref = from.ref;
        }
        out->has_default = TRUE;
        return;
    case BH_P_DEFAULT_DISPVM:
        bh_model_global_effective(m, BH_G_DEFAULT_DISPVM, &from);
        out->ref = from.ref;
        out->has_default = TRUE;
        return;
    case BH_P_IPV6: {
        /* Qubes' ipv6 feature: set on a netvm, it reaches its clients (and
         * theirs). Loops are refused by validation; the bound is for a model
         * being checked. */
        const BhMQube *netvm = bh_model_find_qid(m, effective_ref(m, q, BH_P_NETVM));
        out->text = "False";
        out->has_default = TRUE;
        if (netvm != NULL && depth < NETVM_DEPTH_MAX && effective(m, netvm, idx, depth + 1, &from))
            out->text = from.text;
        return;
    }
    case BH_P_INCLUDE_IN_BACKUPS:
        if (q->klass == BH_CLASS_DISP_VM) {
            out->text = "False";
            out->has_default = TRUE;
            return;
        }
        break;
    default:
        break;
    }
    if (def->default_value != NULL) {
        out->text = def->default_value;
        out->has_default = TRUE;
    }
}

static gboolean effective(const BhModel *m, const BhMQube *q, int idx, int depth, BhEff *out)
{
    const BhMVal *v = &q->props[idx];

    if (!bh_prop_applies(pdef(idx), q->klass))
        return FALSE;
    default_of(m, q, idx, depth, out);
    if (v->set) {
        out->ref = v->ref;
        out->text = v->text;
        out->is_default = FALSE;
    }
    return TRUE;
}

gboolean bh_model_effective(const BhModel *m, const BhMQube *q, int idx, BhEff *out)
{
    return effective(m, q, idx, 0, out);
}

static int effective_ref(const BhModel *m, const BhMQube *q, int idx)
{
    BhEff e;
    return bh_model_effective(m, q, idx, &e) ? e.ref : BH_QID_NONE;
}

gboolean bh_model_bool(const BhModel *m, const BhMQube *q, int idx)
{
    BhEff e;
    return bh_model_effective(m, q, idx, &e) && g_strcmp0(e.text, "True") == 0;
}

/* Whether q has IPv6: ipv6 on for it and for every netvm up its chain, up
 * to one that provides network without a netvm of its own (sys-net, whose
 * uplink carries it). A client of a netvm without IPv6 has none, whatever
 * it says itself: nothing would route it. */
static gboolean has_ipv6(const BhModel *m, const BhMQube *q)
{
    for (int depth = 0; q != NULL && depth < NETVM_DEPTH_MAX; depth++) {
        const BhMQube *netvm = bh_model_find_qid(m, effective_ref(m, q, BH_P_NETVM));
        if (!bh_model_bool(m, q, BH_P_IPV6))
            return FALSE;
        if (netvm == NULL)
            return bh_model_bool(m, q, BH_P_PROVIDES_NETWORK);
        q = netvm;
    }
    return FALSE;
}

/* ip, ip6, gateway, gateway6, dns: derived from qids and the netvm
 * (bulkhead/qubes.h), never stored, "" for a qube without network. */
static char *format_network(const BhModel *m, const BhMQube *q, int idx)
{
    const BhMQube *netvm = bh_model_find_qid(m, effective_ref(m, q, BH_P_NETVM));
    char *text = NULL;

    if (idx == BH_P_IP && (netvm != NULL || bh_model_bool(m, q, BH_P_PROVIDES_NETWORK)))
        text = bh_net_address((guint32)q->qid, q->klass == BH_CLASS_DISP_VM);
    else if (idx == BH_P_IP6 && has_ipv6(m, q))
        text = bh_net_address6((guint32)q->qid, q->klass == BH_CLASS_DISP_VM);
    else if (idx == BH_P_GATEWAY && netvm != NULL)
        text = bh_net_address((guint32)netvm->qid, netvm->klass == BH_CLASS_DISP_VM);
    else if (idx == BH_P_GATEWAY6 && netvm != NULL && has_ipv6(m, q))
        text = bh_net_address6((guint32)netvm->qid, netvm->klass == BH_CLASS_DISP_VM);
    else if (idx == BH_P_DNS && netvm != NULL)
        text = g_strdup(BH_NET_DNS1 " " BH_NET_DNS2);
    return text != NULL ? text : g_strdup("");
}

char *bh_model_format(const BhModel *m, const BhMQube *q, int idx, BhEff *eff_out)
{
    BhEff e = {BH_QID_NONE, NULL, FALSE, FALSE};
    char *text;

    switch (idx) {
    case BH_P_NAME:
        text = g_strdup(q->name);
        break;
    case BH_P_CLASS:
        text = g_strdup(bh_class_name(q->klass));
        break;
    case BH_P_QID:
        text = g_strdup_printf("%d", q->qid);
        break;
    case BH_P_UUID:
        text = g_strdup(q->uuid);
        break;
    case BH_P_IP:
    case BH_P_IP6:
    case BH_P_GATEWAY:
    case BH_P_GATEWAY6:
    case BH_P_DNS:
        text = format_network(m, q, idx);
        break;
    default:
        if (!bh_model_effective(m, q, idx, &e))
            text = g_strdup("");
        else if (pdef(idx)->type == BH_PROP_QUBE)
            text = g_strdup(qube_name(m, e.ref));
        else
            text = g_strdup(e.text != NULL ? e.text : "");
        break;
    }
    if (eff_out != NULL)
        *eff_out = e;
    return text;
}

char *bh_model_format_global(const BhModel *m, int idx, BhEff *eff_out)
{
    BhEff e;

    bh_model_global_effective(m, idx, &e);
    if (eff_out != NULL)
        *eff_out = e;
    if (gdef(idx)->type == BH_PROP_QUBE)
        return g_strdup(qube_name(m, e.ref));
    return g_strdup(e.text != NULL ? e.text : "");
}

/* ---- changes --------------------------------------------------------------- */

gboolean bh_model_lookup_prop(const BhMQube *q, const char *prop, int *idx, GError **error)
{
    g_autofree char *shown = bh_qubes_quote(prop);
    int i = bh_prop_index(prop);

    if (i < 0) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NO_SUCH_PROPERTY,
                    "there is no qube property '%s'; qvm-prefs --help-properties lists them", shown);
        return FALSE;
    }
    if (!bh_prop_applies(pdef(i), q->klass)) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NO_SUCH_PROPERTY,
                    "%s is %s, which has no property '%s'; qvm-prefs %s lists its properties", q->name,
                    a_class(q->klass), shown, q->name);
        return FALSE;
    }
    *idx = i;
    return TRUE;
}

static gboolean resolve(BhModel *m, const BhPropDef *def, BhMVal *slot, const char *untrusted_value,
                        GError **error)
{
    g_autofree char *canon = bh_prop_normalize(def, untrusted_value, error);
    const BhMQube *target;

    if (canon == NULL)
        return FALSE;
    if (def->type != BH_PROP_QUBE) {
        bh_mval_set(slot, BH_QID_NONE, canon);
        return TRUE;
    }
    if (canon[0] == '\0') {
        bh_mval_set(slot, BH_QID_NONE, NULL);
        return TRUE;
    }
    target = bh_model_find(m, canon, error);
    if (target == NULL)
        return FALSE;
    bh_mval_set(slot, target->qid, NULL);
    return TRUE;
}

gboolean bh_model_set_prop(BhModel *m, BhMQube *q, int idx, const char *untrusted_value, GError **error)
{
    const BhPropDef *def = pdef(idx);

    if (def->flags & BH_PROPF_READ_ONLY) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_READ_ONLY,
                    "%s of %s is read-only (%s); create a new qube to get another", def->name, q->name,
                    def->default_help);
        return FALSE;
    }
    if (def->flags & BH_PROPF_RENAME)
        return bh_model_rename(m, q, untrusted_value, error);
    return resolve(m, def, &q->props[idx], untrusted_value, error);
}

gboolean bh_model_reset_prop(BhModel *m, BhMQube *q, int idx, GError **error)
{
    const BhPropDef *def = pdef(idx);
    BhEff d;

    if (def->flags & BH_PROPF_RENAME) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_READ_ONLY,
                    "a qube's name has no default; to rename %s, set its name", q->name);
        return FALSE;
    }
    if (def->flags & BH_PROPF_READ_ONLY) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_READ_ONLY, "%s of %s is read-only (%s)", def->name,
                    q->name, def->default_help);
        return FALSE;
    }
    default_of(m, q, idx, 0, &d);
    if (!d.has_default) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "%s of %s has no default; set a value instead: qvm-prefs %s %s <value>", def->name,
                    q->name, q->name, def->name);
        return FALSE;
    }
    bh_mval_clear(&q->props[idx]);
    return TRUE;
}

gboolean bh_model_lookup_global(const char *name, int *idx, GError **error)
{
    int i = bh_global_index(name);

    if (i < 0) {
        g_autofree char *shown = bh_qubes_quote(name);
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NO_SUCH_PROPERTY,
                    "there is no global property '%s'; qubes-prefs lists them", shown);
        return FALSE;
    }
    *idx = i;
    return TRUE;
}

gboolean bh_model_set_global(BhModel *m, int idx, const char *untrusted_value, GError **error)
{
    return resolve(m, gdef(idx), &m->globals[idx], untrusted_value, error);
}

void bh_model_reset_global(BhModel *m, int idx)
{
    bh_mval_clear(&m->globals[idx]);
}

static gboolean check_new_name(const BhModel *m, const char *name, GError **error)
{
    if (!bh_qube_name_validate(name, error))
        return FALSE;
    if (g_hash_table_contains(m->by_name, name)) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NAME_IN_USE,
                    "there is already a qube named '%s'; choose another name", name);
        return FALSE;
    }
    return TRUE;
}

static int alloc_qid(BhModel *m, GError **error)
{
    int start = m->next_qid >= 1 && m->next_qid <= BH_QID_MAX ? m->next_qid : 1;
    int i;

    for (i = 0; i < BH_QID_MAX; i++) {
        int qid = (start - 1 + i) % BH_QID_MAX + 1;
        if (bh_model_find_qid(m, qid) == NULL) {
            m->next_qid = qid % BH_QID_MAX + 1;
            return qid;
        }
    }
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_LIMIT,
                "all %d qube ids are in use; remove qubes you no longer need", BH_QID_MAX);
    return -1;
}

static const char *default_template_for(const BhModel *m, BhQubeClass klass, GError **error)
{
    int g = klass == BH_CLASS_APP_VM ? BH_G_DEFAULT_TEMPLATE : BH_G_DEFAULT_DISPVM;
    BhEff e;
    const BhMQube *t;

    bh_model_global_effective(m, g, &e);
    t = bh_model_find_qid(m, e.ref);
    if (t == NULL) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "no template was given for the new %s and the global %s is none; give one, or set "
                    "the default with qubes-prefs %s <qube>",
                    bh_class_name(klass), gdef(g)->name, gdef(g)->name);
        return NULL;
    }
    return t->name;
}

static gboolean apply_pairs(BhModel *m, BhMQube *q, const char *const *props, GError **error)
{
    gsize i;
    int idx;

    for (i = 0; props != NULL && props[i] != NULL; i += 2) {
        if (props[i + 1] == NULL) {
            g_autofree char *shown = bh_qubes_quote(props[i]);
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "property '%s' was given without a value; give name and value pairs", shown);
            return FALSE;
        }
        if (!bh_model_lookup_prop(q, props[i], &idx, error) ||
            !bh_model_set_prop(m, q, idx, props[i + 1], error))
            return FALSE;
    }
    return TRUE;
}

static BhMQube *create_with_qid(BhModel *m, int qid, BhQubeClass klass, const char *name, const char *label,
                                const char *template_name, const char *const *props, GError **error)
{
    g_autofree char *uuid = g_uuid_string_random();
    BhMQube *q = bh_model_insert(m, qid, name, klass, uuid);

    if (template_name != NULL && !bh_model_set_prop(m, q, BH_P_TEMPLATE, template_name, error))
        return NULL;
    if (label != NULL && !bh_model_set_prop(m, q, BH_P_LABEL, label, error))
        return NULL;
    if (!apply_pairs(m, q, props, error))
        return NULL;
    return q;
}

BhMQube *bh_model_create(BhModel *m, BhQubeClass klass, const char *name, const char *label,
                         const char *template_name, const char *const *props, GError **error)
{
    gboolean has_template = klass == BH_CLASS_APP_VM || klass == BH_CLASS_DISP_VM;
    int qid;

    if ((guint)klass >= BH_CLASS_COUNT) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "unknown qube class; use TemplateVM, AppVM, DispVM or StandaloneVM");
        return NULL;
    }
    if (klass == BH_CLASS_ADMIN_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_PERMISSION,
                    "there is exactly one AdminVM, dom0; create a TemplateVM, AppVM, DispVM or "
                    "StandaloneVM instead");
        return NULL;
    }
    if (!check_new_name(m, name, error))
        return NULL;
    if (!has_template && template_name != NULL) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "%s has no template; leave the template out", a_class(klass));
        return NULL;
    }
    if (has_template && template_name == NULL) {
        template_name = default_template_for(m, klass, error);
        if (template_name == NULL)
            return NULL;
    }
    if (label == NULL && klass != BH_CLASS_DISP_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                    "a new qube needs a label: red, orange, yellow, green, gray, blue, purple or black");
        return NULL;
    }
    qid = alloc_qid(m, error);
    if (qid < 0)
        return NULL;
    return create_with_qid(m, qid, klass, name, label, template_name, props, error);
}

BhMQube *bh_model_create_disposable(BhModel *m, const char *dvm_template, GError **error)
{
    g_autofree char *name = NULL;
    int qid, n;

    if (dvm_template == NULL) {
        dvm_template = default_template_for(m, BH_CLASS_DISP_VM, error);
        if (dvm_template == NULL)
            return NULL;
    }
    qid = alloc_qid(m, error);
    if (qid < 0)
        return NULL;
    /* A user may have taken "dispN" for a qube of their own. */
    name = g_strdup_printf("disp%d", qid);
    for (n = 2; g_hash_table_contains(m->by_name, name); n++) {
        g_free(name);
        name = g_strdup_printf("disp%d-%d", qid, n);
    }
    return create_with_qid(m, qid, BH_CLASS_DISP_VM, name, NULL, dvm_template, NULL, error);
}

BhMQube *bh_model_clone(BhModel *m, BhMQube *src, const char *dst, GError **error)
{
    g_autofree char *uuid = NULL;
    BhMQube *q;
    int qid;

    if (src->klass == BH_CLASS_ADMIN_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_PERMISSION, "dom0 cannot be cloned");
        return NULL;
    }
    if (src->klass == BH_CLASS_DISP_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_PERMISSION,
                    "%s is a disposable and cannot be cloned; clone its disposable template %s instead",
                    src->name, qube_name(m, src->props[BH_P_TEMPLATE].ref));
        return NULL;
    }
    if (!check_new_name(m, dst, error))
        return NULL;
    qid = alloc_qid(m, error);
    if (qid < 0)
        return NULL;
    uuid = g_uuid_string_random();
    q = bh_model_insert(m, qid, dst, src->klass, uuid);
    copy_values(q, src);
    return q;
}

static gint dependant_cmp(gconstpointer a, gconstpointer b)
{
    const BhDependant *da = *(BhDependant *const *)a;
    const BhDependant *db = *(BhDependant *const *)b;

    if ((da->qube == NULL) != (db->qube == NULL))
        return da->qube == NULL ? 1 : -1;
    if (da->qube != NULL && strcmp(da->qube, db->qube) != 0)
        return strcmp(da->qube, db->qube);
    return strcmp(da->prop, db->prop);
}

static BhDependant *dependant_new(const char *qube, const char *prop)
{
    BhDependant *d = g_new0(BhDependant, 1);
    d->qube = g_strdup(qube);
    d->prop = g_strdup(prop);
    return d;
}

GPtrArray *bh_model_dependants(const BhModel *m, const BhMQube *q)
{
    GPtrArray *deps = g_ptr_array_new_with_free_func((GDestroyNotify)bh_dependant_free);
    g_autoptr(GPtrArray) all = bh_model_sorted(m);
    guint i;
    int idx;

    for (i = 0; i < all->len; i++) {
        const BhMQube *r = all->pdata[i];
        if (r == q)
            continue;
        for (idx = 0; idx < BH_PROPS_N; idx++) {
            const BhMVal *v = &r->props[idx];
            if (pdef(idx)->type == BH_PROP_QUBE && v->set && v->ref == q->qid)
                g_ptr_array_add(deps, dependant_new(r->name, pdef(idx)->name));
        }
    }
    for (idx = 0; idx < BH_GLOBALS_N; idx++) {
        const BhMVal *v = &m->globals[idx];
        if (gdef(idx)->type == BH_PROP_QUBE && v->set && v->ref == q->qid)
            g_ptr_array_add(deps, dependant_new(NULL, gdef(idx)->name));
    }
    g_ptr_array_sort(deps, dependant_cmp);
    return deps;
}

/* "the netvm of a, b; the template of c; the global default_netvm" plus a
 * command that fixes the first of them. */
static void describe_dependants(const GPtrArray *deps, GString *what, GString *fix)
{
    g_autoptr(GString) globals = g_string_new(NULL);
    int idx;
    guint i;

    for (idx = 0; idx < BH_PROPS_N; idx++) {
        guint n = 0;
        for (i = 0; i < deps->len; i++) {
            const BhDependant *d = deps->pdata[i];
            if (d->qube == NULL || strcmp(d->prop, pdef(idx)->name) != 0)
                continue;
            if (n == 0)
                g_string_append_printf(what, "%sthe %s of ", what->len ? "; " : "", d->prop);
            if (n < NAMES_SHOWN_MAX)
                g_string_append_printf(what, "%s%s", n ? ", " : "", d->qube);
            n++;
            if (fix->len == 0)
                g_string_append_printf(fix, "qvm-prefs %s %s <another qube>", d->qube, d->prop);
        }
        if (n > NAMES_SHOWN_MAX)
            g_string_append_printf(what, " and %u more", n - NAMES_SHOWN_MAX);
    }
    for (i = 0; i < deps->len; i++) {
        const BhDependant *d = deps->pdata[i];
        if (d->qube != NULL)
            continue;
        g_string_append_printf(globals, "%s%s", globals->len ? ", " : "", d->prop);
        if (fix->len == 0)
            g_string_append_printf(fix, "qubes-prefs %s <another qube>", d->prop);
    }
    if (globals->len)
        g_string_append_printf(what, "%sthe global %s", what->len ? "; " : "", globals->str);
}

gboolean bh_model_remove(BhModel *m, BhMQube *q, GError **error)
{
    g_autoptr(GPtrArray) deps = NULL;

    if (q->klass == BH_CLASS_ADMIN_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_PERMISSION, "dom0 cannot be removed");
        return FALSE;
    }
    deps = bh_model_dependants(m, q);
    if (deps->len > 0) {
        g_autoptr(GString) what = g_string_new(NULL);
        g_autoptr(GString) fix = g_string_new(NULL);
        describe_dependants(deps, what, fix);
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_IN_USE,
                    "cannot remove '%s': it is %s; change those first (%s)", q->name, what->str, fix->str);
        return FALSE;
    }
    g_hash_table_remove(m->by_name, q->name);
    g_hash_table_remove(m->by_qid, GINT_TO_POINTER(q->qid));
    return TRUE;
}

gboolean bh_model_rename(BhModel *m, BhMQube *q, const char *new_name, GError **error)
{
    if (q->klass == BH_CLASS_ADMIN_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_PERMISSION, "dom0 cannot be renamed");
        return FALSE;
    }
    if (g_strcmp0(q->name, new_name) == 0)
        return TRUE;
    if (!check_new_name(m, new_name, error))
        return FALSE;
    g_hash_table_remove(m->by_name, q->name);
    g_free(q->name);
    q->name = g_strdup(new_name);
    g_hash_table_insert(m->by_name, q->name, q);
    return TRUE;
}

gboolean bh_model_add_tag(BhMQube *q, const char *tag, GError **error)
{
    if (!bh_tag_validate(tag, error))
        return FALSE;
    if (g_hash_table_contains(q->tags, tag))
        return TRUE;
    if (g_hash_table_size(q->tags) >= BH_TAGS_PER_QUBE) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_LIMIT,
                    "%s already has %d tags, the most a qube may have; remove some first", q->name,
                    BH_TAGS_PER_QUBE);
        return FALSE;
    }
    g_hash_table_add(q->tags, g_strdup(tag));
    return TRUE;
}

gboolean bh_model_remove_tag(BhMQube *q, const char *tag, GError **error)
{
    if (!bh_tag_validate(tag, error))
        return FALSE;
    g_hash_table_remove(q->tags, tag);
    return TRUE;
}

gboolean bh_model_set_service(BhMQube *q, const char *service, int state, GError **error)
{
    if (!bh_service_validate(service, error))
        return FALSE;
    if (q->klass == BH_CLASS_ADMIN_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_PERMISSION,
                    "dom0 has no services: they are flags a qube reads at its start");
        return FALSE;
    }
    if (state < 0) {
        g_hash_table_remove(q->services, service);
        return TRUE;
    }
    if (!g_hash_table_contains(q->services, service) &&
        g_hash_table_size(q->services) >= BH_SERVICES_PER_QUBE) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_LIMIT,
                    "%s already has %d services set, the most a qube may have; unset some first", q->name,
                    BH_SERVICES_PER_QUBE);
        return FALSE;
    }
    g_hash_table_insert(q->services, g_strdup(service), GINT_TO_POINTER(state > 0));
    return TRUE;
}

/* ---- validation ------------------------------------------------------------ */

/* Turning provides_network or template_for_dispvms off under users: name
 * the explicit references. Qubes that follow a default follow the global,
 * which is named; disposables follow their template, which is named. */
static gboolean check_capability_users(const BhModel *m, const BhMQube *n, int cap, GError **error)
{
    static const char *const net_users[] = {"netvm", "default_netvm", NULL};
    static const char *const dvm_users[] = {"template", "default_dispvm", NULL};
    const char *const *relevant = cap == BH_P_PROVIDES_NETWORK ? net_users : dvm_users;
    g_autoptr(GPtrArray) deps = bh_model_dependants(m, n);
    g_autoptr(GString) what = g_string_new(NULL);
    g_autoptr(GString) fix = g_string_new(NULL);
    guint i = 0;

    while (i < deps->len) {
        const BhDependant *d = deps->pdata[i];
        if (g_strv_contains(relevant, d->prop))
            i++;
        else
            g_ptr_array_remove_index(deps, i);
    }
    if (deps->len == 0)
        return TRUE;
    describe_dependants(deps, what, fix);
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_IN_USE,
                "cannot turn off %s of %s: it is %s; change those first (%s)", pdef(cap)->name, n->name,
                what->str, fix->str);
    return FALSE;
}

/* A reference that needs its target to have a capability (provides_network
 * or template_for_dispvms). `role` says what the target would be, e.g. "the
 * netvm of work (by default)". */
static gboolean check_capability(const BhModel *m, int ref, int cap, const char *role, GError **error)
{
    gboolean net = cap == BH_P_PROVIDES_NETWORK;
    int code = net ? BH_QUBES_ERROR_NOT_NETWORK_PROVIDER : BH_QUBES_ERROR_NOT_DISPVM_TEMPLATE;
    const char *lacks = net ? "does not provide network" : "is not a disposable template";
    const BhMQube *t = bh_model_find_qid(m, ref);

    if (ref == BH_QID_NONE || (t != NULL && bh_model_bool(m, t, cap)))
        return TRUE;
    if (t == NULL || !bh_prop_applies(pdef(cap), t->klass)) {
        g_set_error(error, BH_QUBES_ERROR, code,
                    "%s is %s, which cannot %s, so it cannot be %s; choose another qube", qube_name(m, ref),
                    t ? a_class(t->klass) : "gone", net ? "provide network" : "be a disposable template",
                    role);
        return FALSE;
    }
    g_set_error(
        error, BH_QUBES_ERROR, code,
        "%s %s, so it cannot be %s; turn on its %s first (qvm-prefs %s %s True) or choose another qube",
        t->name, lacks, role, pdef(cap)->name, t->name, pdef(cap)->name);
    return FALSE;
}

static gboolean check_globals(const BhModel *m, GError **error)
{
    const BhMQube *t;
    BhEff e;
    int idx;

    bh_model_global_effective(m, BH_G_DEFAULT_TEMPLATE, &e);
    t = bh_model_find_qid(m, e.ref);
    if (t != NULL && t->klass != BH_CLASS_TEMPLATE_VM) {
        g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NOT_A_TEMPLATE,
                    "the global default_template must be a TemplateVM; %s is %s. Choose a TemplateVM "
                    "(qvm-ls shows each qube's class)",
                    t->name, a_class(t->klass));
        return FALSE;
    }
    bh_model_global_effective(m, BH_G_DEFAULT_NETVM, &e);
    if (!check_capability(m, e.ref, BH_P_PROVIDES_NETWORK, "the global default_netvm", error))
        return FALSE;
    bh_model_global_effective(m, BH_G_DEFAULT_DISPVM, &e);
    if (!check_capability(m, e.ref, BH_P_TEMPLATE_FOR_DISPVMS, "the global default_dispvm", error))
        return FALSE;
    for (idx = BH_G_UPDATEVM; idx <= BH_G_CLOCKVM; idx++) {
        bh_model_global_effective(m, idx, &e);
        if (e.ref == BH_QID_DOM0) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "dom0 cannot be the %s: it has no network; choose a qube with network access, "
                        "such as sys-firewall",
                        gdef(idx)->name);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean check_qube(const BhModel *m, const BhMQube *q, GError **error)
{
    static const struct {
        int prop, cap;
    } needs[] = {{BH_P_NETVM, BH_P_PROVIDES_NETWORK}, {BH_P_DEFAULT_DISPVM, BH_P_TEMPLATE_FOR_DISPVMS}};
    const BhMQube *t;
    BhEff e;
    gsize i;

    if (bh_prop_applies(pdef(BH_P_TEMPLATE), q->klass)) {
        t = template_of(m, q);
        if (t == NULL) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_INVALID_VALUE,
                        "%s has no template; set one (qvm-prefs %s template <qube>)", q->name, q->name);
            return FALSE;
        }
        if (q->klass == BH_CLASS_APP_VM && t->klass != BH_CLASS_TEMPLATE_VM) {
            g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NOT_A_TEMPLATE,
                        "the template of %s must be a TemplateVM; %s is %s. Choose a TemplateVM "
                        "(qvm-ls shows each qube's class)",
                        q->name, t->name, a_class(t->klass));
            return FALSE;
        }
        if (q->klass == BH_CLASS_DISP_VM) {
            g_autofree char *role = g_strdup_printf("the template of disposable %s", q->name);
            if (!check_capability(m, t->qid, BH_P_TEMPLATE_FOR_DISPVMS, role, error))
                return FALSE;
        }
    }
    for (i = 0; i < G_N_ELEMENTS(needs); i++) {
        g_autofree char *role = NULL;
        if (!bh_model_effective(m, q, needs[i].prop, &e))
            continue;
        role = g_strdup_printf("the %s of %s%s", pdef(needs[i].prop)->name, q->name,
                               e.is_default ? " (by default)" : "");
        if (!check_capability(m, e.ref, needs[i].cap, role, error))
            return FALSE;
    }
    return TRUE;
}

static void report_loop(const BhModel *m, GPtrArray *cycle, int subject_qid, GError **error)
{
    g_autoptr(GString) path = g_string_new(NULL);
    g_autoptr(GString) why = g_string_new(NULL);
    guint start = 0, i;

    for (i = 0; i < cycle->len; i++) {
        if (((BhMQube *)cycle->pdata[i])->qid == subject_qid)
            start = i;
    }
    for (i = 0; i <= cycle->len; i++) {
        const BhMQube *q = cycle->pdata[(start + i) % cycle->len];
        BhEff e;
        g_string_append_printf(path, "%s%s", i ? " -> " : "", q->name);
        if (i == cycle->len || !bh_model_effective(m, q, BH_P_NETVM, &e) || !e.is_default)
            continue;
        g_string_append_printf(why, "%s%s %s", why->len ? "; " : " (", q->name,
                               q->klass == BH_CLASS_DISP_VM ? "follows its template's netvm"
                                                            : "uses the global default_netvm");
    }
    if (why->len)
        g_string_append_c(why, ')');
    g_set_error(error, BH_QUBES_ERROR, BH_QUBES_ERROR_NETWORK_LOOP,
                "netvm loop: %s%s; a qube cannot reach the network through itself. Choose a netvm outside "
                "the loop, or none (qvm-prefs %s netvm <qube>)",
                path->str, why->str, ((BhMQube *)cycle->pdata[start])->name);
}

/* The netvm graph has at most one edge out of each qube: walk each chain
 * once, marking qubes on the current walk (1) and finished ones (2). */
static gboolean check_loops(const BhModel *m, const GPtrArray *all, int subject_qid, GError **error)
{
    g_autoptr(GHashTable) state = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint i;

    for (i = 0; i < all->len; i++) {
        g_autoptr(GPtrArray) walk = g_ptr_array_new();
        BhMQube *cur = all->pdata[i];
        guint j;

        while (cur != NULL && !g_hash_table_contains(state, cur)) {
            g_hash_table_insert(state, cur, GINT_TO_POINTER(1));
            g_ptr_array_add(walk, cur);
            cur = bh_model_find_qid(m, effective_ref(m, cur, BH_P_NETVM));
        }
        if (cur != NULL && GPOINTER_TO_INT(g_hash_table_lookup(state, cur)) == 1) {
            g_autoptr(GPtrArray) cycle = g_ptr_array_new();
            gboolean in_cycle = FALSE;
            for (j = 0; j < walk->len; j++) {
                in_cycle = in_cycle || walk->pdata[j] == cur;
                if (in_cycle)
                    g_ptr_array_add(cycle, walk->pdata[j]);
            }
            report_loop(m, cycle, subject_qid, error);
            return FALSE;
        }
        for (j = 0; j < walk->len; j++)
            g_hash_table_insert(state, walk->pdata[j], GINT_TO_POINTER(2));
    }
    return TRUE;
}

gboolean bh_model_validate(const BhModel *m, BhSubject subject, GError **error)
{
    g_autoptr(GPtrArray) all = bh_model_sorted(m);
    const BhMQube *sq = bh_model_find_qid(m, subject.qid);
    guint i;

    if (sq != NULL && (subject.prop == BH_P_PROVIDES_NETWORK || subject.prop == BH_P_TEMPLATE_FOR_DISPVMS) &&
        !bh_model_bool(m, sq, subject.prop) && !check_capability_users(m, sq, subject.prop, error))
        return FALSE;
    if (!check_globals(m, error))
        return FALSE;
    /* The changed qube first, so that the message is about the change. */
    if (sq != NULL && !check_qube(m, sq, error))
        return FALSE;
    for (i = 0; i < all->len; i++) {
        if (!check_qube(m, all->pdata[i], error))
            return FALSE;
    }
    return check_loops(m, all, subject.qid, error);
}

/* ---- first run -------------------------------------------------------------- */

gboolean bh_model_populate_defaults(BhModel *m, const char *template_name, GError **error)
{
    /* clang-format off */
    static const char *const tmpl_props[] = {"root_path", "/", "root_readonly", "True", NULL};
    static const char *const net_props[] = {"provides_network", "True", "netvm", "none",
                                            "autostart", "True", NULL};
    static const char *const fw_props[] = {"provides_network", "True", "netvm", "sys-net",
                                           "autostart", "True", NULL};
    static const char *const offline[] = {"netvm", "none", NULL};
    static const char *const dvm_props[] = {"template_for_dispvms", "True", NULL};
    static const struct {
        const char *name, *label;
        const char *const *props;
    } appvms[] = {
        {"sys-net", "red", net_props},
        {"sys-firewall", "green", fw_props},
        {"work", "blue", NULL},
        {"personal", "yellow", NULL},
        {"untrusted", "red", NULL},
        {"vault", "black", offline},
        {"default-dvm", "red", dvm_props},
    };
    static const char *const globals[][2] = {
        {"default_netvm", "sys-firewall"},
        {"default_dispvm", "default-dvm"},
        {"updatevm", "sys-firewall"},
        {"clockvm", "sys-net"},
    };
    /* clang-format on */
    BhMQube *dom0;
    gsize i;
    int idx;

    dom0 = bh_model_insert(m, BH_QID_DOM0, "dom0", BH_CLASS_ADMIN_VM, "00000000-0000-0000-0000-000000000000");
    if (!bh_model_set_prop(m, dom0, BH_P_LABEL, "black", error))
        return FALSE;
    if (bh_model_create(m, BH_CLASS_TEMPLATE_VM, template_name, "black", NULL, tmpl_props, error) == NULL)
        return FALSE;
    if (!bh_model_lookup_global("default_template", &idx, error) ||
        !bh_model_set_global(m, idx, template_name, error))
        return FALSE;
    for (i = 0; i < G_N_ELEMENTS(appvms); i++) {
        if (bh_model_create(m, BH_CLASS_APP_VM, appvms[i].name, appvms[i].label, template_name,
                            appvms[i].props, error) == NULL)
            return FALSE;
    }
    for (i = 0; i < G_N_ELEMENTS(globals); i++) {
        if (!bh_model_lookup_global(globals[i][0], &idx, error) ||
            !bh_model_set_global(m, idx, globals[i][1], error))
            return FALSE;
    }
    return bh_model_validate(m, BH_SUBJECT_NONE, error);
}
