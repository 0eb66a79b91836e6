/* store-helper.c — a separate process that writes to a store, for the tests
 * that must kill a writer (SIGKILL mid-transaction) or run two at once.
 *   bh-store-helper crash STORE FIRST     apply steps FIRST, FIRST+1, … for
 *       ever; after each COMMIT returns, write "<step>\n" to stdout in one
 *       write(2), so a reported step is one the store acknowledged.
 *   bh-store-helper create STORE PREFIX N create AppVMs PREFIX0 … PREFIX<N-1>.
 * Exit status 0 on success; errors go to stderr. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int crash(const char *path, int first)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhStore) s = bh_store_open(path, &error);
    char line[32];
    BhStep step;
    int i, len;

    if (s == NULL) {
        fprintf(stderr, "bh-store-helper: %s\n", error->message);
        return 1;
    }
    for (i = first;; i++) {
        bh_test_crash_step(i, &step);
        if (!bh_test_crash_apply(s, &step, &error)) {
            fprintf(stderr, "bh-store-helper: step %d: %s\n", i, error->message);
            return 1;
        }
        len = g_snprintf(line, sizeof line, "%d\n", i);
        if (write(STDOUT_FILENO, line, (size_t)len) != len)
            return 1;
    }
}

static int create(const char *path, const char *prefix, int n)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhStore) s = bh_store_open(path, &error);
    int i;

    if (s == NULL) {
        fprintf(stderr, "bh-store-helper: %s\n", error->message);
        return 1;
    }
    for (i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("%s%d", prefix, i);
        if (bh_store_create_qube(s, BH_CLASS_APP_VM, name, "green", NULL, NULL, &error) < 0) {
            fprintf(stderr, "bh-store-helper: creating %s: %s\n", name, error->message);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "crash") == 0)
        return crash(argv[2], atoi(argv[3]));
    if (argc == 5 && strcmp(argv[1], "create") == 0)
        return create(argv[2], argv[3], atoi(argv[4]));
    fprintf(stderr, "usage: bh-store-helper crash STORE FIRST | create STORE PREFIX N\n");
    return 2;
}
