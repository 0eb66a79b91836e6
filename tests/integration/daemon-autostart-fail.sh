#!/usr/bin/env bash
# daemon-autostart-fail.sh — a qube whose autostart fails is the qube's
# failure, not bulkheadd's (real sandbox qubes, under the tests'
# G_DEBUG=fatal-warnings, where a warning aborts the daemon).
#
# sys-net's start fails after its sandbox runs: its uplink program,
# slirp4netns, is not on bulkheadd's PATH (a directory of links to the
# host's programs but that one), so the network set-up that follows the
# sandbox's start fails, as it did once in a loaded run when sys-net died
# between its start and its firewall (`nsenter: cannot open /proc/N/ns/net`)
# and bulkheadd aborted. Checked:
#   - bulkheadd lives on and says why as a message, not a warning;
#   - StartFailed carries the reason, and sys-firewall's says its netvm did
#     not start; the real shell (on Xvfb, with a notification server of the
#     test's own) shows "Qube sys-net failed to start: <reason>", once, in
#     one card that also names sys-firewall as not started because of it;
#   - sys-net is Halted with nothing of it left: no process in its control
#     group, no record for a later daemon to adopt, no uplink; its sandbox
#     was gone when the backend answered the start (bulkheadd had nothing
#     left to kill) and when StartFailed came;
#   - control: with slirp4netns back on PATH the next bulkheadd autostarts
#     sys-net (so the failure was the missing uplink, and nothing stale of
#     the failed start is in the way).
# Prints TAP; reuses daemon-lib.sh.

. "$(dirname "$0")/daemon-lib.sh"
bh_require_sandbox
bh_skip_without slirp4netns nsenter nft dbus-monitor Xvfb xdotool python3
here=$(cd "$(dirname "$0")" && pwd)

# Every program of the host's PATH but slirp4netns (reachable by the
# qubes' host uids: bubblewrap is run as the qube's).
tools="$bh_tmp/tools"
mkdir -p "$tools"
chmod 711 "$bh_tmp"
chmod 755 "$tools"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  for f in "$d"/*; do
    n=${f##*/}
    [ "$n" = slirp4netns ] || [ -e "$tools/$n" ] || ln -s "$f" "$tools/$n"
  done
done

signals="$bh_tmp/signals"
dbus-monitor --session "type='signal',interface='org.bulkhead.Admin1'" >"$signals" 2>&1 &
bh_bg_pids+=($!)
bh_until 50 grep -q "NameAcquired" "$signals"
# failed_reason QUBE: the reason of the last StartFailed of QUBE (dbus-monitor
# prints the two strings on the lines after the signal's).
failed_reason() {
  awk -v q="\"$1\"" '/member=StartFailed/ {m = 1; next}
    m == 1 {m = ($2 == q) ? 2 : 0; next}
    m == 2 {sub(/^ *string "/, ""); sub(/"$/, ""); print; m = 0}' "$signals" | tail -n1
}
has_failed() { [ -n "$(failed_reason "$1")" ]; }

# What is left of sys-net: its processes (by their control group, this
# test's daemon's bulkhead-<its pid>/sys-net: other tests' daemons may run
# a sys-net of their own) and its record.
sys_net_procs() {
  local d
  d=$(pgrep -f -- "--state-dir $bh_state " | head -n1)
  [ -n "$d" ] || { echo none; return; }
  grep -l "/bulkhead-$d/sys-net\(/\|\$\)" /proc/[0-9]*/cgroup 2>/dev/null | wc -l
}
record="$bh_state/sandbox-running/sys-net"

# The moment sys-net's StartFailed arrives: how many of its processes ran.
watch_failed() {
  local line
  while IFS= read -r line; do
    [[ $line == *member=StartFailed* ]] || continue
    IFS= read -r line
    [[ $line == *'"sys-net"'* ]] || continue
    echo "procs $(sys_net_procs)" >"$bh_tmp/at-failure"
    return
  done < <(tail -n +1 -f --pid=$$ "$signals")
}
watch_failed &
bh_bg_pids+=($!)

# The shell first, with a notification server of the test's own: what the
# user sees of an autostart at bulkheadd's start.
bh_start_xvfb
notes="$bh_tmp/notifications"
: >"$notes"
/usr/bin/python3 "$here/notify-server.py" "$notes" >"$bh_tmp/notify.out" 2>&1 &
bh_bg_pids+=($!)
bh_until 100 grep -q READY "$bh_tmp/notify.out"
"$BH_BUILD_ROOT/shell/bulkhead-shell" >"$bh_tmp/shell.log" 2>&1 &
bh_bg_pids+=($!)
panel=$(bh_find_window '^Bulkhead panel$' 150)
bh_result "bulkhead-shell shows its panel" $([ -n "$panel" ]; echo $?)

PATH="$tools:$BH_BUILD_ROOT/core/cli" bh_start_daemon --backend sandbox --no-guid
bh_result "bulkheadd started with a PATH without slirp4netns" $?

bh_until 1200 has_failed sys-net
reason=$(failed_reason sys-net)
bh_result "StartFailed says why sys-net did not start: '${reason:0:160}'" \
  $([[ $reason == *slirp4netns* ]]; echo $?)
bh_until 600 has_failed sys-firewall
fw=$(failed_reason sys-firewall)
bh_result "and sys-firewall's that its netvm did not start: '${fw:0:120}'" \
  $([[ $fw == *"its netvm sys-net did not start"* ]]; echo $?)

bh_until 150 grep -qF "Qube sys-net failed to start: " "$notes"
notice=$(grep -o "Qube sys-net failed to start: .*" "$notes" | head -n1)
bh_result "the shell's notice says why: '${notice:0:120}'" $([[ $notice == *slirp4netns* ]]; echo $?)
bh_result "and what to do: '${notice: -60}'" \
  $([[ $notice == *"install slirp4netns, then start the qube again"* ]]; echo $?)
bh_result "and only that one notice about sys-net" $([ "$(grep -c "Qube sys-net" "$notes")" = 1 ]; echo $?)
# sys-firewall did not start because sys-net did not: one card says both
# (before: a second card repeating sys-net's reason). Its card waits
# BH_SHELL_START_FAILED_MS for the clients' failures; a moment more for any
# other card to come.
bh_until 100 grep -q "Not started either, as their network goes through sys-net: sys-firewall" "$notes"
bh_result "that card also says sys-firewall did not start because of it, and what to do" \
  $(grep -q "Not started either, as their network goes through sys-net: sys-firewall. Start it again once sys-net runs." "$notes"; echo $?)
sleep 2
cards=$(grep -c "^Qubes|" "$notes")
bh_result "one card in all for the failure ($cards: $(grep "^Qubes|" "$notes" | cut -c1-60 | tr '\n' ' '))" \
  $([ "$cards" = 1 ]; echo $?)

alive() { [ -n "$bh_daemon_pid" ] && kill -0 "$bh_daemon_pid" 2>/dev/null; }
# A moment for an abort to show: the log's autostart lines come after it.
bh_until 100 grep -q "\[sys-firewall\] autostart failed" "$bh_log"
alive
bh_result "bulkheadd lives on after the failed autostarts (fatal warnings: $G_DEBUG)" $?
bh_result "it logged them as messages, not warnings" \
  $(grep -q "Message.*\[sys-net\] autostart failed: " "$bh_log" &&
    ! grep -q "WARNING\|CRITICAL\|Trace/breakpoint" "$bh_log"; echo $?)

bh_result "sys-net is Halted ($(bh_state_of sys-net))" $([ "$(bh_state_of sys-net)" = Halted ]; echo $?)
bh_result "sys-firewall is Halted ($(bh_state_of sys-firewall))" \
  $([ "$(bh_state_of sys-firewall)" = Halted ]; echo $?)
# The backend answers a failed start only once its sandbox is gone; the
# daemon kills (and says so) whatever a backend still holds when it answers.
bh_result "the sandbox was gone when its start was answered (nothing left for bulkheadd to kill)" \
  $(! grep -q "\[sys-net\] its backend still holds it" "$bh_log"; echo $?)
bh_until 100 test -s "$bh_tmp/at-failure"
at=$(sed -n 's/^procs //p' "$bh_tmp/at-failure" 2>/dev/null)
bh_result "when StartFailed came, nothing of sys-net ran any more (${at:-?} processes)" \
  $([ "$at" = 0 ]; echo $?)
bh_result "nothing of sys-net runs now ($(sys_net_procs) processes), no record is left" \
  $([ "$(sys_net_procs)" = 0 ] && [ ! -e "$record" ]; echo $?)
bh_result "no uplink runs" $(! pgrep -x slirp4netns -P "$bh_daemon_pid" >/dev/null; echo $?)

bh_stop_daemon
bh_result "bulkheadd stops cleanly (status 0)" $?

# Control: the same state, slirp4netns back on PATH.
bh_start_daemon --backend sandbox --no-guid
bh_wait_state sys-net Running 1200
st=$? # before the result line: its $(...) would reset $?
bh_result "control: with slirp4netns on PATH, sys-net autostarts ($(bh_state_of sys-net))" $st
bh_stop_daemon

bh_done
