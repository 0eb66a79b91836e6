#!/bin/busybox sh
# dom0-init.sh — /init of the QEMU test's dom0 (built by run-xen-qemu.sh).
# Brings up the Xen toolstack the way a distribution's dom0 does (xenfs,
# xenstored, xen-init-dom0, xenconsoled), runs bh-xen-dom0-test, prints its
# status and ends QEMU through the isa-debug-exit port with it.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/usr/sbin:/bin:/sbin:/usr/lib/xen-4.17/bin
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
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc xen-blkback loop; do
  insmod /lib/modules/$m.ko || echo "dom0-init: cannot load $m"
done
mount -t xenfs xenfs /proc/xen

bh_exit() { # QEMU exits with (status << 1) | 1
  printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  poweroff -f
}

echo "dom0-init: starting xenstored"
xenstored --pid-file /run/xenstored.pid
i=0
while [ ! -s /run/xenstored.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
xen-init-dom0 || { echo "dom0-init: xen-init-dom0 failed"; bh_exit 2; }
xenconsoled --log=guest --log-dir=/var/log/xen/console

# The backend's state: a template root image and the domU kernel + initramfs.
mkdir -p /var/lib/bulkhead
mount -t tmpfs -o size=256m state /var/lib/bulkhead
mkdir -p /var/lib/bulkhead/qubes/debian-12 /var/lib/bulkhead/vm-kernels
cp -a /test/vm-kernels/default /var/lib/bulkhead/vm-kernels/
truncate -s 64M /var/lib/bulkhead/qubes/debian-12/root.img

echo "BH-XEN-QEMU-BEGIN"
mkdir -p /root /run/user0 && chmod 700 /run/user0
HOME=/root XDG_RUNTIME_DIR=/run/user0 BH_VCHAN_TRANSPORT=xen /usr/bin/bh-xen-dom0-test /var/lib/bulkhead /test/golden
rc=$?
echo "BH-XEN-QEMU-END $rc"
# On failure, what the hypervisor, the toolstack and the guests said; the
# guests' consoles (the gui-agent's --verbose log) last, because a CI excerpt
# keeps the end of a failed test's output.
if [ $rc -ne 0 ]; then
  echo "---- xl dmesg"
  xl dmesg 2>/dev/null | tail -n 20
  for f in /var/log/xen/*.log /var/log/xen/console/*.log; do
    [ -f "$f" ] && { echo "---- $f"; tail -n 80 "$f"; }
  done
fi
bh_exit $rc
