/* corpus-check.c — the clip-png corpus keeps its names' promise: every
 * valid-* file decodes, every invalid-* file is refused with a reason.
 * Usage: clip-png-corpus-check DIR; TAP output, one test per file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip-png.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && (buf = malloc((size_t)n + 1))) {
        rewind(f);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    struct dirent **names = NULL;
    int n, failed = 0, count = 0;
    if (argc != 2 || (n = scandir(argv[1], &names, NULL, alphasort)) < 0) {
        fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        int valid = strncmp(name, "valid-", 6) == 0;
        if (!valid && strncmp(name, "invalid-", 8) != 0)
            continue;
        char path[4096], why[160] = "";
        size_t len = 0;
        struct bh_clip_pixels px;
        snprintf(path, sizeof path, "%s/%s", argv[1], name);
        unsigned char *data = slurp(path, &len);
        int ok = data && bh_clip_png_decode(data, len, &px, why, sizeof why) == 0;
        int good = data && (valid ? ok : !ok && why[0] != '\0');
        printf("%s %d - %s%s%s\n", good ? "ok" : "not ok", ++count, name, ok ? "" : ": ", ok ? "" : why);
        failed += !good;
        if (ok)
            free(px.data);
        free(data);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    printf("1..%d\n", count);
    return failed ? 1 : 0;
}
