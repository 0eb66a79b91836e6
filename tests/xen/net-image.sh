# net-image.sh — sourced by run-xen-qemu.sh: what the network part of the
# QEMU test (dom0-net.sh) adds to the images. The domU (one image for every
# qube) gets the Xen network drivers, nftables and its kernel modules,
# iproute2's ip (-batch, netns), the xenstore tools bulkhead-xen-net uses,
# and bulkhead-xen-net itself, which domu-net.sh runs, and the test's
# servers (domu-serve.sh); dom0 gets
# dom0-net.sh and the CLI's qvm-firewall.
# Needs add_prog, add_modules, $src and $dom0 from run-xen-qemu.sh.

net_domu() { # ROOT
  local root=$1 t
  add_prog "$root" /usr/sbin/nft
  add_prog "$root" /usr/bin/ip /usr/sbin/ip
  for t in list write watch exists; do ln -sf xenstore "$root/usr/bin/xenstore-$t"; done
  install -D -m 0755 "$src/core/backends/bulkhead-xen-net" "$root/usr/lib/bulkhead/bulkhead-xen-net"
  install -D -m 0755 "$src/tests/xen/domu-net.sh" "$root/usr/lib/bulkhead/domu-net"
  install -D -m 0755 "$src/tests/xen/domu-serve.sh" "$root/usr/lib/bulkhead/domu-serve"
  # In load order (insmod knows no dependencies): nf_tables with what the
  # netvm's rules use (conntrack, NAT, masquerade), veth for the test's own
  # "upstream" namespace in sys-net, then the Xen drivers (domu-net.sh loads
  # the one each qube needs).
  echo "crc32c_generic libcrc32c nfnetlink nf_tables nf_defrag_ipv4 nf_defrag_ipv6 nf_conntrack nf_nat
    nft_ct nft_chain_nat nft_nat nft_masq veth xen-netfront xen-netback" > "$root/lib/modules/net-order"
  add_modules "$root" $(cat "$root/lib/modules/net-order")
}

net_dom0() {
  install -m 0755 "$src/tests/xen/dom0-net.sh" "$dom0/opt/bh/bin/bh-xen-net"
  ln -sf bulkhead "$dom0/opt/bh/bin/qvm-firewall"
}
