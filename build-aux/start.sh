#!/usr/bin/env bash
# Starts the product from a build directory (called by ./run): a display if
# there is none, a session bus if there is none, openbox if the X display has
# no window manager, bulkheadd on the sandbox backend (it starts the autostart
# qubes and a guid per running qube), the shell (panel, menu, domains), then a
# terminal in `work`. Ctrl+C stops everything it started.
set -uo pipefail
builddir=$(cd "$1" && pwd)
bh_log() { printf 'run: %s\n' "$*" >&2; }

daemon="$builddir/core/daemon/bulkheadd"
cli="$builddir/core/cli"
if [ ! -x "$daemon" ]; then
  bh_log "bulkheadd is not built in $builddir"
  exit 1
fi

# Per-boot sockets (vchan, Wayland inside qubes) live under XDG_RUNTIME_DIR;
# a root shell or a bare ssh session may have none.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  uid=$(id -u)
  if [ -d "/run/user/$uid" ] && [ -O "/run/user/$uid" ]; then
    XDG_RUNTIME_DIR=/run/user/$uid
  else
    XDG_RUNTIME_DIR=${TMPDIR:-/tmp}/bulkhead-runtime-$uid
    mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
    if [ ! -O "$XDG_RUNTIME_DIR" ]; then
      bh_log "$XDG_RUNTIME_DIR belongs to someone else; set XDG_RUNTIME_DIR to a directory of yours"
      exit 1
    fi
    chmod 0700 "$XDG_RUNTIME_DIR"
  fi
  export XDG_RUNTIME_DIR
  bh_log "XDG_RUNTIME_DIR was not set; using $XDG_RUNTIME_DIR"
fi

# A session bus for the daemon and its clients: the user's, or our own.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  bh_log "no D-Bus session bus: starting a private one for this run"
  exec dbus-run-session -- "$0" "$@"
fi

pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A display for the dom0 side: the user's, or GTK's Broadway backend.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  port=${BH_BROADWAY_PORT:-8085}
  display_n=$((port - 8080))
  bh_log "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set)."
  bh_log "starting GTK's Broadway backend: open http://127.0.0.1:$port/ in a browser on this machine."
  bh_log "(or run ./run inside a desktop session, or: Xvfb :1 & DISPLAY=:1 ./run)"
  gtk4-broadwayd ":$display_n" >/dev/null 2>&1 &
  pids+=($!)
  export GDK_BACKEND=broadway BROADWAY_DISPLAY=":$display_n"
fi

# A window manager for a bare X server (Xvfb, a plain X session): openbox
# (docs/shell.md says why); the shell grabs the menu keys itself. Checked through the
# EWMH "supporting WM" window a running manager publishes; a desktop
# session's own manager is left alone.
shell="$builddir/shell/bulkhead-shell"
if [ -n "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "${GDK_BACKEND:-x11}" = x11 ]; then
  if ! xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; then
    if command -v openbox >/dev/null; then
      bh_log "no window manager on $DISPLAY: starting openbox (Super+Space or Alt+F1 opens the menu)"
      "$(dirname "$0")/../shell/bh-openbox.sh" &
      pids+=($!)
    else
      bh_log "no window manager on $DISPLAY and openbox is not installed: windows will not be placed"
    fi
  fi
fi

backend=${BH_BACKEND:-sandbox}
state_dir=${BH_STATE_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/bulkhead}
"$daemon" --backend "$backend" --state-dir "$state_dir" --read-app-lists &
daemon_pid=$!
pids+=($daemon_pid)

# The commands and bulkhead-settings on PATH for what this script starts
# (the shell among them) and for the commands it prints.
export PATH="$cli:$builddir/settings:$PATH"
for _ in $(seq 100); do
  qvm-ls >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { bh_log "bulkheadd exited; see the messages above"; exit 1; }
  sleep 0.1
done

bh_log "bulkheadd runs with the $backend backend; state in $state_dir"
qvm-ls
if [ -x "$shell" ]; then
  "$shell" &
  pids+=($!)
  bh_log "the shell: the panel along the top; click 'Bulkhead' (or Super+Space) for the menu, 'Qubes' to start and stop qubes"
fi
if qvm-run work foot; then
  bh_log "a terminal in 'work' (blue frame) is starting. Try: qvm-run --dispvm default-dvm foot"
else
  bh_log "could not start a terminal in 'work' (see above); the daemon keeps running"
fi
bh_log "commands: PATH=$cli:$builddir/settings:\$PATH qvm-ls | qvm-run QUBE CMD | qvm-shutdown --all"
bh_log "settings: bulkhead-settings (the qube manager) | --create | --qube NAME | --map | --global"
bh_log "Ctrl+C stops bulkheadd and every qube"
wait "$daemon_pid"
