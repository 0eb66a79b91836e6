/* bh-shell-title.c — which qube a guid window's title names (see the header). */
#include "bh-shell-title.h"

#include <string.h>

char *bh_shell_title_qube(const char *title)
{
    const char *end;

    if (title == NULL || title[0] != '[')
        return NULL;
    end = strchr(title + 1, ']');
    /* guid writes "[qube]" or "[qube] title": nothing else may follow. */
    if (end == NULL || end == title + 1 || end - title - 1 > BH_SHELL_TITLE_QUBE_MAX ||
        (end[1] != '\0' && end[1] != ' '))
        return NULL;
    return g_strndup(title + 1, end - title - 1);
}
