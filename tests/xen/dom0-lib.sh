# dom0-lib.sh — shell helpers of the QEMU test's dom0 scripts
# (dom0-desktop.sh, dom0-template.sh,
# dom0-net.sh), sourced; installed as
# /opt/bh/bin/bh-xen-lib. They use $failed and $log of the script.

result() { # TEXT STATUS; returns STATUS
  if [ "$2" -eq 0 ]; then echo "ok - $1"; else echo "not ok - $1"; failed=$((failed + 1)); fi
  return "$2"
}
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b - a}'; }
# until_ok SECONDS CMD...: CMD succeeds within SECONDS (by the clock: one
# try of CMD can take long under emulation).
until_ok() {
  end=$(awk -v a="$(now)" -v s="$1" 'BEGIN{print a + s}')
  shift
  while ! "$@" >/dev/null 2>&1; do
    awk -v a="$(now)" -v e="$end" 'BEGIN{exit !(a > e)}' && return 1
    sleep 0.2
  done
}
state_is() { qvm-ls --raw-data 2>/dev/null | grep -q "^$1|$2|"; }
# Started once more if libxl's block hotplug script missed its 40 s under a
# busy emulation (the same reason run-xen-qemu.sh boots again).
# A first start whose caller gave up (a D-Bus timeout) may go on and succeed:
# the retry then finds the qube running, which is a started qube.
start() {
  err=$(qvm-start "$1" 2>&1 >/dev/null) && return 0
  echo "# qvm-start $1 failed once ($(echo $err)): $(tail -n 3 "$log" | tr '\n' '|')"
  err=$(qvm-start "$1" 2>&1 >/dev/null) && return 0
  case $err in
    *"is already running"*) state_is "$1" Running && echo "# $1 runs: the first start went on" && return 0 ;;
  esac
  echo "# qvm-start $1 failed again ($(echo $err))"
  return 1
}
# stop_daemon PID: bulkheadd ends on SIGTERM, reported with the caller's
# result TEXT STATUS.
# One that has not ended after 120 s is killed (a stop that hangs fails
# the check instead of the boot's bound: session 10's control of the
# synchronous destroy hung there).
stop_daemon() {
  t=$(now)
  kill "$1" 2>/dev/null
  if until_ok 120 sh -c "! kill -0 $1"; then
    wait "$1"
    rc=$?
    result "bulkheadd stops cleanly on SIGTERM in $(since "$t") s (status $rc)" $rc
  else
    kill -KILL "$1" 2>/dev/null
    wait "$1"
    result "bulkheadd stops cleanly on SIGTERM (still running after 120 s: killed)" 1
  fi
}
