#!/usr/bin/env bash
# sandbox-desktop.sh — the whole product on the sandbox backend, as a user
# sees it: bulkheadd with real sandboxes, guid windows on a private Xvfb.
#   qvm-run work foot            -> a foot window "[work] foot" in a blue frame
#   qvm-run work gtk4-widget-factory, weston-simple-shm
#                                -> their windows too: a GTK 4 app and a plain
#                                   Wayland client work under the qube's seccomp
#                                   filter (docs/sandbox.md)
#   qvm-run --dispvm default-dvm foot
#                                -> "[dispN] foot" in a red frame; typing exit
#                                   in it ends foot, and the disposable is gone
#   work's init killed from outside -> Crashed, its window gone
# Checked by window titles (xdotool) and frame pixels (ImageMagick). Prints TAP.
# Reuses daemon-lib.sh for the private bus, temporary XDG dirs and cleanup.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_skip_without Xvfb xdotool import foot

bh_start_xvfb

bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?

# The colour (#rrggbb) of the middle of the window's left frame.
frame_colour() {
  local id=$1 x y w h
  eval "$(xdotool getwindowgeometry --shell "$id")"
  x=$((X + 1)); y=$((Y + HEIGHT / 2))
  import -window root "$bh_tmp/shot.png" 2>/dev/null
  convert "$bh_tmp/shot.png" -crop "1x1+$x+$y" -depth 8 txt:- 2>/dev/null |
    grep -o '#[0-9A-Fa-f]\{6\}' | head -n1 | tr 'A-F' 'a-f'
}

qvm-run work foot >"$bh_tmp/run.log" 2>&1
win=$(bh_find_window '^\[work\] ')
bh_result "qvm-run work foot shows a window titled [work] (got: $(xdotool getwindowname "$win" 2>/dev/null))" \
  $([ -n "$win" ]; echo $?)
colour=$(frame_colour "$win")
bh_result "its frame is work's blue #3465a4 (got $colour)" $([ "$colour" = "#3465a4" ]; echo $?)

for app in 'gtk4-widget-factory:GTK Widget Factory' 'weston-simple-shm:simple-shm'; do
  qvm-run work "${app%%:*}" >"$bh_tmp/app.log" 2>&1
  awin=$(bh_find_window "^\\[work\\] ${app#*:}")
  bh_result "qvm-run work ${app%%:*} shows [work] ${app#*:} (got: $(xdotool getwindowname "$awin" 2>/dev/null))" \
    $([ -n "$awin" ]; echo $?)
done

qvm-run --dispvm default-dvm foot >"$bh_tmp/disp.log" 2>&1 &
disp_run=$!
bh_bg_pids+=($disp_run)
dwin=$(bh_find_window '^\[disp[0-9]*\] ')
title=$(xdotool getwindowname "$dwin" 2>/dev/null)
disp=$(printf '%s' "$title" | sed -n 's/^\[\(disp[0-9]*\)\].*/\1/p')
colour=$(frame_colour "$dwin")
bh_result "qvm-run --dispvm default-dvm foot shows [$disp] in red #cc0000 (got '$title', $colour)" \
  $([ -n "$disp" ] && [ "$colour" = "#cc0000" ]; echo $?)

# The user ends the shell in it: foot closes its window and exits, and the
# disposable goes with all its data. (Typed through guid like any input.)
sleep 1
xdotool windowfocus --sync "$dwin" 2>/dev/null
xdotool type --delay 50 --window "$dwin" 'exit' 2>/dev/null
xdotool key --window "$dwin" Return 2>/dev/null
gone=1
for _ in $(seq 150); do
  if ! qvm-ls 2>/dev/null | grep -q "^$disp "; then gone=0; break; fi
  sleep 0.2
done
bh_result "typing exit in it closes it and removes $disp (and $bh_state/qubes/$disp)" \
  $([ $gone -eq 0 ] && [ -n "$disp" ] && [ ! -e "$bh_state/qubes/$disp" ]; echo $?)
wait "$disp_run" 2>/dev/null

# A qube that dies unexpectedly: its init is killed from outside (found by
# pid: the daemon's bubblewrap child for work, and that one's only child).
init=""
for p in $(pgrep -P "$bh_daemon_pid"); do
  if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- '--hostname work '; then
    init=$(cat "/proc/$p/task/$p/children" 2>/dev/null | tr -d ' ')
  fi
done
[ -n "$init" ] && kill -KILL "$init"
state=""
for _ in $(seq 100); do
  state=$(qvm-ls 2>/dev/null | awk '$1 == "work" {print $2}')
  [ "$state" = "Crashed" ] && ! xdotool search --name '^\[work\] ' >/dev/null 2>&1 && break
  sleep 0.1
done
bh_result "work killed from outside (init $init) is Crashed and its window is gone (state $state)" \
  $([ "$state" = "Crashed" ] && ! xdotool search --name '^\[work\] ' >/dev/null 2>&1; echo $?)
if [ "$bh_failed" -gt 0 ]; then
  echo "# qvm-run logs:"; bh_diag <"$bh_tmp/run.log"; bh_diag <"$bh_tmp/disp.log"
fi
bh_done
