#!/usr/bin/env bash
# sandbox-filecopy.sh — copying files between two real sandbox qubes (work ->
# personal) with bulkhead-file-sender and bulkhead-file-receiver, dom0 only
# piping bytes both ways between two `qvm-run -p` (it never parses them;
# qube-initiated calls under policy will replace the pipes, docs/filecopy.md):
#   a tree with nested folders, unicode names, an empty file, symlinks inside
#   the tree and a big file (BH_FILECOPY_BIG_MIB, 1024 by default) arrives
#   with equal checksums; the same name twice gives "tree (1)"; a move whose
#   receiver is killed in the middle keeps the sources and leaves nothing in
#   personal's incoming folder (the next receiver sweeps the dead one's
#   staging folder); a move that completes removes the sources; every stream
#   of tests/fuzz/filecopy/cases.c sent straight at the receiver in personal
#   answers its reason, and nothing appears outside ~/QubesIncoming/work.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

cases="$BH_BUILD_ROOT/tests/unit/filecopy/test-filecopy"
big_mib=${BH_FILECOPY_BIG_MIB:-1024}

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

# copy SENDER-ARGS [RECEIVER-ARGS]: work's sender to personal's receiver, the
# receiver's status back to the sender, through dom0 as two qvm-run -p and a
# FIFO. Sets copy_rc (the sender's exit), copy_err (its stderr).
copy() {
  local fifo="$bh_tmp/back.$RANDOM"
  mkfifo "$fifo"
  qvm-run -p work "bulkhead-file-sender --no-progress $1" <"$fifo" 2>"$bh_tmp/sender.err" |
    qvm-run -p personal "bulkhead-file-receiver ${2:-} work" >"$fifo" 2>"$bh_tmp/receiver.err"
  copy_rc=${PIPESTATUS[0]}
  copy_err=$(cat "$bh_tmp/sender.err" "$bh_tmp/receiver.err")
  rm -f "$fifo"
}

tree_sums='find . -mindepth 1 \( -type f -exec sha256sum {} + \) -o \( -type l -printf "%p -> %l\n" \) -o \( -type d -printf "%p/\n" \) | LC_ALL=C sort'

bh_run qvm-run -p work "set -e
  mkdir -p ~/tree/sub/deeper ~/tree/'日本語 ünï' ~/tree/empty-dir
  echo hello > ~/tree/a.txt
  : > ~/tree/empty
  printf 'caf\303\251\n' > ~/tree/'日本語 ünï/naïve ✓ 🎉.txt'
  ln -s ../../a.txt ~/tree/sub/deeper/link
  ln -s 'sub/deeper' ~/tree/shortcut
  head -c ${big_mib}M /dev/urandom > ~/tree/big.bin
  cd ~/tree && $tree_sums"
src_sums=$bh_out
bh_result "work holds a tree with nested folders, unicode names, an empty file, symlinks and ${big_mib} MiB ($bh_rc)" \
  $([ "$bh_rc" -eq 0 ] && [ -n "$src_sums" ]; echo $?)

t0=$(date +%s.%N)
copy "~/tree"
t1=$(date +%s.%N)
bh_result "the copy is confirmed (sender exit $copy_rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s)" "$copy_rc"
echo "$copy_err" | bh_diag
bh_run qvm-run -p personal "cd ~/QubesIncoming/work/tree && $tree_sums"
bh_same "personal's copy has the same checksums, links and folders" "$src_sums" "$bh_out"

copy "~/tree/a.txt ~/tree/a.txt"
bh_run qvm-run -p personal 'cd ~/QubesIncoming/work && ls -1 | LC_ALL=C sort && cat "a (1).txt"'
bh_same "the same name twice arrives as 'a.txt' and 'a (1).txt'" "$(printf 'a (1).txt\na.txt\ntree\nhello')" "$bh_out"
copy "~/tree/empty-dir"
copy "~/tree/empty-dir"
bh_run qvm-run -p personal 'cd ~/QubesIncoming/work && ls -d1 empty-dir*'
bh_same "a folder sent twice arrives as 'empty-dir' and 'empty-dir (1)'" "$(printf 'empty-dir\nempty-dir (1)')" "$bh_out"

# Move, the receiver killed with SIGKILL after 64 MiB: dom0's relay forwards
# 64 MiB, kills it inside personal, then keeps relaying what still comes.
# (The big file goes first: each home is a 2 GiB volume.)
bh_run qvm-run -p work 'rm ~/tree/big.bin'
bh_run qvm-run -p personal 'rm ~/QubesIncoming/work/tree/big.bin'
bh_run qvm-run -p work "mkdir -p ~/moving && head -c 256M /dev/urandom > ~/moving/big.bin && cp ~/tree/a.txt ~/moving/ && cd ~/moving && $tree_sums"
moving_sums=$bh_out
fifo="$bh_tmp/back.kill"
mkfifo "$fifo"
qvm-run -p work "bulkhead-file-sender --no-progress --move ~/moving" <"$fifo" 2>"$bh_tmp/sender.err" |
  { head -c 67108864; qvm-run personal 'pkill -KILL -x bulkhead-file-r' >/dev/null 2>&1; cat >/dev/null; } |
  qvm-run -p personal "bulkhead-file-receiver work" >"$fifo" 2>"$bh_tmp/receiver.err"
echo "sender: $(cat "$bh_tmp/sender.err"); receiver: $(cat "$bh_tmp/receiver.err")" | bh_diag
rm -f "$fifo"
bh_run qvm-run -p work "cd ~/moving && $tree_sums"
bh_same "a move whose receiver was killed keeps every source" "$moving_sums" "$bh_out"
bh_run qvm-run -p personal 'ls -A ~/QubesIncoming/work | grep -c moving; ls -A ~/QubesIncoming/.bulkhead-partial | wc -l'
bh_same "nothing of it is in personal's QubesIncoming/work; its staging folder is left" "$(printf '0\n1')" "$bh_out"
copy "~/tree/a.txt"
bh_run qvm-run -p personal 'ls -A ~/QubesIncoming/.bulkhead-partial | wc -l'
bh_same "the next receiver removes the killed one's staging folder" "0" "$bh_out"

# A full disk in personal: the move is refused with the reason, nothing of
# it stays there, the sources stay.
bh_run qvm-run -p personal 'fallocate -l $(( $(df --output=avail -B1 ~ | tail -n1) - 32 * 1024 * 1024 )) ~/filler && df -m --output=avail ~ | tail -n1'
echo "personal's free space after the filler: ${bh_out} MiB" | bh_diag
copy "--move ~/moving"
bh_result "a move into a full disk is refused in words (sender exit $copy_rc: $(echo "$copy_err" | grep -o 'disk of the receiving qube is full' | head -n1))" \
  $([ "$copy_rc" -eq 1 ] && [[ "$copy_err" == *"disk of the receiving qube is full"* ]]; echo $?)
bh_run qvm-run -p work "cd ~/moving && $tree_sums"
bh_same "its sources stay" "$moving_sums" "$bh_out"
bh_run qvm-run -p personal 'ls -A ~/QubesIncoming/work | grep -c moving; ls -A ~/QubesIncoming/.bulkhead-partial | wc -l; rm ~/filler'
bh_same "and nothing of it is in personal, not even in staging" "$(printf '0\n0')" "$bh_out"

copy "--move ~/moving"
bh_result "the move is confirmed (sender exit $copy_rc)" "$copy_rc"
echo "$copy_err" | bh_diag
bh_run qvm-run -p work 'test -e ~/moving && echo still there || echo gone'
bh_same "after the confirmation the sources are gone" "gone" "$bh_out"
bh_run qvm-run -p personal "cd ~/QubesIncoming/work/moving && $tree_sums"
bh_same "and personal has them whole" "$moving_sums" "$bh_out"

# Hostile streams straight at the receiver in personal.
bh_run qvm-run -p personal 'rm -rf ~/QubesIncoming && mkdir -p ~/canary && echo untouched > ~/canary/file'
# Control: the places these streams aim at are writable from where the
# receiver writes, its staging folder (a receiver that followed the names
# would reach them): ../../../ from there is the home folder.
bh_run qvm-run -p personal 'mkdir -p ~/QubesIncoming/.bulkhead-partial/work.1 && cd ~/QubesIncoming/.bulkhead-partial/work.1 &&
  echo x > ../../../outside-evil-control && echo y > /tmp/outside-evil-control &&
  cat ~/outside-evil-control /tmp/outside-evil-control && rm ~/outside-evil-control /tmp/outside-evil-control; rm -rf ~/QubesIncoming'
bh_same "control: ../../../ from the staging folder (the home) and /tmp are writable for personal's user" "$(printf 'x\ny')" "$bh_out"
"$cases" --stream --list >"$bh_tmp/cases"
while read -r name want words; do
  "$cases" --stream "$name" |
    qvm-run -p personal "bulkhead-file-receiver work" 2>"$bh_tmp/receiver.err" |
    "$cases" --status >"$bh_tmp/status"
  read -r code reason <"$bh_tmp/status"
  bh_result "stream '$name' at personal's receiver: status $code ($reason)" \
    $([ "$code" = "$want" ] && { [ -z "$words" ] || [[ "$reason" == *"$words"* ]]; }; echo $?)
done <"$bh_tmp/cases"
bh_run qvm-run -p personal 'find / -xdev -name "*outside-evil*" 2>/dev/null; find /tmp -name "*outside-evil*"; cat ~/canary/file; cd ~/QubesIncoming && find . | LC_ALL=C sort'
expected=$(printf '%s\n' untouched . ./.bulkhead-partial ./work ./work/dir ./work/dir/in "./work/dir (1)" \
  "./work/dir (1)/in" ./work/same.txt "./work/same (1).txt" ./work/top.txt ./work/tree ./work/tree/a.txt \
  ./work/tree/empty ./work/tree/other ./work/tree/other/deep ./work/tree/sub ./work/tree/sub/link \
  "./work/tree/sub/ünï código ✓.txt" | LC_ALL=C sort)
bh_same "nothing outside ~/QubesIncoming/work appeared, and only the two valid streams' entries are in it" \
  "$expected" "$(printf '%s\n' "$bh_out" | LC_ALL=C sort)"

bh_done
