#!/usr/bin/env bash
# shell-first-apps.sh — a fresh store's menu has apps (issue 17): with
# --read-app-lists (./run passes it) bulkheadd starts each halted template and
# standalone that has no app list, once and after every other start, reads
# its list through the qube's bulkhead-applist and the one decoder as after any
# start, and shuts it down again. personal, which never ran, then offers its
# template's apps in ListApps and in the shell's menu, without the test
# starting personal or debian-12. Real sandboxes, bulkheadd on a private bus,
# the real shell on a private Xvfb with openbox, driven by xdotool.
# Screenshots: $BH_BUILD_ROOT/tests/display/shots/first-apps-*.png.
# Prints TAP. Reuses daemon-lib.sh for the private bus, XDG dirs and clean-up.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_skip_without Xvfb xdotool import convert openbox python3
SHELL_BIN="$BH_BUILD_ROOT/shell/bulkhead-shell"
shots="$BH_BUILD_ROOT/tests/display/shots"
mkdir -p "$shots"

bh_start_xvfb
bh_start_openbox

shot() { import -window root "$shots/first-apps-$1.png" 2>/dev/null; }
count() { # SHOT COLOUR REGION: pixels of that colour
  convert "$shots/first-apps-$1.png" -crop "$3" +repage -depth 8 txt:- 2>/dev/null | grep -ci -- "$2"
}
yellow='#edd400'

# Control: without the option a fresh store's personal has no list, and no
# template is started for one.
bh_start_daemon --backend sandbox
list=$(bh_admin ListApps personal)
bh_result "control: without --read-app-lists, personal (never ran) has no apps (${list:0:30})" \
  $(printf '%s' "$list" | grep -q "^(@a(sssssbuuay) \[\], ''"; echo $?)
bh_stop_daemon
bh_result "control: and that daemon did not start debian-12" $(! grep -q -- '\[debian-12\] .* -> ' "$bh_log"; echo $?)

G_MESSAGES_DEBUG=bh-shell "$SHELL_BIN" >"$bh_shell_log" 2>&1 &
bh_bg_pids+=($!)
panel=$(bh_find_window '^Bulkhead panel$' 150)
bh_result "bulkhead-shell shows its panel" $([ -n "$panel" ]; echo $?)

from=$(bh_log_from "$bh_log")
bh_start_daemon --backend sandbox --read-app-lists
bh_result "bulkheadd --read-app-lists runs" $?
bh_wait_grep "$bh_log" '\[debian-12\] done with its first app list' 1200 "$from"
bh_result "debian-12 (a template with no list) is started, read and shut down: $(sed -n "$from,\$p" "$bh_log" | grep -o '\[debian-12\] app list: [0-9]* apps, [0-9]* bytes' | head -n1)" \
  $(sed -n "$from,\$p" "$bh_log" | grep -q '\[debian-12\] app list: [1-9][0-9]* apps' && [ "$(bh_state_of debian-12)" = Halted ]; echo $?)
sed -n "$from,\$p" "$bh_log" | grep -E '\[debian-12\]|app list' | tail -n 20 | bh_diag
bh_result "personal was never started (no transition of personal in the log), and is Halted" \
  $(! sed -n "$from,\$p" "$bh_log" | grep -q '\[personal\] .* -> ' && [ "$(bh_state_of personal)" = Halted ]; echo $?)
list=$(bh_admin ListApps personal)
bh_result "ListApps personal has foot.desktop from debian-12's list" \
  $(printf '%s' "$list" | grep -q "('foot.desktop', 'Foot', " && printf '%s' "$list" | grep -q "'debian-12', ''"; echo $?)
list=$(bh_admin ListApps default-dvm)
bh_result "ListApps default-dvm (a disposable template on debian-12) has it too" \
  $(printf '%s' "$list" | grep -q "('foot.desktop', 'Foot', "; echo $?)

# The menu: the shell reads the list on AppsChanged; "personal foot" leaves
# personal's Foot under its yellow heading.
bh_wait_grep "$bh_shell_log" 'app list of personal: [1-9]' 300
bh_menu_search "$panel" 'personal foot'
shows() { shot "$1"; [ "$(count "$1" "$2" "$3")" -ge "$4" ]; } # SHOT COLOUR REGION MIN
bh_until 30 shows menu-foot "$yellow" 500x300+0+34 30
n=$(count menu-foot "$yellow" 500x300+0+34)
bh_result "the menu's search 'personal foot' shows personal's Foot under its yellow bar ($n px)" \
  $([ "$n" -ge 30 ]; echo $?)
bh_menu_close

# A second start of the daemon does not start debian-12 again: its list is kept.
from=$(bh_log_from "$bh_log")
bh_stop_daemon
bh_start_daemon --backend sandbox --read-app-lists
bh_result "a restarted daemon keeps the list and starts nothing for it" \
  $(bh_admin ListApps personal | grep -q "('foot.desktop', 'Foot', " &&
    ! sed -n "$from,\$p" "$bh_log" | grep -q 'starting it to read its app list'; echo $?)
bh_done
