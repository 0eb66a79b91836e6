/* rpc-agent.h — bulkhead-agent, the RPC server inside a qube (libbh_agent;
 * core/rpc/agent/main.c is only argument parsing around it).
 *
 * Owns: serving dom0's RPC connection on vchan port BH_RPC_VCHAN_PORT
 * (peer domain 0; this qube's domain from BH_VCHAN_DOMID), running
 * commands as `/bin/sh -c CMDLINE`, streaming their stdio, reporting their
 * exit, reaping children, and listening again after dom0 disconnects.
 * Must never: trust dom0's messages unchecked (they pass the same decoder,
 * defence in depth), block on a child or on dom0, or run a command as a
 * user other than the one asked for. */
#ifndef BULKHEAD_RPC_AGENT_H
#define BULKHEAD_RPC_AGENT_H

#include <stdbool.h>

struct bh_agent_config {
    /* The name the agent's own uid answers to; NULL = from the passwd
     * database (getpwuid). EXEC for this name or for "" runs without
     * switching users. The sandbox backend passes "user". */
    const char *user_name;
    /* Log every call (stderr), not only failures. */
    bool verbose;
};

/* Serves connections until SIGTERM or SIGINT; returns the process exit code
 * (0 after a signal, 1 when the vchan server cannot be created). Blocks
 * SIGCHLD, SIGTERM, SIGINT (read through a signalfd) and ignores SIGPIPE
 * for the process; started programs get default signal handling back. */
int bh_agent_run(const struct bh_agent_config *cfg);

#endif /* BULKHEAD_RPC_AGENT_H */
