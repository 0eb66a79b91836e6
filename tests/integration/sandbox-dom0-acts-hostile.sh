#!/usr/bin/env bash
# sandbox-dom0-acts-hostile.sh — what dom0 keeps for a qube and shows while
# a qube acts, attacked by a hostile qube (work) on the sandbox backend, with
# bulkheadd, guid and the real bulkhead-ask on a private Xvfb under openbox:
#   - the vchan directory dom0 shares with a qube (its agents' sockets,
#     dom0's call socket) is writable by the qube; filling it with 64 MiB
#     and 1 000 files costs dom0 at most a 64 KiB tmpfs of 64 inodes
#     (before: the 64 MiB landed on the filesystem of dom0's
#     XDG_RUNTIME_DIR, past the qube's private_size, and stayed until the
#     qube stopped); work still answers, and after its stop nothing is left
#     and nothing is mounted (control: the same 64 MiB fit in work's home);
#   - dom0's ask dialog stays above a window the asking qube maps over it
#     while it is open, a window imitating the dialog (before: the new guest
#     window was stacked on top and hid it; control: the same guest window
#     covers an ordinary dom0 window opened at the same place);
#   - a disposable made from a template holding 512 MiB: bulkheadd answers
#     while the copy goes on (before: the copy ran in its main loop, and
#     nothing was answered until it was done; 1 GiB stopped it 4.4 s), and
#     one killed while its copy runs never starts and is removed.
# Every wait waits for an event (a window, a file, a state). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without Xvfb openbox xdotool xprop xwininfo xmessage import convert foot findmnt

bh_start_xvfb
openbox >"$bh_tmp/openbox.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 100); do xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break; sleep 0.1; done
xdotool mousemove 5 5 2>/dev/null
shots="$BH_BUILD_ROOT/tests/integration/shots"
mkdir -p "$shots"

bh_policy 30-test 'bulkhead.Filecopy * work @default ask default_target=personal' \
  'bulkhead.Filecopy * work personal ask' \
  'bulkhead.Filecopy * @anyvm @anyvm deny'
export BH_ASK_TIMEOUT_S=120

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend on a display"

# --- the vchan directory -------------------------------------------------------
bh_run qvm-run -p work 'echo $BH_VCHAN_DOMID'
qid=$bh_out
vchan="$XDG_RUNTIME_DIR/bulkhead/vchan/$qid"
bh_result "work runs; its vchan directory on dom0 is $vchan" $([ -n "$qid" ] && [ -d "$vchan" ]; echo $?)
bh_result "it is a bounded tmpfs of dom0's ($(findmnt -n -o FSTYPE,OPTIONS "$vchan" | tr '\n' ' '))" \
  $(findmnt -n -o FSTYPE,OPTIONS "$vchan" | grep -q '^tmpfs .*size=64k,nr_inodes=64'; echo $?)

bh_run qvm-run -p work 'head -c 64M /dev/zero > ~/fill && stat -c %s ~/fill; rm -f ~/fill'
bh_same "control: 64 MiB fit in work's home" "67108864" "$bh_out"
bh_run qvm-run -p work 'd=$BH_VCHAN_DIR/$BH_VCHAN_DOMID
head -c 64M /dev/zero > $d/fill 2>/dev/null; echo "status $?"; stat -c %s $d/fill'
echo "# in work: $(echo "$bh_out" | tr '\n' ' ')"
inside=$(echo "$bh_out" | tail -n1)
bh_result "64 MiB written into its vchan directory fail in work after at most 64 KiB ($inside bytes)" \
  $(echo "$bh_out" | head -n1 | grep -qv 'status 0' && [ "${inside:-0}" -le 65536 ]; echo $?)
seen=$(stat -c %s "$vchan/fill" 2>/dev/null || echo none)
bh_result "dom0 holds at most 64 KiB of it ($seen bytes in $vchan/fill)" \
  $([ "$seen" != none ] && [ "$seen" -le 65536 ]; echo $?)
bh_run qvm-run -p work 'd=$BH_VCHAN_DIR/$BH_VCHAN_DOMID; n=0
while [ $n -lt 1000 ] && mkdir $d/t$n 2>/dev/null; do n=$((n + 1)); done; echo $n'
bh_result "1 000 directories stop below 64 ($bh_out made)" $([ "${bh_out:-1000}" -lt 64 ]; echo $?)
bh_run qvm-run -p work 'echo still here'
bh_same "work still answers dom0 (its agent's socket lives there)" "still here" "$bh_out"

bh_expect "work shuts down" qvm-shutdown --wait work
left=$(find "$vchan" -mindepth 1 2>/dev/null | wc -l)
bh_result "after its stop nothing of it is left on dom0 ($left entries) and nothing is mounted there" \
  $([ "$left" -eq 0 ] && ! findmnt "$vchan" >/dev/null; echo $?)

# --- the ask dialog and a window of the asking qube ------------------------------
bh_run qvm-run -p work 'echo "from work" > ~/a.txt && echo ready'
bh_same "work runs again and holds a file" "ready" "$bh_out"
bh_result "its vchan directory is bounded again" $(findmnt -n -o FSTYPE "$vchan" | grep -q '^tmpfs'; echo $?)

# Control first: an ordinary dom0 window, then a window of work's over it.
xmessage -geometry 400x200+400+300 -title 'dom0 plain window' 'an ordinary dom0 window' 2>/dev/null &
plain_pid=$!
bh_bg_pids+=($plain_pid)
plain=$(bh_find_window '^dom0 plain window$')
qvm-run work "foot --window-size-pixels=1240x980 -T 'Bulkhead: work asks to copy files' sleep 600" \
  >/dev/null 2>&1
cover=$(bh_find_window '^\[work\] Bulkhead: ')
# stacked BELOW ABOVE: 0 when window BELOW is lower than ABOVE in openbox's
# stacking order (_NET_CLIENT_LIST_STACKING, bottom first).
stacked() {
  local order
  order=$(xprop -root _NET_CLIENT_LIST_STACKING | sed 's/.*# //; s/,//g')
  awk -v b="$(printf '0x%x' "$1")" -v a="$(printf '0x%x' "$2")" '{
    for (i = 1; i <= NF; i++) { if ($i == b) pb = i; if ($i == a) pa = i }
  } END { exit !(pb && pa && pb < pa) }' <<<"$order"
}
if [ -n "$plain" ] && [ -n "$cover" ]; then
  bh_until 100 stacked "$plain" "$cover"
  bh_result "control: work's new window is stacked over an ordinary dom0 window" $?
else
  bh_not_ok "control: a dom0 window ($plain) and work's window ($cover) appear"
fi
kill "$plain_pid" 2>/dev/null
qvm-run -p work 'pkill -f "sleep 600"' >/dev/null 2>&1
bh_until 100 sh -c "! xdotool search --name '^\[work\] Bulkhead: ' >/dev/null 2>&1"

# The attack: work asks, waits for the dialog to be up, maps its imitation.
qvm-run -p work 'qvm-copy-to-vm @default ~/a.txt' >"$bh_tmp/copy.out" 2>"$bh_tmp/copy.err" &
copy_pid=$!
bh_bg_pids+=($copy_pid)
dialog=$(bh_find_window '^Bulkhead: ')
bh_result "work's call opens dom0's ask dialog" $([ -n "$dialog" ]; echo $?)
# Set by openbox once it has the dialog's request (it comes right after the map).
bh_until 50 sh -c "xprop -id ${dialog:-0} _NET_WM_STATE 2>/dev/null | grep -q _NET_WM_STATE_ABOVE"
rc=$?
bh_result "the window manager keeps the dialog above ($(xprop -id "${dialog:-0}" _NET_WM_STATE 2>/dev/null))" $rc
qvm-run work "foot --window-size-pixels=1240x980 -T 'Bulkhead: work asks to copy files' sleep 600" \
  >/dev/null 2>&1
cover=$(bh_find_window '^\[work\] Bulkhead: ')
bh_result "work maps a window titled like the dialog ($(xdotool getwindowname "${cover:-0}" 2>/dev/null))" \
  $([ -n "$cover" ]; echo $?)
# The guest's window is drawn once guid has its buffer: wait for its frame.
bh_until 100 sh -c "xwininfo -id ${cover:-0} 2>/dev/null | grep -q 'IsViewable'"
if [ -n "$dialog" ] && [ -n "$cover" ]; then
  bh_until 30 stacked "$cover" "$dialog"
  bh_result "the dialog stays above work's window" $?
else
  bh_not_ok "the dialog stays above work's window"
fi
import -window root "$shots/dom0-acts-ask-above.png" 2>/dev/null &&
  echo "# screenshot: $shots/dom0-acts-ask-above.png"
eval "$(xdotool getwindowgeometry --shell "${dialog:-0}" 2>/dev/null)"
# The dialog's own light background where its area is: a covered dialog
# shows foot's dark one there.
light=$(convert "$shots/dom0-acts-ask-above.png" -crop "${WIDTH:-1}x${HEIGHT:-1}+${X:-0}+${Y:-0}" +repage \
  -colorspace Gray -threshold 80% -format '%[fx:int(mean*100)]' info: 2>/dev/null)
bh_result "on screen, the dialog's area is the dialog's own (${light:-?} % light pixels at ${WIDTH:-?}x${HEIGHT:-?}+${X:-?}+${Y:-?})" \
  $([ "${light:-0}" -ge 50 ]; echo $?)
xdotool windowactivate --sync "$dialog" 2>/dev/null
sleep 1.5
xdotool key --clearmodifiers Escape
wait "$copy_pid"
bh_result "the dialog still answers the user: Escape refuses the call ($(cat "$bh_tmp/copy.err" | head -n1))" \
  $(grep -q 'the user refused it' "$bh_tmp/copy.err"; echo $?)
qvm-run -p work 'pkill -f "sleep 600"' >/dev/null 2>&1

# --- a disposable made from a template holding a lot --------------------------------
bh_run qvm-run -p default-dvm 'head -c 512M /dev/zero > ~/big && sync && stat -c %s ~/big'
bh_same "default-dvm holds 512 MiB of data" "536870912" "$bh_out"
bh_expect "default-dvm shuts down" qvm-shutdown --wait default-dvm
gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Admin1.CreateDisposable default-dvm >"$bh_tmp/disp.out" 2>&1 &
disp_pid=$!
bh_bg_pids+=($disp_pid)
copying() { find "$bh_state/qubes" -maxdepth 2 -name private.img.new 2>/dev/null | grep -q .; }
bh_until 600 copying
bh_result "the disposable's copy of default-dvm's home is under way" $?
bh_run qvm-ls
copying
bh_result "bulkheadd answers qvm-ls while the copy goes on (before: only once the copy was done)" $?
wait "$disp_pid"
disp=$(sed -n "s/^('\\(disp[0-9]*\\)',)$/\\1/p" "$bh_tmp/disp.out")
bh_run qvm-run -p "${disp:-none}" 'stat -c %s ~/big'
bh_same "the disposable ($disp) starts with the template's 512 MiB" "536870912" "$bh_out"
qvm-kill "${disp:-none}" >/dev/null 2>&1

# Killed while its copy runs (a caller that hangs up): it never starts and goes.
gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Admin1.CreateDisposable default-dvm >"$bh_tmp/disp2.out" 2>&1 &
disp_pid=$!
bh_bg_pids+=($disp_pid)
bh_until 600 copying
new=$(find "$bh_state/qubes" -maxdepth 2 -name private.img.new 2>/dev/null | head -n1)
victim=$(basename "$(dirname "$new")")
bh_expect "the disposable is killed while its copy runs ($victim)" qvm-kill "$victim"
wait "$disp_pid"
bh_result "its creation fails ($(tr '\n' ' ' <"$bh_tmp/disp2.out"))" \
  $(grep -q 'killed while starting' "$bh_tmp/disp2.out"; echo $?)
bh_until 300 sh -c "! qvm-ls | grep -q '^$victim ' && [ ! -e '$bh_state/qubes/$victim' ]"
bh_result "and it is gone: not listed, no volumes left" $?

bh_done
