/* xen-detect.c — is this dom0 on Xen? Built with or without Xen, so the
 * daemon can say "this is dom0, but the xen backend is not built".
 *
 * Owns reading /proc/xen/capabilities. Must never: touch the hypervisor.
 */
#include "xen.h"

gboolean bh_xen_running_in_dom0(const char *capabilities_path)
{
    g_autofree char *text = NULL;
    const char *path = capabilities_path ? capabilities_path : "/proc/xen/capabilities";
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return FALSE;
    g_auto(GStrv) words = g_strsplit_set(text, ", \n", -1);
    return g_strv_contains((const char *const *)words, "control_d");
}
