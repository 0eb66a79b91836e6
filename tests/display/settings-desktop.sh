#!/usr/bin/env bash
# settings-desktop.sh — the world bulkhead-settings' display test runs in: a
# private session bus, XDG dirs and state (daemon-lib.sh), a private Xvfb
# with openbox (as ./run starts it), and a real bulkheadd on that bus. Then
# test-settings-ui (argument 1) drives the real windows by widget name and
# prints the TAP; screenshots go to $BH_BUILD_ROOT/tests/display/shots/.
# The daemon runs without a backend unless the first argument is
# --backend=NAME (the driver then sees BH_SETTINGS_BACKEND=NAME): the
# settings are about the model, and no sandbox is needed to change it.
set -u
. "$BH_SOURCE_ROOT/tests/integration/daemon-lib.sh"

for tool in Xvfb openbox; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done
export BH_SETTINGS_BACKEND=none
case "${1:-}" in --backend=*) BH_SETTINGS_BACKEND=${1#--backend=}; shift ;; esac
driver=$1
shift

export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
# No GL: the Cairo renderer never uses it, yet GDK's X11 display opening
# loads Mesa (gdk_display_prepare_gl → libEGL_mesa → swrast_dri.so), and
# Mesa's DRI driver keeps 128 bytes (a realloc under pthread_once) that
# LeakSanitizer reports in the sanitizer build. The leak is Mesa's, not
# ours; the driver is dlclosed before LeakSanitizer looks, so its frames are
# "<unknown module>" and no suppression can name them. Leak checking of the
# settings code itself stays on.
export GDK_DEBUG=gl-disable
unset WAYLAND_DISPLAY
# BH_TEST_SCREEN: another size (settings-small-screen: 1024x600x24).
Xvfb -displayfd 3 -screen 0 "${BH_TEST_SCREEN:-1280x1024x24}" -nolisten tcp -noreset +extension XTEST \
  3>"$bh_tmp/display" >"$bh_tmp/xvfb.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 300); do [ -s "$bh_tmp/display" ] && break; sleep 0.1; done
export DISPLAY=":$(tr -d '\n' <"$bh_tmp/display")"
openbox >"$bh_tmp/openbox.log" 2>&1 &
bh_bg_pids+=($!)

if ! bh_start_daemon --no-guid --backend "$BH_SETTINGS_BACKEND"; then
  echo "1..0 # SKIP bulkheadd did not start"
  exit 1
fi
"$driver" "$@"
rc=$?
[ "$rc" -ne 0 ] && bh_failed=1
exit "$rc"
