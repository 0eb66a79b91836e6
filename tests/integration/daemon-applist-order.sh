#!/usr/bin/env bash
# daemon-applist-order.sh — the app list read after a qube's start
# (bulkhead-applist, docs/apps.md) waits while any qube is starting and runs
# for one qube at a time, so that it does not compete with starts for the
# CPU (issue 21; bench/RESULTS.md, "Start at scale"). On the sandbox
# backend, with real qubes: four started at once. From bulkheadd's log:
# every qube's list is read (the control: the reads happen at all); no read
# begins while a qube is between Transient and Running; no read begins
# before the one before it ended. The checks read the log's order, never
# the clock, so a fast or slow machine gives the same verdict; whether the
# starts overlapped is reported, as without overlap there was nothing to
# wait for.
# Prints TAP; reuses daemon-lib.sh (private bus, temporary dirs, clean-up).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

bh_start_daemon --backend sandbox || { echo "1..0 # SKIP bulkheadd did not start"; exit 0; }
qubes="qa qb qc qd"
for q in $qubes; do qvm-create -l gray --prop netvm= "$q" >/dev/null; done
from=$(($(wc -l <"$bh_log") + 1))
pids=()
for q in $qubes; do qvm-start "$q" & pids+=($!); done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
bh_result "four qubes started at once" $rc
for q in $qubes; do
  bh_wait_grep "$bh_log" "\[$q\] \(no \)\?app list" 600 "$from"
  bh_result "$q's app list was read after its start" $?
done

# One event per line: T name (Transient), R name (left Transient), A name
# (a read began), D name (a read ended).
events=$(tail -n +"$from" "$bh_log" | sed -n \
  -e 's/.*\[\([^]]*\)\] Halted -> Transient.*/T \1/p' \
  -e 's/.*\[\([^]]*\)\] Transient -> .*/R \1/p' \
  -e 's/.*\[\([^]]*\)\] run as user, output kept .*: bulkhead-applist$/A \1/p' \
  -e 's/.*\[\([^]]*\)\] \(no \)\?app list.*/D \1/p')
# (Autostarted qubes, sys-firewall and its netvm, may start meanwhile: they
# count as starting, but only our four reads are counted.)
verdict=$(printf '%s\n' "$events" | awk -v ours=" $qubes " '
  $1 == "T" { starting[$2] = 1; if (length(starting) > 1) overlap = 1 }
  $1 == "R" { delete starting[$2] }
  $1 == "A" { if (length(starting) > 0) bad = bad " " $2 "-while-starting";
              if (busy) bad = bad " " $2 "-beside-another"; busy = 1;
              if (index(ours, " " $2 " ")) reads++ }
  $1 == "D" { busy = 0 }
  END { printf "%s|%d|%d\n", bad, reads, overlap }')
bad=${verdict%%|*}
rest=${verdict#*|}
bh_same "four reads began (control)" "4" "${rest%%|*}"
bh_same "no read began while a qube was starting, none beside another" "" "$bad"
if [ "${rest#*|}" = 1 ]; then
  bh_ok "the starts overlapped (a read had to wait)"
else
  bh_ok "the starts overlapped # SKIP they did not on this run: nothing had to wait"
fi
[ -n "$bad" ] && printf '%s\n' "$events" | bh_diag

for q in $qubes; do qvm-kill "$q" >/dev/null 2>&1; done
bh_done
