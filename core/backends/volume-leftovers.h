/* volume-leftovers.h — what dead qubes left in <state>/qubes/, shared by the
 * sandbox and xen backends and by bulkheadd.
 *
 * Owns the set-aside of a directory found in a new qube's place (a crash
 * between a clone's rename and its completion, a removal that failed) and
 * the list and removal of what was set aside. Must never remove anything
 * but a set-aside directory, and only when the user asks: it may hold the
 * only copy of a user's files.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The prefix of a set-aside directory: .orphan-<qube>-<UTC time>[-<n>]. */
#define BH_LEFTOVER_PREFIX ".orphan-"
/* A leftover's name is a qube name (31 at most), a prefix and a time. */
#define BH_LEFTOVER_NAME_MAX 80

/* A new qube never gets what an earlier one of its name left: qube_dir, if
 * it exists, is renamed to .orphan-<name>-<UTC time> beside it (a counter
 * on collision), kept rather than removed, and the move is logged.
 * moved_to gets that name (NULL when there was nothing). */
gboolean bh_volume_set_aside(const char *qube_dir, char **moved_to, GError **error);

typedef struct {
    char *name; /* the directory in qubes/: .orphan-work-20261207T230000Z */
    char *qube; /* the qube whose place it took: work */
    char *when; /* when it was set aside, ISO 8601 UTC: 2026-12-07T23:00:00Z */
} BhLeftover;

void bh_leftover_free(BhLeftover *leftover);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BhLeftover, bh_leftover_free)

/* Parses a set-aside directory's name; NULL for anything else. */
BhLeftover *bh_leftover_parse(const char *name);

/* What is set aside in qubes_dir, sorted by name (a missing qubes_dir has
 * none); a GPtrArray of BhLeftover. */
GPtrArray *bh_volume_leftovers(const char *qubes_dir, GError **error);

/* Removes one set-aside directory of qubes_dir, whole. Anything but a
 * leftover's name (a qube's own directory, a path) is refused. */
gboolean bh_volume_leftover_remove(const char *qubes_dir, const char *name, GError **error);

G_END_DECLS
