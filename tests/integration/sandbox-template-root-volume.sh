#!/usr/bin/env bash
# sandbox-template-root-volume.sh — a TemplateVM's root as a volume of
# root_size MiB (BH_SANDBOX_TEMPLATE_ROOT=volume, not yet the default),
# against a real bulkheadd on the sandbox backend (real sandboxes;
# docs/sandbox.md, "Storage" and "What a qube can write"):
#   - control: by default a template's layers are directories, and 400 MiB
#     written into its /var land there whole;
#   - with volumes: 400 MiB stop at a 300 MiB root with ENOSPC, the volume at
#     most 300 MiB on dom0's disk; the template shuts down cleanly and
#     bulkheadd logs the full root;
#   - its AppVM runs on that volume (the template's program and files there,
#     its own writes discarded); the template started while the AppVM runs
#     shares the one loop device (never a second ext4 over the same file),
#     and what it changes reaches the AppVM at its next start; a larger
#     root_size waits while the AppVM runs, then applies;
#   - a template whose AppVM runs on its layers as directories keeps them
#     (logged) and moves them into a volume at a start when none runs;
#   - once they are stopped, no loop device is left on their volumes.
# Every wait waits for an event (a state, a log line). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_keep_logs=1
command -v losetup >/dev/null || { echo "1..0 # SKIP needs losetup (util-linux)"; exit 0; }

mib_of() { echo $(($(du -s --block-size=1 "$1" 2>/dev/null | cut -f1) >> 20)); }
loops_on() { losetup -j "$1" 2>/dev/null | wc -l; }

# --- control: the default keeps a template's layers as directories -------------
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend (default: templates' roots are directories)"
bh_expect "qvm-create -C TemplateVM tplc" qvm-create -C TemplateVM -l black --prop netvm= tplc
bh_expect "qvm-prefs tplc root_size 300" qvm-prefs tplc root_size 300
bh_run qvm-run -p tplc 'dd if=/dev/zero of=/var/tmp/fill bs=1M count=400 2>/dev/null; stat -c %s /var/tmp/fill'
bh_same "control: 400 MiB into tplc's /var go through whole" 419430400 "$bh_out"
bh_expect "tplc shuts down" qvm-shutdown --wait tplc
m=$(mib_of "$bh_state/qubes/tplc/root")
bh_result "control: tplc's layers are directories holding $m MiB on dom0's disk" \
  $([ ! -e "$bh_state/qubes/tplc/root.img" ] && [ "$m" -ge 400 ]; echo $?)
bh_stop_daemon

# --- with volumes ----------------------------------------------------------------
export BH_SANDBOX_TEMPLATE_ROOT=volume
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts again"; bh_done; }
bh_ok "bulkheadd runs again, BH_SANDBOX_TEMPLATE_ROOT=volume"
bh_expect "qvm-create -C TemplateVM tpl" qvm-create -C TemplateVM -l black --prop netvm= tpl
bh_expect "qvm-prefs tpl root_size 300" qvm-prefs tpl root_size 300
img="$bh_state/qubes/tpl/root.img"
bh_run qvm-run -p tpl 'mkdir -p /usr/local/bin && printf "#!/bin/sh\necho tpl-tool\n" >/usr/local/bin/tpltool &&
  chmod 755 /usr/local/bin/tpltool && echo conf >/etc/tpl.conf && dd if=/dev/zero of=/var/tmp/fill bs=1M count=400'
bh_result "400 MiB into tpl's /var fail with ENOSPC (exit $bh_rc)" \
  $([ "$bh_rc" -ne 0 ] && printf '%s' "$bh_err" | grep -q 'No space left on device'; echo $?)
bh_run qvm-run -p tpl 'stat -c %s /var/tmp/fill; df -m --output=size /etc | tail -n1 | tr -d " "'
fill=$(echo "$bh_out" | head -n1)
m=$(mib_of "$img")
bh_result "the file stopped at the bound ($fill bytes), tpl's root.img takes $m MiB, its layers are no directories" \
  $([ -n "$fill" ] && [ "$fill" -le 314572800 ] && [ "$m" -le 300 ] && [ ! -e "$bh_state/qubes/tpl/root" ]; echo $?)
from=$(bh_log_from "$bh_log")
bh_expect "tpl, its root full, shuts down cleanly" qvm-shutdown --wait tpl
bh_wait_grep "$bh_log" '\[tpl\] its root volume is full' 10 "$from"
bh_result "bulkheadd logged that tpl's root volume is full" $?

bh_expect "qvm-create -t tpl app" qvm-create -t tpl -l blue --prop netvm= app
bh_run qvm-run -p app 'tpltool; cat /etc/tpl.conf; stat -c %s /var/tmp/fill; echo x >/usr/appfile && echo appwrote'
bh_same "app runs on tpl's volume: its program and files, and app writes its own layer" "tpl-tool
conf
$fill
appwrote" "$bh_out"
bh_result "one loop device on tpl's volume while app runs" $([ "$(loops_on "$img")" = 1 ]; echo $?)
bh_expect "qvm-prefs tpl root_size 600 (app runs)" qvm-prefs tpl root_size 600
from=$(bh_log_from "$bh_log")
bh_run qvm-run -p tpl 'rm /var/tmp/fill && echo new >/etc/new.conf && df -m --output=size /etc | tail -n1 | tr -d " "'
size=$bh_out
bh_result "tpl starts while app runs, on the same loop device (devices on its volume: $(loops_on "$img")), still 300 MiB ($size)" \
  $([ "$(loops_on "$img")" = 1 ] && [ -n "$size" ] && [ "$size" -le 300 ]; echo $?)
bh_wait_grep "$bh_log" '\[tpl\] root volume kept at 300 MiB while a qube uses it' 10 "$from"
bh_result "bulkheadd logged why tpl's volume did not grow" $?
bh_expect "tpl shuts down" qvm-shutdown --wait tpl
bh_expect "app shuts down" qvm-shutdown --wait app
bh_run qvm-run -p app 'cat /etc/new.conf; test -e /usr/appfile || echo discarded'
bh_same "app sees tpl's change at its next start; its own write was discarded" "new
discarded" "$bh_out"
bh_expect "app shuts down again" qvm-shutdown --wait app
bh_run qvm-run -p tpl 'df -m --output=size /etc | tail -n1 | tr -d " "; cat /etc/new.conf'
size=$(echo "$bh_out" | head -n1)
bh_result "with nothing else on it, tpl's volume grows to 600 MiB (df: $size) with its files" \
  $([ -n "$size" ] && [ "$size" -gt 500 ] && [ "$size" -le 600 ] && [ "$(echo "$bh_out" | tail -n1)" = new ]; echo $?)
bh_expect "tpl shuts down" qvm-shutdown --wait tpl

# --- a template whose AppVM runs on its directories -------------------------------
bh_expect "qvm-create -C TemplateVM tpl2, and app2 on it" qvm-create -C TemplateVM -l black --prop netvm= tpl2
bh_expect "qvm-create -t tpl2 app2" qvm-create -t tpl2 -l blue --prop netvm= app2
bh_run qvm-run -p app2 'cat /etc/hostname >/dev/null && echo up'
bh_same "app2 runs first, on tpl2's layers as directories" up "$bh_out"
bh_result "  (tpl2 has directories and no volume)" \
  $([ -d "$bh_state/qubes/tpl2/root" ] && [ ! -e "$bh_state/qubes/tpl2/root.img" ]; echo $?)
from=$(bh_log_from "$bh_log")
bh_run qvm-run -p tpl2 'echo kept >/etc/tpl2.conf && echo ok'
bh_same "tpl2 starts while app2 runs" ok "$bh_out"
bh_wait_grep "$bh_log" '\[tpl2\] its root layers stay directories while app2 runs on them' 10 "$from"
bh_result "its layers stayed directories, logged" \
  $(bh_wait_grep "$bh_log" '\[tpl2\] its root layers stay directories while app2 runs on them' 10 "$from" &&
    [ -d "$bh_state/qubes/tpl2/root" ] && [ ! -e "$bh_state/qubes/tpl2/root.img" ]; echo $?)
bh_expect "tpl2 shuts down" qvm-shutdown --wait tpl2
bh_expect "app2 shuts down" qvm-shutdown --wait app2
bh_run qvm-run -p tpl2 'cat /etc/tpl2.conf'
bh_result "started alone, tpl2's layers move into a volume, with its files" \
  $([ "$bh_out" = kept ] && [ -f "$bh_state/qubes/tpl2/root.img" ] && [ ! -e "$bh_state/qubes/tpl2/root" ]; echo $?)
bh_expect "tpl2 shuts down" qvm-shutdown --wait tpl2

n=0
for q in tplc tpl app tpl2 app2; do
  for f in "$bh_state/qubes/$q/root.img" "$bh_state/qubes/$q/private.img"; do
    [ -e "$f" ] || continue
    bh_until 50 test "$(loops_on "$f")" = 0 || n=$((n + 1))
  done
done
bh_result "all of these stopped: no loop device is left on their volumes ($n left)" $([ "$n" = 0 ]; echo $?)

bh_done
