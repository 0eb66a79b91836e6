#!/usr/bin/env bash
# daemon-invalid.sh — every invalid request fails with status 1, prints the
# model's message as "<command>: error: …", travels as a named D-Bus error,
# and leaves the state exactly as it was (qvm-ls, a qube's and the global
# properties compared after each attempt).
. "$(dirname "$0")/daemon-lib.sh"

bh_start_daemon || { bh_not_ok "bulkheadd starts"; bh_done; }
tpl=$(qubes-prefs default_template)

snapshot() {
  qvm-ls
  qvm-ls --raw-data
  qvm-prefs work
  qvm-prefs sys-net
  qubes-prefs
}
before=$(snapshot)

# rej DESC MESSAGE-REGEX CMD…: status 1, "<command>: error: <the model's
# message>", and nothing changed.
rej() {
  local desc=$1 pattern=$2; shift 2
  bh_expect_fail "$desc: refused with the model's message" 1 "^$1: error: $pattern" "$@"
  local after; after=$(snapshot)
  if [ "$after" = "$before" ]; then bh_ok "$desc: state unchanged"; else
    bh_not_ok "$desc: state unchanged"; diff <(echo "$before") <(echo "$after") | bh_diag
    before=$after
  fi
}

rej "unknown qube (prefs)" "there is no qube named 'nosuch'" qvm-prefs nosuch memory 100
rej "unknown qube (read)" "there is no qube named 'nosuch'" qvm-prefs nosuch
rej "unknown qube (remove)" "there is no qube named 'nosuch'" qvm-remove -f nosuch
rej "unknown qube (clone)" "there is no qube named 'nosuch'" qvm-clone nosuch x
rej "unknown qube (qvm-ls)" "no such qube: 'nosuch'" qvm-ls nosuch
rej "bad label" "'pink' is not a label" qvm-create -l pink newq
rej "bad label (prefs)" "'pink' is not a label" qvm-prefs work label pink
rej "template that is not a TemplateVM (create)" "the template of newq must be a TemplateVM; work is an? AppVM" \
  qvm-create -l red -t work newq
rej "template that is not a TemplateVM (prefs)" "the template of work must be a TemplateVM; sys-net is an? AppVM" \
  qvm-prefs work template sys-net
rej "global default_template not a TemplateVM" "the global default_template must be a TemplateVM" \
  qubes-prefs default_template work
rej "netvm loop" "netvm loop: sys-net (→|->) sys-firewall (→|->) sys-net" qvm-prefs sys-net netvm sys-firewall
rej "netvm that provides no network" "vault does not provide network" qvm-prefs work netvm vault
rej "removing a qube in use (netvm)" "cannot remove 'sys-net': it is the netvm of sys-firewall" qvm-remove -f sys-net
rej "removing a qube in use (template)" "cannot remove '$tpl': it is the template of" qvm-remove -f "$tpl"
rej "removing a qube in use (default_dispvm)" "cannot remove 'default-dvm': " qvm-remove -f default-dvm
rej "removing dom0" "dom0 cannot be removed" qvm-remove -f dom0
rej "name in use (create)" "there is already a qube named 'work'" qvm-create -l red work
rej "name in use (clone)" "there is already a qube named 'sys-net'" qvm-clone work sys-net
rej "name in use (rename)" "there is already a qube named 'vault'" qvm-prefs work name vault
rej "invalid name" "qube name '1bad' must start with a letter" qvm-create -l red 1bad
rej "reserved name" "'dom0' is reserved and cannot name a qube" qvm-create -l red dom0
rej "bad number" "memory must be a whole number from 32 to 1048576; 'abc' is not" qvm-prefs work memory abc
rej "number out of range" "memory must be a whole number from 32 to 1048576" qvm-prefs work memory 1
rej "unknown property" "there is no qube property 'nosuchprop'" qvm-prefs work nosuchprop 1
rej "read-only property" "qid of work is read-only" qvm-prefs work qid 5
rej "reset without a default" "label of work has no default" qvm-prefs -D work label
rej "unknown global" "there is no global property 'nosuch'" qubes-prefs nosuch 1
rej "bad class" "unknown class Bogus" qvm-create -C Bogus -l red newq
rej "bad --prop value: nothing created" "memory must be a whole number" qvm-create -l red --prop memory=abc newq
rej "unknown --prop: nothing created" "there is no qube property 'bogus'" qvm-create -l red --prop bogus=1 newq
rej "not a disposable template" "work is not a disposable template" qvm-prefs work default_dispvm work

# The same refusals as named D-Bus errors, seen by any client.
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
dbus_error "unknown qube" NoSuchQube SetProperty nosuch memory 100
dbus_error "bad label" InvalidValue Create AppVM newq pink "" "{}"
dbus_error "not a template" NotATemplate SetProperty work template sys-net
dbus_error "netvm loop" NetworkLoop SetProperty sys-net netvm sys-firewall
dbus_error "not a network provider" NotNetworkProvider SetProperty work netvm vault
dbus_error "in use" InUse Remove sys-net
dbus_error "name in use" NameInUse Clone work vault
dbus_error "invalid name" InvalidName Create AppVM 1bad red "" "{}"
dbus_error "unknown property" NoSuchProperty GetProperty work nosuchprop
dbus_error "read-only" ReadOnly SetProperty work qid 5
dbus_error "not a disposable template" NotDispvmTemplate SetProperty work default_dispvm work
dbus_error "dom0" Permission Remove dom0
dbus_error "unknown scope" InvalidArgument DescribeProperties bogus
dbus_error "unknown Run option" InvalidArgument Run work true "" "{'bogus': <1>}"
dbus_error "Run handle not passed" InvalidArgument Run work true "" "{'stdout': <handle 0>}"
dbus_error "start without backend" NoBackend Start work
dbus_error "shutdown without backend" NoBackend Shutdown work true 5
dbus_error "disposable without backend" NoBackend CreateDisposable ""
after=$(snapshot)
bh_same "raw D-Bus refusals changed nothing" "$before" "$after"
kill -0 "$bh_daemon_pid"; bh_result "bulkheadd still running after all refusals" $?

bh_done
