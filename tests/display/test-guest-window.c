/* test-guest-window.c — guid's widgets on a real X server (Xvfb, see
 * with-xvfb.sh), in one process: a BhGuestWindow with a known guest image,
 * checked by screenshot. Run once per label (--label NAME).
 *
 * Proves: the frame around the content is exactly the label colour on every
 * side, the guest image lands pixel-exact inside it, the title is
 * "[qube] title", the bar text contrasts with the label colour, partial
 * damage changes only its rectangle, and a popup gets the frame and the
 * "[work]" band too and stays on screen when asked to open past the screen
 * edge. guid's icons (title buttons, label icon) come from compiled-in
 * resources only. */
#include <gtk/gtk.h>
#include <string.h>

#include "bh-display.h"
#include "bh-guest-view.h"
#include "bh-guest-window.h"
#include "bh-guid-label.h"
#include "bh-guid-style.h"

typedef struct {
    const BhLabel *label;
    Display *dpy;
} Env;
static Env env; /* set once in main; the tests only read it */

typedef struct {
    int w, h, stride;
    guint8 *buf;
} Image;

static Image image_new(int w, int h, guint seed)
{
    Image im = {w, h, w * 4 + 64, NULL}; /* a stride wider than the row, as guests may use */
    im.buf = g_malloc0((gsize)im.stride * h);
    bh_pattern_fill(im.buf, w, h, im.stride, seed);
    return im;
}

static void image_damage(BhGuestView *view, const Image *im, int x, int y, int w, int h)
{
    struct bh_gui_rect r = {x, y, (guint32)w, (guint32)h};
    bh_guest_view_damage(view, im->buf, (gsize)im->stride * im->h, (guint32)im->stride, &r, 1);
}

static void assert_frame(const BhShot *shot, const BhRect *content, const char *what)
{
    if (bh_frame_mismatches(shot, content, BH_GUID_FRAME_PX, env.label->rgb) != 0)
        g_error("%s: the frame is not all #%06x", what, env.label->rgb);
}

/* A window showing a w x h pattern, waited for until it is on screen. */
static BhGuestWindow *show_window(const char *title, int w, int h, guint seed, BhGuestView **view_out,
                                  Image *im, BhRect *found)
{
    GdkRGBA frame;
    bh_guid_style_label_rgba(env.label, &frame);
    GtkWidget *view = bh_guest_view_new(&frame, 1280, 1000);
    BhGuestWindow *win = bh_guest_window_new("work", env.label, view);
    guint32 text = bh_label_text_rgb(env.label);
    GdkRGBA text_rgba = {((text >> 16) & 0xff) / 255.0f, ((text >> 8) & 0xff) / 255.0f,
                         (text & 0xff) / 255.0f, 1.0f};
    bh_guest_view_set_owner(BH_GUEST_VIEW(view), "work", &text_rgba);
    bh_guest_window_set_guest_title(win, title);
    *view_out = BH_GUEST_VIEW(view);

    *im = image_new(w, h, seed);
    bh_guest_view_set_buffer_size(*view_out, (guint32)w, (guint32)h);
    image_damage(*view_out, im, 0, 0, w, h);
    gtk_window_present(GTK_WINDOW(win));
    g_assert_true(bh_wait_pattern(env.dpy, w, h, seed, TRUE, found, 20000));
    return win;
}

static void test_frame_title_content(void)
{
    BhGuestView *view;
    Image im;
    BhRect found;
    BhGuestWindow *win = show_window("pattern viewer", 320, 200, 1, &view, &im, &found);

    g_autoptr(BhShot) shot = bh_shot_take(env.dpy);
    g_autofree char *name = g_strdup_printf("guest-window-%s", env.label->name);
    g_free(bh_shot_save(shot, name));

    /* Content: pixel-exact, and where the window puts it. */
    g_assert_cmpuint(bh_pattern_mismatches(shot, found.x, found.y, 320, 200, 1), ==, 0);
    assert_frame(shot, &found, "toplevel");

    /* Title: what the window manager and taskbars see. */
    g_autofree char *title = NULL;
    Window xw = bh_x_find_window(env.dpy, "[work]", &title);
    g_assert_cmpuint(xw, !=, 0);
    g_assert_cmpstr(title, ==, "[work] pattern viewer");

    /* The bar above the frame: label colour with text in the contrasting
     * colour (black on yellow, white on red/gray/black ...). */
    BhRect xr;
    g_assert_true(bh_x_window_rect(env.dpy, xw, &xr));
    BhRect bar = {xr.x, xr.y, xr.width, found.y - BH_GUID_FRAME_PX - xr.y};
    g_assert_cmpint(bar.height, >=, 20);
    guint32 text = bh_label_text_rgb(env.label);
    guint label_px = 0, text_px = 0;
    for (int y = bar.y; y < bar.y + bar.height; y++)
        for (int x = bar.x; x < bar.x + bar.width; x++) {
            guint32 p = bh_shot_px(shot, x, y);
            label_px += p == env.label->rgb;
            text_px += p == text;
        }
    g_test_message("bar %dx%d: %u label pixels, %u text pixels", bar.width, bar.height, label_px, text_px);
    g_assert_cmpuint(label_px, >, (guint)(bar.width * bar.height) / 2);
    g_assert_cmpuint(text_px, >=, 30);

    /* Partial damage: the guest changes one rectangle of its buffer and says
     * so; only that rectangle changes on screen. */
    Image im2 = image_new(320, 200, 7);
    for (int y = 50; y < 90; y++)
        memcpy(im.buf + (gsize)y * im.stride + 100 * 4, im2.buf + (gsize)y * im2.stride + 100 * 4, 60 * 4);
    image_damage(view, &im, 100, 50, 60, 40);
    gboolean changed = FALSE;
    for (int i = 0; i < 400 && !changed; i++) {
        /* Everything that is ready, not only the highest priority: the
         * paint runs below the X events (see bh_wait_until). */
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        g_usleep(10000);
        g_autoptr(BhShot) s2 = bh_shot_take(env.dpy);
        BhRect r = {found.x + 100, found.y + 50, 60, 40};
        changed = bh_shot_diff(shot, s2, &r) > 0;
        if (changed) {
            BhRect all = {found.x, found.y, 320, 200};
            g_assert_cmpuint(bh_shot_diff(shot, s2, &all), ==, bh_shot_diff(shot, s2, &r));
            for (int y = 0; y < 40; y++)
                for (int x = 0; x < 60; x++)
                    g_assert_cmphex(bh_shot_px(s2, r.x + x, r.y + y), ==,
                                    bh_pattern_rgb(100 + x, 50 + y, 320, 200, 7));
            assert_frame(s2, &found, "toplevel after damage");
        }
    }
    g_assert_true(changed);

    gtk_window_destroy(GTK_WINDOW(win));
    g_free(im.buf);
    g_free(im2.buf);
}

/* Where each icon guid draws comes from: only compiled-in resources, never
 * an icon theme on disk. Reading the system's themes at every guid's start
 * was a tenth of a 20-qube burst's CPU (bench/RESULTS.md, "Start at scale
 * VII"), and the desktop's icon theme has no place in guid's title bar. */
static void test_icons_compiled_in(void)
{
    GtkIconTheme *theme = gtk_icon_theme_get_for_display(gdk_display_get_default());
    g_auto(GStrv) dirs = gtk_icon_theme_get_search_path(theme);
    g_assert_nonnull(dirs);
    g_assert_cmpuint(g_strv_length(dirs), ==, 0);

    g_autofree char *label_icon = bh_guid_label_icon_name(env.label);
    const char *const names[] = {"window-close-symbolic", "window-minimize-symbolic",
                                 "window-maximize-symbolic", label_icon};
    const char *const from[] = {"resource:///org/gtk/libgtk/icons/", "resource:///org/gtk/libgtk/icons/",
                                "resource:///org/gtk/libgtk/icons/", "resource:///org/bulkhead/icons/"};
    static const int sizes[] = {16, 48};
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
        for (gsize j = 0; j < G_N_ELEMENTS(sizes); j++) {
            g_autoptr(GtkIconPaintable) icon =
                gtk_icon_theme_lookup_icon(theme, names[i], NULL, sizes[j], 1, GTK_TEXT_DIR_NONE, 0);
            g_autoptr(GFile) file = gtk_icon_paintable_get_file(icon);
            g_autofree char *uri = file != NULL ? g_file_get_uri(file) : g_strdup("(none)");
            if (!g_str_has_prefix(uri, from[i]))
                g_error("%s at %d px comes from %s, not from %s", names[i], sizes[j], uri, from[i]);
        }
}

/* Every icon name in a resource directory tree (files of GTK's icon
 * suffixes), into names. */
static void collect_icon_names(const char *path, GHashTable *names)
{
    g_auto(GStrv) children = g_resources_enumerate_children(path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    for (gsize i = 0; children != NULL && children[i] != NULL; i++) {
        g_autofree char *child = g_build_path("/", path, children[i], NULL);
        if (g_str_has_suffix(children[i], "/")) {
            collect_icon_names(child, names);
            continue;
        }
        static const char *const suffixes[] = {".symbolic.png", ".png", ".svg", ".xpm"};
        for (gsize j = 0; j < G_N_ELEMENTS(suffixes); j++)
            if (g_str_has_suffix(children[i], suffixes[j])) {
                g_hash_table_add(names, g_strndup(children[i], strlen(children[i]) - strlen(suffixes[j])));
                break;
            }
    }
}

static char *icon_uri(GtkIconTheme *theme, const char *name, int size)
{
    g_autoptr(GtkIconPaintable) icon =
        gtk_icon_theme_lookup_icon(theme, name, NULL, size, 1, GTK_TEXT_DIR_NONE, 0);
    g_autoptr(GFile) file = gtk_icon_paintable_get_file(icon);
    return file != NULL ? g_file_get_uri(file) : g_strdup("(none)");
}

/* guid's launcher writes themes/guid-icon-index.theme for its guids
 * (bh_guid_style_write_icon_index): with it, every icon in GTK's and guid's
 * resources, at every size, is the same file as with GTK's built-in index. */
static void test_icon_index_same_icons(void)
{
    g_autofree char *dir = g_dir_make_tmp("bh-icon-index-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autoptr(GError) error = NULL;
    g_assert_true(bh_guid_style_write_icon_index(dir, &error));
    g_assert_no_error(error);

    g_autoptr(GtkIconTheme) builtin = gtk_icon_theme_new();
    g_autoptr(GtkIconTheme) indexed = gtk_icon_theme_new();
    const char *const none[] = {NULL}, *const ours[] = {dir, NULL};
    gtk_icon_theme_set_search_path(builtin, none);
    gtk_icon_theme_set_search_path(indexed, ours);
    gtk_icon_theme_add_resource_path(builtin, "/org/bulkhead/icons");
    gtk_icon_theme_add_resource_path(indexed, "/org/bulkhead/icons");

    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    collect_icon_names("/org/gtk/libgtk/icons/", names);
    collect_icon_names("/org/bulkhead/icons/", names);
    g_assert_cmpuint(g_hash_table_size(names), >, 150);
    static const int sizes[] = {8, 16, 22, 24, 32, 48, 64, 96, 128, 256};
    GHashTableIter it;
    gpointer name;
    guint compared = 0;
    g_hash_table_iter_init(&it, names);
    while (g_hash_table_iter_next(&it, &name, NULL))
        for (gsize j = 0; j < G_N_ELEMENTS(sizes); j++) {
            g_autofree char *want = icon_uri(builtin, name, sizes[j]);
            g_autofree char *got = icon_uri(indexed, name, sizes[j]);
            if (g_strcmp0(want, got) != 0)
                g_error("%s at %d px: %s with the index, %s with GTK's own", (const char *)name, sizes[j],
                        got, want);
            compared++;
        }
    g_test_message("%u lookups compared", compared);
    bh_guid_style_remove_icon_index(dir);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void test_popup(void)
{
    BhGuestView *view;
    Image im;
    BhRect found;
    BhGuestWindow *win = show_window("menu owner", 300, 200, 2, &view, &im, &found);

    /* Put the window against the right edge of the screen (there is no
     * window manager: move it as one would), then ask for a menu 2000 px to
     * the right of the content: past the screen edge. */
    Window xw = bh_x_find_window(env.dpy, "[work] menu owner", NULL);
    g_assert_cmpuint(xw, !=, 0);
    BhRect xr;
    g_assert_true(bh_x_window_rect(env.dpy, xw, &xr));
    XMoveWindow(env.dpy, xw, 1280 - xr.width, 300);
    XSync(env.dpy, False);
    g_assert_true(bh_wait_pattern(env.dpy, 300, 200, 2, TRUE, &found, 20000));
    g_assert_cmpint(found.x, >, 1280 - xr.width);

    GdkRGBA frame;
    bh_guid_style_label_rgba(env.label, &frame);
    GtkWidget *pview = bh_guest_view_new(&frame, 1280, 1000);
    Image pim = image_new(150, 90, BH_PATTERN_POPUP + 3);
    bh_guest_view_set_buffer_size(BH_GUEST_VIEW(pview), 150, 90);
    image_damage(BH_GUEST_VIEW(pview), &pim, 0, 0, 150, 90);
    GtkWidget *popover = bh_guest_popup_new(view, pview, 640, 768);
    bh_guest_popup_move(popover, 2000, 40);
    /* Popups show only while their toplevel is the active window. */
    gtk_window_present(GTK_WINDOW(win));
    bh_guest_popup_set_wanted(popover, TRUE);

    /* The popup's own outline (a 150x90 cyan box) must appear, whole. */
    BhRect pfound;
    gboolean seen = bh_wait_pattern(env.dpy, 150, 90, BH_PATTERN_POPUP + 3, TRUE, &pfound, 20000);
    g_autoptr(BhShot) last = bh_shot_take(env.dpy);
    g_autofree char *name = g_strdup_printf("guest-popup-%s", env.label->name);
    g_free(bh_shot_save(last, name));
    g_assert_true(seen);
    g_test_message("popup content at %d,%d", pfound.x, pfound.y);
    g_assert_cmpint(pfound.x + pfound.width + BH_GUID_FRAME_PX, <=, last->width);
    assert_frame(last, &pfound, "popup");
    /* Under the content, the band with "[work]" in the bar's text colour. */
    guint text_px = 0;
    for (int y = pfound.y + pfound.height + BH_GUID_FRAME_PX;
         y < pfound.y + pfound.height + BH_GUID_POPUP_TAG_PX; y++)
        for (int x = pfound.x; x < pfound.x + pfound.width; x++)
            text_px += bh_shot_px(last, x, y) == bh_label_text_rgb(env.label);
    g_test_message("popup name band: %u text pixels", text_px);
    g_assert_cmpuint(text_px, >=, 20);

    gtk_widget_unparent(popover);
    gtk_window_destroy(GTK_WINDOW(win));
    g_free(im.buf);
    g_free(pim.buf);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    const char *label = "red";
    for (int i = 1; i + 1 < argc; i++)
        if (g_str_equal(argv[i], "--label"))
            label = argv[i + 1];
    gtk_init();
    env.label = bh_label_lookup(label);
    g_assert_nonnull(env.label);
    env.dpy = bh_display_open();
    bh_guid_style_install(gdk_display_get_default(), env.label);

    g_test_add_func("/guid/window/frame-title-content", test_frame_title_content);
    g_test_add_func("/guid/window/popup", test_popup);
    g_test_add_func("/guid/window/icons-compiled-in", test_icons_compiled_in);
    g_test_add_func("/guid/window/icon-index-same-icons", test_icon_index_same_icons);
    int rc = g_test_run();
    XCloseDisplay(env.dpy);
    return rc;
}
