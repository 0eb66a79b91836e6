#!/usr/bin/env bash
# daemon-network.sh — the network properties as users read them (no backend
# needed: they come from the model): `qvm-prefs QUBE ip|gateway|dns` in
# Qubes' addressing (10.137.0.qid, a disposable's 10.138.x.y, the gateway
# being the netvm's own address, the virtual DNS pair), empty without a
# netvm, following a netvm change at once, read-only; `qvm-ls -O` and
# `--network` columns; the global network_uplink.
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

# The uplink switch.
bh_run qubes-prefs network_uplink; bh_same "network_uplink is on by default" "True" "$bh_out"
bh_expect "qubes-prefs network_uplink False" qubes-prefs network_uplink False
bh_run qubes-prefs network_uplink; bh_same "network_uplink off" "False" "$bh_out"
bh_done
