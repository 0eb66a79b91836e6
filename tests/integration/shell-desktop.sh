#!/usr/bin/env bash
# shell-desktop.sh — bulkhead-shell as a user sees it: a private Xvfb with
# openbox (started as ./run starts it), bulkheadd with real sandboxes on a
# private bus, and the shell. Checked from outside, as a user would:
#   the panel is a dock at the top with a strut that openbox honours (xprop)
#   it shows the running qubes by their kinds' label icons (shapes and colours
#   matched in a screenshot), as do the menu's qube headings
#   clicking Start beside a halted qube (xdotool) makes it Running (qvm-ls);
#   one the daemon refuses to start turns red with the reason
#   the menu key, "personal", Enter -> foot in personal, framed in yellow
#   the menu key, "new disp", Enter -> foot in a new disposable, framed in red,
#   gone when foot exits
#   the window list: each window's button has its qube's label-colour square
#   (yellow, red; no blue for work, which runs without a window); clicking
#   personal's button activates its window
#   qvm-pause greys a chip; a qube killed from outside (qvm-kill) leaves the
#   panel; one whose init dies shows crashed in red
#   bulkheadd stopped and started again: the panel empties and fills again
# Screenshots are kept in $BH_BUILD_ROOT/tests/display/shots/shell-*.png.
# Prints TAP. Reuses daemon-lib.sh for the private bus, XDG dirs and clean-up.
set -u
. "$(dirname "$0")/daemon-lib.sh"
# A launch from the menu once started its qube and showed no window, too
# rarely to reproduce on demand: a failure keeps the run's whole logs.
bh_keep_logs=1

bh_skip_without Xvfb xdotool xprop import convert foot openbox python3
SHELL_BIN="$BH_BUILD_ROOT/shell/bulkhead-shell"
shots="$BH_BUILD_ROOT/tests/display/shots"
mkdir -p "$shots"

export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
unset WAYLAND_DISPLAY
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset +extension XTEST \
  3>"$bh_tmp/display" >"$bh_tmp/xvfb.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 300); do [ -s "$bh_tmp/display" ] && break; sleep 0.1; done
export DISPLAY=":$(tr -d '\n' <"$bh_tmp/display")"

bh_start_openbox
# The control for the strut: without the panel the work area is the screen
# (openbox sets it once it manages the screen).
workarea_before=""
for _ in $(seq 150); do
  workarea_before=$(xprop -root _NET_WORKAREA 2>/dev/null | grep '=' | sed 's/.*= //' | cut -d, -f1-4)
  [ -n "$workarea_before" ] && break
  sleep 0.1
done

bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?

bh_wait_state sys-net Running && bh_wait_state sys-firewall Running
bh_result "the autostart qubes sys-net and sys-firewall run" $?

G_MESSAGES_DEBUG=bh-shell "$SHELL_BIN" >"$bh_shell_log" 2>&1 &
shell_pid=$!
bh_bg_pids+=($shell_pid)

panel=$(bh_find_window '^Bulkhead panel$' 150)
bh_result "bulkhead-shell shows its panel" $([ -n "$panel" ]; echo $?)

# ---- the dock and its strut ---------------------------------------------------
type=$(xprop -id "$panel" _NET_WM_WINDOW_TYPE 2>/dev/null)
strut=$(xprop -id "$panel" _NET_WM_STRUT_PARTIAL 2>/dev/null | sed 's/.*= //')
eval "$(xdotool getwindowgeometry --shell "$panel" 2>/dev/null)"
bh_result "the panel is a dock (${type##*= }) at $X,$Y, ${WIDTH}x$HEIGHT" \
  $([ "${type##*= }" = "_NET_WM_WINDOW_TYPE_DOCK" ] && [ "$X" = 0 ] && [ "$Y" = 0 ] &&
    [ "$WIDTH" = 1280 ] && [ "$HEIGHT" -le 32 ]; echo $?)
bh_same "its strut reserves 32 px along the whole top edge" "0, 0, 32, 0, 0, 0, 0, 0, 0, 1279, 0, 0" "$strut"
workarea=""
for _ in $(seq 50); do
  workarea=$(xprop -root _NET_WORKAREA 2>/dev/null | sed 's/.*= //' | cut -d, -f1-4)
  [ "$workarea" = "0, 32, 1280, 992" ] && break
  sleep 0.1
done
bh_result "openbox honours it: work area '$workarea' (was '$workarea_before' without the panel)" \
  $([ "$workarea" = "0, 32, 1280, 992" ] && [ "$workarea_before" = "0, 0, 1280, 1024" ]; echo $?)

# ---- pixels -------------------------------------------------------------------
shot() { import -window root "$shots/shell-$1.png" 2>/dev/null; }
# How many pixels of colour $2 (#rrggbb) are in region $3 (WxH+X+Y) of shot $1.
count() {
  convert "$shots/shell-$1.png" -crop "$3" +repage -depth 8 txt:- 2>/dev/null |
    grep -ci -- "$2"
}
# The qube's chip: its kind's label icon, matched in shape and colour
# (shell-icon.py; a plain square of the colour does not pass).
icon_py="$(dirname "$0")/shell-icon.py"
panel_has() { # SHOT KIND LABEL: that label icon is on the panel
  /usr/bin/python3 "$icon_py" "$shots/shell-$1.png" 1280x32+0+0 "$BH_BUILD_ROOT/icons" "$2" "$3" >/dev/null
}
wait_panel() { # NAME KIND LABEL yes|no: wait until the panel does (not) show it
  local i
  for i in $(seq 50); do
    shot "$1"
    if panel_has "$1" "$2" "$3"; then [ "$4" = yes ] && return 0; else [ "$4" = no ] && return 0; fi
    sleep 0.2
  done
  return 1
}
red='#cc0000' green='#73d216' blue='#3465a4' yellow='#edd400'
wait_panel start service green yes
panel_has start service red; has_red=$?
panel_has start app blue; has_blue=$?
panel_has start app yellow; has_yellow=$?
bh_result "the panel shows sys-net's and sys-firewall's service icons (red, green), not halted work's or personal's app icons (blue, yellow): $(/usr/bin/python3 "$icon_py" "$shots/shell-start.png" 1280x32+0+0 "$BH_BUILD_ROOT/icons" service red)" \
  $([ $has_red -eq 0 ] && [ $has_blue -ne 0 ] && [ $has_yellow -ne 0 ]; echo $?)

# Positions come from the screenshots (shell-find.py).
find_py="$(dirname "$0")/shell-find.py"
click_at() { xdotool mousemove "$1" "$2" click 1 2>/dev/null; }

# A popover is drawn when its row of that colour is in a new shot.
row_shown() { # SHOT #rrggbb
  shot "$1"
  python3 "$find_py" "$shots/shell-$1.png" verb "$2" >/dev/null
}
read -r qx qy < <(python3 "$find_py" "$shots/shell-start.png" button 1)
click_at "$qx" "$qy"
bh_until 30 row_shown popover "$blue"
read -r sx sy < <(python3 "$find_py" "$shots/shell-popover.png" verb "$blue")
bh_result "the Qubes popover lists work with a Start button (at $sx,$sy)" $([ -n "${sx:-}" ]; echo $?)
click_at "$sx" "$sy"
bh_wait_state work Running 900
started=$?
# Start opens no window: a [work] window would mean another entry was hit,
# and every window in a qube starts with a run the daemon logs.
bh_result "clicking Start beside work makes it Running in qvm-ls (state $(bh_state_of work)), runs nothing in it" \
  $([ $started -eq 0 ] && ! grep -Eq '\[work\] run (as [a-z]+: |app )' "$bh_log" && ! xdotool search --name '^\[work\] ' >/dev/null 2>&1; echo $?)
xdotool key Escape 2>/dev/null
wait_panel work-running app blue yes
bh_result "the panel shows work's app icon in blue" $?

# A start that fails: a template whose root is no root filesystem (the daemon
# refuses it with a reason). Its row turns red with the reason under the list;
# the control: no such red before the click.
purple='#75507b'
qvm-create -C TemplateVM -l purple broken >/dev/null 2>&1 &&
  qvm-prefs broken root_path /nonexistent-root >/dev/null 2>&1
read -r qx qy < <(python3 "$find_py" "$shots/shell-start.png" button 1)
click_at "$qx" "$qy"
bh_until 30 row_shown popover-broken "$purple"
red_before=$(count popover-broken '#ef2929' 600x500+0+34)
read -r bx by < <(python3 "$find_py" "$shots/shell-popover-broken.png" verb "$purple")
click_at "${bx:-0}" "${by:-0}"
red_after=0
for _ in $(seq 50); do
  shot broken-failed
  red_after=$(count broken-failed '#ef2929' 600x500+0+34)
  [ "$red_after" -ge 20 ] && break
  sleep 0.2
done
bh_result "Start on a template with no root says failed in red ($red_before -> $red_after red px), still $(bh_state_of broken)" \
  $([ "$red_before" -eq 0 ] && [ "$red_after" -ge 20 ] && [ "$(bh_state_of broken)" = Halted ]; echo $?)
xdotool key Escape 2>/dev/null
popover_gone() { shot popover-closed; [ "$(count popover-closed '#ef2929' 600x500+0+34)" -eq 0 ]; }
bh_until 30 popover_gone

# ---- the menu, by keyboard ------------------------------------------------------
bh_menu_search "$panel" personal
typed=$? # 1: the shell never filtered for all of it (keys lost)
menu_shows() { shot "$1"; [ "$(count "$1" "$2" 400x300+0+34)" -ge 30 ]; } # SHOT #rrggbb
bh_until 30 menu_shows menu "$yellow"
# Only personal's entry is left, its yellow bar beside it, below the panel.
yellow_in_menu=$(count menu "$yellow" 400x300+0+34)
bh_result "the menu opened by Super+Space filters to personal's entry (the shell filtered for it: $([ $typed -eq 0 ] && echo yes || echo no); yellow bar: $yellow_in_menu px)" \
  $([ $typed -eq 0 ] && [ "$yellow_in_menu" -ge 30 ]; echo $?)
heading=$(/usr/bin/python3 "$icon_py" "$shots/shell-menu.png" 400x300+0+34 "$BH_BUILD_ROOT/icons" app yellow)
bh_result "personal's heading in the menu has the yellow app qube icon ($heading)" $?
xdotool key Return 2>/dev/null
win=$(bh_find_window '^\[personal\] ' 300)
bh_result "Enter launches foot in personal (window '$(xdotool getwindowname "$win" 2>/dev/null)')" \
  $([ -n "$win" ]; echo $?)
# The launched window gets the focus: the launch is the user's request (guid
# alone gives a qube's new window the focus only while the user works in that
# qube, and personal had no window; the keys typed for it stayed on the panel).
# The shell activates it as a pager does, since no other window was activated.
launched_active() { [ $(($(xprop -root _NET_ACTIVE_WINDOW 2>/dev/null | grep -o '0x[0-9a-f]*' | head -n1))) -eq $((win)) ]; }
bh_until 100 launched_active
rc=$?
bh_result "the launched [personal] foot is the active window (active $(xprop -root _NET_ACTIVE_WINDOW 2>/dev/null | grep -o '0x[0-9a-f]*' | head -n1), window $win)" $rc
frame_of() { # WINDOW SHOT: the colour of its left frame half-way down, in a new shot
  eval "$(xdotool getwindowgeometry --shell "$1" 2>/dev/null)"
  shot "$2"
  convert "$shots/shell-$2.png" -crop "1x1+$((X + 1))+$((Y + HEIGHT / 2))" -depth 8 txt:- \
    2>/dev/null | grep -o '#[0-9A-Fa-f]\{6\}' | head -n1 | tr 'A-F' 'a-f'
}
framed_in() { [ "$(frame_of "$1" "$2")" = "$3" ]; } # WINDOW SHOT #rrggbb
bh_until 30 framed_in "$win" personal "$yellow"
frame=$(frame_of "$win" personal)
eval "$(xdotool getwindowgeometry --shell "$win" 2>/dev/null)"
bh_result "it is framed in personal's yellow ($frame) below the panel (y $Y)" \
  $([ "$frame" = "$yellow" ] && [ "$Y" -ge 32 ]; echo $?)
wait_panel personal-running app yellow yes
bh_result "the panel shows personal's app icon in yellow" $?

# The menu key with the menu open closes it, as Escape does, and types no
# space into the search (the popover holds the keyboard, so the root's grab
# never sees the key: the popover's own key handler must).
bh_menu_search "$panel" 'per'
from=$(bh_log_from "$bh_shell_log")
xdotool key super+space 2>/dev/null
bh_wait_grep "$bh_shell_log" 'menu: closed' 100 "$from"
rc=$?
spaced=$(tail -n +"$from" "$bh_shell_log" | grep -c "menu: search 'per '")
shot menu-key-closed
bh_result "Super+Space with the menu open closes it (logged: $([ $rc -eq 0 ] && echo closed || echo 'not closed')) and types no space into the search ($spaced searches for 'per ')" \
  $([ $rc -eq 0 ] && [ "$spaced" -eq 0 ]; echo $?)

# A disposable from the menu: "disp" leaves only default-dvm's "New disposable:
# Terminal"; it opens [dispN] foot in red, and typing exit in it ends the
# command, after which the shell kills the disposable and the daemon removes it.
bh_menu_search "$panel" 'new disp'
xdotool key Return 2>/dev/null
dwin=$(bh_find_window '^\[disp[0-9]*\] ' 450)
title=$(xdotool getwindowname "$dwin" 2>/dev/null)
disp=$(printf '%s' "$title" | sed -n 's/^\[\(disp[0-9]*\)\].*/\1/p')
bh_until 30 framed_in "$dwin" disposable "$red"
frame=$(frame_of "$dwin" disposable)
bh_result "'new disp' + Enter opens a disposable's foot ('$title') in red ($frame)" \
  $([ -n "$disp" ] && [ "$frame" = "$red" ]; echo $?)

# The window list: each window's button holds its qube's label-colour square
# (a filled 14 px square on the light button, shell-find.py "swatches"; the
# chips' icons sit on the dark panel and do not count). The control: work
# runs but has no window, so no blue square.
swatches() { python3 "$find_py" "$shots/shell-$1.png" swatches "$2" 2>/dev/null | wc -l; } # SHOT #rrggbb
listed() { shot window-list; [ "$(swatches window-list "$yellow")" = 1 ] && [ "$(swatches window-list "$red")" = 1 ]; }
bh_until 30 listed
rc=$?
bh_result "the window list shows a yellow square for [personal] foot ($(swatches window-list "$yellow")) and a red one for [$disp] foot ($(swatches window-list "$red")), no blue one for windowless work ($(swatches window-list "$blue"))" \
  $([ $rc -eq 0 ] && [ "$(swatches window-list "$blue")" = 0 ]; echo $?)

# The window list: personal's foot is under the disposable's (both placed at
# the top); its button (the right-most yellow square on the panel: the chip
# comes first) activates it. The control: it was not the active window.
active() { xprop -root _NET_ACTIVE_WINDOW 2>/dev/null | grep -o '0x[0-9a-f]*' | head -n1; }
before=$(active)
read -r wx wy < <(python3 "$find_py" "$shots/shell-disposable.png" last "$yellow")
click_at "${wx:-0}" "${wy:-0}"
now=""
for _ in $(seq 30); do
  now=$(active)
  [ $((now)) -eq $((win)) ] && break
  sleep 0.1
done
bh_result "clicking personal's button in the window list (at $wx,$wy) activates [personal] foot ($before -> $now)" \
  $([ $((now)) -eq $((win)) ] && [ $((before)) -ne $((win)) ]; echo $?)
shot raised

xdotool windowfocus --sync "$dwin" 2>/dev/null
xdotool type --delay 50 --window "$dwin" 'exit' 2>/dev/null
# Not --window: xdotool (3.20160805) picks XTEST or XSendEvent per event by
# the focus at that moment; foot ends on the press, so the release went by
# XSendEvent and the server kept Return down, dropping the next Return press.
xdotool key Return 2>/dev/null
gone=1
for _ in $(seq 150); do
  if [ -n "$disp" ] && ! qvm-ls 2>/dev/null | grep -q "^$disp "; then gone=0; break; fi
  sleep 0.2
done
bh_result "exit in it ends the command and $disp is removed" $gone
# No key is left down in the X server (a held Return would eat the next one).
held=$(python3 -c 'import ctypes
x = ctypes.CDLL("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
d = x.XOpenDisplay(None)
k = (ctypes.c_char * 32)()
x.XQueryKeymap(ctypes.c_void_p(d), k)
print(" ".join(str(i * 8 + b) for i in range(32) for b in range(8) if k.raw[i] >> b & 1))' 2>&1)
bh_result "after exit + Return in it the X server holds no key down (keycodes down: '${held}')" \
  $([ -z "$held" ]; echo $?)

# A launch never takes the focus from a window the user activated meanwhile:
# untrusted's Terminal from the menu (untrusted is halted: its start leaves
# seconds to act), then [personal] foot activated by the user before
# untrusted's window comes. It comes unfocused, personal keeps the focus, and
# the shell says why. The control is the check above: with nothing activated
# meanwhile, the launched window is focused.
bh_menu_search "$panel" untrusted
# After the disposable's foot ended on a Return: that Return is sent by
# XTEST below (its press and its release), as a keyboard would, so the server
# holds no key down and this Return reaches the menu (docs/shell.md).
from=$(bh_log_from "$bh_shell_log")
xdotool key Return 2>/dev/null
bh_wait_grep "$bh_shell_log" 'menu: closed' 100 "$from" # launched: Return closes the menu
xdotool windowactivate --sync "$win" 2>/dev/null
uwin=$(bh_find_window '^\[untrusted\] ' 300)
bh_wait_grep "$bh_shell_log" "untrusted's new window .* left unfocused" 100 "$from"
said=$?
sleep 1 # a late activation by the shell would show here
act=$(xprop -root _NET_ACTIVE_WINDOW 2>/dev/null | grep -o '0x[0-9a-f]*' | head -n1)
bh_result "a launch after which the user activated [personal] foot leaves untrusted's new window ($uwin) unfocused (active $act, personal $win; the shell said so: $([ $said -eq 0 ] && echo yes || echo no))" \
  $([ -n "$uwin" ] && [ $said -eq 0 ] && [ $((act)) -eq $((win)) ]; echo $?)
qvm-kill untrusted >/dev/null 2>&1
untrusted_gone() { [ -z "$(xdotool search --name '^\[untrusted\] ' 2>/dev/null)" ]; }
bh_until 100 untrusted_gone

# ---- live states ----------------------------------------------------------------
qvm-pause personal >/dev/null 2>&1
wait_panel personal-paused app yellow no
paused=$?
left=$(count personal-paused "$yellow" 1280x32+0+0)
bh_result "qvm-pause personal greys its chip and its window's button (no icon, $left px of pure yellow left)" \
  $([ $paused -eq 0 ] && [ "$left" -lt 20 ]; echo $?)
qvm-unpause personal >/dev/null 2>&1
wait_panel personal-unpaused app yellow yes
bh_result "qvm-unpause personal brings its colour back" $?

qvm-kill work >/dev/null 2>&1
wait_panel work-killed app blue no
st=$? # before the result line: its $(...) would reset $?
bh_result "qvm-kill work takes it off the panel (state $(bh_state_of work))" $st

# personal's init killed from outside, as sandbox-desktop does to work.
init=""
for p in $(pgrep -P "$bh_daemon_pid"); do
  if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- '--hostname personal '; then
    init=$(tr -d ' ' <"/proc/$p/task/$p/children" 2>/dev/null)
  fi
done
[ -n "$init" ] && kill -KILL "$init"
crashed=1
for _ in $(seq 50); do
  shot personal-crashed
  if [ "$(bh_state_of personal)" = Crashed ] && [ "$(count personal-crashed '#ef2929' 1280x32+0+0)" -ge 10 ]; then
    crashed=0; break
  fi
  sleep 0.2
done
bh_result "personal's init killed ($init): Crashed, and the panel says so in red" $crashed

# The daemon goes away and comes back: the shell follows the bus name and
# reads the qubes again, without a restart of its own.
bh_stop_daemon
wait_panel daemon-gone service green no
bh_result "the panel empties when bulkheadd stops" $?
bh_start_daemon --backend sandbox
bh_wait_state sys-firewall Running
wait_panel daemon-back service green yes
bh_result "and shows sys-firewall again when bulkheadd is back" $?

kill -0 "$shell_pid" 2>/dev/null
bh_result "the shell is still running" $?
if [ "$bh_failed" -gt 0 ]; then
  echo "# shell log:"; bh_diag <"$bh_shell_log"
fi
bh_done
