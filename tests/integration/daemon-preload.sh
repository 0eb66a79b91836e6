#!/usr/bin/env bash
# daemon-preload.sh — the preloaded disposable (global preload_dispvm, issue
# 21; docs/sandbox.md, "Preloaded disposable") on the sandbox backend, with
# real qubes:
#   off by default: no disposable runs ahead (the control for the rest);
#   on: one disposable of default-dvm is started ahead, and the next
#   `qvm-run --dispvm default-dvm` runs in it (the log names it handed out)
#   instead of creating one; it is removed when the command ends, as any
#   disposable, and a new one (another name) is preloaded;
#   fresh: a file written in the home of the first use is not in the next
#   one (the control: the first use read it back);
#   a change of the template's properties, or its start, throws the
#   preloaded one away (none runs while the template runs; one comes back
#   once it halts); turning the global off removes it.
# After a SIGKILL of bulkheadd (its record in the state directory):
#   the next bulkheadd takes the preloaded disposable back and hands it out
#   (the control: it outlived the daemon), and then only one new one runs;
#   one that died while no daemon ran is removed and replaced; after a
#   normal stop the one it stopped is not kept and a new one comes.
# Prints TAP; reuses daemon-lib.sh (private bus, temporary dirs, clean-up).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

state_of() { qvm-ls --raw-data "$1" 2>/dev/null | cut -d'|' -f2; }
running_disps() { qvm-ls --raw-data 2>/dev/null | awk -F'|' '$1 ~ /^disp/ && $2 != "Halted" {print $1}' | sort; }
# ready_after LINE: the name of the first disposable the log calls ready
# after that line (waits up to 60 s).
ready_after() {
  bh_wait_grep "$bh_log" "preloaded disposable of default-dvm is ready" 600 "$1" || return 1
  tail -n +"$1" "$bh_log" | sed -n 's/.*\[\(disp[0-9-]*\)\] preloaded disposable of default-dvm is ready.*/\1/p' |
    head -n1
}
lines() { echo $(($(wc -l <"$bh_log") + 1)); } # the next line of the log
# use_dispvm NAME CMD: runs CMD in a disposable of default-dvm (output in
# bh_out); handed=0 when the log says NAME, the preloaded one, was handed out.
use_dispvm() {
  local at
  at=$(lines)
  bh_run qvm-run -p --dispvm default-dvm "$2"
  grep -q "\[$1\] preloaded disposable handed out" <(tail -n +"$at" "$bh_log")
  handed=$?
}
gone() { # NAME: until qvm-ls no longer lists it (30 s)
  local i
  for i in $(seq 300); do qvm-ls --raw-data "$1" >/dev/null 2>&1 || return 0; sleep 0.1; done
  return 1
}

# replaced FROM OLD WHY WHO: the log (after line FROM) says OLD was thrown
# away for WHY, it is removed, and a new one is preloaded (its name in new).
replaced() {
  bh_wait_grep "$bh_log" "\[$2\] preloaded disposable thrown away: $3" 100 "$1"
  bh_result "$4 throws $2 away" $?
  gone "$2"
  bh_result "… and it is removed" $?
  new=$(ready_after "$1")
  bh_result "a new one is preloaded after it ($new)" $([ -n "$new" ] && [ "$new" != "$2" ]; echo $?)
}

bh_start_daemon --backend sandbox || { echo "1..0 # SKIP bulkheadd did not start"; exit 0; }
# One disposable first, so that default-dvm's template layers exist (as the
# benches do); then none is left.
qvm-run --dispvm default-dvm true >/dev/null 2>&1
# qvm-run returns before that disposable is removed: wait for it (30 s).
for _ in $(seq 300); do [ -z "$(running_disps)" ] && break; sleep 0.1; done

bh_same "preload_dispvm is off by default" "False" "$(qubes-prefs preload_dispvm)"
bh_same "off: no disposable runs ahead" "" "$(running_disps)"

from=$(lines)
qubes-prefs preload_dispvm True
pre1=$(ready_after "$from")
bh_result "on: a disposable of default-dvm is preloaded ($pre1)" $([ -n "$pre1" ]; echo $?)
bh_same "it runs before anyone asked for it" "Running" "$(state_of "$pre1")"

from=$(lines)
use_dispvm "$pre1" 'echo one-secret >~/leak && cat ~/leak'
bh_same "first use: the command ran and read back the file it wrote (control)" "one-secret" "$bh_out"
bh_result "first use ran in the preloaded disposable $pre1" $handed
gone "$pre1"
bh_result "it is removed when the command ended, as any disposable" $?

pre2=$(ready_after "$from")
bh_result "a new one is preloaded ($pre2), not the one used" $([ -n "$pre2" ] && [ "$pre2" != "$pre1" ]; echo $?)
from=$(lines)
use_dispvm "$pre2" 'cat ~/leak 2>/dev/null || echo absent'
bh_same "fresh: the next use does not see the first one's file" "absent" "$bh_out"
bh_result "the next use ran in the new preloaded disposable $pre2" $handed

pre3=$(ready_after "$from")
from=$(lines)
qvm-prefs default-dvm label blue
replaced "$from" "$pre3" "its template's label changed" "a change of the template's label"
pre4=$new

from=$(lines)
bh_expect "the template starts" qvm-start default-dvm
bh_wait_grep "$bh_log" "\[$pre4\] preloaded disposable thrown away" 100 "$from"
bh_result "its start throws $pre4 away" $?
gone "$pre4"
# The refill after pre4 went down decides after its wait: that decision is
# logged either way (a new one made, or none while the template runs), so
# nothing can come back after the check below without the log saying so.
bh_wait_grep "$bh_log" "preloading a disposable of default-dvm\|no disposable preloaded now: its template default-dvm runs" 200 "$from"
bh_result "the refill decided: none while default-dvm runs" \
  $(tail -n +"$from" "$bh_log" | grep -q "no disposable preloaded now: its template default-dvm runs" &&
    ! tail -n +"$from" "$bh_log" | grep -q "preloading a disposable of default-dvm"; echo $?)
bh_same "no disposable is preloaded while the template runs" "" "$(running_disps)"
from=$(lines)
bh_expect "the template shuts down" qvm-shutdown --wait default-dvm
pre5=$(ready_after "$from")
bh_result "once it halted, one is preloaded again ($pre5)" $([ -n "$pre5" ]; echo $?)

# A crash of bulkheadd while pre5 waits unused.
init_of() { sed -n 's/^init_pid=//p' "$bh_state/sandbox-running/$1" 2>/dev/null; }
alive() { [ -n "$1" ] && [ -e "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^[ZX]'; }
pre5_init=$(init_of "$pre5")
bh_kill_daemon
bh_result "control: $pre5 outlives bulkheadd's SIGKILL (init $pre5_init)" $(alive "$pre5_init"; echo $?)
from=$(lines)
bh_start_daemon --backend sandbox
bh_result "bulkheadd restarts" $?
bh_wait_grep "$bh_log" "\[$pre5\] preloaded disposable of default-dvm taken back after a restart" 100 "$from"
bh_result "the new bulkheadd takes $pre5 back as its preloaded disposable" $?
from=$(lines)
use_dispvm "$pre5" 'echo after-restart'
bh_same "a command runs in a disposable after the restart" "after-restart" "$bh_out"
bh_result "it ran in $pre5, the one preloaded before the crash" $handed
gone "$pre5"
bh_result "… which is removed when the command ended" $?
pre6=$(ready_after "$from")
bh_result "a new one is preloaded ($pre6)" $([ -n "$pre6" ] && [ "$pre6" != "$pre5" ]; echo $?)
bh_same "only $pre6 runs: none was made beside the one taken back" "$pre6" "$(running_disps)"

# The preloaded one dies while no bulkheadd runs.
pre6_init=$(init_of "$pre6")
bh_kill_daemon
kill -KILL "$pre6_init" 2>/dev/null
for _ in $(seq 300); do alive "$pre6_init" || break; sleep 0.1; done
bh_result "control: $pre6's sandbox is gone (init $pre6_init)" $(alive "$pre6_init"; [ $? -ne 0 ]; echo $?)
from=$(lines)
bh_start_daemon --backend sandbox
replaced "$from" "$pre6" "it did not survive" "the new bulkheadd, as it died meanwhile,"
pre7=$new

# A normal stop (SIGTERM) stops every qube, the preloaded one too: the next
# bulkheadd does not keep it as a halted disposable.
bh_stop_daemon
from=$(lines)
bh_start_daemon --backend sandbox
bh_result "bulkheadd starts again after a normal stop" $?
gone "$pre7"
bh_result "the preloaded $pre7, stopped with it, is not kept" $?
pre8=$(ready_after "$from")
bh_result "a new one is preloaded ($pre8)" $([ -n "$pre8" ] && [ "$pre8" != "$pre7" ]; echo $?)
pre7=$pre8

qubes-prefs preload_dispvm False
gone "$pre7"
bh_result "turned off: the preloaded disposable is removed" $?
bh_same "nothing runs ahead any more" "" "$(running_disps)"

bh_done
