/* sandbox-seccomp.c — the seccomp filter of sandbox qubes; see
 * sandbox-seccomp.h and docs/sandbox.md ("System calls").
 *
 * libseccomp rather than hand-written BPF: it names system calls per
 * architecture from the kernel's own tables, and it emits the architecture
 * and x32 checks that hand-written filters classically get wrong (a filter
 * that only compares numbers can be walked around through the 32-bit or x32
 * entry points, where the same numbers mean other calls).
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "backend.h"

/* Refused outright: the why is in docs/sandbox.md, one line per group. */
typedef struct {
    const char *name;
    int error;
} BhSeccompDeny;

static const BhSeccompDeny bh_seccomp_deny[] = {
    /* Replacing or stopping the shared kernel. */
    {"kexec_load", EPERM},
    {"kexec_file_load", EPERM},
    {"reboot", EPERM},
    /* Loading code into the shared kernel. */
    {"init_module", EPERM},
    {"finit_module", EPERM},
    {"delete_module", EPERM},
    /* Large kernel attack surfaces no desktop program needs. */
    {"bpf", EPERM},
    {"userfaultfd", EPERM},
    {"perf_event_open", EPERM},
    /* Kernel keyrings: state shared beyond the qube (issue 23.2). */
    {"keyctl", EPERM},
    {"add_key", EPERM},
    {"request_key", EPERM},
    /* Host-wide switches. */
    {"acct", EPERM},
    {"swapon", EPERM},
    {"swapoff", EPERM},
    {"syslog", EPERM},
    {"vhangup", EPERM},
    {"iopl", EPERM},
    {"ioperm", EPERM},
    {"lookup_dcookie", EPERM},
    /* The mount family: bubblewrap has built the qube's tree before the
     * filter is loaded, nothing inside needs to change it. */
    {"mount", EPERM},
    {"umount2", EPERM},
    {"pivot_root", EPERM},
    {"chroot", EPERM},
    {"move_mount", EPERM},
    {"open_tree", EPERM},
    {"fsopen", EPERM},
    {"fsconfig", EPERM},
    {"fsmount", EPERM},
    {"fspick", EPERM},
    {"mount_setattr", EPERM},
    /* File handles reach files by inode, past the qube's mount tree. */
    {"name_to_handle_at", EPERM},
    {"open_by_handle_at", EPERM},
    /* Namespaces: joining one is never needed inside. */
    {"setns", EPERM},
    /* ENOSYS where libraries probe and fall back only on ENOSYS: glibc
     * takes clone() when clone3() is missing (clone3's flags sit in memory
     * the filter cannot read); liburing users take plain I/O. */
    {"clone3", ENOSYS},
    {"io_uring_setup", ENOSYS},
    {"io_uring_enter", ENOSYS},
    {"io_uring_register", ENOSYS},
};

/* Flags of clone() and unshare() that make namespaces. */
static const guint64 bh_seccomp_ns_flags[] = {
    CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

/* personality() bits that weaken the address space: no randomisation, a
 * mappable page 0, readable implying executable, the legacy layout. */
static const guint64 bh_seccomp_personality_bits[] = {
    ADDR_NO_RANDOMIZE,
    MMAP_PAGE_ZERO,
    READ_IMPLIES_EXEC,
    ADDR_COMPAT_LAYOUT,
};

/* ioctl() requests that push input into, or reconfigure, a terminal the
 * qube shares with someone else. The request is an unsigned int: compare
 * only the low 32 bits, as the kernel does, or high bits walk around. */
static const guint64 bh_seccomp_ioctls[] = {TIOCSTI, TIOCLINUX};

static gboolean bh_seccomp_fail(GError **error, int rc, const char *what, const char *name)
{
    g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                "cannot build the sandbox's seccomp filter: %s%s%s: %s", what, name ? " " : "",
                name ? name : "", g_strerror(-rc));
    return FALSE;
}

static gboolean bh_seccomp_rules(scmp_filter_ctx ctx, GError **error)
{
    int rc;
    for (gsize i = 0; i < G_N_ELEMENTS(bh_seccomp_deny); i++) {
        const BhSeccompDeny *d = &bh_seccomp_deny[i];
        int nr = seccomp_syscall_resolve_name(d->name);
        /* A call this architecture does not have cannot be made here. */
        if (nr == __NR_SCMP_ERROR)
            continue;
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((guint16)d->error), nr, 0)) < 0)
            return bh_seccomp_fail(error, rc, "refusing", d->name);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bh_seccomp_ns_flags); i++) {
        guint64 f = bh_seccomp_ns_flags[i];
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                                   SCMP_A0(SCMP_CMP_MASKED_EQ, f, f))) < 0 ||
            (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                   SCMP_A0(SCMP_CMP_MASKED_EQ, f, f))) < 0)
            return bh_seccomp_fail(error, rc, "refusing new namespaces", NULL);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bh_seccomp_personality_bits); i++) {
        guint64 b = bh_seccomp_personality_bits[i];
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                                   SCMP_A0(SCMP_CMP_MASKED_EQ, b, b))) < 0)
            return bh_seccomp_fail(error, rc, "refusing personality flags", NULL);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bh_seccomp_ioctls); i++) {
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, bh_seccomp_ioctls[i]))) < 0)
            return bh_seccomp_fail(error, rc, "refusing terminal ioctls", NULL);
    }
    return TRUE;
}

/* ctx's filter as classic BPF (struct sock_filter[]), or NULL. */
static GBytes *bh_seccomp_export(scmp_filter_ctx ctx, GError **error)
{
    int fd = -1;
    guint8 *buf = NULL;
    GBytes *program = NULL;
    int rc;

    fd = memfd_create("bh-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        bh_seccomp_fail(error, -errno, "memfd_create", NULL);
        goto out;
    }
    if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
        bh_seccomp_fail(error, rc, "exporting", NULL);
        goto out;
    }
    off_t len = lseek(fd, 0, SEEK_END);
    if (len <= 0 || len % 8 != 0 || len > 65536) {
        bh_seccomp_fail(error, -EINVAL, "exporting", NULL);
        goto out;
    }
    buf = g_malloc((gsize)len);
    if (pread(fd, buf, (size_t)len, 0) != len) {
        bh_seccomp_fail(error, -EIO, "reading back", NULL);
        goto out;
    }
    program = g_bytes_new_take(g_steal_pointer(&buf), (gsize)len);
out:
    g_free(buf);
    if (fd >= 0)
        close(fd);
    return program;
}

/* An allow-by-default filter on the native architecture only (32-bit and
 * x32 calls kill the process: see bh_sandbox_seccomp_program), with rules
 * added by add. */
static GBytes *bh_seccomp_build(gboolean (*add)(scmp_filter_ctx ctx, GError **error), GError **error)
{
    scmp_filter_ctx ctx = NULL;
    GBytes *program = NULL;
    int rc;

    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) {
        bh_seccomp_fail(error, -ENOMEM, "seccomp_init", NULL);
        goto out;
    }
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0) {
        bh_seccomp_fail(error, rc, "refusing other architectures", NULL);
        goto out;
    }
    if (!add(ctx, error))
        goto out;
    program = bh_seccomp_export(ctx, error);
out:
    if (ctx)
        seccomp_release(ctx);
    return program;
}

GBytes *bh_sandbox_seccomp_program(GError **error)
{
    /* Allow by default: a desktop qube runs arbitrary programs, so the filter
     * names what nothing there needs rather than guessing what all of them
     * do (docs/sandbox.md says what this leaves open). Only the native
     * architecture is in the filter: a 32-bit (int 0x80) or x32 system call
     * kills the process instead of meeting a filter that reads its numbers
     * as native ones. */
    return bh_seccomp_build(bh_seccomp_rules, error);
}

/* The uplink's: no new AF_UNIX socket. socketpair() stays (slirp4netns
 * hands its tap descriptor from its namespace child to itself over one,
 * and such a pair is bound to no name); connect() needs a socket from
 * socket(), so without it no abstract or path socket can be reached. */
static gboolean bh_seccomp_uplink_rules(scmp_filter_ctx ctx, GError **error)
{
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_UNIX));
    if (rc < 0)
        return bh_seccomp_fail(error, rc, "refusing", "socket(AF_UNIX)");
    return TRUE;
}

GBytes *bh_sandbox_seccomp_uplink_program(GError **error)
{
    return bh_seccomp_build(bh_seccomp_uplink_rules, error);
}

int bh_sandbox_seccomp_memfd(GBytes *program, GError **error)
{
    gsize len = 0;
    const guint8 *data = g_bytes_get_data(program, &len);
    int fd = memfd_create("bh-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        goto fail;
    for (gsize done = 0; done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto fail;
        done += (gsize)w;
    }
    /* bubblewrap runs as the qube's uid: it must not be able to change
     * what it is about to load. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
        lseek(fd, 0, SEEK_SET) < 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    bh_error_errno(error, e, "cannot pass the seccomp filter on");
    return -1;
}
