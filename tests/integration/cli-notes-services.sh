#!/usr/bin/env bash
# cli-notes-services.sh — qvm-notes and qvm-service against a real bulkheadd
# (no backend: they change the model only). Notes of several lines set,
# printed, read from stdin, edited in $EDITOR (a refused edit keeps its file),
# refused whole with the model's sentence; services set on, off and unset,
# listed, copied by a clone, refused for dom0 and for a name a qube could
# not hold as a file name; the daemon's log says notes changed, not what they
# say. Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

if ! bh_start_daemon; then
  echo "1..0 # SKIP bulkheadd did not start"
  exit 1
fi

# ---- qvm-notes ------------------------------------------------------------------
bh_run qvm-notes work
bh_same "notes: empty at first" "" "$bh_out"
notes=$'Bank papers.\n\tSecret marker: tax-2026-✓\nlast line'
bh_expect "notes: --set several lines" qvm-notes work --set "$notes"
bh_run qvm-notes work
bh_same "notes: printed as set" "$notes" "$bh_out"
bh_run qvm-prefs work notes
bh_same "notes: qvm-prefs QUBE notes prints them as they are" "$notes" "$bh_out"
bh_run qvm-prefs work
bh_same "notes: the qvm-prefs listing shows them escaped on one line" \
  'notes                 -  Bank papers.\n\tSecret marker: tax-2026-✓\nlast line' \
  "$(printf '%s\n' "$bh_out" | grep '^notes ')"
if grep -q "tax-2026" "$bh_log"; then bh_not_ok "notes: the daemon's log does not carry their text"
else bh_ok "notes: the daemon's log does not carry their text"; fi
grep -q "\[work\] notes: [0-9]* bytes" "$bh_log"
bh_result "notes: the daemon's log says they changed" $?

printf 'from stdin\nline 2\n' >"$bh_tmp/in.txt"
qvm-notes work --set - <"$bh_tmp/in.txt" >/dev/null 2>&1
bh_run qvm-notes work
bh_same "notes: --set - reads stdin" $'from stdin\nline 2' "$bh_out"

head -c 20000 /dev/zero | tr '\0' 'n' >"$bh_tmp/big.txt"
bh_run sh -c 'qvm-notes work --set - <"$1"' sh "$bh_tmp/big.txt"
bh_same "notes: over the limit: status 1" 1 "$bh_rc"
printf '%s\n' "$bh_err" | grep -q "^qvm-notes: error: notes must be UTF-8 text .* at most 16384 bytes (it has 20000); nothing was changed"
bh_result "notes: over the limit: the model's sentence with the size" $?
bh_expect_fail "notes: an escape sequence is refused" 1 "other than newlines and tabs" \
  qvm-notes work --set $'a\e]0;owned\ab'
bh_run qvm-notes work
bh_same "notes: nothing changed by the refusals" $'from stdin\nline 2' "$bh_out"
bh_expect_fail "notes: dom0 has none" 1 "^qvm-notes: error: " qvm-notes dom0 --set x

# --edit: an editor that appends a line; then one that writes too much.
cat >"$bh_tmp/editor" <<'SH'
#!/bin/sh
printf 'edited in the editor\n' >>"$1"
SH
cat >"$bh_tmp/editor-big" <<'SH'
#!/bin/sh
head -c 17000 /dev/zero | tr '\0' 'e' >"$1"
SH
chmod +x "$bh_tmp/editor" "$bh_tmp/editor-big"
EDITOR="$bh_tmp/editor" VISUAL= qvm-notes work --edit >/dev/null 2>&1
bh_run qvm-notes work
bh_same "notes: --edit saves what the editor wrote" $'from stdin\nline 2\nedited in the editor' "$bh_out"
bh_run env VISUAL="$bh_tmp/editor-big" qvm-notes work --edit
kept=$(printf '%s\n' "$bh_err" | sed -n 's/^What you wrote is kept in //p')
bh_result "notes: a refused edit names the file it is kept in ($kept)" \
  $([ "$bh_rc" -eq 1 ] && [ -n "$kept" ] && [ "$(wc -c <"$kept")" -eq 17000 ]; echo $?)
rm -f "$kept"
bh_run qvm-notes work
bh_same "notes: the refused edit changed nothing" $'from stdin\nline 2\nedited in the editor' "$bh_out"

# ---- qvm-service ------------------------------------------------------------------
bh_run qvm-service work
bh_same "services: none at first" "" "$bh_out"
bh_expect "services: crond on" qvm-service work crond on
bh_expect "services: --disable cups" qvm-service --disable work cups
bh_expect "services: -e network-manager" qvm-service -e work network-manager
bh_expect "services: --unset network-manager" qvm-service --unset work network-manager
bh_run qvm-service work
bh_same "services: listed with their state" $'crond  on\ncups   off' "$bh_out"
bh_run qvm-service work cups
bh_same "services: one service's state" "off" "$bh_out"
bh_run qvm-service work network-manager
bh_same "services: an unset one" "unset" "$bh_out"
bh_expect_fail "services: a name that is not a file name" 1 \
  "^qvm-service: error: service '../x' has a character that is not allowed at byte 0" qvm-service work ../x on
bh_expect_fail "services: dom0 has none" 1 "^qvm-service: error: dom0 has no services" qvm-service dom0 crond on
bh_expect_fail "services: an unknown qube" 1 "^qvm-service: error: " qvm-service nobody crond on
bh_expect "services: a clone" qvm-clone work work-copy
bh_run qvm-service work-copy
bh_same "services: copied by the clone" $'crond  on\ncups   off' "$bh_out"
# The same refusals as named D-Bus errors, seen by any client (the CLI
# checks VALUE itself, so a bad state only reaches the daemon this way).
dbus_error() { # DESC ERROR-NAME METHOD ARGS…
  local desc=$1 name=$2 method=$3; shift 3
  bh_run gdbus call --session --dest org.bulkhead.Admin1 --object-path /org/bulkhead/Admin1 \
    --method "org.bulkhead.Admin1.$method" "$@"
  if [ "$bh_rc" -ne 0 ] && printf '%s\n' "$bh_err" | grep -q "GDBus.Error:org.bulkhead.Error.$name: "; then
    bh_ok "$desc → org.bulkhead.Error.$name"
  else
    bh_not_ok "$desc → org.bulkhead.Error.$name"; { echo "$bh_rc"; echo "$bh_err"; } | bh_diag
  fi
}
dbus_error "services: a state that is not on, off or unset" InvalidValue SetService work crond maybe
dbus_error "services: a name with a slash" InvalidName SetService work a/b on
dbus_error "services: dom0" Permission SetService dom0 crond on
dbus_error "services: an unknown qube" NoSuchQube ListServices nosuch
bh_run qvm-service work
bh_same "services: nothing changed by the refusals" $'crond  on\ncups   off' "$bh_out"
grep -q "\[work\] service cups: off" "$bh_log"
bh_result "services: the daemon logs each change" $?

bh_done
