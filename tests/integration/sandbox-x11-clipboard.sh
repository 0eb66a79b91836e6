#!/usr/bin/env bash
# sandbox-x11-clipboard.sh — CLIPBOARD between X11 and Wayland apps in a
# real qube, and with the global clipboard (issue 22), on a private Xvfb with
# openbox as dom0's window manager:
#   an X owner (x11-hostile own, 300 000 bytes by INCR in 16 KiB chunks)
#                         -> a GTK 4 app (Wayland) in work pastes the exact bytes
#   the GTK app copies 64 000 bytes
#                         -> xclip in work reads the exact bytes (the agent
#                            answers by INCR past 32 KiB)
#   an X owner's text     -> foot in work pastes it
#   Ctrl+Shift+C in work on an X app's text, Ctrl+Shift+V into personal's foot
#                         -> foot receives it
#   Ctrl+Shift+V into work -> xclip in work reads dom0's text
#   MULTIPLE from an X client -> each pair answered (INCR too), bad pairs
#                            None; 10 000 pairs or no ATOM_PAIR list refused
#   PRIMARY in work       -> read in work (the control), never copied out
#   hostile X owners      -> 4 000 TARGETS, a silent owner, endless INCR:
#                            bounded and logged; the agent and the next copy
#                            live
# Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3

bh_skip_without Xvfb xdotool xset openbox Xwayland xclip foot gdbus
if ! "$py" -c 'import gi; gi.require_version("Gtk", "4.0")' 2>/dev/null; then
  echo "1..0 # SKIP python3-gi with GTK 4 (gir1.2-gtk-4.0) is not installed"
  exit 0
fi
shots=${BH_SHOTS:-$PWD/shots}
mkdir -p "$shots"

bh_start_xvfb
openbox >"$bh_tmp/openbox.log" 2>&1 &
bh_bg_pids+=($!)
bh_xtest_keys
bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?

press() { # WINDOW KEY...: focus the guid window, then the keys as the user types them
  local w=$1
  shift
  xdotool windowactivate --sync "$w" 2>/dev/null
  xdotool windowfocus --sync "$w" 2>/dev/null
  sleep 0.3
  # Through XTEST to the focused window, never `key --window` (XSendEvent):
  # GTK 4 drops a synthetic key to a window it does not hold as focused
  # (checked on Xvfb: such a key to an unfocused GTK 4 window never
  # arrives), so a focus still settling would lose the key silently.
  xdotool key "$@" 2>/dev/null
}
state() {
  gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method org.bulkhead.Clipboard1.GetState 2>&1
}
holds() { state | grep -q "'source': <'$1'>.*'size': <uint64 $2>"; }
empty() { [ "$(state)" = "(@a{sv} {},)" ]; }
in_qube() { qvm-run -p "$1" "$2" 2>/dev/null; }
logged() { grep -q "$1" "$bh_log"; }
# own LOG ARGS...: an X owner in work (x11-hostile ARGS); returns once the
# agent has made its TARGETS the selection (its log line; qvm-run -p hands
# the owner's own output on only when it ends).
owners() { grep -c 'clipboard\] info: an X client owns CLIPBOARD' "$bh_log"; }
own() {
  local log=$1 before
  shift
  before=$(owners)
  qvm-run -p work "/tmp/x11-hostile $*" >"$bh_tmp/$log" 2>&1 &
  bh_bg_pids+=($!)
  # Not $n: bh_until's own local would hide it.
  bh_until 300 eval '[ "$(owners)" -gt "$before" ]'
}

for q in work personal; do
  in_qube "$q" 'mkdir -p /home/user/clip && cat > /home/user/clip-app.py' <"$here/clip-app.py"
done
in_qube work 'cat > /tmp/x11-hostile; chmod +x /tmp/x11-hostile' <"$BH_BUILD_ROOT/tests/integration/x11-hostile"

# work: an xterm (an X app to press keys in) and the GTK app that pastes.
qvm-run work "xterm -T x11-clip-term" >"$bh_tmp/xterm.log" 2>&1 &
bh_bg_pids+=($!)
term=$(bh_find_window '^\[work\] x11-clip-term')
qvm-run work "$py /home/user/clip-app.py paste /home/user/clip" >"$bh_tmp/paste.log" 2>&1 &
bh_bg_pids+=($!)
paste=$(bh_find_window '^\[work\] clip-paste')
bh_result "work shows an xterm and a GTK 4 app ($term, $paste)" $([ -n "$term" ] && [ -n "$paste" ]; echo $?)

# 1. X -> Wayland in work: 300 000 bytes of UTF-8 (emoji, tabs, newlines) by
#    INCR, 16 KiB at a time (19 chunks, each a round trip through Xwayland
#    and the owner: up to a minute on a machine loaded 9 times over), from
#    an X owner to the GTK app.
"$py" "$here/clip-app.py" gen 300000 >"$bh_tmp/big"
in_qube work 'cat > /tmp/big' <"$bh_tmp/big"
own own1.log own /tmp/big 16384
# One F6. It used to be pressed up to 3 times: with `xdotool key --window`
# (a synthetic key, which GTK 4 in guid drops when it does not count its
# window as focused) a press was lost in 1 of 42 runs (session 6) and 2 of
# ~14 (session 5). Since press() types through XTEST, no press was lost in
# 39 runs (session 6) and 24 (session 7, load 8.6-16.5): a lost press
# fails here, with the keys the app saw printed below.
t0=$(date +%s%N)
press "$paste" F6
bh_until 300 in_qube work 'test -e /home/user/clip/pasted' ||
  echo "# F6 lost: the GTK app's keys: '$(in_qube work 'cat /home/user/clip/keys-paste' | tr '\n' ' ')'"
echo "# F6 to the 300000 bytes in the GTK app's file, with the test's polls: $((($(date +%s%N) - t0) / 1000000)) ms (load $(cut -d' ' -f1 /proc/loadavg))"
in_qube work 'cat /home/user/clip/pasted' >"$bh_tmp/pasted1"
bh_result "an X owner's 300000 bytes (INCR, 16 KiB chunks) are pasted exactly in work's GTK app after one F6 (got $(wc -c <"$bh_tmp/pasted1"))" \
  $(cmp -s "$bh_tmp/big" "$bh_tmp/pasted1"; echo $?)

# 2. Wayland -> X in work: the GTK app copies 64 000 bytes, xclip reads them.
qvm-run work "$py /home/user/clip-app.py copy /home/user/clip" >"$bh_tmp/copy.log" 2>&1 &
bh_bg_pids+=($!)
copy=$(bh_find_window '^\[work\] clip-copy')
press "$copy" F5
bh_until 300 in_qube work 'test -e /home/user/clip/copied'
bh_until 300 grep -q lost "$bh_tmp/own1.log" # the XWM took CLIPBOARD from the X owner
"$py" "$here/clip-app.py" gen 64000 >"$bh_tmp/expected64"
# xclip's complaint, if any, is kept for the result line.
xread() { qvm-run -p work 'timeout 10 xclip -o -selection clipboard; echo "xclip status $?" >&2' >"$bh_tmp/$1" 2>"$bh_tmp/$1.err"; }
xread xclip1
bh_result "a GTK app's 64000 bytes are read by xclip in work (got $(wc -c <"$bh_tmp/xclip1"), $(tr '\n' ' ' <"$bh_tmp/xclip1.err"), the XWM took CLIPBOARD: $(cat "$bh_tmp/own1.log" | tr '\n' ' '))" \
  $(cmp -s "$bh_tmp/expected64" "$bh_tmp/xclip1"; echo $?)
targets=$(in_qube work 'timeout 10 xclip -o -selection clipboard -t TARGETS' | tr '\n' ' ')
bh_result "X clients are offered its text types and MULTIPLE ($targets)" \
  $(echo "$targets" | grep -q UTF8_STRING && echo "$targets" | grep -q STRING && echo "$targets" | grep -q MULTIPLE; echo $?)
# MULTIPLE (ICCCM 2.6.2): one request, six pairs; the text comes by INCR
# (64 000 bytes), TARGETS and TIMESTAMP at once, an unoffered type, a
# nested MULTIPLE and a second pair into the text's property are refused
# (None in the list written back).
in_qube work '/tmp/x11-hostile multiple /tmp/multi-text' >"$bh_tmp/multi.log" 2>&1
in_qube work 'cat /tmp/multi-text' >"$bh_tmp/multi-text"
mlog=$(tr '\n' ';' <"$bh_tmp/multi.log")
bh_result "an X client's MULTIPLE is answered pair by pair: the text by INCR byte-exact, TARGETS, TIMESTAMP; the bad pairs None ($mlog)" \
  $(cmp -s "$bh_tmp/expected64" "$bh_tmp/multi-text" &&
    grep -q '^multiple: answered _BH_PAIRS$' "$bh_tmp/multi.log" &&
    grep -q '^pair UTF8_STRING -> _BH_M0: 64000 bytes by INCR$' "$bh_tmp/multi.log" &&
    grep -q '^pair TARGETS -> _BH_M1: [0-9]* items of ATOM$' "$bh_tmp/multi.log" &&
    grep -q '^pair TIMESTAMP -> _BH_M2: 1 items of INTEGER$' "$bh_tmp/multi.log" &&
    grep -q '^pair application/x-bh-nobody -> None$' "$bh_tmp/multi.log" &&
    grep -q '^pair MULTIPLE -> None$' "$bh_tmp/multi.log" &&
    [ "$(grep -c '^pair UTF8_STRING -> None$' "$bh_tmp/multi.log")" -eq 1 ]; echo $?)
# Hostile: 10 000 pairs (over the 32 read) and a list that is no ATOM_PAIR
# are refused whole, logged; the well-formed one above is the control.
many=$(in_qube work '/tmp/x11-hostile multiple-flood 10000' 2>&1)
notype=$(in_qube work '/tmp/x11-hostile multiple-notype' 2>&1)
bh_result "a MULTIPLE of 10000 pairs ('$many') and one without ATOM_PAIR ('$notype') are refused and logged" \
  $([ "$many" = "multiple: refused" ] && [ "$notype" = "multiple: refused" ] &&
    logged '\[work\].*MULTIPLE request names over 32 pairs: refused' &&
    logged '\[work\].*MULTIPLE request has no ATOM_PAIR list: refused'; echo $?)
xread xclip1b
bh_result "after them xclip still reads the 64000 bytes (got $(wc -c <"$bh_tmp/xclip1b"))" \
  $(cmp -s "$bh_tmp/expected64" "$bh_tmp/xclip1b"; echo $?)
qvm-run work 'pkill -f "clip-app.py copy"' >/dev/null 2>&1

# 3. Global, out of X: an X app's text, Ctrl+Shift+C in work, Ctrl+Shift+V in
#    personal's foot, foot's own paste (bound to Ctrl+Y here).
word="from-x11-$$-$RANDOM"
printf %s "$word" | in_qube work 'cat > /tmp/word'
own own2.log own /tmp/word 0
# In the same qube, foot (a Wayland app) pastes the X owner's text with
# its own paste (Ctrl+Y here), through the agent's selection.
qvm-run work "foot -o key-bindings.clipboard-paste=Control+y -T foot-work sh -c 'cat > /tmp/foot-pasted'" \
  >"$bh_tmp/foot-work.log" 2>&1 &
bh_bg_pids+=($!)
fwork=$(bh_find_window '^\[work\] foot-work')
sleep 1
press "$fwork" ctrl+y Return
bh_until 300 in_qube work "grep -q '$word' /tmp/foot-pasted"
st=$? # before the result line: its $(...) would reset $?
bh_result "an X owner's text is pasted in foot in work ('$(in_qube work 'cat /tmp/foot-pasted')')" $st
import -window root "$shots/x11-clip-foot-work.png" 2>/dev/null
qvm-run personal "foot -o key-bindings.clipboard-paste=Control+y -T foot-paste sh -c 'cat > /tmp/foot-pasted'" \
  >"$bh_tmp/foot.log" 2>&1 &
bh_bg_pids+=($!)
foot=$(bh_find_window '^\[personal\] foot-paste')
sleep 1
press "$term" ctrl+shift+c
bh_until 300 holds work ${#word}
st=$? # before the result line: its $(...) would reset $?
bh_result "Ctrl+Shift+C in work's xterm: the global clipboard holds the X owner's ${#word} bytes ($(state))" $st
press "$foot" ctrl+shift+v
bh_until 300 empty
press "$foot" ctrl+y Return
bh_until 300 in_qube personal "grep -q '$word' /tmp/foot-pasted"
st=$? # before the result line: its $(...) would reset $?
bh_result "Ctrl+Shift+V into personal's foot: foot received it ('$(in_qube personal 'cat /tmp/foot-pasted')')" $st
import -window root "$shots/x11-clip-foot.png" 2>/dev/null

# 4. Global, into X: personal's GTK app copies, Ctrl+Shift+C there,
#    Ctrl+Shift+V in work's xterm: xclip in work reads it.
qvm-run personal "$py /home/user/clip-app.py copy /home/user/clip" >"$bh_tmp/copy2.log" 2>&1 &
bh_bg_pids+=($!)
pcopy=$(bh_find_window '^\[personal\] clip-copy')
press "$pcopy" F5
bh_until 300 in_qube personal 'test -e /home/user/clip/copied'
press "$pcopy" ctrl+shift+c
bh_until 300 holds personal 64000
press "$term" ctrl+shift+v
bh_until 300 empty
bh_until 300 grep -q lost "$bh_tmp/own2.log"
xread xclip2
bh_result "Ctrl+Shift+V in work's xterm: xclip in work reads personal's 64000 bytes (got $(wc -c <"$bh_tmp/xclip2"))" \
  $(cmp -s "$bh_tmp/expected64" "$bh_tmp/xclip2"; echo $?)

# 5. PRIMARY stays in the qube: read in work (the control), never what
#    Ctrl+Shift+C takes, never what a Wayland app pastes.
qvm-run work 'printf primary-secret | xclip -selection primary' >/dev/null 2>&1
# xclip takes PRIMARY in a child it forks: until it has, reading it gives nothing.
primary() { prim=$(in_qube work 'timeout 10 xclip -o -selection primary'); [ "$prim" = primary-secret ]; }
bh_until 300 primary
word2="clip-visible-$RANDOM"
printf %s "$word2" | in_qube work 'cat > /tmp/word2'
own own3.log own /tmp/word2 0
in_qube work 'rm -f /home/user/clip/pasted'
press "$paste" F6
bh_until 300 in_qube work 'test -e /home/user/clip/pasted'
got=$(in_qube work 'cat /home/user/clip/pasted')
press "$term" ctrl+shift+c
bh_until 300 holds work ${#word2}
bh_result "PRIMARY is read in work ('$prim') but a Wayland app gets CLIPBOARD ('$got') and so does Ctrl+Shift+C ($(state))" \
  $([ "$prim" = primary-secret ] && [ "$got" = "$word2" ] && holds work ${#word2}; echo $?)

# 6. Hostile X owners.
# 4 000 TARGETS, escapes and control bytes in their names: the first 256
# are read, the bad names dropped; its text still copies.
own own4.log own-targets 4000 /tmp/word
logged '\[work\].*lists over 256 targets'
bh_result "an X owner listing 4000 TARGETS: the agent reads 256 and says so" $?
press "$term" ctrl+shift+c
bh_until 300 holds work ${#word}
st=$? # before the result line: its $(...) would reset $?
bh_result "its text is still copied ($(state))" $st
# A silent owner: its TARGETS are given up after 3 s (the selection before
# it goes), and so is a read; nothing is copied.
qvm-run -p work "/tmp/x11-hostile own-silent" >"$bh_tmp/own5.log" 2>&1 &
bh_bg_pids+=($!)
bh_until 300 logged 'clipboard\] warning: an X owner of CLIPBOARD did not list its TARGETS within 3000 ms'
bh_result "an X owner that never answers TARGETS: given up after 3 s, logged" $?
gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Clipboard1.Clear >/dev/null 2>&1
press "$term" ctrl+shift+c
bh_until 300 logged 'guid\[work\]: clipboard: .*nothing copied\|its clipboard holds neither'
bh_result "Ctrl+Shift+C on it copies nothing ($(state))" $(empty; echo $?)
# Endless INCR: Ctrl+Shift+C takes at most the protocol's 256000 bytes.
own own6.log own-endless
press "$term" ctrl+shift+c
bh_until 300 logged 'clipboard\] warning: selection cut at 256000 bytes'
bh_result "an endless INCR owner: dom0's read is cut at 256000 bytes" $?
alive=$(in_qube work 'ps -eo comm' | grep -c 'bulkhead-gui-ag')
word3="after-hostile-$RANDOM"
printf %s "$word3" | in_qube work 'cat > /tmp/word3'
own own7.log own /tmp/word3 0
press "$term" ctrl+shift+c
bh_until 300 holds work ${#word3}
bh_result "after them the agent lives ($alive) and the next X copy reaches the global clipboard ($(state))" \
  $([ "$alive" -eq 1 ] && holds work ${#word3}; echo $?)
import -window root "$shots/x11-clip-after.png" 2>/dev/null

if [ "$bh_failed" -gt 0 ]; then
  echo "# the agents' clipboard and xwm lines:"
  grep -E 'bulkhead-gui-agent\[(clipboard|xwm|xwayland)\]' "$bh_log" | grep -v 'size hints ignored' | head -n 60 | bh_diag
  echo "# work's GTK app's keys:"; in_qube work 'cat /home/user/clip/keys-paste; cat /home/user/clip/pasted.error' | bh_diag
  echo "# its output:"; bh_diag <"$bh_tmp/paste.log"
fi
bh_done
