#!/bin/busybox sh
# dom0-init.sh — /init of the QEMU test's dom0 (built by run-xen-qemu.sh).
# Brings up the Xen toolstack the way a distribution's dom0 does (xenfs,
# xenstored, xen-init-dom0, xenconsoled) on the host's /usr (virtio-9p,
# read-only), runs bh-xen-dom0-test and then the desktop (bh-xen-desktop:
# Xvfb, bulkheadd with guid), prints their status and ends QEMU through the
# isa-debug-exit port with it.
/bin/busybox --install -s /bin
# Xen's own programs first: /usr/sbin/xl and friends are Debian's wrappers.
export PATH=/usr/lib/xen-4.17/bin:/opt/bh/bin:/usr/bin:/usr/sbin:/bin:/sbin
# The xen backend's own block hotplug script (the installed one's place).
export BH_XEN_BLOCK_SCRIPT=/opt/bh/bin/bulkhead-xen-block
# Sanitizer builds: libxl, xenstore and libxenvchan keep allocations until
# exit, which LeakSanitizer would turn into a failing status after every check
# passed; our own code's leaks are checked by the unit tests. Inert otherwise.
export ASAN_OPTIONS=detect_leaks=0
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /run /tmp /var/run/xen /var/lib/xen /var/lib/xenstored /var/log/xen/console
mount -t devpts devpts /dev/pts
# udev's links: the hotplug scripts' locking stats /dev/stdin.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs run /run
mkdir -p /run/xen /run/xenstored
for m in $(cat /modules/order); do
  insmod /modules/$m.ko || echo "dom0-init: cannot load $m"
done
mount -t xenfs xenfs /proc/xen
# Page cache on (cache=loose): /usr does not change under a running test.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostusr /usr ||
  echo "dom0-init: cannot mount the host's /usr"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /out ||
  echo "dom0-init: cannot mount the output directory"
# A program that crashes in dom0 leaves its core on the host (out/, kept
# with BH_XEN_QEMU_KEEP=1), for gdb with the build's binaries.
ulimit -c unlimited
echo '/out/core.%e.%p' > /proc/sys/kernel/core_pattern

bh_exit() { # QEMU exits with (status << 1) | 1
  printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  poweroff -f
}

echo "dom0-init: starting xenstored"
xenstored --pid-file /run/xenstored.pid
i=0
while [ ! -s /run/xenstored.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
xen-init-dom0 || { echo "dom0-init: xen-init-dom0 failed"; bh_exit 2; }
# The guests' consoles in out/ (on the host too, while the test runs).
mkdir -p /out/console
xenconsoled --log=guest --log-dir=/out/console

# The backend's state: a template root image and the domU kernel + initramfs.
mkdir -p /var/lib/bulkhead
mount -t tmpfs -o size=256m state /var/lib/bulkhead
mkdir -p /var/lib/bulkhead/qubes/debian-12 /var/lib/bulkhead/vm-kernels
cp -a /test/vm-kernels/default /var/lib/bulkhead/vm-kernels/
truncate -s 64M /var/lib/bulkhead/qubes/debian-12/root.img

# The disk hotplug script's programs (xenstore's tools; losetup for the
# tests' own loop devices) run once before any qube starts, so that its
# first run reads nothing over 9p: under emulation on a busy machine a first
# add that also loaded bash, losetup, flock and xenstore's tools and their
# libraries from the host missed libxl's fixed 40 s (load 12), when the
# script still attached the images itself.
/usr/bin/bash -c 'PATH=/usr/sbin:/usr/bin; losetup --version; stat --version
  cat /dev/null; xenstore-read domid; xenstore-ls /local/domain/0' >/dev/null 2>&1
echo "BH-XEN-QEMU-BEGIN"
mkdir -p /root /run/user0 && chmod 700 /run/user0
rc=0
tests=yes desktop=yes
[ -e /test/desktop-only ] && tests=
if [ -e /test/stress ]; then
  # The reproducer of the emulation's crashes (BH_XEN_QEMU_STRESS): nothing else.
  bh-xen-stress $(cat /test/stress)
  echo "BH-XEN-QEMU-END $?"
  bh_exit 0
fi
if [ -e /test/template ]; then
  # The template part (run-xen-qemu.sh --template) instead of the others:
  # the host's template image over 9p, writable (the host checks it).
  mkdir -p /tpl
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 tpl /tpl || echo "dom0-init: cannot mount the template"
  HOME=/root XDG_RUNTIME_DIR=/run/user0 bh-xen-template /var/lib/bulkhead /out /tpl
  rc=$?
  tests= desktop=
fi
if [ -n "$tests" ]; then
  HOME=/root XDG_RUNTIME_DIR=/run/user0 BH_VCHAN_TRANSPORT=xen bh-xen-dom0-test /var/lib/bulkhead /test/golden \
    $([ -e /test/long ] && echo --pvh)
  rc=$?
fi
if [ -n "$desktop" ]; then
echo "BH-XEN-QEMU-DESKTOP"
if [ -e /test/net-only ]; then
  dbus-daemon --config-file=/etc/bh-bus.conf --fork --nopidfile
else
  HOME=/root XDG_RUNTIME_DIR=/run/user0 bh-xen-desktop /var/lib/bulkhead /out $([ -e /test/desktop ] && echo --display)
  drc=$?
  [ $rc -eq 0 ] && rc=$drc
fi
# A netvm on Xen and its clients (dom0-net.sh), on the desktop's D-Bus;
# only when asked for (BH_XEN_QEMU_NET=1: not passing yet).
if [ -e /test/net ]; then
  HOME=/root XDG_RUNTIME_DIR=/run/user0 bh-xen-net /var/lib/bulkhead /out
  drc=$?
  [ $rc -eq 0 ] && rc=$drc
fi
fi
echo "BH-XEN-QEMU-END $rc"
# On failure, what the hypervisor, the toolstack and the guests said; the
# guests' consoles (the gui-agent's --verbose log) last, because a CI excerpt
# keeps the end of a failed test's output.
if [ $rc -ne 0 ]; then
  echo "---- xl dmesg"
  xl dmesg 2>/dev/null | tail -n 20
  for f in /var/log/xen/*.log /out/console/*.log; do
    [ -f "$f" ] && { echo "---- $f"; tail -n 80 "$f"; }
  done
fi
bh_exit $rc
