#!/usr/bin/env bash
# daemon-leftovers.sh — what a dead qube left, against a real bulkheadd on
# the sandbox backend (docs/sandbox.md, "A new qube never takes over what a
# dead one left"; docs/cli.md, "bulkhead leftovers"):
#   - a leftover that cannot be set aside (every name it could take within
#     the next seconds is taken): qvm-create and qvm-clone of that name fail
#     with the reason, and the leftover is still there, whole (before: the
#     daemon's undo of the failed create deleted it);
#   - once it can be, the create sets it aside; `bulkhead leftovers` lists
#     it, a restarted bulkheadd names it in its log, and only the user's
#     `bulkhead leftovers --remove NAME` deletes it (a qube's own directory
#     or a path is refused).
# Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

marker="bh-dead-$RANDOM$RANDOM"
# plant NAME: what a dead qube NAME left, a home with a file holding $marker.
plant() {
  mkdir -p "$bh_state/qubes/$1/private"
  printf '%s' "$marker" >"$bh_state/qubes/$1/private/leftover"
}
# block NAME: every set-aside name of NAME for the next 60 s is taken.
block() {
  local now s stamp d
  now=$(date -u +%s)
  for s in $(seq -1 60); do
    stamp=$(date -u -d "@$((now + s))" +%Y%m%dT%H%M%SZ)
    d="$bh_state/qubes/.orphan-$1-$stamp"
    mkdir "$d" "$d"-{1..99}
  done
}
unblock() { rm -rf "$bh_state/qubes/.orphan-$1-"*; }
kept() { [ "$(cat "$1/private/leftover" 2>/dev/null)" = "$marker" ]; }

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"
bh_run bulkhead leftovers
bh_same "none at first" "no leftovers of dead qubes" "$bh_out"

# --- a leftover that cannot be set aside is never deleted ----------------------
plant fresh
block fresh
bh_expect_fail "qvm-create fresh fails: its leftover cannot be moved aside" 1 \
  "qubes/fresh is left from an earlier qube and cannot be moved aside: move or remove it" \
  qvm-create -l red fresh
kept "$bh_state/qubes/fresh"
bh_result "the leftover of fresh is still there, whole, after the failed create" $?
bh_run qvm-ls fresh
bh_result "fresh is not listed" "$([ "$bh_rc" -ne 0 ]; echo $?)"

bh_expect "qvm-create src" qvm-create -l blue src
plant copy
block copy
bh_expect_fail "qvm-clone src copy fails: its leftover cannot be moved aside" 1 "cannot be moved aside" \
  qvm-clone src copy
kept "$bh_state/qubes/copy"
bh_result "the leftover of copy is still there, whole, after the failed clone" $?
unblock fresh
unblock copy

# --- set aside, listed, named at start, deleted only when asked -----------------
bh_expect "qvm-create fresh, now that it can be set aside" qvm-create -l red fresh
bh_expect "qvm-clone src copy, now that it can be set aside" qvm-clone src copy
bh_run bulkhead leftovers
fresh_left=$(printf '%s\n' "$bh_out" | awk '$2 == "fresh" {print $1}')
copy_left=$(printf '%s\n' "$bh_out" | awk '$2 == "copy" {print $1}')
bh_result "bulkhead leftovers lists both, with the qube and the time ($fresh_left, $copy_left)" \
  "$([ "$(printf '%s\n' "$bh_out" | head -n 1 | tr -s ' ')" = "LEFTOVER QUBE SET ASIDE" ] &&
    [[ $fresh_left == .orphan-fresh-* ]] && [[ $copy_left == .orphan-copy-* ]] &&
    printf '%s\n' "$bh_out" | grep -Eq " [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"; echo $?)"
kept "$bh_state/qubes/$fresh_left" && kept "$bh_state/qubes/$copy_left"
bh_result "each keeps the dead qube's file" $?

bh_stop_daemon
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts again"; bh_done; }
grep -q "2 leftovers of dead qubes kept in $bh_state/qubes: $copy_left (copy, .*), $fresh_left (fresh, .*); see them with 'bulkhead leftovers'" "$bh_log"
bh_result "a restarted bulkheadd names them in its log" $?

bh_expect_fail "--remove takes no qube's own directory" 1 "fresh is not a leftover's name" \
  bulkhead leftovers --remove fresh
bh_expect_fail "--remove takes no path" 1 "is not a leftover's name" \
  bulkhead leftovers --remove "$fresh_left/private"
bh_expect_fail "--remove without a name is a usage error" 2 "--remove needs the LEFTOVER" \
  bulkhead leftovers --remove
test -d "$bh_state/qubes/fresh" && kept "$bh_state/qubes/$fresh_left"
bh_result "nothing was deleted by the refusals" $?
bh_expect "bulkhead leftovers --remove $fresh_left" bulkhead leftovers --remove "$fresh_left"
bh_result "it is gone, the other one and fresh's own volumes stay" \
  "$([ ! -e "$bh_state/qubes/$fresh_left" ] && kept "$bh_state/qubes/$copy_left" &&
    test -d "$bh_state/qubes/fresh"; echo $?)"
bh_expect_fail "removing it again fails with the reason" 1 "cannot find the leftover $fresh_left" \
  bulkhead leftovers --remove "$fresh_left"
grep -q "leftover $fresh_left deleted, as the user asked" "$bh_log"
bh_result "the daemon's log says it was deleted on request" $?
bh_run bulkhead leftovers
bh_same "one is left" "$copy_left" "$(printf '%s\n' "$bh_out" | awk 'NR > 1 {print $1}')"
bh_done
