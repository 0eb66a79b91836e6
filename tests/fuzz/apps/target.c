/* target.c — libFuzzer entry point for the app-list decoder
 * (core/apps/apps.c): the input is what a qube's bulkhead-applist wrote, all
 * of it hostile. Built as a fuzzer with -Dfuzz=true and, always, as a replay
 * test over corpus/.
 *
 * Checks on every accepted list: at most BH_APPS_MAX_ENTRIES, ids that
 * bh_apps_id_ok accepts and no id twice, names not empty, every text valid
 * UTF-8 without a character the title sanitiser drops, icons of 1..64 a side
 * holding exactly w x h x 4 bytes; and that the encoder writes the list
 * again so that it decodes to the same apps.
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/apps.h"
#include "bulkhead/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s)
{
    size_t len = strlen(s);
    if (bh_gui_utf8_check((const uint8_t *)s, len) != len)
        abort();
    for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p))
        if (bh_gui_text_char_dropped(g_utf8_get_char(p)))
            abort();
}

static gboolean same(const BhApp *a, const BhApp *b)
{
    return strcmp(a->id, b->id) == 0 && strcmp(a->name, b->name) == 0 &&
           strcmp(a->generic, b->generic) == 0 && strcmp(a->categories, b->categories) == 0 &&
           strcmp(a->keywords, b->keywords) == 0 && a->icon_w == b->icon_w && a->icon_h == b->icon_h &&
           (a->icon == NULL ? b->icon == NULL : b->icon != NULL && g_bytes_equal(a->icon, b->icon));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char reason[160];
    GPtrArray *apps = bh_apps_decode(data, size, reason, sizeof reason);

    if (apps == NULL) {
        if (reason[0] == '\0')
            abort();
        return 0;
    }
    if (apps->len > BH_APPS_MAX_ENTRIES)
        abort();
    GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);
    GByteArray *again = g_byte_array_new();
    bh_apps_encode_begin(again);
    for (guint i = 0; i < apps->len; i++) {
        const BhApp *app = g_ptr_array_index(apps, i);
        if (!bh_apps_id_ok(app->id, strlen(app->id)) || !g_hash_table_add(ids, app->id) ||
            app->name[0] == '\0')
            abort();
        check_text(app->name);
        check_text(app->generic);
        check_text(app->categories);
        check_text(app->keywords);
        if (app->icon != NULL) {
            if (app->icon_w < 1 || app->icon_w > BH_APPS_MAX_ICON_SIDE || app->icon_h < 1 ||
                app->icon_h > BH_APPS_MAX_ICON_SIDE ||
                g_bytes_get_size(app->icon) != (gsize)app->icon_w * app->icon_h * 4)
                abort();
        } else if (app->icon_w != 0 || app->icon_h != 0) {
            abort();
        }
        if (!bh_apps_encode_add(again, app))
            abort();
    }
    /* Sanitised text is a fixed point of the sanitiser: the second pass
     * gives the same apps. */
    GPtrArray *second = bh_apps_decode(again->data, again->len, reason, sizeof reason);
    if (second == NULL || second->len != apps->len)
        abort();
    for (guint i = 0; i < apps->len; i++)
        if (!same(g_ptr_array_index(apps, i), g_ptr_array_index(second, i)))
            abort();
    g_ptr_array_unref(second);
    g_byte_array_unref(again);
    g_hash_table_unref(ids);
    g_ptr_array_unref(apps);
    return 0;
}
