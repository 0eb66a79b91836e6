#!/usr/bin/env bash
# daemon-cycle.sh — the whole create / prefs / clone / rename / remove cycle
# through the CLI against a real bulkheadd, every change checked through a
# fresh CLI call, persistence across a daemon restart, and both spellings
# (qvm-ls and `bulkhead ls`) giving the same output.
. "$(dirname "$0")/daemon-lib.sh"

bh_start_daemon || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd starts and owns org.bulkhead.Admin1"

bh_run qvm-ls
initial_ls=$bh_out
bh_same "qvm-ls header" "NAME STATE CLASS LABEL TEMPLATE NETVM" \
  "$(printf '%s\n' "$initial_ls" | head -n 1 | tr -s ' ')"
# Columns are aligned: every row's STATE starts where the header's does.
printf '%s\n' "$initial_ls" | awk 'NR == 1 { col = index($0, "STATE"); next }
  substr($0, col - 2, 2) != "  " || substr($0, col, 1) == " " { bad = 1 } END { exit bad }'
bh_result "qvm-ls columns aligned" $?
first_row=$(printf '%s\n' "$initial_ls" | sed -n 2p | awk '{print $1, $2, $3}')
bh_same "dom0 listed first, running" "dom0 Running AdminVM" "$first_row"
for q in sys-net sys-firewall work personal untrusted vault default-dvm; do
  printf '%s\n' "$initial_ls" | awk '{print $1}' | grep -qx "$q"; bh_result "default qube $q exists" $?
done
bh_run qvm-ls --raw-data
initial_raw=$bh_out
printf '%s\n' "$initial_raw" | grep -qx "work|Halted|AppVM|blue|[^|]*|sys-firewall"
bh_result "raw data: work|Halted|AppVM|blue|<template>|sys-firewall" $?
bh_run bulkhead ls
bh_same "bulkhead ls = qvm-ls" "$initial_ls" "$bh_out"
bh_run qvm-ls --running --raw-data
bh_same "--running shows only dom0 (no backend)" "dom0|Running|AdminVM|black|-|-" "$bh_out"
bh_run qvm-ls --paused --raw-data
bh_same "--paused shows nothing" "" "$bh_out"
bh_run qvm-ls --halted --raw-data
bh_same "--halted = all but dom0" "$(printf '%s\n' "$initial_raw" | grep -v '^dom0|')" "$bh_out"
bh_run qvm-ls --raw-data work vault
bh_same "named qubes only" "$(printf '%s\n' "$initial_raw" | grep -E '^(vault|work)\|')" "$bh_out"

bh_run qubes-prefs default_template
tpl=$bh_out
[ -n "$tpl" ]; bh_result "qubes-prefs default_template prints a template ($tpl)" $?

# create
bh_expect "qvm-create -l green -t TEMPLATE cyc" qvm-create -l green -t "$tpl" cyc
bh_run qvm-ls --raw-data cyc
bh_same "new qube listed with label, template, default netvm" "cyc|Halted|AppVM|green|$tpl|sys-firewall" "$bh_out"
bh_expect "qvm-create --prop memory=1234 --prop vcpus=3" qvm-create -l blue --prop memory=1234 --prop vcpus=3 cyc2
bh_run qvm-prefs cyc2 memory; bh_same "--prop memory applied at creation" "1234" "$bh_out"
bh_run qvm-prefs cyc2 vcpus; bh_same "--prop vcpus applied at creation" "3" "$bh_out"
bh_expect "qvm-create -C TemplateVM" qvm-create -C TemplateVM -l black tpl2
bh_run qvm-ls --raw-data tpl2; bh_same "TemplateVM created" "tpl2|Halted|TemplateVM|black|-|-" "$bh_out"
bh_expect "qvm-create --standalone" qvm-create --standalone -l purple alone
bh_run qvm-ls --raw-data alone
printf '%s\n' "$bh_out" | grep -q "^alone|Halted|StandaloneVM|purple|"; bh_result "StandaloneVM created" $?
bh_expect "qvm-create -t on the new template" qvm-create -l red -t tpl2 child
bh_run qvm-prefs child template; bh_same "child's template" "tpl2" "$bh_out"

# prefs
bh_expect "qvm-prefs cyc memory 2345" qvm-prefs cyc memory 2345
bh_run qvm-prefs cyc memory; bh_same "memory read back" "2345" "$bh_out"
bh_run qvm-prefs cyc
printf '%s\n' "$bh_out" | grep -Eq '^memory +-  2345$'; bh_result "listing marks memory as set (-)" $?
printf '%s\n' "$bh_out" | grep -Eq '^netvm +D  sys-firewall$'; bh_result "listing marks netvm as default (D)" $?
bh_expect "qvm-prefs cyc label purple" qvm-prefs cyc label purple
bh_expect "qvm-prefs cyc netvm '' (none)" qvm-prefs cyc netvm ''
bh_run qvm-ls --raw-data cyc; bh_same "label and netvm changed" "cyc|Halted|AppVM|purple|$tpl|-" "$bh_out"
bh_expect "qvm-prefs cyc netvm sys-net" qvm-prefs cyc netvm sys-net
bh_run qvm-prefs cyc netvm; bh_same "netvm set" "sys-net" "$bh_out"
bh_expect "qvm-prefs -D cyc netvm" qvm-prefs -D cyc netvm
bh_run qvm-prefs cyc; printf '%s\n' "$bh_out" | grep -Eq '^netvm +D  sys-firewall$'
bh_result "netvm back to the default" $?
bh_expect "qvm-prefs cyc autostart yes" qvm-prefs cyc autostart yes
bh_run qvm-prefs cyc autostart; bh_same "bool normalised by the model" "True" "$bh_out"
bh_expect "bulkhead prefs cyc vcpus 4" bulkhead prefs cyc vcpus 4
bh_run qvm-prefs cyc vcpus; bh_same "subcommand form sets too" "4" "$bh_out"
bh_run qvm-prefs --help-properties
printf '%s\n' "$bh_out" | grep -Eq '^netvm +\(qube\) .+'; bh_result "--help-properties describes netvm" $?
bh_run qubes-prefs --help-properties
printf '%s\n' "$bh_out" | grep -Eq '^default_netvm +\(qube\) .+'; bh_result "qubes-prefs --help-properties" $?

# globals
bh_expect "qubes-prefs default_netvm sys-net" qubes-prefs default_netvm sys-net
bh_run qvm-prefs cyc netvm; bh_same "default netvm follows the global" "sys-net" "$bh_out"
bh_run qubes-prefs
printf '%s\n' "$bh_out" | grep -Eq '^default_netvm +-  sys-net$'; bh_result "qubes-prefs lists the change" $?
bh_expect "qubes-prefs default_netvm sys-firewall" qubes-prefs default_netvm sys-firewall
bh_expect "qubes-prefs clipboard_max_bytes 100000" qubes-prefs clipboard_max_bytes 100000
bh_expect "qubes-prefs -D clipboard_max_bytes" qubes-prefs -D clipboard_max_bytes
bh_run qubes-prefs clipboard_max_bytes; bh_same "global reset to default" "64000" "$bh_out"

# clone and rename
bh_expect "qvm-clone cyc cyc-copy" qvm-clone cyc cyc-copy
bh_run qvm-prefs cyc-copy memory; bh_same "clone keeps memory" "2345" "$bh_out"
bh_run qvm-prefs cyc-copy label; bh_same "clone keeps label" "purple" "$bh_out"
bh_run qvm-prefs cyc-copy qid; copy_qid=$bh_out
bh_run qvm-prefs cyc qid
[ "$copy_qid" != "$bh_out" ]; bh_result "clone has its own qid" $?
bh_expect "rename by qvm-prefs cyc-copy name renamed" qvm-prefs cyc-copy name renamed
bh_run qvm-ls --raw-data renamed
printf '%s\n' "$bh_out" | grep -q '^renamed|Halted|AppVM|purple|'; bh_result "renamed qube listed" $?
bh_run qvm-prefs renamed qid; bh_same "rename keeps the qid" "$copy_qid" "$bh_out"

# remove
bh_run qvm-remove cyc2
if [ "$bh_rc" -eq 1 ] && printf '%s\n' "$bh_err" | grep -q "^qvm-remove: error: .*use -f"; then
  bh_ok "qvm-remove without -f and without a terminal refuses"
else
  bh_not_ok "qvm-remove without -f and without a terminal refuses"; { echo "$bh_rc"; echo "$bh_err"; } | bh_diag
fi
bh_run qvm-ls --raw-data cyc2; [ -n "$bh_out" ]; bh_result "cyc2 still there" $?
bh_expect_fail "template in use cannot go" 1 "^qvm-remove: error: cannot remove 'tpl2': it is the template of child" qvm-remove -f tpl2
bh_expect "qvm-remove -f child tpl2 (dependant first)" qvm-remove -f child tpl2
bh_expect "qvm-remove -f the rest" qvm-remove -f cyc cyc2 renamed alone
bh_run qvm-ls
bh_same "qvm-ls back to the initial listing" "$initial_ls" "$bh_out"

# persistence across a clean restart
bh_expect "qvm-create persist" qvm-create -l orange persist
bh_expect "qvm-prefs persist maxmem 3000" qvm-prefs persist maxmem 3000
bh_run qvm-ls; before=$bh_out
bh_stop_daemon; bh_result "bulkheadd stops on SIGTERM with status 0" $?
bh_start_daemon; bh_result "bulkheadd restarts on the same state" $?
bh_run qvm-ls; bh_same "qvm-ls identical after restart" "$before" "$bh_out"
bh_run qvm-prefs persist maxmem; bh_same "property survived the restart" "3000" "$bh_out"

bh_done
