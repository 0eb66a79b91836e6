/* bh-daemon-policy.c — see bh-daemon-policy.h. */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-policy.h"

#include <string.h>

BhPolicySystem *bh_daemon_policy_facts(BhStore *store, GError **error)
{
    g_autoptr(GPtrArray) qubes = bh_store_list_qubes(store, error);
    g_autoptr(BhPolicySystem) sys = bh_policy_system_new();

    if (qubes == NULL)
        return NULL;
    for (guint i = 0; i < qubes->len; i++) {
        const BhQubeInfo *q = qubes->pdata[i];
        g_autofree char *default_dispvm = NULL;

        if (q->klass == BH_CLASS_ADMIN_VM)
            continue; /* always in the table */
        if (!bh_store_get_property(store, q->name, "default_dispvm", &default_dispvm, NULL, error))
            return NULL;
        bh_policy_system_add(sys, q->name, bh_class_name(q->klass), (const char *const *)q->tags,
                             q->template_for_dispvms, q->klass == BH_CLASS_DISP_VM ? q->template_name : NULL,
                             default_dispvm);
    }
    return g_steal_pointer(&sys);
}

void bh_daemon_policy_evaluate(BhPolicyStore *policy, BhStore *store, const BhPolicyRequest *req,
                               BhPolicyDecision *out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhPolicySystem) sys = bh_daemon_policy_facts(store, &error);
    g_autoptr(BhPolicy) current = bh_policy_store_get_policy(policy);

    if (sys == NULL) {
        memset(out, 0, sizeof *out);
        out->verdict = BH_POLICY_DENY;
        out->notify = TRUE;
        out->reason = g_strdup_printf("the qubes' facts cannot be read: %s", error->message);
        return;
    }
    bh_policy_evaluate(current, sys, req, out);
}
