/* vchan-test-util.c — see vchan-test-util.h. */
#include "vchan-test-util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bh_test_fixture_setup(BhVchanFixture *f, const void *data)
{
    g_autoptr(GError) err = NULL;

    f->tmp = g_dir_make_tmp("bh-vchan-XXXXXX", &err);
    g_assert_no_error(err);
    f->dir = g_build_filename(f->tmp, "vchan", NULL);
    g_setenv("BH_VCHAN_DIR", f->dir, TRUE);
    g_setenv("BH_VCHAN_TRANSPORT", "socket", TRUE);
    g_unsetenv("BH_VCHAN_DOMID");
}

void bh_test_fixture_teardown(BhVchanFixture *f, const void *data)
{
    bh_test_rm_rf(f->tmp);
    g_unsetenv("BH_VCHAN_DIR");
    g_free(f->dir);
    g_free(f->tmp);
}

static int unlock_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (flag == FTW_D || flag == FTW_DNR || flag == FTW_DP)
        chmod(path, 0700);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

void bh_test_rm_rf(const char *path)
{
    if (!path)
        return;
    /* Pre-order first so that locked directories can be entered. */
    chmod(path, 0700);
    nftw(path, unlock_one, 16, FTW_PHYS);
    nftw(path, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}

unsigned bh_test_count_fds(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    g_assert_nonnull(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

bool bh_test_fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser: every word of the stream differs. */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void bh_test_stream_fill(BhTestStream *s, void *buf, size_t n)
{
    unsigned char *p = buf;

    while (n > 0) {
        uint64_t w = mix(s->seed ^ (s->pos >> 3));
        unsigned off = (unsigned)(s->pos & 7);
        if (off == 0 && n >= 8) {
            memcpy(p, &w, 8);
            p += 8;
            n -= 8;
            s->pos += 8;
            continue;
        }
        *p++ = (unsigned char)(w >> (off * 8));
        n--;
        s->pos++;
    }
}

uint64_t bh_test_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x2545f4914f6cdd1dull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

size_t bh_test_rand_range(uint64_t *state, size_t lo, size_t hi)
{
    return lo + (size_t)(bh_test_rand(state) % (uint64_t)(hi - lo + 1));
}
