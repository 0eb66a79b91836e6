#!/bin/sh
# bh-openbox.sh — start openbox for a display that has no window manager, with
# Debian's own configuration. Why openbox: docs/shell.md. The menu keys
# (Super+Space, Alt+F1) are not openbox's: the shell grabs them itself
# (shell/bh-shell-hotkey.c), so a key press reaches the shell without a
# process started per press. Debian's rc.xml binds neither.
set -eu
base=/etc/xdg/openbox/rc.xml
if [ ! -r "$base" ]; then
  echo "bh-openbox: $base is missing (apt-get install openbox)" >&2
  exit 1
fi
exec openbox --config-file "$base"
