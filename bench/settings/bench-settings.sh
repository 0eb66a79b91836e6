#!/usr/bin/env bash
# bench-settings.sh BENCH-SETTINGS [ARGS…] — the set-up for bulkhead-settings'
# benchmark (bench/README.md, "bench/settings"): a private bus, state and XDG
# dirs (tests/integration/daemon-lib.sh), a private Xvfb, bulkheadd without a
# backend (the windows show the model; nothing needs to run), then the bench.
set -u
: "${BH_SOURCE_ROOT:?run through meson, or set BH_SOURCE_ROOT}"
. "$BH_SOURCE_ROOT/tests/integration/daemon-lib.sh"
bench=$1
shift

export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
# MALLOC_PERTURB_ (set for tests) fills every allocation: it is not what a
# user runs, and it doubles the cost of building a table of 200 rows.
unset WAYLAND_DISPLAY G_DEBUG MALLOC_PERTURB_
bh_start_xvfb
bh_start_daemon --no-guid || exit 1
echo "## bench-settings: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$bench" "$@"
