#!/usr/bin/env bash
# sandbox-fm-thunar.sh — the real Thunar in a qube shows and runs the
# shipped "Copy to other qube…" / "Move to other qube…" (docs/filecopy.md,
# "File managers"): Thunar in work, on a private Xvfb under openbox through
# work's gui-agent and guid, loads the custom actions from
# /run/bulkhead/share/config/Thunar/uca.xml (work's own ~/.config has no
# uca.xml). The test selects the folder's files (Ctrl+A), opens their
# context menu (the Menu key: the right-click menu of the selection), takes
# the item by keyboard (Up from the end: ... Copy to other qube…, Move to
# other qube…, Properties…) and Enter; dom0's real bulkhead-ask opens (the
# shipped kind of rule, ask, personal preselected) and is answered with
# Enter after its one second of focus. Checked: a name with spaces and one
# starting with '-' arrive intact in personal; copy keeps the sources, move
# removes them (so the item taken was the one meant); control: personal has
# nothing before. Screenshots in build/tests/integration/shots/fm-thunar-*.
# Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without Xvfb openbox xdotool import thunar

bh_policy 30-test 'bulkhead.Filecopy * work @default ask default_target=personal'
export BH_ASK_TIMEOUT_S=30

bh_start_xvfb
openbox >"$bh_tmp/openbox.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 100); do xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break; sleep 0.1; done
shots="$BH_BUILD_ROOT/tests/integration/shots"
mkdir -p "$shots"

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend and guid on Xvfb"
bh_expect "personal runs" qvm-run -p personal true

bh_run qvm-run -p work 'mkdir -p ~/fm && cd ~/fm && echo first > "thunar a b.txt" && echo second > ./-thunar-lead.txt &&
  test ! -e ~/.config/Thunar/uca.xml && echo ready'
bh_same "work has two files and no uca.xml of its own" "ready" "$bh_out"

qvm-run -p work 'thunar ~/fm' >"$bh_tmp/thunar.out" 2>"$bh_tmp/thunar.err" &
win=$(bh_find_window '^\[work\] fm - Thunar')
bh_result "Thunar's window is on the desktop ('$(xdotool getwindowname "$win" 2>/dev/null)')" $([ -n "$win" ]; echo $?)
bh_run qvm-run -p personal 'ls -A ~/QubesIncoming/work 2>/dev/null | wc -l'
bh_same "control: personal has nothing from work yet" "0" "$bh_out"

# incoming N: until personal's QubesIncoming/work holds N names (60 s).
incoming() {
  local i
  for i in $(seq 300); do
    bh_run qvm-run -p personal 'ls -A ~/QubesIncoming/work 2>/dev/null | wc -l'
    [ "$bh_out" = "$1" ] && return 0
    sleep 0.2
  done
  return 1
}
# action NAME UPS: select all in Thunar, its context menu, the item UPS
# lines above the end, Enter; then the dialog, answered with Enter.
action() {
  local name=$1 ups=$2 i
  xdotool windowactivate --sync "$win" 2>/dev/null
  for i in $(seq 50); do [ "$(xdotool getwindowfocus 2>/dev/null)" = "$win" ] && break; sleep 0.1; done
  xdotool key --clearmodifiers ctrl+a
  # The menu is a popup of work's: one more visible guid window.
  local before
  before=$(xdotool search --onlyvisible --name '' 2>/dev/null | wc -l)
  xdotool key --clearmodifiers Menu
  for i in $(seq 100); do
    [ "$(xdotool search --onlyvisible --name '' 2>/dev/null | wc -l)" -gt "$before" ] && break
    sleep 0.1
  done
  echo "# $name: the menu appeared after $i tenths"
  for i in $(seq "$ups"); do xdotool key --clearmodifiers Up; done
  sleep 0.3 # the highlight is drawn in the qube, then copied by guid: a screenshot only
  import -window root "$shots/fm-thunar-$name-menu.png" 2>/dev/null
  xdotool key --clearmodifiers Return
  local dialog
  dialog=$(bh_find_window '^Bulkhead: work asks to copy files')
  bh_result "$name: the item opens dom0's dialog ('$(xdotool getwindowname "$dialog" 2>/dev/null)')" \
    $([ -n "$dialog" ]; echo $?)
  import -window root "$shots/fm-thunar-$name-dialog.png" 2>/dev/null
  xdotool windowactivate --sync "$dialog" 2>/dev/null
  sleep 1.5 # the dialog takes no answer in its first second of focus (docs/ask.md)
  xdotool key --clearmodifiers Return
}

action copy 3
incoming 2
bh_run qvm-run -p personal 'cd ~/QubesIncoming/work && cat "thunar a b.txt" ./-thunar-lead.txt'
bh_same "copy: both files arrived intact in personal (the preselected target)" "$(printf 'first\nsecond')" "$bh_out"
bh_run qvm-run -p work 'ls -A ~/fm | wc -l'
bh_same "copy: work keeps them" "2" "$bh_out"

action move 2
incoming 4
bh_run qvm-run -p personal 'cd ~/QubesIncoming/work && cat "thunar a b (1).txt" "./-thunar-lead (1).txt"'
bh_same "move: both arrived again (as 'NAME (1)')" "$(printf 'first\nsecond')" "$bh_out"
for i in $(seq 100); do
  bh_run qvm-run -p work 'ls -A ~/fm | wc -l'
  [ "$bh_out" = 0 ] && break
  sleep 0.1
done
bh_same "move: work's folder is empty" "0" "$bh_out"

bh_done
