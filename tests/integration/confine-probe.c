/* confine-probe.c — tries, from wherever it runs (inside a sandbox qube, or
 * on the host as a control), what sandbox-confine checks a qube cannot do to
 * the shared kernel: each system call of the seccomp list with harmless
 * arguments (invalid flags, missing paths, bad descriptors, so that even
 * root on the host changes nothing), the kernel keyrings, and the pty pool.
 *
 * libc only (it runs on the qube's /usr), one result per line:
 *   syscalls [--drop UID]   NAME=RESULT, RESULT is "ok", an errno name, or
 *                           "signal N" (run in a child); --drop first becomes
 *                           UID with no capabilities (the host control for an
 *                           unprivileged user)
 *   keys DESC               the ids of the keys /proc/keys shows whose line has
 *                           DESC, one a line, or "absent"
 *   addkey DESC             adds a user key DESC to the session keyring
 *   ptys [MAX [hold]]       opens /dev/ptmx until refused (or MAX opened):
 *                           "count N errno E"; hold: keeps them open until
 *                           killed
 *   pty                     opens one pty pair: "ok" or the errno name
 *
 * It must never change anything outside itself when run as root: every call
 * is chosen to fail (or act on the probe process only) on an unfiltered host.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static void report(const char *name, long r, int err)
{
    if (r >= 0)
        printf("%s=ok\n", name);
    else
        printf("%s=%s\n", name, strerrorname_np(err) ? strerrorname_np(err) : "E?");
    fflush(stdout);
}

#define TRY(name, call)                                                                                      \
    do {                                                                                                     \
        errno = 0;                                                                                           \
        long r_ = (long)(call);                                                                              \
        report(name, r_, errno);                                                                             \
    } while (0)

/* Runs fn in a child; reports what fn returned (0 ok, else an errno) or the
 * signal that ended the child. */
static void in_child(const char *name, int (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("%s=signal %d\n", name, WTERMSIG(st));
    else
        report(name, WEXITSTATUS(st) ? -1 : 0, WEXITSTATUS(st));
    fflush(stdout);
}

static int child_x32(void)
{
    long r = syscall(0x40000000L | SYS_getpid);
    return r < 0 ? errno : 0;
}

static int child_i386(void)
{
    long r = 20; /* getpid in the 32-bit table */
    __asm__ volatile("int $0x80" : "+a"(r) : : "memory");
    return r < 0 ? (int)-r : 0;
}

/* TIOCSTI on a pty that is the caller's controlling terminal: what an
 * unprivileged program may do on the host (dev.tty.legacy_tiocsti). hi adds
 * bits above the 32 the kernel reads. */
static int sti(unsigned long hi)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
        return errno;
    setsid();
    int s = open(ptsname(m), O_RDWR);
    if (s < 0)
        return errno;
    char c = 'x';
    return syscall(SYS_ioctl, s, hi | TIOCSTI, &c) < 0 ? errno : 0;
}
static int child_tiocsti(void)
{
    return sti(0);
}
static int child_tiocsti_hi(void)
{
    return sti(1UL << 32);
}

static int child_clone_newuser(void)
{
    long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        _exit(0);
    return r < 0 ? errno : 0;
}

static int child_clone3(void)
{
    struct clone_args args = {.exit_signal = SIGCHLD};
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r == 0)
        _exit(0);
    return r < 0 ? errno : 0;
}

static int child_unshare_user(void)
{
    return unshare(CLONE_NEWUSER) < 0 ? errno : 0;
}

static int child_unshare_net(void)
{
    return unshare(CLONE_NEWNET) < 0 ? errno : 0;
}

static int child_personality(void)
{
    return personality(PER_LINUX | ADDR_NO_RANDOMIZE) < 0 ? errno : 0;
}

static int child_vhangup(void)
{
    /* Only without privilege (root would hang up its terminal): setsid()
     * first, so there is no terminal to hang up in any case. */
    if (geteuid() == 0)
        return EPERM;
    setsid();
    return syscall(SYS_vhangup) < 0 ? errno : 0;
}

static void syscalls(void)
{
    char buf[64];
    struct {
        struct file_handle h;
        unsigned char f[128];
    } fh = {.h.handle_bytes = 0};
    int mnt = 0;

    TRY("getpid", syscall(SYS_getpid)); /* the filter lets ordinary calls through */
    TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0x100UL));
    TRY("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0x100UL));
    TRY("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
    TRY("init_module", syscall(SYS_init_module, NULL, 0, ""));
    TRY("finit_module", syscall(SYS_finit_module, -1, "", 0));
    TRY("delete_module", syscall(SYS_delete_module, "bh_no_such_module", O_NONBLOCK));
    TRY("bpf", syscall(SYS_bpf, 9999, NULL, 0));
    long uffd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    report("userfaultfd", uffd, errno);
    struct perf_event_attr pa = {.type = PERF_TYPE_SOFTWARE,
                                 .size = sizeof pa,
                                 .config = PERF_COUNT_SW_TASK_CLOCK,
                                 .disabled = 1,
                                 .exclude_kernel = 1,
                                 .exclude_hv = 1};
    TRY("perf_event_open", syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0));
    TRY("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
    TRY("add_key", syscall(SYS_add_key, "user", "bh-probe", "x", 1, KEY_SPEC_THREAD_KEYRING));
    TRY("request_key", syscall(SYS_request_key, "user", "bh-probe-no-such-key", NULL, 0));
    TRY("acct", syscall(SYS_acct, "/nonexistent-bh/acct"));
    TRY("swapon", syscall(SYS_swapon, "/nonexistent-bh/swap", 0));
    TRY("swapoff", syscall(SYS_swapoff, "/nonexistent-bh/swap"));
    TRY("syslog", syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0));
    in_child("vhangup", child_vhangup);
    TRY("iopl", syscall(SYS_iopl, 4));
    TRY("ioperm", syscall(SYS_ioperm, 0xffff0UL, 0x100UL, 1));
    TRY("lookup_dcookie", syscall(SYS_lookup_dcookie, 0ULL, buf, sizeof buf));
    TRY("mount", syscall(SYS_mount, NULL, "/nonexistent-bh", (const char *)1, 0, NULL));
    TRY("umount2", syscall(SYS_umount2, "/nonexistent-bh", 0x80000000U));
    TRY("pivot_root", syscall(SYS_pivot_root, "/nonexistent-bh", "/nonexistent-bh"));
    TRY("chroot", syscall(SYS_chroot, "/nonexistent-bh"));
    TRY("move_mount", syscall(SYS_move_mount, -1, "", -1, "", 0xffffffffU));
    TRY("open_tree", syscall(SYS_open_tree, -1, "", 0xffffffffU));
    TRY("fsopen", syscall(SYS_fsopen, "bh-no-such-fs", 0));
    TRY("fsconfig", syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
    TRY("fsmount", syscall(SYS_fsmount, -1, 0, 0));
    TRY("fspick", syscall(SYS_fspick, -1, "", 0xffffffffU));
    TRY("mount_setattr", syscall(SYS_mount_setattr, -1, "", 0xffffffffU, NULL, 0));
    TRY("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh.h, &mnt, 0));
    TRY("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, &fh.h, O_RDONLY));
    TRY("setns", syscall(SYS_setns, -1, 0));
    in_child("unshare_user", child_unshare_user);
    in_child("unshare_net", child_unshare_net);
    in_child("clone_newuser", child_clone_newuser);
    in_child("clone3", child_clone3);
    struct io_uring_params up = {0};
    TRY("io_uring_setup", syscall(SYS_io_uring_setup, 1, &up));
    in_child("personality_norandom", child_personality);
    TRY("personality_linux", personality(PER_LINUX));
    in_child("tiocsti", child_tiocsti);
    in_child("tiocsti_high_bits", child_tiocsti_hi);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    char sub = 0;
    TRY("tioclinux", m < 0 ? -1 : ioctl(m, TIOCLINUX, &sub));
    struct winsize ws;
    TRY("tiocgwinsz", m < 0 ? -1 : ioctl(m, TIOCGWINSZ, &ws));
    in_child("x32", child_x32);
    in_child("i386", child_i386);
}

static int keys(const char *desc)
{
    FILE *f = fopen("/proc/keys", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strstr(line, desc) == NULL)
            continue;
        found = 1;
        printf("%.*s\n", (int)strcspn(line, " "), line);
    }
    if (f)
        fclose(f);
    if (!found)
        puts("absent");
    return 0;
}

static int ptys(int max, int hold)
{
    int n = 0, err = 0;
    while (n < max) {
        int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
            err = errno;
            break;
        }
        n++;
    }
    printf("count %d errno %s\n", n, err && strerrorname_np(err) ? strerrorname_np(err) : "none");
    fflush(stdout);
    while (hold)
        pause();
    return 0;
}

static int pty(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || open(ptsname(m), O_RDWR | O_NOCTTY) < 0) {
        printf("%s\n", strerrorname_np(errno));
        return 0;
    }
    puts("ok");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "syscalls") == 0) {
        if (argc == 4 && strcmp(argv[2], "--drop") == 0) {
            uid_t uid = (uid_t)strtoul(argv[3], NULL, 10);
            if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
                perror("drop");
                return 2;
            }
        }
        syscalls();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "keys") == 0)
        return keys(argv[2]);
    if (argc == 3 && strcmp(argv[1], "addkey") == 0) {
        TRY("add_key", syscall(SYS_add_key, "user", argv[2], "planted", 7, KEY_SPEC_SESSION_KEYRING));
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "ptys") == 0)
        return ptys(argc >= 3 ? atoi(argv[2]) : 100000, argc >= 4 && strcmp(argv[3], "hold") == 0);
    if (argc == 2 && strcmp(argv[1], "pty") == 0)
        return pty();
    fprintf(
        stderr,
        "usage: confine-probe syscalls [--drop UID] | keys DESC | addkey DESC | ptys [MAX [hold]] | pty\n");
    return 2;
}
