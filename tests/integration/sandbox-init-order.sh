#!/usr/bin/env bash
# sandbox-init-order.sh — bulkhead-sandbox-init starts the RPC agent only once
# the GUI agent serves Wayland (docs/sandbox.md, "Inside a qube"): bulkheadd
# calls a qube Running when its RPC agent answers and runs an app at once
# (the menu's launch), so the app must find its compositor. A race there
# left a launched app without a window. The real init runs as pid 1 of a pid
# namespace of its own (bwrap --unshare-pid --as-pid-1, as in a qube; the
# host's file system otherwise), with the test's services on its PATH:
#   - the real bulkhead-gui-agent, started 1.5 s late as on a loaded machine
#     (a script that sleeps, then execs it); in the RPC agent's place, a
#     script that first runs a real Wayland client (weston-info), as the
#     daemon's first RunApp would: it finds the agent's compositor
#     (wl_compositor, xdg_wm_base) and init's "ready" comes after the socket;
#   - a compositor that binds its socket and listens only 0.8 s later (a
#     python stand-in): the socket file is there before it takes connections,
#     and the RPC agent's first client is still taken, not refused;
#   - a GUI agent that never serves: the RPC agent starts all the same, 2 s
#     later, and init says why.
# The bwrap is ended after each case (--die-with-parent ends init and with it
# the namespace). Prints TAP. Reuses daemon-lib.sh (temporary dirs, clean-up).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without weston-info python3
INIT="$BH_BUILD_ROOT/core/backends/bulkhead-sandbox-init"
GUI_AGENT="$BH_BUILD_ROOT/gui-agent/bulkhead-gui-agent"

# case NAME: a folder of the case's services ($bh_tmp/NAME/bin) and outputs
# ($bh_tmp/NAME/out); start_init NAME runs init on them in its namespace.
mkcase() {
  mkdir -p "$bh_tmp/$1/bin" "$bh_tmp/$1/out" "$bh_tmp/$1/run" "$bh_tmp/$1/vchan"
  chmod 700 "$bh_tmp/$1/run" "$bh_tmp/$1/vchan"
}
start_init() { # NAME
  local c="$bh_tmp/$1"
  mkfifo "$c/ready.fifo"
  # The ready line's reader: whether the socket is there when it comes.
  (read -r line <"$c/ready.fifo"
   if [ -S "$c/run/wayland-0" ]; then echo "$line, socket there"; else echo "$line, no socket"; fi
  ) >"$c/out/ready" &
  bh_bg_pids+=($!)
  env -u DISPLAY -u BH_X11_DISPLAY PATH="$c/bin:$PATH" XDG_RUNTIME_DIR="$c/run" WAYLAND_DISPLAY=wayland-0 \
    BH_VCHAN_TRANSPORT=socket BH_VCHAN_DIR="$c/vchan" BH_VCHAN_DOMID=9 BH_TEST_OUT="$c/out" \
    BH_TEST_GUI_AGENT="$GUI_AGENT" BH_SANDBOX_READY_FD=3 \
    bwrap --dev-bind / / --proc /proc --unshare-pid --as-pid-1 --die-with-parent -- "$INIT" \
    3>"$c/ready.fifo" >"$c/init.log" 2>&1 &
  bh_bg_pids+=($!)
  eval "pid_$1=$!"
  date +%s%N >"$c/started"
}
stop_init() { # NAME
  local p
  eval "p=\$pid_$1"
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
}

# ---- the GUI agent late ---------------------------------------------------------
mkcase late
cat >"$bh_tmp/late/bin/bulkhead-gui-agent" <<'SH'
#!/bin/sh
sleep 1.5
exec "$BH_TEST_GUI_AGENT" --verbose
SH
cat >"$bh_tmp/late/bin/bulkhead-agent" <<'SH'
#!/bin/sh
weston-info >"$BH_TEST_OUT/app" 2>&1
echo $? >"$BH_TEST_OUT/app.rc"
exec sleep 600
SH
chmod +x "$bh_tmp/late/bin/"*
start_init late
bh_until 100 test -s "$bh_tmp/late/out/app.rc"
bh_result "the GUI agent 1.5 s late: the app the RPC agent runs first has ended (status $(cat "$bh_tmp/late/out/app.rc" 2>/dev/null))" \
  $([ "$(cat "$bh_tmp/late/out/app.rc" 2>/dev/null)" = 0 ]; echo $?)
bh_result "it found the GUI agent's compositor: $(grep -o "'wl_compositor'\|'xdg_wm_base'" "$bh_tmp/late/out/app" | tr '\n' ' ')" \
  $(grep -q "'wl_compositor'" "$bh_tmp/late/out/app" && grep -q "'xdg_wm_base'" "$bh_tmp/late/out/app"; echo $?)
bh_result "init said ready after the socket was there ($(cat "$bh_tmp/late/out/ready"))" \
  $([ "$(cat "$bh_tmp/late/out/ready")" = "ready, socket there" ]; echo $?)
if [ "$bh_failed" -gt 0 ]; then
  { echo "the app:"; cat "$bh_tmp/late/out/app"; echo "init and the agents:"; cat "$bh_tmp/late/init.log"; } | bh_diag
fi
stop_init late

# ---- a socket bound, listened on 0.8 s later ------------------------------------
# The client is weston-info again, under timeout: refused, it ends at once;
# taken by the stand-in (which never answers), it is ended after 3 s (124).
mkcase bound
cat >"$bh_tmp/bound/bin/bulkhead-gui-agent" <<'PY'
#!/usr/bin/python3 -S
import os, socket, time
s = socket.socket(socket.AF_UNIX)
s.bind(os.path.join(os.environ["XDG_RUNTIME_DIR"], os.environ["WAYLAND_DISPLAY"]))
time.sleep(0.8)
s.listen(8)
time.sleep(600)
PY
cat >"$bh_tmp/bound/bin/bulkhead-agent" <<'SH'
#!/bin/sh
timeout 3 weston-info >"$BH_TEST_OUT/app" 2>&1
echo $? >"$BH_TEST_OUT/app.rc"
exec sleep 600
SH
chmod +x "$bh_tmp/bound/bin/"*
start_init bound
bh_until 100 test -s "$bh_tmp/bound/out/app.rc"
rc=$(cat "$bh_tmp/bound/out/app.rc" 2>/dev/null)
told=$(grep -m1 -i 'refused\|failed' "$bh_tmp/bound/out/app" 2>/dev/null)
bh_result "a compositor that listens 0.8 s after its bind: the RPC agent's first client is taken, not refused (status $rc${told:+: $told})" \
  $([ "$rc" = 124 ]; echo $?)
stop_init bound

# ---- a GUI agent that never serves ----------------------------------------------
mkcase never
printf '#!/bin/sh\nexec sleep 600\n' >"$bh_tmp/never/bin/bulkhead-gui-agent"
printf '#!/bin/sh\ndate +%%s%%N >"$BH_TEST_OUT/app"\nexec sleep 600\n' >"$bh_tmp/never/bin/bulkhead-agent"
chmod +x "$bh_tmp/never/bin/"*
start_init never
bh_until 100 test -s "$bh_tmp/never/out/app"
ms=$(( ($(cat "$bh_tmp/never/out/app" 2>/dev/null || echo 0) - $(cat "$bh_tmp/never/started")) / 1000000 ))
bh_result "a GUI agent that never serves: the RPC agent starts all the same, ${ms} ms after init (2 s of waiting)" \
  $([ -s "$bh_tmp/never/out/app" ] && [ "$ms" -ge 1900 ]; echo $?)
bh_result "init says why: $(grep -o 'no compositor listens.*' "$bh_tmp/never/init.log")" \
  $(grep -q "no compositor listens on $bh_tmp/never/run/wayland-0 after 2 s" "$bh_tmp/never/init.log"; echo $?)
stop_init never
bh_done
