/* target.c — libFuzzer entry point for the shell's window-title rule
 * (shell/bh-shell-title.c): the input is a window title as guid set it,
 * whose text after the prefix a qube chose. Built as a fuzzer with
 * -Dfuzz=true and, always, as a replay test over corpus/.
 *
 * Checks: a qube is named only by an exact "[name]" at the start followed
 * by the end or a space, the name is 1..BH_SHELL_TITLE_QUBE_MAX bytes and
 * holds no ']' (so text after the prefix can never change it).
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bh-shell-title.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* X properties may hold NULs; the shell reads up to the first one. */
    char *title = g_strndup((const char *)data, size);
    char *qube = bh_shell_title_qube(title);

    if (qube != NULL) {
        size_t n = strlen(qube);
        if (n == 0 || n > BH_SHELL_TITLE_QUBE_MAX || strchr(qube, ']') != NULL || title[0] != '[' ||
            strncmp(title + 1, qube, n) != 0 || title[n + 1] != ']' ||
            (title[n + 2] != '\0' && title[n + 2] != ' '))
            abort();
    } else if (title[0] == '[') {
        /* The converse: a well-formed prefix is always found. */
        const char *end = strchr(title + 1, ']');
        if (end != NULL && end > title + 1 && end - title - 1 <= BH_SHELL_TITLE_QUBE_MAX &&
            (end[1] == '\0' || end[1] == ' '))
            abort();
    }
    g_free(qube);
    g_free(title);
    return 0;
}
