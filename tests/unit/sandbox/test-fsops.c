/* test-fsops.c — sandbox-fsops.c against trees shaped like a hostile qube
 * shapes its home: links to host paths where directories were, set-id files,
 * capability xattrs, deep and wide nesting (what a removal holds is counted
 * by this program's own malloc), an entry no removal can remove, and a
 * directory swapped for a link while the copy runs. Each attack has its
 * control: the host target exists and a path-based operation would have
 * reached it. Real qubes doing the same:
 * tests/integration/sandbox-dom0files.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sandbox-fsops.h"

/* What a removal holds, measured from outside it: this program's malloc
 * counts the bytes in use (glibc's allocator underneath, as glibc allows a
 * program to replace it) and their peak. Not under a sanitizer, which
 * brings its own allocator. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define COUNT_MALLOC 0
#endif
#endif
#ifndef COUNT_MALLOC
#define COUNT_MALLOC 1
#endif

#if COUNT_MALLOC
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static atomic_llong heap_in_use, heap_peak;

static void *heap_count(void *p, long long before)
{
    long long now = atomic_fetch_add(&heap_in_use, (long long)(p ? malloc_usable_size(p) : 0) - before);
    now += (long long)(p ? malloc_usable_size(p) : 0) - before;
    long long peak = atomic_load(&heap_peak);
    while (now > peak && !atomic_compare_exchange_weak(&heap_peak, &peak, now))
        ;
    return p;
}

void *malloc(size_t n)
{
    return heap_count(__libc_malloc(n), 0);
}

void *calloc(size_t n, size_t size)
{
    return heap_count(__libc_calloc(n, size), 0);
}

void *realloc(void *p, size_t n)
{
    long long before = p ? (long long)malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (q == NULL && n != 0) /* p is untouched */
        return NULL;
    return heap_count(q, before);
}

void *memalign(size_t align, size_t n)
{
    return heap_count(__libc_memalign(align, n), 0);
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p)
{
    if (p != NULL)
        heap_count(NULL, (long long)malloc_usable_size(p));
    __libc_free(p);
}
#endif

typedef struct {
    char *tmp;
    char *outside; /* stands for host paths: must never change */
    char *secret;  /* outside/shadow, 0600 */
    char *marker;
} Tmp;

static void tmp_setup(Tmp *t, gconstpointer data)
{
    t->tmp = g_dir_make_tmp("bh-fsops-XXXXXX", NULL);
    g_assert_nonnull(t->tmp);
    t->outside = g_build_filename(t->tmp, "outside", NULL);
    t->secret = g_build_filename(t->outside, "shadow", NULL);
    t->marker = g_strdup_printf("bh-secret-%08x", g_random_int());
    g_assert_cmpint(g_mkdir(t->outside, 0755), ==, 0);
    g_assert_true(g_file_set_contents(t->secret, t->marker, -1, NULL));
    g_assert_cmpint(g_chmod(t->secret, 0600), ==, 0);
}

static void tmp_teardown(Tmp *t, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", t->tmp);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    g_free(t->tmp);
    g_free(t->outside);
    g_free(t->secret);
    g_free(t->marker);
}

static int open_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

static char *mk(const char *base, const char *rel)
{
    char *path = g_build_filename(base, rel, NULL);
    g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
    return path;
}

static void put(const char *dir, const char *name, const char *content, mode_t mode)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, content, -1, NULL));
    g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

/* Regular files below dir (links never followed) whose content has marker. */
static guint count_marker(const char *dir, const char *marker)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint n = 0;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        struct stat st;
        g_assert_cmpint(lstat(path, &st), ==, 0);
        if (S_ISDIR(st.st_mode))
            n += count_marker(path, marker);
        else if (S_ISREG(st.st_mode) && g_file_get_contents(path, &text, NULL, NULL) && strstr(text, marker))
            n++;
    }
    return n;
}

static void assert_secret_intact(Tmp *t)
{
    struct stat st;
    g_autofree char *text = NULL;
    g_assert_cmpint(stat(t->secret, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
    g_assert_true(g_file_get_contents(t->secret, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, t->marker);
}

static const BhFsCopy home_copy = {
    .flags = BH_FS_COPY_OWNERS | BH_FS_COPY_XATTRS | BH_FS_COPY_LIVE,
    .reown_from = (uid_t)-1,
    .reown_to = (uid_t)-1,
    .what = "a test home",
};

/* Copies src to <tmp>/dst as a disposable's home is copied. */
static void copy_to_dst(Tmp *t, const char *src)
{
    g_autoptr(GError) error = NULL;
    int s = open_dir(src), d = open_dir(t->tmp);
    g_assert_true(bh_fs_copy_tree(s, d, "dst", &home_copy, &error));
    g_assert_no_error(error);
    close(s);
    close(d);
}

static void test_copy_links(Tmp *t, gconstpointer data)
{
    g_autofree char *src = mk(t->tmp, "src");
    g_autofree char *docs = mk(src, "docs");
    put(docs, "note", "mine", 0644);
    g_autofree char *evil_dir = g_build_filename(src, "cfg", NULL);
    g_autofree char *evil_file = g_build_filename(src, "shadow", NULL);
    g_assert_cmpint(symlink(t->outside, evil_dir), ==, 0);
    g_assert_cmpint(symlink(t->secret, evil_file), ==, 0);
    /* Control: by path, both lead to the host's secret. */
    g_autofree char *via = g_build_filename(evil_dir, "shadow", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(via, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, t->marker);

    copy_to_dst(t, src);
    g_autofree char *dst = g_build_filename(t->tmp, "dst", NULL);
    g_autofree char *d_note = g_build_filename(dst, "docs", "note", NULL);
    g_autofree char *d_cfg = g_build_filename(dst, "cfg", NULL);
    g_assert_true(g_file_test(d_note, G_FILE_TEST_IS_REGULAR));
    /* Links stay links, with their text: never what they name. */
    g_autofree char *target = g_file_read_link(d_cfg, NULL);
    g_assert_cmpstr(target, ==, t->outside);
    g_assert_cmpuint(count_marker(dst, t->marker), ==, 0);
    assert_secret_intact(t);
}

static void test_copy_setid(Tmp *t, gconstpointer data)
{
    g_autofree char *src = mk(t->tmp, "src");
    g_autofree char *shared = mk(src, "shared");
    g_autofree char *scratch = mk(src, "scratch");
    put(src, "suid", "#!/bin/sh\n", 04755);
    put(src, "sgid", "#!/bin/sh\n", 02755);
    put(src, "capped", "#!/bin/sh\n", 0755);
    g_assert_cmpint(g_chmod(shared, 02775), ==, 0);
    g_assert_cmpint(g_chmod(scratch, 01777), ==, 0);
    g_autofree char *capped = g_build_filename(src, "capped", NULL);
    g_assert_cmpint(setxattr(capped, "user.kept", "yes", 3, 0), ==, 0);
    /* VFS_CAP_REVISION_2 with CAP_SETUID permitted and effective: what
     * `setcap cap_setuid+ep` writes. */
    const guint32 cap[5] = {0x02000001, 1u << 7, 0, 0, 0};
    gboolean have_caps = geteuid() == 0 && setxattr(capped, "security.capability", cap, sizeof cap, 0) == 0;
    if (have_caps)
        g_assert_cmpint(getxattr(capped, "security.capability", NULL, 0), ==, (ssize_t)sizeof cap);
    else
        g_test_message("no security.capability here (not root, or the filesystem refuses it)");
    struct stat st;
    g_autofree char *suid = g_build_filename(src, "suid", NULL);
    g_assert_cmpint(stat(suid, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 04755); /* control: the source is set-uid */

    copy_to_dst(t, src);
    const struct {
        const char *name;
        mode_t mode;
    } want[] = {{"suid", 0755}, {"sgid", 0755}, {"capped", 0755}, {"shared", 02775}, {"scratch", 01777}};
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *p = g_build_filename(t->tmp, "dst", want[i].name, NULL);
        g_assert_cmpint(lstat(p, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, want[i].mode);
    }
    g_autofree char *d_capped = g_build_filename(t->tmp, "dst", "capped", NULL);
    char v[8] = {0};
    g_assert_cmpint(getxattr(d_capped, "user.kept", v, sizeof v), ==, 3);
    g_assert_cmpint(getxattr(d_capped, "security.capability", NULL, 0), ==, -1);
    g_assert_cmpint(errno, ==, ENODATA);
}

static void test_mkdir_links(Tmp *t, gconstpointer data)
{
    /* A qube replaced its /var/tmp and /var/log with links to host paths. */
    g_autofree char *var = mk(t->tmp, "var");
    g_autofree char *tmp_link = g_build_filename(var, "tmp", NULL);
    g_autofree char *log_link = g_build_filename(var, "log", NULL);
    g_assert_cmpint(symlink(t->secret, tmp_link), ==, 0);
    g_assert_cmpint(symlink(t->outside, log_link), ==, 0);
    /* Control: chmod by path (what dom0 did) reaches the host file. */
    struct stat via, direct;
    g_assert_cmpint(stat(tmp_link, &via), ==, 0);
    g_assert_cmpint(stat(t->secret, &direct), ==, 0);
    g_assert_cmpuint(via.st_ino, ==, direct.st_ino);

    g_autoptr(GError) error = NULL;
    int v = open_dir(var);
    g_assert_cmpint(bh_fs_mkdir_at(v, "tmp", 01777, TRUE, &error), ==, -1);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
    g_clear_error(&error);
    g_assert_cmpint(bh_fs_mkdir_p(v, "log/sub", 0755, TRUE, &error), ==, -1);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
    g_clear_error(&error);
    /* A real directory is made with exactly its mode (whatever the umask). */
    int fd = bh_fs_mkdir_p(v, "cache/a/b", 01777, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fstat(fd, &via), ==, 0);
    g_assert_cmpuint(via.st_mode & 07777, ==, 01777);
    close(fd);
    close(v);
    assert_secret_intact(t);
    g_autofree char *sub = g_build_filename(t->outside, "sub", NULL);
    g_assert_false(g_file_test(sub, G_FILE_TEST_EXISTS));
    g_assert_cmpint(stat(t->outside, &via), ==, 0);
    g_assert_cmpuint(via.st_mode & 07777, ==, 0755);
}

static void test_open_beneath(Tmp *t, gconstpointer data)
{
    g_autofree char *a = mk(t->tmp, "top/a/b");
    g_autofree char *top = g_build_filename(t->tmp, "top", NULL);
    g_autofree char *link = g_build_filename(top, "a", "out", NULL);
    g_assert_cmpint(symlink(t->outside, link), ==, 0);
    int fd = open_dir(top);
    g_autoptr(GError) error = NULL;
    int ok = bh_fs_open_beneath(fd, "a/b", &error);
    g_assert_no_error(error);
    g_assert_cmpint(ok, >=, 0);
    close(ok);
    g_assert_cmpint(bh_fs_open_beneath(fd, "a/out", &error), ==, -1);
    g_clear_error(&error);
    g_assert_cmpint(bh_fs_open_beneath(fd, "a/../..", &error), ==, -1);
    g_clear_error(&error);
    g_assert_cmpint(bh_fs_open_beneath(fd, "/etc", &error), ==, -1);
    g_clear_error(&error);
    close(fd);
}

/* A chain of n nested directories named chain below dir, made by
 * descriptor (the path may be longer than PATH_MAX); the deepest holds a
 * file. Beside each link of the chain, wide directories of 150-byte names,
 * each holding an empty one (to be entered, not only removed). */
static void make_levels(const char *dir, int n, guint wide, const char *chain)
{
    int cur = open_dir(dir);
    for (int l = 0; l < n; l++) {
        for (guint i = 0; i < wide; i++) {
            char name[160];
            g_snprintf(name, sizeof name, "%0150u", i);
            g_assert_cmpint(mkdirat(cur, name, 0755), ==, 0);
            int sub = openat(cur, name, O_RDONLY | O_DIRECTORY);
            g_assert_cmpint(sub, >=, 0);
            g_assert_cmpint(mkdirat(sub, "e", 0755), ==, 0);
            close(sub);
        }
        g_assert_cmpint(mkdirat(cur, chain, 0755), ==, 0);
        int next = openat(cur, chain, O_RDONLY | O_DIRECTORY);
        g_assert_cmpint(next, >=, 0);
        close(cur);
        cur = next;
    }
    int f = openat(cur, "f", O_WRONLY | O_CREAT, 0644);
    g_assert_cmpint(f, >=, 0);
    close(f);
    close(cur);
}

static void make_deep(const char *dir, int n)
{
    make_levels(dir, n, 0, "d");
}

static void test_remove(Tmp *t, gconstpointer data)
{
    g_autofree char *victim = mk(t->tmp, "victim");
    g_autofree char *sub = mk(victim, "sub/locked");
    g_autofree char *l1 = g_build_filename(victim, "host", NULL);
    g_autofree char *l2 = g_build_filename(victim, "sub", "shadow", NULL);
    g_assert_cmpint(symlink(t->outside, l1), ==, 0);
    g_assert_cmpint(symlink(t->secret, l2), ==, 0);
    put(sub, "f", "x", 0000);
    g_assert_cmpint(g_chmod(sub, 0000), ==, 0);
    make_deep(victim, 3000);
    /* Control: by path, "host" is the outside directory. */
    g_assert_true(g_file_test(l1, G_FILE_TEST_IS_DIR));

    g_autoptr(GError) error = NULL;
    int d = open_dir(t->tmp);
    g_assert_true(bh_fs_remove_at(d, "victim", &error));
    g_assert_no_error(error);
    g_assert_true(bh_fs_remove_at(d, "victim", &error)); /* a missing one is fine */
    close(d);
    g_assert_false(g_file_test(victim, G_FILE_TEST_EXISTS));
    assert_secret_intact(t);
    g_assert_true(g_file_test(t->outside, G_FILE_TEST_IS_DIR));

    /* Emptying keeps the directory itself. */
    g_autofree char *vchan = mk(t->tmp, "vchan");
    g_autofree char *deep = mk(vchan, "x/y/z");
    put(deep, "left", "behind", 0644);
    g_autofree char *l3 = g_build_filename(vchan, "7-0-512.sock", NULL);
    g_assert_cmpint(symlink(t->outside, l3), ==, 0);
    int v = open_dir(vchan);
    g_assert_true(bh_fs_empty_dir(v, &error));
    g_assert_no_error(error);
    close(v);
    g_autoptr(GDir) left = g_dir_open(vchan, 0, NULL);
    g_assert_nonnull(left);
    g_assert_null(g_dir_read_name(left));
    assert_secret_intact(t);
}

/* A removal holds at most BH_FS_REMOVE_MAX_HELD of a tree's names, however
 * many directories each level has and however deep it goes: measured by
 * counting every byte this program allocates during the removal. Six levels
 * of 800 directories of 150-byte names are 840 KiB of names; before, a
 * removal held every directory's name of each level it was inside of (one
 * level alone: 140 KiB). The removal still removes it all. */
static void test_remove_bounded(Tmp *t, gconstpointer data)
{
#if COUNT_MALLOC
    g_autofree char *victim = mk(t->tmp, "wide");
    make_levels(victim, 6, 800, "next");
    g_autoptr(GError) error = NULL;
    int d = open_dir(t->tmp);
    long long base = atomic_load(&heap_in_use);
    atomic_store(&heap_peak, base);
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = bh_fs_remove_at(d, "wide", &error);
    gint64 t1 = g_get_monotonic_time();
    long long held = atomic_load(&heap_peak) - base;
    close(d);
    g_assert_no_error(error);
    g_assert_true(ok);
    g_test_message("removing 9 607 entries held at most %lld KiB (bound on names %" G_GSIZE_FORMAT
                   " KiB), %.2f s",
                   held >> 10, BH_FS_REMOVE_MAX_HELD >> 10, (t1 - t0) / 1e6);
    g_assert_false(g_file_test(victim, G_FILE_TEST_EXISTS));
    /* The names, their array, and one listing's buffer (glibc: 32 KiB). */
    g_assert_cmpint(held, <=, (long long)BH_FS_REMOVE_MAX_HELD + (64 << 10));
#else
    g_test_skip("a sanitizer replaces malloc: what the removal holds is not counted");
#endif
}

/* In a mount namespace of its own: a file bind-mounted over an entry (named
 * with a newline and an escape sequence) deep in a tree cannot be removed
 * (EBUSY). The removal removes everything else of its directory, then
 * stops with a sentence naming it (a mount point), escaped, instead of passing over it
 * forever (SIGALRM: it looped); once unmounted, all goes. */
#define BUSY "busy\n\033[31m"

/* A mount namespace of the child's own, its mounts private. */
static gboolean private_mounts(void)
{
    int flags = CLONE_NEWNS | (geteuid() != 0 ? CLONE_NEWUSER : 0);
    return unshare(flags) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* Runs child(tmp) in a process of its own: FALSE (skipped) when it could
 * not mount (77), else its exit must be 0 (codes: what the others mean). */
static gboolean run_mount_child(int (*child)(const char *), const char *tmp, const char *codes)
{
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
        _exit(child(tmp));
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        g_test_skip("no mount namespace here");
        return FALSE;
    }
    g_assert_false(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM); /* it looped */
    g_assert_true(WIFEXITED(status));
    g_test_message("child exit %d (%s)", WEXITSTATUS(status), codes);
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    return TRUE;
}

static int remove_stuck_child(const char *tmp)
{
    g_autofree char *dir = g_build_filename(tmp, "stuck", "a", "b", NULL);
    g_autofree char *target = g_build_filename(dir, BUSY, NULL);
    g_autofree char *source = g_build_filename(tmp, "outside", "shadow", NULL);
    if (!private_mounts() || mount(source, target, NULL, MS_BIND, NULL) < 0)
        return 77;
    alarm(30);
    int top = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    GError *error = NULL;
    if (bh_fs_remove_at(top, "stuck", &error))
        return 1;
    fprintf(stderr, "%s\n", error->message);
    if (strstr(error->message, "'busy\\n\\033[31m' is a mount point") == NULL ||
        strchr(error->message, '\033') != NULL || strchr(error->message, '\n') != NULL)
        return 2;
    g_clear_error(&error);
    g_autoptr(GDir) left = g_dir_open(dir, 0, NULL);
    const char *name = left ? g_dir_read_name(left) : NULL;
    if (name == NULL || strcmp(name, BUSY) != 0 || g_dir_read_name(left) != NULL)
        return 3; /* the others of its directory were not removed */
    if (umount2(target, MNT_DETACH) < 0)
        return 4;
    if (!bh_fs_remove_at(top, "stuck", &error))
        return 5;
    return 0;
}

static void test_remove_stuck(Tmp *t, gconstpointer data)
{
    g_autofree char *dir = mk(t->tmp, "stuck/a/b");
    g_autofree char *sub = mk(dir, "sub/deeper");
    g_autofree char *other = mk(t->tmp, "stuck/c/d");
    put(dir, BUSY, "", 0644);
    put(dir, "x", "x", 0644);
    put(sub, "y", "y", 0644);
    put(other, "z", "z", 0644);
    if (!run_mount_child(remove_stuck_child, t->tmp,
                         "1: removed, 2: the sentence, 3: the rest left, 4-5: after umount"))
        return;
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

/* In a mount namespace of its own: a host directory holding a canary is
 * bind-mounted inside a tree (a stale staging bind), and over a whole tree
 * (the qube's directory itself). A removal never enters a mount: it stops
 * with a sentence naming the mount point, escaped, and what to do; the
 * canaries survive. Once unmounted, the trees go. */
#define MNT "mnt\n\033[31m"

static gboolean canary_alive(const char *tmp, const char *dir)
{
    g_autofree char *canary = g_build_filename(tmp, dir, "canary", NULL);
    return g_file_test(canary, G_FILE_TEST_IS_REGULAR);
}

static int remove_mount_child(const char *tmp)
{
    g_autofree char *inner = g_build_filename(tmp, "tree", "a", MNT, NULL);
    g_autofree char *whole = g_build_filename(tmp, "whole", NULL);
    g_autofree char *host = g_build_filename(tmp, "host", NULL);
    g_autofree char *host2 = g_build_filename(tmp, "host2", NULL);
    if (!private_mounts() || mount(host, inner, NULL, MS_BIND, NULL) < 0 ||
        mount(host2, whole, NULL, MS_BIND, NULL) < 0)
        return 77;
    alarm(30);
    int top = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    GError *error = NULL;
    gboolean removed = bh_fs_remove_at(top, "tree", &error);
    if (!canary_alive(tmp, "host"))
        return 1;
    if (removed)
        return 8;
    fprintf(stderr, "%s\n", error->message);
    if (strstr(error->message, "'mnt\\n\\033[31m' is a mount point") == NULL ||
        strstr(error->message, "unmount it first") == NULL || strchr(error->message, '\033') != NULL ||
        strchr(error->message, '\n') != NULL)
        return 2;
    g_clear_error(&error);
    removed = bh_fs_remove_at(top, "whole", &error);
    if (!canary_alive(tmp, "host2"))
        return 3;
    if (removed)
        return 8;
    fprintf(stderr, "%s\n", error->message);
    if (strstr(error->message, "'whole' is a mount point") == NULL)
        return 4;
    g_clear_error(&error);
    if (umount2(inner, MNT_DETACH) < 0 || umount2(whole, MNT_DETACH) < 0)
        return 5;
    if (!bh_fs_remove_at(top, "tree", &error) || !bh_fs_remove_at(top, "whole", &error))
        return 6;
    return canary_alive(tmp, "host") && canary_alive(tmp, "host2") ? 0 : 7;
}

static void test_remove_mount(Tmp *t, gconstpointer data)
{
    g_autofree char *a = mk(t->tmp, "tree/a");
    g_autofree char *inner = mk(a, MNT);
    g_autofree char *whole = mk(t->tmp, "whole");
    g_autofree char *host = mk(t->tmp, "host");
    g_autofree char *host2 = mk(t->tmp, "host2");
    put(a, "x", "x", 0644);
    put(inner, "under", "under", 0644); /* hidden by the mount */
    put(host, "canary", "dom0's", 0644);
    put(host2, "canary", "dom0's", 0644);
    if (!run_mount_child(remove_mount_child, t->tmp,
                         "1/3: a canary deleted, 8: no refusal, 2/4: the sentence, 5-7: after umount"))
        return;
    g_assert_false(g_file_test(a, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(whole, G_FILE_TEST_EXISTS));
}

static void test_copy_depth(Tmp *t, gconstpointer data)
{
    g_autofree char *ok = mk(t->tmp, "ok");
    g_autofree char *deep = mk(t->tmp, "deep");
    make_deep(ok, BH_FS_COPY_MAX_DEPTH - 1);
    make_deep(deep, 1000);
    g_autoptr(GError) error = NULL;
    int d = open_dir(t->tmp);
    int s = open_dir(ok);
    g_assert_true(bh_fs_copy_tree(s, d, "ok-copy", &home_copy, &error));
    g_assert_no_error(error);
    close(s);
    /* Refused with a message, not a crash or a descriptor shortage. */
    s = open_dir(deep);
    g_assert_false(bh_fs_copy_tree(s, d, "deep-copy", &home_copy, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "nested too deep"));
    g_assert_null(strstr(error->message, "symbolic links")); /* no errno's words for a bound */
    close(s);
    close(d);
}

/* n empty files of 200-byte names in dir. */
static void make_wide(const char *dir, guint n)
{
    for (guint i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("%0200u", i);
        put(dir, name, "", 0644);
    }
}

/* The names a copy holds at once are bounded over all the directories it is
 * inside of: each of two nested directories fits the bound alone (the
 * control: both copy), the two together do not, and the copy is refused with
 * a sentence instead of taking dom0's memory. */
static void test_copy_listed(Tmp *t, gconstpointer data)
{
    g_autofree char *outer = mk(t->tmp, "outer");
    g_autofree char *inner = mk(outer, "inner");
    make_wide(outer, 300);
    make_wide(inner, 300);
    BhFsCopy bounded = home_copy;
    bounded.max_listed = 100 << 10; /* one listing: 300 × (201 + 3 pointers) bytes, about 66 KiB */
    g_autoptr(GError) error = NULL;
    int d = open_dir(t->tmp);
    int s = open_dir(inner);
    g_assert_true(bh_fs_copy_tree(s, d, "inner-copy", &bounded, &error));
    g_assert_no_error(error);
    close(s);
    s = open_dir(outer);
    g_assert_true(bh_fs_copy_tree(s, d, "outer-copy", &home_copy, &error));
    g_assert_no_error(error);
    g_assert_false(bh_fs_copy_tree(s, d, "outer-bounded", &bounded, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "too many names in the directories down to here"));
    g_assert_nonnull(strstr(error->message, "'inner'"));
    close(s);
    close(d);
}

/* A hard-linked file's path is kept to the end of a copy, and a qube
 * chooses its length: 200 files linked twice, five levels of 200-byte names
 * down, take about 200 KiB of paths. They count toward the names a copy
 * holds: refused under 100 KiB (before, kept whatever they took: a hundred
 * levels of long names made each 25 KiB), copied with their links under the
 * default bound (the control). */
static void test_copy_linked_paths(Tmp *t, gconstpointer data)
{
    g_autofree char *src = mk(t->tmp, "linked");
    GString *deep = g_string_new(src);
    for (int i = 0; i < 5; i++)
        g_string_append_printf(deep, "/%0200d", i);
    g_assert_cmpint(g_mkdir_with_parents(deep->str, 0755), ==, 0);
    for (int i = 0; i < 200; i++) {
        g_autofree char *name = g_strdup_printf("%s/f%d", deep->str, i);
        g_autofree char *again = g_strdup_printf("%s/g%d", deep->str, i);
        put(deep->str, strrchr(name, '/') + 1, "x", 0644);
        g_assert_cmpint(link(name, again), ==, 0);
    }
    BhFsCopy bounded = home_copy;
    bounded.max_listed = 100 << 10;
    g_autoptr(GError) error = NULL;
    int d = open_dir(t->tmp);
    int s = open_dir(src);
    g_assert_true(bh_fs_copy_tree(s, d, "linked-copy", &home_copy, &error));
    g_assert_no_error(error);
    g_autofree char *copied = g_strdup_printf("%s/linked-copy%s/f7", t->tmp, deep->str + strlen(src));
    struct stat st;
    g_assert_cmpint(stat(copied, &st), ==, 0);
    g_assert_cmpuint(st.st_nlink, ==, 2);
    g_assert_false(bh_fs_copy_tree(s, d, "linked-bounded", &bounded, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "too many hard-linked files"));
    g_string_free(deep, TRUE);
    close(s);
    close(d);
}

/* A qube's sparse file (64 GiB of holes, a few bytes of data) costs its
 * copy what it costs the qube. */
static void write_bytes(const char *path, gsize n)
{
    g_autofree char *data = g_malloc0(n);
    memset(data, 'x', n);
    g_assert_true(g_file_set_contents(path, data, (gssize)n, NULL));
}

/* du of a home a qube shaped: the data's blocks, a hard link once, a link to
 * a big host tree counted as a link (the control: the tree is there and
 * larger than the home), and the bounds: too deep or too many entries give
 * a lower bound, never a walk without end. */
static void test_usage(Tmp *t, gconstpointer data)
{
    g_autofree char *home = mk(t->tmp, "home");
    g_autofree char *file = g_build_filename(home, "data", NULL);
    g_autofree char *hard = g_build_filename(home, "data-again", NULL);
    g_autofree char *to_host = g_build_filename(home, "usr", NULL);
    g_autofree char *big = g_build_filename(t->outside, "big", NULL);
    int top = open_dir(t->tmp);
    guint64 bytes = 0, before = 0, host = 0;
    gboolean exact = FALSE;
    struct stat st;

    g_assert_true(bh_fs_usage_at(top, "home", 1000, &before, &exact, NULL));
    g_assert_true(exact);
    write_bytes(file, 1 << 20);
    g_assert_cmpint(link(file, hard), ==, 0);
    write_bytes(big, 4 << 20);
    g_assert_true(bh_fs_usage_at(top, "outside", 1000, &host, &exact, NULL));
    g_assert_cmpuint(host, >=, 4 << 20);
    g_assert_cmpint(symlink(t->outside, to_host), ==, 0);
    g_assert_true(bh_fs_usage_at(top, "home", 1000, &bytes, &exact, NULL));
    g_assert_true(exact);
    g_assert_cmpint(stat(file, &st), ==, 0);
    g_test_message("home: %" G_GUINT64_FORMAT " bytes (empty %" G_GUINT64_FORMAT
                   ", the file's blocks %" G_GUINT64_FORMAT ")",
                   bytes, before, (guint64)st.st_blocks * 512);
    g_assert_cmpuint(bytes, >=, before + (guint64)st.st_blocks * 512);
    g_assert_cmpuint(bytes, <, before + 2 * (guint64)st.st_blocks * 512); /* the hard link once */
    g_assert_cmpuint(bytes, <, host);                                     /* the link not followed */

    /* A missing name: nothing, exact. A single file: its blocks. */
    g_assert_true(bh_fs_usage_at(top, "nothing-here", 1000, &bytes, &exact, NULL));
    g_assert_cmpuint(bytes, ==, 0);
    g_assert_true(exact);

    /* Too many entries: a lower bound. */
    g_autofree char *many = mk(t->tmp, "many");
    for (int i = 0; i < 50; i++) {
        g_autofree char *name = g_strdup_printf("%s/f%d", many, i);
        write_bytes(name, 10);
    }
    g_assert_true(bh_fs_usage_at(top, "many", 20, &bytes, &exact, NULL));
    g_assert_false(exact);
    g_assert_true(bh_fs_usage_at(top, "many", 1000, &bytes, &exact, NULL));
    g_assert_true(exact);

    /* Deeper than the bound: a lower bound, no descriptor per level past it. */
    GString *deep = g_string_new(t->tmp);
    g_string_append(deep, "/deep");
    for (int i = 0; i < BH_FS_COPY_MAX_DEPTH + 10; i++)
        g_string_append(deep, "/d");
    g_assert_cmpint(g_mkdir_with_parents(deep->str, 0755), ==, 0);
    g_string_free(deep, TRUE);
    g_assert_true(bh_fs_usage_at(top, "deep", 100000, &bytes, &exact, NULL));
    g_assert_false(exact);
    close(top);
}

/* A daemon without root walks a home its qube (the same uid) shaped: a
 * directory it may list but not search (0444) holds 500 names none of which
 * it can measure. They count toward the bound all the same (before, the walk
 * counted only what it measured: a qube could keep it listing without end),
 * and the figure is a lower bound. Run as nobody in a child: root can
 * search anything. */
static int usage_unsearchable_child(const char *dir)
{
    g_autofree char *locked = g_build_filename(dir, "home", "locked", NULL);
    guint64 bytes = 0;
    gboolean exact = TRUE;
    if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
        return 10;
    if (g_mkdir_with_parents(locked, 0755) < 0)
        return 11;
    for (int i = 0; i < 500; i++) {
        g_autofree char *name = g_strdup_printf("%s/f%d", locked, i);
        if (!g_file_set_contents(name, "x", 1, NULL))
            return 12;
    }
    if (chmod(locked, 0444) < 0)
        return 13;
    int top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* The bound is reached (500 names > 100) and the walk stops there. */
    if (top < 0 || !bh_fs_usage_at(top, "home", 100, &bytes, &exact, NULL))
        return 14;
    if (exact)
        return 1;
    /* Within the bound, still not exact: 500 names were not measured. */
    exact = TRUE;
    if (!bh_fs_usage_at(top, "home", 100000, &bytes, &exact, NULL))
        return 15;
    chmod(locked, 0755);
    return exact ? 2 : 0;
}

static void test_usage_unsearchable(Tmp *t, gconstpointer data)
{
    if (geteuid() != 0) {
        g_test_skip("needs root to run the walk as another user");
        return;
    }
    g_autofree char *dir = mk(t->tmp, "nobody");
    g_assert_cmpint(chown(dir, 65534, 65534), ==, 0);
    g_assert_cmpint(chmod(t->tmp, 0755), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
        _exit(usage_unsearchable_child(dir));
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_test_message("child exit %d (1: the bound not reached, 2: the figure said exact)", WEXITSTATUS(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void test_copy_sparse(Tmp *t, gconstpointer data)
{
    g_autofree char *src = mk(t->tmp, "src");
    g_autofree char *big = g_build_filename(src, "big", NULL);
    int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)64 << 30), ==, 0);
    g_assert_cmpint(pwrite(fd, "data", 4, (off_t)1 << 30), ==, 4);
    close(fd);
    struct stat st;
    g_assert_cmpint(stat(big, &st), ==, 0);
    if (st.st_blocks * 512 > (1 << 20)) {
        g_test_skip("this filesystem does not keep holes");
        return;
    }
    copy_to_dst(t, src);
    g_autofree char *copy = g_build_filename(t->tmp, "dst", "big", NULL);
    g_assert_cmpint(stat(copy, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, (off_t)64 << 30);
    g_test_message("64 GiB sparse file copied in %lld KiB", (long long)st.st_blocks / 2);
    g_assert_cmpint(st.st_blocks * 512, <=, 1 << 20);
    char buf[4] = {0};
    fd = open(copy, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(pread(fd, buf, 4, (off_t)1 << 30), ==, 4);
    g_assert_cmpint(memcmp(buf, "data", 4), ==, 0);
    g_assert_cmpint(pread(fd, buf, 4, 0), ==, 4);
    g_assert_cmpint(memcmp(buf, "\0\0\0\0", 4), ==, 0);
    close(fd);
}

/* A file linked a hundred times in a qube's home is one file in its copy. */
static void test_copy_hardlinks(Tmp *t, gconstpointer data)
{
    g_autofree char *src = mk(t->tmp, "src");
    g_autofree char *sub = mk(src, "sub");
    g_autofree char *big = g_build_filename(src, "big", NULL);
    g_autofree char *chunk = g_malloc0(1 << 20);
    g_assert_true(g_file_set_contents(big, chunk, 1 << 20, NULL));
    for (int i = 0; i < 100; i++) {
        g_autofree char *l = g_strdup_printf("%s/link%d", i % 2 ? src : sub, i);
        g_assert_cmpint(link(big, l), ==, 0);
    }
    copy_to_dst(t, src);
    struct stat a, b;
    g_autofree char *d_big = g_build_filename(t->tmp, "dst", "big", NULL);
    g_autofree char *d_link = g_build_filename(t->tmp, "dst", "sub", "link42", NULL);
    g_assert_cmpint(stat(d_big, &a), ==, 0);
    g_assert_cmpint(stat(d_link, &b), ==, 0);
    g_assert_cmpuint(a.st_ino, ==, b.st_ino);
    g_assert_cmpuint(a.st_nlink, ==, 101);
    g_assert_cmpint(a.st_size, ==, 1 << 20);
}

typedef struct {
    int dir;
    gint stop;
    guint swaps;
} Swapper;

/* What a running template does to its home: "docs" is a real directory
 * one moment and a link to a host directory the next (an atomic exchange). */
static gpointer swap_loop(gpointer data)
{
    Swapper *sw = data;
    while (!g_atomic_int_get(&sw->stop)) {
        if (renameat2(sw->dir, "docs", sw->dir, "docs.link", RENAME_EXCHANGE) == 0)
            sw->swaps++;
    }
    return NULL;
}

static void test_copy_race(Tmp *t, gconstpointer data)
{
    g_autofree char *src = mk(t->tmp, "src");
    g_autofree char *docs = mk(src, "docs");
    put(docs, "shadow", "the template's own", 0644);
    g_autofree char *link = g_build_filename(src, "docs.link", NULL);
    g_assert_cmpint(symlink(t->outside, link), ==, 0);
    g_autofree char *copies = mk(t->tmp, "copies");
    Swapper sw = {.dir = open_dir(src)};
    int s = open_dir(src), d = open_dir(copies);
    guint as_dir = 0, as_link = 0, skipped = 0;
    GThread *thread = g_thread_new("swap", swap_loop, &sw);
    for (int i = 0; i < 400; i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_strdup_printf("c%d", i);
        g_assert_true(bh_fs_copy_tree(s, d, name, &home_copy, &error));
        g_assert_no_error(error);
        g_autofree char *docs_copy = g_build_filename(copies, name, "docs", NULL);
        struct stat st;
        if (lstat(docs_copy, &st) == 0 && S_ISDIR(st.st_mode))
            as_dir++;
        else if (lstat(docs_copy, &st) == 0 && S_ISLNK(st.st_mode))
            as_link++;
        else
            skipped++;
    }
    g_atomic_int_set(&sw.stop, 1);
    g_thread_join(thread);
    close(s);
    close(d);
    close(sw.dir);
    g_test_message("%u swaps; docs copied as a directory %u times, as a link %u times, skipped %u times",
                   sw.swaps, as_dir, as_link, skipped);
    /* Control: the race really ran both ways. */
    g_assert_cmpuint(sw.swaps, >, 100);
    g_assert_cmpuint(as_dir, >, 0);
    g_assert_cmpuint(as_link, >, 0);
    g_assert_cmpuint(count_marker(copies, t->marker), ==, 0);
    assert_secret_intact(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/sandbox/fsops/copy-keeps-links-as-links", Tmp, NULL, tmp_setup, test_copy_links,
               tmp_teardown);
    g_test_add("/sandbox/fsops/copy-strips-set-id-and-capabilities", Tmp, NULL, tmp_setup, test_copy_setid,
               tmp_teardown);
    g_test_add("/sandbox/fsops/mkdir-refuses-links", Tmp, NULL, tmp_setup, test_mkdir_links, tmp_teardown);
    g_test_add("/sandbox/fsops/open-beneath", Tmp, NULL, tmp_setup, test_open_beneath, tmp_teardown);
    g_test_add("/sandbox/fsops/usage-bounded", Tmp, NULL, tmp_setup, test_usage, tmp_teardown);
    g_test_add("/sandbox/fsops/usage-unsearchable-bounded", Tmp, NULL, tmp_setup, test_usage_unsearchable,
               tmp_teardown);
    g_test_add("/sandbox/fsops/remove-never-follows", Tmp, NULL, tmp_setup, test_remove, tmp_teardown);
    g_test_add("/sandbox/fsops/remove-holds-bounded", Tmp, NULL, tmp_setup, test_remove_bounded,
               tmp_teardown);
    g_test_add("/sandbox/fsops/remove-stuck-entry-ends", Tmp, NULL, tmp_setup, test_remove_stuck,
               tmp_teardown);
    g_test_add("/sandbox/fsops/remove-stops-at-mounts", Tmp, NULL, tmp_setup, test_remove_mount,
               tmp_teardown);
    g_test_add("/sandbox/fsops/copy-keeps-hard-links", Tmp, NULL, tmp_setup, test_copy_hardlinks,
               tmp_teardown);
    g_test_add("/sandbox/fsops/copy-keeps-holes", Tmp, NULL, tmp_setup, test_copy_sparse, tmp_teardown);
    g_test_add("/sandbox/fsops/copy-depth-bounded", Tmp, NULL, tmp_setup, test_copy_depth, tmp_teardown);
    g_test_add("/sandbox/fsops/copy-names-held-bounded", Tmp, NULL, tmp_setup, test_copy_listed,
               tmp_teardown);
    g_test_add("/sandbox/fsops/copy-linked-paths-bounded", Tmp, NULL, tmp_setup, test_copy_linked_paths,
               tmp_teardown);
    g_test_add("/sandbox/fsops/copy-race-with-swapped-links", Tmp, NULL, tmp_setup, test_copy_race,
               tmp_teardown);
    return g_test_run();
}
