#!/usr/bin/env bash
# xen-template.sh BUILD_DIR STATE_DIR [TEMPLATE [SUITE]] — builds a template qube for the xen
# backend from Debian's archive with mmdebstrap, with this build's agents inside.
#
# Writes, below STATE_DIR (bulkheadd's --state-dir):
#   qubes/TEMPLATE/root.img        ext4 root (default TEMPLATE debian-12), 4 GiB sparse
#   vm-kernels/KVER/vmlinuz        the template's Debian kernel
#   vm-kernels/KVER/initramfs      its initramfs, with the read-only-root overlay below
# then says which qvm-prefs line makes the template use that kernel. Nothing
# else is touched: it never writes outside STATE_DIR and a temporary directory.
#
# What the image does (docs/xen.md, "Templates"):
# - AppVMs get the template's root.img as xvda, read-only. The initramfs then
#   formats xvdc (the volatile volume, new and empty at every start) and
#   mounts the root as an overlay: the template's files below, xvdc above,
#   so a qube's root changes are gone at its next start. A template (or a
#   StandaloneVM) boots "rw" on its own root and gets no overlay.
# - xvdb (private, kept) is formatted at its first start and holds /home.
# - bulkhead-agent (RPC, root, switches to the caller's user) and
#   bulkhead-gui-agent (the Wayland compositor, as user 1000) start at boot
#   on the xen vchan transport; user 1000 "user" gets the Xen devices the
#   GUI agent needs (udev rule), nothing else of dom0's.
# Packages: the agents' libraries (found from this machine's packages for
# them, which is why it must run on the Debian release it builds),
# systemd, the kernel and initramfs-tools, e2fsprogs, and BH_TEMPLATE_APPS
# (default: foot weston, a terminal and weston-simple-shm).
# Needs: root (mmdebstrap's root mode), mmdebstrap, e2fsprogs, and the
# archive (APT's sources of this machine). Takes minutes.
#
# BH_TEMPLATE_CACHE=DIR keeps mmdebstrap's result (everything but this
# build's agents, which are added to it afterwards) in DIR as
# base-KEY.tar, KEY being a hash of this script, the suite and the package
# list: a later build with other agents takes about a minute instead of
# mmdebstrap's many (the QEMU test's template part, tests/xen).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 4 ]; then
  echo "usage: $0 BUILD_DIR STATE_DIR [TEMPLATE [SUITE]]" >&2
  exit 2
fi
build=$1
state=$2
template=${3:-debian-12}
suite=${4:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
apps=${BH_TEMPLATE_APPS-foot weston}
agent=$build/core/rpc/bulkhead-agent
gui_agent=$build/gui-agent/bulkhead-gui-agent
applist=$build/core/apps/bulkhead-applist
net_script=$(dirname "$0")/../core/backends/bulkhead-xen-net

for f in "$agent" "$gui_agent" "$applist"; do
  [ -x "$f" ] || { echo "$0: $f is not built (meson compile -C $build)" >&2; exit 1; }
done
command -v mmdebstrap >/dev/null || { echo "$0: needs mmdebstrap: apt-get install mmdebstrap" >&2; exit 1; }
command -v mkfs.ext4 >/dev/null || { echo "$0: needs e2fsprogs" >&2; exit 1; }
case $template in
  */* | .* | '') echo "$0: bad template name '$template'" >&2; exit 2 ;;
esac
if [ -e "$state/qubes/$template/root.img" ]; then
  echo "$0: $state/qubes/$template/root.img exists: remove it first (nothing is overwritten)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bh-template.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

# The Debian packages that hold the agents' libraries on this machine.
libs=$(for f in "$agent" "$gui_agent" "$applist"; do ldd "$f" | awk '/=> \//{print $3}'; done | sort -u)
pkgs=$(for l in $libs; do dpkg -S "$l" 2>/dev/null || dpkg -S "$(readlink -f "$l")" 2>/dev/null || true; done |
  cut -d: -f1 | sort -u | tr '\n' ',')
# busybox: initramfs-tools' shell tools (the overlay script's grep and
# mount -o move); without it the initramfs has klibc's few.
include="${pkgs}systemd-sysv,udev,linux-image-amd64,initramfs-tools,busybox,e2fsprogs,kmod,procps"
# The network helper's tools (bulkhead-xen-net: ip, nft, xenstore-read).
include="$include,iproute2,nftables,xenstore-utils"
for a in $apps; do include="$include,$a"; done

# Files the image gets, staged here and copied in after mmdebstrap (below),
# with the agents: mmdebstrap's result (the packages) does not depend on
# them and can be kept (BH_TEMPLATE_CACHE), and the initramfs is made once,
# with them, from that result.
stage=$work/stage
mkdir -p "$stage/etc/systemd/system/multi-user.target.wants" "$stage/etc/udev/rules.d" \
  "$stage/etc/initramfs-tools/scripts/local-bottom" "$stage/etc/initramfs-tools/hooks" "$stage/etc/modules-load.d"
# The agents' Xen devices: these drivers are modules in Debian's kernel and
# nothing else loads them in a domU (no xen-utils there).
printf 'xen-evtchn\nxen-gntdev\nxen-gntalloc\n' >"$stage/etc/modules-load.d/bulkhead-xen.conf"
cat >"$stage/etc/systemd/system/bulkhead-agent.service" <<'EOF'
[Unit]
Description=Bulkhead RPC agent (qvm-run's other end, vchan port 512)
After=bulkhead-private.service

[Service]
Environment=BH_VCHAN_TRANSPORT=xen XDG_RUNTIME_DIR=/run/bulkhead-gui WAYLAND_DISPLAY=wayland-0
ExecStart=/usr/lib/bulkhead/bulkhead-agent
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
cat >"$stage/etc/systemd/system/bulkhead-gui-agent.service" <<'EOF'
[Unit]
Description=Bulkhead GUI agent (Wayland compositor, windows to dom0 over vchan port 6000)
After=systemd-udevd.service bulkhead-private.service

[Service]
User=user
RuntimeDirectory=bulkhead-gui
RuntimeDirectoryMode=0700
Environment=BH_VCHAN_TRANSPORT=xen XDG_RUNTIME_DIR=/run/bulkhead-gui
ExecStart=/usr/lib/bulkhead/bulkhead-gui-agent
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
cat >"$stage/etc/systemd/system/bulkhead-private.service" <<'EOF'
[Unit]
Description=Bulkhead private volume (xvdb) as /home, formatted at its first start
DefaultDependencies=no
After=local-fs.target

# Not Requires=dev-xvdb.device: under emulation udev's first trigger took
# minutes and the device unit's 90 s ran out ("Dependency failed"), while
# the kernel's devtmpfs has had /dev/xvdb since blkfront attached it in the
# initramfs; the node is waited for here instead ($$: systemd's own $).
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'i=0; while [ ! -b /dev/xvdb ] && [ $$i -lt 600 ]; do sleep 1; i=$$((i + 1)); done; blkid /dev/xvdb >/dev/null || mkfs.ext4 -q -E lazy_itable_init=1,lazy_journal_init=1 -L private /dev/xvdb; mount /dev/xvdb /home; mkdir -p /home/user; chown user:user /home/user'

[Install]
WantedBy=multi-user.target
EOF
# The qube's networking as dom0 wrote it in xenstore (docs/xen.md,
# "Networking"): a client's eth0, or a netvm's rules and vifs (its
# watchers stay in the unit's cgroup after the script's own exit). A netvm
# needs netback loaded (nothing in a domU asks for it); a qube without
# network has neither key and the script does nothing. Not ordered before
# the agent: under emulation this unit ran for 6 to over 8 minutes (xenstore
# reads), and qvm-run waited for it.
cat >"$stage/etc/systemd/system/bulkhead-xen-net.service" <<'EOF'
[Unit]
Description=Bulkhead networking from xenstore (a client's eth0, a netvm's vifs)
After=systemd-modules-load.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStartPre=/bin/sh -c '[ "$$(xenstore-read bulkhead/provides-network 2>/dev/null)" != 1 ] || modprobe xen-netback'
ExecStart=/usr/lib/bulkhead/bulkhead-xen-net

[Install]
WantedBy=multi-user.target
EOF
# Enabled as systemctl enable does from their [Install] sections, without
# running anything of the image.
for u in bulkhead-agent bulkhead-gui-agent bulkhead-private bulkhead-xen-net; do
  ln -s "/etc/systemd/system/$u.service" "$stage/etc/systemd/system/multi-user.target.wants/$u.service"
done
# The GUI agent (user 1000) allocates grants and event channels and
# publishes its ring in xenstore.
cat >"$stage/etc/udev/rules.d/60-bulkhead-xen.rules" <<'EOF'
KERNEL=="evtchn|gntalloc|gntdev|xenbus|xen/evtchn|xen/gntalloc|xen/gntdev|xen/xenbus", GROUP="user", MODE="0660"
EOF
cat >"$stage/etc/initramfs-tools/hooks/bulkhead" <<'EOF'
#!/bin/sh
# The overlay's tool and the modules a PV domU's initramfs needs
# (MODULES=list: nothing else): the disks, the root's ext4 (and the crc32c
# its checksums load), the overlay.
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
# Under a name of its own: with busybox in the initramfs, "mke2fs" is
# busybox's (ext2 only, no -t or -E: the first boot of an AppVM failed so).
copy_exec /sbin/mke2fs /sbin/bh-mke2fs
manual_add_modules xen-blkfront ext4 crc32c_generic crc32c-intel overlay
EOF
cat >"$stage/etc/initramfs-tools/scripts/local-bottom/bulkhead-overlay" <<'EOF'
#!/bin/sh
# A root mounted "ro" (an AppVM's: its template's image) gets the volatile
# volume xvdc, new and empty at each start, as its writable layer.
[ "$1" = prereqs ] && exit 0
grep -qw ro /proc/cmdline || exit 0
say() { echo "bulkhead-overlay: $*" >/dev/kmsg 2>/dev/null || echo "bulkhead-overlay: $*"; }
# blkfront may attach xvdc after xvda (slowly, under emulation).
i=0
while [ ! -b /dev/xvdc ] && [ $i -lt 120 ]; do
  sleep 1
  i=$((i + 1))
done
if [ ! -b /dev/xvdc ]; then
  say "no /dev/xvdc after ${i} s: the root stays read-only, with no writable layer"
  exit 0
fi
modprobe overlay
# Lazy: xvdc is a new sparse file (zeros) at every start, so neither the
# inode tables nor the journal need writing now.
/sbin/bh-mke2fs -q -t ext4 -F -E lazy_itable_init=1,lazy_journal_init=1 /dev/xvdc || {
  say "mke2fs on xvdc failed: the root stays read-only"
  exit 0
}
mkdir -p /run/bh-volatile /run/bh-lower
mount -t ext4 /dev/xvdc /run/bh-volatile || {
  say "mounting xvdc failed: the root stays read-only"
  exit 0
}
mkdir -p /run/bh-volatile/upper /run/bh-volatile/work
mount -n -o move "$rootmnt" /run/bh-lower || {
  say "moving the root failed"
  exit 0
}
if ! mount -t overlay -o lowerdir=/run/bh-lower,upperdir=/run/bh-volatile/upper,workdir=/run/bh-volatile/work \
  overlay "$rootmnt"; then
  say "the overlay failed: the root stays read-only"
  mount -n -o move /run/bh-lower "$rootmnt"
  exit 0
fi
say "root: the template's xvda read-only below, the volatile xvdc above"
EOF
chmod 0755 "$stage/etc/initramfs-tools/hooks/bulkhead" "$stage/etc/initramfs-tools/scripts/local-bottom/bulkhead-overlay"

# mmdebstrap's result as a tarball (kept with BH_TEMPLATE_CACHE, keyed by
# what goes into it: the suite, the packages and the hooks), unpacked here
# with its owners, then the staged files and the agents added.
# MODULES=list before the packages come: the kernel's and the package
# trigger's initramfs runs are then quick (Debian's default, most, took
# about 8 minutes a run under load); the initramfs the image boots is made
# once below, with the staged hook.
hooks=(
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; echo MODULES=list >"$1/etc/initramfs-tools/conf.d/bulkhead"'
  --customize-hook='chroot "$1" useradd -m -u 1000 -s /bin/bash user'
  --customize-hook='echo "hvc0" >>"$1/etc/securetty"; : >"$1/etc/fstab"'
)
key=$( (echo "$suite $include"; printf '%s\n' "${hooks[@]}") | sha256sum | cut -c1-16)
cache=${BH_TEMPLATE_CACHE:-}
base=$work/base.tar
[ -n "$cache" ] && base=$cache/base-$key.tar
if [ -s "$base" ]; then
  echo "xen-template: $template ($suite) from $base"
else
  echo "xen-template: building $template ($suite) with: $include"
  [ -n "$cache" ] && mkdir -p "$cache"
  t0=$(date +%s)
  mmdebstrap --variant=minbase --format=tar --include="$include" "${hooks[@]}" "$suite" "$base.part"
  mv "$base.part" "$base"
  echo "xen-template: mmdebstrap took $(($(date +%s) - t0)) s"
fi
mkdir -p "$root"
# Without /dev's nodes: the domain's kernel mounts devtmpfs there.
tar -C "$root" --numeric-owner --exclude='./dev/*' -xpf "$base"
cp -a "$stage/." "$root/"
install -D -m 0755 "$agent" "$root/usr/lib/bulkhead/bulkhead-agent"
install -D -m 0755 "$gui_agent" "$root/usr/lib/bulkhead/bulkhead-gui-agent"
# The app list dom0's menu shows (docs/apps.md): bulkheadd runs it by name
# through the agent, whose programs find it on systemd's default PATH.
install -D -m 0755 "$applist" "$root/usr/lib/bulkhead/bulkhead-applist"
ln -sf ../lib/bulkhead/bulkhead-applist "$root/usr/bin/bulkhead-applist"
install -D -m 0755 "$net_script" "$root/usr/lib/bulkhead/bulkhead-xen-net"

kver=$(basename "$(ls -1 "$root"/boot/vmlinuz-* | sort -V | tail -n 1)")
kver=${kver#vmlinuz-}
# The initramfs, once, with the staged hook and overlay script: the image's
# own mkinitramfs chrooted, in a mount namespace of its own (its /proc and
# /dev go with it; nothing is mounted on the host's tree).
t0=$(date +%s)
unshare --mount --propagation private sh -c 'mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" &&
  chroot "$1" mkinitramfs -o "/boot/initrd.img-$2" "$2"' sh "$root" "$kver"
echo "xen-template: mkinitramfs took $(($(date +%s) - t0)) s"
# The overlay needs all of these in it: a hook that failed quietly would
# leave an AppVM on its read-only root alone.
listing=$(chroot "$root" lsinitramfs "/boot/initrd.img-$kver")
for f in sbin/bh-mke2fs scripts/local-bottom/bulkhead-overlay /overlay.ko /xen-blkfront.ko /ext4.ko; do
  grep -q -- "$f" <<<"$listing" || {
    echo "$0: the initramfs has no $f" >&2
    exit 1
  }
done
mkdir -p "$state/vm-kernels/$kver" "$state/qubes/$template"
cp "$root/boot/vmlinuz-$kver" "$state/vm-kernels/$kver/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$state/vm-kernels/$kver/initramfs"
mkfs.ext4 -q -L root -d "$root" "$work/root.img" 4G
mv "$work/root.img" "$state/qubes/$template/root.img"
echo "xen-template: $state/qubes/$template/root.img, kernel $kver in $state/vm-kernels/$kver"
echo "xen-template: use it with: qvm-prefs $template kernel $kver"
