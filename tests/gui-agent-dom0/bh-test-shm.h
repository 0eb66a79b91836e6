/* bh-test-shm.h — what Debian's weston-simple-shm draws, for tests that check
 * its frames as dom0 sees them (tests/integration/agent-shm.c over the
 * socket transport, tests/xen/xen-dom0-test.c over Xen grant pages).
 *
 * simple-shm's 250x250 window is a pure function of the frame time its
 * frame callback was given: white 20-pixel padding, three concentric
 * regions whose colours move with t/16. The time is recovered from one
 * pixel, then all 62 500 are compared.
 *
 * Owns: nothing. Must never: accept a frame that differs in any pixel. */
#ifndef BH_TEST_SHM_H
#define BH_TEST_SHM_H

#include <stdbool.h>
#include <stdint.h>

#include "bh-test-dom0.h"

#define BH_TSHM_SIZE 250 /* simple-shm's window, both dimensions */
#define BH_TSHM_PAD  20  /* its white padding; later frames damage inside it */

/* The window holds exactly one of simple-shm's frames (alpha shown opaque);
 * its frame time / 16 goes to *t16_out. */
bool bh_tshm_check_frame(const struct bh_tdom0_win *w, uint32_t *t16_out);
/* A few sample pixels per row band on stderr, for a failing test. */
void bh_tshm_dump(const struct bh_tdom0_win *w);

#endif /* BH_TEST_SHM_H */
