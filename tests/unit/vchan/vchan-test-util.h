/* vchan-test-util.h — helpers shared by the vchan and winbuf tests: a
 * private socket directory per test case, descriptor counting, reproducible
 * pseudo-random streams.
 *
 * Owns: test scaffolding only.
 * Must never: be linked into the product. */
#ifndef BH_VCHAN_TEST_UTIL_H
#define BH_VCHAN_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh directory (mode 0700) holding `vchan/`, exported as BH_VCHAN_DIR
 * (with BH_VCHAN_TRANSPORT=socket, BH_VCHAN_DOMID unset). */
typedef struct {
    char *tmp; /* the temporary directory */
    char *dir; /* tmp/vchan, not created: the library creates it */
} BhVchanFixture;

void bh_test_fixture_setup(BhVchanFixture *f, const void *data);
void bh_test_fixture_teardown(BhVchanFixture *f, const void *data);

/* Removes a tree, resetting modes first so tests may leave it locked. */
void bh_test_rm_rf(const char *path);

/* Open descriptors of this process. */
unsigned bh_test_count_fds(void);
bool bh_test_fd_is_open(int fd);

/* A byte stream determined by its seed, produced in pieces of any size. */
typedef struct {
    uint64_t seed;
    uint64_t pos;
} BhTestStream;

void bh_test_stream_fill(BhTestStream *s, void *buf, size_t n);

/* xorshift64*: reproducible sizes from a seed taken from g_test_rand_int. */
uint64_t bh_test_rand(uint64_t *state);
/* Uniform-ish in [lo, hi]. */
size_t bh_test_rand_range(uint64_t *state, size_t lo, size_t hi);

#endif /* BH_VCHAN_TEST_UTIL_H */
