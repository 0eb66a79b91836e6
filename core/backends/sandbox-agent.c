/* sandbox-agent.c — where a qube's RPC agent listens; see sandbox-qube.h.
 *
 * Owns the backend's agent_address operation: a running qube's agent serves
 * the RPC port on the socket transport in the qube's own vchan directory,
 * under the qube's qid as its domain id. Connecting, running commands and
 * waiting for an adopted qube's agent are the daemon's (core/daemon/
 * bh-agent-set.c); this file must never talk RPC itself, and dom0 never
 * enters a qube: a qube without an agent answering gets no command at all
 * (docs/sandbox.md, "Running commands").
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "config.h"

#include "sandbox-qube.h"

#include <bulkhead/program-path.h>
#include <bulkhead/vchan.h>

const char *bh_sandbox_agent_path(void)
{
    return bh_program_path("BH_AGENT_PATH", BH_BUILD_ROOT "/core/rpc/bulkhead-agent",
                           BH_LIBEXECDIR "/bulkhead-agent");
}

gboolean bh_sandbox_agent_address(BhBackend *backend, const char *name, BhBackendAgentAddress *out,
                                  GError **error)
{
    BhSandbox *sb = (BhSandbox *)backend;
    BhSandboxQube *q = bh_sandbox_require(sb, name, BH_POWER_RUNNING, "run a command in", error);
    if (q == NULL)
        return FALSE;
    if (!sb->has_agent) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE,
                    "cannot run a command in %s: this installation has no bulkhead-agent to start it inside "
                    "the qube; install or build it and restart bulkheadd",
                    name);
        return FALSE;
    }
    out->transport = BH_VCHAN_SOCKET;
    out->domid = (int)q->qid;
    out->ready_timeout_ms = BH_SANDBOX_AGENT_TIMEOUT_MS;
    return TRUE;
}
