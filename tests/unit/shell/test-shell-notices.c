/* test-shell-notices.c — the shell's words that need no display: what a
 * notification shows of its caller's text (bounded, plain, no bidi or
 * control characters), how long it stays, the domains widget's notices and
 * figures, the clipboard widget's words (never contents), the tooltip facts
 * a ListQubes entry may carry.
 * Must never: open a display or a bus. */
#include <string.h>

#include "bh-shell-clipboard.h"
#include "bh-shell-domains.h"
#include "bh-shell-notify.h"
#include "bh-shell-qube.h"

static void test_clean_text(void)
{
    static const struct {
        const char *in;
        gsize max;
        const char *out;
    } cases[] = {
        {"Copied 5 bytes of text from work.", 200, "Copied 5 bytes of text from work."},
        /* Markup is text: the label never parses it. */
        {"<b>bold</b> & <a href='x'>", 200, "<b>bold</b> & <a href='x'>"},
        /* Newlines stay, other controls become spaces. */
        {"a\nb\tc\rd\x1b[31m", 200, "a\nb c d [31m"},
        /* Bidi controls are dropped: "work" cannot be made to read "krow". */
        {"\u202ekrow\u202c", 200, "krow"},
        {"x\u2066y\u2069z\u200f", 200, "xyz"},
        /* Not UTF-8: made valid. */
        {"ab\xff\xfe", 200, "ab\xef\xbf\xbd\xef\xbf\xbd"},
        /* Cut at a character, the ellipsis within the bound. */
        {"abcdefghij", 8, "abcde…"},
        {"ééééé", 8, "éé…"},
        {"", 10, ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = bh_shell_notify_clean_text(cases[i].in, cases[i].max);
        g_assert_cmpstr(out, ==, cases[i].out);
        g_assert_cmpuint(strlen(out), <=, cases[i].max);
        g_assert_true(g_utf8_validate(out, -1, NULL));
    }
    /* A megabyte from a caller: kept to the bound. */
    g_autofree char *big = g_strnfill(1 << 20, 'x');
    g_autofree char *cut = bh_shell_notify_clean_text(big, BH_NOTIFY_MAX_BODY);
    g_assert_cmpuint(strlen(cut), <=, BH_NOTIFY_MAX_BODY);
    g_assert_true(g_str_has_suffix(cut, "…"));
    g_autofree char *none = bh_shell_notify_clean_text(NULL, 10);
    g_assert_cmpstr(none, ==, "");
}

static void test_expiry(void)
{
    g_assert_cmpuint(bh_shell_notify_expiry_ms(-1), ==, BH_NOTIFY_DEFAULT_MS);
    g_assert_cmpuint(bh_shell_notify_expiry_ms(0), ==, 0);
    g_assert_cmpuint(bh_shell_notify_expiry_ms(1500), ==, 1500);
    g_assert_cmpuint(bh_shell_notify_expiry_ms(G_MAXINT32), ==, BH_NOTIFY_MAX_MS);
    g_assert_cmpuint(bh_shell_notify_expiry_ms(G_MININT32), ==, BH_NOTIFY_DEFAULT_MS);
}

static void test_state_notices(void)
{
    static const struct {
        const char *old, *new, *notice;
    } cases[] = {
        {"Transient", "Running", "Qube work has started"},
        {"Running", "Halted", "Qube work has shut down"},
        {"Halting", "Halted", "Qube work has shut down"},
        {"Dying", "Halted", "Qube work has shut down"},
        {"Paused", "Halted", "Qube work has shut down"},
        {"Running", "Crashed", "Qube work crashed"},
        {"Transient", "Crashed", "Qube work failed to start"},
        {"Transient", "Halted", "Qube work failed to start"},
        /* Not worth a notice: the chip shows these. */
        {"Halted", "Transient", NULL},
        {"Running", "Paused", NULL},
        {"Paused", "Running", NULL},
        {"Running", "Halting", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *notice = bh_shell_domains_state_notice("work", cases[i].old, cases[i].new);
        g_assert_cmpstr(notice, ==, cases[i].notice);
    }
}

static void test_start_failed_notice(void)
{
    static const char *const one[] = {"sys-firewall", NULL};
    static const char *const two[] = {"sys-firewall", "work", NULL};
    g_autofree char *alone = bh_shell_domains_start_failed_notice("work", "no room", NULL);
    g_autofree char *with_one = bh_shell_domains_start_failed_notice("sys-net", "no uplink", one);
    g_autofree char *with_two = bh_shell_domains_start_failed_notice("sys-net", "no uplink", two);

    g_assert_cmpstr(alone, ==, "Qube work failed to start: no room");
    g_assert_cmpstr(
        with_one, ==,
        "Qube sys-net failed to start: no uplink\nNot started either, as their network goes through "
        "sys-net: sys-firewall. Start it again once sys-net runs.");
    g_assert_cmpstr(
        with_two, ==,
        "Qube sys-net failed to start: no uplink\nNot started either, as their network goes through "
        "sys-net: sys-firewall, work. Start them again once sys-net runs.");
}

static void test_figures(void)
{
    g_autofree char *a = bh_shell_domains_figures(300 * 1024 * 1024 + 1, 12.4);
    g_autofree char *b = bh_shell_domains_figures(0, -1);
    g_autofree char *c = bh_shell_domains_figures(G_MAXUINT64 / 2, 250);

    g_assert_cmpstr(a, ==, "300 MiB · 12 %");
    g_assert_cmpstr(b, ==, "0 MiB");
    g_assert_true(g_str_has_suffix(c, "MiB · 250 %"));
}

static GVariant *clip_state(const char *source, guint64 size)
{
    GVariantDict dict;

    g_variant_dict_init(&dict, NULL);
    if (source != NULL)
        g_variant_dict_insert(&dict, "source", "s", source);
    g_variant_dict_insert(&dict, "size", "t", size);
    g_variant_dict_insert(&dict, "type", "s", "text/plain;charset=utf-8");
    return g_variant_ref_sink(g_variant_dict_end(&dict));
}

static void test_clipboard_words(void)
{
    g_autoptr(GVariant) work = clip_state("work", 64000);
    g_autoptr(GVariant) one = clip_state("dom0", 1);
    g_autoptr(GVariant) odd = clip_state("wo rk\n[dom0]", 3);
    g_autoptr(GVariant) nameless = clip_state(NULL, 3);
    g_autoptr(GVariant) empty = g_variant_ref_sink(g_variant_new("a{sv}", NULL));
    g_autofree char *a = bh_shell_clipboard_describe(work);
    g_autofree char *b = bh_shell_clipboard_describe(one);
    g_autofree char *c = bh_shell_clipboard_describe(odd);
    g_autofree char *d = bh_shell_clipboard_describe(nameless);
    g_autofree char *e = bh_shell_clipboard_describe(empty);
    g_autofree char *f = bh_shell_clipboard_describe(NULL);

    g_assert_cmpstr(a, ==, "64000 bytes from work");
    g_assert_cmpstr(b, ==, "1 byte from dom0");
    /* A source that is no name is not shown as one. */
    g_assert_cmpstr(c, ==, "3 bytes from unknown");
    g_assert_cmpstr(d, ==, "3 bytes from unknown");
    g_assert_cmpstr(e, ==, "empty");
    g_assert_cmpstr(f, ==, "empty");
}

/* netvm and template reach a tooltip only as names; anything else is "". */
static void test_tooltip_facts(void)
{
    static const struct {
        const char *template_name, *netvm, *want_template, *want_netvm;
    } cases[] = {
        {"debian-12", "sys-firewall", "debian-12", "sys-firewall"},
        {"", "", "", ""},
        {"a\nb", "<b>x</b>", "", ""},
        {"\u202edebian", "sys net", "", ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        GVariantDict dict;
        g_autoptr(GError) error = NULL;

        g_variant_dict_init(&dict, NULL);
        g_variant_dict_insert(&dict, "name", "s", "work");
        g_variant_dict_insert(&dict, "class", "s", "AppVM");
        g_variant_dict_insert(&dict, "state", "s", "Running");
        g_variant_dict_insert(&dict, "label", "s", "blue");
        g_variant_dict_insert(&dict, "color", "s", "#3465a4");
        g_variant_dict_insert(&dict, "template", "s", cases[i].template_name);
        g_variant_dict_insert(&dict, "netvm", "s", cases[i].netvm);
        g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_dict_end(&dict));
        g_autoptr(BhShellQube) q = bh_shell_qube_new_from_variant(v, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(bh_shell_qube_get_template(q), ==, cases[i].want_template);
        g_assert_cmpstr(bh_shell_qube_get_netvm(q), ==, cases[i].want_netvm);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/shell/notify/clean-text", test_clean_text);
    g_test_add_func("/shell/notify/expiry", test_expiry);
    g_test_add_func("/shell/domains/state-notices", test_state_notices);
    g_test_add_func("/shell/domains/start-failed-notice", test_start_failed_notice);
    g_test_add_func("/shell/domains/figures", test_figures);
    g_test_add_func("/shell/clipboard/words", test_clipboard_words);
    g_test_add_func("/shell/qube/tooltip-facts", test_tooltip_facts);
    return g_test_run();
}
