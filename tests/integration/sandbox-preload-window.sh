#!/usr/bin/env bash
# sandbox-preload-window.sh — the window of a preloaded disposable
# (preload_dispvm) on a private Xvfb, with real sandbox qubes and guids:
#   its guid prepares the first window while the disposable waits (the log
#   says "warm-up"; bulkheadd passes --warm-up to that guid only), and shows
#   nothing while it does (no window of that qube on the X server);
#   qvm-run --dispvm default-dvm foot then shows "[dispN] foot" in it, drawn
#   (the middle of the window is foot's, not black);
#   an ordinary qube's guid does no warm-up (its first window comes while
#   its app starts anyway: the work would compete with that start).
# bench/RESULTS.md, "Start at scale V". Prints TAP; reuses daemon-lib.sh.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without Xvfb xdotool import foot

bh_start_xvfb
guid_args() { # QUBE: the command line of its guid (run by our bulkheadd)
  local p
  for p in $(bh_guid_pids "$1"); do tr '\0' ' ' <"/proc/$p/cmdline"; done
}
bh_start_daemon --backend sandbox || { echo "1..0 # SKIP bulkheadd did not start"; exit 0; }
# One disposable first, so that default-dvm's template layers exist.
qvm-run --dispvm default-dvm true >/dev/null 2>&1

from=$(bh_log_from "$bh_log")
qubes-prefs preload_dispvm True
bh_wait_grep "$bh_log" "preloaded disposable of default-dvm is ready" 600 "$from"
pre=$(tail -n +"$from" "$bh_log" |
  sed -n 's/.*\[\(disp[0-9]*\)\] preloaded disposable of default-dvm is ready.*/\1/p' | head -n1)
bh_result "a disposable is preloaded ($pre)" $([ -n "$pre" ]; echo $?)

bh_wait_grep "$bh_log" "guid\[$pre\]: warm-up: a window built" 300 "$from"
bh_result "its guid prepared the first window ahead (warm-up in the log)" $?
pre_args=$(guid_args "$pre")
bh_result "bulkheadd asked that guid for it (--warm-up in: $pre_args)" $([[ "$pre_args" == *--warm-up* ]]; echo $?)
bh_same "… and showed no window meanwhile" "" "$(xdotool search --name "^\\[$pre\\]" 2>/dev/null)"

qvm-run --dispvm default-dvm foot >"$bh_tmp/disp.log" 2>&1 &
bh_bg_pids+=($!)
win=$(bh_find_window "^\\[$pre\\] ")
title=$(xdotool getwindowname "$win" 2>/dev/null)
bh_same "qvm-run --dispvm default-dvm foot shows its window in $pre" "[$pre] foot" "$title"
# Drawn: the middle of the window is foot's background, neither black (no
# frame yet) nor the red of the frame.
drawn() {
  local X Y WIDTH HEIGHT WINDOW SCREEN px
  eval "$(xdotool getwindowgeometry --shell "$win" 2>/dev/null)"
  import -window root "$bh_tmp/shot.png" 2>/dev/null || return 1
  px=$(convert "$bh_tmp/shot.png" -crop "1x1+$((X + WIDTH / 2))+$((Y + HEIGHT / 2))" -depth 8 txt:- 2>/dev/null |
    grep -o '#[0-9A-Fa-f]\{6\}' | head -n1)
  [ -n "$px" ] && [ "$px" != "#000000" ] && [ "$px" != "#CC0000" ]
}
bh_until 100 drawn
bh_result "… and foot's first frame is in it" $?
qvm-kill "$pre" >/dev/null 2>&1

from=$(bh_log_from "$bh_log")
bh_expect "an ordinary qube starts" qvm-start work
bh_wait_grep "$bh_log" "guid\[work\]: connected to domain" 300 "$from"
bh_result "its guid connected" $?
args=$(guid_args work)
bh_result "an ordinary qube's guid is not asked to warm up (its arguments: $args)" \
  $([ -n "$args" ] && [[ "$args" != *--warm-up* ]]; echo $?)

bh_done
