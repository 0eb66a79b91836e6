/* volume-leftovers.c — see volume-leftovers.h. */
#define G_LOG_DOMAIN "bh-backend"

#include "volume-leftovers.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/error.h>

#include "sandbox-fsops.h"

/* "20261207T230000Z": what g_date_time_format gives for the set-aside time. */
#define BH_LEFTOVER_STAMP_LEN 16

gboolean bh_volume_set_aside(const char *qube_dir, char **moved_to, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(qube_dir);
    g_autofree char *name = g_path_get_basename(qube_dir);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
    g_autoptr(GError) local = NULL;
    struct stat st;
    gboolean ok = FALSE;
    *moved_to = NULL;
    int parent = bh_fs_open_dir_path(dir, &local);
    if (parent < 0) {
        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        ok = errno == ENOENT;
        if (!ok)
            bh_error_errno(error, errno, "cannot look at %s", qube_dir);
        goto out;
    }
    /* Two leftovers of one name within a second get a counter; a hundred
     * is not a crash's leftover any more. */
    for (int i = 0; i < 100 && !ok; i++) {
        g_autofree char *aside = i == 0 ? g_strdup_printf(BH_LEFTOVER_PREFIX "%s-%s", name, stamp)
                                        : g_strdup_printf(BH_LEFTOVER_PREFIX "%s-%s-%d", name, stamp, i);
        if (renameat2(parent, name, parent, aside, RENAME_NOREPLACE) == 0) {
            g_message("[%s] the volumes an earlier qube of this name left were moved aside to %s, not reused",
                      name, aside);
            *moved_to = g_steal_pointer(&aside);
            ok = TRUE;
        } else if (errno != EEXIST) {
            bh_error_errno(error, errno, "cannot move %s aside", qube_dir);
            goto out;
        }
    }
    if (!ok)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "%s is left from an earlier qube and cannot be moved aside: move or remove it", qube_dir);
out:
    close(parent);
    return ok;
}

void bh_leftover_free(BhLeftover *leftover)
{
    if (leftover == NULL)
        return;
    g_free(leftover->name);
    g_free(leftover->qube);
    g_free(leftover->when);
    g_free(leftover);
}

static gboolean bh_all_digits(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
    return n > 0;
}

BhLeftover *bh_leftover_parse(const char *name)
{
    gsize len = strlen(name);
    if (!g_str_has_prefix(name, BH_LEFTOVER_PREFIX) || len > BH_LEFTOVER_NAME_MAX || strchr(name, '/'))
        return NULL;
    const char *qube = name + strlen(BH_LEFTOVER_PREFIX);
    /* The stamp is the last "-YYYYMMDDTHHMMSSZ", perhaps with "-<n>" after it
     * (a qube's own name may hold dashes). */
    const char *end = name + len;
    const char *dash = strrchr(qube, '-');
    if (dash != NULL && dash > qube && bh_all_digits(dash + 1, (gsize)(end - dash - 1)) &&
        (gsize)(end - dash - 1) <= 2)
        end = dash;
    const char *stamp = end - BH_LEFTOVER_STAMP_LEN;
    if (stamp - 1 <= qube || stamp[-1] != '-' || !bh_all_digits(stamp, 8) || stamp[8] != 'T' ||
        !bh_all_digits(stamp + 9, 6) || stamp[15] != 'Z')
        return NULL;
    /* A qube name's characters only: the list reaches terminals. */
    for (const char *c = qube; c < stamp - 1; c++)
        if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.')
            return NULL;
    BhLeftover *leftover = g_new0(BhLeftover, 1);
    leftover->name = g_strdup(name);
    leftover->qube = g_strndup(qube, (gsize)(stamp - 1 - qube));
    leftover->when = g_strdup_printf("%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", stamp, stamp + 4, stamp + 6, stamp + 9,
                                     stamp + 11, stamp + 13);
    return leftover;
}

static gint bh_leftover_cmp(gconstpointer a, gconstpointer b)
{
    const BhLeftover *x = *(BhLeftover *const *)a, *y = *(BhLeftover *const *)b;
    return strcmp(x->name, y->name);
}

GPtrArray *bh_volume_leftovers(const char *qubes_dir, GError **error)
{
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)bh_leftover_free);
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) dir = g_dir_open(qubes_dir, 0, &local);
    if (dir == NULL) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return list;
        g_propagate_error(error, g_steal_pointer(&local));
        g_ptr_array_unref(list);
        return NULL;
    }
    for (const char *e; (e = g_dir_read_name(dir)) != NULL;) {
        BhLeftover *leftover = bh_leftover_parse(e);
        if (leftover != NULL)
            g_ptr_array_add(list, leftover);
    }
    g_ptr_array_sort(list, bh_leftover_cmp);
    return list;
}

gboolean bh_volume_leftover_remove(const char *qubes_dir, const char *name, GError **error)
{
    g_autoptr(BhLeftover) leftover = bh_leftover_parse(name);
    if (leftover == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s is not a set-aside leftover (its name starts with " BH_LEFTOVER_PREFIX
                    " and ends with the time it was set aside)",
                    name);
        return FALSE;
    }
    int parent = bh_fs_open_dir_path(qubes_dir, error);
    if (parent < 0)
        return FALSE;
    struct stat st;
    gboolean ok = fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!ok)
        bh_error_errno(error, errno, "cannot find the leftover %s", name);
    else
        ok = bh_fs_remove_at(parent, name, error);
    close(parent);
    return ok;
}
