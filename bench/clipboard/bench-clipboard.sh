#!/usr/bin/env bash
# bench-clipboard.sh [REPS] — the global clipboard's latency for 64 000 bytes
# of text and for a 1920x1080 image (bench/README.md, "bench/clipboard"): a private bus, state and XDG
# dirs (tests/integration/daemon-lib.sh), a private Xvfb, bulkheadd on the
# sandbox backend, clip-app.py (GTK 4) in work ("copy") and in personal
# ("watch"). Per repetition:
#   copy:  from just before `xdotool key ctrl+shift+c` in work's window to the
#          time bulkheadd recorded the copy (GetState's time, its own clock);
#   paste: from just before `xdotool key ctrl+shift+v` in personal's window to
#          the moment personal's app has read the whole text from its own
#          clipboard (the app's GdkClipboard::changed, then read_text; it
#          writes the wall-clock time). Qubes share the host's clock.
# The same for an image: work's app puts a 1920x1080 GdkTexture on its
# clipboard (F9); copy ends when bulkheadd holds its 8 294 400 bytes of
# pixels, paste when personal's app has it as a GdkTexture (read_texture).
# Both include starting xdotool (a few ms). Prints a Markdown table.
set -u
: "${BH_SOURCE_ROOT:?run through meson, or set BH_SOURCE_ROOT}"
. "$BH_SOURCE_ROOT/tests/integration/daemon-lib.sh"
reps=${1:-11}
here="$BH_SOURCE_ROOT/tests/integration"
py=/usr/bin/python3

for tool in Xvfb xdotool gdbus; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { echo "skipped: the sandbox backend needs root here"; exit 0; }
bh_start_xvfb
unset G_DEBUG
bh_start_daemon --backend sandbox || exit 1

for q in work personal; do
  qvm-run -p "$q" 'mkdir -p /home/user/clip && cat > /home/user/clip-app.py' <"$here/clip-app.py"
done
qvm-run work "$py /home/user/clip-app.py copy /home/user/clip" >/dev/null 2>&1
qvm-run personal "$py /home/user/clip-app.py watch /home/user/clip" >/dev/null 2>&1
src=$(bh_find_window '^\[work\] clip-copy') || { echo "no [work] window"; exit 1; }
dst=$(bh_find_window '^\[personal\] clip-watch') || { echo "no [personal] window"; exit 1; }
sleep 1

focus() { xdotool windowfocus --sync "$1" 2>/dev/null; sleep 0.3; }
copied_at() { # the time field of GetState (µs), when it holds SIZE bytes
  gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method org.bulkhead.Clipboard1.GetState 2>/dev/null |
    sed -n "s/.*'size': <uint64 $1>, 'time': <int64 \([0-9]*\)>.*/\1/p"
}

copy_ms=() paste_ms=() xdo_ms=()
for r in $(seq 0 $((reps - 1))); do
  focus "$src"
  xdotool key --window "$src" F5
  sleep 0.3
  t0=$(date +%s%N)
  xdotool key --window "$src" ctrl+shift+c
  t1=""
  for _ in $(seq 200); do
    t1=$(copied_at 64000)
    [ -n "$t1" ] && [ "$((t1 * 1000))" -ge "$t0" ] && break
    t1=""; sleep 0.05
  done
  [ -n "$t1" ] || { echo "repetition $r: the copy did not arrive"; exit 1; }
  focus "$dst"
  t2=$(date +%s%N)
  xdotool key --window "$dst" ctrl+shift+v
  t3=""
  for _ in $(seq 200); do
    if [ "$(qvm-run -p personal 'head -c 5 /home/user/clip/pasted' 2>/dev/null)" = "$(printf %05d "$r")" ]; then
      t3=$(qvm-run -p personal 'cat /home/user/clip/pasted.ns' 2>/dev/null)
      size=$(qvm-run -p personal 'wc -c < /home/user/clip/pasted' 2>/dev/null)
      break
    fi
    sleep 0.05
  done
  [ -n "$t3" ] && [ "$size" -eq 64000 ] || { echo "repetition $r: the paste did not arrive"; exit 1; }
  # The floor both include: xdotool started and a key sent (Shift alone).
  t4=$(date +%s%N); xdotool key --window "$dst" shift; t5=$(date +%s%N)
  xdo_ms+=("$(((t5 - t4) / 1000))")
  copy_ms+=("$(((t1 * 1000 - t0) / 1000))")
  paste_ms+=("$(((t3 - t2) / 1000))")
done

# Images: 1920x1080, the same two measures.
img_bytes=$((1920 * 1080 * 4))
icopy_ms=() ipaste_ms=()
for r in $(seq 0 $((reps - 1))); do
  focus "$src"
  qvm-run -p work 'rm -f /home/user/clip/copied' >/dev/null 2>&1
  xdotool key --window "$src" F9
  n=""
  for _ in $(seq 200); do
    n=$(qvm-run -p work 'cat /home/user/clip/copied' 2>/dev/null | sed -n 's/^1920x1080 //p')
    [ -n "$n" ] && break; sleep 0.05
  done
  [ -n "$n" ] || { echo "image repetition $r: work's app did not take the image"; exit 1; }
  t0=$(date +%s%N)
  xdotool key --window "$src" ctrl+shift+c
  t1=""
  for _ in $(seq 200); do
    t1=$(copied_at "$img_bytes")
    [ -n "$t1" ] && [ "$((t1 * 1000))" -ge "$t0" ] && break
    t1=""; sleep 0.05
  done
  [ -n "$t1" ] || { echo "image repetition $r: the copy did not arrive"; exit 1; }
  focus "$dst"
  qvm-run -p personal 'rm -f /home/user/clip/pasted-image' >/dev/null 2>&1
  t2=$(date +%s%N)
  xdotool key --window "$dst" ctrl+shift+v
  t3=""
  for _ in $(seq 300); do
    # the first pixel's blue is the copy's number: this paste, not an older one
    got=$(qvm-run -p personal 'head -c 13 /home/user/clip/pasted-image | tail -c 1 | od -An -tu1' 2>/dev/null | tr -d ' ')
    if [ "$got" = "$n" ]; then
      t3=$(qvm-run -p personal 'cat /home/user/clip/pasted.ns' 2>/dev/null)
      size=$(qvm-run -p personal 'wc -c < /home/user/clip/pasted-image' 2>/dev/null)
      break
    fi
    sleep 0.05
  done
  [ -n "$t3" ] && [ "$size" -eq $((img_bytes + 10)) ] || { echo "image repetition $r: the paste did not arrive"; exit 1; }
  icopy_ms+=("$(((t1 * 1000 - t0) / 1000))")
  ipaste_ms+=("$(((t3 - t2) / 1000))")
done

stats() { # µs values -> "n | median | p90 | max" in ms
  printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {
    m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.9 + 0.999)]
    printf "%d | %.1f | %.1f | %.1f", NR, m / 1000, p / 1000, v[NR] / 1000 }'
}
echo "## bench-clipboard: 64 000 bytes of text and a 1920x1080 image, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo
echo "| what | n | median ms | p90 ms | max ms |"
echo "|---|---|---|---|---|"
echo "| Ctrl+Shift+C in work to bulkheadd holding the text | $(stats "${copy_ms[@]}") |"
echo "| Ctrl+Shift+V in personal to the text read by personal's app | $(stats "${paste_ms[@]}") |"
echo "| Ctrl+Shift+C in work to bulkheadd holding the 1920x1080 image | $(stats "${icopy_ms[@]}") |"
echo "| Ctrl+Shift+V in personal to the image (GdkTexture) in personal's app | $(stats "${ipaste_ms[@]}") |"
echo "| floor: \`xdotool key\` run to its exit (in both) | $(stats "${xdo_ms[@]}") |"
bh_done >/dev/null
