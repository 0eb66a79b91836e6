#!/usr/bin/env bash
# daemon-reaper.sh — a test that ends without stopping its qubes leaves none
# running (daemon-lib.sh with bh-test-reaper).
#
# An inner test (daemon-lib.sh, a real bulkheadd on the sandbox backend)
# starts the qube work and SIGKILLs its daemon — the qube runs on, by design
# (docs/sandbox.md, re-adoption). Then the inner test
#   - returns normally: its bh_cleanup ended the qube before it returned;
#   - is itself SIGKILLed (a crash, the end of a timeout): the reaper it left
#     watching ends the qube once it is gone;
#   - control: the same with no reaper — the qube is still running after the
#     inner test and its bus are gone, so the cases above prove the reaper.
# Prints TAP; reuses daemon-lib.sh.

. "$(dirname "$0")/daemon-lib.sh"
bh_require_sandbox

# Running, not a zombie (the killed init's parent died first).
alive() { [ -n "$1" ] && [ -e "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^[ZX]'; }
gone_within() { # PID TENTHS
  local i
  for i in $(seq "$2"); do alive "$1" || return 0; sleep 0.1; done
  return 1
}

inner="$bh_tmp/inner.sh"
cat >"$inner" <<'EOF'
. "$BH_SOURCE_ROOT/tests/integration/daemon-lib.sh"
bh_start_daemon --backend sandbox || exit 1
qvm-prefs work netvm '' && qvm-start work || exit 1
bh_kill_daemon
{
  echo "shell $$"
  echo "tag $(sed -n 's/^tag=//p' "$bh_state/sandbox-running/work")"
  echo "init $(sed -n 's/^init_pid=//p' "$bh_state/sandbox-running/work")"
} >"$BH_INNER_OUT"
[ "$1" = return ] && bh_done
# Killed as it is: no clean-up of any kind.
exec sleep 100000
EOF

# run_inner NAME MODE [env…]: the inner test in the background under its own
# bus and in its own temporary directory below ours; waits for its report.
run_inner() {
  local name=$1 mode=$2
  shift 2
  mkdir -p "$bh_tmp/$name"
  env -u BH_TEST_PRIVATE_BUS TMPDIR="$bh_tmp/$name" BH_INNER_OUT="$bh_tmp/$name.out" "$@" \
    bash "$inner" "$mode" >"$bh_tmp/$name.tap" 2>&1 &
  inner_pid=$!
  if [ "$mode" = return ]; then
    wait "$inner_pid"
  else
    bh_wait_grep "$bh_tmp/$name.out" '^init [0-9]' 1200
  fi
  inner_shell=$(sed -n 's/^shell //p' "$bh_tmp/$name.out" 2>/dev/null)
  inner_init=$(sed -n 's/^init //p' "$bh_tmp/$name.out" 2>/dev/null)
}

# Control: no reaper. The qube outlives its daemon, the test and its bus.
run_inner control kill BH_TEST_REAPER=/nonexistent
alive "$inner_init"
bh_result "control: work runs (init $inner_init) after its daemon's SIGKILL" $?
kill -KILL "$inner_shell"
wait "$inner_pid" 2>/dev/null
alive "$inner_shell"
bh_result "control: the inner test (shell $inner_shell) and its dbus-run-session are gone" $(($? == 0))
alive "$inner_init"
bh_result "control: without the reaper work still runs (init $inner_init): an orphan" $?
control_init=$inner_init
bh_run "$bh_reaper" "$bh_tmp/control"
gone_within "$control_init" 1
bh_result "bh-test-reaper DIR ended it at once (init $control_init gone when it returned)" $?
printf '%s\n' "$bh_out" | grep -q "killed what ran in .*/bulkhead-[0-9]*"
bh_result "... and said which control group it emptied" $?

# A test that returns: its clean-up ends the qube before it returns.
run_inner returned return
grep -q "^init [0-9]" "$bh_tmp/returned.out"
bh_result "an inner test started work (init $inner_init), killed its daemon and returned" $?
alive "$inner_init"
bh_result "work (init $inner_init) was ended by the time the test returned" $(($? == 0))
grep -q "# bh-test-reaper: killed what ran in" "$bh_tmp/returned.tap"
bh_result "its TAP says what its clean-up killed" $?

# A test SIGKILLed: the reaper watching it ends the qube.
run_inner killed kill
alive "$inner_init"
bh_result "work runs (init $inner_init) in a test about to be SIGKILLed" $?
kill -KILL "$inner_shell"
gone_within "$inner_init" 300
bh_result "work (init $inner_init) is ended once the test is gone" $?

# Nothing of the three is left: no staging directory (the watcher removes
# them last, once their groups are empty and gone).
for _ in $(seq 300); do
  left=$(grep -l "$bh_tmp/" /run/bulkhead-sandbox/*/.state 2>/dev/null)
  [ -z "$left" ] && break
  sleep 0.1
done
bh_same "no staging directory names a state below this test" "" "$left"
# ... and none of the three daemons' staging directories is left at all
# (its guest programs' copies, .bin, included).
for name in control returned killed; do
  tag=$(sed -n 's/^tag //p' "$bh_tmp/$name.out" 2>/dev/null)
  [ -n "$tag" ] && [ ! -e "/run/bulkhead-sandbox/$tag" ]
  bh_result "the $name test's staging directory (/run/bulkhead-sandbox/$tag) is gone" $?
done
bh_done
