#!/usr/bin/env bash
# shell-widgets.sh — the shell's notifications, domains widget figures and
# notices, and clipboard widget, as a user meets them: a private Xvfb with
# openbox, bulkheadd with real sandboxes on a private bus, the real shell,
# xdotool for the clicks and keys. Checked from outside:
#   with a notification server of the test's own on the bus, the shell uses
#   it (does not take the name); clicking Start beside halted work makes it
#   Running in qvm-ls and "Qube work has started" reaches that server
#   GetStats gives work's memory and CPU (the sandbox's cgroup)
#   Restart beside work: shut down and started again (both noticed); Settings
#   beside personal runs bulkhead-settings --qube=personal; Start on a
#   template with no root: "Qube broken failed to start: <the daemon's reason>"
#   Ctrl+Shift+C in work's window: the clipboard widget shows work's blue at
#   the panel's right end (none before), the state names work
#   work's init killed from outside: "Qube work crashed" reaches the server
#   the test's server gone, the shell takes org.freedesktop.Notifications:
#   CopyDom0 (the daemon's "Copied … from dom0" notice) appears as a card in
#   the top-right corner under the panel, the widget turns to dom0's label (black); Clear
#   from the widget's popover (click, Return) empties the global clipboard
#   a flood from one caller is cut at 20 in 10 s, at most 5 cards are shown,
#   a 1 MB body leaves the card column within the screen
#   a shutdown that hangs (a process ignoring SIGTERM): Kill is offered after
#   10 s and halts the qube long before the daemon's 60 s timeout
#   a qube whose start is held (a bwrap that waits): its chip shows a turning
#   spinner while Transient, none once Running; the clock shows this minute
# Screenshots: $BH_BUILD_ROOT/tests/display/shots/shell-widgets-*.png.
# Prints TAP. Reuses daemon-lib.sh for the private bus, XDG dirs and clean-up.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_skip_without Xvfb xdotool xprop import convert foot openbox python3 gdbus
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3 # with python3-gi (the notification server, the flood)
SHELL_BIN="$BH_BUILD_ROOT/shell/bulkhead-shell"
shots="$BH_BUILD_ROOT/tests/display/shots"
mkdir -p "$shots"
find_py="$here/shell-find.py"

bh_start_xvfb +extension XTEST
bh_start_openbox

# The test's own notification server first: a session that has one.
notes="$bh_tmp/notifications"
: >"$notes"
"$py" "$here/notify-server.py" "$notes" >"$bh_tmp/notify.out" 2>&1 &
notify_pid=$!
bh_bg_pids+=($notify_pid)
for _ in $(seq 100); do grep -q READY "$bh_tmp/notify.out" && break; sleep 0.1; done

# A bwrap that waits while $hold/hold-start exists, before the real one: a
# qube whose start takes as long as the test wants (the spinner below). Not in
# $bh_tmp, which only root may enter: the sandbox backend runs bwrap as the
# qubes' own user.
hold="$BH_BUILD_ROOT/tests/hold-$$"
mkdir -p "$hold"
cat >"$hold/bwrap" <<SH
#!/bin/sh
while [ -e "$hold/hold-start" ]; do sleep 0.1; done
exec $(command -v bwrap) "\$@"
SH
chmod 755 "$hold" "$hold/bwrap"
PATH="$hold:$PATH" bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?

noted() { grep -qF -- "$1" "$notes"; }
server_name() {
  gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications \
    --method org.freedesktop.Notifications.GetServerInformation 2>/dev/null | cut -d"'" -f2
}
clip() { # METHOD [ARGS]
  local m=$1
  shift
  gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method "org.bulkhead.Clipboard1.$m" "$@" 2>&1
}

bh_wait_state sys-firewall Running
# A bulkhead-settings that records how the shell runs it (the settings app is
# another branch's); the shell looks for it on its PATH.
mkdir -p "$bh_tmp/bin"
cat >"$bh_tmp/bin/bulkhead-settings" <<SH
#!/bin/sh
echo "\$@" >>"$bh_tmp/settings-args"
SH
chmod +x "$bh_tmp/bin/bulkhead-settings"
PATH="$bh_tmp/bin:$PATH" G_MESSAGES_DEBUG=bh-shell "$SHELL_BIN" >"$bh_tmp/shell.log" 2>&1 &
shell_pid=$!
bh_bg_pids+=($shell_pid)
panel=$(bh_find_window '^Bulkhead panel$' 150)
bh_result "bulkhead-shell shows its panel" $([ -n "$panel" ]; echo $?)
sleep 1
bh_same "a notification server runs already: the shell leaves it the name" "bh-test" "$(server_name)"

# ---- pixels -------------------------------------------------------------------
shot() { import -window root "$shots/shell-widgets-$1.png" 2>/dev/null; }
count() { # SHOT COLOUR WxH+X+Y: how many pixels of that colour
  convert "$shots/shell-widgets-$1.png" -crop "$3" +repage -depth 8 txt:- 2>/dev/null | grep -ci -- "$2"
}
click_at() { xdotool mousemove "$1" "$2" click 1 2>/dev/null; }
blue='#3465a4' black='#000000' yellow='#edd400'
# The clipboard widget sits at the panel's right end, before the clock.
right=400x32+880+0

# open_qubes SHOT #rrggbb [K]: a click on "Qubes", then shots until the
# popover's row of that colour shows its Kth verb from the right (5 s);
# sets vx vy to where it is.
verb_in() { # SHOT #rrggbb [K]
  shot "$1"
  read -r vx vy < <("$py" "$find_py" "$shots/shell-widgets-$1.png" verb "$2" ${3:+"$3"})
  [ -n "$vx" ]
}
open_qubes() {
  read -r qx qy < <("$py" "$find_py" "$shots/shell-widgets-start.png" button 1)
  click_at "$qx" "$qy"
  vx="" vy=""
  bh_until 50 verb_in "$@"
}

# ---- Start by a click, and its notice -------------------------------------------
shot start
open_qubes popover "$blue"
sx=$vx sy=$vy
# The rows' kind icons (shell-icon.py: shape and colour), the panel's chips too.
icons() { # SHOT REGION KIND LABEL
  "$py" "$here/shell-icon.py" "$shots/shell-widgets-$1.png" "$2" "$BH_BUILD_ROOT/icons" "$3" "$4"
}
tpl=$(icons popover 60x400+0+34 template black) && net=$(icons popover 60x400+0+34 service red) &&
  chip=$(icons popover 1280x32+0+0 service green)
bh_result "the Qubes popover draws debian-12's template icon and sys-net's service icon, the panel sys-firewall's ($tpl; $net; $chip)" $?
click_at "${sx:-0}" "${sy:-0}"
bh_wait_state work Running 900
rc=$?
bh_result "clicking Start beside halted work (at ${sx:-?},${sy:-?}) makes it Running in qvm-ls ($(bh_state_of work))" $rc
xdotool key Escape 2>/dev/null
bh_until 150 noted "Qubes|Qube work has started"
bh_result "the test's notification server receives 'Qube work has started' from the shell" $?

# ---- GetStats -------------------------------------------------------------------
stats=""
for _ in $(seq 30); do
  stats=$(gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method org.bulkhead.Admin1.GetStats 2>&1)
  printf '%s' "$stats" | grep -q "'work'" && break
  sleep 0.5
done
mem=$(printf '%s' "$stats" | grep -o "'work': {[^}]*}" | grep -o "'memory': <uint64 [0-9]*" | grep -o '[0-9]*$')
cpu=$(printf '%s' "$stats" | grep -o "'work': {[^}]*}" | grep -o "'cpu_usec': <uint64 [0-9]*" | grep -o '[0-9]*$')
bh_result "GetStats gives work's memory ($mem bytes) and CPU time ($cpu µs) from its cgroup" \
  $([ "${mem:-0}" -gt 1000000 ] && [ -n "$cpu" ]; echo $?)
bh_result "and no figures for halted personal" $(! printf '%s' "$stats" | grep -q "'personal'"; echo $?)
# A busy loop in work: its CPU time grows by about the loop's time (the
# control is the figure before it).
work_cpu() {
  gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method org.bulkhead.Admin1.GetStats 2>/dev/null | grep -o "'work': {[^}]*}" |
    grep -o "'cpu_usec': <uint64 [0-9]*" | grep -o '[0-9]*$'
}
cpu_before=$(work_cpu)
qvm-run work 'timeout 4 sh -c "while :; do :; done"' >/dev/null 2>&1
cpu_busy=${cpu_before:-0}
for _ in $(seq 30); do
  sleep 0.2
  cpu_busy=$(work_cpu)
  [ $((${cpu_busy:-0} - ${cpu_before:-0})) -ge 300000 ] && break
done
bh_result "a busy loop in work: its CPU time grows ($cpu_before -> $cpu_busy µs)" \
  $([ $((${cpu_busy:-0} - ${cpu_before:-0})) -ge 300000 ]; echo $?)
# The figures in the Qubes popover, for the eye (shell-widgets-figures.png).
sleep 3
open_qubes figures "$blue"
xdotool key Escape 2>/dev/null

# ---- Restart and Settings from the Qubes popover ----------------------------------
open_qubes restart "$blue" 1
rx=$vx ry=$vy
click_at "${rx:-0}" "${ry:-0}"
xdotool key Escape 2>/dev/null
bh_until 150 noted "Qubes|Qube work has shut down"
down=$?
restarted=1
for _ in $(seq 300); do
  [ "$(grep -c 'Qube work has started' "$notes")" -ge 2 ] && [ "$(bh_state_of work)" = Running ] && { restarted=0; break; }
  sleep 0.2
done
bh_result "Restart beside work (at ${rx:-?},${ry:-?}): 'has shut down', then 'has started' again, $(bh_state_of work)" \
  $([ $down -eq 0 ] && [ $restarted -eq 0 ]; echo $?)

# Pause, Unpause and Terminal beside work (its verbs from the right: Shutdown,
# Restart, Pause, Terminal, Settings; paused: Shutdown, Unpause, Settings).
bh_same "control: work runs before Pause is clicked" Running "$(bh_state_of work)"
open_qubes pause "$blue" 2
row_y=$vy
click_at "${vx:-0}" "${vy:-0}"
xdotool key Escape 2>/dev/null
bh_wait_state work Paused 100
paused=$(bh_state_of work)
# The paused row is greyed (45 %): its Unpause is found on the same row.
verb_at() { # SHOT Y K
  shot "$1"
  read -r vx vy < <("$py" "$find_py" "$shots/shell-widgets-$1.png" verbat "$2" "$3")
  [ -n "$vx" ]
}
read -r qx qy < <("$py" "$find_py" "$shots/shell-widgets-start.png" button 1)
click_at "$qx" "$qy"
vx="" vy=""
bh_until 50 verb_at unpause "${row_y:-0}" 1
click_at "${vx:-0}" "${vy:-0}"
xdotool key Escape 2>/dev/null
bh_wait_state work Running 100
bh_result "Pause beside work makes it $paused, then Unpause beside it (at ${vx:-?},${vy:-?}) $(bh_state_of work)" \
  $([ "$paused" = Paused ] && [ "$(bh_state_of work)" = Running ]; echo $?)
work_windows() { xdotool search --name '^\[work\] ' 2>/dev/null | wc -l; }
before=$(work_windows)
open_qubes terminal "$blue" 3
click_at "${vx:-0}" "${vy:-0}"
xdotool key Escape 2>/dev/null
bh_until 300 eval '[ "$(work_windows)" -gt "$before" ]'
rc=$?
bh_result "Terminal beside work opens a window of work ($before before, $(work_windows) after: '$(xdotool search --name '^\[work\] ' getwindowname 2>/dev/null | head -n1)')" $rc
qvm-run work 'pkill -x foot' >/dev/null 2>&1 # its window is not needed below

open_qubes settings "$yellow" 1
tx=$vx ty=$vy
bh_result "no bulkhead-settings ran before the click" $([ ! -e "$bh_tmp/settings-args" ]; echo $?)
click_at "${tx:-0}" "${ty:-0}"
xdotool key Escape 2>/dev/null
bh_until 150 test -s "$bh_tmp/settings-args"
bh_same "Settings beside personal (at ${tx:-?},${ty:-?}) runs bulkhead-settings --qube=personal" \
  "--qube=personal" "$(cat "$bh_tmp/settings-args" 2>/dev/null)"

# A start the daemon refuses: a template whose root is no root filesystem.
# The notice carries the daemon's reason (not there before: the control).
purple='#75507b'
qvm-create -C TemplateVM -l purple broken >/dev/null 2>&1 &&
  qvm-prefs broken root_path /nonexistent-root >/dev/null 2>&1
# The popover follows QubeAdded: shots until broken's purple row is in it.
open_qubes broken "$purple"
bx=$vx by=$vy
bh_result "no notice about broken before its Start" $(! noted "Qube broken"; echo $?)
click_at "${bx:-0}" "${by:-0}"
xdotool key Escape 2>/dev/null
bh_until 150 noted "Qubes|Qube broken failed to start: "
rc=$?
bh_result "Start on it (at ${bx:-?},${by:-?}): '$(grep -o 'Qube broken failed to start: .*' "$notes" | head -n1 | cut -c1-90)'" $rc
bh_result "and only that one notice about it (no reasonless 'failed to start' as well)" \
  $([ "$(grep -c 'Qube broken' "$notes")" = 1 ]; echo $?)

# ---- the clipboard widget -------------------------------------------------------
qvm-run -p work 'mkdir -p /home/user/clip && cat > /home/user/clip-app.py' <"$here/clip-app.py"
qvm-run work "$py /home/user/clip-app.py copy /home/user/clip" >"$bh_tmp/run-work.log" 2>&1
src=$(bh_find_window '^\[work\] clip-copy')
bh_result "a GTK 4 app in work shows its window ($src)" $([ -n "$src" ]; echo $?)
sleep 1
shot before-copy
blue_before=$(count before-copy "$blue" "$right")
xdotool windowfocus --sync "$src" 2>/dev/null
sleep 0.3
xdotool key --window "$src" F5 2>/dev/null
bh_until 150 qvm-run -p work 'test -e /home/user/clip/copied' 2>/dev/null
xdotool key --window "$src" ctrl+shift+c 2>/dev/null
bh_until 150 sh -c "gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Clipboard1.GetState | grep -q \"'source': <'work'>\""
held=$?
blue_after=0
for _ in $(seq 30); do
  shot copied
  blue_after=$(count copied "$blue" "$right")
  [ "$blue_after" -ge 100 ] && break
  sleep 0.2
done
bh_result "Ctrl+Shift+C in work: the clipboard widget shows work's blue ($blue_before -> $blue_after px at the panel's right end)" \
  $([ $held -eq 0 ] && [ "$blue_before" -lt 20 ] && [ "$blue_after" -ge 100 ]; echo $?)

# ---- a crash from outside -------------------------------------------------------
init=""
for p in $(pgrep -P "$bh_daemon_pid"); do
  if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- '--hostname work '; then
    init=$(tr -d ' ' <"/proc/$p/task/$p/children" 2>/dev/null)
  fi
done
bh_result "work's init found ($init) and not yet noted as crashed" \
  $([ -n "$init" ] && ! noted "Qube work crashed"; echo $?)
[ -n "$init" ] && kill -KILL "$init"
bh_wait_state work Crashed 150
bh_until 150 noted "Qubes|Qube work crashed"
rc=$?
bh_result "work's init killed from outside: $(bh_state_of work), 'Qube work crashed' reaches the test's server" $rc

# ---- the shell's own server -----------------------------------------------------
kill "$notify_pid" 2>/dev/null
bh_until 150 eval '[ "$(server_name)" = bulkhead-shell ]'
rc=$?
bh_result "the test's server gone, the shell serves org.freedesktop.Notifications ($(server_name))" $rc
bh_result "before any card, no notification window is shown" \
  $(! xdotool search --onlyvisible --name '^Bulkhead notifications$' >/dev/null 2>&1; echo $?)

clip CopyDom0 'text from dom0, never shown' >/dev/null
card=$(bh_find_window '^Bulkhead notifications$' 50)
sleep 0.5
shot card
eval "$(xdotool getwindowgeometry --shell "$card" 2>/dev/null)"
type=$(xprop -id "$card" _NET_WM_WINDOW_TYPE 2>/dev/null)
bh_result "the daemon's CopyDom0 notice appears as a card at $X,$Y ${WIDTH}x$HEIGHT: top right, under the panel" \
  $([ -n "$card" ] && [ "$Y" -ge 32 ] && [ "$Y" -le 60 ] && [ $((X + WIDTH)) -ge 1260 ] && [ "$HEIGHT" -ge 40 ] &&
    [ "${type##*= }" = "_NET_WM_WINDOW_TYPE_NOTIFICATION" ]; echo $?)
card_px=$(count card '#2e3436' "${WIDTH}x${HEIGHT}+$X+$Y")
bh_result "the card is drawn ($card_px px of its background)" $([ "$card_px" -ge 2000 ]; echo $?)
# dom0's label is black (the daemon's, as in Qubes).
black_before=$(count copied "$black" "$right")
black_now=0
for _ in $(seq 30); do
  shot dom0
  black_now=$(count dom0 "$black" "$right")
  [ "$black_now" -ge 100 ] && [ "$(count dom0 "$blue" "$right")" -lt 20 ] && break
  sleep 0.2
done
bh_result "the clipboard widget turns to dom0's black ($black_before -> $black_now px), work's blue gone" \
  $([ "$black_before" -lt 20 ] && [ "$black_now" -ge 100 ] && [ "$(count dom0 "$blue" "$right")" -lt 20 ]; echo $?)
bh_result "the state names dom0 and a size, never the text" \
  $(clip GetState | grep -q "'source': <'dom0'>" && ! clip GetState | grep -q 'never shown'; echo $?)

# Clear from the widget: a click on its button opens the popover with Clear
# focused; Return presses it.
read -r cx cy < <("$py" "$find_py" "$shots/shell-widgets-dom0.png" lastbutton)
click_at "${cx:-0}" "${cy:-0}"
sleep 0.8
shot clipboard-popover
xdotool key Return 2>/dev/null
bh_until 150 sh -c "gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Clipboard1.GetState | grep -qF '(@a{sv} {},)'"
bh_result "Clear in the clipboard widget's popover (button at ${cx:-?},${cy:-?}) empties the global clipboard" $?
xdotool key Escape 2>/dev/null

# The card expires (the daemon asks for the server's default, 6 s).
gone=1
for _ in $(seq 60); do
  if ! xdotool search --onlyvisible --name '^Bulkhead notifications$' >/dev/null 2>&1; then gone=0; break; fi
  sleep 0.2
done
bh_result "the cards expire and the window goes" $gone

# ---- bounds ----------------------------------------------------------------------
cat >"$bh_tmp/flood.py" <<'PY'
import sys
from gi.repository import Gio, GLib
import os
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
ok = refused = 0
body = open(sys.argv[2]).read() if len(sys.argv) > 2 and sys.argv[2] else "b"
fresh = len(sys.argv) > 3 and sys.argv[3] == "fresh"
address = Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None)
for i in range(int(sys.argv[1])):
    if fresh:  # a new connection (a new unique name) for every call, one process
        bus = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    try:
        bus.call_sync("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                      "org.freedesktop.Notifications", "Notify",
                      GLib.Variant("(susssasa{sv}i)", ("flood", 0, "", "flood %d" % i, body, [], {}, 4000)),
                      GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, 5000, None)
        ok += 1
    except GLib.Error:
        refused += 1
print(ok, refused)
PY
read -r ok refused < <("$py" "$bh_tmp/flood.py" 30)
bh_result "30 notifications from one caller at once: 20 shown, 10 refused ($ok, $refused)" \
  $([ "$ok" = 20 ] && [ "$refused" = 10 ]; echo $?)
# The limit is per process: one that opens a connection per call (30 unique
# names) gets the same 20. Its 20 also show that the first flood's refusals
# were that process's and not a limit on everyone.
read -r ok refused < <("$py" "$bh_tmp/flood.py" 30 "" fresh)
bh_result "30 notifications from one process on 30 connections: 20 shown, 10 refused ($ok, $refused)" \
  $([ "$ok" = 20 ] && [ "$refused" = 10 ]; echo $?)
sleep 0.5
shot flood
card=$(xdotool search --onlyvisible --name '^Bulkhead notifications$' 2>/dev/null | head -n1)
eval "$(xdotool getwindowgeometry --shell "$card" 2>/dev/null)"
bh_result "at most 5 cards are shown (column ${HEIGHT} px high)" $([ "$HEIGHT" -le 600 ]; echo $?)
head -c 1000000 /dev/zero | tr '\0' 'x' >"$bh_tmp/big"
read -r ok refused < <("$py" "$bh_tmp/flood.py" 1 "$bh_tmp/big")
sleep 0.5
shot big
eval "$(xdotool getwindowgeometry --shell "$card" 2>/dev/null)"
bh_result "a 1 MB body is taken ($ok) and its card stays within the screen (column ${HEIGHT} px high)" \
  $([ "$ok" = 1 ] && [ $((Y + HEIGHT)) -le 1024 ]; echo $?)

# ---- Kill when a shutdown hangs ---------------------------------------------------
# A process in work that ignores SIGTERM keeps it Halting until the daemon's
# timeout (60 s); 10 s after the Shutdown click the row offers Kill.
qvm-run work 'trap "" TERM; while :; do sleep 1; done' >/dev/null 2>&1
bh_wait_state work Running 900
sleep 1
open_qubes shutdown "$blue"
kx=$vx ky=$vy
click_at "${kx:-0}" "${ky:-0}"
xdotool key Escape 2>/dev/null
bh_wait_state work Halting 50
halting=$?
sleep $((10 + 1))
still=$(bh_state_of work)
open_qubes kill-offered "$blue"
kx=$vx ky=$vy
t0=$(date +%s)
click_at "${kx:-0}" "${ky:-0}"
xdotool key Escape 2>/dev/null
bh_wait_state work Halted 150
killed=$?
bh_result "a shutdown that hangs: work still $still 11 s after Shutdown, Kill offered (at ${kx:-?},${ky:-?}) halts it in $(($(date +%s) - t0)) s" \
  $([ $halting -eq 0 ] && [ "$still" = Halting ] && [ $killed -eq 0 ]; echo $?)

# ---- the starting spinner, the clock ---------------------------------------------
# personal's bwrap waits (hold-start) so it stays Transient; its chip turns a
# spinner (two shots of the panel's left part differ) until it runs, and then
# the same part stands still.
xdotool mousemove 640 600 2>/dev/null # no tooltip over a chip
strip() { shot "$1" && convert "$shots/shell-widgets-$1.png" -crop 860x32+0+0 +repage "$bh_tmp/strip-$1.png"; }
differ() { compare -metric AE "$bh_tmp/strip-$1.png" "$bh_tmp/strip-$2.png" null: 2>&1 | cut -d' ' -f1; }
moves() { strip "$1-a" && sleep 0.2 && strip "$1-b" && [ "$(differ "$1-a" "$1-b")" != 0 ]; } # NAME
touch "$hold/hold-start"
from=$(bh_log_from "$bh_tmp/shell.log")
qvm-start personal >/dev/null 2>&1 &
bh_bg_pids+=($!)
bh_wait_grep "$bh_tmp/shell.log" 'domains: chip personal: starting, with a spinner' 300 "$from"
shown=$?
bh_until 20 moves spin
turning=$?
bh_result "personal starting (held: $(bh_state_of personal)): its chip shows a turning spinner ($(differ spin-a spin-b) px changed in 0.2 s)" \
  $([ $shown -eq 0 ] && [ $turning -eq 0 ] && [ "$(bh_state_of personal)" = Transient ]; echo $?)
rm -f "$hold/hold-start"
bh_wait_state personal Running 900
bh_wait_grep "$bh_tmp/shell.log" 'domains: chip personal: Running' 300 "$from"
running=$?
! moves still
bh_result "once personal runs the spinner is gone: the panel stands still ($(differ still-a still-b) px changed in 0.2 s)" \
  $([ $running -eq 0 ] && [ "$(differ still-a still-b)" = 0 ]; echo $?)
# The clock: the text the panel's label got last is this minute (or the one
# before, when the minute turned since). GLib pads the day with a figure
# space (U+2007) where date pads with a space.
shown=$(grep -o 'clock: .*' "$bh_tmp/shell.log" | tail -n1 | cut -c8- | sed 's/\xe2\x80\x87/ /g')
bh_result "the clock shows the current minute ('$shown')" \
  $([ -n "$shown" ] && { [ "$shown" = "$(date +'%a %e %b  %H:%M')" ] || [ "$shown" = "$(date -d '-1 min' +'%a %e %b  %H:%M')" ]; }; echo $?)

kill -0 "$shell_pid" 2>/dev/null
bh_result "the shell is still running" $?
bh_stop_daemon
rm -rf "$hold"
if [ "$bh_failed" -gt 0 ]; then
  echo "# shell log:"; bh_diag <"$bh_tmp/shell.log"
fi
bh_done
