# template-host.sh — sourced by run-xen-qemu.sh for its template part
# (--template=DIR, meson's xen-qemu-template): the host's side.
#
# bh_template_prepare builds the template with build-aux/xen-template.sh
# (mmdebstrap from Debian's archive, this build's agents inside), cached
# below DIR: DIR/base/ keeps mmdebstrap's tarball (keyed by the script's
# packages, files and hooks: minutes to make, reused until they change),
# DIR/img-KEY/ the image built from it with these agents (KEY: a hash of
# the script and the agents; about a minute), with root.img's sha256
# taken when it was built. DIR/img-KEY is shared with dom0 over 9p,
# writable: only the read-only disk libxl gives an AppVM keeps the
# template's root.img as it was, which bh_template_checks then compares.
# The kernel is the template's own, uncompressed for xl's loader as the
# busybox domU's is (run-xen-qemu.sh).
#
# Sets: tpl_img (the directory shared as "tpl"); adds to qemu_extra.
# Needs mmdebstrap, e2fsprogs and the archive; without mmdebstrap or
# root it skips, saying so.

bh_template_prepare() { # DIR RPC_AGENT GUI_AGENT
  local dir=$1 rpc=$2 gui=$3 key build kver t0
  if [ "$(id -u)" != 0 ] || ! command -v mmdebstrap >/dev/null || ! command -v mkfs.ext4 >/dev/null; then
    echo "1..0 # SKIP the template part needs root, mmdebstrap and e2fsprogs: apt-get install mmdebstrap"
    exit 0
  fi
  build=${rpc%/core/rpc/bulkhead-agent}
  key=$(cat "$src/build-aux/xen-template.sh" "$rpc" "$gui" "$build/core/apps/bulkhead-applist" | sha256sum | cut -c1-16)
  tpl_img=$dir/img-$key
  t0=$(date +%s)
  if [ ! -s "$tpl_img/root.img.sha256" ]; then
    # Only one image is kept: an older one is another build's agents.
    rm -rf "$dir"/img-*
    BH_TEMPLATE_CACHE=$dir/base bash "$src/build-aux/xen-template.sh" "$build" "$tpl_img/state" >"$dir/build.log" 2>&1 || {
      echo "1..1"
      echo "not ok 1 - build-aux/xen-template.sh built the template (its log: $dir/build.log)"
      tail -n 30 "$dir/build.log" | sed 's/^/# /'
      rm -rf "$tpl_img"
      exit 1
    }
    kver=$(ls -1 "$tpl_img/state/vm-kernels" | head -n 1)
    python3 "$src/tests/xen/kernel-elf.py" "$tpl_img/state/vm-kernels/$kver/vmlinuz" "$tpl_img/vmlinux" || exit 1
    mv "$tpl_img/state/qubes/debian-12/root.img" "$tpl_img/root.img"
    cp "$tpl_img/state/vm-kernels/$kver/initramfs" "$tpl_img/initramfs"
    echo "$kver" >"$tpl_img/kver"
    rm -rf "$tpl_img/state"
    sha256sum <"$tpl_img/root.img" | cut -d' ' -f1 >"$tpl_img/root.img.sha256"
    echo "# template built in $(($(date +%s) - t0)) s ($(grep -m 1 '^xen-template: ' "$dir/build.log"))"
  else
    echo "# template image from the cache: $tpl_img ($(du -h "$tpl_img/root.img" | cut -f1) used of $(du -h --apparent-size "$tpl_img/root.img" | cut -f1))"
  fi
  qemu_extra+=(-virtfs "local,path=$tpl_img,mount_tag=tpl,security_model=none")
}

# After the boot: dom0's part ran to its end, and the template's root.img
# is what it was when it was built.
bh_template_checks() {
  local now was
  grep -q '^template: done$' "$work/tap.txt"
  ok $? "dom0's template part ran to its end (QEMU status $qemu_rc)"
  was=$(cat "$tpl_img/root.img.sha256")
  now=$(sha256sum <"$tpl_img/root.img" | cut -d' ' -f1)
  ok $([ "$now" = "$was" ]; echo $?) "host: the template's root.img is unchanged after its AppVM ran (sha256 ${now:0:16}…, built ${was:0:16}…)"
  # A changed image is no template to test with again.
  [ "$now" = "$was" ] || rm -rf "$tpl_img"
}
