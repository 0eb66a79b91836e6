/* fc-receiver.c — bulkhead-file-receiver's work, inside the target qube:
 * reads a file-copy stream, creates what it checks into the incoming
 * folder, answers with a status (docs/filecopy.md).
 *
 * Owns: creating entries (relative to directory fds it made itself, never
 * following a link), the free name "x (1)", unnamed temporaries linked only
 * when complete, modes without set-id bits, rolling a failed transfer back,
 * and the status it sends.
 * Must never: interpret a byte of the stream itself (fc-codec.c decides),
 * create or change anything outside the incoming folder it was handed,
 * replace an existing entry, or leave a partial file or a partial transfer
 * behind. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/filecopy.h"
#include "fc-private.h"

#define RECV_BUF (256u * 1024u)
/* How long the receiver keeps reading (and dropping) what a sender still
 * sends after a failure, so the status reaches it through the relays. */
#define DRAIN_SECONDS 30

struct open_dir {
    int fd;
    uint32_t mode;
    struct timespec times[2];
};

struct receiver {
    int base;          /* the staging folder: everything is made in it */
    int final;         /* ~/QubesIncoming/SOURCE: where it goes when whole */
    const char *where; /* "QubesIncoming/work", for the words */
    struct open_dir dirs[BH_FC_MAX_DEPTH];
    unsigned ndirs;
    int file;              /* the unnamed temporary being written, or -1 */
    struct bh_fc_entry fe; /* its header */
    unsigned file_parent;  /* level of its folder */
    char file_leaf[BH_FC_MAX_COMPONENT + 1];
    /* What this transfer made directly in the staging folder, each name
     * after a kind letter ('d' folder, else 'f'): what moves when whole. */
    char **made;
    size_t nmade, capmade;
    uint64_t files, folders, links, bytes;
    enum bh_fc_reason reason;
    char text[BH_FC_MAX_REASON + 1];
};

static int parent_fd(const struct receiver *r, unsigned level)
{
    return level == 0 ? r->base : r->dirs[level - 1].fd;
}

static void set_times(struct timespec t[2], const struct bh_fc_entry *e)
{
    t[0].tv_sec = (time_t)e->atime_sec;
    t[0].tv_nsec = e->atime_nsec;
    t[1].tv_sec = (time_t)e->mtime_sec;
    t[1].tv_nsec = e->mtime_nsec;
}

static bool io_fail(struct receiver *r, const char *name, const char *what, int err)
{
    if (r->reason != BH_FC_OK)
        return false;
    r->reason = BH_FC_ERR_IO;
    snprintf(r->text, sizeof r->text, "could not %s '%.300s' in %s: %s%s", what, name, r->where,
             strerror(err),
             err == ENOSPC || err == EDQUOT ? " (the disk of the receiving qube is full)" : "");
    return false;
}

/* "name (n)" with n before a file's extension ("a (1).pdf"), so the copy
 * keeps its type; a folder's or a dot file's counter goes at the end. */
static bool numbered(char *out, size_t cap, const char *leaf, unsigned n, bool keep_ext)
{
    if (n == 0)
        return (size_t)snprintf(out, cap, "%s", leaf) < cap;
    const char *dot = keep_ext ? strrchr(leaf, '.') : NULL;
    if (dot == leaf)
        dot = NULL;
    int len = dot ? snprintf(out, cap, "%.*s (%u)%s", (int)(dot - leaf), leaf, n, dot)
                  : snprintf(out, cap, "%s (%u)", leaf, n);
    return len > 0 && (size_t)len <= BH_FC_MAX_COMPONENT && (size_t)len < cap;
}

/* Tries leaf, then "leaf (1)".."leaf (999)" with make(); make returns 0,
 * or -1 with errno (EEXIST moves on). The name used lands in out. */
typedef int (*make_fn)(int dirfd, const char *name, void *data);

static bool make_free(struct receiver *r, unsigned level, const char *full, const char *leaf, bool keep_ext,
                      make_fn make, void *data, char *out, size_t cap)
{
    int dirfd = parent_fd(r, level);
    for (unsigned n = 0; n < 1000; n++) {
        if (!numbered(out, cap, leaf, n, keep_ext))
            break;
        if (make(dirfd, out, data) == 0) {
            char tagged[BH_FC_MAX_COMPONENT + 2];
            snprintf(tagged, sizeof tagged, "%c%s", keep_ext ? 'f' : 'd', out);
            if (level == 0 && !fc_strv_push(&r->made, &r->nmade, &r->capmade, tagged))
                return io_fail(r, full, "remember", ENOMEM);
            return true;
        }
        if (errno != EEXIST)
            return io_fail(r, full, "create", errno);
    }
    if (r->reason == BH_FC_OK) {
        r->reason = BH_FC_ERR_EXISTS;
        snprintf(r->text, sizeof r->text, "'%.300s' exists in %s, and so do its numbered names up to (999)",
                 full, r->where);
    }
    return false;
}

static int make_dir(int dirfd, const char *name, void *data)
{
    return mkdirat(dirfd, name, 0700);
}

static int make_link(int dirfd, const char *name, void *data)
{
    return linkat(AT_FDCWD, data, dirfd, name, AT_SYMLINK_FOLLOW);
}

static int make_symlink(int dirfd, const char *name, void *data)
{
    return symlinkat(data, dirfd, name);
}

/* Leaving a folder: its final mode (never set-id: the decoder allows only
 * 0777 bits; the owner keeps rwx so what arrived can be read and removed)
 * and times, set last because creating its entries changed them. */
static void leave_dirs(struct receiver *r, unsigned keep)
{
    while (r->ndirs > keep) {
        struct open_dir *od = &r->dirs[--r->ndirs];
        if (r->reason == BH_FC_OK) {
            fchmod(od->fd, (od->mode & 0777) | 0700);
            futimens(od->fd, od->times);
        }
        close(od->fd);
    }
}

static bool on_entry(struct receiver *r, const struct bh_fc_item *it)
{
    char actual[BH_FC_MAX_COMPONENT + 1];
    const struct bh_fc_entry *e = &it->entry;
    leave_dirs(r, it->depth);
    if (r->ndirs != it->depth)
        return io_fail(r, it->name, "find the folder of", ENOENT); /* decoder and receiver disagree */

    switch (e->kind) {
    case BH_FC_DIR: {
        if (!make_free(r, it->depth, it->name, it->leaf, false, make_dir, NULL, actual, sizeof actual))
            return false;
        int fd = openat(parent_fd(r, it->depth), actual, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return io_fail(r, it->name, "open the new folder", errno);
        struct open_dir *od = &r->dirs[r->ndirs++];
        od->fd = fd;
        od->mode = e->mode;
        set_times(od->times, e);
        r->folders++;
        return true;
    }
    case BH_FC_FILE:
        /* Unnamed until complete: a stream that stops half way leaves no
         * trace, and nobody sees a half-written file under a real name. */
        r->file = openat(parent_fd(r, it->depth), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (r->file < 0)
            return io_fail(r, it->name, "create a temporary file for", errno);
        r->fe = *e;
        r->file_parent = it->depth;
        snprintf(r->file_leaf, sizeof r->file_leaf, "%s", it->leaf);
        return true;
    case BH_FC_SYMLINK: {
        if (!make_free(r, it->depth, it->name, it->leaf, true, make_symlink, (void *)it->target, actual,
                       sizeof actual))
            return false;
        struct timespec t[2];
        set_times(t, e);
        utimensat(parent_fd(r, it->depth), actual, t, AT_SYMLINK_NOFOLLOW);
        r->links++;
        return true;
    }
    default:
        return io_fail(r, it->name, "create", EINVAL);
    }
}

static bool on_data(struct receiver *r, const struct bh_fc_item *it)
{
    const uint8_t *p = it->data;
    size_t left = it->data_len;
    while (left > 0) {
        ssize_t n = write(r->file, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return io_fail(r, it->name, "write", n < 0 ? errno : ENOSPC);
        p += n;
        left -= (size_t)n;
    }
    r->bytes += it->data_len;
    return true;
}

static bool on_file_done(struct receiver *r, const struct bh_fc_item *it)
{
    char proc[64], actual[BH_FC_MAX_COMPONENT + 1];
    struct timespec t[2];
    set_times(t, &r->fe);
    if (fchmod(r->file, (r->fe.mode & 0777) | 0600) != 0 || futimens(r->file, t) != 0)
        return io_fail(r, it->name, "set the mode and times of", errno);
    /* linkat through /proc needs no capability (AT_EMPTY_PATH would need
     * CAP_DAC_READ_SEARCH), and fails with EEXIST instead of replacing. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", r->file);
    if (!make_free(r, r->file_parent, it->name, r->file_leaf, true, make_link, proc, actual, sizeof actual))
        return false;
    close(r->file);
    r->file = -1;
    r->files++;
    return true;
}

static void roll_back(struct receiver *r)
{
    if (r->file >= 0)
        close(r->file); /* the unnamed temporary goes with its last fd */
    r->file = -1;
    leave_dirs(r, 0);
    for (size_t i = 0; i < r->nmade; i++)
        fc_remove_at(r->base, r->made[i] + 1, 0);
}

static int move_in(int dirfd, const char *name, void *data)
{
    struct receiver *r = data;
    return renameat2(r->base, r->made[r->nmade - 1] + 1, dirfd, name, RENAME_NOREPLACE);
}

/* The whole transfer arrived: its top-level entries move from the staging
 * folder into ~/QubesIncoming/SOURCE, each under a free name (RENAME_NOREPLACE:
 * nothing there is ever replaced). Until now nothing of it was visible
 * there, so a receiver killed at any point leaves only the staging folder,
 * which the next receiver removes. */
static bool publish(struct receiver *r)
{
    char actual[BH_FC_MAX_COMPONENT + 1];
    while (r->nmade > 0) {
        const char *tagged = r->made[r->nmade - 1];
        int fd = r->final;
        bool moved = false;
        for (unsigned n = 0; n < 1000 && !moved; n++) {
            if (!numbered(actual, sizeof actual, tagged + 1, n, tagged[0] == 'f'))
                break;
            if (move_in(fd, actual, r) == 0)
                moved = true;
            else if (errno != EEXIST)
                return io_fail(r, tagged + 1, "move into place", errno);
        }
        if (!moved) {
            r->reason = BH_FC_ERR_EXISTS;
            snprintf(r->text, sizeof r->text,
                     "'%.300s' exists in %s, and so do its numbered names up to (999)", tagged + 1, r->where);
            return false;
        }
        free(r->made[--r->nmade]);
    }
    return true;
}

/* After a failure the sender may still be writing; reading (and dropping)
 * until it stops or DRAIN_SECONDS pass lets the status reach it through
 * dom0's relays instead of a broken pipe. */
static void drain(int fd)
{
    uint8_t sink[16384];
    time_t until = time(NULL) + DRAIN_SECONDS;
    for (;;) {
        time_t now = time(NULL);
        if (now >= until)
            return;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)(until - now) * 1000);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return;
        ssize_t got = read(fd, sink, sizeof sink);
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
            return;
    }
}

static void take_error(struct receiver *r, const struct bh_fc_item *it)
{
    r->reason = it->reason;
    snprintf(r->text, sizeof r->text, "%s", it->text);
}

/* Hands one decoded event to the file system; false ends the transfer. */
static bool on_event(struct receiver *r, enum bh_fc_event ev, const struct bh_fc_item *it)
{
    switch (ev) {
    case BH_FC_EV_ENTRY:
        return on_entry(r, it);
    case BH_FC_EV_DATA:
        return on_data(r, it);
    case BH_FC_EV_FILE_DONE:
        return on_file_done(r, it);
    case BH_FC_EV_ERROR:
        take_error(r, it);
        return false;
    default:
        return true;
    }
}

/* The words the sender's user reads (the receiver's stderr reaches the
 * caller): how many, to which qube, into which folder there. Folders and
 * links only when there are any. */
static void say_copied(FILE *log, const struct receiver *r, const char *qube, const char *where)
{
    char also[128] = "";
    if (r->folders || r->links)
        snprintf(also, sizeof also, ", %" PRIu64 " folder%s, %" PRIu64 " symbolic link%s", r->folders,
                 r->folders == 1 ? "" : "s", r->links, r->links == 1 ? "" : "s");
    fprintf(log,
            "bulkhead-file-receiver: copied %" PRIu64 " file%s (%" PRIu64
            " byte%s)%s to %s (into ~/%s there)\n",
            r->files, r->files == 1 ? "" : "s", r->bytes, r->bytes == 1 ? "" : "s", also,
            qube ? qube : "the receiving qube", where);
}

int bh_fc_receive(int in_fd, int out_fd, int stage_fd, int final_fd, const char *where, const char *qube,
                  const struct bh_fc_limits *limits, const volatile sig_atomic_t *stop, FILE *log)
{
    struct bh_fc_decoder *dec = NULL;
    uint8_t *buf = NULL;
    struct bh_fc_item it;
    struct receiver r = {.base = stage_fd, .final = final_fd, .where = where, .file = -1};
    char current[BH_FC_MAX_PATH * 4 + 16];
    bool done = false;
    int rc = 1;

    dec = malloc(sizeof *dec);
    buf = malloc(RECV_BUF);
    if (!dec || !buf) {
        io_fail(&r, "the stream", "hold memory for", ENOMEM);
        goto answer;
    }
    bh_fc_decoder_init(dec, limits);
    while (!done && r.reason == BH_FC_OK) {
        if (stop && *stop) {
            r.reason = BH_FC_ERR_CANCELLED;
            bh_fc_quote(current, sizeof current, bh_fc_decoder_current(dec));
            snprintf(r.text, sizeof r.text, "the receiver was stopped during '%.300s'", current);
            break;
        }
        ssize_t got = read(in_fd, buf, RECV_BUF);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            bh_fc_quote(current, sizeof current, bh_fc_decoder_current(dec));
            io_fail(&r, current, "read the stream after", errno);
            break;
        }
        if (got == 0) {
            if (bh_fc_decode_eof(dec, &it) == BH_FC_EV_END)
                done = true;
            else
                take_error(&r, &it);
            break;
        }
        /* Every event of this buffer; after the end marker the decoder
         * calls any byte left in it a violation. */
        for (size_t off = 0; r.reason == BH_FC_OK;) {
            size_t used = 0;
            enum bh_fc_event ev = bh_fc_decode(dec, buf + off, (size_t)got - off, &used, &it);
            off += used;
            if (ev == BH_FC_EV_MORE)
                break;
            if (ev == BH_FC_EV_END)
                done = true;
            else if (!on_event(&r, ev, &it))
                break;
        }
    }

answer:;
    uint8_t status[sizeof(struct bh_fc_status) + BH_FC_MAX_PATH + BH_FC_MAX_REASON];
    size_t slen;
    uint32_t sum = dec ? bh_fc_decoder_checksum(dec) : 0;
    if (r.reason == BH_FC_OK) {
        leave_dirs(&r, 0);
        publish(&r);
    }
    if (r.reason == BH_FC_OK) {
        slen = bh_fc_status_encode(status, sizeof status, BH_FC_OK, sum, NULL, NULL);
        if (log)
            say_copied(log, &r, qube, where);
    } else {
        roll_back(&r);
        bh_fc_quote(current, sizeof current, dec ? bh_fc_decoder_current(dec) : "");
        current[BH_FC_MAX_PATH] = '\0';
        slen = bh_fc_status_encode(status, sizeof status, r.reason, sum, current, r.text);
        if (log)
            fprintf(log, "bulkhead-file-receiver: nothing kept in ~/%s: %s\n", where, r.text);
    }
    bool sent = fc_write_all(out_fd, status, slen);
    close(out_fd);
    if (r.reason != BH_FC_OK)
        drain(in_fd);
    fc_strv_free(r.made, r.nmade);
    free(buf);
    free(dec);
    rc = r.reason == BH_FC_OK && sent ? 0 : 1;
    return rc;
}
