/* bh-guid-args.c — guid's command line (see bh-guid-args.h). */
#include "bh-guid-args.h"

#include <string.h>

gboolean bh_guid_args_parse(BhGuidArgs *args, int *argc, char ***argv, GError **error)
{
    g_autofree char *qube = NULL, *label = NULL;
    int domid = -1, timeout_s = 60;
    gboolean allow_fullscreen = FALSE, warm_up = FALSE;
    GOptionEntry entries[] = {
        {"qube", 0, 0, G_OPTION_ARG_STRING, &qube, "The qube whose windows to show", "NAME"},
        {"label", 0, 0, G_OPTION_ARG_STRING, &label, "Its label colour", "COLOUR"},
        {"domid", 0, 0, G_OPTION_ARG_INT, &domid, "Its domain id (vchan peer)", "N"},
        {"allow-fullscreen", 0, 0, G_OPTION_ARG_NONE, &allow_fullscreen,
         "Let it go full screen (otherwise full screen becomes maximised)", NULL},
        {"warm-up", 0, 0, G_OPTION_ARG_NONE, &warm_up,
         "Once connected, prepare the first window ahead (for a qube started before it is used)", NULL},
        {"connect-timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
         "Seconds to wait for the agent to listen (default 60)", "S"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- show one qube's windows");
    g_option_context_set_summary(ctx, "Draws the windows of one qube with its label-coloured "
                                      "frame and title prefix; started by bulkheadd.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;

    g_autoptr(GError) name_error = NULL;
    if (qube == NULL) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--qube NAME is required: the qube whose windows to show");
        return FALSE;
    }
    if (!bh_qube_name_validate(qube, &name_error)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--qube: %s", name_error->message);
        return FALSE;
    }
    const BhLabel *l = bh_label_lookup(label);
    if (l == NULL) {
        g_autofree char *names = bh_guid_label_names();
        g_autofree char *quoted = bh_qubes_quote(label);
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--label %s is not a label colour (one of: %s)", quoted, names);
        return FALSE;
    }
    if (domid <= 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--domid must be the qube's domain id (> 0; 0 is dom0 itself)");
        return FALSE;
    }
    if (timeout_s < 0 || timeout_s > 3600) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--connect-timeout must be 0..3600 seconds");
        return FALSE;
    }
    args->qube = g_steal_pointer(&qube);
    args->label = l;
    args->domid = domid;
    args->allow_fullscreen = allow_fullscreen;
    args->warm_up = warm_up;
    args->connect_timeout_ms = (guint)timeout_s * 1000u;
    return TRUE;
}

void bh_guid_args_clear(BhGuidArgs *args)
{
    g_clear_pointer(&args->qube, g_free);
}
