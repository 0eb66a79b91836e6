#!/usr/bin/env bash
# uplink-compare.sh — the user-mode uplinks side by side, without Bulkhead:
# a bare network namespace (owned by an unused uid's user namespace, as a
# netvm's is) gets pasta or slirp4netns as sys-net would, optionally the
# netvm's nftables ruleset (RULES=FILE, e.g. one printed by `nft list ruleset`
# in a running sys-net), and N transfers of MIB MiB of pseudo-random bytes go
# from the namespace to a sink on the host's 127.0.0.1 that answers the byte
# count and sha256 (tests/integration/net-servers.py); each is compared with
# the sum computed here. Root; traffic stays on the host's loopback.
#   uplink-compare.sh [pasta|slirp4netns]…   (N=4 MIB=64 RULES= UID_=60123)
# Prints one line per uplink: "NAME: K of N intact (MB/s …) load L". Why it
# exists: bench/net/README.md, docs/sandbox.md "Why slirp4netns".
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../tests/integration
N=${N:-4} MIB=${MIB:-64} RULES=${RULES:-} uid=${UID_:-60123}
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 2; }
tmp=$(mktemp -d); pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT

coproc SRV { python3 "$src/net-servers.py" 0; }
pids+=($SRV_PID)
read -r _ <&"${SRV[0]}"; read -r sink <&"${SRV[0]}"
want=$(python3 "$src/net-client.py" bulksum - "$MIB")

for uplink in "${@:-pasta slirp4netns}"; do
  for name in $uplink; do
    setpriv --reuid "$uid" --regid "$uid" --clear-groups unshare -U -r -n sleep 100000 &
    holder=$!; pids+=($holder)
    for _ in $(seq 50); do [ "$(readlink /proc/$holder/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.1; done
    ns=/proc/$holder/ns/net
    if [ "$name" = pasta ]; then
      pasta --foreground --quiet -4 --runas "$uid:$uid" -t none -u none -T none -U none --no-dhcp --no-ra \
        --no-ndp --no-dhcpv6 --config-net -I uplink0 --userns /proc/$holder/ns/user --netns "$ns" \
        >/dev/null 2>&1 &
      host=$(ip -4 route show default | awk '{print $3; exit}')
    else
      setpriv --reuid "$uid" --regid "$uid" --clear-groups slirp4netns --configure --mtu=65520 \
        --enable-seccomp --userns-path=/proc/$holder/ns/user "$holder" uplink0 >/dev/null 2>&1 &
      host=10.0.2.2
    fi
    pids+=($!)
    for _ in $(seq 100); do nsenter --net="$ns" ip -4 route show default 2>/dev/null | grep -q . && break; sleep 0.1; done
    if [ -n "$RULES" ]; then
      nsenter --net="$ns" nft -f "$RULES" && nsenter --net="$ns" sysctl -q -w net.netfilter.nf_conntrack_tcp_be_liberal=1
      name="$name+rules"
    fi
    ok=0 speeds=""
    for _ in $(seq "$N"); do
      start=$(date +%s.%N)
      got=$(timeout 150 nsenter --net="$ns" python3 "$src/net-client.py" bulk "$host" "$sink" "$MIB" 2>&1 | tail -n 1)
      secs=$(echo "$(date +%s.%N) - $start" | bc)
      if [ "$got" = "$want" ]; then
        ok=$((ok + 1)); speeds="$speeds $(echo "$MIB * 1.048576 / $secs" | bc)"
      elif [ "${got#"$want"}" != "$got" ]; then
        speeds="$speeds [the answer and $((${#got} - ${#want})) bytes more]"
      else
        speeds="$speeds [${got:0:40}]"
      fi
    done
    echo "$name: $ok of $N intact (MB/s:$speeds) load $(cut -d' ' -f1 /proc/loadavg)"
    kill "${pids[@]:1}" 2>/dev/null; wait "${pids[@]:1}" 2>/dev/null; pids=("${pids[0]}")
  done
done
