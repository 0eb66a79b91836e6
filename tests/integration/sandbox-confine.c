/* sandbox-confine.c — what a sandbox qube may do to the shared kernel and to
 * dom0's resources, each tried from inside real qubes with confine-probe
 * (and, as a control, the same probe on the host, where the thing tried
 * exists and works):
 *   the seccomp filter: every listed system call refused inside, 32-bit and
 *   x32 system calls kill the caller, ordinary calls still work;
 *   kernel keyrings: dom0's session key is not visible inside, each qube has
 *   its own session keyring, a qube cannot plant a key;
 *   ptys: a qube that takes all it can gets at most BH_SANDBOX_PTY_MAX, and
 *   another qube and dom0 still get one.
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox-layout.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube work = {.name = "work", .qid = 3, .template_name = "tpl", .root_template = "tpl"};
static const BhTestQube other = {.name = "other", .qid = 4, .template_name = "tpl", .root_template = "tpl"};

/* Each call of the list and what it must give inside a qube. The controls
 * (the host, as root and as an unprivileged uid) must differ from it in at
 * least one of the two: the refusal inside is then the filter's, not the
 * kernel's own answer to an unprivileged caller. */
static const struct {
    const char *name;
    const char *inside;
    gboolean no_control; /* no call that is safe on the host tells them apart */
} expected[] = {
    {"getpid", "ok"},
    {"kexec_load", "EPERM"},
    {"kexec_file_load", "EPERM"},
    {"reboot", "EPERM"},
    {"init_module", "EPERM"},
    {"finit_module", "EPERM"},
    {"delete_module", "EPERM"},
    {"bpf", "EPERM"},
    {"userfaultfd", "EPERM"},
    {"perf_event_open", "EPERM"},
    {"keyctl", "EPERM"},
    {"add_key", "EPERM"},
    {"request_key", "EPERM"},
    {"acct", "EPERM"},
    {"swapon", "EPERM"},
    {"swapoff", "EPERM"},
    {"syslog", "EPERM"},
    /* Root on the host would hang up its terminal; without it, EPERM both
     * ways. */
    {"vhangup", "EPERM", TRUE},
    {"iopl", "EPERM"},
    {"ioperm", "EPERM"},
    {"lookup_dcookie", "EPERM"},
    {"mount", "EPERM"},
    {"umount2", "EPERM"},
    {"pivot_root", "EPERM"},
    {"chroot", "EPERM"},
    {"move_mount", "EPERM"},
    {"open_tree", "EPERM"},
    {"fsopen", "EPERM"},
    {"fsconfig", "EPERM"},
    {"fsmount", "EPERM"},
    {"fspick", "EPERM"},
    {"mount_setattr", "EPERM"},
    {"name_to_handle_at", "EPERM"},
    {"open_by_handle_at", "EPERM"},
    {"setns", "EPERM"},
    {"unshare_user", "EPERM"},
    {"unshare_net", "EPERM"},
    {"clone_newuser", "EPERM"},
    {"clone3", "ENOSYS"},
    {"io_uring_setup", "ENOSYS"},
    {"personality_norandom", "EPERM"},
    {"personality_linux", "ok"},
    {"tiocsti", "EPERM"},
    {"tiocsti_high_bits", "EPERM"},
    {"tioclinux", "EPERM"},
    {"tiocgwinsz", "ok"},
    {"x32", "signal 31"},
    {"i386", "signal 31"},
};

typedef struct {
    BhHarness h;
    gboolean ok;
} Fixture;

/* Built beside this test (tests/integration/meson.build). */
static const char *probe_path(void)
{
    static char *path;
    if (path == NULL) {
        const char *build = g_getenv("BH_BUILD_ROOT");
        g_assert_nonnull(build);
        path = g_build_filename(build, "tests", "integration", "confine-probe", NULL);
    }
    return path;
}

/* Puts confine-probe into the qube's home. */
static void put_probe(BhHarness *h, const char *qube)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(probe_path(), &data, &len, NULL));
    bh_harness_put_data(h, qube, "confine-probe", data, len, 0755);
}

static gboolean setup_qubes(Fixture *f, gboolean two)
{
    g_autoptr(GError) error = NULL;
    f->ok = bh_harness_setup(&f->h);
    if (!f->ok)
        return FALSE;
    g_assert_true(bh_harness_create(&f->h, &tpl, &error));
    g_assert_true(bh_harness_start(&f->h, &work, &error));
    g_assert_no_error(error);
    put_probe(&f->h, "work");
    if (two) {
        g_assert_true(bh_harness_start(&f->h, &other, &error));
        g_assert_no_error(error);
        put_probe(&f->h, "other");
    }
    return TRUE;
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->ok)
        bh_harness_teardown(&f->h);
}

static char *run_in(Fixture *f, const char *qube, const char *cmd)
{
    char *out = NULL;
    int status = bh_harness_run(&f->h, qube, cmd, &out);
    g_assert_cmpint(status, ==, 0);
    return out;
}

/* The probe on the host: args after argv[0]. */
static char *run_host(const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)probe_path());
    for (; *args; args++)
        g_ptr_array_add(argv, (char *)*args);
    g_ptr_array_add(argv, NULL);
    char *out = NULL;
    int status = -1;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                               &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return out;
}

/* "name=result" lines -> table. */
static GHashTable *parse(const char *out)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *eq = strchr(*l, '=');
        if (eq)
            g_hash_table_insert(t, g_strndup(*l, (gsize)(eq - *l)), g_strdup(eq + 1));
    }
    return t;
}

static void check_syscalls(const char *where, const char *inside_out, GHashTable *root, GHashTable *user)
{
    g_autoptr(GHashTable) inside = parse(inside_out);
    for (gsize i = 0; i < G_N_ELEMENTS(expected); i++) {
        const char *name = expected[i].name;
        const char *in = g_hash_table_lookup(inside, name);
        const char *r = g_hash_table_lookup(root, name);
        const char *u = g_hash_table_lookup(user, name);
        g_test_message("%-22s %s: %-10s host root: %-10s host uid: %s", name, where, in, r, u);
        g_assert_nonnull(in);
        const char *want = expected[i].inside;
        gboolean no_control = expected[i].no_control;
        /* A kernel without IA32 emulation (CONFIG_IA32_EMULATION off, or
         * ia32_emulation=0) faults int 0x80 with SIGSEGV for every caller
         * before any seccomp filter sees it: the 32-bit ABI is out of reach
         * either way, and the filter's own rule for it cannot be shown here. */
        if (g_str_equal(name, "i386") && g_strcmp0(r, "signal 11") == 0 && g_strcmp0(u, "signal 11") == 0) {
            g_test_message("i386: this kernel has no 32-bit entry (int 0x80 faults on the host too); "
                           "the filter's rule for it is not testable on this machine");
            want = "signal 11";
            no_control = TRUE;
        }
        g_assert_cmpstr(in, ==, want);
        if (no_control || g_str_equal(want, "ok"))
            continue;
        /* Calls the kernel refuses every unprivileged caller have their
         * control only when the tests run as root. */
        if (geteuid() != 0 && g_strcmp0(u, in) == 0) {
            g_test_message("%s: no control without root", name);
            continue;
        }
        g_assert_true(g_strcmp0(r, in) != 0 || g_strcmp0(u, in) != 0);
    }
}

static void host_controls(GHashTable **root, GHashTable **user)
{
    g_autofree char *r = run_host((const char *const[]){"syscalls", NULL});
    /* Without root the tests themselves are the unprivileged user. */
    g_autofree char *u =
        geteuid() == 0 ? run_host((const char *const[]){"syscalls", "--drop", "65534", NULL}) : g_strdup(r);
    *root = parse(r);
    *user = parse(u);
}

static void test_seccomp(Fixture *f, gconstpointer data)
{
    if (!setup_qubes(f, FALSE))
        return;
    g_autoptr(GHashTable) root = NULL, user = NULL;
    host_controls(&root, &user);
    /* The controls: unprivileged on the host these work. */
    g_assert_cmpstr(g_hash_table_lookup(user, "keyctl"), ==, "ok");
    g_assert_cmpstr(g_hash_table_lookup(user, "tiocsti"), ==, "ok");
    g_assert_cmpstr(g_hash_table_lookup(user, "i386"), !=, "signal 31");

    /* Every process of the qube runs under exactly one filter: the init's. */
    g_autofree char *status = run_in(f, "work", "grep -E '^Seccomp(_filters)?:' /proc/self/status");
    g_assert_cmpstr(status, ==, "Seccomp:\t2\nSeccomp_filters:\t1\n");
    g_autofree char *out = run_in(f, "work", "./confine-probe syscalls");
    check_syscalls("qube", out, root, user);
}

static void test_keyring(Fixture *f, gconstpointer data)
{
    g_autofree char *marker = g_strdup_printf("bh-key-%08x", g_random_int());
    /* dom0's session keyring, holding a secret, as the daemon has it: the
     * backend (and everything it forks) inherits it from this process. */
    g_assert_cmpint(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "bh-dom0-session"), >, 0);
    long key = syscall(SYS_add_key, "user", marker, "secret", 6, KEY_SPEC_SESSION_KEYRING);
    g_assert_cmpint(key, >, 0);
    if (!setup_qubes(f, TRUE))
        return;

    /* Controls: the host sees the key, and so would a process of work's host
     * uid that kept dom0's session keyring (what every qube did before). */
    g_autofree char *host = run_host((const char *const[]){"keys", marker, NULL});
    g_assert_cmpstr(host, !=, "absent\n");
    g_autofree char *host_ses = run_host((const char *const[]){"keys", "bh-dom0-session", NULL});
    g_assert_cmpstr(host_ses, !=, "absent\n");
    if (geteuid() == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            uid_t uid = BH_SANDBOX_UID_BASE + work.qid;
            if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                _exit(2);
            FILE *keys = fopen("/proc/keys", "r");
            char line[512];
            while (keys && fgets(line, sizeof line, keys))
                if (strstr(line, marker))
                    _exit(0);
            _exit(1);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        g_assert_true(WIFEXITED(st));
        g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    }

    /* Inside: neither dom0's key nor its keyring. /proc/keys inside does not
     * list keys whose owner the qube's user namespace does not map (dom0's
     * root), so what tells the keyrings apart is the qube's own "_ses": there
     * only when the qube joined one as its own uid, and one per qube. */
    g_autofree char *cmd =
        g_strdup_printf("./confine-probe keys %s; ./confine-probe keys bh-dom0-session", marker);
    g_autofree char *in_work = run_in(f, "work", cmd);
    g_autofree char *in_other = run_in(f, "other", cmd);
    g_assert_cmpstr(in_work, ==, "absent\nabsent\n");
    g_assert_cmpstr(in_other, ==, "absent\nabsent\n");
    if (geteuid() != 0) {
        /* Without root the qubes share the daemon's uid, whose keys /proc/keys
         * would list by owner: it is empty inside. */
        g_autofree char *keys = run_in(f, "work", "wc -c < /proc/keys; wc -c < /proc/key-users");
        g_assert_cmpstr(keys, ==, "0\n0\n");
        g_autofree char *plant = run_in(f, "work", "./confine-probe addkey bh-planted-by-work");
        g_assert_cmpstr(plant, ==, "add_key=EPERM\n");
        return;
    }
    g_autofree char *ses_work = run_in(f, "work", "./confine-probe keys _ses");
    g_autofree char *ses_other = run_in(f, "other", "./confine-probe keys _ses");
    g_test_message("session keyrings: work %s other %s host %s", ses_work, ses_other, host_ses);
    g_assert_cmpstr(ses_work, !=, "absent\n");
    g_assert_cmpstr(ses_work, !=, ses_other);
    g_autofree char *host_id = g_strstrip(g_strdup(host_ses));
    g_assert_null(strstr(ses_work, host_id));

    /* A qube cannot plant a key for another to read (the covert channel). */
    g_autofree char *plant = run_in(f, "work", "./confine-probe addkey bh-planted-by-work");
    g_assert_cmpstr(plant, ==, "add_key=EPERM\n");
    g_autofree char *seen = run_in(f, "other", "./confine-probe keys bh-planted-by-work");
    g_assert_cmpstr(seen, ==, "absent\n");
}

static gboolean wait_for_line(Fixture *f, const char *qube, const char *path, char **line)
{
    g_autofree char *cmd = g_strdup_printf("cat %s 2>/dev/null; true", path);
    for (int i = 0; i < 100; i++) {
        g_autofree char *out = run_in(f, qube, cmd);
        if (strchr(out, '\n')) {
            *line = g_strstrip(g_steal_pointer(&out));
            return TRUE;
        }
        bh_harness_spin(100);
    }
    return FALSE;
}

static void test_ptys(Fixture *f, gconstpointer data)
{
    if (!setup_qubes(f, TRUE))
        return;
    /* Control: more than the limit is no problem for a program by itself (no
     * file or other limit stops it first). */
    g_autofree char *many = g_strdup_printf("%u", BH_SANDBOX_PTY_MAX + 8);
    g_autofree char *host = run_host((const char *const[]){"ptys", many, NULL});
    g_autofree char *want = g_strdup_printf("count %u errno none\n", BH_SANDBOX_PTY_MAX + 8);
    g_assert_cmpstr(host, ==, want);

    /* work takes every pty it can, and keeps them. */
    g_assert_cmpint(bh_harness_run(&f->h, "work",
                                   "setsid ./confine-probe ptys 100000 hold >/tmp/ptys 2>&1 </dev/null &",
                                   NULL),
                    ==, 0);
    g_autofree char *line = NULL;
    g_assert_true(wait_for_line(f, "work", "/tmp/ptys", &line));
    g_test_message("work: %s (limit %u)", line, BH_SANDBOX_PTY_MAX);
    int count = -1;
    char err[32] = "";
    g_assert_cmpint(sscanf(line, "count %d errno %31s", &count, err), ==, 2);
    g_assert_cmpint(count, <=, (int)BH_SANDBOX_PTY_MAX);
    g_assert_cmpint(count, >=, (int)BH_SANDBOX_PTY_MAX - 4);
    g_assert_cmpstr(err, ==, "ENOSPC");
    g_autofree char *grep =
        g_strdup_printf("grep -c ' /dev/pts .* devpts .*max=%u' /proc/self/mountinfo", BH_SANDBOX_PTY_MAX);
    g_autofree char *mounts = run_in(f, "work", grep);
    g_assert_cmpstr(mounts, ==, "1\n");

    /* While it holds them: another qube and dom0 still get one. */
    g_autofree char *in_other = run_in(f, "other", "./confine-probe pty");
    g_assert_cmpstr(in_other, ==, "ok\n");
    g_autofree char *dom0 = run_host((const char *const[]){"pty", NULL});
    g_assert_cmpstr(dom0, ==, "ok\n");
    /* And work itself still cannot. */
    g_autofree char *again = run_in(f, "work", "./confine-probe pty");
    g_assert_cmpstr(again, ==, "ENOSPC\n");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/sandbox/confine/seccomp", Fixture, NULL, NULL, test_seccomp, fixture_teardown);
    g_test_add("/sandbox/confine/keyring", Fixture, NULL, NULL, test_keyring, fixture_teardown);
    g_test_add("/sandbox/confine/ptys", Fixture, NULL, NULL, test_ptys, fixture_teardown);
    return g_test_run();
}
