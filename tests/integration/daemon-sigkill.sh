#!/usr/bin/env bash
# daemon-sigkill.sh — bulkheadd killed with SIGKILL in the middle of a stream
# of changes, then restarted, keeps every change a client was told succeeded.
#
# Writers record a change only after the CLI exited 0 (the daemon replies
# after the store committed). After the kill and restart, each writer's
# property must hold its last acknowledged value, or the one after it (the
# change in flight when the daemon died may have committed without a reply);
# every acknowledged qvm-create must exist. Two rounds: the store recovered
# from one kill must survive the next. Ends with SQLite's integrity check.
. "$(dirname "$0")/daemon-lib.sh"

bh_start_daemon || { bh_not_ok "bulkheadd starts"; bh_done; }
writers=3
min_acks=25
for k in $(seq $writers); do qvm-create -l yellow "kq$k" || bh_not_ok "create kq$k"; done

# writer ROUND K: changes kq$K's memory (K = g: the global clipboard_max_bytes)
writer() {
  local round=$1 k=$2 i=0 base=$((1000 + $1 * 10000))
  while [ ! -e "$bh_tmp/stop" ]; do
    i=$((i + 1))
    if [ "$k" = g ]; then qubes-prefs clipboard_max_bytes $((base + i)) 2>/dev/null
    else qvm-prefs "kq$k" memory $((base + i)) 2>/dev/null; fi
    if [ $? -eq 0 ]; then echo "$i" >>"$bh_tmp/acked.$round.$k"; else sleep 0.05; fi
  done
}
creator() {
  local round=$1 j=0
  while [ ! -e "$bh_tmp/stop" ]; do
    j=$((j + 1))
    if qvm-create -l gray "r${round}n$j" 2>/dev/null; then echo "$j" >>"$bh_tmp/created.$round"
    else sleep 0.05; fi
  done
}
acks() { [ -e "$1" ] && wc -l <"$1" | tr -d ' ' || echo 0; }
last_ack() { [ -e "$1" ] && tail -n 1 "$1" || echo 0; }

for round in 1 2; do
  rm -f "$bh_tmp/stop"
  pids=()
  for k in $(seq $writers) g; do writer "$round" "$k" & pids+=($!); done
  creator "$round" & pids+=($!)
  bh_bg_pids+=("${pids[@]}")

  # Kill once every writer has been acknowledged a fair number of times.
  for _ in $(seq 600); do
    ready=1
    for k in $(seq $writers) g; do [ "$(acks "$bh_tmp/acked.$round.$k")" -ge $min_acks ] || ready=0; done
    [ "$(acks "$bh_tmp/created.$round")" -ge 3 ] || ready=0
    [ $ready -eq 1 ] && break
    sleep 0.1
  done
  bh_result "round $round: writers acknowledged before the kill" $((1 - ready))
  bh_kill_daemon
  sleep 0.3 # writers now hit a dead daemon: those calls must fail, not acknowledge
  touch "$bh_tmp/stop"
  for p in "${pids[@]}"; do wait "$p"; done
  echo "# round $round: killed after $(for k in $(seq $writers) g; do printf '%s ' "$(acks "$bh_tmp/acked.$round.$k")"; done)acknowledged changes and $(acks "$bh_tmp/created.$round") creations"

  bh_start_daemon; bh_result "round $round: bulkheadd restarts after SIGKILL" $?
  base=$((1000 + round * 10000))
  for k in $(seq $writers) g; do
    a=$(last_ack "$bh_tmp/acked.$round.$k")
    if [ "$k" = g ]; then v=$(qubes-prefs clipboard_max_bytes); what="global clipboard_max_bytes"
    else v=$(qvm-prefs "kq$k" memory); what="kq$k memory"; fi
    v=$((v - base))
    if [ "$v" -eq "$a" ] || [ "$v" -eq $((a + 1)) ]; then
      bh_ok "round $round: $what kept its last acknowledged change ($a; stored $v)"
    else
      bh_not_ok "round $round: $what kept its last acknowledged change ($a; stored $v)"
    fi
  done
  names=$(qvm-ls --raw-data | cut -d'|' -f1)
  missing=0
  for j in $(cat "$bh_tmp/created.$round" 2>/dev/null); do
    printf '%s\n' "$names" | grep -qx "r${round}n$j" || { missing=$((missing + 1)); echo "# r${round}n$j missing"; }
  done
  bh_same "round $round: every acknowledged qvm-create survived" 0 "$missing"
  present=$(printf '%s\n' "$names" | grep -c "^r${round}n")
  acked=$(acks "$bh_tmp/created.$round")
  [ "$present" -eq "$acked" ] || [ "$present" -eq $((acked + 1)) ]
  bh_result "round $round: no qube appeared that was never asked for ($present present, $acked acknowledged)" $?
done

bh_stop_daemon
bh_same "the store passes SQLite's integrity check" "ok" \
  "$(sqlite3 "$bh_state/qubes.db" 'PRAGMA integrity_check' 2>&1)"

bh_done
