/* xen-net.c — a netvm's clients and firewall in xenstore; see xen-net.h. */
#define G_LOG_DOMAIN "bh-xen"

#include "xen-net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "backend.h"
#include "net-rules.h"

/* The largest value xenstored takes in one write. */
#define BH_XEN_NET_VALUE_MAX (XENSTORE_PAYLOAD_MAX - 256)

static gboolean bh_xen_net_fail(GError **error, const char *what, const char *path)
{
    int e = errno;
    g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "cannot %s %s in xenstore: %s", what, path,
                g_strerror(e));
    return FALSE;
}

/* A xenstore value as a string (xs_read's is malloc'd and counted). */
static char *bh_xen_net_read(struct xs_handle *xs, const char *path)
{
    unsigned int len = 0;
    char *value = xs_read(xs, XBT_NULL, path, &len);
    if (value == NULL)
        return NULL;
    char *copy = g_strndup(value, len);
    free(value);
    return copy;
}

char *bh_xen_net_address(struct xs_handle *xs, uint32_t netvm_domid, GError **error)
{
    g_autofree char *path = g_strdup_printf("/local/domain/%u/bulkhead/net/ip", netvm_domid);
    g_autofree char *ip = xs ? bh_xen_net_read(xs, path) : NULL;
    if (ip == NULL) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "domain %u has no %s: it was not started as a qube that provides network", netvm_domid,
                    path);
        return NULL;
    }
    /* dom0's own value; checked all the same before it reaches libxl. */
    if (!g_hostname_is_ip_address(ip) || strchr(ip, ':') != NULL) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "%s is not an IPv4 address", path);
        return NULL;
    }
    return g_steal_pointer(&ip);
}

/* A client key's name: a qid, digits only. */
static gboolean bh_xen_net_qid(const char *name, guint32 *out)
{
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(name, 10, 1, G_MAXUINT32, &v, NULL))
        return FALSE;
    *out = (guint32)v;
    return TRUE;
}

/* The firewall of the netvm from its clients/ keys, written in one value. */
static gboolean bh_xen_net_rewrite(struct xs_handle *xs, const char *base, GError **error)
{
    g_autofree char *dir = g_strconcat(base, "/clients", NULL);
    unsigned int n = 0;
    char **names = xs_directory(xs, XBT_NULL, dir, &n);
    if (names == NULL && errno != ENOENT)
        return bh_xen_net_fail(error, "list", dir);
    g_autoptr(GArray) clients = g_array_new(FALSE, FALSE, sizeof(BhNetClient));
    g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
    for (unsigned int i = 0; i < n; i++) {
        BhNetClient c = {0};
        if (!bh_xen_net_qid(names[i], &c.qid))
            continue;
        g_autofree char *path = g_strconcat(dir, "/", names[i], NULL);
        char *rules = bh_xen_net_read(xs, path);
        if (rules == NULL)
            continue; /* removed meanwhile */
        g_ptr_array_add(texts, rules);
        c.rules = rules;
        g_array_append_val(clients, c);
    }
    free(names);
    g_autofree char *nft = bh_net_rules_firewall((BhNetClient *)clients->data, clients->len, TRUE);
    g_autofree char *path = g_strconcat(base, "/firewall", NULL);
    if (strlen(nft) > BH_XEN_NET_VALUE_MAX) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                    "the firewall of the netvm's %u clients takes %zu bytes, more than xenstore holds in "
                    "one value (%d); remove rules (qvm-firewall QUBE del) or give some clients another "
                    "netvm",
                    clients->len, strlen(nft), BH_XEN_NET_VALUE_MAX);
        return FALSE;
    }
    if (!xs_write(xs, XBT_NULL, path, nft, strlen(nft)))
        return bh_xen_net_fail(error, "write", path);
    return TRUE;
}

gboolean bh_xen_net_set_client(struct xs_handle *xs, uint32_t netvm_domid, guint32 qid, const char *rules,
                               gboolean present, GError **error)
{
    if (xs == NULL) {
        g_set_error_literal(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE,
                            "bulkheadd has no connection to xenstore");
        return FALSE;
    }
    g_autofree char *base = g_strdup_printf("/local/domain/%u/bulkhead/net", netvm_domid);
    g_autofree char *path = g_strdup_printf("%s/clients/%u", base, qid);
    if (present) {
        const char *text = rules ? rules : "accept";
        if (!xs_write(xs, XBT_NULL, path, text, strlen(text)))
            return bh_xen_net_fail(error, "write", path);
    } else if (!xs_rm(xs, XBT_NULL, path) && errno != ENOENT) {
        return bh_xen_net_fail(error, "remove", path);
    }
    if (bh_xen_net_rewrite(xs, base, error))
        return TRUE;
    /* Too long: the client's own rules go again (the firewall keeps the
     * last text that fitted); its start or rule change fails. */
    if (present)
        xs_rm(xs, XBT_NULL, path);
    return FALSE;
}

void bh_xen_net_client_of(struct xs_handle *xs, uint32_t domid, char **netvm, guint32 *qid)
{
    if (xs == NULL)
        return;
    g_autofree char *netvm_path = g_strdup_printf("/local/domain/%u/bulkhead/netvm", domid);
    g_autofree char *qid_path = g_strdup_printf("/local/domain/%u/bulkhead/qid", domid);
    g_autofree char *name = bh_xen_net_read(xs, netvm_path);
    g_autofree char *number = bh_xen_net_read(xs, qid_path);
    if (name && number && bh_xen_net_qid(number, qid))
        *netvm = g_steal_pointer(&name);
}
