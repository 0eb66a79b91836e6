#!/usr/bin/env bash
# daemon-first-apps-fail.sh — bulkheadd --read-app-lists (docs/apps.md,
# "First lists") with qubes whose app list fails, on real sandboxes whose
# bulkhead-applist is the test's (BH_SANDBOX_GUEST_DIRS; the rest are the
# build's programs):
#   - debian-12's program writes garbage (a hostile reply): the list is
#     refused, the reason is in ListApps, the template is halted again;
#   - a restarted daemon does not start debian-12 again for it, and still
#     says why it has no list (before: started at every daemon start);
#   - a standalone whose program stalls and then fails, started by the
#     daemon for its first list, and used by the user meanwhile (qvm-run):
#     the failure is reported and the qube stays up (before: shut down
#     under the user).
# Prints TAP; reuses daemon-lib.sh (private bus, temporary dirs, clean-up).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

guest="$bh_tmp/guest"
bh_guest_programs "$guest" bulkhead-sandbox-init bulkhead-agent bulkhead-gui-agent
# The qube's name is its host name (its own uts namespace).
cat >"$guest/bulkhead-applist" <<'SH'
#!/bin/sh
case "$(cat /proc/sys/kernel/hostname)" in
busy) sleep 15; echo 'bulkhead-applist: broken' >&2; exit 3 ;;
esac
printf 'not an app list, what a compromised qube could write'
SH
chmod +x "$guest/bulkhead-applist"
export BH_SANDBOX_GUEST_DIRS="$guest"

problem_of() { # QUBE: the problem ListApps gives (its last string)
  bh_admin ListApps "$1" | sed -n "s/.*, '\([^']*\)')$/\1/p"
}

# --- a refused first list: reported, the template down again ----------------------
bh_start_daemon --backend sandbox --no-autostart --read-app-lists ||
  { bh_not_ok "bulkheadd --read-app-lists starts"; bh_done; }
bh_ok "bulkheadd --read-app-lists runs, the qubes' bulkhead-applist the test's"
bh_wait_grep "$bh_log" '\[debian-12\] done with its first app list' 1200
bh_result "debian-12 was started for its first list and is down again ($(bh_state_of debian-12))" \
  $([ "$(bh_state_of debian-12)" = Halted ]; echo $?)
grep -E '\[debian-12\] (app list|starting it|done with)' "$bh_log" | bh_diag
grep -q '\[debian-12\] app list refused: ' "$bh_log"
bh_result "the log says its list was refused and why" $?
p=$(problem_of debian-12)
bh_result "ListApps debian-12 says why it has no list: '$p'" $([ -n "$p" ]; echo $?)

bh_expect "qvm-create --standalone busy" qvm-create --standalone -l orange busy
bh_expect "busy has no netvm" qvm-prefs busy netvm ""
bh_stop_daemon
from=$(bh_log_from "$bh_log")
since() { tail -n +"$from" "$bh_log"; }

# --- a restart: debian-12 is not started again; busy is, and the user takes it -----
bh_start_daemon --backend sandbox --no-autostart --read-app-lists ||
  { bh_not_ok "bulkheadd starts again"; bh_done; }
bh_wait_grep "$bh_log" '\[busy\] starting it to read its app list' 1200 "$from"
bh_result "the restarted daemon starts busy (no list yet) for its first list" $?
bh_wait_state busy Running 1200
bh_result "busy runs" $?
bh_run qvm-run -p busy 'echo mine'
bh_same "the user runs a command in busy meanwhile" "mine" "$bh_out"
bh_wait_grep "$bh_log" '\[busy\] app list \(refused\|not read\): .*status 3' 600 "$from"
bh_result "busy's failed read is reported in the log" $?
p=$(problem_of busy)
bh_result "and in ListApps busy: '$p'" $(printf '%s' "$p" | grep -q 'status 3'; echo $?)
bh_wait_grep "$bh_log" '\[busy\] stays up' 100
bh_result "busy stays up: the user asked for it while its list was read" $?
sleep 2
bh_result "busy is still Running 2 s later ($(bh_state_of busy)), never shut down by the reader" \
  $([ "$(bh_state_of busy)" = Running ] && ! since | grep -q '\[busy\] shutting down: it was started only'; echo $?)
bh_result "the restarted daemon did not start debian-12 again (its refusal is kept)" \
  $(! since | grep -q '\[debian-12\] starting it to read its app list' &&
    [ "$(bh_state_of debian-12)" = Halted ]; echo $?)
p=$(problem_of debian-12)
bh_result "ListApps debian-12 still says why after the restart: '$p'" $([ -n "$p" ]; echo $?)
since | grep -E '\[(busy|debian-12)\] (app list|starting it|done with|stays up|shutting down)' | bh_diag
bh_expect "busy shuts down" qvm-shutdown --wait busy
bh_done
