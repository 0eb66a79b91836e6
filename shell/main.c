/* main.c — bulkhead-shell: the desktop's panel, app menu and domains widget.
 * Owns the process: logs on stderr and the exit status. Must never: hold
 * state; everything lives in BhShellApp. */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-app.h"

int main(int argc, char **argv)
{
    g_autoptr(BhShellApp) app = NULL;

    g_log_writer_default_set_use_stderr(TRUE);
    app = bh_shell_app_new();
    return g_application_run(G_APPLICATION(app), argc, argv);
}
