/* sandbox-procstat.c — a process's CPU times from its /proc/PID/stat line
 * (see the header). */
#include "sandbox-procstat.h"

#include <string.h>

#define BH_PROCSTAT_FIELD_MAX (G_GUINT64_CONSTANT(1) << 48)

gboolean bh_procstat_cpu_ticks(const char *line, gsize len, guint64 *ticks)
{
    const char *end = line + len;
    const char *p = NULL;
    guint64 sum = 0;
    int field = 2; /* the name, ending at the last ')' */

    if (line == NULL || len > BH_PROCSTAT_MAX)
        return FALSE;
    for (const char *q = line; q < end; q++) {
        if (*q == ')')
            p = q + 1;
    }
    if (p == NULL)
        return FALSE;
    /* Fields after the name: " S 1 2 ..." — one space before each. */
    while (field < 17) {
        guint64 v = 0;
        gsize digits = 0;

        if (p >= end || *p != ' ')
            return FALSE;
        p++;
        field++;
        if (field < 14) {
            const char *start = p;
            while (p < end && *p != ' ')
                p++;
            if (p == start) /* the kernel writes no empty field */
                return FALSE;
            continue;
        }
        while (p < end && g_ascii_isdigit(*p)) {
            v = v * 10 + (guint64)(*p - '0');
            if (v >= BH_PROCSTAT_FIELD_MAX)
                return FALSE;
            p++;
            digits++;
        }
        if (digits == 0 || (p < end && *p != ' ' && *p != '\n'))
            return FALSE;
        sum += v;
    }
    *ticks = sum;
    return TRUE;
}
