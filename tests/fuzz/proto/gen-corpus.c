/* gen-corpus.c — writes the seed corpus: one file per entry of cases.c,
 * named valid-NAME, short-NAME or invalid-NAME. Run it after changing cases.c and
 * commit the result:
 *   meson compile -C build proto-gen-corpus
 *   build/tests/fuzz/proto/proto-gen-corpus tests/fuzz/proto/corpus
 * Must never: write outside the directory it is given. */
#include <stdio.h>
#include <stdlib.h>

#include "cases.h"

int main(int argc, char **argv)
{
    struct bh_case_buf *b = NULL;
    int rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    b = malloc(sizeof *b);
    if (!b)
        goto out;
    for (size_t i = 0; i < bh_proto_n_cases; i++) {
        const struct bh_proto_case *c = &bh_proto_cases[i];
        char path[4096];
        FILE *f;

        b->len = 0;
        c->build(b);
        snprintf(path, sizeof path, "%s/%s-%s", argv[1],
                 c->code == BH_GUI_OK        ? "valid"
                 : c->code == BH_GUI_E_SHORT ? "short"
                                             : "invalid",
                 c->name);
        f = fopen(path, "wb");
        if (!f || fwrite(b->data, 1, b->len, f) != b->len) {
            fprintf(stderr, "%s: cannot write (does the directory exist?)\n", path);
            if (f)
                fclose(f);
            goto out;
        }
        if (fclose(f) != 0)
            goto out;
    }
    printf("wrote %zu inputs to %s\n", bh_proto_n_cases, argv[1]);
    rc = 0;
out:
    free(b);
    return rc;
}
