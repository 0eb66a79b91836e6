#!/usr/bin/env bash
# run-xen-qemu.sh DOM0_TEST GUEST_CLIENT GUI_AGENT RPC_AGENT BULKHEADD CLI — boots Debian's Xen 4.17 with a
# Linux dom0 under qemu-system-x86_64 (TCG), dom0 and domU from initramfs
# images built here with the project's programs and their libraries, runs
# bh-xen-dom0-test in dom0 and relays its TAP. One boot does every check.
# How to run it and what it proves: docs/xen.md.
#
# Skips (TAP "1..0 # SKIP") when the packages are missing, naming them.
# BH_XEN_QEMU_KEEP=1 keeps the work directory (images, serial log).
set -uo pipefail

dom0_test=$1
guest_client=$2
gui_agent=$3
rpc_agent=$4
bulkheadd=$5
cli=$6
src=${BH_SOURCE_ROOT:?BH_SOURCE_ROOT must name the source tree}
xenbin=/usr/lib/xen-4.17/bin
packages="dbus-daemon weston qemu-system-x86 xen-hypervisor-4.17-amd64 xen-utils-4.17 linux-image-amd64 busybox-static cpio"

kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
kver=${kernel#/boot/vmlinuz-}
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86_64)
[ -f /boot/xen-4.17-amd64.gz ] || missing+=(/boot/xen-4.17-amd64.gz)
[ -n "$kernel" ] && [ -d "/lib/modules/$kver" ] || missing+=("/boot/vmlinuz-* with its modules")
[ -x "$xenbin/xenstored" ] || missing+=("$xenbin/xenstored")
busybox --list 2>/dev/null | grep -x insmod >/dev/null || missing+=("busybox with applets")
command -v cpio >/dev/null || missing+=(cpio)
[ -x /usr/bin/weston-simple-shm ] || missing+=(weston-simple-shm)
command -v dbus-daemon >/dev/null || missing+=(dbus-daemon)
if [ ${#missing[@]} -gt 0 ]; then
  echo "1..0 # SKIP Xen under QEMU needs ${missing[*]}: apt-get install $packages"
  exit 0
fi

work=$(mktemp -d /tmp/bh-xen-qemu.XXXXXX)
if [ -z "${BH_XEN_QEMU_KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; else echo "# work directory: $work"; fi
t_start=$(date +%s.%N)

# add_prog ROOT FILE [DEST]: a program with the shared libraries it needs.
add_prog() {
  local root=$1 file=$2 dest=${3:-$2} lib
  install -D -m 0755 "$file" "$root$dest"
  for lib in $(ldd "$file" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}'); do
    [ -e "$root$lib" ] || [ -L "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}

add_modules() { # ROOT MODULE...
  local root=$1 m; shift
  mkdir -p "$root/lib/modules"
  for m in "$@"; do
    cp "$(modinfo -k "$kver" -F filename "$m")" "$root/lib/modules/$m.ko" || return 1
  done
}

base_root() { # ROOT: busybox, the dynamic loader's directory layout, /lib64
  local root=$1
  mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,lib64,usr/bin,usr/lib}
  cp "$(command -v busybox)" "$root/bin/busybox"
  install -D -m 0755 "$(readlink -f /lib64/ld-linux-x86-64.so.2)" \
    "$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
}

pack() { # ROOT OUT
  (cd "$1" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$2"
}

# ---- domU -------------------------------------------------------------------
domu=$work/domu
base_root "$domu"
add_prog "$domu" "$guest_client" /bin/bh-xen-guest-client
# The real gui-agent with a real Wayland client (wl_shm), once the stand-in
# is done; libxkbcommon compiles dom0's keymap from the xkb data.
add_prog "$domu" "$gui_agent" /usr/bin/bulkhead-gui-agent
add_prog "$domu" /usr/bin/weston-simple-shm
# The RPC agent (qvm-run's other end) and the users it may run programs as.
add_prog "$domu" "$rpc_agent" /usr/bin/bulkhead-agent
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > "$domu/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' > "$domu/etc/group"
mkdir -p "$domu/usr/share/X11"
cp -a /usr/share/X11/xkb "$domu/usr/share/X11/"
add_modules "$domu" xen-evtchn xen-gntdev xen-gntalloc xen-blkfront || exit 1
install -m 0755 "$src/tests/xen/domu-init.sh" "$domu/init"
pack "$domu" "$work/domu.cpio.gz"

# ---- dom0 -------------------------------------------------------------------
dom0=$work/dom0
base_root "$dom0"
for p in xl xenstored xenconsoled xen-init-dom0 libxl-save-helper; do
  add_prog "$dom0" "$xenbin/$p"
done
add_prog "$dom0" /usr/bin/xenstore
for l in read write exists rm list ls chmod watch; do ln -sf xenstore "$dom0/usr/bin/xenstore-$l"; done
# What the block hotplug script needs beyond busybox (util-linux, coreutils).
add_prog "$dom0" /bin/bash /bin/bash
add_prog "$dom0" "$(command -v flock)" /usr/bin/flock
add_prog "$dom0" "$(command -v losetup)" /usr/sbin/losetup
add_prog "$dom0" "$(command -v stat)" /usr/bin/stat
add_prog "$dom0" "$dom0_test" /usr/bin/bh-xen-dom0-test
# bulkheadd, the CLI under its Qubes names and a private D-Bus for them.
add_prog "$dom0" "$bulkheadd" /usr/bin/bulkheadd
add_prog "$dom0" "$cli" /usr/bin/bulkhead
for n in qvm-ls qvm-create qvm-run qvm-start qvm-kill qvm-prefs; do ln -sf bulkhead "$dom0/usr/bin/$n"; done
add_prog "$dom0" "$(command -v dbus-daemon)" /usr/bin/dbus-daemon
install -m 0644 "$src/tests/xen/bh-bus.conf" "$dom0/etc/bh-bus.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nmessagebus:x:100:101::/:/bin/false\n' > "$dom0/etc/passwd"
printf 'root:x:0:\nmessagebus:x:101:\n' > "$dom0/etc/group"
# Without libgcc_s, xl and libxl abort on pthread_cancel (NOTES.md).
gcc_s=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/{print $NF; exit}')
install -D "$(readlink -f "$gcc_s")" "$dom0$gcc_s"
mkdir -p "$dom0/etc/xen"
cp -a /etc/xen/scripts "$dom0/etc/xen/"
cp /etc/xen/xl.conf "$dom0/etc/xen/"
add_modules "$dom0" xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc xen-blkback loop || exit 1
install -m 0755 "$src/tests/xen/dom0-init.sh" "$dom0/init"
mkdir -p "$dom0/test/golden" "$dom0/test/vm-kernels/default"
cp "$src"/tests/data/xen/*.json "$dom0/test/golden/"
# The domU boots an uncompressed kernel: xl create is ~5x faster than with
# the xz-compressed bzImage under emulation (NOTES.md).
python3 - "$kernel" "$dom0/test/vm-kernels/default/vmlinuz" <<'PY' || exit 1
import lzma, sys
data = open(sys.argv[1], 'rb').read()
start = data.find(b'\xfd7zXZ\x00')
if start < 0:
    sys.exit('no xz stream in ' + sys.argv[1])
open(sys.argv[2], 'wb').write(lzma.LZMADecompressor().decompress(data[start:]))
PY
cp "$work/domu.cpio.gz" "$dom0/test/vm-kernels/default/initramfs"
pack "$dom0" "$work/dom0.cpio.gz"
zcat /boot/xen-4.17-amd64.gz > "$work/xen"
t_built=$(date +%s.%N)
echo "# images built in $(awk "BEGIN{printf \"%.1f\", $t_built - $t_start}") s (kernel $kver)"

# ---- boot -------------------------------------------------------------------
# smap=0: dom0 crashes at once under TCG without it (NOTES.md).
# In the background, so that a test runner's SIGTERM (its timeout, Ctrl+C)
# ends QEMU too (timeout passes it on) instead of leaving it on the cores.
boot_once() {
  : > "$work/serial.log"
  t_boot=$(date +%s.%N)
  timeout 500 qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 2 -m 2048 \
    -display none -no-reboot -serial "file:$work/serial.log" -monitor none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$work/xen" \
    -append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 smap=0 smep=0" \
    -initrd "$kernel console=hvc0 quiet loglevel=3,$work/dom0.cpio.gz" \
    </dev/null >"$work/qemu.out" 2>&1 &
  qemu_pid=$!
  trap 'kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid"; exit 1' TERM INT HUP
  wait "$qemu_pid"
  qemu_rc=$?
  trap - TERM INT HUP
  t_end=$(date +%s.%N)
  tr -d '\r' < "$work/serial.log" > "$work/serial.txt"
}

boot_once
# libxl gives each disk hotplug script 40 s; under emulation on a busy machine
# (other jobs on the two cores) the block script can miss that, which says
# nothing about our code. Such a run gets one more boot, and says so.
if [ "$qemu_rc" -ne 1 ] && grep -qE 'scripts/block (add|remove) because of timeout|scripts/block failed' "$work/serial.txt"; then
  echo "# libxl's block hotplug script timed out under emulation (machine busy): booting once more"
  boot_once
fi

# dom0's TAP, between its markers.
sed -n '/^BH-XEN-QEMU-BEGIN$/,/^BH-XEN-QEMU-END/p' "$work/serial.txt" \
  | grep -E '^(ok|not ok) [0-9]+|^1\.\.[0-9]+|^# ' > "$work/tap.txt"
echo "# boot to exit: $(awk "BEGIN{printf \"%.1f\", $t_end - $t_boot}") s, QEMU status $qemu_rc"
if grep -q '^1\.\.' "$work/tap.txt"; then
  cat "$work/tap.txt"
else
  # No complete plan: a crash or a hang. Count what ran and fail.
  grep -E '^(ok|not ok) ' "$work/tap.txt"
  n=$(grep -cE '^(ok|not ok) ' "$work/tap.txt")
  echo "not ok $((n + 1)) - dom0's test ran to its end (QEMU status $qemu_rc)"
  echo "1..$((n + 1))"
fi
# isa-debug-exit: status 0 from dom0 is QEMU status 1.
if [ "$qemu_rc" -ne 1 ]; then
  echo "# ---- last lines of the serial console ($work/serial.log)" 
  tail -n 120 "$work/serial.txt" | sed 's/^/# /'
  exit 1
fi
exit 0
