/* Replays a fuzz target's seed corpus as a normal test, so every run of the
 * suite feeds each saved input (valid and hostile) through the real parser.
 * Usage: replay DIR|FILE...; TAP output, one test per file. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Corpus files are small; anything bigger is a mistake in the corpus. */
#define REPLAY_MAX_INPUT (4u * 1024u * 1024u)

static int replay_file(const char *path, unsigned *n)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    long len;
    int rc = -1;

    f = fopen(path, "rb");
    if (!f)
        goto out;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || (unsigned long)len > REPLAY_MAX_INPUT)
        goto out;
    rewind(f);
    buf = malloc(len ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
        goto out;
    /* A crash or sanitizer report aborts the whole process: meson sees it. */
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    rc = 0;
out:
    printf("%s %u - %s\n", rc == 0 ? "ok" : "not ok", ++*n, path);
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned n = 0, failed = 0;

    printf("TAP version 13\n");
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            printf("not ok %u - %s: %s\n", ++n, argv[i], strerror(errno));
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed += replay_file(argv[i], &n) != 0;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            failed += replay_file(path, &n) != 0;
        }
        if (d)
            closedir(d);
    }
    if (n == 0) {
        /* An empty corpus means the replay proves nothing. */
        printf("not ok 1 - no corpus files found\n");
        n = 1;
        failed = 1;
    }
    printf("1..%u\n", n);
    return failed ? 1 : 0;
}
