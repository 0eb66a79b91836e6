/* sandbox-fsops.h — every file operation dom0 does on a tree a qube can
 * write: make directories, copy a tree, remove a tree, empty a directory.
 *
 * Owns the rule of docs/sandbox.md "dom0 and a qube's files": dom0 works as
 * root on data a hostile qube shaped, so it reaches every entry relative to a
 * directory descriptor, one name at a time, with O_NOFOLLOW; a symbolic link
 * is only ever read or created as a link, never resolved; nothing is found by
 * a path a qube could have changed. A copy strips set-uid and set-gid bits
 * and never carries security.* xattrs (file capabilities).
 *
 * It must never resolve a path through anything below the descriptors it is
 * given, never follow a link, never leave the tree it was handed (not even by
 * "..", except back up to a parent it checked), and never decide whether an
 * operation is allowed: callers do. Generic: it knows nothing of qubes,
 * layers or volumes, only descriptors.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Deepest directory a copy descends to. A copy holds two descriptors per
 * level, so this bounds what a qube's nesting can cost the daemon. Removal
 * has no such limit (it holds one descriptor at a time). */
#define BH_FS_COPY_MAX_DEPTH 128
/* Entries read from one directory of a copy before it is refused: a qube
 * creating files as fast as dom0 lists them must not keep it listing. */
#define BH_FS_COPY_MAX_ENTRIES 1000000
/* Bytes of names a copy holds at once: the listing of each directory it is
 * inside of, all the way down, and the path of each hard-linked file it
 * copied (kept to link the others to it). Each directory alone is bounded by
 * BH_FS_COPY_MAX_ENTRIES, but a million names of 255 bytes are 270 MiB,
 * a qube could nest such directories, and a linked file's path may be 100
 * levels of long names: this bounds their sum. A million names of 40 bytes
 * fit. */
#define BH_FS_COPY_MAX_LISTED ((gsize)64 << 20)
/* Bytes of names a removal holds at once: those of the directories it found
 * not empty and will empty next, over all the levels it is inside of. Not a
 * refusal (a user must be able to remove any tree a qube made): past it, a
 * pass over a directory stops and the next one goes on from its start,
 * where what it removed was. 1 600 names of 16 bytes: an ordinary tree is
 * removed in two passes per directory. */
#define BH_FS_REMOVE_MAX_HELD ((gsize)64 << 10)

/* Opens a directory dom0 itself names (its state directory, a qube's
 * directory below it): the last component must not be a link. */
int bh_fs_open_dir_path(const char *path, GError **error);
/* Opens relpath below dirfd as a directory; fails (ELOOP, EXDEV, ENOTDIR)
 * if any component is a link or ".." leads out. openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), one O_NOFOLLOW component at
 * a time on a kernel without it. */
int bh_fs_open_beneath(int dirfd, const char *relpath, GError **error);

/* Makes the directory name in dirfd (a single component) if missing, with
 * exactly mode; with set_mode, an existing one also gets mode. Returns a
 * descriptor of it, or -1 when name is anything but a real directory (a link
 * stays as it is: G_IO_ERROR_NOT_DIRECTORY). */
int bh_fs_mkdir_at(int dirfd, const char *name, mode_t mode, gboolean set_mode, GError **error);
/* The same for each component of relpath in turn ("a/b/c"). */
int bh_fs_mkdir_p(int dirfd, const char *relpath, mode_t mode, gboolean set_mode, GError **error);

/* Removes name in dirfd: a file, a link (not what it points to) or a whole
 * directory tree, however deep, holding at most BH_FS_REMOVE_MAX_HELD bytes
 * of its names (and a few dozen bytes per level). An entry that cannot be
 * removed does not stop the others in its directory; once a pass over that
 * directory removes nothing, the removal fails naming one (escaped). A
 * missing name is not an error. */
gboolean bh_fs_remove_at(int dirfd, const char *name, GError **error);
/* Removes everything inside the directory dirfd, keeping it; the same way. */
gboolean bh_fs_empty_dir(int dirfd, GError **error);

typedef enum {
    /* Keep owners (as root); else everything becomes the caller's. */
    BH_FS_COPY_OWNERS = 1 << 0,
    /* Only what every host user may read (a copy of the host's /etc). */
    BH_FS_COPY_WORLD_READABLE = 1 << 1,
    /* Copy trusted.overlay.*, user.* and POSIX ACL xattrs (never security.*). */
    BH_FS_COPY_XATTRS = 1 << 2,
    /* Copy overlay whiteouts (character devices 0/0; as root). */
    BH_FS_COPY_WHITEOUTS = 1 << 3,
    /* The source may change during the copy (a running qube's home): an
     * entry that vanishes or changes its type between listing and opening is
     * skipped, not an error. */
    BH_FS_COPY_LIVE = 1 << 4,
} BhFsCopyFlags;

typedef struct {
    BhFsCopyFlags flags;
    /* Entries owned by reown_from (uid and gid alike) get reown_to
     * ((uid_t)-1: no change). */
    uid_t reown_from;
    uid_t reown_to;
    /* Names the tree in messages, e.g. "the home of dvm". */
    const char *what;
    /* Names at the top of the source that are not copied (NULL-terminated,
     * or NULL). */
    const char *const *exclude_top;
    /* Bytes of names and linked paths held at once (0: BH_FS_COPY_MAX_LISTED). */
    gsize max_listed;
} BhFsCopy;

/* Copies everything of the directory src_fd to a new directory dst_name in
 * dst_dirfd (which must not exist), and the top's mode, owner and xattrs. */
gboolean bh_fs_copy_tree(int src_fd, int dst_dirfd, const char *dst_name, const BhFsCopy *copy,
                         GError **error);

/* What du says of name in dirfd (a file, or a directory tree): the bytes
 * its blocks take (st_blocks · 512), each inode once, links counted as links
 * and never followed, nothing on another file system. Bounded, since a qube
 * shapes the tree: at most max_entries entries and BH_FS_COPY_MAX_DEPTH
 * levels (one descriptor per level); past either, *exact is FALSE and
 * *bytes what was counted so far. A missing name is 0 bytes, exact. */
gboolean bh_fs_usage_at(int dirfd, const char *name, guint max_entries, guint64 *bytes, gboolean *exact,
                        GError **error);

/* Reads a small regular file name of dirfd (no link) into *contents. */
gboolean bh_fs_read_at(int dirfd, const char *name, gsize max, char **contents, GError **error);
/* Replaces name in dirfd with contents (written aside, then renamed). */
gboolean bh_fs_write_at(int dirfd, const char *name, const char *contents, gsize len, mode_t mode,
                        GError **error);

G_END_DECLS
