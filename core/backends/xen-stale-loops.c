/* xen-stale-loops.c — loop devices left on the xen backend's images (see
 * xen-stale-loops.h).
 *
 * Owns reading /sys/block/loop*, dom0's disk back-end nodes in xenstore and
 * detaching what neither a back-end nor another program owns. Must never:
 * detach a device a back-end names, or one whose file is not below the
 * given directory.
 */
#define G_LOG_DOMAIN "bh-xen"

#include "xen-stale-loops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xenstore.h>

#include <bulkhead/error.h>

/* bulkhead-xen-block's lock: held from its sharing check to its node. */
#define BH_XEN_BLOCK_LOCK "/run/bulkhead-xen-block.lock"

void bh_xen_stale_loop_free(BhXenStaleLoop *loop)
{
    if (loop == NULL)
        return;
    g_free(loop->device);
    g_free(loop->file);
    g_free(loop);
}

/* "loop" and digits only: a name of sysfs, but a path is built from it. */
static gboolean bh_xen_is_loop_name(const char *name)
{
    if (!g_str_has_prefix(name, "loop") || name[4] == '\0')
        return FALSE;
    for (const char *p = name + 4; *p; p++)
        if (!g_ascii_isdigit(*p))
            return FALSE;
    return TRUE;
}

char *bh_xen_loop_backing_file(const char *sys_block, const char *name)
{
    if (!bh_xen_is_loop_name(name))
        return NULL;
    g_autofree char *path = g_build_filename(sys_block, name, "loop", "backing_file", NULL);
    char *file = NULL;
    if (!g_file_get_contents(path, &file, NULL, NULL))
        return NULL; /* not attached */
    return g_strchomp(file);
}

GPtrArray *bh_xen_stale_loops_find(const char *sys_block, const char *dir, GHashTable *named)
{
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)bh_xen_stale_loop_free);
    g_autoptr(GDir) d = g_dir_open(sys_block, 0, NULL);
    if (d == NULL)
        return found;
    g_autofree char *prefix = g_str_has_suffix(dir, "/") ? g_strdup(dir) : g_strconcat(dir, "/", NULL);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *file = bh_xen_loop_backing_file(sys_block, name);
        if (file == NULL)
            continue;
        if (g_str_has_suffix(file, " (deleted)"))
            file[strlen(file) - strlen(" (deleted)")] = '\0';
        if (!g_str_has_prefix(file, prefix))
            continue;
        g_autofree char *device = g_strconcat("/dev/", name, NULL);
        if (named && g_hash_table_contains(named, device))
            continue;
        BhXenStaleLoop *loop = g_new0(BhXenStaleLoop, 1);
        loop->device = g_steal_pointer(&device);
        loop->file = g_steal_pointer(&file);
        g_ptr_array_add(found, loop);
    }
    return found;
}

GHashTable *bh_xen_backend_nodes(GError **error)
{
    const char *root = "/local/domain/0/backend/vbd";
    GHashTable *nodes = NULL;
    struct xs_handle *xs = xs_open(XS_OPEN_READONLY);
    char **domains = NULL;
    unsigned int n_domains = 0;

    if (xs == NULL) {
        bh_error_errno(error, errno, "cannot open xenstore");
        goto out;
    }
    domains = xs_directory(xs, XBT_NULL, root, &n_domains);
    if (domains == NULL && errno != ENOENT) {
        bh_error_errno(error, errno, "cannot list %s", root);
        goto out;
    }
    nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (unsigned int i = 0; i < n_domains; i++) {
        g_autofree char *dom = g_strdup_printf("%s/%s", root, domains[i]);
        unsigned int n_devs = 0;
        char **devs = xs_directory(xs, XBT_NULL, dom, &n_devs);
        for (unsigned int j = 0; j < n_devs; j++) {
            g_autofree char *key = g_strdup_printf("%s/%s/node", dom, devs[j]);
            unsigned int len = 0;
            char *node = xs_read(xs, XBT_NULL, key, &len);
            if (node)
                g_hash_table_add(nodes, g_strndup(node, len));
            free(node);
        }
        free(devs);
    }
out:
    free(domains);
    if (xs)
        xs_close(xs);
    return nodes;
}

/* The block script's lock, tried for about 5 s: its holder is a script
 * between its check and its node, which takes seconds under emulation. */
static int bh_xen_take_block_lock(void)
{
    int fd = open(BH_XEN_BLOCK_LOCK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    for (int i = 0; i < 50; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        g_usleep(100 * 1000);
    }
    close(fd);
    return -1;
}

guint bh_xen_stale_loops_detach(const char *dir, gboolean lock, const char *why)
{
    guint detached = 0;
    int lock_fd = -1;
    g_autofree char *real = realpath(dir, NULL);
    g_autoptr(GHashTable) named = NULL;
    g_autoptr(GPtrArray) stale = NULL;
    g_autoptr(GError) error = NULL;

    if (real == NULL)
        goto out; /* no images (yet): nothing can be attached to them */
    if (lock && (lock_fd = bh_xen_take_block_lock()) < 0) {
        g_message("stale loop devices not checked %s: a disk hotplug script holds %s", why,
                  BH_XEN_BLOCK_LOCK);
        goto out;
    }
    named = bh_xen_backend_nodes(&error);
    if (named == NULL) {
        g_message("stale loop devices not checked %s: %s", why, error->message);
        goto out;
    }
    stale = bh_xen_stale_loops_find("/sys/block", real, named);
    for (guint i = 0; i < stale->len; i++) {
        BhXenStaleLoop *loop = g_ptr_array_index(stale, i);
        int fd = open(loop->device, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ioctl(fd, LOOP_CLR_FD, 0) < 0) {
            g_message("cannot detach %s (on %s, which no disk back-end names) %s: %s", loop->device,
                      loop->file, why, g_strerror(errno));
        } else {
            g_message("detached %s %s: it was left on %s by a disk hotplug script that was stopped",
                      loop->device, why, loop->file);
            detached++;
        }
        if (fd >= 0)
            close(fd);
    }
out:
    if (lock_fd >= 0)
        close(lock_fd);
    return detached;
}
