/* bh-guid-label.h — the qube's label as guid draws it: frame/bar colour,
 * readable text colour, icon name and the CSS that paints the bar.
 *
 * Owns: the colour a label name stands for on guid's side, until the model's
 * bh_label_* table is merged (then this becomes a thin wrapper over it).
 * Must never: read the store or take a colour from the agent: the label comes
 * from guid's command line, which bulkheadd writes. */
#ifndef BH_GUID_LABEL_H
#define BH_GUID_LABEL_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *name; /* "red" ... "black" */
    guint32 rgb;      /* 0xRRGGBB */
} BhGuidLabel;

/* NULL when `name` is not a label colour. */
const BhGuidLabel *bh_guid_label_lookup(const char *name);
/* Every known label name, comma-separated, for error messages. */
const char *bh_guid_label_names(void);

/* 0x000000 or 0xffffff: whichever contrasts more with the label colour
 * (WCAG relative luminance), so the bar stays readable on yellow and black. */
guint32 bh_guid_label_text_rgb(const BhGuidLabel *label);

/* CSS that defines @bh_label and @bh_label_text for this process's one label;
 * themes/guid.css uses them. Free with g_free(). */
char *bh_guid_label_css(const BhGuidLabel *label);

/* Icon name in the "bh-label-<name>" family that guid's resources provide. */
char *bh_guid_label_icon_name(const BhGuidLabel *label);

G_END_DECLS

#endif /* BH_GUID_LABEL_H */
