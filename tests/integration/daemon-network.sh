#!/usr/bin/env bash
# daemon-network.sh — the network properties as users read them (no backend
# needed: they come from the model): `qvm-prefs QUBE ip|gateway|dns` in
# Qubes' addressing (10.137.0.qid, a disposable's 10.138.x.y, the gateway
# being the netvm's own address, the virtual DNS pair), empty without a
# netvm, following a netvm change at once, read-only; IPv6 as in Qubes:
# `ipv6` off by default, set on sys-net and inherited down the chain, `ip6`
# fd09:24ef:4179::a89:x (the IPv4 address in the low 32 bits) and `gateway6`
# only while the whole chain has it; `qvm-ls -O` and `--network` columns;
# the globals network_uplink and network_uplink_host_loopback.
. "$(dirname "$0")/daemon-lib.sh"

bh_start_daemon || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd starts"

qid() { bh_run qvm-prefs "$1" qid; echo "$bh_out"; }
addr() { printf '10.%s.%s.%s' "$1" $(($2 >> 8)) $(($2 & 255)); }
work=$(qid work) fw=$(qid sys-firewall) net=$(qid sys-net)

bh_run qvm-prefs work ip; bh_same "work's ip is 10.137 from its qid ($work)" "$(addr 137 "$work")" "$bh_out"
bh_run qvm-prefs work gateway; bh_same "work's gateway is sys-firewall's ip" "$(addr 137 "$fw")" "$bh_out"
bh_run qvm-prefs work dns; bh_same "work's DNS: the virtual pair" "10.139.1.1 10.139.1.2" "$bh_out"
bh_run qvm-prefs sys-firewall gateway; bh_same "sys-firewall's gateway is sys-net's ip" "$(addr 137 "$net")" "$bh_out"
bh_run qvm-prefs sys-net ip; bh_same "sys-net (no netvm, provides network) has an ip" "$(addr 137 "$net")" "$bh_out"
bh_run qvm-prefs sys-net gateway; bh_same "sys-net has no gateway of ours (its uplink's)" "" "$bh_out"
bh_run qvm-prefs vault ip; bh_same "vault (netvm none) has no ip" "" "$bh_out"
bh_run qvm-prefs vault dns; bh_same "vault has no DNS" "" "$bh_out"

# A disposable's address is in 10.138.
bh_expect "qvm-create -C DispVM -t default-dvm disp7" qvm-create -C DispVM -l red -t default-dvm disp7
disp=$(qid disp7)
bh_run qvm-prefs disp7 ip; bh_same "a disposable's ip is 10.138 ($disp)" "$(addr 138 "$disp")" "$bh_out"

# They follow the netvm at once, and are read-only.
bh_expect "qvm-prefs work netvm sys-net" qvm-prefs work netvm sys-net
bh_run qvm-prefs work gateway; bh_same "gateway follows the new netvm" "$(addr 137 "$net")" "$bh_out"
bh_expect "qvm-prefs work netvm none" qvm-prefs work netvm none
bh_run qvm-prefs work ip; bh_same "netvm none: no ip" "" "$bh_out"
bh_expect "qvm-prefs -D work netvm" qvm-prefs -D work netvm
bh_expect_fail "ip is read-only" 1 "read-only" qvm-prefs work ip 10.1.2.3

# IPv6, opt-in per netvm (Qubes' ipv6 feature), inherited by its clients.
hex6() { printf 'fd09:24ef:4179::%x:%x' "$1" "$2"; }
bh_run qvm-prefs work ipv6; bh_same "ipv6 is off by default" "False" "$bh_out"
bh_run qvm-prefs work ip6; bh_same "... and there is no ip6" "" "$bh_out"
bh_expect "qvm-prefs sys-net ipv6 True" qvm-prefs sys-net ipv6 True
bh_run qvm-prefs work ipv6; bh_same "work inherits ipv6 from sys-net through sys-firewall" "True" "$bh_out"
bh_run qvm-prefs work ip6
bh_same "work's ip6 is its ip in the low 32 bits ($(addr 137 "$work"))" "$(hex6 0xa89 "$work")" "$bh_out"
bh_run qvm-prefs work gateway6; bh_same "its gateway6 is sys-firewall's ip6" "$(hex6 0xa89 "$fw")" "$bh_out"
bh_run qvm-prefs sys-net ip6; bh_same "sys-net has an ip6" "$(hex6 0xa89 "$net")" "$bh_out"
bh_run qvm-prefs sys-net gateway6; bh_same "... and no gateway6 of ours" "" "$bh_out"
bh_run qvm-prefs vault ip6; bh_same "vault (netvm none) has no ip6" "" "$bh_out"
bh_run qvm-ls -O NAME,IP,IP6 --raw-data work
bh_same "qvm-ls -O NAME,IP,IP6" "work|$(addr 137 "$work")|$(hex6 0xa89 "$work")" "$bh_out"
bh_run qvm-prefs disp7 ip6; bh_same "a disposable's ip6 (10.138: a8a)" "$(hex6 0xa8a "$disp")" "$bh_out"
bh_expect "qvm-prefs sys-firewall ipv6 False" qvm-prefs sys-firewall ipv6 False
bh_run qvm-prefs work ipv6; bh_same "work follows sys-firewall's False" "False" "$bh_out"
bh_expect "qvm-prefs work ipv6 True (its own)" qvm-prefs work ipv6 True
bh_run qvm-prefs work ip6; bh_same "no ip6 while sys-firewall in its chain has none" "" "$bh_out"
bh_expect "qvm-prefs -D sys-firewall ipv6" qvm-prefs -D sys-firewall ipv6
bh_run qvm-prefs work ip6; bh_same "the chain has it again: ip6 back" "$(hex6 0xa89 "$work")" "$bh_out"
bh_expect_fail "ip6 is read-only" 1 "read-only" qvm-prefs work ip6 fd09::1
bh_expect "qvm-prefs -D work ipv6" qvm-prefs -D work ipv6
bh_expect "qvm-prefs -D sys-net ipv6" qvm-prefs -D sys-net ipv6
bh_run qvm-prefs work ip6; bh_same "sys-net's ipv6 reset: no ip6" "" "$bh_out"

# qvm-ls columns.
bh_run qvm-ls -O NAME,STATE,NETVM,IP --raw-data work vault
bh_same "qvm-ls -O NAME,STATE,NETVM,IP" "vault|Halted|-|-
work|Halted|sys-firewall|$(addr 137 "$work")" "$bh_out"
bh_run qvm-ls --network work
bh_same "qvm-ls --network header" "NAME STATE NETVM IP GATEWAY DNS" "$(printf '%s\n' "$bh_out" | head -n 1 | tr -s ' ')"
bh_same "qvm-ls --network row" "work Halted sys-firewall $(addr 137 "$work") $(addr 137 "$fw") 10.139.1.1 10.139.1.2" \
  "$(printf '%s\n' "$bh_out" | sed -n 2p | tr -s ' ')"
bh_run qvm-ls -O name,ip --raw-data dom0; bh_same "columns in any case; dom0 has none" "dom0|-" "$bh_out"
bh_expect_fail "an unknown column is named" 2 "no column 'MAC'" qvm-ls -O NAME,MAC
bh_expect_fail "-O with --network refused" 2 "give one of them" qvm-ls -O NAME --network

# qvm-firewall: Qubes' fields, in order, stored; user errors name the field
# and change nothing.
bh_run qvm-firewall work --raw
bh_same "a new qube's firewall: action=accept" "action=accept" "$bh_out"
bh_expect "add a drop rule before rule 0" qvm-firewall work add --before 0 action=drop proto=tcp dstports=25 comment=no mail
bh_run qvm-firewall work add action=accept dsthost=192.0.2.0/24 proto=udp dstports=1000-2000
bh_same "add with a network and a port range" 0 "$bh_rc"
bh_same "... goes before the final catch-all, and says so" \
  "qvm-firewall: rule 1 added before the last rule, 'action=accept', which matches everything (--before 2 to put it elsewhere)" "$bh_err"
bh_run qvm-firewall work list --raw
bh_same "rules in order, canonical" "action=drop proto=tcp dstports=25 comment=no mail
action=accept dsthost=192.0.2.0/24 proto=udp dstports=1000-2000
action=accept" "$bh_out"
bh_run qvm-firewall work
bh_same "the table's header" "NO ACTION HOST PROTOCOL PORT(S) SPECIAL TARGET ICMP TYPE EXPIRE COMMENT" \
  "$(printf '%s\n' "$bh_out" | head -n 1 | tr -s ' ')"
bh_same "the table's first row" "0 drop - tcp 25 - - - no mail" "$(printf '%s\n' "$bh_out" | sed -n 2p | tr -s ' ')"
before=$(qvm-firewall work list --raw)
bh_expect_fail "a bad port is named" 2 "dstports=70000" qvm-firewall work add action=drop proto=tcp dstports=70000
bh_expect_fail "dstports without proto" 2 "dstports needs proto=tcp or proto=udp" qvm-firewall work add action=drop dstports=22
bh_expect_fail "an unknown field" 2 "unknown field 'port'" qvm-firewall work add action=drop port=22
bh_expect_fail "an IPv6 network with host bits" 2 "the network is 2001:db8::/32" \
  qvm-firewall work add action=drop dsthost=2001:db8::1/32
bh_expect_fail "a missing rule number" 1 "work has no rule 7" qvm-firewall work del --rule-no 7
bh_expect_fail "dom0 has no firewall" 1 "dom0 has no firewall" qvm-firewall dom0 list
bh_run qvm-firewall work list --raw; bh_same "nothing changed after the errors" "$before" "$bh_out"
# A host name that does not resolve blocks only its own rule, and says so.
bh_run qvm-firewall work add action=accept dsthost=no-such-host.invalid
[ "$bh_rc" -eq 0 ] && printf '%s\n' "$bh_err" | grep -q "warning: rule 2: no-such-host.invalid does not resolve"
bh_result "an unresolvable host name is stored with a warning naming its rule" $?
bh_expect "expire=+3600 is kept as a time" qvm-firewall work add action=accept proto=icmp expire=+3600
bh_run qvm-firewall work list --raw
printf '%s\n' "$bh_out" | sed -n 4p | grep -Eq "^action=accept proto=icmp expire=[0-9]{10}$"
bh_result "expire stored as seconds since the epoch" $?
bh_expect "del a rule by its fields" qvm-firewall work del action=drop proto=tcp dstports=25 comment=no mail
bh_expect "del a rule by number" qvm-firewall work del --rule-no 1
bh_run qvm-firewall work list --raw
bh_same "two rules fewer" "3" "$(printf '%s\n' "$bh_out" | wc -l)"
# Over D-Bus, as the settings app reads it.
out=$(gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Admin1.GetFirewall work 2>&1)
printf '%s\n' "$out" | grep -q "'action=accept dsthost=192.0.2.0/24 proto=udp dstports=1000-2000'"
bh_result "GetFirewall over D-Bus ($out)" $?
out=$(gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Admin1.SetFirewall work "['action=drop', 'action=bogus']" 2>&1)
printf '%s\n' "$out" | grep -q "rule 1: action=bogus: accept or drop"
bh_result "SetFirewall names the bad rule ($out)" $?
# Kept across a restart; reset goes back to the default.
bh_stop_daemon; bh_start_daemon || { bh_not_ok "bulkheadd restarts"; bh_done; }
bh_run qvm-firewall work list --raw
bh_same "rules kept across a restart" "3" "$(printf '%s\n' "$bh_out" | wc -l)"
bh_expect "qvm-firewall reset" qvm-firewall work reset
bh_run qvm-firewall work list --raw; bh_same "reset: action=accept" "action=accept" "$bh_out"
# reset then add: the rule goes before the default accept, so it matters
# (appended after it, as Qubes does, it never would). A catch-all added goes
# at the end (a new default) with a warning that it never matches; --before
# still puts a rule anywhere.
bh_expect "reset, then add a drop rule" qvm-firewall work add action=drop proto=tcp dstports=25
bh_run qvm-firewall work list --raw
bh_same "... before the default accept" "action=drop proto=tcp dstports=25
action=accept" "$bh_out"
bh_run qvm-firewall work add action=drop
bh_same "a catch-all goes at the end, with a warning" \
  "0|qvm-firewall: warning: rule 2 never matches: rule 1 before it ('action=accept') matches everything" \
  "$bh_rc|$bh_err"
bh_expect "add --before 3 (at the very end)" qvm-firewall work add --before 3 action=accept proto=icmp
bh_run qvm-firewall work list --raw
bh_same "rules where they were put" "action=drop proto=tcp dstports=25
action=accept
action=drop
action=accept proto=icmp" "$bh_out"
# AddFirewallRule, as the settings app or any client calls it: bulkheadd
# places the rule (before the final catch-all), canonical, and says where.
bh_expect "reset for AddFirewallRule" qvm-firewall work reset
out=$(bh_admin AddFirewallRule work 'proto=udp  action=drop dstports=53' 'int32 -1')
bh_same "AddFirewallRule, placed by bulkheadd: before the final accept" "(uint32 0, @as [])" "$out"
out=$(bh_admin AddFirewallRule work 'action=drop' 'int32 -1')
printf '%s\n' "$out" | grep -q "^(uint32 2, \[.rule 2 never matches: rule 1 before it ('action=accept') matches everything.\])$"
bh_result "a catch-all: at the end, with a warning ($out)" $?
out=$(bh_admin AddFirewallRule work 'action=accept proto=icmp' 1)
bh_same "at a chosen position" "(uint32 1, @as [])" "$out"
bh_run qvm-firewall work list --raw
bh_same "the rules AddFirewallRule made, canonical" "action=drop proto=udp dstports=53
action=accept proto=icmp
action=accept
action=drop" "$bh_out"
out=$(bh_admin AddFirewallRule work 'action=accept' 9)
printf '%s\n' "$out" | grep -q "position 9: -1 (placed by bulkheadd) or a rule number from 0 to 4"
bh_result "a position past the end is refused ($out)" $?
out=$(bh_admin AddFirewallRule work 'action=accept port=1' 'int32 -1')
printf '%s\n' "$out" | grep -q "unknown field 'port'"
bh_result "a bad rule is refused, naming the field ($out)" $?
bh_same "nothing changed after the refusals" "4" "$(qvm-firewall work list --raw | wc -l)"
bh_expect "qvm-firewall reset (after AddFirewallRule)" qvm-firewall work reset
bh_expect "an IPv6 network" qvm-firewall work add --before 0 action=drop dsthost=2001:DB8:0::/32 proto=tcp
bh_run qvm-firewall work list --raw
bh_same "... stored in canonical form" "action=drop dsthost=2001:db8::/32 proto=tcp" "$(printf '%s\n' "$bh_out" | head -n 1)"
bh_expect "qvm-firewall reset (again)" qvm-firewall work reset

# The uplink switch.
bh_run qubes-prefs network_uplink; bh_same "network_uplink is on by default" "True" "$bh_out"
bh_expect "qubes-prefs network_uplink False" qubes-prefs network_uplink False
bh_run qubes-prefs network_uplink; bh_same "network_uplink off" "False" "$bh_out"
# dom0's loopback for the uplink: off unless asked (sandbox-network-cli
# shows what it changes on real traffic).
bh_run qubes-prefs network_uplink_host_loopback
bh_same "network_uplink_host_loopback is off by default" "False" "$bh_out"
bh_expect "qubes-prefs network_uplink_host_loopback True" qubes-prefs network_uplink_host_loopback True
bh_run qubes-prefs network_uplink_host_loopback; bh_same "network_uplink_host_loopback on" "True" "$bh_out"
bh_done
