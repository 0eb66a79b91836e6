/* bulkhead-applist — runs inside a qube (a guest program, like
 * bulkhead-agent): lists the applications the qube can run, for dom0's menu,
 * and launches one by its id.
 *
 *   bulkhead-applist              the list on stdout (docs/apps.md)
 *   bulkhead-applist --launch ID  starts the desktop entry ID, detached
 *   bulkhead-applist --launch ID --wait   ... and exits when it does
 *
 * Owns: reading the qube's desktop entries with GLib's parser
 * (GDesktopAppInfo) and rendering their icons to raw pixels here, in the
 * qube, so that dom0 never decodes an image file.
 * Must never: write a record dom0's decoder would refuse (each goes through
 * bh_apps_encode_add, which checks it with that decoder), or take anything
 * but an id from dom0 for a launch (the Exec line is this qube's own). */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gdesktopappinfo.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bulkhead/apps.h"

/* What the menu draws; 64 is the format's limit, 32 keeps a list of a
 * thousand apps under 5 MiB. */
#define ICON_SIDE 32

static char *find_icon_file(const char *name)
{
    static const char *const sizes[] = {"32x32",    "48x48", "64x64", "128x128", "256x256",
                                        "scalable", "24x24", "16x16", NULL};
    static const char *const exts[] = {".png", ".svg", ".xpm", NULL};
    g_autoptr(GPtrArray) bases = g_ptr_array_new_with_free_func(g_free);

    if (name[0] == '/')
        return g_file_test(name, G_FILE_TEST_IS_REGULAR) ? g_strdup(name) : NULL;
    if (strchr(name, '/') != NULL)
        return NULL;
    g_ptr_array_add(bases, g_build_filename(g_get_user_data_dir(), "icons", NULL));
    for (const char *const *d = g_get_system_data_dirs(); *d != NULL; d++)
        g_ptr_array_add(bases, g_build_filename(*d, "icons", NULL));
    for (guint b = 0; b < bases->len; b++)
        for (const char *const *s = sizes; *s != NULL; s++)
            for (const char *const *e = exts; *e != NULL; e++) {
                g_autofree char *file = g_strconcat(name, *e, NULL);
                g_autofree char *path =
                    g_build_filename(g_ptr_array_index(bases, b), "hicolor", *s, "apps", file, NULL);
                if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
                    return g_steal_pointer(&path);
            }
    for (const char *const *e = exts; *e != NULL; e++) {
        g_autofree char *file = g_strconcat(name, *e, NULL);
        g_autofree char *path = g_build_filename("/usr/share/pixmaps", file, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            return g_steal_pointer(&path);
    }
    return NULL;
}

/* The icon as ICON_SIDE x ICON_SIDE RGBA rows without padding, or NULL. */
static GBytes *render_icon(GAppInfo *info)
{
    GIcon *icon = g_app_info_get_icon(info);
    g_autofree char *path = NULL;
    g_autoptr(GdkPixbuf) loaded = NULL;
    g_autoptr(GdkPixbuf) rgba = NULL;
    g_autoptr(GdkPixbuf) square = NULL;
    guint8 *pixels;

    if (icon == NULL)
        return NULL;
    if (G_IS_FILE_ICON(icon)) {
        path = g_file_get_path(g_file_icon_get_file(G_FILE_ICON(icon)));
    } else if (G_IS_THEMED_ICON(icon)) {
        for (const char *const *n = g_themed_icon_get_names(G_THEMED_ICON(icon)); *n && !path; n++)
            path = find_icon_file(*n);
    }
    if (path == NULL)
        return NULL;
    loaded = gdk_pixbuf_new_from_file_at_scale(path, ICON_SIDE, ICON_SIDE, TRUE, NULL);
    if (loaded == NULL)
        return NULL;
    /* Centre it on a transparent square, 8 bits per channel with alpha. */
    rgba = gdk_pixbuf_add_alpha(loaded, FALSE, 0, 0, 0);
    square = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, ICON_SIDE, ICON_SIDE);
    if (rgba == NULL || square == NULL)
        return NULL;
    gdk_pixbuf_fill(square, 0);
    int w = MIN(gdk_pixbuf_get_width(rgba), ICON_SIDE), h = MIN(gdk_pixbuf_get_height(rgba), ICON_SIDE);
    gdk_pixbuf_copy_area(rgba, 0, 0, w, h, square, (ICON_SIDE - w) / 2, (ICON_SIDE - h) / 2);
    pixels = g_malloc((gsize)ICON_SIDE * ICON_SIDE * 4);
    for (int y = 0; y < ICON_SIDE; y++)
        memcpy(pixels + (gsize)y * ICON_SIDE * 4,
               gdk_pixbuf_read_pixels(square) + (gsize)y * gdk_pixbuf_get_rowstride(square), ICON_SIDE * 4);
    return g_bytes_new_take(pixels, (gsize)ICON_SIDE * ICON_SIDE * 4);
}

static char *joined(const char *const *words)
{
    if (words == NULL || words[0] == NULL)
        return g_strdup("");
    g_autofree char *j = g_strjoinv(";", (char **)words);
    return g_strconcat(j, ";", NULL);
}

static gint by_id(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(g_app_info_get_id(*(GAppInfo *const *)a), g_app_info_get_id(*(GAppInfo *const *)b));
}

static int list_apps(void)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GList *all = g_app_info_get_all();
    g_autoptr(GPtrArray) infos = g_ptr_array_new_with_free_func(g_object_unref);
    guint skipped = 0;

    for (GList *l = all; l != NULL; l = l->next)
        g_ptr_array_add(infos, l->data);
    g_list_free(all);
    g_ptr_array_sort(infos, by_id);

    bh_apps_encode_begin(out);
    for (guint i = 0; i < infos->len; i++) {
        GAppInfo *info = g_ptr_array_index(infos, i);
        GDesktopAppInfo *desktop = G_DESKTOP_APP_INFO(info);
        const char *id = g_app_info_get_id(info);

        if (id == NULL || !g_app_info_should_show(info) || g_hash_table_contains(seen, id))
            continue;
        g_autofree char *categories = g_strdup(g_desktop_app_info_get_categories(desktop));
        g_autofree char *keywords = joined(g_desktop_app_info_get_keywords(desktop));
        g_autoptr(GBytes) icon = render_icon(info);
        BhApp app = {
            .id = (char *)id,
            .name = (char *)g_app_info_get_name(info),
            .generic = (char *)g_desktop_app_info_get_generic_name(desktop),
            .categories = categories ? categories : "",
            .keywords = keywords,
            .icon_w = icon ? ICON_SIDE : 0,
            .icon_h = icon ? ICON_SIDE : 0,
            .icon = icon,
        };
        /* A record dom0 would refuse (a long name, an odd id) is left out, and
         * so is the icon when the list would grow past its bound. */
        if (!bh_apps_encode_add(out, &app)) {
            app.icon_w = app.icon_h = 0;
            app.icon = NULL;
            if (!bh_apps_encode_add(out, &app)) {
                skipped++;
                continue;
            }
        }
        g_hash_table_add(seen, g_strdup(id));
    }
    if (skipped > 0)
        g_printerr("bulkhead-applist: %u desktop entries left out (dom0 would refuse them)\n", skipped);
    for (gsize done = 0; done < out->len;) {
        ssize_t n = write(STDOUT_FILENO, out->data + done, out->len - done);
        if (n <= 0) {
            perror("bulkhead-applist: writing the list");
            return 1;
        }
        done += (gsize)n;
    }
    return 0;
}

static void on_app_exited(GPid pid, gint status, gpointer data)
{
    g_spawn_close_pid(pid);
    g_main_loop_quit(data);
}

static void on_app_spawned(GDesktopAppInfo *info, GPid pid, gpointer data)
{
    *(GPid *)data = pid;
}

/* wait: stay until the app's process ends (a disposable lives that long). */
static int launch(const char *id, gboolean wait)
{
    g_autoptr(GDesktopAppInfo) info = NULL;
    g_autoptr(GError) error = NULL;
    GPid pid = 0;

    if (!bh_apps_id_ok(id, strlen(id)) || (info = g_desktop_app_info_new(id)) == NULL) {
        g_printerr("bulkhead-applist: no application %s in this qube\n", id);
        return 2;
    }
    /* The app gets none of our streams: dom0 waits for the end of our
     * output, which must come when we exit, not when the app does. */
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    gboolean ok =
        null_fd >= 0 && g_desktop_app_info_launch_uris_as_manager_with_fds(
                            info, NULL, NULL, G_SPAWN_SEARCH_PATH | (wait ? G_SPAWN_DO_NOT_REAP_CHILD : 0),
                            NULL, NULL, on_app_spawned, &pid, null_fd, null_fd, null_fd, &error);
    if (null_fd >= 0)
        close(null_fd);
    if (!ok) {
        g_printerr("bulkhead-applist: cannot start %s: %s\n", id, error ? error->message : g_strerror(errno));
        return 1;
    }
    if (wait && pid > 0) {
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
        g_child_watch_add(pid, on_app_exited, loop);
        g_main_loop_run(loop);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return list_apps();
    if (argc == 3 && strcmp(argv[1], "--launch") == 0)
        return launch(argv[2], FALSE);
    if (argc == 4 && strcmp(argv[1], "--launch") == 0 && strcmp(argv[3], "--wait") == 0)
        return launch(argv[2], TRUE);
    g_printerr("usage: bulkhead-applist [--launch DESKTOP-ID [--wait]]\n");
    return 2;
}
