/* main.c — bulkhead-settings: qube creation, qube settings, the qube manager,
 * the network map and the global settings, as a client of bulkheadd.
 * Owns the process: logs on stderr and the exit status. Must never: hold
 * state; everything lives in BhSettingsApp. */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-app.h"

int main(int argc, char **argv)
{
    g_autoptr(BhSettingsApp) app = NULL;
    int status;

    g_log_writer_default_set_use_stderr(TRUE);
    app = bh_settings_app_new();
    status = g_application_run(G_APPLICATION(app), argc, argv);
    return status != 0 ? status : bh_settings_app_get_status(app);
}
