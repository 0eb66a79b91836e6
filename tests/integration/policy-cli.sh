#!/usr/bin/env bash
# policy-cli.sh — `bulkhead policy check` and `bulkhead policy eval` against
# real files and a real bulkheadd (qube facts over D-Bus), and bulkheadd's own
# BhPolicyStore: loaded at start, problems logged, reloaded when a file changes.
. "$(dirname "$0")/daemon-lib.sh"

sys_dir="$bh_tmp/system"
user_dir="$XDG_CONFIG_HOME/bulkhead/policy.d"
mkdir -p "$sys_dir" "$user_dir"
cp "$BH_SOURCE_ROOT/core/policy/policy.d/90-default.policy" "$sys_dir/"
export BH_POLICY_SYSTEM_DIR="$sys_dir"
# Line numbers and the rule count come from the shipped file itself, so a rule
# added to it does not break the checks below (they name the rule by its text).
default_policy="$sys_dir/90-default.policy"
line_of() { grep -n -m1 -E "$1" "$default_policy" | cut -d: -f1; }
paste_line=$(line_of '^bulkhead\.ClipboardPaste +\* +@anyvm +@anyvm +ask')
deny_line=$(line_of '^\* +\* +@anyvm +@anyvm +deny')
admin_line=$(line_of '^\* +\* +@anyvm +@adminvm +deny')
default_rules=$(grep -c -v -E '^[[:space:]]*(#|$)' "$default_policy")

# ---- check, without a daemon ------------------------------------------------
bh_run bulkhead policy check
bh_same "check: the shipped policy is clean" \
  "OK: $default_rules rules in 1 file ($sys_dir, $user_dir)" "$bh_out"
bh_same "check: status 0" 0 "$bh_rc"

printf '# mine\n\nsvc.B * work personal alow\nsvc.C * @default work allow\n' >"$user_dir/30-user.policy"
bh_run bulkhead policy check
bh_same "check: status 1 on a broken file" 1 "$bh_rc"
bh_same "check: each problem as file:line:column" \
  "$user_dir/30-user.policy:3:23: unknown action 'alow' (allow, deny or ask)
$user_dir/30-user.policy:4:9: '@default' can only be a target (the caller named none), not a source" "$bh_out"
printf '%s\n' "$bh_err" | grep -q "^bulkhead policy: error: 2 problems in the policy .*every call is denied"
bh_result "check: the summary on stderr" $?
rm "$user_dir/30-user.policy"

bh_run bulkhead policy check --dir "$BH_SOURCE_ROOT/core/policy/policy.d"
bh_same "check --dir" "OK: $default_rules rules in 1 file ($BH_SOURCE_ROOT/core/policy/policy.d)" "$bh_out"

bh_expect_fail "policy without a command" 2 "^bulkhead policy: error: say check or eval" bulkhead policy
bh_expect_fail "policy frob" 2 "unknown policy command 'frob'" bulkhead policy frob
bh_expect_fail "eval with two arguments" 2 "eval wants SERVICE\[\+ARGUMENT\] SOURCE TARGET" bulkhead policy eval a b
bh_expect_fail "check with an argument" 2 "check takes no arguments" bulkhead policy check x
bh_expect_fail "eval without a daemon" 1 "^bulkhead policy: error: bulkheadd is not running" \
  bulkhead policy eval svc work personal

# ---- eval, with the daemon's facts -------------------------------------------
bh_start_daemon || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd starts"
grep -q "policy loaded: $default_rules rules" "$bh_log"; bh_result "bulkheadd loaded the policy at start ($default_rules rules)" $?

bh_run bulkhead policy eval bulkhead.ClipboardPaste untrusted work
bh_same "eval: paste asks, work preselected" "decision: ask
rule: $sys_dir/90-default.policy:$paste_line
targets: @dispvm:default-dvm debian-12 default-dvm personal sys-firewall sys-net vault work
default_target: work
notify: no
autostart: yes" "$bh_out"
bh_run bulkhead policy eval qubes.Filecopy+x work personal
bh_same "eval: anything else is denied by the final rule" "decision: deny
rule: $sys_dir/90-default.policy:$deny_line
notify: yes
reason: denied by the rule" "$bh_out"
bh_run bulkhead policy eval bulkhead.ClipboardPaste work dom0
printf '%s\n' "$bh_out" | grep -qx "rule: $sys_dir/90-default.policy:$admin_line"
bh_result "eval: to dom0 denied by its own line (@anyvm is never dom0)" $?
bh_run bulkhead policy eval bulkhead.ClipboardPaste ghost work
bh_same "eval: an unknown source is denied" "decision: deny
rule: none
notify: yes
reason: the source 'ghost' is not a qube that exists" "$bh_out"

# @dispvm resolves with the source's default_dispvm, which only the daemon knows.
printf 'svc.D * work @dispvm allow\nsvc.T * @type:TemplateVM @anyvm allow target=work\n' >"$user_dir/30-user.policy"
bh_run bulkhead policy eval svc.D work @dispvm
dvm=$(qvm-prefs work default_dispvm)
printf '%s\n' "$bh_out" | grep -qx "target: @dispvm:$dvm"
bh_result "eval: @dispvm resolved to work's default_dispvm ($dvm)" $?
tpl=$(qvm-ls --raw-data | awk -F'|' '$3 == "TemplateVM" { print $1; exit }')
bh_run bulkhead policy eval svc.T "$tpl" personal
printf '%s\n' "$bh_out" | grep -qx "target: work"
bh_result "eval: @type:TemplateVM matches $tpl (class from the daemon)" $?
bh_run bulkhead policy eval svc.T work personal
printf '%s\n' "$bh_out" | grep -qx "decision: deny"
bh_result "eval: control: @type:TemplateVM does not match work" $?

# ---- the daemon reloads ------------------------------------------------------
printf 'svc.B * work personal allow notify=perhaps\n' >"$user_dir/40-typo.policy"
found=1
for _ in $(seq 100); do
  grep -q "40-typo.policy:1:36: notify= wants yes or no, not 'perhaps'" "$bh_log" && { found=0; break; }
  sleep 0.1
done
bh_result "bulkheadd logs a broken file within 10 s of its writing" $found
grep -q "policy has 1 problem: every call is denied until it is fixed" "$bh_log"
bh_result "bulkheadd says everything is denied" $?
rm "$user_dir/40-typo.policy"
found=1
for _ in $(seq 100); do
  [ "$(grep -c "policy loaded: $((default_rules + 2)) rules" "$bh_log")" -ge 1 ] && { found=0; break; }
  sleep 0.1
done
bh_result "bulkheadd reloads the fixed policy ($((default_rules + 2)) rules: the shipped ones and 30-user.policy's two)" $found
bh_stop_daemon
bh_done
