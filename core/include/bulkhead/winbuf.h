/* winbuf.h — shared window buffers: the guest exports one per window, dom0
 * imports it read-only. Pixels never travel through the vchan byte stream.
 *
 * Socket transport: a memfd of exactly stride*height bytes, sealed with
 * F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, sent with BH_GUI_BUFFER. The
 * importer refuses an fd that is not a memfd with those seals or whose size
 * is not the expected one, so a guest can scribble on the pixels but can never
 * make dom0 fault by truncating the mapping.
 * Xen transport: grant references (xengntshr in the guest, xengnttab in dom0),
 * their count bounded by BH_MAX_GRANT_REFS.
 *
 * Owns: allocation, sealing/granting, mapping and unmapping, and the limits
 * of a window buffer (size, stride, grant references).
 * Must never: trust a size from the peer without the caller having bounded it
 * (see core/proto), or map anything writable on the import side. */
#ifndef BULKHEAD_WINBUF_H
#define BULKHEAD_WINBUF_H

#include <stddef.h>
#include <stdint.h>

/* ---- Limits (the buffer code's; the GUI protocol carries them) ---------- */

/* 8K UHD: covers one 3840x2160 window with room for a large multi-monitor
 * span, and keeps one buffer at most ~127 MiB. */
#define BH_MAX_WINDOW_WIDTH  7680u
#define BH_MAX_WINDOW_HEIGHT 4320u
#define BH_BYTES_PER_PIXEL   4u
#define BH_MAX_STRIDE        (BH_MAX_WINDOW_WIDTH * BH_BYTES_PER_PIXEL)
#define BH_MAX_BUFFER_BYTES  ((uint64_t)BH_MAX_STRIDE * BH_MAX_WINDOW_HEIGHT)
/* Xen mode: one grant reference per 4 KiB page of the largest buffer. */
#define BH_PAGE_SIZE      4096u
#define BH_MAX_GRANT_REFS ((uint32_t)((BH_MAX_BUFFER_BYTES + BH_PAGE_SIZE - 1) / BH_PAGE_SIZE))

/* How a buffer is shared; BH_GUI_BUFFER carries the same numbers. */
enum bh_gui_buffer_kind {
    BH_GUI_BUFFER_MEMFD = 1,
    BH_GUI_BUFFER_GRANT = 2,
};

/* A zeroed struct (kind 0) is empty: release ignores it. */
struct bh_winbuf {
    int kind;    /* enum bh_gui_buffer_kind; 0 = empty */
    int fd;      /* memfd: owned; -1 when none */
    void *map;   /* export: read-write; import: read-only */
    size_t size; /* bytes mapped */
    uint32_t n_refs;
    uint32_t *refs; /* xen: grant refs (owned copy on both sides) */
    void *priv;     /* transport-private handle (xengntshr/xengnttab) */
};

/* Guest side: a new buffer of `size` bytes (1..BH_MAX_BUFFER_BYTES; memfd,
 * sealed) mapped read-write. 0 ok, -1 with errno; b is left empty on error. */
int bh_winbuf_export_memfd(struct bh_winbuf *b, size_t size);

/* Dom0 side: take ownership of `fd` and map it read-only if it is a memfd on
 * shmem (never hugetlbfs: a punched-out huge page may not come back) with
 * the seals above and exactly `expected_size` bytes. On failure the fd is
 * closed, b is left empty, -1 is returned and *reason (if non-NULL) says why. */
int bh_winbuf_import_memfd(struct bh_winbuf *b, int fd, size_t expected_size, const char **reason);

/* Xen: grant `size` bytes read-only to `domain` (guest; b->refs/n_refs are
 * what BH_GUI_BUFFER carries) / map them read-only from `domain` (dom0;
 * n_refs must be ceil(expected_size / BH_PAGE_SIZE) <= BH_MAX_GRANT_REFS).
 * Always declared; a build without Xen fails them with errno ENOTSUP. */
int bh_winbuf_export_grant(struct bh_winbuf *b, int domain, size_t size);
int bh_winbuf_import_grant(struct bh_winbuf *b, int domain, const uint32_t *refs, uint32_t n_refs,
                           size_t expected_size, const char **reason);

/* Unmaps and closes; leaves b empty (fd -1, map NULL). NULL-safe, idempotent. */
void bh_winbuf_release(struct bh_winbuf *b);

/* The last line of defence for reads of guest memory (winbuf-guard.c).
 * Checked imports cannot lose pages, but dom0 must survive whatever the
 * guest does to its memory afterwards, so every copy out of a buffer runs
 * under a SIGBUS guard: a fault inside the guarded range ends the copy
 * (-1, errno EFAULT) instead of the process; any other SIGBUS still kills
 * as before (the previous disposition is kept and used).
 * install: once per process (idempotent; the first guarded read installs
 * it too, a program's main calls it to fail early): 0 or -1 with errno. */
int bh_winbuf_guard_install(void);
/* Runs fn(data), whose reads of [map, map + size) may fault: 0 when it ran
 * to the end, -1 (errno EFAULT) when a SIGBUS in that range cut it short,
 * or (errno ENOSYS) when the guard cannot be installed and fn did not run.
 * fn must not allocate or take locks (it may be cut short anywhere). */
int bh_winbuf_guard_run(const void *map, size_t size, void (*fn)(void *data), void *data);
/* A guarded memcpy from guest memory: 0, or -1 (EFAULT/ENOSYS as above;
 * dst is then partly written). */
int bh_winbuf_guard_copy(void *dst, const void *src, size_t n);

#endif /* BULKHEAD_WINBUF_H */
