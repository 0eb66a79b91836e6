#!/usr/bin/env bash
# sandbox-volume.sh — a qube's private volume size through the CLI, against a
# real bulkheadd on the sandbox backend (docs/sandbox.md, "Storage"):
#   qvm-prefs work private_size (2048 by default) set to 300 before its first
#   start -> a 300 MiB home; fallocate past it fails with ENOSPC inside;
#   qvm-prefs work private_size 600 while halted -> 600 MiB at the next
#   start, with what was stored; a value below 256 is refused.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "1..0 # SKIP private volumes need loop devices (root)"
  exit 0
fi
if ! command -v bwrap >/dev/null; then
  echo "1..0 # SKIP bubblewrap is not installed"
  exit 0
fi

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

bh_run qvm-prefs work private_size
bh_same "work's private_size is 2048 by default" 2048 "$bh_out"
bh_run qvm-prefs work private_size 100
bh_result "qvm-prefs work private_size 100 is refused (exit $bh_rc: $bh_err)" $([ "$bh_rc" -ne 0 ]; echo $?)
bh_expect "qvm-prefs work private_size 300" qvm-prefs work private_size 300

home_size() { qvm-run -p work 'df -m --output=size ~ | tail -n1' 2>/dev/null | tr -d ' '; }
size=$(home_size)
bh_result "work's home is 300 MiB (df: $size)" $([ -n "$size" ] && [ "$size" -le 300 ] && [ "$size" -gt 250 ]; echo $?)
bh_run qvm-run -p work 'echo kept > ~/kept && fallocate -l 400M ~/big'
bh_result "fallocate -l 400M in work fails with ENOSPC (exit $bh_rc: $bh_out $bh_err)" \
  $([ "$bh_rc" -ne 0 ] && printf '%s %s' "$bh_out" "$bh_err" | grep -q 'No space left on device'; echo $?)

bh_expect "qvm-shutdown --wait work" qvm-shutdown --wait work
bh_expect "qvm-prefs work private_size 600" qvm-prefs work private_size 600
size=$(home_size)
bh_result "work's home is 600 MiB after its restart (df: $size)" \
  $([ -n "$size" ] && [ "$size" -le 600 ] && [ "$size" -gt 500 ]; echo $?)
bh_run qvm-run -p work 'cat ~/kept && fallocate -l 400M ~/big && echo room'
bh_same "what work stored is there, and 400 MiB now fit" "$(printf 'kept\nroom')" "$bh_out"

bh_done
