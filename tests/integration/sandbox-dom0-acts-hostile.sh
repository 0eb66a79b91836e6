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
#     and nothing is mounted (control: the same 64 MiB fit in work's home).
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

bh_done
