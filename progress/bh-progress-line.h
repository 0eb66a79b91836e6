/* bh-progress-line.h — reading what qvm-copy passes to its progress window
 * (docs/filecopy.md, "Progress"): the sender's progress lines and the
 * caller's last line, "bulkhead-result N". Pure: no GTK, tested alone.
 *
 * Must never: show a byte of a line as it came (the text goes through
 * bh_progress_line_text). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    BH_PROGRESS_LINE_TEXT,     /* a message: show it */
    BH_PROGRESS_LINE_PROGRESS, /* "sending … (NN%) …": *fraction set, show it */
    BH_PROGRESS_LINE_RESULT,   /* "bulkhead-result N": *status set */
} BhProgressLineKind;

BhProgressLineKind bh_progress_line_parse(const char *line, double *fraction, int *status);
/* The line as a label may show it: valid UTF-8, no control characters, at
 * most 300 characters. */
char *bh_progress_line_text(const char *line);

G_END_DECLS
