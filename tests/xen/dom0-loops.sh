# dom0-loops.sh — loop devices left on qubes' images (xen-stale-loops.c),
# sourced by dom0-desktop.sh (as /opt/bh/bin/bh-xen-loops): a disk hotplug
# script that libxl killed between its losetup and its back-end node leaves
# a loop device no back-end names; when no start of that qube follows (the
# block script detaches it then), bulkheadd does at its start and when the
# qube is removed. The devices are made here with util-linux's losetup (by
# its path: busybox sh would run its own applet).

# Before bulkheadd starts: one on an image of a qube below qubes/ (stale)
# and, the control, one on a file outside qubes/ that bulkheadd must leave.
loops_before_start() { # STATE_DIR
  mkdir -p "$1/qubes/gone"
  truncate -s 1M "$1/qubes/gone/private.img" /tmp/not-a-qube.img
  gone_loop=$(/usr/sbin/losetup -f --show "$1/qubes/gone/private.img" 2>&1)
  other_loop=$(/usr/sbin/losetup -f --show /tmp/not-a-qube.img 2>&1)
  result "control: loop devices on an image of qubes/ ($gone_loop) and on a file elsewhere ($other_loop)" \
    $(case $gone_loop$other_loop in (/dev/loop*/dev/loop*) ;; (*) false ;; esac; echo $?)
}

# Once bulkheadd answers: it detached the first at its start, not the other.
loops_after_start() { # STATE_DIR
  left=$(/usr/sbin/losetup -n -O NAME -j "$1/qubes/gone/private.img" | tr '\n' ' ')
  other=$(/usr/sbin/losetup -n -O NAME -j /tmp/not-a-qube.img | tr '\n' ' ')
  result "bulkheadd detached the stale loop device at its start ($(grep -o "detached $gone_loop at start-up: it was left on [^ ]*" "$log")), \
left the one outside qubes/ ($(echo ${other:-none})); on the image now: ${left:-none}" \
    $(grep -q "detached $gone_loop at start-up" "$log" && [ -z "$left" ] && [ "$(echo $other)" = "$other_loop" ]; echo $?)
  /usr/sbin/losetup -d "$other_loop"
  rm -rf "$1/qubes/gone" /tmp/not-a-qube.img
}

# QUBE (halted) gets a loop device on its private image, then qvm-remove:
# the removal detaches it before it deletes the files.
loops_at_removal() { # STATE_DIR QUBE
  img=$1/qubes/$2/private.img
  dev=$(/usr/sbin/losetup -f --show "$img" 2>&1)
  qvm-remove -f "$2" >/dev/null 2>&1
  rc=$?
  left=$(/usr/sbin/losetup -n -O NAME -j "$img" | tr '\n' ' ')
  [ -e "$img" ] || left=$left$(/usr/sbin/losetup -a | grep -F "$img" | cut -d: -f1)
  result "qvm-remove $2 (status $rc) detached $dev, left on its private.img ($(grep -o "detached $dev for the removal of $2" "$log")); \
attached to it now: ${left:-none}" \
    $([ $rc -eq 0 ] && grep -q "detached $dev for the removal of $2" "$log" && [ -z "$left" ] && [ ! -e "$img" ]; echo $?)
}
