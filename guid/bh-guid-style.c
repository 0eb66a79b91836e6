/* bh-guid-style.c — guid's CSS, icons and label colours on a display. */
#include "bh-guid-style.h"

#include "bh-guid-resources.h"
#include "bh-labels-resources.h"

/* Above GTK_STYLE_PROVIDER_PRIORITY_USER (~/.config/gtk-4.0/gtk.css). */
#define BH_GUID_STYLE_PRIORITY (GTK_STYLE_PROVIDER_PRIORITY_USER + 10)

void bh_guid_style_install(GdkDisplay *display, const BhLabel *label)
{
    /* Referencing the resource keeps it linked in from the static library. */
    g_resources_register(bh_guid_get_resource());

    /* The label icons made at build time (icons/): bh-label-<label>. */
    bh_labels_register_resource();
    gtk_icon_theme_add_resource_path(gtk_icon_theme_get_for_display(display), "/org/bulkhead/icons");

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
