/* util.h — small helpers shared by the files of core/vchan.
 *
 * Owns: error-path plumbing only.
 * Must never: grow logic of its own, or be included outside core/vchan. */
#ifndef BH_VCHAN_UTIL_H
#define BH_VCHAN_UTIL_H

#include <errno.h>
#include <unistd.h>

/* Error paths close what they opened and still report the errno of the call
 * that failed. */
static inline void bh_close_keep_errno(int fd)
{
    int saved = errno;

    if (fd >= 0)
        close(fd);
    errno = saved;
}

#endif /* BH_VCHAN_UTIL_H */
