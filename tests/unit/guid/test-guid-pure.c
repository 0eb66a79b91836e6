/* test-guid-pure.c — guid's display-free parts: label colours, input
 * translation and the Ctrl+Shift+C/V rule, and the tile image's cost model.
 *
 * Proves: text on the bar is black on light labels and white on dark ones;
 * the command line refuses what bulkheadd should never pass, saying why;
 * Ctrl+Shift+C/V (and only those) are kept from the guest, with their
 * releases and repeats; other keys repeat as dom0 repeats them; a damage of
 * ~5 % of a 1280x1024 window copies ~10 % of the bytes of a full frame
 * (tiles, not the whole image);
 * damage outside the image or a map shorter than claimed reads nothing out
 * of bounds; pixels land in the right tile with alpha forced opaque. */
#include <gtk/gtk.h>
#include <string.h>

#include "bh-guest-view.h"
#include "bh-guid-args.h"
#include "bh-guid-input.h"
#include "bh-guid-label.h"
#include "bh-guid-tiles.h"
#include "bh-labels-resources.h"

static void test_label_colours(void)
{
    struct {
        const char *name;
        guint32 rgb, text;
    } want[] = {
        {"red", 0xcc0000, 0xffffff},    {"orange", 0xf57900, 0x000000}, {"yellow", 0xedd400, 0x000000},
        {"green", 0x73d216, 0x000000},  {"gray", 0x555555, 0xffffff},   {"blue", 0x3465a4, 0xffffff},
        {"purple", 0x75507b, 0xffffff}, {"black", 0x000000, 0xffffff},
    };
    bh_labels_register_resource();
    g_autoptr(GBytes) css_file =
        g_resources_lookup_data("/org/bulkhead/theme/labels.css", G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    g_assert_nonnull(css_file);
    const char *palette = g_bytes_get_data(css_file, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const BhLabel *l = bh_label_lookup(want[i].name);
        g_assert_nonnull(l);
        g_assert_cmphex(l->rgb, ==, want[i].rgb);
        g_assert_cmphex(bh_label_text_rgb(l), ==, want[i].text);
        /* guid names its label's colours from themes/labels.css, which
         * holds the palette's values: one source for both. */
        g_autofree char *css = bh_guid_label_css(l);
        g_autofree char *alias = g_strdup_printf("@define-color bh_label @bh_label_%s;\n"
                                                 "@define-color bh_label_text @bh_label_%s_text;\n",
                                                 want[i].name, want[i].name);
        g_assert_cmpstr(css, ==, alias);
        g_autofree char *defined = g_strdup_printf("@define-color bh_label_%s #%06x;\n"
                                                   "@define-color bh_label_%s_text #%06x;\n",
                                                   want[i].name, want[i].rgb, want[i].name, want[i].text);
        g_assert_nonnull(strstr(palette, defined));
    }
    g_assert_null(bh_label_lookup("pink"));
    g_assert_null(bh_label_lookup(""));
    g_assert_null(bh_label_lookup(NULL));
}

/* Parse a command line given as one string; returns the error or NULL. */
static char *parse(const char *cmdline, BhGuidArgs *args)
{
    g_auto(GStrv) strings = NULL;
    int argc = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_shell_parse_argv(cmdline, &argc, &strings, NULL));
    /* Option parsing removes what it consumed from the vector: parse a
     * shallow copy so every string is still freed. */
    g_autofree char **argv = g_memdup2(strings, sizeof(char *) * (gsize)(argc + 1));
    memset(args, 0, sizeof *args);
    if (bh_guid_args_parse(args, &argc, &argv, &error))
        return NULL;
    return g_strdup(error->message);
}

static void test_args(void)
{
    BhGuidArgs a;
    g_assert_null(parse("guid --qube work --label blue --domid 3", &a));
    g_assert_cmpstr(a.qube, ==, "work");
    g_assert_cmpstr(a.label->name, ==, "blue");
    g_assert_cmpint(a.domid, ==, 3);
    g_assert_false(a.allow_fullscreen);
    g_assert_false(a.warm_up);
    g_assert_cmpuint(a.connect_timeout_ms, ==, 60000);
    bh_guid_args_clear(&a);
    g_assert_null(parse("guid --qube v --label black --domid 9 --allow-fullscreen "
                        "--connect-timeout 2 --warm-up",
                        &a));
    g_assert_true(a.allow_fullscreen);
    g_assert_true(a.warm_up);
    g_assert_cmpuint(a.connect_timeout_ms, ==, 2000);
    bh_guid_args_clear(&a);

    /* Each refusal says what to fix. */
    struct {
        const char *cmdline, *says;
    } bad[] = {
        {"guid --label red --domid 2", "--qube NAME is required"},
        {"guid --qube dom0 --label red --domid 2", "--qube"},
        {"guid --qube 'a b' --label red --domid 2", "--qube"},
        {"guid --qube work --label pink --domid 2", "one of: red, orange, yellow"},
        {"guid --qube work --domid 2", "not a label colour"},
        {"guid --qube work --label red", "--domid"},
        {"guid --qube work --label red --domid 0", "0 is dom0"},
        {"guid --qube work --label red --domid 2 --connect-timeout -1", "--connect-timeout"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *msg = parse(bad[i].cmdline, &a);
        g_assert_nonnull(msg);
        if (strstr(msg, bad[i].says) == NULL)
            g_error("'%s' said '%s', not '%s'", bad[i].cmdline, msg, bad[i].says);
        bh_guid_args_clear(&a);
    }
}

static void test_combo(void)
{
    const GdkModifierType cs = GDK_CONTROL_MASK | GDK_SHIFT_MASK;
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_C, GDK_KEY_C, cs), ==, BH_GUID_COMBO_COPY);
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_V, GDK_KEY_V, cs), ==, BH_GUID_COMBO_PASTE);
    /* Caps Lock does not matter; other modifiers do. */
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_c, GDK_KEY_c, cs | GDK_LOCK_MASK), ==, BH_GUID_COMBO_COPY);
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_c, GDK_KEY_c, GDK_CONTROL_MASK), ==, BH_GUID_COMBO_NONE);
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_C, GDK_KEY_C, GDK_SHIFT_MASK), ==, BH_GUID_COMBO_NONE);
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_C, GDK_KEY_C, cs | GDK_ALT_MASK), ==, BH_GUID_COMBO_NONE);
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_X, GDK_KEY_X, cs), ==, BH_GUID_COMBO_NONE);
    /* Cyrillic layout: the key that is C on the first layout still counts. */
    g_assert_cmpint(bh_guid_input_combo(GDK_KEY_Cyrillic_ES, GDK_KEY_c, cs), ==, BH_GUID_COMBO_COPY);
}

static void test_keys_filter(void)
{
    BhGuidKeys k;
    bh_guid_keys_reset(&k);
    /* 54 = xkb keycode of C on pc105/evdev. */
    g_assert_cmpint(bh_guid_keys_press(&k, 37, FALSE), ==, BH_GUID_KEY_FORWARD); /* Ctrl */
    g_assert_cmpint(bh_guid_keys_press(&k, 54, TRUE), ==, BH_GUID_KEY_DROP);     /* swallowed C */
    g_assert_cmpint(bh_guid_keys_press(&k, 54, TRUE), ==, BH_GUID_KEY_DROP);     /* repeat */
    g_assert_cmpint(bh_guid_keys_release(&k, 54), ==, BH_GUID_KEY_DROP);         /* its release too */
    g_assert_cmpint(bh_guid_keys_release(&k, 37), ==, BH_GUID_KEY_FORWARD);
    /* Auto-repeat of a normal key reaches the guest (repeat is dom0's). */
    g_assert_cmpint(bh_guid_keys_press(&k, 38, FALSE), ==, BH_GUID_KEY_FORWARD);
    g_assert_cmpint(bh_guid_keys_press(&k, 38, FALSE), ==, BH_GUID_KEY_FORWARD);
    g_assert_cmpint(bh_guid_keys_release(&k, 38), ==, BH_GUID_KEY_FORWARD);
    /* A release guid never saw pressed, and keycodes outside xkb's range. */
    g_assert_cmpint(bh_guid_keys_release(&k, 40), ==, BH_GUID_KEY_DROP);
    g_assert_cmpint(bh_guid_keys_press(&k, 3, FALSE), ==, BH_GUID_KEY_DROP);
    g_assert_cmpint(bh_guid_keys_press(&k, 256, FALSE), ==, BH_GUID_KEY_DROP);
    /* Focus loss forgets held keys. */
    g_assert_cmpint(bh_guid_keys_press(&k, 50, FALSE), ==, BH_GUID_KEY_FORWARD);
    bh_guid_keys_reset(&k);
    g_assert_cmpint(bh_guid_keys_release(&k, 50), ==, BH_GUID_KEY_DROP);
}

static void test_input_mapping(void)
{
    g_assert_cmphex(bh_guid_input_evdev_button(1), ==, 0x110);
    g_assert_cmphex(bh_guid_input_evdev_button(2), ==, 0x112);
    g_assert_cmphex(bh_guid_input_evdev_button(3), ==, 0x111);
    g_assert_cmphex(bh_guid_input_evdev_button(4), ==, 0);
    guint32 d, l;
    bh_guid_input_xkb_mods(GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_LOCK_MASK, &d, &l);
    g_assert_cmphex(d, ==, 0x5);
    g_assert_cmphex(l, ==, 0x2);
}

typedef struct {
    guint32 w, h, stride;
    guint8 *map;
    gsize size;
} Buf;

static Buf buf_new(guint32 w, guint32 h)
{
    Buf b = {w, h, w * 4 + 32, NULL, 0};
    b.size = (gsize)b.stride * h;
    b.map = g_malloc(b.size);
    for (guint32 y = 0; y < h; y++)
        for (guint32 x = 0; x < w; x++) {
            guint32 v = (x * 7) ^ (y << 12) ^ 0x00345678u; /* alpha byte 0: must become 0xff */
            memcpy(b.map + (gsize)y * b.stride + x * 4, &v, 4);
        }
    return b;
}

/* Draw the tile holding (x, y) the way the cairo renderer does and read the
 * pixel back: native-endian 0xAARRGGBB. */
static guint32 tile_pixel(BhGuidTiles *t, guint32 x, guint32 y)
{
    GskRenderNode *node = t->node[(y / BH_GUID_TILE_SIZE) * t->cols + x / BH_GUID_TILE_SIZE];
    g_assert_nonnull(node);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t *cr = cairo_create(s);
    cairo_translate(cr, -(double)x, -(double)y);
    gsk_render_node_draw(node, cr);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    guint32 v;
    memcpy(&v, cairo_image_surface_get_data(s), 4);
    cairo_surface_destroy(s);
    return v;
}

static void test_tiles_cost(void)
{
    Buf b = buf_new(1280, 1024);
    BhGuidTiles t;
    bh_guid_tiles_init(&t);
    bh_guid_tiles_resize(&t, 1280, 1024);
    g_assert_cmpuint(t.cols * t.rows, ==, 80);

    struct bh_gui_rect full = {0, 0, 1280, 1024};
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, &full, 1), ==, 80);
    guint64 full_bytes = t.stats.bytes_copied;
    g_assert_cmpuint(full_bytes, ==, 1280u * 1024u * 4u);

    /* 286x229 = 5.0 % of the window, not aligned to tiles: 4x2 tiles. */
    struct bh_gui_rect five = {500, 400, 286, 229};
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, &five, 1), ==, 8);
    guint64 five_bytes = t.stats.bytes_copied - full_bytes;
    g_test_message("full frame: %" G_GUINT64_FORMAT " bytes, 5%% damage: %" G_GUINT64_FORMAT
                   " bytes (%.1f %%)",
                   full_bytes, five_bytes, 100.0 * five_bytes / full_bytes);
    g_assert_cmpuint(five_bytes, ==, 8u * 128u * 128u * 4u);
    g_assert_cmpuint(five_bytes * 8, <, full_bytes); /* under 12.5 % of a full frame */

    /* Pixels: exact, alpha forced to opaque, whatever tile they are in. */
    guint32 probes[][2] = {{0, 0}, {1279, 1023}, {500, 400}, {785, 628}, {129, 1000}};
    for (gsize i = 0; i < G_N_ELEMENTS(probes); i++) {
        guint32 x = probes[i][0], y = probes[i][1], src;
        memcpy(&src, b.map + (gsize)y * b.stride + x * 4, 4);
        g_assert_cmphex(tile_pixel(&t, x, y), ==, src | 0xff000000u);
    }

    /* Overlapping rectangles copy each tile once. */
    struct bh_gui_rect overlap[2] = {{0, 0, 100, 100}, {50, 50, 10, 10}};
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, overlap, 2), ==, 1);

    bh_guid_tiles_clear(&t);
    g_free(b.map);
}

static void test_tiles_hostile(void)
{
    Buf b = buf_new(300, 200);
    BhGuidTiles t;
    bh_guid_tiles_init(&t);
    bh_guid_tiles_resize(&t, 300, 200);

    /* Outside, negative, huge: clipped to nothing or to the image. */
    struct bh_gui_rect out[] = {
        {300, 0, 10, 10},
        {0, 200, 10, 10},
        {-50, -50, 40, 40},
        {-5, -5, 10, 10},
        {0, 0, G_MAXUINT32, G_MAXUINT32},
        {G_MAXINT32, G_MAXINT32, G_MAXUINT32, G_MAXUINT32},
    };
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, out, 3), ==, 0);
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, &out[3], 1), ==, 1);
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, &out[4], 1), ==, 6);
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, &out[5], 1), ==, 0);

    /* A map shorter than the image claims: rows past it are not read (ASan
     * would catch a read) and stay black. */
    gsize short_size = (gsize)b.stride * 100;
    guint8 *short_map = g_memdup2(b.map, short_size);
    struct bh_gui_rect all = {0, 0, 300, 200};
    guint64 before = t.stats.bytes_copied;
    g_assert_cmpuint(bh_guid_tiles_update(&t, short_map, short_size, b.stride, &all, 1), ==, 6);
    g_assert_cmpuint(t.stats.bytes_copied - before, ==, 300u * 4u * 100u);
    g_free(short_map);

    /* Resize keeps tiles whose rectangle did not change, drops the rest. */
    bh_guid_tiles_update(&t, b.map, b.size, b.stride, &all, 1);
    GskRenderNode *kept = t.node[0];
    bh_guid_tiles_resize(&t, 280, 200);
    g_assert_true(t.node[0] == kept);
    g_assert_null(t.node[2]); /* the last column is narrower now */
    bh_guid_tiles_resize(&t, 0, 0);
    g_assert_cmpuint(bh_guid_tiles_update(&t, b.map, b.size, b.stride, &all, 1), ==, 0);

    bh_guid_tiles_clear(&t);
    g_free(b.map);
}

/* Issue 13 item 1: which popups stay popups. */
static void test_popup_bound(void)
{
    guint32 w, h;
    bh_guid_popup_bound(1280, 1024, &w, &h);
    g_assert_cmpuint(w, ==, 640);
    g_assert_cmpuint(h, ==, 768);
    /* menus, tooltips, a long list: popups */
    g_assert_false(bh_guid_popup_as_window(1280, 1024, 200, 300));
    g_assert_false(bh_guid_popup_as_window(1280, 1024, 640, 768));
    g_assert_false(bh_guid_popup_as_window(1280, 1024, 300, 760));
    /* the fake desktop of the issue, a wide fake window, a tall one: windows */
    g_assert_true(bh_guid_popup_as_window(1280, 1024, 1280, 800));
    g_assert_true(bh_guid_popup_as_window(1280, 1024, 641, 100));
    g_assert_true(bh_guid_popup_as_window(1280, 1024, 100, 769));
    g_assert_true(bh_guid_popup_as_window(1280, 1024, 7680, 4320));
    /* a degenerate screen still bounds (never 0: nothing would be a popup) */
    bh_guid_popup_bound(1, 1, &w, &h);
    g_assert_cmpuint(w, ==, 1);
    g_assert_cmpuint(h, ==, 1);
    g_assert_true(bh_guid_popup_as_window(1, 1, 2, 1));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* Render node types register lazily (gtk_init does it); no display here. */
    g_type_ensure(GSK_TYPE_CAIRO_NODE);
    g_test_add_func("/guid/label/colours", test_label_colours);
    g_test_add_func("/guid/args", test_args);
    g_test_add_func("/guid/input/combo", test_combo);
    g_test_add_func("/guid/input/keys-filter", test_keys_filter);
    g_test_add_func("/guid/input/mapping", test_input_mapping);
    g_test_add_func("/guid/tiles/cost", test_tiles_cost);
    g_test_add_func("/guid/tiles/hostile", test_tiles_hostile);
    g_test_add_func("/guid/popup/bound", test_popup_bound);
    return g_test_run();
}
