#!/usr/bin/env bash
# sandbox-network.sh — networking through the commands users type, against a
# real bulkheadd on the sandbox backend with the default qubes (work behind
# sys-firewall behind sys-net, whose uplink is pasta); "the internet" is
# net-servers.py on the host's loopback, reached at the uplink's gateway:
#   qvm-run work starts the chain and reaches the host's servers;
#   qvm-firewall on the running work: a drop rule for one port blocks that
#   port and only it, at once, and cuts an open connection; a host name that
#   does not resolve blocks only its own rule (and the command says so); a
#   rule with expire= stops applying by itself;
#   qvm-prefs work netvm none cuts work off at once, back restores it;
#   sys-firewall's shutdown leaves work running but cut off, its start
#   reconnects work; qvm-ls --network shows the addresses.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "1..0 # SKIP linking qubes needs bulkheadd to run as root"
  exit 0
fi
for tool in bwrap slirp4netns nft; do
  command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

here=$(dirname "$0")
coproc SERVERS { python3 "$here/net-servers.py" 0; }
read -r tcp_a tcp_b udp <&"${SERVERS[0]}"
[ -n "$udp" ]; bh_result "the host's servers listen (tcp $tcp_a $tcp_b, udp $udp)" $?

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

qvm-run -p work 'cat > net.py' <"$here/net-client.py" 2>"$bh_tmp/run.err"
rc=$?
bh_result "qvm-run work starts it (exit $rc: $(cat "$bh_tmp/run.err"))" $rc
bh_run qvm-ls --raw-data -O NAME,STATE sys-net sys-firewall work
bh_same "its netvm chain started first" "sys-firewall|Running
sys-net|Running
work|Running" "$bh_out"
host=$(qvm-run -p sys-net "ip -4 route show default dev uplink0 | awk '{print \$3}'")
net() { qvm-run -p work "python3 net.py $*" 2>/dev/null; }
# Polls (5 s) until work's answer is $1.
await() {
  local want=$1 got i; shift
  for i in $(seq 25); do got=$(net "$@"); [ "$got" = "$want" ] && break; sleep 0.2; done
  printf '%s' "$got"
}
bh_same "work reaches the host's TCP server through sys-firewall and sys-net" "hello A" "$(net tcp "$host" "$tcp_a")"
bh_same "and its UDP server" "udp ping" "$(net udp "$host" "$udp")"
work_ip=$(qvm-prefs work ip) fw_ip=$(qvm-prefs sys-firewall ip)
bh_same "work's eth0 has its ip/32" "$work_ip/32" \
  "$(qvm-run -p work "ip -o -4 addr show dev eth0 | awk '{print \$4}'")"
bh_same "its default route is sys-firewall's ip" "default via $fw_ip dev eth0" "$(qvm-run -p work 'ip route show default' | sed 's/ *$//')"
bh_run qvm-ls --network work
bh_same "qvm-ls --network" "work Running sys-firewall $work_ip $fw_ip 10.139.1.1 10.139.1.2" \
  "$(printf '%s\n' "$bh_out" | sed -n 2p | tr -s ' ')"

# The firewall on the running qube, with an open connection on the port.
bh_same "an open connection on port A" "open" "$(qvm-run -p work \
  "nohup python3 net.py hold $host $tcp_a 30 > hold.out 2>&1 & for i in \$(seq 50); do grep -q open hold.out && break; sleep 0.1; done; cat hold.out")"
bh_expect "qvm-firewall work add --before 0 action=drop proto=tcp dstports=A" \
  qvm-firewall work add --before 0 action=drop proto=tcp dstports="$tcp_a"
bh_same "port A is blocked at once" "timeout" "$(net tcp "$host" "$tcp_a")"
bh_same "port B still open" "hello B" "$(net tcp "$host" "$tcp_b")"
bh_same "UDP still open" "udp ping" "$(net udp "$host" "$udp")"
bh_same "the open connection on port A is cut" "cut" "$(qvm-run -p work \
  'for i in $(seq 50); do grep -q cut hold.out && break; sleep 0.1; done; tail -n 1 hold.out')"
bh_run qvm-firewall work add --before 0 action=drop dsthost=no-such-host.invalid
printf '%s\n' "$bh_err" | grep -q "warning: rule 0: no-such-host.invalid does not resolve"
bh_result "a host name that does not resolve: the command says so ($bh_err)" $?
bh_same "it blocks only its own rule: port B still open" "hello B" "$(net tcp "$host" "$tcp_b")"
bh_expect "qvm-firewall work reset" qvm-firewall work reset
bh_same "reset: port A open again" "hello A" "$(await "hello A" tcp "$host" "$tcp_a")"
# A rule that expires: in force, then gone on its own.
bh_expect "a drop rule for port A with expire=+4" \
  qvm-firewall work add --before 0 action=drop proto=tcp dstports="$tcp_a" expire=+4
bh_same "port A blocked while the rule lasts" "timeout" "$(net tcp "$host" "$tcp_a")"
sleep 2
bh_same "port A open again once it expired" "hello A" "$(await "hello A" tcp "$host" "$tcp_a")"
bh_expect "qvm-firewall work reset (again)" qvm-firewall work reset

# Relinking the running qube.
bh_expect "qvm-prefs work netvm none" qvm-prefs work netvm none
bh_same "netvm none cuts work off at once" "ENETUNREACH" "$(await ENETUNREACH tcp "$host" "$tcp_b")"
bh_expect "qvm-prefs -D work netvm" qvm-prefs -D work netvm
bh_same "back on sys-firewall: reachable again" "hello B" "$(await "hello B" tcp "$host" "$tcp_b")"

# sys-firewall's restart under the running work.
bh_expect "qvm-shutdown --wait sys-firewall" qvm-shutdown --wait sys-firewall
bh_same "work keeps running" "work|Running" "$(qvm-ls --raw-data -O NAME,STATE work)"
bh_same "cut off while sys-firewall is down" "ENETUNREACH" "$(await ENETUNREACH tcp "$host" "$tcp_b")"
bh_expect "qvm-start sys-firewall" qvm-start sys-firewall
bh_same "work reconnected without a restart" "hello B" "$(await "hello B" tcp "$host" "$tcp_b")"

kill "$SERVERS_PID" 2>/dev/null
bh_done
