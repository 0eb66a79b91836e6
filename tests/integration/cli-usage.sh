#!/usr/bin/env bash
# cli-usage.sh — the command line without a daemon: --help on every name
# (status 0), usage errors (status 2, "<command>: error:" on stderr), and a
# clear status-1 error when bulkheadd is not running.
. "$(dirname "$0")/daemon-lib.sh"

names="bulkhead qvm-ls qvm-create qvm-prefs qubes-prefs qvm-start qvm-shutdown qvm-kill
  qvm-pause qvm-unpause qvm-remove qvm-clone qvm-run qvm-firewall qvm-notes qvm-service"
for name in $names; do
  bh_run "$name" --help
  if [ "$bh_rc" -eq 0 ] && printf '%s\n' "$bh_out" | grep -q "^Usage:" && [ -z "$bh_err" ]; then
    bh_ok "$name --help prints usage on stdout, status 0"
  else
    bh_not_ok "$name --help prints usage on stdout, status 0"
    { echo "status $bh_rc"; echo "$bh_out"; echo "$bh_err"; } | bh_diag
  fi
done

# The subcommand form behaves as the qvm- name.
bh_run bulkhead prefs --help
bh_same "bulkhead prefs --help names itself" "Usage:" "$(printf '%s\n' "$bh_out" | head -n 1)"
printf '%s\n' "$bh_out" | grep -q "bulkhead prefs \[OPTION…\] QUBE" ; bh_result "bulkhead prefs usage line" $?

# bulkhead policy has no Qubes name; its help and usage errors as the others'.
bh_run bulkhead policy --help
bh_same "bulkhead policy --help names itself" "Usage:" "$(printf '%s\n' "$bh_out" | head -n 1)"
printf '%s\n' "$bh_out" | grep -q "bulkhead policy \[OPTION…\] check | eval SERVICE\[+ARG\] SOURCE TARGET"
bh_result "bulkhead policy usage line" $?
bh_run bulkhead --help
printf '%s\n' "$bh_out" | grep -Eq "^  policy +- +check the policy files"
bh_result "bulkhead --help lists policy" $?
bh_expect_fail "bulkhead policy without a command" 2 "^bulkhead policy: error: say check or eval" bulkhead policy
bh_expect_fail "bulkhead policy eval without TARGET" 2 "^bulkhead policy: error: eval wants" bulkhead policy eval s work

bh_expect_fail "unknown subcommand" 2 "^bulkhead: error: unknown command 'frobnicate'" bulkhead frobnicate
bh_expect_fail "no subcommand" 2 "Usage: bulkhead COMMAND" bulkhead
bh_expect_fail "unknown option" 2 "^qvm-ls: error: Unknown option --bogus" qvm-ls --bogus
bh_expect_fail "qvm-create without --label" 2 "^qvm-create: error: --label is required" qvm-create q1
bh_expect_fail "qvm-create without NAME" 2 "^qvm-create: error: the qube's NAME is missing" qvm-create -l red
bh_expect_fail "qvm-create two names" 2 "^qvm-create: error: only one NAME" qvm-create -l red a b
bh_expect_fail "qvm-create --standalone --disp" 2 "exclude each other" qvm-create -l red --standalone --disp q1
bh_expect_fail "qvm-create --prop without =" 2 "^qvm-create: error: --prop wants NAME=VALUE" qvm-create -l red --prop memory q1
bh_expect_fail "qvm-prefs without QUBE" 2 "^qvm-prefs: error: the QUBE is missing" qvm-prefs
bh_expect_fail "qvm-prefs too many" 2 "^qvm-prefs: error: too many arguments" qvm-prefs a b c d
bh_expect_fail "qvm-prefs -D with VALUE" 2 "^qvm-prefs: error: -D takes exactly one PROPERTY" qvm-prefs -D a netvm x
bh_expect_fail "qubes-prefs too many" 2 "^qubes-prefs: error: too many arguments" qubes-prefs a b c
bh_expect_fail "qvm-notes without QUBE" 2 "^qvm-notes: error: the QUBE is missing" qvm-notes
bh_expect_fail "qvm-notes --set and --edit" 2 "^qvm-notes: error: --set and --edit cannot be used together" qvm-notes --edit --set x work
bh_expect_fail "qvm-service without QUBE" 2 "^qvm-service: error: the QUBE is missing" qvm-service
bh_expect_fail "qvm-service -e and -d" 2 "exclude each other" qvm-service -e -d work crond
bh_expect_fail "qvm-service -e without SERVICE" 2 "take QUBE and one SERVICE" qvm-service -e work
bh_expect_fail "qvm-service bad VALUE" 2 "^qvm-service: error: 'maybe' is not on, off or unset" qvm-service work crond maybe
bh_expect_fail "qvm-start without QUBE" 2 "^qvm-start: error: name at least one QUBE" qvm-start
bh_expect_fail "qvm-kill without QUBE" 2 "^qvm-kill: error: name at least one QUBE" qvm-kill
bh_expect_fail "qvm-pause without QUBE" 2 "^qvm-pause: error: name at least one QUBE" qvm-pause
bh_expect_fail "qvm-unpause without QUBE" 2 "^qvm-unpause: error: name at least one QUBE" qvm-unpause
bh_expect_fail "qvm-remove without QUBE" 2 "^qvm-remove: error: name at least one QUBE" qvm-remove -f
bh_expect_fail "qvm-shutdown without QUBE or --all" 2 "^qvm-shutdown: error: name at least one QUBE, or use --all" qvm-shutdown
bh_expect_fail "qvm-shutdown --all with a name" 2 "exclude each other" qvm-shutdown --all work
bh_expect_fail "qvm-shutdown negative timeout" 2 "must not be negative" qvm-shutdown --timeout=-1 work
bh_expect_fail "qvm-clone one name" 2 "^qvm-clone: error: expected SOURCE and NAME" qvm-clone work
bh_expect_fail "qvm-run without COMMAND" 2 "^qvm-run: error: the COMMAND is missing" qvm-run work
bh_expect_fail "qvm-run without anything" 2 "^qvm-run: error: the QUBE and COMMAND are missing" qvm-run
bh_expect_fail "qvm-run --dispvm without COMMAND" 2 "^qvm-run: error: the COMMAND is missing" qvm-run --dispvm
bh_expect_fail "qvm-run with both escape filter options" 2 \
  "^qvm-run: error: --filter-escape-chars and --no-filter-escape-chars exclude each other" \
  qvm-run --filter-escape-chars --no-filter-escape-chars work true
bh_expect_fail "bulkhead run: subcommand prefix" 2 "^bulkhead run: error: the COMMAND is missing" bulkhead run work

# No daemon on this private bus: a clear status-1 error, nothing else.
bh_expect_fail "qvm-ls without a daemon" 1 "^qvm-ls: error: bulkheadd is not running" qvm-ls
bh_expect_fail "qvm-prefs without a daemon" 1 "^qvm-prefs: error: bulkheadd is not running" qvm-prefs work
bh_expect_fail "qvm-run without a daemon" 1 "^qvm-run: error: bulkheadd is not running" qvm-run work true
bh_expect_fail "bulkhead policy eval without a daemon" 1 "^bulkhead policy: error: bulkheadd is not running" \
  bulkhead policy eval s work personal

bh_done
