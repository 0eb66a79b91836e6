#!/usr/bin/env bash
# bench-dispvm.sh BENCH-DISPVM [ARGS…] — the set-up for bench-dispvm: a private
# session bus, temporary state and XDG dirs (tests/integration/daemon-lib.sh),
# a private Xvfb, bulkheadd on the sandbox backend, and one disposable first
# so that the template's layers exist (the first run of a new state creates
# them). Then the measurement (bench/start/README.md).
set -u
: "${BH_SOURCE_ROOT:?run through meson, or set BH_SOURCE_ROOT}"
. "$BH_SOURCE_ROOT/tests/integration/daemon-lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "bench-dispvm: skipped: needs root"; exit 0; fi
bench=$1; shift

export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
unset WAYLAND_DISPLAY
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset 3>"$bh_tmp/display" \
  >"$bh_tmp/xvfb.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 300); do [ -s "$bh_tmp/display" ] && break; sleep 0.1; done
export DISPLAY=":$(tr -d '\n' <"$bh_tmp/display")"

bh_start_daemon --backend sandbox || exit 1
qvm-run --dispvm default-dvm true >/dev/null 2>&1
"$bench" "$@"
