#!/usr/bin/env bash
# sandbox-dom0-acts.sh — what bulkheadd (root) does to files a hostile qube
# shaped, against a real bulkheadd on the sandbox backend (real sandboxes;
# DESIGN.md "When dom0 acts for a qube", docs/sandbox.md "dom0 and a qube's
# files"). Two hostile TemplateVMs write into their root layers, which are
# directories on dom0's disk by default (the open case):
#   - tpl: links (absolute and relative) to dom0's files and to another
#     qube's directory, a fifo, a socket, set-uid and set-gid files, a hard
#     link, a user xattr, a sparse file of 1 TiB, names with a newline, a
#     terminal escape and invalid UTF-8; hard links to host files it cannot
#     make (another mount: EXDEV);
#   - filler: 300 MiB under a name with escapes, for a root_size of 256;
#   - abyss: the same links, and directories 10 000 deep whose last name
#     holds a terminal escape.
# What dom0 does with them: a clone (a copy in a worker thread), the move
# of a template's layers into a root volume at its start
# (BH_SANDBOX_TEMPLATE_ROOT=volume), GetDiskUsage, a leftover set aside,
# listed and removed. What must hold: dom0's files and the other qube's are
# never read, written or removed through a link (their content, mode and
# inode are checked after each step); links arrive as links with their
# text, no fifo/socket, no set-uid bit, holes stay holes, names arrive
# byte for byte; a tree too deep fails the copy with a sentence in which
# the qube's names are escaped (no raw escape or newline reaches a
# terminal) and leaves nothing of the copy, the layers as they were;
# bulkheadd answers meanwhile; a leftover's name is dom0's own and its
# removal takes the whole 10 000-deep tree and nothing outside it.
# Then a home kept as a directory (BH_SANDBOX_PRIVATE=directory): 20
# GetDiskUsage walks while walker swaps one of its directories with a link to
# 64 MiB of dom0's never count them; at the next start (images) that home
# moves into private.img (mkfs.ext4 -d) with its links as links.
# Every wait waits for an event (a state, a command's end). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_keep_logs=1
bh_require_mkfs_ext4
bh_skip_without python3

# dom0's own files, named by the qubes' links.
canary="$bh_tmp/canary"
mkdir -p "$canary/dir"
printf 'dom0 secret\n' >"$canary/file"
chmod 0600 "$canary/file"
printf 'keep\n' >"$canary/dir/keep"
# 64 MiB of blocks: a walk that followed a link to it could not hide it
fallocate -l 64M "$canary/dir/big" 2>/dev/null || head -c 64M /dev/zero >"$canary/dir/big"
canary_state() {
  (cd "$canary" && find . -printf '%p %m %U %G %s %i\n' | sort && cat file dir/keep) 2>&1
  stat -c '%n %m %U %i' "$bh_state/qubes/other" "$bh_state/qubes/other/private.img" 2>&1
}
# one escape byte or newline in text shown to the user is a forgery chance
raw_controls() { printf '%s' "$1" | LC_ALL=C grep -c $'\e' ; }

# hostile DIR: what a hostile user makes in DIR, inside its template
hostile_links() {
  cat <<EOF
set -e
mkdir -p $1 && cd $1
ln -s $canary/file abs-file
ln -s $canary/dir abs-dir
ln -s ../../../../../../../../../../../../..$canary/dir rel-dir
ln -s $bh_state/qubes/other other-qube
ln -s /etc etc-link
EOF
}

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend (templates' roots are directories)"
bh_expect "qvm-create other (the qube whose directory the links name)" qvm-create -l green --prop netvm= other
bh_expect "qvm-create -C TemplateVM tpl" qvm-create -C TemplateVM -l black --prop netvm= tpl
bh_expect "qvm-create -C TemplateVM abyss" qvm-create -C TemplateVM -l black --prop netvm= abyss
bh_expect "qvm-create -C TemplateVM filler" qvm-create -C TemplateVM -l black --prop netvm= filler
bh_expect "qvm-prefs filler root_size 256" qvm-prefs filler root_size 256
bh_expect "other starts (its private.img exists)" qvm-start other
bh_expect "other shuts down" qvm-shutdown --wait other
before=$(canary_state)

bh_run qvm-run -p tpl "$(hostile_links /var/h)
mkfifo fifo
python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.bind(\"sock\")'
printf 'tool\n' > suid && chmod 4755 suid
printf 'tool\n' > sgid && chmod 2755 sgid
printf 'linked\n' > one && ln one two
python3 -c 'import os; os.setxattr(\"one\", \"user.mark\", b\"kept\")'
truncate -s 1T sparse && printf 'tail' >> sparse
printf 'a\n' > \"\$(printf 'nl\nname')\"
printf 'b\n' > \"\$(printf 'esc\033[31mRED')\"
printf 'c\n' > \"\$(printf 'bad\377\376utf8')\"
mkdir -p d1/d2/d3 && printf 'deep\n' > d1/d2/d3/f
mkdir -p /usr/local/bin && printf 'mine\n' > /usr/local/bin/h-tool
mkdir -p /var/hl && for f in /usr/bin/true /etc/passwd /usr/local/bin/h-tool; do
  ln \$f /var/hl/\$(basename \$f) 2>/dev/null && echo linked \$f >&2; done
find . | wc -l"
bh_result "tpl's user made its hostile tree in /var/h (exit $bh_rc, $bh_out entries)" \
  $([ "$bh_rc" -eq 0 ] && [ "${bh_out:-0}" -ge 15 ]; echo $?)
[ "$bh_rc" -eq 0 ] || echo "$bh_err" | bh_diag
same=$(find "$bh_state/qubes/tpl/root" \( -samefile /usr/bin/true -o -samefile /etc/passwd \) -printf '%p ' 2>/dev/null)
# (ln itself works inside: "one" and "two" above are one inode)
made=$(echo "$bh_err" | grep -c '^linked')
bh_result "tpl cannot hard-link the host's /usr/bin/true and /etc/passwd or its own /usr file into /var ($made of 3 made), and nothing in its layers shares an inode with dom0's${same:+: $same}" \
  $([ "$made" = 0 ] && [ -z "$same" ]; echo $?)
bh_result "on dom0's disk: tpl's links are links in its root layers" \
  $([ -L "$bh_state/qubes/tpl/root/var/h/abs-file" ] && [ -p "$bh_state/qubes/tpl/root/var/h/fifo" ]; echo $?)

t0=$(date +%s)
bh_run qvm-run -p abyss "$(hostile_links /var/h)
python3 - <<'PY'
import os
os.chdir('/var/h')
os.mkdir('\033]0;owned\007\033[2J\nFAKE')
os.chdir('\033]0;owned\007\033[2J\nFAKE')
for i in range(10000):
    os.mkdir('d')
    os.chdir('d')
open('bottom', 'w').write('bottom')
PY
cd /var/h && find . -depth | wc -l"
bh_result "abyss's user made links and directories 10 000 deep in /var/h (exit $bh_rc, $bh_out entries, $(($(date +%s) - t0)) s)" \
  $([ "$bh_rc" -eq 0 ] && [ "${bh_out:-0}" -ge 10006 ]; echo $?)
[ "$bh_rc" -eq 0 ] || echo "$bh_err" | bh_diag
# filler: 300 MiB of data (no holes) under a name with escapes, for a
# root_size of 256 MiB: mkfs.ext4 -d names it when it runs out of blocks.
bh_run qvm-run -p filler "head -c 300M /dev/urandom > \"/var/\$(printf 'fill\033]0;owned\007\033[2J\nFAKE')\" && echo done"
bh_same "filler's user wrote 300 MiB into /var under a name with escapes" done "$bh_out"
bh_expect "tpl shuts down" qvm-shutdown --wait tpl
bh_expect "abyss shuts down" qvm-shutdown --wait abyss
bh_expect "filler shuts down" qvm-shutdown --wait filler
bh_same "dom0's files and other's directory are as they were after the qubes wrote" "$before" "$(canary_state)"

# in_copy QUBE: what a copy of tpl's /var/h holds, seen from inside QUBE.
in_copy() {
  bh_run qvm-run -p "$1" 'cd /var/h && for l in abs-file abs-dir rel-dir other-qube etc-link; do
    printf "%s -> %s\n" "$l" "$(readlink $l)"; done
  python3 -c "import os; print(sorted(os.listdir(b\".\")))"
  stat -c "%n %a %h %s %b" suid sgid one two sparse
  [ "$(stat -c %i one)" = "$(stat -c %i two)" ] && echo "one two: one inode"
  python3 -c "import os; print(\"user.mark\", os.getxattr(\"one\", \"user.mark\").decode())"
  cat d1/d2/d3/f; tail -c 4 sparse; echo'
}
expect_links="abs-file -> $canary/file
abs-dir -> $canary/dir
rel-dir -> ../../../../../../../../../../../../..$canary/dir
other-qube -> $bh_state/qubes/other
etc-link -> /etc"
expect_names="[b'abs-dir', b'abs-file', b'bad\\xff\\xfeutf8', b'd1', b'esc\\x1b[31mRED', b'etc-link', b'nl\\nname', b'one', b'other-qube', b'rel-dir', b'sgid', b'sparse', b'suid', b'two']"
# check_copy QUBE WHAT: in_copy's answer is tpl's tree, made safe
check_copy() {
  in_copy "$1"
  local got=$bh_out
  echo "$got" | sed -n '6,30p' | bh_diag
  bh_same "$2: the links are links with their text" "$expect_links" "$(echo "$got" | head -n5)"
  bh_result "$2: no fifo and no socket, every other name byte for byte (newline, escape, invalid UTF-8)" \
    $([ "$(echo "$got" | sed -n 6p)" = "$expect_names" ]; echo $?)
  bh_result "$2: set-uid and set-gid bits dropped" \
    $(echo "$got" | grep -q '^suid 755 ' && echo "$got" | grep -q '^sgid 755 '; echo $?)
  bh_result "$2: the hard link stays one inode, its user xattr kept" \
    $(echo "$got" | grep -q '^one two: one inode' && echo "$got" | grep -q '^user.mark kept'; echo $?)
  bh_result "$2: the sparse file keeps its 1 TiB size and only its data's blocks" \
    $(echo "$got" | awk '$1 == "sparse" && $4 == 1099511627780 && $5 <= 64 {f=1} END {exit !f}'; echo $?)
  bh_result "$2: the data is there" $(echo "$got" | grep -q '^deep$' && echo "$got" | grep -q 'tail$'; echo $?)
}

# --- a clone ---------------------------------------------------------------------
from=$(bh_log_from "$bh_log")
bh_expect_fail "qvm-clone abyss fails: directories nested too deep" 1 'nested too deep' qvm-clone abyss abyss2
echo "$bh_err" | head -c 600 | cat -v | bh_diag
bh_result "its sentence shows abyss's names escaped (\\033, \\n), no raw escape or newline inside a name" \
  $([ "$(raw_controls "$bh_err")" = 0 ] && printf '%s' "$bh_err" | grep -qF '\033]0;owned\007\033[2J\nFAKE/d/d'; echo $?)
bh_result "and gives the bound as its reason, not errno's words (no 'symbolic links')" \
  $(! printf '%s' "$bh_err" | grep -q 'symbolic links'; echo $?)
bh_result "nor does bulkheadd's log" $([ "$(raw_controls "$(tail -n +"$from" "$bh_log")")" = 0 ]; echo $?)
bh_result "nothing of abyss2 is left, abyss's layers are whole" \
  $([ ! -e "$bh_state/qubes/abyss2" ] && [ "$(find "$bh_state/qubes/abyss/root/var/h" -name bottom -printf x | wc -c)" = 1 ]; echo $?)
bh_same "dom0's files and other's directory are as they were after the failed clone" "$before" "$(canary_state)"

bh_expect "qvm-clone tpl tpl2" qvm-clone tpl tpl2
bh_same "dom0's files and other's directory are as they were after the clone" "$before" "$(canary_state)"
d=$(du -s --block-size=1M "$bh_state/qubes/tpl2/root/var/h" | cut -f1)
bh_result "on dom0's disk the clone's /var/h takes $d MiB (the 1 TiB file is holes)" $([ "$d" -le 2 ]; echo $?)
check_copy tpl2 "in the clone tpl2"
bh_run qvm-run -p tpl2 'stat -c %U /usr/local/bin/h-tool && echo more >> /usr/local/bin/h-tool && cat /usr/local/bin/h-tool'
bh_same "in the clone tpl2, its user owns and changes what tpl's user made in /usr (its layer's owner read without following links)" \
  "user
mine
more" "$bh_out"

# --- GetDiskUsage ----------------------------------------------------------------
usage=$(bh_admin GetDiskUsage "['tpl', 'abyss', 'tpl2', 'other']")
bh_result "GetDiskUsage answers for the hostile templates: $usage" \
  $(echo "$usage" | grep -q "'other'"; echo $?)
bh_same "dom0's files and other's directory are as they were after GetDiskUsage" "$before" "$(canary_state)"

# --- removal of a qube with links to dom0's files --------------------------------
bh_expect "qvm-shutdown tpl2" qvm-shutdown --wait tpl2
bh_expect "qvm-remove tpl2 (its layers hold links to dom0's files)" qvm-remove -f tpl2
bh_result "tpl2's directory is gone" $([ ! -e "$bh_state/qubes/tpl2" ]; echo $?)
bh_same "dom0's files and other's directory are as they were after the removal" "$before" "$(canary_state)"
bh_stop_daemon

# --- the move into a root volume ------------------------------------------------
export BH_SANDBOX_TEMPLATE_ROOT=volume
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts again"; bh_done; }
bh_ok "bulkheadd runs again, BH_SANDBOX_TEMPLATE_ROOT=volume"
from=$(bh_log_from "$bh_log")
bh_expect_fail "abyss does not start: its layers are nested too deep to move" 1 'nested too deep' qvm-start abyss
echo "$bh_err" | head -c 600 | cat -v | bh_diag
bh_result "its sentence and bulkheadd's log show abyss's names escaped" \
  $([ "$(raw_controls "$bh_err")" = 0 ] && [ "$(raw_controls "$(tail -n +"$from" "$bh_log")")" = 0 ]; echo $?)
bh_result "abyss's layers stay directories, whole; nothing of the move is left" \
  $([ ! -e "$bh_state/qubes/abyss/root.img" ] && [ ! -e "$bh_state/qubes/abyss/.root.migrate" ] &&
    [ "$(find "$bh_state/qubes/abyss/root/var/h" -name bottom -printf x | wc -c)" = 1 ]; echo $?)
bh_same "dom0's files and other's directory are as they were after the failed move" "$before" "$(canary_state)"

from=$(bh_log_from "$bh_log")
bh_expect_fail "filler does not start: its 300 MiB do not fit its root_size of 256" 1 'raise root_size' qvm-start filler
echo "$bh_err" | head -c 600 | cat -v | bh_diag
bh_result "mkfs.ext4's words in the sentence name filler's file escaped (\\033, \\007), nothing raw, nor in the log" \
  $([ "$(raw_controls "$bh_err")" = 0 ] && [ "$(raw_controls "$(tail -n +"$from" "$bh_log")")" = 0 ] &&
    printf '%s' "$bh_err" | grep -qF 'fill\033]0;owned\007'; echo $?)
bh_result "filler's layers stay directories, its file whole" \
  $([ ! -e "$bh_state/qubes/filler/root.img" ] &&
    [ "$(find "$bh_state/qubes/filler/root/var" -maxdepth 1 -name 'fill*' -size 300M -printf x | wc -c)" = 1 ]; echo $?)

bh_expect "tpl starts: its layers move into a root volume" qvm-start tpl
bh_result "tpl runs on root.img, its layers are no directories" \
  $([ -f "$bh_state/qubes/tpl/root.img" ] && [ ! -e "$bh_state/qubes/tpl/root" ]; echo $?)
check_copy tpl "in tpl's root volume"
bh_same "dom0's files and other's directory are as they were after the move" "$before" "$(canary_state)"
bh_expect "tpl shuts down" qvm-shutdown --wait tpl
bh_stop_daemon

# --- a leftover ------------------------------------------------------------------
# What a dead qube left: abyss's directory in the place of a qube the store
# no longer has (as bulkheadd stopped in the middle of a removal leaves it).
mv "$bh_state/qubes/abyss" "$bh_state/qubes/ghost"
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts a third time"; bh_done; }
bh_expect "qvm-create ghost sets abyss's tree aside" qvm-create -l red --prop netvm= ghost
bh_run bulkhead leftovers
echo "$bh_out" | bh_diag
left=$(echo "$bh_out" | awk '$2 == "ghost" {print $1}')
bh_result "bulkhead leftovers names it by dom0's words only ($left), no control byte" \
  $([[ $left =~ ^\.orphan-ghost-[0-9]{8}T[0-9]{6}Z$ ]] && [ "$(raw_controls "$bh_out")" = 0 ] &&
    [ "$(echo "$bh_out" | wc -l)" = 2 ]; echo $?)
bulkhead leftovers --remove "$left" >"$bh_tmp/remove.out" 2>&1 &
rm_pid=$!
t0=$(date +%s%N)
bh_run qvm-ls
t1=$(date +%s%N)
bh_result "bulkheadd answers qvm-ls while the leftover is removed ($(((t1 - t0) / 1000000)) ms)" \
  $([ "$bh_rc" -eq 0 ]; echo $?)
wait "$rm_pid"
rm_rc=$?
bh_result "bulkhead leftovers --remove $left: the leftover, 10 000 levels deep, is gone (exit $rm_rc)" \
  $([ "$rm_rc" -eq 0 ] && [ ! -e "$bh_state/qubes/$left" ]; echo $?)
bh_diag <"$bh_tmp/remove.out"
bh_same "dom0's files and other's directory are as they were after the leftover's removal" "$before" "$(canary_state)"
bh_stop_daemon

# --- a home kept as a directory: measured while its qube swaps it ------------------
unset BH_SANDBOX_TEMPLATE_ROOT
BH_SANDBOX_PRIVATE=directory bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts a fourth time"; bh_done; }
bh_ok "bulkheadd runs again, homes as directories (BH_SANDBOX_PRIVATE=directory)"
bh_expect "qvm-create walker" qvm-create -l red --prop netvm= walker
bh_expect "walker starts" qvm-start walker
# walker swaps a directory of its home with a link to dom0's 64 MiB until told
qvm-run -p walker "python3 - <<'PY'
import os, time
os.chdir('/home/user')
os.makedirs('swap/sub', exist_ok=True)
open('swap/sub/f', 'w').write('x' * 4096)
os.symlink('$canary/dir', 'link')
os.symlink('$canary/dir', 'still')
n, end = 0, time.time() + 120
while time.time() < end and not os.path.exists('stop'):
    os.rename('swap', 'tmp'); os.rename('link', 'swap'); os.rename('swap', 'link'); os.rename('tmp', 'swap')
    n += 1
print(n)
PY" >"$bh_tmp/swaps" 2>&1 &
swapper=$!
bh_until 100 test -L "$bh_state/qubes/walker/private/still"
max=0 answers=0
for _ in $(seq 20); do
  b=$(bh_admin GetDiskUsage "['walker']" | sed -n "s/.*'walker': (uint64 \([0-9]*\),.*/\1/p")
  [ -n "$b" ] && answers=$((answers + 1)) && [ "$b" -gt "$max" ] && max=$b
done
bh_run qvm-run -p walker 'touch ~/stop'
wait "$swapper"
swaps=$(tail -n1 "$bh_tmp/swaps")
bh_result "20 GetDiskUsage walks of walker's home during $swaps swaps of a directory for a link to dom0's 64 MiB: $answers answers, at most $max bytes (never the 64 MiB)" \
  $([ "$answers" = 20 ] && [ "${swaps:-0}" -gt 0 ] && [ "$max" -lt $((32 << 20)) ]; echo $?)
bh_same "dom0's files and other's directory are as they were after the walks" "$before" "$(canary_state)"
bh_expect "walker shuts down" qvm-shutdown --wait walker
bh_stop_daemon

# --- that home moves into a private volume (mkfs.ext4 -d on it) --------------------
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts a fifth time"; bh_done; }
bh_expect "walker starts: its home moves into private.img" qvm-start walker
bh_run qvm-run -p walker 'readlink ~/link ~/still; cat ~/swap/sub/f | wc -c'
bh_same "inside, its links are links with their text, its directory whole" "$canary/dir
$canary/dir
4096" "$bh_out"
bh_result "walker's home is private.img, no directory" \
  $([ -f "$bh_state/qubes/walker/private.img" ] && [ ! -e "$bh_state/qubes/walker/private" ]; echo $?)
bh_same "dom0's files and other's directory are as they were after the home's move" "$before" "$(canary_state)"
bh_expect "walker shuts down again" qvm-shutdown --wait walker

bh_done
