#!/usr/bin/env bash
# sandbox-calls-ask.sh — the dom0 side of a call that policy answers with
# `ask` (docs/rpc.md "Calls from a qube", docs/ask.md): real qubes on the
# sandbox backend, bulkheadd on a private Xvfb under openbox, the real
# bulkhead-ask driven with xdotool, a notification server of the test's own.
#   - qvm-copy-to-vm @default in work: one dialog on dom0's display, offering
#     exactly the targets `bulkhead policy eval` lists (never work, dom0 or a
#     denied qube), personal preselected; typing 'untr' + Enter sends the file
#     to untrusted, which was halted and is started for the call (autostart);
#   - Escape, and no answer within BH_ASK_TIMEOUT_S: refused, the caller
#     told why, the user notified;
#   - 50 calls at once from work: one dialog, every other caller refused or
#     closed at once;
#   - the answer is checked again: a policy changed while the dialog was
#     open refuses the chosen target, and a dialog answering a target it was
#     not offered (a shim in place of bulkhead-ask) is refused;
#   - a policy deny is notified; autostart=no refuses a halted target; a
#     notify=yes allow is notified; a stopped notification server holds no
#     call up; 40 denies in a loop give 32 notifications; a target that
#     cannot start (its netvm paused) is refused with the reason;
#   - the service's stderr reaches the caller's stderr;
#   - @dispvm: a disposable made for the call and removed when it ends, also
#     when the caller is killed mid-call.
# Every wait waits for an event (a window, a log line, a file). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

bh_require_sandbox
bh_skip_without Xvfb openbox xdotool import python3

bh_start_xvfb
openbox >"$bh_tmp/openbox.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 100); do xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break; sleep 0.1; done
shots="$BH_BUILD_ROOT/tests/integration/shots"
mkdir -p "$shots"

notes="$bh_tmp/notifications"
: >"$notes"
/usr/bin/python3 "$here/notify-server.py" "$notes" >"$bh_tmp/notify.out" 2>&1 &
notify_pid=$!
bh_bg_pids+=($notify_pid)
bh_wait_grep "$bh_tmp/notify.out" READY 100 || echo "# the notification server did not start"

# (/usr/bin/python3: the notification server needs python3-gi.)
# bulkhead-ask through a shim that records what bulkheadd offers and, when
# $bh_tmp/ask-lie holds a line, answers that instead of asking (a dialog
# that lies: bulkheadd must not take it).
cat >"$bh_tmp/ask-shim" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$bh_tmp/ask-argv"
if [ -s "$bh_tmp/ask-lie" ]; then cat "$bh_tmp/ask-lie"; exit 0; fi
exec "$BH_BUILD_ROOT/ask/bulkhead-ask" "\$@"
EOF
chmod +x "$bh_tmp/ask-shim"
: >"$bh_tmp/ask-argv"
export BH_ASK_PATH="$bh_tmp/ask-shim" BH_ASK_TIMEOUT_S=15

policy_dir="$XDG_CONFIG_HOME/bulkhead/policy.d"
mkdir -p "$policy_dir"
cat >"$policy_dir/30-test.policy" <<'EOF'
bulkhead.Filecopy * work vault allow notify=yes autostart=no
bulkhead.Filecopy * work @default ask default_target=personal
bulkhead.Filecopy * work personal ask
bulkhead.Filecopy * work untrusted ask
bulkhead.Filecopy * work sys-firewall allow
bulkhead.Filecopy * work blocked allow
bulkhead.Filecopy * work @dispvm allow
bulkhead.Filecopy * @anyvm @anyvm deny
EOF

bh_start_daemon --backend sandbox --no-guid || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend on a display"

bh_run qvm-run -p work 'echo "from work" > ~/a.txt && echo ready'
bh_same "work runs and holds a file" "ready" "$bh_out"
bh_expect "personal runs" qvm-run -p personal true
bh_same "control: untrusted is halted before the call" "Halted" "$(bh_state_of untrusted)"

# dialog_wid: the dialog's window once it is mapped (30 s), else "".
dialog_wid() { bh_find_window '^Bulkhead: ' 150; }
dialogs() { xdotool search --onlyvisible --name '^Bulkhead: ' 2>/dev/null | wc -l; }
# call NAME CMD: CMD in work in the background, its output in $bh_tmp/NAME.*
call() {
  qvm-run -p work "$2" >"$bh_tmp/$1.out" 2>"$bh_tmp/$1.err" &
  call_pid=$!
  bh_bg_pids+=($call_pid)
}
# answer_after_focus WID KEYS...: activate, wait out the dialog's second, type.
answer_after_focus() {
  local wid=$1
  shift
  xdotool windowactivate --sync "$wid" 2>/dev/null
  sleep 1.5
  "$@"
}

# --- @default: the dialog, the choice, autostart -------------------------------
call pick 'qvm-copy-to-vm @default ~/a.txt'
wid=$(dialog_wid)
bh_result "qvm-copy-to-vm @default in work opens one dialog on dom0's display" \
  $([ -n "$wid" ] && [ "$(dialogs)" -eq 1 ]; echo $?)
bh_same "its title names the source and the service in words" "Bulkhead: work asks to copy files" \
  "$(xdotool getwindowname "$wid" 2>/dev/null)"
import -window root "$shots/calls-ask-dialog.png" 2>/dev/null && echo "# screenshot: $shots/calls-ask-dialog.png"
offered=$(tail -n1 "$bh_tmp/ask-argv" | grep -o -- '--target [^ ]*' | cut -d' ' -f2 | LC_ALL=C sort | tr '\n' ' ')
policy_list=$(bulkhead policy eval bulkhead.Filecopy work @default | sed -n 's/^targets: //p' | tr ' ' '\n' |
  LC_ALL=C sort | tr '\n' ' ')
bh_same "it offers exactly what policy lists for work -> @default" "$policy_list" "$offered"
bh_result "which is a disposable, personal, untrusted, vault and sys-firewall, never work, dom0 or sys-net ($offered)" \
  $([ "$offered" = "@dispvm:default-dvm personal sys-firewall untrusted vault " ]; echo $?)
bh_result "with the source's label and personal preselected" \
  $(tail -n1 "$bh_tmp/ask-argv" | grep -q -- '--source work --label blue .*--default personal'; echo $?)
# Each target's colour from the model: personal's own label, the disposable's its template's.
labels_of() { qvm-prefs "$1" label 2>/dev/null; }
want="--target personal --target-label $(labels_of personal)"
want_dvm="--target @dispvm:default-dvm --target-label $(labels_of default-dvm)"
bh_result "bulkheadd gives each target's label ($want; $want_dvm)" \
  $(tail -n1 "$bh_tmp/ask-argv" | grep -qF -- "$want" && tail -n1 "$bh_tmp/ask-argv" | grep -qF -- "$want_dvm"; echo $?)
answer_after_focus "$wid" xdotool type --delay 80 untr
sleep 0.3
xdotool key --clearmodifiers Return
wait "$call_pid"
rc=$?
bh_result "typing 'untr' + Enter sends the file to untrusted: the caller exits 0 ($rc: $(cat "$bh_tmp/pick.err"))" "$rc"
bh_same "untrusted was started for the call" "Running" "$(bh_state_of untrusted)"
bh_result "the receiver's stderr in untrusted reached the caller's stderr, naming untrusted and the folder there" \
  $(grep -qxF 'bulkhead-file-receiver: copied 1 file (10 bytes) to untrusted (into ~/QubesIncoming/work there)' \
    "$bh_tmp/pick.err"; echo $?)
bh_run qvm-run -p untrusted 'cat ~/QubesIncoming/work/a.txt'
bh_same "the file arrived in untrusted's ~/QubesIncoming/work/" "from work" "$bh_out"
grep -E '\[work\] call .*(asking|chose|starting|allowed)' "$bh_log" | bh_diag

# --- Escape and the timeout deny --------------------------------------------------
call esc 'qvm-copy-to-vm @default ~/a.txt'
wid=$(dialog_wid)
answer_after_focus "$wid" xdotool key --clearmodifiers Escape
wait "$call_pid"
rc=$?
bh_result "Escape: the caller is refused (exit $rc: $(cat "$bh_tmp/esc.err"))" \
  $([ "$rc" -eq 1 ] && grep -q 'the user refused it' "$bh_tmp/esc.err"; echo $?)
bh_wait_grep "$notes" 'Call denied|bulkhead.Filecopy from work to @default: the user refused it' 50
bh_result "and the user is notified" $?

start_s=$(date +%s)
call timeout 'qvm-copy-to-vm @default ~/a.txt'
wid=$(dialog_wid)
bh_result "control: a dialog is open for the timeout case" $([ -n "$wid" ]; echo $?)
wait "$call_pid"
rc=$?
waited=$(($(date +%s) - start_s))
bh_result "no answer: after $waited s (BH_ASK_TIMEOUT_S=15) the caller is refused (exit $rc)" \
  $([ "$rc" -eq 1 ] && [ "$waited" -ge 14 ] && grep -q 'the user refused it' "$bh_tmp/timeout.err"; echo $?)
bh_result "and the dialog is gone" $([ "$(dialogs)" -eq 0 ]; echo $?)

# --- one dialog per qube: 50 calls at once ------------------------------------------
# The script reports the 49 answers it got within 8 s, then waits for the
# last one (the dialog's), which Escape gives.
call flood "python3 -u -c '
import os, socket, time
path = os.environ[\"BH_VCHAN_DIR\"] + \"/\" + os.environ[\"BH_VCHAN_DOMID\"] + \"/call.sock\"
socks = []
for i in range(50):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b\"bulkhead.Filecopy @default\\n\")
    socks.append(s)
refused = closed = 0
pending = []
reasons = set()
for s in socks:
    s.settimeout(8)
    try:
        a = s.recv(600)
    except socket.timeout:
        pending.append(s)
        continue
    if a.startswith(b\"refused:\"):
        refused += 1
        reasons.add(a.decode().strip())
    elif a == b\"\":
        closed += 1
print(refused + closed, len(pending))
for r in sorted(reasons):
    print(r)
print(\"waiting\")
for s in pending:
    s.settimeout(None)
    print(\"last:\", s.recv(600).decode().strip())
'"
wid=$(dialog_wid)
bh_wait_grep "$bh_tmp/flood.out" '^waiting' 300
bh_same "50 calls at once from work: 49 refused or closed at once, one waits for the user" "49 1" \
  "$(head -n1 "$bh_tmp/flood.out")"
bh_same "each refusal says a dialog is open already" \
  "refused: a dialog for a call of work is open already: answer it first" "$(sed -n '2,/^waiting/p' "$bh_tmp/flood.out" | grep -v '^waiting')"
bh_result "and dom0's display shows exactly one dialog ($(dialogs))" $([ "$(dialogs)" -eq 1 ]; echo $?)
answer_after_focus "$wid" xdotool key --clearmodifiers Escape
wait "$call_pid"
bh_same "Escape answers the one that waited" \
  "last: refused: bulkhead.Filecopy from work to @default: the user refused it (Cancel or no answer in time)" \
  "$(tail -n1 "$bh_tmp/flood.out")"

# A caller that goes away while its dialog is open: the dialog goes too.
call holder "python3 -c '
import os, socket, time
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ[\"BH_VCHAN_DIR\"] + \"/\" + os.environ[\"BH_VCHAN_DOMID\"] + \"/call.sock\")
s.sendall(b\"bulkhead.Filecopy @default\\n\")
time.sleep(600)' & echo \$! > /tmp/holder.pid; wait"
wid=$(dialog_wid)
bh_result "control: the holder's dialog is open" $([ -n "$wid" ]; echo $?)
qvm-run -p work 'kill $(cat /tmp/holder.pid)' >/dev/null 2>&1
wait "$call_pid"
bh_wait_grep "$bh_log" 'the caller went away while the user was asked' 100
bh_result "the caller killed: bulkheadd closes its dialog ($(dialogs) left)" \
  $(for _ in $(seq 100); do [ "$(dialogs)" -eq 0 ] && break; sleep 0.1; done; [ "$(dialogs)" -eq 0 ]; echo $?)

# --- the answer is checked again --------------------------------------------------
call changed 'qvm-copy-to-vm @default ~/a.txt'
wid=$(dialog_wid)
mark=$(wc -l <"$bh_log")
printf 'bulkhead.Filecopy * work personal deny\n' >"$policy_dir/20-late.policy"
bh_wait_grep "$bh_log" 'policy loaded' 100 "$mark"
bh_result "control: bulkheadd reloaded the policy while the dialog was open" $?
answer_after_focus "$wid" xdotool key --clearmodifiers Return
wait "$call_pid"
rc=$?
bh_result "personal (preselected) is refused now that policy denies it (exit $rc: $(cat "$bh_tmp/changed.err"))" \
  $([ "$rc" -eq 1 ] && grep -q 'to personal is denied by policy' "$bh_tmp/changed.err"; echo $?)
rm "$policy_dir/20-late.policy"
mark=$(wc -l <"$bh_log")
bh_wait_grep "$bh_log" 'policy loaded' 100 "$mark"

for lie in sys-net dom0 work; do
  printf '%s\n' "$lie" >"$bh_tmp/ask-lie"
  bh_run qvm-run -p work 'qvm-copy-to-vm @default ~/a.txt'
  bh_result "a dialog answering '$lie', which it was not offered, is refused (exit $bh_rc: $bh_err)" \
    $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == *"answered a target it was not offered"* ]]; echo $?)
done
printf 'personal\n' >"$bh_tmp/ask-lie"
bh_run qvm-run -p work 'qvm-copy-to-vm @default ~/a.txt'
bh_result "control: the same shim answering personal (offered) is taken ($bh_rc: $bh_err)" "$bh_rc"
: >"$bh_tmp/ask-lie"
bh_run qvm-run -p personal 'ls ~/QubesIncoming/work/ | wc -l'
bh_same "and only that copy arrived in personal" "1" "$bh_out"
bh_run qvm-run -p sys-net 'ls -A ~/QubesIncoming 2>/dev/null | wc -l'
bh_same "nothing arrived in sys-net" "0" "$bh_out"

# --- notifications, autostart=no ----------------------------------------------------
bh_run qvm-run -p personal 'echo x > ~/b.txt; qvm-copy-to-vm work ~/b.txt'
bh_result "a policy deny is refused (exit $bh_rc)" $([ "$bh_rc" -eq 1 ]; echo $?)
bh_wait_grep "$notes" 'Call denied|bulkhead.Filecopy from personal to work is denied by policy' 50
bh_result "and notified, naming service, source and target" $?
bh_same "control: vault is halted" "Halted" "$(bh_state_of vault)"
bh_run qvm-run -p work 'qvm-copy-to-vm vault ~/a.txt'
bh_result "autostart=no: a call to halted vault is refused with the reason (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == *"vault is not running and policy does not allow starting it"* ]]; echo $?)
bh_same "and vault stays halted" "Halted" "$(bh_state_of vault)"
bh_expect "vault is started by hand" qvm-start vault
bh_run qvm-run -p work 'qvm-copy-to-vm vault ~/a.txt'
bh_result "then the call is allowed (exit $bh_rc: $bh_err)" "$bh_rc"
bh_wait_grep "$notes" 'Call allowed|bulkhead.Filecopy from work to vault' 50
bh_result "and, notify=yes, notified" $?

# A notification server that does not answer holds no call up: stopped, the
# deny still reaches the caller, before the notification's D-Bus call (5 s)
# has timed out.
kill -STOP "$notify_pid"
bh_run qvm-run -p personal 'qvm-copy-to-vm work ~/b.txt'
timed_out=$(grep -c 'call notification not shown' "$bh_log")
bh_result "with the notification server stopped, a deny still reaches the caller at once (exit $bh_rc)" \
  $([ "$bh_rc" -eq 1 ] && [ "$timed_out" -eq 0 ]; echo $?)
bh_wait_grep "$bh_log" 'call notification not shown (.*from personal to work' 150
bh_result "and the unanswered notification is only logged, once its D-Bus call timed out" $?
kill -CONT "$notify_pid"

# A qube whose calls are denied in a loop: 32 notifications for it, no more.
bh_call_loop personal "bulkhead.Filecopy work" 40
bh_same "40 denied calls from personal in a loop: each caller is told" "40" "$bh_out"
# A notification sent after them (bulkheadd's calls on one connection keep
# their order) shows the server has seen all of theirs.
bh_run qvm-run -p work 'qvm-copy-to-vm vault ~/a.txt'
for _ in $(seq 100); do [ "$(grep -c 'from work to vault' "$notes")" -ge 2 ] && break; sleep 0.1; done
n_personal=$(grep -c 'from personal' "$notes")
bh_result "the desktop got 32 notifications about personal's calls, no more ($n_personal)" \
  $([ "$n_personal" -eq 32 ]; echo $?)

# --- a target that cannot start ------------------------------------------------------
bh_expect "a qube 'blocked' on sys-firewall is created" qvm-create --class AppVM --label red blocked
bh_expect "its netvm is sys-firewall" qvm-prefs blocked netvm sys-firewall
bh_same "control: sys-firewall runs (personal's netvm chain)" "Running" "$(bh_state_of sys-firewall)"
bh_expect "sys-firewall is paused" qvm-pause sys-firewall
bh_run qvm-run -p work 'qvm-copy-to-vm blocked ~/a.txt'
bh_result "a call to blocked, whose netvm is paused, is refused with the reason (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == *"cannot start blocked: "*"sys-firewall is paused"* ]]; echo $?)
bh_same "and blocked is halted" "Halted" "$(bh_state_of blocked)"
bh_expect "sys-firewall is unpaused" qvm-unpause sys-firewall

# --- @dispvm: a disposable for the call, gone when it ends ---------------------------
mark=$(wc -l <"$bh_log")
bh_run qvm-run -p work 'qvm-copy-to-vm @dispvm ~/a.txt'
bh_result "qvm-copy-to-vm @dispvm: the copy goes to a new disposable (exit $bh_rc: $bh_err)" "$bh_rc"
disp=$(tail -n +"$mark" "$bh_log" | sed -n 's/.*disposable \(disp[0-9]*\) made from default-dvm.*/\1/p' | head -n1)
bh_result "made from work's default disposable template ($disp)" $([ -n "$disp" ]; echo $?)
bh_wait_grep "$bh_log" "\[$disp\] disposable removed" 300 "$mark"
bh_result "and removed once the call ended" $([ $? -eq 0 ] && [ -z "$(bh_state_of "$disp")" ]; echo $?)

# The caller killed while the disposable's service waits for its data.
mark=$(wc -l <"$bh_log")
call dvmkill "python3 -c '
import os, socket, time
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ[\"BH_VCHAN_DIR\"] + \"/\" + os.environ[\"BH_VCHAN_DOMID\"] + \"/call.sock\")
s.sendall(b\"bulkhead.Filecopy @dispvm\\n\")
print(s.recv(3).decode().strip(), flush=True)
time.sleep(600)' & echo \$! > /tmp/dvm.pid; wait"
bh_wait_grep "$bh_tmp/dvmkill.out" '^ok' 600
bh_result "control: a disposable call is under way (dom0 said ok)" $?
disp=$(tail -n +"$mark" "$bh_log" | sed -n 's/.*disposable \(disp[0-9]*\) made from default-dvm.*/\1/p' | head -n1)
bh_same "control: its disposable $disp runs" "Running" "$(bh_state_of "$disp")"
qvm-run -p work 'kill $(cat /tmp/dvm.pid)' >/dev/null 2>&1
wait "$call_pid"
bh_wait_grep "$bh_log" "\[$disp\] disposable removed" 300 "$mark"
bh_result "the caller killed: the disposable is killed and removed" $([ $? -eq 0 ] && [ -z "$(bh_state_of "$disp")" ]; echo $?)

grep -E 'call|dialog|disposable' "$bh_log" | tail -n 30 | bh_diag
bh_done
