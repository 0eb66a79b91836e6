/* bh-state-lock.c — see bh-state-lock.h. */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-state-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <bulkhead/error.h>

struct BhStateLock {
    int fd;
    char *path;
};

/* The pid the holder wrote, or 0 when unreadable (it may be mid-write). */
static long bh_state_lock_read_pid(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    char *end = NULL;
    long pid = strtol(buf, &end, 10);
    return (end != buf && pid > 0) ? pid : 0;
}

BhStateLock *bh_state_lock_acquire(const char *dir, GError **error)
{
    g_autofree char *path = NULL;
    BhStateLock *lock = NULL;
    int fd = -1;

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int e = errno;
        bh_error_errno(error, e, "cannot create state directory %s", dir);
        goto out;
    }
    path = g_build_filename(dir, "bulkheadd.lock", NULL);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        bh_error_errno(error, e, "cannot open lock file %s", path);
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            long pid = bh_state_lock_read_pid(fd);
            g_autofree char *who =
                pid > 0 ? g_strdup_printf("another bulkheadd (pid %ld)", pid) : g_strdup("another bulkheadd");
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                        "state directory %s is in use by %s; stop it first, or give this one "
                        "another --state-dir",
                        dir, who);
        } else {
            bh_error_errno(error, e, "cannot lock %s", path);
        }
        goto out;
    }

    char pidbuf[32];
    int len = snprintf(pidbuf, sizeof pidbuf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pidbuf, (size_t)len, 0) != len)
        g_warning("cannot record our pid in %s: %s", path, g_strerror(errno));

    lock = g_new0(BhStateLock, 1);
    lock->fd = fd;
    lock->path = g_steal_pointer(&path);
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return lock;
}

void bh_state_lock_release(BhStateLock *lock)
{
    if (lock == NULL)
        return;
    /* Clear the pid before unlocking so no one reads ours after we are gone. */
    if (ftruncate(lock->fd, 0) < 0)
        g_debug("cannot clear %s: %s", lock->path, g_strerror(errno));
    close(lock->fd);
    g_free(lock->path);
    g_free(lock);
}
