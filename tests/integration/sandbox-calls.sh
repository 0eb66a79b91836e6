#!/usr/bin/env bash
# sandbox-calls.sh — a call started inside a qube (docs/rpc.md, "Calls from a
# qube"): qvm-copy-to-vm in work asks bulkheadd for bulkhead.Filecopy to
# personal on work's own call socket; bulkheadd asks policy with the source
# it knows (the qube whose socket it is) and runs bulkhead-file-receiver in
# personal through the agent set, splicing the two:
#   - an allow rule: the file arrives under ~/QubesIncoming/work/ in personal
#     with an equal sha256, and the caller exits 0;
#   - a deny rule: refused in words, nothing arrives;
#   - a hostile caller cannot be another source: personal pointing its
#     client at work's domain id finds no socket (work's is not in its
#     sandbox; control: work reaches its own), and a request from personal
#     is judged as personal's whatever it writes;
#   - a caller killed mid-stream, hostile request lines, a flood of idle
#     connections, and bulkheadd stopped while a call runs.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

policy_dir="$XDG_CONFIG_HOME/bulkhead/policy.d"
mkdir -p "$policy_dir"
# Only work -> personal is allowed; every other copy is denied (the shipped
# policy would ask: sandbox-calls-ask tests that).
printf 'bulkhead.Filecopy * work personal allow\nbulkhead.Filecopy * work @default ask\nbulkhead.Filecopy * @anyvm @anyvm deny\n' \
  >"$policy_dir/30-test.policy"

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

bh_run qvm-run -p work 'head -c 8M /dev/urandom > ~/report.bin && sha256sum < ~/report.bin'
src_sum=$bh_out
bh_result "work holds an 8 MiB file ($bh_rc)" $([ "$bh_rc" -eq 0 ] && [ -n "$src_sum" ]; echo $?)
bh_expect "personal runs" qvm-run -p personal true

bh_run qvm-run -p work 'qvm-copy-to-vm personal ~/report.bin'
bh_result "allowed: qvm-copy-to-vm personal in work exits 0 ($bh_rc${bh_err:+: $bh_err})" "$bh_rc"
bh_run qvm-run -p personal 'sha256sum < ~/QubesIncoming/work/report.bin'
bh_same "the file arrived in personal's ~/QubesIncoming/work/ with the same sha256" "$src_sum" "$bh_out"

# A caller killed mid-stream: once the sender has read 1 MiB of a 256 MiB
# file it is stopped (SIGSTOP, so a fast machine cannot finish the copy
# before the kill; seen in CI), then it and qvm-copy-to-vm get SIGKILL. The
# receiver sees the stream cut short, nothing of it stays in personal, and
# bulkheadd goes on answering.
bh_run qvm-run -p work 'head -c 256M /dev/urandom > ~/big.bin; qvm-copy-to-vm personal ~/big.bin 2>/dev/null &
  for i in $(seq 4000); do
    p=$(pgrep -x bulkhead-file-s) && r=$(awk "/^rchar/{print \$2}" /proc/$p/io 2>/dev/null) &&
      [ "${r:-0}" -gt 1048576 ] && kill -STOP $p && echo was-sending && break
    sleep 0.002
  done
  pkill -KILL -x qvm-copy-to-vm; pkill -KILL -x bulkhead-file-s; wait; rm ~/big.bin'
bh_same "control: the sender was stopped mid-file, then killed" "was-sending" "$bh_out"
for i in $(seq 100); do
  bh_run qvm-run -p personal 'pgrep -x bulkhead-file-r >/dev/null && echo busy'
  [ "$bh_out" = busy ] || break
  sleep 0.2
done
bh_same "the killed call's receiver in personal has ended" "" "$bh_out"
bh_run qvm-run -p personal 'cd ~/QubesIncoming && find . | LC_ALL=C sort'
bh_same "nothing of the killed call is in personal, not even in staging" \
  "$(printf '%s\n' . ./.bulkhead-partial ./work ./work/report.bin)" "$bh_out"
bh_expect "bulkheadd still runs calls: a second copy of the file arrives" qvm-run -p work 'qvm-copy-to-vm personal ~/report.bin'
bh_run qvm-run -p personal 'sha256sum < ~/QubesIncoming/work/"report (1).bin"'
bh_same "as 'report (1).bin' with the same sha256" "$src_sum" "$bh_out"

# Denied: the test's deny rule for personal -> work.
bh_run qvm-run -p personal 'head -c 1M /dev/urandom > ~/secret.bin'
bh_run qvm-run -p personal 'qvm-copy-to-vm work ~/secret.bin'
bh_result "denied: the call from personal to work is refused and the caller told why (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == *"bulkhead.Filecopy from personal to work is denied by policy"* ]]; echo $?)
bh_run qvm-run -p work 'ls -A ~/QubesIncoming 2>/dev/null | wc -l'
bh_same "nothing arrived in work" "0" "$bh_out"
# Policy says ask, but this bulkheadd has no display (DISPLAY is empty in
# the tests' environment): nobody can be asked, so the call is refused.
bh_run qvm-run -p work 'qvm-copy-to-vm @default ~/report.bin'
bh_result "ask without a display on dom0: refused in words (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == *"policy says ask, and dom0 has no display to ask on"* ]]; echo $?)

# Hostile: personal writes a request only work may make (work -> personal is
# allowed); dom0 judges it as personal's.
bh_run qvm-run -p personal 'qvm-copy-to-vm personal ~/secret.bin'
bh_result "personal's request is judged with source personal, not work (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == *"from personal to personal is denied"* ]]; echo $?)
bh_run qvm-run -p personal 'cd ~/QubesIncoming && find . | LC_ALL=C sort'
bh_same "and personal's QubesIncoming holds only what work sent (and the receiver's empty staging folder)" \
  "$(printf '%s\n' . ./.bulkhead-partial ./work './work/report (1).bin' ./work/report.bin)" "$bh_out"

# Hostile: personal names work's domain id to reach work's call socket.
work_domid=$(qvm-run -p work 'echo $BH_VCHAN_DOMID')
bh_run qvm-run -p work 'test -S "$BH_VCHAN_DIR/$BH_VCHAN_DOMID/call.sock" && echo reachable'
bh_same "control: work's call socket is in work's sandbox (domain $work_domid)" "reachable" "$bh_out"
bh_run qvm-run -p personal "BH_VCHAN_DOMID=$work_domid qvm-copy-to-vm personal ~/secret.bin"
bh_result "personal with work's domain id cannot reach work's socket (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 2 ] && [[ "$bh_err" == *"cannot reach dom0"* ]]; echo $?)

# Hostile request lines straight at personal's socket; each is refused in words.
for req in 'bulkhead.Filecopy personal work' 'bulkhead.Evil work' '../../bin/sh work' "bulkhead.Filecopy work\nextra" \
  "$(printf 'x%.0s' $(seq 200))"; do
  bh_run qvm-run -p personal "printf '$req\n' | python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ[\"BH_VCHAN_DIR\"] + \"/\" + os.environ[\"BH_VCHAN_DOMID\"] + \"/call.sock\")
s.sendall(sys.stdin.buffer.read())
print(s.recv(600).decode(errors=\"replace\").strip())'"
  bh_result "request '${req:0:40}' is refused: $bh_out" $([[ "$bh_out" == refused:* ]]; echo $?)
done
# A flood of connections that never send a request: 8 calls in flight per
# qube, the 12 beyond are closed at once; once they go, calls work again.
bh_run qvm-run -p personal "python3 -c '
import os, socket, time
path = os.environ[\"BH_VCHAN_DIR\"] + \"/\" + os.environ[\"BH_VCHAN_DOMID\"] + \"/call.sock\"
held = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    held.append(s)
closed = 0
for s in held:
    s.settimeout(1)
    try:
        closed += s.recv(10) == b\"\"
    except socket.timeout:
        pass
print(closed)
for s in held:
    s.close()
time.sleep(0.5)
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall(b\"bulkhead.Evil work\\n\")
print(s.recv(600).decode().strip())'"
bh_same "20 idle connections from personal: 12 closed at once, then a request is answered again" \
  "$(printf '12\nrefused: bulkhead.Evil from personal to work is denied by policy')" "$bh_out"
bh_run qvm-run -p work 'ls -A ~/QubesIncoming 2>/dev/null | wc -l'
bh_same "nothing arrived in work from any of them" "0" "$bh_out"
grep -E 'call (refused|bulkhead)' "$bh_log" | bh_diag
# A qube calling in a loop: each caller still gets the reason, but dom0's
# log takes 32 refusals of a qube and then one line saying the rest is not
# logged (the earlier refusals above count towards the 32).
bh_call_loop personal "bulkhead.Evil work" 60
bh_same "60 refused calls in a loop: each caller is told" "60" "$bh_out"
logged=$(grep -c '\[personal\] call refused' "$bh_log")
bh_result "dom0's log holds 32 of personal's refusals (has $logged) and says the rest is not logged" \
  $([ "$logged" -eq 32 ] && grep -q '\[personal\] 32 calls refused; further refusals' "$bh_log"; echo $?)

# qvm-move-to-vm: the sources go only after the receiver's status 0 and an
# equal checksum; a refusal or a killed receiver keeps them.
bh_run qvm-run -p work 'mkdir -p ~/mv/sub && head -c 2M /dev/urandom > ~/mv/sub/a.bin && echo hi > ~/mv/b.txt &&
  cd ~/mv && find . -type f | LC_ALL=C sort | xargs sha256sum'
mv_sums=$bh_out
bh_run qvm-run -p work 'qvm-move-to-vm personal ~/mv && test ! -e ~/mv && echo gone'
bh_result "allowed: qvm-move-to-vm personal ~/mv exits 0 and ~/mv is gone in work ($bh_rc${bh_err:+: $bh_err})" \
  $([ "$bh_rc" -eq 0 ] && [ "$bh_out" = gone ]; echo $?)
bh_run qvm-run -p personal 'cd ~/QubesIncoming/work/mv && find . -type f | LC_ALL=C sort | xargs sha256sum'
bh_same "the moved tree is in personal with the same sha256 sums" "$mv_sums" "$bh_out"
bh_run qvm-run -p work 'cd ~ && echo dash > ./-x.txt && qvm-copy-to-vm personal -x.txt'
bh_run qvm-run -p personal 'cat ~/QubesIncoming/work/-x.txt'
bh_same "a file named -x.txt is sent as a file, not an option of the sender" "dash" "$bh_out"
bh_run qvm-run -p personal 'echo keep > ~/keep.txt; qvm-move-to-vm work ~/keep.txt; echo "rc=$?"; cat ~/keep.txt'
bh_result "refused: qvm-move-to-vm from personal to work exits 1 and keeps the source ($bh_err)" \
  $([ "$bh_out" = "$(printf 'rc=1\nkeep')" ] && [[ "$bh_err" == *"denied by policy"* ]]; echo $?)
bh_run qvm-run -p work 'head -c 256M /dev/urandom > ~/mbig.bin && sha256sum < ~/mbig.bin'
mbig_sum=$bh_out
qvm-run -p work 'qvm-move-to-vm personal ~/mbig.bin; echo "rc=$?"' >"$bh_tmp/move.out" 2>"$bh_tmp/move.err" &
move_job=$!
# The receiver in personal, once it has read 1 MiB: stopped (so a fast
# machine cannot finish first), then killed.
bh_run qvm-run -p personal 'for i in $(seq 10000); do
    p=$(pgrep -x bulkhead-file-r) && r=$(awk "/^rchar/{print \$2}" /proc/$p/io 2>/dev/null) &&
      [ "${r:-0}" -gt 1048576 ] && kill -STOP $p && echo was-receiving && kill -KILL $p && break
    sleep 0.002
  done'
bh_same "control: the receiver was stopped mid-file, then killed" "was-receiving" "$bh_out"
wait "$move_job"
bh_result "the move whose receiver was killed fails ($(tr '\n' ' ' <"$bh_tmp/move.out")$(head -c 200 "$bh_tmp/move.err"))" \
  $(grep -qx 'rc=[1-9][0-9]*' "$bh_tmp/move.out"; echo $?)
bh_run qvm-run -p work 'sha256sum < ~/mbig.bin'
bh_same "and the source is still in work, unchanged" "$mbig_sum" "$bh_out"
bh_run qvm-run -p personal 'find ~/QubesIncoming -name "mbig*" | wc -l'
bh_same "nothing of it is in personal" "0" "$bh_out"
bh_run qvm-run -p work 'rm -f ~/mbig.bin'

# qvm-copy and qvm-move ask for the target "@default" (dom0's ask dialog
# chooses it); a dom0 without a display for the dialog refuses, and the move keeps its
# source.
bh_run qvm-run -p work 'echo x > ~/d.txt; qvm-move ~/d.txt; echo "rc=$?"; cat ~/d.txt'
bh_result "qvm-move asks for @default; refused, it exits 1 and keeps the source ($bh_err)" \
  $([ "$bh_out" = "$(printf 'rc=1\nx')" ] && [[ "$bh_err" == "qvm-move: refused: "* ]]; echo $?)
bh_run qvm-run -p work 'qvm-copy ~/d.txt'
bh_result "qvm-copy asks for @default and is told why it is refused (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == "qvm-copy: refused: "* ]]; echo $?)
bh_run qvm-run -p personal 'find ~/QubesIncoming -name "d.txt" | wc -l'
bh_same "nothing of them is in personal" "0" "$bh_out"

# bulkheadd stopped (SIGTERM) while a call is in flight: it exits cleanly
# (calls outlive the call set only as far as their own callbacks).
allowed_before=$(grep -c '\[work\] call bulkhead.Filecopy to personal allowed' "$bh_log")
log_from=$(($(wc -l <"$bh_log") + 1))
qvm-run -p work 'head -c 512M /dev/zero > ~/big.bin && qvm-copy-to-vm personal ~/big.bin' >/dev/null 2>&1 &
copy_job=$!
bh_wait_grep "$bh_log" '\[work\] call bulkhead.Filecopy to personal allowed' 100 "$log_from"
sleep 0.3
bh_run grep -c '\[work\] call bulkhead.Filecopy to personal allowed' "$bh_log"
bh_same "control: the last call from work (this copy) was allowed and runs" "$((allowed_before + 1))" "$bh_out"
bh_stop_daemon
stop_rc=$?
bh_result "bulkheadd stopped during the call exits 0 ($stop_rc)" "$stop_rc"
wait "$copy_job" 2>/dev/null

bh_done
