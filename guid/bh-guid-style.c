/* bh-guid-style.c — guid's CSS, icons and label colours on a display. */
#include "bh-guid-style.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bh-guid-resources.h"
#include "bh-labels-resources.h"

/* Above GTK_STYLE_PROVIDER_PRIORITY_USER (~/.config/gtk-4.0/gtk.css). */
#define BH_GUID_STYLE_PRIORITY (GTK_STYLE_PROVIDER_PRIORITY_USER + 10)

/* The name guid's theme has in its GResource (bh-guid.gresource.xml). */
#define BH_GUID_THEME "BulkheadGuid"

static void register_resources(void)
{
    /* Once per process (main selects the theme before GTK starts, then
     * installs the style; tests only install). Referencing the resource
     * keeps it linked in from the static library. */
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        g_resources_register(bh_guid_get_resource());
        g_once_init_leave(&done, 1);
    }
}

void bh_guid_style_select_theme(void)
{
    register_resources();
    /* The environment, not GtkSettings: GTK reads its theme's name when it
     * first styles anything, and GTK_THEME wins over the X settings (the
     * desktop's theme name, dark or light). A theme GTK cannot find makes
     * it fall back to its default: slower, the same look (guid.css). */
    g_setenv("GTK_THEME", BH_GUID_THEME, TRUE);
}

void bh_guid_style_install(GdkDisplay *display, const BhLabel *label)
{
    register_resources();

    /* The label icons made at build time (icons/): bh-label-<label>. */
    bh_labels_register_resource();
    GtkIconTheme *icons = gtk_icon_theme_get_for_display(display);
    /* guid draws only compiled-in icons: its label icons and the title
     * buttons' window-{close,minimize,maximize}-symbolic, which GTK carries
     * in its own resources (the same bytes as Adwaita's). No search path
     * keeps GTK from reading the system's icon themes (hicolor's
     * index.theme alone is 3,000 lines) at every guid's start, and the
     * desktop's icon theme from guid's title bar. GTK queued that read in
     * a pool thread just now; it takes the theme's lock, as this call
     * does: set first (the usual case), the thread reads only GTK's
     * built-in index; set second, it replaces a finished read before any
     * window exists (bench/RESULTS.md, "Start at scale VII"). With the
     * launcher's index (bh_guid_style_write_icon_index) the search path is
     * that one directory: GTK then reads a 20-directory hicolor index
     * instead of its built-in 649-directory one ("Start at scale IX"). */
    const char *index_dir = g_getenv(BH_GUID_ICON_INDEX_ENV);
    const char *const dirs[] = {index_dir != NULL && *index_dir != '\0' ? index_dir : NULL, NULL};
    gtk_icon_theme_set_search_path(icons, dirs);
    gtk_icon_theme_add_resource_path(icons, "/org/bulkhead/icons");

    /* The palette as themes/labels.css has it (compiled in: nothing a qube
     * can reach), then this qube's label named from it, in one provider so
     * the names resolve. */
    g_autoptr(GBytes) palette =
        g_resources_lookup_data("/org/bulkhead/theme/labels.css", G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    g_autofree char *own = bh_guid_label_css(label);
    g_autofree char *colours =
        g_strconcat(palette != NULL ? (const char *)g_bytes_get_data(palette, NULL) : "", "\n", own, NULL);
    g_autoptr(GtkCssProvider) label_css = gtk_css_provider_new();
    gtk_css_provider_load_from_data(label_css, colours, -1);
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(label_css),
                                               BH_GUID_STYLE_PRIORITY);

    g_autoptr(GtkCssProvider) theme = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(theme, "/org/bulkhead/guid/guid.css");
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(theme), BH_GUID_STYLE_PRIORITY);
}

void bh_guid_style_label_rgba(const BhLabel *label, GdkRGBA *out)
{
    out->red = ((label->rgb >> 16) & 0xff) / 255.0f;
    out->green = ((label->rgb >> 8) & 0xff) / 255.0f;
    out->blue = (label->rgb & 0xff) / 255.0f;
    out->alpha = 1.0f;
}

gboolean bh_guid_style_write_icon_index(const char *dir, GError **error)
{
    register_resources();
    g_autoptr(GBytes) index =
        g_resources_lookup_data("/org/bulkhead/guid/icon-index.theme", G_RESOURCE_LOOKUP_FLAGS_NONE, error);
    if (index == NULL)
        return FALSE;
    g_autofree char *theme_dir = g_build_filename(dir, "hicolor", NULL);
    if (g_mkdir_with_parents(theme_dir, 0700) < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot make %s: %s", theme_dir,
                    g_strerror(e));
        return FALSE;
    }
    g_autofree char *file = g_build_filename(theme_dir, "index.theme", NULL);
    gsize len = 0, old_len = 0;
    const char *data = g_bytes_get_data(index, &len);
    /* Left as it is when it is already this: a new file would change the
     * directory's time, and every running guid's GTK would reload its
     * icon theme at its next lookup. */
    g_autofree char *old = NULL;
    if (g_file_get_contents(file, &old, &old_len, NULL) && old_len == len && memcmp(old, data, len) == 0)
        return TRUE;
    return g_file_set_contents_full(file, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

void bh_guid_style_remove_icon_index(const char *dir)
{
    g_autofree char *theme_dir = g_build_filename(dir, "hicolor", NULL);
    g_autofree char *file = g_build_filename(theme_dir, "index.theme", NULL);
    g_unlink(file);
    g_rmdir(theme_dir);
    g_rmdir(dir);
}
