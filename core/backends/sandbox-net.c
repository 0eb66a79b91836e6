/* sandbox-net.c — veth links and netvm forwarding; see sandbox-net.h.
 *
 * The commands are fixed text plus addresses and interface names derived
 * from qids (integers), so nothing a qube chooses ever reaches them.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-net.h"

#include <gio/gio.h>

/* Qubes behind a netvm never reach each other; they reach the netvm and
 * whatever it forwards to upstream (its own eth0), masqueraded so that the
 * upstream needs no route back. */
static const char bh_netvm_rules[] = "table inet bulkhead\n"
                                     "delete table inet bulkhead\n"
                                     "table inet bulkhead {\n"
                                     "  chain forward {\n"
                                     "    type filter hook forward priority filter; policy drop;\n"
                                     "    ct state established,related accept\n"
                                     "    iifname \"vif*\" oifname != \"vif*\" accept\n"
                                     "  }\n"
                                     "  chain postrouting {\n"
                                     "    type nat hook postrouting priority srcnat; policy accept;\n"
                                     "    oifname != \"vif*\" ip saddr 10.137.0.0/16 masquerade\n"
                                     "  }\n"
                                     "}\n";

char *bh_sandbox_net_address(guint32 qid)
{
    return g_strdup_printf("10.137.%u.%u", (qid >> 8) & 0xff, qid & 0xff);
}

char *bh_sandbox_net_gateway(guint32 netvm_qid)
{
    return g_strdup_printf("10.138.%u.%u", (netvm_qid >> 8) & 0xff, netvm_qid & 0xff);
}

/* Runs argv inside pid's network namespace with input on stdin. */
static gboolean bh_net_run(pid_t pid, const char *const *argv, const char *input, GError **error)
{
    g_autofree char *ns = g_strdup_printf("--net=/proc/%d/ns/net", (int)pid);
    g_autoptr(GPtrArray) full = g_ptr_array_new();
    g_ptr_array_add(full, "nsenter");
    g_ptr_array_add(full, ns);
    g_ptr_array_add(full, "--");
    for (const char *const *a = argv; *a; a++)
        g_ptr_array_add(full, (gpointer)*a);
    g_ptr_array_add(full, NULL);

    g_autoptr(GSubprocess) p = g_subprocess_newv(
        (const char *const *)full->pdata,
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
        error);
    g_autofree char *err = NULL;
    if (p == NULL || !g_subprocess_communicate_utf8(p, input, NULL, NULL, &err, error))
        return FALSE;
    if (!g_subprocess_get_successful(p)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed in the network namespace of pid %d: %s",
                    argv[0], (int)pid, err ? g_strstrip(err) : "");
        return FALSE;
    }
    return TRUE;
}

gboolean bh_sandbox_net_provide(pid_t pid, GError **error)
{
    static const char *const sysctl[] = {"sysctl", "-q", "-w", "net.ipv4.ip_forward=1", NULL};
    static const char *const nft[] = {"nft", "-f", "-", NULL};
    return bh_net_run(pid, sysctl, NULL, error) && bh_net_run(pid, nft, bh_netvm_rules, error);
}

gboolean bh_sandbox_net_link(pid_t netvm_pid, guint32 netvm_qid, pid_t pid, guint32 qid, GError **error)
{
    static const char *const ip_batch[] = {"ip", "-batch", "-", NULL};
    g_autofree char *addr = bh_sandbox_net_address(qid);
    g_autofree char *gw = bh_sandbox_net_gateway(netvm_qid);
    g_autofree char *netvm_side = g_strdup_printf("link add vif%u type veth peer name eth0 netns %d\n"
                                                  "addr add %s/32 dev vif%u\n"
                                                  "link set vif%u up\n"
                                                  "route add %s/32 dev vif%u\n",
                                                  qid, (int)pid, gw, qid, qid, addr, qid);
    g_autofree char *qube_side = g_strdup_printf("addr add %s/32 dev eth0\n"
                                                 "link set eth0 up\n"
                                                 "route add %s/32 dev eth0\n"
                                                 "route add default via %s dev eth0\n",
                                                 addr, gw, gw);
    return bh_net_run(netvm_pid, ip_batch, netvm_side, error) && bh_net_run(pid, ip_batch, qube_side, error);
}
