/* main.c — bulkhead-agent: argument parsing around libbh_agent.
 *
 * Must never: hold logic the tests cannot reach through bh_agent_run(). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bulkhead/rpc-agent.h"
#include "bulkhead/rpc-protocol.h"
#include "config.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: bulkhead-agent [--user-name NAME] [--verbose]\n"
            "\n"
            "Runs inside a qube and answers dom0's RPC calls (run a program, with its\n"
            "stdin/stdout/stderr streamed and its exit status reported) on vchan port %d.\n"
            "It serves one dom0 connection at a time and listens again when dom0\n"
            "disconnects; SIGTERM or SIGINT stop it.\n"
            "\n"
            "  --user-name NAME  the user name this agent's uid answers to (default: from\n"
            "                    the passwd database). Calls for NAME or for no user run\n"
            "                    without switching; other users need the agent to run as\n"
            "                    root (uid 0 with CAP_SETUID/CAP_SETGID), else they fail.\n"
            "  --verbose         log every call, not only failures\n"
            "  --help            this text\n"
            "  --version         the version and the protocol version\n"
            "\n"
            "Environment: BH_VCHAN_DOMID (this qube's domain id), BH_VCHAN_DIR (socket\n"
            "transport directory), BH_VCHAN_TRANSPORT (socket|xen). Started programs\n"
            "inherit the agent's environment. See docs/rpc.md.\n",
            BH_RPC_VCHAN_PORT);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"user-name", required_argument, NULL, 'u'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct bh_agent_config cfg = {0};
    int c;

    while ((c = getopt_long(argc, argv, "u:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            cfg.user_name = optarg;
            break;
        case 'v':
            cfg.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("bulkhead-agent %s (RPC protocol %u.%u)\n", BH_VERSION, BH_RPC_PROTOCOL_MAJOR,
                   BH_RPC_PROTOCOL_MINOR);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "bulkhead-agent: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    if (cfg.user_name && strlen(cfg.user_name) > BH_RPC_MAX_USER_BYTES) {
        fprintf(stderr, "bulkhead-agent: --user-name longer than %u bytes\n", BH_RPC_MAX_USER_BYTES);
        return 2;
    }
    /* Started programs get 0..2 from pipes; a closed one here would make a
     * pipe land on it and be clobbered by the dup2 of another. */
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            return 1;
    }
    return bh_agent_run(&cfg);
}
