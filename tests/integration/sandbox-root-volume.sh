#!/usr/bin/env bash
# sandbox-root-volume.sh — a StandaloneVM's root has a size the kernel
# enforces (root_size), against a real bulkheadd on the sandbox backend
# (real sandboxes; docs/sandbox.md, "Storage" and "What a qube can write"):
#   - root_size: 10240 by default, below 256 refused, only for a StandaloneVM;
#   - a hostile user writing with dd into its /usr (an overlay upper) and its
#     /var until it fails: ENOSPC at the bound, the files at most the bound,
#     and on dom0's disk the qube's directory takes at most the bound (plus
#     its home); it still shuts down cleanly, and bulkheadd logs that the
#     root volume is full; GetDiskUsage counts the volume's blocks;
#   - what dom0 does for it with that full volume: a clone has every file,
#     starts, and its user owns and can change what the source's user made
#     in /usr; the same log line when the qube stops by itself (no Shutdown:
#     its init asked from inside); a larger root_size grows the volume at
#     the next start;
#   - control and upgrade: a StandaloneVM of the old layout (its layers as
#     directories on dom0's disk, BH_SANDBOX_ROOT=directory) takes the same
#     1 GiB whole; at its first start after the upgrade a root_size it does
#     not fit in fails the start with a sentence and leaves the layers as
#     they were, and one it fits in moves them into the volume (off
#     bulkheadd's main loop: it answers qvm-ls meanwhile) with every file,
#     its /usr files its user's and writable; layers found beside a volume
#     later (an older bulkheadd ran) are set aside, never removed.
# Every wait waits for an event (a state, a log line). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_keep_logs=1
bh_require_mkfs_ext4

mib_of() { echo $(($(du -s --block-size=1 "$1" 2>/dev/null | cut -f1) >> 20)); }
free_mib() { df --block-size=1M --output=avail "$bh_state" | tail -n1 | tr -d ' '; }

# --- control first: the old layout takes whatever its user writes ------------
BH_SANDBOX_ROOT=directory bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend, roots as directories (the old layout)"
bh_expect "qvm-create --standalone old" qvm-create --standalone -l red old
bh_expect "old has no netvm" qvm-prefs old netvm ""
bh_run qvm-run -p old 'mkdir -p /usr/local/bin && echo one > /usr/local/bin/tool && echo conf > /etc/old.conf &&
  head -c 1G /dev/urandom > /var/tmp/fill; stat -c %s /var/tmp/fill'
bh_same "control: in the old layout the user's 1 GiB (random, so no holes) into /var goes through whole" 1073741824 "$bh_out"
bh_expect "old shuts down" qvm-shutdown --wait old
old_dir="$bh_state/qubes/old"
m=$(mib_of "$old_dir/root")
bh_result "control: old's root layers take $m MiB of dom0's disk (at least the 1024 written)" \
  $([ "$m" -ge 1024 ]; echo $?)
bh_stop_daemon

# --- the bound ------------------------------------------------------------------
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts again"; bh_done; }
bh_ok "bulkheadd runs again, roots as volumes"
bh_expect "qvm-create --standalone sa" qvm-create --standalone -l red sa
bh_expect "sa has no netvm" qvm-prefs sa netvm ""
bh_run qvm-prefs sa root_size
bh_same "sa's root_size is 10240 by default" 10240 "$bh_out"
bh_expect_fail "qvm-prefs sa root_size 100 is refused" 1 "256" qvm-prefs sa root_size 100
bh_expect_fail "qvm-prefs work root_size 300 is refused: work is an AppVM" 1 "root_size" \
  qvm-prefs work root_size 300
bh_expect "qvm-prefs sa root_size 300" qvm-prefs sa root_size 300
bh_run qvm-run -p sa 'df -m --output=size /etc /usr | tail -n +2 | tr -s " \n" " "'
read -r etc_mib usr_mib <<<"$bh_out"
bh_result "sa's /etc and /usr sit on a 300 MiB volume (df: $bh_out)" \
  $([ -n "${usr_mib:-}" ] && [ "$etc_mib" -le 300 ] && [ "$etc_mib" -gt 250 ] && [ "$usr_mib" = "$etc_mib" ]; echo $?)
sa_dir="$bh_state/qubes/sa"
bh_result "on dom0's disk sa has root.img and no root layers as directories" \
  $([ -f "$sa_dir/root.img" ] && [ ! -e "$sa_dir/root" ] && [ ! -e "$sa_dir/root-work" ]; echo $?)

free0=$(free_mib)
bh_run qvm-run -p sa 'mkdir -p /usr/local/bin && echo one > /usr/local/bin/tool && echo kept > /etc/kept.conf &&
  dd if=/dev/zero of=/usr/fill bs=1M count=1024'
bh_result "dd of 1 GiB into sa's /usr fails with ENOSPC (exit $bh_rc)" \
  $([ "$bh_rc" -ne 0 ] && printf '%s' "$bh_err" | grep -q 'No space left on device'; echo $?)
bh_run qvm-run -p sa 'stat -c %s /usr/fill; rm /usr/fill; dd if=/dev/zero of=/var/tmp/fill bs=1M count=1024'
usr_fill=$(printf '%s\n' "$bh_out" | head -n1)
bh_result "dd of 1 GiB into sa's /var fails with ENOSPC too (exit $bh_rc)" \
  $([ "$bh_rc" -ne 0 ] && printf '%s' "$bh_err" | grep -q 'No space left on device'; echo $?)
bh_run qvm-run -p sa 'stat -c %s /var/tmp/fill'
var_fill=$bh_out
bh_result "the files stopped at the bound (/usr: $usr_fill, /var: $var_fill bytes, 300 MiB = 314572800)" \
  $([ -n "$usr_fill" ] && [ -n "$var_fill" ] && [ "$usr_fill" -le 314572800 ] && [ "$var_fill" -le 314572800 ] &&
    [ "$var_fill" -gt 200000000 ]; echo $?)
img=$(mib_of "$sa_dir/root.img")
rest=$(($(mib_of "$sa_dir") - img - $(mib_of "$sa_dir/private.img")))
free1=$(free_mib)
bh_result "on dom0's disk sa's root takes $img MiB (at most the 300), and nothing else of it grew ($rest MiB beside its volumes, MiB rounding); dom0's free space: $free0 -> $free1 MiB (other programs write too)" \
  $([ "$img" -le 300 ] && [ "$rest" -le 3 ]; echo $?)
from=$(bh_log_from "$bh_log")
bh_expect "sa, its root full, shuts down cleanly" qvm-shutdown --wait sa
bh_result "sa is Halted and was not killed" \
  $([ "$(bh_state_of sa)" = Halted ] && ! tail -n +"$from" "$bh_log" | grep -q '\[sa\] did not shut down'; echo $?)
bh_wait_grep "$bh_log" '\[sa\] its root volume is full ([0-9]* of [0-9]* MiB used).*raise root_size' 10 "$from"
bh_result "bulkheadd logged that sa's root volume is full" $?
# GetDiskUsage: (home bytes, exact, root bytes) — sa's root is its root.img's
# blocks (what du says of it), old's layers, directories, are no volume: 0.
usage=$(bh_admin GetDiskUsage "['sa', 'old']")
root_of() { echo "$usage" | grep -o "'$1': ([^)]*)" | sed 's/uint64 //g; s/.*, \([0-9]*\))$/\1/'; }
sa_root=$(root_of sa)
old_root=$(root_of old)
img_bytes=$(du -s --block-size=1 "$sa_dir/root.img" | cut -f1)
bh_result "GetDiskUsage counts sa's root volume ($sa_root bytes; du: $img_bytes) and no root for old ($old_root): $usage" \
  $([ -n "$sa_root" ] && [ "$sa_root" = "$img_bytes" ] && [ "$sa_root" -gt 209715200 ] && [ "$old_root" = 0 ]; echo $?)

# --- what dom0 does for it ---------------------------------------------------------
bh_expect "qvm-clone sa sa2 (of the full root)" qvm-clone sa sa2
bh_run qvm-run -p sa2 'cat /etc/kept.conf /usr/local/bin/tool; stat -c "%s %U" /var/tmp/fill /usr/local/bin/tool |
  cut -d" " -f2 | sort -u; echo two >> /usr/local/bin/tool && rm /var/tmp/fill && echo new > /usr/new && stat -c %U /usr/new'
bh_same "sa2 starts with sa's files, its user owns what sa's made in /usr and changes it" "kept
one
user
user" "$bh_out"
img2=$(mib_of "$bh_state/qubes/sa2/root.img")
bh_result "sa2's root is a volume too ($img2 MiB on dom0's disk)" \
  $([ -f "$bh_state/qubes/sa2/root.img" ] && [ "$img2" -le 300 ] && [ ! -e "$bh_state/qubes/sa2/root" ]; echo $?)
bh_expect "sa2 shuts down" qvm-shutdown --wait sa2
# A qube that stops by itself (its own init asked from inside, no Shutdown
# or Kill from dom0), its root still full: looked at too.
from=$(bh_log_from "$bh_log")
bh_run qvm-run -p sa 'kill -TERM 1'
bh_wait_state sa Halted
bh_result "sa, its root full, stops by itself (kill -TERM 1 inside): $(bh_state_of sa)" $?
bh_wait_grep "$bh_log" '\[sa\] its root volume is full ([0-9]* of [0-9]* MiB used).*raise root_size' 10 "$from"
bh_result "bulkheadd logged that sa's root volume is full after it stopped by itself" $?
bh_expect "qvm-prefs sa root_size 600" qvm-prefs sa root_size 600
bh_run qvm-run -p sa 'df -m --output=size /etc | tail -n1 | tr -d " "; cat /etc/kept.conf;
  rm /var/tmp/fill && fallocate -l 400M /var/tmp/big && echo room'
bh_same "sa's root is 600 MiB after its restart, with what it stored, and 400 MiB fit" "$(printf '%s\nkept\nroom' \
  "$(echo "$bh_out" | head -n1)")" "$bh_out"
size=$(echo "$bh_out" | head -n1)
bh_result "  (df says $size MiB)" $([ -n "$size" ] && [ "$size" -le 600 ] && [ "$size" -gt 500 ]; echo $?)
bh_expect "sa shuts down" qvm-shutdown --wait sa

# --- the upgrade: old's layers move into a volume at its first start -----------
bh_expect "qvm-prefs old root_size 512 (its layers hold 1 GiB)" qvm-prefs old root_size 512
bh_expect_fail "old does not fit: the start fails and says what to do" 1 "raise root_size" qvm-start old
bh_result "old's layers stay as they were (no root.img, the 1 GiB file in root/var/tmp)" \
  $([ ! -e "$old_dir/root.img" ] && [ "$(stat -c %s "$old_dir/root/var/tmp/fill")" = 1073741824 ] &&
    [ ! -e "$old_dir/.root.migrate" ] && [ ! -e "$old_dir/.root.img.new" ]; echo $?)
bh_expect "qvm-prefs old root_size 2048" qvm-prefs old root_size 2048
from=$(bh_log_from "$bh_log")
# The move copies and formats as much as the qube stored: off bulkheadd's
# main loop, which answers meanwhile.
qvm-start old >"$bh_tmp/start-old.out" 2>&1 &
start_pid=$!
bh_bg_pids+=($start_pid)
bh_until 600 test -d "$old_dir/.root.migrate"
bh_result "old's layers are moving into a volume ($old_dir/.root.migrate)" $?
bh_qvm_ls_during "$old_dir/.root.migrate" old "the move goes on"
bh_expect_fail "old cannot be removed meanwhile" 1 "old" qvm-remove -f old
wait "$start_pid"
bh_result "qvm-start old succeeds once the move is done ($(tr '\n' ' ' <"$bh_tmp/start-old.out"))" $?
bh_run qvm-run -p old 'cat /etc/old.conf /usr/local/bin/tool; stat -c %s /var/tmp/fill; stat -c %U /usr/local/bin/tool;
  echo two >> /usr/local/bin/tool && tail -n1 /usr/local/bin/tool; df -m --output=size /etc | tail -n1 | tr -d " "'
size=$(echo "$bh_out" | tail -n1)
bh_same "old starts with every file of its layers, its /usr its user's and writable" "conf
one
1073741824
user
two
$size" "$bh_out"
bh_result "old's root is now a 2048 MiB volume (df: $size) and its layers left dom0's disk" \
  $([ "$size" -le 2048 ] && [ "$size" -gt 1900 ] && [ -f "$old_dir/root.img" ] && [ ! -e "$old_dir/root" ] &&
    [ ! -e "$old_dir/root-work" ] && [ ! -e "$old_dir/.root.migrate" ]; echo $?)
bh_wait_grep "$bh_log" '\[old\] its root layers are now a volume of 2048 MiB' 10 "$from"
bh_result "bulkheadd logged the move" $?
bh_expect "old shuts down" qvm-shutdown --wait old

# Layers beside a volume (an older bulkheadd ran after the move and made new
# ones): set aside, never removed, and the qube runs on its volume.
mkdir -p "$old_dir/root/etc" && echo only-copy >"$old_dir/root/etc/marker"
from=$(bh_log_from "$bh_log")
bh_run qvm-run -p old 'cat /etc/old.conf; test -e /etc/marker || echo no-marker'
bh_same "old starts on its volume with layers beside it" "conf
no-marker" "$bh_out"
aside=$(ls -d "$old_dir"/.root-beside-volume-* 2>/dev/null | head -n1)
bh_result "the layers beside it were kept aside ($aside), not removed, and logged" \
  $([ -n "$aside" ] && [ "$(cat "$aside/etc/marker")" = only-copy ] && [ ! -e "$old_dir/root" ] &&
    bh_wait_grep "$bh_log" '\[old\] root layers were beside its root volume.*kept as' 10 "$from"; echo $?)
bh_expect "old shuts down again" qvm-shutdown --wait old

bh_done
