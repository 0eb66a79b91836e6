#!/bin/busybox sh
# domu-net.sh — run by the QEMU test's domU init (domu-init.sh) for a qube
# with a netvm or one that provides network (dom0's bulkhead/net/ip in its
# xenstore): loads nftables' modules and the Xen network driver it needs
# (net-image.sh packed them, in load order; xen-netfront in a client,
# xen-netback in a netvm) and runs the product's bulkhead-xen-net, which
# configures eth0 or serves the vifs. It says each step on the guest's
# console (the test prints the console's lines when a check fails).
[ -n "$(/usr/bin/xenstore-read bulkhead/net/ip 2>/dev/null)" ] || exit 0
netvm=$(/usr/bin/xenstore-read bulkhead/provides-network 2>/dev/null)
client=$(/usr/bin/xenstore-read bulkhead/net/gateway 2>/dev/null)
# The RPC agent first: bulkheadd's start waits for it (120 s, which a
# domU under this emulation on a busy machine barely makes), and loading
# fourteen modules beside it on the one vCPU delayed it past that. Its vchan
# server's node in xenstore (data/vchan/0/512) comes when it listens and
# goes when dom0 connects: the watch's first event is at once, the second
# at that change; 30 s at most (a count of polls was minutes under load).
timeout 30 /usr/bin/xenstore-watch -n 2 data/vchan/0/512 >/dev/null 2>&1
# A client needs only xen-netfront (its bulkhead-xen-net runs no nft):
# loading the rest took a client's vCPU for a minute under emulation while
# the next qube started.
for m in $(cat /lib/modules/net-order); do
  case $m in
    xen-netfront) [ -n "$client" ] || continue ;;
    xen-netback) [ "$netvm" = 1 ] || continue ;;
    *) [ "$netvm" = 1 ] || continue ;;
  esac
  insmod /lib/modules/$m.ko || echo "domu-net: cannot load $m"
done
echo "domu-net: modules loaded (uptime $(cut -d' ' -f1 /proc/uptime) s)"
mkdir -p /run /etc
PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/lib/bulkhead/bulkhead-xen-net
echo "domu-net: bulkhead-xen-net exited with $? (uptime $(cut -d' ' -f1 /proc/uptime) s)"
