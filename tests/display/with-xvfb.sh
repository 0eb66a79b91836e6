#!/bin/sh
# with-xvfb.sh CMD [ARGS...] — run one display test on its own X server.
#
# Starts a private Xvfb (1280x1024x24; Xvfb picks a free display number and
# reports it through -displayfd, so parallel tests never collide), waits until
# it answers, runs CMD with DISPLAY set and GTK pinned to X11 + the cairo
# renderer (pixel-exact and the same on every machine), then stops the server.
# CMD's exit status is the test's. Never touches the user's display.
set -u

work=$(mktemp -d "${TMPDIR:-/tmp}/bh-xvfb.XXXXXX") || exit 99
xvfb_pid=
cleanup() {
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset +extension XTEST \
  3>"$work/display" >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!

# Up to 30 s: the machine may be busy with other builds.
i=0
while [ ! -s "$work/display" ]; do
  if ! kill -0 "$xvfb_pid" 2>/dev/null; then
    echo "with-xvfb: Xvfb exited early:" >&2
    cat "$work/xvfb.log" >&2
    exit 99
  fi
  i=$((i + 1))
  if [ $i -gt 300 ]; then
    echo "with-xvfb: Xvfb did not report a display within 30 s" >&2
    exit 99
  fi
  sleep 0.1
done

DISPLAY=":$(tr -d '\n' <"$work/display")"
export DISPLAY
# For tests that measure the X server itself (memory, time).
BH_XVFB_PID=$xvfb_pid
export BH_XVFB_PID
export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
export XDG_RUNTIME_DIR="$work/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset WAYLAND_DISPLAY
# Sanitizer builds: GTK, fontconfig and GIO modules keep allocations until
# exit, some from modules already unloaded that no suppression can name, so
# leak checking stays with the unit tests; every other ASan check stays on.
if [ -n "${ASAN_OPTIONS:-}" ]; then
  ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
  export ASAN_OPTIONS
fi

"$@"
rc=$?
exit $rc
