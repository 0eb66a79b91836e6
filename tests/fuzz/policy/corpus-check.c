/* corpus-check.c — holds the seed corpus to its file names: every "valid-*"
 * file must parse with no problem and at least one rule, every "invalid-*"
 * file must have a problem. Other names (inputs the fuzzer found) are only
 * replayed. Usage: corpus-check DIR; TAP output, one test per checked file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define CHECK_MAX_INPUT (1u << 20)

static int check(const char *dir, const char *name, unsigned *n)
{
    char path[4096];
    uint8_t *buf = NULL;
    FILE *f = NULL;
    size_t len = 0;
    struct bh_fuzz_policy_result res = {0};
    int rc = -1;
    int valid = strncmp(name, "valid-", 6) == 0;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    buf = malloc(CHECK_MAX_INPUT);
    f = fopen(path, "rb");
    if (!buf || !f)
        goto out;
    len = fread(buf, 1, CHECK_MAX_INPUT, f);
    bh_fuzz_policy_run(buf, len, &res);
    rc = valid ? (res.errors == 0 && res.rules > 0 ? 0 : -1) : (res.errors > 0 ? 0 : -1);
out:
    printf("%s %u - %s (%u rules, %u problems)\n", rc == 0 ? "ok" : "not ok", ++*n, name, res.rules,
           res.errors);
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned n = 0, failed = 0, valid = 0, invalid = 0;
    struct dirent *e;
    DIR *d;

    if (argc != 2 || !(d = opendir(argv[1]))) {
        printf("1..1\nnot ok 1 - usage: corpus-check DIR (a readable corpus directory)\n");
        return 1;
    }
    printf("TAP version 13\n");
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "valid-", 6) == 0)
            valid++;
        else if (strncmp(e->d_name, "invalid-", 8) == 0)
            invalid++;
        else
            continue;
        failed += check(argv[1], e->d_name, &n) != 0;
    }
    closedir(d);
    /* A corpus without both kinds proves nothing about the names. */
    if (valid == 0 || invalid == 0) {
        printf("not ok %u - the corpus needs valid-* and invalid-* files (%u, %u)\n", ++n, valid, invalid);
        failed++;
    }
    printf("1..%u\n", n);
    return failed ? 1 : 0;
}
