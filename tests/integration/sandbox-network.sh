#!/usr/bin/env bash
# sandbox-network.sh — networking through the commands users type, against a
# real bulkheadd on the sandbox backend with the default qubes (work behind
# sys-firewall behind sys-net, whose uplink is slirp4netns); "the internet" is
# net-servers.py on the host's loopback, reached at the uplink's gateway, and
# the qubes' DNS goes to its resolver (bulkheadd --uplink-resolv-conf):
#   by default work cannot reach the host's 127.0.0.1 (TCP, UDP); with the
#   global network_uplink_host_loopback on and sys-net restarted, it can (the
#   rest of the test needs it);
#   qvm-run work starts the chain and reaches the host's servers;
#   qvm-firewall on the running work: a drop rule for one port blocks that
#   port and only it, at once, and cuts an open connection; a host name that
#   does not resolve blocks only its own rule (and the command says so); a
#   rule with expire= stops applying by itself; specialtarget=dns rules drop
#   or allow DNS through 10.139.1.1/.2, icmp rules (with icmptype and dsthost)
#   drop or allow ping;
#   qvm-prefs work netvm none cuts work off at once, back restores it;
#   sys-firewall's shutdown leaves work running but cut off, its start
#   reconnects work; qvm-ls --network shows the addresses;
#   bulkheadd killed and started again while the qubes run: it adopts them
#   and sys-net's slirp4netns, and a firewall rule, a netvm change and sys-net's
#   shutdown (its uplink goes with it) still apply;
#   IPv6 (qvm-prefs sys-net ipv6 True, inherited by sys-firewall and work):
#   work's ip6 on its eth0, the host's ::1 out of reach by default and
#   reached with the loopback setting on, qvm-firewall rules per family (an
#   IPv6 address, a host name's A and AAAA records in sys-firewall's rules);
#   the host's other addresses (a dummy interface this test makes, with
#   192.0.2.77 and 2001:db8::77) out of sys-net's reach while the loopback
#   setting is off, reached once it is on (the control).
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "1..0 # SKIP linking qubes needs bulkheadd to run as root"
  exit 0
fi
for tool in bwrap slirp4netns nft ip; do
  command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

here=$(dirname "$0")
# The resolver on 127.0.0.1:53 (net-servers.py waits if another test of the
# run holds the port).
coproc SERVERS { python3 "$here/net-servers.py" 53; }
read -r tcp_a tcp_b udp <&"${SERVERS[0]}"
[ -n "$udp" ]; bh_result "the host's servers listen (tcp $tcp_a $tcp_b, udp $udp, dns 53)" $?
printf 'nameserver 127.0.0.1\n' >"$bh_tmp/resolv.conf"

# "The host's other addresses": an interface of this test's own in the
# host's namespace (a dummy; a veth pair with both ends here where the
# kernel has no dummy driver), with TEST-NET addresses only (never the
# machine's real ones), made before sys-net's uplink starts (it reads them
# then) and removed on exit, or by bh-test-reaper when this shell is killed
# (reap-links). Listeners there and on the host's ::1 greet with where they
# are.
dummy="bht$$"; dummy=${dummy:0:12}
printf '%s\n' "$dummy" >"$bh_tmp/reap-links"
trap 'ip link del "$dummy" 2>/dev/null; bh_cleanup' EXIT
{ ip link add "$dummy" type dummy 2>/dev/null ||
  { ip link add "$dummy" type veth peer name "${dummy}p" && ip link set "${dummy}p" up; }; } &&
  ip addr add 192.0.2.77/32 dev "$dummy" && ip addr add 2001:db8::77/128 dev "$dummy" nodad &&
  ip link set "$dummy" up
bh_result "an interface $dummy in the host's namespace with 192.0.2.77 and 2001:db8::77" $?
python3 -c '
import socket, sys, threading
def serve(family, addr, greet):
    s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 0)); s.listen(8)
    def loop():
        while True:
            c, _ = s.accept(); c.sendall(greet); c.close()
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]
ports = [serve(socket.AF_INET6, "::1", b"hello v6\n"), serve(socket.AF_INET, "192.0.2.77", b"hello other\n"),
         serve(socket.AF_INET6, "2001:db8::77", b"hello other v6\n")]
print(*ports, flush=True)
threading.Event().wait()' </dev/null >"$bh_tmp/servers6" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 100); do [ -s "$bh_tmp/servers6" ] && break; sleep 0.1; done
read -r tcp6 other4 other6 <"$bh_tmp/servers6"
[ -n "$other6" ]; bh_result "listeners on ::1 ($tcp6), 192.0.2.77 ($other4), 2001:db8::77 ($other6)" $?

bh_start_daemon --backend sandbox --uplink-resolv-conf "$bh_tmp/resolv.conf" ||
  { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"
# IPv6 as in Qubes: on for sys-net, inherited by sys-firewall and work. It
# applies at a qube's start, and sys-net and sys-firewall start with the
# daemon (autostart): once they run, they stop, and qvm-run below starts
# them again.
bh_expect "qvm-prefs sys-net ipv6 True" qvm-prefs sys-net ipv6 True
running() { [ "$(bh_state_of "$1")" = Running ]; }
bh_until 1200 running sys-firewall; bh_result "sys-firewall autostarted" $?
bh_expect "qvm-shutdown --wait sys-firewall (to start with IPv6)" qvm-shutdown --wait sys-firewall
bh_until 1200 running sys-net
bh_expect "qvm-shutdown --wait sys-net (to start with IPv6)" qvm-shutdown --wait sys-net

qvm-run -p work 'cat > net.py' <"$here/net-client.py" 2>"$bh_tmp/run.err"
rc=$?
bh_result "qvm-run work starts it (exit $rc: $(cat "$bh_tmp/run.err"))" $rc
bh_run qvm-ls --raw-data -O NAME,STATE sys-net sys-firewall work
bh_same "its netvm chain started first" "sys-firewall|Running
sys-net|Running
work|Running" "$bh_out"
host=$(qvm-run -p sys-net "ip -4 route show default dev uplink0 | awk '{print \$3}'")
net() { qvm-run -p work "python3 net.py $*" 2>/dev/null; }
# Polls (5 s; AWAIT_TRIES × 0.2 s) until work's answer is $1.
await() {
  local want=$1 got i; shift
  for i in $(seq "${AWAIT_TRIES:-25}"); do got=$(net "$@"); [ "$got" = "$want" ] && break; sleep 0.2; done
  printf '%s' "$got"
}
# Polls (10 s) until work's default route is $1 (a relink runs after
# qvm-prefs returns).
await_route() {
  local got i
  for i in $(seq 50); do
    got=$(qvm-run -p work 'ip route show default' 2>/dev/null | sed 's/ *$//')
    [ "$got" = "$1" ] && break; sleep 0.2
  done
  printf '%s' "$got"
}
# dom0's own loopback is out of sys-net's reach by default (in Qubes no
# qube reaches dom0's services): the same server, the same route, refused
# by slirp4netns. The control in the same run: the global setting the rest
# of this test needs, then sys-net restarted (the setting applies at its
# start; sys-firewall is relinked under the running work).
bh_run qubes-prefs network_uplink_host_loopback
bh_same "network_uplink_host_loopback is off by default" "False" "$bh_out"
bh_wait_grep "$bh_log" "names the host's 127.0.0.1, which sys-net may not reach" 50
bh_result "the daemon says the test's resolver on 127.0.0.1 is out of reach" $?
# The path is up (so a refusal below is slirp4netns's): work pings sys-net
# through sys-firewall, and the uplink's gateway itself answers.
bh_same "control: work pings sys-net's own address" "pong" "$(net ping "$(qvm-prefs sys-net ip)")"
bh_same "control: ... and the uplink's gateway $host" "pong" "$(net ping "$host")"
got=$(net tcp "$host" "$tcp_a")
# slirp4netns answers a connection it refuses with "network unreachable".
case $got in ENETUNREACH | ECONNREFUSED | ECONNRESET | timeout) r=0 ;; *) r=1 ;; esac
bh_result "default: work cannot reach the host's 127.0.0.1 TCP server at $host (it got: $got)" $r
got=$(net udp "$host" "$udp")
case $got in ENETUNREACH | ECONNREFUSED | timeout) r=0 ;; *) r=1 ;; esac
bh_result "... nor its UDP server (it got: $got)" $r
# The same over IPv6: the uplink's fd00::2 is the host's ::1 only with the
# setting on (the path: work pings sys-net's ip6).
work_ip6=$(qvm-prefs work ip6)
bh_same "work's eth0 has its ip6/128" "$work_ip6/128" \
  "$(qvm-run -p work "ip -o -6 addr show dev eth0 scope global | awk '{print \$4}'")"
bh_same "control: work pings sys-net's ip6" "pong" "$(net ping "$(qvm-prefs sys-net ip6)")"
got=$(net tcp fd00::2 "$tcp6")
case $got in ENETUNREACH | ECONNREFUSED | ECONNRESET | timeout) r=0 ;; *) r=1 ;; esac
bh_result "default: work cannot reach the host's ::1 at fd00::2 (it got: $got)" $r
# The host's other addresses, with the setting off: dropped in sys-net.
bh_same "default: work cannot reach the host's 192.0.2.77" "timeout" "$(net tcp 192.0.2.77 "$other4")"
bh_same "... nor its 2001:db8::77" "timeout" "$(net tcp 2001:db8::77 "$other6")"
qvm-run -p sys-net 'cat > net.py' <"$here/net-client.py" 2>/dev/null
bh_same "... nor can sys-net itself" "timeout" "$(qvm-run -p sys-net "python3 net.py tcp 192.0.2.77 $other4" 2>/dev/null)"
bh_expect "qubes-prefs network_uplink_host_loopback True" qubes-prefs network_uplink_host_loopback True
bh_expect "qvm-shutdown --wait sys-net" qvm-shutdown --wait sys-net
bh_expect "qvm-start sys-net" qvm-start sys-net
bh_same "control: with it on, work reaches the same server (sys-net restarted)" "hello A" \
  "$(AWAIT_TRIES=150 await "hello A" tcp "$host" "$tcp_a")"
bh_same "work reaches the host's TCP server through sys-firewall and sys-net" "hello A" "$(net tcp "$host" "$tcp_a")"
bh_same "and its UDP server" "udp ping" "$(net udp "$host" "$udp")"
bh_same "control: the host's ::1 at fd00::2 with the setting on" "hello v6" "$(await "hello v6" tcp fd00::2 "$tcp6")"
bh_same "control: the host's 192.0.2.77 with the setting on" "hello other" "$(net tcp 192.0.2.77 "$other4")"
bh_same "control: ... and its 2001:db8::77" "hello other v6" "$(net tcp 2001:db8::77 "$other6")"
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

# Per family: a rule for an IPv6 address blocks IPv6 to it, not IPv4.
bh_expect "a drop rule for dsthost=fd00::2 and the ::1 server's port" \
  qvm-firewall work add --before 0 action=drop dsthost=fd00::2 proto=tcp dstports="$tcp6"
bh_same "IPv6 to it blocked at once" "timeout" "$(net tcp fd00::2 "$tcp6")"
bh_same "IPv4 to the host still open" "hello A" "$(net tcp "$host" "$tcp_a")"
bh_expect "reset" qvm-firewall work reset
bh_same "IPv6 open again" "hello v6" "$(await "hello v6" tcp fd00::2 "$tcp6")"
# A host name covers its A and AAAA records: localhost in work's chain in
# sys-firewall, with what dom0's resolver gives for it (getent: the same
# getaddrinfo), in each family it has.
bh_expect "a drop rule for dsthost=localhost" qvm-firewall work add --before 0 action=drop dsthost=localhost
fw_pid=$(sed -n 's/^init_pid=//p' "$bh_state/sandbox-running/sys-firewall")
chain=$(nsenter --net="/proc/$fw_pid/ns/net" nft list chain inet bulkhead "fw-$(qvm-prefs work qid)" 2>&1)
printf '%s\n' "$chain" | grep -Eq 'ip daddr \{? ?127\.0\.0\.1 \}? ?drop'
bh_result "localhost's A record (127.0.0.1) in sys-firewall's rules for work" $?
if getent ahostsv6 localhost 2>/dev/null | grep -q '^::1 '; then
  printf '%s\n' "$chain" | grep -Eq 'ip6 daddr \{? ?::1 \}? ?drop'
  bh_result "... and its AAAA record (::1)" $?
else
  bh_ok "# SKIP dom0's resolver has no AAAA record for localhost here"
fi
bh_expect "reset" qvm-firewall work reset

# specialtarget=dns on real DNS: the test's resolver through 10.139.1.1/.2.
bh_same "DNS through 10.139.1.1 answers (the test's resolver)" "192.0.2.99" "$(net dns www.example.test 10.139.1.1)"
bh_expect "a drop rule for specialtarget=dns" qvm-firewall work add action=drop specialtarget=dns
bh_same "DNS through 10.139.1.1 dropped at once" "timeout" "$(net dns www.example.test 10.139.1.1)"
bh_same "... and through 10.139.1.2" "timeout" "$(net dns www.example.test 10.139.1.2)"
bh_same "TCP still open" "hello B" "$(net tcp "$host" "$tcp_b")"
bh_expect "reset" qvm-firewall work reset
bh_same "DNS answers again" "192.0.2.99" "$(await 192.0.2.99 dns www.example.test 10.139.1.1)"
# Only DNS: accept specialtarget=dns, then drop everything else.
qvm-firewall work add action=accept specialtarget=dns 2>/dev/null &&
  qvm-firewall work del --rule-no 1 && qvm-firewall work add action=drop
bh_same "rules: accept DNS, drop the rest" "action=accept specialtarget=dns
action=drop" "$(qvm-firewall work list --raw)"
bh_same "DNS allowed by its rule" "192.0.2.99" "$(net dns www.example.test 10.139.1.1)"
bh_same "TCP dropped by the default" "timeout" "$(net tcp "$host" "$tcp_b")"
bh_expect "reset" qvm-firewall work reset

# icmp rules on real pings (ICMP datagram sockets, as ping as a user): the
# host's loopback through the uplink's mapping, and sys-net's own address.
net_ip=$(qvm-prefs sys-net ip)
bh_same "control: work pings the host through the uplink" "pong" "$(await pong ping "$host")"
bh_same "control: work pings sys-net's own address" "pong" "$(net ping "$net_ip")"
bh_expect "a drop rule for icmp" qvm-firewall work add action=drop proto=icmp
bh_same "ping to the host dropped at once" "timeout" "$(net ping "$host")"
bh_same "TCP still open" "hello B" "$(net tcp "$host" "$tcp_b")"
bh_expect "reset" qvm-firewall work reset
bh_expect "a drop rule for icmptype=8 (echo request) only" qvm-firewall work add action=drop proto=icmp icmptype=8
bh_same "ping (type 8) dropped" "timeout" "$(net ping "$host")"
bh_expect "reset" qvm-firewall work reset
qvm-firewall work add action=accept proto=icmp dsthost="$host" 2>/dev/null &&
  qvm-firewall work del --rule-no 1 && qvm-firewall work add action=drop
bh_same "rules: accept icmp to the host only, drop the rest" "action=accept dsthost=$host proto=icmp
action=drop" "$(qvm-firewall work list --raw)"
bh_same "ping to the host allowed by its rule" "pong" "$(net ping "$host")"
bh_same "ping to sys-net's address dropped by the default" "timeout" "$(net ping "$net_ip")"
bh_expect "reset" qvm-firewall work reset
bh_same "ping to sys-net's address again" "pong" "$(await pong ping "$net_ip")"

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

# bulkheadd killed (no clean-up of any kind) and started again while the
# qubes run: it adopts them, and sys-net's uplink with them.
uplink_of_net() { # the slirp4netns holding sys-net's network namespace
  local ns p
  ns=$(readlink "/proc/$(sed -n 's/^init_pid=//p' "$bh_state/sandbox-running/sys-net")/ns/net")
  for p in $(pgrep -x slirp4netns); do
    [ "$(readlink "/proc/$p/fd/4" 2>/dev/null)" = "$ns" ] && { echo "$p"; return; }
  done
}
uplink=$(uplink_of_net)
bh_result "sys-net's slirp4netns runs (pid $uplink)" $([ -n "$uplink" ]; echo $?)
lines_before=$(wc -l <"$bh_log")
bh_kill_daemon
bh_start_daemon --backend sandbox --uplink-resolv-conf "$bh_tmp/resolv.conf" ||
  { bh_not_ok "bulkheadd starts again"; bh_done; }
bh_wait_grep "$bh_log" "after a restart: .* re-adopted" 600 "$((lines_before + 1))"
bh_result "the new bulkheadd re-adopted the running qubes" $?
bh_same "the same uplink serves sys-net" "$uplink" "$(uplink_of_net)"
bh_same "work still reaches the host" "hello B" "$(await "hello B" tcp "$host" "$tcp_b")"
bh_expect "after the re-adoption: a drop rule for port B" \
  qvm-firewall work add --before 0 action=drop proto=tcp dstports="$tcp_b"
bh_same "port B blocked at once" "timeout" "$(net tcp "$host" "$tcp_b")"
bh_same "port A still open" "hello A" "$(net tcp "$host" "$tcp_a")"
bh_expect "reset" qvm-firewall work reset
bh_same "port B open again" "hello B" "$(await "hello B" tcp "$host" "$tcp_b")"
net_ip=$(qvm-prefs sys-net ip)
bh_expect "after the re-adoption: qvm-prefs work netvm sys-net" qvm-prefs work netvm sys-net
bh_same "work is relinked to sys-net" "default via $net_ip dev eth0" \
  "$(await_route "default via $net_ip dev eth0")"
bh_same "and reaches the host through it" "hello B" "$(await "hello B" tcp "$host" "$tcp_b")"
bh_expect "back: qvm-prefs -D work netvm" qvm-prefs -D work netvm
bh_same "work is on sys-firewall again" "default via $fw_ip dev eth0" \
  "$(await_route "default via $fw_ip dev eth0")"
bh_same "and reaches the host" "hello B" "$(await "hello B" tcp "$host" "$tcp_b")"
bh_expect "qvm-shutdown --wait sys-net (adopted)" qvm-shutdown --wait sys-net
for _ in $(seq 100); do kill -0 "$uplink" 2>/dev/null || break; sleep 0.1; done
bh_result "its adopted uplink (pid $uplink) went with it" $(kill -0 "$uplink" 2>/dev/null; [ $? -ne 0 ]; echo $?)

kill "$SERVERS_PID" 2>/dev/null
bh_done
