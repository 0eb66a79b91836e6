#!/usr/bin/env bash
# run-xen-qemu.sh DOM0_TEST GUEST_CLIENT GUI_AGENT RPC_AGENT BULKHEADD CLI GUID [--long] [--desktop]
#   [--net] [--template=DIR] [--applist=BULKHEAD_APPLIST] — boots
# Debian's Xen 4.17 with a Linux dom0 under qemu-system-x86_64 (TCG), dom0 and
# domU from initramfs images built here with the project's programs and their
# libraries, runs bh-xen-dom0-test and then bulkheadd (dom0-desktop.sh) in dom0
# and relays their TAP. One boot does every check. --long adds a PVH boot
# (meson's xen-qemu-long), --desktop the desktop: Xvfb, guid, windows, a
# screenshot checked here, keys, failure cases (xen-qemu-desktop).
# --net runs only the network part (dom0-net.sh: a netvm and two clients;
# xen-qemu-net), as BH_XEN_QEMU_ONLY=net does.
# --template=DIR runs only the template part instead (xen-qemu-template:
# tests/xen/template-host.sh builds the image, cached in DIR, and checks
# it afterwards; dom0-template.sh boots an AppVM of it).
# How to run it and what it proves: docs/xen.md.
#
# Skips (TAP "1..0 # SKIP") when the packages are missing, naming them.
# BH_XEN_QEMU_KEEP=1 keeps the work directory (images, serial log, the
# desktop's screenshot and bulkheadd's log in out/).
# BH_XEN_QEMU_STRESS="CYCLES [run|paused|none]" boots only the reproducer of
# the emulation's crashes (dom0-stress.sh) instead of the tests. To compare
# configurations by hand: BH_XEN_QEMU_CPU (-cpu), BH_XEN_QEMU_ACCEL (-accel),
# BH_XEN_QEMU_SMP (-smp), BH_XEN_ARGS and BH_XEN_DOM0_ARGS (appended to Xen's
# and dom0's command lines). docs/xen.md has the table they filled.
set -uo pipefail

dom0_test=$1
guest_client=$2
gui_agent=$3
rpc_agent=$4
bulkheadd=$5
cli=$6
guid=$7
long= desktop= template= applist= only=${BH_XEN_QEMU_ONLY:-}
for opt in "${@:8}"; do
  case $opt in
    --applist=*) applist=${opt#--applist=} ;;
    --long) long=--long ;;
    --net) only=net ;;
    --desktop) desktop=--desktop ;;
    --template=*) template=${opt#--template=} ;;
    *) echo "run-xen-qemu.sh: unknown option $opt" >&2; exit 2 ;;
  esac
done
src=${BH_SOURCE_ROOT:?BH_SOURCE_ROOT must name the source tree}
xenbin=/usr/lib/xen-4.17/bin
packages="dbus-daemon libglib2.0-bin weston qemu-system-x86 xen-hypervisor-4.17-amd64 xen-utils-4.17 linux-image-amd64 busybox-static cpio"
[ -n "$desktop" ] && packages="$packages foot xvfb xdotool x11-apps x11-utils imagemagick"

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
command -v gdbus >/dev/null || missing+=(gdbus)
if [ -n "$desktop" ]; then
  for p in foot Xvfb xdotool xwd xwininfo convert fc-match; do command -v $p >/dev/null || missing+=($p); done
  [ -f /usr/share/applications/foot.desktop ] || missing+=(/usr/share/applications/foot.desktop)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "1..0 # SKIP Xen under QEMU needs ${missing[*]}: apt-get install $packages"
  exit 0
fi

work=$(mktemp -d /tmp/bh-xen-qemu.XXXXXX)
if [ -z "${BH_XEN_QEMU_KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; else echo "# work directory: $work"; fi
t_start=$(date +%s.%N)
qemu_extra=() # more QEMU arguments (the template part's share)
if [ -n "$template" ]; then
  . "$src/tests/xen/template-host.sh"
  bh_template_prepare "$template" "$rpc_agent" "$gui_agent"
fi

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
# The qube's app list for dom0's menu (docs/apps.md), which bulkheadd reads
# through the agent after each start: the guest program, found on the
# agent's PATH as in a template (and its desktop entries, below).
[ -n "$applist" ] && add_prog "$domu" "$applist" /usr/bin/bulkhead-applist
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > "$domu/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' > "$domu/etc/group"
mkdir -p "$domu/usr/share/X11"
cp -a /usr/share/X11/xkb "$domu/usr/share/X11/"
# xenstore-read for the init to learn its qube's name.
add_prog "$domu" /usr/bin/xenstore /usr/bin/xenstore
ln -sf xenstore "$domu/usr/bin/xenstore-read"
# The desktop qube's apps: foot (a terminal, so that typed keys end in a
# shell that writes them to a file) with one font, fontconfig's
# configuration and the C.UTF-8 locale foot asks for. /etc/bh-desktop tells
# the init to run them (without it, bulkheadd's qube runs its RPC agent only).
# foot's desktop entry (only that one of foot's three) is the app the qube's
# list must name in dom0 (dom0-desktop.sh, ListApps).
if [ -n "$desktop" ]; then
  add_prog "$domu" /usr/bin/foot
  install -D -m 0644 /usr/share/applications/foot.desktop "$domu/usr/share/applications/foot.desktop"
  font=$(fc-match -f '%{file}' monospace)
  install -D -m 0644 "$font" "$domu$font"
  cp -a /etc/fonts "$domu/etc/"
  mkdir -p "$domu/usr/lib/locale"
  cp -a /usr/lib/locale/C.utf8 "$domu/usr/lib/locale/"
  touch "$domu/etc/bh-desktop"
fi
add_modules "$domu" xen-evtchn xen-gntdev xen-gntalloc xen-blkfront || exit 1
# Networking (dom0-net.sh): drivers, nftables, bulkhead-xen-net.
. "$src/tests/xen/net-image.sh"
net_domu "$domu" || exit 1
install -m 0755 "$src/tests/xen/domu-init.sh" "$domu/init"
pack "$domu" "$work/domu.cpio.gz"

# ---- dom0 -------------------------------------------------------------------
# dom0's /usr is this machine's own, shared read-only over virtio-9p: Xen's
# tools, bash and util-linux for the hotplug scripts, dbus-daemon, Xvfb, GTK 4
# for guid, xdotool and xwd run as installed here, instead of being packed
# into the initramfs with their libraries and data. The initramfs holds
# busybox (to get that far), the kernel modules, /etc and the project's own
# programs in /opt/bh (their libraries come from that /usr).
dom0=$work/dom0
mkdir -p "$dom0"/{bin,sbin,dev,proc,sys,tmp,run,etc,usr,var/lib/xkb,opt/bh/bin,modules,out}
cp "$(command -v busybox)" "$dom0/bin/busybox"
ln -s usr/lib "$dom0/lib"
ln -s usr/lib64 "$dom0/lib64"
# The hotplug scripts' interpreter, found by their #! line.
ln -s /usr/bin/bash "$dom0/bin/bash"
# add_own FILE NAME: a program of this project into /opt/bh/bin, with any
# library it needs that is not under /usr (the build tree's own).
add_own() {
  local lib
  install -D -m 0755 "$1" "$dom0/opt/bh/bin/$2"
  for lib in $(ldd "$1" 2>/dev/null | awk '/=> \//{print $3}'); do
    case $(readlink -f "$lib") in /usr/* | /lib/* | /lib64/*) continue ;; esac
    [ -e "$dom0$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$dom0$lib"
  done
}
add_own "$dom0_test" bh-xen-dom0-test
# bulkheadd, guid, the CLI under its Qubes names and a private D-Bus for them.
add_own "$bulkheadd" bulkheadd
add_own "$guid" bulkhead-guid
add_own "$cli" bulkhead
for n in qvm-ls qvm-create qvm-run qvm-start qvm-shutdown qvm-kill qvm-prefs qvm-remove; do ln -sf bulkhead "$dom0/opt/bh/bin/$n"; done
install -m 0644 "$src/tests/xen/bh-bus.conf" "$dom0/etc/bh-bus.conf"
install -m 0755 "$src/tests/xen/dom0-desktop.sh" "$dom0/opt/bh/bin/bh-xen-desktop"
install -m 0644 "$src/tests/xen/dom0-lib.sh" "$dom0/opt/bh/bin/bh-xen-lib"
install -m 0755 "$src/tests/xen/dom0-stress.sh" "$dom0/opt/bh/bin/bh-xen-stress"
install -m 0755 "$src/tests/xen/dom0-template.sh" "$dom0/opt/bh/bin/bh-xen-template"
install -m 0644 "$src/tests/xen/dom0-loops.sh" "$dom0/opt/bh/bin/bh-xen-loops"
install -m 0755 "$src/core/backends/bulkhead-xen-block" "$dom0/opt/bh/bin/bulkhead-xen-block"
net_dom0
printf 'root:x:0:0:root:/root:/bin/sh\nmessagebus:x:100:101::/:/bin/false\n' > "$dom0/etc/passwd"
printf 'root:x:0:\nmessagebus:x:101:\n' > "$dom0/etc/group"
# What programs from /usr read from /etc: the loader's cache, Debian's
# alternatives (awk, ...), fontconfig's configuration (guid's title text).
cp /etc/ld.so.cache "$dom0/etc/"
cp -a /etc/alternatives /etc/fonts "$dom0/etc/"
mkdir -p "$dom0/etc/xen"
cp -a /etc/xen/scripts "$dom0/etc/xen/"
cp /etc/xen/xl.conf "$dom0/etc/xen/"
# virtio-9p (for /usr) first, in dependency order, then Xen's.
dom0_modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet
  9pnet_virtio 9p xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc xen-blkback loop"
for m in $dom0_modules; do
  cp "$(modinfo -k "$kver" -F filename "$m")" "$dom0/modules/$m.ko" || exit 1
done
echo $dom0_modules > "$dom0/modules/order"
install -m 0755 "$src/tests/xen/dom0-init.sh" "$dom0/init"
mkdir -p "$dom0/test/golden" "$dom0/test/vm-kernels/default"
cp "$src"/tests/data/xen/*.json "$dom0/test/golden/"
[ "$long" = --long ] && touch "$dom0/test/long"
[ -n "$desktop" ] && touch "$dom0/test/desktop"
[ -n "$template" ] && touch "$dom0/test/template"
# BH_XEN_QEMU_ONLY=desktop: skip bh-xen-dom0-test (while working on the desktop part).
[ "$only" = desktop ] && touch "$dom0/test/desktop-only"
# --net or BH_XEN_QEMU_ONLY=net: the network part only (dom0-net.sh; not a full run).
[ "$only" = net ] && touch "$dom0/test/desktop-only" "$dom0/test/net-only"
# The network part (dom0-net.sh) runs only when asked for (BH_XEN_QEMU_NET=1
# after the rest, or the above): 15-20 minutes under emulation on a busy
# machine, far beyond the default run's (docs/xen.md, step 9).
[ -n "${BH_XEN_QEMU_NET:-}" ] || [ "$only" = net ] && touch "$dom0/test/net"
stress=${BH_XEN_QEMU_STRESS:-}
if [ -n "$stress" ]; then
  set -- $stress
  echo "$1 ${2:-run}" >"$dom0/test/stress"
  # The files the reproducer's loops sum (small libraries, so that many
  # processes start and end), with the sums the host computes.
  find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name '*.so*' -size -1024k | sort | head -n 158 |
    xargs md5sum >"$dom0/test/stress-sums"
fi
# The domU boots an uncompressed kernel: xl create is ~5x faster than with
# the xz-compressed bzImage under emulation (NOTES.md).
python3 "$src/tests/xen/kernel-elf.py" "$kernel" "$dom0/test/vm-kernels/default/vmlinuz" || exit 1
cp "$work/domu.cpio.gz" "$dom0/test/vm-kernels/default/initramfs"
pack "$dom0" "$work/dom0.cpio.gz"
zcat /boot/xen-4.17-amd64.gz > "$work/xen"
t_built=$(date +%s.%N)
echo "# images built in $(awk "BEGIN{printf \"%.1f\", $t_built - $t_start}") s (kernel $kver)"

# ---- boot -------------------------------------------------------------------
# smap=0: dom0 crashes at once under TCG without it (NOTES.md).
# spec-ctrl=eager-fpu: Xen saves and restores a vCPU's FPU state at every
# switch instead of on the first FPU instruction after it (#NM with CR0.TS
# set), which it does by default on AMD CPUs, as QEMU's -cpu max says it is.
# QEMU's TCG raises no #NM for XSAVE, XSAVEOPT and XRSTOR, so dom0's kernel
# saved or loaded a task's registers while Xen still held another vCPU's
# there, and dom0's processes crashed whenever a domU ran beside them: the
# reproducer (BH_XEN_QEMU_STRESS) had 6 of 510 and 3 of 1 152 processes
# crash lazily, none of 1 521 eagerly (docs/xen.md, "Processes crashing in
# dom0"). BH_XEN_ARGS=spec-ctrl=no-eager-fpu brings the crashes back.
qemu_accel=${BH_XEN_QEMU_ACCEL:-tcg}
qemu_cpu=${BH_XEN_QEMU_CPU:-max}
qemu_smp=${BH_XEN_QEMU_SMP:-2}
xen_args=${BH_XEN_ARGS:-}
dom0_args=${BH_XEN_DOM0_ARGS:-}
echo "# QEMU -accel $qemu_accel -cpu $qemu_cpu -smp $qemu_smp; Xen: ${xen_args:-(defaults)}; dom0: ${dom0_args:-(defaults)}"
# In the background, so that a test runner's SIGTERM (its timeout, Ctrl+C)
# ends QEMU too (timeout passes it on) instead of leaving it on the cores.
boot_once() { # SECONDS: QEMU's bound
  : > "$work/serial.log"
  rm -rf "$work/out" && mkdir -p "$work/out"
  t_boot=$(date +%s.%N)
  timeout "$1" qemu-system-x86_64 -machine q35 -accel "$qemu_accel" -cpu "$qemu_cpu" -smp "$qemu_smp" -m 2048 \
    -display none -no-reboot -serial "file:$work/serial.log" -monitor none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$work/xen" \
    -append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 smap=0 smep=0 spec-ctrl=eager-fpu $xen_args" \
    -initrd "$kernel console=hvc0 quiet loglevel=3 $dom0_args,$work/dom0.cpio.gz" \
    -virtfs "local,path=/usr,mount_tag=hostusr,security_model=none,readonly=on" \
    -virtfs "local,path=$work/out,mount_tag=out,security_model=none" "${qemu_extra[@]}" \
    </dev/null >"$work/qemu.out" 2>&1 &
  qemu_pid=$!
  trap 'kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid"; exit 1' TERM INT HUP
  wait "$qemu_pid"
  qemu_rc=$?
  trap - TERM INT HUP
  t_end=$(date +%s.%N)
  tr -d '\r' < "$work/serial.log" > "$work/serial.txt"
}

# QEMU's bound: the default run takes 40-350 s here (load 4-15), the
# desktop and PVH parts longer. Two boots must fit meson's 1200 s.
bound=600
[ -n "$desktop$long" ] && bound=900
# The network part (dom0-net.sh) boots three more domains one after the
# other: 4 minutes at load 2-5, 10-16 at load 9-15, over 20 at load 12-21
# (session 10, alone).
[ -e "$dom0/test/net" ] && bound=$((bound + 1200))
# The template part: Debian's kernel and systemd boot twice (each up to
# 15 minutes under load).
[ -n "$template" ] && bound=3000
t_first=$(date +%s)
boot_once "$bound"
if [ -n "$stress" ]; then
  # The reproducer: its own TAP, one boot, no retry, no host checks.
  tr -d '\r' <"$work/serial.log" | sed -n '/^BH-XEN-QEMU-BEGIN$/,/^BH-XEN-QEMU-END/p' |
    grep -E '^(ok|not ok) |^# ' | awk '/^(ok|not ok) /{n++; sub(/ - /, " " n " - ")} {print} END{print "1.." n}'
  echo "# boot to exit: $(awk "BEGIN{printf \"%.1f\", $t_end - $t_boot}") s, QEMU status $qemu_rc"
  grep -q '^stress: done' "$work/serial.txt" && ! grep -q '^not ok' <(tr -d '\r' <"$work/serial.log")
  exit $?
fi
# libxl gives each disk hotplug script 40 s (LIBXL_HOTPLUG_TIMEOUT) and the
# back-end driver 10 s to take a new disk (LIBXL_INIT_TIMEOUT), constants
# compiled into libxl: neither xl.conf, the domain configuration nor the
# environment can raise them. Under emulation on a busy machine (other jobs
# on the two cores) either can be missed, which says nothing about our code.
# libxl then says "killing hotplug script .../bulkhead-xen-block add (or
# remove) because of timeout" (or Xen's own .../block), "script: .../block failed" when the
# script was killed first (seen in CI), or "unable to add device with path"
# (the back-end; seen here with three QEMUs on the two cores). Such a failed
# run gets one more boot, and says which it saw.
# Session 6 also booted again after any other failure, for processes that
# crashed in dom0 under this emulation; their cause (Xen's lazy FPU
# switching where QEMU raises no #NM for XSAVE) is avoided with
# spec-ctrl=eager-fpu above, so any other failure is the test's own.
if [ "$qemu_rc" -ne 1 ]; then
  # Not a remove's timeout: bulkhead-xen-block's remove does nothing since
  # session 10, so one killed means libxl was not told it ended (a stop's
  # synchronous destroy did that), which is bulkheadd's fault, not load.
  why=$(grep -o -m 1 -E 'block add because of timeout|block failed|unable to add device with path' "$work/serial.txt")
  left=$((1080 - ($(date +%s) - t_first)))
  if [ -z "$why" ]; then
    : # reported below, with the console's last lines
  elif [ "$left" -ge 240 ]; then
    echo "# libxl's disk set-up failed under emulation ('$why', machine busy): booting once more"
    boot_once "$left"
  else
    echo "# libxl's disk set-up failed under emulation ('$why'); no time left for a second boot ($left s)"
  fi
fi

# dom0's TAP, between its markers: bh-xen-dom0-test's numbered lines and
# plan, then bh-xen-desktop's unnumbered lines; numbered again here, with
# the host's checks of the desktop's screenshot after them.
sed -n '/^BH-XEN-QEMU-BEGIN$/,/^BH-XEN-QEMU-END/p' "$work/serial.txt" \
  | grep -E '^(ok|not ok)( [0-9]+)? |^1\.\.[0-9]+|^# |^(desktop|template|net): done$' > "$work/tap.txt"
echo "# boot to exit: $(awk "BEGIN{printf \"%.1f\", $t_end - $t_boot}") s, QEMU status $qemu_rc"
n=0
ok() { # STATUS TEXT
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; host_failed=1; fi
}
host_failed=0
while IFS= read -r line; do
  case $line in
    ok\ * | not\ ok\ *)
      status=0
      case $line in not\ ok\ *) status=1 ;; esac
      ok $status "$(printf '%s\n' "$line" | sed -E 's/^(not )?ok( [0-9]+)? - //')" ;;
    '#'*) echo "$line" ;;
  esac
done < "$work/tap.txt"
if [ -n "$template" ]; then
  bh_template_checks
else
grep -q '^1\.\.' "$work/tap.txt" || [ -n "$only" ]
ok $? "dom0's test ran to its end (QEMU status $qemu_rc)"
grep -q '^desktop: done$' "$work/tap.txt" || [ "$only" = net ]
ok $? "bulkheadd's part${desktop:+ (the desktop)} ran to its end"
if [ -e "$dom0/test/net" ]; then
  grep -q '^net: done$' "$work/tap.txt"
  ok $? "the network part (dom0-net.sh) ran to its end"
fi
fi

# The screenshot from inside dom0, checked here by its pixels. guid's window
# for simple-shm (250x250) is its title bar, a 4 px frame and the content:
# the frame's left, right and bottom edges are desk's label colour (blue,
# #3465a4), as is most of the title bar (the rest is its text and buttons),
# and the content is simple-shm's pattern (many colours), not an empty or
# black window.
pixel() { # X Y
  convert "$work/out/desk.xwd" -crop "1x1+$1+$2" -depth 8 txt:- 2>/dev/null |
    grep -o '#[0-9A-Fa-f]\{6\}' | head -n 1 | tr 'A-F' 'a-f'
}
geom=$(head -n 1 "$work/out/desk.geom" 2>/dev/null)
if [ -z "$desktop" ] || [ "$only" = net ]; then
  : # no display in dom0 without --desktop, nor in the network part alone
elif [ -s "$work/out/desk.xwd" ] && [ -n "$geom" ]; then
  eval "$geom"
  convert "$work/out/desk.xwd" "$work/desk.png" 2>/dev/null
  left=$(pixel $((X + 1)) $((Y + HEIGHT - 125)))
  right=$(pixel $((X + WIDTH - 2)) $((Y + HEIGHT - 125)))
  bottom=$(pixel $((X + WIDTH / 2)) $((Y + HEIGHT - 2)))
  bar=$((HEIGHT - 258))
  blue=$(convert "$work/out/desk.xwd" -crop "${WIDTH}x${bar}+$X+$Y" +repage -fill black +opaque '#3465a4' \
    -fill white -opaque '#3465a4' -format '%[fx:int(mean*100)]' info: 2>/dev/null)
  ok $([ "$left$right$bottom" = "#3465a4#3465a4#3465a4" ] && [ "${blue:-0}" -gt 50 ]; echo $?) \
    "host: [desk] simple-shm (${WIDTH}x${HEIGHT} at $X,$Y) is framed in blue on dom0's screen: left $left, right $right, bottom $bottom; ${blue:-?} % of its ${bar} px title bar is #3465a4"
  colours=$(convert "$work/out/desk.xwd" -crop "250x250+$((X + 4))+$((Y + bar))" +repage -format %k info: 2>/dev/null)
  ok $([ "${colours:-0}" -gt 100 ]; echo $?) "host: its 250x250 content is simple-shm's pattern ($colours colours)"
else
  ok 1 "host: dom0's screenshot and the window's geometry arrived over 9p"
fi
for core in "$work"/out/core.*; do
  [ -e "$core" ] && echo "# a program crashed in dom0: ${core##*/} (BH_XEN_QEMU_KEEP=1 keeps it for gdb)"
done
echo "1..$n"
# isa-debug-exit: status 0 from dom0 is QEMU status 1.
if [ "$qemu_rc" -ne 1 ] || [ $host_failed -ne 0 ]; then
  echo "# ---- last lines of the serial console ($work/serial.log)"
  tail -n 120 "$work/serial.txt" | sed 's/^/# /'
  exit 1
fi
exit 0
