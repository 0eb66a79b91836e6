/* sandbox-storage.c — a qube's private volume has the size it was given, and
 * the kernel holds it to that (docs/sandbox.md, "Storage"), each tried from
 * inside real qubes:
 *   filling the home past private_size fails with ENOSPC inside, while dom0's
 *   free space stays above a floor (and, as a control, the host filesystem
 *   itself has room for what the qube was refused);
 *   a larger private_size applies at the next start, a smaller one is
 *   ignored, and the data survives both;
 *   a home kept as a directory by an older version moves into the image with
 *   nothing lost, and one too big for its size stays where it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};

static BhTestQube small_qube(const char *name, guint32 qid, guint mib)
{
    BhTestQube q = {
        .name = name, .qid = qid, .template_name = "tpl", .root_template = "tpl", .private_mib = mib};
    return q;
}

static gboolean setup(BhHarness *h)
{
    g_autoptr(GError) error = NULL;
    if (geteuid() != 0) {
        g_test_skip("private volumes need loop devices (root); without root homes stay directories");
        return FALSE;
    }
    if (!bh_harness_setup(h))
        return FALSE;
    g_assert_true(bh_harness_create(h, &tpl, &error));
    g_assert_no_error(error);
    return TRUE;
}

static char *run_out(BhHarness *h, const char *qube, const char *cmd, int *status)
{
    char *out = NULL;
    int st = bh_harness_run(h, qube, cmd, &out);
    if (status)
        *status = st;
    return out ? g_strstrip(out) : g_strdup("");
}

static guint64 free_mib(const char *path)
{
    struct statvfs sv;
    g_assert_cmpint(statvfs(path, &sv), ==, 0);
    return (guint64)sv.f_bavail * sv.f_frsize >> 20;
}

/* The size df reports for the home, in MiB. */
static guint home_mib(BhHarness *h, const char *qube)
{
    g_autofree char *out = run_out(h, qube, "df -m --output=size ~ | tail -n1", NULL);
    return (guint)g_ascii_strtoull(out, NULL, 10);
}

static void test_full(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!setup(&h))
        return;
    BhTestQube work = small_qube("work", 3, 256);
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    guint64 before = free_mib(h.state);
    g_test_message("host free before: %" G_GUINT64_FORMAT " MiB", before);

    /* Control: the host filesystem has room for all the qube will ask. */
    g_assert_cmpuint(before, >, 2048);
    g_autofree char *probe = g_build_filename(h.tmp, "host-room", NULL);
    int fd = open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(posix_fallocate(fd, 0, (off_t)1024 << 20), ==, 0);
    close(fd);
    g_unlink(probe);

    /* What the attack did: 16 GiB in one call, and a writer that does not
     * stop. Both end at the volume's size, with ENOSPC. */
    int status = 0;
    g_autofree char *big = run_out(&h, "work", "fallocate -l 16G ~/huge 2>&1", &status);
    g_test_message("fallocate 16G: %d %s", status, big);
    g_assert_cmpint(status, !=, 0);
    g_assert_nonnull(strstr(big, "No space left on device"));
    /* What the refused call kept is bounded by the volume too; it goes. */
    g_autofree char *huge = run_out(&h, "work", "du -m ~/huge 2>/dev/null | cut -f1; rm -f ~/huge", NULL);
    g_assert_cmpuint(g_ascii_strtoull(huge, NULL, 10), <=, 256);
    g_autofree char *fill = run_out(
        &h, "work",
        "dd if=/dev/zero of=\"$HOME/fill\" bs=1M count=1024 2>&1 | grep -o 'No space left on device'; "
        "du -m ~/fill | cut -f1",
        &status);
    g_test_message("dd: %s", fill);
    g_auto(GStrv) lines = g_strsplit(fill, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 2);
    g_assert_cmpstr(lines[0], ==, "No space left on device");
    g_assert_cmpuint(g_ascii_strtoull(lines[1], NULL, 10), <=, 256);
    g_assert_cmpuint(g_ascii_strtoull(lines[1], NULL, 10), >, 128);
    g_assert_cmpuint(home_mib(&h, "work"), <=, 256);

    /* dom0 lost about the volume (other programs write meanwhile: 1 GiB of
     * slack), not the 17 GiB the qube asked for. */
    guint64 after = free_mib(h.state);
    g_test_message("host free after: %" G_GUINT64_FORMAT " MiB (volume 256 MiB)", after);
    g_assert_cmpuint(after + 256 + 1024, >=, before);
    g_assert_cmpuint(after, >, 1024);

    /* The qube lives on: freeing its own space lets it write again. */
    g_autofree char *again = run_out(&h, "work", "rm ~/fill && echo fine > ~/note && cat ~/note", &status);
    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(again, ==, "fine");
    bh_harness_teardown(&h);
}

static void test_resize(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_autofree char *marker = g_strdup_printf("bh-kept-%08x", g_random_int());
    if (!setup(&h))
        return;
    BhTestQube work = small_qube("work", 3, 256);
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    guint small = home_mib(&h, "work");
    g_autofree char *cmd = g_strdup_printf("echo %s > ~/kept; fallocate -l 300M ~/room 2>&1", marker);
    int status = 0;
    g_autofree char *refused = run_out(&h, "work", cmd, &status);
    g_assert_cmpint(status, !=, 0);
    g_assert_true(bh_harness_shutdown(&h, "work", 20, &error));

    /* Larger: at the next start, with the data. */
    work.private_mib = 512;
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    guint large = home_mib(&h, "work");
    g_test_message("home: %u MiB at 256, %u MiB at 512", small, large);
    g_assert_cmpuint(small, <=, 256);
    g_assert_cmpuint(large, >, 400);
    g_assert_cmpuint(large, <=, 512);
    g_autofree char *kept = run_out(&h, "work", "cat ~/kept; fallocate -l 300M ~/room && echo room", &status);
    g_autofree char *want = g_strdup_printf("%s\nroom", marker);
    g_assert_cmpstr(kept, ==, want);
    g_assert_true(bh_harness_shutdown(&h, "work", 20, &error));

    /* Smaller: ignored, nothing lost. */
    work.private_mib = 256;
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(home_mib(&h, "work"), ==, large);
    g_autofree char *still = run_out(&h, "work", "cat ~/kept; stat -c %s ~/room", NULL);
    g_autofree char *want2 = g_strdup_printf("%s\n%d", marker, 300 << 20);
    g_assert_cmpstr(still, ==, want2);
    bh_harness_teardown(&h);
}

/* An older version kept the home as <qube>/private/ on the host. */
static void test_migrate(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_autofree char *marker = g_strdup_printf("bh-old-%08x", g_random_int());
    if (!setup(&h))
        return;
    g_autofree char *old = g_build_filename(h.state, "qubes", "old", "private", NULL);
    g_autofree char *docs = g_build_filename(old, "Documents", NULL);
    g_assert_cmpint(g_mkdir_with_parents(docs, 0700), ==, 0);
    g_autofree char *file = g_build_filename(docs, "letter.txt", NULL);
    g_assert_true(g_file_set_contents(file, marker, -1, NULL));
    g_autofree char *link = g_build_filename(old, "link", NULL);
    g_assert_cmpint(symlink("Documents/letter.txt", link), ==, 0);

    BhTestQube q = small_qube("old", 5, 256);
    g_assert_true(bh_harness_start(&h, &q, &error));
    g_assert_no_error(error);
    g_autofree char *seen =
        run_out(&h, "old", "cat ~/Documents/letter.txt; echo; readlink ~/link; stat -c %U ~/Documents", NULL);
    g_autofree char *want = g_strdup_printf("%s\nDocuments/letter.txt\nuser", marker);
    g_assert_cmpstr(seen, ==, want);
    g_autofree char *image = g_build_filename(h.state, "qubes", "old", "private.img", NULL);
    g_assert_true(g_file_test(image, G_FILE_TEST_IS_REGULAR));
    g_assert_false(g_file_test(old, G_FILE_TEST_EXISTS));
    g_assert_true(bh_harness_shutdown(&h, "old", 20, &error));

    /* A home larger than its size: the start fails, saying so, and the
     * directory stays as it was. */
    g_autofree char *big_old = g_build_filename(h.state, "qubes", "big", "private", NULL);
    g_assert_cmpint(g_mkdir_with_parents(big_old, 0700), ==, 0);
    g_autofree char *blob = g_build_filename(big_old, "blob", NULL);
    int fd = open(blob, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 300; i++)
        g_assert_cmpint(write(fd, chunk, sizeof chunk), ==, (ssize_t)sizeof chunk);
    close(fd);
    BhTestQube big = small_qube("big", 6, 256);
    g_assert_false(bh_harness_start(&h, &big, &error));
    g_assert_nonnull(error);
    g_test_message("too big: %s", error->message);
    g_assert_nonnull(strstr(error->message, "stays a directory"));
    struct stat st;
    g_assert_cmpint(stat(blob, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 300 << 20);
    g_autofree char *big_image = g_build_filename(h.state, "qubes", "big", "private.img", NULL);
    g_assert_false(g_file_test(big_image, G_FILE_TEST_EXISTS));
    bh_harness_teardown(&h);
}

/* A clone (and a disposable, through the same copy) gets the data, and the
 * copy keeps the image's holes: a 2 GiB volume costs what is written. */
static void test_clone(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_autofree char *marker = g_strdup_printf("bh-cloned-%08x", g_random_int());
    if (!setup(&h))
        return;
    BhTestQube work = small_qube("work", 3, 0);
    g_assert_true(bh_harness_start(&h, &work, &error));
    g_assert_no_error(error);
    g_autofree char *cmd = g_strdup_printf("echo %s > ~/mine", marker);
    g_assert_cmpint(bh_harness_run(&h, "work", cmd, NULL), ==, 0);
    g_assert_true(bh_harness_shutdown(&h, "work", 20, &error));

    BhTestQube copy = small_qube("copy", 4, 0);
    BhBackendQube b = bh_harness_qube(&copy);
    g_assert_true(bh_backend_clone_volumes(h.backend, "work", &b, &error));
    g_assert_no_error(error);
    g_autofree char *image = g_build_filename(h.state, "qubes", "copy", "private.img", NULL);
    struct stat st;
    g_assert_cmpint(stat(image, &st), ==, 0);
    g_test_message("clone's image: %lld MiB, %lld MiB on disk", (long long)(st.st_size >> 20),
                   (long long)((st.st_blocks * 512) >> 20));
    g_assert_cmpint(st.st_size, ==, (off_t)2048 << 20);
    g_assert_cmpint(st.st_blocks * 512, <, (off_t)256 << 20);
    g_assert_true(bh_harness_start(&h, &copy, &error));
    g_assert_no_error(error);
    g_autofree char *seen = run_out(&h, "copy", "cat ~/mine", NULL);
    g_assert_cmpstr(seen, ==, marker);
    bh_harness_teardown(&h);
}

/* Plants what a dead qube of name left (a crash between a clone's rename
 * and its completion): a home with a file holding marker. */
static void plant_leftover(BhHarness *h, const char *name, const char *marker)
{
    g_autofree char *home = g_build_filename(h->state, "qubes", name, "private", NULL);
    g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
    g_autofree char *file = g_build_filename(home, "leftover", NULL);
    g_assert_true(g_file_set_contents(file, marker, -1, NULL));
}

/* The leftover of name, moved aside whole: its file still holds marker. */
static void assert_set_aside(BhHarness *h, const char *name, const char *marker)
{
    g_autofree char *qubes = g_build_filename(h->state, "qubes", NULL);
    g_autofree char *prefix = g_strdup_printf(".orphan-%s-", name);
    g_autoptr(GDir) dir = g_dir_open(qubes, 0, NULL);
    g_assert_nonnull(dir);
    int found = 0;
    for (const char *e; (e = g_dir_read_name(dir)) != NULL;) {
        if (!g_str_has_prefix(e, prefix))
            continue;
        g_autofree char *file = g_build_filename(qubes, e, "private", "leftover", NULL);
        g_autofree char *kept = NULL;
        g_assert_true(g_file_get_contents(file, &kept, NULL, NULL));
        g_assert_cmpstr(kept, ==, marker);
        found++;
    }
    g_assert_cmpint(found, ==, 1);
}

/* A new qube (created or cloned) never gets the volumes a dead qube of its
 * name left: they are moved aside, kept, and its home starts without them. */
static void test_leftover(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    g_autofree char *marker = g_strdup_printf("bh-dead-%08x", g_random_int());
    if (!setup(&h))
        return;
    plant_leftover(&h, "fresh", marker);
    BhTestQube fresh = small_qube("fresh", 7, 0);
    g_assert_true(bh_harness_create(&h, &fresh, &error));
    g_assert_no_error(error);
    assert_set_aside(&h, "fresh", marker);
    g_assert_true(bh_harness_start(&h, &fresh, &error));
    g_assert_no_error(error);
    g_autofree char *seen = run_out(&h, "fresh", "cat ~/leftover 2>/dev/null || echo absent", NULL);
    g_assert_cmpstr(seen, ==, "absent");
    g_assert_true(bh_harness_shutdown(&h, "fresh", 20, &error));

    plant_leftover(&h, "copy", marker);
    BhTestQube copy = small_qube("copy", 8, 0);
    BhBackendQube b = bh_harness_qube(&copy);
    g_assert_true(bh_backend_clone_volumes(h.backend, "fresh", &b, &error));
    g_assert_no_error(error);
    assert_set_aside(&h, "copy", marker);
    g_assert_true(bh_harness_start(&h, &copy, &error));
    g_assert_no_error(error);
    g_autofree char *seen_copy = run_out(&h, "copy", "cat ~/leftover 2>/dev/null || echo absent", NULL);
    g_assert_cmpstr(seen_copy, ==, "absent");
    bh_harness_teardown(&h);
}

/* A disposable of a disposable template that runs and keeps writing: the
 * copy is made with the template's volume frozen, so it mounts and has what
 * was written; the template writes on after the thaw. */
static void test_disposable_of_running(void)
{
    BhHarness h;
    g_autoptr(GError) error = NULL;
    if (!setup(&h))
        return;
    BhTestQube dvm = small_qube("dvm", 3, 256);
    BhTestQube disp = {
        .name = "disp9", .qid = 9, .template_name = "dvm", .root_template = "tpl", .disposable = TRUE};
    g_assert_true(bh_harness_start(&h, &dvm, &error));
    g_assert_no_error(error);
    g_assert_cmpint(
        bh_harness_run(&h, "dvm",
                       "echo prepared > ~/prepared; sync; "
                       "nohup sh -c 'while :; do date +%s%N >> ~/tick; sleep 0.02; done' >/dev/null 2>&1 & "
                       /* Its first line written before the copy (a loaded
                        * machine may not have run it yet): the event, not a
                        * time. */
                       "for i in $(seq 200); do test -s ~/tick && break; sleep 0.05; done; test -s ~/tick",
                       NULL),
        ==, 0);
    g_assert_true(bh_harness_create(&h, &disp, &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_start(&h, &disp, &error));
    g_assert_no_error(error);
    g_autofree char *seen = run_out(&h, "disp9", "cat ~/prepared; test -s ~/tick && echo tick", NULL);
    g_assert_cmpstr(seen, ==, "prepared\ntick");
    /* Thawed: the template's writer goes on. */
    g_autofree char *t1 = run_out(&h, "dvm", "wc -l < ~/tick", NULL);
    bh_harness_spin(500);
    g_autofree char *t2 = run_out(&h, "dvm", "wc -l < ~/tick", NULL);
    g_test_message("the template's writer: %s lines, then %s", t1, t2);
    g_assert_cmpuint(g_ascii_strtoull(t2, NULL, 10), >, g_ascii_strtoull(t1, NULL, 10));
    bh_harness_teardown(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/storage/full", test_full);
    g_test_add_func("/sandbox/storage/resize", test_resize);
    g_test_add_func("/sandbox/storage/migrate", test_migrate);
    g_test_add_func("/sandbox/storage/clone", test_clone);
    g_test_add_func("/sandbox/storage/leftover", test_leftover);
    g_test_add_func("/sandbox/storage/disposable-of-running", test_disposable_of_running);
    return g_test_run();
}
