/* test-winbuf.c — shared window buffers: the guest's sealed memfd and the
 * importer that must refuse anything a hostile guest could use to make dom0
 * fault (unsealed, partly sealed, wrong size, not a memfd), map accepted
 * buffers read-only, and survive the guest trying to truncate.
 *
 * Owns: these tests. Must never: depend on a hypervisor (grant buffers are
 * only checked for their argument validation). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead/gui-protocol.h"
#include "bulkhead/winbuf.h"
#include "vchan-test-util.h"

#define W    64
#define H    48
#define SIZE ((size_t)W * 4 * H)

/* Imports a copy of `fd` and checks the verdict; the original stays ours. */
static int import_dup(struct bh_winbuf *b, int fd, size_t size, const char **reason)
{
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    int rc;

    g_assert_cmpint(copy, >=, 0);
    rc = bh_winbuf_import_memfd(b, copy, size, reason);
    if (rc < 0) {
        /* Refused: the importer closed what it was given. */
        g_assert_false(bh_test_fd_is_open(copy));
        g_assert_cmpint(b->fd, ==, -1);
        g_assert_null(b->map);
        g_assert_cmpint(b->kind, ==, 0);
    }
    return rc;
}

static void assert_refused(int fd, size_t size, const char *reason_part)
{
    struct bh_winbuf b;
    const char *reason = NULL;

    g_assert_cmpint(import_dup(&b, fd, size, &reason), ==, -1);
    g_assert_nonnull(reason);
    g_test_message("refused: %s", reason);
    g_assert_nonnull(strstr(reason, reason_part));
}

static void test_export(void)
{
    struct bh_winbuf b;
    int seals;

    g_assert_cmpint(bh_winbuf_export_memfd(&b, SIZE), ==, 0);
    g_assert_cmpint(b.kind, ==, BH_GUI_BUFFER_MEMFD);
    g_assert_cmpint(b.fd, >=, 0);
    g_assert_nonnull(b.map);
    g_assert_cmpuint(b.size, ==, SIZE);
    g_assert_cmpint(fcntl(b.fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
    seals = fcntl(b.fd, F_GET_SEALS);
    g_assert_cmpint(seals, ==, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    /* The guest draws into it. */
    memset(b.map, 0xab, SIZE);

    /* Sealed for good: the guest itself cannot truncate, grow or unseal. */
    g_assert_cmpint(ftruncate(b.fd, 0), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
    g_assert_cmpint(ftruncate(b.fd, SIZE * 2), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
    g_assert_cmpint(fallocate(b.fd, 0, 0, SIZE * 2), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
    g_assert_cmpint(fcntl(b.fd, F_ADD_SEALS, F_SEAL_WRITE), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);

    bh_winbuf_release(&b);
    g_assert_cmpint(b.fd, ==, -1);
    g_assert_null(b.map);
    bh_winbuf_release(&b);
    bh_winbuf_release(NULL);

    g_assert_cmpint(bh_winbuf_export_memfd(&b, 0), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(bh_winbuf_export_memfd(&b, BH_MAX_BUFFER_BYTES + 1), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(b.fd, ==, -1);
}

static void test_import(void)
{
    struct bh_winbuf guest, dom0;
    const char *reason = NULL;
    unsigned before = bh_test_count_fds();

    g_assert_cmpint(bh_winbuf_export_memfd(&guest, SIZE), ==, 0);
    memset(guest.map, 0x11, SIZE);
    g_assert_cmpint(import_dup(&dom0, guest.fd, SIZE, &reason), ==, 0);
    g_assert_cmpint(dom0.kind, ==, BH_GUI_BUFFER_MEMFD);
    g_assert_cmpuint(dom0.size, ==, SIZE);
    g_assert_cmpint(((const unsigned char *)dom0.map)[SIZE - 1], ==, 0x11);
    /* Shared: what the guest draws later is what dom0 copies out. */
    memset(guest.map, 0x22, SIZE);
    g_assert_cmpint(((const unsigned char *)dom0.map)[0], ==, 0x22);
    g_assert_cmpint(((const unsigned char *)dom0.map)[SIZE - 1], ==, 0x22);

    /* A guest trying to truncate under dom0's mapping is stopped by the
     * seals, so dom0 can still read every byte. */
    g_assert_cmpint(ftruncate(guest.fd, 4096), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
    {
        unsigned sum = 0;
        for (size_t i = 0; i < SIZE; i += 4096)
            sum += ((const unsigned char *)dom0.map)[i];
        g_assert_cmpuint(sum, >, 0);
    }

    bh_winbuf_release(&dom0);
    bh_winbuf_release(&guest);
    g_assert_cmpuint(bh_test_count_fds(), ==, before);
}

/* Writing through dom0's mapping must fault: it is mapped PROT_READ. */
static void test_import_readonly(void)
{
    struct bh_winbuf guest;
    pid_t pid;
    int status = 0;

    g_assert_cmpint(bh_winbuf_export_memfd(&guest, SIZE), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        struct bh_winbuf dom0;
        struct rlimit no_core = {0, 0};
        /* No core dump for the expected crash. */
        setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGSEGV, SIG_DFL);
        if (bh_winbuf_import_memfd(&dom0, dup(guest.fd), SIZE, NULL) < 0)
            _exit(1);
        ((volatile unsigned char *)dom0.map)[0] = 1;
        _exit(2);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGSEGV);
    /* And the pixels are untouched. */
    g_assert_cmpint(((unsigned char *)guest.map)[0], ==, 0);
    bh_winbuf_release(&guest);
}

static void test_refuse_size(void)
{
    struct bh_winbuf guest;

    g_assert_cmpint(bh_winbuf_export_memfd(&guest, SIZE), ==, 0);
    assert_refused(guest.fd, SIZE - 4, "size");
    assert_refused(guest.fd, SIZE + 4096, "size");
    assert_refused(guest.fd, 0, "the size is zero");
    assert_refused(guest.fd, (size_t)BH_MAX_BUFFER_BYTES + 1, "the size is zero");
    bh_winbuf_release(&guest);
}

static void test_refuse_not_memfd(void)
{
    g_autofree char *tmp = NULL;
    g_autofree char *file = NULL;
    int fd, p[2], sv[2];
    struct bh_winbuf b;
    const char *reason = NULL;

    /* A regular file of the right size. */
    tmp = g_dir_make_tmp("bh-winbuf-XXXXXX", NULL);
    g_assert_nonnull(tmp);
    file = g_build_filename(tmp, "pixels", NULL);
    fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, SIZE), ==, 0);
    assert_refused(fd, SIZE, "not a memfd");
    close(fd);
    bh_test_rm_rf(tmp);

    /* A file in /dev/shm is shmem, but only memfds can carry our seals. */
    fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
        g_assert_cmpint(ftruncate(fd, SIZE), ==, 0);
        assert_refused(fd, SIZE, "not sealed");
        close(fd);
    }

    /* A pipe and a socket. */
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    assert_refused(p[0], SIZE, "not a memfd");
    close(p[0]);
    close(p[1]);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    assert_refused(sv[0], SIZE, "not a memfd");
    close(sv[0]);
    close(sv[1]);

    /* No fd at all. */
    g_assert_cmpint(bh_winbuf_import_memfd(&b, -1, SIZE, &reason), ==, -1);
    g_assert_nonnull(reason);
}

static int memfd_sealed(size_t size, unsigned seals)
{
    int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    if (seals)
        g_assert_cmpint(fcntl(fd, F_ADD_SEALS, seals), ==, 0);
    return fd;
}

static void test_refuse_unsealed(void)
{
    struct bh_winbuf b;
    int fd;

    /* Unsealed: the guest could shrink it under dom0's mapping. */
    fd = memfd_sealed(SIZE, 0);
    assert_refused(fd, SIZE, "not sealed");
    close(fd);
    /* Created without MFD_ALLOW_SEALING (carries F_SEAL_SEAL only). */
    fd = memfd_create("no-sealing", MFD_CLOEXEC);
    g_assert_cmpint(ftruncate(fd, SIZE), ==, 0);
    assert_refused(fd, SIZE, "not sealed");
    close(fd);
    /* Partly sealed: growing alone is harmless, shrinking alone is not
     * enough either: both are required. */
    fd = memfd_sealed(SIZE, F_SEAL_GROW);
    assert_refused(fd, SIZE, "not sealed");
    close(fd);
    fd = memfd_sealed(SIZE, F_SEAL_SHRINK);
    assert_refused(fd, SIZE, "not sealed");
    close(fd);
    fd = memfd_sealed(SIZE, F_SEAL_SEAL);
    assert_refused(fd, SIZE, "not sealed");
    close(fd);
    /* Both seals without F_SEAL_SEAL are enough: they can never be removed. */
    fd = memfd_sealed(SIZE, F_SEAL_SHRINK | F_SEAL_GROW);
    g_assert_cmpint(import_dup(&b, fd, SIZE, NULL), ==, 0);
    bh_winbuf_release(&b);
    close(fd);
}

static void test_grant_validation(void)
{
    struct bh_winbuf b;
    const char *reason = NULL;
    uint32_t refs[4] = {8, 9, 10, 11};

    /* No hypervisor here: exporting must fail cleanly and leave b empty. */
    g_assert_cmpint(bh_winbuf_export_grant(&b, 1, SIZE), ==, -1);
    g_assert_cmpint(b.kind, ==, 0);
    g_assert_cmpint(b.fd, ==, -1);
    bh_winbuf_release(&b);
#if BH_HAVE_XEN
    /* A reference count that does not match the size is refused before any
     * device is touched. */
    g_assert_cmpint(bh_winbuf_import_grant(&b, 1, refs, 4, 3 * BH_PAGE_SIZE, &reason), ==, -1);
    g_assert_nonnull(strstr(reason, "grant references"));
    g_assert_cmpint(bh_winbuf_import_grant(&b, 1, refs, 0, 0, &reason), ==, -1);
    g_assert_nonnull(strstr(reason, "the size is zero"));
    g_assert_cmpint(bh_winbuf_import_grant(&b, 1, refs, 4, (size_t)BH_MAX_BUFFER_BYTES + 1, &reason), ==, -1);
    g_assert_cmpint(bh_winbuf_import_grant(&b, 1, NULL, 1, 10, &reason), ==, -1);
    /* Right count, but no grant device: fails with a reason, no crash. */
    g_assert_cmpint(bh_winbuf_import_grant(&b, 1, refs, 4, 4 * BH_PAGE_SIZE, &reason), ==, -1);
    g_assert_nonnull(reason);
    g_test_message("without a hypervisor: %s", reason);
#else
    g_assert_cmpint(bh_winbuf_import_grant(&b, 1, refs, 4, 4 * BH_PAGE_SIZE, &reason), ==, -1);
    g_assert_cmpint(errno, ==, ENOTSUP);
    g_assert_nonnull(reason);
#endif
    g_assert_cmpint(b.kind, ==, 0);
}

static void test_release_empty(void)
{
    /* kind 0 is empty: release must not close whatever fd says. */
    int keep = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct bh_winbuf b = {.kind = 0, .fd = keep};

    g_assert_cmpint(keep, >=, 0);
    bh_winbuf_release(&b);
    g_assert_true(bh_test_fd_is_open(keep));
    g_assert_cmpint(b.fd, ==, -1);
    close(keep);
}

/* MFD_HUGETLB memfds take the seals too, so the old checks let them in;
 * their punched-out pages come back only while free huge pages exist. */
static void test_refuse_hugetlb(void)
{
    const size_t huge = (size_t)2 << 20; /* one 2 MiB page */
    int fd = memfd_create("huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
    struct stat st;

    if (fd < 0) {
        g_test_skip("no hugetlbfs in this kernel");
        return;
    }
    g_assert_cmpint(ftruncate(fd, (off_t)huge), ==, 0);
    g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), ==, 0);
    /* Control: what the seal and size checks alone saw was acceptable. */
    g_assert_cmpint(fcntl(fd, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW), ==, F_SEAL_SHRINK | F_SEAL_GROW);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, (off_t)huge);
    assert_refused(fd, huge, "hugetlbfs");
    close(fd);
}

/* Without F_SEAL_WRITE (the guest draws) it may punch holes in a shmem
 * memfd it sent: dom0 then reads zeros from a fresh page, never SIGBUS. */
static void test_punch_hole(void)
{
    struct bh_winbuf guest, dom0;
    guint8 *copy = g_malloc(SIZE);

    g_assert_cmpint(bh_winbuf_export_memfd(&guest, SIZE), ==, 0);
    memset(guest.map, 0xab, SIZE);
    g_assert_cmpint(import_dup(&dom0, guest.fd, SIZE, NULL), ==, 0);
    g_assert_cmpint(((const guint8 *)dom0.map)[SIZE - 1], ==, 0xab);
    /* Control: the punch really removes the pages (the guest sees zeros). */
    g_assert_cmpint(fallocate(guest.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)SIZE), ==, 0);
    g_assert_cmpint(((const guint8 *)guest.map)[0], ==, 0);
    g_assert_cmpint(bh_winbuf_guard_copy(copy, dom0.map, SIZE), ==, 0);
    for (size_t i = 0; i < SIZE; i++)
        g_assert_cmpint(copy[i], ==, 0);
    /* An unguarded read is fine too: it is shmem. */
    g_assert_cmpint(((const volatile guint8 *)dom0.map)[SIZE / 2], ==, 0);
    bh_winbuf_release(&dom0);
    bh_winbuf_release(&guest);
    g_free(copy);
}

/* An unsealed memfd mapped two pages long and then truncated: the one way
 * to get a SIGBUS on demand (imports refuse it; the guard is the last line
 * for whatever else might). */
static const guint8 *truncated_map(int *fd_out)
{
    const size_t len = 2 * (size_t)sysconf(_SC_PAGESIZE);
    int fd = memfd_create("truncated", MFD_CLOEXEC);
    void *map;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)len), ==, 0);
    map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    g_assert_true(map != MAP_FAILED);
    g_assert_cmpint(ftruncate(fd, 0), ==, 0);
    *fd_out = fd;
    return map;
}

/* Killed by SIGBUS; under a sanitizer (its own SIGBUS handler reports and
 * exits) a non-zero exit. Never a clean exit. */
static void assert_died_of_sigbus(int status)
{
    if (WIFSIGNALED(status)) {
        g_assert_cmpint(WTERMSIG(status), ==, SIGBUS);
        return;
    }
    g_test_message("child exited with %d (a sanitizer's SIGBUS report?)", WEXITSTATUS(status));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), !=, 0);
}

static void read_first_byte(void *p)
{
    volatile guint8 v = *(const guint8 *)p;
    (void)v;
}

static void test_sigbus_guard(void)
{
    const size_t len = 2 * (size_t)sysconf(_SC_PAGESIZE);
    guint8 good[64] = {1}, out[64];
    int fd;
    const guint8 *map = truncated_map(&fd);
    pid_t pid;
    int status;

    /* Control: without the guard the read kills the process with SIGBUS. */
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        volatile guint8 v = map[10];
        (void)v;
        _exit(0);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    assert_died_of_sigbus(status);

    /* Guarded: the copy fails, the process lives, and can do it again. */
    for (int i = 0; i < 3; i++) {
        errno = 0;
        g_assert_cmpint(bh_winbuf_guard_copy(out, map + 100, sizeof out), ==, -1);
        g_assert_cmpint(errno, ==, EFAULT);
    }
    /* A good copy right after works. */
    g_assert_cmpint(bh_winbuf_guard_copy(out, good, sizeof out), ==, 0);
    g_assert_cmpint(out[0], ==, 1);

    /* A SIGBUS outside the guarded range is not swallowed: a real bug still
     * crashes (the child reads the truncated map while guarding `good`). */
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        bh_winbuf_guard_run(good, sizeof good, read_first_byte, (void *)(map + len - 1));
        _exit(0);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    assert_died_of_sigbus(status);

    munmap((void *)map, len);
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/winbuf/export-sealed", test_export);
    g_test_add_func("/winbuf/import", test_import);
    g_test_add_func("/winbuf/import-readonly", test_import_readonly);
    g_test_add_func("/winbuf/refuse-size", test_refuse_size);
    g_test_add_func("/winbuf/refuse-not-memfd", test_refuse_not_memfd);
    g_test_add_func("/winbuf/refuse-unsealed", test_refuse_unsealed);
    g_test_add_func("/winbuf/grant-validation", test_grant_validation);
    g_test_add_func("/winbuf/release-empty", test_release_empty);
    g_test_add_func("/winbuf/refuse-hugetlb", test_refuse_hugetlb);
    g_test_add_func("/winbuf/punch-hole", test_punch_hole);
    g_test_add_func("/winbuf/sigbus-guard", test_sigbus_guard);
    return g_test_run();
}
