/* program-path.h — which binary of ours a dom0 component starts (guid for
 * the daemon, bulkhead-agent for the sandbox backend), chosen one way.
 *
 * Owns the order: the environment variable when set (tests, packagers),
 * else the one in this build tree when it exists (development: both ends
 * always come from the same build), else the installed one. Must never:
 * search PATH (a user's PATH is not what dom0 should run).
 */
#pragma once

#include <glib.h>

static inline const char *bh_program_path(const char *env_var, const char *built, const char *installed)
{
    const char *env = g_getenv(env_var);
    if (env && *env)
        return env;
    if (g_file_test(built, G_FILE_TEST_IS_EXECUTABLE))
        return built;
    return installed;
}
