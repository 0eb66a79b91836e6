#!/usr/bin/env bash
# shell-monitors.sh — the shell on a desktop of two monitors (docs/shell.md,
# "Panel"): a private Xorg with the dummy driver, whose outputs DUMMY0 (left,
# 1024x768, primary) and DUMMY1 (right, 1280x1024 at x 1024) are real RandR
# monitors for GDK and openbox (Xvfb's `xrandr --setmonitor` monitors have no
# output, and GDK 4 skips those); openbox, bulkheadd with real sandboxes on a
# private bus, and the shell. Checked from outside:
#   control: xrandr and the X server's Xinerama list the two monitors
#   the panel spans the primary monitor only: 1024 px at 0,0, its strut from
#   x 0 to 1023; in a screenshot the panel's colour fills the top of the left
#   monitor and none of the right one
#   the menu (Super+Space, "personal") is drawn on the panel's monitor: the
#   left monitor's pixels change, the right one's do not; personal's yellow
#   entry is on the left
#   Enter: guid's [personal] window is placed inside the primary monitor,
#   below the panel, its yellow frame on one side of the seam only
#   the strut holds on its monitor only: maximised on the right monitor the
#   window reaches y 0; on the left it starts under the panel
#   the primary made DUMMY1: the panel moves to x 1024, 1280 px wide, strut
#   from 1024 to 2303, pixels moved with it; the menu opens there; the next
#   window is placed inside one monitor (openbox's choice which)
#   a card of the shell's own notification server (the test's server gone),
#   shown before the primary changed, is in the left monitor's top-right
#   corner under the panel, and moves to the right monitor's with the panel
# Screenshots in $BH_BUILD_ROOT/tests/display/shots/monitors-*.png. Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without xdotool xprop xrandr xdpyinfo wmctrl import convert compare foot openbox
SHELL_BIN="$BH_BUILD_ROOT/shell/bulkhead-shell"
shots="$BH_BUILD_ROOT/tests/display/shots"
mkdir -p "$shots"

bh_start_xorg_dummy
# Two modes of our own (the dummy driver takes any timing), one per output;
# an output is connected at its first mode.
xrandr --newmode bh-left 63.50 1024 1072 1176 1328 768 771 775 798 -hsync +vsync 2>/dev/null
xrandr --newmode bh-right 109.00 1280 1368 1496 1712 1024 1027 1034 1063 -hsync +vsync 2>/dev/null
xrandr --addmode DUMMY0 bh-left 2>/dev/null
xrandr --addmode DUMMY1 bh-right 2>/dev/null
xrandr --output DUMMY0 --mode bh-left --pos 0x0 --primary \
  --output DUMMY1 --mode bh-right --pos 1024x0 2>/dev/null
monitors=$(xrandr --listmonitors 2>/dev/null | tail -n +2 | awk '{print $3, $4}' | tr '\n' ';')
heads=$(xdpyinfo -ext XINERAMA 2>/dev/null | grep -c 'head #')
bh_result "control: two monitors on $DISPLAY ($monitors), $heads Xinerama heads" \
  $([ "$monitors" = "1024/271x768/203+0+0 DUMMY0;1280/339x1024/271+1024+0 DUMMY1;" ] && [ "$heads" = 2 ]; echo $?)

bh_start_openbox
wm_ready() { xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; }
bh_until 150 wm_ready # openbox manages the screen
# A notification server of the test's own (a session that has one): no card
# of "personal has started" comes and goes between two compared shots.
/usr/bin/python3 "$(dirname "$0")/notify-server.py" "$bh_tmp/notifications" >"$bh_tmp/notify.out" 2>&1 &
notify_pid=$!
bh_bg_pids+=($notify_pid)
bh_wait_grep "$bh_tmp/notify.out" READY 100
bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?
bh_wait_state sys-firewall Running
rc=$?
bh_result "the autostart qubes run (sys-firewall $(bh_state_of sys-firewall))" $rc

G_MESSAGES_DEBUG=bh-shell "$SHELL_BIN" >"$bh_shell_log" 2>&1 &
shell_pid=$!
bh_bg_pids+=($shell_pid)
panel=$(bh_find_window '^Bulkhead panel$' 150)
bh_result "bulkhead-shell shows its panel" $([ -n "$panel" ]; echo $?)

shot() { import -window root "$shots/monitors-$1.png" 2>/dev/null; }
png() { echo "$shots/monitors-$1.png"; }
geometry() { xdotool getwindowgeometry "$1" 2>/dev/null | sed -n 's/.*Position: \([0-9-]*\),\([0-9-]*\).*/\1 \2/p;s/.*Geometry: \([0-9]*\)x\([0-9]*\).*/\1 \2/p' | tr '\n' ' '; }
strut() { xprop -id "$panel" _NET_WM_STRUT_PARTIAL 2>/dev/null | sed 's/.*= //'; }
panel_at() { [ "$(geometry "$panel")" = "$1 " ] && [ "$(strut)" = "$2" ]; }
# How many pixels differ between two shots in a region (compare's AE count).
changed() { compare -metric AE "$(png "$1")[$3]" "$(png "$2")[$3]" null: 2>&1 | cut -d' ' -f1; }
dark='#2e3436' yellow='#edd400'
left_top=1024x1+0+2 right_top=1280x1+1024+2

bh_until 200 panel_at "0 0 1024 32" "0, 0, 32, 0, 0, 0, 0, 0, 0, 1023, 0, 0"
rc=$?
bh_result "the panel spans the primary monitor: $(geometry "$panel")(x y w h), strut $(strut)" $rc
# Its colour along the top of the left monitor; the right one's top is the
# root window's (the control that the panel is not stretched across both).
panel_drawn() { # SHOT ROW MIN OTHER-ROW: the panel's colour fills ROW (MIN px), none of OTHER-ROW
  shot "$1"
  [ "$(bh_px_count "$(png "$1")" "$dark" "$2")" -ge "$3" ] && [ "$(bh_px_count "$(png "$1")" "$dark" "$4")" -eq 0 ]
}
bh_until 30 panel_drawn start $left_top 900 $right_top
rc=$?
bh_result "in the screenshot its colour fills the top of the left monitor ($(bh_px_count "$(png start)" "$dark" $left_top) of 1024 px), none of the right ($(bh_px_count "$(png start)" "$dark" $right_top))" $rc

# ---- the menu on the panel's monitor ------------------------------------------
# Typed text filters to personal's entry (its yellow bar). Compared with the
# shot before the key: the left monitor changed below the panel, the right
# one did not.
menu_shown() { # SHOT REGION-WITH-IT REGION-WITHOUT-IT
  shot "$1"
  [ "$(bh_px_count "$(png "$1")" "$yellow" "$2")" -ge 30 ] &&
    [ "$(bh_px_count "$(png "$1")" "$yellow" "$3")" -eq 0 ]
}
menu_on() { # NAME ON OFF: the menu filtered to personal in ON; sets $on_changed, $off_changed
  shot "before-$1"
  bh_menu_search "$panel" personal
  bh_until 30 menu_shown "$1" "$2" "$3"
  local rc=$?
  on_changed=$(changed "before-$1" "$1" "$2")
  off_changed=$(changed "before-$1" "$1" "$3")
  [ $rc -eq 0 ] && [ "$on_changed" -ge 5000 ] && [ "$off_changed" -eq 0 ]
}
menu_on menu 1024x736+0+32 1280x1024+1024+0
rc=$?
bh_result "the menu opens on the panel's monitor: $on_changed px changed on the left, $off_changed on the right; personal's yellow entry on the left ($(bh_px_count "$(png menu)" "$yellow" 1024x736+0+32) px)" $rc

# ---- guid's window: on one monitor, not across the seam ------------------------
xdotool key Return 2>/dev/null
win=$(bh_find_window '^\[personal\] ' 450)
bh_result "Enter launches foot in personal ('$(xdotool getwindowname "$win" 2>/dev/null)')" $([ -n "$win" ]; echo $?)
# Inside a monitor: the window's rectangle lies in [X0, X1) and below TOP.
inside() { # WINDOW X0 X1 TOP
  local g
  read -r -a g <<<"$(geometry "$1")"
  [ "${#g[@]}" -eq 4 ] && [ "${g[0]}" -ge "$2" ] && [ $((g[0] + g[2])) -le "$3" ] && [ "${g[1]}" -ge "$4" ]
}
# Below the panel's rows (its window list and chip are yellow too).
framed() { # WINDOW SHOT X0 X1 (the monitor it is on): its yellow frame drawn there, none elsewhere
  shot "$2"
  local w=$(($4 - $3)) all there
  all=$(bh_px_count "$(png "$2")" "$yellow" 2304x992+0+32)
  there=$(bh_px_count "$(png "$2")" "$yellow" "${w}x992+$3+32")
  [ "$there" -ge 200 ] && [ "$there" -eq "$all" ]
}
bh_until 100 inside "$win" 0 1024 32
rc=$?
bh_result "guid's window is placed inside the primary monitor, under the panel: $(geometry "$win")" $rc
bh_until 30 framed "$win" personal 0 1024
rc=$?
bh_result "its yellow frame is drawn on the left monitor only ($(bh_px_count "$(png personal)" "$yellow" 1024x992+0+32) px left, $(bh_px_count "$(png personal)" "$yellow" 1280x992+1024+32) right)" $rc

# The strut is partial: maximised on the right monitor the window may reach
# y 0 there; on the left it stops under the panel.
maximise() { wmctrl -i -r "$2" -b "$1,maximized_vert,maximized_horz" 2>/dev/null; } # add|remove WINDOW
maximised_at() { # WINDOW X Y W H: maximised, openbox put it there
  [ "$(geometry "$1")" = "$2 $3 $4 $5 " ]
}
xdotool windowmove "$win" 1200 200 2>/dev/null
bh_until 50 inside "$win" 1024 2304 0
maximise add "$win"
bh_until 100 maximised_at "$win" 1024 0 1280 1024
right_max=$?
right_geo=$(geometry "$win")
maximise remove "$win"
restored() { inside "$1" 1024 2304 0 && ! maximised_at "$1" 1024 0 1280 1024; }
bh_until 50 restored "$win"
xdotool windowmove "$win" 200 200 2>/dev/null
bh_until 50 inside "$win" 0 1024 32
maximise add "$win"
bh_until 100 maximised_at "$win" 0 32 1024 736
left_max=$?
bh_result "maximised on the right monitor it is $right_geo(no strut there), on the left $(geometry "$win")(under the panel)" \
  $([ $right_max -eq 0 ] && [ $left_max -eq 0 ]; echo $?)
maximise remove "$win"
xdotool windowminimize "$win" 2>/dev/null

# ---- a notification card on the panel's monitor ---------------------------------
# The test's server gone, the shell serves the name and shows a card that
# stays until closed (timeout 0) in the top-right corner of the left
# monitor, under the panel: x 1024 - 360 - 8.
notify() { gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications --method "org.freedesktop.Notifications.$1" "${@:2}" 2>/dev/null; }
kill "$notify_pid" 2>/dev/null
bh_until 150 eval '[ "$(notify GetServerInformation | cut -d"'"'"'" -f2)" = bulkhead-shell ]'
note_id=$(notify Notify test 0 '' 'A card' 'it stays until closed' '[]' '{}' 0 | grep -o '[0-9][0-9]*' | head -n1)
card=$(bh_find_window '^Bulkhead notifications$' 100)
card_at() { read -r cx cy _ <<<"$(geometry "$card")"; [ "$cx" = "$1" ] && [ "$cy" = "$2" ]; }
card_drawn() { # SHOT X: the card's background under the panel at X, none at the other place
  shot "$1"
  [ "$(bh_px_count "$(png "$1")" "$dark" "360x16+$2+44")" -ge 1500 ] && [ "$(bh_px_count "$(png "$1")" "$dark" "360x16+$3+44")" -eq 0 ]
}
bh_until 100 card_at 656 40 && bh_until 30 card_drawn card-left 656 1936
rc=$?
bh_result "the shell's card (id ${note_id:-none}) is at $(geometry "$card")on the left monitor, top right under the panel" \
  $([ -n "$card" ] && [ $rc -eq 0 ]; echo $?)

# ---- another primary monitor ------------------------------------------------------
xrandr --output DUMMY1 --primary 2>/dev/null
bh_until 200 panel_at "1024 0 1280 32" "0, 0, 32, 0, 0, 0, 0, 0, 1024, 2303, 0, 0"
rc=$?
bh_result "DUMMY1 made primary: the panel moves to it, $(geometry "$panel")(x y w h), strut $(strut)" $rc
# The card already shown moves with it: 1024 + 1280 - 360 - 8.
bh_until 100 card_at 1936 40 && bh_until 30 card_drawn card-right 1936 656
rc=$?
bh_result "the card on screen moves to the new primary's top right: $(geometry "$card")(drawn: $(bh_px_count "$(png card-right)" "$dark" 360x16+1936+44) px there, $(bh_px_count "$(png card-right)" "$dark" 360x16+656+44) on the left)" $rc
notify CloseNotification "${note_id:-0}" >/dev/null
bh_until 30 panel_drawn moved $right_top 1100 $left_top
rc=$?
bh_result "in the screenshot the panel's colour is along the right monitor's top ($(bh_px_count "$(png moved)" "$dark" $right_top) px), gone from the left ($(bh_px_count "$(png moved)" "$dark" $left_top))" $rc

menu_on menu2 1280x992+1024+32 1024x768+0+0
rc=$?
bh_result "the menu follows: $on_changed px changed on the right, $off_changed on the left" $rc
xdotool key Return 2>/dev/null
win2=""
find_second() {
  local id
  for id in $(xdotool search --name '^\[personal\] ' 2>/dev/null); do
    [ "$id" != "$win" ] && { win2=$id; return 0; }
  done
  return 1
}
bh_until 450 find_second
# Openbox (Debian's rc.xml: <monitor>Primary</monitor>, its first Xinerama
# head) reads the heads again at a screen size change only, so its "primary"
# may still be the left one: the promise is one monitor, never across the seam.
on_one() { inside "$1" 0 1024 0 || inside "$1" 1024 2304 32; }
bh_until 100 on_one "$win2"
rc=$?
read -r -a g2 <<<"$(geometry "$win2")"
if [ "${g2[0]:-0}" -ge 1024 ]; then side=right x0=1024 x1=2304; else side=left x0=0 x1=1024; fi
bh_result "the next window of personal is placed inside one monitor, the $side one: $(geometry "$win2")" \
  $([ -n "$win2" ] && [ $rc -eq 0 ]; echo $?)
bh_until 30 framed "$win2" second $x0 $x1
rc=$?
bh_result "its yellow frame is drawn on that monitor only ($(bh_px_count "$(png second)" "$yellow" 1280x992+1024+32) px right, $(bh_px_count "$(png second)" "$yellow" 1024x992+0+32) left)" $rc

kill -0 "$shell_pid" 2>/dev/null
bh_result "the shell is still running" $?
if [ "$bh_failed" -gt 0 ]; then
  echo "# shell log:"; bh_diag <"$bh_shell_log"
fi
bh_done
