#!/usr/bin/env bash
# shell-theme.sh — the label classes (themes/labels.css) in GTK's light and
# dark variants (docs/shell.md, "Label icons and CSS"): the real shell on
# Xvfb under openbox, bulkheadd (no backend: the menu lists the store's
# qubes, none runs) on a private bus. The shell is started twice, with
# GTK_THEME=Adwaita and GTK_THEME=Adwaita:dark; each time the menu is opened
# by its key and filtered to personal. Checked by pixels:
#   the panel is its own dark grey in both; personal's heading in the menu
#   has the yellow app qube icon in both (the label does not follow the
#   theme); the menu's background under the heading is light with Adwaita
#   and dark with Adwaita:dark (the light run is the control that the spot
#   measured is the menu and that the theme was applied), and its text is
#   light on the dark menu (readable).
# Screenshots in $BH_BUILD_ROOT/tests/display/shots/theme-*.png. Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_skip_without Xvfb xdotool xprop import convert openbox python3
SHELL_BIN="$BH_BUILD_ROOT/shell/bulkhead-shell"
shots="$BH_BUILD_ROOT/tests/display/shots"
mkdir -p "$shots"
icon_py="$(dirname "$0")/shell-icon.py"

bh_start_xvfb +extension XTEST
bh_start_openbox
bh_start_daemon
bh_result "bulkheadd runs" $?

# Mean brightness (0-100) of region $2 of shot $1.
brightness() {
  convert "$shots/theme-$1.png" -crop "$2" +repage -colorspace Gray -format '%[fx:int(100*mean)]' info: 2>/dev/null
}
# Grey level (0-255) of the brightest 2 % of region $2: the text on a dark
# background, the background itself on a light one.
bright_tail() {
  convert "$shots/theme-$1.png" -crop "$2" +repage -colorspace Gray -depth 8 txt:- 2>/dev/null |
    sed -n 's/.*gray(\([0-9.]*\)%\{0,1\}).*/\1/p' | sort -n | awk '{v[NR] = $1} END {print int(v[int(NR * 0.98)])}'
}

panel_grey=""
menu_bg=""
run_theme() { # NAME GTK_THEME
  local name=$1 pid panel
  GTK_THEME=$2 G_MESSAGES_DEBUG=bh-shell "$SHELL_BIN" >"$bh_shell_log" 2>&1 &
  pid=$!
  bh_bg_pids+=($pid)
  panel=$(bh_find_window '^Bulkhead panel$' 150)
  bh_result "$name: bulkhead-shell shows its panel" $([ -n "$panel" ]; echo $?)
  bh_menu_search "$panel" personal
  bh_result "$name: the menu opens by its key and filters to personal" $?
  heading_shown() { import -window root "$shots/theme-$name.png" 2>/dev/null &&
    /usr/bin/python3 "$icon_py" "$shots/theme-$name.png" 400x300+0+34 "$BH_BUILD_ROOT/icons" app yellow >/dev/null; }
  bh_until 50 heading_shown
  bh_result "$name: personal's heading in the menu has the yellow app qube icon ($(/usr/bin/python3 "$icon_py" \
    "$shots/theme-$name.png" 400x300+0+34 "$BH_BUILD_ROOT/icons" app yellow))" $?
  panel_grey=$(bh_px_count "$shots/theme-$name.png" '#2E3436' 1280x32+0+0)
  menu_bg=$(brightness "$name" 300x60+0+34)
  menu_text=$(bright_tail "$name" 300x60+0+34)
  bars=$(bh_px_count "$shots/theme-$name.png" '#EDD400' 300x120+0+34)
  bh_result "$name: personal's entries have their yellow bars ($bars px of #edd400)" $([ "$bars" -ge 30 ]; echo $?)
  bh_menu_close
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

run_theme light Adwaita
light_panel=$panel_grey light_bg=$menu_bg
bh_result "light: the panel is its dark grey ($light_panel px of #2e3436 in it)" \
  $([ "$light_panel" -ge 20000 ]; echo $?)
bh_result "control: with Adwaita the menu under personal's heading is light (mean brightness $light_bg of 100)" \
  $([ "$light_bg" -ge 70 ]; echo $?)

run_theme dark Adwaita:dark
bh_result "dark: the panel is the same dark grey ($panel_grey px of #2e3436 in it)" \
  $([ "$panel_grey" -ge 20000 ]; echo $?)
bh_result "with Adwaita:dark the menu there is dark (mean brightness $menu_bg of 100) and its text light (brightest 2 %: grey $menu_text of 255)" \
  $([ "$menu_bg" -le 35 ] && [ "$menu_text" -ge 180 ]; echo $?)
bh_done
