#!/bin/sh
# dom0-desktop.sh STATE_DIR OUT_DIR [--display] — the product as a user of a
# Xen machine sees it, run in the QEMU test's dom0 after bh-xen-dom0-test: a
# private D-Bus (/etc/bh-bus.conf), the real bulkheadd --backend=xen
# --no-autostart, qvm-create/qvm-start of a PV qube whose domU runs the real
# bulkhead-agent (tests/xen/domu-init.sh). Always (the default xen-qemu run):
#   - qvm-run -p reaches the domU's bulkhead-agent over libxenvchan: output,
#     exit status, the default user and root, three calls on one link
#     (control: the probe in dom0);
#   - the domain destroyed under the ring (xl destroy): bulkheadd reports
#     desk Crashed;
#   - desk's app list, read by bulkheadd through the agent after the start,
#     is what ListApps (the shell's menu's call) gives: foot's one desktop
#     entry with the display, an empty list without; never refused.
# With --display (meson -Dxen-qemu-desktop=true), the desktop: Xvfb, the
# real bulkhead-guid, the domU's gui-agent with weston-simple-shm and foot:
#   - both windows appear titled [desk] …; an xwd screenshot and the
#     windows' geometry go to OUT_DIR, where run-xen-qemu.sh checks the
#     frame's pixels (desk's label, blue) from the host;
#   - keys typed into foot with xdotool (XTEST) reach the domU's shell, which
#     writes them to a file that qvm-run -p reads back, exactly, even with the
#     X server stalled for a second while a key is down;
#   - at xl destroy, guid ends and the windows go too;
#   - desk started again (a new domain id: guid follows it), then its GUI
#     agent killed mid-session: guid sees the hang-up and ends, the windows
#     go, bulkheadd reports it (GuiFailed) when desk still runs after its
#     grace, the RPC agent still answers.
# Prints TAP lines without numbers (run-xen-qemu.sh numbers dom0's lines)
# and, last, "desktop: done"; exits 1 if a check failed.
# Must never wait for a fixed time: every wait is for an event, bounded.
set -u
state=$1
out=$2
display=${3:-}
failed=0
log=$out/bulkheadd.log # on the host too (run-xen-qemu.sh keeps it with BH_XEN_QEMU_KEEP)
export DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bh-bus
export DISPLAY=:0 BH_VCHAN_TRANSPORT=xen BH_GUID_PATH=/opt/bh/bin/bulkhead-guid
# guid as the display tests run it: X11, cairo (no GL under emulation), no
# settings daemon, no accessibility bus.
export GDK_BACKEND=x11 GSK_RENDERER=cairo GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1 GTK_A11Y=none

. /opt/bh/bin/bh-xen-lib
# window REGEX: the id of a viewable top-level window whose name matches
# (xwininfo: xdotool search crashed under this emulation, twice).
window() {
  for id in $(xwininfo -root -tree 2>/dev/null | grep -E "^ +0x[0-9a-f]+ \"$1" | awk '{print $1}'); do
    if xwininfo -id "$id" 2>/dev/null | grep -q 'Map State: IsViewable'; then
      echo "$id"
      return 0
    fi
  done
  return 1
}
has_window() { [ -n "$(window "$1")" ]; }
no_window() { [ -z "$(window "$1")" ]; }
# geometry ID: X= Y= WIDTH= HEIGHT= (as xdotool --shell says it).
geometry() {
  xwininfo -id "$1" | awk '/Absolute upper-left X:/{x=$NF} /Absolute upper-left Y:/{y=$NF}
    /^ *Width:/{w=$NF} /^ *Height:/{h=$NF} END{printf "X=%d Y=%d WIDTH=%d HEIGHT=%d\n", x, y, w, h}'
}
guid_runs() { pgrep -f "bulkhead-guid --qube $1" >/dev/null; }
no_guid() { ! guid_runs "$1"; }
log_has() { grep -q "$1" "$log"; }
keys_arrived() { [ "$(qvm-run -p desk 'cat /tmp/keys' 2>/dev/null)" = "typed over xen" ]; }
domid_of() { xl domid "$1" 2>/dev/null; }

dbus-daemon --config-file=/etc/bh-bus.conf --fork --nopidfile
result "a private D-Bus runs in dom0" $?
xvfb=
guid=--no-guid
if [ -n "$display" ]; then
  mkdir -p /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix
  t=$(now)
  # -ardelay 60000: X's auto-repeat starts after 60 s instead of 660 ms.
  # The X server repeats a key that is down when its repeat timer runs out,
  # and a loaded dom0 under emulation can stall Xvfb for longer than 660 ms
  # between xdotool's press and release: the typed command then had a
  # doubled letter and /tmp/keys never came (once each at load 12-18 and
  # ~10). xset r off does not reach the XTEST device; this default does.
  Xvfb :0 -screen 0 1280x1024x24 -nolisten tcp -noreset +extension XTEST -ardelay 60000 >"$out/xvfb.log" 2>&1 &
  xvfb=$!
  until_ok 60 xwininfo -root
  result "Xvfb runs in dom0 (from the host's /usr over 9p), up in $(since "$t") s" $?
  guid=
fi

. /opt/bh/bin/bh-xen-loops
loops_before_start "$state"
bulkheadd --backend=xen --no-autostart $guid --verbose --state-dir="$state" >"$log" 2>&1 &
daemon=$!
until_ok 30 qvm-ls --raw-data
result "bulkheadd --backend=xen${guid:+ $guid}${display:+ with guid} answers on the bus" $?
loops_after_start "$state"
qvm-create -l blue --prop netvm= --prop memory=256 --prop maxmem=256 --prop virt_mode=pv --prop vcpus=1 desk \
  >/dev/null 2>&1
result "qvm-create desk (blue, PV)" $?

# A loop device left on desk's private image, as the disk hotplug script
# of sessions 7-9 left one when libxl killed it at its 40 s timeout (after
# losetup, before the back-end's node was written; seen under load), or any
# start that ended before a back-end named its device: bulkheadd's start
# (xen-disks.c, which attaches the images itself now) must detach it, not
# refuse the image as in use at every start.
# util-linux's losetup by its path: this busybox sh would run its own
# applet, which knows neither --show nor -j.
private=$state/qubes/desk/private.img
stale=$(/usr/sbin/losetup -f --show "$private" 2>&1)
result "control: a loop device ($stale) is left on desk's private.img" $(case $stale in (/dev/loop*) ;; (*) false ;; esac; echo $?)

t=$(now)
start desk
result "qvm-start desk in $(since "$t") s" $?
loops=$(/usr/sbin/losetup -n -O NAME -j "$private" | tr '\n' ' ')
result "the start detached the left loop device ($(grep -o "detached $stale: it was left on [^ ]*" "$log")), \
and desk's disk is the one loop device on the image: $loops" \
  $(grep -q "detached $stale: it was left on" "$log" && [ "$(echo $loops | wc -w)" = 1 ]; echo $?)
if [ -n "$display" ]; then
  until_ok 180 has_window '\[desk\] simple-shm'
  result "[desk] simple-shm shows on dom0's X server, $(since "$t") s after qvm-start" $?
  until_ok 120 has_window '\[desk\] foot'
  result "[desk] foot shows too, $(since "$t") s after qvm-start" $? ||
    qvm-run -p -u root desk 'cat /tmp/foot.log; ps' 2>&1 | sed 's/^/# foot: /'
fi

# qvm-run over Xen, through the domU's bulkhead-agent on libxenvchan: the
# probe says where it ran (only the domU has the stand-in client) and as
# whom (the qube's default user, uid 1000 in the domU's passwd); the
# control runs it in dom0.
probe='test -x /bin/bh-xen-guest-client && echo in-domU || echo in-dom0; id -u; exit 3'
got=$(sh -c "$probe" | head -n 1)
result "control: the probe run in dom0 says $got" $([ "$got" = in-dom0 ]; echo $?)
t=$(now)
got=$(qvm-run -p desk "$probe" 2>/dev/null)
rc=$?
got=$(echo $got)
result "qvm-run -p runs in the Xen guest as its default user in $(since "$t") s: status $rc, output '$got'" \
  $([ $rc -eq 3 ] && [ "$got" = "in-domU 1000" ]; echo $?)
got=$(qvm-run -p -u root desk 'id -u; echo err >&2; false' 2>/tmp/err)
rc=$?
result "a second call on the same link, as root: '$got', status $rc, its stderr apart ('$(cat /tmp/err)')" \
  $([ $rc -eq 1 ] && [ "$got" = 0 ] && grep -q '^err$' /tmp/err; echo $?)
# A third, with stdin: dom0's STDIN messages and their end of stream
# between the others on the same ring.
got=$(printf 'one\ntwo\n' | qvm-run -p desk 'wc -l; exit 7' 2>/dev/null)
rc=$?
got=$(echo $got)
result "a third call on the same link, with stdin: '$got', status $rc" $([ $rc -eq 7 ] && [ "$got" = 2 ]; echo $?)
# One link for all: the agent answered once and was never lost (a desync
# would have dropped it: the agent logs why in the domU's console).
links=$(grep -c '\[desk\] its RPC agent answered' "$log")
lost=$(grep -c '\[desk\] lost its RPC agent' "$log")
result "the calls (and bulkheadd's app list read) shared one link: the agent answered $links time(s), lost $lost" \
  $([ "$links" = 1 ] && [ "$lost" = 0 ]; echo $?)

# desk's app list for dom0's menu (docs/apps.md): bulkheadd runs the
# domU's bulkhead-applist through the agent once desk is Running, bounded
# from when the agent takes the command; before session 10 the bound ran
# from Running, while the domU still booted, and every Xen qube's list was
# refused ("did not finish within the time allowed"). Read back with the
# shell's own call, ListApps.
apps_read() { grep -q '\[desk\] \(app list\|no app list\)' "$log"; }
until_ok 120 apps_read
read_line=$(grep -m 1 '\[desk\] \(app list\|no app list\)' "$log" | sed 's/.*\[desk\]/[desk]/')
apps=$(gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Admin1.ListApps desk 2>&1)
if [ -n "$display" ]; then
  want="'foot.desktop', 'Foot', 'Terminal'"
  result "ListApps desk names the domU's one app, foot ($read_line): $(echo "$apps" | cut -c1-90)" \
    $(echo "$apps" | grep -qF "$want" && echo "$apps" | grep -qF "], 'desk', '')"; echo $?)
else
  result "ListApps desk: the domU's list, empty, not refused ($read_line): $apps" \
    $(echo "$apps" | grep -qF "[], 'desk', '')"; echo $?)
fi

if [ -n "$display" ]; then
# The screenshot and where the windows are, for the host to check. dom0
# has no window manager, so both windows open at 0,0 and foot (the larger)
# would cover simple-shm: foot is moved right of it first, as a user would.
shm=$(window '\[desk\] simple-shm')
foot=$(window '\[desk\] foot')
foot_at_400() { geometry "$foot" | grep -q '^X=400 Y=0 '; }
[ -n "$foot" ] && xdotool windowmove "$foot" 400 0 >/dev/null 2>&1
until_ok 30 foot_at_400
result "[desk] foot moved to 400,0 (off simple-shm): $( [ -n "$foot" ] && geometry "$foot")" $?
for w in "$shm" "$foot"; do
  [ -n "$w" ] && geometry "$w"
done >"$out/desk.geom"
xwd -root -silent >"$out/desk.xwd"
result "xwd took dom0's screen ($(wc -c <"$out/desk.xwd") bytes, to the host)" $?

# Keys: foot focused, typed through the XTEST extension as a user's keyboard.
# The first key is held while Xvfb is stopped for a second, as a loaded
# machine stalls it: with X's default 660 ms repeat delay the server
# repeats it ("eecho", and no /tmp/keys); Xvfb's -ardelay above keeps it
# one key.
t=$(now)
xdotool windowactivate --sync "$foot" >/dev/null 2>&1 || xdotool windowfocus --sync "$foot" >/dev/null 2>&1
focus=$(printf '0x%x' "$(xdotool getwindowfocus 2>/dev/null)" 2>/dev/null)
xdotool keydown e
kill -STOP "$xvfb"
xdotool keyup e &
up=$!
sleep 1 # the stall itself, not a wait for anything
kill -CONT "$xvfb"
wait "$up"
xdotool type --delay 40 'cho typed over xen > /tmp/keys' && xdotool key Return
typed=$?
took=$(since "$t")
# xdotool itself took 22-100 s at load 11-18 (its round trips with a busy
# Xvfb); from its end, the file came within 5 s.
t=$(now)
until_ok 120 keys_arrived
result "keys typed with xdotool into [desk] foot, the first held across a 1 s stall of the X server, \
reach the domU's shell exactly (qvm-run -p reads /tmp/keys): typed in $took s, there $(since "$t") s later \
(X focus $focus, foot $foot, xdotool status $typed)" $? ||
  echo "# what the shell made of them: $(qvm-run -p desk 'ls /tmp; cat /tmp/keys' 2>&1 | tr '\n' ' ')"
fi

# A domain destroyed under the ring: no event comes through the ring; the
# death comes from libxl, and bulkheadd must stop guid itself.
domid=$(domid_of desk)
result "control: desk runs as domain $domid${display:+ and guid runs for it}" \
  $([ -n "$domid" ] && state_is desk Running && { [ -z "$display" ] || guid_runs desk; }; echo $?)
t=$(now)
xl destroy "$domid"
until_ok 120 state_is desk Crashed
result "xl destroy under the ring: bulkheadd reports desk Crashed after $(since "$t") s" $?
if [ -n "$display" ]; then
until_ok 30 no_window '\[desk\] '
rc=$?
until_ok 30 no_guid desk
result "its windows are gone and its guid ended ($(since "$t") s)" $([ $rc -eq 0 ] && ! guid_runs desk; echo $?)

# Again, with a new domain id; then the GUI agent killed mid-session.
t=$(now)
start desk
until_ok 180 has_window '\[desk\] simple-shm'
domid2=$(domid_of desk)
result "desk starts again as domain $domid2 (was $domid) and guid shows its window there \
($(since "$t") s)" $([ -n "$domid2" ] && [ "$domid2" != "$domid" ] && has_window '\[desk\] simple-shm'; echo $?)
lines=$(wc -l <"$log")
t=$(now)
qvm-run -u root desk 'kill -9 $(pidof bulkhead-gui-agent)' >/dev/null 2>&1
until_ok 60 no_window '\[desk\] '
rc=$?
until_ok 30 no_guid desk
result "GUI agent killed in the domU: guid sees the hang-up and ends, the windows go ($(since "$t") s)" \
  $([ $rc -eq 0 ] && ! guid_runs desk; echo $?)
until_ok 30 sh -c "tail -n +$((lines + 1)) $log | grep -q 'guid ended'"
result "bulkheadd logs guid's end: $(tail -n +$((lines + 1)) "$log" | grep -m 1 'guid ended' | sed 's/.*\[desk\]/[desk]/')" $?
until_ok 60 sh -c "tail -n +$((lines + 1)) $log | grep -q 'its GUI agent went away .* and the qube still runs'"
result "bulkheadd reports it once the grace is over and desk still runs ($(since "$t") s): \
$(tail -n +$((lines + 1)) "$log" | grep -m 1 'its GUI agent went away' | sed 's/.*\[desk\]/[desk]/')" $?
result "desk stays Running and its RPC agent still answers" \
  $(state_is desk Running && [ "$(qvm-run -p desk 'echo still-here' 2>/dev/null)" = still-here ]; echo $?)

t=$(now)
qvm-kill desk >/dev/null 2>&1
until_ok 120 state_is desk Halted
result "qvm-kill desk: Halted once libxl's destroy finished, after $(since "$t") s" $?
fi
loops_at_removal "$state" desk
stop_daemon "$daemon"
[ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null
if [ $failed -gt 0 ]; then
  echo "# ---- bulkheadd's log (last 60 lines)"
  tail -n 60 "$log" | sed 's/^/# /'
fi
echo "desktop: done"
[ $failed -eq 0 ]
