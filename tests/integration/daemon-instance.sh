#!/usr/bin/env bash
# daemon-instance.sh — bulkheadd's process contract: one daemon per state
# directory (a second one names the first one's pid), one per bus name, option
# errors, the lock released by SIGTERM and by SIGKILL; and without a backend
# every power command fails with org.bulkhead.Error.NoBackend, a message
# naming the backend options, status 1, and no change of state.
. "$(dirname "$0")/daemon-lib.sh"

bh_expect_fail "unknown option: status 2" 2 "^bulkheadd: error: Unknown option --bogus" "$BULKHEADD" --bogus
bh_expect_fail "stray argument: status 2" 2 "^bulkheadd: error: unexpected argument 'extra'" "$BULKHEADD" extra
bh_expect_fail "unknown backend: status 1, names the choices" 1 \
  "^bulkheadd: error: unknown backend 'qemu'; backends: none, sandbox, xen" \
  "$BULKHEADD" --state-dir "$bh_tmp/other" --backend=qemu
bh_expect "--help" "$BULKHEADD" --help
printf '%s\n' "$bh_out" | grep -q -- "--state-dir=DIR"; bh_result "--help documents --state-dir" $?
printf '%s\n' "$bh_out" | grep -q -- "--backend=NAME"; bh_result "--help documents --backend" $?

bh_start_daemon || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd starts with no backend (the default)"
first_pid=$bh_daemon_pid

bh_expect_fail "a second bulkheadd on the same state dir is refused, naming the first's pid" 1 \
  "^bulkheadd: error: state directory .* is in use by another bulkheadd \(pid $first_pid\)" \
  "$BULKHEADD" --state-dir "$bh_state"
bh_expect_fail "a second bulkheadd on the same bus is refused" 1 \
  "^bulkheadd: error: org.bulkhead.Admin1 is owned by another process" \
  "$BULKHEADD" --state-dir "$bh_tmp/second-state"
kill -0 "$first_pid"; bh_result "the first bulkheadd is unaffected" $?

bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.freedesktop.DBus.Properties.Get org.bulkhead.Admin1 Backend
bh_same "Backend property says none" "(<'none'>,)" "$bh_out"
bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Admin1.ListLabels
printf '%s\n' "$bh_out" | grep -q "('red', '#cc0000')"; bh_result "ListLabels gives the colours" $?

before=$(qvm-ls --raw-data)
# The message names the backend options, built or not.
no_backend="no backend: bulkheadd runs with --backend=none, so qubes cannot start or run commands; .*(sandbox.*xen|xen.*sandbox)"
bh_expect_fail "qvm-start" 1 "^qvm-start: error: $no_backend" qvm-start work
bh_expect_fail "qvm-shutdown" 1 "^qvm-shutdown: error: $no_backend" qvm-shutdown --wait work
bh_expect_fail "qvm-kill" 1 "^qvm-kill: error: $no_backend" qvm-kill work
bh_expect_fail "qvm-pause" 1 "^qvm-pause: error: $no_backend" qvm-pause work
bh_expect_fail "qvm-unpause" 1 "^qvm-unpause: error: $no_backend" qvm-unpause work
bh_expect_fail "qvm-run" 1 "^qvm-run: error: $no_backend" qvm-run work true
bh_expect_fail "qvm-run -p" 1 "^qvm-run: error: $no_backend" qvm-run -p work 'echo hi'
bh_expect_fail "qvm-run --dispvm" 1 "^qvm-run: error: $no_backend" qvm-run --dispvm true
bh_expect_fail "qvm-run -u root --dispvm true (a lone word is the command)" 1 "^qvm-run: error: $no_backend" \
  qvm-run -u root --dispvm true
bh_expect_fail "qvm-run --dispvm default-dvm true" 1 "^qvm-run: error: $no_backend" qvm-run --dispvm default-dvm true
bh_expect_fail "qvm-run --dispvm=default-dvm" 1 "^qvm-run: error: $no_backend" qvm-run --dispvm=default-dvm -p true
bh_expect "qvm-shutdown --all with nothing running succeeds" qvm-shutdown --all --wait
for m in "Start work" "Kill work" "Pause work" "Unpause work" "CreateDisposable default-dvm"; do
  bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method "org.bulkhead.Admin1.${m% *}" "${m#* }"
  printf '%s\n' "$bh_err" | grep -q "GDBus.Error:org.bulkhead.Error.NoBackend: "
  bh_result "${m% *} → org.bulkhead.Error.NoBackend" $?
done
bh_same "no power command changed anything (no disposable left behind)" "$before" "$(qvm-ls --raw-data)"
kill -0 "$first_pid"; bh_result "bulkheadd still running" $?

bh_stop_daemon; bh_result "SIGTERM: clean exit" $?
bh_start_daemon; bh_result "restart right after SIGTERM: the lock was released" $?
bh_kill_daemon
bh_start_daemon; bh_result "restart right after SIGKILL: the kernel dropped the lock" $?
bh_same "state intact" "$before" "$(qvm-ls --raw-data)"

bh_done
