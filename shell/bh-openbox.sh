#!/bin/sh
# bh-openbox.sh SHELL — start openbox for a display that has no window manager,
# with Debian's own configuration plus two key bindings for the app menu
# (Super+Space and Alt+F1 run "SHELL --menu", which opens the running shell's
# menu). Why openbox: docs/shell.md. The configuration is written to a private
# directory under XDG_RUNTIME_DIR; the user's own openbox files are untouched.
set -eu
shell=$1
base=/etc/xdg/openbox/rc.xml
if [ ! -r "$base" ]; then
  echo "bh-openbox: $base is missing (apt-get install openbox)" >&2
  exit 1
fi
dir=$(mktemp -d "${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/bh-openbox.XXXXXX")
# The shell's path goes into XML: refuse anything that would need escaping.
case $shell in
  *[\<\>\&\"\']*) echo "bh-openbox: unusable shell path: $shell" >&2; exit 1 ;;
esac
binding() {
  printf '<keybind key="%s"><action name="Execute"><command>%s --menu</command></action></keybind>' \
    "$1" "$shell"
}
bindings="$(binding W-space)$(binding A-F1)"
# Inserted right after <keyboard>; sed's own specials (| & \\) escaped.
escaped=$(printf '%s' "$bindings" | sed 's/[|&\\]/\\&/g')
sed "s|<keyboard>|<keyboard>$escaped|" "$base" >"$dir/rc.xml"
exec openbox --config-file "$dir/rc.xml"
