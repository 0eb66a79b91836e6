/* sandbox-dom0files.c — what dom0 does to a qube's files on its behalf, tried
 * from inside real qubes the way an attacker would (issue 23, items 3 and 7):
 * links to host paths planted where dom0 makes directories (a StandaloneVM's
 * /var/tmp and /var/log, then a restart and a clone), a running disposable
 * template swapping its home's directories for links to host paths while
 * disposables are copied from it, links and trees left for removal and in
 * the vchan directory, and set-id files copied into disposables and clones.
 *
 * Every attack has its control: the host target exists and the planted link
 * leads to it when followed by path (what dom0 used to do); then the host
 * target is shown unchanged and nothing of it reached a qube.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube sa = {.name = "sa", .qid = 3, .klass = "StandaloneVM"};
static const BhTestQube work = {.name = "work", .qid = 4, .template_name = "tpl", .root_template = "tpl"};
static const BhTestQube dvm = {.name = "dvm", .qid = 5, .template_name = "tpl", .root_template = "tpl"};

static BhTestQube disposable(guint n)
{
    g_autofree char *name = g_strdup_printf("disp%u", n);
    BhTestQube d = {.name = g_intern_string(name),
                    .qid = 100 + n,
                    .klass = "DispVM",
                    .template_name = "dvm",
                    .root_template = "tpl",
                    .disposable = TRUE};
    return d;
}

/* Host paths a qube must never reach: a directory and a 0600 file in it,
 * holding a marker; made by the test, so the test can see them change. */
typedef struct {
    char *dir;
    char *file;
    char *marker;
} HostTarget;

static void host_target_init(BhHarness *h, HostTarget *t)
{
    t->dir = g_build_filename(h->tmp, "host-secrets", NULL);
    t->file = g_build_filename(t->dir, "shadow", NULL);
    t->marker = g_strdup_printf("bh-host-secret-%08x", g_random_int());
    g_assert_cmpint(g_mkdir(t->dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(t->file, t->marker, -1, NULL));
    g_assert_cmpint(g_chmod(t->file, 0600), ==, 0);
}

static void host_target_check(const HostTarget *t)
{
    struct stat st;
    g_autofree char *text = NULL;
    g_assert_cmpint(stat(t->dir, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
    g_assert_cmpint(stat(t->file, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
    g_assert_true(g_file_get_contents(t->file, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, t->marker);
    g_autoptr(GDir) d = g_dir_open(t->dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d)))
        g_assert_cmpstr(name, ==, "shadow");
}

static void host_target_clear(HostTarget *t)
{
    g_free(t->dir);
    g_free(t->file);
    g_free(t->marker);
}

static char *qube_path(BhHarness *h, const char *qube, const char *rel)
{
    return g_build_filename(h->state, "qubes", qube, rel, NULL);
}

/* Regular files below dir (links never followed) whose content has needle. */
static guint count_files_with(const char *dir, const char *needle, gsize needle_len)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint n = 0;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        gsize len = 0;
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_files_with(path, needle, needle_len);
        else if (S_ISREG(st.st_mode) && g_file_get_contents(path, &text, &len, NULL) &&
                 memmem(text, len, needle, needle_len))
            n++;
    }
    return n;
}

static void assert_same_inode(const char *a, const char *b)
{
    struct stat sa_, sb_;
    g_assert_cmpint(stat(a, &sa_), ==, 0);
    g_assert_cmpint(stat(b, &sb_), ==, 0);
    g_assert_cmpuint(sa_.st_dev, ==, sb_.st_dev);
    g_assert_cmpuint(sa_.st_ino, ==, sb_.st_ino);
}

/* A StandaloneVM replaces /var/tmp and /var/log with links to host paths;
 * dom0 then makes its /var directories again at the next start and at a
 * clone. Before: chmod 1777 of the host file through the link. */
static void test_var_links(void)
{
    BhHarness h;
    HostTarget t;
    g_autoptr(GError) error = NULL;
    /* The root layers as directories on dom0's disk, which dom0 walks (a
     * template's still are): in a root volume, the default for a
     * StandaloneVM, dom0 never walks them (sandbox-root-volume). */
    g_setenv("BH_SANDBOX_ROOT", "directory", TRUE);
    if (!bh_harness_setup(&h))
        return;
    host_target_init(&h, &t);
    g_assert_true(bh_harness_create(&h, &sa, &error));
    g_assert_true(bh_harness_start(&h, &sa, &error));
    g_assert_no_error(error);
    g_autofree char *cmd =
        g_strdup_printf("rm -rf /var/tmp /var/log && ln -s %s /var/tmp && ln -s %s /var/log && "
                        "readlink /var/tmp /var/log",
                        t.file, t.dir);
    g_autofree char *planted = bh_harness_run_out(&h, "sa", cmd);
    g_autofree char *want = g_strdup_printf("%s\n%s", t.file, t.dir);
    g_assert_cmpstr(planted, ==, want);
    g_assert_true(bh_harness_shutdown(&h, "sa", 5, &error));
    g_assert_no_error(error);
    /* Control: on the host, the qube's /var/tmp and /var/log lead (by path)
     * to the host's file and directory. */
    g_autofree char *var_tmp = qube_path(&h, "sa", "root/var/tmp");
    g_autofree char *var_log = qube_path(&h, "sa", "root/var/log");
    assert_same_inode(var_tmp, t.file);
    assert_same_inode(var_log, t.dir);

    /* A restart makes the root's directories again; a clone copies and
     * makes them for the clone. */
    g_assert_true(bh_harness_start(&h, &sa, &error));
    g_assert_no_error(error);
    g_autofree char *still = bh_harness_run_out(&h, "sa", "readlink /var/tmp");
    g_assert_cmpstr(still, ==, t.file); /* the qube's own business, left as it made it */
    g_assert_true(bh_harness_shutdown(&h, "sa", 5, &error));
    BhTestQube clone = {.name = "sa2", .qid = 6, .klass = "StandaloneVM"};
    BhBackendQube b = bh_harness_qube(&clone);
    gboolean cloned = bh_backend_clone_volumes(h.backend, "sa", &b, &error);
    g_assert_no_error(error);
    g_assert_true(cloned);
    g_autofree char *clone_tmp = qube_path(&h, "sa2", "root/var/tmp");
    g_autofree char *link = g_file_read_link(clone_tmp, NULL);
    g_assert_cmpstr(link, ==, t.file); /* copied as a link, not followed */
    g_assert_true(bh_harness_start(&h, &clone, &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_shutdown(&h, "sa2", 5, &error));

    host_target_check(&t);
    host_target_clear(&t);
    bh_harness_teardown(&h);
    g_unsetenv("BH_SANDBOX_ROOT");
}

static const char swap_py[] =
    "import ctypes, os, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "os.chdir(os.path.expanduser('~'))\n"
    "n = 0\n"
    "while True:\n"
    "    # RENAME_EXCHANGE: docs is a directory one moment, a link the next\n"
    "    for a, b in ((b'docs', b'docs.link'), (b'cfg', b'cfg.link')):\n"
    "        if libc.renameat2(-100, a, -100, b, 2) == 0:\n"
    "            n += 1\n"
    "    if n % 1000 == 0:\n"
    "        open('swaps.tmp', 'w').write(str(n)); os.rename('swaps.tmp', 'swaps')\n";

/* A running disposable template swaps its home's directories for links to a
 * host directory (and to /etc) in a loop while disposables are made from it.
 * Before: a disposable got the host's files. */
static void test_disposable_race(void)
{
    BhHarness h;
    HostTarget t;
    g_autoptr(GError) error = NULL;
    /* At least 40 disposables, more until the race was seen both ways. */
    const guint min_rounds = 40, max_rounds = 150;
    guint rounds = 0;
    if (!bh_harness_setup(&h))
        return;
    host_target_init(&h, &t);
    g_autofree char *shadow = NULL;
    gsize shadow_len = 0;
    g_assert_true(g_file_get_contents("/etc/shadow", &shadow, &shadow_len, NULL) || geteuid() != 0);
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    g_assert_true(bh_harness_create(&h, &dvm, &error));
    g_assert_true(bh_harness_start(&h, &dvm, &error));
    g_assert_no_error(error);
    bh_harness_put(&h, "dvm", "swap.py", swap_py);
    g_autofree char *prep =
        g_strdup_printf("mkdir -p docs cfg && for i in 1 2 3 4 5 6 7 8; do echo own > docs/shadow$i; "
                        "echo own > cfg/passwd$i; done && echo own > docs/shadow && ln -s %s docs.link && "
                        "ln -s /etc cfg.link && (nohup python3 swap.py >/dev/null 2>&1 &) && sleep 0.3 && "
                        "cat swaps",
                        t.dir);
    g_autofree char *started = bh_harness_run_out(&h, "dvm", prep);
    g_assert_cmpint(atoi(started), >, 0);

    guint as_dir = 0, as_link = 0;
    for (guint i = 0; i < min_rounds || ((as_dir == 0 || as_link == 0) && i < max_rounds); i++) {
        rounds++;
        BhTestQube d = disposable(i);
        g_assert_true(bh_harness_create(&h, &d, &error));
        g_assert_no_error(error);
        g_autofree char *docs = qube_path(&h, d.name, "private/docs");
        g_autofree char *priv = qube_path(&h, d.name, "private");
        struct stat st;
        if (lstat(docs, &st) == 0)
            S_ISLNK(st.st_mode) ? as_link++ : as_dir++;
        g_assert_cmpuint(count_files_with(priv, t.marker, strlen(t.marker)), ==, 0);
        if (shadow_len > 0)
            g_assert_cmpuint(count_files_with(priv, shadow, shadow_len), ==, 0);
        if (i == 0) {
            /* The first one runs: inside, the links lead nowhere of the host. */
            g_assert_true(bh_harness_start(&h, &d, &error));
            g_assert_no_error(error);
            g_autofree char *inside = g_strdup_printf("cat ~/docs/shadow ~/docs.link/shadow ~/cfg/shadow "
                                                      "~/cfg.link/shadow %s 2>/dev/null; true",
                                                      t.file);
            g_autofree char *seen = bh_harness_run_out(&h, d.name, inside);
            g_assert_null(strstr(seen, t.marker));
            g_assert_true(bh_harness_shutdown(&h, d.name, 5, &error));
        }
        g_assert_true(bh_backend_remove_volumes(h.backend, d.name, &error));
        g_assert_no_error(error);
    }
    g_autofree char *swaps = bh_harness_run_out(&h, "dvm", "cat ~/swaps");
    g_test_message("%s swaps during %u disposables: docs copied as a directory %u times, as a link %u times",
                   swaps, rounds, as_dir, as_link);
    /* Control: the race ran both ways, and by path the link leads to the
     * host's secret. */
    g_assert_cmpuint(as_dir, >, 0);
    g_assert_cmpuint(as_link, >, 0);
    g_autofree char *dvm_link = qube_path(&h, "dvm", "private/docs.link");
    g_autofree char *via = g_build_filename(dvm_link, "shadow", NULL);
    struct stat st;
    if (lstat(dvm_link, &st) == 0 && S_ISLNK(st.st_mode))
        assert_same_inode(via, t.file);
    host_target_check(&t);
    host_target_clear(&t);
    bh_harness_teardown(&h);
}

/* Links and trees a qube leaves in its home and its vchan directory: its
 * removal takes them, never what they point to. */
static void test_remove_and_vchan(void)
{
    BhHarness h;
    HostTarget t;
    g_autoptr(GError) error = NULL;
    g_autofree char *marker = g_strdup_printf("bh-vchan-%08x", g_random_int());
    if (!bh_harness_setup(&h))
        return;
    host_target_init(&h, &t);
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    g_assert_true(bh_harness_create(&h, &work, &error));
    /* What a daemon that died left in the vchan directory (or an earlier
     * qube of this qid): gone before the qube starts. */
    g_autofree char *vchan = g_strdup_printf("%s/bulkhead/vchan/%u", h.runtime, work.qid);
    g_autofree char *stale = g_build_filename(vchan, "stale", "deep", NULL);
    g_assert_cmpint(g_mkdir_with_parents(stale, 0700), ==, 0);
    g_autofree char *stale_file = g_build_filename(stale, "f", NULL);
    g_assert_true(g_file_set_contents(stale_file, marker, -1, NULL));
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    g_autofree char *seen = bh_harness_run_out(&h, "work", "ls -A $BH_VCHAN_DIR/$BH_VCHAN_DOMID");
    g_assert_null(strstr(seen, "stale"));
    g_autofree char *cmd = g_strdup_printf(
        "ln -s %s ~/host && mkdir -p ~/a/b && ln -s %s ~/a/b/link && ln -s %s ~/a/f && "
        "v=$BH_VCHAN_DIR/$BH_VCHAN_DOMID && mkdir -p $v/x/y && echo %s > $v/x/y/f && echo %s > $v/file && "
        "ln -s %s $v/%u-0-512.sock.keep && echo ok",
        t.dir, t.dir, t.file, marker, marker, t.dir, work.qid);
    g_autofree char *out = bh_harness_run_out(&h, "work", cmd);
    g_assert_cmpstr(out, ==, "ok");
    /* Control: the host sees what the qube wrote into its vchan directory,
     * and its home's link leads to the host directory by path. */
    g_autofree char *deep = g_build_filename(vchan, "x", "y", "f", NULL);
    g_assert_true(g_file_test(deep, G_FILE_TEST_IS_REGULAR));
    g_autofree char *host_link = qube_path(&h, "work", "private/host");
    assert_same_inode(host_link, t.dir);

    g_assert_true(bh_harness_shutdown(&h, "work", 5, &error));
    g_assert_no_error(error);
    /* Before: only the top level of the vchan directory went. */
    g_autoptr(GDir) vd = g_dir_open(vchan, 0, NULL);
    g_assert_nonnull(vd);
    const char *left = g_dir_read_name(vd);
    if (left)
        g_test_message("left in the vchan directory: %s", left);
    g_assert_null(left);
    g_assert_cmpuint(count_files_with(h.runtime, marker, strlen(marker)), ==, 0);

    g_assert_true(bh_backend_remove_volumes(h.backend, "work", &error));
    g_assert_no_error(error);
    g_autofree char *dir = qube_path(&h, "work", "");
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    host_target_check(&t);
    host_target_clear(&t);
    bh_harness_teardown(&h);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    g_assert_cmpint(lstat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

/* Set-id files a disposable template makes stay on its disk, but its
 * disposables and clones get them without the bits, and without file
 * capabilities. */
static void test_setid(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!bh_harness_setup(&h))
        return;
    g_assert_true(bh_harness_create(&h, &tpl, &error));
    g_assert_true(bh_harness_create(&h, &dvm, &error));
    g_assert_true(bh_harness_start(&h, &dvm, &error));
    g_assert_no_error(error);
    g_autofree char *out =
        bh_harness_run_out(&h, "dvm",
                           "cp /bin/true ~/suid && chmod 4755 ~/suid && cp /bin/true ~/sgid && "
                           "chmod 2755 ~/sgid && cp /bin/true ~/capped && mkdir ~/shared && "
                           "chmod 2775 ~/shared && head -c 4194304 /dev/zero > ~/big && "
                           "for i in $(seq 50); do ln ~/big ~/big$i; done && "
                           "stat -c %a ~/suid ~/sgid ~/shared");
    g_assert_cmpstr(out, ==, "4755\n2755\n2775");
    g_assert_true(bh_harness_shutdown(&h, "dvm", 5, &error));
    /* Control: on the host disk the qube's file is set-uid (and root's: the
     * home is idmapped). */
    g_autofree char *suid = qube_path(&h, "dvm", "private/suid");
    g_assert_cmpuint(mode_of(suid), ==, 04755);
    /* A qube cannot set a capability itself (no CAP_SETFCAP); the test puts
     * one there as a file that arrived with capabilities would have it. */
    g_autofree char *capped = qube_path(&h, "dvm", "private/capped");
    const guint32 cap[5] = {0x02000001, 1u << 7, 0, 0, 0};
    gboolean caps = setxattr(capped, "security.capability", cap, sizeof cap, 0) == 0;
    if (!caps)
        g_test_message("security.capability could not be set here: %s", g_strerror(errno));

    BhTestQube d = disposable(1);
    g_assert_true(bh_harness_create(&h, &d, &error));
    g_assert_no_error(error);
    BhTestQube clone = {.name = "dvm2", .qid = 7, .template_name = "tpl", .root_template = "tpl"};
    BhBackendQube b = bh_harness_qube(&clone);
    gboolean cloned = bh_backend_clone_volumes(h.backend, "dvm", &b, &error);
    g_assert_no_error(error);
    g_assert_true(cloned);
    const char *const copies[] = {d.name, "dvm2"};
    for (gsize i = 0; i < G_N_ELEMENTS(copies); i++) {
        g_autofree char *s = qube_path(&h, copies[i], "private/suid");
        g_autofree char *g = qube_path(&h, copies[i], "private/sgid");
        g_autofree char *sh = qube_path(&h, copies[i], "private/shared");
        g_autofree char *c = qube_path(&h, copies[i], "private/capped");
        g_assert_cmpuint(mode_of(s), ==, 0755);
        g_assert_cmpuint(mode_of(g), ==, 0755);
        g_assert_cmpuint(mode_of(sh), ==, 02775); /* group inheritance is no privilege */
        g_assert_cmpint(getxattr(c, "security.capability", NULL, 0), ==, -1);
        /* 50 hard links to 4 MiB: one file in the copy, not 200 MiB. */
        g_autofree char *big = qube_path(&h, copies[i], "private/big");
        struct stat st;
        g_assert_cmpint(stat(big, &st), ==, 0);
        g_assert_cmpuint(st.st_nlink, ==, 51);
    }
    g_assert_true(bh_harness_start(&h, &d, &error));
    g_assert_no_error(error);
    g_autofree char *inside = bh_harness_run_out(&h, d.name, "stat -c %a ~/suid ~/sgid");
    g_assert_cmpstr(inside, ==, "755\n755");
    bh_harness_teardown(&h);
}

int main(int argc, char **argv)
{
    /* These attacks are on dom0's walks of a home kept as a directory (a
     * daemon without root keeps them so); with private volumes dom0 copies
     * one image file and never walks a home (sandbox-storage). */
    g_setenv("BH_SANDBOX_PRIVATE", "directory", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/dom0files/var-links-not-followed", test_var_links);
    g_test_add_func("/sandbox/dom0files/disposable-from-a-swapping-template", test_disposable_race);
    g_test_add_func("/sandbox/dom0files/remove-and-vchan-sweep", test_remove_and_vchan);
    g_test_add_func("/sandbox/dom0files/set-id-stripped-in-copies", test_setid);
    return g_test_run();
}
