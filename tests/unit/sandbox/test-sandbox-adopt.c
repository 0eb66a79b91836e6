/* test-sandbox-adopt.c — the records a restarted bulkheadd adopts sandboxes by
 * (sandbox-adopt.h): what is read back, what is refused, and that a record
 * naming a process that is not a qube's never yields a handle on it. Real
 * processes (forked children), no sandboxes: daemon-readopt.sh does those.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-adopt.h"

static char *boot_id(void)
{
    char *text = NULL;
    g_assert_true(g_file_get_contents("/proc/sys/kernel/random/boot_id", &text, NULL, NULL));
    return g_strstrip(text);
}

static BhSandboxRecord *record_new(const char *name)
{
    BhSandboxRecord *r = g_new0(BhSandboxRecord, 1);
    r->name = g_strdup(name);
    r->qid = 4;
    r->uid = 0x300004;
    r->tag = g_strdup("716");
    r->bwrap_pid = 800;
    r->bwrap_start = 54666;
    r->init_pid = 801;
    r->init_start = 54667;
    r->stage_dir = g_strdup_printf("/run/bulkhead-sandbox/716/%s", name);
    r->vchan_dir = g_strdup("/run/user/0/bulkhead/vchan/4");
    r->netvm = g_strdup("sys-firewall");
    r->disposable = TRUE;
    r->boot_id = boot_id();
    r->console_ino = 157375;
    return r;
}

static int count_fds(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    int n = 0;
    while (d && g_dir_read_name(d))
        n++;
    return n;
}

/* A child that waits on a pipe; returns its pid, with the pipe's write end. */
static pid_t spawn_waiter(int *release)
{
    int p[2];
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        char c;
        close(p[1]);
        (void)!read(p[0], &c, 1);
        /* A name that tries to shift /proc/<pid>/stat's fields. */
        prctl(PR_SET_NAME, "x) R 1 2 3 4 5");
        (void)!read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    *release = p[1];
    return pid;
}

static void reap(pid_t pid, int release)
{
    close(release);
    waitpid(pid, NULL, 0);
}

static void test_roundtrip(void)
{
    g_autofree char *dir = g_dir_make_tmp("bh-adopt-XXXXXX", NULL);
    g_autoptr(BhSandboxRecord) r = record_new("work");
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_sandbox_record_save(dir, r, &error));
    g_autoptr(BhSandboxRecord) back = bh_sandbox_record_load(dir, "work", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(back->name, ==, "work");
    g_assert_cmpuint(back->qid, ==, 4);
    g_assert_cmpuint(back->uid, ==, 0x300004);
    g_assert_cmpstr(back->tag, ==, "716");
    g_assert_cmpint(back->bwrap_pid, ==, 800);
    g_assert_cmpuint(back->bwrap_start, ==, 54666);
    g_assert_cmpint(back->init_pid, ==, 801);
    g_assert_cmpuint(back->init_start, ==, 54667);
    g_assert_cmpstr(back->stage_dir, ==, r->stage_dir);
    g_assert_cmpstr(back->vchan_dir, ==, r->vchan_dir);
    g_assert_cmpstr(back->netvm, ==, "sys-firewall");
    g_assert_true(back->disposable);
    g_assert_false(back->provides_network);
    g_assert_cmpstr(back->boot_id, ==, r->boot_id);
    g_assert_cmpuint(back->console_ino, ==, 157375);
    g_autoptr(GPtrArray) names = bh_sandbox_record_list(dir);
    g_assert_cmpuint(names->len, ==, 1);
    g_assert_cmpstr(names->pdata[0], ==, "work");
    bh_sandbox_record_remove(dir, "work");
    g_autoptr(GPtrArray) none = bh_sandbox_record_list(dir);
    g_assert_cmpuint(none->len, ==, 0);
    g_rmdir(dir);
}

static void test_invalid(void)
{
    g_autofree char *dir = g_dir_make_tmp("bh-adopt-XXXXXX", NULL);
    g_autoptr(BhSandboxRecord) r = record_new("work");
    g_autofree char *path = g_build_filename(dir, "work", NULL);
    g_autofree char *text = NULL;
    g_assert_true(bh_sandbox_record_save(dir, r, NULL));
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));

    /* Each a small corruption of a good record; every one is refused. */
    const char *const edits[][2] = {
        {"name=work", "name=vault"},
        {"tag=716", "tag=../716"},
        {"qid=4", "qid=99999"},
        {"init_pid=801", "init_pid=1"},
        {"bwrap_pid=800", "bwrap_pid="},
        {"netvm=sys-firewall", "netvm=../x"},
        {"stage_dir=/run", "stage_dir=run"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(edits); i++) {
        g_autoptr(GString) bad = g_string_new(text);
        g_assert_cmpuint(g_string_replace(bad, edits[i][0], edits[i][1], 1), ==, 1);
        g_assert_true(g_file_set_contents(path, bad->str, -1, NULL));
        g_autoptr(GError) error = NULL;
        g_autoptr(BhSandboxRecord) back = bh_sandbox_record_load(dir, "work", &error);
        g_assert_null(back);
        g_assert_nonnull(error);
    }
    /* Not a regular file, or far too large. */
    g_unlink(path);
    g_assert_cmpint(symlink("/etc/passwd", path), ==, 0);
    g_assert_null(bh_sandbox_record_load(dir, "work", NULL));
    g_unlink(path);
    g_autofree char *big = g_strnfill(20000, 'a');
    g_assert_true(g_file_set_contents(path, big, -1, NULL));
    g_assert_null(bh_sandbox_record_load(dir, "work", NULL));
    g_unlink(path);
    /* Names that are not qubes' are not listed. */
    g_autofree char *odd = g_build_filename(dir, "-x", NULL);
    g_assert_true(g_file_set_contents(odd, "", -1, NULL));
    g_autoptr(GPtrArray) names = bh_sandbox_record_list(dir);
    g_assert_cmpuint(names->len, ==, 0);
    g_unlink(odd);
    g_rmdir(dir);
}

static void test_start_time(void)
{
    int release;
    pid_t pid = spawn_waiter(&release);
    guint64 before = 0, after = 0;
    g_assert_true(bh_proc_start_time(pid, &before));
    g_assert_cmpuint(before, >, 0);
    /* The child renames itself "x) R 1 2 3 4 5": the fields still count
     * from the last ')'. */
    g_assert_cmpint(write(release, "x", 1), ==, 1);
    g_autofree char *comm_path = g_strdup_printf("/proc/%d/comm", (int)pid);
    for (int i = 0; i < 200; i++) {
        g_autofree char *comm = NULL;
        if (g_file_get_contents(comm_path, &comm, NULL, NULL) && g_str_has_prefix(comm, "x)"))
            break;
        g_usleep(5000);
    }
    g_assert_true(bh_proc_start_time(pid, &after));
    g_assert_cmpuint(after, ==, before);
    g_assert_true(bh_proc_running(pid));
    /* Ended but not reaped: a zombie does not run. */
    close(release);
    for (int i = 0; i < 400 && bh_proc_running(pid); i++)
        g_usleep(5000);
    g_assert_false(bh_proc_running(pid));
    waitpid(pid, NULL, 0);
    g_assert_false(bh_proc_start_time(pid, &after));
}

/* A record naming a process that is not a sandbox: refused for the right
 * reason, the process untouched, and no descriptor kept. */
static void test_verify_refuses(void)
{
    int release;
    pid_t pid = spawn_waiter(&release);
    guint64 start = 0;
    g_assert_true(bh_proc_start_time(pid, &start));
    g_autoptr(BhSandboxRecord) r = record_new("work");
    r->uid = getuid();
    r->bwrap_pid = r->init_pid = pid;
    r->bwrap_start = r->init_start = start;
    BhSandboxExpect expect = {
        .bwrap = "/usr/bin/bwrap", .uid = getuid(), .stage_top = "/run/bulkhead-sandbox", .cgroups = NULL};
    int fds = count_fds();

    /* What each case's refusal says; the edits are below, by index. */
    static const char *const cases[] = {"runs", "is not its bubblewrap any more", "before the last boot",
                                        "uid", "staging directory"};
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(BhSandboxRecord) c = record_new("work");
        c->uid = r->uid;
        c->bwrap_pid = c->init_pid = pid;
        c->bwrap_start = c->init_start = start;
        BhSandboxExpect e = expect;
        if (i == 1)
            c->bwrap_start = start + 1;
        if (i == 2) {
            g_free(c->boot_id);
            c->boot_id = g_strdup("00000000-0000-0000-0000-000000000000");
        }
        if (i == 3)
            e.uid = getuid() + 1;
        if (i == 4) {
            g_free(c->stage_dir);
            c->stage_dir = g_strdup("/run/bulkhead-sandbox/716/vault");
        }
        BhSandboxProof proof = {.bwrap_pidfd = -1, .init_pidfd = -1};
        g_autoptr(GError) error = NULL;
        g_assert_false(bh_sandbox_record_verify(c, &e, &proof, &error));
        g_assert_nonnull(error);
        if (g_test_verbose())
            g_printerr("refused: %s\n", error->message);
        g_assert_nonnull(strstr(error->message, cases[i]));
        g_assert_cmpint(proof.bwrap_pidfd, ==, -1);
        g_assert_cmpint(count_fds(), ==, fds);
        /* The process the record named is alive and not stopped. */
        g_assert_cmpint(kill(pid, 0), ==, 0);
    }
    reap(pid, release);
    /* A pid that is gone. */
    BhSandboxProof proof = {.bwrap_pidfd = -1, .init_pidfd = -1};
    g_autoptr(GError) error = NULL;
    g_assert_false(bh_sandbox_record_verify(r, &expect, &proof, &error));
    g_assert_nonnull(strstr(error->message, "is gone"));
    g_assert_cmpint(count_fds(), ==, fds - 1); /* the child's pipe is closed */
}

static void test_owners(void)
{
    g_autofree char *dir = g_dir_make_tmp("bh-adopt-XXXXXX", NULL);
    int release;
    pid_t pid = spawn_waiter(&release);
    guint64 start = 0;
    g_assert_true(bh_proc_start_time(pid, &start));
    g_autofree char *child = g_strdup_printf("%d %" G_GUINT64_FORMAT, (int)pid, start);
    g_autofree char *self = bh_sandbox_owner_self();
    g_autoptr(GPtrArray) tags = g_ptr_array_new();
    g_ptr_array_add(tags, self);
    g_ptr_array_add(tags, child);
    g_assert_true(bh_sandbox_owners_save(dir, tags, NULL));
    g_autoptr(GPtrArray) back = bh_sandbox_owners_load(dir);
    g_assert_cmpuint(back->len, ==, 2);
    g_assert_cmpstr(back->pdata[0], ==, self);
    g_assert_true(bh_sandbox_owner_alive(self));
    g_assert_true(bh_sandbox_owner_alive(child));
    /* Same pid, another start: a recycled pid is not the daemon. */
    g_autofree char *recycled = g_strdup_printf("%d %" G_GUINT64_FORMAT, (int)pid, start + 1);
    g_assert_false(bh_sandbox_owner_alive(recycled));
    reap(pid, release);
    g_assert_false(bh_sandbox_owner_alive(child));
    g_assert_false(bh_sandbox_owner_alive("garbage"));
    /* The list is not a record. */
    g_autoptr(GPtrArray) names = bh_sandbox_record_list(dir);
    g_assert_cmpuint(names->len, ==, 0);
    g_autofree char *list = g_build_filename(dir, ".daemons", NULL);
    g_unlink(list);
    g_rmdir(dir);
}

/* The console is taken back only if it is still the pipe recorded. */
static void test_console(void)
{
    int p[2], sync[2];
    g_assert_cmpint(pipe2(p, 0), ==, 0);
    g_assert_cmpint(pipe2(sync, O_CLOEXEC), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        char c;
        dup2(p[0], BH_SANDBOX_FD_CONSOLE);
        close(sync[1]);
        (void)!read(sync[0], &c, 1);
        _exit(0);
    }
    close(sync[0]);
    struct stat st;
    g_assert_cmpint(fstat(p[0], &st), ==, 0);
    int pidfd = bh_pidfd_open(pid);
    g_assert_cmpint(pidfd, >=, 0);
    g_autoptr(BhSandboxRecord) r = record_new("work");
    r->console_ino = st.st_ino + 1;
    /* Give the child time to put the pipe at its number. */
    int fd = -1;
    for (int i = 0; i < 200 && fd < 0; i++) {
        r->console_ino = st.st_ino;
        fd = bh_sandbox_record_take_console(r, pidfd);
        if (fd < 0)
            g_usleep(5000);
    }
    g_assert_cmpint(fd, >=, 0);
    struct stat got;
    g_assert_cmpint(fstat(fd, &got), ==, 0);
    g_assert_cmpuint(got.st_ino, ==, st.st_ino);
    close(fd);
    r->console_ino = st.st_ino + 1;
    g_assert_cmpint(bh_sandbox_record_take_console(r, pidfd), ==, -1);
    close(pidfd);
    close(p[0]);
    close(p[1]);
    reap(pid, sync[1]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/adopt/record-roundtrip", test_roundtrip);
    g_test_add_func("/sandbox/adopt/record-invalid", test_invalid);
    g_test_add_func("/sandbox/adopt/start-time", test_start_time);
    g_test_add_func("/sandbox/adopt/verify-refuses", test_verify_refuses);
    g_test_add_func("/sandbox/adopt/owners", test_owners);
    g_test_add_func("/sandbox/adopt/console", test_console);
    return g_test_run();
}
