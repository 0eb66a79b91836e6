/* fc-sender.c — bulkhead-file-sender's work, inside the source qube: packs
 * files, folders and symbolic links into a file-copy stream, shows progress,
 * reads the receiver's status, and for a move deletes what was sent once the
 * receiver confirmed it (docs/filecopy.md).
 *
 * Owns: walking the sources (relative to directory fds, never following a
 * link below what the user named), the stream it writes, the words it
 * prints, and deleting sources.
 * Must never: delete anything before the receiver's success status and a
 * matching checksum, delete what it did not send (or what changed after it
 * was sent), or trust the receiver's answer beyond its checked fields. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fc-private.h"

#define SEND_BUF (256u * 1024u)

struct sent {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct sender {
    int out, in;
    FILE *log;
    const struct bh_fc_send_options *opts;
    const volatile sig_atomic_t *stop;
    bool dry; /* the first walk: count and check, send nothing */
    uint8_t *buf;
    size_t fill;
    uint32_t crc;
    uint64_t total_bytes, total_entries, done_bytes, done_entries;
    char path[BH_FC_MAX_PATH + 1];
    size_t path_len;
    struct sent *sent;
    size_t nsent, capsent;
    /* the status, possibly early (a receiver that refused stops reading) */
    uint8_t st[sizeof(struct bh_fc_status) + BH_FC_MAX_PATH + BH_FC_MAX_REASON];
    size_t st_have;
    int st_state; /* 0 none yet, 1 complete, -1 broken or EOF */
    struct bh_fc_status_msg msg;
    bool receiver_gone;
    int failed; /* 0, or the exit code: 2 a source cannot be sent, 130 stopped */
    struct timespec last_progress;
};

static double seconds(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void human(char *out, size_t cap, uint64_t b)
{
    static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    unsigned u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%" PRIu64 " bytes", b);
    else
        snprintf(out, cap, "%.1f %s", v, unit[u]);
}

static void progress(struct sender *s, bool last)
{
    if (!s->opts->progress || s->dry || !s->log)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!last && seconds(&now) - seconds(&s->last_progress) < 0.25)
        return;
    s->last_progress = now;
    char a[32], b[32];
    human(a, sizeof a, s->done_bytes);
    human(b, sizeof b, s->total_bytes);
    unsigned pct = s->total_bytes ? (unsigned)(s->done_bytes * 100 / s->total_bytes) : 100;
    fprintf(s->log, "\rsending %s of %s (%u%%), %" PRIu64 " of %" PRIu64 " entr%s%s", a, b, pct,
            s->done_entries, s->total_entries, s->total_entries == 1 ? "y" : "ies", last ? "\n" : "");
    fflush(s->log);
}

/* Reads what the receiver has said so far; a complete status or EOF ends
 * the transfer. */
static void read_status(struct sender *s)
{
    if (s->st_state != 0)
        return;
    ssize_t n = read(s->in, s->st + s->st_have, sizeof s->st - s->st_have);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        s->st_state = -1;
        return;
    }
    s->st_have += (size_t)n;
    size_t used;
    char why[128];
    int r = bh_fc_status_decode(s->st, s->st_have, &used, &s->msg, why, sizeof why);
    if (r != 0)
        s->st_state = r;
    if (r < 0 && s->log)
        fprintf(s->log, "bulkhead-file-sender: %s\n", why);
}

/* Writes the buffer out, watching the receiver's side for an early status:
 * false when the transfer cannot go on. */
static bool flush(struct sender *s)
{
    size_t off = 0;
    while (off < s->fill) {
        if (s->stop && *s->stop) {
            s->failed = 130;
            return false;
        }
        struct pollfd p[2] = {{.fd = s->out, .events = POLLOUT}, {.fd = s->in, .events = POLLIN}};
        int n = poll(p, s->st_state == 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            s->receiver_gone = true;
            return false;
        }
        if (s->st_state == 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            read_status(s);
        if (s->st_state == 1)
            return false; /* it answered before the end: a refusal */
        if (p[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t w = write(s->out, s->buf + off, s->fill - off);
            if (w < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (w <= 0) {
                s->receiver_gone = true;
                return false;
            }
            off += (size_t)w;
        }
    }
    s->fill = 0;
    return true;
}

static bool emit(struct sender *s, const void *data, size_t len)
{
    if (s->dry)
        return true;
    const uint8_t *p = data;
    s->crc = bh_fc_crc32c(s->crc, p, len);
    while (len > 0) {
        size_t n = SEND_BUF - s->fill;
        if (n > len)
            n = len;
        memcpy(s->buf + s->fill, p, n);
        s->fill += n;
        p += n;
        len -= n;
        if (s->fill == SEND_BUF && !flush(s))
            return false;
    }
    return true;
}

static bool cannot(struct sender *s, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool cannot(struct sender *s, const char *what, const char *fmt, ...)
{
    char qa[BH_FC_MAX_PATH * 4 + 16];
    va_list ap;
    bh_fc_quote(qa, sizeof qa, what);
    if (s->log) {
        fprintf(s->log, "bulkhead-file-sender: cannot send '%s': ", qa);
        va_start(ap, fmt);
        vfprintf(s->log, fmt, ap);
        va_end(ap);
        fprintf(s->log, "\n");
    }
    s->failed = s->failed ? s->failed : 2;
    return false;
}

static bool header(struct sender *s, uint32_t kind, const struct stat *st, uint64_t size)
{
    struct bh_fc_entry e = {
        .kind = kind,
        .mode = st->st_mode & 0777, /* set-id and sticky bits never travel */
        .name_len = (uint32_t)s->path_len,
        .size = size,
        .atime_sec = st->st_atim.tv_sec,
        .atime_nsec = (uint32_t)st->st_atim.tv_nsec,
        .mtime_sec = st->st_mtim.tv_sec,
        .mtime_nsec = (uint32_t)st->st_mtim.tv_nsec,
    };
    uint8_t raw[sizeof e];
    bh_fc_entry_encode(&e, raw);
    s->done_entries += !s->dry;
    if (s->dry)
        s->total_entries++;
    return emit(s, raw, sizeof raw) && emit(s, s->path, s->path_len);
}

static bool remember(struct sender *s, const struct stat *st)
{
    if (s->dry || !s->opts->move)
        return true;
    if (s->nsent == s->capsent) {
        size_t cap = s->capsent ? s->capsent * 2 : 64;
        struct sent *n = realloc(s->sent, cap * sizeof *n);
        if (!n)
            return cannot(s, s->path, "out of memory");
        s->sent = n;
        s->capsent = cap;
    }
    s->sent[s->nsent++] = (struct sent){st->st_dev, st->st_ino, st->st_size, st->st_mtim};
    return true;
}

static bool send_file(struct sender *s, int parent, const char *name, const struct stat *pre)
{
    int fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    bool ok = false;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cannot(s, s->path, "%s", fd < 0 ? strerror(errno) : "it changed while being sent");
        goto out;
    }
    if (s->dry) {
        s->total_bytes += (uint64_t)st.st_size;
        ok = header(s, BH_FC_FILE, &st, (uint64_t)st.st_size);
        goto out;
    }
    /* The size announced is the size when opened; a file that shrinks
     * meanwhile cannot be sent whole, and one that grows is cut there. */
    uint64_t left = (uint64_t)st.st_size;
    if (!header(s, BH_FC_FILE, &st, left) || !remember(s, &st))
        goto out;
    while (left > 0) {
        if (s->fill == SEND_BUF && !flush(s))
            goto out;
        size_t want = SEND_BUF - s->fill;
        if (want > left)
            want = (size_t)left;
        ssize_t n = read(fd, s->buf + s->fill, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cannot(s, s->path, "%s", n < 0 ? strerror(errno) : "it became shorter while being sent");
            s->failed = 1;
            goto out;
        }
        s->crc = bh_fc_crc32c(s->crc, s->buf + s->fill, (size_t)n);
        s->fill += (size_t)n;
        left -= (uint64_t)n;
        s->done_bytes += (uint64_t)n;
        progress(s, false);
        if (s->stop && *s->stop) {
            s->failed = 130;
            goto out;
        }
    }
    ok = true;
out:
    (void)pre;
    if (fd >= 0)
        close(fd);
    return ok;
}

static bool walk(struct sender *s, int parent, const char *name, unsigned depth);

static bool send_dir(struct sender *s, int parent, const char *name, unsigned depth)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return cannot(s, s->path, "%s", strerror(errno));
    }
    if (depth + 1 > BH_FC_MAX_DEPTH) {
        close(fd);
        return cannot(s, s->path, "folders nested more than %u deep", BH_FC_MAX_DEPTH);
    }
    if (!header(s, BH_FC_DIR, &st, 0) || !remember(s, &st)) {
        close(fd);
        return false;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return cannot(s, s->path, "%s", strerror(errno));
    }
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        ok = walk(s, dirfd(d), de->d_name, depth + 1);
    }
    closedir(d);
    return ok;
}

static bool send_symlink(struct sender *s, int parent, const char *name, unsigned depth,
                         const struct stat *st)
{
    char target[BH_FC_MAX_TARGET + 1], why[256];
    ssize_t n = readlinkat(parent, name, target, sizeof target);
    if (n < 0)
        return cannot(s, s->path, "%s", strerror(errno));
    if ((size_t)n >= sizeof target)
        return cannot(s, s->path, "its target is too long");
    if (bh_fc_check_target(depth, target, (size_t)n, why, sizeof why) != BH_FC_OK)
        return cannot(s, s->path, "a symbolic link the receiver would refuse: %s", why);
    return header(s, BH_FC_SYMLINK, st, (uint64_t)n) && remember(s, st) && emit(s, target, (size_t)n);
}

/* One entry named name in the folder parent, at level depth (0 = what the
 * user named); s->path is its path in the stream. */
static bool walk(struct sender *s, int parent, const char *name, unsigned depth)
{
    size_t saved = s->path_len, nl = strlen(name);
    char why[256];
    struct stat st;
    bool ok;

    if (s->stop && *s->stop) {
        s->failed = 130;
        return false;
    }
    if (saved + (saved ? 1 : 0) + nl > BH_FC_MAX_PATH)
        return cannot(s, s->path, "its path is longer than %u bytes", BH_FC_MAX_PATH);
    if (saved)
        s->path[s->path_len++] = '/';
    memcpy(s->path + s->path_len, name, nl);
    s->path_len += nl;
    s->path[s->path_len] = '\0';

    if (bh_fc_check_name(s->path, s->path_len, why, sizeof why) != BH_FC_OK) {
        ok = cannot(s, s->path, "the receiver would refuse its name: %s", why);
    } else if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        ok = cannot(s, s->path, "%s", strerror(errno));
    } else if (S_ISREG(st.st_mode)) {
        ok = send_file(s, parent, name, &st);
    } else if (S_ISDIR(st.st_mode)) {
        ok = send_dir(s, parent, name, depth);
    } else if (S_ISLNK(st.st_mode)) {
        ok = send_symlink(s, parent, name, depth, &st);
    } else {
        ok = cannot(s, s->path,
                    "it is a device, pipe or socket: only files, folders and symbolic links can be copied");
    }
    s->path_len = saved;
    s->path[saved] = '\0';
    return ok;
}

/* What the user named, resolved (a link they named is what it points to),
 * split into an open parent folder and a last component. */
static int open_top(const char *arg, char *leaf, size_t cap)
{
    char *real = realpath(arg, NULL);
    int fd = -1;
    if (!real)
        return -1;
    char *slash = strrchr(real, '/');
    if (slash && slash[1] != '\0' && strlen(slash + 1) < cap) {
        snprintf(leaf, cap, "%s", slash + 1);
        *slash = '\0';
        fd = open(real[0] ? real : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        errno = EINVAL; /* "/" itself */
    }
    free(real);
    return fd;
}

static int cmp_sent(const void *a, const void *b)
{
    const struct sent *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Move: deletes, leaves first, what was sent and has not changed since;
 * anything else stays, and the user is told. Returns how many stayed. */
static unsigned delete_sent(struct sender *s, int parent, const char *name, unsigned level)
{
    struct stat st;
    unsigned kept = 0;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return 1;
    struct sent key = {.dev = st.st_dev, .ino = st.st_ino};
    const struct sent *was = bsearch(&key, s->sent, s->nsent, sizeof *s->sent, cmp_sent);
    bool same =
        was && (S_ISDIR(st.st_mode) || (was->size == st.st_size && was->mtime.tv_sec == st.st_mtim.tv_sec &&
                                        was->mtime.tv_nsec == st.st_mtim.tv_nsec));
    if (!same) {
        if (s->log)
            fprintf(s->log, "bulkhead-file-sender: kept '%s': it changed or appeared after it was sent\n",
                    name);
        return 1;
    }
    if (S_ISDIR(st.st_mode) && level < BH_FC_MAX_DEPTH + 1) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
            if (fd >= 0)
                close(fd);
            return 1;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                kept += delete_sent(s, dirfd(d), de->d_name, level + 1);
        closedir(d);
        if (kept == 0 && unlinkat(parent, name, AT_REMOVEDIR) != 0)
            kept++;
        return kept;
    }
    return unlinkat(parent, name, 0) == 0 ? 0 : 1;
}

static int walk_all(struct sender *s, char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char leaf[NAME_MAX + 1];
        int parent = open_top(paths[i], leaf, sizeof leaf);
        if (parent < 0) {
            cannot(s, paths[i], "%s", errno == EINVAL ? "the root folder cannot be copied" : strerror(errno));
            return s->failed;
        }
        s->path_len = 0;
        s->path[0] = '\0';
        bool ok = walk(s, parent, leaf, 0);
        close(parent);
        if (!ok)
            return s->failed ? s->failed : 1;
    }
    return 0;
}

int bh_fc_send(int out_fd, int in_fd, char *const *paths, size_t n, const struct bh_fc_send_options *opts,
               const volatile sig_atomic_t *stop, FILE *log)
{
    struct sender *s = calloc(1, sizeof *s);
    int rc = 1;
    char a[32];
    if (!s || !(s->buf = malloc(SEND_BUF))) {
        if (log)
            fprintf(log, "bulkhead-file-sender: out of memory\n");
        goto out;
    }
    s->out = out_fd;
    s->in = in_fd;
    s->log = log;
    s->opts = opts;
    s->stop = stop;

    /* First every source is checked and counted, so a name or a type the
     * receiver would refuse stops the copy before a byte is sent, and the
     * progress line knows the total. */
    s->dry = true;
    if ((rc = walk_all(s, paths, n)) != 0) {
        if (log && rc != 130)
            fprintf(log, "bulkhead-file-sender: nothing was sent\n");
        goto out;
    }
    s->dry = false;
    static const uint8_t end[sizeof(struct bh_fc_entry)];
    bool ok = emit(s, BH_FC_MAGIC, BH_FC_MAGIC_BYTES) && walk_all(s, paths, n) == 0 && s->failed == 0 &&
              emit(s, end, sizeof end) && flush(s);
    progress(s, true);
    /* The receiver sees the end of the stream either way; without the end
     * marker it keeps nothing. */
    close(s->out);
    while (s->st_state == 0 && !(s->stop && *s->stop))
        read_status(s);
    if (s->stop && *s->stop)
        s->failed = 130;

    if (s->failed == 130) {
        if (log)
            fprintf(log, "bulkhead-file-sender: cancelled; the receiver keeps nothing of this copy\n");
        rc = 130;
    } else if (s->st_state != 1) {
        if (log)
            fprintf(log,
                    "bulkhead-file-sender: the receiver ended without confirming the copy; it keeps nothing "
                    "of it%s\n",
                    opts->move ? ", and nothing was removed here" : "");
        rc = 1;
    } else if (s->msg.code != BH_FC_OK) {
        if (log)
            fprintf(log, "bulkhead-file-sender: the receiver kept nothing: %s%s\n", s->msg.reason,
                    opts->move ? " (nothing was removed here)" : "");
        rc = 1;
    } else if (!ok || s->msg.checksum != s->crc) {
        if (log)
            fprintf(log,
                    "bulkhead-file-sender: the receiver says it got everything, but its checksum %08" PRIx32
                    " is not ours (%08" PRIx32 ")%s\n",
                    s->msg.checksum, s->crc, opts->move ? "; nothing was removed here" : "");
        rc = 1;
    } else {
        human(a, sizeof a, s->done_bytes);
        if (log)
            fprintf(log,
                    "bulkhead-file-sender: the receiver confirmed %" PRIu64
                    " entr%s (%s), checksum %08" PRIx32 "\n",
                    s->done_entries, s->done_entries == 1 ? "y" : "ies", a, s->crc);
        rc = 0;
        if (opts->move) {
            unsigned kept = 0;
            qsort(s->sent, s->nsent, sizeof *s->sent, cmp_sent);
            for (size_t i = 0; i < n; i++) {
                char leaf[NAME_MAX + 1];
                int parent = open_top(paths[i], leaf, sizeof leaf);
                kept += parent < 0 ? 1 : delete_sent(s, parent, leaf, 0);
                if (parent >= 0)
                    close(parent);
            }
            if (log)
                fprintf(log,
                        kept ? "bulkhead-file-sender: moved; %u entries were kept (see above)\n"
                             : "bulkhead-file-sender: moved; the sources are removed\n",
                        kept);
        }
    }
out:
    if (s) {
        free(s->sent);
        free(s->buf);
    }
    free(s);
    return rc;
}
