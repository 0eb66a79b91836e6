#!/usr/bin/env bash
# sandbox-clone-busy.sh — cloning a qube a hostile user shaped, against a
# real bulkheadd on the sandbox backend (real sandboxes; docs/sandbox.md,
# "Storage"):
#   - a StandaloneVM whose user made 200 000 files in its /var: while
#     qvm-clone copies them, bulkheadd answers qvm-ls (before: the copy ran
#     in its main loop and stopped it 16.2 s), and the source and the clone
#     can neither start, be removed, renamed nor cloned again until the copy
#     is done; then the clone holds every file and starts;
#   - a /var nested deeper than dom0 copies (130 levels): the clone fails
#     with the reason, and nothing of it is left (not listed, no volumes, no
#     half copy on dom0's disk);
#   - bulkheadd stopped during a copy: the next one does not list the
#     unfinished clone (it would start on empty volumes).
# Every wait waits for an event (a file, a state). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
# What is cloned here is a tree dom0 walks: a StandaloneVM's root layers as
# directories (a template's still are). In a root volume, the default, a
# clone copies one file (sandbox-root-volume).
export BH_SANDBOX_ROOT=directory

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

bh_expect "qvm-create --standalone sa" qvm-create --standalone -l red sa
bh_expect "sa has no netvm (nothing here needs one)" qvm-prefs sa netvm ""
bh_run qvm-run -p sa 'mkdir /var/many && cd /var/many && for d in $(seq 200); do mkdir $d && (cd $d && seq 1000 | xargs touch); done && find /var/many -type f | wc -l'
bh_same "sa's user made 200 000 files in its /var" "200000" "$bh_out"
bh_expect "sa shuts down" qvm-shutdown --wait sa

# --- the copy runs while bulkheadd answers ------------------------------------
qvm-clone sa sa2 >"$bh_tmp/clone.out" 2>&1 &
clone_pid=$!
bh_bg_pids+=($clone_pid)
half="$bh_state/qubes/sa2.clone"
bh_until 600 test -d "$half"
bh_result "the copy of sa's volumes is under way ($half)" $?
bh_qvm_ls_during "$half" sa2 "the copy goes on (before: only once it was done)"
bh_expect_fail "sa cannot start meanwhile" 1 "cannot start sa while it is being cloned to sa2" qvm-start sa
bh_expect_fail "sa2 cannot start meanwhile" 1 "cannot start sa2 while it is being made as a clone of sa" \
  qvm-start sa2
bh_expect_fail "sa cannot be removed meanwhile" 1 "cannot remove sa while it is being cloned" qvm-remove -f sa
bh_expect_fail "sa2 cannot be removed meanwhile" 1 "cannot remove sa2 while it is being made" qvm-remove -f sa2
bh_expect_fail "sa cannot be renamed meanwhile" 1 "cannot rename sa while it is being cloned" \
  qvm-prefs sa name sa9
bh_expect_fail "sa cannot be cloned again meanwhile" 1 "cannot clone sa while it is being cloned" \
  qvm-clone sa sa3
test -d "$half"
bh_result "all of that was refused while the copy still ran" $?
wait "$clone_pid"
st=$? # before the result line: its $(...) would reset $?
bh_result "qvm-clone sa sa2 succeeds once the copy is done ($(tr '\n' ' ' <"$bh_tmp/clone.out"))" $st
bh_result "no half copy is left" $([ ! -e "$half" ]; echo $?)
bh_run qvm-run -p sa2 'find /var/many -type f | wc -l; stat -c %U /var/many/1/1'
bh_same "sa2 starts with all 200 000 files, its own" "200000
user" "$bh_out"
bh_expect "sa2 shuts down" qvm-shutdown --wait sa2
bh_expect "sa starts again" qvm-start sa

# --- a clone that cannot be made leaves nothing --------------------------------
bh_run qvm-run -p sa 'd=/var/deep; for i in $(seq 130); do d=$d/d; done; mkdir -p $d && echo made'
bh_same "sa's user nests 130 directories in its /var" "made" "$bh_out"
bh_expect "sa shuts down" qvm-shutdown --wait sa
bh_expect_fail "qvm-clone sa sa4 fails with the reason" 1 "sa4.*(levels|deep)" qvm-clone sa sa4
echo "$bh_err" | bh_diag
bh_run qvm-ls
bh_result "sa4 is not listed" $(printf '%s\n' "$bh_out" | grep -q '^sa4 '; [ $? -ne 0 ]; echo $?)
left=$(find "$bh_state/qubes" -maxdepth 1 -name 'sa4*' | tr '\n' ' ')
bh_result "nothing of sa4 is left on dom0's disk (${left:-none})" $([ -z "$left" ]; echo $?)
bh_expect "qvm-run -p sa still works after the failed clone" qvm-run -p sa true

# --- bulkheadd stopped during a copy ----------------------------------------------
qvm-clone sa2 sa5 >"$bh_tmp/clone5.out" 2>&1 &
clone_pid=$!
bh_bg_pids+=($clone_pid)
bh_until 600 test -d "$bh_state/qubes/sa5.clone"
bh_result "a clone of sa2 (200 000 files) is under way" $?
bh_stop_daemon
bh_result "bulkheadd stops during the copy (SIGTERM)" $?
wait "$clone_pid"
rc=$?
bh_result "that qvm-clone fails ($(tr '\n' ' ' <"$bh_tmp/clone5.out"))" $([ "$rc" -ne 0 ]; echo $?)
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts again"; bh_done; }
bh_run qvm-ls
bh_result "the next bulkheadd does not list the unfinished clone sa5 (it would start on empty volumes)" \
  $([ "$bh_rc" -eq 0 ] && ! printf '%s\n' "$bh_out" | grep -q '^sa5 ' && printf '%s\n' "$bh_out" | grep -q '^sa2 '; echo $?)
grep -q "sa5.*stopped before its copy of sa2 was done" "$bh_log"
bh_result "the log says why" $?

bh_done
