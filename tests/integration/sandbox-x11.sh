#!/usr/bin/env bash
# sandbox-x11.sh — X11 apps in a real qube through the qube's own Xwayland
# (issue 22), on a private Xvfb with openbox as dom0's window manager:
#   before any X client     -> the X socket, no Xwayland yet (started on demand)
#   qvm-run work xterm      -> "[work] <xterm's title>" framed; typed commands run
#   DISPLAY in the qube     -> :0, a socket in the qube's /tmp only; dom0's X
#                              server (this Xvfb) is not reachable from the qube
#   a Tk menu               -> a popup window of work next to its parent
#   a Tk dialog             -> transient for its parent
#   a screen-sized override-redirect window (a fake desktop)
#                           -> a framed [work] window, never a popup
#   a hostile X client      -> 1 000 windows, absurd hints, control characters
#                              in its title: bounded, the agent and guid live
# Checked by titles (xdotool, xprop), geometry and screenshots saved in
# $BH_SHOTS (default: the build's shots/). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"
# A failure keeps every log (the daemon's has the agent's and Xwayland's
# lines; tk*.log the Tk program's output and end): the Tk checks failed
# once under load with nothing left to tell why.
bh_keep_logs=1

bh_skip_without Xvfb xdotool xprop import openbox Xwayland xterm python3
shots=${BH_SHOTS:-$PWD/shots}
mkdir -p "$shots"

# dom0's Xvfb never on :0, the qube's own display number: check 7 names
# dom0's number inside work, where :0 is work's own Xwayland (a
# vacuous pass). A number taken by another test's server: the next one.
for _ in 1 2 3 4 5 6 7 8; do bh_start_xvfb ":$((100 + RANDOM % 800))" && break; done
[ -n "${DISPLAY:-}" ] || bh_start_xvfb
openbox >"$bh_tmp/openbox.log" 2>&1 &
bh_bg_pids+=($!)
sleep 0.5

bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?

# Xwayland starts at the first X client, not with the qube (its cost is
# paid only by qubes that run X apps): before it, work has the agent's X
# socket and no Xwayland.
early=$(qvm-run -p work 'ls /tmp/.X11-unix/; pgrep -x Xwayland || echo no-xwayland' 2>&1 | tr '\n' ' ')
bh_result "before any X client, work has its X socket and no Xwayland ($early)" \
  $(echo "$early" | grep -q 'X0' && echo "$early" | grep -q 'no-xwayland'; echo $?)

qvm-run work "xterm -T 'hello x11'" >"$bh_tmp/xterm.log" 2>&1 &
bh_bg_pids+=($!)
win=$(bh_find_window '^\[work\] hello x11')
bh_result "qvm-run work xterm shows a window titled '[work] hello x11' (got: $(xdotool getwindowname "$win" 2>/dev/null))" \
  $([ -n "$win" ]; echo $?)
import -window root "$shots/x11-xterm.png" 2>/dev/null

# Typed through guid into xterm inside the qube: the command runs there.
sleep 1
xdotool windowactivate --sync "$win" 2>/dev/null
xdotool mousemove --window "$win" 100 100 2>/dev/null
sleep 0.5
xdotool type --delay 40 'echo typed-in-x >/tmp/x11-typed' 2>/dev/null
xdotool key Return 2>/dev/null
got=""
for _ in $(seq 50); do
  got=$(qvm-run -p work cat /tmp/x11-typed 2>/dev/null)
  [ "$got" = "typed-in-x" ] && break
  sleep 0.2
done
bh_result "a command typed in xterm ran in work (file says '$got')" $([ "$got" = "typed-in-x" ]; echo $?)
size0=$(xdotool getwindowgeometry "$win" 2>/dev/null | sed -n 's/.*Geometry: //p')
import -window root "$shots/x11-xterm-typed.png" 2>/dev/null

# A plain xterm (no -fa) draws with X core fonts: xfonts-base's 'fixed'
# is served by work's Xwayland.
fixed=$(qvm-run -p work 'xlsfonts -fn fixed' 2>&1 | head -n1)
bh_result "work's Xwayland serves the core font 'fixed' (xlsfonts: $fixed), so xterm runs without -fa" \
  $([ -n "$fixed" ] && ! echo "$fixed" | grep -qi 'pattern "fixed" unmatched'; echo $?)

env=$(qvm-run -p work 'echo "$DISPLAY"; ls -la /tmp/.X11-unix/' 2>&1)
bh_result "in work DISPLAY is :0 and its socket is in the qube's /tmp ($(echo "$env" | tr '\n' ' '))" \
  $(echo "$env" | head -n1 | grep -qx ':0' && echo "$env" | grep -q ' X0$'; echo $?)
# dom0's X server: a marker set on its root window is never seen from work,
# whatever display work names (its own :0, or dom0's number: no such socket
# in the qube's /tmp, and the abstract one is in another network namespace).
# Control: the same xprop from dom0 reads the marker.
dnum=${DISPLAY#:}
xprop -root -f BH_DOM0_MARK 8s -set BH_DOM0_MARK dom0-x-server
outside=$(xprop -root BH_DOM0_MARK 2>&1)
inside=$(qvm-run -p work "xprop -root BH_DOM0_MARK; DISPLAY=:$dnum xprop -root BH_DOM0_MARK" 2>&1)
bh_result "dom0's X server :$dnum is not reachable from work (work: $(echo "$inside" | tr '\n' ' '); dom0 control: $outside)" \
  $([ "$dnum" != 0 ] && echo "$outside" | grep -q dom0-x-server && ! echo "$inside" | grep -q dom0-x-server; echo $?)

# Tk: its menu (override-redirect) arrives as a popup of work next to the
# main window; its dialog is transient for the main window.
here=$(dirname "$0")
qvm-run -p work 'cat > /tmp/x11-tk-app.py' <"$here/x11-tk-app.py"
# tk_start MODE: the Tk program in work, its output and end in tk-MODE.log
# ($tk_pid: qvm-run -p, which lives as long as it does).
tk_start() {
  qvm-run -p work "python3 /tmp/x11-tk-app.py $1" >"$bh_tmp/tk-$1.log" 2>&1 &
  tk_pid=$!
  bh_bg_pids+=($tk_pid)
}
# tk_result MODE DESC STATUS: bh_result, and for a failure whether the Tk
# program still runs, or how it ended and what it wrote (not in a subshell:
# wait knows only this shell's children).
tk_result() {
  local st
  bh_result "$2" "$3"
  [ "$3" -eq 0 ] && return
  if kill -0 "$tk_pid" 2>/dev/null; then st="runs"; else wait "$tk_pid"; st="ended with status $?"; fi
  echo "# Tk program $1 $st, wrote: $(head -c 400 "$bh_tmp/tk-$1.log" | tr '\n' ' ')"
}
# tk_stop: the Tk program ended, and its windows gone from dom0, before the
# next one starts. qvm-run -p: without it qvm-run returns once pkill
# started, and a pkill late on a loaded machine killed the next program
# (the pattern, [x], never matches pkill's own shell).
tk_stop() {
  qvm-run -p work "pkill -f '[x]11-tk-app.py'" >/dev/null 2>&1
  for _ in $(seq 50); do xdotool search --name '^\[work\] tk-' >/dev/null 2>&1 || break; sleep 0.2; done
}
before=$(bh_or_windows | awk '{print $1}' | sort)
tk_start menu
tkwin=$(bh_find_window '^\[work\] tk-main')
tk_result menu "a Tk program's main window is framed: '$(xdotool getwindowname "$tkwin" 2>/dev/null)'" $([ -n "$tkwin" ]; echo $?)
xdotool windowactivate --sync "$tkwin" 2>/dev/null
popup=$(bh_new_or_window "$before" 50)
eval "$(xdotool getwindowgeometry --shell "$tkwin" 2>/dev/null)"
read -r pid px py pw ph <<<"$popup"
import -window root "$shots/x11-tk-menu.png" 2>/dev/null
# Next to its parent: its top-left corner inside the main window's content.
tk_result menu "its File menu is a popup next to it (menu ${pw:-?}x${ph:-?} at ${px:-?},${py:-?}; main ${WIDTH}x${HEIGHT} at $X,$Y)" \
  $([ -n "$popup" ] && [ "$px" -ge "$X" ] && [ "$px" -le $((X + WIDTH)) ] && [ "$py" -ge "$Y" ] && [ "$py" -le $((Y + HEIGHT)) ]; echo $?)
tk_stop

tk_start dialog
dlg=$(bh_find_window '^\[work\] tk-dialog')
main=$(xdotool search --name '^\[work\] tk-main' 2>/dev/null | head -n1)
tf=$(xprop -id "$dlg" WM_TRANSIENT_FOR 2>/dev/null | grep -o '0x[0-9a-f]*')
tk_result dialog "its dialog is framed and transient for the main window (WM_TRANSIENT_FOR $tf, main $(printf '0x%x' "${main:-0}"))" \
  $([ -n "$dlg" ] && [ -n "$tf" ] && [ $((tf)) -eq $((main)) ]; echo $?)
import -window root "$shots/x11-tk-dialog.png" 2>/dev/null
tk_stop

# An override-redirect window as large as the screen (a fake desktop) is
# not shown as a popup: guid's rule makes it a framed [work] window
# transient for the main one, and no popup of dom0 grows past the bound
# (half the screen's width, three quarters of its height).
tk_start cover
cmain=$(bh_find_window '^\[work\] tk-cover')
# The cover has no title of its own: guid's is the bare "[work]".
cover=$(bh_find_window '^\[work\] *$')
sleep 1
tf=$(xprop -id "$cover" WM_TRANSIENT_FOR 2>/dev/null | grep -o '0x[0-9a-f]*')
big=$(bh_or_windows | awk '$4 > 640 || $5 > 768' | tr '\n' ' ')
eval "$(xdotool getwindowgeometry --shell "$cover" 2>/dev/null)"
import -window root "$shots/x11-tk-cover.png" 2>/dev/null
tk_result cover "a screen-sized override-redirect X window is a framed window '$(xdotool getwindowname "$cover" 2>/dev/null)' (${WIDTH:-?}x${HEIGHT:-?}) transient for its main one ($tf, main $(printf '0x%x' "${cmain:-0}")), no popup past the bound (${big:-none})" \
  $([ -n "$cmain" ] && [ -n "$cover" ] && [ -n "$tf" ] && [ $((tf)) -eq $((cmain)) ] && [ -z "$big" ] &&
    ! xwininfo -id "$cover" 2>/dev/null | grep -q 'Override Redirect State: yes'; echo $?)
tk_stop

# The focus moved between xterm and the Tk windows above, and each move
# makes guid ask for the window's size again: xterm kept its size (with
# an X border, the window grew by twice the border at each of them).
size1=$(xdotool getwindowgeometry "$win" 2>/dev/null | sed -n 's/.*Geometry: //p')
xbw=$(qvm-run -p work "xwininfo -name 'hello x11'" 2>/dev/null | sed -n 's/.*Border width: //p')
bh_result "xterm kept its size through the focus changes ($size0 -> $size1), its X border width is ${xbw:-?}" \
  $([ -n "$size0" ] && [ "$size0" = "$size1" ] && [ "$xbw" = 0 ]; echo $?)

# A hostile X client: 1 000 windows at once, 4 KiB titles of control
# characters and escapes with a fake [dom0], absurd size hints. Bounded as a
# Wayland client is: at most 256 of its windows reach dom0, their titles are
# clean, the agent and guid live, and an ordinary X window still shows.
qvm-run -p work 'cat > /tmp/x11-hostile; chmod +x /tmp/x11-hostile' <"$BH_BUILD_ROOT/tests/integration/x11-hostile"
guid_before=$(bh_guid_pids work | head -n1) # ours: other tests run a work too
# 40 windows: each reaches dom0 with a clean, bounded title.
qvm-run -p work '/tmp/x11-hostile flood 40' >"$bh_tmp/hostile40.log" 2>&1 &
h40=$!
bh_bg_pids+=($h40)
for _ in $(seq 150); do [ "$(xdotool search --name 'bank' 2>/dev/null | wc -l)" -ge 40 ] && break; sleep 0.2; done
shown=$(xdotool search --name 'bank' 2>/dev/null | wc -l)
one=$(xdotool search --name 'bank' 2>/dev/null | head -n1)
title=$(xdotool getwindowname "$one" 2>/dev/null)
ctrl=$(printf '%s' "$title" | LC_ALL=C tr -d '[:print:]' | wc -c)
bh_result "40 windows with 4 KiB control-character titles and min>max hints: $shown shown in dom0" \
  $([ "$shown" -eq 40 ]; echo $?)
bh_result "their titles carry no control characters and are bounded (${#title} chars, $ctrl control bytes, starts '${title:0:24}')" \
  $([ -n "$title" ] && [ "$ctrl" -eq 0 ] && [ "${#title}" -le 300 ] && [ "${title:0:7}" = "[work] " ]; echo $?)
import -window root "$shots/x11-hostile-titles.png" 2>/dev/null
qvm-run -p work 'pkill -x x11-hostile' >/dev/null 2>&1
for _ in $(seq 100); do xdotool search --name 'bank' >/dev/null 2>&1 || break; sleep 0.2; done

# 300 windows (10 every 50 ms): at most 256 reach dom0 (the agent's BH_MAX_WINDOWS,
# counted over all of work's windows), the rest are not forwarded.
# Counted as all of work's windows in dom0 less those before: guid sets a
# qube's titles at most every 50 ms, so the flood's own titles trickle in.
flood() { # N: the peak number of work's windows seen in dom0, less those before
  local max=0 n base
  base=$(xdotool search --name '^\[work\]' 2>/dev/null | wc -l)
  qvm-run -p work "/tmp/x11-hostile flood $1 ${2:-}" >"$bh_tmp/hostile$1.log" 2>&1 &
  bh_bg_pids+=($!)
  local still=0
  # Until the count stops growing for 3 s after the client mapped them all
  # (at most 90 s: slow on a loaded machine).
  for _ in $(seq 180); do
    n=$(($(xdotool search --name '^\[work\]' 2>/dev/null | wc -l) - base))
    if [ "$n" -gt "$max" ]; then max=$n; still=0; else still=$((still + 1)); fi
    grep -q "^mapped $1" "$bh_tmp/hostile$1.log" && [ "$still" -ge 6 ] && break
    sleep 0.5
  done
  echo "$max $base"
}
read -r max base <<<"$(flood 300 paced)"
bh_result "300 X windows, 10 every 50 ms: $max of them shown in dom0 beside work's $base others (at most 256 per qube)" \
  $([ "$max" -ge 200 ] && [ $((max + base)) -le 256 ]; echo $?)
import -window root "$shots/x11-hostile-flood.png" 2>/dev/null
qvm-run -p work 'pkill -x x11-hostile' >/dev/null 2>&1
for _ in $(seq 100); do [ "$(xdotool search --name '^\[work\]' 2>/dev/null | wc -l)" -le "$base" ] && break; sleep 0.2; done
# 1 000 at once: Xwayland survives it (it once gave up, "can't send file
# descriptor", when its Wayland socket to the agent filled: the agent now
# drains that socket every turn, xwayland-relay.c), at most 256 reach dom0,
# and the agent, guid and the next X client live.
ended=$(grep -c 'Xwayland on :0 ended' "$bh_log")
read -r max base <<<"$(flood 1000)"
ended_after=$(grep -c 'Xwayland on :0 ended' "$bh_log")
bh_result "1000 X windows at once: $max shown in dom0 beside $base others (at most 256), Xwayland lived through it (ended $ended -> $ended_after times)" \
  $([ "$max" -ge 200 ] && [ $((max + base)) -le 256 ] && [ "$ended_after" -eq "$ended" ]; echo $?)
qvm-run -p work 'pkill -x x11-hostile' >/dev/null 2>&1
alive=$(qvm-run -p work 'ps -eo comm' 2>/dev/null | grep -c 'bulkhead-gui-ag')
guid_after=$(bh_guid_pids work | head -n1)
qvm-run work "xterm -fa Monospace -T calm-after-flood" >/dev/null 2>&1 &
bh_bg_pids+=($!)
calm=$(bh_find_window '^\[work\] calm-after-flood')
bh_result "the agent ($alive) and guid ($guid_before -> $guid_after) live, and a new X window still shows" \
  $([ "$alive" -eq 1 ] && [ -n "$guid_before" ] && [ "$guid_before" = "$guid_after" ] && [ -n "$calm" ]; echo $?)
import -window root "$shots/x11-after-flood.png" 2>/dev/null

bh_done
