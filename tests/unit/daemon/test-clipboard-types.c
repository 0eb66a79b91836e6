/* test-clipboard-types.c — the contents types of org.bulkhead.Clipboard1
 * (core/dbus/bh-dbus-clipboard-types.h): an image's type is accepted in its
 * one spelling only, 1..4096 a side; bulkheadd and guid both rely on it to
 * size the pixels they take. */
#include <glib.h>

#include "bh-dbus-clipboard-types.h"

static void test_image_type(void)
{
    guint32 w = 0, h = 0;
    g_autofree char *t = bh_clipboard_image_type(1920, 1080);
    g_assert_cmpstr(t, ==, "image/x-bulkhead-rgba;width=1920;height=1080");
    g_assert_true(bh_clipboard_image_type_parse(t, &w, &h));
    g_assert_cmpuint(w, ==, 1920);
    g_assert_cmpuint(h, ==, 1080);
    g_assert_true(bh_clipboard_image_type_parse("image/x-bulkhead-rgba;width=4096;height=1", &w, &h));
    g_assert_true(bh_clipboard_image_type_parse("image/x-bulkhead-rgba;width=1;height=4096", &w, &h));

    const char *refused[] = {
        "image/x-bulkhead-rgba;width=0;height=1",
        "image/x-bulkhead-rgba;width=4097;height=1",
        "image/x-bulkhead-rgba;width=1;height=4097",
        "image/x-bulkhead-rgba;width=4294967297;height=1", /* wraps to 1 in 32 bits */
        "image/x-bulkhead-rgba;width=01;height=2",         /* another spelling of 1 */
        "image/x-bulkhead-rgba;width=+1;height=2",
        "image/x-bulkhead-rgba;width= 1;height=2",
        "image/x-bulkhead-rgba;width=1;height=2;",
        "image/x-bulkhead-rgba;width=1;height=2 ",
        "image/x-bulkhead-rgba;width=1;height=",
        "image/x-bulkhead-rgba;width=-1;height=2",
        "image/png",
        BH_CLIPBOARD_TYPE_TEXT,
        BH_CLIPBOARD_TYPE_OTHER,
        "",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
        w = h = 7;
        if (bh_clipboard_image_type_parse(refused[i], &w, &h))
            g_error("'%s' taken as an image of %ux%u", refused[i], w, h);
        g_assert_cmpuint(w, ==, 7); /* untouched */
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/clipboard-types/image", test_image_type);
    return g_test_run();
}
