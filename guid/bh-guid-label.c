/* bh-guid-label.c — label CSS, icon names and name list for guid (see
 * bh-guid-label.h). Must never: accept a colour from the agent. */
#include "bh-guid-label.h"

char *bh_guid_label_names(void)
{
    const BhLabel *all = bh_labels();
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < BH_LABEL_COUNT; i++)
        g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", all[i].name);
    return g_string_free(s, FALSE);
}

char *bh_guid_label_css(const BhLabel *label)
{
    /* Names only: the colours are themes/labels.css's, loaded first. */
    return g_strdup_printf(
        "@define-color bh_label @bh_label_%s;\n@define-color bh_label_text @bh_label_%s_text;\n", label->name,
        label->name);
}

char *bh_guid_label_icon_name(const BhLabel *label)
{
    return g_strdup_printf("bh-label-%s", label->name);
}
