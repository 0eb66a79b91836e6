#!/usr/bin/env bash
# sandbox-x11-apps.sh — X11 programs in a real qube through its Xwayland
# (issue 22), on a private Xvfb with openbox as dom0's window manager:
#   dom0's layout us -> de (setxkbmap)
#                         -> guid sends the new KEYMAP, the agent hands it to
#                            Xwayland: xev in work sees 'y' where dom0 typed
#                            'y' (keycode 52 under de, 29 under us: the
#                            control that the keys sent did change), and 'ö'
#   a focus change and a key that Xwayland reads in one wake-up (it is
#   stopped meanwhile) -> the key reaches the window focused, not the one
#                            before: the agent holds keys until Xwayland has
#                            the new focus (without it, every time the key
#                            went to the old window)
#   a Java Swing program  -> its File menu (a window of its own, taller than
#                            the main window) is a popup next to its parent;
#                            its dialog is transient for it
#   a Tk window           -> clicks at their place (to the pixel), the wheel
#                            as buttons 4/5, its minimum size kept by dom0,
#                            WM_DELETE_WINDOW when closed in dom0; full screen
#                            it asks for is maximise (work may not go full),
#                            full screen filled to the frame in personal (may)
# Screenshots in $BH_SHOTS (default: the build's shots/). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

bh_require_sandbox
bh_skip_without Xvfb xdotool xset xprop xwininfo import convert openbox Xwayland xev setxkbmap stdbuf
shots=${BH_SHOTS:-$PWD/shots}
mkdir -p "$shots"

bh_start_xvfb
openbox >"$bh_tmp/openbox.log" 2>&1 &
bh_bg_pids+=($!)
bh_xtest_keys
setxkbmap -layout us
bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?

# ---- 1. keyboard layout changes reach X apps ----------------------------------
# xev prints "keycode K (keysym 0x..., NAME)" per key; line-buffered into a
# file in the qube, read back with qvm-run.
qvm-run work "stdbuf -oL xev -event keyboard -name kbd-probe >/tmp/xev.log 2>&1" >"$bh_tmp/xev.log" 2>&1 &
bh_bg_pids+=($!)
# Xwayland starts at this first X client: up to 60 s on a loaded machine.
xevwin=$(bh_find_window '^\[work\] kbd-probe' 300)
bh_result "xev in work is framed ($(xdotool getwindowname "$xevwin" 2>/dev/null))" $([ -n "$xevwin" ]; echo $?)
pressed() { # the "keycode K (keysym 0x..., NAME)" lines of KeyPress events so far
  qvm-run -p work 'cat /tmp/xev.log' 2>/dev/null | grep -A2 '^KeyPress' |
    grep -o 'keycode [0-9]* (keysym 0x[0-9a-f]*, [^)]*)'
}
# KEYSYM...: types them into xev (XTEST, to the window dom0 focused), until
# xev printed as many presses more. No key goes first to wake anything: the
# first key after the focus moved to an X window must arrive (the agent
# holds it until Xwayland has the focus; once in five runs at load 17 it was
# lost before).
type_keys() {
  local n i
  n=$(pressed | wc -l)
  xdotool windowactivate --sync "$xevwin" 2>/dev/null
  xdotool windowfocus --sync "$xevwin" 2>/dev/null # XTEST types at dom0's X focus
  xdotool mousemove --window "$xevwin" 20 20 2>/dev/null
  xdotool key --delay 60 "$@" 2>/dev/null
  for i in $(seq 150); do
    [ "$(pressed | wc -l)" -ge $((n + $#)) ] && break
    sleep 0.2
  done
  pressed | tail -n +$((n + 1)) | sed 's/.*keycode \([0-9]*\) (keysym 0x[0-9a-f]*, \([^)]*\))/\1:\2/' | tr '\n' ' '
}
us=$(type_keys y z)
bh_result "under us, dom0's y z reach xev as y z on keycodes 29 and 52 (got: $us)" \
  $([ "$us" = "29:y 52:z " ]; echo $?)
from=$(($(wc -l <"$bh_log") + 1))
setxkbmap -layout de
bh_wait_grep "$bh_log" 'guid\[work\]: keymap changed to evdev/pc105/de/' 300 "$from"
st=$? # before the result line: its $(...) would reset $?
bh_result "setxkbmap de in dom0: guid tells work's agent ($(tail -n +"$from" "$bh_log" | grep -o 'keymap changed to [^ ]*' | head -n1))" $st
de=$(type_keys y z odiaeresis)
bh_result "under de, dom0's y z ö reach xev as y z ö, now on keycodes 52, 29, 47 (got: $de)" \
  $([ "$de" = "52:y 29:z 47:odiaeresis " ]; echo $?)
import -window root "$shots/x11-keymap-de.png" 2>/dev/null
from=$(($(wc -l <"$bh_log") + 1))
setxkbmap -layout us
bh_wait_grep "$bh_log" 'guid\[work\]: keymap changed to evdev/pc105/us/' 300 "$from"
back=$(type_keys y z)
bh_result "and back to us: y z on keycodes 29 and 52 again (got: $back)" $([ "$back" = "29:y 52:z " ]; echo $?)

# ---- 2. a focus change and a key read by Xwayland in one wake-up -------------
# The XWM's SetInputFocus goes to Xwayland over X, dom0's keys over Wayland.
# Xwayland stopped while dom0 focuses another X window and types: once it
# runs again it reads both at once, and takes input before requests: the
# key went to the window focused before, every time, until the agent held
# keys for the new focus until Xwayland confirmed it.
qvm-run work "stdbuf -oL xev -event keyboard -name kbd-other >/tmp/xev2.log 2>&1" >"$bh_tmp/xev2.log" 2>&1 &
bh_bg_pids+=($!)
other=$(bh_find_window '^\[work\] kbd-other' 300)
# work's Xwayland as a pid of this host: the one in work's pid namespace.
ns=$(qvm-run -p work 'readlink /proc/self/ns/pid' 2>/dev/null)
xw=""
for p in $(pgrep -x Xwayland); do
  [ -n "$ns" ] && [ "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" = "$ns" ] && xw=$p
done
bh_result "a second xev is framed ($other) and work's Xwayland found (pid ${xw:-none})" \
  $([ -n "$other" ] && [ -n "$xw" ]; echo $?)
xs() { qvm-run -p work "grep -A2 '^KeyPress' $1 | grep -c 'keysym 0x78, x)'" 2>/dev/null; } # presses of x in that xev
type_keys y >/dev/null # kbd-probe has the focus, in dom0 and in X
a0=$(xs /tmp/xev.log)
kill -STOP "$xw" 2>/dev/null
xdotool windowactivate --sync "$other" 2>/dev/null
xdotool windowfocus --sync "$other" 2>/dev/null
xdotool key x 2>/dev/null
# Ctrl+Shift+C goes to the agent after x, and is answered without Xwayland
# (nothing to copy): guid's log line says the agent has read x too.
from=$(bh_log_from "$bh_log")
xdotool key ctrl+shift+c 2>/dev/null
bh_wait_grep "$bh_log" 'guid\[work\]: clipboard: \(took 0 bytes\|.*holds neither\)' 300 "$from"
answered=$?
kill -CONT "$xw" 2>/dev/null
bh_until 300 eval '[ "$(xs /tmp/xev2.log)" -gt 0 ] || [ "$(xs /tmp/xev.log)" -gt "${a0:-0}" ]'
b=$(xs /tmp/xev2.log)
a=$(($(xs /tmp/xev.log) - ${a0:-0}))
bh_result "Xwayland stopped while dom0 focused kbd-other and typed x (the agent had read it: $answered), then let go: x reached kbd-other ($b) and not kbd-probe ($a)" \
  $([ "$answered" -eq 0 ] && [ "${b:-0}" -eq 1 ] && [ "$a" -eq 0 ]; echo $?)
grep -q 'did not confirm an X focus change' "$bh_log" &&
  echo "# the agent's hold ran out (3 s) while Xwayland was stopped: the check above did not test the hold"
qvm-run work 'pkill -x xev' >/dev/null 2>&1

# ---- 3. a Java Swing program ---------------------------------------------------
# drawn SHOT WINDOW: the middle of the window's shot (where the program's
# label is) has dark pixels: its contents were drawn, not only the grey
# background AWT leaves when it takes the XWM for a reparenting one.
drawn() {
  local X Y WIDTH HEIGHT
  eval "$(xdotool getwindowgeometry --shell "$2" 2>/dev/null)"
  dark=$(convert "$1" -crop "$((WIDTH * 3 / 10))x$((HEIGHT / 4))+$((X + WIDTH * 35 / 100))+$((Y + HEIGHT * 45 / 100))" \
    +repage -colorspace Gray -format '%[fx:minima]' info: 2>/dev/null)
  awk -v d="${dark:-1}" 'BEGIN { exit !(d < 0.5) }'
}
if ! qvm-run -p work 'command -v java' >/dev/null 2>&1; then
  bh_ok "# SKIP no java in the qube (Debian's openjdk-17-jre; BH_PACKAGES installs it)"
else
  qvm-run -p work 'cat > /tmp/x11-swing-app.java' <"$here/x11-swing-app.java"
  before=$(bh_or_windows | awk '{print $1}' | sort)
  qvm-run work 'java /tmp/x11-swing-app.java menu' >"$bh_tmp/swing.log" 2>&1 &
  bh_bg_pids+=($!)
  # The source launcher compiles it first: 20 s at load 20 here, so 60 s.
  swing=$(bh_find_window '^\[work\] swing-main' 300)
  bh_result "a Swing program's main window is framed: '$(xdotool getwindowname "$swing" 2>/dev/null)'" \
    $([ -n "$swing" ]; echo $?)
  xdotool windowactivate --sync "$swing" 2>/dev/null
  popup=$(bh_new_or_window "$before")
  eval "$(xdotool getwindowgeometry --shell "$swing" 2>/dev/null)"
  read -r _ px py pw ph <<<"$popup"
  import -window root "$shots/x11-swing-menu.png" 2>/dev/null
  drawn "$shots/x11-swing-menu.png" "$swing"
  bh_result "the main window's contents are drawn (darkest grey in its middle: $dark)" $?
  # Next to its parent: its top-left corner inside the main window, and
  # taller than it (so Swing did give it a window of its own).
  bh_result "its File menu is a popup next to it (menu ${pw:-?}x${ph:-?} at ${px:-?},${py:-?}; main ${WIDTH}x${HEIGHT} at $X,$Y)" \
    $([ -n "$popup" ] && [ "$px" -ge "$X" ] && [ "$px" -le $((X + WIDTH)) ] && [ "$py" -ge "$Y" ] &&
      [ "$py" -le $((Y + HEIGHT)) ] && [ "$ph" -gt 200 ]; echo $?)
  qvm-run work 'pkill -f x11-swing-app.java' >/dev/null 2>&1
  for _ in $(seq 150); do xdotool search --name '^\[work\] swing-' >/dev/null 2>&1 || break; sleep 0.2; done

  qvm-run work 'java /tmp/x11-swing-app.java dialog' >"$bh_tmp/swing2.log" 2>&1 &
  bh_bg_pids+=($!)
  dlg=$(bh_find_window '^\[work\] swing-dialog' 300)
  main=$(xdotool search --name '^\[work\] swing-main' 2>/dev/null | head -n1)
  tf=$(xprop -id "$dlg" WM_TRANSIENT_FOR 2>/dev/null | grep -o '0x[0-9a-f]*')
  bh_result "its dialog is framed and transient for the main window (WM_TRANSIENT_FOR $tf, main $(printf '0x%x' "${main:-0}"))" \
    $([ -n "$dlg" ] && [ -n "$tf" ] && [ $((tf)) -eq $((main)) ]; echo $?)
  import -window root "$shots/x11-swing-dialog.png" 2>/dev/null
  drawn "$shots/x11-swing-dialog.png" "$dlg"
  bh_result "the dialog's contents are drawn (darkest grey in its middle: $dark)" $?
  qvm-run work 'pkill -f x11-swing-app.java' >/dev/null 2>&1
fi

# ---- 4. an X app's pointer, wheel, minimum size, close and full screen ---------
# A Tk window logs, in work, each button with its place in the window and a
# WM_DELETE_WINDOW (x11-tk-app.py "input"; minimum size 360x240).
qvm-run -p work 'cat > /tmp/x11-tk-app.py' <"$here/x11-tk-app.py"
qvm-run work 'python3 /tmp/x11-tk-app.py input' >"$bh_tmp/tk-input.log" 2>&1 &
bh_bg_pids+=($!)
tkin=$(bh_find_window '^\[work\] tk-input' 300)
tk_log() { qvm-run -p work 'cat /tmp/tk-input.log' 2>/dev/null; }
xdotool windowactivate --sync "$tkin" 2>/dev/null
sleep 0.5
# Two clicks 100,50 apart in dom0 (under guid's title bar, inside the Tk
# window's content), then the wheel up and down: X's buttons 4 and 5.
xdotool mousemove --window "$tkin" 60 150 click 1 2>/dev/null
xdotool mousemove --window "$tkin" 160 200 click 1 2>/dev/null
xdotool click 4 2>/dev/null
xdotool click 5 2>/dev/null
bh_until 150 eval '[ "$(tk_log | grep -c "^press")" -ge 4 ]'
presses=$(tk_log | grep '^press' | head -n4 | tr '\n' ' ')
read -r _ b1 x1 y1 _ b2 x2 y2 _ b3 _ _ _ b4 _ _ <<<"$presses"
bh_result "two clicks 100,50 apart in dom0 reach the Tk window as button 1 100,50 apart, inside it; the wheel as buttons 4 then 5 (got: $presses)" \
  $([ "$b1" = 1 ] && [ "$b2" = 1 ] && [ $((x2 - x1)) -eq 100 ] && [ $((y2 - y1)) -eq 50 ] && [ "$x1" -ge 0 ] &&
    [ "$y1" -ge 0 ] && [ "$x2" -lt 420 ] && [ "$y2" -lt 300 ] && [ "$b3" = 4 ] && [ "$b4" = 5 ]; echo $?)
import -window root "$shots/x11-tk-input.png" 2>/dev/null
# Its minimum size reaches dom0's window (guid's frame added to it), and a
# resize below it is refused by dom0's window manager.
min=$(xprop -id "$tkin" WM_NORMAL_HINTS 2>/dev/null | sed -n 's/.*program specified minimum size: \([0-9]*\) by \([0-9]*\).*/\1 \2/p')
read -r minw minh <<<"$min"
xdotool windowsize --sync "$tkin" 100 100 2>/dev/null
sleep 1
eval "$(xdotool getwindowgeometry --shell "$tkin" 2>/dev/null)"
bh_result "its minimum size 360x240 is dom0's window's (${minw:-?}x${minh:-?}); resized to 100x100 it stays ${WIDTH}x${HEIGHT}" \
  $([ "${minw:-0}" -ge 360 ] && [ "${minh:-0}" -ge 240 ] && [ "$WIDTH" -ge 360 ] && [ "$HEIGHT" -ge 240 ]; echo $?)
# Closed in dom0 (openbox's close: WM_DELETE_WINDOW to guid's window): the
# Tk program gets its WM_DELETE_WINDOW, not a KillClient.
wmctrl -i -c "$tkin" 2>/dev/null
bh_until 150 eval 'tk_log | grep -qx delete'
deleted=$?
gone=1
for _ in $(seq 100); do xdotool search --name '^\[work\] tk-input' >/dev/null 2>&1 || { gone=0; break; }; sleep 0.2; done
bh_result "closed in dom0, the Tk program got WM_DELETE_WINDOW ($deleted) and its window went ($gone)" \
  $([ "$deleted" -eq 0 ] && [ "$gone" -eq 0 ]; echo $?)
# Full screen asked by the X app (_NET_WM_STATE): work may not show full
# screen (allow_fullscreen unset), so guid maximises it, frame kept.
qvm-run work 'python3 /tmp/x11-tk-app.py fullscreen' >"$bh_tmp/tk-full.log" 2>&1 &
bh_bg_pids+=($!)
tkfull=$(bh_find_window '^\[work\] tk-full' 300)
state() { xprop -id "$tkfull" _NET_WM_STATE 2>/dev/null; }
bh_until 150 eval 'state | grep -q MAXIMIZED_HORZ'
st=$(state)
# And the X window is resized to fill it (Tk logs its sizes): wider than
# half the screen.
full_w() { qvm-run -p work 'tail -n1 /tmp/tk-fullscreen.log' 2>/dev/null | awk '{print $2}'; }
bh_until 150 eval '[ "$(full_w)" -gt 640 ]'
fw=$(full_w)
import -window root "$shots/x11-tk-fullscreen.png" 2>/dev/null
bh_result "full screen asked by the Tk program is maximise in dom0, frame kept (${st#*= }), the X window filling it (${fw:-?} wide)" \
  $(echo "$st" | grep -q _NET_WM_STATE_MAXIMIZED_VERT && echo "$st" | grep -q _NET_WM_STATE_MAXIMIZED_HORZ &&
    ! echo "$st" | grep -q _NET_WM_STATE_FULLSCREEN && xdotool getwindowname "$tkfull" | grep -q '^\[work\] ' &&
    [ "${fw:-0}" -gt 640 ]; echo $?)
qvm-run work 'pkill -f x11-tk-app.py' >/dev/null 2>&1
# personal may (allow_fullscreen True, set before it starts): the same
# request is full screen in dom0, without guid's title bar.
qvm-prefs personal allow_fullscreen True >/dev/null 2>&1
qvm-run -p personal 'cat > /tmp/x11-tk-app.py' <"$here/x11-tk-app.py"
qvm-run personal 'python3 /tmp/x11-tk-app.py fullscreen' >"$bh_tmp/tk-full2.log" 2>&1 &
bh_bg_pids+=($!)
tkfull=$(bh_find_window '^\[personal\] tk-full' 300)
bh_until 150 eval 'state | grep -q _NET_WM_STATE_FULLSCREEN'
st=$(state)
eval "$(xdotool getwindowgeometry --shell "$tkfull" 2>/dev/null)"
# The X window fills it (Tk logs its sizes): more than 960 px high.
full_h() { qvm-run -p personal 'tail -n1 /tmp/tk-fullscreen.log' 2>/dev/null | awk '{print $3}'; }
bh_until 150 eval '[ "$(full_h)" -gt 960 ]'
fs=$(qvm-run -p personal 'cat /tmp/tk-fullscreen.log' 2>/dev/null | tr '\n' ' ')
# And dom0 shows it so: 10 px above the screen's bottom is Tk's grey, not
# the frame's yellow (the new buffer may trail Tk's log by a few frames).
low() { import -window root "$shots/x11-tk-fullscreen-allowed.png" 2>/dev/null
  convert "$shots/x11-tk-fullscreen-allowed.png" -format '%[pixel:p{640,1013}]' info: 2>/dev/null; }
bh_until 50 eval 'low | grep -qv "srgb(23[0-9],2[0-9][0-9],0)\|yellow\|gold"'
px=$(low)
bh_result "in personal (allow_fullscreen True) it is full screen in dom0 (${st#*= }; ${WIDTH:-?}x${HEIGHT:-?}), the X window filling it (Tk's sizes: $fs; dom0 at 640,1013: $px)" \
  $(echo "$st" | grep -q _NET_WM_STATE_FULLSCREEN && [ "${WIDTH:-0}" -eq 1280 ] && [ "${HEIGHT:-0}" -eq 1024 ] &&
    [ "$(full_h)" -gt 960 ] && [ "$px" = "srgb(217,217,217)" ]; echo $?)
qvm-run personal 'pkill -f x11-tk-app.py' >/dev/null 2>&1

if [ "$bh_failed" -gt 0 ]; then
  echo "# work's xev:"; qvm-run -p work 'grep -A2 ^KeyPress /tmp/xev.log | tail -n 40' 2>&1 | bh_diag
  echo "# the Swing program:"; bh_diag <"$bh_tmp/swing.log"
  grep -E 'keymap|xwm|xwayland' "$bh_log" | grep -v 'size hints ignored' | tail -n 30 | bh_diag
fi
bh_done
