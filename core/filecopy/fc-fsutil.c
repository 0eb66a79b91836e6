/* fc-fsutil.c — small helpers of the sender and the receiver: a string
 * array, removal of a tree relative to a directory fd, the qube-name rule.
 *
 * Must never: follow a symbolic link, or touch anything outside the folder
 * fd it is given. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fc-private.h"

/* Deeper than any tree the receiver makes (BH_FC_MAX_DEPTH); what another
 * program of the qube nested further stays. */
#define REMOVE_MAX_LEVEL (BH_FC_MAX_DEPTH + 8u)

bool fc_strv_push(char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **nv = realloc(*v, ncap * sizeof *nv);
        if (!nv)
            return false;
        *v = nv;
        *cap = ncap;
    }
    char *copy = strdup(s);
    if (!copy)
        return false;
    (*v)[(*n)++] = copy;
    return true;
}

void fc_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void fc_remove_at(int parent, const char *name, unsigned level)
{
    if (unlinkat(parent, name, 0) == 0 || level > REMOVE_MAX_LEVEL)
        return;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        fc_remove_at(dirfd(d), de->d_name, level + 1);
    }
    closedir(d);
    unlinkat(parent, name, AT_REMOVEDIR);
}

bool fc_qube_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 31)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return false;
    }
    return strcmp(s, "dom0") != 0 && strcmp(s, "none") != 0 && strcmp(s, "default") != 0;
}

int fc_open_folder(int parent, const char *name)
{
    if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST)
        return -1;
    return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

void fc_sweep_stale(int dir)
{
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *dot = strrchr(de->d_name, '.');
        char *end;
        if (!dot || dot == de->d_name)
            continue;
        long pid = strtol(dot + 1, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != ESRCH) || kill((pid_t)pid, 0) == 0)
            continue;
        fc_remove_at(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

int fc_single_file(int dir, char *name, size_t cap)
{
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int found = 0, rc = -1;
    bool regular = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (++found > 1 || strlen(e->d_name) >= cap)
            break;
        regular = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
        memcpy(name, e->d_name, strlen(e->d_name) + 1);
    }
    if (e == NULL && found == 0)
        rc = 1;
    else if (e == NULL && found == 1 && regular)
        rc = 0;
    closedir(d);
    return rc;
}
