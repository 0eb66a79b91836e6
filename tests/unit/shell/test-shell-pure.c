/* test-shell-pure.c — bulkhead-shell's logic that needs no display: which
 * ListQubes entries become qubes (and which are refused), the label CSS that
 * only checked names and colours reach, the menu's groups and search, and
 * which app icons become textures.
 * Must never: open a display or a bus. */
#include "bh-shell-app.h"
#include "bh-shell-apps.h"
#include "bh-shell-hotkey.h"
#include "bh-shell-menu.h"
#include "bh-shell-qube.h"
#include "bh-shell-title.h"

static GVariant *entry(const char *name, const char *klass, const char *state, const char *label,
                       const char *color, gboolean dvm, gboolean net)
{
    GVariantDict dict;

    g_variant_dict_init(&dict, NULL);
    if (name != NULL)
        g_variant_dict_insert(&dict, "name", "s", name);
    g_variant_dict_insert(&dict, "class", "s", klass);
    g_variant_dict_insert(&dict, "state", "s", state);
    g_variant_dict_insert(&dict, "label", "s", label);
    g_variant_dict_insert(&dict, "color", "s", color);
    g_variant_dict_insert(&dict, "template_for_dispvms", "b", dvm);
    g_variant_dict_insert(&dict, "provides_network", "b", net);
    return g_variant_ref_sink(g_variant_dict_end(&dict));
}

static BhShellQube *qube(const char *name, const char *klass, const char *state, const char *label,
                         const char *color, gboolean dvm, gboolean net)
{
    g_autoptr(GVariant) v = entry(name, klass, state, label, color, dvm, net);
    g_autoptr(GError) error = NULL;
    BhShellQube *q = bh_shell_qube_new_from_variant(v, &error);

    g_assert_no_error(error);
    return q;
}

static void test_entry_accepted(void)
{
    g_autoptr(BhShellQube) q = qube("work", "AppVM", "Running", "blue", "#3465a4", FALSE, FALSE);

    g_assert_cmpstr(bh_shell_qube_get_name(q), ==, "work");
    g_assert_cmpstr(bh_shell_qube_get_color(q), ==, "#3465a4");
    g_assert_true(bh_shell_qube_is_active(q));
    g_assert_true(bh_shell_qube_set_state(q, "Paused"));
    g_assert_false(bh_shell_qube_set_state(q, "Paused"));
    /* A state nobody documented is not shown. */
    g_assert_false(bh_shell_qube_set_state(q, "Hacked"));
    g_assert_cmpstr(bh_shell_qube_get_state(q), ==, "Paused");
    /* No template or netvm keys (an older daemon): none, not NULL. */
    g_assert_cmpstr(bh_shell_qube_get_template(q), ==, "");
    g_assert_cmpstr(bh_shell_qube_get_netvm(q), ==, "");
}

/* The references settings' manager and map show, and an update that
 * changes only the netvm is a change. */
static void test_entry_references(void)
{
    g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
    g_autoptr(GVariant) base = entry("work", "AppVM", "Halted", "blue", "#3465a4", FALSE, FALSE);
    g_autoptr(GVariant) linked = NULL, relinked = NULL;
    g_autoptr(BhShellQube) q = NULL, other = NULL;

    g_variant_dict_init(&dict, base);
    g_variant_dict_insert(&dict, "template", "s", "debian-12");
    g_variant_dict_insert(&dict, "netvm", "s", "sys-firewall");
    linked = g_variant_ref_sink(g_variant_dict_end(&dict));
    q = bh_shell_qube_new_from_variant(linked, NULL);
    g_assert_cmpstr(bh_shell_qube_get_template(q), ==, "debian-12");
    g_assert_cmpstr(bh_shell_qube_get_netvm(q), ==, "sys-firewall");
    g_variant_dict_init(&dict, base);
    g_variant_dict_insert(&dict, "template", "s", "debian-12");
    g_variant_dict_insert(&dict, "netvm", "s", "");
    relinked = g_variant_ref_sink(g_variant_dict_end(&dict));
    other = bh_shell_qube_new_from_variant(relinked, NULL);
    g_assert_true(bh_shell_qube_update(q, other));
    g_assert_cmpstr(bh_shell_qube_get_netvm(q), ==, "");
    g_assert_false(bh_shell_qube_update(q, other));
    /* Numbers only: anything else shows as unknown. */
    g_assert_cmpstr(bh_shell_qube_get_memory(q), ==, "");
    static const char *const numbers[][2] = {
        {"400", "400"}, {"", ""}, {"4e2", ""}, {"-1", ""}, {"1234567890", ""}};
    for (gsize i = 0; i < G_N_ELEMENTS(numbers); i++) {
        g_auto(GVariantDict) d = G_VARIANT_DICT_INIT(NULL);
        g_variant_dict_init(&d, base);
        g_variant_dict_insert(&d, "memory", "s", numbers[i][0]);
        g_variant_dict_insert(&d, "private_size", "s", numbers[i][0]);
        g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_dict_end(&d));
        g_autoptr(BhShellQube) n = bh_shell_qube_new_from_variant(v, NULL);
        g_assert_cmpstr(bh_shell_qube_get_memory(n), ==, numbers[i][1]);
        g_assert_cmpstr(bh_shell_qube_get_private_size(n), ==, numbers[i][1]);
    }
}

/* Each of these would put a value the shell did not check into CSS text or
 * a state word on screen: all refused, with a reason. */
static void test_entry_refused(void)
{
    static const struct {
        const char *name, *state, *label, *color;
    } bad[] = {
        {NULL, "Running", "blue", "#3465a4"},
        {"", "Running", "blue", "#3465a4"},
        {"work", "Owned", "blue", "#3465a4"},
        {"work", "Running", "blue;}*{color:red", "#3465a4"},
        {"work", "Running", "Blue", "#3465a4"},
        {"work", "Running", "blue", "#3465a4; background: url(x)"},
        {"work", "Running", "blue", "red"},
        {"work", "Running", "blue", "#34zz a4"},
        {"a-name-that-is-far-longer-than-any-qube-name-the-model-allows-at-all", "Running", "blue",
         "#3465a4"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GVariant) v =
            entry(bad[i].name, "AppVM", bad[i].state, bad[i].label, bad[i].color, FALSE, FALSE);
        g_autoptr(GError) error = NULL;
        g_autoptr(BhShellQube) q = bh_shell_qube_new_from_variant(v, &error);

        g_assert_null(q);
        g_assert_nonnull(error);
    }
    /* Not a dictionary at all. */
    g_autoptr(GVariant) s = g_variant_ref_sink(g_variant_new_string("work"));
    g_autoptr(GError) error = NULL;
    g_assert_null(bh_shell_qube_new_from_variant(s, &error));
    g_assert_nonnull(error);
}

static void test_groups(void)
{
    g_autoptr(BhShellQube) dom0 = qube("dom0", "AdminVM", "Running", "black", "#000000", FALSE, FALSE);
    g_autoptr(BhShellQube) tmpl = qube("debian-12", "TemplateVM", "Halted", "black", "#000000", FALSE, FALSE);
    g_autoptr(BhShellQube) net = qube("sys-net", "AppVM", "Running", "red", "#cc0000", FALSE, TRUE);
    g_autoptr(BhShellQube) dvm = qube("default-dvm", "AppVM", "Halted", "red", "#cc0000", TRUE, FALSE);

    g_assert_cmpint(bh_shell_qube_get_group(dom0), ==, BH_SHELL_GROUP_HIDDEN);
    g_assert_false(bh_shell_qube_is_active(dom0));
    g_assert_cmpint(bh_shell_qube_get_group(tmpl), ==, BH_SHELL_GROUP_TEMPLATES);
    g_assert_cmpint(bh_shell_qube_get_group(net), ==, BH_SHELL_GROUP_SERVICE);
    g_assert_cmpint(bh_shell_qube_get_group(dvm), ==, BH_SHELL_GROUP_APPS);
    g_assert_true(bh_shell_qube_is_dispvm_template(dvm));
    g_assert_false(bh_shell_qube_is_active(tmpl));
}

/* The label's class and the kind's icon name: the classes are
 * themes/labels.css's (one source: the palette), the icons icons/'s. */
static void test_label_class_and_kind(void)
{
    g_autoptr(BhShellQube) a = qube("work", "AppVM", "Running", "blue", "#3465a4", FALSE, FALSE);
    g_autoptr(BhShellQube) net = qube("sys-net", "AppVM", "Running", "red", "#cc0000", FALSE, TRUE);
    g_autoptr(BhShellQube) tpl = qube("debian-12", "TemplateVM", "Halted", "black", "#000000", FALSE, FALSE);
    g_autoptr(BhShellQube) disp = qube("disp7", "DispVM", "Running", "red", "#cc0000", FALSE, FALSE);
    g_autoptr(BhShellQube) alone = qube("vault", "StandaloneVM", "Halted", "black", "#000000", FALSE, FALSE);
    g_autofree char *klass = bh_shell_qube_css_class(a);
    g_autofree char *icon_a = bh_shell_qube_icon_name(a);
    g_autofree char *icon_net = bh_shell_qube_icon_name(net);
    g_autofree char *icon_tpl = bh_shell_qube_icon_name(tpl);
    g_autofree char *icon_disp = bh_shell_qube_icon_name(disp);
    g_autofree char *icon_alone = bh_shell_qube_icon_name(alone);

    g_assert_cmpstr(klass, ==, "bh-label-blue");
    g_assert_cmpstr(icon_a, ==, "bh-app-blue");
    g_assert_cmpstr(icon_net, ==, "bh-service-red");
    g_assert_cmpstr(icon_tpl, ==, "bh-template-black");
    g_assert_cmpstr(icon_disp, ==, "bh-disposable-red");
    g_assert_cmpstr(icon_alone, ==, "bh-standalone-black");
}

static void test_menu_match(void)
{
    g_assert_true(bh_shell_menu_match("", "personal", "Terminal"));
    g_assert_true(bh_shell_menu_match(NULL, "personal", "Terminal"));
    g_assert_true(bh_shell_menu_match("person", "personal", "Terminal"));
    g_assert_true(bh_shell_menu_match("PERS term", "personal", "Terminal"));
    g_assert_true(bh_shell_menu_match("  term  ", "work", "Terminal"));
    g_assert_true(bh_shell_menu_match("disp", "default-dvm", "New disposable: Terminal"));
    g_assert_false(bh_shell_menu_match("disp", "default-dvm", "Terminal"));
    g_assert_false(bh_shell_menu_match("work firefox", "work", "Terminal"));
    g_assert_false(bh_shell_menu_match("vault", "work", "Terminal"));
}

/* An app's icon becomes a texture only when its pixels are exactly w x h x 4
 * bytes and each side is 1..64 (the daemon checked it; the shell again). */
static void test_app_icon(void)
{
    g_autoptr(GBytes) four = g_bytes_new_take(g_malloc0(2 * 2 * 4), 2 * 2 * 4);
    g_autoptr(GBytes) short_ = g_bytes_new_take(g_malloc0(15), 15);
    g_autoptr(GBytes) wide = g_bytes_new_take(g_malloc0(65 * 4), 65 * 4);
    g_autoptr(GBytes) empty = g_bytes_new(NULL, 0);
    g_autoptr(GdkTexture) ok = bh_shell_apps_icon_texture(2, 2, four);

    g_assert_nonnull(ok);
    g_assert_cmpint(gdk_texture_get_width(ok), ==, 2);
    g_assert_null(bh_shell_apps_icon_texture(2, 2, short_));
    g_assert_null(bh_shell_apps_icon_texture(65, 1, wide));
    g_assert_null(bh_shell_apps_icon_texture(0, 0, empty));
    g_assert_null(bh_shell_apps_icon_texture(2, 2, NULL));
    /* An app matches on its name, generic name and keywords with its qube. */
    g_assert_true(bh_shell_menu_match("personal foot", "personal", "Foot Terminal shell;prompt;"));
    g_assert_true(bh_shell_menu_match("prompt", "personal", "Foot Terminal shell;prompt;"));
    g_assert_false(bh_shell_menu_match("work foot", "personal", "Foot Terminal shell;prompt;"));
}

static gboolean only_work_open(const char *qube, gpointer data)
{
    return g_strcmp0(qube, "work") == 0;
}

static gboolean all_open(const char *qube, gpointer data)
{
    return TRUE;
}

/* The menu's visibility rule: closed qubes, the hit cap, headings of hits. */
static void test_menu_visible(void)
{
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    g_autofree gboolean *visible = NULL;
    guint hits, shown;
#define ROW(k, q, h)                                                                                         \
    do {                                                                                                     \
        BhShellMenuRow *r = g_new0(BhShellMenuRow, 1);                                                       \
        *r = (BhShellMenuRow){k, q, h};                                                                      \
        g_ptr_array_add(rows, r);                                                                            \
    } while (0)

    ROW(BH_SHELL_MENU_HEADING, NULL, NULL);                     /* 0 Favourites */
    ROW(BH_SHELL_MENU_APP, "vault", "vault keepass");           /* 1 a favourite */
    ROW(BH_SHELL_MENU_HEADING, NULL, NULL);                     /* 2 Apps */
    ROW(BH_SHELL_MENU_QUBE, "vault", NULL);                     /* 3 */
    ROW(BH_SHELL_MENU_NOTE, "vault", "vault ");                 /* 4 */
    ROW(BH_SHELL_MENU_TERMINAL, "vault", "vault terminal");     /* 5 */
    ROW(BH_SHELL_MENU_QUBE, "work", NULL);                      /* 6 */
    ROW(BH_SHELL_MENU_TERMINAL, "work", "work terminal");       /* 7 */
    ROW(BH_SHELL_MENU_APP, "work", "work firefox web browser"); /* 8 */
    ROW(BH_SHELL_MENU_QUBE, "zoo", NULL);                       /* 9 */
    for (int i = 0; i < 80; i++) {                              /* 10..89 */
        char *h = g_strdup_printf("zoo app %d", i);
        g_ptr_array_add(strings, h);
        ROW(BH_SHELL_MENU_APP, "zoo", h);
    }
#undef ROW
    visible = g_new0(gboolean, rows->len);

    /* No search, every qube open: everything. */
    bh_shell_menu_visible((const BhShellMenuRow *const *)rows->pdata, rows->len, NULL, all_open, NULL,
                          visible);
    shown = 0;
    for (guint i = 0; i < rows->len; i++)
        shown += visible[i];
    g_assert_cmpuint(shown, ==, rows->len);

    /* No search, only work open: headings, the favourite, work's rows. */
    bh_shell_menu_visible((const BhShellMenuRow *const *)rows->pdata, rows->len, NULL, only_work_open, NULL,
                          visible);
    g_assert_true(visible[0] && visible[1] && visible[2] && visible[3] && visible[6] && visible[9]);
    g_assert_true(visible[7] && visible[8]);
    g_assert_false(visible[4] || visible[5] || visible[10] || visible[89]);

    /* A search: hits and their qubes' headings only, whatever is closed. */
    g_auto(GStrv) fire = bh_shell_menu_query_words("FIRE");
    hits = bh_shell_menu_visible((const BhShellMenuRow *const *)rows->pdata, rows->len, fire, only_work_open,
                                 NULL, visible);
    g_assert_cmpuint(hits, ==, 1);
    g_assert_true(visible[6] && visible[8]);
    g_assert_false(visible[0] || visible[2] || visible[3] || visible[7] || visible[9]);

    /* At most BH_SHELL_MENU_MAX_HITS hits, the first ones. */
    g_auto(GStrv) app = bh_shell_menu_query_words("zoo app");
    hits = bh_shell_menu_visible((const BhShellMenuRow *const *)rows->pdata, rows->len, app, only_work_open,
                                 NULL, visible);
    g_assert_cmpuint(hits, ==, BH_SHELL_MENU_MAX_HITS);
    g_assert_true(visible[9] && visible[10] && visible[10 + BH_SHELL_MENU_MAX_HITS - 1]);
    g_assert_false(visible[10 + BH_SHELL_MENU_MAX_HITS]);

    /* A refused list's note shows when its qube is searched for. */
    g_auto(GStrv) vault = bh_shell_menu_query_words("vault");
    bh_shell_menu_visible((const BhShellMenuRow *const *)rows->pdata, rows->len, vault, only_work_open, NULL,
                          visible);
    g_assert_true(visible[1] && visible[3] && visible[4] && visible[5]);
    g_assert_null(bh_shell_menu_query_words(""));
}

/* Only guid's exact "[qube]" or "[qube] title" names a qube; a guest's text
 * that follows cannot move the boundary (qube names hold no ']'). */
/* The keys that close the open menu are the ones that open it, and only
 * those: a space typed with Shift, Ctrl or nothing is still a search's. */
static void test_menu_key(void)
{
    g_assert_true(bh_shell_hotkey_is_menu_key(GDK_KEY_space, GDK_SUPER_MASK));
    g_assert_true(bh_shell_hotkey_is_menu_key(GDK_KEY_space, GDK_SUPER_MASK | GDK_HYPER_MASK));
    g_assert_true(bh_shell_hotkey_is_menu_key(GDK_KEY_space, GDK_SUPER_MASK | GDK_LOCK_MASK));
    g_assert_true(bh_shell_hotkey_is_menu_key(GDK_KEY_F1, GDK_ALT_MASK));
    g_assert_false(bh_shell_hotkey_is_menu_key(GDK_KEY_space, 0));
    g_assert_false(bh_shell_hotkey_is_menu_key(GDK_KEY_space, GDK_SHIFT_MASK));
    g_assert_false(bh_shell_hotkey_is_menu_key(GDK_KEY_space, GDK_SUPER_MASK | GDK_CONTROL_MASK));
    g_assert_false(bh_shell_hotkey_is_menu_key(GDK_KEY_space, GDK_ALT_MASK));
    g_assert_false(bh_shell_hotkey_is_menu_key(GDK_KEY_F1, 0));
    g_assert_false(bh_shell_hotkey_is_menu_key(GDK_KEY_F1, GDK_ALT_MASK | GDK_SHIFT_MASK));
    g_assert_false(bh_shell_hotkey_is_menu_key(GDK_KEY_a, GDK_SUPER_MASK));
}

static void test_title_qube(void)
{
    static const struct {
        const char *title, *qube;
    } cases[] = {
        {"[work] foot", "work"},
        {"[work]", "work"},
        {"[work] [vault] x", "work"},
        {"[work] x] y", "work"},
        {"[work]foot", NULL},
        {"[] foot", NULL},
        {"work foot", NULL},
        {" [work] foot", NULL},
        {"[work", NULL},
        {"", NULL},
        {NULL, NULL},
        {"[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa] x", NULL},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *qube = bh_shell_title_qube(cases[i].title);
        g_assert_cmpstr(qube, ==, cases[i].qube);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/shell/entry/accepted", test_entry_accepted);
    g_test_add_func("/shell/entry/refused", test_entry_refused);
    g_test_add_func("/shell/entry/references", test_entry_references);
    g_test_add_func("/shell/groups", test_groups);
    g_test_add_func("/shell/label-class-and-kind", test_label_class_and_kind);
    g_test_add_func("/shell/menu-match", test_menu_match);
    g_test_add_func("/shell/title-qube", test_title_qube);
    g_test_add_func("/shell/app-icon", test_app_icon);
    g_test_add_func("/shell/menu-visible", test_menu_visible);
    g_test_add_func("/shell/menu-key", test_menu_key);
    return g_test_run();
}
