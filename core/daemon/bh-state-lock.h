/* bh-state-lock.h — one bulkheadd per state directory.
 *
 * Owns the lock file <state-dir>/bulkheadd.lock: an flock held for the
 * daemon's lifetime (the kernel drops it when the process dies, even by
 * SIGKILL, so a crash never leaves a stale lock) with the holder's pid
 * written inside for the message a second daemon prints. It must never
 * delete the lock file: unlinking it would let two daemons lock two inodes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct BhStateLock BhStateLock;

/* Creates dir (0700) if missing and locks it. Fails with G_IO_ERROR_BUSY and
 * a message naming the other daemon's pid when one holds it. */
BhStateLock *bh_state_lock_acquire(const char *dir, GError **error);
void bh_state_lock_release(BhStateLock *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhStateLock, bh_state_lock_release)

G_END_DECLS
