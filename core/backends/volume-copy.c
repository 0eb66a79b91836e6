/* volume-copy.c — see volume-copy.h. */
#define G_LOG_DOMAIN "bh-backend"

#include "volume-copy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "backend.h"

static gboolean bh_volume_fail(GError **error, int e, const char *what, const char *path)
{
    return bh_error_errno(error, e, "cannot %s %s", what, path);
}

gboolean bh_volume_copy_sparse(const char *src, const char *dst, GError **error)
{
    gboolean ok = FALSE;
    int in = -1, out = -1;
    g_autofree char *tmp = g_strconcat(dst, ".new", NULL);
    struct stat st;

    in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
        bh_volume_fail(error, in < 0 ? errno : EINVAL, "read the volume", src);
        goto out;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        bh_volume_fail(error, errno, "create", tmp);
        goto out;
    }
    /* A filesystem that shares blocks copies nothing at all. */
    if (ioctl(out, FICLONE, in) < 0) {
        for (off_t pos = 0; pos < st.st_size;) {
            off_t data = lseek(in, pos, SEEK_DATA);
            if (data < 0 && errno == ENXIO)
                break; /* only a hole is left */
            off_t hole = data < 0 ? -1 : lseek(in, data, SEEK_HOLE);
            if (data < 0 || hole < 0) {
                bh_volume_fail(error, errno, "read", src);
                goto out;
            }
            for (loff_t o_in = data, o_out = data; o_in < hole;) {
                ssize_t n = copy_file_range(in, &o_in, out, &o_out, (size_t)(hole - o_in), 0);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    bh_volume_fail(error, n < 0 ? errno : EIO, "copy into", tmp);
                    goto out;
                }
            }
            pos = hole;
        }
        if (ftruncate(out, st.st_size) < 0) {
            bh_volume_fail(error, errno, "size", tmp);
            goto out;
        }
    }
    if (fsync(out) < 0 || rename(tmp, dst) < 0) {
        bh_volume_fail(error, errno, "write", dst);
        goto out;
    }
    ok = TRUE;
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (!ok)
        unlink(tmp);
    return ok;
}
