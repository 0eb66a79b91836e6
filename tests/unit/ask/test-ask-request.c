/* test-ask-request.c — bulkhead-ask's command line (ask/bh-ask-request.c)
 * without a display: what is refused, and the type-ahead match. */
#include <glib.h>

#include "bh-ask-request.h"

static BhAskRequest *parse(const char *line, GError **error)
{
    g_auto(GStrv) argv = NULL;
    int argc = 0;
    g_assert_true(g_shell_parse_argv(line, &argc, &argv, NULL));
    return bh_ask_request_parse(argc, argv, error);
}

static void test_good(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhAskRequest) r =
        parse("--source work --label blue --service 'copy files' --target personal --target @dispvm "
              "--target @dispvm:default-dvm --default personal --timeout 30",
              &error);
    g_assert_no_error(error);
    g_assert_cmpstr(r->source, ==, "work");
    g_assert_cmpstr(r->source_label->hex, ==, "#3465a4");
    g_assert_cmpuint(r->targets->len, ==, 3);
    g_assert_cmpstr(r->default_target, ==, "personal");
    g_assert_cmpuint(r->timeout_s, ==, 30);
    g_assert_cmpuint(r->focus_ms, ==, 1000);
}

static void test_refused(void)
{
    static const char *const bad[] = {
        "--label blue --service s --target personal",                                 /* no source */
        "--source work --label pink --service s --target personal",                   /* no such label */
        "--source work --label blue --service s",                                     /* no target */
        "--source work --label blue --service s --target work",                       /* the source */
        "--source work --label blue --service s --target dom0",                       /* dom0 */
        "--source work --label blue --service s --target personal --target personal", /* twice */
        "--source work --label blue --service s --target 'per sonal'",                /* not a name */
        "--source work --label blue --service s --target @dispvm:../x",               /* not a name */
        "--source work --label blue --service s --target personal --default vault", /* default not offered */
        "--source work --label blue --service a\xe2\x80\xae"
        "b --target personal",                                                     /* bidi in the words */
        "--source work --label blue --service s --target personal --focus-ms 999", /* under a second */
        "--source work --label blue --service s --target personal --timeout 0",
        "--source work --label blue --service s --target personal --bogus x",
        "--source work --source vault --label blue --service s --target personal", /* repeated */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(BhAskRequest) r = parse(bad[i], &error);
        g_test_message("%s -> %s", bad[i], error ? error->message : "(accepted)");
        g_assert_null(r);
        g_assert_nonnull(error);
    }
}

/* Targets in the user's words and with their colours; what is printed
 * (the target itself) does not change. */
static void test_target_words(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(BhAskRequest) r =
        parse("--source work --label blue --service 'copy files' --target personal --target-label yellow "
              "--target @dispvm:default-dvm --target-label red --target vault",
              &error);
    g_assert_no_error(error);
    g_assert_cmpuint(r->target_labels->len, ==, 3);
    g_assert_cmpstr(((const BhLabel *)r->target_labels->pdata[0])->name, ==, "yellow");
    g_assert_cmpstr(((const BhLabel *)r->target_labels->pdata[1])->hex, ==, "#cc0000");
    g_assert_null(r->target_labels->pdata[2]);
    g_assert_cmpstr(r->targets->pdata[1], ==, "@dispvm:default-dvm");
    static const struct {
        const char *target, *words;
    } words[] = {
        {"@dispvm:default-dvm", "New disposable (from default-dvm)"},
        {"@dispvm", "New disposable"},
        {"personal", "personal"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(words); i++) {
        g_autofree char *w = bh_ask_target_words(words[i].target);
        g_assert_cmpstr(w, ==, words[i].words);
    }
    static const char *const bad[] = {
        "--source work --label blue --service s --target-label red --target personal",  /* before */
        "--source work --label blue --service s --target personal --target-label pink", /* no label */
        "--source work --label blue --service s --target personal --target-label red --target-label red",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(BhAskRequest) no = parse(bad[i], &e);
        g_assert_null(no);
        g_assert_error(e, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
    }
}

static void test_matches(void)
{
    g_assert_true(bh_ask_matches("untrusted", ""));
    g_assert_true(bh_ask_matches("untrusted", "UNT"));
    g_assert_true(bh_ask_matches("untrusted", "rust"));
    g_assert_false(bh_ask_matches("untrusted", "sys-net"));
    g_assert_false(bh_ask_matches("personal", "dom0"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ask/request/good", test_good);
    g_test_add_func("/ask/request/refused", test_refused);
    g_test_add_func("/ask/request/matches", test_matches);
    g_test_add_func("/ask/request/target-words", test_target_words);
    return g_test_run();
}
