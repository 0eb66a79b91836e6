/* sandbox-procstat.h — the one field set dom0 reads from a qube process's
 * /proc/PID/stat: its CPU times, for the domains widget's figures.
 *
 * Owns the parsing of that line, which a qube partly writes: field 2 is the
 * process's own name (prctl/comm, up to 15 bytes of anything but NUL, with
 * spaces and ')' allowed). Pure: no I/O. Must never trust anything before
 * the line's last ')' or read past the given length. */
#pragma once

#include <glib.h>

/* Longest line taken: the kernel's is well under 1 KiB. */
#define BH_PROCSTAT_MAX 4096

/* utime + stime + cutime + cstime (fields 14-17), in clock ticks. FALSE for a
 * line that is longer than BH_PROCSTAT_MAX, has no ')', too few fields, or a
 * field that is not a decimal number below 2^48 (the sum cannot overflow). */
gboolean bh_procstat_cpu_ticks(const char *line, gsize len, guint64 *ticks);
