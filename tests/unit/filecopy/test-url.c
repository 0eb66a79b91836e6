/* test-url.c — the link rules of bulkhead.OpenURL (bh_url_decode and
 * bh_url_check, core/filecopy/fc-url.c): each seed of tests/fuzz/url/corpus
 * has the outcome its name says (valid-* and max-length accepted, every
 * other refused), and the hostile forms are refused with the right words.
 *
 * Must never: depend on anything but the pure codec. */
#include <glib.h>
#include <string.h>

#include "bulkhead/filecopy.h"

static void test_corpus(void)
{
    g_autoptr(GDir) dir = g_dir_open(BH_URL_CORPUS_DIR, 0, NULL);
    g_assert_nonnull(dir);
    const char *name;
    unsigned accepted = 0, refused = 0;
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(BH_URL_CORPUS_DIR, name, NULL);
        g_autofree char *data = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(path, &data, &len, NULL));
        char url[BH_URL_MAX + 1];
        const char *why = NULL;
        int r = bh_url_decode((const uint8_t *)data, len, url, &why);
        gboolean want = g_str_has_prefix(name, "valid-") || g_str_equal(name, "max-length");
        if ((r == 0) != want)
            g_error("%s: %s (%s)", name, r == 0 ? "accepted" : "refused", why ? why : "");
        r == 0 ? accepted++ : refused++;
    }
    g_test_message("%u accepted, %u refused", accepted, refused);
    g_assert_cmpuint(accepted, >=, 5);
    g_assert_cmpuint(refused, >=, 20);
}

static void expect(const char *input, const char *words)
{
    char url[BH_URL_MAX + 1];
    const char *why = NULL;
    int r = bh_url_decode((const uint8_t *)input, strlen(input), url, &why);
    if (words == NULL) {
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpuint(strlen(url) + 1, ==, strlen(input));
        return;
    }
    g_assert_cmpint(r, ==, -1);
    g_assert_nonnull(why);
    if (strstr(why, words) == NULL)
        g_error("%s: reason '%s' lacks '%s'", input, why, words);
}

static void test_reasons(void)
{
    expect("https://example.org/\n", NULL); /* the control */
    expect("file:///etc/passwd\n", "scheme is not one");
    expect("javascript:alert(1)\n", "scheme is not one");
    expect("-https://example.org/\n", "does not start with a scheme");
    expect("https://example.org/\nhttps://x/\n", "follows the link's line");
    expect("https://example.org/a\tb\n", "control character");
    expect("https://example.org/a b\n", "a space");
    expect("https://example.org/%zz\n", "two hex digits");
    expect("https:///x\n", "no host");
    expect("https://example.org/", "newline");
    expect("mailto:\n", "no address");
    g_autofree char *fill = g_strnfill(BH_URL_MAX - 9, 'a');
    g_autofree char *over = g_strdup_printf("https://x/%s\n", fill);
    fill[BH_URL_MAX - 10] = '\0';
    g_autofree char *longest = g_strdup_printf("https://x/%s\n", fill);
    expect(longest, NULL);
    expect(over, "longer than 4096");
    const char *why = NULL;
    g_assert_cmpint(bh_url_check("HtTpS://example.org", 19, &why), ==, 0); /* case-insensitive */
    g_assert_cmpint(bh_url_check("https://example.org", 0, &why), ==, -1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/url/corpus", test_corpus);
    g_test_add_func("/url/reasons", test_reasons);
    return g_test_run();
}
