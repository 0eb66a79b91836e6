/* bh-progress-line.c — see bh-progress-line.h. */
#include "bh-progress-line.h"

#include <stdlib.h>
#include <string.h>

BhProgressLineKind bh_progress_line_parse(const char *line, double *fraction, int *status)
{
    if (g_str_has_prefix(line, "bulkhead-result ")) {
        char *end = NULL;
        long v = strtol(line + strlen("bulkhead-result "), &end, 10);
        if (end && *end == '\0' && v >= 0 && v <= 255) {
            *status = (int)v;
            return BH_PROGRESS_LINE_RESULT;
        }
        return BH_PROGRESS_LINE_TEXT;
    }
    /* The sender's "sending 1.0 MiB of 4.0 MiB (25%), 1 of 2 entries". */
    const char *open = g_str_has_prefix(line, "sending ") ? strchr(line, '(') : NULL;
    if (open) {
        char *end = NULL;
        long pct = strtol(open + 1, &end, 10);
        if (end && end[0] == '%' && end[1] == ')' && pct >= 0 && pct <= 100) {
            *fraction = (double)pct / 100.0;
            return BH_PROGRESS_LINE_PROGRESS;
        }
    }
    return BH_PROGRESS_LINE_TEXT;
}

char *bh_progress_line_text(const char *line)
{
    g_autofree char *valid = g_utf8_make_valid(line, -1);
    GString *out = g_string_new(NULL);
    guint n = 0;
    for (const char *p = valid; *p && n < 300; p = g_utf8_next_char(p), n++) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || g_unichar_type(c) == G_UNICODE_FORMAT)
            g_string_append_c(out, ' ');
        else
            g_string_append_unichar(out, c);
    }
    return g_string_free(out, FALSE);
}
