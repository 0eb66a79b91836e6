# Shared set-up for ./run and ./test: install what is missing, configure, build.
# Sourced, not executed. Installs only packages that are missing, so a second
# run costs a few dpkg-query calls and an incremental ninja.

# One list for the whole product: build tools and libraries, then what the
# product runs (bubblewrap, Wayland clients inside qubes), then what the tests
# drive (Xvfb, xdotool, imagemagick for screenshots, clang for fuzzing,
# clang-format for the style test).
BH_PACKAGES=(
  meson ninja-build pkg-config gcc clang clang-format libclang-rt-14-dev
  libglib2.0-dev libglib2.0-bin libgtk-4-dev libgtk-4-bin libcairo2-dev libpango1.0-dev
  libxkbcommon-dev libdrm-dev libpng-dev libsqlite3-dev sqlite3
  libwayland-dev wayland-protocols libxen-dev libseccomp-dev
  bubblewrap iproute2 nftables dbus dbus-x11 e2fsprogs
  weston foot gtk-4-examples
  xvfb xauth xdotool imagemagick python3 openbox x11-utils x11-xserver-utils xserver-xephyr
  qemu-system-x86 xen-hypervisor-4.17-amd64 xen-utils-4.17 linux-image-amd64 busybox-static cpio
  waypipe
  slirp4netns conntrack
  libx11-xcb-dev libxcb-shm0-dev libxtst-dev
  xwayland libxcb-composite0-dev libxcb-icccm4-dev libxcb-res0-dev libxcb-xfixes0-dev
  xterm x11-apps python3-tk xfonts-base xclip xdg-utils file x11-xkb-utils openjdk-17-jre wlcs
  thunar
  xserver-xorg-video-dummy wmctrl
)

bh_log() { printf '%s: %s\n' "${BH_PROG:-bulkhead}" "$*" >&2; }

bh_install_missing() {
  local missing=() p
  for p in "${BH_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      bh_log "missing Debian packages: ${missing[*]}"
      bh_log "run as root, or install them with: apt-get install ${missing[*]}"
      return 1
    fi
  fi
  bh_log "installing missing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq || { bh_log "apt-get update failed: check the network and try again"; return 1; }
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || { bh_log "apt-get install failed for: ${missing[*]}"; return 1; }
}

# bh_build DIR [meson options...]: configure DIR once, then build it.
bh_build() {
  local dir=$1; shift
  local opts=("$@")
  # CI builds with -Werror; local builds keep warnings as warnings.
  if [ -n "${CI:-}" ]; then opts+=(-Dwerror=true); fi
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "${opts[@]}" >/dev/null || { bh_log "meson setup failed; see $dir/meson-logs/meson-log.txt"; return 1; }
  elif [ ${#opts[@]} -gt 0 ]; then
    meson configure "$dir" "${opts[@]}" >/dev/null || return 1
  fi
  meson compile -C "$dir" >/dev/null 2>"$dir/compile-errors.log" || {
    # Re-run to show the errors in full: ninja stops at the first failure.
    meson compile -C "$dir" 2>&1 | tail -n 60
    bh_log "build failed"; return 1; }
}
