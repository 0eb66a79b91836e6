#!/usr/bin/env bash
# shell-monitor.sh — the panel follows its monitor (docs/shell.md, "Panel"):
# a nested X server (Xephyr -resizeable, on a private Xvfb) whose one monitor
# changes size when its window on the host is resized, as a resolution change
# would; openbox and the real shell on it, bulkheadd (no backend: the panel
# needs the daemon, not qubes) on a private bus. Checked from outside:
#   the panel is 1280 px wide with its strut to x 1279 (the control: the
#   monitor as it starts); the monitor made 1024x768 (xrandr says so: the
#   control that it changed), the panel is 1024 px wide, its strut ends at
#   1023 and openbox's work area is 1024x736; made 1280x1024 again, so is
#   the panel.
# Two monitors are shell-monitors.sh's (Xorg's dummy driver). Screenshots in
# $BH_BUILD_ROOT/tests/display/shots/monitor-*.png. Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_skip_without Xvfb Xephyr xdotool xprop xrandr import openbox
SHELL_BIN="$BH_BUILD_ROOT/shell/bulkhead-shell"
shots="$BH_BUILD_ROOT/tests/display/shots"
mkdir -p "$shots"

bh_start_xvfb # the host: Xephyr's window lives here
host=$DISPLAY
Xephyr -displayfd 3 -screen 1280x1024 -resizeable -nolisten tcp -noreset 3>"$bh_tmp/nested" \
  >"$bh_tmp/xephyr.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 300); do [ -s "$bh_tmp/nested" ] && break; sleep 0.1; done
nested=":$(tr -d '\n' <"$bh_tmp/nested")"
xephyr_win=""
for _ in $(seq 100); do
  xephyr_win=$(DISPLAY=$host xdotool search --class Xephyr 2>/dev/null | head -n1)
  [ -n "$xephyr_win" ] && break
  sleep 0.1
done
export DISPLAY=$nested
bh_start_openbox
bh_start_daemon
bh_result "bulkheadd runs; Xephyr is $nested on $host (its window $xephyr_win)" \
  $([ -n "$xephyr_win" ]; echo $?)

"$SHELL_BIN" >"$bh_tmp/shell.log" 2>&1 &
shell_pid=$!
bh_bg_pids+=($shell_pid)
panel=$(bh_find_window '^Bulkhead panel$' 150)
bh_result "bulkhead-shell shows its panel" $([ -n "$panel" ]; echo $?)

screen_size() { xrandr 2>/dev/null | sed -n 's/.*current \([0-9]*\) x \([0-9]*\),.*/\1x\2/p'; }
panel_width() { xdotool getwindowgeometry "$panel" 2>/dev/null | sed -n 's/.*Geometry: \([0-9]*\)x.*/\1/p'; }
strut() { xprop -id "$panel" _NET_WM_STRUT_PARTIAL 2>/dev/null | sed 's/.*= //'; }
workarea() { xprop -root _NET_WORKAREA 2>/dev/null | sed 's/.*= //' | cut -d, -f1-4; }
wait_panel() { # WIDTH STRUT WORKAREA: until the panel, its strut and the work area say so (20 s)
  local i
  for i in $(seq 200); do
    [ "$(panel_width)" = "$1" ] && [ "$(strut)" = "$2" ] && [ "$(workarea)" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
resize() { # W H: the nested server's window on the host, as a user would
  DISPLAY=$host xdotool windowsize "$xephyr_win" "$1" "$2" 2>/dev/null
  local i
  for i in $(seq 100); do
    [ "$(screen_size)" = "$1x$2" ] && return 0
    sleep 0.1
  done
  return 1
}

wait_panel 1280 "0, 0, 32, 0, 0, 0, 0, 0, 0, 1279, 0, 0" "0, 32, 1280, 992"
rc=$? # (before the message's own commands change $?)
bh_result "control: on the 1280x1024 monitor the panel is $(panel_width) px wide, strut $(strut), work area $(workarea)" $rc
import -window root "$shots/monitor-1280.png" 2>/dev/null

resize 1024 768
rc=$?
bh_result "the nested server's monitor is now $(screen_size) (xrandr)" $rc
wait_panel 1024 "0, 0, 32, 0, 0, 0, 0, 0, 0, 1023, 0, 0" "0, 32, 1024, 736"
rc=$?
bh_result "the panel follows: $(panel_width) px wide, strut $(strut), work area $(workarea)" $rc
import -window root "$shots/monitor-1024.png" 2>/dev/null

resize 1280 1024
wait_panel 1280 "0, 0, 32, 0, 0, 0, 0, 0, 0, 1279, 0, 0" "0, 32, 1280, 992"
rc=$?
bh_result "and back at 1280x1024: $(panel_width) px, strut $(strut)" $rc
bh_result "the shell is still running" $(kill -0 "$shell_pid" 2>/dev/null; echo $?)
bh_done
