#!/usr/bin/env bash
# daemon-readopt.sh — a crash of bulkheadd must not cost the user their
# running qubes (issue 23, "Also"). On the sandbox backend, with real qubes:
#   work runs with unsaved state (a draft in its /tmp, an editor process) and,
#   when Xvfb, xdotool and foot are there, a foot window shown by its guid;
#   untrusted runs too, but its record is made unverifiable (a wrong start
#   time for its init): an orphan that cannot be proven ours;
#   personal is halted, and a stale record claims it runs as a process the
#   test started (unrelated to any qube);
#   ghost runs, and is deleted from the store while no daemon runs (a store
#   restored from a backup): proven, but no longer a qube bulkheadd knows;
#   vault runs but has no record (as a qube still starting when the daemon
#   died would): an orphan of this state directory that nothing proves;
#   work is paused when the daemon dies.
# bulkheadd is killed with SIGKILL, and a new one started. Expected: work is
# Running with its draft and the same editor process, qvm-run works (its
# agent reconnected), a new guid shows its window again; the log says what
# was re-adopted and what was cleaned up; untrusted's sandbox is killed and
# its control group removed; the unrelated process is alive and personal
# Halted. A second bulkheadd on the same state directory is refused and
# changes nothing. A normal stop (SIGTERM) still stops every qube.
# Prints TAP; reuses daemon-lib.sh (private bus, temporary dirs, clean-up).
set -u
. "$(dirname "$0")/daemon-lib.sh"

if ! command -v bwrap >/dev/null; then
  echo "1..0 # SKIP bubblewrap is not installed"
  exit 0
fi

display=0
if command -v Xvfb >/dev/null && command -v xdotool >/dev/null && command -v foot >/dev/null; then
  display=1
  bh_start_xvfb
else
  echo "# Xvfb, xdotool or foot missing: the guid part is not checked"
fi

state_of() { qvm-ls --raw-data "$1" 2>/dev/null | cut -d'|' -f2; }
field() { sed -n "s/^$2=//p" "$bh_state/sandbox-running/$1" 2>/dev/null; }
# Running, not a zombie: a killed sandbox process whose parent died first
# waits for whoever inherited it to reap it.
alive() { [ -n "$1" ] && [ -e "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^[ZX]'; }
in_log() { grep -c -- "$1" "$bh_log"; }

bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?
# No netvm: two qubes are enough here, and fewer sandboxes keep it quick.
qvm-prefs work netvm '' && qvm-prefs untrusted netvm ''
bh_expect "work starts" qvm-start work
bh_expect "untrusted starts" qvm-start untrusted
bh_expect "ghost is created" qvm-create -l gray --prop netvm= ghost
bh_expect "ghost starts" qvm-start ghost
bh_expect "vault starts" sh -c "qvm-prefs vault netvm '' && qvm-start vault"

# Unsaved state: a draft in work's /tmp (a tmpfs: gone if the qube dies) and
# an editor process holding it.
bh_expect "a draft is written into work's /tmp" qvm-run -p work 'echo "my unsaved draft" >/tmp/draft.txt'
qvm-run work 'echo $$ >/tmp/editor.pid; exec sleep 100123'
for _ in $(seq 50); do
  bh_run qvm-run -p work 'cat /tmp/editor.pid'
  [ -n "$bh_out" ] && break
  sleep 0.1
done
editor=$bh_out
bh_run qvm-run -p work "tr '\\0' ' ' </proc/$editor/cmdline"
bh_same "an editor process runs in work (pid $editor inside)" "sleep 100123 " "$bh_out"

if [ $display -eq 1 ]; then
  qvm-run work foot >"$bh_tmp/foot.log" 2>&1
  win=$(bh_find_window '^\[work\] ')
  bh_result "work's foot window is shown (got: $(xdotool getwindowname "$win" 2>/dev/null))" \
    $([ -n "$win" ]; echo $?)
  old_guid=$(bh_guid_pids work | head -n1) # ours only: other tests run guids for a work too
fi

work_init=$(field work init_pid)
work_bwrap=$(field work bwrap_pid)
untrusted_init=$(field untrusted init_pid)
ghost_init=$(field ghost init_pid)
vault_init=$(field vault init_pid)
rm -f "$bh_state/sandbox-running/vault"
untrusted_tag=$(field untrusted tag)
bh_result "work and untrusted left records to be adopted by (inits $work_init, $untrusted_init)" \
  $([ -n "$work_init" ] && [ -n "$untrusted_init" ]; echo $?)

# untrusted's record no longer proves anything: its init's start time is off.
sed -i 's/^init_start=.*/init_start=1/' "$bh_state/sandbox-running/untrusted"
# personal is halted; a stale record says it runs as an unrelated process,
# with that process's real start time, so only the identity checks refuse it.
sleep 100456 &
unrelated=$!
bh_bg_pids+=($unrelated)
start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$unrelated/stat")
qid=$(qvm-prefs personal qid)
cat >"$bh_state/sandbox-running/personal" <<EOF
[sandbox]
name=personal
qid=$qid
uid=$((0x300000 + qid))
tag=$untrusted_tag
bwrap_pid=$unrelated
bwrap_start=$start
init_pid=$unrelated
init_start=$start
stage_dir=/run/bulkhead-sandbox/$untrusted_tag/personal
vchan_dir=$XDG_RUNTIME_DIR/bulkhead/vchan/$qid
netvm=
provides_network=false
disposable=false
boot_id=$(cat /proc/sys/kernel/random/boot_id)
console_ino=0
EOF

# work's RPC agent is stopped from the host: after the restart it cannot
# answer until it is continued, so a command asked for meanwhile must wait
# for it (and not take another way in).
agent=$(pgrep -P "$work_init" -f bulkhead-agent | head -n1)
bh_result "control: work's RPC agent runs (pid $agent)" $([ -n "$agent" ]; echo $?)
kill -STOP "$agent"
bh_expect "work is paused" qvm-pause work
lines_before=$(wc -l <"$bh_log")
bh_kill_daemon
sqlite3 "$bh_state/qubes.db" "PRAGMA foreign_keys=ON; DELETE FROM qubes WHERE name='ghost'"
sleep 0.5
bh_result "work's sandbox outlives bulkheadd's SIGKILL (init $work_init, bubblewrap $work_bwrap)" \
  $(alive "$work_init" && alive "$work_bwrap"; echo $?)
bh_result "control: untrusted's sandbox is still there before the restart (init $untrusted_init)" \
  $(alive "$untrusted_init"; echo $?)
if [ $display -eq 1 ]; then
  for _ in $(seq 300); do alive "$old_guid" || break; sleep 0.1; done
  bh_result "work's guid (pid $old_guid) ended with the daemon that started it" $(alive "$old_guid"; [ $? -ne 0 ]; echo $?)
fi

bh_start_daemon --backend sandbox
bh_result "bulkheadd restarts" $?
bh_same "qvm-ls shows work Paused after the restart, as it was" "Paused" "$(state_of work)"
bh_expect "work resumes" qvm-unpause work
bh_same "qvm-ls shows work Running" "Running" "$(state_of work)"
qvm-run -p work 'cat /tmp/draft.txt' >"$bh_tmp/held.out" 2>&1 &
held=$!
sleep 1
bh_result "qvm-run while work's agent cannot answer yet waits for it" $(kill -0 "$held" 2>/dev/null; echo $?)
kill -CONT "$agent"
wait "$held"
bh_result "... and runs through it once it answers again (status $?)" $?
bh_same "the draft in work's /tmp survived" "my unsaved draft" "$(cat "$bh_tmp/held.out")"
bh_run qvm-run -p work "tr '\\0' ' ' </proc/$editor/cmdline"
bh_same "the editor process is the same one (pid $editor inside)" "sleep 100123 " "$bh_out"
bh_same "work's init is the same process" "$work_init" "$(field work init_pid)"
new_log=$(tail -n +"$((lines_before + 1))" "$bh_log")
printf '%s\n' "$new_log" | grep -q "\[work\] re-adopted its running sandbox (bubblewrap pid $work_bwrap, init pid $work_init"
bh_result "the log says work was re-adopted" $?
printf '%s\n' "$new_log" | grep -q "\[work\] its RPC agent answered"
bh_result "the log says work's agent answered again" $?
# work and the netvms that autostarted with the first daemon (sys-net,
# sys-firewall) are re-adopted; untrusted is the one orphan.
summary=$(printf '%s\n' "$new_log" | grep -o "after a restart: .*")
bh_same "the log sums it up" "after a restart: 3 qubes re-adopted, 3 orphaned sandboxes cleaned up" "$summary"

# No record, but in this state directory's dead daemon's groups: killed.
for _ in $(seq 300); do alive "$vault_init" || break; sleep 0.1; done
bh_result "control: vault ran without a record (init $vault_init); it is killed now" \
  $([ -n "$vault_init" ] && ! alive "$vault_init"; echo $?)
printf '%s\n' "$new_log" | grep -q "\[vault\] a sandbox left by bulkheadd [0-9]* could not be adopted: killed and cleaned up"
bh_result "the log says vault was an orphan and was cleaned up" $?

# Proven, but the store no longer has it: killed, not adopted.
for _ in $(seq 300); do alive "$ghost_init" || break; sleep 0.1; done
bh_result "control: ghost's sandbox was there (init $ghost_init) and is killed now" \
  $([ -n "$ghost_init" ] && ! alive "$ghost_init"; echo $?)
printf '%s\n' "$new_log" | grep -q "\[ghost\] its sandbox still runs, but bulkheadd no longer knows that qube; killing it"
bh_result "the log says ghost was killed as unknown" $?

# The orphan that could not be proven ours: killed, its group removed.
for _ in $(seq 300); do alive "$untrusted_init" || break; sleep 0.1; done
bh_result "untrusted's unverifiable sandbox was killed (init $untrusted_init gone)" \
  $(alive "$untrusted_init"; [ $? -ne 0 ]; echo $?)
printf '%s\n' "$new_log" | grep -q "\[untrusted\] not adopted: pid $untrusted_init is not its init any more.*killed what was left in its control group"
bh_result "the log says why untrusted was not adopted and that it was cleaned up" $?
bh_same "untrusted is Halted" "Halted" "$(state_of untrusted)"
left=$(find /sys/fs/cgroup -maxdepth 6 -type d -path "*bulkhead-$untrusted_tag/untrusted" 2>/dev/null | head -n1)
bh_same "untrusted's control group is gone" "" "$left"

# The stale record: refused, and the process it named left alone.
bh_result "the unrelated process a stale record named is not killed (pid $unrelated)" \
  $(alive "$unrelated"; echo $?)
printf '%s\n' "$new_log" | grep -q "\[personal\] not adopted: pid $unrelated runs .*, not "
bh_result "the log says personal's record names something that is not bubblewrap" $?
bh_same "personal stays Halted" "Halted" "$(state_of personal)"
bh_result "the stale record is gone" $([ ! -e "$bh_state/sandbox-running/personal" ]; echo $?)

if [ $display -eq 1 ]; then
  win=$(bh_find_window '^\[work\] ' 150)
  new_guid=$(bh_guid_pids work | head -n1)
  bh_result "a new guid (pid $new_guid) shows work's foot window again: $(xdotool getwindowname "$win" 2>/dev/null)" \
    $([ -n "$win" ] && [ -n "$new_guid" ] && [ "$new_guid" != "$old_guid" ]; echo $?)
  import -window root "${BH_SHOT_DIR:-$bh_tmp}/readopt-after-restart.png" 2>/dev/null
  # The console came back: what work's GUI agent wrote while no daemon read
  # it (the old guid gone) waited in the pipe, then the new guid's arrival.
  new_log=$(tail -n +"$((lines_before + 1))" "$bh_log")
  printf '%s\n' "$new_log" | grep -q "\[work\] bulkhead-gui-agent\[link\] info: dropping the dom0 connection: dom0 disconnected"
  bh_result "work's console is read again: a line written while no daemon ran is logged" $?
  printf '%s\n' "$new_log" | grep -q "\[work\] bulkhead-gui-agent\[link\] info: dom0 connected"
  bh_result "... and the GUI agent's greeting of the new guid" $?
fi

# An adopted qube is driven like any other: a clean shutdown.
fw_init=$(field sys-firewall init_pid)
bh_expect "an adopted qube (sys-firewall) shuts down cleanly" qvm-shutdown --wait sys-firewall
bh_same "... is Halted" "Halted" "$(state_of sys-firewall)"
bh_result "... its init $fw_init is gone and so is its record" \
  $([ -n "$fw_init" ] && ! alive "$fw_init" && [ ! -e "$bh_state/sandbox-running/sys-firewall" ]; echo $?)

# Two daemons at once on one state directory: the second is refused before it
# adopts (or kills) anything.
"$BULKHEADD" --state-dir "$bh_state" --backend sandbox >"$bh_tmp/second.log" 2>&1
rc=$?
bh_result "a second bulkheadd on the same state directory is refused (status $rc)" $([ $rc -ne 0 ]; echo $?)
bh_result "... and work still runs, same init" $(alive "$work_init" && [ "$(state_of work)" = Running ]; echo $?)
bh_expect "... and qvm-run work still works" qvm-run -p work true

# Two daemons racing to start after a crash: one wins the state lock and
# adopts; the other is refused before it looks at anything.
bh_kill_daemon
lines_before=$(wc -l <"$bh_log")
"$BULKHEADD" --state-dir "$bh_state" --verbose --backend sandbox >>"$bh_log" 2>&1 &
racer1=$!
"$BULKHEADD" --state-dir "$bh_state" --verbose --backend sandbox >>"$bh_log" 2>&1 &
racer2=$!
for _ in $(seq 300); do bh_name_owned && break; sleep 0.1; done
sleep 0.5
if kill -0 "$racer1" 2>/dev/null; then bh_daemon_pid=$racer1; loser=$racer2; else bh_daemon_pid=$racer2; loser=$racer1; fi
wait "$loser"
rc=$?
bh_result "of two daemons started at once, one runs and the other is refused (status $rc)" \
  $(kill -0 "$bh_daemon_pid" 2>/dev/null && [ $rc -ne 0 ]; echo $?)
adoptions=$(tail -n +"$((lines_before + 1))" "$bh_log" | grep -c "\[work\] re-adopted its running sandbox")
bh_same "work is re-adopted once" 1 "$adoptions"
bh_result "... and runs on, same init" $(alive "$work_init" && [ "$(state_of work)" = Running ]; echo $?)
bh_expect "... and qvm-run work works" qvm-run -p work true

# Another state directory's daemon crashes with vault running: its qubes are
# not ours to judge while that directory exists (its own daemon may come back
# and adopt them), and nobody's once it is gone: then they are killed.
state_b="$bh_tmp/state-b"
mkdir -p "$bh_tmp/run-b" && chmod 700 "$bh_tmp/run-b"
XDG_RUNTIME_DIR="$bh_tmp/run-b" dbus-run-session -- bash -c '
  "$1" --state-dir "$2" --backend sandbox --no-guid >>"$3" 2>&1 &
  d=$!
  for _ in $(seq 300); do
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner org.bulkhead.Admin1 2>/dev/null | grep -q true && break
    sleep 0.1
  done
  qvm-prefs vault netvm "" && qvm-start vault
  kill -KILL $d; wait $d' _ "$BULKHEADD" "$state_b" "$bh_tmp/b.log" 2>/dev/null
b_init=$(sed -n 's/^init_pid=//p' "$state_b/sandbox-running/vault" 2>/dev/null)
bh_result "control: vault of another state directory runs after its daemon's SIGKILL (init $b_init)" \
  $([ -n "$b_init" ] && alive "$b_init"; echo $?)
b_stage=$(dirname "$(grep -lxF -- "$state_b" /run/bulkhead-sandbox/*/.state 2>/dev/null | head -n1)")
bh_result "control: its daemon's staging directory is there ($b_stage: $(ls -A "$b_stage" 2>/dev/null | tr '\n' ' '))" \
  $([ "$b_stage" != . ] && [ -d "$b_stage" ]; echo $?)
bh_stop_daemon >/dev/null
for _ in $(seq 300); do alive "$work_init" || break; sleep 0.1; done
bh_result "a normal stop also stops an adopted qube (work, init $work_init)" $(alive "$work_init"; [ $? -ne 0 ]; echo $?)
bh_start_daemon --backend sandbox
bh_result "... and is left alone by this state directory's daemon while its directory exists" \
  $(alive "$b_init"; echo $?)
bh_stop_daemon >/dev/null
rm -rf "$state_b"
lines_before=$(wc -l <"$bh_log")
bh_start_daemon --backend sandbox
for _ in $(seq 300); do alive "$b_init" || break; sleep 0.1; done
bh_result "... and killed once that directory is gone" $(alive "$b_init"; [ $? -ne 0 ]; echo $?)
# The daemon writes the line after the kill and the clean-up, so the sandbox
# can be seen gone a moment before the line is there: wait for it (5 s).
bh_wait_grep "$bh_log" "\[vault\] a sandbox left by bulkheadd [0-9]* of a state directory that is gone could not be adopted: killed and cleaned up" 50 "$((lines_before + 1))"
bh_result "the log says so" $?
bh_result "... and its staging directory is removed, resolv.conf and all ($b_stage)" $([ ! -e "$b_stage" ]; echo $?)
bh_expect "work starts again" qvm-start work
work_init=$(field work init_pid)

# A normal stop is a stop: every qube goes down, nothing is left to adopt.
bh_stop_daemon
bh_result "SIGTERM: bulkheadd stops" $?
for _ in $(seq 300); do alive "$work_init" || break; sleep 0.1; done
bh_result "a normal stop shut work down" $(alive "$work_init"; [ $? -ne 0 ]; echo $?)
bh_same "no record is left behind" "" "$(ls "$bh_state/sandbox-running" 2>/dev/null)"
bh_start_daemon --backend sandbox
bh_same "the next start finds work Halted" "Halted" "$(state_of work)"
# Stopped while its autostart of the netvms is still under way (calls in
# flight hold the daemon object): still nothing may be left running.
groups() { find /sys/fs/cgroup -maxdepth 8 -type d -name "bulkhead-$1" 2>/dev/null | wc -l; }
pid=$bh_daemon_pid
bh_result "control: bulkheadd $pid has its control groups ($(groups "$pid"))" $([ "$(groups "$pid")" -gt 0 ]; echo $?)
# ... by SIGHUP, as when the terminal ./run started it from closes.
kill -HUP "$pid"
wait "$pid"
rc=$?
bh_daemon_pid=""
bh_same "SIGHUP (its terminal closed) is a clean stop" 0 "$rc"
bh_same "a stop during autostart leaves no control group of it behind (no qube runs)" 0 "$(groups "$pid")"

bh_done
