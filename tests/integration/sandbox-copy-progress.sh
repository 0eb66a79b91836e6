#!/usr/bin/env bash
# sandbox-copy-progress.sh — the progress window of qvm-copy in a qube
# (docs/filecopy.md, "Progress"): qvm-copy-to-vm in work, started without a
# terminal (as from the desktop), shows bulkhead-copy-progress; it runs in
# work, so it reaches the desktop (a private Xvfb) as a guid window framed
# in work's blue with the title prefix [work]. Its Cancel stops the copy:
# qvm-copy-to-vm exits 130 and personal keeps nothing of it. A copy that
# succeeds closes its window by itself. --no-gui shows none (control that
# the window came from qvm-copy-to-vm). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without Xvfb xdotool import

bh_policy 30-test 'bulkhead.Filecopy * work personal allow'

bh_start_xvfb
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend and guid on Xvfb"
bh_expect "personal runs (a call does not start its target)" qvm-run -p personal true

# pixel WINDOW DX DY: the colour (#rrggbb) at (DX, DY) in the window, from
# a screenshot of the root (left in $bh_tmp/shot.png).
pixel() {
  local X Y WIDTH HEIGHT
  eval "$(xdotool getwindowgeometry --shell "$1")"
  import -window root "$bh_tmp/shot.png" 2>/dev/null
  convert "$bh_tmp/shot.png" -crop "1x1+$((X + $2))+$((Y + $3))" -depth 8 txt:- 2>/dev/null |
    grep -o '#[0-9A-Fa-f]\{6\}' | head -n1 | tr 'A-F' 'a-f'
}
# wait_pixel WINDOW DX DY TEST: until the pixel passes TEST (a [[ ]]
# pattern test on $c), 15 s at most: guid paints after the window maps.
wait_pixel() {
  local i
  for i in $(seq 75); do
    c=$(pixel "$1" "$2" "$3")
    eval "$4" && return 0
    sleep 0.2
  done
  return 1
}

bh_run qvm-run -p work 'head -c 256M /dev/urandom > ~/big.bin && echo small > ~/small.txt && echo made'
bh_same "work holds a 256 MiB file and a small one" "made" "$bh_out"

# A copy that succeeds: its window closes by itself (the command's stderr
# is a pipe, not a terminal, and work has a display).
bh_run qvm-run -p work 'qvm-copy-to-vm personal ~/small.txt'
bh_result "a small copy without a terminal exits 0 ($bh_rc)" "$bh_rc"
bh_run qvm-run -p work 'for i in $(seq 100); do pgrep -x bulkhead-copy-p >/dev/null || { echo gone; break; }; sleep 0.1; done'
bh_same "and its progress window has closed by itself" "gone" "$bh_out"

# The receiver in personal is stopped once it has 1 MiB, so the copy stands
# still while the window is looked at and cancelled (a fast machine would
# otherwise finish 256 MiB first).
qvm-run -p work 'qvm-copy-to-vm personal ~/big.bin; echo "rc=$?"' >"$bh_tmp/copy.out" 2>"$bh_tmp/copy.err" &
copy_job=$!
bh_run qvm-run -p personal 'for i in $(seq 10000); do
    p=$(pgrep -x bulkhead-file-r) && r=$(awk "/^rchar/{print \$2}" /proc/$p/io 2>/dev/null) &&
      [ "${r:-0}" -gt 1048576 ] && kill -STOP $p && echo "$p" && break
    sleep 0.002
  done'
receiver=$bh_out
bh_result "control: personal's receiver got 1 MiB and is held (pid $receiver)" $([ -n "$receiver" ]; echo $?)

win=$(bh_find_window '^\[work\] Copying files to personal')
bh_result "the progress window is on the desktop as '$(xdotool getwindowname "$win" 2>/dev/null)'" \
  $([ -n "$win" ]; echo $?)
eval "$(xdotool getwindowgeometry --shell "$win")"
wait_pixel "$win" 1 $((HEIGHT / 2)) '[ "$c" = "#3465a4" ]'
bh_result "framed in work's blue #3465a4 (got $c)" $?
# The Cancel button: the window's bottom-right (18 px margins, about
# 78x34, whatever the frame's width); painted once it is not black.
wait_pixel "$win" $((WIDTH - 60)) $((HEIGHT - 36)) '[ -n "$c" ] && [ "$c" != "#000000" ]'
bh_result "the window's content is drawn (Cancel's pixel $c)" $?
cp "$bh_tmp/shot.png" "$BH_BUILD_ROOT/meson-logs/sandbox-copy-progress.png" 2>/dev/null # for a look

xdotool mousemove --window "$win" $((WIDTH - 60)) $((HEIGHT - 36)) click 1 2>/dev/null
bh_run qvm-run -p work 'for i in $(seq 200); do pgrep -x bulkhead-file-s >/dev/null || { echo stopped; break; }; sleep 0.1; done'
bh_same "Cancel in the window stops the sender" "stopped" "$bh_out"
# The receiver goes on: it sees the stream cut short and rolls back.
qvm-run -p personal "kill -CONT $receiver" >/dev/null 2>&1
wait "$copy_job"
bh_result "qvm-copy-to-vm exits 130 and says it was cancelled ($(cat "$bh_tmp/copy.out") $(tr '\r' '\n' <"$bh_tmp/copy.err" | tail -n2 | tr '\n' ' '))" \
  $(grep -qx 'rc=130' "$bh_tmp/copy.out" && grep -q 'cancelled in the progress window' "$bh_tmp/copy.err"; echo $?)
bh_run qvm-run -p personal 'for i in $(seq 100); do pgrep -x bulkhead-file-r >/dev/null || break; sleep 0.1; done
  find ~/QubesIncoming -name "big*" | wc -l; ls -A ~/QubesIncoming/.bulkhead-partial | wc -l'
bh_same "personal keeps nothing of it, not even in staging" "$(printf '0\n0')" "$bh_out"
bh_run qvm-run -p work 'sha256sum < ~/big.bin >/dev/null && echo kept'
bh_same "and work still has the file" "kept" "$bh_out"

bh_run qvm-run -p work 'qvm-copy-to-vm --no-gui personal ~/small.txt & sleep 1; pgrep -x bulkhead-copy-p || echo none; wait'
bh_same "control: with --no-gui no window is started" "none" "$bh_out"

bh_done
