/* xen-net.h — a netvm's side of Xen networking, in xenstore (see docs/xen.md
 * "Networking").
 *
 * Owns what dom0 writes under /local/domain/<netvm>/bulkhead/net/ once the
 * netvm runs: clients/<qid> (each client's firewall rules, as
 * BhBackendQube.firewall) and firewall (the nft transaction made from all of
 * them by net-rules.h, which the netvm's bulkhead-xen-net applies at every
 * change), and reads the netvm's own address (bulkhead/net/ip, written by
 * libxl from xen-config.c at its start). Every node there is dom0's: the
 * netvm reads them and cannot write them, so what is read back is what dom0
 * wrote (and is still checked).
 * Must never: write anything a guest can choose, or wait for a guest.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <xenstore.h>

G_BEGIN_DECLS

/* The netvm's own address (its clients' gateway), or NULL with error. */
char *bh_xen_net_address(struct xs_handle *xs, uint32_t netvm_domid, GError **error);

/* present: sets client qid's rules in the netvm (nft statements, one a
 * line; NULL: accept everything); FALSE: removes them. Then rewrites the
 * netvm's firewall from all its clients; a text too long for xenstore fails
 * and leaves the last one in force (and, when setting, no rules for qid). */
gboolean bh_xen_net_set_client(struct xs_handle *xs, uint32_t netvm_domid, guint32 qid, const char *rules,
                               gboolean present, GError **error);

/* A running domain's netvm (*netvm, g_free) and qid, as dom0 wrote them at
 * its start (bulkhead/netvm, bulkhead/qid); left as they are without one. */
void bh_xen_net_client_of(struct xs_handle *xs, uint32_t domid, char **netvm, guint32 *qid);

G_END_DECLS
