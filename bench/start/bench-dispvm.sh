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

bh_start_xvfb

bh_start_daemon --backend sandbox || exit 1
qvm-run --dispvm default-dvm true >/dev/null 2>&1
# --preload waits for the preloaded disposable's guid in this log.
BH_BENCH_DAEMON_LOG=$bh_log "$bench" "$@"
