/* bh-guid-label.c — label name -> colours for guid (see bh-guid-label.h).
 * Must never: accept a colour from the agent. */
#include "bh-guid-label.h"

#include <math.h>

/* The Qubes label palette, as in shared/DESIGN.md (model section). */
static const BhGuidLabel labels[] = {
    {"red", 0xcc0000},  {"orange", 0xf57900}, {"yellow", 0xedd400}, {"green", 0x73d216},
    {"gray", 0x555555}, {"blue", 0x3465a4},   {"purple", 0x75507b}, {"black", 0x000000},
};

const BhGuidLabel *bh_guid_label_lookup(const char *name)
{
    if (name == NULL)
        return NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(labels); i++)
        if (g_str_equal(labels[i].name, name))
            return &labels[i];
    return NULL;
}

const char *bh_guid_label_names(void)
{
    return "red, orange, yellow, green, gray, blue, purple, black";
}

static double channel_linear(guint32 c8)
{
    double c = c8 / 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

guint32 bh_guid_label_text_rgb(const BhGuidLabel *label)
{
    guint32 rgb = label->rgb;
    double lum = 0.2126 * channel_linear((rgb >> 16) & 0xff) +
                 0.7152 * channel_linear((rgb >> 8) & 0xff) + 0.0722 * channel_linear(rgb & 0xff);
    /* Contrast ratios against pure black and pure white text. */
    double with_black = (lum + 0.05) / 0.05;
    double with_white = 1.05 / (lum + 0.05);
    return with_black >= with_white ? 0x000000 : 0xffffff;
}

char *bh_guid_label_css(const BhGuidLabel *label)
{
    return g_strdup_printf("@define-color bh_label #%06x;\n@define-color bh_label_text #%06x;\n",
                           label->rgb, bh_guid_label_text_rgb(label));
}

char *bh_guid_label_icon_name(const BhGuidLabel *label)
{
    return g_strdup_printf("bh-label-%s", label->name);
}
