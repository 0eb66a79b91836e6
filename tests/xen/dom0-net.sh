#!/bin/sh
# dom0-net.sh STATE_DIR OUT_DIR — a netvm on Xen, run in the QEMU test's dom0
# after dom0-desktop.sh (whose private D-Bus it reuses): the real bulkheadd
# --backend=xen starts sys-net (provides_network, no netvm) as a driver
# domain and two clients, mail and chat, whose vifs sys-net serves. The
# guests run the product's bulkhead-xen-net (tests/xen/domu-net.sh): sys-net
# loads net-rules.h's table from its xenstore, serves each vif (renamed
# vif<qid>, its address, the route to the client, hotplug-status) and applies
# the firewall dom0 writes; a client configures eth0 from its xenstore.
# Checks, over qvm-run into the guests:
#   - each client's eth0 has its Qubes address /32 (qvm-prefs ip), its
#     default route through sys-net's address (qvm-prefs gateway) and the
#     virtual DNS servers; sys-net has vif<qid> for each, with its address;
#   - a client reaches a TCP server beyond sys-net (in a network namespace
#     that the test makes inside sys-net, 198.51.100.0/24), masqueraded to
#     sys-net's upstream address;
#   - a client does not reach sys-net's own service (control: sys-net
#     reaches it), nor the other client's (control: the client reaches its
#     own);
#   - qvm-firewall mail add drop tcp dstports=7001: 7001 is then blocked and
#     7000 is not (control: 7001 answered before the rule), enforced in
#     sys-net (its nft chain fw-<qid> has the rule);
#   - a stopped client's chain leaves sys-net's firewall.
# Prints TAP lines without numbers and, last, "net: done"; exits 1 if a
# check failed. Every wait is for an event, bounded.
set -u
state=$1
out=$2
failed=0
log=$out/bulkheadd-net.log
export DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bh-bus BH_VCHAN_TRANSPORT=xen

result() { # TEXT STATUS; returns STATUS
  if [ "$2" -eq 0 ]; then echo "ok - net: $1"; else echo "not ok - net: $1"; failed=$((failed + 1)); fi
  return "$2"
}
# now, since, until_ok, start, stop_daemon.
. /opt/bh/bin/bh-xen-lib
prefs() { qvm-prefs "$1" "$2" 2>/dev/null; }
in_qube() { # QUBE CMD: as root, output only
  qvm-run -p -u root "$1" "$2" 2>/dev/null
}
# fetch QUBE ADDR PORT: what a TCP server answers (empty: no connection).
fetch() { qvm-run -p "$1" "nc -w 4 $2 $3 </dev/null" 2>/dev/null; }

# 300 s for an agent to answer (bulkheadd's default is 120 s): a domU's
# kernel and init took 91 s of it under this emulation at load 11-13.
BH_XEN_AGENT_TIMEOUT_S=300 bulkheadd --backend=xen --no-autostart --no-guid --verbose --state-dir="$state" \
  >"$log" 2>&1 &
daemon=$!
until_ok 30 qvm-ls --raw-data
result "bulkheadd --backend=xen answers on the bus" $?

# sys-net is the store's own (provides_network, netvm none); two clients.
for p in "memory 192" "maxmem 192" "virt_mode pv" "vcpus 1"; do
  qvm-prefs sys-net $p >/dev/null 2>&1 || echo "# qvm-prefs sys-net $p failed"
done
ok=0
for q in mail chat; do
  qvm-create -l green --prop netvm=sys-net --prop memory=192 --prop maxmem=192 --prop virt_mode=pv \
    --prop vcpus=1 $q >/dev/null 2>&1 || ok=1
done
result "qvm-create mail and chat with netvm sys-net" $ok

t=$(now)
start sys-net
result "qvm-start sys-net (a driver domain) in $(since "$t") s" $?
# Its Start completes once its agent answered; it then loads nftables'
# modules and its table (domu-net.sh), minutes of its vCPU under emulation.
# A client started meanwhile had its disk hotplug scripts starved past
# libxl's 40 s (load 10-13): the clients wait until sys-net says it serves.
# console QUBE TEXT SECONDS: the qube's console has a line with TEXT within
# SECONDS (a look a second: until_ok's five a second cost dom0's CPU).
console() {
  i=0
  until grep -q "$2" "$out/console/guest-$1.log" 2>/dev/null; do
    [ $i -ge "$3" ] && return 1
    sleep 1
    i=$((i + 1))
  done
}
t=$(now)
console sys-net 'bulkhead-xen-net: serving vifs' 240
result "sys-net loaded its table and serves vifs (its console) $(since "$t") s after its start" $?
# One after the other, each once its eth0 is up: started side by side, or
# while the other still set up its network, their disk hotplug scripts
# missed libxl's 40 s under emulation at load 11 (both starts failed once).
for q in mail chat; do
  t=$(now)
  start $q
  started=$?
  result "qvm-start $q, whose vif sys-net serves, in $(since "$t") s" $started
  t=$(now)
  [ $started -eq 0 ] && console $q 'bulkhead-xen-net: eth0:' 240
  result "$q configured its eth0 (its console) $(since "$t") s after its start" $?
done

net_ip=$(prefs sys-net ip)
eth0_ok() { # QUBE IP
  got=$(in_qube "$1" '/usr/sbin/ip -4 -o addr show dev eth0; /usr/sbin/ip -4 route; cat /etc/resolv.conf')
  echo "$got" | grep -q "inet $2/32 " && echo "$got" | grep -q "^default via $net_ip dev eth0" &&
    echo "$got" | grep -q "^$net_ip dev eth0" && echo "$got" | grep -q '^nameserver 10.139.1.1$' &&
    echo "$got" | grep -q '^nameserver 10.139.1.2$'
}
for q in mail chat; do
  ip=$(prefs $q ip)
  gw=$(prefs $q gateway)
  until_ok 90 eth0_ok $q "$ip"
  rc=$?
  result "$q's eth0 is $ip/32 (qvm-prefs ip), default via $gw (qvm-prefs gateway; sys-net's ip $net_ip), \
DNS 10.139.1.1 and .2: $(echo $(in_qube $q '/usr/sbin/ip -4 -o addr show dev eth0 | cut -d" " -f2,7; /usr/sbin/ip -4 route | head -n 1'))" \
    $([ $rc -eq 0 ] && [ "$gw" = "$net_ip" ]; echo $?)
done
mail_qid=$(prefs mail qid)
chat_qid=$(prefs chat qid)
vifs=$(in_qube sys-net '/usr/sbin/ip -4 -o addr show' | awk '$2 ~ /^vif/ {print $2 ":" $4}' | sort | tr '\n' ' ')
result "sys-net serves vif$mail_qid and vif$chat_qid with its own address: $vifs" \
  $(echo "$vifs" | grep -q "vif$mail_qid:$net_ip/32" && echo "$vifs" | grep -q "vif$chat_qid:$net_ip/32"; echo $?)

# The test's "upstream" inside sys-net: a network namespace behind a veth
# pair (198.51.100.0/24, documentation addresses, only there), with TCP
# servers on 7000 and 7001 that say "hello PORT"; sys-net's
# own service on its own address (7002) and mail's (7003): domu-serve.sh
# (in the image), which returns once its port listens, so that no check
# runs before its server is up.
serve=/usr/lib/bulkhead/domu-serve
# iproute2's ip and nft by their paths: the agent's commands run with the
# domU init's PATH (/bin:/sbin, busybox), whose ip applet knows no netns.
ip=/usr/sbin/ip nft=/usr/sbin/nft
t=$(now)
got=$(in_qube sys-net "exec 2>&1; ip=$ip; \$ip netns add up && \$ip link add up0 type veth peer name up1 netns up &&
  \$ip addr add 198.51.100.1/24 dev up0 && \$ip link set up0 up &&
  \$ip -n up addr add 198.51.100.2/24 dev up1 && \$ip -n up link set up1 up && \$ip -n up link set lo up &&
  \$ip -n up route add default via 198.51.100.1 &&
  \$ip netns exec up $serve 7000 && \$ip netns exec up $serve 7001 && $serve 7002 && echo upstream-ready")
result "sys-net made the upstream namespace and its servers listen (7000, 7001 there; 7002 in sys-net) \
in $(since "$t") s" $(echo "$got" | grep -q '^upstream-ready$'; echo $?) ||
  echo "# $(echo "$got" | tr '\n' '|')"
t=$(now)
got=$(in_qube mail "exec 2>&1; $serve 7003 && echo served")
result "mail's server listens on 7003 ($(since "$t") s)" $([ "$got" = served ]; echo $?) || echo "# $(echo "$got" | tr '\n' '|')"
upstream() { [ "$(in_qube sys-net 'nc -w 4 198.51.100.2 7000 </dev/null')" = "hello 7000" ]; }
until_ok 30 upstream
result "control: sys-net reaches the test's upstream server (198.51.100.2:7000)" $?

# reaches QUBE ADDR PORT [root]: the server's answer, tried for 40 s (a
# first connection waits for ARP on both links and each program's start,
# seconds under this emulation). Sets $got.
reaches() {
  end=$(awk -v a="$(now)" 'BEGIN{print a + 40}')
  while :; do
    if [ -n "${4:-}" ]; then got=$(in_qube "$1" "nc -w 4 $2 $3 </dev/null"); else got=$(fetch "$1" "$2" "$3"); fi
    [ "$got" = "hello $3" ] && return 0
    awk -v a="$(now)" -v e="$end" 'BEGIN{exit !(a > e)}' && return 1
    sleep 1
  done
}
# A check that a qube does not reach a server is one try, after a control
# that shows the server answers the one who may reach it.
reaches mail 198.51.100.2 7000
result "mail reaches the server beyond sys-net: '$got'" $?
reaches chat 198.51.100.2 7001
result "chat reaches it too, on 7001: '$got'" $?
reaches sys-net "$net_ip" 7002 root
result "control: sys-net reaches its own service on $net_ip:7002: '$got'" $?
got=$(fetch mail "$net_ip" 7002)
result "mail does not reach sys-net's own service: '$got'" $([ -z "$got" ]; echo $?)
mail_ip=$(prefs mail ip)
reaches mail "$mail_ip" 7003 root
result "control: mail reaches its own service on $mail_ip:7003: '$got'" $?
got=$(fetch chat "$mail_ip" 7003)
result "chat does not reach mail's service: '$got'" $([ -z "$got" ]; echo $?)

# mail's firewall, enforced in sys-net: a drop rule for 7001 only.
reaches mail 198.51.100.2 7001
result "control: mail reaches 7001 before its rule: '$got'" $?
qvm-firewall mail add --before 0 action=drop proto=tcp dstports=7001 >/dev/null 2>&1
result "qvm-firewall mail add drop tcp 7001" $?
chain_has_7001() { in_qube sys-net "$nft list chain inet bulkhead fw-$mail_qid" | grep -q 'dport 7001 drop'; }
until_ok 30 chain_has_7001
result "sys-net's chain fw-$mail_qid has the rule: $(in_qube sys-net "$nft list chain inet bulkhead fw-$mail_qid" |
  grep -o 'tcp dport 7001 drop')" $?
got=$(fetch mail 198.51.100.2 7001)
result "mail no longer reaches 7001: '$got'" $([ -z "$got" ]; echo $?)
reaches mail 198.51.100.2 7000
result "mail still reaches 7000: '$got'" $?
reaches chat 198.51.100.2 7001
result "chat still reaches 7001 (the rule is mail's): '$got'" $?

# A stopped client leaves sys-net's firewall (control: its jump is there,
# in a listing that nft made).
jumps() { in_qube sys-net "$nft list chain inet bulkhead firewall"; }
listing=$(jumps)
result "control: sys-net's firewall jumps to fw-$chat_qid for vif$chat_qid" \
  $(echo "$listing" | grep -q "\"vif$chat_qid\" goto fw-$chat_qid"; echo $?)
t=$(now)
qvm-kill chat >/dev/null 2>&1
no_chat_chain() { listing=$(jumps) && echo "$listing" | grep -q 'chain firewall' && ! echo "$listing" | grep -q "\"vif$chat_qid\""; }
until_ok 120 no_chat_chain
result "qvm-kill chat: its jump leaves sys-net's firewall ($(since "$t") s); mail's stays" \
  $([ $? -eq 0 ] && echo "$listing" | grep -q "\"vif$mail_qid\" goto fw-$mail_qid"; echo $?)

# The client killed first (killed together with its netvm, the client's
# vif back-end in the dying netvm is never removed, and libxl waits for it:
# 10 s, then an error); sys-net is left running for bulkheadd's stop, which
# destroys it: asynchronously, so that libxl's hotplug scripts are reaped
# (a synchronous destroy had each one killed at libxl's 40 s).
t=$(now)
qvm-kill mail >/dev/null 2>&1
until_ok 120 state_is mail Halted
result "qvm-kill mail: Halted in $(since "$t") s" $?
stop_daemon "$daemon"
killed=$(grep -c 'because of timeout' "$log")
result "bulkheadd's stop destroyed sys-net without a hotplug script killed at libxl's timeout \
($killed killed; xl: $(xl list 2>/dev/null | awk 'NR > 1 {print $1}' | tr '\n' ' '))" \
  $([ "$killed" -eq 0 ] && ! xl list 2>/dev/null | grep -q '^sys-net '; echo $?)
if [ $failed -gt 0 ]; then
  echo "# ---- bulkheadd's log (last 40 lines)"
  tail -n 40 "$log" | sed 's/^/# /'
  for q in sys-net mail chat; do
    for f in /out/console/*$q*.log; do
      [ -f "$f" ] && { echo "# ---- $f"; grep -E 'bulkhead-xen-net|domu-net' "$f" | tail -n 20 | sed 's/^/# /'; }
    done
  done
fi
echo "net: done"
[ $failed -eq 0 ]
