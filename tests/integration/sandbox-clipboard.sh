#!/usr/bin/env bash
# sandbox-clipboard.sh — the global clipboard end to end, as a user uses it:
# bulkheadd with real sandboxes (work, personal), their guids on a private
# Xvfb, a real GTK 4 app in each (clip-app.py), keys pressed with xdotool in
# the guid windows, a notification server of the test's own on the bus.
#   F5 in work's app, Ctrl+Shift+C  -> the global clipboard holds 64000 bytes from work
#   Ctrl+Shift+V in personal's window, F6 (the app's own paste)
#                                   -> the exact bytes arrive; the global clipboard is empty
#   a deny rule in policy.d         -> the paste is refused and the user told
#   64001 bytes                     -> refused over the limit, the user told
#   a GdkTexture (F8), Ctrl+Shift+C -> the global clipboard holds "image 257x131" from work
#   Ctrl+Shift+V in personal, F10 (the app reads a texture)
#                                   -> the same pixels, alpha included, arrive as an image
#   a type that is neither (F4)     -> nothing copied, the user told why
# and Ctrl+Shift+C/V never reach either app, the contents never reach dom0's
# disk or log, and no dom0 client but the qube's guid can paste. Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3 # the qubes' python: the host's /usr, with python3-gi

bh_skip_without Xvfb xdotool gdbus
if ! "$py" -c 'import gi; gi.require_version("Gtk", "4.0")' 2>/dev/null; then
  echo "1..0 # SKIP python3-gi with GTK 4 (gir1.2-gtk-4.0) is not installed"
  exit 0
fi

bh_start_xvfb
mkdir -p "$XDG_CONFIG_HOME/bulkhead/policy.d"

notes="$bh_tmp/notifications"
: >"$notes"
"$py" "$here/notify-server.py" "$notes" >"$bh_tmp/notify.out" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 100); do grep -q READY "$bh_tmp/notify.out" && break; sleep 0.1; done

bh_start_daemon --backend sandbox
bh_result "bulkheadd runs with the sandbox backend" $?
# The shell's view: every Changed signal, as a client on the bus sees it.
gdbus monitor --session --dest org.bulkhead.Admin1 >"$bh_tmp/monitor" 2>&1 &
bh_bg_pids+=($!)

# press WINDOW KEY: focus the guid window, then the key as the user types it.
press() {
  xdotool windowfocus --sync "$1" 2>/dev/null
  sleep 0.3
  xdotool key --window "$1" "$2" 2>/dev/null
}

state() {
  gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method org.bulkhead.Clipboard1.GetState 2>&1
}

holds() { state | grep -q "'source': <'$1'>.*'size': <uint64 $2>"; }
empty() { [ "$(state)" = "(@a{sv} {},)" ]; }
noted() { grep -qF -- "$1" "$notes"; }
in_qube() { qvm-run -p "$1" "$2" 2>/dev/null; }

for q in work personal; do
  qvm-run -p "$q" 'mkdir -p /home/user/clip && cat > /home/user/clip-app.py' <"$here/clip-app.py"
done
qvm-run work "$py /home/user/clip-app.py copy /home/user/clip" >"$bh_tmp/run-work.log" 2>&1
qvm-run personal "$py /home/user/clip-app.py paste /home/user/clip" >"$bh_tmp/run-personal.log" 2>&1
src=$(bh_find_window '^\[work\] clip-copy')
dst=$(bh_find_window '^\[personal\] clip-paste')
bh_result "a GTK 4 app in work and one in personal show their windows ($src, $dst)" \
  $([ -n "$src" ] && [ -n "$dst" ]; echo $?)
sleep 1

# Nothing on work's clipboard yet: Ctrl+Shift+C says how to copy first (a terminal's own
# Ctrl+Shift+C never reaches it: guid takes that key).
press "$src" ctrl+shift+c
bh_until 150 noted "Nothing was copied: the clipboard of work is empty. Copy in the app first"
bh_result "Ctrl+Shift+C on an empty clipboard says how to copy first" \
  $(noted "(in a terminal: select the text, then its Copy menu or Copy key)" && empty; echo $?)

# Copy: the app takes the clipboard (F5), the user presses Ctrl+Shift+C.
press "$src" F5
bh_until 150 in_qube work 'test -e /home/user/clip/copied'
t0=$(date +%s%N)
press "$src" ctrl+shift+c
bh_until 150 holds work 64000
st=$? # before the result line: its $(...) would reset $?
bh_result "Ctrl+Shift+C in work's window: the global clipboard holds 64000 bytes from work ($(state))" $st
bh_until 150 noted "Global clipboard|Copied 64000 bytes of text from work"
bh_result "the user is told through org.freedesktop.Notifications" $?
# guid reached bulkheadd at the address it was started with, while its own
# environment (what GTK's threads read) still hides the bus as at gtk_init:
# guid never sets a variable once GTK runs (bh-guid-main.c).
bh_result "work's guid connected with the address it was given; its environment still says disabled: (guid's log)" \
  $(grep -q "guid\[work\]: clipboard: connected to bulkheadd's bus (guid's environment: DBUS_SESSION_BUS_ADDRESS=disabled:)" "$bh_log"; echo $?)

# Only personal's guid may paste into personal: a dom0 client is refused
# and the contents stay where they are.
bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Clipboard1.Paste personal
bh_result "a dom0 client calling Paste is refused (Permission) and gets no contents" \
  $(printf '%s' "$bh_err" | grep -q 'org.bulkhead.Error.Permission' && [ -z "$bh_out" ] &&
    holds work 64000; echo $?)
bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Clipboard1.Copy work 'text/plain;charset=utf-8' '[0x41]'
bh_result "a dom0 client calling Copy for work is refused (Permission)" \
  $(printf '%s' "$bh_err" | grep -q 'org.bulkhead.Error.Permission' && holds work 64000; echo $?)

# Paste: Ctrl+Shift+V in personal's window, then the app's own paste (F6).
press "$dst" ctrl+shift+v
bh_until 150 empty
bh_result "Ctrl+Shift+V in personal's window: one copy, one paste, the global clipboard is empty" $?
press "$dst" F6
bh_until 150 in_qube personal 'test -e /home/user/clip/pasted'
t1=$(date +%s%N)
in_qube personal 'cat /home/user/clip/pasted' >"$bh_tmp/pasted"
"$py" "$here/clip-app.py" gen 64000 >"$bh_tmp/expected"
[ "$(wc -c <"$bh_tmp/expected")" -eq 64000 ] && cmp -s "$bh_tmp/expected" "$bh_tmp/pasted"
st=$? # before the result line: its $(...) would reset $?
bh_result "personal's app reads exactly the 64000 bytes (UTF-8, emoji, tabs, newlines) (got $(wc -c <"$bh_tmp/pasted"))" $st
echo "# Ctrl+Shift+C to the text in personal's app, with the test's key presses and polls: $(((t1 - t0) / 1000000)) ms"
if command -v import >/dev/null; then
  mkdir -p "$BH_BUILD_ROOT/tests/integration/shots"
  import -window root "$BH_BUILD_ROOT/tests/integration/shots/clipboard-pasted.png" 2>/dev/null &&
    echo "# screenshot: $BH_BUILD_ROOT/tests/integration/shots/clipboard-pasted.png"
fi
bh_until 150 noted "Pasted 64000 bytes from work into personal. The global clipboard is now empty."
bh_result "the paste is notified" $?

in_qube work 'cat /home/user/clip/keys-copy' >"$bh_tmp/keys-copy"
in_qube personal 'cat /home/user/clip/keys-paste' >"$bh_tmp/keys-paste"
bh_result "the apps saw their own keys (F5, F6: the control) and never C or V" \
  $(grep -q '^F5 ' "$bh_tmp/keys-copy" && grep -q '^F6 ' "$bh_tmp/keys-paste" &&
    ! cat "$bh_tmp/keys-copy" "$bh_tmp/keys-paste" | grep -qi '^[cv] '; echo $?)

# Images: GTK offers the texture as image/png (and other image types); work's
# agent decodes the PNG inside work and sends pixels; personal's agent encodes
# a PNG inside personal, which its app reads back as a texture.
press "$src" F8
bh_until 150 in_qube work 'grep -q "^257x131 " /home/user/clip/copied'
n=$(in_qube work 'cat /home/user/clip/copied' | sed 's/.* //')
press "$src" ctrl+shift+c
bh_until 150 holds work $((257 * 131 * 4))
bh_result "Ctrl+Shift+C on an image in work: the global clipboard holds it as an image ($(state))" \
  $(state | grep -q "'type': <'image 257x131'>"; echo $?)
bh_until 150 noted "Copied an image of 257×131 pixels from work."
bh_result "the image copy is notified with its size" $?
press "$dst" ctrl+shift+v
bh_until 150 empty
press "$dst" F10
bh_until 150 in_qube personal 'test -e /home/user/clip/pasted-image'
in_qube personal 'cat /home/user/clip/pasted-image' >"$bh_tmp/pasted-image"
{ printf '257 131\n'; "$py" "$here/clip-app.py" genimg 257 131 "$n"; } >"$bh_tmp/expected-image"
bh_result "personal's app reads an image with exactly work's pixels, alpha included ($(head -n 1 "$bh_tmp/pasted-image"), $(wc -c <"$bh_tmp/pasted-image") bytes)" \
  $(cmp -s "$bh_tmp/expected-image" "$bh_tmp/pasted-image"; echo $?)
if command -v import >/dev/null; then
  xdotool windowmove "$dst" 420 300 windowraise "$dst" 2>/dev/null # beside work's, not under it
  sleep 0.5
  import -window root "$BH_BUILD_ROOT/tests/integration/shots/clipboard-image.png" 2>/dev/null &&
    echo "# screenshot: $BH_BUILD_ROOT/tests/integration/shots/clipboard-image.png"
fi
bh_until 150 noted "Pasted an image of 257×131 pixels from work into personal. The global clipboard is now empty."
bh_result "the image paste is notified" $?
bh_result "no PNG was decoded in dom0: work's agent sent pixels, personal's encoded the PNG (guid's log)" \
  $(grep -q "guid\[work\]: clipboard: took a 257x131 image from the agent" "$bh_log" &&
    grep -q "guid\[personal\]: clipboard: pasted a 257x131 image from work" "$bh_log"; echo $?)

# Neither text nor an image: nothing copied, and the user is told why.
press "$src" F4
bh_until 150 in_qube work 'grep -q "^other" /home/user/clip/copied'
press "$src" ctrl+shift+c
bh_until 150 noted "Nothing was copied from work: its clipboard holds neither text nor an image"
bh_result "a type that is neither text nor an image is refused with a notification" \
  $(noted "Nothing was copied from work: its clipboard holds neither text nor an image" && empty; echo $?)

# Deny: a rule in the user's policy.d (reloaded on change) blocks it.
# Each edit waits for bulkheadd's reload of it (one, after the last event).
from=$(($(wc -l <"$bh_log") + 1))
printf 'bulkhead.ClipboardPaste * work personal deny\n' \
  >"$XDG_CONFIG_HOME/bulkhead/policy.d/10-test.policy"
bh_wait_grep "$bh_log" "policy loaded: [0-9]* rules" 150 "$from"
press "$src" F5
press "$src" ctrl+shift+c
bh_until 150 holds work 64000
press "$dst" ctrl+shift+v
bh_until 150 noted "Pasting from work to personal is denied by policy."
bh_result "with a deny rule, Ctrl+Shift+V is refused and the user told" $?
bh_result "nothing was handed out: the global clipboard still holds work's text" \
  $(holds work 64000 && grep -q "nothing pasted: Pasting from work to personal is denied" "$bh_log"; echo $?)

# A policy file that does not parse denies every paste, whatever else allows it.
from=$(($(wc -l <"$bh_log") + 1))
printf 'bulkhead.ClipboardPaste * work\n' >"$XDG_CONFIG_HOME/bulkhead/policy.d/10-test.policy"
bh_wait_grep "$bh_log" "every call is denied until it is fixed" 150 "$from"
: >"$notes"
press "$dst" ctrl+shift+v
bh_until 150 noted "Pasting from work to personal is denied by policy."
bh_result "with a policy file that does not parse, the paste is denied too" \
  $(noted "Pasting from work to personal is denied by policy." && holds work 64000; echo $?)

bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Clipboard1.Clear
bh_result "Clear empties it" $(empty; echo $?)
from=$(($(wc -l <"$bh_log") + 1))
rm -f "$XDG_CONFIG_HOME/bulkhead/policy.d/10-test.policy"
bh_wait_grep "$bh_log" "policy loaded: [0-9]* rules" 150 "$from"

# Over the limit (the default 64000): refused, the user told to copy a file.
press "$src" F7
bh_until 150 in_qube work 'grep -qx 64001 /home/user/clip/copied'
press "$src" ctrl+shift+c
bh_until 150 noted "its 64001 bytes are over the limit of 64000 bytes"
bh_result "64001 bytes are refused over the limit, with a notification suggesting qvm-copy" \
  $(empty && grep -q "qvm-copy" "$notes"; echo $?)
bh_result "guid kept them: only their size went to bulkheadd (guid's log)" \
  $(grep -q "guid\[work\]: clipboard: clipboard data (64001 bytes) refused: over the limit of 64000 bytes" "$bh_log"; echo $?)

# The limit is the user's: raised to the protocol's 256000, the same copy is taken.
qubes-prefs clipboard_max_bytes 256000 >/dev/null 2>&1
max=$(gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.freedesktop.DBus.Properties.Get org.bulkhead.Clipboard1 MaxBytes 2>&1)
press "$src" ctrl+shift+c
bh_until 150 holds work 64001
bh_result "with clipboard_max_bytes 256000 (MaxBytes: $max) the 64001 bytes are copied" $?
bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
  --method org.bulkhead.Clipboard1.Clear

changed=$(grep -c 'org.bulkhead.Clipboard1.Changed' "$bh_tmp/monitor")
bh_result "Changed was signalled on every change, with the state and never the text ($changed signals)" \
  $(grep -q "Clipboard1.Changed ({'source': <'work'>, 'type': <'text'>, 'size': <uint64 64000>" \
      "$bh_tmp/monitor" && grep -q 'Clipboard1.Changed (@a{sv} {},)' "$bh_tmp/monitor" &&
    [ "$changed" -ge 6 ] && ! grep -qF "00017 line" "$bh_tmp/monitor"; echo $?)

# The contents never reached dom0's disk or logs.
# (The qubes' own homes, private/ or private.img, hold it by design.)
leak=$(grep -rlF "00017 line" "$bh_state" "$bh_log" "$notes" --exclude-dir=private --exclude=private.img 2>/dev/null)
bh_result "the text is in no file of bulkheadd's state, its log or a notification ($leak)" \
  $([ -z "$leak" ]; echo $?)

if [ "$bh_failed" -gt 0 ]; then
  echo "# notifications:"; bh_diag <"$notes"
  echo "# daemon log (clipboard):"; grep -i clip "$bh_log" | tail -n 30 | bh_diag
fi
bh_done
