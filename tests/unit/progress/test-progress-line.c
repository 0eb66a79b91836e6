/* test-progress-line.c — the lines qvm-copy passes to its progress window
 * (progress/bh-progress-line.c): the sender's progress, the result line,
 * and the text a label shows. */
#include <glib.h>
#include <string.h>

#include "bh-progress-line.h"

static void test_parse(void)
{
    double f = -1;
    int st = -1;
    g_assert_cmpint(bh_progress_line_parse("sending 1.0 MiB of 4.0 MiB (25%), 1 of 2 entries", &f, &st), ==,
                    BH_PROGRESS_LINE_PROGRESS);
    g_assert_cmpfloat(f, ==, 0.25);
    g_assert_cmpint(bh_progress_line_parse("bulkhead-result 130", &f, &st), ==, BH_PROGRESS_LINE_RESULT);
    g_assert_cmpint(st, ==, 130);
    /* Anything else is a message, never a result or a fraction. */
    const char *texts[] = {"bulkhead-result",
                           "bulkhead-result -1",
                           "bulkhead-result 256",
                           "bulkhead-result 1x",
                           "sending (250%)",
                           "sending x (12",
                           "copying (50%)",
                           "bulkhead-file-sender: refused",
                           ""};
    for (gsize i = 0; i < G_N_ELEMENTS(texts); i++)
        g_assert_cmpint(bh_progress_line_parse(texts[i], &f, &st), ==, BH_PROGRESS_LINE_TEXT);
}

static void test_text(void)
{
    g_autofree char *a = bh_progress_line_text("bad \xff byte\x1b[2J and \u202e bidi");
    g_assert_true(g_utf8_validate(a, -1, NULL));
    g_assert_null(strchr(a, '\x1b'));
    g_assert_null(strstr(a, "\u202e"));
    g_autofree char *long_line = g_strnfill(1000, 'x');
    g_autofree char *b = bh_progress_line_text(long_line);
    g_assert_cmpuint(g_utf8_strlen(b, -1), ==, 300);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/progress-line/parse", test_parse);
    g_test_add_func("/progress-line/text", test_text);
    return g_test_run();
}
