#!/bin/sh
# dom0-template.sh STATE_DIR OUT_DIR TPL_DIR — the QEMU test's template
# part (meson -Dxen-qemu-template=true; run-xen-qemu.sh --template), in
# dom0 instead of the other parts: an AppVM of the Debian template that
# build-aux/xen-template.sh built on the host (TPL_DIR, 9p, writable:
# root.img, the template's kernel uncompressed, its initramfs, kver),
# started by the real bulkheadd --backend=xen --no-guid, boots Debian's
# kernel and systemd with the template's root read-only, xvdc as the
# overlay's upper layer and xvdb as /home. Checks:
#   - qvm-run -p reaches the template's bulkhead-agent (systemd's unit):
#     output, status, the default user;
#   - what the AppVM sees: / an overlay, /home on xvdb, xvda read-only;
#     root in the AppVM cannot write to xvda (control: it can to xvdc);
#   - a file in /home survives a restart, one in /usr and one in / do not
#     (control: they were there before the restart);
#   - the image's bulkhead-xen-net unit ran.
# The host then compares root.img's sha256 with the one taken at build.
# Prints TAP lines without numbers and, last, "template: done".
set -u
state=$1
out=$2
tpl=$3
failed=0
log=$out/bulkheadd.log
export DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bh-bus BH_VCHAN_TRANSPORT=xen
# Debian's kernel and systemd take minutes to boot under this emulation on
# a busy machine (the busybox domU: seconds): the agent answered 828 s
# after Running at load 11-13; bulkheadd's default is 120 s.
export BH_XEN_AGENT_TIMEOUT_S=1800
. /opt/bh/bin/bh-xen-lib
kver=$(cat "$tpl/kver")

# The template where bulkheadd looks for it (dom0-init.sh made a stand-in
# root.img), read by its loop device over 9p. Its kernel and initramfs are
# copied into the state's tmpfs: libxl maps them, and a mapping of a 9p
# file without a cache is read a page per request (the domain was still
# not built after 8 minutes). Room there for them and for the private and
# volatile file systems.
mount -o remount,size=768m "$state"
ln -sf "$tpl/root.img" "$state/qubes/debian-12/root.img"
mkdir -p "$state/vm-kernels/$kver"
cp "$tpl/vmlinux" "$state/vm-kernels/$kver/vmlinuz"
cp "$tpl/initramfs" "$state/vm-kernels/$kver/initramfs"

dbus-daemon --config-file=/etc/bh-bus.conf --fork --nopidfile
result "a private D-Bus runs in dom0" $?
bulkheadd --backend=xen --no-autostart --no-guid --verbose --state-dir="$state" >"$log" 2>&1 &
daemon=$!
until_ok 30 qvm-ls --raw-data
result "bulkheadd --backend=xen answers on the bus" $?
qvm-create -t debian-12 -l red --prop netvm= --prop memory=512 --prop maxmem=512 --prop virt_mode=pv \
  --prop vcpus=1 --prop "kernel=$kver" --prop shutdown_timeout=600 app >/dev/null 2>&1
result "qvm-create app (AppVM of debian-12, PV, kernel $kver)" $?

# qvm-start waits for bulkheadd's answer at most 120 s (the CLI's D-Bus
# bound), less than this boot takes: the start is asked for and the state
# waited for (Running), unless bulkheadd logs that the start failed; then
# it is asked once more (libxl's fixed 40 s and 10 s for the disks can be
# missed under a busy emulation, as run-xen-qemu.sh says).
start_failed() { [ "$(grep -c "\[$1\] start failed" "$log")" -gt "$2" ]; }
running_or_failed() { state_is "$1" Running || start_failed "$1" "$2"; }
boot() { # QUBE
  t=$(now)
  for try in 1 2; do
    failures=$(grep -c "\[$1\] start failed" "$log")
    qvm-start "$1" >/tmp/start.out 2>&1 &
    starter=$!
    until_ok 1200 running_or_failed "$1" "$failures"
    state_is "$1" Running && return 0
    echo "# $1 not Running (try $try): $(grep "\[$1\] start failed" "$log" | tail -n 1 | cut -c1-300)"
    # This qvm-start only: a bare wait would wait for bulkheadd too (the
    # second try never came).
    wait "$starter"
  done
  echo "# xl list: $(xl list 2>&1 | tr '\n' '|'); loop devices: $(/usr/sbin/losetup -a | tr '\n' '|')"
  return 1
}
boot app
result "qvm-start app: Debian's kernel and systemd from the template, Running after $(since "$t") s" $?
t=$(now)
got=$(qvm-run -p app 'id -un; . /etc/os-release; echo $ID; exit 5' 2>&1)
rc=$?
got=$(echo $got)
result "qvm-run -p app in $(since "$t") s: status $rc, output '$got' (the default user, Debian)" \
  $([ $rc -eq 5 ] && [ "$got" = "user debian" ]; echo $?)
got=$(qvm-run -p app 'findmnt -n -o FSTYPE /; findmnt -n -o SOURCE /home; cat /sys/block/xvda/ro /sys/block/xvdc/ro' 2>&1)
got=$(echo $got)
result "in the AppVM, / is an overlay, /home is xvdb, xvda read-only, xvdc writable: '$got'" \
  $([ "$got" = "overlay /dev/xvdb 1 0" ]; echo $?)
# Root in the AppVM writes one sector at the start of each disk (ext4
# keeps nothing in the first 1 KiB): refused on xvda, done on xvdc.
got=$(qvm-run -p -u root app 'dd if=/dev/zero of=/dev/xvdc bs=512 count=1 conv=notrunc,fsync' 2>&1)
rc=$?
result "control: root in the AppVM writes a sector of xvdc: status $rc" $rc
got=$(qvm-run -p -u root app 'dd if=/dev/zero of=/dev/xvda bs=512 count=1 conv=notrunc,fsync' 2>&1)
rc=$?
result "root in the AppVM cannot write the template's disk xvda: status $rc ($(echo $got | cut -c1-80))" \
  $([ $rc -ne 0 ]; echo $?)

got=$(qvm-run -p app 'echo kept-across-starts >~/kept && sync && cat ~/kept' 2>&1)
r1=$?
got2=$(qvm-run -p -u root app 'echo gone >/usr/bh-volatile-probe && echo gone >/bh-volatile-probe && sync &&
  cat /usr/bh-volatile-probe /bh-volatile-probe' 2>&1)
r2=$?
got2=$(echo $got2)
result "control: files written in /home ('$got') and, as root, in /usr and / ('$got2')" \
  $([ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$got" = kept-across-starts ] && [ "$got2" = "gone gone" ]; echo $?)
# The image's network unit ran (this qube has no netvm: nothing to do).
# As root: the image has no D-Bus, and systemctl reaches systemd over its
# private socket only as root.
got=$(qvm-run -p -u root app 'systemctl is-active bulkhead-xen-net' 2>&1)
result "bulkhead-xen-net's unit in the image ran: '$got'" $([ "$got" = active ]; echo $?)

t=$(now)
qvm-shutdown app >/dev/null 2>&1
until_ok 600 state_is app Halted
result "qvm-shutdown app: Halted after $(since "$t") s" $?
boot app
result "qvm-start app again: Running after $(since "$t") s" $?
got=$(qvm-run -p app 'cat ~/kept; for f in /usr/bh-volatile-probe /bh-volatile-probe; do
  test -e $f && echo $f-kept || echo $f-gone; done' 2>&1)
got=$(echo $got)
result "after the restart, /home kept its file (private), /usr and / did not (volatile): '$got'" \
  $([ "$got" = "kept-across-starts /usr/bh-volatile-probe-gone /bh-volatile-probe-gone" ]; echo $?)
t=$(now)
qvm-kill app >/dev/null 2>&1
until_ok 300 state_is app Halted
result "qvm-kill app: Halted after $(since "$t") s" $?

kill "$daemon" 2>/dev/null
until_ok 120 sh -c "! kill -0 $daemon"
wait "$daemon"
result "bulkheadd stops cleanly on SIGTERM (status $?)" $?
sync
if [ $failed -gt 0 ]; then
  echo "# ---- bulkheadd's log (last 60 lines)"
  tail -n 60 "$log" | sed 's/^/# /'
fi
echo "template: done"
[ $failed -eq 0 ]
