# daemon-lib.sh — sourced by the daemon-* and cli-* integration tests.
#
# Owns the test harness: a private session bus (the script re-executes itself
# under dbus-run-session), a temporary state directory and XDG dirs so nothing
# touches the user's data, starting/stopping/killing bulkheadd, and TAP output.
# Every process it starts is stopped on exit, even when a test fails, and
# every qube of every daemon run on its state (bh-test-reaper).
# It must never start a daemon on the caller's own session bus.

set -u

if [ -z "${BH_TEST_PRIVATE_BUS:-}" ]; then
  export BH_TEST_PRIVATE_BUS=1
  exec dbus-run-session -- bash "$0" "$@"
fi

: "${BH_BUILD_ROOT:?run through meson test, or set BH_BUILD_ROOT to the build directory}"
BULKHEADD="$BH_BUILD_ROOT/core/daemon/bulkheadd"
export PATH="$BH_BUILD_ROOT/core/cli:$PATH"

bh_tmp=$(mktemp -d "${TMPDIR:-/tmp}/bh-test.XXXXXX")
# Qubes outlive a SIGKILLed bulkheadd by design (adoption), in sessions of
# their own: a test that kills its daemon, fails, times out or is killed
# would leave them running. bh-test-reaper ends whatever still runs under
# $bh_tmp once this shell has ended, however it ended; bh_cleanup runs it
# at once as well, so a passing test leaves nothing behind when it returns.
# BH_TEST_REAPER: another one (daemon-reaper.sh's control runs without).
bh_reaper=${BH_TEST_REAPER:-$BH_BUILD_ROOT/tests/integration/bh-test-reaper}
if [ -x "$bh_reaper" ]; then
  "$bh_reaper" --watch $$ "$bh_tmp"
else
  echo "# $bh_reaper is not built: qubes this test leaves running are not ended"
fi
export HOME="$bh_tmp/home" XDG_DATA_HOME="$bh_tmp/data" XDG_CONFIG_HOME="$bh_tmp/config"
export XDG_RUNTIME_DIR="$bh_tmp/run"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
bh_state="$bh_tmp/state"
bh_log="$bh_tmp/daemon.log"
bh_daemon_pid=""
bh_bg_pids=()
bh_n=0
bh_failed=0
# 1: a failure keeps every log of the run (the daemon's has guid's and the
# qubes' lines) in $BH_BUILD_ROOT/tests/logs/ and prints the daemon's whole,
# for failures too rare to reproduce on demand (set by the test).
bh_keep_logs=0

bh_diag() { sed 's/^/# /'; }

# A description is one TAP line: a command's several lines of stderr in it
# are joined with " / ".
bh_ok() { local d="$*"; bh_n=$((bh_n + 1)); echo "ok $bh_n - ${d//$'\n'/ / }"; }
bh_not_ok() { local d="$*"; bh_n=$((bh_n + 1)); bh_failed=$((bh_failed + 1)); echo "not ok $bh_n - ${d//$'\n'/ / }"; }
bh_result() { # DESC STATUS(0 = pass)
  if [ "$2" -eq 0 ]; then bh_ok "$1"; else bh_not_ok "$1"; fi
}

bh_cleanup() {
  local p
  for p in "${bh_bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [ -n "$bh_daemon_pid" ] && kill -0 "$bh_daemon_pid" 2>/dev/null; then
    kill -TERM "$bh_daemon_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$bh_daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$bh_daemon_pid" 2>/dev/null
  fi
  [ -x "$bh_reaper" ] && "$bh_reaper" "$bh_tmp"
  if [ "$bh_failed" -gt 0 ] && [ "$bh_keep_logs" = 1 ]; then
    bh_keep_run_logs
  elif [ "$bh_failed" -gt 0 ] && [ -s "$bh_log" ]; then
    echo "# daemon log (last 40 lines):"
    tail -n 40 "$bh_log" | bh_diag
  fi
  rm -rf "$bh_tmp"
}

# bh_keep_run_logs: every *.log under $bh_tmp (the daemon's, the shell's,
# openbox's, the X server's, the qubes' own) copied with its folders to
# $BH_BUILD_ROOT/tests/logs/TEST-TIME-PID/, and the daemon's printed whole.
bh_keep_run_logs() {
  local kept
  kept="$BH_BUILD_ROOT/tests/logs/$(basename "$0" .sh)-$(date -u +%Y%m%dT%H%M%S)-$$"
  mkdir -p "$kept" && (cd "$bh_tmp" && find . -name '*.log' -type f -exec cp --parents {} "$kept" \;)
  echo "# this run's logs are kept in $kept"
  if [ -s "$bh_log" ]; then
    echo "# daemon log (whole: guid's and the qubes' lines are in it):"
    bh_diag <"$bh_log"
  fi
}
trap bh_cleanup EXIT

bh_name_owned() {
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.bulkhead.Admin1 2>/dev/null | grep -q true
}

# bh_start_daemon [bulkheadd options…]: start on $bh_state, wait for the name.
bh_start_daemon() {
  # No backend unless the test asks for one (a later --backend wins): the
  # daemon tests are about the daemon, not about starting sandboxes.
  "$BULKHEADD" --state-dir "$bh_state" --verbose --backend none "$@" >>"$bh_log" 2>&1 &
  bh_daemon_pid=$!
  local i
  for i in $(seq 300); do
    if ! kill -0 "$bh_daemon_pid" 2>/dev/null; then
      echo "# bulkheadd exited during start-up:"; tail -n 20 "$bh_log" | bh_diag
      bh_daemon_pid=""; return 1
    fi
    bh_name_owned && return 0
    sleep 0.1
  done
  echo "# bulkheadd did not own org.bulkhead.Admin1 within 30 s"
  return 1
}

# bh_start_xvfb [Xvfb options…]: a private Xvfb (stopped on exit) as DISPLAY,
# and GTK set up for it as guid runs in the display tests. Status 1 when it
# ended first (a display number given in the options and already taken).
bh_start_xvfb() {
  export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
  unset WAYLAND_DISPLAY
  : >"$bh_tmp/display"
  Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset "$@" 3>"$bh_tmp/display" \
    >"$bh_tmp/xvfb.log" 2>&1 &
  local xvfb=$!
  bh_bg_pids+=($xvfb)
  for _ in $(seq 300); do
    [ -s "$bh_tmp/display" ] && break
    kill -0 "$xvfb" 2>/dev/null || return 1
    sleep 0.1
  done
  export DISPLAY=":$(tr -d '\n' <"$bh_tmp/display")"
}

# bh_start_openbox: openbox with the product's configuration on $DISPLAY
# (stopped on exit), as ./run starts it on a display without a window manager.
bh_start_openbox() {
  "$BH_SOURCE_ROOT/shell/bh-openbox.sh" >"$bh_tmp/openbox.log" 2>&1 &
  bh_bg_pids+=($!)
}

# bh_start_xorg_dummy: a private Xorg with the dummy video driver as DISPLAY
# (stopped on exit), GTK set up as bh_start_xvfb does. Unlike Xvfb and Xephyr
# (one RandR output each, and GDK 4 skips RandR monitors without an output)
# it has sixteen outputs, DUMMY0..DUMMY15, which xrandr connects at their
# first mode: real monitors for GDK, openbox and the X server's Xinerama.
# Skips the test (TAP) when Xorg or the driver is not installed.
bh_start_xorg_dummy() {
  if ! command -v Xorg >/dev/null || [ ! -e /usr/lib/xorg/modules/drivers/dummy_drv.so ]; then
    echo "1..0 # SKIP Xorg's dummy driver is not installed (xserver-xorg-video-dummy)"
    exit 0
  fi
  export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
  unset WAYLAND_DISPLAY
  mkdir -p "$bh_tmp/xorg.d"
  # No input devices of its own (xdotool's XTEST devices are enough), none
  # of the host's configuration snippets, video memory for 4096x2048.
  cat >"$bh_tmp/xorg.conf" <<'CONF'
Section "ServerFlags"
  Option "AutoAddDevices" "false"
  Option "AutoAddGPU" "false"
EndSection
Section "Device"
  Identifier "bh-dummy"
  Driver "dummy"
  VideoRam 65536
EndSection
Section "Monitor"
  Identifier "bh-monitor"
  HorizSync 5-1000
  VertRefresh 5-200
EndSection
Section "Screen"
  Identifier "bh-screen"
  Device "bh-dummy"
  Monitor "bh-monitor"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Virtual 4096 2048
  EndSubSection
EndSection
CONF
  Xorg -displayfd 3 -config "$bh_tmp/xorg.conf" -configdir "$bh_tmp/xorg.d" -logfile "$bh_tmp/xorg.log" \
    -nolisten tcp -noreset +extension XTEST 3>"$bh_tmp/display" >"$bh_tmp/xorg.out" 2>&1 &
  bh_bg_pids+=($!)
  # A machine where Xorg cannot run (no root, a kernel without what it
  # probes) is like one without the driver: a skip that says why.
  if ! bh_until 300 test -s "$bh_tmp/display"; then
    echo "1..0 # SKIP Xorg with the dummy driver did not start: $(cat "$bh_tmp/xorg.log" "$bh_tmp/xorg.out" 2>/dev/null | grep -m1 '(EE)')"
    exit 0
  fi
  export DISPLAY=":$(tr -d '\n' <"$bh_tmp/display")"
}

# bh_until TENTHS CMD…: run CMD every 0.1 s until it succeeds, at most TENTHS
# times; its last status. For every wait on something drawn or logged.
# Its locals are named so that a CMD run through eval still sees the
# caller's i or n (a local n here once made a test wait its full 30 s).
bh_until() {
  local _bh_until_i _bh_until_n=$1
  shift
  for _bh_until_i in $(seq "$_bh_until_n"); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# bh_px_count PNG #rrggbb WxH+X+Y: how many pixels of exactly that colour the
# region of the screenshot has.
bh_px_count() {
  convert "$1" -crop "$3" +repage -depth 8 txt:- 2>/dev/null | grep -ci -- "$2"
}

# bh_admin METHOD ARGS…: gdbus call of org.bulkhead.Admin1's METHOD, its answer or error.
bh_admin() {
  local method=$1; shift
  gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method "org.bulkhead.Admin1.$method" "$@" 2>&1
}

# bh_state_of QUBE: its power state as qvm-ls shows it.
bh_wait_grep() { # FILE REGEX [TENTHS] [FROM_LINE]: until FILE (from line FROM_LINE on) has REGEX
  local i
  for i in $(seq "${3:-50}"); do
    tail -n +"${4:-1}" "$1" 2>/dev/null | grep -q -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
# The pids of QUBE's guid that our bulkheadd runs: forked by its guid
# launcher (a child of bulkheadd), or bulkheadd's own child when there is
# none (BH_GUID_LAUNCHER=0). Other tests may run guids for a qube of the
# same name.
bh_guid_pids() { # QUBE
  local parents="$bh_daemon_pid" l
  for l in $(pgrep -P "$bh_daemon_pid" -f -- "bulkhead-guid --launcher"); do parents="$parents,$l"; done
  pgrep -P "$parents" -f -- "bulkhead-guid --qube $1 "
}
bh_state_of() { qvm-ls 2>/dev/null | awk -v q="$1" '$1 == q {print $2}'; }
# bh_wait_state QUBE STATE [TENTHS]: until the qube is in that state (60 s).
bh_wait_state() {
  local i
  for i in $(seq "${3:-600}"); do
    [ "$(bh_state_of "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# bh_find_window TITLE-REGEX [TRIES]: the id of the first X window whose
# title matches (xdotool search), trying every 0.2 s (150 times: 30 s).
bh_find_window() {
  local i id
  for i in $(seq "${2:-150}"); do
    id=$(xdotool search --name "$1" 2>/dev/null | head -n1)
    [ -n "$id" ] && { echo "$id"; return 0; }
    sleep 0.2
  done
  return 1
}

# bh_xtest_keys: dom0's Xvfb made fit for keys typed through XTEST (xdotool
# without --window): no auto-repeat. The server repeats an XTEST key
# (unlike a synthetic one) when its release comes after the repeat delay,
# as it may on a loaded machine, and the repeat would reach the guest as a
# second press. A precaution: not seen to happen.
bh_xtest_keys() { xset r off; }

# bh_or_windows: the mapped override-redirect top-level windows of dom0's
# X server (guid's popups: menus, tooltips), one "ID X Y WIDTH HEIGHT" a line.
bh_or_windows() {
  xwininfo -root -children 2>/dev/null | awk '/^ +0x/ {print $1}' | while read -r id; do
    info=$(xwininfo -id "$id" 2>/dev/null)
    echo "$info" | grep -q 'Map State: IsViewable' || continue
    echo "$info" | grep -q 'Override Redirect State: yes' || continue
    eval "$(xdotool getwindowgeometry --shell "$id" 2>/dev/null)"
    echo "$id $X $Y $WIDTH $HEIGHT"
  done
}

# bh_new_or_window BEFORE [STEPS]: waits (STEPS x 0.2 s, default 30 s) for an
# override-redirect window of dom0 whose id is not in BEFORE (bh_or_windows'
# ids, one a line) and prints its "ID X Y WIDTH HEIGHT"; nothing if none came.
bh_new_or_window() {
  local i found
  for i in $(seq "${2:-150}"); do
    found=$(bh_or_windows | while read -r id x y w h; do echo "$1" | grep -qx "$id" || echo "$id $x $y $w $h"; done | head -n1)
    [ -n "$found" ] && { echo "$found"; return 0; }
    sleep 0.2
  done
  return 1
}

# bh_require_sandbox: skip the whole test (TAP "1..0 # SKIP") unless the
# sandbox backend can start qubes here: bubblewrap installed, run as root
# (the backend's idmapped layers).
bh_require_sandbox() {
  if ! command -v bwrap >/dev/null; then
    echo "1..0 # SKIP bubblewrap is not installed"
    exit 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root (the sandbox backend's idmapped layers)"
    exit 0
  fi
}

# bh_require_mkfs_ext4: skip the test (TAP) without e2fsprogs' mkfs.ext4,
# which volumes are made with (it may be in sbin, off PATH).
bh_require_mkfs_ext4() {
  command -v mkfs.ext4 >/dev/null || [ -x /usr/sbin/mkfs.ext4 ] || [ -x /sbin/mkfs.ext4 ] || {
    echo "1..0 # SKIP volumes need mkfs.ext4 (e2fsprogs)"
    exit 0
  }
}

bh_stop_daemon() {
  [ -n "$bh_daemon_pid" ] || return 0
  kill -TERM "$bh_daemon_pid" 2>/dev/null
  wait "$bh_daemon_pid" 2>/dev/null
  local rc=$?
  bh_daemon_pid=""
  # Give the bus a moment to drop the name before anyone asks for it again.
  for _ in $(seq 100); do bh_name_owned || break; sleep 0.05; done
  return $rc
}

bh_kill_daemon() { # SIGKILL: no clean-up of any kind
  [ -n "$bh_daemon_pid" ] || return 0
  kill -KILL "$bh_daemon_pid" 2>/dev/null
  wait "$bh_daemon_pid" 2>/dev/null
  bh_daemon_pid=""
  for _ in $(seq 100); do bh_name_owned || break; sleep 0.05; done
}

# bh_run CMD…: run, keeping status in $bh_rc, stdout in $bh_out, stderr in $bh_err.
bh_run() {
  local o="$bh_tmp/out.$$" e="$bh_tmp/err.$$"
  "$@" >"$o" 2>"$e" </dev/null
  bh_rc=$?
  bh_out=$(cat "$o"); bh_err=$(cat "$e")
  rm -f "$o" "$e"
}

# bh_guest_programs DIR PROGRAM…: links to the build's guest programs of
# those names in DIR, for a BH_SANDBOX_GUEST_DIRS of the build's programs
# beside a test's own (a hostile bulkhead-applist, extra services).
bh_guest_programs() {
  local dir=$1 p found
  shift
  mkdir -p "$dir"
  for p in "$@"; do
    found=$(find "$BH_BUILD_ROOT" -name "$p" -type f -perm -u+x -not -path '*.p/*' | head -n1)
    ln -s "$found" "$dir/$p"
  done
}

# bh_qvm_ls_during DIR QUBE WHAT: while a long job keeps DIR (its work in
# progress) on dom0's disk, bulkheadd answers qvm-ls and lists QUBE; one
# result line with how long the answer took. It fails when DIR was gone by
# the answer: the job had ended, so the answer proves nothing.
bh_qvm_ls_during() {
  local dir=$1 qube=$2 what=$3 t0 ms
  t0=$(date +%s%N)
  bh_run qvm-ls
  ms=$((($(date +%s%N) - t0) / 1000000))
  bh_result "bulkheadd answers qvm-ls in $ms ms while $what" \
    $([ "$bh_rc" -eq 0 ] && printf '%s\n' "$bh_out" | grep -q "^$qube " && test -d "$dir"; echo $?)
}

# bh_expect DESC CMD…: must succeed.
bh_expect() {
  local desc=$1; shift
  bh_run "$@"
  if [ "$bh_rc" -eq 0 ]; then bh_ok "$desc"; return 0; fi
  bh_not_ok "$desc"
  { echo "command: $*"; echo "exit status $bh_rc"; echo "$bh_err"; } | bh_diag
  return 1
}

# bh_expect_fail DESC STATUS STDERR-REGEX CMD…: must exit with STATUS and
# print an error matching the regex (grep -E) on stderr.
bh_expect_fail() {
  local desc=$1 status=$2 pattern=$3; shift 3
  bh_run "$@"
  if [ "$bh_rc" -eq "$status" ] && printf '%s\n' "$bh_err" | grep -Eq -- "$pattern"; then
    bh_ok "$desc"; return 0
  fi
  bh_not_ok "$desc"
  { echo "command: $*"; echo "exit status $bh_rc (wanted $status)";
    echo "stderr (wanted /$pattern/):"; echo "$bh_err"; } | bh_diag
  return 1
}

# bh_same DESC EXPECTED ACTUAL
bh_same() {
  if [ "$2" = "$3" ]; then bh_ok "$1"; return 0; fi
  bh_not_ok "$1"
  { echo "expected:"; echo "$2"; echo "actual:"; echo "$3"; } | bh_diag
  return 1
}

# bh_call_loop QUBE REQUEST N: inside QUBE, N calls one after another, each
# on its own connection to dom0's call socket sending REQUEST ("SERVICE
# TARGET"); prints how many were answered "refused:" (in $bh_out, by bh_run).
bh_call_loop() {
  bh_run qvm-run -p "$1" "python3 -c '
import os, socket
path = os.environ[\"BH_VCHAN_DIR\"] + \"/\" + os.environ[\"BH_VCHAN_DOMID\"] + \"/call.sock\"
told = 0
for i in range($3):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b\"$2\\n\")
    told += s.recv(600).startswith(b\"refused:\")
    s.close()
print(told)'"
}

# bh_skip_without TOOL…: a TAP skip (and exit) when one is not installed.
# bh_policy NAME RULE...: the test's own policy file policy.d/NAME.policy in
# the user's directory, one rule per argument (bulkheadd reloads on change).
bh_policy() {
  local name=$1
  shift
  mkdir -p "$XDG_CONFIG_HOME/bulkhead/policy.d" &&
    printf '%s\n' "$@" >"$XDG_CONFIG_HOME/bulkhead/policy.d/$name.policy"
}

bh_skip_without() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "1..0 # SKIP $tool is not installed"
      exit 0
    fi
  done
}

# bh_menu_key PANEL: the shell's menu key (Super+Space), then until the panel
# window has the keyboard focus (10 s), so what is typed next is the menu's.
bh_menu_key() {
  xdotool key super+space 2>/dev/null
  local i
  for i in $(seq 100); do
    [ "$(xdotool getwindowfocus 2>/dev/null)" = "$1" ] && return 0
    sleep 0.1
  done
  echo "# the panel did not get the focus after the menu key"
  return 1
}

# The shell's log, where it says (with G_MESSAGES_DEBUG=bh-shell) that its
# menu is shown, closed, or has filtered: the events the display tests wait
# for before a key or a screenshot.
bh_shell_log="$bh_tmp/shell.log"
bh_log_from() { echo $(($(wc -l <"$1" 2>/dev/null || echo 0) + 1)); } # FILE: its next line's number

# bh_menu_open PANEL: the menu key, until the shell logs the menu shown (10 s).
bh_menu_open() {
  local from
  from=$(bh_log_from "$bh_shell_log")
  bh_menu_key "$1" && bh_wait_grep "$bh_shell_log" 'menu: shown' 100 "$from"
}

# bh_menu_type TEXT: typed into the open menu, until the shell has filtered
# for all of it (10 s); Enter then runs its first hit.
bh_menu_type() {
  local from
  from=$(bh_log_from "$bh_shell_log")
  xdotool type --delay 60 "$1" 2>/dev/null
  bh_wait_grep "$bh_shell_log" "menu: search '$1':" 100 "$from"
}

# bh_menu_search PANEL TEXT: the menu opened (it must be closed: the menu key
# with the menu open closes it), then bh_menu_type TEXT.
bh_menu_search() {
  bh_menu_open "$1" && bh_menu_type "$2"
}

# bh_menu_close: Escape, until the shell logs the menu closed (10 s).
bh_menu_close() {
  local from
  from=$(bh_log_from "$bh_shell_log")
  xdotool key Escape 2>/dev/null
  bh_wait_grep "$bh_shell_log" 'menu: closed' 100 "$from"
}

bh_done() {
  echo "1..$bh_n"
  [ "$bh_failed" -eq 0 ]
  exit $?
}
