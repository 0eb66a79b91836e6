#!/usr/bin/env bash
# ask-dialog.sh BULKHEAD-ASK — the ask dialog on a private Xvfb (with-xvfb.sh)
# under openbox, driven with xdotool (docs/ask.md):
#   - a command line offering the source, dom0, or a default outside the
#     targets is refused;
#   - the default target is preselected; typing narrows the list to what
#     matches among the allowed targets, and a name that is not allowed
#     (sys-net, dom0) matches nothing, so Enter chooses nothing;
#   - Enter in the dialog's first second is refused, after it works; losing
#     the focus to another window starts the second again;
#   - Escape and the timeout deny (exit 1, nothing printed).
# Screenshots in <build>/tests/display/shots/ask-*.png. Prints TAP.
set -u
ask=$1
shots="${BH_BUILD_ROOT:-.}/tests/display/shots"
mkdir -p "$shots"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bh-ask.XXXXXX")
n=0
failed=0
pids=()
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
result() { if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1"; fi; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

for tool in openbox xdotool xprop import; do
  command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

export HOME="$tmp/home"
mkdir -p "$HOME"
openbox --config-file /etc/xdg/openbox/rc.xml >"$tmp/openbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break; sleep 0.1; done

# The pointer away from where the dialogs open (the middle of the screen):
# with it over a dialog, the X server may count that dialog as focused
# (pointer focus) while openbox moves the focus between windows.
xdotool mousemove 5 5 2>/dev/null

base=(--source work --label blue --service "copy files")

# --- refused command lines ---------------------------------------------------
"$ask" "${base[@]}" --target work >/dev/null 2>"$tmp/err"; rc=$?
result "the source as a target is refused (exit $rc: $(cat "$tmp/err"))" $([ $rc -eq 2 ]; echo $?)
"$ask" "${base[@]}" --target dom0 >/dev/null 2>"$tmp/err"; rc=$?
result "dom0 as a target is refused (exit $rc: $(cat "$tmp/err"))" $([ $rc -eq 2 ]; echo $?)
"$ask" "${base[@]}" --target personal --default vault >/dev/null 2>"$tmp/err"; rc=$?
result "a default outside the targets is refused (exit $rc: $(cat "$tmp/err"))" $([ $rc -eq 2 ]; echo $?)
"$ask" "${base[@]}" --target personal --focus-ms 200 >/dev/null 2>"$tmp/err"; rc=$?
result "a focus time under a second is refused (exit $rc)" $([ $rc -eq 2 ]; echo $?)

# start NAME ARGS…: a dialog in the background; its stdout in $tmp/NAME.out,
# its window id in $wid, its pid in $pid.
start() {
  local name=$1; shift
  "$ask" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  pids+=($pid)
  wid=""
  # Up to 60 s: a GTK start on a loaded machine (CI, load ~20) can take 15.
  for _ in $(seq 600); do
    wid=$(xdotool search --onlyvisible --pid "$pid" --name '^Bulkhead: ' 2>/dev/null | head -n1)
    [ -n "$wid" ] && break
    sleep 0.1
  done
}
now() { date +%s%N; }
alive() { kill -0 "$1" 2>/dev/null; }
# wait_exit PID SECONDS: sets rc to the exit status, or 124 when still running.
wait_exit() {
  local i
  for i in $(seq $(($2 * 10))); do alive "$1" || break; sleep 0.1; done
  if alive "$1"; then rc=124; return; fi
  wait "$1"
  rc=$?
}

# --- Enter in the first second refused, then accepted; type-ahead -------------
# Retried when the machine is too slow to press Enter within the second.
for attempt in 1 2 3; do
  start a "${base[@]}" --target personal --target untrusted --target vault --default personal --timeout 60
  [ -n "$wid" ] || break
  xdotool windowactivate --sync "$wid" 2>/dev/null
  t0=$(now)
  xdotool key --clearmodifiers Return
  t1=$(now)
  early_ms=$(((t1 - t0) / 1000000))
  sleep 0.2
  if [ "$early_ms" -lt 800 ]; then break; fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
result "the dialog appears under openbox and has the focus" \
  $([ -n "$wid" ] && [ "$(xdotool getactivewindow 2>/dev/null)" = "$wid" ]; echo $?)
import -window root "$shots/ask-first-second.png" 2>/dev/null && echo "# screenshot: $shots/ask-first-second.png"
result "Enter ${early_ms} ms after the dialog got the focus chooses nothing (still open, nothing printed)" \
  $(alive "$pid" && [ ! -s "$tmp/a.out" ]; echo $?)
sleep 1.2
xdotool type --delay 60 'sys-net'
sleep 0.3
xdotool key --clearmodifiers Return
sleep 0.5
result "'sys-net' (not allowed) matches no target: Enter chooses nothing" $(alive "$pid" && [ ! -s "$tmp/a.out" ]; echo $?)
xdotool key --clearmodifiers ctrl+a BackSpace
xdotool type --delay 60 'dom0'
sleep 0.3
xdotool key --clearmodifiers Return
sleep 0.5
result "'dom0' matches no target either" $(alive "$pid" && [ ! -s "$tmp/a.out" ]; echo $?)
xdotool key --clearmodifiers ctrl+a BackSpace
xdotool type --delay 60 'unt'
sleep 0.5
import -window root "$shots/ask-typed-unt.png" 2>/dev/null && echo "# screenshot: $shots/ask-typed-unt.png"
xdotool key --clearmodifiers Return
wait_exit "$pid" 10
result "after a second, 'unt' + Enter chooses untrusted (exit $rc, printed '$(cat "$tmp/a.out")')" \
  $([ "$rc" -eq 0 ] && [ "$(cat "$tmp/a.out")" = "untrusted" ]; echo $?)

# --- targets in words and colours: a disposable by name, its template's label ----
# purple (#75507b) is nowhere else on the screen: the swatch of the target's label.
start d "${base[@]}" --target personal --target @dispvm:default-dvm --target-label purple --timeout 60
xdotool windowactivate --sync "$wid" 2>/dev/null
sleep 0.5
import -window "$wid" "$tmp/d.png" 2>/dev/null
import -window root "$shots/ask-target-words.png" 2>/dev/null && echo "# screenshot: $shots/ask-target-words.png"
purple=$(convert "$tmp/d.png" -fill black +opaque "#75507b" -fill white -opaque "#75507b" -format "%[fx:round(mean*w*h)]" info: 2>/dev/null)
result "the disposable's row shows its template's label colour (purple pixels: ${purple:-none})" \
  $([ "${purple:-0}" -ge 100 ]; echo $?)
sleep 1
xdotool type --delay 60 'new disp'
sleep 0.5
xdotool key --clearmodifiers Return
wait_exit "$pid" 10
result "'new disp' finds 'New disposable (from default-dvm)'; Enter prints the target itself (exit $rc, printed '$(cat "$tmp/d.out")')" \
  $([ "$rc" -eq 0 ] && [ "$(cat "$tmp/d.out")" = "@dispvm:default-dvm" ]; echo $?)

# --- losing the focus starts the second again; the default is preselected -----
start b "${base[@]}" --target personal --target untrusted --default personal --timeout 60
xdotool windowactivate --sync "$wid" 2>/dev/null
b_wid=$wid b_pid=$pid
start other --source personal --label yellow --service "open a file" --target work --timeout 60
other_pid=$pid other_wid=$wid
xdotool windowactivate --sync "$other_wid" 2>/dev/null
# Control: the focus really left b (a missing second window would leave b
# focused, and its Enter below would then be taken rightly).
result "control: a second dialog took the focus from the first" \
  $([ -n "$other_wid" ] && [ "$(xdotool getactivewindow 2>/dev/null)" = "$other_wid" ]; echo $?)
sleep 1.5
xdotool windowactivate --sync "$b_wid" 2>/dev/null
t0=$(now)
xdotool key --clearmodifiers Return
t1=$(now)
sleep 0.2
result "back in the dialog after another window had the focus, Enter $(((t1 - t0) / 1000000)) ms later chooses nothing" \
  $(alive "$b_pid" && [ ! -s "$tmp/b.out" ]; echo $?)
sleep 1.3
xdotool key --clearmodifiers Return
wait_exit "$b_pid" 10
result "a second later Enter chooses the preselected default, personal (exit $rc, printed '$(cat "$tmp/b.out")')" \
  $([ "$rc" -eq 0 ] && [ "$(cat "$tmp/b.out")" = "personal" ]; echo $?)

# --- Escape and the timeout deny ------------------------------------------------
xdotool windowactivate --sync "$other_wid" 2>/dev/null
sleep 1.2
xdotool key --clearmodifiers Escape
wait_exit "$other_pid" 10
result "Escape denies (exit $rc, nothing printed)" $([ "$rc" -eq 1 ] && [ ! -s "$tmp/other.out" ]; echo $?)
start c "${base[@]}" --target personal --default personal --timeout 2
t0=$(now)
wait_exit "$pid" 10
t1=$(now)
result "the timeout denies after $(((t1 - t0) / 1000000)) ms (exit $rc, nothing printed)" \
  $([ "$rc" -eq 1 ] && [ ! -s "$tmp/c.out" ]; echo $?)

echo "1..$n"
[ "$failed" -eq 0 ]
