/* sandbox-persistence.c — what a sandbox qube keeps and what it loses:
 * an AppVM's home survives a restart (and a daemon restart), its /etc and
 * /usr changes do not; software placed in the template's root appears in its
 * AppVMs after their restart; a disposable starts from a copy of its
 * disposable template's home, ends by itself when its last process ends, and
 * leaves nothing behind.
 */
#include <glib/gstdio.h>
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube work = {.name = "work", .qid = 3, .template_name = "tpl", .root_template = "tpl"};
static const BhTestQube dvm = {.name = "dvm", .qid = 5, .template_name = "tpl", .root_template = "tpl"};
static const BhTestQube disp = {.name = "disp7",
                                .qid = 7,
                                .klass = "DispVM",
                                .template_name = "dvm",
                                .root_template = "tpl",
                                .disposable = TRUE};

static void restart(BhHarness *h, const BhTestQube *q)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_harness_shutdown(h, q->name, 5, &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_start(h, q, &error));
    g_assert_no_error(error);
}

static void test_appvm(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    /* Without root (no idmapped layers) the host's /usr stays root's. */
    g_autofree char *cmd =
        g_strdup_printf("echo kept > ~/keep.txt && mkdir -p ~/dir && echo deep > ~/dir/f && "
                        "echo lost > /etc/bh-lost && %s"
                        "echo lost > /var/tmp/bh-lost && echo lost > /opt/bh-lost && "
                        "cat /etc/bh-lost",
                        geteuid() == 0 ? "echo lost > /usr/local/bin/bh-lost && " : "");
    g_assert_cmpint(bh_harness_run(&h, "work", cmd, NULL), ==, 0);
    restart(&h, &work);
    g_autofree char *home = bh_harness_run_out(&h, "work", "cat ~/keep.txt ~/dir/f");
    g_assert_cmpstr(home, ==, "kept\ndeep");
    g_autofree char *root = bh_harness_run_out(&h, "work",
                                               "ls /etc/bh-lost /usr/local/bin/bh-lost /var/tmp/bh-lost "
                                               "/opt/bh-lost 2>/dev/null | wc -l");
    g_assert_cmpstr(root, ==, "0");

    /* A daemon restart (a new backend on the same state) keeps the home. */
    bh_harness_restart_backend(&h);
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    g_autofree char *again = bh_harness_run_out(&h, "work", "cat ~/keep.txt");
    g_assert_cmpstr(again, ==, "kept");
    bh_harness_teardown(&h);
}

static void test_template_software(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    g_autofree char *before =
        bh_harness_run_out(&h, "work", "command -v bh-tool; ls /opt/bh 2>/dev/null | wc -l");
    g_assert_cmpstr(before, ==, "0");

    /* "Install" in the template: a program, its data, its configuration.
     * (Without root there are no idmapped layers: the host's /usr stays
     * root's, so the program goes to /opt.) */
    const char *bin = geteuid() == 0 ? "/usr/local/bin" : "/opt/bh";
    g_assert_true(bh_harness_start(&h, &tpl, &error));
    g_assert_no_error(error);
    g_autofree char *install =
        g_strdup_printf("mkdir -p /opt/bh && printf '#!/bin/sh\\necho tool works\\n' > "
                        "%s/bh-tool && chmod 755 %s/bh-tool && echo data > /opt/bh/data && "
                        "echo setting=1 > /etc/bh-tool.conf && rm /etc/motd",
                        bin, bin);
    g_assert_cmpint(bh_harness_run(&h, "tpl", install, NULL), ==, 0);
    /* The template keeps it across its own restart. */
    restart(&h, &tpl);
    g_autofree char *in_tpl = bh_harness_run_out(
        &h, "tpl", "PATH=$PATH:/opt/bh bh-tool; cat /etc/bh-tool.conf; test -e /etc/motd || echo gone");
    g_assert_cmpstr(in_tpl, ==, "tool works\nsetting=1\ngone");
    g_assert_true(bh_harness_shutdown(&h, "tpl", 5, &error));

    /* The AppVM sees it once restarted; the host never does. */
    restart(&h, &work);
    g_autofree char *in_work = bh_harness_run_out(
        &h, "work",
        "PATH=$PATH:/opt/bh bh-tool; cat /opt/bh/data /etc/bh-tool.conf; test -e /etc/motd || echo gone");
    g_assert_cmpstr(in_work, ==, "tool works\ndata\nsetting=1\ngone");
    g_assert_false(g_file_test("/usr/local/bin/bh-tool", G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test("/opt/bh/data", G_FILE_TEST_EXISTS));
    bh_harness_teardown(&h);
}

/* root_readonly: the template's own root cannot be written at all (only
 * /var takes scratch writes, discarded). */
static void test_readonly_template(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    BhTestQube ro = tpl;
    ro.root_readonly = TRUE;
    g_assert_true(bh_harness_create(&h, &ro, &error));
    g_assert_true(bh_harness_start(&h, &ro, &error));
    g_assert_no_error(error);
    g_autofree char *out =
        bh_harness_run_out(&h, "tpl",
                           "touch /usr/local/bin/x 2>&1; touch /etc/x 2>&1; touch /opt/x 2>&1; "
                           "touch /var/tmp/x && echo var-ok");
    g_assert_cmpstr(out, ==,
                    "touch: cannot touch '/usr/local/bin/x': Read-only file system\n"
                    "touch: cannot touch '/etc/x': Read-only file system\n"
                    "touch: cannot touch '/opt/x': Read-only file system\nvar-ok");
    restart(&h, &ro);
    g_autofree char *after = bh_harness_run_out(&h, "tpl", "ls /var/tmp/x 2>/dev/null | wc -l");
    g_assert_cmpstr(after, ==, "0");
    bh_harness_teardown(&h);
}

/* root_path: a root filesystem tree of its own below the template's layers
 * (here a small one whose /usr is the host's, with an /etc of its own). */
static void test_root_path_tree(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    g_autofree char *tree = g_build_filename(h.tmp, "tree", NULL);
    g_autofree char *etc = g_build_filename(tree, "etc", NULL);
    g_autofree char *usr = g_build_filename(tree, "usr", NULL);
    g_autofree char *bin = g_build_filename(tree, "bin", NULL);
    g_autofree char *conf = g_build_filename(etc, "tree.conf", NULL);
    g_assert_cmpint(g_mkdir_with_parents(etc, 0755), ==, 0);
    g_assert_cmpint(symlink("/usr", usr), ==, 0);
    g_assert_cmpint(symlink("usr/bin", bin), ==, 0);
    static const char *const links[] = {"lib", "lib64", "sbin"};
    for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
        g_autofree char *link = g_build_filename(tree, links[i], NULL);
        g_autofree char *target = g_strconcat("usr/", links[i], NULL);
        g_assert_cmpint(symlink(target, link), ==, 0);
    }
    g_assert_true(g_file_set_contents(conf, "from the tree\n", -1, NULL));

    BhTestQube t = tpl;
    t.root_path = tree;
    g_assert_true(bh_harness_create(&h, &t, &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_start(&h, &t, &error));
    g_assert_no_error(error);
    g_assert_cmpint(bh_harness_run(&h, "tpl", "cat /etc/tree.conf && echo added > /etc/added.conf", NULL), ==,
                    0);
    g_assert_true(bh_harness_shutdown(&h, "tpl", 5, &error));
    /* The tree itself is untouched: the template's writes are its layer's. */
    g_autofree char *added = g_build_filename(etc, "added.conf", NULL);
    g_assert_false(g_file_test(added, G_FILE_TEST_EXISTS));

    BhTestQube app = work;
    app.root_path = tree;
    g_assert_true(bh_harness_start(&h, &app, &error));
    g_assert_no_error(error);
    g_autofree char *out = bh_harness_run_out(&h, "work", "cat /etc/tree.conf /etc/added.conf");
    g_assert_cmpstr(out, ==, "from the tree\nadded");

    /* A tree that is not one is refused with a reason. */
    BhTestQube bad = tpl;
    bad.name = "bad";
    bad.qid = 9;
    bad.root_path = etc;
    g_assert_false(bh_harness_create(&h, &bad, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "not a root filesystem tree"));
    bh_harness_teardown(&h);
}

/* Every file under dir whose content contains marker. */
static void find_marker(const char *dir, const char *marker, GPtrArray *found)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        if (g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            continue;
        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            find_marker(path, marker, found);
        else if (g_file_test(path, G_FILE_TEST_IS_REGULAR) && g_file_get_contents(path, &text, NULL, NULL) &&
                 strstr(text, marker))
            g_ptr_array_add(found, g_steal_pointer(&path));
    }
}

static void test_disposable(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_autofree char *marker = g_strdup_printf("bh-disp-%08x", g_random_int());
    if (!bh_harness_setup(&h))
        return;
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    g_assert_true(bh_harness_create(&h, &dvm, &error));
    /* Its home is prepared inside it, as a user would. */
    g_assert_true(bh_harness_start(&h, &dvm, &error));
    g_assert_no_error(error);
    bh_harness_put(&h, "dvm", "from-dvm.txt", "prepared in the disposable template\n");
    g_assert_true(bh_harness_shutdown(&h, "dvm", 20, &error));
    g_assert_no_error(error);

    /* What the daemon does for CreateDisposable: volumes, then start. */
    g_assert_true(bh_harness_create(&h, &disp, &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_start(&h, &disp, &error));
    g_assert_no_error(error);
    g_autofree char *copied = bh_harness_run_out(&h, "disp7", "cat ~/from-dvm.txt");
    g_assert_cmpstr(copied, ==, "prepared in the disposable template");
    g_autofree char *cmd = g_strdup_printf("echo %s > ~/mine.txt; echo %s > /etc/mine; echo %s > /tmp/mine; "
                                           "nohup sleep 1 >/dev/null 2>&1 &",
                                           marker, marker, marker);
    g_assert_cmpint(bh_harness_run(&h, "disp7", cmd, NULL), ==, 0);
    /* Its last process (the sleep) ends: the disposable stops by itself,
     * cleanly. */
    g_assert_true(bh_harness_wait_state(&h, "disp7", BH_POWER_HALTED, 15000));
    g_assert_null(bh_harness_reason(&h, "disp7", BH_POWER_HALTED));
    /* The disposable template's home did not change. */
    g_assert_true(bh_harness_start(&h, &dvm, &error));
    g_assert_no_error(error);
    g_autofree char *dvm_mine = bh_harness_private_path(&h, "dvm", "mine.txt");
    g_assert_false(g_file_test(dvm_mine, G_FILE_TEST_EXISTS));
    g_autofree char *dvm_from = bh_harness_private_path(&h, "dvm", "from-dvm.txt");
    g_assert_true(g_file_test(dvm_from, G_FILE_TEST_EXISTS));
    g_assert_true(bh_harness_shutdown(&h, "dvm", 20, &error));
    g_assert_no_error(error);

    /* The daemon then removes it; nothing of it is left anywhere. */
    g_assert_true(bh_backend_remove_volumes(h.backend, "disp7", &error));
    g_assert_no_error(error);
    g_autofree char *dir = g_build_filename(h.state, "qubes", "disp7", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
    find_marker(h.tmp, marker, found);
    find_marker("/run/bulkhead-sandbox", marker, found);
    for (guint i = 0; i < found->len; i++)
        g_test_message("left behind: %s", (char *)found->pdata[i]);
    g_assert_cmpuint(found->len, ==, 0);
    g_autofree char *vchan = g_build_filename(h.runtime, "bulkhead", "vchan", "7", NULL);
    g_autoptr(GDir) vd = g_dir_open(vchan, 0, NULL);
    g_assert_true(vd == NULL || g_dir_read_name(vd) == NULL);
    bh_harness_teardown(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/persistence/appvm-home-kept-root-discarded", test_appvm);
    g_test_add_func("/sandbox/persistence/template-software-reaches-appvms", test_template_software);
    g_test_add_func("/sandbox/persistence/disposable-leaves-nothing", test_disposable);
    g_test_add_func("/sandbox/persistence/read-only-template", test_readonly_template);
    g_test_add_func("/sandbox/persistence/root-path-tree", test_root_path_tree);
    return g_test_run();
}
