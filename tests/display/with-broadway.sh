#!/bin/sh
# with-broadway.sh CMD [ARGS...] — run one test on GTK's Broadway backend: a
# private gtk4-broadwayd (a display that is not X11, as ./run starts when
# there is none) and a private session bus, then CMD with GDK_BACKEND=broadway.
# The display number is tried from a per-process start until broadwayd binds
# its port (8080 + N on 127.0.0.1). CMD's exit status is the test's; 77 skips
# where gtk4-broadwayd is missing.
set -u
command -v gtk4-broadwayd >/dev/null || { echo "1..0 # SKIP gtk4-broadwayd is not installed"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bh-broadway.XXXXXX") || exit 99
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=$((100 + $$ % 800))
for _ in 1 2 3 4 5 6 7 8 9 10; do
  gtk4-broadwayd --address 127.0.0.1 ":$n" >"$work/broadwayd.log" 2>&1 &
  pid=$!
  i=0
  while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null && ! grep -q "Listening" "$work/broadwayd.log"; do
    sleep 0.1
    i=$((i + 1))
  done
  grep -q "Listening" "$work/broadwayd.log" && break
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=
  n=$((n + 1))
done
[ -n "$pid" ] || { echo "1..0 # SKIP gtk4-broadwayd did not start: $(head -c 200 "$work/broadwayd.log")"; exit 77; }
unset DISPLAY WAYLAND_DISPLAY
GDK_BACKEND=broadway BROADWAY_DISPLAY=":$n" GSK_RENDERER=cairo GTK_A11Y=none \
  dbus-run-session -- "$@"
