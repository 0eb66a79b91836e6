/* filecopy.h — the file-copy stream between bulkhead-file-sender (in the
 * source qube) and bulkhead-file-receiver (in the target qube): the single
 * source in code for docs/filecopy.md.
 *
 * Owns: the stream layout (packed, fixed-width, little-endian: the two ends
 * are two qubes, and a stream may one day be kept in a file), the entry
 * kinds, the reason codes, the hard limits, and the API of the pure codec
 * (core/filecopy/fc-codec.c).
 * Must never: do I/O, allocate, or depend on anything but libc and
 * core/wire. Everything the peer sends is hostile: the receiver's stream
 * and the sender's status are read only through bh_fc_decode and
 * bh_fc_status_decode.
 *
 * sender -> receiver: MAGIC, then per entry a bh_fc_entry header, its name
 * (a relative path), and for a file its data, for a symlink its target;
 * then an end marker (a header of kind END, all else zero).
 * receiver -> sender: one bh_fc_status (+ the last entry's name and a reason
 * in words when code != OK), whether the stream was whole or not. */
#ifndef BULKHEAD_FILECOPY_H
#define BULKHEAD_FILECOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BH_FC_MAGIC        "BHFC\x01\0\0\0" /* "BHFC", version 1, three zero bytes */
#define BH_FC_MAGIC_BYTES  8u
#define BH_FC_STATUS_MAGIC 0x53464842u /* "BHFS" little-endian */

/* ---- Limits (each one checked by the decoder) ----------------------------- */

/* One path component: what ext4 and most Linux file systems allow. */
#define BH_FC_MAX_COMPONENT 255u
/* A whole relative path, so that path + NUL fits PATH_MAX. */
#define BH_FC_MAX_PATH 4095u
/* Directories inside one another. The receiver holds one fd per level. */
#define BH_FC_MAX_DEPTH 128u
/* A symlink's target. */
#define BH_FC_MAX_TARGET 4095u
/* Defaults of the receiver's limits (--max-entries, --max-bytes) and their
 * hard ceilings. */
#define BH_FC_DEFAULT_MAX_ENTRIES 50000u
#define BH_FC_CEILING_MAX_ENTRIES 10000000u
#define BH_FC_DEFAULT_MAX_BYTES   (64ull << 30) /* 64 GiB; the volume is the real bound */
#define BH_FC_CEILING_MAX_BYTES   (1ull << 50)
/* The reason text in a status. */
#define BH_FC_MAX_REASON 512u

/* ---- Entry header ---------------------------------------------------------- */

enum bh_fc_kind {
    BH_FC_END = 0,     /* end marker: every other field zero */
    BH_FC_FILE = 1,    /* size bytes of data follow the name */
    BH_FC_DIR = 2,     /* size 0; its entries follow, their names below it */
    BH_FC_SYMLINK = 3, /* size = target length; the target follows the name */
};

/* Little-endian on the wire; 48 bytes. */
struct bh_fc_entry {
    uint32_t kind;     /* enum bh_fc_kind */
    uint32_t mode;     /* permission bits (0..0777); set-id and sticky refused */
    uint32_t name_len; /* 1..BH_FC_MAX_PATH */
    uint32_t reserved; /* 0 */
    uint64_t size;
    int64_t atime_sec;
    int64_t mtime_sec;
    uint32_t atime_nsec; /* 0..999 999 999 */
    uint32_t mtime_nsec;
} __attribute__((packed));
_Static_assert(sizeof(struct bh_fc_entry) == 48, "filecopy entry header is 48 bytes");

/* ---- Status (receiver -> sender) --------------------------------------------- */

/* Little-endian; 20 bytes, then name_len bytes of the entry's name (the one
 * being received when it failed; 0 when none), then reason_len bytes of
 * UTF-8 in words. */
struct bh_fc_status {
    uint32_t magic;      /* BH_FC_STATUS_MAGIC */
    uint32_t code;       /* enum bh_fc_reason; 0 = everything arrived */
    uint32_t checksum;   /* CRC-32C of every stream byte the receiver read, up to the end marker */
    uint32_t name_len;   /* 0..BH_FC_MAX_PATH */
    uint32_t reason_len; /* 0 with OK, else 1..BH_FC_MAX_REASON */
} __attribute__((packed));
_Static_assert(sizeof(struct bh_fc_status) == 20, "filecopy status is 20 bytes");

/* Why a transfer stopped. The numbers travel in the status. */
enum bh_fc_reason {
    BH_FC_OK = 0,
    BH_FC_ERR_MAGIC,     /* not a file-copy stream, or another version */
    BH_FC_ERR_HEADER,    /* a header field out of range (kind, mode, reserved, times, size) */
    BH_FC_ERR_NAME,      /* a name the rules refuse (the text says which rule) */
    BH_FC_ERR_ORDER,     /* an entry whose folder was not sent before it */
    BH_FC_ERR_TARGET,    /* a symlink target that is absolute or leaves the copied folder */
    BH_FC_ERR_LIMIT,     /* over the entry count, byte count or depth limit */
    BH_FC_ERR_TRUNCATED, /* the stream ended in the middle (the sender stopped or died) */
    BH_FC_ERR_TRAILING,  /* bytes after the end marker */
    BH_FC_ERR_IO,        /* the receiver could not write (disk full, permissions...) */
    BH_FC_ERR_EXISTS,    /* no free name "x (1)".."x (999)" */
    BH_FC_ERR_CANCELLED, /* the receiver was told to stop */
    BH_FC_ERR_USAGE,     /* the receiver was started wrongly (source name, limits) */
    BH_FC_REASON_COUNT,
};

/* ---- The pure decoder ----------------------------------------------------- */

struct bh_fc_limits {
    uint64_t max_entries;
    uint64_t max_bytes;
    /* The stream must be exactly one regular file (bulkhead.OpenInVM and
     * its answer): a folder or a link, a second entry, or an end with no
     * file is refused (BH_FC_ERR_LIMIT). */
    bool one_file;
};

/* What bh_fc_decode hands back, one event at a time. */
enum bh_fc_event {
    BH_FC_EV_MORE,      /* all input used; feed more */
    BH_FC_EV_ENTRY,     /* a checked entry: item.entry, item.name, item.leaf, item.pop, item.target */
    BH_FC_EV_DATA,      /* item.data[0..item.data_len) of the current file */
    BH_FC_EV_FILE_DONE, /* the current file's data is complete */
    BH_FC_EV_END,       /* the end marker: the stream is whole */
    BH_FC_EV_ERROR,     /* item.reason, item.text; the decoder stays in error */
};

struct bh_fc_item {
    struct bh_fc_entry entry; /* checked, host byte order */
    const char *name;         /* NUL-terminated path, valid until the next call */
    const char *leaf;         /* last component of name */
    unsigned depth;           /* components in name minus one: the parent's level */
    unsigned pop;             /* directories the receiver leaves before this entry */
    const char *target;       /* symlink target, NUL-terminated */
    const uint8_t *data;      /* points into the caller's buffer */
    size_t data_len;
    enum bh_fc_reason reason;
    char text[BH_FC_MAX_REASON + 1]; /* the reason in words, naming the entry */
};

/* The decoder's whole state: fixed size, no allocation. */
struct bh_fc_decoder {
    struct bh_fc_limits limits;
    unsigned state;
    size_t have; /* bytes of the current header/name/target */
    uint8_t hdr[sizeof(struct bh_fc_entry)];
    struct bh_fc_entry entry; /* the current entry, checked */
    uint64_t remaining;       /* data bytes left in the current file */
    uint64_t entries;
    uint64_t bytes;
    uint32_t crc;
    char name[BH_FC_MAX_PATH + 1];
    char target[BH_FC_MAX_TARGET + 1];
    /* The directories the stream is in: their path is name[0..dir_end[i]). */
    unsigned dirs;
    uint16_t dir_end[BH_FC_MAX_DEPTH];
    char dir_path[BH_FC_MAX_PATH + 1];
    enum bh_fc_reason reason;
    char text[BH_FC_MAX_REASON + 1];
};

void bh_fc_decoder_init(struct bh_fc_decoder *d, const struct bh_fc_limits *limits);
/* Consumes bytes from buf[0..len) (*used says how many) up to the next
 * event. Call again with the rest until it returns BH_FC_EV_MORE. */
enum bh_fc_event bh_fc_decode(struct bh_fc_decoder *d, const uint8_t *buf, size_t len, size_t *used,
                              struct bh_fc_item *item);
/* The stream ended (EOF): BH_FC_EV_END if the end marker was seen, else an
 * error naming the entry it stopped in. */
enum bh_fc_event bh_fc_decode_eof(struct bh_fc_decoder *d, struct bh_fc_item *item);
/* The name of the entry being decoded (or the last one), "" before any. */
const char *bh_fc_decoder_current(const struct bh_fc_decoder *d);
uint32_t bh_fc_decoder_checksum(const struct bh_fc_decoder *d);

/* ---- Rules, also used by the sender before it sends ------------------------- */

/* 0 when name[0..len) is a path the receiver accepts: relative, 1..
 * BH_FC_MAX_PATH bytes, components 1..BH_FC_MAX_COMPONENT bytes, no empty,
 * "." or ".." component, valid UTF-8 without control, bidi or invisible
 * characters. Else a reason code, the rule in words in why[0..cap). */
enum bh_fc_reason bh_fc_check_name(const char *name, size_t len, char *why, size_t cap);
/* 0 when a symlink at depth `depth` (0 = directly in the incoming folder)
 * with this target stays inside the copied folder: relative, "../" only as
 * a leading run that never climbs to the incoming folder, then plain names. */
enum bh_fc_reason bh_fc_check_target(unsigned depth, const char *target, size_t len, char *why, size_t cap);

/* ---- Encoding (sender) and the status ------------------------------------------ */

void bh_fc_entry_encode(const struct bh_fc_entry *e, uint8_t out[sizeof(struct bh_fc_entry)]);
/* Writes the status with its name and reason; returns its length or 0 if
 * cap is too small (cap >= sizeof(struct bh_fc_status) + BH_FC_MAX_PATH +
 * BH_FC_MAX_REASON always suffices). */
size_t bh_fc_status_encode(uint8_t *out, size_t cap, enum bh_fc_reason code, uint32_t checksum,
                           const char *name, const char *reason);
/* A status as the sender reads it, checked: fixed part, then the name and
 * reason (sanitised text). Returns 1 when complete (*used bytes), 0 when
 * more is needed, -1 when the bytes are no status (why says what). */
struct bh_fc_status_msg {
    enum bh_fc_reason code;
    uint32_t checksum;
    char name[BH_FC_MAX_PATH + 1];
    char reason[BH_FC_MAX_REASON + 1];
};
int bh_fc_status_decode(const uint8_t *buf, size_t len, size_t *used, struct bh_fc_status_msg *msg, char *why,
                        size_t cap);

/* s as a person may read it in a message: valid visible characters kept,
 * every other byte as \\xNN (so a name cannot break or reorder a line). */
void bh_fc_quote(char *out, size_t cap, const char *s);

/* CRC-32C (Castagnoli), continued from crc (start with 0). */
uint32_t bh_fc_crc32c(uint32_t crc, const void *buf, size_t len);
const char *bh_fc_reason_name(enum bh_fc_reason r);

/* ---- Open a link (bulkhead.OpenURL, docs/filecopy.md "Open a link") -------- */

/* The caller sends one line: the URL and '\n', then nothing. */
#define BH_URL_MAX 4096u
/* untrusted[0..len) is the service's whole stdin. 0 when it is one allowed
 * URL and a newline: the URL, NUL-terminated, in out[BH_URL_MAX + 1]; else
 * -1 and *why says why in words (a constant string). A URL: a scheme of
 * the allow-list (http, https, ftp, mailto; case-insensitive), ':', then
 * only the characters RFC 3986 allows (printable ASCII without space,
 * quotes, '<', '>', '\\', '^', '`', '{', '|', '}'), '%' only before two hex
 * digits, 1..BH_URL_MAX bytes in all; http, https and ftp need "//" and a
 * host, mailto an address. So no control character, no newline, no leading
 * '-' (a scheme starts with a letter), no file: or javascript:. */
int bh_url_decode(const uint8_t *untrusted, size_t len, char out[BH_URL_MAX + 1], const char **why);
/* The same rules on a URL alone (no newline): what the caller checks
 * before it asks dom0. */
int bh_url_check(const char *url, size_t len, const char **why);

#endif /* BULKHEAD_FILECOPY_H */
