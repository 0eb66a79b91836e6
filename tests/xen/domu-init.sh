#!/bin/busybox sh
# domu-init.sh — /init of the QEMU test's domU: loads the Xen front-end
# drivers, notes what it sees of its disks, starts bulkhead-agent, runs bh-xen-guest-client (in qube
# work only), then bulkhead-gui-agent with weston-simple-shm and foot, and idles until dom0 asks it to power off (the kernel runs /sbin/poweroff).
/bin/busybox --install -s /bin
# /usr/bin after busybox's: bulkhead-applist, which bulkheadd runs by name
# through the agent (the agent's programs get its PATH).
export PATH=/bin:/sbin:/usr/bin
# Sanitizer builds: libxl, xenstore and libxenvchan keep allocations until
# exit, which LeakSanitizer would turn into a failing status after every check
# passed; our own code's leaks are checked by the unit tests. Inert otherwise.
export ASAN_OPTIONS=detect_leaks=0
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# The loopback, as every init brings it up: without it a qube's programs
# cannot reach its own addresses (dom0-net.sh's services on them).
ip link set lo up
# foot opens a pty for its shell.
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for m in xen-evtchn xen-gntdev xen-gntalloc xen-blkfront; do
  insmod /lib/modules/$m.ko || echo "domu-init: cannot load $m"
done
rm -f /sbin/poweroff
printf '#!/bin/sh\nexec /bin/busybox poweroff -f\n' > /sbin/poweroff
chmod +x /sbin/poweroff

facts=""
for d in xvda xvdb xvdc; do
  i=0
  while [ ! -e /sys/block/$d/ro ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  facts="$facts $d:ro=$(cat /sys/block/$d/ro 2>/dev/null)"
done
echo "domu-init: disks$facts"
# The RPC agent first, in the background: bulkheadd's qvm-run reaches the
# domU through it (vchan port 512), whatever the rest of this init does.
BH_VCHAN_TRANSPORT=xen /usr/bin/bulkhead-agent &
# Networking, for a qube with a netvm or one that provides network (dom0-net.sh).
/usr/lib/bulkhead/domu-net &
# The backend test's qube ("work") runs the stand-in client first; a qube
# that bulkheadd starts has guid (or nobody) at the other end and gets the
# agent at once.
name=$(/usr/bin/xenstore-read bulkhead/name 2>/dev/null)
echo "domu-init: qube ${name:-(no name)}"
if [ "$name" = work ]; then
  BH_VCHAN_TRANSPORT=xen /bin/bh-xen-guest-client "$facts"
  echo "domu-init: client exited with $?"
fi
# Then the real gui-agent with real Wayland clients: weston-simple-shm
# (wl_shm), and on the desktop run (/etc/bh-desktop) foot running sh, whose
# keys come from dom0; --verbose adds a line per connection and window,
# shown when the test fails. foot's own log goes to a file (the desktop test
# prints it when foot's window is missing): its log showed why its window
# never came: no pty (devpts is mounted now). Without the desktop, a qube of
# bulkheadd (started --no-guid) runs its RPC agent only.
mkdir -p /run/user /root && chmod 700 /run/user
# The network part's qubes (dom0-net.sh, started --no-guid) run no GUI:
# under emulation it would only take their CPU.
if [ -n "$(/usr/bin/xenstore-read bulkhead/net/ip 2>/dev/null)" ]; then
  :
elif [ -e /etc/bh-desktop ]; then
  XDG_RUNTIME_DIR=/run/user BH_VCHAN_TRANSPORT=xen HOME=/root LANG=C.UTF-8 SHELL=/bin/sh ENV= PS1='$ ' \
    /usr/bin/bulkhead-gui-agent --verbose --exec /usr/bin/weston-simple-shm --exec '/usr/bin/foot 2>/tmp/foot.log' &
elif [ "$name" = work ]; then
  XDG_RUNTIME_DIR=/run/user BH_VCHAN_TRANSPORT=xen \
    /usr/bin/bulkhead-gui-agent --verbose --exec /usr/bin/weston-simple-shm &
fi
while :; do sleep 3600; done
