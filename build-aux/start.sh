#!/usr/bin/env bash
# Starts the product from a build directory (called by ./run).
set -uo pipefail
builddir=$1
BH_PROG=run
bh_log() { printf 'run: %s\n' "$*" >&2; }

# A display for the dom0 side: the user's, or GTK's Broadway backend.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  port=${BH_BROADWAY_PORT:-8085}
  bh_log "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set)."
  bh_log "starting GTK's Broadway backend: open http://127.0.0.1:$port/ in a browser on this machine."
  bh_log "(or run inside a desktop session, or: Xvfb :1 & DISPLAY=:1 ./run)"
  display_n=$((port - 8080))
  gtk4-broadwayd ":$display_n" >/dev/null 2>&1 &
  broadway_pid=$!
  trap 'kill $broadway_pid 2>/dev/null' EXIT
  export GDK_BACKEND=broadway BROADWAY_DISPLAY=":$display_n"
fi

daemon="$builddir/core/daemon/bulkheadd"
if [ ! -x "$daemon" ]; then
  bh_log "bulkheadd is not built yet: this tree has the foundation only (see README, 'What is not done yet')."
  exit 0
fi
exec "$daemon"
