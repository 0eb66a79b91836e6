/* winbuf.c — shared window buffers for the socket transport: a sealed memfd
 * exported read-write by the guest and imported read-only by dom0.
 *
 * Owns: creating and sealing the memfd, the importer's checks, mapping and
 * unmapping, and release of every kind of buffer (grant ones included).
 * Must never: map an import writable, or map one whose size the peer can
 * still change: a mapping past a shrunk file would fault (SIGBUS) in dom0;
 * nor one whose pages the peer can make unavailable (hugetlbfs).
 *
 * The guest keeps write access to the pixels and may scribble on them while
 * dom0 reads: dom0 copies damaged rectangles out and treats them as opaque
 * pixels, so torn or garbage content only spoils that qube's own window. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bulkhead/winbuf.h"
#include "util.h"
#include "winbuf-private.h"

#define BH_WINBUF_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
/* <linux/magic.h>; spelled out so the guest side builds with libc alone. */
#define BH_TMPFS_MAGIC     0x01021994
#define BH_HUGETLBFS_MAGIC 0x958458f6

void bh_winbuf_clear(struct bh_winbuf *b)
{
    *b = (struct bh_winbuf){.kind = 0, .fd = -1};
}

const char *bh_winbuf_size_problem(size_t size)
{
    if (size == 0 || size > BH_MAX_BUFFER_BYTES) {
        errno = EINVAL;
        return "the size is zero or above BH_MAX_BUFFER_BYTES";
    }
    return NULL;
}

int bh_winbuf_export_begin(struct bh_winbuf *b, size_t size)
{
    if (!b) {
        errno = EINVAL;
        return -1;
    }
    bh_winbuf_clear(b);
    return bh_winbuf_size_problem(size) ? -1 : 0;
}

static void memfd_adopt(struct bh_winbuf *b, int fd, void *map, size_t size)
{
    b->kind = BH_GUI_BUFFER_MEMFD;
    b->fd = fd;
    b->map = map;
    b->size = size;
}

int bh_winbuf_export_memfd(struct bh_winbuf *b, size_t size)
{
    int rc = -1;
    int fd = -1;
    void *map = MAP_FAILED;

    if (bh_winbuf_export_begin(b, size) < 0)
        return -1;
    fd = memfd_create("bulkhead-winbuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        goto out;
    if (ftruncate(fd, (off_t)size) < 0)
        goto out;
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        goto out;
    /* No F_SEAL_WRITE: the guest keeps drawing into it. */
    if (fcntl(fd, F_ADD_SEALS, BH_WINBUF_SEALS) < 0)
        goto out;
    memfd_adopt(b, fd, map, size);
    rc = 0;
out:
    if (rc < 0 && map != MAP_FAILED) {
        int saved = errno;
        munmap(map, size);
        errno = saved;
    }
    if (rc < 0)
        bh_close_keep_errno(fd);
    return rc;
}

int bh_winbuf_import_memfd(struct bh_winbuf *b, int fd, size_t expected_size, const char **reason)
{
    int rc = -1;
    int seals;
    const char *why = NULL;
    void *map = MAP_FAILED;
    struct stat st;
    struct statfs sfs;

    if (!b) {
        why = "no buffer to fill";
        errno = EINVAL;
        goto out;
    }
    bh_winbuf_clear(b);
    if (fd < 0) {
        why = "no file descriptor came with the buffer";
        errno = EBADF;
        goto out;
    }
    why = bh_winbuf_size_problem(expected_size);
    if (why)
        goto out;
    /* Only memfd (shmem) files answer F_GET_SEALS; pipes, sockets, regular
     * files on other file systems and devices fail with EINVAL. */
    seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) {
        why = "the descriptor is not a memfd";
        errno = EINVAL;
        goto out;
    }
    if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
        why = "the memfd is not sealed against shrinking and growing";
        errno = EPERM;
        goto out;
    }
    /* Seals keep the size, not the pages. A hugetlbfs memfd (MFD_HUGETLB)
     * takes seals too, but a page the guest punches out (fallocate
     * PUNCH_HOLE needs no seal to be refused) comes back only if a free huge
     * page exists: once the guest holds them all, every reader of the hole,
     * guid or the X server, gets SIGBUS. On shmem (tmpfs) a hole reads back
     * as a fresh zero page, so only plain memfds are taken. */
    if (fstatfs(fd, &sfs) < 0) {
        why = "cannot stat the memfd's file system";
        goto out;
    }
    if ((unsigned long)sfs.f_type != BH_TMPFS_MAGIC) {
        why = (unsigned long)sfs.f_type == BH_HUGETLBFS_MAGIC
                  ? "the memfd is on hugetlbfs (MFD_HUGETLB): its pages can be taken away"
                  : "the memfd is not on shmem (tmpfs)";
        errno = EINVAL;
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        why = "cannot stat the memfd";
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        why = "the descriptor is not a regular memfd";
        errno = EINVAL;
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size != (uint64_t)expected_size) {
        why = "the memfd's size is not stride * height";
        errno = EINVAL;
        goto out;
    }
    map = mmap(NULL, expected_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        why = "cannot map the memfd read-only";
        goto out;
    }
    memfd_adopt(b, fd, map, expected_size);
    rc = 0;
out:
    if (rc < 0) {
        bh_close_keep_errno(fd);
        if (reason)
            *reason = why;
    }
    return rc;
}

void bh_winbuf_release(struct bh_winbuf *b)
{
    int saved = errno;

    if (!b)
        return;
    switch (b->kind) {
    case BH_GUI_BUFFER_MEMFD:
        if (b->map)
            munmap(b->map, b->size);
        if (b->fd >= 0)
            close(b->fd);
        break;
    case BH_GUI_BUFFER_GRANT:
        bh_winbuf_grant_release(b);
        break;
    default:
        break;
    }
    bh_winbuf_clear(b);
    errno = saved;
}

#if !BH_HAVE_XEN
int bh_winbuf_export_grant(struct bh_winbuf *b, int domain, size_t size)
{
    if (b)
        bh_winbuf_clear(b);
    errno = ENOTSUP;
    return -1;
}

int bh_winbuf_import_grant(struct bh_winbuf *b, int domain, const uint32_t *refs, uint32_t n_refs,
                           size_t expected_size, const char **reason)
{
    if (b)
        bh_winbuf_clear(b);
    if (reason)
        *reason = "grant buffers need the xen transport, not built in";
    errno = ENOTSUP;
    return -1;
}

void bh_winbuf_grant_release(struct bh_winbuf *b)
{
    free(b->refs);
}
#endif
