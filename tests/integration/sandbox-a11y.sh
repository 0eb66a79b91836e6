#!/usr/bin/env bash
# sandbox-a11y.sh — a real qube's window on the desktop's accessibility bus,
# with the guid bulkheadd starts (docs/guid.md "Accessibility"): guid hides
# the session bus from GTK, so bulkheadd finds the AT-SPI bus (here one
# at-spi-bus-launcher already runs, started by the test) and hands its
# address to the guid. Checks: bulkheadd logs the address; qvm-run work foot
# shows "[work] foot"; work's guid (pid) owns a connection on the a11y bus;
# no "Unable to acquire session bus" in the log (G_DEBUG=fatal-warnings
# would end that guid on it). Prints TAP; reuses daemon-lib.sh.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without Xvfb xdotool foot busctl gdbus
launcher=/usr/libexec/at-spi-bus-launcher
[ -x "$launcher" ] || { echo "1..0 # SKIP at-spi-bus-launcher is not installed"; exit 0; }

bh_start_xvfb
# Every other display test turns GTK's accessibility off.
unset GTK_A11Y NO_AT_BRIDGE AT_SPI_BUS_ADDRESS
# Its output (and its bus's services') to a file, not into our TAP.
"$launcher" >"$bh_tmp/at-spi.log" 2>&1 &
bh_bg_pids+=($!)
a11y_owned() { busctl --user status org.a11y.Bus >/dev/null 2>&1; }
bh_until 300 a11y_owned
bh_result "at-spi-bus-launcher owns org.a11y.Bus" $?
addr=$(gdbus call --session --dest org.a11y.Bus --object-path /org/a11y/bus --method org.a11y.Bus.GetAddress |
  sed -n "s/^('\(.*\)',)\$/\1/p")
# Its bus's dbus-daemon outlives a launcher that is SIGKILLed (bh_cleanup):
# ended with it.
a11y_daemon=$(pgrep -f -- "--address=unix:path=$XDG_RUNTIME_DIR/at-spi/" | head -n1)
[ -n "$a11y_daemon" ] && bh_bg_pids+=($a11y_daemon)

bh_start_daemon --backend sandbox || { echo "1..0 # SKIP bulkheadd did not start"; exit 0; }
bh_wait_grep "$bh_log" "accessibility bus at $addr" 300
bh_result "bulkheadd found the accessibility bus ($addr)" $?

qvm-run work foot >"$bh_tmp/foot.log" 2>&1 &
bh_bg_pids+=($!)
win=$(bh_find_window "^\\[work\\] ")
bh_result "qvm-run work foot shows its window" $([ -n "$win" ]; echo $?)
guid=$(bh_guid_pids work | head -n1)
on_a11y() { busctl --address="$addr" --no-pager --no-legend list 2>/dev/null | awk '{print $2}' | grep -qx "$guid"; }
bh_until 300 on_a11y
bh_result "work's guid (pid $guid) is on the accessibility bus" $?
grep -q "Unable to acquire session bus" "$bh_log"
bh_result "no guid warned it could not reach the session bus" $([ $? -ne 0 ]; echo $?)

bh_done
