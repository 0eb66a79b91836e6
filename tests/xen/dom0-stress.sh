#!/bin/sh
# dom0-stress.sh CYCLES MODE — the QEMU harness's reproducer for processes
# crashing in dom0 under emulation (docs/xen.md, "Processes crashing in dom0"),
# with none of this project's programs: two loops of busybox md5sum over files
# of /usr (sums known from the host, /test/stress-sums) beside CYCLES rounds of
# Xen's own xl:
#   run     xl create of a 256 MiB PV domU (the test's kernel and initramfs,
#           no disks), 20 s up, xl destroy;
#   paused  the same domain built paused (xl create -p), never run, destroyed;
#   none    no domain: the control, the loops alone for the same time.
# Every md5sum that ends with a non-zero status (139: SIGSEGV) or prints a
# sum the host did not compute counts. Prints TAP without numbers
# (run-xen-qemu.sh numbers it) and, as comments, when each crash came
# relative to the domains' steps and what the kernel logged about it.
# The 20 s are the length of the load, not a wait for an event.
set -u
cycles=$1
mode=$2
files=$(cut -d' ' -f3 /test/stress-sums)
now() { cut -d' ' -f1 /proc/uptime; }
rm -f /tmp/stress-stop /tmp/stress-events /tmp/stress-sums.* /tmp/stress-count.*
event() { echo "$(now) $*" >>/tmp/stress-events; }

loop() { # ID
  n=0
  while [ ! -e /tmp/stress-stop ]; do
    for f in $files; do
      [ -e /tmp/stress-stop ] && break
      /bin/busybox md5sum "$f" >>/tmp/stress-sums."$1"
      rc=$?
      n=$((n + 1))
      [ $rc -ne 0 ] && event "loop $1: md5sum $f ended with status $rc"
    done
  done
  echo $n >/tmp/stress-count."$1"
}

cat >/tmp/stress.cfg <<EOF
name = "stress"
type = "pv"
kernel = "/var/lib/bulkhead/vm-kernels/default/vmlinuz"
ramdisk = "/var/lib/bulkhead/vm-kernels/default/initramfs"
memory = 256
vcpus = 1
extra = "console=hvc0 quiet"
on_poweroff = "destroy"
EOF

echo "# stress: Xen $(xl info 2>/dev/null | sed -n 's/^xen_commandline *: //p')"
echo "# stress: dom0 $(cat /proc/cmdline); $(grep -c ^processor /proc/cpuinfo) vCPUs"
echo "# stress: dom0 CPU $(grep -m 1 '^model name' /proc/cpuinfo | cut -d: -f2-)"
# How dom0's kernel saves a task's FPU state (XSAVE or FXSAVE), then a
# clean kernel log for the crashes.
dmesg | grep -E 'x86/fpu: (Enabled|Supporting)' | head -n 2 | sed 's/^/# stress: kernel: /'
dmesg -c >/dev/null
loop 1 &
l1=$!
loop 2 &
l2=$!
i=1
while [ $i -le "$cycles" ]; do
  case $mode in
    run | paused)
      event "cycle $i: xl create"
      if [ "$mode" = paused ]; then xl create -q -p /tmp/stress.cfg; else xl create -q /tmp/stress.cfg; fi
      event "cycle $i: created (status $?)"
      sleep 20
      event "cycle $i: xl destroy"
      xl destroy stress
      event "cycle $i: destroyed (status $?)"
      ;;
    none)
      event "cycle $i: no domain"
      sleep 25
      ;;
  esac
  i=$((i + 1))
done
touch /tmp/stress-stop
wait $l1 $l2
total=$(($(cat /tmp/stress-count.1) + $(cat /tmp/stress-count.2)))
crashed=$(grep -c 'ended with status' /tmp/stress-events)
wrong=$(cat /tmp/stress-sums.* | grep -c -v -x -F -f /test/stress-sums)
sed 's/^/# stress: /' /tmp/stress-events
dmesg | grep -E 'segfault|traps:|general protection|invalid opcode|BUG|Oops' | head -n 20 | sed 's/^/# stress: kernel: /'
# Xen's speculation settings say whether its FPU switching is lazy or eager.
xl dmesg 2>/dev/null | grep -E 'Xen settings|Support for PV|EAGER_FPU' | sed 's/^/# stress: xen: /'
result=ok
[ "$crashed" -eq 0 ] && [ "$wrong" -eq 0 ] || result="not ok"
echo "$result - stress ($mode, $cycles cycles): $crashed of $total md5sum processes crashed, $wrong printed a wrong sum"
echo "stress: done"
[ "$result" = ok ]
