/* bh-guid-label.h — the qube's label as guid draws it: the CSS that paints
 * the bar, the icon name, and the list of names for error messages. The
 * colours themselves are the model's one table (bh_label_*, qubes.h).
 *
 * Must never: read the store or take a colour from the agent: the label comes
 * from guid's command line, which bulkheadd writes. */
#ifndef BH_GUID_LABEL_H
#define BH_GUID_LABEL_H

#include <glib.h>

#include "bulkhead/qubes.h"

G_BEGIN_DECLS

/* Every label name, comma-separated, for error messages. Free with g_free(). */
char *bh_guid_label_names(void);

/* CSS that defines @bh_label and @bh_label_text for this process's one label
 * as the colours themes/labels.css names for it (@bh_label_<name>, loaded
 * before it: the generated file is the one place the CSS gets colours from);
 * themes/guid.css uses them. Free with g_free(). */
char *bh_guid_label_css(const BhLabel *label);

/* Icon name in the "bh-label-<name>" family that guid's resources provide. */
char *bh_guid_label_icon_name(const BhLabel *label);

G_END_DECLS

#endif /* BH_GUID_LABEL_H */
