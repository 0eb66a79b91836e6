#!/usr/bin/env bash
# daemon-concurrency.sh — 4 CLI processes each make 200 qvm-prefs changes at
# the same time. No write may be lost:
#  - every call is acknowledged (status 0);
#  - each writer's last value is the final value of the properties it owns
#    (its own qube's memory, and one property per writer on a shared qube,
#    so writers also contend for the same qube);
#  - the PropertyChanged history (recorded by gdbus monitor from before the
#    first write) holds exactly the 800 changes, and each property's values
#    arrive in the order its writer made them;
#  - the state survives a restart unchanged.
. "$(dirname "$0")/daemon-lib.sh"

bh_start_daemon || { bh_not_ok "bulkheadd starts"; bh_done; }
writers=4
per_writer=200
shared_props=(memory maxmem vcpus qrexec_timeout)
shared_base=(1000 5000 0 100)

for k in $(seq $writers); do qvm-create -l blue "own$k" || bh_not_ok "create own$k"; done
qvm-create -l green shared || bh_not_ok "create shared"

# History: every signal the daemon emits, line-buffered so nothing is lost
# when the monitor is stopped.
stdbuf -oL gdbus monitor --session --dest org.bulkhead.Admin1 >"$bh_tmp/monitor.log" 2>&1 &
monitor_pid=$!
bh_bg_pids+=("$monitor_pid")
for _ in $(seq 100); do grep -q "is owned by" "$bh_tmp/monitor.log" && break; sleep 0.1; done
grep -q "is owned by" "$bh_tmp/monitor.log"; bh_result "gdbus monitor is listening" $?

# Writer k: odd steps change its own qube's memory, even steps its property
# on the shared qube. Values grow with the step, so order is checkable.
writer() {
  local k=$1 i prop=${shared_props[$(($1 - 1))]} base=${shared_base[$(($1 - 1))]} failures=0
  for i in $(seq $per_writer); do
    if [ $((i % 2)) -eq 1 ]; then
      qvm-prefs "own$k" memory $((1000 + i)) || failures=$((failures + 1))
    else
      qvm-prefs shared "$prop" $((base + i)) || failures=$((failures + 1))
    fi
  done
  echo "$failures" >"$bh_tmp/failures.$k"
}
start=$(date +%s%N)
pids=()
for k in $(seq $writers); do writer "$k" 2>>"$bh_tmp/writers.err" & pids+=($!); done
bh_bg_pids+=("${pids[@]}")
for p in "${pids[@]}"; do wait "$p"; done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "# $((writers * per_writer)) qvm-prefs changes from $writers processes in ${elapsed_ms} ms"

total_failures=0
for k in $(seq $writers); do total_failures=$((total_failures + $(cat "$bh_tmp/failures.$k"))); done
bh_same "every one of the $((writers * per_writer)) changes acknowledged" 0 "$total_failures"
[ -s "$bh_tmp/writers.err" ] && head -n 5 "$bh_tmp/writers.err" | bh_diag

last_odd=$((per_writer % 2 == 1 ? per_writer : per_writer - 1))
last_even=$((per_writer % 2 == 0 ? per_writer : per_writer - 1))
expected_final() {
  local k
  for k in $(seq $writers); do
    echo "own$k memory $((1000 + last_odd))"
    echo "shared ${shared_props[$((k - 1))]} $((${shared_base[$((k - 1))]} + last_even))"
  done
}
actual_final() {
  local k
  for k in $(seq $writers); do
    echo "own$k memory $(qvm-prefs "own$k" memory)"
    echo "shared ${shared_props[$((k - 1))]} $(qvm-prefs shared "${shared_props[$((k - 1))]}")"
  done
}
bh_same "final values are each writer's last write" "$(expected_final)" "$(actual_final)"

# Wait for the monitor to have seen the last change (it may lag a little).
expected_signals=$((writers * per_writer))
for _ in $(seq 100); do
  [ "$(grep -c 'org.bulkhead.Admin1.PropertyChanged' "$bh_tmp/monitor.log")" -ge $expected_signals ] && break
  sleep 0.1
done
kill "$monitor_pid" 2>/dev/null
# Lines look like: /org/bulkhead/Admin1: org.bulkhead.Admin1.PropertyChanged ('own1', 'memory', '1001')
grep 'org.bulkhead.Admin1.PropertyChanged' "$bh_tmp/monitor.log" |
  sed -E "s/.*PropertyChanged \('([^']*)', '([^']*)', '([^']*)'\).*/\1 \2 \3/" >"$bh_tmp/history"
bh_same "history holds exactly $expected_signals PropertyChanged signals" \
  "$expected_signals" "$(wc -l <"$bh_tmp/history" | tr -d ' ')"
# Per (qube, property): the values in order, one per step, none missing.
expected_history() {
  local k i
  for k in $(seq $writers); do
    for i in $(seq 1 2 $per_writer); do echo "own$k memory $((1000 + i))"; done
    for i in $(seq 2 2 $per_writer); do
      echo "shared ${shared_props[$((k - 1))]} $((${shared_base[$((k - 1))]} + i))"
    done
  done
}
actual_history() {
  local k
  for k in $(seq $writers); do
    grep "^own$k memory " "$bh_tmp/history"
    grep "^shared ${shared_props[$((k - 1))]} " "$bh_tmp/history"
  done
}
if [ "$(expected_history)" = "$(actual_history)" ]; then
  bh_ok "each property's history is its writer's sequence, in order, nothing lost or doubled"
else
  bh_not_ok "each property's history is its writer's sequence, in order, nothing lost or doubled"
  diff <(expected_history) <(actual_history) | head -n 20 | bh_diag
fi
# The writers really ran at the same time: map each change to its writer;
# four writers one after the other would give exactly four runs.
runs=$(awk -v props="${shared_props[*]}" 'BEGIN { n = split(props, p, " "); for (i = 1; i <= n; i++) w[p[i]] = i }
  $1 ~ /^own/ { print substr($1, 4); next } { print w[$2] }' "$bh_tmp/history" | uniq | wc -l)
[ "$runs" -gt "$writers" ]; bh_result "writers interleaved ($runs runs of one writer's changes)" $?

before=$(actual_final; qvm-ls --raw-data)
bh_stop_daemon && bh_start_daemon; bh_result "restart" $?
bh_same "the same state after a restart" "$before" "$(actual_final; qvm-ls --raw-data)"

bh_done
