/* policy-load.c — which files make the policy, in which order (policy.h).
 *
 * Owns: the directories a default installation reads, the listing of
 * `*.policy` files, their one name order, and reading each with the caps.
 * Must never: follow anything but a regular file, read more than
 * BH_POLICY_FILE_MAX + 1 bytes of one, block on a FIFO, or skip a file that
 * cannot be read without recording why (a missing rule could be a deny). */
#include "policy-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static gboolean bh_policy_running_from_build_tree(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *build = g_canonicalize_filename(BH_BUILD_ROOT, "/");
    g_autofree char *prefix = g_strconcat(build, "/", NULL);
    return exe && g_str_has_prefix(exe, prefix);
}

char **bh_policy_default_dirs(void)
{
    const char *env = g_getenv("BH_POLICY_SYSTEM_DIR");
    char **dirs = g_new0(char *, 3);

    if (env && *env)
        dirs[0] = g_strdup(env);
    else if (bh_policy_running_from_build_tree())
        dirs[0] = g_strdup(BH_SOURCE_ROOT "/core/policy/policy.d");
    else
        dirs[0] = g_strdup(BH_DATADIR "/policy.d");
    dirs[1] = g_build_filename(g_get_user_config_dir(), "bulkhead", "policy.d", NULL);
    return dirs;
}

/* Reads path into a buffer of at most BH_POLICY_FILE_MAX + 1 bytes (one more
 * than allowed, so the parser can say "too large"). NULL with *what set. */
static char *bh_policy_read(const char *path, gsize *len, char **what)
{
    int fd = -1;
    char *buf = NULL;
    struct stat st;
    gsize got = 0;

    /* O_NONBLOCK: a FIFO named *.policy must not hang the daemon's start. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        *what = g_strdup_printf("cannot open: %s", g_strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *what = g_strdup("not a regular file");
        goto out;
    }
    buf = g_malloc(BH_POLICY_FILE_MAX + 1);
    while (got < BH_POLICY_FILE_MAX + 1) {
        ssize_t n = read(fd, buf + got, BH_POLICY_FILE_MAX + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *what = g_strdup_printf("cannot read: %s", g_strerror(errno));
            g_clear_pointer(&buf, g_free);
            goto out;
        }
        if (n == 0)
            break;
        got += (gsize)n;
    }
    *len = got;
out:
    if (fd >= 0)
        close(fd);
    return buf;
}

static int bh_policy_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

BhPolicy *bh_policy_load_dirs(const char *const *dirs)
{
    BhPolicy *policy = bh_policy_new();
    /* name -> path: a later directory's file replaces an earlier one's. */
    g_autoptr(GHashTable) files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new();

    gboolean full = FALSE;

    for (gsize d = 0; dirs && dirs[d] && !full; d++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = g_dir_open(dirs[d], 0, &error);
        const char *name;
        if (dir == NULL) {
            if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                bh_policy_add_file_error(policy, dirs[d], error->message);
            continue;
        }
        while ((name = g_dir_read_name(dir))) {
            /* Editors' backups and other files are not policy; a name that
             * looks like policy but breaks the rules is an error (the parser
             * says so) rather than a rule silently left out. */
            if (!g_str_has_suffix(name, ".policy") || name[0] == '.')
                continue;
            if (!g_hash_table_contains(files, name) && g_hash_table_size(files) >= BH_POLICY_FILES_MAX) {
                g_autofree char *what = g_strdup_printf("more than %u policy files", BH_POLICY_FILES_MAX);
                bh_policy_add_file_error(policy, dirs[d], what);
                full = TRUE;
                break;
            }
            g_hash_table_insert(files, g_strdup(name), g_build_filename(dirs[d], name, NULL));
        }
    }

    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, files);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(names, key);
    /* strcmp is the C locale's order, whatever the caller's locale. */
    g_ptr_array_sort(names, bh_policy_name_cmp);

    for (guint i = 0; i < names->len; i++) {
        const char *path = g_hash_table_lookup(files, names->pdata[i]);
        g_autofree char *what = NULL;
        gsize len = 0;
        g_autofree char *data = bh_policy_read(path, &len, &what);
        if (data == NULL)
            bh_policy_add_file_error(policy, path, what);
        else
            bh_policy_add_file(policy, path, names->pdata[i], data, len);
    }
    return policy;
}
