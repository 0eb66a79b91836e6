/* bh-guid-args.h — guid's command line: which qube it draws, in which label
 * colour, which domain to connect to, and what the qube may do.
 *
 * Owns: argument syntax and checks (names and labels by the model's rules).
 * Must never: look anything up in the store: bulkheadd passes everything. */
#ifndef BH_GUID_ARGS_H
#define BH_GUID_ARGS_H

#include <glib.h>

#include "bh-guid-label.h"

G_BEGIN_DECLS

typedef struct {
    char *qube;
    const BhLabel *label;
    int domid;
    gboolean allow_fullscreen;
    gboolean warm_up;
    guint connect_timeout_ms;
} BhGuidArgs;

/* Parses argv (consumed as GOptionContext does). FALSE with a message that
 * says what to fix. */
gboolean bh_guid_args_parse(BhGuidArgs *args, int *argc, char ***argv, GError **error);
void bh_guid_args_clear(BhGuidArgs *args);

G_END_DECLS

#endif /* BH_GUID_ARGS_H */
