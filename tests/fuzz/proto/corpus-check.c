/* corpus-check.c — holds the seed corpus to its file names: every
 * "valid-*" file must decode completely with no violation, every
 * "short-*" file must decode up to a message it cuts short, and every
 * "invalid-*" file must be rejected. Other names (inputs the fuzzer found)
 * are only replayed. Without this a corpus of valid inputs that the decoder
 * wrongly rejected would replay "fine".
 * Usage: corpus-check DIR; TAP output, one test per checked file. */
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
    struct bh_fuzz_result res;
    int rc = -1;
    enum bh_fuzz_end want = strncmp(name, "valid-", 6) == 0   ? BH_FUZZ_END_CLEAN
                            : strncmp(name, "short-", 6) == 0 ? BH_FUZZ_END_SHORT
                                                              : BH_FUZZ_END_VIOLATION;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    buf = malloc(CHECK_MAX_INPUT);
    f = fopen(path, "rb");
    if (!buf || !f)
        goto out;
    len = fread(buf, 1, CHECK_MAX_INPUT, f);
    bh_fuzz_proto_run(buf, len, &res);
    /* valid and short inputs start with at least a HELLO that must pass */
    rc = res.end == want && (want == BH_FUZZ_END_VIOLATION || res.accepted > 0) ? 0 : -1;
out:
    printf("%s %u - %s", rc == 0 ? "ok" : "not ok", ++*n, name);
    if (res.end == BH_FUZZ_END_VIOLATION)
        printf(" (%s: %s)", bh_gui_err_name(res.err.code), res.err.reason);
    else
        printf(" (%u messages, end %d)", res.accepted, (int)res.end);
    printf("\n");
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
        bool v = strncmp(e->d_name, "valid-", 6) == 0;
        bool iv = strncmp(e->d_name, "invalid-", 8) == 0;
        bool sh = strncmp(e->d_name, "short-", 6) == 0;
        if (!v && !iv && !sh)
            continue;
        valid += v;
        invalid += iv;
        failed += check(argv[1], e->d_name, &n) != 0;
    }
    closedir(d);
    /* Both kinds must be present, or the check proves half of nothing. */
    printf("%s %u - corpus has %u valid and %u invalid inputs\n", valid && invalid ? "ok" : "not ok", ++n,
           valid, invalid);
    failed += !(valid && invalid);
    printf("1..%u\n", n);
    return failed ? 1 : 0;
}
