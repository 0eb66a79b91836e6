/* test-daemon-policy.c — policy decisions with a real store's facts
 * (core/daemon/bh-daemon-policy.c): tags, classes, disposables and
 * default_dispvm come from the store as it is at the time of the call, and
 * the policy from a BhPolicyStore on a temporary directory.
 *
 * Must never: touch the user's store or policy (everything is temporary). */
#include <glib/gstdio.h>
#include <string.h>

#include "bh-daemon-policy.h"

typedef struct {
    char *dir;
    BhStore *store;
    BhPolicyStore *policy;
} Fixture;

static const char policy_text[] = "svc.T * @tag:risky @anyvm allow\n"
                                  "svc.D * @anyvm @dispvm allow\n"
                                  "svc.X * @dispvm:default-dvm work allow\n"
                                  "svc.Y * work @type:TemplateVM allow\n"
                                  "* * @anyvm @anyvm deny\n";

static void fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("bh-test-daemon-policy-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *db = g_build_filename(f->dir, "qubes.db", NULL);
    f->store = bh_store_open(db, &error);
    g_assert_no_error(error);
    g_autofree char *pdir = g_build_filename(f->dir, "policy.d", NULL);
    g_autofree char *file = g_build_filename(pdir, "50-test.policy", NULL);
    g_assert_cmpint(g_mkdir(pdir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(file, policy_text, -1, &error));
    const char *dirs[] = {pdir, NULL};
    f->policy = bh_policy_store_new(dirs);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_clear_object(&f->policy);
    g_clear_pointer(&f->store, bh_store_close);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
}

static BhPolicyVerdict decide(Fixture *f, const char *service, const char *source, const char *target,
                              char **resolved)
{
    BhPolicyRequest req = {service, "", source, target};
    BhPolicyDecision d;
    bh_daemon_policy_evaluate(f->policy, f->store, &req, &d);
    BhPolicyVerdict v = d.verdict;
    if (resolved)
        *resolved = g_strdup(d.target);
    bh_policy_decision_clear(&d);
    return v;
}

static void test_store_facts(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *target = NULL;

    /* Tags: only once the store has it. */
    g_assert_cmpint(decide(f, "svc.T", "untrusted", "work", NULL), ==, BH_POLICY_DENY);
    g_assert_true(bh_store_add_tag(f->store, "untrusted", "risky", &error));
    g_assert_cmpint(decide(f, "svc.T", "untrusted", "work", NULL), ==, BH_POLICY_ALLOW);
    g_assert_cmpint(decide(f, "svc.T", "personal", "work", NULL), ==, BH_POLICY_DENY);

    /* @dispvm: the source's default_dispvm as the store has it now. */
    g_assert_cmpint(decide(f, "svc.D", "work", "@dispvm", &target), ==, BH_POLICY_ALLOW);
    g_assert_cmpstr(target, ==, "@dispvm:default-dvm");
    g_clear_pointer(&target, g_free);
    const char *props[] = {"template_for_dispvms", "True", NULL};
    g_assert_cmpint(bh_store_create_qube(f->store, BH_CLASS_APP_VM, "pdf-dvm", "red", NULL, props, &error), >,
                    0);
    g_assert_no_error(error);
    g_assert_true(bh_store_set_property(f->store, "work", "default_dispvm", "pdf-dvm", &error));
    g_assert_cmpint(decide(f, "svc.D", "work", "@dispvm", &target), ==, BH_POLICY_ALLOW);
    g_assert_cmpstr(target, ==, "@dispvm:pdf-dvm");
    g_clear_pointer(&target, g_free);

    /* A running disposable is known by its disposable template. */
    int qid = 0;
    g_autofree char *disp = bh_store_create_disposable(f->store, "default-dvm", &qid, &error);
    g_assert_no_error(error);
    g_assert_cmpint(decide(f, "svc.X", disp, "work", NULL), ==, BH_POLICY_ALLOW);
    g_assert_cmpint(decide(f, "svc.X", "default-dvm", "work", NULL), ==, BH_POLICY_DENY);

    /* Classes. */
    g_assert_cmpint(decide(f, "svc.Y", "work", "debian-12", NULL), ==, BH_POLICY_ALLOW);
    g_assert_cmpint(decide(f, "svc.Y", "work", "personal", NULL), ==, BH_POLICY_DENY);

    /* A qube the store does not have. */
    g_assert_cmpint(decide(f, "svc.T", "ghost", "work", NULL), ==, BH_POLICY_DENY);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/daemon-policy/store-facts", Fixture, NULL, fixture_set_up, test_store_facts,
               fixture_tear_down);
    return g_test_run();
}
